//! Each table's scope rule, in one place. A row is visible to a caller when it lies in the caller's region
//! subtree as its rule defines it:
//!
//! - by its own region or grid: regions, grid teams, volunteers, teams, service records, care subjects,
//!   mentors, legal-aid applications, the service rollup;
//! - through the row it belongs to: a volunteer's memberships and badges, a care subject's profiles, visits,
//!   assessments and care group, a mentorship's sessions and outcomes, an audit event's records;
//! - by a rule of its own: a mentorship by its mentee (an at-risk youth); a fund serves its whole region, so it
//!   is visible inside that region too (the city's funds to every district); a ledger entry with its
//!   application, or with its fund when it has none (donations, allocations); an audit event by the region of
//!   the token that caused it.

use entities::care_subject::CareCategory;
use entities::{
    assessment_step, audit_event, audit_event_record, care_group_member, care_subject, care_visit,
    correction_profile, dispute, dispute_event, dispute_party, dispute_vessel, fishing_vessel,
    grid_team_member, ledger_entry, legal_aid_application, legal_aid_fund, major_project, mediation_boat,
    mediator, mental_health_profile, mentor, mentoring_outcome, mentoring_session, mentorship,
    mitigation_measure, region, responsible_unit, risk_assessment, service_record, service_rollup,
    service_rollup_pending, stability_assessment, unit_veto, volunteer, volunteer_badge, volunteer_team,
    volunteer_team_membership, youth_profile,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition};

use super::{Reach, Rule, Scoped, condition_at, ids_at};

/// Every table whose reads are scoped, by name: a test checks that each entity of the `entities` crate is here
/// or in [`UNSCOPED_TABLES`], and that each one's select carries its predicate.
pub const SCOPED_TABLES: &[&str] = &[
    "assessment_step",
    "audit_event",
    "audit_event_record",
    "care_group_member",
    "care_subject",
    "care_visit",
    "correction_profile",
    "dispute",
    "dispute_event",
    "dispute_party",
    "dispute_vessel",
    "fishing_vessel",
    "grid_team_member",
    "ledger_entry",
    "legal_aid_application",
    "legal_aid_fund",
    "major_project",
    "mediation_boat",
    "mediator",
    "mental_health_profile",
    "mentor",
    "mentoring_outcome",
    "mentoring_session",
    "mentorship",
    "mitigation_measure",
    "region",
    "responsible_unit",
    "risk_assessment",
    "service_record",
    "service_rollup",
    "service_rollup_pending",
    "stability_assessment",
    "unit_veto",
    "volunteer",
    "volunteer_badge",
    "volunteer_team",
    "volunteer_team_membership",
    "youth_profile",
];

/// Entity modules that are not tables of their own (shared enums).
pub const UNSCOPED_TABLES: &[&str] = &["common"];

impl Scoped for region::Entity {
    fn rule() -> Rule<Self> {
        Rule::RegionTree
    }
}

impl Scoped for grid_team_member::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(grid_team_member::Column::GridId)
    }
}

impl Scoped for volunteer::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(volunteer::Column::RegionId)
    }
}

impl Scoped for volunteer_team::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(volunteer_team::Column::RegionId)
    }
}

impl Scoped for volunteer_team_membership::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(volunteer_team_membership::Column::VolunteerId, ids_at::<volunteer::Entity>)
    }
}

impl Scoped for volunteer_badge::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(volunteer_badge::Column::VolunteerId, ids_at::<volunteer::Entity>)
    }
}

impl Scoped for service_record::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(service_record::Column::GridId)
    }
}

impl Scoped for service_rollup::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(service_rollup::Column::RegionId)
    }
}

impl Scoped for service_rollup_pending::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(service_rollup_pending::Column::RegionId)
    }
}

impl Scoped for care_subject::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(care_subject::Column::RegionId)
    }
}

impl Scoped for mental_health_profile::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(mental_health_profile::Column::SubjectId, ids_at::<care_subject::Entity>)
    }
}

