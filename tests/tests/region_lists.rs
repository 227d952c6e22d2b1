//! `regions(filter:, orderBy:)`: the region tree as a filterable, sortable connection.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{TestServer, admin, assert_no_errors, error_codes, shared_demo, token_for};
use serde_json::{Value, json};

const LIST: &str = "query($filter: RegionFilter, $order: RegionOrder, $after: String, $first: Int) {
  regions(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { code name level depth }
  }
}";

async fn page(server: &TestServer, token: &str, filter: Value, order: Value, after: Option<&str>) -> Value {
    let variables = json!({ "filter": filter, "order": order, "after": after, "first": 500 });
    let response = server.gql(Some(token), LIST, variables).await;
    assert_no_errors(&response);
    response["data"]["regions"].clone()
}

async fn total(server: &TestServer, token: &str, filter: Value) -> i64 {
    page(server, token, filter, Value::Null, None).await["totalCount"].as_i64().unwrap()
}

async fn codes(server: &TestServer, token: &str, filter: Value) -> Vec<String> {
    let result = page(server, token, filter, Value::Null, None).await;
    result["nodes"].as_array().unwrap().iter().map(|node| node["code"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn filter_fields_match_the_shorthands_and_combine() {
    let server = shared_demo().await;
    let token = admin();
    let shorthand = server
        .gql(Some(&token), "{ regions(level: TOWNSHIP, inRegion: \"330902\") { totalCount } }", json!({}))
        .await;
    let townships = shorthand["data"]["regions"]["totalCount"].as_i64().unwrap();
    assert!(townships > 1);
    assert_eq!(total(server, &token, json!({ "inRegion": "330902", "level": "TOWNSHIP" })).await, townships);
    assert_eq!(total(server, &token, json!({ "parentCode": "330902" })).await, townships);

    // Every level of the subtree, by levelIn and by or.
    let subtree = total(server, &token, json!({ "inRegion": "330902" })).await;
    let communities = total(server, &token, json!({ "inRegion": "330902", "level": "COMMUNITY" })).await;
    let grids = total(server, &token, json!({ "inRegion": "330902", "level": "GRID" })).await;
    let both = json!({ "inRegion": "330902", "levelIn": ["COMMUNITY", "GRID"] });
    assert_eq!(total(server, &token, both).await, communities + grids);
    let either = json!({ "inRegion": "330902", "or": [{ "level": "COMMUNITY" }, { "level": "GRID" }] });
    assert_eq!(total(server, &token, either).await, communities + grids);
    let not_grids = json!({ "inRegion": "330902", "not": { "level": "GRID" } });
    assert_eq!(total(server, &token, not_grids).await, subtree - grids);
    assert_eq!(total(server, &token, json!({ "levelIn": [] })).await, 0);
    assert_eq!(total(server, &token, json!({ "or": [] })).await, 0);
    assert_eq!(total(server, &token, json!({ "inRegion": "999999" })).await, 0);

    // Shorthand arguments and the filter combine with AND.
    let response = server
        .gql(
            Some(&token),
            "{ regions(level: GRID, filter: { inRegion: \"330902\", level: TOWNSHIP }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(response["data"]["regions"]["totalCount"], 0);
}

#[tokio::test]
async fn search_finds_names_and_code_prefixes() {
    let server = shared_demo().await;
    let token = admin();
    assert!(codes(server, &token, json!({ "search": "定海区" })).await.contains(&"330902".to_owned()));
    let by_prefix = codes(server, &token, json!({ "search": "330902001", "level": "COMMUNITY" })).await;
    assert!(!by_prefix.is_empty());
    assert!(by_prefix.iter().all(|code| code.starts_with("330902001")));
    // Wildcards are literal.
    assert_eq!(total(server, &token, json!({ "search": "%" })).await, 0);
    for bad in ["", "   ", &"长".repeat(65)] {
        let variables = json!({ "filter": { "search": bad } });
        let response = server.gql(Some(&token), LIST, variables).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response}");
        let nested = json!({ "filter": { "not": { "search": bad } } });
        let response = server.gql(Some(&token), LIST, nested).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response}");
    }
}

#[tokio::test]
async fn every_ordering_pages_through_the_whole_list_in_both_directions() {
    let server = shared_demo().await;
    let token = admin();
    let filter = json!({ "inRegion": "330902001" });
    let expected = total(server, &token, filter.clone()).await;
    for field in ["CODE", "NAME", "DEPTH"] {
        for descending in [false, true] {
            let order = json!({ "field": field, "descending": descending });
            let mut seen: Vec<Value> = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let variables = json!({ "filter": filter, "order": order, "after": after, "first": 7 });
                let response = server.gql(Some(&token), LIST, variables).await;
                assert_no_errors(&response);
                let result = &response["data"]["regions"];
                assert_eq!(result["totalCount"].as_i64().unwrap(), expected);
                seen.extend(result["nodes"].as_array().unwrap().iter().cloned());
                if !result["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    break;
                }
                after = Some(result["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
            }
            assert_eq!(seen.len() as i64, expected, "{field} {descending}");
            let mut codes: Vec<&str> = seen.iter().map(|node| node["code"].as_str().unwrap()).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len() as i64, expected, "no region twice: {field} {descending}");
            let key = |node: &Value| match field {
                "CODE" => node["code"].as_str().unwrap().to_owned(),
                "NAME" => node["name"].as_str().unwrap().to_owned(),
                _ => format!("{:02}", node["depth"].as_i64().unwrap()),
            };
            let keys: Vec<String> = seen.iter().map(key).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if descending {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "{field} {descending}");
        }
    }
}

#[tokio::test]
async fn filters_never_reach_outside_the_tokens_region() {
    let server = shared_demo().await;
    let changguo = token_for("gw-1", &["grid_worker"], "330902001");
    assert_eq!(total(server, &changguo, json!({ "inRegion": "330922" })).await, 0);
    assert_eq!(total(server, &changguo, json!({ "search": "嵊泗" })).await, 0);
    assert_eq!(total(server, &changguo, json!({ "parentCode": "330922" })).await, 0);
    let mine = total(server, &changguo, json!({})).await;
    let admin_view = total(server, &admin(), json!({ "inRegion": "330902001" })).await;
    assert_eq!(mine, admin_view);
    let not_mine = json!({ "not": { "inRegion": "330902001" } });
    assert_eq!(total(server, &changguo, not_mine).await, 0);
}
