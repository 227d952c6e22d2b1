//! The administrative tree: city → district → township → community → grid, in one table.
//!
//! `path` is the materialized path of codes (`/330900/330902/330902001/`), so "everything under 定海区" is the
//! single indexed range predicate `path >= '/330900/330902/' AND path < '/330900/3309020'`.

use sea_orm::entity::prelude::*;

/// The five administrative levels, from the city down to the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(9))")]
pub enum RegionLevel {
    #[sea_orm(string_value = "CITY")]
    City,
    #[sea_orm(string_value = "DISTRICT")]
    District,
    #[sea_orm(string_value = "TOWNSHIP")]
    Township,
    #[sea_orm(string_value = "COMMUNITY")]
    Community,
    #[sea_orm(string_value = "GRID")]
    Grid,
}

impl RegionLevel {
    /// Depth in the tree: the city is 0, a grid is 4.
    pub fn depth(self) -> i16 {
        match self {
            Self::City => 0,
            Self::District => 1,
            Self::Township => 2,
            Self::Community => 3,
            Self::Grid => 4,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "region")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_id: Option<i64>,
    #[sea_orm(unique)]
    pub path: String,
    pub depth: i16,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
    Parent,
    #[sea_orm(has_many = "super::grid_team_member::Entity")]
    GridTeamMember,
    #[sea_orm(has_many = "super::volunteer::Entity")]
    Volunteer,
    #[sea_orm(has_many = "super::care_subject::Entity")]
    CareSubject,
    #[sea_orm(has_many = "super::service_record::Entity")]
    ServiceRecord,
}

impl Related<super::grid_team_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::GridTeamMember.def()
    }
}

impl Related<super::volunteer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Volunteer.def()
    }
}

impl Related<super::care_subject::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CareSubject.def()
    }
}

impl Related<super::service_record::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ServiceRecord.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// Depth of a materialized path: `/330900/` is 0.
pub fn path_depth(path: &str) -> i16 {
    let parts = path.split('/').filter(|part| !part.is_empty()).count();
    i16::try_from(parts).unwrap_or(i16::MAX) - 1
}

/// Whether the region with path `path` is a grid: the deepest level, whose subtree is the region alone.
pub fn is_grid_path(path: &str) -> bool {
    path_depth(path) == RegionLevel::Grid.depth()
}

/// A path (or subtree bound) as an SQL string literal, when it consists of code characters only; `None` means
/// it must be bound as a parameter.
///
/// Statements are prepared and cached per connection, and after a few executions PostgreSQL may switch to a
/// generic plan that cannot know how much of the region tree a bound path range selects: it then guesses a
/// handful of regions and, for a city-wide range, probes them one at a time instead of hashing them. With the
/// bounds in the statement every plan is made for its own subtree.
pub fn path_literal(path: &str) -> Option<String> {
    path.chars().all(|c| c.is_ascii_alphanumeric() || c == '/').then(|| format!("'{path}'"))
}

/// The half-open range of `path` values that make up the subtree rooted at the region with path `path`
/// (the region itself included). `/` sorts just below `0`, so replacing the final `/` gives the upper bound.
pub fn subtree_bounds(path: &str) -> (String, String) {
    let mut upper = path.trim_end_matches('/').to_owned();
    upper.push('0');
    (path.to_owned(), upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_bounds_cover_descendants_only() {
        let (low, high) = subtree_bounds("/330900/330902/");
        for inside in ["/330900/330902/", "/330900/330902/330902001/", "/330900/330902/330902013/x/"] {
            assert!(inside >= low.as_str() && inside < high.as_str(), "{inside}");
        }
        for outside in ["/330900/", "/330900/330903/", "/330900/3309020/", "/330900/33090/"] {
            assert!(!(outside >= low.as_str() && outside < high.as_str()), "{outside}");
        }
    }

    #[test]
    fn only_paths_of_the_deepest_level_are_grid_paths() {
        assert!(is_grid_path("/330900/330902/330902003/330902003005/330902003005007/"));
        assert!(!is_grid_path("/330900/330902/330902003/330902003005/"));
        assert!(!is_grid_path("/330900/"));
    }

    #[test]
    fn depths_follow_levels() {
        assert_eq!(RegionLevel::City.depth(), 0);
        assert_eq!(RegionLevel::Grid.depth(), 4);
    }
}
