//! Registered peace volunteers.

pub mod filter;
pub mod loader;
pub mod mutation;
pub mod nested;
pub mod query;
pub mod service;
pub mod service_log;
pub mod teams;
pub mod types;
