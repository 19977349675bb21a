use serde_json::{Map, Value};

use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct UntypedObject;

const DOCS: &str = r#"## What it checks
That schemas describe their data. A schema is reported as a free-form object when it is
`type: object` (or a 3.1 type list with `object`) and has none of `properties`,
`additionalProperties`, `patternProperties`, `allOf`/`oneOf`/`anyOf`, `$ref`, `not`,
`unevaluatedProperties`, `propertyNames`, `discriminator`, `enum` or `const`; or when it has no
`type` and nothing but annotations (`description`, `example`, ...), i.e. `{}`. Every Schema
Object of the description counts once (components, parameters, bodies, headers, nested
properties and items, and schemas in referenced files); a `$ref` is counted where its target
is defined. Explicit `additionalProperties` (even `true` or `{}`) is a deliberate map and
passes, and so do the subschemas of `not`, `if`/`then`/`else` and `additionalProperties`.
Partial credit: schemas that are not free-form / schemas.

## Why it matters
A free-form object is a hole in the contract (Week 2: contract-first design, backward-
compatible evolution): anything goes in, so nothing is validated, documented or generated,
and a breaking change inside it cannot be detected. It is also where undocumented coupling
between services grows.

## How to fix
List the properties (with `required`), refer to a named schema with `$ref`, or, for a real
map, say so with `additionalProperties: {type: string}`.

## Example
```yaml
Order:
  type: object
  required: [orderId]
  properties:
    orderId: {type: string}
    attributes:                 # a map of strings, said explicitly
      type: object
      additionalProperties: {type: string}
```
"#;

impl TypedCheck for UntypedObject {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS010",
        name: "untyped-object",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A schema is a free-form object: no properties, additionalProperties, composition or $ref",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish("schemas are typed", "the documents have no schemas"),
            Err(r) => r,
        }
    }
}

/// Keywords that give an object its shape (or make the schema something else).
const SHAPING: &[&str] = &[
    "properties",
    "additionalProperties",
    "patternProperties",
    "allOf",
    "oneOf",
    "anyOf",
    "$ref",
    "$dynamicRef",
    "not",
    "unevaluatedProperties",
    "propertyNames",
    "dependentSchemas",
    "if",
    "discriminator",
    "enum",
    "const",
];

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "example",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "nullable",
    "externalDocs",
    "xml",
    "$comment",
    "$id",
    "$schema",
    "$anchor",
    "$dynamicAnchor",
];

/// Whether the schema `map` is a free-form object, and which form.
pub fn free_form(map: &Map<String, Value>) -> Option<&'static str> {
    if SHAPING.iter().any(|k| map.contains_key(*k)) {
        return None;
    }
    match map.get("type") {
        Some(Value::String(t)) if t == "object" => Some("free-form object: `type: object` with no properties"),
        Some(Value::Array(ts)) if ts.iter().any(|t| t == "object") => {
            Some("free-form object: an object type with no properties")
        }
        Some(_) => None,
        None => {
            let only_annotations = map
                .keys()
                .all(|k| ANNOTATIONS.contains(&k.as_str()) || k.starts_with("x-"));
            only_annotations.then_some("untyped schema: no `type` and no constraints (any value)")
        }
    }
}

/// Subschema positions where an unconstrained schema is a deliberate choice.
fn exempt_position(pointer: &str) -> bool {
    let last = pointer.rsplit('/').next().unwrap_or("");
    matches!(
        last,
        "not"
            | "if"
            | "then"
            | "else"
            | "additionalProperties"
            | "unevaluatedProperties"
            | "propertyNames"
            | "contains"
            | "additionalItems"
            | "unevaluatedItems"
            | "contentSchema"
    )
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    api.visit_schemas(|node| {
        let Some(map) = node.object() else { return };
        if node.ref_str().is_some() {
            return;
        }
        let problem = if exempt_position(&node.pointer) {
            None
        } else {
            free_form(map)
        };
        t.unit(problem.is_none());
        if let Some(what) = problem {
            t.issue(
                node,
                None,
                what,
                "list its `properties` (with `required`), use a `$ref` to a named schema, or declare a map with \
                 `additionalProperties: {type: string}`",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::free_form;
    use serde_json::json;

    #[test]
    fn forms() {
        let f = |v: serde_json::Value| free_form(v.as_object().unwrap()).is_some();
        assert!(f(json!({"type": "object"})));
        assert!(f(json!({"type": ["object", "null"], "description": "x"})));
        assert!(f(json!({})));
        assert!(f(json!({"description": "anything"})));
        assert!(!f(json!({"type": "object", "additionalProperties": true})));
        assert!(!f(json!({"type": "object", "properties": {}})));
        assert!(!f(json!({"type": "string"})));
        assert!(!f(json!({"required": ["a"]})));
        assert!(!f(json!({"format": "date"})));
        assert!(!f(json!({"$ref": "#/x", "description": "y"})));
        assert!(!f(json!({"type": "null"})));
    }
}
