//! The administrative tree (`region`: city → district → township → community → grid, in one table) and each
//! grid's public management-service team (`grid_team_member`).
//!
//! `region.path` is the materialized path of codes (`/330900/330902/`) and subtrees are selected with the range
//! predicate `path >= '/330900/330902/' AND path < '/330900/3309020'`, which is only right under byte-wise
//! ordering: SQLite's default BINARY collation is, and on PostgreSQL the column is declared `COLLATE "C"` so that
//! neither the comparison nor its index depend on the database's locale.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{check, check_in, empty_self_referencing_table, foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const REGION_LEVELS: &[&str] = &["CITY", "DISTRICT", "TOWNSHIP", "COMMUNITY", "GRID"];
const TEAM_ROLES: &[&str] =
    &["GRID_LEADER", "GRID_WORKER", "POLICE_OFFICER", "DOCTOR", "LAWYER", "MEDIATOR", "VOLUNTEER"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut path = string_len_uniq(Region::Path, 128);
        if manager.get_database_backend() == DbBackend::Postgres {
            path.extra(r#"COLLATE "C""#);
        }
        manager
            .create_table(
                Table::create()
                    .table(Region::Table)
                    .col(big_pk_auto(Region::Id))
                    .col(string_len_uniq(Region::Code, 32))
                    .col(string_len(Region::Name, 64))
                    .col(string_len(Region::Level, 9))
                    .col(big_integer_null(Region::ParentId))
                    .col(path)
                    .col(small_integer(Region::Depth))
                    .col(timestamp_with_time_zone(Region::CreatedAt))
                    .foreign_key(&mut foreign_key(Region::Table, Region::ParentId, Region::Table))
                    .check(check_in(Region::Table, Region::Level, REGION_LEVELS))
                    .check(check(Region::Table, "depth", Expr::col(Region::Depth).between(0, 4)))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(Region::Table, [Region::ParentId])).await?;
        manager.create_index(index(Region::Table, [Region::Level])).await?;

        manager
            .create_table(
                Table::create()
                    .table(GridTeamMember::Table)
                    .col(big_pk_auto(GridTeamMember::Id))
                    .col(big_integer(GridTeamMember::GridId))
                    .col(string_len(GridTeamMember::Role, 16))
                    .col(string_len(GridTeamMember::Name, 64))
                    .col(string_len(GridTeamMember::Phone, 32))
                    .col(string_len_null(GridTeamMember::Duty, 128))
                    .col(timestamp_with_time_zone(GridTeamMember::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        GridTeamMember::Table,
                        GridTeamMember::GridId,
                        Region::Table,
                    ))
                    .check(check_in(GridTeamMember::Table, GridTeamMember::Role, TEAM_ROLES))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(GridTeamMember::Table, [GridTeamMember::GridId])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(GridTeamMember::Table).to_owned()).await?;
        empty_self_referencing_table(manager, "region", "parent_id").await?;
        manager.drop_table(Table::drop().table(Region::Table).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        // SQLite has transactional DDL too: a failed migration leaves nothing half-made on either backend.
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Region {
    Table,
    Id,
    Code,
    Name,
    Level,
    ParentId,
    Path,
    Depth,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GridTeamMember {
    Table,
    Id,
    GridId,
    Role,
    Name,
    Phone,
    Duty,
    CreatedAt,
}
