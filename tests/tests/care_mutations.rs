//! Mutations of the care domain over HTTP: registration with the category profile, risk assessments, visits,
//! care groups and release from community corrections. Each validates (naming the field), checks right and
//! scope, writes its audit event in its own transaction, and answers duplicates and wrong states with CONFLICT.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use chrono::{Months, NaiveDate, TimeDelta, Utc};
use govgraph::audit::chain::{ChainReport, verify};
use govgraph_tests::{
    Fixture, TestServer, admin, assert_no_errors, count, error_codes, sign_hs256, token_for,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const PURPOSE: (&str, &str) = ("x-access-purpose", "case management");

/// Row counts of every table a care mutation writes, and of the audit trail.
async fn footprint(server: &TestServer) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "care_subject",
        "mental_health_profile",
        "correction_profile",
        "youth_profile",
        "risk_assessment",
        "care_visit",
        "care_group_member",
        "audit_event",
        "audit_event_record",
    ] {
        counts.push(count(server, &format!("SELECT COUNT(*) FROM {table}")).await);
    }
    counts.push(count(server, "SELECT COUNT(*) FROM correction_profile WHERE status = 'RELEASED'").await);
    counts.push(count(server, "SELECT COUNT(*) FROM care_subject WHERE status = 'CLOSED'").await);
    counts
}

/// A care worker of the 330902001 township.
fn care_worker() -> String {
    token_for("care-1", &["care_worker"], "330902001")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn years_ago(years: u32) -> NaiveDate {
    today().checked_sub_months(Months::new(12 * years)).unwrap()
}

/// A well-formed identity card number of a person born on `birth`.
fn id_number(birth: NaiveDate, sequence: u32) -> String {
    let body = format!("330902{}{sequence:03}", birth.format("%Y%m%d"));
    let check = govgraph::validate::id_check_char(&body).unwrap();
    format!("{body}{check}")
}

async fn a_grid(server: &TestServer, within: &str) -> String {
    let response = server
        .gql(
            Some(&admin()),
            "query($r: String) { regions(level: GRID, inRegion: $r, first: 1) { edges { node { code } } } }",
            json!({ "r": within }),
        )
        .await;
    response["data"]["regions"]["edges"][0]["node"]["code"].as_str().unwrap().to_owned()
}

fn smd_input(grid: &str, birth: NaiveDate, sequence: u32, record_no: &str) -> Value {
    json!({
        "category": "SEVERE_MENTAL_DISORDER", "name": "陈国栋", "gender": "MALE",
        "idNumber": id_number(birth, sequence), "birthDate": birth.to_string(), "phone": "13905801111",
        "address": "舟山市定海区环城南路88号", "gridCode": grid,
        "mentalHealth": {
            "healthRecordNo": format!("EHR-T-{record_no}"), "diagnosis": "精神分裂症", "foundBy": "常规筛查",
            "guardianName": "陈建华", "guardianPhone": "13905802222", "guardianRelation": "父亲",
            "guardianInsured": true, "insurancePolicyNo": format!("JHZR-T-{record_no}"),
            "insuranceExpiresOn": "2027-12-31"
        }
    })
}

fn correction_input(grid: &str, birth: NaiveDate, sequence: u32) -> Value {
    let start = today() - TimeDelta::days(100);
    json!({
        "category": "COMMUNITY_CORRECTION", "name": "李明", "gender": "MALE",
        "idNumber": id_number(birth, sequence), "birthDate": birth.to_string(),
        "address": "舟山市定海区人民北路1号", "gridCode": grid,
        "correction": {
            "correctionType": "PROBATION", "offence": "危险驾驶罪", "receivedOn": start.to_string(),
            "supervisionStart": start.to_string(), "supervisionEnd": (start + TimeDelta::days(365)).to_string()
        }
    })
}

fn youth_input(grid: &str, birth: NaiveDate, sequence: u32, kind: &str) -> Value {
    json!({
        "category": "AT_RISK_YOUTH", "name": "王小军", "gender": "MALE",
        "idNumber": id_number(birth, sequence), "birthDate": birth.to_string(),
        "address": "舟山市定海区解放西路5号", "gridCode": grid,
        "youth": { "youthKind": kind, "schoolStatus": "DROPPED_OUT", "guardianName": "王大海",
                   "guardianPhone": "13905803333" }
    })
}

/// `input` with the value at JSON pointer `pointer` (whose parent exists) replaced.
fn with(input: &Value, pointer: &str, value: Value) -> Value {
    let mut changed = input.clone();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    changed.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.to_owned(), value);
    changed
}

