//! The `statistics` entry point: every measure against SQL and the row-level connections, every dimension
//! (region level, Asia/Shanghai period, category), scope, and partners' disclosure control on a constructed table
//! (the linear-programming audit of every response is `tests/disclosure_audit.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use govgraph_tests::{Fixture, TestServer, admin, assert_no_errors, error_codes, shared_demo, token_for};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const FIELDS: &str = "measure unit regionLevel disclosureControlled
  cells { regionCode regionName period category value suppressed }
  totals { regionCode regionName period category value suppressed }";

async fn raw(server: &TestServer, token: &str, args: &str) -> Value {
    let query = format!("{{ statistics({args}) {{ {FIELDS} }} }}");
    server.gql(Some(token), &query, json!({})).await
}

async fn stats(server: &TestServer, token: &str, args: &str) -> Value {
    let response = raw(server, token, args).await;
    assert_no_errors(&response);
    response["data"]["statistics"].clone()
}

fn cells(result: &Value) -> Vec<Value> {
    result["cells"].as_array().cloned().unwrap_or_default()
}

fn totals(result: &Value) -> Vec<Value> {
    result["totals"].as_array().cloned().unwrap_or_default()
}

/// Cells keyed by `field` → value string.
fn by(result: &Value, field: &str) -> BTreeMap<String, String> {
    cells(result)
        .iter()
        .map(|cell| (cell[field].as_str().unwrap().to_owned(), cell["value"].as_str().unwrap().to_owned()))
        .collect()
}

fn int_sum(cells: &[Value]) -> i64 {
    cells.iter().map(|cell| cell["value"].as_str().unwrap().parse::<i64>().unwrap()).sum()
}

async fn the_total(server: &TestServer, token: &str, measure: &str) -> String {
    let result = stats(server, token, &format!("measure: {measure}")).await;
    let cells = cells(&result);
    assert_eq!(cells.len(), 1, "{result:#}");
    cells[0]["value"].as_str().unwrap().to_owned()
}

async fn sql_pairs(server: &TestServer, sql: &str) -> BTreeMap<String, i64> {
    let db = server.db.connect().await;
    let rows =
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
    rows.iter()
        .map(|row| (row.try_get_by_index::<String>(0).unwrap(), row.try_get_by_index::<i64>(1).unwrap()))
        .collect()
}

