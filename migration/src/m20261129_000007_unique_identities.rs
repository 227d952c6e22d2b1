//! One registration per person: a volunteer's identity card number is unique, and a person is registered at most
//! once per care category. The API answers a duplicate registration with `CONFLICT`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Volunteer {
    Table,
    IdNumber,
}

#[derive(DeriveIden)]
enum CareSubject {
    Table,
    Category,
    IdNumber,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("uq-volunteer-id_number")
                    .table(Volunteer::Table)
                    .col(Volunteer::IdNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq-care_subject-category-id_number")
                    .table(CareSubject::Table)
                    .col(CareSubject::Category)
                    .col(CareSubject::IdNumber)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop().name("uq-care_subject-category-id_number").table(CareSubject::Table).to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name("uq-volunteer-id_number").table(Volunteer::Table).to_owned())
            .await
    }
}
