use serde_json::Value;

use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ServersMissing;

const DOCS: &str = r#"## What it checks
That each OpenAPI document lists where the API is served: a non-empty `servers` list whose
entries each have a `url`, with every `{variable}` of a URL declared under that server's
`variables` with a `default`. Documents without `paths` (OpenAPI 3.1 component libraries)
are not checked. Partial credit: documents with valid servers / documents.

## Why it matters
Without `servers`, tools assume the API is served at `/` of wherever the document was loaded
from: mock servers, generated clients, contract tests and the gateway configuration (Week 4:
service discovery, API gateway) all need the base URL, and the environments (local, staging,
production) belong in the contract too.

## How to fix
Add a `servers` list, with variables for the parts that change per environment.

## Example
```yaml
servers:
  - url: https://{env}.api.shopflow.example/orders
    variables:
      env: {default: staging, enum: [staging, production]}
  - url: http://localhost:8083
    description: Local development
```
"#;

impl TypedCheck for ServersMissing {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS017",
        name: "servers-missing",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An OpenAPI document lists no servers, or a server URL is incomplete",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "documents list their servers",
                "no document has `paths` (component libraries need no servers)",
            ),
            Err(r) => r,
        }
    }
}

/// The `{variables}` of a server URL.
fn variables(url: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = url;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else { break };
        out.push(&after[..j]);
        rest = &after[j + 1..];
    }
    out
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let root = api.root();
    let has_paths = root
        .value
        .get("paths")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty());
    if !has_paths {
        return;
    }
    let Some(servers) = root.get("servers") else {
        t.unit(false);
        t.issue(
            &root,
            None,
            "no `servers`: tools will assume the API is served at `/`",
            "add `servers: [{url: 'https://api.example.com', description: Production}]`",
        );
        return;
    };
    let list = servers.items();
    if list.is_empty() {
        t.unit(false);
        t.issue(
            &servers,
            None,
            "`servers` is empty",
            "list at least one server: `- url: https://api.example.com`",
        );
        return;
    }
    let mut ok = true;
    for s in list {
        let Some(url) = s.str("url").map(str::trim) else {
            ok = false;
            t.issue(
                &s,
                None,
                "this server has no `url`",
                "add `url:` with the base URL of the API",
            );
            continue;
        };
        if url.is_empty() {
            ok = false;
            t.issue(
                &s,
                None,
                "this server's `url` is empty",
                "write the base URL of the API",
            );
            continue;
        }
        for v in variables(url) {
            match s.get("variables").and_then(|vs| vs.get(v)) {
                None => {
                    ok = false;
                    t.issue(
                        &s,
                        None,
                        format!("the server URL `{url}` uses `{{{v}}}` but declares no such variable"),
                        format!("add `variables: {{{v}: {{default: ...}}}}` to the server"),
                    );
                }
                Some(var) if var.value.get("default").is_none() => {
                    ok = false;
                    t.issue(
                        &var,
                        None,
                        format!("server variable `{v}` has no `default`"),
                        "every server variable needs a `default`",
                    );
                }
                Some(_) => {}
            }
        }
    }
    t.unit(ok);
}
