//! `VolunteerFilter` and `VolunteerOrder`: boolean filters over volunteers compiled into one SQL condition, and
//! the orderings a volunteer list can take.

use std::collections::{BTreeSet, HashMap};

use async_graphql::{Enum, InputObject};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{
    region, service_record, volunteer, volunteer_badge, volunteer_team, volunteer_team_membership,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use super::service::ActivityType;
use super::teams::BadgeKind;
use super::types::VolunteerStatus;
use crate::auth::viewer::in_subtree;
use crate::error::ApiError;

/// How deeply `and`/`or`/`not` may nest.
const MAX_DEPTH: usize = 8;
/// How many filter objects one filter may hold in all.
const MAX_NODES: usize = 64;

/// Volunteers who served somewhere in a period: "who patrolled in this grid in March?"
#[derive(InputObject, Debug, Clone)]
pub struct ServedInFilter {
    /// The grid or any region above it where the service took place.
    pub region_code: String,
    /// Service that started at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Service that started before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only service of this activity.
    pub activity: Option<ActivityType>,
}

/// Conditions on volunteers. The fields of one filter combine with AND; `and`, `or` and `not` combine whole
/// filters. Region codes that do not exist match nothing.
#[derive(InputObject, Debug, Clone, Default)]
pub struct VolunteerFilter {
    /// Only volunteers whose home grid lies in the region with this code (any level).
    pub in_region: Option<String>,
    /// Only volunteers with this status.
    pub status: Option<VolunteerStatus>,
    /// Registration codes starting with this text; for roles that see names in clear, also names starting with it.
    pub search: Option<String>,
    /// Only volunteers registered on or after this day.
    pub registered_from: Option<NaiveDate>,
    /// Only volunteers registered on or before this day.
    pub registered_to: Option<NaiveDate>,
    /// Only volunteers carrying this badge.
    pub badge: Option<BadgeKind>,
    /// Only members of the team with this code.
    pub team_code: Option<String>,
    /// Only volunteers with at least one service record matching this.
    pub served_in: Option<ServedInFilter>,
    /// Only volunteers matching every one of these filters.
    pub and: Option<Vec<VolunteerFilter>>,
    /// Only volunteers matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<VolunteerFilter>>,
    /// Only volunteers not matching this filter.
    pub not: Option<Box<VolunteerFilter>>,
}

/// The orderings of a volunteer list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum VolunteerOrderField {
    /// Registration code (the default, the same as registration order).
    Code,
    /// Day of registration.
    RegisteredOn,
    /// Full name (only for roles that see names in clear).
    Name,
}

/// How to order a volunteer list.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct VolunteerOrder {
    /// The field to sort by; ties are broken by registration order.
    pub field: VolunteerOrderField,
    /// Largest first when true.
    #[graphql(default)]
    pub descending: bool,
}

fn check(
    filter: &VolunteerFilter,
    path: &str,
    depth: usize,
    nodes: &mut usize,
    codes: &mut BTreeSet<String>,
) -> Result<(), ApiError> {
    *nodes += 1;
    if depth > MAX_DEPTH {
        return Err(ApiError::bad_input(path, format!("filters may nest at most {MAX_DEPTH} levels deep")));
    }
    if *nodes > MAX_NODES {
        return Err(ApiError::bad_input(path, format!("a filter may hold at most {MAX_NODES} parts")));
    }
    if let Some(search) = &filter.search
        && (search.trim().is_empty() || search.chars().count() > 64)
    {
        return Err(ApiError::bad_input(format!("{path}.search"), "1 to 64 characters"));
    }
    if let (Some(from), Some(to)) = (filter.registered_from, filter.registered_to)
        && from > to
    {
        return Err(ApiError::bad_input(format!("{path}.registeredTo"), "before registeredFrom"));
    }
    if let Some(code) = &filter.in_region {
        codes.insert(code.clone());
    }
    if let Some(served) = &filter.served_in {
        codes.insert(served.region_code.clone());
        if let (Some(from), Some(to)) = (served.from, served.to)
            && from >= to
        {
            return Err(ApiError::bad_input(format!("{path}.servedIn.to"), "must be after `from`"));
        }
    }
    for (index, part) in filter.and.iter().flatten().enumerate() {
        check(part, &format!("{path}.and[{index}]"), depth + 1, nodes, codes)?;
    }
    for (index, part) in filter.or.iter().flatten().enumerate() {
        check(part, &format!("{path}.or[{index}]"), depth + 1, nodes, codes)?;
    }
    if let Some(part) = &filter.not {
        check(part, &format!("{path}.not"), depth + 1, nodes, codes)?;
    }
    Ok(())
}

