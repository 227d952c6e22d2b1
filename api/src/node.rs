//! Relay global object identification: opaque global IDs and the `node(id:)` lookup.

use async_graphql::{Context, ID, Interface, Object};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::care::types::CareSubject;
use crate::care::visits::{CareVisit, RiskAssessment};
use crate::disputes::types::{Dispute, FishingVessel, MediationBoat, Mediator as DisputeMediator};
use crate::error::{ApiError, ApiResult};
use crate::legal_aid::types::{LedgerEntry, LegalAidApplication};
use crate::mentoring::types::{Mentor, MentoringOutcome, MentoringSession, Mentorship};
use crate::regions::types::{GridTeamMember, Region};
use crate::request::RequestData;
use crate::stability::types::{MajorProject, MitigationMeasure, ResponsibleUnit};
use crate::volunteers::service::ServiceRecord;
use crate::volunteers::teams::VolunteerTeam;
use crate::volunteers::types::Volunteer;

/// The object types that `node(id:)` can return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    Region,
    GridTeamMember,
    Volunteer,
    ServiceRecord,
    CareSubject,
    CareVisit,
    RiskAssessment,
    Mentor,
    Mentorship,
    MentoringSession,
    MentoringOutcome,
    LegalAidApplication,
    LedgerEntry,
    VolunteerTeam,
    Dispute,
    FishingVessel,
    Mediator,
    MediationBoat,
    MajorProject,
    ResponsibleUnit,
    MitigationMeasure,
}

impl NodeType {
    /// Every node type; `node(id:)` accepts the IDs of exactly these.
    pub const ALL: [NodeType; 21] = [
        NodeType::Region,
        NodeType::GridTeamMember,
        NodeType::Volunteer,
        NodeType::ServiceRecord,
        NodeType::CareSubject,
        NodeType::CareVisit,
        NodeType::RiskAssessment,
        NodeType::Mentor,
        NodeType::Mentorship,
        NodeType::MentoringSession,
        NodeType::MentoringOutcome,
        NodeType::LegalAidApplication,
        NodeType::LedgerEntry,
        NodeType::VolunteerTeam,
        NodeType::Dispute,
        NodeType::FishingVessel,
        NodeType::Mediator,
        NodeType::MediationBoat,
        NodeType::MajorProject,
        NodeType::ResponsibleUnit,
        NodeType::MitigationMeasure,
    ];

