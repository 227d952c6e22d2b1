//! Disputes and grid events (矛盾纠纷多元化解, 海上枫桥): a dispute is reported in a grid, accepted by the region
//! handling it, assigned to a mediator or a mediation boat, mediated, and resolved or escalated, each stage with
//! a deadline; fishing vessels keep their records (一船一档) and mediation boats (娘舅船) take disputes at sea.
//!
//! - [`workflow`]: the state machine; [`deadline`]: the stages' due times in Asia/Shanghai calendar days;
//! - [`types`], [`filter`], [`loader`]: the GraphQL types, list filters and batched scoped loading;
//! - [`query`], [`mutation`] and [`subscription`]: the root fields.
//!
//! Mediators see only the disputes assigned to them (the `mediator` role's grants are "assigned only": a
//! relationship rule beside the region rule, through the mediator record linked to their token's subject).

pub mod deadline;
pub mod filter;
pub mod loader;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;
pub mod workflow;
