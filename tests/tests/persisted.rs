//! Persisted queries end to end: automatic persisted queries (register, then by hash; unknown hash; wrong hash;
//! over GET; shared through Redis by two servers), the operator's allow-list, and partners held to it while
//! other roles are not. Limits apply to the text a hash resolves to.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::path::PathBuf;

use govgraph::http::persisted::{PersistedQueryArgs, sha256_hex};
use govgraph::http::rate_limit::RateLimitArgs;
use govgraph::http::shared_store::SharedStoreArgs;
use govgraph::http::traffic::{Traffic, TrafficArgs};
use govgraph_tests::{Fixture, SHARED_SCALE, TestServer, admin, assert_no_errors, error_codes, token_for};
use serde_json::{Value, json};

/// An allow-listed query partners may run.
const CITY: &str = "query City { region(code: \"330900\") { code } }";
/// An allow-listed mutation (never sent over GET).
const REMOVE_MEMBER: &str = "mutation Remove($id: ID!) { removeGridTeamMember(id: $id) { id } }";
const REDIS: &str = "redis://127.0.0.1:6379";

/// Writes an allow-list file with `queries` and returns its path.
fn allow_list_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("govgraph-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("allow-list-{}-{name}.json", std::process::id()));
    std::fs::write(&path, content).unwrap();
    path
}

fn allow_list(queries: &[&str]) -> String {
    let entries: serde_json::Map<String, Value> =
        queries.iter().map(|query| (sha256_hex(query), Value::from(*query))).collect();
    Value::Object(entries).to_string()
}

fn traffic(
    allow_list: Option<PathBuf>,
    partner_only: Option<bool>,
    redis_prefix: Option<&str>,
) -> TrafficArgs {
    TrafficArgs {
        rate_limits: RateLimitArgs::off(),
        persisted: PersistedQueryArgs {
            persisted_queries: allow_list,
            partner_allow_list_only: partner_only,
            ..PersistedQueryArgs::default()
        },
        shared: SharedStoreArgs {
            redis_url: redis_prefix.map(|_| REDIS.to_owned()),
            redis_key_prefix: redis_prefix.unwrap_or("govgraph:").to_owned(),
        },
    }
}

/// A demo-data server with the allow-list `{CITY, REMOVE_MEMBER}`, partners restricted to it (the default
/// with a file), shared by this binary's tests.
async fn server() -> &'static TestServer {
    static SERVER: tokio::sync::OnceCell<TestServer> = tokio::sync::OnceCell::const_new();
    SERVER
        .get_or_init(|| async {
            let file = allow_list_file("shared", &allow_list(&[CITY, REMOVE_MEMBER]));
            TestServer::start_with_traffic(Fixture::Demo(SHARED_SCALE), traffic(Some(file), None, None)).await
        })
        .await
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// POSTs `body`; status, `Cache-Control` and JSON.
async fn post(server: &TestServer, token: Option<&str>, body: Value) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new().post(format!("{}/graphql", server.base)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response.headers().get("cache-control").map(|value| value.to_str().unwrap().to_owned());
    (status, cache, response.json().await.unwrap())
}

