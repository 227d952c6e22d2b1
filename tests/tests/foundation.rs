//! End-to-end tests of the foundation: HTTP endpoints, the region tree and volunteers over real HTTP,
//! against SQLite or (with `DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{
    Fixture, SHARED_SCALE, TestServer, admin, assert_no_errors, count, error_codes, shared_demo, token_for,
};
use serde_json::{Value, json};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = TestServer::start(Fixture::Empty).await;
    assert_eq!(server.get("/healthz", None).await, (200, "ok\n".to_owned()));
    assert_eq!(server.get("/readyz", None).await, (200, "ready\n".to_owned()));

    let response = server.gql(None, r#"{ gridTeam(gridCode: "330902001001001") { name } }"#, json!({})).await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["gridTeam"], json!([]));

    let (status, metrics) = server.get("/metrics", None).await;
    assert_eq!(status, 200);
    assert!(metrics.contains("govgraph_graphql_requests_total{operation=\"query\"} 1"), "{metrics}");
    assert!(metrics.contains("govgraph_graphql_duration_seconds_bucket{operation=\"query\",le=\"+Inf\"} 1"));
    // The test server's pool of 8; on PostgreSQL also its two workers' own pools of 4 (`WorkerPools`), opened
    // when each worker started.
    let max_connections = if server.db.url.starts_with("postgres") { 8 + 2 * 4 } else { 8 };
    assert!(metrics.contains(&format!("govgraph_db_pool_max_connections {max_connections}")), "{metrics}");
    assert!(metrics.contains("govgraph_http_responses_total{route=\"/graphql\",status=\"200\"} 1"));
    let statements: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("govgraph_sql_statements_total "))
        .and_then(|value| value.parse().ok())
        .expect("statement counter");
    assert!(statements >= 1, "the grid lookup ran: {statements}");

    // An empty database knows no region, so even an admin token is refused: its scope cannot be resolved.
    let response = server.gql(Some(&admin()), "{ regions { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"]);
}

/// SQLite 3.47 and later plan a statement with a bound `LIMIT` again at every execution unless built with the
/// query planner stability guarantee; the repository's `.cargo/config.toml` builds the bundled SQLite with it.
#[tokio::test]
async fn sqlite_plans_each_cached_statement_once() {
    let server = TestServer::start(Fixture::Empty).await;
    let db = server.db.connect().await;
    let stable = govgraph::db::sqlite_plans_are_stable(&db).await.unwrap();
    if server.db.url.starts_with("postgres") {
        assert_eq!(stable, None);
    } else {
        assert_eq!(stable, Some(true), "the bundled SQLite lacks SQLITE_ENABLE_QPSG");
    }
}

#[tokio::test]
async fn graphiql_is_served_to_browsers() {
    let server = shared_demo().await;
    let (status, page) = server.get("/graphql", Some("text/html,application/xhtml+xml")).await;
    assert_eq!(status, 200);
    assert!(page.to_lowercase().contains("graphiql"));
}

#[tokio::test]
async fn queries_work_over_get() {
    let server = shared_demo().await;
    let query = "%7B%20regions(level%3A%20DISTRICT)%20%7B%20totalCount%20%7D%20%7D";
    let client = reqwest::Client::new();
    let response: Value = client
        .get(format!("{}/graphql?query={query}", server.base))
        .bearer_auth(admin())
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(response["data"]["regions"]["totalCount"], 4, "{response}");
}

#[tokio::test]
async fn the_city_has_2143_grids_and_its_volunteers() {
    let server = shared_demo().await;
    let response = server
        .gql(
            Some(&admin()),
            "{ grids: regions(level: GRID) { totalCount }
               districts: regions(level: DISTRICT) { edges { node { code name level depth } } }
               volunteers { totalCount } }",
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["grids"]["totalCount"], 2143);
    let names: Vec<&str> = response["data"]["districts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["定海区", "普陀区", "岱山县", "嵊泗县"]);
    let volunteers = count(server, "SELECT COUNT(*) FROM volunteer").await;
    assert_eq!(response["data"]["volunteers"]["totalCount"], volunteers);
    assert_eq!(volunteers, (22_300.0 * SHARED_SCALE).round() as i64);
}

