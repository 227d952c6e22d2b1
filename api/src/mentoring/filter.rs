//! The filter inputs of the `mentors` and `mentorships` connections, compiled into one SQL condition by the
//! shared boolean-filter compiler ([`crate::filter`]), which resolves the region codes a filter names in a single
//! statement.

use std::collections::BTreeSet;

use async_graphql::InputObject;
use entities::{mentor, mentoring_outcome, mentorship};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection};

use super::types::{MentorshipStatus, OutcomeKind};
use crate::auth::FieldClass;
use crate::auth::viewer::Access;
use crate::directory::RegionDirectory;
use crate::error::ApiError;
use crate::filter::{BooleanFilter, FilterContext, compile, nothing, prefix_pattern};

/// Conditions on mentors. The fields given combine with AND; `and`, `or` and `not` nest further filters.
#[derive(InputObject, Debug, Default)]
pub struct MentorFilter {
    /// Only mentors attached to the region with this code or below it; an unknown code matches nothing.
    pub in_region: Option<String>,
    /// Only mentors who currently take on young people (true) or who do not (false).
    pub active: Option<bool>,
    /// Only mentors with exactly this occupation, e.g. 教师.
    pub occupation: Option<String>,
    /// Mentors whose code starts with this text, or (for roles that see names in clear) whose name does.
    pub search: Option<String>,
    /// Every one of these filters holds.
    pub and: Option<Vec<MentorFilter>>,
    /// At least one of these filters holds (an empty list matches nothing).
    pub or: Option<Vec<MentorFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<MentorFilter>>,
}

/// Conditions on mentorships. The fields given combine with AND; `and`, `or` and `not` nest further filters.
#[derive(InputObject, Debug, Default)]
pub struct MentorshipFilter {
    /// Only pairings whose young person lives in the region with this code or below it; unknown codes match nothing.
    pub in_region: Option<String>,
    /// Only pairings with this status.
    pub status: Option<MentorshipStatus>,
    /// Only pairings that started on or after this day.
    pub started_from: Option<crate::scalars::Date>,
    /// Only pairings that started on or before this day.
    pub started_to: Option<crate::scalars::Date>,
    /// Only pairings that achieved at least one outcome of this kind.
    pub has_outcome: Option<OutcomeKind>,
    /// Every one of these filters holds.
    pub and: Option<Vec<MentorshipFilter>>,
    /// At least one of these filters holds (an empty list matches nothing).
    pub or: Option<Vec<MentorshipFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<MentorshipFilter>>,
}

impl BooleanFilter for MentorFilter {
    fn all_of(&self) -> &[Self] {
        self.and.as_deref().unwrap_or_default()
    }

    fn any_of(&self) -> Option<&[Self]> {
        self.or.as_deref()
    }

    fn none_of(&self) -> Option<&Self> {
        self.not.as_deref()
    }

    fn check_fields(&self, _path: &str, codes: &mut BTreeSet<String>) -> Result<(), ApiError> {
        codes.extend(self.in_region.iter().cloned());
        Ok(())
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.in_region {
            all = all.add(match context.path(code) {
                Some(path) => crate::scope::within::<mentor::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(active) = self.active {
            all = all.add(mentor::Column::Active.eq(active));
        }
        if let Some(occupation) = &self.occupation {
            all = all.add(mentor::Column::Occupation.eq(occupation.as_str()));
        }
        if let Some(search) = &self.search {
            // Codes are upper-case; upper-casing the search makes the match case-insensitive on every backend.
            let mut any =
                Condition::any().add(mentor::Column::Code.like(prefix_pattern(&search.to_uppercase())));
            if context.names_visible {
                any = any.add(mentor::Column::Name.like(prefix_pattern(search)));
            }
            all = all.add(any);
        }
        all
    }
}

impl BooleanFilter for MentorshipFilter {
    fn all_of(&self) -> &[Self] {
        self.and.as_deref().unwrap_or_default()
    }

    fn any_of(&self) -> Option<&[Self]> {
        self.or.as_deref()
    }

    fn none_of(&self) -> Option<&Self> {
        self.not.as_deref()
    }

    fn check_fields(&self, _path: &str, codes: &mut BTreeSet<String>) -> Result<(), ApiError> {
        codes.extend(self.in_region.iter().cloned());
        Ok(())
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.in_region {
            all = all.add(match context.path(code) {
                Some(path) => crate::scope::within::<mentorship::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(status) = self.status {
            all = all.add(mentorship::Column::Status.eq(mentorship::MentorshipStatus::from(status)));
        }
        if let Some(from) = self.started_from {
            all = all.add(mentorship::Column::StartedOn.gte(from));
        }
        if let Some(to) = self.started_to {
            all = all.add(mentorship::Column::StartedOn.lte(to));
        }
        if let Some(kind) = self.has_outcome {
            let outcomes = Query::select()
                .expr(Expr::val(1))
                .from(mentoring_outcome::Entity)
                .and_where(
                    Expr::col((mentoring_outcome::Entity, mentoring_outcome::Column::MentorshipId))
                        .equals((mentorship::Entity, mentorship::Column::Id)),
                )
                .and_where(mentoring_outcome::Column::Kind.eq(mentoring_outcome::OutcomeKind::from(kind)))
                .to_owned();
            all = all.add(Expr::exists(outcomes));
        }
        all
    }
}

/// The SQL condition of a mentor filter. `access` decides whether `search` also matches names.
pub async fn mentor_condition(
    db: &DatabaseConnection,
    regions: &RegionDirectory,
    access: &Access,
    filter: &MentorFilter,
) -> Result<Condition, ApiError> {
    compile(db, regions, filter, "filter", access.fields >= FieldClass::Personal).await
}

/// The SQL condition of a mentorship filter.
pub async fn mentorship_condition(
    db: &DatabaseConnection,
    regions: &RegionDirectory,
    filter: &MentorshipFilter,
) -> Result<Condition, ApiError> {
    compile(db, regions, filter, "filter", false).await
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use sea_orm::{DbBackend, EntityTrait, QueryFilter, QueryTrait};

    use super::*;

    fn sql(condition: Condition) -> String {
        mentor::Entity::find().filter(condition).build(DbBackend::Sqlite).to_string()
    }

    fn context(names_visible: bool) -> FilterContext {
        FilterContext { paths: HashMap::new(), names_visible }
    }

    #[test]
    fn fields_compile_to_conditions() {
        let filter = MentorFilter {
            active: Some(true),
            occupation: Some("教师".into()),
            in_region: Some("999999".into()),
            ..Default::default()
        };
        let text = sql(filter.fields_condition(&context(true)));
        assert!(text.contains(r#""mentor"."active" = TRUE"#), "{text}");
        assert!(text.contains(r#""mentor"."occupation" = '教师'"#), "{text}");
        assert!(text.contains("1 = 0"), "an unknown region matches nothing: {text}");
    }

    #[test]
    fn names_are_searched_only_in_clear() {
        let filter = MentorFilter { search: Some("王".into()), ..Default::default() };
        assert!(sql(filter.fields_condition(&context(true))).contains(r#""mentor"."name" LIKE"#));
        assert!(!sql(filter.fields_condition(&context(false))).contains(r#""mentor"."name" LIKE"#));
    }

    #[test]
    fn search_patterns_are_literal() {
        let text = sql(Condition::all().add(mentor::Column::Code.like(prefix_pattern("M0_%!"))));
        assert!(text.contains(r"LIKE 'M0!_!%!!%' ESCAPE '!'"), "{text}");
    }
}
