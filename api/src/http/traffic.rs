//! Traffic control in front of GraphQL execution: rate limits and persisted queries, with the Redis they
//! share when several processes serve the API.

use std::sync::Arc;

use clap::Args;

use super::persisted::{PersistedQueries, PersistedQueryArgs};
use super::rate_limit::{RateLimitArgs, RateLimiter};
use super::shared_store::{SharedStore, SharedStoreArgs};

/// Rate-limit, persisted-query and Redis settings of `govgraph serve`.
#[derive(Debug, Clone, Default, Args)]
pub struct TrafficArgs {
    #[command(flatten)]
    pub rate_limits: RateLimitArgs,

    #[command(flatten)]
    pub persisted: PersistedQueryArgs,

    #[command(flatten)]
    pub shared: SharedStoreArgs,
}

/// A setting that keeps the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum TrafficError {
    #[error("{0}")]
    PersistedQueries(String),
    #[error("REDIS_URL: {0}")]
    Redis(String),
}

/// The rate limiter and the persisted queries of a server.
#[derive(Debug)]
pub struct Traffic {
    pub limiter: RateLimiter,
    pub persisted: PersistedQueries,
    /// The Redis both use, when configured.
    pub shared: Option<Arc<SharedStore>>,
}

impl Traffic {
    /// Builds everything `args` configures: reads and checks the allow-list, parses the Redis URL (connecting
    /// only on first use).
    pub fn from_args(args: &TrafficArgs) -> Result<Traffic, TrafficError> {
        let shared = SharedStore::from_args(&args.shared).map_err(TrafficError::Redis)?.map(Arc::new);
        let persisted = PersistedQueries::load(&args.persisted, shared.clone())
            .map_err(TrafficError::PersistedQueries)?;
        let limiter = RateLimiter::new(&args.rate_limits, shared.clone());
        Ok(Traffic { limiter, persisted, shared })
    }

    /// No rate limits and no allow-list; automatic persisted queries in memory.
    pub fn unlimited() -> Traffic {
        Traffic { limiter: RateLimiter::off(), persisted: PersistedQueries::in_memory(), shared: None }
    }

    /// One line describing the configuration, for the start-up log.
    pub fn describe(&self) -> String {
        let class = |config: Option<super::rate_limit::BucketConfig>| match config {
            Some(config) => format!("{}/s, burst {}", config.per_second, config.burst),
            None => "off".to_owned(),
        };
        let (token, anonymous) = self.limiter.configs();
        format!(
            "rate limits: tokens {}, anonymous {} ({}); {} allow-listed operations{}",
            class(token),
            class(anonymous),
            if self.shared.is_some() { "shared in Redis" } else { "in memory" },
            self.persisted.allow_listed(),
            if self.persisted.partner_allow_list_only() { ", partners restricted to them" } else { "" },
        )
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        traffic: TrafficArgs,
    }

    #[test]
    fn clap_defaults_match_default() {
        let parsed = Cli::try_parse_from(["govgraph"]).map(|cli| cli.traffic).map_err(|err| err.to_string());
        assert_eq!(format!("{parsed:?}"), format!("{:?}", Ok::<_, String>(TrafficArgs::default())));
    }

    #[test]
    fn the_partner_switch_takes_a_value_or_none() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(args).map(|cli| cli.traffic.persisted.partner_allow_list_only).ok().flatten()
        };
        assert_eq!(parse(&["govgraph", "--partner-allow-list-only"]), Some(true));
        assert_eq!(parse(&["govgraph", "--partner-allow-list-only=false"]), Some(false));
        assert_eq!(parse(&["govgraph"]), None);
    }

    #[test]
    fn partner_restriction_needs_a_file() {
        let mut args = TrafficArgs::default();
        args.persisted.partner_allow_list_only = Some(true);
        let err = Traffic::from_args(&args).map(|_| ()).map_err(|err| err.to_string());
        assert!(err.is_err_and(|err| err.contains("needs an allow-list file")));
        args.persisted.partner_allow_list_only = None;
        assert!(Traffic::from_args(&args).is_ok_and(|traffic| !traffic.persisted.partner_allow_list_only()));
    }

    #[test]
    fn a_bad_redis_url_is_refused() {
        let mut args = TrafficArgs::default();
        args.shared.redis_url = Some("not a url".into());
        assert!(matches!(Traffic::from_args(&args), Err(TrafficError::Redis(_))));
    }
}
