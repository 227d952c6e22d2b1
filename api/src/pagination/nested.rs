//! Nested connections: one page for each parent of a page (a volunteer's service records, a subject's visits)
//! in a single statement, and the one grouping of loader keys by the field's arguments.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use sea_orm::sea_query::{
    Alias, Asterisk, ColumnName, ColumnRef, Condition, Expr, ExprTrait, Frame, FrameType, Func,
    IntoColumnRef, JoinType, Query, SelectStatement, TableName, ValueTuple, WindowStatement,
};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, FromQueryResult, Order, QueryResult,
    QueryTrait, Select,
};

use super::keyset::{Ordering, beyond};
use super::page::{Page, Total};
use super::{CursorKey, NestedKey, PageRequest};
use crate::error::ApiError;
use crate::sql::with_literal_limit;

/// How a child table hangs off its parent: the foreign-key column, and the unique integer sort column with
/// how to read it from a row.
pub struct Nesting<E: EntityTrait, K> {
    pub parent: E::Column,
    pub key: E::Column,
    pub key_of: K,
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

/// The parents of `keys`, grouped by the field arguments they were asked with: siblings asked for with the same
/// arguments share one statement.
pub fn group_by_args<A: Eq + Hash>(keys: &[NestedKey<A>]) -> HashMap<&A, Vec<i64>> {
    let mut by_args: HashMap<&A, Vec<i64>> = HashMap::new();
    for key in keys {
        by_args.entry(&key.args).or_default().push(key.parent);
    }
    by_args
}

/// The rows between the page's cursors, for a page ordered by `ordering` (or by the unique `id` alone).
pub fn between_cursors<E: EntityTrait>(
    ordering: Option<&Ordering<E>>,
    id: Expr,
    page: &PageRequest,
) -> Result<Condition, ApiError> {
    let sort = ordering.map(|ordering| (Expr::col((E::default(), ordering.column)), ordering.descending));
    let mut in_page = Condition::all();
    for (cursor, later, argument) in [(&page.after, true, "after"), (&page.before, false, "before")] {
        if let Some(cursor) = cursor.clone() {
            in_page = in_page.add(beyond(sort.clone(), id.clone(), cursor, later, argument)?);
        }
    }
    Ok(in_page)
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
    let mut loaded = HashMap::new();
    for (args, parents) in group_by_args(keys) {
        let Nesting { parent, key, key_of } = nesting();
        let table = E::default();
        let page = page_of(args);
        let ranking = Ranking {
            parent: (table, parent).into_column_ref(),
            order: vec![((table, key).into_column_ref(), Order::Asc)],
            in_page: between_cursors::<E>(None, Expr::col((table, key)), page)?,
            cursor_of: |row: &E::Model| CursorKey::Int(key_of(row)),
        };
        let mut pages =
            fetch_ranked_pages(db, select_for(args).into_query(), ranking, &parents, page).await?;
        for parent in parents {
            let page = pages.remove(&parent).unwrap_or_else(Page::empty);
            loaded.insert(NestedKey { parent, args: args.clone() }, page);
        }
    }
    Ok(loaded)
}

/// Fetches one page for each of `parents` from `inner`, a filtered and scoped select of the listed table (with
/// whatever joins name the parent), in a single statement: a page for every parent, empty or not.
///
/// When the selection does not read `totalCount`, each parent's page is cut by its own `LIMIT`: a `LATERAL`
/// subquery on PostgreSQL ([`fetch_pages_laterally`]), a correlated `IN` subquery of ids on SQLite
/// ([`fetch_pages_by_correlated_ids`]); the database stops at the page's end instead of numbering every row of
/// every parent. Otherwise window functions number
/// each parent's rows from the cursor on, in the order of the page (reversed when paging backward), and count
/// them all in the same pass, so the statement returns at most `limit + 1` rows per parent and every parent's
/// exact `totalCount`; one row of each parent whose page is empty (its cursor lies past its rows) comes back
/// for the total alone. (A count beside each lateral page reads the parent's rows a second time: measured
/// slower than the one pass of the windows.)
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
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    if !page.count_total {
        if db.get_database_backend() == DatabaseBackend::Postgres {
            return fetch_pages_laterally(db, inner, ranking, parents, page).await;
        }
        if let Some(listed) = listed_table(&ranking.order) {
            return fetch_pages_by_correlated_ids(db, inner, ranking, listed, parents, page).await;
        }
    }
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
            WindowStatement::partition_by(parent.clone()),
            Alias::new("gg_total"),
        )
        .expr_window_as(Func::sum(in_page_flag()), query_order, Alias::new("gg_rank"))
        .expr_as(in_page_flag(), Alias::new("gg_in"));
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX - 1);
    let mut wanted = Condition::any().add(
        Condition::all()
            .add(Expr::col(Alias::new("gg_in")).eq(1))
            .add(Expr::col(Alias::new("gg_rank")).lte(limit + 1)),
    );
    // Only a cursor can leave a parent with rows an empty page: then its first row comes back for the total.
    // Without one the extra window is not paid for (measured: up to a quarter of such a statement on SQLite).
    if page.after.is_some() || page.before.is_some() {
        inner.expr_window_as(
            Func::cust("ROW_NUMBER"),
            WindowStatement::partition_by(parent),
            Alias::new("gg_seq"),
        );
        wanted = wanted.add(Expr::col(Alias::new("gg_seq")).eq(1));
    }
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("numbered"))
        .cond_where(wanted)
        .to_owned();

    let mut grouped: HashMap<i64, ParentRows<M>> = HashMap::new();
    for row in db.query_all(&outer).await? {
        let parent: i64 = row.try_get("", "gg_parent")?;
        let total: i64 = row.try_get("", "gg_total")?;
        let rank: i64 = row.try_get("", "gg_rank")?;
        let in_page: i32 = row.try_get("", "gg_in")?;
        let entry = grouped.entry(parent).or_insert_with(|| (u64::try_from(total).unwrap_or(0), Vec::new()));
        // With a cursor, a parent's first row comes back for its total even when it is not on the page.
        if in_page == 1 && rank <= limit + 1 {
            entry.1.push((rank, M::from_query_result(&row, "")?));
        }
    }
    let mut pages = HashMap::new();
    for &parent in parents {
        // A parent without rows at all did not come back.
        let (total, rows) = grouped.remove(&parent).unwrap_or_default();
        pages.insert(parent, page_of_ranked(rows, &cursor_of, page, Total::Known(total)));
    }
    Ok(pages)
}

