//! Root fields of the volunteer domain.

use async_graphql::{Context, ID, Object};
use entities::{service_record, volunteer, volunteer_team};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};

use super::filter::{
    ServiceRecordFilter, ServiceRecordOrder, ServiceRecordOrderField, VolunteerFilter, VolunteerOrder,
    VolunteerTeamFilter, VolunteerTeamOrder, VolunteerTeamOrderField,
};
use super::nested::volunteer_ordering;
use super::service::{ServiceRecord, ServiceRecordConnection};
use super::teams::{VolunteerTeam, VolunteerTeamConnection, member_count_expr};
use super::types::{Volunteer, VolunteerConnection, VolunteerStatus};
use crate::auth::{Action, FieldClass, Resource};
use crate::error::{ApiError, ApiResult};
use crate::filter::{compile, compile_confined};
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{
    CursorKey, Ordering, PageRequest, SortKey, fetch_page, fetch_page_in_order_carrying, read_int, read_text,
};

use crate::request::RequestData;
use crate::scope;

/// How a sort value is read back from a row.
type ReadKey = fn(&sea_orm::QueryResult) -> Result<CursorKey, sea_orm::DbErr>;

/// Root fields of the volunteer domain.
#[derive(Default)]
pub struct VolunteersQuery;

#[Object]
impl VolunteersQuery {
    /// Volunteers in your scope, in registration order unless `orderBy` says otherwise. `inRegion` and `status`
    /// are shorthands for the same fields of `filter`; everything combines with AND.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
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
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Volunteer, Action::Read).await?;
        let names_visible = access.fields >= FieldClass::Personal;
        let regions = request.viewer.regions();
        let (mut condition, confining_path) = match &filter {
            Some(filter) => compile_confined(&request.db, regions, filter, "filter", names_visible).await?,
            None => (sea_orm::Condition::all(), None),
        };
        if in_region.is_some() || status.is_some() {
            let shorthand = VolunteerFilter { in_region, status, ..Default::default() };
            condition =
                condition.add(compile(&request.db, regions, &shorthand, "filter", names_visible).await?);
        }
        let select = scope::read_filtered::<volunteer::Entity>(&access, condition, confining_path.as_deref());
        let ordering = volunteer_ordering(order_by, names_visible)?;
        let grids = request.regions().by_id.carried(ctx, "grid", volunteer::Column::RegionId).await;
        let page = fetch_page_in_order_carrying(
            &request.db,
            select,
            (volunteer::Column::Id, |row| row.id),
            ordering,
            &page,
            &[&grids],
        )
        .await?;
        Ok(VolunteerConnection::from_page(page, |row| Volunteer { row, access: access.clone() }))
    }

    /// Service records in your scope (by the grid they took place in), in the order they were logged unless
    /// `orderBy` says otherwise.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
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
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::ServiceRecord, Action::Read).await?;
        let (condition, confining_path) = match &filter {
            Some(filter) => {
                compile_confined(&request.db, request.viewer.regions(), filter, "filter", false).await?
            }
            None => (sea_orm::Condition::all(), None),
        };
        let select =
            scope::read_filtered::<service_record::Entity>(&access, condition, confining_path.as_deref());
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
        let volunteers =
            request.volunteers().by_id.carried(ctx, "volunteer", service_record::Column::VolunteerId).await;
        let grids = request.regions().by_id.carried(ctx, "grid", service_record::Column::GridId).await;
        let page = fetch_page_in_order_carrying(
            &request.db,
            select,
            (service_record::Column::Id, |row| row.id),
            ordering,
            &page,
            &[&volunteers, &grids],
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
                request.volunteers().volunteer_by_id(id).await
            }
            (None, Some(code)) => {
                let access = request.authorize(Resource::Volunteer, Action::Read).await?;
                let row = crate::scope::read::<volunteer::Entity>(&access)
                    .filter(volunteer::Column::Code.eq(code))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?;
                Ok(row.map(|row| Volunteer { row, access }))
            }
            _ => Err(ApiError::bad_input("id", "give exactly one of `id` and `code`").into()),
        }
    }

    /// Volunteer teams whose region lies in your scope, in the order they were registered unless `orderBy` says
    /// otherwise. The teams are public information; reading them needs the right to read volunteers.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn volunteer_teams(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the teams (region, text, boolean combinations).")] filter: Option<
            VolunteerTeamFilter,
        >,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<VolunteerTeamOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<VolunteerTeamConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Volunteer, Action::Read).await?;
        let mut select = crate::scope::read::<volunteer_team::Entity>(&access);
        if let Some(filter) = &filter {
            // Team names are public: searching them reveals nothing.
            select =
                select.filter(compile(&request.db, request.viewer.regions(), filter, "filter", true).await?);
        }
        let page = match order_by {
            None => {
                let key_of = |row: &volunteer_team::Model| CursorKey::Int(row.id);
                fetch_page(&request.db, select, SortKey::unique(volunteer_team::Column::Id, key_of), &page)
                    .await?
            }
            Some(VolunteerTeamOrder { field, descending }) => {
                let (expr, read): (Expr, ReadKey) = match field {
                    VolunteerTeamOrderField::Code => {
                        (Expr::col((volunteer_team::Entity, volunteer_team::Column::Code)), read_text)
                    }
                    VolunteerTeamOrderField::Name => {
                        (Expr::col((volunteer_team::Entity, volunteer_team::Column::Name)), read_text)
                    }
                    VolunteerTeamOrderField::MemberCount => (member_count_expr(&access), read_int),
                };
                let sort = SortKey::computed(
                    expr,
                    descending,
                    read,
                    volunteer_team::Column::Id,
                    |row: &volunteer_team::Model| row.id,
                );
                fetch_page(&request.db, select, sort, &page).await?
            }
        };
        Ok(VolunteerTeamConnection::from_page(page, |row| VolunteerTeam { row }))
    }

    /// One volunteer team by global ID or code (give exactly one); null when none is in your scope.
    async fn volunteer_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: Option<ID>,
        #[graphql(desc = "Team code, e.g. VT037.")] code: Option<String>,
    ) -> ApiResult<Option<VolunteerTeam>> {
        let request = RequestData::of(ctx)?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_typed_id(&id, NodeType::VolunteerTeam, "id")?;
                request.volunteers().team_by_id(id).await
            }
            (None, Some(code)) => request.volunteers().team_by_code(&code).await,
            _ => Err(ApiError::bad_input("id", "give exactly one of `id` and `code`").into()),
        }
    }
}
