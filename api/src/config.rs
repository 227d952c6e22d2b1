//! Configuration: every setting is a command-line flag with an environment variable of the same meaning, read
//! once at start. `--help` on each subcommand documents them; `.env.sample` lists the variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// The SQLite file used when `DATABASE_URL` is not set: in the working directory, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://govgraph.db?mode=rwc";

/// Settings every subcommand that touches the database shares.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database to use: `sqlite://FILE?mode=rwc` (embedded, the default) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Largest number of pooled database connections (default 16 on PostgreSQL, 8 on SQLite).
    #[arg(long, env = "GOVGRAPH_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,
}

impl DatabaseArgs {
    /// The pool size: as configured, or the default for the kind of database. Each SQLite connection runs on a
    /// thread of its own with a page cache and prepared statements of its own, and the statements run in this
    /// process, on its cores: past 8 connections they cost memory and thread switches and no throughput
    /// (measured: 16 connections peaked at 177 MiB, 8 at 120 MiB, and 8 served as many requests or more).
    pub fn max_connections(&self) -> u32 {
        self.db_max_connections.unwrap_or(if crate::db::is_postgres_url(&self.database_url) {
            DEFAULT_POSTGRES_CONNECTIONS
        } else {
            DEFAULT_SQLITE_CONNECTIONS
        })
    }
}

/// Pool size on PostgreSQL unless `GOVGRAPH_DB_MAX_CONNECTIONS` says otherwise.
pub const DEFAULT_POSTGRES_CONNECTIONS: u32 = 16;
/// Pool size on SQLite unless `GOVGRAPH_DB_MAX_CONNECTIONS` says otherwise.
pub const DEFAULT_SQLITE_CONNECTIONS: u32 = 8;

/// How tokens are verified. The accepted algorithm is fixed here, never taken from the token.
#[derive(Debug, Clone, Args)]
pub struct JwtArgs {
    /// Shared secret for HS256 tokens.
    #[arg(long, env = "GOVGRAPH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// PEM file with the public key for RS256/ES256 tokens (instead of a secret).
    #[arg(long, env = "GOVGRAPH_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,

    /// JWKS file (a JSON Web Key Set) whose keys are chosen by the token's `kid`, for key rotation.
    #[arg(long, env = "GOVGRAPH_JWT_JWKS")]
    pub jwt_jwks: Option<PathBuf>,

    /// Algorithm of the public key(s) in `GOVGRAPH_JWT_PUBLIC_KEY` or `GOVGRAPH_JWT_JWKS`.
    #[arg(long, env = "GOVGRAPH_JWT_ALGORITHM", value_enum, default_value_t = PublicKeyAlgorithm::Rs256)]
    pub jwt_algorithm: PublicKeyAlgorithm,

    /// Required `iss` claim, when set.
    #[arg(long, env = "GOVGRAPH_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Required `aud` claim, when set.
    #[arg(long, env = "GOVGRAPH_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
}

/// Asymmetric algorithms accepted with a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PublicKeyAlgorithm {
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "ES256")]
    Es256,
}

