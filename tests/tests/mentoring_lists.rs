//! The top-level mentoring lists over HTTP: `mentoringSessions` and `mentoringOutcomes` with their filters
//! cross-checked by SQL, both orderings, paging both ways, lookups and `node`, the mentee-region scope, the
//! policy's refusals and masks.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::collections::HashSet;

use govgraph_tests::{
    Fixture, TestServer, admin, assert_no_errors, count, error_codes, shared_demo, token_for,
};
use serde_json::{Value, json};

/// `(SELECT id FROM mentorship WHERE <mentee under the region with this code>)`.
fn pairings_under(code: &str) -> String {
    format!(
        "(SELECT id FROM mentorship WHERE mentee_id IN (SELECT id FROM care_subject WHERE region_id IN \
         (SELECT id FROM region WHERE path LIKE '%/{code}/%')))"
    )
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"].as_array().unwrap().iter().map(|edge| edge["node"].clone()).collect()
}

async fn data(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    let response = server.gql(Some(token), query, variables).await;
    assert_no_errors(&response);
    response["data"].clone()
}

async fn total(server: &TestServer, field: &str, input: &str, filter: Value) -> i64 {
    let query = format!("query($f: {input}) {{ {field}(filter: $f) {{ totalCount }} }}");
    let data = data(server, &admin(), &query, json!({ "f": filter })).await;
    data[field]["totalCount"].as_i64().unwrap()
}

