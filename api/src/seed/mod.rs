//! Deterministic demo data at the scale of the report on Zhoushan (舟山市): the full region tree with its 2,143
//! grids and their teams, 22,000+ peace volunteers with a year of service records, the people under special
//! care, the youth mentoring programme and the three legal-aid funds with their ledger.
//!
//! The same [`SeedOptions`] always produce the same rows, byte for byte: all randomness comes from the seed's
//! own PRNG ([`rng`]), ids are assigned here rather than by the database, and every `created_at` is one instant
//! derived from `as_of` instead of the wall clock. The one exception is the ledger, whose `created_at` is the
//! moment the money moved, because it is the only time an entry has.
//!
//! Everything is written in a single transaction: seeding only ever fills an empty database, and if anything
//! fails the database is left empty, so the command can simply be run again.

mod care;
mod disputes;
mod grid_teams;
mod legal_aid;
mod mentoring;
mod names;
mod progress;
mod regions;
mod rng;
mod service;
mod stability;
mod volunteers;
mod write;

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QuerySelect,
    TransactionTrait,
};

use progress::Progress;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedOptions {
    /// Multiplies the number of people and records (volunteers, care subjects, mentors, applications…). The
    /// region tree is always complete. 1.0 reproduces the report's figures exactly.
    pub scale: f64,
    /// Seed of the PRNG: the same seed gives the same data.
    pub rng_seed: u64,
    /// The last day covered by the data; "now" for the demo.
    pub as_of: NaiveDate,
    /// Show progress bars on stderr.
    pub progress: bool,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            scale: 1.0,
            rng_seed: 20_170_919,
            as_of: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
            progress: false,
        }
    }
}

/// How many rows were written, and how long it took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// All rows of the `region` table, from the city down to the grids.
    pub regions: u64,
    /// The GRID rows among them.
    pub grids: u64,
    pub grid_team_members: u64,
    pub volunteers: u64,
    pub volunteer_teams: u64,
    pub service_records: u64,
    /// Care subjects of all three categories.
    pub care_subjects: u64,
    pub corrections_received: u64,
    pub corrections_released: u64,
    pub mentorships: u64,
    pub mentoring_outcomes: u64,
    pub applications: u64,
    pub ledger_entries: u64,
    pub disputes: u64,
    pub dispute_events: u64,
    /// Major projects, the 709 carried out after a completed stability assessment among them.
    pub major_projects: u64,
    pub elapsed: Duration,
}

/// Why seeding did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already holds data (region table is not empty); seed only fills an empty database")]
    NotEmpty,
    #[error("scale must be a finite number > 0 and <= 100, got {0}")]
    BadScale(f64),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Whether the database holds no region yet (every other table hangs off the region tree).
pub async fn is_empty(db: &DatabaseConnection) -> Result<bool, DbErr> {
    region_is_empty(db).await
}

async fn region_is_empty(db: &impl sea_orm::ConnectionTrait) -> Result<bool, DbErr> {
    let any = entities::region::Entity::find()
        .select_only()
        .column(entities::region::Column::Id)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(any.is_none())
}

/// Shared by all generators: the options and the instants derived from them.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub scale: f64,
    pub seed: u64,
    pub as_of: NaiveDate,
    /// The `created_at`/`updated_at` of every row: midnight at the end of `as_of`, China Standard Time.
    pub stamp: DateTime<Utc>,
}

impl Ctx {
    fn new(options: &SeedOptions) -> Self {
        Self {
            scale: options.scale,
            seed: options.rng_seed,
            as_of: options.as_of,
            stamp: local_time(options.as_of + TimeDelta::days(1), 0, 0),
        }
    }

    /// `n × scale`, rounded, for counts that may become zero at tiny scales.
    pub fn scaled(&self, n: u64) -> u64 {
        (n as f64 * self.scale).round() as u64
    }

    /// `n × scale`, rounded, but at least one: for the report's figures, which must exist at every scale.
    pub fn scaled_min1(&self, n: u64) -> u64 {
        self.scaled(n).max(1)
    }
}

/// A wall-clock time in Zhoushan (UTC+8, no daylight saving) as a UTC instant.
pub(crate) fn local_time(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let naive = date.and_hms_opt(hour.min(23), minute.min(59), 0).unwrap_or_default();
    naive.and_utc() - TimeDelta::hours(8)
}

/// Fills an empty database with the demo data. Refuses a database whose region table holds anything.
pub async fn seed(db: &DatabaseConnection, options: &SeedOptions) -> Result<SeedReport, SeedError> {
    let scale = options.scale;
    if !scale.is_finite() || scale <= 0.0 || scale > 100.0 {
        return Err(SeedError::BadScale(scale));
    }
    let started = Instant::now();
    let ctx = Ctx::new(options);
    let progress = Progress::new(options.progress);

    let txn = db.begin().await?;
    // Checked inside the transaction, so two concurrent seeds cannot both pass the check (the second fails on
    // the unique region codes and rolls back).
    if !region_is_empty(&txn).await? {
        return Err(SeedError::NotEmpty);
    }
    let cache = write::enlarge_sqlite_cache(&txn).await?;
    let filled = fill(&txn, &ctx, &progress).await;
    // The connection returns to the application's pool either way, so its cache size is put back first.
    write::restore_sqlite_cache(&txn, cache).await?;
    let mut report = filled?;
    txn.commit().await?;
    // Planner statistics for the fresh tables, so that the first statistics queries already read the service
    // rollup region by region instead of waiting for autovacuum; and the visibility map and hint bits set, so
    // that the first readers get index-only scans and do not each write the fresh pages back.
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("VACUUM (ANALYZE)").await?;
    }

    report.elapsed = started.elapsed();
    tracing::debug!(?report, "demo data seeded");
    Ok(report)
}

/// Generates and writes every table, parents before children.
async fn fill(txn: &DatabaseTransaction, ctx: &Ctx, progress: &Progress) -> Result<SeedReport, DbErr> {
    let mut report = SeedReport::default();
    let tree = regions::RegionTree::build(ctx);
    regions::insert(txn, ctx, &tree, progress, &mut report).await?;
    let teams = grid_teams::insert(txn, ctx, &tree, progress, &mut report).await?;

    // One registry of identity card numbers for everybody, so no two people share one.
    let mut ids = names::IdNumbers::new();
    let roster = volunteers::insert(txn, ctx, &tree, &mut ids, progress, &mut report).await?;
    service::insert(txn, ctx, &tree, &roster, progress, &mut report).await?;
    // The statistics read service records and hours from their rollup, summarised here in the same transaction.
    crate::statistics::rollup::rebuild(txn).await?;

    let next_subject_id = care::insert(txn, ctx, &tree, &teams, &mut ids, progress, &mut report).await?;
    mentoring::insert(txn, ctx, &tree, &mut ids, next_subject_id, progress, &mut report).await?;

    legal_aid::insert(txn, ctx, &tree, &mut ids, progress, &mut report).await?;
    disputes::insert(txn, ctx, &tree, &teams, &mut ids, progress, &mut report).await?;
    stability::insert(txn, ctx, &tree, progress, &mut report).await?;

    write::reset_sequences(txn).await?;
    Ok(report)
}