#[tokio::test]
async fn region_navigation_in_both_directions() {
    let server = shared_demo().await;
    let response = server
        .gql(
            Some(&admin()),
            r#"{ region(code: "330902001") {
                   name level
                   parent { code name }
                   ancestors { code }
                   children { code level parent { code } }
               } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    let region = &response["data"]["region"];
    assert_eq!(region["name"], "昌国街道");
    assert_eq!(region["level"], "TOWNSHIP");
    assert_eq!(region["parent"]["name"], "定海区");
    assert_eq!(region["ancestors"], json!([{ "code": "330900" }, { "code": "330902" }]));
    let children = region["children"].as_array().unwrap();
    assert!(!children.is_empty());
    for child in children {
        assert_eq!(child["level"], "COMMUNITY");
        assert_eq!(child["parent"]["code"], "330902001");
        assert!(child["code"].as_str().unwrap().starts_with("330902001"));
    }

    let grid = server
        .gql(
            Some(&admin()),
            r#"{ regions(level: GRID, inRegion: "330902001", first: 1) {
                   edges { node { code team { role name phone grid { code } } } } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&grid);
    let node = &grid["data"]["regions"]["edges"][0]["node"];
    let team = node["team"].as_array().unwrap();
    assert!(team.len() >= 5, "a grid has its full team: {team:?}");
    assert!(team.iter().any(|member| member["role"] == "GRID_LEADER"));
    assert!(team.iter().all(|member| member["grid"]["code"] == node["code"]));
}

