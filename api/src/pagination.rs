//! Relay connections over keyset pagination: every list is a connection with `totalCount`, pages are cut by a
//! unique sort key (never by OFFSET, which gets slower the deeper one pages), and page sizes are capped.

use async_graphql::Context;
use async_graphql::connection::PageInfo;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::hash::Hash;

use sea_orm::sea_query::{
    Alias, Asterisk, ColumnRef, Condition, Expr, ExprTrait, Frame, FrameType, Func, IntoColumnRef, Query,
    SelectStatement, WindowStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, Order, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
};

use crate::error::{ApiError, ApiResult};

/// Page size when the caller names none.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u64 = 500;

/// The value of the sort key a cursor points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CursorKey {
    Int(i64),
    Text(String),
    Date(chrono::NaiveDate),
    Instant(chrono::DateTime<chrono::Utc>),
    /// A sort value with the row id that breaks ties, for connections ordered by a non-unique column.
    Sorted(Box<CursorKey>, i64),
}

impl CursorKey {
    /// The opaque cursor handed to callers.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.raw())
    }

    fn raw(&self) -> String {
        match self {
            CursorKey::Int(n) => format!("i:{n}"),
            CursorKey::Text(s) => format!("s:{s}"),
            CursorKey::Date(d) => format!("d:{d}"),
            CursorKey::Instant(t) => format!("t:{}", t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            CursorKey::Sorted(value, id) => format!("o:{id}:{}", value.raw()),
        }
    }

    fn from_raw(raw: &str) -> Option<Self> {
        match raw.split_once(':')? {
            ("i", n) => n.parse().ok().map(CursorKey::Int),
            ("s", s) => Some(CursorKey::Text(s.to_owned())),
            ("d", d) => d.parse().ok().map(CursorKey::Date),
            ("t", t) => chrono::DateTime::parse_from_rfc3339(t).ok().map(|t| CursorKey::Instant(t.to_utc())),
            ("o", rest) => {
                let (id, value) = rest.split_once(':')?;
                let value = CursorKey::from_raw(value).filter(|v| !matches!(v, CursorKey::Sorted(..)))?;
                Some(CursorKey::Sorted(Box::new(value), id.parse().ok()?))
            }
            _ => None,
        }
    }

    /// Reads a cursor back; `argument` names the argument in the error.
    pub fn decode(cursor: &str, argument: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::bad_input(argument, "not a cursor returned by this API");
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let raw = String::from_utf8(bytes).map_err(|_| invalid())?;
        CursorKey::from_raw(&raw).ok_or_else(invalid)
    }

    /// The sort value a cursor points at, as a statement value (a sorted key's value without its tie-breaking id).
    pub fn into_value(self) -> sea_orm::Value {
        match self {
            CursorKey::Int(n) => n.into(),
            CursorKey::Text(s) => s.into(),
            CursorKey::Date(d) => d.into(),
            CursorKey::Instant(t) => t.into(),
            CursorKey::Sorted(value, _) => value.into_value(),
        }
    }
}

/// The key of a nested connection's loader: the parent and the field's arguments. Siblings asked for with the
/// same arguments share one statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NestedKey<A> {
    pub parent: i64,
    pub args: A,
}

/// The standard Relay arguments, validated. Hashable, so nested connections can batch by them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<CursorKey>,
    pub before: Option<CursorKey>,
    /// `last` was given: take the page from the end.
    pub backward: bool,
    /// The selection reads `totalCount`: a top-level page statement carries it (see [`PageRequest::counting`]).
    pub count_total: bool,
}

