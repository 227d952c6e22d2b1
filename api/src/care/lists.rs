//! The filters and orderings of the top-level `careVisits` and `riskAssessments` lists, compiled by the shared
//! boolean-filter compiler ([`crate::filter`]).

use std::collections::BTreeSet;

use async_graphql::InputObject;
use entities::{care_subject, care_visit, risk_assessment};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition};

use super::visits::VisitKind;
use crate::error::ApiError;
use crate::filter::{BooleanFilter, FilterContext, check_search, contains_pattern, nothing};

/// Highest level of the national risk scale.
const MAX_RISK_LEVEL: i32 = 5;

/// Conditions on care visits. The fields of one filter combine with AND; `and`, `or` and `not` combine whole
/// filters. Region codes that do not exist match nothing.
#[derive(InputObject, Debug, Clone, Default)]
pub struct CareVisitFilter {
    /// Only visits of people whose grid lies in the region with this code (any level, e.g. 330902 for 定海区).
    pub in_region: Option<String>,
    /// Only visits of the person with this case code, e.g. CS0000123.
    pub subject_code: Option<String>,
    /// Only visits of this kind.
    pub kind: Option<VisitKind>,
    /// Only visits of one of these kinds (an empty list matches nothing).
    pub kind_in: Option<Vec<VisitKind>>,
    /// Only visits at or after this instant.
    pub from: Option<crate::scalars::Timestamp>,
    /// Only visits before this instant.
    pub to: Option<crate::scalars::Timestamp>,
    /// Only visits by a visitor whose name contains this text (1 to 64 characters); only for roles that see
    /// visitors' names in clear (`FORBIDDEN` otherwise).
    pub visitor: Option<String>,
    /// Only visits matching every one of these filters.
    pub and: Option<Vec<CareVisitFilter>>,
    /// Only visits matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<CareVisitFilter>>,
    /// Only visits not matching this filter.
    pub not: Option<Box<CareVisitFilter>>,
}

/// How to order a visit list: by when the visit took place, ties broken by the order visits were recorded.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct CareVisitOrder {
    /// Latest visits first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// Conditions on risk assessments. The fields of one filter combine with AND; `and`, `or` and `not` combine
/// whole filters. Region codes that do not exist match nothing.
#[derive(InputObject, Debug, Clone, Default)]
pub struct RiskAssessmentFilter {
    /// Only assessments of people whose grid lies in the region with this code (any level).
    pub in_region: Option<String>,
    /// Only assessments of the person with this case code, e.g. CS0000123.
    pub subject_code: Option<String>,
    /// Only assessments with a risk level of at least this (0–5). The level is sensitive: filtering by it needs
    /// a role with sensitive access and a stated purpose (`FORBIDDEN` otherwise).
    pub min_level: Option<i32>,
    /// Only assessments with a risk level of at most this (0–5); sensitive like `minLevel`.
    pub max_level: Option<i32>,
    /// Only assessments made on or after this day.
    pub assessed_from: Option<crate::scalars::Date>,
    /// Only assessments made on or before this day.
    pub assessed_to: Option<crate::scalars::Date>,
    /// Only assessments matching every one of these filters.
    pub and: Option<Vec<RiskAssessmentFilter>>,
    /// Only assessments matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<RiskAssessmentFilter>>,
    /// Only assessments not matching this filter.
    pub not: Option<Box<RiskAssessmentFilter>>,
}

/// How to order a risk-assessment list: by the day of the assessment, ties broken by the order assessments
/// were recorded.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct RiskAssessmentOrder {
    /// Newest assessments first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// Whether `filter` or any filter nested in it satisfies `test`.
pub fn uses<F: BooleanFilter>(filter: &F, test: &impl Fn(&F) -> bool) -> bool {
    test(filter)
        || filter.all_of().iter().any(|part| uses(part, test))
        || filter.any_of().unwrap_or_default().iter().any(|part| uses(part, test))
        || filter.none_of().is_some_and(|part| uses(part, test))
}

/// `SELECT id FROM care_subject WHERE code = <code>`.
fn subjects_with_code(code: &str) -> SelectStatement {
    Query::select()
        .column(care_subject::Column::Id)
        .from(care_subject::Entity)
        .and_where(care_subject::Column::Code.eq(code.trim()))
        .to_owned()
}