/// Percent-encodes a URL parameter value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// GETs `/graphql` with `params`; status, `Cache-Control` and JSON.
async fn get(
    server: &TestServer,
    token: Option<&str>,
    params: &[(&str, String)],
) -> (u16, Option<String>, Value) {
    let query: Vec<String> = params.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
    let mut request = reqwest::Client::new().get(format!("{}/graphql?{}", server.base, query.join("&")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response.headers().get("cache-control").map(|value| value.to_str().unwrap().to_owned());
    (status, cache, response.json().await.unwrap())
}

fn partner() -> String {
    token_for("partner-1", &["partner"], "330900")
}

/// A query no other test sends: its own hash.
fn unique_query(test: &str) -> String {
    format!("# {test}\nquery Parent {{ region(code: \"330902\") {{ code parent {{ code }} }} }}")
}

fn assert_not_found(response: &Value) {
    assert_eq!(error_codes(response), ["PERSISTED_QUERY_NOT_FOUND"], "{response:#}");
    assert_eq!(response["errors"][0]["message"], "PersistedQueryNotFound");
    assert!(response.get("data").is_none(), "{response:#}");
}

#[tokio::test]
async fn a_query_registered_with_its_hash_then_runs_by_hash_alone() {
    let server = server().await;
    let query = unique_query("register");
    let hash = sha256_hex(&query);

    let (_, cache, response) = post(server, Some(&admin()), json!({ "extensions": persisted(&hash) })).await;
    assert_not_found(&response);
    assert_eq!(cache.as_deref(), Some("no-store"), "a miss must not be cached: the client registers next");

    let (status, _, registered) =
        post(server, Some(&admin()), json!({ "query": query, "extensions": persisted(&hash) })).await;
    assert_eq!(status, 200);
    assert_no_errors(&registered);
    assert_eq!(registered["data"]["region"]["parent"]["code"], "330900");

    let (status, _, by_hash) = post(server, Some(&admin()), json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(status, 200);
    assert_no_errors(&by_hash);
    assert_eq!(by_hash["data"], registered["data"]);
    // Uppercase hex names the same query.
    let (_, _, upper) =
        post(server, Some(&admin()), json!({ "extensions": persisted(&hash.to_uppercase()) })).await;
    assert_eq!(upper["data"], registered["data"], "{upper:#}");
}

#[tokio::test]
async fn an_unknown_hash_is_persisted_query_not_found() {
    let server = server().await;
    let hash = sha256_hex("never registered anywhere");
    let (_, _, response) = post(server, None, json!({ "extensions": persisted(&hash) })).await;
    assert_not_found(&response);

    let response = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "extensions": persisted(&hash) }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "a request error under application/graphql-response+json");
    assert_not_found(&response.json::<Value>().await.unwrap());

    for (extension, what) in [
        (json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }), "version"),
        (json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } }), "sha256Hash"),
        (json!({ "persistedQuery": "yes" }), "object"),
    ] {
        let (_, _, response) = post(server, None, json!({ "extensions": extension })).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response:#}");
        assert!(response["errors"][0]["message"].as_str().unwrap().contains(what), "{response:#}");
    }
}

#[tokio::test]
async fn a_hash_that_does_not_match_its_query_is_bad_input_and_registers_nothing() {
    let server = server().await;
    let query = unique_query("mismatch");
    let wrong = sha256_hex("something else");
    let (_, _, response) =
        post(server, Some(&admin()), json!({ "query": query, "extensions": persisted(&wrong) })).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response:#}");
    assert!(response["errors"][0]["message"].as_str().unwrap().contains("sha256Hash"), "{response:#}");
    assert!(response.get("data").is_none());

    let (_, _, response) = post(server, Some(&admin()), json!({ "extensions": persisted(&wrong) })).await;
    assert_not_found(&response);
    let (_, _, response) =
        post(server, Some(&admin()), json!({ "extensions": persisted(&sha256_hex(&query)) })).await;
    assert_not_found(&response);
}

#[tokio::test]
async fn a_hash_works_over_get_and_mutations_stay_post_only() {
    let server = server().await;
    let query = unique_query("get");
    let hash = sha256_hex(&query);
    let extensions = persisted(&hash).to_string();

    let (_, cache, response) = get(server, Some(&admin()), &[("extensions", extensions.clone())]).await;
    assert_not_found(&response);
    assert_eq!(cache.as_deref(), Some("no-store"));

    // Registering over GET works too.
    let (status, _, registered) =
        get(server, Some(&admin()), &[("query", query.clone()), ("extensions", extensions.clone())]).await;
    assert_eq!(status, 200);
    assert_no_errors(&registered);

    let (status, _, response) = get(server, Some(&admin()), &[("extensions", extensions)]).await;
    assert_eq!(status, 200);
    assert_no_errors(&response);
    assert_eq!(response["data"]["region"]["code"], "330902");

    // An allow-listed operation by hash over GET.
    let (status, _, response) =
        get(server, Some(&admin()), &[("extensions", persisted(&sha256_hex(CITY)).to_string())]).await;
    assert_eq!(status, 200);
    assert_eq!(response["data"]["region"]["code"], "330900", "{response:#}");

    // A mutation by hash over GET is refused before it runs.
    let (status, _, response) = get(
        server,
        Some(&admin()),
        &[
            ("extensions", persisted(&sha256_hex(REMOVE_MEMBER)).to_string()),
            ("variables", json!({ "id": "R3JpZFRlYW1NZW1iZXI6MQ==" }).to_string()),
        ],
    )
    .await;
    assert_eq!(status, 405, "{response:#}");
    assert!(response["errors"][0]["message"].as_str().unwrap().contains("POST"));
    assert!(response.get("data").is_none(), "{response:#}");
}

