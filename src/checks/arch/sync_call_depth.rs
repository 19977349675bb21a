use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::model::{ChainStop, DEFAULT_SEARCH_BUDGET};

pub struct SyncCallDepth;

const DOCS: &str = r#"## What it checks
That the longest chain of synchronous calls has at most `max_depth` calls (3 by default):
`gateway -> orders -> payments` is a depth of 2. A chain is simple: no service twice. The
longest chain is shown with its path (ties: the first in name order).

Without synchronous cycles the longest chain is computed exactly. With cycles (reported by
ARCH002 sync-call-cycle, not here) a chain still cannot pass a service twice, and the longest
simple chain is searched for: that problem is NP-hard, so the search follows chains to at most
`search_depth` calls (20) and visits at most `search_budget` services in all (a count, never a
time limit: the verdict is the same on any machine). The evidence says when a bound was hit;
the chain found is then the longest seen, and a longer one may exist. A chain found longer
than `max_depth` fails whatever the bounds; a search that hit its budget without finding one
cannot decide, and the item errors (raise `search_budget`).

Not applicable when the system has no synchronous call at all (nothing to judge: an empty
graph earns no credit for its shape).
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
    pub search_depth: usize,
    pub search_budget: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_depth: 3,
            search_depth: 20,
            search_budget: DEFAULT_SEARCH_BUDGET,
        }
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
        params: &[
            ParamDoc {
                name: "max_depth",
                ty: "integer",
                description: "most synchronous calls in one chain",
            },
            ParamDoc {
                name: "search_depth",
                ty: "integer",
                description: "with cycles: longest chain followed by the search (raised to max_depth + 1 if lower)",
            },
            ParamDoc {
                name: "search_budget",
                ty: "integer",
                description: "with cycles: most services the search visits in all (a deterministic bound)",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        if sub.services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        if let Some(none) = super::without_sync_calls(ctx) {
            return none;
        }
        let search_depth = p.search_depth.max(p.max_depth + 1);
        let search = ctx.model.longest_simple_chain(search_depth, p.search_budget);
        let chain = search.chain;
        let depth = chain.len();
        let path = ctx.model.describe_chain(sub, &chain);
        let mut evidence = if depth == 0 {
            "no synchronous calls".to_string()
        } else if search.acyclic {
            format!("longest chain ({depth} calls): {path}")
        } else {
            format!("longest simple chain ({depth} calls): {path}")
        };
        if !search.acyclic {
            evidence.push_str(match search.stop {
                None => "; the call graph has cycles (see ARCH002): every simple chain was searched",
                Some(ChainStop::Depth) => "; the call graph has cycles (see ARCH002): the search bound was hit (chains followed to search_depth calls), a longer chain may exist",
                Some(ChainStop::Budget) => "; the call graph has cycles (see ARCH002): the search bound was hit (search_budget services visited), a longer chain may exist",
            });
        }
        if depth <= p.max_depth && search.stop == Some(ChainStop::Budget) {
            return CheckResult::errored(format!(
                "the search for the longest simple chain used up its budget of {} visited services before deciding whether a chain is longer than {}: raise `search_budget`",
                p.search_budget, p.max_depth
            ))
            .with_evidence(evidence);
        }
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
