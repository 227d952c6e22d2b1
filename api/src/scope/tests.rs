//! The guards of scoped reads: every table declares its rule and its reads carry the caller's predicate; no
//! resolver or loader builds a select of a table by hand; the reads that ignore the scope are the reviewed ones.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use entities::*;
use sea_orm::{DbBackend, QueryTrait};

use super::*;
use crate::auth::{Resource, Scope};

const DISTRICT: &str = "/330900/330902/";

fn access_in(path: &str) -> Access {
    Access::for_tests(Resource::Region, Some(Scope::new(2, "330902".into(), path.into())))
}

/// The SQL of the caller's read of `E` within `path`.
fn read_sql<E: Scoped>(path: &str) -> String {
    read::<E>(&access_in(path)).build(DbBackend::Postgres).to_string()
}

/// Checks that `E`'s read carries the scope, and returns its table name.
fn carries_scope<E: Scoped>() -> &'static str {
    let name = E::default().table_name();
    let sql = read_sql::<E>(DISTRICT);
    assert!(sql.contains("/330900/330902/"), "the read of {name} does not carry the scope: {sql}");
    let other = read_sql::<E>("/330900/330903/");
    assert!(other.contains("/330900/330903/") && !other.contains("/330900/330902/"), "{name}: {other}");
    // Public data read without a token has no region predicate; every caller with a token has one.
    let public = read::<E>(&Access::for_tests(Resource::Region, None)).build(DbBackend::Postgres).to_string();
    assert!(!public.contains("/330900/"), "{name}: {public}");
    name
}

#[test]
fn every_scoped_table_reads_within_the_callers_subtree() {
    let checked: BTreeSet<&str> = [
        carries_scope::<assessment_step::Entity>(),
        carries_scope::<major_project::Entity>(),
        carries_scope::<mitigation_measure::Entity>(),
        carries_scope::<responsible_unit::Entity>(),
        carries_scope::<stability_assessment::Entity>(),
        carries_scope::<unit_veto::Entity>(),
        carries_scope::<audit_event::Entity>(),
        carries_scope::<audit_event_record::Entity>(),
        carries_scope::<care_group_member::Entity>(),
        carries_scope::<care_subject::Entity>(),
        carries_scope::<care_visit::Entity>(),
        carries_scope::<correction_profile::Entity>(),
        carries_scope::<dispute::Entity>(),
        carries_scope::<dispute_event::Entity>(),
        carries_scope::<dispute_party::Entity>(),
        carries_scope::<dispute_vessel::Entity>(),
        carries_scope::<fishing_vessel::Entity>(),
        carries_scope::<mediation_boat::Entity>(),
        carries_scope::<mediator::Entity>(),
        carries_scope::<grid_team_member::Entity>(),
        carries_scope::<ledger_entry::Entity>(),
        carries_scope::<legal_aid_application::Entity>(),
        carries_scope::<legal_aid_fund::Entity>(),
        carries_scope::<mental_health_profile::Entity>(),
        carries_scope::<mentor::Entity>(),
        carries_scope::<mentoring_outcome::Entity>(),
        carries_scope::<mentoring_session::Entity>(),
        carries_scope::<mentorship::Entity>(),
        carries_scope::<region::Entity>(),
        carries_scope::<risk_assessment::Entity>(),
        carries_scope::<service_record::Entity>(),
        carries_scope::<service_rollup::Entity>(),
        carries_scope::<service_rollup_pending::Entity>(),
        carries_scope::<volunteer::Entity>(),
        carries_scope::<volunteer_badge::Entity>(),
        carries_scope::<volunteer_team::Entity>(),
        carries_scope::<volunteer_team_membership::Entity>(),
        carries_scope::<youth_profile::Entity>(),
    ]
    .into_iter()
    .collect();
    let declared: BTreeSet<&str> = SCOPED_TABLES.iter().copied().collect();
    assert_eq!(checked, declared, "every table in SCOPED_TABLES is checked here, and only those");
}

/// An entity added to the `entities` crate must declare its scope rule (and be added to the check above).
#[test]
fn every_entity_declares_its_scope() {
    let lib = std::fs::read_to_string(repo().join("entities/src/lib.rs")).unwrap_or_default();
    let modules: BTreeSet<&str> = lib
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub mod "))
        .filter_map(|rest| rest.strip_suffix(';'))
        .collect();
    assert!(!modules.is_empty(), "no entity modules found");
    let declared: BTreeSet<&str> = SCOPED_TABLES.iter().chain(UNSCOPED_TABLES).copied().collect();
    let undeclared: Vec<&&str> = modules.difference(&declared).collect();
    assert!(undeclared.is_empty(), "entities without a scope rule in api/src/scope/rules.rs: {undeclared:?}");
}

