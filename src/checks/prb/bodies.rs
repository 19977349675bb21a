//! Request bodies made from a JSON schema, for the probes that send them: valid bodies (the
//! document's examples first, then a value built from the schema, then boundary values of
//! its limits) and invalid ones, one mutation class at a time, as Schemathesis' negative
//! testing makes them (out of range, too long, outside the enum, a required property
//! missing, a wrong type, an extra property where `additionalProperties: false`, malformed
//! JSON, a wrong content type).
//!
//! The generators work on schemas with every `$ref` inlined ([`inline`]); a recursive schema
//! is cut at a fixed depth. Properties marked `readOnly` are never sent.

use serde_json::{json, Map, Value};

use crate::checks::oas::walk::{Api, Node};

/// How deep `$ref`s are followed and values nested.
const MAX_DEPTH: usize = 8;

/// The schema of `node` with every `$ref` replaced by what it points at (cut at
/// [`MAX_DEPTH`], where a reference becomes `{}`).
pub fn inline(api: &Api<'_>, node: &Node<'_>) -> Value {
    fn go(api: &Api<'_>, node: &Node<'_>, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return json!({});
        }
        let node = if node.ref_str().is_some() {
            let target = api.deref(node.clone());
            if target.ref_str().is_some() {
                return json!({});
            }
            target
        } else {
            node.clone()
        };
        match node.value {
            Value::Object(_) => Value::Object(
                node.entries()
                    .into_iter()
                    .map(|(k, child)| (k.to_string(), go(api, &child, depth + 1)))
                    .collect(),
            ),
            Value::Array(_) => Value::Array(node.items().iter().map(|c| go(api, c, depth + 1)).collect()),
            other => other.clone(),
        }
    }
    go(api, node, 0)
}

/// A body to send and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid {
    pub value: Value,
    /// `the document's example`, `built from the schema`, `` `quantity` at its maximum (100) ``.
    pub origin: String,
}

/// Valid bodies for a media type object (`{schema, example, examples}`, refs inlined): its
/// examples, then one built from the schema, then boundary values, at most `limit`.
pub fn valid(media: &Value, limit: usize) -> Vec<Valid> {
    let mut out: Vec<Valid> = Vec::new();
    let push = |out: &mut Vec<Valid>, value: Value, origin: String| {
        if out.len() < limit && !out.iter().any(|v| v.value == value) {
            out.push(Valid { value, origin });
        }
    };
    if let Some(v) = media.get("example") {
        push(&mut out, v.clone(), "the document's example".into());
    }
    if let Some(m) = media.get("examples").and_then(Value::as_object) {
        for (name, ex) in m {
            if let Some(v) = ex.get("value") {
                push(&mut out, v.clone(), format!("the document's example `{name}`"));
            }
        }
    }
    let Some(schema) = media.get("schema") else { return out };
    if let Some(v) = build(schema, 0) {
        push(&mut out, v.clone(), "built from the schema".into());
        for (value, origin) in boundaries(schema, &v) {
            push(&mut out, value, origin);
        }
    }
    out
}

/// The schema's type (`type: [x, "null"]` gives x); `None` when it says nothing.
fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ if schema.get("properties").is_some() => Some("object"),
        _ if schema.get("items").is_some() => Some("array"),
        _ => None,
    }
}

