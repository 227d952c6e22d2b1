//! `schema.graphql` is the committed output of `govgraph schema`; frontend teams build against it.
//! Run with `UPDATE_SCHEMA=1` to rewrite it after an intended change.

#[test]
fn committed_schema_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let current = govgraph::schema::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &current).expect("write schema.graphql");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` (or UPDATE_SCHEMA=1 cargo test) and commit it"
    );
}

#[test]
fn every_type_and_field_is_described() {
    let sdl = govgraph::schema::sdl();
    let mut undocumented = Vec::new();
    let mut described = false;
    let mut in_description = false;
    let mut in_schema_block = false;
    for line in sdl.lines() {
        let trimmed = line.trim();
        // Descriptions are `"text"` on one line or a `"""` block over several.
        if in_description {
            if trimmed.ends_with(r#"""""#) {
                in_description = false;
                described = true;
            }
            continue;
        }
        if trimmed.starts_with(r#"""""#) {
            in_description = !(trimmed.len() > 3 && trimmed.ends_with(r#"""""#));
            described = !in_description;
            continue;
        }
        if trimmed.starts_with('"') {
            described = true;
            continue;
        }
        let declares_type = ["type ", "enum ", "input ", "interface ", "union "]
            .iter()
            .any(|keyword| trimmed.starts_with(keyword));
        // A field, argument or enum value line starts with its name; `): Type` closes an argument list.
        let declares_field = line.starts_with('\t')
            && trimmed.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && !in_schema_block;
        if trimmed.starts_with("schema ") {
            in_schema_block = true;
        } else if trimmed == "}" {
            in_schema_block = false;
        }
        if (declares_type || declares_field) && !described {
            undocumented.push(trimmed.to_owned());
        }
        described = false;
    }
    assert!(undocumented.is_empty(), "undocumented schema elements: {undocumented:#?}");
}