#[tokio::test]
async fn allow_listed_operations_are_always_available_by_hash() {
    let server = server().await;
    for token in [Some(admin()), Some(token_for("officer-1", &["officer"], "330900")), Some(partner())] {
        let (status, _, response) =
            post(server, token.as_deref(), json!({ "extensions": persisted(&sha256_hex(CITY)) })).await;
        assert_eq!(status, 200);
        assert_no_errors(&response);
        assert_eq!(response["data"]["region"]["code"], "330900");
    }
    // Sending an allow-listed operation with its hash needs no registration either.
    let (_, _, response) =
        post(server, Some(&partner()), json!({ "query": CITY, "extensions": persisted(&sha256_hex(CITY)) }))
            .await;
    assert_no_errors(&response);
}

#[tokio::test]
async fn partners_run_only_allow_listed_operations() {
    let server = server().await;
    let refused = |response: &Value| {
        assert_eq!(error_codes(response), ["FORBIDDEN"], "{response:#}");
        let message = response["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("only allow-listed operations are accepted for partners"), "{message}");
        assert!(response.get("data").is_none(), "{response:#}");
    };

    // Free text.
    let free = server.gql(Some(&partner()), "{ region(code: \"330900\") { code name } }", json!({})).await;
    refused(&free);

    // The statistics export runs the server's own fixed query: admitted, with the partners' disclosure control.
    let response = reqwest::Client::new()
        .get(format!(
            "{}/export/statistics.csv?measure=CARE_SUBJECTS&groupBy=PERIOD&period=YEAR",
            server.base
        ))
        .bearer_auth(partner())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let file = response.text().await.unwrap();
    assert!(file.lines().skip(1).all(|row| !row.ends_with(",true") || row.contains(",,true")), "{file}");
    assert!(file.contains(",true"), "something is suppressed: {file}");

    // Registering an automatic persisted query: refused, and not registered.
    let query = unique_query("partner");
    let hash = sha256_hex(&query);
    let (_, _, response) =
        post(server, Some(&partner()), json!({ "query": query, "extensions": persisted(&hash) })).await;
    refused(&response);
    let (_, _, response) = post(server, Some(&admin()), json!({ "extensions": persisted(&hash) })).await;
    assert_not_found(&response);

    // A query someone else registered is still not allow-listed.
    let (_, _, response) =
        post(server, Some(&admin()), json!({ "query": query, "extensions": persisted(&hash) })).await;
    assert_no_errors(&response);
    let (_, _, response) = post(server, Some(&partner()), json!({ "extensions": persisted(&hash) })).await;
    refused(&response);

    // The allow-listed operation: by hash, and by its exact text.
    let (_, _, response) =
        post(server, Some(&partner()), json!({ "extensions": persisted(&sha256_hex(CITY)) })).await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["region"]["code"], "330900");
    let response = server.gql(Some(&partner()), CITY, json!({})).await;
    assert_no_errors(&response);

    // A partner token that also carries another role is held to the allow-list all the same.
    let mixed = token_for("partner-2", &["partner", "officer"], "330900");
    refused(&server.gql(Some(&mixed), "{ region(code: \"330900\") { code } }", json!({})).await);
}

#[tokio::test]
async fn other_roles_are_not_held_to_the_allow_list() {
    let server = server().await;
    let text = "{ region(code: \"330902\") { code name } }";
    for roles in [&["admin"][..], &["officer"], &["analyst"], &["grid_worker"]] {
        let response = server.gql(Some(&token_for("someone", roles, "330900")), text, json!({})).await;
        assert_no_errors(&response);
        assert_eq!(response["data"]["region"]["code"], "330902", "{roles:?}");
    }
    let response = server.gql(None, "{ __typename }", json!({})).await;
    assert_no_errors(&response);
}

