//! Every error carries an `extensions.code`: parse errors, validation errors, and the coercion errors that
//! async-graphql raises while it executes (a literal out of range, a malformed custom scalar, a variable of the
//! wrong type), which once came without one.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{shared_demo, token_for};
use serde_json::{Value, json};

fn admin() -> String {
    token_for("codes", &["admin"], "330900")
}

/// Asserts that the response has errors and that each carries `code`.
fn assert_every_error_coded(label: &str, response: &Value, code: &str) {
    let errors = response["errors"].as_array().unwrap_or_else(|| panic!("{label}: no errors: {response:#}"));
    assert!(!errors.is_empty(), "{label}: {response:#}");
    for error in errors {
        assert_eq!(error["extensions"]["code"], code, "{label}: {response:#}");
    }
}

#[tokio::test]
async fn parse_validation_and_coercion_errors_all_carry_a_code() {
    let server = shared_demo().await;
    let token = admin();
    let cases: &[(&str, &str, Value)] = &[
        ("syntax error", "{ regions(first: 1) { totalCount ", json!({})),
        ("unknown field", "{ regions(first: 1) { noSuchField } }", json!({})),
        ("unknown argument", "{ regions(sideways: 1) { totalCount } }", json!({})),
        ("string for an Int", r#"{ regions(first: "x") { totalCount } }"#, json!({})),
        ("Int literal out of range", "{ auditEvents(first: -24388782960033) { totalCount } }", json!({})),
        ("Int literal above 2^31", "{ regions(first: 2147483648) { totalCount } }", json!({})),
        ("unknown enum value", "{ regions(filter: { level: PLANET }) { totalCount } }", json!({})),
        (
            "malformed date literal",
            r#"{ careSubjects(filter: { registeredFrom: "2026-13-01" }) { totalCount } }"#,
            json!({}),
        ),
        (
            "malformed DateTime literal",
            r#"{ auditEvents(filter: { from: "yesterday" }) { totalCount } }"#,
            json!({}),
        ),
        (
            "variable of the wrong type",
            "query($n: Int) { regions(first: $n) { totalCount } }",
            json!({ "n": "ten" }),
        ),
        (
            "variable out of range",
            "query($n: Int) { regions(first: $n) { totalCount } }",
            json!({ "n": 1e12 }),
        ),
        ("missing required variable", "query($code: String!) { region(code: $code) { name } }", json!({})),
        ("undeclared variable", "{ regions(first: $n) { totalCount } }", json!({})),
        ("unused variable", "query($n: Int) { regions(first: 1) { totalCount } }", json!({ "n": 1 })),
        (
            "malformed Money variable",
            "mutation($a: Money!) { recordDonation(fund: \"CHARITY\", amount: $a, memo: \"m\", idempotencyKey: \"k\") { replayed } }",
            json!({ "a": "12.345" }),
        ),
        (
            "Money as a JSON number",
            "mutation { recordDonation(fund: \"CHARITY\", amount: 5, memo: \"m\", idempotencyKey: \"k2\") { replayed } }",
            json!({}),
        ),
        ("malformed global ID", r#"{ node(id: "not-an-id!") { id } }"#, json!({})),
        ("fragment on an unknown type", "{ ...F } fragment F on Nowhere { id }", json!({})),
        (
            "two anonymous operations",
            "{ regions(first: 1) { totalCount } } { regions(first: 1) { totalCount } }",
            json!({}),
        ),
        ("subscription type absent", "subscription { nothing }", json!({})),
    ];
    for (label, query, variables) in cases {
        let response = server.gql(Some(&token), query, variables.clone()).await;
        assert_every_error_coded(label, &response, "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn a_value_out_of_range_for_a_page_is_a_bad_input_naming_it() {
    let server = shared_demo().await;
    let response =
        server.gql(Some(&admin()), "{ auditEvents(first: -24388782960033) { totalCount } }", json!({})).await;
    assert_every_error_coded("out of range", &response, "BAD_USER_INPUT");
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Int"), "{message}");
}
