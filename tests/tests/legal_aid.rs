//! The legal-aid funds over HTTP: every allowed and forbidden transition of an application, roles, scope and
//! dual control, idempotency keys, INSUFFICIENT_FUNDS that changes nothing, strict money input, and the
//! queries (funds, totals, statements, filters, ledger history). After every scenario the ledger is verified:
//! each fund's balance is the sum of its entries and never went negative. Real transient failures of the database
//! (a PostgreSQL serialization failure, a busy SQLite) are recognised and retried a bounded number of times.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use chrono::{TimeDelta, Utc};
use govgraph_tests::{Fixture, TestServer, assert_no_errors, count, error_codes, token_for};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

const CITY: &str = "330900";
const HOME_TOWNSHIP: &str = "330902001";
const OUTSIDE_DISTRICT: &str = "330922";
const PURPOSE: (&str, &str) = ("x-access-purpose", "legal-aid case review");

const APP: &str = "id code state amount repaid outstanding writtenOff dueOn overdue overdueDays decidedBy \
                   disbursedBy closedAt";
const POSTING: &str = "replayed entry { id kind direction amount signedAmount idempotencyKey actor } \
                       application { id state repaid outstanding } fund { code balance }";

fn officer() -> String {
    token_for("fund-officer-1", &["fund_officer"], CITY)
}

fn second_officer() -> String {
    token_for("fund-officer-2", &["fund_officer"], CITY)
}

fn admin() -> String {
    token_for("admin", &["admin"], CITY)
}

/// Fen from a `Money` string such as "5000.00".
fn fen(value: &Value) -> i64 {
    let text = value.as_str().unwrap_or_else(|| panic!("not money: {value}"));
    let (yuan, cents) = text.split_once('.').unwrap();
    assert_eq!(cents.len(), 2, "{text}");
    let sign = if yuan.starts_with('-') { -1 } else { 1 };
    sign * (yuan.trim_start_matches('-').parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap())
}

/// A valid identity card number, distinct per `n`.
fn id_number(n: u32) -> String {
    let first17 = format!("33090219900101{n:03}");
    format!("{first17}{}", govgraph::validate::id_check_char(&first17).unwrap())
}

async fn gql(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    server.gql(Some(token), query, variables).await
}

/// Runs a mutation that must succeed and returns its field.
async fn ok(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    let response = gql(server, token, query, variables).await;
    assert_no_errors(&response);
    let data = response["data"].as_object().unwrap();
    data.values().next().unwrap().clone()
}

/// Runs a request that must fail with exactly `code`.
async fn fails(server: &TestServer, token: &str, query: &str, variables: Value, code: &str) -> Value {
    let response = gql(server, token, query, variables).await;
    assert_eq!(error_codes(&response), [code], "{response:#}");
    response
}

async fn submit(server: &TestServer, token: &str, fund: &str, region: &str, amount: &str) -> Value {
    let query = format!(
        "mutation($input: SubmitLegalAidApplicationInput!) {{ submitLegalAidApplication(input: $input) {{ {APP} }} }}"
    );
    let n = rand_n();
    ok(
        server,
        token,
        &query,
        json!({ "input": { "fund": fund, "regionCode": region, "applicantName": "陈桂芳",
                "applicantIdNumber": id_number(n), "applicantPhone": "13905801234",
                "caseSummary": "申请人因工受伤，工伤赔偿诉讼期间生活困难。", "amount": amount } }),
    )
    .await
}

fn rand_n() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1);
    N.fetch_add(1, Ordering::Relaxed) % 1000
}

fn approve_query() -> String {
    format!("mutation($id: ID!) {{ approveLegalAidApplication(id: $id, reason: \"符合条件\") {{ {APP} }} }}")
}

fn reject_query() -> String {
    format!(
        "mutation($id: ID!, $r: String!) {{ rejectLegalAidApplication(id: $id, reason: $r) {{ {APP} }} }}"
    )
}

fn disburse_query() -> String {
    format!(
        "mutation($id: ID!, $key: String!, $due: Date) {{
           disburseLegalAidApplication(id: $id, idempotencyKey: $key, dueOn: $due) {{ {POSTING} }} }}"
    )
}

fn repay_query() -> String {
    format!(
        "mutation($id: ID!, $amount: Money!, $key: String!) {{
           recordRepayment(applicationId: $id, amount: $amount, idempotencyKey: $key) {{ {POSTING} }} }}"
    )
}

fn write_off_query() -> String {
    format!(
        "mutation($id: ID!, $key: String!) {{
           writeOffLoan(applicationId: $id, reason: \"被执行人无财产可供执行\", idempotencyKey: $key) {{ {POSTING} }} }}"
    )
}

fn donate_query() -> String {
    format!(
        "mutation($fund: String!, $amount: Money!, $memo: String!, $key: String!) {{
           recordDonation(fund: $fund, amount: $amount, memo: $memo, idempotencyKey: $key) {{ {POSTING} }} }}"
    )
}