async fn sql_count(server: &TestServer, sql: &str) -> i64 {
    let db = server.db.connect().await;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn hours(minutes: i64) -> String {
    let hundredths = (minutes * 100 + 30) / 60;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// A measure, the SQL giving its figures by category, and how a figure is written.
type Case = (&'static str, &'static str, fn(i64) -> String);

#[tokio::test]
async fn every_measure_by_category_equals_sql() {
    let server = shared_demo().await;
    let token = admin();
    let count = |n: i64| n.to_string();
    let cases: [Case; 21] = [
        ("REGISTERED_VOLUNTEERS", "SELECT status, COUNT(*) FROM volunteer GROUP BY status", |n| {
            n.to_string()
        }),
        ("SERVICE_RECORDS", "SELECT activity, COUNT(*) FROM service_record GROUP BY activity", |n| {
            n.to_string()
        }),
        (
            "SERVICE_HOURS",
            "SELECT activity, CAST(SUM(minutes) AS BIGINT) FROM service_record GROUP BY activity",
            hours,
        ),
        ("CARE_SUBJECTS", "SELECT category, COUNT(*) FROM care_subject GROUP BY category", |n| n.to_string()),
        ("CARE_SUBJECTS_BY_STATUS", "SELECT status, COUNT(*) FROM care_subject GROUP BY status", |n| {
            n.to_string()
        }),
        (
            "CARE_SUBJECTS_BY_RISK_LEVEL",
            "SELECT COALESCE(CAST(current_risk_level AS TEXT), 'UNASSESSED'), COUNT(*) FROM care_subject \
             GROUP BY COALESCE(CAST(current_risk_level AS TEXT), 'UNASSESSED')",
            |n| n.to_string(),
        ),
        ("CARE_VISITS", "SELECT kind, COUNT(*) FROM care_visit GROUP BY kind", |n| n.to_string()),
        (
            "CORRECTIONS_RECEIVED",
            "SELECT correction_type, COUNT(*) FROM correction_profile GROUP BY correction_type",
            |n| n.to_string(),
        ),
        (
            "CORRECTIONS_RELEASED",
            "SELECT correction_type, COUNT(*) FROM correction_profile WHERE status = 'RELEASED' \
             GROUP BY correction_type",
            |n| n.to_string(),
        ),
        (
            "CORRECTIONS_UNDER_SUPERVISION",
            "SELECT correction_type, COUNT(*) FROM correction_profile WHERE status = 'UNDER_SUPERVISION' \
             GROUP BY correction_type",
            |n| n.to_string(),
        ),
        (
            "MENTORSHIPS_ACTIVE",
            "SELECT s.category, COUNT(*) FROM mentorship m JOIN care_subject s ON s.id = m.mentee_id \
             WHERE m.status = 'ACTIVE' GROUP BY s.category",
            |n| n.to_string(),
        ),
        ("MENTORING_OUTCOMES", "SELECT kind, COUNT(*) FROM mentoring_outcome GROUP BY kind", |n| {
            n.to_string()
        }),
        ("LEGAL_AID_APPLICATIONS", "SELECT state, COUNT(*) FROM legal_aid_application GROUP BY state", |n| {
            n.to_string()
        }),
        (
            "LEGAL_AID_DISBURSED",
            "SELECT f.code, CAST(SUM(a.amount_fen) AS BIGINT) FROM legal_aid_application a \
             JOIN legal_aid_fund f ON f.id = a.fund_id WHERE a.disbursed_at IS NOT NULL GROUP BY f.code",
            yuan,
        ),
        (
            "LEGAL_AID_REPAID",
            "SELECT f.code, CAST(SUM(a.repaid_fen) AS BIGINT) FROM legal_aid_application a \
             JOIN legal_aid_fund f ON f.id = a.fund_id WHERE a.repaid_fen > 0 GROUP BY f.code",
            yuan,
        ),
        (
            "LEGAL_AID_OUTSTANDING",
            "SELECT f.code, CAST(SUM(a.amount_fen - a.repaid_fen) AS BIGINT) FROM legal_aid_application a \
             JOIN legal_aid_fund f ON f.id = a.fund_id WHERE a.due_on IS NOT NULL \
             AND a.state IN ('DISBURSED', 'REPAYING') GROUP BY f.code",
            yuan,
        ),
        ("FUND_BALANCES", "SELECT code, balance_fen FROM legal_aid_fund", yuan),
        ("DISPUTES_RECEIVED", "SELECT category, COUNT(*) FROM dispute GROUP BY category", |n| n.to_string()),
        ("DISPUTES_BY_CHANNEL", "SELECT channel, COUNT(*) FROM dispute GROUP BY channel", |n| n.to_string()),
        (
            "DISPUTES_RESOLVED",
            "SELECT category, COUNT(*) FROM dispute WHERE outcome = 'RESOLVED' GROUP BY category",
            |n| n.to_string(),
        ),
        (
            "DISPUTE_ESCALATIONS",
            "SELECT escalated_to, COUNT(*) FROM dispute WHERE escalated_to IS NOT NULL GROUP BY escalated_to",
            |n| n.to_string(),
        ),
    ];
    for (measure, sql, format) in cases {
        let expected: BTreeMap<String, String> =
            sql_pairs(server, sql).await.into_iter().map(|(k, v)| (k, format(v))).collect();
        assert!(!expected.is_empty(), "{measure}: the demo data has rows");
        let result = stats(server, &token, &format!("measure: {measure}, groupBy: [CATEGORY]")).await;
        assert_eq!(result["disclosureControlled"], false);
        assert_eq!(by(&result, "category"), expected, "{measure}");
    }
    assert_eq!(
        the_total(server, &token, "ACTIVE_VOLUNTEERS").await,
        count(sql_count(server, "SELECT COUNT(*) FROM volunteer WHERE status = 'ACTIVE'").await,)
    );
    // The shares: resolved ÷ ended mediation, and overdue ÷ open, each as the four-decimal rounding of the SQL.
    let share = |num: i64, den: i64| {
        let ten_thousandths = (num * 10_000 + den / 2) / den;
        format!("{}.{:04}", ten_thousandths / 10_000, ten_thousandths % 10_000)
    };
    let ended = sql_count(server, "SELECT COUNT(*) FROM dispute WHERE outcome IS NOT NULL").await;
    let resolved = sql_count(server, "SELECT COUNT(*) FROM dispute WHERE outcome = 'RESOLVED'").await;
    assert_eq!(the_total(server, &token, "MEDIATION_SUCCESS_RATE").await, share(resolved, ended));
    let open = "state IN ('REPORTED', 'ACCEPTED', 'ASSIGNED', 'MEDIATING')";
    let opened = sql_count(server, &format!("SELECT COUNT(*) FROM dispute WHERE {open}")).await;
    let now = Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let overdue =
        sql_count(server, &format!("SELECT COUNT(*) FROM dispute WHERE {open} AND due_at < '{now}'")).await;
    assert!(opened > 0, "the demo has open cases");
    assert_eq!(the_total(server, &token, "DISPUTES_OVERDUE_SHARE").await, share(overdue, opened));
    // Measures without categories or periods say so.
    let response = raw(server, &token, "measure: ACTIVE_VOLUNTEERS, groupBy: [CATEGORY]").await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
    let response = raw(server, &token, "measure: FUND_BALANCES, groupBy: [PERIOD]").await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
}

async fn total_count(server: &TestServer, token: &str, field: &str, filter: &str) -> i64 {
    let response = server
        .gql(Some(token), &format!("{{ {field}(filter: {filter}) {{ totalCount }} }}"), json!({}))
        .await;
    assert_no_errors(&response);
    response["data"][field]["totalCount"].as_i64().unwrap()
}

#[tokio::test]
async fn statistics_equal_the_row_level_connections() {
    let server = shared_demo().await;
    let token = admin();
    let care = stats(server, &token, "measure: CARE_SUBJECTS, groupBy: [CATEGORY]").await;
    for (category, value) in by(&care, "category") {
        let rows = total_count(server, &token, "careSubjects", &format!("{{ category: {category} }}")).await;
        assert_eq!(value, rows.to_string(), "{category}");
    }
    let status = stats(server, &token, "measure: CARE_SUBJECTS_BY_STATUS, groupBy: [CATEGORY]").await;
    for (value_of, value) in by(&status, "category") {
        let rows = total_count(server, &token, "careSubjects", &format!("{{ status: {value_of} }}")).await;
        assert_eq!(value, rows.to_string(), "{value_of}");
    }
    let volunteers = total_count(server, &token, "volunteers", "{}").await;
    assert_eq!(the_total(server, &token, "REGISTERED_VOLUNTEERS").await, volunteers.to_string());
    let active = total_count(server, &token, "volunteers", "{ status: ACTIVE }").await;
    assert_eq!(the_total(server, &token, "ACTIVE_VOLUNTEERS").await, active.to_string());
    let mentorships = total_count(server, &token, "mentorships", "{ status: ACTIVE }").await;
    assert_eq!(the_total(server, &token, "MENTORSHIPS_ACTIVE").await, mentorships.to_string());
    let applications = stats(server, &token, "measure: LEGAL_AID_APPLICATIONS, groupBy: [CATEGORY]").await;
    for (state, value) in by(&applications, "category") {
        let rows =
            total_count(server, &token, "legalAidApplications", &format!("{{ state: {state} }}")).await;
        assert_eq!(value, rows.to_string(), "{state}");
    }
    // The share of active subjects visited within 30 days is 1 - notVisitedForDays: 30 over the active ones.
    let active_subjects = total_count(server, &token, "careSubjects", "{ status: ACTIVE }").await;
    let not_visited =
        total_count(server, &token, "careSubjects", "{ status: ACTIVE, notVisitedForDays: 30 }").await;
    let visited = active_subjects - not_visited;
    let expected = (visited * 10_000 + active_subjects / 2) / active_subjects;
    let share = the_total(server, &token, "VISITED_WITHIN_30_DAYS_SHARE").await;
    assert_eq!(share, format!("{}.{:04}", expected / 10_000, expected % 10_000));
    // The same filter on both sides: one district.
    let district = "330902";
    let rows = total_count(server, &token, "careSubjects", &format!("{{ inRegion: \"{district}\" }}")).await;
    let result = stats(server, &token, &format!("measure: CARE_SUBJECTS, inRegion: \"{district}\"")).await;
    assert_eq!(cells(&result)[0]["value"], rows.to_string());
}

#[tokio::test]
async fn region_levels_partition_the_total() {
    let server = shared_demo().await;
    let token = admin();
    let total: i64 = the_total(server, &token, "REGISTERED_VOLUNTEERS").await.parse().unwrap();
    for level in ["DISTRICT", "TOWNSHIP", "COMMUNITY", "GRID"] {
        let result = stats(
            server,
            &token,
            &format!(
                "measure: REGISTERED_VOLUNTEERS, groupBy: [REGION], regionLevel: {level}, withTotals: true"
            ),
        )
        .await;
        assert_eq!(result["regionLevel"], level);
        assert_eq!(int_sum(&cells(&result)), total, "{level}");
        let codes: BTreeSet<String> = sql_pairs(
            server,
            &format!("SELECT code, CAST(depth AS BIGINT) FROM region WHERE level = '{level}'"),
        )
        .await
        .into_keys()
        .collect();
        for cell in cells(&result) {
            assert!(codes.contains(cell["regionCode"].as_str().unwrap()), "{level}: {cell}");
            assert!(cell["regionName"].is_string());
        }
        let totals = totals(&result);
        assert_eq!(totals.len(), 1);
        assert_eq!(totals[0]["regionCode"], Value::Null);
        assert_eq!(totals[0]["value"], total.to_string());
    }
    let per_grid = sql_pairs(
        server,
        "SELECT g.code, COUNT(*) FROM volunteer v JOIN region g ON g.id = v.region_id GROUP BY g.code",
    )
    .await;
    let result =
        stats(server, &token, "measure: REGISTERED_VOLUNTEERS, groupBy: [REGION], regionLevel: GRID").await;
    let got: BTreeMap<String, i64> =
        by(&result, "regionCode").into_iter().map(|(k, v)| (k, v.parse().unwrap())).collect();
    assert_eq!(got, per_grid);
    // Two dimensions with totals: every subtotal is the sum of its cells.
    let result = stats(
        server,
        &token,
        "measure: SERVICE_RECORDS, groupBy: [REGION, CATEGORY], regionLevel: DISTRICT, withTotals: true",
    )
    .await;
    let totals = totals(&result);
    for subtotal in &totals {
        let matching: Vec<Value> = cells(&result)
            .into_iter()
            .filter(|cell| {
                ["regionCode", "category"].iter().all(|f| subtotal[*f].is_null() || subtotal[*f] == cell[*f])
            })
            .collect();
        assert_eq!(subtotal["value"], int_sum(&matching).to_string(), "{subtotal}");
    }
    assert!(totals.len() > 7, "grand total, by district and by activity");
}

#[tokio::test]
async fn periods_are_calendar_periods_in_shanghai_time() {
    let server = shared_demo().await;
    let token = admin();
    let db = server.db.connect().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT started_at FROM service_record",
        ))
        .await
        .unwrap();
    let starts: Vec<DateTime<Utc>> =
        rows.iter().map(|row| row.try_get::<DateTime<Utc>>("", "started_at").unwrap()).collect();
    assert!(!starts.is_empty());
    for (period, format) in
        [("DAY", "%Y-%m-%d"), ("WEEK", "%G-W%V"), ("MONTH", "%Y-%m"), ("QUARTER", "Q"), ("YEAR", "%Y")]
    {
        let mut expected: BTreeMap<String, i64> = BTreeMap::new();
        for start in &starts {
            let local = start.naive_utc() + Duration::hours(8);
            let label = if format == "Q" {
                format!(
                    "{}-Q{}",
                    local.format("%Y"),
                    local.format("%m").to_string().parse::<u32>().unwrap().div_ceil(3)
                )
            } else {
                local.format(format).to_string()
            };
            *expected.entry(label).or_default() += 1;
        }
        let result =
            stats(server, &token, &format!("measure: SERVICE_RECORDS, groupBy: [PERIOD], period: {period}"))
                .await;
        let got: BTreeMap<String, i64> =
            by(&result, "period").into_iter().map(|(k, v)| (k, v.parse().unwrap())).collect();
        assert_eq!(got, expected, "{period}");
    }
    // A date column needs no time zone; a year and a free range restrict the same rows.
    let expected = sql_pairs(
        server,
        "SELECT substr(CAST(registered_on AS TEXT), 1, 7), COUNT(*) FROM care_subject \
         GROUP BY substr(CAST(registered_on AS TEXT), 1, 7)",
    )
    .await;
    let result = stats(server, &token, "measure: CARE_SUBJECTS, groupBy: [PERIOD], period: MONTH").await;
    let got: BTreeMap<String, i64> =
        by(&result, "period").into_iter().map(|(k, v)| (k, v.parse().unwrap())).collect();
    assert_eq!(got, expected);
    let year = got.keys().next_back().unwrap()[..4].to_owned();
    let in_year: i64 = got.iter().filter(|(k, _)| k.starts_with(&year)).map(|(_, v)| v).sum();
    let by_year = stats(server, &token, &format!("measure: CARE_SUBJECTS, year: {year}")).await;
    assert_eq!(cells(&by_year)[0]["value"], in_year.to_string());
    let range = stats(
        server,
        &token,
        &format!("measure: CARE_SUBJECTS, from: \"{year}-01-01\", to: \"{year}-12-31\""),
    )
    .await;
    assert_eq!(cells(&range)[0]["value"], in_year.to_string());
}

