//! The volunteer domain over HTTP: nested, paginated service records batched per page of volunteers.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{
    TestServer, admin, assert_no_errors, count, service_records_of, shared_demo, token_for,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const NESTED: &str = "query($n: Int, $k: Int, $activity: ActivityType) {
  volunteers(first: $n) { edges { node { code
    serviceRecords(first: $k, activity: $activity) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id activity minutes startedAt grid { code } volunteer { code } } } } } } } }";

#[tokio::test]
async fn nested_service_records_are_exact_and_batched() {
    let server = shared_demo().await;
    let response = server.gql(Some(&admin()), NESTED, json!({ "n": 20, "k": 3 })).await;
    assert_no_errors(&response);
    for edge in response["data"]["volunteers"]["edges"].as_array().unwrap() {
        let volunteer = &edge["node"];
        let code = volunteer["code"].as_str().unwrap();
        let records = &volunteer["serviceRecords"];
        let expected = service_records_of(server, code).await;
        assert_eq!(records["totalCount"], expected, "{code}");
        let page = records["edges"].as_array().unwrap();
        assert_eq!(page.len() as i64, expected.min(3));
        assert_eq!(records["pageInfo"]["hasNextPage"], expected > 3);
        for record in page {
            assert_eq!(record["node"]["volunteer"]["code"], code);
        }
    }
}

#[tokio::test]
async fn nested_pages_continue_from_their_cursor() {
    let server = shared_demo().await;
    let token = admin();
    let first = server.gql(Some(&token), NESTED, json!({ "n": 1, "k": 4 })).await;
    assert_no_errors(&first);
    let records = &first["data"]["volunteers"]["edges"][0]["node"]["serviceRecords"];
    let ids: Vec<&str> =
        records["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap()).collect();
    let cursor = records["edges"][1]["cursor"].as_str().unwrap();
    let rest = server
        .gql(
            Some(&token),
            "query($after: String) { volunteers(first: 1) { edges { node {
               serviceRecords(first: 2, after: $after) { edges { node { id } } } } } } }",
            json!({ "after": cursor }),
        )
        .await;
    assert_no_errors(&rest);
    let next: Vec<&str> = rest["data"]["volunteers"]["edges"][0]["node"]["serviceRecords"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(next, ids[2..4]);
}

#[tokio::test]
async fn nested_filters_apply() {
    let server = shared_demo().await;
    let response =
        server.gql(Some(&admin()), NESTED, json!({ "n": 30, "k": 50, "activity": "PATROL" })).await;
    assert_no_errors(&response);
    let mut seen = 0;
    for edge in response["data"]["volunteers"]["edges"].as_array().unwrap() {
        for record in edge["node"]["serviceRecords"]["edges"].as_array().unwrap() {
            assert_eq!(record["node"]["activity"], "PATROL");
            seen += 1;
        }
    }
    assert!(seen > 0);
}

#[tokio::test]
async fn nested_statements_do_not_grow_with_either_page_size() {
    let server = TestServer::start(govgraph_tests::Fixture::Demo(0.01)).await;
    let token = admin();
    server.warm_up(&token).await;
    let mut counts: Vec<(i64, i64, u64)> = Vec::new();
    for (n, k) in [(5, 2), (50, 2), (200, 20)] {
        let before = server.statement_count();
        let response: Value = server.gql(Some(&token), NESTED, json!({ "n": n, "k": k })).await;
        assert_no_errors(&response);
        counts.push((n, k, server.statement_count() - before));
    }
    let statements: Vec<u64> = counts.iter().map(|(_, _, c)| *c).collect();
    assert!(
        statements.windows(2).all(|w| w[0] == w[1]),
        "statements per (volunteers, records) page size: {counts:?}"
    );
}

async fn codes(server: &TestServer, token: &str, filter: Value) -> Vec<String> {
    let response = server
        .gql(
            Some(token),
            "query($f: VolunteerFilter) { volunteers(filter: $f, first: 500) { totalCount edges { node { code } } } }",
            json!({ "f": filter }),
        )
        .await;
    assert_no_errors(&response);
    let edges = response["data"]["volunteers"]["edges"].as_array().unwrap();
    assert_eq!(response["data"]["volunteers"]["totalCount"].as_i64().unwrap(), edges.len() as i64);
    edges.iter().map(|edge| edge["node"]["code"].as_str().unwrap().to_owned()).collect()
}

