//! The Redis that several server processes share for rate-limit buckets, automatically persisted queries, live
//! events (pub/sub) and the count of each caller's WebSocket connections.
//!
//! The connection is opened on first use, not at start, and reopened after a failure: Redis being away must
//! never keep the server from starting or serving. Callers treat every error as "Redis unavailable" and carry
//! on without it (rate limits fail open, persisted-query lookups miss); warnings about it are logged at most
//! once every [`WARNING_INTERVAL`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use redis::aio::MultiplexedConnection;

/// Default prefix of every key the server writes to Redis.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "govgraph:";

/// How long opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one command may take before the request goes on without Redis.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// After a failed connection attempt, requests go on without Redis for this long before it is tried again.
pub const RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// Shortest time between two warnings about Redis being unavailable.
pub const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Where shared state lives when several processes serve the API.
#[derive(Debug, Clone, Args)]
pub struct SharedStoreArgs {
    /// Redis (`redis://[:PASSWORD@]HOST:PORT[/DB]`) that keeps rate-limit buckets and automatically persisted
    /// queries, so that several server processes share them. Without it each process keeps its own in memory.
    /// When Redis cannot be reached, rate limits fail open and persisted-query lookups miss.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key the server writes (to share one Redis between deployments).
    #[arg(long, env = "GOVGRAPH_REDIS_KEY_PREFIX", default_value = DEFAULT_REDIS_KEY_PREFIX)]
    pub redis_key_prefix: String,
}

impl Default for SharedStoreArgs {
    fn default() -> Self {
        Self { redis_url: None, redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned() }
    }
}

/// A lazily connected Redis.
pub struct SharedStore {
    client: redis::Client,
    prefix: String,
    connection: Mutex<Option<MultiplexedConnection>>,
    /// Held while a connection is being opened, so that concurrent requests wait for one attempt.
    connecting: tokio::sync::Mutex<()>,
    /// No connection attempt before this instant.
    retry_after: Mutex<Option<Instant>>,
    /// When the last warning was logged, and how many failures have not been reported since.
    last_warning: Mutex<Option<Instant>>,
    suppressed: AtomicU64,
    /// Every failed operation, for `/metrics`.
    failures: AtomicU64,
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: only the prefix is shown.
        f.debug_struct("SharedStore").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl SharedStore {
    /// The store at `url`, or an error when the URL is not a Redis URL. Nothing is connected yet.
    pub fn open(url: &str, prefix: &str) -> Result<SharedStore, String> {
        let client = redis::Client::open(url).map_err(|err| format!("not a usable Redis URL: {err}"))?;
        Ok(SharedStore {
            client,
            prefix: prefix.to_owned(),
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            retry_after: Mutex::new(None),
            last_warning: Mutex::new(None),
            suppressed: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        })
    }

    /// The store of `args`, if a Redis URL is configured.
    pub fn from_args(args: &SharedStoreArgs) -> Result<Option<SharedStore>, String> {
        match args.redis_url.as_deref().map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => SharedStore::open(url, &args.redis_key_prefix).map(Some),
            None => Ok(None),
        }
    }

    /// `prefix` + `name`: the key of `name` in this deployment.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Operations that failed since the start.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// An open connection, opening one if needed (at most one attempt per [`RECONNECT_DELAY`]).
    pub async fn connection(&self) -> Result<MultiplexedConnection, String> {
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let _one_attempt = self.connecting.lock().await;
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        if let Ok(retry_after) = self.retry_after.lock()
            && let Some(at) = *retry_after
            && Instant::now() < at
        {
            return Err("Redis was unreachable moments ago".into());
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        match self.client.get_multiplexed_async_connection_with_config(&config).await {
            Ok(connection) => {
                if let Ok(mut slot) = self.connection.lock() {
                    *slot = Some(connection.clone());
                }
                if let Ok(mut retry_after) = self.retry_after.lock() {
                    *retry_after = None;
                }
                Ok(connection)
            }
            Err(err) => {
                if let Ok(mut retry_after) = self.retry_after.lock() {
                    *retry_after = Some(Instant::now() + RECONNECT_DELAY);
                }
                Err(format!("cannot connect to Redis: {err}"))
            }
        }
    }

    /// A new connection of its own for pub/sub (a subscribed connection can do nothing else), opened within
    /// [`CONNECT_TIMEOUT`].
    pub async fn pubsub(&self) -> Result<redis::aio::PubSub, String> {
        match tokio::time::timeout(CONNECT_TIMEOUT, self.client.get_async_pubsub()).await {
            Ok(Ok(pubsub)) => Ok(pubsub),
            Ok(Err(err)) => Err(format!("cannot connect to Redis: {err}")),
            Err(_) => Err("cannot connect to Redis: timed out".into()),
        }
    }

    fn current(&self) -> Option<MultiplexedConnection> {
        self.connection.lock().ok().and_then(|slot| slot.clone())
    }

    /// Records a failed operation: the connection is dropped (the next operation opens a new one) and a warning
    /// is logged unless one was logged within [`WARNING_INTERVAL`].
    pub fn failed(&self, what: &str, error: &str) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut slot) = self.connection.lock() {
            *slot = None;
        }
        let now = Instant::now();
        let due = match self.last_warning.lock() {
            Ok(mut last) => {
                let due = last.is_none_or(|at| now.duration_since(at) >= WARNING_INTERVAL);
                if due {
                    *last = Some(now);
                }
                due
            }
            Err(_) => true,
        };
        if due {
            let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
            tracing::warn!(
                target: "govgraph::redis",
                error = %error,
                suppressed_since_last_warning = suppressed,
                "Redis unavailable: {what} goes on without it"
            );
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether Redis answers `PING` now (used at start to warn early; serving does not depend on it).
    pub async fn ping(&self) -> Result<(), String> {
        let mut connection = self.connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(|_| ())
            .map_err(|err| err.to_string())
    }
}
