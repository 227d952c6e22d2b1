//! `Region.careSubjects`: the care subjects whose grid lies in a region's subtree, a page per region for a whole
//! page of regions in one statement.
//!
//! A subject belongs to every region above its grid, so the parent of a row is not a column of `care_subject`:
//! the statement joins each requested region to the grids of its subtree (the same materialized-path range as
//! [`crate::scope::in_subtree`]) and numbers each region's rows with window functions, in the requested
//! order, from the cursor on. It returns at most `limit + 1` rows and the exact total per region.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::Loader;
use entities::care_subject;
use sea_orm::sea_query::{Expr, IntoColumnRef};
use sea_orm::{Condition, DatabaseConnection, QueryFilter, QueryTrait};

use super::filter::CareSubjectFilter;
use super::query::{CareSubjectOrder, check_subject_filter, subject_condition, subject_ordering};
use super::types::CareSubjectConnection;
use crate::auth::viewer::Access;
use crate::auth::{Action, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{
    CursorKey, NestedKey, Ordering, Page, PageRequest, Ranking, between_cursors, fetch_ranked_pages,
    group_by_args,
};
use crate::request::RequestData;

/// The arguments of `Region.careSubjects`, as a loader key: regions asked for with the same arguments share one
/// statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionSubjectArgs {
    pub page: PageRequest,
    pub filter: Option<CareSubjectFilter>,
    pub order_by: Option<CareSubjectOrder>,
}

/// The Relay arguments `first`, `after`, `last` and `before`, as given.
pub type RelayArgs = (Option<i32>, Option<String>, Option<i32>, Option<String>);

/// The page of `Region.careSubjects` for region `region_id`, batched with the other regions of the request.
pub async fn care_subjects_of_region(
    ctx: &Context<'_>,
    region_id: i64,
    filter: Option<CareSubjectFilter>,
    order_by: Option<CareSubjectOrder>,
    (first, after, last, before): RelayArgs,
) -> ApiResult<Option<CareSubjectConnection>> {
    let request = RequestData::of(ctx)?;
    let page = PageRequest::new(first, after, last, before)?.counting(ctx);
    let access = request.authorize(Resource::CareSubject, Action::Read).await?;
    // Validate here, so that errors name the argument of this field and not the whole batch.
    subject_ordering(order_by, &access)?;
    check_cursors(&page, order_by.is_some())?;
    if let Some(filter) = &filter {
        check_subject_filter(request, filter).await?;
    }
    let args = RegionSubjectArgs { page, filter, order_by };
    request.care().subjects_of_region(region_id, args).await.map(Some)
}

/// Refuses cursors of the other kind of ordering: keyset pages need the same `orderBy` throughout.
fn check_cursors(page: &PageRequest, sorted: bool) -> Result<(), ApiError> {
    for (cursor, argument) in [(&page.after, "after"), (&page.before, "before")] {
        if let Some(cursor) = cursor
            && matches!(cursor, CursorKey::Sorted(..)) != sorted
        {
            return Err(ApiError::bad_input(
                argument,
                "a cursor of another ordering; keep `orderBy` while paging",
            ));
        }
    }
    Ok(())
}

/// Care subjects by region subtree, a page per region, in the caller's scope.
pub struct SubjectsByRegion {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

impl Loader<NestedKey<RegionSubjectArgs>> for SubjectsByRegion {
    type Value = Page<care_subject::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<RegionSubjectArgs>],
    ) -> Result<HashMap<NestedKey<RegionSubjectArgs>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::CareSubject, Action::Read).await?;
        let mut loaded = HashMap::new();
        for (args, regions) in group_by_args(keys) {
            let condition = match &args.filter {
                Some(filter) => subject_condition(&self.db, self.viewer.regions(), &access, filter).await?,
                None => Condition::all(),
            };
            let ordering = subject_ordering(args.order_by, &access)?;
            let mut pages = fetch_pages(&self.db, &access, condition, ordering, &regions, &args.page).await?;
            for parent in regions {
                let page = pages.remove(&parent).unwrap_or_else(Page::empty);
                loaded.insert(NestedKey { parent, args: args.clone() }, page);
            }
        }
        Ok(loaded)
    }
}

/// One page of care subjects per region of `regions`, in one statement. `condition` (the compiled filter) and
/// the caller's scope restrict the rows.
async fn fetch_pages(
    db: &DatabaseConnection,
    access: &Access,
    condition: Condition,
    ordering: Option<Ordering<care_subject::Entity>>,
    regions: &[i64],
    page: &PageRequest,
) -> Result<HashMap<i64, Page<care_subject::Model>>, ApiError> {
    let in_page = between_cursors(
        ordering.as_ref(),
        Expr::col((care_subject::Entity, care_subject::Column::Id)),
        page,
    )?;
    let mut inner = crate::scope::read::<care_subject::Entity>(access).filter(condition).into_query();
    let parent = crate::scope::join_region_ancestors(
        &mut inner,
        (care_subject::Entity, care_subject::Column::RegionId).into_column_ref(),
    );
    let ranking = Ranking {
        parent,
        order: Ordering::columns(ordering.as_ref(), care_subject::Column::Id),
        in_page,
        cursor_of: |row: &care_subject::Model| Ordering::cursor_of(ordering.as_ref(), row, row.id),
    };
    Ok(fetch_ranked_pages(db, inner, ranking, regions, page).await?)
}
