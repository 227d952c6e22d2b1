//! A partner's answer for a sensitive measure: the cells of the grouping asked for, looked up in the partner's
//! cube (see [`super::cube`]), every combination of the keys listed.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entities::region;
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};

use super::cell_key::{DisclosureKey, Perturbation, Protection};
use super::cube::{At, Cube};
use super::grid::{PARTNER_EPOCH_YEAR, epoch, periods};
use super::measures::{Grouping, Spec, StatisticsMeasure, StatisticsPeriod, StatisticsUnit};
use super::query::{MAX_CELLS, StatisticsCell, StatisticsDimension, format_value, too_many_cells};
use crate::auth::viewer::Access;
use crate::error::{ApiError, ApiResult};

/// What a partner asked for, validated.
pub struct Asked<'a> {
    pub measure: StatisticsMeasure,
    pub spec: &'a Spec,
    pub level: region::RegionLevel,
    pub period: StatisticsPeriod,
    /// Each grouping to answer, the asked one first.
    pub subsets: Vec<Vec<StatisticsDimension>>,
    pub scope_path: String,
    pub local_today: NaiveDate,
    pub visited_since: DateTime<Utc>,
}

/// The cells of each of `asked.subsets`.
pub async fn answer(
    access: &Access,
    db: &DatabaseConnection,
    asked: &Asked<'_>,
    protection: Protection,
    key: &DisclosureKey,
) -> ApiResult<Vec<Vec<StatisticsCell>>> {
    let kind = perturbation(asked.spec.unit);
    let scope_depth = region::path_depth(&asked.scope_path);
    let deepest = region::RegionLevel::Community.depth();
    let regions = crate::scope::read::<region::Entity>(access)
        .filter(region::Column::Depth.lte(deepest))
        .all(db)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|r| (r.path, r.code, r.name, r.depth))
        .collect();
    let categories = match (asked.spec.has_category(), asked.measure.categories()) {
        (true, Some(categories)) => categories.values(db).await?,
        _ => Vec::new(),
    };
    let dated = asked.spec.has_period();
    let mut cube = Cube::new(regions, categories, dated.then_some((PARTNER_EPOCH_YEAR, asked.local_today)));
    let root = cube
        .nodes
        .iter()
        .position(|node| node.path == asked.scope_path)
        .ok_or_else(|| ApiError::Internal("the scope's region is not in the cube".into()))?;

    // Refuse what is too large before any statement.
    let labels = if dated { periods(asked.period, asked.local_today) } else { Vec::new() };
    let at_level: Vec<usize> =
        (0..cube.nodes.len()).filter(|&i| cube.nodes[i].depth == asked.level.depth()).collect();
    for subset in &asked.subsets {
        let mut cells = 1usize;
        for dim in subset {
            cells = cells.saturating_mul(match dim {
                StatisticsDimension::Region => at_level.len(),
                StatisticsDimension::Period => labels.len(),
                StatisticsDimension::Category => cube.categories.len(),
            });
        }
        if cells > MAX_CELLS {
            return Err(too_many_cells().into());
        }
    }

    let window = dated.then(|| (epoch(), asked.local_today));
    let subtrees = vec![region::subtree_bounds(&asked.scope_path)];
    let lengths: &[Option<StatisticsPeriod>] =
        if dated { &[Some(StatisticsPeriod::Year), Some(StatisticsPeriod::Month)] } else { &[None] };
    let by_category: &[bool] = if cube.categories.is_empty() { &[false] } else { &[false, true] };
    let record_key = key.record_key_sql(asked.spec.record_id);
    for depth in scope_depth..=deepest {
        for &period in lengths {
            for &category in by_category {
                let grouping = Grouping {
                    spec: asked.spec,
                    region_depth: Some(depth),
                    period,
                    category,
                    subtrees: subtrees.clone(),
                    window,
                    visited_since: asked.visited_since,
                    record_key: Some(record_key.clone()),
                };
                cube.add(grouping.rows(db).await?, root);
            }
        }
    }

    let mut published: HashMap<i32, HashMap<At, (i64, i64)>> = HashMap::new();
    for block in cube.blocks() {
        published.insert(block, cube.publish(block, protection, key, kind));
    }
    let unit = asked.spec.unit;
    let mut answers = Vec::with_capacity(asked.subsets.len());
    for subset in &asked.subsets {
        let regions: Vec<Option<usize>> = match subset.contains(&StatisticsDimension::Region) {
            true => at_level.iter().copied().map(Some).collect(),
            false => vec![None],
        };
        let period_labels: Vec<Option<&str>> = match subset.contains(&StatisticsDimension::Period) {
            true => labels.iter().map(|label| Some(label.as_str())).collect(),
            false => vec![None],
        };
        let categories: Vec<usize> = match subset.contains(&StatisticsDimension::Category) {
            true => (1..=cube.categories.len()).collect(),
            false => vec![0],
        };
        let mut cells = Vec::new();
        for region in &regions {
            for label in &period_labels {
                let Some((block, slot)) = cube.place(*label) else {
                    return Err(ApiError::Internal(format!("no place for the period {label:?}")).into());
                };
                for &category in &categories {
                    let at = At { region: region.unwrap_or(root), slot, category };
                    let shown = published.get(&block).and_then(|cells| cells.get(&at).copied());
                    let node = region.map(|r| &cube.nodes[r]);
                    cells.push(StatisticsCell {
                        region_code: node.map(|n| n.code.clone()),
                        region_name: node.map(|n| n.name.clone()),
                        period: label.map(str::to_owned),
                        category: (category > 0).then(|| cube.categories[category - 1].clone()),
                        value: shown.map(|(value, persons)| format_value(unit, value, persons)),
                        suppressed: shown.is_none(),
                    });
                }
            }
        }
        cells.sort_by(|a, b| {
            (&a.region_code, &a.period, &a.category).cmp(&(&b.region_code, &b.period, &b.category))
        });
        answers.push(cells);
    }
    Ok(answers)
}

/// How a unit's values are perturbed for partners.
fn perturbation(unit: StatisticsUnit) -> Perturbation {
    match unit {
        StatisticsUnit::Count => Perturbation::Count,
        StatisticsUnit::Hours | StatisticsUnit::Yuan => Perturbation::Magnitude,
        StatisticsUnit::Share => Perturbation::Share,
    }
}
