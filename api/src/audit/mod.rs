//! The audit trail: who read whose protected fields, and every change, appended to a hash chain.
//!
//! - [`chain`] appends events and verifies the chain (`govgraph audit verify`);
//! - [`link`] appends read events on PostgreSQL in one statement;
//! - [`query`] is the `auditEvents` connection for auditors;
//! - [`record_reads`] writes the read events of one request, through [`group_commit`].

pub mod chain;
pub mod group_commit;
pub mod link;
pub mod query;

use sea_orm::DbErr;

use crate::auth::Viewer;
use crate::auth::viewer::ReadRecords;
pub use chain::NewEvent;
pub use group_commit::{GroupCommitError, ReadAuditQueue};

/// Writes the audit events of a request that returned protected fields in clear — one event per resource,
/// listing the ids of the records — or gave a partner statistics: one event per statistic, saying what was asked. Returns once they are committed (possibly with other requests' events).
pub async fn record_reads(
    queue: &ReadAuditQueue,
    db: &sea_orm::DatabaseConnection,
    viewer: &Viewer,
    reads: ReadRecords,
) -> Result<(), GroupCommitError> {
    let mut events = Vec::with_capacity(reads.records.len() + reads.statistics.len());
    for asked in reads.statistics {
        events.push(NewEvent {
            actor: viewer.subject().to_owned(),
            roles: viewer.role_names(),
            action: "READ".to_owned(),
            entity_type: "statistics".to_owned(),
            region_code: viewer.region_code().to_owned(),
            request_id: viewer.request_id.clone(),
            purpose: viewer.purpose.clone(),
            detail: Some(asked),
            records: Vec::new(),
        });
    }
    for (entity, ids) in reads.records {
        events.push(NewEvent {
            actor: viewer.subject().to_owned(),
            roles: viewer.role_names(),
            action: "READ".to_owned(),
            entity_type: entity.to_owned(),
            region_code: viewer.region_code().to_owned(),
            request_id: viewer.request_id.clone(),
            purpose: viewer.purpose.clone(),
            detail: Some(format!("fields up to {}", reads.most_protected.as_str())),
            records: ids.into_iter().map(|id| (entity.to_owned(), id)).collect(),
        });
    }
    queue.record(db, events).await
}

/// Appends the audit event of a change inside the transaction that makes it, so the change and its record
/// commit or roll back together.
pub async fn record_change<C: sea_orm::ConnectionTrait>(
    txn: &C,
    viewer: &Viewer,
    action: &str,
    resource: crate::auth::Resource,
    ids: impl IntoIterator<Item = i64>,
    detail: Option<String>,
) -> Result<(), DbErr> {
    let records: Vec<(&str, i64)> = ids.into_iter().map(|id| (resource.as_str(), id)).collect();
    record_change_about(txn, viewer, action, &records, detail).await
}

/// Appends the audit event of a change that concerns records of several kinds (an assessment and the person
/// assessed, a session and its mentorship), so that `auditEvents(filter: { about: … })` finds it from any of
/// them. The event's record type is that of the first record: the one created or changed.
pub async fn record_change_about<C: sea_orm::ConnectionTrait>(
    txn: &C,
    viewer: &Viewer,
    action: &str,
    records: &[(&str, i64)],
    detail: Option<String>,
) -> Result<(), DbErr> {
    let event = NewEvent {
        actor: viewer.subject().to_owned(),
        roles: viewer.role_names(),
        action: action.to_owned(),
        entity_type: records.first().map(|(kind, _)| (*kind).to_owned()).unwrap_or_default(),
        region_code: viewer.region_code().to_owned(),
        request_id: viewer.request_id.clone(),
        purpose: viewer.purpose.clone(),
        detail,
        records: records.iter().map(|(kind, id)| ((*kind).to_owned(), *id)).collect(),
    };
    chain::append(txn, event).await.map(|_| ())
}