#[tokio::test]
async fn a_township_token_sees_only_its_cells() {
    let server = shared_demo().await;
    let township = sql_pairs(
        server,
        "SELECT t.code, COUNT(*) FROM care_subject s JOIN region g ON g.id = s.region_id \
         JOIN region t ON t.level = 'TOWNSHIP' AND g.code LIKE t.code || '%' GROUP BY t.code",
    )
    .await
    .into_iter()
    .max_by_key(|(_, n)| *n)
    .unwrap()
    .0;
    let token = token_for("analyst-1", &["analyst"], &township);
    let result = stats(server, &token, "measure: CARE_SUBJECTS, groupBy: [REGION], withTotals: true").await;
    assert_eq!(result["regionLevel"], "COMMUNITY", "default: one level below the token's region");
    assert_eq!(result["disclosureControlled"], false);
    for cell in cells(&result) {
        assert!(cell["regionCode"].as_str().unwrap().starts_with(&township), "{cell}");
    }
    let rows = total_count(server, &token, "careSubjects", "{}").await;
    assert_eq!(int_sum(&cells(&result)), rows);
    assert_eq!(totals(&result)[0]["value"], rows.to_string());
    let response =
        raw(server, &token, "measure: CARE_SUBJECTS, groupBy: [REGION], regionLevel: DISTRICT").await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
    let response = raw(server, &token, "measure: CARE_SUBJECTS, inRegion: \"330903\"").await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
    let response = server.gql(None, "{ statistics(measure: CARE_SUBJECTS) { unit } }", json!({})).await;
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"]);
    let auditor = token_for("auditor-1", &["auditor"], "330900");
    assert_eq!(error_codes(&raw(server, &auditor, "measure: CARE_SUBJECTS").await), ["FORBIDDEN"]);
}

