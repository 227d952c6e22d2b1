//! Mutations of the youth mentoring programme over HTTP: mentors, pairings (one ACTIVE pairing per young person),
//! sessions, outcomes and closing. Each validates (naming the field), checks right and scope, writes its audit
//! event in its own transaction, and answers duplicates and wrong states with CONFLICT.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use chrono::{Months, NaiveDate, TimeDelta, Utc};
use govgraph::audit::chain::{ChainReport, verify};
use govgraph_tests::{Fixture, TestServer, admin, assert_no_errors, count, error_codes, token_for};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

async fn execute(server: &TestServer, sql: &str) {
    let db = server.db.connect().await;
    db.execute_unprepared(sql).await.expect("statement");
}

/// Row counts of every table a mentoring mutation writes, and of the audit trail.
async fn footprint(server: &TestServer) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "mentor",
        "mentorship",
        "mentoring_session",
        "mentoring_outcome",
        "audit_event",
        "audit_event_record",
    ] {
        counts.push(count(server, &format!("SELECT COUNT(*) FROM {table}")).await);
    }
    counts.push(count(server, "SELECT COUNT(*) FROM mentorship WHERE status = 'ACTIVE'").await);
    counts
}

/// A mentor coordinator of the 330902001 township.
fn coordinator() -> String {
    token_for("coordinator-1", &["mentor_coordinator"], "330902001")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A well-formed identity card number of a person born on `birth`.
fn id_number(birth: NaiveDate, sequence: u32) -> String {
    let body = format!("330902{}{sequence:03}", birth.format("%Y%m%d"));
    let check = govgraph::validate::id_check_char(&body).unwrap();
    format!("{body}{check}")
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

/// `input` with the value at JSON pointer `pointer` (whose parent exists) replaced.
fn with(input: &Value, pointer: &str, value: Value) -> Value {
    let mut changed = input.clone();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    changed.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.to_owned(), value);
    changed
}

/// Registers a care subject as an administrator (mentor coordinators may not) and returns its global ID.
async fn care_subject(
    server: &TestServer,
    within: &str,
    sequence: u32,
    category: &str,
    youth_kind: &str,
) -> String {
    let grid = a_grid(server, within).await;
    let birth = if category == "AT_RISK_YOUTH" {
        today().checked_sub_months(Months::new(12 * 17)).unwrap()
    } else {
        NaiveDate::from_ymd_opt(1975, 5, 5).unwrap()
    };
    let mut input = json!({
        "category": category, "name": "赵小龙", "gender": "MALE", "idNumber": id_number(birth, sequence),
        "birthDate": birth.to_string(), "address": "舟山市定海区昌国路9号", "gridCode": grid
    });
    if category == "AT_RISK_YOUTH" {
        input["youth"] = json!({ "youthKind": youth_kind, "schoolStatus": "UNEMPLOYED", "guardianName": "赵大龙",
                                 "guardianPhone": "13905805555" });
    } else {
        input["mentalHealth"] = json!({ "healthRecordNo": format!("EHR-M-{sequence}"), "diagnosis": "双相情感障碍",
            "foundBy": "家属报告", "guardianName": "赵大龙", "guardianPhone": "13905805555",
            "guardianRelation": "父亲", "guardianInsured": false });
    }
    let response = server
        .gql(
            Some(&admin()),
            "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) { id } }",
            json!({ "input": input }),
        )
        .await;
    assert_no_errors(&response);
    response["data"]["registerCareSubject"]["id"].as_str().unwrap().to_owned()
}

const REGISTER: &str = "mutation($input: RegisterMentorInput!) {
  registerMentor(input: $input) { id code name phone occupation active region { code } activeMenteeCount } }";

/// Registers a mentor as `token` attached to `region` and returns its global ID.
async fn mentor(server: &TestServer, token: &str, region: &str) -> String {
    let input =
        json!({ "name": "孙老师", "phone": "13905806666", "occupation": "教师", "regionCode": region });
    let response = server.gql(Some(token), REGISTER, json!({ "input": input })).await;
    assert_no_errors(&response);
    response["data"]["registerMentor"]["id"].as_str().unwrap().to_owned()
}

