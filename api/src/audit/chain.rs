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
pub(super) const CHAIN_LOCK: i64 = 0x676f_7667_7261_7068; // "govgraph"

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
/// can share an encoding. The previous event's hash comes first, then [`event_body`].
pub fn event_hash(prev_hash: &str, occurred_at: DateTime<Utc>, event: &NewEvent) -> String {
    link_hash(prev_hash, &event_body(occurred_at, event))
}

/// An event's hash from the previous event's and its own [`event_body`]. PostgreSQL's one-statement append
/// ([`super::link`]) computes the same in SQL, because there the previous hash is read by the statement itself.
pub(super) fn link_hash(prev_hash: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update((prev_hash.len() as u64).to_be_bytes());
    hasher.update(prev_hash.as_bytes());
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Every field of an event but its predecessor's hash, each as its length in bytes (8, big-endian) then its
/// UTF-8 bytes, the records sorted: what the hash covers after the previous hash.
pub(super) fn event_body(occurred_at: DateTime<Utc>, event: &NewEvent) -> Vec<u8> {
    let mut body = Vec::with_capacity(256 + 24 * event.records.len());
    let mut field = |value: &str| {
        body.extend_from_slice(&(value.len() as u64).to_be_bytes());
        body.extend_from_slice(value.as_bytes());
    };
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
    body
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
    let count =
        i64::try_from(events.len()).map_err(|_| DbErr::Custom("too many audit events at once".into()))?;
    let postgres = txn.get_database_backend() == DatabaseBackend::Postgres;
    let (ids, last_hash) = if postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [CHAIN_LOCK.into()],
        ))
        .await?;
        postgres_chain_end_and_new_ids(txn, count).await?
    } else {
        sqlite_chain_end_and_new_ids(txn, count).await?
    };
    let rows = chained_rows(&ids, last_hash, events);
    if postgres {
        postgres_insert(txn, &rows).await?;
    } else {
        sqlite_insert(txn, rows).await?;
    }
    Ok(ids)
}

/// The chain's last hash and `count` new ids counting on from its last event: SQLite's write transaction
/// holds the whole database, so nothing else can take them.
async fn sqlite_chain_end_and_new_ids<C: ConnectionTrait>(
    txn: &C,
    count: i64,
) -> Result<(Vec<i64>, String), DbErr> {
    let last = crate::scope::unscoped::<audit_event::Entity>(crate::scope::Unscoped::AuditChain)
        .select_only()
        .column(audit_event::Column::Id)
        .column(audit_event::Column::Hash)
        .order_by_desc(audit_event::Column::Id)
        .limit(1)
        .into_tuple::<(i64, String)>()
        .one(txn)
        .await?;
    let (last_id, last_hash) = last.unwrap_or_else(|| (0, GENESIS.to_owned()));
    Ok(((1..=count).map(|k| last_id + k).collect(), last_hash))
}

/// An event with its place in the chain fixed: id, time and hashes.
struct ChainedEvent {
    id: i64,
    occurred_at: DateTime<Utc>,
    prev_hash: String,
    hash: String,
    event: NewEvent,
}

/// An event as it is written: its records sorted and deduplicated (its hash covers them), and the time it
/// occurred, to the microsecond the database keeps.
pub(super) fn stamped(mut event: NewEvent) -> (DateTime<Utc>, NewEvent) {
    event.records.sort();
    event.records.dedup();
    (Utc::now().trunc_subsecs(6), event)
}

/// Links `events` after the event whose hash is `prev_hash`, giving them `ids` in order.
fn chained_rows(ids: &[i64], mut prev_hash: String, events: Vec<NewEvent>) -> Vec<ChainedEvent> {
    events
        .into_iter()
        .zip(ids)
        .map(|(event, &id)| {
            let (occurred_at, event) = stamped(event);
            let hash = event_hash(&prev_hash, occurred_at, &event);
            let prev_hash = std::mem::replace(&mut prev_hash, hash.clone());
            ChainedEvent { id, occurred_at, prev_hash, hash, event }
        })
        .collect()
}

