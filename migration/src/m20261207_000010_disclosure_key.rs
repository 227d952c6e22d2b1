//! The deployment's disclosure key (`disclosure_key`): the secret from which the cell key method derives every
//! record's key and every cell's noise in the statistics partners see. One row, created by the server on the first
//! statistic it protects, so that every process and every restart perturbs the same cells alike. Whoever reads
//! it can undo the noise: only the server's database role should.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{check, drop_text_lengths, enforce_text_lengths};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DisclosureKey {
    Table,
    Id,
    Secret,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DisclosureKey::Table)
                    .col(small_integer(DisclosureKey::Id).primary_key())
                    .col(string_len(DisclosureKey::Secret, 64))
                    .col(timestamp_with_time_zone(DisclosureKey::CreatedAt))
                    .check(check(DisclosureKey::Table, "single_row", Expr::col(DisclosureKey::Id).eq(1)))
                    .check(check(DisclosureKey::Table, "secret", Expr::cust("length(secret) = 64")))
                    .to_owned(),
            )
            .await?;
        enforce_text_lengths(manager, "disclosure_key").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_text_lengths(manager, "disclosure_key").await?;
        manager.drop_table(Table::drop().table(DisclosureKey::Table).to_owned()).await
    }
}