const REGISTER: &str = "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) {
  id code category name birthDate status registeredOn grid { code }
  mentalHealthProfile { healthRecordNo foundBy guardianInsured insurancePolicyNo insuranceExpiresOn }
  correctionProfile { correctionType status supervisionStart releasedOn }
  youthProfile { schoolStatus } } }";

/// Registers a subject as `token` and returns its global ID.
async fn register(server: &TestServer, token: &str, input: Value) -> String {
    let response = server.gql(Some(token), REGISTER, json!({ "input": input })).await;
    assert_no_errors(&response);
    response["data"]["registerCareSubject"]["id"].as_str().unwrap().to_owned()
}

/// The database id behind a global ID (URL-safe base64 of `Type:id`).
fn db_id(global: &str) -> i64 {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut bits, mut width, mut raw) = (0u32, 0u32, Vec::new());
    for c in global.bytes() {
        bits = (bits << 6) | ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        width += 6;
        if width >= 8 {
            width -= 8;
            raw.push((bits >> width) as u8);
            bits &= (1 << width) - 1;
        }
    }
    String::from_utf8(raw).unwrap().rsplit_once(':').unwrap().1.parse().unwrap()
}

/// `id` with a wrong check character.
fn broken(id: &str) -> String {
    let wrong = if id.ends_with('0') { '1' } else { '0' };
    format!("{}{wrong}", &id[..17])
}

/// Asserts that the newest event of `action` names exactly `records` and that the chain is intact.
async fn assert_audited(server: &TestServer, action: &str, records: &[(&str, i64)]) {
    let event = count(server, &format!("SELECT MAX(id) FROM audit_event WHERE action = '{action}'")).await;
    let db = server.db.connect().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT entity_type, entity_id FROM audit_event_record WHERE event_id = {event} \
                 ORDER BY entity_type, entity_id"
            ),
        ))
        .await
        .unwrap();
    let mut found: Vec<(String, i64)> =
        rows.iter().map(|row| (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap())).collect();
    found.sort();
    let mut expected: Vec<(String, i64)> =
        records.iter().map(|(kind, id)| ((*kind).to_owned(), *id)).collect();
    expected.sort();
    assert_eq!(found, expected, "records of the newest {action} event");
    assert!(matches!(verify(&db).await.unwrap(), ChainReport::Intact { .. }));
}

/// Asserts that `query` fails with `code` as `token` and leaves every care table and the audit trail as
/// they were.
async fn refused(server: &TestServer, token: Option<&str>, query: &str, variables: Value, code: &str) {
    let before = footprint(server).await;
    let response = server.gql(token, query, variables).await;
    assert_eq!(error_codes(&response), [code], "{response}");
    assert_eq!(footprint(server).await, before, "nothing written: {response}");
}

/// Asserts a `BAD_USER_INPUT` naming `field`, with nothing written.
async fn bad_input(server: &TestServer, token: &str, query: &str, variables: Value, field: &str) {
    let before = footprint(server).await;
    let response = server.gql(Some(token), query, variables).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{field}: {response}");
    assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response}");
    assert_eq!(footprint(server).await, before, "nothing written: {response}");
}

