//! The GraphQL types of disputes: the dispute with its parties, vessels and history, fishing vessels, mediators
//! and mediation boats. What a caller sees of each follows the policy: a dispute's summary is sensitive, the
//! parties' and vessel owners' names, identity numbers and phones personal.

use async_graphql::{Context, Enum, ID, Object};
use chrono::Utc;
use entities::{dispute, dispute_event, dispute_party, fishing_vessel, mediation_boat, mediator};

use super::loader::DisputeEventArgs;
use super::workflow::is_open;
use crate::auth::mask;
use crate::auth::viewer::Access;
use crate::error::ApiResult;
use crate::node::{NodeType, global_id};
use crate::pagination::PageRequest;
use crate::regions::types::{GridTeamMember, Region};
use crate::request::RequestData;
use crate::scalars::Timestamp;
use crate::stability::types::MajorProject;

/// How a dispute came to the grid's notice.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::dispute::DisputeChannel")]
pub enum DisputeChannel {
    /// Found by the grid's own patrol.
    GridPatrol,
    /// A call to the hotline.
    Hotline,
    /// A petition (信访).
    Petition,
    /// Someone came to the office.
    WalkIn,
    /// Passed on by another body.
    Referral,
    /// Found by a patrol at sea.
    MaritimePatrol,
    /// Reported online.
    Online,
}

/// What a dispute is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::dispute::DisputeCategory")]
pub enum DisputeCategory {
    /// Between neighbours.
    Neighbourhood,
    /// Within a family.
    Family,
    /// Land and housing.
    LandAndHousing,
    /// Labour and unpaid wages.
    LabourAndWages,
    /// A consumer's complaint.
    Consumer,
    /// A traffic accident.
    Traffic,
    /// Medical treatment.
    Medical,
    /// Property management of a housing estate.
    PropertyManagement,
    /// Fishing grounds (at sea).
    FishingGrounds,
    /// A collision of vessels (at sea).
    VesselCollision,
    /// Catch and fishing gear (at sea).
    CatchAndGear,
    /// Anything else.
    Other,
}

/// How likely a dispute is to escalate.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::dispute::EscalationRisk", name = "DisputeEscalationRisk")]
pub enum EscalationRisk {
    /// Unlikely to escalate.
    Low,
    /// Could escalate.
    Medium,
    /// Likely to escalate.
    High,
    /// At risk of an incident: report upwards at once.
    Critical,
}

/// Where a dispute stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::dispute::DisputeState")]
pub enum DisputeState {
    /// Reported, waiting to be accepted (within 1 day).
    Reported,
    /// Accepted by the region handling it, waiting for a mediator.
    Accepted,
    /// A mediator or mediation boat took it; the first session is due within 7 days of acceptance.
    Assigned,
    /// In mediation; resolution is due within 30 days of the first session.
    Mediating,
    /// Settled by mediation, with an agreement.
    Resolved,
    /// Mediation failed; to be escalated.
    Unresolved,
    /// Escalated out of mediation: to arbitration, a court or the petition office.
    Escalated,
    /// Closed.
    Closed,
}

/// Where a dispute that mediation could not settle is sent.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::dispute::EscalationTarget", name = "DisputeEscalationTarget")]
pub enum EscalationTarget {
    /// Arbitration (仲裁).
    Arbitration,
    /// The courts (司法).
    Court,
    /// The petition office (信访).
    PetitionOffice,
    /// Mediation at the next level up (community → township → district → city): the case is accepted again there.
    NextLevel,
}

/// How mediation ended.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::dispute::MediationOutcome")]
pub enum MediationOutcome {
    /// Settled (at any level).
    Resolved,
    /// Not settled, not (yet) escalated out of mediation.
    Unresolved,
    /// Escalated to arbitration, a court or the petition office.
    EscalatedOut,
}

/// Whether a party is a person or an organisation.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::dispute_party::PartyKind", name = "DisputePartyKind")]
pub enum PartyKind {
    /// A person: name, identity card number and phone are personal data.
    Person,
    /// A company or other organisation.
    Organisation,
}

/// The side a party is on.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::dispute_party::PartyRole", name = "DisputePartyRole")]
pub enum PartyRole {
    /// Brought the dispute.
    Applicant,
    /// The other side.
    Respondent,
    /// Otherwise involved.
    Other,
}

