//! Domain events for live dispatch: what changed (a dispute reported, assigned, escalated…), where in the region
//! tree, and when, delivered to every server process's subscribers.
//!
//! A mutation announces its events through [`crate::frame`] (see [`crate::frame::Change::announcing`]); they
//! leave only when its transaction commits. Subscribers ([`EventBus::subscribe`]) get the events of one topic as
//! a stream. Which way events travel between processes is [`BusChoice`]:
//!
//! - **PostgreSQL** `LISTEN`/`NOTIFY` ([`postgres`]): the notification is issued inside the committing
//!   transaction, so a change and its events commit or roll back together, and no event is lost between the
//!   commit and a publish. Every process listens on one connection of its own.
//! - **Redis** pub/sub ([`redis`]): published right after the commit (a process that dies in between loses the
//!   event); every process subscribes on one connection of its own.
//! - **In process**: one process only (the embedded SQLite database without Redis).
//!
//! With `auto` (the default) PostgreSQL wins over Redis when the database is PostgreSQL, for its transactional
//! publishing; Redis is used when the database is SQLite and `REDIS_URL` is set.
//!
//! Delivery is at most once: a process whose listening connection is down misses what is published meanwhile,
//! and a subscriber that falls more than [`LOCAL_CAPACITY`] events behind is told how many it missed. Clients
//! re-read the current state after a reconnect or a gap.

pub mod postgres;
pub mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use futures_util::Stream;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::http::shared_store::SharedStore;

/// Events a process buffers for each of its subscribers; one that falls further behind misses the oldest.
pub const LOCAL_CAPACITY: usize = 1024;
/// How long a new subscription waits for the process's listening connection before it is refused.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between two attempts to open the listening connection.
pub const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Something that happened to a record, as live subscribers learn of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// The kind of record, e.g. `dispute`: subscribers ask for one topic.
    pub topic: String,
    /// What happened, e.g. `REPORTED`, `ASSIGNED`, `ESCALATED`.
    pub kind: String,
    /// The record's row id.
    pub record_id: i64,
    /// Materialized path of the record's region (`/330900/330921/…/`): subscribers see the events within their
    /// region scope.
    pub region_path: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

impl DomainEvent {
    /// An event of `topic` that happened now.
    pub fn now(topic: &str, kind: &str, record_id: i64, region_path: &str) -> Self {
        Self {
            topic: topic.to_owned(),
            kind: kind.to_owned(),
            record_id,
            region_path: region_path.to_owned(),
            occurred_at: Utc::now(),
        }
    }

    /// Code of the event's region: the last segment of its path.
    pub fn region_code(&self) -> &str {
        self.region_path.trim_end_matches('/').rsplit('/').next().unwrap_or_default()
    }

    /// Whether the event's region lies in the subtree of the region with materialized path `path`.
    pub fn within(&self, path: &str) -> bool {
        // Paths end with `/`, so a prefix is always a whole ancestor, never part of a sibling's code.
        path.ends_with('/') && self.region_path.starts_with(path)
    }

    fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// Which way events travel between server processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BusChoice {
    /// PostgreSQL when the database is PostgreSQL, else Redis when `REDIS_URL` is set, else in process.
    Auto,
    /// In this process only: subscribers of other processes see nothing.
    Memory,
    /// PostgreSQL `LISTEN`/`NOTIFY`, issued in the committing transaction (needs a PostgreSQL database).
    Postgres,
    /// Redis pub/sub, published after the commit (needs `REDIS_URL`).
    Redis,
}

/// How live events travel between processes.
#[derive(Debug, Clone, Args)]
pub struct EventBusArgs {
    /// How events reach the subscribers of every server process: `auto` uses PostgreSQL `LISTEN`/`NOTIFY` when
    /// the database is PostgreSQL (published in the committing transaction), else Redis pub/sub when `REDIS_URL`
    /// is set, else this process only.
    #[arg(long, env = "GOVGRAPH_EVENT_BUS", value_enum, default_value_t = BusChoice::Auto)]
    pub event_bus: BusChoice,
}

impl Default for EventBusArgs {
    fn default() -> Self {
        Self { event_bus: BusChoice::Auto }
    }
}

