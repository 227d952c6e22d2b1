//! Appending to the ledger: the one way money moves.
//!
//! Every money-moving mutation runs [`retrying`] a closure that opens one write transaction and
//!
//! 1. locks the fund row ([`lock_fund`]: `SELECT … FOR NO KEY UPDATE` on PostgreSQL; on SQLite the
//!    `BEGIN IMMEDIATE` of [`crate::db::begin_write`] already holds the database's write lock), so that writers
//!    of one fund queue and each reads the balance the previous one committed;
//! 2. looks up the idempotency key ([`replay_of`]): the same key with the same request hash returns the entry
//!    written the first time and writes nothing; the same key with another hash is a `CONFLICT`;
//! 3. checks the transition, then [`append`]s the entry and moves the cached balance in the same transaction,
//!    refusing with `INSUFFICIENT_FUNDS` (and writing nothing) when the balance would go below zero.
//!
//! Lock order is always fund → application → audit chain, so writers cannot deadlock one another; should the
//! database still report a serialization failure or deadlock (SQLSTATE 40001/40P01), a busy SQLite, or a
//! concurrent insert of the same key, the whole transaction is rolled back and run again, a bounded number of
//! times ([`TRANSACTION_RETRIES`] counts these).
//!
//! `request_hash` is the hex SHA-256 of the entry's canonical text ([`entry_hash`]), the scheme the demo data
//! uses too, so `govgraph ledger verify` can recompute every entry's hash.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use entities::ledger_entry::{self, EntryKind};
use entities::legal_aid_fund;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, LockType};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, RuntimeErr,
};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::money::format_fen;

/// Transactions of money-moving mutations that were rolled back and run again after a transient failure, since
/// the process started.
pub static TRANSACTION_RETRIES: AtomicU64 = AtomicU64::new(0);

/// Attempts of one mutation before a transient failure is given up on.
pub const MAX_ATTEMPTS: u32 = 8;

/// Whether a database error is worth running the transaction again for: PostgreSQL serialization failures and
/// deadlocks, SQLite's busy and locked errors, and unique violations (a concurrent transaction wrote the same
/// idempotency key or reversed the same entry first; the retry finds its entry).
pub fn is_transient(err: &DbErr) -> bool {
    if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
        return true;
    }
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx_err))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx_err))
    | DbErr::Conn(RuntimeErr::SqlxError(sqlx_err))) = err
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db_err) = sqlx_err.as_ref() else { return false };
    let code = db_err.code().unwrap_or_default();
    if db_err.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>().is_some() {
        return matches!(code.as_ref(), "40001" | "40P01");
    }
    if db_err.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes.
        return code.parse::<u32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6));
    }
    false
}

/// Runs `attempt` (one whole transaction) until it succeeds, fails for good, or has failed transiently
/// [`MAX_ATTEMPTS`] times.
pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut failures = 0u32;
    loop {
        match attempt().await {
            Err(ApiError::Database(err)) if is_transient(&err) => {
                failures += 1;
                if failures >= MAX_ATTEMPTS {
                    tracing::warn!(error = %err, "giving up on a ledger transaction after {failures} attempts");
                    return Err(ApiError::Conflict(
                        "the ledger is busy: try again later with the same idempotency key".into(),
                    ));
                }
                TRANSACTION_RETRIES.fetch_add(1, Ordering::Relaxed);
                // Exponential backoff with jitter, so that colliding writers do not collide again.
                let jitter = u64::from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.subsec_nanos())
                        .unwrap_or(0)
                        % 4_000,
                );
                let base = 2u64 << Ord::min(failures, 6);
                tokio::time::sleep(Duration::from_millis(base) + Duration::from_micros(jitter)).await;
            }
            other => return other,
        }
    }
}

/// The canonical text of an entry, hashed into `request_hash`: one `name=value` line per field, in this fixed
/// order, empty values for absent ones. The idempotency key is not part of it.
#[derive(Debug, Clone, Copy)]
pub struct EntryText<'a> {
    pub fund_code: &'a str,
    pub kind: EntryKind,
    pub direction: i16,
    pub amount_fen: i64,
    pub application_code: Option<&'a str>,
    /// The idempotency key of the entry a reversal undoes.
    pub reverses_key: Option<&'a str>,
    pub actor: &'a str,
    pub memo: Option<&'a str>,
}

/// Hex SHA-256 of [`EntryText`].
pub fn entry_hash(text: &EntryText<'_>) -> String {
    let canonical = format!(
        "fund={}\nkind={}\ndirection={}\namount_fen={}\napplication={}\nreverses={}\nactor={}\nmemo={}",
        text.fund_code,
        text.kind.to_value(),
        text.direction,
        text.amount_fen,
        text.application_code.unwrap_or(""),
        text.reverses_key.unwrap_or(""),
        text.actor,
        text.memo.unwrap_or(""),
    );
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// The direction a kind of entry must have (a reversal's is the opposite of the entry it undoes).
pub fn direction_of(kind: EntryKind) -> Option<i16> {
    match kind {
        EntryKind::Donation | EntryKind::Allocation | EntryKind::Repayment => Some(1),
        EntryKind::Disbursement => Some(-1),
        EntryKind::WriteOff => Some(0),
        EntryKind::Reversal => None,
    }
}

/// Reads and locks a fund row for the rest of the transaction.
pub async fn lock_fund<C: ConnectionTrait>(txn: &C, fund_id: i64) -> Result<legal_aid_fund::Model, ApiError> {
    crate::scope::unscoped::<legal_aid_fund::Entity>(crate::scope::Unscoped::Ledger)
        .filter(legal_aid_fund::Column::Id.eq(fund_id))
        .lock(LockType::NoKeyUpdate)
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("fund"))
}

