//! Counts of a region's people over its whole subtree, for a page of regions at once: one statement for every
//! kind of count asked for, whatever the regions' levels.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entities::{care_subject, region, volunteer};
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait, Func, JoinType, Query, SelectStatement, UnionType,
};
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

impl RegionCount {
    /// How the kind is tagged in the rows of the combined count statement.
    fn tag(self) -> i32 {
        match self {
            RegionCount::Volunteers => 0,
            RegionCount::ActiveCareSubjects => 1,
        }
    }
}

impl Loader<(i64, RegionCount)> for CountsByRegion {
    /// A kind the caller may not read is refused for that kind's keys alone, whatever else the batch holds.
    type Value = Result<i64, Arc<ApiError>>;
    type Error = Arc<ApiError>;

    /// Every kind asked for in one statement (a `UNION ALL` of one grouped count per kind), so that a region's
    /// volunteers and its active care subjects cost one round trip together.
    async fn load(
        &self,
        keys: &[(i64, RegionCount)],
    ) -> Result<HashMap<(i64, RegionCount), Self::Value>, Self::Error> {
        let mut by_kind: HashMap<RegionCount, Vec<i64>> = HashMap::new();
        for (region_id, kind) in keys {
            by_kind.entry(*kind).or_default().push(*region_id);
        }
        let mut statements = Vec::new();
        let mut refused: HashMap<RegionCount, Arc<ApiError>> = HashMap::new();
        for (&kind, regions) in &by_kind {
            let resource = match kind {
                RegionCount::Volunteers => Resource::Volunteer,
                RegionCount::ActiveCareSubjects => Resource::CareSubject,
            };
            let access = match self.viewer.authorize(&self.db, resource, Action::Read).await {
                Ok(access) => access,
                Err(err) => {
                    refused.insert(kind, Arc::new(err));
                    continue;
                }
            };
            statements.push(match kind {
                RegionCount::Volunteers => count_statement(
                    kind,
                    regions,
                    volunteer::Entity,
                    volunteer::Column::RegionId,
                    volunteer::Column::Id,
                    crate::scope::condition::<volunteer::Entity>(&access),
                ),
                RegionCount::ActiveCareSubjects => count_statement(
                    kind,
                    regions,
                    care_subject::Entity,
                    care_subject::Column::RegionId,
                    care_subject::Column::Id,
                    crate::scope::condition::<care_subject::Entity>(&access)
                        .add(care_subject::Column::Status.eq(care_subject::SubjectStatus::Active)),
                ),
            });
        }
        let mut found: HashMap<(i64, i32), i64> = HashMap::new();
        if let Some(mut combined) = statements.pop() {
            for statement in statements {
                combined.union(UnionType::All, statement);
            }
            for row in self.db.query_all(&combined).await.map_err(ApiError::from)? {
                let region_id: i64 = row.try_get("", "region_id").map_err(ApiError::from)?;
                let tag: i32 = row.try_get("", "kind").map_err(ApiError::from)?;
                let n: i64 = row.try_get("", "n").map_err(ApiError::from)?;
                found.insert((region_id, tag), n);
            }
        }
        Ok(keys
            .iter()
            .map(|&(region_id, kind)| {
                let value = match refused.get(&kind) {
                    Some(err) => Err(err.clone()),
                    None => Ok(found.get(&(region_id, kind.tag())).copied().unwrap_or(0)),
                };
                ((region_id, kind), value)
            })
            .collect())
    }
}

/// `SELECT r.id, <kind>, COUNT(t.id) FROM region r JOIN region g ON g.path in r's subtree JOIN t ON t.region = g.id
/// WHERE r.id IN (…) AND <condition on t> GROUP BY r.id`.
fn count_statement<E, C>(
    kind: RegionCount,
    regions: &[i64],
    table: E,
    region_column: C,
    id_column: C,
    condition: Condition,
) -> SelectStatement
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let (r, g) = (Alias::new("r"), Alias::new("g"));
    let upper = Expr::cust(crate::scope::subtree_upper_sql(r#""r"."path""#));
    Query::select()
        .expr_as(Expr::col((r.clone(), region::Column::Id)), Alias::new("region_id"))
        .expr_as(Expr::val(kind.tag()), Alias::new("kind"))
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
        .to_owned()
}
