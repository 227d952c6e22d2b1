//! The query limits end to end: every limit refuses what exceeds it with `QUERY_TOO_COMPLEX` (or
//! `BAD_USER_INPUT`), its limit and the measured value, before any database work, and lets through what stays
//! within it; the cost is reported on every response; introspection and suggestions follow the configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph::limits::QueryLimits;
use govgraph_tests::{Fixture, SHARED_SCALE, TestServer, admin, assert_no_errors, error_codes, token_for};
use serde_json::{Value, json};

/// A demo-data server with the default limits, shared by this binary's tests.
async fn strict() -> &'static TestServer {
    static SERVER: tokio::sync::OnceCell<TestServer> = tokio::sync::OnceCell::const_new();
    SERVER
        .get_or_init(|| TestServer::start_with_limits(Fixture::Demo(SHARED_SCALE), QueryLimits::default()))
        .await
}

/// The single error of a refused request, checked for its code, limit name, limit and measured value.
fn assert_refused(response: &Value, measure: &str, limit: u64, measured: u64) {
    assert_eq!(error_codes(response), ["QUERY_TOO_COMPLEX"], "{response:#}");
    let extensions = &response["errors"][0]["extensions"];
    assert_eq!(extensions["measure"], measure, "{response:#}");
    assert_eq!(extensions["limit"], limit, "{response:#}");
    assert_eq!(extensions["measured"], measured, "{response:#}");
    assert!(response.get("data").is_none(), "a refused request has no data: {response:#}");
}

/// `{ region(code: "330900") { parent { parent … { code } } } }` with `depth` fields in the deepest path.
fn nested(depth: usize) -> String {
    let mut query = String::from("region(code: \"330900\") { ");
    for _ in 0..depth.saturating_sub(2) {
        query.push_str("parent { ");
    }
    query.push_str("code");
    for _ in 0..depth.saturating_sub(1) {
        query.push_str(" }");
    }
    format!("{{ {query} }}")
}

#[tokio::test]
async fn a_fifty_deep_nesting_is_refused_before_the_database_and_twelve_pass() {
    let server = strict().await;
    let before = server.statement_count();
    let response = server.gql(Some(&admin()), &nested(50), json!({})).await;
    assert_refused(&response, "depth", 12, 50);
    assert_eq!(server.statement_count(), before, "no statement ran for a refused query");

    let response = server.gql(Some(&admin()), &nested(12), json!({})).await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["region"]["parent"], Value::Null, "the city has no parent");
}

#[tokio::test]
async fn alias_flooding_is_refused_and_fifty_aliases_pass() {
    let server = strict().await;
    let aliases = |n: usize| (0..n).map(|i| format!("a{i}: subject")).collect::<Vec<_>>().join(" ");
    let response =
        server.gql(Some(&admin()), &format!("{{ viewer {{ {} }} }}", aliases(500)), json!({})).await;
    assert_refused(&response, "aliases", 50, 500);

    let response =
        server.gql(Some(&admin()), &format!("{{ viewer {{ {} }} }}", aliases(50)), json!({})).await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["viewer"]["a49"], "admin-1");

    // Aliases hidden in a fragment spread many times count once per spread.
    let query = format!(
        "{{ viewer {{ ...F ...F ...F }} }} fragment F on ViewerInfo {{ {} }}",
        (0..20).map(|i| format!("f{i}: subject")).collect::<Vec<_>>().join(" ")
    );
    let response = server.gql(Some(&admin()), &query, json!({})).await;
    assert_refused(&response, "aliases", 50, 60);
}

#[tokio::test]
async fn a_fragment_cycle_is_refused_before_the_database() {
    let server = strict().await;
    let before = server.statement_count();
    let query =
        "{ viewer { ...A } } fragment A on ViewerInfo { subject ...B } fragment B on ViewerInfo { ...A }";
    let response = server.gql(Some(&admin()), query, json!({})).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response:#}");
    assert!(response["errors"][0]["message"].as_str().unwrap().contains("cycle"), "{response:#}");
    assert_eq!(server.statement_count(), before);
}

