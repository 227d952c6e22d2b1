//! The assessment's steps, the measures, the recorded start, the vetoes, the registers of units and projects,
//! and the link from a dispute to the project it arose from. Each runs in the one mutation frame with its audit
//! event; each step is also an `assessment_step` row (who, when, findings, attachments), and a step the state
//! machine does not allow is a `CONFLICT`.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{Datelike, Utc};
use entities::stability_assessment::{AssessmentStep as DbStep, RiskRating as DbRating};
use entities::{
    assessment_step, dispute, major_project, mitigation_measure, region, responsible_unit,
    stability_assessment, unit_veto,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, PaginatorTrait, QueryFilter};

use super::types::{
    MAX_ATTACHMENTS, MajorProject, MitigationMeasure, ProjectKind, ResponsibleUnit, RiskRating,
};
use super::workflow::{check, check_start, is_complete, step_name};
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource};
use crate::disputes::types::Dispute;
use crate::error::{ApiError, ApiResult};
use crate::frame::{Change, Outcome};
use crate::money::Money;
use crate::node::{NodeType, parse_typed_id};
use crate::request::RequestData;
use crate::scalars::Date;
use crate::validate;

/// The longest findings of a step.
const MAX_FINDINGS: usize = 2000;
/// The longest reference to an attached document.
const MAX_ATTACHMENT: usize = 256;
/// The most measures set at once.
pub const MAX_MEASURES: usize = 20;

/// A responsible unit.
#[derive(InputObject, Debug, Clone)]
pub struct RegisterResponsibleUnitInput {
    /// The unit's name (at most 128 characters).
    pub name: String,
    /// Code of the region it belongs to (in your scope).
    pub region_code: String,
    /// The `sub` of its officer's token (at most 64 characters): what links the officer to the unit's projects.
    pub officer_subject: Option<String>,
}

/// A major project.
#[derive(InputObject, Debug, Clone)]
pub struct RegisterMajorProjectInput {
    /// The project's name (at most 128 characters).
    pub name: String,
    /// What kind of project.
    pub kind: ProjectKind,
    /// Code of the region where it is built (in your scope).
    pub region_code: String,
    /// Code of the responsible unit (in your scope; a unit's officer: their own unit).
    pub unit_code: String,
    /// The investment, in yuan.
    pub investment: Money,
    /// The planned start (local day).
    pub planned_start: Date,
    /// Households affected (0 to 1,000,000).
    pub affected_households: i32,
}

/// What a step of the assessment records.
#[derive(InputObject, Debug, Clone)]
pub struct AssessmentStepInput {
    /// What was found or decided (1 to 2000 characters; sensitive).
    pub findings: String,
    /// References to the documents attached: file numbers or archive addresses (at most 10, each at most 256
    /// characters).
    #[graphql(default)]
    pub attachments: Vec<String>,
}

/// A mitigation measure.
#[derive(InputObject, Debug, Clone)]
pub struct MitigationMeasureInput {
    /// What is to be done (1 to 500 characters).
    pub description: String,
    /// Who answers for it: a department or a post (at most 64 characters).
    pub owner: String,
    /// The deadline (local day).
    pub due_on: Date,
}

/// A step's content, checked.
struct StepContent {
    findings: String,
    attachments: String,
}

