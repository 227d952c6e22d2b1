//! Runs every migration up and back down on a fresh SQLite database, and on a fresh PostgreSQL database when
//! `DATABASE_URL` points at a PostgreSQL server, checking in between that the CHECK constraints, foreign keys,
//! unique indexes and append-only triggers reject what they are there to reject.
//!
//! Everything is written as raw SQL that both backends accept, so the two runs test the same statements.

mod common;

use migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};
use migration::{Migrator, MigratorTrait};

/// Every table the migrations create, in alphabetical order.
const TABLES: [&str; 39] = [
    "assessment_step",
    "audit_event",
    "audit_event_record",
    "care_group_member",
    "care_subject",
    "care_visit",
    "correction_profile",
    "disclosure_key",
    "dispute",
    "dispute_event",
    "dispute_party",
    "dispute_vessel",
    "fishing_vessel",
    "grid_team_member",
    "ledger_entry",
    "legal_aid_application",
    "legal_aid_fund",
    "major_project",
    "mediation_boat",
    "mediator",
    "mental_health_profile",
    "mentor",
    "mentoring_outcome",
    "mentoring_session",
    "mentorship",
    "mitigation_measure",
    "region",
    "responsible_unit",
    "risk_assessment",
    "service_record",
    "service_rollup",
    "service_rollup_pending",
    "stability_assessment",
    "unit_veto",
    "volunteer",
    "volunteer_badge",
    "volunteer_team",
    "volunteer_team_membership",
    "youth_profile",
];

#[tokio::test]
async fn sqlite_schema_goes_up_rejects_bad_rows_and_comes_down() -> Result<(), DbErr> {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_schema_goes_up_rejects_bad_rows_and_comes_down() -> Result<(), DbErr> {
    let Some(server) = common::postgres_url() else {
        return Ok(());
    };
    let scratch = common::ScratchDatabase::create(&server).await?;
    let outcome = match Database::connect(scratch.url.as_str()).await {
        Ok(db) => {
            let outcome = exercise(&db).await;
            outcome.and(db.close().await)
        }
        Err(err) => Err(err),
    };
    let dropped = scratch.drop().await;
    outcome.and(dropped)
}

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        common::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        common::with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(common::with_database("postgresql://h:5432", "x"), "postgresql://h:5432/x");
}

async fn exercise(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    assert_no_pending(db).await?;
    assert_eq!(tables(db).await?, TABLES);

    regions_are_checked(db).await?;
    text_lengths_are_enforced(db).await?;
    ledger_is_checked_and_append_only(db).await?;
    audit_trail_is_append_only(db).await?;
    care_and_mentoring_are_checked(db).await?;
    disputes_refer_to_existing_projects(db).await?;

    // With rows still in place, including rows that refer to rows of their own table.
    Migrator::down(db, None).await?;
    assert_nothing_left(db).await?;

    // A second round trip proves that `down` left nothing behind for `up` to trip over.
    Migrator::up(db, None).await?;
    assert_no_pending(db).await?;
    Migrator::down(db, None).await?;
    assert_nothing_left(db).await
}

async fn regions_are_checked(db: &DatabaseConnection) -> Result<(), DbErr> {
    exec(db, &region("330900", "CITY", None, "/330900/", 0)).await?;
    exec(db, &region("330902", "DISTRICT", Some("330900"), "/330900/330902/", 1)).await?;
    exec(db, &region("330902001", "TOWNSHIP", Some("330902"), "/330900/330902/330902001/", 2)).await?;

    rejects(db, &region("1", "PLANET", Some("330900"), "/330900/1/", 1), "ck-region-level").await?;
    rejects(db, &region("2", "GRID", Some("330900"), "/330900/2/", 5), "ck-region-depth").await?;
    rejects(db, &region("3", "GRID", Some("330900"), "/330900/330902/", 4), "path").await?;
    rejects(
        db,
        "INSERT INTO region (code, name, level, parent_id, path, depth, created_at) \
         VALUES ('4', 'n', 'GRID', 999999, '/4/', 4, '2026-11-29 08:00:00+00:00')",
        "foreign key constraint",
    )
    .await?;
    // RESTRICT: a region with children cannot go.
    rejects(db, "DELETE FROM region WHERE code = '330902'", "foreign key constraint").await?;

    // The subtree range predicate needs byte-wise ordering of `path`.
    let in_subtree =
        count(db, "SELECT COUNT(*) FROM region WHERE path >= '/330900/330902/' AND path < '/330900/3309020'")
            .await?;
    assert_eq!(in_subtree, 2);
    if db.get_database_backend() == DbBackend::Postgres {
        let collated = count(
            db,
            "SELECT COUNT(*) FROM information_schema.columns \
             WHERE table_name = 'region' AND column_name = 'path' AND collation_name = 'C'",
        )
        .await?;
        assert_eq!(collated, 1, "region.path should be COLLATE \"C\"");
    }
    Ok(())
}

