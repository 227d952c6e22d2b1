//! Root fields of disputes, fishing vessels and mediators.

use async_graphql::{Context, ID, Object};
use entities::{dispute, fishing_vessel, mediator};
use sea_orm::{ColumnTrait, Condition, QueryFilter};

use super::filter::{DisputeFilter, DisputeOrder, DisputeOrderField, FishingVesselFilter, OPEN_STATES};
use super::types::{
    Dispute, DisputeConnection, FishingVessel, FishingVesselConnection, Mediator, MediatorConnection,
};
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::filter::{compile_confined, prefix_pattern};
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{CursorKey, Ordering, PageRequest, SortKey, fetch_page};
use crate::request::RequestData;

/// Root fields of the disputes domain.
#[derive(Default)]
pub struct DisputesQuery;

/// The order of a dispute list: by report (the default) or by due time, ties broken by id.
fn dispute_sort(order: Option<DisputeOrder>) -> SortKey<dispute::Entity> {
    let ordering = order.map(|DisputeOrder { field, descending }| match field {
        DisputeOrderField::ReportedAt => Ordering {
            column: dispute::Column::ReportedAt,
            descending,
            value_of: |row: &dispute::Model| CursorKey::Instant(row.reported_at),
        },
        DisputeOrderField::DueAt => Ordering {
            column: dispute::Column::DueAt,
            descending,
            // Cases without a deadline sort as if due at the epoch's end of time.
            value_of: |row: &dispute::Model| {
                CursorKey::Instant(row.due_at.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC))
            },
        },
    });
    SortKey::ordered(ordering, dispute::Column::Id, |row: &dispute::Model| row.id)
}

/// Disputes assigned to the caller: to the mediator their token's subject is, or to the boat whose crew they are.
pub fn assigned_to(subject: &str) -> Condition {
    use sea_orm::sea_query::Query;
    let me = Query::select()
        .column(mediator::Column::Id)
        .from(mediator::Entity)
        .and_where(mediator::Column::Subject.eq(subject))
        .to_owned();
    let my_boats = Query::select()
        .column(mediator::Column::MediationBoatId)
        .from(mediator::Entity)
        .and_where(mediator::Column::Subject.eq(subject))
        .and_where(mediator::Column::MediationBoatId.is_not_null())
        .to_owned();
    Condition::any()
        .add(dispute::Column::AssigneeMediatorId.in_subquery(me))
        .add(dispute::Column::AssigneeBoatId.in_subquery(my_boats))
}