#[tokio::test]
async fn registration_of_each_category() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = care_worker();
    let grid = a_grid(&server, "330902001").await;
    let subjects_before = count(&server, "SELECT COUNT(*) FROM care_subject").await;

    let birth = NaiveDate::from_ymd_opt(1978, 4, 9).unwrap();
    let response =
        server.gql(Some(&token), REGISTER, json!({ "input": smd_input(&grid, birth, 911, "1") })).await;
    assert_no_errors(&response);
    let smd = &response["data"]["registerCareSubject"];
    assert_eq!(smd["category"], "SEVERE_MENTAL_DISORDER");
    assert_eq!(smd["name"], "陈国栋");
    assert_eq!(smd["birthDate"], "1978-04-09");
    assert_eq!(smd["status"], "ACTIVE");
    assert_eq!(smd["grid"]["code"], grid.as_str());
    assert_eq!(
        smd["mentalHealthProfile"],
        json!({ "healthRecordNo": "EHR-T-1", "foundBy": "常规筛查", "guardianInsured": true,
                "insurancePolicyNo": "JHZR-T-1", "insuranceExpiresOn": "2027-12-31" })
    );
    assert_eq!(smd["correctionProfile"], Value::Null);
    assert_eq!(smd["youthProfile"], Value::Null);
    let smd_id = db_id(smd["id"].as_str().unwrap());
    assert_eq!(smd["code"], format!("CS{smd_id:07}"), "the case code follows the row id");
    let row = count(
        &server,
        &format!(
            "SELECT COUNT(*) FROM care_subject s JOIN mental_health_profile p ON p.subject_id = s.id \
             WHERE s.id = {smd_id} AND s.code = 'CS{smd_id:07}' AND s.category = 'SEVERE_MENTAL_DISORDER' \
             AND s.status = 'ACTIVE' AND s.current_risk_level IS NULL AND p.health_record_no = 'EHR-T-1'"
        ),
    )
    .await;
    assert_eq!(row, 1);
    assert_audited(&server, "registerCareSubject", &[("care_subject", smd_id)]).await;

    let response = server
        .gql(
            Some(&token),
            REGISTER,
            json!({ "input": correction_input(&grid, NaiveDate::from_ymd_opt(1985, 1, 20).unwrap(), 912) }),
        )
        .await;
    assert_no_errors(&response);
    let corrections = &response["data"]["registerCareSubject"];
    assert_eq!(corrections["category"], "COMMUNITY_CORRECTION");
    assert_eq!(corrections["correctionProfile"]["status"], "UNDER_SUPERVISION");
    assert_eq!(corrections["correctionProfile"]["correctionType"], "PROBATION");
    assert_eq!(corrections["correctionProfile"]["releasedOn"], Value::Null);
    assert_eq!(corrections["mentalHealthProfile"], Value::Null);

    let youth_birth = years_ago(17);
    let response = server
        .gql_with_headers(
            Some(&token),
            &[PURPOSE],
            "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) {
               id category youthProfile { youthKind schoolStatus guardianName } } }",
            json!({ "input": youth_input(&grid, youth_birth, 913, "IDLE") }),
        )
        .await;
    assert_no_errors(&response);
    let youth = &response["data"]["registerCareSubject"];
    assert_eq!(
        youth["youthProfile"],
        json!({ "youthKind": "IDLE", "schoolStatus": "DROPPED_OUT", "guardianName": "王大海" })
    );
    assert_eq!(count(&server, "SELECT COUNT(*) FROM care_subject").await, subjects_before + 3);

    // One registration per person and category: the same number again is a conflict (typed with spaces too),
    // the same person in another category is not.
    let again = smd_input(&grid, birth, 911, "2");
    let again = with(&again, "/idNumber", json!(format!(" {} ", id_number(birth, 911))));
    refused(&server, Some(&token), REGISTER, json!({ "input": again }), "CONFLICT").await;
    let mut other_category = correction_input(&grid, birth, 911);
    other_category["name"] = json!("陈国栋");
    register(&server, &token, other_category).await;
    // A health record number is on file once.
    let same_record = smd_input(&grid, NaiveDate::from_ymd_opt(1979, 5, 10).unwrap(), 914, "1");
    refused(&server, Some(&token), REGISTER, json!({ "input": same_record }), "CONFLICT").await;

    let registered = count(
        &server,
        "SELECT COUNT(*) FROM audit_event WHERE action = 'registerCareSubject' AND actor = 'care-1'",
    )
    .await;
    assert_eq!(registered, 4);

    // Youth are 14 to 25 years old.
    register(&server, &token, youth_input(&grid, years_ago(14), 915, "BEHAVIOURAL_RISK")).await;
    register(&server, &token, youth_input(&grid, years_ago(25), 916, "INTELLECTUALLY_DISABLED")).await;
}

