//! Disputes end to end: the workflow and every refused transition, deadlines across local midnight, escalation
//! up the levels, mediators who see only what is assigned to them, the scope of every new path, masks, and an
//! idempotent report under concurrent resends.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::builders::unique;
use govgraph_tests::{CITY, Fixture, TestServer, admin, assert_no_errors, error_codes, id_number, token_for};
use serde_json::{Value, json};

const PURPOSE: (&str, &str) = ("x-access-purpose", "dispute mediation");
const DISPUTE: &str = "id code state dueAt overdue stageStartedAt outcome escalatedTo handledBy { code level } \
                       grid { code } events { totalCount nodes { kind fromState toState actor } }";

async fn run(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    server.gql_with_headers(Some(token), &[PURPOSE], query, variables).await
}

async fn ok(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    let response = run(server, token, query, variables).await;
    assert_no_errors(&response);
    response["data"].as_object().and_then(|data| data.values().next()).cloned().unwrap_or_default()
}

/// The first grid of the region with `code` and its community and township.
async fn grid_under(server: &TestServer, code: &str) -> (String, String, String) {
    let query = "query($c: String!) { regions(filter: { level: GRID, inRegion: $c }, first: 1) { nodes { code parent { code parent { code } } } } }";
    let grid = ok(server, &admin(), query, json!({ "c": code })).await["nodes"][0].clone();
    (
        grid["code"].as_str().unwrap().to_owned(),
        grid["parent"]["code"].as_str().unwrap().to_owned(),
        grid["parent"]["parent"]["code"].as_str().unwrap().to_owned(),
    )
}

fn report_input(grid: &str, key: &str) -> Value {
    json!({
        "gridCode": grid, "channel": "GRID_PATROL", "category": "NEIGHBOURHOOD",
        "summary": "楼上漏水引发邻里纠纷", "escalationRisk": "MEDIUM",
        "parties": [
            { "kind": "PERSON", "role": "APPLICANT", "name": "张海英", "idNumber": id_number("19800101", unique()), "phone": "13905801234" },
            { "kind": "PERSON", "role": "RESPONDENT", "name": "李国强", "phone": "13905805678" }
        ],
        "idempotencyKey": key
    })
}

async fn report(server: &TestServer, token: &str, grid: &str) -> Value {
    let key = format!("report-{}", unique());
    ok(
        server,
        token,
        &format!("mutation($input: ReportDisputeInput!) {{ reportDispute(input: $input) {{ {DISPUTE} }} }}"),
        json!({ "input": report_input(grid, &key) }),
    )
    .await
}

