//! The administrative tree and the grids' service teams.

pub mod counts;
pub mod filter;
pub mod loader;
pub mod mutation;
pub mod query;
pub mod types;
