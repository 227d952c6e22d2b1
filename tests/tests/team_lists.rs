//! Volunteer teams and grid-team members as top-level lists, a team's members, and the volunteers under a region:
//! filters, orderings both ways, pagination both ways, totals, lookups, `node`, scope and masking.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{TestServer, admin, assert_no_errors, error_codes, shared_demo, token_for};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// 昌国街道 of 定海区.
const CHANGGUO: &str = "330902001";
/// 嵊泗县.
const SHENGSI: &str = "330922";

fn city(role: &str) -> String {
    token_for(&format!("{role}-city"), &[role], "330900")
}

fn changguo(role: &str) -> String {
    token_for(&format!("{role}-changguo"), &[role], CHANGGUO)
}

/// The first column of every row of `sql`, as text, in the order the statement returns them.
async fn sql_texts(server: &TestServer, sql: &str) -> Vec<String> {
    let db = server.db.connect().await;
    let rows =
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
    rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect()
}

async fn sql_count(server: &TestServer, sql: &str) -> i64 {
    let db = server.db.connect().await;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Runs a query that must succeed and returns its `data`.
async fn data(server: &TestServer, token: Option<&str>, query: &str, variables: Value) -> Value {
    let response = server.gql(token, query, variables).await;
    assert_no_errors(&response);
    response["data"].clone()
}

fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |value, key| &value[*key])
}

fn texts(nodes: &Value, field: &str) -> Vec<String> {
    nodes.as_array().unwrap().iter().map(|node| node[field].as_str().unwrap().to_owned()).collect()
}

/// Pages through the connection at `path` of `query` (which declares `$first`, `$after`, `$last`, `$before`
/// and selects `pageInfo` and `nodes`) `size` items at a time, forward or backward, and returns every node in
/// presentation order.
async fn walk(
    server: &TestServer,
    token: Option<&str>,
    query: &str,
    path: &[&str],
    variables: Value,
    size: i64,
    backward: bool,
) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    let mut cursor = Value::Null;
    for _ in 0..200 {
        let mut variables = variables.clone();
        let (count, other) = if backward {
            (("last", "before"), ("first", "after"))
        } else {
            (("first", "after"), ("last", "before"))
        };
        variables[count.0] = json!(size);
        variables[count.1] = cursor.clone();
        variables[other.0] = Value::Null;
        variables[other.1] = Value::Null;
        let data = data(server, token, query, variables).await;
        let connection = at(&data, path);
        let nodes = connection["nodes"].as_array().unwrap().clone();
        assert!(nodes.len() as i64 <= size, "page larger than asked: {connection}");
        let info = &connection["pageInfo"];
        let more = if backward {
            cursor = info["startCursor"].clone();
            let mut page = nodes;
            page.append(&mut all);
            all = page;
            info["hasPreviousPage"].as_bool().unwrap()
        } else {
            cursor = info["endCursor"].clone();
            all.extend(nodes);
            info["hasNextPage"].as_bool().unwrap()
        };
        if !more {
            return all;
        }
    }
    panic!("the connection at {path:?} did not end");
}

const TEAMS: &str = "query($f: VolunteerTeamFilter, $o: VolunteerTeamOrder, $first: Int, $after: String,
                          $last: Int, $before: String) {
  volunteerTeams(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id code name memberCount region { code } } } }";

async fn team_codes(server: &TestServer, token: &str, filter: Value) -> Vec<String> {
    let data = data(server, Some(token), TEAMS, json!({ "f": filter, "first": 500 })).await;
    let connection = &data["volunteerTeams"];
    let codes = texts(&connection["nodes"], "code");
    assert_eq!(connection["totalCount"].as_i64().unwrap(), codes.len() as i64, "{connection}");
    codes
}

/// Codes of the teams whose region lies under `code`, in id order.
fn teams_under_sql(code: &str) -> String {
    format!(
        "SELECT t.code FROM volunteer_team t JOIN region r ON r.id = t.region_id
         WHERE r.path LIKE '%/{code}/%' ORDER BY t.id"
    )
}

