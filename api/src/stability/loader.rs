//! Batched, scoped loading of major projects and what hangs off them: the rows a page's fields ask for come in
//! one statement per kind, whatever the page size.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entities::{
    assessment_step, dispute, major_project, mitigation_measure, responsible_unit, stability_assessment,
    unit_veto,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait, Select,
};

use super::types::{
    AssessmentStepRecord, AssessmentStepRecordConnection, MajorProject, MajorProjectConnection,
    MitigationMeasure, MitigationMeasureConnection, ResponsibleUnit, StabilityAssessment, UnitVeto,
    UnitVetoConnection,
};
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource, Viewer};
use crate::disputes::loader::{ById, by_id};
use crate::disputes::types::{Dispute, DisputeConnection};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched};
use crate::pagination::{NestedKey, Nesting, Page, PageRequest, load_nested_pages};
use crate::request::loader_error;

/// The arguments of `MajorProject.disputes` and `MajorProject.incidents`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectDisputeArgs {
    pub page: PageRequest,
    /// Only the disputes flagged as instability incidents.
    pub incidents_only: bool,
}

/// The arguments of `StabilityAssessment.measures`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeasureArgs {
    pub page: PageRequest,
    /// Only the measures past their deadline and not done.
    pub overdue_only: bool,
}

/// The measures past their deadline (the end of their local day) and not done.
pub fn overdue_measures() -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(mitigation_measure::Column::CompletedOn.is_null())
        .add(mitigation_measure::Column::DueOn.lt(crate::validate::today()))
}

/// The assessment of each project.
pub struct AssessmentByProject {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<i64> for AssessmentByProject {
    type Value = stability_assessment::Model;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::MajorProject, Action::Read).await?;
        let rows = crate::scope::read_among::<stability_assessment::Entity>(&access, keys)
            .filter(stability_assessment::Column::ProjectId.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|row| (row.project_id, row)).collect())
    }
}

/// Whether each project has a measure past its deadline and not done.
pub struct OverdueByProject {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<i64> for OverdueByProject {
    type Value = bool;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::MajorProject, Action::Read).await?;
        let late: HashSet<i64> = crate::scope::read::<mitigation_measure::Entity>(&access)
            .join(JoinType::InnerJoin, mitigation_measure::Relation::Assessment.def())
            .filter(stability_assessment::Column::ProjectId.is_in(keys.iter().copied()))
            .filter(overdue_measures())
            .select_only()
            .column(stability_assessment::Column::ProjectId)
            .distinct()
            .into_tuple::<i64>()
            .all(&self.db)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .collect();
        Ok(keys.iter().map(|key| (*key, late.contains(key))).collect())
    }
}

/// The years in which each unit was vetoed.
pub struct VetoYearsByUnit {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
}

impl Loader<i64> for VetoYearsByUnit {
    type Value = Vec<i32>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::ResponsibleUnit, Action::Read).await?;
        let rows: Vec<(i64, i32)> = crate::scope::read_among::<unit_veto::Entity>(&access, keys)
            .filter(unit_veto::Column::UnitId.is_in(keys.iter().copied()))
            .select_only()
            .column(unit_veto::Column::UnitId)
            .column(unit_veto::Column::Year)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        let mut grouped: HashMap<i64, Vec<i32>> = HashMap::new();
        for (unit, year) in rows {
            grouped.entry(unit).or_default().push(year);
        }
        Ok(grouped)
    }
}

/// A page of rows of `E` per parent, in id order, read as `resource`: the nested lists of this domain.
pub struct PagesByParent<E: EntityTrait, A> {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    resource: Resource,
    parent: E::Column,
    key: E::Column,
    id_of: fn(&E::Model) -> i64,
    page_of: fn(&A) -> &PageRequest,
    select: fn(&Access, &A) -> Select<E>,
}

impl<E, A> Loader<NestedKey<A>> for PagesByParent<E, A>
where
    E: EntityTrait + Sync,
    E::Column: Send + Sync,
    E::Model: sea_orm::FromQueryResult + Clone + Send + Sync + 'static,
    A: Clone + Eq + std::hash::Hash + Send + Sync + 'static,
{
    type Value = Page<E::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[NestedKey<A>]) -> Result<HashMap<NestedKey<A>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, self.resource, Action::Read).await?;
        let select_for = |args: &A| (self.select)(&access, args);
        let nesting = || Nesting { parent: self.parent, key: self.key, key_of: self.id_of };
        Ok(load_nested_pages(&self.db, keys, self.page_of, select_for, nesting).await?)
    }
}

