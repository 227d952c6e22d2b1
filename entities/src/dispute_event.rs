//! What happened to a dispute, in order: every transition (with who, when, the region handling it and a note),
//! every mediation session and every follow-up visit. Append-only.

use sea_orm::entity::prelude::*;

use super::dispute::DisputeState;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum DisputeEventKind {
    #[sea_orm(string_value = "REPORTED")]
    Reported,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "ASSIGNED")]
    Assigned,
    #[sea_orm(string_value = "MEDIATION_SESSION")]
    MediationSession,
    #[sea_orm(string_value = "RESOLVED")]
    Resolved,
    #[sea_orm(string_value = "UNRESOLVED")]
    Unresolved,
    #[sea_orm(string_value = "ESCALATED")]
    Escalated,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
    #[sea_orm(string_value = "FOLLOW_UP")]
    FollowUp,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispute_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dispute_id: i64,
    pub kind: DisputeEventKind,
    pub from_state: Option<DisputeState>,
    pub to_state: Option<DisputeState>,
    pub region_id: i64,
    pub actor: String,
    pub occurred_at: DateTimeUtc,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::dispute::Entity",
        from = "Column::DisputeId",
        to = "super::dispute::Column::Id"
    )]
    Dispute,
}

impl ActiveModelBehavior for ActiveModel {}
