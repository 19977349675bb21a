//! The OpenAPI 3.0 structure check: does a document deserialise into the typed `openapiv3`
//! model, and if not, where and why.
//!
//! Deserialising a whole large description into `openapiv3` costs tens of milliseconds, most
//! of it in Schema Objects (each nesting level of its untagged enums buffers its subtree) and in
//! copying example values. So the typed model is given a *skeleton* of the document: every
//! Schema Object replaced by `{}`, example values, `x-` extensions and `description`/`summary`
//! texts by placeholders of a type the model accepts in that place. The Schema Objects
//! themselves are checked here, keyword by keyword, exactly as `openapiv3` reads them (its
//! `SchemaData` and `RawAnySchema`: which keywords must be booleans, strings, numbers,
//! non-negative integers, lists or schemas). Together the two give the same verdict as
//! deserialising the whole document (`tests::corpus_verdicts_match_openapiv3` compares them on
//! every OpenAPI 3.0 document of the shared corpus), at a fraction of the cost, and every
//! problem comes with the JSON pointer of the offending value.

use serde_json::{Map, Value};

use super::document::{escape_pointer_segment, unescape_pointer_segment};

/// The types of OpenAPI 3.0 (the official 3.0 schema's `type` enum; `openapiv3` takes any string).
const TYPE_NAMES: [&str; 6] = ["string", "number", "integer", "boolean", "array", "object"];

/// Most Schema Object problems reported per document.
const MAX_SCHEMA_PROBLEMS: usize = 20;

/// A place where the document does not match the OpenAPI 3.0 model.
#[derive(Debug, Clone, PartialEq)]
pub struct StructureProblem {
    /// JSON pointer of the offending value.
    pub pointer: String,
    pub message: String,
}

/// Checks `doc` (an OpenAPI 3.0 document) against the `openapiv3` model: the Schema Object
/// problems (at most [`MAX_SCHEMA_PROBLEMS`], then one that counts the rest), then the
/// problems of the rest of the document (each failing path item, operation, parameter,
/// response or component entry, and the top level), in OpenAPI's words.
pub fn check(doc: &Value) -> Vec<StructureProblem> {
    let mut s = Skeleton::default();
    let mut skeleton = s.value(doc, Kind::Root);
    let mut out = s.problems;
    if s.more > 0 {
        out.push(StructureProblem {
            pointer: String::new(),
            message: format!("and {} more Schema Object problems like these", s.more),
        });
    }
    if !deserializes(&mut skeleton) {
        // Only on this rare path: find the innermost part that fails, to say where.
        out.extend(narrow(&skeleton).into_iter().map(|p| in_openapi_words(p, doc)));
    }
    out
}

/// Whether the skeleton deserialises into `openapiv3::OpenAPI`. The same verdict as
/// deserialising it whole, by parts: the document with an empty `paths`, then each path item
/// on its own (`Paths` reads the members whose names start with `/` as `$ref`-or-Path-Item and
/// ignores the others but `x-` extensions, which take any value). Each flattened level (the
/// document, `paths`) copies all it holds before reading it, so the parts cost less.
fn deserializes(skeleton: &mut Value) -> bool {
    use openapiv3::OpenAPI;
    use serde::Deserialize;
    let mut paths = match skeleton.as_object_mut().and_then(|m| m.get_mut("paths")) {
        Some(slot @ Value::Object(_)) => std::mem::replace(slot, Value::Object(Map::new())),
        _ => return OpenAPI::deserialize(&*skeleton).is_ok(),
    };
    let ok = OpenAPI::deserialize(&*skeleton).is_ok()
        && paths.as_object_mut().is_some_and(|items| {
            items
                .iter_mut()
                .filter(|(k, _)| k.starts_with('/'))
                .all(|(_, item)| path_item_deserializes(item))
        });
    if let Some(slot) = skeleton.as_object_mut().and_then(|m| m.get_mut("paths")) {
        *slot = paths;
    }
    ok
}

