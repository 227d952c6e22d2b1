//! Proves that the schema the migrations build is the one the `entities` crate expects: after one row is written
//! to every table with plain SQL, every entity reads its table back, which fails on a missing or misnamed column,
//! on a column type the entity cannot decode (PostgreSQL is strict about integer widths) and on an enumeration
//! value the entity does not know. Runs on SQLite, and on PostgreSQL too when `DATABASE_URL` points at one.

mod common;

use migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr, EntityTrait};
use migration::{Migrator, MigratorTrait};

/// One row per table, every nullable column filled so that its type is decoded too.
const ROWS: &[&str] = &[
    "INSERT INTO region (code, name, level, parent_id, path, depth, created_at) \
     VALUES ('330900', '舟山市', 'CITY', NULL, '/330900/', 0, '2026-11-29T08:00:00Z')",
    "INSERT INTO grid_team_member (grid_id, role, name, phone, duty, created_at) \
     VALUES (1, 'GRID_LEADER', '李网格', '13800000001', '总负责', '2026-11-29T08:00:00Z')",
    "INSERT INTO volunteer (code, name, gender, id_number, phone, region_id, status, registered_on, created_at, \
     updated_at) VALUES ('V1', '张三', 'M', '330902199001010011', '13800000002', 1, 'ACTIVE', '2020-01-01', \
     '2026-11-29T08:00:00Z', '2026-11-29T08:00:00Z')",
    "INSERT INTO volunteer_team (code, name, region_id, description, created_at) \
     VALUES ('T1', '渔嫂志愿服务队', 1, 'fishermen''s wives', '2026-11-29T08:00:00Z')",
    "INSERT INTO volunteer_team_membership (team_id, volunteer_id, role, joined_on, created_at) \
     VALUES (1, 1, 'LEADER', '2020-01-01', '2026-11-29T08:00:00Z')",
    "INSERT INTO volunteer_badge (volunteer_id, badge, granted_on, created_at) \
     VALUES (1, 'ANTI_DRUG_ENVOY', '2021-06-26', '2026-11-29T08:00:00Z')",
    "INSERT INTO service_record (volunteer_id, grid_id, activity, started_at, minutes, note, created_at) \
     VALUES (1, 1, 'PATROL', '2026-11-28T20:00:00Z', 120, 'night patrol', '2026-11-29T08:00:00Z')",
    "INSERT INTO service_rollup (region_id, day, activity, records, minutes) VALUES (1, '2026-11-29', 'PATROL', 1, 120)",
    "INSERT INTO service_rollup_pending (region_id, day, activity, records, minutes) \
     VALUES (1, '2026-11-29', 'PATROL', 1, 120)",
    "INSERT INTO care_subject (code, category, name, gender, id_number, birth_date, phone, address, region_id, \
     status, current_risk_level, registered_on, created_at, updated_at) VALUES ('CS1', 'AT_RISK_YOUTH', '小明', \
     'F', '330902200801010022', '2008-01-01', '13800000003', '定海区', 1, 'ACTIVE', 2, '2025-01-01', \
     '2026-11-29T08:00:00Z', '2026-11-29T08:00:00Z')",
    "INSERT INTO mental_health_profile (subject_id, health_record_no, diagnosis, found_by, guardian_name, \
     guardian_phone, guardian_relation, guardian_insured, insurance_policy_no, insurance_expires_on, created_at) \
     VALUES (1, 'EHR1', 'diagnosis', 'screening', '王监护', '13800000004', 'mother', TRUE, 'P1', '2027-01-01', \
     '2026-11-29T08:00:00Z')",
    "INSERT INTO correction_profile (subject_id, correction_type, offence, received_on, supervision_start, \
     supervision_end, released_on, status, created_at) VALUES (1, 'TEMPORARY_SERVICE_OUTSIDE', 'offence', \
     '2024-01-01', '2024-01-01', '2025-01-01', '2025-01-01', 'UNDER_SUPERVISION', '2026-11-29T08:00:00Z')",
    "INSERT INTO youth_profile (subject_id, youth_kind, school_status, guardian_name, guardian_phone, created_at) \
     VALUES (1, 'INTELLECTUALLY_DISABLED', 'DROPPED_OUT', '王监护', '13800000004', '2026-11-29T08:00:00Z')",
    "INSERT INTO risk_assessment (subject_id, level, assessed_on, assessor, notes, created_at) \
     VALUES (1, 3, '2026-11-01', 'dr', 'notes', '2026-11-29T08:00:00Z')",
    "INSERT INTO care_visit (subject_id, kind, visited_at, visitor, medication_taken, notes, created_at) \
     VALUES (1, 'MEDICATION_SUPERVISION', '2026-11-28T09:00:00Z', 'dr', TRUE, 'notes', '2026-11-29T08:00:00Z')",
    "INSERT INTO care_group_member (subject_id, role, name, phone, created_at) \
     VALUES (1, 'POLICE_OFFICER', '赵警官', '13800000005', '2026-11-29T08:00:00Z')",
    "INSERT INTO mentor (code, name, phone, occupation, region_id, active, created_at) \
     VALUES ('M1', '王老师', '13800000006', 'teacher', 1, FALSE, '2026-11-29T08:00:00Z')",
    "INSERT INTO mentorship (mentor_id, mentee_id, status, goal, started_on, ended_on, created_at) \
     VALUES (1, 1, 'CLOSED', 'a job', '2025-01-01', '2025-12-31', '2026-11-29T08:00:00Z')",
    "INSERT INTO mentoring_session (mentorship_id, held_on, minutes, topic, notes, created_at) \
     VALUES (1, '2025-02-01', 90, 'topic', 'notes', '2026-11-29T08:00:00Z')",
    "INSERT INTO mentoring_outcome (mentorship_id, kind, achieved_on, description, created_at) \
     VALUES (1, 'BEHAVIOURAL_INTERVENTION', '2025-06-01', 'description', '2026-11-29T08:00:00Z')",
    "INSERT INTO legal_aid_fund (code, kind, name, region_id, balance_fen, established_on, created_at) \
     VALUES ('F1', 'REVOLVING', '法律援助周转救助金', 1, 9000000000, '2009-01-01', '2026-11-29T08:00:00Z')",
    "INSERT INTO legal_aid_application (code, fund_id, region_id, applicant_name, applicant_id_number, \
     applicant_phone, case_summary, amount_fen, state, submitted_at, submitted_by, decided_at, decided_by, \
     decision_reason, disbursed_at, disbursed_by, due_on, repaid_fen, closed_at, updated_at) VALUES ('A1', 1, 1, \
     '刘女士', '330902198001010044', '13800000007', 'traffic accident', 500000, 'WRITTEN_OFF', \
     '2026-01-01T08:00:00Z', 'officer', '2026-01-02T08:00:00Z', 'officer', 'reason', '2026-01-03T08:00:00Z', \
     'officer', '2026-06-01', 100000, '2026-11-01T08:00:00Z', '2026-11-01T08:00:00Z')",
    "INSERT INTO ledger_entry (fund_id, application_id, kind, direction, amount_fen, reverses_entry_id, \
     idempotency_key, request_hash, actor, memo, created_at) VALUES (1, 1, 'DISBURSEMENT', -1, 500000, NULL, \
     'k1', 'hash', 'officer', 'memo', '2026-01-03T08:00:00Z')",
    "INSERT INTO audit_event (occurred_at, actor, roles, action, entity_type, region_code, request_id, purpose, \
     detail, prev_hash, hash) VALUES ('2026-11-29T08:00:00Z', 'auditor', 'auditor', 'READ', 'care_subject', \
     '330900', 'r1', 'inspection', 'detail', '', 'h1')",
    "INSERT INTO audit_event_record (event_id, entity_type, entity_id) VALUES (1, 'care_subject', 1)",
];

