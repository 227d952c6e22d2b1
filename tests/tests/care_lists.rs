//! The top-level care lists over HTTP: `careVisits`, `riskAssessments` and `Region.careSubjects`, with their
//! filters cross-checked by SQL, both orderings, paging both ways, lookups and `node`, region scope, the policy's
//! refusals and masks, and batching of the per-region subject pages.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entities::{care_subject, care_visit, region};
use govgraph_tests::{
    Fixture, TestServer, admin, assert_no_errors, count, error_codes, shared_demo, token_for,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const PURPOSE: (&str, &str) = ("x-access-purpose", "quarterly risk review");

/// `(SELECT id FROM care_subject WHERE <grid under the region with this code>)`.
fn subjects_under(code: &str) -> String {
    format!(
        "(SELECT id FROM care_subject WHERE region_id IN (SELECT id FROM region WHERE path LIKE '%/{code}/%'))"
    )
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"].as_array().unwrap().iter().map(|edge| edge["node"].clone()).collect()
}

async fn data(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    let response = server.gql_with_headers(Some(token), &[PURPOSE], query, variables).await;
    assert_no_errors(&response);
    response["data"].clone()
}

async fn visit_total(server: &TestServer, token: &str, filter: Value) -> i64 {
    let data = data(
        server,
        token,
        "query($f: CareVisitFilter) { careVisits(filter: $f) { totalCount } }",
        json!({ "f": filter }),
    )
    .await;
    data["careVisits"]["totalCount"].as_i64().unwrap()
}

async fn assessment_total(server: &TestServer, token: &str, filter: Value) -> i64 {
    let data = data(
        server,
        token,
        "query($f: RiskAssessmentFilter) { riskAssessments(filter: $f) { totalCount } }",
        json!({ "f": filter }),
    )
    .await;
    data["riskAssessments"]["totalCount"].as_i64().unwrap()
}

/// Every visit of the database, read through the entities (typed, so on either database).
async fn all_visits(server: &TestServer) -> Vec<care_visit::Model> {
    let db = server.db.connect().await;
    care_visit::Entity::find().all(&db).await.expect("visits")
}

#[tokio::test]
async fn visits_list_lookup_and_node_agree() {
    let server = shared_demo().await;
    let token = admin();
    let all = count(server, "SELECT COUNT(*) FROM care_visit").await;
    assert!(all > 20, "the demo data has visits: {all}");
    let list = data(
        server,
        &token,
        "{ careVisits(first: 3) { totalCount pageInfo { hasNextPage hasPreviousPage }
             nodes { id kind visitedAt visitor notes subject { code } } } }",
        json!({}),
    )
    .await;
    assert_eq!(list["careVisits"]["totalCount"], all);
    assert_eq!(list["careVisits"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(list["careVisits"]["pageInfo"]["hasPreviousPage"], false);
    let visits = list["careVisits"]["nodes"].as_array().unwrap().clone();
    assert_eq!(visits.len(), 3);
    let second = &visits[1];
    let lookup = data(
        server,
        &token,
        "query($id: ID!) { careVisit(id: $id) { id kind subject { code } }
             node(id: $id) { id ... on CareVisit { visitedAt visitor } } }",
        json!({ "id": second["id"] }),
    )
    .await;
    assert_eq!(lookup["careVisit"]["id"], second["id"]);
    assert_eq!(lookup["careVisit"]["subject"]["code"], second["subject"]["code"]);
    assert_eq!(lookup["node"]["visitedAt"], second["visitedAt"]);
    assert_eq!(lookup["node"]["visitor"], second["visitor"]);

    // A care subject's ID is not a visit's.
    let subject = data(server, &token, "{ careSubjects(first: 1) { nodes { id } } }", json!({})).await;
    let wrong = server
        .gql(
            Some(&token),
            "query($id: ID!) { careVisit(id: $id) { id } }",
            json!({ "id": subject["careSubjects"]["nodes"][0]["id"] }),
        )
        .await;
    assert_eq!(error_codes(&wrong), ["BAD_USER_INPUT"]);
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "id");
}

