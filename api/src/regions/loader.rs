//! Batched, scoped loading of regions and grid teams. Each loader asks the policy for the caller's access and
//! puts the scope predicate into its one `IN (…)` query, so no path through the graph can reach a row outside
//! the caller's subtree.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entities::{grid_team_member, region};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder};

use super::counts::{CountsByRegion, RegionCount};
use super::types::{GridTeamMember, Region};
use crate::auth::{Action, Resource, Viewer};
use crate::by_id::{RowsById, everything};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched};
use crate::request::loader_error;

/// Shared state of the region loaders.
#[derive(Clone)]
pub struct RegionSource {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

/// Regions by code.
pub struct RegionByCode(RegionSource);
/// Children by parent id.
pub struct ChildrenByParent(RegionSource);
/// Team members by grid id.
pub struct TeamByGrid(RegionSource);

impl Loader<String> for RegionByCode {
    type Value = region::Model;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let access = self.0.viewer.authorize(&self.0.db, Resource::Region, Action::Read).await?;
        let rows = crate::scope::read::<region::Entity>(&access)
            .filter(region::Column::Code.is_in(keys.iter().cloned()))
            .all(&self.0.db)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|row| (row.code.clone(), row)).collect())
    }
}

impl Loader<i64> for ChildrenByParent {
    type Value = Vec<region::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.0.viewer.authorize(&self.0.db, Resource::Region, Action::Read).await?;
        let rows = crate::scope::read::<region::Entity>(&access)
            .filter(region::Column::ParentId.is_in(keys.iter().copied()))
            .order_by_asc(region::Column::Code)
            .all(&self.0.db)
            .await
            .map_err(ApiError::from)?;
        let mut grouped: HashMap<i64, Vec<region::Model>> = HashMap::new();
        for row in rows {
            if let Some(parent_id) = row.parent_id {
                grouped.entry(parent_id).or_default().push(row);
            }
        }
        Ok(grouped)
    }
}

impl Loader<i64> for TeamByGrid {
    type Value = Vec<grid_team_member::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.0.viewer.authorize(&self.0.db, Resource::GridTeam, Action::Read).await?;
        let rows = crate::scope::read::<grid_team_member::Entity>(&access)
            .filter(grid_team_member::Column::GridId.is_in(keys.iter().copied()))
            .order_by_asc(grid_team_member::Column::Id)
            .all(&self.0.db)
            .await
            .map_err(ApiError::from)?;
        let mut grouped: HashMap<i64, Vec<grid_team_member::Model>> = HashMap::new();
        for row in rows {
            grouped.entry(row.grid_id).or_default().push(row);
        }
        Ok(grouped)
    }
}

/// The region loaders of one request.
pub struct RegionLoaders {
    source: RegionSource,
    /// Regions by id (a row's grid), with the companion that reads them in a page.
    pub by_id: RowsById<region::Entity>,
    by_code: RequestLoader<RegionByCode>,
    children: RequestLoader<ChildrenByParent>,
    team: RequestLoader<TeamByGrid>,
    counts: RequestLoader<CountsByRegion>,
}

impl RegionLoaders {
    /// Turns the request-long caches of these loaders on or off. Mutations turn them off: a change must be
    /// visible to the fields resolved after it, in the same request.
    pub fn set_caching(&self, on: bool) {
        self.by_id.set_caching(on);
        self.by_code.enable_all_cache(on);
        self.children.enable_all_cache(on);
        self.team.enable_all_cache(on);
        self.counts.enable_all_cache(on);
    }

    pub fn new(db: DatabaseConnection, viewer: Arc<Viewer>) -> Self {
        let source = RegionSource { db, viewer };
        Self {
            by_id: RowsById::new(
                source.db.clone(),
                source.viewer.clone(),
                Resource::Region,
                everything,
                |row: &region::Model| row.id,
            ),
            by_code: batched(RegionByCode(source.clone())),
            children: batched(ChildrenByParent(source.clone())),
            team: batched(TeamByGrid(source.clone())),
            counts: batched(CountsByRegion { db: source.db.clone(), viewer: source.viewer.clone() }),
            source,
        }
    }

    /// A count over the region's subtree, in the caller's scope.
    pub async fn count_under(&self, region_id: i64, kind: RegionCount) -> ApiResult<i64> {
        match self.counts.load_one((region_id, kind)).await.map_err(loader_error)? {
            Some(Ok(n)) => Ok(n),
            Some(Err(err)) => Err(loader_error(err)),
            None => Ok(0),
        }
    }

    /// A region by id; `None` when absent or out of scope.
    pub async fn region_by_id(&self, id: i64) -> ApiResult<Option<Region>> {
        Ok(self.by_id.load(id).await?.map(Region))
    }

    /// A region by code; `None` when absent or out of scope.
    pub async fn region_by_code(&self, code: &str) -> ApiResult<Option<Region>> {
        Ok(self.by_code.load_one(code.to_owned()).await.map_err(loader_error)?.map(Region))
    }

    /// A region by code, read at once in its own statement rather than in a batch: for a root field that no
    /// sibling could join. Nothing else in the request asks the loader for that code (the ancestors a region
    /// lists exclude itself), so the row is not handed to its cache.
    pub async fn read_by_code(&self, code: &str) -> ApiResult<Option<Region>> {
        let access = self.source.viewer.authorize(&self.source.db, Resource::Region, Action::Read).await?;
        let row = crate::scope::read::<region::Entity>(&access)
            .filter(region::Column::Code.eq(code))
            .one(&self.source.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(Region))
    }

    /// The regions with these codes that are in scope, top-down.
    pub async fn regions_by_codes(&self, codes: Vec<String>) -> ApiResult<Vec<Region>> {
        let found = self.by_code.load_many(codes.iter().cloned()).await.map_err(loader_error)?;
        let mut rows: Vec<region::Model> = found.into_values().collect();
        rows.sort_by_key(|row| row.depth);
        Ok(rows.into_iter().map(Region).collect())
    }

    /// Children of a region, in scope, ordered by code.
    pub async fn children_of(&self, parent_id: i64) -> ApiResult<Vec<Region>> {
        let rows = self.children.load_one(parent_id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().map(Region).collect())
    }

    /// The service team of a grid.
    pub async fn team_of(&self, grid_id: i64) -> ApiResult<Vec<GridTeamMember>> {
        let rows = self.team.load_one(grid_id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| GridTeamMember { row }).collect())
    }

    /// One team member by id, in scope.
    pub async fn team_member_by_id(&self, id: i64) -> ApiResult<Option<GridTeamMember>> {
        let access = self.source.viewer.authorize(&self.source.db, Resource::GridTeam, Action::Read).await?;
        let row = crate::scope::read::<grid_team_member::Entity>(&access)
            .filter(grid_team_member::Column::Id.eq(id))
            .one(&self.source.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| GridTeamMember { row }))
    }
}
