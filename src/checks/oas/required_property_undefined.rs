use serde_json::Value;

use super::walk::{check_apis, list, squash, Api, Node, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct RequiredPropertyUndefined;

const DOCS: &str = r#"## What it checks
That every name listed in a schema's `required` is a property the schema defines: in its own
`properties`, in the parts of its `allOf` / `anyOf` / `oneOf` (following `$ref`s), or, for a
schema that is itself a part of a composition (`allOf: [{$ref: Base}, {required: [id]}]`), in
the schema that composes it. A schema that allows other properties explicitly
(`additionalProperties: true` or a schema, `patternProperties`, `unevaluatedProperties`) is
not checked, nor is a `required`-only fragment without `properties` or `type: object`.
Partial credit: schemas whose required properties are all defined / schemas with `required`.

## Why it matters
`required` is how the contract says which fields a client can rely on (Week 2: contract-first
design). A name that matches no property is almost always a typo or a leftover from a
rename: the field the author meant stays optional for validators and code generators, while
every payload is rejected for lacking a field that no one sends (Week 4: contract tests fail
against the provider).

## How to fix
Correct the name (property names are case-sensitive), add the property under `properties`,
or remove it from `required`.

## Example
```yaml
Order:
  type: object
  required: [orderId, status]
  properties:
    orderId: {type: string}
    status: {type: string}
```
"#;

impl TypedCheck for RequiredPropertyUndefined {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS022",
        name: "required-property-undefined",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A schema's `required` lists a property it does not define",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "schemas with `required` define every required property",
                "no schema lists `required` properties",
            ),
            Err(r) => r,
        }
    }
}

const MAX_DEPTH: usize = 16;

/// True when the schema lets any property in explicitly.
fn open(s: &Node<'_>) -> bool {
    let allows = |k: &str| match s.value.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Object(_)) => true,
        _ => false,
    };
    allows("additionalProperties")
        || allows("unevaluatedProperties")
        || s.value
            .get("patternProperties")
            .is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()))
}

/// The properties a schema defines (through `$ref` and its compositions); `None` when it is
/// open to any property.
fn collect(api: &Api<'_>, s: &Node<'_>, depth: usize, out: &mut Vec<String>) -> Option<()> {
    if depth > MAX_DEPTH {
        return Some(());
    }
    let s = match api.resolve(s) {
        Ok(n) => n,
        Err(_) => return None, // An unresolved reference: OAS002's business, do not guess.
    };
    if s.ref_str().is_none() && open(&s) {
        return None;
    }
    // `properties` may itself be a `$ref` to a map of properties (some descriptions do this).
    if let Some(props) = s.get("properties").map(|p| api.deref(p)) {
        if let Some(m) = props.value.as_object() {
            out.extend(m.keys().cloned());
        }
    }
    // A 3.1 schema may have a `$ref` with siblings: the target's properties count too.
    if let Some(own) = s.value.as_object() {
        if let (Some(r), true) = (own.get("$ref").and_then(Value::as_str), depth < MAX_DEPTH) {
            if let Ok(target) = api.resolve_one(s.file, r) {
                collect(api, &target, depth + 1, out)?;
            }
        }
    }
    for k in ["allOf", "anyOf", "oneOf"] {
        if let Some(parts) = s.get(k) {
            for part in parts.items() {
                collect(api, &part, depth + 1, out)?;
            }
        }
    }
    Some(())
}

/// The schema that composes `s` (`.../allOf/2` -> `...`), if `s` is a part of one.
fn parent<'s>(s: &Node<'s>) -> Option<Node<'s>> {
    let segs: Vec<&str> = s.pointer.split('/').collect();
    let n = segs.len();
    let cut = if n >= 3 && matches!(segs[n - 2], "allOf" | "anyOf" | "oneOf" | "dependentSchemas") {
        n - 2
    } else if n >= 2 && matches!(segs[n - 1], "not" | "if" | "then" | "else") {
        n - 1
    } else {
        return None;
    };
    let pointer = segs[..cut].join("/");
    let value = if pointer.is_empty() {
        &s.doc.value
    } else {
        crate::artifact::refs::value_at(&s.doc.value, &pointer)?
    };
    Some(Node {
        file: s.file,
        doc: s.doc,
        pointer,
        value,
    })
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    for s in api.schemas().iter() {
        let Some(required) = s.get("required").filter(|r| r.value.is_array()) else {
            continue;
        };
        let object = s.value.get("properties").is_some()
            || match s.value.get("type") {
                Some(Value::String(t)) => t == "object",
                Some(Value::Array(a)) => a.iter().any(|t| t.as_str() == Some("object")),
                _ => false,
            };
        if !object {
            continue;
        }
        let mut defined = Vec::new();
        let mut cur = Some(s.clone());
        let mut is_open = false;
        let mut hops = 0;
        while let Some(c) = cur {
            if collect(api, &c, 0, &mut defined).is_none() {
                is_open = true;
                break;
            }
            hops += 1;
            cur = if hops > MAX_DEPTH { None } else { parent(&c) };
        }
        if is_open {
            continue;
        }
        let mut ok = true;
        for item in required.items() {
            let Some(name) = item.value.as_str() else { continue };
            if defined.iter().any(|d| d == name) {
                continue;
            }
            ok = false;
            let near: Vec<String> = defined
                .iter()
                .filter(|d| squash(d) == squash(name))
                .map(|d| format!("`{d}`"))
                .collect();
            let mut known: Vec<String> = defined.iter().map(|d| format!("`{d}`")).collect();
            known.sort();
            known.dedup();
            let message = match near.first() {
                Some(d) => format!("`required` lists `{name}`, which is not a property (did you mean {d}?)"),
                None if known.is_empty() => format!("`required` lists `{name}`, but the schema defines no properties"),
                None => format!(
                    "`required` lists `{name}`, which is not a property (the properties are {})",
                    list(&known, 8)
                ),
            };
            t.issue(
                &item,
                None,
                message,
                format!("correct the name, add `{name}` under `properties`, or remove it from `required`"),
            );
        }
        t.unit(ok);
    }
}