/// No visible cell of a sensitive count counts fewer than 5 persons, and every combination of the grouping keys
/// is listed, so that an empty cell looks like a small one.
fn assert_protected(result: &Value) {
    let mut all = cells(result);
    all.extend(totals(result));
    for cell in &all {
        match cell["value"].as_str() {
            Some(value) => {
                let n: i64 = value.parse().unwrap();
                assert!(n >= 5, "a small cell is visible: {cell}");
                assert_eq!(cell["suppressed"], false);
            }
            None => assert_eq!(cell["suppressed"], true, "{cell}"),
        }
    }
    let dims = ["regionCode", "period", "category"];
    let distinct = |dim: &str| -> BTreeSet<String> {
        cells(result).iter().filter(|c| !c[dim].is_null()).map(|c| c[dim].to_string()).collect()
    };
    let expected: usize = dims.iter().map(|d| distinct(d).len().max(1)).product();
    assert_eq!(cells(result).len(), expected, "every combination of the keys is listed");
}

#[tokio::test]
async fn partners_get_fixed_dimensions_and_protected_cells() {
    let server = shared_demo().await;
    let partner = token_for("partner-1", &["partner"], "330900");
    for args in [
        "measure: CARE_SUBJECTS, groupBy: [PERIOD], from: \"2025-01-01\", to: \"2025-06-30\"",
        "measure: CARE_SUBJECTS, groupBy: [PERIOD], year: 2025",
        "measure: CARE_SUBJECTS, groupBy: [PERIOD], inRegion: \"330902\"",
        "measure: CARE_SUBJECTS, groupBy: [REGION, PERIOD], regionLevel: GRID",
        "measure: CORRECTIONS_RECEIVED, groupBy: [REGION, PERIOD], regionLevel: GRID",
        // Every figure lies within one calendar period, a month at the finest.
        "measure: CARE_SUBJECTS",
        "measure: CARE_SUBJECTS, groupBy: [REGION, CATEGORY]",
        "measure: CARE_SUBJECTS, groupBy: [PERIOD], period: DAY",
        "measure: CARE_SUBJECTS, groupBy: [PERIOD], period: QUARTER",
        "measure: DISPUTES_RECEIVED, groupBy: [PERIOD], period: WEEK",
    ] {
        assert_eq!(error_codes(&raw(server, &partner, args).await), ["FORBIDDEN"], "{args}");
    }
    // A grid of more than 10000 cells is refused before it is computed.
    let args =
        "measure: CARE_SUBJECTS, groupBy: [REGION, PERIOD, CATEGORY], regionLevel: COMMUNITY, period: MONTH";
    assert_eq!(error_codes(&raw(server, &partner, args).await), ["QUERY_TOO_COMPLEX"]);
    // Non-sensitive measures: grid level, exact.
    let args = "measure: REGISTERED_VOLUNTEERS, groupBy: [REGION], regionLevel: GRID";
    let exact = stats(server, &admin(), args).await;
    let seen = stats(server, &partner, args).await;
    assert_eq!(seen["disclosureControlled"], false);
    assert_eq!(seen["cells"], exact["cells"]);
    // Every sensitive measure, by region and category, and by period where it has one.
    for (measure, periods) in [
        ("CARE_SUBJECTS", true),
        ("CARE_SUBJECTS_BY_RISK_LEVEL", true),
        ("CARE_SUBJECTS_BY_STATUS", true),
        ("CARE_VISITS", true),
        ("VISITED_WITHIN_30_DAYS_SHARE", false),
        ("CORRECTIONS_RECEIVED", true),
        ("CORRECTIONS_RELEASED", true),
        ("CORRECTIONS_UNDER_SUPERVISION", false),
        ("MENTORSHIPS_ACTIVE", true),
        ("MENTORING_OUTCOMES", true),
        ("LEGAL_AID_APPLICATIONS", true),
        ("LEGAL_AID_DISBURSED", true),
        ("LEGAL_AID_REPAID", false),
        ("LEGAL_AID_OUTSTANDING", false),
        ("DISPUTES_RECEIVED", true),
        ("DISPUTES_BY_CHANNEL", true),
        ("DISPUTES_RESOLVED", true),
        ("MEDIATION_SUCCESS_RATE", true),
        ("DISPUTES_OVERDUE_SHARE", false),
        ("DISPUTE_ESCALATIONS", true),
        ("STABILITY_INCIDENTS_AFTER_IMPLEMENTATION", true),
    ] {
        let by = if periods { "[REGION, CATEGORY, PERIOD], period: YEAR" } else { "[REGION, CATEGORY]" };
        let seen =
            stats(server, &partner, &format!("measure: {measure}, groupBy: {by}, regionLevel: DISTRICT"))
                .await;
        assert_eq!(seen["disclosureControlled"], true, "{measure}");
        if seen["unit"] == "COUNT" {
            assert_protected(&seen);
        }
    }
    // Sensitive measures: every grouping the partner may ask for is protected, asked twice it is the same, and a
    // subtotal is the same figure as the cell of its own query.
    for (measure, group_by, extra) in [
        ("CARE_SUBJECTS", "[REGION, CATEGORY, PERIOD]", "regionLevel: DISTRICT, period: YEAR"),
        ("CORRECTIONS_RECEIVED", "[REGION, PERIOD]", "regionLevel: DISTRICT, period: YEAR"),
        ("CARE_VISITS", "[REGION, CATEGORY, PERIOD]", "regionLevel: DISTRICT, period: YEAR"),
        ("DISPUTES_RECEIVED", "[REGION, CATEGORY, PERIOD]", "regionLevel: DISTRICT, period: YEAR"),
        ("MEDIATION_SUCCESS_RATE", "[REGION, PERIOD]", "regionLevel: DISTRICT, period: YEAR"),
    ] {
        let args = format!("measure: {measure}, groupBy: {group_by}, {extra}, withTotals: true");
        let result = stats(server, &partner, &args).await;
        assert_eq!(result["disclosureControlled"], true);
        if !measure.ends_with("RATE") {
            assert_protected(&result);
        }
        assert!(
            cells(&result).iter().any(|cell| cell["suppressed"] == true),
            "{measure}: something is small or empty"
        );
        assert!(
            cells(&result).iter().any(|cell| cell["suppressed"] == false),
            "{measure}: something is shown"
        );
        assert!(totals(&result).iter().all(|t| !t["period"].is_null()), "{measure}: no total spans periods");
        assert_eq!(stats(server, &partner, &args).await, result, "{measure}: the same answer twice");
        let regions_only =
            stats(server, &partner, &format!("measure: {measure}, groupBy: [REGION, PERIOD], {extra}")).await;
        let margins: Vec<Value> = totals(&result)
            .into_iter()
            .filter(|t| !t["regionCode"].is_null() && !t["period"].is_null() && t["category"].is_null())
            .collect();
        if group_by.contains("REGION") && group_by.contains("CATEGORY") {
            assert_eq!(
                cells(&regions_only),
                margins,
                "{measure}: a subtotal is the same cell in its own query"
            );
        }
    }
    // The partner's statistics are in the audit trail, with what was asked.
    let auditor = token_for("auditor-1", &["auditor"], "330900");
    let events = server
        .gql(
            Some(&auditor),
            r#"{ auditEvents(first: 100, filter: { actor: "partner-1" }) { nodes { action entityType detail } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&events);
    let details: Vec<String> = events["data"]["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entityType"] == "statistics" && e["action"] == "READ")
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        details.iter().any(|d| d.contains("MediationSuccessRate") && d.contains("disclosure controlled")),
        "{details:?}"
    );
    assert!(details.iter().any(|d| d.contains("RegisteredVolunteers") && d.contains("exact")), "{details:?}");
}

