//! Batched, scoped loading of the care domain. Every loader asks the policy for its own resource and
//! restricts its one statement to subjects whose grid lies in the caller's subtree, so no path through the
//! graph (a visit's subject, a node ID, a nested profile) reaches a row outside the caller's scope.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::Loader;
use chrono::{DateTime, Utc};
use entities::{
    care_group_member, care_subject, care_visit, correction_profile, mental_health_profile, risk_assessment,
    youth_profile,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::profiles::{CareGroupMember, CorrectionProfile, MentalHealthProfile, YouthProfile};
use super::region_subjects::{RegionSubjectArgs, SubjectsByRegion};
use super::types::{CareSubject, CareSubjectConnection};
use super::visits::{
    AssessmentArgs, AssessmentsBySubject, CareVisit, CareVisitConnection, RiskAssessment,
    RiskAssessmentConnection, VisitArgs, VisitsBySubject,
};
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource, Viewer};
use crate::by_id::{RowsById, everything};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched, every_key};
use crate::pagination::companion::{Carry, carries};
use crate::pagination::{Computed, NestedKey, Page};
use crate::request::loader_error;

/// The care subjects of a region, for `Region.careSubjects`.
pub use super::region_subjects::care_subjects_of_region;

/// Rows of a table that hangs off a care subject (a profile, the care group), grouped by subject, in the
/// order of `order`. The caller must be allowed to read `resource`.
pub struct RowsBySubject<E: EntityTrait> {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    resource: Resource,
    subject: E::Column,
    order: E::Column,
    subject_of: fn(&E::Model) -> i64,
}

impl<E> Loader<i64> for RowsBySubject<E>
where
    E: crate::scope::Scoped,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = Vec<E::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, self.resource, Action::Read).await?;
        let rows = crate::scope::read_among::<E>(&access, keys)
            .filter(self.subject.is_in(keys.iter().copied()))
            .order_by_asc(self.order)
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        let mut grouped: HashMap<i64, Vec<E::Model>> = HashMap::new();
        for row in rows {
            grouped.entry((self.subject_of)(&row)).or_default().push(row);
        }
        Ok(grouped)
    }
}

/// The instant of each subject's newest visit.
pub struct LastVisitBySubject {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<i64> for LastVisitBySubject {
    /// `None` for a subject never visited (or out of scope), so that the answer is remembered like any other.
    type Value = Option<DateTime<Utc>>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Visit, Action::Read).await?;
        let rows: Vec<(i64, DateTime<Utc>)> = crate::scope::read_among::<care_visit::Entity>(&access, keys)
            .select_only()
            .column(care_visit::Column::SubjectId)
            .column_as(care_visit::Column::VisitedAt.max(), "last_visit")
            .filter(care_visit::Column::SubjectId.is_in(keys.iter().copied()))
            .group_by(care_visit::Column::SubjectId)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(every_key(keys, rows))
    }
}

/// The newest visit of each care subject on a page, as a correlated subquery of the page's statement (see
/// [`crate::pagination::companion`]): the same scope and the same maximum as [`LastVisitBySubject`].
fn last_visit_computed(access: &Access) -> Computed<DateTime<Utc>> {
    let select = crate::scope::read_correlated::<care_visit::Entity>(access)
        .select_only()
        .column_as(care_visit::Column::VisitedAt.max(), "last_visit")
        .filter(
            Expr::col(care_visit::Column::SubjectId.as_column_ref())
                .equals(care_subject::Column::Id.as_column_ref()),
        )
        .into_query();
    Computed::by("last_visit", select)
}

/// The care loaders of one request.
pub struct CareLoaders {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    /// Care subjects by id (a visit's subject), with the companion that reads them in a page.
    pub by_id: RowsById<care_subject::Entity>,
    mental: RequestLoader<RowsBySubject<mental_health_profile::Entity>>,
    correction: RequestLoader<RowsBySubject<correction_profile::Entity>>,
    youth: RequestLoader<RowsBySubject<youth_profile::Entity>>,
    group: RequestLoader<RowsBySubject<care_group_member::Entity>>,
    last_visit: RequestLoader<LastVisitBySubject>,
    visits: RequestLoader<VisitsBySubject>,
    assessments: RequestLoader<AssessmentsBySubject>,
    region_subjects: RequestLoader<SubjectsByRegion>,
}

