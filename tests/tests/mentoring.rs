//! The youth mentoring domain over HTTP: mentors, mentorships, sessions and outcomes; filters checked against
//! SQL, nested connections batched per page, masking per role, and the mentee-region scope.

use govgraph_tests::{
    Fixture, TestServer, admin, assert_no_errors, count, error_codes, shared_demo, token_for,
};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// `(SELECT id FROM region WHERE <in the subtree of code>)`.
fn subtree(code: &str) -> String {
    format!("(SELECT id FROM region WHERE path LIKE '%/{code}/%')")
}

fn coordinator() -> String {
    token_for("coordinator-1", &["mentor_coordinator"], "330900")
}

fn analyst() -> String {
    token_for("analyst-1", &["analyst"], "330900")
}

async fn ok(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    let response = server.gql(Some(token), query, variables).await;
    assert_no_errors(&response);
    response["data"].clone()
}

fn edges(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn strings(nodes: &[Value], field: &str) -> Vec<String> {
    nodes.iter().map(|node| node[field].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn list_lookup_and_node() {
    let server = shared_demo().await;
    let token = admin();
    let data = ok(
        server,
        &token,
        "{ mentors(first: 5) { totalCount edges { node { id code name phone occupation active region { code } } } }
           mentorships(first: 5) { totalCount edges { node { id status startedOn endedOn
             mentor { code } mentee { code name gender birthYear grid { code level } }
             sessions(first: 1) { edges { node { id heldOn minutes topic } } }
             outcomes(first: 1) { edges { node { id kind achievedOn description } } } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(data["mentors"]["totalCount"], count(server, "SELECT COUNT(*) FROM mentor").await);
    assert_eq!(data["mentorships"]["totalCount"], count(server, "SELECT COUNT(*) FROM mentorship").await);
    let mentors = edges(&data["mentors"]);
    assert_eq!(mentors.len(), 5);
    let first = &mentors[0];
    assert_eq!(first["code"], "M00001");
    assert!(first["region"]["code"].as_str().unwrap().starts_with("3309"));

    let id = first["id"].as_str().unwrap();
    let lookups = ok(
        server,
        &token,
        "query($id: ID!) { byId: mentor(id: $id) { code } byCode: mentor(code: \"M00001\") { id }
           node(id: $id) { id ... on Mentor { code occupation } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(lookups["byId"]["code"], "M00001");
    assert_eq!(lookups["byCode"]["id"], id);
    assert_eq!(lookups["node"]["code"], "M00001");
    assert_eq!(lookups["node"]["occupation"], first["occupation"]);
    let absent = ok(server, &token, "{ mentor(code: \"M99999\") { id } }", json!({})).await;
    assert_eq!(absent["mentor"], Value::Null);

    // A mentorship, and a session and an outcome of one, by ID and through node(id:).
    let mentorships = edges(&data["mentorships"]);
    let mentorship = &mentorships[0];
    let mentorship_id = mentorship["id"].as_str().unwrap();
    assert!(mentorship["mentee"]["code"].as_str().is_some());
    assert_eq!(mentorship["mentee"]["grid"]["level"], "GRID");
    let with_session = mentorships.iter().find(|m| !edges(&m["sessions"]).is_empty()).unwrap();
    let session_id = edges(&with_session["sessions"])[0]["id"].as_str().unwrap().to_owned();
    let outcome = ok(
        server,
        &token,
        "{ mentorships(filter: { hasOutcome: EMPLOYMENT }, first: 1) { edges { node { id
             outcomes(kind: EMPLOYMENT, first: 1) { edges { node { id kind } } } } } } }",
        json!({}),
    )
    .await;
    let outcome_id =
        edges(&edges(&outcome["mentorships"])[0]["outcomes"])[0]["id"].as_str().unwrap().to_owned();
    let nodes = ok(
        server,
        &token,
        "query($m: ID!, $s: ID!, $o: ID!) {
           mentorship(id: $m) { id mentee { code } }
           m: node(id: $m) { ... on Mentorship { status } }
           s: node(id: $s) { ... on MentoringSession { topic mentorship { id } } }
           o: node(id: $o) { ... on MentoringOutcome { kind mentorship { id } } } }",
        json!({ "m": mentorship_id, "s": session_id, "o": outcome_id }),
    )
    .await;
    assert_eq!(nodes["mentorship"]["id"], mentorship_id);
    assert_eq!(nodes["mentorship"]["mentee"]["code"], mentorship["mentee"]["code"]);
    assert_eq!(nodes["m"]["status"], mentorship["status"]);
    assert_eq!(nodes["s"]["mentorship"]["id"], with_session["id"]);
    assert_eq!(nodes["o"]["kind"], "EMPLOYMENT");
    assert!(nodes["o"]["mentorship"]["id"].is_string());
}

#[tokio::test]
async fn pages_continue_from_their_cursors() {
    let server = shared_demo().await;
    let token = admin();
    let query = "query($first: Int, $after: String, $last: Int, $before: String) {
        mentors(first: $first, after: $after, last: $last, before: $before) {
          pageInfo { hasNextPage hasPreviousPage endCursor startCursor } edges { node { code } } } }";
    let all = ok(server, &token, query, json!({ "first": 500 })).await;
    let codes = strings(&edges(&all["mentors"]), "code");
    assert!(codes.len() >= 4, "{codes:?}");
    let head = ok(server, &token, query, json!({ "first": 2 })).await;
    assert_eq!(strings(&edges(&head["mentors"]), "code"), codes[..2]);
    assert_eq!(head["mentors"]["pageInfo"]["hasNextPage"], true);
    let next =
        ok(server, &token, query, json!({ "first": 2, "after": head["mentors"]["pageInfo"]["endCursor"] }))
            .await;
    assert_eq!(strings(&edges(&next["mentors"]), "code"), codes[2..4]);
    let tail = ok(server, &token, query, json!({ "last": 2 })).await;
    assert_eq!(strings(&edges(&tail["mentors"]), "code"), codes[codes.len() - 2..]);
    assert_eq!(tail["mentors"]["pageInfo"]["hasPreviousPage"], true);
}

#[expect(clippy::unwrap_used, reason = "test helper: a malformed response must fail the test")]
async fn mentor_total(server: &TestServer, token: &str, filter: Value) -> i64 {
    let data = ok(
        server,
        token,
        "query($filter: MentorFilter) { mentors(filter: $filter, first: 500) { totalCount edges { node { code } } } }",
        json!({ "filter": filter }),
    )
    .await;
    let total = data["mentors"]["totalCount"].as_i64().unwrap();
    assert_eq!(edges(&data["mentors"]).len() as i64, total, "the page holds every match");
    total
}

#[tokio::test]
async fn mentor_filters_match_sql() {
    let server = shared_demo().await;
    let token = admin();
    let cases: Vec<(Value, String)> = vec![
        (json!({ "inRegion": "330902" }), format!("region_id IN {}", subtree("330902"))),
        (json!({ "inRegion": "330903" }), format!("region_id IN {}", subtree("330903"))),
        (json!({ "inRegion": "330900" }), "1 = 1".into()),
        (json!({ "inRegion": "999999" }), "1 = 0".into()),
        (json!({ "active": false }), "active = FALSE".into()),
        (json!({ "active": true }), "active = TRUE".into()),
        (json!({ "occupation": "教师" }), "occupation = '教师'".into()),
        (json!({ "search": "M0000" }), "code LIKE 'M0000%'".into()),
        (json!({ "search": "m0001" }), "code LIKE 'M0001%'".into()),
        (json!({ "search": "M%" }), "1 = 0".into()),
        (
            json!({ "or": [{ "inRegion": "330902" }, { "inRegion": "330922" }], "not": { "active": false } }),
            format!(
                "(region_id IN {} OR region_id IN {}) AND NOT (active = FALSE)",
                subtree("330902"),
                subtree("330922")
            ),
        ),
        (
            json!({ "and": [{ "inRegion": "330903" }, { "not": { "occupation": "教师" } }] }),
            format!("region_id IN {} AND occupation <> '教师'", subtree("330903")),
        ),
        (json!({ "not": { "inRegion": "999999" } }), "1 = 1".into()),
        (json!({ "or": [] }), "1 = 0".into()),
        (json!({ "and": [] }), "1 = 1".into()),
    ];
    for (filter, condition) in cases {
        let expected = count(server, &format!("SELECT COUNT(*) FROM mentor WHERE {condition}")).await;
        assert_eq!(mentor_total(server, &token, filter.clone()).await, expected, "{filter}");
    }

    // Names are searched only for callers who see them in clear.
    let first = ok(server, &token, "{ mentor(code: \"M00001\") { name } }", json!({})).await;
    let surname: String = first["mentor"]["name"].as_str().unwrap().chars().take(1).collect();
    let expected = count(server, &format!("SELECT COUNT(*) FROM mentor WHERE name LIKE '{surname}%'")).await;
    assert!(expected >= 1);
    assert_eq!(mentor_total(server, &token, json!({ "search": surname })).await, expected);
    assert_eq!(mentor_total(server, &coordinator(), json!({ "search": surname })).await, expected);
    assert_eq!(mentor_total(server, &analyst(), json!({ "search": surname })).await, 0);
}

#[expect(clippy::unwrap_used, reason = "test helper: a malformed response must fail the test")]
async fn mentorship_total(server: &TestServer, token: &str, filter: Value) -> i64 {
    let data = ok(
        server,
        token,
        "query($filter: MentorshipFilter) { mentorships(filter: $filter) { totalCount } }",
        json!({ "filter": filter }),
    )
    .await;
    data["mentorships"]["totalCount"].as_i64().unwrap()
}

#[tokio::test]
async fn mentorship_filters_match_sql() {
    let server = shared_demo().await;
    let token = admin();
    let mentee_in = |code: &str| {
        format!("mentee_id IN (SELECT id FROM care_subject WHERE region_id IN {})", subtree(code))
    };
    let has = |kind: &str| {
        format!(
            "EXISTS (SELECT 1 FROM mentoring_outcome o WHERE o.mentorship_id = m.id AND o.kind = '{kind}')"
        )
    };
    let cases: Vec<(Value, String)> = vec![
        (json!({}), "1 = 1".into()),
        (json!({ "inRegion": "330902" }), mentee_in("330902")),
        (json!({ "inRegion": "330921" }), mentee_in("330921")),
        (json!({ "inRegion": "nowhere" }), "1 = 0".into()),
        (json!({ "status": "ACTIVE" }), "status = 'ACTIVE'".into()),
        (json!({ "status": "CLOSED" }), "status = 'CLOSED'".into()),
        (json!({ "startedFrom": "2024-01-01" }), "started_on >= '2024-01-01'".into()),
        (json!({ "startedTo": "2023-06-30" }), "started_on <= '2023-06-30'".into()),
        (
            json!({ "startedFrom": "2022-01-01", "startedTo": "2024-12-31" }),
            "started_on BETWEEN '2022-01-01' AND '2024-12-31'".into(),
        ),
        (json!({ "hasOutcome": "EMPLOYMENT" }), has("EMPLOYMENT")),
        (json!({ "hasOutcome": "FAMILY_ASSISTANCE" }), has("FAMILY_ASSISTANCE")),
        (json!({ "not": { "hasOutcome": "SKILLS_TRAINING" } }), format!("NOT {}", has("SKILLS_TRAINING"))),
        (
            json!({ "or": [{ "hasOutcome": "BACK_TO_SCHOOL" }, { "hasOutcome": "BEHAVIOURAL_INTERVENTION" }],
                    "status": "CLOSED" }),
            format!(
                "({} OR {}) AND status = 'CLOSED'",
                has("BACK_TO_SCHOOL"),
                has("BEHAVIOURAL_INTERVENTION")
            ),
        ),
        (
            json!({ "and": [{ "inRegion": "330903" }, { "not": { "status": "ACTIVE" } }] }),
            format!("{} AND status <> 'ACTIVE'", mentee_in("330903")),
        ),
    ];
    let mut nonzero = 0;
    for (filter, condition) in cases {
        let expected = count(server, &format!("SELECT COUNT(*) FROM mentorship m WHERE {condition}")).await;
        nonzero += usize::from(expected > 0);
        assert_eq!(mentorship_total(server, &token, filter.clone()).await, expected, "{filter}");
    }
    assert!(nonzero >= 10, "the cases exercise real data");
}

const NESTED_COUNTS: &str = "{ mentors(first: 500) { edges { node { code activeMenteeCount
    mentorships(first: 2) { totalCount pageInfo { hasNextPage } edges { node { id
      sessions(first: 3) { totalCount edges { node { heldOn } } }
      outcomes(first: 1) { totalCount edges { node { kind } } } } } }
    closed: mentorships(status: CLOSED, first: 1) { totalCount } } } } }";