#[tokio::test]
async fn visit_filters_match_sql() {
    let server = shared_demo().await;
    let token = admin();
    let visitor: String = {
        let db = server.db.connect().await;
        let visit = care_visit::Entity::find().one(&db).await.unwrap().unwrap();
        visit.visitor.chars().take(1).collect()
    };
    let subject_code = data(
        server,
        &token,
        "{ careVisits(first: 1) { nodes { subject { code } } } }",
        json!({}),
    )
    .await["careVisits"]["nodes"][0]["subject"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases: Vec<(Value, String)> = vec![
        (json!({}), "1 = 1".into()),
        (json!({ "inRegion": "330902" }), format!("subject_id IN {}", subjects_under("330902"))),
        (json!({ "inRegion": "330902001" }), format!("subject_id IN {}", subjects_under("330902001"))),
        (json!({ "inRegion": "330922" }), format!("subject_id IN {}", subjects_under("330922"))),
        (json!({ "inRegion": "999999" }), "1 = 0".into()),
        (
            json!({ "subjectCode": subject_code }),
            format!("subject_id IN (SELECT id FROM care_subject WHERE code = '{subject_code}')"),
        ),
        (json!({ "kind": "FOLLOW_UP" }), "kind = 'FOLLOW_UP'".into()),
        (json!({ "kindIn": ["CHECK_IN", "HOME_VISIT"] }), "kind IN ('CHECK_IN', 'HOME_VISIT')".into()),
        (json!({ "kindIn": [] }), "1 = 0".into()),
        (json!({ "visitor": visitor }), format!("visitor LIKE '%{visitor}%'")),
        (json!({ "visitor": "%" }), "1 = 0".into()),
        (
            json!({ "or": [{ "kind": "CHECK_IN" }, { "inRegion": "330922" }] }),
            format!("(kind = 'CHECK_IN' OR subject_id IN {})", subjects_under("330922")),
        ),
        (
            json!({ "and": [{ "inRegion": "330902" }, { "not": { "kind": "FOLLOW_UP" } }] }),
            format!("subject_id IN {} AND kind <> 'FOLLOW_UP'", subjects_under("330902")),
        ),
        (json!({ "not": { "visitor": visitor } }), format!("NOT (visitor LIKE '%{visitor}%')")),
        (json!({ "or": [] }), "1 = 0".into()),
        (json!({ "or": [{}, { "kind": "CHECK_IN" }] }), "1 = 1".into()),
        (json!({ "not": {} }), "1 = 0".into()),
    ];
    let mut nonzero = 0;
    for (filter, condition) in cases {
        let expected = count(server, &format!("SELECT COUNT(*) FROM care_visit WHERE {condition}")).await;
        nonzero += usize::from(expected > 0);
        assert_eq!(visit_total(server, &token, filter.clone()).await, expected, "{filter} vs {condition}");
    }
    assert!(nonzero >= 10, "the cases exercise real data");

    // Time ranges: at or after `from`, before `to`, checked against the typed rows.
    let visits = all_visits(server).await;
    let mut times: Vec<DateTime<Utc>> = visits.iter().map(|v| v.visited_at).collect();
    times.sort();
    let (from, to) = (times[times.len() / 4], times[times.len() * 3 / 4]);
    let between = visits.iter().filter(|v| v.visited_at >= from && v.visited_at < to).count() as i64;
    let since = visits.iter().filter(|v| v.visited_at >= from).count() as i64;
    let before = visits.iter().filter(|v| v.visited_at < to).count() as i64;
    assert!(between > 0 && since > between && before > between);
    let stamp = |t: DateTime<Utc>| t.to_rfc3339();
    assert_eq!(visit_total(server, &token, json!({ "from": stamp(from), "to": stamp(to) })).await, between);
    assert_eq!(visit_total(server, &token, json!({ "from": stamp(from) })).await, since);
    assert_eq!(visit_total(server, &token, json!({ "to": stamp(to) })).await, before);
    assert_eq!(
        visit_total(server, &token, json!({ "not": { "from": stamp(from) } })).await,
        visits.len() as i64 - since
    );
}

/// Walks a connection to its end, forwards (`first`/`after`) or backwards (`last`/`before`).
async fn walk(
    server: &TestServer,
    token: &str,
    query: &str,
    field: &str,
    order: Value,
    backwards: bool,
) -> (Vec<Value>, i64) {
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let variables = if backwards {
            json!({ "order": order, "last": 7, "before": cursor })
        } else {
            json!({ "order": order, "first": 7, "after": cursor })
        };
        let page = data(server, token, query, variables).await;
        let connection = &page[field];
        let mut batch = nodes(connection);
        let info = &connection["pageInfo"];
        if backwards {
            batch.extend(seen);
            seen = batch;
            if !info["hasPreviousPage"].as_bool().unwrap() {
                return (seen, connection["totalCount"].as_i64().unwrap());
            }
            cursor = info["startCursor"].as_str().map(str::to_owned);
        } else {
            seen.extend(batch);
            if !info["hasNextPage"].as_bool().unwrap() {
                return (seen, connection["totalCount"].as_i64().unwrap());
            }
            cursor = info["endCursor"].as_str().map(str::to_owned);
        }
    }
}