#[tokio::test]
async fn a_one_megabyte_query_gets_413() {
    let server = strict().await;
    let mut query = String::from("{ viewer { subject } }");
    query.push_str(&" ".repeat(1024 * 1024));
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .json(&json!({ "query": query }))
        .send()
        .await;
    // The server answers before reading the body; a client may see the connection closed while still sending.
    if let Ok(response) = response {
        assert_eq!(response.status().as_u16(), 413);
        let body: Value = response.json().await.expect("json");
        assert_refused(&body, "bytes", 256 * 1024, 1024 * 1024 + 34);
    }
    // Within the limit, the same padded query passes.
    let padded = format!("{}{}", "{ viewer { subject } }", " ".repeat(250 * 1024));
    assert_no_errors(&server.gql(Some(&admin()), &padded, json!({})).await);
}

#[tokio::test]
async fn ten_thousand_root_fields_are_refused() {
    let server = strict().await;
    let query = format!("{{ {} }}", vec!["a"; 10_000].join(" "));
    let response = server.gql(Some(&admin()), &query, json!({})).await;
    assert_refused(&response, "tokens", 5_000, 10_002);

    // With tokens and bytes allowed, the root-field limit refuses them.
    let limits = QueryLimits { max_tokens: 100_000, max_body_bytes: 1024 * 1024, ..QueryLimits::default() };
    let server = TestServer::start_with_limits(Fixture::Empty, limits).await;
    let before = server.statement_count();
    let response = server.gql(Some(&admin()), &query, json!({})).await;
    assert_refused(&response, "rootFields", 20, 10_000);
    assert_eq!(server.statement_count(), before);
    let twenty = format!(
        "{{ {} }}",
        (0..20).map(|i| format!("v{i}: viewer {{ subject }}")).collect::<Vec<_>>().join(" ")
    );
    assert_no_errors(&server.gql(Some(&admin()), &twenty, json!({})).await);
}

#[tokio::test]
async fn directives_are_capped() {
    let server = strict().await;
    let directives =
        |n: usize| (0..n).map(|i| format!("a{i}: subject @include(if: true)")).collect::<Vec<_>>().join(" ");
    let response =
        server.gql(Some(&admin()), &format!("{{ viewer {{ {} }} }}", directives(21)), json!({})).await;
    assert_refused(&response, "directives", 20, 21);
    let response =
        server.gql(Some(&admin()), &format!("{{ viewer {{ {} }} }}", directives(20)), json!({})).await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["viewer"]["a19"], "admin-1");
}

/// 500 regions and one statement: 500 + 10 = 510 (edges, node and pageInfo only unwrap the page; scalars are free).
const PAGE_OF_500: &str = "query($n: Int) { regions(first: $n) { edges { cursor node { code name level depth } } \
                           totalCount pageInfo { hasNextPage endCursor } } }";

/// 500 volunteers with 500 service records each: 500 + 250,000 objects and two statements.
const RECORDS_OF_500_VOLUNTEERS: &str =
    "{ volunteers(first: 500) { nodes { code serviceRecords(first: 500) { nodes { minutes } } } } }";

#[tokio::test]
async fn cost_is_reported_and_budgets_differ_per_role() {
    // A server of its own: the statement count must not move with other tests' requests.
    let server = &TestServer::start_with_limits(Fixture::Demo(SHARED_SCALE), QueryLimits::default()).await;
    let response = server.gql(Some(&admin()), "{ viewer { subject } }", json!({})).await;
    assert_no_errors(&response);
    assert_eq!(response["extensions"]["cost"], json!({ "requested": 11, "limit": 500_000 }));

    let response = server.gql(Some(&admin()), PAGE_OF_500, json!({ "n": 500 })).await;
    assert_no_errors(&response);
    assert_eq!(response["extensions"]["cost"], json!({ "requested": 510, "limit": 500_000 }));
    let response = server.gql(Some(&admin()), PAGE_OF_500, json!({ "n": 100 })).await;
    assert_eq!(response["extensions"]["cost"], json!({ "requested": 110, "limit": 500_000 }), "{response:#}");

    let response = server.gql(Some(&admin()), RECORDS_OF_500_VOLUNTEERS, json!({})).await;
    assert_no_errors(&response);
    assert_eq!(response["extensions"]["cost"]["requested"], 250_520);

    let before = server.statement_count();
    for (name, role) in [("partner-1", "partner"), ("analyst-1", "analyst")] {
        let token = token_for(name, &[role], "330900");
        let response = server.gql(Some(&token), RECORDS_OF_500_VOLUNTEERS, json!({})).await;
        assert_refused(&response, "complexity", 100_000, 250_520);
        assert_eq!(response["extensions"]["cost"], json!({ "requested": 250_520, "limit": 100_000 }));
    }
    assert_eq!(server.statement_count(), before, "refused before any statement");

    // Nested lists multiply, each by its stated bound: 500 regions, at most 100 children each, at most 100
    // children of those: 500 + 50,000 + 5,000,000 objects and three statements.
    let query = "{ regions(first: 500) { nodes { children { children { code } } } } }";
    let response = server.gql(Some(&admin()), query, json!({})).await;
    assert_refused(&response, "complexity", 500_000, 5_050_530);
}

