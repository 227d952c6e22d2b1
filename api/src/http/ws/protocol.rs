//! The messages and close codes of `graphql-transport-ws` (the protocol of the `graphql-ws` library, which Apollo
//! Client and urql use), plus the codes this server adds for its own limits.

use async_graphql::ServerError;
use serde::Deserialize;
use serde_json::{Value, json};

/// What a client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message: its payload carries `Authorization` (and optionally `X-Access-Purpose`).
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    /// Asks for a `pong`.
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    /// Answers the server's `ping`.
    Pong {
        #[serde(default)]
        payload: Option<Value>,
    },
    /// Starts operation `id`.
    Subscribe { id: String, payload: Box<async_graphql::Request> },
    /// Stops operation `id`.
    Complete { id: String },
}

impl ClientMessage {
    /// Reads one text message; `None` when it is not a message of the protocol (the connection is closed with
    /// [`BAD_REQUEST`]).
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// A close code with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

impl Close {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self { code, reason: reason.into() }
    }
}

/// A message that is not one of the protocol's, or a binary one.
pub const BAD_REQUEST: u16 = 4400;
/// A `subscribe` before `connection_ack`, a refused token at `connection_init`, or the token expired.
pub const UNAUTHORIZED: u16 = 4401;
/// The client offered no subprotocol this server speaks.
pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
/// No `connection_init` within the init timeout, or no message at all within the idle timeout.
pub const TIMEOUT: u16 = 4408;
/// A `subscribe` with the id of an operation still running.
pub const SUBSCRIBER_ALREADY_EXISTS: u16 = 4409;
/// A second `connection_init`; also (this server's use) too many connections of the caller, or a caller over
/// its rate limit.
pub const TOO_MANY: u16 = 4429;
/// The database could not be reached while accepting the connection: retry (standard "try again later").
pub const TRY_AGAIN_LATER: u16 = 1013;
/// Something failed on the server.
pub const INTERNAL_ERROR: u16 = 4500;

/// `connection_ack`.
pub fn connection_ack() -> String {
    json!({ "type": "connection_ack" }).to_string()
}

/// `ping` (the server's keep-alive) or `pong` (the answer to the client's `ping`).
pub fn ping_pong(pong: bool) -> String {
    json!({ "type": if pong { "pong" } else { "ping" } }).to_string()
}

/// `next`: one result of operation `id`.
pub fn next(id: &str, payload: &async_graphql::Response) -> String {
    let payload = serde_json::to_value(payload).unwrap_or_else(|err| {
        tracing::error!(error = %err, "could not serialize a subscription result");
        json!({ "errors": [{ "message": "internal error", "extensions": { "code": crate::error::code::INTERNAL } }] })
    });
    json!({ "id": id, "type": "next", "payload": payload }).to_string()
}

/// `error`: operation `id` failed before it produced anything, and is over.
pub fn error(id: &str, errors: &[ServerError]) -> String {
    let errors: Vec<Value> = errors.iter().filter_map(|error| serde_json::to_value(error).ok()).collect();
    json!({ "id": id, "type": "error", "payload": errors }).to_string()
}

/// `complete`: operation `id` produced its last result.
pub fn complete(id: &str) -> String {
    json!({ "id": id, "type": "complete" }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_are_read_by_their_type() {
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"connection_init","payload":{"Authorization":"Bearer x"}}"#),
            Some(ClientMessage::ConnectionInit { payload: Some(_) })
        ));
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"connection_init"}"#),
            Some(ClientMessage::ConnectionInit { payload: None })
        ));
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"subscribe","id":"1","payload":{"query":"subscription { a }"}}"#),
            Some(ClientMessage::Subscribe { id, .. }) if id == "1"
        ));
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"complete","id":"1"}"#),
            Some(ClientMessage::Complete { .. })
        ));
        assert!(matches!(ClientMessage::parse(r#"{"type":"ping"}"#), Some(ClientMessage::Ping { .. })));
        assert!(ClientMessage::parse(r#"{"type":"subscribe","id":"1"}"#).is_none());
        assert!(ClientMessage::parse(r#"{"type":"start","id":"1","payload":{"query":"{a}"}}"#).is_none());
        assert!(ClientMessage::parse("not json").is_none());
    }

    #[test]
    fn server_messages_carry_their_id_and_type() {
        let next: Value =
            serde_json::from_str(&next("7", &async_graphql::Response::new(async_graphql::Value::Null)))
                .unwrap_or_default();
        assert_eq!(next["type"], "next");
        assert_eq!(next["id"], "7");
        let error: Value =
            serde_json::from_str(&error("7", &[ServerError::new("no", None)])).unwrap_or_default();
        assert_eq!(error["payload"][0]["message"], "no");
        assert_eq!(complete("7"), r#"{"id":"7","type":"complete"}"#);
    }
}
