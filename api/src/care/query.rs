//! Root fields of the care domain.

use async_graphql::{Context, ID, Object};
use chrono::Utc;
use entities::care_subject;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::filter::{CareSubjectFilter, prepare};
use super::types::{CareSubject, CareSubjectConnection};
use crate::auth::{Action, FieldClass, Resource};
use crate::error::{ApiError, ApiResult};
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{CursorKey, Ordering, PageRequest, fetch_page_in_order};
use crate::request::RequestData;

/// The orderings of a care-subject list.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CareSubjectOrderField {
    /// Case code.
    Code,
    /// Day of registration in the programme.
    RegisteredOn,
    /// Full name (only for roles that see names in clear).
    Name,
}

/// How to order a care-subject list.
#[derive(async_graphql::InputObject, Debug, Clone, Copy)]
pub struct CareSubjectOrder {
    /// The field to sort by; ties are broken by registration order.
    pub field: CareSubjectOrderField,
    /// Largest first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// Root fields of the care domain.
#[derive(Default)]
pub struct CareQuery;

#[Object]
impl CareQuery {
    /// People under special-population care in your scope, in registration order (by id) unless `orderBy`
    /// says otherwise.
    #[allow(clippy::too_many_arguments)]
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
        let page = PageRequest::new(first, after, last, before)?;
        let access = request.authorize(Resource::CareSubject, Action::Read).await?;
        let mut select = care_subject::Entity::find().filter(access.scope_on(care_subject::Column::RegionId));
        if let Some(filter) = &filter {
            let prepared = prepare(filter)?;
            if prepared.reads_visits {
                // Filtering by visits reveals something about them: the caller must be allowed to read them.
                request.authorize(Resource::Visit, Action::Read).await?;
            }
            let names_in_clear = access.fields >= FieldClass::Personal;
            let today = Utc::now().date_naive();
            select = select.filter(prepared.compile(&request.db, names_in_clear, today).await?);
        }
        let ordering = match order_by {
            None => None,
            Some(CareSubjectOrder { field, descending }) => Some(match field {
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
                        return Err(
                            ApiError::Forbidden("ordering by name needs access to names".into()).into()
                        );
                    }
                    Ordering {
                        column: care_subject::Column::Name,
                        descending,
                        value_of: |row: &care_subject::Model| CursorKey::Text(row.name.clone()),
                    }
                }
            }),
        };
        let page =
            fetch_page_in_order(&request.db, select, care_subject::Column::Id, |row| row.id, ordering, &page)
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
                request.care.subject_by_id(id).await
            }
            (None, Some(code)) => {
                let access = request.authorize(Resource::CareSubject, Action::Read).await?;
                let row = care_subject::Entity::find()
                    .filter(care_subject::Column::Code.eq(code))
                    .filter(access.scope_on(care_subject::Column::RegionId))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?;
                Ok(row.map(|row| CareSubject { row, access }))
            }
            _ => Err(ApiError::bad_input("id", "give exactly one of `id` and `code`").into()),
        }
    }
}
