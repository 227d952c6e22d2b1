//! The typed filters of the project and unit lists.

use std::collections::BTreeSet;

use async_graphql::InputObject;
use entities::{major_project, mitigation_measure, responsible_unit, stability_assessment};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition};

use super::types::{AssessmentStep, ProjectKind, RiskRating};
use crate::error::ApiError;
use crate::filter::{BooleanFilter, FilterContext, nothing, prefix_pattern};

/// Conditions on major projects. The fields given combine with AND; `and`, `or` and `not` nest further filters.
#[derive(InputObject, Debug, Default)]
pub struct MajorProjectFilter {
    /// Only projects in the region with this code or below it; an unknown code matches nothing.
    pub in_region: Option<String>,
    /// Only projects whose assessment's last step taken is this one.
    pub step: Option<AssessmentStep>,
    /// Only projects rated this risk.
    pub rating: Option<RiskRating>,
    /// Only projects whose assessment is complete (true), or not complete or not begun (false).
    pub assessment_complete: Option<bool>,
    /// Only projects of the responsible unit with this code.
    pub unit_code: Option<String>,
    /// Only projects of this kind.
    pub kind: Option<ProjectKind>,
    /// Only projects with a mitigation measure past its deadline and not done (true), or without one (false).
    pub overdue_measures: Option<bool>,
    /// Only projects whose start was recorded before their assessment was complete (true), or not (false).
    pub started_without_assessment: Option<bool>,
    /// Only projects whose start was recorded (true), or not yet (false).
    pub started: Option<bool>,
    /// Projects whose code starts with this text.
    pub search: Option<String>,
    /// Every one of these filters holds.
    pub and: Option<Vec<MajorProjectFilter>>,
    /// At least one of these filters holds (an empty list matches nothing).
    pub or: Option<Vec<MajorProjectFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<MajorProjectFilter>>,
}

/// `SELECT project_id FROM stability_assessment WHERE <condition>`.
fn assessed_where(condition: Condition) -> SelectStatement {
    Query::select()
        .column(stability_assessment::Column::ProjectId)
        .from(stability_assessment::Entity)
        .cond_where(condition)
        .to_owned()
}

/// The projects with a measure past its deadline and not done.
fn with_overdue_measures() -> SelectStatement {
    let late = Query::select()
        .column(mitigation_measure::Column::AssessmentId)
        .from(mitigation_measure::Entity)
        .cond_where(super::loader::overdue_measures())
        .to_owned();
    assessed_where(Condition::all().add(stability_assessment::Column::Id.in_subquery(late)))
}

impl BooleanFilter for MajorProjectFilter {
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
        if let Some(code) = &self.unit_code {
            crate::validate::code(&format!("{path}.unitCode"), code)?;
        }
        crate::filter::check_search(self.search.as_deref(), || format!("{path}.search"))?;
        Ok(())
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.in_region {
            all = all.add(match context.path(code) {
                Some(path) => crate::scope::within::<major_project::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(step) = self.step {
            let step = entities::stability_assessment::AssessmentStep::from(step);
            let assessed = assessed_where(Condition::all().add(stability_assessment::Column::Step.eq(step)));
            all = all.add(major_project::Column::Id.in_subquery(assessed));
        }
        if let Some(rating) = self.rating {
            let rating = entities::stability_assessment::RiskRating::from(rating);
            let rated = assessed_where(Condition::all().add(stability_assessment::Column::Rating.eq(rating)));
            all = all.add(major_project::Column::Id.in_subquery(rated));
        }
        if let Some(complete) = self.assessment_complete {
            let done = entities::stability_assessment::AssessmentStep::Measures;
            let completed = assessed_where(Condition::all().add(stability_assessment::Column::Step.eq(done)));
            all = all.add(if complete {
                major_project::Column::Id.in_subquery(completed)
            } else {
                major_project::Column::Id.not_in_subquery(completed)
            });
        }
        if let Some(code) = &self.unit_code {
            let units = Query::select()
                .column(responsible_unit::Column::Id)
                .from(responsible_unit::Entity)
                .and_where(responsible_unit::Column::Code.eq(code.trim()))
                .to_owned();
            all = all.add(major_project::Column::UnitId.in_subquery(units));
        }
        if let Some(kind) = self.kind {
            all = all.add(major_project::Column::Kind.eq(major_project::ProjectKind::from(kind)));
        }
        if let Some(overdue) = self.overdue_measures {
            all = all.add(if overdue {
                major_project::Column::Id.in_subquery(with_overdue_measures())
            } else {
                major_project::Column::Id.not_in_subquery(with_overdue_measures())
            });
        }
        if let Some(flagged) = self.started_without_assessment {
            all = all.add(major_project::Column::StartedWithoutAssessment.eq(flagged));
        }
        if let Some(started) = self.started {
            all = all.add(if started {
                major_project::Column::StartedOn.is_not_null()
            } else {
                Expr::col(major_project::Column::StartedOn).is_null()
            });
        }
        if let Some(search) = &self.search {
            all = all.add(major_project::Column::Code.like(prefix_pattern(&search.trim().to_uppercase())));
        }
        all
    }

    fn confining_region(&self) -> Option<&str> {
        self.in_region.as_deref()
    }
}

/// Conditions on responsible units (all combine with AND).
#[derive(InputObject, Debug, Default)]
pub struct ResponsibleUnitFilter {
    /// Only units of the region with this code or below it; an unknown code matches nothing.
    pub in_region: Option<String>,
    /// Only units vetoed in this evaluation year.
    pub vetoed_in: Option<i32>,
    /// Only units vetoed in any year (true), or never (false).
    pub vetoed: Option<bool>,
}
