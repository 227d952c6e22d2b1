//! The service rollup: per region (every grid and every ancestor of it), local day (Asia/Shanghai) and activity,
//! the number of service records and their minutes. Kept up to date in the transaction that writes the records;
//! `govgraph stats verify` proves it equals a recomputation.

use sea_orm::entity::prelude::*;

pub use super::service_record::ActivityType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_rollup")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub activity: ActivityType,
    pub records: i64,
    pub minutes: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::RegionId",
        to = "super::region::Column::Id"
    )]
    Region,
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Region.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