async fn mediator(server: &TestServer, region: &str, subject: &str) -> String {
    ok(
        server,
        &admin(),
        "mutation($input: RegisterMediatorInput!) { registerMediator(input: $input) { code } }",
        json!({ "input": { "name": "王调解", "phone": "13905809876", "kind": "PEOPLES_MEDIATOR", "regionCode": region, "subject": subject } }),
    )
    .await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Each workflow step as (mutation name, query).
fn step(name: &str) -> String {
    let args = match name {
        "acceptDispute" | "recordMediationSession" | "markDisputeUnresolved" | "closeDispute" => "(id: $id)",
        "assignDispute" => "(id: $id, mediatorCode: $m)",
        "resolveDispute" => "(id: $id, agreement: \"双方同意分摊维修费用\")",
        "escalateDispute" => "(id: $id, to: NEXT_LEVEL)",
        "escalateOut" => "(id: $id, to: COURT)",
        "recordDisputeFollowUp" => "(id: $id, note: \"回访：协议履行良好\")",
        other => panic!("no step {other}"),
    };
    let field = if name == "escalateOut" { "escalateDispute" } else { name };
    let declared = if name == "assignDispute" { "$id: ID!, $m: String" } else { "$id: ID!" };
    format!("mutation({declared}) {{ {field}{args} {{ {DISPUTE} }} }}")
}

const STEPS: [&str; 9] = [
    "acceptDispute",
    "assignDispute",
    "recordMediationSession",
    "resolveDispute",
    "markDisputeUnresolved",
    "escalateDispute",
    "escalateOut",
    "closeDispute",
    "recordDisputeFollowUp",
];

/// Every step not in `allowed` is refused with `CONFLICT` in the dispute's current state, and changes nothing.
async fn only_allowed(server: &TestServer, id: &str, mediator: &str, allowed: &[&str]) {
    for name in STEPS.iter().filter(|name| !allowed.contains(name)) {
        let response = run(server, &admin(), &step(name), json!({ "id": id, "m": mediator })).await;
        assert_eq!(error_codes(&response), ["CONFLICT"], "{name}: {response:#}");
    }
}

#[tokio::test]
async fn the_workflow_and_every_refused_transition() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (grid, community, township) = grid_under(&server, "330921").await;
    let mediator = mediator(&server, &township, "mediator-a").await;
    let worker = token_for("worker-1", &["grid_worker"], &grid);
    let reported = report(&server, &worker, &grid).await;
    let id = reported["id"].as_str().unwrap().to_owned();
    assert_eq!(reported["state"], "REPORTED");
    // The grid worker's scope is the grid: the community handling the case lies above it.
    assert_eq!(reported["handledBy"], Value::Null);
    let handled = ok(
        &server,
        &admin(),
        "query($id: ID!) { dispute(id: $id) { handledBy { code } } }",
        json!({ "id": reported["id"] }),
    )
    .await;
    assert_eq!(handled["handledBy"]["code"], community.as_str());
    assert!(reported["dueAt"].is_string());
    only_allowed(&server, &id, &mediator, &["acceptDispute"]).await;

    let mut path = Vec::new();
    for (name, state, allowed) in [
        ("acceptDispute", "ACCEPTED", &["assignDispute"][..]),
        ("assignDispute", "ASSIGNED", &["assignDispute", "recordMediationSession"][..]),
        (
            "recordMediationSession",
            "MEDIATING",
            &["recordMediationSession", "resolveDispute", "markDisputeUnresolved"][..],
        ),
        ("resolveDispute", "RESOLVED", &["closeDispute", "recordDisputeFollowUp"][..]),
        ("recordDisputeFollowUp", "RESOLVED", &["closeDispute", "recordDisputeFollowUp"][..]),
        ("closeDispute", "CLOSED", &["recordDisputeFollowUp"][..]),
    ] {
        let after = ok(&server, &admin(), &step(name), json!({ "id": id, "m": mediator })).await;
        assert_eq!(after["state"], state, "{name}");
        path.push(name);
        only_allowed(&server, &id, &mediator, allowed).await;
    }
    let done = ok(
        &server,
        &admin(),
        &format!("query($id: ID!) {{ dispute(id: $id) {{ {DISPUTE} }} }}"),
        json!({ "id": id }),
    )
    .await;
    assert_eq!(done["outcome"], "RESOLVED");
    assert_eq!(done["dueAt"], Value::Null, "no deadline once mediation ended");
    let kinds: Vec<&str> =
        done["events"]["nodes"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["REPORTED", "ACCEPTED", "ASSIGNED", "MEDIATION_SESSION", "RESOLVED", "FOLLOW_UP", "CLOSED"]
    );
    assert_eq!(done["events"]["nodes"][0]["actor"], "worker-1");
    // Each change is in the audit trail.
    let audited = govgraph_tests::count(
        &server,
        "SELECT COUNT(*) FROM audit_event WHERE entity_type = 'dispute' AND action <> 'READ'",
    )
    .await;
    assert_eq!(audited, 7);
}

