//! GraphQL types of the legal-aid domain: applications, ledger entries and the result of a money movement.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{NaiveDate, Utc};
use entities::{ledger_entry, legal_aid_application};

use super::funds::Fund;
use crate::auth::mask;
use crate::auth::viewer::Access;
use crate::error::ApiResult;
use crate::money::Money;
use crate::node::{NodeType, global_id};
use crate::pagination::PageRequest;
use crate::regions::types::Region;
use crate::request::RequestData;

/// How a fund pays out.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::legal_aid_fund::FundKind")]
pub enum FundKind {
    /// 法律援助周转救助金: lends to people waiting for a court award and is repaid.
    Revolving,
    /// 法律援助救助金: grants from the public budget.
    Relief,
    /// 法律援助慈善金: grants from donations.
    Charity,
}

/// Where an application stands in its workflow.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::legal_aid_application::ApplicationState", name = "LegalAidApplicationState")]
pub enum ApplicationState {
    /// Waiting for a fund officer's decision.
    Submitted,
    /// Approved, not yet paid.
    Approved,
    /// Turned down (final).
    Rejected,
    /// Paid: a grant is complete, a loan waits for repayment.
    Disbursed,
    /// A loan partly repaid.
    Repaying,
    /// A loan fully repaid (final).
    Repaid,
    /// A loan given up on after its due date (final).
    WrittenOff,
}

/// Why money moved.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::ledger_entry::EntryKind", name = "LedgerEntryKind")]
pub enum EntryKind {
    /// A donation into the fund (+).
    Donation,
    /// Public money allocated to the fund (+).
    Allocation,
    /// Money paid out to an applicant (−).
    Disbursement,
    /// A loan repaid, in part or in full (+).
    Repayment,
    /// The rest of an overdue loan given up on; moves no money (0).
    WriteOff,
    /// Undoes one earlier entry, in the opposite direction.
    Reversal,
}

/// What a fund takes in: a donation or a public allocation.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum IncomeKind {
    /// A donation (捐赠).
    Donation,
    /// Public money (财政拨款).
    Allocation,
}

impl From<IncomeKind> for entities::ledger_entry::EntryKind {
    fn from(kind: IncomeKind) -> Self {
        match kind {
            IncomeKind::Donation => Self::Donation,
            IncomeKind::Allocation => Self::Allocation,
        }
    }
}

/// An application to a legal-aid fund. Applicant fields are personal (masked for roles without personal
/// access), the case summary is sensitive.
pub struct LegalAidApplication {
    pub row: legal_aid_application::Model,
    pub access: Access,
}

impl LegalAidApplication {
    /// Whether the application is a loan that is still owed: disbursed or partly repaid, with a due date.
    fn owed(&self) -> bool {
        use legal_aid_application::ApplicationState as S;
        self.row.due_on.is_some() && matches!(self.row.state, S::Disbursed | S::Repaying)
    }
}

/// Days a loan is past its due date on `today`; 0 when it is not owed or not yet due.
pub fn overdue_days(row: &legal_aid_application::Model, today: NaiveDate) -> i64 {
    use legal_aid_application::ApplicationState as S;
    match row.due_on {
        Some(due) if matches!(row.state, S::Disbursed | S::Repaying) && due < today => {
            (today - due).num_days()
        }
        _ => 0,
    }
}

