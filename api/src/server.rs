//! `govgraph serve`: migrate, optionally seed demo data, resolve the token key, and serve HTTP until SIGTERM or
//! ctrl-c (actix finishes in-flight requests before exiting).

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use sea_orm::DatabaseConnection;

use crate::auth::jwt::{Claims, TokenVerifier, mint_hs256};
use crate::config::{DatabaseArgs, ServeArgs, dev_secret_path};
use crate::db::StatementCounter;
use crate::events::{BusError, EventBus, EventBusArgs};
use crate::http::metrics::Metrics;
use crate::http::traffic::{Traffic, TrafficError};
use crate::http::ws::{LiveArgs, WebSocketArgs, WebSockets};
use crate::http::{AppState, log_requests, routes};
use crate::legal_aid::LegalAidSettings;
use crate::limits::QueryLimits;
use crate::limits::analysis::TypeModel;
use crate::schema::{ApiSchema, schema_builder};
use crate::statistics::StatisticsSettings;

/// Deepest selection the server executes.
pub const MAX_DEPTH: usize = 16;

/// Everything that can stop `serve` from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Key(#[from] crate::auth::jwt::KeyError),
    #[error("demo data: {0}")]
    Seed(#[from] crate::seed::SeedError),
    #[error("development secret file {path}: {source}")]
    DevSecret { path: String, source: std::io::Error },
    #[error(
        "GOVGRAPH_JWT_SECRET is the development secret of `serve --demo` ({path}); outside the demo, configure a secret of your own (e.g. `openssl rand -hex 32`) or a public key"
    )]
    DevelopmentSecret { path: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("server: {0}")]
    Server(std::io::Error),
    #[error(transparent)]
    Traffic(#[from] TrafficError),
    #[error(transparent)]
    EventBus(#[from] BusError),
}

/// The domains' settings, attached to the schema as data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DomainSettings {
    pub legal_aid: LegalAidSettings,
    pub statistics: StatisticsSettings,
    pub disputes: crate::disputes::deadline::DisputeDeadlines,
    /// Whether top-level pages read the nested fields they recognise in their own statement.
    pub read_path: crate::pagination::ReadPath,
}

/// The schema as the server runs it under `limits`: suggestions ("did you mean") only in development mode,
/// async-graphql's own depth limit kept as a backstop behind the pre-pass of [`crate::limits::analysis`], the
/// operations' spans while traces are exported.
pub fn build_schema_limited(
    db: &DatabaseConnection,
    settings: DomainSettings,
    limits: &QueryLimits,
) -> ApiSchema {
    let mut builder = schema_builder()
        .data(db.clone())
        .data(settings.legal_aid)
        .data(settings.statistics)
        .data(crate::statistics::cell_key::KeyCache::default())
        .data(crate::statistics::rollup::Folder::new(db))
        .data(settings.disputes)
        .data(settings.read_path)
        .limit_depth(MAX_DEPTH.max(limits.max_depth));
    if !limits.dev_mode {
        builder = builder.disable_suggestions();
    }
    if crate::telemetry::enabled() {
        builder = builder.extension(crate::telemetry::graphql::OperationSpans);
    }
    builder.finish()
}

/// The shared state of a server over `db` with default settings and limits.
pub fn app_state(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    statements: Arc<StatementCounter>,
) -> AppState {
    app_state_with_limits(db, verifier, statements, DomainSettings::default(), QueryLimits::default())
}

/// The shared state of a server over `db` with the given settings and query limits, without rate limits or an
/// allow-list.
pub fn app_state_with_limits(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    statements: Arc<StatementCounter>,
    settings: DomainSettings,
    limits: QueryLimits,
) -> AppState {
    app_state_with_traffic(db, verifier, statements, settings, limits, Traffic::unlimited())
}

/// The shared state of a server over `db` with the given settings, query limits, rate limits and persisted
/// queries, and the default live dispatch (see [`app_state_with_live`]).
pub fn app_state_with_traffic(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    statements: Arc<StatementCounter>,
    settings: DomainSettings,
    limits: QueryLimits,
    traffic: Traffic,
) -> AppState {
    let shared = traffic.shared.clone();
    // `auto` always finds a bus: PostgreSQL, Redis or this process.
    let events = EventBus::from_args(&EventBusArgs::default(), &db, shared.clone())
        .unwrap_or_else(|_| EventBus::in_process());
    let websockets = WebSockets::new(WebSocketArgs::default(), shared);
    state_of(db, verifier, statements, settings, limits, traffic, events, websockets)
}

