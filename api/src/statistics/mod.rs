//! Aggregated statistics: one entry point that counts or sums a measure grouped by region level, calendar
//! period (Asia/Shanghai) and the measure's own category, in the caller's scope, with disclosure control for
//! partners (see [`suppress`]).

pub mod measures;
pub mod query;
pub mod rollup;
pub mod suppress;

/// Smallest number of persons a partner may see in one cell of a sensitive measure, unless configured.
pub const DEFAULT_MIN_CELL: i64 = 5;

/// Disclosure-control settings, attached to the schema as data (`--stats-min-cell` / `GOVGRAPH_STATS_MIN_CELL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatisticsSettings {
    /// Cells counting 1..min_cell-1 persons are suppressed for partners.
    pub min_cell: i64,
}

impl Default for StatisticsSettings {
    fn default() -> Self {
        Self { min_cell: DEFAULT_MIN_CELL }
    }
}