/// A mentorship with at least one session and one outcome: its global ID, its row id and its mentor's code.
async fn busy_pairing(server: &TestServer) -> (String, i64, String) {
    let row_id = count(
        server,
        "SELECT MIN(m.id) FROM mentorship m
         WHERE EXISTS (SELECT 1 FROM mentoring_session s WHERE s.mentorship_id = m.id)
           AND EXISTS (SELECT 1 FROM mentoring_outcome o WHERE o.mentorship_id = m.id)",
    )
    .await;
    let id = govgraph::node::global_id(govgraph::node::NodeType::Mentorship, row_id).0;
    let data = data(
        server,
        &admin(),
        "query($id: ID!) { mentorship(id: $id) { mentor { code } } }",
        json!({ "id": id }),
    )
    .await;
    (id, row_id, data["mentorship"]["mentor"]["code"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn lists_lookups_and_node_agree() {
    let server = shared_demo().await;
    let token = admin();
    let sessions = count(server, "SELECT COUNT(*) FROM mentoring_session").await;
    let outcomes = count(server, "SELECT COUNT(*) FROM mentoring_outcome").await;
    assert!(sessions > 10 && outcomes > 5, "the demo data has sessions and outcomes: {sessions} {outcomes}");
    let list = data(
        server,
        &token,
        "{ mentoringSessions(first: 3) { totalCount pageInfo { hasNextPage } nodes { id heldOn topic notes
               mentorship { id } } }
           mentoringOutcomes(first: 3) { totalCount pageInfo { hasNextPage } nodes { id kind achievedOn description
               mentorship { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(list["mentoringSessions"]["totalCount"], sessions);
    assert_eq!(list["mentoringOutcomes"]["totalCount"], outcomes);
    assert_eq!(list["mentoringSessions"]["pageInfo"]["hasNextPage"], true);
    let session = list["mentoringSessions"]["nodes"][2].clone();
    let outcome = list["mentoringOutcomes"]["nodes"][1].clone();
    let lookup = data(
        server,
        &token,
        "query($s: ID!, $o: ID!) {
           mentoringSession(id: $s) { id heldOn mentorship { id } }
           mentoringOutcome(id: $o) { id kind mentorship { id } }
           s: node(id: $s) { ... on MentoringSession { topic } }
           o: node(id: $o) { ... on MentoringOutcome { achievedOn } } }",
        json!({ "s": session["id"], "o": outcome["id"] }),
    )
    .await;
    assert_eq!(lookup["mentoringSession"]["heldOn"], session["heldOn"]);
    assert_eq!(lookup["mentoringSession"]["mentorship"], session["mentorship"]);
    assert_eq!(lookup["mentoringOutcome"]["kind"], outcome["kind"]);
    assert_eq!(lookup["s"]["topic"], session["topic"]);
    assert_eq!(lookup["o"]["achievedOn"], outcome["achievedOn"]);
    // A session's ID is not an outcome's.
    let wrong = server
        .gql(
            Some(&token),
            "query($id: ID!) { mentoringOutcome(id: $id) { id } }",
            json!({ "id": session["id"] }),
        )
        .await;
    assert_eq!(error_codes(&wrong), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn session_filters_match_sql() {
    let server = shared_demo().await;
    let (pairing, pairing_row, mentor) = busy_pairing(server).await;
    let by_mentor = format!(
        "mentorship_id IN (SELECT id FROM mentorship WHERE mentor_id IN (SELECT id FROM mentor WHERE code = '{mentor}'))"
    );
    let cases: Vec<(Value, String)> = vec![
        (json!({}), "1 = 1".into()),
        (json!({ "inRegion": "330902" }), format!("mentorship_id IN {}", pairings_under("330902"))),
        (json!({ "inRegion": "330903" }), format!("mentorship_id IN {}", pairings_under("330903"))),
        (json!({ "inRegion": "999999" }), "1 = 0".into()),
        (json!({ "mentorshipId": pairing }), format!("mentorship_id = {pairing_row}")),
        (json!({ "mentorCode": mentor }), by_mentor.clone()),
        (json!({ "mentorCode": "M99999" }), "1 = 0".into()),
        (json!({ "heldFrom": "2024-01-01" }), "held_on >= '2024-01-01'".into()),
        (json!({ "heldTo": "2023-06-30" }), "held_on <= '2023-06-30'".into()),
        (
            json!({ "heldFrom": "2023-01-01", "heldTo": "2024-12-31" }),
            "held_on >= '2023-01-01' AND held_on <= '2024-12-31'".into(),
        ),
        (
            json!({ "or": [{ "inRegion": "330921" }, { "mentorCode": mentor }] }),
            format!("(mentorship_id IN {} OR {by_mentor})", pairings_under("330921")),
        ),
        (
            json!({ "and": [{ "inRegion": "330902" }, { "not": { "heldFrom": "2024-01-01" } }] }),
            format!("mentorship_id IN {} AND NOT (held_on >= '2024-01-01')", pairings_under("330902")),
        ),
        (json!({ "or": [] }), "1 = 0".into()),
        (json!({ "not": {} }), "1 = 0".into()),
    ];
    let mut nonzero = 0;
    for (filter, condition) in cases {
        let expected =
            count(server, &format!("SELECT COUNT(*) FROM mentoring_session WHERE {condition}")).await;
        nonzero += usize::from(expected > 0);
        assert_eq!(
            total(server, "mentoringSessions", "MentoringSessionFilter", filter.clone()).await,
            expected,
            "{filter} vs {condition}"
        );
    }
    assert!(nonzero >= 9, "the cases exercise real data: {nonzero}");
}

#[tokio::test]
async fn outcome_filters_match_sql() {
    let server = shared_demo().await;
    let (pairing, pairing_row, mentor) = busy_pairing(server).await;
    let cases: Vec<(Value, String)> = vec![
        (json!({}), "1 = 1".into()),
        (json!({ "inRegion": "330902" }), format!("mentorship_id IN {}", pairings_under("330902"))),
        (json!({ "inRegion": "330922" }), format!("mentorship_id IN {}", pairings_under("330922"))),
        (json!({ "inRegion": "nowhere" }), "1 = 0".into()),
        (json!({ "mentorshipId": pairing }), format!("mentorship_id = {pairing_row}")),
        (
            json!({ "mentorCode": mentor }),
            format!(
                "mentorship_id IN (SELECT id FROM mentorship WHERE mentor_id IN (SELECT id FROM mentor WHERE code = '{mentor}'))"
            ),
        ),
        (json!({ "kind": "EMPLOYMENT" }), "kind = 'EMPLOYMENT'".into()),
        (
            json!({ "kindIn": ["BACK_TO_SCHOOL", "SKILLS_TRAINING"] }),
            "kind IN ('BACK_TO_SCHOOL', 'SKILLS_TRAINING')".into(),
        ),
        (json!({ "kindIn": [] }), "1 = 0".into()),
        (json!({ "achievedFrom": "2024-01-01" }), "achieved_on >= '2024-01-01'".into()),
        (
            json!({ "achievedFrom": "2022-01-01", "achievedTo": "2024-06-30" }),
            "achieved_on >= '2022-01-01' AND achieved_on <= '2024-06-30'".into(),
        ),
        (
            json!({ "or": [{ "kind": "EMPLOYMENT" }, { "inRegion": "330921" }] }),
            format!("(kind = 'EMPLOYMENT' OR mentorship_id IN {})", pairings_under("330921")),
        ),
        (
            json!({ "not": { "or": [{ "kind": "EMPLOYMENT" }, { "kind": "FAMILY_ASSISTANCE" }] } }),
            "NOT (kind = 'EMPLOYMENT' OR kind = 'FAMILY_ASSISTANCE')".into(),
        ),
        (json!({ "or": [{}, { "kind": "EMPLOYMENT" }] }), "1 = 1".into()),
    ];
    let mut nonzero = 0;
    for (filter, condition) in cases {
        let expected =
            count(server, &format!("SELECT COUNT(*) FROM mentoring_outcome WHERE {condition}")).await;
        nonzero += usize::from(expected > 0);
        assert_eq!(
            total(server, "mentoringOutcomes", "MentoringOutcomeFilter", filter.clone()).await,
            expected,
            "{filter} vs {condition}"
        );
    }
    assert!(nonzero >= 10, "the cases exercise real data: {nonzero}");
}

/// Walks a connection to its end in pages of 5, forwards or backwards.
async fn walk(
    server: &TestServer,
    query: &str,
    field: &str,
    order: &Value,
    backwards: bool,
) -> (Vec<Value>, i64) {
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let variables = if backwards {
            json!({ "order": order, "last": 5, "before": cursor })
        } else {
            json!({ "order": order, "first": 5, "after": cursor })
        };
        let page = data(server, &admin(), query, variables).await;
        let connection = &page[field];
        let info = &connection["pageInfo"];
        let batch = nodes(connection);
        if backwards {
            seen.splice(0..0, batch);
            if info["hasPreviousPage"] == false {
                return (seen, connection["totalCount"].as_i64().unwrap());
            }
            cursor = info["startCursor"].as_str().map(str::to_owned);
        } else {
            seen.extend(batch);
            if info["hasNextPage"] == false {
                return (seen, connection["totalCount"].as_i64().unwrap());
            }
            cursor = info["endCursor"].as_str().map(str::to_owned);
        }
    }
}

const SESSION_PAGES: &str = "query($order: MentoringSessionOrder, $first: Int, $after: String, $last: Int, $before: String) {
    mentoringSessions(orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id heldOn } } } }";

const OUTCOME_PAGES: &str = "query($order: MentoringOutcomeOrder, $first: Int, $after: String, $last: Int, $before: String) {
    mentoringOutcomes(orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id achievedOn } } } }";

