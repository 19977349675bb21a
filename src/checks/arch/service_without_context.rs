use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ServiceWithoutContext;

const DOCS: &str = r#"## What it checks
That every service names the bounded context it belongs to (`context = "..."`). Partial
credit: services with a context / services.

## Why it matters
A service is the implementation of (part of) one bounded context (Week 1: bounded context
identification, strategic DDD). A service outside any context has no clear owner of its
language and model, and tends to become a shared "utility" that couples everything.

## How to fix
Add `context = "<name>"` to each `[[service]]`, naming a declared `[[context]]`. If no context
fits, the service may be doing two jobs: split it.

## Example
```toml
[[context]]
name = "inventory"

[[service]]
name = "stock"
context = "inventory"
```
"#;

impl TypedCheck for ServiceWithoutContext {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH003",
        name: "service-without-context",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "A service does not belong to a bounded context",
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
            .filter(|s| s.context.is_none())
            .map(|s| {
                ctx.manifest_finding(
                    s.name.span.as_ref(),
                    format!("service `{}` is in no bounded context", s.name.name),
                )
                .help("add `context = \"<name>\"` naming one of the declared contexts")
            })
            .collect();
        let good = services.len() - findings.len();
        CheckResult::ratio(good, services.len(), findings)
            .with_evidence(format!("{good} of {} services in a context", services.len()))
    }
}