impl PageRequest {
    /// Validates `first`/`after`/`last`/`before`: at most one of `first` and `last`, sizes 0..=500.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Self, ApiError> {
        let size = |value: i32, argument: &str| -> Result<u64, ApiError> {
            let value =
                u64::try_from(value).map_err(|_| ApiError::bad_input(argument, "must not be negative"))?;
            if value > MAX_PAGE_SIZE {
                return Err(ApiError::bad_input(
                    argument,
                    format!("at most {MAX_PAGE_SIZE} items per page, asked for {value}"),
                ));
            }
            Ok(value)
        };
        let (limit, backward) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_input("last", "pass either `first` or `last`, not both"));
            }
            (Some(first), None) => (size(first, "first")?, false),
            (None, Some(last)) => (size(last, "last")?, true),
            (None, None) => (DEFAULT_PAGE_SIZE, before.is_some()),
        };
        Ok(Self {
            limit,
            after: after.as_deref().map(|c| CursorKey::decode(c, "after")).transpose()?,
            before: before.as_deref().map(|c| CursorKey::decode(c, "before")).transpose()?,
            backward,
            count_total: false,
        })
    }

    /// Notes whether the connection's selection reads `totalCount`, so that the page statement can count
    /// the matching rows itself instead of a second statement counting them afterwards.
    pub fn counting(mut self, ctx: &Context<'_>) -> Self {
        self.count_total = ctx.look_ahead().field("totalCount").exists();
        self
    }
}

/// One page of rows, in sort order, with the cursor of each.
#[derive(Debug, Clone)]
pub struct Page<M> {
    pub rows: Vec<(CursorKey, M)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    /// How to answer `totalCount`.
    pub total: Total,
}

/// Name of the column in which a page statement carries the connection's total.
const TOTAL_COLUMN: &str = "gg_total";

/// `SELECT COUNT(*)` over the rows `matching` selects.
fn count_of(matching: SelectStatement) -> SelectStatement {
    Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("total"))
        .from_subquery(matching, Alias::new("matching"))
        .to_owned()
}

/// Runs a top-level page statement. When the caller reads `totalCount`, the statement also carries the total
/// as an uncorrelated scalar subquery (both databases evaluate it once, with its own plan), so a first page
/// and its total cost one statement. Returns the rows and what is then known about the total.
pub(crate) async fn page_rows(
    db: &DatabaseConnection,
    mut statement: SelectStatement,
    total: Total,
    page: &PageRequest,
) -> Result<(Vec<sea_orm::QueryResult>, Total), sea_orm::DbErr> {
    let matching = match total {
        Total::Deferred(matching) if page.count_total => matching,
        known_or_unwanted => return Ok((db.query_all(&statement).await?, known_or_unwanted)),
    };
    statement.expr_as(Expr::from(count_of(matching.as_ref().clone())), Alias::new(TOTAL_COLUMN));
    let rows = db.query_all(&statement).await?;
    let total = match rows.first() {
        Some(row) => Total::Known(u64::try_from(row.try_get::<i64>("", TOTAL_COLUMN)?).unwrap_or(0)),
        // Without a cursor the page holds the first matching rows, so no rows means none match.
        None if page.after.is_none() && page.before.is_none() => Total::Known(0),
        None => Total::Deferred(matching),
    };
    Ok((rows, total))
}

/// The models of a page statement's rows.
fn models_of<M: FromQueryResult>(rows: &[sea_orm::QueryResult]) -> Result<Vec<M>, sea_orm::DbErr> {
    rows.iter().map(|row| M::from_query_result(row, "")).collect()
}

/// The number of items over all pages: counted on demand, or already known from a nested batch.
#[derive(Debug, Clone)]
pub enum Total {
    /// The filtered query without the page cut; counted only when the caller asks for `totalCount`.
    Deferred(Box<SelectStatement>),
    /// Counted by the statement that fetched the page.
    Known(u64),
}