#[tokio::test]
async fn pages_walk_forward_and_backward() {
    let server = shared_demo().await;
    let token = admin();
    let query = "query($first: Int, $after: String, $last: Int, $before: String) {
        regions(level: TOWNSHIP, first: $first, after: $after, last: $last, before: $before) {
          totalCount
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { code } } } }";
    let mut codes = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let response = server.gql(Some(&token), query, json!({ "first": 10, "after": after })).await;
        assert_no_errors(&response);
        let connection = &response["data"]["regions"];
        assert_eq!(connection["totalCount"], 36);
        for edge in connection["edges"].as_array().unwrap() {
            codes.push(edge["node"]["code"].as_str().unwrap().to_owned());
        }
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = connection["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(codes.len(), 36);
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, codes, "ordered by code, no duplicates");

    let tail = server.gql(Some(&token), query, json!({ "last": 5 })).await;
    assert_no_errors(&tail);
    let tail_codes: Vec<&str> = tail["data"]["regions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(tail_codes, codes[31..].iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(tail["data"]["regions"]["pageInfo"]["hasPreviousPage"], true);

    let before = tail["data"]["regions"]["pageInfo"]["startCursor"].as_str().unwrap().to_owned();
    let previous = server.gql(Some(&token), query, json!({ "last": 3, "before": before })).await;
    assert_no_errors(&previous);
    let previous_codes: Vec<&str> = previous["data"]["regions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(previous_codes, codes[28..31].iter().map(String::as_str).collect::<Vec<_>>());
}

#[tokio::test]
async fn bad_page_arguments_are_refused_with_their_name() {
    let server = shared_demo().await;
    let token = admin();
    for (variables, field) in [
        (json!({ "first": 501 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 5, "last": 5 }), "last"),
        (json!({ "after": "not-a-cursor" }), "after"),
    ] {
        let response = server
            .gql(
                Some(&token),
                "query($first: Int, $last: Int, $after: String) {
                   volunteers(first: $first, last: $last, after: $after) { totalCount } }",
                variables.clone(),
            )
            .await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{variables}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
    let ok = server.gql(Some(&token), "{ volunteers(first: 500) { edges { cursor } } }", json!({})).await;
    assert_no_errors(&ok);
}

#[tokio::test]
async fn a_township_token_sees_only_its_township() {
    let server = shared_demo().await;
    let changguo = token_for("gw-1", &["grid_worker"], "330902001");
    let in_subtree = count(server, "SELECT COUNT(*) FROM region WHERE code LIKE '330902001%'").await;
    let volunteers_inside = count(
        server,
        "SELECT COUNT(*) FROM volunteer v JOIN region r ON r.id = v.region_id WHERE r.code LIKE '330902001%'",
    )
    .await;
    let response = server
        .gql(
            Some(&changguo),
            r#"{ regions(first: 500) { totalCount edges { node { code } } }
                 volunteers(first: 500) { totalCount edges { node { code grid { code } } } }
                 shengsi: region(code: "330922") { name }
                 city: region(code: "330900") { name }
                 outside: regions(inRegion: "330922") { totalCount }
                 outsideVolunteers: volunteers(inRegion: "330922") { totalCount }
                 home: region(code: "330902001") { parent { code } ancestors { code } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    let data = &response["data"];
    assert_eq!(data["regions"]["totalCount"], in_subtree);
    for edge in data["regions"]["edges"].as_array().unwrap() {
        assert!(edge["node"]["code"].as_str().unwrap().starts_with("330902001"));
    }
    assert_eq!(data["volunteers"]["totalCount"], volunteers_inside);
    for edge in data["volunteers"]["edges"].as_array().unwrap() {
        assert!(edge["node"]["grid"]["code"].as_str().unwrap().starts_with("330902001"));
    }
    assert_eq!(data["shengsi"], Value::Null);
    assert_eq!(data["city"], Value::Null);
    assert_eq!(data["outside"]["totalCount"], 0);
    assert_eq!(data["outsideVolunteers"]["totalCount"], 0);
    assert_eq!(data["home"]["parent"], Value::Null, "the district above is out of scope");
    assert_eq!(data["home"]["ancestors"], json!([]));

    // A volunteer of 嵊泗县 is unreachable by code, by id and through node().
    let admin_view = server
        .gql(
            Some(&admin()),
            r#"{ volunteers(inRegion: "330922", first: 1) { edges { node { id code } } } }"#,
            json!({}),
        )
        .await;
    let outsider = &admin_view["data"]["volunteers"]["edges"][0]["node"];
    let (id, code) = (outsider["id"].as_str().unwrap(), outsider["code"].as_str().unwrap());
    let probe = server
        .gql(
            Some(&changguo),
            "query($id: ID!, $code: String!) {
               byId: volunteer(id: $id) { code }
               byCode: volunteer(code: $code) { code }
               node(id: $id) { id } }",
            json!({ "id": id, "code": code }),
        )
        .await;
    assert_no_errors(&probe);
    assert_eq!(probe["data"], json!({ "byId": null, "byCode": null, "node": null }));
}

#[tokio::test]
async fn personal_fields_are_masked_for_analysts() {
    let server = shared_demo().await;
    let query = "{ volunteers(first: 20) { edges { node { code name phone idNumber } } } }";
    let officer = server.gql(Some(&token_for("o", &["officer"], "330900")), query, json!({})).await;
    let analyst = server.gql(Some(&token_for("a", &["analyst"], "330900")), query, json!({})).await;
    assert_no_errors(&officer);
    assert_no_errors(&analyst);
    let clear = officer["data"]["volunteers"]["edges"].as_array().unwrap();
    let masked = analyst["data"]["volunteers"]["edges"].as_array().unwrap();
    assert_eq!(clear.len(), masked.len());
    for (clear, masked) in clear.iter().zip(masked) {
        let (clear, masked) = (&clear["node"], &masked["node"]);
        assert_eq!(clear["code"], masked["code"]);
        assert!(!clear["name"].as_str().unwrap().contains('*'));
        let masked_name = masked["name"].as_str().unwrap();
        assert_eq!(masked_name.chars().next(), clear["name"].as_str().unwrap().chars().next());
        assert!(masked_name.chars().skip(1).all(|c| c == '*'), "{masked_name}");
        assert_eq!(masked["phone"].as_str().unwrap().matches('*').count(), 4);
        let id_number = masked["idNumber"].as_str().unwrap();
        assert_eq!(&id_number[6..14], "********");
    }
}

#[tokio::test]
async fn anonymous_callers_get_public_grid_teams_only() {
    let server = shared_demo().await;
    let grid = server
        .gql(Some(&admin()), "{ regions(level: GRID, first: 1) { edges { node { code } } } }", json!({}))
        .await;
    let grid_code = grid["data"]["regions"]["edges"][0]["node"]["code"].as_str().unwrap().to_owned();

    let team = server
        .gql(
            None,
            "query($code: String!) { gridTeam(gridCode: $code) { role name phone } }",
            json!({ "code": grid_code }),
        )
        .await;
    assert_no_errors(&team);
    let members = team["data"]["gridTeam"].as_array().unwrap();
    assert!(!members.is_empty());
    assert!(members.iter().all(|m| !m["phone"].as_str().unwrap().contains('*')), "team contacts are public");

    for query in [
        "{ regions { totalCount } }",
        "{ volunteers { totalCount } }",
        r#"{ region(code: "330900") { name } }"#,
    ] {
        let response = server.gql(None, query, json!({})).await;
        assert_eq!(error_codes(&response), ["UNAUTHENTICATED"], "{query}: {response}");
    }
    let nested = server
        .gql(
            None,
            "query($code: String!) { gridTeam(gridCode: $code) { grid { name } } }",
            json!({ "code": grid_code }),
        )
        .await;
    assert!(error_codes(&nested).iter().all(|code| code == "UNAUTHENTICATED"), "{nested}");
    assert!(!error_codes(&nested).is_empty());
}

#[tokio::test]
async fn refused_tokens_and_missing_rights() {
    let server = shared_demo().await;
    let query = "{ regions { totalCount } }";
    let garbage = server.gql(Some("not.a.token"), query, json!({})).await;
    assert_eq!(error_codes(&garbage), ["UNAUTHENTICATED"]);

    let unknown_region = token_for("x", &["admin"], "999999");
    let response = server.gql(Some(&unknown_region), query, json!({})).await;
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"]);

    let partner = token_for("p", &["partner"], "330900");
    let response = server.gql(Some(&partner), "{ volunteers { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"]);

    let unknown_roles = token_for("x", &["superuser"], "330900");
    let response = server.gql(Some(&unknown_roles), query, json!({})).await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "unknown roles are ignored");

    let whoami = server
        .gql_with_headers(
            Some(&token_for("me", &["officer", "bogus"], "330902")),
            &[("x-access-purpose", "case review")],
            "{ viewer { subject roles regionCode purpose } }",
            json!({}),
        )
        .await;
    assert_eq!(
        whoami["data"]["viewer"],
        json!({ "subject": "me", "roles": ["officer"], "regionCode": "330902", "purpose": "case review" })
    );
}