/// What happened to a dispute.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::dispute_event::DisputeEventKind")]
pub enum DisputeEventKind {
    /// It was reported.
    Reported,
    /// It was accepted (again, after an escalation to the next level).
    Accepted,
    /// A mediator or boat was assigned.
    Assigned,
    /// A mediation session was held.
    MediationSession,
    /// It was resolved.
    Resolved,
    /// Mediation failed.
    Unresolved,
    /// It was escalated.
    Escalated,
    /// It was closed.
    Closed,
    /// A follow-up visit after resolution.
    FollowUp,
}

/// What kind of mediator.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::mediator::MediatorKind")]
pub enum MediatorKind {
    /// A people's mediator (人民调解员).
    PeoplesMediator,
    /// A grid worker.
    GridWorker,
    /// A lawyer.
    Lawyer,
    /// A police officer.
    Police,
    /// A member of a mediation boat's crew (娘舅船).
    BoatCrew,
}

/// A dispute or incident reported in a grid, and its way to a settlement.
pub struct Dispute {
    pub row: dispute::Model,
    pub access: Access,
}

/// A dispute or incident reported in a grid (矛盾纠纷), and its way to a settlement.
#[Object]
impl Dispute {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Dispute, self.row.id)
    }

    /// Case code, e.g. `MD2026000123`.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// Where it stands.
    async fn state(&self) -> DisputeState {
        self.row.state.into()
    }

    /// How it came to notice.
    async fn channel(&self) -> DisputeChannel {
        self.row.channel.into()
    }

    /// What it is about.
    async fn category(&self) -> DisputeCategory {
        self.row.category.into()
    }

    /// How likely it is to escalate.
    async fn escalation_risk(&self) -> EscalationRisk {
        self.row.escalation_risk.into()
    }

    /// What happened (sensitive: null with `FORBIDDEN` unless your role may read it and you stated a purpose).
    async fn summary(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.id, self.row.summary.clone())?))
    }

    /// The sea area, for disputes at sea.
    async fn sea_area(&self) -> Option<&str> {
        self.row.sea_area.as_deref()
    }

    /// The grid where it was reported; null if outside your scope.
    async fn grid(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.grid_id).await
    }

    /// The region handling it now: the grid's community at first, a level higher after each escalation to the
    /// next level; null if outside your scope.
    async fn handled_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// When it was reported.
    async fn reported_at(&self) -> Timestamp {
        Timestamp(self.row.reported_at)
    }

    /// When its current stage began.
    async fn stage_started_at(&self) -> Timestamp {
        Timestamp(self.row.stage_started_at)
    }

    /// When its current stage is due (the local midnight ending the stage's last day); null once mediation ended.
    async fn due_at(&self) -> Option<Timestamp> {
        self.row.due_at.filter(|_| is_open(self.row.state)).map(Timestamp)
    }

    /// Whether its current stage is past its due time.
    async fn overdue(&self) -> bool {
        is_open(self.row.state) && self.row.due_at.is_some_and(|due| due < Utc::now())
    }

    /// The mediator it is assigned to; null when none, or outside your scope.
    async fn assignee(&self, ctx: &Context<'_>) -> ApiResult<Option<Mediator>> {
        match self.row.assignee_mediator_id {
            Some(id) => RequestData::of(ctx)?.disputes().mediator_by_id(id).await,
            None => Ok(None),
        }
    }

    /// The mediation boat it is assigned to; null when none, or outside your scope.
    async fn assigned_boat(&self, ctx: &Context<'_>) -> ApiResult<Option<MediationBoat>> {
        match self.row.assignee_boat_id {
            Some(id) => RequestData::of(ctx)?.disputes().boat_by_id(id).await,
            None => Ok(None),
        }
    }

    /// Where it was escalated to, if it was.
    async fn escalated_to(&self) -> Option<EscalationTarget> {
        self.row.escalated_to.map(Into::into)
    }

    /// The agreement reached (sensitive, like the summary); null unless resolved.
    async fn agreement(&self) -> ApiResult<Option<String>> {
        match &self.row.agreement {
            Some(agreement) => Ok(Some(self.access.sensitive(self.row.id, agreement.clone())?)),
            None => Ok(None),
        }
    }

    /// How mediation ended, once it did: what the success rate counts.
    async fn outcome(&self) -> Option<MediationOutcome> {
        self.row.outcome.map(Into::into)
    }

    /// When it was resolved.
    async fn resolved_at(&self) -> Option<Timestamp> {
        self.row.resolved_at.map(Timestamp)
    }

    /// When it was closed.
    async fn closed_at(&self) -> Option<Timestamp> {
        self.row.closed_at.map(Timestamp)
    }

    /// Whether it was an instability incident (a mass incident or an escalation the stability assessment counts).
    async fn instability_incident(&self) -> bool {
        self.row.instability_incident
    }

    /// The major project it arose from, if it was linked to one in your scope (needs the right to read major
    /// projects).
    async fn major_project(&self, ctx: &Context<'_>) -> ApiResult<Option<MajorProject>> {
        match self.row.major_project_id {
            Some(id) => RequestData::of(ctx)?.stability().project_by_id(id).await,
            None => Ok(None),
        }
    }

    /// The parties: at most 20.
    async fn parties(&self, ctx: &Context<'_>) -> ApiResult<Vec<DisputeParty>> {
        RequestData::of(ctx)?.disputes().parties_of(self.row.id).await
    }

    /// The fishing vessels involved: at most 10.
    async fn vessels(&self, ctx: &Context<'_>) -> ApiResult<Vec<FishingVessel>> {
        RequestData::of(ctx)?.disputes().vessels_of(self.row.id).await
    }

    /// What happened to it, oldest first: every transition, mediation session and follow-up.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<DisputeEventConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.disputes().events_of(self.row.id, DisputeEventArgs { page }).await
    }
}

