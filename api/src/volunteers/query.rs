//! Root fields of the volunteer domain.

use async_graphql::{Context, ID, Object};
use entities::volunteer;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::types::{Volunteer, VolunteerConnection, VolunteerStatus};
use crate::auth::viewer::in_subtree;
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{CursorKey, PageRequest, fetch_page};
use crate::regions::query::path_of_code;
use crate::request::RequestData;

/// Root fields of the volunteer domain.
#[derive(Default)]
pub struct VolunteersQuery;

#[Object]
impl VolunteersQuery {
    /// Volunteers in your scope, in registration order. Filters combine with AND; an unknown code matches nothing.
    #[allow(clippy::too_many_arguments)]
    async fn volunteers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only volunteers whose home grid lies in the region with this code (any level).")]
        in_region: Option<String>,
        #[graphql(desc = "Only volunteers with this status.")] status: Option<VolunteerStatus>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<VolunteerConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?;
        let access = request.authorize(Resource::Volunteer, Action::Read).await?;
        let mut select = volunteer::Entity::find().filter(access.scope_on(volunteer::Column::RegionId));
        if let Some(status) = status {
            select = select.filter(volunteer::Column::Status.eq(volunteer::VolunteerStatus::from(status)));
        }
        if let Some(code) = in_region {
            select = match path_of_code(&request.db, &code).await? {
                Some(path) => select.filter(in_subtree(volunteer::Column::RegionId, &path)),
                None => select.filter(volunteer::Column::Id.eq(-1)),
            };
        }
        let page =
            fetch_page(&request.db, select, volunteer::Column::Id, |row| CursorKey::Int(row.id), &page)
                .await
                .map_err(ApiError::from)?;
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