#[tokio::test]
async fn nested_connections_have_exact_totals() {
    let server = shared_demo().await;
    let data = ok(server, &admin(), NESTED_COUNTS, json!({})).await;
    let mut checked_mentorships = 0;
    for mentor in edges(&data["mentors"]) {
        let code = mentor["code"].as_str().unwrap();
        let of_mentor = format!("mentor_id = (SELECT id FROM mentor WHERE code = '{code}')");
        let total = count(server, &format!("SELECT COUNT(*) FROM mentorship WHERE {of_mentor}")).await;
        let mentorships = &mentor["mentorships"];
        assert_eq!(mentorships["totalCount"], total, "{code}");
        assert_eq!(mentorships["pageInfo"]["hasNextPage"], total > 2, "{code}");
        let closed = count(
            server,
            &format!("SELECT COUNT(*) FROM mentorship WHERE {of_mentor} AND status = 'CLOSED'"),
        )
        .await;
        assert_eq!(mentor["closed"]["totalCount"], closed, "{code}");
        let active = count(
            server,
            &format!(
                "SELECT COUNT(DISTINCT mentee_id) FROM mentorship WHERE {of_mentor} AND status = 'ACTIVE'"
            ),
        )
        .await;
        assert_eq!(mentor["activeMenteeCount"], active, "{code}");
        let page = edges(mentorships);
        assert_eq!(page.len() as i64, total.min(2));
        for mentorship in page {
            let id = mentorship["id"].as_str().unwrap();
            let number = mentorship_number(id);
            let sessions = count(
                server,
                &format!("SELECT COUNT(*) FROM mentoring_session WHERE mentorship_id = {number}"),
            )
            .await;
            let outcomes = count(
                server,
                &format!("SELECT COUNT(*) FROM mentoring_outcome WHERE mentorship_id = {number}"),
            )
            .await;
            assert_eq!(mentorship["sessions"]["totalCount"], sessions, "{id}");
            assert_eq!(edges(&mentorship["sessions"]).len() as i64, sessions.min(3));
            assert_eq!(mentorship["outcomes"]["totalCount"], outcomes, "{id}");
            assert_eq!(edges(&mentorship["outcomes"]).len() as i64, outcomes.min(1));
            checked_mentorships += 1;
        }
    }
    assert!(checked_mentorships > 0);
}

