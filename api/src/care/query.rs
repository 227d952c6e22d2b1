//! Root fields of the care domain.

use async_graphql::{Context, ID, Object};
use chrono::Utc;
use entities::{care_subject, care_visit, risk_assessment};
use sea_orm::{ColumnTrait, QueryFilter};

use super::filter::{CareSubjectFilter, prepare};
use super::lists::{CareVisitFilter, CareVisitOrder, RiskAssessmentFilter, RiskAssessmentOrder};
use super::types::{CareSubject, CareSubjectConnection};
use super::visits::{CareVisit, CareVisitConnection, RiskAssessment, RiskAssessmentConnection};
use crate::auth::mask;
use crate::auth::viewer::Access;
use crate::auth::{Action, FieldClass, Resource};
use crate::directory::RegionDirectory;
use crate::error::{ApiError, ApiResult};
use crate::filter::compile;
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{CursorKey, Ordering, PageRequest, fetch_page_in_order_carrying};
use crate::request::RequestData;

/// The orderings of a care-subject list.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CareSubjectOrderField {
    /// Case code.
    Code,
    /// Day of registration in the programme.
    RegisteredOn,
    /// Full name (only for roles that see names in clear).
    Name,
}

/// How to order a care-subject list.
#[derive(async_graphql::InputObject, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CareSubjectOrder {
    /// The field to sort by; ties are broken by registration order.
    pub field: CareSubjectOrderField,
    /// Largest first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// The ordering `order_by` asks for; ordering by name needs names in clear (`FORBIDDEN` otherwise).
pub fn subject_ordering(
    order_by: Option<CareSubjectOrder>,
    access: &Access,
) -> Result<Option<Ordering<care_subject::Entity>>, ApiError> {
    let Some(CareSubjectOrder { field, descending }) = order_by else {
        return Ok(None);
    };
    Ok(Some(match field {
        CareSubjectOrderField::Code => Ordering {
            column: care_subject::Column::Code,
            descending,
            value_of: |row: &care_subject::Model| CursorKey::Text(row.code.clone()),
        },
        CareSubjectOrderField::RegisteredOn => Ordering {
            column: care_subject::Column::RegisteredOn,
            descending,
            value_of: |row: &care_subject::Model| CursorKey::Date(row.registered_on),
        },
        CareSubjectOrderField::Name => {
            // Sorting by a masked field would reveal what the mask hides.
            if access.fields < FieldClass::Personal {
                return Err(ApiError::Forbidden("ordering by name needs access to names".into()));
            }
            Ordering {
                column: care_subject::Column::Name,
                descending,
                value_of: |row: &care_subject::Model| CursorKey::Text(row.name.clone()),
            }
        }
    }))
}

/// Validates a care-subject filter; one that filters by visits needs the right to read visits.
pub async fn check_subject_filter(request: &RequestData, filter: &CareSubjectFilter) -> Result<(), ApiError> {
    if prepare(filter)?.reads_visits {
        // Filtering by visits reveals something about them: the caller must be allowed to read them.
        request.authorize(Resource::Visit, Action::Read).await?;
    }
    Ok(())
}

/// The SQL condition of a care-subject filter, for a caller with `access` to care subjects.
pub async fn subject_condition(
    db: &sea_orm::DatabaseConnection,
    regions: &RegionDirectory,
    access: &Access,
    filter: &CareSubjectFilter,
) -> Result<sea_orm::Condition, ApiError> {
    let names_in_clear = access.fields >= FieldClass::Personal;
    let today = Utc::now().date_naive();
    Ok(prepare(filter)?.compile(db, regions, names_in_clear, today).await?.0)
}

/// The care subjects the caller may read that match `filter` (see [`crate::scope::read_filtered`]).
pub async fn subjects_matching(
    db: &sea_orm::DatabaseConnection,
    regions: &RegionDirectory,
    access: &Access,
    filter: &CareSubjectFilter,
) -> Result<sea_orm::Select<care_subject::Entity>, ApiError> {
    let names_in_clear = access.fields >= FieldClass::Personal;
    let today = Utc::now().date_naive();
    let (filtered, confining_path) = prepare(filter)?.compile(db, regions, names_in_clear, today).await?;
    Ok(crate::scope::read_filtered::<care_subject::Entity>(access, filtered, confining_path.as_deref()))
}

/// Refuses a filter on the (sensitive) risk level unless the caller could read the level itself.
fn check_level_filter(access: &Access) -> Result<(), ApiError> {
    if access.fields < FieldClass::Sensitive {
        return Err(ApiError::Forbidden(
            "the risk level is sensitive and your roles do not allow filtering by it".into(),
        ));
    }
    if !access.has_purpose {
        return Err(ApiError::Forbidden(
            "filtering by the risk level requires a stated purpose: send the `X-Access-Purpose` header"
                .into(),
        ));
    }
    Ok(())
}

/// Root fields of the care domain.
#[derive(Default)]
pub struct CareQuery;

