//! Visits and risk assessments: a care subject's two nested connections, their node types, and the loaders
//! that fetch one page per subject for a whole page of subjects in one statement.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, Object};
use entities::{care_visit, risk_assessment};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};

use super::types::CareSubject;
use crate::auth::mask;
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::node::{NodeType, global_id};
use crate::pagination::{NestedKey, Nesting, Page, PageRequest, load_nested_pages};
use crate::request::RequestData;

/// What kind of contact a visit was.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "entities::care_visit::VisitKind")]
pub enum VisitKind {
    /// Routine follow-up (随访).
    FollowUp,
    /// Supervising that medication is taken.
    MedicationSupervision,
    /// Health education for the person and family.
    HealthEducation,
    /// A community-corrections check-in at the judicial office.
    CheckIn,
    /// A visit at home.
    HomeVisit,
}

/// A contact with a person under care: follow-up, medication supervision, health education, check-in.
pub struct CareVisit {
    pub row: care_visit::Model,
    pub access: Access,
}

/// A contact with a person under care: follow-up, medication supervision, health education, check-in.
#[Object]
impl CareVisit {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::CareVisit, self.row.id)
    }

    /// What kind of contact it was.
    async fn kind(&self) -> VisitKind {
        self.row.kind.into()
    }

    /// When the visit took place (UTC).
    async fn visited_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.row.visited_at)
    }

    /// Who visited (personal: masked as 张* for roles without personal access).
    async fn visitor(&self) -> String {
        self.access.personal(self.row.id, &self.row.visitor, mask::name)
    }

    /// Whether the person had taken their medication; null when not checked (sensitive).
    async fn medication_taken(&self) -> ApiResult<Option<bool>> {
        Ok(self.access.sensitive(self.row.id, self.row.medication_taken)?)
    }

    /// The visitor's notes (sensitive).
    async fn notes(&self) -> ApiResult<Option<String>> {
        Ok(self.access.sensitive(self.row.id, self.row.notes.clone())?)
    }

    /// The person visited; null if outside your scope.
    async fn subject(&self, ctx: &Context<'_>) -> ApiResult<Option<CareSubject>> {
        RequestData::of(ctx)?.care().subject_by_id(self.row.subject_id).await
    }
}

/// A risk assessment on the national 0–5 scale. Decided by the policy as part of the mental-health record.
pub struct RiskAssessment {
    pub row: risk_assessment::Model,
    pub access: Access,
}

/// A risk assessment on the national 0–5 scale. Decided by the policy as part of the mental-health record.
#[Object]
impl RiskAssessment {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeType::RiskAssessment, self.row.id)
    }

    /// Risk level, 0 (none) to 5 (highest) (sensitive).
    async fn level(&self) -> ApiResult<Option<i32>> {
        Ok(Some(self.access.sensitive(self.row.id, i32::from(self.row.level))?))
    }

    /// Day of the assessment.
    async fn assessed_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.assessed_on)
    }

    /// Who assessed (personal: masked as 张* for roles without personal access).
    async fn assessor(&self) -> String {
        self.access.personal(self.row.id, &self.row.assessor, mask::name)
    }

    /// The assessor's notes (sensitive).
    async fn notes(&self) -> ApiResult<Option<String>> {
        Ok(self.access.sensitive(self.row.id, self.row.notes.clone())?)
    }

    /// The person assessed; null if outside your scope.
    async fn subject(&self, ctx: &Context<'_>) -> ApiResult<Option<CareSubject>> {
        RequestData::of(ctx)?.care().subject_by_id(self.row.subject_id).await
    }
}

crate::connection_type!(CareVisitConnection, CareVisitEdge, CareVisit, "care visits");
crate::connection_type!(RiskAssessmentConnection, RiskAssessmentEdge, RiskAssessment, "risk assessments");

/// The arguments of the nested `visits` field, as a loader key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VisitArgs {
    pub page: PageRequest,
    pub from: Option<crate::scalars::Timestamp>,
    pub to: Option<crate::scalars::Timestamp>,
    pub kind: Option<VisitKind>,
}

/// The arguments of the nested `assessments` field, as a loader key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssessmentArgs {
    pub page: PageRequest,
}

/// Visits by subject, a page per subject, in the caller's scope.
pub struct VisitsBySubject {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

impl Loader<NestedKey<VisitArgs>> for VisitsBySubject {
    type Value = Page<care_visit::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<VisitArgs>],
    ) -> Result<HashMap<NestedKey<VisitArgs>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Visit, Action::Read).await?;
        let select_for = |args: &VisitArgs| {
            let mut select = crate::scope::read::<care_visit::Entity>(&access);
            if let Some(from) = args.from {
                select = select.filter(care_visit::Column::VisitedAt.gte(from));
            }
            if let Some(to) = args.to {
                select = select.filter(care_visit::Column::VisitedAt.lt(to));
            }
            if let Some(kind) = args.kind {
                select = select.filter(care_visit::Column::Kind.eq(care_visit::VisitKind::from(kind)));
            }
            select
        };
        let nesting = || Nesting {
            parent: care_visit::Column::SubjectId,
            key: care_visit::Column::Id,
            key_of: |row: &care_visit::Model| row.id,
        };
        Ok(load_nested_pages(&self.db, keys, |args| &args.page, select_for, nesting).await?)
    }
}

/// Risk assessments by subject, a page per subject, in the caller's scope.
pub struct AssessmentsBySubject {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

impl Loader<NestedKey<AssessmentArgs>> for AssessmentsBySubject {
    type Value = Page<risk_assessment::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<AssessmentArgs>],
    ) -> Result<HashMap<NestedKey<AssessmentArgs>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::MentalHealthProfile, Action::Read).await?;
        let select_for = |_: &AssessmentArgs| crate::scope::read::<risk_assessment::Entity>(&access);
        let nesting = || Nesting {
            parent: risk_assessment::Column::SubjectId,
            key: risk_assessment::Column::Id,
            key_of: |row: &risk_assessment::Model| row.id,
        };
        Ok(load_nested_pages(&self.db, keys, |args| &args.page, select_for, nesting).await?)
    }
}
