//! The youth mentoring programme: life mentors (`mentor`), their pairings with young care subjects
//! (`mentorship`, at most one ACTIVE pairing per youth, enforced by a partial unique index), meetings
//! (`mentoring_session`) and reported outcomes (`mentoring_outcome`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{check, check_in, foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const MENTORSHIP_STATUSES: &[&str] = &["ACTIVE", "CLOSED"];
const OUTCOME_KINDS: &[&str] =
    &["EMPLOYMENT", "BACK_TO_SCHOOL", "BEHAVIOURAL_INTERVENTION", "SKILLS_TRAINING", "FAMILY_ASSISTANCE"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Mentor::Table)
                    .col(big_pk_auto(Mentor::Id))
                    .col(string_len_uniq(Mentor::Code, 32))
                    .col(string_len(Mentor::Name, 64))
                    .col(string_len(Mentor::Phone, 32))
                    .col(string_len(Mentor::Occupation, 64))
                    .col(big_integer(Mentor::RegionId))
                    .col(boolean(Mentor::Active))
                    .col(timestamp_with_time_zone(Mentor::CreatedAt))
                    .foreign_key(&mut foreign_key(Mentor::Table, Mentor::RegionId, Region::Table))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(Mentor::Table, [Mentor::RegionId])).await?;

        manager
            .create_table(
                Table::create()
                    .table(Mentorship::Table)
                    .col(big_pk_auto(Mentorship::Id))
                    .col(big_integer(Mentorship::MentorId))
                    .col(big_integer(Mentorship::MenteeId))
                    .col(string_len(Mentorship::Status, 8))
                    .col(text_null(Mentorship::Goal))
                    .col(date(Mentorship::StartedOn))
                    .col(date_null(Mentorship::EndedOn))
                    .col(timestamp_with_time_zone(Mentorship::CreatedAt))
                    .foreign_key(&mut foreign_key(Mentorship::Table, Mentorship::MentorId, Mentor::Table))
                    .foreign_key(&mut foreign_key(
                        Mentorship::Table,
                        Mentorship::MenteeId,
                        CareSubject::Table,
                    ))
                    .check(check_in(Mentorship::Table, Mentorship::Status, MENTORSHIP_STATUSES))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(Mentorship::Table, [Mentorship::MentorId])).await?;
        manager.create_index(index(Mentorship::Table, [Mentorship::MenteeId])).await?;
        // One open pairing per youth; closed pairings are history and may be many.
        manager
            .create_index(
                Index::create()
                    .name("uq-mentorship-mentee_id-active")
                    .table(Mentorship::Table)
                    .col(Mentorship::MenteeId)
                    .unique()
                    .and_where(Expr::col(Mentorship::Status).eq("ACTIVE"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MentoringSession::Table)
                    .col(big_pk_auto(MentoringSession::Id))
                    .col(big_integer(MentoringSession::MentorshipId))
                    .col(date(MentoringSession::HeldOn))
                    .col(integer(MentoringSession::Minutes))
                    .col(string_len(MentoringSession::Topic, 128))
                    .col(text_null(MentoringSession::Notes))
                    .col(timestamp_with_time_zone(MentoringSession::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        MentoringSession::Table,
                        MentoringSession::MentorshipId,
                        Mentorship::Table,
                    ))
                    .check(check(
                        MentoringSession::Table,
                        "minutes",
                        Expr::col(MentoringSession::Minutes).gt(0),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                MentoringSession::Table,
                [MentoringSession::MentorshipId, MentoringSession::HeldOn],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MentoringOutcome::Table)
                    .col(big_pk_auto(MentoringOutcome::Id))
                    .col(big_integer(MentoringOutcome::MentorshipId))
                    .col(string_len(MentoringOutcome::Kind, 24))
                    .col(date(MentoringOutcome::AchievedOn))
                    .col(text_null(MentoringOutcome::Description))
                    .col(timestamp_with_time_zone(MentoringOutcome::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        MentoringOutcome::Table,
                        MentoringOutcome::MentorshipId,
                        Mentorship::Table,
                    ))
                    .check(check_in(MentoringOutcome::Table, MentoringOutcome::Kind, OUTCOME_KINDS))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(MentoringOutcome::Table, [MentoringOutcome::MentorshipId])).await?;
        manager.create_index(index(MentoringOutcome::Table, [MentoringOutcome::Kind])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MentoringOutcome::Table.into_iden(),
            MentoringSession::Table.into_iden(),
            Mentorship::Table.into_iden(),
            Mentor::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        // SQLite has transactional DDL too: a failed migration leaves nothing half-made on either backend.
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Region {
    Table,
}

#[derive(DeriveIden)]
enum CareSubject {
    Table,
}

#[derive(DeriveIden)]
enum Mentor {
    Table,
    Id,
    Code,
    Name,
    Phone,
    Occupation,
    RegionId,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Mentorship {
    Table,
    Id,
    MentorId,
    MenteeId,
    Status,
    Goal,
    StartedOn,
    EndedOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MentoringSession {
    Table,
    Id,
    MentorshipId,
    HeldOn,
    Minutes,
    Topic,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MentoringOutcome {
    Table,
    Id,
    MentorshipId,
    Kind,
    AchievedOn,
    Description,
    CreatedAt,
}