async fn execute(db: &sea_orm::DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
}

/// District 330901 with townships T1 (communities A, B) and T2 (community C), one grid each, and care subjects
/// (mental-health, corrections, at-risk youth): A: 2, 10, 0; B: 6, 7, 8; C: 9, 9, 7.
async fn constructed() -> TestServer {
    let server = TestServer::start(Fixture::Empty).await;
    let db = server.db.connect().await;
    let at = "'2026-01-15T00:00:00+00:00'";
    let regions = [
        (1, "330900", "CITY", None, "/330900/"),
        (2, "330901", "DISTRICT", Some(1), "/330900/330901/"),
        (3, "330901001", "TOWNSHIP", Some(2), "/330900/330901/330901001/"),
        (4, "330901002", "TOWNSHIP", Some(2), "/330900/330901/330901002/"),
        (5, "330901001001", "COMMUNITY", Some(3), "/330900/330901/330901001/330901001001/"),
        (6, "330901001002", "COMMUNITY", Some(3), "/330900/330901/330901001/330901001002/"),
        (7, "330901002001", "COMMUNITY", Some(4), "/330900/330901/330901002/330901002001/"),
        (8, "330901001001001", "GRID", Some(5), "/330900/330901/330901001/330901001001/330901001001001/"),
        (9, "330901001002001", "GRID", Some(6), "/330900/330901/330901001/330901001002/330901001002001/"),
        (10, "330901002001001", "GRID", Some(7), "/330900/330901/330901002/330901002001/330901002001001/"),
    ];
    for (id, code, level, parent, path) in regions {
        let parent = parent.map_or("NULL".to_owned(), |p: i32| p.to_string());
        let depth = path.matches('/').count() - 2;
        execute(
            &db,
            &format!(
                "INSERT INTO region (id, code, name, level, parent_id, path, depth, created_at) \
                 VALUES ({id}, '{code}', 'R{code}', '{level}', {parent}, '{path}', {depth}, {at})"
            ),
        )
        .await;
    }
    let mut id = 0;
    for (grid, mental, corrections, youth) in [(8, 2, 10, 0), (9, 6, 7, 8), (10, 9, 9, 7)] {
        for (category, n) in [
            ("SEVERE_MENTAL_DISORDER", mental),
            ("COMMUNITY_CORRECTION", corrections),
            ("AT_RISK_YOUTH", youth),
        ] {
            for _ in 0..n {
                id += 1;
                execute(
                    &db,
                    &format!(
                        "INSERT INTO care_subject (id, code, category, name, gender, id_number, birth_date, phone, \
                         address, region_id, status, current_risk_level, registered_on, created_at, updated_at) \
                         VALUES ({id}, 'CS{id:07}', '{category}', 'N{id}', 'M', 'ID{id:016}', '1980-01-01', NULL, \
                         'addr', {grid}, 'ACTIVE', NULL, '2026-01-15', {at}, {at})"
                    ),
                )
                .await;
            }
        }
    }
    server
}