async fn sql_codes(server: &TestServer, sql: &str) -> Vec<String> {
    let db = server.db.connect().await;
    let rows =
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
    let mut codes: Vec<String> = rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect();
    codes.sort();
    codes
}

#[tokio::test]
async fn every_filter_family_matches_sql() {
    let server = shared_demo().await;
    let token = admin();
    let in_region = "SELECT v.code FROM volunteer v JOIN region r ON r.id = v.region_id WHERE r.path LIKE '/330900/330921/%'";
    assert_eq!(
        codes(server, &token, json!({ "inRegion": "330921" })).await,
        sql_codes(server, in_region).await
    );

    let suspended = "SELECT code FROM volunteer WHERE status = 'SUSPENDED'";
    assert_eq!(
        codes(server, &token, json!({ "status": "SUSPENDED" })).await,
        sql_codes(server, suspended).await
    );

    let badge = "SELECT v.code FROM volunteer v JOIN volunteer_badge b ON b.volunteer_id = v.id WHERE b.badge = 'ANTI_DRUG_ENVOY'";
    assert_eq!(
        codes(server, &token, json!({ "badge": "ANTI_DRUG_ENVOY" })).await,
        sql_codes(server, badge).await
    );

    let team = sql_codes(server, "SELECT code FROM volunteer_team WHERE name LIKE '%渔嫂%'").await;
    let members = format!(
        "SELECT v.code FROM volunteer v JOIN volunteer_team_membership m ON m.volunteer_id = v.id \
         JOIN volunteer_team t ON t.id = m.team_id WHERE t.code = '{}'",
        team[0]
    );
    let yusao = codes(server, &token, json!({ "teamCode": team[0] })).await;
    assert!(!yusao.is_empty());
    assert_eq!(yusao, sql_codes(server, &members).await);

    let registered =
        "SELECT code FROM volunteer WHERE registered_on >= '2024-01-01' AND registered_on <= '2024-06-30'";
    assert_eq!(
        codes(server, &token, json!({ "registeredFrom": "2024-01-01", "registeredTo": "2024-06-30" })).await,
        sql_codes(server, registered).await
    );

    // Relation filter: who patrolled in 岱山县 in March 2026 (Asia/Shanghai month boundaries in UTC)?
    let served = codes(
        server,
        &token,
        json!({ "servedIn": { "regionCode": "330921", "from": "2026-02-28T16:00:00+00:00", "to": "2026-03-31T16:00:00+00:00",
                              "activity": "PATROL" } }),
    )
    .await;
    let served_sql = "SELECT DISTINCT v.code FROM volunteer v JOIN service_record s ON s.volunteer_id = v.id \
        JOIN region g ON g.id = s.grid_id WHERE g.path LIKE '/330900/330921/%' AND s.activity = 'PATROL' \
        AND s.started_at >= '2026-02-28T16:00:00+00:00' AND s.started_at < '2026-03-31T16:00:00+00:00'";
    let expected = sql_codes(server, served_sql).await;
    assert!(!expected.is_empty());
    assert_eq!(served, expected);

    // Boolean combinations.
    let either =
        codes(server, &token, json!({ "or": [{ "inRegion": "330921" }, { "inRegion": "330922" }] })).await;
    let both = sql_codes(
        server,
        "SELECT v.code FROM volunteer v JOIN region r ON r.id = v.region_id \
        WHERE r.path LIKE '/330900/330921/%' OR r.path LIKE '/330900/330922/%'",
    )
    .await;
    assert_eq!(either, both);
    let not_daishan =
        codes(server, &token, json!({ "not": { "inRegion": "330921" }, "status": "ACTIVE" })).await;
    let not_sql = sql_codes(
        server,
        "SELECT v.code FROM volunteer v JOIN region r ON r.id = v.region_id \
        WHERE r.path NOT LIKE '/330900/330921/%' AND v.status = 'ACTIVE'",
    )
    .await;
    assert_eq!(not_daishan.len(), not_sql.len().min(500));
    assert!(codes(server, &token, json!({ "or": [] })).await.is_empty());
    assert!(codes(server, &token, json!({ "inRegion": "999999" })).await.is_empty());

    let first_code = &sql_codes(server, "SELECT code FROM volunteer").await[0];
    assert_eq!(
        codes(server, &token, json!({ "search": first_code })).await,
        std::slice::from_ref(first_code)
    );
}

