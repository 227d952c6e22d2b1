//! A nested page is the same page whether or not its selection reads `totalCount`: a page that does not count is
//! cut with its own `LIMIT` per parent (a `LATERAL` subquery on PostgreSQL, a correlated subquery of ids on
//! SQLite), one that counts by window functions over every row of its parent. Both must agree on rows, order,
//! cursors and page info, in one statement per nested field either way.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use govgraph_tests::{TestServer, admin, assert_no_errors, service_records_of, shared_demo};
use serde_json::{Value, json};

const PAGE_INFO: &str = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";

/// The nestings the test reads, each written once with a `TOTAL` slot: volunteers' records forward, backward
/// and after a cursor, regions' volunteers (a parent that is a whole subtree) in a computed order, subjects'
/// visits and mentorships, teams' members (reached through memberships), mentorships' sessions.
fn nestings() -> Vec<(&'static str, String)> {
    let records = |args: &str| {
        let declared = if args.contains("$after") { "($after: String)" } else { "" };
        format!(
            "query{declared} {{ volunteers(first: 12) {{ nodes {{ code
               serviceRecords({args}) {{ TOTAL {PAGE_INFO} edges {{ cursor node {{ id startedAt }} }} }} }} }} }}"
        )
    };
    vec![
        ("records forward", records("first: 3")),
        ("records backward", records("last: 2")),
        ("records after a cursor", records("first: 2, after: $after")),
        ("records before a cursor, backward", records("last: 2, before: $after")),
        (
            "volunteers of districts by name",
            format!(
                "{{ regions(level: DISTRICT, first: 4) {{ nodes {{ code
                   volunteers(first: 4, orderBy: {{ field: NAME, descending: true }}) {{
                     TOTAL {PAGE_INFO} edges {{ cursor node {{ code name }} }} }} }} }} }}"
            ),
        ),
        (
            "visits and mentorships of subjects",
            format!(
                "{{ careSubjects(first: 15) {{ nodes {{ code
                   visits(first: 2) {{ TOTAL {PAGE_INFO} edges {{ cursor node {{ id }} }} }}
                   mentorships(last: 1) {{ TOTAL {PAGE_INFO} edges {{ cursor node {{ id }} }} }} }} }} }}"
            ),
        ),
        (
            "members of teams (a volunteer in several teams is on several pages)",
            format!(
                "{{ volunteerTeams(first: 10) {{ nodes {{ code
                   members(first: 3, orderBy: {{ field: NAME }}) {{ TOTAL {PAGE_INFO} edges {{ cursor node {{ code }} }} }} }} }} }}"
            ),
        ),
        (
            "sessions of mentorships",
            format!(
                "{{ mentorships(first: 10) {{ nodes {{ id
                   sessions(first: 2) {{ TOTAL {PAGE_INFO} edges {{ cursor node {{ id }} }} }} }} }} }}"
            ),
        ),
    ]
}

/// `value` without its `totalCount` entries.
fn without_totals(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(key, _)| *key != "totalCount")
                .map(|(k, v)| (k.clone(), without_totals(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_totals).collect()),
        other => other.clone(),
    }
}

/// Every `totalCount` in `value`.
fn totals(value: &Value, found: &mut Vec<u64>) {
    match value {
        Value::Object(fields) => {
            if let Some(total) = fields.get("totalCount") {
                found.push(total.as_u64().unwrap());
            }
            fields.values().for_each(|v| totals(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| totals(v, found)),
        _ => {}
    }
}

/// (response, statements it cost).
async fn ask(server: &TestServer, token: &str, query: &str, variables: &Value) -> (Value, u64) {
    let before = server.statement_count();
    let response = server.gql(Some(token), query, variables.clone()).await;
    assert_no_errors(&response);
    (response, server.statement_count() - before)
}

#[tokio::test]
async fn nested_pages_are_the_same_with_and_without_their_total() {
    let server = TestServer::start(govgraph_tests::Fixture::Demo(0.02)).await;
    let token = admin();
    server.warm_up(&token).await;
    // A cursor from the middle of some volunteer's records, for the pages cut at a cursor.
    let (first, _) = ask(
        &server,
        &token,
        "{ volunteers(first: 12) { nodes { serviceRecords(first: 3) { edges { cursor } } } } }",
        &json!({}),
    )
    .await;
    let cursor = first["data"]["volunteers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|node| node["serviceRecords"]["edges"][1]["cursor"].as_str().map(str::to_owned))
        .expect("a volunteer with two records");
    for (name, query) in nestings() {
        let variables = if query.contains("$after") { json!({ "after": cursor }) } else { json!({}) };
        let counted = query.replace("TOTAL", "totalCount");
        let uncounted = query.replace("TOTAL", "");
        let (with_totals, counted_statements) = ask(&server, &token, &counted, &variables).await;
        let (without, uncounted_statements) = ask(&server, &token, &uncounted, &variables).await;
        assert_eq!(without_totals(&with_totals), without, "{name}: the pages differ");
        assert_eq!(counted_statements, uncounted_statements, "{name}: statements with and without totals");
        let mut found = Vec::new();
        totals(&with_totals, &mut found);
        assert!(found.iter().any(|&total| total > 0), "{name}: nothing was read");
        let serialized = without.to_string();
        let cut =
            serialized.contains("\"hasNextPage\":true") || serialized.contains("\"hasPreviousPage\":true");
        assert!(cut, "{name}: no page was cut short of its parent's rows");
    }
}

#[tokio::test]
async fn a_total_asked_for_beside_an_uncounted_page_is_still_exact() {
    // The same field twice under one response key: GraphQL merges the two selections into one field.
    let server = shared_demo().await;
    let response = server
        .gql(
            Some(&admin()),
            "{ volunteers(first: 5) { nodes { code
                 serviceRecords(first: 1) { edges { node { id } } }
                 serviceRecords(first: 1) { totalCount } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    for node in response["data"]["volunteers"]["nodes"].as_array().unwrap() {
        let code = node["code"].as_str().unwrap();
        let expected = service_records_of(server, code).await;
        assert_eq!(node["serviceRecords"]["totalCount"], expected, "{code}");
        assert_eq!(
            node["serviceRecords"]["edges"].as_array().unwrap().len() as i64,
            expected.min(1),
            "{code}"
        );
    }
}

#[tokio::test]
async fn a_page_past_the_end_of_its_parents_rows_still_counts_them() {
    let server = shared_demo().await;
    // Cursors past either end of every volunteer's records: the pages are empty, the totals are not.
    for (args, cursor) in
        [("first: 2, after: $cursor", "i:9223372036854775000"), ("last: 2, before: $cursor", "i:0")]
    {
        let query = format!(
            "query($cursor: String) {{ volunteers(first: 12) {{ nodes {{ code
               serviceRecords({args}) {{ totalCount edges {{ node {{ id }} }} }} }} }} }}"
        );
        let encoded = URL_SAFE_NO_PAD.encode(cursor);
        let response = server.gql(Some(&admin()), &query, json!({ "cursor": encoded })).await;
        assert_no_errors(&response);
        let mut counted = 0;
        for node in response["data"]["volunteers"]["nodes"].as_array().unwrap() {
            let code = node["code"].as_str().unwrap();
            let expected = service_records_of(server, code).await;
            assert_eq!(node["serviceRecords"]["totalCount"], expected, "{args}: {code}");
            assert_eq!(node["serviceRecords"]["edges"], json!([]), "{args}: {code}");
            counted += expected;
        }
        assert!(counted > 0, "{args}: no volunteer has records");
    }
}
