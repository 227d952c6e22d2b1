//! Measuring a request before it runs: [`scan`] counts lexical tokens and bracket nesting without parsing,
//! [`analyze`] walks the parsed operation (fragments expanded, each fragment measured once) for depth, aliases,
//! root fields, directives, fragment cycles and the cost model, using the field types of [`TypeModel`].

use std::collections::HashMap;

use async_graphql::Variables;
use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Value as ConstValue};

use super::QueryLimits;

/// Page size a connection is assumed to return when the query names none (the API's default page).
pub const DEFAULT_LIST_SIZE: u64 = 50;

/// What one SQL statement costs, in rows: a field that fetches a relation may issue one.
pub const STATEMENT_COST: u64 = 10;

/// The bound a list field's description states as "at most N" (the first such phrase; digits, optionally with
/// thousands separators), which the schema promises every plain list to carry.
pub fn stated_bound(description: &str) -> Option<u64> {
    let lower = description.to_ascii_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("at most ") {
        rest = &rest[at + "at most ".len()..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == ',').collect();
        if let Ok(bound) = digits.trim_end_matches(',').replace(',', "").parse() {
            return Some(bound);
        }
    }
    None
}

/// What the lexical pass measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    pub tokens: u64,
    pub nesting: u64,
}

/// Counts the GraphQL tokens of `query` (names, numbers, strings, punctuators; whitespace, commas and comments
/// are not tokens) and the deepest nesting of `{`, `(` and `[`.
pub fn scan(query: &str) -> Scan {
    let bytes = query.as_bytes();
    let (mut i, mut tokens, mut depth, mut nesting) = (0usize, 0u64, 0u64, 0u64);
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' => {
                tokens += 1;
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'{' | b'(' | b'[' => {
                tokens += 1;
                depth += 1;
                nesting = nesting.max(depth);
                i += 1;
            }
            b'}' | b')' | b']' => {
                tokens += 1;
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                tokens += 1;
                i += 3;
            }
            b'_' | b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' => {
                tokens += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'_' | b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
                {
                    if bytes[i..].starts_with(b"...") {
                        break;
                    }
                    i += 1;
                }
            }
            _ => {
                tokens += 1;
                i += 1;
            }
        }
    }
    Scan { tokens, nesting }
}

/// The return type of a field as far as cost is concerned.
#[derive(Debug, Clone)]
struct FieldType {
    /// The named type under lists and non-null markers.
    base: String,
    /// Whether the field returns a list.
    list: bool,
    /// Whether the field takes `first` or `last`.
    paginated: bool,
    /// The most items a plain list returns, as its description states it ("at most N").
    bound: Option<u64>,
}

/// The fields of each object and interface type of the schema, read once from its SDL.
#[derive(Debug, Clone, Default)]
pub struct TypeModel {
    types: HashMap<String, HashMap<String, FieldType>>,
    query: String,
    mutation: String,
    subscription: String,
}

impl TypeModel {
    /// Reads the schema's SDL; an unreadable SDL gives an empty model (every field then costs as an object).
    pub fn from_sdl(sdl: &str) -> Self {
        let mut model = TypeModel {
            query: "Query".into(),
            mutation: "Mutation".into(),
            subscription: "Subscription".into(),
            ..Default::default()
        };
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            tracing::error!("the schema's SDL did not parse; query costs ignore list types");
            return model;
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    if let Some(query) = &schema.node.query {
                        model.query = query.node.to_string();
                    }
                    if let Some(mutation) = &schema.node.mutation {
                        model.mutation = mutation.node.to_string();
                    }
                    if let Some(subscription) = &schema.node.subscription {
                        model.subscription = subscription.node.to_string();
                    }
                }
                TypeSystemDefinition::Type(ty) => {
                    let fields = match &ty.node.kind {
                        TypeKind::Object(object) => &object.fields,
                        TypeKind::Interface(interface) => &interface.fields,
                        _ => continue,
                    };
                    let map = model.types.entry(ty.node.name.node.to_string()).or_default();
                    for field in fields {
                        let mut base = &field.node.ty.node.base;
                        let mut list = false;
                        while let BaseType::List(inner) = base {
                            list = true;
                            base = &inner.base;
                        }
                        let BaseType::Named(name) = base else { continue };
                        let paginated = field
                            .node
                            .arguments
                            .iter()
                            .any(|arg| matches!(arg.node.name.node.as_str(), "first" | "last"));
                        let bound = field.node.description.as_ref().and_then(|text| stated_bound(&text.node));
                        map.insert(
                            field.node.name.node.to_string(),
                            FieldType { base: name.to_string(), list, paginated, bound },
                        );
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        model
    }

    fn field(&self, parent: Option<&str>, name: &str) -> Option<&FieldType> {
        self.types.get(parent?)?.get(name)
    }

    /// The name of the query root type.
    pub fn query_type(&self) -> &str {
        &self.query
    }

    /// What the field `name` of type `parent` returns, when the schema has it.
    pub fn return_type(&self, parent: Option<&str>, name: &str) -> Option<ReturnType<'_>> {
        self.field(parent, name).map(|ty| ReturnType { base: &ty.base, list: ty.list })
    }
}