#[tokio::test]
async fn bad_filters_are_refused_with_their_path() {
    let server = shared_demo().await;
    let token = admin();
    let mut deep = json!({ "status": "ACTIVE" });
    for _ in 0..9 {
        deep = json!({ "not": deep });
    }
    for (filter, field) in [
        (json!({ "search": "" }), "filter.search"),
        (
            json!({ "and": [{ "registeredFrom": "2025-01-02", "registeredTo": "2025-01-01" }] }),
            "filter.and[0].registeredTo",
        ),
        (
            json!({ "servedIn": { "regionCode": "330921", "from": "2026-03-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" } }),
            "filter.servedIn.to",
        ),
    ] {
        let response = server
            .gql(
                Some(&token),
                "query($f: VolunteerFilter) { volunteers(filter: $f) { totalCount } }",
                json!({ "f": filter }),
            )
            .await;
        assert_eq!(govgraph_tests::error_codes(&response), ["BAD_USER_INPUT"], "{response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
    let response = server
        .gql(
            Some(&token),
            "query($f: VolunteerFilter) { volunteers(filter: $f) { totalCount } }",
            json!({ "f": deep }),
        )
        .await;
    assert_eq!(govgraph_tests::error_codes(&response), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn ordering_pages_consistently_in_both_directions() {
    let server = shared_demo().await;
    let token = admin();
    let query = "query($first: Int, $after: String, $last: Int, $before: String) {
        volunteers(orderBy: { field: REGISTERED_ON, descending: true }, first: $first, after: $after, last: $last, before: $before) {
          pageInfo { hasNextPage endCursor startCursor } edges { node { code registeredOn } } } }";
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let response = server.gql(Some(&token), query, json!({ "first": 37, "after": after })).await;
        assert_no_errors(&response);
        let connection = &response["data"]["volunteers"];
        for edge in connection["edges"].as_array().unwrap() {
            seen.push((
                edge["node"]["registeredOn"].as_str().unwrap().to_owned(),
                edge["node"]["code"].as_str().unwrap().to_owned(),
            ));
        }
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = connection["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let total = sql_codes(server, "SELECT code FROM volunteer").await.len();
    assert_eq!(seen.len(), total, "every volunteer exactly once");
    assert!(seen.windows(2).all(|pair| pair[0].0 >= pair[1].0), "newest registrations first");
    let mut unique: Vec<&String> = seen.iter().map(|(_, code)| code).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), total);

    let tail = server.gql(Some(&token), query, json!({ "last": 5 })).await;
    let tail_codes: Vec<&str> = tail["data"]["volunteers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["code"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = seen[total - 5..].iter().map(|(_, code)| code.as_str()).collect();
    assert_eq!(tail_codes, expected);

    let plain_cursor =
        server.gql(Some(&token), "{ volunteers(first: 1) { pageInfo { endCursor } } }", json!({})).await;
    let cursor = plain_cursor["data"]["volunteers"]["pageInfo"]["endCursor"].as_str().unwrap();
    let mixed = server.gql(Some(&token), query, json!({ "first": 5, "after": cursor })).await;
    assert_eq!(govgraph_tests::error_codes(&mixed), ["BAD_USER_INPUT"]);

    let analyst = token_for("a", &["analyst"], "330900");
    let by_name = server
        .gql(Some(&analyst), "{ volunteers(orderBy: { field: NAME }) { totalCount } }", json!({}))
        .await;
    assert_eq!(govgraph_tests::error_codes(&by_name), ["FORBIDDEN"]);
}

#[tokio::test]
async fn computed_totals_match_sql() {
    let server = shared_demo().await;
    let token = admin();
    let response = server
        .gql(Some(&token), r#"{ volunteers(first: 10) { edges { node { code serviceMinutes serviceHours
               march: serviceMinutes(from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z") } } }
             regions(level: TOWNSHIP, first: 36) { edges { node { code volunteerCount activeCareSubjectCount } } } }"#, json!({}))
        .await;
    assert_no_errors(&response);
    for edge in response["data"]["volunteers"]["edges"].as_array().unwrap() {
        let node = &edge["node"];
        let code = node["code"].as_str().unwrap();
        let all = count(server, &format!("SELECT COALESCE(SUM(s.minutes), 0) FROM service_record s JOIN volunteer v ON v.id = s.volunteer_id WHERE v.code = '{code}'")).await;
        let march = count(server, &format!("SELECT COALESCE(SUM(s.minutes), 0) FROM service_record s JOIN volunteer v ON v.id = s.volunteer_id \
            WHERE v.code = '{code}' AND s.started_at >= '2026-03-01T00:00:00+00:00' AND s.started_at < '2026-04-01T00:00:00+00:00'")).await;
        assert_eq!(node["serviceMinutes"], all, "{code}");
        assert_eq!(node["march"], march, "{code}");
        assert_eq!(node["serviceHours"].as_f64().unwrap(), ((all as f64) / 60.0 * 100.0).round() / 100.0);
    }
    for edge in response["data"]["regions"]["edges"].as_array().unwrap() {
        let node = &edge["node"];
        let code = node["code"].as_str().unwrap();
        let volunteers = count(server, &format!("SELECT COUNT(*) FROM volunteer v JOIN region g ON g.id = v.region_id WHERE g.code LIKE '{code}%'")).await;
        let subjects = count(server, &format!("SELECT COUNT(*) FROM care_subject c JOIN region g ON g.id = c.region_id WHERE g.code LIKE '{code}%' AND c.status = 'ACTIVE'")).await;
        assert_eq!(node["volunteerCount"], volunteers, "{code}");
        assert_eq!(node["activeCareSubjectCount"], subjects, "{code}");
    }
}

#[tokio::test]
async fn service_records_filter_order_and_scope() {
    let server = shared_demo().await;
    let token = admin();
    let total = |filter: Value| {
        let token = token.clone();
        async move {
            let response = server
                .gql(
                    Some(&token),
                    "query($f: ServiceRecordFilter) { serviceRecords(filter: $f) { totalCount } }",
                    json!({ "f": filter }),
                )
                .await;
            assert_no_errors(&response);
            response["data"]["serviceRecords"]["totalCount"].as_i64().unwrap()
        }
    };
    let in_daishan = "SELECT COUNT(*) FROM service_record s JOIN region g ON g.id = s.grid_id WHERE g.path LIKE '/330900/330921/%'";
    assert_eq!(total(json!({ "inRegion": "330921" })).await, count(server, in_daishan).await);
    let patrols = format!("{in_daishan} AND s.activity = 'PATROL' AND s.minutes >= 120");
    assert_eq!(
        total(json!({ "inRegion": "330921", "activity": "PATROL", "minMinutes": 120 })).await,
        count(server, &patrols).await
    );
    let march = "SELECT COUNT(*) FROM service_record WHERE started_at >= '2026-03-01T00:00:00+00:00' AND started_at < '2026-04-01T00:00:00+00:00'";
    assert_eq!(
        total(json!({ "from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z" })).await,
        count(server, march).await
    );
    let everything = count(server, "SELECT COUNT(*) FROM service_record").await;
    let not_patrol = count(server, "SELECT COUNT(*) FROM service_record WHERE activity <> 'PATROL'").await;
    assert_eq!(total(json!({ "not": { "activity": "PATROL" } })).await, not_patrol);
    assert_eq!(
        total(json!({ "or": [{ "activity": "PATROL" }, { "not": { "activity": "PATROL" } }] })).await,
        everything
    );

    let query = "query($after: String) { serviceRecords(orderBy: { field: STARTED_AT, descending: true }, first: 200, after: $after,
        filter: { inRegion: \"330922\" }) { totalCount pageInfo { hasNextPage endCursor } edges { node { startedAt } } } }";
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    let expected = loop {
        let response = server.gql(Some(&token), query, json!({ "after": after })).await;
        assert_no_errors(&response);
        let connection = &response["data"]["serviceRecords"];
        seen.extend(
            connection["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["startedAt"].as_str().unwrap().to_owned()),
        );
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break connection["totalCount"].as_i64().unwrap();
        }
        after = connection["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    };
    assert_eq!(seen.len() as i64, expected);
    let parsed: Vec<chrono::DateTime<chrono::Utc>> = seen.iter().map(|t| t.parse().unwrap()).collect();
    assert!(parsed.windows(2).all(|pair| pair[0] >= pair[1]), "latest first");

    let township = token_for("gw", &["grid_worker"], "330902001");
    let scoped = server.gql(Some(&township), "{ serviceRecords { totalCount } }", json!({})).await;
    let in_township = count(server, "SELECT COUNT(*) FROM service_record s JOIN region g ON g.id = s.grid_id WHERE g.code LIKE '330902001%'").await;
    assert_eq!(scoped["data"]["serviceRecords"]["totalCount"], in_township);
    let refused = server
        .gql(Some(&token), "{ serviceRecords(filter: { from: \"2026-03-01T00:00:00Z\", to: \"2026-02-01T00:00:00Z\" }) { totalCount } }", json!({}))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "filter.to");
}