#[tokio::test]
async fn registration_refuses_bad_input_rights_and_scope() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = care_worker();
    let grid = a_grid(&server, "330902001").await;
    let outside_grid = a_grid(&server, "330922").await;
    let birth = NaiveDate::from_ymd_opt(1980, 2, 29).unwrap();
    let smd = smd_input(&grid, birth, 921, "21");
    let correction = correction_input(&grid, birth, 922);
    let youth = youth_input(&grid, years_ago(18), 923, "IDLE");
    let future = (today() + TimeDelta::days(3)).to_string();
    let correction_profile = correction["correction"].clone();
    let youth_profile = youth["youth"].clone();
    let mental_profile = smd["mentalHealth"].clone();
    for (input, field) in [
        (with(&smd, "/name", json!(" ")), "input.name"),
        (with(&smd, "/idNumber", json!(broken(&id_number(birth, 921)))), "input.idNumber"),
        (with(&smd, "/birthDate", json!("1980-03-01")), "input.birthDate"),
        (with(&smd, "/phone", json!("0580-2021234")), "input.phone"),
        (with(&smd, "/address", json!("")), "input.address"),
        (with(&smd, "/address", json!("路".repeat(256))), "input.address"),
        (with(&smd, "/gridCode", json!(outside_grid)), "input.gridCode"),
        (with(&smd, "/gridCode", json!("330902001")), "input.gridCode"),
        (with(&smd, "/mentalHealth", Value::Null), "input.mentalHealth"),
        (with(&smd, "/correction", correction_profile.clone()), "input.correction"),
        (with(&smd, "/youth", youth_profile.clone()), "input.youth"),
        (with(&correction, "/mentalHealth", mental_profile), "input.mentalHealth"),
        (with(&correction, "/correction", Value::Null), "input.correction"),
        (with(&youth, "/youth", Value::Null), "input.youth"),
        (with(&youth, "/correction", correction_profile), "input.correction"),
        (with(&smd, "/mentalHealth/healthRecordNo", json!(" ")), "input.mentalHealth.healthRecordNo"),
        (with(&smd, "/mentalHealth/diagnosis", json!("")), "input.mentalHealth.diagnosis"),
        (with(&smd, "/mentalHealth/foundBy", json!("")), "input.mentalHealth.foundBy"),
        (with(&smd, "/mentalHealth/guardianName", json!("")), "input.mentalHealth.guardianName"),
        (with(&smd, "/mentalHealth/guardianPhone", json!("12345")), "input.mentalHealth.guardianPhone"),
        (with(&smd, "/mentalHealth/guardianRelation", json!("")), "input.mentalHealth.guardianRelation"),
        (with(&smd, "/mentalHealth/insurancePolicyNo", Value::Null), "input.mentalHealth.insurancePolicyNo"),
        (
            with(&smd, "/mentalHealth/insuranceExpiresOn", Value::Null),
            "input.mentalHealth.insuranceExpiresOn",
        ),
        (with(&smd, "/mentalHealth/guardianInsured", json!(false)), "input.mentalHealth.insurancePolicyNo"),
        (with(&correction, "/correction/offence", json!(" ")), "input.correction.offence"),
        (with(&correction, "/correction/receivedOn", json!(future)), "input.correction.receivedOn"),
        (
            with(
                &correction,
                "/correction/supervisionEnd",
                correction["correction"]["supervisionStart"].clone(),
            ),
            "input.correction.supervisionEnd",
        ),
        (with(&youth, "/youth/guardianName", json!("")), "input.youth.guardianName"),
        (with(&youth, "/youth/guardianPhone", json!("1390580333")), "input.youth.guardianPhone"),
        (
            with(
                &with(&youth, "/birthDate", json!(years_ago(13).to_string())),
                "/idNumber",
                json!(id_number(years_ago(13), 924)),
            ),
            "input.birthDate",
        ),
        (
            with(
                &with(&youth, "/birthDate", json!(years_ago(26).to_string())),
                "/idNumber",
                json!(id_number(years_ago(26), 925)),
            ),
            "input.birthDate",
        ),
    ] {
        bad_input(&server, &token, REGISTER, json!({ "input": input }), field).await;
    }

    // Rights: analysts, partners and grid workers may not register; without a token it is UNAUTHENTICATED.
    for role in ["analyst", "partner", "grid_worker", "mentor_coordinator"] {
        let other = token_for("other", &[role], "330902001");
        refused(&server, Some(&other), REGISTER, json!({ "input": smd.clone() }), "FORBIDDEN").await;
    }
    refused(&server, None, REGISTER, json!({ "input": smd.clone() }), "UNAUTHENTICATED").await;
    register(&server, &token, smd).await;
}