/// Both databases refuse text longer than its column, counted in characters: PostgreSQL by `varchar(N)`, SQLite by
/// the triggers that every table with a `varchar(N)` column must carry (a table added without them fails here).
async fn text_lengths_are_enforced(db: &DatabaseConnection) -> Result<(), DbErr> {
    let longest_name = "舟".repeat(64);
    exec(
        db,
        &region("330902002", "TOWNSHIP", Some("330902"), "/330900/330902/330902002/", 2)
            .replace("'name'", &format!("'{longest_name}'")),
    )
    .await?;
    let too_long = region("330902003", "TOWNSHIP", Some("330902"), "/330900/330902/330902003/", 2)
        .replace("'name'", &format!("'{longest_name}舟'"));
    rejects(db, &too_long, "too long").await?;
    rejects(db, &format!("UPDATE region SET name = '{longest_name}舟' WHERE code = '330902002'"), "too long")
        .await?;
    exec(db, "DELETE FROM region WHERE code = '330902002'").await?;
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    for table in tables(db).await? {
        let columns = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT name, type FROM pragma_table_info(?)",
                [table.clone().into()],
            ))
            .await?;
        for (event, suffix) in [("INSERT", "insert"), ("UPDATE", "update")] {
            let trigger = strings(
                db,
                &format!("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = '{table}_text_length_{suffix}'"),
            )
            .await?
            .concat();
            for column in &columns {
                let name: String = column.try_get("", "name")?;
                let declared: String = column.try_get("", "type")?;
                let Some(limit) = declared
                    .to_ascii_lowercase()
                    .strip_prefix("varchar(")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .map(str::to_owned)
                else {
                    continue;
                };
                let check = format!(r#"length(NEW."{name}") > {limit}"#);
                assert!(
                    trigger.contains(&check) && trigger.contains(&format!("BEFORE {event}")),
                    "{table}.{name} is varchar({limit}) but no {event} trigger refuses longer values: {trigger:?}"
                );
            }
        }
    }
    Ok(())
}

