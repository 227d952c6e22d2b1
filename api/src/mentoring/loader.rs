//! Batched, scoped loading of the mentoring domain. Every loader asks the policy for the caller's access itself
//! and puts the scope predicate into its SQL: mentors by their region, everything under a mentorship by the
//! mentee's region.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entities::care_subject::{self, CareCategory};
use entities::{mentor, mentoring_outcome, mentoring_session, mentorship};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QuerySelect};

use super::types::{
    Mentee, Mentor, MentoringOutcome, MentoringOutcomeConnection, MentoringSession,
    MentoringSessionConnection, Mentorship, MentorshipConnection, MentorshipStatus, OutcomeKind,
};
use crate::auth::{Action, Resource, Viewer};
use crate::by_id::{RowsById, everything};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched};
use crate::pagination::{NestedKey, Nesting, Page, PageRequest, load_nested_pages};
use crate::request::loader_error;

/// The arguments of a mentor's nested `mentorships` field, as a loader key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MentorshipArgs {
    pub page: PageRequest,
    pub status: Option<MentorshipStatus>,
}

/// The arguments of a mentorship's nested `outcomes` field, as a loader key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutcomeArgs {
    pub page: PageRequest,
    pub kind: Option<OutcomeKind>,
}

/// Shared state of the mentoring loaders.
#[derive(Clone)]
pub struct MentoringSource {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

/// Per mentor, the number of young people in an ACTIVE pairing with them, within the caller's scope.
pub struct ActiveMenteeCounts(MentoringSource);
/// A page of mentorships per mentor.
pub struct MentorshipsByMentor(MentoringSource);
/// A page of mentorships per mentee (the young person's side of the pairing).
pub struct MentorshipsByMentee(MentoringSource);
/// A page of sessions per mentorship.
pub struct SessionsByMentorship(MentoringSource);
/// A page of outcomes per mentorship.
pub struct OutcomesByMentorship(MentoringSource);

impl Loader<i64> for ActiveMenteeCounts {
    type Value = u64;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.0.viewer.authorize(&self.0.db, Resource::Mentorship, Action::Read).await?;
        let rows: Vec<(i64, i64)> = crate::scope::read::<mentorship::Entity>(&access)
            .select_only()
            .column(mentorship::Column::MentorId)
            .expr(Expr::col((mentorship::Entity, mentorship::Column::MenteeId)).count_distinct())
            .filter(mentorship::Column::MentorId.is_in(keys.iter().copied()))
            .filter(mentorship::Column::Status.eq(mentorship::MentorshipStatus::Active))
            .group_by(mentorship::Column::MentorId)
            .into_tuple()
            .all(&self.0.db)
            .await
            .map_err(ApiError::from)?;
        let mut counts: HashMap<i64, u64> = keys.iter().map(|&key| (key, 0)).collect();
        for (mentor_id, count) in rows {
            counts.insert(mentor_id, u64::try_from(count).unwrap_or(0));
        }
        Ok(counts)
    }
}

/// Pages of mentorships per mentor (`by_mentee == false`) or per mentee, in one statement per argument set.
async fn mentorship_pages(
    source: &MentoringSource,
    keys: &[NestedKey<MentorshipArgs>],
    by_mentee: bool,
) -> Result<HashMap<NestedKey<MentorshipArgs>, Page<mentorship::Model>>, Arc<ApiError>> {
    let access = source.viewer.authorize(&source.db, Resource::Mentorship, Action::Read).await?;
    let select_for = |args: &MentorshipArgs| {
        let mut select = crate::scope::read::<mentorship::Entity>(&access);
        if let Some(status) = args.status {
            select = select.filter(mentorship::Column::Status.eq(mentorship::MentorshipStatus::from(status)));
        }
        select
    };
    let nesting = || Nesting {
        parent: if by_mentee { mentorship::Column::MenteeId } else { mentorship::Column::MentorId },
        key: mentorship::Column::Id,
        key_of: |row: &mentorship::Model| row.id,
    };
    Ok(load_nested_pages(&source.db, keys, |args| &args.page, select_for, nesting).await?)
}

impl Loader<NestedKey<MentorshipArgs>> for MentorshipsByMentor {
    type Value = Page<mentorship::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<MentorshipArgs>],
    ) -> Result<HashMap<NestedKey<MentorshipArgs>, Self::Value>, Self::Error> {
        mentorship_pages(&self.0, keys, false).await
    }
}

impl Loader<NestedKey<MentorshipArgs>> for MentorshipsByMentee {
    type Value = Page<mentorship::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<MentorshipArgs>],
    ) -> Result<HashMap<NestedKey<MentorshipArgs>, Self::Value>, Self::Error> {
        mentorship_pages(&self.0, keys, true).await
    }
}

