//! GitHub's GraphQL API (`POST /graphql`) as the fake forge speaks it, for the part of
//! the schema that holds Discussions: a query is parsed, checked against that schema
//! the way GitHub checks it (unknown fields and arguments, selections on scalars,
//! fragments, variables, `first` between 1 and 100, the 500,000-node limit), and
//! answered from the fake's discussions with cursor pagination, in GitHub's shapes for
//! data and errors; [`cost`] is what it costs of the rate limit, in GitHub's points.

use std::collections::BTreeMap;

use base64::Engine;
use graphql_parser::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection, SelectionSet, Type,
    TypeCondition, Value as GqlValue,
};
use serde_json::{json, Map, Value};

type Gql<'a> = graphql_parser::query::Value<'a, &'a str>;

/// (type, field, what it returns, its arguments; `!` marks a required one). A type
/// named `[T]` is a list of `T`; `…Connection` types page their `nodes`.
const SCHEMA: &[(&str, &str, &str, &[&str])] = &[
    (
        "Query",
        "repository",
        "Repository",
        &["owner!", "name!", "followRenames"],
    ),
    ("Query", "node", "Node", &["id!"]),
    ("Query", "rateLimit", "RateLimit", &["dryRun"]),
    ("Node", "id", "ID", &[]),
    ("Repository", "id", "ID", &[]),
    ("Repository", "nameWithOwner", "String", &[]),
    (
        "Repository",
        "discussions",
        "DiscussionConnection",
        PAGED_DISCUSSIONS,
    ),
    ("Repository", "discussion", "Discussion", &["number!"]),
    ("Discussion", "id", "ID", &[]),
    ("Discussion", "number", "Int", &[]),
    ("Discussion", "title", "String", &[]),
    ("Discussion", "body", "String", &[]),
    ("Discussion", "url", "URI", &[]),
    ("Discussion", "createdAt", "DateTime", &[]),
    ("Discussion", "category", "DiscussionCategory", &[]),
    ("Discussion", "author", "Actor", &[]),
    (
        "Discussion",
        "comments",
        "DiscussionCommentConnection",
        PAGED,
    ),
    ("DiscussionCategory", "id", "ID", &[]),
    ("DiscussionCategory", "name", "String", &[]),
    ("DiscussionComment", "id", "ID", &[]),
    ("DiscussionComment", "databaseId", "Int", &[]),
    ("DiscussionComment", "body", "String", &[]),
    ("DiscussionComment", "url", "URI", &[]),
    ("DiscussionComment", "createdAt", "DateTime", &[]),
    ("DiscussionComment", "deletedAt", "DateTime", &[]),
    ("DiscussionComment", "isMinimized", "Boolean", &[]),
    ("DiscussionComment", "minimizedReason", "String", &[]),
    ("DiscussionComment", "upvoteCount", "Int", &[]),
    ("DiscussionComment", "author", "Actor", &[]),
    ("DiscussionComment", "replyTo", "DiscussionComment", &[]),
    (
        "DiscussionComment",
        "replies",
        "DiscussionCommentConnection",
        PAGED,
    ),
    ("Actor", "login", "String", &[]),
    ("Actor", "url", "URI", &[]),
    ("Actor", "avatarUrl", "URI", &["size"]),
    ("DiscussionConnection", "nodes", "[Discussion]", &[]),
    ("DiscussionConnection", "pageInfo", "PageInfo", &[]),
    ("DiscussionConnection", "totalCount", "Int", &[]),
    (
        "DiscussionCommentConnection",
        "nodes",
        "[DiscussionComment]",
        &[],
    ),
    ("DiscussionCommentConnection", "pageInfo", "PageInfo", &[]),
    ("DiscussionCommentConnection", "totalCount", "Int", &[]),
    ("PageInfo", "hasNextPage", "Boolean", &[]),
    ("PageInfo", "hasPreviousPage", "Boolean", &[]),
    ("PageInfo", "startCursor", "String", &[]),
    ("PageInfo", "endCursor", "String", &[]),
    ("RateLimit", "cost", "Int", &[]),
    ("RateLimit", "limit", "Int", &[]),
    ("RateLimit", "remaining", "Int", &[]),
    ("RateLimit", "resetAt", "DateTime", &[]),
];
const PAGED: &[&str] = &["first", "after", "last", "before"];
const PAGED_DISCUSSIONS: &[&str] = &[
    "first",
    "after",
    "last",
    "before",
    "categoryId",
    "orderBy",
    "answered",
    "states",
];
const SCALARS: &[&str] = &["ID", "String", "Int", "Boolean", "URI", "DateTime"];
/// Interfaces, with the object types that implement them.
const INTERFACES: &[(&str, &[&str])] = &[
    (
        "Node",
        &[
            "Repository",
            "Discussion",
            "DiscussionComment",
            "DiscussionCategory",
        ],
    ),
    ("Actor", &["User"]),
];
/// GitHub's limit on the nodes one query may ask for.
const NODE_LIMIT: u64 = 500_000;