fn cell_value<'a>(result: &'a Value, region: &str, category: &str) -> &'a Value {
    let found = result["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cell| cell["regionCode"] == region && cell["category"] == category)
        .unwrap_or_else(|| panic!("no cell {region} {category} in {result}"));
    &found["value"]
}

fn shown(value: &Value) -> i64 {
    value.as_str().unwrap_or_else(|| panic!("suppressed: {value}")).parse().unwrap()
}

#[tokio::test]
async fn partners_cannot_tell_empty_from_small_and_get_figures_within_the_noise() {
    let server = constructed().await;
    let (a, b, c) = ("330901001001", "330901001002", "330901002001");
    let (smd, cc, youth) = ("SEVERE_MENTAL_DISORDER", "COMMUNITY_CORRECTION", "AT_RISK_YOUTH");
    let args = "measure: CARE_SUBJECTS, groupBy: [REGION, CATEGORY, PERIOD], regionLevel: COMMUNITY, \
                period: YEAR, withTotals: true";
    let year_2026 = |result: &Value| -> Value {
        let mut result = result.clone();
        for list in ["cells", "totals"] {
            if let Some(cells) = result[list].as_array_mut() {
                cells.retain(|cell| cell["period"] == "2026" || cell["period"].is_null());
            }
        }
        result
    };
    // Exact for the analyst.
    let analyst = token_for("analyst-1", &["analyst"], "330901");
    let exact = year_2026(&stats(&server, &analyst, args).await);
    assert_eq!(cell_value(&exact, a, smd), "2");
    assert_eq!(cell_value(&exact, a, cc), "10");

    // Another role that reads statistics lifts the control; `partner` alone does not.
    let mixed = token_for("partner-0", &["partner", "grid_worker"], "330901001");
    assert_eq!(cell_value(&year_2026(&stats(&server, &mixed, args).await), a, smd), "2");

    let partner = token_for("partner-2", &["partner"], "330901");
    let full = stats(&server, &partner, args).await;
    assert_protected(&full);
    let result = year_2026(&full);
    // A's mental-health cell (2 persons) and A's at-risk youth (none) look the same: both listed, both
    // suppressed; A's corrections too, so that A's three categories have room between them. B's are suppressed
    // as well, or they would be T1's figures less A's.
    for (region, category) in [(a, smd), (a, youth), (a, cc), (b, smd), (b, youth), (b, cc)] {
        assert_eq!(cell_value(&result, region, category), &Value::Null, "{region} {category}");
    }
    // 2005 to 2026: every year is listed for every community and category, though all rows are of 2026.
    assert_eq!(cells(&full).len(), 3 * 3 * 22);
    // The others are within the noise, never below 5.
    for (region, category, truth) in [(c, smd, 9), (c, cc, 9), (c, youth, 7)] {
        let seen = shown(cell_value(&result, region, category));
        assert!(
            (truth - 2..=truth + 2).contains(&seen) && seen >= 5,
            "{region} {category}: {seen} for {truth}"
        );
    }
    // The same records always get the same noise: the township's figure by category is the same whether asked at
    // township level or as a subtotal, and again after a restart of the server on the same database.
    let townships = year_2026(
        &stats(
            &server,
            &partner,
            "measure: CARE_SUBJECTS, groupBy: [REGION, CATEGORY, PERIOD], regionLevel: TOWNSHIP, period: YEAR, \
             withTotals: true",
        )
        .await,
    );
    let t1_smd = shown(cell_value(&townships, "330901001", smd));
    assert!((6..=10).contains(&t1_smd), "{t1_smd}");
    let district_total = |result: &Value| -> Value {
        totals(result)
            .into_iter()
            .find(|t| t["regionCode"].is_null() && t["category"].is_null() && t["period"] == "2026")
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(district_total(&townships), district_total(&result));
    let total = shown(&district_total(&result));
    assert!((56..=60).contains(&total), "{total}");
    // What the noise hides cannot be averaged away: nine different queries give the partner one figure per cell.
    let again = server.start_beside(govgraph_tests::ServerConfig::default()).await;
    assert_eq!(year_2026(&stats(&again, &partner, args).await), result);
}

#[tokio::test]
async fn the_reports_figures_come_out_of_the_demo_data() {
    let server = TestServer::start(Fixture::Demo(1.0)).await;
    let token = admin();
    assert_eq!(sql_count(&server, "SELECT COUNT(*) FROM region WHERE level = 'GRID'").await, 2_143);
    let volunteers: i64 = the_total(&server, &token, "REGISTERED_VOLUNTEERS").await.parse().unwrap();
    assert!(volunteers >= 22_000, "{volunteers}");
    let by_grid =
        stats(&server, &token, "measure: REGISTERED_VOLUNTEERS, groupBy: [REGION], regionLevel: GRID").await;
    assert!(cells(&by_grid).len() <= 2_143);
    assert_eq!(int_sum(&cells(&by_grid)), volunteers);
    assert_eq!(the_total(&server, &token, "CORRECTIONS_RECEIVED").await, "3718");
    assert_eq!(the_total(&server, &token, "CORRECTIONS_RELEASED").await, "3144");
    let outcomes = stats(&server, &token, "measure: MENTORING_OUTCOMES, groupBy: [CATEGORY]").await;
    let outcomes: BTreeMap<String, i64> =
        by(&outcomes, "category").into_iter().map(|(k, v)| (k, v.parse().unwrap())).collect();
    assert!(outcomes["EMPLOYMENT"] >= 270, "{outcomes:?}");
    assert_eq!(outcomes["BACK_TO_SCHOOL"], 12);
    assert!(outcomes["BEHAVIOURAL_INTERVENTION"] >= 80, "{outcomes:?}");
    assert!(outcomes["SKILLS_TRAINING"] >= 300, "{outcomes:?}");
    assert!(outcomes["FAMILY_ASSISTANCE"] >= 200, "{outcomes:?}");
    // Since 2013, more than 97% of each year's disputes were mediated successfully.
    let rates =
        stats(&server, &token, "measure: MEDIATION_SUCCESS_RATE, groupBy: [PERIOD], period: YEAR").await;
    let rates = by(&rates, "period");
    let this_year = Utc::now().format("%Y").to_string().parse::<i32>().unwrap();
    let years: Vec<String> = (2013..=this_year).map(|year| year.to_string()).collect();
    assert_eq!(rates.keys().cloned().collect::<Vec<_>>(), years, "{rates:?}");
    for (year, rate) in &rates {
        assert!(rate.as_str() > "0.9700" && rate.as_str() <= "1.0000", "{year}: {rate}");
    }
    // The home screen's open cases: some past their due time, some not yet.
    for overdue in [true, false] {
        let filter = format!("{{ open: true, overdue: {overdue} }}");
        assert!(total_count(&server, &token, "disputes", &filter).await > 0, "overdue: {overdue}");
    }
    let received: i64 = the_total(&server, &token, "DISPUTES_RECEIVED").await.parse().unwrap();
    assert!(received >= 2_500 * 13, "{received} disputes since 2013");

    // A city's partner gets the same figures year by year, each within the noise of 2, never suppressed at
    // this size; their sum is the report's figure within 2 per year.
    let partner = token_for("partner-city", &["partner"], "330900");
    for (measure, total) in [("CORRECTIONS_RECEIVED", 3_718), ("CORRECTIONS_RELEASED", 3_144)] {
        let args = format!("measure: {measure}, groupBy: [PERIOD], period: YEAR");
        let exact = by(&stats(&server, &token, &args).await, "period");
        let seen = stats(&server, &partner, &args).await;
        assert_eq!(seen["disclosureControlled"], true);
        let mut sum = 0;
        let mut years = 0;
        for cell in cells(&seen) {
            let truth: i64 = exact.get(cell["period"].as_str().unwrap()).map_or(0, |v| v.parse().unwrap());
            match cell["value"].as_str() {
                Some(value) => {
                    let value: i64 = value.parse().unwrap();
                    assert!((value - truth).abs() <= 2, "{measure} {cell}: {truth}");
                    sum += value;
                    years += 1;
                }
                None => assert!(truth < 5, "{measure} {cell}: {truth} is suppressed"),
            }
        }
        assert!((sum - total).abs() <= 2 * years, "{measure}: {sum} for {total} over {years} years");
    }
    let args = "measure: MENTORING_OUTCOMES, groupBy: [CATEGORY, PERIOD], period: YEAR, withTotals: true";
    let seen = stats(&server, &partner, args).await;
    let back_to_school: Vec<Value> =
        cells(&seen).into_iter().filter(|c| c["category"] == "BACK_TO_SCHOOL").collect();
    // Twelve returns to school over the years: each year's few are suppressed, not shown.
    assert!(back_to_school.iter().all(|c| c["suppressed"] == true), "{back_to_school:?}");
}

const OPTIONS: &str = "{ statisticsOptions { measure unit disclosureControlled dimensions regionLevels
  defaultRegionLevel periods periodRequired mayRestrictDates mayRestrictRegion } }";