/// The row id inside a global ID (the IDs are base64 of `Type:id`; decoded here without a dependency).
#[expect(clippy::unwrap_used, reason = "test helper: a malformed response must fail the test")]
fn mentorship_number(id: &str) -> i64 {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits: u32 = 0;
    let mut held = 0;
    let mut raw = Vec::new();
    for c in id.bytes() {
        let value = alphabet.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | value;
        held += 6;
        if held >= 8 {
            held -= 8;
            raw.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    let text = String::from_utf8(raw).unwrap();
    let (kind, number) = text.split_once(':').unwrap();
    assert_eq!(kind, "Mentorship");
    number.parse().unwrap()
}

#[tokio::test]
async fn outcome_totals_over_all_mentorships_equal_sql() {
    let server = shared_demo().await;
    let token = admin();
    for kind in
        ["EMPLOYMENT", "BACK_TO_SCHOOL", "BEHAVIOURAL_INTERVENTION", "SKILLS_TRAINING", "FAMILY_ASSISTANCE"]
    {
        let mut after: Option<String> = None;
        let mut sum = 0;
        loop {
            let data = ok(
                server,
                &token,
                "query($kind: OutcomeKind, $after: String) {
                   mentorships(first: 7, after: $after) { pageInfo { hasNextPage endCursor }
                     edges { node { outcomes(kind: $kind, first: 1) { totalCount } } } } }",
                json!({ "kind": kind, "after": after }),
            )
            .await;
            for mentorship in edges(&data["mentorships"]) {
                sum += mentorship["outcomes"]["totalCount"].as_i64().unwrap();
            }
            let info = &data["mentorships"]["pageInfo"];
            if info["hasNextPage"] != true {
                break;
            }
            after = info["endCursor"].as_str().map(str::to_owned);
        }
        let expected =
            count(server, &format!("SELECT COUNT(*) FROM mentoring_outcome WHERE kind = '{kind}'")).await;
        assert!(expected >= 1, "{kind}");
        assert_eq!(sum, expected, "{kind}");
    }
}

const PERSONAL: &str = "{ mentors(first: 3) { edges { node { code name phone } } }
  mentorships(first: 500) { edges { node { id goal mentee { code name }
    sessions(first: 20) { edges { node { notes } } }
    outcomes(first: 20) { edges { node { description } } } } } } }";

