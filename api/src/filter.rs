//! Boolean filters (`and` / `or` / `not` over typed fields) compiled into one SQL condition.
//!
//! Each domain's filter input implements [`BooleanFilter`]: how to validate its own fields, which region codes
//! they name, and the condition its fields stand for. [`compile`] does the rest the same way for all: structure
//! limits, error paths such as `filter.or[2].not.inRegion`, one statement to resolve every region code, and the
//! boolean tree.

use std::collections::{BTreeSet, HashMap};

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection};

use crate::directory::RegionDirectory;
use crate::error::ApiError;

/// How deeply `and`/`or`/`not` may nest.
pub const MAX_DEPTH: usize = 8;
/// How many filter objects one filter may hold in all.
pub const MAX_PARTS: usize = 64;

/// What the field conditions may use.
pub struct FilterContext {
    /// Materialized paths of the region codes the filter names (unknown codes are absent).
    pub paths: HashMap<String, String>,
    /// Whether the caller sees names in clear (name searches are allowed only then).
    pub names_visible: bool,
}

impl FilterContext {
    /// The path of a region code, if the region exists.
    pub fn path(&self, code: &str) -> Option<&str> {
        self.paths.get(code.trim()).map(String::as_str)
    }
}

/// A filter input with boolean combinators.
pub trait BooleanFilter: Sized {
    /// Filters that must all match.
    fn all_of(&self) -> &[Self];
    /// Filters of which one must match (`None` when absent; an empty list matches nothing).
    fn any_of(&self) -> Option<&[Self]>;
    /// A filter that must not match.
    fn none_of(&self) -> Option<&Self>;
    /// Validates this filter's own fields (not its children); `path` names it in errors. Adds the region codes
    /// its fields name to `codes`.
    fn check_fields(&self, path: &str, codes: &mut BTreeSet<String>) -> Result<(), ApiError>;
    /// The condition this filter's own fields stand for (AND of them).
    fn fields_condition(&self, context: &FilterContext) -> Condition;
    /// The region code of this filter's own `inRegion` field, if it has one: every row the filter matches then
    /// lies in that region's subtree.
    fn confining_region(&self) -> Option<&str> {
        None
    }
}

/// Longest text a filter may search for.
pub const MAX_SEARCH_CHARS: usize = 64;
/// Escape character of `LIKE` patterns; not a backslash, whose quoting differs between databases.
pub const LIKE_ESCAPE: char = '!';

/// `text` for a LIKE pattern escaped by [`LIKE_ESCAPE`]: `%`, `_` and the escape character itself are matched
/// literally.
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            escaped.push(LIKE_ESCAPE);
        }
        escaped.push(c);
    }
    escaped
}

/// `text%` as a LIKE pattern that matches `text` literally.
pub fn prefix_pattern(text: &str) -> LikeExpr {
    LikeExpr::new(format!("{}%", escape_like(text))).escape(LIKE_ESCAPE)
}

/// `%text%` as a LIKE pattern that matches `text` literally.
pub fn contains_pattern(text: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}%", escape_like(text))).escape(LIKE_ESCAPE)
}

/// Validates a free-text search: 1 to [`MAX_SEARCH_CHARS`] characters, not only blanks.
pub fn check_search(search: Option<&str>, field: impl FnOnce() -> String) -> Result<(), ApiError> {
    match search {
        Some(text) if text.trim().is_empty() || text.chars().count() > MAX_SEARCH_CHARS => {
            Err(ApiError::bad_input(field(), format!("1 to {MAX_SEARCH_CHARS} characters")))
        }
        _ => Ok(()),
    }
}

/// A condition that matches nothing.
pub fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

fn check<F: BooleanFilter>(
    filter: &F,
    path: &str,
    depth: usize,
    parts: &mut usize,
    codes: &mut BTreeSet<String>,
) -> Result<(), ApiError> {
    *parts += 1;
    if depth > MAX_DEPTH {
        return Err(ApiError::bad_input(path, format!("filters may nest at most {MAX_DEPTH} levels deep")));
    }
    if *parts > MAX_PARTS {
        return Err(ApiError::bad_input(path, format!("a filter may hold at most {MAX_PARTS} parts")));
    }
    filter.check_fields(path, codes)?;
    for (index, part) in filter.all_of().iter().enumerate() {
        check(part, &format!("{path}.and[{index}]"), depth + 1, parts, codes)?;
    }
    for (index, part) in filter.any_of().unwrap_or_default().iter().enumerate() {
        check(part, &format!("{path}.or[{index}]"), depth + 1, parts, codes)?;
    }
    if let Some(part) = filter.none_of() {
        check(part, &format!("{path}.not"), depth + 1, parts, codes)?;
    }
    Ok(())
}

