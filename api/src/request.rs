//! Everything one GraphQL request carries: the caller, the database, and the request's data loaders.
//! Loaders are per request because they apply the caller's scope in their SQL and cache what they load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

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
///
/// Each domain's loaders are made on the request's first use of them: a request reads one or two domains, and
/// making every domain's loaders (about fifty) for each request was measurable on a lookup.
pub struct RequestData {
    pub viewer: Arc<Viewer>,
    pub db: DatabaseConnection,
    /// Where mutations announce their events and subscriptions receive them.
    pub events: EventBus,
    /// Whether the loaders cache what they load for the rest of the request (not for requests that change
    /// data); loaders made after [`RequestData::disable_caching`] start without a cache.
    caching: AtomicBool,
    regions: OnceLock<RegionLoaders>,
    volunteers: OnceLock<VolunteerLoaders>,
    care: OnceLock<CareLoaders>,
    mentoring: OnceLock<MentoringLoaders>,
    legal_aid: OnceLock<LegalAidLoaders>,
    disputes: OnceLock<DisputeLoaders>,
    stability: OnceLock<StabilityLoaders>,
    /// Created on first use: most requests never read the audit trail.
    pub audit_records: OnceLock<crate::audit::query::RecordsLoader>,
    pub audit_record_pages: OnceLock<crate::audit::query::RecordPagesLoader>,
}

/// The accessor of one domain's loaders: made on first use, with the request's caching setting.
macro_rules! domain_loaders {
    ($($field:ident: $loaders:ty),* $(,)?) => {
        impl RequestData {
            $(
                #[doc = concat!("The request's `", stringify!($field), "` loaders, made on first use.")]
                pub fn $field(&self) -> &$loaders {
                    self.$field.get_or_init(|| {
                        let loaders = <$loaders>::new(self.db.clone(), self.viewer.clone());
                        if !self.caching.load(Ordering::Acquire) {
                            loaders.set_caching(false);
                        }
                        loaders
                    })
                }
            )*

            /// Turns off the loaders' request-long caches, for requests that change data: those made already
            /// and those made later.
            pub fn disable_caching(&self) {
                self.caching.store(false, Ordering::Release);
                $(
                    if let Some(loaders) = self.$field.get() {
                        loaders.set_caching(false);
                    }
                )*
            }
        }
    };
}

domain_loaders! {
    regions: RegionLoaders,
    volunteers: VolunteerLoaders,
    care: CareLoaders,
    mentoring: MentoringLoaders,
    legal_aid: LegalAidLoaders,
    disputes: DisputeLoaders,
    stability: StabilityLoaders,
}

impl RequestData {
    pub fn new(db: DatabaseConnection, viewer: Viewer, events: EventBus) -> Self {
        Self {
            caching: AtomicBool::new(true),
            regions: OnceLock::new(),
            volunteers: OnceLock::new(),
            care: OnceLock::new(),
            mentoring: OnceLock::new(),
            legal_aid: OnceLock::new(),
            disputes: OnceLock::new(),
            stability: OnceLock::new(),
            audit_records: OnceLock::new(),
            audit_record_pages: OnceLock::new(),
            viewer: Arc::new(viewer),
            db,
            events,
        }
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