/// The return type of a field, as [`TypeModel::return_type`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnType<'m> {
    /// The named type under lists and non-null markers.
    pub base: &'m str,
    /// Whether the field returns a list.
    pub list: bool,
}

impl ReturnType<'_> {
    /// Whether the field is a Relay connection (its type is named `…Connection`, as every connection's is).
    pub fn is_connection(self) -> bool {
        self.base.ends_with("Connection")
    }
}

/// What a request measures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measures {
    pub depth: u64,
    /// The cost: every object the query can return (the product of the page sizes and list bounds along its
    /// path) plus [`STATEMENT_COST`] for every field that can issue a statement. Scalars of an object already
    /// fetched are free.
    pub cost: u64,
    /// Objects the selection can return per object of its parent.
    rows_per_parent: u64,
    /// Fields that can issue a statement.
    statements: u64,
    pub aliases: u64,
    pub directives: u64,
    pub root_fields: u64,
    /// Whether the operation selects `__schema` or `__type`.
    pub introspection: bool,
}

/// The operation that will run, with its measures.
#[derive(Debug, Clone, Copy)]
pub struct Analysis {
    pub operation: OperationType,
    pub measures: Measures,
}

/// A request refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// `QUERY_TOO_COMPLEX` or `BAD_USER_INPUT`.
    pub code: &'static str,
    pub message: String,
    /// Which limit (`depth`, `complexity`, …), when a limit was exceeded.
    pub measure: Option<&'static str>,
    pub limit: Option<u64>,
    pub measured: Option<u64>,
}

impl Rejection {
    /// A limit exceeded.
    pub fn exceeded(measure: &'static str, limit: u64, measured: u64) -> Self {
        Rejection {
            code: crate::error::code::QUERY_TOO_COMPLEX,
            message: format!("query too complex: {measure} is {measured}, the limit is {limit}"),
            measure: Some(measure),
            limit: Some(limit),
            measured: Some(measured),
        }
    }

    /// A malformed request.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Rejection {
            code: crate::error::code::BAD_USER_INPUT,
            message: message.into(),
            measure: None,
            limit: None,
            measured: None,
        }
    }

    /// The GraphQL error of this rejection, with `code`, `measure`, `limit` and `measured` in its extensions.
    pub fn to_server_error(&self) -> async_graphql::ServerError {
        let mut error = async_graphql::ServerError::new(self.message.clone(), None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", self.code);
        if let Some(measure) = self.measure {
            extensions.set("measure", measure);
        }
        if let Some(limit) = self.limit {
            extensions.set("limit", limit);
        }
        if let Some(measured) = self.measured {
            extensions.set("measured", measured);
        }
        error.extensions = Some(extensions);
        error
    }
}

/// Checks the lexical measures of `query` against `limits`.
pub fn check_scan(query: &str, limits: &QueryLimits) -> Result<Scan, Rejection> {
    let scan = scan(query);
    if scan.tokens > limits.max_tokens {
        return Err(Rejection::exceeded("tokens", limits.max_tokens, scan.tokens));
    }
    if scan.nesting > limits.max_nesting() {
        return Err(Rejection::exceeded("nesting", limits.max_nesting(), scan.nesting));
    }
    Ok(scan)
}

