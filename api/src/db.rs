//! Opening the database: the embedded SQLite file by default, PostgreSQL when the URL says so.
//!
//! Statement logging is off: bound values are personal data and must never reach the logs (nor the traces, whose
//! statement spans carry the SQL text with its placeholders, see [`crate::telemetry`]). Every statement is
//! counted instead (`govgraph_sql_statements_total` in `/metrics`), which is how tests prove that the number of
//! statements a query issues does not grow with its page size.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Statement counters shared with `/metrics`.
#[derive(Debug, Default)]
pub struct StatementCounter {
    pub total: AtomicU64,
    pub failed: AtomicU64,
    pub micros: AtomicU64,
}

impl StatementCounter {
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// Connects and configures the pool. SQLite gets WAL (readers never wait for the writer), foreign keys on, and a
/// busy timeout so that concurrent writers queue instead of failing.
pub async fn connect(
    url: &str,
    max_connections: u32,
    counter: Option<Arc<StatementCounter>>,
) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, max_connections, counter, None).await
}

/// [`connect`] with a PostgreSQL `statement_timeout` on every pooled connection (ignored by SQLite, whose work
/// the request timeout bounds instead).
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    counter: Option<Arc<StatementCounter>>,
    statement_timeout: Option<Duration>,
) -> Result<DatabaseConnection, DbErr> {
    let mut db = Database::connect(connect_options(url, max_connections, statement_timeout)).await?;
    if let Some(counter) = counter {
        count_statements(&mut db, counter);
    }
    Ok(db)
}

/// Whether `url` names a PostgreSQL database (anything else is SQLite).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres")
}

fn connect_options(url: &str, max_connections: u32, statement_timeout: Option<Duration>) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    if let Some(timeout) = statement_timeout
        && is_postgres_url(url)
    {
        options.statement_timeout(timeout);
    }
    options
        .max_connections(max_connections.max(1))
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        // A ping on every checkout costs a round trip per statement; only a connection idle long enough to have
        // been dropped by the server or a firewall is tested.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        // sqlx's end-of-statement events (text and row counts, never the values) only feed the statement spans
        // of traces; without them they stay off.
        .sqlx_logging(crate::telemetry::enabled())
        .sqlx_logging_level(log::LevelFilter::Trace)
        .sqlx_slow_statements_logging_settings(log::LevelFilter::Trace, Duration::from_secs(1))
        // The statement spans get their text from `crate::telemetry::record_statement`, literals blanked.
        .record_stmt_in_spans(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
        });
    options
}

fn count_statements(db: &mut DatabaseConnection, counter: Arc<StatementCounter>) {
    db.set_metric_callback(move |info| {
        counter.total.fetch_add(1, Ordering::Relaxed);
        if info.failed {
            counter.failed.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(info.elapsed.as_micros()).unwrap_or(u64::MAX);
        counter.micros.fetch_add(micros, Ordering::Relaxed);
        // Off by default; `--log govgraph::sql=debug,info` shows each statement with its time, for finding
        // the one that makes a query slow.
        tracing::debug!(target: "govgraph::sql", micros, failed = info.failed, sql = %info.statement.sql);
        if crate::telemetry::enabled() {
            crate::telemetry::record_statement(info);
        }
    });
}

/// PostgreSQL pools of the HTTP workers' own, one per worker thread, opened by [`WorkerPools::open_here`].
///
/// A connection waits for its answers on the thread that opened it: with one pool for the whole server, a
/// statement's answer woke the thread that had opened the connection (the main thread, at start), which then
/// woke the worker waiting for it, two thread switches per statement. A worker whose pool it opened itself
/// reads its answers on its own thread. SQLite's connections each run on a thread of their own anyway, and an
/// in-memory SQLite database exists once per pool, so SQLite keeps the one pool.
pub struct WorkerPools {
    url: String,
    max_connections: u32,
    statement_timeout: Option<Duration>,
    counter: Option<Arc<StatementCounter>>,
    opened: std::sync::Mutex<Vec<DatabaseConnection>>,
}

impl WorkerPools {
    /// Pools of at most `max_connections` each for a PostgreSQL `url`; `None` for SQLite.
    pub fn new(
        url: &str,
        max_connections: u32,
        counter: Option<Arc<StatementCounter>>,
        statement_timeout: Option<Duration>,
    ) -> Option<Self> {
        is_postgres_url(url).then(|| Self {
            url: url.to_owned(),
            max_connections,
            statement_timeout,
            counter,
            opened: std::sync::Mutex::default(),
        })
    }

    /// A pool for the calling thread, its connections opened when first needed by the Tokio runtime the thread
    /// runs; `None` outside a runtime.
    pub fn open_here(&self) -> Option<DatabaseConnection> {
        use futures_util::FutureExt;
        tokio::runtime::Handle::try_current().ok()?;
        let mut options = connect_options(&self.url, self.max_connections, self.statement_timeout);
        options.connect_lazy(true);
        // A lazy pool is made without a round trip: the future is ready at its first poll.
        let mut db = Database::connect(options).now_or_never()?.ok()?;
        if let Some(counter) = &self.counter {
            count_statements(&mut db, counter.clone());
        }
        self.lock().push(db.clone());
        Some(db)
    }

    /// The pools opened so far, for `/metrics`.
    pub fn opened(&self) -> Vec<DatabaseConnection> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<DatabaseConnection>> {
        // A poisoned list only means a panic elsewhere while pushing; the vector itself is whole.
        self.opened.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether SQLite plans a cached statement once, whatever is bound to it: built with the query planner stability
/// guarantee (`SQLITE_ENABLE_QPSG`, see `.cargo/config.toml`). Without it SQLite 3.47 and later plan a statement
/// with a bound `LIMIT` again at every execution. `None` on PostgreSQL.
pub async fn sqlite_plans_are_stable(db: &DatabaseConnection) -> Result<Option<bool>, DbErr> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(None);
    }
    let options =
        db.query_all_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA compile_options")).await?;
    let mut stable = false;
    for row in options {
        stable |= row.try_get_by_index::<String>(0)? == "ENABLE_QPSG";
    }
    Ok(Some(stable))
}

/// Checks that the database answers.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}

/// Begins a transaction that will write. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`): a
/// deferred transaction that reads and then writes fails outright when another writer got in between.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

/// The id the next row of entity `E` will get, drawn inside the write transaction `conn`, so that a row whose
/// code derives from its id is inserted whole in one statement (no placeholder code that could collide or
/// overflow its column). PostgreSQL draws it from the table's own sequence, which concurrent writers never
/// share; SQLite's writers are serialized by [`begin_write`], so one past the largest id ever handed out (the
/// AUTOINCREMENT counter, or the largest id present) cannot be taken by anyone else before the insert.
pub async fn next_id<E: sea_orm::EntityTrait, C: sea_orm::ConnectionTrait>(conn: &C) -> Result<i64, DbErr> {
    use sea_orm::{DbBackend, Statement};
    let table = E::default().table_name().to_owned();
    let backend = conn.get_database_backend();
    let statement = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS next_id",
            [table.clone().into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            format!(
                r#"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0),
                              COALESCE((SELECT MAX(id) FROM "{table}"), 0)) + 1 AS next_id"#
            ),
            [table.clone().into()],
        ),
    };
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("no next id for {table}")))?;
    row.try_get::<i64>("", "next_id")
}