impl Scoped for correction_profile::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(correction_profile::Column::SubjectId, ids_at::<care_subject::Entity>)
    }
}

impl Scoped for youth_profile::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(youth_profile::Column::SubjectId, ids_at::<care_subject::Entity>)
    }
}

impl Scoped for risk_assessment::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(risk_assessment::Column::SubjectId, ids_at::<care_subject::Entity>)
    }
}

impl Scoped for care_visit::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(care_visit::Column::SubjectId, ids_at::<care_subject::Entity>)
    }
}

impl Scoped for care_group_member::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(care_group_member::Column::SubjectId, ids_at::<care_subject::Entity>)
    }
}

impl Scoped for mentor::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(mentor::Column::RegionId)
    }
}

/// `SELECT id FROM care_subject WHERE category = 'AT_RISK_YOUTH' AND <in reach>`: the young people a
/// mentorship may pair.
fn youth_ids(reach: &Reach<'_>) -> SelectStatement {
    let mut ids = ids_at::<care_subject::Entity>(reach);
    ids.and_where(care_subject::Column::Category.eq(CareCategory::AtRiskYouth));
    ids
}

impl Scoped for mentorship::Entity {
    fn rule() -> Rule<Self> {
        // Asked of the row's own mentee (`EXISTS`, one primary-key lookup per mentorship) rather than as
        // `mentee_id IN (every young person in reach)`, which SQLite materializes whole for each statement: for a
        // district's first page of subjects' mentorships, 0.08 ms against 0.52 ms on the benchmark's data.
        // PostgreSQL plans both forms as the same semi-join.
        Rule::Own(|reach| {
            let mut own_mentee = youth_ids(reach);
            own_mentee.and_where(
                Expr::col((care_subject::Entity, care_subject::Column::Id))
                    .equals((mentorship::Entity, mentorship::Column::MenteeId)),
            );
            Condition::all().add(Expr::exists(own_mentee))
        })
    }
}

impl Scoped for mentoring_session::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(mentoring_session::Column::MentorshipId, ids_at::<mentorship::Entity>)
    }
}

impl Scoped for mentoring_outcome::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(mentoring_outcome::Column::MentorshipId, ids_at::<mentorship::Entity>)
    }
}

impl Scoped for legal_aid_application::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(legal_aid_application::Column::RegionId)
    }
}

impl Scoped for legal_aid_fund::Entity {
    /// Funds of regions in the subtree, and those of the subtree root's ancestors.
    fn rule() -> Rule<Self> {
        Rule::Own(|reach| {
            let Some(path) = reach.path else { return Condition::all() };
            let ancestors: Vec<String> =
                path.split('/').filter(|code| !code.is_empty()).map(str::to_owned).collect();
            let ancestor_ids = Query::select()
                .column(region::Column::Id)
                .from(region::Entity)
                .and_where(region::Column::Code.is_in(ancestors))
                .to_owned();
            Condition::any()
                .add(super::in_subtree(legal_aid_fund::Column::RegionId, path))
                .add(legal_aid_fund::Column::RegionId.in_subquery(ancestor_ids))
        })
    }
}

impl Scoped for ledger_entry::Entity {
    /// With its application; without one (donations, allocations and their reversals), with its fund.
    fn rule() -> Rule<Self> {
        Rule::Own(|reach| {
            if reach.path.is_none() {
                return Condition::all();
            }
            Condition::any()
                .add(
                    ledger_entry::Column::ApplicationId
                        .in_subquery(ids_at::<legal_aid_application::Entity>(reach)),
                )
                .add(
                    Condition::all().add(ledger_entry::Column::ApplicationId.is_null()).add(
                        ledger_entry::Column::FundId.in_subquery(ids_at::<legal_aid_fund::Entity>(reach)),
                    ),
                )
        })
    }
}

