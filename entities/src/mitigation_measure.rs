//! A mitigation measure set at the last step of a stability assessment: what is to be done, who answers for it,
//! by when (a local day), and when it was done.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mitigation_measure")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub assessment_id: i64,
    pub description: String,
    pub owner: String,
    pub due_on: Date,
    pub completed_on: Option<Date>,
    pub completed_by: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::stability_assessment::Entity",
        from = "Column::AssessmentId",
        to = "super::stability_assessment::Column::Id"
    )]
    Assessment,
}

impl ActiveModelBehavior for ActiveModel {}