/// Ordinary analyst questions pass the analyst's budget: each is a handful of statements and a few thousand rows.
#[tokio::test]
async fn ordinary_analyst_questions_are_answered() {
    let server = strict().await;
    let analyst = token_for("analyst-2", &["analyst"], "330900");
    let questions: &[(&str, u64)] = &[
        // The two questions once refused: 500 volunteers with grid, parent and teams (10 at most), and 200
        // at-risk youths with their last 10 visits and 3 mentorships with 5 outcomes each.
        (
            r#"{ volunteers(filter:{inRegion:"330902"}, first: 500) { totalCount nodes { code status registeredOn grid { code name parent { name } } serviceHours teams { team { name } } } } }"#,
            500 + 500 + 500 + 5_000 + 5_000 + 5 * 10,
        ),
        (
            "{ careSubjects(first: 200, filter:{category: AT_RISK_YOUTH}) { totalCount nodes { code category status currentRiskLevel visits(first: 10) { nodes { visitedAt kind } } mentorships(first: 3) { nodes { status mentor { occupation } outcomes(first: 5) { nodes { kind } } } } } } }",
            200 + 2_000 + 600 + 600 + 3_000 + 5 * 10,
        ),
        // A district's grids with their teams and counts.
        (
            r#"{ regions(filter: { level: GRID, inRegion: "330903" }, first: 500) { totalCount nodes { code name team { role name } volunteers(first: 20) { totalCount } } } }"#,
            500 + 15_000 + 10_000 + 3 * 10,
        ),
        // A month of service records across the city, with their volunteers.
        (
            r#"{ serviceRecords(first: 500, filter: { from: "2026-11-01T00:00:00+08:00", to: "2026-12-01T00:00:00+08:00" }) { totalCount nodes { minutes activity volunteer { code } grid { code } } } }"#,
            500 + 500 + 500 + 3 * 10,
        ),
    ];
    for (query, cost) in questions {
        let response = server.gql(Some(&analyst), query, json!({})).await;
        // The policy still masks what analysts may not read (a subject's risk level is sensitive), field by field.
        assert!(error_codes(&response).iter().all(|code| code == "FORBIDDEN"), "{response:#}");
        let answer = response["data"].as_object().and_then(|data| data.values().next()).cloned();
        assert!(answer.is_some_and(|answer| answer["totalCount"].is_u64()), "{response:#}");
        assert_eq!(response["extensions"]["cost"]["requested"], *cost, "{query}");
    }
}

#[tokio::test]
async fn introspection_needs_a_token_unless_allowed() {
    let server = strict().await;
    let query = "{ __schema { queryType { name } } }";
    let response = server.gql(None, query, json!({})).await;
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"], "{response:#}");
    let response = server.gql(Some(&admin()), query, json!({})).await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["__schema"]["queryType"]["name"], "Query");
    // `__typename` is not introspection.
    assert_no_errors(&server.gql(None, "{ __typename }", json!({})).await);

    let limits = QueryLimits { allow_anonymous_introspection: true, ..QueryLimits::default() };
    let open = TestServer::start_with_limits(Fixture::Empty, limits).await;
    assert_no_errors(&open.gql(None, query, json!({})).await);
}

#[tokio::test]
async fn suggestions_only_in_development_mode() {
    let server = strict().await;
    let response = server.gql(Some(&admin()), "{ viewr { subject } }", json!({})).await;
    let message = response["errors"][0]["message"].as_str().unwrap().to_lowercase();
    assert!(message.contains("unknown field") && !message.contains("did you mean"), "{response:#}");

    let limits = QueryLimits { dev_mode: true, ..QueryLimits::default() };
    let dev = TestServer::start_with_limits(Fixture::Empty, limits).await;
    let response = dev.gql(Some(&admin()), "{ viewr { subject } }", json!({})).await;
    let message = response["errors"][0]["message"].as_str().unwrap().to_lowercase();
    assert!(message.contains("did you mean"), "{response:#}");
}