#[tokio::test]
async fn sqlite_rows_decode_into_entities() -> Result<(), DbErr> {
    let db = Database::connect("sqlite::memory:").await?;
    read_back(&db).await
}

#[tokio::test]
async fn postgres_rows_decode_into_entities() -> Result<(), DbErr> {
    let Some(server) = common::postgres_url() else {
        return Ok(());
    };
    let scratch = common::ScratchDatabase::create(&server).await?;
    let outcome = match Database::connect(scratch.url.as_str()).await {
        Ok(db) => {
            let outcome = read_back(&db).await;
            outcome.and(db.close().await)
        }
        Err(err) => Err(err),
    };
    let dropped = scratch.drop().await;
    outcome.and(dropped)
}

/// Reads every table through its entity and expects the one row [`ROWS`] wrote.
macro_rules! read_every_entity {
    ($db:expr, $($table:ident),+ $(,)?) => {
        $(
            let rows = entities::$table::Entity::find().all($db).await?;
            assert_eq!(rows.len(), 1, "{}", stringify!($table));
        )+
    };
}

async fn read_back(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    for row in ROWS {
        db.execute_unprepared(row).await?;
    }
    read_every_entity!(
        db,
        region,
        grid_team_member,
        volunteer,
        volunteer_team,
        volunteer_team_membership,
        volunteer_badge,
        service_record,
        service_rollup,
        service_rollup_pending,
        care_subject,
        mental_health_profile,
        correction_profile,
        youth_profile,
        risk_assessment,
        care_visit,
        care_group_member,
        mentor,
        mentorship,
        mentoring_session,
        mentoring_outcome,
        legal_aid_fund,
        legal_aid_application,
        ledger_entry,
        audit_event,
        audit_event_record,
    );

    // A spot check that values survive the trip, not only that they decode.
    let fund = entities::legal_aid_fund::Entity::find().one(db).await?;
    assert_eq!(fund.map(|fund| fund.balance_fen), Some(9_000_000_000));
    Migrator::down(db, None).await
}