/// Applies the pending migrations and says so in one line: how many were applied and which (the names at debug
/// level). sea-orm-migration's own line per migration is below the default log level.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<usize, DbErr> {
    use sea_orm_migration::MigratorTrait;
    let pending: Vec<String> = migration::Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect();
    for name in &pending {
        tracing::debug!(migration = %name, "applying migration");
    }
    migration::Migrator::up(db, None).await?;
    match pending.last() {
        Some(last) => {
            tracing::info!(applied = pending.len(), schema = %last, "applied {} migration(s)", pending.len())
        }
        None => tracing::info!(applied = 0, "the database schema is up to date"),
    }
    Ok(pending.len())
}

/// Whether a database error means the database could not be reached or went away (connection refused or lost,
/// pool exhausted or closed, the server shutting down or refusing connections), rather than a fault of the
/// statement. The API answers those `UNAVAILABLE` (HTTP 503 with `Retry-After`), so that clients resend,
/// mutations with the same idempotency key.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;
    let sqlx_err = match err {
        // Whatever stops a connection from being opened or handed out.
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(sqlx_err)) | DbErr::Query(RuntimeErr::SqlxError(sqlx_err)) => {
            sqlx_err.as_ref()
        }
        _ => return false,
    };
    match sqlx_err {
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => true,
        SqlxError::Database(db_err) => {
            // Connection exceptions (class 08), the server shutting down or starting (57P01-57P03), too many
            // connections (53300).
            let code = db_err.code().unwrap_or_default();
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }
        _ => false,
    }
}

/// Locks the row `id` of entity `E` until the write transaction `conn` ends, so that a check over its children
/// ("the team is not full") and the insert that relies on it are not interleaved with another writer's. SQLite's
/// writers are serialized by [`begin_write`] already; PostgreSQL takes a row lock.
pub async fn lock_row<E: sea_orm::EntityTrait, C: sea_orm::ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<(), DbErr> {
    use sea_orm::{DbBackend, Statement};
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let table = E::default().table_name().to_owned();
    let sql = format!(r#"SELECT id FROM "{table}" WHERE id = $1 FOR UPDATE"#);
    conn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [id.into()])).await.map(|_| ())
}

/// Refuses with `CONFLICT` a child that would take `parent`'s list past `max` (the bound its field promises in
/// the schema), counting with `children` inside the write transaction after locking the parent's row.
pub async fn ensure_room<P, E, C>(
    conn: &C,
    parent: i64,
    children: sea_orm::Select<E>,
    max: u64,
    what: &str,
) -> Result<(), crate::error::ApiError>
where
    P: sea_orm::EntityTrait,
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::FromQueryResult + Send + Sync,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::PaginatorTrait;
    lock_row::<P, C>(conn, parent).await?;
    if children.count(conn).await? >= max {
        return Err(crate::error::ApiError::Conflict(format!("{what} has the most it may have ({max})")));
    }
    Ok(())
}

/// A connection over the same pool as `db` that leaves the statement counters alone: for background work (the
/// service rollup's folds) that belongs to no request, whose statements would otherwise be counted into
/// whichever request happened to run beside them.
pub fn uncounted(db: &DatabaseConnection) -> DatabaseConnection {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(db.get_postgres_connection_pool().clone())
        }
        _ => sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(db.get_sqlite_connection_pool().clone()),
    }
}

/// Runs `statements` in one write transaction and returns the number of rows the first one affected: for the
/// server's own upkeep of derived data (the service rollup's folds), which changes no record and so is no
/// mutation. Mutations run in `crate::frame::write`, with their audit event.
pub async fn upkeep_in_one_transaction(db: &DatabaseConnection, statements: &[&str]) -> Result<u64, DbErr> {
    use sea_orm::ConnectionTrait;
    let txn = begin_write(db).await?;
    let mut first = None;
    for statement in statements {
        let affected = txn.execute_unprepared(statement).await?.rows_affected();
        first.get_or_insert(affected);
    }
    txn.commit().await?;
    Ok(first.unwrap_or(0))
}
