//! The care subject, its GraphQL enums, and the masks that only this domain needs.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entities::care_subject;

use super::profiles::{CareGroupMember, CorrectionProfile, MentalHealthProfile, YouthProfile};
use super::visits::{AssessmentArgs, CareVisitConnection, RiskAssessmentConnection, VisitArgs, VisitKind};
use crate::auth::mask;
use crate::auth::viewer::Access;
use crate::error::ApiResult;
use crate::mentoring::loader::MentorshipArgs;
use crate::mentoring::types::{MentorshipConnection, MentorshipStatus};
use crate::node::{NodeType, global_id};
use crate::pagination::PageRequest;
use crate::regions::types::Region;
use crate::request::RequestData;
use crate::volunteers::types::Gender;

/// The GraphQL input types of care-subject lists, which `Region.careSubjects` takes too.
pub use super::filter::CareSubjectFilter;
pub use super::query::CareSubjectOrder;

/// Which care programme a person is in.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::care_subject::CareCategory")]
pub enum CareCategory {
    /// 严重精神障碍患者: a person with a severe mental disorder.
    SevereMentalDisorder,
    /// 社区矫正对象: a community-corrections person.
    CommunityCorrection,
    /// 闲散青少年 and intellectually disabled youth served by the youth programme.
    AtRiskYouth,
}

/// Whether a person is currently under management.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::care_subject::SubjectStatus")]
pub enum SubjectStatus {
    /// Under management.
    Active,
    /// No longer under management (recovered, released, moved away, deceased).
    Closed,
}

/// 1990-05-17 → 1990-**-**: the year only.
pub fn mask_date(value: &str) -> String {
    let year: String = value.chars().take(4).collect();
    format!("{year}-**-**")
}

/// JHZR20260000123 → ***********0123: the last four characters only.
pub fn mask_keep_last_four(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let keep_from = chars.len().saturating_sub(4);
    chars.iter().enumerate().map(|(i, c)| if i >= keep_from { *c } else { '*' }).collect()
}

/// A person under special-population care (特殊人群). Personal fields are masked unless your role may see
/// them; sensitive fields are null with a `FORBIDDEN` error unless your role may see them and you stated a
/// purpose of access (`X-Access-Purpose`).
pub struct CareSubject {
    pub row: care_subject::Model,
    pub access: Access,
}

