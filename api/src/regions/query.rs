//! Root fields of the region tree.

use async_graphql::{Context, ID, Object};
use entities::{grid_team_member, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::filter::{GridTeamMemberFilter, GridTeamMemberOrder, GridTeamMemberOrderField};
use super::types::{GridTeamMember, Region, RegionConnection, RegionLevel};
use crate::auth::viewer::region_in_subtree;
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::filter::compile;
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{CursorKey, PageRequest, fetch_page};
use crate::request::RequestData;
use crate::volunteers::keyset::{ExprOrdering, fetch_page_by_expr, read_text};

/// The materialized path of the region with `code`, looked up without scope: callers only ever get rows
/// that also pass their own scope predicate, so this reveals nothing.
pub async fn path_of_code(db: &DatabaseConnection, code: &str) -> Result<Option<String>, ApiError> {
    let found = region::Entity::find().filter(region::Column::Code.eq(code)).one(db).await?;
    Ok(found.map(|row| row.path))
}

crate::connection_type!(GridTeamMemberConnection, GridTeamMemberEdge, GridTeamMember, "grid team members");

/// Root fields of the region tree.
#[derive(Default)]
pub struct RegionsQuery;

#[Object]
impl RegionsQuery {
    /// Regions in your scope, ordered by code. All filters combine with AND; an unknown code matches nothing.
    #[allow(clippy::too_many_arguments)]
    async fn regions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only regions of this level.")] level: Option<RegionLevel>,
        #[graphql(desc = "Only the direct children of the region with this code.")] parent_code: Option<
            String,
        >,
        #[graphql(desc = "Only the region with this code and everything below it.")] in_region: Option<
            String,
        >,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<RegionConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?;
        let access = request.authorize(Resource::Region, Action::Read).await?;
        let mut select = region::Entity::find().filter(access.scope_on_region());
        if let Some(level) = level {
            select = select.filter(region::Column::Level.eq(region::RegionLevel::from(level)));
        }
        if let Some(code) = parent_code {
            let parent_ids = sea_orm::sea_query::Query::select()
                .column(region::Column::Id)
                .from(region::Entity)
                .and_where(region::Column::Code.eq(code))
                .to_owned();
            select = select.filter(region::Column::ParentId.in_subquery(parent_ids));
        }
        if let Some(code) = in_region {
            match path_of_code(&request.db, &code).await? {
                Some(path) => select = select.filter(region_in_subtree(&path)),
                None => select = select.filter(region::Column::Id.eq(-1)),
            }
        }
        let page = fetch_page(
            &request.db,
            select,
            region::Column::Code,
            |row| CursorKey::Text(row.code.clone()),
            &page,
        )
        .await?;
        Ok(RegionConnection::from_page(page, Region))
    }

    /// One region by its code; null when there is none in your scope.
    async fn region(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Administrative code, e.g. 330902 for 定海区.")] code: String,
    ) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions.region_by_code(&code).await
    }

    /// The management-service team of a grid, by grid code. Public: no sign-in needed (联系方式全公开).
    async fn grid_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The 15-digit grid code.")] grid_code: String,
    ) -> ApiResult<Vec<GridTeamMember>> {
        let request = RequestData::of(ctx)?;
        // Refuses bad tokens before touching the database; the loader applies the scope.
        request.authorize(Resource::GridTeam, Action::Read).await?;
        let grid = region::Entity::find()
            .filter(region::Column::Code.eq(grid_code))
            .filter(region::Column::Level.eq(region::RegionLevel::Grid))
            .one(&request.db)
            .await
            .map_err(ApiError::from)?;
        let Some(grid) = grid else {
            return Ok(Vec::new());
        };
        request.regions.team_of(grid.id).await
    }

    /// Members of the grids' service teams in your scope, in the order they were added unless `orderBy` says
    /// otherwise. The contacts are public (联系方式全公开): like `gridTeam`, this answers without a token too.
    #[allow(clippy::too_many_arguments)]
    async fn grid_team_members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the members (region, role, name, boolean combinations).")]
        filter: Option<GridTeamMemberFilter>,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<
            GridTeamMemberOrder,
        >,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<GridTeamMemberConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?;
        let access = request.authorize(Resource::GridTeam, Action::Read).await?;
        let mut select =
            grid_team_member::Entity::find().filter(access.scope_on(grid_team_member::Column::GridId));
        if let Some(filter) = &filter {
            // Members' names are public: searching them reveals nothing.
            select = select.filter(compile(&request.db, filter, "filter", true).await?);
        }
        let id_of = |row: &grid_team_member::Model| row.id;
        let page = match order_by {
            None => {
                let key_of = |row: &grid_team_member::Model| CursorKey::Int(row.id);
                fetch_page(&request.db, select, grid_team_member::Column::Id, key_of, &page).await?
            }
            Some(GridTeamMemberOrder { field, descending }) => {
                let expr = match field {
                    GridTeamMemberOrderField::GridCode => grid_code_of_member(),
                    GridTeamMemberOrderField::Name => {
                        Expr::col((grid_team_member::Entity, grid_team_member::Column::Name))
                    }
                };
                let ordering = ExprOrdering { expr, descending, read: read_text };
                fetch_page_by_expr(&request.db, select, ordering, grid_team_member::Column::Id, id_of, &page)
                    .await?
            }
        };
        Ok(GridTeamMemberConnection::from_page(page, |row| GridTeamMember { row }))
    }

    /// One member of a grid's service team by global ID; null when there is none in your scope.
    async fn grid_team_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: ID,
    ) -> ApiResult<Option<GridTeamMember>> {
        let id = parse_typed_id(&id, NodeType::GridTeamMember, "id")?;
        RequestData::of(ctx)?.regions.team_member_by_id(id).await
    }
}

/// The code of a member's grid, as a scalar subquery correlated with the `grid_team_member` row of the
/// enclosing query (for ordering members by it).
fn grid_code_of_member() -> Expr {
    let grid = Alias::new("gg_grid");
    let code = Query::select()
        .column((grid.clone(), region::Column::Code))
        .from_as(region::Entity, grid.clone())
        .and_where(
            Expr::col((grid, region::Column::Id))
                .equals((grid_team_member::Entity, grid_team_member::Column::GridId)),
        )
        .to_owned();
    Expr::from(code)
}

/// The grid with `code` if it lies in the scope of `access`, for mutations that attach a row to a grid;
/// otherwise `BAD_USER_INPUT` naming `field` (the same answer whether the grid is absent or out of scope).
pub async fn grid_in_scope<C: sea_orm::ConnectionTrait>(
    conn: &C,
    access: &crate::auth::viewer::Access,
    code: &str,
    field: &str,
) -> Result<region::Model, ApiError> {
    region::Entity::find()
        .filter(region::Column::Code.eq(code.trim()))
        .filter(region::Column::Level.eq(region::RegionLevel::Grid))
        .filter(access.scope_on_region())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::bad_input(field, "no grid with this code in your scope"))
}