/// Whether a path item of the skeleton deserialises as `ReferenceOr<PathItem>`, by parts: a
/// Reference Object (a string `$ref`: its other members are ignored) or anything that is not
/// an object whole; else the path item with its operations replaced by the smallest valid one,
/// then each operation on its own. Leaves `item` as it was.
fn path_item_deserializes(item: &mut Value) -> bool {
    use openapiv3::{Operation, PathItem, ReferenceOr};
    use serde::Deserialize;
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let Some(members) = item
        .as_object_mut()
        .filter(|m| !m.get("$ref").is_some_and(Value::is_string))
    else {
        return ReferenceOr::<PathItem>::deserialize(&*item).is_ok();
    };
    let mut operations = Vec::new();
    for method in METHODS {
        if let Some(slot @ Value::Object(_)) = members.get_mut(method) {
            let stub = Value::Object(Map::from_iter([("responses".to_string(), Value::Object(Map::new()))]));
            operations.push((method, std::mem::replace(slot, stub)));
        }
    }
    let ok =
        PathItem::deserialize(&*item).is_ok() && operations.iter().all(|(_, op)| Operation::deserialize(op).is_ok());
    if let Some(members) = item.as_object_mut() {
        for (method, op) in operations {
            if let Some(slot) = members.get_mut(method) {
                *slot = op;
            }
        }
    }
    ok
}

/// The problem of deserialising `v` (at `pointer`) into `T`, if any, located as deep as
/// `serde_path_to_error` follows (it stops at flattened and untagged parts).
fn typed<T: serde::de::DeserializeOwned>(v: &Value, pointer: &str) -> Option<StructureProblem> {
    let e = serde_path_to_error::deserialize::<_, T>(v).err()?;
    Some(StructureProblem {
        pointer: format!("{pointer}{}", pointer_of(e.path())),
        message: e.into_inner().to_string(),
    })
}

/// Like [`typed`] for a `$ref`-or-`T` place: an object that is not a reference is read as a
/// `T` directly, so that the error path goes on inside it.
fn item<T: serde::de::DeserializeOwned>(v: &Value, pointer: &str) -> Option<StructureProblem> {
    if v.get("$ref").is_some_and(Value::is_string) {
        typed::<openapiv3::ReferenceOr<T>>(v, pointer)
    } else {
        typed::<T>(v, pointer)
    }
}

/// Every failing part of a skeleton that does not deserialise, looked for where the typed
/// model's own error path stops (flattened maps, untagged `$ref`-or-object enums): path items,
/// their operations, parameters, request bodies and responses, and component entries; then
/// the rest of the document (with those parts emptied), so that one run reports them all.
fn narrow(skeleton: &Value) -> Vec<StructureProblem> {
    use openapiv3::{Callback, Example, Header, Link, Operation, Parameter, PathItem};
    use openapiv3::{RequestBody, Response, SecurityScheme};
    let key = |base: &str, k: &str| format!("{base}/{}", escape_pointer_segment(k));
    let entries = |v: Option<&Value>| -> Vec<(String, Value)> {
        v.and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, x)| (k.clone(), x.clone())).collect())
            .unwrap_or_default()
    };
    let params = |list: Option<&Value>, base: &str| -> Vec<StructureProblem> {
        let Some(items) = list.and_then(Value::as_array) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, p)| item::<Parameter>(p, &format!("{base}/parameters/{i}")))
            .collect()
    };
    let operation = |op: &Value, at: &str| -> Vec<StructureProblem> {
        let Some(whole) = typed::<Operation>(op, at) else {
            return Vec::new();
        };
        let mut inner = params(op.get("parameters"), at);
        if let Some(rb) = op.get("requestBody") {
            inner.extend(item::<RequestBody>(rb, &format!("{at}/requestBody")));
        }
        let base = format!("{at}/responses");
        inner.extend(
            entries(op.get("responses"))
                .into_iter()
                .filter(|(k, _)| !k.starts_with("x-"))
                .filter_map(|(k, r)| item::<Response>(&r, &key(&base, &k))),
        );
        if inner.is_empty() {
            inner.push(whole);
        }
        inner
    };
    let mut found = Vec::new();
    for (path, pi) in entries(skeleton.get("paths")) {
        if path.starts_with("x-") {
            continue;
        }
        let at = key("/paths", &path);
        let Some(whole) = item::<PathItem>(&pi, &at) else {
            continue;
        };
        let mut inner: Vec<StructureProblem> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
            .iter()
            .filter_map(|m| Some((*m, pi.get(*m)?)))
            .flat_map(|(m, op)| operation(op, &key(&at, m)))
            .collect();
        inner.extend(params(pi.get("parameters"), &at));
        if inner.is_empty() {
            inner.push(whole);
        }
        found.extend(inner);
    }
    let components = skeleton.get("components");
    let section = |name: &str| entries(components.and_then(|c| c.get(name)));
    const SECTIONS: [&str; 8] = [
        "parameters",
        "requestBodies",
        "responses",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
        "examples",
    ];
    for name in SECTIONS {
        let base = format!("/components/{name}");
        for (k, v) in section(name) {
            let at = key(&base, &k);
            found.extend(match name {
                "parameters" => item::<Parameter>(&v, &at),
                "requestBodies" => item::<RequestBody>(&v, &at),
                "responses" => item::<Response>(&v, &at),
                "headers" => item::<Header>(&v, &at),
                "securitySchemes" => item::<SecurityScheme>(&v, &at),
                "links" => item::<Link>(&v, &at),
                "callbacks" => item::<Callback>(&v, &at),
                _ => item::<Example>(&v, &at),
            });
        }
    }
    // The rest of the document, with the parts judged above emptied when they are mappings.
    let mut rest = skeleton.clone();
    if let Some(root) = rest.as_object_mut() {
        if let Some(slot @ Value::Object(_)) = root.get_mut("paths") {
            *slot = Value::Object(Map::new());
        }
        if let Some(Value::Object(c)) = root.get_mut("components") {
            for name in SECTIONS {
                if let Some(slot @ Value::Object(_)) = c.get_mut(name) {
                    *slot = Value::Object(Map::new());
                }
            }
        }
    }
    found.extend(typed::<openapiv3::OpenAPI>(&rest, ""));
    if found.is_empty() {
        found.extend(typed::<openapiv3::OpenAPI>(skeleton, ""));
    }
    found
}

