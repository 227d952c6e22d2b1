//! SQLite refuses over-long text as PostgreSQL does. PostgreSQL has always enforced every `varchar(N)`; SQLite
//! stores any length in any column, so a test suite green on SQLite proved nothing about lengths. Each table
//! gets the triggers of [`crate::helpers::enforce_text_lengths`]; tables created by later migrations call the
//! helper themselves.

use sea_orm_migration::prelude::*;

use crate::helpers::{drop_text_lengths, enforce_text_lengths};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every table of the earlier migrations with a `varchar(N)` column.
pub(crate) const TABLES: &[&str] = &[
    "region",
    "grid_team_member",
    "volunteer",
    "volunteer_team",
    "volunteer_team_membership",
    "volunteer_badge",
    "service_record",
    "care_subject",
    "mental_health_profile",
    "correction_profile",
    "youth_profile",
    "risk_assessment",
    "care_visit",
    "care_group_member",
    "mentor",
    "mentorship",
    "mentoring_session",
    "mentoring_outcome",
    "legal_aid_fund",
    "legal_aid_application",
    "ledger_entry",
    "audit_event",
    "audit_event_record",
    "service_rollup",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            enforce_text_lengths(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            drop_text_lengths(manager, table).await?;
        }
        Ok(())
    }
}
