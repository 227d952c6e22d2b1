//! Raw SQL fragments shared by hand-written statements, one renderer each, for SQLite and PostgreSQL. (The
//! subtree fragments live with the scope rules: [`crate::scope::path_in_subtree_sql`].)

use sea_orm::DatabaseBackend;

/// SQL of the local day (Asia/Shanghai, UTC+8 without daylight saving) of the instant in `column`.
pub fn local_day(backend: DatabaseBackend, column: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS DATE)"),
        _ => format!("date({column}, '+8 hours')"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_days_on_both_databases() {
        assert_eq!(local_day(DatabaseBackend::Sqlite, "t"), "date(t, '+8 hours')");
        assert_eq!(
            local_day(DatabaseBackend::Postgres, "t"),
            "CAST((t AT TIME ZONE 'Asia/Shanghai') AS DATE)"
        );
    }
}
