//! Everything a partner can ask of one sensitive measure, computed as one cube, so that a cell is shown or
//! suppressed alike in every response that contains it, whichever response is asked first.
//!
//! The cube holds every region of the partner's scope down to the community, every year from the epoch and every
//! month in it (for measures with a date), and every category plus the total over categories. Its equations are
//! the sums a partner can form: a region's cell is the sum of its children's, a year's the sum of its months', the
//! total over categories the sum of the categories'. Cells of fewer than k persons are suppressed (empty ones
//! too); then, until nothing changes, every equation with a suppressed cell gets more until it has two — three
//! when it has three members or more — taking the smallest shown member (or the sum, when no member is left), so
//! that no suppressed cell is the difference of shown ones, and a partner's equations have room to move in. The
//! rule looks only at which cells are suppressed, never at which are empty, so the pattern says nothing about
//! presence. Shown cells carry the cell key noise (see [`super::cell_key`]), so even the sums a
//! partner can form over suppressed cells are known only to within the noise.
//!
//! Every figure lies within one calendar year: the years are independent cubes, computed one at a time.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};

use super::cell_key::{DisclosureKey, Perturbation, Protection, Published, TrueCell};
use super::measures::Row;

/// A region of the cube.
#[derive(Debug, Clone)]
pub struct Node {
    pub path: String,
    pub code: String,
    pub name: String,
    pub depth: i16,
    children: Vec<usize>,
}

/// Where a cell lies: region, slot (0 the year or the only period, 1–12 the months) and category (0 the total).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct At {
    pub region: usize,
    pub slot: usize,
    pub category: usize,
}

/// The shape of a partner's cube: regions, categories, years.
pub struct Cube {
    pub nodes: Vec<Node>,
    by_code: HashMap<String, usize>,
    pub categories: Vec<String>,
    by_category: HashMap<String, usize>,
    /// Years, for measures with a date; `None` for current figures (one block).
    years: Option<(i32, NaiveDate)>,
    /// True figures by block (year, or 0) and cell.
    figures: BTreeMap<i32, HashMap<At, TrueCell>>,
}

impl Cube {
    /// `regions`: (path, code, name, depth) of every region of the scope down to the cube's deepest level.
    pub fn new(
        mut regions: Vec<(String, String, String, i16)>,
        categories: Vec<String>,
        years: Option<(i32, NaiveDate)>,
    ) -> Cube {
        regions.sort_by(|a, b| a.0.cmp(&b.0));
        let mut nodes: Vec<Node> = regions
            .into_iter()
            .map(|(path, code, name, depth)| Node { path, code, name, depth, children: Vec::new() })
            .collect();
        let by_path: HashMap<String, usize> =
            nodes.iter().enumerate().map(|(i, node)| (node.path.clone(), i)).collect();
        for i in 0..nodes.len() {
            let trimmed = nodes[i].path.trim_end_matches('/');
            let parent = trimmed.rfind('/').map(|slash| &nodes[i].path[..=slash]);
            if let Some(&parent) = parent.and_then(|p| by_path.get(p)) {
                nodes[parent].children.push(i);
            }
        }
        let by_code = nodes.iter().enumerate().map(|(i, node)| (node.code.clone(), i)).collect();
        let by_category = categories.iter().enumerate().map(|(i, c)| (c.clone(), i + 1)).collect();
        Cube { nodes, by_code, categories, by_category, years, figures: BTreeMap::new() }
    }

    fn slots(&self) -> usize {
        if self.years.is_some() { 13 } else { 1 }
    }

    /// The block and slot of a period label (`2026`, `2026-05`), or of no period.
    pub fn place(&self, period: Option<&str>) -> Option<(i32, usize)> {
        match (period, self.years) {
            (None, None) => Some((0, 0)),
            (Some(label), Some(_)) => {
                let year: i32 = label.get(..4)?.parse().ok()?;
                let slot = match label.get(5..7) {
                    None => 0,
                    Some(month) => month.parse::<usize>().ok().filter(|m| (1..=12).contains(m))?,
                };
                Some((year, slot))
            }
            _ => None,
        }
    }

