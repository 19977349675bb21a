use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ReservedHeaderParameter;

const DOCS: &str = r#"## What it checks
That no operation declares a header parameter named `Accept`, `Content-Type` or
`Authorization` (in any case). The specification says such parameter definitions are
ignored: the media types of `content` define `Accept` and `Content-Type`, and
`securitySchemes` with `security` define `Authorization`. Partial credit: operations without
such a parameter / operations with header parameters or none (every operation counts).

## Why it matters
An ignored declaration is a contract that does not say what it seems to (Week 2:
contract-first design). Tools drop these parameters, so the generated client never sends the
`Authorization` header declared as a parameter, and the security requirement the gateway and
the provider enforce (Week 4) is invisible in the contract.

## How to fix
Describe the formats through `content` media types (request body and responses), and
authentication through a security scheme applied with `security`.

## Example
```yaml
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer, bearerFormat: JWT}
security:
  - bearerAuth: []
```
"#;

impl TypedCheck for ReservedHeaderParameter {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS025",
        name: "reserved-header-parameter",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A header parameter is named Accept, Content-Type or Authorization (ignored by OpenAPI)",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations declare no reserved header parameter",
                "the documents have no operations",
            ),
            Err(r) => r,
        }
    }
}

/// What to use instead of a header parameter `name`, when it is one OpenAPI ignores.
pub fn replacement(name: &str) -> Option<&'static str> {
    match name.trim().to_ascii_lowercase().as_str() {
        "accept" => Some("list the response media types under each response's `content`"),
        "content-type" => Some("list the request media types under `requestBody.content`"),
        "authorization" => Some(
            "define a security scheme under `components/securitySchemes` (e.g. `{type: http, scheme: bearer}`) \
             and apply it with `security`",
        ),
        _ => None,
    }
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    for op in ops {
        let mut ok = true;
        for p in api.parameters(&op) {
            if !p.location.eq_ignore_ascii_case("header") {
                continue;
            }
            let Some(instead) = replacement(p.name) else { continue };
            ok = false;
            let at = p.node.get("name").unwrap_or(p.node.clone());
            t.issue(
                &at,
                Some(op.label()),
                format!("the header parameter `{}` is ignored by OpenAPI", p.name),
                format!("remove the parameter and {instead}"),
            );
        }
        t.unit(ok);
    }
}
