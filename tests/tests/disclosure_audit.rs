//! The interval attack, played as a partner would: every statistics response a partner of one district can get for
//! a sensitive measure — each region level, with and without categories, by month and by year, with every
//! subtotal — is one system of interval equations over the community × month × category cells, and each small
//! cell is bounded by linear programming.
//!
//! What it checks, on the demo data, with k = 5 and k = 10:
//! - every combination of the grouping keys is listed, and every cell counting fewer than k persons, none included,
//!   is suppressed;
//! - a shown figure is within the noise bound of the truth and never below k;
//! - the same cell (region, period, category) has the same figure in every response that contains it;
//! - treating a shown figure p as "the truth lies in [max(k, p − D), p + D]" and a suppressed one as "not
//!   negative" (it may be small, empty, or hidden to protect another), every suppressed cell holding 1 to k − 1
//!   persons can still be 0: its presence is not revealed, so neither is its value.
//!
//! `GOVGRAPH_AUDIT_SCALE` (default 0.05) and `GOVGRAPH_AUDIT_REGION` (default 330921, Daishan: a district with
//! fishing townships, so maritime disputes too) choose the data, `GOVGRAPH_AUDIT_MEASURES` and `GOVGRAPH_AUDIT_K`
//! (comma-separated) narrow a run down; the figures are printed (`--nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::collections::{BTreeMap, BTreeSet};

use govgraph::server::DomainSettings;
use govgraph::statistics::StatisticsSettings;
use govgraph_tests::{Fixture, ServerConfig, TestServer, admin, assert_no_errors, error_codes, token_for};
use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem, Variable};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// Count measures whose value is the number of persons, so that an interval on the value is one on the persons.
const MEASURES: &[&str] =
    &["CARE_SUBJECTS", "CORRECTIONS_RECEIVED", "DISPUTES_RECEIVED", "DISPUTE_ESCALATIONS"];
const MAX_NOISE: i64 = govgraph::statistics::cell_key::DEFAULT_MAX_NOISE;

/// A cell as the partner sees it: its region (the district for a total over regions), period and category.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    region: String,
    period: String,
    category: Option<String>,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// The communities of the district, by code, and every region's path in it.
struct Tree {
    district: String,
    communities: Vec<(String, String)>,
    paths: BTreeMap<String, String>,
}

impl Tree {
    async fn load(server: &TestServer, district: &str) -> Tree {
        let db = server.db.connect().await;
        let backend = db.get_database_backend();
        let sql = format!(
            "SELECT r.code, r.path, r.depth FROM region r JOIN region d ON d.code = '{district}' \
             WHERE r.path LIKE d.path || '%' AND r.depth <= 3 ORDER BY r.code"
        );
        let rows = db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap();
        let mut paths = BTreeMap::new();
        let mut communities = Vec::new();
        for row in rows {
            let code: String = row.try_get("", "code").unwrap();
            let path: String = row.try_get("", "path").unwrap();
            let depth: i64 = row.try_get::<i16>("", "depth").map(i64::from).unwrap();
            if depth == 3 {
                communities.push((code.clone(), path.clone()));
            }
            paths.insert(code, path);
        }
        assert!(!communities.is_empty(), "no communities under {district}");
        Tree { district: district.to_owned(), communities, paths }
    }

    /// Indexes of the communities under `region`.
    fn under(&self, region: &str) -> Vec<usize> {
        let path = &self.paths[region];
        (0..self.communities.len()).filter(|&i| self.communities[i].1.starts_with(path.as_str())).collect()
    }
}

/// The months (`2026-05`) a period label covers, up to this month: the partner knows nothing happened later.
fn months(period: &str) -> Vec<String> {
    let year = &period[..4];
    let this_month = (chrono::Utc::now() + chrono::TimeDelta::hours(8)).format("%Y-%m").to_string();
    match period.len() {
        4 => (1..=12).map(|m| format!("{year}-{m:02}")).filter(|m| *m <= this_month).collect(),
        _ => vec![period.to_owned()],
    }
}

