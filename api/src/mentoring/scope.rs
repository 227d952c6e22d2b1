//! The scope predicates of the mentoring tables. Everything under a mentorship is scoped by the mentee, a care
//! subject of category AT_RISK_YOUTH, through subqueries on `care_subject.region_id`.

use entities::care_subject::{self, CareCategory};
use entities::{mentoring_outcome, mentoring_session, mentorship};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition};

use crate::auth::viewer::{Access, in_subtree};

/// `SELECT id FROM care_subject WHERE category = 'AT_RISK_YOUTH' AND <region>`: the young people a mentorship
/// may pair, restricted to `region` when given.
fn youth_ids(region: Option<Condition>) -> SelectStatement {
    let mut query = Query::select();
    query
        .column(care_subject::Column::Id)
        .from(care_subject::Entity)
        .and_where(care_subject::Column::Category.eq(CareCategory::AtRiskYouth));
    if let Some(region) = region {
        query.cond_where(region);
    }
    query.to_owned()
}

/// The caller's scope predicate on `care_subject.region_id`, or `None` for an unscoped read.
pub fn youth_region_scope(access: &Access) -> Option<Condition> {
    access.scope.as_ref().map(|scope| scope.contains(care_subject::Column::RegionId))
}

/// Mentorships whose mentee is a young person in the caller's scope.
pub fn mentorship_in_scope(access: &Access) -> Condition {
    Condition::all().add(mentorship::Column::MenteeId.in_subquery(youth_ids(youth_region_scope(access))))
}

/// Mentorships whose mentee lives in the subtree with materialized path `path`.
pub fn mentee_in_subtree(path: &str) -> Condition {
    let region = in_subtree(care_subject::Column::RegionId, path);
    Condition::all().add(mentorship::Column::MenteeId.in_subquery(youth_ids(Some(region))))
}

/// `SELECT id FROM mentorship WHERE <mentee in scope>`.
fn mentorship_ids_in_scope(access: &Access) -> SelectStatement {
    Query::select()
        .column(mentorship::Column::Id)
        .from(mentorship::Entity)
        .cond_where(mentorship_in_scope(access))
        .to_owned()
}

/// Sessions of mentorships in the caller's scope.
pub fn session_in_scope(access: &Access) -> Condition {
    Condition::all().add(mentoring_session::Column::MentorshipId.in_subquery(mentorship_ids_in_scope(access)))
}

/// Outcomes of mentorships in the caller's scope.
pub fn outcome_in_scope(access: &Access) -> Condition {
    Condition::all().add(mentoring_outcome::Column::MentorshipId.in_subquery(mentorship_ids_in_scope(access)))
}