/// The shared state of a server over `db` with every setting given, live dispatch included; an error when the
/// event bus asked for cannot be had (PostgreSQL's on SQLite, Redis's without `REDIS_URL`).
pub fn app_state_with_live(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    statements: Arc<StatementCounter>,
    settings: DomainSettings,
    limits: QueryLimits,
    traffic: Traffic,
    live: &LiveArgs,
) -> Result<AppState, BusError> {
    let shared = traffic.shared.clone();
    let events = EventBus::from_args(&live.events, &db, shared.clone())?;
    let websockets = WebSockets::new(live.websocket.clone(), shared);
    Ok(state_of(db, verifier, statements, settings, limits, traffic, events, websockets))
}

#[expect(clippy::too_many_arguments, reason = "one private assembly point of the state's parts")]
fn state_of(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    statements: Arc<StatementCounter>,
    settings: DomainSettings,
    limits: QueryLimits,
    traffic: Traffic,
    events: EventBus,
    websockets: WebSockets,
) -> AppState {
    let schema = build_schema_limited(&db, settings, &limits);
    let model = Arc::new(TypeModel::from_sdl(&schema.sdl()));
    AppState {
        schema,
        read_audit: crate::audit::ReadAuditQueue::new(),
        regions: Arc::default(),
        documents: Arc::default(),
        shared_db: db.clone(),
        worker_pools: None,
        db,
        verifier,
        metrics: Arc::new(Metrics::default()),
        statements,
        limits: Arc::new(limits),
        model,
        traffic: Arc::new(traffic),
        events,
        websockets: Arc::new(websockets),
        demo_token: None,
    }
}

/// The actix application: routes, state, request logging and (when traces are exported) the requests' spans.
/// Tests serve exactly this.
pub fn app(
    state: AppState,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state))
        .wrap(from_fn(crate::http::cors::cors))
        .wrap(from_fn(crate::http::compression::compress))
        .wrap(from_fn(log_requests))
        .wrap(from_fn(crate::telemetry::request::trace_requests))
        .configure(routes)
}

/// Runs `govgraph serve`.
pub async fn serve(database: &DatabaseArgs, args: &ServeArgs) -> Result<(), StartError> {
    // A bad allow-list or Redis URL stops the start before any database work.
    let traffic = Traffic::from_args(&args.traffic)?;
    let statements = Arc::new(StatementCounter::default());
    let max_connections = database.max_connections();
    let db = crate::db::connect_with(
        &database.database_url,
        max_connections,
        Some(statements.clone()),
        args.limits.statement_timeout(),
    )
    .await?;
    crate::db::migrate_up(&db).await?;
    if crate::db::sqlite_plans_are_stable(&db).await? == Some(false) {
        tracing::warn!(
            "this SQLite was built without SQLITE_ENABLE_QPSG: statements with a bound LIMIT are planned again at \
             every execution (build from the repository's root, whose .cargo/config.toml sets it)"
        );
    }
    // Rollup cells a stopped server left pending: the statistics count them either way, but they should not wait
    // for the next write to be folded.
    crate::statistics::rollup::fold(&db).await?;

    if args.demo && crate::seed::is_empty(&db).await? {
        eprintln!("govgraph: filling the empty database with demo data (scale {})…", args.scale);
        let options = crate::seed::SeedOptions {
            scale: args.scale,
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ..Default::default()
        };
        let report = crate::seed::seed(&db, &options).await?;
        eprintln!("govgraph: demo data ready in {:.1} s", report.elapsed.as_secs_f64());
    }

    let explicit_key =
        args.jwt.jwt_secret.is_some() || args.jwt.jwt_public_key.is_some() || args.jwt.jwt_jwks.is_some();
    let dev_secret_file = dev_secret_path(&database.database_url);
    let dev_secret =
        if args.demo && !explicit_key { Some(load_or_create_dev_secret(&dev_secret_file)?) } else { None };
    if !args.demo {
        refuse_development_secret(args, &dev_secret_file)?;
    }
    let verifier = Arc::new(TokenVerifier::from_config(&args.jwt, dev_secret.as_deref())?);
    let demo_token = if args.demo { print_demo_header(args, dev_secret.as_deref()) } else { None };

    let settings = DomainSettings {
        legal_aid: LegalAidSettings { dual_control_threshold_fen: args.dual_control_threshold_fen },
        statistics: StatisticsSettings { min_cell: args.stats_min_cell, max_noise: args.stats_max_noise },
        disputes: args.dispute_deadlines,
        read_path: args.read_path,
    };
    let mut limits = args.limits.clone();
    limits.dev_mode |= args.demo;
    tracing::info!("{}", traffic.describe());
    if let Some(shared) = &traffic.shared
        && let Err(err) = shared.ping().await
    {
        tracing::warn!(error = %err, "Redis does not answer yet: rate limits fail open until it does");
    }
    let mut state = app_state_with_live(db, verifier, statements, settings, limits, traffic, &args.live)?;
    // The statistics page offers the demo token only where no one but this machine can reach it.
    if args.bind.ip().is_loopback() {
        state.demo_token = demo_token.map(Arc::from);
    }
    tracing::info!(
        "live events: {} bus; subscriptions over WebSocket at /graphql ({})",
        state.events.backend_name(),
        crate::http::ws::PROTOCOL
    );
    // Nagle's algorithm would hold a response's last segment until the client acknowledges the one before, and
    // clients delay that acknowledgement by up to 40 ms: every response longer than one segment waited for it.
    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        |workers| workers.max(1),
    );
    // Each worker's pool gets an equal share of the connections, at least two.
    let per_worker = max_connections.div_ceil(u32::try_from(workers).unwrap_or(u32::MAX)).max(2);
    state.worker_pools = crate::db::WorkerPools::new(
        &database.database_url,
        per_worker,
        Some(state.statements.clone()),
        args.limits.statement_timeout(),
    )
    .map(Arc::new);
    let server = HttpServer::new(move || app(state.for_worker()))
        .tcp_nodelay(true)
        .shutdown_timeout(15)
        .workers(workers);
    let server =
        server.bind(args.bind).map_err(|source| StartError::Bind { addr: args.bind.to_string(), source })?;
    for addr in server.addrs() {
        tracing::info!(%addr, "listening");
        eprintln!("govgraph: serving GraphQL at http://{addr}/graphql");
        eprintln!("govgraph: statistics page at http://{addr}/stats");
    }
    server.run().await.map_err(StartError::Server)
}