impl CareLoaders {
    /// Turns the request-long caches of these loaders on or off. Mutations turn them off: a change must be
    /// visible to the fields resolved after it, in the same request.
    pub fn set_caching(&self, on: bool) {
        self.by_id.set_caching(on);
        self.mental.enable_all_cache(on);
        self.correction.enable_all_cache(on);
        self.youth.enable_all_cache(on);
        self.group.enable_all_cache(on);
        self.last_visit.enable_all_cache(on);
        self.visits.enable_all_cache(on);
        self.assessments.enable_all_cache(on);
        self.region_subjects.enable_all_cache(on);
    }

    pub fn new(db: DatabaseConnection, viewer: Arc<Viewer>) -> Self {
        let (d, v) = (&db, &viewer);
        Self {
            by_id: RowsById::new(
                d.clone(),
                v.clone(),
                Resource::CareSubject,
                everything,
                |row: &care_subject::Model| row.id,
            ),
            mental: batched(RowsBySubject::<mental_health_profile::Entity> {
                db: d.clone(),
                viewer: v.clone(),
                resource: Resource::MentalHealthProfile,
                subject: mental_health_profile::Column::SubjectId,
                order: mental_health_profile::Column::SubjectId,
                subject_of: |row| row.subject_id,
            }),
            correction: batched(RowsBySubject::<correction_profile::Entity> {
                db: d.clone(),
                viewer: v.clone(),
                resource: Resource::CorrectionProfile,
                subject: correction_profile::Column::SubjectId,
                order: correction_profile::Column::SubjectId,
                subject_of: |row| row.subject_id,
            }),
            youth: batched(RowsBySubject::<youth_profile::Entity> {
                db: d.clone(),
                viewer: v.clone(),
                resource: Resource::CareSubject,
                subject: youth_profile::Column::SubjectId,
                order: youth_profile::Column::SubjectId,
                subject_of: |row| row.subject_id,
            }),
            group: batched(RowsBySubject::<care_group_member::Entity> {
                db: d.clone(),
                viewer: v.clone(),
                resource: Resource::CareSubject,
                subject: care_group_member::Column::SubjectId,
                order: care_group_member::Column::Id,
                subject_of: |row| row.subject_id,
            }),
            last_visit: batched(LastVisitBySubject { db: d.clone(), viewer: v.clone() }),
            visits: batched(VisitsBySubject { db: d.clone(), viewer: v.clone() }),
            assessments: batched(AssessmentsBySubject { db: d.clone(), viewer: v.clone() }),
            region_subjects: batched(SubjectsByRegion { db: d.clone(), viewer: v.clone() }),
            db,
            viewer,
        }
    }

    async fn authorize(&self, resource: Resource) -> Result<Access, ApiError> {
        self.viewer.authorize(&self.db, resource, Action::Read).await
    }

    /// A care subject by id; `None` when absent or out of scope.
    pub async fn subject_by_id(&self, id: i64) -> ApiResult<Option<CareSubject>> {
        let access = self.authorize(Resource::CareSubject).await?;
        let row = self.by_id.load(id).await?;
        Ok(row.map(|row| CareSubject { row, access }))
    }

    /// The mental-health profile of a subject, if any.
    pub async fn mental_health_profile_of(&self, subject_id: i64) -> ApiResult<Option<MentalHealthProfile>> {
        // The profile is keyed by its subject and recorded as part of the subject's record.
        let access = self.authorize(Resource::MentalHealthProfile).await?.recorded_as("care_subject");
        let rows = self.mental.load_one(subject_id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().next().map(|row| MentalHealthProfile { row, access }))
    }

    /// The community-corrections profile of a subject, if any.
    pub async fn correction_profile_of(&self, subject_id: i64) -> ApiResult<Option<CorrectionProfile>> {
        let access = self.authorize(Resource::CorrectionProfile).await?;
        let rows = self.correction.load_one(subject_id).await.map_err(loader_error)?.unwrap_or_default();
        let access = access.recorded_as("care_subject");
        Ok(rows.into_iter().next().map(|row| CorrectionProfile { row, access }))
    }