async fn ledger_is_checked_and_append_only(db: &DatabaseConnection) -> Result<(), DbErr> {
    exec(
        db,
        "INSERT INTO legal_aid_fund (code, kind, name, region_id, balance_fen, established_on, created_at) \
         VALUES ('ZS-REVOLVING', 'REVOLVING', '法律援助周转救助金', \
         (SELECT id FROM region WHERE code = '330900'), 0, '2009-01-01', '2026-11-29 08:00:00+00:00')",
    )
    .await?;
    rejects(db, "UPDATE legal_aid_fund SET balance_fen = -1", "ck-legal_aid_fund-balance_fen").await?;
    exec(db, &entry("k1", "DONATION", 1, 500_000, None)).await?;
    rejects(db, &entry("k2", "DISBURSEMENT", 1, 100, None), "ck-ledger_entry-kind-direction").await?;
    rejects(db, &entry("k2", "DONATION", 2, 100, None), "ck-ledger_entry-").await?;
    rejects(db, &entry("k2", "DONATION", 1, 0, None), "ck-ledger_entry-amount_fen").await?;
    rejects(db, &entry("k2", "REVERSAL", -1, 500_000, None), "ck-ledger_entry-kind-direction").await?;
    rejects(db, &entry("k1", "DONATION", 1, 100, None), "idempotency_key").await?;
    exec(db, &entry("k2", "REVERSAL", -1, 500_000, Some("k1"))).await?;
    rejects(db, &entry("k3", "REVERSAL", -1, 500_000, Some("k1")), "reverses_entry_id").await?;
    exec(db, &entry("k3", "WRITE_OFF", 0, 100, None)).await?;

    rejects(db, "UPDATE ledger_entry SET memo = 'edited'", "ledger_entry is append-only").await?;
    rejects(db, "DELETE FROM ledger_entry WHERE idempotency_key = 'k3'", "ledger_entry is append-only")
        .await?;
    if db.get_database_backend() == DbBackend::Postgres {
        rejects(db, "TRUNCATE ledger_entry", "ledger_entry is append-only").await?;
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM ledger_entry").await?, 3);
    Ok(())
}

async fn audit_trail_is_append_only(db: &DatabaseConnection) -> Result<(), DbErr> {
    exec(
        db,
        "INSERT INTO audit_event (occurred_at, actor, roles, action, entity_type, region_code, request_id, \
         purpose, detail, prev_hash, hash) VALUES ('2026-11-29 08:00:00+00:00', 'tester', 'auditor', 'READ', \
         'care_subject', '330900', 'r1', 'test', NULL, '', 'h1')",
    )
    .await?;
    let record = "INSERT INTO audit_event_record (event_id, entity_type, entity_id) \
                  VALUES ((SELECT id FROM audit_event WHERE hash = 'h1'), 'care_subject', 1)";
    exec(db, record).await?;
    rejects(db, record, "entity_id").await?;
    rejects(db, "UPDATE audit_event SET actor = 'someone else'", "audit_event is append-only").await?;
    rejects(db, "DELETE FROM audit_event", "audit_event is append-only").await?;
    rejects(db, "UPDATE audit_event_record SET entity_id = 2", "audit_event_record is append-only").await?;
    rejects(db, "DELETE FROM audit_event_record", "audit_event_record is append-only").await
}

async fn care_and_mentoring_are_checked(db: &DatabaseConnection) -> Result<(), DbErr> {
    let subject = |code: &str, gender: &str, risk: &str| {
        format!(
            "INSERT INTO care_subject (code, category, name, gender, id_number, birth_date, phone, address, \
             region_id, status, current_risk_level, registered_on, created_at, updated_at) \
             VALUES ('{code}', 'AT_RISK_YOUTH', '小明', '{gender}', '3309022008010100{code}', '2008-01-01', NULL, \
             '定海区', (SELECT id FROM region WHERE code = '330902'), 'ACTIVE', {risk}, '2025-01-01', \
             '2026-11-29 08:00:00+00:00', '2026-11-29 08:00:00+00:00')"
        )
    };
    exec(db, &subject("CS1", "M", "NULL")).await?;
    exec(db, &subject("CS2", "F", "5")).await?;
    rejects(db, &subject("CS3", "X", "NULL"), "ck-care_subject-gender").await?;
    rejects(db, &subject("CS3", "M", "6"), "ck-care_subject-current_risk_level").await?;
    // One registration per person and category.
    rejects(
        db,
        &subject("CS1", "M", "NULL").replace("'CS1', 'AT_RISK_YOUTH'", "'CS9', 'AT_RISK_YOUTH'"),
        "UNIQUE",
    )
    .await?;
    rejects(
        db,
        "INSERT INTO risk_assessment (subject_id, level, assessed_on, assessor, notes, created_at) \
         VALUES ((SELECT id FROM care_subject WHERE code = 'CS1'), -1, '2026-11-29', 'dr', NULL, \
         '2026-11-29 08:00:00+00:00')",
        "ck-risk_assessment-level",
    )
    .await?;

    exec(
        db,
        "INSERT INTO mentor (code, name, phone, occupation, region_id, active, created_at) \
         VALUES ('M1', '王老师', '13800000000', 'teacher', (SELECT id FROM region WHERE code = '330902'), \
         TRUE, '2026-11-29 08:00:00+00:00')",
    )
    .await?;
    let pairing = |status: &str| {
        format!(
            "INSERT INTO mentorship (mentor_id, mentee_id, status, goal, started_on, ended_on, created_at) \
             VALUES ((SELECT id FROM mentor WHERE code = 'M1'), (SELECT id FROM care_subject WHERE code = 'CS1'), \
             '{status}', NULL, '2025-01-01', NULL, '2026-11-29 08:00:00+00:00')"
        )
    };
    // Closed pairings are history: any number of them; open ones: one per youth.
    exec(db, &pairing("CLOSED")).await?;
    exec(db, &pairing("CLOSED")).await?;
    exec(db, &pairing("ACTIVE")).await?;
    rejects(db, &pairing("ACTIVE"), "mentee_id").await?;
    rejects(db, &pairing("PAUSED"), "ck-mentorship-status").await?;
    rejects(
        db,
        "INSERT INTO mentoring_session (mentorship_id, held_on, minutes, topic, notes, created_at) \
         VALUES ((SELECT MIN(id) FROM mentorship), '2026-11-29', 0, 'topic', NULL, '2026-11-29 08:00:00+00:00')",
        "ck-mentoring_session-minutes",
    )
    .await
}

fn region(code: &str, level: &str, parent: Option<&str>, path: &str, depth: i16) -> String {
    let parent = parent.map_or_else(
        || "NULL".to_owned(),
        |parent| format!("(SELECT id FROM region WHERE code = '{parent}')"),
    );
    format!(
        "INSERT INTO region (code, name, level, parent_id, path, depth, created_at) \
         VALUES ('{code}', 'name', '{level}', {parent}, '{path}', {depth}, '2026-11-29 08:00:00+00:00')"
    )
}

fn entry(key: &str, kind: &str, direction: i16, amount_fen: i64, reverses: Option<&str>) -> String {
    let reverses = reverses.map_or_else(
        || "NULL".to_owned(),
        |key| format!("(SELECT id FROM ledger_entry WHERE idempotency_key = '{key}')"),
    );
    format!(
        "INSERT INTO ledger_entry (fund_id, application_id, kind, direction, amount_fen, reverses_entry_id, \
         idempotency_key, request_hash, actor, memo, created_at) \
         VALUES ((SELECT id FROM legal_aid_fund WHERE code = 'ZS-REVOLVING'), NULL, '{kind}', {direction}, \
         {amount_fen}, {reverses}, '{key}', 'hash', 'tester', NULL, '2026-11-29 08:00:00+00:00')"
    )
}

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<(), DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

/// Asserts that `sql` fails with an error whose message contains `expected` (case-insensitively).
/// `dispute.major_project_id` got its foreign key with the projects' table: a constraint on PostgreSQL, triggers
/// on SQLite.
async fn disputes_refer_to_existing_projects(db: &DatabaseConnection) -> Result<(), DbErr> {
    let dispute = |project: &str| {
        format!(
            "INSERT INTO dispute (code, grid_id, region_id, reported_at, channel, category, summary, escalation_risk, \
             state, stage_started_at, major_project_id, instability_incident, idempotency_key, reported_by, \
             created_at, updated_at) VALUES ('MD-FK', (SELECT id FROM region WHERE code = '330902001'), \
             (SELECT id FROM region WHERE code = '330902001'), '2026-11-29 08:00:00+00:00', 'HOTLINE', 'OTHER', 's', \
             'LOW', 'REPORTED', '2026-11-29 08:00:00+00:00', {project}, FALSE, 'k-fk', 'x', \
             '2026-11-29 08:00:00+00:00', '2026-11-29 08:00:00+00:00')"
        )
    };
    rejects(db, &dispute("999999"), "foreign key constraint").await?;
    exec(db, &dispute("NULL")).await
}

async fn rejects(db: &DatabaseConnection, sql: &str, expected: &str) -> Result<(), DbErr> {
    match db.execute_unprepared(sql).await {
        Ok(_) => panic!("accepted, but should fail with {expected:?}: {sql}"),
        Err(err) => {
            let message = err.to_string();
            assert!(
                message.to_lowercase().contains(&expected.to_lowercase()),
                "expected {expected:?} in the error of {sql}, got: {message}"
            );
            Ok(())
        }
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(sql.to_owned()))?;
    row.try_get_by_index(0)
}

async fn strings(db: &DatabaseConnection, sql: &str) -> Result<Vec<String>, DbErr> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect()
}

/// The application's tables (everything but sea-orm's own `seaql_migrations`), sorted.
async fn tables(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name <> 'seaql_migrations' ORDER BY table_name"
        }
        _ => {
            "SELECT name FROM sqlite_master \
             WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' ORDER BY name"
        }
    };
    strings(db, sql).await
}

async fn assert_no_pending(db: &DatabaseConnection) -> Result<(), DbErr> {
    let pending: Vec<String> = Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect();
    assert!(pending.is_empty(), "still pending after up: {pending:?}");
    Ok(())
}

/// No table, index, trigger or (on PostgreSQL) trigger function of ours is left.
async fn assert_nothing_left(db: &DatabaseConnection) -> Result<(), DbErr> {
    assert_eq!(tables(db).await?, Vec::<String>::new());
    let leftovers = match db.get_database_backend() {
        DbBackend::Postgres => {
            strings(
                db,
                "SELECT proname::text FROM pg_proc WHERE proname = 'govgraph_reject_change'",
            )
            .await?
        }
        _ => {
            strings(
                db,
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> 'seaql_migrations'",
            )
            .await?
        }
    };
    assert_eq!(leftovers, Vec::<String>::new());
    Ok(())
}