/// Asserts that the newest event of `action` names exactly `records` and that the chain is intact.
async fn assert_audited(server: &TestServer, action: &str, records: &[(&str, i64)]) {
    let event = count(server, &format!("SELECT MAX(id) FROM audit_event WHERE action = '{action}'")).await;
    let db = server.db.connect().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT entity_type, entity_id FROM audit_event_record WHERE event_id = {event}"),
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

/// Asserts that `query` fails with `code` as `token` and leaves the mentoring tables and the audit trail as
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

/// Asserts `FORBIDDEN` for roles without the right and `UNAUTHENTICATED` without a token.
async fn rights(server: &TestServer, query: &str, variables: Value, roles: &[&str]) {
    for role in roles {
        let other = token_for("other", &[role], "330902001");
        refused(server, Some(&other), query, variables.clone(), "FORBIDDEN").await;
    }
    refused(server, None, query, variables, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn mentors_are_registered_in_scope() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = coordinator();
    let input =
        json!({ "name": "孙丽", "phone": "13905806666", "occupation": "律师", "regionCode": "330902001" });
    let response = server.gql(Some(&token), REGISTER, json!({ "input": input })).await;
    assert_no_errors(&response);
    let registered = &response["data"]["registerMentor"];
    let id = db_id(registered["id"].as_str().unwrap());
    assert_eq!(
        *registered,
        json!({ "id": registered["id"], "code": format!("M{id:05}"), "name": "孙丽", "phone": "13905806666",
                "occupation": "律师", "active": true, "region": { "code": "330902001" }, "activeMenteeCount": 0 })
    );
    let row = count(
        &server,
        &format!("SELECT COUNT(*) FROM mentor WHERE id = {id} AND code = 'M{id:05}' AND region_id = (SELECT id FROM region WHERE code = '330902001')"),
    )
    .await;
    assert_eq!(row, 1);
    assert_audited(&server, "registerMentor", &[("mentor", id)]).await;
    // Any level of region in scope: a grid too.
    let grid = a_grid(&server, "330902001").await;
    mentor(&server, &token, &grid).await;

    for (variables, field) in [
        (with(&input, "/name", json!(" ")), "input.name"),
        (with(&input, "/phone", json!("13905")), "input.phone"),
        (with(&input, "/occupation", json!("")), "input.occupation"),
        (with(&input, "/occupation", json!("职".repeat(65))), "input.occupation"),
        (with(&input, "/regionCode", json!("330922")), "input.regionCode"),
        (with(&input, "/regionCode", json!("330902")), "input.regionCode"),
        (with(&input, "/regionCode", json!("nowhere")), "input.regionCode"),
    ] {
        bad_input(&server, &token, REGISTER, json!({ "input": variables }), field).await;
    }
    rights(
        &server,
        REGISTER,
        json!({ "input": input }),
        &["analyst", "partner", "care_worker", "grid_worker"],
    )
    .await;
}

const PAIR: &str = "mutation($mentor: ID!, $mentee: ID!, $goal: String, $on: Date) {
  pairMentor(mentorId: $mentor, menteeId: $mentee, goal: $goal, startedOn: $on) {
    id status goal startedOn endedOn mentor { code activeMenteeCount } mentee { code } } }";

#[tokio::test]
async fn one_active_pairing_per_young_person() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = coordinator();
    let mentor_id = mentor(&server, &token, "330902001").await;
    let youth = care_subject(&server, "330902001", 961, "AT_RISK_YOUTH", "IDLE").await;
    let started = today() - TimeDelta::days(30);
    let pair =
        json!({ "mentor": mentor_id, "mentee": youth, "goal": "帮助稳定就业", "on": started.to_string() });

    let response = server.gql(Some(&token), PAIR, pair.clone()).await;
    assert_no_errors(&response);
    let pairing = &response["data"]["pairMentor"];
    assert_eq!(pairing["status"], "ACTIVE");
    assert_eq!(pairing["goal"], "帮助稳定就业");
    assert_eq!(pairing["startedOn"], started.to_string());
    assert_eq!(pairing["endedOn"], Value::Null);
    assert_eq!(pairing["mentor"]["activeMenteeCount"], 1);
    let youth_id = db_id(&youth);
    assert_eq!(pairing["mentee"]["code"], format!("CS{youth_id:07}"));
    let pairing_id = db_id(pairing["id"].as_str().unwrap());
    let mentor_key = db_id(&mentor_id);
    let active =
        format!("SELECT COUNT(*) FROM mentorship WHERE mentee_id = {youth_id} AND status = 'ACTIVE'");
    assert_eq!(count(&server, &active).await, 1);
    assert_audited(
        &server,
        "pairMentor",
        &[("mentorship", pairing_id), ("mentor", mentor_key), ("care_subject", youth_id)],
    )
    .await;

    // A second ACTIVE pairing of the same young person, even with another mentor, is a conflict.
    let other_mentor = mentor(&server, &token, "330902001").await;
    refused(&server, Some(&token), PAIR, with(&pair, "/mentor", json!(other_mentor)), "CONFLICT").await;
    assert_eq!(count(&server, &active).await, 1);
    // Without a start day the pairing starts today.
    let second_youth = care_subject(&server, "330902001", 962, "AT_RISK_YOUTH", "BEHAVIOURAL_RISK").await;
    let response =
        server.gql(Some(&token), PAIR, json!({ "mentor": other_mentor, "mentee": second_youth })).await;
    assert_no_errors(&response);
    let started_on = response["data"]["pairMentor"]["startedOn"].as_str().unwrap().to_owned();
    assert!(started_on == today().to_string() || started_on == (today() + TimeDelta::days(1)).to_string());

    // An inactive mentor and a closed case are conflicts.
    let third_youth = care_subject(&server, "330902001", 963, "AT_RISK_YOUTH", "IDLE").await;
    let idle_mentor = mentor(&server, &token, "330902001").await;
    execute(&server, &format!("UPDATE mentor SET active = false WHERE id = {}", db_id(&idle_mentor))).await;
    refused(&server, Some(&token), PAIR, json!({ "mentor": idle_mentor, "mentee": third_youth }), "CONFLICT")
        .await;
    execute(
        &server,
        &format!("UPDATE care_subject SET status = 'CLOSED' WHERE id = {}", db_id(&third_youth)),
    )
    .await;
    refused(
        &server,
        Some(&token),
        PAIR,
        json!({ "mentor": other_mentor, "mentee": third_youth }),
        "CONFLICT",
    )
    .await;

    let adult = care_subject(&server, "330902001", 964, "SEVERE_MENTAL_DISORDER", "").await;
    let fresh_youth = care_subject(&server, "330902001", 965, "AT_RISK_YOUTH", "IDLE").await;
    let fresh = json!({ "mentor": other_mentor, "mentee": fresh_youth });
    for (variables, field) in [
        (with(&fresh, "/mentee", json!(adult)), "menteeId"),
        (with(&fresh, "/mentee", json!(other_mentor)), "menteeId"),
        (with(&fresh, "/mentor", json!(fresh_youth)), "mentorId"),
        (with(&fresh, "/goal", json!("目".repeat(501))), "goal"),
        (with(&fresh, "/on", json!((today() + TimeDelta::days(3)).to_string())), "startedOn"),
    ] {
        bad_input(&server, &token, PAIR, variables, field).await;
    }

    // Out of scope: a young person or a mentor of the 330922 county, and an ID that names nothing.
    let outside_youth = care_subject(&server, "330922", 966, "AT_RISK_YOUTH", "IDLE").await;
    refused(&server, Some(&token), PAIR, with(&fresh, "/mentee", json!(outside_youth)), "NOT_FOUND").await;
    let outside_mentor = mentor(&server, &admin(), "330922").await;
    refused(&server, Some(&token), PAIR, with(&fresh, "/mentor", json!(outside_mentor)), "NOT_FOUND").await;
    refused(&server, Some(&token), PAIR, with(&fresh, "/mentor", json!("TWVudG9yOjk5OTk5OTk")), "NOT_FOUND")
        .await;
    rights(&server, PAIR, fresh.clone(), &["analyst", "partner", "care_worker"]).await;
    let response = server.gql(Some(&token), PAIR, fresh).await;
    assert_no_errors(&response);
}