fn reverse_query() -> String {
    format!(
        "mutation($id: ID!, $key: String!) {{
           reverseLedgerEntry(entryId: $id, reason: \"冲正\", idempotencyKey: $key) {{ {POSTING} }} }}"
    )
}

fn due_in(days: i64) -> String {
    (Utc::now().date_naive() + TimeDelta::days(days)).to_string()
}

async fn balance(server: &TestServer, code: &str) -> i64 {
    let response =
        ok(server, &admin(), "query($c: String!) { fund(code: $c) { balance } }", json!({ "c": code })).await;
    fen(&response["balance"])
}

/// The ledger is sound: `govgraph ledger verify` finds nothing, and the API's balances are the sums of entries.
async fn assert_ledger_sound(server: &TestServer) {
    let db = server.db.connect().await;
    let report = govgraph::legal_aid::verify::verify(&db).await.unwrap();
    assert!(report.ok(), "ledger problems: {:#?}", report.problems);
    let funds = ok(server, &admin(), "{ funds { code balance } }", json!({})).await;
    for fund in funds.as_array().unwrap() {
        let code = fund["code"].as_str().unwrap();
        let sum = count(
            server,
            &format!(
                "SELECT CAST(COALESCE(SUM(e.direction * e.amount_fen), 0) AS BIGINT) FROM ledger_entry e \
                 JOIN legal_aid_fund f ON f.id = e.fund_id WHERE f.code = '{code}'"
            ),
        )
        .await;
        assert_eq!(fen(&fund["balance"]), sum, "{code}");
        assert!(sum >= 0);
    }
    let audit = govgraph::audit::chain::verify(&db).await.unwrap();
    assert!(matches!(audit, govgraph::audit::chain::ChainReport::Intact { .. }), "{audit:?}");
}

/// Adds an empty fund of the city, for scenarios that need a known balance.
async fn empty_fund(server: &TestServer, code: &str, kind: entities::legal_aid_fund::FundKind) {
    let db = server.db.connect().await;
    let city = entities::region::Entity::find()
        .filter(entities::region::Column::Code.eq(CITY))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    entities::legal_aid_fund::ActiveModel {
        id: sea_orm::NotSet,
        code: Set(code.to_owned()),
        kind: Set(kind),
        name: Set(format!("测试基金 {code}")),
        region_id: Set(city.id),
        balance_fen: Set(0),
        established_on: Set(Utc::now().date_naive()),
        created_at: Set(Utc::now()),
    }
    .insert(&db)
    .await
    .unwrap();
}

/// Moves an application's due date into the past (the API only accepts future due dates).
async fn make_overdue(server: &TestServer, code: &str, days: i64) {
    let db = server.db.connect().await;
    let due = Utc::now().date_naive() - TimeDelta::days(days);
    let row = entities::legal_aid_application::Entity::find()
        .filter(entities::legal_aid_application::Column::Code.eq(code))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut changed: entities::legal_aid_application::ActiveModel = row.into();
    changed.due_on = Set(Some(due));
    changed.update(&db).await.unwrap();
}

/// Ids and codes of the states the application can be in, and which mutations each state refuses.
async fn assert_refused_in_state(server: &TestServer, app: &Value, expected_state: &str) {
    let token = second_officer();
    let id = app["id"].as_str().unwrap();
    let state = ok(
        server,
        &token,
        &format!("query($id: ID!) {{ legalAidApplication(id: $id) {{ {APP} }} }}"),
        json!({ "id": id }),
    )
    .await;
    assert_eq!(state["state"], expected_state);
    let key = |what: &str| format!("refused-{what}-{id}-{expected_state}");
    let attempts: Vec<(&str, String, Value)> = vec![
        ("approve", approve_query(), json!({ "id": id })),
        ("reject", reject_query(), json!({ "id": id, "r": "材料不全" })),
        ("disburse", disburse_query(), json!({ "id": id, "key": key("disburse"), "due": due_in(200) })),
        ("repay", repay_query(), json!({ "id": id, "amount": "1.00", "key": key("repay") })),
        ("write off", write_off_query(), json!({ "id": id, "key": key("write-off") })),
    ];
    let allowed: &[&str] = match expected_state {
        "SUBMITTED" => &["approve", "reject"],
        "APPROVED" => &["disburse"],
        "DISBURSED" | "REPAYING" => &["repay", "write off"],
        _ => &[],
    };
    let entries_before = count(server, "SELECT COUNT(*) FROM ledger_entry").await;
    for (what, query, variables) in attempts {
        if allowed.contains(&what) {
            continue;
        }
        let response = gql(server, &token, &query, variables).await;
        assert_eq!(error_codes(&response), ["CONFLICT"], "{what} from {expected_state}: {response:#}");
    }
    assert_eq!(count(server, "SELECT COUNT(*) FROM ledger_entry").await, entries_before);
}

#[tokio::test]
async fn a_loan_from_submission_to_repaid_and_every_refused_transition() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = officer();
    let before = balance(&server, "REVOLVING").await;
    let app = submit(&server, &token, "REVOLVING", HOME_TOWNSHIP, "3000.00").await;
    assert_eq!(app["state"], "SUBMITTED");
    assert_eq!(app["amount"], "3000.00");
    assert!(app["code"].as_str().unwrap().starts_with("LA20"));
    let id = app["id"].as_str().unwrap().to_owned();
    assert_refused_in_state(&server, &app, "SUBMITTED").await;

    let approved = ok(&server, &token, &approve_query(), json!({ "id": id })).await;
    assert_eq!(approved["state"], "APPROVED");
    assert_eq!(approved["decidedBy"], "fund-officer-1");
    assert_refused_in_state(&server, &app, "APPROVED").await;

    // A loan needs a due date after today.
    for due in [Value::Null, json!(due_in(0)), json!(due_in(-3))] {
        let response = fails(
            &server,
            &token,
            &disburse_query(),
            json!({ "id": id, "key": "loan-1-pay", "due": due }),
            "BAD_USER_INPUT",
        )
        .await;
        assert_eq!(response["errors"][0]["extensions"]["field"], "dueOn");
    }
    // At or below the threshold the approver may disburse.
    let paid =
        ok(&server, &token, &disburse_query(), json!({ "id": id, "key": "loan-1-pay", "due": due_in(180) }))
            .await;
    assert_eq!(paid["replayed"], false);
    assert_eq!(paid["entry"]["kind"], "DISBURSEMENT");
    assert_eq!(paid["entry"]["direction"], -1);
    assert_eq!(paid["entry"]["amount"], "3000.00");
    assert_eq!(paid["entry"]["signedAmount"], "-3000.00");
    assert_eq!(paid["application"]["state"], "DISBURSED");
    assert_eq!(paid["application"]["outstanding"], "3000.00");
    assert_eq!(fen(&paid["fund"]["balance"]), before - 300_000);
    assert_eq!(balance(&server, "REVOLVING").await, before - 300_000);
    assert_refused_in_state(&server, &app, "DISBURSED").await;

    // Not yet overdue: no write-off.
    fails(&server, &token, &write_off_query(), json!({ "id": id, "key": "loan-1-wo" }), "CONFLICT").await;
    // More than is owed.
    let over = fails(
        &server,
        &token,
        &repay_query(),
        json!({ "id": id, "amount": "3000.01", "key": "loan-1-r0" }),
        "BAD_USER_INPUT",
    )
    .await;
    assert_eq!(over["errors"][0]["extensions"]["field"], "amount");

    let partial =
        ok(&server, &token, &repay_query(), json!({ "id": id, "amount": "1000.00", "key": "loan-1-r1" }))
            .await;
    assert_eq!(partial["application"]["state"], "REPAYING");
    assert_eq!(partial["application"]["repaid"], "1000.00");
    assert_eq!(partial["application"]["outstanding"], "2000.00");
    assert_refused_in_state(&server, &app, "REPAYING").await;

    let rest =
        ok(&server, &token, &repay_query(), json!({ "id": id, "amount": "2000", "key": "loan-1-r2" })).await;
    assert_eq!(rest["application"]["state"], "REPAID");
    assert_eq!(rest["application"]["outstanding"], "0.00");
    assert_eq!(balance(&server, "REVOLVING").await, before);
    assert_refused_in_state(&server, &app, "REPAID").await;

    // The application's ledger history, oldest first.
    let history = ok(
        &server,
        &token,
        "query($id: ID!) { legalAidApplication(id: $id) { closedAt ledgerEntries { totalCount nodes { kind amount } } } }",
        json!({ "id": id }),
    )
    .await;
    assert!(history["closedAt"].is_string());
    assert_eq!(history["ledgerEntries"]["totalCount"], 3);
    assert_eq!(
        history["ledgerEntries"]["nodes"],
        json!([{ "kind": "DISBURSEMENT", "amount": "3000.00" }, { "kind": "REPAYMENT", "amount": "1000.00" },
               { "kind": "REPAYMENT", "amount": "2000.00" }])
    );
    let events = count(
        &server,
        "SELECT COUNT(*) FROM audit_event WHERE actor = 'fund-officer-1' AND action IN ('submitLegalAidApplication', \
         'approveLegalAidApplication', 'disburseLegalAidApplication', 'recordRepayment')",
    )
    .await;
    assert_eq!(events, 5);
    assert_ledger_sound(&server).await;
}