impl Scoped for audit_event::Entity {
    /// Events of callers whose token region lies in the subtree.
    fn rule() -> Rule<Self> {
        Rule::Own(|reach| {
            if reach.path.is_none() {
                return Condition::all();
            }
            let codes = Query::select()
                .column(region::Column::Code)
                .from(region::Entity)
                .cond_where(condition_at::<region::Entity>(&Reach { path: reach.path, access: None }))
                .to_owned();
            Condition::all().add(audit_event::Column::RegionCode.in_subquery(codes))
        })
    }
}

impl Scoped for audit_event_record::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(audit_event_record::Column::EventId, ids_at::<audit_event::Entity>)
    }
}

/// The funds whose own region lies in the caller's subtree: those whose income the caller books (the city's funds
/// by city-level officers), a narrower rule than reading, which also shows the funds of the subtree's ancestors.
pub fn funds_kept_by(access: &crate::auth::viewer::Access) -> Condition {
    match &access.scope {
        Some(scope) => super::in_subtree(legal_aid_fund::Column::RegionId, &scope.path),
        None => Condition::all(),
    }
}

impl Scoped for dispute::Entity {
    /// Reported in the subtree, or handled there now (after an escalation to a level above the grid's region).
    fn rule() -> Rule<Self> {
        Rule::Own(|reach| {
            let Some(path) = reach.path else { return Condition::all() };
            Condition::any()
                .add(super::in_subtree(dispute::Column::GridId, path))
                .add(super::in_subtree(dispute::Column::RegionId, path))
        })
    }

    /// A caller whose grants reach only their assigned cases (mediators) sees the disputes assigned to the
    /// mediator record linked to their token's subject, or to the mediation boat whose crew that mediator is.
    fn relationship(access: &crate::auth::viewer::Access) -> Option<Condition> {
        access.assigned_to.as_deref().map(crate::disputes::query::assigned_to)
    }
}

impl Scoped for dispute_party::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(dispute_party::Column::DisputeId, ids_at::<dispute::Entity>)
    }
}

impl Scoped for dispute_vessel::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(dispute_vessel::Column::DisputeId, ids_at::<dispute::Entity>)
    }
}

impl Scoped for dispute_event::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(dispute_event::Column::DisputeId, ids_at::<dispute::Entity>)
    }
}

impl Scoped for fishing_vessel::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(fishing_vessel::Column::HomePortId)
    }
}

impl Scoped for mediator::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(mediator::Column::RegionId)
    }
}

impl Scoped for mediation_boat::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(mediation_boat::Column::RegionId)
    }
}

impl Scoped for responsible_unit::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(responsible_unit::Column::RegionId)
    }

    /// A unit's officer (whose grants reach only their own unit) sees the unit linked to their token's subject.
    fn relationship(access: &crate::auth::viewer::Access) -> Option<Condition> {
        access
            .assigned_to
            .as_deref()
            .map(|subject| Condition::all().add(responsible_unit::Column::OfficerSubject.eq(subject)))
    }
}

impl Scoped for unit_veto::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(unit_veto::Column::UnitId, ids_at::<responsible_unit::Entity>)
    }
}

impl Scoped for major_project::Entity {
    fn rule() -> Rule<Self> {
        Rule::Region(major_project::Column::RegionId)
    }

    /// A unit's officer sees the projects of the unit linked to their token's subject.
    fn relationship(access: &crate::auth::viewer::Access) -> Option<Condition> {
        access.assigned_to.as_deref().map(crate::stability::types::projects_of_unit_officer)
    }
}

impl Scoped for stability_assessment::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(stability_assessment::Column::ProjectId, ids_at::<major_project::Entity>)
    }
}

impl Scoped for assessment_step::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(assessment_step::Column::AssessmentId, ids_at::<stability_assessment::Entity>)
    }
}

impl Scoped for mitigation_measure::Entity {
    fn rule() -> Rule<Self> {
        Rule::Parent(mitigation_measure::Column::AssessmentId, ids_at::<stability_assessment::Entity>)
    }
}
