//! Additions to the service rollup not yet folded into it: one row per region a freshly written batch of service
//! records counts for (its grid and every ancestor), local day and activity. Writers only append here, so that no
//! two of them wait on the same rollup row; the server folds these rows into `service_rollup` shortly after, and
//! the statistics read the two together.

use sea_orm::entity::prelude::*;

pub use super::service_record::ActivityType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_rollup_pending")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_id: i64,
    pub day: Date,
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