    /// Where a region code lies in the cube.
    pub fn region(&self, code: &str) -> Option<usize> {
        self.by_code.get(code).copied()
    }

    /// Adds the rows of one grouping (region at some level, or the scope's root when not grouped by region).
    pub fn add(&mut self, rows: Vec<Row>, root: usize) {
        for row in rows {
            let region = match &row.region_code {
                Some(code) => match self.region(code) {
                    Some(region) => region,
                    None => continue,
                },
                None => root,
            };
            let category = match &row.category {
                Some(category) => match self.by_category.get(category) {
                    Some(&category) => category,
                    None => continue,
                },
                None => 0,
            };
            let Some((block, slot)) = self.place(row.period.as_deref()) else { continue };
            self.figures.entry(block).or_default().insert(
                At { region, slot, category },
                TrueCell { value: row.value, persons: row.persons, cell_key: row.cell_key },
            );
        }
    }

    /// The blocks to compute: each year from the epoch, or the one block of a current figure.
    pub fn blocks(&self) -> Vec<i32> {
        match self.years {
            Some((epoch, today)) => (epoch..=today.year()).collect(),
            None => vec![0],
        }
    }

    /// The number of month slots listed in `block` (months after today are not listed: nothing is known of them).
    fn months_in(&self, block: i32) -> usize {
        match self.years {
            Some((_, today)) if block == today.year() => today.month() as usize,
            Some((_, today)) if block > today.year() => 0,
            Some(_) => 12,
            None => 0,
        }
    }

