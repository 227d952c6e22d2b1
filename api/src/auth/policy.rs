//! The policy table: which role may do what to which resource, and how much of it they see.
//!
//! This is the only place where rights are decided. A grant says: `role` may perform `action` on `resource`
//! and sees its fields up to `fields` (public < personal < sensitive); fields above that are masked or refused.
//! Everything not granted is denied. Region scope is not decided here: it always applies, in SQL.

use std::fmt;

/// Roles a token may carry (`roles` claim, lower-case). `Anonymous` is the caller without a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Admin,
    Officer,
    GridWorker,
    CareWorker,
    FundOfficer,
    VolunteerCoordinator,
    MentorCoordinator,
    Analyst,
    Partner,
    Auditor,
    Mediator,
    UnitOfficer,
    Anonymous,
}

impl Role {
    /// The roles a token can carry, in the order the README lists them.
    pub const TOKEN_ROLES: [Role; 12] = [
        Role::Admin,
        Role::Officer,
        Role::GridWorker,
        Role::CareWorker,
        Role::FundOfficer,
        Role::VolunteerCoordinator,
        Role::MentorCoordinator,
        Role::Analyst,
        Role::Partner,
        Role::Auditor,
        Role::Mediator,
        Role::UnitOfficer,
    ];

    /// The claim value of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::GridWorker => "grid_worker",
            Role::CareWorker => "care_worker",
            Role::FundOfficer => "fund_officer",
            Role::VolunteerCoordinator => "volunteer_coordinator",
            Role::MentorCoordinator => "mentor_coordinator",
            Role::Analyst => "analyst",
            Role::Partner => "partner",
            Role::Auditor => "auditor",
            Role::Mediator => "mediator",
            Role::UnitOfficer => "unit_officer",
            Role::Anonymous => "anonymous",
        }
    }

    /// Parses a claim value; unknown names (and `anonymous`, which no token may claim) give `None`.
    pub fn from_claim(name: &str) -> Option<Role> {
        Role::TOKEN_ROLES.into_iter().find(|role| role.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is being accessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Region,
    GridTeam,
    Volunteer,
    ServiceRecord,
    CareSubject,
    MentalHealthProfile,
    CorrectionProfile,
    Visit,
    Mentor,
    Mentorship,
    Fund,
    Application,
    Ledger,
    AuditEvent,
    Statistics,
    Dispute,
    Vessel,
    Mediator,
    MajorProject,
    ResponsibleUnit,
}

impl Resource {
    pub const ALL: [Resource; 20] = [
        Resource::Region,
        Resource::GridTeam,
        Resource::Volunteer,
        Resource::ServiceRecord,
        Resource::CareSubject,
        Resource::MentalHealthProfile,
        Resource::CorrectionProfile,
        Resource::Visit,
        Resource::Mentor,
        Resource::Mentorship,
        Resource::Fund,
        Resource::Application,
        Resource::Ledger,
        Resource::AuditEvent,
        Resource::Statistics,
        Resource::Dispute,
        Resource::Vessel,
        Resource::Mediator,
        Resource::MajorProject,
        Resource::ResponsibleUnit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Region => "region",
            Resource::GridTeam => "grid_team",
            Resource::Volunteer => "volunteer",
            Resource::ServiceRecord => "service_record",
            Resource::CareSubject => "care_subject",
            Resource::MentalHealthProfile => "mental_health_profile",
            Resource::CorrectionProfile => "correction_profile",
            Resource::Visit => "visit",
            Resource::Mentor => "mentor",
            Resource::Mentorship => "mentorship",
            Resource::Fund => "fund",
            Resource::Application => "application",
            Resource::Ledger => "ledger",
            Resource::AuditEvent => "audit_event",
            Resource::Statistics => "statistics",
            Resource::Dispute => "dispute",
            Resource::Vessel => "vessel",
            Resource::Mediator => "mediator",
            Resource::MajorProject => "major_project",
            Resource::ResponsibleUnit => "responsible_unit",
        }
    }
}

/// What is being done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Read,
    Create,
    Update,
    Approve,
    Disburse,
}

