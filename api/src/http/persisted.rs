//! Persisted queries: a request may name its query by SHA-256 instead of (or besides) sending its text.
//!
//! * Automatic persisted queries (Apollo's protocol): `extensions.persistedQuery = { version: 1, sha256Hash }`.
//!   With the hash only, the text is looked up; an unknown hash answers `PERSISTED_QUERY_NOT_FOUND` (message
//!   `PersistedQueryNotFound`, which Apollo clients answer by sending the text along). With hash and text, the
//!   hash must be the text's SHA-256 (`BAD_USER_INPUT` otherwise); the text is registered once it has passed
//!   the query limits. Registered texts are kept in a byte-capped LRU in memory and, with `REDIS_URL`, in Redis
//!   for [`REDIS_TTL_SECONDS`] so that every process knows them. This works over GET too (`extensions` as a
//!   JSON URL parameter), which gives cacheable URLs.
//! * The allow-list: a JSON file `{ "<sha256>": "<query text>", … }` checked entry by entry at start; its
//!   operations are always available by hash. With `--partner-allow-list-only` (on by default when a file is
//!   given) tokens carrying the `partner` role may run only those operations (by hash, or by sending exactly
//!   their text).
//!
//! The lookup happens before the query is measured, so every limit applies to the text it resolves to.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Args;
use sha2::{Digest, Sha256};

use super::shared_store::SharedStore;
use crate::error::code;
use crate::limits::analysis::Rejection;

/// Default bytes of query text kept in memory for automatic persisted queries.
pub const DEFAULT_APQ_CACHE_BYTES: usize = 8 * 1024 * 1024;
/// How long Redis keeps an automatically persisted query (clients register it again when it is gone).
pub const REDIS_TTL_SECONDS: u64 = 7 * 24 * 3600;
/// The message of an unknown hash, as Apollo clients expect it.
pub const NOT_FOUND_MESSAGE: &str = "PersistedQueryNotFound";
/// The message partners get for an operation that is not allow-listed.
pub const PARTNER_MESSAGE: &str = "only allow-listed operations are accepted for partners: send the \
    sha256Hash of an operation from the allow-list in extensions.persistedQuery";

/// Persisted-query settings.
#[derive(Debug, Clone, Args)]
pub struct PersistedQueryArgs {
    /// Allow-list of operations: a JSON file mapping each query's SHA-256 (hex) to its text,
    /// `{ "<sha256>": "<query>", … }`. Every entry is checked at start; its operations can always be run by
    /// hash.
    #[arg(long, env = "GOVGRAPH_PERSISTED_QUERIES")]
    pub persisted_queries: Option<PathBuf>,

    /// Tokens carrying the `partner` role may run only allow-listed operations. Default: on when an allow-list
    /// file is given, off otherwise (and it cannot be on without one).
    #[arg(long, env = "GOVGRAPH_PARTNER_ALLOW_LIST_ONLY", num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub partner_allow_list_only: Option<bool>,

    /// Bytes of query text each process keeps in memory for automatic persisted queries (least recently used
    /// go first; 0 = none, so without Redis clients always send the text).
    #[arg(long, env = "GOVGRAPH_APQ_CACHE_BYTES", default_value_t = DEFAULT_APQ_CACHE_BYTES)]
    pub apq_cache_bytes: usize,
}

impl Default for PersistedQueryArgs {
    fn default() -> Self {
        Self {
            persisted_queries: None,
            partner_allow_list_only: None,
            apq_cache_bytes: DEFAULT_APQ_CACHE_BYTES,
        }
    }
}

/// The lowercase hex SHA-256 of `text`: the hash that names a persisted query.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// What a request's query turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The query is an allow-listed operation.
    pub allow_listed: bool,
    /// The request registers its query under this hash once the query passes the limits.
    pub register: Option<String>,
    /// The request named its query by hash.
    pub by_hash: bool,
}

/// The allow-list and the registered queries.
#[derive(Debug)]
pub struct PersistedQueries {
    allow_list: HashMap<String, Arc<str>>,
    partner_allow_list_only: bool,
    cache: Mutex<Lru>,
    shared: Option<Arc<SharedStore>>,
}

impl PersistedQueries {
    /// Reads and checks the allow-list of `args`; `shared` also keeps registered queries.
    pub fn load(args: &PersistedQueryArgs, shared: Option<Arc<SharedStore>>) -> Result<Self, String> {
        let allow_list = match &args.persisted_queries {
            Some(path) => {
                let shown = path.display();
                let text = std::fs::read_to_string(path)
                    .map_err(|err| format!("persisted queries file {shown}: {err}"))?;
                parse_allow_list(&text).map_err(|err| format!("persisted queries file {shown}: {err}"))?
            }
            None => HashMap::new(),
        };
        let partner_allow_list_only =
            args.partner_allow_list_only.unwrap_or(args.persisted_queries.is_some());
        if partner_allow_list_only && args.persisted_queries.is_none() {
            return Err(
                "GOVGRAPH_PARTNER_ALLOW_LIST_ONLY (--partner-allow-list-only) needs an allow-list file in \
                 GOVGRAPH_PERSISTED_QUERIES (--persisted-queries)"
                    .into(),
            );
        }
        Ok(PersistedQueries {
            allow_list,
            partner_allow_list_only,
            cache: Mutex::new(Lru::new(args.apq_cache_bytes)),
            shared,
        })
    }

