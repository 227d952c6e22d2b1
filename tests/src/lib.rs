//! Test harness for end-to-end tests: a fresh database per test (SQLite by default, PostgreSQL when
//! `DATABASE_URL` names one), the real server on a random port in its own thread (a second one on the same
//! database when a test needs two processes), and a small HTTP client. `ws` speaks `graphql-transport-ws`.
#![expect(clippy::expect_used, reason = "test harness: a failed set-up step must fail the test loudly")]

pub mod builders;
pub mod ws;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use govgraph::auth::jwt::{Claims, TokenVerifier, mint_hs256};
use govgraph::config::{JwtArgs, PublicKeyAlgorithm};
use govgraph::db::StatementCounter;
use govgraph::events::EventBus;
use govgraph::http::traffic::{Traffic, TrafficArgs};
use govgraph::http::ws::LiveArgs;
use govgraph::limits::QueryLimits;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};

/// The HS256 secret of test servers.
pub const SECRET: &str = "test-secret-test-secret-test-secret!";

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A database of its own for one test (or one shared fixture), removed when dropped.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another server's database: its owner removes it.
    Borrowed,
}

fn admin_postgres_url() -> Option<String> {
    std::env::var("DATABASE_URL").ok().filter(|url| url.starts_with("postgres"))
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let root = match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &base[..slash],
        _ => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

fn unique_name() -> String {
    format!("govgraph_t_{}_{}", std::process::id(), SEQUENCE.fetch_add(1, Ordering::Relaxed))
}

fn process_alive(pid: &str) -> bool {
    std::path::Path::new("/proc").join(pid).exists()
}

impl TestDb {
    /// Creates an empty database.
    pub async fn create() -> TestDb {
        let name = unique_name();
        match admin_postgres_url() {
            Some(admin_url) => {
                let admin =
                    govgraph::db::connect(&admin_url, 1, None).await.expect("connect to DATABASE_URL");
                remove_stale_postgres(&admin).await;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                TestDb {
                    url: with_database(&admin_url, &name),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            None => {
                let dir = std::env::temp_dir().join("govgraph-tests");
                std::fs::create_dir_all(&dir).expect("create temp dir");
                remove_stale_sqlite(&dir);
                let path = dir.join(format!("{name}.db"));
                TestDb {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Cleanup::SqliteFile(path),
                }
            }
        }
    }

    /// A fresh connection pool to this database, in the caller's runtime.
    pub async fn connect(&self) -> DatabaseConnection {
        govgraph::db::connect(&self.url, 4, None).await.expect("connect to test database")
    }
}

async fn remove_stale_postgres(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'govgraph_t_%'",
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else { continue };
        let pid = name.trim_start_matches("govgraph_t_").split('_').next().unwrap_or_default().to_owned();
        if !process_alive(&pid) {
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.ok();
        }
    }
}

fn remove_stale_sqlite(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(rest) = name.strip_prefix("govgraph_t_") {
            let pid = rest.split('_').next().unwrap_or_default();
            if !process_alive(pid) {
                std::fs::remove_file(entry.path()).ok();
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Borrowed => {}
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside a runtime; a fresh thread with its own runtime may block.
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                    if let Ok(runtime) = runtime {
                        runtime.block_on(async {
                            if let Ok(admin) = govgraph::db::connect(&admin_url, 1, None).await {
                                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                                admin.execute_unprepared(&sql).await.ok();
                            }
                        });
                    }
                })
                .join()
                .ok();
            }
        }
    }
}

/// What the server's database holds before the test starts.
#[derive(Debug, Clone, Copy)]
pub enum Fixture {
    /// Migrated, empty.
    Empty,
    /// Demo data at this scale (the region tree is always complete).
    Demo(f64),
}

/// How a test server is configured.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub jwt: JwtArgs,
    pub limits: QueryLimits,
    /// Rate limits, persisted queries and Redis; `None` serves without rate limits or an allow-list.
    pub traffic: Option<TrafficArgs>,
    /// The event bus and the WebSocket endpoint.
    pub live: LiveArgs,
    /// The domains' settings (disclosure control, dispute deadlines, …).
    pub settings: govgraph::server::DomainSettings,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            jwt: hs256_args(),
            limits: test_limits(),
            traffic: None,
            live: LiveArgs::default(),
            settings: govgraph::server::DomainSettings::default(),
        }
    }
}