fn field_of(ty: &str, name: &str) -> Option<(&'static str, &'static [&'static str])> {
    let ty = if ty == "User" { "Actor" } else { ty };
    SCHEMA
        .iter()
        .find(|(t, f, _, _)| *t == ty && *f == name)
        .map(|(_, _, returns, args)| (*returns, *args))
}

fn is_type(name: &str) -> bool {
    SCHEMA.iter().any(|(t, ..)| *t == name) || INTERFACES.iter().any(|(_, is)| is.contains(&name))
}

/// Whether an object of type `concrete` is a `condition`.
fn fits(concrete: &str, condition: &str) -> bool {
    concrete == condition
        || INTERFACES
            .iter()
            .any(|(i, is)| *i == condition && is.contains(&concrete))
}

/// One GraphQL error as GitHub words it.
fn error(message: String, kind: Option<&str>, path: &[String]) -> Value {
    let mut e = json!({"message": message, "locations": []});
    if let Some(kind) = kind {
        e["type"] = json!(kind);
    }
    if !path.is_empty() {
        e["path"] = json!(path);
    }
    e
}

fn cursor(index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:v2:{index}"))
}

fn uncursor(text: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("cursor:v2:")?
        .parse()
        .ok()
}

/// What a query costs of the rate limit, in GitHub's points: the requests its
/// connections need (one per parent asked for), a hundredth of them, at least one.
/// An unreadable query costs one.
pub fn cost(request: &Value) -> u32 {
    let Some(document) = request["query"]
        .as_str()
        .and_then(|q| graphql_parser::parse_query::<&str>(q).ok())
    else {
        return 1;
    };
    let fragments = fragments_of(&document);
    let variables = request["variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut check = Check::new(&fragments, &variables);
    for definition in &document.definitions {
        if let Definition::Operation(OperationDefinition::Query(q)) = definition {
            for v in &q.variable_definitions {
                check.declared.insert(v.name, ());
            }
            check.selections("Query", &q.selection_set, 1, &[]);
        }
    }
    ((check.requests as f64 / 100.0).round() as u32).max(1)
}

fn fragments_of<'q, 'a>(
    document: &'q Document<'a, &'a str>,
) -> BTreeMap<&'a str, &'q FragmentDefinition<'a, &'a str>> {
    document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name, f)),
            Definition::Operation(_) => None,
        })
        .collect()
}