impl BooleanFilter for CareVisitFilter {
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
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(ApiError::bad_input(format!("{path}.to"), "must be after `from`"));
        }
        check_search(self.visitor.as_deref(), || format!("{path}.visitor"))?;
        check_search(self.subject_code.as_deref(), || format!("{path}.subjectCode"))?;
        if let Some(code) = &self.in_region {
            codes.insert(code.clone());
        }
        Ok(())
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.in_region {
            all = all.add(match context.path(code) {
                Some(path) => crate::scope::within::<care_visit::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(code) = &self.subject_code {
            all = all.add(care_visit::Column::SubjectId.in_subquery(subjects_with_code(code)));
        }
        if let Some(kind) = self.kind {
            all = all.add(care_visit::Column::Kind.eq(care_visit::VisitKind::from(kind)));
        }
        if let Some(kinds) = &self.kind_in {
            all = all.add(match kinds.as_slice() {
                [] => nothing(),
                kinds => Condition::all().add(
                    care_visit::Column::Kind
                        .is_in(kinds.iter().map(|&kind| care_visit::VisitKind::from(kind))),
                ),
            });
        }
        if let Some(from) = self.from {
            all = all.add(care_visit::Column::VisitedAt.gte(from));
        }
        if let Some(to) = self.to {
            all = all.add(care_visit::Column::VisitedAt.lt(to));
        }
        if let Some(visitor) = &self.visitor {
            // Searching a masked name would confirm what the mask hides; the resolver refuses it, and this
            // matches nothing should it ever get here.
            all = all.add(if context.names_visible {
                Condition::all().add(care_visit::Column::Visitor.like(contains_pattern(visitor.trim())))
            } else {
                nothing()
            });
        }
        all
    }
}

impl BooleanFilter for RiskAssessmentFilter {
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
        for (field, level) in [("minLevel", self.min_level), ("maxLevel", self.max_level)] {
            if let Some(level) = level
                && !(0..=MAX_RISK_LEVEL).contains(&level)
            {
                return Err(ApiError::bad_input(format!("{path}.{field}"), format!("0 to {MAX_RISK_LEVEL}")));
            }
        }
        if let (Some(min), Some(max)) = (self.min_level, self.max_level)
            && min > max
        {
            return Err(ApiError::bad_input(format!("{path}.maxLevel"), "below `minLevel`"));
        }
        if let (Some(from), Some(to)) = (self.assessed_from, self.assessed_to)
            && from > to
        {
            return Err(ApiError::bad_input(format!("{path}.assessedTo"), "before `assessedFrom`"));
        }
        check_search(self.subject_code.as_deref(), || format!("{path}.subjectCode"))?;
        if let Some(code) = &self.in_region {
            codes.insert(code.clone());
        }
        Ok(())
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.in_region {
            all = all.add(match context.path(code) {
                Some(path) => crate::scope::within::<risk_assessment::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(code) = &self.subject_code {
            all = all.add(risk_assessment::Column::SubjectId.in_subquery(subjects_with_code(code)));
        }
        if let Some(min) = self.min_level {
            all = all.add(risk_assessment::Column::Level.gte(min));
        }
        if let Some(max) = self.max_level {
            all = all.add(risk_assessment::Column::Level.lte(max));
        }
        if let Some(from) = self.assessed_from {
            all = all.add(risk_assessment::Column::AssessedOn.gte(from));
        }
        if let Some(to) = self.assessed_to {
            all = all.add(risk_assessment::Column::AssessedOn.lte(to));
        }
        all
    }
}

impl RiskAssessmentFilter {
    /// Whether this filter or a nested one conditions on the (sensitive) risk level.
    pub fn uses_level(&self) -> bool {
        uses(self, &|f: &Self| f.min_level.is_some() || f.max_level.is_some())
    }
}

impl CareVisitFilter {
    /// Whether this filter or a nested one searches visitors' names.
    pub fn uses_visitor(&self) -> bool {
        uses(self, &|f: &Self| f.visitor.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_literal() {
        use sea_orm::{DbBackend, EntityTrait, QueryFilter, QueryTrait};
        let text = care_visit::Entity::find()
            .filter(care_visit::Column::Visitor.like(contains_pattern("5%_!")))
            .build(DbBackend::Sqlite)
            .to_string();
        assert!(text.contains("LIKE '%5!%!_!!%' ESCAPE '!'"), "{text}");
    }

    #[test]
    fn nested_uses_are_found() {
        let filter = CareVisitFilter {
            or: Some(vec![
                CareVisitFilter::default(),
                CareVisitFilter {
                    not: Some(Box::new(CareVisitFilter {
                        visitor: Some("王".into()), ..Default::default()
                    })),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        assert!(filter.uses_visitor());
        assert!(!CareVisitFilter::default().uses_visitor());
        let levels = RiskAssessmentFilter {
            and: Some(vec![RiskAssessmentFilter { max_level: Some(2), ..Default::default() }]),
            ..Default::default()
        };
        assert!(levels.uses_level());
    }
}