async fn statistics(server: &TestServer, token: &str, args: &str) -> Value {
    let query = format!(
        "{{ statistics({args}) {{ cells {{ regionCode period category value suppressed }} \
         totals {{ regionCode period category value suppressed }} }} }}"
    );
    server.gql(Some(token), &query, json!({})).await
}

/// What one partner could learn of one measure.
struct Collected {
    figures: BTreeMap<Key, Option<i64>>,
    responses: usize,
    refused: usize,
    categories: BTreeSet<String>,
    /// Cells listed per region level (by response), for the information-loss figures.
    listed: Vec<(String, Key, Option<i64>)>,
}

async fn collect(server: &TestServer, token: &str, tree: &Tree, measure: &str) -> Collected {
    let mut collected = Collected {
        figures: BTreeMap::new(),
        responses: 0,
        refused: 0,
        categories: BTreeSet::new(),
        listed: Vec::new(),
    };
    for level in ["DISTRICT", "TOWNSHIP", "COMMUNITY"] {
        for period in ["MONTH", "YEAR"] {
            for by_category in [false, true] {
                let category = if by_category { ", CATEGORY" } else { "" };
                let args = format!(
                    "measure: {measure}, groupBy: [REGION, PERIOD{category}], regionLevel: {level}, \
                     period: {period}, withTotals: true"
                );
                let response = statistics(server, token, &args).await;
                if error_codes(&response) == ["QUERY_TOO_COMPLEX"] {
                    collected.refused += 1;
                    continue;
                }
                assert_no_errors(&response);
                collected.responses += 1;
                let result = &response["data"]["statistics"];
                let mut cells: Vec<Value> = result["cells"].as_array().unwrap().clone();
                let listed = cells.len();
                cells.extend(result["totals"].as_array().unwrap().iter().cloned());
                // Every combination of the keys is listed.
                let distinct = |field: &str| -> usize {
                    let values: BTreeSet<String> = cells[..listed]
                        .iter()
                        .filter(|c| !c[field].is_null())
                        .map(|c| c[field].to_string())
                        .collect();
                    values.len().max(1)
                };
                assert_eq!(
                    listed,
                    distinct("regionCode") * distinct("period") * distinct("category"),
                    "{args}"
                );
                for (i, cell) in cells.iter().enumerate() {
                    let key = Key {
                        region: cell["regionCode"].as_str().unwrap_or(&tree.district).to_owned(),
                        period: cell["period"].as_str().expect("every figure has a period").to_owned(),
                        category: cell["category"].as_str().map(str::to_owned),
                    };
                    if let Some(category) = &key.category {
                        collected.categories.insert(category.clone());
                    }
                    let figure = cell["value"].as_str().map(|v| v.parse::<i64>().unwrap());
                    assert_eq!(figure.is_none(), cell["suppressed"] == true, "{cell}");
                    if i < listed {
                        collected.listed.push((level.to_owned(), key.clone(), figure));
                    }
                    if let Some(seen) = collected.figures.insert(key.clone(), figure) {
                        assert_eq!(
                            seen, figure,
                            "{measure}: {key:?} has two figures in two responses ({args})"
                        );
                    }
                }
            }
        }
    }
    collected
}

/// The true counts by (community index, month, category), from an official's exact statistics.
async fn truth(
    server: &TestServer,
    tree: &Tree,
    measure: &str,
    years: &BTreeSet<String>,
) -> BTreeMap<(usize, String, String), i64> {
    let index: BTreeMap<&str, usize> =
        tree.communities.iter().enumerate().map(|(i, (code, _))| (code.as_str(), i)).collect();
    let mut counts = BTreeMap::new();
    for year in years {
        let args = format!(
            "measure: {measure}, groupBy: [REGION, PERIOD, CATEGORY], regionLevel: COMMUNITY, period: MONTH, \
             year: {year}, inRegion: \"{}\"",
            tree.district
        );
        let response = statistics(server, &admin(), &args).await;
        assert_no_errors(&response);
        for cell in response["data"]["statistics"]["cells"].as_array().unwrap() {
            let community = index[cell["regionCode"].as_str().unwrap()];
            let key = (
                community,
                cell["period"].as_str().unwrap().to_owned(),
                cell["category"].as_str().unwrap().to_owned(),
            );
            counts.insert(key, cell["value"].as_str().unwrap().parse::<i64>().unwrap());
        }
    }
    counts
}

