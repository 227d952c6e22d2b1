//! Volunteer teams and badges: the types, and the loaders behind `Volunteer.teams`, `Volunteer.badges` and
//! `VolunteerTeam.memberCount`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, Object};
use entities::{volunteer, volunteer_badge, volunteer_team, volunteer_team_membership};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect};

use super::filter::{VolunteerFilter, VolunteerOrder};
use super::nested::{VolunteerParent, volunteers_under};
use super::types::VolunteerConnection;
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::node::{NodeType, global_id};
use crate::pagination::PageRequest;
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
    async fn granted_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.granted_on)
    }
}

/// A volunteer team.
pub struct VolunteerTeam {
    pub row: volunteer_team::Model,
}

/// A volunteer team, such as a township's peace volunteer team or the Daishan fishermen's wives (渔嫂) team.
/// The team itself (code, name, description) is public information; its members are volunteers and are shown
/// as `Query.volunteers` shows them.
#[Object]
impl VolunteerTeam {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::VolunteerTeam, self.row.id)
    }

    /// Team code, e.g. VT037.
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
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// Number of the team's members in your scope (the `totalCount` of `members` without a filter).
    async fn member_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        RequestData::of(ctx)?.volunteers().member_count_of(self.row.id).await
    }

    /// The team's members in your scope, in registration order unless `orderBy` says otherwise; personal
    /// fields are masked as in `Query.volunteers`.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the members (the same as `Query.volunteers` takes).")] filter: Option<
            VolunteerFilter,
        >,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<VolunteerOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<VolunteerConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        volunteers_under(ctx, VolunteerParent::Team, self.row.id, filter, order_by, page).await
    }

    /// When the team was registered (UTC).
    async fn created_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.row.created_at)
    }
}

crate::connection_type!(VolunteerTeamConnection, VolunteerTeamEdge, VolunteerTeam, "volunteer teams");

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
    async fn joined_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.membership.joined_on)
    }
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
        let rows = crate::scope::read_among::<volunteer_team_membership::Entity>(&access, keys)
            .find_also_related(volunteer_team::Entity)
            .filter(volunteer_team_membership::Column::VolunteerId.is_in(keys.iter().copied()))
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
        let rows = crate::scope::read_among::<volunteer_badge::Entity>(&access, keys)
            .filter(volunteer_badge::Column::VolunteerId.is_in(keys.iter().copied()))
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

/// The number of a team's members in the caller's scope, as a scalar subquery correlated with the
/// `volunteer_team` row of the enclosing query (for ordering teams by it).
pub fn member_count_expr(access: &Access) -> Expr {
    let member = Alias::new("gg_counted");
    let count = Query::select()
        .expr(Func::count(Expr::cust("*")))
        .from_as(volunteer_team_membership::Entity, member.clone())
        .and_where(
            Expr::col((member.clone(), volunteer_team_membership::Column::TeamId))
                .equals((volunteer_team::Entity, volunteer_team::Column::Id)),
        )
        .and_where(
            Expr::col((member, volunteer_team_membership::Column::VolunteerId))
                .in_subquery(crate::scope::ids::<volunteer::Entity>(access)),
        )
        .to_owned();
    Expr::from(count)
}

/// Members in the caller's scope by team id.
pub struct MemberCountsByTeam {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

impl Loader<i64> for MemberCountsByTeam {
    type Value = i64;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Volunteer, Action::Read).await?;
        let counts: Vec<(i64, i64)> = crate::scope::read::<volunteer_team_membership::Entity>(&access)
            .select_only()
            .column(volunteer_team_membership::Column::TeamId)
            .expr(Func::count(Expr::cust("*")))
            .filter(volunteer_team_membership::Column::TeamId.is_in(keys.iter().copied()))
            .group_by(volunteer_team_membership::Column::TeamId)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        let counts: HashMap<i64, i64> = counts.into_iter().collect();
        Ok(keys.iter().map(|team| (*team, counts.get(team).copied().unwrap_or(0))).collect())
    }
}
