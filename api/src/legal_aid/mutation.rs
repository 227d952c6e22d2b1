//! Changes to the legal-aid domain: the application workflow and every movement of money.
//!
//! Each mutation validates its arguments, checks the caller's right, and runs in one write transaction together
//! with its audit event. Transitions are allowed only from the right state (`CONFLICT` otherwise). Money moves
//! only through [`super::ledger`]: every money-moving mutation takes an idempotency key, locks the fund,
//! replays a retry instead of paying twice, and never takes a balance below zero (`INSUFFICIENT_FUNDS`).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use entities::ledger_entry::{self, EntryKind};
use entities::legal_aid_application::{self, ApplicationState as State};
use entities::legal_aid_fund::{self, FundKind};
use entities::region;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::LockType;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, QueryFilter, QuerySelect,
};

use super::LegalAidSettings;
use super::funds::Fund;
use super::ledger::{Posting, append, lock_fund, replay_of, retrying};
use super::types::{IncomeKind, LedgerEntry, LedgerPosting, LegalAidApplication};
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::frame::{Change, Outcome};
use crate::money::{Money, format_fen};
use crate::node::{NodeType, parse_typed_id};
use crate::request::RequestData;
use crate::validate;
use crate::validate::idempotency_key as valid_key;

/// A new application to a legal-aid fund.
#[derive(InputObject)]
pub struct SubmitLegalAidApplicationInput {
    /// Code of the fund applied to: REVOLVING (a loan), RELIEF or CHARITY (a grant).
    pub fund: String,
    /// Code of the applicant's region (a grid or township in your scope).
    pub region_code: String,
    /// The applicant's full name as on the identity card.
    pub applicant_name: String,
    /// The applicant's 18-character identity card number.
    pub applicant_id_number: String,
    /// The applicant's 11-digit mobile number.
    pub applicant_phone: String,
    /// The case and why help is needed (at most 2000 characters).
    pub case_summary: String,
    /// The amount applied for, more than 0.00.
    pub amount: Money,
}

/// Mutations of the legal-aid domain.
#[derive(Default)]
pub struct LegalAidMutation;

fn settings(ctx: &Context<'_>) -> LegalAidSettings {
    ctx.data_opt::<LegalAidSettings>().copied().unwrap_or_default()
}

fn state_name(state: State) -> String {
    state.to_value()
}

fn wrong_state(row: &legal_aid_application::Model, action: &str) -> ApiError {
    ApiError::Conflict(format!("cannot {action} application {}: it is {}", row.code, state_name(row.state)))
}

/// The application with id `id` if it lies in the caller's scope, else `NOT_FOUND`.
async fn application_in_scope<C: ConnectionTrait>(
    conn: &C,
    access: &Access,
    id: i64,
) -> Result<legal_aid_application::Model, ApiError> {
    crate::scope::read::<legal_aid_application::Entity>(access)
        .filter(legal_aid_application::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or(ApiError::NotFound("legal-aid application"))
}

/// Reads the application again, locked for the rest of the transaction (after its fund, when money moves).
async fn lock_application<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<legal_aid_application::Model, ApiError> {
    crate::scope::unscoped::<legal_aid_application::Entity>(crate::scope::Unscoped::SameTransaction)
        .filter(legal_aid_application::Column::Id.eq(id))
        .lock(LockType::NoKeyUpdate)
        .one(conn)
        .await?
        .ok_or(ApiError::NotFound("legal-aid application"))
}

/// What a money-moving transaction produced.
struct Moved {
    entry: ledger_entry::Model,
    application: Option<legal_aid_application::Model>,
    fund: legal_aid_fund::Model,
    replayed: bool,
}

/// Answers a retry: the entry written the first time, the application and fund as they are now. Writes nothing.
async fn replay(txn: &DatabaseTransaction, entry: ledger_entry::Model) -> Result<Outcome<Moved>, ApiError> {
    let application = match entry.application_id {
        Some(id) => {
            crate::scope::unscoped::<legal_aid_application::Entity>(crate::scope::Unscoped::Ledger)
                .filter(legal_aid_application::Column::Id.eq(id))
                .one(txn)
                .await?
        }
        None => None,
    };
    let fund = crate::scope::unscoped::<legal_aid_fund::Entity>(crate::scope::Unscoped::Ledger)
        .filter(legal_aid_fund::Column::Id.eq(entry.fund_id))
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("fund"))?;
    Ok(Outcome::Unchanged(Moved { entry, application, fund, replayed: true }))
}

