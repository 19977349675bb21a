use super::walk::{self, check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct BodyWithoutSchema;

const DOCS: &str = r#"## What it checks
That every media type of every request body and response (of operations under `paths` and
`webhooks`) has a `schema`. In OpenAPI 3.1 a binary media type (`application/octet-stream`,
`image/*`, `application/pdf`, ...) may omit it, as the specification recommends. Partial
credit: operations whose bodies all have a schema / operations with bodies; a shared response
component without schema is reported once, with the operations that use it.

## Why it matters
A body without a schema is an untyped contract (Week 2: contract-first design): nothing can
be validated, generated or contract-tested, and any change to the payload is invisible to the
breaking-change checks. Consumers end up reverse-engineering the payload from examples.

## How to fix
Add a `schema`, preferably a `$ref` to a named component.

## Example
```yaml
content:
  application/json:
    schema: {$ref: '#/components/schemas/Order'}
```
"#;

impl TypedCheck for BodyWithoutSchema {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS009",
        name: "body-without-schema",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A request or response body media type has no schema",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations with bodies have a schema for each",
                "no operation has a request or response body",
            ),
            Err(r) => r,
        }
    }
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    for op in ops {
        let bodies = api.bodies(&op);
        if bodies.is_empty() {
            continue;
        }
        let mut ok = true;
        for b in bodies {
            let has = b.node.value.get("schema").is_some() || b.node.value.get("itemSchema").is_some();
            if has || (api.is_31() && walk::is_binary_media(b.media)) {
                continue;
            }
            ok = false;
            t.issue(
                &b.node,
                Some(op.label()),
                format!("{} has no schema", b.label(&op)),
                "add `schema:` (e.g. `schema: {$ref: '#/components/schemas/Order'}`) to the media type",
            );
        }
        t.unit(ok);
    }
}
