//! The scope matrix: for every role, a token scoped to 昌国街道 (330902001) tries every path the API offers to
//! rows of 嵊泗县 (330922) and must learn nothing about them — not by list, id, code, `node`, nesting, filter or
//! total. Roles without the right get `FORBIDDEN`, never data; no probe ever fails with anything else.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph::auth::Role;
use govgraph_tests::{TestServer, assert_no_errors, error_codes, shared_demo, token_for};
use serde_json::{Value, json};

const HOME: &str = "330902001";
const OUTSIDE: &str = "330922";

/// Identifiers of rows outside the probing token's scope; none may appear in any answer.
struct Outsider {
    region_id: String,
    grid_code: String,
    grid_name: String,
    volunteer_id: String,
    volunteer_code: String,
    volunteer_name: String,
    service_record_id: String,
    team_member_id: String,
    subject_id: String,
    subject_code: String,
    subject_name: String,
    visit_id: String,
    mentorship_id: String,
    application_id: String,
    application_code: String,
    applicant_name: String,
    project_id: String,
    project_code: String,
    project_name: String,
    unit_id: String,
    unit_code: String,
    unit_name: String,
}

async fn outsider(server: &TestServer) -> Outsider {
    let admin = token_for("admin", &["admin"], "330900");
    let response = server
        .gql(
            Some(&admin),
            r#"{ district: region(code: "330922") { id }
                 grids: regions(level: GRID, inRegion: "330922", first: 1) { edges { node { code name team { id } } } }
                 volunteers(inRegion: "330922", first: 1) { edges { node { id code name
                     serviceRecords(first: 1) { edges { node { id } } } } } }
                 subjects: careSubjects(filter: { inRegion: "330922", category: SEVERE_MENTAL_DISORDER }, first: 1) {
                     edges { node { id code name visits(first: 1) { edges { node { id } } } } } }
                 mentorships(filter: { inRegion: "330922" }, first: 1) { edges { node { id } } }
                 applications: legalAidApplications(first: 500) {
                     edges { node { id code applicantName region { code } } } }
                 projects: majorProjects(filter: { inRegion: "330922" }, first: 1) {
                     nodes { id code name responsibleUnit { id code name } } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    let data = &response["data"];
    let grid = &data["grids"]["edges"][0]["node"];
    let volunteer = &data["volunteers"]["edges"][0]["node"];
    let text = |value: &Value| value.as_str().unwrap().to_owned();
    let subject = &data["subjects"]["edges"][0]["node"];
    let application = data["applications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| &edge["node"])
        .find(|node| !node["region"]["code"].as_str().unwrap().starts_with(HOME))
        .unwrap();
    Outsider {
        region_id: text(&data["district"]["id"]),
        grid_code: text(&grid["code"]),
        grid_name: text(&grid["name"]),
        volunteer_id: text(&volunteer["id"]),
        volunteer_code: text(&volunteer["code"]),
        volunteer_name: text(&volunteer["name"]),
        service_record_id: text(&volunteer["serviceRecords"]["edges"][0]["node"]["id"]),
        team_member_id: text(&grid["team"][0]["id"]),
        subject_id: text(&subject["id"]),
        subject_code: text(&subject["code"]),
        subject_name: text(&subject["name"]),
        visit_id: text(&subject["visits"]["edges"][0]["node"]["id"]),
        mentorship_id: text(&data["mentorships"]["edges"][0]["node"]["id"]),
        application_id: text(&application["id"]),
        application_code: text(&application["code"]),
        applicant_name: text(&application["applicantName"]),
        project_id: text(&data["projects"]["nodes"][0]["id"]),
        project_code: text(&data["projects"]["nodes"][0]["code"]),
        project_name: text(&data["projects"]["nodes"][0]["name"]),
        unit_id: text(&data["projects"]["nodes"][0]["responsibleUnit"]["id"]),
        unit_code: text(&data["projects"]["nodes"][0]["responsibleUnit"]["code"]),
        unit_name: text(&data["projects"]["nodes"][0]["responsibleUnit"]["name"]),
    }
}

fn probes(outsider: &Outsider) -> Vec<(&'static str, String, Value)> {
    vec![
        ("regions list", "{ regions(first: 500) { totalCount edges { node { code name } } } }".into(), json!({})),
        (
            "regions filtered to the outside",
            "query($c: String) { a: regions(inRegion: $c) { totalCount edges { node { code } } }
                                 b: regions(parentCode: $c) { totalCount edges { node { code } } } }"
                .into(),
            json!({ "c": OUTSIDE }),
        ),
        ("region by code", "query($c: String!) { region(code: $c) { code name } }".into(), json!({ "c": OUTSIDE })),
        (
            "grid by code",
            "query($c: String!) { region(code: $c) { code name team { name phone } } }".into(),
            json!({ "c": outsider.grid_code }),
        ),
        (
            "node of region, volunteer, record, team member",
            "query($a: ID!, $b: ID!, $c: ID!, $d: ID!) {
               a: node(id: $a) { id } b: node(id: $b) { id ... on Volunteer { code name } }
               c: node(id: $c) { id } d: node(id: $d) { id } }"
                .into(),
            json!({ "a": outsider.region_id, "b": outsider.volunteer_id, "c": outsider.service_record_id,
                    "d": outsider.team_member_id }),
        ),
        (
            "volunteer by id and code",
            "query($id: ID!, $code: String!) { a: volunteer(id: $id) { code name } b: volunteer(code: $code) { code } }"
                .into(),
            json!({ "id": outsider.volunteer_id, "code": outsider.volunteer_code }),
        ),
        (
            "volunteers list, filter and total",
            "query($c: String) { all: volunteers(first: 500) { totalCount edges { node { code name grid { code } } } }
                                 outside: volunteers(inRegion: $c) { totalCount edges { node { code } } } }"
                .into(),
            json!({ "c": OUTSIDE }),
        ),
        (
            "nested from in-scope parents",
            "{ volunteers(first: 50) { edges { node { grid { parent { parent { parent { code name } } } }
                 serviceRecords(first: 50) { totalCount edges { node { grid { code name } volunteer { code } } } } } } }
               region(code: \"330902001\") { parent { code } ancestors { code } children { code } } }"
                .into(),
            json!({}),
        ),
        (
            "grid team of an outside grid",
            "query($c: String!) { gridTeam(gridCode: $c) { name phone grid { code } } }".into(),
            json!({ "c": outsider.grid_code }),
        ),
        (
            "care subjects list, filters and totals",
            "query($c: String) { all: careSubjects(first: 500) { totalCount edges { node { code name grid { code } } } }
                 outside: careSubjects(filter: { inRegion: $c }) { totalCount edges { node { code } } }
                 either: careSubjects(filter: { or: [{ inRegion: $c }, { notVisitedForDays: 0 }] }) {
                     edges { node { code } } } }"
                .into(),
            json!({ "c": OUTSIDE }),
        ),
        (
            "care subject, visit and mentorship by id, code and node",
            "query($s: ID!, $code: String!, $v: ID!, $m: ID!) {
               a: careSubject(id: $s) { code } b: careSubject(code: $code) { code name }
               c: node(id: $s) { id } d: node(id: $v) { id } e: node(id: $m) { id } f: mentorship(id: $m) { id } }"
                .into(),
            json!({ "s": outsider.subject_id, "code": outsider.subject_code, "v": outsider.visit_id,
                    "m": outsider.mentorship_id }),
        ),
        (
            "care subjects nested from in-scope parents",
            "{ careSubjects(first: 50) { edges { node { grid { parent { parent { parent { code } } } }
                 mentalHealthProfile { diagnosis } visits(first: 20) { edges { node { id subject { code } } } }
                 assessments(first: 20) { edges { node { id subject { code } } } } careGroup { name } } } } }"
                .into(),
            json!({}),
        ),
        (
            "mentors and mentorships",
            "query($c: String) { mentors(first: 500) { totalCount edges { node { code name region { code }
                   mentorships(first: 50) { totalCount edges { node { id mentee { code name } } } } } } }
                 outside: mentors(filter: { inRegion: $c }) { totalCount }
                 pairs: mentorships(first: 500) { totalCount edges { node { id mentee { code } mentor { code } } } }
                 outsidePairs: mentorships(filter: { inRegion: $c }) { totalCount } }"
                .into(),
            json!({ "c": OUTSIDE }),
        ),
        (
            "legal-aid applications by list, filter, id, code, node and fund",
            "query($c: String, $id: ID!, $code: String!) {
               all: legalAidApplications(first: 500) { totalCount edges { node { code applicantName region { code } } } }
               outside: legalAidApplications(filter: { inRegion: $c }) { totalCount edges { node { code } } }
               byId: legalAidApplication(id: $id) { code } byCode: legalAidApplication(code: $code) { code }
               node(id: $id) { id } }"
                .into(),
            json!({ "c": OUTSIDE, "id": outsider.application_id, "code": outsider.application_code }),
        ),
        (
            "statistics down to the grid",
            "{ people: statistics(measure: CARE_SUBJECTS, groupBy: [REGION], regionLevel: GRID, withTotals: true) {
                   cells { regionCode regionName value suppressed } totals { value } }
               hours: statistics(measure: SERVICE_HOURS, groupBy: [REGION, CATEGORY], regionLevel: GRID) {
                   cells { regionCode value } } }"
                .into(),
            json!({}),
        ),
        (
            "major projects and units by list, filter, id, code, node and nesting",
            "query($c: String, $id: ID!, $code: String!, $u: ID!, $uc: String!) {
               all: majorProjects(first: 500) { totalCount nodes { code name region { code }
                   responsibleUnit { code name } assessment { steps { nodes { actor } } measures { nodes { id } } } } }
               outside: majorProjects(filter: { inRegion: $c }) { totalCount nodes { code } }
               either: majorProjects(filter: { or: [{ inRegion: $c }, { startedWithoutAssessment: true }] }) {
                   nodes { code } }
               byId: majorProject(id: $id) { code } byCode: majorProject(code: $code) { code } node(id: $id) { id }
               unit: responsibleUnit(id: $u) { code } unitByCode: responsibleUnit(code: $uc) { code }
               unitNode: node(id: $u) { id }
               units: responsibleUnits(first: 500) { totalCount nodes { code name
                   projects { totalCount nodes { code } } vetoes { nodes { reason project { code } } } } }
               outsideUnits: responsibleUnits(filter: { inRegion: $c }) { totalCount } }"
                .into(),
            json!({ "c": OUTSIDE, "id": outsider.project_id, "code": outsider.project_code, "u": outsider.unit_id,
                    "uc": outsider.unit_code }),
        ),
        (
            "stability statistics down to the grid",
            "{ statistics(measure: STABILITY_PROJECT_OUTCOMES, groupBy: [REGION, CATEGORY], regionLevel: GRID) {
                   cells { regionCode value } } }"
                .into(),
            json!({}),
        ),
        (
            "audit trail",
            "{ auditEvents(first: 500) { totalCount edges { node { actor regionCode records { entityId } } } } }".into(),
            json!({}),
        ),
    ]
}

