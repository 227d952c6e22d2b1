//! Batched, scoped loading of disputes and what hangs off them: the rows a page's fields ask for come in one
//! statement per kind, whatever the page size.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entities::{
    dispute, dispute_event, dispute_party, dispute_vessel, fishing_vessel, grid_team_member, mediation_boat,
    mediator,
};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, Order, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, RelationTrait,
};

use super::types::{
    Dispute, DisputeConnection, DisputeEvent, DisputeEventConnection, DisputeParty, FishingVessel,
    MediationBoat, Mediator,
};
use crate::auth::{Action, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched};
use crate::pagination::{
    CursorKey, NestedKey, Nesting, Page, PageRequest, Ranking, between_cursors, fetch_ranked_pages,
    group_by_args, load_nested_pages,
};
use crate::regions::types::GridTeamMember;
use crate::request::loader_error;
use crate::scope::Scoped;

/// The arguments of `Dispute.events`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisputeEventArgs {
    pub page: PageRequest,
}

/// Rows of `E` by id, among those the caller may read as `resource` (the stability domain loads its rows by id
/// through it too).
pub struct ById<E: EntityTrait> {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    resource: Resource,
    id_of: fn(&E::Model) -> i64,
}

impl<E> Loader<i64> for ById<E>
where
    E: Scoped,
    E::Model: FromQueryResult + Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, self.resource, Action::Read).await?;
        let id = Expr::col((E::default(), sea_orm::sea_query::Alias::new("id")));
        let rows = crate::scope::read::<E>(&access)
            .filter(id.is_in(keys.iter().copied()))
            .into_model::<E::Model>()
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|row| ((self.id_of)(&row), row)).collect())
    }
}

/// The parties of each dispute.
pub struct PartiesByDispute {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<i64> for PartiesByDispute {
    type Value = Vec<dispute_party::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Dispute, Action::Read).await?;
        let rows = crate::scope::read_among::<dispute_party::Entity>(&access, keys)
            .filter(dispute_party::Column::DisputeId.is_in(keys.iter().copied()))
            .order_by_asc(dispute_party::Column::Id)
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        let mut grouped: HashMap<i64, Vec<dispute_party::Model>> = HashMap::new();
        for row in rows {
            grouped.entry(row.dispute_id).or_default().push(row);
        }
        Ok(grouped)
    }
}

/// The vessels involved in each dispute.
pub struct VesselsByDispute {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<i64> for VesselsByDispute {
    type Value = Vec<fishing_vessel::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Vessel, Action::Read).await?;
        let links = crate::scope::read_among::<dispute_vessel::Entity>(&access, keys)
            .filter(dispute_vessel::Column::DisputeId.is_in(keys.iter().copied()))
            .find_also_related(fishing_vessel::Entity)
            .filter(crate::scope::condition::<fishing_vessel::Entity>(&access))
            .order_by_asc(dispute_vessel::Column::Id)
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        let mut grouped: HashMap<i64, Vec<fishing_vessel::Model>> = HashMap::new();
        for (link, vessel) in links {
            if let Some(vessel) = vessel {
                grouped.entry(link.dispute_id).or_default().push(vessel);
            }
        }
        Ok(grouped)
    }
}

/// A page of events per dispute.
pub struct EventsByDispute {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<NestedKey<DisputeEventArgs>> for EventsByDispute {
    type Value = Page<dispute_event::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<DisputeEventArgs>],
    ) -> Result<HashMap<NestedKey<DisputeEventArgs>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Dispute, Action::Read).await?;
        let select_for = |_: &DisputeEventArgs| crate::scope::read::<dispute_event::Entity>(&access);
        let nesting = || Nesting {
            parent: dispute_event::Column::DisputeId,
            key: dispute_event::Column::Id,
            key_of: |row: &dispute_event::Model| row.id,
        };
        Ok(load_nested_pages(&self.db, keys, |args| &args.page, select_for, nesting).await?)
    }
}

/// A page of disputes per vessel, newest first.
pub struct DisputesByVessel {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<NestedKey<PageRequest>> for DisputesByVessel {
    type Value = Page<dispute::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<PageRequest>],
    ) -> Result<HashMap<NestedKey<PageRequest>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Dispute, Action::Read).await?;
        let mut loaded = HashMap::new();
        for (page, vessels) in group_by_args(keys) {
            let inner = crate::scope::read::<dispute::Entity>(&access)
                .join(JoinType::InnerJoin, dispute_vessel::Relation::Dispute.def().rev())
                .into_query();
            let parent = (dispute_vessel::Entity, dispute_vessel::Column::VesselId).into_column_ref();
            let mut pages = newest_first_pages(&self.db, inner, parent, &vessels, page).await?;
            for vessel in vessels {
                let found = pages.remove(&vessel).unwrap_or_else(Page::empty);
                loaded.insert(NestedKey { parent: vessel, args: page.clone() }, found);
            }
        }
        Ok(loaded)
    }
}

