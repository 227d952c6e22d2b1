//! Disclosure control for partners: primary suppression of small cells and secondary suppression so that no
//! suppressed value can be recovered from the margins a partner can obtain.
//!
//! Every group of cells that sums to a figure the partner can learn (a subtotal or total of the same query, the
//! parent region's cell of a coarser region level, the year containing a day/month/quarter) is one equation.
//! The margins are assumed known, whether returned or not, so an equation leaks exactly when one of its
//! members is suppressed: then the smallest visible member is suppressed too, until no equation has exactly
//! one suppressed member. A cell's suppression depends only on cells of its own grouping, never on which
//! finer groupings were asked for, so repeating or refining a query cannot un-suppress it.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::measures::StatisticsPeriod;

/// Which dimensions a cell is grouped by, and its key in each.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    /// Materialized path of the cell's region, when grouped by region.
    pub region: Option<String>,
    /// Period label, when grouped by period.
    pub period: Option<String>,
    /// Category value, when grouped by category.
    pub category: Option<String>,
}

/// Which further equations hold beyond the margins of the query.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hierarchy {
    /// Cells of sibling regions sum to their parent's cell (the parent level is itself queryable).
    pub region_parents: bool,
    /// Length of the period dimension: cells of a day, month or quarter sum to the cell of the longer calendar
    /// periods containing them (day → ISO week and month, month → quarter and year, quarter → year).
    pub period: Option<StatisticsPeriod>,
}

/// The labels of the longer calendar periods that `label` (of length `length`) is part of.
pub fn period_parents(label: &str, length: StatisticsPeriod) -> Vec<String> {
    use StatisticsPeriod as P;
    let year: String = label.chars().take(4).collect();
    match length {
        P::Day => match NaiveDate::parse_from_str(label, "%Y-%m-%d") {
            Ok(day) => vec![day.format("%G-W%V").to_string(), day.format("%Y-%m").to_string()],
            Err(_) => Vec::new(),
        },
        P::Month => {
            let month: u32 = label.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
            vec![format!("{year}-Q{}", month.div_ceil(3)), year]
        }
        P::Quarter => vec![year],
        P::Week | P::Year => Vec::new(),
    }
}

/// One cell as the suppression sees it: its grouping, key and number of persons.
#[derive(Debug, Clone)]
pub struct Counted {
    pub key: CellKey,
    pub persons: i64,
}

fn parent_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(slash) => trimmed[..=slash].to_owned(),
        None => String::from("/"),
    }
}

/// Which cells to suppress: `true` for cells with 1..`min_cell`-1 persons and for the cells needed to protect
/// them.
pub fn suppressed(cells: &[Counted], min_cell: i64, hierarchy: Hierarchy) -> Vec<bool> {
    let mut hidden: Vec<bool> = cells.iter().map(|c| c.persons > 0 && c.persons < min_cell).collect();
    // Equation key: (grouping shape, which relation, the shared part of the key) → members.
    let mut equations: BTreeMap<(u8, u8, CellKey), Vec<usize>> = BTreeMap::new();
    for (index, cell) in cells.iter().enumerate() {
        let key = &cell.key;
        let shape = u8::from(key.region.is_some())
            | (u8::from(key.period.is_some()) << 1)
            | (u8::from(key.category.is_some()) << 2);
        let mut add = |relation: u8, shared: CellKey| {
            equations.entry((shape, relation, shared)).or_default().push(index);
        };
        if key.region.is_some() {
            add(0, CellKey { region: None, ..key.clone() });
            if hierarchy.region_parents {
                add(3, CellKey { region: key.region.as_deref().map(parent_path), ..key.clone() });
            }
        }
        if let Some(period) = &key.period {
            add(1, CellKey { period: None, ..key.clone() });
            if let Some(length) = hierarchy.period {
                for (relation, parent) in (4u8..).zip(period_parents(period, length)) {
                    add(relation, CellKey { period: Some(parent), ..key.clone() });
                }
            }
        }
        if key.category.is_some() {
            add(2, CellKey { category: None, ..key.clone() });
        }
    }
    loop {
        let mut changed = false;
        for members in equations.values() {
            if members.iter().filter(|&&i| hidden[i]).count() != 1 {
                continue;
            }
            let smallest =
                members.iter().copied().filter(|&i| !hidden[i] && cells[i].persons > 0).min_by(|&a, &b| {
                    (cells[a].persons, &cells[a].key).cmp(&(cells[b].persons, &cells[b].key))
                });
            if let Some(next) = smallest {
                hidden[next] = true;
                changed = true;
            }
        }
        if !changed {
            return hidden;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(region: &str, category: &str, persons: i64) -> Counted {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Counted { key: CellKey { region: some(region), period: None, category: some(category) }, persons }
    }

    #[test]
    fn a_lone_small_cell_takes_a_sibling_with_it() {
        let cells = [cell("/1/a/", "X", 2), cell("/1/a/", "Y", 10), cell("/1/a/", "Z", 30)];
        assert_eq!(suppressed(&cells, 5, Hierarchy::default()), [true, true, false]);
    }

    #[test]
    fn both_margins_are_protected() {
        // Rows a, b; columns X, Y. a/X is small: its row and its column each need a second suppression.
        let cells =
            [cell("/1/a/", "X", 2), cell("/1/a/", "Y", 9), cell("/1/b/", "X", 7), cell("/1/b/", "Y", 20)];
        let hidden = suppressed(&cells, 5, Hierarchy::default());
        assert_eq!(hidden, [true, true, true, true]);
    }

    #[test]
    fn nothing_small_nothing_hidden() {
        let cells = [cell("/1/a/", "X", 5), cell("/1/a/", "Y", 0)];
        assert_eq!(suppressed(&cells, 5, Hierarchy::default()), [false, false]);
    }

    #[test]
    fn siblings_under_one_parent_region() {
        let cells = [cell("/1/a/x/", "", 3), cell("/1/a/y/", "", 8), cell("/1/b/z/", "", 9)];
        let hierarchy = Hierarchy { region_parents: true, period: None };
        assert_eq!(suppressed(&cells, 5, hierarchy), [true, true, false]);
        assert_eq!(parent_path("/1/a/x/"), "/1/a/");
    }

    #[test]
    fn calendar_parents() {
        assert_eq!(period_parents("2026-03-01", StatisticsPeriod::Day), ["2026-W09", "2026-03"]);
        assert_eq!(period_parents("2026-05", StatisticsPeriod::Month), ["2026-Q2", "2026"]);
        assert_eq!(period_parents("2026-Q4", StatisticsPeriod::Quarter), ["2026"]);
        assert!(period_parents("2026", StatisticsPeriod::Year).is_empty());
    }
}
