use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ServiceWithoutOwner;

const DOCS: &str = r#"## What it checks
That every service names its owning team (`owner = "team-..."`). Partial credit: services
with an owner / services.

## Why it matters
Week 10 (Microservices Governance & Lifecycle; lab: "Build service catalog with ownership
tracking"): at hundreds of services, an incident, a deprecation or a security fix needs to
know who is responsible. A service without an owner is the one nobody patches.

## How to fix
Add `owner` to every `[[service]]`, naming a team that exists in your catalog.

## Example
```toml
[[service]]
name = "payments"
owner = "team-payments"
```
"#;

impl TypedCheck for ServiceWithoutOwner {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OPS001",
        name: "service-without-owner",
        area: Area::Ops,
        kind: Kind::Static,
        summary: "A service has no owning team",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let services = &ctx.submission.services;
        if services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        let findings: Vec<_> = services
            .iter()
            .filter(|s| s.owner.as_ref().is_none_or(|o| o.name.is_empty()))
            .map(|s| {
                ctx.manifest_finding(s.name.span.as_ref(), format!("service `{}` has no owner", s.name.name))
                    .help("add `owner = \"team-...\"` naming the responsible team")
            })
            .collect();
        let good = services.len() - findings.len();
        CheckResult::ratio(good, services.len(), findings)
            .with_evidence(format!("{good} of {} services have an owner", services.len()))
    }
}
