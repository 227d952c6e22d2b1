//! Changes to the volunteer domain. Each mutation validates its input, runs in one write transaction together
//! with its audit event, and returns the changed object as the caller may see it.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{NaiveDate, Utc};
use entities::{volunteer, volunteer_badge, volunteer_team, volunteer_team_membership};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::service::ServiceRecord;
use super::service_log::{LogServiceInput, log_batch, volunteers_by_id_in_scope};
use super::teams::{BadgeKind, MembershipRole};
use super::types::{Gender, Volunteer, VolunteerStatus};
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::lookup::grid_in_scope;
use crate::node::{NodeType, parse_typed_id};
use crate::request::RequestData;
use crate::validate;

/// Most service records one `logServiceBatch` call may carry.
pub const MAX_SERVICE_BATCH: usize = 500;

/// A new volunteer.
#[derive(InputObject)]
pub struct RegisterVolunteerInput {
    /// Full name as on the identity card.
    pub name: String,
    /// Sex.
    pub gender: Gender,
    /// 18-character identity card number; one registration per person.
    pub id_number: String,
    /// 11-digit mobile number.
    pub phone: String,
    /// Code of the home grid, which must lie in your scope.
    pub grid_code: String,
    /// Day of registration (default: today).
    pub registered_on: Option<crate::scalars::Date>,
}

/// Changes to a volunteer's details; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateVolunteerInput {
    /// New full name.
    pub name: Option<String>,
    /// New mobile number.
    pub phone: Option<String>,
    /// New home grid (must lie in your scope).
    pub grid_code: Option<String>,
}

/// Mutations of the volunteer domain.
#[derive(Default)]
pub struct VolunteersMutation;

async fn volunteer_in_scope<C: ConnectionTrait>(
    conn: &C,
    access: &Access,
    id: &ID,
    field: &str,
) -> Result<volunteer::Model, ApiError> {
    let id = parse_typed_id(id, NodeType::Volunteer, field)?;
    volunteers_by_id_in_scope(conn, access, [id]).await?.remove(&id).ok_or(ApiError::NotFound("volunteer"))
}

async fn team_in_scope<C: ConnectionTrait>(
    conn: &C,
    access: &Access,
    code: &str,
) -> Result<volunteer_team::Model, ApiError> {
    let code = validate::code("teamCode", code)?;
    crate::scope::read::<volunteer_team::Entity>(access)
        .filter(volunteer_team::Column::Code.eq(code))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::bad_input("teamCode", "no team with this code in your scope"))
}

/// The most teams a volunteer may belong to: `Volunteer.teams` promises it.
pub const MAX_TEAMS_PER_VOLUNTEER: u64 = 10;

/// Re-reads a volunteer after the change, as the caller may see it.
async fn reload(request: &RequestData, id: i64) -> ApiResult<Volunteer> {
    request.volunteers().volunteer_by_id(id).await?.ok_or_else(|| ApiError::NotFound("volunteer").into())
}