    /// No allow-list, registered queries in memory only.
    pub fn in_memory() -> Self {
        PersistedQueries {
            allow_list: HashMap::new(),
            partner_allow_list_only: false,
            cache: Mutex::new(Lru::new(DEFAULT_APQ_CACHE_BYTES)),
            shared: None,
        }
    }

    /// Number of allow-listed operations.
    pub fn allow_listed(&self) -> usize {
        self.allow_list.len()
    }

    /// Whether partners may run only allow-listed operations.
    pub fn partner_allow_list_only(&self) -> bool {
        self.partner_allow_list_only
    }

    /// Fills in `request.query` from `extensions.persistedQuery` when the request names its query by hash,
    /// checks a sent text against its hash, and tells whether the query is allow-listed.
    pub async fn resolve(&self, request: &mut async_graphql::Request) -> Result<Resolution, Rejection> {
        let Some(extension) = request.extensions.get("persistedQuery") else {
            let allow_listed = !self.allow_list.is_empty()
                && self
                    .allow_list
                    .get(&sha256_hex(&request.query))
                    .is_some_and(|text| **text == *request.query);
            return Ok(Resolution { allow_listed, register: None, by_hash: false });
        };
        let hash = parse_extension(extension)?;
        if request.query.is_empty() {
            if let Some(text) = self.allow_list.get(&hash) {
                request.query = text.to_string();
                return Ok(Resolution { allow_listed: true, register: None, by_hash: true });
            }
            let text = match self.lookup(&hash).await {
                Some(text) => text,
                None => return Err(not_found()),
            };
            request.query = text.to_string();
            return Ok(Resolution { allow_listed: false, register: None, by_hash: true });
        }
        if sha256_hex(&request.query) != hash {
            return Err(Rejection::bad_input(
                "the persisted query's sha256Hash is not the SHA-256 of the query sent with it",
            ));
        }
        let allow_listed = self.allow_list.contains_key(&hash);
        let register = (!allow_listed).then_some(hash);
        Ok(Resolution { allow_listed, register, by_hash: true })
    }

    /// Remembers `query` under `hash` (in memory and, when configured, in Redis).
    pub async fn register(&self, hash: &str, query: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(hash, query);
        }
        if let Some(shared) = &self.shared {
            let stored = async {
                let mut connection = shared.connection().await?;
                redis::cmd("SET")
                    .arg(shared.key(&format!("apq:{hash}")))
                    .arg(query)
                    .arg("EX")
                    .arg(REDIS_TTL_SECONDS)
                    .query_async::<()>(&mut connection)
                    .await
                    .map_err(|err| err.to_string())
            };
            if let Err(err) = stored.await {
                shared.failed("registering a persisted query", &err);
            }
        }
    }

    /// The registered text of `hash`: from memory, else from Redis (then kept in memory too).
    async fn lookup(&self, hash: &str) -> Option<Arc<str>> {
        if let Some(text) = self.cache.lock().ok().and_then(|mut cache| cache.get(hash)) {
            return Some(text);
        }
        let shared = self.shared.as_ref()?;
        let fetched = async {
            let mut connection = shared.connection().await?;
            redis::cmd("GET")
                .arg(shared.key(&format!("apq:{hash}")))
                .query_async::<Option<String>>(&mut connection)
                .await
                .map_err(|err| err.to_string())
        };
        match fetched.await {
            // A text that does not hash to its key is not trusted.
            Ok(Some(text)) if sha256_hex(&text) == hash => {
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(hash, &text);
                }
                Some(Arc::from(text))
            }
            Ok(_) => None,
            Err(err) => {
                shared.failed("looking up a persisted query", &err);
                None
            }
        }
    }
}

/// The rejection of an unknown hash.
pub fn not_found() -> Rejection {
    Rejection {
        code: code::PERSISTED_QUERY_NOT_FOUND,
        message: NOT_FOUND_MESSAGE.into(),
        measure: None,
        limit: None,
        measured: None,
    }
}

/// The rejection of a partner's operation that is not allow-listed.
pub fn partner_refused() -> Rejection {
    Rejection {
        code: code::FORBIDDEN,
        message: PARTNER_MESSAGE.into(),
        measure: None,
        limit: None,
        measured: None,
    }
}