/// The mutation's answer, with what the caller may see of it.
async fn posting_of(request: &RequestData, moved: Moved) -> ApiResult<LedgerPosting> {
    let ledger = request.authorize(Resource::Ledger, Action::Read).await?;
    let application = match moved.application {
        Some(row) => match request.authorize(Resource::Application, Action::Read).await {
            Ok(access) => Some(LegalAidApplication { row, access }),
            Err(ApiError::Forbidden(_)) => None,
            Err(err) => return Err(err.into()),
        },
        None => None,
    };
    Ok(LedgerPosting {
        entry: LedgerEntry { row: moved.entry, access: ledger },
        application,
        fund: Fund { row: moved.fund },
        replayed: moved.replayed,
    })
}

async fn application_answer(
    request: &RequestData,
    row: legal_aid_application::Model,
) -> ApiResult<LegalAidApplication> {
    let access = request.authorize(Resource::Application, Action::Read).await?;
    Ok(LegalAidApplication { row, access })
}

/// A one-line audit detail of a posting (amounts and codes only, never personal data).
fn posting_detail(entry: &ledger_entry::Model, fund: &legal_aid_fund::Model) -> String {
    format!(
        "{} {} {} fund {}, ledger entry {}",
        entry.kind.to_value(),
        format_fen(entry.amount_fen),
        if entry.direction < 0 { "from" } else { "to" },
        fund.code,
        entry.id
    )
}

