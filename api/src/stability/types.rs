//! The GraphQL types of major projects and their stability assessment: the project, its assessment with the
//! steps taken and the mitigation measures, the responsible unit with its vetoes. The steps' findings are
//! sensitive (who opposes a project and why); everything else is public within the caller's scope.

use async_graphql::{Context, Enum, ID, Object};
use entities::{
    assessment_step, major_project, mitigation_measure, responsible_unit, stability_assessment, unit_veto,
};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};

use super::loader::{MeasureArgs, ProjectDisputeArgs};
use crate::auth::viewer::Access;
use crate::disputes::types::DisputeConnection;
use crate::error::ApiResult;
use crate::money::Money;
use crate::node::{NodeType, global_id};
use crate::pagination::PageRequest;
use crate::regions::types::Region;
use crate::request::RequestData;
use crate::scalars::{Date, Timestamp};

/// The most documents a step may reference: `AssessmentStepRecord.attachments` promises it.
pub const MAX_ATTACHMENTS: usize = 10;

/// Projects of the unit whose officer's token subject is `subject`: what a `unit_officer` sees.
pub fn projects_of_unit_officer(subject: &str) -> Condition {
    let units = Query::select()
        .column(responsible_unit::Column::Id)
        .from(responsible_unit::Entity)
        .and_where(responsible_unit::Column::OfficerSubject.eq(subject))
        .to_owned();
    Condition::all().add(major_project::Column::UnitId.in_subquery(units))
}

/// What kind of project.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::major_project::ProjectKind", name = "MajorProjectKind")]
pub enum ProjectKind {
    /// A reservoir or other water works.
    Reservoir,
    /// Land acquisition (征地).
    LandAcquisition,
    /// Demolition and resettlement (拆迁).
    Demolition,
    /// An industrial plant.
    Plant,
    /// A road, bridge, port or other transport works.
    Transport,
    /// A power station, grid or fuel facility.
    Energy,
    /// A public policy that affects many people (a reform, a price change).
    PublicPolicy,
    /// Anything else.
    Other,
}

/// The six steps of a stability assessment, in their order.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::stability_assessment::AssessmentStep")]
pub enum AssessmentStep {
    /// 提交申请: the responsible unit applies for the assessment.
    Application,
    /// 调研审查: the assessing office investigates (surveys, hearings, visits to the affected households).
    Investigation,
    /// 初审会审: the joint review by the departments concerned.
    JointReview,
    /// 作出评定: the risk is rated LOW, MEDIUM or HIGH.
    Rating,
    /// 反馈意见: the opinion goes back to the responsible unit.
    Feedback,
    /// 制定措施: the unit sets the mitigation measures, with owners and deadlines; the assessment is complete.
    Measures,
}

/// The social stability risk a project was rated.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::stability_assessment::RiskRating", name = "StabilityRiskRating")]
pub enum RiskRating {
    /// Low risk: the project may start.
    Low,
    /// Medium risk: the project may start with its measures in hand.
    Medium,
    /// High risk: the project starts only once every mitigation measure is done.
    High,
}

/// A responsible unit's annual evaluation.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum UnitEvaluationOutcome {
    /// No veto in the year.
    Passed,
    /// Vetoed (一票否决): the unit skipped an assessment or failed to resolve the risks it found.
    Vetoed,
}

/// A major project.
pub struct MajorProject {
    pub row: major_project::Model,
    pub access: Access,
}