/// Picks the operation of `document` that `operation_name` names (or its only one).
pub fn pick_operation<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<&'d OperationDefinition, Rejection> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Ok(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get(name)
            .map(|operation| &operation.node)
            .ok_or_else(|| Rejection::bad_input(format!("unknown operation named \"{name}\""))),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .values()
            .next()
            .map(|operation| &operation.node)
            .ok_or_else(|| Rejection::bad_input("the document has no operation")),
        (DocumentOperations::Multiple(_), None) => {
            Err(Rejection::bad_input("the document has several operations: name one in `operationName`"))
        }
    }
}

/// Measures the operation that will run and checks every document limit except the cost budget, which depends
/// on the caller (see [`QueryLimits::complexity_for`]).
pub fn analyze(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    model: &TypeModel,
    limits: &QueryLimits,
) -> Result<Analysis, Rejection> {
    let operation = pick_operation(document, operation_name)?;
    let defaults = operation
        .variable_definitions
        .iter()
        .filter_map(|definition| {
            let value = definition.node.default_value.as_ref()?;
            Some((definition.node.name.node.to_string(), value.node.clone()))
        })
        .collect();
    let root = match operation.ty {
        OperationType::Mutation => model.mutation.as_str(),
        OperationType::Subscription => model.subscription.as_str(),
        OperationType::Query => model.query.as_str(),
    };
    let mut walker = Walker { document, variables, defaults, model, memo: HashMap::new(), stack: Vec::new() };
    let mut measures = walker.selection_set(&operation.selection_set.node, Some(root), false)?;
    // The root's selection runs once; every root field costs at least 1.
    measures.cost = measures
        .rows_per_parent
        .saturating_add(measures.statements.saturating_mul(STATEMENT_COST))
        .max(measures.root_fields);
    let variable_directives: usize =
        operation.variable_definitions.iter().map(|definition| definition.node.directives.len()).sum();
    measures.directives = measures
        .directives
        .saturating_add(count(operation.directives.len()))
        .saturating_add(count(variable_directives));
    let depth_limit = u64::try_from(limits.max_depth).unwrap_or(u64::MAX);
    let checks = [
        ("depth", depth_limit, measures.depth),
        ("aliases", limits.max_aliases, measures.aliases),
        ("rootFields", limits.max_root_fields, measures.root_fields),
        ("directives", limits.max_directives, measures.directives),
    ];
    for (measure, limit, measured) in checks {
        if measured > limit {
            return Err(Rejection::exceeded(measure, limit, measured));
        }
    }
    Ok(Analysis { operation: operation.ty, measures })
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    defaults: HashMap<String, ConstValue>,
    model: &'a TypeModel,
    /// Each fragment is measured once per context (inside introspection or not).
    memo: HashMap<(String, bool), Measures>,
    /// Fragments being expanded, to find cycles.
    stack: Vec<String>,
}

