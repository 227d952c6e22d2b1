//! Rate limits: a token bucket per caller, checked before any database work. Callers with a valid token are
//! counted by their `sub` claim, everyone else (no token, or a refused one) by client address: the peer's, or
//! with `--trust-forwarded-for` the last address in `X-Forwarded-For` (the one the proxy in front of us added).
//! IPv6 clients are counted per /64, since one host usually has a whole /64.
//!
//! A bucket holds up to `burst` requests and refills at `per_second`; each GraphQL operation takes one (a
//! batch takes one per operation, at most `burst`). An empty bucket answers 429 with `Retry-After`: the whole
//! seconds until enough has refilled, at least 1. The buckets live in this process's memory, or with
//! `REDIS_URL` in Redis, updated by one Lua script (run with `EVALSHA`) so that several processes share them.
//! When Redis cannot be reached the request is let through and a warning logged: rate limiting never takes the
//! service down.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::HttpRequest;
use clap::Args;

use super::shared_store::SharedStore;
use crate::auth::viewer::Identity;

/// Default sustained requests per second of a token's subject.
pub const DEFAULT_PER_SECOND: f64 = 20.0;
/// Default burst of a token's subject.
pub const DEFAULT_BURST: u32 = 40;
/// Default sustained requests per second of an anonymous client address.
pub const DEFAULT_ANONYMOUS_PER_SECOND: f64 = 5.0;
/// Default burst of an anonymous client address.
pub const DEFAULT_ANONYMOUS_BURST: u32 = 10;
/// Most buckets kept in memory; beyond it full buckets (which are as good as none) and then the longest
/// unused ones are dropped.
pub const MAX_MEMORY_BUCKETS: usize = 100_000;

/// The token-bucket update, atomic in Redis. `KEYS[1]`: the bucket; `ARGV`: refill per second, burst, cost.
/// Time is Redis's own, so that processes with skewed clocks agree. Returns `{allowed (0/1), retry after s}`.
const BUCKET_SCRIPT: &str = r"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ms')
local tokens = tonumber(state[1])
local since = tonumber(state[2])
if tokens == nil or since == nil then
  tokens = burst
  since = now
end
tokens = math.min(burst, tokens + math.max(0, now - since) / 1000 * rate)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.max(1, math.ceil((cost - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ms', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, retry}
";

/// Rate-limit settings; 0 in either setting of a class turns that class's limit off.
#[derive(Debug, Clone, Args)]
pub struct RateLimitArgs {
    /// Requests per second a token's subject (`sub` claim) may make on average (0 = no limit for tokens).
    #[arg(long, env = "GOVGRAPH_RATE_LIMIT_PER_SECOND", default_value_t = DEFAULT_PER_SECOND,
          value_parser = parse_rate)]
    pub rate_limit_per_second: f64,

    /// Requests a token's subject may make at once before the per-second rate applies (0 = no limit).
    #[arg(long, env = "GOVGRAPH_RATE_LIMIT_BURST", default_value_t = DEFAULT_BURST)]
    pub rate_limit_burst: u32,

    /// Requests per second an anonymous client address may make on average (0 = no limit for anonymous
    /// callers).
    #[arg(long, env = "GOVGRAPH_RATE_LIMIT_ANONYMOUS_PER_SECOND",
          default_value_t = DEFAULT_ANONYMOUS_PER_SECOND, value_parser = parse_rate)]
    pub rate_limit_anonymous_per_second: f64,

    /// Requests an anonymous client address may make at once before the per-second rate applies (0 = no
    /// limit).
    #[arg(long, env = "GOVGRAPH_RATE_LIMIT_ANONYMOUS_BURST", default_value_t = DEFAULT_ANONYMOUS_BURST)]
    pub rate_limit_anonymous_burst: u32,

    /// Count anonymous callers by the last address in `X-Forwarded-For` instead of the peer address. Only
    /// behind a proxy that appends the client's address: otherwise any client can pick its own bucket.
    #[arg(long, env = "GOVGRAPH_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
}

impl Default for RateLimitArgs {
    fn default() -> Self {
        Self {
            rate_limit_per_second: DEFAULT_PER_SECOND,
            rate_limit_burst: DEFAULT_BURST,
            rate_limit_anonymous_per_second: DEFAULT_ANONYMOUS_PER_SECOND,
            rate_limit_anonymous_burst: DEFAULT_ANONYMOUS_BURST,
            trust_forwarded_for: false,
        }
    }
}

impl RateLimitArgs {
    /// No limits at all.
    pub fn off() -> Self {
        Self {
            rate_limit_per_second: 0.0,
            rate_limit_burst: 0,
            rate_limit_anonymous_per_second: 0.0,
            rate_limit_anonymous_burst: 0,
            trust_forwarded_for: false,
        }
    }
}

fn parse_rate(value: &str) -> Result<f64, String> {
    let rate: f64 = value.trim().parse().map_err(|_| format!("not a number: {value:?}"))?;
    if !rate.is_finite() || rate < 0.0 {
        return Err("must be a non-negative number".into());
    }
    Ok(rate)
}