/// A page of the disputes `inner` reads for each of `parents` (the value of `parent` in its rows), newest first
/// (the id descends, so "after" a cursor means a smaller id), in one statement.
async fn newest_first_pages(
    db: &DatabaseConnection,
    inner: sea_orm::sea_query::SelectStatement,
    parent: sea_orm::sea_query::ColumnRef,
    parents: &[i64],
    page: &PageRequest,
) -> Result<HashMap<i64, Page<dispute::Model>>, ApiError> {
    let ordering = crate::pagination::Ordering::<dispute::Entity> {
        column: dispute::Column::Id,
        descending: true,
        value_of: |row: &dispute::Model| CursorKey::Int(row.id),
    };
    let ranking = Ranking {
        parent,
        order: vec![((dispute::Entity, dispute::Column::Id).into_column_ref(), Order::Desc)],
        in_page: between_cursors(Some(&ordering), Expr::col((dispute::Entity, dispute::Column::Id)), page)?,
        cursor_of: |row: &dispute::Model| CursorKey::Sorted(Box::new(CursorKey::Int(row.id)), row.id),
    };
    Ok(fetch_ranked_pages(db, inner, ranking, parents, page).await?)
}

/// What a page of a region's disputes is asked with: open or finished ones only, and the page.
pub type RegionDisputesArgs = (Option<bool>, PageRequest);

/// The disputes reported in each region or below it, a page per region, newest first, in one statement.
pub struct DisputesByRegion {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<NestedKey<RegionDisputesArgs>> for DisputesByRegion {
    type Value = Page<dispute::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<RegionDisputesArgs>],
    ) -> Result<HashMap<NestedKey<RegionDisputesArgs>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Dispute, Action::Read).await?;
        let mut loaded = HashMap::new();
        for (args, regions) in group_by_args(keys) {
            let (open, page) = args;
            let mut select = crate::scope::read::<dispute::Entity>(&access);
            if let Some(open) = open {
                let open_states = dispute::Column::State.is_in(super::filter::OPEN_STATES);
                select = select.filter(if *open { open_states } else { open_states.not() });
            }
            let mut inner = select.into_query();
            let parent = crate::scope::join_region_ancestors(
                &mut inner,
                (dispute::Entity, dispute::Column::GridId).into_column_ref(),
            );
            let mut pages = newest_first_pages(&self.db, inner, parent, &regions, page).await?;
            for region in regions {
                let found = pages.remove(&region).unwrap_or_else(Page::empty);
                loaded.insert(NestedKey { parent: region, args: args.clone() }, found);
            }
        }
        Ok(loaded)
    }
}

/// The dispute loaders of one request.
pub struct DisputeLoaders {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    disputes: RequestLoader<ById<dispute::Entity>>,
    mediators: RequestLoader<ById<mediator::Entity>>,
    boats: RequestLoader<ById<mediation_boat::Entity>>,
    vessels: RequestLoader<ById<fishing_vessel::Entity>>,
    grid_workers: RequestLoader<ById<grid_team_member::Entity>>,
    parties: RequestLoader<PartiesByDispute>,
    dispute_vessels: RequestLoader<VesselsByDispute>,
    events: RequestLoader<EventsByDispute>,
    vessel_disputes: RequestLoader<DisputesByVessel>,
    region_disputes: RequestLoader<DisputesByRegion>,
}

/// A batched [`ById`] loader of `E` read as `resource`.
pub fn by_id<E>(
    db: &DatabaseConnection,
    viewer: &Arc<Viewer>,
    resource: Resource,
    id_of: fn(&E::Model) -> i64,
) -> RequestLoader<ById<E>>
where
    E: Scoped,
    E::Model: FromQueryResult + Clone + Send + Sync + 'static,
{
    batched(ById { db: db.clone(), viewer: viewer.clone(), resource, id_of })
}

impl DisputeLoaders {
    pub fn new(db: DatabaseConnection, viewer: Arc<Viewer>) -> Self {
        Self {
            disputes: by_id(&db, &viewer, Resource::Dispute, |row: &dispute::Model| row.id),
            mediators: by_id(&db, &viewer, Resource::Mediator, |row: &mediator::Model| row.id),
            boats: by_id(&db, &viewer, Resource::Mediator, |row: &mediation_boat::Model| row.id),
            vessels: by_id(&db, &viewer, Resource::Vessel, |row: &fishing_vessel::Model| row.id),
            grid_workers: by_id(&db, &viewer, Resource::GridTeam, |row: &grid_team_member::Model| row.id),
            parties: batched(PartiesByDispute { db: db.clone(), viewer: viewer.clone() }),
            dispute_vessels: batched(VesselsByDispute { db: db.clone(), viewer: viewer.clone() }),
            events: batched(EventsByDispute { db: db.clone(), viewer: viewer.clone() }),
            vessel_disputes: batched(DisputesByVessel { db: db.clone(), viewer: viewer.clone() }),
            region_disputes: batched(DisputesByRegion { db: db.clone(), viewer: viewer.clone() }),
            db,
            viewer,
        }
    }