#[tokio::test]
async fn personal_fields_are_masked_or_null_per_role() {
    let server = shared_demo().await;
    let clear = ok(server, &coordinator(), PERSONAL, json!({})).await;
    let as_admin = ok(server, &admin(), PERSONAL, json!({})).await;
    assert_eq!(clear, as_admin, "the coordinator sees what the administrator sees");
    let masked = ok(server, &analyst(), PERSONAL, json!({})).await;

    let (clear_mentors, masked_mentors) = (edges(&clear["mentors"]), edges(&masked["mentors"]));
    for (clear, masked) in clear_mentors.iter().zip(&masked_mentors) {
        let name = clear["name"].as_str().unwrap();
        let masked_name = masked["name"].as_str().unwrap();
        assert!(!name.contains('*'));
        assert_eq!(masked_name.chars().next(), name.chars().next());
        assert!(masked_name.chars().skip(1).all(|c| c == '*'), "{masked_name}");
        assert!(masked["phone"].as_str().unwrap().contains("****"));
        assert!(!clear["phone"].as_str().unwrap().contains('*'));
    }

    let (clear_ms, masked_ms) = (edges(&clear["mentorships"]), edges(&masked["mentorships"]));
    assert_eq!(clear_ms.len(), masked_ms.len());
    let mut notes_seen = 0;
    let mut descriptions_seen = 0;
    for (clear, masked) in clear_ms.iter().zip(&masked_ms) {
        assert!(clear["goal"].is_string());
        assert_eq!(masked["goal"], Value::Null);
        let name = clear["mentee"]["name"].as_str().unwrap();
        let masked_name = masked["mentee"]["name"].as_str().unwrap();
        assert!(!name.contains('*'));
        assert!(masked_name.ends_with('*') && masked_name.chars().next() == name.chars().next());
        assert_eq!(masked["mentee"]["code"], clear["mentee"]["code"]);
        for session in edges(&clear["sessions"]) {
            notes_seen += usize::from(session["notes"].is_string());
        }
        for outcome in edges(&clear["outcomes"]) {
            descriptions_seen += usize::from(outcome["description"].is_string());
        }
        assert!(edges(&masked["sessions"]).iter().all(|s| s["notes"].is_null()));
        assert!(edges(&masked["outcomes"]).iter().all(|o| o["description"].is_null()));
    }
    assert!(notes_seen > 0 && descriptions_seen > 0, "{notes_seen} notes, {descriptions_seen} descriptions");
}