/// A subject registered by an administrator in the 330922 county, outside the care worker's township.
async fn outside_subject(server: &TestServer, input: Value) -> String {
    let grid = a_grid(server, "330922").await;
    register(server, &admin(), with(&input, "/gridCode", json!(grid))).await
}

const ASSESS: &str = "mutation($s: ID!, $level: Int!, $on: Date!, $notes: String) {
  recordRiskAssessment(subjectId: $s, level: $level, assessedOn: $on, notes: $notes) {
    id currentRiskLevel assessments { totalCount } } }";

#[tokio::test]
async fn risk_assessments_set_the_newest_level() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = care_worker();
    let grid = a_grid(&server, "330902001").await;
    let subject =
        register(&server, &token, smd_input(&grid, NaiveDate::from_ymd_opt(1970, 7, 1).unwrap(), 931, "31"))
            .await;
    let subject_id = db_id(&subject);
    let assess = |level: i64, on: NaiveDate| json!({ "s": subject, "level": level, "on": on.to_string() });

    let response = server
        .gql_with_headers(Some(&token), &[PURPOSE], ASSESS, assess(2, today() - TimeDelta::days(10)))
        .await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["recordRiskAssessment"]["currentRiskLevel"], 2);
    assert_eq!(response["data"]["recordRiskAssessment"]["assessments"]["totalCount"], 1);
    let first =
        count(&server, &format!("SELECT MAX(id) FROM risk_assessment WHERE subject_id = {subject_id}")).await;
    assert_eq!(
        count(&server, &format!("SELECT COUNT(*) FROM risk_assessment WHERE id = {first} AND level = 2 AND assessor = 'care-1'")).await,
        1
    );
    assert_audited(
        &server,
        "recordRiskAssessment",
        &[("risk_assessment", first), ("care_subject", subject_id)],
    )
    .await;

    // An assessment older than the newest leaves the current level alone.
    let older = server
        .gql_with_headers(Some(&token), &[PURPOSE], ASSESS, assess(4, today() - TimeDelta::days(20)))
        .await;
    assert_no_errors(&older);
    assert_eq!(older["data"]["recordRiskAssessment"]["currentRiskLevel"], 2);
    assert_eq!(older["data"]["recordRiskAssessment"]["assessments"]["totalCount"], 2);
    let level =
        format!("SELECT CAST(current_risk_level AS BIGINT) FROM care_subject WHERE id = {subject_id}");
    assert_eq!(count(&server, &level).await, 2);
    // A newer one sets it, on the same day the later record wins.
    let newer = server.gql_with_headers(Some(&token), &[PURPOSE], ASSESS, assess(5, today())).await;
    assert_eq!(newer["data"]["recordRiskAssessment"]["currentRiskLevel"], 5);
    let same_day = server.gql_with_headers(Some(&token), &[PURPOSE], ASSESS, assess(1, today())).await;
    assert_eq!(same_day["data"]["recordRiskAssessment"]["currentRiskLevel"], 1);
    assert_eq!(count(&server, &level).await, 1);

    // Community-corrections subjects are assessed too; young people are not.
    let corrections =
        register(&server, &token, correction_input(&grid, NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(), 932))
            .await;
    let response = server
        .gql_with_headers(
            Some(&token),
            &[PURPOSE],
            ASSESS,
            json!({ "s": corrections, "level": 3, "on": today().to_string() }),
        )
        .await;
    assert_eq!(response["data"]["recordRiskAssessment"]["currentRiskLevel"], 3, "{response}");
    let youth = register(&server, &token, youth_input(&grid, years_ago(16), 933, "IDLE")).await;
    bad_input(
        &server,
        &token,
        ASSESS,
        json!({ "s": youth, "level": 1, "on": today().to_string() }),
        "subjectId",
    )
    .await;

    for (variables, field) in [
        (assess(6, today()), "level"),
        (assess(-1, today()), "level"),
        (assess(1, today() + TimeDelta::days(2)), "assessedOn"),
        (with(&assess(1, today()), "/notes", json!("字".repeat(1001))), "notes"),
        (with(&assess(1, today()), "/s", json!("bm90LWFuLWlk")), "subjectId"),
    ] {
        bad_input(&server, &token, ASSESS, variables, field).await;
    }

    let outside =
        outside_subject(&server, smd_input("", NaiveDate::from_ymd_opt(1972, 8, 8).unwrap(), 934, "34"))
            .await;
    let variables = json!({ "s": outside, "level": 1, "on": today().to_string() });
    refused(&server, Some(&token), ASSESS, variables.clone(), "NOT_FOUND").await;
    let nobody = json!({ "s": "Q2FyZVN1YmplY3Q6OTk5OTk5OQ", "level": 1, "on": today().to_string() });
    refused(&server, Some(&token), ASSESS, nobody, "NOT_FOUND").await;
    for role in ["analyst", "partner", "grid_worker"] {
        let other = token_for("other", &[role], "330902001");
        refused(&server, Some(&other), ASSESS, assess(1, today()), "FORBIDDEN").await;
    }
    refused(&server, None, ASSESS, assess(1, today()), "UNAUTHENTICATED").await;

    // The auditor finds the change from the person's record.
    let auditor = token_for("auditor-1", &["auditor"], "330900");
    let trail = server
        .gql(
            Some(&auditor),
            "query($about: ID!) { auditEvents(filter: { about: $about, action: \"recordRiskAssessment\" }) { totalCount } }",
            json!({ "about": subject }),
        )
        .await;
    assert_eq!(trail["data"]["auditEvents"]["totalCount"], 4, "{trail}");
}

