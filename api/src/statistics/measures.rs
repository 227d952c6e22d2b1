//! The measures and how each is computed: one grouped SQL statement per grouping, portable between SQLite and
//! PostgreSQL, with periods bucketed in Asia/Shanghai (UTC+8, no daylight saving).
//!
//! Service records and hours are read from the service rollup (see [`super::rollup`]), which holds one row per
//! region of every level, local day and activity: a grouping reads the rows of one region level only — the level
//! grouped by, or the level of the deepest subtree it is restricted to if that is deeper — so every region,
//! period, category and window the statistics accept can be answered from it.

use async_graphql::Enum;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, Value};

use crate::error::ApiError;
use entities::region::{path_depth, path_literal};

/// What a statistic counts or sums.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum StatisticsMeasure {
    /// Registered volunteers (category: volunteer status; period: registration day).
    RegisteredVolunteers,
    /// Volunteers currently active (period: registration day; no category).
    ActiveVolunteers,
    /// Service records (category: activity type; period: start of service).
    ServiceRecords,
    /// Hours of service (category: activity type; period: start of service).
    ServiceHours,
    /// Care subjects (category: care programme; period: registration day). Sensitive.
    CareSubjects,
    /// Care subjects (category: current risk level, `UNASSESSED` when none; period: registration day). Sensitive.
    CareSubjectsByRiskLevel,
    /// Care subjects (category: status; period: registration day). Sensitive.
    CareSubjectsByStatus,
    /// Visits to care subjects (category: kind of visit; period: time of visit). Sensitive.
    CareVisits,
    /// Share of active care subjects visited within the last 30 days (category: care programme; no period). Sensitive.
    VisitedWithin30DaysShare,
    /// Community-correction subjects received (category: correction type; period: day received). Sensitive.
    CorrectionsReceived,
    /// Community-correction subjects released (category: correction type; period: day released). Sensitive.
    CorrectionsReleased,
    /// Community-correction subjects under supervision now (category: correction type; no period). Sensitive.
    CorrectionsUnderSupervision,
    /// Active mentorships (category: the mentee's care programme; period: start). Sensitive.
    MentorshipsActive,
    /// Mentoring outcomes (category: outcome kind; period: day achieved). Sensitive.
    MentoringOutcomes,
    /// Legal-aid applications (category: application state; period: submission). Sensitive.
    LegalAidApplications,
    /// Legal-aid amounts disbursed, in yuan (category: fund code; period: disbursement). Sensitive.
    LegalAidDisbursed,
    /// Legal-aid amounts repaid so far, in yuan (category: fund code; no period). Sensitive.
    LegalAidRepaid,
    /// Legal-aid loans still owed, in yuan (category: fund code; no period). Sensitive.
    LegalAidOutstanding,
    /// Balances of the legal-aid funds, in yuan, by the fund's own region (category: fund code; no period).
    FundBalances,
    /// Disputes received, by the grid where they were reported (category: dispute category; period: report).
    /// Sensitive.
    DisputesReceived,
    /// Disputes received, by channel (category: channel; period: report). Sensitive.
    DisputesByChannel,
    /// Disputes resolved by mediation, at any level (category: dispute category; period: resolution). Sensitive.
    DisputesResolved,
    /// Mediation success rate: of the disputes reported in the period whose mediation ended, the share resolved
    /// (at any level) rather than left unresolved or escalated out (category: dispute category; period: report).
    /// Sensitive.
    MediationSuccessRate,
    /// Share of the open disputes whose current stage is past its due time, now (category: dispute category; no
    /// period). Sensitive.
    DisputesOverdueShare,
    /// Escalations: disputes sent to a level up or out of mediation (category: where to; period: report).
    /// Sensitive.
    DisputeEscalations,
    /// Major projects whose stability risk assessment was completed (category: risk rating; period: completion).
    StabilityAssessmentsCompleted,
    /// Major projects by outcome: `IMPLEMENTED_AFTER_ASSESSMENT`, `STARTED_WITHOUT_ASSESSMENT`,
    /// `ASSESSED_AWAITING_START`, `IN_ASSESSMENT`, `NOT_ASSESSED` (category: outcome; period: the start, or the
    /// planned start while not started).
    StabilityProjectOutcomes,
    /// Major projects carried out after a completed stability assessment (category: risk rating; period: start).
    StabilityProjectsImplemented,
    /// Instability incidents caused by major projects carried out after a completed assessment: the disputes
    /// linked to them and flagged as incidents (category: dispute category; period: report). Sensitive.
    StabilityIncidentsAfterImplementation,
    /// Vetoes of responsible units' annual evaluations, by the unit's region (category: the evaluation year;
    /// period: when the veto was recorded).
    UnitVetoes,
}