crate::connection_type!(DisputeConnection, DisputeEdge, Dispute, "disputes");
crate::connection_type!(DisputeEventConnection, DisputeEventEdge, DisputeEvent, "dispute events");
crate::connection_type!(FishingVesselConnection, FishingVesselEdge, FishingVessel, "fishing vessels");
crate::connection_type!(MediatorConnection, MediatorEdge, Mediator, "mediators");

/// A party to a dispute.
pub struct DisputeParty {
    pub row: dispute_party::Model,
    pub access: Access,
}

/// A party to a dispute: a person or an organisation.
#[Object]
impl DisputeParty {
    /// Person or organisation.
    async fn kind(&self) -> PartyKind {
        self.row.kind.into()
    }

    /// The side they are on.
    async fn role(&self) -> PartyRole {
        self.row.role.into()
    }

    /// The name (personal for a person: masked as 张* for roles without personal access).
    async fn name(&self) -> String {
        match self.row.kind {
            dispute_party::PartyKind::Person => {
                self.access.personal(self.row.dispute_id, &self.row.name, mask::name)
            }
            dispute_party::PartyKind::Organisation => self.row.name.clone(),
        }
    }

    /// A person's identity card number (personal: masked as 330902********1234).
    async fn id_number(&self) -> Option<String> {
        self.row.id_number.as_deref().map(|id| self.access.personal(self.row.dispute_id, id, mask::id_number))
    }

    /// The phone (personal: masked as 138****5678).
    async fn phone(&self) -> Option<String> {
        self.row.phone.as_deref().map(|phone| self.access.personal(self.row.dispute_id, phone, mask::phone))
    }
}

/// One entry of a dispute's history.
pub struct DisputeEvent {
    pub row: dispute_event::Model,
}

/// One entry of a dispute's history: a transition, a mediation session or a follow-up.
#[Object]
impl DisputeEvent {
    /// What happened.
    async fn kind(&self) -> DisputeEventKind {
        self.row.kind.into()
    }

    /// The state before; null for the report.
    async fn from_state(&self) -> Option<DisputeState> {
        self.row.from_state.map(Into::into)
    }

    /// The state after.
    async fn to_state(&self) -> Option<DisputeState> {
        self.row.to_state.map(Into::into)
    }

    /// Who did it (their token's subject).
    async fn actor(&self) -> &str {
        &self.row.actor
    }

    /// When.
    async fn occurred_at(&self) -> Timestamp {
        Timestamp(self.row.occurred_at)
    }

