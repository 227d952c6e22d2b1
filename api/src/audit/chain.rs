//! Appending to and verifying the hash chain of audit events.
//!
//! Each event's `hash` is SHA-256 over its `prev_hash` and its content (including the records it touched), so
//! editing, removing or reordering any event breaks every hash after it. Appends are serialized: PostgreSQL
//! takes a transaction-scoped advisory lock, SQLite holds the write lock of a `BEGIN IMMEDIATE` transaction.

use chrono::{DateTime, SubsecRound, Utc};
use entities::{audit_event, audit_event_record};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use sha2::{Digest, Sha256};

/// `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Advisory-lock key that serializes appends on PostgreSQL.
const CHAIN_LOCK: i64 = 0x676f_7667_7261_7068; // "govgraph"

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub actor: String,
    pub roles: String,
    pub action: String,
    pub entity_type: String,
    pub region_code: String,
    pub request_id: String,
    pub purpose: Option<String>,
    pub detail: Option<String>,
    /// (entity type, id) of each record the event is about.
    pub records: Vec<(String, i64)>,
}

/// The hash of an event: SHA-256 over a length-prefixed encoding of every field, so no two different events
/// can share an encoding.
pub fn event_hash(prev_hash: &str, occurred_at: DateTime<Utc>, event: &NewEvent) -> String {
    let mut hasher = Sha256::new();
    let mut field = |value: &str| {
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    };
    field(prev_hash);
    field(&occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    field(&event.actor);
    field(&event.roles);
    field(&event.action);
    field(&event.entity_type);
    field(&event.region_code);
    field(&event.request_id);
    field(event.purpose.as_deref().unwrap_or("\u{0}none"));
    field(event.detail.as_deref().unwrap_or("\u{0}none"));
    let mut records = event.records.clone();
    records.sort();
    for (entity_type, id) in &records {
        field(entity_type);
        field(&id.to_string());
    }
    hex::encode(hasher.finalize())
}

/// Appends one event inside the caller's write transaction (which must be the one that makes the change it
/// records). Returns the new event's id.
pub async fn append<C: ConnectionTrait>(txn: &C, event: NewEvent) -> Result<i64, DbErr> {
    let ids = append_all(txn, vec![event]).await?;
    ids.first().copied().ok_or_else(|| DbErr::Custom("no audit event was appended".into()))
}

/// Appends `events` in order inside the caller's write transaction, under one acquisition of the chain's lock.
/// Returns their ids in the same order.
pub async fn append_all<C: ConnectionTrait>(txn: &C, events: Vec<NewEvent>) -> Result<Vec<i64>, DbErr> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [CHAIN_LOCK.into()],
        ))
        .await?;
    }
    let last = audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::Id)
        .column(audit_event::Column::Hash)
        .order_by_desc(audit_event::Column::Id)
        .limit(1)
        .into_tuple::<(i64, String)>()
        .one(txn)
        .await?;
    let (last_id, mut prev_hash) = last.unwrap_or_else(|| (0, GENESIS.to_owned()));
    let ids = new_event_ids(txn, last_id, events.len()).await?;
    let mut event_rows = Vec::with_capacity(events.len());
    let mut record_rows = Vec::new();
    for (event, &event_id) in events.into_iter().zip(&ids) {
        let occurred_at = Utc::now().trunc_subsecs(6);
        let hash = event_hash(&prev_hash, occurred_at, &event);
        let mut records = event.records;
        records.sort();
        records.dedup();
        record_rows
            .extend(records.into_iter().map(|(entity_type, entity_id)| (event_id, entity_type, entity_id)));
        event_rows.push(audit_event::ActiveModel {
            id: Set(event_id),
            occurred_at: Set(occurred_at),
            actor: Set(event.actor),
            roles: Set(event.roles),
            action: Set(event.action),
            entity_type: Set(event.entity_type),
            region_code: Set(event.region_code),
            request_id: Set(event.request_id),
            purpose: Set(event.purpose),
            detail: Set(event.detail),
            prev_hash: Set(std::mem::replace(&mut prev_hash, hash.clone())),
            hash: Set(hash),
        });
    }
    // The ids are fixed in chain order above, so the events go in with one statement per thousand.
    let mut event_rows = event_rows.into_iter().peekable();
    while event_rows.peek().is_some() {
        let chunk: Vec<audit_event::ActiveModel> = event_rows.by_ref().take(1000).collect();
        audit_event::Entity::insert_many(chunk).exec_without_returning(txn).await?;
    }
    for chunk in record_rows.chunks(2000) {
        let rows = chunk.iter().map(|(event_id, entity_type, entity_id)| audit_event_record::ActiveModel {
            id: NotSet,
            event_id: Set(*event_id),
            entity_type: Set(entity_type.clone()),
            entity_id: Set(*entity_id),
        });
        audit_event_record::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(ids)
}

