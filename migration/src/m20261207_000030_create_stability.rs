//! Major projects and their social stability risk assessment (重大事项社会稳定风险评估): the responsible units
//! (`responsible_unit`, linked to their officer's token subject) and the vetoes of their annual evaluation
//! (`unit_veto`, 一票否决, append-only), the projects (`major_project`), one assessment per project
//! (`stability_assessment`) with each of its six steps (`assessment_step`, append-only) and its mitigation
//! measures (`mitigation_measure`).
//!
//! `dispute.major_project_id` gets the foreign key its migration promised: a constraint on PostgreSQL; on SQLite,
//! which cannot add a constraint to an existing table, triggers that refuse the same rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::helpers::{
    check, check_in, drop_append_only, enforce_text_lengths, foreign_key, index, make_append_only,
    unique_index,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const KINDS: &[&str] = &[
    "RESERVOIR",
    "LAND_ACQUISITION",
    "DEMOLITION",
    "PLANT",
    "TRANSPORT",
    "ENERGY",
    "PUBLIC_POLICY",
    "OTHER",
];
const STEPS: &[&str] = &["APPLICATION", "INVESTIGATION", "JOINT_REVIEW", "RATING", "FEEDBACK", "MEASURES"];
const RATINGS: &[&str] = &["LOW", "MEDIUM", "HIGH"];

/// The new tables, parents first.
const TABLES: &[&str] = &[
    "responsible_unit",
    "major_project",
    "unit_veto",
    "stability_assessment",
    "assessment_step",
    "mitigation_measure",
];