#[tokio::test]
async fn rejections_and_grants() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = officer();
    let app = submit(&server, &token, "RELIEF", HOME_TOWNSHIP, "800.00").await;
    let id = app["id"].as_str().unwrap().to_owned();
    fails(&server, &token, &reject_query(), json!({ "id": id, "r": "  " }), "BAD_USER_INPUT").await;
    let rejected =
        ok(&server, &token, &reject_query(), json!({ "id": id, "r": "申请人经济状况不符合救助条件" })).await;
    assert_eq!(rejected["state"], "REJECTED");
    assert!(rejected["closedAt"].is_string());
    assert_refused_in_state(&server, &app, "REJECTED").await;

    for fund in ["RELIEF", "CHARITY"] {
        let before = balance(&server, fund).await;
        let grant = submit(&server, &token, fund, HOME_TOWNSHIP, "600.50").await;
        let id = grant["id"].as_str().unwrap().to_owned();
        ok(&server, &token, &approve_query(), json!({ "id": id })).await;
        let key = format!("grant-{fund}");
        // Grants are not repaid: no due date.
        fails(
            &server,
            &token,
            &disburse_query(),
            json!({ "id": id, "key": key, "due": due_in(30) }),
            "BAD_USER_INPUT",
        )
        .await;
        let paid = ok(&server, &token, &disburse_query(), json!({ "id": id, "key": key })).await;
        assert_eq!(paid["application"]["state"], "DISBURSED");
        assert_eq!(paid["application"]["outstanding"], "0.00");
        assert_eq!(balance(&server, fund).await, before - 60_050);
        // A grant is never repaid or written off.
        fails(
            &server,
            &token,
            &repay_query(),
            json!({ "id": id, "amount": "1.00", "key": format!("{key}-r") }),
            "CONFLICT",
        )
        .await;
        fails(
            &server,
            &token,
            &write_off_query(),
            json!({ "id": id, "key": format!("{key}-w") }),
            "CONFLICT",
        )
        .await;
        let closed = ok(
            &server,
            &token,
            "query($id: ID!) { legalAidApplication(id: $id) { closedAt dueOn } }",
            json!({ "id": id }),
        )
        .await;
        assert!(closed["closedAt"].is_string());
        assert!(closed["dueOn"].is_null());
    }
    assert_ledger_sound(&server).await;
}

