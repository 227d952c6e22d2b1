//! Scoped reads by construction: the one way resolver and loader code reads rows of a table.
//!
//! Every entity declares how its rows are scoped ([`Scoped`]): by its own region or grid column, as the region
//! tree itself, through the parent row it belongs to, or by a rule of its own; and, beside the region rule, an
//! optional relationship rule ("assigned to me"). [`read`] returns a select that already carries the caller's
//! predicate, [`ids`] and [`ids_among`] the subqueries of ids in scope that joins and loaders need, and
//! [`within`] the same rule rooted at any region (filters such as `inRegion`). A read that must see rows
//! regardless of the caller goes through [`unscoped`], which names its reason; a test keeps the callers of
//! [`unscoped`] on a reviewed list, and another fails when an entity exists without a declared rule.

mod rules;
mod subtree;

use entities::region;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use crate::auth::viewer::Access;
pub use subtree::{
    in_subtree, join_region_ancestors, path_in_subtree_sql, region_in_subtree, regions_under,
    subtree_upper_sql,
};

pub use rules::{SCOPED_TABLES, UNSCOPED_TABLES, funds_kept_by};

/// Where a rule is evaluated: the subtree whose rows are wanted and, for the caller's own reads, the caller
/// (whose relationship rules then apply too).
#[derive(Clone, Copy)]
pub struct Reach<'a> {
    /// Materialized path of the subtree's root; `None` for the whole tree (public data read without a token).
    pub path: Option<&'a str>,
    /// The caller, for reads on their behalf; `None` for a pure region rule (a filter's subtree).
    pub access: Option<&'a Access>,
}

