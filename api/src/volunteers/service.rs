//! Service records: the volunteer → service records connection and its record type.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, Object};
use entities::service_record;
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};

use crate::auth::viewer::Access;
use crate::auth::{Action, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::node::{NodeType, global_id};
use crate::pagination::{NestedKey, Nesting, Page, PageRequest, load_nested_pages};
use crate::regions::types::Region;
use crate::request::RequestData;
use crate::volunteers::types::Volunteer;

/// What a volunteer did during a service record.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::service_record::ActivityType")]
pub enum ActivityType {
    /// Street and fishing-village patrol, often at night.
    Patrol,
    /// Keeping order at zebra crossings at rush hour.
    Traffic,
    /// Assisting security checks at stations and docks.
    SecurityCheck,
    /// Publicity for public safety and anti-drug campaigns.
    Publicity,
    /// Security at public events.
    EventSecurity,
    /// Visiting people under care.
    CareVisit,
    /// Helping to mediate a dispute.
    Mediation,
}

/// One stint of volunteer service.
pub struct ServiceRecord {
    pub row: service_record::Model,
}

/// One stint of volunteer service: where, when, doing what, for how long.
#[Object]
impl ServiceRecord {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::ServiceRecord, self.row.id)
    }

    /// What the volunteer did.
    async fn activity(&self) -> ActivityType {
        self.row.activity.into()
    }

    /// When the service started (UTC).
    async fn started_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.row.started_at)
    }

    /// Duration in whole minutes.
    async fn minutes(&self) -> i32 {
        self.row.minutes
    }

    /// A remark by the volunteer or coordinator.
    async fn note(&self) -> Option<&str> {
        self.row.note.as_deref()
    }

    /// The grid the service took place in; null if outside your scope.
    async fn grid(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.grid_id).await
    }

    /// The volunteer who served; null if outside your scope.
    async fn volunteer(&self, ctx: &Context<'_>) -> ApiResult<Option<Volunteer>> {
        RequestData::of(ctx)?.volunteers().volunteer_by_id(self.row.volunteer_id).await
    }
}

crate::connection_type!(ServiceRecordConnection, ServiceRecordEdge, ServiceRecord, "service records");

/// The arguments of the nested `serviceRecords` field, as a loader key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceRecordArgs {
    pub page: PageRequest,
    pub from: Option<crate::scalars::Timestamp>,
    pub to: Option<crate::scalars::Timestamp>,
    pub activity: Option<ActivityType>,
}

/// Service records by volunteer, a page per volunteer, in the caller's scope.
pub struct ServiceRecordsByVolunteer {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

impl Loader<NestedKey<ServiceRecordArgs>> for ServiceRecordsByVolunteer {
    type Value = Page<service_record::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<ServiceRecordArgs>],
    ) -> Result<HashMap<NestedKey<ServiceRecordArgs>, Self::Value>, Self::Error> {
        let access: Access = self.viewer.authorize(&self.db, Resource::ServiceRecord, Action::Read).await?;
        let select_for = |args: &ServiceRecordArgs| {
            let mut select = crate::scope::read::<service_record::Entity>(&access);
            if let Some(from) = args.from {
                select = select.filter(service_record::Column::StartedAt.gte(from));
            }
            if let Some(to) = args.to {
                select = select.filter(service_record::Column::StartedAt.lt(to));
            }
            if let Some(activity) = args.activity {
                select = select.filter(
                    service_record::Column::Activity.eq(service_record::ActivityType::from(activity)),
                );
            }
            select
        };
        let nesting = || Nesting {
            parent: service_record::Column::VolunteerId,
            key: service_record::Column::Id,
            key_of: |row: &service_record::Model| row.id,
        };
        Ok(load_nested_pages(&self.db, keys, |args| &args.page, select_for, nesting).await?)
    }
}

/// A period for service totals; open ends are unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub from: Option<crate::scalars::Timestamp>,
    pub to: Option<crate::scalars::Timestamp>,
}

/// Minutes of service per volunteer over a period, summed in the database for a whole page of volunteers.
pub struct ServiceMinutesByVolunteer {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

impl Loader<NestedKey<Period>> for ServiceMinutesByVolunteer {
    type Value = i64;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[NestedKey<Period>]) -> Result<HashMap<NestedKey<Period>, i64>, Self::Error> {
        use sea_orm::QuerySelect;
        use sea_orm::sea_query::{Expr, Func};
        let access: Access = self.viewer.authorize(&self.db, Resource::ServiceRecord, Action::Read).await?;
        let mut totals = HashMap::new();
        for (&period, volunteers) in crate::pagination::group_by_args(keys) {
            let mut select = crate::scope::read::<service_record::Entity>(&access)
                .select_only()
                .column(service_record::Column::VolunteerId)
                .expr(Func::sum(Expr::col(service_record::Column::Minutes)))
                .filter(service_record::Column::VolunteerId.is_in(volunteers.iter().copied()))
                .group_by(service_record::Column::VolunteerId);
            if let Some(from) = period.from {
                select = select.filter(service_record::Column::StartedAt.gte(from));
            }
            if let Some(to) = period.to {
                select = select.filter(service_record::Column::StartedAt.lt(to));
            }
            let sums: Vec<(i64, Option<i64>)> =
                select.into_tuple().all(&self.db).await.map_err(ApiError::from)?;
            let sums: HashMap<i64, i64> = sums.into_iter().map(|(id, sum)| (id, sum.unwrap_or(0))).collect();
            for parent in volunteers {
                totals.insert(NestedKey { parent, args: period }, sums.get(&parent).copied().unwrap_or(0));
            }
        }
        Ok(totals)
    }
}