#[tokio::test]
async fn escalation_climbs_the_levels_and_out_of_mediation() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (grid, community, township) = grid_under(&server, "330903").await;
    let mediator = mediator(&server, CITY, "mediator-b").await;
    let id = report(&server, &admin(), &grid).await["id"].as_str().unwrap().to_owned();
    let mut handled = vec![community.clone()];
    for _ in 0..3 {
        for name in ["acceptDispute", "assignDispute", "recordMediationSession", "markDisputeUnresolved"] {
            if name == "acceptDispute" && handled.len() > 1 {
                continue;
            }
            ok(&server, &admin(), &step(name), json!({ "id": id, "m": mediator })).await;
        }
        let up = ok(&server, &admin(), &step("escalateDispute"), json!({ "id": id })).await;
        assert_eq!(up["state"], "ACCEPTED", "re-opened at the next level");
        assert_eq!(up["escalatedTo"], "NEXT_LEVEL");
        assert_eq!(up["outcome"], Value::Null);
        handled.push(up["handledBy"]["code"].as_str().unwrap().to_owned());
    }
    assert_eq!(handled[1], township);
    assert_eq!(handled[2], "330903");
    assert_eq!(handled[3], CITY);
    // From the city there is no level above: only out of mediation.
    for name in ["assignDispute", "recordMediationSession", "markDisputeUnresolved"] {
        ok(&server, &admin(), &step(name), json!({ "id": id, "m": mediator })).await;
    }
    let response = run(&server, &admin(), &step("escalateDispute"), json!({ "id": id })).await;
    assert_eq!(error_codes(&response), ["CONFLICT"], "{response:#}");
    let out = ok(&server, &admin(), &step("escalateOut"), json!({ "id": id })).await;
    assert_eq!((out["state"].as_str(), out["outcome"].as_str()), (Some("ESCALATED"), Some("ESCALATED_OUT")));
    let closed = ok(&server, &admin(), &step("closeDispute"), json!({ "id": id })).await;
    assert_eq!(closed["state"], "CLOSED");
    // A grid worker of the grid still sees the case, a township officer too (it was reported below them).
    let worker = token_for("worker-2", &["grid_worker"], &grid);
    let seen =
        ok(&server, &worker, "query($id: ID!) { dispute(id: $id) { code } }", json!({ "id": id })).await;
    assert!(seen["code"].is_string());
}

#[tokio::test]
async fn deadlines_fall_at_local_midnight() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (grid, _, _) = grid_under(&server, "330902").await;
    let query =
        format!("mutation($input: ReportDisputeInput!) {{ reportDispute(input: $input) {{ {DISPUTE} }} }}");
    let count = async |filter: &str| {
        ok(&server, &admin(), &format!("{{ disputes(filter: {filter}) {{ totalCount }} }}"), json!({})).await
            ["totalCount"]
            .as_i64()
            .unwrap()
    };
    let (overdue_before, on_time_before) =
        (count("{ overdue: true }").await, count("{ overdue: false, open: true }").await);
    // 23:59 local on 1 December is due at midnight ending 2 December; one minute later, a day later.
    for (reported, due) in [
        ("2026-12-01T23:59:00+08:00", "2026-12-02T16:00:00+00:00"),
        ("2026-12-02T00:00:00+08:00", "2026-12-03T16:00:00+00:00"),
        ("2026-12-01T15:59:00Z", "2026-12-02T16:00:00+00:00"),
        ("2026-12-01T16:00:00Z", "2026-12-03T16:00:00+00:00"),
    ] {
        let mut input = report_input(&grid, &format!("deadline-{}", unique()));
        input["reportedAt"] = json!(reported);
        let dispute = ok(&server, &admin(), &query, json!({ "input": input })).await;
        assert_eq!(dispute["dueAt"], due, "reported {reported}");
        // Those reported days ago are overdue now.
        assert_eq!(dispute["overdue"], true);
    }
    assert_eq!(count("{ overdue: true }").await, overdue_before + 4);
    let fresh = report(&server, &admin(), &grid).await;
    assert_eq!(fresh["overdue"], false);
    assert_eq!(count("{ overdue: false, open: true }").await, on_time_before + 1);
}