/// Fetches one page of `select` (already filtered and scoped) ordered by the unique column `key`.
/// One statement, which also counts the total when the caller reads `totalCount` (see [`PageRequest::counting`]).
pub async fn fetch_page<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    key: E::Column,
    key_of: impl Fn(&E::Model) -> CursorKey,
    page: &PageRequest,
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    for (cursor, argument) in [(&page.after, "after"), (&page.before, "before")] {
        if let Some(CursorKey::Sorted(..)) = cursor {
            return Err(ApiError::bad_input(
                argument,
                "a cursor of another ordering; keep `orderBy` while paging",
            ));
        }
    }
    let total = Total::Deferred(Box::new(select.clone().into_query()));
    let mut select = select;
    if let Some(after) = page.after.clone() {
        select = select.filter(key.gt(after.into_value()));
    }
    if let Some(before) = page.before.clone() {
        select = select.filter(key.lt(before.into_value()));
    }
    let order = if page.backward { Order::Desc } else { Order::Asc };
    let statement = select.order_by(key, order).limit(page.limit + 1).into_query();
    let (rows, total) = page_rows(db, statement, total, page).await?;
    let mut rows: Vec<E::Model> = models_of(&rows)?;
    let has_more = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    if page.backward {
        rows.reverse();
    }
    let (has_previous_page, has_next_page) =
        if page.backward { (has_more, page.before.is_some()) } else { (page.after.is_some(), has_more) };
    Ok(Page {
        rows: rows.into_iter().map(|row| (key_of(&row), row)).collect(),
        has_previous_page,
        has_next_page,
        total,
    })
}

/// How a top-level connection is sorted: a non-unique column, its direction, and the unique id that breaks ties.
pub struct SortSpec<E: EntityTrait, V, I> {
    pub column: E::Column,
    pub descending: bool,
    pub value_of: V,
    pub id_column: E::Column,
    pub id_of: I,
}

/// Like [`fetch_page`], for a connection ordered by `sort.column` then by id (keyset over both, so pages stay
/// stable and cheap however deep one goes).
pub async fn fetch_sorted_page<E, V, I>(
    db: &DatabaseConnection,
    select: Select<E>,
    sort: SortSpec<E, V, I>,
    page: &PageRequest,
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
    V: Fn(&E::Model) -> CursorKey,
    I: Fn(&E::Model) -> i64,
{
    let total = Total::Deferred(Box::new(select.clone().into_query()));
    let SortSpec { column, descending, value_of, id_column, id_of } = sort;
    // Rows strictly later (`later == true`) or earlier than the cursor in presentation order.
    let beyond = |cursor: CursorKey, later: bool| -> Result<Condition, ApiError> {
        let CursorKey::Sorted(value, id) = cursor else {
            let argument = if later { "after" } else { "before" };
            return Err(ApiError::bad_input(
                argument,
                "a cursor of another ordering; keep `orderBy` while paging",
            ));
        };
        let value = value.into_value();
        let ascending_side = later != descending;
        Ok(if ascending_side {
            Condition::any()
                .add(column.gt(value.clone()))
                .add(Condition::all().add(column.eq(value)).add(id_column.gt(id)))
        } else {
            Condition::any()
                .add(column.lt(value.clone()))
                .add(Condition::all().add(column.eq(value)).add(id_column.lt(id)))
        })
    };
    let mut select = select;
    if let Some(after) = page.after.clone() {
        select = select.filter(beyond(after, true)?);
    }
    if let Some(before) = page.before.clone() {
        select = select.filter(beyond(before, false)?);
    }
    let query_descending = descending != page.backward;
    let order = if query_descending { Order::Desc } else { Order::Asc };
    let statement =
        select.order_by(column, order.clone()).order_by(id_column, order).limit(page.limit + 1).into_query();
    let (rows, total) = page_rows(db, statement, total, page).await?;
    let mut rows: Vec<E::Model> = models_of(&rows)?;
    let has_more = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    if page.backward {
        rows.reverse();
    }
    let (has_previous_page, has_next_page) =
        if page.backward { (has_more, page.before.is_some()) } else { (page.after.is_some(), has_more) };
    Ok(Page {
        rows: rows
            .into_iter()
            .map(|row| (CursorKey::Sorted(Box::new(value_of(&row)), id_of(&row)), row))
            .collect(),
        has_previous_page,
        has_next_page,
        total,
    })
}

/// A connection's requested order: a sortable column (ties broken by id), as chosen by an `orderBy` argument.
pub struct Ordering<E: EntityTrait> {
    pub column: E::Column,
    pub descending: bool,
    pub value_of: fn(&E::Model) -> CursorKey,
}

/// One page in the requested order, or in id order when none was requested.
pub async fn fetch_page_in_order<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    id_column: E::Column,
    id_of: fn(&E::Model) -> i64,
    ordering: Option<Ordering<E>>,
    page: &PageRequest,
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    match ordering {
        None => fetch_page(db, select, id_column, |row| CursorKey::Int(id_of(row)), page).await,
        Some(Ordering { column, descending, value_of }) => {
            let sort = SortSpec { column, descending, value_of, id_column, id_of };
            fetch_sorted_page(db, select, sort, page).await
        }
    }
}

