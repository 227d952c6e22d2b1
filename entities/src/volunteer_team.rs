//! Volunteer teams, such as the Daishan fishermen's wives (渔嫂) team.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_team")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub region_id: i64,
    pub description: Option<String>,
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
    #[sea_orm(has_many = "super::volunteer_team_membership::Entity")]
    Membership,
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Region.def()
    }
}

impl Related<super::volunteer::Entity> for Entity {
    fn to() -> RelationDef {
        super::volunteer_team_membership::Relation::Volunteer.def()
    }
    fn via() -> Option<RelationDef> {
        Some(super::volunteer_team_membership::Relation::Team.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