/// The entry written earlier under `key`, when its request hash is `hash`; `CONFLICT` when the key was used for
/// a different request; `None` for a fresh key.
pub async fn replay_of<C: ConnectionTrait>(
    txn: &C,
    key: &str,
    hash: &str,
) -> Result<Option<ledger_entry::Model>, ApiError> {
    let existing = crate::scope::unscoped::<ledger_entry::Entity>(crate::scope::Unscoped::Ledger)
        .filter(ledger_entry::Column::IdempotencyKey.eq(key))
        .one(txn)
        .await?;
    match existing {
        Some(entry) if entry.request_hash == hash => Ok(Some(entry)),
        Some(_) => Err(ApiError::Conflict(
            "this idempotency key was already used for a different request; use a new key".into(),
        )),
        None => Ok(None),
    }
}

/// An entry to append, with its fund locked by [`lock_fund`] in the same transaction.
pub struct Posting<'a> {
    pub fund: &'a legal_aid_fund::Model,
    pub kind: EntryKind,
    pub direction: i16,
    pub amount_fen: i64,
    /// Id and code of the application the money moved for.
    pub application: Option<(i64, &'a str)>,
    /// Id and idempotency key of the entry a reversal undoes.
    pub reverses: Option<(i64, &'a str)>,
    pub actor: &'a str,
    pub memo: Option<&'a str>,
}

impl Posting<'_> {
    /// The request hash of this posting.
    pub fn hash(&self) -> String {
        entry_hash(&EntryText {
            fund_code: &self.fund.code,
            kind: self.kind,
            direction: self.direction,
            amount_fen: self.amount_fen,
            application_code: self.application.map(|(_, code)| code),
            reverses_key: self.reverses.map(|(_, key)| key),
            actor: self.actor,
            memo: self.memo,
        })
    }

    /// The fund's balance after this posting.
    pub fn balance_after(&self) -> i64 {
        self.fund.balance_fen + i64::from(self.direction) * self.amount_fen
    }
}

/// Appends the entry under `key` and moves the fund's cached balance, in the caller's transaction. Refuses with
/// `INSUFFICIENT_FUNDS` when the balance would go below zero.
pub async fn append<C: ConnectionTrait>(
    txn: &C,
    posting: &Posting<'_>,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(ledger_entry::Model, legal_aid_fund::Model), ApiError> {
    if posting.amount_fen <= 0 {
        return Err(ApiError::Internal(format!("ledger amount {} is not positive", posting.amount_fen)));
    }
    let after = posting.balance_after();
    if after < 0 {
        return Err(ApiError::InsufficientFunds(format!(
            "{} holds {} yuan, {} needed",
            posting.fund.code,
            format_fen(posting.fund.balance_fen),
            format_fen(posting.amount_fen)
        )));
    }
    let entry = ledger_entry::ActiveModel {
        id: NotSet,
        fund_id: Set(posting.fund.id),
        application_id: Set(posting.application.map(|(id, _)| id)),
        kind: Set(posting.kind),
        direction: Set(posting.direction),
        amount_fen: Set(posting.amount_fen),
        reverses_entry_id: Set(posting.reverses.map(|(id, _)| id)),
        idempotency_key: Set(key.to_owned()),
        request_hash: Set(posting.hash()),
        actor: Set(posting.actor.to_owned()),
        memo: Set(posting.memo.map(str::to_owned)),
        created_at: Set(now.trunc_subsecs(6)),
    };
    let inserted = ledger_entry::Entity::insert(entry).exec_with_returning(txn).await?;
    let delta = i64::from(posting.direction) * posting.amount_fen;
    if delta != 0 {
        let updated = legal_aid_fund::Entity::update_many()
            .col_expr(
                legal_aid_fund::Column::BalanceFen,
                Expr::col(legal_aid_fund::Column::BalanceFen).add(delta),
            )
            .filter(legal_aid_fund::Column::Id.eq(posting.fund.id))
            .exec(txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(ApiError::Internal(format!("fund {} vanished during a posting", posting.fund.id)));
        }
    }
    let fund = legal_aid_fund::Model { balance_fen: after, ..posting.fund.clone() };
    Ok((inserted, fund))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_follows_the_demo_data_scheme() {
        let text = EntryText {
            fund_code: "REVOLVING",
            kind: EntryKind::Disbursement,
            direction: -1,
            amount_fen: 500_000,
            application_code: Some("LA20100001"),
            reverses_key: None,
            actor: "seed",
            memo: Some("向申请人发放"),
        };
        let canonical = "fund=REVOLVING\nkind=DISBURSEMENT\ndirection=-1\namount_fen=500000\napplication=LA20100001\n\
                         reverses=\nactor=seed\nmemo=向申请人发放";
        assert_eq!(entry_hash(&text), hex::encode(Sha256::digest(canonical.as_bytes())));
        assert_ne!(entry_hash(&text), entry_hash(&EntryText { actor: "someone", ..text }));
        assert_ne!(entry_hash(&text), entry_hash(&EntryText { amount_fen: 500_001, ..text }));
    }

    #[test]
    fn directions_follow_kinds() {
        assert_eq!(direction_of(EntryKind::Donation), Some(1));
        assert_eq!(direction_of(EntryKind::Disbursement), Some(-1));
        assert_eq!(direction_of(EntryKind::WriteOff), Some(0));
        assert_eq!(direction_of(EntryKind::Reversal), None);
    }
}