#[tokio::test]
async fn write_offs_and_reversals() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = officer();
    let revolving_before = balance(&server, "REVOLVING").await;

    // An overdue loan, partly repaid, written off.
    let loan = submit(&server, &token, "REVOLVING", HOME_TOWNSHIP, "4000.00").await;
    let loan_id = loan["id"].as_str().unwrap().to_owned();
    ok(&server, &token, &approve_query(), json!({ "id": loan_id })).await;
    ok(&server, &token, &disburse_query(), json!({ "id": loan_id, "key": "wo-pay", "due": due_in(90) }))
        .await;
    let repaid =
        ok(&server, &token, &repay_query(), json!({ "id": loan_id, "amount": "1500.00", "key": "wo-r1" }))
            .await;
    let repayment_id = repaid["entry"]["id"].as_str().unwrap().to_owned();
    make_overdue(&server, loan["code"].as_str().unwrap(), 45).await;
    let overdue = ok(
        &server,
        &token,
        "query($id: ID!) { legalAidApplication(id: $id) { overdue overdueDays outstanding } }",
        json!({ "id": loan_id }),
    )
    .await;
    assert_eq!(overdue, json!({ "overdue": true, "overdueDays": 45, "outstanding": "2500.00" }));
    let listed = ok(
        &server,
        &token,
        "{ legalAidApplications(filter: { overdue: true }, first: 500) { nodes { id overdue } } }",
        json!({}),
    )
    .await;
    let nodes = listed["nodes"].as_array().unwrap();
    assert!(nodes.iter().any(|n| n["id"] == loan_id.as_str()));
    assert!(nodes.iter().all(|n| n["overdue"] == true));
    let not_overdue = ok(
        &server,
        &token,
        "{ legalAidApplications(filter: { overdue: false }, first: 500) { nodes { id overdue } } }",
        json!({}),
    )
    .await;
    assert!(not_overdue["nodes"].as_array().unwrap().iter().all(|n| n["overdue"] == false));

    let balance_before_write_off = balance(&server, "REVOLVING").await;
    let written = ok(&server, &token, &write_off_query(), json!({ "id": loan_id, "key": "wo-1" })).await;
    assert_eq!(written["entry"]["kind"], "WRITE_OFF");
    assert_eq!(written["entry"]["direction"], 0);
    assert_eq!(written["entry"]["amount"], "2500.00");
    assert_eq!(written["application"]["state"], "WRITTEN_OFF");
    assert_eq!(balance(&server, "REVOLVING").await, balance_before_write_off, "a write-off moves no money");
    assert_refused_in_state(&server, &loan, "WRITTEN_OFF").await;
    let write_off_id = written["entry"]["id"].as_str().unwrap().to_owned();
    fails(&server, &token, &reverse_query(), json!({ "id": write_off_id, "key": "rev-wo" }), "CONFLICT")
        .await;
    fails(&server, &token, &reverse_query(), json!({ "id": repayment_id, "key": "rev-wo-r1" }), "CONFLICT")
        .await;

    // Reversing a disbursement returns the application to APPROVED and the money to the fund.
    let second = submit(&server, &token, "REVOLVING", HOME_TOWNSHIP, "2000.00").await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    ok(&server, &token, &approve_query(), json!({ "id": second_id })).await;
    let paid = ok(
        &server,
        &token,
        &disburse_query(),
        json!({ "id": second_id, "key": "rev-pay", "due": due_in(60) }),
    )
    .await;
    let before_reversal = balance(&server, "REVOLVING").await;
    let reversed =
        ok(&server, &token, &reverse_query(), json!({ "id": paid["entry"]["id"], "key": "rev-1" })).await;
    assert_eq!(reversed["entry"]["kind"], "REVERSAL");
    assert_eq!(reversed["entry"]["direction"], 1);
    assert_eq!(reversed["application"]["state"], "APPROVED");
    assert_eq!(balance(&server, "REVOLVING").await, before_reversal + 200_000);
    // Once only, and a reversal is not reversed.
    fails(
        &server,
        &token,
        &reverse_query(),
        json!({ "id": paid["entry"]["id"], "key": "rev-2" }),
        "CONFLICT",
    )
    .await;
    fails(
        &server,
        &token,
        &reverse_query(),
        json!({ "id": reversed["entry"]["id"], "key": "rev-3" }),
        "CONFLICT",
    )
    .await;
    // Paid again under a new key, repaid in full, then a repayment reversed: the loan reopens.
    ok(&server, &token, &disburse_query(), json!({ "id": second_id, "key": "rev-pay-2", "due": due_in(60) }))
        .await;
    ok(&server, &token, &repay_query(), json!({ "id": second_id, "amount": "500.00", "key": "rev-r1" }))
        .await;
    let full =
        ok(&server, &token, &repay_query(), json!({ "id": second_id, "amount": "1500.00", "key": "rev-r2" }))
            .await;
    assert_eq!(full["application"]["state"], "REPAID");
    let reopened =
        ok(&server, &token, &reverse_query(), json!({ "id": full["entry"]["id"], "key": "rev-r2-undo" }))
            .await;
    assert_eq!(reopened["application"]["state"], "REPAYING");
    assert_eq!(reopened["application"]["repaid"], "500.00");
    assert_eq!(reopened["application"]["outstanding"], "1500.00");
    ok(&server, &token, &repay_query(), json!({ "id": second_id, "amount": "1500.00", "key": "rev-r3" }))
        .await;

    // A reversal that would overdraw the fund is refused and changes nothing.
    empty_fund(&server, "TEST", entities::legal_aid_fund::FundKind::Relief).await;
    let donation = ok(
        &server,
        &token,
        &donate_query(),
        json!({ "fund": "TEST", "amount": "100.00", "memo": "爱心人士捐赠", "key": "test-don-1" }),
    )
    .await;
    let grant = submit(&server, &token, "TEST", HOME_TOWNSHIP, "80.00").await;
    ok(&server, &token, &approve_query(), json!({ "id": grant["id"] })).await;
    ok(&server, &token, &disburse_query(), json!({ "id": grant["id"], "key": "test-grant" })).await;
    let entries = count(&server, "SELECT COUNT(*) FROM ledger_entry").await;
    fails(
        &server,
        &token,
        &reverse_query(),
        json!({ "id": donation["entry"]["id"], "key": "test-don-undo" }),
        "INSUFFICIENT_FUNDS",
    )
    .await;
    assert_eq!(count(&server, "SELECT COUNT(*) FROM ledger_entry").await, entries);
    assert_eq!(balance(&server, "TEST").await, 2_000);
    // A donation that leaves enough behind is reversed.
    let extra = ok(
        &server,
        &token,
        &donate_query(),
        json!({ "fund": "TEST", "amount": "50.00", "memo": "重复录入", "key": "test-don-2" }),
    )
    .await;
    ok(&server, &token, &reverse_query(), json!({ "id": extra["entry"]["id"], "key": "test-don-2-undo" }))
        .await;
    assert_eq!(balance(&server, "TEST").await, 2_000);

    assert_eq!(
        balance(&server, "REVOLVING").await,
        revolving_before - 250_000,
        "only the written-off part is gone"
    );
    assert_ledger_sound(&server).await;
}

