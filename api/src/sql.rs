//! Raw SQL fragments shared by hand-written statements, one renderer each, for SQLite and PostgreSQL. (The
//! subtree fragments live with the scope rules: [`crate::scope::path_in_subtree_sql`].)

use sea_orm::sea_query::SelectStatement;
use sea_orm::{DatabaseBackend, Statement, Value, Values};

/// SQL of the local day (Asia/Shanghai, UTC+8 without daylight saving) of the instant in `column`.
pub fn local_day(backend: DatabaseBackend, column: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS DATE)"),
        _ => format!("date({column}, '+8 hours')"),
    }
}

/// `statement` built for `backend`, with a `LIMIT` of `limit` written as a literal on PostgreSQL (the other
/// parameters stay parameters).
///
/// A page statement is prepared once per connection and executed again and again, but with its limit a
/// parameter PostgreSQL costs the generic plan for an unknown number of rows, finds it far dearer than a plan for
/// the actual limit, and so plans the statement afresh at every execution: a page that carries its volunteers was
/// planned 9 times in 9 executions, 0.35 ms each, against 0.13 ms to run it. With the limit in the text the
/// generic plan is the right one and the plan cache serves it. (Our statements write no `$` outside their
/// placeholders: values are parameters, and the literals we inline are region paths.)
pub fn with_literal_limit(backend: DatabaseBackend, statement: &SelectStatement, limit: u64) -> Statement {
    let built = backend.build(statement);
    if backend != DatabaseBackend::Postgres {
        return built;
    }
    let Some(Values(values)) = built.values.clone() else { return built };
    let mut sql = String::with_capacity(built.sql.len());
    let mut kept: Vec<Value> = Vec::with_capacity(values.len());
    let mut rest = built.sql.as_str();
    while let Some(at) = rest.find('$') {
        sql.push_str(&rest[..at]);
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let Ok(index) = rest[at + 1..at + 1 + digits].parse::<usize>() else {
            // Not a placeholder: keep it as it is.
            sql.push('$');
            rest = &rest[at + 1..];
            continue;
        };
        let value = values.get(index.wrapping_sub(1)).cloned();
        match value {
            Some(Value::BigUnsigned(Some(n))) if n == limit && sql.ends_with("LIMIT ") => {
                sql.push_str(&n.to_string());
            }
            Some(value) => {
                kept.push(value);
                sql.push('$');
                sql.push_str(&kept.len().to_string());
            }
            None => return built,
        }
        rest = &rest[at + 1 + digits..];
    }
    sql.push_str(rest);
    Statement::from_sql_and_values(backend, sql, kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

    #[test]
    fn a_page_limit_is_written_as_a_literal_on_postgresql_only() {
        let mut inner = Query::select();
        inner
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("status")).eq("ACTIVE"))
            .limit(21);
        let mut outer = Query::select();
        outer
            .column(Alias::new("id"))
            .from_subquery(inner, Alias::new("t"))
            .and_where(Expr::col(Alias::new("id")).gt(7))
            .limit(5);
        let postgres = with_literal_limit(DatabaseBackend::Postgres, &outer, 21);
        assert_eq!(
            postgres.sql,
            r#"SELECT "id" FROM (SELECT "id" FROM "t" WHERE "status" = $1 LIMIT 21) AS "t" WHERE "id" > $2 LIMIT $3"#
        );
        assert_eq!(
            postgres.values,
            Some(Values(vec![Value::from("ACTIVE"), Value::Int(Some(7)), Value::BigUnsigned(Some(5))]))
        );
        let sqlite = with_literal_limit(DatabaseBackend::Sqlite, &outer, 21);
        assert_eq!(sqlite, DatabaseBackend::Sqlite.build(&outer));
    }

    #[test]
    fn local_days_on_both_databases() {
        assert_eq!(local_day(DatabaseBackend::Sqlite, "t"), "date(t, '+8 hours')");
        assert_eq!(
            local_day(DatabaseBackend::Postgres, "t"),
            "CAST((t AT TIME ZONE 'Asia/Shanghai') AS DATE)"
        );
    }
}
