//! The service rollup (`service_rollup`): per region — every grid and every ancestor of it — local day
//! (Asia/Shanghai) and activity, the number of service records and their minutes. The `SERVICE_RECORDS` and
//! `SERVICE_HOURS` measures read it: a figure grouped by districts reads the districts' rows only, however many
//! records there are.
//!
//! Every writer of service records calls [`add_service`] in its own transaction, which appends the records'
//! cells to `service_rollup_pending` rather than updating the rollup's rows: every record of a district adds to
//! the same city, district and township rows for its day and activity, and writers that updated them in place
//! queued on those rows. A [`Folder`] moves the pending cells into the rollup soon after they commit, in one
//! statement, and the statistics read the two tables together ([`rollup_cells!`]), so a figure equals the
//! row-level total whether or not a fold has run. [`rebuild`] recomputes the rollup wholesale (the demo seed),
//! and [`verify`] compares the rollup and its pending cells with a recomputation from the rows
//! (`govgraph stats verify`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{NaiveDate, TimeDelta};
use entities::service_record;
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, Value};
use tokio::sync::Notify;

use super::measures::numbered;

/// The Asia/Shanghai day a service started on (UTC+8, no daylight saving).
pub fn local_day(record: &service_record::Model) -> NaiveDate {
    (record.started_at + TimeDelta::hours(8)).date_naive()
}

/// Regions paired with each of their ancestors and themselves: `(grid_id, region_id)`.
fn ancestry() -> String {
    format!(
        "SELECT g.id AS grid_id, a.id AS region_id FROM region g JOIN region a ON {}",
        crate::scope::path_in_subtree_sql("g.path", "a.path")
    )
}

/// The rollup recomputed from the service records, as `region_id, day, activity, records, minutes`.
fn recomputed(backend: DatabaseBackend) -> String {
    let local_day = crate::sql::local_day(backend, "started_at");
    let ancestry = ancestry();
    format!(
        "SELECT x.region_id AS region_id, b.day AS day, b.activity AS activity, \
         CAST(SUM(b.records) AS BIGINT) AS records, CAST(SUM(b.minutes) AS BIGINT) AS minutes \
         FROM (SELECT grid_id, {local_day} AS day, activity, COUNT(*) AS records, SUM(minutes) AS minutes \
               FROM service_record GROUP BY grid_id, {local_day}, activity) b \
         JOIN ({ancestry}) x ON x.grid_id = b.grid_id \
         WHERE 1 = 1 \
         GROUP BY x.region_id, b.day, b.activity \
         ORDER BY x.region_id, b.day, b.activity"
    )
}

/// The rollup's cells as the statistics must see them, as a derived table of `region_id, day, activity,
/// records, minutes`: the folded rows and the pending ones (a cell may appear several times; readers sum).
/// The tables are those of [`ROLLUP_TABLES`].
#[macro_export]
macro_rules! rollup_cells {
    () => {
        "(SELECT region_id, day, activity, records, minutes FROM service_rollup \
         UNION ALL SELECT region_id, day, activity, records, minutes FROM service_rollup_pending)"
    };
}

/// The two tables whose rows together are the rollup's cells ([`rollup_cells!`]), for a reader that sums each
/// table apart and then adds the sums: SQLite materializes the derived table of both whole tables before it
/// joins them to the regions (0.58 s for a city-wide figure at scale 1), where each table alone is read through
/// its region index (4 ms).
pub const ROLLUP_TABLES: [&str; 2] = ["service_rollup", "service_rollup_pending"];

/// Adds freshly inserted service records to the rollup, in the caller's transaction, with one statement however
/// many records there are: the records' (grid, day, activity) cells climb the region tree by `parent_id` (a few
/// primary-key lookups per grid) and are appended to `service_rollup_pending`, one row per region. Appending
/// takes no lock another writer waits for; a [`Folder`] moves the rows into the rollup after the commit.
pub async fn add_service<C: ConnectionTrait>(
    conn: &C,
    records: &[service_record::Model],
) -> Result<(), DbErr> {
    let mut cells: BTreeMap<(i64, NaiveDate, String), (i64, i64)> = BTreeMap::new();
    for record in records {
        let cell = cells.entry((record.grid_id, local_day(record), record.activity.to_value())).or_default();
        cell.0 += 1;
        cell.1 += i64::from(record.minutes);
    }
    if cells.is_empty() {
        return Ok(());
    }
    let backend = conn.get_database_backend();
    let rows = vec!["(?, ?, ?, ?, ?)"; cells.len()].join(", ");
    let sql = numbered(
        backend,
        &format!(
            "WITH RECURSIVE cell (grid_id, day, activity, records, minutes) AS (VALUES {rows}), \
             up (grid_id, region_id) AS ( \
               SELECT id, id FROM region WHERE id IN (SELECT grid_id FROM cell) \
               UNION ALL \
               SELECT up.grid_id, r.parent_id FROM up JOIN region r ON r.id = up.region_id \
               WHERE r.parent_id IS NOT NULL) \
             INSERT INTO service_rollup_pending (region_id, day, activity, records, minutes) \
             SELECT up.region_id, cell.day, cell.activity, CAST(SUM(cell.records) AS BIGINT), \
             CAST(SUM(cell.minutes) AS BIGINT) \
             FROM cell JOIN up ON up.grid_id = cell.grid_id \
             GROUP BY up.region_id, cell.day, cell.activity"
        ),
    );
    let mut values: Vec<Value> = Vec::with_capacity(cells.len() * 5);
    for ((grid_id, day, activity), (records, minutes)) in cells {
        values.extend([grid_id.into(), day.into(), activity.into(), records.into(), minutes.into()]);
    }
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    Ok(())
}

