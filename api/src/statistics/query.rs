//! The `statistics` root field.

use std::collections::BTreeSet;

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{NaiveDate, TimeDelta, Utc};
use entities::region;
use sea_orm::{ColumnTrait, QueryFilter};

use super::StatisticsSettings;
use super::cell_key::{KeyCache, Protection};
use super::measures::{Grouping, StatisticsMeasure, StatisticsPeriod, StatisticsUnit};
use super::rules::{Allowance, Asked};
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::money::format_fen;
use crate::regions::types::RegionLevel;
use crate::request::RequestData;

/// The most cells one grouping may have (`cells`); each subtotal grouping has at most as many, so `totals` has at
/// most seven times as many (the subsets of three dimensions but the full one). Larger answers are refused.
pub const MAX_CELLS: usize = 10_000;

/// What cells are grouped by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatisticsDimension {
    /// The region at `regionLevel` the row belongs to.
    Region,
    /// The calendar period (`period`, Asia/Shanghai) of the measure's date.
    Period,
    /// The measure's own category (see each measure).
    Category,
}

/// One figure of a statistic: the keys it is grouped by, and its value unless suppressed.
#[derive(SimpleObject, Debug, Clone)]
pub struct StatisticsCell {
    /// Code of the cell's region; null when not grouped by region (a total over regions).
    pub region_code: Option<String>,
    /// Name of the cell's region; null when not grouped by region.
    pub region_name: Option<String>,
    /// Period label (`2026-03-01`, `2026-W09`, `2026-03`, `2026-Q1`, `2026`); null when not grouped by period.
    pub period: Option<String>,
    /// The measure's category value; null when not grouped by category.
    pub category: Option<String>,
    /// The value as a decimal string in the result's unit; null when suppressed.
    pub value: Option<String>,
    /// Whether the value was withheld by disclosure control: the cell counts fewer persons than the threshold,
    /// possibly none.
    pub suppressed: bool,
}

/// A statistic: its cells and, on request, its subtotals and total.
#[derive(SimpleObject, Debug, Clone)]
pub struct StatisticsResult {
    /// The measure asked for.
    pub measure: StatisticsMeasure,
    /// What the values are.
    pub unit: StatisticsUnit,
    /// The region level cells are grouped at; null when not grouped by region.
    pub region_level: Option<RegionLevel>,
    /// Whether disclosure control was applied to this result: cells of few persons (or none) suppressed, the
    /// others perturbed by a small noise that is the same every time the same records are counted.
    pub disclosure_controlled: bool,
    /// One cell per combination of the grouping keys that has any rows (under disclosure control: every
    /// combination, empty ones included), ordered by region, period, category; at most 10000 (a larger grouping
    /// is refused with `QUERY_TOO_COMPLEX`).
    pub cells: Vec<StatisticsCell>,
    /// With `withTotals`: the grand total and every subtotal (each grouping by a subset of `groupBy`; under
    /// disclosure control of a measure with periods, only the subsets that keep the period); at most 70000.
    pub totals: Option<Vec<StatisticsCell>>,
}

/// The statistics entry point.
#[derive(Default)]
pub struct StatisticsQuery;

fn depth_of(path: &str) -> i16 {
    let parts = path.trim_matches('/').split('/').filter(|p| !p.is_empty()).count();
    i16::try_from(parts).unwrap_or(i16::MAX) - 1
}

pub(super) fn format_value(unit: StatisticsUnit, value: i64, persons: i64) -> String {
    match unit {
        StatisticsUnit::Count => value.to_string(),
        StatisticsUnit::Yuan => format_fen(value),
        StatisticsUnit::Hours => {
            let hundredths = (i128::from(value) * 100 + 30) / 60;
            format!("{}.{:02}", hundredths / 100, hundredths % 100)
        }
        StatisticsUnit::Share => {
            if persons == 0 {
                return "0.0000".into();
            }
            let (num, den) = (i128::from(value), i128::from(persons));
            let ten_thousandths = (num * 10_000 + den / 2) / den;
            format!("{}.{:04}", ten_thousandths / 10_000, ten_thousandths % 10_000)
        }
    }
}

