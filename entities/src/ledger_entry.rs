//! The append-only money ledger of the legal-aid funds. Amounts are positive integer fen; `direction` says whether
//! the entry adds to (+1), takes from (-1) or leaves (0, a write-off of money already lent) the fund's balance.
//! Entries are never updated or deleted: a mistake is corrected by a REVERSAL entry pointing at it.

use sea_orm::entity::prelude::*;

/// Why money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum EntryKind {
    #[sea_orm(string_value = "DONATION")]
    Donation,
    #[sea_orm(string_value = "ALLOCATION")]
    Allocation,
    #[sea_orm(string_value = "DISBURSEMENT")]
    Disbursement,
    #[sea_orm(string_value = "REPAYMENT")]
    Repayment,
    #[sea_orm(string_value = "WRITE_OFF")]
    WriteOff,
    #[sea_orm(string_value = "REVERSAL")]
    Reversal,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub fund_id: i64,
    pub application_id: Option<i64>,
    pub kind: EntryKind,
    pub direction: i16,
    pub amount_fen: i64,
    pub reverses_entry_id: Option<i64>,
    #[sea_orm(unique)]
    pub idempotency_key: String,
    pub request_hash: String,
    pub actor: String,
    pub memo: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::legal_aid_fund::Entity",
        from = "Column::FundId",
        to = "super::legal_aid_fund::Column::Id"
    )]
    Fund,
    #[sea_orm(
        belongs_to = "super::legal_aid_application::Entity",
        from = "Column::ApplicationId",
        to = "super::legal_aid_application::Column::Id"
    )]
    Application,
}

impl Related<super::legal_aid_fund::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Fund.def()
    }
}

impl Related<super::legal_aid_application::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Application.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The entry's effect on the fund balance, in fen.
    pub fn signed_fen(&self) -> i64 {
        i64::from(self.direction) * self.amount_fen
    }
}