/// The real server on a random local port.
pub struct TestServer {
    pub base: String,
    pub db: TestDb,
    pub statements: Arc<StatementCounter>,
    /// The server's event bus, as its mutations publish on it (use it through [`TestServer::in_server`]).
    pub events: EventBus,
    /// The server's own pool (use it through [`TestServer::in_server`]).
    server_db: DatabaseConnection,
    /// The runtime the server runs on.
    system: actix_web::rt::System,
    handle: actix_web::dev::ServerHandle,
}

/// What [`TestServer::in_server`] hands its work: the server's own database pool and event bus.
pub struct ServerSide {
    pub db: DatabaseConnection,
    pub events: EventBus,
}

impl TestServer {
    /// Creates a fresh database with `fixture` and starts the server on it, verifying HS256 tokens signed with
    /// [`SECRET`].
    pub async fn start(fixture: Fixture) -> TestServer {
        Self::start_with_keys(fixture, hs256_args()).await
    }

    /// Like [`TestServer::start`], with another token-verification configuration.
    pub async fn start_with_keys(fixture: Fixture, jwt: JwtArgs) -> TestServer {
        Self::start_with_config(fixture, ServerConfig { jwt, ..ServerConfig::default() }).await
    }

    /// Like [`TestServer::start`], with other query limits.
    pub async fn start_with_limits(fixture: Fixture, limits: QueryLimits) -> TestServer {
        Self::start_with_config(fixture, ServerConfig { limits, ..ServerConfig::default() }).await
    }

    /// Like [`TestServer::start`], with rate limits, persisted queries and Redis configured by `traffic` (the
    /// other constructors serve without rate limits or an allow-list).
    pub async fn start_with_traffic(fixture: Fixture, traffic: TrafficArgs) -> TestServer {
        Self::start_with_config(fixture, ServerConfig { traffic: Some(traffic), ..ServerConfig::default() })
            .await
    }

    /// Like [`TestServer::start`], configured by `config`.
    pub async fn start_with_config(fixture: Fixture, config: ServerConfig) -> TestServer {
        let db = TestDb::create().await;
        Self::start_on(db, fixture, config).await
    }

    /// A second server on this server's database, as another process behind the same load balancer would be.
    pub async fn start_beside(&self, config: ServerConfig) -> TestServer {
        let db = TestDb { url: self.db.url.clone(), cleanup: Cleanup::Borrowed };
        Self::start_on(db, Fixture::Empty, config).await
    }

