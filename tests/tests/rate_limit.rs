//! Rate limits end to end: a caller over its bucket gets 429 with `Retry-After` and `RATE_LIMITED` before any
//! database work while other callers go on being served; buckets refill; anonymous callers are counted by
//! address (`X-Forwarded-For` only when trusted); batches take one per operation; with Redis two servers share
//! the buckets, and an unreachable Redis lets requests through.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::time::Duration;

use futures_util::future::join_all;
use govgraph::http::rate_limit::RateLimitArgs;
use govgraph::http::shared_store::SharedStoreArgs;
use govgraph::http::traffic::TrafficArgs;
use govgraph_tests::{Fixture, SHARED_SCALE, TestServer, assert_no_errors, error_codes, token_for};
use serde_json::{Value, json};

/// A query that reads the database.
const REGION: &str = "{ region(code: \"330900\") { code } }";
/// A query that does not.
const TYPENAME: &str = "{ __typename }";

fn limits(per_second: f64, burst: u32, anonymous_per_second: f64, anonymous_burst: u32) -> RateLimitArgs {
    RateLimitArgs {
        rate_limit_per_second: per_second,
        rate_limit_burst: burst,
        rate_limit_anonymous_per_second: anonymous_per_second,
        rate_limit_anonymous_burst: anonymous_burst,
        trust_forwarded_for: false,
    }
}

fn traffic(rate_limits: RateLimitArgs, redis: Option<(&str, &str)>) -> TrafficArgs {
    let mut args = TrafficArgs { rate_limits, ..TrafficArgs::default() };
    if let Some((url, prefix)) = redis {
        args.shared =
            SharedStoreArgs { redis_url: Some(url.to_owned()), redis_key_prefix: prefix.to_owned() };
    }
    args
}

/// A key prefix no other run uses.
fn unique_prefix(test: &str) -> String {
    format!("govgraph-test:{test}:{}:{}:", std::process::id(), chrono::Utc::now().timestamp_micros())
}

/// What a request got.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn send(server: &TestServer, token: Option<&str>, forwarded_for: Option<&str>, body: Value) -> Answer {
    let mut request = reqwest::Client::new().post(format!("{}/graphql", server.base)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|value| value.to_str().unwrap().to_owned());
    Answer { status, retry_after, body: response.json().await.unwrap() }
}

async fn query(server: &TestServer, token: Option<&str>, text: &str) -> Answer {
    send(server, token, None, json!({ "query": text })).await
}

/// Checks a 429 answer and returns its `Retry-After` in seconds.
fn assert_limited(answer: &Answer) -> u64 {
    assert_eq!(answer.status, 429, "{answer:?}");
    let seconds: u64 = answer.retry_after.as_deref().expect("Retry-After").parse().expect("whole seconds");
    assert!(seconds >= 1, "{answer:?}");
    assert_eq!(error_codes(&answer.body), ["RATE_LIMITED"], "{answer:?}");
    assert_eq!(answer.body["errors"][0]["extensions"]["retryAfterSeconds"], seconds, "{answer:?}");
    assert!(answer.body.get("data").is_none());
    seconds
}

fn assert_served(answer: &Answer) {
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_no_errors(&answer.body);
}

async fn metric(server: &TestServer, line_start: &str) -> u64 {
    let (_, metrics) = server.get("/metrics", None).await;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(line_start))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in\n{metrics}"))
}

#[tokio::test]
async fn a_caller_over_its_bucket_is_refused_while_others_are_served() {
    // Three requests at once, then one every five seconds.
    let server =
        TestServer::start_with_traffic(Fixture::Demo(SHARED_SCALE), traffic(limits(0.2, 3, 0.2, 3), None))
            .await;
    let greedy = token_for("greedy", &["admin"], "330900");
    let modest = token_for("modest", &["admin"], "330900");

    let flood = join_all((0..8).map(|_| query(&server, Some(&greedy), REGION)));
    let (served_server, modest) = (&server, &modest);
    let others = join_all((0..3).map(|n| async move {
        if n % 2 == 0 {
            query(served_server, Some(modest), REGION).await
        } else {
            query(served_server, None, "{ __typename }").await
        }
    }));
    let (flood, others) = tokio::join!(flood, others);
    let served = flood.iter().filter(|answer| answer.status == 200).count();
    assert_eq!(served, 3, "the burst: {flood:?}");
    for answer in flood.iter().filter(|answer| answer.status != 200) {
        assert!(assert_limited(answer) <= 5);
    }
    for answer in &others {
        assert_served(answer);
    }

    // Refused before any database work, and counted.
    let before = server.statement_count();
    assert_limited(&query(&server, Some(&greedy), REGION).await);
    assert_eq!(server.statement_count(), before, "no statement ran for a refused request");
    assert!(metric(&server, "govgraph_rate_limited_total{caller=\"token\"}").await >= 6);

    // The others still have room; and a different subject with the same roles is a different bucket.
    assert_served(&query(&server, None, "{ __typename }").await);
    assert_served(&query(&server, Some(&token_for("third", &["admin"], "330900")), REGION).await);
}

#[tokio::test]
async fn an_empty_bucket_refills_after_retry_after() {
    let server = TestServer::start_with_traffic(Fixture::Empty, traffic(limits(2.0, 2, 0.0, 0), None)).await;
    let token = token_for("refill", &["admin"], "330900");
    assert_served(&query(&server, Some(&token), TYPENAME).await);
    assert_served(&query(&server, Some(&token), TYPENAME).await);
    let seconds = assert_limited(&query(&server, Some(&token), TYPENAME).await);
    assert_eq!(seconds, 1, "half a second to the next request, rounded up");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_served(&query(&server, Some(&token), TYPENAME).await);

    // 0 turns the anonymous limit off.
    for _ in 0..10 {
        assert_served(&query(&server, None, "{ __typename }").await);
    }
}

