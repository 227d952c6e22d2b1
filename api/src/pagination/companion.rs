//! Nested fields read in the statement of the page they belong to: the compiled read path.
//!
//! A top-level connection looks ahead at its selection. For each nested field it recognises (the volunteer who
//! gave a service record, the grid of a row, a care subject's newest visit) it adds a [`Companion`] to its page
//! statement: the page becomes a derived table named after its own table, each joined companion is a
//! `LEFT JOIN` of the nested row's table under the caller's scope predicate, each computed companion a
//! correlated scalar subquery. The page and its companions come back in one statement, and the root resolver
//! hands the companions to the nested field's loader (`feed_many`): the nested resolvers find them cached and
//! mask, refuse and audit exactly as on the loader path. Companions are built from [`crate::scope`]'s entry
//! points, the ones the loaders use, so the policy keeps one source; a nested field that is not recognised, or
//! that the caller may not read, is loaded by its loader as before (which then says why).
//!
//! The page is wrapped rather than joined in place so that its `ORDER BY … LIMIT` is cut first: the companions
//! are read for the page's rows only, never for every matching row before a sort.

use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::Loader;
use futures_util::future::BoxFuture;
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, JoinType, Query, QueryStatementBuilder, SelectStatement,
};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, Order, QueryResult, TryGetable,
};

use crate::auth::viewer::Access;
use crate::error::ApiError;
use crate::loader_batch::RequestLoader;
use crate::scope::Scoped;

/// Which read path a server runs: pages that carry their nested rows, or every nested field through its loader.
/// The two give the same answers; the second stays for comparison (`--read-path loaders`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadPath {
    /// Top-level pages read the nested fields they recognise in their own statement.
    #[default]
    Compiled,
    /// Every nested field is read by its batched loader.
    Loaders,
}

/// Whether this request's top-level pages may carry their nested rows.
pub fn compiled(ctx: &Context<'_>) -> bool {
    ctx.data_opt::<ReadPath>().is_none_or(|path| *path == ReadPath::Compiled)
}

/// Whether this request's page should carry `field` of its nodes: the compiled path is on and the nodes select
/// the field.
pub fn carries(ctx: &Context<'_>, field: &str) -> bool {
    compiled(ctx) && nodes_select(ctx, field)
}

/// Whether the page's nodes select `field` (through `nodes` or `edges { node }`).
pub fn nodes_select(ctx: &Context<'_>, field: &str) -> bool {
    let ahead = ctx.look_ahead();
    ahead.field("nodes").field(field).exists() || ahead.field("edges").field("node").field(field).exists()
}

/// A nested field a page statement reads for the field's loader.
pub trait Carried: Sync {
    /// What the page statement must carry; `None` when this request's page does not carry the field.
    fn companion(&self) -> Option<Companion>;

    /// Hands what the statement read to the field's loader.
    fn feed<'a>(&'a self, rows: &'a [QueryResult]) -> BoxFuture<'a, Result<(), ApiError>>;
}

/// How one field is carried: what the page statement reads for it, and what it read for each page row.
pub trait Companionship: Sync {
    /// What the field's loader remembers for a key (inside its `Option`).
    type Item;

    /// What the page statement must carry.
    fn companion(&self) -> Companion;

    /// Each page row's key with what the statement read for it.
    fn read(&self, rows: &[QueryResult]) -> Result<Keyed<Self::Item>, DbErr>;
}

/// A field of a page's nodes carried into `L`'s cache by the page's statement, or not carried (`None`: the
/// field's resolver then asks its loader).
pub struct Carry<'a, L, R>(pub Option<(&'a RequestLoader<L>, R)>);

impl<L, R> Carried for Carry<'_, L, R>
where
    L: Loader<i64, Value = Option<R::Item>, Error = Arc<ApiError>> + Send + Sync + 'static,
    R: Companionship,
    R::Item: Clone + Send + Sync + 'static,
{
    fn companion(&self) -> Option<Companion> {
        self.0.as_ref().map(|(_, carried)| carried.companion())
    }

    fn feed<'a>(&'a self, rows: &'a [QueryResult]) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            if let Some((loader, carried)) = &self.0 {
                loader.feed_many(carried.read(rows).map_err(ApiError::from)?).await;
            }
            Ok(())
        })
    }
}

/// What a page statement carries beside its rows.
#[derive(Clone)]
pub enum Companion {
    /// A row of another table, joined by its id under the caller's scope predicate.
    Row { table: String, columns: Vec<Expr>, names: Vec<String>, on: Condition },
    /// One value per page row, from a correlated scalar subquery.
    Value { name: String, select: Box<SelectStatement> },
}

