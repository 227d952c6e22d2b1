//! The typed filters and orders of the dispute and vessel lists.

use std::collections::BTreeSet;

use async_graphql::{Enum, InputObject};
use chrono::Utc;
use entities::dispute::{self, DisputeState as DbState};
use entities::{dispute_vessel, fishing_vessel};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

use super::types::{DisputeCategory, DisputeChannel, DisputeState, EscalationRisk};
use crate::error::ApiError;
use crate::filter::{BooleanFilter, FilterContext, nothing, prefix_pattern};

/// The open states: the case is still being worked on and its stage can be overdue.
pub const OPEN_STATES: [DbState; 4] =
    [DbState::Reported, DbState::Accepted, DbState::Assigned, DbState::Mediating];

/// Conditions on disputes. The fields given combine with AND; `and`, `or` and `not` nest further filters.
#[derive(InputObject, Debug, Default)]
pub struct DisputeFilter {
    /// Only disputes reported in the region with this code or below it, or handled there now (after an
    /// escalation); an unknown code matches nothing.
    pub in_region: Option<String>,
    /// Only disputes in this state.
    pub state: Option<DisputeState>,
    /// Only disputes in one of these states.
    pub state_in: Option<Vec<DisputeState>>,
    /// Only open disputes (reported, accepted, assigned or in mediation: true) or only finished ones (false).
    pub open: Option<bool>,
    /// Only disputes whose current stage is past its due time (true), or not (false).
    pub overdue: Option<bool>,
    /// Only disputes of this category.
    pub category: Option<DisputeCategory>,
    /// Only disputes that came in through this channel.
    pub channel: Option<DisputeChannel>,
    /// Only disputes at least this likely to escalate.
    pub min_risk: Option<EscalationRisk>,
    /// Only disputes assigned to the mediator with this code.
    pub assignee_code: Option<String>,
    /// Only disputes assigned to the mediation boat with this code.
    pub boat_code: Option<String>,
    /// Only disputes involving the fishing vessel with this registration number.
    pub vessel_registration_no: Option<String>,
    /// Only disputes at sea (a sea area was recorded: true) or on land (false).
    pub at_sea: Option<bool>,
    /// Only disputes reported at or after this instant.
    pub reported_from: Option<crate::scalars::Timestamp>,
    /// Only disputes reported before this instant.
    pub reported_to: Option<crate::scalars::Timestamp>,
    /// Only disputes resolved at or after this instant.
    pub resolved_from: Option<crate::scalars::Timestamp>,
    /// Only disputes resolved before this instant.
    pub resolved_to: Option<crate::scalars::Timestamp>,
    /// Disputes whose code starts with this text.
    pub search: Option<String>,
    /// Every one of these filters holds.
    pub and: Option<Vec<DisputeFilter>>,
    /// At least one of these filters holds (an empty list matches nothing).
    pub or: Option<Vec<DisputeFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<DisputeFilter>>,
}

fn risk_rank(risk: dispute::EscalationRisk) -> u8 {
    match risk {
        dispute::EscalationRisk::Low => 0,
        dispute::EscalationRisk::Medium => 1,
        dispute::EscalationRisk::High => 2,
        dispute::EscalationRisk::Critical => 3,
    }
}

impl BooleanFilter for DisputeFilter {
    fn all_of(&self) -> &[Self] {
        self.and.as_deref().unwrap_or_default()
    }

    fn any_of(&self) -> Option<&[Self]> {
        self.or.as_deref()
    }

    fn none_of(&self) -> Option<&Self> {
        self.not.as_deref()
    }

