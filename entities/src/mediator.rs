//! A mediator who can be assigned disputes: a people's mediator, a grid worker, a lawyer or police officer, or a
//! member of a mediation boat's crew. `subject` links the mediator to the `sub` of their token, which is how the
//! API knows which disputes are assigned to the caller.

use sea_orm::entity::prelude::*;

/// What kind of mediator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum MediatorKind {
    #[sea_orm(string_value = "PEOPLES_MEDIATOR")]
    PeoplesMediator,
    #[sea_orm(string_value = "GRID_WORKER")]
    GridWorker,
    #[sea_orm(string_value = "LAWYER")]
    Lawyer,
    #[sea_orm(string_value = "POLICE")]
    Police,
    #[sea_orm(string_value = "BOAT_CREW")]
    BoatCrew,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mediator")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub phone: String,
    pub kind: MediatorKind,
    pub region_id: i64,
    #[sea_orm(unique)]
    pub subject: Option<String>,
    pub mediation_boat_id: Option<i64>,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::RegionId",
        to = "super::region::Column::Id"
    )]
    Region,
    #[sea_orm(
        belongs_to = "super::mediation_boat::Entity",
        from = "Column::MediationBoatId",
        to = "super::mediation_boat::Column::Id"
    )]
    Boat,
}

impl ActiveModelBehavior for ActiveModel {}