/// A bus that cannot be built as configured.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("GOVGRAPH_EVENT_BUS=postgres needs a PostgreSQL database")]
    NotPostgres,
    #[error("GOVGRAPH_EVENT_BUS=redis needs REDIS_URL")]
    NoRedis,
}

/// Why a subscription could not start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SubscribeError {
    #[error("live events are unavailable: the server is not listening for them; retry later")]
    NotListening,
}

/// Why events could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("Redis: {0}")]
    Redis(String),
    #[error("the event cannot be encoded: {0}")]
    Encoding(#[from] serde_json::Error),
}

/// Where this bus sends and receives events.
#[derive(Debug, Clone)]
enum Backend {
    Memory,
    Postgres { db: DatabaseConnection },
    Redis { shared: Arc<SharedStore> },
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct BusCounters {
    /// Events handed to the backend.
    pub published: AtomicU64,
    /// Events that could not be handed to it (after a commit: the change stands, the event is lost).
    pub publish_failed: AtomicU64,
    /// Events this process received for its subscribers.
    pub received: AtomicU64,
    /// Messages from the backend that were not events of ours.
    pub malformed: AtomicU64,
}

/// The event bus of one server process; clones share it.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    /// Every event this process receives, fanned out to its subscribers.
    local: broadcast::Sender<Arc<DomainEvent>>,
    /// Whether the listening connection is up; `None` until the first subscription starts it.
    listening: tokio::sync::Mutex<Option<watch::Receiver<bool>>>,
    counters: BusCounters,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus").field("backend", &self.backend_name()).finish_non_exhaustive()
    }
}

impl EventBus {
    fn new(backend: Backend) -> Self {
        let (local, _) = broadcast::channel(LOCAL_CAPACITY);
        Self {
            inner: Arc::new(Inner {
                backend,
                local,
                listening: tokio::sync::Mutex::new(None),
                counters: BusCounters::default(),
            }),
        }
    }

    /// A bus for this process alone.
    pub fn in_process() -> Self {
        Self::new(Backend::Memory)
    }

    /// The bus `args` ask for over `db`, with Redis from `shared` when configured. Nothing is connected yet: the
    /// listening connection opens with the first subscription.
    pub fn from_args(
        args: &EventBusArgs,
        db: &DatabaseConnection,
        shared: Option<Arc<SharedStore>>,
    ) -> Result<Self, BusError> {
        let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
        let backend = match (args.event_bus, postgres, shared) {
            (BusChoice::Memory, _, _) => Backend::Memory,
            (BusChoice::Postgres, false, _) => return Err(BusError::NotPostgres),
            (BusChoice::Postgres | BusChoice::Auto, true, _) => Backend::Postgres { db: db.clone() },
            (BusChoice::Redis, _, None) => return Err(BusError::NoRedis),
            (BusChoice::Redis | BusChoice::Auto, _, Some(shared)) => Backend::Redis { shared },
            (BusChoice::Auto, false, None) => Backend::Memory,
        };
        Ok(Self::new(backend))
    }

