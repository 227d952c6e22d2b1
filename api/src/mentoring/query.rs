//! Root fields of the mentoring domain.

use async_graphql::{Context, ID, Object};
use entities::{mentor, mentoring_outcome, mentoring_session, mentorship};
use sea_orm::{ColumnTrait, QueryFilter};

use super::filter::{MentorFilter, MentorshipFilter, mentor_condition, mentorship_condition};
use super::lists::{
    MentoringOutcomeFilter, MentoringOutcomeOrder, MentoringSessionFilter, MentoringSessionOrder,
};
use super::types::{
    Mentor, MentorConnection, MentoringOutcome, MentoringOutcomeConnection, MentoringSession,
    MentoringSessionConnection, Mentorship, MentorshipConnection,
};
use crate::auth::{Action, FieldClass, Resource};
use crate::error::{ApiError, ApiResult};
use crate::filter::compile;
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{
    CursorKey, Ordering, PageRequest, fetch_page_in_order, fetch_page_in_order_carrying,
};
use crate::request::RequestData;

/// The orderings of a mentor list.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MentorOrderField {
    /// Mentor code.
    Code,
    /// Full name (only for roles that see names in clear).
    Name,
}

/// How to order a mentor list.
#[derive(async_graphql::InputObject, Debug, Clone, Copy)]
pub struct MentorOrder {
    /// The field to sort by; ties are broken by registration order.
    pub field: MentorOrderField,
    /// Largest first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// How to order a mentorship list: by the day the pairing started, ties by creation order.
#[derive(async_graphql::InputObject, Debug, Clone, Copy)]
pub struct MentorshipOrder {
    /// Newest pairings first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// Root fields of the youth mentoring programme.
#[derive(Default)]
pub struct MentoringQuery;

#[Object]
impl MentoringQuery {
    /// Mentors attached to regions in your scope, in registration order.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn mentors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the mentors.")] filter: Option<MentorFilter>,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<MentorOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MentorConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Mentor, Action::Read).await?;
        let mut select = crate::scope::read::<mentor::Entity>(&access);
        if let Some(filter) = &filter {
            select = select
                .filter(mentor_condition(&request.db, request.viewer.regions(), &access, filter).await?);
        }
        let ordering = match order_by {
            None => None,
            Some(MentorOrder { field: MentorOrderField::Code, descending }) => Some(Ordering {
                column: mentor::Column::Code,
                descending,
                value_of: |row: &mentor::Model| CursorKey::Text(row.code.clone()),
            }),
            Some(MentorOrder { field: MentorOrderField::Name, descending }) => {
                // Sorting by a masked field would reveal what the mask hides.
                if access.fields < FieldClass::Personal {
                    return Err(ApiError::Forbidden("ordering by name needs access to names".into()).into());
                }
                Some(Ordering {
                    column: mentor::Column::Name,
                    descending,
                    value_of: |row: &mentor::Model| CursorKey::Text(row.name.clone()),
                })
            }
        };
        let page =
            fetch_page_in_order(&request.db, select, mentor::Column::Id, |row| row.id, ordering, &page)
                .await?;
        Ok(MentorConnection::from_page(page, |row| Mentor { row, access: access.clone() }))
    }

