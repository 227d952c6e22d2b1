//! Counts of a region's people over its whole subtree, for a page of regions at once: one grouped statement
//! per kind of count, whatever the regions' levels.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entities::{care_subject, region, volunteer};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, JoinType, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::auth::{Action, Resource, Viewer};
use crate::error::ApiError;

/// What to count under each region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegionCount {
    /// Registered volunteers whose home grid lies in the subtree.
    Volunteers,
    /// Care subjects under active management in the subtree.
    ActiveCareSubjects,
}

/// Counts by (region id, kind), in the caller's scope.
pub struct CountsByRegion {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

impl Loader<(i64, RegionCount)> for CountsByRegion {
    type Value = i64;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[(i64, RegionCount)],
    ) -> Result<HashMap<(i64, RegionCount), i64>, Self::Error> {
        let mut by_kind: HashMap<RegionCount, Vec<i64>> = HashMap::new();
        for (region_id, kind) in keys {
            by_kind.entry(*kind).or_default().push(*region_id);
        }
        let mut counts = HashMap::new();
        for (kind, regions) in by_kind {
            let found = match kind {
                RegionCount::Volunteers => {
                    let access = self.viewer.authorize(&self.db, Resource::Volunteer, Action::Read).await?;
                    let scope = access.scope_on(volunteer::Column::RegionId);
                    count(
                        &self.db,
                        &regions,
                        volunteer::Entity,
                        volunteer::Column::RegionId,
                        volunteer::Column::Id,
                        scope,
                    )
                    .await?
                }
                RegionCount::ActiveCareSubjects => {
                    let access = self.viewer.authorize(&self.db, Resource::CareSubject, Action::Read).await?;
                    let scope = access
                        .scope_on(care_subject::Column::RegionId)
                        .add(care_subject::Column::Status.eq(care_subject::SubjectStatus::Active));
                    count(
                        &self.db,
                        &regions,
                        care_subject::Entity,
                        care_subject::Column::RegionId,
                        care_subject::Column::Id,
                        scope,
                    )
                    .await?
                }
            };
            for region_id in regions {
                counts.insert((region_id, kind), found.get(&region_id).copied().unwrap_or(0));
            }
        }
        Ok(counts)
    }
}

/// `SELECT r.id, COUNT(t.id) FROM region r JOIN region g ON g.path in r's subtree JOIN t ON t.region = g.id
/// WHERE r.id IN (…) AND <condition on t> GROUP BY r.id`.
async fn count<E, C>(
    db: &DatabaseConnection,
    regions: &[i64],
    table: E,
    region_column: C,
    id_column: C,
    condition: Condition,
) -> Result<HashMap<i64, i64>, ApiError>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let (r, g) = (Alias::new("r"), Alias::new("g"));
    let upper = Expr::cust(r#"substr("r"."path", 1, length("r"."path") - 1) || '0'"#);
    let statement = Query::select()
        .expr_as(Expr::col((r.clone(), region::Column::Id)), Alias::new("region_id"))
        .expr_as(Func::count(Expr::col((table, id_column))), Alias::new("n"))
        .from_as(region::Entity, r.clone())
        .join_as(
            JoinType::InnerJoin,
            region::Entity,
            g.clone(),
            Condition::all()
                .add(
                    Expr::col((g.clone(), region::Column::Path))
                        .gte(Expr::col((r.clone(), region::Column::Path))),
                )
                .add(Expr::col((g.clone(), region::Column::Path)).lt(upper)),
        )
        .join(JoinType::InnerJoin, table, Expr::col((table, region_column)).equals((g, region::Column::Id)))
        .and_where(Expr::col((r.clone(), region::Column::Id)).is_in(regions.iter().copied()))
        .cond_where(condition)
        .group_by_col((r, region::Column::Id))
        .to_owned();
    let mut counts = HashMap::new();
    for row in db.query_all(&statement).await? {
        let region_id: i64 = row.try_get("", "region_id")?;
        let n: i64 = row.try_get("", "n")?;
        counts.insert(region_id, n);
    }
    Ok(counts)
}