    /// `memory`, `postgres` or `redis`.
    pub fn backend_name(&self) -> &'static str {
        match self.inner.backend {
            Backend::Memory => "memory",
            Backend::Postgres { .. } => "postgres",
            Backend::Redis { .. } => "redis",
        }
    }

    /// The bus's counters.
    pub fn counters(&self) -> &BusCounters {
        &self.inner.counters
    }

    /// Subscriptions of this process currently receiving events (of any topic).
    pub fn local_subscribers(&self) -> usize {
        self.inner.local.receiver_count()
    }

    /// Publishes `events` now, outside any transaction (a mutation announces its events through
    /// [`crate::frame`] instead, so that they leave only with its commit).
    pub async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        let result = match &self.inner.backend {
            Backend::Memory => {
                self.deliver_all(events);
                Ok(())
            }
            Backend::Postgres { db } => postgres::notify(db, events).await,
            Backend::Redis { shared } => redis::publish(shared, events).await,
        };
        self.count_published(events.len(), result.is_ok());
        result
    }

    /// Announces `events` from inside the write transaction `txn`. On PostgreSQL the notifications are issued in
    /// `txn` and leave with its commit (or never); otherwise they wait in the returned [`Staged`] until
    /// [`Staged::committed`] is called after the commit. Dropping a `Staged` (the commit failed) publishes
    /// nothing.
    pub async fn stage<C: ConnectionTrait>(
        &self,
        txn: &C,
        events: Vec<DomainEvent>,
    ) -> Result<Staged, DbErr> {
        if events.is_empty() {
            return Ok(Staged { bus: self.clone(), events: Vec::new() });
        }
        if let Backend::Postgres { .. } = self.inner.backend {
            postgres::notify_in(txn, &events).await?;
            self.count_published(events.len(), true);
            return Ok(Staged { bus: self.clone(), events: Vec::new() });
        }
        Ok(Staged { bus: self.clone(), events })
    }

    /// The events of `topic` from now on. Starts this process's listening connection with its first subscription
    /// and waits (at most [`LISTEN_TIMEOUT`]) until it listens.
    pub async fn subscribe(
        &self,
        topic: &str,
    ) -> Result<impl Stream<Item = Received> + Send + 'static, SubscribeError> {
        self.ensure_listening().await?;
        let receiver = self.inner.local.subscribe();
        let topic = topic.to_owned();
        Ok(futures_util::stream::unfold(receiver, move |mut receiver| {
            let topic = topic.clone();
            async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) if event.topic == topic => return Some((Received::Event(event), receiver)),
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            return Some((Received::Missed(missed), receiver));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        }))
    }

    async fn ensure_listening(&self) -> Result<(), SubscribeError> {
        if let Backend::Memory = self.inner.backend {
            return Ok(());
        }
        let mut ready = {
            let mut slot = self.inner.listening.lock().await;
            match slot.as_ref() {
                // The listener task ended (its runtime shut down): start another.
                Some(ready) if ready.has_changed().is_ok() => ready.clone(),
                _ => {
                    let ready = self.start_listener();
                    *slot = Some(ready.clone());
                    ready
                }
            }
        };
        let waited = tokio::time::timeout(LISTEN_TIMEOUT, ready.wait_for(|listening| *listening)).await;
        match waited {
            Ok(Ok(_)) => Ok(()),
            _ => Err(SubscribeError::NotListening),
        }
    }

    /// Spawns the task that receives events from the backend; the receiver says whether it is listening.
    fn start_listener(&self) -> watch::Receiver<bool> {
        let (ready, listening) = watch::channel(false);
        let bus = self.clone();
        match &self.inner.backend {
            // Events of the in-process bus never leave it: nothing to listen to.
            Backend::Memory => {}
            Backend::Postgres { db } => {
                tokio::spawn(postgres::listen(db.get_postgres_connection_pool().clone(), bus, ready));
            }
            Backend::Redis { shared } => {
                tokio::spawn(redis::listen(shared.clone(), bus, ready));
            }
        }
        listening
    }

    /// Hands an event received from the backend (its JSON text) to this process's subscribers.
    fn deliver_json(&self, payload: &str) {
        match serde_json::from_str::<DomainEvent>(payload) {
            Ok(event) => self.deliver(event),
            Err(err) => {
                self.inner.counters.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target: "govgraph::events", error = %err, "ignored a message that is not an event");
            }
        }
    }

    fn deliver_all(&self, events: &[DomainEvent]) {
        for event in events {
            self.deliver(event.clone());
        }
    }

    fn deliver(&self, event: DomainEvent) {
        self.inner.counters.received.fetch_add(1, Ordering::Relaxed);
        // No receiver is not an error: nobody in this process is subscribed.
        let _ = self.inner.local.send(Arc::new(event));
    }

    fn count_published(&self, events: usize, ok: bool) {
        let counter = if ok { &self.inner.counters.published } else { &self.inner.counters.publish_failed };
        counter.fetch_add(u64::try_from(events).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// What a subscription receives.
#[derive(Debug, Clone)]
pub enum Received {
    /// An event of its topic.
    Event(Arc<DomainEvent>),
    /// It fell behind by this many events (of any topic), which it will never see.
    Missed(u64),
}

/// Events of a write transaction waiting for its commit (see [`EventBus::stage`]).
#[must_use = "events are published only by `committed()` after the commit"]
pub struct Staged {
    bus: EventBus,
    events: Vec<DomainEvent>,
}

impl Staged {
    /// Publishes the events once the transaction has committed. A failure is logged and counted, not returned:
    /// the change itself stands, and subscribers re-read the state after a gap.
    pub async fn committed(self) {
        if self.events.is_empty() {
            return;
        }
        if let Err(err) = self.bus.publish(&self.events).await {
            tracing::error!(
                target: "govgraph::events",
                error = %err,
                events = self.events.len(),
                "committed change's events could not be published"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn event(topic: &str, path: &str) -> DomainEvent {
        DomainEvent::now(topic, "REPORTED", 7, path)
    }

    #[test]
    fn paths_decide_the_subtree_and_the_region_code() {
        let e = event("dispute", "/330900/330921/330921102/");
        assert_eq!(e.region_code(), "330921102");
        assert!(e.within("/330900/"));
        assert!(e.within("/330900/330921/"));
        assert!(!e.within("/330900/33092/"));
        assert!(!e.within("/330900/330922/"));
        // A path without its final slash would match a sibling whose code it prefixes.
        assert!(!e.within("/330900/33092"));
    }

    #[test]
    fn events_round_trip_as_json() {
        let e = event("dispute", "/330900/");
        let json = e.to_json().unwrap_or_default();
        assert_eq!(serde_json::from_str::<DomainEvent>(&json).ok(), Some(e));
    }

    #[tokio::test]
    async fn the_in_process_bus_delivers_one_topic_to_each_subscriber() {
        let bus = EventBus::in_process();
        let first = bus.subscribe("dispute").await.map_err(|err| err.to_string());
        let second = bus.subscribe("dispute").await.map_err(|err| err.to_string());
        let (Ok(first), Ok(second)) = (first, second) else { panic!("subscriptions refused") };
        assert_eq!(bus.local_subscribers(), 2);
        let events = [event("other", "/330900/"), event("dispute", "/330900/330902/")];
        assert!(bus.publish(&events).await.is_ok());
        for stream in [first, second] {
            let mut stream = Box::pin(stream);
            match stream.next().await {
                Some(Received::Event(got)) => assert_eq!(got.region_path, "/330900/330902/"),
                other => panic!("expected the dispute event, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn staged_events_leave_only_when_committed() {
        let bus = EventBus::in_process();
        let Ok(stream) = bus.subscribe("dispute").await else { panic!("subscription refused") };
        let mut stream = Box::pin(stream);
        let db = crate::db::connect("sqlite::memory:", 1, None).await.unwrap();
        let dropped = bus.stage(&db, vec![event("dispute", "/330900/1/")]).await;
        drop(dropped);
        let kept = bus.stage(&db, vec![event("dispute", "/330900/2/")]).await;
        let Ok(kept) = kept else { panic!("staging failed") };
        kept.committed().await;
        match stream.next().await {
            Some(Received::Event(got)) => assert_eq!(got.region_path, "/330900/2/"),
            other => panic!("expected the committed event, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_how_many_it_missed() {
        let bus = EventBus::in_process();
        let Ok(stream) = bus.subscribe("dispute").await else { panic!("subscription refused") };
        let mut stream = Box::pin(stream);
        let events: Vec<DomainEvent> =
            (0..LOCAL_CAPACITY + 3).map(|_| event("dispute", "/330900/")).collect();
        assert!(bus.publish(&events).await.is_ok());
        assert!(matches!(stream.next().await, Some(Received::Missed(3))));
        assert!(matches!(stream.next().await, Some(Received::Event(_))));
    }

    #[tokio::test]
    async fn the_backend_follows_the_database_and_redis() {
        let sqlite = crate::db::connect("sqlite::memory:", 1, None).await.unwrap();
        let auto = EventBusArgs::default();
        assert!(EventBus::from_args(&auto, &sqlite, None).is_ok_and(|bus| bus.backend_name() == "memory"));
        let postgres = EventBusArgs { event_bus: BusChoice::Postgres };
        assert!(matches!(EventBus::from_args(&postgres, &sqlite, None), Err(BusError::NotPostgres)));
        let redis = EventBusArgs { event_bus: BusChoice::Redis };
        assert!(matches!(EventBus::from_args(&redis, &sqlite, None), Err(BusError::NoRedis)));
        let shared = SharedStore::open("redis://127.0.0.1:1", "t:").ok().map(Arc::new);
        assert!(EventBus::from_args(&auto, &sqlite, shared).is_ok_and(|bus| bus.backend_name() == "redis"));
    }
}
