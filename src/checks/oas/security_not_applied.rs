use super::walk::{self, check_apis, Api, Node, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct SecurityNotApplied;

const DOCS: &str = r#"## What it checks
That each API declares how clients authenticate and applies it: `components.securitySchemes`
declares at least one scheme, and every operation under `paths` has a security requirement,
either its own `security` or the document's top-level `security`. A requirement must name
declared schemes; an operation whose requirements include the empty one (`{}`, i.e.
authentication optional) or that opts out with `security: []` is not protected.
Operational endpoints (`/health`, `/metrics`, ...) are exempt and not counted. Partial credit:
protected operations / operations (none are protected when no scheme is declared).

## Why it matters
In a microservice system every service is reachable by many callers (Week 4: API gateway and
service mesh); security that is not in the contract is not reviewed, not generated into
clients and not enforced consistently at the gateway. The contract must say which calls need
which credentials (Week 2: service interface design).

## How to fix
Declare a scheme (e.g. bearer JWT) under `components.securitySchemes` and apply it at the top
level; let only health and metrics endpoints opt out with `security: []`.

## Example
```yaml
security: [{bearerAuth: []}]
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer, bearerFormat: JWT}
paths:
  /health:
    get:
      security: []              # exempt: operational endpoint
```
"#;

/// Only the exempt operational endpoints are configurable.
pub type Params = walk::ExemptParams;

impl TypedCheck for SecurityNotApplied {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS014",
        name: "security-not-applied",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "No security scheme is declared, or an operation has no security requirement",
        docs: DOCS,
        params: &[ParamDoc {
            name: "exempt_segments",
            ty: "array of strings",
            description: "path segments of operational endpoints (health, metrics, ...) that need no security",
        }],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations are protected by a declared security scheme",
                "the documents have no operations that need security",
            ),
            Err(r) => r,
        }
    }
}

enum Verdict<'s> {
    Ok,
    Problem(Node<'s>, String),
}

pub fn evaluate(api: &Api<'_>, p: &Params, t: &mut Tally) {
    let root = api.root();
    let schemes: Vec<&str> = root
        .get("components")
        .and_then(|c| c.get("securitySchemes"))
        .map(|s| s.entries().into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let top = root.get("security");
    let ops: Vec<_> = api
        .operations()
        .into_iter()
        .filter(|o| !o.is_exempt(&p.exempt_segments))
        .collect();
    if ops.is_empty() {
        return;
    }
    if schemes.is_empty() {
        for _ in &ops {
            t.unit(false);
        }
        let at = root.get("components").unwrap_or(root.clone());
        t.issue(
            &at,
            None,
            format!(
                "no security scheme is declared, so none of {} operations is protected",
                ops.len()
            ),
            "declare one under `components.securitySchemes` (e.g. `bearerAuth: {type: http, scheme: bearer}`) and \
             apply it with a top-level `security: [{bearerAuth: []}]`",
        );
        return;
    }
    let judge = |sec: &Node<'_>| -> Option<String> {
        let reqs = sec.items();
        if reqs.is_empty() {
            return Some("`security: []` turns authentication off".into());
        }
        if reqs.iter().any(|r| r.object().is_some_and(|m| m.is_empty())) {
            return Some("an empty requirement `{}` makes authentication optional".into());
        }
        let unknown: Vec<String> = reqs
            .iter()
            .flat_map(|r| r.entries())
            .map(|(k, _)| k)
            .filter(|k| !schemes.contains(k))
            .map(|k| format!("`{k}`"))
            .collect();
        if !unknown.is_empty() {
            return Some(format!(
                "requires {}, not declared in `components.securitySchemes` (declared: {})",
                unknown.join(", "),
                schemes.join(", ")
            ));
        }
        None
    };
    for op in &ops {
        let verdict = match (op.op.get("security"), &top) {
            (Some(own), _) if own.value.is_array() => match judge(&own) {
                None => Verdict::Ok,
                Some(why) => Verdict::Problem(own, why),
            },
            (_, Some(top)) if top.value.is_array() => match judge(top) {
                None => Verdict::Ok,
                Some(why) => Verdict::Problem(top.clone(), why),
            },
            _ => Verdict::Problem(
                root.get("paths").unwrap_or(root.clone()),
                "no security requirement applies (no top-level `security`, none on the operation)".into(),
            ),
        };
        match verdict {
            Verdict::Ok => t.unit(true),
            Verdict::Problem(at, why) => {
                t.unit(false);
                t.issue(
                    &at,
                    Some(op.label()),
                    why,
                    format!(
                        "apply a declared scheme: a top-level `security: [{{{}: []}}]`, or per operation",
                        schemes[0]
                    ),
                );
            }
        }
    }
}
