use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};
use crate::submission::Role;

pub struct GatewayMissing;

const DOCS: &str = r#"## What it checks
That the system has an entry point at its edge: at least one service with
`role = "gateway"` or `role = "bff"`, and that no internal service calls back into a gateway
or BFF synchronously.

## Why it matters
Week 4 (API Gateway & Service Mesh) and Week 2 (Backends for Frontends): clients should not
know the internal topology. A gateway or BFF terminates authentication, rate limiting and
routing at one place, and lets services change behind it. An internal service that calls the
gateway inverts the dependency and bypasses the boundary.

## How to fix
Add a gateway (or one BFF per client type) that calls the services the clients need, and
mark it with `role = "gateway"`. Internal services talk to each other directly or through
events, never through the edge.

## Example
```toml
[[service]]
name = "gateway"
role = "gateway"
calls = ["orders", "catalog"]
```
"#;

impl TypedCheck for GatewayMissing {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH006",
        name: "gateway-missing",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "No API gateway or BFF at the edge, or an internal service calls the gateway",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let services = &ctx.submission.services;
        if services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        let edge: Vec<&str> = services
            .iter()
            .filter(|s| matches!(s.role, Role::Gateway | Role::Bff))
            .map(|s| s.name.name.as_str())
            .collect();
        if edge.is_empty() {
            let f = ctx
                .manifest_finding(
                    services[0].name.span.as_ref(),
                    "no service has `role = \"gateway\"` or `role = \"bff\"`",
                )
                .help("add an API gateway or BFF as the entry point and mark it with `role = \"gateway\"`");
            return CheckResult::failed(vec![f]).with_evidence("no gateway or BFF");
        }
        let mut findings = Vec::new();
        for s in services.iter().filter(|s| !matches!(s.role, Role::Gateway | Role::Bff)) {
            for c in s.calls.iter().filter(|c| edge.contains(&c.name.as_str())) {
                findings.push(
                    ctx.manifest_finding(
                        c.span.as_ref(),
                        format!("internal service `{}` calls the edge service `{}`", s.name.name, c.name),
                    )
                    .help("call the service that owns the capability directly, or consume its events"),
                );
            }
        }
        CheckResult::from_findings(findings).with_evidence(format!("entry point: {}", edge.join(", ")))
    }
}
