//! Root fields of the volunteer domain.

use async_graphql::{Context, ID, Object};
use entities::volunteer;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::filter::{VolunteerFilter, VolunteerOrder, VolunteerOrderField, compile};
use super::types::{Volunteer, VolunteerConnection, VolunteerStatus};
use crate::auth::{Action, FieldClass, Resource};
use crate::error::{ApiError, ApiResult};
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
            select = select.filter(compile(&request.db, filter, names_visible).await?);
        }
        if in_region.is_some() || status.is_some() {
            let shorthand = VolunteerFilter { in_region, status, ..Default::default() };
            select = select.filter(compile(&request.db, &shorthand, names_visible).await?);
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