/// What a statistic's values are.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum StatisticsUnit {
    /// A whole number of persons or records.
    Count,
    /// Hours with two decimals.
    Hours,
    /// Yuan with two decimals.
    Yuan,
    /// A share between 0 and 1 with four decimals.
    Share,
}

/// Calendar periods, in Asia/Shanghai time.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum StatisticsPeriod {
    /// A day: `2026-03-01`.
    Day,
    /// An ISO week: `2026-W09`.
    Week,
    /// A month: `2026-03`.
    Month,
    /// A quarter: `2026-Q1`.
    Quarter,
    /// A year: `2026`.
    Year,
}

/// How one measure is computed. `t` is the measure's table, `g` the region row it is attached to.
pub struct Spec {
    from: &'static str,
    filter: &'static str,
    value: &'static str,
    persons: &'static str,
    category: Option<&'static str>,
    /// The period column and whether it is a timestamp (else a date).
    period: Option<(&'static str, bool)>,
    pub unit: StatisticsUnit,
    /// Counts persons in a sensitive category: disclosure control applies to partners.
    pub sensitive: bool,
    /// `t` is the service rollup, with one row per region of every level: only one level may be read.
    rollup: bool,
    /// The instant bound to the `?` of the value, when it has one.
    instant: Instant,
    /// The id of the record a row of `t` is (see [`super::cell_key`]).
    pub record_id: &'static str,
}

/// Which instant a measure's value compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instant {
    /// The start of the 30-day window of the visited share.
    VisitedSince,
    /// Now: whether a deadline has passed.
    Now,
}

const VOLUNTEERS: &str = "volunteer t JOIN region g ON g.id = t.region_id";
const ROLLUP: &str = concat!(crate::rollup_cells!(), " t JOIN region g ON g.id = t.region_id");
const SUBJECTS: &str = "care_subject t JOIN region g ON g.id = t.region_id";
const VISITS: &str =
    "care_visit t JOIN care_subject s ON s.id = t.subject_id JOIN region g ON g.id = s.region_id";
const CORRECTIONS: &str =
    "correction_profile t JOIN care_subject s ON s.id = t.subject_id JOIN region g ON g.id = s.region_id";
const MENTORSHIPS: &str =
    "mentorship t JOIN care_subject s ON s.id = t.mentee_id JOIN region g ON g.id = s.region_id";
const OUTCOMES: &str = "mentoring_outcome t JOIN mentorship m ON m.id = t.mentorship_id \
     JOIN care_subject s ON s.id = m.mentee_id JOIN region g ON g.id = s.region_id";
const APPLICATIONS: &str = "legal_aid_application t JOIN legal_aid_fund f ON f.id = t.fund_id \
     JOIN region g ON g.id = t.region_id";
const FUNDS: &str = "legal_aid_fund t JOIN region g ON g.id = t.region_id";
const DISPUTES: &str = "dispute t JOIN region g ON g.id = t.grid_id";
/// `a` is taken by the ancestor region a grouping by region joins, hence `sa` for the assessment.
const PROJECTS: &str = "major_project t JOIN region g ON g.id = t.region_id \
     LEFT JOIN stability_assessment sa ON sa.project_id = t.id";
const IMPLEMENTED: &str =
    "t.started_on IS NOT NULL AND t.started_without_assessment = FALSE AND sa.step = 'MEASURES'";
