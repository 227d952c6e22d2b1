//! A pooled connection goes back to its pool without a round trip of its own, and never dirty.
//!
//! sqlx pings every connection as it returns to the pool (on PostgreSQL a `Sync` message and the wait for its
//! answer), so each statement cost two round trips. The pool we build on (`vendor/sqlx-core`, see its
//! `PATCHED.md`) only flushes on release: whatever a connection still owes (a statement given up midway, the
//! `ROLLBACK` of a transaction dropped without its commit) is sent and its answers drained before anyone else
//! gets the connection; a connection with nothing outstanding goes back as it is. These tests hold a pool of one
//! connection, so every statement reuses the connection the previous one left.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use govgraph_tests::TestDb;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn one_connection_pool(url: &str) -> DatabaseConnection {
    govgraph::db::connect(url, 1, None).await.expect("connect")
}

fn statement(db: &DatabaseConnection, sql: &str) -> Statement {
    Statement::from_string(db.get_database_backend(), sql)
}

async fn answer(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(statement(db, sql)).await.expect("the statement runs").expect("one row");
    row.try_get_by_index::<i64>(0).expect("an integer")
}

/// A statement that keeps its connection busy for a few hundred milliseconds on either database.
fn slow_statement(db: &DatabaseConnection) -> Statement {
    statement(
        db,
        match db.get_database_backend() {
            DatabaseBackend::Postgres => "SELECT CAST(pg_sleep(0.4) IS NULL AS INTEGER)",
            _ => {
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) \
                 SELECT COUNT(*) FROM n"
            }
        },
    )
}

#[tokio::test]
async fn a_statement_given_up_midway_does_not_leak_into_the_next_one() {
    let test_db = TestDb::create().await;
    let db = one_connection_pool(&test_db.url).await;
    let given_up =
        tokio::time::timeout(Duration::from_millis(30), db.query_one_raw(slow_statement(&db))).await;
    assert!(given_up.is_err(), "the slow statement was still running when it was given up");
    // The only connection still owes the slow statement's answers: the next statement waits for them to be
    // drained and then gets its own.
    assert_eq!(answer(&db, "SELECT CAST(42 AS BIGINT)").await, 42);
    assert_eq!(answer(&db, "SELECT CAST(43 AS BIGINT)").await, 43);
    db.close().await.ok();
}

#[tokio::test]
async fn a_transaction_dropped_without_its_commit_is_rolled_back_before_the_connection_is_reused() {
    let test_db = TestDb::create().await;
    let db = one_connection_pool(&test_db.url).await;
    db.execute_raw(statement(&db, "CREATE TABLE pool_release_probe (x BIGINT NOT NULL)")).await.unwrap();
    {
        let txn = db.begin().await.unwrap();
        txn.execute_raw(statement(&db, "INSERT INTO pool_release_probe (x) VALUES (1)")).await.unwrap();
        // Dropped here: no commit.
    }
    assert_eq!(answer(&db, "SELECT COUNT(*) FROM pool_release_probe").await, 0);
    // The connection is out of that transaction: what it writes now is committed on its own and stays.
    db.execute_raw(statement(&db, "INSERT INTO pool_release_probe (x) VALUES (2)")).await.unwrap();
    let other = one_connection_pool(&test_db.url).await;
    assert_eq!(answer(&other, "SELECT CAST(COALESCE(SUM(x), 0) AS BIGINT) FROM pool_release_probe").await, 2);
    // And a new transaction on it begins and commits normally.
    let txn = db.begin().await.unwrap();
    txn.execute_raw(statement(&db, "INSERT INTO pool_release_probe (x) VALUES (3)")).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(answer(&other, "SELECT CAST(COALESCE(SUM(x), 0) AS BIGINT) FROM pool_release_probe").await, 5);
    db.close().await.ok();
    other.close().await.ok();
}

/// PostgreSQL only (SQLite runs in the process, with no messages to count): the connection talks to the
/// database through a proxy that counts the `Sync` messages it sends, one per round trip of the extended query
/// protocol. Ten executions of a prepared statement must cost ten, not twenty.
#[tokio::test]
async fn a_statement_costs_one_round_trip_including_its_connections_return_to_the_pool() {
    let test_db = TestDb::create().await;
    if !test_db.url.starts_with("postgres") {
        return;
    }
    let proxy = SyncCounter::start(&test_db.url).await;
    let db = one_connection_pool(&proxy.url).await;
    // The first execution also prepares the statement.
    assert_eq!(answer(&db, "SELECT CAST(7 AS BIGINT)").await, 7);
    let settled = proxy.settled().await;
    for _ in 0..10 {
        assert_eq!(answer(&db, "SELECT CAST(7 AS BIGINT)").await, 7);
    }
    assert_eq!(proxy.settled().await - settled, 10, "round trips for ten executions");
    db.close().await.ok();
}

/// A TCP proxy in front of the test's PostgreSQL that counts the frontend's `Sync` messages.
struct SyncCounter {
    url: String,
    syncs: Arc<AtomicU64>,
}

impl SyncCounter {
    async fn start(url: &str) -> SyncCounter {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (user, after_user) = rest.rsplit_once('@').unwrap_or(("", rest));
        let (server, path) = after_user.split_once('/').expect("a database in the URL");
        let server = server.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        let syncs = Arc::new(AtomicU64::new(0));
        let counter = syncs.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = TcpStream::connect(&server).await.unwrap();
                tokio::spawn(relay(client, upstream, counter.clone()));
            }
        });
        let user = if user.is_empty() { String::new() } else { format!("{user}@") };
        let separator = if path.contains('?') { '&' } else { '?' };
        // Plain TCP, so that the proxy can read the messages.
        let url = format!("{scheme}://{user}{local}/{path}{separator}sslmode=disable");
        SyncCounter { url, syncs }
    }

    /// The count once no message has arrived for a while (the pool's release runs in a task of its own).
    async fn settled(&self) -> u64 {
        let mut last = self.syncs.load(Ordering::SeqCst);
        loop {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let now = self.syncs.load(Ordering::SeqCst);
            if now == last {
                return now;
            }
            last = now;
        }
    }
}

async fn relay(client: TcpStream, upstream: TcpStream, syncs: Arc<AtomicU64>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let answers = tokio::spawn(async move { tokio::io::copy(&mut upstream_read, &mut client_write).await });
    let mut parser = FrontendMessages::default();
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let n = match client_read.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        syncs.fetch_add(parser.count_syncs(&buffer[..n]), Ordering::SeqCst);
        if upstream_write.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    answers.abort();
}

/// Splits the frontend's byte stream into messages: the startup message has no type byte, every later one is a
/// type byte and a big-endian length that counts itself.
#[derive(Default)]
struct FrontendMessages {
    started: bool,
    pending: Vec<u8>,
}

impl FrontendMessages {
    fn count_syncs(&mut self, bytes: &[u8]) -> u64 {
        self.pending.extend_from_slice(bytes);
        let mut syncs = 0;
        loop {
            let header = if self.started { 5 } else { 4 };
            if self.pending.len() < header {
                return syncs;
            }
            let length_at = usize::from(self.started);
            let length = u32::from_be_bytes(self.pending[length_at..length_at + 4].try_into().unwrap());
            let total = length_at + usize::try_from(length).unwrap();
            if self.pending.len() < total {
                return syncs;
            }
            if self.started && self.pending[0] == b'S' {
                syncs += 1;
            }
            self.started = true;
            self.pending.drain(..total);
        }
    }
}
