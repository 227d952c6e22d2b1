//! People under special-population care (特殊人群): one row per person, the category-specific details in the
//! profile tables. The most sensitive data in the system.

use sea_orm::entity::prelude::*;

use crate::common::Gender;

/// Which care programme a person is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum CareCategory {
    /// 严重精神障碍患者
    #[sea_orm(string_value = "SEVERE_MENTAL_DISORDER")]
    SevereMentalDisorder,
    /// 社区矫正对象
    #[sea_orm(string_value = "COMMUNITY_CORRECTION")]
    CommunityCorrection,
    /// 闲散青少年 and intellectually disabled youth served by the youth programme
    #[sea_orm(string_value = "AT_RISK_YOUTH")]
    AtRiskYouth,
}

/// Whether the person is currently under management.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum SubjectStatus {
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_subject")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub category: CareCategory,
    pub name: String,
    pub gender: Gender,
    pub id_number: String,
    pub birth_date: Date,
    pub phone: Option<String>,
    pub address: String,
    pub region_id: i64,
    pub status: SubjectStatus,
    pub current_risk_level: Option<i16>,
    pub registered_on: Date,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::RegionId",
        to = "super::region::Column::Id"
    )]
    Region,
    #[sea_orm(has_one = "super::mental_health_profile::Entity")]
    MentalHealthProfile,
    #[sea_orm(has_one = "super::correction_profile::Entity")]
    CorrectionProfile,
    #[sea_orm(has_one = "super::youth_profile::Entity")]
    YouthProfile,
    #[sea_orm(has_many = "super::risk_assessment::Entity")]
    RiskAssessment,
    #[sea_orm(has_many = "super::care_visit::Entity")]
    CareVisit,
    #[sea_orm(has_many = "super::care_group_member::Entity")]
    CareGroupMember,
    #[sea_orm(has_many = "super::mentorship::Entity")]
    Mentorship,
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Region.def()
    }
}

impl Related<super::mental_health_profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MentalHealthProfile.def()
    }
}

impl Related<super::correction_profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CorrectionProfile.def()
    }
}

impl Related<super::youth_profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::YouthProfile.def()
    }
}

impl Related<super::risk_assessment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RiskAssessment.def()
    }
}

impl Related<super::care_visit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CareVisit.def()
    }
}

impl Related<super::care_group_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CareGroupMember.def()
    }
}

impl Related<super::mentorship::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Mentorship.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
