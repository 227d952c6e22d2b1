//! Events through PostgreSQL `LISTEN`/`NOTIFY`: `pg_notify` issued in the committing transaction (PostgreSQL
//! delivers a notification only when its transaction commits, in commit order, and drops it on rollback), and
//! one listening connection per process, with a pool of its own so that it never takes a connection from the
//! request pool.
//!
//! Notifications are per database: processes on the same database share events, other databases' servers on
//! the same PostgreSQL server see none. `LISTEN` needs a session of its own, so it does not work through a
//! connection pooler in transaction mode; use `GOVGRAPH_EVENT_BUS=redis` there.

use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use tokio::sync::watch;

use super::{DomainEvent, EventBus, PublishError, RECONNECT_DELAY};

/// The notification channel of govgraph's events.
pub const CHANNEL: &str = "govgraph_events";

/// PostgreSQL refuses payloads of 8000 bytes and more.
const MAX_PAYLOAD_BYTES: usize = 7999;

fn statement(event: &DomainEvent) -> Result<Statement, DbErr> {
    let payload = event.to_json().map_err(|err| DbErr::Custom(format!("event encoding: {err}")))?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(DbErr::Custom(format!("an event of {} bytes is too large to notify", payload.len())));
    }
    Ok(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload.into()],
    ))
}

/// Issues the notifications of `events` in the transaction `txn`: they are delivered when it commits.
pub async fn notify_in<C: ConnectionTrait>(txn: &C, events: &[DomainEvent]) -> Result<(), DbErr> {
    for event in events {
        txn.execute_raw(statement(event)?).await?;
    }
    Ok(())
}

/// Notifies `events` at once (each statement commits by itself).
pub async fn notify<C: ConnectionTrait>(db: &C, events: &[DomainEvent]) -> Result<(), PublishError> {
    notify_in(db, events).await.map_err(PublishError::from)
}

/// Listens for the events of every process on the database of `pool` and hands them to `bus`'s subscribers,
/// reconnecting after a lost connection; `ready` tells whether it is listening. Runs until its runtime stops.
pub async fn listen(pool: PgPool, bus: EventBus, ready: watch::Sender<bool>) {
    // A pool of one connection with the request pool's settings, created lazily and separately so that the
    // listener neither waits for nor holds a request connection.
    let own = PgPoolOptions::new().max_connections(1).connect_lazy_with((*pool.connect_options()).clone());
    loop {
        match listen_once(&own, &bus, &ready).await {
            Ok(()) => {
                tracing::warn!(target: "govgraph::events", "the listening connection was lost; reconnecting")
            }
            Err(err) => tracing::warn!(
                target: "govgraph::events",
                error = %err,
                "cannot listen for events on PostgreSQL; retrying"
            ),
        }
        ready.send_replace(false);
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// One listening connection, until it is lost (`Ok`) or fails (`Err`).
async fn listen_once(
    pool: &PgPool,
    bus: &EventBus,
    ready: &watch::Sender<bool>,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Reconnecting is ours to do, so that `ready` tells the truth while the connection is down.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    ready.send_replace(true);
    while let Some(notification) = listener.try_recv().await? {
        bus.deliver_json(notification.payload());
    }
    Ok(())
}
