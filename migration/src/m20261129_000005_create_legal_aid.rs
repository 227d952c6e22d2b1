//! The legal-aid funds (`legal_aid_fund`), applications to them (`legal_aid_application`) and the money ledger
//! (`ledger_entry`).
//!
//! The ledger is append-only at the database level (UPDATE and DELETE are rejected by triggers; a mistake is
//! corrected by a REVERSAL entry, and an entry can be reversed only once), each entry's `direction` must agree with
//! its `kind`, and a fund's cached balance can never go negative. This migration also creates the PostgreSQL
//! trigger function `govgraph_reject_change()` that every append-only table uses.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{
    check, check_in, create_reject_change_function, drop_append_only, drop_reject_change_function,
    empty_self_referencing_table, foreign_key, index, make_append_only,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const FUND_KINDS: &[&str] = &["REVOLVING", "RELIEF", "CHARITY"];
const APPLICATION_STATES: &[&str] =
    &["SUBMITTED", "APPROVED", "REJECTED", "DISBURSED", "REPAYING", "REPAID", "WRITTEN_OFF"];
const ENTRY_KINDS: &[&str] =
    &["DONATION", "ALLOCATION", "DISBURSEMENT", "REPAYMENT", "WRITE_OFF", "REVERSAL"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LegalAidFund::Table)
                    .col(big_pk_auto(LegalAidFund::Id))
                    .col(string_len_uniq(LegalAidFund::Code, 32))
                    .col(string_len(LegalAidFund::Kind, 10))
                    .col(string_len(LegalAidFund::Name, 64))
                    .col(big_integer(LegalAidFund::RegionId))
                    .col(big_integer(LegalAidFund::BalanceFen))
                    .col(date(LegalAidFund::EstablishedOn))
                    .col(timestamp_with_time_zone(LegalAidFund::CreatedAt))
                    .foreign_key(&mut foreign_key(LegalAidFund::Table, LegalAidFund::RegionId, Region::Table))
                    .check(check_in(LegalAidFund::Table, LegalAidFund::Kind, FUND_KINDS))
                    .check(check(
                        LegalAidFund::Table,
                        "balance_fen",
                        Expr::col(LegalAidFund::BalanceFen).gte(0),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LegalAidApplication::Table)
                    .col(big_pk_auto(LegalAidApplication::Id))
                    .col(string_len_uniq(LegalAidApplication::Code, 32))
                    .col(big_integer(LegalAidApplication::FundId))
                    .col(big_integer(LegalAidApplication::RegionId))
                    .col(string_len(LegalAidApplication::ApplicantName, 64))
                    .col(string_len(LegalAidApplication::ApplicantIdNumber, 32))
                    .col(string_len(LegalAidApplication::ApplicantPhone, 32))
                    .col(text(LegalAidApplication::CaseSummary))
                    .col(big_integer(LegalAidApplication::AmountFen))
                    .col(string_len(LegalAidApplication::State, 12))
                    .col(timestamp_with_time_zone(LegalAidApplication::SubmittedAt))
                    .col(string_len(LegalAidApplication::SubmittedBy, 64))
                    .col(timestamp_with_time_zone_null(LegalAidApplication::DecidedAt))
                    .col(string_len_null(LegalAidApplication::DecidedBy, 64))
                    .col(text_null(LegalAidApplication::DecisionReason))
                    .col(timestamp_with_time_zone_null(LegalAidApplication::DisbursedAt))
                    .col(string_len_null(LegalAidApplication::DisbursedBy, 64))
                    .col(date_null(LegalAidApplication::DueOn))
                    .col(big_integer(LegalAidApplication::RepaidFen))
                    .col(timestamp_with_time_zone_null(LegalAidApplication::ClosedAt))
                    .col(timestamp_with_time_zone(LegalAidApplication::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        LegalAidApplication::Table,
                        LegalAidApplication::FundId,
                        LegalAidFund::Table,
                    ))
                    .foreign_key(&mut foreign_key(
                        LegalAidApplication::Table,
                        LegalAidApplication::RegionId,
                        Region::Table,
                    ))
                    .check(check_in(
                        LegalAidApplication::Table,
                        LegalAidApplication::State,
                        APPLICATION_STATES,
                    ))
                    .check(check(
                        LegalAidApplication::Table,
                        "amount_fen",
                        Expr::col(LegalAidApplication::AmountFen).gt(0),
                    ))
                    .check(check(
                        LegalAidApplication::Table,
                        "repaid_fen",
                        Expr::col(LegalAidApplication::RepaidFen).gte(0),
                    ))
                    .to_owned(),
            )
            .await?;
        for columns in [
            vec![LegalAidApplication::FundId, LegalAidApplication::State],
            vec![LegalAidApplication::RegionId],
            vec![LegalAidApplication::SubmittedAt],
        ] {
            manager.create_index(index(LegalAidApplication::Table, columns)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(LedgerEntry::Table)
                    .col(big_pk_auto(LedgerEntry::Id))
                    .col(big_integer(LedgerEntry::FundId))
                    .col(big_integer_null(LedgerEntry::ApplicationId))
                    .col(string_len(LedgerEntry::Kind, 12))
                    .col(small_integer(LedgerEntry::Direction))
                    .col(big_integer(LedgerEntry::AmountFen))
                    // An entry is reversed at most once.
                    .col(big_integer_null(LedgerEntry::ReversesEntryId).unique_key().take())
                    .col(string_len_uniq(LedgerEntry::IdempotencyKey, 128))
                    // Hex SHA-256.
                    .col(string_len(LedgerEntry::RequestHash, 64))
                    .col(string_len(LedgerEntry::Actor, 64))
                    .col(text_null(LedgerEntry::Memo))
                    .col(timestamp_with_time_zone(LedgerEntry::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        LedgerEntry::Table,
                        LedgerEntry::FundId,
                        LegalAidFund::Table,
                    ))
                    .foreign_key(&mut foreign_key(
                        LedgerEntry::Table,
                        LedgerEntry::ApplicationId,
                        LegalAidApplication::Table,
                    ))
                    .foreign_key(&mut foreign_key(
                        LedgerEntry::Table,
                        LedgerEntry::ReversesEntryId,
                        LedgerEntry::Table,
                    ))
                    .check(check_in(LedgerEntry::Table, LedgerEntry::Kind, ENTRY_KINDS))
                    .check(check(
                        LedgerEntry::Table,
                        "direction",
                        Expr::col(LedgerEntry::Direction).is_in([-1, 0, 1]),
                    ))
                    .check(check(LedgerEntry::Table, "amount_fen", Expr::col(LedgerEntry::AmountFen).gt(0)))
                    .check(check(LedgerEntry::Table, "kind-direction", kind_agrees_with_direction()))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(LedgerEntry::Table, [LedgerEntry::FundId, LedgerEntry::CreatedAt]))
            .await?;
        manager.create_index(index(LedgerEntry::Table, [LedgerEntry::ApplicationId])).await?;

        create_reject_change_function(manager).await?;
        make_append_only(manager, "ledger_entry").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_append_only(manager, "ledger_entry").await?;
        empty_self_referencing_table(manager, "ledger_entry", "reverses_entry_id").await?;
        for table in [
            LedgerEntry::Table.into_iden(),
            LegalAidApplication::Table.into_iden(),
            LegalAidFund::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        drop_reject_change_function(manager).await
    }

    fn use_transaction(&self) -> Option<bool> {
        // SQLite has transactional DDL too: a failed migration leaves nothing half-made on either backend.
        Some(true)
    }
}