    /// Turns the request-long caches on or off (mutations turn them off).
    pub fn set_caching(&self, on: bool) {
        self.disputes.enable_all_cache(on);
        self.mediators.enable_all_cache(on);
        self.boats.enable_all_cache(on);
        self.vessels.enable_all_cache(on);
        self.grid_workers.enable_all_cache(on);
        self.parties.enable_all_cache(on);
        self.dispute_vessels.enable_all_cache(on);
        self.events.enable_all_cache(on);
        self.vessel_disputes.enable_all_cache(on);
        self.region_disputes.enable_all_cache(on);
    }

    async fn access(&self, resource: Resource) -> Result<crate::auth::viewer::Access, ApiError> {
        self.viewer.authorize(&self.db, resource, Action::Read).await
    }

    /// A dispute by id; `None` when absent or out of scope.
    pub async fn dispute_by_id(&self, id: i64) -> ApiResult<Option<Dispute>> {
        let access = self.access(Resource::Dispute).await?;
        let row = self.disputes.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| Dispute { row, access }))
    }

    /// A mediator by id; `None` when absent or out of scope.
    pub async fn mediator_by_id(&self, id: i64) -> ApiResult<Option<Mediator>> {
        let access = self.access(Resource::Mediator).await?;
        let row = self.mediators.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| Mediator { row, access }))
    }

    /// A mediation boat by id; `None` when absent or out of scope.
    pub async fn boat_by_id(&self, id: i64) -> ApiResult<Option<MediationBoat>> {
        let access = self.access(Resource::Mediator).await?;
        let row = self.boats.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| MediationBoat { row, access }))
    }

    /// A fishing vessel by id; `None` when absent or out of scope.
    pub async fn vessel_by_id(&self, id: i64) -> ApiResult<Option<FishingVessel>> {
        let access = self.access(Resource::Vessel).await?;
        let row = self.vessels.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| FishingVessel { row, access }))
    }

    /// The grid team member linked to a vessel (定人联船); `None` when absent or out of scope.
    pub async fn grid_worker_by_id(&self, id: i64) -> ApiResult<Option<GridTeamMember>> {
        let row = self.grid_workers.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| GridTeamMember { row }))
    }

    /// The parties of a dispute.
    pub async fn parties_of(&self, dispute_id: i64) -> ApiResult<Vec<DisputeParty>> {
        let access = self.access(Resource::Dispute).await?;
        let rows = self.parties.load_one(dispute_id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| DisputeParty { row, access: access.clone() }).collect())
    }

    /// The vessels involved in a dispute.
    pub async fn vessels_of(&self, dispute_id: i64) -> ApiResult<Vec<FishingVessel>> {
        let access = self.access(Resource::Vessel).await?;
        let rows = self.dispute_vessels.load_one(dispute_id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| FishingVessel { row, access: access.clone() }).collect())
    }

    /// One page of a dispute's events.
    pub async fn events_of(
        &self,
        dispute_id: i64,
        args: DisputeEventArgs,
    ) -> ApiResult<DisputeEventConnection> {
        let key = NestedKey { parent: dispute_id, args };
        let page = self.events.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(DisputeEventConnection::from_page(page, |row| DisputeEvent { row }))
    }

    /// One page of the disputes reported in a region or below it, newest first.
    pub async fn disputes_of_region(
        &self,
        region_id: i64,
        open: Option<bool>,
        page: PageRequest,
    ) -> ApiResult<DisputeConnection> {
        let access = self.access(Resource::Dispute).await?;
        let key = NestedKey { parent: region_id, args: (open, page) };
        let page =
            self.region_disputes.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(DisputeConnection::from_page(page, |row| Dispute { row, access: access.clone() }))
    }

    /// One page of the disputes a vessel was involved in.
    pub async fn disputes_of_vessel(
        &self,
        vessel_id: i64,
        page: PageRequest,
    ) -> ApiResult<DisputeConnection> {
        let access = self.access(Resource::Dispute).await?;
        let key = NestedKey { parent: vessel_id, args: page };
        let page =
            self.vessel_disputes.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(DisputeConnection::from_page(page, |row| Dispute { row, access: access.clone() }))
    }
}
