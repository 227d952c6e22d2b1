//! Mutations of the volunteer domain over HTTP: each validates, runs in one transaction with its audit event,
//! and answers bad input, duplicates, scope and rights with the right code.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph::audit::chain::{ChainReport, verify};
use govgraph_tests::{Fixture, TestServer, assert_no_errors, count, error_codes, token_for};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const REGISTER: &str = "mutation($input: RegisterVolunteerInput!) {
  registerVolunteer(input: $input) { id code name phone status grid { code } teams { team { code } } badges { badge } } }";

fn coordinator() -> String {
    token_for("coordinator-1", &["volunteer_coordinator"], "330902")
}

async fn a_grid(server: &TestServer, within: &str) -> String {
    let admin = token_for("admin", &["admin"], "330900");
    let response = server
        .gql(
            Some(&admin),
            "query($r: String) { regions(level: GRID, inRegion: $r, first: 1) { edges { node { code } } } }",
            json!({ "r": within }),
        )
        .await;
    response["data"]["regions"]["edges"][0]["node"]["code"].as_str().unwrap().to_owned()
}

fn registration(grid: &str, id_number: &str) -> Value {
    json!({ "input": { "name": "王海燕", "gender": "FEMALE", "idNumber": id_number, "phone": "13905801234",
                       "gridCode": grid } })
}