#[tokio::test]
async fn mediators_see_and_work_only_what_is_assigned_to_them() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (grid, _, township) = grid_under(&server, "330921").await;
    let mine = mediator(&server, &township, "mediator-c").await;
    let theirs = mediator(&server, &township, "mediator-d").await;
    let assigned = report(&server, &admin(), &grid).await["id"].as_str().unwrap().to_owned();
    let other = report(&server, &admin(), &grid).await["id"].as_str().unwrap().to_owned();
    for (id, who) in [(&assigned, &mine), (&other, &theirs)] {
        ok(&server, &admin(), &step("acceptDispute"), json!({ "id": id })).await;
        ok(&server, &admin(), &step("assignDispute"), json!({ "id": id, "m": who })).await;
    }
    let token = token_for("mediator-c", &["mediator"], CITY);
    let list = ok(
        &server,
        &token,
        "{ disputes { totalCount nodes { id summary parties { name phone } } } }",
        json!({}),
    )
    .await;
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["nodes"][0]["id"], assigned.as_str());
    assert_eq!(list["nodes"][0]["summary"], "楼上漏水引发邻里纠纷");
    assert_eq!(list["nodes"][0]["parties"][0]["name"], "张海英", "the mediator sees the parties in clear");
    let hidden =
        ok(&server, &token, "query($id: ID!) { node(id: $id) { id } }", json!({ "id": other })).await;
    assert_eq!(hidden, Value::Null);
    let refused = run(&server, &token, &step("recordMediationSession"), json!({ "id": other })).await;
    assert_eq!(error_codes(&refused), ["NOT_FOUND"], "{refused:#}");
    let worked = ok(&server, &token, &step("recordMediationSession"), json!({ "id": assigned })).await;
    assert_eq!(worked["state"], "MEDIATING");
    // Mediators mediate; accepting, assigning, escalating and closing are the region's.
    let response = run(&server, &token, &step("closeDispute"), json!({ "id": assigned })).await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response:#}");
    let my_open = ok(&server, &token, "{ myOpenDisputes { totalCount nodes { id } } }", json!({})).await;
    assert_eq!(my_open["totalCount"], 1);
    // A mediator without a mediator record sees nothing.
    let stranger = token_for("nobody", &["mediator"], CITY);
    let none = ok(&server, &stranger, "{ disputes { totalCount } }", json!({})).await;
    assert_eq!(none["totalCount"], 0);
}