/// `allOf` members merged into one schema (properties, required, the rest from the first).
fn merged(schema: &Value) -> Value {
    let Some(all) = schema.get("allOf").and_then(Value::as_array) else {
        return schema.clone();
    };
    let mut out: Map<String, Value> = schema.as_object().cloned().unwrap_or_default();
    out.remove("allOf");
    let mut props = out
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut required: Vec<Value> = out
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for part in all {
        let part = merged(part);
        if let Some(p) = part.get("properties").and_then(Value::as_object) {
            for (k, v) in p {
                props.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        if let Some(r) = part.get("required").and_then(Value::as_array) {
            required.extend(r.iter().cloned());
        }
        if let Some(m) = part.as_object() {
            for (k, v) in m {
                if k != "properties" && k != "required" {
                    out.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
    if !props.is_empty() {
        out.insert("properties".into(), Value::Object(props));
    }
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    Value::Object(out)
}

/// The schema to build from: `allOf` merged, the first `oneOf`/`anyOf` member taken.
fn effective(schema: &Value) -> Value {
    let s = merged(schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = s.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
            let mut base = s.clone();
            if let Some(m) = base.as_object_mut() {
                m.remove(key);
            }
            let picked = effective(first);
            if let (Some(b), Some(p)) = (base.as_object_mut(), picked.as_object()) {
                for (k, v) in p {
                    b.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            return base;
        }
    }
    s
}

/// A value valid against `schema` (refs inlined), or `None` when none can be made (a
/// `pattern` no simple value matches and no example).
pub fn build(schema: &Value, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    let s = effective(schema);
    for key in ["example", "default", "const"] {
        if let Some(v) = s.get(key) {
            return Some(v.clone());
        }
    }
    if let Some(v) = s.get("examples").and_then(Value::as_array).and_then(|a| a.first()) {
        return Some(v.clone());
    }
    if let Some(v) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|v| !v.is_null()))
    {
        return Some(v.clone());
    }
    match type_of(&s) {
        Some("object") | None if s.get("properties").is_some() || type_of(&s) == Some("object") => {
            let mut out = Map::new();
            let required = required(&s);
            for (name, prop) in properties(&s) {
                if prop.get("readOnly") == Some(&Value::Bool(true)) {
                    continue;
                }
                match build(prop, depth + 1) {
                    Some(v) => {
                        out.insert(name.to_string(), v);
                    }
                    None if required.contains(&name) => return None,
                    None => {}
                }
            }
            Some(Value::Object(out))
        }
        Some("array") => {
            let n = s.get("minItems").and_then(Value::as_u64).unwrap_or(1).clamp(1, 3);
            let item = build(s.get("items").unwrap_or(&json!({})), depth + 1)?;
            Some(Value::Array(vec![item; n as usize]))
        }
        Some("integer") => Some(Value::from(number_in(&s, true) as i64)),
        Some("number") => Some(json!(number_in(&s, false))),
        Some("boolean") => Some(Value::Bool(true)),
        _ => string_for(&s).map(Value::String),
    }
}

fn properties(s: &Value) -> Vec<(&str, &Value)> {
    s.get("properties")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default()
}

fn required(s: &Value) -> Vec<&str> {
    s.get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A number inside the schema's bounds (1 when unbounded), a multiple of `multipleOf`.
fn number_in(s: &Value, integer: bool) -> f64 {
    let f = |k: &str| s.get(k).and_then(Value::as_f64);
    // OpenAPI 3.0 writes exclusive bounds as booleans, 3.1 as numbers.
    let (mut lo, mut hi) = (f("minimum"), f("maximum"));
    let step = if integer { 1.0 } else { 0.5 };
    if let Some(x) = f("exclusiveMinimum") {
        lo = Some(x + step);
    } else if s.get("exclusiveMinimum") == Some(&Value::Bool(true)) {
        lo = lo.map(|x| x + step);
    }
    if let Some(x) = f("exclusiveMaximum") {
        hi = Some(x - step);
    } else if s.get("exclusiveMaximum") == Some(&Value::Bool(true)) {
        hi = hi.map(|x| x - step);
    }
    let mut v = match (lo, hi) {
        (Some(l), _) if l > 1.0 => l,
        (_, Some(h)) if h < 1.0 => h,
        _ => 1.0,
    };
    if let Some(m) = f("multipleOf").filter(|m| *m > 0.0) {
        v = (v / m).ceil() * m;
        if hi.is_some_and(|h| v > h) {
            v -= m;
        }
    }
    if integer {
        v.ceil()
    } else {
        v
    }
}

/// A string valid for the schema's format, length limits and pattern.
fn string_for(s: &Value) -> Option<String> {
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0).min(1000) as usize;
    let max = s.get("maxLength").and_then(Value::as_u64).map(|m| m as usize);
    let fitted = |base: &str| -> Option<String> {
        let mut v = base.to_string();
        while v.chars().count() < min {
            v.push('x');
        }
        (max.is_none_or(|m| v.chars().count() <= m)).then_some(v)
    };
    let by_format = match s.get("format").and_then(Value::as_str) {
        Some("uuid") => Some("00000000-0000-4000-8000-000000000001"),
        Some("date-time") => Some("2025-01-01T00:00:00Z"),
        Some("date") => Some("2025-01-01"),
        Some("time") => Some("12:00:00Z"),
        Some("email") => Some("probe@example.com"),
        Some("uri") | Some("url") => Some("https://example.com/probe"),
        Some("hostname") => Some("example.com"),
        Some("ipv4") => Some("192.0.2.1"),
        Some("ipv6") => Some("2001:db8::1"),
        _ => None,
    };
    let candidates: Vec<&str> = match by_format {
        Some(f) => vec![f],
        None => vec![
            "probe", "1", "a", "A", "abc", "ABC", "a1", "A1", "abc-123", "ABC-123", "x_1",
        ],
    };
    let pattern = s
        .get("pattern")
        .and_then(Value::as_str)
        .and_then(|p| regex::Regex::new(p).ok());
    candidates
        .into_iter()
        .filter_map(fitted)
        .find(|c| pattern.as_ref().is_none_or(|re| re.is_match(c)))
}

/// Variants of a valid object `base` with one top-level property at a limit of its schema.
fn boundaries(schema: &Value, base: &Value) -> Vec<(Value, String)> {
    let s = effective(schema);
    let mut out = Vec::new();
    let Some(obj) = base.as_object() else { return out };
    for (name, prop) in properties(&s) {
        if !obj.contains_key(name) {
            continue;
        }
        let p = effective(prop);
        let mut with = |v: Value, what: String| {
            let mut o = obj.clone();
            o.insert(name.to_string(), v);
            out.push((Value::Object(o), format!("`{name}` {what}")));
        };
        let integer = type_of(&p) == Some("integer");
        for (key, label) in [("minimum", "at its minimum"), ("maximum", "at its maximum")] {
            if let Some(x) = p.get(key).and_then(Value::as_f64) {
                let v = if integer { Value::from(x as i64) } else { json!(x) };
                with(v.clone(), format!("{label} ({v})"));
            }
        }
        if let Some(m) = p.get("maxLength").and_then(Value::as_u64).filter(|m| *m <= 10_000) {
            if p.get("pattern").is_none() && p.get("format").is_none() {
                with(Value::String("x".repeat(m as usize)), format!("at its maxLength ({m})"));
            }
        }
        if let Some(values) = p.get("enum").and_then(Value::as_array) {
            for v in values.iter().skip(1).take(2) {
                with(v.clone(), format!("= {v} (from its enum)"));
            }
        }
    }
    out
}

/// A kind of invalid body, named as Schemathesis' negative testing names its mutations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mutation {
    /// A number below `minimum` or above `maximum`.
    OutOfRange,
    /// A string longer than `maxLength`.
    TooLong,
    /// A value outside the `enum`.
    NotInEnum,
    /// A required property left out.
    MissingRequired,
    /// A property (or the whole body) of another type.
    WrongType,
    /// A property the schema does not allow (`additionalProperties: false`).
    ExtraProperty,
    /// Bytes that are not JSON.
    MalformedJson,
    /// A valid body sent with a media type the operation does not accept.
    WrongContentType,
}

/// An invalid request body and what makes it invalid.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub mutation: Mutation,
    /// `` `quantity` above its maximum (100) ``.
    pub what: String,
    pub body: Vec<u8>,
    /// The media type to send it as.
    pub content_type: String,
}

/// Invalid bodies derived from the valid `base` for `schema` (refs inlined), one per
/// mutation class that applies (the first property it applies to), sent as `media`.
pub fn invalid(schema: &Value, base: &Value, media: &str) -> Vec<Invalid> {
    let s = effective(schema);
    let mut out = Vec::new();
    let mut add = |mutation: Mutation, what: String, body: Vec<u8>, ct: &str| {
        if !out.iter().any(|i: &Invalid| i.mutation == mutation) {
            out.push(Invalid {
                mutation,
                what,
                body,
                content_type: ct.to_string(),
            });
        }
    };
    let json_bytes = |v: &Value| v.to_string().into_bytes();
    add(
        Mutation::MalformedJson,
        "a body that is not JSON".into(),
        b"{\"unterminated".to_vec(),
        media,
    );
    add(
        Mutation::WrongContentType,
        "a valid body sent as `text/plain`".into(),
        json_bytes(base),
        "text/plain",
    );
    match (type_of(&s), base.as_object()) {
        (Some("object"), Some(obj)) | (None, Some(obj)) => {
            add(
                Mutation::WrongType,
                "an array where the schema wants an object".into(),
                b"[]".to_vec(),
                media,
            );
            if let Some(name) = required(&s).into_iter().find(|n| obj.contains_key(*n)) {
                let mut o = obj.clone();
                o.remove(name);
                add(
                    Mutation::MissingRequired,
                    format!("the required property `{name}` left out"),
                    json_bytes(&Value::Object(o)),
                    media,
                );
            }
            if s.get("additionalProperties") == Some(&Value::Bool(false)) {
                let mut o = obj.clone();
                let mut extra = "unexpectedProperty".to_string();
                while o.contains_key(&extra) {
                    extra.push('x');
                }
                o.insert(extra.clone(), json!(1));
                add(
                    Mutation::ExtraProperty,
                    format!("a property `{extra}` the schema does not allow"),
                    json_bytes(&Value::Object(o)),
                    media,
                );
            }
            for (name, prop) in properties(&s) {
                if !obj.contains_key(name) {
                    continue;
                }
                let p = effective(prop);
                let mut with = |mutation: Mutation, v: Value, what: String| {
                    let mut o = obj.clone();
                    o.insert(name.to_string(), v);
                    add(
                        mutation,
                        format!("`{name}` {what}"),
                        json_bytes(&Value::Object(o)),
                        media,
                    );
                };
                let integer = type_of(&p) == Some("integer");
                if let Some(max) = p.get("maximum").and_then(Value::as_f64) {
                    let v = if integer {
                        Value::from(max as i64 + 1)
                    } else {
                        json!(max + 1.0)
                    };
                    with(Mutation::OutOfRange, v.clone(), format!("above its maximum ({v})"));
                } else if let Some(min) = p.get("minimum").and_then(Value::as_f64) {
                    let v = if integer {
                        Value::from(min as i64 - 1)
                    } else {
                        json!(min - 1.0)
                    };
                    with(Mutation::OutOfRange, v.clone(), format!("below its minimum ({v})"));
                }
                if let Some(m) = p.get("maxLength").and_then(Value::as_u64).filter(|m| *m < 10_000) {
                    with(
                        Mutation::TooLong,
                        Value::String("x".repeat(m as usize + 1)),
                        format!("longer than its maxLength ({m})"),
                    );
                }
                if let Some(values) = p.get("enum").and_then(Value::as_array) {
                    let mut candidate = "not-a-listed-value".to_string();
                    while values.iter().any(|v| v.as_str() == Some(candidate.as_str())) {
                        candidate.push('x');
                    }
                    with(Mutation::NotInEnum, Value::String(candidate), "outside its enum".into());
                }
                match type_of(&p) {
                    Some("integer") | Some("number") => with(
                        Mutation::WrongType,
                        json!("not-a-number"),
                        "a string where it wants a number".into(),
                    ),
                    Some("string") => with(
                        Mutation::WrongType,
                        json!(12345),
                        "a number where it wants a string".into(),
                    ),
                    Some("boolean") => with(
                        Mutation::WrongType,
                        json!("yes"),
                        "a string where it wants a boolean".into(),
                    ),
                    Some("array") => with(
                        Mutation::WrongType,
                        json!({}),
                        "an object where it wants an array".into(),
                    ),
                    _ => {}
                }
            }
        }
        (Some("array"), _) => add(
            Mutation::WrongType,
            "an object where the schema wants an array".into(),
            b"{}".to_vec(),
            media,
        ),
        _ => {}
    }
    out.sort_by_key(|i| i.mutation);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Value {
        json!({
            "type": "object",
            "required": ["sku", "quantity"],
            "additionalProperties": false,
            "properties": {
                "orderId": {"type": "string", "readOnly": true},
                "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{3}$", "maxLength": 7},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
                "priority": {"type": "string", "enum": ["low", "normal", "high"]},
                "note": {"type": "string", "minLength": 3, "maxLength": 20},
                "tags": {"type": "array", "items": {"type": "string", "format": "uuid"}}
            }
        })
    }

    #[test]
    fn a_built_value_is_valid_against_its_schema() {
        let schema = order();
        let v = build(&schema, 0).unwrap();
        assert_eq!(
            v,
            json!({"sku": "ABC-123", "quantity": 1, "priority": "low", "note": "probe",
                   "tags": ["00000000-0000-4000-8000-000000000001"]})
        );
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&v));
        // Every boundary variant is valid too.
        for b in valid(&json!({"schema": schema.clone()}), 20) {
            assert!(validator.is_valid(&b.value), "{} is invalid: {}", b.origin, b.value);
        }
    }

    #[test]
    fn examples_come_first_then_the_schema_then_boundaries() {
        let media = json!({
            "schema": order(),
            "examples": {"rush": {"value": {"sku": "KET-001", "quantity": 2, "priority": "high"}}}
        });
        let got: Vec<String> = valid(&media, 10).into_iter().map(|v| v.origin).collect();
        assert_eq!(
            got,
            [
                "the document's example `rush`",
                "built from the schema",
                // `quantity` at its minimum (1) is the built value itself: not sent twice.
                "`quantity` at its maximum (100)",
                "`priority` = \"normal\" (from its enum)",
                "`priority` = \"high\" (from its enum)",
                "`note` at its maxLength (20)",
            ]
        );
        assert_eq!(valid(&media, 2).len(), 2, "the limit holds");
    }

    #[test]
    fn every_mutation_class_breaks_the_schema() {
        let schema = order();
        let base = build(&schema, 0).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let got = invalid(&schema, &base, "application/json");
        let classes: Vec<Mutation> = got.iter().map(|i| i.mutation).collect();
        assert_eq!(
            classes,
            [
                Mutation::OutOfRange,
                Mutation::TooLong,
                Mutation::NotInEnum,
                Mutation::MissingRequired,
                Mutation::WrongType,
                Mutation::ExtraProperty,
                Mutation::MalformedJson,
                Mutation::WrongContentType,
            ]
        );
        for i in &got {
            match i.mutation {
                Mutation::MalformedJson => assert!(serde_json::from_slice::<Value>(&i.body).is_err()),
                Mutation::WrongContentType => {
                    assert_eq!(i.content_type, "text/plain");
                    assert!(validator.is_valid(&serde_json::from_slice(&i.body).unwrap()));
                }
                _ => {
                    let v: Value = serde_json::from_slice(&i.body).unwrap();
                    assert!(!validator.is_valid(&v), "{} is valid: {v}", i.what);
                }
            }
        }
    }

    #[test]
    fn all_of_is_merged_and_one_of_takes_its_first_member() {
        let schema = json!({
            "allOf": [
                {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "minimum": 5}}},
                {"required": ["b"], "properties": {"b": {"oneOf": [{"type": "boolean"}, {"type": "string"}]}}}
            ]
        });
        let v = build(&schema, 0).unwrap();
        assert_eq!(v, json!({"a": 5, "b": true}));
        let got = invalid(&schema, &v, "application/json");
        assert!(
            got.iter().any(|i| i.what == "the required property `a` left out"),
            "{got:?}"
        );
    }

    #[test]
    fn an_unmatchable_pattern_on_a_required_property_gives_no_body() {
        let schema = json!({"type": "object", "required": ["code"],
            "properties": {"code": {"type": "string", "pattern": "^[0-9]{16}$"}}});
        assert_eq!(build(&schema, 0), None);
        let optional = json!({"type": "object",
            "properties": {"code": {"type": "string", "pattern": "^[0-9]{16}$"}}});
        assert_eq!(build(&optional, 0), Some(json!({})));
    }

    #[test]
    fn bounds_exclusive_and_multiple_of_are_respected() {
        assert_eq!(number_in(&json!({"minimum": 10, "exclusiveMinimum": true}), true), 11.0);
        assert_eq!(number_in(&json!({"exclusiveMinimum": 10}), true), 11.0);
        assert_eq!(number_in(&json!({"maximum": 0.5}), false), 0.5);
        assert_eq!(number_in(&json!({"minimum": 7, "multipleOf": 5}), true), 10.0);
    }
}
