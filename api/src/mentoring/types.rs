//! GraphQL types of the mentoring domain: mentors, mentorships, mentees, sessions and outcomes.

use async_graphql::{Context, Enum, ID, Object};
use chrono::Datelike;
use entities::{care_subject, mentor, mentoring_outcome, mentoring_session, mentorship};

use super::loader::{MentorshipArgs, OutcomeArgs};
use crate::auth::FieldClass;
use crate::auth::mask;
use crate::auth::viewer::Access;
use crate::error::ApiResult;
use crate::node::{NodeType, global_id};
use crate::pagination::PageRequest;
use crate::regions::types::Region;
use crate::request::RequestData;
use crate::volunteers::types::Gender;

/// Whether a mentorship is still running.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::mentorship::MentorshipStatus")]
pub enum MentorshipStatus {
    /// The mentor and the young person still meet.
    Active,
    /// The pairing has ended.
    Closed,
}

/// What a mentorship achieved, in the categories the programme reports on.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::mentoring_outcome::OutcomeKind")]
pub enum OutcomeKind {
    /// Helped into employment.
    Employment,
    /// Went back to school.
    BackToSchool,
    /// A behavioural intervention (psychological counselling and behaviour correction).
    BehaviouralIntervention,
    /// Completed a vocational skills training.
    SkillsTraining,
    /// Long-term assistance to the family of an intellectually disabled young person.
    FamilyAssistance,
}

/// A free-text personal field about a young person: in clear for callers granted personal fields (noted for the
/// audit trail under mentorship `mentorship_id`), otherwise null: a masked paragraph is useless and still leaks.
fn personal_text(access: &Access, mentorship_id: i64, value: Option<&str>) -> Option<String> {
    if access.fields < FieldClass::Personal {
        return None;
    }
    value.map(|value| access.personal(mentorship_id, value, |_| String::new()))
}

/// A life mentor (人生导师) of the youth Rainbow Action programme. Personal fields are masked unless your role
/// may see them.
pub struct Mentor {
    pub row: mentor::Model,
    pub access: Access,
}

/// A life mentor (人生导师) of the youth Rainbow Action programme. Personal fields are masked unless your role
/// may see them.
#[Object]
impl Mentor {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Mentor, self.row.id)
    }

    /// Mentor code, e.g. M00042.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// Full name (personal: masked as 张* for roles without personal access).
    async fn name(&self) -> String {
        self.access.personal(self.row.id, &self.row.name, mask::name)
    }

    /// Mobile phone (personal: masked as 138****5678 for roles without personal access).
    async fn phone(&self) -> String {
        self.access.personal(self.row.id, &self.row.phone, mask::phone)
    }

    /// Occupation, e.g. 教师 (teacher) or 律师 (lawyer).
    async fn occupation(&self) -> &str {
        &self.row.occupation
    }

    /// Whether the mentor currently takes on young people.
    async fn active(&self) -> bool {
        self.row.active
    }

    /// The township or community the mentor is attached to; null if outside your scope.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// The mentor's pairings whose young person lives in your scope, oldest first.
    async fn mentorships(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only pairings with this status.")] status: Option<MentorshipStatus>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MentorshipConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let args = MentorshipArgs { page, status };
        RequestData::of(ctx)?.mentoring().mentorships_of(self.row.id, args).await
    }

    /// Number of young people the mentor is currently paired with (ACTIVE pairings), counting those in your scope.
    async fn active_mentee_count(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        RequestData::of(ctx)?.mentoring().active_mentee_count(self.row.id).await
    }
}

crate::connection_type!(MentorConnection, MentorEdge, Mentor, "mentors");

/// A pairing of a mentor with a young person. Visible when the young person lives in your scope.
pub struct Mentorship {
    pub row: mentorship::Model,
    pub access: Access,
}

