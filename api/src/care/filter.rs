//! `CareSubjectFilter`: a boolean filter over care subjects, validated and compiled into one SQL condition.
//!
//! Compilation is in two steps so that the number of statements never depends on the filter's shape: a
//! validation pass collects every region code (looked up in one statement), then a pure recursive pass builds
//! the `Condition`.

use std::collections::{BTreeSet, HashMap};

use async_graphql::InputObject;
use chrono::{NaiveDate, TimeDelta};
use entities::{care_subject, care_visit};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection};

use super::types::{CareCategory, SubjectStatus};
use crate::directory::RegionDirectory;
use crate::error::ApiError;
use crate::filter::{MAX_SEARCH_CHARS, contains_pattern, nothing, prefix_pattern};

/// How deeply `and`/`or`/`not` may nest.
const MAX_DEPTH: usize = 8;
/// How many filter objects one filter may hold in all.
const MAX_NODES: usize = 64;

/// Conditions on care subjects. The fields of one filter combine with AND; `and`, `or` and `not` combine
/// whole filters.
#[derive(InputObject, Default, Debug, Clone, PartialEq, Eq, Hash)]
pub struct CareSubjectFilter {
    /// Only subjects whose grid lies in the region with this code (any level); unknown codes match nothing.
    pub in_region: Option<String>,
    /// Only subjects of this care programme.
    pub category: Option<CareCategory>,
    /// Only subjects with this status.
    pub status: Option<SubjectStatus>,
    /// Case codes containing this text; for roles that may see names in clear, also names starting with it.
    pub search: Option<String>,
    /// Only subjects never visited or last visited at least this many days ago (see `daysSinceLastVisit`).
    pub not_visited_for_days: Option<i32>,
    /// Only subjects registered on or after this day.
    pub registered_from: Option<crate::scalars::Date>,
    /// Only subjects registered on or before this day.
    pub registered_to: Option<crate::scalars::Date>,
    /// Only subjects matching every one of these filters.
    pub and: Option<Vec<CareSubjectFilter>>,
    /// Only subjects matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<CareSubjectFilter>>,
    /// Only subjects not matching this filter.
    pub not: Option<Box<CareSubjectFilter>>,
}

/// What a validated filter needs from outside: region paths, and whether it reads visits.
pub struct Prepared<'a> {
    filter: &'a CareSubjectFilter,
    codes: BTreeSet<String>,
    /// The filter uses `notVisitedForDays`, so the caller must be allowed to read visits.
    pub reads_visits: bool,
}

/// Validates `filter`: structure limits, `notVisitedForDays >= 0`, search length. Errors name the field.
pub fn prepare(filter: &CareSubjectFilter) -> Result<Prepared<'_>, ApiError> {
    let mut prepared = Prepared { filter, codes: BTreeSet::new(), reads_visits: false };
    let mut nodes = 0;
    validate(filter, "filter", 1, &mut nodes, &mut prepared)?;
    Ok(prepared)
}

