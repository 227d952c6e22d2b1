//! Major projects' stability risk assessment end to end: the six steps and every refused transition, the HIGH
//! risk start refused until the measures are done, the flags (started without assessment, overdue measures),
//! vetoes, disputes linked to projects as incidents, unit officers who see only their unit's projects, and the
//! demo's 709 projects carried out after assessment without one incident.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::builders::unique;
use govgraph_tests::{Fixture, TestServer, admin, assert_no_errors, count, error_codes, token_for};
use serde_json::{Value, json};

const PURPOSE: (&str, &str) = ("x-access-purpose", "stability risk assessment");
const PROJECT: &str = "id code startedOn startedWithoutAssessment measuresOverdue \
     assessment { step nextStep complete rating steps { totalCount nodes { step actor findings attachments } } \
     measures { totalCount nodes { id owner dueOn done overdue } } }";
const DINGHAI: &str = "330902";

async fn run(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    server.gql_with_headers(Some(token), &[PURPOSE], query, variables).await
}

async fn ok(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    let response = run(server, token, query, variables).await;
    assert_no_errors(&response);
    response["data"].as_object().and_then(|data| data.values().next()).cloned().unwrap_or_default()
}

fn officer() -> String {
    token_for("assessor-t", &["officer"], DINGHAI)
}

/// A unit in 定海 whose officer's token subject is `subject`; returns its code and id.
async fn unit(server: &TestServer, subject: &str) -> (String, String) {
    let unit = ok(
        server,
        &admin(),
        "mutation($input: RegisterResponsibleUnitInput!) { registerResponsibleUnit(input: $input) { id code } }",
        json!({ "input": { "name": "定海区测试局", "regionCode": DINGHAI, "officerSubject": subject } }),
    )
    .await;
    (unit["code"].as_str().unwrap().to_owned(), unit["id"].as_str().unwrap().to_owned())
}

async fn project(server: &TestServer, token: &str, unit_code: &str) -> Value {
    ok(
        server,
        token,
        &format!("mutation($input: RegisterMajorProjectInput!) {{ registerMajorProject(input: $input) {{ {PROJECT} }} }}"),
        json!({ "input": {
            "name": "定海测试水库扩容工程", "kind": "RESERVOIR", "regionCode": DINGHAI, "unitCode": unit_code,
            "investment": "125000000.00", "plannedStart": "2027-03-01", "affectedHouseholds": 120 } }),
    )
    .await
}

const STEPS: [&str; 6] = [
    "submitStabilityAssessment",
    "recordStabilityInvestigation",
    "recordStabilityJointReview",
    "rateStabilityRisk",
    "giveStabilityFeedback",
    "setMitigationMeasures",
];

fn step(name: &str) -> String {
    let extra = match name {
        "rateStabilityRisk" => ", rating: HIGH",
        "setMitigationMeasures" => {
            ", measures: [{ description: \"逐户上门解释补偿标准\", owner: \"征收办\", dueOn: \"2026-01-10\" }, \
               { description: \"设立诉求接待点\", owner: \"信访办\", dueOn: \"2099-01-10\" }]"
        }
        _ => "",
    };
    format!(
        "mutation($id: ID!) {{ {name}(projectId: $id{extra}, input: {{ findings: \"第{name}步的结论\", \
         attachments: [\"舟稳评〔2026〕1号\"] }}) {{ {PROJECT} }} }}"
    )
}

/// Every step but `allowed` is refused with `CONFLICT`.
async fn only_allowed(server: &TestServer, id: &str, allowed: Option<&str>) {
    for name in STEPS.iter().filter(|name| Some(**name) != allowed) {
        let response = run(server, &admin(), &step(name), json!({ "id": id })).await;
        assert_eq!(error_codes(&response), ["CONFLICT"], "{name}: {response:#}");
    }
}

const START: &str = "mutation($id: ID!, $d: Date!) { recordProjectStart(projectId: $id, startedOn: $d) { id startedOn startedWithoutAssessment } }";

