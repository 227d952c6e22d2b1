//! Keyset pages ordered by a computed value: a count (a team's members) or a column of a related row (a team
//! member's grid code). The value is selected beside the row as `gg_sort`, the page is cut by (value, id) like
//! `pagination::fetch_sorted_page` does for plain columns, so deep pages stay as cheap as the first one.

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, Order, QueryFilter, QueryResult,
    QueryTrait, Select,
};

use crate::error::ApiError;
use crate::pagination::{CursorKey, Page, PageRequest, Total};

/// Name of the selected sort value.
pub const SORT_VALUE: &str = "gg_sort";

/// A computed sort value: the SQL expression, its direction, and how to read it back from [`SORT_VALUE`].
pub struct ExprOrdering {
    pub expr: Expr,
    pub descending: bool,
    pub read: fn(&QueryResult) -> Result<CursorKey, DbErr>,
}

/// Reads [`SORT_VALUE`] as text.
pub fn read_text(row: &QueryResult) -> Result<CursorKey, DbErr> {
    Ok(CursorKey::Text(row.try_get("", SORT_VALUE)?))
}

/// Reads [`SORT_VALUE`] as an integer.
pub fn read_int(row: &QueryResult) -> Result<CursorKey, DbErr> {
    Ok(CursorKey::Int(row.try_get("", SORT_VALUE)?))
}

/// The SQL value of a cursor's sort value; `None` for a nested cursor, which no ordering produces.
pub fn cursor_value(key: CursorKey) -> Option<sea_orm::Value> {
    match key {
        CursorKey::Int(n) => Some(n.into()),
        CursorKey::Text(s) => Some(s.into()),
        CursorKey::Date(d) => Some(d.into()),
        CursorKey::Instant(t) => Some(t.into()),
        CursorKey::Sorted(..) => None,
    }
}

/// The error for a cursor that another ordering produced.
pub fn foreign_cursor(argument: &str) -> ApiError {
    ApiError::bad_input(argument, "a cursor of another ordering; keep `orderBy` while paging")
}

/// Rows strictly later (`later == true`) or earlier than `cursor` in the presentation order of `sort`
/// (`descending`), ties broken by `id` in the same direction. `argument` names the cursor in errors.
pub fn beyond_cursor(
    sort: Expr,
    id: Expr,
    descending: bool,
    cursor: CursorKey,
    later: bool,
    argument: &str,
) -> Result<Condition, ApiError> {
    let CursorKey::Sorted(value, cursor_id) = cursor else {
        return Err(foreign_cursor(argument));
    };
    let value = cursor_value(*value).ok_or_else(|| foreign_cursor(argument))?;
    let ascending_side = later != descending;
    Ok(if ascending_side {
        Condition::any()
            .add(sort.clone().gt(value.clone()))
            .add(Condition::all().add(sort.eq(value)).add(id.gt(cursor_id)))
    } else {
        Condition::any()
            .add(sort.clone().lt(value.clone()))
            .add(Condition::all().add(sort.eq(value)).add(id.lt(cursor_id)))
    })
}

/// One page of `select` (already filtered and scoped) ordered by `ordering`, ties broken by `id_column`. One
/// statement, which also counts the total when the caller reads `totalCount`.
pub async fn fetch_page_by_expr<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    ordering: ExprOrdering,
    id_column: E::Column,
    id_of: fn(&E::Model) -> i64,
    page: &PageRequest,
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let total = Total::Deferred(Box::new(select.clone().into_query()));
    let ExprOrdering { expr, descending, read } = ordering;
    let id = || Expr::col(id_column.as_column_ref());
    let mut select = select;
    if let Some(after) = page.after.clone() {
        select = select.filter(beyond_cursor(expr.clone(), id(), descending, after, true, "after")?);
    }
    if let Some(before) = page.before.clone() {
        select = select.filter(beyond_cursor(expr.clone(), id(), descending, before, false, "before")?);
    }
    let order = if descending != page.backward { Order::Desc } else { Order::Asc };
    let mut statement = select.into_query();
    statement
        .expr_as(expr.clone(), Alias::new(SORT_VALUE))
        .order_by_expr(expr, order.clone())
        .order_by_expr(id(), order)
        .limit(page.limit + 1);
    let (found, total) = crate::pagination::page_rows(db, statement, total, page).await?;
    let mut rows = Vec::new();
    for row in found {
        let model = E::Model::from_query_result(&row, "")?;
        let key = CursorKey::Sorted(Box::new(read(&row)?), id_of(&model));
        rows.push((key, model));
    }
    let has_more = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    if page.backward {
        rows.reverse();
    }
    let (has_previous_page, has_next_page) =
        if page.backward { (has_more, page.before.is_some()) } else { (page.after.is_some(), has_more) };
    Ok(Page { rows, has_previous_page, has_next_page, total })
}