/// The upsert that adds summed pending cells to the rollup; `source` yields `region_id, day, activity, records,
/// minutes`. The SELECT needs its WHERE so that SQLite reads the ON CONFLICT as the upsert, not as a join
/// condition; the cells are written in key order so that two folds never wait on each other crosswise.
fn add_to_rollup(source: &str) -> String {
    format!(
        "INSERT INTO service_rollup (region_id, day, activity, records, minutes) \
         SELECT region_id, day, activity, CAST(SUM(records) AS BIGINT), CAST(SUM(minutes) AS BIGINT) \
         FROM {source} WHERE 1 = 1 \
         GROUP BY region_id, day, activity ORDER BY region_id, day, activity \
         ON CONFLICT (region_id, day, activity) DO UPDATE SET \
         records = service_rollup.records + excluded.records, \
         minutes = service_rollup.minutes + excluded.minutes"
    )
}

/// Moves every committed pending cell into the rollup, atomically: a reader sees the cells either pending or
/// folded, never both or neither. Returns the number of rollup rows written. Several servers may fold at once:
/// on PostgreSQL each deletes the pending rows it moves, and a row another fold deleted first is skipped; on
/// SQLite the fold holds the database's write lock.
pub async fn fold(db: &DatabaseConnection) -> Result<u64, DbErr> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            // One statement: the rows deleted are exactly the rows added, whatever commits meanwhile.
            let moved = "(DELETE FROM service_rollup_pending \
                         RETURNING region_id, day, activity, records, minutes)";
            let sql = format!("WITH moved AS {moved} {}", add_to_rollup("moved"));
            Ok(db.execute_unprepared(&sql).await?.rows_affected())
        }
        _ => {
            let add = add_to_rollup("service_rollup_pending");
            crate::db::upkeep_in_one_transaction(db, &[&add, "DELETE FROM service_rollup_pending"]).await
        }
    }
}

/// How long a fold waits after the first write that asked for it, so that the writes of that moment share it.
const GATHER: Duration = Duration::from_millis(50);

/// How long a failed fold waits before it tries again.
const RETRY: Duration = Duration::from_secs(1);

/// Folds the pending cells into the rollup in the background, shortly after writes ask for it: one task per
/// server, started by the first request, that never holds up a writer. Its statements run on the server's pool
/// but outside the per-request statement count, which they are no part of.
#[derive(Clone)]
pub struct Folder(Arc<FolderState>);

struct FolderState {
    db: DatabaseConnection,
    wake: Notify,
    started: AtomicBool,
}

impl Folder {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self(Arc::new(FolderState {
            db: crate::db::uncounted(db),
            wake: Notify::new(),
            started: AtomicBool::new(false),
        }))
    }

    /// Asks for a fold soon; returns at once. A request during a fold gets a fold of its own after it.
    pub fn request(&self) {
        self.0.wake.notify_one();
        if !self.0.started.swap(true, Ordering::AcqRel) {
            let state = self.0.clone();
            tokio::spawn(async move {
                loop {
                    state.wake.notified().await;
                    tokio::time::sleep(GATHER).await;
                    match fold(&state.db).await {
                        Ok(written) => tracing::debug!(written, "service rollup: pending cells folded"),
                        // The cells stay pending, where the statistics still count them, until a later fold.
                        Err(err) => {
                            tracing::warn!(error = %err, "service rollup: fold failed; retrying in a second");
                            tokio::time::sleep(RETRY).await;
                            state.wake.notify_one();
                        }
                    }
                }
            });
        }
    }
}

/// The region levels whose cells are summed into their parents', from the bottom up.
const CHILD_LEVELS: [&str; 4] = ["GRID", "COMMUNITY", "TOWNSHIP", "DISTRICT"];

