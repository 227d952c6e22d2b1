//! Volunteer lists nested under another object: `Region.volunteers` (home grid in the region's subtree) and
//! `VolunteerTeam.members`. They take the arguments of `Query.volunteers` and are loaded for every parent on a
//! page in one statement per distinct set of arguments: window functions number each parent's volunteers in
//! the requested order from the cursor on and count them all, so the statement returns at most `limit + 1`
//! rows per parent and every parent's exact `totalCount`, on SQLite and PostgreSQL alike.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::Loader;
use entities::{volunteer, volunteer_team_membership};
use sea_orm::sea_query::{Alias, ColumnRef, Expr, ExprTrait, IntoColumnRef, JoinType};
use sea_orm::{DatabaseConnection, QueryFilter, QueryTrait};

use super::filter::{VolunteerFilter, VolunteerOrder, VolunteerOrderField};
use super::types::{Volunteer, VolunteerConnection};
use crate::auth::viewer::Access;
use crate::auth::{Action, FieldClass, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::filter::compile;
use crate::pagination::{
    CursorKey, NestedKey, Ordering, Page, PageRequest, Ranking, between_cursors, fetch_ranked_pages,
    group_by_args,
};
use crate::request::RequestData;

/// What a nested volunteer list hangs off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VolunteerParent {
    /// A region: the volunteers whose home grid lies in its subtree.
    Region,
    /// A volunteer team: its members.
    Team,
}

/// The arguments of a nested volunteer list, as a loader key. Filters compare by their canonical text, so
/// siblings asked for with the same arguments share one statement.
#[derive(Debug, Clone)]
pub struct VolunteerListArgs {
    pub parent: VolunteerParent,
    pub page: PageRequest,
    pub order: Option<VolunteerOrder>,
    pub filter: Option<Arc<VolunteerFilter>>,
    filter_key: String,
}

impl VolunteerListArgs {
    pub fn new(
        parent: VolunteerParent,
        page: PageRequest,
        order: Option<VolunteerOrder>,
        filter: Option<VolunteerFilter>,
    ) -> Self {
        let filter_key = filter.as_ref().map(|filter| format!("{filter:?}")).unwrap_or_default();
        Self { parent, page, order, filter: filter.map(Arc::new), filter_key }
    }

    fn identity(&self) -> (VolunteerParent, &PageRequest, Option<&VolunteerOrder>, bool, &str) {
        (self.parent, &self.page, self.order.as_ref(), self.filter.is_some(), &self.filter_key)
    }
}

impl PartialEq for VolunteerListArgs {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for VolunteerListArgs {}

impl Hash for VolunteerListArgs {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

/// The ordering `order` asks for, refused (`FORBIDDEN`) when it sorts by names the caller only sees masked:
/// the order would reveal what the mask hides.
pub fn volunteer_ordering(
    order: Option<VolunteerOrder>,
    names_visible: bool,
) -> Result<Option<Ordering<volunteer::Entity>>, ApiError> {
    let Some(VolunteerOrder { field, descending }) = order else {
        return Ok(None);
    };
    Ok(Some(match field {
        VolunteerOrderField::Code => Ordering {
            column: volunteer::Column::Code,
            descending,
            value_of: |row: &volunteer::Model| CursorKey::Text(row.code.clone()),
        },
        VolunteerOrderField::RegisteredOn => Ordering {
            column: volunteer::Column::RegisteredOn,
            descending,
            value_of: |row: &volunteer::Model| CursorKey::Date(row.registered_on),
        },
        VolunteerOrderField::Name => {
            if !names_visible {
                return Err(ApiError::Forbidden("ordering by name needs access to names".into()));
            }
            Ordering {
                column: volunteer::Column::Name,
                descending,
                value_of: |row: &volunteer::Model| CursorKey::Text(row.name.clone()),
            }
        }
    }))
}

/// One page of the volunteers under `parent_id` (a region or a team), for the nested fields: checks the
/// caller's right and ordering at once, then lets the loader batch the page with its siblings'.
pub async fn volunteers_under(
    ctx: &Context<'_>,
    parent: VolunteerParent,
    parent_id: i64,
    filter: Option<VolunteerFilter>,
    order_by: Option<VolunteerOrder>,
    page: PageRequest,
) -> ApiResult<VolunteerConnection> {
    let request = RequestData::of(ctx)?;
    let access = request.authorize(Resource::Volunteer, Action::Read).await?;
    volunteer_ordering(order_by, access.fields >= FieldClass::Personal)?;
    let args = VolunteerListArgs::new(parent, page, order_by, filter);
    let page = request.volunteers().volunteers_under(parent_id, args).await?;
    Ok(VolunteerConnection::from_page(page, |row| Volunteer { row, access: access.clone() }))
}

/// Volunteers by parent (region subtree or team), a page per parent, in the caller's scope. A group of keys
/// with a bad filter answers its own error without failing its siblings.
pub struct VolunteersByParent {
    pub db: DatabaseConnection,
    pub viewer: Arc<Viewer>,
}

/// A loaded page, or the error of its arguments.
pub type VolunteerPageResult = Result<Page<volunteer::Model>, Arc<ApiError>>;

impl Loader<NestedKey<VolunteerListArgs>> for VolunteersByParent {
    type Value = VolunteerPageResult;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<VolunteerListArgs>],
    ) -> Result<HashMap<NestedKey<VolunteerListArgs>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::Volunteer, Action::Read).await?;
        let mut loaded = HashMap::new();
        for (args, parents) in group_by_args(keys) {
            match self.load_group(&access, args, &parents).await {
                Ok(mut pages) => {
                    for parent in parents {
                        let page = pages.remove(&parent).unwrap_or_else(Page::empty);
                        loaded.insert(NestedKey { parent, args: args.clone() }, Ok(page));
                    }
                }
                Err(err) => {
                    let err = Arc::new(err);
                    for parent in parents {
                        loaded.insert(NestedKey { parent, args: args.clone() }, Err(err.clone()));
                    }
                }
            }
        }
        Ok(loaded)
    }
}