/// The JSON pointer of a `serde_path_to_error` path, up to its first segment that is not a
/// key or an index (inside an untagged enum the path ends there).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut p = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Map { key } => {
                p.push('/');
                p.push_str(&escape_pointer_segment(key));
            }
            Segment::Seq { index } => {
                p.push('/');
                p.push_str(&index.to_string());
            }
            Segment::Enum { .. } => {}
            Segment::Unknown => break,
        }
    }
    p
}

/// The name of the value at `pointer` in a message: `` `responses` ``, `` `parameters` entry 0 ``.
pub(crate) fn name_at(pointer: &str) -> String {
    let segs: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| unescape_pointer_segment(s).into_owned())
        .collect();
    match segs.as_slice() {
        [] => "the document".to_string(),
        [.., parent, last] if last.parse::<usize>().is_ok() => format!("`{parent}` entry {last}"),
        [.., last] => format!("`{last}`"),
    }
}

/// A serde/`openapiv3` expectation (`a sequence`, `struct Parameter`, `usize`) in YAML's and
/// OpenAPI's words.
fn expected_words(e: &str) -> String {
    let e = e.trim();
    match e {
        "a sequence" => "a list".into(),
        "a map" => "a mapping".into(),
        "a boolean" => "true or false".into(),
        "a string" | "a borrowed string" | "a character" => "a string".into(),
        "usize" | "u64" | "u32" | "u16" | "u8" => "a non-negative integer".into(),
        "i64" | "i32" => "an integer".into(),
        "f64" | "f32" => "a number".into(),
        _ if e.starts_with("struct ") || e.starts_with("a map") => "a mapping".into(),
        _ if e.starts_with("enum ") || e.starts_with("variant identifier") => {
            "one of the values OpenAPI allows here".into()
        }
        _ if e.starts_with("a sequence") => "a list".into(),
        other => other.replace('`', ""),
    }
}

/// What serde calls a value (`integer `5``, `map`, `sequence`) in YAML's words.
fn found_words(f: &str) -> String {
    let f = f.trim();
    for (serde, ours) in [
        ("map", "a mapping"),
        ("sequence", "a list"),
        ("null", "null"),
        ("unit value", "null"),
        ("unit", "null"),
    ] {
        if f == serde {
            return ours.into();
        }
    }
    if let Some(rest) = f.strip_prefix("integer ").or_else(|| f.strip_prefix("floating point ")) {
        return format!("the number {}", rest.trim_matches('`'));
    }
    if let Some(rest) = f.strip_prefix("boolean ") {
        return rest.to_string();
    }
    if let Some(rest) = f.strip_prefix("string ") {
        return format!("the string {}", rest.replace('`', "\""));
    }
    f.to_string()
}

