//! The assessment's six steps as a state machine: each step may follow only the one before it, taken once, in
//! order — APPLICATION → INVESTIGATION → JOINT_REVIEW → RATING → FEEDBACK → MEASURES; the assessment is complete
//! after MEASURES. Anything else (a step skipped, repeated or taken out of order, a step on a project that has
//! started) is a `CONFLICT`. A start may be recorded at any time (historical data, a unit that skipped the
//! assessment: the project is then flagged), except that a project rated HIGH starts only once every measure is
//! done.

use entities::stability_assessment::{AssessmentStep as Step, RiskRating};

use crate::error::ApiError;

/// The step that must come after `last` (the last one taken, `None` before the application); `None` once the
/// assessment is complete.
pub fn successor(last: Option<Step>) -> Option<Step> {
    match last {
        None => Some(Step::Application),
        Some(Step::Application) => Some(Step::Investigation),
        Some(Step::Investigation) => Some(Step::JointReview),
        Some(Step::JointReview) => Some(Step::Rating),
        Some(Step::Rating) => Some(Step::Feedback),
        Some(Step::Feedback) => Some(Step::Measures),
        Some(Step::Measures) => None,
    }
}

/// Whether `step` may be taken after `last`, on a project that has (`started`) or has not started.
pub fn check(last: Option<Step>, step: Step, started: bool) -> Result<(), ApiError> {
    if started {
        return Err(ApiError::Conflict(format!(
            "the project has started: its assessment can no longer take the {} step",
            step_name(step)
        )));
    }
    match successor(last) {
        Some(expected) if expected == step => Ok(()),
        Some(expected) => Err(ApiError::Conflict(format!(
            "the next step of this assessment is {}, not {}",
            step_name(expected),
            step_name(step)
        ))),
        None => Err(ApiError::Conflict(format!(
            "the assessment is complete: the {} step was taken already",
            step_name(step)
        ))),
    }
}

/// Whether the assessment whose last step is `last` is complete.
pub fn is_complete(last: Option<Step>) -> bool {
    last == Some(Step::Measures)
}

/// Whether a start may be recorded: not twice, and a project rated HIGH only once its assessment is complete and
/// every measure is done (`open_measures` of them are not).
pub fn check_start(
    already_started: bool,
    last: Option<Step>,
    rating: Option<RiskRating>,
    open_measures: u64,
) -> Result<(), ApiError> {
    if already_started {
        return Err(ApiError::Conflict("the project's start was recorded already".into()));
    }
    if rating == Some(RiskRating::High) && !is_complete(last) {
        return Err(ApiError::Conflict(
            "the project is rated HIGH risk: it starts only once its mitigation measures are set and done"
                .into(),
        ));
    }
    if rating == Some(RiskRating::High) && open_measures > 0 {
        return Err(ApiError::Conflict(format!(
            "the project is rated HIGH risk and {open_measures} of its mitigation measures are not done"
        )));
    }
    Ok(())
}

/// The step's name in errors and the audit trail.
pub fn step_name(step: Step) -> &'static str {
    match step {
        Step::Application => "APPLICATION",
        Step::Investigation => "INVESTIGATION",
        Step::JointReview => "JOINT_REVIEW",
        Step::Rating => "RATING",
        Step::Feedback => "FEEDBACK",
        Step::Measures => "MEASURES",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn each_step_follows_only_the_one_before_it() {
        let mut allowed = 0;
        let lasts = std::iter::once(None).chain(Step::iter().map(Some));
        for last in lasts {
            for step in Step::iter() {
                match check(last, step, false) {
                    Ok(()) => allowed += 1,
                    Err(err) => assert_eq!(err.code(), "CONFLICT", "{last:?} {step:?}"),
                }
                assert_eq!(check(last, step, true).unwrap_err().code(), "CONFLICT");
            }
        }
        assert_eq!(allowed, 6);
        let mut last = None;
        while let Some(step) = successor(last) {
            check(last, step, false).unwrap();
            last = Some(step);
        }
        assert!(is_complete(last));
    }

    #[test]
    fn a_high_risk_project_starts_only_with_its_measures_done() {
        assert!(check_start(false, None, None, 0).is_ok());
        assert!(check_start(false, Some(Step::Rating), Some(RiskRating::Medium), 0).is_ok());
        assert!(check_start(true, Some(Step::Measures), Some(RiskRating::Low), 0).is_err());
        assert!(check_start(false, Some(Step::Feedback), Some(RiskRating::High), 0).is_err());
        assert!(check_start(false, Some(Step::Measures), Some(RiskRating::High), 1).is_err());
        assert!(check_start(false, Some(Step::Measures), Some(RiskRating::High), 0).is_ok());
    }
}
