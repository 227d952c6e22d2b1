//! Badges a volunteer carries: peace envoy, care envoy, anti-drug envoy.

use sea_orm::entity::prelude::*;

/// The envoy roles of the report (平安使者, 爱心使者, 禁毒使者).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum BadgeKind {
    #[sea_orm(string_value = "PEACE_ENVOY")]
    PeaceEnvoy,
    #[sea_orm(string_value = "CARE_ENVOY")]
    CareEnvoy,
    #[sea_orm(string_value = "ANTI_DRUG_ENVOY")]
    AntiDrugEnvoy,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_badge")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub volunteer_id: i64,
    pub badge: BadgeKind,
    pub granted_on: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::volunteer::Entity",
        from = "Column::VolunteerId",
        to = "super::volunteer::Column::Id"
    )]
    Volunteer,
}

impl Related<super::volunteer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Volunteer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