const VISIT_PAGES: &str = "query($order: CareVisitOrder, $first: Int, $after: String, $last: Int, $before: String) {
    careVisits(filter: { inRegion: \"330902\" }, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id visitedAt } } } }";

#[tokio::test]
async fn visits_page_both_ways_in_both_orders() {
    let server = shared_demo().await;
    let token = admin();
    let expected = count(
        server,
        &format!("SELECT COUNT(*) FROM care_visit WHERE subject_id IN {}", subjects_under("330902")),
    )
    .await;
    assert!(expected > 14, "several pages: {expected}");
    for order in [Value::Null, json!({ "descending": false }), json!({ "descending": true })] {
        let (forwards, total) = walk(server, &token, VISIT_PAGES, "careVisits", order.clone(), false).await;
        assert_eq!(total, expected);
        assert_eq!(forwards.len() as i64, total, "totalCount equals the nodes walked ({order})");
        let ids: HashSet<&str> = forwards.iter().map(|n| n["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), forwards.len(), "no visit twice");
        let (backwards, _) = walk(server, &token, VISIT_PAGES, "careVisits", order.clone(), true).await;
        assert_eq!(backwards, forwards, "the same sequence from the end ({order})");
        if order.is_null() {
            continue;
        }
        let times: Vec<DateTime<Utc>> =
            forwards.iter().map(|n| n["visitedAt"].as_str().unwrap().parse().unwrap()).collect();
        if order["descending"] == true {
            assert!(times.windows(2).all(|w| w[0] >= w[1]), "latest first");
        } else {
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "earliest first");
        }
    }
    // A cursor of one ordering is refused by the other.
    let page =
        data(server, &token, VISIT_PAGES, json!({ "order": { "descending": true }, "first": 2 })).await;
    let cursor = page["careVisits"]["pageInfo"]["endCursor"].clone();
    let refused = server.gql(Some(&token), VISIT_PAGES, json!({ "first": 2, "after": cursor })).await;
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"]);
    assert_eq!(refused["errors"][0]["extensions"]["field"], "after");
}

#[tokio::test]
async fn assessment_filters_match_sql_and_levels_are_sensitive() {
    let server = shared_demo().await;
    let token = admin();
    let all = count(server, "SELECT COUNT(*) FROM risk_assessment").await;
    assert!(all > 10, "the demo data has assessments: {all}");
    let cases: Vec<(Value, String)> = vec![
        (json!({}), "1 = 1".into()),
        (json!({ "inRegion": "330902" }), format!("subject_id IN {}", subjects_under("330902"))),
        (json!({ "inRegion": "330921001" }), format!("subject_id IN {}", subjects_under("330921001"))),
        (json!({ "inRegion": "nowhere" }), "1 = 0".into()),
        (json!({ "minLevel": 3 }), "level >= 3".into()),
        (json!({ "maxLevel": 1 }), "level <= 1".into()),
        (json!({ "minLevel": 2, "maxLevel": 2 }), "level = 2".into()),
        (json!({ "assessedFrom": "2024-01-01" }), "assessed_on >= '2024-01-01'".into()),
        (
            json!({ "assessedFrom": "2022-01-01", "assessedTo": "2024-06-30" }),
            "assessed_on >= '2022-01-01' AND assessed_on <= '2024-06-30'".into(),
        ),
        (
            json!({ "or": [{ "minLevel": 4 }, { "inRegion": "330922" }] }),
            format!("(level >= 4 OR subject_id IN {})", subjects_under("330922")),
        ),
        (
            json!({ "and": [{ "inRegion": "330902" }, { "not": { "maxLevel": 0 } }] }),
            format!("subject_id IN {} AND NOT (level <= 0)", subjects_under("330902")),
        ),
        (json!({ "not": { "or": [] } }), "1 = 1".into()),
    ];
    let mut nonzero = 0;
    for (filter, condition) in cases {
        let expected =
            count(server, &format!("SELECT COUNT(*) FROM risk_assessment WHERE {condition}")).await;
        nonzero += usize::from(expected > 0);
        assert_eq!(
            assessment_total(server, &token, filter.clone()).await,
            expected,
            "{filter} vs {condition}"
        );
    }
    assert!(nonzero >= 9, "the cases exercise real data");
    let code =
        data(server, &token, "{ riskAssessments(first: 1) { nodes { subject { code } } } }", json!({})).await
            ["riskAssessments"]["nodes"][0]["subject"]["code"]
            .as_str()
            .unwrap()
            .to_owned();
    let expected = count(
        server,
        &format!(
            "SELECT COUNT(*) FROM risk_assessment WHERE subject_id IN (SELECT id FROM care_subject WHERE code = '{code}')"
        ),
    )
    .await;
    assert!(expected >= 1);
    assert_eq!(assessment_total(server, &token, json!({ "subjectCode": code })).await, expected);

    // The level is sensitive: an officer may list assessments but not filter by level, nor may anyone without
    // a stated purpose.
    let officer = token_for("officer-1", &["officer"], "330900");
    assert_eq!(assessment_total(server, &officer, json!({ "inRegion": "330902" })).await, {
        count(
            server,
            &format!("SELECT COUNT(*) FROM risk_assessment WHERE subject_id IN {}", subjects_under("330902")),
        )
        .await
    });
    let query = "{ riskAssessments(filter: { not: { minLevel: 3 } }) { totalCount } }";
    let refused = server.gql_with_headers(Some(&officer), &[PURPOSE], query, json!({})).await;
    assert_eq!(error_codes(&refused), ["FORBIDDEN"], "{refused}");
    let no_purpose = server.gql(Some(&token), query, json!({})).await;
    assert_eq!(error_codes(&no_purpose), ["FORBIDDEN"], "{no_purpose}");
}

const ASSESSMENT_PAGES: &str = "query($order: RiskAssessmentOrder, $first: Int, $after: String, $last: Int, $before: String) {
    riskAssessments(orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id assessedOn } } } }";

