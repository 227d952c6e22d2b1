//! PostgreSQL's append of read events as one statement committed on its own: it takes the chain's lock, reads
//! the chain's end, links the events after it and inserts them with their records, where a transaction takes
//! five round trips (begin, lock, chain end, insert, commit).
//!
//! Linking after an end the statement reads itself means hashing in SQL: the server sends each event's
//! [`event_body`] and the statement computes `SHA-256(length of the previous hash, the previous hash, the body)`
//! event after event, as [`chain::link_hash`] does in Rust (the mutations' appends and `govgraph audit verify`
//! use that one; the tests check the two agree). The statement's snapshot is taken before it waits for the
//! lock, so the end it reads may be one that a mutation has since appended after. The unique index on
//! `prev_hash` (which, unlike the snapshot, sees what committed while the statement waited) then refuses the
//! first event and the statement writes nothing: [`Linked::ChainMoved`], and the caller tries again.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};

use super::chain::{self, CHAIN_LOCK, GENESIS, NewEvent, event_body};

/// What [`append_linked`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linked {
    /// The events are committed after the event whose hash was `prev_hash`; `last_hash` is the chain's new end.
    Appended { prev_hash: String, last_hash: String },
    /// Another writer appended after the end the statement saw: nothing was written.
    ChainMoved,
}

/// Appends `events` in order after the chain's end, on PostgreSQL, in one statement committed on its own. The
/// ids are drawn after the lock, in chain order, from the table's sequence; a sequence set back below the
/// chain's end is refused, never reordered.
pub async fn append_linked(db: &DatabaseConnection, events: Vec<NewEvent>) -> Result<Linked, DbErr> {
    if events.is_empty() {
        let end = chain::end_hash(db).await?;
        return Ok(Linked::Appended { prev_hash: end.clone(), last_hash: end });
    }
    let (events, records) = json_rows(events);
    let appended = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "WITH RECURSIVE \
                  chain_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($3) AS granted), \
                  chain_end AS MATERIALIZED ( \
                      SELECT coalesce((SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1), $4) AS hash \
                      FROM chain_lock), \
                  event AS MATERIALIZED ( \
                      SELECT e.* FROM jsonb_to_recordset($1::text::jsonb) AS e(position int, body text, \
                          occurred_at timestamptz, actor text, roles text, action text, entity_type text, \
                          region_code text, request_id text, purpose text, detail text)), \
                  linked (position, prev_hash, hash) AS ( \
                      SELECT -1, NULL::text, chain_end.hash::text FROM chain_end \
                      UNION ALL \
                      SELECT event.position, linked.hash, \
                             encode(sha256(int8send(octet_length(linked.hash)::int8) \
                                           || convert_to(linked.hash, 'UTF8') || decode(event.body, 'hex')), 'hex') \
                      FROM linked JOIN event ON event.position = linked.position + 1), \
                  ordered AS (SELECT linked.position, linked.prev_hash, linked.hash, event.occurred_at, event.actor, \
                                     event.roles, event.action, event.entity_type, event.region_code, \
                                     event.request_id, event.purpose, event.detail \
                              FROM linked JOIN event USING (position) ORDER BY linked.position), \
                  numbered AS MATERIALIZED ( \
                      SELECT nextval((SELECT pg_get_serial_sequence('audit_event', 'id')::regclass)) AS id, ordered.* \
                      FROM ordered), \
                  new_event AS ( \
                      INSERT INTO audit_event (id, occurred_at, actor, roles, action, entity_type, region_code, \
                                               request_id, purpose, detail, prev_hash, hash) \
                      SELECT CASE WHEN id > (SELECT coalesce(max(id), 0) FROM audit_event) THEN id \
                                  ELSE ('the audit_event id sequence (' || id || ') is behind the chain''s last \
                                         event')::bigint END, \
                             occurred_at, actor, roles, action, entity_type, region_code, request_id, purpose, \
                             detail, prev_hash, hash \
                      FROM numbered \
                      RETURNING id), \
                  new_record AS ( \
                      INSERT INTO audit_event_record (event_id, entity_type, entity_id) \
                      SELECT new_event.id, r.entity_type, r.entity_id \
                      FROM new_event JOIN numbered USING (id) \
                           JOIN jsonb_to_recordset($2::text::jsonb) AS r(position int, entity_type text, \
                                entity_id bigint) ON r.position = numbered.position) \
             SELECT (SELECT hash FROM chain_end) AS prev_hash, \
                    (SELECT hash FROM numbered ORDER BY position DESC LIMIT 1) AS last_hash",
            [events.into(), records.into(), CHAIN_LOCK.into(), GENESIS.into()],
        ))
        .await;
    match appended {
        Ok(Some(row)) => Ok(Linked::Appended {
            prev_hash: row.try_get_by_index::<String>(0)?,
            last_hash: row.try_get_by_index::<String>(1)?,
        }),
        Ok(None) => Err(DbErr::Custom("the audit append returned no row".into())),
        Err(err) if is_fork(&err) => Ok(Linked::ChainMoved),
        Err(err) => Err(err),
    }
}

/// The events (each with its `position` in the batch and its [`event_body`] in hex) and their records (each
/// with its event's position) as the two JSON arrays the statement reads with `jsonb_to_recordset`. Each
/// event's records are sorted and deduplicated, as its hash covers them.
fn json_rows(events: Vec<NewEvent>) -> (String, String) {
    let mut event_rows = Vec::with_capacity(events.len());
    let mut record_rows = Vec::new();
    for (position, event) in events.into_iter().enumerate() {
        let (occurred_at, event) = chain::stamped(event);
        for (entity_type, entity_id) in &event.records {
            record_rows.push(serde_json::json!({
                "position": position, "entity_type": entity_type, "entity_id": entity_id,
            }));
        }
        let mut object = chain::event_json(occurred_at, &event);
        object.insert("position".into(), position.into());
        object.insert("body".into(), hex::encode(event_body(occurred_at, &event)).into());
        event_rows.push(serde_json::Value::Object(object));
    }
    (serde_json::Value::Array(event_rows).to_string(), serde_json::Value::Array(record_rows).to_string())
}

/// Whether `err` is the unique index on `prev_hash` refusing a second successor of an event.
fn is_fork(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(message))
        if message.contains("uq-audit_event-prev_hash"))
}
