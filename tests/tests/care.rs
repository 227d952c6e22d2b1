//! Special-population care over HTTP: lookups, the filter language cross-checked by SQL, nested profiles and
//! connections, per-role masking and sensitive-field gating, region scope, auditing and batching.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::care_visit;
use govgraph_tests::{
    Fixture, TestServer, admin, assert_no_errors, count, error_codes, shared_demo, token_for,
};
use sea_orm::{EntityTrait, QuerySelect};
use serde_json::{Value, json};

/// `care_subject` rows whose grid lies under the region with code prefix `code`.
fn in_region_sql(code: &str) -> String {
    format!("region_id IN (SELECT id FROM region WHERE code LIKE '{code}%')")
}

async fn subjects_where(server: &TestServer, condition: &str) -> i64 {
    count(server, &format!("SELECT COUNT(*) FROM care_subject WHERE {condition}")).await
}

const PURPOSE: (&str, &str) = ("x-access-purpose", "follow-up of a risk report");

/// `careSubjects(filter:)`'s total for `filter`, as `token`.
async fn total(server: &TestServer, token: &str, filter: Value) -> Value {
    let response = server
        .gql(
            Some(token),
            "query($f: CareSubjectFilter) { careSubjects(filter: $f) { totalCount } }",
            json!({ "f": filter }),
        )
        .await;
    assert_no_errors(&response);
    response["data"]["careSubjects"]["totalCount"].clone()
}