/// Money comes in (+1) as a donation, an allocation or a repayment, goes out (-1) as a disbursement; a write-off
/// (0) records that lent money will not come back without touching the balance; a reversal undoes one earlier
/// entry, so it moves money and says which entry it undoes.
fn kind_agrees_with_direction() -> Expr {
    let kind = || Expr::col(LedgerEntry::Kind);
    let direction = || Expr::col(LedgerEntry::Direction);
    kind()
        .is_in(["DONATION", "ALLOCATION", "REPAYMENT"])
        .and(direction().eq(1))
        .or(kind().eq("DISBURSEMENT").and(direction().eq(-1)))
        .or(kind().eq("WRITE_OFF").and(direction().eq(0)))
        .or(kind()
            .eq("REVERSAL")
            .and(direction().is_in([-1, 1]))
            .and(Expr::col(LedgerEntry::ReversesEntryId).is_not_null()))
}

#[derive(DeriveIden)]
enum Region {
    Table,
}

#[derive(DeriveIden)]
enum LegalAidFund {
    Table,
    Id,
    Code,
    Kind,
    Name,
    RegionId,
    BalanceFen,
    EstablishedOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LegalAidApplication {
    Table,
    Id,
    Code,
    FundId,
    RegionId,
    ApplicantName,
    ApplicantIdNumber,
    ApplicantPhone,
    CaseSummary,
    AmountFen,
    State,
    SubmittedAt,
    SubmittedBy,
    DecidedAt,
    DecidedBy,
    DecisionReason,
    DisbursedAt,
    DisbursedBy,
    DueOn,
    RepaidFen,
    ClosedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LedgerEntry {
    Table,
    Id,
    FundId,
    ApplicationId,
    Kind,
    Direction,
    AmountFen,
    ReversesEntryId,
    IdempotencyKey,
    RequestHash,
    Actor,
    Memo,
    CreatedAt,
}