impl Loader<NestedKey<PageRequest>> for SessionsByMentorship {
    type Value = Page<mentoring_session::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<PageRequest>],
    ) -> Result<HashMap<NestedKey<PageRequest>, Self::Value>, Self::Error> {
        let access = self.0.viewer.authorize(&self.0.db, Resource::Mentorship, Action::Read).await?;
        let select_for = |_: &PageRequest| crate::scope::read::<mentoring_session::Entity>(&access);
        let nesting = || Nesting {
            parent: mentoring_session::Column::MentorshipId,
            key: mentoring_session::Column::Id,
            key_of: |row: &mentoring_session::Model| row.id,
        };
        Ok(load_nested_pages(&self.0.db, keys, |page| page, select_for, nesting).await?)
    }
}

impl Loader<NestedKey<OutcomeArgs>> for OutcomesByMentorship {
    type Value = Page<mentoring_outcome::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<OutcomeArgs>],
    ) -> Result<HashMap<NestedKey<OutcomeArgs>, Self::Value>, Self::Error> {
        let access = self.0.viewer.authorize(&self.0.db, Resource::Mentorship, Action::Read).await?;
        let select_for = |args: &OutcomeArgs| {
            let mut select = crate::scope::read::<mentoring_outcome::Entity>(&access);
            if let Some(kind) = args.kind {
                select = select
                    .filter(mentoring_outcome::Column::Kind.eq(mentoring_outcome::OutcomeKind::from(kind)));
            }
            select
        };
        let nesting = || Nesting {
            parent: mentoring_outcome::Column::MentorshipId,
            key: mentoring_outcome::Column::Id,
            key_of: |row: &mentoring_outcome::Model| row.id,
        };
        Ok(load_nested_pages(&self.0.db, keys, |args| &args.page, select_for, nesting).await?)
    }
}

/// Mentees are the at-risk young people among care subjects.
fn at_risk_youth() -> Condition {
    Condition::all().add(care_subject::Column::Category.eq(CareCategory::AtRiskYouth))
}

/// The mentoring loaders of one request.
pub struct MentoringLoaders {
    source: MentoringSource,
    /// Mentors by id (a mentorship's mentor), with the companion that reads them in a page.
    pub mentor_by_id: RowsById<mentor::Entity>,
    /// Mentorships by id, whose mentee is in the caller's scope (a session's mentorship).
    pub mentorship_by_id: RowsById<mentorship::Entity>,
    /// Young people (AT_RISK_YOUTH care subjects) by id, read as mentorships are (a mentorship's mentee).
    pub mentee_by_id: RowsById<care_subject::Entity>,
    active_mentees: RequestLoader<ActiveMenteeCounts>,
    mentorships: RequestLoader<MentorshipsByMentor>,
    mentee_mentorships: RequestLoader<MentorshipsByMentee>,
    sessions: RequestLoader<SessionsByMentorship>,
    outcomes: RequestLoader<OutcomesByMentorship>,
}

impl MentoringLoaders {
    /// Turns the request-long caches of these loaders on or off. Mutations turn them off: a change must be
    /// visible to the fields resolved after it, in the same request.
    pub fn set_caching(&self, on: bool) {
        self.mentor_by_id.set_caching(on);
        self.mentorship_by_id.set_caching(on);
        self.mentee_by_id.set_caching(on);
        self.active_mentees.enable_all_cache(on);
        self.mentorships.enable_all_cache(on);
        self.mentee_mentorships.enable_all_cache(on);
        self.sessions.enable_all_cache(on);
        self.outcomes.enable_all_cache(on);
    }

    pub fn new(db: DatabaseConnection, viewer: Arc<Viewer>) -> Self {
        let source = MentoringSource { db: db.clone(), viewer: viewer.clone() };
        Self {
            mentor_by_id: RowsById::new(
                db.clone(),
                viewer.clone(),
                Resource::Mentor,
                everything,
                |row: &mentor::Model| row.id,
            ),
            mentorship_by_id: RowsById::new(
                db.clone(),
                viewer.clone(),
                Resource::Mentorship,
                everything,
                |row: &mentorship::Model| row.id,
            ),
            mentee_by_id: RowsById::new(
                db.clone(),
                viewer.clone(),
                Resource::Mentorship,
                at_risk_youth,
                |row: &care_subject::Model| row.id,
            ),
            active_mentees: batched(ActiveMenteeCounts(source.clone())),
            mentorships: batched(MentorshipsByMentor(source.clone())),
            mentee_mentorships: batched(MentorshipsByMentee(source.clone())),
            sessions: batched(SessionsByMentorship(source.clone())),
            outcomes: batched(OutcomesByMentorship(source.clone())),
            source,
        }
    }

