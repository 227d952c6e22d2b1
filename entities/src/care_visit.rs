//! Follow-up visits, medication supervision, health education and check-ins.

use sea_orm::entity::prelude::*;

/// What kind of contact a visit was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum VisitKind {
    #[sea_orm(string_value = "FOLLOW_UP")]
    FollowUp,
    #[sea_orm(string_value = "MEDICATION_SUPERVISION")]
    MedicationSupervision,
    #[sea_orm(string_value = "HEALTH_EDUCATION")]
    HealthEducation,
    #[sea_orm(string_value = "CHECK_IN")]
    CheckIn,
    #[sea_orm(string_value = "HOME_VISIT")]
    HomeVisit,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_visit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject_id: i64,
    pub kind: VisitKind,
    pub visited_at: DateTimeUtc,
    pub visitor: String,
    pub medication_taken: Option<bool>,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::care_subject::Entity",
        from = "Column::SubjectId",
        to = "super::care_subject::Column::Id"
    )]
    Subject,
}

impl Related<super::care_subject::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Subject.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
