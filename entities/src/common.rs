//! Enumerations shared by several tables.

use sea_orm::entity::prelude::*;

/// A person's sex as recorded on their identity card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(1))")]
pub enum Gender {
    #[sea_orm(string_value = "M")]
    Male,
    #[sea_orm(string_value = "F")]
    Female,
}