#[tokio::test]
async fn register_update_suspend_teams_and_badges() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = coordinator();
    let grid = a_grid(&server, "330902001").await;
    let created = server.gql(Some(&token), REGISTER, registration(&grid, "330902199001010024")).await;
    assert_no_errors(&created);
    let volunteer = &created["data"]["registerVolunteer"];
    assert_eq!(volunteer["name"], "王海燕");
    assert_eq!(volunteer["status"], "ACTIVE");
    assert_eq!(volunteer["grid"]["code"], grid.as_str());
    let code = volunteer["code"].as_str().unwrap();
    assert!(code.starts_with('V') && code.len() == 8, "{code}");
    let id = volunteer["id"].as_str().unwrap().to_owned();

    let duplicate = server.gql(Some(&token), REGISTER, registration(&grid, " 330902199001010024 ")).await;
    assert_eq!(error_codes(&duplicate), ["CONFLICT"], "{duplicate}");

    let updated = server
        .gql(
            Some(&token),
            "mutation($id: ID!) { updateVolunteer(id: $id, input: { phone: \"13700001111\" }) { phone } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(updated["data"]["updateVolunteer"]["phone"], "13700001111");

    let team_code: String = {
        let db = server.db.connect().await;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT t.code FROM volunteer_team t JOIN region r ON r.id = t.region_id WHERE r.path LIKE '/330900/330902/%' ORDER BY t.id LIMIT 1".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    };
    let joined = server
        .gql(Some(&token), "mutation($id: ID!, $t: String!) { addVolunteerToTeam(volunteerId: $id, teamCode: $t, role: LEADER) {
               teams { role team { code } } } }", json!({ "id": id, "t": team_code }))
        .await;
    assert_no_errors(&joined);
    assert_eq!(
        joined["data"]["addVolunteerToTeam"]["teams"],
        json!([{ "role": "LEADER", "team": { "code": team_code } }])
    );
    let again = server
        .gql(
            Some(&token),
            "mutation($id: ID!, $t: String!) { addVolunteerToTeam(volunteerId: $id, teamCode: $t) { code } }",
            json!({ "id": id, "t": team_code }),
        )
        .await;
    assert_eq!(error_codes(&again), ["CONFLICT"]);

    let badge = server
        .gql(
            Some(&token),
            "mutation($id: ID!) { grantBadge(volunteerId: $id, badge: PEACE_ENVOY) { badges { badge } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(badge["data"]["grantBadge"]["badges"], json!([{ "badge": "PEACE_ENVOY" }]));
    let twice = server
        .gql(
            Some(&token),
            "mutation($id: ID!) { grantBadge(volunteerId: $id, badge: PEACE_ENVOY) { code } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_codes(&twice), ["CONFLICT"]);

    let left = server
        .gql(Some(&token), "mutation($id: ID!, $t: String!) { removeVolunteerFromTeam(volunteerId: $id, teamCode: $t) { teams { role } } }",
             json!({ "id": id, "t": team_code }))
        .await;
    assert_eq!(left["data"]["removeVolunteerFromTeam"]["teams"], json!([]));
    let not_member = server
        .gql(Some(&token), "mutation($id: ID!, $t: String!) { removeVolunteerFromTeam(volunteerId: $id, teamCode: $t) { code } }",
             json!({ "id": id, "t": team_code }))
        .await;
    assert_eq!(error_codes(&not_member), ["NOT_FOUND"]);

    let suspended = server
        .gql(Some(&token), "mutation($id: ID!) { setVolunteerStatus(id: $id, status: SUSPENDED, reason: \"长期未参加活动\") { status } }",
             json!({ "id": id }))
        .await;
    assert_eq!(suspended["data"]["setVolunteerStatus"]["status"], "SUSPENDED");

    // Every change left one audit event, in an unbroken chain.
    let actions = count(&server, "SELECT COUNT(*) FROM audit_event WHERE action IN ('registerVolunteer', 'updateVolunteer', \
        'addVolunteerToTeam', 'grantBadge', 'removeVolunteerFromTeam', 'setVolunteerStatus') AND actor = 'coordinator-1'").await;
    assert_eq!(actions, 6);
    let db = server.db.connect().await;
    assert!(matches!(verify(&db).await.unwrap(), ChainReport::Intact { .. }));
}

#[tokio::test]
async fn bad_input_names_the_field_and_changes_nothing() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = coordinator();
    let grid = a_grid(&server, "330902").await;
    let outside_grid = a_grid(&server, "330922").await;
    let before = count(&server, "SELECT COUNT(*) FROM volunteer").await;
    let events_before = count(&server, "SELECT COUNT(*) FROM audit_event").await;
    for (input, field) in [
        (
            json!({ "name": " ", "gender": "MALE", "idNumber": "11010519491231002X", "phone": "13905801234", "gridCode": grid }),
            "input.name",
        ),
        (
            json!({ "name": "李强", "gender": "MALE", "idNumber": "110105194912310021", "phone": "13905801234", "gridCode": grid }),
            "input.idNumber",
        ),
        (
            json!({ "name": "李强", "gender": "MALE", "idNumber": "11010519491231002X", "phone": "0580-1234", "gridCode": grid }),
            "input.phone",
        ),
        (
            json!({ "name": "李强", "gender": "MALE", "idNumber": "11010519491231002X", "phone": "13905801234", "gridCode": outside_grid }),
            "input.gridCode",
        ),
        (
            json!({ "name": "李强", "gender": "MALE", "idNumber": "11010519491231002X", "phone": "13905801234", "gridCode": "330902" }),
            "input.gridCode",
        ),
        (
            json!({ "name": "李强", "gender": "MALE", "idNumber": "11010519491231002X", "phone": "13905801234", "gridCode": grid, "registeredOn": "2999-01-01" }),
            "input.registeredOn",
        ),
    ] {
        let response = server.gql(Some(&token), REGISTER, json!({ "input": input })).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{field}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response}");
    }
    assert_eq!(count(&server, "SELECT COUNT(*) FROM volunteer").await, before);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM audit_event").await, events_before);

    let analyst = token_for("analyst", &["analyst"], "330900");
    let forbidden = server.gql(Some(&analyst), REGISTER, registration(&grid, "11010519491231002X")).await;
    assert_eq!(error_codes(&forbidden), ["FORBIDDEN"]);
    let anonymous = server.gql(None, REGISTER, registration(&grid, "11010519491231002X")).await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);

    let nobody = server
        .gql(Some(&token), "mutation { updateVolunteer(id: \"Vm9sdW50ZWVyOjk5OTk5OTk\", input: { phone: \"13700001111\" }) { code } }", json!({}))
        .await;
    assert_eq!(error_codes(&nobody), ["NOT_FOUND"]);
}

const LOG_BATCH: &str =
    "mutation($records: [LogServiceInput!]!) { logServiceBatch(records: $records) { id minutes activity } }";

