//! A fishing vessel's record (一船一档): its registration, home port, owner (personal data), crew, safety star
//! rating (平安星级船) and the grid worker linked to it (定人联船).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fishing_vessel")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub registration_no: String,
    pub name: String,
    pub home_port_id: i64,
    pub owner_name: String,
    pub owner_id_number: String,
    pub owner_phone: String,
    pub crew_size: i16,
    pub safety_stars: i16,
    pub grid_worker_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::HomePortId",
        to = "super::region::Column::Id"
    )]
    HomePort,
    #[sea_orm(
        belongs_to = "super::grid_team_member::Entity",
        from = "Column::GridWorkerId",
        to = "super::grid_team_member::Column::Id"
    )]
    GridWorker,
}

impl ActiveModelBehavior for ActiveModel {}