    /// One mentor by global ID or code (give exactly one); null when none is in your scope.
    async fn mentor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: Option<ID>,
        #[graphql(desc = "Mentor code, e.g. M00042.")] code: Option<String>,
    ) -> ApiResult<Option<Mentor>> {
        let request = RequestData::of(ctx)?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_typed_id(&id, NodeType::Mentor, "id")?;
                request.mentoring().mentor_by_id(id).await
            }
            (None, Some(code)) => {
                let access = request.authorize(Resource::Mentor, Action::Read).await?;
                let row = crate::scope::read::<mentor::Entity>(&access)
                    .filter(mentor::Column::Code.eq(code))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?;
                Ok(row.map(|row| Mentor { row, access }))
            }
            _ => Err(ApiError::bad_input("id", "give exactly one of `id` and `code`").into()),
        }
    }

    /// Mentorships whose young person lives in your scope, oldest first.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn mentorships(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the mentorships.")] filter: Option<MentorshipFilter>,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<MentorshipOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MentorshipConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Mentorship, Action::Read).await?;
        let mut select = crate::scope::read::<mentorship::Entity>(&access);
        if let Some(filter) = &filter {
            select =
                select.filter(mentorship_condition(&request.db, request.viewer.regions(), filter).await?);
        }
        let ordering = order_by.map(|MentorshipOrder { descending }| Ordering {
            column: mentorship::Column::StartedOn,
            descending,
            value_of: |row: &mentorship::Model| CursorKey::Date(row.started_on),
        });
        let loaders = request.mentoring();
        let mentors = loaders.mentor_by_id.carried(ctx, "mentor", mentorship::Column::MentorId).await;
        let mentees = loaders.mentee_by_id.carried(ctx, "mentee", mentorship::Column::MenteeId).await;
        let page = fetch_page_in_order_carrying(
            &request.db,
            select,
            (mentorship::Column::Id, |row| row.id),
            ordering,
            &page,
            &[&mentors, &mentees],
        )
        .await?;
        Ok(MentorshipConnection::from_page(page, |row| Mentorship { row, access: access.clone() }))
    }

    /// One mentorship by global ID; null when its young person is not in your scope.
    async fn mentorship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: ID,
    ) -> ApiResult<Option<Mentorship>> {
        let request = RequestData::of(ctx)?;
        let id = parse_typed_id(&id, NodeType::Mentorship, "id")?;
        request.mentoring().mentorship_by_id(id).await
    }

    /// Meetings of mentorships whose young person lives in your scope, in recorded order (by id) unless
    /// `orderBy` says otherwise; `FORBIDDEN` for roles that may not read mentorships.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn mentoring_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the sessions; all of them when absent.")] filter: Option<
            MentoringSessionFilter,
        >,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<
            MentoringSessionOrder,
        >,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MentoringSessionConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Mentorship, Action::Read).await?;
        let mut select = crate::scope::read::<mentoring_session::Entity>(&access);
        if let Some(filter) = &filter {
            let names_in_clear = access.fields >= FieldClass::Personal;
            select = select.filter(
                compile(&request.db, request.viewer.regions(), filter, "filter", names_in_clear).await?,
            );
        }
        let ordering = order_by.map(|MentoringSessionOrder { descending }| Ordering {
            column: mentoring_session::Column::HeldOn,
            descending,
            value_of: |row: &mentoring_session::Model| CursorKey::Date(row.held_on),
        });
        let by_id = &request.mentoring().mentorship_by_id;
        let mentorships = by_id.carried(ctx, "mentorship", mentoring_session::Column::MentorshipId).await;
        let page = fetch_page_in_order_carrying(
            &request.db,
            select,
            (mentoring_session::Column::Id, |row| row.id),
            ordering,
            &page,
            &[&mentorships],
        )
        .await?;
        Ok(MentoringSessionConnection::from_page(page, |row| MentoringSession {
            row,
            access: access.clone(),
        }))
    }

    /// One mentoring session by global ID; null when its young person is not in your scope.
    async fn mentoring_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: ID,
    ) -> ApiResult<Option<MentoringSession>> {
        let id = parse_typed_id(&id, NodeType::MentoringSession, "id")?;
        RequestData::of(ctx)?.mentoring().session_by_id(id).await
    }

    /// Achievements of mentorships whose young person lives in your scope, in recorded order (by id) unless
    /// `orderBy` says otherwise; `FORBIDDEN` for roles that may not read mentorships.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn mentoring_outcomes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the outcomes; all of them when absent.")] filter: Option<
            MentoringOutcomeFilter,
        >,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<
            MentoringOutcomeOrder,
        >,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MentoringOutcomeConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Mentorship, Action::Read).await?;
        let mut select = crate::scope::read::<mentoring_outcome::Entity>(&access);
        if let Some(filter) = &filter {
            let names_in_clear = access.fields >= FieldClass::Personal;
            select = select.filter(
                compile(&request.db, request.viewer.regions(), filter, "filter", names_in_clear).await?,
            );
        }
        let ordering = order_by.map(|MentoringOutcomeOrder { descending }| Ordering {
            column: mentoring_outcome::Column::AchievedOn,
            descending,
            value_of: |row: &mentoring_outcome::Model| CursorKey::Date(row.achieved_on),
        });
        let by_id = &request.mentoring().mentorship_by_id;
        let mentorships = by_id.carried(ctx, "mentorship", mentoring_outcome::Column::MentorshipId).await;
        let page = fetch_page_in_order_carrying(
            &request.db,
            select,
            (mentoring_outcome::Column::Id, |row| row.id),
            ordering,
            &page,
            &[&mentorships],
        )
        .await?;
        Ok(MentoringOutcomeConnection::from_page(page, |row| MentoringOutcome {
            row,
            access: access.clone(),
        }))
    }

    /// One mentoring outcome by global ID; null when its young person is not in your scope.
    async fn mentoring_outcome(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: ID,
    ) -> ApiResult<Option<MentoringOutcome>> {
        let id = parse_typed_id(&id, NodeType::MentoringOutcome, "id")?;
        RequestData::of(ctx)?.mentoring().outcome_by_id(id).await
    }
}
