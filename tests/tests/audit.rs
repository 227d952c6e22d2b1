//! The audit trail over HTTP: reads of personal fields are recorded with who, why and which records; the
//! chain verifies, rejects edits at the database level, and detects tampering.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::sync::Arc;

use govgraph::audit::chain::{ChainReport, verify};
use govgraph::audit::{GroupCommitError, NewEvent, ReadAuditQueue};
use govgraph::db::StatementCounter;
use govgraph_tests::{Fixture, TestServer, assert_no_errors, error_codes, token_for};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use serde_json::json;

const VOLUNTEERS: &str =
    r#"{ volunteers(first: 3, inRegion: "330902") { edges { node { id code name phone } } } }"#;

#[tokio::test]
async fn reads_of_personal_fields_are_audited_and_answerable() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let officer = token_for("officer-7", &["officer"], "330902");
    let read = server
        .gql_with_headers(Some(&officer), &[("x-access-purpose", "dispute follow-up")], VOLUNTEERS, json!({}))
        .await;
    assert_no_errors(&read);
    let first = &read["data"]["volunteers"]["edges"][0]["node"];
    let volunteer_id = first["id"].as_str().unwrap().to_owned();

    // Masked reads are not personal reads: the analyst leaves no trace about the volunteer.
    let analyst = token_for("analyst-1", &["analyst"], "330900");
    assert_no_errors(&server.gql(Some(&analyst), VOLUNTEERS, json!({})).await);

    let auditor = token_for("auditor-1", &["auditor"], "330900");
    let trail = server
        .gql(
            Some(&auditor),
            "query($about: ID!) { auditEvents(filter: { about: $about }) {
                 totalCount
                 edges { node { actor roles action entityType regionCode purpose requestId
                                records { entityType entityId } } } } }",
            json!({ "about": volunteer_id }),
        )
        .await;
    assert_no_errors(&trail);
    let events = &trail["data"]["auditEvents"];
    assert_eq!(events["totalCount"], 1, "{trail}");
    let event = &events["edges"][0]["node"];
    assert_eq!(event["actor"], "officer-7");
    assert_eq!(event["roles"], "officer");
    assert_eq!(event["action"], "READ");
    assert_eq!(event["entityType"], "volunteer");
    assert_eq!(event["regionCode"], "330902");
    assert_eq!(event["purpose"], "dispute follow-up");
    assert!(!event["requestId"].as_str().unwrap().is_empty());
    assert_eq!(event["records"].as_array().unwrap().len(), 3);

    // Only auditors and administrators read the trail; an auditor of another district sees nothing of it.
    let forbidden = server.gql(Some(&officer), "{ auditEvents { totalCount } }", json!({})).await;
    assert_eq!(error_codes(&forbidden), ["FORBIDDEN"]);
    let elsewhere = token_for("auditor-2", &["auditor"], "330922");
    let other = server.gql(Some(&elsewhere), "{ auditEvents { totalCount } }", json!({})).await;
    assert_eq!(other["data"]["auditEvents"]["totalCount"], 0, "{other}");

    let by_actor = server
        .gql(Some(&auditor), r#"{ auditEvents(filter: { actor: "analyst-1" }) { totalCount } }"#, json!({}))
        .await;
    assert_eq!(by_actor["data"]["auditEvents"]["totalCount"], 0);

    let db = server.db.connect().await;
    assert_eq!(verify(&db).await.unwrap(), ChainReport::Intact { events: 1 });
}

#[tokio::test]
async fn concurrent_reads_keep_one_unbroken_chain() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let officer = token_for("officer-1", &["officer"], "330900");
    let reads = (0..24).map(|_| server.gql(Some(&officer), VOLUNTEERS, json!({})));
    for response in futures_util::future::join_all(reads).await {
        assert_no_errors(&response);
    }
    let db = server.db.connect().await;
    assert_eq!(verify(&db).await.unwrap(), ChainReport::Intact { events: 24 });

    // Reads committed together still keep one event per request, each with that request's records.
    let auditor = token_for("auditor-1", &["auditor"], "330900");
    let trail = server
        .gql(
            Some(&auditor),
            r#"{ auditEvents(first: 100, filter: { actor: "officer-1" }) {
                 totalCount nodes { requestId records { entityId } } } }"#,
            json!({}),
        )
        .await;
    assert_no_errors(&trail);
    let events = trail["data"]["auditEvents"]["nodes"].as_array().unwrap();
    assert_eq!(events.len(), 24, "{trail}");
    let request_ids: std::collections::BTreeSet<&str> =
        events.iter().map(|event| event["requestId"].as_str().unwrap()).collect();
    assert_eq!(request_ids.len(), 24, "every request has its own event: {trail}");
    assert!(events.iter().all(|event| event["records"].as_array().unwrap().len() == 3), "{trail}");
}