const PROJECT_OUTCOME: &str = "CASE WHEN t.started_on IS NOT NULL AND t.started_without_assessment = FALSE \
     THEN 'IMPLEMENTED_AFTER_ASSESSMENT' WHEN t.started_on IS NOT NULL THEN 'STARTED_WITHOUT_ASSESSMENT' \
     WHEN sa.step = 'MEASURES' THEN 'ASSESSED_AWAITING_START' WHEN sa.id IS NOT NULL THEN 'IN_ASSESSMENT' \
     ELSE 'NOT_ASSESSED' END";
const PROJECT_INCIDENTS: &str = "dispute t JOIN major_project p ON p.id = t.major_project_id \
     JOIN region g ON g.id = p.region_id";
const VETOES: &str =
    "unit_veto t JOIN responsible_unit u ON u.id = t.unit_id JOIN region g ON g.id = u.region_id";
const OPEN_DISPUTE: &str = "t.state IN ('REPORTED', 'ACCEPTED', 'ASSIGNED', 'MEDIATING')";
const APPLICANTS: &str = "COUNT(DISTINCT t.applicant_id_number)";
/// Marks the bound "visited since" timestamp of the share measure.
const SINCE: &str = "?";

impl StatisticsMeasure {
    /// How the measure is computed.
    pub fn spec(self) -> Spec {
        use StatisticsMeasure as M;
        use StatisticsUnit::{Count, Hours, Share, Yuan};
        let spec = |from, filter, value, persons, category, period, unit, sensitive| Spec {
            from,
            filter,
            value,
            persons,
            category,
            period,
            unit,
            sensitive,
            rollup: false,
            instant: Instant::VisitedSince,
            record_id: if from == CORRECTIONS { "t.subject_id" } else { "t.id" },
        };
        let registered = Some(("t.registered_on", false));
        match self {
            M::RegisteredVolunteers => {
                spec(VOLUNTEERS, "1 = 1", "COUNT(*)", "COUNT(*)", Some("t.status"), registered, Count, false)
            }
            M::ActiveVolunteers => spec(
                VOLUNTEERS,
                "t.status = 'ACTIVE'",
                "COUNT(*)",
                "COUNT(*)",
                None,
                registered,
                Count,
                false,
            ),
            M::ServiceRecords => {
                let period = Some(("t.day", false));
                let value = "SUM(t.records)";
                Spec {
                    rollup: true,
                    ..spec(ROLLUP, "1 = 1", value, value, Some("t.activity"), period, Count, false)
                }
            }
            M::ServiceHours => {
                let period = Some(("t.day", false));
                let (value, persons) = ("SUM(t.minutes)", "SUM(t.records)");
                Spec {
                    rollup: true,
                    ..spec(ROLLUP, "1 = 1", value, persons, Some("t.activity"), period, Hours, false)
                }
            }
            M::CareSubjects => {
                spec(SUBJECTS, "1 = 1", "COUNT(*)", "COUNT(*)", Some("t.category"), registered, Count, true)
            }
            M::CareSubjectsByRiskLevel => spec(
                SUBJECTS,
                "1 = 1",
                "COUNT(*)",
                "COUNT(*)",
                Some("COALESCE(CAST(t.current_risk_level AS TEXT), 'UNASSESSED')"),
                registered,
                Count,
                true,
            ),
            M::CareSubjectsByStatus => {
                spec(SUBJECTS, "1 = 1", "COUNT(*)", "COUNT(*)", Some("t.status"), registered, Count, true)
            }
            M::CareVisits => spec(
                VISITS,
                "1 = 1",
                "COUNT(*)",
                "COUNT(DISTINCT t.subject_id)",
                Some("t.kind"),
                Some(("t.visited_at", true)),
                Count,
                true,
            ),
            M::VisitedWithin30DaysShare => spec(
                SUBJECTS,
                "t.status = 'ACTIVE'",
                "SUM(CASE WHEN EXISTS (SELECT 1 FROM care_visit v WHERE v.subject_id = t.id AND v.visited_at >= ?) \
                 THEN 1 ELSE 0 END)",
                "COUNT(*)",
                Some("t.category"),
                None,
                Share,
                true,
            ),
            M::CorrectionsReceived => spec(
                CORRECTIONS,
                "1 = 1",
                "COUNT(*)",
                "COUNT(*)",
                Some("t.correction_type"),
                Some(("t.received_on", false)),
                Count,
                true,
            ),
            M::CorrectionsReleased => spec(
                CORRECTIONS,
                "t.status = 'RELEASED'",
                "COUNT(*)",
                "COUNT(*)",
                Some("t.correction_type"),
                Some(("t.released_on", false)),
                Count,
                true,
            ),
            M::CorrectionsUnderSupervision => spec(
                CORRECTIONS,
                "t.status = 'UNDER_SUPERVISION'",
                "COUNT(*)",
                "COUNT(*)",
                Some("t.correction_type"),
                None,
                Count,
                true,
            ),
            M::MentorshipsActive => spec(
                MENTORSHIPS,
                "t.status = 'ACTIVE'",
                "COUNT(*)",
                "COUNT(DISTINCT t.mentee_id)",
                Some("s.category"),
                Some(("t.started_on", false)),
                Count,
                true,
            ),
            M::MentoringOutcomes => spec(
                OUTCOMES,
                "1 = 1",
                "COUNT(*)",
                "COUNT(DISTINCT m.mentee_id)",
                Some("t.kind"),
                Some(("t.achieved_on", false)),
                Count,
                true,
            ),
            M::LegalAidApplications => spec(
                APPLICATIONS,
                "1 = 1",
                "COUNT(*)",
                APPLICANTS,
                Some("t.state"),
                Some(("t.submitted_at", true)),
                Count,
                true,
            ),
            M::LegalAidDisbursed => spec(
                APPLICATIONS,
                "t.disbursed_at IS NOT NULL",
                "SUM(t.amount_fen)",
                APPLICANTS,
                Some("f.code"),
                Some(("t.disbursed_at", true)),
                Yuan,
                true,
            ),
            M::LegalAidRepaid => spec(
                APPLICATIONS,
                "t.repaid_fen > 0",
                "SUM(t.repaid_fen)",
                APPLICANTS,
                Some("f.code"),
                None,
                Yuan,
                true,
            ),
            M::LegalAidOutstanding => spec(
                APPLICATIONS,
                "t.due_on IS NOT NULL AND t.state IN ('DISBURSED', 'REPAYING')",
                "SUM(t.amount_fen - t.repaid_fen)",
                APPLICANTS,
                Some("f.code"),
                None,
                Yuan,
                true,
            ),
            M::FundBalances => {
                spec(FUNDS, "1 = 1", "SUM(t.balance_fen)", "COUNT(*)", Some("t.code"), None, Yuan, false)
            }
            M::DisputesReceived => {
                let reported = Some(("t.reported_at", true));
                spec(DISPUTES, "1 = 1", "COUNT(*)", "COUNT(*)", Some("t.category"), reported, Count, true)
            }
            M::DisputesByChannel => {
                let reported = Some(("t.reported_at", true));
                spec(DISPUTES, "1 = 1", "COUNT(*)", "COUNT(*)", Some("t.channel"), reported, Count, true)
            }
            M::DisputesResolved => spec(
                DISPUTES,
                "t.outcome = 'RESOLVED'",
                "COUNT(*)",
                "COUNT(*)",
                Some("t.category"),
                Some(("t.resolved_at", true)),
                Count,
                true,
            ),
            M::MediationSuccessRate => spec(
                DISPUTES,
                "t.outcome IS NOT NULL",
                "SUM(CASE WHEN t.outcome = 'RESOLVED' THEN 1 ELSE 0 END)",
                "COUNT(*)",
                Some("t.category"),
                Some(("t.reported_at", true)),
                Share,
                true,
            ),
            M::DisputesOverdueShare => Spec {
                instant: Instant::Now,
                ..spec(
                    DISPUTES,
                    OPEN_DISPUTE,
                    "SUM(CASE WHEN t.due_at < ? THEN 1 ELSE 0 END)",
                    "COUNT(*)",
                    Some("t.category"),
                    None,
                    Share,
                    true,
                )
            },
            M::DisputeEscalations => spec(
                DISPUTES,
                "t.escalated_to IS NOT NULL",
                "COUNT(*)",
                "COUNT(*)",
                Some("t.escalated_to"),
                Some(("t.reported_at", true)),
                Count,
                true,
            ),
            M::StabilityAssessmentsCompleted => spec(
                PROJECTS,
                "sa.step = 'MEASURES'",
                "COUNT(*)",
                "COUNT(*)",
                Some("sa.rating"),
                Some(("sa.completed_at", true)),
                Count,
                false,
            ),
            M::StabilityProjectOutcomes => spec(
                PROJECTS,
                "1 = 1",
                "COUNT(*)",
                "COUNT(*)",
                Some(PROJECT_OUTCOME),
                Some(("COALESCE(t.started_on, t.planned_start)", false)),
                Count,
                false,
            ),
            M::StabilityProjectsImplemented => spec(
                PROJECTS,
                IMPLEMENTED,
                "COUNT(*)",
                "COUNT(*)",
                Some("sa.rating"),
                Some(("t.started_on", false)),
                Count,
                false,
            ),
            M::StabilityIncidentsAfterImplementation => spec(
                PROJECT_INCIDENTS,
                "t.instability_incident = TRUE AND p.started_on IS NOT NULL AND p.started_without_assessment = FALSE",
                "COUNT(*)",
                "COUNT(*)",
                Some("t.category"),
                Some(("t.reported_at", true)),
                Count,
                true,
            ),
            M::UnitVetoes => spec(
                VETOES,
                "1 = 1",
                "COUNT(*)",
                "COUNT(*)",
                Some("CAST(t.year AS TEXT)"),
                Some(("t.recorded_at", true)),
                Count,
                false,
            ),
        }
    }
}