/// How a child table hangs off its parent: the foreign-key column, and the unique integer sort column with
/// how to read it from a row.
pub struct Nesting<E: EntityTrait, K> {
    pub parent: E::Column,
    pub key: E::Column,
    pub key_of: K,
}

/// Fetches one page of children for each of `parents` in a single statement: the connection of a nested
/// field (a volunteer's service records, a subject's visits) for every parent on the page at once, in the
/// order of the nesting's key. `select` is already filtered and scoped.
pub async fn fetch_nested_pages<E, K>(
    db: &DatabaseConnection,
    select: Select<E>,
    nesting: Nesting<E, K>,
    parents: &[i64],
    page: &PageRequest,
) -> Result<HashMap<i64, Page<E::Model>>, sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
    K: Fn(&E::Model) -> i64,
{
    let Nesting { parent, key, key_of } = nesting;
    let table = E::default();
    let mut in_page = Condition::all();
    if let Some(after) = page.after.clone() {
        in_page = in_page.add(Expr::col((table, key)).gt(after.into_value()));
    }
    if let Some(before) = page.before.clone() {
        in_page = in_page.add(Expr::col((table, key)).lt(before.into_value()));
    }
    let ranking = Ranking {
        parent: (table, parent).into_column_ref(),
        order: vec![((table, key).into_column_ref(), Order::Asc)],
        in_page,
        cursor_of: |row: &E::Model| CursorKey::Int(key_of(row)),
    };
    fetch_ranked_pages(db, select.into_query(), ranking, parents, page).await
}

/// How the rows of one statement are cut into a page per parent (see [`fetch_ranked_pages`]).
pub struct Ranking<C> {
    /// The parent a row belongs to: a column of the listed table, or of a table joined to it when a row
    /// belongs to several parents (a region and every region above it).
    pub parent: ColumnRef,
    /// The presentation order, most significant column first; the last column is unique (the id breaks ties).
    pub order: Vec<(ColumnRef, Order)>,
    /// The rows between the page's cursors; the others count towards the total only.
    pub in_page: Condition,
    /// The cursor of a row.
    pub cursor_of: C,
}

