use super::walk::{self, check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct ErrorResponsesUndocumented;

const DOCS: &str = r#"## What it checks
That every operation documents its failures: at least one client error (`4xx` or `4XX`) and
a server error (`5xx`, `5XX` or `default`). Operational endpoints (`/health`, `/metrics`, ...)
need only the server error. One finding per operation. Partial credit: operations that
document both / operations.

## Why it matters
Errors are part of the contract (Week 2). A client that does not know a call can answer 404,
409 or 422 cannot handle it; and the resilience patterns of Week 4 (retries with backoff,
circuit breakers, fallbacks) are configured per failure class: retry a 503, never a 400. An
operation that documents only `200` promises something no service can keep.

## How to fix
Add the client errors the operation can return (400 for validation, 401/403, 404 for unknown
ids, 409 for conflicts, 422 for business rules) and a 5XX or `default` response, ideally
shared components with one error schema (see OAS008).

## Example
```yaml
responses:
  '200': {description: OK.}
  '404': {$ref: '#/components/responses/NotFound'}
  default: {$ref: '#/components/responses/Problem'}
```
"#;

/// Only the exempt operational endpoints are configurable.
pub type Params = walk::ExemptParams;

impl TypedCheck for ErrorResponsesUndocumented {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS007",
        name: "error-responses-undocumented",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An operation documents no 4xx, or no 5xx/default, response",
        docs: DOCS,
        params: &[ParamDoc {
            name: "exempt_segments",
            ty: "array of strings",
            description: "path segments of operational endpoints (health, metrics, ...) that need no 4xx response",
        }],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations document client and server errors",
                "the documents have no operations",
            ),
            Err(r) => r,
        }
    }
}

pub fn evaluate(api: &Api<'_>, p: &Params, t: &mut Tally) {
    for op in api.operations() {
        let codes: Vec<&str> = op
            .op
            .get("responses")
            .map(|r| r.entries().into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default();
        let client = op.is_exempt(&p.exempt_segments) || codes.iter().any(|c| walk::status_class(c) == Some('4'));
        let server = codes
            .iter()
            .any(|c| *c == "default" || walk::status_class(c) == Some('5'));
        t.unit(client && server);
        let missing = match (client, server) {
            (true, true) => continue,
            (false, true) => "no client error (4xx) response is documented",
            (true, false) => "no server error (5xx or `default`) response is documented",
            (false, false) => "no error response is documented (neither 4xx nor 5xx/`default`)",
        };
        let at = op.op.get("responses").unwrap_or(op.op.clone());
        t.issue(
            &at,
            Some(op.label()),
            missing,
            "document the errors it can return, e.g. `'404': {$ref: '#/components/responses/NotFound'}` and \
             `default: {$ref: '#/components/responses/Problem'}`",
        );
    }
}
