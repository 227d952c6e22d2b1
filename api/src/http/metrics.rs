//! Prometheus metrics in the text exposition format: request counts and latency per GraphQL operation type,
//! HTTP responses by status, requests refused by the rate limits, open WebSocket connections and subscriptions,
//! live events, database pool gauges and SQL statement counters.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use super::AppState;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// GraphQL operation types as metric labels.
pub const OPERATION_TYPES: [&str; 4] = ["query", "mutation", "subscription", "invalid"];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<(String, u16), u64>>,
    graphql: [Histogram; OPERATION_TYPES.len()],
    graphql_errors: [AtomicU64; OPERATION_TYPES.len()],
    /// Requests refused by the rate limits: token callers, anonymous callers.
    rate_limited: [AtomicU64; 2],
    /// Requests let through uncounted because the rate limits' Redis could not be reached.
    rate_limit_failed_open: AtomicU64,
    /// Query documents found already parsed, and parsed anew.
    parsed_documents: [AtomicU64; 2],
    /// Open WebSocket connections.
    websocket_connections: AtomicU64,
    /// Open subscriptions.
    subscriptions: AtomicU64,
    /// Subscription messages sent, and withheld because their reads could not be audited.
    subscription_messages: [AtomicU64; 2],
}

/// Counts one open WebSocket connection or subscription in a gauge for as long as it lives.
#[must_use = "the gauge counts down when this is dropped"]
pub struct Open {
    metrics: Arc<Metrics>,
    subscription: bool,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.metrics.gauge(self.subscription).fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Counts one HTTP response. Only known routes get their own label, so scanners cannot grow the map.
    pub fn record_http(&self, path: &str, status: u16) {
        let route = match path {
            "/graphql" | "/healthz" | "/readyz" | "/metrics" => path,
            _ => "other",
        };
        if let Ok(mut map) = self.http.lock() {
            *map.entry((route.to_owned(), status)).or_default() += 1;
        }
    }