/// What the audit of one measure found.
#[derive(Debug, Default)]
struct Findings {
    small_cells: usize,
    presence_revealed: Vec<String>,
    pinned: Vec<String>,
}

fn audit_measure(
    tree: &Tree,
    collected: &Collected,
    truth: &BTreeMap<(usize, String, String), i64>,
    k: i64,
) -> Findings {
    let categories: Vec<String> = collected.categories.iter().cloned().collect();
    let cells_of = |key: &Key| -> Vec<(usize, String, String)> {
        let mut cells = Vec::new();
        for community in tree.under(&key.region) {
            for month in months(&key.period) {
                for category in &categories {
                    if key.category.as_ref().is_none_or(|c| c == category) {
                        cells.push((community, month.clone(), category.clone()));
                    }
                }
            }
        }
        cells
    };
    let mut findings = Findings::default();
    let mut by_year: BTreeMap<String, Vec<(&Key, Option<i64>)>> = BTreeMap::new();
    for (key, figure) in &collected.figures {
        let true_value: i64 = cells_of(key).iter().map(|cell| truth.get(cell).copied().unwrap_or(0)).sum();
        match figure {
            // Suppressed: small, empty, or hidden to protect a small one.
            None => {}
            Some(shown) => {
                assert!(true_value >= k, "{key:?} holds {true_value} and is shown as {shown}");
                assert!(
                    *shown >= k && (shown - true_value).abs() <= MAX_NOISE,
                    "{key:?}: {shown} for {true_value}"
                );
            }
        }
        by_year.entry(key.period[..4].to_owned()).or_default().push((key, *figure));
    }
    for (year, figures) in by_year {
        let small: Vec<&Key> = figures
            .iter()
            .filter(|(key, figure)| {
                let true_value: i64 = cells_of(key).iter().map(|c| truth.get(c).copied().unwrap_or(0)).sum();
                figure.is_none() && (1..k).contains(&true_value)
            })
            .map(|(key, _)| *key)
            .collect();
        if small.is_empty() {
            continue;
        }
        findings.small_cells += small.len();
        let mut problem = Problem::new(OptimizationDirection::Minimize);
        let mut vars: BTreeMap<(usize, String, String), Variable> = BTreeMap::new();
        for community in 0..tree.communities.len() {
            for month in months(&year) {
                for category in &categories {
                    vars.insert(
                        (community, month.clone(), category.clone()),
                        problem.add_var(0.0, (0.0, f64::INFINITY)),
                    );
                }
            }
        }
        let expr_of = |key: &Key| -> LinearExpr {
            let mut expr = LinearExpr::empty();
            for cell in cells_of(key) {
                expr.add(vars[&cell], 1.0);
            }
            expr
        };
        for (key, figure) in &figures {
            match figure {
                // A suppressed cell may be small or hidden to protect another: it is only known not to be negative.
                None => {}
                Some(shown) => {
                    problem.add_constraint(expr_of(key), ComparisonOp::Ge, (k.max(shown - MAX_NOISE)) as f64);
                    problem.add_constraint(expr_of(key), ComparisonOp::Le, (shown + MAX_NOISE) as f64);
                }
            }
        }
        let solution = problem
            .solve()
            .expect("the true table satisfies every figure")
            .into_solution()
            .expect("solved without a time limit");
        for key in small {
            let can_be_zero = solution.clone().add_constraint(expr_of(key), ComparisonOp::Eq, 0.0).is_ok();
            if can_be_zero {
                continue;
            }
            findings.presence_revealed.push(format!("{key:?}"));
            let true_value: i64 = cells_of(key).iter().map(|c| truth.get(c).copied().unwrap_or(0)).sum();
            let lower =
                solution.clone().add_constraint(expr_of(key), ComparisonOp::Le, (true_value - 1) as f64);
            let higher =
                solution.clone().add_constraint(expr_of(key), ComparisonOp::Ge, (true_value + 1) as f64);
            if lower.is_err() && higher.is_err() {
                findings.pinned.push(format!("{key:?} = {true_value}"));
            }
        }
    }
    findings
}

