//! Peace volunteers (`volunteer`), their teams (`volunteer_team`, `volunteer_team_membership`), envoy badges
//! (`volunteer_badge`) and service records (`service_record`, the largest table: indexed for the per-volunteer,
//! per-grid and city-wide time ranges that the statistics read).

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{check, check_in, foreign_key, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const GENDERS: &[&str] = &["M", "F"];
const VOLUNTEER_STATUSES: &[&str] = &["ACTIVE", "SUSPENDED", "WITHDRAWN"];
const MEMBERSHIP_ROLES: &[&str] = &["MEMBER", "LEADER"];
const BADGES: &[&str] = &["PEACE_ENVOY", "CARE_ENVOY", "ANTI_DRUG_ENVOY"];
const ACTIVITIES: &[&str] =
    &["PATROL", "TRAFFIC", "SECURITY_CHECK", "PUBLICITY", "EVENT_SECURITY", "CARE_VISIT", "MEDIATION"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Volunteer::Table)
                    .col(big_pk_auto(Volunteer::Id))
                    .col(string_len_uniq(Volunteer::Code, 32))
                    .col(string_len(Volunteer::Name, 64))
                    .col(string_len(Volunteer::Gender, 1))
                    .col(string_len(Volunteer::IdNumber, 32))
                    .col(string_len(Volunteer::Phone, 32))
                    .col(big_integer(Volunteer::RegionId))
                    .col(string_len(Volunteer::Status, 10))
                    .col(date(Volunteer::RegisteredOn))
                    .col(timestamp_with_time_zone(Volunteer::CreatedAt))
                    .col(timestamp_with_time_zone(Volunteer::UpdatedAt))
                    .foreign_key(&mut foreign_key(Volunteer::Table, Volunteer::RegionId, Region::Table))
                    .check(check_in(Volunteer::Table, Volunteer::Gender, GENDERS))
                    .check(check_in(Volunteer::Table, Volunteer::Status, VOLUNTEER_STATUSES))
                    .to_owned(),
            )
            .await?;
        for columns in [[Volunteer::RegionId], [Volunteer::Status], [Volunteer::Name]] {
            manager.create_index(index(Volunteer::Table, columns)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(VolunteerTeam::Table)
                    .col(big_pk_auto(VolunteerTeam::Id))
                    .col(string_len_uniq(VolunteerTeam::Code, 32))
                    .col(string_len(VolunteerTeam::Name, 64))
                    .col(big_integer(VolunteerTeam::RegionId))
                    .col(text_null(VolunteerTeam::Description))
                    .col(timestamp_with_time_zone(VolunteerTeam::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        VolunteerTeam::Table,
                        VolunteerTeam::RegionId,
                        Region::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(VolunteerTeam::Table, [VolunteerTeam::RegionId])).await?;

        manager
            .create_table(
                Table::create()
                    .table(VolunteerTeamMembership::Table)
                    .col(big_pk_auto(VolunteerTeamMembership::Id))
                    .col(big_integer(VolunteerTeamMembership::TeamId))
                    .col(big_integer(VolunteerTeamMembership::VolunteerId))
                    .col(string_len(VolunteerTeamMembership::Role, 8))
                    .col(date(VolunteerTeamMembership::JoinedOn))
                    .col(timestamp_with_time_zone(VolunteerTeamMembership::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        VolunteerTeamMembership::Table,
                        VolunteerTeamMembership::TeamId,
                        VolunteerTeam::Table,
                    ))
                    .foreign_key(&mut foreign_key(
                        VolunteerTeamMembership::Table,
                        VolunteerTeamMembership::VolunteerId,
                        Volunteer::Table,
                    ))
                    .check(check_in(
                        VolunteerTeamMembership::Table,
                        VolunteerTeamMembership::Role,
                        MEMBERSHIP_ROLES,
                    ))
                    .to_owned(),
            )
            .await?;
        // Also serves "the members of a team".
        manager
            .create_index(unique_index(
                VolunteerTeamMembership::Table,
                [VolunteerTeamMembership::TeamId, VolunteerTeamMembership::VolunteerId],
            ))
            .await?;
        manager
            .create_index(index(VolunteerTeamMembership::Table, [VolunteerTeamMembership::VolunteerId]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(VolunteerBadge::Table)
                    .col(big_pk_auto(VolunteerBadge::Id))
                    .col(big_integer(VolunteerBadge::VolunteerId))
                    .col(string_len(VolunteerBadge::Badge, 16))
                    .col(date(VolunteerBadge::GrantedOn))
                    .col(timestamp_with_time_zone(VolunteerBadge::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        VolunteerBadge::Table,
                        VolunteerBadge::VolunteerId,
                        Volunteer::Table,
                    ))
                    .check(check_in(VolunteerBadge::Table, VolunteerBadge::Badge, BADGES))
                    .to_owned(),
            )
            .await?;
        // Also serves "the badges of a volunteer".
        manager
            .create_index(unique_index(
                VolunteerBadge::Table,
                [VolunteerBadge::VolunteerId, VolunteerBadge::Badge],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ServiceRecord::Table)
                    .col(big_pk_auto(ServiceRecord::Id))
                    .col(big_integer(ServiceRecord::VolunteerId))
                    .col(big_integer(ServiceRecord::GridId))
                    .col(string_len(ServiceRecord::Activity, 16))
                    .col(timestamp_with_time_zone(ServiceRecord::StartedAt))
                    .col(integer(ServiceRecord::Minutes))
                    .col(text_null(ServiceRecord::Note))
                    .col(timestamp_with_time_zone(ServiceRecord::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        ServiceRecord::Table,
                        ServiceRecord::VolunteerId,
                        Volunteer::Table,
                    ))
                    .foreign_key(&mut foreign_key(ServiceRecord::Table, ServiceRecord::GridId, Region::Table))
                    .check(check_in(ServiceRecord::Table, ServiceRecord::Activity, ACTIVITIES))
                    .check(check(ServiceRecord::Table, "minutes", Expr::col(ServiceRecord::Minutes).gt(0)))
                    .to_owned(),
            )
            .await?;
        for columns in [
            vec![ServiceRecord::VolunteerId, ServiceRecord::StartedAt],
            vec![ServiceRecord::GridId, ServiceRecord::StartedAt],
            vec![ServiceRecord::StartedAt],
        ] {
            manager.create_index(index(ServiceRecord::Table, columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ServiceRecord::Table.into_iden(),
            VolunteerBadge::Table.into_iden(),
            VolunteerTeamMembership::Table.into_iden(),
            VolunteerTeam::Table.into_iden(),
            Volunteer::Table.into_iden(),
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
enum Volunteer {
    Table,
    Id,
    Code,
    Name,
    Gender,
    IdNumber,
    Phone,
    RegionId,
    Status,
    RegisteredOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum VolunteerTeam {
    Table,
    Id,
    Code,
    Name,
    RegionId,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum VolunteerTeamMembership {
    Table,
    Id,
    TeamId,
    VolunteerId,
    Role,
    JoinedOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum VolunteerBadge {
    Table,
    Id,
    VolunteerId,
    Badge,
    GrantedOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ServiceRecord {
    Table,
    Id,
    VolunteerId,
    GridId,
    Activity,
    StartedAt,
    Minutes,
    Note,
    CreatedAt,
}
