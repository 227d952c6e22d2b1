//! A pairing of a mentor with a young person (an AT_RISK_YOUTH care subject). At most one open pairing per youth.

use sea_orm::entity::prelude::*;

/// Whether a pairing is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum MentorshipStatus {
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mentorship")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub mentor_id: i64,
    pub mentee_id: i64,
    pub status: MentorshipStatus,
    pub goal: Option<String>,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::mentor::Entity",
        from = "Column::MentorId",
        to = "super::mentor::Column::Id"
    )]
    Mentor,
    #[sea_orm(
        belongs_to = "super::care_subject::Entity",
        from = "Column::MenteeId",
        to = "super::care_subject::Column::Id"
    )]
    Mentee,
    #[sea_orm(has_many = "super::mentoring_session::Entity")]
    Session,
    #[sea_orm(has_many = "super::mentoring_outcome::Entity")]
    Outcome,
}

impl Related<super::mentor::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Mentor.def()
    }
}

impl Related<super::care_subject::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Mentee.def()
    }
}

impl Related<super::mentoring_session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl Related<super::mentoring_outcome::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Outcome.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
