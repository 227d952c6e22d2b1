//! What lets an append of read events to the audit chain run as one statement on PostgreSQL (see
//! `audit::link::append_linked`).
//!
//! - **At most one successor per event**: a unique index on `audit_event.prev_hash`. The chain is a sequence only
//!   if no two events name the same predecessor. The chain's lock has always kept it so; with the index the
//!   database itself refuses a fork, so an append may link its events after the chain's end as it read it a moment
//!   before, without holding the lock in between: if another writer appended in the meantime, the insert collides here and writes nothing, and the
//!   server reads the new end and links again. A unique check sees rows committed after the statement's snapshot
//!   (which a `WHERE` comparing with the chain's end would not).
//! - **No foreign key from `audit_event_record` to `audit_event` on PostgreSQL.** Its check ran once per record
//!   row, half of the append's execution time (0.25 of 0.55 ms for the home screen's two events and fifteen
//!   records, measured with `EXPLAIN ANALYZE` on the benchmark's database), and it guards nothing the chain does
//!   not: records are written only in the statement that writes their event, no row of either table can be
//!   changed or deleted (the append-only triggers), each event's hash covers its records, and
//!   `govgraph audit verify` reports a record whose event does not exist. SQLite keeps the key: its checks run in
//!   process, and dropping one there means rebuilding the table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::helpers::{foreign_key, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    PrevHash,
}

#[derive(DeriveIden)]
enum AuditEventRecord {
    Table,
    EventId,
}

const RECORD_FOREIGN_KEY: &str = "fk-audit_event_record-event_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(unique_index(AuditEvent::Table, [AuditEvent::PrevHash])).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .drop_foreign_key(
                    ForeignKey::drop().name(RECORD_FOREIGN_KEY).table(AuditEventRecord::Table).to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .create_foreign_key(foreign_key(
                    AuditEventRecord::Table,
                    AuditEventRecord::EventId,
                    AuditEvent::Table,
                ))
                .await?;
        }
        manager
            .drop_index(Index::drop().name("uq-audit_event-prev_hash").table(AuditEvent::Table).to_owned())
            .await
    }
}