/// Ids for `count` new events, in chain order and above every id already in the chain, drawn while the chain's
/// lock is held. PostgreSQL draws them from the table's sequence (sorted: a set-returning query promises no row
/// order), so rows inserted any other way never collide with them; SQLite counts on from the last event, as its
/// write transaction holds the whole database.
async fn new_event_ids<C: ConnectionTrait>(txn: &C, last_id: i64, count: usize) -> Result<Vec<i64>, DbErr> {
    let count = i64::try_from(count).map_err(|_| DbErr::Custom("too many audit events at once".into()))?;
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok((1..=count).map(|k| last_id + k).collect());
    }
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT nextval(pg_get_serial_sequence('audit_event', 'id')) FROM generate_series(1, $1)",
            [count.into()],
        ))
        .await?;
    let mut ids = rows.iter().map(|row| row.try_get_by_index::<i64>(0)).collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    // A sequence reset below the chain's end would interleave new events with old ones: refuse, never reorder.
    if ids.first().is_some_and(|&first| first <= last_id) {
        return Err(DbErr::Custom(format!(
            "the audit_event id sequence ({}) is behind the chain's last event ({last_id})",
            ids[0]
        )));
    }
    Ok(ids)
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact { events: u64 },
    Broken { event_id: i64, reason: String },
}

/// Recomputes every hash from the stored events and their records, in id order.
pub async fn verify<C: ConnectionTrait>(db: &C) -> Result<ChainReport, DbErr> {
    let mut expected_prev = GENESIS.to_owned();
    let mut after = i64::MIN;
    let mut events = 0u64;
    loop {
        let batch = audit_event::Entity::find()
            .filter(audit_event::Column::Id.gt(after))
            .order_by_asc(audit_event::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let ids: Vec<i64> = batch.iter().map(|event| event.id).collect();
        let records = audit_event_record::Entity::find()
            .filter(audit_event_record::Column::EventId.is_in(ids))
            .all(db)
            .await?;
        let mut by_event: std::collections::HashMap<i64, Vec<(String, i64)>> =
            std::collections::HashMap::new();
        for record in records {
            by_event.entry(record.event_id).or_default().push((record.entity_type, record.entity_id));
        }
        for row in batch {
            if row.prev_hash != expected_prev {
                return Ok(ChainReport::Broken {
                    event_id: row.id,
                    reason: "prev_hash does not match the previous event (an event was removed or reordered)"
                        .into(),
                });
            }
            let event = NewEvent {
                actor: row.actor,
                roles: row.roles,
                action: row.action,
                entity_type: row.entity_type,
                region_code: row.region_code,
                request_id: row.request_id,
                purpose: row.purpose,
                detail: row.detail,
                records: by_event.remove(&row.id).unwrap_or_default(),
            };
            if event_hash(&row.prev_hash, row.occurred_at, &event) != row.hash {
                return Ok(ChainReport::Broken {
                    event_id: row.id,
                    reason: "the event's content does not match its hash (it was altered)".into(),
                });
            }
            expected_prev = row.hash;
            events += 1;
        }
    }
    Ok(ChainReport::Intact { events })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> NewEvent {
        NewEvent {
            actor: "u1".into(),
            roles: "officer".into(),
            action: "READ".into(),
            entity_type: "volunteer".into(),
            region_code: "330902".into(),
            request_id: "r1".into(),
            purpose: Some("case review".into()),
            detail: None,
            records: vec![("volunteer".into(), 2), ("volunteer".into(), 1)],
        }
    }

    #[test]
    fn hash_covers_every_field_and_ignores_record_order() {
        let at = Utc::now().trunc_subsecs(6);
        let base = event_hash(GENESIS, at, &event());
        let mut reordered = event();
        reordered.records.reverse();
        assert_eq!(event_hash(GENESIS, at, &reordered), base);
        let mut changed = event();
        changed.purpose = None;
        assert_ne!(event_hash(GENESIS, at, &changed), base);
        let mut other_record = event();
        other_record.records[0].1 = 3;
        assert_ne!(event_hash(GENESIS, at, &other_record), base);
        assert_ne!(event_hash(&base, at, &event()), base);
    }
}
