//! Building blocks shared by the migrations, so that every table follows the same conventions on SQLite and
//! PostgreSQL: foreign keys named `fk-<table>-<column>` that never cascade, indexes named `idx-<table>-<columns>`
//! (`uq-…` when unique), CHECK constraints named `ck-<table>-<what>`, and the triggers that make a table
//! append-only.
//!
//! Changing a helper changes what the released migrations create on a fresh database, so treat this file like the
//! migrations themselves: once released, add a new helper rather than altering one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, Statement};

/// A foreign key `fk-<table>-<column>` from `table.column` to `parent.id`. ON DELETE RESTRICT: rows are never
/// removed by a cascade, and a parent cannot be deleted while anything still refers to it.
///
/// The name reaches PostgreSQL only: sea-query writes SQLite's foreign keys without `CONSTRAINT <name>`, which
/// loses nothing there, since SQLite neither reports nor drops a foreign key by name.
pub(crate) fn foreign_key(
    table: impl IntoIden,
    column: impl IntoIden,
    parent: impl IntoIden,
) -> ForeignKeyCreateStatement {
    let table = table.into_iden();
    let column = column.into_iden();
    ForeignKey::create()
        .name(format!("fk-{table}-{column}"))
        .from(table, column)
        .to(parent, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

/// A plain index `idx-<table>-<column>-<column>…`.
pub(crate) fn index<C: IntoIden>(
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    named_index("idx", table, columns)
}

/// A unique index `uq-<table>-<column>-<column>…`.
pub(crate) fn unique_index<C: IntoIden>(
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    named_index("uq", table, columns).unique().take()
}

fn named_index<C: IntoIden>(
    prefix: &str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    let table = table.into_iden();
    let columns: Vec<DynIden> = columns.into_iter().map(IntoIden::into_iden).collect();
    let mut name = format!("{prefix}-{table}");
    let mut index = Index::create();
    for column in columns {
        name.push('-');
        name.push_str(&column.to_string());
        index.col(column);
    }
    index.name(name).table(table).take()
}

/// `CONSTRAINT "ck-<table>-<column>" CHECK (<column> IN (<values>))`: an enumeration stored as a string may hold
/// only the values the entity's enum knows.
pub(crate) fn check_in(table: impl IntoIden, column: impl IntoIden, values: &[&'static str]) -> Check {
    let table = table.into_iden();
    let column = column.into_iden();
    Check::named(format!("ck-{table}-{column}"), Expr::col(column).is_in(values.iter().copied()))
}

/// `CONSTRAINT "ck-<table>-<what>" CHECK (<condition>)`.
pub(crate) fn check(table: impl IntoIden, what: &str, condition: impl Into<Expr>) -> Check {
    let table = table.into_iden();
    Check::named(format!("ck-{table}-{what}"), condition)
}

/// The PostgreSQL trigger function behind every append-only table. It names the table in its message, so one
/// function serves them all. The SQLSTATE is `restrict_violation` (23001), an integrity-constraint error like the
/// `SQLITE_CONSTRAINT_TRIGGER` that SQLite's `RAISE(ABORT, …)` produces.
const REJECT_CHANGE_FUNCTION: &str = r#"CREATE OR REPLACE FUNCTION govgraph_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$"#;

/// Creates `govgraph_reject_change()` on PostgreSQL; SQLite triggers carry their own body, so nothing to do there.
pub(crate) async fn create_reject_change_function(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        manager.get_connection().execute_unprepared(REJECT_CHANGE_FUNCTION).await?;
    }
    Ok(())
}

/// Drops `govgraph_reject_change()` on PostgreSQL, once no trigger uses it any more.
pub(crate) async fn drop_reject_change_function(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        manager
            .get_connection()
            .execute_unprepared("DROP FUNCTION IF EXISTS govgraph_reject_change()")
            .await?;
    }
    Ok(())
}

/// Makes `table` append-only: UPDATE and DELETE fail with "`<table>` is append-only" (and TRUNCATE too on
/// PostgreSQL, where it would otherwise bypass the DELETE trigger). On PostgreSQL this needs
/// [`create_reject_change_function`] first.
pub(crate) async fn make_append_only(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DbBackend::Postgres => vec![
            format!(
                r#"CREATE TRIGGER "{table}_reject_update" BEFORE UPDATE ON "{table}" FOR EACH ROW EXECUTE FUNCTION govgraph_reject_change()"#
            ),
            format!(
                r#"CREATE TRIGGER "{table}_reject_delete" BEFORE DELETE ON "{table}" FOR EACH ROW EXECUTE FUNCTION govgraph_reject_change()"#
            ),
            format!(
                r#"CREATE TRIGGER "{table}_reject_truncate" BEFORE TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION govgraph_reject_change()"#
            ),
        ],
        DbBackend::Sqlite => vec![
            format!(
                r#"CREATE TRIGGER "{table}_reject_update" BEFORE UPDATE ON "{table}" BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"#
            ),
            format!(
                r#"CREATE TRIGGER "{table}_reject_delete" BEFORE DELETE ON "{table}" BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"#
            ),
        ],
        other => return Err(unsupported(other)),
    };
    for statement in statements {
        manager.get_connection().execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// Removes the triggers [`make_append_only`] created on `table`.
pub(crate) async fn drop_append_only(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DbBackend::Postgres => ["update", "delete", "truncate"]
            .map(|op| format!(r#"DROP TRIGGER IF EXISTS "{table}_reject_{op}" ON "{table}""#))
            .to_vec(),
        DbBackend::Sqlite => {
            ["update", "delete"].map(|op| format!(r#"DROP TRIGGER IF EXISTS "{table}_reject_{op}""#)).to_vec()
        }
        other => return Err(unsupported(other)),
    };
    for statement in statements {
        manager.get_connection().execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// Empties a table whose `column` refers to its own `id`, so that it can be dropped on SQLite.
///
/// SQLite enforces ON DELETE RESTRICT row by row, even in the implicit `DELETE FROM` that `DROP TABLE` performs
/// when foreign keys are on, so a table holding a row that another row of the same table refers to cannot be
/// dropped. Deleting the rows nothing refers to, again and again, removes them in an order RESTRICT accepts.
/// PostgreSQL drops such tables as they are; there this does nothing.
pub(crate) async fn empty_self_referencing_table(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let statement = format!(
        r#"DELETE FROM "{table}" WHERE "id" NOT IN (SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL)"#
    );
    loop {
        let deleted = manager.get_connection().execute_unprepared(&statement).await?;
        if deleted.rows_affected() == 0 {
            return Ok(());
        }
    }
}

fn unsupported(backend: DbBackend) -> DbErr {
    DbErr::Migration(format!("the govgraph schema supports SQLite and PostgreSQL, not {backend:?}"))
}

/// SQLite: makes `table` refuse text longer than its columns' declared `varchar(N)`, as PostgreSQL does, with
/// one BEFORE INSERT and one BEFORE UPDATE trigger (SQLite cannot add a CHECK constraint to an existing table,
/// and a trigger reads the same whether the table is old or new). `length()` counts characters, as
/// `varchar(N)` does on PostgreSQL. The limits are read from the table's own declaration, so they can never
/// disagree with it. PostgreSQL enforces `varchar(N)` itself; there this does nothing.
pub(crate) async fn enforce_text_lengths(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let connection = manager.get_connection();
    let rows = connection
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT name, type FROM pragma_table_info(?) ORDER BY cid",
            [table.into()],
        ))
        .await?;
    let mut checks = Vec::new();
    for row in rows {
        let column: String = row.try_get("", "name")?;
        let declared: String = row.try_get("", "type")?;
        if let Some(limit) = varchar_limit(&declared) {
            checks.push(format!(
                r#"SELECT RAISE(ABORT, 'value too long for type character varying({limit}): {table}.{column}') WHERE length(NEW."{column}") > {limit};"#
            ));
        }
    }
    if checks.is_empty() {
        return Ok(());
    }
    let body = checks.join(" ");
    for (event, suffix) in [("INSERT", "insert"), ("UPDATE", "update")] {
        connection
            .execute_unprepared(&format!(
                r#"CREATE TRIGGER "{table}_text_length_{suffix}" BEFORE {event} ON "{table}" BEGIN {body} END"#
            ))
            .await?;
    }
    Ok(())
}

/// Removes the triggers [`enforce_text_lengths`] created on `table`.
pub(crate) async fn drop_text_lengths(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    for suffix in ["insert", "update"] {
        manager
            .get_connection()
            .execute_unprepared(&format!(r#"DROP TRIGGER IF EXISTS "{table}_text_length_{suffix}""#))
            .await?;
    }
    Ok(())
}

/// `N` of a declared type `varchar(N)` (any case, also `character varying(N)`).
pub(crate) fn varchar_limit(declared: &str) -> Option<u32> {
    let lower = declared.trim().to_ascii_lowercase();
    let inner = lower.strip_prefix("varchar(").or_else(|| lower.strip_prefix("character varying("))?;
    inner.strip_suffix(')')?.trim().parse().ok()
}
