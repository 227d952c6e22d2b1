//! `govgraph ledger verify`: recomputes everything the ledger implies and compares it with what is stored.
//!
//! For every fund: the sum of its entries equals the cached `balance_fen`, and the running balance in entry
//! order never goes below zero. For every entry: a positive amount, a direction that agrees with its kind, a
//! `request_hash` that matches its content, and for a reversal an earlier entry of the same fund, application
//! and amount in the opposite direction. For every application: `repaid_fen` equals its repayments minus their
//! reversals, and its state agrees with the money that moved for it.

use std::collections::{BTreeMap, HashMap};

use entities::ledger_entry::{self, EntryKind};
use entities::legal_aid_application::{self, ApplicationState as State};
use entities::legal_aid_fund;
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, QueryFilter, QueryOrder, QuerySelect};

use super::ledger::{EntryText, direction_of, entry_hash};

/// Entries read per statement.
const BATCH: u64 = 5_000;

/// What verification found for one fund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundCheck {
    pub code: String,
    pub name: String,
    pub entries: u64,
    /// `legal_aid_fund.balance_fen`.
    pub cached_fen: i64,
    /// The sum of the fund's entries.
    pub computed_fen: i64,
    /// The lowest running balance in entry order (0 for a fund without entries).
    pub lowest_fen: i64,
}

impl FundCheck {
    /// Whether the cache matches and the balance never went negative.
    pub fn ok(&self) -> bool {
        self.cached_fen == self.computed_fen && self.lowest_fen >= 0
    }
}

/// The outcome of verifying the whole ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerReport {
    pub funds: Vec<FundCheck>,
    pub entries: u64,
    pub applications: u64,
    /// Every inconsistency found, one sentence each; empty when the ledger is sound.
    pub problems: Vec<String>,
}

impl LedgerReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Money that moved for one application, from its entries.
#[derive(Debug, Default)]
struct AppMoney {
    /// Disbursed minus reversed disbursements.
    disbursed: i64,
    /// Repaid minus reversed repayments.
    repaid: i64,
    written_off: i64,
}

