//! The dispute workflow's mutations, and the registers of fishing vessels and mediators. Each runs in the one
//! mutation frame with its audit event; every transition is also a `dispute_event` row (who, when, the region
//! handling the case, a note), and a transition the state machine does not allow is a `CONFLICT`.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Datelike, Duration, Utc};
use entities::dispute::{
    self, DisputeState as DbState, EscalationTarget as DbTarget, MediationOutcome as DbOutcome,
};
use entities::{
    dispute_event, dispute_party, dispute_vessel, fishing_vessel, mediation_boat, mediator, region,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, QueryFilter};

use super::deadline::DisputeDeadlines;
use super::subscription::announcement;
use super::types::{
    Dispute, DisputeCategory, DisputeChannel, EscalationRisk, EscalationTarget, FishingVessel, Mediator,
    MediatorKind, PartyKind, PartyRole,
};
use super::workflow::{Step, next};
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::frame::{Change, Outcome};
use crate::node::{NodeType, parse_typed_id};
use crate::request::RequestData;
use crate::validate;

/// The most parties a dispute may have: `Dispute.parties` promises it.
pub const MAX_PARTIES: usize = 20;
/// The most vessels a dispute may involve: `Dispute.vessels` promises it.
pub const MAX_VESSELS: usize = 10;
/// The longest summary, agreement or note.
const MAX_TEXT: usize = 2000;

/// A party to a reported dispute.
#[derive(InputObject, Debug, Clone)]
pub struct DisputePartyInput {
    /// Person or organisation.
    pub kind: PartyKind,
    /// The side they are on.
    pub role: PartyRole,
    /// Name (at most 128 characters).
    pub name: String,
    /// A person's identity card number (18 characters, checked).
    pub id_number: Option<String>,
    /// A mobile phone (11 digits).
    pub phone: Option<String>,
}

/// A dispute reported in a grid.
#[derive(InputObject, Debug, Clone)]
pub struct ReportDisputeInput {
    /// Code of the grid where it arose (in your scope).
    pub grid_code: String,
    /// How it came to notice.
    pub channel: DisputeChannel,
    /// What it is about.
    pub category: DisputeCategory,
    /// What happened (1 to 2000 characters; sensitive).
    pub summary: String,
    /// How likely it is to escalate.
    pub escalation_risk: EscalationRisk,
    /// The sea area, for disputes at sea (at most 64 characters), e.g. 岱衢洋.
    pub sea_area: Option<String>,
    /// When it was found (default now; not in the future).
    pub reported_at: Option<crate::scalars::Timestamp>,
    /// The parties (1 to 20).
    pub parties: Vec<DisputePartyInput>,
    /// Registration numbers of the fishing vessels involved (at most 10).
    #[graphql(default)]
    pub vessel_registration_nos: Vec<String>,
    /// Unique key of this report (1 to 128 characters): resending the same report with the same key returns the
    /// dispute the first attempt created; the same key with another report is a `CONFLICT`.
    pub idempotency_key: String,
}

/// A fishing vessel's record.
#[derive(InputObject, Debug, Clone)]
pub struct RegisterFishingVesselInput {
    /// Registration number (at most 32 characters), e.g. 浙岱渔03125.
    pub registration_no: String,
    /// The vessel's name (at most 64 characters).
    pub name: String,
    /// Code of its home port's township (in your scope).
    pub home_port_code: String,
    /// The owner's name (at most 64 characters).
    pub owner_name: String,
    /// The owner's identity card number (18 characters, checked).
    pub owner_id_number: String,
    /// The owner's mobile phone (11 digits).
    pub owner_phone: String,
    /// Crew on board (1 to 200).
    pub crew_size: i32,
    /// Safety star rating (1 to 5).
    pub safety_stars: i32,
}

/// Changes to a fishing vessel's record; omitted fields stay as they are.
#[derive(InputObject, Debug, Clone, Default)]
pub struct UpdateFishingVesselInput {
    /// The owner's name (at most 64 characters).
    pub owner_name: Option<String>,
    /// The owner's mobile phone (11 digits).
    pub owner_phone: Option<String>,
    /// Crew on board (1 to 200).
    pub crew_size: Option<i32>,
    /// Safety star rating (1 to 5).
    pub safety_stars: Option<i32>,
    /// Global ID of the grid team member linked to the vessel (定人联船).
    pub grid_worker_id: Option<ID>,
}

