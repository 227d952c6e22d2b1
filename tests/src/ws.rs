//! A `graphql-transport-ws` client for the end-to-end tests: what Apollo Client and urql do over the wire, step by
//! step, so that tests can also do what they would not (skip `connection_init`, ignore pings).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The subprotocol.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// How long a test waits for a message it expects.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// How the server closed the socket (`1006` when it went away without a close frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

/// What arrived.
#[derive(Debug)]
pub enum Received {
    /// A protocol message (never a `ping`: those are answered, or counted, by the client).
    Message(Value),
    /// The socket closed.
    Closed(Closed),
    /// Nothing within the wait.
    Nothing,
}

/// One WebSocket connection.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Answer the server's `ping` with `pong` (as graphql-ws clients do).
    pub answer_pings: bool,
    /// Pings received so far.
    pub pings: usize,
}

impl WsClient {
    /// Opens `url` offering `graphql-transport-ws`.
    pub async fn open(url: &str) -> WsClient {
        Self::open_offering(url, Some(PROTOCOL)).await
    }

    /// Opens `url` offering `protocol` (none: no `Sec-WebSocket-Protocol` header).
    pub async fn open_offering(url: &str, protocol: Option<&str>) -> WsClient {
        let mut request = url.into_client_request().expect("a WebSocket URL");
        if let Some(protocol) = protocol {
            request.headers_mut().insert("sec-websocket-protocol", protocol.parse().expect("a header value"));
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("WebSocket handshake");
        WsClient { socket, answer_pings: true, pings: 0 }
    }

    /// Opens `url` and initialises the connection with `token` (`Authorization: Bearer …`), expecting
    /// `connection_ack`.
    pub async fn connect(url: &str, token: Option<&str>) -> WsClient {
        let mut client = Self::open(url).await;
        let payload = match token {
            Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        client.init(payload).await;
        let ack = client.next_message().await;
        assert_eq!(ack["type"], "connection_ack", "expected connection_ack, got {ack}");
        client
    }

    /// Sends `connection_init` with `payload`.
    pub async fn init(&mut self, payload: Value) {
        self.send(json!({ "type": "connection_init", "payload": payload })).await;
    }

    /// Sends one message.
    pub async fn send(&mut self, message: Value) {
        self.socket.send(Message::text(message.to_string())).await.expect("send a WebSocket message");
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(
            json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
        )
        .await;
    }

    /// Stops operation `id`.
    pub async fn complete(&mut self, id: &str) {
        self.send(json!({ "id": id, "type": "complete" })).await;
    }

    /// The next protocol message or the close, waiting at most `within`.
    pub async fn receive(&mut self, within: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return Received::Nothing,
                Ok(frame) => frame,
            };
            match frame {
                None | Some(Err(_)) => return Received::Closed(Closed { code: 1006, reason: String::new() }),
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(text.as_str()).expect("a JSON message");
                    if message["type"] == "ping" {
                        self.pings += 1;
                        if self.answer_pings {
                            self.send(json!({ "type": "pong" })).await;
                        }
                        continue;
                    }
                    return Received::Message(message);
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|frame| (u16::from(frame.code), frame.reason.as_str().to_owned()))
                        .unwrap_or((1005, String::new()));
                    return Received::Closed(Closed { code, reason });
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next protocol message; panics when the socket closes or nothing arrives in time.
    pub async fn next_message(&mut self) -> Value {
        match self.receive(PATIENCE).await {
            Received::Message(message) => message,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The next message of operation `id`, skipping those of other operations.
    pub async fn next_of(&mut self, id: &str) -> Value {
        loop {
            let message = self.next_message().await;
            if message["id"] == id {
                return message;
            }
        }
    }

    /// How the socket closes; panics when a message arrives instead or nothing happens in time.
    pub async fn expect_close(&mut self) -> Closed {
        match self.receive(PATIENCE).await {
            Received::Closed(closed) => closed,
            other => panic!("expected the socket to close, got {other:?}"),
        }
    }

    /// Asserts that nothing arrives for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) {
        match self.receive(quiet).await {
            Received::Nothing => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }
}