#[tokio::test]
async fn roles_without_mentoring_grants_are_forbidden() {
    let server = shared_demo().await;
    let admin_data = ok(
        server,
        &admin(),
        "{ mentors(first: 1) { edges { node { id } } } mentorships(first: 1) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let mentor_id = edges(&admin_data["mentors"])[0]["id"].clone();
    let mentorship_id = edges(&admin_data["mentorships"])[0]["id"].clone();
    for role in ["partner", "auditor", "fund_officer", "care_worker", "volunteer_coordinator"] {
        let token = token_for("someone", &[role], "330900");
        for query in [
            "{ mentors { totalCount } }",
            "{ mentorships { totalCount } }",
            "{ mentor(code: \"M00001\") { code } }",
        ] {
            let response = server.gql(Some(&token), query, json!({})).await;
            assert_eq!(error_codes(&response), ["FORBIDDEN"], "{role}: {query}");
        }
        for (query, id) in [
            ("query($id: ID!) { node(id: $id) { id } }", &mentor_id),
            ("query($id: ID!) { node(id: $id) { id } }", &mentorship_id),
            ("query($id: ID!) { mentorship(id: $id) { id } }", &mentorship_id),
        ] {
            let response = server.gql(Some(&token), query, json!({ "id": id })).await;
            assert_eq!(error_codes(&response), ["FORBIDDEN"], "{role}: {query}");
        }
    }
    let anonymous = server.gql(None, "{ mentors { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);
}

/// 昌国街道 (Changguo subdistrict, Dinghai) must never see anything of 嵊泗县 (Shengsi county), nor must 定海区 as a
/// whole (which does have mentors of its own). The shared demo data has no mentor in 嵊泗, so this test seeds a
/// little more.
#[tokio::test]
async fn a_township_token_never_sees_another_county() {
    let server = &TestServer::start(Fixture::Demo(0.1)).await;
    let elsewhere = ok(
        server,
        &admin(),
        "{ mentors(filter: { inRegion: \"330922\" }, first: 500) { edges { node { id code } } }
           mentorships(filter: { inRegion: \"330922\" }, first: 500) { edges { node { id
             sessions(first: 1) { edges { node { id } } } outcomes(first: 1) { edges { node { id } } } } } } }",
        json!({}),
    )
    .await;
    let far_mentors = edges(&elsewhere["mentors"]);
    let far_mentorships = edges(&elsewhere["mentorships"]);
    assert!(
        !far_mentors.is_empty() && !far_mentorships.is_empty(),
        "the demo data has 嵊泗 mentoring: {elsewhere}"
    );
    let (mentors, mentorships) = only_in_scope(server, "330902001", &far_mentors, &far_mentorships).await;
    assert!(mentorships > 0, "昌国街道 sees {mentors} mentors, {mentorships} mentorships");
    let (mentors, mentorships) = only_in_scope(server, "330902", &far_mentors, &far_mentorships).await;
    assert!(mentors > 0 && mentorships > 0, "定海区 sees {mentors} mentors, {mentorships} mentorships");
}