#[Object]
impl CareQuery {
    /// People under special-population care in your scope, in registration order (by id) unless `orderBy`
    /// says otherwise.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn care_subjects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the subjects; all of them when absent.")] filter: Option<
            CareSubjectFilter,
        >,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<CareSubjectOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<CareSubjectConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::CareSubject, Action::Read).await?;
        let select = match &filter {
            Some(filter) => {
                check_subject_filter(request, filter).await?;
                subjects_matching(&request.db, request.viewer.regions(), &access, filter).await?
            }
            None => crate::scope::read::<care_subject::Entity>(&access),
        };
        let ordering = subject_ordering(order_by, &access)?;
        let last_visits = request.care().carried_last_visits(ctx).await;
        let grids = request.regions().by_id.carried(ctx, "grid", care_subject::Column::RegionId).await;
        let page = fetch_page_in_order_carrying(
            &request.db,
            select,
            (care_subject::Column::Id, |row| row.id),
            ordering,
            &page,
            &[&last_visits, &grids],
        )
        .await?;
        Ok(CareSubjectConnection::from_page(page, |row| CareSubject { row, access: access.clone() }))
    }

    /// One care subject by global ID or case code (give exactly one); null when none is in your scope.
    async fn care_subject(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: Option<ID>,
        #[graphql(desc = "Case code, e.g. CS0000123.")] code: Option<String>,
    ) -> ApiResult<Option<CareSubject>> {
        let request = RequestData::of(ctx)?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_typed_id(&id, NodeType::CareSubject, "id")?;
                request.care().subject_by_id(id).await
            }
            (None, Some(code)) => {
                let access = request.authorize(Resource::CareSubject, Action::Read).await?;
                let row = crate::scope::read::<care_subject::Entity>(&access)
                    .filter(care_subject::Column::Code.eq(code))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?;
                Ok(row.map(|row| CareSubject { row, access }))
            }
            _ => Err(ApiError::bad_input("id", "give exactly one of `id` and `code`").into()),
        }
    }

    /// Visits to people under care in your scope, in recorded order (by id) unless `orderBy` says otherwise;
    /// `FORBIDDEN` for roles that may not read visits.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn care_visits(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the visits; all of them when absent.")] filter: Option<
            CareVisitFilter,
        >,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<CareVisitOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<CareVisitConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Visit, Action::Read).await?;
        let names_in_clear = access.fields >= FieldClass::Personal;
        let mut select = crate::scope::read::<care_visit::Entity>(&access);
        let mut searches_visitor = false;
        if let Some(filter) = &filter {
            searches_visitor = filter.uses_visitor();
            if searches_visitor && !names_in_clear {
                // Searching a masked name would confirm what the mask hides.
                return Err(ApiError::Forbidden("searching by visitor needs access to names".into()).into());
            }
            select = select.filter(
                compile(&request.db, request.viewer.regions(), filter, "filter", names_in_clear).await?,
            );
        }
        let ordering = order_by.map(|CareVisitOrder { descending }| Ordering {
            column: care_visit::Column::VisitedAt,
            descending,
            value_of: |row: &care_visit::Model| CursorKey::Instant(row.visited_at),
        });
        let subjects = request.care().by_id.carried(ctx, "subject", care_visit::Column::SubjectId).await;
        let page = fetch_page_in_order_carrying(
            &request.db,
            select,
            (care_visit::Column::Id, |row| row.id),
            ordering,
            &page,
            &[&subjects],
        )
        .await?;
        if searches_visitor {
            // The visitors of the rows returned were matched against a name: a read of that name.
            for (_, row) in &page.rows {
                access.personal(row.id, &row.visitor, mask::name);
            }
        }
        Ok(CareVisitConnection::from_page(page, |row| CareVisit { row, access: access.clone() }))
    }

    /// One visit by global ID; null when the person visited is not in your scope.
    async fn care_visit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: ID,
    ) -> ApiResult<Option<CareVisit>> {
        let id = parse_typed_id(&id, NodeType::CareVisit, "id")?;
        RequestData::of(ctx)?.care().visit_by_id(id).await
    }

    /// Risk assessments of people in your scope, in recorded order (by id) unless `orderBy` says otherwise;
    /// `FORBIDDEN` for roles that may not read mental-health records.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn risk_assessments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the assessments; all of them when absent.")] filter: Option<
            RiskAssessmentFilter,
        >,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<
            RiskAssessmentOrder,
        >,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<RiskAssessmentConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request
            .authorize(Resource::MentalHealthProfile, Action::Read)
            .await?
            .recorded_as("risk_assessment");
        let names_in_clear = access.fields >= FieldClass::Personal;
        let mut select = crate::scope::read::<risk_assessment::Entity>(&access);
        let mut filters_level = false;
        if let Some(filter) = &filter {
            filters_level = filter.uses_level();
            if filters_level {
                check_level_filter(&access)?;
            }
            select = select.filter(
                compile(&request.db, request.viewer.regions(), filter, "filter", names_in_clear).await?,
            );
        }
        let ordering = order_by.map(|RiskAssessmentOrder { descending }| Ordering {
            column: risk_assessment::Column::AssessedOn,
            descending,
            value_of: |row: &risk_assessment::Model| CursorKey::Date(row.assessed_on),
        });
        let subjects = request.care().by_id.carried(ctx, "subject", risk_assessment::Column::SubjectId).await;
        let page = fetch_page_in_order_carrying(
            &request.db,
            select,
            (risk_assessment::Column::Id, |row| row.id),
            ordering,
            &page,
            &[&subjects],
        )
        .await?;
        if filters_level {
            // Each row returned was matched against its risk level: a read of that sensitive field.
            for (_, row) in &page.rows {
                access.sensitive(row.id, ())?;
            }
        }
        Ok(RiskAssessmentConnection::from_page(page, |row| RiskAssessment { row, access: access.clone() }))
    }

    /// One risk assessment by global ID; null when the person assessed is not in your scope.
    async fn risk_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: ID,
    ) -> ApiResult<Option<RiskAssessment>> {
        let id = parse_typed_id(&id, NodeType::RiskAssessment, "id")?;
        RequestData::of(ctx)?.care().assessment_by_id(id).await
    }
}
