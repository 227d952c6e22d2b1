//! The dispute state machine, as data: which step may follow which state, and where each leads.
//!
//! REPORTED → ACCEPTED → ASSIGNED → MEDIATING → RESOLVED | UNRESOLVED; UNRESOLVED → ESCALATED (to arbitration, a
//! court or the petition office: out of mediation) or, escalated to the next level up, ACCEPTED again at that
//! level's region (community → township → district → city); RESOLVED and ESCALATED → CLOSED. A follow-up visit is
//! an event on a resolved case, not a state. Anything else is a `CONFLICT`.

use entities::dispute::{DisputeState as State, EscalationTarget};

use crate::error::ApiError;

/// A step of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Accept,
    Assign,
    Mediate,
    Resolve,
    MarkUnresolved,
    Escalate(EscalationTarget),
    Close,
    FollowUp,
}

impl Step {
    /// The step's name in errors and the audit trail.
    pub fn name(self) -> &'static str {
        match self {
            Step::Accept => "accept",
            Step::Assign => "assign",
            Step::Mediate => "record a mediation session on",
            Step::Resolve => "resolve",
            Step::MarkUnresolved => "mark unresolved",
            Step::Escalate(_) => "escalate",
            Step::Close => "close",
            Step::FollowUp => "follow up",
        }
    }
}

/// The state `step` leads to from `from`, or `CONFLICT` when the step is not allowed there. Escalating to the
/// next level leads to ACCEPTED (at the parent region); the caller checks that there is a level above.
pub fn next(from: State, step: Step) -> Result<State, ApiError> {
    use State::*;
    let to = match (from, step) {
        (Reported, Step::Accept) => Some(Accepted),
        // An assignment can be changed while mediation has not started.
        (Accepted | Assigned, Step::Assign) => Some(Assigned),
        (Assigned | Mediating, Step::Mediate) => Some(Mediating),
        (Mediating, Step::Resolve) => Some(Resolved),
        (Mediating, Step::MarkUnresolved) => Some(Unresolved),
        (Unresolved, Step::Escalate(EscalationTarget::NextLevel)) => Some(Accepted),
        (Unresolved, Step::Escalate(_)) => Some(Escalated),
        (Resolved | Escalated, Step::Close) => Some(Closed),
        (Resolved, Step::FollowUp) => Some(Resolved),
        (Closed, Step::FollowUp) => Some(Closed),
        _ => None,
    };
    to.ok_or_else(|| {
        ApiError::Conflict(format!("a {} dispute cannot be asked to {}", state_name(from), step.name()))
    })
}

/// Whether the case is still being worked on (its deadline can be overdue).
pub fn is_open(state: State) -> bool {
    matches!(state, State::Reported | State::Accepted | State::Assigned | State::Mediating)
}

fn state_name(state: State) -> &'static str {
    match state {
        State::Reported => "REPORTED",
        State::Accepted => "ACCEPTED",
        State::Assigned => "ASSIGNED",
        State::Mediating => "MEDIATING",
        State::Resolved => "RESOLVED",
        State::Unresolved => "UNRESOLVED",
        State::Escalated => "ESCALATED",
        State::Closed => "CLOSED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    const STEPS: [Step; 11] = [
        Step::Accept,
        Step::Assign,
        Step::Mediate,
        Step::Resolve,
        Step::MarkUnresolved,
        Step::Escalate(EscalationTarget::Arbitration),
        Step::Escalate(EscalationTarget::Court),
        Step::Escalate(EscalationTarget::PetitionOffice),
        Step::Escalate(EscalationTarget::NextLevel),
        Step::Close,
        Step::FollowUp,
    ];

    #[test]
    fn every_state_and_step_is_allowed_or_a_conflict() {
        let mut allowed = 0;
        for from in State::iter() {
            for step in STEPS {
                match next(from, step) {
                    Ok(_) => allowed += 1,
                    Err(err) => assert_eq!(err.code(), "CONFLICT", "{from:?} {step:?}"),
                }
            }
        }
        assert_eq!(allowed, 15);
    }

    #[test]
    fn the_happy_path_and_the_escalations() {
        let mut state = State::Reported;
        for step in [
            Step::Accept,
            Step::Assign,
            Step::Mediate,
            Step::Mediate,
            Step::Resolve,
            Step::FollowUp,
            Step::Close,
        ] {
            state = next(state, step).unwrap();
        }
        assert_eq!(state, State::Closed);
        assert_eq!(
            next(State::Unresolved, Step::Escalate(EscalationTarget::NextLevel)).unwrap(),
            State::Accepted
        );
        assert_eq!(
            next(State::Unresolved, Step::Escalate(EscalationTarget::Court)).unwrap(),
            State::Escalated
        );
        assert!(next(State::Reported, Step::Resolve).is_err());
        assert!(next(State::Closed, Step::Close).is_err());
        assert!(is_open(State::Mediating) && !is_open(State::Resolved));
    }
}