fn edges(response: &Value, field: &str) -> Vec<Value> {
    response["data"][field]["edges"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn list_lookup_and_node_agree() {
    let server = shared_demo().await;
    let token = admin();
    let all = subjects_where(server, "1 = 1").await;
    assert!(all > 100, "the demo data has care subjects: {all}");
    let list = server
        .gql(
            Some(&token),
            "{ careSubjects(first: 5) { totalCount pageInfo { hasNextPage endCursor }
                 edges { cursor node { id code category status registeredOn grid { code level } } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&list);
    assert_eq!(list["data"]["careSubjects"]["totalCount"], all);
    assert_eq!(list["data"]["careSubjects"]["pageInfo"]["hasNextPage"], true);
    let page = edges(&list, "careSubjects");
    assert_eq!(page.len(), 5);
    let codes: Vec<&str> = page.iter().map(|e| e["node"]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["CS0000001", "CS0000002", "CS0000003", "CS0000004", "CS0000005"]);
    for edge in &page {
        assert_eq!(edge["node"]["grid"]["level"], "GRID");
    }

    let cursor = list["data"]["careSubjects"]["pageInfo"]["endCursor"].as_str().unwrap();
    let next = server
        .gql(
            Some(&token),
            "query($after: String) { careSubjects(first: 2, after: $after) { edges { node { code } } } }",
            json!({ "after": cursor }),
        )
        .await;
    assert_no_errors(&next);
    let next_codes: Vec<Value> =
        edges(&next, "careSubjects").iter().map(|e| e["node"]["code"].clone()).collect();
    assert_eq!(next_codes, [json!("CS0000006"), json!("CS0000007")]);

    let third = &page[2]["node"];
    let lookup = server
        .gql(
            Some(&token),
            "query($id: ID!, $code: String!) {
               byId: careSubject(id: $id) { id code }
               byCode: careSubject(code: $code) { id code }
               node(id: $id) { id ... on CareSubject { code } }
               missing: careSubject(code: \"CS9999999\") { id } }",
            json!({ "id": third["id"], "code": third["code"] }),
        )
        .await;
    assert_no_errors(&lookup);
    let data = &lookup["data"];
    assert_eq!(data["byId"]["code"], third["code"]);
    assert_eq!(data["byCode"]["id"], third["id"]);
    assert_eq!(data["node"]["code"], third["code"]);
    assert_eq!(data["missing"], Value::Null);
}

#[tokio::test]
async fn filters_match_sql() {
    let server = shared_demo().await;
    let token = admin();
    let cases: Vec<(Value, String)> = vec![
        (json!({ "inRegion": "330902" }), in_region_sql("330902")),
        (json!({ "inRegion": "330902001" }), in_region_sql("330902001")),
        (json!({ "inRegion": "330922" }), in_region_sql("330922")),
        (json!({ "inRegion": "999999" }), "1 = 0".into()),
        (json!({ "category": "SEVERE_MENTAL_DISORDER" }), "category = 'SEVERE_MENTAL_DISORDER'".into()),
        (json!({ "category": "COMMUNITY_CORRECTION" }), "category = 'COMMUNITY_CORRECTION'".into()),
        (json!({ "category": "AT_RISK_YOUTH" }), "category = 'AT_RISK_YOUTH'".into()),
        (json!({ "status": "CLOSED" }), "status = 'CLOSED'".into()),
        (json!({ "search": "cs000001" }), "code LIKE '%CS000001%'".into()),
        (json!({ "search": "00002" }), "code LIKE '%00002%'".into()),
        (json!({ "search": "100%" }), "1 = 0".into()),
        (json!({ "registeredFrom": "2020-01-01" }), "registered_on >= '2020-01-01'".into()),
        (
            json!({ "registeredFrom": "2018-01-01", "registeredTo": "2021-06-30" }),
            "registered_on >= '2018-01-01' AND registered_on <= '2021-06-30'".into(),
        ),
        (
            json!({ "inRegion": "330903", "category": "COMMUNITY_CORRECTION", "status": "ACTIVE" }),
            format!(
                "{} AND category = 'COMMUNITY_CORRECTION' AND status = 'ACTIVE'",
                in_region_sql("330903")
            ),
        ),
        (
            json!({ "or": [{ "inRegion": "330921" }, { "inRegion": "330922" }] }),
            format!("({} OR {})", in_region_sql("330921"), in_region_sql("330922")),
        ),
        (
            json!({ "and": [{ "category": "SEVERE_MENTAL_DISORDER" }, { "not": { "inRegion": "330902" } }] }),
            format!("category = 'SEVERE_MENTAL_DISORDER' AND NOT ({})", in_region_sql("330902")),
        ),
        (
            json!({ "not": { "or": [{ "status": "CLOSED" }, { "category": "AT_RISK_YOUTH" }] } }),
            "NOT (status = 'CLOSED' OR category = 'AT_RISK_YOUTH')".into(),
        ),
        (json!({ "or": [] }), "1 = 0".into()),
        (json!({ "or": [{}, { "status": "CLOSED" }] }), "1 = 1".into()),
        (json!({ "not": {} }), "1 = 0".into()),
        (json!({}), "1 = 1".into()),
    ];
    for (filter, sql) in cases {
        let expected = subjects_where(server, &sql).await;
        assert_eq!(total(server, &token, filter.clone()).await, expected, "{filter} vs {sql}");
    }
    assert!(subjects_where(server, &in_region_sql("330922")).await > 0, "嵊泗县 has care subjects");
}

#[tokio::test]
async fn name_search_needs_names_in_clear() {
    let server = shared_demo().await;
    let officer = token_for("officer-1", &["officer"], "330900");
    let analyst = token_for("analyst-1", &["analyst"], "330900");
    let first = server
        .gql(Some(&officer), "{ careSubjects(first: 1) { edges { node { code name } } } }", json!({}))
        .await;
    assert_no_errors(&first);
    let name = first["data"]["careSubjects"]["edges"][0]["node"]["name"].as_str().unwrap().to_owned();
    assert!(!name.contains('*'));
    let prefix: String = name.chars().take(2).collect();
    let expected = subjects_where(server, &format!("name LIKE '{prefix}%'")).await;
    assert!(expected >= 1);
    assert_eq!(total(server, &officer, json!({ "search": prefix })).await, expected);
    assert!(total(server, &officer, json!({ "search": name })).await.as_i64().unwrap() >= 1);
    // An analyst cannot confirm that a person is under care by searching for their name.
    assert_eq!(total(server, &analyst, json!({ "search": name })).await, 0);
    assert_eq!(
        total(server, &analyst, json!({ "not": { "search": name } })).await,
        subjects_where(server, "1 = 1").await
    );
}

/// The newest visit of each subject, read through the entities (typed, so on either database).
#[expect(clippy::expect_used, reason = "a failed read must fail the test")]
async fn last_visits(server: &TestServer) -> HashMap<i64, DateTime<Utc>> {
    let db = server.db.connect().await;
    let rows: Vec<(i64, DateTime<Utc>)> = care_visit::Entity::find()
        .select_only()
        .column(care_visit::Column::SubjectId)
        .column(care_visit::Column::VisitedAt)
        .into_tuple()
        .all(&db)
        .await
        .expect("visits");
    let mut newest: HashMap<i64, DateTime<Utc>> = HashMap::new();
    for (subject, at) in rows {
        let entry = newest.entry(subject).or_insert(at);
        *entry = (*entry).max(at);
    }
    newest
}

#[tokio::test]
async fn not_visited_for_days_and_days_since_last_visit_agree_with_the_visits() {
    let server = shared_demo().await;
    let token = admin();
    let newest = last_visits(server).await;
    let subjects = subjects_where(server, "1 = 1").await;
    let today = Utc::now().date_naive();
    let days_since = |at: &DateTime<Utc>| (today - at.date_naive()).num_days();
    for days in [0i64, 7, 30, 60, 365] {
        let visited_recently = newest.values().filter(|at| days_since(at) < days).count() as i64;
        let expected = subjects - visited_recently;
        let got = total(server, &token, json!({ "notVisitedForDays": days })).await;
        assert_eq!(got, expected, "notVisitedForDays: {days}");
    }
    let never = subjects - newest.len() as i64;
    assert_eq!(total(server, &token, json!({ "notVisitedForDays": 100000 })).await, never);

    let response = server
        .gql(
            Some(&token),
            "{ careSubjects(first: 200) { edges { node { code id daysSinceLastVisit } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    for edge in edges(&response, "careSubjects") {
        let code = edge["node"]["code"].as_str().unwrap();
        let id: i64 = code.trim_start_matches("CS").parse().unwrap();
        let expected = newest.get(&id).map(days_since);
        assert_eq!(edge["node"]["daysSinceLastVisit"].as_i64(), expected, "{code}");
    }
}

#[tokio::test]
async fn nested_profiles_connections_and_groups_are_exact() {
    let server = shared_demo().await;
    let token = admin();
    let query = "query($f: CareSubjectFilter) { careSubjects(first: 40, filter: $f) { edges { node { id code category
        mentalHealthProfile { healthRecordNo diagnosis foundBy guardianName guardianPhone guardianRelation
                              guardianInsured insurancePolicyNo insuranceExpiresOn }
        correctionProfile { correctionType offence receivedOn supervisionStart supervisionEnd releasedOn status }
        youthProfile { youthKind schoolStatus guardianName guardianPhone }
        assessments(first: 2) { totalCount pageInfo { hasNextPage }
                                edges { node { id level assessedOn assessor notes subject { code } } } }
        visits(first: 3) { totalCount
                           edges { node { id kind visitedAt visitor medicationTaken notes subject { code } } } }
        checkIns: visits(kind: CHECK_IN, first: 500) { totalCount edges { node { kind } } }
        careGroup { role name phone } } } } }";
    for category in ["SEVERE_MENTAL_DISORDER", "COMMUNITY_CORRECTION", "AT_RISK_YOUTH"] {
        let response = server
            .gql_with_headers(Some(&token), &[PURPOSE], query, json!({ "f": { "category": category } }))
            .await;
        assert_no_errors(&response);
        let page = edges(&response, "careSubjects");
        assert!(!page.is_empty(), "{category}");
        for edge in page {
            let node = &edge["node"];
            let code = node["code"].as_str().unwrap();
            let of_subject = |table: &str| {
                format!(
                    "SELECT COUNT(*) FROM {table} t JOIN care_subject s ON s.id = t.subject_id WHERE s.code = '{code}'"
                )
            };
            assert_eq!(
                node["mentalHealthProfile"].is_object(),
                category == "SEVERE_MENTAL_DISORDER",
                "{code}"
            );
            assert_eq!(node["correctionProfile"].is_object(), category == "COMMUNITY_CORRECTION", "{code}");
            assert_eq!(node["youthProfile"].is_object(), category == "AT_RISK_YOUTH", "{code}");
            if category == "SEVERE_MENTAL_DISORDER" {
                assert!(node["mentalHealthProfile"]["diagnosis"].is_string());
            }
            let assessments = count(server, &of_subject("risk_assessment")).await;
            assert_eq!(node["assessments"]["totalCount"], assessments, "{code}");
            assert_eq!(node["assessments"]["edges"].as_array().unwrap().len() as i64, assessments.min(2));
            assert_eq!(node["assessments"]["pageInfo"]["hasNextPage"], assessments > 2);
            let visits = count(server, &of_subject("care_visit")).await;
            assert_eq!(node["visits"]["totalCount"], visits, "{code}");
            assert_eq!(node["visits"]["edges"].as_array().unwrap().len() as i64, visits.min(3));
            for visit in node["visits"]["edges"].as_array().unwrap() {
                assert_eq!(visit["node"]["subject"]["code"], code);
            }
            let check_ins =
                count(server, &format!("{} AND t.kind = 'CHECK_IN'", of_subject("care_visit"))).await;
            assert_eq!(node["checkIns"]["totalCount"], check_ins, "{code}");
            assert!(
                node["checkIns"]["edges"].as_array().unwrap().iter().all(|v| v["node"]["kind"] == "CHECK_IN")
            );
            let group = count(server, &of_subject("care_group_member")).await;
            assert_eq!(node["careGroup"].as_array().unwrap().len() as i64, group, "{code}");
        }
    }
}

