//! The filter inputs of the `mentors` and `mentorships` connections, compiled recursively into one SQL
//! condition. The region codes a filter names are resolved in a single statement before compiling.

use std::collections::HashMap;

use async_graphql::InputObject;
use chrono::NaiveDate;
use entities::{mentor, mentoring_outcome, mentorship, region};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use super::scope::mentee_in_subtree;
use super::types::{MentorshipStatus, OutcomeKind};
use crate::auth::FieldClass;
use crate::auth::viewer::{Access, in_subtree};
use crate::error::ApiError;

/// Most filter objects one argument may nest.
pub const MAX_FILTER_NODES: usize = 64;
/// Deepest nesting of `and`/`or`/`not`.
pub const MAX_FILTER_DEPTH: usize = 8;

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
    pub started_from: Option<NaiveDate>,
    /// Only pairings that started on or before this day.
    pub started_to: Option<NaiveDate>,
    /// Only pairings that achieved at least one outcome of this kind.
    pub has_outcome: Option<OutcomeKind>,
    /// Every one of these filters holds.
    pub and: Option<Vec<MentorshipFilter>>,
    /// At least one of these filters holds (an empty list matches nothing).
    pub or: Option<Vec<MentorshipFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<MentorshipFilter>>,
}

/// What the recursive compiler needs to know about a filter input.
trait BoolFilter: Sized {
    fn and(&self) -> &[Self];
    fn or(&self) -> Option<&[Self]>;
    fn not(&self) -> Option<&Self>;
    fn in_region(&self) -> Option<&str>;
}

impl BoolFilter for MentorFilter {
    fn and(&self) -> &[Self] {
        self.and.as_deref().unwrap_or_default()
    }
    fn or(&self) -> Option<&[Self]> {
        self.or.as_deref()
    }
    fn not(&self) -> Option<&Self> {
        self.not.as_deref()
    }
    fn in_region(&self) -> Option<&str> {
        self.in_region.as_deref()
    }
}

impl BoolFilter for MentorshipFilter {
    fn and(&self) -> &[Self] {
        self.and.as_deref().unwrap_or_default()
    }
    fn or(&self) -> Option<&[Self]> {
        self.or.as_deref()
    }
    fn not(&self) -> Option<&Self> {
        self.not.as_deref()
    }
    fn in_region(&self) -> Option<&str> {
        self.in_region.as_deref()
    }
}

fn children<F: BoolFilter>(filter: &F) -> impl Iterator<Item = &F> {
    filter.and().iter().chain(filter.or().unwrap_or_default()).chain(filter.not())
}

/// Refuses filters that are too large or too deep, and collects the region codes they name.
fn walk<'a, F: BoolFilter>(
    filter: &'a F,
    depth: usize,
    nodes: &mut usize,
    codes: &mut Vec<&'a str>,
) -> Result<(), ApiError> {
    *nodes += 1;
    if depth > MAX_FILTER_DEPTH {
        return Err(ApiError::bad_input(
            "filter",
            format!("nested more than {MAX_FILTER_DEPTH} levels deep"),
        ));
    }
    if *nodes > MAX_FILTER_NODES {
        return Err(ApiError::bad_input("filter", format!("more than {MAX_FILTER_NODES} filter objects")));
    }
    codes.extend(filter.in_region());
    for child in children(filter) {
        walk(child, depth + 1, nodes, codes)?;
    }
    Ok(())
}

/// Materialized paths of the regions a filter names, by code (unknown codes are absent). One statement, none
/// when the filter names no region. Unscoped: the compiled condition is always ANDed with the caller's scope.
async fn region_paths<F: BoolFilter>(
    db: &DatabaseConnection,
    filter: &F,
) -> Result<HashMap<String, String>, ApiError> {
    let mut codes = Vec::new();
    walk(filter, 0, &mut 0, &mut codes)?;
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = region::Entity::find()
        .filter(region::Column::Code.is_in(codes.iter().map(|code| (*code).to_owned())))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.code, row.path)).collect())
}

/// A condition that always holds (`true`) or never does.
fn constant(value: bool) -> Condition {
    Condition::all().add(Expr::cust(if value { "1 = 1" } else { "1 = 0" }))
}

/// Compiles a filter: its own conditions (from `leaf`), its `and` list, its `or` list and its `not`, all ANDed.
/// Every condition produced is non-empty, so nesting and negation never meet an empty group.
fn compile<F: BoolFilter>(filter: &F, leaf: &impl Fn(&F) -> Vec<Condition>) -> Condition {
    let mut parts = leaf(filter);
    parts.extend(filter.and().iter().map(|child| compile(child, leaf)));
    if let Some(any_of) = filter.or() {
        parts.push(match any_of {
            [] => constant(false),
            _ => any_of.iter().fold(Condition::any(), |any, child| any.add(compile(child, leaf))),
        });
    }
    if let Some(negated) = filter.not() {
        parts.push(compile(negated, leaf).not());
    }
    if parts.is_empty() {
        return constant(true);
    }
    parts.into_iter().fold(Condition::all(), |all, part| all.add(part))
}