impl StatisticsMeasure {
    /// Every value the measure's category can take, for the complete grids partners get (see
    /// [`super::grid`]); `None` for measures without categories or that are not sensitive.
    pub fn categories(self) -> Option<super::grid::Categories> {
        use super::grid::Categories::{Fixed, FundCodes};
        use StatisticsMeasure as M;
        use entities::{
            care_subject, care_visit, correction_profile, dispute, legal_aid_application, mentoring_outcome,
        };
        use sea_orm::ActiveEnum;
        Some(match self {
            M::CareSubjects | M::VisitedWithin30DaysShare | M::MentorshipsActive => {
                Fixed(care_subject::CareCategory::values())
            }
            M::CareSubjectsByRiskLevel => {
                let mut levels: Vec<String> = (0..=5).map(|level: i16| level.to_string()).collect();
                levels.push("UNASSESSED".to_owned());
                Fixed(levels)
            }
            M::CareSubjectsByStatus => Fixed(care_subject::SubjectStatus::values()),
            M::CareVisits => Fixed(care_visit::VisitKind::values()),
            M::CorrectionsReceived | M::CorrectionsReleased | M::CorrectionsUnderSupervision => {
                Fixed(correction_profile::CorrectionType::values())
            }
            M::MentoringOutcomes => Fixed(mentoring_outcome::OutcomeKind::values()),
            M::LegalAidApplications => Fixed(legal_aid_application::ApplicationState::values()),
            M::LegalAidDisbursed | M::LegalAidRepaid | M::LegalAidOutstanding => FundCodes,
            M::DisputesReceived
            | M::DisputesResolved
            | M::MediationSuccessRate
            | M::DisputesOverdueShare
            | M::StabilityIncidentsAfterImplementation => Fixed(dispute::DisputeCategory::values()),
            M::DisputesByChannel => Fixed(dispute::DisputeChannel::values()),
            M::DisputeEscalations => Fixed(dispute::EscalationTarget::values()),
            M::RegisteredVolunteers
            | M::ActiveVolunteers
            | M::ServiceRecords
            | M::ServiceHours
            | M::FundBalances
            | M::StabilityAssessmentsCompleted
            | M::StabilityProjectOutcomes
            | M::StabilityProjectsImplemented
            | M::UnitVetoes => return None,
        })
    }
}

