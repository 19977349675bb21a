use super::walk::{check_apis, default_exempt, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ResponseHeaderUndocumented;

const DOCS: &str = r#"## What it checks
That responses whose meaning depends on a header document it under `headers`: a `201`
(Created) response documents `Location` (the URL of the new resource), and `429` (Too Many
Requests) and `503` (Service Unavailable) responses document `Retry-After`. Header names
compare case-insensitively. Operations under `paths` that have at least one of these
responses are checked, except operational endpoints (a path segment such as `health`,
`readyz` or `metrics`: a probe's `503` is read by the orchestrator, not retried by clients). Partial credit: such operations whose responses all document their
header / such operations; a shared response component is reported once, with the operations
that use it.

## Why it matters
`Location` is how a client finds what it just created without parsing the body (Week 2:
RESTful API design). `Retry-After` is what makes retries safe (Week 4: retry and circuit
breaker patterns): a client that knows when to come back backs off instead of hammering an
overloaded or rate-limited service, and generated clients and gateways can honour it only
if the contract declares it.

## How to fix
Add the header to the response's `headers`, with a schema and a description.

## Example
```yaml
responses:
  '201':
    description: The order was placed.
    headers:
      Location:
        description: URL of the new order.
        schema: {type: string, format: uri-reference}
  '429':
    description: Too many requests.
    headers:
      Retry-After:
        description: Seconds to wait before retrying.
        schema: {type: integer, minimum: 0}
```
"#;

impl TypedCheck for ResponseHeaderUndocumented {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS028",
        name: "response-header-undocumented",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A 201 response documents no Location header, or a 429/503 response no Retry-After",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations with 201, 429 or 503 responses document Location / Retry-After",
                "no operation has a 201, 429 or 503 response",
            ),
            Err(r) => r,
        }
    }
}

/// The header a response with this status code should document.
fn expected(code: &str) -> Option<(&'static str, &'static str)> {
    match code.trim() {
        "201" => Some((
            "Location",
            "add `headers: {Location: {description: URL of the new resource, schema: {type: string, format: \
             uri-reference}}}` to the response",
        )),
        "429" | "503" => Some((
            "Retry-After",
            "add `headers: {Retry-After: {description: Seconds to wait before retrying, schema: {type: integer, \
             minimum: 0}}}` to the response",
        )),
        _ => None,
    }
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let exempt = default_exempt();
    for op in api.operations() {
        if op.is_exempt(&exempt) {
            continue;
        }
        let mut relevant = false;
        let mut ok = true;
        for r in api.responses(&op) {
            let Some((header, help)) = expected(r.code) else {
                continue;
            };
            relevant = true;
            let has = r
                .node
                .get("headers")
                .is_some_and(|h| h.entries().iter().any(|(k, _)| k.trim().eq_ignore_ascii_case(header)));
            if !has {
                ok = false;
                t.issue(
                    &r.node,
                    Some(op.label()),
                    format!("response {} does not document the `{header}` header", r.code.trim()),
                    help,
                );
            }
        }
        if relevant {
            t.unit(ok);
        }
    }
}