#[tokio::test]
async fn the_whole_workflow_and_every_refused_transition() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let subject = format!("unit-officer-{}", unique());
    let (unit_code, _) = unit(&server, &subject).await;
    let unit_officer = token_for(&subject, &["unit_officer"], DINGHAI);
    let created = project(&server, &unit_officer, &unit_code).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["assessment"], Value::Null);
    only_allowed(&server, &id, Some("submitStabilityAssessment")).await;

    // The unit applies; the assessing office investigates, reviews, rates and gives feedback; the unit sets
    // the measures. After each step only the next one is allowed.
    for (n, name) in STEPS.iter().enumerate() {
        let token = if n == 0 || n == 5 { unit_officer.clone() } else { officer() };
        if n > 0 && n < 5 {
            // The unit's officer may not take the assessing office's steps.
            let response = run(&server, &unit_officer, &step(name), json!({ "id": id })).await;
            assert_eq!(error_codes(&response), ["FORBIDDEN"], "{name}: {response:#}");
        }
        let done = ok(&server, &token, &step(name), json!({ "id": id })).await;
        let assessment = &done["assessment"];
        assert_eq!(assessment["steps"]["totalCount"], n + 1);
        let last = &assessment["steps"]["nodes"][n];
        assert_eq!(last["actor"], if n == 0 || n == 5 { subject.as_str() } else { "assessor-t" });
        assert_eq!(last["attachments"], json!(["舟稳评〔2026〕1号"]));
        assert!(last["findings"].as_str().unwrap().contains(name));
        only_allowed(&server, &id, STEPS.get(n + 1).copied()).await;
        if *name == "rateStabilityRisk" {
            assert_eq!(assessment["rating"], "HIGH");
            // Rated HIGH: the start is refused until the measures are set and done.
            let start = run(&server, &officer(), START, json!({ "id": id, "d": "2026-12-01" })).await;
            assert_eq!(error_codes(&start), ["CONFLICT"], "{start:#}");
        }
    }
    let after = ok(
        &server,
        &admin(),
        &format!("query($id: ID!) {{ majorProject(id: $id) {{ {PROJECT} }} }}"),
        json!({ "id": id }),
    )
    .await;
    assert_eq!(after["assessment"]["complete"], true);
    assert_eq!(after["assessment"]["nextStep"], Value::Null);
    let measures = after["assessment"]["measures"]["nodes"].as_array().unwrap().clone();
    assert_eq!(measures.len(), 2);
    // The first measure was due in January 2026: overdue, and the project is flagged.
    assert_eq!(measures[0]["overdue"], true);
    assert_eq!(after["measuresOverdue"], true);
    let flagged = ok(
        &server,
        &officer(),
        "{ majorProjects(filter: { overdueMeasures: true }, first: 500) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert!(flagged["nodes"].as_array().unwrap().iter().any(|node| node["id"] == id.as_str()));

    let start = run(&server, &unit_officer, START, json!({ "id": id, "d": "2026-12-01" })).await;
    assert_eq!(error_codes(&start), ["CONFLICT"], "measures are open: {start:#}");
    let complete = "mutation($id: ID!) { completeMitigationMeasure(id: $id) { done overdue } }";
    for measure in &measures {
        let done = ok(&server, &unit_officer, complete, json!({ "id": measure["id"] })).await;
        assert_eq!(done, json!({ "done": true, "overdue": false }));
    }
    let again = run(&server, &unit_officer, complete, json!({ "id": measures[0]["id"] })).await;
    assert_eq!(error_codes(&again), ["CONFLICT"]);
    let future = run(&server, &unit_officer, START, json!({ "id": id, "d": "2099-01-01" })).await;
    assert_eq!(error_codes(&future), ["BAD_USER_INPUT"]);
    let started = ok(&server, &unit_officer, START, json!({ "id": id, "d": "2026-12-01" })).await;
    assert_eq!(started["startedWithoutAssessment"], false);
    let twice = run(&server, &unit_officer, START, json!({ "id": id, "d": "2026-12-02" })).await;
    assert_eq!(error_codes(&twice), ["CONFLICT"]);
    only_allowed(&server, &id, None).await;

    // Every change is one audit event, in the same transaction.
    for action in
        STEPS.iter().chain(&["registerMajorProject", "recordProjectStart", "completeMitigationMeasure"])
    {
        let n = count(&server, &format!("SELECT COUNT(*) FROM audit_event WHERE action = '{action}'")).await;
        assert!(n >= 1, "{action} is audited");
    }
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM audit_event WHERE action = 'recordProjectStart'").await,
        1
    );
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (unit_code, _) = unit(&server, &format!("unit-{}", unique())).await;
    let id = project(&server, &admin(), &unit_code).await["id"].as_str().unwrap().to_owned();
    let submit = "mutation($id: ID!, $input: AssessmentStepInput!) { submitStabilityAssessment(projectId: $id, input: $input) { id } }";
    for (input, field) in [
        (json!({ "findings": "  " }), "input.findings"),
        (json!({ "findings": "可", "attachments": vec!["附件"; 11] }), "input.attachments"),
        (json!({ "findings": "可", "attachments": ["", "x"] }), "input.attachments[0]"),
    ] {
        let response = run(&server, &admin(), submit, json!({ "id": id, "input": input })).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response:#}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
    let response =
        run(&server, &admin(), submit, json!({ "id": "garbage", "input": { "findings": "可" } })).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
    let response = run(
        &server,
        &admin(),
        "mutation($input: RegisterMajorProjectInput!) { registerMajorProject(input: $input) { id } }",
        json!({ "input": { "name": "x", "kind": "PLANT", "regionCode": DINGHAI, "unitCode": unit_code,
                "investment": "-5", "plannedStart": "2027-01-01", "affectedHouseholds": 1 } }),
    )
    .await;
    assert_eq!(response["errors"][0]["extensions"]["field"], "input.investment", "{response:#}");
    // A HIGH rating needs at least one measure.
    for name in &STEPS[..5] {
        ok(&server, &admin(), &step(name), json!({ "id": id })).await;
    }
    let none = "mutation($id: ID!) { setMitigationMeasures(projectId: $id, measures: [], input: { findings: \"无\" }) { id } }";
    let response = run(&server, &admin(), none, json!({ "id": id })).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response:#}");
    assert_eq!(response["errors"][0]["extensions"]["field"], "measures");
}