impl Action {
    pub const ALL: [Action; 5] =
        [Action::Read, Action::Create, Action::Update, Action::Approve, Action::Disburse];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Approve => "approve",
            Action::Disburse => "disburse",
        }
    }
}

/// How protected a field is. Ordered: a grant of `Sensitive` includes `Personal` and `Public`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldClass {
    /// Codes, categories, dates, counts: nothing that identifies a person.
    Public,
    /// Identifies a person: names, phone numbers, ID numbers, addresses.
    Personal,
    /// Health, criminal and guardian details.
    Sensitive,
}

impl FieldClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldClass::Public => "public",
            FieldClass::Personal => "personal",
            FieldClass::Sensitive => "sensitive",
        }
    }
}

/// One row of the policy table.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub role: Role,
    pub resource: Resource,
    pub actions: &'static [Action],
    pub fields: FieldClass,
    /// Only the records related to the caller (for disputes: those assigned to the mediator their token's
    /// subject is), not every record of their region.
    pub assigned_only: bool,
}

use Action::{Approve, Create, Disburse, Read, Update};
use FieldClass::{Personal, Public, Sensitive};
use Resource as R;

const READ: &[Action] = &[Read];
const READ_CREATE: &[Action] = &[Read, Create];
const READ_WRITE: &[Action] = &[Read, Create, Update];
const EVERYTHING: &[Action] = &[Read, Create, Update, Approve, Disburse];

const READ_UPDATE: &[Action] = &[Read, Update];
const READ_CREATE_APPROVE: &[Action] = &[Read, Create, Update, Approve];

const fn grant(role: Role, resource: Resource, actions: &'static [Action], fields: FieldClass) -> Grant {
    Grant { role, resource, actions, fields, assigned_only: false }
}

/// A grant on the records assigned to the caller only.
const fn grant_assigned(
    role: Role,
    resource: Resource,
    actions: &'static [Action],
    fields: FieldClass,
) -> Grant {
    Grant { role, resource, actions, fields, assigned_only: true }
}

