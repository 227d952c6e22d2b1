//! Group commit for read events: concurrent requests that returned protected fields share one transaction.
//!
//! Every append takes the chain's lock and ends in a durable commit, so one transaction per request caps the
//! server at one audited read per commit, however many cores and connections it has. Here a request queues its
//! events and waits; whichever request finds the writer free takes everything queued so far and writes it in
//! one transaction, then tells every waiter the outcome. Each request still answers only after its own events
//! are durably committed (a failed batch fails every request in it), and the chain stays one sequence because
//! the batch appends event by event under the same lock as the mutations' appends.
//!
//! On PostgreSQL a batch is one statement committed on its own, which reads the chain's end and links the
//! events after it ([`link::append_linked`]), where a transaction took five round trips (begin, lock, chain end,
//! insert, commit). When another writer (a mutation, another server) appended after the end that statement saw,
//! it writes nothing and the writer tries again; after a second miss it takes the lock first, as mutations do.
//! The end is read by the statement, not remembered, so a request's statements stay fixed by its shape whatever
//! was appended before it. SQLite's appends run in-process, in one `BEGIN IMMEDIATE` transaction.
//!
//! The write runs in its own task so that a request dropped mid-write (its client went away) cannot cancel
//! the transaction that other requests are waiting on. It goes through the pool of the request that took the
//! writer's turn: on PostgreSQL that is its HTTP worker's own (see [`crate::db::WorkerPools`]), whose answers
//! wake that worker directly.

use std::sync::{Arc, Mutex};

use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr};
use tokio::sync::oneshot;

use super::chain::{self, NewEvent};
use super::link::{self, Linked};

/// Most events written in one transaction; the rest wait for the next one.
const MAX_EVENTS_PER_BATCH: usize = 256;

/// Why a request's events were not recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupCommitError {
    #[error("the audit transaction failed: {message}")]
    Database {
        message: String,
        /// The database could not be reached (see [`crate::db::is_unavailable`]): worth retrying.
        unavailable: bool,
    },
    #[error("the audit writer stopped before confirming the events")]
    Abandoned,
}

impl GroupCommitError {
    /// Whether the events could not be written because the database could not be reached.
    pub fn unavailable(&self) -> bool {
        matches!(self, Self::Database { unavailable: true, .. })
    }
}

struct Pending {
    events: Vec<NewEvent>,
    done: oneshot::Sender<Result<(), GroupCommitError>>,
}

/// The queue and the writer's turn, shared by every worker of a server.
#[derive(Clone, Default)]
pub struct ReadAuditQueue {
    queue: Arc<Mutex<Vec<Pending>>>,
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for ReadAuditQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadAuditQueue").finish_non_exhaustive()
    }
}

impl ReadAuditQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `events` to the chain; returns once they are committed, possibly together with other
    /// requests' events. If this request takes the writer's turn, the batch is written through `db`.
    pub async fn record(
        &self,
        db: &DatabaseConnection,
        events: Vec<NewEvent>,
    ) -> Result<(), GroupCommitError> {
        if events.is_empty() {
            return Ok(());
        }
        let (done, mut outcome) = oneshot::channel();
        self.lock_queue().push(Pending { events, done });
        loop {
            tokio::select! {
                biased;
                result = &mut outcome => return result.unwrap_or(Err(GroupCommitError::Abandoned)),
                turn = self.writer.clone().lock_owned() => {
                    let batch = self.take_batch();
                    if batch.is_empty() {
                        // An earlier writer took our events; its outcome is on its way.
                        drop(turn);
                        continue;
                    }
                    let db = db.clone();
                    let write = tokio::spawn(async move {
                        let result = write_batch(&db, &batch).await.map_err(|err| GroupCommitError::Database {
                            message: err.to_string(),
                            unavailable: crate::db::is_unavailable(&err),
                        });
                        for pending in batch {
                            let _ = pending.done.send(result.clone());
                        }
                        drop(turn);
                    });
                    // The outcome arrives through `outcome`; a panicked write drops the senders, which reads
                    // as `Abandoned` there.
                    let _ = write.await;
                }
            }
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        // A poisoned queue only means a panic elsewhere while pushing; the vector itself is still whole.
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take_batch(&self) -> Vec<Pending> {
        let mut queue = self.lock_queue();
        let mut events = 0;
        let take = queue
            .iter()
            .take_while(|pending| {
                events += pending.events.len();
                events <= MAX_EVENTS_PER_BATCH || events == pending.events.len()
            })
            .count();
        queue.drain(..take).collect()
    }
}

/// Links a [`link::append_linked`] may try before the writer takes the chain's lock first.
const OPTIMISTIC_LINKS: usize = 2;

async fn write_batch(db: &DatabaseConnection, batch: &[Pending]) -> Result<(), DbErr> {
    let events: Vec<NewEvent> = batch.iter().flat_map(|pending| pending.events.iter().cloned()).collect();
    if db.get_database_backend() == DatabaseBackend::Postgres {
        for _ in 0..OPTIMISTIC_LINKS {
            if let Linked::Appended { .. } = link::append_linked(db, events.clone()).await? {
                return Ok(());
            }
        }
    }
    let txn = crate::db::begin_write(db).await?;
    chain::append_all(&txn, events).await?;
    txn.commit().await
}
