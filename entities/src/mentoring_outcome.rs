//! What a mentorship achieved: the report counts employment, return to school, behavioural interventions,
//! skills trainings and long-term family assistance.

use sea_orm::entity::prelude::*;

/// The outcome kinds the programme reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum OutcomeKind {
    #[sea_orm(string_value = "EMPLOYMENT")]
    Employment,
    #[sea_orm(string_value = "BACK_TO_SCHOOL")]
    BackToSchool,
    #[sea_orm(string_value = "BEHAVIOURAL_INTERVENTION")]
    BehaviouralIntervention,
    #[sea_orm(string_value = "SKILLS_TRAINING")]
    SkillsTraining,
    #[sea_orm(string_value = "FAMILY_ASSISTANCE")]
    FamilyAssistance,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mentoring_outcome")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub mentorship_id: i64,
    pub kind: OutcomeKind,
    pub achieved_on: Date,
    pub description: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::mentorship::Entity",
        from = "Column::MentorshipId",
        to = "super::mentorship::Column::Id"
    )]
    Mentorship,
}

impl Related<super::mentorship::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Mentorship.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