fn page_itself(page: &PageRequest) -> &PageRequest {
    page
}

/// The stability loaders of one request.
pub struct StabilityLoaders {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    projects: RequestLoader<ById<major_project::Entity>>,
    units: RequestLoader<ById<responsible_unit::Entity>>,
    measures: RequestLoader<ById<mitigation_measure::Entity>>,
    assessments: RequestLoader<AssessmentByProject>,
    overdue: RequestLoader<OverdueByProject>,
    veto_years: RequestLoader<VetoYearsByUnit>,
    steps: RequestLoader<PagesByParent<assessment_step::Entity, PageRequest>>,
    measure_pages: RequestLoader<PagesByParent<mitigation_measure::Entity, MeasureArgs>>,
    unit_projects: RequestLoader<PagesByParent<major_project::Entity, PageRequest>>,
    unit_vetoes: RequestLoader<PagesByParent<unit_veto::Entity, PageRequest>>,
    project_disputes: RequestLoader<PagesByParent<dispute::Entity, ProjectDisputeArgs>>,
}

impl StabilityLoaders {
    pub fn new(db: DatabaseConnection, viewer: Arc<Viewer>) -> Self {
        let (d, v) = (&db, &viewer);
        Self {
            projects: by_id(d, v, Resource::MajorProject, |row: &major_project::Model| row.id),
            units: by_id(d, v, Resource::ResponsibleUnit, |row: &responsible_unit::Model| row.id),
            measures: by_id(d, v, Resource::MajorProject, |row: &mitigation_measure::Model| row.id),
            assessments: batched(AssessmentByProject { db: db.clone(), viewer: viewer.clone() }),
            overdue: batched(OverdueByProject { db: db.clone(), viewer: viewer.clone() }),
            veto_years: batched(VetoYearsByUnit { db: db.clone(), viewer: viewer.clone() }),
            steps: batched(PagesByParent {
                db: db.clone(),
                viewer: viewer.clone(),
                resource: Resource::MajorProject,
                parent: assessment_step::Column::AssessmentId,
                key: assessment_step::Column::Id,
                id_of: |row: &assessment_step::Model| row.id,
                page_of: page_itself,
                select: |access, _| crate::scope::read::<assessment_step::Entity>(access),
            }),
            measure_pages: batched(PagesByParent {
                db: db.clone(),
                viewer: viewer.clone(),
                resource: Resource::MajorProject,
                parent: mitigation_measure::Column::AssessmentId,
                key: mitigation_measure::Column::Id,
                id_of: |row: &mitigation_measure::Model| row.id,
                page_of: |args: &MeasureArgs| &args.page,
                select: |access, args| {
                    let select = crate::scope::read::<mitigation_measure::Entity>(access);
                    if args.overdue_only { select.filter(overdue_measures()) } else { select }
                },
            }),
            unit_projects: batched(PagesByParent {
                db: db.clone(),
                viewer: viewer.clone(),
                resource: Resource::MajorProject,
                parent: major_project::Column::UnitId,
                key: major_project::Column::Id,
                id_of: |row: &major_project::Model| row.id,
                page_of: page_itself,
                select: |access, _| crate::scope::read::<major_project::Entity>(access),
            }),
            unit_vetoes: batched(PagesByParent {
                db: db.clone(),
                viewer: viewer.clone(),
                resource: Resource::ResponsibleUnit,
                parent: unit_veto::Column::UnitId,
                key: unit_veto::Column::Id,
                id_of: |row: &unit_veto::Model| row.id,
                page_of: page_itself,
                select: |access, _| crate::scope::read::<unit_veto::Entity>(access),
            }),
            project_disputes: batched(PagesByParent {
                db: db.clone(),
                viewer: viewer.clone(),
                resource: Resource::Dispute,
                parent: dispute::Column::MajorProjectId,
                key: dispute::Column::Id,
                id_of: |row: &dispute::Model| row.id,
                page_of: |args: &ProjectDisputeArgs| &args.page,
                select: |access, args| {
                    let select = crate::scope::read::<dispute::Entity>(access);
                    if args.incidents_only {
                        select.filter(dispute::Column::InstabilityIncident.eq(true))
                    } else {
                        select
                    }
                },
            }),
            db,
            viewer,
        }
    }

