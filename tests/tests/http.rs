//! GraphQL over HTTP: content negotiation by `Accept`, the specification's status codes (400 for unparseable
//! and invalid requests under `application/graphql-response+json`, 405 for mutations over GET, 413, 415),
//! `application/graphql` bodies, capped batches and response compression by `Accept-Encoding`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{assert_no_errors, error_codes, shared_demo, token_for};
use serde_json::{Value, json};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

struct Answer {
    status: u16,
    content_type: String,
    allow: Option<String>,
    body: Value,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    let content_type = header("content-type").unwrap_or_default();
    let allow = header("allow");
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, content_type, allow, body }
}

async fn post(content_type: &str, accept: Option<&str>, body: String) -> Answer {
    let server = shared_demo().await;
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(token_for("admin-1", &["admin"], "330900"))
        .header("content-type", content_type)
        .body(body);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    send(request).await
}

fn query(query: &str) -> String {
    json!({ "query": query }).to_string()
}

#[tokio::test]
async fn the_response_type_follows_accept() {
    let answer = post("application/json", Some(GRAPHQL_RESPONSE), query("{ viewer { subject } }")).await;
    assert_eq!(answer.status, 200);
    assert!(answer.content_type.starts_with(GRAPHQL_RESPONSE), "{}", answer.content_type);
    assert_no_errors(&answer.body);
    assert_eq!(answer.body["data"]["viewer"]["subject"], "admin-1");

    for accept in [None, Some("application/json"), Some("*/*")] {
        let answer = post("application/json", accept, query("{ viewer { subject } }")).await;
        assert_eq!(answer.status, 200);
        assert!(answer.content_type.starts_with("application/json"), "{accept:?}: {}", answer.content_type);
    }
    let preferred = "application/json;q=0.5, application/graphql-response+json";
    let answer = post("application/json", Some(preferred), query("{ viewer { subject } }")).await;
    assert!(answer.content_type.starts_with(GRAPHQL_RESPONSE), "{}", answer.content_type);
}

#[tokio::test]
async fn request_errors_get_400_only_under_graphql_response_json() {
    for (document, code) in [("{ viewer { subject ", "BAD_USER_INPUT"), ("{ nope }", "BAD_USER_INPUT")] {
        let answer = post("application/json", Some(GRAPHQL_RESPONSE), query(document)).await;
        assert_eq!(answer.status, 400, "{document}: {:#}", answer.body);
        assert_eq!(error_codes(&answer.body), [code], "{:#}", answer.body);
        assert!(answer.body.get("data").is_none(), "{:#}", answer.body);

        let answer = post("application/json", Some("application/json"), query(document)).await;
        assert_eq!(answer.status, 200, "{document}: {:#}", answer.body);
        assert_eq!(error_codes(&answer.body), [code]);
    }
    // A field error is not a request error: data is there, status 200.
    let answer = reqwest::Client::new();
    let server = shared_demo().await;
    let answer = send(
        answer
            .post(format!("{}/graphql", server.base))
            .header("accept", GRAPHQL_RESPONSE)
            .json(&json!({ "query": "{ regions { totalCount } }" })),
    )
    .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    assert!(answer.body.get("data").is_some(), "{:#}", answer.body);
}

#[tokio::test]
async fn unparseable_bodies_get_400_and_other_types_415() {
    let answer = post("application/json", None, "{ not json".into()).await;
    assert_eq!(answer.status, 400);
    assert_eq!(error_codes(&answer.body), ["BAD_USER_INPUT"]);

    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
    {
        let answer = post(content_type, None, query("{ viewer { subject } }")).await;
        assert_eq!(answer.status, 415, "{content_type}");
    }
    let answer = post("application/graphql", None, "{ viewer { subject } }".into()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["data"]["viewer"]["subject"], "admin-1");
}

