//! Who is calling and what they may do.
//!
//! - [`jwt`] verifies bearer tokens (and mints development ones);
//! - [`policy`] is the policy table, role × resource × action → the most protected field class the role sees;
//! - [`viewer`] is the per-request caller: its verified claims, its region scope (resolved once, lazily), and
//!   [`viewer::Viewer::authorize`], the one function every resolver consults;
//! - [`mask`] renders personal fields for callers who may only see their masked form.

pub mod jwt;
pub mod mask;
pub mod policy;
pub mod viewer;

pub use policy::{Action, FieldClass, Resource, Role};
pub use viewer::{Scope, Viewer};
