//! Where the rows of an export are in a persisted query: its one Relay connection, the variable that carries the
//! cursor, the `pageInfo` fields that say whether to go on, and the columns of a row (the node's selected fields,
//! nested objects flattened with dotted names). Everything is read from the document before any database work,
//! so that a document an export cannot follow is refused at once, and the columns are known before any row.

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use serde_json::Value;

use crate::limits::analysis::{Rejection, TypeModel, pick_operation};

/// How to read the rows of each page of one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Response keys from `data` to the connection.
    pub path: Vec<String>,
    /// The variable the connection's `after` argument takes: each page sets it to the last page's `endCursor`.
    pub after_variable: String,
    /// Response keys of `pageInfo`, `hasNextPage` and `endCursor`.
    page_info: [String; 3],
    /// Response keys from the connection to a row's node: `nodes`, or `edges` then `node`.
    rows: Rows,
    /// The columns of a row, in the document's order.
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rows {
    Nodes(String),
    Edges { edges: String, node: String },
}

/// One column: a field of the node, or of an object below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The response keys from the node, joined with dots: `region.name`.
    pub name: String,
    /// The response keys from the node.
    path: Vec<String>,
}

/// What one page of the connection holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<'a> {
    /// The nodes of the page (empty when the connection or an object above it is `null`).
    pub nodes: Vec<&'a Value>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

/// A field of a selection set with its fragments expanded: every occurrence of one response key.
struct Selected<'d> {
    key: String,
    name: String,
    /// The type the field is selected on: its fragment's type condition, or the type of the selection set.
    parent: Option<String>,
    fields: Vec<&'d Field>,
}

impl<'d> Selected<'d> {
    fn has_selection(&self) -> bool {
        self.fields.iter().any(|field| !field.selection_set.node.items.is_empty())
    }

    /// The fields selected below this one, the selections of all its occurrences merged.
    fn children(&self, document: &'d ExecutableDocument, model: &TypeModel) -> Vec<Selected<'d>> {
        let base = model.return_type(self.parent.as_deref(), &self.name).map(|ty| ty.base.to_owned());
        let mut out = Vec::new();
        for field in self.fields.iter().copied() {
            collect(document, &field.selection_set.node, base.as_deref(), &mut Vec::new(), &mut out);
        }
        out
    }
}

fn selected<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    parent: Option<&str>,
) -> Vec<Selected<'d>> {
    let mut out = Vec::new();
    collect(document, set, parent, &mut Vec::new(), &mut out);
    out
}

fn collect<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    parent: Option<&str>,
    open: &mut Vec<&'d str>,
    out: &mut Vec<Selected<'d>>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                let key = field.response_key().node.as_str();
                match out.iter_mut().find(|selected| selected.key == key) {
                    Some(existing) => existing.fields.push(field),
                    None => out.push(Selected {
                        key: key.to_owned(),
                        name: field.name.node.to_string(),
                        parent: parent.map(str::to_owned),
                        fields: vec![field],
                    }),
                }
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                // Cycles were refused when the query was measured; this only keeps the walk finite.
                if open.contains(&name) {
                    continue;
                }
                let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) else {
                    continue;
                };
                open.push(name);
                let condition = fragment.node.type_condition.node.on.node.as_str();
                collect(document, &fragment.node.selection_set.node, Some(condition), open, out);
                open.pop();
            }
            Selection::InlineFragment(inline) => {
                let condition =
                    inline.node.type_condition.as_ref().map(|condition| condition.node.on.node.as_str());
                collect(document, &inline.node.selection_set.node, condition.or(parent), open, out);
            }
        }
    }
}

/// A connection found in the document.
struct Found<'d> {
    path: Vec<String>,
    selected: Selected<'d>,
    /// The list the connection sits in, if any: its pages would be many, one per item.
    inside_list: Option<String>,
}

fn find_connections<'d>(
    document: &'d ExecutableDocument,
    model: &TypeModel,
    selection: Vec<Selected<'d>>,
    path: &[String],
    inside_list: Option<&str>,
    found: &mut Vec<Found<'d>>,
) {
    for selected in selection {
        let ty = model.return_type(selected.parent.as_deref(), &selected.name);
        let mut here = path.to_vec();
        here.push(selected.key.clone());
        let children = selected.children(document, model);
        let is_connection = ty.is_some_and(|ty| ty.is_connection());
        let below_list = if is_connection || ty.is_some_and(|ty| ty.list) {
            Some(here.join("."))
        } else {
            inside_list.map(str::to_owned)
        };
        find_connections(document, model, children, &here, below_list.as_deref(), found);
        if is_connection {
            found.push(Found { path: here, selected, inside_list: inside_list.map(str::to_owned) });
        }
    }
}

