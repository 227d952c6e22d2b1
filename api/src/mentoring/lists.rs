//! The filters and orderings of the top-level `mentoringSessions` and `mentoringOutcomes` lists, compiled by the
//! shared boolean-filter compiler ([`crate::filter`]).

use std::collections::BTreeSet;

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entities::{mentor, mentoring_outcome, mentoring_session, mentorship};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition};

use super::types::OutcomeKind;
use crate::error::ApiError;
use crate::filter::{BooleanFilter, FilterContext, nothing};
use crate::node::{NodeType, parse_typed_id};

/// Conditions on mentoring sessions. The fields of one filter combine with AND; `and`, `or` and `not` combine
/// whole filters. Region codes that do not exist match nothing.
#[derive(InputObject, Debug, Clone, Default)]
pub struct MentoringSessionFilter {
    /// Only sessions of pairings whose young person lives in the region with this code or below it.
    pub in_region: Option<String>,
    /// Only sessions of the mentorship with this global ID.
    pub mentorship_id: Option<ID>,
    /// Only sessions of pairings with the mentor with this code, e.g. M00042.
    pub mentor_code: Option<String>,
    /// Only sessions held on or after this day.
    pub held_from: Option<crate::scalars::Date>,
    /// Only sessions held on or before this day.
    pub held_to: Option<crate::scalars::Date>,
    /// Only sessions matching every one of these filters.
    pub and: Option<Vec<MentoringSessionFilter>>,
    /// Only sessions matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<MentoringSessionFilter>>,
    /// Only sessions not matching this filter.
    pub not: Option<Box<MentoringSessionFilter>>,
}

/// How to order a session list: by the day of the meeting, ties broken by the order sessions were recorded.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct MentoringSessionOrder {
    /// Latest meetings first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// Conditions on mentoring outcomes. The fields of one filter combine with AND; `and`, `or` and `not` combine
/// whole filters. Region codes that do not exist match nothing.
#[derive(InputObject, Debug, Clone, Default)]
pub struct MentoringOutcomeFilter {
    /// Only outcomes of pairings whose young person lives in the region with this code or below it.
    pub in_region: Option<String>,
    /// Only outcomes of the mentorship with this global ID.
    pub mentorship_id: Option<ID>,
    /// Only outcomes of pairings with the mentor with this code, e.g. M00042.
    pub mentor_code: Option<String>,
    /// Only outcomes of this kind.
    pub kind: Option<OutcomeKind>,
    /// Only outcomes of one of these kinds (an empty list matches nothing).
    pub kind_in: Option<Vec<OutcomeKind>>,
    /// Only outcomes achieved on or after this day.
    pub achieved_from: Option<crate::scalars::Date>,
    /// Only outcomes achieved on or before this day.
    pub achieved_to: Option<crate::scalars::Date>,
    /// Only outcomes matching every one of these filters.
    pub and: Option<Vec<MentoringOutcomeFilter>>,
    /// Only outcomes matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<MentoringOutcomeFilter>>,
    /// Only outcomes not matching this filter.
    pub not: Option<Box<MentoringOutcomeFilter>>,
}

/// How to order an outcome list: by the day it was achieved, ties broken by the order outcomes were recorded.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct MentoringOutcomeOrder {
    /// Latest outcomes first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// `SELECT id FROM mentorship WHERE <condition>`.
fn mentorships_where(condition: Condition) -> SelectStatement {
    Query::select().column(mentorship::Column::Id).from(mentorship::Entity).cond_where(condition).to_owned()
}

/// Mentorships with the mentor whose code is `code`.
fn with_mentor(code: &str) -> SelectStatement {
    let mentors = Query::select()
        .column(mentor::Column::Id)
        .from(mentor::Entity)
        .and_where(mentor::Column::Code.eq(code.trim()))
        .to_owned();
    mentorships_where(Condition::all().add(mentorship::Column::MentorId.in_subquery(mentors)))
}

