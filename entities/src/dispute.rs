//! A dispute or incident reported in a grid (矛盾纠纷), and its way through acceptance, assignment, mediation,
//! resolution or escalation, and closing. `region_id` is the region handling it now (the grid's community at
//! first, a level higher after each escalation to the next level); `grid_id` the grid where it was reported.

use sea_orm::entity::prelude::*;

/// How a dispute came to the grid's notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DisputeChannel {
    #[sea_orm(string_value = "GRID_PATROL")]
    GridPatrol,
    #[sea_orm(string_value = "HOTLINE")]
    Hotline,
    #[sea_orm(string_value = "PETITION")]
    Petition,
    #[sea_orm(string_value = "WALK_IN")]
    WalkIn,
    #[sea_orm(string_value = "REFERRAL")]
    Referral,
    #[sea_orm(string_value = "MARITIME_PATROL")]
    MaritimePatrol,
    #[sea_orm(string_value = "ONLINE")]
    Online,
}

/// What a dispute is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum DisputeCategory {
    #[sea_orm(string_value = "NEIGHBOURHOOD")]
    Neighbourhood,
    #[sea_orm(string_value = "FAMILY")]
    Family,
    #[sea_orm(string_value = "LAND_AND_HOUSING")]
    LandAndHousing,
    #[sea_orm(string_value = "LABOUR_AND_WAGES")]
    LabourAndWages,
    #[sea_orm(string_value = "CONSUMER")]
    Consumer,
    #[sea_orm(string_value = "TRAFFIC")]
    Traffic,
    #[sea_orm(string_value = "MEDICAL")]
    Medical,
    #[sea_orm(string_value = "PROPERTY_MANAGEMENT")]
    PropertyManagement,
    #[sea_orm(string_value = "FISHING_GROUNDS")]
    FishingGrounds,
    #[sea_orm(string_value = "VESSEL_COLLISION")]
    VesselCollision,
    #[sea_orm(string_value = "CATCH_AND_GEAR")]
    CatchAndGear,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// How likely a dispute is to escalate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum EscalationRisk {
    #[sea_orm(string_value = "LOW")]
    Low,
    #[sea_orm(string_value = "MEDIUM")]
    Medium,
    #[sea_orm(string_value = "HIGH")]
    High,
    #[sea_orm(string_value = "CRITICAL")]
    Critical,
}

/// Where a dispute stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum DisputeState {
    #[sea_orm(string_value = "REPORTED")]
    Reported,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "ASSIGNED")]
    Assigned,
    #[sea_orm(string_value = "MEDIATING")]
    Mediating,
    #[sea_orm(string_value = "RESOLVED")]
    Resolved,
    #[sea_orm(string_value = "UNRESOLVED")]
    Unresolved,
    #[sea_orm(string_value = "ESCALATED")]
    Escalated,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// Where a dispute that mediation could not settle went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EscalationTarget {
    /// Labour or other arbitration (仲裁).
    #[sea_orm(string_value = "ARBITRATION")]
    Arbitration,
    /// The courts (司法).
    #[sea_orm(string_value = "COURT")]
    Court,
    /// The petition office (信访).
    #[sea_orm(string_value = "PETITION_OFFICE")]
    PetitionOffice,
    /// Mediation at the next level up: community → township → district → city.
    #[sea_orm(string_value = "NEXT_LEVEL")]
    NextLevel,
}

/// How mediation ended, for the success rate: resolved (at any level), unresolved, or escalated out of mediation
/// (to arbitration, a court or the petition office).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MediationOutcome {
    #[sea_orm(string_value = "RESOLVED")]
    Resolved,
    #[sea_orm(string_value = "UNRESOLVED")]
    Unresolved,
    #[sea_orm(string_value = "ESCALATED_OUT")]
    EscalatedOut,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispute")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub grid_id: i64,
    pub region_id: i64,
    pub sea_area: Option<String>,
    pub reported_at: DateTimeUtc,
    pub channel: DisputeChannel,
    pub category: DisputeCategory,
    pub summary: String,
    pub escalation_risk: EscalationRisk,
    pub state: DisputeState,
    pub stage_started_at: DateTimeUtc,
    pub due_at: Option<DateTimeUtc>,
    pub first_mediated_at: Option<DateTimeUtc>,
    pub assignee_mediator_id: Option<i64>,
    pub assignee_boat_id: Option<i64>,
    pub escalated_to: Option<EscalationTarget>,
    pub agreement: Option<String>,
    pub outcome: Option<MediationOutcome>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub major_project_id: Option<i64>,
    pub instability_incident: bool,
    #[sea_orm(unique)]
    pub idempotency_key: String,
    pub reported_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::GridId",
        to = "super::region::Column::Id"
    )]
    Grid,
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::RegionId",
        to = "super::region::Column::Id"
    )]
    Region,
    #[sea_orm(
        belongs_to = "super::mediator::Entity",
        from = "Column::AssigneeMediatorId",
        to = "super::mediator::Column::Id"
    )]
    Mediator,
    #[sea_orm(
        belongs_to = "super::mediation_boat::Entity",
        from = "Column::AssigneeBoatId",
        to = "super::mediation_boat::Column::Id"
    )]
    Boat,
}

impl ActiveModelBehavior for ActiveModel {}
