//! One stint of volunteer service: who, in which grid, when, doing what, for how long.
//! The largest table (millions of rows); duration is kept in whole minutes so sums stay exact.

use sea_orm::entity::prelude::*;

/// What the volunteer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ActivityType {
    #[sea_orm(string_value = "PATROL")]
    Patrol,
    #[sea_orm(string_value = "TRAFFIC")]
    Traffic,
    #[sea_orm(string_value = "SECURITY_CHECK")]
    SecurityCheck,
    #[sea_orm(string_value = "PUBLICITY")]
    Publicity,
    #[sea_orm(string_value = "EVENT_SECURITY")]
    EventSecurity,
    #[sea_orm(string_value = "CARE_VISIT")]
    CareVisit,
    #[sea_orm(string_value = "MEDIATION")]
    Mediation,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_record")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub volunteer_id: i64,
    pub grid_id: i64,
    pub activity: ActivityType,
    pub started_at: DateTimeUtc,
    pub minutes: i32,
    pub note: Option<String>,
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
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::GridId",
        to = "super::region::Column::Id"
    )]
    Grid,
}

impl Related<super::volunteer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Volunteer.def()
    }
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grid.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