#[tokio::test]
async fn assessments_page_both_ways_with_lookup_and_node() {
    let server = TestServer::start(Fixture::Demo(0.005)).await;
    let token = admin();
    let all = count(&server, "SELECT COUNT(*) FROM risk_assessment").await;
    assert!(all > 7, "{all}");
    for order in [Value::Null, json!({ "descending": true }), json!({})] {
        let (forwards, total) =
            walk(&server, &token, ASSESSMENT_PAGES, "riskAssessments", order.clone(), false).await;
        assert_eq!((forwards.len() as i64, total), (all, all), "{order}");
        let (backwards, _) =
            walk(&server, &token, ASSESSMENT_PAGES, "riskAssessments", order.clone(), true).await;
        assert_eq!(backwards, forwards, "{order}");
        let days: Vec<&str> = forwards.iter().map(|n| n["assessedOn"].as_str().unwrap()).collect();
        if order["descending"] == true {
            assert!(days.windows(2).all(|w| w[0] >= w[1]));
        } else if order.is_object() {
            assert!(days.windows(2).all(|w| w[0] <= w[1]));
        }
    }
    let first =
        data(&server, &token, "{ riskAssessments(first: 1) { nodes { id level assessedOn } } }", json!({}))
            .await["riskAssessments"]["nodes"][0]
            .clone();
    let lookup = data(
        &server,
        &token,
        "query($id: ID!) { riskAssessment(id: $id) { id level }
             node(id: $id) { ... on RiskAssessment { assessedOn } } }",
        json!({ "id": first["id"] }),
    )
    .await;
    assert_eq!(lookup["riskAssessment"]["level"], first["level"]);
    assert_eq!(lookup["node"]["assessedOn"], first["assessedOn"]);
}

