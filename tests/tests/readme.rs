//! The README's GraphQL examples run as written: each block is sent to a demo server with the token its text
//! names (an administrator's otherwise) and must answer without errors; a subscription is opened over WebSocket
//! and must deliver the event of a dispute reported in its region without errors.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::ws::WsClient;
use govgraph_tests::{Fixture, TestServer, admin, assert_no_errors, token_for};
use serde_json::json;

const README: &str = include_str!("../../README.md");

/// Every ```graphql block of the README, with the paragraph before it.
fn examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = README;
    while let Some(start) = rest.find("```graphql\n") {
        let before = &rest[..start];
        let paragraph = before.trim_end().rsplit("\n\n").next().unwrap_or_default().to_owned();
        let body_start = start + "```graphql\n".len();
        let end = rest[body_start..].find("```").expect("a closed block") + body_start;
        out.push((paragraph, rest[body_start..end].to_owned()));
        rest = &rest[end + 3..];
    }
    out
}

#[tokio::test]
async fn every_graphql_example_of_the_readme_answers() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let grid = server
        .gql(
            Some(&admin()),
            r#"{ regions(filter: { level: GRID, inRegion: "330921" }, first: 1) { nodes { code } } }"#,
            json!({}),
        )
        .await["data"]["regions"]["nodes"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let examples = examples();
    assert!(examples.len() >= 3, "{} examples", examples.len());
    for (paragraph, query) in examples {
        let query = query.replace("<grid code>", &grid);
        if query.trim_start().starts_with("subscription") {
            subscription_delivers(&server, &query).await;
            continue;
        }
        let token = if paragraph.contains("--role mediator") {
            token_for("boat-330921001-1", &["mediator"], "330921")
        } else if paragraph.contains("--role grid_worker") {
            token_for("worker-readme", &["grid_worker"], &grid)
        } else {
            admin()
        };
        let response = server
            .gql_with_headers(Some(&token), &[("x-access-purpose", "README example")], &query, json!({}))
            .await;
        assert_no_errors(&response);
        assert!(response["data"].is_object(), "{query}: {response:#}");
    }
}

/// Opens `query` over WebSocket as an administrator, reports a dispute in the first grid of the region the
/// subscription names, and expects its event without errors.
async fn subscription_delivers(server: &TestServer, query: &str) {
    let region =
        query.split("inRegion: \"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("330900");
    let grid = server
        .gql(
            Some(&admin()),
            "query($r: String!) { regions(filter: { level: GRID, inRegion: $r }, first: 1) { nodes { code } } }",
            json!({ "r": region }),
        )
        .await["data"]["regions"]["nodes"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut client = WsClient::open(&server.ws_url()).await;
    client
        .init(json!({ "Authorization": format!("Bearer {}", admin()), "X-Access-Purpose": "README example" }))
        .await;
    assert_eq!(client.next_message().await["type"], "connection_ack");
    client.subscribe("readme", query, json!({})).await;
    server.wait_for_subscribers(1).await;
    let report = server
        .gql(
            Some(&admin()),
            "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { id } }",
            json!({ "input": {
                "gridCode": grid, "channel": "HOTLINE", "category": "LABOUR_AND_WAGES", "summary": "拖欠工资",
                "escalationRisk": "LOW", "idempotencyKey": "readme-subscription",
                "parties": [{ "kind": "ORGANISATION", "role": "RESPONDENT", "name": "某水产公司" }] } }),
        )
        .await;
    assert_no_errors(&report);
    let message = client.next_message().await;
    assert_eq!(message["type"], "next", "{query}: {message}");
    assert!(message["payload"].get("errors").is_none(), "{query}: {message}");
    assert_eq!(
        message["payload"]["data"]["disputeEvents"]["disputeId"],
        report["data"]["reportDispute"]["id"]
    );
}