/// Checks that a mentor coordinator scoped to `scope` sees exactly its own mentors and mentorships by every
/// path and none of the `far` ones; returns how many of each it sees.
#[expect(clippy::unwrap_used, reason = "test helper: a malformed response must fail the test")]
async fn only_in_scope(
    server: &TestServer,
    scope: &str,
    far_mentors: &[Value],
    far_mentorships: &[Value],
) -> (i64, i64) {
    let token = token_for("coordinator-scoped", &["mentor_coordinator"], scope);
    let visible = ok(
        server,
        &token,
        "{ mentors(first: 500) { totalCount edges { node { id code activeMenteeCount region { code }
             mentorships(first: 500) { edges { node { id mentee { grid { code } } mentor { code } } } } } } }
           mentorships(first: 500) { totalCount edges { node { id mentee { code grid { code } }
             mentor { id region { code } } } } } }",
        json!({}),
    )
    .await;
    let mentors = edges(&visible["mentors"]);
    let expected_mentors =
        count(server, &format!("SELECT COUNT(*) FROM mentor WHERE region_id IN {}", subtree(scope))).await;
    assert_eq!(visible["mentors"]["totalCount"], expected_mentors, "{scope}");
    let expected_mentorships = count(
        server,
        &format!(
            "SELECT COUNT(*) FROM mentorship WHERE mentee_id IN (SELECT id FROM care_subject WHERE region_id IN {})",
            subtree(scope)
        ),
    )
    .await;
    assert_eq!(visible["mentorships"]["totalCount"], expected_mentorships, "{scope}");
    let far_mentor_ids = strings(far_mentors, "id");
    let far_mentorship_ids = strings(far_mentorships, "id");
    let in_scope = |node: &Value| node["code"].as_str().is_some_and(|code| code.starts_with(scope));
    for mentor in &mentors {
        assert!(!far_mentor_ids.contains(&mentor["id"].as_str().unwrap().to_owned()));
        assert!(in_scope(&mentor["region"]), "{mentor}");
        let mut visible = 0;
        for mentorship in edges(&mentor["mentorships"]) {
            assert!(!far_mentorship_ids.contains(&mentorship["id"].as_str().unwrap().to_owned()));
            assert!(in_scope(&mentorship["mentee"]["grid"]), "{mentorship}");
            visible += 1;
        }
        assert!(mentor["activeMenteeCount"].as_i64().unwrap() <= visible);
    }
    for mentorship in edges(&visible["mentorships"]) {
        assert!(!far_mentorship_ids.contains(&mentorship["id"].as_str().unwrap().to_owned()));
        assert!(in_scope(&mentorship["mentee"]["grid"]), "{mentorship}");
        // The mentor may be attached elsewhere: then it is null, never out-of-scope data.
        if !mentorship["mentor"].is_null() {
            assert!(in_scope(&mentorship["mentor"]["region"]), "{mentorship}");
        }
    }

    // Filters and lookups by code, ID and node(id:).
    assert_eq!(mentor_total(server, &token, json!({ "inRegion": "330922" })).await, 0);
    assert_eq!(
        mentor_total(server, &token, json!({ "not": { "inRegion": "330922" } })).await,
        expected_mentors
    );
    assert_eq!(mentorship_total(server, &token, json!({ "inRegion": "330922" })).await, 0);
    for mentor in far_mentors {
        let data = ok(
            server,
            &token,
            "query($id: ID!, $code: String!) { byId: mentor(id: $id) { id } byCode: mentor(code: $code) { id }
               node(id: $id) { id } }",
            json!({ "id": mentor["id"], "code": mentor["code"] }),
        )
        .await;
        assert_eq!(data, json!({ "byId": null, "byCode": null, "node": null }));
    }
    for mentorship in far_mentorships {
        let mut ids = vec![mentorship["id"].clone()];
        ids.extend(edges(&mentorship["sessions"]).iter().map(|s| s["id"].clone()));
        ids.extend(edges(&mentorship["outcomes"]).iter().map(|o| o["id"].clone()));
        let data = ok(
            server,
            &token,
            "query($id: ID!) { mentorship(id: $id) { id } }",
            json!({ "id": mentorship["id"] }),
        )
        .await;
        assert_eq!(data["mentorship"], Value::Null);
        for id in ids {
            let data =
                ok(server, &token, "query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
            assert_eq!(data["node"], Value::Null, "{id}");
        }
    }
    (expected_mentors, expected_mentorships)
}