#[Object]
impl VolunteersMutation {
    /// Registers a volunteer in a grid of your scope. A second registration of the same identity card number is
    /// a `CONFLICT`.
    async fn register_volunteer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The volunteer: name, identity, phone and home grid.")]
        input: RegisterVolunteerInput,
    ) -> ApiResult<Volunteer> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Volunteer, Action::Create).await?;
        let name = validate::text("input.name", &input.name, 64)?;
        let id_number = validate::id_number("input.idNumber", &input.id_number)?;
        let phone = validate::mobile("input.phone", &input.phone)?;
        let registered_on = validate::not_future(
            "input.registeredOn",
            input.registered_on.map_or_else(validate::today, NaiveDate::from),
        )?;
        let changed = crate::frame::write(request, async |txn| {
            let grid = grid_in_scope(txn, &access, &input.grid_code, "input.gridCode").await?;
            let now = Utc::now();
            // The registration code follows the row id, so concurrent registrations never compete for a code.
            let id = crate::db::next_id::<volunteer::Entity, _>(txn).await.map_err(ApiError::from)?;
            volunteer::ActiveModel {
                id: Set(id),
                code: Set(format!("V{id:07}")),
                name: Set(name),
                gender: Set(input.gender.into()),
                id_number: Set(id_number),
                phone: Set(phone),
                region_id: Set(grid.id),
                status: Set(volunteer::VolunteerStatus::Active),
                registered_on: Set(registered_on),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(|err| ApiError::from_db(err, "a volunteer with this identity card number"))?;
            Ok(crate::frame::Outcome::Changed(
                id,
                crate::frame::Change::of("registerVolunteer", Resource::Volunteer, [id], None),
            ))
        })
        .await?;
        reload(request, changed).await
    }

    /// Changes a volunteer's name, phone or home grid.
    async fn update_volunteer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the volunteer.")] id: ID,
        #[graphql(desc = "The fields to change; omitted ones stay as they are (at least one).")]
        input: UpdateVolunteerInput,
    ) -> ApiResult<Volunteer> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Volunteer, Action::Update).await?;
        let name = input.name.as_deref().map(|name| validate::text("input.name", name, 64)).transpose()?;
        let phone = input.phone.as_deref().map(|phone| validate::mobile("input.phone", phone)).transpose()?;
        let changed = crate::frame::write(request, async |txn| {
            let row = volunteer_in_scope(txn, &access, &id, "id").await?;
            let mut changed: volunteer::ActiveModel = row.clone().into();
            let mut fields = Vec::new();
            if let Some(name) = name {
                changed.name = Set(name);
                fields.push("name");
            }
            if let Some(phone) = phone {
                changed.phone = Set(phone);
                fields.push("phone");
            }
            if let Some(code) = &input.grid_code {
                changed.region_id = Set(grid_in_scope(txn, &access, code, "input.gridCode").await?.id);
                fields.push("grid");
            }
            if fields.is_empty() {
                return Err(ApiError::bad_input("input", "name at least one field to change"));
            }
            changed.updated_at = Set(Utc::now());
            changed.update(txn).await.map_err(ApiError::from)?;
            let detail = Some(format!("changed: {}", fields.join(", ")));
            Ok(crate::frame::Outcome::Changed(
                row.id,
                crate::frame::Change::of("updateVolunteer", Resource::Volunteer, [row.id], detail),
            ))
        })
        .await?;
        reload(request, changed).await
    }

    /// Suspends, reactivates or withdraws a volunteer, with the reason recorded in the audit trail.
    async fn set_volunteer_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the volunteer.")] id: ID,
        #[graphql(desc = "The new status.")] status: VolunteerStatus,
        #[graphql(desc = "Why (kept in the audit trail, at most 200 characters).")] reason: String,
    ) -> ApiResult<Volunteer> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Volunteer, Action::Update).await?;
        let reason = validate::text("reason", &reason, 200)?;
        let changed = crate::frame::write(request, async |txn| {
            let row = volunteer_in_scope(txn, &access, &id, "id").await?;
            let status: volunteer::VolunteerStatus = status.into();
            if row.status == status {
                return Err(ApiError::Conflict(format!("the volunteer is already {}", status.to_value())));
            }
            if row.status == volunteer::VolunteerStatus::Withdrawn {
                return Err(ApiError::Conflict("a withdrawn volunteer registers anew".into()));
            }
            let mut changed: volunteer::ActiveModel = row.clone().into();
            changed.status = Set(status);
            changed.updated_at = Set(Utc::now());
            changed.update(txn).await.map_err(ApiError::from)?;
            let detail = Some(format!("{} → {}: {reason}", row.status.to_value(), status.to_value()));
            Ok(crate::frame::Outcome::Changed(
                row.id,
                crate::frame::Change::of("setVolunteerStatus", Resource::Volunteer, [row.id], detail),
            ))
        })
        .await?;
        reload(request, changed).await
    }

    /// Adds a volunteer to a team of your scope; a second membership of the same team is a `CONFLICT`.
    async fn add_volunteer_to_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the volunteer.")] volunteer_id: ID,
        #[graphql(desc = "Code of the team.")] team_code: String,
        #[graphql(desc = "Position in the team (default MEMBER).")] role: Option<MembershipRole>,
    ) -> ApiResult<Volunteer> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Volunteer, Action::Update).await?;
        let changed = crate::frame::write(request, async |txn| {
            let row = volunteer_in_scope(txn, &access, &volunteer_id, "volunteerId").await?;
            let team = team_in_scope(txn, &access, &team_code).await?;
            let teams = crate::scope::read::<volunteer_team_membership::Entity>(&access)
                .filter(volunteer_team_membership::Column::VolunteerId.eq(row.id));
            crate::db::ensure_room::<volunteer::Entity, _, _>(
                txn,
                row.id,
                teams,
                MAX_TEAMS_PER_VOLUNTEER,
                "the volunteer's list of teams",
            )
            .await?;
            volunteer_team_membership::ActiveModel {
                id: NotSet,
                team_id: Set(team.id),
                volunteer_id: Set(row.id),
                role: Set(role.unwrap_or(MembershipRole::Member).into()),
                joined_on: Set(validate::today()),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(|err| ApiError::from_db(err, "this membership"))?;
            let detail = Some(format!("team {}", team.code));
            Ok(crate::frame::Outcome::Changed(
                row.id,
                crate::frame::Change::of("addVolunteerToTeam", Resource::Volunteer, [row.id], detail),
            ))
        })
        .await?;
        reload(request, changed).await
    }

    /// Removes a volunteer from a team; `NOT_FOUND` when they are not a member.
    async fn remove_volunteer_from_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the volunteer.")] volunteer_id: ID,
        #[graphql(desc = "Code of the team.")] team_code: String,
    ) -> ApiResult<Volunteer> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Volunteer, Action::Update).await?;
        let changed = crate::frame::write(request, async |txn| {
            let row = volunteer_in_scope(txn, &access, &volunteer_id, "volunteerId").await?;
            let team = team_in_scope(txn, &access, &team_code).await?;
            let removed = volunteer_team_membership::Entity::delete_many()
                .filter(volunteer_team_membership::Column::TeamId.eq(team.id))
                .filter(volunteer_team_membership::Column::VolunteerId.eq(row.id))
                .exec(txn)
                .await
                .map_err(ApiError::from)?;
            if removed.rows_affected == 0 {
                return Err(ApiError::NotFound("membership"));
            }
            let detail = Some(format!("team {}", team.code));
            Ok(crate::frame::Outcome::Changed(
                row.id,
                crate::frame::Change::of("removeVolunteerFromTeam", Resource::Volunteer, [row.id], detail),
            ))
        })
        .await?;
        reload(request, changed).await
    }

    /// Grants a badge; granting one the volunteer already carries is a `CONFLICT`.
    async fn grant_badge(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the volunteer.")] volunteer_id: ID,
        #[graphql(desc = "The badge to grant.")] badge: BadgeKind,
    ) -> ApiResult<Volunteer> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Volunteer, Action::Update).await?;
        let changed = crate::frame::write(request, async |txn| {
            let row = volunteer_in_scope(txn, &access, &volunteer_id, "volunteerId").await?;
            let badge: volunteer_badge::BadgeKind = badge.into();
            volunteer_badge::ActiveModel {
                id: NotSet,
                volunteer_id: Set(row.id),
                badge: Set(badge),
                granted_on: Set(validate::today()),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(|err| ApiError::from_db(err, "this badge for this volunteer"))?;
            let detail = Some(format!("badge {}", badge.to_value()));
            Ok(crate::frame::Outcome::Changed(
                row.id,
                crate::frame::Change::of("grantBadge", Resource::Volunteer, [row.id], detail),
            ))
        })
        .await?;
        reload(request, changed).await
    }

    /// Logs one stint of service by an active volunteer of your scope.
    async fn log_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who served where, when, how long and doing what.")] input: LogServiceInput,
    ) -> ApiResult<ServiceRecord> {
        let mut logged = log_batch(ctx, std::slice::from_ref(&input), |_| "input".to_owned()).await?;
        logged.pop().ok_or_else(|| ApiError::Internal("logService inserted nothing".into()).into())
    }

    /// Logs at most 500 stints of service at once: all of them, or — if any is invalid — none, with the error
    /// naming the offending record (`records[3].minutes`).
    async fn log_service_batch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The records to log, at most 500.")] records: Vec<LogServiceInput>,
    ) -> ApiResult<Vec<ServiceRecord>> {
        if records.is_empty() || records.len() > MAX_SERVICE_BATCH {
            return Err(ApiError::bad_input(
                "records",
                format!("between 1 and {MAX_SERVICE_BATCH} records, got {}", records.len()),
            )
            .into());
        }
        log_batch(ctx, &records, |index| format!("records[{index}]")).await
    }
}
