//! The ledger under contention and under failure, on whichever database `DATABASE_URL` names (SQLite by
//! default, PostgreSQL when set).
//!
//! - A fund that can pay only some of 220 approved applications receives 220 concurrent disbursements plus 110
//!   concurrent retries under the same keys, then all 220 again: exactly what the money allows is paid, every
//!   key at most once, the balance is never negative (watched while it happens) and equals the sum of entries.
//! - A writer killed in the middle of its transaction (the process with `SIGKILL`, or its task aborted) leaves
//!   nothing half-written, and the next writer is not blocked.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use entities::ledger_entry::EntryKind;
use entities::{legal_aid_application, legal_aid_fund, region};
use govgraph::legal_aid::ledger::{Posting, TRANSACTION_RETRIES, append, lock_fund};
use govgraph::node::{NodeType, global_id};
use govgraph_tests::{Fixture, SECRET, TestServer, assert_no_errors, token_for};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    Statement,
};
use serde_json::{Value, json};

const CITY: &str = "330900";
const APPLICATIONS: usize = 220;
const AMOUNT_FEN: i64 = 100_000;
/// Enough for 150 disbursements of 1,000 yuan, with 500 yuan left over.
const FUNDING: &str = "150500.00";
const PAYABLE: usize = 150;
const CHILD_ENV: &str = "GOVGRAPH_LEDGER_KILLED_WRITER_URL";