/// Rewrites a problem of the typed model (a serde message naming Rust types: "no variant of
/// enum ParameterSchemaOrContent found in flattened data", "data did not match any variant of
/// untagged enum ReferenceOr", "invalid type: integer `5`, expected struct Info") in
/// OpenAPI's words.
fn in_openapi_words(p: StructureProblem, doc: &Value) -> StructureProblem {
    let StructureProblem { pointer, message } = p;
    let here = doc.pointer(&pointer);
    let name = name_at(&pointer);
    let text = message.split(" at line ").next().unwrap_or(&message).to_string();
    let message = if text.contains("ParameterSchemaOrContent") {
        let under_headers = pointer.split('/').rev().nth(1) == Some("headers");
        match (under_headers, here.and_then(|v| v.get("name")).and_then(Value::as_str)) {
            (true, _) => format!("header {name} needs `schema` or `content`"),
            (false, Some(n)) => format!("parameter `{n}` needs `schema` or `content`"),
            (false, None) => "a parameter needs `schema` or `content`".to_string(),
        }
    } else if let Some(field) = text.strip_prefix("missing field ") {
        format!("{name} needs {field}")
    } else if let Some(field) = text.strip_prefix("unknown field ") {
        let field = field.split(',').next().unwrap_or(field);
        format!("{field} is not a field of {name} (extensions start with `x-`)")
    } else if let Some(rest) = text.strip_prefix("invalid type: ") {
        match rest.split_once(", expected ") {
            Some((f, e)) => format!("{name} must be {}, found {}", expected_words(e), found_words(f)),
            None => format!("{name} has the wrong type"),
        }
    } else if let Some(rest) = text.strip_prefix("unknown variant ") {
        match rest.split_once(", expected ") {
            Some((v, e)) => format!("{name} must be {}, found {v}", e.trim_start_matches("one of ")),
            None => format!("{name} has a value OpenAPI does not allow here: {rest}"),
        }
    } else if let Some(rest) = text.strip_prefix("invalid value: ") {
        match rest.split_once(", expected ") {
            Some((f, e)) => format!("{name} must be {}, found {}", expected_words(e), found_words(f)),
            None => format!("{name} has a value OpenAPI does not allow here"),
        }
    } else if text.contains("untagged enum ReferenceOr") {
        let is_ref = here.and_then(|v| v.get("$ref")).is_some();
        if is_ref {
            format!("{name} has a `$ref` that is not a string")
        } else {
            format!("{name} is neither a valid OpenAPI object for this place nor a `$ref`")
        }
    } else if text.contains("variant") || text.contains("enum ") || text.contains("struct ") {
        format!("{name} does not have any of the forms OpenAPI allows here")
    } else {
        text
    };
    StructureProblem { pointer, message }
}

/// What an object of the document is, for building its skeleton.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    /// An object of OpenAPI keywords (Operation, Parameter, Response, ...).
    Keywords,
    /// `components`.
    Components,
    /// A map from names to objects of the given kind (`paths`, `responses`, `content`, ...).
    Names(Entry),
    /// A Link Object: its `parameters` and `requestBody` are data.
    Link,
    /// An Example Object: its `value` is data.
    Example,
    /// A Security Requirement: scheme names to lists of scopes.
    Requirement,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Keywords,
    /// Keyword objects, next to `x-` extensions (in `paths` and `responses`).
    KeywordsOrExtensions,
    Link,
    Example,
    /// A Callback: expressions to Path Items.
    Callback,
}

/// Keys of keyword objects whose object values map names to keyword objects.
const NAME_MAPS: &[&str] = &[
    "parameters",
    "requestBodies",
    "headers",
    "securitySchemes",
    "content",
    "encoding",
    "variables",
];

#[derive(Default)]
struct Skeleton {
    pointer: String,
    problems: Vec<StructureProblem>,
    more: usize,
}