/// `text%` as a LIKE pattern that matches `text` literally.
fn prefix_pattern(text: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '!' | '%' | '_') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('!')
}

/// The SQL condition of a mentor filter. `access` decides whether `search` also matches names.
pub async fn mentor_condition(
    db: &DatabaseConnection,
    access: &Access,
    filter: &MentorFilter,
) -> Result<Condition, ApiError> {
    let paths = region_paths(db, filter).await?;
    let names_in_clear = access.fields >= FieldClass::Personal;
    let leaf = |f: &MentorFilter| {
        let mut parts = Vec::new();
        if let Some(code) = &f.in_region {
            parts.push(match paths.get(code) {
                Some(path) => in_subtree(mentor::Column::RegionId, path),
                None => constant(false),
            });
        }
        if let Some(active) = f.active {
            parts.push(Condition::all().add(mentor::Column::Active.eq(active)));
        }
        if let Some(occupation) = &f.occupation {
            parts.push(Condition::all().add(mentor::Column::Occupation.eq(occupation.as_str())));
        }
        if let Some(search) = &f.search {
            // Codes are upper-case; upper-casing the search makes the match case-insensitive on every backend.
            let mut any =
                Condition::any().add(mentor::Column::Code.like(prefix_pattern(&search.to_uppercase())));
            if names_in_clear {
                any = any.add(mentor::Column::Name.like(prefix_pattern(search)));
            }
            parts.push(any);
        }
        parts
    };
    Ok(compile(filter, &leaf))
}

/// The SQL condition of a mentorship filter.
pub async fn mentorship_condition(
    db: &DatabaseConnection,
    filter: &MentorshipFilter,
) -> Result<Condition, ApiError> {
    let paths = region_paths(db, filter).await?;
    let leaf = |f: &MentorshipFilter| {
        let mut parts = Vec::new();
        if let Some(code) = &f.in_region {
            parts.push(match paths.get(code) {
                Some(path) => mentee_in_subtree(path),
                None => constant(false),
            });
        }
        if let Some(status) = f.status {
            let status = mentorship::MentorshipStatus::from(status);
            parts.push(Condition::all().add(mentorship::Column::Status.eq(status)));
        }
        if let Some(from) = f.started_from {
            parts.push(Condition::all().add(mentorship::Column::StartedOn.gte(from)));
        }
        if let Some(to) = f.started_to {
            parts.push(Condition::all().add(mentorship::Column::StartedOn.lte(to)));
        }
        if let Some(kind) = f.has_outcome {
            let outcomes = Query::select()
                .expr(Expr::val(1))
                .from(mentoring_outcome::Entity)
                .and_where(
                    Expr::col((mentoring_outcome::Entity, mentoring_outcome::Column::MentorshipId))
                        .equals((mentorship::Entity, mentorship::Column::Id)),
                )
                .and_where(mentoring_outcome::Column::Kind.eq(mentoring_outcome::OutcomeKind::from(kind)))
                .to_owned();
            parts.push(Condition::all().add(Expr::exists(outcomes)));
        }
        parts
    };
    Ok(compile(filter, &leaf))
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;

    fn sql(condition: Condition) -> String {
        mentor::Entity::find().filter(condition).build(DbBackend::Sqlite).to_string()
    }

    #[test]
    fn nesting_compiles_to_grouped_conditions() {
        let leaf = |f: &MentorFilter| {
            f.active.map(|a| Condition::all().add(mentor::Column::Active.eq(a))).into_iter().collect()
        };
        let filter = MentorFilter {
            or: Some(vec![
                MentorFilter { active: Some(true), ..Default::default() },
                MentorFilter { not: Some(Box::new(MentorFilter::default())), ..Default::default() },
            ]),
            ..Default::default()
        };
        let text = sql(compile(&filter, &leaf));
        assert!(text.contains(r#""mentor"."active" = TRUE OR (NOT (1 = 1))"#), "{text}");
        let empty_or = MentorFilter { or: Some(vec![]), ..Default::default() };
        assert!(sql(compile(&empty_or, &leaf)).ends_with("WHERE 1 = 0"));
        assert!(sql(compile(&MentorFilter::default(), &leaf)).ends_with("WHERE 1 = 1"));
    }

    #[test]
    fn search_patterns_are_literal() {
        let text = sql(Condition::all().add(mentor::Column::Code.like(prefix_pattern("M0_%!"))));
        assert!(text.contains(r"LIKE 'M0!_!%!!%' ESCAPE '!'"), "{text}");
    }

    #[test]
    fn oversized_filters_are_refused() {
        let mut deep = MentorFilter::default();
        for _ in 0..=MAX_FILTER_DEPTH {
            deep = MentorFilter { not: Some(Box::new(deep)), ..Default::default() };
        }
        assert!(walk(&deep, 0, &mut 0, &mut Vec::new()).is_err());
        let wide = MentorFilter {
            and: Some((0..MAX_FILTER_NODES).map(|_| MentorFilter::default()).collect()),
            ..Default::default()
        };
        assert!(walk(&wide, 0, &mut 0, &mut Vec::new()).is_err());
    }
}