/// Answers one `POST /graphql` request body: `{"data": …}`, `{"errors": […]}` or both.
pub fn answer(repository: &Value, owner: &str, name: &str, request: &Value) -> Value {
    let Some(text) = request["query"].as_str() else {
        return json!({"errors": [error("A query attribute must be specified and must be a string.".into(), None, &[])]});
    };
    let document: Document<&str> = match graphql_parser::parse_query(text) {
        Ok(d) => d,
        Err(e) => {
            return json!({"errors": [error(format!("Parse error: {e}"), None, &[])]});
        }
    };
    let fragments = fragments_of(&document);
    let mut operations = Vec::new();
    for definition in &document.definitions {
        match definition {
            Definition::Fragment(_) => {}
            Definition::Operation(OperationDefinition::Query(q)) => operations.push(q),
            Definition::Operation(_) => {
                return json!({"errors": [error("The fake serves queries only".into(), None, &[])]});
            }
        }
    }
    let [query] = operations[..] else {
        return json!({"errors": [error("An operation name is required".into(), None, &[])]});
    };
    let variables = request["variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut check = Check::new(&fragments, &variables);
    for v in &query.variable_definitions {
        let required = matches!(v.var_type, Type::NonNullType(_));
        if required && variables.get(v.name).is_none_or(Value::is_null) {
            check.errors.push(error(
                format!(
                    "Variable ${} of type {} was provided invalid value",
                    v.name, v.var_type
                ),
                None,
                &[],
            ));
        }
        check.declared.insert(v.name, ());
    }
    let nodes = check.selections("Query", &query.selection_set, 1, &[]);
    for name in fragments.keys() {
        if !check.used_fragments.contains(name) {
            check.errors.push(error(
                format!("Fragment {name} was defined, but not used"),
                None,
                &[],
            ));
        }
    }
    if nodes > NODE_LIMIT {
        check.errors.push(error(
            format!("This query requests up to {nodes} possible nodes which exceeds the maximum limit of 500,000."),
            Some("MAX_NODE_LIMIT_EXCEEDED"),
            &[],
        ));
    }
    if !check.errors.is_empty() {
        return json!({"errors": check.errors});
    }
    let mut run = Run {
        fragments: &fragments,
        variables: &variables,
        errors: Vec::new(),
    };
    let root = json!({"__typename": "Query", "owner": owner, "name": name, "repo": repository});
    let data = run.object(&root, &query.selection_set, &[]);
    if run.errors.is_empty() {
        json!({"data": data})
    } else {
        json!({"data": data, "errors": run.errors})
    }
}

/// Checks a query against the schema before it runs, as GitHub does.
struct Check<'q, 'a> {
    fragments: &'q BTreeMap<&'a str, &'q FragmentDefinition<'a, &'a str>>,
    variables: &'q Map<String, Value>,
    declared: BTreeMap<&'a str, ()>,
    used_fragments: Vec<&'a str>,
    errors: Vec<Value>,
    /// Requests the connections asked for need: one per parent.
    requests: u64,
}

impl<'q, 'a> Check<'q, 'a> {
    fn new(
        fragments: &'q BTreeMap<&'a str, &'q FragmentDefinition<'a, &'a str>>,
        variables: &'q Map<String, Value>,
    ) -> Check<'q, 'a> {
        Check {
            fragments,
            variables,
            declared: BTreeMap::new(),
            used_fragments: Vec::new(),
            errors: Vec::new(),
            requests: 0,
        }
    }

    /// Checks the selections on a `ty`, of which up to `many` are asked for; gives the
    /// nodes they ask for.
    fn selections(
        &mut self,
        ty: &str,
        set: &'q SelectionSet<'a, &'a str>,
        many: u64,
        path: &[String],
    ) -> u64 {
        let mut nodes = 0;
        for selection in &set.items {
            match selection {
                Selection::Field(f) => nodes += self.field(ty, f, many, path),
                Selection::InlineFragment(i) => {
                    let condition = match &i.type_condition {
                        Some(TypeCondition::On(c)) => *c,
                        None => ty,
                    };
                    nodes += self.fragment(ty, condition, &i.selection_set, many, path);
                }
                Selection::FragmentSpread(s) => {
                    let Some(f) = self.fragments.get(s.fragment_name) else {
                        self.errors.push(error(
                            format!("Fragment {} was used, but not defined", s.fragment_name),
                            None,
                            path,
                        ));
                        continue;
                    };
                    self.used_fragments.push(s.fragment_name);
                    let TypeCondition::On(condition) = f.type_condition;
                    nodes += self.fragment(ty, condition, &f.selection_set, many, path);
                }
            }
        }
        nodes
    }

    fn fragment(
        &mut self,
        ty: &str,
        condition: &str,
        set: &'q SelectionSet<'a, &'a str>,
        many: u64,
        path: &[String],
    ) -> u64 {
        if !is_type(condition) {
            self.errors.push(error(
                format!("No such type {condition}, so it can't be a fragment condition"),
                None,
                path,
            ));
            return 0;
        }
        if !(fits(condition, ty) || fits(ty, condition)) {
            self.errors.push(error(
                format!("Fragment on {condition} can't be spread inside {ty}"),
                None,
                path,
            ));
            return 0;
        }
        self.selections(condition, set, many, path)
    }

    fn field(
        &mut self,
        ty: &str,
        f: &'q graphql_parser::query::Field<'a, &'a str>,
        many: u64,
        path: &[String],
    ) -> u64 {
        let mut path = path.to_vec();
        path.push(f.name.to_string());
        if f.name == "__typename" {
            return 0;
        }
        let Some((returns, accepted)) = field_of(ty, f.name) else {
            self.errors.push(error(
                format!("Field '{}' doesn't exist on type '{ty}'", f.name),
                None,
                &path,
            ));
            return 0;
        };
        for (arg, value) in &f.arguments {
            if !accepted.iter().any(|a| a.trim_end_matches('!') == *arg) {
                self.errors.push(error(
                    format!("Field '{}' doesn't accept argument '{arg}'", f.name),
                    None,
                    &path,
                ));
            }
            if let GqlValue::Variable(v) = value {
                if !self.declared.contains_key(v) {
                    self.errors.push(error(
                        format!("Variable ${v} is used by anonymous query but not declared"),
                        None,
                        &path,
                    ));
                }
            }
        }
        for required in accepted.iter().filter_map(|a| a.strip_suffix('!')) {
            if !f.arguments.iter().any(|(a, _)| *a == required) {
                self.errors.push(error(
                    format!(
                        "Field '{}' is missing required arguments: {required}",
                        f.name
                    ),
                    None,
                    &path,
                ));
            }
        }
        let inner = returns.trim_start_matches('[').trim_end_matches(']');
        if SCALARS.contains(&inner) {
            if !f.selection_set.items.is_empty() {
                self.errors.push(error(
                    format!("Selections can't be made on scalars (field '{}' returns {returns} but has selections)", f.name),
                    None,
                    &path,
                ));
            }
            return 0;
        }
        if f.selection_set.items.is_empty() {
            self.errors.push(error(
                format!("Field must have selections (field '{}' returns {returns} but has no selections. Did you mean '{} {{ ... }}'?)", f.name, f.name),
                None,
                &path,
            ));
            return 0;
        }
        if !returns.ends_with("Connection") {
            return self.selections(inner, &f.selection_set, many, &path);
        }
        let first = f
            .arguments
            .iter()
            .find(|(a, _)| *a == "first")
            .and_then(|(_, v)| value(v, self.variables).as_i64());
        let Some(first) = first else {
            self.errors.push(error(
                format!("You must provide a `first` or `last` value to properly paginate the `{}` connection.", f.name),
                Some("MISSING_PAGINATION_BOUNDARIES"),
                &path,
            ));
            return 0;
        };
        if !(1..=100).contains(&first) {
            self.errors.push(error(
                format!("Requesting {first} records on the `{}` connection exceeds the `first` limit of 100 records.", f.name),
                Some("EXCESSIVE_PAGINATION"),
                &path,
            ));
            return 0;
        }
        self.requests += many;
        let here = many * first as u64;
        here + self.selections(returns, &f.selection_set, here, &path)
    }
}

/// A literal or variable argument, as JSON.
fn value(v: &Gql<'_>, variables: &Map<String, Value>) -> Value {
    match v {
        GqlValue::Variable(name) => variables.get(*name).cloned().unwrap_or(Value::Null),
        GqlValue::Int(n) => json!(n.as_i64()),
        GqlValue::Float(f) => json!(f),
        GqlValue::String(s) => json!(s),
        GqlValue::Boolean(b) => json!(b),
        GqlValue::Null => Value::Null,
        GqlValue::Enum(e) => json!(e),
        GqlValue::List(l) => Value::Array(l.iter().map(|v| value(v, variables)).collect()),
        GqlValue::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.to_string(), value(v, variables)))
                .collect(),
        ),
    }
}