#[tokio::test]
async fn the_request_timeout_cancels_slow_work() {
    let limits = QueryLimits { request_timeout_ms: 1, ..QueryLimits::default() };
    let server = TestServer::start_with_limits(Fixture::Demo(0.05), limits).await;
    // Work that takes tens of milliseconds (the service records of 500 volunteers), far past the 1 ms budget, so
    // that the timeout fires however fast the machine is.
    let query = "{ volunteers(first: 500) { nodes { code name serviceRecords(first: 500) { totalCount nodes { minutes } } } } \
                 regions(first: 500) { nodes { code name } } }";
    let response = server.gql(Some(&admin()), query, json!({})).await;
    assert_eq!(error_codes(&response), ["QUERY_TOO_COMPLEX"], "{response:#}");
    assert_eq!(response["errors"][0]["extensions"]["measure"], "timeoutMs");
    assert_eq!(response["errors"][0]["extensions"]["limit"], 1);
    // The server keeps answering.
    assert_eq!(server.get("/healthz", None).await.0, 200);
}

#[tokio::test]
async fn postgres_connections_get_the_statement_timeout() {
    use sea_orm::{ConnectionTrait, Statement};
    let db = govgraph_tests::TestDb::create().await;
    if !db.url.starts_with("postgres") {
        return;
    }
    let timeout = Some(std::time::Duration::from_millis(1500));
    let conn = govgraph::db::connect_with(&db.url, 1, None, timeout).await.expect("connect");
    let show = Statement::from_string(conn.get_database_backend(), "SHOW statement_timeout");
    let row = conn.query_one_raw(show).await.expect("show").expect("a row");
    assert_eq!(row.try_get_by_index::<String>(0).expect("text"), "1500ms");
    conn.close().await.ok();
}

/// `(reused, parsed)` from the server's `govgraph_query_documents_total` counters.
async fn document_counts(server: &TestServer) -> (u64, u64) {
    let (status, body) = server.get("/metrics", None).await;
    assert_eq!(status, 200);
    let count = |outcome: &str| {
        let prefix = format!("govgraph_query_documents_total{{outcome=\"{outcome}\"}} ");
        body.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {prefix} in /metrics"))
            .parse::<u64>()
            .unwrap()
    };
    (count("reused"), count("parsed"))
}

#[tokio::test]
async fn a_document_is_parsed_once_while_every_request_is_still_measured() {
    let limits = QueryLimits { max_tokens: 40, ..QueryLimits::default() };
    let server = TestServer::start_with_limits(Fixture::Demo(SHARED_SCALE), limits).await;
    let page = "query($n: Int) { volunteers(first: $n) { totalCount nodes { code } } }";
    let small = server.gql(Some(&admin()), page, json!({ "n": 2 })).await;
    assert_no_errors(&small);
    assert_eq!(document_counts(&server).await, (0, 1));

    // The same text is not parsed again, but its cost is measured with the request's own variables.
    let large = server.gql(Some(&admin()), page, json!({ "n": 500 })).await;
    assert_no_errors(&large);
    assert_eq!(document_counts(&server).await, (1, 1));
    let cost = |response: &Value| response["extensions"]["cost"]["requested"].as_u64().unwrap();
    assert!(cost(&large) > cost(&small), "{large:#} {small:#}");

    // Authorization still applies to a reused document: without a token the same text is refused.
    let anonymous = server.gql(None, page, json!({ "n": 2 })).await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"], "{anonymous:#}");

    // A text refused by the lexical limits or unparseable is never kept: it is refused every time.
    let long = format!("{{ {} }}", vec!["viewer { subject }"; 20].join(" "));
    for _ in 0..2 {
        let refused = server.gql(Some(&admin()), &long, json!({})).await;
        assert_eq!(error_codes(&refused), ["QUERY_TOO_COMPLEX"], "{refused:#}");
        let broken = server.gql(Some(&admin()), "{ viewer { subject }", json!({})).await;
        assert_eq!(error_codes(&broken), ["BAD_USER_INPUT"], "{broken:#}");
    }
    assert_eq!(document_counts(&server).await, (2, 3), "refused by the lexical limits: not parsed at all");
}
