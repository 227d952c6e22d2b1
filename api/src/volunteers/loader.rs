//! Batched, scoped loading of volunteers.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entities::volunteer;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::types::Volunteer;
use crate::auth::{Action, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched};
use crate::request::loader_error;

/// Volunteers by id, within the caller's scope.
pub struct VolunteerById {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<i64> for VolunteerById {
    type Value = volunteer::Model;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Volunteer, Action::Read).await?;
        let rows = volunteer::Entity::find()
            .filter(volunteer::Column::Id.is_in(keys.iter().copied()))
            .filter(access.scope_on(volunteer::Column::RegionId))
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// The volunteer loaders of one request.
pub struct VolunteerLoaders {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    by_id: RequestLoader<VolunteerById>,
}

impl VolunteerLoaders {
    pub fn new(db: DatabaseConnection, viewer: Arc<Viewer>) -> Self {
        let by_id = batched(VolunteerById { db: db.clone(), viewer: viewer.clone() });
        Self { db, viewer, by_id }
    }

    /// A volunteer by id; `None` when absent or out of scope.
    pub async fn volunteer_by_id(&self, id: i64) -> ApiResult<Option<Volunteer>> {
        let access = self.viewer.authorize(&self.db, Resource::Volunteer, Action::Read).await?;
        let row = self.by_id.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| Volunteer { row, access }))
    }
}