    /// The figures a partner is shown of the cells of `block` that are not suppressed (value and persons).
    pub fn publish(
        &self,
        block: i32,
        protection: Protection,
        key: &DisclosureKey,
        kind: Perturbation,
    ) -> HashMap<At, (i64, i64)> {
        let empty = HashMap::new();
        let figures = self.figures.get(&block).unwrap_or(&empty);
        let categories = self.categories.len() + 1;
        let slots = self.slots();
        let months = self.months_in(block);
        let listed = |slot: usize| slot == 0 || slot <= months;
        let mut shown: HashMap<At, (i64, i64)> = HashMap::new();
        for (at, cell) in figures {
            if !listed(at.slot) {
                continue;
            }
            if let Published::Value { value, persons } = protection.publish(key, kind, *cell) {
                shown.insert(*at, (value, persons));
            }
        }
        if shown.is_empty() {
            return HashMap::new();
        }
        let persons = |at: &At| figures.get(at).map_or(0, |f| f.persons);
        // The equations: a sum and its members.
        let mut equations: Vec<(At, Vec<At>)> = Vec::new();
        for region in 0..self.nodes.len() {
            for slot in (0..slots).filter(|&s| listed(s)) {
                for category in 0..categories {
                    let sum = At { region, slot, category };
                    let children = &self.nodes[region].children;
                    if !children.is_empty() {
                        equations.push((
                            sum,
                            children.iter().map(|&r| At { region: r, slot, category }).collect(),
                        ));
                    }
                    if slot == 0 && months > 0 {
                        equations
                            .push((sum, (1..=months).map(|m| At { region, slot: m, category }).collect()));
                    }
                    if category == 0 && categories > 1 {
                        equations
                            .push((sum, (1..categories).map(|c| At { region, slot, category: c }).collect()));
                    }
                }
            }
        }
        // Only equations touching a shown cell can ever hold exactly one suppressed cell.
        equations.retain(|(sum, members)| {
            shown.contains_key(sum) || members.iter().any(|m| shown.contains_key(m))
        });
        loop {
            let mut changed = false;
            for (sum, members) in &equations {
                let hidden_members = members.iter().filter(|m| !shown.contains_key(m)).count();
                let hidden = hidden_members + usize::from(!shown.contains_key(sum));
                // Two suppressed cells can be told apart by the other sums each lies in; a third gives the
                // partner's equations room enough, where a sum has the members for it.
                let needed = if members.len() >= 3 { 3 } else { 2 };
                if hidden == 0 || hidden >= needed {
                    continue;
                }
                let smallest = members
                    .iter()
                    .filter(|m| shown.contains_key(m))
                    .min_by_key(|m| (persons(m), **m))
                    .copied();
                let next = match smallest {
                    Some(next) => next,
                    None if shown.contains_key(sum) => *sum,
                    None => continue,
                };
                shown.remove(&next);
                changed = true;
            }
            if !changed {
                break;
            }
        }
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(region: &str, category: Option<&str>, persons: i64) -> Row {
        Row {
            region_path: None,
            region_code: Some(region.to_owned()),
            region_name: None,
            period: None,
            category: category.map(str::to_owned),
            value: persons,
            persons,
            cell_key: persons * 7919,
        }
    }

    fn cube() -> Cube {
        let regions = vec![
            ("/1/".to_owned(), "1".to_owned(), "R1".to_owned(), 0),
            ("/1/a/".to_owned(), "a".to_owned(), "Ra".to_owned(), 1),
            ("/1/b/".to_owned(), "b".to_owned(), "Rb".to_owned(), 1),
            ("/1/c/".to_owned(), "c".to_owned(), "Rc".to_owned(), 1),
        ];
        Cube::new(regions, vec!["X".to_owned(), "Y".to_owned()], None)
    }

    #[test]
    fn a_small_cell_takes_others_with_it_and_the_same_cells_are_shown_whatever_is_asked() {
        let mut cube = cube();
        // Region a: X 2 (small), Y 30; b: X 40, Y 50; c: X 60, Y 70.
        let cells =
            [("a", "X", 2), ("a", "Y", 30), ("b", "X", 40), ("b", "Y", 50), ("c", "X", 60), ("c", "Y", 70)];
        let mut rows: Vec<Row> = cells.iter().map(|(r, c, n)| row(r, Some(c), *n)).collect();
        for (region, total) in [("a", 32), ("b", 90), ("c", 130)] {
            rows.push(row(region, None, total));
        }
        rows.push(Row { region_code: Some("1".into()), ..row("1", Some("X"), 102) });
        rows.push(Row { region_code: Some("1".into()), ..row("1", Some("Y"), 150) });
        rows.push(Row { region_code: Some("1".into()), ..row("1", None, 252) });
        cube.add(rows, 0);
        let protection = Protection { min_cell: 5, max_noise: 2 };
        let key = DisclosureKey::from_secret([1; 32]);
        let shown = cube.publish(0, protection, &key, Perturbation::Count);
        let is_shown = |region: &str, category: usize| {
            shown.contains_key(&At { region: cube.region(region).unwrap(), slot: 0, category })
        };
        // a/X is small; a/Y would give it away through a's total: it goes. X's total has three members, so two more
        // of its cells go (b/X, c/X), and Y's likewise; the regions' totals and the grand total stay.
        for region in ["a", "b", "c"] {
            assert!(!is_shown(region, 1) && !is_shown(region, 2), "{region}");
            assert!(is_shown(region, 0), "{region}");
        }
        assert!(is_shown("1", 0));
        // Every sum has no suppressed cell, or at least two (three where it has three members or more).
        for region in ["a", "b", "c"] {
            let hidden = (0..3).filter(|&c| !is_shown(region, c)).count();
            assert!(hidden == 0 || hidden >= 2, "{region}");
        }
        assert_eq!(shown, cube.publish(0, protection, &key, Perturbation::Count));
    }

    #[test]
    fn periods_place_in_years_and_months() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap();
        let cube = Cube::new(Vec::new(), Vec::new(), Some((2005, today)));
        assert_eq!(cube.place(Some("2026")), Some((2026, 0)));
        assert_eq!(cube.place(Some("2026-05")), Some((2026, 5)));
        assert_eq!(cube.place(Some("2026-13")), None);
        assert_eq!(cube.place(None), None);
        assert_eq!(cube.months_in(2026), 5);
        assert_eq!(cube.months_in(2025), 12);
        assert_eq!(cube.blocks().len(), 22);
    }
}
