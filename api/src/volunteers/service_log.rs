//! Logging volunteer service: a batch is validated whole, its volunteers and its grids are resolved with one
//! statement each and its records are inserted with one statement, so that logging 500 records costs the same
//! number of statements as logging one.

use std::collections::HashMap;

use async_graphql::{Context, ID, InputObject};
use chrono::{DateTime, Duration, Utc};
use entities::{service_record, volunteer};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait};

use super::service::{ActivityType, ServiceRecord};
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::frame::{Change, Outcome};
use crate::lookup::grids_in_scope;
use crate::node::{NodeType, parse_typed_id};
use crate::request::RequestData;
use crate::validate;

/// One stint of service to log.
#[derive(InputObject)]
pub struct LogServiceInput {
    /// Global ID of the volunteer, who must be ACTIVE and in your scope.
    pub volunteer_id: ID,
    /// Code of the grid where the service took place (in your scope).
    pub grid_code: String,
    /// What the volunteer did.
    pub activity: ActivityType,
    /// When the service started (not in the future).
    pub started_at: crate::scalars::Timestamp,
    /// Duration in whole minutes, 1 to 1440.
    pub minutes: i32,
    /// An optional remark (at most 500 characters).
    pub note: Option<String>,
}

/// A service record's input after validation.
struct ValidService {
    volunteer_id: i64,
    activity: ActivityType,
    started_at: DateTime<Utc>,
    minutes: i32,
    note: Option<String>,
}

fn validated_service(input: &LogServiceInput, field: &str) -> Result<ValidService, ApiError> {
    let volunteer_id =
        parse_typed_id(&input.volunteer_id, NodeType::Volunteer, &format!("{field}.volunteerId"))?;
    validate::code(&format!("{field}.gridCode"), &input.grid_code)?;
    if !(1..=1440).contains(&input.minutes) {
        return Err(ApiError::bad_input(format!("{field}.minutes"), "between 1 and 1440"));
    }
    if input.started_at > Utc::now() + Duration::minutes(5) {
        return Err(ApiError::bad_input(format!("{field}.startedAt"), "must not be in the future"));
    }
    let note = validate::optional_text(&format!("{field}.note"), input.note.as_deref(), 500)?;
    Ok(ValidService {
        volunteer_id,
        activity: input.activity,
        started_at: input.started_at.0,
        minutes: input.minutes,
        note,
    })
}

/// The volunteers among `ids` that lie in the scope of `access`, by id, in one statement: absent and
/// out-of-scope ids are simply missing from the map, for the caller to report.
pub(super) async fn volunteers_by_id_in_scope<C: ConnectionTrait>(
    conn: &C,
    access: &Access,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, volunteer::Model>, ApiError> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let found = crate::scope::read::<volunteer::Entity>(access)
        .filter(volunteer::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    Ok(found.into_iter().map(|row| (row.id, row)).collect())
}

/// Validates and inserts service records in the caller's write transaction; all or nothing. The error is the
/// one of the first offending record, whose input is checked before its volunteer (in scope, then active) and
/// its grid — the same answer as checking the records one by one.
async fn insert_service<C: ConnectionTrait>(
    txn: &C,
    access: &Access,
    inputs: &[LogServiceInput],
    field_of: impl Fn(usize) -> String,
) -> Result<Vec<service_record::Model>, ApiError> {
    let mut valid = Vec::with_capacity(inputs.len());
    let mut first_invalid = None;
    for (index, input) in inputs.iter().enumerate() {
        match validated_service(input, &field_of(index)) {
            Ok(service) => valid.push(service),
            Err(err) => {
                first_invalid = Some(err);
                break;
            }
        }
    }
    // Only the records before the first invalid one can have an error that is reported instead of its.
    let checked = &inputs[..valid.len()];
    let volunteers =
        volunteers_by_id_in_scope(txn, access, valid.iter().map(|service| service.volunteer_id)).await?;
    let grids = grids_in_scope(txn, access, checked.iter().map(|input| input.grid_code.as_str())).await?;
    let now = Utc::now();
    let mut rows = Vec::with_capacity(valid.len());
    for (index, (service, input)) in valid.into_iter().zip(checked).enumerate() {
        let volunteer = volunteers.get(&service.volunteer_id).ok_or_else(|| {
            ApiError::bad_input(format!("{}.volunteerId", field_of(index)), "no such volunteer in your scope")
        })?;
        if volunteer.status != volunteer::VolunteerStatus::Active {
            return Err(ApiError::Conflict(format!("{}: the volunteer is not active", field_of(index))));
        }
        let grid = grids.get(input.grid_code.trim()).ok_or_else(|| {
            ApiError::bad_input(
                format!("{}.gridCode", field_of(index)),
                "no grid with this code in your scope",
            )
        })?;
        rows.push(service_record::ActiveModel {
            id: NotSet,
            volunteer_id: Set(volunteer.id),
            grid_id: Set(grid.id),
            activity: Set(service.activity.into()),
            started_at: Set(service.started_at),
            minutes: Set(service.minutes),
            note: Set(service.note),
            created_at: Set(now),
        });
    }
    if let Some(err) = first_invalid {
        return Err(err);
    }
    let mut insert = service_record::Entity::insert_many(rows);
    insert.query().returning_all();
    let statement = insert.build(txn.get_database_backend());
    let mut logged = crate::scope::unscoped::<service_record::Entity>(crate::scope::Unscoped::JustWritten)
        .from_raw_sql(statement)
        .all(txn)
        .await?;
    // One multi-row insert numbers its rows in the order of its VALUES list: id order is input order.
    logged.sort_by_key(|row| row.id);
    if logged.len() != inputs.len() {
        return Err(ApiError::Internal(format!(
            "{} service records were inserted for {} inputs",
            logged.len(),
            inputs.len()
        )));
    }
    // The statistics' rollup of service records changes with them, in the same transaction.
    crate::statistics::rollup::add_service(txn, &logged).await?;
    Ok(logged)
}

/// Logs `inputs` as one transaction together with its audit event, and returns the records as inserted.
pub async fn log_batch(
    ctx: &Context<'_>,
    inputs: &[LogServiceInput],
    field_of: impl Fn(usize) -> String,
) -> ApiResult<Vec<ServiceRecord>> {
    let request = RequestData::of(ctx)?;
    let access = request.authorize(Resource::ServiceRecord, Action::Create).await?;
    let action = if inputs.len() == 1 { "logService" } else { "logServiceBatch" };
    let folder = ctx
        .data::<crate::statistics::rollup::Folder>()
        .map_err(|_| ApiError::Internal("the schema has no service rollup folder".into()))?;
    let logged = crate::frame::write(request, async |txn| {
        let logged = insert_service(txn, &access, inputs, field_of).await?;
        let change = Change::of(action, Resource::ServiceRecord, logged.iter().map(|row| row.id), None);
        Ok(Outcome::Changed(logged, change))
    })
    .await?;
    folder.request();
    Ok(logged.into_iter().map(|row| ServiceRecord { row }).collect())
}
