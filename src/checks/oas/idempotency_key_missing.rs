use serde::{Deserialize, Serialize};

use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct IdempotencyKeyMissing;

const DOCS: &str = r#"## What it checks
That `POST` operations that create resources take an idempotency key: a header parameter
named `header` (`Idempotency-Key` by default, compared case-insensitively) on the operation
or its Path Item. An operation creates when it documents a `201` response or its
`operationId` starts with `create`. Partial credit: creating POSTs with the header / creating
POSTs; skipped when there are none.

## Why it matters
`POST` is not idempotent: when a call times out, the client cannot know whether the order was
placed. Retries are the first resilience pattern of Week 4, and retrying a create without a
key creates duplicates (two orders, two payments). With an idempotency key the server
recognises the retry and returns the first result (Week 2: designing service interfaces;
Week 6: the same idea makes saga steps safe to retry).

## How to fix
Accept an `Idempotency-Key` header (a client-generated UUID), store the key with the result,
and answer a repeated key with the stored result (409 if the body differs).

## Example
```yaml
post:
  operationId: placeOrder
  parameters:
    - name: Idempotency-Key
      in: header
      required: true
      schema: {type: string, format: uuid}
  responses:
    '201': {description: Created.}
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The header's name.
    pub header: String,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            header: "Idempotency-Key".into(),
        }
    }
}

impl TypedCheck for IdempotencyKeyMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS015",
        name: "idempotency-key-missing",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A POST that creates a resource takes no Idempotency-Key header",
        docs: DOCS,
        params: &[ParamDoc {
            name: "header",
            ty: "string",
            description: "the idempotency header's name (case-insensitive)",
        }],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "creating POST operations take an idempotency key",
                "no POST operation creates a resource",
            ),
            Err(r) => r,
        }
    }
}

pub fn evaluate(api: &Api<'_>, p: &Params, t: &mut Tally) {
    for op in api.operations() {
        if op.method != "post" {
            continue;
        }
        let created = op.op.get("responses").is_some_and(|r| r.value.get("201").is_some());
        let named = op
            .operation_id()
            .is_some_and(|id| id.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("create")));
        if !created && !named {
            continue;
        }
        let has = api
            .parameters(&op)
            .iter()
            .any(|q| q.location.eq_ignore_ascii_case("header") && q.name.eq_ignore_ascii_case(&p.header));
        t.unit(has);
        if !has {
            let why = if created {
                "it returns 201".to_string()
            } else {
                format!("its operationId is `{}`", op.operation_id().unwrap_or_default())
            };
            t.issue(
                &op.op,
                Some(op.label()),
                format!("creates a resource ({why}) but takes no `{}` header", p.header),
                format!(
                    "add `- {{name: {}, in: header, required: true, schema: {{type: string, format: uuid}}}}` and \
                     return the stored result when a key is repeated",
                    p.header
                ),
            );
        }
    }
}