/// Outside `--demo`, the development secret kept beside the database must not sign real tokens: it lies in the
/// working directory, readable by whoever can read the database file, and `serve --demo` prints tokens signed
/// with it. A configured `GOVGRAPH_JWT_SECRET` equal to it stops the start.
fn refuse_development_secret(args: &ServeArgs, dev_secret_file: &Path) -> Result<(), StartError> {
    let Some(configured) = args.jwt.jwt_secret.as_deref() else { return Ok(()) };
    match std::fs::read_to_string(dev_secret_file) {
        Ok(development) if development.trim() == configured.trim() => {
            Err(StartError::DevelopmentSecret { path: dev_secret_file.display().to_string() })
        }
        _ => Ok(()),
    }
}

/// Reads the development secret kept beside the database, creating it on first use.
pub fn load_or_create_dev_secret(path: &Path) -> Result<String, StartError> {
    let shown = path.display().to_string();
    let io_error = |source| StartError::DevSecret { path: shown.clone(), source };
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(io_error)?;
    let secret = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_error)?;
    file.write_all(secret.as_bytes()).map_err(io_error)?;
    Ok(secret)
}

/// Prints the demo administrator's header for GraphiQL and returns its token, when the server holds a secret to
/// sign it with.
fn print_demo_header(args: &ServeArgs, dev_secret: Option<&str>) -> Option<String> {
    let Some(secret) = dev_secret.or(args.jwt.jwt_secret.as_deref()) else {
        eprintln!("govgraph: tokens are verified with the configured public key; mint them with your issuer");
        return None;
    };
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: "demo-admin".into(),
        roles: vec!["admin".into()],
        region: Some("330900".into()),
        exp: now + 12 * 3600,
        iat: Some(now),
        nbf: None,
        iss: args.jwt.jwt_issuer.clone(),
        aud: args.jwt.jwt_audience.clone(),
        name: Some("Demo administrator".into()),
        purpose: Some("demo".into()),
    };
    match mint_hs256(secret, &claims) {
        Ok(token) => {
            eprintln!("govgraph: admin header for GraphiQL (valid 12 h, whole city):");
            eprintln!("{{\"Authorization\": \"Bearer {token}\"}}");
            Some(token)
        }
        Err(err) => {
            tracing::warn!(error = %err, "could not mint the demo admin token");
            None
        }
    }
}
