//! `schema.graphql` is the committed output of `govgraph schema`; frontend teams build against it.
//! Run with `UPDATE_SCHEMA=1` to rewrite it after an intended change.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

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

/// Every type, field, argument, input field, enum value and scalar of the schema, as `Type.field(argument)`, with
/// its description (if any), whether it is a plain list, and whether it is deprecated.
struct Element {
    name: String,
    description: Option<String>,
    plain_list: bool,
    deprecated: bool,
}

fn elements() -> Vec<Element> {
    use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
    let sdl = govgraph::schema::sdl();
    let document = async_graphql::parser::parse_schema(&sdl).expect("the schema parses");
    let text = |description: &Option<async_graphql::Positioned<String>>| {
        description.as_ref().map(|d| d.node.clone()).filter(|d| !d.trim().is_empty())
    };
    let mut out = Vec::new();
    let mut push = |name: String, description: Option<String>, plain_list: bool, deprecated: bool| {
        out.push(Element { name, description, plain_list, deprecated });
    };
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let ty = &ty.node;
        let type_name = ty.name.node.to_string();
        push(type_name.clone(), text(&ty.description), false, false);
        let connection_part = type_name.ends_with("Connection") || type_name.ends_with("Edge");
        match &ty.kind {
            TypeKind::Object(object) => {
                for field in &object.fields {
                    let field = &field.node;
                    let name = format!("{type_name}.{}", field.name.node);
                    let deprecated = field.directives.iter().any(|d| d.node.name.node == "deprecated");
                    let is_list = matches!(field.ty.node.base, BaseType::List(_));
                    push(name.clone(), text(&field.description), is_list && !connection_part, deprecated);
                    for argument in &field.arguments {
                        push(
                            format!("{name}({})", argument.node.name.node),
                            text(&argument.node.description),
                            false,
                            false,
                        );
                    }
                }
            }
            TypeKind::InputObject(input) => {
                for field in &input.fields {
                    push(
                        format!("{type_name}.{}", field.node.name.node),
                        text(&field.node.description),
                        false,
                        false,
                    );
                }
            }
            TypeKind::Enum(values) => {
                for value in &values.values {
                    push(
                        format!("{type_name}.{}", value.node.value.node),
                        text(&value.node.description),
                        false,
                        false,
                    );
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_type_field_argument_and_value_is_described() {
    let undocumented: Vec<String> = elements()
        .into_iter()
        .filter(|element| element.description.is_none())
        .map(|element| element.name)
        .collect();
    assert!(undocumented.is_empty(), "undocumented schema elements: {undocumented:#?}");
}

/// A list that is not a connection says how long it can get ("at most N"), so that clients and the cost model
/// know; a list without such a bound is deprecated in favour of a connection.
#[test]
fn every_plain_list_states_its_bound() {
    let unbounded: Vec<String> = elements()
        .into_iter()
        .filter(|element| element.plain_list && !element.deprecated)
        .filter(|element| {
            govgraph::limits::analysis::stated_bound(element.description.as_deref().unwrap_or("")).is_none()
        })
        .map(|element| element.name)
        .collect();
    assert!(unbounded.is_empty(), "lists without \"at most N\" in their description: {unbounded:#?}");
}
