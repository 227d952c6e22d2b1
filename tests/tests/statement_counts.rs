//! How many SQL statements nested lists cost: the number depends on the query's shape, never on its page sizes.
//! Each test prints its counts so they can be quoted.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{Fixture, TestServer, admin, assert_no_errors};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// Grids × their service team × their volunteers × each volunteer's teams and five service records.
const GRIDS: &str = "query($n: Int, $m: Int) {
  regions(level: GRID, first: $n) { nodes { code
    team { role name phone }
    volunteers(first: $m) { totalCount nodes { code
      teams { team { code } }
      serviceRecords(first: 5) { totalCount nodes { id } } } } } } }";

/// Teams × their members × each member's teams and five service records.
const TEAMS: &str = "query($n: Int, $m: Int) {
  volunteerTeams(first: $n) { nodes { code memberCount
    members(first: $m) { totalCount nodes { code
      teams { team { code } }
      serviceRecords(first: 5) { nodes { id } } } } } } }";

/// Runs `query` once to warm up, then once per page-size pair, and returns the statements each one took, with
/// the number of volunteers and service records it returned.
async fn count_statements(
    server: &TestServer,
    query: &str,
    path: &str,
    sizes: &[(i64, i64)],
    extra: &Value,
) -> Vec<(i64, i64, u64, usize, usize)> {
    let token = admin();
    let mut variables = extra.clone();
    variables["n"] = json!(1);
    variables["m"] = json!(1);
    assert_no_errors(&server.gql(Some(&token), query, variables).await);
    let mut counts = Vec::new();
    for &(n, m) in sizes {
        let mut variables = extra.clone();
        variables["n"] = json!(n);
        variables["m"] = json!(m);
        let before = server.statement_count();
        let response = server.gql(Some(&token), query, variables).await;
        let statements = server.statement_count() - before;
        assert_no_errors(&response);
        let parents = response["data"][path]["nodes"].as_array().unwrap();
        assert_eq!(parents.len() as i64, n, "a full page of parents");
        let people: Vec<&Value> = parents
            .iter()
            .flat_map(|parent| {
                let list = if path == "regions" { &parent["volunteers"] } else { &parent["members"] };
                list["nodes"].as_array().unwrap().iter()
            })
            .collect();
        let records: usize =
            people.iter().map(|person| person["serviceRecords"]["nodes"].as_array().unwrap().len()).sum();
        let teams: usize = people.iter().map(|person| person["teams"].as_array().unwrap().len()).sum();
        // Every level of the query must be reached, or a smaller page would skip a loader.
        assert!(!people.is_empty() && records > 0 && teams > 0, "{n}×{m}: {response}");
        counts.push((n, m, statements, people.len(), records));
    }
    counts
}

/// The first column of every row of `sql`, as integers.
async fn ids(server: &TestServer, sql: &str) -> Vec<i64> {
    let db = server.db.connect().await;
    let rows =
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
    rows.iter().map(|row| row.try_get_by_index::<i64>(0).unwrap()).collect()
}

#[tokio::test]
async fn grids_teams_volunteers_and_records_cost_the_same_at_every_page_size() {
    let server = TestServer::start(Fixture::Demo(0.02)).await;
    // Make the first 50 grids (by code) home to several volunteers with service records each, so that every
    // page size reaches every level of the query and 50 volunteers per grid return more than 5.
    let grids = ids(&server, "SELECT id FROM region WHERE level = 'GRID' ORDER BY code LIMIT 50").await;
    let volunteers = ids(
        &server,
        "SELECT v.id FROM volunteer v WHERE EXISTS (SELECT 1 FROM service_record s WHERE s.volunteer_id = v.id)
         ORDER BY v.id",
    )
    .await;
    let per_grid = (volunteers.len() / grids.len()).min(9);
    assert!(per_grid > 5, "enough volunteers with service records: {}", volunteers.len());
    let db = server.db.connect().await;
    for (grid, movers) in grids.iter().zip(volunteers.chunks(per_grid)) {
        let movers: Vec<String> = movers.iter().map(i64::to_string).collect();
        let sql = format!("UPDATE volunteer SET region_id = {grid} WHERE id IN ({})", movers.join(", "));
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    }

    let sizes = [(5, 5), (5, 50), (50, 5), (50, 50)];
    let counts = count_statements(&server, GRIDS, "regions", &sizes, &json!({})).await;
    for (n, m, statements, volunteers, records) in &counts {
        eprintln!(
            "grids × teams × volunteers × 5 service records: {n} grids, first {m} volunteers each: \
             {statements} statements ({volunteers} volunteers, {records} records)"
        );
    }
    let statements: Vec<u64> = counts.iter().map(|(_, _, statements, _, _)| *statements).collect();
    assert!(
        statements.windows(2).all(|w| w[0] == w[1]),
        "statements per (grids, volunteers) page size: {counts:?}"
    );
}