#[tokio::test]
async fn a_start_without_assessment_is_flagged_and_vetoes_need_a_reason() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (unit_code, unit_id) = unit(&server, &format!("unit-{}", unique())).await;
    let id = project(&server, &admin(), &unit_code).await["id"].as_str().unwrap().to_owned();
    ok(&server, &admin(), &step("submitStabilityAssessment"), json!({ "id": id })).await;
    let started = ok(&server, &officer(), START, json!({ "id": id, "d": "2026-11-01" })).await;
    assert_eq!(started["startedWithoutAssessment"], true);
    let flagged = ok(
        &server,
        &officer(),
        "query($u: String) { majorProjects(filter: { startedWithoutAssessment: true, unitCode: $u }) { totalCount nodes { id } } }",
        json!({ "u": unit_code }),
    )
    .await;
    assert_eq!(flagged["totalCount"], 1);
    // The assessment cannot go on once the project has started.
    only_allowed(&server, &id, None).await;

    let veto = "mutation($u: ID!, $r: String!, $p: ID, $y: Int!) { vetoResponsibleUnit(unitId: $u, year: $y, reason: $r, projectId: $p) { code evaluation(year: 2026) vetoes { totalCount nodes { year reason project { id } } } } }";
    let blank = run(&server, &officer(), veto, json!({ "u": unit_id, "r": " ", "p": id, "y": 2026 })).await;
    assert_eq!(error_codes(&blank), ["BAD_USER_INPUT"]);
    assert_eq!(blank["errors"][0]["extensions"]["field"], "reason");
    let future = run(&server, &officer(), veto, json!({ "u": unit_id, "r": "未评先建", "y": 2099 })).await;
    assert_eq!(future["errors"][0]["extensions"]["field"], "year");
    let unit_officer = token_for("someone", &["unit_officer"], DINGHAI);
    let forbidden =
        run(&server, &unit_officer, veto, json!({ "u": unit_id, "r": "未评先建", "y": 2026 })).await;
    assert_eq!(error_codes(&forbidden), ["FORBIDDEN"]);
    let vetoed =
        ok(&server, &officer(), veto, json!({ "u": unit_id, "r": "未评先建", "p": id, "y": 2026 })).await;
    assert_eq!(vetoed["evaluation"], "VETOED");
    assert_eq!(vetoed["vetoes"]["nodes"][0]["project"]["id"], id.as_str());
    let twice = run(&server, &officer(), veto, json!({ "u": unit_id, "r": "再次", "y": 2026 })).await;
    assert_eq!(error_codes(&twice), ["CONFLICT"]);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM audit_event WHERE action = 'vetoResponsibleUnit'").await,
        1
    );
    let listed = ok(
        &server,
        &officer(),
        "{ responsibleUnits(filter: { vetoedIn: 2026 }) { nodes { code } } }",
        json!({}),
    )
    .await;
    assert_eq!(listed["nodes"], json!([{ "code": unit_code }]));
}

