//! Lookups by code that mutations and filters of every domain share: a region code's path, and the grids of the
//! caller's scope by code.

use entities::region;
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};

use crate::directory::RegionDirectory;
use crate::error::ApiError;

/// The materialized path of the region with `code`, looked up without scope: callers only ever get rows
/// that also pass their own scope predicate, so this reveals nothing.
pub async fn path_of_code(
    db: &DatabaseConnection,
    regions: &RegionDirectory,
    code: &str,
) -> Result<Option<String>, ApiError> {
    Ok(regions.find(db, code).await?.map(|region| region.path))
}

/// The grid with `code` if it lies in the scope of `access`, for mutations that attach a row to a grid;
/// otherwise `BAD_USER_INPUT` naming `field` (the same answer whether the grid is absent or out of scope).
pub async fn grid_in_scope<C: sea_orm::ConnectionTrait>(
    conn: &C,
    access: &crate::auth::viewer::Access,
    code: &str,
    field: &str,
) -> Result<region::Model, ApiError> {
    let code = crate::validate::code(field, code)?;
    grids_in_scope(conn, access, [code])
        .await?
        .remove(code)
        .ok_or_else(|| ApiError::bad_input(field, "no grid with this code in your scope"))
}

/// The grids among `codes` that lie in the scope of `access`, by their (trimmed) code, in one statement: codes
/// that are absent, not grids or out of scope are simply missing from the map, for the caller to report.
pub async fn grids_in_scope<C: sea_orm::ConnectionTrait>(
    conn: &C,
    access: &crate::auth::viewer::Access,
    codes: impl IntoIterator<Item = &str>,
) -> Result<std::collections::HashMap<String, region::Model>, ApiError> {
    let mut codes: Vec<&str> = codes.into_iter().map(str::trim).collect();
    codes.sort_unstable();
    codes.dedup();
    let grids = crate::scope::read::<region::Entity>(access)
        .filter(region::Column::Code.is_in(codes))
        .filter(region::Column::Level.eq(region::RegionLevel::Grid))
        .all(conn)
        .await?;
    Ok(grids.into_iter().map(|grid| (grid.code.clone(), grid)).collect())
}