/// Recomputes the whole rollup from the service records, in the caller's transaction: the grids' cells from the
/// records, then each level's from the level below through `parent_id` (an equi-join, where [`verify`] joins every
/// region to its subtree by path, so the two are independent computations). Each statement writes its cells in
/// region order so that a region level's figures are read from few pages.
pub async fn rebuild<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    let backend = conn.get_database_backend();
    let local_day = crate::sql::local_day(backend, "started_at");
    conn.execute_unprepared("DELETE FROM service_rollup_pending").await?;
    conn.execute_unprepared("DELETE FROM service_rollup").await?;
    let grids = format!(
        "INSERT INTO service_rollup (region_id, day, activity, records, minutes) \
         SELECT grid_id, {local_day}, activity, COUNT(*), SUM(minutes) FROM service_record WHERE 1 = 1 \
         GROUP BY grid_id, {local_day}, activity ORDER BY grid_id, {local_day}, activity"
    );
    let mut written = conn.execute_unprepared(&grids).await?.rows_affected();
    for level in CHILD_LEVELS {
        // A parent reached from two levels (a grid hanging directly under a township) accumulates.
        let parents = format!(
            "INSERT INTO service_rollup (region_id, day, activity, records, minutes) \
             SELECT r.parent_id, t.day, t.activity, SUM(t.records), SUM(t.minutes) \
             FROM service_rollup t JOIN region r ON r.id = t.region_id \
             WHERE r.level = '{level}' AND r.parent_id IS NOT NULL \
             GROUP BY r.parent_id, t.day, t.activity ORDER BY r.parent_id, t.day, t.activity \
             ON CONFLICT (region_id, day, activity) DO UPDATE SET \
             records = service_rollup.records + excluded.records, \
             minutes = service_rollup.minutes + excluded.minutes"
        );
        written += conn.execute_unprepared(&parents).await?.rows_affected();
    }
    Ok(written)
}

/// A rollup cell's figures: records and minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub records: i64,
    pub minutes: i64,
}

/// A cell where the rollup and the recomputation disagree; `None` where one of them has no such cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub region_code: String,
    pub day: String,
    pub activity: String,
    pub stored: Option<Figures>,
    pub recomputed: Option<Figures>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |figures: Option<Figures>| match figures {
            Some(Figures { records, minutes }) => format!("{records} records, {minutes} minutes"),
            None => "no cell".to_owned(),
        };
        write!(
            f,
            "region {} day {} activity {}: rollup has {}, the service records give {}",
            self.region_code,
            self.day,
            self.activity,
            show(self.stored),
            show(self.recomputed)
        )
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Cells in the rollup.
    pub cells: i64,
    /// Service records summarised.
    pub records: i64,
    /// Every differing cell, ordered by region code, day and activity.
    pub differences: Vec<Difference>,
}

impl Report {
    /// Whether the rollup equals its recomputation.
    pub fn ok(&self) -> bool {
        self.differences.is_empty()
    }
}

async fn count<C: ConnectionTrait>(conn: &C, sql: &str) -> Result<i64, DbErr> {
    let backend = conn.get_database_backend();
    let row = conn.query_one_raw(Statement::from_string(backend, sql.to_owned())).await?;
    Ok(row.map(|row| row.try_get_by_index::<Option<i64>>(0)).transpose()?.flatten().unwrap_or(0))
}

/// Cells of `left` that `right` does not have with the same figures.
async fn one_sided<C: ConnectionTrait>(
    conn: &C,
    left: &str,
    right: &str,
) -> Result<Vec<(String, String, String, Figures)>, DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "SELECT r.code, CAST(d.day AS TEXT), d.activity, d.records, d.minutes \
         FROM ({left} EXCEPT {right}) d JOIN region r ON r.id = d.region_id"
    );
    let rows = conn.query_all_raw(Statement::from_string(backend, sql)).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get_by_index::<String>(0)?,
                row.try_get_by_index::<String>(1)?,
                row.try_get_by_index::<String>(2)?,
                Figures { records: row.try_get_by_index(3)?, minutes: row.try_get_by_index(4)? },
            ))
        })
        .collect()
}

/// Recomputes the rollup from the service records and compares it with the stored one, cell by cell.
pub async fn verify<C: ConnectionTrait>(conn: &C) -> Result<Report, DbErr> {
    let backend = conn.get_database_backend();
    let stored = concat!(
        "SELECT region_id, day, activity, CAST(SUM(records) AS BIGINT) AS records, ",
        "CAST(SUM(minutes) AS BIGINT) AS minutes FROM ",
        rollup_cells!(),
        " c GROUP BY region_id, day, activity"
    );
    let fresh = format!("SELECT region_id, day, activity, records, minutes FROM ({}) e", recomputed(backend));
    let mut cells: BTreeMap<(String, String, String), Difference> = BTreeMap::new();
    for (code, day, activity, figures) in one_sided(conn, stored, &fresh).await? {
        let key = (code.clone(), day.clone(), activity.clone());
        let entry = cells.entry(key).or_insert_with(|| Difference {
            region_code: code,
            day,
            activity,
            stored: None,
            recomputed: None,
        });
        entry.stored = Some(figures);
    }
    for (code, day, activity, figures) in one_sided(conn, &fresh, stored).await? {
        let key = (code.clone(), day.clone(), activity.clone());
        let entry = cells.entry(key).or_insert_with(|| Difference {
            region_code: code,
            day,
            activity,
            stored: None,
            recomputed: None,
        });
        entry.recomputed = Some(figures);
    }
    Ok(Report {
        cells: count(
            conn,
            concat!(
                "SELECT COUNT(*) FROM (SELECT DISTINCT region_id, day, activity FROM ",
                rollup_cells!(),
                " c) d"
            ),
        )
        .await?,
        records: count(conn, "SELECT COUNT(*) FROM service_record").await?,
        differences: cells.into_values().collect(),
    })
}