    async fn access(&self, resource: Resource) -> Result<crate::auth::viewer::Access, ApiError> {
        self.source.viewer.authorize(&self.source.db, resource, Action::Read).await
    }

    /// A mentor by id; `None` when absent or out of scope.
    pub async fn mentor_by_id(&self, id: i64) -> ApiResult<Option<Mentor>> {
        let access = self.access(Resource::Mentor).await?;
        let row = self.mentor_by_id.load(id).await?;
        Ok(row.map(|row| Mentor { row, access }))
    }

    /// A mentorship by id; `None` when absent or its mentee is out of scope.
    pub async fn mentorship_by_id(&self, id: i64) -> ApiResult<Option<Mentorship>> {
        let access = self.access(Resource::Mentorship).await?;
        let row = self.mentorship_by_id.load(id).await?;
        Ok(row.map(|row| Mentorship { row, access }))
    }

    /// The young person `subject_id` of mentorship `mentorship_id`; `None` when out of scope.
    pub async fn mentee_of(&self, mentorship_id: i64, subject_id: i64) -> ApiResult<Option<Mentee>> {
        let access = self.access(Resource::Mentorship).await?;
        let row = self.mentee_by_id.load(subject_id).await?;
        Ok(row.map(|row| Mentee { row, mentorship_id, access }))
    }

    /// The number of young people in an ACTIVE pairing with the mentor, within scope.
    pub async fn active_mentee_count(&self, mentor_id: i64) -> ApiResult<u64> {
        Ok(self.active_mentees.load_one(mentor_id).await.map_err(loader_error)?.unwrap_or(0))
    }

    /// One page of a mentor's mentorships, batched with the other mentors on the page.
    pub async fn mentorships_of(
        &self,
        mentor_id: i64,
        args: MentorshipArgs,
    ) -> ApiResult<MentorshipConnection> {
        let access = self.access(Resource::Mentorship).await?;
        let key = NestedKey { parent: mentor_id, args };
        let page = self.mentorships.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(MentorshipConnection::from_page(page, |row| Mentorship { row, access: access.clone() }))
    }

    /// One page of a young person's mentorships, batched with the other subjects on the page.
    pub async fn mentorships_of_mentee(
        &self,
        subject_id: i64,
        args: MentorshipArgs,
    ) -> ApiResult<MentorshipConnection> {
        let access = self.access(Resource::Mentorship).await?;
        let key = NestedKey { parent: subject_id, args };
        let page =
            self.mentee_mentorships.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(MentorshipConnection::from_page(page, |row| Mentorship { row, access: access.clone() }))
    }

    /// One page of a mentorship's sessions, batched with the other mentorships on the page.
    pub async fn sessions_of(
        &self,
        mentorship_id: i64,
        page: PageRequest,
    ) -> ApiResult<MentoringSessionConnection> {
        let access = self.access(Resource::Mentorship).await?;
        let key = NestedKey { parent: mentorship_id, args: page };
        let page = self.sessions.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(MentoringSessionConnection::from_page(page, |row| MentoringSession {
            row,
            access: access.clone(),
        }))
    }

    /// One page of a mentorship's outcomes, batched with the other mentorships on the page.
    pub async fn outcomes_of(
        &self,
        mentorship_id: i64,
        args: OutcomeArgs,
    ) -> ApiResult<MentoringOutcomeConnection> {
        let access = self.access(Resource::Mentorship).await?;
        let key = NestedKey { parent: mentorship_id, args };
        let page = self.outcomes.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(MentoringOutcomeConnection::from_page(page, |row| MentoringOutcome {
            row,
            access: access.clone(),
        }))
    }

    /// A session by id; `None` when absent or its mentorship is out of scope.
    pub async fn session_by_id(&self, id: i64) -> ApiResult<Option<MentoringSession>> {
        let access = self.access(Resource::Mentorship).await?;
        let row = crate::scope::read::<mentoring_session::Entity>(&access)
            .filter(mentoring_session::Column::Id.eq(id))
            .one(&self.source.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| MentoringSession { row, access }))
    }

    /// An outcome by id; `None` when absent or its mentorship is out of scope.
    pub async fn outcome_by_id(&self, id: i64) -> ApiResult<Option<MentoringOutcome>> {
        let access = self.access(Resource::Mentorship).await?;
        let row = crate::scope::read::<mentoring_outcome::Entity>(&access)
            .filter(mentoring_outcome::Column::Id.eq(id))
            .one(&self.source.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| MentoringOutcome { row, access }))
    }
}
