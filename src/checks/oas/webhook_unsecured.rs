use super::walk::{check_apis, Api, Operation, Tally, METHODS};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct WebhookUnsecured;

const DOCS: &str = r#"## What it checks
That every outgoing call the API makes to its consumers says how the receiver can trust it:
each operation of OpenAPI 3.1 `webhooks` and of `callbacks` (of operations under `paths`)
either has a non-empty `security` requirement of its own, or documents a signature header
parameter (a header whose name contains `Signature`, such as `X-Signature`,
`Webhook-Signature` or `X-Hub-Signature-256`). Skipped when the documents have no webhooks
or callbacks. Partial credit: secured webhook and callback operations / webhook and callback
operations.

## Why it matters
A webhook endpoint is a public URL that anyone can call: unless the payload is signed (or
the call authenticated), the consumer cannot tell your event from a forged one (Week 4:
API gateway and secure service-to-service communication; Week 2: API strategy, the contract
states how consumers verify calls). Documenting the signature in the contract lets
consumers implement and test verification before the first event arrives.

## How to fix
Add a signature header parameter (and say in its description how it is computed), or a
`security` requirement naming the scheme the API uses to call the consumer.

## Example
```yaml
webhooks:
  orderShipped:
    post:
      operationId: orderShipped
      parameters:
        - name: Webhook-Signature
          in: header
          required: true
          description: HMAC-SHA256 of the raw body with the shared secret, hex encoded.
          schema: {type: string}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/OrderShipped'}
      responses:
        '204': {description: Received.}
```
"#;

impl TypedCheck for WebhookUnsecured {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS029",
        name: "webhook-or-callback-unsecured",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A webhook or callback operation documents no security requirement or signature header",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "webhook and callback operations are secured or signed",
                "the documents have no webhooks or callbacks",
            ),
            Err(r) => r,
        }
    }
}

/// The operations of the callbacks of the operations under `paths`, labelled
/// `callback <name> <expression> <METHOD>` through their `path`.
fn callback_operations<'s>(api: &'s Api<'_>) -> Vec<(String, Operation<'s>)> {
    let mut out = Vec::new();
    for op in api.operations() {
        let Some(callbacks) = op.op.get("callbacks") else {
            continue;
        };
        for (name, cb) in callbacks.entries() {
            let cb = api.deref(cb);
            for (expr, item) in cb.entries() {
                let item = api.deref(item);
                if !item.value.is_object() {
                    continue;
                }
                for m in METHODS {
                    let Some(node) = item.get(m) else { continue };
                    let node = api.deref(node);
                    if !node.value.is_object() {
                        continue;
                    }
                    let label = format!(
                        "callback `{name}` `{expr}` {} of {}",
                        m.to_ascii_uppercase(),
                        op.label()
                    );
                    out.push((
                        label,
                        Operation {
                            path: expr,
                            method: m,
                            item: item.clone(),
                            op: node,
                            webhook: true,
                        },
                    ));
                }
            }
        }
    }
    out
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops: Vec<(String, Operation<'_>)> = api.webhook_operations().into_iter().map(|o| (o.label(), o)).collect();
    ops.extend(callback_operations(api));
    for (label, op) in ops {
        let secured = op.op.get("security").is_some_and(|s| !s.items().is_empty());
        let signed = api
            .parameters(&op)
            .iter()
            .any(|p| p.location.eq_ignore_ascii_case("header") && p.name.to_ascii_lowercase().contains("signature"));
        let ok = secured || signed;
        t.unit(ok);
        if !ok {
            t.issue(
                &op.op,
                Some(label),
                "the call to the consumer documents neither a `security` requirement nor a signature header, so \
                 receivers cannot tell it from a forged one",
                "add a header parameter such as `Webhook-Signature` (required, describing how the signature is \
                 computed) or a `security` requirement to the operation",
            );
        }
    }
}
