//! Opening the database: the embedded SQLite file by default, PostgreSQL when the URL says so.
//!
//! Statement logging is off: bound values are personal data and must never reach the logs. Every statement is
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
    let mut options = ConnectOptions::new(url.to_owned());
    if let Some(timeout) = statement_timeout
        && url.starts_with("postgres")
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
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
        });
    let mut db = Database::connect(options).await?;
    if let Some(counter) = counter {
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
        });
    }
    Ok(db)
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