#[tokio::test]
async fn mutations_over_get_get_405() {
    let server = shared_demo().await;
    let client = reqwest::Client::new();
    let answer = send(
        client
            .get(format!("{}/graphql", server.base))
            .query(&[("query", "mutation { anything }")])
            .header("accept", GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.allow.as_deref(), Some("POST"));

    let answer = send(
        client
            .get(format!("{}/graphql", server.base))
            .bearer_auth(token_for("admin-1", &["admin"], "330900"))
            .query(&[("query", "query Q($n: Int) { regions(first: $n) { totalCount } }")])
            .query(&[("variables", r#"{"n": 1}"#)])
            .header("accept", GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    assert_eq!(
        answer.body["extensions"]["cost"]["requested"],
        1 + govgraph::limits::analysis::STATEMENT_COST
    );
}

#[tokio::test]
async fn batches_are_answered_and_capped() {
    let one = json!({ "query": "{ viewer { subject } }" });
    let answer = post("application/json", None, json!([one, one]).to_string()).await;
    assert_eq!(answer.status, 200);
    let answers = answer.body.as_array().expect("an array");
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[1]["data"]["viewer"]["subject"], "admin-1");

    let answer = post("application/json", None, json!(vec![one.clone(); 11]).to_string()).await;
    assert_eq!(answer.status, 400, "{:#}", answer.body);
    assert_eq!(error_codes(&answer.body), ["QUERY_TOO_COMPLEX"]);
    assert_eq!(answer.body["errors"][0]["extensions"]["limit"], 10);
    assert_eq!(answer.body["errors"][0]["extensions"]["measured"], 11);
    let answer = post("application/json", None, "[]".into()).await;
    assert_eq!(answer.status, 400);
}

#[tokio::test]
async fn an_oversized_body_is_refused_by_its_declared_length() {
    let answer = post("application/json", None, " ".repeat(257 * 1024)).await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.body["errors"][0]["extensions"]["measure"], "bytes");
}

#[tokio::test]
async fn cors_only_for_configured_origins() {
    let server = shared_demo().await;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
    };
    // By default no origin is allowed: no CORS headers at all.
    let response = preflight("https://app.example").send().await.expect("preflight");
    assert!(response.headers().get("access-control-allow-origin").is_none());

    let limits = govgraph::limits::QueryLimits {
        cors_origins: vec!["https://app.example".into()],
        ..Default::default()
    };
    let server = govgraph_tests::TestServer::start_with_limits(govgraph_tests::Fixture::Empty, limits).await;
    let url = format!("{}/graphql", server.base);
    let response = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example");
    assert!(response.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let response = client
        .post(&url)
        .header("origin", "https://evil.example")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("post");
    assert!(response.headers().get("access-control-allow-origin").is_none());
}

/// A response's status, `content-encoding`, `vary` and body as sent (not decoded).
async fn raw_post(
    accept_encoding: Option<&str>,
    query_text: &str,
) -> (u16, Option<String>, Vec<String>, Vec<u8>) {
    let server = shared_demo().await;
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(token_for("admin-1", &["admin"], "330900"))
        .header("content-type", "application/json")
        .body(query(query_text));
    if let Some(accept_encoding) = accept_encoding {
        request = request.header("accept-encoding", accept_encoding);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let encoding = response.headers().get("content-encoding").map(|value| value.to_str().unwrap().to_owned());
    let vary =
        response.headers().get_all("vary").iter().map(|value| value.to_str().unwrap().to_owned()).collect();
    (status, encoding, vary, response.bytes().await.expect("body").to_vec())
}

fn decode(encoding: Option<&str>, body: &[u8]) -> Value {
    use std::io::Read;
    let mut text = Vec::new();
    match encoding {
        Some("gzip") => flate2::read::GzDecoder::new(body).read_to_end(&mut text).expect("a gzip body"),
        Some("deflate") => flate2::read::ZlibDecoder::new(body).read_to_end(&mut text).expect("a zlib body"),
        None => {
            text = body.to_vec();
            text.len()
        }
        Some(other) => panic!("unexpected content-encoding {other}"),
    };
    serde_json::from_slice(&text).expect("a JSON body")
}

const LARGE: &str = "{ volunteers(first: 100) { totalCount nodes { code name status registeredOn } } }";

#[tokio::test]
async fn large_responses_are_compressed_as_accepted_and_small_ones_are_not() {
    let (status, encoding, vary, small) = raw_post(Some("gzip, deflate, br"), "{ viewer { subject } }").await;
    assert_eq!(status, 200);
    assert_eq!(encoding, None, "a body of {} bytes is sent as it is", small.len());
    assert!(small.len() < govgraph::http::compression::MIN_COMPRESSED_BYTES);
    assert!(vary.iter().any(|value| value.to_ascii_lowercase().contains("accept-encoding")), "{vary:?}");
    assert_eq!(decode(None, &small)["data"]["viewer"]["subject"], "admin-1");

    let (_, _, _, plain) = raw_post(None, LARGE).await;
    let expected = decode(None, &plain);
    assert_no_errors(&expected);
    assert_eq!(expected["data"]["volunteers"]["nodes"].as_array().map(Vec::len), Some(100));
    for (accepted, coding) in [
        ("gzip, deflate, br", "gzip"),
        ("deflate", "deflate"),
        ("br;q=1, deflate;q=0.5, gzip;q=0.2", "deflate"),
    ] {
        let (status, encoding, vary, body) = raw_post(Some(accepted), LARGE).await;
        assert_eq!(status, 200, "{accepted}");
        assert_eq!(encoding.as_deref(), Some(coding), "{accepted}");
        assert!(body.len() * 3 < plain.len(), "{accepted}: {} of {} bytes", body.len(), plain.len());
        assert!(vary.iter().any(|value| value.to_ascii_lowercase().contains("accept-encoding")), "{vary:?}");
        assert_eq!(decode(encoding.as_deref(), &body), expected, "{accepted}");
    }
    let (_, encoding, _, body) = raw_post(Some("identity"), LARGE).await;
    assert_eq!(encoding, None);
    assert_eq!(decode(None, &body), expected);
    let (status, _, _, _) = raw_post(Some("br, identity;q=0"), LARGE).await;
    assert_eq!(status, 406, "no coding the client accepts");
}
