//! A filter's `inRegion` and the token's scope together: the scope predicate may only be left out when the
//! filter already confines rows to a region inside the scope, never when it points above or beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{Fixture, TestServer, assert_no_errors, token_for};
use serde_json::{Value, json};

async fn total(server: &TestServer, token: &str, query: &str, region: &str) -> u64 {
    let response = server.gql(Some(token), query, json!({ "region": region })).await;
    assert_no_errors(&response);
    let data = response["data"].as_object().unwrap().values().next().unwrap().clone();
    data["totalCount"].as_u64().unwrap()
}

fn codes(response: &Value, list: &str) -> Vec<String> {
    response["data"][list]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["grid"]["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn in_region_above_or_beside_the_scope_never_widens_it() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let admin = token_for("admin-1", &["admin"], "330900");
    let township = token_for("township-1", &["admin"], "330902001");
    let lists = [
        "query($region: String!) { volunteers(filter: { inRegion: $region }) { totalCount } }",
        "query($region: String!) { careSubjects(filter: { inRegion: $region }) { totalCount } }",
        "query($region: String!) { serviceRecords(filter: { inRegion: $region }) { totalCount } }",
    ];
    for query in lists {
        let own = total(&server, &admin, query, "330902001").await;
        assert!(own > 0, "the fixture has rows in 330902001: {query}");
        // The city and the district contain the township: the township token still sees only its own rows.
        assert_eq!(total(&server, &township, query, "330900").await, own, "{query}");
        assert_eq!(total(&server, &township, query, "330902").await, own, "{query}");
        // Inside the scope: the filter alone decides, and agrees with the admin's answer.
        assert_eq!(total(&server, &township, query, "330902001").await, own, "{query}");
        // Beside the scope: nothing.
        assert_eq!(total(&server, &township, query, "330922").await, 0, "{query}");
        assert!(total(&server, &admin, query, "330922").await > 0, "{query}");
    }

    // And the rows themselves lie in the township.
    let subjects = server
        .gql(
            Some(&township),
            r#"{ careSubjects(filter: { inRegion: "330900" }, first: 500) { nodes { grid { code } } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&subjects);
    let grids = codes(&subjects, "careSubjects");
    assert!(!grids.is_empty());
    assert!(grids.iter().all(|grid| grid.starts_with("330902001")), "{grids:?}");
}
