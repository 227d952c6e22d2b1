//! Root fields of the legal-aid domain.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;
use entities::legal_aid_application::{self, ApplicationState as State};
use entities::legal_aid_fund;
use sea_orm::{ColumnTrait, Condition, QueryFilter, QueryOrder};

use super::funds::{Fund, FundConnection};
use super::types::{ApplicationState, FundKind, LegalAidApplication, LegalAidApplicationConnection};
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::lookup::path_of_code;
use crate::node::{NodeType, parse_typed_id};
use crate::pagination::{CursorKey, PageRequest, SortKey, fetch_page};
use crate::request::RequestData;

/// Conditions on legal-aid applications; they combine with AND.
#[derive(InputObject, Default)]
pub struct LegalAidApplicationFilter {
    /// Only applications to the fund with this code (REVOLVING, RELIEF, CHARITY).
    pub fund: Option<String>,
    /// Only applications in this state.
    pub state: Option<ApplicationState>,
    /// Only applicants of the region with this code (any level); an unknown code matches nothing.
    pub in_region: Option<String>,
    /// Only applications submitted at or after this instant.
    pub submitted_from: Option<crate::scalars::Timestamp>,
    /// Only applications submitted before this instant.
    pub submitted_to: Option<crate::scalars::Timestamp>,
    /// true: only loans still owed past their due date (today in UTC); false: all others.
    pub overdue: Option<bool>,
}

/// Loans still owed whose due date is before today.
fn overdue_condition() -> Condition {
    Condition::all()
        .add(legal_aid_application::Column::State.is_in([State::Disbursed, State::Repaying]))
        .add(legal_aid_application::Column::DueOn.is_not_null())
        .add(legal_aid_application::Column::DueOn.lt(Utc::now().date_naive()))
}

/// Root fields of the legal-aid domain.
#[derive(Default)]
pub struct LegalAidQuery;

#[Object]
impl LegalAidQuery {
    /// The legal-aid funds (三金) you may see, with their balances, in the order they were set up, a page at a
    /// time.
    async fn legal_aid_funds(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only funds of this kind.")] kind: Option<FundKind>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<FundConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Fund, Action::Read).await?;
        let mut select = crate::scope::read::<legal_aid_fund::Entity>(&access);
        if let Some(kind) = kind {
            select = select.filter(legal_aid_fund::Column::Kind.eq(legal_aid_fund::FundKind::from(kind)));
        }
        let page = fetch_page(
            &request.db,
            select,
            SortKey::unique(legal_aid_fund::Column::Id, |row: &legal_aid_fund::Model| CursorKey::Int(row.id)),
            &page,
        )
        .await?;
        Ok(FundConnection::from_page(page, |row| Fund { row }))
    }

    /// The legal-aid funds you may see, all at once, in the order they were set up. Funds are set up by
    /// operators, so nothing bounds their number: page through `legalAidFunds` instead.
    #[graphql(deprecation = "unbounded: use `legalAidFunds`, which pages")]
    async fn funds(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only funds of this kind.")] kind: Option<FundKind>,
    ) -> ApiResult<Vec<Fund>> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Fund, Action::Read).await?;
        let mut select = crate::scope::read::<legal_aid_fund::Entity>(&access);
        if let Some(kind) = kind {
            select = select.filter(legal_aid_fund::Column::Kind.eq(legal_aid_fund::FundKind::from(kind)));
        }
        let rows =
            select.order_by_asc(legal_aid_fund::Column::Id).all(&request.db).await.map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|row| Fund { row }).collect())
    }

    /// One fund by code; null when you may not see it.
    async fn fund(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Fund code: REVOLVING, RELIEF or CHARITY.")] code: String,
    ) -> ApiResult<Option<Fund>> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Fund, Action::Read).await?;
        let row = crate::scope::read::<legal_aid_fund::Entity>(&access)
            .filter(legal_aid_fund::Column::Code.eq(code.trim()))
            .one(&request.db)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|row| Fund { row }))
    }

    /// Applications to the legal-aid funds in your scope, in the order they were filed (by id).
    async fn legal_aid_applications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the applications; all of them when absent.")] filter: Option<
            LegalAidApplicationFilter,
        >,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<LegalAidApplicationConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::Application, Action::Read).await?;
        let filter = filter.unwrap_or_default();
        let nothing = || legal_aid_application::Column::Id.eq(-1);
        let mut select = crate::scope::read::<legal_aid_application::Entity>(&access);
        if let Some(code) = &filter.fund {
            let fund = crate::scope::read::<legal_aid_fund::Entity>(&access)
                .filter(legal_aid_fund::Column::Code.eq(code.trim()))
                .one(&request.db)
                .await
                .map_err(ApiError::from)?;
            select = match fund {
                Some(fund) => select.filter(legal_aid_application::Column::FundId.eq(fund.id)),
                None => select.filter(nothing()),
            };
        }
        if let Some(state) = filter.state {
            select = select.filter(legal_aid_application::Column::State.eq(State::from(state)));
        }
        if let Some(code) = &filter.in_region {
            select = match path_of_code(&request.db, request.viewer.regions(), code.trim()).await? {
                Some(path) => select.filter(crate::scope::within::<legal_aid_application::Entity>(&path)),
                None => select.filter(nothing()),
            };
        }
        if let Some(from) = filter.submitted_from {
            select = select.filter(legal_aid_application::Column::SubmittedAt.gte(from));
        }
        if let Some(to) = filter.submitted_to {
            select = select.filter(legal_aid_application::Column::SubmittedAt.lt(to));
        }
        match filter.overdue {
            Some(true) => select = select.filter(overdue_condition()),
            Some(false) => select = select.filter(overdue_condition().not()),
            None => {}
        }
        let page = fetch_page(
            &request.db,
            select,
            SortKey::unique(legal_aid_application::Column::Id, |row: &legal_aid_application::Model| {
                CursorKey::Int(row.id)
            }),
            &page,
        )
        .await?;
        Ok(LegalAidApplicationConnection::from_page(page, |row| LegalAidApplication {
            row,
            access: access.clone(),
        }))
    }

    /// One application by global ID or code (give exactly one); null when none is in your scope.
    async fn legal_aid_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID.")] id: Option<ID>,
        #[graphql(desc = "Application code, e.g. LA20100001.")] code: Option<String>,
    ) -> ApiResult<Option<LegalAidApplication>> {
        let request = RequestData::of(ctx)?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_typed_id(&id, NodeType::LegalAidApplication, "id")?;
                request.legal_aid().application_by_id(id).await
            }
            (None, Some(code)) => {
                let access = request.authorize(Resource::Application, Action::Read).await?;
                let row = crate::scope::read::<legal_aid_application::Entity>(&access)
                    .filter(legal_aid_application::Column::Code.eq(code.trim()))
                    .one(&request.db)
                    .await
                    .map_err(ApiError::from)?;
                Ok(row.map(|row| LegalAidApplication { row, access }))
            }
            _ => Err(ApiError::bad_input("id", "give exactly one of `id` and `code`").into()),
        }
    }
}
