//! `GET /export/statistics.csv`: the same figures as `statistics`, under the same token, scope, disclosure control
//! and audit, as a UTF-8 file with a byte-order mark.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{CITY, admin, assert_no_errors, error_codes, shared_demo, token_for};
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
