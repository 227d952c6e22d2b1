//! The service rollup behind the `SERVICE_RECORDS` and `SERVICE_HOURS` statistics: after `logService` and
//! `logServiceBatch` (and after a batch that fails) the statistics still equal the row-level `serviceRecords`
//! at every region level, local day (including the Asia/Shanghai midnight) and activity; and the recomputation
//! behind `govgraph stats verify` passes on fresh demo data and names the cells after the rollup is tampered with.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::collections::BTreeMap;

use govgraph::statistics::rollup::{Figures, verify};
use govgraph_tests::{Fixture, TestServer, admin, assert_no_errors, error_codes};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

async fn data(server: &TestServer, query: &str, variables: Value) -> Value {
    let response = server.gql(Some(&admin()), query, variables).await;
    assert_no_errors(&response);
    response["data"].clone()
}

/// Cells of a statistic keyed by (region code, period, category), "" where not grouped.
async fn stat(server: &TestServer, args: &str) -> BTreeMap<(String, String, String), String> {
    let query =
        format!("{{ statistics({args}) {{ cells {{ regionCode period category value suppressed }} }} }}");
    let result = data(server, &query, json!({})).await;
    let text = |cell: &Value, field: &str| cell[field].as_str().unwrap_or_default().to_owned();
    result["statistics"]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| {
            assert_eq!(cell["suppressed"], json!(false));
            ((text(cell, "regionCode"), text(cell, "period"), text(cell, "category")), text(cell, "value"))
        })
        .collect()
}