/// An application to a legal-aid fund, where it stands, and the money that moved for it.
#[Object]
impl LegalAidApplication {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::LegalAidApplication, self.row.id)
    }

    /// Application code, e.g. LA20100001.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// The fund applied to; null if you may not see funds.
    async fn fund(&self, ctx: &Context<'_>) -> ApiResult<Option<Fund>> {
        RequestData::of(ctx)?.legal_aid().fund_by_id(self.row.fund_id).await
    }

    /// The applicant's region (a grid or township); null if outside your scope.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        RequestData::of(ctx)?.regions().region_by_id(self.row.region_id).await
    }

    /// The applicant's full name (personal: masked as 张* for roles without personal access).
    async fn applicant_name(&self) -> String {
        self.access.personal(self.row.id, &self.row.applicant_name, mask::name)
    }

    /// The applicant's identity-card number (personal: masked as 330902********1234).
    async fn applicant_id_number(&self) -> String {
        self.access.personal(self.row.id, &self.row.applicant_id_number, mask::id_number)
    }

    /// The applicant's mobile phone (personal: masked as 138****5678).
    async fn applicant_phone(&self) -> String {
        self.access.personal(self.row.id, &self.row.applicant_phone, mask::phone)
    }

    /// The case and why help is needed (sensitive: null with `FORBIDDEN` unless your role may read it and you
    /// stated a purpose).
    async fn case_summary(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.id, self.row.case_summary.clone())?))
    }

    /// The amount applied for (and, once approved, to be paid).
    async fn amount(&self) -> Money {
        Money::from_fen(self.row.amount_fen)
    }

    /// Repaid so far (loans of the revolving fund only).
    async fn repaid(&self) -> Money {
        Money::from_fen(self.row.repaid_fen)
    }

    /// Still owed on a loan that is disbursed or being repaid; 0.00 otherwise.
    async fn outstanding(&self) -> Money {
        Money::from_fen(if self.owed() { self.row.amount_fen - self.row.repaid_fen } else { 0 })
    }

    /// The part of a written-off loan that was given up on; 0.00 otherwise.
    async fn written_off(&self) -> Money {
        let written_off = self.row.state == legal_aid_application::ApplicationState::WrittenOff;
        Money::from_fen(if written_off { self.row.amount_fen - self.row.repaid_fen } else { 0 })
    }

    /// When a loan is due to be repaid; null for grants and before disbursement.
    async fn due_on(&self) -> Option<crate::scalars::Date> {
        self.row.due_on.map(crate::scalars::Date)
    }

    /// Whether a loan still owed is past its due date (today in UTC).
    async fn overdue(&self) -> bool {
        overdue_days(&self.row, Utc::now().date_naive()) > 0
    }

    /// Days a loan still owed is past its due date (today in UTC); 0 when not overdue.
    async fn overdue_days(&self) -> i64 {
        overdue_days(&self.row, Utc::now().date_naive())
    }

    /// Where the application stands.
    async fn state(&self) -> ApplicationState {
        self.row.state.into()
    }

    /// When it was submitted (UTC).
    async fn submitted_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.row.submitted_at)
    }

    /// Who submitted it (token subject).
    async fn submitted_by(&self) -> &str {
        &self.row.submitted_by
    }

    /// When it was approved or rejected (UTC).
    async fn decided_at(&self) -> Option<crate::scalars::Timestamp> {
        self.row.decided_at.map(crate::scalars::Timestamp)
    }

    /// Who approved or rejected it.
    async fn decided_by(&self) -> Option<&str> {
        self.row.decided_by.as_deref()
    }

    /// The reason given with the decision.
    async fn decision_reason(&self) -> Option<&str> {
        self.row.decision_reason.as_deref()
    }

    /// When the money was paid out (UTC).
    async fn disbursed_at(&self) -> Option<crate::scalars::Timestamp> {
        self.row.disbursed_at.map(crate::scalars::Timestamp)
    }

    /// Who paid the money out.
    async fn disbursed_by(&self) -> Option<&str> {
        self.row.disbursed_by.as_deref()
    }

    /// When the application reached a final state (UTC).
    async fn closed_at(&self) -> Option<crate::scalars::Timestamp> {
        self.row.closed_at.map(crate::scalars::Timestamp)
    }

    /// When the application last changed (UTC).
    async fn updated_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.row.updated_at)
    }

    /// The ledger entries of this application (its history of money), oldest first.
    async fn ledger_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<LedgerEntryConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        RequestData::of(ctx)?.legal_aid().entries_of(self.row.id, page).await
    }
}

