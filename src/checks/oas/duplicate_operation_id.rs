use std::collections::BTreeMap;

use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct DuplicateOperationId;

const DOCS: &str = r#"## What it checks
That every operation (under `paths`, and `webhooks` in OpenAPI 3.1) has an `operationId`, a
non-empty string, and that no two operations of the same document share one (the comparison
is case-sensitive, as in the specification). Partial credit: operations with a unique id /
operations; for a duplicated id the first operation keeps the credit.

## Why it matters
The `operationId` is the stable name of an operation in a contract-first workflow (Week 2):
code generators name client methods and server handlers after it, contract tests and the
gateway's routes refer to it, and the API-evolution checks match operations across versions
by it. A missing id yields generated names like `ordersOrderIdGet` that change whenever the
path does; a duplicate breaks generation outright.

## How to fix
Give each operation a unique, verb-first camelCase id that describes what it does.

## Example
```yaml
paths:
  /v1/orders:
    get:
      operationId: listOrders
    post:
      operationId: placeOrder
  /v1/orders/{orderId}:
    get:
      operationId: getOrder
```
"#;

impl TypedCheck for DuplicateOperationId {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS003",
        name: "duplicate-operation-id",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An operation has no operationId, or shares it with another operation",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations have a unique operationId",
                "the documents have no operations",
            ),
            Err(r) => r,
        }
    }
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    let mut by_id: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        match op.op.get("operationId") {
            Some(n) => match n.value.as_str().map(str::trim) {
                Some(id) if !id.is_empty() => by_id.entry(id).or_default().push(i),
                Some(_) => {
                    t.unit(false);
                    t.issue(
                        &n,
                        Some(op.label()),
                        "`operationId` is empty",
                        "name the operation, e.g. `listOrders`",
                    );
                }
                None => {
                    t.unit(false);
                    t.issue(
                        &n,
                        Some(op.label()),
                        "`operationId` must be a string",
                        "write a name such as `listOrders`",
                    );
                }
            },
            None => {
                t.unit(false);
                t.issue(
                    &op.op,
                    Some(op.label()),
                    "the operation has no `operationId`",
                    "add a unique, verb-first camelCase `operationId` such as `getOrder`",
                );
            }
        }
    }
    for (id, uses) in by_id {
        t.unit(true);
        for _ in 1..uses.len() {
            t.unit(false);
        }
        if uses.len() > 1 {
            let labels: Vec<String> = uses.iter().map(|&i| ops[i].label()).collect();
            let Some(at) = ops[uses[1]].op.get("operationId") else {
                continue;
            };
            t.issue(
                &at,
                None,
                format!(
                    "operationId `{id}` is used by {} operations: {}",
                    uses.len(),
                    labels.join(", ")
                ),
                "operationIds must be unique in the document: rename all but one",
            );
        }
    }
}
