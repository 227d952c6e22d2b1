//! Registered peace volunteers.

pub mod loader;
pub mod query;
pub mod service;
pub mod types;