#[tokio::test]
async fn team_list_matches_the_tables() {
    let server = shared_demo().await;
    let token = admin();
    let data = data(server, Some(&token), TEAMS, json!({ "first": 500 })).await;
    let teams = &data["volunteerTeams"];
    let expected = sql_texts(server, "SELECT code FROM volunteer_team ORDER BY id").await;
    assert!(expected.len() >= 5, "demo data has teams");
    assert_eq!(texts(&teams["nodes"], "code"), expected);
    assert_eq!(teams["totalCount"].as_i64().unwrap(), expected.len() as i64);
    assert_eq!(teams["pageInfo"]["hasNextPage"], false);
    for team in teams["nodes"].as_array().unwrap() {
        let code = team["code"].as_str().unwrap();
        let members = sql_count(
            server,
            &format!(
                "SELECT COUNT(*) FROM volunteer_team_membership m JOIN volunteer_team t ON t.id = m.team_id
                 WHERE t.code = '{code}'"
            ),
        )
        .await;
        assert_eq!(team["memberCount"].as_i64().unwrap(), members, "{code}");
        assert!(team["region"]["code"].is_string(), "{team}");
    }
}

#[tokio::test]
async fn team_filters_combine() {
    let server = shared_demo().await;
    let token = admin();
    let daishan = sql_texts(server, &teams_under_sql("330921")).await;
    assert!(!daishan.is_empty());
    assert_eq!(team_codes(server, &token, json!({ "inRegion": "330921" })).await, daishan);
    assert_eq!(team_codes(server, &token, json!({ "inRegion": "999999" })).await, Vec::<String>::new());

    // Text: a part of the name, or the start of the code (any case).
    let yusao =
        sql_texts(server, "SELECT code FROM volunteer_team WHERE name LIKE '%渔嫂%' ORDER BY id").await;
    assert_eq!(yusao.len(), 1);
    assert_eq!(team_codes(server, &token, json!({ "search": "渔嫂" })).await, yusao);
    let vt00 = sql_texts(server, "SELECT code FROM volunteer_team WHERE code LIKE 'VT00%' ORDER BY id").await;
    assert!(!vt00.is_empty());
    assert_eq!(team_codes(server, &token, json!({ "search": "vt00" })).await, vt00);
    assert_eq!(team_codes(server, &token, json!({ "search": "100%" })).await, Vec::<String>::new());

    // and / or / not.
    let dinghai = sql_texts(server, &teams_under_sql("330902")).await;
    let all = sql_texts(server, "SELECT code FROM volunteer_team ORDER BY id").await;
    let either =
        team_codes(server, &token, json!({ "or": [{ "inRegion": "330921" }, { "inRegion": "330902" }] }))
            .await;
    let expected: Vec<String> =
        all.iter().filter(|c| daishan.contains(c) || dinghai.contains(c)).cloned().collect();
    assert_eq!(either, expected);
    let outside = team_codes(server, &token, json!({ "not": { "inRegion": "330902" } })).await;
    let expected: Vec<String> = all.iter().filter(|c| !dinghai.contains(c)).cloned().collect();
    assert_eq!(outside, expected);
    let both =
        team_codes(server, &token, json!({ "and": [{ "inRegion": "330921" }, { "search": "渔嫂" }] })).await;
    assert_eq!(both, yusao);
    assert_eq!(team_codes(server, &token, json!({ "or": [] })).await, Vec::<String>::new());

    for (filter, field) in [
        (json!({ "search": " " }), "filter.search"),
        (json!({ "or": [{ "inRegion": "330921" }, { "not": { "search": "" } }] }), "filter.or[1].not.search"),
    ] {
        let response = server.gql(Some(&token), TEAMS, json!({ "f": filter })).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response}");
    }
}

#[tokio::test]
async fn teams_order_both_ways_and_page_both_ways() {
    let server = shared_demo().await;
    let token = admin();
    let count = "(SELECT COUNT(*) FROM volunteer_team_membership m WHERE m.team_id = t.id)";
    for (field, sort) in [("CODE", "t.code"), ("NAME", "t.name"), ("MEMBER_COUNT", count)] {
        for descending in [false, true] {
            let direction = if descending { "DESC" } else { "ASC" };
            let expected = sql_texts(
                server,
                &format!("SELECT t.code FROM volunteer_team t ORDER BY {sort} {direction}, t.id {direction}"),
            )
            .await;
            let order = json!({ "o": { "field": field, "descending": descending } });
            for backward in [false, true] {
                let nodes =
                    walk(server, Some(&token), TEAMS, &["volunteerTeams"], order.clone(), 7, backward).await;
                let codes: Vec<String> =
                    nodes.iter().map(|n| n["code"].as_str().unwrap().to_owned()).collect();
                assert_eq!(codes, expected, "{field} descending={descending} backward={backward}");
            }
        }
    }
    let forward = walk(server, Some(&token), TEAMS, &["volunteerTeams"], json!({}), 6, false).await;
    let backward = walk(server, Some(&token), TEAMS, &["volunteerTeams"], json!({}), 6, true).await;
    assert_eq!(forward, backward);
    assert_eq!(
        texts(&Value::Array(forward), "code"),
        sql_texts(server, "SELECT code FROM volunteer_team ORDER BY id").await
    );

    // A cursor belongs to its ordering.
    let page = data(server, Some(&token), TEAMS, json!({ "o": { "field": "NAME" }, "first": 2 })).await;
    let cursor = page["volunteerTeams"]["pageInfo"]["endCursor"].clone();
    let response = server.gql(Some(&token), TEAMS, json!({ "first": 2, "after": cursor })).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response}");
    let plain = data(server, Some(&token), TEAMS, json!({ "first": 2 })).await;
    let cursor = plain["volunteerTeams"]["pageInfo"]["endCursor"].clone();
    let response = server
        .gql(Some(&token), TEAMS, json!({ "o": { "field": "MEMBER_COUNT" }, "first": 2, "after": cursor }))
        .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response}");
}