/// Reads how to page through the one connection of the operation `operation_name` of `document`.
pub fn plan(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    model: &TypeModel,
) -> Result<Plan, Rejection> {
    let operation = pick_operation(document, operation_name)?;
    let root = selected(document, &operation.selection_set.node, Some(model.query_type()));
    let mut found = Vec::new();
    find_connections(document, model, root, &[], None, &mut found);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    let connection = match found.len() {
        0 => {
            return Err(Rejection::bad_input(
                "the query selects no connection: an export follows the pages of exactly one connection (a list \
                 with `pageInfo`, such as `volunteers`)",
            ));
        }
        1 => found.remove(0),
        n => {
            let names: Vec<String> = found.iter().map(|found| found.path.join(".")).collect();
            return Err(Rejection::bad_input(format!(
                "the query selects {n} connections ({}): an export follows the pages of exactly one",
                names.join(", ")
            )));
        }
    };
    let name = connection.path.join(".");
    if let Some(list) = &connection.inside_list {
        return Err(Rejection::bad_input(format!(
            "the connection `{name}` sits inside the list `{list}`: an export follows one connection's pages"
        )));
    }
    let after_variable = after_variable(&connection.selected, &name)?;
    let children = connection.selected.children(document, model);
    let child = |field: &str| children.iter().find(|selected| selected.name == field);
    let page_info = child("pageInfo").and_then(|page_info| {
        let fields = page_info.children(document, model);
        let key = |field: &str| fields.iter().find(|selected| selected.name == field).map(|s| s.key.clone());
        Some([page_info.key.clone(), key("hasNextPage")?, key("endCursor")?])
    });
    let Some(page_info) = page_info else {
        return Err(Rejection::bad_input(format!(
            "the connection `{name}` must select `pageInfo {{ hasNextPage endCursor }}`: the export follows \
             `endCursor` while `hasNextPage` is true (the query runs exactly as it was persisted, so add it there)"
        )));
    };
    let (rows, node) = match (child("nodes"), child("edges")) {
        (Some(nodes), None) => (Rows::Nodes(nodes.key.clone()), nodes.children(document, model)),
        (None, Some(edges)) => {
            let below = edges.children(document, model);
            let Some(node) = below.into_iter().find(|selected| selected.name == "node") else {
                return Err(Rejection::bad_input(format!(
                    "the connection `{name}` selects `edges` without `node`: the rows are the nodes"
                )));
            };
            let fields = node.children(document, model);
            (Rows::Edges { edges: edges.key.clone(), node: node.key.clone() }, fields)
        }
        (Some(_), Some(_)) => {
            return Err(Rejection::bad_input(format!(
                "the connection `{name}` selects both `nodes` and `edges`: select the rows once"
            )));
        }
        (None, None) => {
            return Err(Rejection::bad_input(format!(
                "the connection `{name}` selects no rows: select `nodes {{ … }}` or `edges {{ node {{ … }} }}`"
            )));
        }
    };
    let mut columns = Vec::new();
    flatten(document, model, node, &[], &mut columns);
    if columns.is_empty() {
        return Err(Rejection::bad_input(format!("the rows of `{name}` select no fields")));
    }
    Ok(Plan { path: connection.path, after_variable, page_info, rows, columns })
}

/// The variable of the connection's `after` argument; backward pagination is refused (the export goes forward).
fn after_variable(connection: &Selected<'_>, name: &str) -> Result<String, Rejection> {
    let Some(field) = connection.fields.first() else {
        return Err(Rejection::bad_input(format!("the connection `{name}` has no field")));
    };
    let argument = |wanted: &str| {
        field.arguments.iter().find(|(argument, _)| argument.node == wanted).map(|(_, value)| &value.node)
    };
    if argument("last").is_some() || argument("before").is_some() {
        return Err(Rejection::bad_input(format!(
            "the connection `{name}` pages backwards (`last`/`before`): an export follows `first`/`after`"
        )));
    }
    // A variable is written `$name`; a literal never starts with `$`.
    let written = argument("after").map(ToString::to_string);
    match written.as_deref().and_then(|written| written.strip_prefix('$')) {
        Some(variable) => Ok(variable.to_owned()),
        None => Err(Rejection::bad_input(format!(
            "the connection `{name}` must take its `after` argument from a variable, as in `{}(first: 500, after: \
             $after)`: the export passes each page's endCursor in it",
            connection.name
        ))),
    }
}