/// Per region level: the share of non-empty cells suppressed (and of those that had to be, holding fewer than k
/// persons), and the mean absolute perturbation of the shown ones.
fn information_loss(
    collected: &Collected,
    tree: &Tree,
    truth: &BTreeMap<(usize, String, String), i64>,
    k: i64,
) -> String {
    let categories: Vec<String> = collected.categories.iter().cloned().collect();
    let mut by_level: BTreeMap<String, (usize, usize, usize, i64, usize, usize)> = BTreeMap::new();
    for (level, key, figure) in &collected.listed {
        let mut true_value = 0;
        for community in tree.under(&key.region) {
            for month in months(&key.period) {
                for category in &categories {
                    if key.category.as_ref().is_none_or(|c| c == category) {
                        true_value +=
                            truth.get(&(community, month.clone(), category.clone())).copied().unwrap_or(0);
                    }
                }
            }
        }
        let entry = by_level.entry(level.clone()).or_default();
        entry.0 += 1;
        if true_value > 0 {
            entry.1 += 1;
        }
        if (1..k).contains(&true_value) {
            entry.5 += 1;
        }
        match figure {
            None if true_value > 0 => entry.2 += 1,
            None => {}
            Some(shown) => {
                entry.3 += (shown - true_value).abs();
                entry.4 += 1;
            }
        }
    }
    by_level
        .iter()
        .map(|(level, (listed, nonzero, suppressed_nonzero, abs, shown, small))| {
            format!(
                "{level}: {listed} cells listed, {nonzero} non-empty, {suppressed_nonzero} non-empty suppressed ({:.1}%; \
                 {small} of them small, {:.1}%), mean |noise| {:.2} over {shown} shown",
                100.0 * *suppressed_nonzero as f64 / (*nonzero).max(1) as f64,
                100.0 * *small as f64 / (*nonzero).max(1) as f64,
                *abs as f64 / (*shown).max(1) as f64
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn no_small_cell_is_revealed_by_every_response_a_partner_can_get() {
    let scale: f64 = env_or("GOVGRAPH_AUDIT_SCALE", "0.05").parse().unwrap();
    let district = env_or("GOVGRAPH_AUDIT_REGION", "330921");
    let server = TestServer::start(Fixture::Demo(scale)).await;
    let tree = Tree::load(&server, &district).await;
    let mut failures = Vec::new();
    let ks: Vec<i64> = env_or("GOVGRAPH_AUDIT_K", "5,10").split(',').map(|k| k.parse().unwrap()).collect();
    for k in ks {
        let settings = DomainSettings {
            statistics: StatisticsSettings { min_cell: k, max_noise: MAX_NOISE },
            ..DomainSettings::default()
        };
        let partner_server = server.start_beside(ServerConfig { settings, ..ServerConfig::default() }).await;
        let partner = token_for("partner-audit", &["partner"], &district);
        let only = env_or("GOVGRAPH_AUDIT_MEASURES", "");
        for measure in MEASURES.iter().filter(|m| only.is_empty() || only.split(',').any(|o| o == **m)) {
            let started = std::time::Instant::now();
            let collected = collect(&partner_server, &partner, &tree, measure).await;
            let years: BTreeSet<String> =
                collected.figures.keys().map(|key| key.period[..4].to_owned()).collect();
            let truth = truth(&server, &tree, measure, &years).await;
            let findings = audit_measure(&tree, &collected, &truth, k);
            eprintln!(
                "k={k} {measure} in {district} at scale {scale}: {} responses ({} refused as too large), {} distinct \
                 figures, {} small cells examined, {} with presence revealed, {} pinned ({:.1} s); {}",
                collected.responses,
                collected.refused,
                collected.figures.len(),
                findings.small_cells,
                findings.presence_revealed.len(),
                findings.pinned.len(),
                started.elapsed().as_secs_f64(),
                information_loss(&collected, &tree, &truth, k),
            );
            if !findings.presence_revealed.is_empty() {
                failures
                    .push(format!("k={k} {measure}: presence revealed for {:?}", findings.presence_revealed));
            }
            if !findings.pinned.is_empty() {
                failures.push(format!("k={k} {measure}: pinned {:?}", findings.pinned));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
