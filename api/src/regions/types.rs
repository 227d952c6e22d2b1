//! GraphQL types of the region tree.

use async_graphql::{Context, Enum, ID, Object};
use entities::{grid_team_member, region};

use super::counts::RegionCount;
use crate::error::ApiResult;
use crate::node::{NodeType, global_id};
use crate::request::RequestData;

/// The five administrative levels.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::region::RegionLevel")]
pub enum RegionLevel {
    /// 市: the city (舟山市).
    City,
    /// 县/区: a district or county.
    District,
    /// 乡镇/街道: a township, town or street.
    Township,
    /// 社区/村: a community or village.
    Community,
    /// 网格: the grid, the unit everything else is attached to.
    Grid,
}

/// What a member does in a grid's management-service team.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::grid_team_member::TeamRole")]
pub enum TeamRole {
    /// 网格长: leads the grid.
    GridLeader,
    /// 专职网格员: full-time grid worker.
    GridWorker,
    /// 社区民警: the community police officer.
    PoliceOfficer,
    /// 医生: the family doctor.
    Doctor,
    /// 律师: the lawyer.
    Lawyer,
    /// 调解员: the mediator.
    Mediator,
    /// 志愿者: a volunteer on the team.
    Volunteer,
}

/// A node of the administrative tree: the city, a district, a township, a community or a grid.
pub struct Region(pub region::Model);

/// A node of the administrative tree: the city, a district, a township, a community or a grid.
#[Object]
impl Region {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Region, self.0.id)
    }

    /// Administrative code: 6 digits for the city and districts, 9 for townships, 12 for communities, 15 for grids.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name, e.g. 定海区, 昌国街道, 香园社区第3网格.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Level in the tree.
    async fn level(&self) -> RegionLevel {
        self.0.level.into()
    }

    /// Depth in the tree: 0 for the city, 4 for a grid.
    async fn depth(&self) -> i16 {
        self.0.depth
    }

    /// The region one level up; null for the city, or when the parent is outside your scope.
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        match self.0.parent_id {
            Some(parent_id) => RequestData::of(ctx)?.regions().region_by_id(parent_id).await,
            None => Ok(None),
        }
    }

    /// The regions one level down, ordered by code: at most 100 (the region tree is reference data; its largest
    /// family, a district's townships, has 14).
    async fn children(&self, ctx: &Context<'_>) -> ApiResult<Vec<Region>> {
        RequestData::of(ctx)?.regions().children_of(self.0.id).await
    }

    /// The regions above this one that are within your scope, from the top down (the region itself excluded): at
    /// most 4, as the tree has five levels.
    async fn ancestors(&self, ctx: &Context<'_>) -> ApiResult<Vec<Region>> {
        let codes: Vec<String> = self
            .0
            .path
            .split('/')
            .filter(|code| !code.is_empty() && *code != self.0.code)
            .map(str::to_owned)
            .collect();
        RequestData::of(ctx)?.regions().regions_by_codes(codes).await
    }

    /// The grid's management-service team: at most 30 members (empty above grid level).
    async fn team(&self, ctx: &Context<'_>) -> ApiResult<Vec<GridTeamMember>> {
        RequestData::of(ctx)?.regions().team_of(self.0.id).await
    }

    /// Volunteers whose home grid lies in this region or below (those in your scope).
    async fn volunteer_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        RequestData::of(ctx)?.regions().count_under(self.0.id, RegionCount::Volunteers).await
    }

    /// Care subjects under active management in this region or below (those in your scope); `FORBIDDEN` for
    /// roles that may not read care subjects.
    async fn active_care_subject_count(&self, ctx: &Context<'_>) -> ApiResult<Option<i64>> {
        RequestData::of(ctx)?
            .regions()
            .count_under(self.0.id, RegionCount::ActiveCareSubjects)
            .await
            .map(Some)
    }

    /// Care subjects whose grid lies in this region or below (those in your scope), in registration order (by
    /// id) unless `orderBy` says otherwise; null with `FORBIDDEN` for roles that may not read care subjects.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn care_subjects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the subjects; all of them when absent.")] filter: Option<
            crate::care::types::CareSubjectFilter,
        >,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<
            crate::care::types::CareSubjectOrder,
        >,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<Option<crate::care::types::CareSubjectConnection>> {
        let (id, page) = (self.0.id, (first, after, last, before));
        crate::care::loader::care_subjects_of_region(ctx, id, filter, order_by, page).await
    }

    /// Volunteers whose home grid lies in this region or below (those in your scope), filtered and ordered
    /// as in `Query.volunteers`; loaded for a whole page of regions at once. Null with `FORBIDDEN` for roles
    /// that may not read volunteers.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn volunteers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the volunteers (the same as `Query.volunteers` takes).")]
        filter: Option<crate::volunteers::types::VolunteerFilter>,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<
            crate::volunteers::types::VolunteerOrder,
        >,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<Option<crate::volunteers::types::VolunteerConnection>> {
        use crate::volunteers::loader::{VolunteerParent, volunteers_under};
        let page = crate::pagination::PageRequest::new(first, after, last, before)?.counting(ctx);
        volunteers_under(ctx, VolunteerParent::Region, self.0.id, filter, order_by, page).await.map(Some)
    }

    /// Disputes reported in this region or below it (those in your scope and, for a mediator, assigned to
    /// you), newest first; loaded for a whole page of regions at once. Null with `FORBIDDEN` for roles that may
    /// not read disputes.
    async fn disputes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only open disputes (true) or only finished ones (false); all when absent.")]
        open: Option<bool>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<Option<crate::disputes::types::DisputeConnection>> {
        let page = crate::pagination::PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.disputes().disputes_of_region(self.0.id, open, page).await.map(Some)
    }

    /// When the region was registered in the system (UTC).
    async fn created_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.0.created_at)
    }
}

/// A member of a grid's management-service team. The report makes these contacts public (联系方式全公开):
/// name, role and phone can be looked up without signing in.
pub struct GridTeamMember {
    pub row: grid_team_member::Model,
}

/// A member of a grid's management-service team. The report makes these contacts public (联系方式全公开):
/// name, role and phone can be looked up without signing in.
#[Object]
impl GridTeamMember {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::GridTeamMember, self.row.id)
    }

    /// The member's role in the team.
    async fn role(&self) -> TeamRole {
        self.row.role.into()
    }

    /// Full name (public contact information).
    async fn name(&self) -> &str {
        &self.row.name
    }

    /// Contact phone (public contact information).
    async fn phone(&self) -> &str {
        &self.row.phone
    }

    /// What the member takes care of, in their own words.
    async fn duty(&self) -> Option<&str> {
        self.row.duty.as_deref()
    }

    /// The grid this member serves.
    async fn grid(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.grid_id).await
    }
}

crate::connection_type!(RegionConnection, RegionEdge, Region, "regions");
