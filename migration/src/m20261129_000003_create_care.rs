//! Special-population care: the people (`care_subject`), one profile table per programme keyed by the person
//! (`mental_health_profile`, `correction_profile`, `youth_profile`), risk assessments on the national 0–5 scale
//! (`risk_assessment`), visits (`care_visit`) and each person's care/help group (`care_group_member`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{check, check_in, foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const GENDERS: &[&str] = &["M", "F"];
const CATEGORIES: &[&str] = &["SEVERE_MENTAL_DISORDER", "COMMUNITY_CORRECTION", "AT_RISK_YOUTH"];
const SUBJECT_STATUSES: &[&str] = &["ACTIVE", "CLOSED"];
const CORRECTION_TYPES: &[&str] =
    &["PROBATION", "PAROLE", "TEMPORARY_SERVICE_OUTSIDE", "PUBLIC_SURVEILLANCE"];
const SUPERVISION_STATUSES: &[&str] = &["UNDER_SUPERVISION", "RELEASED"];
const YOUTH_KINDS: &[&str] = &["IDLE", "INTELLECTUALLY_DISABLED", "BEHAVIOURAL_RISK"];
const SCHOOL_STATUSES: &[&str] = &["IN_SCHOOL", "DROPPED_OUT", "EMPLOYED", "UNEMPLOYED"];
const VISIT_KINDS: &[&str] =
    &["FOLLOW_UP", "MEDICATION_SUPERVISION", "HEALTH_EDUCATION", "CHECK_IN", "HOME_VISIT"];
