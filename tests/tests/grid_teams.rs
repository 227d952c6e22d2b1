//! Managing a grid's public service team over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{Fixture, TestServer, assert_no_errors, error_codes, token_for};
use serde_json::json;

const ADD: &str = "mutation($input: AddGridTeamMemberInput!) { addGridTeamMember(input: $input) { id role name phone duty grid { code } } }";

async fn grid(server: &TestServer, within: &str) -> String {
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

#[tokio::test]
async fn grid_workers_manage_their_grids_teams() {
    let server = TestServer::start(Fixture::Demo(0.001)).await;
    let worker = token_for("gw-1", &["grid_worker"], "330902001");
    let home = grid(&server, "330902001").await;
    let outside = grid(&server, "330922").await;
    let input = json!({ "gridCode": home, "role": "MEDIATOR", "name": "陈调解", "phone": "0580-2021234", "duty": "邻里纠纷调解" });
    let added = server.gql(Some(&worker), ADD, json!({ "input": input })).await;
    assert_no_errors(&added);
    let member = &added["data"]["addGridTeamMember"];
    assert_eq!(member["grid"]["code"], home.as_str());
    let id = member["id"].as_str().unwrap().to_owned();

    // The public sees the new contact at once.
    let public = server
        .gql(None, "query($c: String!) { gridTeam(gridCode: $c) { name phone } }", json!({ "c": home }))
        .await;
    assert!(public["data"]["gridTeam"].as_array().unwrap().iter().any(|m| m["name"] == "陈调解"));

    let again = server.gql(Some(&worker), ADD, json!({ "input": input })).await;
    assert_eq!(error_codes(&again), ["CONFLICT"]);

    let updated = server
        .gql(Some(&worker), "mutation($id: ID!) { updateGridTeamMember(id: $id, input: { phone: \"13812345678\" }) { phone role } }", json!({ "id": id }))
        .await;
    assert_eq!(
        updated["data"]["updateGridTeamMember"],
        json!({ "phone": "13812345678", "role": "MEDIATOR" })
    );

    for (input, field) in [
        (json!({ "gridCode": home, "role": "DOCTOR", "name": "", "phone": "13812345678" }), "input.name"),
        (json!({ "gridCode": home, "role": "DOCTOR", "name": "李医生", "phone": "call me" }), "input.phone"),
        (
            json!({ "gridCode": outside, "role": "DOCTOR", "name": "李医生", "phone": "13812345678" }),
            "input.gridCode",
        ),
    ] {
        let refused = server.gql(Some(&worker), ADD, json!({ "input": input })).await;
        assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], field);
    }
    let analyst = token_for("a", &["analyst"], "330900");
    let forbidden = server.gql(Some(&analyst), ADD, json!({ "input": input })).await;
    assert_eq!(error_codes(&forbidden), ["FORBIDDEN"]);

    // Someone else's grid: not found, whether it exists or not.
    let admin = token_for("admin", &["admin"], "330900");
    let other = server
        .gql(Some(&admin), "query($c: String!) { gridTeam(gridCode: $c) { id } }", json!({ "c": outside }))
        .await;
    let other_id = other["data"]["gridTeam"][0]["id"].as_str().unwrap();
    let hidden = server
        .gql(
            Some(&worker),
            "mutation($id: ID!) { removeGridTeamMember(id: $id) { name } }",
            json!({ "id": other_id }),
        )
        .await;
    assert_eq!(error_codes(&hidden), ["NOT_FOUND"]);

    let removed = server
        .gql(
            Some(&worker),
            "mutation($id: ID!) { removeGridTeamMember(id: $id) { name } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(removed["data"]["removeGridTeamMember"]["name"], "陈调解");
    let gone = server
        .gql(
            Some(&worker),
            "mutation($id: ID!) { removeGridTeamMember(id: $id) { name } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_codes(&gone), ["NOT_FOUND"]);

    let trail = server
        .gql(
            Some(&token_for("aud", &["auditor"], "330900")),
            "query($id: ID!) { auditEvents(filter: { about: $id }) { edges { node { action actor } } } }",
            json!({ "id": id }),
        )
        .await;
    let actions: Vec<&str> = trail["data"]["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["addGridTeamMember", "updateGridTeamMember", "removeGridTeamMember"]);
}
