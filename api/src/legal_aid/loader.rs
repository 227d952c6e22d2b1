//! Batched, scoped loading of funds, applications and ledger entries.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entities::{ledger_entry, legal_aid_application, legal_aid_fund};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};

use super::funds::Fund;
use super::types::{LedgerEntry, LedgerEntryConnection, LegalAidApplication};
use crate::auth::{Action, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched};
use crate::pagination::{NestedKey, Nesting, Page, PageRequest, load_nested_pages};
use crate::request::loader_error;

/// Funds by id, among those the caller may see.
pub struct FundById {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<i64> for FundById {
    type Value = legal_aid_fund::Model;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Fund, Action::Read).await?;
        let rows = crate::scope::read::<legal_aid_fund::Entity>(&access)
            .filter(legal_aid_fund::Column::Id.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// Applications by id, within the caller's scope.
pub struct ApplicationById {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<i64> for ApplicationById {
    type Value = legal_aid_application::Model;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Application, Action::Read).await?;
        let rows = crate::scope::read::<legal_aid_application::Entity>(&access)
            .filter(legal_aid_application::Column::Id.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// A page of ledger entries per application, in the caller's scope.
pub struct EntriesByApplication {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<NestedKey<PageRequest>> for EntriesByApplication {
    type Value = Page<ledger_entry::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<PageRequest>],
    ) -> Result<HashMap<NestedKey<PageRequest>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Ledger, Action::Read).await?;
        let select_for = |_: &PageRequest| crate::scope::read::<ledger_entry::Entity>(&access);
        let nesting = || Nesting {
            parent: ledger_entry::Column::ApplicationId,
            key: ledger_entry::Column::Id,
            key_of: |row: &ledger_entry::Model| row.id,
        };
        Ok(load_nested_pages(&self.db, keys, |page| page, select_for, nesting).await?)
    }
}

/// The legal-aid loaders of one request.
pub struct LegalAidLoaders {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    funds: RequestLoader<FundById>,
    applications: RequestLoader<ApplicationById>,
    entries: RequestLoader<EntriesByApplication>,
}

impl LegalAidLoaders {
    /// Turns the request-long caches of these loaders on or off. Mutations turn them off: a change must be
    /// visible to the fields resolved after it, in the same request.
    pub fn set_caching(&self, on: bool) {
        self.funds.enable_all_cache(on);
        self.applications.enable_all_cache(on);
        self.entries.enable_all_cache(on);
    }

    pub fn new(db: DatabaseConnection, viewer: Arc<Viewer>) -> Self {
        Self {
            funds: batched(FundById { db: db.clone(), viewer: viewer.clone() }),
            applications: batched(ApplicationById { db: db.clone(), viewer: viewer.clone() }),
            entries: batched(EntriesByApplication { db: db.clone(), viewer: viewer.clone() }),
            db,
            viewer,
        }
    }

    /// A fund by id; `None` when the caller may not see it.
    pub async fn fund_by_id(&self, id: i64) -> ApiResult<Option<Fund>> {
        let row = self.funds.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| Fund { row }))
    }

    /// An application by id; `None` when absent or out of scope.
    pub async fn application_by_id(&self, id: i64) -> ApiResult<Option<LegalAidApplication>> {
        let access = self.viewer.authorize(&self.db, Resource::Application, Action::Read).await?;
        let row = self.applications.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| LegalAidApplication { row, access }))
    }

    /// One page of an application's ledger entries, batched with the other applications on the page.
    pub async fn entries_of(
        &self,
        application_id: i64,
        page: PageRequest,
    ) -> ApiResult<LedgerEntryConnection> {
        let access = self.viewer.authorize(&self.db, Resource::Ledger, Action::Read).await?;
        let key = NestedKey { parent: application_id, args: page };
        let page = self.entries.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(LedgerEntryConnection::from_page(page, |row| LedgerEntry { row, access: access.clone() }))
    }

    /// A ledger entry by id; `None` when absent or out of scope.
    pub async fn entry_by_id(&self, id: i64) -> ApiResult<Option<LedgerEntry>> {
        let access = self.viewer.authorize(&self.db, Resource::Ledger, Action::Read).await?;
        let row = crate::scope::read::<ledger_entry::Entity>(&access)
            .filter(ledger_entry::Column::Id.eq(id))
            .one(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| LedgerEntry { row, access }))
    }
}