fn valid_step(input: &AssessmentStepInput) -> Result<StepContent, ApiError> {
    let findings = validate::text("input.findings", &input.findings, MAX_FINDINGS)?;
    if input.attachments.len() > MAX_ATTACHMENTS {
        return Err(ApiError::bad_input(
            "input.attachments",
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    let attachments = input
        .attachments
        .iter()
        .enumerate()
        .map(|(index, reference)| {
            validate::text(&format!("input.attachments[{index}]"), reference, MAX_ATTACHMENT)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let attachments = serde_json::to_string(&attachments)
        .map_err(|err| ApiError::Internal(format!("attachments: {err}")))?;
    Ok(StepContent { findings, attachments })
}

/// A project of the caller's scope (for a unit's officer: of their unit) by global ID, locked, or `NOT_FOUND`.
async fn project_in_scope(
    txn: &DatabaseTransaction,
    access: &Access,
    id: i64,
) -> Result<major_project::Model, ApiError> {
    crate::db::lock_row::<major_project::Entity, _>(txn, id).await?;
    crate::scope::read::<major_project::Entity>(access)
        .filter(major_project::Column::Id.eq(id))
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("major project"))
}

async fn assessment_of(
    txn: &DatabaseTransaction,
    access: &Access,
    project_id: i64,
) -> Result<Option<stability_assessment::Model>, ApiError> {
    Ok(crate::scope::read::<stability_assessment::Entity>(access)
        .filter(stability_assessment::Column::ProjectId.eq(project_id))
        .one(txn)
        .await?)
}

/// The mutation that takes each step, as the audit trail names it.
fn action_of(step: DbStep) -> &'static str {
    match step {
        DbStep::Application => "submitStabilityAssessment",
        DbStep::Investigation => "recordStabilityInvestigation",
        DbStep::JointReview => "recordStabilityJointReview",
        DbStep::Rating => "rateStabilityRisk",
        DbStep::Feedback => "giveStabilityFeedback",
        DbStep::Measures => "setMitigationMeasures",
    }
}

/// One step of the assessment of project `id`, in the one mutation frame: the caller needs `action` on major
/// projects; the state machine decides whether the step may be taken; `rating` is recorded at the rating step,
/// `measures` inserted at the last.
async fn take_step(
    ctx: &Context<'_>,
    id: &ID,
    action: Action,
    step: DbStep,
    content: StepContent,
    rating: Option<DbRating>,
    measures: Vec<mitigation_measure::ActiveModel>,
) -> ApiResult<MajorProject> {
    let request = RequestData::of(ctx)?;
    let access = request.authorize(Resource::MajorProject, action).await?;
    let project_id = parse_typed_id(id, NodeType::MajorProject, "projectId")?;
    let subject = request.viewer.subject().to_owned();
    let changed = crate::frame::write(request, async |txn| {
        let project = project_in_scope(txn, &access, project_id).await?;
        let assessment = assessment_of(txn, &access, project.id).await?;
        check(assessment.as_ref().map(|a| a.step), step, project.started_on.is_some())?;
        let now = Utc::now();
        let assessment_id = match assessment {
            None => {
                stability_assessment::ActiveModel {
                    id: NotSet,
                    project_id: Set(project.id),
                    step: Set(step),
                    rating: Set(None),
                    completed_at: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(txn)
                .await?
                .id
            }
            Some(row) => {
                let id = row.id;
                let mut changed: stability_assessment::ActiveModel = row.into();
                changed.step = Set(step);
                if let Some(rating) = rating {
                    changed.rating = Set(Some(rating));
                }
                if is_complete(Some(step)) {
                    changed.completed_at = Set(Some(now));
                }
                changed.updated_at = Set(now);
                changed.update(txn).await?;
                id
            }
        };
        assessment_step::ActiveModel {
            id: NotSet,
            assessment_id: Set(assessment_id),
            step: Set(step),
            actor: Set(subject.clone()),
            occurred_at: Set(now),
            findings: Set(content.findings.clone()),
            attachments: Set(content.attachments.clone()),
        }
        .insert(txn)
        .await?;
        for mut measure in measures.clone() {
            measure.assessment_id = Set(assessment_id);
            measure.insert(txn).await?;
        }
        let mut detail = step_name(step).to_owned();
        if let Some(rating) = rating {
            detail.push_str(&format!(": {} risk", rating_name(rating)));
        }
        if !measures.is_empty() {
            detail.push_str(&format!(": {} measures", measures.len()));
        }
        let change = Change::of(action_of(step), Resource::MajorProject, [project.id], Some(detail));
        Ok(Outcome::Changed(project.id, change))
    })
    .await?;
    reload(request, changed).await
}

fn rating_name(rating: DbRating) -> &'static str {
    match rating {
        DbRating::Low => "LOW",
        DbRating::Medium => "MEDIUM",
        DbRating::High => "HIGH",
    }
}

async fn reload(request: &RequestData, id: i64) -> ApiResult<MajorProject> {
    request.stability().project_by_id(id).await?.ok_or_else(|| ApiError::NotFound("major project").into())
}

/// Mutations of the stability domain.
#[derive(Default)]
pub struct StabilityMutation;

#[Object]
impl StabilityMutation {
    /// Registers a responsible unit in a region of your scope, linked to its officer's token subject so that the
    /// officer works on the unit's projects.
    async fn register_responsible_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit: name, region and its officer's token subject.")]
        input: RegisterResponsibleUnitInput,
    ) -> ApiResult<ResponsibleUnit> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::ResponsibleUnit, Action::Create).await?;
        let name = validate::text("input.name", &input.name, 128)?;
        let region_code = validate::code("input.regionCode", &input.region_code)?.to_owned();
        let subject = validate::optional_text("input.officerSubject", input.officer_subject.as_deref(), 64)?;
        let changed = crate::frame::write(request, async |txn| {
            let region = crate::scope::read::<region::Entity>(&access)
                .filter(region::Column::Code.eq(region_code.as_str()))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_input("input.regionCode", "no region with this code in your scope")
                })?;
            let id = crate::db::next_id::<responsible_unit::Entity, _>(txn).await?;
            responsible_unit::ActiveModel {
                id: Set(id),
                code: Set(format!("RU{id:05}")),
                name: Set(name.clone()),
                region_id: Set(region.id),
                officer_subject: Set(subject.clone()),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(|err| ApiError::from_db(err, "a unit with this officer subject"))?;
            Ok(Outcome::Changed(
                id,
                Change::of("registerResponsibleUnit", Resource::ResponsibleUnit, [id], None),
            ))
        })
        .await?;
        request
            .stability()
            .unit_by_id(changed)
            .await?
            .ok_or_else(|| ApiError::NotFound("responsible unit").into())
    }

    /// Registers a major project of a responsible unit in a region of your scope (a unit's officer: of their own
    /// unit). Its assessment begins with `submitStabilityAssessment`.
    async fn register_major_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The project: name, kind, region, unit, investment, planned start, households affected."
        )]
        input: RegisterMajorProjectInput,
    ) -> ApiResult<MajorProject> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::MajorProject, Action::Create).await?;
        let units = request.authorize(Resource::ResponsibleUnit, Action::Read).await?;
        let name = validate::text("input.name", &input.name, 128)?;
        let region_code = validate::code("input.regionCode", &input.region_code)?.to_owned();
        let unit_code = validate::code("input.unitCode", &input.unit_code)?.to_owned();
        let investment = input.investment.fen("input.investment")?;
        if !(0..=1_000_000).contains(&input.affected_households) {
            return Err(ApiError::bad_input("input.affectedHouseholds", "between 0 and 1000000").into());
        }
        let subject = request.viewer.subject().to_owned();
        let changed = crate::frame::write(request, async |txn| {
            let region = crate::scope::read::<region::Entity>(&access)
                .filter(region::Column::Code.eq(region_code.as_str()))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_input("input.regionCode", "no region with this code in your scope")
                })?;
            let unit = crate::scope::read::<responsible_unit::Entity>(&units)
                .filter(responsible_unit::Column::Code.eq(unit_code.as_str()))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_input("input.unitCode", "no responsible unit with this code in your scope")
                })?;
            let id = crate::db::next_id::<major_project::Entity, _>(txn).await?;
            let now = Utc::now();
            major_project::ActiveModel {
                id: Set(id),
                code: Set(format!("MP{}{id:06}", input.planned_start.0.year())),
                name: Set(name.clone()),
                kind: Set(input.kind.into()),
                region_id: Set(region.id),
                unit_id: Set(unit.id),
                investment_fen: Set(investment),
                planned_start: Set(input.planned_start.0),
                affected_households: Set(input.affected_households),
                started_on: Set(None),
                started_without_assessment: Set(false),
                created_by: Set(subject.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?;
            let detail = Some(format!("unit {}", unit.code));
            Ok(Outcome::Changed(id, Change::of("registerMajorProject", Resource::MajorProject, [id], detail)))
        })
        .await?;
        reload(request, changed).await
    }

    /// Step 1, 提交申请: the responsible unit applies for the project's assessment.
    async fn submit_stability_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] project_id: ID,
        #[graphql(desc = "The application: what the project involves, the documents attached.")]
        input: AssessmentStepInput,
    ) -> ApiResult<MajorProject> {
        let content = valid_step(&input)?;
        take_step(ctx, &project_id, Action::Create, DbStep::Application, content, None, Vec::new()).await
    }

    /// Step 2, 调研审查: the assessing office investigates (surveys, hearings, visits to the affected households).
    async fn record_stability_investigation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] project_id: ID,
        #[graphql(desc = "What the investigation found, the documents attached.")] input: AssessmentStepInput,
    ) -> ApiResult<MajorProject> {
        let content = valid_step(&input)?;
        take_step(ctx, &project_id, Action::Approve, DbStep::Investigation, content, None, Vec::new()).await
    }

    /// Step 3, 初审会审: the joint review by the departments concerned.
    async fn record_stability_joint_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] project_id: ID,
        #[graphql(desc = "What the reviewers concluded, the documents attached.")] input: AssessmentStepInput,
    ) -> ApiResult<MajorProject> {
        let content = valid_step(&input)?;
        take_step(ctx, &project_id, Action::Approve, DbStep::JointReview, content, None, Vec::new()).await
    }

    /// Step 4, 作出评定: the risk is rated. A project rated HIGH starts only once its measures are done.
    async fn rate_stability_risk(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] project_id: ID,
        #[graphql(desc = "The risk found.")] rating: RiskRating,
        #[graphql(desc = "The grounds of the rating, the documents attached.")] input: AssessmentStepInput,
    ) -> ApiResult<MajorProject> {
        let content = valid_step(&input)?;
        let rating = Some(rating.into());
        take_step(ctx, &project_id, Action::Approve, DbStep::Rating, content, rating, Vec::new()).await
    }

    /// Step 5, 反馈意见: the assessing office's opinion goes back to the responsible unit.
    async fn give_stability_feedback(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] project_id: ID,
        #[graphql(desc = "The opinion, the documents attached.")] input: AssessmentStepInput,
    ) -> ApiResult<MajorProject> {
        let content = valid_step(&input)?;
        take_step(ctx, &project_id, Action::Approve, DbStep::Feedback, content, None, Vec::new()).await
    }

    /// Step 6, 制定措施: the unit sets the mitigation measures, with owners and deadlines (at least one for a
    /// project rated HIGH); the assessment is then complete.
    async fn set_mitigation_measures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] project_id: ID,
        #[graphql(desc = "The measures (at most 20).")] measures: Vec<MitigationMeasureInput>,
        #[graphql(desc = "The plan as a whole, the documents attached.")] input: AssessmentStepInput,
    ) -> ApiResult<MajorProject> {
        let content = valid_step(&input)?;
        if measures.len() > MAX_MEASURES {
            return Err(ApiError::bad_input("measures", format!("at most {MAX_MEASURES} measures")).into());
        }
        let mut rows = Vec::new();
        for (index, measure) in measures.iter().enumerate() {
            let description =
                validate::text(&format!("measures[{index}].description"), &measure.description, 500)?;
            let owner = validate::text(&format!("measures[{index}].owner"), &measure.owner, 64)?;
            rows.push(mitigation_measure::ActiveModel {
                id: NotSet,
                assessment_id: NotSet,
                description: Set(description),
                owner: Set(owner),
                due_on: Set(measure.due_on.0),
                completed_on: Set(None),
                completed_by: Set(None),
                created_at: Set(Utc::now()),
            });
        }
        let request = RequestData::of(ctx)?;
        let id = parse_typed_id(&project_id, NodeType::MajorProject, "projectId")?;
        if rows.is_empty() {
            let access = request.authorize(Resource::MajorProject, Action::Update).await?;
            let rating = crate::scope::read::<stability_assessment::Entity>(&access)
                .filter(stability_assessment::Column::ProjectId.eq(id))
                .one(&request.db)
                .await
                .map_err(ApiError::from)?
                .and_then(|assessment| assessment.rating);
            if rating == Some(DbRating::High) {
                return Err(ApiError::bad_input(
                    "measures",
                    "a project rated HIGH needs at least one measure",
                )
                .into());
            }
        }
        take_step(ctx, &project_id, Action::Update, DbStep::Measures, content, None, rows).await
    }

    /// Records that a mitigation measure was done.
    async fn complete_mitigation_measure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the measure.")] id: ID,
        #[graphql(desc = "The day it was done (default today; not in the future).")] completed_on: Option<
            Date,
        >,
    ) -> ApiResult<MitigationMeasure> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::MajorProject, Action::Update).await?;
        let measure_id = parse_typed_id(&id, NodeType::MitigationMeasure, "id")?;
        let day = match completed_on {
            Some(day) => validate::not_future("completedOn", day.0)?,
            None => validate::today(),
        };
        let subject = request.viewer.subject().to_owned();
        let changed = crate::frame::write(request, async |txn| {
            let measure = crate::scope::read::<mitigation_measure::Entity>(&access)
                .filter(mitigation_measure::Column::Id.eq(measure_id))
                .one(txn)
                .await?
                .ok_or(ApiError::NotFound("mitigation measure"))?;
            if measure.completed_on.is_some() {
                return Err(ApiError::Conflict("the measure is done already".into()));
            }
            let project_id = crate::scope::read::<stability_assessment::Entity>(&access)
                .filter(stability_assessment::Column::Id.eq(measure.assessment_id))
                .one(txn)
                .await?
                .ok_or(ApiError::NotFound("mitigation measure"))?
                .project_id;
            let mut changed: mitigation_measure::ActiveModel = measure.clone().into();
            changed.completed_on = Set(Some(day));
            changed.completed_by = Set(Some(subject.clone()));
            changed.update(txn).await?;
            let change = Change::about(
                "completeMitigationMeasure",
                &[("mitigation_measure", measure.id), (Resource::MajorProject.as_str(), project_id)],
                Some(format!("done on {day}")),
            );
            Ok(Outcome::Changed(measure.id, change))
        })
        .await?;
        request
            .stability()
            .measure_by_id(changed)
            .await?
            .ok_or_else(|| ApiError::NotFound("mitigation measure").into())
    }

    /// Records a project's start (ground-breaking). A project rated HIGH is refused (`CONFLICT`) until its
    /// measures are set and done; a start recorded before the assessment is complete flags the project.
    async fn record_project_start(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] project_id: ID,
        #[graphql(desc = "The day it started (not in the future).")] started_on: Date,
    ) -> ApiResult<MajorProject> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::MajorProject, Action::Update).await?;
        let id = parse_typed_id(&project_id, NodeType::MajorProject, "projectId")?;
        let day = validate::not_future("startedOn", started_on.0)?;
        let changed = crate::frame::write(request, async |txn| {
            let project = project_in_scope(txn, &access, id).await?;
            let assessment = assessment_of(txn, &access, project.id).await?;
            let open = match &assessment {
                Some(assessment) => {
                    crate::scope::read::<mitigation_measure::Entity>(&access)
                        .filter(mitigation_measure::Column::AssessmentId.eq(assessment.id))
                        .filter(mitigation_measure::Column::CompletedOn.is_null())
                        .count(txn)
                        .await?
                }
                None => 0,
            };
            let last = assessment.as_ref().map(|a| a.step);
            check_start(
                project.started_on.is_some(),
                last,
                assessment.as_ref().and_then(|a| a.rating),
                open,
            )?;
            let without = !is_complete(last);
            let mut changed: major_project::ActiveModel = project.clone().into();
            changed.started_on = Set(Some(day));
            changed.started_without_assessment = Set(without);
            changed.updated_at = Set(Utc::now());
            changed.update(txn).await?;
            let detail = if without {
                format!("started {day} without a completed assessment")
            } else {
                format!("started {day}")
            };
            let change = Change::of("recordProjectStart", Resource::MajorProject, [project.id], Some(detail));
            Ok(Outcome::Changed(project.id, change))
        })
        .await?;
        reload(request, changed).await
    }

    /// Vetoes a responsible unit's annual evaluation (一票否决) for skipping an assessment or failing to resolve
    /// the risks it found: a reason is required; a unit is vetoed at most once a year (`CONFLICT`).
    async fn veto_responsible_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the unit.")] unit_id: ID,
        #[graphql(desc = "The evaluation year (2000 to this year).")] year: i32,
        #[graphql(desc = "Why (1 to 500 characters).")] reason: String,
        #[graphql(desc = "Global ID of the project concerned, if one.")] project_id: Option<ID>,
    ) -> ApiResult<ResponsibleUnit> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::ResponsibleUnit, Action::Approve).await?;
        let unit_id = parse_typed_id(&unit_id, NodeType::ResponsibleUnit, "unitId")?;
        let reason = validate::text("reason", &reason, 500)?;
        if !(2000..=validate::today().year()).contains(&year) {
            return Err(ApiError::bad_input("year", "between 2000 and this year").into());
        }
        let project_id = project_id
            .as_ref()
            .map(|id| parse_typed_id(id, NodeType::MajorProject, "projectId"))
            .transpose()?;
        let projects = match project_id {
            Some(_) => Some(request.authorize(Resource::MajorProject, Action::Read).await?),
            None => None,
        };
        let subject = request.viewer.subject().to_owned();
        let changed = crate::frame::write(request, async |txn| {
            crate::db::lock_row::<responsible_unit::Entity, _>(txn, unit_id).await?;
            let unit = crate::scope::read::<responsible_unit::Entity>(&access)
                .filter(responsible_unit::Column::Id.eq(unit_id))
                .one(txn)
                .await?
                .ok_or(ApiError::NotFound("responsible unit"))?;
            if let (Some(project_id), Some(projects)) = (project_id, &projects) {
                crate::scope::read::<major_project::Entity>(projects)
                    .filter(major_project::Column::Id.eq(project_id))
                    .filter(major_project::Column::UnitId.eq(unit.id))
                    .one(txn)
                    .await?
                    .ok_or_else(|| {
                        ApiError::bad_input("projectId", "no project of this unit in your scope")
                    })?;
            }
            let vetoed = crate::scope::read::<unit_veto::Entity>(&access)
                .filter(unit_veto::Column::UnitId.eq(unit.id))
                .filter(unit_veto::Column::Year.eq(year))
                .count(txn)
                .await?;
            if vetoed > 0 {
                return Err(ApiError::Conflict(format!(
                    "the unit was vetoed in its {year} evaluation already"
                )));
            }
            let veto = unit_veto::ActiveModel {
                id: NotSet,
                unit_id: Set(unit.id),
                year: Set(year),
                reason: Set(reason.clone()),
                project_id: Set(project_id),
                recorded_by: Set(subject.clone()),
                recorded_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(|err| ApiError::from_db(err, "a veto of this unit in this year"))?;
            let mut records = vec![(Resource::ResponsibleUnit.as_str(), unit.id), ("unit_veto", veto.id)];
            if let Some(project_id) = project_id {
                records.push((Resource::MajorProject.as_str(), project_id));
            }
            let change = Change::about("vetoResponsibleUnit", &records, Some(format!("{year}: {reason}")));
            Ok(Outcome::Changed(unit.id, change))
        })
        .await?;
        request
            .stability()
            .unit_by_id(changed)
            .await?
            .ok_or_else(|| ApiError::NotFound("responsible unit").into())
    }

    /// Links a dispute to the major project it arose from, and flags whether it is an instability incident (a
    /// mass incident or an escalation that the project's assessment is judged by). Linking again to the same
    /// project changes the flag; a dispute linked to another project is a `CONFLICT`.
    async fn link_dispute_to_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] dispute_id: ID,
        #[graphql(desc = "Global ID of the project.")] project_id: ID,
        #[graphql(desc = "Whether the dispute is an instability incident.")] instability_incident: bool,
    ) -> ApiResult<Dispute> {
        let request = RequestData::of(ctx)?;
        let disputes = request.authorize(Resource::Dispute, Action::Approve).await?;
        let projects = request.authorize(Resource::MajorProject, Action::Read).await?;
        let dispute_id = parse_typed_id(&dispute_id, NodeType::Dispute, "disputeId")?;
        let project_id = parse_typed_id(&project_id, NodeType::MajorProject, "projectId")?;
        let changed = crate::frame::write(request, async |txn| {
            crate::db::lock_row::<dispute::Entity, _>(txn, dispute_id).await?;
            let row = crate::scope::read::<dispute::Entity>(&disputes)
                .filter(dispute::Column::Id.eq(dispute_id))
                .one(txn)
                .await?
                .ok_or(ApiError::NotFound("dispute"))?;
            let project = crate::scope::read::<major_project::Entity>(&projects)
                .filter(major_project::Column::Id.eq(project_id))
                .one(txn)
                .await?
                .ok_or(ApiError::NotFound("major project"))?;
            if row.major_project_id.is_some_and(|linked| linked != project.id) {
                return Err(ApiError::Conflict("the dispute is linked to another project".into()));
            }
            let mut changed: dispute::ActiveModel = row.clone().into();
            changed.major_project_id = Set(Some(project.id));
            changed.instability_incident = Set(instability_incident);
            changed.updated_at = Set(Utc::now());
            changed.update(txn).await?;
            let detail = format!(
                "{} → {}{}",
                row.code,
                project.code,
                if instability_incident { ", an instability incident" } else { "" }
            );
            let change = Change::about(
                "linkDisputeToProject",
                &[(Resource::Dispute.as_str(), row.id), (Resource::MajorProject.as_str(), project.id)],
                Some(detail),
            );
            Ok(Outcome::Changed(row.id, change))
        })
        .await?;
        request.disputes().dispute_by_id(changed).await?.ok_or_else(|| ApiError::NotFound("dispute").into())
    }
}
