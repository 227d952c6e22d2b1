//! Disputes and grid events (矛盾纠纷多元化解, 海上枫桥): mediation boats (`mediation_boat`), mediators linked to
//! their tokens' subjects (`mediator`), fishing vessels' records (`fishing_vessel`, 一船一档), the disputes
//! themselves (`dispute`) with their parties (`dispute_party`), the vessels involved (`dispute_vessel`) and every
//! transition, mediation session and follow-up (`dispute_event`, append-only).
//!
//! `dispute.major_project_id` names the major project a dispute arose from (the stability risk assessment); it
//! gets its foreign key when that table exists.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{
    check, check_in, drop_append_only, enforce_text_lengths, foreign_key, index, make_append_only,
    unique_index,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CHANNELS: &[&str] =
    &["GRID_PATROL", "HOTLINE", "PETITION", "WALK_IN", "REFERRAL", "MARITIME_PATROL", "ONLINE"];
const CATEGORIES: &[&str] = &[
    "NEIGHBOURHOOD",
    "FAMILY",
    "LAND_AND_HOUSING",
    "LABOUR_AND_WAGES",
    "CONSUMER",
    "TRAFFIC",
    "MEDICAL",
    "PROPERTY_MANAGEMENT",
    "FISHING_GROUNDS",
    "VESSEL_COLLISION",
    "CATCH_AND_GEAR",
    "OTHER",
];
const RISKS: &[&str] = &["LOW", "MEDIUM", "HIGH", "CRITICAL"];
const STATES: &[&str] =
    &["REPORTED", "ACCEPTED", "ASSIGNED", "MEDIATING", "RESOLVED", "UNRESOLVED", "ESCALATED", "CLOSED"];
const TARGETS: &[&str] = &["ARBITRATION", "COURT", "PETITION_OFFICE", "NEXT_LEVEL"];
const OUTCOMES: &[&str] = &["RESOLVED", "UNRESOLVED", "ESCALATED_OUT"];
const MEDIATOR_KINDS: &[&str] = &["PEOPLES_MEDIATOR", "GRID_WORKER", "LAWYER", "POLICE", "BOAT_CREW"];
const PARTY_KINDS: &[&str] = &["PERSON", "ORGANISATION"];
const PARTY_ROLES: &[&str] = &["APPLICANT", "RESPONDENT", "OTHER"];
const EVENT_KINDS: &[&str] = &[
    "REPORTED",
    "ACCEPTED",
    "ASSIGNED",
    "MEDIATION_SESSION",
    "RESOLVED",
    "UNRESOLVED",
    "ESCALATED",
    "CLOSED",
    "FOLLOW_UP",
];