#[Object]
impl LegalAidMutation {
    /// Files an application to a fund for an applicant of your scope. It starts SUBMITTED.
    async fn submit_legal_aid_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The application: fund, region, applicant, case and amount.")]
        input: SubmitLegalAidApplicationInput,
    ) -> ApiResult<LegalAidApplication> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Application, Action::Create).await?;
        let name = validate::text("input.applicantName", &input.applicant_name, 64)?;
        let id_number = validate::id_number("input.applicantIdNumber", &input.applicant_id_number)?;
        let phone = validate::mobile("input.applicantPhone", &input.applicant_phone)?;
        let summary = validate::text("input.caseSummary", &input.case_summary, 2000)?;
        let amount_fen = input.amount.positive_fen("input.amount")?;
        let fund = validate::code("input.fund", &input.fund)?;
        let region_code = validate::code("input.regionCode", &input.region_code)?;
        let row = retrying(|| {
            submit_once(
                request,
                &access,
                fund,
                region_code,
                (&name, &id_number, &phone),
                &summary,
                amount_fen,
            )
        })
        .await?;
        application_answer(request, row).await
    }

    /// Approves a SUBMITTED application (fund officers, in scope).
    async fn approve_legal_aid_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the application.")] id: ID,
        #[graphql(desc = "Why (at most 500 characters).")] reason: Option<String>,
    ) -> ApiResult<LegalAidApplication> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Application, Action::Approve).await?;
        let id = parse_typed_id(&id, NodeType::LegalAidApplication, "id")?;
        let reason = validate::optional_text("reason", reason.as_deref(), 500)?;
        let row = retrying(|| decide_once(request, &access, id, true, reason.as_deref())).await?;
        application_answer(request, row).await
    }

    /// Rejects a SUBMITTED application with a reason (fund officers, in scope). Rejection is final.
    async fn reject_legal_aid_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the application.")] id: ID,
        #[graphql(desc = "Why (required, at most 500 characters).")] reason: String,
    ) -> ApiResult<LegalAidApplication> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Application, Action::Approve).await?;
        let id = parse_typed_id(&id, NodeType::LegalAidApplication, "id")?;
        let reason = validate::text("reason", &reason, 500)?;
        let row = retrying(|| decide_once(request, &access, id, false, Some(&reason))).await?;
        application_answer(request, row).await
    }

    /// Pays an APPROVED application out of its fund: a loan of the revolving fund (with `dueOn`, a day in the
    /// future) or a grant. Above the dual-control threshold the approver may not disburse their own approval
    /// (`FORBIDDEN`). `INSUFFICIENT_FUNDS` when the fund cannot pay; a retry with the same key returns the
    /// original posting.
    async fn disburse_legal_aid_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the application.")] id: ID,
        #[graphql(desc = "Unique key of this request (1 to 128 characters); reuse it to retry safely.")]
        idempotency_key: String,
        #[graphql(desc = "When a loan is to be repaid (revolving fund only, after today).")] due_on: Option<
            crate::scalars::Date,
        >,
    ) -> ApiResult<LedgerPosting> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Application, Action::Disburse).await?;
        let id = parse_typed_id(&id, NodeType::LegalAidApplication, "id")?;
        let key = valid_key("idempotencyKey", &idempotency_key)?;
        let threshold = settings(ctx).dual_control_threshold_fen;
        let moved =
            retrying(|| disburse_once(request, &access, id, &key, due_on.map(Into::into), threshold)).await?;
        posting_of(request, moved).await
    }

    /// Books a repayment of a revolving-fund loan, partial or full; the loan is REPAID once fully returned.
    /// More than the outstanding amount is `BAD_USER_INPUT`.
    async fn record_repayment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the application (a disbursed loan).")] application_id: ID,
        #[graphql(desc = "The amount repaid, more than 0.00.")] amount: Money,
        #[graphql(desc = "Unique key of this request (1 to 128 characters); reuse it to retry safely.")]
        idempotency_key: String,
        #[graphql(desc = "A note (at most 200 characters).")] memo: Option<String>,
    ) -> ApiResult<LedgerPosting> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Application, Action::Update).await?;
        let id = parse_typed_id(&application_id, NodeType::LegalAidApplication, "applicationId")?;
        let amount_fen = amount.positive_fen("amount")?;
        let key = valid_key("idempotencyKey", &idempotency_key)?;
        let memo = validate::optional_text("memo", memo.as_deref(), 200)?;
        let moved = retrying(|| repay_once(request, &access, id, amount_fen, &key, memo.as_deref())).await?;
        posting_of(request, moved).await
    }

    /// Writes off what is still owed on a revolving-fund loan past its due date. The write-off moves no money
    /// (it left the fund when it was lent) and closes the loan.
    async fn write_off_loan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the application (an overdue loan).")] application_id: ID,
        #[graphql(desc = "Why (required, at most 500 characters).")] reason: String,
        #[graphql(desc = "Unique key of this request (1 to 128 characters); reuse it to retry safely.")]
        idempotency_key: String,
    ) -> ApiResult<LedgerPosting> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Application, Action::Approve).await?;
        let id = parse_typed_id(&application_id, NodeType::LegalAidApplication, "applicationId")?;
        let reason = validate::text("reason", &reason, 500)?;
        let key = valid_key("idempotencyKey", &idempotency_key)?;
        let moved = retrying(|| write_off_once(request, &access, id, &reason, &key)).await?;
        posting_of(request, moved).await
    }

    /// Books money into a fund of your region: a donation (the default) or a public allocation.
    async fn record_donation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code of the fund: REVOLVING, RELIEF or CHARITY.")] fund: String,
        #[graphql(desc = "The amount received, more than 0.00.")] amount: Money,
        #[graphql(desc = "Who gave it and how (at most 200 characters).")] memo: String,
        #[graphql(desc = "Unique key of this request (1 to 128 characters); reuse it to retry safely.")]
        idempotency_key: String,
        #[graphql(desc = "DONATION (default) or ALLOCATION.", default_with = "IncomeKind::Donation")]
        kind: IncomeKind,
    ) -> ApiResult<LedgerPosting> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Ledger, Action::Create).await?;
        let amount_fen = amount.positive_fen("amount")?;
        let fund = validate::code("fund", &fund)?;
        let memo = validate::text("memo", &memo, 200)?;
        let key = valid_key("idempotencyKey", &idempotency_key)?;
        let moved =
            retrying(|| income_once(request, &access, fund, kind.into(), amount_fen, &memo, &key)).await?;
        posting_of(request, moved).await
    }

    /// Undoes a ledger entry with a REVERSAL entry in the opposite direction (entries are never changed). An
    /// entry is reversed at most once; reversals and write-offs are not reversed; a reversal that would
    /// overdraw the fund is `INSUFFICIENT_FUNDS`. Reversing a disbursement returns its application to APPROVED,
    /// reversing a repayment reopens the loan.
    async fn reverse_ledger_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the entry to undo.")] entry_id: ID,
        #[graphql(desc = "Why (required, at most 500 characters).")] reason: String,
        #[graphql(desc = "Unique key of this request (1 to 128 characters); reuse it to retry safely.")]
        idempotency_key: String,
    ) -> ApiResult<LedgerPosting> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Ledger, Action::Create).await?;
        let entry_id = parse_typed_id(&entry_id, NodeType::LedgerEntry, "entryId")?;
        let reason = validate::text("reason", &reason, 500)?;
        let key = valid_key("idempotencyKey", &idempotency_key)?;
        let moved = retrying(|| reverse_once(request, &access, entry_id, &reason, &key)).await?;
        posting_of(request, moved).await
    }
}

