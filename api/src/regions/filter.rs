//! `GridTeamMemberFilter` and `GridTeamMemberOrder`: boolean filters over the grids' service-team members,
//! compiled into one SQL condition, and the orderings their list can take.

use std::collections::BTreeSet;

use async_graphql::{Enum, InputObject};
use entities::grid_team_member;
use sea_orm::{ColumnTrait, Condition};

use super::types::TeamRole;
use crate::auth::viewer::in_subtree;
use crate::error::ApiError;
use crate::filter::{BooleanFilter, FilterContext, nothing};
use crate::volunteers::filter::{check_search, contains_text};

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
                Some(path) => in_subtree(grid_team_member::Column::GridId, path),
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