#[tokio::test]
async fn roles_without_the_right_are_forbidden_and_masks_hold() {
    let server = shared_demo().await;
    for role in ["volunteer_coordinator", "mentor_coordinator", "fund_officer", "partner", "auditor"] {
        let token = token_for("r", &[role], "330900");
        let response = server.gql(Some(&token), "{ careVisits { totalCount } }", json!({})).await;
        assert_eq!(error_codes(&response), ["FORBIDDEN"], "{role}: {response}");
        assert_eq!(response["data"], Value::Null, "{role}");
    }
    for role in ["grid_worker", "volunteer_coordinator", "mentor_coordinator", "fund_officer", "partner"] {
        let token = token_for("r", &[role], "330900");
        let response = server.gql(Some(&token), "{ riskAssessments { totalCount } }", json!({})).await;
        assert_eq!(error_codes(&response), ["FORBIDDEN"], "{role}: {response}");
    }
    let anonymous = server.gql(None, "{ careVisits { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);

    // An analyst sees visits with masked visitors and no sensitive fields, and may not search by visitor.
    let analyst = token_for("analyst-1", &["analyst"], "330900");
    let response = server
        .gql(Some(&analyst), "{ careVisits(first: 5) { nodes { kind visitor notes } } }", json!({}))
        .await;
    let visits = response["data"]["careVisits"]["nodes"].as_array().unwrap();
    assert_eq!(visits.len(), 5);
    for visit in visits {
        assert!(visit["visitor"].as_str().unwrap().ends_with('*'), "{visit}");
        assert_eq!(visit["notes"], Value::Null);
    }
    assert!(
        error_codes(&response).iter().all(|code| code == "FORBIDDEN") && !error_codes(&response).is_empty()
    );
    let by_visitor = server
        .gql(
            Some(&analyst),
            "{ careVisits(filter: { or: [{ visitor: \"王\" }] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&by_visitor), ["FORBIDDEN"]);
    let levels = server
        .gql(
            Some(&analyst),
            "{ riskAssessments(first: 2) { nodes { assessedOn level assessor } } }",
            json!({}),
        )
        .await;
    for node in levels["data"]["riskAssessments"]["nodes"].as_array().unwrap() {
        assert_eq!(node["level"], Value::Null);
        assert!(node["assessor"].as_str().unwrap().ends_with('*'));
    }
    // A care worker sees visitors in clear and, with a purpose, the notes.
    let care_worker = token_for("care-1", &["care_worker"], "330900");
    let clear =
        data(server, &care_worker, "{ careVisits(first: 5) { nodes { visitor notes } } }", json!({})).await;
    for visit in clear["careVisits"]["nodes"].as_array().unwrap() {
        assert!(!visit["visitor"].as_str().unwrap().contains('*'), "{visit}");
    }
}

#[tokio::test]
async fn a_township_token_never_sees_another_county() {
    let server = shared_demo().await;
    let admin = admin();
    let outside = data(
        server,
        &admin,
        "{ careVisits(filter: { inRegion: \"330922\" }, first: 1) { nodes { id } }
           riskAssessments(filter: { inRegion: \"330922\" }, first: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    let visit_id = outside["careVisits"]["nodes"][0]["id"].clone();
    let assessment_id = outside["riskAssessments"]["nodes"][0]["id"].clone();
    assert!(visit_id.is_string() && assessment_id.is_string(), "嵊泗县 has visits and assessments");
    let home_visits = count(
        server,
        &format!("SELECT COUNT(*) FROM care_visit WHERE subject_id IN {}", subjects_under("330902001")),
    )
    .await;
    let home_assessments = count(
        server,
        &format!("SELECT COUNT(*) FROM risk_assessment WHERE subject_id IN {}", subjects_under("330902001")),
    )
    .await;
    for role in ["admin", "care_worker", "officer", "analyst", "grid_worker"] {
        let token = token_for("local", &[role], "330902001");
        let response = server
            .gql_with_headers(
                Some(&token),
                &[PURPOSE],
                "query($visit: ID!) {
                   all: careVisits(first: 500) { totalCount nodes { id subject { grid { code } } } }
                   there: careVisits(filter: { inRegion: \"330922\" }) { totalCount }
                   notHome: careVisits(filter: { not: { inRegion: \"330902001\" } }) { totalCount }
                   careVisit(id: $visit) { id }
                   node(id: $visit) { id } }",
                json!({ "visit": visit_id }),
            )
            .await;
        assert_no_errors(&response);
        let data = &response["data"];
        assert_eq!(data["all"]["totalCount"], home_visits, "{role}");
        for node in data["all"]["nodes"].as_array().unwrap() {
            assert!(node["subject"]["grid"]["code"].as_str().unwrap().starts_with("330902001"), "{role}");
            assert_ne!(node["id"], visit_id);
        }
        assert_eq!(data["there"]["totalCount"], 0, "{role}");
        assert_eq!(data["notHome"]["totalCount"], 0, "{role}");
        assert_eq!(data["careVisit"], Value::Null, "{role}");
        assert_eq!(data["node"], Value::Null, "{role}");
        if role == "grid_worker" {
            continue;
        }
        let response = server
            .gql_with_headers(
                Some(&token),
                &[PURPOSE],
                "query($a: ID!) { riskAssessments(first: 500) { totalCount }
                   there: riskAssessments(filter: { inRegion: \"330922\" }) { totalCount }
                   riskAssessment(id: $a) { id } node(id: $a) { id } }",
                json!({ "a": assessment_id }),
            )
            .await;
        assert_no_errors(&response);
        assert_eq!(response["data"]["riskAssessments"]["totalCount"], home_assessments, "{role}");
        assert_eq!(response["data"]["there"]["totalCount"], 0, "{role}");
        assert_eq!(response["data"]["riskAssessment"], Value::Null, "{role}");
        assert_eq!(response["data"]["node"], Value::Null, "{role}");
    }
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let server = shared_demo().await;
    let token = admin();
    let cases = [
        (
            r#"{ careVisits(filter: { from: "2025-01-02T00:00:00Z", to: "2025-01-01T00:00:00Z" }) { totalCount } }"#,
            "filter.to",
        ),
        (r#"{ careVisits(filter: { and: [{ visitor: " " }] }) { totalCount } }"#, "filter.and[0].visitor"),
        ("{ careVisits(first: 501) { totalCount } }", "first"),
        ("{ riskAssessments(filter: { minLevel: 9 }) { totalCount } }", "filter.minLevel"),
        (
            "{ riskAssessments(filter: { or: [{ minLevel: 4, maxLevel: 2 }] }) { totalCount } }",
            "filter.or[0].maxLevel",
        ),
        (
            r#"{ riskAssessments(filter: { assessedFrom: "2025-01-02", assessedTo: "2025-01-01" }) { totalCount } }"#,
            "filter.assessedTo",
        ),
        (r#"{ riskAssessment(id: "bogus") { id } }"#, "id"),
        (
            "{ regions(first: 1) { nodes { careSubjects(filter: { not: { notVisitedForDays: -1 } }) { totalCount } } } }",
            "filter.not.notVisitedForDays",
        ),
        (r#"{ regions(first: 1) { nodes { careSubjects(after: "bogus!") { totalCount } } } }"#, "after"),
        ("{ regions(first: 1) { nodes { careSubjects(last: 501) { totalCount } } } }", "last"),
    ];
    for (query, field) in cases {
        let response = server.gql_with_headers(Some(&token), &[PURPOSE], query, json!({})).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{query}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{query}");
    }
}

/// Codes of the care subjects under the region with `code`, in id order, read through the entities.
async fn subject_codes_under(server: &TestServer, code: &str) -> Vec<String> {
    let db = server.db.connect().await;
    let root = region::Entity::find().filter(region::Column::Code.eq(code)).one(&db).await.unwrap().unwrap();
    let (low, high) = region::subtree_bounds(&root.path);
    let grids: HashSet<i64> = region::Entity::find()
        .filter(region::Column::Path.gte(low))
        .filter(region::Column::Path.lt(high))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut subjects: Vec<care_subject::Model> = care_subject::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| grids.contains(&s.region_id))
        .collect();
    subjects.sort_by_key(|s| s.id);
    subjects.into_iter().map(|s| s.code).collect()
}

const REGION_SUBJECTS: &str = "query($code: String!, $filter: CareSubjectFilter, $order: CareSubjectOrder,
      $first: Int, $after: String, $last: Int, $before: String) {
    region(code: $code) { careSubjects(filter: $filter, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { code registeredOn grid { code } } } } } }";

/// Walks 定海区's `careSubjects` in pages of 4, forwards or backwards, checking `totalCount` on every page.
async fn walk_region(
    server: &TestServer,
    token: &str,
    filter: &Value,
    order: &Value,
    expected: i64,
    backwards: bool,
) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut variables = json!({ "code": "330902", "filter": filter, "order": order });
        if backwards {
            variables["last"] = json!(4);
            variables["before"] = json!(cursor);
        } else {
            variables["first"] = json!(4);
            variables["after"] = json!(cursor);
        }
        let page = data(server, token, REGION_SUBJECTS, variables).await;
        let connection = page["region"]["careSubjects"].clone();
        assert_eq!(connection["totalCount"], expected);
        let batch = nodes(&connection);
        assert!(batch.len() <= 4);
        if backwards {
            seen.splice(0..0, batch);
            if connection["pageInfo"]["hasPreviousPage"] == false {
                return seen;
            }
            cursor = connection["pageInfo"]["startCursor"].as_str().map(str::to_owned);
        } else {
            seen.extend(batch);
            if connection["pageInfo"]["hasNextPage"] == false {
                return seen;
            }
            cursor = connection["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
    }
}

#[tokio::test]
async fn a_regions_care_subjects_are_its_subtrees() {
    let server = shared_demo().await;
    let token = admin();
    for code in ["330900", "330902", "330902001", "330922"] {
        let expected = subject_codes_under(server, code).await;
        assert!(!expected.is_empty(), "{code} has care subjects");
        let page = data(server, &token, REGION_SUBJECTS, json!({ "code": code, "first": 500 })).await;
        let connection = &page["region"]["careSubjects"];
        assert_eq!(connection["totalCount"], expected.len(), "{code}");
        let codes: Vec<String> =
            nodes(connection).iter().map(|n| n["code"].as_str().unwrap().to_owned()).collect();
        assert_eq!(codes, expected[..expected.len().min(500)], "{code}: registration order");
        // The same subjects as the top-level list filtered by the region.
        let top = data(
            server,
            &token,
            "query($code: String!) { careSubjects(filter: { inRegion: $code }) { totalCount } }",
            json!({ "code": code }),
        )
        .await;
        assert_eq!(top["careSubjects"]["totalCount"], connection["totalCount"], "{code}");
    }

    // Filters and orderings are those of `careSubjects`; pages walk both ways.
    let filter = json!({ "category": "SEVERE_MENTAL_DISORDER", "not": { "status": "CLOSED" } });
    let expected = count(
        server,
        &format!(
            "SELECT COUNT(*) FROM care_subject WHERE id IN {} AND category = 'SEVERE_MENTAL_DISORDER' AND status <> 'CLOSED'",
            subjects_under("330902")
        ),
    )
    .await;
    assert!(expected > 7, "{expected}");
    for order in
        [Value::Null, json!({ "field": "REGISTERED_ON", "descending": true }), json!({ "field": "CODE" })]
    {
        let forwards = walk_region(server, &token, &filter, &order, expected, false).await;
        assert_eq!(forwards.len() as i64, expected, "totalCount equals the nodes walked ({order})");
        let backwards = walk_region(server, &token, &filter, &order, expected, true).await;
        assert_eq!(backwards, forwards, "{order}");
        let top = data(
            server,
            &token,
            "query($filter: CareSubjectFilter, $order: CareSubjectOrder) {
               careSubjects(filter: $filter, orderBy: $order, first: 500) { nodes { code registeredOn grid { code } } } }",
            json!({ "filter": { "and": [filter, { "inRegion": "330902" }] }, "order": order }),
        )
        .await;
        assert_eq!(
            top["careSubjects"]["nodes"].as_array().unwrap(),
            &forwards,
            "same order as the top-level list"
        );
    }
}

#[tokio::test]
async fn region_care_subjects_keep_scope_policy_and_masks() {
    let server = shared_demo().await;
    let local = token_for("local", &["care_worker"], "330902001");
    let home = subject_codes_under(server, "330902001").await;
    let response = data(
        server,
        &local,
        "{ regions(first: 500) { nodes { code careSubjects(first: 500) { totalCount nodes { code grid { code } } } } }
           region(code: \"330922\") { careSubjects { totalCount } } }",
        json!({}),
    )
    .await;
    assert_eq!(response["region"], Value::Null, "a region outside the scope is not found");
    let regions = response["regions"]["nodes"].as_array().unwrap();
    assert!(!regions.is_empty());
    for region in regions {
        assert!(region["code"].as_str().unwrap().starts_with("330902001"));
        for node in region["careSubjects"]["nodes"].as_array().unwrap() {
            assert!(node["grid"]["code"].as_str().unwrap().starts_with("330902001"));
        }
        if region["code"] == "330902001" {
            assert_eq!(region["careSubjects"]["totalCount"], home.len());
        }
    }
    // Scoped to a township, a query for the whole city's subjects sees only the township's.
    let city = token_for("city", &["care_worker"], "330900");
    let outer =
        data(server, &city, "{ region(code: \"330902001\") { careSubjects { totalCount } } }", json!({}))
            .await;
    assert_eq!(outer["region"]["careSubjects"]["totalCount"], home.len());

    // Roles that may not read care subjects get FORBIDDEN on the field, the region itself stays.
    let coordinator = token_for("vc", &["volunteer_coordinator"], "330900");
    let refused = server
        .gql(
            Some(&coordinator),
            "{ region(code: \"330902\") { code careSubjects { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
    assert_eq!(refused["data"]["region"]["code"], "330902");
    assert_eq!(refused["data"]["region"]["careSubjects"], Value::Null);
    // Filtering by visits needs the right to read visits; ordering by name needs names in clear.
    let analyst = token_for("analyst-1", &["analyst"], "330900");
    let masked = data(
        server,
        &analyst,
        "{ region(code: \"330902\") { careSubjects(first: 3) { nodes { name phone } } } }",
        json!({}),
    )
    .await;
    for node in masked["region"]["careSubjects"]["nodes"].as_array().unwrap() {
        assert!(node["name"].as_str().unwrap().ends_with('*'), "{node}");
    }
    let by_name = server
        .gql(
            Some(&analyst),
            "{ region(code: \"330902\") { careSubjects(orderBy: { field: NAME }) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&by_name), ["FORBIDDEN"]);
}

const REGION_BATCH: &str = "query($n: Int) { regions(first: 50) { nodes { code
    careSubjects(first: $n) { totalCount nodes { code } } } } }";

#[tokio::test]
async fn region_care_subjects_statements_do_not_grow_with_the_page_size() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let token = admin();
    server.warm_up(&token).await;
    let mut counts = Vec::new();
    let mut answers = Vec::new();
    for n in [5, 50] {
        let before = server.statement_count();
        let response = server.gql(Some(&token), REGION_BATCH, json!({ "n": n })).await;
        assert_no_errors(&response);
        counts.push(server.statement_count() - before);
        answers.push(response);
    }
    assert_eq!(counts[0], counts[1], "statements for pages of 5 and 50: {counts:?}");
    let regions = answers[1]["data"]["regions"]["nodes"].as_array().unwrap();
    assert_eq!(regions.len(), 50);
    let mut nonempty = 0;
    for (small, large) in answers[0]["data"]["regions"]["nodes"].as_array().unwrap().iter().zip(regions) {
        let code = large["code"].as_str().unwrap();
        let expected = subject_codes_under(&server, code).await;
        assert_eq!(large["careSubjects"]["totalCount"], expected.len(), "{code}");
        assert_eq!(small["careSubjects"]["totalCount"], expected.len(), "{code}");
        let codes: Vec<&str> = large["careSubjects"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, expected.iter().take(50).map(String::as_str).collect::<Vec<_>>(), "{code}");
        assert_eq!(small["careSubjects"]["nodes"].as_array().unwrap().len(), expected.len().min(5));
        nonempty += usize::from(!expected.is_empty());
    }
    assert!(nonempty >= 5, "several regions have subjects: {nonempty}");
    println!("statements per region/care-subject query: {counts:?}");
}
