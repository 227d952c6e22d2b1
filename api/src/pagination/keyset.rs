//! The orders a page can have, and the one predicate that keeps the rows beyond a cursor. Pages are cut by
//! keyset: the rows after (or before) the cursor's position in the order, never by OFFSET, so a deep page costs
//! what the first one does.

use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryResult};

use super::CursorKey;
use crate::error::ApiError;

/// Name under which a computed sort value is selected beside the row.
pub const SORT_VALUE: &str = "gg_sort";

/// A connection's requested order: a sortable column (ties broken by id), as chosen by an `orderBy` argument.
pub struct Ordering<E: EntityTrait> {
    pub column: E::Column,
    pub descending: bool,
    pub value_of: fn(&E::Model) -> CursorKey,
}

/// How a cursor is read back from a fetched row: from the model, or from the row's selected sort value.
type CursorOf<M> = Box<dyn Fn(&QueryResult, &M) -> Result<CursorKey, DbErr> + Send + Sync>;

/// What a page is ordered by: a unique key alone, or a sort value with a unique key breaking ties.
pub struct SortKey<E: EntityTrait> {
    /// The sort value, whether it descends, and whether it must be selected (a computed value).
    pub(super) sort: Option<(Expr, bool, bool)>,
    /// The unique key: the id, or a unique column such as a region's code.
    pub(super) unique: Expr,
    pub(super) cursor_of: CursorOf<E::Model>,
}

impl<E: EntityTrait> SortKey<E> {
    /// By a unique column, ascending; the cursor is its value.
    pub fn unique(column: E::Column, key_of: fn(&E::Model) -> CursorKey) -> Self {
        Self {
            sort: None,
            unique: Expr::col(column.as_column_ref()),
            cursor_of: Box::new(move |_, row| Ok(key_of(row))),
        }
    }

    /// By `ordering` (ties broken by the id), or by the id alone without one.
    pub fn ordered(ordering: Option<Ordering<E>>, id_column: E::Column, id_of: fn(&E::Model) -> i64) -> Self {
        let unique = Expr::col(id_column.as_column_ref());
        match ordering {
            None => {
                Self { sort: None, unique, cursor_of: Box::new(move |_, row| Ok(CursorKey::Int(id_of(row)))) }
            }
            Some(Ordering { column, descending, value_of }) => Self {
                sort: Some((Expr::col(column.as_column_ref()), descending, false)),
                unique,
                cursor_of: Box::new(move |_, row| Ok(CursorKey::Sorted(Box::new(value_of(row)), id_of(row)))),
            },
        }
    }

    /// By a computed value (a count, a related row's column), selected beside the row as [`SORT_VALUE`] and read
    /// back with `read`, ties broken by the id.
    pub fn computed(
        expr: Expr,
        descending: bool,
        read: fn(&QueryResult) -> Result<CursorKey, DbErr>,
        id_column: E::Column,
        id_of: fn(&E::Model) -> i64,
    ) -> Self {
        Self {
            sort: Some((expr, descending, true)),
            unique: Expr::col(id_column.as_column_ref()),
            cursor_of: Box::new(move |row, model| Ok(CursorKey::Sorted(Box::new(read(row)?), id_of(model)))),
        }
    }
}

/// Reads [`SORT_VALUE`] as text.
pub fn read_text(row: &QueryResult) -> Result<CursorKey, DbErr> {
    Ok(CursorKey::Text(row.try_get("", SORT_VALUE)?))
}

/// Reads [`SORT_VALUE`] as an integer.
pub fn read_int(row: &QueryResult) -> Result<CursorKey, DbErr> {
    Ok(CursorKey::Int(row.try_get("", SORT_VALUE)?))
}

/// The error for a cursor that another ordering produced.
pub fn foreign_cursor(argument: &str) -> ApiError {
    ApiError::bad_input(argument, "a cursor of another ordering; keep `orderBy` while paging")
}

/// The rows strictly later (`later`) or earlier than `cursor` in the presentation order: by `sort` (a value and
/// whether it descends) then by `unique`, or by `unique` alone (ascending) when there is no sort value. A cursor
/// that another ordering produced is refused, naming `argument`.
pub fn beyond(
    sort: Option<(Expr, bool)>,
    unique: Expr,
    cursor: CursorKey,
    later: bool,
    argument: &str,
) -> Result<Condition, ApiError> {
    match (sort, cursor) {
        (None, CursorKey::Sorted(..))
        | (Some(_), CursorKey::Int(_) | CursorKey::Text(_) | CursorKey::Date(_) | CursorKey::Instant(_)) => {
            Err(foreign_cursor(argument))
        }
        (None, key) => {
            let value = key.into_value();
            Ok(Condition::all().add(if later { unique.gt(value) } else { unique.lt(value) }))
        }
        (Some((sort, descending)), CursorKey::Sorted(value, id)) => {
            if matches!(*value, CursorKey::Sorted(..)) {
                return Err(foreign_cursor(argument));
            }
            let value = value.into_value();
            Ok(if later != descending {
                Condition::any()
                    .add(sort.clone().gt(value.clone()))
                    .add(Condition::all().add(sort.eq(value)).add(unique.gt(id)))
            } else {
                Condition::any()
                    .add(sort.clone().lt(value.clone()))
                    .add(Condition::all().add(sort.eq(value)).add(unique.lt(id)))
            })
        }
    }
}