/// The policy table. The README's matrix is generated from it (`govgraph policy`) and a test keeps them equal.
pub const POLICY: &[Grant] = &[
    // Residents without a token may look up their grid's service team (联系方式全公开).
    grant(Role::Anonymous, R::GridTeam, READ, Public),
    // Officers read every domain in scope; sensitive fields are masked.
    grant(Role::Officer, R::Region, READ, Public),
    grant(Role::Officer, R::GridTeam, READ, Personal),
    grant(Role::Officer, R::Volunteer, READ, Personal),
    grant(Role::Officer, R::ServiceRecord, READ, Personal),
    grant(Role::Officer, R::CareSubject, READ, Personal),
    grant(Role::Officer, R::MentalHealthProfile, READ, Personal),
    grant(Role::Officer, R::CorrectionProfile, READ, Personal),
    grant(Role::Officer, R::Visit, READ, Personal),
    grant(Role::Officer, R::Mentor, READ, Personal),
    grant(Role::Officer, R::Mentorship, READ, Personal),
    grant(Role::Officer, R::Fund, READ, Public),
    grant(Role::Officer, R::Application, READ, Personal),
    grant(Role::Officer, R::Ledger, READ, Public),
    grant(Role::Officer, R::Statistics, READ, Public),
    // Officers run dispute mediation in their region: accept, assign, escalate and close, with the summaries.
    grant(Role::Officer, R::Dispute, READ_CREATE_APPROVE, Sensitive),
    grant(Role::Officer, R::Vessel, READ_WRITE, Personal),
    grant(Role::Officer, R::Mediator, READ_CREATE, Personal),
    // Officers are the assessing office of major projects' stability assessments (维稳办): they register
    // projects and units, investigate, hold the joint review, rate, give feedback, and veto units.
    grant(Role::Officer, R::MajorProject, READ_CREATE_APPROVE, Sensitive),
    grant(Role::Officer, R::ResponsibleUnit, READ_CREATE_APPROVE, Public),
    // Grid workers see the people of their grids and record visits and service.
    grant(Role::GridWorker, R::Region, READ, Public),
    grant(Role::GridWorker, R::GridTeam, READ_WRITE, Personal),
    grant(Role::GridWorker, R::Volunteer, READ, Personal),
    grant(Role::GridWorker, R::ServiceRecord, READ_CREATE, Personal),
    grant(Role::GridWorker, R::CareSubject, READ, Personal),
    grant(Role::GridWorker, R::Visit, READ_CREATE, Personal),
    grant(Role::GridWorker, R::Mentor, READ, Personal),
    grant(Role::GridWorker, R::Mentorship, READ, Personal),
    grant(Role::GridWorker, R::Statistics, READ, Public),
    // They report disputes and follow them up, and keep the records of the vessels linked to them.
    grant(Role::GridWorker, R::Dispute, READ_CREATE, Personal),
    grant(Role::GridWorker, R::Vessel, READ_WRITE, Personal),
    grant(Role::GridWorker, R::Mediator, READ, Personal),
    // Care workers run the special-population programmes, health details included.
    grant(Role::CareWorker, R::Region, READ, Public),
    grant(Role::CareWorker, R::GridTeam, READ, Personal),
    grant(Role::CareWorker, R::CareSubject, READ_WRITE, Sensitive),
    grant(Role::CareWorker, R::MentalHealthProfile, READ_WRITE, Sensitive),
    grant(Role::CareWorker, R::CorrectionProfile, READ_WRITE, Personal),
    grant(Role::CareWorker, R::Visit, READ_WRITE, Sensitive),
    grant(Role::CareWorker, R::Statistics, READ, Public),
    // Fund officers run the legal-aid funds.
    grant(Role::FundOfficer, R::Region, READ, Public),
    grant(Role::FundOfficer, R::Fund, READ_CREATE, Public),
    grant(Role::FundOfficer, R::Application, EVERYTHING, Sensitive),
    grant(Role::FundOfficer, R::Ledger, READ_CREATE, Personal),
    grant(Role::FundOfficer, R::Statistics, READ, Public),
    // Volunteer coordinators run the volunteer domain.
    grant(Role::VolunteerCoordinator, R::Region, READ, Public),
    grant(Role::VolunteerCoordinator, R::GridTeam, READ, Personal),
    grant(Role::VolunteerCoordinator, R::Volunteer, READ_WRITE, Personal),
    grant(Role::VolunteerCoordinator, R::ServiceRecord, READ_WRITE, Personal),
    grant(Role::VolunteerCoordinator, R::Statistics, READ, Public),
    // Mentor coordinators run the youth mentoring programme.
    grant(Role::MentorCoordinator, R::Region, READ, Public),
    grant(Role::MentorCoordinator, R::Mentor, READ_WRITE, Personal),
    grant(Role::MentorCoordinator, R::Mentorship, READ_WRITE, Personal),
    grant(Role::MentorCoordinator, R::Statistics, READ, Public),
    // Analysts read everything in scope with every personal field masked.
    grant(Role::Analyst, R::Region, READ, Public),
    grant(Role::Analyst, R::GridTeam, READ, Public),
    grant(Role::Analyst, R::Volunteer, READ, Public),
    grant(Role::Analyst, R::ServiceRecord, READ, Public),
    grant(Role::Analyst, R::CareSubject, READ, Public),
    grant(Role::Analyst, R::MentalHealthProfile, READ, Public),
    grant(Role::Analyst, R::CorrectionProfile, READ, Public),
    grant(Role::Analyst, R::Visit, READ, Public),
    grant(Role::Analyst, R::Mentor, READ, Public),
    grant(Role::Analyst, R::Mentorship, READ, Public),
    grant(Role::Analyst, R::Fund, READ, Public),
    grant(Role::Analyst, R::Application, READ, Public),
    grant(Role::Analyst, R::Ledger, READ, Public),
    grant(Role::Analyst, R::Statistics, READ, Public),
    grant(Role::Analyst, R::Dispute, READ, Public),
    grant(Role::Analyst, R::Vessel, READ, Public),
    grant(Role::Analyst, R::Mediator, READ, Public),
    grant(Role::Analyst, R::MajorProject, READ, Public),
    grant(Role::Analyst, R::ResponsibleUnit, READ, Public),
    // Partners get aggregates only; they need region names to read them.
    grant(Role::Partner, R::Region, READ, Public),
    grant(Role::Partner, R::Statistics, READ, Public),
    // Auditors read the audit log only.
    grant(Role::Auditor, R::Region, READ, Public),
    grant(Role::Auditor, R::AuditEvent, READ, Personal),
    // Mediators (people's mediators, boat crews) work the disputes assigned to them, parties and summary included.
    grant(Role::Mediator, R::Region, READ, Public),
    grant_assigned(Role::Mediator, R::Dispute, READ_UPDATE, Sensitive),
    grant(Role::Mediator, R::Vessel, READ, Personal),
    grant(Role::Mediator, R::Mediator, READ, Personal),
    grant(Role::Mediator, R::Statistics, READ, Public),
    // A responsible unit's officer applies for their unit's projects' assessments, sets and completes the
    // mitigation measures and records the start, on their own unit's projects only (through the unit linked to
    // their token's subject).
    grant(Role::UnitOfficer, R::Region, READ, Public),
    grant_assigned(Role::UnitOfficer, R::MajorProject, READ_WRITE, Sensitive),
    grant_assigned(Role::UnitOfficer, R::ResponsibleUnit, READ, Public),
    grant(Role::UnitOfficer, R::Statistics, READ, Public),
];