    fn as_str(self) -> &'static str {
        match self {
            NodeType::Region => "Region",
            NodeType::GridTeamMember => "GridTeamMember",
            NodeType::Volunteer => "Volunteer",
            NodeType::ServiceRecord => "ServiceRecord",
            NodeType::CareSubject => "CareSubject",
            NodeType::CareVisit => "CareVisit",
            NodeType::RiskAssessment => "RiskAssessment",
            NodeType::Mentor => "Mentor",
            NodeType::Mentorship => "Mentorship",
            NodeType::MentoringSession => "MentoringSession",
            NodeType::MentoringOutcome => "MentoringOutcome",
            NodeType::LegalAidApplication => "LegalAidApplication",
            NodeType::LedgerEntry => "LedgerEntry",
            NodeType::VolunteerTeam => "VolunteerTeam",
            NodeType::Dispute => "Dispute",
            NodeType::FishingVessel => "FishingVessel",
            NodeType::Mediator => "Mediator",
            NodeType::MediationBoat => "MediationBoat",
            NodeType::MajorProject => "MajorProject",
            NodeType::ResponsibleUnit => "ResponsibleUnit",
            NodeType::MitigationMeasure => "MitigationMeasure",
        }
    }

    /// The policy resource (and audit entity type) of the node type.
    pub fn resource(self) -> crate::auth::Resource {
        match self {
            NodeType::Region => crate::auth::Resource::Region,
            NodeType::GridTeamMember => crate::auth::Resource::GridTeam,
            NodeType::Volunteer => crate::auth::Resource::Volunteer,
            NodeType::ServiceRecord => crate::auth::Resource::ServiceRecord,
            NodeType::CareSubject => crate::auth::Resource::CareSubject,
            NodeType::CareVisit => crate::auth::Resource::Visit,
            // Risk assessments are part of the mental-health record as far as the policy goes.
            NodeType::RiskAssessment => crate::auth::Resource::MentalHealthProfile,
            NodeType::Mentor => crate::auth::Resource::Mentor,
            NodeType::Mentorship | NodeType::MentoringSession | NodeType::MentoringOutcome => {
                crate::auth::Resource::Mentorship
            }
            NodeType::LegalAidApplication => crate::auth::Resource::Application,
            NodeType::LedgerEntry => crate::auth::Resource::Ledger,
            // A team is read with the right to read volunteers.
            NodeType::VolunteerTeam => crate::auth::Resource::Volunteer,
            NodeType::Dispute => crate::auth::Resource::Dispute,
            NodeType::FishingVessel => crate::auth::Resource::Vessel,
            NodeType::Mediator | NodeType::MediationBoat => crate::auth::Resource::Mediator,
            // A measure is part of its project's assessment as far as the policy goes.
            NodeType::MajorProject | NodeType::MitigationMeasure => crate::auth::Resource::MajorProject,
            NodeType::ResponsibleUnit => crate::auth::Resource::ResponsibleUnit,
        }
    }

    /// The kind of record the audit trail files this node's reads and changes under.
    pub fn audit_entity(self) -> &'static str {
        match self {
            // Profiles are keyed by their subject and recorded as part of it.
            NodeType::CareSubject => "care_subject",
            NodeType::RiskAssessment => "risk_assessment",
            NodeType::MentoringSession => "mentoring_session",
            NodeType::MentoringOutcome => "mentoring_outcome",
            NodeType::VolunteerTeam => "volunteer_team",
            NodeType::FishingVessel => "fishing_vessel",
            NodeType::MediationBoat => "mediation_boat",
            NodeType::MitigationMeasure => "mitigation_measure",
            other => other.resource().as_str(),
        }
    }

    fn parse(name: &str) -> Option<Self> {
        NodeType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The global ID of row `id` of type `node_type`.
pub fn global_id(node_type: NodeType, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", node_type.as_str())))
}

/// Reads a global ID back; `argument` names the argument in the error.
pub fn parse_global_id(id: &ID, argument: &str) -> Result<(NodeType, i64), ApiError> {
    let invalid = || ApiError::bad_input(argument, "not an ID issued by this API");
    let raw = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let (name, number) = raw.split_once(':').ok_or_else(invalid)?;
    let node_type = NodeType::parse(name).ok_or_else(invalid)?;
    let number = number.parse().map_err(|_| invalid())?;
    Ok((node_type, number))
}

/// Reads a global ID that must be of one type.
pub fn parse_typed_id(id: &ID, expected: NodeType, argument: &str) -> Result<i64, ApiError> {
    match parse_global_id(id, argument)? {
        (node_type, number) if node_type == expected => Ok(number),
        _ => Err(ApiError::bad_input(argument, format!("not the ID of a {}", expected.as_str()))),
    }
}

/// An object with a global ID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global ID, accepted by `node(id:)`."))]
pub enum Node {
    Region(Region),
    GridTeamMember(GridTeamMember),
    Volunteer(Volunteer),
    ServiceRecord(ServiceRecord),
    CareSubject(CareSubject),
    CareVisit(CareVisit),
    RiskAssessment(RiskAssessment),
    Mentor(Mentor),
    Mentorship(Mentorship),
    MentoringSession(MentoringSession),
    MentoringOutcome(MentoringOutcome),
    LegalAidApplication(LegalAidApplication),
    LedgerEntry(LedgerEntry),
    VolunteerTeam(VolunteerTeam),
    Dispute(Dispute),
    FishingVessel(FishingVessel),
    Mediator(DisputeMediator),
    MediationBoat(MediationBoat),
    MajorProject(MajorProject),
    ResponsibleUnit(ResponsibleUnit),
    MitigationMeasure(MitigationMeasure),
}

/// The `node` root field.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global ID; null when it does not exist or is outside your scope.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID, as the `id` field of any object returns it.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        let request = RequestData::of(ctx)?;
        let (node_type, number) = parse_global_id(&id, "id")?;
        Ok(match node_type {
            NodeType::Region => request.regions().region_by_id(number).await?.map(Node::Region),
            NodeType::GridTeamMember => {
                request.regions().team_member_by_id(number).await?.map(Node::GridTeamMember)
            }
            NodeType::Volunteer => request.volunteers().volunteer_by_id(number).await?.map(Node::Volunteer),
            NodeType::ServiceRecord => {
                request.volunteers().service_record_by_id(number).await?.map(Node::ServiceRecord)
            }
            NodeType::CareSubject => request.care().subject_by_id(number).await?.map(Node::CareSubject),
            NodeType::CareVisit => request.care().visit_by_id(number).await?.map(Node::CareVisit),
            NodeType::RiskAssessment => {
                request.care().assessment_by_id(number).await?.map(Node::RiskAssessment)
            }
            NodeType::Mentor => request.mentoring().mentor_by_id(number).await?.map(Node::Mentor),
            NodeType::Mentorship => request.mentoring().mentorship_by_id(number).await?.map(Node::Mentorship),
            NodeType::MentoringSession => {
                request.mentoring().session_by_id(number).await?.map(Node::MentoringSession)
            }
            NodeType::MentoringOutcome => {
                request.mentoring().outcome_by_id(number).await?.map(Node::MentoringOutcome)
            }
            NodeType::LegalAidApplication => {
                request.legal_aid().application_by_id(number).await?.map(Node::LegalAidApplication)
            }
            NodeType::LedgerEntry => request.legal_aid().entry_by_id(number).await?.map(Node::LedgerEntry),
            NodeType::VolunteerTeam => {
                request.volunteers().team_by_id(number).await?.map(Node::VolunteerTeam)
            }
            NodeType::Dispute => request.disputes().dispute_by_id(number).await?.map(Node::Dispute),
            NodeType::FishingVessel => {
                request.disputes().vessel_by_id(number).await?.map(Node::FishingVessel)
            }
            NodeType::Mediator => request.disputes().mediator_by_id(number).await?.map(Node::Mediator),
            NodeType::MediationBoat => request.disputes().boat_by_id(number).await?.map(Node::MediationBoat),
            NodeType::MajorProject => {
                request.stability().project_by_id(number).await?.map(Node::MajorProject)
            }
            NodeType::ResponsibleUnit => {
                request.stability().unit_by_id(number).await?.map(Node::ResponsibleUnit)
            }
            NodeType::MitigationMeasure => {
                request.stability().measure_by_id(number).await?.map(Node::MitigationMeasure)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_type_round_trips() {
        for node_type in
            [NodeType::Region, NodeType::GridTeamMember, NodeType::Volunteer, NodeType::ServiceRecord]
        {
            assert_eq!(parse_global_id(&global_id(node_type, 5), "id").unwrap(), (node_type, 5));
        }
    }

    #[test]
    fn global_ids_round_trip() {
        let id = global_id(NodeType::Volunteer, 17);
        assert_eq!(parse_global_id(&id, "id").unwrap(), (NodeType::Volunteer, 17));
        assert!(parse_typed_id(&id, NodeType::Region, "id").is_err());
        assert!(parse_global_id(&ID("garbage".into()), "id").is_err());
    }
}
