//! A top-level connection's page: one statement, which also counts the total when the caller reads `totalCount`.

use sea_orm::sea_query::{Alias, Expr, SelectStatement};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, Order, QueryFilter, QueryResult,
    QueryTrait, Select,
};

use super::PageRequest;
use super::companion::{Carried, Companion, wrap};
use super::keyset::{Ordering, SORT_VALUE, SortKey, beyond};
use super::page::{Page, Total, count_of};
use crate::error::ApiError;
use crate::sql::with_literal_limit;

/// Name of the column in which a page statement carries the connection's total.
const TOTAL_COLUMN: &str = "gg_total";

/// Fetches one page of `select` (already filtered and scoped) in the order `sort` gives. One statement, which
/// also counts the total when the caller reads `totalCount` (see [`PageRequest::counting`]).
pub async fn fetch_page<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    sort: SortKey<E>,
    page: &PageRequest,
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    Ok(fetch_page_with(db, select, sort, page, &[]).await?.0)
}

/// [`fetch_page`] carrying nested fields: what `carried` asks for is read in the same statement (see
/// [`super::companion`]) and handed to the fields' loaders before the page is returned.
pub async fn fetch_page_carrying<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    sort: SortKey<E>,
    page: &PageRequest,
    carried: &[&dyn Carried],
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let companions: Vec<Companion> = carried.iter().filter_map(|field| field.companion()).collect();
    let (page, rows) = fetch_page_with(db, select, sort, page, &companions).await?;
    for field in carried {
        field.feed(&rows).await?;
    }
    Ok(page)
}

/// [`fetch_page`] with `companions` read in the same statement; returns the page and the rows as fetched.
async fn fetch_page_with<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    sort: SortKey<E>,
    page: &PageRequest,
    companions: &[Companion],
) -> Result<(Page<E::Model>, Vec<QueryResult>), ApiError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let total = Total::Deferred(Box::new(select.clone().into_query()));
    let SortKey { sort, unique, cursor_of } = sort;
    let by = sort.as_ref().map(|(expr, descending, _)| (expr.clone(), *descending));
    let mut select = select;
    for (cursor, later, argument) in [(&page.after, true, "after"), (&page.before, false, "before")] {
        if let Some(cursor) = cursor.clone() {
            select = select.filter(beyond(by.clone(), unique.clone(), cursor, later, argument)?);
        }
    }
    let descending = by.as_ref().is_some_and(|(_, descending)| *descending) != page.backward;
    let order = if descending { Order::Desc } else { Order::Asc };
    let mut statement = select.into_query();
    // The same order again over the wrapped page's own columns (a computed value by the name it is selected as).
    let mut outer_order = Vec::new();
    if let Some((expr, _, selected)) = sort {
        if selected {
            statement.expr_as(expr.clone(), Alias::new(SORT_VALUE));
            outer_order.push((
                Expr::col((Alias::new(E::default().table_name()), Alias::new(SORT_VALUE))),
                order.clone(),
            ));
        } else {
            outer_order.push((expr.clone(), order.clone()));
        }
        statement.order_by_expr(expr, order.clone());
    }
    outer_order.push((unique.clone(), order.clone()));
    statement.order_by_expr(unique, order).limit(page.limit + 1);
    let (found, total) = page_rows(db, statement, total, page, |statement| {
        if companions.is_empty() { statement } else { wrap::<E>(statement, companions, outer_order) }
    })
    .await?;
    let mut rows = Vec::with_capacity(found.len());
    for row in &found {
        let model = E::Model::from_query_result(row, "")?;
        rows.push((cursor_of(row, &model)?, model));
    }
    Ok((Page::assemble(rows, page, total), found))
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
    fetch_page(db, select, SortKey::ordered(ordering, id_column, id_of), page).await
}

/// A page's id column and how to read it from a row.
pub type IdOf<E> = (<E as EntityTrait>::Column, fn(&<E as EntityTrait>::Model) -> i64);

/// [`fetch_page_in_order`] carrying nested fields (see [`fetch_page_carrying`]).
pub async fn fetch_page_in_order_carrying<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    (id_column, id_of): IdOf<E>,
    ordering: Option<Ordering<E>>,
    page: &PageRequest,
    carried: &[&dyn Carried],
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    fetch_page_carrying(db, select, SortKey::ordered(ordering, id_column, id_of), page, carried).await
}

/// Runs a top-level page statement. When the caller reads `totalCount`, the statement also carries the total
/// as an uncorrelated scalar subquery (both databases evaluate it once, with its own plan), so a first page
/// and its total cost one statement. Returns the rows and what is then known about the total.
async fn page_rows(
    db: &DatabaseConnection,
    mut statement: SelectStatement,
    total: Total,
    page: &PageRequest,
    finish: impl FnOnce(SelectStatement) -> SelectStatement,
) -> Result<(Vec<sea_orm::QueryResult>, Total), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let run = |statement| with_literal_limit(backend, &finish(statement), page.limit + 1);
    let matching = match total {
        Total::Deferred(matching) if page.count_total => matching,
        known_or_unwanted => return Ok((db.query_all_raw(run(statement)).await?, known_or_unwanted)),
    };
    statement.expr_as(Expr::from(count_of(matching.as_ref().clone())), Alias::new(TOTAL_COLUMN));
    let rows = db.query_all_raw(run(statement)).await?;
    let total = match rows.first() {
        Some(row) => Total::Known(u64::try_from(row.try_get::<i64>("", TOTAL_COLUMN)?).unwrap_or(0)),
        // Without a cursor the page holds the first matching rows, so no rows means none match.
        None if page.after.is_none() && page.before.is_none() => Total::Known(0),
        None => Total::Deferred(matching),
    };
    Ok((rows, total))
}
