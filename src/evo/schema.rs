//! Pure helpers for comparing JSON Schemas: type sets (3.0 `nullable` and 3.1 type arrays
//! alike), bounds, constraints, enum values and display.

use serde_json::{Map, Value};

use crate::api::{Api, Node};
use crate::artifact::document::unescape_pointer_segment;

pub const NULL: u8 = 1;
pub const BOOLEAN: u8 = 2;
pub const INTEGER: u8 = 4;
pub const NUMBER: u8 = 8;
pub const STRING: u8 = 16;
pub const ARRAY: u8 = 32;
pub const OBJECT: u8 = 64;
/// Any JSON value (no type constraint).
pub const ANY: u8 = 127;

const NAMES: [(u8, &str); 7] = [
    (OBJECT, "object"),
    (ARRAY, "array"),
    (STRING, "string"),
    (NUMBER, "number"),
    (INTEGER, "integer"),
    (BOOLEAN, "boolean"),
    (NULL, "null"),
];

/// Deepest nesting of `oneOf`/`anyOf`/`allOf` followed to infer a type.
const MAX_INFER_DEPTH: usize = 8;
/// Most subschemas looked at to infer one type (`S = anyOf [S, S, ...]` is not exponential).
const INFER_BUDGET: usize = 64;

/// The keywords of a schema that the comparison reads, collected in one pass over its members
/// (probing each keyword with a hashed lookup costs more than reading the few present).
#[derive(Debug, Default, Clone, Copy)]
pub struct Kw<'v> {
    pub ty: Option<&'v Value>,
    pub nullable: bool,
    pub enum_: Option<&'v Value>,
    pub const_: Option<&'v Value>,
    pub default: Option<&'v Value>,
    pub format: Option<&'v str>,
    pub pattern: Option<&'v str>,
    pub maximum: Option<&'v Value>,
    pub exclusive_maximum: Option<&'v Value>,
    pub minimum: Option<&'v Value>,
    pub exclusive_minimum: Option<&'v Value>,
    pub max_length: Option<f64>,
    pub min_length: Option<f64>,
    pub max_items: Option<f64>,
    pub min_items: Option<f64>,
    pub max_properties: Option<f64>,
    pub min_properties: Option<f64>,
    pub multiple_of: Option<f64>,
    pub unique_items: bool,
    pub additional: Option<&'v Value>,
    /// `properties`, `required` or `patternProperties`.
    pub object_words: bool,
    pub properties: bool,
    pub required: bool,
    pub items: bool,
    pub prefix_items: bool,
    pub one_of: bool,
    pub any_of: bool,
    pub all_of: bool,
    /// `not`, `if`, `$ref`: the type cannot be told from the keywords.
    pub opaque: bool,
}

impl<'v> Kw<'v> {
    pub fn of(map: &'v Map<String, Value>) -> Kw<'v> {
        let mut k = Kw::default();
        for (key, v) in map {
            match key.as_str() {
                "type" => k.ty = Some(v),
                "nullable" => k.nullable = v.as_bool() == Some(true),
                "enum" => k.enum_ = Some(v),
                "const" => k.const_ = Some(v),
                "default" => k.default = Some(v),
                "format" => k.format = v.as_str(),
                "pattern" => k.pattern = v.as_str(),
                "maximum" => k.maximum = Some(v),
                "exclusiveMaximum" => k.exclusive_maximum = Some(v),
                "minimum" => k.minimum = Some(v),
                "exclusiveMinimum" => k.exclusive_minimum = Some(v),
                "maxLength" => k.max_length = v.as_f64(),
                "minLength" => k.min_length = v.as_f64(),
                "maxItems" => k.max_items = v.as_f64(),
                "minItems" => k.min_items = v.as_f64(),
                "maxProperties" => k.max_properties = v.as_f64(),
                "minProperties" => k.min_properties = v.as_f64(),
                "multipleOf" => k.multiple_of = v.as_f64(),
                "uniqueItems" => k.unique_items = v.as_bool() == Some(true),
                "additionalProperties" => {
                    k.additional = Some(v);
                    k.object_words = true;
                }
                "properties" => {
                    k.properties = true;
                    k.object_words = true;
                }
                "required" => {
                    k.required = true;
                    k.object_words = true;
                }
                "patternProperties" => k.object_words = true,
                "items" => k.items = true,
                "prefixItems" => k.prefix_items = true,
                "oneOf" => k.one_of = true,
                "anyOf" => k.any_of = true,
                "allOf" => k.all_of = true,
                "not" | "if" | "$ref" => k.opaque = true,
                _ => {}
            }
        }
        k
    }

    /// The values of `enum` (or `const` as a one-value enum).
    pub fn enum_values(&self) -> Option<Vec<&'v Value>> {
        if let Some(Value::Array(a)) = self.enum_ {
            return Some(a.iter().collect());
        }
        self.const_.map(|c| vec![c])
    }