async fn submit_once(
    request: &RequestData,
    access: &Access,
    fund_code: &str,
    region_code: &str,
    (name, id_number, phone): (&str, &str, &str),
    summary: &str,
    amount_fen: i64,
) -> Result<legal_aid_application::Model, ApiError> {
    crate::frame::write(request, async |txn| {
        let fund = crate::scope::read::<legal_aid_fund::Entity>(access)
            .filter(legal_aid_fund::Column::Code.eq(fund_code.trim()))
            .one(txn)
            .await?
            .ok_or_else(|| ApiError::bad_input("input.fund", "no fund with this code"))?;
        let region = crate::scope::read::<region::Entity>(access)
            .filter(region::Column::Code.eq(region_code.trim()))
            .one(txn)
            .await?
            .ok_or_else(|| {
                ApiError::bad_input("input.regionCode", "no region with this code in your scope")
            })?;
        let now = Utc::now();
        let actor = request.viewer.subject();
        // The code follows the row id (demo codes have four digits after the year, these six), so concurrent
        // submissions never compete for a code. The year is China Standard Time's.
        let id = crate::db::next_id::<legal_aid_application::Entity, _>(txn).await?;
        let year = (now + TimeDelta::hours(8)).year();
        let row = legal_aid_application::ActiveModel {
            id: Set(id),
            code: Set(format!("LA{year}{id:06}")),
            fund_id: Set(fund.id),
            region_id: Set(region.id),
            applicant_name: Set(name.to_owned()),
            applicant_id_number: Set(id_number.to_owned()),
            applicant_phone: Set(phone.to_owned()),
            case_summary: Set(summary.to_owned()),
            amount_fen: Set(amount_fen),
            state: Set(State::Submitted),
            submitted_at: Set(now),
            submitted_by: Set(actor.to_owned()),
            decided_at: Set(None),
            decided_by: Set(None),
            decision_reason: Set(None),
            disbursed_at: Set(None),
            disbursed_by: Set(None),
            due_on: Set(None),
            repaid_fen: Set(0),
            closed_at: Set(None),
            updated_at: Set(now),
        }
        .insert(txn)
        .await?;
        let detail = Some(format!("fund {}, amount {}", fund.code, format_fen(amount_fen)));
        let change = Change::of("submitLegalAidApplication", Resource::Application, [row.id], detail);
        Ok(Outcome::Changed(row, change))
    })
    .await
}

async fn decide_once(
    request: &RequestData,
    access: &Access,
    id: i64,
    approve: bool,
    reason: Option<&str>,
) -> Result<legal_aid_application::Model, ApiError> {
    crate::frame::write(request, async |txn| {
        application_in_scope(txn, access, id).await?;
        let row = lock_application(txn, id).await?;
        let action = if approve { "approve" } else { "reject" };
        if row.state != State::Submitted {
            return Err(wrong_state(&row, action));
        }
        let now = Utc::now();
        let mut changed: legal_aid_application::ActiveModel = row.clone().into();
        changed.state = Set(if approve { State::Approved } else { State::Rejected });
        changed.decided_at = Set(Some(now));
        changed.decided_by = Set(Some(request.viewer.subject().to_owned()));
        changed.decision_reason = Set(reason.map(str::to_owned));
        if !approve {
            changed.closed_at = Set(Some(now));
        }
        changed.updated_at = Set(now);
        let row = changed.update(txn).await?;
        let audit_action = if approve { "approveLegalAidApplication" } else { "rejectLegalAidApplication" };
        let change = Change::of(audit_action, Resource::Application, [row.id], None);
        Ok(Outcome::Changed(row, change))
    })
    .await
}

