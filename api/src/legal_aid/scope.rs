//! Which funds, applications and ledger entries a caller may see.
//!
//! - An application is in scope when its region lies in the caller's subtree (like every other record).
//! - A fund serves its whole region, so it is visible to callers whose subtree contains the fund's region and to
//!   callers working anywhere inside that region: the city's three funds are visible to every fund role of the
//!   city, but a district's token sees only its own applications.
//! - A ledger entry is visible when its application is in scope, or, for entries without an application
//!   (donations, allocations and their reversals), when its fund is visible.

use entities::{ledger_entry, legal_aid_application, legal_aid_fund, region};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};

use crate::auth::Scope;

/// The applications of the caller's subtree; no restriction without a scope.
pub fn applications(scope: Option<&Scope>) -> Condition {
    match scope {
        Some(scope) => scope.contains(legal_aid_application::Column::RegionId),
        None => Condition::all(),
    }
}

/// The funds the caller may see: those of regions in the subtree, and those of the subtree root's ancestors.
pub fn funds(scope: Option<&Scope>) -> Condition {
    let Some(scope) = scope else { return Condition::all() };
    let ancestors: Vec<String> =
        scope.path.split('/').filter(|code| !code.is_empty()).map(str::to_owned).collect();
    let ancestor_ids = Query::select()
        .column(region::Column::Id)
        .from(region::Entity)
        .and_where(region::Column::Code.is_in(ancestors))
        .to_owned();
    Condition::any()
        .add(scope.contains(legal_aid_fund::Column::RegionId))
        .add(legal_aid_fund::Column::RegionId.in_subquery(ancestor_ids))
}

/// The ledger entries the caller may see.
pub fn entries(scope: Option<&Scope>) -> Condition {
    if scope.is_none() {
        return Condition::all();
    }
    let application_ids = Query::select()
        .column(legal_aid_application::Column::Id)
        .from(legal_aid_application::Entity)
        .cond_where(applications(scope))
        .to_owned();
    let fund_ids = Query::select()
        .column(legal_aid_fund::Column::Id)
        .from(legal_aid_fund::Entity)
        .cond_where(funds(scope))
        .to_owned();
    Condition::any().add(ledger_entry::Column::ApplicationId.in_subquery(application_ids)).add(
        Condition::all()
            .add(ledger_entry::Column::ApplicationId.is_null())
            .add(ledger_entry::Column::FundId.in_subquery(fund_ids)),
    )
}