#[tokio::test]
async fn teams_are_found_by_id_code_and_node() {
    let server = shared_demo().await;
    let token = admin();
    let code = sql_texts(server, "SELECT code FROM volunteer_team WHERE name LIKE '%渔嫂%'").await.remove(0);
    let by_code = data(
        server,
        Some(&token),
        "query($c: String) { volunteerTeam(code: $c) { id code name description createdAt memberCount } }",
        json!({ "c": code }),
    )
    .await;
    let team = &by_code["volunteerTeam"];
    assert_eq!(team["code"], code.as_str());
    let id = team["id"].clone();
    let by_id = data(
        server,
        Some(&token),
        "query($id: ID!) { volunteerTeam(id: $id) { id code } node(id: $id) { id ... on VolunteerTeam { code name } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(by_id["volunteerTeam"]["code"], code.as_str());
    assert_eq!(by_id["node"]["id"], id);
    assert_eq!(by_id["node"]["code"], code.as_str());
    assert_eq!(by_id["node"]["name"], team["name"]);

    // A membership's team carries the same global ID.
    let member = data(
        server,
        Some(&token),
        "query($id: ID!) { node(id: $id) { ... on VolunteerTeam { members(first: 1) { nodes { teams { team { id code } } } } } } }",
        json!({ "id": id }),
    )
    .await;
    let teams = &member["node"]["members"]["nodes"][0]["teams"];
    assert!(teams.as_array().unwrap().iter().any(|t| t["team"]["id"] == id), "{teams}");

    let missing = data(server, Some(&token), "{ volunteerTeam(code: \"VT999\") { id } }", json!({})).await;
    assert!(missing["volunteerTeam"].is_null());
    let region_id = data(server, Some(&token), "{ region(code: \"330900\") { id } }", json!({})).await;
    for (query, variables) in [
        (
            "query($id: ID, $c: String) { volunteerTeam(id: $id, code: $c) { id } }",
            json!({ "id": id, "c": code }),
        ),
        ("{ volunteerTeam { id } }", json!({})),
        ("query($id: ID) { volunteerTeam(id: $id) { id } }", json!({ "id": region_id["region"]["id"] })),
        ("{ volunteerTeam(id: \"not-an-id\") { id } }", json!({})),
    ] {
        let response = server.gql(Some(&token), query, variables).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{query}: {response}");
    }
}

const MEMBERS: &str =
    "query($c: String, $f: VolunteerFilter, $o: VolunteerOrder, $first: Int, $after: String,
                            $last: Int, $before: String) {
  volunteerTeam(code: $c) { memberCount
    members(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { code name phone status registeredOn } } } }";