#[tokio::test]
async fn unit_officers_see_and_work_only_their_units_projects() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (mine, _) = unit(&server, "unit-mine").await;
    let (other, _) = unit(&server, "unit-other").await;
    let me = token_for("unit-mine", &["unit_officer"], DINGHAI);
    let own = project(&server, &me, &mine).await["id"].as_str().unwrap().to_owned();
    let theirs = project(&server, &admin(), &other).await["id"].as_str().unwrap().to_owned();
    // Registering a project for another unit: that unit is not in the caller's reach.
    let response = run(
        &server,
        &me,
        "mutation($input: RegisterMajorProjectInput!) { registerMajorProject(input: $input) { id } }",
        json!({ "input": { "name": "x", "kind": "PLANT", "regionCode": DINGHAI, "unitCode": other,
                "investment": "1.00", "plannedStart": "2027-01-01", "affectedHouseholds": 1 } }),
    )
    .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
    let listed =
        ok(&server, &me, "{ majorProjects(first: 500) { totalCount nodes { id } } }", json!({})).await;
    assert_eq!(listed["totalCount"], 1);
    assert_eq!(listed["nodes"][0]["id"], own.as_str());
    let units = ok(&server, &me, "{ responsibleUnits { totalCount nodes { code } } }", json!({})).await;
    assert_eq!(units["nodes"], json!([{ "code": mine }]));
    let hidden =
        ok(&server, &me, "query($id: ID!) { majorProject(id: $id) { id } }", json!({ "id": theirs })).await;
    assert_eq!(hidden, Value::Null);
    let response = run(&server, &me, &step("submitStabilityAssessment"), json!({ "id": theirs })).await;
    assert_eq!(error_codes(&response), ["NOT_FOUND"]);
    ok(&server, &me, &step("submitStabilityAssessment"), json!({ "id": own })).await;
    // Disputes are not theirs to read.
    let response = run(
        &server,
        &me,
        "query($id: ID!) { majorProject(id: $id) { disputes { totalCount } } }",
        json!({ "id": own }),
    )
    .await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"]);
}

#[tokio::test]
async fn disputes_link_to_projects_and_incidents_are_counted() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (unit_code, _) = unit(&server, &format!("unit-{}", unique())).await;
    let first = project(&server, &admin(), &unit_code).await["id"].as_str().unwrap().to_owned();
    let second = project(&server, &admin(), &unit_code).await["id"].as_str().unwrap().to_owned();
    let disputes = ok(&server, &officer(), "{ disputes(first: 2) { nodes { id code } } }", json!({})).await;
    let dispute = disputes["nodes"][0]["id"].as_str().unwrap().to_owned();
    let other = disputes["nodes"][1]["id"].as_str().unwrap().to_owned();
    let link = "mutation($d: ID!, $p: ID!, $i: Boolean!) { linkDisputeToProject(disputeId: $d, projectId: $p, instabilityIncident: $i) { id instabilityIncident majorProject { id } } }";
    let linked = ok(&server, &officer(), link, json!({ "d": dispute, "p": first, "i": true })).await;
    assert_eq!(linked["instabilityIncident"], true);
    assert_eq!(linked["majorProject"]["id"], first.as_str());
    ok(&server, &officer(), link, json!({ "d": other, "p": first, "i": false })).await;
    let moved = run(&server, &officer(), link, json!({ "d": dispute, "p": second, "i": true })).await;
    assert_eq!(error_codes(&moved), ["CONFLICT"]);
    let analyst = token_for("analyst", &["analyst"], DINGHAI);
    let forbidden = run(&server, &analyst, link, json!({ "d": dispute, "p": first, "i": false })).await;
    assert_eq!(error_codes(&forbidden), ["FORBIDDEN"]);
    let nested = ok(
        &server,
        &officer(),
        "query($id: ID!) { majorProject(id: $id) { disputes { totalCount } incidents { totalCount nodes { id } } } }",
        json!({ "id": first }),
    )
    .await;
    assert_eq!(nested["disputes"]["totalCount"], 2);
    assert_eq!(nested["incidents"]["totalCount"], 1);
    assert_eq!(nested["incidents"]["nodes"][0]["id"], dispute.as_str());
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM audit_event WHERE action = 'linkDisputeToProject'").await,
        2
    );
}