#[Object]
impl DisputesQuery {
    /// Disputes in your scope (reported in your region, or handled there after an escalation), in the order they
    /// were reported unless `orderBy` says otherwise. Mediators see only the disputes assigned to them.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn disputes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the disputes (state, deadlines, category, region, vessel, dates).")]
        filter: Option<DisputeFilter>,
        #[graphql(
            desc = "Only disputes assigned to you (as a mediator or a mediation boat's crew).",
            default
        )]
        assigned_to_me: bool,
        #[graphql(desc = "Only disputes you reported.", default)] reported_by_me: bool,
        #[graphql(desc = "Sort order; keep it unchanged while paging.")] order_by: Option<DisputeOrder>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<DisputeConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Dispute, Action::Read).await?;
        let (mut condition, confining) = match &filter {
            Some(filter) => {
                compile_confined(&request.db, request.viewer.regions(), filter, "filter", false).await?
            }
            None => (Condition::all(), None),
        };
        let subject = request.viewer.subject();
        if assigned_to_me {
            condition = condition.add(assigned_to(subject));
        }
        if reported_by_me {
            condition = condition.add(dispute::Column::ReportedBy.eq(subject));
        }
        let select = crate::scope::read_filtered::<dispute::Entity>(&access, condition, confining.as_deref());
        let page = fetch_page(&request.db, select, dispute_sort(order_by), &page).await?;
        Ok(DisputeConnection::from_page(page, |row| Dispute { row, access: access.clone() }))
    }

    /// Your open cases in one query: disputes you reported or that are assigned to you, still being worked on,
    /// the most urgent (earliest due) first.
    async fn my_open_disputes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
    ) -> ApiResult<DisputeConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, None, None)?.counting(ctx);
        let access = request.authorize(Resource::Dispute, Action::Read).await?;
        let subject = request.viewer.subject();
        let mine = Condition::any().add(dispute::Column::ReportedBy.eq(subject)).add(assigned_to(subject));
        let select = crate::scope::read::<dispute::Entity>(&access)
            .filter(mine)
            .filter(dispute::Column::State.is_in(OPEN_STATES));
        let order = DisputeOrder { field: DisputeOrderField::DueAt, descending: false };
        let page = fetch_page(&request.db, select, dispute_sort(Some(order)), &page).await?;
        Ok(DisputeConnection::from_page(page, |row| Dispute { row, access: access.clone() }))
    }

    /// One dispute by global ID or by case code; null when there is none in your scope.
    async fn dispute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the dispute.")] id: Option<ID>,
        #[graphql(desc = "Case code, e.g. MD2026000123.")] code: Option<String>,
    ) -> ApiResult<Option<Dispute>> {
        let request = RequestData::of(ctx)?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_typed_id(&id, NodeType::Dispute, "id")?;
                request.disputes().dispute_by_id(id).await
            }
            (None, Some(code)) => {
                let code = crate::validate::code("code", &code)?;
                let access = request.authorize(Resource::Dispute, Action::Read).await?;
                let row = crate::scope::read::<dispute::Entity>(&access)
                    .filter(dispute::Column::Code.eq(code))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?;
                Ok(row.map(|row| Dispute { row, access }))
            }
            _ => Err(ApiError::bad_input("id", "give either `id` or `code`").into()),
        }
    }

    /// Fishing vessels whose home port lies in your scope, in registration order.
    async fn fishing_vessels(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the vessels.")] filter: Option<FishingVesselFilter>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<FishingVesselConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Vessel, Action::Read).await?;
        let mut select = crate::scope::read::<fishing_vessel::Entity>(&access);
        let filter = filter.unwrap_or_default();
        if let Some(code) = &filter.in_region {
            let code = crate::validate::code("filter.inRegion", code)?;
            select = match request.viewer.regions().find(&request.db, code).await.map_err(ApiError::from)? {
                Some(region) => select.filter(crate::scope::within::<fishing_vessel::Entity>(&region.path)),
                None => select.filter(crate::filter::nothing()),
            };
        }
        if let Some(stars) = filter.min_stars {
            select = select.filter(fishing_vessel::Column::SafetyStars.gte(stars));
        }
        if let Some(search) = &filter.search {
            crate::filter::check_search(Some(search), || "filter.search".to_owned())?;
            select =
                select.filter(fishing_vessel::Column::RegistrationNo.like(prefix_pattern(search.trim())));
        }
        let sort =
            SortKey::unique(fishing_vessel::Column::Id, |row: &fishing_vessel::Model| CursorKey::Int(row.id));
        let page = fetch_page(&request.db, select, sort, &page).await?;
        Ok(FishingVesselConnection::from_page(page, |row| FishingVessel { row, access: access.clone() }))
    }

    /// One fishing vessel by registration number; null when there is none in your scope.
    async fn fishing_vessel(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Registration number, e.g. 浙岱渔03125.")] registration_no: String,
    ) -> ApiResult<Option<FishingVessel>> {
        let request = RequestData::of(ctx)?;
        let registration_no = crate::validate::code("registrationNo", &registration_no)?;
        let access = request.authorize(Resource::Vessel, Action::Read).await?;
        let row = crate::scope::read::<fishing_vessel::Entity>(&access)
            .filter(fishing_vessel::Column::RegistrationNo.eq(registration_no))
            .one(&request.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| FishingVessel { row, access }))
    }

    /// Mediators in your scope (and the crews of mediation boats), in registration order.
    async fn mediators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only active mediators (true) or inactive ones (false).")] active: Option<bool>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<MediatorConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Mediator, Action::Read).await?;
        let mut select = crate::scope::read::<mediator::Entity>(&access);
        if let Some(active) = active {
            select = select.filter(mediator::Column::Active.eq(active));
        }
        let sort = SortKey::unique(mediator::Column::Id, |row: &mediator::Model| CursorKey::Int(row.id));
        let page = fetch_page(&request.db, select, sort, &page).await?;
        Ok(MediatorConnection::from_page(page, |row| Mediator { row, access: access.clone() }))
    }
}