const MASKING: &str = r#"{ careSubjects(first: 10, filter: { category: SEVERE_MENTAL_DISORDER }) { edges { node {
    code name idNumber birthYear birthDate phone address currentRiskLevel
    mentalHealthProfile { healthRecordNo diagnosis foundBy }
    careGroup { name } } } } }"#;

fn field_errors(response: &Value, field: &str) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter(|e| {
                    e["path"].as_array().and_then(|p| p.last()).and_then(Value::as_str) == Some(field)
                })
                .map(|e| e["extensions"]["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn each_role_sees_what_the_policy_grants() {
    let server = shared_demo().await;
    let as_role = |role: &str| token_for(&format!("{role}-1"), &[role], "330900");
    let analyst = server.gql_with_headers(Some(&as_role("analyst")), &[PURPOSE], MASKING, json!({})).await;
    let officer = server.gql_with_headers(Some(&as_role("officer")), &[PURPOSE], MASKING, json!({})).await;
    let care = server.gql_with_headers(Some(&as_role("care_worker")), &[PURPOSE], MASKING, json!({})).await;
    let care_without_purpose = server.gql(Some(&as_role("care_worker")), MASKING, json!({})).await;

    // Analysts: masked personal fields, every sensitive field refused.
    let masked = edges(&analyst, "careSubjects");
    assert_eq!(masked.len(), 10);
    for edge in &masked {
        let node = &edge["node"];
        let name = node["name"].as_str().unwrap();
        assert!(name.chars().skip(1).all(|c| c == '*') && name.chars().count() >= 2, "{name}");
        assert_eq!(&node["idNumber"].as_str().unwrap()[6..14], "********");
        let birth = node["birthDate"].as_str().unwrap();
        assert_eq!(birth, format!("{}-**-**", node["birthYear"]));
        assert!(node["address"].as_str().unwrap().ends_with("****"));
        assert_eq!(node["currentRiskLevel"], Value::Null);
        assert_eq!(node["mentalHealthProfile"]["diagnosis"], Value::Null);
        assert!(node["mentalHealthProfile"]["foundBy"].is_string());
        assert!(node["mentalHealthProfile"]["healthRecordNo"].as_str().unwrap().starts_with('*'));
        assert!(
            node["careGroup"].as_array().unwrap().iter().all(|m| m["name"].as_str().unwrap().contains('*'))
        );
    }
    assert_eq!(field_errors(&analyst, "currentRiskLevel"), vec!["FORBIDDEN"; 10]);
    assert_eq!(field_errors(&analyst, "diagnosis"), vec!["FORBIDDEN"; 10]);

    // Officers: names in clear, diagnoses and risk levels refused even with a purpose.
    let clear = edges(&officer, "careSubjects");
    for (clear, masked) in clear.iter().zip(&masked) {
        let (clear, masked) = (&clear["node"], &masked["node"]);
        assert_eq!(clear["code"], masked["code"]);
        let name = clear["name"].as_str().unwrap();
        assert!(!name.contains('*'));
        assert_eq!(name.chars().next(), masked["name"].as_str().unwrap().chars().next());
        assert!(!clear["birthDate"].as_str().unwrap().contains('*'));
        assert!(clear["birthDate"].as_str().unwrap().starts_with(&clear["birthYear"].to_string()));
        assert_eq!(clear["mentalHealthProfile"]["diagnosis"], Value::Null);
    }
    assert_eq!(field_errors(&officer, "diagnosis"), vec!["FORBIDDEN"; 10]);
    assert_eq!(field_errors(&officer, "currentRiskLevel"), vec!["FORBIDDEN"; 10]);

    // Care workers see diagnoses with a stated purpose, and only then.
    assert_no_errors(&care);
    for edge in edges(&care, "careSubjects") {
        assert!(edge["node"]["mentalHealthProfile"]["diagnosis"].is_string());
    }
    assert_eq!(field_errors(&care_without_purpose, "diagnosis"), vec!["FORBIDDEN"; 10]);
    assert_eq!(
        edges(&care_without_purpose, "careSubjects")[0]["node"]["mentalHealthProfile"]["diagnosis"],
        Value::Null
    );

    // Grid workers may read subjects but not their mental-health records: only that field is refused.
    let grid_worker = server
        .gql(
            Some(&as_role("grid_worker")),
            "{ careSubjects(first: 3, filter: { category: SEVERE_MENTAL_DISORDER }) { edges { node { code name
                 mentalHealthProfile { foundBy } assessments { totalCount } visits(first: 1) { totalCount } } } } }",
            json!({}),
        )
        .await;
    let rows = edges(&grid_worker, "careSubjects");
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|e| e["node"]["mentalHealthProfile"].is_null() && e["node"]["assessments"].is_null())
    );
    assert!(rows.iter().all(|e| e["node"]["visits"]["totalCount"].as_i64().is_some()));
    assert_eq!(field_errors(&grid_worker, "mentalHealthProfile"), vec!["FORBIDDEN"; 3]);
    assert_eq!(field_errors(&grid_worker, "assessments"), vec!["FORBIDDEN"; 3]);

    // Partners and auditors get nothing of the domain.
    for role in ["partner", "auditor"] {
        let response = server.gql(Some(&as_role(role)), "{ careSubjects { totalCount } }", json!({})).await;
        assert_eq!(error_codes(&response), ["FORBIDDEN"], "{role}");
        let lookup = server
            .gql(Some(&as_role(role)), r#"{ careSubject(code: "CS0000001") { code } }"#, json!({}))
            .await;
        assert_eq!(error_codes(&lookup), ["FORBIDDEN"], "{role}");
    }
    let anonymous = server.gql(None, "{ careSubjects { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn a_township_token_never_sees_another_county() {
    let server = shared_demo().await;
    let changguo = token_for("cw-1", &["care_worker"], "330902001");
    let inside = subjects_where(server, &in_region_sql("330902001")).await;
    assert!(inside > 0, "昌国街道 has care subjects");
    let response = server
        .gql_with_headers(
            Some(&changguo),
            &[PURPOSE],
            r#"{ all: careSubjects(first: 500) { totalCount edges { node { grid { code } } } }
                 shengsi: careSubjects(filter: { inRegion: "330922" }) { totalCount }
                 either: careSubjects(filter: { or: [{ inRegion: "330922" }, { inRegion: "330902001" }] }) { totalCount }
                 notHome: careSubjects(filter: { not: { inRegion: "330902001" } }) { totalCount }
                 city: careSubjects(filter: { inRegion: "330900" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    let data = &response["data"];
    assert_eq!(data["all"]["totalCount"], inside);
    for edge in data["all"]["edges"].as_array().unwrap() {
        assert!(edge["node"]["grid"]["code"].as_str().unwrap().starts_with("330902001"));
    }
    assert_eq!(data["shengsi"]["totalCount"], 0);
    assert_eq!(data["either"]["totalCount"], inside);
    assert_eq!(data["notHome"]["totalCount"], 0);
    assert_eq!(data["city"]["totalCount"], inside);

    // A subject of 嵊泗县 (and its visits and assessments) is unreachable by id, code and node().
    let outsider = server
        .gql(
            Some(&admin()),
            r#"{ careSubjects(first: 1, filter: { inRegion: "330922", category: SEVERE_MENTAL_DISORDER }) {
                 edges { node { id code visits(first: 1) { edges { node { id } } }
                                assessments(first: 1) { edges { node { id } } } } } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&outsider);
    let node = &outsider["data"]["careSubjects"]["edges"][0]["node"];
    let visit = &node["visits"]["edges"][0]["node"]["id"];
    let assessment = &node["assessments"]["edges"][0]["node"]["id"];
    assert!(visit.is_string() && assessment.is_string(), "{outsider}");
    let probe = server
        .gql_with_headers(
            Some(&changguo),
            &[PURPOSE],
            "query($id: ID!, $code: String!, $visit: ID!, $assessment: ID!) {
               byId: careSubject(id: $id) { code }
               byCode: careSubject(code: $code) { code }
               node(id: $id) { id }
               visit: node(id: $visit) { id }
               assessment: node(id: $assessment) { id }
               search: careSubjects(filter: { search: $code }) { totalCount } }",
            json!({ "id": node["id"], "code": node["code"], "visit": visit, "assessment": assessment }),
        )
        .await;
    assert_no_errors(&probe);
    assert_eq!(
        probe["data"],
        json!({ "byId": null, "byCode": null, "node": null, "visit": null, "assessment": null,
                "search": { "totalCount": 0 } })
    );
}

#[tokio::test]
async fn visits_and_assessments_are_nodes_in_scope() {
    let server = shared_demo().await;
    let token = admin();
    let response = server
        .gql_with_headers(
            Some(&token),
            &[PURPOSE],
            "{ careSubjects(first: 1, filter: { category: SEVERE_MENTAL_DISORDER }) { edges { node { code
                 visits(first: 1) { edges { node { id kind } } }
                 assessments(first: 1) { edges { node { id level } } } } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    let node = &response["data"]["careSubjects"]["edges"][0]["node"];
    let visit = &node["visits"]["edges"][0]["node"];
    let assessment = &node["assessments"]["edges"][0]["node"];
    let lookup = server
        .gql_with_headers(
            Some(&token),
            &[PURPOSE],
            "query($v: ID!, $a: ID!) {
               v: node(id: $v) { id ... on CareVisit { kind subject { code } } }
               a: node(id: $a) { id ... on RiskAssessment { level subject { code } } } }",
            json!({ "v": visit["id"], "a": assessment["id"] }),
        )
        .await;
    assert_no_errors(&lookup);
    assert_eq!(lookup["data"]["v"]["kind"], visit["kind"]);
    assert_eq!(lookup["data"]["v"]["subject"]["code"], node["code"]);
    assert_eq!(lookup["data"]["a"]["level"], assessment["level"]);
    assert_eq!(lookup["data"]["a"]["subject"]["code"], node["code"]);
}

#[tokio::test]
async fn sensitive_reads_are_audited_with_the_subjects() {
    let server = TestServer::start(Fixture::Demo(0.005)).await;
    let care = token_for("care-7", &["care_worker"], "330900");
    let read = server
        .gql_with_headers(
            Some(&care),
            &[PURPOSE],
            "{ careSubjects(first: 3, filter: { category: SEVERE_MENTAL_DISORDER }) { edges { node { id currentRiskLevel
                 mentalHealthProfile { diagnosis } } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&read);
    let subjects: Vec<String> =
        edges(&read, "careSubjects").iter().map(|e| e["node"]["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(subjects.len(), 3);
    // Refused reads leave no trace.
    let analyst = token_for("analyst-1", &["analyst"], "330900");
    server
        .gql(Some(&analyst), "{ careSubjects(first: 3) { edges { node { currentRiskLevel } } } }", json!({}))
        .await;

    let auditor = token_for("auditor-1", &["auditor"], "330900");
    let trail_query = "query($about: ID!) { auditEvents(filter: { about: $about }) { totalCount
        edges { node { actor action entityType purpose detail records { entityType entityId } } } } }";
    for subject in &subjects {
        let trail = server.gql(Some(&auditor), trail_query, json!({ "about": subject })).await;
        assert_no_errors(&trail);
        assert_eq!(trail["data"]["auditEvents"]["totalCount"], 1, "{trail}");
        let event = &trail["data"]["auditEvents"]["edges"][0]["node"];
        assert_eq!(event["actor"], "care-7");
        assert_eq!(event["action"], "READ");
        assert_eq!(event["entityType"], "care_subject");
        assert_eq!(event["purpose"], PURPOSE.1);
        assert_eq!(event["detail"], "fields up to sensitive");
        assert_eq!(event["records"].as_array().unwrap().len(), 3);
    }
    let by_actor = server
        .gql(
            Some(&auditor),
            r#"{ auditEvents(filter: { actor: "care-7" }) { edges { node { entityType records { entityId } } } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&by_actor);
    let types: Vec<Value> =
        edges(&by_actor, "auditEvents").iter().map(|e| e["node"]["entityType"].clone()).collect();
    // The diagnosis belongs to the subject's record: one event covers the subject and its profile.
    assert_eq!(types, [json!("care_subject")]);
    let none = server
        .gql(Some(&auditor), r#"{ auditEvents(filter: { actor: "analyst-1" }) { totalCount } }"#, json!({}))
        .await;
    assert_eq!(none["data"]["auditEvents"]["totalCount"], 0);
}

const NESTED: &str = "query($n: Int) { careSubjects(first: $n) { edges { node {
    mentalHealthProfile { diagnosis }
    visits(first: 3) { totalCount edges { node { kind } } }
    careGroup { name }
    grid { name } } } } }";