#[test]
fn a_parent_rule_with_ids_among_stays_a_lookup_of_those_ids() {
    let sql = read_among::<care_visit::Entity>(&access_in(DISTRICT), &[7, 9])
        .build(DbBackend::Postgres)
        .to_string();
    assert!(sql.contains(r#""id" IN (7, 9)"#), "{sql}");
    assert!(sql.contains(DISTRICT), "{sql}");
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The Rust sources of the server, without their `#[cfg(test)]` modules.
fn server_sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }
    let root = repo().join("api/src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let code = match text.find("#[cfg(test)]") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            let relative = path.strip_prefix(&root).ok()?.to_string_lossy().replace('\\', "/");
            Some((relative, code))
        })
        .collect()
}

/// No resolver, loader or mutation builds a select of a table but through this module: `Entity::find()` and
/// `find_by_id` appear only here and in the demo seed (which writes, and reads nothing on anyone's behalf).
#[test]
fn no_select_of_a_table_is_built_by_hand() {
    let mut by_hand = Vec::new();
    for (file, code) in server_sources() {
        if file.starts_with("scope/") || file.starts_with("seed/") {
            continue;
        }
        for (number, line) in code.lines().enumerate() {
            let line = line.trim();
            if line.starts_with("//") {
                continue;
            }
            if line.contains("Entity::find") || line.contains("::find_by_id(") || line.contains("E::find()") {
                by_hand.push(format!("{file}:{}: {line}", number + 1));
            }
        }
    }
    assert!(by_hand.is_empty(), "selects built by hand (use crate::scope::read): {by_hand:#?}");
}

/// The reviewed places that read regardless of the caller's scope, by file and reason. A new one needs a
/// review: add it here with the reason it is safe.
const UNSCOPED_CALLERS: &[(&str, &str)] = &[
    ("audit/chain.rs", "AuditChain"),
    ("directory.rs", "RegionDirectory"),
    ("disputes/mutation.rs", "IdempotencyKey"),
    ("disputes/mutation.rs", "SameTransaction"),
    ("legal_aid/funds.rs", "FundTotals"),
    ("legal_aid/ledger.rs", "Ledger"),
    ("legal_aid/mutation.rs", "Ledger"),
    ("legal_aid/mutation.rs", "SameTransaction"),
    ("legal_aid/verify.rs", "Ledger"),
    ("regions/query.rs", "PublicGridTeam"),
    ("volunteers/service_log.rs", "JustWritten"),
];

#[test]
fn unscoped_reads_are_the_reviewed_ones() {
    let mut found: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (file, code) in server_sources() {
        if file.starts_with("scope/") {
            continue;
        }
        let mut rest = code.as_str();
        while let Some(at) = rest.find("Unscoped::") {
            rest = &rest[at + "Unscoped::".len()..];
            let reason: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            *found.entry((file.clone(), reason)).or_default() += 1;
        }
        assert_eq!(
            code.matches("unscoped::<").count(),
            code.matches("Unscoped::").count(),
            "{file}: every unscoped read names its reason"
        );
    }
    let found: BTreeSet<(String, String)> = found.into_keys().collect();
    let reviewed: BTreeSet<(String, String)> =
        UNSCOPED_CALLERS.iter().map(|(file, reason)| ((*file).to_owned(), (*reason).to_owned())).collect();
    let unreviewed: Vec<_> = found.difference(&reviewed).collect();
    assert!(unreviewed.is_empty(), "unscoped reads not on the reviewed list: {unreviewed:?}");
    let stale: Vec<_> = reviewed.difference(&found).collect();
    assert!(stale.is_empty(), "reviewed unscoped reads that no longer exist: {stale:?}");
}

/// A relationship rule narrows the region rule, also when the region rule is an OR of its own (a dispute is in
/// scope when reported in the subtree or handled there): a mediator never sees an unassigned case of their region.
#[test]
fn a_relationship_rule_narrows_an_or_shaped_region_rule() {
    let mut access = access_in(DISTRICT);
    access.assigned_to = Some("mediator-1".into());
    let sql = read::<dispute::Entity>(&access).build(DbBackend::Sqlite).to_string();
    let (region_rule, relationship) =
        sql.split_once(" AND (\"dispute\".\"assignee_mediator_id\" IN").unwrap_or_else(|| panic!("{sql}"));
    assert!(region_rule.contains(" OR "), "{sql}");
    assert!(relationship.contains("'mediator-1'"), "{sql}");
    // Without the relationship, an added condition is ANDed with the whole rule.
    let plain = condition::<dispute::Entity>(&access_in(DISTRICT)).add(dispute::Column::Id.eq(7));
    let sql = dispute::Entity::find().filter(plain).build(DbBackend::Sqlite).to_string();
    assert!(sql.ends_with(r#") AND "dispute"."id" = 7"#), "{sql}");
}