/// One class's bucket size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketConfig {
    pub per_second: f64,
    pub burst: u32,
}

impl BucketConfig {
    fn new(per_second: f64, burst: u32) -> Option<BucketConfig> {
        (per_second > 0.0 && per_second.is_finite() && burst > 0)
            .then_some(BucketConfig { per_second, burst })
    }
}

/// Whose bucket a request takes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A verified token's `sub`.
    Subject(String),
    /// An anonymous client address (IPv6 reduced to its /64), or `unknown`.
    Address(String),
}

impl Caller {
    /// The key of this caller's bucket.
    pub fn key(&self) -> String {
        match self {
            Caller::Subject(sub) => format!("sub:{sub}"),
            Caller::Address(address) => format!("ip:{address}"),
        }
    }

    /// Whether the caller presented a valid token.
    pub fn is_token(&self) -> bool {
        matches!(self, Caller::Subject(_))
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Served.
    Allowed,
    /// Over the limit: retry after this many whole seconds (at least 1).
    Limited { retry_after_seconds: u64 },
}

/// A bucket in memory.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    config: BucketConfig,
}

impl Bucket {
    fn refilled(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        (self.tokens + elapsed * self.config.per_second).min(f64::from(self.config.burst))
    }
}

/// Takes `cost` from a bucket whose level is `tokens` (already refilled).
fn take(tokens: f64, cost: f64, config: BucketConfig) -> (f64, Decision) {
    if tokens >= cost {
        (tokens - cost, Decision::Allowed)
    } else {
        let wait = ((cost - tokens) / config.per_second).ceil();
        // `as` saturates; the value is a positive whole number of seconds.
        let retry_after_seconds = (wait as u64).max(1);
        (tokens, Decision::Limited { retry_after_seconds })
    }
}

/// The rate limiter of a server.
#[derive(Debug)]
pub struct RateLimiter {
    token: Option<BucketConfig>,
    anonymous: Option<BucketConfig>,
    trust_forwarded_for: bool,
    memory: Mutex<HashMap<String, Bucket>>,
    shared: Option<Arc<SharedStore>>,
    script: redis::Script,
}

impl RateLimiter {
    /// The limiter of `args`, keeping its buckets in `shared` when given.
    pub fn new(args: &RateLimitArgs, shared: Option<Arc<SharedStore>>) -> RateLimiter {
        RateLimiter {
            token: BucketConfig::new(args.rate_limit_per_second, args.rate_limit_burst),
            anonymous: BucketConfig::new(
                args.rate_limit_anonymous_per_second,
                args.rate_limit_anonymous_burst,
            ),
            trust_forwarded_for: args.trust_forwarded_for,
            memory: Mutex::new(HashMap::new()),
            shared,
            script: redis::Script::new(BUCKET_SCRIPT),
        }
    }

    /// A limiter that lets everything through.
    pub fn off() -> RateLimiter {
        RateLimiter::new(&RateLimitArgs::off(), None)
    }

    /// The settings of token callers and anonymous callers (`None`: unlimited).
    pub fn configs(&self) -> (Option<BucketConfig>, Option<BucketConfig>) {
        (self.token, self.anonymous)
    }

    /// Whether the buckets are kept in Redis.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Who `http` with `identity` is, for rate limiting.
    pub fn caller(&self, identity: &Identity, http: &HttpRequest) -> Caller {
        if let Identity::Token { claims, .. } = identity {
            return Caller::Subject(claims.sub.clone());
        }
        let forwarded = if self.trust_forwarded_for { forwarded_address(http) } else { None };
        let address = forwarded.or_else(|| http.peer_addr().map(|peer| peer.ip()));
        Caller::Address(address.map(address_key).unwrap_or_else(|| "unknown".to_owned()))
    }

    /// Takes `operations` requests from `caller`'s bucket. The second value tells whether the shared store
    /// failed and the request was let through without counting.
    pub async fn check(&self, caller: &Caller, operations: usize) -> (Decision, bool) {
        let config = if caller.is_token() { self.token } else { self.anonymous };
        let Some(config) = config else {
            return (Decision::Allowed, false);
        };
        let cost = u32::try_from(operations).unwrap_or(u32::MAX).clamp(1, config.burst);
        let key = caller.key();
        match &self.shared {
            Some(shared) => match self.check_shared(shared, &key, config, cost).await {
                Ok(decision) => (decision, false),
                Err(err) => {
                    shared.failed("rate limiting", &err);
                    (Decision::Allowed, true)
                }
            },
            None => (self.check_memory(key, config, f64::from(cost), Instant::now()), false),
        }
    }