/// A mediator.
#[derive(InputObject, Debug, Clone)]
pub struct RegisterMediatorInput {
    /// The mediator's name (at most 64 characters).
    pub name: String,
    /// Mobile phone (11 digits).
    pub phone: String,
    /// What kind of mediator.
    pub kind: MediatorKind,
    /// Code of the region they mediate in (in your scope).
    pub region_code: String,
    /// The `sub` of their token (at most 64 characters): what links them to the disputes assigned to them.
    pub subject: Option<String>,
    /// Code of the mediation boat whose crew they belong to.
    pub boat_code: Option<String>,
}

/// Mutations of the disputes domain.
#[derive(Default)]
pub struct DisputesMutation;

/// A dispute of the caller's scope (for a mediator: one assigned to them) by global ID, or `NOT_FOUND`.
async fn dispute_in_scope(
    txn: &DatabaseTransaction,
    access: &Access,
    id: &ID,
) -> Result<dispute::Model, ApiError> {
    let id = parse_typed_id(id, NodeType::Dispute, "id")?;
    crate::db::lock_row::<dispute::Entity, _>(txn, id).await?;
    crate::scope::read::<dispute::Entity>(access)
        .filter(dispute::Column::Id.eq(id))
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("dispute"))
}

/// The note of a transition: optional, at most 2000 characters.
fn valid_note(note: Option<&str>) -> Result<Option<String>, ApiError> {
    validate::optional_text("note", note, MAX_TEXT)
}

/// What a transition changes besides the state.
#[derive(Default)]
struct Changes {
    region_id: Option<i64>,
    assignee: Option<(Option<i64>, Option<i64>)>,
    first_mediated_at: Option<DateTime<Utc>>,
    escalated_to: Option<DbTarget>,
    agreement: Option<String>,
    outcome: Option<Option<DbOutcome>>,
    resolved_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    /// The current stage begins again now (its deadline counted from here).
    new_stage: bool,
}

/// Who a dispute is assigned to, by code.
enum Assignee {
    Mediator(String),
    Boat(String),
}

/// One step of the workflow on the dispute `id`, in the one mutation frame: the caller needs `action` on disputes;
/// `changes` says what the step changes besides the state, given the locked row; the state machine decides whether
/// the step is allowed.
async fn take_step(
    ctx: &Context<'_>,
    id: &ID,
    action: Action,
    step: Step,
    note: Option<String>,
    changes: impl AsyncFnOnce(&DatabaseTransaction, &Access, &dispute::Model) -> Result<Changes, ApiError>,
) -> ApiResult<Dispute> {
    let request = RequestData::of(ctx)?;
    let access = request.authorize(Resource::Dispute, action).await?;
    let deadlines = deadlines(ctx);
    let changed = crate::frame::write(request, async |txn| {
        let row = dispute_in_scope(txn, &access, id).await?;
        let changes = changes(txn, &access, &row).await?;
        transition(txn, request, &deadlines, row, step, note, changes).await
    })
    .await?;
    reload(request, changed).await
}

/// Applies `step` to `row`: checks the state machine, writes the dispute and its event. Returns the dispute's id
/// and the audit event of the change.
async fn transition(
    txn: &DatabaseTransaction,
    request: &RequestData,
    deadlines: &DisputeDeadlines,
    row: dispute::Model,
    step: Step,
    note: Option<String>,
    changes: Changes,
) -> Result<Outcome<i64>, ApiError> {
    let to = next(row.state, step)?;
    let event = event_of(step);
    let now = Utc::now();
    let mut changed: dispute::ActiveModel = row.clone().into();
    changed.state = Set(to);
    let region_id = changes.region_id.unwrap_or(row.region_id);
    changed.region_id = Set(region_id);
    if let Some((mediator_id, boat_id)) = changes.assignee {
        changed.assignee_mediator_id = Set(mediator_id);
        changed.assignee_boat_id = Set(boat_id);
    }
    if let Some(at) = changes.first_mediated_at {
        changed.first_mediated_at = Set(Some(at));
    }
    if let Some(target) = changes.escalated_to {
        changed.escalated_to = Set(Some(target));
    }
    if let Some(agreement) = changes.agreement {
        changed.agreement = Set(Some(agreement));
    }
    if let Some(outcome) = changes.outcome {
        changed.outcome = Set(outcome);
    }
    if let Some(at) = changes.resolved_at {
        changed.resolved_at = Set(Some(at));
    }
    if let Some(at) = changes.closed_at {
        changed.closed_at = Set(Some(at));
    }
    if changes.new_stage {
        changed.stage_started_at = Set(now);
        changed.due_at = Set(deadlines.due(to, now));
    } else if !super::workflow::is_open(to) {
        changed.due_at = Set(None);
    }
    changed.updated_at = Set(now);
    changed.update(txn).await?;
    dispute_event::ActiveModel {
        id: NotSet,
        dispute_id: Set(row.id),
        kind: Set(event),
        from_state: Set(Some(row.state)),
        to_state: Set(Some(to)),
        region_id: Set(region_id),
        actor: Set(request.viewer.subject().to_owned()),
        occurred_at: Set(now),
        note: Set(note),
    }
    .insert(txn)
    .await?;
    let grid = crate::scope::unscoped::<region::Entity>(crate::scope::Unscoped::SameTransaction)
        .filter(region::Column::Id.eq(row.grid_id))
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("region"))?;
    let detail = Some(format!("{} → {}", state_name(row.state), state_name(to)));
    let change = Change::of(action_of(event), Resource::Dispute, [row.id], detail)
        .announcing([announcement(event, row.id, &grid.path)]);
    Ok(Outcome::Changed(row.id, change))
}