const SESSION: &str = "mutation($m: ID!, $on: Date!, $minutes: Int!, $topic: String!, $notes: String) {
  recordMentoringSession(mentorshipId: $m, heldOn: $on, minutes: $minutes, topic: $topic, notes: $notes) {
    id heldOn minutes topic notes mentorship { id } } }";

const OUTCOME: &str = "mutation($m: ID!, $kind: OutcomeKind!, $on: Date!, $text: String) {
  recordMentoringOutcome(mentorshipId: $m, kind: $kind, achievedOn: $on, description: $text) {
    id kind achievedOn description mentorship { id } } }";

const CLOSE: &str = "mutation($m: ID!, $on: Date!) {
  closeMentorship(mentorshipId: $m, endedOn: $on) { id status startedOn endedOn mentor { activeMenteeCount } } }";

/// Pairs a new mentor of the coordinator's township with `youth`, started `days` ago; returns the pairing's ID.
async fn pairing(server: &TestServer, token: &str, youth: &str, days: i64) -> String {
    let mentor_id = mentor(server, &admin(), "330902001").await;
    let on = (today() - TimeDelta::days(days)).to_string();
    let response =
        server.gql(Some(token), PAIR, json!({ "mentor": mentor_id, "mentee": youth, "on": on })).await;
    assert_no_errors(&response);
    response["data"]["pairMentor"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sessions_outcomes_and_closing() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = coordinator();
    let idle = care_subject(&server, "330902001", 971, "AT_RISK_YOUTH", "IDLE").await;
    let disabled = care_subject(&server, "330902001", 972, "AT_RISK_YOUTH", "INTELLECTUALLY_DISABLED").await;
    let outside = care_subject(&server, "330922", 973, "AT_RISK_YOUTH", "IDLE").await;
    let m = pairing(&server, &token, &idle, 30).await;
    let m_id = db_id(&m);
    let family = pairing(&server, &token, &disabled, 30).await;
    let outside_pairing = pairing(&server, &admin(), &outside, 30).await;
    let day = |days: i64| (today() - TimeDelta::days(days)).to_string();

    // Sessions.
    let session =
        json!({ "m": m, "on": day(3), "minutes": 90, "topic": "职业规划谈心", "notes": "情绪稳定" });
    let response = server.gql(Some(&token), SESSION, session.clone()).await;
    assert_no_errors(&response);
    let recorded = &response["data"]["recordMentoringSession"];
    assert_eq!(recorded["heldOn"], day(3));
    assert_eq!(recorded["minutes"], 90);
    assert_eq!(recorded["topic"], "职业规划谈心");
    assert_eq!(recorded["notes"], "情绪稳定");
    assert_eq!(recorded["mentorship"]["id"], m.as_str());
    let session_id = db_id(recorded["id"].as_str().unwrap());
    assert_eq!(
        count(&server, &format!("SELECT COUNT(*) FROM mentoring_session WHERE id = {session_id} AND mentorship_id = {m_id} AND minutes = 90")).await,
        1
    );
    assert_audited(
        &server,
        "recordMentoringSession",
        &[("mentoring_session", session_id), ("mentorship", m_id)],
    )
    .await;
    for (variables, field) in [
        (with(&session, "/minutes", json!(0)), "minutes"),
        (with(&session, "/minutes", json!(601)), "minutes"),
        (with(&session, "/topic", json!(" ")), "topic"),
        (with(&session, "/topic", json!("题".repeat(129))), "topic"),
        (with(&session, "/notes", json!("记".repeat(2001))), "notes"),
        (with(&session, "/on", json!((today() + TimeDelta::days(2)).to_string())), "heldOn"),
        (with(&session, "/on", json!(day(31))), "heldOn"),
        (with(&session, "/m", json!(idle)), "mentorshipId"),
    ] {
        bad_input(&server, &token, SESSION, variables, field).await;
    }
    refused(&server, Some(&token), SESSION, with(&session, "/m", json!(outside_pairing)), "NOT_FOUND").await;
    refused(
        &server,
        Some(&token),
        SESSION,
        with(&session, "/m", json!("TWVudG9yc2hpcDo5OTk5OTk5")),
        "NOT_FOUND",
    )
    .await;
    rights(&server, SESSION, session.clone(), &["analyst", "partner", "care_worker"]).await;

    // Outcomes: FAMILY_ASSISTANCE only for intellectually disabled young people.
    let outcome = json!({ "m": m, "kind": "EMPLOYMENT", "on": day(1), "text": "在定海一家汽修厂就业" });
    let response = server.gql(Some(&token), OUTCOME, outcome.clone()).await;
    assert_no_errors(&response);
    let achieved = &response["data"]["recordMentoringOutcome"];
    assert_eq!(achieved["kind"], "EMPLOYMENT");
    assert_eq!(achieved["achievedOn"], day(1));
    assert_eq!(achieved["description"], "在定海一家汽修厂就业");
    assert_eq!(achieved["mentorship"]["id"], m.as_str());
    let outcome_id = db_id(achieved["id"].as_str().unwrap());
    assert_audited(
        &server,
        "recordMentoringOutcome",
        &[("mentoring_outcome", outcome_id), ("mentorship", m_id)],
    )
    .await;
    let assistance = with(&outcome, "/kind", json!("FAMILY_ASSISTANCE"));
    bad_input(&server, &token, OUTCOME, assistance.clone(), "kind").await;
    let response = server.gql(Some(&token), OUTCOME, with(&assistance, "/m", json!(family))).await;
    assert_no_errors(&response);
    assert_eq!(response["data"]["recordMentoringOutcome"]["kind"], "FAMILY_ASSISTANCE");
    for (variables, field) in [
        (with(&outcome, "/on", json!((today() + TimeDelta::days(2)).to_string())), "achievedOn"),
        (with(&outcome, "/on", json!(day(40))), "achievedOn"),
        (with(&outcome, "/text", json!("述".repeat(2001))), "description"),
        (with(&outcome, "/m", json!("garbage")), "mentorshipId"),
    ] {
        bad_input(&server, &token, OUTCOME, variables, field).await;
    }
    refused(&server, Some(&token), OUTCOME, with(&outcome, "/m", json!(outside_pairing)), "NOT_FOUND").await;
    rights(&server, OUTCOME, outcome.clone(), &["analyst", "partner", "grid_worker"]).await;

    // Closing.
    let close = json!({ "m": m, "on": day(0) });
    for (variables, field) in [
        (with(&close, "/on", json!(day(31))), "endedOn"),
        (with(&close, "/on", json!((today() + TimeDelta::days(2)).to_string())), "endedOn"),
        (with(&close, "/m", json!("garbage")), "mentorshipId"),
    ] {
        bad_input(&server, &token, CLOSE, variables, field).await;
    }
    refused(&server, Some(&token), CLOSE, with(&close, "/m", json!(outside_pairing)), "NOT_FOUND").await;
    rights(&server, CLOSE, close.clone(), &["analyst", "partner", "care_worker"]).await;
    let ended = day(2);
    let response = server.gql(Some(&token), CLOSE, with(&close, "/on", json!(ended))).await;
    assert_no_errors(&response);
    assert_eq!(
        response["data"]["closeMentorship"],
        json!({ "id": m, "status": "CLOSED", "startedOn": day(30), "endedOn": ended, "mentor": { "activeMenteeCount": 0 } })
    );
    assert_eq!(
        count(&server, &format!("SELECT COUNT(*) FROM mentorship WHERE id = {m_id} AND status = 'CLOSED'"))
            .await,
        1
    );
    assert_audited(&server, "closeMentorship", &[("mentorship", m_id)]).await;
    refused(&server, Some(&token), CLOSE, close.clone(), "CONFLICT").await;
    // A closed pairing takes no more sessions, and outcomes only within its lifetime.
    refused(&server, Some(&token), SESSION, with(&session, "/on", json!(day(2))), "CONFLICT").await;
    bad_input(&server, &token, OUTCOME, with(&outcome, "/on", json!(day(1))), "achievedOn").await;
    let response = server.gql(Some(&token), OUTCOME, with(&outcome, "/on", json!(day(2)))).await;
    assert_no_errors(&response);

    // Once closed, the young person may be paired again.
    pairing(&server, &token, &idle, 0).await;
    let events = count(
        &server,
        "SELECT COUNT(*) FROM audit_event WHERE actor = 'coordinator-1' AND action IN \
         ('pairMentor', 'recordMentoringSession', 'recordMentoringOutcome', 'closeMentorship')",
    )
    .await;
    assert_eq!(events, 8, "two pairings, a session, three outcomes, a close and a new pairing");
}
