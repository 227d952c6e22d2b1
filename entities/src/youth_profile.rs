//! The at-risk youth profile: why the young person is in the programme, schooling, guardian.

use sea_orm::entity::prelude::*;

/// Why a young person is served by the youth programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum YouthKind {
    /// 闲散青少年: out of school and out of work
    #[sea_orm(string_value = "IDLE")]
    Idle,
    /// 智障青少年
    #[sea_orm(string_value = "INTELLECTUALLY_DISABLED")]
    IntellectuallyDisabled,
    /// Behaviour that has come to the attention of school or police
    #[sea_orm(string_value = "BEHAVIOURAL_RISK")]
    BehaviouralRisk,
}

/// What the young person does during the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum SchoolStatus {
    #[sea_orm(string_value = "IN_SCHOOL")]
    InSchool,
    #[sea_orm(string_value = "DROPPED_OUT")]
    DroppedOut,
    #[sea_orm(string_value = "EMPLOYED")]
    Employed,
    #[sea_orm(string_value = "UNEMPLOYED")]
    Unemployed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "youth_profile")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject_id: i64,
    pub youth_kind: YouthKind,
    pub school_status: SchoolStatus,
    pub guardian_name: String,
    pub guardian_phone: String,
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
