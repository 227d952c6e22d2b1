//! GraphQL subscriptions over WebSocket at `/graphql`, subprotocol `graphql-transport-ws` (what the `graphql-ws`
//! library, Apollo Client and urql speak).
//!
//! - [`protocol`]: the messages and close codes;
//! - [`connection`]: one connection's life: `connection_init` with the token, keep-alive, the token's expiry,
//!   the idle timeout, and each `subscribe` held to the same query limits, rate limits and policy as HTTP;
//! - [`subscription`]: one running subscription: each result is audited before it is sent;
//! - [`admission`]: how many connections each caller may hold open.

pub mod admission;
mod connection;
pub mod protocol;
mod subscription;

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use clap::Args;

use super::{AppState, RequestId};

/// The one subprotocol served.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Default number of subscriptions one connection may hold at once.
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 10;
/// Default number of connections one caller may hold open at once.
pub const DEFAULT_MAX_CONNECTIONS_PER_SUBJECT: u32 = 5;
/// Default time a new connection has to send `connection_init`.
pub const DEFAULT_INIT_TIMEOUT_MS: u64 = 10_000;
/// Default interval of the server's `ping`s.
pub const DEFAULT_KEEPALIVE_MS: u64 = 15_000;
/// Default time without any message from the client after which its connection is closed.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 45_000;

/// WebSocket settings of `govgraph serve`.
#[derive(Debug, Clone, Args)]
pub struct WebSocketArgs {
    /// Most subscriptions one WebSocket connection may hold at once (0 = no limit).
    #[arg(long, env = "GOVGRAPH_WS_MAX_SUBSCRIPTIONS", default_value_t = DEFAULT_MAX_SUBSCRIPTIONS)]
    pub ws_max_subscriptions: usize,

    /// Most WebSocket connections one caller (a token's subject; without a token, a client address) may hold
    /// open at once; counted across all processes in Redis when `REDIS_URL` is set (0 = no limit).
    #[arg(long, env = "GOVGRAPH_WS_MAX_CONNECTIONS_PER_SUBJECT",
          default_value_t = DEFAULT_MAX_CONNECTIONS_PER_SUBJECT)]
    pub ws_max_connections_per_subject: u32,

    /// Milliseconds a new WebSocket connection has to send `connection_init` (closed with 4408 otherwise).
    #[arg(long, env = "GOVGRAPH_WS_INIT_TIMEOUT_MS", default_value_t = DEFAULT_INIT_TIMEOUT_MS)]
    pub ws_init_timeout_ms: u64,

    /// Milliseconds between the server's `ping` messages (clients answer with `pong`).
    #[arg(long, env = "GOVGRAPH_WS_KEEPALIVE_MS", default_value_t = DEFAULT_KEEPALIVE_MS)]
    pub ws_keepalive_ms: u64,

    /// Milliseconds without any message from the client (a `pong` answers every `ping`) after which its
    /// connection is closed with 4408.
    #[arg(long, env = "GOVGRAPH_WS_IDLE_TIMEOUT_MS", default_value_t = DEFAULT_IDLE_TIMEOUT_MS)]
    pub ws_idle_timeout_ms: u64,
}

impl Default for WebSocketArgs {
    fn default() -> Self {
        Self {
            ws_max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            ws_max_connections_per_subject: DEFAULT_MAX_CONNECTIONS_PER_SUBJECT,
            ws_init_timeout_ms: DEFAULT_INIT_TIMEOUT_MS,
            ws_keepalive_ms: DEFAULT_KEEPALIVE_MS,
            ws_idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
        }
    }
}

impl WebSocketArgs {
    fn init_timeout(&self) -> Duration {
        Duration::from_millis(self.ws_init_timeout_ms.max(1))
    }

    fn keepalive(&self) -> Duration {
        Duration::from_millis(self.ws_keepalive_ms.max(1))
    }

    fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.ws_idle_timeout_ms.max(1))
    }

    /// How long a connection's place in Redis lasts without renewal: a connection renews it at every keep-alive,
    /// so it outlives a few missed renewals and not much more.
    pub fn lease(&self) -> Duration {
        self.keepalive().saturating_mul(3).max(Duration::from_secs(10))
    }
}

/// The WebSocket endpoint's settings and connection counts, shared by a server's workers.
#[derive(Debug)]
pub struct WebSockets {
    pub settings: WebSocketArgs,
    pub admission: admission::Admission,
}

impl WebSockets {
    /// The endpoint `settings` describe, counting connections in `shared` (Redis) when given.
    pub fn new(
        settings: WebSocketArgs,
        shared: Option<std::sync::Arc<super::shared_store::SharedStore>>,
    ) -> Self {
        let admission =
            admission::Admission::new(settings.ws_max_connections_per_subject, settings.lease(), shared);
        Self { settings, admission }
    }
}

/// Live dispatch settings of `govgraph serve`: how events travel, and the WebSocket endpoint.
#[derive(Debug, Clone, Default, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub events: crate::events::EventBusArgs,

    #[command(flatten)]
    pub websocket: WebSocketArgs,
}

/// Whether `http` asks to become a WebSocket.
pub fn is_upgrade(http: &HttpRequest) -> bool {
    http.headers()
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// `GET /graphql` with `Upgrade: websocket`: accepts the connection and serves it in a task of its own.
pub async fn upgrade(state: web::Data<AppState>, http: HttpRequest, body: web::Payload) -> HttpResponse {
    let (response, session, messages) = match actix_ws::handle_with_protocols(&http, body, &[PROTOCOL]) {
        Ok(accepted) => accepted,
        Err(err) => return err.error_response(),
    };
    let offered = response.headers().contains_key(header::SEC_WEBSOCKET_PROTOCOL);
    let max_bytes = state.limits.max_body_bytes;
    let messages =
        messages.max_frame_size(max_bytes).aggregate_continuations().max_continuation_size(max_bytes);
    let request_id = http.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let context = connection::Context {
        request_id,
        anonymous: state.traffic.limiter.caller(&crate::auth::viewer::Identity::Anonymous, &http),
        purpose_header: super::graphql::stated_purpose(&http),
        subprotocol_accepted: offered,
    };
    actix_web::rt::spawn(connection::serve(state.into_inner(), session, messages, context));
    response
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        live: LiveArgs,
    }

    #[test]
    fn clap_defaults_match_default() {
        let parsed = Cli::try_parse_from(["govgraph"]).map(|cli| cli.live).map_err(|err| err.to_string());
        assert_eq!(format!("{parsed:?}"), format!("{:?}", Ok::<_, String>(LiveArgs::default())));
    }

    #[test]
    fn a_lease_outlives_a_few_missed_renewals() {
        let settings = WebSocketArgs { ws_keepalive_ms: 15_000, ..WebSocketArgs::default() };
        assert_eq!(settings.lease(), Duration::from_secs(45));
        let fast = WebSocketArgs { ws_keepalive_ms: 100, ..WebSocketArgs::default() };
        assert_eq!(fast.lease(), Duration::from_secs(10));
    }
}