    /// The at-risk youth profile of a subject, if any.
    pub async fn youth_profile_of(&self, subject_id: i64) -> ApiResult<Option<YouthProfile>> {
        let access = self.authorize(Resource::CareSubject).await?;
        let rows = self.youth.load_one(subject_id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().next().map(|row| YouthProfile { row, access }))
    }

    /// The members of a subject's care group, in the order they joined.
    pub async fn care_group_of(&self, subject_id: i64) -> ApiResult<Vec<CareGroupMember>> {
        let access = self.authorize(Resource::CareSubject).await?;
        let rows = self.group.load_one(subject_id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| CareGroupMember { row, access: access.clone() }).collect())
    }

    /// When a subject was last visited; `None` when never.
    pub async fn last_visit_of(&self, subject_id: i64) -> ApiResult<Option<DateTime<Utc>>> {
        Ok(self.last_visit.load_one(subject_id).await.map_err(loader_error)?.flatten())
    }

    /// The newest visit of each subject of a page, read in the page's statement when this request's page
    /// carries `daysSinceLastVisit` and the caller may read visits; otherwise the field's resolver asks the
    /// loader, which says why.
    pub async fn carried_last_visits(
        &self,
        ctx: &Context<'_>,
    ) -> Carry<'_, LastVisitBySubject, Computed<DateTime<Utc>>> {
        if !carries(ctx, "daysSinceLastVisit") {
            return Carry(None);
        }
        match self.authorize(Resource::Visit).await {
            Ok(access) => Carry(Some((&self.last_visit, last_visit_computed(&access)))),
            Err(_) => Carry(None),
        }
    }

    /// One page of a subject's visits, batched with the other subjects on the page.
    pub async fn visits_of(&self, subject_id: i64, args: VisitArgs) -> ApiResult<CareVisitConnection> {
        let access = self.authorize(Resource::Visit).await?;
        let key = NestedKey { parent: subject_id, args };
        let page = self.visits.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(CareVisitConnection::from_page(page, |row| CareVisit { row, access: access.clone() }))
    }

    /// One page of a subject's risk assessments, batched with the other subjects on the page.
    pub async fn assessments_of(
        &self,
        subject_id: i64,
        args: AssessmentArgs,
    ) -> ApiResult<RiskAssessmentConnection> {
        let access = self.authorize(Resource::MentalHealthProfile).await?;
        let key = NestedKey { parent: subject_id, args };
        let page = self.assessments.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        let access = access.recorded_as("risk_assessment");
        Ok(RiskAssessmentConnection::from_page(page, |row| RiskAssessment { row, access: access.clone() }))
    }

    /// One page of the care subjects whose grid lies under a region, batched with the other regions of the
    /// request.
    pub async fn subjects_of_region(
        &self,
        region_id: i64,
        args: RegionSubjectArgs,
    ) -> ApiResult<CareSubjectConnection> {
        let access = self.authorize(Resource::CareSubject).await?;
        let key = NestedKey { parent: region_id, args };
        let page =
            self.region_subjects.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(CareSubjectConnection::from_page(page, |row| CareSubject { row, access: access.clone() }))
    }

    /// A visit by id; `None` when absent or out of scope.
    pub async fn visit_by_id(&self, id: i64) -> ApiResult<Option<CareVisit>> {
        let access = self.authorize(Resource::Visit).await?;
        let row = crate::scope::read::<care_visit::Entity>(&access)
            .filter(care_visit::Column::Id.eq(id))
            .one(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| CareVisit { row, access }))
    }

    /// A risk assessment by id; `None` when absent or out of scope.
    pub async fn assessment_by_id(&self, id: i64) -> ApiResult<Option<RiskAssessment>> {
        let access = self.authorize(Resource::MentalHealthProfile).await?.recorded_as("risk_assessment");
        let row = crate::scope::read::<risk_assessment::Entity>(&access)
            .filter(risk_assessment::Column::Id.eq(id))
            .one(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| RiskAssessment { row, access }))
    }
}
