//! A veto in a responsible unit's annual evaluation (一票否决): the unit skipped a project's stability assessment or
//! failed to resolve the risks it found. At most one per unit and year; append-only, like the audit trail.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_veto")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    pub year: i32,
    pub reason: String,
    pub project_id: Option<i64>,
    pub recorded_by: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::responsible_unit::Entity",
        from = "Column::UnitId",
        to = "super::responsible_unit::Column::Id"
    )]
    Unit,
    #[sea_orm(
        belongs_to = "super::major_project::Entity",
        from = "Column::ProjectId",
        to = "super::major_project::Column::Id"
    )]
    Project,
}

impl ActiveModelBehavior for ActiveModel {}