impl VolunteersByParent {
    async fn load_group(
        &self,
        access: &Access,
        args: &VolunteerListArgs,
        parents: &[i64],
    ) -> Result<HashMap<i64, Page<volunteer::Model>>, ApiError> {
        let names_visible = access.fields >= FieldClass::Personal;
        let ordering = volunteer_ordering(args.order, names_visible)?;
        let mut select = crate::scope::read::<volunteer::Entity>(access);
        if let Some(filter) = &args.filter {
            select = select.filter(
                compile(&self.db, self.viewer.regions(), filter.as_ref(), "filter", names_visible).await?,
            );
        }
        fetch_nested_volunteers(&self.db, args.parent, select, ordering, &args.page, parents).await
    }
}

/// The statement behind [`VolunteersByParent`]: for each parent, the page of the volunteers `select` reads.
async fn fetch_nested_volunteers(
    db: &DatabaseConnection,
    parent: VolunteerParent,
    select: sea_orm::Select<volunteer::Entity>,
    ordering: Option<Ordering<volunteer::Entity>>,
    page: &PageRequest,
    parents: &[i64],
) -> Result<HashMap<i64, Page<volunteer::Model>>, ApiError> {
    let in_page =
        between_cursors(ordering.as_ref(), Expr::col((volunteer::Entity, volunteer::Column::Id)), page)?;
    let mut inner = select.into_query();
    let parent_column: ColumnRef = match parent {
        VolunteerParent::Region => crate::scope::join_region_ancestors(
            &mut inner,
            (volunteer::Entity, volunteer::Column::RegionId).into_column_ref(),
        ),
        VolunteerParent::Team => {
            let member = Alias::new("gg_member");
            inner.join_as(
                JoinType::InnerJoin,
                volunteer_team_membership::Entity,
                member.clone(),
                Expr::col((member.clone(), volunteer_team_membership::Column::VolunteerId))
                    .equals((volunteer::Entity, volunteer::Column::Id)),
            );
            (member, volunteer_team_membership::Column::TeamId).into_column_ref()
        }
    };
    let ranking = Ranking {
        parent: parent_column,
        order: Ordering::columns(ordering.as_ref(), volunteer::Column::Id),
        in_page,
        cursor_of: |row: &volunteer::Model| Ordering::cursor_of(ordering.as_ref(), row, row.id),
    };
    Ok(fetch_ranked_pages(db, inner, ranking, parents, page).await?)
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::DefaultHasher;

    use super::*;
    use crate::volunteers::types::VolunteerStatus;

    fn hash_of(args: &VolunteerListArgs) -> u64 {
        let mut hasher = DefaultHasher::new();
        args.hash(&mut hasher);
        hasher.finish()
    }

    fn args(filter: Option<VolunteerFilter>, order: Option<VolunteerOrder>) -> VolunteerListArgs {
        let page = PageRequest::new(Some(5), None, None, None).unwrap();
        VolunteerListArgs::new(VolunteerParent::Region, page, order, filter)
    }

    #[test]
    fn siblings_with_the_same_arguments_share_a_key() {
        let active = || Some(VolunteerFilter { status: Some(VolunteerStatus::Active), ..Default::default() });
        assert_eq!(args(active(), None), args(active(), None));
        assert_eq!(hash_of(&args(active(), None)), hash_of(&args(active(), None)));
        assert_ne!(args(active(), None), args(None, None));
        let suspended =
            Some(VolunteerFilter { status: Some(VolunteerStatus::Suspended), ..Default::default() });
        assert_ne!(args(active(), None), args(suspended, None));
        let by_code = Some(VolunteerOrder { field: VolunteerOrderField::Code, descending: false });
        assert_ne!(args(None, by_code), args(None, None));
        let mut team = args(None, None);
        team.parent = VolunteerParent::Team;
        assert_ne!(team, args(None, None));
    }

    #[test]
    fn name_ordering_needs_visible_names() {
        let by_name = Some(VolunteerOrder { field: VolunteerOrderField::Name, descending: true });
        assert!(matches!(volunteer_ordering(by_name, false), Err(ApiError::Forbidden(_))));
        assert!(volunteer_ordering(by_name, true).unwrap().is_some());
        assert!(volunteer_ordering(None, false).unwrap().is_none());
    }
}
