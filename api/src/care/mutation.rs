//! Changes to the care domain: registering people with their category profile, risk assessments, visits, care
//! groups and the end of community-corrections supervision. Each mutation validates its input, checks the
//! caller's right and (in SQL, inside its write transaction) scope, writes its audit event in the same
//! transaction, and returns the changed object re-read as the caller may see it.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use entities::care_subject::{self, CareCategory as DbCategory, SubjectStatus as DbStatus};
use entities::correction_profile::SupervisionStatus as DbSupervision;
use entities::{
    care_group_member, care_visit, correction_profile, mental_health_profile, risk_assessment, youth_profile,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::profiles::{CareGroupRole, CorrectionType, SchoolStatus, YouthKind};
use super::types::{CareCategory, CareSubject};
use super::visits::{CareVisit, VisitKind};
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::lookup::grid_in_scope;
use crate::node::{NodeType, parse_typed_id};
use crate::request::RequestData;
use crate::validate;
use crate::validate::{actor_name, not_future, today};
use crate::volunteers::types::Gender;

/// Youngest age at which the youth programme takes a young person on.
pub const YOUTH_MIN_AGE: i32 = 14;
/// Oldest age at which the youth programme takes a young person on.
pub const YOUTH_MAX_AGE: i32 = 25;
/// Longest free-text note (visit, assessment) in characters.
const MAX_NOTES: usize = 1000;

/// The most members a care group may have: `CareSubject.careGroup` promises it.
pub const MAX_CARE_GROUP_MEMBERS: u64 = 12;

/// The severe-mental-disorder profile of a new care subject.
#[derive(InputObject)]
pub struct MentalHealthProfileInput {
    /// Number of the electronic health record (at most 32 characters); unique across the city.
    pub health_record_no: String,
    /// Diagnosis (at most 500 characters).
    pub diagnosis: String,
    /// How the person was found, e.g. 常规筛查 (at most 64 characters).
    pub found_by: String,
    /// Full name of the guardian.
    pub guardian_name: String,
    /// 11-digit mobile number of the guardian.
    pub guardian_phone: String,
    /// The guardian's relation to the person, e.g. 父亲 (at most 32 characters).
    pub guardian_relation: String,
    /// Whether the guardian liability insurance (监护人责任险) covers the guardian.
    pub guardian_insured: bool,
    /// Number of the insurance policy: required when insured, absent otherwise (at most 64 characters).
    pub insurance_policy_no: Option<String>,
    /// Last day the insurance covers: required when insured, absent otherwise.
    pub insurance_expires_on: Option<crate::scalars::Date>,
}

/// The community-corrections profile of a new care subject; supervision starts UNDER_SUPERVISION.
#[derive(InputObject)]
pub struct CorrectionProfileInput {
    /// Kind of community correction.
    pub correction_type: CorrectionType,
    /// The offence, e.g. 危险驾驶罪 (at most 200 characters).
    pub offence: String,
    /// Day the judicial office received the person (not in the future).
    pub received_on: crate::scalars::Date,
    /// First day of supervision.
    pub supervision_start: crate::scalars::Date,
    /// Last day of supervision, after its first day.
    pub supervision_end: crate::scalars::Date,
}

/// The at-risk youth profile of a new care subject.
#[derive(InputObject)]
pub struct YouthProfileInput {
    /// Why the young person is in the programme.
    pub youth_kind: YouthKind,
    /// What the young person does during the day.
    pub school_status: SchoolStatus,
    /// Full name of the guardian.
    pub guardian_name: String,
    /// 11-digit mobile number of the guardian.
    pub guardian_phone: String,
}

/// A person to take into special-population care. Exactly the profile of the person's category must be given.
#[derive(InputObject)]
pub struct RegisterCareSubjectInput {
    /// The care programme; decides which profile is required.
    pub category: CareCategory,
    /// Full name as on the identity card.
    pub name: String,
    /// Sex.
    pub gender: Gender,
    /// 18-character identity card number; a person is registered at most once per category.
    pub id_number: String,
    /// Date of birth; must be the date in the identity card number. AT_RISK_YOUTH must be 14 to 25 years old.
    pub birth_date: crate::scalars::Date,
    /// 11-digit mobile number, if the person has one.
    pub phone: Option<String>,
    /// Home address (at most 255 characters).
    pub address: String,
    /// Code of the grid the person lives in, which must lie in your scope.
    pub grid_code: String,
    /// The profile of a SEVERE_MENTAL_DISORDER subject (only for that category).
    pub mental_health: Option<MentalHealthProfileInput>,
    /// The profile of a COMMUNITY_CORRECTION subject (only for that category): opens the supervision.
    pub correction: Option<CorrectionProfileInput>,
    /// The profile of an AT_RISK_YOUTH subject (only for that category).
    pub youth: Option<YouthProfileInput>,
}

/// Mutations of the care domain.
#[derive(Default)]
pub struct CareMutation;

/// An instant that must not lie in the future (five minutes of clock skew allowed).
fn not_future_instant(field: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    if at > Utc::now() + Duration::minutes(5) {
        return Err(ApiError::bad_input(field, "must not be in the future"));
    }
    Ok(at)
}

/// Whole years of age on `day`.
fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let before_birthday = (day.month(), day.day()) < (birth.month(), birth.day());
    day.year() - birth.year() - i32::from(before_birthday)
}