fn condition<F: BooleanFilter>(filter: &F, context: &FilterContext) -> Condition {
    let mut all = filter.fields_condition(context);
    for part in filter.all_of() {
        all = all.add(condition(part, context));
    }
    if let Some(parts) = filter.any_of() {
        if parts.is_empty() {
            all = all.add(nothing());
        } else {
            let any = parts.iter().fold(Condition::any(), |any, part| any.add(condition(part, context)));
            all = all.add(any);
        }
    }
    if let Some(part) = filter.none_of() {
        all = all.add(condition(part, context).not());
    }
    all
}

/// Validates `filter` (named `path` in errors) and compiles it: one statement looks up the region codes it names,
/// whatever its shape.
pub async fn compile<F: BooleanFilter>(
    db: &DatabaseConnection,
    regions: &RegionDirectory,
    filter: &F,
    path: &str,
    names_visible: bool,
) -> Result<Condition, ApiError> {
    let context = prepare(db, regions, filter, path, names_visible).await?;
    Ok(condition(filter, &context))
}

/// [`compile`], with the path of the region every matching row lies under when the filter's top level confines
/// the rows to one (`inRegion`), for [`crate::scope::read_filtered`].
pub async fn compile_confined<F: BooleanFilter>(
    db: &DatabaseConnection,
    regions: &RegionDirectory,
    filter: &F,
    path: &str,
    names_visible: bool,
) -> Result<(Condition, Option<String>), ApiError> {
    let context = prepare(db, regions, filter, path, names_visible).await?;
    let confining_path = filter.confining_region().and_then(|code| context.path(code)).map(str::to_owned);
    Ok((condition(filter, &context), confining_path))
}

async fn prepare<F: BooleanFilter>(
    db: &DatabaseConnection,
    regions: &RegionDirectory,
    filter: &F,
    path: &str,
    names_visible: bool,
) -> Result<FilterContext, ApiError> {
    let mut codes = BTreeSet::new();
    check(filter, path, 1, &mut 0, &mut codes)?;
    let codes: BTreeSet<String> = codes.into_iter().map(|code| code.trim().to_owned()).collect();
    let paths = if codes.is_empty() {
        HashMap::new()
    } else {
        regions.resolve(db, codes).await?.into_iter().map(|(code, region)| (code, region.path)).collect()
    };
    Ok(FilterContext { paths, names_visible })
}

/// `column LIKE '%text%'`, with `%`, `_` and the escape character in `text` matched literally.
pub fn contains_text<C: ColumnTrait>(column: C, text: &str) -> Condition {
    Condition::all().add(Expr::col(column.as_column_ref()).like(contains_pattern(text)))
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Query, SqliteQueryBuilder};

    use super::*;

    #[test]
    fn like_wildcards_and_the_escape_character_are_matched_literally() {
        assert_eq!(escape_like("a%b_c!d"), "a!%b!_c!!d");
        let text = |pattern: LikeExpr| {
            Query::select()
                .column(Alias::new("name"))
                .from(Alias::new("t"))
                .and_where(Expr::col(Alias::new("name")).like(pattern))
                .to_string(SqliteQueryBuilder)
        };
        let prefix = text(prefix_pattern("5%_!"));
        assert!(prefix.ends_with(r#"LIKE '5!%!_!!%' ESCAPE '!'"#), "{prefix}");
        let contains = text(contains_pattern("5%_!"));
        assert!(contains.ends_with(r#"LIKE '%5!%!_!!%' ESCAPE '!'"#), "{contains}");
    }

    #[test]
    fn a_search_is_one_to_max_characters_and_not_only_blanks() {
        let field = || "filter.search".to_owned();
        assert!(check_search(None, field).is_ok());
        assert!(check_search(Some("渔嫂"), field).is_ok());
        assert!(check_search(Some(&"字".repeat(MAX_SEARCH_CHARS)), field).is_ok());
        assert!(check_search(Some(&"字".repeat(MAX_SEARCH_CHARS + 1)), field).is_err());
        assert!(check_search(Some("  "), field).is_err());
        assert!(check_search(Some(""), field).is_err());
    }
}