fn hours(minutes: i64) -> String {
    let hundredths = (minutes * 100 + 30) / 60;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// The row-level records of a `serviceRecords` filter: (count, minutes per activity).
async fn rows(server: &TestServer, filter: Value) -> (i64, BTreeMap<String, (i64, i64)>) {
    let query = "query($filter: ServiceRecordFilter) { serviceRecords(filter: $filter, first: 500) { \
                 totalCount nodes { activity minutes } } }";
    let result = data(server, query, json!({ "filter": filter })).await;
    let connection = &result["serviceRecords"];
    let total = connection["totalCount"].as_i64().unwrap();
    let mut by_activity: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let nodes = connection["nodes"].as_array().unwrap();
    for node in nodes {
        let entry = by_activity.entry(node["activity"].as_str().unwrap().to_owned()).or_default();
        entry.0 += 1;
        entry.1 += node["minutes"].as_i64().unwrap();
    }
    if nodes.len() as i64 == total { (total, by_activity) } else { (total, BTreeMap::new()) }
}

async fn sql_strings(server: &TestServer, sql: &str) -> Vec<Vec<String>> {
    let db = server.db.connect().await;
    let rows =
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
    rows.iter().map(|row| (0..3).map_while(|i| row.try_get_by_index::<String>(i).ok()).collect()).collect()
}

async fn execute(server: &TestServer, sql: &str) {
    let db = server.db.connect().await;
    db.execute_unprepared(sql).await.unwrap();
}

/// Checks that SERVICE_RECORDS and SERVICE_HOURS equal the row-level records for `grid` on `day` (local), per
/// activity, and returns the number of records there.
async fn day_matches_rows(server: &TestServer, grid: &str, day: &str, utc_from: &str, utc_to: &str) -> i64 {
    let window = format!("inRegion: \"{grid}\", from: \"{day}\", to: \"{day}\"");
    let records = stat(
        server,
        &format!("measure: SERVICE_RECORDS, groupBy: [PERIOD, CATEGORY], period: DAY, {window}"),
    )
    .await;
    let hours_cells =
        stat(server, &format!("measure: SERVICE_HOURS, groupBy: [PERIOD, CATEGORY], period: DAY, {window}"))
            .await;
    let (total, by_activity) =
        rows(server, json!({ "inRegion": grid, "from": utc_from, "to": utc_to })).await;
    assert!(total <= 500, "more records than one page for {grid} on {day}");
    let expected_records: BTreeMap<(String, String, String), String> = by_activity
        .iter()
        .map(|(activity, (n, _))| ((String::new(), day.to_owned(), activity.clone()), n.to_string()))
        .collect();
    let expected_hours: BTreeMap<(String, String, String), String> = by_activity
        .iter()
        .map(|(activity, (_, minutes))| ((String::new(), day.to_owned(), activity.clone()), hours(*minutes)))
        .collect();
    assert_eq!(records, expected_records, "records of {grid} on {day}");
    assert_eq!(hours_cells, expected_hours, "hours of {grid} on {day}");
    total
}

const LOG_ONE: &str = "mutation($input: LogServiceInput!) { logService(input: $input) { id } }";
const LOG_BATCH: &str =
    "mutation($records: [LogServiceInput!]!) { logServiceBatch(records: $records) { id } }";

fn record(volunteer: &str, grid: &str, activity: &str, started_at: &str, minutes: i64) -> Value {
    json!({ "volunteerId": volunteer, "gridCode": grid, "activity": activity, "startedAt": started_at,
            "minutes": minutes })
}

#[tokio::test]
async fn statistics_follow_logged_service() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let token = admin();

    let volunteers =
        data(&server, "{ volunteers(first: 2, filter: { status: ACTIVE }) { nodes { id } } }", json!({}))
            .await;
    let ids: Vec<String> = volunteers["volunteers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    // Two grids of different districts: the first and the last grid by code.
    let grids = sql_strings(
        &server,
        "SELECT g.code, substr(g.path, 1, 15) FROM region g WHERE g.level = 'GRID' ORDER BY g.code",
    )
    .await;
    let (grid_a, grid_b) = (grids[0][0].clone(), grids[grids.len() - 1][0].clone());
    assert_ne!(grids[0][1], grids[grids.len() - 1][1], "the grids lie in different districts");

    let before_a =
        day_matches_rows(&server, &grid_a, "2026-03-01", "2026-02-28T16:00:00Z", "2026-03-01T16:00:00Z")
            .await;

    // Local midnight is 16:00 UTC: the first record belongs to March 1st, the second to March 2nd.
    for (started_at, minutes) in [("2026-03-01T15:59:00Z", 61), ("2026-03-01T16:00:00Z", 45)] {
        let input = record(&ids[0], &grid_a, "PATROL", started_at, minutes);
        let response = server.gql(Some(&token), LOG_ONE, json!({ "input": input })).await;
        assert_no_errors(&response);
    }
    let batch = json!([
        record(&ids[1], &grid_b, "TRAFFIC", "2026-03-02T01:00:00Z", 30),
        record(&ids[1], &grid_b, "TRAFFIC", "2026-03-02T03:00:00Z", 90),
        record(&ids[0], &grid_a, "MEDIATION", "2026-03-01T02:00:00Z", 120),
        record(&ids[1], &grid_a, "PATROL", "2026-03-01T15:00:00Z", 10),
    ]);
    let response = server.gql(Some(&token), LOG_BATCH, json!({ "records": batch })).await;
    assert_no_errors(&response);
    // All or nothing: the invalid second record leaves neither rows nor rollup changed.
    let failing = json!([
        record(&ids[1], &grid_a, "PATROL", "2026-03-01T10:00:00Z", 30),
        record(&ids[1], &grid_a, "PATROL", "2026-03-01T11:00:00Z", 0),
    ]);
    let response = server.gql(Some(&token), LOG_BATCH, json!({ "records": failing })).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);

    let db = server.db.connect().await;
    let report = verify(&db).await.unwrap();
    assert!(report.ok(), "{:?}", report.differences);

    // Day by day, activity by activity, at the grids and across the local midnight.
    let after_a =
        day_matches_rows(&server, &grid_a, "2026-03-01", "2026-02-28T16:00:00Z", "2026-03-01T16:00:00Z")
            .await;
    assert_eq!(after_a, before_a + 3, "61-minute patrol, mediation and 10-minute patrol on March 1st");
    day_matches_rows(&server, &grid_a, "2026-03-02", "2026-03-01T16:00:00Z", "2026-03-02T16:00:00Z").await;
    day_matches_rows(&server, &grid_b, "2026-03-02", "2026-03-01T16:00:00Z", "2026-03-02T16:00:00Z").await;

    // The city-wide total and every district equal the row-level counts.
    let total = stat(&server, "measure: SERVICE_RECORDS").await;
    let (all, _) = rows(&server, json!({})).await;
    assert_eq!(total.values().collect::<Vec<_>>(), [&all.to_string()]);
    let districts = stat(&server, "measure: SERVICE_RECORDS, groupBy: [REGION], regionLevel: DISTRICT").await;
    assert!(districts.len() >= 2);
    let mut sum = 0;
    for ((district, _, _), value) in &districts {
        let (count, _) = rows(&server, json!({ "inRegion": district })).await;
        assert_eq!(value, &count.to_string(), "district {district}");
        sum += count;
    }
    assert_eq!(sum, all);

    // A year at grid level under grid A's township, by month: grid A's cells equal its rows month by month.
    let township = sql_strings(
        &server,
        &format!(
            "SELECT t.code FROM region g JOIN region c ON c.id = g.parent_id JOIN region t ON t.id = c.parent_id \
             WHERE g.code = '{grid_a}'"
        ),
    )
    .await;
    let months = stat(
        &server,
        &format!(
            "measure: SERVICE_HOURS, groupBy: [REGION, PERIOD], regionLevel: GRID, period: MONTH, year: 2026, \
             inRegion: \"{}\"",
            township[0][0]
        ),
    )
    .await;
    for (month, from, to) in [
        ("2026-02", "2026-01-31T16:00:00Z", "2026-02-28T16:00:00Z"),
        ("2026-03", "2026-02-28T16:00:00Z", "2026-03-31T16:00:00Z"),
    ] {
        let query = "query($filter: ServiceRecordFilter) { serviceRecords(filter: $filter, first: 500) { \
                     totalCount nodes { minutes } } }";
        let result =
            data(&server, query, json!({ "filter": { "inRegion": grid_a, "from": from, "to": to } })).await;
        let nodes = result["serviceRecords"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len() as i64, result["serviceRecords"]["totalCount"].as_i64().unwrap());
        let minutes: i64 = nodes.iter().map(|node| node["minutes"].as_i64().unwrap()).sum();
        let cell = months.get(&(grid_a.clone(), month.to_owned(), String::new()));
        let expected = (minutes > 0).then(|| hours(minutes));
        assert_eq!(cell, expected.as_ref(), "grid {grid_a} in {month}");
    }
}

