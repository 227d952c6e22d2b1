//! Request ids and database outages. A caller's `X-Request-Id` is kept (when it is a plain token) and echoed, and
//! ours is echoed when it sent none. A request the database cannot serve answers `UNAVAILABLE` with HTTP 503 and
//! `Retry-After`, and a mutation resent with the same idempotency key after the database is back runs once.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{Fixture, TestServer, assert_no_errors, error_codes, token_for};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

const QUERY: &str = "{ regions(first: 1) { totalCount } }";

async fn post(server: &TestServer, token: &str, query: &str, request_id: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(token)
        .json(&json!({ "query": query }));
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn request_ids_are_echoed() {
    let server = TestServer::start(Fixture::Empty).await;
    let token = server.token(&["admin"], "330900");
    let theirs = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let response = post(&server, &token, QUERY, Some(theirs)).await;
    assert_eq!(response.headers()["x-request-id"], theirs);

    let ours =
        post(&server, &token, QUERY, None).await.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!ours.is_empty() && ours.len() <= 64, "{ours}");
    let next =
        post(&server, &token, QUERY, None).await.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(ours, next, "every request gets its own id");

    // An id that is not a plain token (too long, or with characters a log line could be forged with) is
    // replaced by ours rather than stored or logged.
    for unfit in ["a".repeat(65), "abc def".to_owned(), "x\"y<z>".to_owned()] {
        let response = post(&server, &token, QUERY, Some(&unfit)).await;
        let echoed = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(echoed, unfit);
        assert!(echoed.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{echoed}");
    }
    // Other endpoints echo it too.
    let health = reqwest::Client::new()
        .get(format!("{}/healthz", server.base))
        .header("x-request-id", theirs)
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["x-request-id"], theirs);
}

/// PostgreSQL only: the test takes its database away (no new connections, the open ones terminated) and gives
/// it back. SQLite is a file inside the process, with no connection to lose.
#[tokio::test]
async fn a_database_outage_answers_unavailable_and_a_resend_runs_once() {
    let Some(admin_url) = std::env::var("DATABASE_URL").ok().filter(|url| url.starts_with("postgres")) else {
        eprintln!("DATABASE_URL is not PostgreSQL: the outage test needs a database server to take away");
        return;
    };
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let token = token_for("outage", &["admin"], "330900");
    server.warm_up(&token).await;
    let name = server.db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let admin = Database::connect(admin_url.as_str()).await.unwrap();

    admin.execute_unprepared(&format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS false"#)).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();

    let donation = r#"mutation { recordDonation(fund: "CHARITY", amount: "88.00", memo: "outage", idempotencyKey: "outage-1") { replayed entry { id } } }"#;
    for query in [QUERY, donation] {
        let response = post(&server, &token, query, None).await;
        assert_eq!(response.status(), 503, "{query}");
        assert_eq!(response.headers()["retry-after"], "1");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_codes(&body), ["UNAVAILABLE"], "{body:#}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(!message.contains(&name) && !message.contains("pg_"), "no detail leaks: {message}");
    }

    admin.execute_unprepared(&format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS true"#)).await.unwrap();
    let first = resend_while_unavailable(&server, &token, donation).await;
    assert_no_errors(&first);
    assert_eq!(first["data"]["recordDonation"]["replayed"], false, "the outage wrote nothing");
    let again = resend_while_unavailable(&server, &token, donation).await;
    assert_no_errors(&again);
    assert_eq!(again["data"]["recordDonation"]["replayed"], true);
    assert_eq!(
        again["data"]["recordDonation"]["entry"]["id"],
        first["data"]["recordDonation"]["entry"]["id"]
    );
    admin.close().await.ok();
}

/// Sends `query` until it is answered with something other than 503, as a client told `Retry-After` would. After
/// an outage every pooled connection that died with it fails the one statement that meets it, then is dropped;
/// the server has a pool per HTTP worker besides its shared one, so a few requests may meet one.
async fn resend_while_unavailable(server: &TestServer, token: &str, query: &str) -> Value {
    for _ in 0..30 {
        let response = post(server, token, query, None).await;
        if response.status() != 503 {
            return response.json::<Value>().await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("still unavailable after 30 resends: the database did not come back");
}