    async fn start_on(db: TestDb, fixture: Fixture, config: ServerConfig) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let statements = Arc::new(StatementCounter::default());
        let (ready_tx, ready_rx) = mpsc::channel();
        let url = db.url.clone();
        let counter = statements.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let started = serve_in_this_thread(url, fixture, counter, listener, config).await;
                match started {
                    Ok((server, side)) => {
                        let system = actix_web::rt::System::current();
                        ready_tx.send(Ok((server.handle(), side, system))).ok();
                        server.await.ok();
                    }
                    Err(err) => {
                        ready_tx.send(Err(err)).ok();
                    }
                }
            });
        });
        let (handle, side, system) = tokio::task::spawn_blocking(move || ready_rx.recv())
            .await
            .expect("join")
            .expect("server thread answered")
            .unwrap_or_else(|err| panic!("test server did not start: {err}"));
        TestServer { base, db, statements, events: side.events, server_db: side.db, system, handle }
    }

    /// Runs `work` on the server's own runtime, where its pool and its Redis connection live (their
    /// connections belong to that runtime), and returns what it returns: a mutation of this server, or a publish
    /// on its bus, without going through HTTP.
    pub async fn in_server<T, F, Fut>(&self, work: F) -> T
    where
        F: FnOnce(ServerSide) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let side = ServerSide { db: self.server_db.clone(), events: self.events.clone() };
        let sent = self.system.arbiter().spawn(async move {
            done.send(work(side).await).ok();
        });
        assert!(sent, "the server's runtime is gone");
        result.await.expect("the server ran the work")
    }

    /// Publishes `events` on the server's bus, as a mutation of this server does after its commit.
    pub async fn publish(&self, events: Vec<govgraph::events::DomainEvent>) {
        self.in_server(
            |side| async move { side.events.publish(&events).await.map_err(|err| err.to_string()) },
        )
        .await
        .expect("publish events");
    }

    /// Waits until the server has at least `n` subscriptions receiving events (a subscription counts once it
    /// listens, so an event published after this reaches it).
    pub async fn wait_for_subscribers(&self, n: usize) {
        for _ in 0..400 {
            if self.events.local_subscribers() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the server has {} subscriptions, expected {n}", self.events.local_subscribers());
    }

    /// The WebSocket URL of `/graphql`.
    pub fn ws_url(&self) -> String {
        format!("{}/graphql", self.base.replacen("http://", "ws://", 1))
    }

    /// A token for `roles` scoped to `region`, valid for ten minutes.
    pub fn token(&self, roles: &[&str], region: &str) -> String {
        token_for("tester", roles, region)
    }

    /// POSTs a GraphQL request and returns the JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.gql_with_headers(token, &[], query, variables).await
    }

    /// POSTs a GraphQL request with extra headers.
    pub async fn gql_with_headers(
        &self,
        token: Option<&str>,
        headers: &[(&str, &str)],
        query: &str,
        variables: Value,
    ) -> Value {
        // A client per call: a shared server outlives the runtime of the test that started it.
        let mut request = reqwest::Client::new().post(format!("{}/graphql", self.base)).json(&json!({
            "query": query,
            "variables": variables,
        }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("send GraphQL request");
        response.json().await.expect("GraphQL response is JSON")
    }

    /// GETs a path and returns status and body.
    pub async fn get(&self, path: &str, accept: Option<&str>) -> (u16, String) {
        let mut request = reqwest::Client::new().get(format!("{}{path}", self.base));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.expect("send GET");
        let status = response.status().as_u16();
        (status, response.text().await.expect("read body"))
    }

    /// Statements executed by the server so far.
    pub fn statement_count(&self) -> u64 {
        self.statements.total()
    }

    /// One request with `token`, so that the server has resolved the token's region: it remembers resolved
    /// region codes, and only a token's first request looks its region up. Tests that compare the statement
    /// counts of requests call this first, so that every request they compare is alike.
    pub async fn warm_up(&self, token: &str) {
        let response =
            self.gql(Some(token), "{ regions(first: 1) { totalCount } }", serde_json::json!({})).await;
        assert_no_errors(&response);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(handle.stop(false));
            }
        })
        .join()
        .ok();
    }
}

async fn serve_in_this_thread(
    url: String,
    fixture: Fixture,
    counter: Arc<StatementCounter>,
    listener: TcpListener,
    config: ServerConfig,
) -> Result<(actix_web::dev::Server, ServerSide), String> {
    let db = govgraph::db::connect(&url, 8, Some(counter.clone())).await.map_err(|e| e.to_string())?;
    migration::Migrator::up(&db, None).await.map_err(|e| e.to_string())?;
    if let Fixture::Demo(scale) = fixture {
        let options = govgraph::seed::SeedOptions { scale, ..Default::default() };
        govgraph::seed::seed(&db, &options).await.map_err(|e| e.to_string())?;
    }
    let verifier = Arc::new(TokenVerifier::from_config(&config.jwt, None).map_err(|e| e.to_string())?);
    let settings = config.settings;
    let traffic = match &config.traffic {
        None => Traffic::unlimited(),
        Some(traffic) => Traffic::from_args(traffic).map_err(|e| e.to_string())?,
    };
    let mut state = govgraph::server::app_state_with_live(
        db,
        verifier,
        counter,
        settings,
        config.limits,
        traffic,
        &config.live,
    )
    .map_err(|e| e.to_string())?;
    // As `serve` does on PostgreSQL: each worker reads through a pool of its own.
    state.worker_pools =
        govgraph::db::WorkerPools::new(&url, 4, Some(state.statements.clone()), None).map(Arc::new);
    let side = ServerSide { db: state.db.clone(), events: state.events.clone() };
    let server = actix_web::HttpServer::new(move || govgraph::server::app(state.for_worker()))
        .tcp_nodelay(true)
        .workers(2)
        .disable_signals()
        .listen(listener)
        .map_err(|e| e.to_string())?
        .run();
    Ok((server, side))
}