/// Settings of `govgraph serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "GOVGRAPH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Fill an empty database with deterministic demo data first, and without a configured key create a
    /// development secret and print a ready-to-paste admin `Authorization` header.
    #[arg(long)]
    pub demo: bool,

    /// Size of the demo data relative to the city (1 = the report's figures).
    #[arg(long, env = "GOVGRAPH_DEMO_SCALE", default_value_t = 1.0)]
    pub scale: f64,

    /// Worker threads serving HTTP (default: one per core).
    #[arg(long, env = "GOVGRAPH_WORKERS")]
    pub workers: Option<usize>,

    /// Legal-aid disbursements of more than this many fen (1 yuan = 100 fen) must be made by someone other than
    /// the fund officer who approved them.
    #[arg(long, env = "GOVGRAPH_DUAL_CONTROL_THRESHOLD_FEN", default_value_t = crate::legal_aid::DEFAULT_DUAL_CONTROL_THRESHOLD_FEN)]
    pub dual_control_threshold_fen: i64,

    /// Partners see no statistics cell of a sensitive measure counting fewer than N persons (N ≥ 2), empty
    /// cells included, so that a hidden cell does not say whether anyone is there.
    #[arg(long, env = "GOVGRAPH_STATS_MIN_CELL", default_value_t = crate::statistics::DEFAULT_MIN_CELL,
          value_parser = clap::value_parser!(i64).range(2..))]
    pub stats_min_cell: i64,

    /// The largest noise the cell key method adds to a partner's figure of a sensitive measure: persons for
    /// counts, percent for amounts and hours (1 to 10).
    #[arg(long, env = "GOVGRAPH_STATS_MAX_NOISE", default_value_t = crate::statistics::cell_key::DEFAULT_MAX_NOISE,
          value_parser = clap::value_parser!(i64).range(1..=10))]
    pub stats_max_noise: i64,

    /// How top-level lists read their nested fields: `compiled` reads those it recognises (the volunteer of a
    /// service record, the grid of a row, a care subject's newest visit) in the list's own statement; `loaders`
    /// reads each through its batched loader. Both answer alike; `loaders` is there to compare.
    #[arg(long, env = "GOVGRAPH_READ_PATH", value_enum, default_value_t = crate::pagination::ReadPath::Compiled)]
    pub read_path: crate::pagination::ReadPath,

    #[command(flatten)]
    pub jwt: JwtArgs,

    /// How many calendar days each stage of a dispute may take.
    #[command(flatten)]
    pub dispute_deadlines: crate::disputes::deadline::DisputeDeadlines,

    /// Query limits, time budgets, introspection, suggestions and CORS.
    #[command(flatten)]
    pub limits: crate::limits::QueryLimits,

    /// Rate limits, persisted queries and the Redis they share (boxed: the other commands stay small).
    #[command(flatten)]
    pub traffic: Box<crate::http::traffic::TrafficArgs>,

    /// Live dispatch: the event bus and the WebSocket endpoint (boxed like `traffic`).
    #[command(flatten)]
    pub live: Box<crate::http::ws::LiveArgs>,
}

/// Where the development secret of a database is kept: beside the SQLite file, so that `govgraph token` run
/// in the same place finds the one `serve --demo` created; in the working directory for other databases.
pub fn dev_secret_path(database_url: &str) -> PathBuf {
    let sqlite_file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|file| !file.is_empty() && !file.contains(":memory:"));
    match sqlite_file {
        Some(file) => PathBuf::from(format!("{file}.dev-secret")),
        None => PathBuf::from("govgraph.dev-secret"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_size_defaults_by_kind_of_database_unless_configured() {
        let args = |url: &str, max: Option<u32>| DatabaseArgs {
            database_url: url.to_owned(),
            db_max_connections: max,
        };
        assert_eq!(args(DEFAULT_DATABASE_URL, None).max_connections(), 8);
        assert_eq!(args("sqlite::memory:", None).max_connections(), 8);
        assert_eq!(args("postgres://postgres@127.0.0.1/x", None).max_connections(), 16);
        assert_eq!(args("postgres://postgres@127.0.0.1/x", Some(40)).max_connections(), 40);
        assert_eq!(args(DEFAULT_DATABASE_URL, Some(2)).max_connections(), 2);
    }

    #[test]
    fn dev_secret_sits_beside_the_sqlite_file() {
        assert_eq!(dev_secret_path("sqlite://govgraph.db?mode=rwc"), PathBuf::from("govgraph.db.dev-secret"));
        assert_eq!(dev_secret_path("sqlite:/var/lib/g.db"), PathBuf::from("/var/lib/g.db.dev-secret"));
        assert_eq!(dev_secret_path("sqlite::memory:"), PathBuf::from("govgraph.dev-secret"));
        assert_eq!(dev_secret_path("postgres://postgres@127.0.0.1/x"), PathBuf::from("govgraph.dev-secret"));
    }
}
