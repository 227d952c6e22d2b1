//! `RegionFilter`/`RegionOrder` and `GridTeamMemberFilter`/`GridTeamMemberOrder`: boolean filters over regions
//! and the grids' service-team members, compiled into one SQL condition, and the orderings their lists can take.

use std::collections::BTreeSet;

use async_graphql::{Enum, InputObject};
use entities::{grid_team_member, region};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

use super::types::{RegionLevel, TeamRole};

use crate::error::ApiError;
use crate::filter::check_search;
use crate::filter::contains_text;
use crate::filter::{BooleanFilter, FilterContext, nothing, prefix_pattern};

/// Conditions on grid team members. The fields of one filter combine with AND; `and`, `or` and `not` combine
/// whole filters. Region codes that do not exist match nothing.
#[derive(InputObject, Debug, Clone, Default)]
pub struct GridTeamMemberFilter {
    /// Only members of the teams of grids in the region with this code (any level, the grid itself included).
    pub in_region: Option<String>,
    /// Only members with this role.
    pub role: Option<TeamRole>,
    /// Members whose name contains this text (1 to 64 characters; names are public contact information).
    pub search: Option<String>,
    /// Only members matching every one of these filters.
    pub and: Option<Vec<GridTeamMemberFilter>>,
    /// Only members matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<GridTeamMemberFilter>>,
    /// Only members not matching this filter.
    pub not: Option<Box<GridTeamMemberFilter>>,
}

impl BooleanFilter for GridTeamMemberFilter {
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
                Some(path) => crate::scope::within::<grid_team_member::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(role) = self.role {
            all = all.add(grid_team_member::Column::Role.eq(grid_team_member::TeamRole::from(role)));
        }
        if let Some(search) = &self.search {
            all = all.add(contains_text(grid_team_member::Column::Name, search.trim()));
        }
        all
    }
}

/// The orderings of a grid-team-member list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum GridTeamMemberOrderField {
    /// The code of the member's grid (members of one grid stay together).
    GridCode,
    /// The member's name.
    Name,
}

/// How to order a grid-team-member list.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct GridTeamMemberOrder {
    /// The field to sort by; ties are broken by the order members were added.
    pub field: GridTeamMemberOrderField,
    /// Largest first when true.
    #[graphql(default)]
    pub descending: bool,
}

/// Conditions on regions. The fields of one filter combine with AND; `and`, `or` and `not` combine whole
/// filters. Region codes that do not exist match nothing.
#[derive(InputObject, Debug, Clone, Default)]
pub struct RegionFilter {
    /// Only the region with this code and everything below it.
    pub in_region: Option<String>,
    /// Only the direct children of the region with this code.
    pub parent_code: Option<String>,
    /// Only regions of this level.
    pub level: Option<RegionLevel>,
    /// Only regions of one of these levels (an empty list matches nothing).
    pub level_in: Option<Vec<RegionLevel>>,
    /// Regions whose name contains this text, or whose code starts with it (1 to 64 characters).
    pub search: Option<String>,
    /// Only regions matching every one of these filters.
    pub and: Option<Vec<RegionFilter>>,
    /// Only regions matching at least one of these filters (an empty list matches nothing).
    pub or: Option<Vec<RegionFilter>>,
    /// Only regions not matching this filter.
    pub not: Option<Box<RegionFilter>>,
}

impl BooleanFilter for RegionFilter {
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
                Some(path) => crate::scope::within::<region::Entity>(path),
                None => nothing(),
            });
        }
        if let Some(code) = &self.parent_code {
            let parents = Query::select()
                .column(region::Column::Id)
                .from(region::Entity)
                .and_where(region::Column::Code.eq(code.as_str()))
                .to_owned();
            all = all.add(region::Column::ParentId.in_subquery(parents));
        }
        if let Some(level) = self.level {
            all = all.add(region::Column::Level.eq(region::RegionLevel::from(level)));
        }
        if let Some(levels) = &self.level_in {
            let levels: Vec<region::RegionLevel> = levels.iter().copied().map(Into::into).collect();
            all = all.add(if levels.is_empty() {
                nothing()
            } else {
                Condition::all().add(region::Column::Level.is_in(levels))
            });
        }
        if let Some(search) = &self.search {
            let text = search.trim();
            all = all.add(
                Condition::any().add(code_starts_with(text)).add(contains_text(region::Column::Name, text)),
            );
        }
        all
    }
}

/// Regions whose code starts with `text`, wildcards taken literally.
fn code_starts_with(text: &str) -> Condition {
    Condition::all().add(Expr::col((region::Entity, region::Column::Code)).like(prefix_pattern(text)))
}

/// The orderings of a region list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RegionOrderField {
    /// The administrative code (parents before their children).
    Code,
    /// The name.
    Name,
    /// The depth in the tree (the city first), then the code.
    Depth,
}

/// How to order a region list.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct RegionOrder {
    /// The field to sort by; ties are broken by the order regions were registered.
    pub field: RegionOrderField,
    /// Largest first when true.
    #[graphql(default)]
    pub descending: bool,
}
