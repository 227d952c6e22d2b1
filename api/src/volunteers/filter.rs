//! `VolunteerFilter` and `VolunteerOrder`: boolean filters over volunteers compiled into one SQL condition, and
//! the orderings a volunteer list can take.

use std::collections::BTreeSet;

use async_graphql::{Enum, InputObject};
use entities::{service_record, volunteer, volunteer_badge, volunteer_team, volunteer_team_membership};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

use super::service::ActivityType;
use super::teams::BadgeKind;
use super::types::VolunteerStatus;
use crate::error::ApiError;
use crate::filter::contains_text;
use crate::filter::{BooleanFilter, FilterContext, check_search, nothing};

/// Volunteers who served somewhere in a period: "who patrolled in this grid in March?"
#[derive(InputObject, Debug, Clone)]
pub struct ServedInFilter {
    /// The grid or any region above it where the service took place.
    pub region_code: String,
    /// Service that started at or after this instant.
    pub from: Option<crate::scalars::Timestamp>,
    /// Service that started before this instant.
    pub to: Option<crate::scalars::Timestamp>,
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
    pub registered_from: Option<crate::scalars::Date>,
    /// Only volunteers registered on or before this day.
    pub registered_to: Option<crate::scalars::Date>,
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
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum VolunteerOrderField {
    /// Registration code (the default, the same as registration order).
    Code,
    /// Day of registration.
    RegisteredOn,
    /// Full name (only for roles that see names in clear).
    Name,
}

/// How to order a volunteer list.
#[derive(InputObject, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VolunteerOrder {
    /// The field to sort by; ties are broken by registration order.
    pub field: VolunteerOrderField,
    /// Largest first when true.
    #[graphql(default)]
    pub descending: bool,
}

impl BooleanFilter for VolunteerFilter {
    fn all_of(&self) -> &[Self] {
        self.and.as_deref().unwrap_or_default()
    }

    fn any_of(&self) -> Option<&[Self]> {
        self.or.as_deref()
    }

    fn none_of(&self) -> Option<&Self> {
        self.not.as_deref()
    }

    fn confining_region(&self) -> Option<&str> {
        self.in_region.as_deref().map(str::trim)
    }