#[tokio::test]
async fn limits_apply_to_the_text_a_hash_stands_for() {
    let server = server().await;
    // Fourteen fields deep: over the depth limit of 12.
    let mut query = String::from("# limits\n{ region(code: \"330900\") { ");
    query.push_str(&"parent { ".repeat(12));
    query.push_str("code");
    query.push_str(&" }".repeat(13));
    query.push_str(" }");
    let hash = sha256_hex(&query);
    let (_, _, response) =
        post(server, Some(&admin()), json!({ "query": query, "extensions": persisted(&hash) })).await;
    assert_eq!(error_codes(&response), ["QUERY_TOO_COMPLEX"], "{response:#}");
    assert_eq!(response["errors"][0]["extensions"]["measure"], "depth");
    let (_, _, response) = post(server, Some(&admin()), json!({ "extensions": persisted(&hash) })).await;
    assert_not_found(&response);
}

#[tokio::test]
async fn a_partner_refusal_and_an_unknown_hash_run_no_sql() {
    let file = allow_list_file("no-sql", &allow_list(&[CITY]));
    let server =
        TestServer::start_with_traffic(Fixture::Demo(SHARED_SCALE), traffic(Some(file), None, None)).await;
    let admin_answer = server.gql(Some(&admin()), "{ region(code: \"330900\") { code } }", json!({})).await;
    assert_no_errors(&admin_answer);
    let before = server.statement_count();
    assert!(before > 0, "the admin's query read the database");
    let free = server.gql(Some(&partner()), "{ region(code: \"330900\") { code } }", json!({})).await;
    assert_eq!(error_codes(&free), ["FORBIDDEN"], "{free:#}");
    let (_, _, response) =
        post(&server, Some(&admin()), json!({ "extensions": persisted(&sha256_hex("unknown")) })).await;
    assert_not_found(&response);
    assert_eq!(server.statement_count(), before, "refused before any database work");
}

#[tokio::test]
async fn the_partner_restriction_can_be_turned_off() {
    let file = allow_list_file("relaxed", &allow_list(&[CITY]));
    let server = TestServer::start_with_traffic(Fixture::Empty, traffic(Some(file), Some(false), None)).await;
    let response = server.gql(Some(&partner()), "{ __typename }", json!({})).await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["__typename"], "Query");
}

#[tokio::test]
async fn two_servers_share_registered_queries_through_redis() {
    let prefix = format!("govgraph-test:{}:{}:", std::process::id(), chrono::Utc::now().timestamp_micros());
    let first = TestServer::start_with_traffic(Fixture::Empty, traffic(None, None, Some(&prefix))).await;
    let second = TestServer::start_with_traffic(Fixture::Empty, traffic(None, None, Some(&prefix))).await;
    let query = format!("# {prefix}\n{{ __typename }}");
    let hash = sha256_hex(&query);

    let (_, _, response) = post(&second, None, json!({ "extensions": persisted(&hash) })).await;
    assert_not_found(&response);
    let (_, _, response) =
        post(&first, None, json!({ "query": query, "extensions": persisted(&hash) })).await;
    assert_no_errors(&response);
    let (_, _, response) = post(&second, None, json!({ "extensions": persisted(&hash) })).await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["__typename"], "Query");
}

#[tokio::test]
async fn a_bad_allow_list_stops_the_start_with_a_clear_message() {
    let start = |file: PathBuf| {
        Traffic::from_args(&traffic(Some(file), None, None)).map(|_| ()).map_err(|err| err.to_string())
    };
    let wrong = json!({ sha256_hex("something else"): CITY }).to_string();
    let err = start(allow_list_file("wrong-hash", &wrong)).unwrap_err();
    assert!(err.contains("persisted queries file") && err.contains("not the SHA-256 of its query"), "{err}");

    let err = start(allow_list_file("not-json", "{ \"abc\": ")).unwrap_err();
    assert!(err.contains("not a JSON object"), "{err}");

    let err =
        start(allow_list_file("not-graphql", &json!({ sha256_hex("{ x"): "{ x" }).to_string())).unwrap_err();
    assert!(err.contains("not a GraphQL document"), "{err}");

    let err = start(std::env::temp_dir().join("govgraph-tests/no-such-allow-list.json")).unwrap_err();
    assert!(err.contains("no-such-allow-list.json"), "{err}");

    let err = Traffic::from_args(&traffic(None, Some(true), None)).map(|_| ()).map_err(|err| err.to_string());
    assert!(err.unwrap_err().contains("needs an allow-list file"));

    assert!(start(allow_list_file("good", &allow_list(&[CITY]))).is_ok());
}
