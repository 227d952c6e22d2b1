//! The volunteer domain over HTTP: nested, paginated service records batched per page of volunteers.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{TestServer, assert_no_errors, shared_demo, token_for};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

#[expect(clippy::expect_used, reason = "a failed count must fail the test")]
async fn count(server: &TestServer, sql: &str) -> i64 {
    let db = server.db.connect().await;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .expect("count query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("an integer")
}

fn admin() -> String {
    token_for("admin-1", &["admin"], "330900")
}

const NESTED: &str = "query($n: Int, $k: Int, $activity: ActivityType) {
  volunteers(first: $n) { edges { node { code
    serviceRecords(first: $k, activity: $activity) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id activity minutes startedAt grid { code } volunteer { code } } } } } } } }";

#[tokio::test]
async fn nested_service_records_are_exact_and_batched() {
    let server = shared_demo().await;
    let response = server.gql(Some(&admin()), NESTED, json!({ "n": 20, "k": 3 })).await;
    assert_no_errors(&response);
    for edge in response["data"]["volunteers"]["edges"].as_array().unwrap() {
        let volunteer = &edge["node"];
        let code = volunteer["code"].as_str().unwrap();
        let records = &volunteer["serviceRecords"];
        let expected = count(
            server,
            &format!(
                "SELECT COUNT(*) FROM service_record s JOIN volunteer v ON v.id = s.volunteer_id WHERE v.code = '{code}'"
            ),
        )
        .await;
        assert_eq!(records["totalCount"], expected, "{code}");
        let page = records["edges"].as_array().unwrap();
        assert_eq!(page.len() as i64, expected.min(3));
        assert_eq!(records["pageInfo"]["hasNextPage"], expected > 3);
        for record in page {
            assert_eq!(record["node"]["volunteer"]["code"], code);
        }
    }
}

#[tokio::test]
async fn nested_pages_continue_from_their_cursor() {
    let server = shared_demo().await;
    let token = admin();
    let first = server.gql(Some(&token), NESTED, json!({ "n": 1, "k": 4 })).await;
    assert_no_errors(&first);
    let records = &first["data"]["volunteers"]["edges"][0]["node"]["serviceRecords"];
    let ids: Vec<&str> =
        records["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap()).collect();
    let cursor = records["edges"][1]["cursor"].as_str().unwrap();
    let rest = server
        .gql(
            Some(&token),
            "query($after: String) { volunteers(first: 1) { edges { node {
               serviceRecords(first: 2, after: $after) { edges { node { id } } } } } } }",
            json!({ "after": cursor }),
        )
        .await;
    assert_no_errors(&rest);
    let next: Vec<&str> = rest["data"]["volunteers"]["edges"][0]["node"]["serviceRecords"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(next, ids[2..4]);
}

#[tokio::test]
async fn nested_filters_apply() {
    let server = shared_demo().await;
    let response =
        server.gql(Some(&admin()), NESTED, json!({ "n": 30, "k": 50, "activity": "PATROL" })).await;
    assert_no_errors(&response);
    let mut seen = 0;
    for edge in response["data"]["volunteers"]["edges"].as_array().unwrap() {
        for record in edge["node"]["serviceRecords"]["edges"].as_array().unwrap() {
            assert_eq!(record["node"]["activity"], "PATROL");
            seen += 1;
        }
    }
    assert!(seen > 0);
}

#[tokio::test]
async fn nested_statements_do_not_grow_with_either_page_size() {
    let server = TestServer::start(govgraph_tests::Fixture::Demo(0.01)).await;
    let token = admin();
    let mut counts: Vec<(i64, i64, u64)> = Vec::new();
    for (n, k) in [(5, 2), (50, 2), (200, 20)] {
        let before = server.statement_count();
        let response: Value = server.gql(Some(&token), NESTED, json!({ "n": n, "k": k })).await;
        assert_no_errors(&response);
        counts.push((n, k, server.statement_count() - before));
    }
    let statements: Vec<u64> = counts.iter().map(|(_, _, c)| *c).collect();
    assert!(
        statements.windows(2).all(|w| w[0] == w[1]),
        "statements per (volunteers, records) page size: {counts:?}"
    );
}
