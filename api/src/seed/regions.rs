//! The region tree: 舟山市, its 4 districts/counties and 36 townships from the bundled reference list, and the
//! generated communities/villages and the 2,143 grids below them.
//!
//! The tree does not depend on `scale`: a smaller demo still has the whole city, only fewer people in it.
//! Ids are assigned in insertion order (parents before children), so the tree can be written level by level
//! without reading anything back.

use chrono::{DateTime, Utc};
use entities::region::{self, RegionLevel};
use sea_orm::{DatabaseTransaction, DbErr};

use super::names;
use super::progress::Progress;
use super::rng::{Rng, WeightedTable};
use super::write::insert_all;
use super::{Ctx, SeedReport};

/// The city, districts and townships (code, name, level, parent code), tab-separated with a header line.
const REFERENCE: &str = include_str!("data/zhoushan-regions.tsv");

/// The report's figure for the whole city.
pub const GRID_TOTAL: usize = 2_143;

/// Communities/villages generated in all; the townships get between 6 and 14 each.
pub const COMMUNITY_TOTAL: usize = 380;

/// Real communities/villages named in the report, placed first in their township: (township code, name).
const NAMED_COMMUNITIES: [(&str, &str); 3] = [
    ("330902001", "香园社区"), // 昌国街道: the community-corrections service station
    ("330922004", "田岙村"),   // 五龙乡: the seafood street self-governance pact
    ("330921004", "鱼山村"),   // 岱西镇: 鱼山岛, the petrochemical base worksite
];

/// Relative population of the districts, which the grids (and, through them, the people) follow.
fn district_weight(code: &str) -> f64 {
    match code {
        "330902" => 1.25, // 定海区
        "330903" => 1.15, // 普陀区
        "330921" => 0.85, // 岱山县
        _ => 0.6,         // 嵊泗县
    }
}

/// The kind of township, read from the end of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TownshipKind {
    /// 街道: urban, its communities are 社区.
    Street,
    /// 镇: a town seat (社区) and villages (村).
    Town,
    /// 乡: rural, nearly all villages.
    Rural,
}

