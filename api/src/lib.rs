//! govgraph: one GraphQL API over a city's social-governance data, scoped by the caller's token.
//!
//! `main.rs` only calls [`cli::main`]; tests build the same server through [`server`] and [`schema`].

#[cfg(test)]
mod architecture;
pub mod audit;
pub mod auth;
pub mod by_id;
pub mod care;
pub mod cli;
pub mod config;
pub mod db;
pub mod directory;
pub mod disputes;
pub mod error;
pub mod events;
pub mod filter;
pub mod frame;
pub mod http;
pub mod legal_aid;
pub mod limits;
pub mod loader_batch;
pub mod lookup;
pub mod mentoring;
pub mod money;
pub mod node;
pub mod pagination;
pub mod regions;
pub mod request;
pub mod scalars;
pub mod schema;
pub mod scope;
pub mod seed;
pub mod server;
pub mod sql;
pub mod stability;
pub mod statistics;
pub mod subscriptions;
pub mod telemetry;
pub mod validate;
pub mod volunteers;