/// A major project (重大事项: a reservoir, a land acquisition, a plant) and its social stability risk assessment.
#[Object]
impl MajorProject {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::MajorProject, self.row.id)
    }

    /// Project code, e.g. `MP2026000123`.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// The project's name.
    async fn name(&self) -> &str {
        &self.row.name
    }

    /// What kind of project.
    async fn kind(&self) -> ProjectKind {
        self.row.kind.into()
    }

    /// The region where it is built; null if outside your scope.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// The unit responsible for it; null if outside your scope.
    async fn responsible_unit(&self, ctx: &Context<'_>) -> ApiResult<Option<ResponsibleUnit>> {
        RequestData::of(ctx)?.stability().unit_by_id(self.row.unit_id).await
    }

    /// The investment, in yuan.
    async fn investment(&self) -> Money {
        Money::from_fen(self.row.investment_fen)
    }

    /// The planned start (local day).
    async fn planned_start(&self) -> Date {
        Date(self.row.planned_start)
    }

    /// Households affected (to be moved, compensated or otherwise touched).
    async fn affected_households(&self) -> i32 {
        self.row.affected_households
    }

    /// The recorded start (ground-breaking, local day); null while it has not started.
    async fn started_on(&self) -> Option<Date> {
        self.row.started_on.map(Date)
    }

    /// Flagged: its start was recorded before its assessment was complete (historical data, or a unit that
    /// skipped the assessment).
    async fn started_without_assessment(&self) -> bool {
        self.row.started_without_assessment
    }

    /// Flagged: a mitigation measure is past its deadline and not done.
    async fn measures_overdue(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        RequestData::of(ctx)?.stability().measures_overdue(self.row.id).await
    }

    /// Its stability assessment; null before the unit applied.
    async fn assessment(&self, ctx: &Context<'_>) -> ApiResult<Option<StabilityAssessment>> {
        RequestData::of(ctx)?.stability().assessment_of(self.row.id).await
    }

    /// The disputes it caused (linked to it), oldest first; needs the right to read disputes.
    async fn disputes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<DisputeConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let args = ProjectDisputeArgs { page, incidents_only: false };
        RequestData::of(ctx)?.stability().disputes_of(self.row.id, args).await
    }

    /// The instability incidents it caused: the linked disputes flagged as incidents, oldest first; needs the
    /// right to read disputes.
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<DisputeConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let args = ProjectDisputeArgs { page, incidents_only: true };
        RequestData::of(ctx)?.stability().disputes_of(self.row.id, args).await
    }
}

/// A project's stability assessment.
pub struct StabilityAssessment {
    pub row: stability_assessment::Model,
    pub access: Access,
}

/// A project's social stability risk assessment (社会稳定风险评估): the six steps, the rating and the measures.
#[Object]
impl StabilityAssessment {
    /// The last step taken.
    async fn step(&self) -> AssessmentStep {
        self.row.step.into()
    }

    /// The step to take next; null once the assessment is complete.
    async fn next_step(&self) -> Option<AssessmentStep> {
        super::workflow::successor(Some(self.row.step)).map(Into::into)
    }

    /// Whether all six steps were taken.
    async fn complete(&self) -> bool {
        super::workflow::is_complete(Some(self.row.step))
    }

    /// The risk found; null before the rating step.
    async fn rating(&self) -> Option<RiskRating> {
        self.row.rating.map(Into::into)
    }

    /// When the unit applied.
    async fn applied_at(&self) -> Timestamp {
        Timestamp(self.row.created_at)
    }

    /// When the last step was taken.
    async fn completed_at(&self) -> Option<Timestamp> {
        self.row.completed_at.map(Timestamp)
    }

    /// The steps taken, in their order.
    async fn steps(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<AssessmentStepRecordConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.stability().steps_of(self.row.id, page, self.access.clone()).await
    }

    /// The mitigation measures, in the order they were set.
    #[allow(clippy::too_many_arguments, reason = "a GraphQL field: the Relay page arguments alone are four")]
    async fn measures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the measures past their deadline and not done.", default)] overdue_only: bool,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MitigationMeasureConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.stability().measures_of(self.row.id, MeasureArgs { page, overdue_only }).await
    }
}

/// One step taken in an assessment.
pub struct AssessmentStepRecord {
    pub row: assessment_step::Model,
    pub access: Access,
}

/// One step taken in a stability assessment: who, when, what they found, the documents attached.
#[Object]
impl AssessmentStepRecord {
    /// Which step.
    async fn step(&self) -> AssessmentStep {
        self.row.step.into()
    }

    /// Who took it (their token's subject).
    async fn actor(&self) -> &str {
        &self.row.actor
    }

    /// When.
    async fn occurred_at(&self) -> Timestamp {
        Timestamp(self.row.occurred_at)
    }

    /// What was found (sensitive: null with `FORBIDDEN` unless your role may read it and you stated a purpose).
    async fn findings(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.assessment_id, self.row.findings.clone())?))
    }

    /// References to the documents attached (file numbers, archive addresses): at most 10.
    async fn attachments(&self) -> Vec<String> {
        serde_json::from_str(&self.row.attachments).unwrap_or_default()
    }
}

