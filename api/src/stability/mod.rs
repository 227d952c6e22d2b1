//! Major projects and their social stability risk assessment (重大事项社会稳定风险评估): before a project (a
//! reservoir, a land acquisition, a plant) starts, its responsible unit applies, the assessing office
//! investigates, a joint review is held, the risk is rated, the opinion goes back, and the unit sets mitigation
//! measures with owners and deadlines. A unit that skips the assessment or fails to resolve the risks it found is
//! vetoed in its annual evaluation (一票否决); disputes a project causes are linked to it, and the instability
//! incidents among them are what the assessment is judged by.
//!
//! - [`workflow`]: the six steps as a state machine, and what may start;
//! - [`types`], [`filter`], [`loader`]: the GraphQL types, list filters and batched scoped loading;
//! - [`query`] and [`mutation`]: the root fields.
//!
//! A unit's officer (`unit_officer`) sees and works only their own unit's projects: a relationship rule beside
//! the region rule, through the unit linked to their token's subject, as mediators are linked to their cases.

pub mod filter;
pub mod loader;
pub mod mutation;
pub mod query;
pub mod types;
pub mod workflow;
