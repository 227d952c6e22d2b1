//! Bulk writing: multi-row `INSERT`s sized to the bind-parameter limits of both databases, and the sequence
//! fix-up PostgreSQL needs after rows were inserted with explicit ids.

use indicatif::ProgressBar;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, IntoActiveModel,
    Iterable, Statement,
};

/// Bind parameters allowed in one statement: SQLite's limit is 32,766 (PostgreSQL's 65,535 is larger).
const MAX_BINDS: usize = 32_766;

/// Rows per statement beyond which larger statements stop paying off and only cost memory.
const MAX_ROWS: usize = 2_000;

/// How many rows of an entity fit into one `INSERT`: every column is one bind parameter per row.
pub fn rows_per_statement<E: EntityTrait>() -> usize {
    let columns = <E::Column as Iterable>::iter().count().max(1);
    (MAX_BINDS / columns).clamp(1, MAX_ROWS)
}

/// Inserts `models` in statements of [`rows_per_statement`] rows and advances `bar` by the rows written.
pub async fn insert_all<A, M>(
    txn: &DatabaseTransaction,
    models: Vec<M>,
    bar: &ProgressBar,
) -> Result<u64, DbErr>
where
    A: ActiveModelTrait + Send,
    M: IntoActiveModel<A> + Send,
{
    let per_statement = rows_per_statement::<A::Entity>();
    let mut written = 0u64;
    let mut rows = models.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> =
            rows.by_ref().take(per_statement).map(IntoActiveModel::into_active_model).collect();
        let n = chunk.len() as u64;
        <A::Entity as EntityTrait>::insert_many(chunk).exec_without_returning(txn).await?;
        written += n;
        bar.inc(n);
    }
    Ok(written)
}

/// Tables whose ids the seed assigns itself. On PostgreSQL their `bigserial` sequences still stand at 1
/// afterwards, and the first row the API inserts would collide with id 1.
const TABLES_WITH_EXPLICIT_IDS: [&str; 31] = [
    "region",
    "grid_team_member",
    "volunteer",
    "volunteer_team",
    "volunteer_team_membership",
    "volunteer_badge",
    "service_record",
    "care_subject",
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
    "mediation_boat",
    "mediator",
    "fishing_vessel",
    "dispute",
    "dispute_party",
    "dispute_vessel",
    "dispute_event",
    "responsible_unit",
    "major_project",
    "stability_assessment",
    "assessment_step",
    "mitigation_measure",
    "unit_veto",
];

/// Moves each id sequence past the largest id, on PostgreSQL only (SQLite's rowid needs no help).
pub async fn reset_sequences(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in TABLES_WITH_EXPLICIT_IDS {
        // `setval(NULL, …)` is a no-op, so a table without a serial id column is harmless here.
        let sql =
            format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))");
        txn.execute_unprepared(&sql).await?;
    }
    Ok(())
}

/// SQLite's page cache for the seeding connection, in KiB (a negative `cache_size`): large enough to hold the
/// indexes of the service records, so that the long write transaction does not spill pages to disk over and
/// over. Memory is only taken as pages are used.
const SQLITE_CACHE_KIB: i64 = 256 * 1024;

/// Enlarges the SQLite page cache of the transaction's connection; returns the previous setting, to restore
/// with [`restore_sqlite_cache`] (the connection goes back to the application's pool afterwards).
pub async fn enlarge_sqlite_cache(txn: &DatabaseTransaction) -> Result<Option<i64>, DbErr> {
    if txn.get_database_backend() != DbBackend::Sqlite {
        return Ok(None);
    }
    let previous = txn
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA cache_size"))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?;
    txn.execute_unprepared(&format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}")).await?;
    Ok(previous)
}

/// Puts back the page cache size [`enlarge_sqlite_cache`] replaced.
pub async fn restore_sqlite_cache(txn: &DatabaseTransaction, previous: Option<i64>) -> Result<(), DbErr> {
    if let Some(pages) = previous {
        txn.execute_unprepared(&format!("PRAGMA cache_size = {pages}")).await?;
    }
    Ok(())
}