#[tokio::test]
async fn nested_statements_do_not_grow_with_the_page_size() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let token = admin();
    let subjects = usize::try_from(subjects_where(&server, "1 = 1").await).unwrap();
    assert!(subjects > 50, "{subjects}");
    server.warm_up(&token).await;
    let mut counts = Vec::new();
    for n in [5, 100] {
        let before = server.statement_count();
        let response = server.gql_with_headers(Some(&token), &[PURPOSE], NESTED, json!({ "n": n })).await;
        assert_no_errors(&response);
        // At this scale the city has fewer than 100 subjects: the larger page holds all of them.
        assert_eq!(edges(&response, "careSubjects").len(), n.min(subjects));
        counts.push(server.statement_count() - before);
    }
    assert_eq!(counts[0], counts[1], "statements for 5 and 100 subjects: {counts:?}");
    println!("statements per nested care query: {counts:?}");
}

#[tokio::test]
async fn bad_input_is_refused_with_its_name() {
    let server = shared_demo().await;
    let token = admin();
    let cases = [
        ("{ careSubjects(first: 501) { totalCount } }", "first"),
        (r#"{ careSubjects(after: "bogus!") { totalCount } }"#, "after"),
        ("{ careSubjects(filter: { notVisitedForDays: -1 }) { totalCount } }", "filter.notVisitedForDays"),
        (
            "{ careSubjects(filter: { and: [{ notVisitedForDays: -3 }] }) { totalCount } }",
            "filter.and[0].notVisitedForDays",
        ),
        (r#"{ careSubject(id: "Q2FyZVN1YmplY3Q6MQ", code: "CS0000001") { code } }"#, "id"),
        ("{ careSubject { code } }", "id"),
        (r#"{ careSubject(id: "bogus") { code } }"#, "id"),
        ("{ careSubjects(first: 1) { edges { node { visits(first: 900) { totalCount } } } } }", "first"),
    ];
    for (query, field) in cases {
        let response = server.gql(Some(&token), query, json!({})).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{query}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{query}");
    }
    // A volunteer's ID is not a care subject's.
    let volunteer =
        server.gql(Some(&token), "{ volunteers(first: 1) { edges { node { id } } } }", json!({})).await;
    let id = &volunteer["data"]["volunteers"]["edges"][0]["node"]["id"];
    let response = server
        .gql(Some(&token), "query($id: ID!) { careSubject(id: $id) { code } }", json!({ "id": id }))
        .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn registered_dates_bound_inclusively() {
    let server = shared_demo().await;
    let token = admin();
    let response = server
        .gql(Some(&token), "{ careSubjects(first: 1) { edges { node { registeredOn } } } }", json!({}))
        .await;
    let day =
        response["data"]["careSubjects"]["edges"][0]["node"]["registeredOn"].as_str().unwrap().to_owned();
    let expected = subjects_where(server, &format!("registered_on = '{day}'")).await;
    assert!(expected >= 1);
    let filter = json!({ "registeredFrom": day, "registeredTo": day });
    assert_eq!(total(server, &token, filter).await, expected);
}

#[tokio::test]
async fn a_young_persons_mentorships_are_reachable_from_the_subject() {
    let server = shared_demo().await;
    let response = server
        .gql(
            Some(&admin()),
            "{ careSubjects(filter: { category: AT_RISK_YOUTH }, first: 100) { edges { node { code
                 mentorships(first: 10) { totalCount edges { node { status mentee { code } mentor { code } } } } } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    let mut paired = 0;
    for edge in response["data"]["careSubjects"]["edges"].as_array().unwrap() {
        let code = edge["node"]["code"].as_str().unwrap();
        let expected = count(
            server,
            &format!("SELECT COUNT(*) FROM mentorship m JOIN care_subject c ON c.id = m.mentee_id WHERE c.code = '{code}'"),
        )
        .await;
        let mentorships = &edge["node"]["mentorships"];
        assert_eq!(mentorships["totalCount"], expected, "{code}");
        for pairing in mentorships["edges"].as_array().unwrap() {
            assert_eq!(pairing["node"]["mentee"]["code"], code);
            paired += 1;
        }
    }
    assert!(paired > 0);
    let partner = token_for("p", &["care_worker"], "330900");
    let refused = server
        .gql(
            Some(&partner),
            "{ careSubjects(first: 1) { edges { node { code mentorships { totalCount } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_codes(&refused),
        ["FORBIDDEN"],
        "care workers do not read the mentoring programme: {refused}"
    );
}

#[tokio::test]
async fn care_subjects_page_in_the_requested_order() {
    let server = shared_demo().await;
    let query = "query($after: String) { careSubjects(orderBy: { field: REGISTERED_ON, descending: true }, first: 61, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { code registeredOn } } } }";
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut after: Option<String> = None;
    let total = loop {
        let response = server.gql(Some(&admin()), query, json!({ "after": after })).await;
        assert_no_errors(&response);
        let connection = &response["data"]["careSubjects"];
        let total = connection["totalCount"].as_i64().unwrap();
        for edge in connection["edges"].as_array().unwrap() {
            seen.push((
                edge["node"]["registeredOn"].as_str().unwrap().into(),
                edge["node"]["code"].as_str().unwrap().into(),
            ));
        }
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break total;
        }
        after = connection["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    };
    assert_eq!(seen.len() as i64, total);
    assert!(seen.windows(2).all(|pair| pair[0].0 >= pair[1].0));
    let analyst = token_for("a", &["analyst"], "330900");
    let by_name = server
        .gql(Some(&analyst), "{ careSubjects(orderBy: { field: NAME }) { totalCount } }", json!({}))
        .await;
    assert_eq!(error_codes(&by_name), ["FORBIDDEN"]);
}
