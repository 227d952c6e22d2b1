//! Batched, scoped loading of volunteers.

use std::sync::Arc;

use entities::{service_record, volunteer, volunteer_team};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};

use super::nested::{VolunteerListArgs, VolunteersByParent};

use super::service::{
    Period, ServiceMinutesByVolunteer, ServiceRecord, ServiceRecordArgs, ServiceRecordConnection,
    ServiceRecordsByVolunteer,
};
use super::teams::{
    Badge, BadgesByVolunteer, MemberCountsByTeam, MembershipsByVolunteer, TeamMembership, VolunteerTeam,
};
use super::types::Volunteer;
use crate::auth::{Action, Resource, Viewer};
use crate::by_id::{RowsById, everything};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched};
use crate::pagination::{NestedKey, Page};
use crate::request::loader_error;

/// The volunteers under a region or in a team, for `Region.volunteers` and `VolunteerTeam.members`.
pub use super::nested::{VolunteerParent, volunteers_under};

/// The volunteer loaders of one request.
pub struct VolunteerLoaders {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    /// Volunteers by id (a service record's volunteer), with the companion that reads them in a page.
    pub by_id: RowsById<volunteer::Entity>,
    service_records: RequestLoader<ServiceRecordsByVolunteer>,
    memberships: RequestLoader<MembershipsByVolunteer>,
    badges: RequestLoader<BadgesByVolunteer>,
    minutes: RequestLoader<ServiceMinutesByVolunteer>,
    by_parent: RequestLoader<VolunteersByParent>,
    member_counts: RequestLoader<MemberCountsByTeam>,
}

impl VolunteerLoaders {
    /// Turns the request-long caches of these loaders on or off. Mutations turn them off: a change must be
    /// visible to the fields resolved after it, in the same request.
    pub fn set_caching(&self, on: bool) {
        self.by_id.set_caching(on);
        self.service_records.enable_all_cache(on);
        self.memberships.enable_all_cache(on);
        self.badges.enable_all_cache(on);
        self.minutes.enable_all_cache(on);
        self.by_parent.enable_all_cache(on);
        self.member_counts.enable_all_cache(on);
    }

    pub fn new(db: DatabaseConnection, viewer: Arc<Viewer>) -> Self {
        let by_id = RowsById::new(
            db.clone(),
            viewer.clone(),
            Resource::Volunteer,
            everything,
            |row: &volunteer::Model| row.id,
        );
        let service_records = batched(ServiceRecordsByVolunteer { db: db.clone(), viewer: viewer.clone() });
        let memberships = batched(MembershipsByVolunteer { db: db.clone(), viewer: viewer.clone() });
        let badges = batched(BadgesByVolunteer { db: db.clone(), viewer: viewer.clone() });
        let minutes = batched(ServiceMinutesByVolunteer { db: db.clone(), viewer: viewer.clone() });
        let by_parent = batched(VolunteersByParent { db: db.clone(), viewer: viewer.clone() });
        let member_counts = batched(MemberCountsByTeam { db: db.clone(), viewer: viewer.clone() });
        Self { db, viewer, by_id, service_records, memberships, badges, minutes, by_parent, member_counts }
    }

    /// A volunteer by id; `None` when absent or out of scope.
    pub async fn volunteer_by_id(&self, id: i64) -> ApiResult<Option<Volunteer>> {
        let access = self.viewer.authorize(&self.db, Resource::Volunteer, Action::Read).await?;
        let row = self.by_id.load(id).await?;
        Ok(row.map(|row| Volunteer { row, access }))
    }

    /// One page of a volunteer's service records, batched with the other volunteers on the page.
    pub async fn service_records_of(
        &self,
        volunteer_id: i64,
        args: ServiceRecordArgs,
    ) -> ApiResult<ServiceRecordConnection> {
        let key = NestedKey { parent: volunteer_id, args };
        let page =
            self.service_records.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(ServiceRecordConnection::from_page(page, |row| ServiceRecord { row }))
    }

    /// Minutes of service a volunteer gave in a period (in your scope).
    pub async fn service_minutes_of(&self, volunteer_id: i64, period: Period) -> ApiResult<i64> {
        let key = NestedKey { parent: volunteer_id, args: period };
        Ok(self.minutes.load_one(key).await.map_err(loader_error)?.unwrap_or(0))
    }

    /// The teams a volunteer belongs to.
    pub async fn teams_of(&self, volunteer_id: i64) -> ApiResult<Vec<TeamMembership>> {
        let rows = self.memberships.load_one(volunteer_id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().map(|(membership, team)| TeamMembership { team, membership }).collect())
    }

    /// The badges a volunteer carries.
    pub async fn badges_of(&self, volunteer_id: i64) -> ApiResult<Vec<Badge>> {
        let rows = self.badges.load_one(volunteer_id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| Badge { row }).collect())
    }

    /// A service record by id; `None` when absent or out of scope.
    pub async fn service_record_by_id(&self, id: i64) -> ApiResult<Option<ServiceRecord>> {
        let access = self.viewer.authorize(&self.db, Resource::ServiceRecord, Action::Read).await?;
        let row = crate::scope::read::<service_record::Entity>(&access)
            .filter(service_record::Column::Id.eq(id))
            .one(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| ServiceRecord { row }))
    }

    /// One page of the volunteers under a region or in a team (in your scope), batched with the pages of the
    /// other parents asked for with the same arguments.
    pub async fn volunteers_under(
        &self,
        parent_id: i64,
        args: VolunteerListArgs,
    ) -> ApiResult<Page<volunteer::Model>> {
        let key = NestedKey { parent: parent_id, args };
        match self.by_parent.load_one(key).await.map_err(loader_error)? {
            Some(Ok(page)) => Ok(page),
            Some(Err(err)) => Err(loader_error(err)),
            None => Ok(Page::empty()),
        }
    }

    /// Members of a team in your scope.
    pub async fn member_count_of(&self, team_id: i64) -> ApiResult<i64> {
        Ok(self.member_counts.load_one(team_id).await.map_err(loader_error)?.unwrap_or(0))
    }

    /// A volunteer team by id; `None` when absent or when its region is outside your scope.
    pub async fn team_by_id(&self, id: i64) -> ApiResult<Option<VolunteerTeam>> {
        self.team_where(volunteer_team::Column::Id.eq(id)).await
    }

    /// A volunteer team by code; `None` when absent or when its region is outside your scope.
    pub async fn team_by_code(&self, code: &str) -> ApiResult<Option<VolunteerTeam>> {
        self.team_where(volunteer_team::Column::Code.eq(code.trim())).await
    }

    async fn team_where(&self, condition: sea_orm::sea_query::Expr) -> ApiResult<Option<VolunteerTeam>> {
        let access = self.viewer.authorize(&self.db, Resource::Volunteer, Action::Read).await?;
        let row = crate::scope::read::<volunteer_team::Entity>(&access)
            .filter(condition)
            .one(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| VolunteerTeam { row }))
    }
}