#[tokio::test]
async fn roles_scope_and_dual_control() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let first = officer();
    let second = second_officer();

    // Roles: officers and analysts read, only fund officers act.
    let officer_role = token_for("officer", &["officer"], CITY);
    let analyst = token_for("analyst", &["analyst"], CITY);
    let input = json!({ "input": { "fund": "RELIEF", "regionCode": HOME_TOWNSHIP, "applicantName": "陈桂芳",
        "applicantIdNumber": id_number(900), "applicantPhone": "13905801234", "caseSummary": "x", "amount": "1.00" } });
    let submit_query = "mutation($input: SubmitLegalAidApplicationInput!) { submitLegalAidApplication(input: $input) { id } }";
    for token in [&officer_role, &analyst] {
        fails(&server, token, submit_query, input.clone(), "FORBIDDEN").await;
    }
    assert_eq!(error_codes(&server.gql(None, submit_query, input.clone()).await), ["UNAUTHENTICATED"]);

    let app = submit(&server, &first, "RELIEF", HOME_TOWNSHIP, "1200.00").await;
    let id = app["id"].as_str().unwrap().to_owned();
    for token in [&officer_role, &analyst] {
        fails(&server, token, &approve_query(), json!({ "id": id }), "FORBIDDEN").await;
        fails(
            &server,
            token,
            &donate_query(),
            json!({ "fund": "RELIEF", "amount": "1.00", "memo": "x", "key": "r-1" }),
            "FORBIDDEN",
        )
        .await;
    }
    // What each role sees of the applicant.
    let read =
        "query($id: ID!) { legalAidApplication(id: $id) { applicantName applicantPhone applicantIdNumber } }";
    let masked = ok(&server, &analyst, read, json!({ "id": id })).await;
    assert_eq!(masked["applicantName"], "陈**");
    assert!(masked["applicantPhone"].as_str().unwrap().contains("****"));
    let clear = ok(&server, &officer_role, read, json!({ "id": id })).await;
    assert_eq!(clear["applicantName"], "陈桂芳");
    let summary = "query($id: ID!) { legalAidApplication(id: $id) { caseSummary } }";
    let refused =
        server.gql_with_headers(Some(&officer_role), &[PURPOSE], summary, json!({ "id": id })).await;
    assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
    let no_purpose = gql(&server, &first, summary, json!({ "id": id })).await;
    assert_eq!(error_codes(&no_purpose), ["FORBIDDEN"]);
    let with_purpose = server.gql_with_headers(Some(&first), &[PURPOSE], summary, json!({ "id": id })).await;
    assert_no_errors(&with_purpose);
    assert!(with_purpose["data"]["legalAidApplication"]["caseSummary"].as_str().unwrap().contains("工伤"));

    // Dual control: above 5,000 yuan the approver may not disburse; a second officer may.
    let big = submit(&server, &first, "REVOLVING", HOME_TOWNSHIP, "5000.01").await;
    let big_id = big["id"].as_str().unwrap().to_owned();
    ok(&server, &first, &approve_query(), json!({ "id": big_id })).await;
    let before = balance(&server, "REVOLVING").await;
    let entries = count(&server, "SELECT COUNT(*) FROM ledger_entry").await;
    let own = fails(
        &server,
        &first,
        &disburse_query(),
        json!({ "id": big_id, "key": "big-1", "due": due_in(100) }),
        "FORBIDDEN",
    )
    .await;
    assert!(own["errors"][0]["message"].as_str().unwrap().contains("dual control"), "{own}");
    assert_eq!(balance(&server, "REVOLVING").await, before);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM ledger_entry").await, entries);
    let paid =
        ok(&server, &second, &disburse_query(), json!({ "id": big_id, "key": "big-2", "due": due_in(100) }))
            .await;
    assert_eq!(paid["application"]["state"], "DISBURSED");
    assert_eq!(paid["entry"]["actor"], "fund-officer-2");
    // Exactly at the threshold the approver may.
    let at = submit(&server, &first, "REVOLVING", HOME_TOWNSHIP, "5000.00").await;
    ok(&server, &first, &approve_query(), json!({ "id": at["id"] })).await;
    ok(&server, &first, &disburse_query(), json!({ "id": at["id"], "key": "at-1", "due": due_in(100) }))
        .await;

    // Scope: a district officer neither sees nor touches another district's application.
    let outside = submit(&server, &first, "RELIEF", OUTSIDE_DISTRICT, "900.00").await;
    let outside_id = outside["id"].as_str().unwrap().to_owned();
    let district = token_for("fund-officer-dinghai", &["fund_officer"], "330902");
    for (query, variables) in [
        (approve_query(), json!({ "id": outside_id })),
        (reject_query(), json!({ "id": outside_id, "r": "x" })),
        (disburse_query(), json!({ "id": outside_id, "key": "scope-1" })),
        (repay_query(), json!({ "id": outside_id, "amount": "1.00", "key": "scope-2" })),
        (write_off_query(), json!({ "id": outside_id, "key": "scope-3" })),
    ] {
        fails(&server, &district, &query, variables, "NOT_FOUND").await;
    }
    let response = gql(
        &server,
        &district,
        "query($id: ID!, $c: String!) { a: legalAidApplication(id: $id) { id } b: legalAidApplication(code: $c) { id } c: node(id: $id) { id } }",
        json!({ "id": outside_id, "c": outside["code"] }),
    )
    .await;
    assert_eq!(response["data"], json!({ "a": null, "b": null, "c": null }));
    let listed = ok(
        &server,
        &district,
        "{ legalAidApplications(first: 500) { totalCount nodes { id region { code } } } }",
        json!({}),
    )
    .await;
    assert!(listed["nodes"].as_array().unwrap().iter().all(|n| n["id"] != outside_id.as_str()));
    // The district officer sees the city's funds but books income only in their own region, and files
    // applications only for their own region.
    let funds = ok(&server, &district, "{ funds { code } }", json!({})).await;
    assert_eq!(funds.as_array().unwrap().len(), 3);
    fails(
        &server,
        &district,
        &donate_query(),
        json!({ "fund": "RELIEF", "amount": "1.00", "memo": "x", "key": "district-don" }),
        "NOT_FOUND",
    )
    .await;
    let wrong_region = json!({ "input": { "fund": "RELIEF", "regionCode": OUTSIDE_DISTRICT, "applicantName": "陈桂芳",
        "applicantIdNumber": id_number(901), "applicantPhone": "13905801234", "caseSummary": "x", "amount": "1.00" } });
    let refused = fails(&server, &district, submit_query, wrong_region, "BAD_USER_INPUT").await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "input.regionCode");
    // …but acts on applications of its district.
    let home = submit(&server, &district, "RELIEF", HOME_TOWNSHIP, "300.00").await;
    ok(&server, &district, &approve_query(), json!({ "id": home["id"] })).await;
    ok(&server, &district, &disburse_query(), json!({ "id": home["id"], "key": "district-pay" })).await;
    assert_ledger_sound(&server).await;
}