/// A person under special-population care (特殊人群). Personal fields are masked unless your role may see
/// them; sensitive fields are null with a `FORBIDDEN` error unless your role may see them and you stated a
/// purpose of access (`X-Access-Purpose`).
#[Object]
impl CareSubject {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::CareSubject, self.row.id)
    }

    /// Case code, e.g. CS0000123.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// The care programme the person is in.
    async fn category(&self) -> CareCategory {
        self.row.category.into()
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

    /// Year of birth.
    async fn birth_year(&self) -> i32 {
        chrono::Datelike::year(&self.row.birth_date)
    }

    /// Date of birth as YYYY-MM-DD (personal: masked as 1990-**-** for roles without personal access).
    async fn birth_date(&self) -> String {
        self.access.personal(self.row.id, &self.row.birth_date.to_string(), mask_date)
    }

    /// Contact phone, if known (personal: masked as 138****5678 for roles without personal access).
    async fn phone(&self) -> Option<String> {
        self.row.phone.as_deref().map(|phone| self.access.personal(self.row.id, phone, mask::phone))
    }

    /// Home address (personal: masked as 舟山市定海区**** for roles without personal access).
    async fn address(&self) -> String {
        self.access.personal(self.row.id, &self.row.address, mask::address)
    }

    /// Whether the person is under management.
    async fn status(&self) -> SubjectStatus {
        self.row.status.into()
    }

    /// Day the person was registered in the programme.
    async fn registered_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.registered_on)
    }

    /// The grid the person lives in; null if outside your scope.
    async fn grid(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// Current risk level on the national 0–5 scale, from the newest assessment; null when never assessed
    /// (sensitive: needs a role with sensitive access and a stated purpose).
    async fn current_risk_level(&self) -> ApiResult<Option<i32>> {
        let level = self.row.current_risk_level.map(i32::from);
        Ok(self.access.sensitive(self.row.id, level)?)
    }

    /// Whole UTC calendar days since the newest visit; null if never visited or visits are not yours to see.
    async fn days_since_last_visit(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        let last = RequestData::of(ctx)?.care().last_visit_of(self.row.id).await?;
        Ok(last.map(|at| days_since(at, Utc::now())))
    }

    /// The severe-mental-disorder profile; null for other categories (or `FORBIDDEN` for your role).
    async fn mental_health_profile(&self, ctx: &Context<'_>) -> ApiResult<Option<MentalHealthProfile>> {
        RequestData::of(ctx)?.care().mental_health_profile_of(self.row.id).await
    }

    /// The community-corrections profile; null for other categories (or `FORBIDDEN` for your role).
    async fn correction_profile(&self, ctx: &Context<'_>) -> ApiResult<Option<CorrectionProfile>> {
        RequestData::of(ctx)?.care().correction_profile_of(self.row.id).await
    }

    /// The young person's mentorships (youth programme), oldest first; `FORBIDDEN` for roles that may not read
    /// mentorships.
    async fn mentorships(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only pairings with this status.")] status: Option<MentorshipStatus>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<Option<MentorshipConnection>> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let args = MentorshipArgs { page, status };
        RequestData::of(ctx)?.mentoring().mentorships_of_mentee(self.row.id, args).await.map(Some)
    }

    /// The at-risk youth profile; null for other categories.
    async fn youth_profile(&self, ctx: &Context<'_>) -> ApiResult<Option<YouthProfile>> {
        RequestData::of(ctx)?.care().youth_profile_of(self.row.id).await
    }

    /// Risk assessments, oldest first; null with `FORBIDDEN` if your role may not read mental-health records.
    async fn assessments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<Option<RiskAssessmentConnection>> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let args = AssessmentArgs { page };
        RequestData::of(ctx)?.care().assessments_of(self.row.id, args).await.map(Some)
    }

    /// Visits in recorded order, filtered by time and kind; null with `FORBIDDEN` if not yours to see.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn visits(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only visits at or after this instant.")] from: Option<crate::scalars::Timestamp>,
        #[graphql(desc = "Only visits before this instant.")] to: Option<crate::scalars::Timestamp>,
        #[graphql(desc = "Only visits of this kind.")] kind: Option<VisitKind>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<Option<CareVisitConnection>> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let args = VisitArgs { page, from, to, kind };
        RequestData::of(ctx)?.care().visits_of(self.row.id, args).await.map(Some)
    }

    /// The care/help group (关爱帮扶小组) around the person: who supervises medication, who visits; at most 12
    /// members.
    async fn care_group(&self, ctx: &Context<'_>) -> ApiResult<Vec<CareGroupMember>> {
        RequestData::of(ctx)?.care().care_group_of(self.row.id).await
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

crate::connection_type!(CareSubjectConnection, CareSubjectEdge, CareSubject, "care subjects");

/// Whole UTC calendar days from `at` to `now`; negative for a visit dated in the future.
pub fn days_since(at: DateTime<Utc>, now: DateTime<Utc>) -> i32 {
    let days = (now.date_naive() - at.date_naive()).num_days();
    i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_date("1990-05-17"), "1990-**-**");
        assert_eq!(mask_keep_last_four("JHZR20260000123"), "***********0123");
        assert_eq!(mask_keep_last_four("12"), "12");
    }

    #[test]
    fn days_count_calendar_days() {
        let at = "2026-11-20T23:59:00Z".parse::<DateTime<Utc>>().unwrap();
        let now = "2026-11-21T00:01:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(days_since(at, now), 1);
        assert_eq!(days_since(now, at), -1);
    }
}
