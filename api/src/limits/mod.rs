//! Query protection: the limits every GraphQL request is measured against before any database work, and the
//! per-request time budgets. Each limit is a `govgraph serve` flag with an environment variable; the defaults
//! are the [`QueryLimits::default`] values and are documented in the README's "Query limits" table.
//!
//! The measuring itself lives in [`analysis`]: a lexical pass (bytes are capped by the HTTP layer, tokens and
//! bracket nesting here), then a pass over the parsed document (depth, aliases, root fields, directives,
//! fragment cycles and the cost model).

pub mod analysis;

use std::time::Duration;

use clap::Args;

use crate::auth::Role;

/// Default deepest field nesting.
pub const DEFAULT_MAX_DEPTH: usize = 12;
/// Default cost budget: GitHub's limit of objects per query.
pub const DEFAULT_MAX_COMPLEXITY: u64 = 500_000;
/// Default cost budget of `partner` tokens: a statistics answer with every subtotal (at most 80,000 cells).
pub const DEFAULT_MAX_COMPLEXITY_PARTNER: u64 = 100_000;
/// Default cost budget of `analyst` tokens: 500 volunteers with their grids, parents and teams cost 12,000;
/// 200 subjects with 10 visits and 3 mentorships with 5 outcomes each cost 6,500.
pub const DEFAULT_MAX_COMPLEXITY_ANALYST: u64 = 100_000;
/// Default largest number of aliased fields.
pub const DEFAULT_MAX_ALIASES: u64 = 50;
/// Default largest number of fields selected at the root of the operation.
pub const DEFAULT_MAX_ROOT_FIELDS: u64 = 20;
/// Default largest number of directives.
pub const DEFAULT_MAX_DIRECTIVES: u64 = 20;
/// Default largest request body (256 KiB: a mutation with 500 records of variables fits).
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
/// Default largest number of lexical tokens in a query.
pub const DEFAULT_MAX_TOKENS: u64 = 5_000;
/// Default largest batch.
pub const DEFAULT_MAX_BATCH: usize = 10;
/// Default overall request timeout in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Default PostgreSQL statement timeout in milliseconds.
pub const DEFAULT_DB_STATEMENT_TIMEOUT_MS: u64 = 5_000;
/// Default largest number of rows of one `/export/query.csv` file: two hundred pages of 500, more than a
/// spreadsheet is pleasant to work with, and within the request timeout.
pub const DEFAULT_MAX_EXPORT_ROWS: u64 = 100_000;

/// The limits a request is held to. The clap defaults and [`Default`] agree (a unit test checks it).
#[derive(Debug, Clone, Args)]
pub struct QueryLimits {
    /// Deepest field nesting a query may have, fragments expanded (introspection subtrees are exempt).
    #[arg(long, env = "GOVGRAPH_MAX_DEPTH", default_value_t = DEFAULT_MAX_DEPTH)]
    pub max_depth: usize,

    /// Cost budget of a request: every object it can return (page sizes and list bounds multiplied along each
    /// path; a connection without `first`/`last` counts 50) plus 10 for every field that can issue a statement.
    #[arg(long, env = "GOVGRAPH_MAX_COMPLEXITY", default_value_t = DEFAULT_MAX_COMPLEXITY)]
    pub max_complexity: u64,

    /// Cost budget of callers whose token carries the `partner` role (and no more generous role).
    #[arg(long, env = "GOVGRAPH_MAX_COMPLEXITY_PARTNER", default_value_t = DEFAULT_MAX_COMPLEXITY_PARTNER)]
    pub max_complexity_partner: u64,

    /// Cost budget of callers whose token carries the `analyst` role (and no more generous role).
    #[arg(long, env = "GOVGRAPH_MAX_COMPLEXITY_ANALYST", default_value_t = DEFAULT_MAX_COMPLEXITY_ANALYST)]
    pub max_complexity_analyst: u64,

    /// Largest number of aliased fields in a request, fragments expanded.
    #[arg(long, env = "GOVGRAPH_MAX_ALIASES", default_value_t = DEFAULT_MAX_ALIASES)]
    pub max_aliases: u64,

    /// Largest number of fields selected at the root of the operation, fragments expanded.
    #[arg(long, env = "GOVGRAPH_MAX_ROOT_FIELDS", default_value_t = DEFAULT_MAX_ROOT_FIELDS)]
    pub max_root_fields: u64,

    /// Largest number of directives in a request, fragments expanded.
    #[arg(long, env = "GOVGRAPH_MAX_DIRECTIVES", default_value_t = DEFAULT_MAX_DIRECTIVES)]
    pub max_directives: u64,

    /// Largest request body in bytes (after decompression); larger bodies get 413 without being read whole.
    #[arg(long, env = "GOVGRAPH_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Largest number of lexical tokens in a query document.
    #[arg(long, env = "GOVGRAPH_MAX_TOKENS", default_value_t = DEFAULT_MAX_TOKENS)]
    pub max_tokens: u64,