fn validate(
    filter: &CareSubjectFilter,
    path: &str,
    depth: usize,
    nodes: &mut usize,
    prepared: &mut Prepared<'_>,
) -> Result<(), ApiError> {
    *nodes += 1;
    if depth > MAX_DEPTH {
        return Err(ApiError::bad_input(path, format!("filters may nest at most {MAX_DEPTH} levels deep")));
    }
    if *nodes > MAX_NODES {
        return Err(ApiError::bad_input(
            path,
            format!("a filter may hold at most {MAX_NODES} filter objects"),
        ));
    }
    if let Some(code) = &filter.in_region {
        prepared.codes.insert(code.clone());
    }
    if let Some(days) = filter.not_visited_for_days {
        if days < 0 {
            return Err(ApiError::bad_input(format!("{path}.notVisitedForDays"), "must not be negative"));
        }
        prepared.reads_visits = true;
    }
    if let Some(search) = &filter.search
        && search.chars().count() > MAX_SEARCH_CHARS
    {
        return Err(ApiError::bad_input(
            format!("{path}.search"),
            format!("at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    for (i, part) in filter.and.iter().flatten().enumerate() {
        validate(part, &format!("{path}.and[{i}]"), depth + 1, nodes, prepared)?;
    }
    for (i, part) in filter.or.iter().flatten().enumerate() {
        validate(part, &format!("{path}.or[{i}]"), depth + 1, nodes, prepared)?;
    }
    if let Some(part) = &filter.not {
        validate(part, &format!("{path}.not"), depth + 1, nodes, prepared)?;
    }
    Ok(())
}

impl Prepared<'_> {
    /// Looks up the named regions (one statement, none without `inRegion`) and builds the condition.
    /// `names_in_clear`: whether the caller may see names, and so may search by them. Also returns the path of
    /// the filter's own top-level `inRegion`, when it names a region: every matching subject lies under it.
    pub async fn compile(
        &self,
        db: &DatabaseConnection,
        regions: &RegionDirectory,
        names_in_clear: bool,
        today: NaiveDate,
    ) -> Result<(Condition, Option<String>), ApiError> {
        let mut paths = HashMap::new();
        if !self.codes.is_empty() {
            // Unscoped lookup: rows still have to pass the caller's scope predicate, so this reveals nothing.
            let codes = self.codes.iter().cloned().collect();
            paths = regions
                .resolve(db, codes)
                .await?
                .into_iter()
                .map(|(code, region)| (code, region.path))
                .collect();
        }
        let confining_path =
            self.filter.in_region.as_deref().and_then(|code| paths.get(code.trim()).cloned());
        let env = Env { paths, names_in_clear, today };
        Ok((env.condition(self.filter).unwrap_or_else(Condition::all), confining_path))
    }
}

struct Env {
    paths: HashMap<String, String>,
    names_in_clear: bool,
    today: NaiveDate,
}

impl Env {
    /// The condition of one filter; `None` when it restricts nothing.
    fn condition(&self, filter: &CareSubjectFilter) -> Option<Condition> {
        let mut parts: Vec<Condition> = Vec::new();
        if let Some(code) = &filter.in_region {
            let part = match self.paths.get(code) {
                Some(path) => crate::scope::within::<care_subject::Entity>(path),
                None => nothing(),
            };
            parts.push(part);
        }
        if let Some(category) = filter.category {
            let category = care_subject::CareCategory::from(category);
            parts.push(Condition::all().add(care_subject::Column::Category.eq(category)));
        }
        if let Some(status) = filter.status {
            let status = care_subject::SubjectStatus::from(status);
            parts.push(Condition::all().add(care_subject::Column::Status.eq(status)));
        }
        if let Some(search) = &filter.search {
            parts.push(self.search(search.trim()));
        }
        if let Some(days) = filter.not_visited_for_days {
            parts.push(self.not_visited_for(days));
        }
        if let Some(from) = filter.registered_from {
            parts.push(Condition::all().add(care_subject::Column::RegisteredOn.gte(from)));
        }
        if let Some(to) = filter.registered_to {
            parts.push(Condition::all().add(care_subject::Column::RegisteredOn.lte(to)));
        }
        for part in filter.and.iter().flatten() {
            if let Some(part) = self.condition(part) {
                parts.push(part);
            }
        }
        if let Some(branches) = &filter.or {
            let compiled: Option<Vec<Condition>> = branches.iter().map(|part| self.condition(part)).collect();
            // A branch that restricts nothing makes the whole `or` restrict nothing.
            if let Some(compiled) = compiled {
                let part = if compiled.is_empty() {
                    nothing()
                } else {
                    compiled.into_iter().fold(Condition::any(), Condition::add)
                };
                parts.push(part);
            }
        }
        if let Some(part) = &filter.not {
            let part = match self.condition(part) {
                Some(condition) => condition.not(),
                None => nothing(),
            };
            parts.push(part);
        }
        if parts.is_empty() {
            return None;
        }
        Some(parts.into_iter().fold(Condition::all(), Condition::add))
    }

    /// Codes containing `text` (case-insensitively: codes are upper-case), and names starting with it when
    /// the caller may see names: a masked caller must not be able to confirm a name by searching for it.
    fn search(&self, text: &str) -> Condition {
        let in_code = contains_pattern(&text.to_uppercase());
        let mut any = Condition::any().add(care_subject::Column::Code.like(in_code));
        if self.names_in_clear && !text.is_empty() {
            let name_prefix = prefix_pattern(text);
            any = any.add(care_subject::Column::Name.like(name_prefix));
        }
        any
    }

    /// No visit on or after the start (UTC) of the day `days - 1` days before today: the newest visit, if
    /// any, was at least `days` calendar days ago.
    fn not_visited_for(&self, days: i32) -> Condition {
        let mut recent = Query::select();
        recent.expr(Expr::val(1)).from(care_visit::Entity).and_where(
            Expr::col((care_visit::Entity, care_visit::Column::SubjectId))
                .equals((care_subject::Entity, care_subject::Column::Id)),
        );
        let start = self
            .today
            .checked_add_signed(TimeDelta::days(1 - i64::from(days)))
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|midnight| midnight.and_utc());
        // A cutoff before the calendar begins: any visit at all counts.
        if let Some(start) = start {
            recent.and_where(Expr::col((care_visit::Entity, care_visit::Column::VisitedAt)).gte(start));
        }
        Condition::all().add(Expr::not_exists(recent.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_days_name_the_nested_field() {
        let filter = CareSubjectFilter {
            or: Some(vec![CareSubjectFilter { not_visited_for_days: Some(-1), ..Default::default() }]),
            ..Default::default()
        };
        match prepare(&filter) {
            Err(ApiError::BadInput { field, .. }) => assert_eq!(field, "filter.or[0].notVisitedForDays"),
            _ => panic!("negative days must be refused"),
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let mut filter = CareSubjectFilter::default();
        for _ in 0..MAX_DEPTH {
            filter = CareSubjectFilter { not: Some(Box::new(filter)), ..Default::default() };
        }
        assert!(prepare(&filter).is_err());
    }
}