impl Spec {
    /// Whether the measure has its own categories.
    pub fn has_category(&self) -> bool {
        self.category.is_some()
    }

    /// Whether the measure can be bucketed by period.
    pub fn has_period(&self) -> bool {
        self.period.is_some()
    }
}

/// One grouping of one measure, as a statement.
pub struct Grouping<'a> {
    pub spec: &'a Spec,
    /// Group by the ancestor at this depth, or not by region.
    pub region_depth: Option<i16>,
    pub period: Option<StatisticsPeriod>,
    pub category: bool,
    /// Subtree of the rows counted: the caller's scope and `inRegion`, as (low, high) path bounds.
    pub subtrees: Vec<(String, String)>,
    /// Inclusive window on the local (Asia/Shanghai) day of the period column.
    pub window: Option<(NaiveDate, NaiveDate)>,
    /// Start of the 30-day window of the share measure.
    pub visited_since: DateTime<Utc>,
    /// SQL of each row's record key, when the cells' keys are wanted (see [`super::cell_key`]).
    pub record_key: Option<String>,
}

/// One row of a grouped statement.
#[derive(Debug, Clone)]
pub struct Row {
    pub region_path: Option<String>,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub period: Option<String>,
    pub category: Option<String>,
    pub value: i64,
    pub persons: i64,
    /// The cell key: the sum of the rows' record keys, when asked for; else 0.
    pub cell_key: i64,
}