async fn disburse_once(
    request: &RequestData,
    access: &Access,
    id: i64,
    key: &str,
    due_on: Option<NaiveDate>,
    threshold_fen: i64,
) -> Result<Moved, ApiError> {
    crate::frame::write(request, async |txn| {
        let found = application_in_scope(txn, access, id).await?;
        let fund = lock_fund(txn, found.fund_id).await?;
        let row = lock_application(txn, id).await?;
        let actor = request.viewer.subject();
        // The memo carries the due date, so the request hash covers every argument of the request.
        let what = if fund.kind == FundKind::Revolving { "借款发放" } else { "救助金发放" };
        let memo = match due_on {
            Some(due) => format!("{what}，约定还款日 {due}"),
            None => what.to_owned(),
        };
        let posting = Posting {
            fund: &fund,
            kind: EntryKind::Disbursement,
            direction: -1,
            amount_fen: row.amount_fen,
            application: Some((row.id, &row.code)),
            reverses: None,
            actor,
            memo: Some(&memo),
        };
        if let Some(entry) = replay_of(txn, key, &posting.hash()).await? {
            return replay(txn, entry).await;
        }
        if row.state != State::Approved {
            return Err(wrong_state(&row, "disburse"));
        }
        let today = Utc::now().date_naive();
        match (fund.kind, due_on) {
            (FundKind::Revolving, None) => {
                return Err(ApiError::bad_input("dueOn", "a loan of the revolving fund needs a due date"));
            }
            (FundKind::Revolving, Some(due)) if due <= today => {
                return Err(ApiError::bad_input("dueOn", "must be after today"));
            }
            (FundKind::Relief | FundKind::Charity, Some(_)) => {
                return Err(ApiError::bad_input("dueOn", "grants are not repaid: give no due date"));
            }
            _ => {}
        }
        if row.amount_fen > threshold_fen && row.decided_by.as_deref() == Some(actor) {
            return Err(ApiError::Forbidden(format!(
                "dual control: {} yuan is above the {} yuan threshold, so it must be disbursed by someone other than \
                 its approver",
                format_fen(row.amount_fen),
                format_fen(threshold_fen)
            )));
        }
        let now = Utc::now();
        let (entry, fund) = append(txn, &posting, key, now).await?;
        let mut changed: legal_aid_application::ActiveModel = row.clone().into();
        changed.state = Set(State::Disbursed);
        changed.disbursed_at = Set(Some(now));
        changed.disbursed_by = Set(Some(actor.to_owned()));
        changed.due_on = Set(due_on);
        if fund.kind != FundKind::Revolving {
            // A grant is complete once paid.
            changed.closed_at = Set(Some(now));
        }
        changed.updated_at = Set(now);
        let row = changed.update(txn).await?;
        let detail = Some(posting_detail(&entry, &fund));
        let change = Change::of("disburseLegalAidApplication", Resource::Application, [row.id], detail);
        Ok(Outcome::Changed(Moved { entry, application: Some(row), fund, replayed: false }, change))
    })
    .await
}