    /// Largest number of operations in one batched (JSON array) request.
    #[arg(long, env = "GOVGRAPH_MAX_BATCH", default_value_t = DEFAULT_MAX_BATCH)]
    pub max_batch: usize,

    /// Overall time budget of one GraphQL operation in milliseconds; its work is cancelled when it runs out.
    #[arg(long, env = "GOVGRAPH_REQUEST_TIMEOUT_MS", default_value_t = DEFAULT_REQUEST_TIMEOUT_MS)]
    pub request_timeout_ms: u64,

    /// PostgreSQL `statement_timeout` of every pooled connection in milliseconds (0 = none; SQLite work is
    /// bounded by the request timeout instead).
    #[arg(long, env = "GOVGRAPH_DB_STATEMENT_TIMEOUT_MS", default_value_t = DEFAULT_DB_STATEMENT_TIMEOUT_MS)]
    pub db_statement_timeout_ms: u64,

    /// Largest number of rows one `/export/query.csv` file holds; an export with more rows stops there and ends
    /// with a line saying so.
    #[arg(long, env = "GOVGRAPH_MAX_EXPORT_ROWS", default_value_t = DEFAULT_MAX_EXPORT_ROWS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_export_rows: u64,

    /// Allow introspection (`__schema`, `__type`) without a token; by default only authenticated callers may
    /// introspect.
    #[arg(long, env = "GOVGRAPH_ALLOW_ANONYMOUS_INTROSPECTION")]
    pub allow_anonymous_introspection: bool,

    /// Development mode: "did you mean" suggestions in validation errors (also on with `--demo`).
    #[arg(long, env = "GOVGRAPH_DEV_MODE")]
    pub dev_mode: bool,

    /// Origins allowed to call the API from a browser (comma-separated; `*` for any). Empty: no CORS headers,
    /// so only same-origin pages can call it. Cross-origin POSTs always need a preflight, because only JSON
    /// bodies are accepted, and mutations are refused over GET.
    #[arg(long, env = "GOVGRAPH_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: DEFAULT_MAX_DEPTH,
            max_complexity: DEFAULT_MAX_COMPLEXITY,
            max_complexity_partner: DEFAULT_MAX_COMPLEXITY_PARTNER,
            max_complexity_analyst: DEFAULT_MAX_COMPLEXITY_ANALYST,
            max_aliases: DEFAULT_MAX_ALIASES,
            max_root_fields: DEFAULT_MAX_ROOT_FIELDS,
            max_directives: DEFAULT_MAX_DIRECTIVES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_tokens: DEFAULT_MAX_TOKENS,
            max_batch: DEFAULT_MAX_BATCH,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            db_statement_timeout_ms: DEFAULT_DB_STATEMENT_TIMEOUT_MS,
            max_export_rows: DEFAULT_MAX_EXPORT_ROWS,
            allow_anonymous_introspection: false,
            dev_mode: false,
            cors_origins: Vec::new(),
        }
    }
}

impl QueryLimits {
    /// The cost budget of a caller with `roles`: the most generous budget among them, where a role without a
    /// budget of its own has the general one. Anonymous callers have the general budget.
    pub fn complexity_for(&self, roles: &[Role]) -> u64 {
        roles
            .iter()
            .map(|role| match role {
                Role::Partner => self.max_complexity_partner,
                Role::Analyst => self.max_complexity_analyst,
                _ => self.max_complexity,
            })
            .max()
            .unwrap_or(self.max_complexity)
    }

    /// The overall time budget of one operation.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms.max(1))
    }

    /// The PostgreSQL statement timeout, if any.
    pub fn statement_timeout(&self) -> Option<Duration> {
        (self.db_statement_timeout_ms > 0).then(|| Duration::from_millis(self.db_statement_timeout_ms))
    }

    /// Deepest bracket nesting the lexical pass lets through to the parser: generous beside the depth limit
    /// (input objects nest too), but far below what could exhaust the parser's stack.
    pub fn max_nesting(&self) -> u64 {
        u64::try_from(self.max_depth).unwrap_or(u64::MAX).saturating_mul(2).clamp(64, 512)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        limits: QueryLimits,
    }

    #[test]
    fn clap_defaults_match_default() {
        let parsed = Cli::try_parse_from(["govgraph"]).map(|cli| cli.limits);
        let parsed = parsed.map_err(|err| err.to_string());
        let defaults = QueryLimits::default();
        assert_eq!(format!("{parsed:?}"), format!("{:?}", Ok::<_, String>(defaults)));
    }

    #[test]
    fn the_most_generous_role_budget_wins() {
        let limits = QueryLimits::default();
        let limits = QueryLimits { max_complexity_partner: 5_000, max_complexity_analyst: 10_000, ..limits };
        assert_eq!(limits.complexity_for(&[]), 500_000);
        assert_eq!(limits.complexity_for(&[Role::Partner]), 5_000);
        assert_eq!(limits.complexity_for(&[Role::Analyst, Role::Partner]), 10_000);
        assert_eq!(limits.complexity_for(&[Role::Partner, Role::Admin]), 500_000);
    }
}
