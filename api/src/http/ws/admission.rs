//! How many WebSocket connections each caller holds open: a token's subject, or an anonymous client address
//! (the rate limits' [`Caller`](crate::http::rate_limit::Caller) key). Counted in this process's memory, or with
//! `REDIS_URL` in Redis across every process.
//!
//! In Redis each caller has a sorted set of its connections, scored by when their lease runs out: a connection
//! renews its lease at every keep-alive and removes itself when it closes, and a process that dies without
//! closing its connections frees their places when the leases run out. When Redis cannot be reached the
//! connection is let through uncounted, as the rate limits do: counting never takes the service down.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::http::shared_store::SharedStore;

/// Admits the connection when the caller holds fewer than the limit, refreshing nothing else.
/// `KEYS[1]`: the caller's set; `ARGV`: connection id, limit, lease in ms. Returns `{admitted (0/1), open}`.
const ADMIT_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local open = redis.call('ZCARD', KEYS[1])
if open >= tonumber(ARGV[2]) then
  return {0, open}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, open + 1}
";

/// Renews a connection's lease. `KEYS[1]`: the caller's set; `ARGV`: connection id, lease in ms.
const RENEW_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
";

/// The connection counts of a server.
pub struct Admission {
    max: u32,
    lease: Duration,
    memory: Arc<Mutex<HashMap<String, u32>>>,
    shared: Option<Arc<SharedStore>>,
    admit: redis::Script,
    renew: redis::Script,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission").field("max", &self.max).field("shared", &self.shared.is_some()).finish()
    }
}

/// A refused connection: the caller already holds this many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    pub open: u32,
    pub max: u32,
}

/// One admitted connection's place; given back when it is released or dropped.
#[must_use = "the place is given back when this is dropped"]
pub struct Ticket {
    key: String,
    id: String,
    memory: Option<Arc<Mutex<HashMap<String, u32>>>>,
    shared: Option<Arc<SharedStore>>,
}

impl Admission {
    /// At most `max` connections per caller (0: no limit); in Redis each lease lasts `lease` unless renewed.
    pub fn new(max: u32, lease: Duration, shared: Option<Arc<SharedStore>>) -> Self {
        Self {
            max,
            lease,
            memory: Arc::default(),
            shared,
            admit: redis::Script::new(ADMIT_SCRIPT),
            renew: redis::Script::new(RENEW_SCRIPT),
        }
    }

    /// Takes a place for a connection of `caller` (a caller key), or says how full it is.
    pub async fn admit(&self, caller: &str) -> Result<Ticket, Full> {
        let mut ticket = Ticket { key: caller.to_owned(), id: connection_id(), memory: None, shared: None };
        if self.max == 0 {
            return Ok(ticket);
        }
        let Some(shared) = &self.shared else {
            let mut counts = self.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let open = counts.entry(caller.to_owned()).or_default();
            if *open >= self.max {
                return Err(Full { open: *open, max: self.max });
            }
            *open += 1;
            ticket.memory = Some(self.memory.clone());
            return Ok(ticket);
        };
        let key = shared.key(&format!("ws:{caller}"));
        let answer: Result<(i64, i64), String> = async {
            let mut connection = shared.connection().await?;
            self.admit
                .key(&key)
                .arg(&ticket.id)
                .arg(self.max)
                .arg(lease_ms(self.lease))
                .invoke_async(&mut connection)
                .await
                .map_err(|err| err.to_string())
        }
        .await;
        match answer {
            Ok((1, _)) => {
                ticket.key = key;
                ticket.shared = Some(shared.clone());
                Ok(ticket)
            }
            Ok((_, open)) => Err(Full { open: u32::try_from(open).unwrap_or(u32::MAX), max: self.max }),
            Err(err) => {
                shared.failed("counting WebSocket connections", &err);
                Ok(ticket)
            }
        }
    }

    /// Renews `ticket`'s lease in Redis (nothing to do in memory).
    pub async fn renew(&self, ticket: &Ticket) {
        let Some(shared) = &ticket.shared else { return };
        let renewed: Result<i64, String> = async {
            let mut connection = shared.connection().await?;
            self.renew
                .key(&ticket.key)
                .arg(&ticket.id)
                .arg(lease_ms(self.lease))
                .invoke_async(&mut connection)
                .await
                .map_err(|err| err.to_string())
        }
        .await;
        if let Err(err) = renewed {
            shared.failed("counting WebSocket connections", &err);
        }
    }
}

impl Ticket {
    /// Gives the place back.
    pub async fn release(mut self) {
        if let Some(shared) = self.shared.take() {
            let removed: Result<i64, String> = async {
                let mut connection = shared.connection().await?;
                redis::cmd("ZREM")
                    .arg(&self.key)
                    .arg(&self.id)
                    .query_async(&mut connection)
                    .await
                    .map_err(|err| err.to_string())
            }
            .await;
            if let Err(err) = removed {
                // The lease runs out by itself.
                shared.failed("counting WebSocket connections", &err);
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(memory) = self.memory.take() {
            let mut counts = memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(open) = counts.get_mut(&self.key) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    counts.remove(&self.key);
                }
            }
        }
        // A Redis place not released explicitly is freed when its lease runs out.
    }
}

fn lease_ms(lease: Duration) -> u64 {
    u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// An id no other connection of any process has: a random number drawn once per process, and a sequence.
fn connection_id() -> String {
    static PROCESS: OnceLock<u64> = OnceLock::new();
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    // The standard library seeds every `RandomState` from the operating system's randomness.
    let process =
        *PROCESS.get_or_init(|| std::collections::hash_map::RandomState::new().build_hasher().finish());
    format!("{process:016x}-{}", SEQUENCE.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_counts_each_caller_up_to_the_limit_and_frees_on_drop() {
        let admission = Admission::new(2, Duration::from_secs(60), None);
        let first = admission.admit("sub:a").await;
        let second = admission.admit("sub:a").await;
        assert!(first.is_ok() && second.is_ok());
        assert_eq!(admission.admit("sub:a").await.err(), Some(Full { open: 2, max: 2 }));
        assert!(admission.admit("sub:b").await.is_ok());
        drop(first);
        let third = admission.admit("sub:a").await;
        assert!(third.is_ok());
        drop((second, third));
        assert!(admission.memory.lock().map(|counts| !counts.contains_key("sub:a")).unwrap_or(false));
    }

    #[tokio::test]
    async fn zero_means_no_limit() {
        let admission = Admission::new(0, Duration::from_secs(60), None);
        let tickets: Vec<_> = futures_util::future::join_all((0..50).map(|_| admission.admit("sub:a"))).await;
        assert!(tickets.iter().all(Result::is_ok));
    }

    #[test]
    fn connection_ids_differ() {
        assert_ne!(connection_id(), connection_id());
    }
}