/// The lowercase hash of `{ version: 1, sha256Hash: "<hex>" }`.
fn parse_extension(extension: &async_graphql::Value) -> Result<String, Rejection> {
    let async_graphql::Value::Object(fields) = extension else {
        return Err(Rejection::bad_input("extensions.persistedQuery must be an object"));
    };
    match fields.get("version") {
        Some(async_graphql::Value::Number(version)) if version.as_i64() == Some(1) => {}
        _ => return Err(Rejection::bad_input("extensions.persistedQuery.version must be 1")),
    }
    match fields.get("sha256Hash") {
        Some(async_graphql::Value::String(hash)) if is_sha256_hex(hash) => Ok(hash.to_ascii_lowercase()),
        _ => Err(Rejection::bad_input(
            "extensions.persistedQuery.sha256Hash must be the query's SHA-256 in 64 hex digits",
        )),
    }
}

/// Parses and checks an allow-list file's content: every key the SHA-256 of its value, every value a GraphQL
/// document.
pub fn parse_allow_list(text: &str) -> Result<HashMap<String, Arc<str>>, String> {
    let entries: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|err| format!("not a JSON object of \"<sha256>\": \"<query>\" entries: {err}"))?;
    let mut allow_list = HashMap::with_capacity(entries.len());
    for (hash, query) in entries {
        let serde_json::Value::String(query) = query else {
            return Err(format!("entry {hash}: the value must be the query text (a string)"));
        };
        if !is_sha256_hex(&hash) {
            return Err(format!("entry {hash}: the key must be a SHA-256 in 64 hex digits"));
        }
        let actual = sha256_hex(&query);
        if actual != hash.to_ascii_lowercase() {
            return Err(format!("entry {hash}: the key is not the SHA-256 of its query (that is {actual})"));
        }
        if let Err(err) = async_graphql::parser::parse_query(&query) {
            return Err(format!("entry {hash}: the query is not a GraphQL document: {err}"));
        }
        allow_list.insert(actual, Arc::from(query));
    }
    Ok(allow_list)
}

/// Registered query texts, least recently used dropped first once their bytes exceed the budget.
#[derive(Debug)]
struct Lru {
    budget: usize,
    used: usize,
    tick: u64,
    entries: HashMap<String, (Arc<str>, u64)>,
    order: BTreeMap<u64, String>,
}

impl Lru {
    fn new(budget: usize) -> Lru {
        Lru { budget, used: 0, tick: 0, entries: HashMap::new(), order: BTreeMap::new() }
    }

    fn size(hash: &str, text: &str) -> usize {
        hash.len() + text.len()
    }

    fn get(&mut self, hash: &str) -> Option<Arc<str>> {
        self.tick += 1;
        let tick = self.tick;
        let (text, used) = self.entries.get_mut(hash)?;
        self.order.remove(used);
        *used = tick;
        self.order.insert(tick, hash.to_owned());
        Some(text.clone())
    }

    fn insert(&mut self, hash: &str, text: &str) {
        if self.get(hash).is_some() {
            return;
        }
        let size = Lru::size(hash, text);
        if size > self.budget {
            return;
        }
        while self.used + size > self.budget {
            let Some((_, oldest)) = self.order.pop_first() else { break };
            if let Some((text, _)) = self.entries.remove(&oldest) {
                self.used = self.used.saturating_sub(Lru::size(&oldest, &text));
            }
        }
        self.tick += 1;
        self.entries.insert(hash.to_owned(), (Arc::from(text), self.tick));
        self.order.insert(self.tick, hash.to_owned());
        self.used += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lru_keeps_its_byte_budget_and_the_recently_used() {
        let mut lru = Lru::new(3 * (64 + 10));
        let hashes: Vec<String> = (0..4).map(|n| format!("{n:064}")).collect();
        for hash in &hashes[..3] {
            lru.insert(hash, "0123456789");
        }
        assert!(lru.get(&hashes[0]).is_some(), "touched: now the most recent");
        lru.insert(&hashes[3], "0123456789");
        assert!(lru.get(&hashes[1]).is_none(), "the least recently used went");
        assert!(lru.get(&hashes[0]).is_some());
        assert!(lru.get(&hashes[3]).is_some());
        assert!(lru.used <= lru.budget);
        lru.insert(&hashes[2], &"x".repeat(1000));
        assert_eq!(lru.entries.len(), 3, "a text larger than the budget is not kept");
    }

    #[test]
    fn allow_list_entries_are_checked() {
        let query = "{ __typename }";
        let hash = sha256_hex(query);
        let good = serde_json::json!({ hash.to_uppercase(): query }).to_string();
        let parsed = parse_allow_list(&good).map_err(|err| err.to_string());
        assert!(parsed.is_ok_and(|list| list.contains_key(&hash)));

        let wrong = serde_json::json!({ sha256_hex("other"): query }).to_string();
        assert!(parse_allow_list(&wrong).is_err_and(|err| err.contains("not the SHA-256")));
        let short = serde_json::json!({ "abc": query }).to_string();
        assert!(parse_allow_list(&short).is_err_and(|err| err.contains("64 hex digits")));
        let broken = serde_json::json!({ sha256_hex("{ x"): "{ x" }).to_string();
        assert!(parse_allow_list(&broken).is_err_and(|err| err.contains("not a GraphQL document")));
        assert!(parse_allow_list("[]").is_err());
    }
}
