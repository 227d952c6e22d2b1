//! `GET /export/statistics.csv`: the same figures as `statistics`, under the same token, scope, disclosure control
//! and audit, as a UTF-8 file with a byte-order mark. `/export/query.csv`: the rows of a persisted query's
//! connection, page after page, as the API answers each page to the same token; cut at the row limit with a line
//! that says so, broken off when a page fails after the first rows.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::path::PathBuf;

use govgraph::http::persisted::{PersistedQueryArgs, sha256_hex};
use govgraph::http::rate_limit::RateLimitArgs;
use govgraph::http::traffic::TrafficArgs;
use govgraph::limits::QueryLimits;
use govgraph_tests::{
    CITY, Fixture, ServerConfig, TestServer, admin, assert_no_errors, error_codes, shared_demo, test_limits,
    token_for,
};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

async fn export(base: &str, token: Option<&str>, query: &str) -> (u16, Option<String>, String) {
    let mut request = reqwest::Client::new().get(format!("{base}/export/statistics.csv?{query}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map(|value| value.to_str().unwrap().to_owned());
    (status, content_type, response.text().await.unwrap())
}

/// The rows of a file, each as its fields (no field of these tests holds a comma).
fn rows(file: &str) -> Vec<Vec<String>> {
    let body = file.strip_prefix('\u{feff}').expect("a byte-order mark first");
    body.split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

async fn statistics(token: &str, args: &str) -> Value {
    let server = shared_demo().await;
    let query = format!(
        "{{ statistics({args}) {{ cells {{ regionCode regionName period category value suppressed }} \
         totals {{ regionCode regionName period category value suppressed }} }} }}"
    );
    let response = server.gql(Some(token), &query, json!({})).await;
    assert_no_errors(&response);
    response["data"]["statistics"].clone()
}

fn as_rows(statistics: &Value) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (kind, list) in [("cell", "cells"), ("total", "totals")] {
        for cell in statistics[list].as_array().into_iter().flatten() {
            let text = |name: &str| cell[name].as_str().unwrap_or_default().to_owned();
            rows.push(vec![
                kind.to_owned(),
                text("regionCode"),
                text("regionName"),
                text("period"),
                text("category"),
                text("value"),
                cell["suppressed"].to_string(),
            ]);
        }
    }
    rows
}

#[tokio::test]
async fn the_file_holds_what_the_api_answers() {
    let server = shared_demo().await;
    let (status, content_type, file) = export(
        &server.base,
        Some(&admin()),
        "measure=REGISTERED_VOLUNTEERS&groupBy=REGION,CATEGORY&regionLevel=DISTRICT&withTotals=true",
    )
    .await;
    assert_eq!(status, 200, "{file}");
    assert_eq!(content_type.as_deref(), Some("text/csv; charset=utf-8"));
    let rows = rows(&file);
    assert_eq!(rows[0], ["row", "region_code", "region_name", "period", "category", "value", "suppressed"]);
    let expected = statistics(
        &admin(),
        "measure: REGISTERED_VOLUNTEERS, groupBy: [REGION, CATEGORY], regionLevel: DISTRICT, withTotals: true",
    )
    .await;
    assert_eq!(rows[1..], as_rows(&expected)[..]);
    assert!(rows.iter().any(|row| row[2] == "定海区"), "Chinese names survive: {rows:?}");
}

#[tokio::test]
async fn partners_get_suppressed_cells_empty_and_the_read_is_audited() {
    let server = shared_demo().await;
    let partner = token_for("partner-export", &["partner"], CITY);
    let (status, _, file) = export(
        &server.base,
        Some(&partner),
        "measure=CARE_SUBJECTS&groupBy=REGION,PERIOD&regionLevel=DISTRICT&period=YEAR",
    )
    .await;
    assert_eq!(status, 200, "{file}");
    let rows = rows(&file);
    let expected = statistics(
        &partner,
        "measure: CARE_SUBJECTS, groupBy: [REGION, PERIOD], regionLevel: DISTRICT, period: YEAR",
    )
    .await;
    assert_eq!(rows[1..], as_rows(&expected)[..]);
    let suppressed: Vec<&Vec<String>> = rows[1..].iter().filter(|row| row[6] == "true").collect();
    assert!(!suppressed.is_empty());
    assert!(suppressed.iter().all(|row| row[5].is_empty()), "a suppressed cell has no value: {suppressed:?}");
    // What partners may not ask over GraphQL they may not ask here.
    let (status, _, body) =
        export(&server.base, Some(&partner), "measure=CARE_SUBJECTS&groupBy=PERIOD&period=DAY").await;
    assert_eq!(status, 403, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    let auditor = token_for("auditor-1", &["auditor"], CITY);
    let events = server
        .gql(
            Some(&auditor),
            r#"{ auditEvents(first: 10, filter: { actor: "partner-export" }) { nodes { entityType detail } } }"#,
            json!({}),
        )
        .await;
    let details = events["data"]["auditEvents"]["nodes"].to_string();
    assert!(details.contains("CareSubjects") && details.contains("statistics"), "{details}");
}

#[tokio::test]
async fn bad_requests_are_refused_with_a_code_and_a_status() {
    let server = shared_demo().await;
    let partner = token_for("partner-export-2", &["partner"], CITY);
    for (token, query, status, code) in [
        (None, "measure=CARE_SUBJECTS", 401, "UNAUTHENTICATED"),
        (Some(admin()), "groupBy=REGION", 400, "BAD_USER_INPUT"),
        (Some(admin()), "measure=NO_SUCH_MEASURE", 400, "BAD_USER_INPUT"),
        (Some(admin()), "measure=CARE_SUBJECTS&year=soon", 400, "BAD_USER_INPUT"),
        (Some(admin()), "measure=CARE_SUBJECTS&colour=blue", 400, "BAD_USER_INPUT"),
        (
            Some(partner.clone()),
            "measure=CARE_SUBJECTS&groupBy=REGION,PERIOD,CATEGORY&regionLevel=COMMUNITY&period=MONTH",
            400,
            "QUERY_TOO_COMPLEX",
        ),
    ] {
        let (got, _, body) = export(&server.base, token.as_deref(), query).await;
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{query}: {body}"));
        assert_eq!((got, error_codes(&body)), (status, vec![code.to_owned()]), "{query}: {body}");
    }
}

/// Volunteers with personal fields, a nested object, a plain list and an alias: the rows of most tests below.
const VOLUNTEERS: &str = "query Volunteers($first: Int, $after: String) { volunteers(first: $first, after: $after) { \
    totalCount pageInfo { hasNextPage endCursor } nodes { id code fullName: name phone status \
    grid { code name parent { name } } teams { role } } } }";

/// Registers `query` as an automatically persisted query and returns its id (as an administrator of its own,
/// so that registering takes from no test's rate-limit bucket).
async fn persist(server: &TestServer, query: &str) -> String {
    let hash = sha256_hex(query);
    let registrar = token_for(&format!("registrar-{}", &hash[..12]), &["admin"], CITY);
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(registrar)
        .json(&json!({ "query": query, "variables": { "first": 1 },
            "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"].is_null() || error_codes(&body).iter().all(|code| code != "BAD_USER_INPUT"),
        "{body}"
    );
    hash
}

/// What `GET /export/query.csv` answered: status, headers, and the body, or what came of it before the error
/// that broke it off.
struct Export {
    status: u16,
    content_type: String,
    row_limit: Option<String>,
    body: Result<String, (String, reqwest::Error)>,
}

async fn export_query(server: &TestServer, token: Option<&str>, parameters: &[(&str, &str)]) -> Export {
    let mut request =
        reqwest::Client::new().get(format!("{}/export/query.csv", server.base)).query(parameters);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    let (content_type, row_limit) =
        (header("content-type").unwrap_or_default(), header("x-export-row-limit"));
    let status = response.status().as_u16();
    let mut response = response;
    let mut received = Vec::new();
    let body = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => break Ok(String::from_utf8(received).unwrap()),
            Err(err) => break Err((String::from_utf8_lossy(&received).into_owned(), err)),
        }
    };
    Export { status, content_type, row_limit, body }
}

/// The records of a CSV file (quoted fields with doubled quotes, CRLF line ends), without its byte-order mark.
fn records(file: &str) -> Vec<Vec<String>> {
    let body = file.strip_prefix('\u{feff}').expect("a byte-order mark first");
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = body.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(record.is_empty() && field.is_empty(), "the file ends with a line end");
    records
}

/// The cells of the volunteers' columns, as the export renders a node.
fn volunteer_row(node: &Value) -> Vec<String> {
    let text = |value: &Value| match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    vec![
        text(&node["id"]),
        text(&node["code"]),
        text(&node["fullName"]),
        text(&node["phone"]),
        text(&node["status"]),
        text(&node["grid"]["code"]),
        text(&node["grid"]["name"]),
        text(&node["grid"]["parent"]["name"]),
        node["teams"].to_string(),
    ]
}

/// Every page the API answers `token` for `query` by hash, from the first on: the rows and the number of pages.
async fn api_pages(server: &TestServer, token: &str, hash: &str, first: u64) -> (Vec<Vec<String>>, u64) {
    let (mut rows, mut pages, mut after) = (Vec::new(), 0, Value::Null);
    loop {
        let response = reqwest::Client::new()
            .post(format!("{}/graphql", server.base))
            .bearer_auth(token)
            .json(&json!({ "variables": { "first": first, "after": after },
                "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_no_errors(&body);
        pages += 1;
        let connection = &body["data"]["volunteers"];
        rows.extend(connection["nodes"].as_array().unwrap().iter().map(volunteer_row));
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            return (rows, pages);
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn a_query_export_holds_the_pages_the_api_answers_the_same_token() {
    let server = shared_demo().await;
    let hash = persist(server, VOLUNTEERS).await;
    let officer = token_for("export-officer", &["officer"], CITY);
    let analyst = token_for("export-analyst", &["analyst"], CITY);
    let district = token_for("export-district", &["officer"], "330902");
    let mut city_rows = 0;
    for (token, who) in [(&officer, "officer"), (&analyst, "analyst"), (&district, "district")] {
        let export =
            export_query(server, Some(token), &[("id", &hash), ("variables", r#"{"first": 37}"#)]).await;
        assert_eq!((export.status, export.content_type.as_str()), (200, "text/csv; charset=utf-8"), "{who}");
        let file = export.body.unwrap();
        let rows = records(&file);
        assert_eq!(
            rows[0],
            [
                "id",
                "code",
                "fullName",
                "phone",
                "status",
                "grid.code",
                "grid.name",
                "grid.parent.name",
                "teams"
            ]
        );
        let (expected, pages) = api_pages(server, token, &hash, 37).await;
        assert!(pages >= 3, "{who}: the export spans several pages ({pages})");
        assert_eq!(rows[1..], expected[..], "{who}: the rows are the union of the API's pages");
        let names: Vec<&str> = rows[1..].iter().map(|row| row[2].as_str()).collect();
        match who {
            "officer" => {
                city_rows = rows.len() - 1;
                assert!(names.iter().all(|name| !name.contains('*')), "officers read names in clear");
            }
            // Analysts get what the API gives them: names masked as 张*.
            "analyst" => assert!(names.iter().all(|name| name.ends_with('*')), "{names:?}"),
            _ => {
                assert!(rows[1..].iter().all(|row| row[5].starts_with("330902")), "only the district's rows");
                assert!(rows.len() - 1 < city_rows, "a district has fewer volunteers than the city");
            }
        }
    }
    // The officer's reads are in the audit trail, page by page under the export's request.
    let auditor = token_for("auditor-1", &["auditor"], CITY);
    let events = server
        .gql(
            Some(&auditor),
            r#"{ auditEvents(first: 100, filter: { actor: "export-officer" }) { nodes { entityType requestId
                recordsConnection(first: 1) { totalCount } } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&events);
    let nodes = events["data"]["auditEvents"]["nodes"].as_array().unwrap().clone();
    let mut read_by_request = std::collections::BTreeMap::<(String, String), (u64, i64)>::new();
    for event in &nodes {
        let key = (
            event["requestId"].as_str().unwrap().to_owned(),
            event["entityType"].as_str().unwrap().to_owned(),
        );
        let entry = read_by_request.entry(key).or_default();
        entry.0 += 1;
        entry.1 += event["recordsConnection"]["totalCount"].as_i64().unwrap();
    }
    let pages = u64::try_from(city_rows.div_ceil(37)).unwrap();
    let city_rows = i64::try_from(city_rows).unwrap();
    assert!(
        read_by_request.values().any(|(events, records)| *events == pages && *records == city_rows),
        "one request with an event per page and every row's record among them: {read_by_request:?}"
    );
}

/// A token (or none), the export's parameters, the HTTP status and code it gets, and words of its message.
type RefusalCase<'a> = (Option<String>, Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);

#[tokio::test]
async fn a_query_export_is_refused_like_the_api_with_a_code_and_a_status() {
    let server = shared_demo().await;
    let volunteers = persist(server, VOLUNTEERS).await;
    let no_connection = persist(server, "{ region(code: \"330902\") { code name } }").await;
    let no_page_info =
        persist(server, "query($after: String) { regions(after: $after) { nodes { code } } }").await;
    let fixed_cursor =
        persist(server, "{ regions(first: 5) { pageInfo { hasNextPage endCursor } nodes { code } } }").await;
    let risks = persist(
        server,
        "query($after: String) { careSubjects(first: 10, after: $after) { pageInfo { hasNextPage endCursor } \
         nodes { code currentRiskLevel } } }",
    )
    .await;
    let unknown = sha256_hex("{ never { registered } }");
    let analyst = token_for("export-analyst-2", &["analyst"], CITY);
    let variables = r#"{"first": 10}"#;
    let cases: Vec<RefusalCase<'_>> = vec![
        (None, vec![("id", &volunteers)], 401, "UNAUTHENTICATED", ""),
        (Some(admin()), vec![("variables", variables)], 400, "BAD_USER_INPUT", "`id` is required"),
        (Some(admin()), vec![("id", "volunteers")], 400, "BAD_USER_INPUT", "64 hex digits"),
        (Some(admin()), vec![("id", &unknown)], 404, "PERSISTED_QUERY_NOT_FOUND", ""),
        (
            Some(admin()),
            vec![("id", &volunteers), ("variables", "{first: 1}")],
            400,
            "BAD_USER_INPUT",
            "JSON",
        ),
        (
            Some(admin()),
            vec![("id", &volunteers), ("variables", r#"{"first": "ten"}"#)],
            400,
            "BAD_USER_INPUT",
            "",
        ),
        (
            Some(admin()),
            vec![("id", &volunteers), ("variables", r#"{"first": 501}"#)],
            400,
            "BAD_USER_INPUT",
            "",
        ),
        (Some(admin()), vec![("id", &no_connection)], 400, "BAD_USER_INPUT", "no connection"),
        (
            Some(admin()),
            vec![("id", &no_page_info)],
            400,
            "BAD_USER_INPUT",
            "pageInfo { hasNextPage endCursor }",
        ),
        (Some(admin()), vec![("id", &fixed_cursor)], 400, "BAD_USER_INPUT", "from a variable"),
        // A field the API refuses: its error, before any row.
        (Some(analyst.clone()), vec![("id", &risks)], 403, "FORBIDDEN", ""),
    ];
    for (token, parameters, status, code, says) in cases {
        let export = export_query(server, token.as_deref(), &parameters).await;
        let body = export.body.unwrap();
        let json: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{parameters:?}: {body}"));
        assert_eq!((export.status, error_codes(&json)[0].as_str()), (status, code), "{parameters:?}: {body}");
        assert!(json["errors"][0]["message"].as_str().unwrap().contains(says), "{parameters:?}: {body}");
        assert!(json["data"].is_null(), "no rows leave with a refusal: {body}");
    }
    // A mutation is never run by an export.
    let mutation = persist(server, "mutation { __typename }").await;
    let export = export_query(server, Some(&admin()), &[("id", &mutation)]).await;
    assert_eq!(export.status, 400, "{:?}", export.body);
    // POST takes the same request as JSON, and only JSON.
    let response = reqwest::Client::new()
        .post(format!("{}/export/query.csv", server.base))
        .bearer_auth(admin())
        .json(&json!({ "id": volunteers, "variables": { "first": 200 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let file = response.text().await.unwrap();
    let (expected, _) = api_pages(server, &admin(), &volunteers, 200).await;
    assert_eq!(records(&file)[1..], expected[..]);
    let response = reqwest::Client::new()
        .post(format!("{}/export/query.csv", server.base))
        .bearer_auth(admin())
        .body(format!("id={volunteers}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
}

/// The townships, public to every role.
const TOWNSHIPS: &str = "query Townships($first: Int, $after: String) { regions(level: TOWNSHIP, first: $first, \
    after: $after) { pageInfo { hasNextPage endCursor } edges { node { code name level parent { code } } } } }";

/// Every region (over 2,000 at any scale of the demo data).
const REGIONS: &str = "query Regions($first: Int, $after: String) { regions(first: $first, after: $after) { \
    pageInfo { hasNextPage endCursor } nodes { code name parent { code name } } } }";

fn allow_list_file(queries: &[&str]) -> PathBuf {
    let entries: serde_json::Map<String, Value> =
        queries.iter().map(|query| (sha256_hex(query), Value::from(*query))).collect();
    let dir = std::env::temp_dir().join("govgraph-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("export-allow-list-{}.json", std::process::id()));
    std::fs::write(&path, Value::Object(entries).to_string()).unwrap();
    path
}

#[tokio::test]
async fn the_row_limit_cuts_with_a_line_saying_so_and_each_page_costs_its_own_statements() {
    let limits = QueryLimits { max_export_rows: 250, ..test_limits() };
    let traffic = TrafficArgs {
        rate_limits: RateLimitArgs::off(),
        persisted: PersistedQueryArgs {
            persisted_queries: Some(allow_list_file(&[TOWNSHIPS])),
            ..Default::default()
        },
        ..TrafficArgs::default()
    };
    let config = ServerConfig { limits, traffic: Some(traffic), ..ServerConfig::default() };
    let server = TestServer::start_with_config(Fixture::Demo(0.01), config).await;
    let townships = sha256_hex(TOWNSHIPS);
    let regions = persist(&server, REGIONS).await;
    let volunteers = persist(&server, VOLUNTEERS).await;
    let partner = token_for("export-partner", &["partner"], CITY);
    // The token's region is looked up once, by its first request.
    assert_no_errors(&server.gql(Some(&partner), TOWNSHIPS, json!({ "first": 1 })).await);

    // Under the limit: every row, and no line after them. The rows are what the API pages give, at the same
    // statements: two per page.
    let mut expected = Vec::new();
    let mut after = Value::Null;
    let before = server.statement_count();
    let mut pages = 0;
    loop {
        let body = server.gql(Some(&partner), TOWNSHIPS, json!({ "first": 10, "after": after })).await;
        assert_no_errors(&body);
        pages += 1;
        let connection = &body["data"]["regions"];
        for edge in connection["edges"].as_array().unwrap() {
            let node = &edge["node"];
            expected.push(
                [&node["code"], &node["name"], &node["level"], &node["parent"]["code"]]
                    .map(|value| value.as_str().unwrap_or_default().to_owned())
                    .to_vec(),
            );
        }
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    let api_statements = server.statement_count() - before;
    assert!(pages >= 3 && expected.len() < 250, "{pages} pages, {} rows", expected.len());
    let before = server.statement_count();
    let export =
        export_query(&server, Some(&partner), &[("id", &townships), ("variables", r#"{"first": 10}"#)]).await;
    let export_statements = server.statement_count() - before;
    assert_eq!(export.status, 200);
    assert_eq!(export.row_limit.as_deref(), Some("250"));
    let file = records(&export.body.unwrap());
    assert_eq!(file[0], ["code", "name", "level", "parent.code"]);
    assert_eq!(file[1..], expected[..]);
    assert_eq!(export_statements, api_statements, "one statement set per page, as the API runs each page");

    // Over the limit: 250 rows, then one line a spreadsheet shows and a script can test.
    let export =
        export_query(&server, Some(&admin()), &[("id", &regions), ("variables", r#"{"first": 100}"#)]).await;
    assert_eq!(export.status, 200);
    let file = records(&export.body.unwrap());
    assert_eq!(file.len(), 1 + 250 + 1);
    let last = file.last().unwrap();
    assert_eq!(last.len(), 1);
    assert!(last[0].starts_with("TRUNCATED: the export stops at its limit of 250 rows"), "{last:?}");

    // Partners are held to the allow-list here as on /graphql: the allow-listed query runs, another is refused.
    let export = export_query(&server, Some(&partner), &[("id", &volunteers)]).await;
    assert_eq!(export.status, 403, "{:?}", export.body);
    let body: Value = serde_json::from_str(&export.body.unwrap()).unwrap();
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
}

#[tokio::test]
async fn an_export_that_fails_after_its_first_rows_breaks_the_transfer_and_takes_one_rate_limit_token() {
    // 500 ms for the whole export: one region per page, over 2,000 pages, cannot finish in time.
    let limits = QueryLimits { request_timeout_ms: 500, ..test_limits() };
    let traffic = TrafficArgs {
        rate_limits: RateLimitArgs {
            rate_limit_per_second: 0.001,
            rate_limit_burst: 2,
            ..RateLimitArgs::off()
        },
        ..TrafficArgs::default()
    };
    let config = ServerConfig { limits, traffic: Some(traffic), ..ServerConfig::default() };
    let server = TestServer::start_with_config(Fixture::Demo(0.01), config).await;
    let townships = persist(&server, TOWNSHIPS).await;
    let regions = persist(&server, REGIONS).await;
    let reader = token_for("export-slow", &["analyst"], CITY);
    let export =
        export_query(&server, Some(&reader), &[("id", &regions), ("variables", r#"{"first": 1}"#)]).await;
    assert_eq!(export.status, 200, "the first page came in time");
    let (received, error) =
        export.body.expect_err("the transfer is broken off, not ended like a complete file");
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    let lines: Vec<&str> = received.split("\r\n").collect();
    assert_eq!(lines[0], "\u{feff}code,name,parent.code,parent.name");
    assert!(lines.len() > 2, "rows came before the error: {received}");

    // An export of several pages takes one token from the caller's bucket (a burst of 2 here), not one a page.
    let burst = token_for("export-burst", &["analyst"], CITY);
    for _ in 0..2 {
        let export =
            export_query(&server, Some(&burst), &[("id", &townships), ("variables", r#"{"first": 10}"#)])
                .await;
        assert_eq!(export.status, 200);
        assert!(records(&export.body.unwrap()).len() > 21, "several pages");
    }
    let export = export_query(&server, Some(&burst), &[("id", &townships)]).await;
    assert_eq!(export.status, 429);
}

/// PostgreSQL only: the database taken away (no new connections, the open ones terminated) in the middle of an
/// export breaks the transfer off. SQLite is a file inside the process, with no connection to lose.
#[tokio::test]
async fn a_database_outage_in_the_middle_of_an_export_breaks_the_transfer() {
    let Some(admin_url) = std::env::var("DATABASE_URL").ok().filter(|url| url.starts_with("postgres")) else {
        eprintln!("DATABASE_URL is not PostgreSQL: the outage test needs a database server to take away");
        return;
    };
    // Time enough for every page, so that only the outage can stop the export.
    let limits = QueryLimits { request_timeout_ms: 300_000, ..test_limits() };
    let server = TestServer::start_with_limits(Fixture::Demo(0.01), limits).await;
    let regions = persist(&server, REGIONS).await;
    let reader = token_for("export-outage", &["analyst"], CITY);
    let mut response = reqwest::Client::new()
        .get(format!("{}/export/query.csv", server.base))
        .query(&[("id", regions.as_str()), ("variables", r#"{"first": 1}"#)])
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut received = response.chunk().await.unwrap().unwrap().to_vec();
    assert!(received.starts_with("\u{feff}code,name".as_bytes()));

    let name = server.db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let admin = Database::connect(admin_url.as_str()).await.unwrap();
    admin.execute_unprepared(&format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS false"#)).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    let outcome = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => break None,
            Err(err) => break Some(err),
        }
    };
    admin.execute_unprepared(&format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS true"#)).await.unwrap();
    admin.close().await.ok();
    let lines = received.split(|byte| *byte == b'\n').count();
    assert!(outcome.is_some(), "the file ended as if complete after {lines} lines");
    assert!(lines < 2_000, "the outage came before the last pages: {lines} lines");
}
