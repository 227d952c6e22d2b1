//! The `govgraph` command line.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sea_orm_migration::MigratorTrait;

use crate::auth::Role;
use crate::auth::jwt::{Claims, mint_hs256};
use crate::config::{DatabaseArgs, ServeArgs, dev_secret_path};
use crate::telemetry::{BoxedLayer, Telemetry, TelemetryError};

/// GraphQL API for a city's social-governance data platform: regions and grids, volunteers, special-population
/// care, youth mentoring and legal-aid funds, scoped by the caller's token.
#[derive(Debug, Parser)]
#[command(name = "govgraph", version)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Log filter, e.g. `info` or `govgraph=debug,info`.
    #[arg(
        long,
        env = "GOVGRAPH_LOG",
        default_value = "info,sqlx=warn,sea_orm_migration=warn",
        global = true
    )]
    pub log: String,

    /// Log line format.
    #[arg(long, env = "GOVGRAPH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API over HTTP (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply, roll back or inspect database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Fill an empty database with deterministic demo data.
    Seed(SeedArgs),
    /// Print the GraphQL schema (SDL), as committed in schema.graphql.
    Schema,
    /// Mint a development HS256 token for trying the API in GraphiQL.
    Token(TokenArgs),
    /// Print the policy table (role × resource) as a Markdown matrix.
    Policy,
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Check the legal-aid funds' money ledger.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// Check the statistics' rollups.
    Stats {
        #[command(subcommand)]
        action: StatsAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatsAction {
    /// Recompute the service rollup (records and minutes per region, local day and activity) from the service
    /// records and compare it cell by cell; exits non-zero naming the cells that differ.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum LedgerAction {
    /// Recompute every fund's balance from its entries, check that no balance ever went negative, that each
    /// entry's hash matches its content and each application's repaid amount matches its repayments; exits
    /// non-zero on any mismatch.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Recompute the audit trail's hash chain; exits non-zero when an event was altered, removed or reordered.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply all pending migrations.
    Up,
    /// Roll back the most recent migrations.
    Down {
        /// How many migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table and apply all migrations from scratch.
    Fresh,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Size relative to the city (1 = the report's figures; 10 ≈ 10^7 service records).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,

    /// Seed of the random generator; the same seed gives the same data.
    #[arg(long, default_value_t = 20170919)]
    pub rng_seed: u64,

    /// The day the demo data ends on (YYYY-MM-DD).
    #[arg(long, default_value = "2026-11-30")]
    pub as_of: chrono::NaiveDate,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The token's subject.
    #[arg(long, default_value = "dev")]
    pub sub: String,

    /// Role to grant; repeat for several.
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,

    /// Code of the region the token is scoped to.
    #[arg(long, default_value = "330900")]
    pub region: String,

    /// Lifetime, e.g. `30m`, `8h`, `7d`.
    #[arg(long, default_value = "8h", value_parser = parse_ttl)]
    pub ttl: Duration,

    /// Display name.
    #[arg(long)]
    pub name: Option<String>,

    /// Standing purpose of access.
    #[arg(long)]
    pub purpose: Option<String>,

    /// HS256 secret; defaults to the development secret created by `serve --demo`.
    #[arg(long, env = "GOVGRAPH_JWT_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// Print a complete `Authorization: Bearer …` header line.
    #[arg(long)]
    pub header: bool,
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::from_claim(value).ok_or_else(|| {
        let names: Vec<&str> = Role::TOKEN_ROLES.iter().map(|role| role.as_str()).collect();
        format!("unknown role; one of: {}", names.join(", "))
    })
}

/// Parses `90s`, `30m`, `8h`, `7d` (a bare number is seconds).
pub fn parse_ttl(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(split) => value.split_at(split),
        None => (value, "s"),
    };
    let number: u64 = number.parse().map_err(|_| format!("not a duration: {value:?}"))?;
    let seconds = match unit {
        "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86_400,
        _ => return Err(format!("unknown unit {unit:?}; use s, m, h or d")),
    };
    if seconds == 0 {
        return Err("the lifetime must be positive".into());
    }
    Ok(Duration::from_secs(seconds))
}

/// Installs the log lines on stderr and, for `serve` with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the export of
/// traces (returned, to be shut down once the server stopped).
fn init_logging(cli: &Cli) -> Result<Option<Telemetry>, TelemetryError> {
    use tracing_subscriber::filter::{FilterExt, filter_fn};
    use tracing_subscriber::{Layer, Registry, layer::SubscriberExt, util::SubscriberInitExt};
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The spans made for traces would prefix every line logged inside a request: they stay out of the logs.
    let logged = filter.and(filter_fn(crate::telemetry::logged));
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let lines: BoxedLayer<Registry> = match cli.log_format {
        LogFormat::Text => lines.with_filter(logged).boxed(),
        LogFormat::Json => lines.json().flatten_event(true).with_filter(logged).boxed(),
    };
    let mut layers = vec![lines];
    let mut telemetry = None;
    if matches!(cli.command, Command::Serve(_))
        && let Some((exporter, trace_layers)) = crate::telemetry::from_env::<Registry>()?
    {
        layers.extend(trace_layers);
        telemetry = Some(exporter);
    }
    tracing_subscriber::registry().with(layers).init();
    Ok(telemetry)
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let telemetry = match init_logging(&cli) {
        Ok(telemetry) => telemetry,
        Err(err) => {
            eprintln!("govgraph: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = actix_web::rt::System::new().block_on(run(cli));
    // The spans of the last requests are still queued: they are sent before the process ends.
    if let Some(telemetry) = telemetry {
        telemetry.shutdown();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("govgraph: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        Command::Serve(args) => {
            crate::server::serve(&cli.database, args).await.map_err(|err| err.to_string())
        }
        Command::Migrate { action } => migrate(&cli.database, action).await.map_err(|err| err.to_string()),
        Command::Seed(args) => seed(&cli.database, args).await,
        Command::Schema => {
            print!("{}", crate::schema::sdl());
            Ok(())
        }
        Command::Token(args) => token(&cli.database, args),
        Command::Policy => {
            print!("{}", crate::auth::policy::markdown_matrix());
            Ok(())
        }
        Command::Audit { action: AuditAction::Verify } => audit_verify(&cli.database).await,
        Command::Ledger { action: LedgerAction::Verify } => ledger_verify(&cli.database).await,
        Command::Stats { action: StatsAction::Verify } => stats_verify(&cli.database).await,
    }
}

async fn audit_verify(database: &DatabaseArgs) -> Result<(), String> {
    use crate::audit::chain::{ChainReport, verify};
    let db = crate::db::connect(&database.database_url, 1, None).await.map_err(|err| err.to_string())?;
    let report = verify(&db).await.map_err(|err| err.to_string())?;
    db.close().await.map_err(|err| err.to_string())?;
    match report {
        ChainReport::Intact { events } => {
            println!("audit trail intact: {events} events");
            Ok(())
        }
        ChainReport::Broken { event_id, reason } => {
            Err(format!("audit trail broken at event {event_id}: {reason}"))
        }
    }
}

async fn ledger_verify(database: &DatabaseArgs) -> Result<(), String> {
    use crate::money::format_fen;
    let db = crate::db::connect(&database.database_url, 1, None).await.map_err(|err| err.to_string())?;
    let report = crate::legal_aid::verify::verify(&db).await.map_err(|err| err.to_string())?;
    db.close().await.map_err(|err| err.to_string())?;
    for fund in &report.funds {
        println!(
            "{}\t{}\t{} entries\tbalance {} yuan\trecomputed {} yuan\tlowest {} yuan\t{}",
            fund.code,
            fund.name,
            fund.entries,
            format_fen(fund.cached_fen),
            format_fen(fund.computed_fen),
            format_fen(fund.lowest_fen),
            if fund.ok() { "ok" } else { "MISMATCH" }
        );
    }
    if report.ok() {
        println!("ledger consistent: {} entries, {} applications", report.entries, report.applications);
        return Ok(());
    }
    for problem in report.problems.iter().take(50) {
        eprintln!("govgraph: ledger: {problem}");
    }
    Err(format!("ledger verify failed: {} problem(s) found", report.problems.len()))
}

/// Most differing cells printed; the count covers them all.
const MAX_REPORTED_CELLS: usize = 50;

async fn stats_verify(database: &DatabaseArgs) -> Result<(), String> {
    let db = crate::db::connect(&database.database_url, 1, None).await.map_err(|err| err.to_string())?;
    let report = crate::statistics::rollup::verify(&db).await.map_err(|err| err.to_string())?;
    db.close().await.map_err(|err| err.to_string())?;
    if report.ok() {
        println!(
            "service rollup consistent: {} cells summarise {} service records",
            report.cells, report.records
        );
        return Ok(());
    }
    for difference in report.differences.iter().take(MAX_REPORTED_CELLS) {
        eprintln!("govgraph: service rollup: {difference}");
    }
    if report.differences.len() > MAX_REPORTED_CELLS {
        eprintln!("govgraph: service rollup: … and {} more", report.differences.len() - MAX_REPORTED_CELLS);
    }
    Err(format!(
        "stats verify failed: {} service rollup cell(s) differ from the service records",
        report.differences.len()
    ))
}

async fn migrate(database: &DatabaseArgs, action: &MigrateAction) -> Result<(), sea_orm::DbErr> {
    let db = crate::db::connect(&database.database_url, 1, None).await?;
    match action {
        MigrateAction::Up => {
            crate::db::migrate_up(&db).await?;
        }
        MigrateAction::Down { steps } => migration::Migrator::down(&db, Some(*steps)).await?,
        MigrateAction::Fresh => migration::Migrator::fresh(&db).await?,
        MigrateAction::Status => {
            for migration in migration::Migrator::get_migration_with_status(&db).await? {
                println!("{}\t{}", migration.status(), migration.name());
            }
        }
    }
    db.close().await
}

async fn seed(database: &DatabaseArgs, args: &SeedArgs) -> Result<(), String> {
    let db = crate::db::connect(&database.database_url, 4, None).await.map_err(|err| err.to_string())?;
    crate::db::migrate_up(&db).await.map_err(|err| err.to_string())?;
    let options = crate::seed::SeedOptions {
        scale: args.scale,
        rng_seed: args.rng_seed,
        as_of: args.as_of,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let report = crate::seed::seed(&db, &options).await.map_err(|err| err.to_string())?;
    // Closing checkpoints SQLite's write-ahead log into the database file.
    db.close().await.map_err(|err| err.to_string())?;
    println!(
        "seeded in {:.1} s: {} regions ({} grids), {} team members, {} volunteers in {} teams, {} service records, \
         {} care subjects ({} corrections received, {} released), {} mentorships with {} outcomes, \
         {} legal-aid applications, {} ledger entries, {} disputes with {} events, {} major projects",
        report.elapsed.as_secs_f64(),
        report.regions,
        report.grids,
        report.grid_team_members,
        report.volunteers,
        report.volunteer_teams,
        report.service_records,
        report.care_subjects,
        report.corrections_received,
        report.corrections_released,
        report.mentorships,
        report.mentoring_outcomes,
        report.applications,
        report.ledger_entries,
        report.disputes,
        report.dispute_events,
        report.major_projects,
    );
    Ok(())
}

fn token(database: &DatabaseArgs, args: &TokenArgs) -> Result<(), String> {
    let secret = match &args.secret {
        Some(secret) => secret.clone(),
        None => {
            let path = dev_secret_path(&database.database_url);
            std::fs::read_to_string(&path).map(|s| s.trim().to_owned()).map_err(|err| {
                format!(
                    "no secret: set GOVGRAPH_JWT_SECRET, or run `govgraph serve --demo` first to create {} ({err})",
                    path.display()
                )
            })?
        }
    };
    let now = chrono::Utc::now().timestamp();
    let ttl = i64::try_from(args.ttl.as_secs()).map_err(|_| "lifetime too long".to_owned())?;
    let claims = Claims {
        sub: args.sub.clone(),
        roles: args.roles.iter().map(|role| role.as_str().to_owned()).collect(),
        region: Some(args.region.clone()),
        exp: now + ttl,
        iat: Some(now),
        nbf: None,
        iss: std::env::var("GOVGRAPH_JWT_ISSUER").ok(),
        aud: std::env::var("GOVGRAPH_JWT_AUDIENCE").ok(),
        name: args.name.clone(),
        purpose: args.purpose.clone(),
    };
    let token = mint_hs256(&secret, &claims).map_err(|err| err.to_string())?;
    if args.header {
        println!("Authorization: Bearer {token}");
    } else {
        println!("{token}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_ttl("8h").unwrap(), Duration::from_secs(28_800));
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("abc").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