async fn options(server: &TestServer, token: &str) -> BTreeMap<String, Value> {
    let response = server.gql(Some(token), OPTIONS, json!({})).await;
    assert_no_errors(&response);
    response["data"]["statisticsOptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|options| (options["measure"].as_str().unwrap().to_owned(), options.clone()))
        .collect()
}

fn names(value: &Value) -> Vec<&str> {
    value.as_array().unwrap().iter().map(|name| name.as_str().unwrap()).collect()
}

#[tokio::test]
async fn statistics_options_offer_what_statistics_accepts() {
    let server = shared_demo().await;
    let partner = token_for("partner-options", &["partner"], "330900");
    let offered = options(server, &partner).await;
    assert_eq!(offered.len(), 30, "every measure");

    let care = &offered["CARE_SUBJECTS"];
    assert_eq!(care["disclosureControlled"], true);
    assert_eq!(names(&care["regionLevels"]), ["CITY", "DISTRICT", "TOWNSHIP", "COMMUNITY"]);
    assert_eq!(names(&care["periods"]), ["MONTH", "YEAR"]);
    assert_eq!(names(&care["dimensions"]), ["REGION", "PERIOD", "CATEGORY"]);
    assert_eq!(care["defaultRegionLevel"], "DISTRICT");
    assert_eq!(
        (care["periodRequired"].clone(), care["mayRestrictDates"].clone()),
        (json!(true), json!(false))
    );
    let volunteers = &offered["REGISTERED_VOLUNTEERS"];
    assert_eq!(volunteers["disclosureControlled"], false);
    assert_eq!(names(&volunteers["regionLevels"]).last(), Some(&"GRID"));
    assert_eq!(volunteers["mayRestrictRegion"], false);
    assert_eq!(names(&offered["CORRECTIONS_UNDER_SUPERVISION"]["periods"]), Vec::<&str>::new());

    // Each measure as offered is answered (of the controlled ones, whose every answer computes the partner's
    // cube, one with a period and one without, to keep the shared server responsive for the other tests); a
    // level or period that is not offered is refused, before any work.
    for (measure, options) in &offered {
        let answered = options["disclosureControlled"] == false
            || ["CARE_SUBJECTS", "CORRECTIONS_UNDER_SUPERVISION"].contains(&measure.as_str());
        let mut by = vec!["REGION"];
        let mut args = format!("measure: {measure}, regionLevel: DISTRICT");
        if options["periodRequired"] == true {
            by.push("PERIOD");
            args.push_str(", period: YEAR");
        }
        if answered {
            let result = stats(server, &partner, &format!("{args}, groupBy: [{}]", by.join(", "))).await;
            assert_eq!(result["disclosureControlled"], options["disclosureControlled"], "{measure}");
        }
        if !names(&options["regionLevels"]).contains(&"GRID") {
            let refused =
                raw(server, &partner, &format!("measure: {measure}, groupBy: [REGION], regionLevel: GRID"))
                    .await;
            assert_eq!(error_codes(&refused), ["FORBIDDEN"], "{measure}");
        }
        if options["periodRequired"] == true && !names(&options["periods"]).contains(&"QUARTER") {
            let refused =
                raw(server, &partner, &format!("measure: {measure}, groupBy: [PERIOD], period: QUARTER"))
                    .await;
            assert_eq!(error_codes(&refused), ["FORBIDDEN"], "{measure}");
        }
    }

    // A district's analyst: from the district down to the grid, every period, dates and regions restrictable.
    let analyst = token_for("analyst-options", &["analyst"], "330902");
    let care = &options(server, &analyst).await["CARE_SUBJECTS"];
    assert_eq!(care["disclosureControlled"], false);
    assert_eq!(names(&care["regionLevels"]), ["DISTRICT", "TOWNSHIP", "COMMUNITY", "GRID"]);
    assert_eq!(names(&care["periods"]), ["DAY", "WEEK", "MONTH", "QUARTER", "YEAR"]);
    assert_eq!(care["defaultRegionLevel"], "TOWNSHIP");
    assert_eq!(
        (care["mayRestrictDates"].clone(), care["mayRestrictRegion"].clone()),
        (json!(true), json!(true))
    );
    let above = raw(server, &analyst, "measure: CARE_SUBJECTS, groupBy: [REGION], regionLevel: CITY").await;
    assert_eq!(error_codes(&above), ["BAD_USER_INPUT"]);

    // Without a token there is nothing to offer.
    assert!(!error_codes(&server.gql(None, OPTIONS, json!({})).await).is_empty());
}
