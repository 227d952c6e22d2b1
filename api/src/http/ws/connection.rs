//! One WebSocket connection, from the handshake to its close.
//!
//! The client has [`WebSocketArgs::ws_init_timeout_ms`](super::WebSocketArgs) to send `connection_init`, whose
//! payload carries `Authorization: Bearer <token>` (the key in any case; without it the connection is
//! anonymous). The token is verified, and its region resolved, as for HTTP; a refused token closes the
//! connection with 4401, and so does its expiry, at the moment it expires, whatever is running. Each
//! `subscribe` takes from the caller's rate-limit bucket and passes the same query limits as an HTTP request
//! ([`crate::http::graphql::prepare`]) before it starts; a refused one gets an `error` and the connection goes
//! on. The server sends `ping` at every keep-alive interval and closes a connection that has sent nothing for
//! the idle timeout.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseReason, Session};
use serde_json::Value;
use tokio::sync::mpsc;

use super::protocol::{self, ClientMessage, Close};
use super::subscription::Subscription;
use crate::auth::Viewer;
use crate::auth::jwt::TokenError;
use crate::auth::viewer::Identity;
use crate::error::{ApiError, code};
use crate::http::AppState;
use crate::http::graphql::{self, Transport};
use crate::http::rate_limit::{Caller, Decision};
use crate::limits::analysis::Rejection;
use crate::request::RequestData;

/// Longest operation id accepted (clients use UUIDs or counters).
const MAX_ID_CHARS: usize = 128;
/// Messages of the connection's subscriptions waiting to be written.
const OUTGOING_CAPACITY: usize = 64;

/// What the handshake learnt about the connection.
pub(super) struct Context {
    /// The handshake's request id; each subscription's is derived from it.
    pub request_id: String,
    /// Who the caller is for rate limits and connection counts without a token: its address.
    pub anonymous: Caller,
    /// `X-Access-Purpose` of the handshake (browsers cannot send it: they put it in `connection_init`).
    pub purpose_header: Result<Option<String>, Rejection>,
    /// Whether the client offered `graphql-transport-ws`.
    pub subprotocol_accepted: bool,
}

/// What the connection's subscriptions hand to it.
pub(super) enum Outgoing {
    /// A message of subscription `ordinal`, written while that subscription still runs under `id`.
    Message { id: String, ordinal: u64, text: String },
    /// Subscription `ordinal` sent its last message.
    Ended { id: String, ordinal: u64 },
}

/// The caller, once `connection_init` was accepted.
struct Initialised {
    identity: Identity,
    caller: Caller,
    purpose: Option<String>,
    /// When the token expires.
    expires: Option<tokio::time::Instant>,
    ticket: super::admission::Ticket,
}

struct Running {
    ordinal: u64,
    task: tokio::task::JoinHandle<()>,
}

/// The peer went away: nothing more can be written.
struct Gone;

struct Connection {
    state: Arc<AppState>,
    session: Session,
    context: Context,
    init: Option<Initialised>,
    running: HashMap<String, Running>,
    subscriptions_started: u64,
    out: mpsc::Sender<Outgoing>,
}