/// Runs a checked query over the data.
struct Run<'q, 'a> {
    fragments: &'q BTreeMap<&'a str, &'q FragmentDefinition<'a, &'a str>>,
    variables: &'q Map<String, Value>,
    errors: Vec<Value>,
}

impl<'q, 'a> Run<'q, 'a> {
    fn object(
        &mut self,
        obj: &Value,
        set: &'q SelectionSet<'a, &'a str>,
        path: &[String],
    ) -> Value {
        let mut out = Map::new();
        self.fill(&mut out, obj, set, path);
        Value::Object(out)
    }

    fn fill(
        &mut self,
        out: &mut Map<String, Value>,
        obj: &Value,
        set: &'q SelectionSet<'a, &'a str>,
        path: &[String],
    ) {
        let ty = obj["__typename"].as_str().unwrap_or_default();
        for selection in &set.items {
            match selection {
                Selection::Field(f) => {
                    let key = f.alias.unwrap_or(f.name).to_string();
                    let mut here = path.to_vec();
                    here.push(key.clone());
                    let got = self.field(obj, f, &here);
                    out.insert(key, got);
                }
                Selection::InlineFragment(i) => {
                    let fitting = match &i.type_condition {
                        Some(TypeCondition::On(c)) => fits(ty, c),
                        None => true,
                    };
                    if fitting {
                        self.fill(out, obj, &i.selection_set, path);
                    }
                }
                Selection::FragmentSpread(s) => {
                    let f = self.fragments[s.fragment_name];
                    let TypeCondition::On(c) = f.type_condition;
                    if fits(ty, c) {
                        self.fill(out, obj, &f.selection_set, path);
                    }
                }
            }
        }
    }

