//! The rollup's pending additions (`service_rollup_pending`): the cells a service-record write adds to the service
//! rollup, one row per region the records count for (their grid and each ancestor), appended by the writer's own
//! transaction. Writers only insert here, so concurrent writers never wait for one another on the rollup's rows,
//! however many of them log service for the same day in the same district: with the additions applied in place,
//! every record in the city updated the same city-, district- and township-level rows for its day and activity,
//! and writers queued on those few rows. The server folds the pending rows into `service_rollup` soon after they
//! commit, moving them in one statement; the statistics read both tables, so a figure equals the row-level total
//! before, during and after a fold.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{check, check_in, drop_text_lengths, enforce_text_lengths, foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ACTIVITIES: &[&str] =
    &["PATROL", "TRAFFIC", "SECURITY_CHECK", "PUBLICITY", "EVENT_SECURITY", "CARE_VISIT", "MEDIATION"];

#[derive(DeriveIden)]
enum ServiceRollupPending {
    Table,
    Id,
    RegionId,
    Day,
    Activity,
    Records,
    Minutes,
}

#[derive(DeriveIden)]
enum Region {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ServiceRollupPending as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(big_pk_auto(P::Id))
                    .col(big_integer(P::RegionId))
                    .col(date(P::Day))
                    .col(string_len(P::Activity, 16))
                    .col(big_integer(P::Records))
                    .col(big_integer(P::Minutes))
                    .foreign_key(&mut foreign_key(P::Table, P::RegionId, Region::Table))
                    .check(check_in(P::Table, P::Activity, ACTIVITIES))
                    .check(check(P::Table, "records", Expr::col(P::Records).gte(0)))
                    .check(check(P::Table, "minutes", Expr::col(P::Minutes).gte(0)))
                    .to_owned(),
            )
            .await?;
        // The statistics join the pending rows of a region level's regions, as they join the rollup's.
        manager.create_index(index(P::Table, [P::RegionId, P::Day])).await?;
        enforce_text_lengths(manager, "service_rollup_pending").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_text_lengths(manager, "service_rollup_pending").await?;
        manager.drop_table(Table::drop().table(ServiceRollupPending::Table).to_owned()).await
    }
}
