use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct SyncCallDepth;

const DOCS: &str = r#"## What it checks
That the longest chain of synchronous calls has at most `max_depth` calls (3 by default):
`gateway -> orders -> payments` is a depth of 2. The longest chain is shown. A cycle makes
the depth unbounded and fails this check too.

## Why it matters
Every synchronous hop multiplies failure probability and adds its latency to the caller's
(Week 4: synchronous communication patterns, timeouts and circuit breakers). With 99.9%
available services a chain of five is at most 99.5% available, and its p99 is the sum of five
p99s, which breaks the course's sub-100 ms target.

## How to fix
Flatten the chain: let the edge service call the services it needs in parallel, replace deep
calls with events and local read models, or merge services that are always called together.

## Example
```toml
[[service]]
name = "gateway"
role = "gateway"
calls = ["orders", "catalog"]   # fan out from the edge instead of chaining
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub max_depth: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { max_depth: 3 }
    }
}

impl TypedCheck for SyncCallDepth {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH004",
        name: "sync-call-depth",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "A chain of synchronous calls is deeper than allowed",
        docs: DOCS,
        params: &[ParamDoc {
            name: "max_depth",
            ty: "integer",
            description: "most synchronous calls in one chain",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        if sub.services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        let Some(chain) = ctx.model.longest_sync_chain() else {
            let f = ctx
                .manifest_finding(None, "synchronous call depth is unbounded: the call graph has a cycle")
                .help("remove the cycle first (see ARCH002 sync-call-cycle)");
            return CheckResult::failed(vec![f]).with_evidence("depth: unbounded (cycle)");
        };
        let depth = chain.len();
        let path = ctx.model.describe_chain(sub, &chain);
        let evidence = if depth == 0 {
            "no synchronous calls".to_string()
        } else {
            format!("longest chain ({depth} calls): {path}")
        };
        if depth <= p.max_depth {
            return CheckResult::passed().with_evidence(evidence);
        }
        let deepest = &chain[p.max_depth];
        let call = &sub.services[deepest.from].calls[deepest.call];
        let f = ctx
            .manifest_finding(
                call.span.as_ref(),
                format!(
                    "synchronous call chain of {depth} calls exceeds {}: {path}",
                    p.max_depth
                ),
            )
            .help(
                "flatten the chain: fan out from the edge, or replace a deep call with an event and a local read model",
            );
        CheckResult::failed(vec![f]).with_evidence(evidence)
    }
}
