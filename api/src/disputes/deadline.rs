//! Deadlines of a dispute's stages, in calendar days in Asia/Shanghai: a stage that began on local day D with a
//! limit of N days is due at the local midnight that ends day D + N. Accepting is due within 1 day of the report,
//! the first mediation session within 7 days of acceptance (or of re-acceptance after an escalation), resolution
//! within 30 days of the first session (each configurable).

use chrono::{DateTime, Duration, NaiveTime, Utc};
use clap::Args;
use entities::dispute::DisputeState;

/// China Standard Time's offset; Zhoushan keeps no daylight saving.
const LOCAL_OFFSET_HOURS: i64 = 8;

/// How many calendar days each stage may take. Each is a `govgraph serve` flag with an environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct DisputeDeadlines {
    /// Days within which a reported dispute must be accepted.
    #[arg(long = "dispute-accept-days", env = "GOVGRAPH_DISPUTE_ACCEPT_DAYS", default_value_t = 1)]
    pub accept_days: u16,
    /// Days within which an accepted dispute must have its first mediation session.
    #[arg(
        long = "dispute-first-mediation-days",
        env = "GOVGRAPH_DISPUTE_FIRST_MEDIATION_DAYS",
        default_value_t = 7
    )]
    pub first_mediation_days: u16,
    /// Days within which a dispute in mediation must be resolved (or marked unresolved).
    #[arg(long = "dispute-resolution-days", env = "GOVGRAPH_DISPUTE_RESOLUTION_DAYS", default_value_t = 30)]
    pub resolution_days: u16,
}

impl Default for DisputeDeadlines {
    fn default() -> Self {
        Self { accept_days: 1, first_mediation_days: 7, resolution_days: 30 }
    }
}

impl DisputeDeadlines {
    /// The days the stage that `state` is in may take; `None` for states without a deadline.
    pub fn days(&self, state: DisputeState) -> Option<u16> {
        match state {
            DisputeState::Reported => Some(self.accept_days),
            DisputeState::Accepted | DisputeState::Assigned => Some(self.first_mediation_days),
            DisputeState::Mediating => Some(self.resolution_days),
            _ => None,
        }
    }

    /// When the stage that `state` is in, begun at `began`, is due.
    pub fn due(&self, state: DisputeState, began: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.days(state).map(|days| due_at(began, days))
    }
}

/// The local midnight (Asia/Shanghai) that ends the `days`-th local day after the local day of `began`.
pub fn due_at(began: DateTime<Utc>, days: u16) -> DateTime<Utc> {
    let offset = Duration::hours(LOCAL_OFFSET_HOURS);
    let local_day = (began + offset).date_naive();
    let ends = local_day + Duration::days(i64::from(days) + 1);
    ends.and_time(NaiveTime::MIN).and_utc() - offset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_stage_is_due_at_the_local_midnight_ending_its_last_day() {
        // Reported on Monday 7 December 2026 at 10:00 local: accept by the end of Tuesday.
        assert_eq!(due_at(at("2026-12-07T10:00:00+08:00"), 1), at("2026-12-09T00:00:00+08:00"));
        // 23:59 local is still Monday; 00:00 local is already Tuesday.
        assert_eq!(due_at(at("2026-12-07T23:59:59+08:00"), 1), at("2026-12-09T00:00:00+08:00"));
        assert_eq!(due_at(at("2026-12-08T00:00:00+08:00"), 1), at("2026-12-10T00:00:00+08:00"));
        // 16:30 UTC is 00:30 local the next day.
        assert_eq!(due_at(at("2026-12-07T16:30:00Z"), 1), at("2026-12-10T00:00:00+08:00"));
        // Across the end of a month and a year.
        assert_eq!(due_at(at("2026-12-31T09:00:00+08:00"), 7), at("2027-01-08T00:00:00+08:00"));
        assert_eq!(due_at(at("2027-02-01T09:00:00+08:00"), 30), at("2027-03-04T00:00:00+08:00"));
    }

    #[test]
    fn each_open_stage_has_its_deadline() {
        let deadlines = DisputeDeadlines::default();
        let began = at("2026-12-07T10:00:00+08:00");
        assert_eq!(deadlines.due(DisputeState::Reported, began), Some(at("2026-12-09T00:00:00+08:00")));
        assert_eq!(deadlines.due(DisputeState::Assigned, began), Some(at("2026-12-15T00:00:00+08:00")));
        assert_eq!(deadlines.due(DisputeState::Mediating, began), Some(at("2027-01-07T00:00:00+08:00")));
        assert_eq!(deadlines.due(DisputeState::Resolved, began), None);
    }
}
