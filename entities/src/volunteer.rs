//! Registered peace volunteers (平安志愿者), each attached to a home grid.

use sea_orm::entity::prelude::*;

use crate::common::Gender;

/// Whether a volunteer may currently be assigned to service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
pub enum VolunteerStatus {
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub gender: Gender,
    pub id_number: String,
    pub phone: String,
    pub region_id: i64,
    pub status: VolunteerStatus,
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
    #[sea_orm(has_many = "super::service_record::Entity")]
    ServiceRecord,
    #[sea_orm(has_many = "super::volunteer_badge::Entity")]
    VolunteerBadge,
    #[sea_orm(has_many = "super::volunteer_team_membership::Entity")]
    VolunteerTeamMembership,
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Region.def()
    }
}

impl Related<super::service_record::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ServiceRecord.def()
    }
}

impl Related<super::volunteer_badge::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::VolunteerBadge.def()
    }
}

impl Related<super::volunteer_team::Entity> for Entity {
    fn to() -> RelationDef {
        super::volunteer_team_membership::Relation::Team.def()
    }
    fn via() -> Option<RelationDef> {
        Some(super::volunteer_team_membership::Relation::Volunteer.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