/// The columns of `selection` below `prefix`: a field with fields of its own is flattened into them unless it
/// returns a list, which is one column (its items as JSON).
fn flatten(
    document: &ExecutableDocument,
    model: &TypeModel,
    selection: Vec<Selected<'_>>,
    prefix: &[String],
    columns: &mut Vec<Column>,
) {
    for selected in selection {
        let mut path = prefix.to_vec();
        path.push(selected.key.clone());
        let list = model.return_type(selected.parent.as_deref(), &selected.name).is_some_and(|ty| ty.list);
        if selected.has_selection() && !list {
            let children = selected.children(document, model);
            flatten(document, model, children, &path, columns);
        } else {
            columns.push(Column { name: path.join("."), path });
        }
    }
}

impl Plan {
    /// The rows and the next cursor of one page's `data`, or what is wrong with it.
    pub fn page<'a>(&self, data: &'a Value) -> Result<Page<'a>, String> {
        let mut connection = data;
        for key in &self.path {
            connection = &connection[key.as_str()];
        }
        if connection.is_null() {
            return Ok(Page { nodes: Vec::new(), next: None });
        }
        let nodes = match &self.rows {
            Rows::Nodes(nodes) => connection[nodes.as_str()].as_array().map(|list| list.iter().collect()),
            Rows::Edges { edges, node } => connection[edges.as_str()]
                .as_array()
                .map(|list| list.iter().map(|edge| &edge[node.as_str()]).collect()),
        };
        let nodes: Vec<&Value> =
            nodes.ok_or_else(|| format!("the page of `{}` has no rows", self.path.join(".")))?;
        let [page_info, has_next, end_cursor] = &self.page_info;
        let page_info = &connection[page_info.as_str()];
        let next = match page_info[has_next.as_str()].as_bool() {
            Some(false) => None,
            Some(true) => match page_info[end_cursor.as_str()].as_str() {
                Some(cursor) if !nodes.is_empty() => Some(cursor.to_owned()),
                _ => {
                    return Err(format!(
                        "the page of `{}` says more rows follow but gives no rows or no end cursor to get them",
                        self.path.join(".")
                    ));
                }
            },
            None => {
                return Err(format!("the page of `{}` has no `pageInfo.hasNextPage`", self.path.join(".")));
            }
        };
        Ok(Page { nodes, next })
    }

    /// The text of each column of one node: empty for `null` (a masked or refused value, or a missing object),
    /// lists and objects as JSON.
    pub fn cells(&self, node: &Value) -> Vec<String> {
        self.columns
            .iter()
            .map(|column| {
                let mut value = node;
                for key in &column.path {
                    value = &value[key.as_str()];
                }
                match value {
                    Value::Null => String::new(),
                    Value::String(text) => text.clone(),
                    Value::Bool(_) | Value::Number(_) => value.to_string(),
                    Value::Array(_) | Value::Object(_) => value.to_string(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SDL: &str = "
        type Query { region(code: String!): Region volunteers(first: Int, after: String, last: Int, \
            before: String): VolunteerConnection! regions: [Region!]! }
        type Region { code: String! name: String! parent: Region volunteers(first: Int, after: String): \
            VolunteerConnection! }
        type VolunteerConnection { edges: [VolunteerEdge!]! nodes: [Volunteer!]! pageInfo: PageInfo! \
            totalCount: Int! }
        type VolunteerEdge { cursor: String! node: Volunteer! }
        type PageInfo { hasNextPage: Boolean! endCursor: String }
        type Volunteer { id: ID! name: String! grid: Region badges: [Badge!]! tags: [String!]! \
            serviceRecords(first: Int, after: String): VolunteerConnection! }
        type Badge { name: String! }
    ";

    fn plan_of(query: &str) -> Result<Plan, Rejection> {
        let model = TypeModel::from_sdl(SDL);
        let document =
            async_graphql::parser::parse_query(query).map_err(|err| Rejection::bad_input(err.to_string()))?;
        plan(&document, None, &model)
    }

    fn names(plan: &Plan) -> Vec<&str> {
        plan.columns.iter().map(|column| column.name.as_str()).collect()
    }

    #[test]
    fn columns_flatten_objects_keep_lists_whole_and_follow_aliases_and_fragments() {
        let plan = plan_of(
            "query V($after: String) { volunteers(first: 2, after: $after) { totalCount \
             pageInfo { more: hasNextPage endCursor } nodes { id ...Who grid { code parent { name } } \
             badges { name } tags } } } fragment Who on Volunteer { fullName: name id }",
        )
        .unwrap();
        assert_eq!(names(&plan), ["id", "fullName", "grid.code", "grid.parent.name", "badges", "tags"]);
        assert_eq!(plan.path, ["volunteers"]);
        assert_eq!(plan.after_variable, "after");
        let data = json!({ "volunteers": { "totalCount": 3, "pageInfo": { "more": true, "endCursor": "c2" },
            "nodes": [
                { "id": "1", "fullName": "张*", "grid": { "code": "33", "parent": null }, "badges": [{ "name": "金" }], "tags": [] },
                { "id": "2", "fullName": null, "grid": null, "badges": [], "tags": ["a", "b"] },
            ] } });
        let page = plan.page(&data).unwrap();
        assert_eq!(page.next.as_deref(), Some("c2"));
        assert_eq!(plan.cells(page.nodes[0]), ["1", "张*", "33", "", "[{\"name\":\"金\"}]", "[]"]);
        assert_eq!(plan.cells(page.nodes[1]), ["2", "", "", "", "[]", "[\"a\",\"b\"]"]);
    }

    #[test]
    fn edges_nested_connections_and_the_last_page() {
        let plan = plan_of(
            "query R($cursor: String) { region(code: \"1\") { name volunteers(first: 5, after: $cursor) { \
             pageInfo { hasNextPage endCursor } edges { cursor node { name } } } } }",
        )
        .unwrap();
        assert_eq!(
            (plan.path.clone(), plan.after_variable.clone()),
            (vec!["region".into(), "volunteers".into()], "cursor".into())
        );
        let data = json!({ "region": { "name": "x", "volunteers": { "pageInfo": { "hasNextPage": false, "endCursor": null },
            "edges": [{ "cursor": "a", "node": { "name": "李*" } }] } } });
        let page = plan.page(&data).unwrap();
        assert_eq!((page.nodes.len(), page.next), (1, None));
        let no_region = json!({ "region": null });
        let missing = plan.page(&no_region).unwrap();
        assert!(missing.nodes.is_empty() && missing.next.is_none());
        let stuck = json!({ "region": { "volunteers": { "pageInfo": { "hasNextPage": true, "endCursor": null }, "edges": [] } } });
        assert!(plan.page(&stuck).is_err());
    }

    #[test]
    fn documents_an_export_cannot_follow_are_refused_with_what_to_change() {
        for (query, says) in [
            ("{ region(code: \"1\") { name } }", "no connection"),
            (
                "query($a: String) { volunteers(after: $a) { pageInfo { hasNextPage endCursor } nodes { id } } \
              region(code: \"1\") { volunteers(after: $a) { nodes { id } } } }",
                "2 connections",
            ),
            (
                "query($a: String) { volunteers(after: $a) { pageInfo { hasNextPage endCursor } nodes { id \
              serviceRecords(after: $a) { nodes { id } } } } }",
                "2 connections",
            ),
            (
                "query($a: String) { regions { volunteers(after: $a) { pageInfo { hasNextPage endCursor } nodes { id } } } }",
                "inside the list `regions`",
            ),
            (
                "query($a: String) { volunteers(after: $a) { nodes { id } } }",
                "pageInfo { hasNextPage endCursor }",
            ),
            (
                "query($a: String) { volunteers(after: $a) { pageInfo { hasNextPage } nodes { id } } }",
                "pageInfo { hasNextPage endCursor }",
            ),
            (
                "{ volunteers(first: 5) { pageInfo { hasNextPage endCursor } nodes { id } } }",
                "from a variable",
            ),
            (
                "{ volunteers(after: \"x\") { pageInfo { hasNextPage endCursor } nodes { id } } }",
                "from a variable",
            ),
            (
                "query($a: String) { volunteers(last: 5, after: $a) { pageInfo { hasNextPage endCursor } nodes { id } } }",
                "backwards",
            ),
            (
                "query($a: String) { volunteers(after: $a) { pageInfo { hasNextPage endCursor } totalCount } }",
                "no rows",
            ),
            (
                "query($a: String) { volunteers(after: $a) { pageInfo { hasNextPage endCursor } nodes { id } edges { cursor } } }",
                "both",
            ),
            (
                "query($a: String) { volunteers(after: $a) { pageInfo { hasNextPage endCursor } edges { cursor } } }",
                "without `node`",
            ),
        ] {
            let rejection = plan_of(query).expect_err(query);
            assert_eq!(rejection.code, crate::error::code::BAD_USER_INPUT);
            assert!(rejection.message.contains(says), "{query}: {}", rejection.message);
        }
    }
}