    /// True when the schema forbids additional properties.
    pub fn closed(&self) -> bool {
        self.additional == Some(&Value::Bool(false))
    }
}

/// The type bit of a type name (0 for an unknown name).
pub fn type_bit_of(name: &str) -> u8 {
    type_bit(name)
}

fn type_bit(name: &str) -> u8 {
    NAMES.iter().find(|(_, n)| *n == name).map_or(0, |(b, _)| *b)
}

/// The type bit of a JSON value (integers are integers, other numbers numbers).
pub fn value_bit(v: &Value) -> u8 {
    match v {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Number(n) if n.is_i64() || n.is_u64() => INTEGER,
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => INTEGER,
        Value::Number(_) => NUMBER,
        Value::String(_) => STRING,
        Value::Array(_) => ARRAY,
        Value::Object(_) => OBJECT,
    }
}

/// `string`, `string | null`, `any`.
pub fn describe(t: u8) -> String {
    if t == ANY || t == ANY & !INTEGER {
        return "any".into();
    }
    let names: Vec<&str> = NAMES.iter().filter(|(b, _)| t & b != 0).map(|(_, n)| *n).collect();
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(" | ")
    }
}

/// True when every type in `inner` is accepted by `outer` (a number accepts integers).
pub fn covers(outer: u8, inner: u8) -> bool {
    NAMES
        .iter()
        .all(|(b, _)| inner & b == 0 || outer & b != 0 || (*b == INTEGER && outer & NUMBER != 0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeDelta {
    Same,
    /// The new type accepts a subset of the old.
    Narrowed,
    /// The new type accepts a superset of the old.
    Widened,
    /// Neither contains the other.
    Changed,
}

pub fn type_delta(old: u8, new: u8) -> TypeDelta {
    match (covers(new, old), covers(old, new)) {
        (true, true) => TypeDelta::Same,
        (true, false) => TypeDelta::Widened,
        (false, true) => TypeDelta::Narrowed,
        (false, false) => TypeDelta::Changed,
    }
}

fn infer(api: &Api<'_>, node: &Node<'_>, depth: usize, budget: &mut usize) -> Option<u8> {
    if *budget == 0 {
        return None;
    }
    *budget -= 1;
    match node.value {
        Value::Object(m) => infer_kw(api, node, &Kw::of(m), depth, budget),
        Value::Bool(true) => Some(ANY),
        Value::Bool(false) => Some(0),
        _ => None,
    }
}

/// The set of types a (resolved) schema with keywords `k` accepts, `None` when it cannot be
/// told without evaluating it (e.g. `not`, or composition of schemas without types).
pub fn types_of(api: &Api<'_>, node: &Node<'_>, k: &Kw<'_>) -> Option<u8> {
    let mut budget = INFER_BUDGET;
    infer_kw(api, node, k, 0, &mut budget)
}

fn infer_kw(api: &Api<'_>, node: &Node<'_>, k: &Kw<'_>, depth: usize, budget: &mut usize) -> Option<u8> {
    let nullable = if k.nullable { NULL } else { 0 };
    let t = match k.ty {
        Some(Value::String(s)) => Some(type_bit(s)),
        Some(Value::Array(a)) => Some(a.iter().filter_map(Value::as_str).map(type_bit).fold(0, |x, y| x | y)),
        _ => None,
    };
    if let Some(t) = t {
        return Some(t | nullable);
    }
    if let Some(values) = k.enum_values() {
        let t = values.iter().fold(0, |x, v| x | value_bit(v));
        return Some(t | nullable);
    }
    if k.object_words {
        return Some(OBJECT | nullable);
    }
    if k.items || k.prefix_items {
        return Some(ARRAY | nullable);
    }
    if depth >= MAX_INFER_DEPTH {
        return None;
    }
    for (present, key) in [(k.one_of, "oneOf"), (k.any_of, "anyOf")] {
        if !present {
            continue;
        }
        if let Some(list) = node.get(key) {
            let mut t = 0;
            for b in list.items() {
                t |= infer(api, &api.deref(b), depth + 1, budget)?;
            }
            return Some(t | nullable);
        }
    }
    if k.all_of {
        if let Some(list) = node.get("allOf") {
            let mut t: Option<u8> = None;
            for b in list.items() {
                if let Some(bt) = infer(api, &api.deref(b), depth + 1, budget) {
                    t = Some(t.map_or(bt, |x| x & bt));
                }
            }
            return t.map(|t| t | nullable);
        }
    }
    if k.opaque {
        return None;
    }
    Some(ANY)
}

/// A value as shown in a message: strings bare, everything else as compact JSON.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `` `A`, `B` and 3 more ``.
pub fn show_list(values: &[&Value], max: usize) -> String {
    let shown: Vec<String> = values.iter().take(max).map(|v| format!("`{}`", show(v))).collect();
    let mut s = shown.join(", ");
    if values.len() > max {
        s.push_str(&format!(" and {} more", values.len() - max));
    }
    s
}

/// A bound: its value and whether it is exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bound {
    value: f64,
    exclusive: bool,
}

impl Bound {
    fn show(self) -> String {
        let v = if self.value.fract() == 0.0 && self.value.abs() < 1e15 {
            format!("{}", self.value as i64)
        } else {
            format!("{}", self.value)
        };
        if self.exclusive {
            format!("{v} (exclusive)")
        } else {
            v
        }
    }
}

/// The upper (`max`) or lower bound of a number, from `maximum`/`exclusiveMaximum` in their
/// 3.0 (boolean) and 3.1 (number) forms.
fn number_bound(k: &Kw<'_>, upper: bool) -> Option<Bound> {
    let (incl, excl) = if upper {
        (k.maximum, k.exclusive_maximum)
    } else {
        (k.minimum, k.exclusive_minimum)
    };
    let inclusive = incl.and_then(Value::as_f64);
    match excl {
        Some(Value::Bool(true)) => inclusive.map(|value| Bound { value, exclusive: true }),
        Some(Value::Number(n)) => {
            let e = n.as_f64()?;
            let eb = Bound {
                value: e,
                exclusive: true,
            };
            match inclusive {
                Some(i) if (upper && i < e) || (!upper && i > e) => Some(Bound {
                    value: i,
                    exclusive: false,
                }),
                _ => Some(eb),
            }
        }
        _ => inclusive.map(|value| Bound {
            value,
            exclusive: false,
        }),
    }
}

fn count_bound(v: Option<f64>) -> Option<Bound> {
    v.map(|value| Bound {
        value,
        exclusive: false,
    })
}

/// The constraint changes between two schemas, split into tighter and looser ones, plus a
/// format or pattern that changed to an unrelated one.
#[derive(Debug, Default)]
pub struct Constraints {
    pub tightened: Vec<String>,
    pub relaxed: Vec<String>,
    /// `(old, new)` formats when neither contains the other.
    pub format: Option<(String, String)>,
    /// `(old, new)` patterns.
    pub pattern: Option<(String, String)>,
    /// A format validators do not check, added `(None, Some)` or removed `(Some, None)`.
    pub unknown_format: Option<(Option<String>, Option<String>)>,
}

/// Formats that JSON Schema validators (and OpenAPI tools) check, so that adding one rejects
/// values; any other (`unix-time`, `password`, `binary`) documents intent only.
const CHECKED_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uri-template",
    "uuid",
    "json-pointer",
    "relative-json-pointer",
    "regex",
    "int32",
    "int64",
    "float",
    "double",
    "byte",
];

/// Does a value meet the bounds of `k` (lengths for strings, limits for numbers)? Patterns
/// and formats are not evaluated.
fn admits(k: &Kw<'_>, v: &Value) -> bool {
    match v {
        Value::String(s) => {
            let len = s.chars().count() as f64;
            k.max_length.is_none_or(|m| len <= m) && k.min_length.is_none_or(|m| len >= m)
        }
        Value::Number(x) => {
            let x = x.as_f64().unwrap_or(0.0);
            let within = |b: Option<Bound>, upper: bool| {
                b.is_none_or(|b| match (upper, b.exclusive) {
                    (true, false) => x <= b.value,
                    (true, true) => x < b.value,
                    (false, false) => x >= b.value,
                    (false, true) => x > b.value,
                })
            };
            within(number_bound(k, true), true) && within(number_bound(k, false), false)
        }
        _ => true,
    }
}

/// Constraints judged together: an `enum` added whose values all met the old bounds makes the
/// set of accepted values exactly those values, a subset, whatever bounds were dropped with it
/// (`maxLength: 5000` replaced by `enum: [day, week]` narrows); an `enum` removed in favour of
/// bounds its values meet widens it, whatever bounds were added.
pub fn judge_together(o: &Kw<'_>, n: &Kw<'_>, c: &mut Constraints) {
    match (o.enum_values(), n.enum_values()) {
        (None, Some(values)) if !c.relaxed.is_empty() && values.iter().all(|v| admits(o, v)) => {
            let dropped = std::mem::take(&mut c.relaxed);
            c.tightened.extend(dropped);
        }
        (Some(values), None) if !c.tightened.is_empty() && values.iter().all(|v| admits(n, v)) => {
            let added = std::mem::take(&mut c.tightened);
            c.relaxed.extend(added);
        }
        _ => {}
    }
}

/// Pairs of formats where the second accepts every value of the first.
const FORMAT_WIDENINGS: &[(&str, &str)] = &[("int32", "int64"), ("float", "double"), ("int32", "double")];

pub fn constraints(o: &Kw<'_>, n: &Kw<'_>) -> Constraints {
    let mut c = Constraints::default();
    // Upper bounds: lower is tighter.
    let uppers = [
        ("maximum", number_bound(o, true), number_bound(n, true)),
        ("maxLength", count_bound(o.max_length), count_bound(n.max_length)),
        ("maxItems", count_bound(o.max_items), count_bound(n.max_items)),
        (
            "maxProperties",
            count_bound(o.max_properties),
            count_bound(n.max_properties),
        ),
    ];
    for (name, a, b) in uppers {
        bound_delta(&mut c, name, a, b, true);
    }
    let lowers = [
        ("minimum", number_bound(o, false), number_bound(n, false)),
        ("minLength", count_bound(o.min_length), count_bound(n.min_length)),
        ("minItems", count_bound(o.min_items), count_bound(n.min_items)),
        (
            "minProperties",
            count_bound(o.min_properties),
            count_bound(n.min_properties),
        ),
    ];
    for (name, a, b) in lowers {
        bound_delta(&mut c, name, a, b, false);
    }
    match (o.multiple_of, n.multiple_of) {
        (None, Some(b)) => c.tightened.push(format!("multipleOf {b} added")),
        (Some(a), None) => c.relaxed.push(format!("multipleOf {a} removed")),
        (Some(a), Some(b)) if a != b => {
            let relaxed = b != 0.0 && (a / b).fract() == 0.0;
            let msg = format!("multipleOf {a} -> {b}");
            if relaxed {
                c.relaxed.push(msg);
            } else {
                c.tightened.push(msg);
            }
        }
        _ => {}
    }
    match (o.unique_items, n.unique_items) {
        (false, true) => c.tightened.push("uniqueItems required".into()),
        (true, false) => c.relaxed.push("uniqueItems no longer required".into()),
        _ => {}
    }
    match (o.closed(), n.closed()) {
        (false, true) => c.tightened.push("additional properties no longer allowed".into()),
        (true, false) => c.relaxed.push("additional properties now allowed".into()),
        _ => {}
    }
    match (o.enum_values(), n.enum_values()) {
        (None, Some(v)) => c.tightened.push(format!("enum added ({})", show_list(&v, 5))),
        (Some(v), None) => c.relaxed.push(format!("enum removed (was {})", show_list(&v, 5))),
        _ => {}
    }
    match (o.format, n.format) {
        (None, Some(b)) if CHECKED_FORMATS.contains(&b) => c.tightened.push(format!("format `{b}` added")),
        (Some(a), None) if CHECKED_FORMATS.contains(&a) => c.relaxed.push(format!("format `{a}` removed")),
        (None, Some(b)) => c.unknown_format = Some((None, Some(b.to_string()))),
        (Some(a), None) => c.unknown_format = Some((Some(a.to_string()), None)),
        (Some(a), Some(b)) if a != b => {
            if FORMAT_WIDENINGS.contains(&(a, b)) {
                c.relaxed.push(format!("format `{a}` -> `{b}`"));
            } else if FORMAT_WIDENINGS.contains(&(b, a)) {
                c.tightened.push(format!("format `{a}` -> `{b}`"));
            } else {
                c.format = Some((a.to_string(), b.to_string()));
            }
        }
        _ => {}
    }
    match (o.pattern, n.pattern) {
        (None, Some(b)) => c.tightened.push(format!("pattern `{b}` added")),
        (Some(a), None) => c.relaxed.push(format!("pattern `{a}` removed")),
        (Some(a), Some(b)) if a != b => c.pattern = Some((a.to_string(), b.to_string())),
        _ => {}
    }
    c
}

fn bound_delta(c: &mut Constraints, name: &str, a: Option<Bound>, b: Option<Bound>, upper: bool) {
    match (a, b) {
        (None, Some(b)) => c.tightened.push(format!("{name} {} added", b.show())),
        (Some(a), None) => c.relaxed.push(format!("{name} {} removed", a.show())),
        (Some(a), Some(b)) if a != b => {
            let lower_value = b.value < a.value || (b.value == a.value && b.exclusive && !a.exclusive);
            let tighter = if upper {
                lower_value
            } else {
                b.value > a.value || (b.value == a.value && b.exclusive && !a.exclusive)
            };
            let msg = format!("{name} {} -> {}", a.show(), b.show());
            if tighter {
                c.tightened.push(msg);
            } else {
                c.relaxed.push(msg);
            }
        }
        _ => {}
    }
}

/// A media type compared without parameters and case: `application/json; charset=utf-8` is
/// `application/json`.
pub fn norm_media(m: &str) -> String {
    m.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// A path template with its parameter names erased: `/orders/{id}` is `/orders/{}`.
pub fn norm_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut depth = 0usize;
    for c in p.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push('{');
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push('}');
                }
            }
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    let trimmed = out.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.to_string()
    }
}

