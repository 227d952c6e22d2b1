//! The severe-mental-disorder profile: electronic health record, diagnosis, guardian and the guardian liability
//! insurance (监护人责任险) the city buys.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mental_health_profile")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject_id: i64,
    #[sea_orm(unique)]
    pub health_record_no: String,
    pub diagnosis: String,
    pub found_by: String,
    pub guardian_name: String,
    pub guardian_phone: String,
    pub guardian_relation: String,
    pub guardian_insured: bool,
    pub insurance_policy_no: Option<String>,
    pub insurance_expires_on: Option<Date>,
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
