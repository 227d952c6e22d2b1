//! The funds: balances, totals per period and statements.

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use entities::{ledger_entry, legal_aid_fund};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, QueryFilter, QuerySelect};

use super::types::{FundKind, LedgerEntry, LedgerEntryConnection};
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::money::Money;
use crate::pagination::{CursorKey, PageRequest, SortKey, fetch_page};
use crate::regions::types::Region;
use crate::request::RequestData;

/// A legal-aid fund.
pub struct Fund {
    pub row: legal_aid_fund::Model,
}

/// Sums of a fund's entries over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Entries with direction +1.
    pub in_fen: i64,
    /// Entries with direction -1.
    pub out_fen: i64,
    /// Write-offs (direction 0).
    pub written_off_fen: i64,
    /// Number of entries.
    pub entries: i64,
}

impl Sums {
    /// The change of the balance over the period.
    pub fn net_fen(&self) -> i64 {
        self.in_fen - self.out_fen
    }
}

/// Sums of fund `fund_id`'s entries created in `[from, to)` (either end open when `None`).
pub async fn sums<C: ConnectionTrait>(
    db: &C,
    fund_id: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Sums, DbErr> {
    let mut select = crate::scope::unscoped::<ledger_entry::Entity>(crate::scope::Unscoped::FundTotals)
        .select_only()
        .column(ledger_entry::Column::Direction)
        .expr_as(Expr::cust("CAST(SUM(amount_fen) AS BIGINT)"), "total")
        .expr_as(Expr::cust("COUNT(*)"), "entries")
        .filter(ledger_entry::Column::FundId.eq(fund_id))
        .group_by(ledger_entry::Column::Direction);
    if let Some(from) = from {
        select = select.filter(ledger_entry::Column::CreatedAt.gte(from));
    }
    if let Some(to) = to {
        select = select.filter(ledger_entry::Column::CreatedAt.lt(to));
    }
    let mut sums = Sums::default();
    for (direction, total, entries) in select.into_tuple::<(i16, i64, i64)>().all(db).await? {
        match direction {
            1 => sums.in_fen += total,
            -1 => sums.out_fen += total,
            _ => sums.written_off_fen += total,
        }
        sums.entries += entries;
    }
    Ok(sums)
}

fn check_period(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<(), ApiError> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => Err(ApiError::bad_input("to", "must not be before `from`")),
        _ => Ok(()),
    }
}

/// One of the legal-aid funds (三金) and its balance.
#[Object]
impl Fund {
    /// Fund code: REVOLVING, RELIEF or CHARITY.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// How the fund pays out.
    async fn kind(&self) -> FundKind {
        self.row.kind.into()
    }

    /// Official name, e.g. 法律援助周转救助金.
    async fn name(&self) -> &str {
        &self.row.name
    }

    /// The region the fund serves; null if outside your scope.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// Money in the fund now: the sum of its ledger entries.
    async fn balance(&self) -> Money {
        Money::from_fen(self.row.balance_fen)
    }

    /// Day the fund was established.
    async fn established_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.established_on)
    }

    /// Money in and out over a period (entries created in `[from, to)`; open-ended when an end is omitted).
    async fn totals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the period (inclusive, UTC); the fund's beginning when omitted.")]
        from: Option<crate::scalars::Timestamp>,
        #[graphql(desc = "End of the period (exclusive, UTC); open-ended when omitted.")] to: Option<
            DateTime<Utc>,
        >,
    ) -> ApiResult<FundTotals> {
        check_period(from.map(Into::into), to)?;
        let request = RequestData::of(ctx)?;
        let sums = sums(&request.db, self.row.id, from.map(Into::into), to).await.map_err(ApiError::from)?;
        Ok(FundTotals { sums })
    }

    /// The fund's statement for a period: opening balance, the entries of the period and closing balance.
    async fn statement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the period (inclusive, UTC).")] from: crate::scalars::Timestamp,
        #[graphql(desc = "End of the period (exclusive, UTC).")] to: crate::scalars::Timestamp,
    ) -> ApiResult<FundStatement> {
        check_period(Some(from.0), Some(to.0))?;
        let request = RequestData::of(ctx)?;
        let before = sums(&request.db, self.row.id, None, Some(from.0)).await.map_err(ApiError::from)?;
        let during =
            sums(&request.db, self.row.id, Some(from.0), Some(to.0)).await.map_err(ApiError::from)?;
        Ok(FundStatement {
            fund_id: self.row.id,
            from: from.0,
            to: to.0,
            opening_fen: before.net_fen(),
            sums: during,
        })
    }
}

/// Money in and out of a fund over a period.
pub struct FundTotals {
    sums: Sums,
}

/// Money in and out of a fund over a period. Reversals count in the direction they move money.
#[Object]
impl FundTotals {
    /// Money in: donations, allocations, repayments and reversals of payments.
    #[graphql(name = "in")]
    async fn money_in(&self) -> Money {
        Money::from_fen(self.sums.in_fen)
    }

    /// Money out: disbursements and reversals of income.
    async fn out(&self) -> Money {
        Money::from_fen(self.sums.out_fen)
    }

    /// In minus out: the change of the balance (may be negative).
    async fn net(&self) -> Money {
        Money::from_fen(self.sums.net_fen())
    }

    /// Loans written off (moves no money: it left the fund when it was lent).
    async fn written_off(&self) -> Money {
        Money::from_fen(self.sums.written_off_fen)
    }

    /// Number of ledger entries in the period.
    async fn entry_count(&self) -> i64 {
        self.sums.entries
    }
}

/// A fund's statement for a period.
pub struct FundStatement {
    fund_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    opening_fen: i64,
    sums: Sums,
}

/// A fund's statement for a period: the opening balance, every entry of the period and the closing balance
/// (opening + in − out). Balances cover the whole fund; `entries` lists those in your scope.
#[Object]
impl FundStatement {
    /// Start of the period (inclusive, UTC).
    async fn from(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.from)
    }

    /// End of the period (exclusive, UTC).
    async fn to(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.to)
    }

    /// The balance at the start of the period.
    async fn opening(&self) -> Money {
        Money::from_fen(self.opening_fen)
    }

    /// The balance at the end of the period.
    async fn closing(&self) -> Money {
        Money::from_fen(self.opening_fen + self.sums.net_fen())
    }

    /// Money in during the period.
    #[graphql(name = "in")]
    async fn money_in(&self) -> Money {
        Money::from_fen(self.sums.in_fen)
    }

    /// Money out during the period.
    async fn out(&self) -> Money {
        Money::from_fen(self.sums.out_fen)
    }

    /// Number of entries in the period (all of them, including those outside your scope).
    async fn entry_count(&self) -> i64 {
        self.sums.entries
    }

    /// The entries of the period in your scope, in the order they were booked.
    async fn entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<LedgerEntryConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Ledger, Action::Read).await?;
        let select = crate::scope::read::<ledger_entry::Entity>(&access)
            .filter(ledger_entry::Column::FundId.eq(self.fund_id))
            .filter(ledger_entry::Column::CreatedAt.gte(self.from))
            .filter(ledger_entry::Column::CreatedAt.lt(self.to));
        let page = fetch_page(
            &request.db,
            select,
            SortKey::unique(ledger_entry::Column::Id, |row: &ledger_entry::Model| CursorKey::Int(row.id)),
            &page,
        )
        .await?;
        Ok(LedgerEntryConnection::from_page(page, |row| LedgerEntry { row, access: access.clone() }))
    }
}
crate::connection_type!(FundConnection, FundEdge, Fund, "legal-aid funds");