/// A pairing of a mentor with a young person. Visible when the young person lives in your scope.
#[Object]
impl Mentorship {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Mentorship, self.row.id)
    }

    /// Whether the pairing is still running.
    async fn status(&self) -> MentorshipStatus {
        self.row.status.into()
    }

    /// What the pairing works towards (personal: free text about a young person, null without personal access).
    async fn goal(&self) -> Option<String> {
        personal_text(&self.access, self.row.id, self.row.goal.as_deref())
    }

    /// Day the pairing started.
    async fn started_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.started_on)
    }

    /// Day the pairing ended; null while it is active.
    async fn ended_on(&self) -> Option<crate::scalars::Date> {
        self.row.ended_on.map(crate::scalars::Date)
    }

    /// The mentor; null if the mentor is attached to a region outside your scope.
    async fn mentor(&self, ctx: &Context<'_>) -> ApiResult<Option<Mentor>> {
        RequestData::of(ctx)?.mentoring().mentor_by_id(self.row.mentor_id).await
    }

    /// The young person being mentored.
    async fn mentee(&self, ctx: &Context<'_>) -> ApiResult<Option<Mentee>> {
        RequestData::of(ctx)?.mentoring().mentee_of(self.row.id, self.row.mentee_id).await
    }

    /// The meetings of the pairing, in the order they were recorded.
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MentoringSessionConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.mentoring().sessions_of(self.row.id, page).await
    }

    /// What the pairing achieved, in the order it was recorded.
    async fn outcomes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only outcomes of this kind.")] kind: Option<OutcomeKind>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MentoringOutcomeConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.mentoring().outcomes_of(self.row.id, OutcomeArgs { page, kind }).await
    }
}

crate::connection_type!(MentorshipConnection, MentorshipEdge, Mentorship, "mentorships");

/// The young person of a mentorship, as the mentoring programme sees them: no health, guardian or identity
/// details (those belong to the care domain).
pub struct Mentee {
    pub row: care_subject::Model,
    /// The mentorship through which the young person is seen; reads are audited under it.
    pub mentorship_id: i64,
    pub access: Access,
}

/// The young person of a mentorship, as the mentoring programme sees them.
#[Object]
impl Mentee {
    /// Care-subject code of the young person.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// Full name (personal: masked as 张* for roles without personal access).
    async fn name(&self) -> String {
        self.access.personal(self.mentorship_id, &self.row.name, mask::name)
    }

    /// Sex.
    async fn gender(&self) -> Gender {
        self.row.gender.into()
    }

    /// Year of birth.
    async fn birth_year(&self) -> i32 {
        self.row.birth_date.year()
    }

    /// The grid the young person lives in; null if outside your scope.
    async fn grid(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }
}

/// One meeting between a mentor and their mentee.
pub struct MentoringSession {
    pub row: mentoring_session::Model,
    pub access: Access,
}

/// One meeting between a mentor and their mentee.
#[Object]
impl MentoringSession {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::MentoringSession, self.row.id)
    }

    /// Day of the meeting.
    async fn held_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.held_on)
    }

    /// Duration in whole minutes.
    async fn minutes(&self) -> i32 {
        self.row.minutes
    }

    /// What the meeting was about, e.g. 职业规划谈心 (career talk).
    async fn topic(&self) -> &str {
        &self.row.topic
    }

    /// The mentor's notes (personal: null for roles without personal access).
    async fn notes(&self) -> Option<String> {
        personal_text(&self.access, self.row.mentorship_id, self.row.notes.as_deref())
    }

    /// The mentorship the meeting belongs to.
    async fn mentorship(&self, ctx: &Context<'_>) -> ApiResult<Option<Mentorship>> {
        RequestData::of(ctx)?.mentoring().mentorship_by_id(self.row.mentorship_id).await
    }
}

crate::connection_type!(
    MentoringSessionConnection,
    MentoringSessionEdge,
    MentoringSession,
    "mentoring sessions"
);

/// One reported achievement of a mentorship.
pub struct MentoringOutcome {
    pub row: mentoring_outcome::Model,
    pub access: Access,
}

/// One reported achievement of a mentorship.
#[Object]
impl MentoringOutcome {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::MentoringOutcome, self.row.id)
    }

    /// What was achieved.
    async fn kind(&self) -> OutcomeKind {
        self.row.kind.into()
    }

    /// Day it was achieved.
    async fn achieved_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.achieved_on)
    }

    /// What happened, in words (personal: null for roles without personal access).
    async fn description(&self) -> Option<String> {
        personal_text(&self.access, self.row.mentorship_id, self.row.description.as_deref())
    }

    /// The mentorship that achieved it.
    async fn mentorship(&self, ctx: &Context<'_>) -> ApiResult<Option<Mentorship>> {
        RequestData::of(ctx)?.mentoring().mentorship_by_id(self.row.mentorship_id).await
    }
}

crate::connection_type!(
    MentoringOutcomeConnection,
    MentoringOutcomeEdge,
    MentoringOutcome,
    "mentoring outcomes"
);