const VISIT: &str = "mutation($s: ID!, $kind: VisitKind!, $at: DateTime!, $taken: Boolean, $notes: String) {
  recordVisit(subjectId: $s, kind: $kind, visitedAt: $at, medicationTaken: $taken, notes: $notes) {
    id kind visitedAt visitor subject { code } } }";

const GROUP: &str = "mutation($s: ID!, $role: CareGroupRole!, $name: String!, $phone: String!) {
  addCareGroupMember(subjectId: $s, role: $role, name: $name, phone: $phone) {
    careGroup { role name phone } } }";

#[tokio::test]
async fn visits_and_care_groups() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = care_worker();
    let grid = a_grid(&server, "330902001").await;
    let subject = register(
        &server,
        &token,
        smd_input(&grid, NaiveDate::from_ymd_opt(1966, 11, 30).unwrap(), 941, "41"),
    )
    .await;
    let subject_id = db_id(&subject);
    let at = (Utc::now() - TimeDelta::hours(2)).to_rfc3339();
    let visit = |kind: &str, taken: Value| json!({ "s": subject, "kind": kind, "at": at, "taken": taken });

    // A grid worker records the visit under the name in their token.
    let now = Utc::now().timestamp();
    let grid_worker = sign_hs256(&json!({ "sub": "gw-7", "name": "张网格", "roles": ["grid_worker"],
                                          "region": "330902001", "exp": now + 600, "iat": now }));
    let response = server.gql(Some(&grid_worker), VISIT, visit("HOME_VISIT", Value::Null)).await;
    assert_no_errors(&response);
    let recorded = &response["data"]["recordVisit"];
    assert_eq!(recorded["kind"], "HOME_VISIT");
    assert_eq!(recorded["visitor"], "张网格");
    let subject_code = recorded["subject"]["code"].as_str().unwrap().to_owned();
    assert_eq!(subject_code, format!("CS{subject_id:07}"));
    let visit_id = db_id(recorded["id"].as_str().unwrap());
    assert_audited(&server, "recordVisit", &[("visit", visit_id), ("care_subject", subject_id)]).await;

    // Medication supervision says whether the medication was taken; the care worker reads it back.
    let response = server
        .gql_with_headers(
            Some(&token),
            &[PURPOSE],
            "mutation($s: ID!, $at: DateTime!) { recordVisit(subjectId: $s, kind: MEDICATION_SUPERVISION,
               visitedAt: $at, medicationTaken: false, notes: \"未按时服药\") { visitor medicationTaken notes } }",
            json!({ "s": subject, "at": at }),
        )
        .await;
    assert_no_errors(&response);
    assert_eq!(
        response["data"]["recordVisit"],
        json!({ "visitor": "care-1", "medicationTaken": false, "notes": "未按时服药" })
    );
    let visits = count(&server, &format!("SELECT COUNT(*) FROM care_visit WHERE subject_id = {subject_id} AND medication_taken = false AND visitor = 'care-1'")).await;
    assert_eq!(visits, 1);

    for (variables, field) in [
        (visit("MEDICATION_SUPERVISION", Value::Null), "medicationTaken"),
        (visit("FOLLOW_UP", json!(true)), "medicationTaken"),
        (with(&visit("FOLLOW_UP", Value::Null), "/at", json!("2999-01-01T00:00:00Z")), "visitedAt"),
        (with(&visit("FOLLOW_UP", Value::Null), "/notes", json!("字".repeat(1001))), "notes"),
        (with(&visit("FOLLOW_UP", Value::Null), "/s", json!(recorded["id"])), "subjectId"),
    ] {
        bad_input(&server, &token, VISIT, variables, field).await;
    }
    let outside =
        outside_subject(&server, smd_input("", NaiveDate::from_ymd_opt(1973, 3, 3).unwrap(), 942, "42"))
            .await;
    refused(
        &server,
        Some(&token),
        VISIT,
        with(&visit("FOLLOW_UP", Value::Null), "/s", json!(outside)),
        "NOT_FOUND",
    )
    .await;
    for role in ["analyst", "partner", "mentor_coordinator"] {
        let other = token_for("other", &[role], "330902001");
        refused(&server, Some(&other), VISIT, visit("FOLLOW_UP", Value::Null), "FORBIDDEN").await;
    }
    refused(&server, None, VISIT, visit("FOLLOW_UP", Value::Null), "UNAUTHENTICATED").await;

    // A closed subject is not visited.
    let corrections =
        register(&server, &token, correction_input(&grid, NaiveDate::from_ymd_opt(1992, 6, 6).unwrap(), 943))
            .await;
    let closed = server
        .gql(
            Some(&token),
            "mutation($s: ID!, $on: Date!) { closeCorrectionSupervision(subjectId: $s, releasedOn: $on) { status } }",
            json!({ "s": corrections, "on": today().to_string() }),
        )
        .await;
    assert_eq!(closed["data"]["closeCorrectionSupervision"]["status"], "CLOSED", "{closed}");
    refused(
        &server,
        Some(&token),
        VISIT,
        with(&visit("CHECK_IN", Value::Null), "/s", json!(corrections)),
        "CONFLICT",
    )
    .await;

    // Care groups: the same person twice in one role is a conflict, in another role it is not.
    let member = json!({ "s": subject, "role": "DOCTOR", "name": "刘医生", "phone": "13905804444" });
    let response = server.gql(Some(&token), GROUP, member.clone()).await;
    assert_no_errors(&response);
    assert_eq!(
        response["data"]["addCareGroupMember"]["careGroup"],
        json!([{ "role": "DOCTOR", "name": "刘医生", "phone": "13905804444" }])
    );
    assert_audited(&server, "addCareGroupMember", &[("care_subject", subject_id)]).await;
    refused(&server, Some(&token), GROUP, with(&member, "/name", json!(" 刘医生 ")), "CONFLICT").await;
    let response = server.gql(Some(&token), GROUP, with(&member, "/role", json!("VOLUNTEER"))).await;
    assert_eq!(
        response["data"]["addCareGroupMember"]["careGroup"].as_array().unwrap().len(),
        2,
        "{response}"
    );
    for (variables, field) in [
        (with(&member, "/name", json!("")), "name"),
        (with(&member, "/name", json!("名".repeat(65))), "name"),
        (with(&member, "/phone", json!("0580-1234567")), "phone"),
        (with(&member, "/s", json!("garbage")), "subjectId"),
    ] {
        bad_input(&server, &token, GROUP, variables, field).await;
    }
    refused(&server, Some(&token), GROUP, with(&member, "/s", json!(outside)), "NOT_FOUND").await;
    for role in ["analyst", "partner", "grid_worker"] {
        let other = token_for("other", &[role], "330902001");
        refused(&server, Some(&other), GROUP, with(&member, "/name", json!("周")), "FORBIDDEN").await;
    }
    refused(&server, None, GROUP, with(&member, "/name", json!("周")), "UNAUTHENTICATED").await;
}