    async fn check_shared(
        &self,
        shared: &SharedStore,
        key: &str,
        config: BucketConfig,
        cost: u32,
    ) -> Result<Decision, String> {
        let mut connection = shared.connection().await?;
        let (allowed, retry): (i64, i64) = self
            .script
            .key(shared.key(&format!("rl:{key}")))
            .arg(config.per_second)
            .arg(config.burst)
            .arg(cost)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| err.to_string())?;
        Ok(if allowed == 1 {
            Decision::Allowed
        } else {
            Decision::Limited { retry_after_seconds: u64::try_from(retry).unwrap_or(1).max(1) }
        })
    }

    fn check_memory(&self, key: String, config: BucketConfig, cost: f64, now: Instant) -> Decision {
        let Ok(mut buckets) = self.memory.lock() else {
            return Decision::Allowed;
        };
        if buckets.len() >= MAX_MEMORY_BUCKETS && !buckets.contains_key(&key) {
            prune(&mut buckets, now);
        }
        let bucket =
            buckets.entry(key).or_insert(Bucket { tokens: f64::from(config.burst), updated: now, config });
        // A changed configuration applies at once.
        bucket.config = config;
        let (tokens, decision) = take(bucket.refilled(now), cost, config);
        bucket.tokens = tokens;
        bucket.updated = now;
        decision
    }
}

/// Makes room among the memory buckets: full ones go first, then the longest unused half if still crowded.
fn prune(buckets: &mut HashMap<String, Bucket>, now: Instant) {
    buckets.retain(|_, bucket| bucket.refilled(now) < f64::from(bucket.config.burst));
    if buckets.len() > MAX_MEMORY_BUCKETS / 4 * 3 {
        let mut updated: Vec<Instant> = buckets.values().map(|bucket| bucket.updated).collect();
        let middle = updated.len() / 2;
        let (_, cutoff, _) = updated.select_nth_unstable(middle);
        let cutoff = *cutoff;
        buckets.retain(|_, bucket| bucket.updated > cutoff);
    }
}

/// The last parseable address in `X-Forwarded-For` (all header lines together).
fn forwarded_address(http: &HttpRequest) -> Option<IpAddr> {
    let entries: Vec<&str> = http
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    entries.iter().rev().map(|entry| entry.trim()).find_map(parse_address)
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|socket| socket.ip()))
}

/// The bucket name of an address: IPv4 as is (also when mapped into IPv6), IPv6 by its /64.
fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limiter(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(
            &RateLimitArgs {
                rate_limit_per_second: per_second,
                rate_limit_burst: burst,
                ..RateLimitArgs::default()
            },
            None,
        )
    }

    #[test]
    fn a_bucket_empties_and_refills() {
        let limiter = limiter(2.0, 3);
        let config = limiter.token.unwrap_or(BucketConfig { per_second: 0.0, burst: 0 });
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_memory("sub:a".into(), config, 1.0, start), Decision::Allowed);
        }
        assert_eq!(
            limiter.check_memory("sub:a".into(), config, 1.0, start),
            Decision::Limited { retry_after_seconds: 1 }
        );
        assert_eq!(limiter.check_memory("sub:b".into(), config, 1.0, start), Decision::Allowed);
        let later = start + Duration::from_millis(600);
        assert_eq!(limiter.check_memory("sub:a".into(), config, 1.0, later), Decision::Allowed);
        assert!(matches!(limiter.check_memory("sub:a".into(), config, 1.0, later), Decision::Limited { .. }));
    }

    #[test]
    fn retry_after_is_whole_seconds_and_at_least_one() {
        let config = BucketConfig { per_second: 0.25, burst: 2 };
        assert_eq!(take(0.0, 1.0, config).1, Decision::Limited { retry_after_seconds: 4 });
        assert_eq!(take(0.9, 1.0, config).1, Decision::Limited { retry_after_seconds: 1 });
        let fast = BucketConfig { per_second: 1000.0, burst: 2 };
        assert_eq!(take(0.0, 1.0, fast).1, Decision::Limited { retry_after_seconds: 1 });
    }

    #[test]
    fn zero_turns_a_class_off() {
        assert!(BucketConfig::new(0.0, 10).is_none());
        assert!(BucketConfig::new(5.0, 0).is_none());
        assert!(RateLimiter::off().configs() == (None, None));
    }

    #[test]
    fn addresses_group_ipv6_by_prefix() {
        assert_eq!(address_key("10.1.2.3".parse().unwrap_or(IpAddr::V4([0, 0, 0, 0].into()))), "10.1.2.3");
        let v6: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap_or(IpAddr::V4([0, 0, 0, 0].into()));
        assert_eq!(address_key(v6), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap_or(IpAddr::V4([0, 0, 0, 0].into()));
        assert_eq!(address_key(mapped), "10.0.0.1");
        assert_eq!(parse_address("[2001:db8::1]:443"), "2001:db8::1".parse().ok());
        assert_eq!(parse_address("1.2.3.4:80"), "1.2.3.4".parse().ok());
        assert_eq!(parse_address("unknown"), None);
    }

    #[test]
    fn pruning_keeps_the_buckets_in_use() {
        let config = BucketConfig { per_second: 1.0, burst: 2 };
        let now = Instant::now();
        let mut buckets = HashMap::new();
        buckets.insert("full".to_owned(), Bucket { tokens: 2.0, updated: now, config });
        buckets.insert("used".to_owned(), Bucket { tokens: 0.0, updated: now, config });
        prune(&mut buckets, now);
        assert!(buckets.contains_key("used"));
        assert!(!buckets.contains_key("full"));
    }
}