/// SQLite's stand-in for `fk-dispute-major_project_id`: a dispute may name only an existing project, and a
/// project named by a dispute cannot be deleted (ON DELETE RESTRICT).
const SQLITE_DISPUTE_PROJECT_TRIGGERS: &[(&str, &str)] = &[
    (
        "dispute_major_project_insert",
        r#"CREATE TRIGGER "dispute_major_project_insert" BEFORE INSERT ON "dispute"
           WHEN NEW."major_project_id" IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM "major_project" WHERE "id" = NEW."major_project_id")
           BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: dispute.major_project_id'); END"#,
    ),
    (
        "dispute_major_project_update",
        r#"CREATE TRIGGER "dispute_major_project_update" BEFORE UPDATE OF "major_project_id" ON "dispute"
           WHEN NEW."major_project_id" IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM "major_project" WHERE "id" = NEW."major_project_id")
           BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: dispute.major_project_id'); END"#,
    ),
    (
        "major_project_disputes_delete",
        r#"CREATE TRIGGER "major_project_disputes_delete" BEFORE DELETE ON "major_project"
           WHEN EXISTS (SELECT 1 FROM "dispute" WHERE "major_project_id" = OLD."id")
           BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: dispute.major_project_id'); END"#,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ResponsibleUnit::Table)
                    .col(big_pk_auto(ResponsibleUnit::Id))
                    .col(string_len_uniq(ResponsibleUnit::Code, 32))
                    .col(string_len(ResponsibleUnit::Name, 128))
                    .col(big_integer(ResponsibleUnit::RegionId))
                    .col(string_len_null(ResponsibleUnit::OfficerSubject, 64).unique_key())
                    .col(timestamp_with_time_zone(ResponsibleUnit::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        ResponsibleUnit::Table,
                        ResponsibleUnit::RegionId,
                        Region::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(ResponsibleUnit::Table, [ResponsibleUnit::RegionId])).await?;

        manager
            .create_table(
                Table::create()
                    .table(MajorProject::Table)
                    .col(big_pk_auto(MajorProject::Id))
                    .col(string_len_uniq(MajorProject::Code, 32))
                    .col(string_len(MajorProject::Name, 128))
                    .col(string_len(MajorProject::Kind, 20))
                    .col(big_integer(MajorProject::RegionId))
                    .col(big_integer(MajorProject::UnitId))
                    .col(big_integer(MajorProject::InvestmentFen))
                    .col(date(MajorProject::PlannedStart))
                    .col(integer(MajorProject::AffectedHouseholds))
                    .col(date_null(MajorProject::StartedOn))
                    .col(boolean(MajorProject::StartedWithoutAssessment))
                    .col(string_len(MajorProject::CreatedBy, 64))
                    .col(timestamp_with_time_zone(MajorProject::CreatedAt))
                    .col(timestamp_with_time_zone(MajorProject::UpdatedAt))
                    .foreign_key(&mut foreign_key(MajorProject::Table, MajorProject::RegionId, Region::Table))
                    .foreign_key(&mut foreign_key(
                        MajorProject::Table,
                        MajorProject::UnitId,
                        ResponsibleUnit::Table,
                    ))
                    .check(check_in(MajorProject::Table, MajorProject::Kind, KINDS))
                    .check(check(
                        MajorProject::Table,
                        "investment_fen",
                        Expr::col(MajorProject::InvestmentFen).gte(0),
                    ))
                    .check(check(
                        MajorProject::Table,
                        "affected_households",
                        Expr::col(MajorProject::AffectedHouseholds).gte(0),
                    ))
                    .to_owned(),
            )
            .await?;
        // The lists: a region's projects, a unit's projects, the flagged ones, the yearly statistics by start.
        manager.create_index(index(MajorProject::Table, [MajorProject::RegionId])).await?;
        manager.create_index(index(MajorProject::Table, [MajorProject::UnitId])).await?;
        manager.create_index(index(MajorProject::Table, [MajorProject::StartedOn])).await?;

        manager
            .create_table(
                Table::create()
                    .table(UnitVeto::Table)
                    .col(big_pk_auto(UnitVeto::Id))
                    .col(big_integer(UnitVeto::UnitId))
                    .col(integer(UnitVeto::Year))
                    .col(text(UnitVeto::Reason))
                    .col(big_integer_null(UnitVeto::ProjectId))
                    .col(string_len(UnitVeto::RecordedBy, 64))
                    .col(timestamp_with_time_zone(UnitVeto::RecordedAt))
                    .foreign_key(&mut foreign_key(UnitVeto::Table, UnitVeto::UnitId, ResponsibleUnit::Table))
                    .foreign_key(&mut foreign_key(UnitVeto::Table, UnitVeto::ProjectId, MajorProject::Table))
                    .check(check(UnitVeto::Table, "year", Expr::col(UnitVeto::Year).between(2000, 2100)))
                    .to_owned(),
            )
            .await?;
        manager.create_index(unique_index(UnitVeto::Table, [UnitVeto::UnitId, UnitVeto::Year])).await?;
        manager.create_index(index(UnitVeto::Table, [UnitVeto::ProjectId])).await?;
        make_append_only(manager, "unit_veto").await?;

        manager
            .create_table(
                Table::create()
                    .table(StabilityAssessment::Table)
                    .col(big_pk_auto(StabilityAssessment::Id))
                    .col(big_integer_uniq(StabilityAssessment::ProjectId))
                    .col(string_len(StabilityAssessment::Step, 16))
                    .col(string_len_null(StabilityAssessment::Rating, 8))
                    .col(timestamp_with_time_zone_null(StabilityAssessment::CompletedAt))
                    .col(timestamp_with_time_zone(StabilityAssessment::CreatedAt))
                    .col(timestamp_with_time_zone(StabilityAssessment::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        StabilityAssessment::Table,
                        StabilityAssessment::ProjectId,
                        MajorProject::Table,
                    ))
                    .check(check_in(StabilityAssessment::Table, StabilityAssessment::Step, STEPS))
                    .check(check_in(StabilityAssessment::Table, StabilityAssessment::Rating, RATINGS))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                StabilityAssessment::Table,
                [StabilityAssessment::Step, StabilityAssessment::Rating],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AssessmentStep::Table)
                    .col(big_pk_auto(AssessmentStep::Id))
                    .col(big_integer(AssessmentStep::AssessmentId))
                    .col(string_len(AssessmentStep::Step, 16))
                    .col(string_len(AssessmentStep::Actor, 64))
                    .col(timestamp_with_time_zone(AssessmentStep::OccurredAt))
                    .col(text(AssessmentStep::Findings))
                    .col(text(AssessmentStep::Attachments))
                    .foreign_key(&mut foreign_key(
                        AssessmentStep::Table,
                        AssessmentStep::AssessmentId,
                        StabilityAssessment::Table,
                    ))
                    .check(check_in(AssessmentStep::Table, AssessmentStep::Step, STEPS))
                    .to_owned(),
            )
            .await?;
        // Each step once per assessment: a step taken twice is refused by the database too.
        manager
            .create_index(unique_index(
                AssessmentStep::Table,
                [AssessmentStep::AssessmentId, AssessmentStep::Step],
            ))
            .await?;
        make_append_only(manager, "assessment_step").await?;

        manager
            .create_table(
                Table::create()
                    .table(MitigationMeasure::Table)
                    .col(big_pk_auto(MitigationMeasure::Id))
                    .col(big_integer(MitigationMeasure::AssessmentId))
                    .col(string_len(MitigationMeasure::Description, 500))
                    .col(string_len(MitigationMeasure::Owner, 64))
                    .col(date(MitigationMeasure::DueOn))
                    .col(date_null(MitigationMeasure::CompletedOn))
                    .col(string_len_null(MitigationMeasure::CompletedBy, 64))
                    .col(timestamp_with_time_zone(MitigationMeasure::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        MitigationMeasure::Table,
                        MitigationMeasure::AssessmentId,
                        StabilityAssessment::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(MitigationMeasure::Table, [MitigationMeasure::AssessmentId])).await?;
        manager
            .create_index(index(
                MitigationMeasure::Table,
                [MitigationMeasure::CompletedOn, MitigationMeasure::DueOn],
            ))
            .await?;

        for table in TABLES {
            enforce_text_lengths(manager, table).await?;
        }

        let connection = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                connection
                    .execute_unprepared(
                        r#"ALTER TABLE "dispute" ADD CONSTRAINT "fk-dispute-major_project_id"
                           FOREIGN KEY ("major_project_id") REFERENCES "major_project" ("id") ON DELETE RESTRICT"#,
                    )
                    .await?;
            }
            _ => {
                for (_, statement) in SQLITE_DISPUTE_PROJECT_TRIGGERS {
                    connection.execute_unprepared(statement).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                connection
                    .execute_unprepared(
                        r#"ALTER TABLE "dispute" DROP CONSTRAINT IF EXISTS "fk-dispute-major_project_id""#,
                    )
                    .await?;
            }
            _ => {
                for (name, _) in SQLITE_DISPUTE_PROJECT_TRIGGERS {
                    connection.execute_unprepared(&format!(r#"DROP TRIGGER IF EXISTS "{name}""#)).await?;
                }
            }
        }
        // Links to projects go with them; the disputes stay.
        connection.execute_unprepared(r#"UPDATE "dispute" SET "major_project_id" = NULL"#).await?;
        drop_append_only(manager, "assessment_step").await?;
        drop_append_only(manager, "unit_veto").await?;
        for table in TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(Alias::new(*table)).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Region {
    Table,
}

#[derive(DeriveIden)]
enum ResponsibleUnit {
    Table,
    Id,
    Code,
    Name,
    RegionId,
    OfficerSubject,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UnitVeto {
    Table,
    Id,
    UnitId,
    Year,
    Reason,
    ProjectId,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum MajorProject {
    Table,
    Id,
    Code,
    Name,
    Kind,
    RegionId,
    UnitId,
    InvestmentFen,
    PlannedStart,
    AffectedHouseholds,
    StartedOn,
    StartedWithoutAssessment,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StabilityAssessment {
    Table,
    Id,
    ProjectId,
    Step,
    Rating,
    CompletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AssessmentStep {
    Table,
    Id,
    AssessmentId,
    Step,
    Actor,
    OccurredAt,
    Findings,
    Attachments,
}

#[derive(DeriveIden)]
enum MitigationMeasure {
    Table,
    Id,
    AssessmentId,
    Description,
    Owner,
    DueOn,
    CompletedOn,
    CompletedBy,
    CreatedAt,
}
