use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use serde_json::Value;

use super::walk::{check_apis, Api, Node, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct StringUnbounded;

const DOCS: &str = r#"## What it checks
That the string properties of request bodies (of operations under `paths` and `webhooks`,
following `$ref`s, `allOf`/`anyOf`/`oneOf`, array `items` and `additionalProperties`) are
bounded: each has a `maxLength`, an `enum` (or `const`), a `format` or a `pattern`.
`readOnly` properties are ignored, since clients do not send them. Partial credit: bounded
string properties / string properties (each property schema counted once per document,
however many operations use it); a property of a shared schema is reported once, with the
operations that send it.

## Why it matters
Every field a client sends is input to validate at the edge (Week 4: API gateway; Week 2:
contract-first design). An unbounded string lets one request carry megabytes in a name
field, which ends up in the database, the logs and every event that copies it: the OWASP API
Security Top 10 lists this as API4, unrestricted resource consumption. A bound in the
contract is enforced by the gateway and by generated validators for free, and tells
consumers what the service accepts.

## How to fix
Give each string property a `maxLength` (or an `enum`, a `format` such as `uuid`, `email`,
`date-time`, or a `pattern`).

## Example
```yaml
OrderRequest:
  type: object
  properties:
    customerId: {type: string, format: uuid}
    note: {type: string, maxLength: 500}
    currency: {type: string, pattern: '^[A-Z]{3}$'}
```
"#;

impl TypedCheck for StringUnbounded {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS031",
        name: "string-unbounded",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A string property of a request body has no maxLength, enum, format or pattern",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "string properties of request bodies are bounded",
                "no request body has a string property",
            ),
            Err(r) => r,
        }
    }
}

fn is_string(schema: &Node<'_>) -> bool {
    match schema.value.get("type") {
        Some(Value::String(s)) => s == "string",
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some("string")),
        _ => false,
    }
}

fn bounded(schema: &Node<'_>) -> bool {
    ["maxLength", "enum", "const", "format", "pattern"]
        .iter()
        .any(|k| schema.value.get(k).is_some())
}

/// Collects the string properties reachable from `schema`: `(property name, resolved schema)`.
fn collect<'s>(
    api: &'s Api<'_>,
    schema: Node<'s>,
    seen: &mut BTreeSet<(&'s str, String)>,
    out: &mut Vec<(String, Node<'s>)>,
) {
    let schema = api.deref(schema);
    if !schema.value.is_object() || !seen.insert((schema.file, schema.pointer.clone())) {
        return;
    }
    if let Some(props) = schema.get("properties") {
        for (name, prop) in props.entries() {
            let prop = api.deref(prop);
            if prop.flag("readOnly") {
                continue;
            }
            if is_string(&prop) {
                out.push((name.to_string(), prop.clone()));
            }
            collect(api, prop, seen, out);
        }
    }
    for k in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = schema.get(k) {
            for s in list.items() {
                collect(api, s, seen, out);
            }
        }
    }
    for k in ["items", "additionalProperties"] {
        if let Some(s) = schema.get(k) {
            collect(api, s, seen, out);
        }
    }
}

/// String properties: `(property name, resolved schema)`.
type StringProps<'s> = Vec<(String, Node<'s>)>;

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    let mut counted: BTreeSet<(&str, String)> = BTreeSet::new();
    // The string properties reachable from a schema, by schema: the request bodies of a large
    // description share their schemas many times over. (Which properties an operation has is
    // all that counts, not the order they are found in.)
    let mut memo: HashMap<(&str, String), Rc<StringProps<'_>>> = HashMap::new();
    for op in &ops {
        let Some(rb) = api.request_body(op) else { continue };
        let label = op.label();
        for (_, media) in api.content(&rb) {
            let Some(schema) = media.get("schema") else { continue };
            let schema = api.deref(schema);
            let key = (schema.file, schema.pointer.clone());
            let props = match memo.get(&key) {
                Some(p) => Rc::clone(p),
                None => {
                    let mut props = Vec::new();
                    collect(api, schema, &mut BTreeSet::new(), &mut props);
                    let p = Rc::new(props);
                    memo.insert(key, Rc::clone(&p));
                    p
                }
            };
            for (name, prop) in props.iter() {
                let ok = bounded(prop);
                if counted.insert((prop.file, prop.pointer.clone())) {
                    t.unit(ok);
                }
                if !ok {
                    t.issue(
                        prop,
                        Some(label.clone()),
                        format!("string property `{name}` of the request body is unbounded"),
                        "add `maxLength:` (or an `enum`, a `format` such as `uuid` or `email`, or a `pattern`)",
                    );
                }
            }
        }
    }
}
