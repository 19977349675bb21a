use std::collections::BTreeMap;

use super::walk::{check_apis, Api, Node, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct OperationUndescribed;

const DOCS: &str = r#"## What it checks
That every operation (under `paths`, and `webhooks` in OpenAPI 3.1) has a non-empty
`summary` or `description`, and that every tag its `tags` names is declared in the
document's top-level `tags` list with a non-empty `description`. One finding per
undescribed operation, and one per undeclared or undescribed tag (listing the operations
that use it). Partial credit: operations that are described and whose tags are all declared
with a description / operations.

## Why it matters
The OpenAPI document is the API's documentation and the contract consumers build against
(Week 2: contract-first design, API documentation). An operation without a summary or
description leaves its purpose to be guessed from the path; tags group operations by
resource or capability in generated documentation and clients, and a tag without a
declaration has no description and an arbitrary order, which hides how the API is organised.

## How to fix
Give each operation a one-line `summary` (and a `description` for the details), and declare
each tag once at the top level with a `description`.

## Example
```yaml
tags:
  - name: orders
    description: Placing, tracking and cancelling orders.
paths:
  /v1/orders:
    post:
      tags: [orders]
      summary: Place an order
      operationId: placeOrder
```
"#;

impl TypedCheck for OperationUndescribed {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS026",
        name: "operation-undescribed",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An operation has no summary or description, or uses a tag not declared with a description",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations are described and use described tags",
                "the documents have no operations",
            ),
            Err(r) => r,
        }
    }
}

fn text(n: &Node<'_>, key: &str) -> bool {
    n.str(key).is_some_and(|s| !s.trim().is_empty())
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let root = api.root();
    // Declared tags: name -> (entry, has a description).
    let mut declared: BTreeMap<&str, (Node<'_>, bool)> = BTreeMap::new();
    if let Some(tags) = root.get("tags") {
        for entry in tags.items() {
            if let Some(name) = entry.str("name") {
                declared
                    .entry(name)
                    .or_insert_with(|| (entry.clone(), text(&entry, "description")));
            }
        }
    }
    let mut first_use: BTreeMap<&str, Node<'_>> = BTreeMap::new();
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    for op in ops {
        let mut ok = true;
        if !text(&op.op, "summary") && !text(&op.op, "description") {
            ok = false;
            let at = op.op.get("operationId").unwrap_or(op.op.clone());
            t.issue(
                &at,
                Some(op.label()),
                "the operation has no `summary` or `description`",
                "add a one-line `summary:` saying what the operation does (and a `description:` for details)",
            );
        }
        if let Some(tags) = op.op.get("tags") {
            for item in tags.items() {
                let Some(name) = item.value.as_str() else { continue };
                match declared.get(name) {
                    Some((_, true)) => {}
                    Some((entry, false)) => {
                        ok = false;
                        t.issue(
                            entry,
                            Some(op.label()),
                            format!("the tag `{name}` has no `description`"),
                            "add a `description:` saying what the operations of this tag are about",
                        );
                    }
                    None => {
                        ok = false;
                        // Reported once, at the tag's first use.
                        let at = first_use.entry(name).or_insert_with(|| item.clone()).clone();
                        t.issue(
                            &at,
                            Some(op.label()),
                            format!("the tag `{name}` is used but not declared in the top-level `tags`"),
                            format!("declare it: `tags: [{{name: {name}, description: ...}}]` at the top level"),
                        );
                    }
                }
            }
        }
        t.unit(ok);
    }
}