/// The number of rows in `table`.
async fn rows_in(db: &sea_orm::DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

fn read_event(request: usize, entity: &str) -> NewEvent {
    NewEvent {
        actor: format!("reader-{request}"),
        roles: "officer".into(),
        action: "READ".into(),
        entity_type: entity.into(),
        region_code: "330902".into(),
        request_id: format!("request-{request}"),
        purpose: None,
        detail: Some("fields up to PERSONAL".into()),
        records: vec![(entity.into(), i64::try_from(request).unwrap() + 1)],
    }
}

#[tokio::test]
async fn concurrent_requests_share_audit_transactions_and_each_learns_its_outcome() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let statements = Arc::new(StatementCounter::default());
    let db = govgraph::db::connect(&server.db.url, 4, Some(statements.clone())).await.unwrap();
    let queue = ReadAuditQueue::new();
    let requests = 50;
    let writes = (0..requests).map(|request| {
        let (queue, db) = (queue.clone(), db.clone());
        async move {
            queue
                .record(&db, vec![read_event(request, "volunteer"), read_event(request, "care_subject")])
                .await
        }
    });
    for outcome in futures_util::future::join_all(writes).await {
        outcome.unwrap();
    }
    assert_eq!(verify(&db).await.unwrap(), ChainReport::Intact { events: 100 });
    // One transaction per request would take at least four statements each (previous hash, two events, their
    // records); sharing transactions leaves one hash lookup and one records insert per batch.
    let used = statements.total();
    assert!(used < u64::try_from(requests * 3).unwrap(), "{used} statements for {requests} requests");

    // Every event carries its own request's records, in chain order per request.
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT e.request_id, e.entity_type, r.entity_id FROM audit_event e \
             JOIN audit_event_record r ON r.event_id = e.id ORDER BY e.id",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 100);
    for row in rows {
        let request_id: String = row.try_get("", "request_id").unwrap();
        let entity_id: i64 = row.try_get("", "entity_id").unwrap();
        assert_eq!(request_id, format!("request-{}", entity_id - 1));
    }
}

#[tokio::test]
async fn a_large_append_is_numbered_in_chain_order_and_a_sequence_behind_the_chain_is_refused() {
    use sea_orm::TransactionTrait;
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let db = server.db.connect().await;
    let before = match verify(&db).await.unwrap() {
        ChainReport::Intact { events } => events,
        broken => panic!("{broken:?}"),
    };
    // More events than one insert statement carries, so the chunks must continue each other's chain.
    let txn = db.begin().await.unwrap();
    let events: Vec<NewEvent> = (0..2500).map(|request| read_event(request, "volunteer")).collect();
    let ids = govgraph::audit::chain::append_all(&txn, events).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(ids.len(), 2500);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids follow the chain's order");
    assert_eq!(verify(&db).await.unwrap(), ChainReport::Intact { events: before + 2500 });

    if db.get_database_backend() == DatabaseBackend::Postgres {
        // A sequence set back below the chain's end would slot new events between old ones.
        db.execute_unprepared("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), 1)").await.unwrap();
        let txn = db.begin().await.unwrap();
        let refused = govgraph::audit::chain::append_all(&txn, vec![read_event(0, "volunteer")]).await;
        txn.rollback().await.unwrap();
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("behind the chain"), "{message}");
        assert_eq!(verify(&db).await.unwrap(), ChainReport::Intact { events: before + 2500 });
    }
}

#[tokio::test]
async fn a_failed_audit_transaction_fails_every_request_in_it_and_writes_nothing() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let db = server.db.connect().await;
    db.execute_unprepared("DROP TABLE audit_event_record").await.unwrap();
    let queue = ReadAuditQueue::new();
    let writes = (0..20).map(|request| {
        let (queue, db) = (queue.clone(), db.clone());
        async move { queue.record(&db, vec![read_event(request, "volunteer")]).await }
    });
    for outcome in futures_util::future::join_all(writes).await {
        assert!(matches!(outcome, Err(GroupCommitError::Database { .. })), "{outcome:?}");
    }
    assert_eq!(rows_in(&db, "audit_event").await, 0, "a failed batch must roll back its events");

    // Over HTTP the reader gets no data, only INTERNAL.
    let officer = token_for("officer-1", &["officer"], "330900");
    let refused = server.gql(Some(&officer), VOLUNTEERS, json!({})).await;
    assert_eq!(error_codes(&refused), ["INTERNAL"]);
    assert!(refused["data"].is_null(), "{refused}");
}

