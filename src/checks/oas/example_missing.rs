use serde_json::Value;

use super::walk::{self, check_apis, Api, Node, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ExampleMissing;

const DOCS: &str = r#"## What it checks
That every request and response body with a schema (binary media types aside) comes with an
example: `example` or `examples` on the media type, or on its schema (through `$ref`), or on
the items of an array schema, or on every property of an object schema. Operations under
`paths` and `webhooks` are checked; a shared response component without example is reported
once, with the operations that use it. Partial credit: operations whose bodies all have
examples / operations with bodies.

## Why it matters
Examples make a contract concrete (Week 2: contract-first workflows): reviewers understand
the payload at a glance, mock servers answer with them, documentation shows them and
consumer-driven contract tests start from them. An example written next to the schema is
also the first test of that schema.

## How to fix
Add a realistic `example` to the media type (or to the component schema it refers to).

## Example
```yaml
content:
  application/json:
    schema: {$ref: '#/components/schemas/Order'}
    example:
      orderId: ord_01HV3K8M2QZ9
      status: CONFIRMED
```
"#;

impl TypedCheck for ExampleMissing {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS011",
        name: "example-missing",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A request or response body has no example",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations with bodies have examples",
                "no operation has a request or response body with a schema",
            ),
            Err(r) => r,
        }
    }
}

fn has_own_example(v: &Value) -> bool {
    v.get("example").is_some()
        || match v.get("examples") {
            Some(Value::Object(m)) => !m.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            _ => false,
        }
}

/// Whether the schema (resolved) carries an example, directly, on its array items, on every
/// property, or on an `allOf` part.
pub fn schema_has_example(api: &Api<'_>, schema: &Node<'_>, depth: usize) -> bool {
    has_example(api, schema, depth, &mut Memo::new())
}

/// Verdicts of [`schema_has_example`] by schema (its value's address: one place of one file)
/// and depth: the bodies of a large description share their schemas many times over.
type Memo = std::collections::HashMap<(*const Value, usize), bool>;

fn has_example(api: &Api<'_>, schema: &Node<'_>, depth: usize, memo: &mut Memo) -> bool {
    if depth > 6 {
        return false;
    }
    let key = (schema.value as *const Value, depth);
    if let Some(known) = memo.get(&key) {
        return *known;
    }
    let found = has_example_uncached(api, schema, depth, memo);
    memo.insert(key, found);
    found
}

fn has_example_uncached(api: &Api<'_>, schema: &Node<'_>, depth: usize, memo: &mut Memo) -> bool {
    if has_own_example(schema.value) {
        return true;
    }
    let s = api.deref(schema.clone());
    if has_own_example(s.value) {
        return true;
    }
    if let Some(items) = s.get("items") {
        if items.value.is_object() && has_example(api, &items, depth + 1, memo) {
            return true;
        }
    }
    if let Some(parts) = s.get("allOf").or_else(|| s.get("oneOf")).or_else(|| s.get("anyOf")) {
        if parts.items().iter().any(|p| has_example(api, p, depth + 1, memo)) {
            return true;
        }
    }
    if let Some(props) = s.get("properties") {
        let entries = props.entries();
        if !entries.is_empty() && entries.iter().all(|(_, p)| has_example(api, p, depth + 1, memo)) {
            return true;
        }
    }
    false
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    let mut memo = Memo::new();
    for op in ops {
        let mut counted = false;
        let mut ok = true;
        for b in api.bodies(&op) {
            let Some(schema) = b.node.get("schema") else { continue };
            if walk::is_binary_media(b.media) {
                continue;
            }
            counted = true;
            if has_own_example(b.node.value) || has_example(api, &schema, 0, &mut memo) {
                continue;
            }
            ok = false;
            t.issue(
                &b.node,
                Some(op.label()),
                format!("{} has no example", b.label(&op)),
                "add a realistic `example:` to the media type or to the schema it refers to",
            );
        }
        if counted {
            t.unit(ok);
        }
    }
}