impl Skeleton {
    fn value(&mut self, v: &Value, kind: Kind) -> Value {
        match v {
            Value::Object(m) => Value::Object(self.object(m, kind)),
            Value::Array(items) => {
                let element = if kind == Kind::Requirement {
                    Kind::Requirement
                } else {
                    Kind::Keywords
                };
                let at = self.pointer.len();
                let out = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        self.pointer.push('/');
                        self.pointer.push_str(&i.to_string());
                        let y = self.value(x, element);
                        self.pointer.truncate(at);
                        y
                    })
                    .collect();
                Value::Array(out)
            }
            other => other.clone(),
        }
    }

    fn object(&mut self, m: &Map<String, Value>, kind: Kind) -> Map<String, Value> {
        let mut out = Map::with_capacity(m.len());
        let at = self.pointer.len();
        for (k, c) in m {
            self.pointer.push('/');
            self.pointer.push_str(&escape_pointer_segment(k));
            let v = match kind {
                Kind::Names(Entry::KeywordsOrExtensions) if k.starts_with("x-") => c.clone(),
                Kind::Names(entry) => {
                    let kind = match entry {
                        Entry::Keywords | Entry::KeywordsOrExtensions => Kind::Keywords,
                        Entry::Link => Kind::Link,
                        Entry::Example => Kind::Example,
                        Entry::Callback => Kind::Names(Entry::Keywords),
                    };
                    self.value(c, kind)
                }
                Kind::Requirement => c.clone(),
                _ => self.member(kind, k, c),
            };
            self.pointer.truncate(at);
            out.insert(k.clone(), v);
        }
        out
    }

    /// The skeleton of the member `k: c` of a keyword object of kind `kind`.
    fn member(&mut self, kind: Kind, k: &str, c: &Value) -> Value {
        if k.starts_with("x-") {
            return Value::Null;
        }
        match (k, c) {
            ("description" | "summary", Value::String(_)) => Value::String(String::new()),
            ("example", _) => Value::Null,
            ("value", _) if kind == Kind::Example => Value::Null,
            ("parameters" | "requestBody", _) if kind == Kind::Link => c.clone(),
            // A Schema Object is checked here and replaced; anything else in its place is left
            // for the model to judge (`null` is allowed in some places and not in others).
            ("schema", Value::Object(_)) => {
                check_schema(c, &self.pointer, &mut self.problems, &mut self.more);
                Value::Object(Map::new())
            }
            ("schemas", Value::Object(schemas)) if kind == Kind::Components => {
                let at = self.pointer.len();
                let mut out = Map::with_capacity(schemas.len());
                for (name, s) in schemas {
                    if !s.is_object() {
                        out.insert(name.clone(), s.clone());
                        continue;
                    }
                    self.pointer.push('/');
                    self.pointer.push_str(&escape_pointer_segment(name));
                    check_schema(s, &self.pointer, &mut self.problems, &mut self.more);
                    self.pointer.truncate(at);
                    out.insert(name.clone(), Value::Object(Map::new()));
                }
                Value::Object(out)
            }
            ("components", Value::Object(_)) if kind == Kind::Root => self.value(c, Kind::Components),
            ("security", Value::Array(_)) => self.value(c, Kind::Requirement),
            ("examples", Value::Object(_)) => self.value(c, Kind::Names(Entry::Example)),
            ("links", Value::Object(_)) => self.value(c, Kind::Names(Entry::Link)),
            ("callbacks", Value::Object(_)) => self.value(c, Kind::Names(Entry::Callback)),
            ("paths" | "responses", Value::Object(_)) => self.value(c, Kind::Names(Entry::KeywordsOrExtensions)),
            (_, Value::Object(_)) if NAME_MAPS.contains(&k) => self.value(c, Kind::Names(Entry::Keywords)),
            _ => self.value(c, Kind::Keywords),
        }
    }
}

/// What a keyword of a Schema Object must hold, as `openapiv3` reads it.
#[derive(Clone, Copy)]
enum Expect {
    /// `bool` (a missing keyword is false; `null` is refused).
    Bool,
    OptBool,
    OptString,
    OptNumber,
    /// `Option<usize>`.
    OptCount,
    /// `Option<Vec<String>>`.
    OptStrings,
    /// `Option<Vec<Value>>`.
    OptList,
    OptSchema,
    /// A map of names to schemas (`properties`).
    OptSchemaMap,
    /// A list of schemas (`allOf`, ...).
    OptSchemaList,
    /// `true`, `false` or a schema.
    OptBoolOrSchema,
    OptExternalDocs,
    OptDiscriminator,
}