/// Validates `filter` and compiles it into a condition on `volunteer`: one statement to look up the region codes
/// it names, whatever its shape. `names_visible`: whether `search` may match names.
pub async fn compile(
    db: &DatabaseConnection,
    filter: &VolunteerFilter,
    names_visible: bool,
) -> Result<Condition, ApiError> {
    let mut codes = BTreeSet::new();
    check(filter, "filter", 1, &mut 0, &mut codes)?;
    let paths: HashMap<String, String> = if codes.is_empty() {
        HashMap::new()
    } else {
        region::Entity::find()
            .filter(region::Column::Code.is_in(codes))
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.code, row.path))
            .collect()
    };
    Ok(condition(filter, &paths, names_visible))
}

fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

fn condition(filter: &VolunteerFilter, paths: &HashMap<String, String>, names_visible: bool) -> Condition {
    let mut all = Condition::all();
    if let Some(code) = &filter.in_region {
        all = all.add(match paths.get(code) {
            Some(path) => in_subtree(volunteer::Column::RegionId, path),
            None => nothing(),
        });
    }
    if let Some(status) = filter.status {
        all = all.add(volunteer::Column::Status.eq(volunteer::VolunteerStatus::from(status)));
    }
    if let Some(search) = &filter.search {
        let prefix = search.trim().to_owned();
        let mut any = Condition::any().add(volunteer::Column::Code.starts_with(prefix.to_uppercase()));
        if names_visible {
            any = any.add(volunteer::Column::Name.starts_with(prefix));
        }
        all = all.add(any);
    }
    if let Some(from) = filter.registered_from {
        all = all.add(volunteer::Column::RegisteredOn.gte(from));
    }
    if let Some(to) = filter.registered_to {
        all = all.add(volunteer::Column::RegisteredOn.lte(to));
    }
    if let Some(badge) = filter.badge {
        let with_badge = Query::select()
            .column(volunteer_badge::Column::VolunteerId)
            .from(volunteer_badge::Entity)
            .and_where(volunteer_badge::Column::Badge.eq(volunteer_badge::BadgeKind::from(badge)))
            .to_owned();
        all = all.add(volunteer::Column::Id.in_subquery(with_badge));
    }
    if let Some(code) = &filter.team_code {
        let members = Query::select()
            .column(volunteer_team_membership::Column::VolunteerId)
            .from(volunteer_team_membership::Entity)
            .inner_join(
                volunteer_team::Entity,
                Expr::col((volunteer_team::Entity, volunteer_team::Column::Id))
                    .equals((volunteer_team_membership::Entity, volunteer_team_membership::Column::TeamId)),
            )
            .and_where(volunteer_team::Column::Code.eq(code.trim()))
            .to_owned();
        all = all.add(volunteer::Column::Id.in_subquery(members));
    }
    if let Some(served) = &filter.served_in {
        all = all.add(match paths.get(&served.region_code) {
            Some(path) => {
                let mut records = Query::select();
                records
                    .column(service_record::Column::VolunteerId)
                    .from(service_record::Entity)
                    .cond_where(in_subtree(service_record::Column::GridId, path));
                if let Some(from) = served.from {
                    records.and_where(service_record::Column::StartedAt.gte(from));
                }
                if let Some(to) = served.to {
                    records.and_where(service_record::Column::StartedAt.lt(to));
                }
                if let Some(activity) = served.activity {
                    records.and_where(
                        service_record::Column::Activity.eq(service_record::ActivityType::from(activity)),
                    );
                }
                Condition::all().add(volunteer::Column::Id.in_subquery(records.to_owned()))
            }
            None => nothing(),
        });
    }
    for part in filter.and.iter().flatten() {
        all = all.add(condition(part, paths, names_visible));
    }
    if let Some(parts) = &filter.or {
        if parts.is_empty() {
            all = all.add(nothing());
        } else {
            let mut any = Condition::any();
            for part in parts {
                any = any.add(condition(part, paths, names_visible));
            }
            all = all.add(any);
        }
    }
    if let Some(part) = &filter.not {
        all = all.add(condition(part, paths, names_visible).not());
    }
    all
}