    fn check_fields(&self, path: &str, codes: &mut BTreeSet<String>) -> Result<(), ApiError> {
        if let Some(code) = &self.in_region {
            codes.insert(crate::validate::code(&format!("{path}.inRegion"), code)?.to_owned());
        }
        for (field, value) in [
            ("assigneeCode", &self.assignee_code),
            ("boatCode", &self.boat_code),
            ("vesselRegistrationNo", &self.vessel_registration_no),
        ] {
            if let Some(value) = value {
                crate::validate::code(&format!("{path}.{field}"), value)?;
            }
        }
        crate::filter::check_search(self.search.as_deref(), || format!("{path}.search"))?;
        Ok(())
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.in_region {
            all = all.add(match context.path(code) {
                Some(path) => crate::scope::within::<dispute::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(state) = self.state {
            all = all.add(dispute::Column::State.eq(DbState::from(state)));
        }
        if let Some(states) = &self.state_in {
            all = all.add(dispute::Column::State.is_in(states.iter().map(|state| DbState::from(*state))));
        }
        if let Some(open) = self.open {
            let open_states = dispute::Column::State.is_in(OPEN_STATES);
            all = all.add(if open {
                open_states
            } else {
                Expr::col(dispute::Column::State).is_not_in(OPEN_STATES)
            });
        }
        if let Some(overdue) = self.overdue {
            let late = Condition::all()
                .add(dispute::Column::State.is_in(OPEN_STATES))
                .add(dispute::Column::DueAt.lt(Utc::now()));
            all = all.add(if overdue { late } else { late.not() });
        }
        if let Some(category) = self.category {
            all = all.add(dispute::Column::Category.eq(dispute::DisputeCategory::from(category)));
        }
        if let Some(channel) = self.channel {
            all = all.add(dispute::Column::Channel.eq(dispute::DisputeChannel::from(channel)));
        }
        if let Some(min_risk) = self.min_risk {
            let floor = risk_rank(min_risk.into());
            let risks: Vec<dispute::EscalationRisk> = [
                dispute::EscalationRisk::Low,
                dispute::EscalationRisk::Medium,
                dispute::EscalationRisk::High,
                dispute::EscalationRisk::Critical,
            ]
            .into_iter()
            .filter(|risk| risk_rank(*risk) >= floor)
            .collect();
            all = all.add(dispute::Column::EscalationRisk.is_in(risks));
        }
        if let Some(code) = &self.assignee_code {
            let mediators = Query::select()
                .column(entities::mediator::Column::Id)
                .from(entities::mediator::Entity)
                .and_where(entities::mediator::Column::Code.eq(code.trim()))
                .to_owned();
            all = all.add(dispute::Column::AssigneeMediatorId.in_subquery(mediators));
        }
        if let Some(code) = &self.boat_code {
            let boats = Query::select()
                .column(entities::mediation_boat::Column::Id)
                .from(entities::mediation_boat::Entity)
                .and_where(entities::mediation_boat::Column::Code.eq(code.trim()))
                .to_owned();
            all = all.add(dispute::Column::AssigneeBoatId.in_subquery(boats));
        }
        if let Some(registration) = &self.vessel_registration_no {
            let vessels = Query::select()
                .column(fishing_vessel::Column::Id)
                .from(fishing_vessel::Entity)
                .and_where(fishing_vessel::Column::RegistrationNo.eq(registration.trim()))
                .to_owned();
            let disputes = Query::select()
                .column(dispute_vessel::Column::DisputeId)
                .from(dispute_vessel::Entity)
                .and_where(dispute_vessel::Column::VesselId.in_subquery(vessels))
                .to_owned();
            all = all.add(dispute::Column::Id.in_subquery(disputes));
        }
        if let Some(at_sea) = self.at_sea {
            all = all.add(if at_sea {
                dispute::Column::SeaArea.is_not_null()
            } else {
                dispute::Column::SeaArea.is_null()
            });
        }
        if let Some(from) = self.reported_from {
            all = all.add(dispute::Column::ReportedAt.gte(from));
        }
        if let Some(to) = self.reported_to {
            all = all.add(dispute::Column::ReportedAt.lt(to));
        }
        if let Some(from) = self.resolved_from {
            all = all.add(dispute::Column::ResolvedAt.gte(from));
        }
        if let Some(to) = self.resolved_to {
            all = all.add(dispute::Column::ResolvedAt.lt(to));
        }
        if let Some(search) = &self.search {
            all = all.add(dispute::Column::Code.like(prefix_pattern(&search.to_uppercase())));
        }
        all
    }

    fn confining_region(&self) -> Option<&str> {
        self.in_region.as_deref()
    }
}

/// What to sort disputes by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DisputeOrderField {
    /// When they were reported.
    ReportedAt,
    /// When their current stage is due (open cases first by urgency).
    DueAt,
}

/// A sort order for disputes; ties are broken by the order of reporting.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct DisputeOrder {
    /// The field to sort by.
    pub field: DisputeOrderField,
    /// Largest first.
    #[graphql(default = false)]
    pub descending: bool,
}

/// Conditions on fishing vessels (all combine with AND).
#[derive(InputObject, Debug, Default)]
pub struct FishingVesselFilter {
    /// Only vessels whose home port lies in the region with this code or below it.
    pub in_region: Option<String>,
    /// Only vessels with at least this many safety stars.
    pub min_stars: Option<i32>,
    /// Vessels whose registration number starts with this text.
    pub search: Option<String>,
}
