//! The GraphQL schema: the domains' root fields merged into one `Query`, one `Mutation` and one `Subscription`,
//! built once without data so that the server and `govgraph schema` share exactly the same definition.

use async_graphql::{Context, MergedObject, Object, Schema, SchemaBuilder};

use crate::audit::query::AuditQuery;
use crate::auth::viewer::Identity;
use crate::care::mutation::CareMutation;
use crate::care::query::CareQuery;
use crate::disputes::mutation::DisputesMutation;
use crate::disputes::query::DisputesQuery;
use crate::error::ApiResult;
use crate::legal_aid::mutation::LegalAidMutation;
use crate::legal_aid::query::LegalAidQuery;
use crate::mentoring::mutation::MentoringMutation;
use crate::mentoring::query::MentoringQuery;
use crate::node::NodeQuery;
use crate::regions::mutation::RegionsMutation;
use crate::regions::query::RegionsQuery;
use crate::request::RequestData;
use crate::stability::mutation::StabilityMutation;
use crate::stability::query::StabilityQuery;
use crate::statistics::query::StatisticsQuery;
use crate::statistics::rules::StatisticsOptionsQuery;
use crate::subscriptions::Subscription;
use crate::volunteers::mutation::VolunteersMutation;
use crate::volunteers::query::VolunteersQuery;

/// Who the current caller is, as the server understood their token.
#[derive(Default)]
pub struct ViewerQuery;

/// The caller as the server sees them.
pub struct ViewerInfo {
    subject: String,
    roles: Vec<String>,
    region_code: Option<String>,
    purpose: Option<String>,
}

/// The caller as the server sees them.
#[Object]
impl ViewerInfo {
    /// The token's `sub`.
    async fn subject(&self) -> &str {
        &self.subject
    }

    /// The recognised roles of the token (unknown ones are ignored): at most 11, the roles there are.
    async fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Code of the region whose subtree the token may see.
    async fn region_code(&self) -> Option<&str> {
        self.region_code.as_deref()
    }

    /// The stated purpose of access for this request, if any.
    async fn purpose(&self) -> Option<&str> {
        self.purpose.as_deref()
    }
}

#[Object]
impl ViewerQuery {
    /// The signed-in caller; null without a token.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Option<ViewerInfo>> {
        let request = RequestData::of(ctx)?;
        let viewer = &request.viewer;
        match &viewer.identity {
            Identity::Anonymous => Ok(None),
            Identity::Refused(reason) => {
                Err(crate::error::ApiError::Unauthenticated(reason.to_string()).into())
            }
            Identity::Token { claims, roles } => Ok(Some(ViewerInfo {
                subject: claims.sub.clone(),
                roles: roles.iter().map(|role| role.as_str().to_owned()).collect(),
                region_code: claims.region.clone(),
                purpose: viewer.purpose.clone(),
            })),
        }
    }
}

/// All read entry points.
#[derive(MergedObject, Default)]
pub struct Query(
    ViewerQuery,
    NodeQuery,
    RegionsQuery,
    VolunteersQuery,
    CareQuery,
    MentoringQuery,
    LegalAidQuery,
    AuditQuery,
    StatisticsQuery,
    StatisticsOptionsQuery,
    DisputesQuery,
    StabilityQuery,
);

/// All changes. Each runs in one transaction together with its audit event.
#[derive(MergedObject, Default)]
pub struct Mutation(
    RegionsMutation,
    VolunteersMutation,
    CareMutation,
    MentoringMutation,
    LegalAidMutation,
    DisputesMutation,
    StabilityMutation,
);

/// The schema type served at `/graphql`.
pub type ApiSchema = Schema<Query, Mutation, Subscription>;

/// The schema without data; the server adds the database and limits, `govgraph schema` prints its SDL.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription::default())
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