#[tokio::test]
async fn team_members_filter_order_and_page() {
    let server = shared_demo().await;
    let token = admin();
    let code = sql_texts(server, "SELECT code FROM volunteer_team WHERE name LIKE '%渔嫂%'").await.remove(0);
    let members_sql = |extra: &str, order: &str| {
        format!(
            "SELECT v.code FROM volunteer v JOIN volunteer_team_membership m ON m.volunteer_id = v.id
             JOIN volunteer_team t ON t.id = m.team_id WHERE t.code = '{code}' {extra} ORDER BY {order}"
        )
    };
    let expected = sql_texts(server, &members_sql("", "v.id")).await;
    assert!(expected.len() > 2, "the 渔嫂 team has members");
    let all = data(server, Some(&token), MEMBERS, json!({ "c": code, "first": 500 })).await;
    let team = &all["volunteerTeam"];
    assert_eq!(texts(&team["members"]["nodes"], "code"), expected);
    assert_eq!(team["members"]["totalCount"].as_i64().unwrap(), expected.len() as i64);
    assert_eq!(team["memberCount"].as_i64().unwrap(), expected.len() as i64);

    let active = sql_texts(server, &members_sql("AND v.status = 'ACTIVE'", "v.id")).await;
    let filtered =
        data(server, Some(&token), MEMBERS, json!({ "c": code, "f": { "status": "ACTIVE" }, "first": 500 }))
            .await;
    assert_eq!(texts(&filtered["volunteerTeam"]["members"]["nodes"], "code"), active);
    let others = data(
        server,
        Some(&token),
        MEMBERS,
        json!({ "c": code, "f": { "not": { "status": "ACTIVE" } }, "first": 500 }),
    )
    .await;
    let others = others["volunteerTeam"]["members"]["totalCount"].as_i64().unwrap();
    assert_eq!(others + active.len() as i64, expected.len() as i64);

    for (field, column) in [("CODE", "v.code"), ("REGISTERED_ON", "v.registered_on"), ("NAME", "v.name")] {
        for descending in [false, true] {
            let direction = if descending { "DESC" } else { "ASC" };
            let expected =
                sql_texts(server, &members_sql("", &format!("{column} {direction}, v.id {direction}"))).await;
            let variables = json!({ "c": code, "o": { "field": field, "descending": descending } });
            for backward in [false, true] {
                let nodes = walk(
                    server,
                    Some(&token),
                    MEMBERS,
                    &["volunteerTeam", "members"],
                    variables.clone(),
                    3,
                    backward,
                )
                .await;
                let codes: Vec<String> =
                    nodes.iter().map(|n| n["code"].as_str().unwrap().to_owned()).collect();
                assert_eq!(codes, expected, "{field} descending={descending} backward={backward}");
            }
        }
    }

    // Every team of a page gets its own members, from one batch.
    let teams = data(
        server,
        Some(&token),
        "{ volunteerTeams(first: 500) { nodes { code memberCount members(first: 2) { totalCount nodes { code } } } } }",
        json!({}),
    )
    .await;
    for team in teams["volunteerTeams"]["nodes"].as_array().unwrap() {
        assert_eq!(team["members"]["totalCount"], team["memberCount"], "{team}");
        let shown = team["members"]["nodes"].as_array().unwrap().len() as i64;
        assert_eq!(shown, team["memberCount"].as_i64().unwrap().min(2), "{team}");
    }
}

const REGION_VOLUNTEERS: &str = "query($r: String!, $f: VolunteerFilter, $o: VolunteerOrder, $first: Int,
                                      $after: String, $last: Int, $before: String) {
  region(code: $r) { code volunteerCount
    volunteers(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { code name grid { code } } } } }";

const TOP_VOLUNTEERS: &str = "query($r: String!, $f: VolunteerFilter, $o: VolunteerOrder) {
  volunteers(inRegion: $r, filter: $f, orderBy: $o, first: 500) { totalCount nodes { code } } }";

#[tokio::test]
async fn region_volunteers_match_the_top_level_list() {
    let server = shared_demo().await;
    let token = admin();
    for region in ["330902", CHANGGUO, SHENGSI] {
        for (filter, order) in [
            (Value::Null, Value::Null),
            (json!({ "status": "ACTIVE" }), json!({ "field": "CODE", "descending": true })),
            (
                json!({ "or": [{ "status": "SUSPENDED" }, { "status": "WITHDRAWN" }] }),
                json!({ "field": "NAME" }),
            ),
            (json!({ "not": { "status": "ACTIVE" }, "and": [{ "inRegion": "330902" }] }), Value::Null),
            (Value::Null, json!({ "field": "REGISTERED_ON", "descending": true })),
        ] {
            let variables = json!({ "r": region, "f": filter, "o": order });
            let top = data(server, Some(&token), TOP_VOLUNTEERS, variables.clone()).await;
            let expected = texts(&top["volunteers"]["nodes"], "code");
            assert_eq!(top["volunteers"]["totalCount"].as_i64().unwrap(), expected.len() as i64);
            for backward in [false, true] {
                let nodes = walk(
                    server,
                    Some(&token),
                    REGION_VOLUNTEERS,
                    &["region", "volunteers"],
                    variables.clone(),
                    23,
                    backward,
                )
                .await;
                let codes: Vec<String> =
                    nodes.iter().map(|n| n["code"].as_str().unwrap().to_owned()).collect();
                assert_eq!(codes, expected, "{region} {filter} {order} backward={backward}");
            }
            let first = data(
                server,
                Some(&token),
                REGION_VOLUNTEERS,
                json!({ "r": region, "f": filter, "o": order, "first": 2 }),
            )
            .await;
            assert_eq!(first["region"]["volunteers"]["totalCount"], top["volunteers"]["totalCount"]);
        }
    }
    let unfiltered =
        data(server, Some(&token), REGION_VOLUNTEERS, json!({ "r": "330902", "first": 1 })).await;
    assert_eq!(unfiltered["region"]["volunteers"]["totalCount"], unfiltered["region"]["volunteerCount"]);
    let under = sql_count(
        server,
        "SELECT COUNT(*) FROM volunteer v JOIN region g ON g.id = v.region_id WHERE g.path LIKE '%/330902/%'",
    )
    .await;
    assert_eq!(unfiltered["region"]["volunteers"]["totalCount"].as_i64().unwrap(), under);
}