#[tokio::test]
async fn statements_grow_with_depth_not_page_size() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = admin();
    let query = "query($n: Int) { regions(level: GRID, first: $n) {
        totalCount edges { node { code parent { name parent { name } } team { name } } } } }";
    server.warm_up(&token).await;
    let mut counts = Vec::new();
    for n in [5, 50, 500] {
        let before = server.statement_count();
        let response = server.gql(Some(&token), query, json!({ "n": n })).await;
        assert_no_errors(&response);
        assert_eq!(response["data"]["regions"]["edges"].as_array().unwrap().len(), n as usize);
        counts.push(server.statement_count() - before);
    }
    assert!(
        counts.windows(2).all(|pair| pair[0] == pair[1]),
        "statements per page size 5/50/500: {counts:?}"
    );
    assert!(counts[0] <= 6, "scope + page + count + 2 parent levels + team: {counts:?}");
}

#[tokio::test]
async fn a_lone_region_lookup_is_one_statement_and_sibling_lookups_share_one() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let changguo = token_for("gw-1", &["grid_worker"], "330902001");
    server.warm_up(&changguo).await;
    let statements = |query: &'static str| {
        let server = &server;
        let token = changguo.clone();
        async move {
            let before = server.statement_count();
            let response = server.gql(Some(&token), query, json!({})).await;
            assert_no_errors(&response);
            (response["data"].clone(), server.statement_count() - before)
        }
    };

    let (inside, count) = statements(r#"{ region(code: "330902001") { code name } }"#).await;
    assert_eq!(inside["region"]["code"], "330902001");
    assert_eq!(count, 1, "a lone lookup reads its row at once");
    let (outside, count) = statements(r#"{ region(code: "330922") { code } }"#).await;
    assert_eq!(outside["region"], Value::Null, "the scope holds for a lone lookup too");
    assert_eq!(count, 1);

    let (both, count) = statements(
        r#"{ home: region(code: "330902001") { code } shengsi: region(code: "330922") { code }
             grid: region(code: "330902001001") { code } }"#,
    )
    .await;
    assert_eq!(both["home"]["code"], "330902001");
    assert_eq!(both["shengsi"], Value::Null);
    assert_eq!(both["grid"]["code"], "330902001001");
    assert_eq!(count, 1, "lookups side by side share one batch");

    // What a lone lookup selects below it still goes through the loaders: its ancestors in one batch.
    let (grid, count) = statements(r#"{ region(code: "330902001001") { code ancestors { code } } }"#).await;
    assert_eq!(grid["region"]["ancestors"], json!([{ "code": "330902001" }]));
    assert_eq!(count, 2, "the lookup, then its ancestors in one batch");
}
