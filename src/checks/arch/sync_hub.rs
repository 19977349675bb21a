use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::submission::Role;

pub struct SyncHub;

const DOCS: &str = r#"## What it checks
That no service is a synchronous hub: at most `max_fan_out` services called by one service
(gateways and BFFs exempt, their job is to fan out) and at most `max_fan_in` services calling
one service. Fan-in counts internal callers only: a gateway or BFF calling a service is the
edge routing requests to it, not a dependency between services.

Partial credit: services within bounds / services, except for a system-wide hub: a service
over `max_fan_in` that more than `max_dependents_share` (0.5, "most") of the internal
services (all but gateways and BFFs) call fails the item with no credit. One service that
most of the system cannot work without is a defect of the whole system, and a per-service
share would dilute it (one such hub among eleven services would keep 91% of the credit).

Not applicable when the system has no synchronous call at all (nothing to judge: an empty
graph earns no credit for its shape).
## Why it matters
Week 1 asks for boundaries "with minimal coupling"; Week 4 for resilient synchronous
communication. A service that calls many others synchronously is only as available as the
product of their availabilities and has to tune a timeout and breaker for each; a service
that many call synchronously is a bottleneck and a blast radius: when it slows down, all its
callers do.

## How to fix
A high fan-out service is often an orchestrator doing others' work: move logic into the
owners, or react to events. A high fan-in service often owns data everyone reads: publish
changes as events so callers keep local read models, or split it by capability.

## Example
```toml
[[service]]
name = "orders"
calls = ["payments", "inventory"]        # a few direct dependencies
consumes = ["PriceChanged", "CustomerUpdated"]   # the rest arrives as events
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub max_fan_out: usize,
    pub max_fan_in: usize,
    pub max_dependents_share: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_fan_out: 4,
            max_fan_in: 4,
            max_dependents_share: 0.5,
        }
    }
}

impl TypedCheck for SyncHub {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH007",
        name: "sync-hub",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "A service calls, or is called by, too many services synchronously",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "max_fan_out",
                ty: "integer",
                description: "most services one service may call (gateways and BFFs exempt)",
            },
            ParamDoc {
                name: "max_fan_in",
                ty: "integer",
                description: "most services that may call one service (gateways and BFFs not counted)",
            },
            ParamDoc {
                name: "max_dependents_share",
                ty: "float",
                description: "a service over max_fan_in called by more than this share (0-1) of the internal services fails the item outright",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let services = &ctx.submission.services;
        if services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        if let Some(none) = super::without_sync_calls(ctx) {
            return none;
        }
        let edge = |s: &crate::submission::Service| matches!(s.role, Role::Gateway | Role::Bff);
        let internal = services.iter().filter(|s| !edge(s)).count();
        let share = p.max_dependents_share.clamp(0.0, 1.0);
        let mut system_wide: Vec<String> = Vec::new();
        let mut findings = Vec::new();
        let mut bad = 0;
        let mut max_out = (0, "");
        let mut max_in = (0, "");
        for s in services {
            let mut callees: Vec<&str> = s.calls.iter().map(|c| c.name.as_str()).collect();
            callees.sort();
            callees.dedup();
            let mut callers: Vec<&str> = services
                .iter()
                .filter(|o| !edge(o) && o.calls.iter().any(|c| c.name == s.name.name))
                .map(|o| o.name.name.as_str())
                .collect();
            callers.sort();
            callers.dedup();
            if callees.len() > max_out.0 {
                max_out = (callees.len(), s.name.name.as_str());
            }
            if callers.len() > max_in.0 {
                max_in = (callers.len(), s.name.name.as_str());
            }
            let mut hub = false;
            if !edge(s) && callees.len() > p.max_fan_out {
                hub = true;
                findings.push(
                    ctx.manifest_finding(
                        s.name.span.as_ref(),
                        format!(
                            "`{}` calls {} services synchronously ({}); at most {} expected",
                            s.name.name,
                            callees.len(),
                            callees.join(", "),
                            p.max_fan_out
                        ),
                    )
                    .help(
                        "move the work into the services that own it, or react to their events instead of calling them",
                    ),
                );
            }
            if callers.len() > p.max_fan_in {
                hub = true;
                if callers.len() as f64 > share * internal as f64 {
                    system_wide.push(format!("`{}` ({} of {internal})", s.name.name, callers.len()));
                }
                findings.push(
                    ctx.manifest_finding(s.name.span.as_ref(), format!("`{}` is called synchronously by {} services ({}); at most {} expected", s.name.name, callers.len(), callers.join(", "), p.max_fan_in))
                        .help("publish its changes as events so callers can keep local read models, or split it by capability"),
                );
            }
            if hub {
                bad += 1;
            }
        }
        let result = if system_wide.is_empty() {
            CheckResult::ratio(services.len() - bad, services.len(), findings)
        } else {
            CheckResult::failed(findings).with_evidence(format!(
                "system-wide hub (called synchronously by more than {:.0}% of the {internal} internal services): {}; no credit",
                share * 100.0,
                system_wide.join(", ")
            ))
        };
        result.with_evidence(format!(
            "largest fan-out {} ({}), largest fan-in {} ({})",
            max_out.0,
            if max_out.1.is_empty() { "-" } else { max_out.1 },
            max_in.0,
            if max_in.1.is_empty() { "-" } else { max_in.1 }
        ))
    }
}