#[tokio::test]
async fn verify_passes_on_demo_data_and_names_tampered_cells() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let db = server.db.connect().await;
    let report = verify(&db).await.unwrap();
    assert!(report.ok(), "{:?}", report.differences);
    assert!(report.records > 1_000 && report.cells > report.records / 10, "{report:?}");

    // One cell off by one record and five minutes.
    let cell = sql_strings(
        &server,
        "SELECT r.code, CAST(t.day AS TEXT), t.activity FROM service_rollup t JOIN region r ON r.id = t.region_id \
         WHERE r.level = 'GRID' ORDER BY r.code, t.day, t.activity",
    )
    .await
    .remove(0);
    let (code, day, activity) = (&cell[0], &cell[1], &cell[2]);
    let target = format!(
        "region_id = (SELECT id FROM region WHERE code = '{code}') AND CAST(day AS TEXT) = '{day}' \
         AND activity = '{activity}'"
    );
    execute(
        &server,
        &format!("UPDATE service_rollup SET records = records + 1, minutes = minutes + 5 WHERE {target}"),
    )
    .await;
    let report = verify(&db).await.unwrap();
    assert_eq!(report.differences.len(), 1, "{:?}", report.differences);
    let difference = &report.differences[0];
    assert_eq!((&difference.region_code, &difference.day, &difference.activity), (code, day, activity));
    let (stored, recomputed) = (difference.stored.unwrap(), difference.recomputed.unwrap());
    assert_eq!(
        stored,
        Figures { records: recomputed.records + 1, minutes: recomputed.minutes + 5 },
        "{difference}"
    );
    assert!(difference.to_string().contains(code.as_str()));

    // A missing cell.
    execute(&server, &format!("DELETE FROM service_rollup WHERE {target}")).await;
    let report = verify(&db).await.unwrap();
    assert_eq!(report.differences.len(), 1);
    assert_eq!(report.differences[0].stored, None);
    assert_eq!(report.differences[0].recomputed, Some(recomputed));

    // Put back, then a record written behind the rollup's back: its grid and every ancestor differ.
    execute(
        &server,
        &format!(
            "INSERT INTO service_rollup (region_id, day, activity, records, minutes) \
             VALUES ((SELECT id FROM region WHERE code = '{code}'), '{day}', '{activity}', {}, {})",
            recomputed.records, recomputed.minutes
        ),
    )
    .await;
    assert!(verify(&db).await.unwrap().ok());
    execute(
        &server,
        &format!(
            "INSERT INTO service_record (volunteer_id, grid_id, activity, started_at, minutes, note, created_at) \
             VALUES ((SELECT MIN(id) FROM volunteer), (SELECT id FROM region WHERE code = '{code}'), 'MEDIATION', \
             '2026-05-04T20:00:00Z', 30, NULL, '2026-05-05T08:00:00Z')"
        ),
    )
    .await;
    let report = verify(&db).await.unwrap();
    let named: Vec<(&str, &str)> =
        report.differences.iter().map(|d| (d.region_code.as_str(), d.day.as_str())).collect();
    assert_eq!(report.differences.len(), 5, "grid, community, township, district, city: {named:?}");
    assert!(report.differences.iter().all(|d| d.day == "2026-05-05" && d.activity == "MEDIATION"));
    assert!(named.contains(&(code.as_str(), "2026-05-05")));
    assert!(named.contains(&("330900", "2026-05-05")));
}

