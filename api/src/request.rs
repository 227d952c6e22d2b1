//! Everything one GraphQL request carries: the caller, the database, and the request's data loaders.
//! Loaders are per request because they apply the caller's scope in their SQL and cache what they load.

use std::sync::Arc;

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::auth::viewer::Access;
use crate::auth::{Action, Resource, Viewer};
use crate::care::loader::CareLoaders;
use crate::disputes::loader::DisputeLoaders;
use crate::error::ApiError;
use crate::events::EventBus;
use crate::legal_aid::loader::LegalAidLoaders;
use crate::mentoring::loader::MentoringLoaders;
use crate::regions::loader::RegionLoaders;
use crate::stability::loader::StabilityLoaders;
use crate::volunteers::loader::VolunteerLoaders;

/// Request-scoped data, attached to each GraphQL request by the HTTP handler.
pub struct RequestData {
    pub viewer: Arc<Viewer>,
    pub db: DatabaseConnection,
    /// Where mutations announce their events and subscriptions receive them.
    pub events: EventBus,
    pub regions: RegionLoaders,
    pub volunteers: VolunteerLoaders,
    pub care: CareLoaders,
    pub mentoring: MentoringLoaders,
    pub legal_aid: LegalAidLoaders,
    pub disputes: DisputeLoaders,
    pub stability: StabilityLoaders,
    /// Created on first use: most requests never read the audit trail.
    pub audit_records: std::sync::OnceLock<crate::audit::query::RecordsLoader>,
    pub audit_record_pages: std::sync::OnceLock<crate::audit::query::RecordPagesLoader>,
}

impl RequestData {
    pub fn new(db: DatabaseConnection, viewer: Viewer, events: EventBus) -> Self {
        let viewer = Arc::new(viewer);
        Self {
            regions: RegionLoaders::new(db.clone(), viewer.clone()),
            volunteers: VolunteerLoaders::new(db.clone(), viewer.clone()),
            care: CareLoaders::new(db.clone(), viewer.clone()),
            mentoring: MentoringLoaders::new(db.clone(), viewer.clone()),
            legal_aid: LegalAidLoaders::new(db.clone(), viewer.clone()),
            disputes: DisputeLoaders::new(db.clone(), viewer.clone()),
            stability: StabilityLoaders::new(db.clone(), viewer.clone()),
            audit_records: std::sync::OnceLock::new(),
            audit_record_pages: std::sync::OnceLock::new(),
            viewer,
            db,
            events,
        }
    }

    /// Turns off the loaders' request-long caches, for requests that change data.
    pub fn disable_caching(&self) {
        self.regions.set_caching(false);
        self.volunteers.set_caching(false);
        self.care.set_caching(false);
        self.mentoring.set_caching(false);
        self.legal_aid.set_caching(false);
        self.disputes.set_caching(false);
        self.stability.set_caching(false);
    }

    /// The request data of the current GraphQL request.
    pub fn of<'a>(ctx: &Context<'a>) -> Result<&'a RequestData, async_graphql::Error> {
        ctx.data::<RequestData>()
    }

    /// Asks the policy whether the caller may perform `action` on `resource`; see [`Viewer::authorize`].
    pub async fn authorize(&self, resource: Resource, action: Action) -> Result<Access, ApiError> {
        self.viewer.authorize(&self.db, resource, action).await
    }
}

/// Turns a loader's shared error into a GraphQL error with its code.
pub fn loader_error(err: Arc<ApiError>) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    err.extend()
}