/// A mitigation measure.
pub struct MitigationMeasure {
    pub row: mitigation_measure::Model,
}

/// A mitigation measure (风险防范化解措施): what is to be done, who answers for it, by when.
#[Object]
impl MitigationMeasure {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::MitigationMeasure, self.row.id)
    }

    /// What is to be done.
    async fn description(&self) -> &str {
        &self.row.description
    }

    /// Who answers for it (a department or a post).
    async fn owner(&self) -> &str {
        &self.row.owner
    }

    /// The deadline (local day: due by its end).
    async fn due_on(&self) -> Date {
        Date(self.row.due_on)
    }

    /// When it was done (local day); null while it is not.
    async fn completed_on(&self) -> Option<Date> {
        self.row.completed_on.map(Date)
    }

    /// Whether it is done.
    async fn done(&self) -> bool {
        self.row.completed_on.is_some()
    }

    /// Whether it is past its deadline and not done.
    async fn overdue(&self) -> bool {
        self.row.completed_on.is_none() && self.row.due_on < crate::validate::today()
    }
}

/// A responsible unit.
pub struct ResponsibleUnit {
    pub row: responsible_unit::Model,
    pub access: Access,
}

/// A unit responsible for major projects (责任单位), with its annual evaluation.
#[Object]
impl ResponsibleUnit {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::ResponsibleUnit, self.row.id)
    }

    /// Unit code, e.g. `RU00012`.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// The unit's name.
    async fn name(&self) -> &str {
        &self.row.name
    }

    /// The region it belongs to; null if outside your scope.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// Its annual evaluation of `year`: vetoed when a veto was recorded for that year.
    async fn evaluation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The evaluation year.")] year: i32,
    ) -> ApiResult<UnitEvaluationOutcome> {
        let vetoed = RequestData::of(ctx)?.stability().veto_years_of(self.row.id).await?.contains(&year);
        Ok(if vetoed { UnitEvaluationOutcome::Vetoed } else { UnitEvaluationOutcome::Passed })
    }

    /// Its projects in your scope, in registration order.
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MajorProjectConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.stability().projects_of_unit(self.row.id, page).await
    }

    /// The vetoes of its annual evaluations, oldest first.
    async fn vetoes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<UnitVetoConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.stability().vetoes_of(self.row.id, page).await
    }
}

/// A veto of a unit's annual evaluation.
pub struct UnitVeto {
    pub row: unit_veto::Model,
}

/// A veto of a responsible unit's annual evaluation (一票否决), with its reason.
#[Object]
impl UnitVeto {
    /// The evaluation year.
    async fn year(&self) -> i32 {
        self.row.year
    }

    /// Why the unit was vetoed.
    async fn reason(&self) -> &str {
        &self.row.reason
    }

    /// The project it concerns, if one was named and it is in your scope.
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<MajorProject>> {
        match self.row.project_id {
            Some(id) => RequestData::of(ctx)?.stability().project_by_id(id).await,
            None => Ok(None),
        }
    }

    /// Who recorded it (their token's subject).
    async fn recorded_by(&self) -> &str {
        &self.row.recorded_by
    }

    /// When it was recorded.
    async fn recorded_at(&self) -> Timestamp {
        Timestamp(self.row.recorded_at)
    }

    /// The unit vetoed; null if outside your scope.
    async fn unit(&self, ctx: &Context<'_>) -> ApiResult<Option<ResponsibleUnit>> {
        RequestData::of(ctx)?.stability().unit_by_id(self.row.unit_id).await
    }
}

crate::connection_type!(MajorProjectConnection, MajorProjectEdge, MajorProject, "major projects");
crate::connection_type!(
    AssessmentStepRecordConnection,
    AssessmentStepRecordEdge,
    AssessmentStepRecord,
    "assessment steps"
);
crate::connection_type!(
    MitigationMeasureConnection,
    MitigationMeasureEdge,
    MitigationMeasure,
    "mitigation measures"
);
crate::connection_type!(ResponsibleUnitConnection, ResponsibleUnitEdge, ResponsibleUnit, "responsible units");
crate::connection_type!(UnitVetoConnection, UnitVetoEdge, UnitVeto, "unit vetoes");