#[derive(Debug, Clone)]
pub struct District {
    pub id: i64,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Township {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: TownshipKind,
    pub district: usize,
    /// Indices into [`RegionTree::grids`].
    pub grids: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Community {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub township: usize,
    /// Whether it is a village (村) rather than an urban community (社区).
    pub village: bool,
    pub grids: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Grid {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub community: usize,
    pub township: usize,
    pub district: usize,
}

/// The whole tree, flattened per level; every child refers to its parent by index.
#[derive(Debug, Clone)]
pub struct RegionTree {
    pub city_id: i64,
    pub city_code: String,
    pub city_name: String,
    pub districts: Vec<District>,
    pub townships: Vec<Township>,
    pub communities: Vec<Community>,
    pub grids: Vec<Grid>,
}

impl RegionTree {
    /// Builds the tree from the reference list and the seed.
    pub fn build(ctx: &Ctx) -> Self {
        let mut tree = Self::from_reference();
        tree.generate_communities(ctx.seed);
        tree.generate_grids(ctx.seed);
        tree
    }

    /// The city, districts and townships of the bundled TSV, with ids 1, 2.., in file order.
    fn from_reference() -> Self {
        let mut tree = Self {
            city_id: 1,
            city_code: String::new(),
            city_name: String::new(),
            districts: Vec::new(),
            townships: Vec::new(),
            communities: Vec::new(),
            grids: Vec::new(),
        };
        let mut next_id = 1i64;
        for line in REFERENCE.lines().skip(1) {
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            let [code, name, level, parent, ..] = fields[..] else {
                continue;
            };
            match level {
                "CITY" => {
                    tree.city_id = next_id;
                    tree.city_code = code.to_owned();
                    tree.city_name = name.to_owned();
                }
                "DISTRICT" => tree.districts.push(District {
                    id: next_id,
                    code: code.to_owned(),
                    name: name.to_owned(),
                }),
                "TOWNSHIP" => {
                    let Some(district) = tree.districts.iter().position(|d| d.code == parent) else {
                        continue;
                    };
                    let kind = if name.ends_with("街道") {
                        TownshipKind::Street
                    } else if name.ends_with('乡') {
                        TownshipKind::Rural
                    } else {
                        TownshipKind::Town
                    };
                    tree.townships.push(Township {
                        id: next_id,
                        code: code.to_owned(),
                        name: name.to_owned(),
                        kind,
                        district,
                        grids: Vec::new(),
                    });
                }
                _ => continue,
            }
            next_id += 1;
        }
        tree
    }

    /// The id the next region gets: the city is 1, then everything below in insertion order.
    fn next_id(&self) -> i64 {
        2 + self.districts.len() as i64
            + self.townships.len() as i64
            + self.communities.len() as i64
            + self.grids.len() as i64
    }

    /// 6–14 communities per township (more in the urban streets), exactly [`COMMUNITY_TOTAL`] in all.
    fn generate_communities(&mut self, seed: u64) {
        let mut rng = Rng::stream(seed, "community-counts", 0);
        let mut counts: Vec<usize> = self
            .townships
            .iter()
            .map(|t| match t.kind {
                TownshipKind::Street => rng.range(9, 14) as usize,
                TownshipKind::Town => rng.range(7, 13) as usize,
                TownshipKind::Rural => rng.range(6, 9) as usize,
            })
            .collect();
        // Nudge random townships up or down, within 6..=14, until the total is exact.
        if !counts.is_empty() {
            loop {
                let total: usize = counts.iter().sum();
                let i = rng.index(counts.len());
                if total < COMMUNITY_TOTAL && counts[i] < 14 {
                    counts[i] += 1;
                } else if total > COMMUNITY_TOTAL && counts[i] > 6 {
                    counts[i] -= 1;
                } else if total == COMMUNITY_TOTAL {
                    break;
                }
            }
        }

        for (t, count) in counts.into_iter().enumerate() {
            let mut rng = Rng::stream(seed, "community-names", t as u64);
            let township = &self.townships[t];
            let mut taken: Vec<String> = Vec::new();
            for n in 0..count {
                let named = NAMED_COMMUNITIES
                    .iter()
                    .find(|(code, _)| *code == township.code)
                    .map(|(_, name)| (*name).to_owned());
                let name = match named {
                    Some(name) if n == 0 => name,
                    _ => {
                        let village = match township.kind {
                            TownshipKind::Street => false,
                            TownshipKind::Town => n >= 2 || (n == 1 && rng.chance(0.5)),
                            TownshipKind::Rural => n >= 1,
                        };
                        let suffix = if village { "村" } else { "社区" };
                        loop {
                            let stem = names::place_name(&mut rng);
                            let candidate = format!("{stem}{suffix}");
                            let stem_taken = taken.iter().any(|t| t.starts_with(&stem))
                                || NAMED_COMMUNITIES.iter().any(|(_, n)| n.starts_with(&stem));
                            if !stem_taken {
                                break candidate;
                            }
                        }
                    }
                };
                taken.push(name.clone());
                let id = self.next_id();
                let village = name.ends_with('村');
                self.communities.push(Community {
                    id,
                    code: format!("{}{:03}", township.code, n + 1),
                    name,
                    township: t,
                    village,
                    grids: Vec::new(),
                });
            }
        }
    }

    /// Distributes exactly [`GRID_TOTAL`] grids over the communities in proportion to a population weight (urban
    /// communities and the populous districts get more), at least 2 each, by the largest-remainder method.
    fn generate_grids(&mut self, seed: u64) {
        let mut rng = Rng::stream(seed, "grid-weights", 0);
        let weights: Vec<f64> = self
            .communities
            .iter()
            .map(|c| {
                let township = &self.townships[c.township];
                let urban = if c.village { 1.0 } else { 1.7 };
                let jitter = 0.7 + 0.6 * rng.unit();
                urban * district_weight(&self.districts[township.district].code) * jitter
            })
            .collect();
        let counts = apportion(GRID_TOTAL, &weights, 2);

        for (c, count) in counts.into_iter().enumerate() {
            for n in 0..count {
                let id = self.next_id();
                let community = &self.communities[c];
                let township = community.township;
                let grid = Grid {
                    id,
                    code: format!("{}{:03}", community.code, n + 1),
                    name: format!("{}第{}网格", community.name, n + 1),
                    community: c,
                    township,
                    district: self.townships[township].district,
                };
                let index = self.grids.len();
                self.grids.push(grid);
                self.communities[c].grids.push(index);
                self.townships[township].grids.push(index);
            }
        }
    }

    /// Every region row, parents before children, as the entity models to insert.
    pub fn rows(&self, created_at: DateTime<Utc>) -> Vec<region::Model> {
        let mut rows = Vec::with_capacity(self.next_id() as usize - 1);
        let city_path = format!("/{}/", self.city_code);
        rows.push(region::Model {
            id: self.city_id,
            code: self.city_code.clone(),
            name: self.city_name.clone(),
            level: RegionLevel::City,
            parent_id: None,
            path: city_path.clone(),
            depth: RegionLevel::City.depth(),
            created_at,
        });
        let district_path = |d: &District| format!("{city_path}{}/", d.code);
        for d in &self.districts {
            rows.push(region::Model {
                id: d.id,
                code: d.code.clone(),
                name: d.name.clone(),
                level: RegionLevel::District,
                parent_id: Some(self.city_id),
                path: district_path(d),
                depth: RegionLevel::District.depth(),
                created_at,
            });
        }
        let township_path =
            |t: &Township| format!("{}{}/", district_path(&self.districts[t.district]), t.code);
        for t in &self.townships {
            rows.push(region::Model {
                id: t.id,
                code: t.code.clone(),
                name: t.name.clone(),
                level: RegionLevel::Township,
                parent_id: Some(self.districts[t.district].id),
                path: township_path(t),
                depth: RegionLevel::Township.depth(),
                created_at,
            });
        }
        let community_path =
            |c: &Community| format!("{}{}/", township_path(&self.townships[c.township]), c.code);
        for c in &self.communities {
            rows.push(region::Model {
                id: c.id,
                code: c.code.clone(),
                name: c.name.clone(),
                level: RegionLevel::Community,
                parent_id: Some(self.townships[c.township].id),
                path: community_path(c),
                depth: RegionLevel::Community.depth(),
                created_at,
            });
        }
        for g in &self.grids {
            let community = &self.communities[g.community];
            rows.push(region::Model {
                id: g.id,
                code: g.code.clone(),
                name: g.name.clone(),
                level: RegionLevel::Grid,
                parent_id: Some(community.id),
                path: format!("{}{}/", community_path(community), g.code),
                depth: RegionLevel::Grid.depth(),
                created_at,
            });
        }
        rows
    }

    /// Where residents live, for drawing the home grid of a care subject or an applicant: grids weighted by
    /// their district's population and by urban density.
    pub fn resident_table(&self) -> WeightedTable {
        WeightedTable::new(self.grids.iter().map(|g| {
            let urban = if self.communities[g.community].village { 1.0 } else { 1.3 };
            (1_000.0 * urban * district_weight(&self.districts[g.district].code)) as u64
        }))
    }

    /// The six-digit county code a local identity card number starts with.
    pub fn district_code(&self, district: usize) -> &str {
        &self.districts[district].code
    }

    /// "舟山市定海区昌国街道" for a grid: the start of a postal address.
    pub fn address_prefix(&self, grid: usize) -> String {
        let g = &self.grids[grid];
        format!("{}{}{}", self.city_name, self.districts[g.district].name, self.townships[g.township].name)
    }
}

/// Splits `total` into parts proportional to `weights`, each at least `minimum` (largest remainder, ties to the
/// lower index), so the parts always add up to `total` exactly.
pub fn apportion(total: usize, weights: &[f64], minimum: usize) -> Vec<usize> {
    if weights.is_empty() {
        return Vec::new();
    }
    let floor_total = minimum * weights.len();
    let rest = total.saturating_sub(floor_total);
    let sum: f64 = weights.iter().sum();
    let shares: Vec<f64> =
        weights.iter().map(|w| if sum > 0.0 { w / sum * rest as f64 } else { 0.0 }).collect();
    let mut counts: Vec<usize> = shares.iter().map(|s| minimum + s.floor() as usize).collect();
    let assigned: usize = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = shares[a] - shares[a].floor();
        let rb = shares[b] - shares[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(total.saturating_sub(assigned)) {
        counts[i] += 1;
    }
    counts
}

/// Writes the tree, level by level.
pub async fn insert(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    tree: &RegionTree,
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let rows = tree.rows(ctx.stamp);
    let bar = progress.phase("regions", rows.len() as u64);
    report.regions = insert_all(txn, rows, &bar).await?;
    report.grids = tree.grids.len() as u64;
    bar.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::seed::SeedOptions;

    fn tree() -> RegionTree {
        RegionTree::build(&Ctx::new(&SeedOptions::default()))
    }

    #[test]
    fn reference_list_is_complete() {
        let t = tree();
        assert_eq!(t.city_code, "330900");
        assert_eq!(t.city_name, "舟山市");
        assert_eq!(t.districts.len(), 4);
        assert_eq!(t.townships.len(), 36);
        let streets = t.townships.iter().filter(|t| t.kind == TownshipKind::Street).count();
        let rural = t.townships.iter().filter(|t| t.kind == TownshipKind::Rural).count();
        assert_eq!((streets, rural), (14, 5));
    }

    #[test]
    fn exactly_2143_well_formed_grids() {
        let t = tree();
        assert_eq!(t.grids.len(), GRID_TOTAL);
        assert_eq!(t.communities.len(), COMMUNITY_TOTAL);
        let rows = t.rows(Ctx::new(&SeedOptions::default()).stamp);
        assert_eq!(rows.len(), 1 + 4 + 36 + COMMUNITY_TOTAL + GRID_TOTAL);
        let grids: Vec<_> = rows.iter().filter(|r| r.level == RegionLevel::Grid).collect();
        assert_eq!(grids.len(), 2_143);
        let mut ids = HashSet::new();
        let mut codes = HashSet::new();
        let mut paths = HashSet::new();
        let by_id: std::collections::HashMap<i64, &region::Model> = rows.iter().map(|r| (r.id, r)).collect();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.id, i as i64 + 1, "ids follow insertion order");
            assert!(ids.insert(r.id) && codes.insert(r.code.clone()) && paths.insert(r.path.clone()));
            assert!(r.path.starts_with("/330900/") && r.path.ends_with(&format!("/{}/", r.code)));
            assert_eq!(r.path.matches('/').count() as i16, r.depth + 2);
            assert!(r.code.bytes().all(|b| b.is_ascii_digit()));
            let expected_len = [6, 6, 9, 12, 15][r.depth as usize];
            assert_eq!(r.code.len(), expected_len, "{}", r.code);
            if let Some(parent_id) = r.parent_id {
                let Some(parent) = by_id.get(&parent_id) else {
                    panic!("missing parent of {}", r.code);
                };
                assert!(parent.id < r.id, "parents come first");
                assert_eq!(parent.depth + 1, r.depth);
                assert_eq!(r.path, format!("{}{}/", parent.path, r.code));
                if r.depth >= 3 {
                    assert!(r.code.starts_with(&parent.code));
                }
            } else {
                assert_eq!(r.level, RegionLevel::City);
            }
        }
        for g in grids {
            assert!(g.name.contains("第") && g.name.ends_with("网格"), "{}", g.name);
        }
    }

    #[test]
    fn communities_are_plausible() {
        let t = tree();
        for (i, township) in t.townships.iter().enumerate() {
            let names: Vec<&str> =
                t.communities.iter().filter(|c| c.township == i).map(|c| c.name.as_str()).collect();
            assert!((6..=14).contains(&names.len()), "{}: {}", township.name, names.len());
            let unique: HashSet<&str> = names.iter().copied().collect();
            assert_eq!(unique.len(), names.len(), "names unique within {}", township.name);
            if township.kind == TownshipKind::Street {
                assert!(names.iter().all(|n| n.ends_with("社区")));
            }
        }
        let find = |code: &str| t.communities.iter().find(|c| c.code == code).map(|c| c.name.as_str());
        assert_eq!(find("330902001001"), Some("香园社区"));
        assert_eq!(find("330922004001"), Some("田岙村"));
        assert!(t.communities.iter().all(|c| !c.grids.is_empty()));
        // The populous districts hold most grids.
        let per_district = |d: usize| t.grids.iter().filter(|g| g.district == d).count();
        assert!(per_district(0) > per_district(2) && per_district(1) > per_district(3));
    }

    #[test]
    fn tree_is_deterministic() {
        let a = tree().rows(Ctx::new(&SeedOptions::default()).stamp);
        let b = tree().rows(Ctx::new(&SeedOptions::default()).stamp);
        assert_eq!(a, b);
    }

    #[test]
    fn apportion_is_exact() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0], 2), vec![4, 3, 3]);
        assert_eq!(apportion(7, &[0.0, 5.0], 1).iter().sum::<usize>(), 7);
        assert_eq!(apportion(2_143, &vec![1.3; 380], 2).iter().sum::<usize>(), 2_143);
    }
}