#[tokio::test]
async fn idempotency_keys_and_insufficient_funds() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = officer();
    empty_fund(&server, "TEST", entities::legal_aid_fund::FundKind::Charity).await;

    // A retried donation returns the original entry and writes nothing.
    let donation =
        json!({ "fund": "TEST", "amount": "1000.00", "memo": "舟山市律师协会募集", "key": "don-1" });
    let first = ok(&server, &token, &donate_query(), donation.clone()).await;
    assert_eq!(first["replayed"], false);
    let entries = count(&server, "SELECT COUNT(*) FROM ledger_entry").await;
    let events = count(&server, "SELECT COUNT(*) FROM audit_event").await;
    let again = ok(&server, &token, &donate_query(), donation.clone()).await;
    assert_eq!(again["replayed"], true);
    assert_eq!(again["entry"], first["entry"]);
    assert_eq!(again["fund"]["balance"], "1000.00");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM ledger_entry").await, entries);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM audit_event").await, events);
    // The same key with other arguments, by someone else, or for another kind of request is a conflict.
    for changed in [
        json!({ "fund": "TEST", "amount": "1000.01", "memo": "舟山市律师协会募集", "key": "don-1" }),
        json!({ "fund": "TEST", "amount": "1000.00", "memo": "另一位捐赠人", "key": "don-1" }),
        json!({ "fund": "CHARITY", "amount": "1000.00", "memo": "舟山市律师协会募集", "key": "don-1" }),
    ] {
        fails(&server, &token, &donate_query(), changed, "CONFLICT").await;
    }
    fails(&server, &second_officer(), &donate_query(), donation.clone(), "CONFLICT").await;
    assert_eq!(count(&server, "SELECT COUNT(*) FROM ledger_entry").await, entries);

    // INSUFFICIENT_FUNDS changes nothing; the key stays free.
    let app = submit(&server, &token, "TEST", HOME_TOWNSHIP, "1500.00").await;
    let id = app["id"].as_str().unwrap().to_owned();
    ok(&server, &token, &approve_query(), json!({ "id": id })).await;
    fails(&server, &token, &repay_query(), json!({ "id": id, "amount": "1.00", "key": "don-1" }), "CONFLICT")
        .await;
    let refused = fails(
        &server,
        &second_officer(),
        &disburse_query(),
        json!({ "id": id, "key": "grant-1" }),
        "INSUFFICIENT_FUNDS",
    )
    .await;
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("1000.00"), "{refused}");
    assert_eq!(balance(&server, "TEST").await, 100_000);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM ledger_entry").await, entries);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM audit_event").await,
        events + 2,
        "submit and approve only"
    );
    let state = ok(
        &server,
        &token,
        "query($id: ID!) { legalAidApplication(id: $id) { state } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(state["state"], "APPROVED");
    ok(
        &server,
        &token,
        &donate_query(),
        json!({ "fund": "TEST", "amount": "500.00", "memo": "追加", "key": "don-2" }),
    )
    .await;
    let paid = ok(&server, &second_officer(), &disburse_query(), json!({ "id": id, "key": "grant-1" })).await;
    assert_eq!(paid["replayed"], false);
    assert_eq!(paid["fund"]["balance"], "0.00");
    // A retry of the disbursement replays; with another due date or key it is refused.
    let replay =
        ok(&server, &second_officer(), &disburse_query(), json!({ "id": id, "key": "grant-1" })).await;
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["entry"]["id"], paid["entry"]["id"]);
    assert_eq!(replay["application"]["state"], "DISBURSED");
    fails(
        &server,
        &second_officer(),
        &disburse_query(),
        json!({ "id": id, "key": "grant-1", "due": due_in(9) }),
        "CONFLICT",
    )
    .await;
    fails(&server, &second_officer(), &disburse_query(), json!({ "id": id, "key": "grant-2" }), "CONFLICT")
        .await;
    let disbursements =
        count(&server, "SELECT COUNT(*) FROM audit_event WHERE action = 'disburseLegalAidApplication'").await;
    assert_eq!(disbursements, 1);

    // Money is a decimal string with at most two decimals; keys are 1 to 128 characters.
    let entries = count(&server, "SELECT COUNT(*) FROM ledger_entry").await;
    for (amount, key) in [
        (json!("1e3"), "k"),
        (json!("-5.00"), "k"),
        (json!("0.00"), "k"),
        (json!("1.234"), "k"),
        (json!("１00"), "k"),
        (json!(12.5), "k"),
        (json!(100), "k"),
        (json!("10.00"), ""),
    ] {
        let response = fails(
            &server,
            &token,
            &donate_query(),
            json!({ "fund": "TEST", "amount": amount, "memo": "x", "key": key }),
            "BAD_USER_INPUT",
        )
        .await;
        let field = response["errors"][0]["extensions"]["field"].as_str().unwrap();
        assert!(field == "amount" || field == "idempotencyKey", "{response}");
    }
    let long_key = "k".repeat(129);
    fails(
        &server,
        &token,
        &donate_query(),
        json!({ "fund": "TEST", "amount": "1.00", "memo": "x", "key": long_key }),
        "BAD_USER_INPUT",
    )
    .await;
    let literal = gql(&server, &token, r#"mutation { recordDonation(fund: "TEST", amount: 5, memo: "x", idempotencyKey: "lit") { replayed } }"#, json!({})).await;
    assert_eq!(error_codes(&literal), ["BAD_USER_INPUT"], "{literal}");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM ledger_entry").await, entries);
    assert_ledger_sound(&server).await;
}

