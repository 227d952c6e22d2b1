//! What both test files need to run against PostgreSQL: the server from `DATABASE_URL`, and a scratch database
//! on it that exists only for one test.

use std::time::{SystemTime, UNIX_EPOCH};

use migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr};

/// `DATABASE_URL` when it points at PostgreSQL; otherwise the PostgreSQL runs are skipped.
pub fn postgres_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => Some(url),
        _ => {
            eprintln!("DATABASE_URL is not a PostgreSQL URL: PostgreSQL run skipped");
            None
        }
    }
}

/// A freshly created, empty database, dropped again by [`ScratchDatabase::drop`].
pub struct ScratchDatabase {
    admin: DatabaseConnection,
    name: String,
    /// The URL of the scratch database.
    pub url: String,
}

impl ScratchDatabase {
    /// Creates `govgraph_migtest_<pid>_<nanos>` on the server of `server_url`.
    pub async fn create(server_url: &str) -> Result<Self, DbErr> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos());
        let name = format!("govgraph_migtest_{}_{nanos}", std::process::id());
        let admin = Database::connect(server_url).await?;
        admin.execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#)).await?;
        let url = with_database(server_url, &name);
        Ok(Self { admin, name, url })
    }

    /// Drops the database, even if a test left connections to it open.
    pub async fn drop(self) -> Result<(), DbErr> {
        let name = &self.name;
        self.admin.execute_unprepared(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)).await?;
        self.admin.close().await
    }
}

/// `url` with its database name replaced by `name`, query string kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |at| at + 3);
    let server = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}
