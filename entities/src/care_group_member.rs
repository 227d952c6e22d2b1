//! The care/help group (关爱帮扶小组) around one person: who supervises medication, who visits.

use sea_orm::entity::prelude::*;

/// A care-group member's part in the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CareGroupRole {
    #[sea_orm(string_value = "GRID_WORKER")]
    GridWorker,
    #[sea_orm(string_value = "DOCTOR")]
    Doctor,
    #[sea_orm(string_value = "POLICE_OFFICER")]
    PoliceOfficer,
    #[sea_orm(string_value = "FAMILY")]
    Family,
    #[sea_orm(string_value = "VOLUNTEER")]
    Volunteer,
    #[sea_orm(string_value = "CADRE")]
    Cadre,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_group_member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject_id: i64,
    pub role: CareGroupRole,
    pub name: String,
    pub phone: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::care_subject::Entity",
        from = "Column::SubjectId",
        to = "super::care_subject::Column::Id"
    )]
    Subject,
}

impl Related<super::care_subject::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Subject.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
