//! Volunteer teams and badges: the types, and the loaders behind `Volunteer.teams` and `Volunteer.badges`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, Object};
use chrono::NaiveDate;
use entities::{volunteer, volunteer_badge, volunteer_team, volunteer_team_membership};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::viewer::Access;
use crate::auth::{Action, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::regions::types::Region;
use crate::request::RequestData;

/// The envoy badges of the report (平安使者, 爱心使者, 禁毒使者).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::volunteer_badge::BadgeKind")]
pub enum BadgeKind {
    /// 平安使者: peace envoy.
    PeaceEnvoy,
    /// 爱心使者: care envoy.
    CareEnvoy,
    /// 禁毒使者: anti-drug envoy.
    AntiDrugEnvoy,
}

/// A volunteer's position in a team.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::volunteer_team_membership::MembershipRole")]
pub enum MembershipRole {
    /// An ordinary member.
    Member,
    /// The team leader.
    Leader,
}

/// A badge a volunteer carries.
pub struct Badge {
    pub row: volunteer_badge::Model,
}

/// A badge a volunteer carries, and since when.
#[Object]
impl Badge {
    /// The badge.
    async fn badge(&self) -> BadgeKind {
        self.row.badge.into()
    }

    /// The day it was granted.
    async fn granted_on(&self) -> NaiveDate {
        self.row.granted_on
    }
}

/// A volunteer team.
pub struct VolunteerTeam {
    pub row: volunteer_team::Model,
}

/// A volunteer team, such as a township's peace volunteer team or the Daishan fishermen's wives (渔嫂) team.
#[Object]
impl VolunteerTeam {
    /// Team code, e.g. T330921-YS.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// Name, e.g. 岱山渔嫂志愿服务队.
    async fn name(&self) -> &str {
        &self.row.name
    }

    /// What the team does.
    async fn description(&self) -> Option<&str> {
        self.row.description.as_deref()
    }

    /// The region the team belongs to; null if outside your scope.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions.region_by_id(self.row.region_id).await
    }
}

/// A volunteer's membership of a team.
pub struct TeamMembership {
    pub team: volunteer_team::Model,
    pub membership: volunteer_team_membership::Model,
}

/// A volunteer's membership of a team.
#[Object]
impl TeamMembership {
    /// The team.
    async fn team(&self) -> VolunteerTeam {
        VolunteerTeam { row: self.team.clone() }
    }

    /// The volunteer's position in it.
    async fn role(&self) -> MembershipRole {
        self.membership.role.into()
    }

    /// The day the volunteer joined.
    async fn joined_on(&self) -> NaiveDate {
        self.membership.joined_on
    }
}

/// Volunteers in the caller's scope, as a subquery over volunteer ids.
fn volunteers_in_scope(access: &Access) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(volunteer::Column::Id)
        .from(volunteer::Entity)
        .cond_where(access.scope_on(volunteer::Column::RegionId))
        .to_owned()
}

/// Team memberships by volunteer id.
pub struct MembershipsByVolunteer {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

impl Loader<i64> for MembershipsByVolunteer {
    type Value = Vec<(volunteer_team_membership::Model, volunteer_team::Model)>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Volunteer, Action::Read).await?;
        let rows = volunteer_team_membership::Entity::find()
            .find_also_related(volunteer_team::Entity)
            .filter(volunteer_team_membership::Column::VolunteerId.is_in(keys.iter().copied()))
            .filter(volunteer_team_membership::Column::VolunteerId.in_subquery(volunteers_in_scope(&access)))
            .order_by_asc(volunteer_team_membership::Column::Id)
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        let mut grouped: HashMap<i64, Self::Value> = HashMap::new();
        for (membership, team) in rows {
            if let Some(team) = team {
                grouped.entry(membership.volunteer_id).or_default().push((membership, team));
            }
        }
        Ok(grouped)
    }
}

/// Badges by volunteer id.
pub struct BadgesByVolunteer {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

impl Loader<i64> for BadgesByVolunteer {
    type Value = Vec<volunteer_badge::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Volunteer, Action::Read).await?;
        let rows = volunteer_badge::Entity::find()
            .filter(volunteer_badge::Column::VolunteerId.is_in(keys.iter().copied()))
            .filter(volunteer_badge::Column::VolunteerId.in_subquery(volunteers_in_scope(&access)))
            .order_by_asc(volunteer_badge::Column::Id)
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        let mut grouped: HashMap<i64, Self::Value> = HashMap::new();
        for row in rows {
            grouped.entry(row.volunteer_id).or_default().push(row);
        }
        Ok(grouped)
    }
}