/// The care subject with global ID `id` if it lies in the scope of `access`; `NOT_FOUND` otherwise (the same
/// answer whether it is absent or out of scope).
async fn subject_in_scope<C: ConnectionTrait>(
    conn: &C,
    access: &Access,
    id: &ID,
    field: &str,
) -> Result<care_subject::Model, ApiError> {
    let id = parse_typed_id(id, NodeType::CareSubject, field)?;
    crate::scope::read::<care_subject::Entity>(access)
        .filter(care_subject::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or(ApiError::NotFound("care subject"))
}

/// Re-reads a care subject after the change, as the caller may see it.
async fn reload(request: &RequestData, id: i64) -> ApiResult<CareSubject> {
    request.care().subject_by_id(id).await?.ok_or_else(|| ApiError::NotFound("care subject").into())
}

fn category_name(category: DbCategory) -> String {
    category.to_value()
}

/// Checks that exactly the profile of `category` was given.
fn check_profiles(input: &RegisterCareSubjectInput) -> Result<(), ApiError> {
    let given = [
        ("input.mentalHealth", input.mental_health.is_some(), DbCategory::SevereMentalDisorder),
        ("input.correction", input.correction.is_some(), DbCategory::CommunityCorrection),
        ("input.youth", input.youth.is_some(), DbCategory::AtRiskYouth),
    ];
    let category = DbCategory::from(input.category);
    for (field, present, profile_category) in given {
        if profile_category == category && !present {
            let message = format!("required for category {}", category_name(category));
            return Err(ApiError::bad_input(field, message));
        }
        if profile_category != category && present {
            let message = format!("only for category {}", category_name(profile_category));
            return Err(ApiError::bad_input(field, message));
        }
    }
    Ok(())
}

/// A category profile after validation, ready to insert once the subject has its id.
enum ValidProfile {
    Mental(mental_health_profile::ActiveModel),
    Correction(correction_profile::ActiveModel),
    Youth(youth_profile::ActiveModel),
}

fn valid_mental_health(input: &MentalHealthProfileInput) -> Result<ValidProfile, ApiError> {
    const F: &str = "input.mentalHealth";
    let health_record_no = validate::text(&format!("{F}.healthRecordNo"), &input.health_record_no, 32)?;
    let diagnosis = validate::text(&format!("{F}.diagnosis"), &input.diagnosis, 500)?;
    let found_by = validate::text(&format!("{F}.foundBy"), &input.found_by, 64)?;
    let guardian_name = validate::text(&format!("{F}.guardianName"), &input.guardian_name, 64)?;
    let guardian_phone = validate::mobile(&format!("{F}.guardianPhone"), &input.guardian_phone)?;
    let guardian_relation = validate::text(&format!("{F}.guardianRelation"), &input.guardian_relation, 32)?;
    let policy_field = format!("{F}.insurancePolicyNo");
    let policy_no = validate::optional_text(&policy_field, input.insurance_policy_no.as_deref(), 64)?;
    let expires_field = format!("{F}.insuranceExpiresOn");
    if input.guardian_insured {
        if policy_no.is_none() {
            return Err(ApiError::bad_input(policy_field, "required when the guardian is insured"));
        }
        if input.insurance_expires_on.is_none() {
            return Err(ApiError::bad_input(expires_field, "required when the guardian is insured"));
        }
    } else {
        if policy_no.is_some() {
            return Err(ApiError::bad_input(policy_field, "only when the guardian is insured"));
        }
        if input.insurance_expires_on.is_some() {
            return Err(ApiError::bad_input(expires_field, "only when the guardian is insured"));
        }
    }
    Ok(ValidProfile::Mental(mental_health_profile::ActiveModel {
        subject_id: NotSet,
        health_record_no: Set(health_record_no),
        diagnosis: Set(diagnosis),
        found_by: Set(found_by),
        guardian_name: Set(guardian_name),
        guardian_phone: Set(guardian_phone),
        guardian_relation: Set(guardian_relation),
        guardian_insured: Set(input.guardian_insured),
        insurance_policy_no: Set(policy_no),
        insurance_expires_on: Set(input.insurance_expires_on.map(Into::into)),
        created_at: NotSet,
    }))
}

fn valid_correction(input: &CorrectionProfileInput) -> Result<ValidProfile, ApiError> {
    const F: &str = "input.correction";
    let offence = validate::text(&format!("{F}.offence"), &input.offence, 200)?;
    let received_on = not_future(&format!("{F}.receivedOn"), input.received_on.0)?;
    if input.supervision_end <= input.supervision_start {
        return Err(ApiError::bad_input(format!("{F}.supervisionEnd"), "must be after supervisionStart"));
    }
    Ok(ValidProfile::Correction(correction_profile::ActiveModel {
        subject_id: NotSet,
        correction_type: Set(input.correction_type.into()),
        offence: Set(offence),
        received_on: Set(received_on),
        supervision_start: Set(input.supervision_start.0),
        supervision_end: Set(input.supervision_end.0),
        released_on: Set(None),
        status: Set(DbSupervision::UnderSupervision),
        created_at: NotSet,
    }))
}

fn valid_youth(input: &YouthProfileInput) -> Result<ValidProfile, ApiError> {
    const F: &str = "input.youth";
    let guardian_name = validate::text(&format!("{F}.guardianName"), &input.guardian_name, 64)?;
    let guardian_phone = validate::mobile(&format!("{F}.guardianPhone"), &input.guardian_phone)?;
    Ok(ValidProfile::Youth(youth_profile::ActiveModel {
        subject_id: NotSet,
        youth_kind: Set(input.youth_kind.into()),
        school_status: Set(input.school_status.into()),
        guardian_name: Set(guardian_name),
        guardian_phone: Set(guardian_phone),
        created_at: NotSet,
    }))
}

/// The validated profile of a registration; exactly one is present after [`check_profiles`].
fn valid_profile(input: &RegisterCareSubjectInput) -> Result<ValidProfile, ApiError> {
    check_profiles(input)?;
    match (&input.mental_health, &input.correction, &input.youth) {
        (Some(mental), None, None) => valid_mental_health(mental),
        (None, Some(correction), None) => valid_correction(correction),
        (None, None, Some(youth)) => valid_youth(youth),
        _ => Err(ApiError::Internal("check_profiles let more or fewer than one profile through".into())),
    }
}

/// The date in an identity card number already validated by [`validate::id_number`].
fn birth_date_of(id_number: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(id_number.get(6..14)?, "%Y%m%d").ok()
}

#[Object]
impl CareMutation {
    /// Takes a person into special-population care in a grid of your scope, with the profile of their category
    /// (for COMMUNITY_CORRECTION this opens the supervision). A second registration of the same identity card
    /// number in the same category, or of a health record number already on file, is a `CONFLICT`.
    async fn register_care_subject(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person, their grid and the profile of their category.")]
        input: RegisterCareSubjectInput,
    ) -> ApiResult<CareSubject> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::CareSubject, Action::Create).await?;
        let category = DbCategory::from(input.category);
        // The profile is a record of its own resource: the caller must be allowed to create it too.
        match category {
            DbCategory::SevereMentalDisorder => {
                request.authorize(Resource::MentalHealthProfile, Action::Create).await?;
            }
            DbCategory::CommunityCorrection => {
                request.authorize(Resource::CorrectionProfile, Action::Create).await?;
            }
            DbCategory::AtRiskYouth => {}
        }
        let name = validate::text("input.name", &input.name, 64)?;
        let id_number = validate::id_number("input.idNumber", &input.id_number)?;
        if birth_date_of(&id_number) != Some(input.birth_date.0) {
            return Err(ApiError::bad_input(
                "input.birthDate",
                "does not agree with the date in the identity card number",
            )
            .into());
        }
        let today = today();
        let birth_date = not_future("input.birthDate", input.birth_date.0)?;
        if category == DbCategory::AtRiskYouth {
            let age = age_on(birth_date, today);
            if !(YOUTH_MIN_AGE..=YOUTH_MAX_AGE).contains(&age) {
                let message =
                    format!("AT_RISK_YOUTH must be {YOUTH_MIN_AGE} to {YOUTH_MAX_AGE} years old, not {age}");
                return Err(ApiError::bad_input("input.birthDate", message).into());
            }
        }
        let phone = match input.phone.as_deref().map(str::trim).filter(|phone| !phone.is_empty()) {
            Some(phone) => Some(validate::mobile("input.phone", phone)?),
            None => None,
        };
        let address = validate::text("input.address", &input.address, 255)?;
        let profile = valid_profile(&input)?;

        let changed = crate::frame::write(request, async |txn| {
            let grid = grid_in_scope(txn, &access, &input.grid_code, "input.gridCode").await?;
            let now = Utc::now();
            // The case code follows the row id, so concurrent registrations never compete for a code.
            let id = crate::db::next_id::<care_subject::Entity, _>(txn).await.map_err(ApiError::from)?;
            care_subject::ActiveModel {
                id: Set(id),
                code: Set(format!("CS{id:07}")),
                category: Set(category),
                name: Set(name),
                gender: Set(input.gender.into()),
                id_number: Set(id_number),
                birth_date: Set(birth_date),
                phone: Set(phone),
                address: Set(address),
                region_id: Set(grid.id),
                status: Set(DbStatus::Active),
                current_risk_level: Set(None),
                registered_on: Set(today),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(|err| {
                ApiError::from_db(err, "a care subject of this category with this identity card number")
            })?;
            match profile {
                ValidProfile::Mental(mut row) => {
                    row.subject_id = Set(id);
                    row.created_at = Set(now);
                    row.insert(txn).await.map_err(|err| {
                        ApiError::from_db(err, "a mental-health profile with this health record number")
                    })?;
                }
                ValidProfile::Correction(mut row) => {
                    row.subject_id = Set(id);
                    row.created_at = Set(now);
                    row.insert(txn).await.map_err(ApiError::from)?;
                }
                ValidProfile::Youth(mut row) => {
                    row.subject_id = Set(id);
                    row.created_at = Set(now);
                    row.insert(txn).await.map_err(ApiError::from)?;
                }
            }
            let detail = Some(format!("category {}", category_name(category)));
            Ok(crate::frame::Outcome::Changed(
                id,
                crate::frame::Change::of("registerCareSubject", Resource::CareSubject, [id], detail),
            ))
        })
        .await?;
        reload(request, changed).await
    }

    /// Records a risk assessment (national 0–5 scale) of a SEVERE_MENTAL_DISORDER or COMMUNITY_CORRECTION
    /// subject; the subject's current level becomes that of the newest assessment (an assessment dated before
    /// the newest one on file leaves the current level alone). The assessor is the token's `name` claim, else
    /// its subject.
    async fn record_risk_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the care subject.")] subject_id: ID,
        #[graphql(desc = "Risk level, 0 (none) to 5 (highest).")] level: i32,
        #[graphql(desc = "Day of the assessment (not in the future).")] assessed_on: crate::scalars::Date,
        #[graphql(desc = "The assessor's notes (at most 1000 characters).")] notes: Option<String>,
    ) -> ApiResult<CareSubject> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::MentalHealthProfile, Action::Create).await?;
        let level = i16::try_from(level)
            .ok()
            .filter(|level| (0..=5).contains(level))
            .ok_or_else(|| ApiError::bad_input("level", "between 0 and 5"))?;
        let assessed_on = not_future("assessedOn", assessed_on.0)?;
        let notes = validate::optional_text("notes", notes.as_deref(), MAX_NOTES)?;
        let changed = crate::frame::write(request, async |txn| {
            let subject = subject_in_scope(txn, &access, &subject_id, "subjectId").await?;
            if !matches!(subject.category, DbCategory::SevereMentalDisorder | DbCategory::CommunityCorrection)
            {
                return Err(ApiError::bad_input(
                    "subjectId",
                    "risk assessments are for SEVERE_MENTAL_DISORDER and COMMUNITY_CORRECTION subjects only",
                ));
            }
            let inserted = risk_assessment::ActiveModel {
                id: NotSet,
                subject_id: Set(subject.id),
                level: Set(level),
                assessed_on: Set(assessed_on),
                assessor: Set(actor_name(&request.viewer)),
                notes: Set(notes),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(ApiError::from)?;
            // The newest assessment sets the current level; on the same day the later record wins.
            let newest: Option<i16> = crate::scope::read::<risk_assessment::Entity>(&access)
                .select_only()
                .column(risk_assessment::Column::Level)
                .filter(risk_assessment::Column::SubjectId.eq(subject.id))
                .order_by_desc(risk_assessment::Column::AssessedOn)
                .order_by_desc(risk_assessment::Column::Id)
                .limit(1)
                .into_tuple()
                .one(txn)
                .await
                .map_err(ApiError::from)?;
            let mut changed: care_subject::ActiveModel = subject.clone().into();
            changed.current_risk_level = Set(newest);
            changed.updated_at = Set(Utc::now());
            changed.update(txn).await.map_err(ApiError::from)?;
            let records = [
                (NodeType::RiskAssessment.audit_entity(), inserted.id),
                (Resource::CareSubject.as_str(), subject.id),
            ];
            Ok(crate::frame::Outcome::Changed(
                subject.id,
                crate::frame::Change::about("recordRiskAssessment", &records, None),
            ))
        })
        .await?;
        reload(request, changed).await
    }

    /// Records a visit to an ACTIVE care subject of your scope (a closed one is a `CONFLICT`). The visitor is
    /// the token's `name` claim, else its subject.
    async fn record_visit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the care subject.")] subject_id: ID,
        #[graphql(desc = "What kind of contact it was.")] kind: VisitKind,
        #[graphql(desc = "When the visit took place (not in the future).")]
        visited_at: crate::scalars::Timestamp,
        #[graphql(
            desc = "Whether the person had taken their medication: required for MEDICATION_SUPERVISION, \
                          not allowed for other kinds."
        )]
        medication_taken: Option<bool>,
        #[graphql(desc = "The visitor's notes (at most 1000 characters).")] notes: Option<String>,
    ) -> ApiResult<CareVisit> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Visit, Action::Create).await?;
        let visited_at = not_future_instant("visitedAt", visited_at.0)?;
        match (kind, medication_taken) {
            (VisitKind::MedicationSupervision, None) => {
                return Err(
                    ApiError::bad_input("medicationTaken", "required for MEDICATION_SUPERVISION").into()
                );
            }
            (VisitKind::MedicationSupervision, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(
                    ApiError::bad_input("medicationTaken", "only for MEDICATION_SUPERVISION visits").into()
                );
            }
        }
        let notes = validate::optional_text("notes", notes.as_deref(), MAX_NOTES)?;
        let changed = crate::frame::write(request, async |txn| {
            let subject = subject_in_scope(txn, &access, &subject_id, "subjectId").await?;
            if subject.status != DbStatus::Active {
                return Err(ApiError::Conflict(
                    "the care subject is closed: visits are for active subjects".into(),
                ));
            }
            let inserted = care_visit::ActiveModel {
                id: NotSet,
                subject_id: Set(subject.id),
                kind: Set(kind.into()),
                visited_at: Set(visited_at),
                visitor: Set(actor_name(&request.viewer)),
                medication_taken: Set(medication_taken),
                notes: Set(notes),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(ApiError::from)?;
            let records = [
                (NodeType::CareVisit.audit_entity(), inserted.id),
                (Resource::CareSubject.as_str(), subject.id),
            ];
            let detail = Some(format!("kind {}", care_visit::VisitKind::from(kind).to_value()));
            Ok(crate::frame::Outcome::Changed(
                inserted.id,
                crate::frame::Change::about("recordVisit", &records, detail),
            ))
        })
        .await?;
        request.care().visit_by_id(changed).await?.ok_or_else(|| ApiError::NotFound("care visit").into())
    }

    /// Adds a member to the care group (关爱帮扶小组) of a care subject of your scope; the same person in the
    /// same role twice is a `CONFLICT`.
    async fn add_care_group_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the care subject.")] subject_id: ID,
        #[graphql(desc = "The member's part in the group.")] role: CareGroupRole,
        #[graphql(desc = "Full name of the member.")] name: String,
        #[graphql(desc = "11-digit mobile number of the member.")] phone: String,
    ) -> ApiResult<CareSubject> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::CareSubject, Action::Update).await?;
        let name = validate::text("name", &name, 64)?;
        let phone = validate::mobile("phone", &phone)?;
        let role: care_group_member::CareGroupRole = role.into();
        let changed = crate::frame::write(request, async |txn| {
            let subject = subject_in_scope(txn, &access, &subject_id, "subjectId").await?;
            let group = crate::scope::read::<care_group_member::Entity>(&access)
                .filter(care_group_member::Column::SubjectId.eq(subject.id));
            crate::db::ensure_room::<care_subject::Entity, _, _>(
                txn,
                subject.id,
                group,
                MAX_CARE_GROUP_MEMBERS,
                "the care group",
            )
            .await?;
            let existing = crate::scope::read::<care_group_member::Entity>(&access)
                .filter(care_group_member::Column::SubjectId.eq(subject.id))
                .filter(care_group_member::Column::Role.eq(role))
                .filter(care_group_member::Column::Name.eq(name.as_str()))
                .one(txn)
                .await
                .map_err(ApiError::from)?;
            if existing.is_some() {
                return Err(ApiError::Conflict(format!(
                    "this person is already a {} of the care group",
                    role.to_value()
                )));
            }
            care_group_member::ActiveModel {
                id: NotSet,
                subject_id: Set(subject.id),
                role: Set(role),
                name: Set(name),
                phone: Set(phone),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(ApiError::from)?;
            let detail = Some(format!("role {}", role.to_value()));
            Ok(crate::frame::Outcome::Changed(
                subject.id,
                crate::frame::Change::of("addCareGroupMember", Resource::CareSubject, [subject.id], detail),
            ))
        })
        .await?;
        reload(request, changed).await
    }

    /// Ends the community-corrections supervision of a subject of your scope: UNDER_SUPERVISION becomes
    /// RELEASED and the subject is CLOSED. Releasing someone already released is a `CONFLICT`. (Supervision is
    /// opened by `registerCareSubject` with category COMMUNITY_CORRECTION.)
    async fn close_correction_supervision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the COMMUNITY_CORRECTION care subject.")] subject_id: ID,
        #[graphql(desc = "Day of release: not before the supervision started, not in the future.")]
        released_on: crate::scalars::Date,
    ) -> ApiResult<CareSubject> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::CorrectionProfile, Action::Update).await?;
        let released_on = not_future("releasedOn", released_on.0)?;
        let changed = crate::frame::write(request, async |txn| {
            let subject = subject_in_scope(txn, &access, &subject_id, "subjectId").await?;
            let profile = crate::scope::read::<correction_profile::Entity>(&access)
                .filter(correction_profile::Column::SubjectId.eq(subject.id))
                .one(txn)
                .await
                .map_err(ApiError::from)?
                .ok_or_else(|| ApiError::bad_input("subjectId", "not a COMMUNITY_CORRECTION subject"))?;
            if profile.status != DbSupervision::UnderSupervision {
                return Err(ApiError::Conflict("the supervision has already ended".into()));
            }
            if released_on < profile.supervision_start {
                return Err(ApiError::bad_input("releasedOn", "must not be before the supervision started"));
            }
            let mut released: correction_profile::ActiveModel = profile.into();
            released.status = Set(DbSupervision::Released);
            released.released_on = Set(Some(released_on));
            released.update(txn).await.map_err(ApiError::from)?;
            let mut closed: care_subject::ActiveModel = subject.clone().into();
            closed.status = Set(DbStatus::Closed);
            closed.updated_at = Set(Utc::now());
            closed.update(txn).await.map_err(ApiError::from)?;
            let detail = Some(format!("released on {released_on}"));
            Ok(crate::frame::Outcome::Changed(
                subject.id,
                crate::frame::Change::of(
                    "closeCorrectionSupervision",
                    Resource::CareSubject,
                    [subject.id],
                    detail,
                ),
            ))
        })
        .await?;
        reload(request, changed).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_whole_years() {
        let birth = NaiveDate::from_ymd_opt(2010, 6, 15).unwrap();
        assert_eq!(age_on(birth, NaiveDate::from_ymd_opt(2024, 6, 14).unwrap()), 13);
        assert_eq!(age_on(birth, NaiveDate::from_ymd_opt(2024, 6, 15).unwrap()), 14);
        assert_eq!(age_on(birth, NaiveDate::from_ymd_opt(2035, 6, 14).unwrap()), 24);
    }

    #[test]
    fn birth_dates_come_from_the_identity_number() {
        assert_eq!(birth_date_of("11010519491231002X"), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(birth_date_of("short"), None);
    }
}