    fn arg(&self, f: &graphql_parser::query::Field<'a, &'a str>, name: &str) -> Value {
        f.arguments
            .iter()
            .find(|(a, _)| *a == name)
            .map_or(Value::Null, |(_, v)| value(v, self.variables))
    }

    fn field(
        &mut self,
        obj: &Value,
        f: &'q graphql_parser::query::Field<'a, &'a str>,
        path: &[String],
    ) -> Value {
        let ty = obj["__typename"].as_str().unwrap_or_default();
        if f.name == "__typename" {
            return json!(ty);
        }
        let (returns, _) = field_of(ty, f.name).expect("checked");
        let found = match (ty, f.name) {
            ("Query", "repository") => {
                let (owner, name) = (self.arg(f, "owner"), self.arg(f, "name"));
                if owner == obj["owner"] && name == obj["name"] {
                    obj["repo"].clone()
                } else {
                    self.errors.push(error(
                        format!(
                            "Could not resolve to a Repository with the name '{}/{}'.",
                            owner.as_str().unwrap_or_default(),
                            name.as_str().unwrap_or_default()
                        ),
                        Some("NOT_FOUND"),
                        path,
                    ));
                    Value::Null
                }
            }
            ("Query", "node") => find(&obj["repo"], &self.arg(f, "id")).unwrap_or(Value::Null),
            ("Query", "rateLimit") => {
                json!({"__typename": "RateLimit", "cost": 1, "limit": 5000, "remaining": 4999,
                       "resetAt": "2030-01-01T00:00:00Z"})
            }
            ("Repository", "discussion") => {
                let number = self.arg(f, "number");
                let found = obj["discussions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|d| d["number"] == number)
                    .cloned();
                found.unwrap_or_else(|| {
                    self.errors.push(error(
                        format!("Could not resolve to a Discussion with the number of {number}."),
                        Some("NOT_FOUND"),
                        path,
                    ));
                    Value::Null
                })
            }
            _ if returns.ends_with("Connection") => self.page(obj, f, returns, path),
            _ => obj.get(f.name).cloned().unwrap_or(Value::Null),
        };
        let inner = returns.trim_start_matches('[').trim_end_matches(']');
        match found {
            Value::Null => Value::Null,
            _ if SCALARS.contains(&inner) => found,
            Value::Array(list) => Value::Array(
                list.iter()
                    .map(|o| self.object(o, &f.selection_set, path))
                    .collect(),
            ),
            o => self.object(&o, &f.selection_set, path),
        }
    }

    /// One page of a connection: the list under the field's name, from `after`,
    /// `first` of them.
    fn page(
        &mut self,
        obj: &Value,
        f: &graphql_parser::query::Field<'a, &'a str>,
        returns: &str,
        path: &[String],
    ) -> Value {
        let all = obj[f.name].as_array().cloned().unwrap_or_default();
        let first = self.arg(f, "first").as_u64().unwrap_or(0) as usize;
        let start = match self.arg(f, "after") {
            Value::Null => 0,
            Value::String(c) => match uncursor(&c) {
                Some(i) => i + 1,
                None => {
                    self.errors.push(error(
                        format!("`{c}` does not appear to be a valid cursor."),
                        None,
                        path,
                    ));
                    return Value::Null;
                }
            },
            other => {
                self.errors
                    .push(error(format!("after: {other} is not a String"), None, path));
                return Value::Null;
            }
        };
        let end = (start + first).min(all.len());
        let nodes = all.get(start..end).unwrap_or_default().to_vec();
        json!({
            "__typename": returns,
            "nodes": nodes,
            "totalCount": all.len(),
            "pageInfo": {
                "__typename": "PageInfo",
                "hasNextPage": end < all.len(),
                "hasPreviousPage": start > 0,
                "startCursor": (start < end).then(|| cursor(start)),
                "endCursor": (start < end).then(|| cursor(end - 1)),
            },
        })
    }
}

/// The object with this node id anywhere in `tree`.
fn find(tree: &Value, id: &Value) -> Option<Value> {
    match tree {
        Value::Object(o) if o.get("id") == Some(id) && o.contains_key("__typename") => {
            Some(tree.clone())
        }
        Value::Object(o) => o.values().find_map(|v| find(v, id)),
        Value::Array(a) => a.iter().find_map(|v| find(v, id)),
        _ => None,
    }
}