    /// The note recorded with it.
    async fn note(&self) -> Option<&str> {
        self.row.note.as_deref()
    }

    /// The region handling the dispute at the time; null if outside your scope.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }
}

/// A fishing vessel's record.
pub struct FishingVessel {
    pub row: fishing_vessel::Model,
    pub access: Access,
}

/// A fishing vessel's record (一船一档).
#[Object]
impl FishingVessel {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::FishingVessel, self.row.id)
    }

    /// Registration number, e.g. `浙岱渔03125`.
    async fn registration_no(&self) -> &str {
        &self.row.registration_no
    }

    /// The vessel's name.
    async fn name(&self) -> &str {
        &self.row.name
    }

    /// Its home port's township; null if outside your scope.
    async fn home_port(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.home_port_id).await
    }

    /// The owner's name (personal: masked as 张*).
    async fn owner_name(&self) -> String {
        self.access.personal(self.row.id, &self.row.owner_name, mask::name)
    }

    /// The owner's identity card number (personal: masked).
    async fn owner_id_number(&self) -> String {
        self.access.personal(self.row.id, &self.row.owner_id_number, mask::id_number)
    }

    /// The owner's phone (personal: masked).
    async fn owner_phone(&self) -> String {
        self.access.personal(self.row.id, &self.row.owner_phone, mask::phone)
    }

    /// How many crew it carries.
    async fn crew_size(&self) -> i16 {
        self.row.crew_size
    }

    /// Its safety star rating, 1 to 5 (平安星级船).
    async fn safety_stars(&self) -> i16 {
        self.row.safety_stars
    }

    /// The grid team member linked to it (定人联船), if any and in your scope.
    async fn grid_worker(&self, ctx: &Context<'_>) -> ApiResult<Option<GridTeamMember>> {
        match self.row.grid_worker_id {
            Some(id) => RequestData::of(ctx)?.disputes().grid_worker_by_id(id).await,
            None => Ok(None),
        }
    }

    /// The disputes it was involved in, newest first.
    async fn disputes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<Option<DisputeConnection>> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.disputes().disputes_of_vessel(self.row.id, page).await.map(Some)
    }
}

/// A mediator.
pub struct Mediator {
    pub row: mediator::Model,
    pub access: Access,
}

/// A mediator who can be assigned disputes.
#[Object]
impl Mediator {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Mediator, self.row.id)
    }

    /// Mediator code.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// The mediator's name (personal: masked as 张*).
    async fn name(&self) -> String {
        self.access.personal(self.row.id, &self.row.name, mask::name)
    }

    /// The mediator's phone (personal: masked).
    async fn phone(&self) -> String {
        self.access.personal(self.row.id, &self.row.phone, mask::phone)
    }

    /// What kind of mediator.
    async fn kind(&self) -> MediatorKind {
        self.row.kind.into()
    }

    /// The region they mediate in; null if outside your scope.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// The mediation boat whose crew they belong to; null if none.
    async fn boat(&self, ctx: &Context<'_>) -> ApiResult<Option<MediationBoat>> {
        match self.row.mediation_boat_id {
            Some(id) => RequestData::of(ctx)?.disputes().boat_by_id(id).await,
            None => Ok(None),
        }
    }

    /// Whether they take new cases.
    async fn active(&self) -> bool {
        self.row.active
    }
}

/// A mediation boat.
pub struct MediationBoat {
    pub row: mediation_boat::Model,
    pub access: Access,
}

/// A mediation boat (海上"娘舅船"): a crew that settles disputes between fishing vessels at sea.
#[Object]
impl MediationBoat {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::MediationBoat, self.row.id)
    }

    /// Boat code.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// The boat's name.
    async fn name(&self) -> &str {
        &self.row.name
    }

    /// The captain (personal: masked as 张*).
    async fn captain_name(&self) -> String {
        self.access.personal(self.row.id, &self.row.captain_name, mask::name)
    }

    /// The boat's phone (personal: masked).
    async fn phone(&self) -> String {
        self.access.personal(self.row.id, &self.row.phone, mask::phone)
    }

    /// Its home township; null if outside your scope.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// Whether it takes new cases.
    async fn active(&self) -> bool {
        self.row.active
    }
}
