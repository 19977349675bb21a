use petgraph::visit::{Bfs, Reversed};
use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::submission::Role;

pub struct SinglePointOfFailure;

const DOCS: &str = r#"## What it checks
That no internal service is a single point of failure of the synchronous call graph: its
*blast radius* — the internal services that call it synchronously, directly or through other
services — must stay at or below `max_share` of the internal services (40% by default, and
never below two). Gateways and BFFs are left out on both sides: every request passes them by
design, so they depend on everything, and they are scaled and replicated as the edge. The
evidence lists the largest blast radius.

Partial credit: services within bounds / internal services, except for a system-wide single
point of failure: a service over the limit whose blast radius is more than
`max_dependents_share` (0.5, "most") of the internal services fails the item with no credit.
The availability of the whole system is then bounded by that one service, whatever the other
services do, and a per-service share would dilute it (one such service among eleven would keep
91% of the credit).

## Why it matters
Week 4 (resilient service-to-service communication, circuit breakers) and Phase 4's chaos
engineering (Week 9): when a service that most of the system calls synchronously slows down
or fails, timeouts and retries cascade through every caller and the whole system degrades at
once. The capstone's 99.99% availability target cannot survive such a dependency.

## How to fix
Take the shared dependency off the synchronous path: let callers keep a local copy of what
they read from it (events and read models), cache its answers with a bounded staleness, or
replace the call with a token or claim they can verify locally (e.g. JWTs instead of calling
an auth service on every request).

## Example
```toml
[[service]]
name = "orders"
calls = ["payments"]                 # not "customers": it consumes CustomerUpdated instead
consumes = ["CustomerUpdated"]
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Largest share of services that may depend synchronously on one service.
    pub max_share: f64,
    /// A service over the limit with more than this share of dependents fails the item outright.
    pub max_dependents_share: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_share: 0.4,
            max_dependents_share: 0.5,
        }
    }
}

impl TypedCheck for SinglePointOfFailure {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH010",
        name: "single-point-of-failure",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "Too much of the system depends synchronously on one service",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "max_share",
                ty: "float",
                description: "largest share (0-1) of services that may depend synchronously on one service",
            },
            ParamDoc {
                name: "max_dependents_share",
                ty: "float",
                description: "a service over the limit with more than this share (0-1) of the internal services depending on it fails the item outright",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        let graph = &ctx.model.sync;
        let edge = |i: usize| matches!(sub.services[i].role, Role::Gateway | Role::Bff);
        let n = (0..sub.services.len()).filter(|&i| !edge(i)).count();
        if sub.services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        if n < 3 || graph.edge_count() == 0 {
            return CheckResult::not_applicable("fewer than three internal services or no synchronous calls");
        }
        let limit = ((p.max_share.clamp(0.0, 1.0) * n as f64).floor() as usize).max(2);
        let share = p.max_dependents_share.clamp(0.0, 1.0);
        let mut system_wide: Vec<String> = Vec::new();
        let mut findings = Vec::new();
        let mut largest = (0, String::new());
        for node in graph.node_indices() {
            let svc = &sub.services[graph[node]];
            if edge(graph[node]) {
                continue;
            }
            let reversed = Reversed(graph);
            let mut bfs = Bfs::new(reversed, node);
            let mut dependents: Vec<&str> = Vec::new();
            while let Some(d) = bfs.next(reversed) {
                if d != node && !edge(graph[d]) {
                    dependents.push(&sub.services[graph[d]].name.name);
                }
            }
            dependents.sort();
            if dependents.len() > largest.0 {
                largest = (dependents.len(), svc.name.name.clone());
            }
            if dependents.len() > limit {
                if dependents.len() as f64 > share * n as f64 {
                    system_wide.push(format!("`{}` ({} of {n})", svc.name.name, dependents.len()));
                }
                findings.push(
                    ctx.manifest_finding(
                        svc.name.span.as_ref(),
                        format!(
                            "`{}` is a single point of failure: {} of {n} internal services depend on it synchronously ({})",
                            svc.name.name,
                            dependents.len(),
                            dependents.join(", ")
                        ),
                    )
                    .help("take it off the synchronous path: events and local read models, caching, or locally verifiable tokens"),
                );
            }
        }
        let good = n - findings.len();
        let evidence = if largest.0 == 0 {
            "no internal service has synchronous callers".to_string()
        } else {
            format!(
                "largest blast radius: `{}` with {} of {n} internal services depending on it (limit {limit})",
                largest.1, largest.0
            )
        };
        if !system_wide.is_empty() {
            return CheckResult::failed(findings)
                .with_evidence(format!(
                    "system-wide single point of failure (more than {:.0}% of the {n} internal services depend on it): {}; no credit",
                    share * 100.0,
                    system_wide.join(", ")
                ))
                .with_evidence(evidence);
        }
        CheckResult::ratio(good, n, findings).with_evidence(evidence)
    }
}
