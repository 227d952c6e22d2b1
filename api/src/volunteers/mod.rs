//! Registered peace volunteers.

pub mod loader;
pub mod query;
pub mod types;