#[tokio::test]
async fn scope_and_masks_on_every_new_path() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (grid, _, township) = grid_under(&server, "330921").await;
    let vessel = ok(
        &server,
        &admin(),
        "mutation($input: RegisterFishingVesselInput!) { registerFishingVessel(input: $input) { id registrationNo } }",
        json!({ "input": { "registrationNo": "浙岱渔03125", "name": "海丰号", "homePortCode": township,
                "ownerName": "陈大海", "ownerIdNumber": id_number("19700101", unique()), "ownerPhone": "13905807777",
                "crewSize": 12, "safetyStars": 4 } }),
    )
    .await;
    let mut input = report_input(&grid, "sea-1");
    input["category"] = json!("VESSEL_COLLISION");
    input["channel"] = json!("MARITIME_PATROL");
    input["seaArea"] = json!("岱衢洋");
    input["vesselRegistrationNos"] = json!(["浙岱渔03125"]);
    let dispute = ok(&server, &admin(), "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { id code vessels { registrationNo } } }", json!({ "input": input })).await;
    assert_eq!(dispute["vessels"][0]["registrationNo"], "浙岱渔03125");
    let (id, code) = (dispute["id"].as_str().unwrap(), dispute["code"].as_str().unwrap());

    // Another district sees nothing of it, on any path: exactly what an administrator sees in that district.
    let outsider = token_for("officer-x", &["officer"], "330902");
    let in_dinghai =
        |list: &str| format!("{{ {list}(filter: {{ inRegion: \"330902\" }}) {{ totalCount }} }}");
    let dinghai_disputes =
        ok(&server, &admin(), &in_dinghai("disputes"), json!({})).await["totalCount"].clone();
    let dinghai_vessels =
        ok(&server, &admin(), &in_dinghai("fishingVessels"), json!({})).await["totalCount"].clone();
    assert!(dinghai_disputes.as_i64().unwrap() > 0, "the seed reports disputes in every district");
    let paths = [
        ("{ disputes { totalCount } }".to_owned(), "/disputes/totalCount", dinghai_disputes.clone()),
        (format!("{{ dispute(code: \"{code}\") {{ id }} }}"), "/dispute", Value::Null),
        (format!("{{ node(id: \"{id}\") {{ id }} }}"), "/node", Value::Null),
        ("{ fishingVessels { totalCount } }".to_owned(), "/fishingVessels/totalCount", dinghai_vessels),
        (
            "{ fishingVessel(registrationNo: \"浙岱渔03125\") { id } }".to_owned(),
            "/fishingVessel",
            Value::Null,
        ),
        (
            "{ disputes(filter: { vesselRegistrationNo: \"浙岱渔03125\" }) { totalCount } }".to_owned(),
            "/disputes/totalCount",
            json!(0),
        ),
        ("{ myOpenDisputes { totalCount } }".to_owned(), "/myOpenDisputes/totalCount", json!(0)),
        (
            "{ region(code: \"330902\") { disputes { totalCount } } }".to_owned(),
            "/region/disputes/totalCount",
            dinghai_disputes.clone(),
        ),
        (format!("{{ region(code: \"{township}\") {{ code }} }}"), "/region", Value::Null),
    ];
    for (query, pointer, expected) in &paths {
        let response = run(&server, &outsider, query, json!({})).await;
        assert_no_errors(&response);
        assert_eq!(response["data"].pointer(pointer).unwrap(), expected, "{query}");
    }
    // Inside the district: the vessel's disputes, nested.
    let insider = token_for("officer-y", &["officer"], "330921");
    let nested = ok(
        &server,
        &insider,
        "{ fishingVessel(registrationNo: \"浙岱渔03125\") { disputes { totalCount nodes { code } } } }",
        json!({}),
    )
    .await;
    assert_eq!(nested["disputes"]["totalCount"], 1);
    let township_page = ok(
        &server,
        &insider,
        &format!("{{ region(code: \"{township}\") {{ disputes(first: 500) {{ nodes {{ code }} }} }} }}"),
        json!({}),
    )
    .await;
    assert!(township_page["disputes"]["nodes"].as_array().unwrap().iter().any(|d| d["code"] == code));
    // An analyst sees the case, masked: party names masked, the summary refused.
    let analyst = token_for("analyst-1", &["analyst"], CITY);
    let response = run(
        &server,
        &analyst,
        &format!("{{ dispute(code: \"{code}\") {{ parties {{ name phone }} summary }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(response["data"]["dispute"]["parties"][0]["name"], "张**");
    assert_eq!(response["data"]["dispute"]["parties"][0]["phone"], "139****1234");
    assert_eq!(error_codes(&response), ["FORBIDDEN"]);
    // Partners get no rows at all.
    let partner = token_for("partner-1", &["partner"], CITY);
    let response = run(&server, &partner, "{ disputes { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"]);
    let _ = vessel;
}

#[tokio::test]
async fn a_report_resent_concurrently_is_recorded_once() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (grid, _, _) = grid_under(&server, "330922").await;
    let worker = token_for("worker-boat", &["grid_worker"], &grid);
    let input = report_input(&grid, "phone-on-a-boat-1");
    let query = "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { id } }";
    let resends = (0..8).map(|_| run(&server, &worker, query, json!({ "input": input.clone() })));
    let answers = futures_util::future::join_all(resends).await;
    let mut ids = std::collections::BTreeSet::new();
    for answer in &answers {
        assert_no_errors(answer);
        ids.insert(answer["data"]["reportDispute"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "every resend answers with the one dispute");
    assert_eq!(
        govgraph_tests::count(
            &server,
            "SELECT COUNT(*) FROM dispute WHERE idempotency_key = 'phone-on-a-boat-1'"
        )
        .await,
        1
    );
    assert_eq!(
        govgraph_tests::count(
            &server,
            "SELECT COUNT(*) FROM dispute_event e JOIN dispute d ON d.id = e.dispute_id \
             WHERE d.idempotency_key = 'phone-on-a-boat-1'"
        )
        .await,
        1,
        "one REPORTED event"
    );
    // The same key with another report is a conflict.
    let mut other = input.clone();
    other["summary"] = json!("另一件事");
    let response = run(&server, &worker, query, json!({ "input": other })).await;
    assert_eq!(error_codes(&response), ["CONFLICT"], "{response:#}");
}

/// Disputes with everything that hangs off them, and vessels with their grid worker and disputes.
const DISPUTES_DEEP: &str = "query($n: Int) {
  disputes(first: $n, filter: { atSea: true }) { totalCount nodes { code
    grid { code } handledBy { code } assignee { code region { code } } assignedBoat { code }
    parties { name phone } vessels { registrationNo homePort { code } gridWorker { name }
      disputes(first: 3) { totalCount nodes { code } } }
    events(first: 5) { totalCount nodes { kind region { code } } } } }
  fishingVessels(first: $n) { nodes { registrationNo gridWorker { name phone } } } }";