#[tokio::test]
async fn teams_members_and_records_cost_the_same_at_every_page_size() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let sizes = [(5, 5), (5, 50), (30, 5), (30, 50)];
    let counts = count_statements(&server, TEAMS, "volunteerTeams", &sizes, &json!({})).await;
    for (n, m, statements, volunteers, records) in &counts {
        eprintln!(
            "teams × members × 5 service records: {n} teams, first {m} members each: \
             {statements} statements ({volunteers} members, {records} records)"
        );
    }
    let statements: Vec<u64> = counts.iter().map(|(_, _, statements, _, _)| *statements).collect();
    assert!(
        statements.windows(2).all(|w| w[0] == w[1]),
        "statements per (teams, members) page size: {counts:?}"
    );
}

/// `{ totalCount pageInfo { hasNextPage endCursor } nodes { code } }` of the volunteers of a district, in the
/// order `order` (a GraphQL `orderBy` value, or none), after `after`.
async fn volunteer_page(server: &TestServer, first: i64, after: Option<&str>, order: &str) -> (Value, u64) {
    let query = format!(
        "query($first: Int, $after: String) {{ volunteers(filter: {{ inRegion: \"330902\" }}, first: $first, \
         after: $after{order}) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ code }} }} }}"
    );
    let before = server.statement_count();
    let response = server.gql(Some(&admin()), &query, json!({ "first": first, "after": after })).await;
    let statements = server.statement_count() - before;
    assert_no_errors(&response);
    (response["data"]["volunteers"].clone(), statements)
}