/// The event a step records.
fn event_of(step: Step) -> dispute_event::DisputeEventKind {
    use dispute_event::DisputeEventKind as K;
    match step {
        Step::Accept => K::Accepted,
        Step::Assign => K::Assigned,
        Step::Mediate => K::MediationSession,
        Step::Resolve => K::Resolved,
        Step::MarkUnresolved => K::Unresolved,
        Step::Escalate(_) => K::Escalated,
        Step::Close => K::Closed,
        Step::FollowUp => K::FollowUp,
    }
}

fn action_of(event: dispute_event::DisputeEventKind) -> &'static str {
    use dispute_event::DisputeEventKind as K;
    match event {
        K::Reported => "reportDispute",
        K::Accepted => "acceptDispute",
        K::Assigned => "assignDispute",
        K::MediationSession => "recordMediationSession",
        K::Resolved => "resolveDispute",
        K::Unresolved => "markDisputeUnresolved",
        K::Escalated => "escalateDispute",
        K::Closed => "closeDispute",
        K::FollowUp => "recordDisputeFollowUp",
    }
}

fn state_name(state: DbState) -> &'static str {
    use sea_orm::ActiveEnum;
    match state.to_value().as_str() {
        "REPORTED" => "REPORTED",
        "ACCEPTED" => "ACCEPTED",
        "ASSIGNED" => "ASSIGNED",
        "MEDIATING" => "MEDIATING",
        "RESOLVED" => "RESOLVED",
        "UNRESOLVED" => "UNRESOLVED",
        "ESCALATED" => "ESCALATED",
        _ => "CLOSED",
    }
}

async fn reload(request: &RequestData, id: i64) -> ApiResult<Dispute> {
    request.disputes().dispute_by_id(id).await?.ok_or_else(|| ApiError::NotFound("dispute").into())
}

fn deadlines(ctx: &Context<'_>) -> DisputeDeadlines {
    ctx.data_opt::<DisputeDeadlines>().copied().unwrap_or_default()
}

/// The region one level up from `region`, when there is a level of mediation above it (never above the city).
async fn parent_of(
    txn: &DatabaseTransaction,
    access: &Access,
    region_id: i64,
) -> Result<region::Model, ApiError> {
    let here = crate::scope::unscoped::<region::Entity>(crate::scope::Unscoped::SameTransaction)
        .filter(region::Column::Id.eq(region_id))
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("region"))?;
    let Some(parent_id) = here.parent_id else {
        return Err(ApiError::Conflict(
            "the city is the highest level of mediation: escalate out of mediation".into(),
        ));
    };
    crate::scope::read::<region::Entity>(access)
        .filter(region::Column::Id.eq(parent_id))
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::Forbidden("the next level up lies outside your scope".into()))
}

/// A party's fields, checked.
fn valid_party(index: usize, party: &DisputePartyInput) -> Result<dispute_party::ActiveModel, ApiError> {
    let field = |name: &str| format!("input.parties[{index}].{name}");
    let name = validate::text(&field("name"), &party.name, 128)?;
    let id_number = match party.id_number.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) if party.kind == PartyKind::Person => Some(validate::id_number(&field("idNumber"), id)?),
        Some(_) => {
            return Err(ApiError::bad_input(field("idNumber"), "only a person has an identity card number"));
        }
        None => None,
    };
    let phone = match party.phone.as_deref().map(str::trim).filter(|phone| !phone.is_empty()) {
        Some(phone) => Some(validate::mobile(&field("phone"), phone)?),
        None => None,
    };
    Ok(dispute_party::ActiveModel {
        id: NotSet,
        dispute_id: NotSet,
        kind: Set(party.kind.into()),
        role: Set(party.role.into()),
        name: Set(name),
        id_number: Set(id_number),
        phone: Set(phone),
        created_at: Set(Utc::now()),
    })
}