#[tokio::test]
async fn lists_page_both_ways_in_both_orders() {
    let server = TestServer::start(Fixture::Demo(0.005)).await;
    let cases = [
        (SESSION_PAGES, "mentoringSessions", "heldOn", "SELECT COUNT(*) FROM mentoring_session"),
        (OUTCOME_PAGES, "mentoringOutcomes", "achievedOn", "SELECT COUNT(*) FROM mentoring_outcome"),
    ];
    for (query, field, day, sql) in cases {
        let expected = count(&server, sql).await;
        assert!(expected > 5, "{field}: {expected}");
        for order in [Value::Null, json!({}), json!({ "descending": true })] {
            let (forwards, total) = walk(&server, query, field, &order, false).await;
            assert_eq!((forwards.len() as i64, total), (expected, expected), "{field} {order}");
            let ids: HashSet<&str> = forwards.iter().map(|n| n["id"].as_str().unwrap()).collect();
            assert_eq!(ids.len(), forwards.len(), "{field} {order}: no row twice");
            let (backwards, _) = walk(&server, query, field, &order, true).await;
            assert_eq!(backwards, forwards, "{field} {order}");
            let days: Vec<&str> = forwards.iter().map(|n| n[day].as_str().unwrap()).collect();
            if order["descending"] == true {
                assert!(days.windows(2).all(|w| w[0] >= w[1]), "{field}: newest first");
            } else if order.is_object() {
                assert!(days.windows(2).all(|w| w[0] <= w[1]), "{field}: oldest first");
            }
        }
        // A cursor of one ordering is refused by the other.
        let page =
            data(&server, &admin(), query, json!({ "order": { "descending": true }, "first": 1 })).await;
        let cursor = page[field]["pageInfo"]["endCursor"].clone();
        let refused = server.gql(Some(&admin()), query, json!({ "first": 1, "after": cursor })).await;
        assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{field}");
    }
}