#[tokio::test]
async fn a_page_and_its_total_cost_one_statement() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    server.warm_up(&admin()).await;
    // Resolves the district's code once; the server then knows it.
    volunteer_page(&server, 1, None, "").await;
    let expected =
        ids(&server, "SELECT COUNT(*) FROM volunteer v JOIN region r ON r.id = v.region_id WHERE r.path LIKE '/330900/330902/%'")
            .await[0];
    assert!(expected > 20, "enough volunteers to page through: {expected}");
    for order in ["", ", orderBy: { field: NAME }", ", orderBy: { field: REGISTERED_ON, descending: true }"] {
        // The first page and its total: one statement.
        let (first, statements) = volunteer_page(&server, 10, None, order).await;
        assert_eq!(first["totalCount"], expected, "{order}: {first}");
        assert_eq!(statements, 1, "{order}: page and total in one statement");
        // A later page still carries the total.
        let cursor = first["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        let (second, statements) = volunteer_page(&server, 10, Some(&cursor), order).await;
        assert_eq!(second["totalCount"], expected, "{order}");
        assert_eq!(statements, 1, "{order}");
        // Past the last row the page is empty and says nothing about the total: it is counted separately.
        let (all, _) = volunteer_page(&server, 500, None, order).await;
        assert!(!all["pageInfo"]["hasNextPage"].as_bool().unwrap());
        let last = all["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        let (beyond, statements) = volunteer_page(&server, 10, Some(&last), order).await;
        assert_eq!(beyond["nodes"], json!([]), "{order}");
        assert_eq!(beyond["totalCount"], expected, "{order}");
        assert_eq!(statements, 2, "{order}: empty page, then the count");
        // A page of none is still counted.
        let (none, _) = volunteer_page(&server, 0, None, order).await;
        assert_eq!(none["totalCount"], expected, "{order}");
    }
    // Without `totalCount` nothing is counted, and a filter that matches nothing answers 0 from the page.
    let before = server.statement_count();
    let response = server
        .gql(
            Some(&admin()),
            r#"{ volunteers(filter: { inRegion: "330902" }, first: 5) { nodes { code } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    assert_eq!(server.statement_count() - before, 1);
    let before = server.statement_count();
    let response = server
        .gql(
            Some(&admin()),
            r#"{ volunteers(filter: { inRegion: "330902", search: "no such volunteer anywhere" }) { totalCount nodes { code } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["volunteers"]["totalCount"], 0);
    assert_eq!(server.statement_count() - before, 1);
}

#[tokio::test]
async fn both_counts_of_a_page_of_regions_cost_one_statement() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    server.warm_up(&admin()).await;
    let query = "{ regions(level: DISTRICT) { nodes { code volunteerCount activeCareSubjectCount } } }";
    let before = server.statement_count();
    let response = server.gql(Some(&admin()), query, json!({})).await;
    assert_eq!(server.statement_count() - before, 2, "the page, then both counts together");
    assert_no_errors(&response);
    let districts = response["data"]["regions"]["nodes"].as_array().unwrap();
    assert!(districts.len() >= 2);
    for district in districts {
        let code = district["code"].as_str().unwrap();
        let under = format!(
            "JOIN region g ON g.id = t.region_id JOIN region d ON g.path LIKE d.path || '%' WHERE d.code = '{code}'"
        );
        let volunteers = ids(&server, &format!("SELECT COUNT(*) FROM volunteer t {under}")).await[0];
        let subjects =
            ids(&server, &format!("SELECT COUNT(*) FROM care_subject t {under} AND t.status = 'ACTIVE'"))
                .await[0];
        assert!(volunteers > 0 && subjects > 0, "{code}: {volunteers} volunteers, {subjects} subjects");
        assert_eq!(district["volunteerCount"], volunteers, "{code}");
        assert_eq!(district["activeCareSubjectCount"], subjects, "{code}");
    }
    // One kind alone still works.
    let response = server
        .gql(Some(&admin()), "{ regions(level: DISTRICT) { nodes { volunteerCount } } }", json!({}))
        .await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["regions"]["nodes"][0]["volunteerCount"], districts[0]["volunteerCount"]);
}

/// Projects × their unit, region and assessment × the assessment's steps and measures × the linked disputes and
/// incidents, and the unit's vetoes: one statement per kind, at every page size.
const PROJECTS: &str = "query($n: Int, $m: Int) {
  majorProjects(first: $n) { totalCount nodes { code measuresOverdue
    region { code } responsibleUnit { code evaluation(year: 2021) vetoes(first: $m) { nodes { year } } }
    assessment { step rating
      steps(first: $m) { totalCount nodes { step actor attachments } }
      measures(first: $m) { totalCount nodes { owner dueOn overdue } } }
    disputes(first: $m) { totalCount nodes { code } }
    incidents(first: $m) { totalCount } } } }";

#[tokio::test]
async fn a_deep_project_query_costs_the_same_at_every_page_size() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let token = admin();
    let run = |n: i64, m: i64| {
        let server = &server;
        let token = &token;
        async move {
            let before = server.statement_count();
            let response = server.gql(Some(token), PROJECTS, json!({ "n": n, "m": m })).await;
            let statements = server.statement_count() - before;
            assert_no_errors(&response);
            let projects = response["data"]["majorProjects"]["nodes"].as_array().unwrap().clone();
            assert_eq!(projects.len() as i64, n);
            let steps: usize =
                projects.iter().map(|p| p["assessment"]["steps"]["nodes"].as_array().unwrap().len()).sum();
            assert!(steps > 0, "{n}×{m}: the steps are reached");
            statements
        }
    };
    run(1, 1).await;
    let small = run(5, 2).await;
    let large = run(200, 6).await;
    println!("a page of projects with their assessments: {small} statements for 5×2, {large} for 200×6");
    assert_eq!(small, large);
}
