//! Aggregated statistics: one entry point that counts or sums a measure grouped by region level, calendar
//! period (Asia/Shanghai) and the measure's own category, in the caller's scope, with disclosure control for
//! partners: the cell key method over each partner's complete cube (see [`cell_key`], [`cube`], [`partner`]).

pub mod cell_key;
pub mod cube;
pub mod grid;
pub mod measures;
pub mod partner;
pub mod query;
pub mod rollup;
pub mod rules;

/// Smallest number of persons a partner may see in one cell of a sensitive measure, unless configured.
pub const DEFAULT_MIN_CELL: i64 = 5;

/// Disclosure-control settings, attached to the schema as data (`--stats-min-cell` / `GOVGRAPH_STATS_MIN_CELL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatisticsSettings {
    /// Cells counting fewer persons (none included) are suppressed for partners.
    pub min_cell: i64,
    /// The largest noise added to a partner's figure: persons for counts, percent for amounts and hours.
    pub max_noise: i64,
}

impl Default for StatisticsSettings {
    fn default() -> Self {
        Self { min_cell: DEFAULT_MIN_CELL, max_noise: cell_key::DEFAULT_MAX_NOISE }
    }
}