#[tokio::test]
async fn region_volunteers_page_per_region() {
    let server = shared_demo().await;
    let token = admin();
    // Every grid of a township, each with its own first page; and overlapping regions side by side.
    let grids = data(
        server,
        Some(&token),
        "query($r: String) { regions(level: GRID, inRegion: $r, first: 500) { nodes { code volunteerCount
           volunteers(first: 2) { totalCount pageInfo { hasNextPage } nodes { code grid { code } } } } } }",
        json!({ "r": CHANGGUO }),
    )
    .await;
    let mut seen = 0;
    for grid in grids["regions"]["nodes"].as_array().unwrap() {
        let volunteers = &grid["volunteers"];
        assert_eq!(volunteers["totalCount"], grid["volunteerCount"], "{grid}");
        let total = volunteers["totalCount"].as_i64().unwrap();
        let nodes = volunteers["nodes"].as_array().unwrap();
        assert_eq!(nodes.len() as i64, total.min(2), "{grid}");
        assert_eq!(volunteers["pageInfo"]["hasNextPage"], total > 2, "{grid}");
        for node in nodes {
            assert_eq!(node["grid"]["code"], grid["code"]);
            seen += 1;
        }
    }
    assert!(seen > 0, "the township's grids have volunteers");

    let overlapping = data(
        server,
        Some(&token),
        "{ a: region(code: \"330902\") { volunteers(first: 3) { nodes { code } } }
           b: region(code: \"330902001\") { volunteers(first: 3) { nodes { code } } }
           c: volunteers(inRegion: \"330902\", first: 3) { nodes { code } }
           d: volunteers(inRegion: \"330902001\", first: 3) { nodes { code } } }",
        json!({}),
    )
    .await;
    assert_eq!(overlapping["a"]["volunteers"]["nodes"], overlapping["c"]["nodes"]);
    assert_eq!(overlapping["b"]["volunteers"]["nodes"], overlapping["d"]["nodes"]);

    // A region-volunteer cursor belongs to its ordering.
    let page = data(
        server,
        Some(&token),
        REGION_VOLUNTEERS,
        json!({ "r": "330902", "o": { "field": "CODE" }, "first": 2 }),
    )
    .await;
    let cursor = page["region"]["volunteers"]["pageInfo"]["endCursor"].clone();
    let response = server
        .gql(Some(&token), REGION_VOLUNTEERS, json!({ "r": "330902", "first": 2, "after": cursor }))
        .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response}");
    let response = server
        .gql(Some(&token), REGION_VOLUNTEERS, json!({ "r": "330902", "f": { "search": "" }, "first": 2 }))
        .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response}");
    assert_eq!(response["errors"][0]["extensions"]["field"], "filter.search");
}

const MEMBERS_OF_GRIDS: &str = "query($f: GridTeamMemberFilter, $o: GridTeamMemberOrder, $first: Int,
                                     $after: String, $last: Int, $before: String) {
  gridTeamMembers(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id role name phone grid { code } } } }";

/// Ids of grid team members as text: `SELECT CAST(m.id AS TEXT) …` over members joined with their grid `g`.
fn members_sql(condition: &str, order: &str) -> String {
    format!(
        "SELECT CAST(m.id AS TEXT) FROM grid_team_member m JOIN region g ON g.id = m.grid_id
         WHERE {condition} ORDER BY {order}"
    )
}

async fn member_ids(server: &TestServer, token: Option<&str>, filter: Value, order: Value) -> Vec<String> {
    let nodes = walk(
        server,
        token,
        MEMBERS_OF_GRIDS,
        &["gridTeamMembers"],
        json!({ "f": filter, "o": order }),
        500,
        false,
    )
    .await;
    let numbers: Vec<String> = nodes.iter().map(|node| number_of(node["id"].as_str().unwrap())).collect();
    numbers
}

