//! GraphQL types of the volunteer domain.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entities::volunteer;

use crate::auth::mask;
use crate::auth::viewer::Access;
use crate::error::ApiResult;
use crate::node::{NodeType, global_id};
use crate::regions::types::Region;
use crate::request::RequestData;

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
    async fn registered_on(&self) -> NaiveDate {
        self.row.registered_on
    }

    /// The volunteer's home grid; null if outside your scope.
    async fn grid(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions.region_by_id(self.row.region_id).await
    }

    /// When the record was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When the record last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

crate::connection_type!(VolunteerConnection, VolunteerEdge, Volunteer, "volunteers");
