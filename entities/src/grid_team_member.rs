//! The fixed management-service team of a grid (网格管理服务团队), whose contacts are public.

use sea_orm::entity::prelude::*;

/// What a member does in the grid's team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TeamRole {
    #[sea_orm(string_value = "GRID_LEADER")]
    GridLeader,
    #[sea_orm(string_value = "GRID_WORKER")]
    GridWorker,
    #[sea_orm(string_value = "POLICE_OFFICER")]
    PoliceOfficer,
    #[sea_orm(string_value = "DOCTOR")]
    Doctor,
    #[sea_orm(string_value = "LAWYER")]
    Lawyer,
    #[sea_orm(string_value = "MEDIATOR")]
    Mediator,
    #[sea_orm(string_value = "VOLUNTEER")]
    Volunteer,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grid_team_member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub grid_id: i64,
    pub role: TeamRole,
    pub name: String,
    pub phone: String,
    pub duty: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::GridId",
        to = "super::region::Column::Id"
    )]
    Grid,
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grid.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