/// The fields both filters share, checked alike.
fn check_common(
    path: &str,
    in_region: Option<&String>,
    mentorship_id: Option<&ID>,
    mentor_code: Option<&String>,
    (from, to, to_field): (Option<NaiveDate>, Option<NaiveDate>, &str),
    codes: &mut BTreeSet<String>,
) -> Result<(), ApiError> {
    if let Some(id) = mentorship_id {
        parse_typed_id(id, NodeType::Mentorship, &format!("{path}.mentorshipId"))?;
    }
    if let Some(code) = mentor_code
        && (code.trim().is_empty() || code.chars().count() > 32)
    {
        return Err(ApiError::bad_input(format!("{path}.mentorCode"), "1 to 32 characters"));
    }
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::bad_input(format!("{path}.{to_field}"), "before the start of the range"));
    }
    if let Some(code) = in_region {
        codes.insert(code.clone());
    }
    Ok(())
}

/// The conditions of the fields both filters share, on the mentorship column `mentorship_of` of the list.
fn common_condition<C: ColumnTrait>(
    context: &FilterContext,
    mentorship_of: C,
    in_region: Option<&String>,
    mentorship_id: Option<&ID>,
    mentor_code: Option<&String>,
) -> Condition {
    let mut all = Condition::all();
    if let Some(code) = in_region {
        all = all.add(match context.path(code) {
            Some(path) => Condition::all().add(
                mentorship_of
                    .in_subquery(mentorships_where(crate::scope::within::<mentorship::Entity>(path))),
            ),
            None => nothing(),
        });
    }
    if let Some(id) = mentorship_id {
        // Checked before compiling; an ID that does not parse matches nothing.
        all = all.add(match parse_typed_id(id, NodeType::Mentorship, "mentorshipId") {
            Ok(id) => Condition::all().add(mentorship_of.eq(id)),
            Err(_) => nothing(),
        });
    }
    if let Some(code) = mentor_code {
        all = all.add(mentorship_of.in_subquery(with_mentor(code)));
    }
    all
}

impl BooleanFilter for MentoringSessionFilter {
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
        check_common(
            path,
            self.in_region.as_ref(),
            self.mentorship_id.as_ref(),
            self.mentor_code.as_ref(),
            (self.held_from.map(Into::into), self.held_to.map(Into::into), "heldTo"),
            codes,
        )
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = common_condition(
            context,
            mentoring_session::Column::MentorshipId,
            self.in_region.as_ref(),
            self.mentorship_id.as_ref(),
            self.mentor_code.as_ref(),
        );
        if let Some(from) = self.held_from {
            all = all.add(mentoring_session::Column::HeldOn.gte(from));
        }
        if let Some(to) = self.held_to {
            all = all.add(mentoring_session::Column::HeldOn.lte(to));
        }
        all
    }
}

impl BooleanFilter for MentoringOutcomeFilter {
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
        check_common(
            path,
            self.in_region.as_ref(),
            self.mentorship_id.as_ref(),
            self.mentor_code.as_ref(),
            (self.achieved_from.map(Into::into), self.achieved_to.map(Into::into), "achievedTo"),
            codes,
        )
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = common_condition(
            context,
            mentoring_outcome::Column::MentorshipId,
            self.in_region.as_ref(),
            self.mentorship_id.as_ref(),
            self.mentor_code.as_ref(),
        );
        if let Some(kind) = self.kind {
            all = all.add(mentoring_outcome::Column::Kind.eq(mentoring_outcome::OutcomeKind::from(kind)));
        }
        if let Some(kinds) = &self.kind_in {
            all = all.add(match kinds.as_slice() {
                [] => nothing(),
                kinds => Condition::all().add(
                    mentoring_outcome::Column::Kind
                        .is_in(kinds.iter().map(|&kind| mentoring_outcome::OutcomeKind::from(kind))),
                ),
            });
        }
        if let Some(from) = self.achieved_from {
            all = all.add(mentoring_outcome::Column::AchievedOn.gte(from));
        }
        if let Some(to) = self.achieved_to {
            all = all.add(mentoring_outcome::Column::AchievedOn.lte(to));
        }
        all
    }
}
