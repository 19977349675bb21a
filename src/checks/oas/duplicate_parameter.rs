use std::collections::BTreeMap;

use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct DuplicateParameter;

const DOCS: &str = r#"## What it checks
That no parameter is declared twice: within the `parameters` of an operation, and within the
`parameters` of a Path Item, no two parameters (after resolving `$ref`s) share the same
`name` and `in`. Header names are compared case-insensitively, as HTTP does; other names
exactly. An operation parameter that overrides a Path Item parameter of the same name is
allowed (that is how overriding works). Partial credit: operations without duplicates /
operations; a duplicate on a Path Item is reported once, with the operations it affects.

## Why it matters
The specification requires the parameters of a list to be unique (Week 2: contract-first
design, where the description is the single source of truth). With a duplicate, tools keep
the first or the last declaration, or reject the document, so the schema and `required`
flag that apply depend on the tool: the generated client and the server's validation can
disagree.

## How to fix
Keep one declaration per parameter; to change a Path Item parameter for one operation,
override it in the operation's `parameters`.

## Example
```yaml
/v1/orders/{orderId}:
  parameters:
    - {name: orderId, in: path, required: true, schema: {type: string}}
  get:
    parameters:
      - {name: X-Request-Id, in: header, schema: {type: string}}
```
"#;

impl TypedCheck for DuplicateParameter {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS024",
        name: "duplicate-parameter",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "The same parameter (name and location) is declared twice in one parameter list",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations declare each parameter once",
                "the documents have no operations",
            ),
            Err(r) => r,
        }
    }
}

/// The identity of a parameter: its location (lower case) and name (lower case for headers).
pub fn key(name: &str, location: &str) -> (String, String) {
    let loc = location.to_ascii_lowercase();
    let name = if loc == "header" {
        name.to_ascii_lowercase()
    } else {
        name.to_string()
    };
    (loc, name)
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    for op in ops {
        let mut ok = true;
        for owner in [&op.item, &op.op] {
            let Some(list) = owner.get("parameters") else { continue };
            let mut first: BTreeMap<(String, String), usize> = BTreeMap::new();
            for (i, site) in list.items().into_iter().enumerate() {
                let node = api.deref(site.clone());
                let (Some(name), Some(location)) = (node.str("name"), node.str("in")) else {
                    continue;
                };
                match first.get(&key(name, location)) {
                    None => {
                        first.insert(key(name, location), i);
                    }
                    Some(j) => {
                        ok = false;
                        t.issue(
                            &site,
                            Some(op.label()),
                            format!(
                                "the {location} parameter `{name}` is declared twice (first on line {})",
                                list.doc.locate(&format!("{}/{j}", list.pointer)).line
                            ),
                            "remove one of the two declarations (header names are case-insensitive)",
                        );
                    }
                }
            }
        }
        t.unit(ok);
    }
}
