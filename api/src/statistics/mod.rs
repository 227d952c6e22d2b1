//! Aggregated statistics: one entry point that counts or sums a measure grouped by region level, calendar
//! period (Asia/Shanghai) and the measure's own category, in the caller's scope, with disclosure control for
//! partners (see [`suppress`]).

pub mod measures;
pub mod query;
pub mod suppress;

/// Smallest number of persons a partner may see in one cell of a sensitive measure, unless configured.
pub const DEFAULT_MIN_CELL: i64 = 5;

/// Disclosure-control settings: schema data when the server attaches them, else `GOVGRAPH_STATS_MIN_CELL`.
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

impl StatisticsSettings {
    /// The settings from `GOVGRAPH_STATS_MIN_CELL` (an integer ≥ 2), else the default; read once per process.
    pub fn from_env() -> Self {
        static FROM_ENV: std::sync::OnceLock<StatisticsSettings> = std::sync::OnceLock::new();
        *FROM_ENV.get_or_init(Self::read_env)
    }

    fn read_env() -> Self {
        let min_cell = std::env::var("GOVGRAPH_STATS_MIN_CELL")
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .filter(|k| *k >= 2)
            .unwrap_or(DEFAULT_MIN_CELL);
        Self { min_cell }
    }
}