/// How the rows of an entity are scoped.
pub enum Rule<E: EntityTrait> {
    /// The row's region or grid foreign key lies in the subtree.
    Region(E::Column),
    /// The row is a region of the subtree (the region table itself).
    RegionTree,
    /// The row belongs to a parent row that is in scope: `column IN (ids of the parent in scope)`.
    Parent(E::Column, fn(&Reach<'_>) -> SelectStatement),
    /// A rule of the entity's own, for what the other forms cannot say (a fund also serves its region's
    /// descendants' callers).
    Own(fn(&Reach<'_>) -> Condition),
}

/// An entity whose reads are scoped. Implemented for every table in [`rules`].
pub trait Scoped: EntityTrait {
    /// The region rule.
    fn rule() -> Rule<Self>;

    /// A relationship rule beside the region rule, for the caller's own reads (for example "cases assigned to
    /// me" for mediators); `None` when the region rule alone decides.
    fn relationship(_access: &Access) -> Option<Condition> {
        None
    }
}

/// The condition of `E`'s rule at `reach`.
pub fn condition_at<E: Scoped>(reach: &Reach<'_>) -> Condition {
    let region_rule = match (E::rule(), reach.path) {
        (Rule::Own(own), _) => own(reach),
        (_, None) => Condition::all(),
        (Rule::Region(column), Some(path)) => in_subtree(column, path),
        (Rule::RegionTree, Some(path)) => regions_under(path),
        (Rule::Parent(column, parent_ids), Some(_)) => {
            Condition::all().add(column.in_subquery(parent_ids(reach)))
        }
    };
    // Wrapped, so that whatever callers add to it is an AND even when a rule is an OR of its own (a fund's, a
    // dispute's), and the relationship rule narrows the region rule rather than widening it.
    let all = Condition::all().add(region_rule);
    match reach.access.and_then(E::relationship) {
        Some(relationship) => all.add(relationship),
        None => all,
    }
}

/// The caller's predicate on `E`: their region subtree (none for public reads without a token) and `E`'s
/// relationship rule.
pub fn condition<E: Scoped>(access: &Access) -> Condition {
    let path = access.scope.as_ref().map(|scope| scope.path.as_str());
    condition_at::<E>(&Reach { path, access: Some(access) })
}

/// The rows of `E` the caller may read: the one entry point of resolvers and loaders.
pub fn read<E: Scoped>(access: &Access) -> Select<E> {
    E::find().filter(condition::<E>(access))
}

/// The rows of `E` the caller may read that match `filtered`, where every row matching `filtered` lies under the
/// region with path `confining_path` when one is given (a top-level `inRegion`). When that region lies inside the
/// caller's scope, every row it matches is in scope already and the region predicate would only give the
/// planner a second semi-join to cost: it is left out then, the relationship rule kept. In every other case (no
/// confining region, one outside or above the scope) the whole predicate is kept.
pub fn read_filtered<E: Scoped>(
    access: &Access,
    filtered: Condition,
    confining_path: Option<&str>,
) -> Select<E> {
    let confined = match (&access.scope, confining_path) {
        (Some(scope), Some(path)) => path.starts_with(&scope.path),
        // Public data read without a token: there is no region predicate to begin with.
        (None, _) => true,
        (Some(_), None) => false,
    };
    let scope = if confined {
        E::relationship(access).unwrap_or_else(Condition::all)
    } else {
        condition::<E>(access)
    };
    E::find().filter(scope).filter(filtered)
}

/// The rows of `E` under the region with materialized path `path`, by `E`'s region rule alone: the subtree of a
/// filter such as `inRegion`, to be combined with [`read`].
pub fn within<E: Scoped>(path: &str) -> Condition {
    condition_at::<E>(&Reach { path: Some(path), access: None })
}

/// `SELECT id FROM E WHERE <E's rule at reach>`.
pub fn ids_at<E: Scoped>(reach: &Reach<'_>) -> SelectStatement {
    Query::select()
        .column((E::default(), Alias::new("id")))
        .from(E::default())
        .cond_where(condition_at::<E>(reach))
        .to_owned()
}

/// `SELECT id FROM E WHERE <the caller's predicate>`: the rows in scope as a subquery.
pub fn ids<E: Scoped>(access: &Access) -> SelectStatement {
    let path = access.scope.as_ref().map(|scope| scope.path.as_str());
    ids_at::<E>(&Reach { path, access: Some(access) })
}

/// Those of `among` that are rows of `E` in the caller's scope, as a subquery. Loaders keyed by a parent use it:
/// with the ids inside, the subquery is a few primary-key lookups, where the scope's rows alone would be
/// materialized whole by SQLite (thousands of ids for a district) before the outer query is read.
pub fn ids_among<E: Scoped>(access: &Access, among: &[i64]) -> SelectStatement {
    let mut ids = ids::<E>(access);
    ids.and_where(Expr::col((E::default(), Alias::new("id"))).is_in(among.iter().copied()));
    ids
}

/// The rows of `E` the caller may read that belong to one of the parents `among`, for loaders keyed by parent
/// (a volunteer's badges, a subject's visits). For an entity scoped through its parent the parent's subquery
/// carries the ids, so it is a few primary-key lookups instead of every parent of the scope materialized first
/// (SQLite does that for a bare subquery); for other entities it is [`read`].
pub fn read_among<E: Scoped>(access: &Access, among: &[i64]) -> Select<E> {
    read_through_narrowed_parents(access, |_| Expr::col(Alias::new("id")).is_in(among.iter().copied()))
}

/// The rows of `E` the caller may read, for a statement correlated to a few rows (a page's scalar subquery).
/// For an entity scoped through its parent, the parent's subquery is narrowed to the row's own parent, so it is
/// one primary-key lookup per row instead of every parent of the scope materialized first (as [`read_among`]
/// does for a loader's keys); for other entities it is [`read`].
pub fn read_correlated<E: Scoped>(access: &Access) -> Select<E> {
    read_through_narrowed_parents(access, |column: E::Column| {
        Expr::col(Alias::new("id")).equals(column.as_column_ref())
    })
}

/// [`read`], with the parent's subquery of an entity scoped through its parent narrowed by `narrowing` (given
/// the entity's parent column; the subquery reads the parent table alone, so a bare `id` is the parent's).
fn read_through_narrowed_parents<E: Scoped>(
    access: &Access,
    narrowing: impl FnOnce(E::Column) -> Expr,
) -> Select<E> {
    let Rule::Parent(column, parent_ids) = E::rule() else { return read::<E>(access) };
    let path = access.scope.as_ref().map(|scope| scope.path.as_str());
    let mut parents = parent_ids(&Reach { path, access: Some(access) });
    parents.and_where(narrowing(column));
    let select = E::find().filter(column.in_subquery(parents));
    match E::relationship(access) {
        Some(relationship) => select.filter(relationship),
        None => select,
    }
}

/// Why a read ignores the caller's scope. Each is a reviewed place (see `UNSCOPED_CALLERS` in the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unscoped {
    /// Resolving region codes to their paths (the token's own region, `inRegion` filters); scope is applied to
    /// the rows those paths then select.
    RegionDirectory,
    /// The public contacts of a grid's team (联系方式全公开), readable without a token.
    PublicGridTeam,
    /// The audit chain's own bookkeeping: appending events and verifying the chain.
    AuditChain,
    /// `govgraph ledger verify` and the ledger's own bookkeeping inside a write (idempotency keys, fund locks).
    Ledger,
    /// `govgraph stats verify` and the statistics rollup's own bookkeeping.
    StatisticsRollup,
    /// A row already proven to be in scope, re-read inside the same write transaction (its id came from a
    /// scoped read of the same request).
    SameTransaction,
    /// The rows a write has just inserted, returned by its own statement.
    JustWritten,
    /// An idempotency key is unique across its table: a key reused by anyone is a conflict, which is all the
    /// caller learns.
    IdempotencyKey,
    /// The totals of a fund the caller may see: sums over all its entries, which reveal no entry.
    FundTotals,
}

/// The rows of `E` whatever the caller's scope, for the reason given.
pub fn unscoped<E: EntityTrait>(_reason: Unscoped) -> Select<E> {
    E::find()
}

/// `region.path` of the region rows in scope, for statements that join the region table by hand.
pub fn region_paths(access: &Access) -> Condition {
    condition::<region::Entity>(access)
}

#[cfg(test)]
mod tests;
