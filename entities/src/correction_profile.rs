//! The community-corrections profile (社区矫正): type of correction, offence, supervision period and release.

use sea_orm::entity::prelude::*;

/// The four kinds of community correction in Chinese law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(28))")]
pub enum CorrectionType {
    /// 缓刑
    #[sea_orm(string_value = "PROBATION")]
    Probation,
    /// 假释
    #[sea_orm(string_value = "PAROLE")]
    Parole,
    /// 暂予监外执行
    #[sea_orm(string_value = "TEMPORARY_SERVICE_OUTSIDE")]
    TemporaryServiceOutside,
    /// 管制
    #[sea_orm(string_value = "PUBLIC_SURVEILLANCE")]
    PublicSurveillance,
}

/// Where a person is in their supervision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(18))")]
pub enum SupervisionStatus {
    #[sea_orm(string_value = "UNDER_SUPERVISION")]
    UnderSupervision,
    #[sea_orm(string_value = "RELEASED")]
    Released,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "correction_profile")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject_id: i64,
    pub correction_type: CorrectionType,
    pub offence: String,
    pub received_on: Date,
    pub supervision_start: Date,
    pub supervision_end: Date,
    pub released_on: Option<Date>,
    pub status: SupervisionStatus,
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