const REPRESENTATIVE: &str = "query($n: Int) { mentors(first: $n) { edges { node { name
  mentorships(first: 3) { totalCount edges { node { mentee { name }
    outcomes(first: 5) { totalCount edges { node { kind } } }
    sessions(first: 2) { edges { node { topic } } } } } } } } } }";

#[tokio::test]
async fn nested_statements_do_not_grow_with_the_page_size() {
    let server = TestServer::start(Fixture::Demo(0.05)).await;
    for token in [admin(), analyst()] {
        server.warm_up(&token).await;
        let mut counts = Vec::new();
        for n in [5, 100] {
            let before = server.statement_count();
            let response = server.gql(Some(&token), REPRESENTATIVE, json!({ "n": n })).await;
            assert_no_errors(&response);
            let mentors = edges(&response["data"]["mentors"]);
            assert!(mentors.iter().any(|m| !edges(&m["mentorships"]).is_empty()));
            counts.push((n, mentors.len(), server.statement_count() - before));
        }
        eprintln!("statements per page size (n, mentors returned, statements): {counts:?}");
        assert!(counts[1].1 > counts[0].1, "the larger page returns more mentors: {counts:?}");
        assert_eq!(counts[0].2, counts[1].2, "statements per page size: {counts:?}");
    }
}