/// [`fetch_ranked_pages`] on PostgreSQL for a selection without `totalCount`: `SELECT numbered.*,
/// gg_parents.column1 AS gg_owner FROM (VALUES (parent), …) AS gg_parents JOIN LATERAL (<inner> AND <parent
/// column> = gg_parents.column1 AND <between the cursors> ORDER BY <page order> LIMIT <limit + 1>) AS numbered
/// ON TRUE`.
///
/// Each page costs what reading its first `limit + 1` rows costs, however many rows its parent has. A parent
/// whose page is empty does not come back; its total is left to a count of its own, should a resolver ask for
/// it after all (see [`Total::OfParent`]).
async fn fetch_pages_laterally<M, C>(
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
    let matching = Arc::new(inner.clone());
    let parents_alias = Alias::new("gg_parents");
    let owner = Expr::col((parents_alias.clone(), Alias::new("column1")));
    let numbered = Alias::new("numbered");
    let mut rank_order = WindowStatement::new();
    order_each_page(&mut inner, &mut rank_order, order, page.backward);
    inner
        .and_where(Expr::col(parent.clone()).eq(owner.clone()))
        .cond_where(in_page)
        .expr_window_as(Func::cust("ROW_NUMBER"), rank_order, Alias::new("gg_rank"))
        .limit(page.limit + 1);
    let outer = Query::select()
        .column((numbered.clone(), Asterisk))
        .expr_as(owner, Alias::new("gg_owner"))
        .from_values(parents.iter().map(|&id| ValueTuple::One(id.into())), parents_alias)
        .join_lateral(JoinType::InnerJoin, inner, numbered, Expr::cust("TRUE"))
        .to_owned();

    let statement = with_literal_limit(db.get_database_backend(), &outer, page.limit + 1);
    let rows = db.query_all_raw(statement).await?;
    pages_of_owned_rows(&rows, &matching, &parent, &cursor_of, parents, page)
}

