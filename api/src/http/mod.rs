//! The HTTP surface: `/graphql` (POST and GET, GraphiQL for browsers, rate limits and persisted queries, and
//! subscriptions over WebSocket), GraphiQL's embedded files, the statistics page at `/stats`, `/healthz`, `/readyz`, `/metrics`, and one
//! structured log line per request.

pub mod compression;
pub mod cors;
pub mod documents;
pub mod embedded;
pub mod export;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod metrics;
pub mod persisted;
pub mod query_export;
pub mod rate_limit;
pub mod shared_store;
pub mod stats_page;
pub mod traffic;
pub mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use sea_orm::DatabaseConnection;

use crate::auth::jwt::TokenVerifier;
use crate::db::StatementCounter;
use crate::limits::QueryLimits;
use crate::limits::analysis::TypeModel;
use crate::schema::ApiSchema;
use metrics::Metrics;

/// What every handler shares; cloned into each worker.
#[derive(Clone)]
pub struct AppState {
    pub schema: ApiSchema,
    /// The pool of this worker's requests: the server's one pool, or on PostgreSQL the worker's own (see
    /// [`AppState::for_worker`]).
    pub db: DatabaseConnection,
    /// The server's one pool, opened at start: background work, and every request where workers have no pools of
    /// their own.
    pub shared_db: DatabaseConnection,
    /// Where the workers' own pools come from; `None` where they share `shared_db`.
    pub worker_pools: Option<Arc<crate::db::WorkerPools>>,
    pub verifier: Arc<TokenVerifier>,
    pub metrics: Arc<Metrics>,
    pub statements: Arc<StatementCounter>,
    /// The limits every request is measured against.
    pub limits: Arc<QueryLimits>,
    /// The field types the cost model needs, read from the schema.
    pub model: Arc<TypeModel>,
    /// Rate limits and persisted queries.
    pub traffic: Arc<traffic::Traffic>,
    /// Region codes resolved by earlier requests.
    pub regions: Arc<crate::directory::RegionDirectory>,
    /// Where requests that returned protected fields write their audit events.
    pub read_audit: crate::audit::ReadAuditQueue,
    /// Query documents parsed by earlier requests.
    pub documents: Arc<documents::ParsedDocuments>,
    /// Where mutations announce live events and subscriptions receive them.
    pub events: crate::events::EventBus,
    /// The WebSocket endpoint's settings and connection counts.
    pub websockets: Arc<ws::WebSockets>,
    /// The demo administrator's token, offered by a button on the statistics page: only under `serve --demo`
    /// bound to a loopback address.
    pub demo_token: Option<Arc<str>>,
}

impl AppState {
    /// This state for an HTTP worker, called on the worker's thread: with [`AppState::worker_pools`] its requests
    /// get a pool of the worker's own (see [`crate::db::WorkerPools`]); otherwise the state as it is.
    pub fn for_worker(&self) -> AppState {
        let mut state = self.clone();
        if let Some(db) = self.worker_pools.as_ref().and_then(|pools| pools.open_here()) {
            state.db = db;
        }
        state
    }

    /// Every pool the server has opened: the shared one and the workers'.
    pub fn pools(&self) -> Vec<DatabaseConnection> {
        let mut pools = vec![self.shared_db.clone()];
        if let Some(workers) = &self.worker_pools {
            pools.extend(workers.opened());
        }
        pools
    }
}

/// Correlates the log line, the GraphQL request and audit events of one HTTP request.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

static REQUEST_SEQUENCE: AtomicU64 = AtomicU64::new(0);

fn next_request_id() -> String {
    let started = std::process::id();
    format!("{started:x}-{:x}", REQUEST_SEQUENCE.fetch_add(1, Ordering::Relaxed))
}

/// Registers the routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/graphql", web::post().to(graphql::post))
        .route("/graphql", web::get().to(graphql::get))
        .route(graphiql::ASSET_ROUTE, web::get().to(graphiql::asset))
        .route("/stats", web::get().to(stats_page::page))
        .route(stats_page::ASSET_ROUTE, web::get().to(stats_page::asset))
        .route("/export/statistics.csv", web::get().to(export::statistics_csv))
        .route("/export/query.csv", web::get().to(query_export::get))
        .route("/export/query.csv", web::post().to(query_export::post))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::render));
}

/// Assigns the request id and writes one log line per request with its duration. Query texts and variables
/// are not logged: they can carry personal data.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.len() <= 64 && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_owned)
        .unwrap_or_else(next_request_id);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let metrics = req.app_data::<web::Data<AppState>>().map(|state| state.metrics.clone());
    let mut result = next.call(req).await;
    // Echoed so that callers and proxies can match their logs with ours, whether they sent it or we made it.
    if let Ok(response) = &mut result
        && let Ok(value) = actix_web::http::header::HeaderValue::from_str(&request_id)
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::HeaderName::from_static("x-request-id"), value);
    }
    let status = match &result {
        Ok(response) => response.status().as_u16(),
        Err(err) => err.as_response_error().status_code().as_u16(),
    };
    let duration = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.record_http(&path, status);
    }
    tracing::info!(
        target: "govgraph::http",
        request_id = %request_id,
        method = %method,
        path = %path,
        status,
        duration_ms = duration.as_secs_f64() * 1000.0,
        "request"
    );
    result
}
