//! The service rollup (`service_rollup`): for every region — each grid and each of its ancestors up to the city —
//! every local day (Asia/Shanghai) and every activity, how many service records started then and there and how
//! many minutes they add up to. The statistics of service records and hours read it instead of millions of rows:
//! a city-wide figure by district reads the districts' rows only.
//!
//! The API keeps it up to date in the same transaction as the service records it summarises, the demo seed fills
//! it, and `govgraph stats verify` compares it with a recomputation. Applying this migration fills it from the
//! service records already present.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{check, check_in, foreign_key};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ACTIVITIES: &[&str] =
    &["PATROL", "TRAFFIC", "SECURITY_CHECK", "PUBLICITY", "EVENT_SECURITY", "CARE_VISIT", "MEDIATION"];

#[derive(DeriveIden)]
enum ServiceRollup {
    Table,
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

/// The rollup recomputed from the service records: each record counts for its grid and every ancestor of it.
fn backfill(backend: DbBackend) -> String {
    let local_day = match backend {
        DbBackend::Postgres => "CAST((started_at AT TIME ZONE 'Asia/Shanghai') AS DATE)",
        _ => "date(started_at, '+8 hours')",
    };
    format!(
        "INSERT INTO service_rollup (region_id, day, activity, records, minutes) \
         SELECT x.region_id, b.day, b.activity, CAST(SUM(b.records) AS BIGINT), CAST(SUM(b.minutes) AS BIGINT) \
         FROM (SELECT grid_id, {local_day} AS day, activity, COUNT(*) AS records, SUM(minutes) AS minutes \
               FROM service_record GROUP BY grid_id, {local_day}, activity) b \
         JOIN (SELECT g.id AS grid_id, a.id AS region_id FROM region g JOIN region a \
               ON g.path >= a.path AND g.path < substr(a.path, 1, length(a.path) - 1) || '0') x \
         ON x.grid_id = b.grid_id \
         WHERE 1 = 1 \
         GROUP BY x.region_id, b.day, b.activity \
         ORDER BY x.region_id, b.day, b.activity"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceRollup::Table)
                    .col(big_integer(ServiceRollup::RegionId))
                    .col(date(ServiceRollup::Day))
                    .col(string_len(ServiceRollup::Activity, 16))
                    .col(big_integer(ServiceRollup::Records))
                    .col(big_integer(ServiceRollup::Minutes))
                    .primary_key(
                        Index::create()
                            .col(ServiceRollup::RegionId)
                            .col(ServiceRollup::Day)
                            .col(ServiceRollup::Activity),
                    )
                    .foreign_key(&mut foreign_key(
                        ServiceRollup::Table,
                        ServiceRollup::RegionId,
                        Region::Table,
                    ))
                    .check(check_in(ServiceRollup::Table, ServiceRollup::Activity, ACTIVITIES))
                    .check(check(ServiceRollup::Table, "records", Expr::col(ServiceRollup::Records).gte(0)))
                    .check(check(ServiceRollup::Table, "minutes", Expr::col(ServiceRollup::Minutes).gte(0)))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(&backfill(db.get_database_backend())).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ServiceRollup::Table).to_owned()).await
    }
}