/// The number of statements a dispute page costs depends on the query's shape, not on its page size: at most one
/// per list or object the query nests (14: the two root lists, and grid and handled-by regions, assignee, its
/// region, boat, parties, vessels, their home ports, grid workers and disputes, events, their regions, the root
/// vessels' grid workers — fewer when loads of the same kind land in one batch), plus the three statements of the
/// audit event for the personal fields read. The seed links every vessel to a grid worker of its home township
/// (定人联船).
#[tokio::test]
async fn dispute_pages_cost_the_same_at_every_size() {
    let server = TestServer::start(Fixture::Demo(0.05)).await;
    let token = admin();
    // A first query warms the process-wide caches (the region directory, the token's region).
    ok(&server, &token, DISPUTES_DEEP, json!({ "n": 1 })).await;
    let mut counts = Vec::new();
    for n in [10, 40, 160, 10] {
        let before = server.statement_count();
        let data = ok(&server, &token, DISPUTES_DEEP, json!({ "n": n })).await;
        counts.push(server.statement_count() - before);
        let response = run(&server, &token, DISPUTES_DEEP, json!({ "n": n })).await;
        let disputes = response["data"]["disputes"]["nodes"].as_array().unwrap();
        let vessels = response["data"]["fishingVessels"]["nodes"].as_array().unwrap();
        assert_eq!(disputes.len(), n, "a full page: {data:#}");
        assert_eq!(vessels.len(), n);
        assert!(vessels.iter().all(|vessel| vessel["gridWorker"]["name"].is_string()), "{vessels:#?}");
        // Every loader is reached at every size, so that a smaller page skips none.
        for field in ["assignee", "assignedBoat"] {
            assert!(disputes.iter().any(|dispute| dispute[field].is_object()), "{n}: no {field}");
        }
        assert!(disputes.iter().any(|dispute| !dispute["vessels"].as_array().unwrap().is_empty()));
    }
    println!("statements for 10, 40, 160 and 10 disputes and vessels: {counts:?}");
    const BY_SHAPE: u64 = 14 + 3;
    assert!(counts.iter().all(|&count| count <= BY_SHAPE), "{counts:?}");
}

#[tokio::test]
async fn a_vessel_is_linked_to_a_grid_worker_of_its_scope() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let (grid, _, township) = grid_under(&server, "330921").await;
    let vessel = ok(
        &server,
        &admin(),
        "mutation($input: RegisterFishingVesselInput!) { registerFishingVessel(input: $input) { id gridWorker { name } } }",
        json!({ "input": { "registrationNo": "浙岱渔09999", "name": "平安号", "homePortCode": township,
                "ownerName": "陈大海", "ownerIdNumber": id_number("19700101", unique()), "ownerPhone": "13905807777",
                "crewSize": 6, "safetyStars": 5 } }),
    )
    .await;
    assert_eq!(vessel["gridWorker"], Value::Null);
    let team = ok(
        &server,
        &admin(),
        "query($g: String!) { gridTeam(gridCode: $g) { id role name } }",
        json!({ "g": grid }),
    )
    .await;
    let worker = team.as_array().unwrap().iter().find(|m| m["role"] == "GRID_WORKER").unwrap().clone();
    let update = "mutation($id: ID!, $w: ID!) { updateFishingVessel(id: $id, input: { gridWorkerId: $w }) { gridWorker { name } } }";
    let linked = ok(&server, &admin(), update, json!({ "id": vessel["id"], "w": worker["id"] })).await;
    assert_eq!(linked["gridWorker"]["name"], worker["name"]);
    // A grid worker of another district cannot be linked: the worker is outside the caller's scope.
    let (other_grid, _, _) = grid_under(&server, "330902").await;
    let other = ok(
        &server,
        &admin(),
        "query($g: String!) { gridTeam(gridCode: $g) { id role } }",
        json!({ "g": other_grid }),
    )
    .await;
    let officer = token_for("officer-daishan", &["officer"], "330921");
    let response = run(&server, &officer, update, json!({ "id": vessel["id"], "w": other[0]["id"] })).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response:#}");
    assert_eq!(response["errors"][0]["extensions"]["field"], "input.gridWorkerId");
}