#[tokio::test]
async fn scope_policy_and_masks() {
    let server = shared_demo().await;
    let outside = data(
        server,
        &admin(),
        "{ mentoringSessions(filter: { not: { inRegion: \"330902001\" } }, last: 1) { nodes { id } }
           mentoringOutcomes(filter: { not: { inRegion: \"330902001\" } }, last: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    let session = outside["mentoringSessions"]["nodes"][0]["id"].clone();
    let outcome = outside["mentoringOutcomes"]["nodes"][0]["id"].clone();
    assert!(session.is_string() && outcome.is_string(), "there are sessions and outcomes outside 昌国街道");
    let home_sessions = count(
        server,
        &format!(
            "SELECT COUNT(*) FROM mentoring_session WHERE mentorship_id IN {}",
            pairings_under("330902001")
        ),
    )
    .await;
    let home_outcomes = count(
        server,
        &format!(
            "SELECT COUNT(*) FROM mentoring_outcome WHERE mentorship_id IN {}",
            pairings_under("330902001")
        ),
    )
    .await;
    for role in ["admin", "mentor_coordinator", "officer", "analyst", "grid_worker"] {
        let token = token_for("local", &[role], "330902001");
        let response = server
            .gql(
                Some(&token),
                "query($s: ID!, $o: ID!) {
                   mentoringSessions(first: 500) { totalCount nodes { id } }
                   mentoringOutcomes(first: 500) { totalCount nodes { id } }
                   sessionsThere: mentoringSessions(filter: { or: [{ inRegion: \"330922\" }, { not: { inRegion: \"330902001\" } }] }) { totalCount }
                   outcomesThere: mentoringOutcomes(filter: { or: [{ inRegion: \"330922\" }, { kind: EMPLOYMENT, not: { inRegion: \"330902001\" } }] }) { totalCount }
                   mentoringSession(id: $s) { id } mentoringOutcome(id: $o) { id }
                   s: node(id: $s) { id } o: node(id: $o) { id } }",
                json!({ "s": session, "o": outcome }),
            )
            .await;
        assert_no_errors(&response);
        let data = &response["data"];
        assert_eq!(data["mentoringSessions"]["totalCount"], home_sessions, "{role}");
        assert_eq!(data["mentoringOutcomes"]["totalCount"], home_outcomes, "{role}");
        assert_eq!(
            data["mentoringSessions"]["nodes"].as_array().unwrap().len() as i64,
            home_sessions.min(500)
        );
        for field in ["sessionsThere", "outcomesThere"] {
            assert_eq!(data[field]["totalCount"], 0, "{role} {field}");
        }
        for field in ["mentoringSession", "mentoringOutcome", "s", "o"] {
            assert_eq!(data[field], Value::Null, "{role} {field}");
        }
    }

    for role in ["care_worker", "volunteer_coordinator", "fund_officer", "partner", "auditor"] {
        let token = token_for("r", &[role], "330900");
        for query in ["{ mentoringSessions { totalCount } }", "{ mentoringOutcomes { totalCount } }"] {
            let response = server.gql(Some(&token), query, json!({})).await;
            assert_eq!(error_codes(&response), ["FORBIDDEN"], "{role} {query}: {response}");
        }
    }

    // Free text about a young person is null without personal access; a coordinator reads it.
    let analyst = token_for("analyst-1", &["analyst"], "330900");
    let masked = data(
        server,
        &analyst,
        "{ mentoringSessions(first: 50) { nodes { topic notes } } mentoringOutcomes(first: 50) { nodes { kind description } } }",
        json!({}),
    )
    .await;
    for node in masked["mentoringSessions"]["nodes"].as_array().unwrap() {
        assert_eq!(node["notes"], Value::Null);
        assert!(node["topic"].is_string());
    }
    for node in masked["mentoringOutcomes"]["nodes"].as_array().unwrap() {
        assert_eq!(node["description"], Value::Null);
    }
    let coordinator = token_for("mc", &["mentor_coordinator"], "330900");
    let clear = data(
        server,
        &coordinator,
        "{ mentoringSessions(first: 50) { nodes { notes } } mentoringOutcomes(first: 50) { nodes { description } } }",
        json!({}),
    )
    .await;
    let texts = clear["mentoringSessions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(clear["mentoringOutcomes"]["nodes"].as_array().unwrap())
        .filter(|node| node["notes"].is_string() || node["description"].is_string())
        .count();
    assert!(texts > 0, "a coordinator reads notes and descriptions");
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let server = shared_demo().await;
    let token = admin();
    let subject = data(server, &token, "{ careSubjects(first: 1) { nodes { id } } }", json!({})).await;
    let subject_id = subject["careSubjects"]["nodes"][0]["id"].clone();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "query($id: ID!) { mentoringSessions(filter: { mentorshipId: $id }) { totalCount } }",
            json!({ "id": subject_id }),
            "filter.mentorshipId",
        ),
        (
            "{ mentoringOutcomes(filter: { and: [{ mentorshipId: \"bogus\" }] }) { totalCount } }",
            json!({}),
            "filter.and[0].mentorshipId",
        ),
        (
            "{ mentoringSessions(filter: { heldFrom: \"2025-02-01\", heldTo: \"2025-01-01\" }) { totalCount } }",
            json!({}),
            "filter.heldTo",
        ),
        (
            "{ mentoringOutcomes(filter: { not: { achievedFrom: \"2025-02-01\", achievedTo: \"2025-01-01\" } }) { totalCount } }",
            json!({}),
            "filter.not.achievedTo",
        ),
        (
            "{ mentoringOutcomes(filter: { mentorCode: \" \" }) { totalCount } }",
            json!({}),
            "filter.mentorCode",
        ),
        ("{ mentoringSessions(last: 501) { totalCount } }", json!({}), "last"),
        ("{ mentoringSession(id: \"bogus\") { id } }", json!({}), "id"),
    ];
    for (query, variables, field) in cases {
        let response = server.gql(Some(&token), query, variables).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{query}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{query}");
    }
    let deep = (0..12).fold(json!({ "kind": "EMPLOYMENT" }), |inner, _| json!({ "not": inner }));
    let response = server
        .gql(
            Some(&token),
            "query($f: MentoringOutcomeFilter) { mentoringOutcomes(filter: $f) { totalCount } }",
            json!({ "f": deep }),
        )
        .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
}