fn backend() -> &'static str {
    if std::env::var("DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

fn fen(value: &Value) -> i64 {
    let text = value.as_str().unwrap_or_else(|| panic!("not money: {value}"));
    let (yuan, cents) = text.split_once('.').unwrap();
    assert!(!yuan.starts_with('-'), "negative balance observed: {text}");
    yuan.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn city_id(db: &DatabaseConnection) -> i64 {
    region::Entity::find().filter(region::Column::Code.eq(CITY)).one(db).await.unwrap().unwrap().id
}

/// A new empty relief fund of the city and `count` approved applications to it of [`AMOUNT_FEN`] each.
async fn stress_fixture(db: &DatabaseConnection, code: &str, count: usize) -> (i64, Vec<i64>) {
    let city = city_id(db).await;
    let township = region::Entity::find()
        .filter(region::Column::Code.eq("330902001"))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let now = Utc::now();
    let fund = legal_aid_fund::ActiveModel {
        id: sea_orm::NotSet,
        code: Set(code.to_owned()),
        kind: Set(legal_aid_fund::FundKind::Relief),
        name: Set("压力测试救助金".to_owned()),
        region_id: Set(city),
        balance_fen: Set(0),
        established_on: Set(now.date_naive()),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    let rows = (0..count).map(|i| legal_aid_application::ActiveModel {
        id: sea_orm::NotSet,
        code: Set(format!("{code}-{i:04}")),
        fund_id: Set(fund.id),
        region_id: Set(township),
        applicant_name: Set("测试申请人".to_owned()),
        applicant_id_number: Set("11010519491231002X".to_owned()),
        applicant_phone: Set("13905801234".to_owned()),
        case_summary: Set("压力测试".to_owned()),
        amount_fen: Set(AMOUNT_FEN),
        state: Set(legal_aid_application::ApplicationState::Approved),
        submitted_at: Set(now),
        submitted_by: Set("stress".to_owned()),
        decided_at: Set(Some(now)),
        decided_by: Set(Some("approver".to_owned())),
        decision_reason: Set(None),
        disbursed_at: Set(None),
        disbursed_by: Set(None),
        due_on: Set(None),
        repaid_fen: Set(0),
        closed_at: Set(None),
        updated_at: Set(now),
    });
    legal_aid_application::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    let ids = legal_aid_application::Entity::find()
        .filter(legal_aid_application::Column::FundId.eq(fund.id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect();
    (fund.id, ids)
}

async fn assert_ledger_verifies(db: &DatabaseConnection) {
    let report = govgraph::legal_aid::verify::verify(db).await.unwrap();
    assert!(report.ok(), "ledger problems: {:#?}", report.problems);
}

const DISBURSE: &str =
    "mutation($id: ID!, $key: String!) { disburseLegalAidApplication(id: $id, idempotencyKey: $key) {
    replayed entry { id } } }";

/// The outcome of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Paid { entry: String, replayed: bool },
    Refused,
    Other(String),
}

async fn disburse(client: &reqwest::Client, base: &str, token: &str, id: &str, key: &str) -> Outcome {
    let response: Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": DISBURSE, "variables": { "id": id, "key": key } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if let Some(code) = response["errors"][0]["extensions"]["code"].as_str() {
        return if code == "INSUFFICIENT_FUNDS" {
            Outcome::Refused
        } else {
            Outcome::Other(response.to_string())
        };
    }
    let posting = &response["data"]["disburseLegalAidApplication"];
    match (posting["entry"]["id"].as_str(), posting["replayed"].as_bool()) {
        (Some(entry), Some(replayed)) => Outcome::Paid { entry: entry.to_owned(), replayed },
        _ => Outcome::Other(response.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_disbursements_pay_what_the_money_allows_once_per_key() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let db = server.db.connect().await;
    let (fund_id, ids) = stress_fixture(&db, "STRESS", APPLICATIONS).await;
    let officer = token_for("disburser", &["fund_officer"], CITY);
    let funded = server
        .gql(
            Some(&officer),
            "mutation($a: Money!) { recordDonation(fund: \"STRESS\", amount: $a, memo: \"专项拨付\", idempotencyKey: \"stress-funding\", kind: ALLOCATION) { fund { balance } } }",
            json!({ "a": FUNDING }),
        )
        .await;
    assert_no_errors(&funded);
    let funding_fen = fen(&funded["data"]["recordDonation"]["fund"]["balance"]);
    assert_eq!(funding_fen / AMOUNT_FEN, PAYABLE as i64);

    let requests: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (global_id(NodeType::LegalAidApplication, *id).0, format!("stress-pay-{i:03}")))
        .collect();
    // The storm: every key once, and every other key a second time, all at the same moment.
    let mut storm: Vec<&(String, String)> = requests.iter().collect();
    storm.extend(requests.iter().step_by(2));
    let client = reqwest::Client::builder().pool_max_idle_per_host(512).build().unwrap();

    // Watch the balance while it happens, in the database (its own connection) and through the API.
    let watching = Arc::new(AtomicBool::new(true));
    let lowest = Arc::new(AtomicI64::new(i64::MAX));
    let observations = Arc::new(AtomicI64::new(0));
    let distinct = Arc::new(std::sync::Mutex::new(HashSet::new()));
    let watcher_db = server.db.connect().await;
    let watch_sql = format!("SELECT balance_fen FROM legal_aid_fund WHERE id = {fund_id}");
    let watchers = {
        let (watching, lowest, observations, distinct) =
            (watching.clone(), lowest.clone(), observations.clone(), distinct.clone());
        let (client, base, token) = (client.clone(), server.base.clone(), officer.clone());
        let in_database = {
            let (watching, lowest, observations, distinct) =
                (watching.clone(), lowest.clone(), observations.clone(), distinct.clone());
            tokio::spawn(async move {
                while watching.load(Ordering::Relaxed) {
                    let balance = scalar(&watcher_db, &watch_sql).await;
                    lowest.fetch_min(balance, Ordering::Relaxed);
                    observations.fetch_add(1, Ordering::Relaxed);
                    distinct.lock().unwrap().insert(balance);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
        };
        let over_http = tokio::spawn(async move {
            while watching.load(Ordering::Relaxed) {
                let response: Value = client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": "{ fund(code: \"STRESS\") { balance } }" }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let balance = fen(&response["data"]["fund"]["balance"]);
                lowest.fetch_min(balance, Ordering::Relaxed);
                observations.fetch_add(1, Ordering::Relaxed);
                distinct.lock().unwrap().insert(balance);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        });
        [in_database, over_http]
    };
    while observations.load(Ordering::Relaxed) < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    let retries_before = TRANSACTION_RETRIES.load(Ordering::Relaxed);
    let started = Instant::now();
    let first_wave: Vec<(String, Outcome)> = futures_util::future::join_all(storm.iter().map(|(id, key)| {
        let (client, base, token) = (&client, &server.base, &officer);
        async move { (key.clone(), disburse(client, base, token, id, key).await) }
    }))
    .await;
    let storm_time = started.elapsed();
    // Every key again, after the storm: the paid ones replay, the refused ones are refused again.
    let second_wave: Vec<(String, Outcome)> =
        futures_util::future::join_all(requests.iter().map(|(id, key)| {
            let (client, base, token) = (&client, &server.base, &officer);
            async move { (key.clone(), disburse(client, base, token, id, key).await) }
        }))
        .await;
    let elapsed = started.elapsed();
    let server_retries = TRANSACTION_RETRIES.load(Ordering::Relaxed) - retries_before;
    watching.store(false, Ordering::Relaxed);
    for watcher in watchers {
        watcher.await.unwrap();
    }
    let balances_seen = distinct.lock().unwrap().len();

    let outcomes: Vec<&(String, Outcome)> = first_wave.iter().chain(second_wave.iter()).collect();
    let others: Vec<&String> = outcomes
        .iter()
        .filter_map(|(_, outcome)| match outcome {
            Outcome::Other(response) => Some(response),
            _ => None,
        })
        .collect();
    assert!(others.is_empty(), "unexpected answers: {others:#?}");
    let mut entry_of_key: HashMap<&str, &str> = HashMap::new();
    let (mut paid, mut replayed, mut refused) = (0usize, 0usize, 0usize);
    for (key, outcome) in &outcomes {
        match outcome {
            Outcome::Paid { entry, replayed: was_replay } => {
                if *was_replay {
                    replayed += 1;
                } else {
                    paid += 1;
                }
                let first = entry_of_key.entry(key.as_str()).or_insert(entry.as_str());
                assert_eq!(*first, entry.as_str(), "key {key} answered with two different entries");
            }
            Outcome::Refused => refused += 1,
            Outcome::Other(_) => {}
        }
    }
    let attempts = outcomes.len();
    println!(
        "legal-aid concurrency on {}: {attempts} attempts ({} in the storm: {} keys + {} concurrent retries; then \
         {} retries), paid {paid}, refused INSUFFICIENT_FUNDS {refused}, answered idempotently (replayed) \
         {replayed}, transactions retried by the server after a serialization/busy failure {server_retries}; \
         storm {:.2} s, total {:.2} s; balance watched {} times ({balances_seen} distinct values), lowest {} fen",
        backend(),
        first_wave.len(),
        requests.len(),
        first_wave.len() - requests.len(),
        second_wave.len(),
        storm_time.as_secs_f64(),
        elapsed.as_secs_f64(),
        observations.load(Ordering::Relaxed),
        lowest.load(Ordering::Relaxed),
    );

    // Exactly what the money allowed, each key once.
    assert_eq!(paid, PAYABLE, "fresh payments");
    assert_eq!(entry_of_key.len(), PAYABLE, "keys paid");
    assert_eq!(paid + replayed + refused, attempts);
    // Every paid key replays in the second wave; every unpaid key is refused in it.
    let second_paid =
        second_wave.iter().filter(|(_, o)| matches!(o, Outcome::Paid { replayed: true, .. })).count();
    assert_eq!(second_paid, PAYABLE);
    assert!(lowest.load(Ordering::Relaxed) >= 0);
    assert!(observations.load(Ordering::Relaxed) > 0);

    // The database agrees.
    let disbursements = scalar(
        &db,
        &format!("SELECT COUNT(*) FROM ledger_entry WHERE fund_id = {fund_id} AND kind = 'DISBURSEMENT'"),
    )
    .await;
    assert_eq!(disbursements, PAYABLE as i64);
    let distinct = scalar(
        &db,
        &format!(
            "SELECT COUNT(DISTINCT application_id) FROM ledger_entry WHERE fund_id = {fund_id} AND kind = 'DISBURSEMENT'"
        ),
    )
    .await;
    assert_eq!(distinct, PAYABLE as i64, "no application paid twice");
    let keys: HashSet<&str> = entry_of_key.keys().copied().collect();
    let stored_keys = scalar(
        &db,
        &format!(
            "SELECT COUNT(DISTINCT idempotency_key) FROM ledger_entry WHERE fund_id = {fund_id} AND kind = 'DISBURSEMENT'"
        ),
    )
    .await;
    assert_eq!(stored_keys, keys.len() as i64);
    let disbursed = scalar(
        &db,
        &format!(
            "SELECT COUNT(*) FROM legal_aid_application WHERE fund_id = {fund_id} AND state = 'DISBURSED'"
        ),
    )
    .await;
    assert_eq!(disbursed, PAYABLE as i64);
    let fund = legal_aid_fund::Entity::find_by_id(fund_id).one(&db).await.unwrap().unwrap();
    let sum = scalar(
        &db,
        &format!(
            "SELECT CAST(SUM(direction * amount_fen) AS BIGINT) FROM ledger_entry WHERE fund_id = {fund_id}"
        ),
    )
    .await;
    assert_eq!(fund.balance_fen, sum);
    assert_eq!(fund.balance_fen, funding_fen - PAYABLE as i64 * AMOUNT_FEN);
    // The running balance, entry by entry in the order they were booked, never went below zero.
    let entries = entities::ledger_entry::Entity::find()
        .filter(entities::ledger_entry::Column::FundId.eq(fund_id))
        .all(&db)
        .await
        .unwrap();
    let mut ordered = entries.clone();
    ordered.sort_by_key(|entry| entry.id);
    let mut running = 0;
    for entry in &ordered {
        running += entry.signed_fen();
        assert!(running >= 0, "balance below zero at entry {}", entry.id);
    }
    assert_ledger_verifies(&db).await;
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

/// The writer a parent test kills: does nothing unless started by [`a_killed_writer_leaves_nothing_half_written`].
#[tokio::test]
async fn killed_writer_child() {
    let Ok(url) = std::env::var(CHILD_ENV) else { return };
    let db = govgraph::db::connect(&url, 1, None).await.unwrap();
    let txn = govgraph::db::begin_write(&db).await.unwrap();
    let fund_row = legal_aid_fund::Entity::find()
        .filter(legal_aid_fund::Column::Code.eq("RELIEF"))
        .one(&txn)
        .await
        .unwrap()
        .unwrap();
    let fund = lock_fund(&txn, fund_row.id).await.unwrap();
    let posting = Posting {
        fund: &fund,
        kind: EntryKind::Donation,
        direction: 1,
        amount_fen: 123_456_700,
        application: None,
        reverses: None,
        actor: "killed-writer",
        memo: Some("never committed"),
    };
    append(&txn, &posting, "killed-writer-key", Utc::now()).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &txn,
        "UPDATE legal_aid_application SET repaid_fen = repaid_fen + 1",
    )
    .await
    .unwrap();
    println!("IN_TRANSACTION");
    tokio::time::sleep(Duration::from_secs(120)).await;
    txn.commit().await.unwrap();
}

/// Balances, entry count and the sum of repaid amounts: what a half-written transaction would change.
async fn footprint(db: &DatabaseConnection) -> (Vec<(String, i64)>, i64, i64) {
    let funds = legal_aid_fund::Entity::find().all(db).await.unwrap();
    let balances = funds.into_iter().map(|fund| (fund.code, fund.balance_fen)).collect();
    let entries = scalar(db, "SELECT COUNT(*) FROM ledger_entry").await;
    let repaid =
        scalar(db, "SELECT CAST(COALESCE(SUM(repaid_fen), 0) AS BIGINT) FROM legal_aid_application").await;
    (balances, entries, repaid)
}

#[tokio::test]
async fn a_killed_writer_leaves_nothing_half_written() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let db = server.db.connect().await;
    let before = footprint(&db).await;
    assert_ledger_verifies(&db).await;

    // 1. The whole process dies (SIGKILL) between its writes and its commit.
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "killed_writer_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &server.db.url)
        .env("GOVGRAPH_JWT_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("IN_TRANSACTION") {
                tx.send(()).ok();
            }
        }
    });
    let waited = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60))).await.unwrap();
    if waited.is_err() {
        child.kill().ok();
        panic!("the child writer never reached its transaction");
    }
    // While it holds its transaction, nothing of it is visible.
    assert_eq!(footprint(&db).await, before);
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");
    assert_eq!(footprint(&db).await, before);
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM ledger_entry WHERE idempotency_key = 'killed-writer-key'").await,
        0
    );
    assert_ledger_verifies(&db).await;

    // 2. The task running a transaction is aborted at an await point, as when a request is cancelled.
    let pool = server.db.connect().await;
    let (written_tx, written_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn({
        let pool = pool.clone();
        async move {
            let txn = govgraph::db::begin_write(&pool).await.unwrap();
            let fund_row = legal_aid_fund::Entity::find()
                .filter(legal_aid_fund::Column::Code.eq("CHARITY"))
                .one(&txn)
                .await;
            let fund = lock_fund(&txn, fund_row.unwrap().unwrap().id).await.unwrap();
            let posting = Posting {
                fund: &fund,
                kind: EntryKind::Donation,
                direction: 1,
                amount_fen: 765_400,
                application: None,
                reverses: None,
                actor: "aborted-writer",
                memo: None,
            };
            append(&txn, &posting, "aborted-writer-key", Utc::now()).await.unwrap();
            written_tx.send(()).ok();
            std::future::pending::<()>().await;
            txn.commit().await.unwrap();
        }
    });
    written_rx.await.unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(footprint(&db).await, before);

    // The next writer is not blocked by either: a donation through the API goes through at once.
    let officer = token_for("after-crash", &["fund_officer"], CITY);
    let started = Instant::now();
    let donation = server
        .gql(
            Some(&officer),
            "mutation { recordDonation(fund: \"CHARITY\", amount: \"10.00\", memo: \"崩溃后捐赠\", idempotencyKey: \"after-crash\") { replayed fund { balance } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&donation);
    assert!(started.elapsed() < Duration::from_secs(5), "the next writer waited {:?}", started.elapsed());
    // …and so does a write on the pool whose transaction was abandoned.
    let txn = govgraph::db::begin_write(&pool).await.unwrap();
    txn.commit().await.unwrap();
    let after = footprint(&db).await;
    assert_eq!(after.1, before.1 + 1, "exactly the one donation was added");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM ledger_entry WHERE idempotency_key IN ('killed-writer-key', 'aborted-writer-key')")
            .await,
        0
    );
    assert_ledger_verifies(&db).await;
}
