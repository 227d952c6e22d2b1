//! Changes to the youth mentoring programme: mentors, pairings with young people, their sessions and outcomes.
//! Each mutation validates its input, checks the caller's right and (in SQL, inside its write transaction)
//! scope, writes its audit event in the same transaction, and returns the changed object re-read as the caller
//! may see it. Mentors are scoped by their own region, everything under a mentorship by the young person's.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{NaiveDate, Utc};
use entities::care_subject::{self, CareCategory, SubjectStatus};
use entities::mentorship::MentorshipStatus as DbMentorshipStatus;
use entities::youth_profile::{self, YouthKind};
use entities::{mentor, mentoring_outcome, mentoring_session, mentorship, region};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter};

use super::types::{Mentor, MentoringOutcome, MentoringSession, Mentorship, OutcomeKind};
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::node::{NodeType, parse_typed_id};
use crate::request::RequestData;
use crate::validate;
use crate::validate::{not_future, today};

/// Longest mentoring session in minutes.
pub const MAX_SESSION_MINUTES: i32 = 600;

/// A new life mentor (人生导师).
#[derive(InputObject)]
pub struct RegisterMentorInput {
    /// Full name.
    pub name: String,
    /// 11-digit mobile number.
    pub phone: String,
    /// Occupation, e.g. 教师 (teacher) or 律师 (lawyer); at most 64 characters.
    pub occupation: String,
    /// Code of the region (any level) the mentor is attached to, which must lie in your scope.
    pub region_code: String,
}

/// Mutations of the youth mentoring programme.
#[derive(Default)]
pub struct MentoringMutation;