#[tokio::test]
async fn service_batches_are_all_or_nothing() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = token_for("gw", &["grid_worker"], "330902");
    let nodes = active_volunteers(&server, "330902", 3).await;
    let record = |i: usize, minutes: i64| {
        let (id, grid) = &nodes[i % nodes.len()];
        json!({ "volunteerId": id, "gridCode": grid, "activity": "PATROL", "startedAt": "2026-11-01T12:00:00Z", "minutes": minutes })
    };
    let before = count(&server, "SELECT COUNT(*) FROM service_record").await;

    let good: Vec<Value> = (0..40).map(|i| record(i, 60)).collect();
    let logged = server.gql(Some(&token), LOG_BATCH, json!({ "records": good })).await;
    assert_no_errors(&logged);
    assert_eq!(logged["data"]["logServiceBatch"].as_array().unwrap().len(), 40);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM service_record").await, before + 40);

    let mut one_bad: Vec<Value> = (0..10).map(|i| record(i, 30)).collect();
    one_bad[7]["minutes"] = json!(0);
    let refused = server.gql(Some(&token), LOG_BATCH, json!({ "records": one_bad })).await;
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"]);
    assert_eq!(refused["errors"][0]["extensions"]["field"], "records[7].minutes");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM service_record").await,
        before + 40,
        "nothing of the bad batch"
    );

    let too_many: Vec<Value> = (0..501).map(|i| record(i, 30)).collect();
    let refused = server.gql(Some(&token), LOG_BATCH, json!({ "records": too_many })).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "records");

    let future = json!([{ "volunteerId": nodes[0].0, "gridCode": nodes[0].1, "activity": "TRAFFIC", "startedAt": "2999-01-01T00:00:00Z", "minutes": 30 }]);
    let refused = server.gql(Some(&token), LOG_BATCH, json!({ "records": future })).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "records[0].startedAt");

    let single = server
        .gql(
            Some(&token),
            "mutation($input: LogServiceInput!) { logService(input: $input) { minutes activity } }",
            json!({ "input": record(0, 45) }),
        )
        .await;
    assert_eq!(single["data"]["logService"], json!({ "minutes": 45, "activity": "PATROL" }));
    let events = count(
        &server,
        "SELECT COUNT(*) FROM audit_event_record r JOIN audit_event e ON e.id = r.event_id \
                                 WHERE e.action IN ('logServiceBatch', 'logService')",
    )
    .await;
    assert_eq!(events, 41, "every logged record is named in an audit event");
}

