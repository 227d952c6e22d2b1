//! One step taken in a stability assessment: who took it, when, what they found, and references to the documents
//! attached (file numbers or archive addresses, stored as a JSON array of strings). Append-only.

use sea_orm::entity::prelude::*;

use crate::stability_assessment::AssessmentStep;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_step")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub assessment_id: i64,
    pub step: AssessmentStep,
    pub actor: String,
    pub occurred_at: DateTimeUtc,
    pub findings: String,
    pub attachments: String,
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