crate::connection_type!(
    LegalAidApplicationConnection,
    LegalAidApplicationEdge,
    LegalAidApplication,
    "legal-aid applications"
);

/// Shown instead of a memo to roles without personal access to the ledger.
fn hidden_memo(_: &str) -> String {
    "****".to_owned()
}

/// One entry of the append-only ledger.
pub struct LedgerEntry {
    pub row: ledger_entry::Model,
    pub access: Access,
}

/// One entry of the append-only money ledger. Entries are never changed; a mistake is undone by a reversal.
#[Object]
impl LedgerEntry {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::LedgerEntry, self.row.id)
    }

    /// Why the money moved.
    async fn kind(&self) -> EntryKind {
        self.row.kind.into()
    }

    /// +1 into the fund, -1 out of it, 0 for a write-off (which moves no money).
    async fn direction(&self) -> i32 {
        i32::from(self.row.direction)
    }

    /// The amount (always positive; see `direction`).
    async fn amount(&self) -> Money {
        Money::from_fen(self.row.amount_fen)
    }

    /// The entry's effect on the fund balance: the amount with its direction's sign.
    async fn signed_amount(&self) -> Money {
        Money::from_fen(self.row.signed_fen())
    }

    /// The fund whose ledger this is; null if you may not see funds.
    async fn fund(&self, ctx: &Context<'_>) -> ApiResult<Option<Fund>> {
        RequestData::of(ctx)?.legal_aid().fund_by_id(self.row.fund_id).await
    }

    /// The application the money moved for; null for income, or when outside your scope.
    async fn application(&self, ctx: &Context<'_>) -> ApiResult<Option<LegalAidApplication>> {
        match self.row.application_id {
            Some(id) => RequestData::of(ctx)?.legal_aid().application_by_id(id).await,
            None => Ok(None),
        }
    }

    /// For a reversal: the global ID of the entry it undoes.
    async fn reverses_entry_id(&self) -> Option<ID> {
        self.row.reverses_entry_id.map(|id| global_id(NodeType::LedgerEntry, id))
    }

    /// The idempotency key the entry was written under.
    async fn idempotency_key(&self) -> &str {
        &self.row.idempotency_key
    }

    /// Hex SHA-256 of the entry's canonical text; `govgraph ledger verify` recomputes it.
    async fn request_hash(&self) -> &str {
        &self.row.request_hash
    }

    /// Who booked the entry (token subject).
    async fn actor(&self) -> &str {
        &self.row.actor
    }

    /// Free-text note: donor, reason, instalment (personal: `****` for roles without personal ledger access).
    async fn memo(&self) -> Option<String> {
        self.row.memo.as_deref().map(|memo| self.access.personal(self.row.id, memo, hidden_memo))
    }

    /// When the money moved (UTC).
    async fn created_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.row.created_at)
    }
}

crate::connection_type!(LedgerEntryConnection, LedgerEntryEdge, LedgerEntry, "ledger entries");

/// The result of a money-moving mutation.
pub struct LedgerPosting {
    pub entry: LedgerEntry,
    pub application: Option<LegalAidApplication>,
    pub fund: Fund,
    pub replayed: bool,
}

/// The result of a money-moving mutation: the entry written (or, for a retry with the same idempotency key, the
/// one written the first time), the application and the fund as they stand now.
#[Object]
impl LedgerPosting {
    /// The ledger entry this request wrote, or wrote the first time it was sent.
    async fn entry(&self) -> &LedgerEntry {
        &self.entry
    }

    /// The application the money moved for, as it stands now; null for income.
    async fn application(&self) -> Option<&LegalAidApplication> {
        self.application.as_ref()
    }

    /// The fund with its balance now (after this posting).
    async fn fund(&self) -> &Fund {
        &self.fund
    }

    /// True when this was a retry with an idempotency key already used for the same request: nothing new was
    /// written and the original entry is returned.
    async fn replayed(&self) -> bool {
        self.replayed
    }
}
