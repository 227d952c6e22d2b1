//! One meeting between a mentor and their mentee.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mentoring_session")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub mentorship_id: i64,
    pub held_on: Date,
    pub minutes: i32,
    pub topic: String,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::mentorship::Entity",
        from = "Column::MentorshipId",
        to = "super::mentorship::Column::Id"
    )]
    Mentorship,
}

impl Related<super::mentorship::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Mentorship.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