#[tokio::test]
async fn funds_totals_statements_and_filters() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let token = officer();
    let funds = ok(
        &server,
        &token,
        r#"{ funds { code kind name balance region { code }
             totals { in out net writtenOff entryCount }
             statement(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { opening closing in out entryCount
               entries(first: 500) { totalCount nodes { signedAmount } } } } }"#,
        json!({}),
    )
    .await;
    let funds = funds.as_array().unwrap();
    assert_eq!(
        funds.iter().map(|f| f["code"].as_str().unwrap()).collect::<Vec<_>>(),
        ["REVOLVING", "RELIEF", "CHARITY"]
    );
    for fund in funds {
        let balance = fen(&fund["balance"]);
        assert_eq!(fen(&fund["totals"]["net"]), balance);
        assert_eq!(fen(&fund["totals"]["in"]) - fen(&fund["totals"]["out"]), balance);
        let statement = &fund["statement"];
        assert_eq!(statement["opening"], "0.00");
        assert_eq!(fen(&statement["closing"]), balance);
        let listed: i64 =
            statement["entries"]["nodes"].as_array().unwrap().iter().map(|e| fen(&e["signedAmount"])).sum();
        assert_eq!(listed, balance, "a city officer sees every entry of the period");
        assert_eq!(statement["entries"]["totalCount"], statement["entryCount"]);
        assert_eq!(fund["region"]["code"], CITY);
    }

    // A statement of a recent period: opening + in − out = closing, and only the period's entries.
    let before_period = Utc::now();
    let app = submit(&server, &token, "RELIEF", HOME_TOWNSHIP, "700.00").await;
    ok(&server, &token, &approve_query(), json!({ "id": app["id"] })).await;
    ok(&server, &token, &disburse_query(), json!({ "id": app["id"], "key": "stmt-pay" })).await;
    ok(
        &server,
        &token,
        &donate_query(),
        json!({ "fund": "RELIEF", "amount": "250.00", "memo": "捐赠", "key": "stmt-don" }),
    )
    .await;
    let after_period = Utc::now() + TimeDelta::seconds(1);
    let statement = ok(
        &server,
        &token,
        "query($from: DateTime!, $to: DateTime!) { fund(code: \"RELIEF\") { balance
           totals(from: $from, to: $to) { in out net entryCount }
           statement(from: $from, to: $to) { opening closing in out entries { nodes { kind amount memo application { code } } } } } }",
        json!({ "from": before_period.to_rfc3339(), "to": after_period.to_rfc3339() }),
    )
    .await;
    let s = &statement["statement"];
    assert_eq!(s["in"], "250.00");
    assert_eq!(s["out"], "700.00");
    assert_eq!(fen(&s["opening"]) + 25_000 - 70_000, fen(&s["closing"]));
    assert_eq!(s["closing"], statement["balance"]);
    assert_eq!(
        statement["totals"],
        json!({ "in": "250.00", "out": "700.00", "net": "-450.00", "entryCount": 2 })
    );
    assert_eq!(
        s["entries"]["nodes"],
        json!([{ "kind": "DISBURSEMENT", "amount": "700.00", "memo": "救助金发放", "application": { "code": app["code"] } },
               { "kind": "DONATION", "amount": "250.00", "memo": "捐赠", "application": null }])
    );
    let bad_period = gql(&server, &token, "{ fund(code: \"RELIEF\") { statement(from: \"2026-02-01T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { opening } } }", json!({})).await;
    assert_eq!(error_codes(&bad_period), ["BAD_USER_INPUT"]);
    // Analysts see figures but not memos.
    let analyst = token_for("analyst", &["analyst"], CITY);
    let hidden = ok(
        &server,
        &analyst,
        "query($from: DateTime!) { fund(code: \"RELIEF\") { statement(from: $from, to: \"2100-01-01T00:00:00Z\") { entries { nodes { memo } } } } }",
        json!({ "from": before_period.to_rfc3339() }),
    )
    .await;
    assert!(hidden["statement"]["entries"]["nodes"].as_array().unwrap().iter().all(|n| n["memo"] == "****"));

    // Filters on applications.
    let all = ok(&server, &token, "{ legalAidApplications(first: 500) { totalCount nodes { id state submittedAt fund { code } region { code } } } }", json!({})).await;
    let total = all["totalCount"].as_i64().unwrap();
    assert!(total > 1);
    let count_with = |filter: Value| {
        let server = &server;
        let token = &token;
        async move {
            ok(
                server,
                token,
                "query($f: LegalAidApplicationFilter) { legalAidApplications(filter: $f, first: 500) { totalCount nodes { state fund { code } } } }",
                json!({ "f": filter }),
            )
            .await
        }
    };
    let mut by_fund = 0;
    for fund in ["REVOLVING", "RELIEF", "CHARITY"] {
        let found = count_with(json!({ "fund": fund })).await;
        assert!(found["nodes"].as_array().unwrap().iter().all(|n| n["fund"]["code"] == fund));
        by_fund += found["totalCount"].as_i64().unwrap();
    }
    assert_eq!(by_fund, total);
    let disbursed = count_with(json!({ "state": "DISBURSED" })).await;
    assert!(disbursed["nodes"].as_array().unwrap().iter().all(|n| n["state"] == "DISBURSED"));
    assert!(disbursed["totalCount"].as_i64().unwrap() >= 1);
    let home = count_with(json!({ "inRegion": HOME_TOWNSHIP })).await;
    assert!(home["totalCount"].as_i64().unwrap() >= 1);
    assert_eq!(count_with(json!({ "inRegion": "999999" })).await["totalCount"], 0);
    assert_eq!(count_with(json!({ "fund": "NOPE" })).await["totalCount"], 0);
    let window =
        json!({ "submittedFrom": before_period.to_rfc3339(), "submittedTo": after_period.to_rfc3339() });
    assert_eq!(count_with(window).await["totalCount"], 1);
    let older = count_with(json!({ "submittedTo": before_period.to_rfc3339() })).await;
    let later = count_with(json!({ "submittedFrom": after_period.to_rfc3339() })).await;
    assert_eq!(older["totalCount"].as_i64().unwrap() + 1 + later["totalCount"].as_i64().unwrap(), total);

    // node(id:) for applications and entries.
    let node = ok(
        &server,
        &token,
        "query($id: ID!) { node(id: $id) { id ... on LegalAidApplication { code ledgerEntries { nodes { id } } } } }",
        json!({ "id": app["id"] }),
    )
    .await;
    assert_eq!(node["code"], app["code"]);
    let entry_id = node["ledgerEntries"]["nodes"][0]["id"].clone();
    let entry = ok(
        &server,
        &token,
        "query($id: ID!) { node(id: $id) { ... on LedgerEntry { kind amount application { code } } } }",
        json!({ "id": entry_id }),
    )
    .await;
    assert_eq!(
        entry,
        json!({ "kind": "DISBURSEMENT", "amount": "700.00", "application": { "code": app["code"] } })
    );
    assert_ledger_sound(&server).await;
}