fn expect(keyword: &str) -> Option<Expect> {
    use Expect::*;
    Some(match keyword {
        "nullable" | "readOnly" | "writeOnly" | "deprecated" => Bool,
        "uniqueItems" | "exclusiveMinimum" | "exclusiveMaximum" => OptBool,
        "title" | "description" | "pattern" | "format" | "type" => OptString,
        "multipleOf" | "minimum" | "maximum" => OptNumber,
        "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties" | "maxProperties" => OptCount,
        "required" => OptStrings,
        "enum" => OptList,
        "items" | "not" => OptSchema,
        "properties" => OptSchemaMap,
        "allOf" | "oneOf" | "anyOf" => OptSchemaList,
        "additionalProperties" => OptBoolOrSchema,
        "externalDocs" => OptExternalDocs,
        "discriminator" => OptDiscriminator,
        _ => return None,
    })
}

/// [`super::value_kind`], telling integers from other numbers (for counts and limits).
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Number(n) if n.is_u64() || n.is_i64() => "an integer",
        other => super::value_kind(other),
    }
}

/// Checks the Schema Object `v` at `pointer` and every subschema written inside it (not the
/// targets of its `$ref`s: they are checked where they are written).
fn check_schema(v: &Value, pointer: &str, problems: &mut Vec<StructureProblem>, more: &mut usize) {
    let mut report = |pointer: String, message: String| {
        if problems.len() < MAX_SCHEMA_PROBLEMS {
            problems.push(StructureProblem { pointer, message });
        } else {
            *more += 1;
        }
    };
    // Iterative: schemas may nest to any depth the loader allows.
    let mut stack: Vec<(&Value, String)> = vec![(v, pointer.to_string())];
    while let Some((v, at)) = stack.pop() {
        let Value::Object(m) = v else {
            report(at, format!("a Schema Object must be a mapping, found {}", kind_of(v)));
            continue;
        };
        // A Reference Object: its other members are ignored.
        if matches!(m.get("$ref"), Some(Value::String(_))) {
            continue;
        }
        let mut subs: Vec<(&Value, String)> = Vec::new();
        for (k, x) in m {
            let Some(e) = expect(k) else { continue };
            let here = || format!("{at}/{}", escape_pointer_segment(k));
            let wrong = |what: &str| format!("`{k}` must be {what}, found {}", kind_of(x));
            let null = x.is_null();
            match e {
                Expect::Bool if !x.is_boolean() => report(here(), wrong("true or false")),
                Expect::OptBool if !(null || x.is_boolean()) => report(here(), wrong("true or false")),
                Expect::OptString if k == "type" && x.as_str().is_some_and(|s| !TYPE_NAMES.contains(&s)) => report(
                    here(),
                    format!(
                        "`type` must be one of `string`, `number`, `integer`, `boolean`, `array`, `object`, found `{}`",
                        x.as_str().unwrap_or_default()
                    ),
                ),
                Expect::OptString if !(null || x.is_string()) => {
                    let what = if k == "type" {
                        "one type name (OpenAPI 3.0 has no type lists: use `nullable: true` for null)"
                    } else {
                        "a string"
                    };
                    report(here(), wrong(what))
                }
                Expect::OptNumber if !(null || x.is_number()) => report(here(), wrong("a number")),
                Expect::OptCount if !(null || x.is_u64()) => report(here(), wrong("a non-negative integer")),
                Expect::OptStrings => match x {
                    Value::Null => {}
                    Value::Array(items) => {
                        if let Some((i, bad)) = items.iter().enumerate().find(|(_, s)| !s.is_string()) {
                            report(
                                format!("{}/{i}", here()),
                                format!("`{k}` must list property names (strings), found {}", kind_of(bad)),
                            );
                        }
                    }
                    _ => report(here(), wrong("a list of property names")),
                },
                Expect::OptList if !(null || x.is_array()) => report(here(), wrong("a list")),
                Expect::OptSchema if !null => subs.push((x, here())),
                Expect::OptSchemaMap => match x {
                    Value::Null => {}
                    Value::Object(props) => {
                        let base = here();
                        for (name, s) in props {
                            subs.push((s, format!("{base}/{}", escape_pointer_segment(name))));
                        }
                    }
                    _ => report(here(), wrong("a mapping of property names to schemas")),
                },
                Expect::OptSchemaList => match x {
                    Value::Null => {}
                    Value::Array(items) => {
                        let base = here();
                        for (i, s) in items.iter().enumerate() {
                            subs.push((s, format!("{base}/{i}")));
                        }
                    }
                    _ => report(here(), wrong("a list of schemas")),
                },
                Expect::OptBoolOrSchema if !(null || x.is_boolean()) => subs.push((x, here())),
                Expect::OptExternalDocs => match x {
                    Value::Null => {}
                    Value::Object(d) => {
                        if !d.get("url").is_some_and(Value::is_string) {
                            report(here(), "`externalDocs` needs a `url` (a string)".to_string());
                        } else if !d.get("description").is_none_or(|s| s.is_null() || s.is_string()) {
                            report(
                                format!("{}/description", here()),
                                "`description` must be a string".into(),
                            );
                        }
                    }
                    _ => report(here(), wrong("a mapping")),
                },
                Expect::OptDiscriminator => match x {
                    Value::Null => {}
                    Value::Object(d) => {
                        if !d.get("propertyName").is_some_and(Value::is_string) {
                            report(here(), "`discriminator` needs a `propertyName` (a string)".to_string());
                        } else if let Some(mapping) = d.get("mapping") {
                            let ok = mapping.as_object().is_some_and(|mm| mm.values().all(Value::is_string));
                            if !ok {
                                report(
                                    format!("{}/mapping", here()),
                                    "`mapping` must map values to schema names or references (strings)".into(),
                                );
                            }
                        }
                    }
                    _ => report(here(), wrong("a mapping")),
                },
                _ => {}
            }
        }
        // Visit subschemas in document order.
        stack.extend(subs.into_iter().rev());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(schema: Value) -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok",
                "content": {"application/json": {"schema": schema}}}}}}},
        })
    }

    fn typed_ok(v: &Value) -> bool {
        <openapiv3::OpenAPI as serde::Deserialize>::deserialize(v).is_ok()
    }

    #[test]
    fn schema_problems_have_pointers() {
        let d = doc(json!({"type": "object", "required": true,
            "properties": {"a": {"type": ["string", "null"]}, "b": {"items": "x", "minLength": 1.5}}}));
        let got = check(&d);
        let base = "/paths/~1a/get/responses/200/content/application~1json/schema";
        let pointers: Vec<&str> = got.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                format!("{base}/required"),
                format!("{base}/properties/a/type"),
                format!("{base}/properties/b/minLength"),
                format!("{base}/properties/b/items"),
            ]
        );
        assert!(got[1].message.contains("nullable"), "{}", got[1].message);
        assert!(!typed_ok(&d));
    }

    #[test]
    fn valid_schemas_pass_like_openapiv3() {
        for s in [
            json!({"type": "string", "enum": ["a", null], "nullable": true}),
            json!({"$ref": 5, "type": "integer", "minimum": -3, "multipleOf": 2}),
            json!({"$ref": "#/x", "required": true}),
            json!({"allOf": [{"$ref": "#/x"}], "additionalProperties": false, "discriminator": {"propertyName": "k"}}),
            json!({"properties": {"a": {"additionalProperties": {"type": "string"}}}, "x-any": {"required": 1}}),
            json!({"minItems": null, "externalDocs": {"url": "u"}, "example": {"type": 1}}),
        ] {
            let d = doc(s.clone());
            assert!(typed_ok(&d), "{s}");
            assert_eq!(check(&d), vec![], "{s}");
        }
    }

    #[test]
    fn invalid_schemas_fail_like_openapiv3() {
        for s in [
            json!("string"),
            json!({"nullable": null}),
            json!({"maxLength": -1}),
            json!({"required": ["a", 1]}),
            json!({"enum": "a"}),
            json!({"allOf": {"type": "string"}}),
            json!({"not": true}),
            json!({"additionalProperties": "yes"}),
            json!({"externalDocs": {"description": "d"}}),
            json!({"discriminator": {"propertyName": "k", "mapping": {"a": 1}}}),
            json!({"properties": {"a": {"items": [{"type": "string"}]}}}),
        ] {
            let d = doc(s.clone());
            assert!(!typed_ok(&d), "openapiv3 accepts {s}");
            assert_eq!(check(&d).len(), 1, "{s}: {:?}", check(&d));
        }
    }

    #[test]
    fn structure_problems_outside_schemas_are_located() {
        let d = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"parameters": [{"name": "q", "in": "query", "schema": {}}],
                "responses": {"200": {"description": 5}}}}},
        });
        let got = check(&d);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].pointer.starts_with("/paths/~1a/get/responses"), "{:?}", got[0]);
        // Data where the model keeps values: never judged as schemas.
        let d = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1", "x-schema": {"schema": 1}},
            "paths": {},
            "components": {"links": {"l": {"operationId": "o", "parameters": {"schema": "$request.body"}}},
                "examples": {"e": {"value": {"schema": "not one"}}}},
            "security": [{"x-key": []}],
        });
        assert!(typed_ok(&d));
        assert_eq!(check(&d), vec![]);
    }

    /// Every OpenAPI 3.0 file of a folder, parsed.
    fn documents_30(root: &std::path::Path, max_bytes: u64) -> Vec<(std::path::PathBuf, Value)> {
        use crate::artifact::document::{Document, Limits};
        crate::testing::files(root, crate::testing::DOCUMENTS, max_bytes)
            .into_iter()
            .filter_map(|p| {
                let bytes = std::fs::read(&p).ok()?;
                let d = Document::from_bytes("x", &bytes, &Limits::default()).ok()?;
                let is_30 = d
                    .value
                    .get("openapi")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.trim().starts_with("3.0"));
                is_30.then_some((p, d.value))
            })
            .collect()
    }

    /// Mutations anywhere in valid documents (the reference fixtures and small corpus
    /// documents): each member of every 7th object replaced in turn by values of every JSON
    /// type; the verdict must be that of `openapiv3` on the whole mutated document.
    #[test]
    fn mutated_documents_get_openapiv3_verdicts() {
        fn objects(v: &Value, at: String, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    out.push(at.clone());
                    for (k, x) in m {
                        objects(x, format!("{at}/{}", escape_pointer_segment(k)), out);
                    }
                }
                Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        objects(x, format!("{at}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut docs = documents_30(&here.join("fixtures/submissions"), 200_000);
        if let Some(corpus) = crate::testing::corpus("openapi") {
            docs.extend(documents_30(&corpus, 60_000));
        }
        let replacements = [
            json!(null),
            json!(true),
            json!(-1),
            json!(1.5),
            json!("s"),
            json!([1]),
            json!({}),
        ];
        let (mut tried, mut invalid) = (0, 0);
        let mut mismatches = Vec::new();
        for (path, v) in docs.iter().filter(|(_, v)| typed_ok(v)) {
            let mut at = Vec::new();
            objects(v, String::new(), &mut at);
            for pointer in at.iter().step_by(7).take(12) {
                let keys: Vec<String> = v
                    .pointer(pointer)
                    .and_then(Value::as_object)
                    .map_or(Vec::new(), |m| m.keys().cloned().collect());
                for k in keys.iter().take(2) {
                    for r in &replacements {
                        // A Schema Object's `type: s`: `openapiv3` takes any type name, the
                        // check refuses the unknown ones as the official 3.0 schema does.
                        if k == "type" && r.is_string() {
                            continue;
                        }
                        let mut m = v.clone();
                        if let Some(Value::Object(o)) = m.pointer_mut(pointer) {
                            o.insert(k.clone(), r.clone());
                        }
                        tried += 1;
                        let full = typed_ok(&m);
                        invalid += usize::from(!full);
                        let ours = check(&m);
                        if full != ours.is_empty() {
                            mismatches.push(format!(
                                "{} {pointer}/{k} = {r}: openapiv3 {full}, ours {ours:?}",
                                path.display()
                            ));
                        }
                    }
                }
            }
        }
        println!("{tried} mutations of {} documents ({invalid} invalid)", docs.len());
        assert!(tried > 1000, "only {tried} mutations");
        assert!(
            mismatches.is_empty(),
            "{} mismatches:\n{}",
            mismatches.len(),
            mismatches.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
        );
    }

    /// On every OpenAPI 3.0 document of the shared corpus, the skeleton and the Schema Object
    /// checks give the verdict of deserialising the whole document into `openapiv3`.
    #[test]
    fn corpus_verdicts_match_openapiv3() {
        let Some(root) = crate::testing::corpus("openapi") else {
            return;
        };
        let docs = documents_30(&root, u64::MAX);
        let invalid = docs.iter().filter(|(_, v)| !typed_ok(v)).count();
        let compared = docs.len();
        let mut mismatches = Vec::new();
        for (p, v) in &docs {
            let full = typed_ok(v);
            let ours = check(v);
            if full != ours.is_empty() {
                mismatches.push(format!("{}: openapiv3 {full}, ours {ours:?}", p.display()));
            }
        }
        println!("openapiv3 verdicts compared on {compared} documents ({invalid} invalid)");
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }
}
