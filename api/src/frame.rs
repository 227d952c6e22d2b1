//! The frame of every mutation: begin the write transaction, run the body (which checks scope through
//! [`crate::scope`] and writes), append the change's audit event in the same transaction, commit. A body that
//! fails rolls everything back, its audit event included; the caller re-reads what changed, as the caller may
//! see it, after the commit. Events the change announces to live subscribers ([`Change::announcing`]) leave
//! with the commit and never without it (see [`crate::events::EventBus::stage`]).

use sea_orm::DatabaseTransaction;

use crate::audit::record_change_about;
use crate::auth::Resource;
use crate::error::ApiError;
use crate::events::DomainEvent;
use crate::request::RequestData;

/// The audit event of a change: its action, the records it concerns (the one created or changed first) and an
/// optional detail; and the events it announces to live subscribers.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: &'static str,
    pub records: Vec<(&'static str, i64)>,
    pub detail: Option<String>,
    /// Published to live subscribers once the change is committed (none by default).
    pub events: Vec<DomainEvent>,
}

impl Change {
    /// A change of records of one kind.
    pub fn of(
        action: &'static str,
        resource: Resource,
        ids: impl IntoIterator<Item = i64>,
        detail: Option<String>,
    ) -> Self {
        Self {
            action,
            records: ids.into_iter().map(|id| (resource.as_str(), id)).collect(),
            detail,
            events: Vec::new(),
        }
    }

    /// A change that concerns records of several kinds (an assessment and the person assessed), so that the
    /// audit trail finds it from any of them.
    pub fn about(action: &'static str, records: &[(&'static str, i64)], detail: Option<String>) -> Self {
        Self { action, records: records.to_vec(), detail, events: Vec::new() }
    }

    /// The same change, announcing `events` to live subscribers when it commits (a dispute reported, assigned,
    /// escalated): `Outcome::Changed(value, Change::of(…).announcing([DomainEvent::now("dispute", "REPORTED",
    /// id, &region_path)]))`.
    pub fn announcing(mut self, events: impl IntoIterator<Item = DomainEvent>) -> Self {
        self.events.extend(events);
        self
    }
}

/// What a mutation's body did.
pub enum Outcome<T> {
    /// It wrote, and this is the change's audit event.
    Changed(T, Change),
    /// It wrote nothing: a retried request answered from what its first attempt wrote (idempotency keys).
    Unchanged(T),
}

/// Runs `body` in one write transaction and, when it changed something, appends the change's audit event in the
/// same transaction, stages its events and commits, then publishes the events; when it changed nothing, the
/// transaction is rolled back. Returns what the body returned.
pub async fn write<T>(
    request: &RequestData,
    body: impl AsyncFnOnce(&DatabaseTransaction) -> Result<Outcome<T>, ApiError>,
) -> Result<T, ApiError> {
    let txn = crate::db::begin_write(&request.db).await?;
    match body(&txn).await? {
        Outcome::Changed(value, change) => {
            record_change_about(&txn, &request.viewer, change.action, &change.records, change.detail).await?;
            let staged = request.events.stage(&txn, change.events).await?;
            txn.commit().await?;
            staged.committed().await;
            Ok(value)
        }
        Outcome::Unchanged(value) => {
            txn.rollback().await?;
            Ok(value)
        }
    }
}