/// A real transient failure of the database in use: on PostgreSQL a serialization failure (SQLSTATE 40001) of
/// two serializable transactions updating one row, on SQLite a busy error of a writer that does not wait.
async fn real_transient_error(url: &str) -> sea_orm::DbErr {
    use sea_orm::{IsolationLevel, TransactionOptions, TransactionTrait};
    let first = govgraph::db::connect(url, 1, None).await.unwrap();
    let second = govgraph::db::connect(url, 1, None).await.unwrap();
    if url.starts_with("postgres") {
        let serializable = || TransactionOptions {
            isolation_level: Some(IsolationLevel::Serializable),
            ..Default::default()
        };
        let a = first.begin_with_options(serializable()).await.unwrap();
        let b = second.begin_with_options(serializable()).await.unwrap();
        let read = "SELECT balance_fen FROM legal_aid_fund WHERE code = 'RELIEF'";
        let write = "UPDATE legal_aid_fund SET balance_fen = balance_fen WHERE code = 'RELIEF'";
        a.execute_unprepared(read).await.unwrap();
        b.execute_unprepared(read).await.unwrap();
        a.execute_unprepared(write).await.unwrap();
        a.commit().await.unwrap();
        let err = b.execute_unprepared(write).await.unwrap_err();
        b.rollback().await.ok();
        err
    } else {
        let holder = govgraph::db::begin_write(&first).await.unwrap();
        second.execute_unprepared("PRAGMA busy_timeout = 0").await.unwrap();
        let Err(err) = govgraph::db::begin_write(&second).await else { panic!("the write lock is free") };
        holder.rollback().await.unwrap();
        err
    }
}

#[tokio::test]
async fn transient_failures_are_recognised_and_retried() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let err = real_transient_error(&server.db.url).await;
    assert!(govgraph::legal_aid::ledger::is_transient(&err), "not recognised as transient: {err}");
    assert!(!govgraph::legal_aid::ledger::is_transient(&sea_orm::DbErr::Custom("broken".into())));

    // `retrying` runs the transaction again after a transient failure, and gives up after a bounded number.
    let before = govgraph::legal_aid::ledger::TRANSACTION_RETRIES.load(std::sync::atomic::Ordering::Relaxed);
    let attempts = std::sync::atomic::AtomicU32::new(0);
    let result = govgraph::legal_aid::ledger::retrying(|| {
        let n = attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let err = err.clone();
        async move { if n < 2 { Err(govgraph::error::ApiError::Database(err)) } else { Ok(n) } }
    })
    .await;
    assert_eq!(result.unwrap(), 2);
    assert!(
        govgraph::legal_aid::ledger::TRANSACTION_RETRIES.load(std::sync::atomic::Ordering::Relaxed)
            >= before + 2
    );
    let always = govgraph::legal_aid::ledger::retrying(|| {
        let err = err.clone();
        async move { Err::<(), _>(govgraph::error::ApiError::Database(err)) }
    })
    .await;
    assert_eq!(always.unwrap_err().code(), "CONFLICT");
    // Anything else is not retried.
    let calls = std::sync::atomic::AtomicU32::new(0);
    let refused = govgraph::legal_aid::ledger::retrying(|| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async { Err::<(), _>(govgraph::error::ApiError::InsufficientFunds("no".into())) }
    })
    .await;
    assert_eq!(refused.unwrap_err().code(), "INSUFFICIENT_FUNDS");
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
}