/// The mentor with global ID `id` if attached to a region in the scope of `access`; `NOT_FOUND` otherwise.
async fn mentor_in_scope<C: ConnectionTrait>(
    conn: &C,
    access: &Access,
    id: &ID,
    field: &str,
) -> Result<mentor::Model, ApiError> {
    let id = parse_typed_id(id, NodeType::Mentor, field)?;
    crate::scope::read::<mentor::Entity>(access)
        .filter(mentor::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or(ApiError::NotFound("mentor"))
}

/// The mentorship with global ID `id` if its young person lives in the scope of `access`; `NOT_FOUND`
/// otherwise (the same answer whether it is absent or out of scope).
async fn mentorship_of_scope<C: ConnectionTrait>(
    conn: &C,
    access: &Access,
    id: &ID,
    field: &str,
) -> Result<mentorship::Model, ApiError> {
    let id = parse_typed_id(id, NodeType::Mentorship, field)?;
    crate::scope::read::<mentorship::Entity>(access)
        .filter(mentorship::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or(ApiError::NotFound("mentorship"))
}

/// Re-reads a mentorship after the change, as the caller may see it.
async fn reload_mentorship(request: &RequestData, id: i64) -> ApiResult<Mentorship> {
    request.mentoring().mentorship_by_id(id).await?.ok_or_else(|| ApiError::NotFound("mentorship").into())
}

/// A day of a mentorship's life: not in the future, not before it started, not after it ended.
fn within_mentorship(field: &str, day: NaiveDate, row: &mentorship::Model) -> Result<NaiveDate, ApiError> {
    let day = not_future(field, day)?;
    if day < row.started_on {
        return Err(ApiError::bad_input(
            field,
            format!("must not be before the mentorship started ({})", row.started_on),
        ));
    }
    if let Some(ended_on) = row.ended_on.filter(|ended_on| day > *ended_on) {
        return Err(ApiError::bad_input(
            field,
            format!("must not be after the mentorship ended ({ended_on})"),
        ));
    }
    Ok(day)
}

#[Object]
impl MentoringMutation {
    /// Registers a life mentor attached to a region (any level) of your scope; the mentor starts active.
    async fn register_mentor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mentor: name, phone, occupation and region.")] input: RegisterMentorInput,
    ) -> ApiResult<Mentor> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Mentor, Action::Create).await?;
        let name = validate::text("input.name", &input.name, 64)?;
        let phone = validate::mobile("input.phone", &input.phone)?;
        let occupation = validate::text("input.occupation", &input.occupation, 64)?;
        let region_code = validate::code("input.regionCode", &input.region_code)?;
        let changed = crate::frame::write(request, async |txn| {
            let region = crate::scope::read::<region::Entity>(&access)
                .filter(region::Column::Code.eq(region_code))
                .one(txn)
                .await
                .map_err(ApiError::from)?
                .ok_or_else(|| {
                    ApiError::bad_input("input.regionCode", "no region with this code in your scope")
                })?;
            let now = Utc::now();
            // The mentor code follows the row id, so concurrent registrations never compete for a code.
            let id = crate::db::next_id::<mentor::Entity, _>(txn).await.map_err(ApiError::from)?;
            mentor::ActiveModel {
                id: Set(id),
                code: Set(format!("M{id:05}")),
                name: Set(name),
                phone: Set(phone),
                occupation: Set(occupation),
                region_id: Set(region.id),
                active: Set(true),
                created_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(|err| ApiError::from_db(err, "a mentor with this code"))?;
            let detail = Some(format!("region {}", region.code));
            Ok(crate::frame::Outcome::Changed(
                id,
                crate::frame::Change::of("registerMentor", Resource::Mentor, [id], detail),
            ))
        })
        .await?;
        request.mentoring().mentor_by_id(changed).await?.ok_or_else(|| ApiError::NotFound("mentor").into())
    }

    /// Pairs an active mentor of your scope with an ACTIVE AT_RISK_YOUTH care subject of your scope. A young
    /// person has at most one ACTIVE pairing: a second one is a `CONFLICT`, as is an inactive mentor.
    async fn pair_mentor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the mentor.")] mentor_id: ID,
        #[graphql(desc = "Global ID of the young person (a care subject of category AT_RISK_YOUTH).")]
        mentee_id: ID,
        #[graphql(desc = "What the pairing works towards (at most 500 characters).")] goal: Option<String>,
        #[graphql(desc = "Day the pairing starts (default today; not in the future).")] started_on: Option<
            crate::scalars::Date,
        >,
    ) -> ApiResult<Mentorship> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Mentorship, Action::Create).await?;
        let goal = validate::optional_text("goal", goal.as_deref(), 500)?;
        let started_on = not_future("startedOn", started_on.map_or_else(today, NaiveDate::from))?;
        let mentee_key = parse_typed_id(&mentee_id, NodeType::CareSubject, "menteeId")?;
        let changed = crate::frame::write(request, async |txn| {
            let mentor = mentor_in_scope(txn, &access, &mentor_id, "mentorId").await?;
            let mentee = crate::scope::read::<care_subject::Entity>(&access)
                .filter(care_subject::Column::Id.eq(mentee_key))
                .one(txn)
                .await
                .map_err(ApiError::from)?
                .ok_or(ApiError::NotFound("young person"))?;
            if mentee.category != CareCategory::AtRiskYouth {
                return Err(ApiError::bad_input("menteeId", "not a care subject of category AT_RISK_YOUTH"));
            }
            if mentee.status != SubjectStatus::Active {
                return Err(ApiError::Conflict("the young person's care case is closed".into()));
            }
            if !mentor.active {
                return Err(ApiError::Conflict("the mentor is not active".into()));
            }
            let inserted = mentorship::ActiveModel {
                id: NotSet,
                mentor_id: Set(mentor.id),
                mentee_id: Set(mentee.id),
                status: Set(DbMentorshipStatus::Active),
                goal: Set(goal),
                started_on: Set(started_on),
                ended_on: Set(None),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(|err| ApiError::from_db(err, "an active mentorship of this young person"))?;
            let records = [
                (Resource::Mentorship.as_str(), inserted.id),
                (Resource::Mentor.as_str(), mentor.id),
                (Resource::CareSubject.as_str(), mentee.id),
            ];
            Ok(crate::frame::Outcome::Changed(
                inserted.id,
                crate::frame::Change::about("pairMentor", &records, None),
            ))
        })
        .await?;
        reload_mentorship(request, changed).await
    }

    /// Records a meeting of an ACTIVE mentorship of your scope (a closed one is a `CONFLICT`).
    async fn record_mentoring_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the mentorship.")] mentorship_id: ID,
        #[graphql(desc = "Day of the meeting: not before the pairing started, not in the future.")]
        held_on: crate::scalars::Date,
        #[graphql(desc = "Duration in whole minutes, 1 to 600.")] minutes: i32,
        #[graphql(desc = "What the meeting was about (at most 128 characters).")] topic: String,
        #[graphql(desc = "The mentor's notes (at most 2000 characters).")] notes: Option<String>,
    ) -> ApiResult<MentoringSession> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Mentorship, Action::Create).await?;
        if !(1..=MAX_SESSION_MINUTES).contains(&minutes) {
            return Err(ApiError::bad_input("minutes", format!("between 1 and {MAX_SESSION_MINUTES}")).into());
        }
        let topic = validate::text("topic", &topic, 128)?;
        let notes = validate::optional_text("notes", notes.as_deref(), 2000)?;
        let held_on = not_future("heldOn", held_on.0)?;
        let changed = crate::frame::write(request, async |txn| {
            let pairing = mentorship_of_scope(txn, &access, &mentorship_id, "mentorshipId").await?;
            if pairing.status != DbMentorshipStatus::Active {
                return Err(ApiError::Conflict("the mentorship is closed".into()));
            }
            let held_on = within_mentorship("heldOn", held_on, &pairing)?;
            let inserted = mentoring_session::ActiveModel {
                id: NotSet,
                mentorship_id: Set(pairing.id),
                held_on: Set(held_on),
                minutes: Set(minutes),
                topic: Set(topic),
                notes: Set(notes),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(ApiError::from)?;
            let records = [
                (NodeType::MentoringSession.audit_entity(), inserted.id),
                (Resource::Mentorship.as_str(), pairing.id),
            ];
            Ok(crate::frame::Outcome::Changed(
                inserted.id,
                crate::frame::Change::about("recordMentoringSession", &records, None),
            ))
        })
        .await?;
        request
            .mentoring()
            .session_by_id(changed)
            .await?
            .ok_or_else(|| ApiError::NotFound("mentoring session").into())
    }

    /// Records what a mentorship of your scope achieved, on a day within the pairing. FAMILY_ASSISTANCE is for
    /// intellectually disabled young people only.
    async fn record_mentoring_outcome(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the mentorship.")] mentorship_id: ID,
        #[graphql(desc = "What was achieved.")] kind: OutcomeKind,
        #[graphql(desc = "Day it was achieved: within the pairing, not in the future.")]
        achieved_on: crate::scalars::Date,
        #[graphql(desc = "What happened, in words (at most 2000 characters).")] description: Option<String>,
    ) -> ApiResult<MentoringOutcome> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Mentorship, Action::Create).await?;
        let description = validate::optional_text("description", description.as_deref(), 2000)?;
        let achieved_on = not_future("achievedOn", achieved_on.0)?;
        let kind: mentoring_outcome::OutcomeKind = kind.into();
        let changed = crate::frame::write(request, async |txn| {
            let pairing = mentorship_of_scope(txn, &access, &mentorship_id, "mentorshipId").await?;
            let achieved_on = within_mentorship("achievedOn", achieved_on, &pairing)?;
            if kind == mentoring_outcome::OutcomeKind::FamilyAssistance {
                let youth_kind = crate::scope::read::<youth_profile::Entity>(&access)
                    .filter(youth_profile::Column::SubjectId.eq(pairing.mentee_id))
                    .one(txn)
                    .await
                    .map_err(ApiError::from)?
                    .map(|profile| profile.youth_kind);
                if youth_kind != Some(YouthKind::IntellectuallyDisabled) {
                    return Err(ApiError::bad_input(
                        "kind",
                        "FAMILY_ASSISTANCE is for intellectually disabled young people only",
                    ));
                }
            }
            let inserted = mentoring_outcome::ActiveModel {
                id: NotSet,
                mentorship_id: Set(pairing.id),
                kind: Set(kind),
                achieved_on: Set(achieved_on),
                description: Set(description),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(ApiError::from)?;
            let records = [
                (NodeType::MentoringOutcome.audit_entity(), inserted.id),
                (Resource::Mentorship.as_str(), pairing.id),
            ];
            let detail = Some(format!("kind {}", kind.to_value()));
            Ok(crate::frame::Outcome::Changed(
                inserted.id,
                crate::frame::Change::about("recordMentoringOutcome", &records, detail),
            ))
        })
        .await?;
        request
            .mentoring()
            .outcome_by_id(changed)
            .await?
            .ok_or_else(|| ApiError::NotFound("mentoring outcome").into())
    }

    /// Ends an ACTIVE mentorship of your scope (closing a closed one is a `CONFLICT`).
    async fn close_mentorship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the mentorship.")] mentorship_id: ID,
        #[graphql(desc = "Day the pairing ended: not before it started, not in the future.")]
        ended_on: crate::scalars::Date,
    ) -> ApiResult<Mentorship> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Mentorship, Action::Update).await?;
        let ended_on = not_future("endedOn", ended_on.0)?;
        let changed = crate::frame::write(request, async |txn| {
            let pairing = mentorship_of_scope(txn, &access, &mentorship_id, "mentorshipId").await?;
            if pairing.status != DbMentorshipStatus::Active {
                return Err(ApiError::Conflict("the mentorship is already closed".into()));
            }
            let ended_on = within_mentorship("endedOn", ended_on, &pairing)?;
            let id = pairing.id;
            let mut closed: mentorship::ActiveModel = pairing.into();
            closed.status = Set(DbMentorshipStatus::Closed);
            closed.ended_on = Set(Some(ended_on));
            closed.update(txn).await.map_err(ApiError::from)?;
            let detail = Some(format!("ended on {ended_on}"));
            Ok(crate::frame::Outcome::Changed(
                id,
                crate::frame::Change::of("closeMentorship", Resource::Mentorship, [id], detail),
            ))
        })
        .await?;
        reload_mentorship(request, changed).await
    }
}