fn local_day(backend: DatabaseBackend, column: &str, timestamp: bool) -> String {
    match (backend, timestamp) {
        (_, true) => crate::sql::local_day(backend, column),
        (DatabaseBackend::Postgres, false) => column.to_owned(),
        (_, false) => format!("date({column})"),
    }
}

fn period_label(backend: DatabaseBackend, day: &str, period: StatisticsPeriod) -> String {
    use StatisticsPeriod as P;
    if backend == DatabaseBackend::Postgres {
        return match period {
            P::Day => format!("to_char({day}, 'YYYY-MM-DD')"),
            // ISO week-numbering year and week, as in `2026-W09`.
            P::Week => format!("to_char({day}, 'IYYY-\"W\"IW')"),
            P::Month => format!("to_char({day}, 'YYYY-MM')"),
            P::Quarter => format!("to_char({day}, 'YYYY-\"Q\"Q')"),
            P::Year => format!("to_char({day}, 'YYYY')"),
        };
    }
    match period {
        P::Day => day.to_owned(),
        // The Monday of the week; turned into the ISO label after the query (see `iso_week`).
        P::Week => {
            format!("date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')")
        }
        P::Month => format!("strftime('%Y-%m', {day})"),
        P::Quarter => {
            format!("strftime('%Y', {day}) || '-Q' || ((CAST(strftime('%m', {day}) AS INTEGER) + 2) / 3)")
        }
        P::Year => format!("strftime('%Y', {day})"),
    }
}

/// Replaces `?` placeholders by PostgreSQL's numbered `$1`, `$2`, …; SQLite's SQL is returned unchanged.
pub(crate) fn numbered(backend: DatabaseBackend, sql: &str) -> String {
    if backend != DatabaseBackend::Postgres {
        return sql.to_owned();
    }
    let mut numbered = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            numbered.push_str(&format!("${n}"));
        } else {
            numbered.push(ch);
        }
    }
    numbered
}

/// The length shared by every region path at `depth`, or `None` when they differ (or there are none).
async fn path_length_at(db: &DatabaseConnection, depth: i16) -> Result<Option<i64>, ApiError> {
    let backend = db.get_database_backend();
    let sql = numbered(
        backend,
        "SELECT CAST(MIN(length(path)) AS BIGINT) AS shortest, CAST(MAX(length(path)) AS BIGINT) AS longest \
         FROM region WHERE depth = ?",
    );
    let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, [depth.into()])).await?;
    let Some(row) = row else { return Ok(None) };
    let shortest = row.try_get::<Option<i64>>("", "shortest")?;
    let longest = row.try_get::<Option<i64>>("", "longest")?;
    Ok(shortest.filter(|shortest| Some(*shortest) == longest))
}

/// `2026-02-23` (a Monday) → `2026-W09`; other text is returned unchanged.
fn iso_week(monday: &str) -> String {
    match NaiveDate::parse_from_str(monday, "%Y-%m-%d") {
        Ok(day) => day.format("%G-W%V").to_string(),
        Err(_) => monday.to_owned(),
    }
}