/// Verifies the ledger. Reads everything; meant for the command line and tests, not for requests.
pub async fn verify<C: ConnectionTrait>(db: &C) -> Result<LedgerReport, DbErr> {
    let funds = crate::scope::unscoped::<legal_aid_fund::Entity>(crate::scope::Unscoped::Ledger)
        .order_by_asc(legal_aid_fund::Column::Id)
        .all(db)
        .await?;
    let applications: HashMap<i64, legal_aid_application::Model> =
        crate::scope::unscoped::<legal_aid_application::Entity>(crate::scope::Unscoped::Ledger)
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
    let fund_codes: HashMap<i64, &str> = funds.iter().map(|fund| (fund.id, fund.code.as_str())).collect();
    let mut report = LedgerReport { applications: applications.len() as u64, ..Default::default() };
    let problems = &mut report.problems;

    let mut running: HashMap<i64, (u64, i64, i64)> = HashMap::new();
    let mut by_id: HashMap<i64, ledger_entry::Model> = HashMap::new();
    let mut money: BTreeMap<i64, AppMoney> = BTreeMap::new();
    let mut after = i64::MIN;
    loop {
        let batch = crate::scope::unscoped::<ledger_entry::Entity>(crate::scope::Unscoped::Ledger)
            .filter(ledger_entry::Column::Id.gt(after))
            .order_by_asc(ledger_entry::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for entry in batch {
            report.entries += 1;
            let id = entry.id;
            if entry.amount_fen <= 0 {
                problems.push(format!("entry {id}: amount {} is not positive", entry.amount_fen));
            }
            let expected_direction = match entry.kind {
                EntryKind::Reversal => None,
                kind => direction_of(kind),
            };
            if expected_direction.is_some_and(|direction| direction != entry.direction)
                || (entry.kind == EntryKind::Reversal && !matches!(entry.direction, -1 | 1))
            {
                problems.push(format!(
                    "entry {id}: direction {} does not fit kind {}",
                    entry.direction,
                    entry.kind.to_value()
                ));
            }
            let Some(fund_code) = fund_codes.get(&entry.fund_id) else {
                problems.push(format!("entry {id}: no fund {}", entry.fund_id));
                continue;
            };
            let application = entry.application_id.and_then(|a| applications.get(&a));
            if entry.application_id.is_some() && application.is_none() {
                problems.push(format!("entry {id}: no application {:?}", entry.application_id));
            }
            let reversed = entry.reverses_entry_id.and_then(|r| by_id.get(&r));
            if entry.kind == EntryKind::Reversal {
                match reversed {
                    None => problems.push(format!(
                        "entry {id}: reverses {:?}, which is not an earlier entry",
                        entry.reverses_entry_id
                    )),
                    Some(original) => {
                        if original.fund_id != entry.fund_id
                            || original.application_id != entry.application_id
                            || original.amount_fen != entry.amount_fen
                            || original.direction != -entry.direction
                            || original.kind == EntryKind::Reversal
                        {
                            problems.push(format!(
                                "entry {id}: does not mirror entry {} it reverses",
                                original.id
                            ));
                        }
                    }
                }
            } else if entry.reverses_entry_id.is_some() {
                problems.push(format!("entry {id}: only reversals may reverse an entry"));
            }
            let hash = entry_hash(&EntryText {
                fund_code,
                kind: entry.kind,
                direction: entry.direction,
                amount_fen: entry.amount_fen,
                application_code: application.map(|a| a.code.as_str()),
                reverses_key: reversed.map(|r| r.idempotency_key.as_str()),
                actor: &entry.actor,
                memo: entry.memo.as_deref(),
            });
            if hash != entry.request_hash {
                problems.push(format!("entry {id}: request_hash does not match its content (altered?)"));
            }

            let (count, balance, lowest) = running.entry(entry.fund_id).or_insert((0, 0, 0));
            *count += 1;
            *balance += entry.signed_fen();
            if *balance < 0 && *lowest >= 0 {
                problems.push(format!(
                    "entry {id}: takes {fund_code} below zero ({})",
                    crate::money::format_fen(*balance)
                ));
            }
            *lowest = (*lowest).min(*balance);

            if let Some(application_id) = entry.application_id {
                let app = money.entry(application_id).or_default();
                let undone = reversed.map(|r| r.kind);
                match (entry.kind, undone) {
                    (EntryKind::Disbursement, _) => app.disbursed += entry.amount_fen,
                    (EntryKind::Repayment, _) => app.repaid += entry.amount_fen,
                    (EntryKind::WriteOff, _) => app.written_off += entry.amount_fen,
                    (EntryKind::Reversal, Some(EntryKind::Disbursement)) => app.disbursed -= entry.amount_fen,
                    (EntryKind::Reversal, Some(EntryKind::Repayment)) => app.repaid -= entry.amount_fen,
                    _ => {}
                }
            }
            by_id.insert(id, entry);
        }
    }

    for fund in &funds {
        let (entries, computed, lowest) = running.get(&fund.id).copied().unwrap_or((0, 0, 0));
        let check = FundCheck {
            code: fund.code.clone(),
            name: fund.name.clone(),
            entries,
            cached_fen: fund.balance_fen,
            computed_fen: computed,
            lowest_fen: lowest,
        };
        if check.cached_fen != check.computed_fen {
            problems.push(format!(
                "fund {}: cached balance {} but its entries sum to {}",
                fund.code,
                crate::money::format_fen(check.cached_fen),
                crate::money::format_fen(check.computed_fen)
            ));
        }
        report.funds.push(check);
    }

    let mut ids: Vec<&i64> = applications.keys().collect();
    ids.sort();
    for id in ids {
        let row = &applications[id];
        let empty = AppMoney::default();
        let moved = money.get(id).unwrap_or(&empty);
        let code = &row.code;
        if row.repaid_fen != moved.repaid {
            problems.push(format!(
                "application {code}: repaid_fen {} but its repayments sum to {}",
                row.repaid_fen, moved.repaid
            ));
        }
        let paid_out =
            matches!(row.state, State::Disbursed | State::Repaying | State::Repaid | State::WrittenOff);
        let expected_disbursed = if paid_out { row.amount_fen } else { 0 };
        if moved.disbursed != expected_disbursed {
            problems.push(format!(
                "application {code}: {} but {} fen disbursed for it",
                row.state.to_value(),
                moved.disbursed
            ));
        }
        let consistent = match row.state {
            State::Repaid => row.repaid_fen == row.amount_fen,
            State::Repaying => row.repaid_fen > 0 && row.repaid_fen < row.amount_fen,
            State::WrittenOff => {
                moved.written_off == row.amount_fen - row.repaid_fen && moved.written_off > 0
            }
            _ => row.repaid_fen == 0,
        };
        if !consistent || (row.state != State::WrittenOff && moved.written_off != 0) {
            problems.push(format!(
                "application {code}: state {} does not fit repaid {} / written off {} of {}",
                row.state.to_value(),
                row.repaid_fen,
                moved.written_off,
                row.amount_fen
            ));
        }
    }
    Ok(report)
}