/// The one decision function: the most protected field class any of `roles` may see when performing `action`
/// on `resource`, or `None` when none of them may do it at all. `admin` may do everything.
pub fn decide(roles: &[Role], resource: Resource, action: Action) -> Option<FieldClass> {
    if roles.contains(&Role::Admin) {
        return Some(Sensitive);
    }
    POLICY
        .iter()
        .filter(|grant| {
            roles.contains(&grant.role) && grant.resource == resource && grant.actions.contains(&action)
        })
        .map(|grant| grant.fields)
        .max()
}

/// Whether every grant that lets `roles` perform `action` on `resource` is limited to the records assigned to the
/// caller (then their reads carry the entity's relationship rule); `false` when any grant reaches the region.
pub fn assigned_only(roles: &[Role], resource: Resource, action: Action) -> bool {
    if roles.contains(&Role::Admin) {
        return false;
    }
    let mut grants = POLICY.iter().filter(|grant| {
        roles.contains(&grant.role) && grant.resource == resource && grant.actions.contains(&action)
    });
    let mut any = false;
    let all_assigned = grants.all(|grant| {
        any = true;
        grant.assigned_only
    });
    any && all_assigned
}

/// The policy table as a Markdown matrix: one row per role, one column per resource; each cell lists the
/// allowed actions (r/c/u/a/d) and the field class seen (pub/per/sen).
pub fn markdown_matrix() -> String {
    let mut out = String::from("| role |");
    for resource in Resource::ALL {
        out.push_str(&format!(" {} |", resource.as_str()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Resource::ALL.len()));
    out.push('\n');
    let roles = std::iter::once(Role::Anonymous).chain(Role::TOKEN_ROLES);
    for role in roles {
        out.push_str(&format!("| `{}` |", role.as_str()));
        for resource in Resource::ALL {
            let mut cell = String::new();
            let mut class = None;
            for action in Action::ALL {
                if let Some(fields) = decide(&[role], resource, action) {
                    cell.push(action.as_str().chars().next().unwrap_or('?'));
                    class = class.max(Some(fields));
                }
            }
            let mine = if assigned_only(&[role], resource, Action::Read) { " mine" } else { "" };
            match class {
                Some(fields) => out.push_str(&format!(" {cell} {}{mine} |", &fields.as_str()[..3])),
                None => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_read_as_the_design_says() {
        assert_eq!(decide(&[Role::Admin], R::MentalHealthProfile, Disburse), Some(Sensitive));
        assert_eq!(decide(&[Role::Officer], R::CareSubject, Read), Some(Personal));
        assert_eq!(decide(&[Role::Officer], R::CareSubject, Update), None);
        assert_eq!(decide(&[Role::CareWorker], R::MentalHealthProfile, Read), Some(Sensitive));
        assert_eq!(decide(&[Role::Analyst], R::Volunteer, Read), Some(Public));
        assert_eq!(decide(&[Role::Partner], R::Volunteer, Read), None);
        assert_eq!(decide(&[Role::Partner], R::Statistics, Read), Some(Public));
        assert_eq!(decide(&[Role::Auditor], R::AuditEvent, Read), Some(Personal));
        assert_eq!(decide(&[Role::Auditor], R::CareSubject, Read), None);
        assert_eq!(decide(&[Role::Anonymous], R::GridTeam, Read), Some(Public));
        assert_eq!(decide(&[Role::Anonymous], R::Region, Read), None);
        assert_eq!(decide(&[], R::Region, Read), None);
        assert_eq!(decide(&[Role::Mediator], R::Dispute, Read), Some(Sensitive));
        assert_eq!(decide(&[Role::Analyst], R::Dispute, Read), Some(Public));
        assert_eq!(decide(&[Role::Partner], R::Dispute, Read), None);
        assert_eq!(decide(&[Role::CareWorker], R::Dispute, Read), None);
    }

    #[test]
    fn mediators_reach_only_their_assigned_disputes() {
        assert_eq!(decide(&[Role::Mediator], R::Dispute, Update), Some(Sensitive));
        assert!(assigned_only(&[Role::Mediator], R::Dispute, Read));
        assert!(!assigned_only(&[Role::Mediator, Role::Officer], R::Dispute, Read));
        assert!(!assigned_only(&[Role::Officer], R::Dispute, Read));
        assert_eq!(decide(&[Role::Mediator], R::Dispute, Approve), None);
        assert_eq!(decide(&[Role::GridWorker], R::Dispute, Create), Some(Personal));
        assert_eq!(decide(&[Role::Partner], R::Dispute, Read), None);
    }

    #[test]
    fn unit_officers_reach_only_their_units_projects() {
        assert_eq!(decide(&[Role::UnitOfficer], R::MajorProject, Create), Some(Sensitive));
        assert_eq!(decide(&[Role::UnitOfficer], R::MajorProject, Approve), None);
        assert!(assigned_only(&[Role::UnitOfficer], R::MajorProject, Read));
        assert!(assigned_only(&[Role::UnitOfficer], R::ResponsibleUnit, Read));
        assert!(!assigned_only(&[Role::UnitOfficer, Role::Officer], R::MajorProject, Read));
        assert_eq!(decide(&[Role::UnitOfficer], R::ResponsibleUnit, Approve), None);
        assert_eq!(decide(&[Role::Officer], R::ResponsibleUnit, Approve), Some(Public));
        assert_eq!(decide(&[Role::Analyst], R::MajorProject, Read), Some(Public));
        assert_eq!(decide(&[Role::Partner], R::MajorProject, Read), None);
        assert_eq!(decide(&[Role::GridWorker], R::MajorProject, Read), None);
    }

    #[test]
    fn several_roles_take_the_widest_grant() {
        assert_eq!(decide(&[Role::Analyst, Role::CareWorker], R::CareSubject, Read), Some(Sensitive));
    }

    #[test]
    fn role_names_round_trip_and_unknown_ones_are_ignored() {
        for role in Role::TOKEN_ROLES {
            assert_eq!(Role::from_claim(role.as_str()), Some(role));
        }
        assert_eq!(Role::from_claim("anonymous"), None);
        assert_eq!(Role::from_claim("superuser"), None);
    }

    #[test]
    fn readme_shows_the_current_policy_table() {
        let readme = include_str!("../../../README.md");
        assert!(
            readme.contains(&markdown_matrix()),
            "README.md's policy matrix is stale: replace it with the output of `govgraph policy`"
        );
    }
}
