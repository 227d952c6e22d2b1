//! An application to one of the legal-aid funds and where it stands in its workflow.

use sea_orm::entity::prelude::*;

/// submitted → approved/rejected → disbursed → (revolving) repaying → repaid or written off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum ApplicationState {
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    #[sea_orm(string_value = "DISBURSED")]
    Disbursed,
    #[sea_orm(string_value = "REPAYING")]
    Repaying,
    #[sea_orm(string_value = "REPAID")]
    Repaid,
    #[sea_orm(string_value = "WRITTEN_OFF")]
    WrittenOff,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legal_aid_application")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub fund_id: i64,
    pub region_id: i64,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub applicant_phone: String,
    pub case_summary: String,
    pub amount_fen: i64,
    pub state: ApplicationState,
    pub submitted_at: DateTimeUtc,
    pub submitted_by: String,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub disbursed_at: Option<DateTimeUtc>,
    pub disbursed_by: Option<String>,
    pub due_on: Option<Date>,
    pub repaid_fen: i64,
    pub closed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
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
        belongs_to = "super::region::Entity",
        from = "Column::RegionId",
        to = "super::region::Column::Id"
    )]
    Region,
    #[sea_orm(has_many = "super::ledger_entry::Entity")]
    LedgerEntry,
}

impl Related<super::legal_aid_fund::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Fund.def()
    }
}

impl Related<super::ledger_entry::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LedgerEntry.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