/// The new tables, parents first.
const TABLES: &[&str] = &[
    "mediation_boat",
    "mediator",
    "fishing_vessel",
    "dispute",
    "dispute_party",
    "dispute_vessel",
    "dispute_event",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MediationBoat::Table)
                    .col(big_pk_auto(MediationBoat::Id))
                    .col(string_len_uniq(MediationBoat::Code, 32))
                    .col(string_len(MediationBoat::Name, 64))
                    .col(big_integer(MediationBoat::RegionId))
                    .col(string_len(MediationBoat::CaptainName, 64))
                    .col(string_len(MediationBoat::Phone, 32))
                    .col(boolean(MediationBoat::Active))
                    .col(timestamp_with_time_zone(MediationBoat::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        MediationBoat::Table,
                        MediationBoat::RegionId,
                        Region::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(MediationBoat::Table, [MediationBoat::RegionId])).await?;

        manager
            .create_table(
                Table::create()
                    .table(Mediator::Table)
                    .col(big_pk_auto(Mediator::Id))
                    .col(string_len_uniq(Mediator::Code, 32))
                    .col(string_len(Mediator::Name, 64))
                    .col(string_len(Mediator::Phone, 32))
                    .col(string_len(Mediator::Kind, 20))
                    .col(big_integer(Mediator::RegionId))
                    .col(string_len_null(Mediator::Subject, 64).unique_key())
                    .col(big_integer_null(Mediator::MediationBoatId))
                    .col(boolean(Mediator::Active))
                    .col(timestamp_with_time_zone(Mediator::CreatedAt))
                    .foreign_key(&mut foreign_key(Mediator::Table, Mediator::RegionId, Region::Table))
                    .foreign_key(&mut foreign_key(
                        Mediator::Table,
                        Mediator::MediationBoatId,
                        MediationBoat::Table,
                    ))
                    .check(check_in(Mediator::Table, Mediator::Kind, MEDIATOR_KINDS))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(Mediator::Table, [Mediator::RegionId])).await?;
        manager.create_index(index(Mediator::Table, [Mediator::MediationBoatId])).await?;

        manager
            .create_table(
                Table::create()
                    .table(FishingVessel::Table)
                    .col(big_pk_auto(FishingVessel::Id))
                    .col(string_len_uniq(FishingVessel::RegistrationNo, 32))
                    .col(string_len(FishingVessel::Name, 64))
                    .col(big_integer(FishingVessel::HomePortId))
                    .col(string_len(FishingVessel::OwnerName, 64))
                    .col(string_len(FishingVessel::OwnerIdNumber, 32))
                    .col(string_len(FishingVessel::OwnerPhone, 32))
                    .col(small_integer(FishingVessel::CrewSize))
                    .col(small_integer(FishingVessel::SafetyStars))
                    .col(big_integer_null(FishingVessel::GridWorkerId))
                    .col(timestamp_with_time_zone(FishingVessel::CreatedAt))
                    .col(timestamp_with_time_zone(FishingVessel::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        FishingVessel::Table,
                        FishingVessel::HomePortId,
                        Region::Table,
                    ))
                    .foreign_key(&mut foreign_key(
                        FishingVessel::Table,
                        FishingVessel::GridWorkerId,
                        GridTeamMember::Table,
                    ))
                    .check(check(
                        FishingVessel::Table,
                        "crew_size",
                        Expr::col(FishingVessel::CrewSize).between(1, 200),
                    ))
                    .check(check(
                        FishingVessel::Table,
                        "safety_stars",
                        Expr::col(FishingVessel::SafetyStars).between(1, 5),
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(FishingVessel::Table, [FishingVessel::HomePortId])).await?;
        manager.create_index(index(FishingVessel::Table, [FishingVessel::GridWorkerId])).await?;

        manager
            .create_table(
                Table::create()
                    .table(Dispute::Table)
                    .col(big_pk_auto(Dispute::Id))
                    .col(string_len_uniq(Dispute::Code, 32))
                    .col(big_integer(Dispute::GridId))
                    .col(big_integer(Dispute::RegionId))
                    .col(string_len_null(Dispute::SeaArea, 64))
                    .col(timestamp_with_time_zone(Dispute::ReportedAt))
                    .col(string_len(Dispute::Channel, 16))
                    .col(string_len(Dispute::Category, 24))
                    .col(text(Dispute::Summary))
                    .col(string_len(Dispute::EscalationRisk, 8))
                    .col(string_len(Dispute::State, 12))
                    .col(timestamp_with_time_zone(Dispute::StageStartedAt))
                    .col(timestamp_with_time_zone_null(Dispute::DueAt))
                    .col(timestamp_with_time_zone_null(Dispute::FirstMediatedAt))
                    .col(big_integer_null(Dispute::AssigneeMediatorId))
                    .col(big_integer_null(Dispute::AssigneeBoatId))
                    .col(string_len_null(Dispute::EscalatedTo, 16))
                    .col(text_null(Dispute::Agreement))
                    .col(string_len_null(Dispute::Outcome, 16))
                    .col(timestamp_with_time_zone_null(Dispute::ResolvedAt))
                    .col(timestamp_with_time_zone_null(Dispute::ClosedAt))
                    .col(big_integer_null(Dispute::MajorProjectId))
                    .col(boolean(Dispute::InstabilityIncident))
                    .col(string_len_uniq(Dispute::IdempotencyKey, 128))
                    .col(string_len(Dispute::ReportedBy, 64))
                    .col(timestamp_with_time_zone(Dispute::CreatedAt))
                    .col(timestamp_with_time_zone(Dispute::UpdatedAt))
                    .foreign_key(&mut foreign_key(Dispute::Table, Dispute::GridId, Region::Table))
                    .foreign_key(&mut foreign_key(Dispute::Table, Dispute::RegionId, Region::Table))
                    .foreign_key(&mut foreign_key(
                        Dispute::Table,
                        Dispute::AssigneeMediatorId,
                        Mediator::Table,
                    ))
                    .foreign_key(&mut foreign_key(
                        Dispute::Table,
                        Dispute::AssigneeBoatId,
                        MediationBoat::Table,
                    ))
                    .check(check_in(Dispute::Table, Dispute::Channel, CHANNELS))
                    .check(check_in(Dispute::Table, Dispute::Category, CATEGORIES))
                    .check(check_in(Dispute::Table, Dispute::EscalationRisk, RISKS))
                    .check(check_in(Dispute::Table, Dispute::State, STATES))
                    .check(check_in(Dispute::Table, Dispute::EscalatedTo, TARGETS))
                    .check(check_in(Dispute::Table, Dispute::Outcome, OUTCOMES))
                    .to_owned(),
            )
            .await?;
        // The lists: a grid's newest reports, a region's open cases by due date, a mediator's cases, the yearly
        // success rate by report time.
        manager.create_index(index(Dispute::Table, [Dispute::GridId, Dispute::ReportedAt])).await?;
        manager.create_index(index(Dispute::Table, [Dispute::RegionId, Dispute::State])).await?;
        manager.create_index(index(Dispute::Table, [Dispute::State, Dispute::DueAt])).await?;
        manager.create_index(index(Dispute::Table, [Dispute::AssigneeMediatorId, Dispute::State])).await?;
        manager.create_index(index(Dispute::Table, [Dispute::AssigneeBoatId, Dispute::State])).await?;
        manager.create_index(index(Dispute::Table, [Dispute::ReportedAt])).await?;
        manager.create_index(index(Dispute::Table, [Dispute::MajorProjectId])).await?;

        manager
            .create_table(
                Table::create()
                    .table(DisputeParty::Table)
                    .col(big_pk_auto(DisputeParty::Id))
                    .col(big_integer(DisputeParty::DisputeId))
                    .col(string_len(DisputeParty::Kind, 12))
                    .col(string_len(DisputeParty::Role, 10))
                    .col(string_len(DisputeParty::Name, 128))
                    .col(string_len_null(DisputeParty::IdNumber, 32))
                    .col(string_len_null(DisputeParty::Phone, 32))
                    .col(timestamp_with_time_zone(DisputeParty::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        DisputeParty::Table,
                        DisputeParty::DisputeId,
                        Dispute::Table,
                    ))
                    .check(check_in(DisputeParty::Table, DisputeParty::Kind, PARTY_KINDS))
                    .check(check_in(DisputeParty::Table, DisputeParty::Role, PARTY_ROLES))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(DisputeParty::Table, [DisputeParty::DisputeId])).await?;

        manager
            .create_table(
                Table::create()
                    .table(DisputeVessel::Table)
                    .col(big_pk_auto(DisputeVessel::Id))
                    .col(big_integer(DisputeVessel::DisputeId))
                    .col(big_integer(DisputeVessel::VesselId))
                    .foreign_key(&mut foreign_key(
                        DisputeVessel::Table,
                        DisputeVessel::DisputeId,
                        Dispute::Table,
                    ))
                    .foreign_key(&mut foreign_key(
                        DisputeVessel::Table,
                        DisputeVessel::VesselId,
                        FishingVessel::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                DisputeVessel::Table,
                [DisputeVessel::DisputeId, DisputeVessel::VesselId],
            ))
            .await?;
        manager.create_index(index(DisputeVessel::Table, [DisputeVessel::VesselId])).await?;

        manager
            .create_table(
                Table::create()
                    .table(DisputeEvent::Table)
                    .col(big_pk_auto(DisputeEvent::Id))
                    .col(big_integer(DisputeEvent::DisputeId))
                    .col(string_len(DisputeEvent::Kind, 20))
                    .col(string_len_null(DisputeEvent::FromState, 12))
                    .col(string_len_null(DisputeEvent::ToState, 12))
                    .col(big_integer(DisputeEvent::RegionId))
                    .col(string_len(DisputeEvent::Actor, 64))
                    .col(timestamp_with_time_zone(DisputeEvent::OccurredAt))
                    .col(text_null(DisputeEvent::Note))
                    .foreign_key(&mut foreign_key(
                        DisputeEvent::Table,
                        DisputeEvent::DisputeId,
                        Dispute::Table,
                    ))
                    .foreign_key(&mut foreign_key(DisputeEvent::Table, DisputeEvent::RegionId, Region::Table))
                    .check(check_in(DisputeEvent::Table, DisputeEvent::Kind, EVENT_KINDS))
                    .check(check_in(DisputeEvent::Table, DisputeEvent::FromState, STATES))
                    .check(check_in(DisputeEvent::Table, DisputeEvent::ToState, STATES))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(DisputeEvent::Table, [DisputeEvent::DisputeId])).await?;
        make_append_only(manager, "dispute_event").await?;

        for table in TABLES {
            enforce_text_lengths(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_append_only(manager, "dispute_event").await?;
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
enum GridTeamMember {
    Table,
}

#[derive(DeriveIden)]
enum MediationBoat {
    Table,
    Id,
    Code,
    Name,
    RegionId,
    CaptainName,
    Phone,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Mediator {
    Table,
    Id,
    Code,
    Name,
    Phone,
    Kind,
    RegionId,
    Subject,
    MediationBoatId,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FishingVessel {
    Table,
    Id,
    RegistrationNo,
    Name,
    HomePortId,
    OwnerName,
    OwnerIdNumber,
    OwnerPhone,
    CrewSize,
    SafetyStars,
    GridWorkerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Dispute {
    Table,
    Id,
    Code,
    GridId,
    RegionId,
    SeaArea,
    ReportedAt,
    Channel,
    Category,
    Summary,
    EscalationRisk,
    State,
    StageStartedAt,
    DueAt,
    FirstMediatedAt,
    AssigneeMediatorId,
    AssigneeBoatId,
    EscalatedTo,
    Agreement,
    Outcome,
    ResolvedAt,
    ClosedAt,
    MajorProjectId,
    InstabilityIncident,
    IdempotencyKey,
    ReportedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DisputeParty {
    Table,
    Id,
    DisputeId,
    Kind,
    Role,
    Name,
    IdNumber,
    Phone,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DisputeVessel {
    Table,
    Id,
    DisputeId,
    VesselId,
}

#[derive(DeriveIden)]
enum DisputeEvent {
    Table,
    Id,
    DisputeId,
    Kind,
    FromState,
    ToState,
    RegionId,
    Actor,
    OccurredAt,
    Note,
}