/// One demo-data server shared by the read-only tests of a test binary (scale 0.02, full region tree).
pub async fn shared_demo() -> &'static TestServer {
    static SHARED: tokio::sync::OnceCell<TestServer> = tokio::sync::OnceCell::const_new();
    SHARED.get_or_init(|| TestServer::start(Fixture::Demo(SHARED_SCALE))).await
}

/// The limits of [`TestServer::start`]: the defaults with cost budgets out of the way, so that the suites of
/// the domains test their features with the page sizes they need. `tests/limits.rs` tests the budgets.
pub fn test_limits() -> QueryLimits {
    QueryLimits {
        max_complexity: u64::MAX,
        max_complexity_partner: u64::MAX,
        max_complexity_analyst: u64::MAX,
        ..QueryLimits::default()
    }
}

/// Scale of the shared demo data.
pub const SHARED_SCALE: f64 = 0.02;

/// Verification of HS256 tokens signed with [`SECRET`].
pub fn hs256_args() -> JwtArgs {
    JwtArgs {
        jwt_secret: Some(SECRET.into()),
        jwt_public_key: None,
        jwt_jwks: None,
        jwt_algorithm: PublicKeyAlgorithm::Rs256,
        jwt_issuer: None,
        jwt_audience: None,
    }
}

/// The throw-away test key pairs in `tests/fixtures/keys`.
pub fn key_fixture(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys").join(name)
}

/// Signs arbitrary claims with the test secret.
pub fn sign_hs256(claims: &serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).expect("hmac key");
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), claims, &key)
        .expect("sign")
}

/// A token signed with the test secret.
pub fn token_for(sub: &str, roles: &[&str], region: &str) -> String {
    mint_hs256(SECRET, &claims_for(sub, roles, region)).expect("mint token")
}

/// The claims of a token valid for ten minutes.
fn claims_for(sub: &str, roles: &[&str], region: &str) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: sub.into(),
        roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        region: Some(region.into()),
        exp: now + 600,
        iat: Some(now),
        nbf: None,
        iss: None,
        aud: None,
        name: None,
        purpose: None,
    }
}

/// A city administrator as the server sees one after verifying their token, for work run inside the server
/// (`TestServer::in_server`) on a request's data without an HTTP request.
pub fn admin_viewer(sub: &str) -> govgraph::auth::Viewer {
    let claims = claims_for(sub, &["admin"], CITY);
    let identity = govgraph::auth::viewer::Identity::Token {
        claims: Box::new(claims),
        roles: vec![govgraph::auth::Role::Admin],
    };
    govgraph::auth::Viewer::new(identity, None, format!("{sub}-request"), Arc::default())
}

/// The `extensions.code` of each error in a response.
pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|error| error["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Panics with the whole response when it carries errors.
pub fn assert_no_errors(response: &Value) {
    assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
}

/// The code of the city, the root of the region tree.
pub const CITY: &str = "330900";

/// A token of an administrator of the whole city (subject `admin-1`).
pub fn admin() -> String {
    token_for("admin-1", &["admin"], CITY)
}

/// How many service records the volunteer with `code` has, counted in the server's database.
pub async fn service_records_of(server: &TestServer, code: &str) -> i64 {
    count(
        server,
        &format!("SELECT COUNT(*) FROM service_record s JOIN volunteer v ON v.id = s.volunteer_id WHERE v.code = '{code}'"),
    )
    .await
}

/// The single integer `sql` selects from the server's database (a `COUNT(*)`, a `SUM`).
pub async fn count(server: &TestServer, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let db = server.db.connect().await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .expect("count query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("an integer")
}

/// A valid identity card number (GB 11643 check character) of someone born on `birth` (`YYYYMMDD`), distinct per
/// `sequence` (0..=999).
pub fn id_number(birth: &str, sequence: u32) -> String {
    let first17 = format!("330902{birth}{:03}", sequence % 1000);
    let check = govgraph::validate::id_check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
}