/// Fetches one page for each of `parents` from `inner`, a filtered and scoped select of the listed table (with
/// whatever joins name the parent), in a single statement.
///
/// Window functions number each parent's rows from the cursor on, in the order of the page (reversed when
/// paging backward), and count them all, so the statement returns at most `limit + 1` rows per parent and every
/// parent's exact `totalCount`, on SQLite and PostgreSQL alike. A parent without rows has no entry.
pub async fn fetch_ranked_pages<M, C>(
    db: &DatabaseConnection,
    mut inner: SelectStatement,
    ranking: Ranking<C>,
    parents: &[i64],
    page: &PageRequest,
) -> Result<HashMap<i64, Page<M>>, sea_orm::DbErr>
where
    M: FromQueryResult,
    C: Fn(&M) -> CursorKey,
{
    let Ranking { parent, order, in_page, cursor_of } = ranking;
    let in_page_flag = || Expr::case(in_page.clone(), 1).finally(0);
    let mut query_order = WindowStatement::partition_by(parent.clone());
    for (column, direction) in order {
        query_order.order_by(column, if page.backward { reversed(direction) } else { direction });
    }
    query_order.frame_between(FrameType::Rows, Frame::UnboundedPreceding, Frame::CurrentRow);
    inner
        .and_where(Expr::col(parent.clone()).is_in(parents.iter().copied()))
        .expr_as(Expr::col(parent.clone()), Alias::new("gg_parent"))
        .expr_window_as(
            Func::count(Expr::cust("*")),
            WindowStatement::partition_by(parent),
            Alias::new("gg_total"),
        )
        .expr_window_as(Func::sum(in_page_flag()), query_order, Alias::new("gg_rank"))
        .expr_as(in_page_flag(), Alias::new("gg_in"));
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX - 1);
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("numbered"))
        .and_where(Expr::col(Alias::new("gg_in")).eq(1))
        .and_where(Expr::col(Alias::new("gg_rank")).lte(limit + 1))
        .to_owned();

    let mut grouped: HashMap<i64, (u64, Vec<(i64, M)>)> = HashMap::new();
    for row in db.query_all(&outer).await? {
        let parent: i64 = row.try_get("", "gg_parent")?;
        let total: i64 = row.try_get("", "gg_total")?;
        let rank: i64 = row.try_get("", "gg_rank")?;
        let model = M::from_query_result(&row, "")?;
        let entry = grouped.entry(parent).or_insert_with(|| (u64::try_from(total).unwrap_or(0), Vec::new()));
        entry.1.push((rank, model));
    }
    let mut pages = HashMap::new();
    for (parent, (total, mut rows)) in grouped {
        // Ranks number the rows in the statement's order, which is the page's order read from its far end
        // when paging backward.
        rows.sort_by_key(|(rank, _)| *rank);
        let has_more = rows.len() as u64 > page.limit;
        rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
        if page.backward {
            rows.reverse();
        }
        let (has_previous_page, has_next_page) =
            if page.backward { (has_more, page.before.is_some()) } else { (page.after.is_some(), has_more) };
        let rows = rows.into_iter().map(|(_, row)| (cursor_of(&row), row)).collect();
        pages.insert(parent, Page { rows, has_previous_page, has_next_page, total: Total::Known(total) });
    }
    Ok(pages)
}

fn reversed(order: Order) -> Order {
    match order {
        Order::Asc => Order::Desc,
        Order::Desc => Order::Asc,
        other => other,
    }
}

impl<E: EntityTrait> Ordering<E> {
    /// The presentation order of a page ordered by `ordering` (or by id alone), ties broken by the id.
    pub fn columns(ordering: Option<&Self>, id_column: E::Column) -> Vec<(ColumnRef, Order)> {
        let direction = if ordering.is_some_and(|o| o.descending) { Order::Desc } else { Order::Asc };
        let table = E::default();
        let mut columns: Vec<(ColumnRef, Order)> =
            ordering.map(|o| ((table, o.column).into_column_ref(), direction.clone())).into_iter().collect();
        columns.push(((table, id_column).into_column_ref(), direction));
        columns
    }

    /// The cursor of `row`, whose id is `id`, in a page ordered by `ordering` (or by id alone).
    pub fn cursor_of(ordering: Option<&Self>, row: &E::Model, id: i64) -> CursorKey {
        match ordering {
            Some(ordering) => CursorKey::Sorted(Box::new((ordering.value_of)(row)), id),
            None => CursorKey::Int(id),
        }
    }
}

/// Loads nested pages: the keys are grouped by their arguments, and each group's pages come from one statement.
pub async fn load_nested_pages<A, E, K>(
    db: &DatabaseConnection,
    keys: &[NestedKey<A>],
    page_of: impl Fn(&A) -> &PageRequest,
    select_for: impl Fn(&A) -> Select<E>,
    nesting: impl Fn() -> Nesting<E, K>,
) -> Result<HashMap<NestedKey<A>, Page<E::Model>>, ApiError>
where
    A: Clone + Eq + Hash,
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
    K: Fn(&E::Model) -> i64,
{
    let mut by_args: HashMap<&A, Vec<i64>> = HashMap::new();
    for key in keys {
        by_args.entry(&key.args).or_default().push(key.parent);
    }
    let mut loaded = HashMap::new();
    for (args, parents) in by_args {
        let mut pages = fetch_nested_pages(db, select_for(args), nesting(), &parents, page_of(args)).await?;
        for parent in parents {
            let page = pages.remove(&parent).unwrap_or_else(Page::empty);
            loaded.insert(NestedKey { parent, args: args.clone() }, page);
        }
    }
    Ok(loaded)
}