/// Pending rollup cells not yet folded.
async fn pending_cells(server: &TestServer) -> i64 {
    let db = server.db.connect().await;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM service_rollup_pending".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Waits until the server has folded every pending cell.
async fn wait_for_fold(server: &TestServer) {
    for _ in 0..200 {
        if pending_cells(server).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the pending rollup cells were not folded within 10 s");
}

/// An active volunteer and the code of a grid, for logging service.
async fn volunteer_and_grid(server: &TestServer) -> (String, String) {
    let found =
        data(server, "{ volunteers(first: 1, filter: { status: ACTIVE }) { nodes { id } } }", json!({}))
            .await;
    let volunteer = found["volunteers"]["nodes"][0]["id"].as_str().unwrap().to_owned();
    let grid =
        sql_strings(server, "SELECT code FROM region WHERE level = 'GRID' ORDER BY code").await.remove(0);
    (volunteer, grid[0].clone())
}

fn batch(volunteer: &str, grid: &str, day: &str, count: usize) -> Value {
    let records: Vec<Value> = (0..count)
        .map(|i| {
            record(volunteer, grid, "TRAFFIC", &format!("{day}T0{}:{:02}:00Z", i % 8, i % 60), 10 + i as i64)
        })
        .collect();
    json!({ "records": records })
}

#[tokio::test]
async fn writes_leave_cells_pending_and_a_fold_moves_them_without_changing_a_figure() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let token = admin();
    let (volunteer, grid) = volunteer_and_grid(&server).await;
    let db = server.db.connect().await;
    wait_for_fold(&server).await;
    let before =
        day_matches_rows(&server, &grid, "2026-04-10", "2026-04-09T16:00:00Z", "2026-04-10T16:00:00Z").await;

    let response = server.gql(Some(&token), LOG_BATCH, batch(&volunteer, &grid, "2026-04-10", 12)).await;
    assert_no_errors(&response);
    // Whether or not the fold has run yet, the figures are the rows'.
    let after =
        day_matches_rows(&server, &grid, "2026-04-10", "2026-04-09T16:00:00Z", "2026-04-10T16:00:00Z").await;
    assert_eq!(after, before + 12);
    assert!(verify(&db).await.unwrap().ok());

    // The fold empties the pending cells into the rollup's rows of the grid and its four ancestors.
    wait_for_fold(&server).await;
    let folded = sql_strings(
        &server,
        &format!(
            "SELECT r.code FROM service_rollup t JOIN region r ON r.id = t.region_id \
             WHERE CAST(t.day AS TEXT) = '2026-04-10' AND t.activity = 'TRAFFIC' \
             AND (SELECT path FROM region WHERE code = '{grid}') LIKE r.path || '%' ORDER BY r.depth"
        ),
    )
    .await;
    let ancestry = sql_strings(
        &server,
        &format!(
            "SELECT a.code FROM region a WHERE (SELECT path FROM region WHERE code = '{grid}') LIKE a.path || '%' \
             ORDER BY a.depth"
        ),
    )
    .await;
    assert_eq!(folded, ancestry, "the grid and each of its ancestors have the day's cell");
    assert_eq!(folded.last().unwrap()[0], grid);
    assert_eq!(
        day_matches_rows(&server, &grid, "2026-04-10", "2026-04-09T16:00:00Z", "2026-04-10T16:00:00Z").await,
        after
    );
    let report = verify(&db).await.unwrap();
    assert!(report.ok(), "{:?}", report.differences);
}

/// PostgreSQL: a writer takes no lock on the rollup. With the rollup locked against every write, service is
/// still logged, the figures still count it, and the fold completes once the lock is gone.
#[tokio::test]
async fn writers_wait_for_no_rollup_row() {
    let Some(_) = std::env::var("DATABASE_URL").ok().filter(|url| url.starts_with("postgres")) else {
        return;
    };
    use sea_orm::TransactionTrait;
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let token = admin();
    let (volunteer, grid) = volunteer_and_grid(&server).await;
    wait_for_fold(&server).await;
    let before =
        day_matches_rows(&server, &grid, "2026-04-11", "2026-04-10T16:00:00Z", "2026-04-11T16:00:00Z").await;

    let locker = server.db.connect().await;
    let lock = locker.begin().await.unwrap();
    // EXCLUSIVE admits plain reads and nothing else.
    lock.execute_unprepared("LOCK TABLE service_rollup IN EXCLUSIVE MODE").await.unwrap();
    for round in 0..3 {
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            server.gql(Some(&token), LOG_BATCH, batch(&volunteer, &grid, "2026-04-11", 7)),
        )
        .await
        .unwrap_or_else(|_| panic!("batch {round} waited for the locked rollup"));
        assert_no_errors(&response);
    }
    let during =
        day_matches_rows(&server, &grid, "2026-04-11", "2026-04-10T16:00:00Z", "2026-04-11T16:00:00Z").await;
    assert_eq!(during, before + 21);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(pending_cells(&server).await > 0, "the fold cannot have run under the lock");

    lock.rollback().await.unwrap();
    wait_for_fold(&server).await;
    assert_eq!(
        day_matches_rows(&server, &grid, "2026-04-11", "2026-04-10T16:00:00Z", "2026-04-11T16:00:00Z").await,
        during
    );
    let report = verify(&server.db.connect().await).await.unwrap();
    assert!(report.ok(), "{:?}", report.differences);
}