#[tokio::test]
async fn bad_input_is_refused() {
    let server = shared_demo().await;
    let token = admin();
    let volunteer = ok(server, &token, "{ volunteers(first: 1) { edges { node { id } } } }", json!({})).await;
    let volunteer_id = edges(&volunteer["volunteers"])[0]["id"].clone();
    let deep = (0..12).fold(json!({ "active": true }), |inner, _| json!({ "not": inner }));
    let wide = json!({ "or": (0..80).map(|_| json!({ "active": true })).collect::<Vec<_>>() });
    let cases: Vec<(&str, Value)> = vec![
        ("{ mentors(first: 501) { totalCount } }", json!({})),
        ("{ mentors(first: 1, last: 1) { totalCount } }", json!({})),
        ("{ mentors(after: \"garbage\") { totalCount } }", json!({})),
        ("{ mentorships(before: \"Zm9vOmJhcg\") { totalCount } }", json!({})),
        ("{ mentor(id: \"TWVudG9yOjE\", code: \"M00001\") { code } }", json!({})),
        ("{ mentor { code } }", json!({})),
        ("query($id: ID!) { mentor(id: $id) { code } }", json!({ "id": volunteer_id })),
        ("query($id: ID!) { mentorship(id: $id) { id } }", json!({ "id": volunteer_id })),
        ("{ mentorship(id: \"not-an-id\") { id } }", json!({})),
        ("{ mentors(first: 1) { edges { node { mentorships(first: 501) { totalCount } } } } }", json!({})),
        ("{ mentorships(first: 1) { edges { node { sessions(after: \"x\") { totalCount } } } } }", json!({})),
        ("query($f: MentorFilter) { mentors(filter: $f) { totalCount } }", json!({ "f": deep })),
        ("query($f: MentorFilter) { mentors(filter: $f) { totalCount } }", json!({ "f": wide })),
    ];
    for (query, variables) in cases {
        let response = server.gql(Some(&token), query, variables).await;
        let codes = error_codes(&response);
        assert!(!codes.is_empty() && codes.iter().all(|c| c == "BAD_USER_INPUT"), "{query}: {response}");
    }
}

#[tokio::test]
async fn mentors_and_mentorships_page_in_the_requested_order() {
    let server = shared_demo().await;
    let pairs = server
        .gql(Some(&admin()), "{ mentorships(orderBy: { descending: true }, first: 500) { totalCount edges { node { startedOn } } } }", json!({}))
        .await;
    assert_no_errors(&pairs);
    let days: Vec<&str> = pairs["data"]["mentorships"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["startedOn"].as_str().unwrap())
        .collect();
    assert!(!days.is_empty());
    assert!(days.windows(2).all(|pair| pair[0] >= pair[1]), "newest pairings first");

    let mentors = server
        .gql(
            Some(&admin()),
            "{ mentors(orderBy: { field: NAME }, first: 500) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&mentors);
    let names: Vec<&str> = mentors["data"]["mentors"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    let db = server.db.connect().await;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM mentor ORDER BY name, id".to_owned(),
        ))
        .await
        .unwrap();
    let expected: Vec<String> = rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect();
    assert_eq!(names, expected, "the database's own collation decides");
    let analyst = token_for("a", &["analyst"], "330900");
    let by_name =
        server.gql(Some(&analyst), "{ mentors(orderBy: { field: NAME }) { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&by_name), ["FORBIDDEN"]);
}