impl Grouping<'_> {
    /// `ancestor_path_length`: the one length of every path at `region_depth`, when they share one.
    fn statement(&self, backend: DatabaseBackend, ancestor_path_length: Option<i64>) -> Statement {
        let spec = self.spec;
        let mut select = Vec::new();
        let mut group = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        let value = spec.value;
        if value.contains(SINCE) {
            values.push(match spec.instant {
                Instant::VisitedSince => self.visited_since.into(),
                Instant::Now => Utc::now().into(),
            });
        }
        select.push(format!("CAST({value} AS BIGINT) AS v"));
        select.push(format!("CAST({} AS BIGINT) AS n", spec.persons));
        if let Some(record_key) = &self.record_key {
            select
                .push(format!("CAST(SUM({record_key}) % {} AS BIGINT) AS kk", super::cell_key::KEY_MODULUS));
        }
        let mut joins = String::new();
        if let Some(depth) = self.region_depth {
            // On PostgreSQL region levels and subtree bounds are written into the statement (see
            // `entities::region::path_literal`); SQLite plans each statement anew and is left with its parameters.
            let level = if backend == DatabaseBackend::Postgres {
                depth.to_string()
            } else {
                values.push(depth.into());
                "?".to_owned()
            };
            joins = match ancestor_path_length {
                // The ancestor's path is a prefix of known length: one index lookup per row.
                Some(length) => {
                    format!("JOIN region a ON a.depth = {level} AND a.path = substr(g.path, 1, {length})")
                }
                None => format!(
                    "JOIN region a ON a.depth = {level} AND {}",
                    crate::scope::path_in_subtree_sql("g.path", "a.path")
                ),
            };
            select.extend([
                "a.path AS rpath".to_owned(),
                "a.code AS rcode".to_owned(),
                "a.name AS rname".to_owned(),
            ]);
            group.extend(["a.path", "a.code", "a.name"].map(str::to_owned));
        }
        let day = spec.period.map(|(column, timestamp)| local_day(backend, column, timestamp));
        if let (Some(period), Some(day)) = (self.period, &day) {
            let label = period_label(backend, day, period);
            select.push(format!("{label} AS pk"));
            group.push(label);
        }
        if let (true, Some(category)) = (self.category, spec.category) {
            select.push(format!("{category} AS ck"));
            group.push(category.to_owned());
        }
        let mut conditions = vec![format!("({})", spec.filter)];
        for (low, high) in &self.subtrees {
            let literals = (backend == DatabaseBackend::Postgres)
                .then(|| path_literal(low).zip(path_literal(high)))
                .flatten();
            match literals {
                Some((low, high)) => conditions.push(format!("g.path >= {low} AND g.path < {high}")),
                None => {
                    conditions.push("g.path >= ? AND g.path < ?".to_owned());
                    values.push(low.clone().into());
                    values.push(high.clone().into());
                }
            }
        }
        if spec.rollup {
            // Each record is counted once, in the row of its ancestor at this level, which lies inside every
            // subtree (the subtrees' roots are no deeper) and under the region it is grouped by.
            let deepest_root = self.subtrees.iter().map(|(low, _)| path_depth(low)).max().unwrap_or(0);
            let level = self.region_depth.unwrap_or(0).max(deepest_root).max(0);
            conditions.push(format!("g.depth = {level}"));
        }
        if let (Some((from, to)), Some(day)) = (self.window, &day) {
            conditions.push(format!("{day} >= ? AND {day} <= ?"));
            values.push(from.into());
            values.push(to.into());
        }
        let grouped = |from: &str| {
            let mut sql = format!(
                "SELECT {} FROM {from} {joins} WHERE {}",
                select.join(", "),
                conditions.join(" AND ")
            );
            if !group.is_empty() {
                sql.push_str(" GROUP BY ");
                sql.push_str(&group.join(", "));
            }
            sql
        };
        if !(spec.rollup && backend == DatabaseBackend::Sqlite) {
            return Statement::from_sql_and_values(backend, numbered(backend, &grouped(spec.from)), values);
        }
        // SQLite: the grouped statement over each of the rollup's tables, then their sums added (see
        // `rollup::ROLLUP_TABLES`). Every value this statement computes is a sum, so adding them is exact.
        debug_assert!(
            spec.from.contains(crate::rollup_cells!()),
            "a rollup measure reads the rollup's cells"
        );
        let parts: Vec<String> = super::rollup::ROLLUP_TABLES
            .iter()
            .map(|table| grouped(&spec.from.replacen(crate::rollup_cells!(), table, 1)))
            .collect();
        let mut sums =
            vec!["CAST(SUM(v) AS BIGINT) AS v".to_owned(), "CAST(SUM(n) AS BIGINT) AS n".to_owned()];
        if self.record_key.is_some() {
            sums.push(format!("CAST(SUM(kk) % {} AS BIGINT) AS kk", super::cell_key::KEY_MODULUS));
        }
        let keys: Vec<&str> = ["rpath", "rcode", "rname", "pk", "ck"]
            .into_iter()
            .filter(|alias| select.iter().any(|column| column.ends_with(&format!(" AS {alias}"))))
            .collect();
        sums.extend(keys.iter().map(|key| (*key).to_owned()));
        let mut sql = format!("SELECT {} FROM ({}) u", sums.join(", "), parts.join(" UNION ALL "));
        if !keys.is_empty() {
            sql.push_str(" GROUP BY ");
            sql.push_str(&keys.join(", "));
        }
        let values = [values.clone(), values].concat();
        Statement::from_sql_and_values(backend, numbered(backend, &sql), values)
    }

    /// Runs the grouped statement.
    pub async fn rows(&self, db: &DatabaseConnection) -> Result<Vec<Row>, ApiError> {
        let backend = db.get_database_backend();
        // SQLite runs the range join below as a scan of the region table per row; PostgreSQL hashes it faster
        // than it joins on the prefix.
        let ancestor_path_length = match self.region_depth {
            Some(depth) if backend != DatabaseBackend::Postgres => path_length_at(db, depth).await?,
            _ => None,
        };
        let statement = self.statement(backend, ancestor_path_length);
        let mut rows = Vec::new();
        for row in db.query_all_raw(statement).await? {
            let text = |name: &str, used: bool| -> Result<Option<String>, ApiError> {
                Ok(if used { row.try_get::<Option<String>>("", name)? } else { None })
            };
            let grouped_by_region = self.region_depth.is_some();
            let mut period = text("pk", self.period.is_some() && self.spec.has_period())?;
            if backend != DatabaseBackend::Postgres && self.period == Some(StatisticsPeriod::Week) {
                period = period.as_deref().map(iso_week);
            }
            rows.push(Row {
                region_path: text("rpath", grouped_by_region)?,
                region_code: text("rcode", grouped_by_region)?,
                region_name: text("rname", grouped_by_region)?,
                period,
                category: text("ck", self.category && self.spec.has_category())?,
                value: row.try_get::<Option<i64>>("", "v")?.unwrap_or(0),
                persons: row.try_get::<Option<i64>>("", "n")?.unwrap_or(0),
                cell_key: match self.record_key {
                    Some(_) => {
                        super::cell_key::cell_key_of(row.try_get::<Option<i64>>("", "kk")?.unwrap_or(0))
                    }
                    None => 0,
                },
            });
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mondays_become_iso_weeks() {
        assert_eq!(iso_week("2026-02-23"), "2026-W09");
        assert_eq!(iso_week("2024-12-30"), "2025-W01");
    }

    #[test]
    fn paths_have_depths_and_placeholders_are_numbered() {
        assert_eq!(path_depth("/330900/"), 0);
        assert_eq!(path_depth("/330900/330902/330902001/"), 2);
        assert_eq!(numbered(DatabaseBackend::Postgres, "a = ? AND b < ?"), "a = $1 AND b < $2");
        assert_eq!(numbered(DatabaseBackend::Sqlite, "a = ?"), "a = ?");
        assert_eq!(path_literal("/330900/3309020").as_deref(), Some("'/330900/3309020'"));
        assert_eq!(path_literal("/330900/' OR 1=1 --"), None);
    }
}
