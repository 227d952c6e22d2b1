//! A fetched page: its rows with their cursors, whether there is more on either side, and its total. The one
//! place where the rows a statement returned become a page.

use std::sync::Arc;

use async_graphql::Context;
use async_graphql::connection::PageInfo;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, ColumnRef, Expr, ExprTrait, Query, SelectStatement};

use super::{CursorKey, PageRequest};
use crate::error::{ApiError, ApiResult};

/// One page of rows, in presentation order, with the cursor of each.
#[derive(Debug, Clone)]
pub struct Page<M> {
    pub rows: Vec<(CursorKey, M)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    /// How to answer `totalCount`.
    pub total: Total,
}

/// The number of items over all pages: counted on demand, or already known from the page's statement.
#[derive(Debug, Clone)]
pub enum Total {
    /// The filtered query without the page cut; counted only when the caller asks for `totalCount`.
    Deferred(Box<SelectStatement>),
    /// A nested page whose statement did not count (its selection did not read `totalCount`): the rows
    /// `matching` selects for every parent, narrowed to this page's parent by `parent = id` if asked after all.
    OfParent { matching: Arc<SelectStatement>, parent: ColumnRef, id: i64 },
    /// Counted by the statement that fetched the page.
    Known(u64),
}

impl<M> Page<M> {
    /// The page of a parent that has no matching children.
    pub fn empty() -> Self {
        Page { rows: Vec::new(), has_previous_page: false, has_next_page: false, total: Total::Known(0) }
    }

    /// Makes a page of `rows` as a statement returned them: in the page's order (read from its far end when
    /// paging backward), at most one more than the page holds, which only tells that there are more.
    pub fn assemble(mut rows: Vec<(CursorKey, M)>, page: &PageRequest, total: Total) -> Self {
        let has_more = rows.len() as u64 > page.limit;
        rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
        if page.backward {
            rows.reverse();
        }
        let (has_previous_page, has_next_page) =
            if page.backward { (has_more, page.before.is_some()) } else { (page.after.is_some(), has_more) };
        Page { rows, has_previous_page, has_next_page, total }
    }

    /// Splits the page into edges (cursor and node), page info and the totals resolver.
    pub fn into_parts<Node>(
        self,
        node_of: impl Fn(M) -> Node,
    ) -> (Vec<(String, Node)>, PageInfo, ConnectionTotals) {
        let edges: Vec<(String, Node)> =
            self.rows.into_iter().map(|(key, row)| (key.encode(), node_of(row))).collect();
        let page_info = PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: edges.first().map(|(cursor, _)| cursor.clone()),
            end_cursor: edges.last().map(|(cursor, _)| cursor.clone()),
        };
        (edges, page_info, ConnectionTotals { total: self.total })
    }
}

/// `SELECT COUNT(*)` over the rows `matching` selects.
pub(super) fn count_of(matching: SelectStatement) -> SelectStatement {
    Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("total"))
        .from_subquery(matching, Alias::new("matching"))
        .to_owned()
}

/// Counts the rows a connection's arguments match, when the caller asks for `totalCount`.
pub struct ConnectionTotals {
    total: Total,
}

impl ConnectionTotals {
    /// Runs the count (or returns the count already known).
    pub async fn count(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        let matching = match &self.total {
            Total::Known(total) => return Ok(*total),
            Total::Deferred(query) => query.as_ref().clone(),
            Total::OfParent { matching, parent, id } => {
                matching.as_ref().clone().and_where(Expr::col(parent.clone()).eq(*id)).to_owned()
            }
        };
        // The request's pool, not the schema's: on PostgreSQL each HTTP worker reads through connections it
        // opened itself (see `crate::db::WorkerPools`).
        let db = &crate::request::RequestData::of(ctx)?.db;
        let statement = count_of(matching);
        let row = db
            .query_one(&statement)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::Internal("COUNT returned no row".into()))?;
        let total: i64 = row.try_get("", "total").map_err(ApiError::from)?;
        Ok(u64::try_from(total).unwrap_or(0))
    }
}