/// [`fetch_ranked_pages`] on SQLite for a selection without `totalCount`: `SELECT <table>.*, gg_parents.column1
/// AS gg_owner, ROW_NUMBER() OVER (PARTITION BY gg_parents.column1 ORDER BY <page order>) AS gg_rank FROM (VALUES
/// (parent), …) AS gg_parents JOIN <table> ON <table>.id IN (SELECT <table>.id FROM <inner> AND <parent column> =
/// gg_parents.column1 AND <between the cursors> ORDER BY <page order> LIMIT <limit + 1>)`.
///
/// SQLite has no `LATERAL`, but it runs a correlated `IN` subquery once per row of the parents' list, cut by its
/// own `LIMIT`, and reads the rows it names by their primary key: each page costs its first `limit + 1` rows, as
/// on PostgreSQL. (Inside the subquery the table's name means the subquery's own table, so `inner` is used as it
/// is.) Measured on the benchmark's database, the first 6 service records of 20 volunteers: 0.35–0.43 ms against
/// 2.2–3.0 ms for the windows, which number every record of every volunteer.
async fn fetch_pages_by_correlated_ids<M, C>(
    db: &DatabaseConnection,
    mut inner: SelectStatement,
    ranking: Ranking<C>,
    listed: (TableName, ColumnRef),
    parents: &[i64],
    page: &PageRequest,
) -> Result<HashMap<i64, Page<M>>, sea_orm::DbErr>
where
    M: FromQueryResult,
    C: Fn(&M) -> CursorKey,
{
    let Ranking { parent, order, in_page, cursor_of } = ranking;
    let (table, id) = listed;
    let matching = Arc::new(inner.clone());
    let parents_alias = Alias::new("gg_parents");
    let owner_column = (parents_alias.clone(), Alias::new("column1")).into_column_ref();
    let owner = Expr::col(owner_column.clone());
    let mut rank_order = WindowStatement::partition_by(owner_column);
    order_each_page(&mut inner, &mut rank_order, order, page.backward);
    inner
        .clear_selects()
        .column(id.clone())
        .and_where(Expr::col(parent.clone()).eq(owner.clone()))
        .cond_where(in_page)
        .limit(page.limit + 1);
    let outer = Query::select()
        .column(ColumnRef::Asterisk(Some(table.clone())))
        .expr_as(owner, Alias::new("gg_owner"))
        .expr_window_as(Func::cust("ROW_NUMBER"), rank_order, Alias::new("gg_rank"))
        .from_values(parents.iter().map(|&id| ValueTuple::One(id.into())), parents_alias)
        .join(JoinType::InnerJoin, table, Expr::col(id).in_subquery(inner))
        .to_owned();

    let rows = db.query_all(&outer).await?;
    pages_of_owned_rows(&rows, &matching, &parent, &cursor_of, parents, page)
}

/// The pages of `parents` from rows that each name their parent (`gg_owner`) and their rank in its page
/// (`gg_rank`), as the per-parent statements return them. A parent whose page is empty did not come back; its
/// total is left to a count of `matching` for that parent, should a resolver ask for it.
fn pages_of_owned_rows<M, C>(
    rows: &[QueryResult],
    matching: &Arc<SelectStatement>,
    parent: &ColumnRef,
    cursor_of: &C,
    parents: &[i64],
    page: &PageRequest,
) -> Result<HashMap<i64, Page<M>>, sea_orm::DbErr>
where
    M: FromQueryResult,
    C: Fn(&M) -> CursorKey,
{
    let mut grouped: HashMap<i64, Vec<(i64, M)>> = HashMap::new();
    for row in rows {
        let owner: i64 = row.try_get("", "gg_owner")?;
        let rank: i64 = row.try_get("", "gg_rank")?;
        grouped.entry(owner).or_default().push((rank, M::from_query_result(row, "")?));
    }
    let mut pages = HashMap::new();
    for &id in parents {
        let rows = grouped.remove(&id).unwrap_or_default();
        let total = Total::OfParent { matching: matching.clone(), parent: parent.clone(), id };
        pages.insert(id, page_of_ranked(rows, cursor_of, page, total));
    }
    Ok(pages)
}

/// The listed table and its id column: the last column of a page's order, which is unique (see [`Ranking`]),
/// when it names its table.
fn listed_table(order: &[(ColumnRef, Order)]) -> Option<(TableName, ColumnRef)> {
    let (id, _) = order.last()?;
    match id {
        ColumnRef::Column(ColumnName(Some(table), _)) => Some((table.clone(), id.clone())),
        _ => None,
    }
}

/// Orders both a per-parent page statement and the window that ranks its rows in the page's order, read from
/// its far end when paging backward.
fn order_each_page(
    inner: &mut SelectStatement,
    rank_order: &mut WindowStatement,
    order: Vec<(ColumnRef, Order)>,
    backward: bool,
) {
    for (column, direction) in order {
        let direction = if backward { reversed(direction) } else { direction };
        inner.order_by(column.clone(), direction.clone());
        rank_order.order_by(column, direction);
    }
}

/// A parent's total as the statement returned it, and its page's rows with their ranks.
type ParentRows<M> = (u64, Vec<(i64, M)>);

/// A parent's page from its rows with their ranks. Ranks number the rows in the statement's order, which is the
/// page's order read from its far end when paging backward.
fn page_of_ranked<M>(
    mut rows: Vec<(i64, M)>,
    cursor_of: &impl Fn(&M) -> CursorKey,
    page: &PageRequest,
    total: Total,
) -> Page<M> {
    rows.sort_by_key(|(rank, _)| *rank);
    let rows = rows.into_iter().map(|(_, row)| (cursor_of(&row), row)).collect();
    Page::assemble(rows, page, total)
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