const CLOSE: &str =
    "mutation($s: ID!, $on: Date!) { closeCorrectionSupervision(subjectId: $s, releasedOn: $on) {
  id status correctionProfile { status releasedOn supervisionStart } } }";

/// The released count two ways: SQL over the profiles, and the closed corrections subjects the API lists.
async fn released(server: &TestServer) -> (i64, i64) {
    let sql = count(server, "SELECT COUNT(*) FROM correction_profile WHERE status = 'RELEASED'").await;
    let response = server
        .gql(
            Some(&admin()),
            "{ careSubjects(filter: { category: COMMUNITY_CORRECTION, status: CLOSED }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_no_errors(&response);
    (sql, response["data"]["careSubjects"]["totalCount"].as_i64().unwrap())
}

#[tokio::test]
async fn closing_supervision_releases_exactly_one() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = care_worker();
    let grid = a_grid(&server, "330902001").await;
    let subject = register(
        &server,
        &token,
        correction_input(&grid, NaiveDate::from_ymd_opt(1988, 8, 18).unwrap(), 951),
    )
    .await;
    let subject_id = db_id(&subject);
    let start = today() - TimeDelta::days(100);
    let close = |on: NaiveDate| json!({ "s": subject, "on": on.to_string() });

    for (variables, field) in [
        (close(start - TimeDelta::days(1)), "releasedOn"),
        (close(today() + TimeDelta::days(2)), "releasedOn"),
        (with(&close(today()), "/s", json!("garbage")), "subjectId"),
    ] {
        bad_input(&server, &token, CLOSE, variables, field).await;
    }
    let smd =
        register(&server, &token, smd_input(&grid, NaiveDate::from_ymd_opt(1961, 1, 1).unwrap(), 952, "52"))
            .await;
    bad_input(&server, &token, CLOSE, json!({ "s": smd, "on": today().to_string() }), "subjectId").await;
    let outside =
        outside_subject(&server, correction_input("", NaiveDate::from_ymd_opt(1983, 3, 13).unwrap(), 953))
            .await;
    refused(&server, Some(&token), CLOSE, json!({ "s": outside, "on": today().to_string() }), "NOT_FOUND")
        .await;
    for role in ["analyst", "partner", "grid_worker"] {
        let other = token_for("other", &[role], "330902001");
        refused(&server, Some(&other), CLOSE, close(today()), "FORBIDDEN").await;
    }
    refused(&server, None, CLOSE, close(today()), "UNAUTHENTICATED").await;

    let (sql_before, api_before) = released(&server).await;
    assert_eq!(sql_before, api_before, "every released person's case is closed");
    let released_on = start + TimeDelta::days(30);
    let response = server.gql(Some(&token), CLOSE, close(released_on)).await;
    assert_no_errors(&response);
    assert_eq!(
        response["data"]["closeCorrectionSupervision"],
        json!({ "id": subject, "status": "CLOSED", "correctionProfile": {
            "status": "RELEASED", "releasedOn": released_on.to_string(), "supervisionStart": start.to_string() } })
    );
    assert_eq!(released(&server).await, (sql_before + 1, api_before + 1));
    assert_audited(&server, "closeCorrectionSupervision", &[("care_subject", subject_id)]).await;

    refused(&server, Some(&token), CLOSE, close(today()), "CONFLICT").await;
    assert_eq!(released(&server).await, (sql_before + 1, api_before + 1));
}