/// The parameter names of a path template, in order.
pub fn path_params(p: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = p;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) => {
                out.push(&after[..j]);
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

/// The unescaped last segment of a JSON pointer (a component's name).
pub fn last_segment(pointer: &str) -> String {
    unescape_pointer_segment(pointer.rsplit('/').next().unwrap_or("")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_sets() {
        assert_eq!(type_delta(INTEGER, NUMBER), TypeDelta::Widened);
        assert_eq!(type_delta(NUMBER, INTEGER), TypeDelta::Narrowed);
        assert_eq!(type_delta(STRING | NULL, STRING), TypeDelta::Narrowed);
        assert_eq!(type_delta(STRING, INTEGER), TypeDelta::Changed);
        assert_eq!(type_delta(NUMBER, NUMBER | INTEGER), TypeDelta::Same);
        assert_eq!(describe(STRING | NULL), "string | null");
        assert_eq!(describe(ANY), "any");
    }

    #[test]
    fn bounds_and_constraints() {
        let o = json!({"maximum": 10, "exclusiveMaximum": true, "maxLength": 5, "pattern": "a"});
        let n = json!({"exclusiveMaximum": 10, "maxLength": 3, "pattern": "b", "format": "uuid"});
        let c = constraints(&Kw::of(o.as_object().unwrap()), &Kw::of(n.as_object().unwrap()));
        assert_eq!(c.tightened, vec!["maxLength 5 -> 3", "format `uuid` added"]);
        assert!(c.relaxed.is_empty(), "{:?}", c.relaxed);
        assert_eq!(c.pattern, Some(("a".into(), "b".into())));
        let o = json!({"minimum": 1, "format": "int32"});
        let n = json!({"minimum": 0, "format": "int64"});
        let c = constraints(&Kw::of(o.as_object().unwrap()), &Kw::of(n.as_object().unwrap()));
        assert_eq!(c.relaxed, vec!["minimum 1 -> 0", "format `int32` -> `int64`"]);
    }

    #[test]
    fn paths() {
        assert_eq!(norm_path("/orders/{orderId}/lines/{n}"), "/orders/{}/lines/{}");
        assert_eq!(norm_path("/orders/"), "/orders");
        assert_eq!(norm_path("/"), "/");
        assert_eq!(path_params("/a/{x}/b/{y}"), vec!["x", "y"]);
        assert_eq!(path_params("/a/{x"), Vec::<&str>::new());
        assert_eq!(norm_media("Application/JSON; charset=utf-8"), "application/json");
        assert_eq!(last_segment("/components/schemas/a~1b"), "a/b");
    }
}