    /// Records one executed GraphQL operation of type `operation` (an index into [`OPERATION_TYPES`]).
    pub fn record_graphql(&self, operation: usize, duration: Duration, had_errors: bool) {
        let index = operation.min(OPERATION_TYPES.len() - 1);
        self.graphql[index].observe(duration);
        if had_errors {
            self.graphql_errors[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one request refused by the rate limits.
    pub fn record_rate_limited(&self, token: bool) {
        self.rate_limited[usize::from(!token)].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one query document found already parsed (`reused`) or parsed anew.
    pub fn record_parsed_document(&self, reused: bool) {
        self.parsed_documents[usize::from(!reused)].fetch_add(1, Ordering::Relaxed);
    }

    fn gauge(&self, subscription: bool) -> &AtomicU64 {
        if subscription { &self.subscriptions } else { &self.websocket_connections }
    }

    /// Counts an open WebSocket connection until the returned guard is dropped.
    pub fn websocket_opened(self: &Arc<Self>) -> Open {
        self.websocket_connections.fetch_add(1, Ordering::Relaxed);
        Open { metrics: self.clone(), subscription: false }
    }

    /// Counts an open subscription until the returned guard is dropped.
    pub fn subscription_opened(self: &Arc<Self>) -> Open {
        self.subscriptions.fetch_add(1, Ordering::Relaxed);
        Open { metrics: self.clone(), subscription: true }
    }

    /// Open subscriptions now.
    pub fn open_subscriptions(&self) -> u64 {
        self.subscriptions.load(Ordering::Relaxed)
    }

    /// Counts one subscription message: sent, or withheld because its reads could not be audited.
    pub fn record_subscription_message(&self, sent: bool) {
        self.subscription_messages[usize::from(!sent)].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one request let through because the rate limits' Redis could not be reached.
    pub fn record_rate_limit_failed_open(&self) {
        self.rate_limit_failed_open.fetch_add(1, Ordering::Relaxed);
    }

    fn render(
        &self,
        pools: &[DatabaseConnection],
        statements: &crate::db::StatementCounter,
        events: &crate::events::EventBus,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP govgraph_http_responses_total HTTP responses by route and status.");
        let _ = writeln!(out, "# TYPE govgraph_http_responses_total counter");
        if let Ok(map) = self.http.lock() {
            for ((route, status), count) in map.iter() {
                let _ = writeln!(
                    out,
                    "govgraph_http_responses_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                );
            }
        }
        let _ = writeln!(out, "# HELP govgraph_graphql_requests_total GraphQL operations executed, by type.");
        let _ = writeln!(out, "# TYPE govgraph_graphql_requests_total counter");
        for (name, histogram) in OPERATION_TYPES.iter().zip(&self.graphql) {
            let count = histogram.count.load(Ordering::Relaxed);
            let _ = writeln!(out, "govgraph_graphql_requests_total{{operation=\"{name}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "# HELP govgraph_graphql_errors_total GraphQL operations that answered with errors."
        );
        let _ = writeln!(out, "# TYPE govgraph_graphql_errors_total counter");
        for (name, errors) in OPERATION_TYPES.iter().zip(&self.graphql_errors) {
            let _ = writeln!(
                out,
                "govgraph_graphql_errors_total{{operation=\"{name}\"}} {}",
                errors.load(Ordering::Relaxed)
            );
        }
        let _ =
            writeln!(out, "# HELP govgraph_rate_limited_total Requests refused by the rate limits (429).");
        let _ = writeln!(out, "# TYPE govgraph_rate_limited_total counter");
        for (caller, count) in ["token", "anonymous"].iter().zip(&self.rate_limited) {
            let _ = writeln!(
                out,
                "govgraph_rate_limited_total{{caller=\"{caller}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP govgraph_rate_limit_failed_open_total Requests let through uncounted because Redis was unreachable."
        );
        let _ = writeln!(out, "# TYPE govgraph_rate_limit_failed_open_total counter");
        let _ = writeln!(
            out,
            "govgraph_rate_limit_failed_open_total {}",
            self.rate_limit_failed_open.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP govgraph_query_documents_total Query documents found already parsed (reused) or parsed anew (texts refused by the token limit are not parsed)."
        );
        let _ = writeln!(out, "# TYPE govgraph_query_documents_total counter");
        for (outcome, count) in ["reused", "parsed"].iter().zip(&self.parsed_documents) {
            let _ = writeln!(
                out,
                "govgraph_query_documents_total{{outcome=\"{outcome}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let _ =
            writeln!(out, "# HELP govgraph_graphql_duration_seconds Time to execute a GraphQL operation.");
        let _ = writeln!(out, "# TYPE govgraph_graphql_duration_seconds histogram");
        for (name, histogram) in OPERATION_TYPES.iter().zip(&self.graphql) {
            for (bound, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
                let _ = writeln!(
                    out,
                    "govgraph_graphql_duration_seconds_bucket{{operation=\"{name}\",le=\"{bound}\"}} {}",
                    bucket.load(Ordering::Relaxed)
                );
            }
            let count = histogram.count.load(Ordering::Relaxed);
            let sum = histogram.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "govgraph_graphql_duration_seconds_bucket{{operation=\"{name}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(out, "govgraph_graphql_duration_seconds_sum{{operation=\"{name}\"}} {sum}");
            let _ = writeln!(out, "govgraph_graphql_duration_seconds_count{{operation=\"{name}\"}} {count}");
        }
        let _ = writeln!(out, "# HELP govgraph_websocket_connections Open WebSocket connections.");
        let _ = writeln!(out, "# TYPE govgraph_websocket_connections gauge");
        let _ = writeln!(
            out,
            "govgraph_websocket_connections {}",
            self.websocket_connections.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# HELP govgraph_subscriptions Open GraphQL subscriptions.");
        let _ = writeln!(out, "# TYPE govgraph_subscriptions gauge");
        let _ = writeln!(out, "govgraph_subscriptions {}", self.subscriptions.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# HELP govgraph_subscription_messages_total Subscription messages sent, or withheld because their reads could not be audited."
        );
        let _ = writeln!(out, "# TYPE govgraph_subscription_messages_total counter");
        for (outcome, count) in ["sent", "withheld"].iter().zip(&self.subscription_messages) {
            let _ = writeln!(
                out,
                "govgraph_subscription_messages_total{{outcome=\"{outcome}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let counters = events.counters();
        let _ = writeln!(
            out,
            "# HELP govgraph_events_total Live events published by this process (failed: lost after their commit), received for its subscribers, or ignored as malformed."
        );
        let _ = writeln!(out, "# TYPE govgraph_events_total counter");
        for (outcome, count) in [
            ("published", &counters.published),
            ("publish_failed", &counters.publish_failed),
            ("received", &counters.received),
            ("malformed", &counters.malformed),
        ] {
            let _ = writeln!(
                out,
                "govgraph_events_total{{bus=\"{}\",outcome=\"{outcome}\"}} {}",
                events.backend_name(),
                count.load(Ordering::Relaxed)
            );
        }
        let (size, idle, max) = pools
            .iter()
            .map(pool_state)
            .fold((0, 0, 0), |(size, idle, max), pool| (size + pool.0, idle + pool.1, max + pool.2));
        let _ = writeln!(out, "# HELP govgraph_db_pool_connections Open database connections by state.");
        let _ = writeln!(out, "# TYPE govgraph_db_pool_connections gauge");
        let _ = writeln!(out, "govgraph_db_pool_connections{{state=\"idle\"}} {idle}");
        let _ =
            writeln!(out, "govgraph_db_pool_connections{{state=\"in_use\"}} {}", size.saturating_sub(idle));
        let _ = writeln!(out, "# HELP govgraph_db_pool_max_connections Configured pool size.");
        let _ = writeln!(out, "# TYPE govgraph_db_pool_max_connections gauge");
        let _ = writeln!(out, "govgraph_db_pool_max_connections {max}");
        let _ = writeln!(out, "# HELP govgraph_sql_statements_total SQL statements executed.");
        let _ = writeln!(out, "# TYPE govgraph_sql_statements_total counter");
        let _ = writeln!(out, "govgraph_sql_statements_total {}", statements.total());
        let _ = writeln!(out, "# HELP govgraph_sql_statements_failed_total SQL statements that failed.");
        let _ = writeln!(out, "# TYPE govgraph_sql_statements_failed_total counter");
        let _ = writeln!(
            out,
            "govgraph_sql_statements_failed_total {}",
            statements.failed.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# HELP govgraph_sql_statement_seconds_total Time spent in SQL statements.");
        let _ = writeln!(out, "# TYPE govgraph_sql_statement_seconds_total counter");
        let seconds = statements.micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "govgraph_sql_statement_seconds_total {seconds}");
        out
    }
}

fn pool_state(db: &DatabaseConnection) -> (u32, u32, u32) {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                pool.options().get_max_connections(),
            )
        }
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                pool.options().get_max_connections(),
            )
        }
        _ => (0, 0, 0),
    }
}

/// `GET /metrics`.
pub async fn render(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render(
        &state.pools(),
        &state.statements,
        &state.events,
    ))
}
