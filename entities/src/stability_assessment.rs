//! The social stability risk assessment of a major project (社会稳定风险评估), one per project: `step` is the
//! last of the six steps taken (提交申请, 调研审查, 初审会审, 作出评定, 反馈意见, 制定措施), `rating` the risk found at
//! the rating step, `completed_at` when the sixth step was taken.

use sea_orm::entity::prelude::*;

/// The six steps, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AssessmentStep {
    /// 提交申请: the responsible unit applies.
    #[sea_orm(string_value = "APPLICATION")]
    Application,
    /// 调研审查: the assessing office investigates.
    #[sea_orm(string_value = "INVESTIGATION")]
    Investigation,
    /// 初审会审: the joint review.
    #[sea_orm(string_value = "JOINT_REVIEW")]
    JointReview,
    /// 作出评定: the risk is rated.
    #[sea_orm(string_value = "RATING")]
    Rating,
    /// 反馈意见: the opinion goes back to the unit.
    #[sea_orm(string_value = "FEEDBACK")]
    Feedback,
    /// 制定措施: the unit sets the mitigation measures.
    #[sea_orm(string_value = "MEASURES")]
    Measures,
}

/// The risk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum RiskRating {
    #[sea_orm(string_value = "LOW")]
    Low,
    #[sea_orm(string_value = "MEDIUM")]
    Medium,
    #[sea_orm(string_value = "HIGH")]
    High,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stability_assessment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub project_id: i64,
    pub step: AssessmentStep,
    pub rating: Option<RiskRating>,
    pub completed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::major_project::Entity",
        from = "Column::ProjectId",
        to = "super::major_project::Column::Id"
    )]
    Project,
}

impl ActiveModelBehavior for ActiveModel {}