impl<M> Page<M> {
    /// The page of a parent that has no matching children.
    pub fn empty() -> Self {
        Page { rows: Vec::new(), has_previous_page: false, has_next_page: false, total: Total::Known(0) }
    }
}

/// Counts the rows a connection's arguments match, when the caller asks for `totalCount`.
pub struct ConnectionTotals {
    total: Total,
}

impl ConnectionTotals {
    /// Runs the count (or returns the count already known).
    pub async fn count(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        let count_query = match &self.total {
            Total::Known(total) => return Ok(*total),
            Total::Deferred(query) => query,
        };
        let db = ctx.data::<DatabaseConnection>()?;
        let statement = count_of(count_query.as_ref().clone());
        let row = db
            .query_one(&statement)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::Internal("COUNT returned no row".into()))?;
        let total: i64 = row.try_get("", "total").map_err(ApiError::from)?;
        Ok(u64::try_from(total).unwrap_or(0))
    }
}

impl<M> Page<M> {
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

/// Declares the Relay connection and edge types of one node type, with their descriptions.
#[macro_export]
macro_rules! connection_type {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ".")]
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: async_graphql::connection::PageInfo,
            totals: $crate::pagination::ConnectionTotals,
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        pub struct $edge {
            cursor: String,
            node: $node,
        }

        impl $connection {
            /// Builds the connection from a fetched page.
            pub fn from_page<M>(page: $crate::pagination::Page<M>, node_of: impl Fn(M) -> $node) -> Self {
                let (edges, page_info, totals) = page.into_parts(node_of);
                Self {
                    edges: edges.into_iter().map(|(cursor, node)| $edge { cursor, node }).collect(),
                    page_info,
                    totals,
                }
            }
        }

        #[doc = concat!("A page of ", $what, " (Relay connection).")]
        #[async_graphql::Object]
        impl $connection {
            /// The items of this page with their cursors.
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            /// The items of this page.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|edge| &edge.node).collect()
            }

            /// Where this page lies: whether there are more, and the cursors to get them.
            async fn page_info(&self) -> &async_graphql::connection::PageInfo {
                &self.page_info
            }

            /// Number of items matching the arguments, over all pages (counted only when asked for).
            async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> $crate::error::ApiResult<u64> {
                self.totals.count(ctx).await
            }
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        #[async_graphql::Object]
        impl $edge {
            /// Opaque cursor for `after`/`before`.
            async fn cursor(&self) -> &str {
                &self.cursor
            }

            /// The item.
            async fn node(&self) -> &$node {
                &self.node
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for key in [
            CursorKey::Int(42),
            CursorKey::Int(-1),
            CursorKey::Text("330902001".into()),
            CursorKey::Date(chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            CursorKey::Instant(chrono::DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap()),
            CursorKey::Sorted(Box::new(CursorKey::Text("王:芳".into())), 7),
        ] {
            assert_eq!(CursorKey::decode(&key.encode(), "after").unwrap(), key);
        }
        assert!(CursorKey::decode("not base64!", "after").is_err());
        assert!(CursorKey::decode(&URL_SAFE_NO_PAD.encode("x:1"), "after").is_err());
    }

    #[test]
    fn page_sizes_are_capped() {
        assert_eq!(PageRequest::new(None, None, None, None).unwrap().limit, DEFAULT_PAGE_SIZE);
        assert_eq!(PageRequest::new(Some(500), None, None, None).unwrap().limit, 500);
        let err = PageRequest::new(Some(501), None, None, None).unwrap_err();
        assert!(matches!(err, ApiError::BadInput { ref field, .. } if field == "first"));
        assert!(PageRequest::new(Some(-1), None, None, None).is_err());
        assert!(PageRequest::new(Some(1), None, Some(1), None).is_err());
        assert!(PageRequest::new(None, None, Some(10), None).unwrap().backward);
    }
}