const CARE_GROUP_ROLES: &[&str] =
    &["GRID_WORKER", "DOCTOR", "POLICE_OFFICER", "FAMILY", "VOLUNTEER", "CADRE"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CareSubject::Table)
                    .col(big_pk_auto(CareSubject::Id))
                    .col(string_len_uniq(CareSubject::Code, 32))
                    .col(string_len(CareSubject::Category, 24))
                    .col(string_len(CareSubject::Name, 64))
                    .col(string_len(CareSubject::Gender, 1))
                    .col(string_len(CareSubject::IdNumber, 32))
                    .col(date(CareSubject::BirthDate))
                    .col(string_len_null(CareSubject::Phone, 32))
                    .col(string_len(CareSubject::Address, 255))
                    .col(big_integer(CareSubject::RegionId))
                    .col(string_len(CareSubject::Status, 8))
                    .col(small_integer_null(CareSubject::CurrentRiskLevel))
                    .col(date(CareSubject::RegisteredOn))
                    .col(timestamp_with_time_zone(CareSubject::CreatedAt))
                    .col(timestamp_with_time_zone(CareSubject::UpdatedAt))
                    .foreign_key(&mut foreign_key(CareSubject::Table, CareSubject::RegionId, Region::Table))
                    .check(check_in(CareSubject::Table, CareSubject::Category, CATEGORIES))
                    .check(check_in(CareSubject::Table, CareSubject::Gender, GENDERS))
                    .check(check_in(CareSubject::Table, CareSubject::Status, SUBJECT_STATUSES))
                    .check(check(
                        CareSubject::Table,
                        "current_risk_level",
                        Expr::col(CareSubject::CurrentRiskLevel)
                            .is_null()
                            .or(Expr::col(CareSubject::CurrentRiskLevel).between(0, 5)),
                    ))
                    .to_owned(),
            )
            .await?;
        for columns in [
            vec![CareSubject::RegionId, CareSubject::Category],
            vec![CareSubject::Category, CareSubject::Status],
            vec![CareSubject::Name],
        ] {
            manager.create_index(index(CareSubject::Table, columns)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(MentalHealthProfile::Table)
                    .col(big_integer(MentalHealthProfile::SubjectId).primary_key().take())
                    .col(string_len_uniq(MentalHealthProfile::HealthRecordNo, 32))
                    .col(text(MentalHealthProfile::Diagnosis))
                    .col(string_len(MentalHealthProfile::FoundBy, 64))
                    .col(string_len(MentalHealthProfile::GuardianName, 64))
                    .col(string_len(MentalHealthProfile::GuardianPhone, 32))
                    .col(string_len(MentalHealthProfile::GuardianRelation, 32))
                    .col(boolean(MentalHealthProfile::GuardianInsured))
                    .col(string_len_null(MentalHealthProfile::InsurancePolicyNo, 64))
                    .col(date_null(MentalHealthProfile::InsuranceExpiresOn))
                    .col(timestamp_with_time_zone(MentalHealthProfile::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        MentalHealthProfile::Table,
                        MentalHealthProfile::SubjectId,
                        CareSubject::Table,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CorrectionProfile::Table)
                    .col(big_integer(CorrectionProfile::SubjectId).primary_key().take())
                    .col(string_len(CorrectionProfile::CorrectionType, 28))
                    .col(text(CorrectionProfile::Offence))
                    .col(date(CorrectionProfile::ReceivedOn))
                    .col(date(CorrectionProfile::SupervisionStart))
                    .col(date(CorrectionProfile::SupervisionEnd))
                    .col(date_null(CorrectionProfile::ReleasedOn))
                    .col(string_len(CorrectionProfile::Status, 18))
                    .col(timestamp_with_time_zone(CorrectionProfile::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        CorrectionProfile::Table,
                        CorrectionProfile::SubjectId,
                        CareSubject::Table,
                    ))
                    .check(check_in(
                        CorrectionProfile::Table,
                        CorrectionProfile::CorrectionType,
                        CORRECTION_TYPES,
                    ))
                    .check(check_in(
                        CorrectionProfile::Table,
                        CorrectionProfile::Status,
                        SUPERVISION_STATUSES,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(YouthProfile::Table)
                    .col(big_integer(YouthProfile::SubjectId).primary_key().take())
                    .col(string_len(YouthProfile::YouthKind, 24))
                    .col(string_len(YouthProfile::SchoolStatus, 12))
                    .col(string_len(YouthProfile::GuardianName, 64))
                    .col(string_len(YouthProfile::GuardianPhone, 32))
                    .col(timestamp_with_time_zone(YouthProfile::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        YouthProfile::Table,
                        YouthProfile::SubjectId,
                        CareSubject::Table,
                    ))
                    .check(check_in(YouthProfile::Table, YouthProfile::YouthKind, YOUTH_KINDS))
                    .check(check_in(YouthProfile::Table, YouthProfile::SchoolStatus, SCHOOL_STATUSES))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RiskAssessment::Table)
                    .col(big_pk_auto(RiskAssessment::Id))
                    .col(big_integer(RiskAssessment::SubjectId))
                    .col(small_integer(RiskAssessment::Level))
                    .col(date(RiskAssessment::AssessedOn))
                    .col(string_len(RiskAssessment::Assessor, 64))
                    .col(text_null(RiskAssessment::Notes))
                    .col(timestamp_with_time_zone(RiskAssessment::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        RiskAssessment::Table,
                        RiskAssessment::SubjectId,
                        CareSubject::Table,
                    ))
                    .check(check(
                        RiskAssessment::Table,
                        "level",
                        Expr::col(RiskAssessment::Level).between(0, 5),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                RiskAssessment::Table,
                [RiskAssessment::SubjectId, RiskAssessment::AssessedOn],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CareVisit::Table)
                    .col(big_pk_auto(CareVisit::Id))
                    .col(big_integer(CareVisit::SubjectId))
                    .col(string_len(CareVisit::Kind, 24))
                    .col(timestamp_with_time_zone(CareVisit::VisitedAt))
                    .col(string_len(CareVisit::Visitor, 64))
                    .col(boolean_null(CareVisit::MedicationTaken))
                    .col(text_null(CareVisit::Notes))
                    .col(timestamp_with_time_zone(CareVisit::CreatedAt))
                    .foreign_key(&mut foreign_key(CareVisit::Table, CareVisit::SubjectId, CareSubject::Table))
                    .check(check_in(CareVisit::Table, CareVisit::Kind, VISIT_KINDS))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(CareVisit::Table, [CareVisit::SubjectId, CareVisit::VisitedAt])).await?;

        manager
            .create_table(
                Table::create()
                    .table(CareGroupMember::Table)
                    .col(big_pk_auto(CareGroupMember::Id))
                    .col(big_integer(CareGroupMember::SubjectId))
                    .col(string_len(CareGroupMember::Role, 16))
                    .col(string_len(CareGroupMember::Name, 64))
                    .col(string_len(CareGroupMember::Phone, 32))
                    .col(timestamp_with_time_zone(CareGroupMember::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        CareGroupMember::Table,
                        CareGroupMember::SubjectId,
                        CareSubject::Table,
                    ))
                    .check(check_in(CareGroupMember::Table, CareGroupMember::Role, CARE_GROUP_ROLES))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(CareGroupMember::Table, [CareGroupMember::SubjectId])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CareGroupMember::Table.into_iden(),
            CareVisit::Table.into_iden(),
            RiskAssessment::Table.into_iden(),
            YouthProfile::Table.into_iden(),
            CorrectionProfile::Table.into_iden(),
            MentalHealthProfile::Table.into_iden(),
            CareSubject::Table.into_iden(),
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
    Id,
    Code,
    Category,
    Name,
    Gender,
    IdNumber,
    BirthDate,
    Phone,
    Address,
    RegionId,
    Status,
    CurrentRiskLevel,
    RegisteredOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MentalHealthProfile {
    Table,
    SubjectId,
    HealthRecordNo,
    Diagnosis,
    FoundBy,
    GuardianName,
    GuardianPhone,
    GuardianRelation,
    GuardianInsured,
    InsurancePolicyNo,
    InsuranceExpiresOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CorrectionProfile {
    Table,
    SubjectId,
    CorrectionType,
    Offence,
    ReceivedOn,
    SupervisionStart,
    SupervisionEnd,
    ReleasedOn,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum YouthProfile {
    Table,
    SubjectId,
    YouthKind,
    SchoolStatus,
    GuardianName,
    GuardianPhone,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RiskAssessment {
    Table,
    Id,
    SubjectId,
    Level,
    AssessedOn,
    Assessor,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CareVisit {
    Table,
    Id,
    SubjectId,
    Kind,
    VisitedAt,
    Visitor,
    MedicationTaken,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CareGroupMember {
    Table,
    Id,
    SubjectId,
    Role,
    Name,
    Phone,
    CreatedAt,
}