/// The row id inside a global ID (unpadded base64url of `GridTeamMember:17`).
fn number_of(global_id: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut bits, mut width, mut raw) = (0u32, 0, Vec::new());
    for byte in global_id.bytes() {
        let value = ALPHABET.iter().position(|b| *b == byte).expect("a base64url character") as u32;
        bits = (bits << 6) | value;
        width += 6;
        if width >= 8 {
            width -= 8;
            raw.push((bits >> width) as u8);
            bits &= (1 << width) - 1;
        }
    }
    let raw = String::from_utf8(raw).unwrap();
    let (kind, number) = raw.split_once(':').unwrap();
    assert_eq!(kind, "GridTeamMember");
    number.to_owned()
}

#[tokio::test]
async fn grid_team_members_filter_order_and_page() {
    let server = shared_demo().await;
    let token = admin();
    let inside = format!("g.path LIKE '%/{CHANGGUO}/%'");
    let expected = sql_texts(server, &members_sql(&inside, "m.id")).await;
    assert!(expected.len() > 10, "昌国街道's grids have teams");
    assert_eq!(
        member_ids(server, Some(&token), json!({ "inRegion": CHANGGUO }), Value::Null).await,
        expected
    );

    let all = data(server, Some(&token), "{ gridTeamMembers(first: 0) { totalCount } }", json!({})).await;
    assert_eq!(
        all["gridTeamMembers"]["totalCount"].as_i64().unwrap(),
        sql_count(server, "SELECT COUNT(*) FROM grid_team_member").await
    );

    // Role, text, and / or / not.
    let leaders =
        sql_texts(server, &members_sql(&format!("{inside} AND m.role = 'GRID_LEADER'"), "m.id")).await;
    assert!(!leaders.is_empty());
    let filter = json!({ "inRegion": CHANGGUO, "role": "GRID_LEADER" });
    assert_eq!(member_ids(server, Some(&token), filter, Value::Null).await, leaders);
    let name = sql_texts(server, &format!("SELECT m.name FROM grid_team_member m JOIN region g ON g.id = m.grid_id WHERE {inside} ORDER BY m.id")).await.remove(0);
    let part: String = name.chars().skip(1).collect();
    let named =
        sql_texts(server, &members_sql(&format!("{inside} AND m.name LIKE '%{part}%'"), "m.id")).await;
    assert_eq!(
        member_ids(server, Some(&token), json!({ "inRegion": CHANGGUO, "search": part }), Value::Null).await,
        named
    );
    let helpers =
        sql_texts(server, &members_sql(&format!("{inside} AND m.role IN ('DOCTOR', 'LAWYER')"), "m.id"))
            .await;
    let filter = json!({ "inRegion": CHANGGUO, "or": [{ "role": "DOCTOR" }, { "role": "LAWYER" }] });
    assert_eq!(member_ids(server, Some(&token), filter, Value::Null).await, helpers);
    let rest =
        sql_texts(server, &members_sql(&format!("{inside} AND m.role <> 'GRID_LEADER'"), "m.id")).await;
    let filter = json!({ "and": [{ "inRegion": CHANGGUO }], "not": { "role": "GRID_LEADER" } });
    assert_eq!(member_ids(server, Some(&token), filter, Value::Null).await, rest);

    // Orderings both ways, pages both ways.
    for (field, column) in [("GRID_CODE", "g.code"), ("NAME", "m.name")] {
        for descending in [false, true] {
            let direction = if descending { "DESC" } else { "ASC" };
            let expected =
                sql_texts(server, &members_sql(&inside, &format!("{column} {direction}, m.id {direction}")))
                    .await;
            let variables =
                json!({ "f": { "inRegion": CHANGGUO }, "o": { "field": field, "descending": descending } });
            for backward in [false, true] {
                let nodes = walk(
                    server,
                    Some(&token),
                    MEMBERS_OF_GRIDS,
                    &["gridTeamMembers"],
                    variables.clone(),
                    37,
                    backward,
                )
                .await;
                let ids: Vec<String> = nodes.iter().map(|n| number_of(n["id"].as_str().unwrap())).collect();
                assert_eq!(ids, expected, "{field} descending={descending} backward={backward}");
            }
        }
    }
    let variables = json!({ "f": { "inRegion": CHANGGUO } });
    let backward =
        walk(server, Some(&token), MEMBERS_OF_GRIDS, &["gridTeamMembers"], variables, 37, true).await;
    let ids: Vec<String> = backward.iter().map(|n| number_of(n["id"].as_str().unwrap())).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn grid_team_members_are_found_by_id_and_node_and_are_public() {
    let server = shared_demo().await;
    let token = admin();
    let page =
        data(server, Some(&token), MEMBERS_OF_GRIDS, json!({ "f": { "inRegion": SHENGSI }, "first": 1 }))
            .await;
    let member = page["gridTeamMembers"]["nodes"][0].clone();
    let id = member["id"].clone();
    let found = data(
        server,
        Some(&token),
        "query($id: ID!) { gridTeamMember(id: $id) { id role name phone grid { code } }
                           node(id: $id) { id ... on GridTeamMember { name } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(found["gridTeamMember"], member);
    assert_eq!(found["node"]["name"], member["name"]);
    let response = server.gql(Some(&token), "{ gridTeamMember(id: \"Zm9v\") { id } }", json!({})).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response}");

    // The contacts are public: without a token the list answers, unmasked, for the whole city.
    let public = server
        .gql(
            None,
            "query($f: GridTeamMemberFilter) { gridTeamMembers(filter: $f, first: 5) { totalCount nodes { id name phone } } }",
            json!({ "f": { "inRegion": SHENGSI } }),
        )
        .await;
    assert_no_errors(&public);
    let admin_total =
        data(server, Some(&token), MEMBERS_OF_GRIDS, json!({ "f": { "inRegion": SHENGSI }, "first": 0 }))
            .await;
    assert_eq!(public["data"]["gridTeamMembers"]["totalCount"], admin_total["gridTeamMembers"]["totalCount"]);
    for node in public["data"]["gridTeamMembers"]["nodes"].as_array().unwrap() {
        assert!(!node["phone"].as_str().unwrap().contains('*'), "{node}");
    }
    let anonymous =
        server.gql(None, "query($id: ID!) { gridTeamMember(id: $id) { name } }", json!({ "id": id })).await;
    assert_no_errors(&anonymous);
    assert_eq!(anonymous["data"]["gridTeamMember"]["name"], member["name"]);
}

#[tokio::test]
async fn a_township_token_never_sees_another_county() {
    let server = shared_demo().await;
    let admin = admin();
    let shengsi_team = sql_texts(server, &teams_under_sql(SHENGSI)).await.remove(0);
    let outside = data(
        server,
        Some(&admin),
        "query($c: String, $f: GridTeamMemberFilter) { volunteerTeam(code: $c) { id }
           gridTeamMembers(filter: $f, first: 1) { nodes { id } } }",
        json!({ "c": shengsi_team, "f": { "inRegion": SHENGSI } }),
    )
    .await;
    let team_id = outside["volunteerTeam"]["id"].clone();
    let member_id = outside["gridTeamMembers"]["nodes"][0]["id"].clone();
    assert!(team_id.is_string() && member_id.is_string());

    for role in ["grid_worker", "officer", "volunteer_coordinator", "analyst"] {
        let token = changguo(role);
        let response = server
            .gql(
                Some(&token),
                "query($c: String, $t: ID!, $m: ID!, $s: String) {
                   teams: volunteerTeams(first: 500) { totalCount nodes { code memberCount region { code }
                     members(first: 500) { totalCount nodes { code grid { code } } } } }
                   teamsThere: volunteerTeams(filter: { inRegion: $s }) { totalCount }
                   byCode: volunteerTeam(code: $c) { id }
                   byId: volunteerTeam(id: $t) { id }
                   teamNode: node(id: $t) { id }
                   members: gridTeamMembers(first: 500) { totalCount nodes { grid { code } } }
                   membersThere: gridTeamMembers(filter: { inRegion: $s }) { totalCount }
                   member: gridTeamMember(id: $m) { id }
                   memberNode: node(id: $m) { id }
                   region(code: \"330902001\") { volunteers(first: 500) { totalCount nodes { grid { code } } } }
                   grids: regions(level: GRID, first: 500) { nodes { volunteers(first: 500) { nodes { grid { code } } } } } }",
                json!({ "c": shengsi_team, "t": team_id, "m": member_id, "s": SHENGSI }),
            )
            .await;
        assert_no_errors(&response);
        let data = &response["data"];
        let teams = data["teams"]["nodes"].as_array().unwrap();
        let expected = sql_texts(server, &teams_under_sql(CHANGGUO)).await;
        assert_eq!(texts(&data["teams"]["nodes"], "code"), expected, "{role}");
        for team in teams {
            assert!(team["region"]["code"].as_str().unwrap().starts_with(CHANGGUO), "{role}: {team}");
            assert_eq!(team["memberCount"], team["members"]["totalCount"], "{role}: {team}");
            for member in team["members"]["nodes"].as_array().unwrap() {
                assert!(member["grid"]["code"].as_str().unwrap().starts_with(CHANGGUO), "{role}: {member}");
            }
        }
        assert_eq!(data["teamsThere"]["totalCount"], 0, "{role}");
        for absent in ["byCode", "byId", "teamNode", "member", "memberNode"] {
            assert!(data[absent].is_null(), "{role}: {absent} {data}");
        }
        assert_eq!(data["membersThere"]["totalCount"], 0, "{role}");
        let members = data["members"]["nodes"].as_array().unwrap();
        assert!(!members.is_empty());
        for member in members {
            assert!(member["grid"]["code"].as_str().unwrap().starts_with(CHANGGUO), "{role}: {member}");
        }
        assert_eq!(
            data["members"]["totalCount"].as_i64().unwrap(),
            sql_count(
                server,
                &format!(
                    "SELECT COUNT(*) FROM grid_team_member m JOIN region g ON g.id = m.grid_id WHERE g.path LIKE '%/{CHANGGUO}/%'"
                )
            )
            .await
        );
        let volunteers = &data["region"]["volunteers"];
        for node in volunteers["nodes"].as_array().unwrap() {
            assert!(node["grid"]["code"].as_str().unwrap().starts_with(CHANGGUO), "{role}: {node}");
        }
        for grid in data["grids"]["nodes"].as_array().unwrap() {
            for node in grid["volunteers"]["nodes"].as_array().unwrap() {
                assert!(node["grid"]["code"].as_str().unwrap().starts_with(CHANGGUO), "{role}: {node}");
            }
        }
    }
}

fn masked(name: &str) -> bool {
    name.chars().count() > 1 && name.chars().skip(1).all(|c| c == '*')
}

#[tokio::test]
async fn personal_fields_are_masked_per_role() {
    let server = shared_demo().await;
    let query = "{ volunteerTeams(first: 3) { nodes { members(first: 5) { nodes { name phone } } } }
                   region(code: \"330902001\") { volunteers(first: 5) { nodes { name phone } } } }";
    for (role, clear) in [
        ("admin", true),
        ("officer", true),
        ("grid_worker", true),
        ("volunteer_coordinator", true),
        ("analyst", false),
    ] {
        let data = data(server, Some(&city(role)), query, json!({})).await;
        let mut people: Vec<Value> = data["region"]["volunteers"]["nodes"].as_array().unwrap().clone();
        for team in data["volunteerTeams"]["nodes"].as_array().unwrap() {
            people.extend(team["members"]["nodes"].as_array().unwrap().iter().cloned());
        }
        assert!(!people.is_empty(), "{role}");
        for person in people {
            let name = person["name"].as_str().unwrap();
            let phone = person["phone"].as_str().unwrap();
            assert_eq!(!masked(name), clear, "{role}: {person}");
            assert_eq!(!phone.contains('*'), clear, "{role}: {person}");
        }
    }

    // Ordering by a masked field would reveal it.
    let analyst = city("analyst");
    let response = server
        .gql(
            Some(&analyst),
            "{ region(code: \"330902001\") { code volunteers(orderBy: { field: NAME }) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");
    assert_eq!(response["data"]["region"]["code"], CHANGGUO, "only the field is refused: {response}");
    let response = server
        .gql(
            Some(&analyst),
            "{ volunteerTeams(first: 1) { nodes { members(orderBy: { field: NAME }) { totalCount } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");

    // Roles without volunteers: the teams are refused, a region's volunteers are null beside its other fields.
    let care = city("care_worker");
    let response = server.gql(Some(&care), "{ volunteerTeams { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");
    let response = server
        .gql(Some(&care), "{ region(code: \"330902001\") { name volunteers { totalCount } } }", json!({}))
        .await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");
    assert!(response["data"]["region"]["name"].is_string(), "{response}");
    assert!(response["data"]["region"]["volunteers"].is_null(), "{response}");
    let response = server.gql(None, "{ volunteerTeams { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"], "{response}");
}

#[tokio::test]
async fn page_sizes_past_500_are_refused() {
    let server = shared_demo().await;
    let token = admin();
    for query in [
        "{ volunteerTeams(first: 501) { totalCount } }",
        "{ volunteerTeams(last: 501) { totalCount } }",
        "{ gridTeamMembers(first: 501) { totalCount } }",
        "{ gridTeamMembers(last: 1000) { totalCount } }",
        "{ region(code: \"330902\") { volunteers(first: 501) { totalCount } } }",
        "{ volunteerTeams(first: 1) { nodes { members(last: 501) { totalCount } } } }",
    ] {
        let response = server.gql(Some(&token), query, json!({})).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{query}: {response}");
    }
    let exactly = server.gql(Some(&token), "{ gridTeamMembers(first: 500) { totalCount } }", json!({})).await;
    assert_no_errors(&exactly);
}
