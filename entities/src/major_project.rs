//! A major project (重大事项: a reservoir, a land acquisition, a plant) whose start needs a social stability risk
//! assessment. `started_on` is the recorded start (ground-breaking); `started_without_assessment` is set when the
//! start was recorded before the project's assessment was complete (historical data, or a unit that skipped it).

use sea_orm::entity::prelude::*;

/// What kind of project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum ProjectKind {
    #[sea_orm(string_value = "RESERVOIR")]
    Reservoir,
    #[sea_orm(string_value = "LAND_ACQUISITION")]
    LandAcquisition,
    #[sea_orm(string_value = "DEMOLITION")]
    Demolition,
    #[sea_orm(string_value = "PLANT")]
    Plant,
    #[sea_orm(string_value = "TRANSPORT")]
    Transport,
    #[sea_orm(string_value = "ENERGY")]
    Energy,
    #[sea_orm(string_value = "PUBLIC_POLICY")]
    PublicPolicy,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "major_project")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub kind: ProjectKind,
    pub region_id: i64,
    pub unit_id: i64,
    pub investment_fen: i64,
    pub planned_start: Date,
    pub affected_households: i32,
    pub started_on: Option<Date>,
    pub started_without_assessment: bool,
    pub created_by: String,
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
    #[sea_orm(
        belongs_to = "super::responsible_unit::Entity",
        from = "Column::UnitId",
        to = "super::responsible_unit::Column::Id"
    )]
    Unit,
}

impl ActiveModelBehavior for ActiveModel {}