/// Active volunteers of `district` with their home grid, as (global ID, grid code).
async fn active_volunteers(server: &TestServer, district: &str, n: usize) -> Vec<(String, String)> {
    let admin = token_for("admin", &["admin"], "330900");
    let response = server
        .gql(
            Some(&admin),
            "query($d: String!, $n: Int!) { volunteers(filter: { inRegion: $d, status: ACTIVE }, first: $n) { nodes { id grid { code } } } }",
            json!({ "d": district, "n": n }),
        )
        .await;
    assert_no_errors(&response);
    let nodes = response["data"]["volunteers"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), n, "{district} has {n} active volunteers");
    nodes
        .iter()
        .map(|node| {
            (node["id"].as_str().unwrap().to_owned(), node["grid"]["code"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_service_batch_costs_the_same_statements_at_every_size_and_keeps_input_order() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = token_for("gw", &["grid_worker"], "330902");
    let volunteers = active_volunteers(&server, "330902", 3).await;
    let activities =
        ["PATROL", "TRAFFIC", "SECURITY_CHECK", "PUBLICITY", "EVENT_SECURITY", "CARE_VISIT", "MEDIATION"];
    // Records spread over volunteers, grids, activities and days, so the rollup has many cells to upsert.
    let batch = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| {
                let (id, grid) = &volunteers[i % volunteers.len()];
                json!({ "volunteerId": id, "gridCode": grid, "activity": activities[i % activities.len()],
                        "startedAt": format!("2026-10-{:02}T0{}:00:00Z", 1 + i % 28, i % 10), "minutes": 1 + i })
            })
            .collect()
    };
    // The first write warms what a server caches once (its policy, its region directory).
    assert_no_errors(&server.gql(Some(&token), LOG_BATCH, json!({ "records": batch(1) })).await);
    let mut counts = Vec::new();
    for size in [1, 10, 200] {
        let before = server.statement_count();
        let logged = server.gql(Some(&token), LOG_BATCH, json!({ "records": batch(size) })).await;
        counts.push(server.statement_count() - before);
        assert_no_errors(&logged);
        let minutes: Vec<i64> = logged["data"]["logServiceBatch"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record["minutes"].as_i64().unwrap())
            .collect();
        assert_eq!(minutes, (1..=size as i64).collect::<Vec<_>>(), "records come back in input order");
    }
    println!("statements for batches of 1, 10, 200 records: {counts:?}");
    assert!(counts.iter().all(|&n| n == counts[0]), "statements grow with the batch: {counts:?}");
    let db = server.db.connect().await;
    let report = govgraph::statistics::rollup::verify(&db).await.unwrap();
    assert!(report.ok(), "the rollup follows the batches: {:?}", report.differences);
}

#[tokio::test]
async fn a_service_batch_reports_its_first_offending_record() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = token_for("gw", &["grid_worker"], "330902");
    let ours = active_volunteers(&server, "330902", 2).await;
    let theirs = active_volunteers(&server, "330903", 1).await;
    let record = |(id, grid): &(String, String), minutes: i64| {
        json!({ "volunteerId": id, "gridCode": grid, "activity": "PATROL", "startedAt": "2026-11-01T12:00:00Z",
                "minutes": minutes })
    };
    let before = count(&server, "SELECT COUNT(*) FROM service_record").await;
    let unknown_grid = (ours[0].0.clone(), "NO-SUCH-GRID".to_owned());
    let cases = [
        // An earlier record's unknown grid is reported before a later record's invalid minutes …
        (
            vec![record(&ours[0], 30), record(&ours[1], 30), record(&unknown_grid, 30), record(&ours[0], 0)],
            "records[2].gridCode",
        ),
        // … and an earlier record's invalid minutes before a later record's unknown grid.
        (vec![record(&ours[0], 30), record(&ours[1], 0), record(&unknown_grid, 30)], "records[1].minutes"),
        // A volunteer outside the caller's scope is unknown to it, and comes before the same record's grid.
        (
            vec![record(&ours[0], 30), record(&(theirs[0].0.clone(), "NO-SUCH-GRID".to_owned()), 30)],
            "records[1].volunteerId",
        ),
        // A grid outside the caller's scope is as unknown as a grid that does not exist.
        (
            vec![record(&ours[0], 30), record(&(ours[1].0.clone(), theirs[0].1.clone()), 30)],
            "records[1].gridCode",
        ),
    ];
    for (records, field) in cases {
        let refused = server.gql(Some(&token), LOG_BATCH, json!({ "records": records })).await;
        assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], field, "{refused}");
    }
    assert_eq!(count(&server, "SELECT COUNT(*) FROM service_record").await, before, "nothing was logged");
}

#[tokio::test]
async fn later_mutations_in_a_request_see_earlier_ones() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = coordinator();
    let admin = token_for("admin", &["admin"], "330900");
    let volunteer = server
        .gql(Some(&admin), r#"{ volunteers(inRegion: "330902", first: 1, filter: { not: { badge: PEACE_ENVOY } }) { edges { node { id badges { badge } } } } }"#, json!({}))
        .await;
    let node = &volunteer["data"]["volunteers"]["edges"][0]["node"];
    let before = node["badges"].as_array().unwrap().len();
    let id = node["id"].as_str().unwrap();
    let response = server
        .gql(
            Some(&token),
            "mutation($id: ID!) { first: grantBadge(volunteerId: $id, badge: PEACE_ENVOY) { badges { badge } }
                                  second: setVolunteerStatus(id: $id, status: SUSPENDED, reason: \"休假\") { status badges { badge } } }",
            json!({ "id": id }),
        )
        .await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["first"]["badges"].as_array().unwrap().len(), before + 1);
    assert_eq!(response["data"]["second"]["status"], "SUSPENDED");
    assert_eq!(response["data"]["second"]["badges"].as_array().unwrap().len(), before + 1);
}
