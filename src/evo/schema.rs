//! Pure helpers for comparing JSON Schemas: type sets (3.0 `nullable` and 3.1 type arrays
//! alike), bounds, constraints, enum values and display.

use serde_json::{Map, Value};

use crate::checks::oas::walk::{Api, Node};

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

/// The set of types a (resolved) schema accepts, `None` when it cannot be told without
/// evaluating it (e.g. `not`, or composition of schemas without types).
pub fn types(api: &Api<'_>, node: &Node<'_>, depth: usize) -> Option<u8> {
    let map = match node.value {
        Value::Object(m) => m,
        Value::Bool(true) => return Some(ANY),
        Value::Bool(false) => return Some(0),
        _ => return None,
    };
    let nullable = if map.get("nullable").and_then(Value::as_bool) == Some(true) {
        NULL
    } else {
        0
    };
    let t = match map.get("type") {
        Some(Value::String(s)) => Some(type_bit(s)),
        Some(Value::Array(a)) => Some(a.iter().filter_map(Value::as_str).map(type_bit).fold(0, |x, y| x | y)),
        _ => None,
    };
    if let Some(t) = t {
        return Some(t | nullable);
    }
    if let Some(values) = enum_values(map) {
        let t = values.iter().fold(0, |x, v| x | value_bit(v));
        return Some(t | nullable);
    }
    if ["properties", "additionalProperties", "required", "patternProperties"]
        .iter()
        .any(|k| map.contains_key(*k))
    {
        return Some(OBJECT | nullable);
    }
    if map.contains_key("items") || map.contains_key("prefixItems") {
        return Some(ARRAY | nullable);
    }
    if depth >= MAX_INFER_DEPTH {
        return None;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = node.get(key) {
            let mut t = 0;
            for b in list.items() {
                t |= types(api, &api.deref(b), depth + 1)?;
            }
            return Some(t | nullable);
        }
    }
    if let Some(list) = node.get("allOf") {
        let mut t: Option<u8> = None;
        for b in list.items() {
            if let Some(bt) = types(api, &api.deref(b), depth + 1) {
                t = Some(t.map_or(bt, |x| x & bt));
            }
        }
        return t.map(|t| t | nullable);
    }
    if map.contains_key("not") || map.contains_key("$ref") || map.contains_key("if") {
        return None;
    }
    Some(ANY)
}

/// The values of `enum` (or `const` as a one-value enum).
pub fn enum_values(map: &Map<String, Value>) -> Option<Vec<&Value>> {
    if let Some(Value::Array(a)) = map.get("enum") {
        return Some(a.iter().collect());
    }
    map.get("const").map(|c| vec![c])
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
fn number_bound(map: &Map<String, Value>, upper: bool) -> Option<Bound> {
    let (incl, excl) = if upper {
        ("maximum", "exclusiveMaximum")
    } else {
        ("minimum", "exclusiveMinimum")
    };
    let inclusive = map.get(incl).and_then(Value::as_f64);
    match map.get(excl) {
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

fn count_bound(map: &Map<String, Value>, key: &str) -> Option<Bound> {
    map.get(key).and_then(Value::as_f64).map(|value| Bound {
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
}

/// Pairs of formats where the second accepts every value of the first.
const FORMAT_WIDENINGS: &[(&str, &str)] = &[("int32", "int64"), ("float", "double"), ("int32", "double")];

pub fn constraints(o: &Map<String, Value>, n: &Map<String, Value>) -> Constraints {
    let mut c = Constraints::default();
    // Upper bounds: lower is tighter.
    let uppers = [
        ("maximum", number_bound(o, true), number_bound(n, true)),
        ("maxLength", count_bound(o, "maxLength"), count_bound(n, "maxLength")),
        ("maxItems", count_bound(o, "maxItems"), count_bound(n, "maxItems")),
        (
            "maxProperties",
            count_bound(o, "maxProperties"),
            count_bound(n, "maxProperties"),
        ),
    ];
    for (name, a, b) in uppers {
        bound_delta(&mut c, name, a, b, true);
    }
    let lowers = [
        ("minimum", number_bound(o, false), number_bound(n, false)),
        ("minLength", count_bound(o, "minLength"), count_bound(n, "minLength")),
        ("minItems", count_bound(o, "minItems"), count_bound(n, "minItems")),
        (
            "minProperties",
            count_bound(o, "minProperties"),
            count_bound(n, "minProperties"),
        ),
    ];
    for (name, a, b) in lowers {
        bound_delta(&mut c, name, a, b, false);
    }
    let (om, nm) = (
        o.get("multipleOf").and_then(Value::as_f64),
        n.get("multipleOf").and_then(Value::as_f64),
    );
    match (om, nm) {
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
    let flag = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_bool) == Some(true);
    match (flag(o, "uniqueItems"), flag(n, "uniqueItems")) {
        (false, true) => c.tightened.push("uniqueItems required".into()),
        (true, false) => c.relaxed.push("uniqueItems no longer required".into()),
        _ => {}
    }
    let closed = |m: &Map<String, Value>| m.get("additionalProperties") == Some(&Value::Bool(false));
    match (closed(o), closed(n)) {
        (false, true) => c.tightened.push("additional properties no longer allowed".into()),
        (true, false) => c.relaxed.push("additional properties now allowed".into()),
        _ => {}
    }
    match (enum_values(o), enum_values(n)) {
        (None, Some(v)) => c.tightened.push(format!("enum added ({})", show_list(&v, 5))),
        (Some(v), None) => c.relaxed.push(format!("enum removed (was {})", show_list(&v, 5))),
        _ => {}
    }
    let fmt = |m: &Map<String, Value>| m.get("format").and_then(Value::as_str).map(str::to_string);
    match (fmt(o), fmt(n)) {
        (None, Some(b)) => c.tightened.push(format!("format `{b}` added")),
        (Some(a), None) => c.relaxed.push(format!("format `{a}` removed")),
        (Some(a), Some(b)) if a != b => {
            if FORMAT_WIDENINGS.contains(&(a.as_str(), b.as_str())) {
                c.relaxed.push(format!("format `{a}` -> `{b}`"));
            } else if FORMAT_WIDENINGS.contains(&(b.as_str(), a.as_str())) {
                c.tightened.push(format!("format `{a}` -> `{b}`"));
            } else {
                c.format = Some((a, b));
            }
        }
        _ => {}
    }
    let pat = |m: &Map<String, Value>| m.get("pattern").and_then(Value::as_str).map(str::to_string);
    match (pat(o), pat(n)) {
        (None, Some(b)) => c.tightened.push(format!("pattern `{b}` added")),
        (Some(a), None) => c.relaxed.push(format!("pattern `{a}` removed")),
        (Some(a), Some(b)) if a != b => c.pattern = Some((a, b)),
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
    pointer
        .rsplit('/')
        .next()
        .unwrap_or("")
        .replace("~1", "/")
        .replace("~0", "~")
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
        let c = constraints(o.as_object().unwrap(), n.as_object().unwrap());
        assert_eq!(c.tightened, vec!["maxLength 5 -> 3", "format `uuid` added"]);
        assert!(c.relaxed.is_empty(), "{:?}", c.relaxed);
        assert_eq!(c.pattern, Some(("a".into(), "b".into())));
        let o = json!({"minimum": 1, "format": "int32"});
        let n = json!({"minimum": 0, "format": "int64"});
        let c = constraints(o.as_object().unwrap(), n.as_object().unwrap());
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