impl Walker<'_> {
    /// Measures a selection set: `root_fields` counts its own fields, `depth` the deepest field below it.
    fn selection_set(
        &mut self,
        set: &SelectionSet,
        parent: Option<&str>,
        introspection: bool,
    ) -> Result<Measures, Rejection> {
        let mut total = Measures::default();
        for item in &set.items {
            let part = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let inside = introspection || matches!(name, "__schema" | "__type");
                    let ty = self.model.field(parent, name).cloned();
                    let mut part = Measures {
                        depth: 1,
                        aliases: u64::from(field.alias.is_some()),
                        directives: count(field.directives.len()),
                        root_fields: 1,
                        introspection: inside,
                        ..Measures::default()
                    };
                    if !field.selection_set.node.items.is_empty() {
                        let child_parent = ty.as_ref().map(|ty| ty.base.clone());
                        let child =
                            self.selection_set(&field.selection_set.node, child_parent.as_deref(), inside)?;
                        part.depth = if inside { 1 } else { 1 + child.depth };
                        part.aliases = part.aliases.saturating_add(child.aliases);
                        part.directives = part.directives.saturating_add(child.directives);
                        part.introspection |= child.introspection;
                        if inside {
                            // Introspection reads the schema in memory: each of its fields counts one.
                            part.rows_per_parent = 1u64.saturating_add(child.rows_per_parent);
                        } else {
                            let multiplier = self.multiplier(field, parent, ty.as_ref());
                            let own = if is_plumbing(parent, name) { 0 } else { multiplier };
                            part.rows_per_parent =
                                own.saturating_add(multiplier.saturating_mul(child.rows_per_parent));
                            part.statements =
                                u64::from(!is_plumbing(parent, name)).saturating_add(child.statements);
                        }
                    } else if inside {
                        part.rows_per_parent = 1;
                    }
                    part
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.to_string();
                    let mut part = self.fragment(&name, introspection)?;
                    part.directives = part.directives.saturating_add(count(spread.node.directives.len()));
                    part
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let condition =
                        inline.type_condition.as_ref().map(|condition| condition.node.on.node.to_string());
                    let mut part = self.selection_set(
                        &inline.selection_set.node,
                        condition.as_deref().or(parent),
                        introspection,
                    )?;
                    part.directives = part.directives.saturating_add(count(inline.directives.len()));
                    part
                }
            };
            total.depth = total.depth.max(part.depth);
            total.rows_per_parent = total.rows_per_parent.saturating_add(part.rows_per_parent);
            total.statements = total.statements.saturating_add(part.statements);
            total.aliases = total.aliases.saturating_add(part.aliases);
            total.directives = total.directives.saturating_add(part.directives);
            total.root_fields = total.root_fields.saturating_add(part.root_fields);
            total.introspection |= part.introspection;
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &str, introspection: bool) -> Result<Measures, Rejection> {
        if self.stack.iter().any(|open| open == name) {
            let mut cycle = self.stack.clone();
            cycle.push(name.to_owned());
            return Err(Rejection::bad_input(format!("fragment cycle: {}", cycle.join(" → "))));
        }
        let key = (name.to_owned(), introspection);
        if let Some(measures) = self.memo.get(&key) {
            return Ok(*measures);
        }
        let document = self.document;
        let Some(fragment) = document.fragments.get(name) else {
            return Err(Rejection::bad_input(format!("unknown fragment \"{name}\"")));
        };
        self.stack.push(name.to_owned());
        let condition = fragment.node.type_condition.node.on.node.to_string();
        let result = self.selection_set(&fragment.node.selection_set.node, Some(&condition), introspection);
        self.stack.pop();
        let mut measures = result?;
        measures.directives = measures.directives.saturating_add(count(fragment.node.directives.len()));
        self.memo.insert(key, measures);
        Ok(measures)
    }

    /// How many objects a field returns per object of its parent: `first`/`last` (or [`DEFAULT_LIST_SIZE`]) for
    /// connections, the stated bound (or [`DEFAULT_LIST_SIZE`] without one) for plain lists, 1 for single objects
    /// and for the lists inside a connection (`edges`, `nodes`), which the connection's page size already counts.
    fn multiplier(
        &self,
        field: &async_graphql::parser::types::Field,
        parent: Option<&str>,
        ty: Option<&FieldType>,
    ) -> u64 {
        let requested = field
            .arguments
            .iter()
            .filter(|(name, _)| matches!(name.node.as_str(), "first" | "last"))
            .filter_map(|(_, value)| {
                let constant = value.node.clone().into_const_with(|name: Name| {
                    self.variables.get(&name).or_else(|| self.defaults.get(name.as_str())).cloned().ok_or(())
                });
                constant.ok().and_then(number)
            })
            .max();
        if let Some(requested) = requested {
            return requested;
        }
        let inside_connection = parent.is_some_and(|parent| parent.ends_with("Connection"));
        match ty {
            Some(ty) if ty.paginated || ty.base.ends_with("Connection") => DEFAULT_LIST_SIZE,
            Some(ty) if ty.list && !inside_connection => ty.bound.unwrap_or(DEFAULT_LIST_SIZE),
            _ => 1,
        }
    }
}

/// The fields that only unwrap a connection (`edges`, `nodes`, `node`, `pageInfo`): they return the objects the
/// connection already counted, with no statement of their own.
fn is_plumbing(parent: Option<&str>, name: &str) -> bool {
    let Some(parent) = parent else { return false };
    (parent.ends_with("Connection") && matches!(name, "edges" | "nodes" | "pageInfo"))
        || (parent.ends_with("Edge") && name == "node")
}

