//! The govgraph database schema as sea-orm migrations, the only way the schema changes. The same migrations run
//! on SQLite and PostgreSQL; `Migrator::up` brings a database to the current schema and `Migrator::down` takes
//! every step back.
//!
//! The schema matches the entities in the `entities` crate table for table and column for column, and adds what
//! entities cannot say: CHECK constraints on every enumeration and range, named foreign keys that never cascade,
//! the indexes the API's lookups need, and append-only triggers on the ledger and the audit trail.
//!
//! Never edit a migration once released; add a new one.

// Re-exported, as in sea-orm's migration template, so that users need only this crate: `migration::MigratorTrait`.
pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261129_000001_create_regions;
mod m20261129_000002_create_volunteers;
mod m20261129_000003_create_care;
mod m20261129_000004_create_mentoring;
mod m20261129_000005_create_legal_aid;
mod m20261129_000006_create_audit;
mod m20261129_000007_unique_identities;
mod m20261129_000008_service_rollup;
mod m20261206_000009_text_lengths;
mod m20261206_000010_create_disputes;
mod m20261207_000010_disclosure_key;
mod m20261207_000030_create_stability;
mod m20261207_000040_service_rollup_pending;
mod m20261207_000050_audit_append_in_one_statement;

/// All migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_regions::Migration),
            Box::new(m20261129_000002_create_volunteers::Migration),
            Box::new(m20261129_000003_create_care::Migration),
            Box::new(m20261129_000004_create_mentoring::Migration),
            Box::new(m20261129_000005_create_legal_aid::Migration),
            Box::new(m20261129_000006_create_audit::Migration),
            Box::new(m20261129_000007_unique_identities::Migration),
            Box::new(m20261129_000008_service_rollup::Migration),
            Box::new(m20261206_000009_text_lengths::Migration),
            Box::new(m20261206_000010_create_disputes::Migration),
            Box::new(m20261207_000010_disclosure_key::Migration),
            Box::new(m20261207_000030_create_stability::Migration),
            Box::new(m20261207_000040_service_rollup_pending::Migration),
            Box::new(m20261207_000050_audit_append_in_one_statement::Migration),
        ]
    }
}