/// Whether an existing dispute is the one `input` reports again (the same grid, category, channel and summary,
/// by the same caller): then a resent report answers with it.
fn same_report(existing: &dispute::Model, input: &ReportDisputeInput, grid_id: i64, subject: &str) -> bool {
    existing.grid_id == grid_id
        && existing.category == input.category.into()
        && existing.channel == input.channel.into()
        && existing.summary == input.summary.trim()
        && existing.reported_by == subject
}

#[Object]
impl DisputesMutation {
    /// Reports a dispute in a grid of your scope. It is handled first by the grid's community, which must accept
    /// it within a day. Resending with the same `idempotencyKey` (phones on a fishing boat resend) returns the
    /// same dispute and writes nothing.
    async fn report_dispute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dispute: grid, channel, category, summary, risk, parties and vessels.")]
        input: ReportDisputeInput,
    ) -> ApiResult<Dispute> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Dispute, Action::Create).await?;
        let deadlines = deadlines(ctx);
        let summary = validate::text("input.summary", &input.summary, MAX_TEXT)?;
        let sea_area = validate::optional_text("input.seaArea", input.sea_area.as_deref(), 64)?;
        let key = validate::idempotency_key("input.idempotencyKey", &input.idempotency_key)?;
        let now = Utc::now();
        let reported_at = input.reported_at.map_or(now, |at| at.0);
        if reported_at > now + Duration::minutes(5) {
            return Err(ApiError::bad_input("input.reportedAt", "must not be in the future").into());
        }
        if input.parties.is_empty() || input.parties.len() > MAX_PARTIES {
            return Err(ApiError::bad_input("input.parties", format!("1 to {MAX_PARTIES} parties")).into());
        }
        let parties = input
            .parties
            .iter()
            .enumerate()
            .map(|(i, party)| valid_party(i, party))
            .collect::<Result<Vec<_>, _>>()?;
        if input.vessel_registration_nos.len() > MAX_VESSELS {
            return Err(ApiError::bad_input(
                "input.vesselRegistrationNos",
                format!("at most {MAX_VESSELS} vessels"),
            )
            .into());
        }
        for (index, registration) in input.vessel_registration_nos.iter().enumerate() {
            validate::code(&format!("input.vesselRegistrationNos[{index}]"), registration)?;
        }
        let subject = request.viewer.subject().to_owned();
        let attempt = crate::frame::write(request, async |txn| {
            let grid = crate::lookup::grid_in_scope(txn, &access, &input.grid_code, "input.gridCode").await?;
            let existing = crate::scope::unscoped::<dispute::Entity>(crate::scope::Unscoped::IdempotencyKey)
                .filter(dispute::Column::IdempotencyKey.eq(key.as_str()))
                .one(txn)
                .await?;
            if let Some(existing) = existing {
                return if same_report(&existing, &input, grid.id, &subject) {
                    Ok(Outcome::Unchanged(existing.id))
                } else {
                    Err(ApiError::Conflict("this idempotency key was used for another report".into()))
                };
            }
            let Some(community_id) = grid.parent_id else {
                return Err(ApiError::bad_input("input.gridCode", "not a grid"));
            };
            let mut vessel_ids = Vec::new();
            for (index, registration) in input.vessel_registration_nos.iter().enumerate() {
                let vessel = crate::scope::read::<fishing_vessel::Entity>(&access)
                    .filter(fishing_vessel::Column::RegistrationNo.eq(registration.trim()))
                    .one(txn)
                    .await?
                    .ok_or_else(|| {
                        ApiError::bad_input(
                            format!("input.vesselRegistrationNos[{index}]"),
                            "no such vessel in your scope",
                        )
                    })?;
                if !vessel_ids.contains(&vessel.id) {
                    vessel_ids.push(vessel.id);
                }
            }
            let id = crate::db::next_id::<dispute::Entity, _>(txn).await?;
            let year = (reported_at + Duration::hours(8)).year();
            dispute::ActiveModel {
                id: Set(id),
                code: Set(format!("MD{year}{id:06}")),
                grid_id: Set(grid.id),
                region_id: Set(community_id),
                sea_area: Set(sea_area.clone()),
                reported_at: Set(reported_at),
                channel: Set(input.channel.into()),
                category: Set(input.category.into()),
                summary: Set(summary.clone()),
                escalation_risk: Set(input.escalation_risk.into()),
                state: Set(DbState::Reported),
                stage_started_at: Set(reported_at),
                due_at: Set(deadlines.due(DbState::Reported, reported_at)),
                first_mediated_at: Set(None),
                assignee_mediator_id: Set(None),
                assignee_boat_id: Set(None),
                escalated_to: Set(None),
                agreement: Set(None),
                outcome: Set(None),
                resolved_at: Set(None),
                closed_at: Set(None),
                major_project_id: Set(None),
                instability_incident: Set(false),
                idempotency_key: Set(key.clone()),
                reported_by: Set(subject.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?;
            for mut party in parties.clone() {
                party.dispute_id = Set(id);
                party.insert(txn).await?;
            }
            for vessel_id in vessel_ids {
                dispute_vessel::ActiveModel { id: NotSet, dispute_id: Set(id), vessel_id: Set(vessel_id) }
                    .insert(txn)
                    .await?;
            }
            dispute_event::ActiveModel {
                id: NotSet,
                dispute_id: Set(id),
                kind: Set(dispute_event::DisputeEventKind::Reported),
                from_state: Set(None),
                to_state: Set(Some(DbState::Reported)),
                region_id: Set(community_id),
                actor: Set(subject.clone()),
                occurred_at: Set(reported_at),
                note: Set(None),
            }
            .insert(txn)
            .await?;
            let detail = Some(format!("grid {}", grid.code));
            let reported = announcement(dispute_event::DisputeEventKind::Reported, id, &grid.path);
            let change = Change::of("reportDispute", Resource::Dispute, [id], detail).announcing([reported]);
            Ok(Outcome::Changed(id, change))
        })
        .await;
        let id = match attempt {
            Ok(id) => id,
            // A concurrent resend with the same key committed first: answer with its dispute.
            Err(ApiError::Database(err))
                if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) =>
            {
                let existing = crate::scope::read::<dispute::Entity>(&access)
                    .filter(dispute::Column::IdempotencyKey.eq(key.as_str()))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?
                    .ok_or_else(|| {
                        ApiError::Conflict("this idempotency key was used for another report".into())
                    })?;
                existing.id
            }
            Err(err) => return Err(err.into()),
        };
        reload(request, id).await
    }

    /// Accepts a REPORTED dispute for mediation by the region handling it; the first session is then due within
    /// 7 days.
    async fn accept_dispute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] id: ID,
        #[graphql(desc = "A note for the record (at most 2000 characters).")] note: Option<String>,
    ) -> ApiResult<Dispute> {
        let note = valid_note(note.as_deref())?;
        take_step(ctx, &id, Action::Approve, Step::Accept, note, async |_, _, _| {
            Ok(Changes { new_stage: true, ..Changes::default() })
        })
        .await
    }

    /// Assigns an ACCEPTED (or reassigns an ASSIGNED) dispute to an active mediator or mediation boat of your
    /// scope: give exactly one of `mediatorCode` and `boatCode`.
    async fn assign_dispute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] id: ID,
        #[graphql(desc = "Code of the mediator.")] mediator_code: Option<String>,
        #[graphql(desc = "Code of the mediation boat.")] boat_code: Option<String>,
        #[graphql(desc = "A note for the record (at most 2000 characters).")] note: Option<String>,
    ) -> ApiResult<Dispute> {
        let note = valid_note(note.as_deref())?;
        let assignee = match (&mediator_code, &boat_code) {
            (Some(code), None) => Assignee::Mediator(validate::code("mediatorCode", code)?.to_owned()),
            (None, Some(code)) => Assignee::Boat(validate::code("boatCode", code)?.to_owned()),
            _ => {
                return Err(ApiError::bad_input(
                    "mediatorCode",
                    "give exactly one of `mediatorCode` and `boatCode`",
                )
                .into());
            }
        };
        let mediators = RequestData::of(ctx)?.authorize(Resource::Mediator, Action::Read).await?;
        take_step(ctx, &id, Action::Approve, Step::Assign, note, async |txn, _, _| {
            let assignee = match &assignee {
                Assignee::Mediator(code) => {
                    let found = crate::scope::read::<mediator::Entity>(&mediators)
                        .filter(mediator::Column::Code.eq(code.as_str()))
                        .filter(mediator::Column::Active.eq(true))
                        .one(txn)
                        .await?
                        .ok_or_else(|| {
                            ApiError::bad_input(
                                "mediatorCode",
                                "no active mediator with this code in your scope",
                            )
                        })?;
                    (Some(found.id), None)
                }
                Assignee::Boat(code) => {
                    let found = crate::scope::read::<mediation_boat::Entity>(&mediators)
                        .filter(mediation_boat::Column::Code.eq(code.as_str()))
                        .filter(mediation_boat::Column::Active.eq(true))
                        .one(txn)
                        .await?
                        .ok_or_else(|| {
                            ApiError::bad_input(
                                "boatCode",
                                "no active mediation boat with this code in your scope",
                            )
                        })?;
                    (None, Some(found.id))
                }
            };
            // Reassigning keeps the deadline of the first session; the first assignment does too (it runs from
            // acceptance).
            Ok(Changes { assignee: Some(assignee), ..Changes::default() })
        })
        .await
    }

    /// Records a mediation session on an ASSIGNED or MEDIATING dispute (mediators: on the disputes assigned to
    /// them). The first session starts mediation; resolution is then due within 30 days.
    async fn record_mediation_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] id: ID,
        #[graphql(desc = "What was discussed (at most 2000 characters).")] note: Option<String>,
    ) -> ApiResult<Dispute> {
        let note = valid_note(note.as_deref())?;
        take_step(ctx, &id, Action::Update, Step::Mediate, note, async |_, _, row| {
            let first = row.first_mediated_at.is_none();
            Ok(Changes { first_mediated_at: first.then(Utc::now), new_stage: first, ..Changes::default() })
        })
        .await
    }

    /// Resolves a dispute in mediation with the agreement reached.
    async fn resolve_dispute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] id: ID,
        #[graphql(desc = "The agreement reached (1 to 2000 characters; sensitive).")] agreement: String,
        #[graphql(desc = "A note for the record (at most 2000 characters).")] note: Option<String>,
    ) -> ApiResult<Dispute> {
        let agreement = validate::text("agreement", &agreement, MAX_TEXT)?;
        let note = valid_note(note.as_deref())?;
        take_step(ctx, &id, Action::Update, Step::Resolve, note, async |_, _, _| {
            Ok(Changes {
                agreement: Some(agreement.clone()),
                outcome: Some(Some(DbOutcome::Resolved)),
                resolved_at: Some(Utc::now()),
                ..Changes::default()
            })
        })
        .await
    }

    /// Records that mediation failed; the dispute then waits to be escalated.
    async fn mark_dispute_unresolved(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] id: ID,
        #[graphql(desc = "Why (at most 2000 characters).")] note: Option<String>,
    ) -> ApiResult<Dispute> {
        let note = valid_note(note.as_deref())?;
        take_step(ctx, &id, Action::Update, Step::MarkUnresolved, note, async |_, _, _| {
            Ok(Changes { outcome: Some(Some(DbOutcome::Unresolved)), ..Changes::default() })
        })
        .await
    }

    /// Escalates an UNRESOLVED dispute: out of mediation (to arbitration, a court or the petition office), or to
    /// the next level up (community → township → district → city), where it is accepted again and mediated anew.
    async fn escalate_dispute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] id: ID,
        #[graphql(desc = "Where to.")] to: EscalationTarget,
        #[graphql(desc = "Why (at most 2000 characters).")] note: Option<String>,
    ) -> ApiResult<Dispute> {
        let note = valid_note(note.as_deref())?;
        let target: DbTarget = to.into();
        take_step(ctx, &id, Action::Approve, Step::Escalate(target), note, async |txn, access, row| {
            if target != DbTarget::NextLevel {
                return Ok(Changes {
                    escalated_to: Some(target),
                    outcome: Some(Some(DbOutcome::EscalatedOut)),
                    ..Changes::default()
                });
            }
            // Only an escalation the state machine allows looks for the level above.
            next(row.state, Step::Escalate(target))?;
            let parent = parent_of(txn, access, row.region_id).await?;
            Ok(Changes {
                region_id: Some(parent.id),
                assignee: Some((None, None)),
                escalated_to: Some(target),
                outcome: Some(None),
                new_stage: true,
                ..Changes::default()
            })
        })
        .await
    }

    /// Closes a RESOLVED or ESCALATED dispute.
    async fn close_dispute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] id: ID,
        #[graphql(desc = "A note for the record (at most 2000 characters).")] note: Option<String>,
    ) -> ApiResult<Dispute> {
        let note = valid_note(note.as_deref())?;
        take_step(ctx, &id, Action::Approve, Step::Close, note, async |_, _, _| {
            Ok(Changes { closed_at: Some(Utc::now()), ..Changes::default() })
        })
        .await
    }

    /// Records a follow-up visit on a resolved dispute (also once it is closed): whether the agreement holds.
    async fn record_dispute_follow_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] id: ID,
        #[graphql(desc = "What the visit found (1 to 2000 characters).")] note: String,
    ) -> ApiResult<Dispute> {
        let note = validate::text("note", &note, MAX_TEXT)?;
        take_step(ctx, &id, Action::Create, Step::FollowUp, Some(note), async |_, _, row| {
            if row.outcome != Some(DbOutcome::Resolved) {
                return Err(ApiError::Conflict("only a resolved dispute is followed up".into()));
            }
            Ok(Changes::default())
        })
        .await
    }

    /// Registers a fishing vessel (一船一档) with its home port in your scope.
    async fn register_fishing_vessel(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The vessel: registration, name, home port, owner, crew and safety stars.")]
        input: RegisterFishingVesselInput,
    ) -> ApiResult<FishingVessel> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Vessel, Action::Create).await?;
        let registration_no = validate::code("input.registrationNo", &input.registration_no)?.to_owned();
        let name = validate::text("input.name", &input.name, 64)?;
        let owner_name = validate::text("input.ownerName", &input.owner_name, 64)?;
        let owner_id_number = validate::id_number("input.ownerIdNumber", &input.owner_id_number)?;
        let owner_phone = validate::mobile("input.ownerPhone", &input.owner_phone)?;
        let crew_size = small_in("input.crewSize", input.crew_size, 1, 200)?;
        let safety_stars = small_in("input.safetyStars", input.safety_stars, 1, 5)?;
        let home_port_code = validate::code("input.homePortCode", &input.home_port_code)?.to_owned();
        let changed = crate::frame::write(request, async |txn| {
            let port = crate::scope::read::<region::Entity>(&access)
                .filter(region::Column::Code.eq(home_port_code.as_str()))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_input("input.homePortCode", "no region with this code in your scope")
                })?;
            let now = Utc::now();
            let row = fishing_vessel::ActiveModel {
                id: NotSet,
                registration_no: Set(registration_no.clone()),
                name: Set(name.clone()),
                home_port_id: Set(port.id),
                owner_name: Set(owner_name.clone()),
                owner_id_number: Set(owner_id_number.clone()),
                owner_phone: Set(owner_phone.clone()),
                crew_size: Set(crew_size),
                safety_stars: Set(safety_stars),
                grid_worker_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(|err| ApiError::from_db(err, "a vessel with this registration number"))?;
            Ok(Outcome::Changed(
                row.id,
                Change::of("registerFishingVessel", Resource::Vessel, [row.id], None),
            ))
        })
        .await?;
        request
            .disputes()
            .vessel_by_id(changed)
            .await?
            .ok_or_else(|| ApiError::NotFound("fishing vessel").into())
    }

    /// Changes a fishing vessel's owner contact, crew, safety stars or linked grid worker.
    async fn update_fishing_vessel(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the vessel.")] id: ID,
        #[graphql(desc = "The fields to change; omitted ones stay as they are (at least one).")]
        input: UpdateFishingVesselInput,
    ) -> ApiResult<FishingVessel> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Vessel, Action::Update).await?;
        let team = request.authorize(Resource::GridTeam, Action::Read).await?;
        let vessel_id = parse_typed_id(&id, NodeType::FishingVessel, "id")?;
        let owner_name = validate::optional_text("input.ownerName", input.owner_name.as_deref(), 64)?;
        let owner_phone = input
            .owner_phone
            .as_deref()
            .map(|phone| validate::mobile("input.ownerPhone", phone))
            .transpose()?;
        let crew_size = input.crew_size.map(|n| small_in("input.crewSize", n, 1, 200)).transpose()?;
        let safety_stars = input.safety_stars.map(|n| small_in("input.safetyStars", n, 1, 5)).transpose()?;
        let grid_worker = input
            .grid_worker_id
            .as_ref()
            .map(|id| parse_typed_id(id, NodeType::GridTeamMember, "input.gridWorkerId"))
            .transpose()?;
        let changed = crate::frame::write(request, async |txn| {
            let row = crate::scope::read::<fishing_vessel::Entity>(&access)
                .filter(fishing_vessel::Column::Id.eq(vessel_id))
                .one(txn)
                .await?
                .ok_or(ApiError::NotFound("fishing vessel"))?;
            let mut changed: fishing_vessel::ActiveModel = row.clone().into();
            let mut fields = Vec::new();
            if let Some(name) = &owner_name {
                changed.owner_name = Set(name.clone());
                fields.push("ownerName");
            }
            if let Some(phone) = &owner_phone {
                changed.owner_phone = Set(phone.clone());
                fields.push("ownerPhone");
            }
            if let Some(crew) = crew_size {
                changed.crew_size = Set(crew);
                fields.push("crewSize");
            }
            if let Some(stars) = safety_stars {
                changed.safety_stars = Set(stars);
                fields.push("safetyStars");
            }
            if let Some(member_id) = grid_worker {
                let member = crate::scope::read::<entities::grid_team_member::Entity>(&team)
                    .filter(entities::grid_team_member::Column::Id.eq(member_id))
                    .one(txn)
                    .await?
                    .ok_or_else(|| {
                        ApiError::bad_input("input.gridWorkerId", "no such team member in your scope")
                    })?;
                changed.grid_worker_id = Set(Some(member.id));
                fields.push("gridWorker");
            }
            if fields.is_empty() {
                return Err(ApiError::bad_input("input", "name at least one field to change"));
            }
            changed.updated_at = Set(Utc::now());
            changed.update(txn).await?;
            let detail = Some(format!("changed: {}", fields.join(", ")));
            Ok(Outcome::Changed(
                row.id,
                Change::of("updateFishingVessel", Resource::Vessel, [row.id], detail),
            ))
        })
        .await?;
        request
            .disputes()
            .vessel_by_id(changed)
            .await?
            .ok_or_else(|| ApiError::NotFound("fishing vessel").into())
    }

    /// Registers a mediator in a region of your scope, linked to their token's subject so that they see the
    /// disputes assigned to them.
    async fn register_mediator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mediator: name, phone, kind, region, token subject and boat.")]
        input: RegisterMediatorInput,
    ) -> ApiResult<Mediator> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Mediator, Action::Create).await?;
        let name = validate::text("input.name", &input.name, 64)?;
        let phone = validate::mobile("input.phone", &input.phone)?;
        let region_code = validate::code("input.regionCode", &input.region_code)?.to_owned();
        let subject = validate::optional_text("input.subject", input.subject.as_deref(), 64)?;
        let boat_code = input
            .boat_code
            .as_deref()
            .map(|code| validate::code("input.boatCode", code))
            .transpose()?
            .map(str::to_owned);
        let changed = crate::frame::write(request, async |txn| {
            let region = crate::scope::read::<region::Entity>(&access)
                .filter(region::Column::Code.eq(region_code.as_str()))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_input("input.regionCode", "no region with this code in your scope")
                })?;
            let boat = match &boat_code {
                Some(code) => Some(
                    crate::scope::read::<mediation_boat::Entity>(&access)
                        .filter(mediation_boat::Column::Code.eq(code.as_str()))
                        .one(txn)
                        .await?
                        .ok_or_else(|| {
                            ApiError::bad_input(
                                "input.boatCode",
                                "no mediation boat with this code in your scope",
                            )
                        })?,
                ),
                None => None,
            };
            let id = crate::db::next_id::<mediator::Entity, _>(txn).await?;
            mediator::ActiveModel {
                id: Set(id),
                code: Set(format!("MR{id:05}")),
                name: Set(name.clone()),
                phone: Set(phone.clone()),
                kind: Set(input.kind.into()),
                region_id: Set(region.id),
                subject: Set(subject.clone()),
                mediation_boat_id: Set(boat.map(|boat| boat.id)),
                active: Set(true),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(|err| ApiError::from_db(err, "a mediator with this token subject"))?;
            Ok(Outcome::Changed(id, Change::of("registerMediator", Resource::Mediator, [id], None)))
        })
        .await?;
        request.disputes().mediator_by_id(changed).await?.ok_or_else(|| ApiError::NotFound("mediator").into())
    }
}

/// An integer argument within `low..=high`, as the small integer its column holds.
fn small_in(field: &str, value: i32, low: i16, high: i16) -> Result<i16, ApiError> {
    i16::try_from(value)
        .ok()
        .filter(|value| (low..=high).contains(value))
        .ok_or_else(|| ApiError::bad_input(field, format!("between {low} and {high}")))
}