    fn check_fields(&self, path: &str, codes: &mut BTreeSet<String>) -> Result<(), ApiError> {
        if let Some(search) = &self.search
            && (search.trim().is_empty() || search.chars().count() > 64)
        {
            return Err(ApiError::bad_input(format!("{path}.search"), "1 to 64 characters"));
        }
        if let (Some(from), Some(to)) = (self.registered_from, self.registered_to)
            && from > to
        {
            return Err(ApiError::bad_input(format!("{path}.registeredTo"), "before registeredFrom"));
        }
        if let Some(code) = &self.in_region {
            codes.insert(code.clone());
        }
        if let Some(served) = &self.served_in {
            codes.insert(served.region_code.clone());
            if let (Some(from), Some(to)) = (served.from, served.to)
                && from >= to
            {
                return Err(ApiError::bad_input(format!("{path}.servedIn.to"), "must be after `from`"));
            }
        }
        Ok(())
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.in_region {
            all = all.add(match context.path(code) {
                Some(path) => crate::scope::within::<volunteer::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(status) = self.status {
            all = all.add(volunteer::Column::Status.eq(volunteer::VolunteerStatus::from(status)));
        }
        if let Some(search) = &self.search {
            let prefix = search.trim().to_owned();
            let mut any = Condition::any().add(volunteer::Column::Code.starts_with(prefix.to_uppercase()));
            if context.names_visible {
                any = any.add(volunteer::Column::Name.starts_with(prefix));
            }
            all = all.add(any);
        }
        if let Some(from) = self.registered_from {
            all = all.add(volunteer::Column::RegisteredOn.gte(from));
        }
        if let Some(to) = self.registered_to {
            all = all.add(volunteer::Column::RegisteredOn.lte(to));
        }
        if let Some(badge) = self.badge {
            let with_badge = Query::select()
                .column(volunteer_badge::Column::VolunteerId)
                .from(volunteer_badge::Entity)
                .and_where(volunteer_badge::Column::Badge.eq(volunteer_badge::BadgeKind::from(badge)))
                .to_owned();
            all = all.add(volunteer::Column::Id.in_subquery(with_badge));
        }
        if let Some(code) = &self.team_code {
            let members = Query::select()
                .column(volunteer_team_membership::Column::VolunteerId)
                .from(volunteer_team_membership::Entity)
                .inner_join(
                    volunteer_team::Entity,
                    Expr::col((volunteer_team::Entity, volunteer_team::Column::Id)).equals((
                        volunteer_team_membership::Entity,
                        volunteer_team_membership::Column::TeamId,
                    )),
                )
                .and_where(volunteer_team::Column::Code.eq(code.trim()))
                .to_owned();
            all = all.add(volunteer::Column::Id.in_subquery(members));
        }
        if let Some(served) = &self.served_in {
            all = all.add(match context.path(&served.region_code) {
                Some(path) => {
                    let mut records = Query::select();
                    records
                        .column(service_record::Column::VolunteerId)
                        .from(service_record::Entity)
                        .cond_where(crate::scope::within::<service_record::Entity>(path));
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
        all
    }
}

/// Conditions on service records. The fields of one filter combine with AND; `and`, `or` and `not` combine
/// whole filters. Region codes that do not exist match nothing.
#[derive(InputObject, Debug, Clone, Default)]
pub struct ServiceRecordFilter {
    /// Only service in a grid of the region with this code (any level).
    pub in_region: Option<String>,
    /// Only service by the volunteer with this registration code.
    pub volunteer_code: Option<String>,
    /// Only service of this activity.
    pub activity: Option<ActivityType>,
    /// Only service that started at or after this instant.
    pub from: Option<crate::scalars::Timestamp>,
    /// Only service that started before this instant.
    pub to: Option<crate::scalars::Timestamp>,
    /// Only stints at least this many minutes long.
    pub min_minutes: Option<i32>,
    /// Only records matching every one of these filters.
    pub and: Option<Vec<ServiceRecordFilter>>,
    /// Only records matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<ServiceRecordFilter>>,
    /// Only records not matching this filter.
    pub not: Option<Box<ServiceRecordFilter>>,
}

impl BooleanFilter for ServiceRecordFilter {
    fn all_of(&self) -> &[Self] {
        self.and.as_deref().unwrap_or_default()
    }

    fn any_of(&self) -> Option<&[Self]> {
        self.or.as_deref()
    }

    fn none_of(&self) -> Option<&Self> {
        self.not.as_deref()
    }

    fn confining_region(&self) -> Option<&str> {
        self.in_region.as_deref().map(str::trim)
    }

    fn check_fields(&self, path: &str, codes: &mut BTreeSet<String>) -> Result<(), ApiError> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(ApiError::bad_input(format!("{path}.to"), "must be after `from`"));
        }
        if let Some(minutes) = self.min_minutes
            && minutes < 0
        {
            return Err(ApiError::bad_input(format!("{path}.minMinutes"), "must not be negative"));
        }
        if let Some(code) = &self.in_region {
            codes.insert(code.clone());
        }
        Ok(())
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.in_region {
            all = all.add(match context.path(code) {
                Some(path) => crate::scope::within::<service_record::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(code) = &self.volunteer_code {
            let volunteer_ids = Query::select()
                .column(volunteer::Column::Id)
                .from(volunteer::Entity)
                .and_where(volunteer::Column::Code.eq(code.trim()))
                .to_owned();
            all = all.add(service_record::Column::VolunteerId.in_subquery(volunteer_ids));
        }
        if let Some(activity) = self.activity {
            all = all.add(service_record::Column::Activity.eq(service_record::ActivityType::from(activity)));
        }
        if let Some(from) = self.from {
            all = all.add(service_record::Column::StartedAt.gte(from));
        }
        if let Some(to) = self.to {
            all = all.add(service_record::Column::StartedAt.lt(to));
        }
        if let Some(minutes) = self.min_minutes {
            all = all.add(service_record::Column::Minutes.gte(minutes));
        }
        all
    }
}

/// The orderings of a service-record list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ServiceRecordOrderField {
    /// When the service started.
    StartedAt,
    /// How long it lasted.
    Minutes,
}

/// How to order a service-record list.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct ServiceRecordOrder {
    /// The field to sort by; ties are broken by the order records were logged.
    pub field: ServiceRecordOrderField,
    /// Largest (latest) first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// Conditions on volunteer teams. The fields of one filter combine with AND; `and`, `or` and `not` combine whole
/// filters. Region codes that do not exist match nothing.
#[derive(InputObject, Debug, Clone, Default)]
pub struct VolunteerTeamFilter {
    /// Only teams that belong to the region with this code or to a region below it.
    pub in_region: Option<String>,
    /// Teams whose name contains this text, or whose code starts with it (1 to 64 characters).
    pub search: Option<String>,
    /// Only teams matching every one of these filters.
    pub and: Option<Vec<VolunteerTeamFilter>>,
    /// Only teams matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<VolunteerTeamFilter>>,
    /// Only teams not matching this filter.
    pub not: Option<Box<VolunteerTeamFilter>>,
}

impl BooleanFilter for VolunteerTeamFilter {
    fn all_of(&self) -> &[Self] {
        self.and.as_deref().unwrap_or_default()
    }

    fn any_of(&self) -> Option<&[Self]> {
        self.or.as_deref()
    }

    fn none_of(&self) -> Option<&Self> {
        self.not.as_deref()
    }

    fn check_fields(&self, path: &str, codes: &mut BTreeSet<String>) -> Result<(), ApiError> {
        check_search(self.search.as_deref(), || format!("{path}.search"))?;
        if let Some(code) = &self.in_region {
            codes.insert(code.clone());
        }
        Ok(())
    }

    fn fields_condition(&self, context: &FilterContext) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.in_region {
            all = all.add(match context.path(code) {
                Some(path) => crate::scope::within::<volunteer_team::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(search) = &self.search {
            let text = search.trim();
            all = all.add(
                Condition::any()
                    .add(volunteer_team::Column::Code.starts_with(text.to_uppercase()))
                    .add(contains_text(volunteer_team::Column::Name, text)),
            );
        }
        all
    }
}

/// The orderings of a volunteer-team list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum VolunteerTeamOrderField {
    /// Team code.
    Code,
    /// Team name.
    Name,
    /// Number of members in your scope (`memberCount`).
    MemberCount,
}

/// How to order a volunteer-team list.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct VolunteerTeamOrder {
    /// The field to sort by; ties are broken by the order teams were registered.
    pub field: VolunteerTeamOrderField,
    /// Largest first when true.
    #[graphql(default)]
    pub descending: bool,
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Query, SqliteQueryBuilder};

    use super::*;

    #[test]
    fn text_search_matches_wildcards_literally() {
        let sql = Query::select()
            .column(volunteer_team::Column::Code)
            .from(volunteer_team::Entity)
            .cond_where(contains_text(volunteer_team::Column::Name, "100%_!"))
            .to_string(SqliteQueryBuilder);
        assert!(sql.contains(r"LIKE '%100!%!_!!%' ESCAPE '!'"), "{sql}");
    }
}