    /// Turns the request-long caches on or off (mutations turn them off).
    pub fn set_caching(&self, on: bool) {
        self.projects.enable_all_cache(on);
        self.units.enable_all_cache(on);
        self.measures.enable_all_cache(on);
        self.assessments.enable_all_cache(on);
        self.overdue.enable_all_cache(on);
        self.veto_years.enable_all_cache(on);
        self.steps.enable_all_cache(on);
        self.measure_pages.enable_all_cache(on);
        self.unit_projects.enable_all_cache(on);
        self.unit_vetoes.enable_all_cache(on);
        self.project_disputes.enable_all_cache(on);
    }

    async fn access(&self, resource: Resource) -> Result<Access, ApiError> {
        self.viewer.authorize(&self.db, resource, Action::Read).await
    }

    /// A project by id; `None` when absent or out of scope.
    pub async fn project_by_id(&self, id: i64) -> ApiResult<Option<MajorProject>> {
        let access = self.access(Resource::MajorProject).await?;
        let row = self.projects.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| MajorProject { row, access }))
    }

    /// A responsible unit by id; `None` when absent or out of scope.
    pub async fn unit_by_id(&self, id: i64) -> ApiResult<Option<ResponsibleUnit>> {
        let access = self.access(Resource::ResponsibleUnit).await?;
        let row = self.units.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| ResponsibleUnit { row, access }))
    }

    /// A mitigation measure by id; `None` when absent or out of scope.
    pub async fn measure_by_id(&self, id: i64) -> ApiResult<Option<MitigationMeasure>> {
        let row = self.measures.load_one(id).await.map_err(loader_error)?;
        Ok(row.map(|row| MitigationMeasure { row }))
    }

    /// The assessment of a project; `None` before the unit applied.
    pub async fn assessment_of(&self, project_id: i64) -> ApiResult<Option<StabilityAssessment>> {
        let access = self.access(Resource::MajorProject).await?;
        let row = self.assessments.load_one(project_id).await.map_err(loader_error)?;
        Ok(row.map(|row| StabilityAssessment { row, access }))
    }

    /// Whether a project has a measure past its deadline and not done.
    pub async fn measures_overdue(&self, project_id: i64) -> ApiResult<bool> {
        Ok(self.overdue.load_one(project_id).await.map_err(loader_error)?.unwrap_or(false))
    }

    /// The years in which a unit was vetoed.
    pub async fn veto_years_of(&self, unit_id: i64) -> ApiResult<Vec<i32>> {
        Ok(self.veto_years.load_one(unit_id).await.map_err(loader_error)?.unwrap_or_default())
    }

    /// One page of an assessment's steps.
    pub async fn steps_of(
        &self,
        assessment_id: i64,
        page: PageRequest,
        access: Access,
    ) -> ApiResult<AssessmentStepRecordConnection> {
        let key = NestedKey { parent: assessment_id, args: page };
        let page = self.steps.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(AssessmentStepRecordConnection::from_page(page, |row| AssessmentStepRecord {
            row,
            access: access.clone(),
        }))
    }

    /// One page of an assessment's measures.
    pub async fn measures_of(
        &self,
        assessment_id: i64,
        args: MeasureArgs,
    ) -> ApiResult<MitigationMeasureConnection> {
        let key = NestedKey { parent: assessment_id, args };
        let page = self.measure_pages.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(MitigationMeasureConnection::from_page(page, |row| MitigationMeasure { row }))
    }

    /// One page of a unit's projects.
    pub async fn projects_of_unit(
        &self,
        unit_id: i64,
        page: PageRequest,
    ) -> ApiResult<MajorProjectConnection> {
        let access = self.access(Resource::MajorProject).await?;
        let key = NestedKey { parent: unit_id, args: page };
        let page = self.unit_projects.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(MajorProjectConnection::from_page(page, |row| MajorProject { row, access: access.clone() }))
    }

    /// One page of a unit's vetoes.
    pub async fn vetoes_of(&self, unit_id: i64, page: PageRequest) -> ApiResult<UnitVetoConnection> {
        let key = NestedKey { parent: unit_id, args: page };
        let page = self.unit_vetoes.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(UnitVetoConnection::from_page(page, |row| UnitVeto { row }))
    }

    /// One page of the disputes linked to a project (or of its incidents).
    pub async fn disputes_of(
        &self,
        project_id: i64,
        args: ProjectDisputeArgs,
    ) -> ApiResult<DisputeConnection> {
        let access = self.access(Resource::Dispute).await?;
        let key = NestedKey { parent: project_id, args };
        let page =
            self.project_disputes.load_one(key).await.map_err(loader_error)?.unwrap_or_else(Page::empty);
        Ok(DisputeConnection::from_page(page, |row| Dispute { row, access: access.clone() }))
    }
}
