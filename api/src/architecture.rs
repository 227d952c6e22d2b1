//! Guards of the layout: a domain depends on the core and never on another domain's helpers, queries or filters.
//! A domain may use another's GraphQL types (`types`) and the loaders of the relations that point into it
//! (`loader`: `Region.volunteers` asks the volunteers' loader); the audit trail and the statistics rollup are
//! core services every domain may call.

use std::collections::BTreeSet;
use std::path::Path;

/// The domain folders of `api/src`.
const DOMAINS: &[&str] = &[
    "regions",
    "volunteers",
    "care",
    "mentoring",
    "legal_aid",
    "disputes",
    "stability",
    "statistics",
    "audit",
];

/// What a domain may use of another.
const PUBLIC_MODULES: &[&str] = &["types", "loader"];

/// Services of the core that happen to live in a domain folder, usable from every domain.
const CORE_SERVICES: &[(&str, &str)] = &[("audit", "*"), ("statistics", "rollup")];

/// The modules of `domain` that `code` names through `crate::<domain>::…` (the first segment after the domain,
/// each item of a `{…}` list counted).
fn modules_named(code: &str, domain: &str) -> Vec<String> {
    let prefix = format!("crate::{domain}::");
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(&prefix) {
        rest = &rest[at + prefix.len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in list.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ => item.push(c),
                }
            }
            items.push(item);
            found.extend(items.iter().map(|item| head(item.trim())).filter(|m| !m.is_empty()));
        } else {
            found.push(head(rest));
        }
    }
    found
}

fn head(path: &str) -> String {
    path.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

#[test]
fn domains_use_each_other_only_through_types_and_loaders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = BTreeSet::new();
    for domain in DOMAINS {
        let Ok(entries) = std::fs::read_dir(root.join(domain)) else { continue };
        for entry in entries.flatten() {
            let Ok(code) = std::fs::read_to_string(entry.path()) else { continue };
            for other in DOMAINS.iter().filter(|other| *other != domain) {
                for module in modules_named(&code, other) {
                    let public = PUBLIC_MODULES.contains(&module.as_str());
                    let core = CORE_SERVICES.iter().any(|(d, m)| d == other && (*m == "*" || *m == module));
                    if !public && !core {
                        let file = entry.file_name().to_string_lossy().into_owned();
                        violations.insert(format!("{domain}/{file} uses crate::{other}::{module}"));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "domains reaching into each other: {violations:#?}");
}

#[test]
fn module_names_are_read_from_paths_and_lists() {
    let code = "use crate::care::{types::X, loader::{A, B}};\nlet y = crate::care::query::f();";
    assert_eq!(modules_named(code, "care"), ["types", "loader", "query"]);
}

/// Every mutation runs in the one frame (`crate::frame::write`): no domain opens a write transaction or appends
/// an audit event of its own.
#[test]
fn mutations_run_in_the_one_frame() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut own_frames = Vec::new();
    for domain in DOMAINS.iter().filter(|domain| **domain != "audit") {
        let Ok(entries) = std::fs::read_dir(root.join(domain)) else { continue };
        for entry in entries.flatten() {
            let Ok(code) = std::fs::read_to_string(entry.path()) else { continue };
            for needle in ["begin_write(", "record_change(", "record_change_about(", ".commit()"] {
                if code.contains(needle) {
                    own_frames.push(format!("{domain}/{}: {needle}", entry.file_name().to_string_lossy()));
                }
            }
        }
    }
    assert!(own_frames.is_empty(), "mutations outside crate::frame::write: {own_frames:#?}");
}
