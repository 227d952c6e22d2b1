//! The three legal-aid funds (三金). `balance_fen` caches the sum of the fund's ledger entries; it is only ever
//! changed in the transaction that appends the entry, and `govgraph ledger verify` recomputes it.

use sea_orm::entity::prelude::*;

/// How a fund pays out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
pub enum FundKind {
    /// 法律援助周转救助金: lends, expects repayment
    #[sea_orm(string_value = "REVOLVING")]
    Revolving,
    /// 法律援助救助金: grants
    #[sea_orm(string_value = "RELIEF")]
    Relief,
    /// 法律援助慈善金: donations in, grants out
    #[sea_orm(string_value = "CHARITY")]
    Charity,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legal_aid_fund")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub kind: FundKind,
    pub name: String,
    pub region_id: i64,
    pub balance_fen: i64,
    pub established_on: Date,
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
    #[sea_orm(has_many = "super::legal_aid_application::Entity")]
    Application,
    #[sea_orm(has_many = "super::ledger_entry::Entity")]
    LedgerEntry,
}

impl Related<super::legal_aid_application::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Application.def()
    }
}

impl Related<super::ledger_entry::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LedgerEntry.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
