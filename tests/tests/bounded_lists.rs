//! Plain lists keep the bound their descriptions state ("at most N"): the mutations that grow them refuse the
//! item past it with `CONFLICT`; lists without a bound have a connection beside them.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::builders::{CareKind, CareSubjectBuilder, VolunteerBuilder};
use govgraph_tests::{Fixture, TestServer, assert_no_errors, error_codes, token_for};
use serde_json::{Value, json};

const CITY: &str = "330900";

fn admin() -> String {
    token_for("bounds", &["admin"], CITY)
}

async fn run(server: &TestServer, query: &str, variables: Value) -> Value {
    server.gql_with_headers(Some(&admin()), &[("x-access-purpose", "bounds")], query, variables).await
}

#[tokio::test]
async fn growing_lists_stop_at_their_stated_bound() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let grid = run(
        &server,
        r#"{ regions(filter: { level: GRID }, first: 1) { nodes { code team { id } } } }"#,
        json!({}),
    )
    .await["data"]["regions"]["nodes"][0]
        .clone();
    let grid_code = grid["code"].as_str().unwrap().to_owned();

    // A grid's team: at most 30 members.
    let add_member = "mutation($input: AddGridTeamMemberInput!) { addGridTeamMember(input: $input) { id } }";
    let present = grid["team"].as_array().unwrap().len() as u64;
    for n in present..govgraph::regions::mutation::MAX_TEAM_MEMBERS {
        let input = json!({ "gridCode": grid_code, "role": "VOLUNTEER", "name": format!("队员{n}"), "phone": "13905809999" });
        assert_no_errors(&run(&server, add_member, json!({ "input": input })).await);
    }
    let input = json!({ "gridCode": grid_code, "role": "VOLUNTEER", "name": "多余", "phone": "13905809999" });
    let refused = run(&server, add_member, json!({ "input": input })).await;
    assert_eq!(error_codes(&refused), ["CONFLICT"], "{refused:#}");
    let team =
        run(&server, "query($c: String!) { gridTeam(gridCode: $c) { id } }", json!({ "c": grid_code })).await;
    assert_eq!(
        team["data"]["gridTeam"].as_array().unwrap().len() as u64,
        govgraph::regions::mutation::MAX_TEAM_MEMBERS
    );

    // A volunteer: at most 10 teams.
    let volunteer = VolunteerBuilder::new(&grid_code).named("多队").build(&server).await;
    let teams = run(&server, "{ volunteerTeams(first: 11) { nodes { code } } }", json!({})).await;
    let codes: Vec<String> = teams["data"]["volunteerTeams"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|team| team["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 11);
    let join = "mutation($v: ID!, $t: String!) { addVolunteerToTeam(volunteerId: $v, teamCode: $t) { teams { team { code } } } }";
    for code in &codes[..10] {
        assert_no_errors(&run(&server, join, json!({ "v": volunteer, "t": code })).await);
    }
    let refused = run(&server, join, json!({ "v": volunteer, "t": codes[10] })).await;
    assert_eq!(error_codes(&refused), ["CONFLICT"], "{refused:#}");

    // A care group: at most 12 members.
    let subject = CareSubjectBuilder::new(&grid_code, CareKind::AtRiskYouth).build(&server).await;
    let add = "mutation($s: ID!, $n: String!) { addCareGroupMember(subjectId: $s, role: FAMILY, name: $n, phone: \"13905807777\") { careGroup { name } } }";
    for n in 0..govgraph::care::mutation::MAX_CARE_GROUP_MEMBERS {
        assert_no_errors(&run(&server, add, json!({ "s": subject, "n": format!("亲属{n}") })).await);
    }
    let refused = run(&server, add, json!({ "s": subject, "n": "多余亲属" })).await;
    assert_eq!(error_codes(&refused), ["CONFLICT"], "{refused:#}");
}

#[tokio::test]
async fn unbounded_lists_have_a_connection_beside_them() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let funds = run(&server, "{ funds { code } legalAidFunds(first: 2) { totalCount nodes { code } pageInfo { hasNextPage endCursor } } }", json!({})).await;
    assert_no_errors(&funds);
    let all: Vec<&Value> =
        funds["data"]["funds"].as_array().unwrap().iter().map(|fund| &fund["code"]).collect();
    assert_eq!(funds["data"]["legalAidFunds"]["totalCount"], all.len());
    let cursor = funds["data"]["legalAidFunds"]["pageInfo"]["endCursor"].clone();
    let rest = run(
        &server,
        "query($c: String) { legalAidFunds(after: $c) { nodes { code } } }",
        json!({ "c": cursor }),
    )
    .await;
    let paged: Vec<&Value> = funds["data"]["legalAidFunds"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["data"]["legalAidFunds"]["nodes"].as_array().unwrap())
        .map(|fund| &fund["code"])
        .collect();
    assert_eq!(paged, all);

    // A read of 30 volunteers' phones is one audit event about 30 records; its records come a page at a time.
    let read = run(&server, "{ volunteers(first: 30) { nodes { phone } } }", json!({})).await;
    assert_no_errors(&read);
    let auditor = token_for("auditor", &["auditor"], CITY);
    let query = "query($a: String) { auditEvents(last: 1, filter: { action: \"READ\" }) { nodes { records { entityId } recordsConnection(first: 20, after: $a) { totalCount nodes { entityId } pageInfo { hasNextPage endCursor } } } } }";
    let first = server.gql(Some(&auditor), query, json!({})).await;
    assert_no_errors(&first);
    let event = &first["data"]["auditEvents"]["nodes"][0];
    assert_eq!(event["records"].as_array().unwrap().len(), 30);
    assert_eq!(event["recordsConnection"]["totalCount"], 30);
    assert_eq!(event["recordsConnection"]["pageInfo"]["hasNextPage"], true);
    let cursor = event["recordsConnection"]["pageInfo"]["endCursor"].clone();
    let second = server.gql(Some(&auditor), query, json!({ "a": cursor })).await;
    let mut paged: Vec<Value> = event["recordsConnection"]["nodes"].as_array().unwrap().clone();
    paged.extend(
        second["data"]["auditEvents"]["nodes"][0]["recordsConnection"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    assert_eq!(&paged, event["records"].as_array().unwrap());
}