#[Object]
impl StatisticsQuery {
    /// Aggregated figures of one measure in the caller's scope, grouped by any of region (at `regionLevel`),
    /// period and the measure's category. Partners get only fixed levels and calendar periods, and sensitive
    /// measures with disclosure control (see the README, "Statistics and disclosure control").
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field: each argument is part of the schema, and the Relay page arguments alone are four"
    )]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to count or sum.")] measure: StatisticsMeasure,
        #[graphql(desc = "Dimensions to group cells by; none gives one cell for everything.", default)]
        group_by: Vec<StatisticsDimension>,
        #[graphql(
            desc = "Level of the region dimension; default: one level below the caller's region (partners: at most COMMUNITY for sensitive measures)."
        )]
        region_level: Option<RegionLevel>,
        #[graphql(desc = "Length of the period dimension; default MONTH.")] period: Option<StatisticsPeriod>,
        #[graphql(desc = "Only this calendar year (Asia/Shanghai) of the measure's date. Not for partners.")]
        year: Option<i32>,
        #[graphql(desc = "Only from this local day on (inclusive). Not for partners.")] from: Option<
            crate::scalars::Date,
        >,
        #[graphql(desc = "Only up to this local day (inclusive). Not for partners.")] to: Option<
            crate::scalars::Date,
        >,
        #[graphql(desc = "Only rows under the region with this code, within your scope. Not for partners.")]
        in_region: Option<String>,
        #[graphql(desc = "Also return the grand total and all subtotals.", default = false)]
        with_totals: bool,
    ) -> ApiResult<StatisticsResult> {
        let request = RequestData::of(ctx)?;
        let settings = ctx.data_opt::<StatisticsSettings>().copied().unwrap_or_default();
        let access = request.authorize(Resource::Statistics, Action::Read).await?;
        let scope =
            access.scope.clone().ok_or_else(|| ApiError::Forbidden("statistics need a token".into()))?;
        let allowance = Allowance::new(request.viewer.roles(), measure, depth_of(&scope.path));
        let (partner, controlled) = (allowance.partner, allowance.controlled);
        let spec = measure.spec();
        let dims: BTreeSet<StatisticsDimension> = group_by.iter().copied().collect();
        let period_length = period.unwrap_or(StatisticsPeriod::Month);
        let level = allowance.check(&Asked {
            dims: &dims,
            region_level: region_level.map(Into::into),
            period: period_length,
            dates: year.is_some() || from.is_some() || to.is_some(),
            in_region: in_region.is_some(),
        })?;

        let mut subtrees = vec![region::subtree_bounds(&scope.path)];
        if let Some(code) = &in_region {
            let found = crate::scope::read::<region::Entity>(&access)
                .filter(region::Column::Code.eq(code.as_str()))
                .one(&request.db)
                .await
                .map_err(ApiError::from)?;
            let Some(found) = found else {
                return Err(ApiError::bad_input("inRegion", "no region with this code in your scope").into());
            };
            subtrees.push(region::subtree_bounds(&found.path));
        }
        let (from, to) = (from.map(NaiveDate::from), to.map(NaiveDate::from));
        let mut window = match (from, to) {
            (None, None) => None,
            (from, to) => Some((from.unwrap_or(NaiveDate::MIN), to.unwrap_or(NaiveDate::MAX))),
        };
        if let Some(year) = year {
            let start = NaiveDate::from_ymd_opt(year, 1, 1);
            let end = NaiveDate::from_ymd_opt(year, 12, 31);
            let (Some(start), Some(end)) = (start, end) else {
                return Err(ApiError::bad_input("year", "not a calendar year").into());
            };
            window = Some(match window {
                Some((from, to)) => (from.max(start), to.min(end)),
                None => (start, end),
            });
        }
        let now = Utc::now();
        let local_today = (now + TimeDelta::hours(8)).date_naive();
        let visited_since =
            (now.date_naive() - TimeDelta::days(29)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();

        let dims: Vec<StatisticsDimension> = dims.into_iter().collect();
        let grouped_by_period = dims.contains(&StatisticsDimension::Period);
        // Every subset of the dimensions, the full set first; a partner's subsets of a sensitive measure keep the
        // period, so that every figure they get lies within one calendar period.
        let mut subsets: Vec<Vec<StatisticsDimension>> = Vec::new();
        let wanted_subsets = if with_totals { 1usize << dims.len() } else { 1 };
        for mask in (0..(1usize << dims.len())).rev().take(wanted_subsets) {
            let subset: Vec<StatisticsDimension> =
                dims.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, d)| *d).collect();
            if controlled && spec.has_period() && !subset.contains(&StatisticsDimension::Period) {
                continue;
            }
            subsets.push(subset);
        }

        let groups: Vec<Vec<StatisticsCell>> = if controlled {
            let protection = Protection { min_cell: settings.min_cell, max_noise: settings.max_noise };
            let cache = ctx.data::<KeyCache>().map_err(|_| ApiError::Internal("no disclosure key".into()))?;
            let key = cache.get(&request.db).await?;
            let asked = super::partner::Asked {
                measure,
                spec: &spec,
                level,
                period: period_length,
                subsets,
                scope_path: scope.path.clone(),
                local_today,
                visited_since,
            };
            super::partner::answer(&access, &request.db, &asked, protection, key).await?
        } else {
            let mut groups = Vec::with_capacity(subsets.len());
            for subset in &subsets {
                let grouping = Grouping {
                    spec: &spec,
                    region_depth: subset.contains(&StatisticsDimension::Region).then(|| level.depth()),
                    period: subset.contains(&StatisticsDimension::Period).then_some(period_length),
                    category: subset.contains(&StatisticsDimension::Category),
                    subtrees: subtrees.clone(),
                    window,
                    visited_since,
                    record_key: None,
                };
                let mut rows = grouping.rows(&request.db).await?;
                if rows.len() > MAX_CELLS {
                    return Err(too_many_cells().into());
                }
                rows.sort_by(|a, b| {
                    (&a.region_code, &a.period, &a.category).cmp(&(&b.region_code, &b.period, &b.category))
                });
                groups.push(
                    rows.into_iter()
                        .map(|row| StatisticsCell {
                            value: Some(format_value(spec.unit, row.value, row.persons)),
                            region_code: row.region_code,
                            region_name: row.region_name,
                            period: row.period,
                            category: row.category,
                            suppressed: false,
                        })
                        .collect(),
                );
            }
            groups
        };
        if partner {
            request.viewer.read_log.note_statistics(describe(
                measure,
                &dims,
                dims.contains(&StatisticsDimension::Region).then_some(level),
                grouped_by_period.then_some(period_length),
                with_totals,
                controlled,
            ));
        }
        let mut groups = groups.into_iter();
        let cells = groups.next().unwrap_or_default();
        let margins: Vec<StatisticsCell> = groups.flatten().collect();
        Ok(StatisticsResult {
            measure,
            unit: spec.unit,
            region_level: dims.contains(&StatisticsDimension::Region).then(|| level.into()),
            disclosure_controlled: controlled,
            cells,
            totals: with_totals.then_some(margins),
        })
    }
}