/// Serves one connection until it closes.
pub(super) async fn serve(
    state: Arc<AppState>,
    session: Session,
    messages: AggregatedMessageStream,
    context: Context,
) {
    let _open = state.metrics.websocket_opened();
    let (out, outgoing) = mpsc::channel(OUTGOING_CAPACITY);
    let mut connection = Connection {
        state,
        session: session.clone(),
        context,
        init: None,
        running: HashMap::new(),
        subscriptions_started: 0,
        out,
    };
    let close = if connection.context.subprotocol_accepted {
        connection.run(messages, outgoing).await
    } else {
        Some(Close::new(protocol::SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable"))
    };
    for (_, running) in connection.running.drain() {
        running.task.abort();
    }
    if let Some(init) = connection.init.take() {
        init.ticket.release().await;
    }
    let reason = close.map(|close| CloseReason { code: close.code.into(), description: Some(close.reason) });
    // The peer may be gone already; there is nobody to tell then.
    let _ = session.close(reason).await;
}

impl Connection {
    /// Reads and answers messages until the connection must close (with the returned code) or the peer left.
    async fn run(
        &mut self,
        mut messages: AggregatedMessageStream,
        mut outgoing: mpsc::Receiver<Outgoing>,
    ) -> Option<Close> {
        let settings = &self.state.websockets.settings;
        let (init_timeout, idle_timeout, keepalive) =
            (settings.init_timeout(), settings.idle_timeout(), settings.keepalive());
        let init_deadline = tokio::time::sleep(init_timeout);
        let idle = tokio::time::sleep(idle_timeout);
        // Armed when the token is accepted; until then it waits practically forever.
        let expiry = tokio::time::sleep(Duration::from_secs(365 * 24 * 3600));
        tokio::pin!(init_deadline, idle, expiry);
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                message = messages.recv() => {
                    idle.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
                    match message {
                        None => return None,
                        Some(Err(err)) => {
                            return Some(Close::new(protocol::BAD_REQUEST, format!("unreadable frame: {err}")));
                        }
                        Some(Ok(message)) => {
                            let initialised = self.init.is_some();
                            let step = self.received(message).await;
                            if !initialised && let Some(expires) = self.init.as_ref().and_then(|init| init.expires) {
                                expiry.as_mut().reset(expires);
                            }
                            step
                        }
                    }
                }
                Some(message) = outgoing.recv() => self.forward(message).await,
                () = &mut init_deadline, if self.init.is_none() => {
                    Err(Some(Close::new(protocol::TIMEOUT, "Connection initialisation timeout")))
                }
                () = &mut expiry, if self.init.is_some() => {
                    Err(Some(Close::new(protocol::UNAUTHORIZED, TokenError::Expired.to_string())))
                }
                () = &mut idle => {
                    Err(Some(Close::new(protocol::TIMEOUT, "no message from the client within the idle timeout")))
                }
                _ = ping.tick() => {
                    if let Some(init) = &self.init {
                        self.state.websockets.admission.renew(&init.ticket).await;
                    }
                    self.send(protocol::ping_pong(false)).await.map_err(|Gone| None)
                }
            };
            if let Err(close) = step {
                return close;
            }
        }
    }

    /// Handles one message from the client; `Err` ends the connection (with a close code, or none when the peer
    /// is gone).
    async fn received(&mut self, message: AggregatedMessage) -> Result<(), Option<Close>> {
        let text = match message {
            AggregatedMessage::Text(text) => text,
            AggregatedMessage::Binary(_) => {
                return Err(Some(Close::new(protocol::BAD_REQUEST, "binary messages are not accepted")));
            }
            AggregatedMessage::Ping(bytes) => {
                return self.session.pong(&bytes).await.map_err(|_| None);
            }
            AggregatedMessage::Pong(_) => return Ok(()),
            AggregatedMessage::Close(_) => return Err(None),
        };
        let Some(message) = ClientMessage::parse(&text) else {
            return Err(Some(Close::new(protocol::BAD_REQUEST, "Invalid message received")));
        };
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.init.is_some() {
                    return Err(Some(Close::new(protocol::TOO_MANY, "Too many initialisation requests")));
                }
                self.init = Some(self.initialise(payload).await.map_err(Some)?);
                self.send(protocol::connection_ack()).await.map_err(|Gone| None)
            }
            ClientMessage::Ping { .. } => self.send(protocol::ping_pong(true)).await.map_err(|Gone| None),
            ClientMessage::Pong { .. } => Ok(()),
            ClientMessage::Subscribe { id, payload } => {
                if self.init.is_none() {
                    return Err(Some(Close::new(protocol::UNAUTHORIZED, "Unauthorized")));
                }
                if id.is_empty() || id.chars().count() > MAX_ID_CHARS {
                    let message = format!("an operation id has 1 to {MAX_ID_CHARS} characters");
                    return Err(Some(Close::new(protocol::BAD_REQUEST, message)));
                }
                if self.running.contains_key(&id) {
                    let message = format!("Subscriber for {id} already exists");
                    return Err(Some(Close::new(protocol::SUBSCRIBER_ALREADY_EXISTS, message)));
                }
                self.subscribe(id, *payload).await.map_err(|Gone| None)
            }
            ClientMessage::Complete { id } => {
                if let Some(running) = self.running.remove(&id) {
                    running.task.abort();
                }
                Ok(())
            }
        }
    }

    /// Accepts `connection_init`: verifies the token and its region, takes from the caller's rate limit and
    /// counts the connection; the close code when any of it refuses.
    async fn initialise(&self, payload: Option<Value>) -> Result<Initialised, Close> {
        let bad = |message: &str| Close::new(protocol::BAD_REQUEST, message);
        let fields = match payload {
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(Value::Object(fields)) => fields,
            Some(_) => return Err(bad("the connection_init payload must be an object")),
        };
        let field = |name: &str| {
            fields.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
        };
        let identity = match field("authorization") {
            None | Some(Value::Null) => Identity::Anonymous,
            Some(Value::String(value)) => graphql::identify_authorization(&self.state, Some(value)),
            Some(_) => Identity::Refused(TokenError::Invalid),
        };
        let purpose = match field(graphql::PURPOSE_HEADER) {
            None | Some(Value::Null) => self.context.purpose_header.clone(),
            Some(Value::String(text)) => graphql::checked_purpose(text),
            Some(_) => return Err(bad("X-Access-Purpose must be a string")),
        }
        .map_err(|rejection| bad(&rejection.message))?;
        let (caller, expires) = match &identity {
            Identity::Refused(reason) => return Err(Close::new(protocol::UNAUTHORIZED, reason.to_string())),
            Identity::Anonymous => (self.context.anonymous.clone(), None),
            Identity::Token { claims, .. } => {
                let left_ms =
                    claims.exp.saturating_mul(1000).saturating_sub(chrono::Utc::now().timestamp_millis());
                let Ok(left_ms) = u64::try_from(left_ms) else {
                    return Err(Close::new(protocol::UNAUTHORIZED, TokenError::Expired.to_string()));
                };
                let expires = tokio::time::Instant::now() + Duration::from_millis(left_ms);
                (Caller::Subject(claims.sub.clone()), Some(expires))
            }
        };
        if let Identity::Token { .. } = identity {
            // The token's region must name one, as for HTTP; the server remembers it for the subscriptions.
            let viewer = Viewer::new(
                identity.clone(),
                None,
                self.context.request_id.clone(),
                self.state.regions.clone(),
            );
            match viewer.scope(&self.state.db).await {
                Ok(_) => {}
                Err(ApiError::Unauthenticated(message)) => {
                    return Err(Close::new(protocol::UNAUTHORIZED, message));
                }
                Err(err) if err.code() == code::UNAVAILABLE => {
                    return Err(Close::new(
                        protocol::TRY_AGAIN_LATER,
                        "the database is unavailable; retry later",
                    ));
                }
                Err(err) => {
                    tracing::error!(error = %err, "could not resolve a WebSocket token's region");
                    return Err(Close::new(protocol::INTERNAL_ERROR, "internal error"));
                }
            }
        }
        if let Some(retry_after_seconds) = self.throttled(&caller).await {
            let message = format!("rate limit exceeded: retry in {retry_after_seconds} s");
            return Err(Close::new(protocol::TOO_MANY, message));
        }
        let ticket = match self.state.websockets.admission.admit(&caller.key()).await {
            Ok(ticket) => ticket,
            Err(full) => {
                let message = format!("too many open connections for this caller (at most {})", full.max);
                return Err(Close::new(protocol::TOO_MANY, message));
            }
        };
        Ok(Initialised { identity, caller, purpose, expires, ticket })
    }

    /// Takes one request from `caller`'s rate-limit bucket; the seconds to wait when it is empty.
    async fn throttled(&self, caller: &Caller) -> Option<u64> {
        let (decision, failed_open) = self.state.traffic.limiter.check(caller, 1).await;
        if failed_open {
            self.state.metrics.record_rate_limit_failed_open();
        }
        match decision {
            Decision::Allowed => None,
            Decision::Limited { retry_after_seconds } => {
                self.state.metrics.record_rate_limited(caller.is_token());
                Some(retry_after_seconds)
            }
        }
    }

    /// Starts operation `id`, or answers `error` when a limit or a check refuses it.
    async fn subscribe(&mut self, id: String, request: async_graphql::Request) -> Result<(), Gone> {
        let started = Instant::now();
        let Some(init) = &self.init else { return Ok(()) };
        let max = self.state.websockets.settings.ws_max_subscriptions;
        if max > 0 && self.running.len() >= max {
            let rejection = Rejection::exceeded("subscriptions", count(max), count(self.running.len() + 1));
            return self.send(protocol::error(&id, &[rejection.to_server_error()])).await;
        }
        if let Some(retry_after_seconds) = self.throttled(&init.caller).await {
            let error = graphql::rate_limited(retry_after_seconds);
            return self.send(protocol::error(&id, &[error])).await;
        }
        let prepared =
            match graphql::prepare(&self.state, &init.identity, request, Transport::WebSocket).await {
                Ok(prepared) => prepared,
                Err(refusal) => {
                    self.state.metrics.record_graphql(refusal.operation, started.elapsed(), true);
                    return self.send(protocol::error(&id, &[refusal.rejection.to_server_error()])).await;
                }
            };
        self.subscriptions_started += 1;
        let ordinal = self.subscriptions_started;
        let request_id = subscription_request_id(&self.context.request_id, ordinal);
        let viewer =
            Viewer::new(init.identity.clone(), init.purpose.clone(), request_id, self.state.regions.clone());
        let data = RequestData::new(self.state.db.clone(), viewer, self.state.events.clone());
        // Each result reads the records as they are then, never a copy loaded for an earlier one.
        data.disable_caching();
        let viewer = data.viewer.clone();
        let stream = self.state.schema.execute_stream(prepared.request.data(data));
        self.state.metrics.record_graphql(prepared.operation, started.elapsed(), false);
        let subscription = Subscription {
            id: id.clone(),
            ordinal,
            stream,
            viewer,
            state: self.state.clone(),
            out: self.out.clone(),
            open: self.state.metrics.subscription_opened(),
        };
        let task = actix_web::rt::spawn(subscription.drive());
        self.running.insert(id, Running { ordinal, task });
        Ok(())
    }

    /// Writes a subscription's message while it still runs; forgets it once it ended.
    async fn forward(&mut self, message: Outgoing) -> Result<(), Option<Close>> {
        match message {
            Outgoing::Message { id, ordinal, text } => {
                if self.running.get(&id).is_some_and(|running| running.ordinal == ordinal) {
                    self.send(text).await.map_err(|Gone| None)?;
                }
            }
            Outgoing::Ended { id, ordinal } => {
                if self.running.get(&id).is_some_and(|running| running.ordinal == ordinal) {
                    self.running.remove(&id);
                }
            }
        }
        Ok(())
    }

    async fn send(&mut self, text: String) -> Result<(), Gone> {
        self.session.text(text).await.map_err(|_| Gone)
    }
}

/// The request id of the connection's `ordinal`-th subscription, as the audit trail records it (at most 64
/// characters: the handshake's id is shortened when needed, never the ordinal).
fn subscription_request_id(connection: &str, ordinal: u64) -> String {
    let suffix = format!("/{ordinal}");
    let room = 64usize.saturating_sub(suffix.len());
    // Request ids are ASCII (letters, digits and dashes), so any byte is a character boundary.
    let head = connection.get(..room.min(connection.len())).unwrap_or_default();
    format!("{head}{suffix}")
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_request_ids_fit_the_audit_trail() {
        assert_eq!(subscription_request_id("1a-2b", 3), "1a-2b/3");
        let long = "a".repeat(64);
        let id = subscription_request_id(&long, 12);
        assert_eq!(id.len(), 64);
        assert!(id.ends_with("/12"));
    }
}
