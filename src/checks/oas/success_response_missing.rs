use super::walk::{self, check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct SuccessResponseMissing;

const DOCS: &str = r#"## What it checks
That every operation (under `paths`, and `webhooks` in OpenAPI 3.1) documents what happens
when it succeeds: at least one `2XX` or `3XX` response (an exact code such as `200`, `201`,
`204`, `302`, or a range `2XX`), or a `default` response. An operation without any
`responses` is reported too. Partial credit: operations with a success response /
operations.

## Why it matters
The success response is the heart of the contract (Week 2: RESTful API design): it says what
the client gets back, with which status and body. An operation that only lists errors leaves
clients guessing whether success is `200` with a body or `204` without one, and code
generators fall back to untyped results. Retry and timeout policies (Week 4) also need to
know which codes mean success.

## How to fix
Add the response the operation returns when it succeeds, with its body (or `204` when there
is none).

## Example
```yaml
post:
  operationId: placeOrder
  responses:
    '201':
      description: The order was placed.
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Order'}
    '400': {$ref: '#/components/responses/BadRequest'}
```
"#;

impl TypedCheck for SuccessResponseMissing {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS020",
        name: "success-response-missing",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An operation documents no 2XX, 3XX or default response",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations document a success response",
                "the documents have no operations",
            ),
            Err(r) => r,
        }
    }
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    for op in ops {
        let Some(responses) = op.op.get("responses").filter(|r| r.value.is_object()) else {
            t.unit(false);
            t.issue(
                &op.op,
                Some(op.label()),
                "the operation has no `responses`",
                "add `responses:` with the success response (e.g. `'200'` with its body, or `'204'`)",
            );
            continue;
        };
        let codes: Vec<&str> = responses.entries().iter().map(|(k, _)| *k).collect();
        let ok = codes
            .iter()
            .any(|c| *c == "default" || matches!(walk::status_class(c), Some('2' | '3')));
        t.unit(ok);
        if !ok {
            let listed = if codes.is_empty() {
                "`responses` is empty".to_string()
            } else {
                let codes: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
                format!("the responses are {}", codes.join(", "))
            };
            t.issue(
                &responses,
                Some(op.label()),
                format!("no success response: {listed}"),
                "add the response returned on success (`'200'`/`'201'` with its body, or `'204'`), or a \
                 `default` response",
            );
        }
    }
}
