//! sea-orm entities of the govgraph database: one module per table, relations declared, no business logic.
//!
//! Enumerations are stored as short upper-case strings guarded by CHECK constraints in the migrations, so that
//! the same schema runs on SQLite and PostgreSQL and a row read by hand explains itself.

pub mod assessment_step;
pub mod audit_event;
pub mod audit_event_record;
pub mod care_group_member;
pub mod care_subject;
pub mod care_visit;
pub mod common;
pub mod correction_profile;
pub mod dispute;
pub mod dispute_event;
pub mod dispute_party;
pub mod dispute_vessel;
pub mod fishing_vessel;
pub mod grid_team_member;
pub mod ledger_entry;
pub mod legal_aid_application;
pub mod legal_aid_fund;
pub mod major_project;
pub mod mediation_boat;
pub mod mediator;
pub mod mental_health_profile;
pub mod mentor;
pub mod mentoring_outcome;
pub mod mentoring_session;
pub mod mentorship;
pub mod mitigation_measure;
pub mod region;
pub mod responsible_unit;
pub mod risk_assessment;
pub mod service_record;
pub mod service_rollup;
pub mod service_rollup_pending;
pub mod stability_assessment;
pub mod unit_veto;
pub mod volunteer;
pub mod volunteer_badge;
pub mod volunteer_team;
pub mod volunteer_team_membership;
pub mod youth_profile;

pub mod prelude {
    //! The entities under their table-like names, for `use entities::prelude::*`.
    pub use crate::audit_event::Entity as AuditEvent;
    pub use crate::audit_event_record::Entity as AuditEventRecord;
    pub use crate::care_group_member::Entity as CareGroupMember;
    pub use crate::care_subject::Entity as CareSubject;
    pub use crate::care_visit::Entity as CareVisit;
    pub use crate::correction_profile::Entity as CorrectionProfile;
    pub use crate::grid_team_member::Entity as GridTeamMember;
    pub use crate::ledger_entry::Entity as LedgerEntry;
    pub use crate::legal_aid_application::Entity as LegalAidApplication;
    pub use crate::legal_aid_fund::Entity as LegalAidFund;
    pub use crate::mental_health_profile::Entity as MentalHealthProfile;
    pub use crate::mentor::Entity as Mentor;
    pub use crate::mentoring_outcome::Entity as MentoringOutcome;
    pub use crate::mentoring_session::Entity as MentoringSession;
    pub use crate::mentorship::Entity as Mentorship;
    pub use crate::region::Entity as Region;
    pub use crate::risk_assessment::Entity as RiskAssessment;
    pub use crate::service_record::Entity as ServiceRecord;
    pub use crate::service_rollup::Entity as ServiceRollup;
    pub use crate::service_rollup_pending::Entity as ServiceRollupPending;
    pub use crate::volunteer::Entity as Volunteer;
    pub use crate::volunteer_badge::Entity as VolunteerBadge;
    pub use crate::volunteer_team::Entity as VolunteerTeam;
    pub use crate::volunteer_team_membership::Entity as VolunteerTeamMembership;
    pub use crate::youth_profile::Entity as YouthProfile;
}