/// A non-negative integer argument; negative numbers count as 0.
fn number(value: ConstValue) -> Option<u64> {
    match value {
        ConstValue::Number(number) => {
            number.as_u64().or_else(|| number.as_i64().map(|n| u64::try_from(n).unwrap_or(0)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "
        type Query { viewer: Viewer items(first: Int, last: Int): ItemConnection! tags: [Tag!]! }
        type Viewer { subject: String! roles: [String!]! }
        type ItemConnection { edges: [ItemEdge!]! nodes: [Item!]! totalCount: Int! }
        type ItemEdge { node: Item! cursor: String! }
        type Item { id: ID! name: String! tags: [Tag!]! \"The labels: at most 3.\" labels: [Tag!]! }
        type Tag { name: String! }
        type Mutation { touch: Boolean! }
    ";

    fn measure(query: &str, variables: serde_json::Value) -> Result<Measures, Rejection> {
        let limits = QueryLimits {
            max_depth: 100,
            max_aliases: 10_000,
            max_root_fields: 10_000,
            ..Default::default()
        };
        let document =
            async_graphql::parser::parse_query(query).map_err(|err| Rejection::bad_input(err.to_string()))?;
        let variables = Variables::from_json(variables);
        analyze(&document, None, &variables, &TypeModel::from_sdl(SDL), &limits)
            .map(|analysis| analysis.measures)
    }

    #[test]
    fn tokens_and_nesting() {
        assert_eq!(scan("{ a { b(x: [1, 2]) } }"), Scan { tokens: 14, nesting: 4 });
        assert_eq!(scan("# comment\n{ a(s: \"x y\", t: \"\"\"a \\\"\"\" b\"\"\") ...F }").tokens, 13);
    }

    #[test]
    fn cost_counts_objects_along_each_path_and_statements() {
        let m =
            measure("{ items(first: 10) { edges { node { id name } } totalCount } }", serde_json::json!({}))
                .expect("measured");
        // 10 items, one statement; edges and node only unwrap them, scalars are free.
        assert_eq!(m.cost, 10 + STATEMENT_COST);
        assert_eq!(m.depth, 4);
        let m = measure("query($n: Int = 3) { items(first: $n) { nodes { id } } }", serde_json::json!({}))
            .expect("measured");
        assert_eq!(m.cost, 3 + STATEMENT_COST);
        let m = measure("query($n: Int) { items(first: $n) { nodes { id } } }", serde_json::json!({"n": 7}))
            .expect("measured");
        assert_eq!(m.cost, 7 + STATEMENT_COST);
        // A list without a stated bound counts the default page: 50 items with 50 tags each.
        let m = measure("{ items { nodes { tags { name } } } }", serde_json::json!({})).expect("measured");
        assert_eq!(m.cost, 50 + 50 * 50 + 2 * STATEMENT_COST);
        // A list with a stated bound counts it: 10 items with at most 3 labels each.
        let m = measure("{ items(first: 10) { nodes { labels { name } } } }", serde_json::json!({}))
            .expect("measured");
        assert_eq!(m.cost, 10 + 10 * 3 + 2 * STATEMENT_COST);
        let m = measure("{ viewer { subject roles } }", serde_json::json!({})).expect("measured");
        assert_eq!(m.cost, 1 + STATEMENT_COST);
        // A query of scalars only costs one per root field.
        let m = measure("{ a: __typename b: __typename }", serde_json::json!({})).expect("measured");
        assert_eq!(m.cost, 2);
    }

    #[test]
    fn bounds_are_read_from_descriptions() {
        assert_eq!(stated_bound("The teams, in the order they joined: at most 10."), Some(10));
        assert_eq!(stated_bound("at\n    most 10,000 cells"), Some(10_000));
        assert_eq!(stated_bound("At most a few, at most 4"), Some(4));
        assert_eq!(stated_bound("A list of things."), None);
    }

    #[test]
    fn fragments_are_expanded_and_cycles_refused() {
        let m = measure(
            "{ a: viewer { ...V } b: viewer { ...V } } fragment V on Viewer { s: subject @skip(if: false) }",
            serde_json::json!({}),
        )
        .expect("measured");
        assert_eq!((m.aliases, m.directives, m.root_fields), (4, 2, 2));
        let cycle = measure(
            "{ viewer { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }",
            serde_json::json!({}),
        )
        .expect_err("cycle");
        assert_eq!(cycle.code, crate::error::code::BAD_USER_INPUT);
        assert!(cycle.message.contains("cycle"), "{}", cycle.message);
    }

    #[test]
    fn introspection_is_flagged_and_exempt_from_depth() {
        let m = measure(
            "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }",
            serde_json::json!({}),
        )
        .expect("measured");
        assert!(m.introspection);
        assert_eq!(m.depth, 1);
    }
}