pub(super) fn too_many_cells() -> ApiError {
    ApiError::TooComplex(format!(
        "more than {MAX_CELLS} cells: group by a coarser region level or period, or by fewer dimensions"
    ))
}

/// What a partner asked for, as the audit trail records it.
fn describe(
    measure: StatisticsMeasure,
    dims: &[StatisticsDimension],
    level: Option<region::RegionLevel>,
    period: Option<StatisticsPeriod>,
    with_totals: bool,
    controlled: bool,
) -> String {
    let by: Vec<String> = dims
        .iter()
        .map(|dim| match dim {
            StatisticsDimension::Region => {
                format!("REGION at {:?}", level.unwrap_or(region::RegionLevel::City))
            }
            StatisticsDimension::Period => {
                format!("PERIOD by {:?}", period.unwrap_or(StatisticsPeriod::Month))
            }
            StatisticsDimension::Category => "CATEGORY".to_owned(),
        })
        .collect();
    let by = if by.is_empty() { "nothing".to_owned() } else { by.join(", ") };
    format!(
        "statistics {measure:?} grouped by {by}{}; {}",
        if with_totals { " with totals" } else { "" },
        if controlled { "disclosure controlled" } else { "exact (not a sensitive measure)" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_in_their_unit() {
        assert_eq!(format_value(StatisticsUnit::Hours, 90, 0), "1.50");
        assert_eq!(format_value(StatisticsUnit::Hours, 1, 0), "0.02");
        assert_eq!(format_value(StatisticsUnit::Yuan, 123_456, 0), "1234.56");
        assert_eq!(format_value(StatisticsUnit::Share, 2, 3), "0.6667");
        assert_eq!(format_value(StatisticsUnit::Count, 7, 7), "7");
    }

    #[test]
    fn depths_of_paths() {
        assert_eq!(depth_of("/330900/"), 0);
        assert_eq!(depth_of("/330900/330902/330902001/"), 2);
    }
}
