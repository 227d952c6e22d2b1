//! GraphQL types of the volunteer domain.

use async_graphql::{Context, Enum, ID, Object};
use entities::volunteer;

use crate::auth::mask;
use crate::auth::viewer::Access;
use crate::error::ApiResult;
use crate::node::{NodeType, global_id};
use crate::pagination::PageRequest;
use crate::regions::types::Region;
use crate::request::RequestData;
use crate::volunteers::service::{ActivityType, Period, ServiceRecordArgs, ServiceRecordConnection};
use crate::volunteers::teams::{Badge, TeamMembership};

/// The GraphQL input types of volunteer lists, which `Region.volunteers` and `VolunteerTeam.members` take too.
pub use super::filter::{VolunteerFilter, VolunteerOrder};

/// A person's sex as recorded on their identity card.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::common::Gender")]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
}

/// Whether a volunteer may currently be assigned to service.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::volunteer::VolunteerStatus")]
pub enum VolunteerStatus {
    /// Registered and serving.
    Active,
    /// Temporarily not assigned to service.
    Suspended,
    /// Left the programme.
    Withdrawn,
}

/// A registered peace volunteer (平安志愿者). Personal fields are masked unless your role may see them.
pub struct Volunteer {
    pub row: volunteer::Model,
    pub access: Access,
}

/// A registered peace volunteer (平安志愿者). Personal fields are masked unless your role may see them.
#[Object]
impl Volunteer {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Volunteer, self.row.id)
    }

    /// Registration code, e.g. V0000123.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// Full name (personal: masked as 张* for roles without personal access).
    async fn name(&self) -> String {
        self.access.personal(self.row.id, &self.row.name, mask::name)
    }

    /// Sex.
    async fn gender(&self) -> Gender {
        self.row.gender.into()
    }

    /// Identity-card number (personal: masked as 330902********1234 for roles without personal access).
    async fn id_number(&self) -> String {
        self.access.personal(self.row.id, &self.row.id_number, mask::id_number)
    }

    /// Mobile phone (personal: masked as 138****5678 for roles without personal access).
    async fn phone(&self) -> String {
        self.access.personal(self.row.id, &self.row.phone, mask::phone)
    }

    /// Whether the volunteer is serving.
    async fn status(&self) -> VolunteerStatus {
        self.row.status.into()
    }

    /// Day of registration.
    async fn registered_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.registered_on)
    }

    /// The volunteer's home grid; null if outside your scope.
    async fn grid(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// Total minutes of service in the period (records in your scope); the whole record when no period is given.
    async fn service_minutes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count service that started at or after this instant.")] from: Option<
            crate::scalars::Timestamp,
        >,
        #[graphql(desc = "Count service that started before this instant.")] to: Option<
            crate::scalars::Timestamp,
        >,
    ) -> ApiResult<i64> {
        RequestData::of(ctx)?.volunteers().service_minutes_of(self.row.id, Period { from, to }).await
    }

    /// Total hours of service in the period, to two decimals (the same sum as `serviceMinutes`).
    async fn service_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count service that started at or after this instant.")] from: Option<
            crate::scalars::Timestamp,
        >,
        #[graphql(desc = "Count service that started before this instant.")] to: Option<
            crate::scalars::Timestamp,
        >,
    ) -> ApiResult<f64> {
        let minutes =
            RequestData::of(ctx)?.volunteers().service_minutes_of(self.row.id, Period { from, to }).await?;
        Ok((minutes as f64 / 60.0 * 100.0).round() / 100.0)
    }

    /// The teams the volunteer belongs to, in the order they joined: at most 10.
    async fn teams(&self, ctx: &Context<'_>) -> ApiResult<Vec<TeamMembership>> {
        RequestData::of(ctx)?.volunteers().teams_of(self.row.id).await
    }

    /// The badges the volunteer carries: at most 3, one of each kind.
    async fn badges(&self, ctx: &Context<'_>) -> ApiResult<Vec<Badge>> {
        RequestData::of(ctx)?.volunteers().badges_of(self.row.id).await
    }

    /// The volunteer's service records in your scope, in the order they were logged, filterable by time and activity.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn service_records(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only records that started at or after this instant.")] from: Option<
            crate::scalars::Timestamp,
        >,
        #[graphql(desc = "Only records that started before this instant.")] to: Option<
            crate::scalars::Timestamp,
        >,
        #[graphql(desc = "Only records of this activity.")] activity: Option<ActivityType>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<ServiceRecordConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let args = ServiceRecordArgs { page, from, to, activity };
        RequestData::of(ctx)?.volunteers().service_records_of(self.row.id, args).await
    }

    /// When the record was created (UTC).
    async fn created_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.row.created_at)
    }

    /// When the record last changed (UTC).
    async fn updated_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.row.updated_at)
    }
}

crate::connection_type!(VolunteerConnection, VolunteerEdge, Volunteer, "volunteers");