#[tokio::test]
async fn anonymous_callers_are_counted_by_forwarded_address_when_trusted() {
    let mut rate_limits = limits(0.0, 0, 0.1, 2);
    rate_limits.trust_forwarded_for = true;
    let server = TestServer::start_with_traffic(Fixture::Empty, traffic(rate_limits, None)).await;
    let body = json!({ "query": "{ __typename }" });
    assert_served(&send(&server, None, Some("203.0.113.7"), body.clone()).await);
    assert_served(&send(&server, None, Some("203.0.113.7"), body.clone()).await);
    assert_limited(&send(&server, None, Some("203.0.113.7"), body.clone()).await);
    // The last address is the one our proxy added; what the client claimed before it does not count.
    assert_limited(&send(&server, None, Some("198.51.100.1, 203.0.113.7"), body.clone()).await);
    assert_served(&send(&server, None, Some("203.0.113.7, 203.0.113.8"), body.clone()).await);
    // An IPv6 host is one bucket per /64.
    assert_served(&send(&server, None, Some("2001:db8:0:1::1"), body.clone()).await);
    assert_served(&send(&server, None, Some("2001:db8:0:1::2"), body.clone()).await);
    assert_limited(&send(&server, None, Some("2001:db8:0:1::3"), body.clone()).await);
    assert_served(&send(&server, None, Some("2001:db8:0:2::1"), body.clone()).await);
    // Tokens are unlimited here (0) and counted by subject anyway.
    let token = token_for("tok", &["admin"], "330900");
    for _ in 0..5 {
        assert_served(&send(&server, Some(&token), Some("203.0.113.7"), body.clone()).await);
    }
    assert!(metric(&server, "govgraph_rate_limited_total{caller=\"anonymous\"}").await >= 3);
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_trusted() {
    let server = TestServer::start_with_traffic(Fixture::Empty, traffic(limits(0.0, 0, 0.1, 2), None)).await;
    let body = json!({ "query": "{ __typename }" });
    assert_served(&send(&server, None, Some("203.0.113.1"), body.clone()).await);
    assert_served(&send(&server, None, Some("203.0.113.2"), body.clone()).await);
    // Same peer address: the same bucket, whatever the header claims.
    assert_limited(&send(&server, None, Some("203.0.113.3"), body.clone()).await);
    // A refused token is anonymous too.
    assert_limited(&send(&server, Some("not-a-token"), None, body).await);
}

#[tokio::test]
async fn a_batch_takes_one_per_operation() {
    let server = TestServer::start_with_traffic(Fixture::Empty, traffic(limits(0.1, 3, 0.0, 0), None)).await;
    let token = token_for("batcher", &["admin"], "330900");
    let batch = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    let answer = send(&server, Some(&token), None, batch.clone()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body.as_array().map(Vec::len), Some(2));
    assert_limited(&send(&server, Some(&token), None, batch).await);
    assert_served(&query(&server, Some(&token), "{ __typename }").await);
}

#[tokio::test]
async fn two_servers_share_buckets_in_redis() {
    let prefix = unique_prefix("shared");
    let redis = Some(("redis://127.0.0.1:6379", prefix.as_str()));
    let first = TestServer::start_with_traffic(Fixture::Empty, traffic(limits(0.1, 3, 0.1, 3), redis)).await;
    let second = TestServer::start_with_traffic(Fixture::Empty, traffic(limits(0.1, 3, 0.1, 3), redis)).await;
    let token = token_for("shared-subject", &["admin"], "330900");

    assert_served(&query(&first, Some(&token), TYPENAME).await);
    assert_served(&query(&first, Some(&token), TYPENAME).await);
    assert_served(&query(&second, Some(&token), TYPENAME).await);
    // Each server alone would still have room: the bucket is shared.
    let seconds = assert_limited(&query(&second, Some(&token), TYPENAME).await);
    assert!(seconds <= 10, "{seconds}");
    assert_limited(&query(&first, Some(&token), TYPENAME).await);

    // Others are served by both meanwhile.
    let other = token_for("other-subject", &["admin"], "330900");
    assert_served(&query(&first, Some(&other), TYPENAME).await);
    assert_served(&query(&second, Some(&other), TYPENAME).await);
    assert_served(&query(&second, None, "{ __typename }").await);
    assert_eq!(metric(&first, "govgraph_rate_limit_failed_open_total").await, 0);
}

#[tokio::test]
async fn an_unreachable_redis_lets_requests_through() {
    let prefix = unique_prefix("unreachable");
    let redis = Some(("redis://127.0.0.1:1", prefix.as_str()));
    let server =
        TestServer::start_with_traffic(Fixture::Empty, traffic(limits(0.01, 1, 0.01, 1), redis)).await;
    let token = token_for("fail-open", &["admin"], "330900");
    for _ in 0..4 {
        assert_served(&query(&server, Some(&token), TYPENAME).await);
        assert_served(&query(&server, None, "{ __typename }").await);
    }
    assert!(metric(&server, "govgraph_rate_limit_failed_open_total").await >= 8);
}

#[tokio::test]
async fn the_default_test_servers_are_not_rate_limited() {
    let server = TestServer::start(Fixture::Empty).await;
    let answers = join_all((0..60).map(|_| query(&server, None, "{ __typename }"))).await;
    for answer in &answers {
        assert_served(answer);
    }
}