/// Disputes reported under the region with `code`, and the open ones among them, counted in SQL.
async fn counted_under(server: &TestServer, code: &str) -> (i64, i64) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = server.db.connect().await;
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(COALESCE(SUM(CASE WHEN d.state IN ('REPORTED', 'ACCEPTED', 'ASSIGNED', 'MEDIATING') THEN 1 ELSE 0 END), 0) AS BIGINT) AS o \
         FROM dispute d JOIN region g ON g.id = d.grid_id JOIN region r ON r.code = '{code}' \
         WHERE g.path LIKE r.path || '%'"
    );
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    (row.try_get("", "n").unwrap(), row.try_get("", "o").unwrap())
}

#[tokio::test]
async fn a_regions_disputes_are_those_reported_below_it_a_page_per_region_at_a_fixed_cost() {
    let server = TestServer::start(Fixture::Demo(0.05)).await;
    let token = admin();
    let query = "query($n: Int!) { regions(filter: { level: TOWNSHIP }, first: $n) { nodes { code
        disputes(first: 5) { totalCount nodes { id code grid { code } } }
        open: disputes(open: true, first: 1) { totalCount } } } }";
    ok(&server, &token, query, json!({ "n": 1 })).await;
    let mut counts = Vec::new();
    for n in [3, 12] {
        let before = server.statement_count();
        let regions = ok(&server, &token, query, json!({ "n": n })).await;
        counts.push(server.statement_count() - before);
        let nodes = regions["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), n);
        for region in nodes {
            let (all, open) = counted_under(&server, region["code"].as_str().unwrap()).await;
            assert_eq!(region["disputes"]["totalCount"], all, "{region}");
            assert_eq!(region["open"]["totalCount"], open, "{region}");
            let page = region["disputes"]["nodes"].as_array().unwrap();
            assert_eq!(page.len() as i64, all.min(5));
            // Newest first, and every one reported below the region.
            let ids: Vec<String> = page.iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
            let codes: Vec<&str> = page.iter().map(|d| d["grid"]["code"].as_str().unwrap()).collect();
            assert!(codes.iter().all(|grid| grid.starts_with(region["code"].as_str().unwrap())), "{codes:?}");
            let newest = ok(
                &server,
                &token,
                "query($c: String!) { region(code: $c) { disputes(first: 5) { nodes { id } } } }",
                json!({ "c": region["code"] }),
            )
            .await;
            let alone: Vec<String> = newest["disputes"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(ids, alone, "the same page whether asked alone or beside other regions");
        }
    }
    assert_eq!(counts[0], counts[1], "statements for 3 and 12 townships: {counts:?}");
    assert!(counted_under(&server, CITY).await.0 > 0);
    // A role that may not read disputes gets null with FORBIDDEN, and the regions still.
    let partner = token_for("partner-1", &["partner"], CITY);
    let response = run(&server, &partner, query, json!({ "n": 1 })).await;
    assert!(error_codes(&response).iter().all(|code| code == "FORBIDDEN"), "{response}");
    assert!(response["data"]["regions"]["nodes"][0]["code"].is_string(), "{response}");
}
