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

/// A city token's predicate skips the list of its regions when no region lies outside its tree; a second root
/// must bring the list back at once, for top-level lists, lookups and nested lists alike.
#[tokio::test]
async fn a_root_scope_never_reaches_a_region_outside_its_tree() {
    use sea_orm::ConnectionTrait;

    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let city = token_for("city-1", &["admin"], "330900");
    let lists = [
        "{ volunteers { totalCount } }",
        "{ careSubjects { totalCount } }",
        "{ serviceRecords { totalCount } }",
    ];
    let mut before = Vec::new();
    for query in lists {
        before.push(total(&server, &city, query, "330900").await);
    }
    let nested = "{ volunteers(first: 50) { nodes { serviceRecords { totalCount } } } }";
    let nested_before = server.gql(Some(&city), nested, json!({})).await;
    assert_no_errors(&nested_before);

    let db = server.db.connect().await;
    let at = "'2026-01-15T00:00:00+00:00'";
    for statement in [
        format!(
            "INSERT INTO region (id, code, name, level, parent_id, path, depth, created_at) \
             VALUES (990000, '990000', 'Elsewhere', 'CITY', NULL, '/990000/', 0, {at})"
        ),
        format!(
            "INSERT INTO volunteer (id, code, name, gender, id_number, phone, region_id, status, registered_on, \
             created_at, updated_at) VALUES (990000, 'V9900000', 'Outside', 'M', '330902199001011234', \
             '13800000000', 990000, 'ACTIVE', '2026-01-15', {at}, {at})"
        ),
        format!(
            "INSERT INTO service_record (volunteer_id, grid_id, activity, started_at, minutes, note, created_at) \
             SELECT 990000, 990000, activity, started_at, minutes, note, {at} FROM service_record LIMIT 3"
        ),
    ] {
        db.execute_unprepared(&statement).await.unwrap_or_else(|err| panic!("{statement}: {err}"));
    }

    for (query, before) in lists.iter().zip(before) {
        assert_eq!(total(&server, &city, query, "330900").await, before, "{query}");
    }
    let lookup = "{ volunteer(code: \"V9900000\") { code } }";
    let seen = server.gql(Some(&city), lookup, json!({})).await;
    assert_no_errors(&seen);
    assert_eq!(seen["data"]["volunteer"], Value::Null, "a city token looked up a volunteer of another root");
    assert_eq!(server.gql(Some(&city), nested, json!({})).await, nested_before);

    // The other root's own token sees its volunteer and records, and nothing of the first tree.
    let elsewhere = token_for("elsewhere-1", &["admin"], "990000");
    let own = server.gql(Some(&elsewhere), lookup, json!({})).await;
    assert_no_errors(&own);
    assert_eq!(own["data"]["volunteer"]["code"], "V9900000");
    assert_eq!(total(&server, &elsewhere, lists[0], "990000").await, 1);
    assert_eq!(total(&server, &elsewhere, lists[2], "990000").await, 3);
}
