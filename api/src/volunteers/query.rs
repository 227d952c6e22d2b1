//! Root fields of the volunteer domain.

use async_graphql::{Context, ID, Object};
use entities::{service_record, volunteer};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::filter::{
    ServiceRecordFilter, ServiceRecordOrder, ServiceRecordOrderField, VolunteerFilter, VolunteerOrder,
    VolunteerOrderField,
};
use super::service::{ServiceRecord, ServiceRecordConnection};
use super::types::{Volunteer, VolunteerConnection, VolunteerStatus};
use crate::auth::{Action, FieldClass, Resource};
use crate::error::{ApiError, ApiResult};
use crate::filter::compile;
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{CursorKey, Ordering, PageRequest, fetch_page_in_order};
use crate::request::RequestData;

/// Root fields of the volunteer domain.
#[derive(Default)]
pub struct VolunteersQuery;

#[Object]
impl VolunteersQuery {
    /// Volunteers in your scope, in registration order unless `orderBy` says otherwise. `inRegion` and `status`
    /// are shorthands for the same fields of `filter`; everything combines with AND.
    #[allow(clippy::too_many_arguments)]
    async fn volunteers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the volunteers (boolean combinations, relations, time ranges).")]
        filter: Option<VolunteerFilter>,
        #[graphql(
            desc = "Shorthand for `filter: { inRegion }`: the home grid lies in this region (any level)."
        )]
        in_region: Option<String>,
        #[graphql(desc = "Shorthand for `filter: { status }`.")] status: Option<VolunteerStatus>,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<VolunteerOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<VolunteerConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?;
        let access = request.authorize(Resource::Volunteer, Action::Read).await?;
        let names_visible = access.fields >= FieldClass::Personal;
        let mut select = volunteer::Entity::find().filter(access.scope_on(volunteer::Column::RegionId));
        if let Some(filter) = &filter {
            select = select.filter(compile(&request.db, filter, "filter", names_visible).await?);
        }
        if in_region.is_some() || status.is_some() {
            let shorthand = VolunteerFilter { in_region, status, ..Default::default() };
            select = select.filter(compile(&request.db, &shorthand, "filter", names_visible).await?);
        }
        let ordering = match order_by {
            None => None,
            Some(VolunteerOrder { field, descending }) => Some(match field {
                VolunteerOrderField::Code => Ordering {
                    column: volunteer::Column::Code,
                    descending,
                    value_of: |row: &volunteer::Model| CursorKey::Text(row.code.clone()),
                },
                VolunteerOrderField::RegisteredOn => Ordering {
                    column: volunteer::Column::RegisteredOn,
                    descending,
                    value_of: |row: &volunteer::Model| CursorKey::Date(row.registered_on),
                },
                VolunteerOrderField::Name => {
                    // Sorting by a masked field would reveal what the mask hides.
                    if !names_visible {
                        return Err(
                            ApiError::Forbidden("ordering by name needs access to names".into()).into()
                        );
                    }
                    Ordering {
                        column: volunteer::Column::Name,
                        descending,
                        value_of: |row: &volunteer::Model| CursorKey::Text(row.name.clone()),
                    }
                }
            }),
        };
        let page =
            fetch_page_in_order(&request.db, select, volunteer::Column::Id, |row| row.id, ordering, &page)
                .await?;
        Ok(VolunteerConnection::from_page(page, |row| Volunteer { row, access: access.clone() }))
    }

    /// Service records in your scope (by the grid they took place in), in the order they were logged unless
    /// `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn service_records(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the records (boolean combinations, time ranges).")] filter: Option<
            ServiceRecordFilter,
        >,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<ServiceRecordOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<ServiceRecordConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?;
        let access = request.authorize(Resource::ServiceRecord, Action::Read).await?;
        let mut select =
            service_record::Entity::find().filter(access.scope_on(service_record::Column::GridId));
        if let Some(filter) = &filter {
            select = select.filter(compile(&request.db, filter, "filter", false).await?);
        }
        let ordering = order_by.map(|ServiceRecordOrder { field, descending }| match field {
            ServiceRecordOrderField::StartedAt => Ordering {
                column: service_record::Column::StartedAt,
                descending,
                value_of: |row: &service_record::Model| CursorKey::Instant(row.started_at),
            },
            ServiceRecordOrderField::Minutes => Ordering {
                column: service_record::Column::Minutes,
                descending,
                value_of: |row: &service_record::Model| CursorKey::Int(i64::from(row.minutes)),
            },
        });
        let page = fetch_page_in_order(
            &request.db,
            select,
            service_record::Column::Id,
            |row| row.id,
            ordering,
            &page,
        )
        .await?;
        Ok(ServiceRecordConnection::from_page(page, |row| ServiceRecord { row }))
    }

    /// One volunteer by global ID or registration code (give exactly one); null when none is in your scope.
    async fn volunteer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: Option<ID>,
        #[graphql(desc = "Registration code, e.g. V0000123.")] code: Option<String>,
    ) -> ApiResult<Option<Volunteer>> {
        let request = RequestData::of(ctx)?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_typed_id(&id, NodeType::Volunteer, "id")?;
                request.volunteers.volunteer_by_id(id).await
            }
            (None, Some(code)) => {
                let access = request.authorize(Resource::Volunteer, Action::Read).await?;
                let row = volunteer::Entity::find()
                    .filter(volunteer::Column::Code.eq(code))
                    .filter(access.scope_on(volunteer::Column::RegionId))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?;
                Ok(row.map(|row| Volunteer { row, access }))
            }
            _ => Err(ApiError::bad_input("id", "give exactly one of `id` and `code`").into()),
        }
    }
}