#[tokio::test]
async fn the_trail_is_append_only_and_tampering_is_detected() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let officer = token_for("officer-1", &["officer"], "330900");
    for _ in 0..3 {
        assert_no_errors(&server.gql(Some(&officer), VOLUNTEERS, json!({})).await);
    }
    let db = server.db.connect().await;
    assert_eq!(verify(&db).await.unwrap(), ChainReport::Intact { events: 3 });

    for statement in [
        "UPDATE audit_event SET purpose = 'nothing to see' WHERE id = 2",
        "DELETE FROM audit_event WHERE id = 2",
        "UPDATE audit_event_record SET entity_id = 1 WHERE event_id = 2",
    ] {
        let refused = db.execute_unprepared(statement).await;
        assert!(refused.is_err(), "{statement} must be refused");
        assert!(refused.unwrap_err().to_string().contains("append-only"));
    }

    // Someone with the database owner's rights removes the guard and edits history: verify notices.
    let drop_guard = match db.get_database_backend() {
        DatabaseBackend::Postgres => "DROP TRIGGER audit_event_reject_update ON audit_event",
        _ => "DROP TRIGGER audit_event_reject_update",
    };
    db.execute_unprepared(drop_guard).await.unwrap();
    db.execute_unprepared("UPDATE audit_event SET purpose = 'nothing to see' WHERE id = 2").await.unwrap();
    match verify(&db).await.unwrap() {
        ChainReport::Broken { event_id, .. } => assert_eq!(event_id, 2),
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

#[tokio::test]
async fn an_append_costs_the_same_statements_whatever_its_size() {
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let statements = Arc::new(StatementCounter::default());
    let db = govgraph::db::connect(&server.db.url, 2, Some(statements.clone())).await.unwrap();
    let mut appended = 0u64;
    let mut costs = Vec::new();
    for size in [1, 10, 300] {
        let events: Vec<NewEvent> = (0..size)
            .map(|request| {
                let mut event = read_event(request, "care_subject");
                event.records.extend([("care_subject".to_owned(), 1_000_000), ("volunteer".to_owned(), 9)]);
                event
            })
            .collect();
        let txn = govgraph::db::begin_write(&db).await.unwrap();
        let before = statements.total();
        govgraph::audit::chain::append_all(&txn, events).await.unwrap();
        costs.push(statements.total() - before);
        txn.commit().await.unwrap();
        appended += u64::try_from(size).unwrap();
    }
    // PostgreSQL: the lock, the chain's end with the new ids, then events and records together. SQLite: the
    // chain's end, the events, the records.
    assert_eq!(costs, [3, 3, 3], "statements per append of 1, 10 and 300 events");
    assert_eq!(verify(&db).await.unwrap(), ChainReport::Intact { events: appended });
    assert_eq!(rows_in(&db, "audit_event_record").await, i64::try_from(appended * 3).unwrap());
}

/// The number of events in the chain, which must be intact.
async fn intact_events(db: &sea_orm::DatabaseConnection) -> u64 {
    match verify(db).await.unwrap() {
        ChainReport::Intact { events } => events,
        broken => panic!("{broken:?}"),
    }
}

#[tokio::test]
async fn a_read_append_costs_the_same_statements_whatever_was_appended_before() {
    use sea_orm::TransactionTrait;
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let statements = Arc::new(StatementCounter::default());
    let db = govgraph::db::connect(&server.db.url, 4, Some(statements.clone())).await.unwrap();
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let before = intact_events(&db).await;
    let queue = ReadAuditQueue::new();
    let mut costs = Vec::new();

    let counted = statements.total();
    queue.record(&db, vec![read_event(0, "volunteer")]).await.unwrap();
    costs.push(statements.total() - counted);
    let counted = statements.total();
    queue.record(&db, vec![read_event(1, "volunteer"), read_event(1, "care_subject")]).await.unwrap();
    costs.push(statements.total() - counted);

    // A mutation appends its event in its own transaction, under the chain's lock.
    let txn = db.begin().await.unwrap();
    govgraph::audit::chain::append_all(&txn, vec![read_event(2, "care_subject")]).await.unwrap();
    txn.commit().await.unwrap();
    let counted = statements.total();
    queue.record(&db, vec![read_event(3, "volunteer")]).await.unwrap();
    costs.push(statements.total() - counted);
    if postgres {
        // One statement: the chain's end, the link, the events and their records.
        assert_eq!(costs, [1, 1, 1], "statements per read append");
    } else {
        assert!(costs.windows(2).all(|pair| pair[0] == pair[1]), "statements per read append: {costs:?}");
    }
    assert_eq!(intact_events(&db).await, before + 5);

    // Readers and mutations at once, on every connection of the pool: one chain, every event in it.
    let reads = (10..40).map(|request| {
        let (queue, db) = (queue.clone(), db.clone());
        tokio::spawn(async move { queue.record(&db, vec![read_event(request, "volunteer")]).await })
    });
    let changes = (40..60).map(|request| {
        let db = db.clone();
        tokio::spawn(async move {
            let txn = govgraph::db::begin_write(&db).await?;
            govgraph::audit::chain::append_all(&txn, vec![read_event(request, "care_subject")]).await?;
            txn.commit().await
        })
    });
    let reads: Vec<_> = reads.collect();
    let changes: Vec<_> = changes.collect();
    for read in reads {
        read.await.unwrap().unwrap();
    }
    for change in changes {
        change.await.unwrap().unwrap();
    }
    assert_eq!(intact_events(&db).await, before + 55);
    assert_eq!(rows_in(&db, "audit_event").await, i64::try_from(before + 55).unwrap());
}

#[tokio::test]
async fn a_link_hashed_in_sql_verifies_refuses_a_stale_end_and_keeps_chain_order() {
    use govgraph::audit::chain::end_hash;
    use govgraph::audit::link::{Linked, append_linked};
    let server = TestServer::start(Fixture::Demo(0.002)).await;
    let db = server.db.connect().await;
    if db.get_database_backend() != DatabaseBackend::Postgres {
        // SQLite appends in one write transaction, which holds the whole database; there is no link to refuse.
        return;
    }
    let before = intact_events(&db).await;
    let end = end_hash(&db).await.unwrap();

    // Several hundred events with their records, linked in one statement: the hashes the statement computes
    // are the ones `verify` recomputes in Rust, whatever the fields hold (no purpose, no detail, no records,
    // repeated records, multi-byte text, quotes), and the ids follow the chain.
    let mut events: Vec<NewEvent> = (0..300).map(|request| read_event(request, "volunteer")).collect();
    events[1].purpose = Some("复核 \"case\" 'review' \\ 🙂".into());
    events[2].detail = None;
    events[3].records.clear();
    events[4].records = vec![("volunteer".into(), 9), ("care_subject".into(), 9), ("volunteer".into(), 9)];
    events[5].actor = "网格员-张".into();
    let Linked::Appended { prev_hash, last_hash } = append_linked(&db, events).await.unwrap() else {
        panic!("the chain moved with no other writer")
    };
    assert_eq!(prev_hash, end);
    assert_eq!(end_hash(&db).await.unwrap(), last_hash);
    assert_eq!(intact_events(&db).await, before + 300);
    let (events, records) = (rows_in(&db, "audit_event").await, rows_in(&db, "audit_event_record").await);

    // A mutation holding the chain's lock appends while a link waits for it: the link's snapshot predates
    // the mutation's event, so it links after the end it saw, the unique index refuses the fork, and
    // nothing of it is written. Tried again, it links after the mutation's event.
    let txn = govgraph::db::begin_write(&db).await.unwrap();
    govgraph::audit::chain::append_all(&txn, vec![read_event(400, "care_subject")]).await.unwrap();
    let waiting_link = {
        let db = db.clone();
        tokio::spawn(async move { append_linked(&db, vec![read_event(401, "volunteer")]).await })
    };
    let waiting = || async {
        db.query_one_raw(sea_orm::Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
    };
    while waiting().await == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    txn.commit().await.unwrap();
    assert_eq!(waiting_link.await.unwrap().unwrap(), Linked::ChainMoved);
    assert_eq!(rows_in(&db, "audit_event").await, events + 1);
    assert_eq!(rows_in(&db, "audit_event_record").await, records + 1);
    let mutation_end = end_hash(&db).await.unwrap();
    let Linked::Appended { prev_hash, last_hash } =
        append_linked(&db, vec![read_event(401, "volunteer")]).await.unwrap()
    else {
        panic!("the chain moved with no other writer")
    };
    assert_eq!(prev_hash, mutation_end);
    assert_eq!(intact_events(&db).await, before + 302);
    let (events, records) = (rows_in(&db, "audit_event").await, rows_in(&db, "audit_event_record").await);

    // A sequence set back below the chain's end would slot new events between old ones: refused too.
    db.execute_unprepared("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), 1)").await.unwrap();
    let message = append_linked(&db, vec![read_event(600, "volunteer")]).await.unwrap_err().to_string();
    assert!(message.contains("behind the chain"), "{message}");
    assert_eq!(rows_in(&db, "audit_event").await, events);
    assert_eq!(rows_in(&db, "audit_event_record").await, records);
    assert_eq!(end_hash(&db).await.unwrap(), last_hash);
    assert_eq!(intact_events(&db).await, before + 302);

    // No foreign key keeps records to their events here: a record planted for an event yet to come is reported.
    db.execute_unprepared(
        "INSERT INTO audit_event_record (event_id, entity_type, entity_id) VALUES (999999999, 'volunteer', 1)",
    )
    .await
    .unwrap();
    match verify(&db).await.unwrap() {
        ChainReport::Broken { event_id: 999_999_999, reason } => {
            assert!(reason.contains("not in the chain"), "{reason}")
        }
        other => panic!("a planted record went unnoticed: {other:?}"),
    }
}
