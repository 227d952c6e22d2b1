//! The legal-aid funds (三金): the revolving fund that lends, the relief and charity funds that grant, the
//! applications to them, and the append-only ledger through which all their money moves.
//!
//! - [`ledger`]: appending entries: fund lock, idempotency keys, no overdraft, retries on transient failures;
//! - [`mutation`]: the application workflow and the money-moving mutations;
//! - [`query`], [`funds`], [`types`], [`loader`]: reading funds, statements, applications and entries;
//! - [`verify`]: `govgraph ledger verify`.

pub mod funds;
pub mod ledger;
pub mod loader;
pub mod mutation;
pub mod query;
pub mod types;
pub mod verify;

pub use crate::money::Money;

/// Disbursements above this many fen need a second person (the approver may not disburse): 5,000 yuan.
pub const DEFAULT_DUAL_CONTROL_THRESHOLD_FEN: i64 = 500_000;

/// Settings of the legal-aid domain, attached to the schema as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegalAidSettings {
    /// Disbursements of more than this many fen must be made by someone other than the approver.
    pub dual_control_threshold_fen: i64,
}

impl Default for LegalAidSettings {
    fn default() -> Self {
        Self { dual_control_threshold_fen: DEFAULT_DUAL_CONTROL_THRESHOLD_FEN }
    }
}
