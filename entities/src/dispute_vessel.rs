//! A fishing vessel involved in a dispute (at sea: collisions, fishing grounds, catch and gear).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispute_vessel")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dispute_id: i64,
    pub vessel_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::dispute::Entity",
        from = "Column::DisputeId",
        to = "super::dispute::Column::Id"
    )]
    Dispute,
    #[sea_orm(
        belongs_to = "super::fishing_vessel::Entity",
        from = "Column::VesselId",
        to = "super::fishing_vessel::Column::Id"
    )]
    Vessel,
}

impl Related<super::fishing_vessel::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Vessel.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