#[tokio::test]
async fn no_role_reaches_outside_its_subtree() {
    let server = shared_demo().await;
    let outsider = outsider(server).await;
    // Leave a trace outside the scope for the audit probe: an officer of 嵊泗县 reads a volunteer there.
    let shengsi_officer = token_for("shengsi-officer", &["officer"], OUTSIDE);
    assert_no_errors(
        &server
            .gql(Some(&shengsi_officer), "{ volunteers(first: 1) { edges { node { name } } } }", json!({}))
            .await,
    );

    let secrets = [
        outsider.grid_code.as_str(),
        outsider.grid_name.as_str(),
        outsider.volunteer_id.as_str(),
        outsider.volunteer_code.as_str(),
        outsider.volunteer_name.as_str(),
        outsider.service_record_id.as_str(),
        outsider.team_member_id.as_str(),
        outsider.region_id.as_str(),
        outsider.subject_id.as_str(),
        outsider.subject_code.as_str(),
        outsider.subject_name.as_str(),
        outsider.visit_id.as_str(),
        outsider.mentorship_id.as_str(),
        outsider.application_id.as_str(),
        outsider.application_code.as_str(),
        outsider.applicant_name.as_str(),
        outsider.project_id.as_str(),
        outsider.project_code.as_str(),
        outsider.project_name.as_str(),
        outsider.unit_id.as_str(),
        outsider.unit_code.as_str(),
        outsider.unit_name.as_str(),
        "shengsi-officer",
    ];
    let mut checked = 0;
    for role in Role::TOKEN_ROLES {
        let token = token_for("prober", &[role.as_str()], HOME);
        for (name, query, variables) in probes(&outsider) {
            let response = server.gql(Some(&token), &query, variables.clone()).await;
            let codes = error_codes(&response);
            assert!(
                codes.iter().all(|code| code == "FORBIDDEN"),
                "{role} / {name}: only FORBIDDEN may come back, got {codes:?}: {response}"
            );
            let data = response["data"].to_string();
            let text = response.to_string();
            for secret in secrets {
                // Variables echo nothing back, so any occurrence in the answer is a leak.
                assert!(!data.contains(secret), "{role} / {name}: leaked {secret}: {text}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, Role::TOKEN_ROLES.len() * probes(&outsider).len());
}

#[tokio::test]
async fn totals_count_only_rows_in_scope() {
    let server = shared_demo().await;
    let admin = token_for("admin", &["admin"], "330900");
    let home = token_for("admin-home", &["admin"], HOME);
    let query = "{ regions(level: GRID) { totalCount } volunteers { totalCount } }";
    let city = server.gql(Some(&admin), query, json!({})).await;
    let township = server.gql(Some(&home), query, json!({})).await;
    let scoped = server
        .gql(
            Some(&admin),
            r#"{ regions(level: GRID, inRegion: "330902001") { totalCount }
                              volunteers(inRegion: "330902001") { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(township["data"], scoped["data"]);
    assert!(
        city["data"]["regions"]["totalCount"].as_i64() > township["data"]["regions"]["totalCount"].as_i64()
    );
}

#[tokio::test]
async fn anonymous_callers_reach_only_public_team_contacts() {
    let server = shared_demo().await;
    let outsider = outsider(server).await;
    for (name, query, variables) in probes(&outsider) {
        let response = server.gql(None, &query, variables).await;
        let codes = error_codes(&response);
        if name == "node of region, volunteer, record, team member" {
            // A team member's contacts are public, so `node` may return one; nothing else answers.
            assert!(
                codes.len() == 3 && codes.iter().all(|code| code == "UNAUTHENTICATED"),
                "{name}: {response}"
            );
            assert!(response["data"]["d"]["id"].is_string(), "{response}");
        } else if name == "grid team of an outside grid" {
            assert!(codes.iter().all(|code| code == "UNAUTHENTICATED"), "{name}: {response}");
            assert!(
                !response["data"]["gridTeam"].as_array().unwrap().is_empty(),
                "public contacts: {response}"
            );
        } else {
            assert!(
                !codes.is_empty() && codes.iter().all(|code| code == "UNAUTHENTICATED"),
                "{name}: {response}"
            );
        }
    }
}