async fn repay_once(
    request: &RequestData,
    access: &Access,
    id: i64,
    amount_fen: i64,
    key: &str,
    memo: Option<&str>,
) -> Result<Moved, ApiError> {
    crate::frame::write(request, async |txn| {
        let found = application_in_scope(txn, access, id).await?;
        let fund = lock_fund(txn, found.fund_id).await?;
        let row = lock_application(txn, id).await?;
        let posting = Posting {
            fund: &fund,
            kind: EntryKind::Repayment,
            direction: 1,
            amount_fen,
            application: Some((row.id, &row.code)),
            reverses: None,
            actor: request.viewer.subject(),
            memo,
        };
        if let Some(entry) = replay_of(txn, key, &posting.hash()).await? {
            return replay(txn, entry).await;
        }
        if fund.kind != FundKind::Revolving {
            return Err(ApiError::Conflict(format!(
                "{} is a grant: only loans of the revolving fund are repaid",
                row.code
            )));
        }
        if !matches!(row.state, State::Disbursed | State::Repaying) {
            return Err(wrong_state(&row, "record a repayment for"));
        }
        let outstanding = row.amount_fen - row.repaid_fen;
        if amount_fen > outstanding {
            return Err(ApiError::bad_input(
                "amount",
                format!("more than the outstanding {} yuan", format_fen(outstanding)),
            ));
        }
        let now = Utc::now();
        let (entry, fund) = append(txn, &posting, key, now).await?;
        let repaid = row.repaid_fen + amount_fen;
        let mut changed: legal_aid_application::ActiveModel = row.clone().into();
        changed.repaid_fen = Set(repaid);
        if repaid == row.amount_fen {
            changed.state = Set(State::Repaid);
            changed.closed_at = Set(Some(now));
        } else {
            changed.state = Set(State::Repaying);
        }
        changed.updated_at = Set(now);
        let row = changed.update(txn).await?;
        let detail = Some(posting_detail(&entry, &fund));
        let change = Change::of("recordRepayment", Resource::Application, [row.id], detail);
        Ok(Outcome::Changed(Moved { entry, application: Some(row), fund, replayed: false }, change))
    })
    .await
}

async fn write_off_once(
    request: &RequestData,
    access: &Access,
    id: i64,
    reason: &str,
    key: &str,
) -> Result<Moved, ApiError> {
    crate::frame::write(request, async |txn| {
        let found = application_in_scope(txn, access, id).await?;
        let fund = lock_fund(txn, found.fund_id).await?;
        let row = lock_application(txn, id).await?;
        let posting = Posting {
            fund: &fund,
            kind: EntryKind::WriteOff,
            direction: 0,
            amount_fen: row.amount_fen - row.repaid_fen,
            application: Some((row.id, &row.code)),
            reverses: None,
            actor: request.viewer.subject(),
            memo: Some(reason),
        };
        if let Some(entry) = replay_of(txn, key, &posting.hash()).await? {
            return replay(txn, entry).await;
        }
        if fund.kind != FundKind::Revolving {
            return Err(ApiError::Conflict(format!("{} is a grant: only loans are written off", row.code)));
        }
        if !matches!(row.state, State::Disbursed | State::Repaying) {
            return Err(wrong_state(&row, "write off"));
        }
        let today = Utc::now().date_naive();
        if row.due_on.is_none_or(|due| due >= today) {
            return Err(ApiError::Conflict(format!(
                "{} is not overdue: only loans past their due date are written off",
                row.code
            )));
        }
        let now = Utc::now();
        let (entry, fund) = append(txn, &posting, key, now).await?;
        let mut changed: legal_aid_application::ActiveModel = row.clone().into();
        changed.state = Set(State::WrittenOff);
        changed.closed_at = Set(Some(now));
        changed.updated_at = Set(now);
        let row = changed.update(txn).await?;
        let detail = Some(posting_detail(&entry, &fund));
        let change = Change::of("writeOffLoan", Resource::Application, [row.id], detail);
        Ok(Outcome::Changed(Moved { entry, application: Some(row), fund, replayed: false }, change))
    })
    .await
}

async fn income_once(
    request: &RequestData,
    access: &Access,
    fund_code: &str,
    kind: EntryKind,
    amount_fen: i64,
    memo: &str,
    key: &str,
) -> Result<Moved, ApiError> {
    crate::frame::write(request, async |txn| {
        // Income is booked by the fund's own region: the city funds by city-level officers.
        let found = crate::scope::read::<legal_aid_fund::Entity>(access)
            .filter(crate::scope::funds_kept_by(access))
            .filter(legal_aid_fund::Column::Code.eq(fund_code))
            .one(txn)
            .await?
            .ok_or(ApiError::NotFound("fund"))?;
        let fund = lock_fund(txn, found.id).await?;
        let posting = Posting {
            fund: &fund,
            kind,
            direction: 1,
            amount_fen,
            application: None,
            reverses: None,
            actor: request.viewer.subject(),
            memo: Some(memo),
        };
        if let Some(entry) = replay_of(txn, key, &posting.hash()).await? {
            return replay(txn, entry).await;
        }
        let (entry, fund) = append(txn, &posting, key, Utc::now()).await?;
        let detail = Some(posting_detail(&entry, &fund));
        let change = Change::of("recordDonation", Resource::Ledger, [entry.id], detail);
        Ok(Outcome::Changed(Moved { entry, application: None, fund, replayed: false }, change))
    })
    .await
}

