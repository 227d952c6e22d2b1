//! Rows by id in the caller's scope: the loader behind every "the X of this row" field (a record's volunteer, a
//! row's grid, a visit's subject, a mentorship's mentor), and the companion that lets a top-level page read the
//! same rows in its own statement (see [`crate::pagination::companion`]). Both take the caller's access to the
//! field's resource and [`crate::scope`]'s predicate, so the two paths cannot disagree about what is visible.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::Loader;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter};

use crate::auth::{Action, Resource, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched, every_key};
use crate::pagination::Joined;
use crate::pagination::companion::Carry;
use crate::pagination::companion::carries;
use crate::request::loader_error;
use crate::scope::Scoped;

/// What a by-id field reads: rows of `E` the caller may read as `resource`, narrowed by the field's own
/// condition (a mentee is an at-risk youth).
pub struct ById<E: EntityTrait> {
    db: DatabaseConnection,
    viewer: Arc<Viewer>,
    resource: Resource,
    narrowing: fn() -> Condition,
    id_of: fn(&E::Model) -> i64,
    entity: PhantomData<E>,
}

impl<E: Scoped> ById<E> {
    fn condition(&self) -> Condition {
        (self.narrowing)()
    }
}

impl<E> Loader<i64> for ById<E>
where
    E: Scoped + Send + Sync,
    E::Model: FromQueryResult + Clone + Send + Sync + 'static,
{
    /// `None` for a key that is absent or out of scope, so that the answer is remembered like any other.
    type Value = Option<E::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, self.resource, Action::Read).await?;
        let rows = crate::scope::read::<E>(&access)
            .filter(Expr::col((E::default(), Alias::new("id"))).is_in(keys.iter().copied()))
            .filter(self.condition())
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(every_key(keys, rows.into_iter().map(|row| ((self.id_of)(&row), row))))
    }
}

/// The per-request loader of rows of `E` by id, with its companion.
pub struct RowsById<E>
where
    E: Scoped + Send + Sync,
    E::Model: FromQueryResult + Clone + Send + Sync + 'static,
{
    loader: RequestLoader<ById<E>>,
}

/// No narrowing beyond the caller's scope.
pub fn everything() -> Condition {
    Condition::all()
}

impl<E> RowsById<E>
where
    E: Scoped + Send + Sync,
    E::Model: FromQueryResult + Clone + Send + Sync + 'static,
{
    /// Rows of `E` readable as `resource`, narrowed by `narrowing` (use [`everything`] for none).
    pub fn new(
        db: DatabaseConnection,
        viewer: Arc<Viewer>,
        resource: Resource,
        narrowing: fn() -> Condition,
        id_of: fn(&E::Model) -> i64,
    ) -> Self {
        let by_id = ById { db, viewer, resource, narrowing, id_of, entity: PhantomData };
        Self { loader: batched(by_id) }
    }

    /// Turns the request-long cache on or off (mutations turn it off).
    pub fn set_caching(&self, on: bool) {
        self.loader.enable_all_cache(on);
    }

    /// The row with this id; `None` when absent or out of scope.
    pub async fn load(&self, id: i64) -> ApiResult<Option<E::Model>> {
        Ok(self.loader.load_one(id).await.map_err(loader_error)?.flatten())
    }

    /// The rows whose ids a page's `foreign_key` holds, read in the page's statement when this request's
    /// page carries `field` of its nodes (see [`carries`]) and the caller may read them; otherwise the field's
    /// resolver asks the loader, which says why.
    pub async fn carried(
        &self,
        ctx: &Context<'_>,
        field: &str,
        foreign_key: impl ColumnTrait,
    ) -> CarriedRows<'_, E> {
        if !carries(ctx, field) {
            return Carry(None);
        }
        let source = self.loader.loader().inner();
        let Ok(access) = source.viewer.authorize(&source.db, source.resource, Action::Read).await else {
            return Carry(None);
        };
        Carry(Some((&self.loader, Joined::by(&access, foreign_key, source.condition()))))
    }
}

/// A by-id field of a page's nodes, carried by the page's statement (or not: see [`RowsById::carried`]).
pub type CarriedRows<'a, E> = Carry<'a, ById<E>, Joined<E>>;
