//! Root fields of major projects and responsible units.

use async_graphql::{Context, ID, Object};
use entities::{major_project, responsible_unit, unit_veto};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, QueryFilter};

use super::filter::{MajorProjectFilter, ResponsibleUnitFilter};
use super::types::{MajorProject, MajorProjectConnection, ResponsibleUnit, ResponsibleUnitConnection};
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::filter::compile_confined;
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{CursorKey, PageRequest, SortKey, fetch_page};
use crate::request::RequestData;

/// Root fields of the stability domain.
#[derive(Default)]
pub struct StabilityQuery;

#[Object]
impl StabilityQuery {
    /// Major projects in your scope, in registration order, with their stability assessment. A unit's officer
    /// sees only their own unit's projects.
    async fn major_projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Conditions on the projects (step, rating, region, unit, overdue measures, flags)."
        )]
        filter: Option<MajorProjectFilter>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MajorProjectConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::MajorProject, Action::Read).await?;
        let (condition, confining) = match &filter {
            Some(filter) => {
                compile_confined(&request.db, request.viewer.regions(), filter, "filter", true).await?
            }
            None => (Condition::all(), None),
        };
        let select =
            crate::scope::read_filtered::<major_project::Entity>(&access, condition, confining.as_deref());
        let sort =
            SortKey::unique(major_project::Column::Id, |row: &major_project::Model| CursorKey::Int(row.id));
        let page = fetch_page(&request.db, select, sort, &page).await?;
        Ok(MajorProjectConnection::from_page(page, |row| MajorProject { row, access: access.clone() }))
    }

    /// One major project by global ID or by code; null when there is none in your scope.
    async fn major_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] id: Option<ID>,
        #[graphql(desc = "Project code, e.g. MP2009000001.")] code: Option<String>,
    ) -> ApiResult<Option<MajorProject>> {
        let request = RequestData::of(ctx)?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_typed_id(&id, NodeType::MajorProject, "id")?;
                request.stability().project_by_id(id).await
            }
            (None, Some(code)) => {
                let code = crate::validate::code("code", &code)?;
                let access = request.authorize(Resource::MajorProject, Action::Read).await?;
                let row = crate::scope::read::<major_project::Entity>(&access)
                    .filter(major_project::Column::Code.eq(code))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?;
                Ok(row.map(|row| MajorProject { row, access }))
            }
            _ => Err(ApiError::bad_input("id", "give either `id` or `code`").into()),
        }
    }

    /// Responsible units in your scope, in registration order. A unit's officer sees only their own unit.
    async fn responsible_units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the units (region, vetoes).")] filter: Option<ResponsibleUnitFilter>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<ResponsibleUnitConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::ResponsibleUnit, Action::Read).await?;
        let mut select = crate::scope::read::<responsible_unit::Entity>(&access);
        let filter = filter.unwrap_or_default();
        if let Some(code) = &filter.in_region {
            let code = crate::validate::code("filter.inRegion", code)?;
            select = match request.viewer.regions().find(&request.db, code).await.map_err(ApiError::from)? {
                Some(region) => select.filter(crate::scope::within::<responsible_unit::Entity>(&region.path)),
                None => select.filter(crate::filter::nothing()),
            };
        }
        let vetoed_units = |year: Option<i32>| {
            let mut units =
                Query::select().column(unit_veto::Column::UnitId).from(unit_veto::Entity).to_owned();
            if let Some(year) = year {
                units.and_where(unit_veto::Column::Year.eq(year));
            }
            units
        };
        if let Some(year) = filter.vetoed_in {
            select = select.filter(responsible_unit::Column::Id.in_subquery(vetoed_units(Some(year))));
        }
        if let Some(vetoed) = filter.vetoed {
            select = select.filter(if vetoed {
                responsible_unit::Column::Id.in_subquery(vetoed_units(None))
            } else {
                responsible_unit::Column::Id.not_in_subquery(vetoed_units(None))
            });
        }
        let sort = SortKey::unique(responsible_unit::Column::Id, |row: &responsible_unit::Model| {
            CursorKey::Int(row.id)
        });
        let page = fetch_page(&request.db, select, sort, &page).await?;
        Ok(ResponsibleUnitConnection::from_page(page, |row| ResponsibleUnit { row, access: access.clone() }))
    }

    /// One responsible unit by global ID or by code; null when there is none in your scope.
    async fn responsible_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the unit.")] id: Option<ID>,
        #[graphql(desc = "Unit code, e.g. RU00012.")] code: Option<String>,
    ) -> ApiResult<Option<ResponsibleUnit>> {
        let request = RequestData::of(ctx)?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_typed_id(&id, NodeType::ResponsibleUnit, "id")?;
                request.stability().unit_by_id(id).await
            }
            (None, Some(code)) => {
                let code = crate::validate::code("code", &code)?;
                let access = request.authorize(Resource::ResponsibleUnit, Action::Read).await?;
                let row = crate::scope::read::<responsible_unit::Entity>(&access)
                    .filter(responsible_unit::Column::Code.eq(code))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?;
                Ok(row.map(|row| ResponsibleUnit { row, access }))
            }
            _ => Err(ApiError::bad_input("id", "give either `id` or `code`").into()),
        }
    }
}