async fn total(server: &TestServer, measure: &str) -> Value {
    let response = server
        .gql(
            Some(&admin()),
            &format!("{{ statistics(measure: {measure}, withTotals: true) {{ cells {{ value }} totals {{ value }} }} }}"),
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    response["data"]["statistics"].clone()
}

/// The grand total of a measure: the one total without any dimension, or 0 when there is no row at all.
fn grand_total(statistics: &Value) -> i64 {
    let cells: Vec<i64> = statistics["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| cell["value"].as_str().unwrap().parse().unwrap())
        .collect();
    cells.iter().sum()
}

#[tokio::test]
async fn the_demo_answers_709_projects_and_no_incident() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let implemented = total(&server, "STABILITY_PROJECTS_IMPLEMENTED").await;
    assert_eq!(grand_total(&implemented), 709, "{implemented:#}");
    let incidents = total(&server, "STABILITY_INCIDENTS_AFTER_IMPLEMENTATION").await;
    assert_eq!(grand_total(&incidents), 0, "{incidents:#}");
    // The figures are what the projects say.
    let listed = ok(
        &server,
        &admin(),
        "{ done: majorProjects(filter: { started: true, startedWithoutAssessment: false }) { totalCount }
           flagged: majorProjects(filter: { startedWithoutAssessment: true }) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(listed, json!({ "totalCount": 709 }));
    let response = run(&server, &admin(), "{ flagged: majorProjects(filter: { startedWithoutAssessment: true }) { totalCount nodes { incidents { totalCount } } } }", json!({})).await;
    assert_no_errors(&response);
    let flagged = &response["data"]["flagged"];
    assert!(flagged["totalCount"].as_i64().unwrap() >= 3);
    // Years since 2009, by year.
    let response = server
        .gql(Some(&admin()), "{ statistics(measure: STABILITY_PROJECTS_IMPLEMENTED, groupBy: [PERIOD], period: YEAR) { cells { period value } } }", json!({}))
        .await;
    assert_no_errors(&response);
    let cells = response["data"]["statistics"]["cells"].as_array().unwrap();
    assert_eq!(cells.first().unwrap()["period"], "2009");
    assert_eq!(cells.len(), 17);
    // Huangjinwan: planned for March 2009, started once the assessment was complete.
    let reservoir = ok(
        &server,
        &admin(),
        "{ majorProjects(filter: { search: \"MP2009\" }, first: 1) { nodes { name plannedStart startedOn startedWithoutAssessment region { code } assessment { complete completedAt steps { totalCount } } } } }",
        json!({}),
    )
    .await["nodes"][0]
        .clone();
    assert_eq!(reservoir["name"], "定海黄金湾水库工程");
    assert_eq!(reservoir["plannedStart"], "2009-03-01");
    assert_eq!(reservoir["startedOn"], "2009-07-18");
    assert_eq!(reservoir["startedWithoutAssessment"], false);
    assert!(reservoir["region"]["code"].as_str().unwrap().starts_with(DINGHAI));
    assert!(reservoir["assessment"]["completedAt"].as_str().unwrap() < "2009-07-18");
    // Projects in progress at every step, one with its measures overdue; units with vetoes.
    for step in ["APPLICATION", "INVESTIGATION", "JOINT_REVIEW", "RATING", "FEEDBACK", "MEASURES"] {
        let query =
            format!("{{ majorProjects(filter: {{ step: {step}, started: false }}) {{ totalCount }} }}");
        assert!(
            ok(&server, &admin(), &query, json!({})).await["totalCount"].as_i64().unwrap() >= 2,
            "{step}"
        );
    }
    let overdue = ok(
        &server,
        &admin(),
        "{ majorProjects(filter: { overdueMeasures: true }) { totalCount } }",
        json!({}),
    )
    .await;
    assert!(overdue["totalCount"].as_i64().unwrap() >= 1);
    let vetoed =
        ok(&server, &admin(), "{ responsibleUnits(filter: { vetoed: true }) { totalCount } }", json!({}))
            .await;
    assert!(vetoed["totalCount"].as_i64().unwrap() >= 3);
    let vetoes = total(&server, "UNIT_VETOES").await;
    assert_eq!(grand_total(&vetoes), vetoed["totalCount"].as_i64().unwrap());
}