/// Page rows' keys, each with what was read for it (`None`: nothing the caller may see).
pub type Keyed<T> = Vec<(i64, Option<T>)>;

/// The row of `F` in the caller's scope whose id a page column holds, read beside each page row.
pub struct Joined<F> {
    prefix: String,
    foreign_key: String,
    companion: Companion,
    entity: PhantomData<F>,
}

impl<F> Joined<F>
where
    F: Scoped,
    F::Model: FromQueryResult,
{
    /// The row of `F` the caller may read (by [`crate::scope::condition`], the predicate of
    /// [`crate::scope::read`]) and that meets `narrowing`, whose id the page's `foreign_key` holds; nulls when
    /// there is none.
    pub fn by<C: ColumnTrait>(access: &Access, foreign_key: C, narrowing: Condition) -> Self {
        let table = F::default().table_name().to_owned();
        let prefix = format!("gg_{table}_");
        let id = Expr::col((Alias::new(&table), Alias::new("id")));
        let on = Condition::all()
            .add(id.equals(foreign_key.as_column_ref()))
            .add(crate::scope::condition::<F>(access))
            .add(narrowing);
        let (columns, names) = F::Column::iter()
            .map(|column| {
                (column.select_as(Expr::col(column.as_column_ref())), format!("{prefix}{}", column.as_str()))
            })
            .unzip();
        Self {
            companion: Companion::Row { table, columns, names, on },
            prefix,
            foreign_key: foreign_key.as_str().to_owned(),
            entity: PhantomData,
        }
    }
}

impl<F> Companionship for Joined<F>
where
    F: Scoped + Sync,
    F::Model: FromQueryResult,
{
    type Item = F::Model;

    fn companion(&self) -> Companion {
        self.companion.clone()
    }

    /// Each page row's key with its companion row, `None` where the caller may not see one (what the loader
    /// then answers too); rows whose key is null are left out.
    fn read(&self, rows: &[QueryResult]) -> Result<Keyed<F::Model>, DbErr> {
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(key) = row.try_get::<Option<i64>>("", &self.foreign_key)? else { continue };
            let model = match row.try_get::<Option<i64>>(&self.prefix, "id")? {
                Some(_) => Some(F::Model::from_query_result(row, &self.prefix)?),
                None => None,
            };
            found.push((key, model));
        }
        Ok(found)
    }
}

/// A value computed for each page row by a correlated scalar subquery, keyed by the page row's id.
pub struct Computed<V> {
    name: String,
    companion: Companion,
    value: PhantomData<V>,
}

impl<V: TryGetable> Computed<V> {
    /// `select` yields one value (or none) for the page row it refers to through its table's own name (the page
    /// is a derived table of that name).
    pub fn by(name: &str, select: SelectStatement) -> Self {
        let name = format!("gg_{name}");
        Self {
            companion: Companion::Value { name: name.clone(), select: Box::new(select) },
            name,
            value: PhantomData,
        }
    }
}

impl<V: TryGetable + Sync> Companionship for Computed<V> {
    type Item = V;

    fn companion(&self) -> Companion {
        self.companion.clone()
    }

    /// Each page row's id with its value (`None` for SQL NULL).
    fn read(&self, rows: &[QueryResult]) -> Result<Keyed<V>, DbErr> {
        rows.iter()
            .map(|row| Ok((row.try_get::<i64>("", "id")?, row.try_get::<Option<V>>("", &self.name)?)))
            .collect()
    }
}

/// `page` (a statement over `E`'s table, already ordered and limited) as a derived table named after that table,
/// with `companions` beside its columns, in `order` (expressions over the page's own columns).
pub fn wrap<E: EntityTrait>(
    page: SelectStatement,
    companions: &[Companion],
    order: Vec<(Expr, Order)>,
) -> SelectStatement {
    let table = Alias::new(E::default().table_name());
    let mut outer = Query::select();
    outer.column((table.clone(), Asterisk)).from_subquery(page, table);
    for companion in companions {
        match companion.clone() {
            Companion::Row { table, columns, names, on } => {
                outer.join(JoinType::LeftJoin, Alias::new(table), on);
                for (column, name) in columns.into_iter().zip(names) {
                    outer.expr_as(column, Alias::new(name));
                }
            }
            Companion::Value { name, select } => {
                outer.expr_as(
                    Expr::SubQuery(None, Box::new((*select).into_sub_query_statement())),
                    Alias::new(name),
                );
            }
        }
    }
    for (expr, order) in order {
        outer.order_by_expr(expr, order);
    }
    outer
}