/// The chain's last id and hash and `count` new ids, in one statement taken after the chain's lock (a separate
/// statement, so that its snapshot sees every append committed before the lock was granted). The ids come from
/// the table's sequence, sorted (a set-returning query promises no row order), so rows inserted any other way
/// never collide with them. A sequence reset below the chain's end would interleave new events with old ones:
/// that is refused, never reordered.
async fn postgres_chain_end_and_new_ids<C: ConnectionTrait>(
    txn: &C,
    count: i64,
) -> Result<(Vec<i64>, String), DbErr> {
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "WITH chain_end AS (SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1), \
                  new_id AS (SELECT nextval((SELECT pg_get_serial_sequence('audit_event', 'id')::regclass)) AS id \
                             FROM generate_series(1, $1)) \
             SELECT new_id.id, chain_end.id, chain_end.hash \
             FROM new_id LEFT JOIN chain_end ON true ORDER BY new_id.id",
            [count.into()],
        ))
        .await?;
    let ids = rows.iter().map(|row| row.try_get_by_index::<i64>(0)).collect::<Result<Vec<_>, _>>()?;
    // Every row carries the same chain end (none before the first event).
    let (last_id, last_hash) = match rows.first() {
        Some(row) => (
            row.try_get_by_index::<Option<i64>>(1)?.unwrap_or(0),
            row.try_get_by_index::<Option<String>>(2)?.unwrap_or_else(|| GENESIS.to_owned()),
        ),
        None => (0, GENESIS.to_owned()),
    };
    if ids.first().is_some_and(|&first| first <= last_id) {
        return Err(DbErr::Custom(format!(
            "the audit_event id sequence ({}) is behind the chain's last event ({last_id})",
            ids[0]
        )));
    }
    Ok((ids, last_hash))
}

/// Inserts the events and their records with one statement whose text never changes (the rows travel as two
/// JSON parameters), so every connection prepares and plans it once, whatever the number of events.
async fn postgres_insert<C: ConnectionTrait>(txn: &C, rows: &[ChainedEvent]) -> Result<(), DbErr> {
    let (events, records) = postgres_json_rows(rows);
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "WITH new_event AS ( \
             INSERT INTO audit_event (id, occurred_at, actor, roles, action, entity_type, region_code, request_id, \
                                      purpose, detail, prev_hash, hash) \
             SELECT id, occurred_at, actor, roles, action, entity_type, region_code, request_id, purpose, detail, \
                    prev_hash, hash \
             FROM jsonb_to_recordset($1::text::jsonb) AS e(id bigint, occurred_at timestamptz, actor text, \
                  roles text, action text, entity_type text, region_code text, request_id text, purpose text, \
                  detail text, prev_hash text, hash text)) \
         INSERT INTO audit_event_record (event_id, entity_type, entity_id) \
         SELECT event, entity_type, entity_id \
         FROM jsonb_to_recordset($2::text::jsonb) AS r(event bigint, entity_type text, entity_id bigint)",
        [events.into(), records.into()],
    ))
    .await?;
    Ok(())
}

/// The events and their records as the two JSON arrays the insert statement reads with `jsonb_to_recordset`:
/// each event with its `id`, each record with `event`, its event's id.
fn postgres_json_rows(rows: &[ChainedEvent]) -> (String, String) {
    let events: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let mut object = event_json(row.occurred_at, &row.event);
            object.insert("id".into(), row.id.into());
            object.insert("prev_hash".into(), row.prev_hash.clone().into());
            object.insert("hash".into(), row.hash.clone().into());
            serde_json::Value::Object(object)
        })
        .collect();
    let records: Vec<serde_json::Value> = rows
        .iter()
        .flat_map(|row| {
            row.event.records.iter().map(move |(entity_type, entity_id)| {
                serde_json::json!({ "event": row.id, "entity_type": entity_type, "entity_id": entity_id })
            })
        })
        .collect();
    (serde_json::Value::Array(events).to_string(), serde_json::Value::Array(records).to_string())
}

