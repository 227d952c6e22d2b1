//! Region codes are resolved once and remembered for a short time; unknown codes are never remembered.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use govgraph::db::StatementCounter;
use govgraph::directory::RegionDirectory;
use govgraph_tests::{Fixture, TestServer, assert_no_errors, token_for};
use sea_orm::ConnectionTrait;
use serde_json::json;

fn codes(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|code| (*code).to_owned()).collect()
}

#[tokio::test]
async fn known_codes_are_remembered_and_unknown_ones_looked_up_each_time() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let statements = Arc::new(StatementCounter::default());
    let db = govgraph::db::connect(&server.db.url, 2, Some(statements.clone())).await.unwrap();
    let directory = RegionDirectory::default();

    let found = directory.resolve(&db, codes(&["330902", "330922", "999999"])).await.unwrap();
    assert_eq!(statements.total(), 1, "one statement for every code of a request");
    assert_eq!(found["330902"].path, "/330900/330902/");
    assert_eq!(found["330922"].path, "/330900/330922/");
    assert!(!found.contains_key("999999"));

    let again = directory.resolve(&db, codes(&["330902", "330922"])).await.unwrap();
    assert_eq!(again, found.into_iter().filter(|(code, _)| code != "999999").collect());
    assert_eq!(statements.total(), 1, "known codes come from the directory");

    assert!(directory.find(&db, "999999").await.unwrap().is_none());
    assert_eq!(statements.total(), 2, "an unknown code is looked up again");
}

#[tokio::test]
async fn a_code_is_trusted_only_for_its_time_to_live() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let db = server.db.connect().await;
    let remembered = RegionDirectory::default();
    let fresh = RegionDirectory::with_ttl(Duration::ZERO);
    let before = remembered.find(&db, "330902").await.unwrap().unwrap();
    assert_eq!(fresh.find(&db, "330902").await.unwrap().unwrap(), before);

    // A change made directly in the database: the expired entry sees it, the remembered one not yet.
    db.execute_unprepared("UPDATE region SET code = 'X330902' WHERE code = '330902'").await.unwrap();
    assert!(fresh.find(&db, "330902").await.unwrap().is_none());
    assert_eq!(remembered.find(&db, "330902").await.unwrap().unwrap(), before);
}

#[tokio::test]
async fn a_server_resolves_the_token_region_once_for_many_requests() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let officer = token_for("officer-1", &["officer"], "330902");
    let query = r#"{ region(code: "330902001") { code } }"#;
    assert_no_errors(&server.gql(Some(&officer), query, json!({})).await);
    let before = server.statement_count();
    for _ in 0..5 {
        let response = server.gql(Some(&officer), query, json!({})).await;
        assert_eq!(response["data"]["region"]["code"], "330902001", "{response}");
    }
    // One scoped statement per request: the token's region is not looked up again.
    assert_eq!(server.statement_count() - before, 5);

    // The scope still applies in SQL: a region outside it is not found.
    let outside = server.gql(Some(&officer), r#"{ region(code: "330922") { code } }"#, json!({})).await;
    assert!(outside["data"]["region"].is_null(), "{outside}");
}