async fn reverse_once(
    request: &RequestData,
    access: &Access,
    entry_id: i64,
    reason: &str,
    key: &str,
) -> Result<Moved, ApiError> {
    crate::frame::write(request, async |txn| {
        let original = crate::scope::read::<ledger_entry::Entity>(access)
            .filter(ledger_entry::Column::Id.eq(entry_id))
            .one(txn)
            .await?
            .ok_or(ApiError::NotFound("ledger entry"))?;
        let fund = lock_fund(txn, original.fund_id).await?;
        let application = match original.application_id {
            Some(id) => Some(lock_application(txn, id).await?),
            None => None,
        };
        let posting = Posting {
            fund: &fund,
            kind: EntryKind::Reversal,
            direction: -original.direction,
            amount_fen: original.amount_fen,
            application: application.as_ref().map(|row| (row.id, row.code.as_str())),
            reverses: Some((original.id, &original.idempotency_key)),
            actor: request.viewer.subject(),
            memo: Some(reason),
        };
        if let Some(entry) = replay_of(txn, key, &posting.hash()).await? {
            return replay(txn, entry).await;
        }
        match original.kind {
            EntryKind::Reversal => {
                return Err(ApiError::Conflict(
                    "a reversal is not reversed: book a new entry instead".into(),
                ));
            }
            EntryKind::WriteOff => {
                return Err(ApiError::Conflict("a write-off moves no money and is final".into()));
            }
            _ => {}
        }
        let earlier = crate::scope::unscoped::<ledger_entry::Entity>(crate::scope::Unscoped::Ledger)
            .filter(ledger_entry::Column::ReversesEntryId.eq(original.id))
            .one(txn)
            .await?;
        if earlier.is_some() {
            return Err(ApiError::Conflict("this entry has already been reversed".into()));
        }
        let now = Utc::now();
        let changed = match (&application, original.kind) {
            (Some(row), EntryKind::Disbursement) => {
                if row.state != State::Disbursed {
                    return Err(wrong_state(row, "reverse the disbursement of"));
                }
                let mut changed: legal_aid_application::ActiveModel = row.clone().into();
                changed.state = Set(State::Approved);
                changed.disbursed_at = Set(None);
                changed.disbursed_by = Set(None);
                changed.due_on = Set(None);
                changed.closed_at = Set(None);
                Some(changed)
            }
            (Some(row), EntryKind::Repayment) => {
                if !matches!(row.state, State::Repaying | State::Repaid) {
                    return Err(wrong_state(row, "reverse a repayment of"));
                }
                let repaid = row.repaid_fen - original.amount_fen;
                let mut changed: legal_aid_application::ActiveModel = row.clone().into();
                changed.repaid_fen = Set(repaid);
                changed.state = Set(if repaid == 0 { State::Disbursed } else { State::Repaying });
                changed.closed_at = Set(None);
                Some(changed)
            }
            _ => None,
        };
        let (entry, fund) = append(txn, &posting, key, now).await?;
        let detail = Some(format!("{}, reversing entry {}", posting_detail(&entry, &fund), original.id));
        match changed {
            Some(mut changed) => {
                changed.updated_at = Set(now);
                let row = changed.update(txn).await?;
                let change = Change::of("reverseLedgerEntry", Resource::Application, [row.id], detail);
                Ok(Outcome::Changed(Moved { entry, application: Some(row), fund, replayed: false }, change))
            }
            None => {
                let change = Change::of("reverseLedgerEntry", Resource::Ledger, [entry.id], detail);
                Ok(Outcome::Changed(Moved { entry, application, fund, replayed: false }, change))
            }
        }
    })
    .await
}
