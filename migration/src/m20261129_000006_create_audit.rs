//! The audit trail: one `audit_event` per read of protected fields or mutation, hash-chained, and one
//! `audit_event_record` per record an event touched, so "who read this person's record" is an index lookup.
//! Both tables are append-only at the database level, using the trigger function the legal-aid migration created.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{drop_append_only, foreign_key, index, make_append_only, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(big_pk_auto(AuditEvent::Id))
                    .col(timestamp_with_time_zone(AuditEvent::OccurredAt))
                    .col(string_len(AuditEvent::Actor, 64))
                    .col(string_len(AuditEvent::Roles, 255))
                    .col(string_len(AuditEvent::Action, 64))
                    .col(string_len(AuditEvent::EntityType, 64))
                    .col(string_len(AuditEvent::RegionCode, 32))
                    .col(string_len(AuditEvent::RequestId, 64))
                    .col(string_len_null(AuditEvent::Purpose, 255))
                    .col(text_null(AuditEvent::Detail))
                    // Hex SHA-256, like `hash`.
                    .col(string_len(AuditEvent::PrevHash, 64))
                    .col(string_len_uniq(AuditEvent::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(AuditEvent::Table, [AuditEvent::OccurredAt])).await?;
        manager.create_index(index(AuditEvent::Table, [AuditEvent::Actor, AuditEvent::OccurredAt])).await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEventRecord::Table)
                    .col(big_pk_auto(AuditEventRecord::Id))
                    .col(big_integer(AuditEventRecord::EventId))
                    .col(string_len(AuditEventRecord::EntityType, 64))
                    .col(big_integer(AuditEventRecord::EntityId))
                    .foreign_key(&mut foreign_key(
                        AuditEventRecord::Table,
                        AuditEventRecord::EventId,
                        AuditEvent::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        // Also serves "the records of an event".
        manager
            .create_index(unique_index(
                AuditEventRecord::Table,
                [AuditEventRecord::EventId, AuditEventRecord::EntityType, AuditEventRecord::EntityId],
            ))
            .await?;
        manager
            .create_index(index(
                AuditEventRecord::Table,
                [AuditEventRecord::EntityType, AuditEventRecord::EntityId],
            ))
            .await?;

        make_append_only(manager, "audit_event").await?;
        make_append_only(manager, "audit_event_record").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_append_only(manager, "audit_event_record").await?;
        drop_append_only(manager, "audit_event").await?;
        manager.drop_table(Table::drop().table(AuditEventRecord::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(AuditEvent::Table).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        // SQLite has transactional DDL too: a failed migration leaves nothing half-made on either backend.
        Some(true)
    }
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    OccurredAt,
    Actor,
    Roles,
    Action,
    EntityType,
    RegionCode,
    RequestId,
    Purpose,
    Detail,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditEventRecord {
    Table,
    Id,
    EventId,
    EntityType,
    EntityId,
}