/// An event's own columns as a JSON object for `jsonb_to_recordset`, to which each of PostgreSQL's append
/// statements adds the keys that place the event in the chain.
pub(super) fn event_json(
    occurred_at: DateTime<Utc>,
    event: &NewEvent,
) -> serde_json::Map<String, serde_json::Value> {
    let text = |value: &str| serde_json::Value::from(value);
    serde_json::Map::from_iter([
        ("occurred_at".to_owned(), text(&occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))),
        ("actor".to_owned(), text(&event.actor)),
        ("roles".to_owned(), text(&event.roles)),
        ("action".to_owned(), text(&event.action)),
        ("entity_type".to_owned(), text(&event.entity_type)),
        ("region_code".to_owned(), text(&event.region_code)),
        ("request_id".to_owned(), text(&event.request_id)),
        ("purpose".to_owned(), event.purpose.as_deref().map_or(serde_json::Value::Null, text)),
        ("detail".to_owned(), event.detail.as_deref().map_or(serde_json::Value::Null, text)),
    ])
}

/// Inserts the events, then their records, in multi-row statements of bounded size (SQLite caps a statement's
/// parameters).
async fn sqlite_insert<C: ConnectionTrait>(txn: &C, rows: Vec<ChainedEvent>) -> Result<(), DbErr> {
    let record_rows: Vec<audit_event_record::ActiveModel> = rows
        .iter()
        .flat_map(|row| {
            row.event.records.iter().map(|(entity_type, entity_id)| audit_event_record::ActiveModel {
                id: NotSet,
                event_id: Set(row.id),
                entity_type: Set(entity_type.clone()),
                entity_id: Set(*entity_id),
            })
        })
        .collect();
    let mut event_rows = rows
        .into_iter()
        .map(|row| audit_event::ActiveModel {
            id: Set(row.id),
            occurred_at: Set(row.occurred_at),
            actor: Set(row.event.actor),
            roles: Set(row.event.roles),
            action: Set(row.event.action),
            entity_type: Set(row.event.entity_type),
            region_code: Set(row.event.region_code),
            request_id: Set(row.event.request_id),
            purpose: Set(row.event.purpose),
            detail: Set(row.event.detail),
            prev_hash: Set(row.prev_hash),
            hash: Set(row.hash),
        })
        .peekable();
    while event_rows.peek().is_some() {
        let chunk: Vec<audit_event::ActiveModel> = event_rows.by_ref().take(1000).collect();
        audit_event::Entity::insert_many(chunk).exec_without_returning(txn).await?;
    }
    let mut record_rows = record_rows.into_iter().peekable();
    while record_rows.peek().is_some() {
        let chunk: Vec<audit_event_record::ActiveModel> = record_rows.by_ref().take(2000).collect();
        audit_event_record::Entity::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// The hash of the chain's last event as the database has it now ([`GENESIS`] when there is none).
pub async fn end_hash<C: ConnectionTrait>(db: &C) -> Result<String, DbErr> {
    let last = crate::scope::unscoped::<audit_event::Entity>(crate::scope::Unscoped::AuditChain)
        .select_only()
        .column(audit_event::Column::Hash)
        .order_by_desc(audit_event::Column::Id)
        .limit(1)
        .into_tuple::<String>()
        .one(db)
        .await?;
    Ok(last.unwrap_or_else(|| GENESIS.to_owned()))
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
        let batch = crate::scope::unscoped::<audit_event::Entity>(crate::scope::Unscoped::AuditChain)
            .filter(audit_event::Column::Id.gt(after))
            .order_by_asc(audit_event::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let ids: Vec<i64> = batch.iter().map(|event| event.id).collect();
        let records =
            crate::scope::unscoped::<audit_event_record::Entity>(crate::scope::Unscoped::AuditChain)
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
    // On PostgreSQL no foreign key keeps records to existing events (see the migration
    // m20261207_000050_audit_append_in_one_statement); a record planted ahead of its event would be taken into
    // that event's hash when it comes, so one is reported here.
    let orphan = crate::scope::unscoped::<audit_event_record::Entity>(crate::scope::Unscoped::AuditChain)
        .select_only()
        .column(audit_event_record::Column::EventId)
        .filter(
            audit_event_record::Column::EventId.not_in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(audit_event::Column::Id)
                    .from(audit_event::Entity)
                    .to_owned(),
            ),
        )
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    if let Some(event_id) = orphan {
        return Ok(ChainReport::Broken {
            event_id,
            reason:
                "a record names an event that is not in the chain (records are written only with their event)"
                    .into(),
        });
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
