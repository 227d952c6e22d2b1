//! Root fields of the region tree.

use async_graphql::{Context, ID, Object};
use entities::{grid_team_member, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, QueryFilter};

use super::filter::{
    GridTeamMemberFilter, GridTeamMemberOrder, GridTeamMemberOrderField, RegionFilter, RegionOrder,
    RegionOrderField,
};
use super::types::{GridTeamMember, Region, RegionConnection, RegionLevel};
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::filter::compile;
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{
    Carried, CursorKey, PageRequest, SortKey, fetch_page, fetch_page_carrying, read_int, read_text,
};
use crate::request::RequestData;

/// How a sort value is read back from a row.
type ReadKey = fn(&sea_orm::QueryResult) -> Result<CursorKey, sea_orm::DbErr>;

crate::connection_type!(GridTeamMemberConnection, GridTeamMemberEdge, GridTeamMember, "grid team members");

/// Root fields of the region tree.
#[derive(Default)]
pub struct RegionsQuery;

#[Object]
impl RegionsQuery {
    /// Regions in your scope, ordered by code unless `orderBy` says otherwise. `level`, `parentCode` and
    /// `inRegion` are shorthands for the same fields of `filter`; everything combines with AND; an unknown code
    /// matches nothing.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
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
        #[graphql(
            desc = "Conditions on the regions (subtree, parent, level, name or code, boolean combinations)."
        )]
        filter: Option<RegionFilter>,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<RegionOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<RegionConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Region, Action::Read).await?;
        let shorthands = RegionFilter { level, parent_code, in_region, ..RegionFilter::default() };
        let combined = RegionFilter { and: Some(vec![shorthands]), ..filter.unwrap_or_default() };
        let condition = compile(&request.db, request.viewer.regions(), &combined, "filter", true).await?;
        let select = crate::scope::read::<region::Entity>(&access).filter(condition);
        let page = match order_by {
            None | Some(RegionOrder { field: RegionOrderField::Code, descending: false }) => {
                let key_of = |row: &region::Model| CursorKey::Text(row.code.clone());
                fetch_page(&request.db, select, SortKey::unique(region::Column::Code, key_of), &page).await?
            }
            Some(RegionOrder { field, descending }) => {
                let (expr, read): (Expr, ReadKey) = match field {
                    RegionOrderField::Code => (Expr::col((region::Entity, region::Column::Code)), read_text),
                    RegionOrderField::Name => (Expr::col((region::Entity, region::Column::Name)), read_text),
                    // A small integer on PostgreSQL; cursors carry 64-bit integers.
                    RegionOrderField::Depth => (
                        Expr::col((region::Entity, region::Column::Depth)).cast_as(Alias::new("BIGINT")),
                        read_int,
                    ),
                };
                let sort =
                    SortKey::computed(expr, descending, read, region::Column::Id, |row: &region::Model| {
                        row.id
                    });
                fetch_page(&request.db, select, sort, &page).await?
            }
        };
        Ok(RegionConnection::from_page(page, Region))
    }

    /// One region by its code; null when there is none in your scope.
    async fn region(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Administrative code, e.g. 330902 for 定海区.")] code: String,
    ) -> ApiResult<Option<Region>> {
        let regions = RequestData::of(ctx)?.regions();
        if sole_root_field(ctx) {
            regions.read_by_code(&code).await
        } else {
            regions.region_by_code(&code).await
        }
    }

    /// The management-service team of a grid, by grid code: at most 30 members. Public: no sign-in needed
    /// (联系方式全公开).
    async fn grid_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The 15-digit grid code.")] grid_code: String,
    ) -> ApiResult<Vec<GridTeamMember>> {
        let request = RequestData::of(ctx)?;
        // Refuses bad tokens before touching the database; the loader applies the scope.
        request.authorize(Resource::GridTeam, Action::Read).await?;
        let grid = crate::scope::unscoped::<region::Entity>(crate::scope::Unscoped::PublicGridTeam)
            .filter(region::Column::Code.eq(grid_code))
            .filter(region::Column::Level.eq(region::RegionLevel::Grid))
            .one(&request.db)
            .await
            .map_err(ApiError::from)?;
        let Some(grid) = grid else {
            return Ok(Vec::new());
        };
        request.regions().team_of(grid.id).await
    }

    /// Members of the grids' service teams in your scope, in the order they were added unless `orderBy` says
    /// otherwise. The contacts are public (联系方式全公开): like `gridTeam`, this answers without a token too.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
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
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::GridTeam, Action::Read).await?;
        let mut select = crate::scope::read::<grid_team_member::Entity>(&access);
        if let Some(filter) = &filter {
            // Members' names are public: searching them reveals nothing.
            select =
                select.filter(compile(&request.db, request.viewer.regions(), filter, "filter", true).await?);
        }
        let id_of = |row: &grid_team_member::Model| row.id;
        let grids = request.regions().by_id.carried(ctx, "grid", grid_team_member::Column::GridId).await;
        let carried: [&dyn Carried; 1] = [&grids];
        let page = match order_by {
            None => {
                let key_of = |row: &grid_team_member::Model| CursorKey::Int(row.id);
                let sort = SortKey::unique(grid_team_member::Column::Id, key_of);
                fetch_page_carrying(&request.db, select, sort, &page, &carried).await?
            }
            Some(GridTeamMemberOrder { field, descending }) => {
                let expr = match field {
                    GridTeamMemberOrderField::GridCode => grid_code_of_member(),
                    GridTeamMemberOrderField::Name => {
                        Expr::col((grid_team_member::Entity, grid_team_member::Column::Name))
                    }
                };
                let sort =
                    SortKey::computed(expr, descending, read_text, grid_team_member::Column::Id, id_of);
                fetch_page_carrying(&request.db, select, sort, &page, &carried).await?
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
        RequestData::of(ctx)?.regions().team_member_by_id(id).await
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

/// Whether the field being resolved is the only field of its operation's root selection with its name, so
/// that no sibling can join its loader's batch: then it reads its row at once, rather than let the batch step
/// aside for the turns that siblings would need (a lookup's slowest part).
fn sole_root_field(ctx: &Context<'_>) -> bool {
    let operation = &ctx.query_env.operation.node;
    alone_at_root(&operation.selection_set.node, ctx.item.node.name.node.as_str())
}

/// Whether `selection` holds exactly one field named `name`. A fragment at the root may hold more of them, so
/// any fragment answers no.
fn alone_at_root(selection: &async_graphql::parser::types::SelectionSet, name: &str) -> bool {
    use async_graphql::parser::types::Selection;
    let mut same_name = 0;
    for item in &selection.items {
        match &item.node {
            Selection::Field(field) if field.node.name.node == name => same_name += 1,
            Selection::Field(_) => {}
            Selection::FragmentSpread(_) | Selection::InlineFragment(_) => return false,
        }
    }
    same_name == 1
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::DocumentOperations;

    use super::alone_at_root;

    fn alone(query: &str) -> bool {
        let document = parse_query(query).expect("the test's query parses");
        let DocumentOperations::Single(operation) = document.operations else {
            panic!("the test's query has one operation");
        };
        alone_at_root(&operation.node.selection_set.node, "region")
    }

    #[test]
    fn a_lookup_reads_at_once_only_without_siblings_of_its_name() {
        assert!(alone(r#"{ region(code: "330902") { name } }"#));
        assert!(alone(r#"{ region(code: "330902") { name } volunteers(first: 1) { totalCount } }"#));
        assert!(alone(r#"query($c: String!) { home: region(code: $c) { name children { code } } }"#));
        assert!(!alone(r#"{ a: region(code: "330902") { name } b: region(code: "330922") { name } }"#));
        assert!(!alone(
            r#"{ region(code: "330902") { name } ...more } fragment more on Query { regions { totalCount } }"#
        ));
        assert!(!alone(
            r#"{ region(code: "330902") { name } ... on Query { b: region(code: "330922") { name } } }"#
        ));
        assert!(!alone(r#"{ regions(first: 1) { totalCount } }"#), "not at the root at all");
    }
}
