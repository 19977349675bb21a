use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::model::{CycleStop, DEFAULT_MAX_CYCLES, DEFAULT_SEARCH_BUDGET};

pub struct SyncCallCycle;

const DOCS: &str = r#"## What it checks
That the synchronous call graph (`calls` in `submission.toml`) has no cycle, a service calling
itself included. Every elementary cycle (no service twice) is reported as its path, e.g.
`orders -> payments -> orders`, written from its alphabetically first service, shortest first
(by length, then by the names along the cycle): two loops through the same service are two
findings. At most `max_cycles` (50) are listed; the search visits at most `search_budget`
services in all (a count, never a time limit, so the verdict is the same on any machine). When
a bound is hit the evidence says so: with more than `max_cycles` cycles the listed ones are the
shortest; when the budget runs out, every cycle shorter than the length being searched is
listed. The evidence also names every service on a cycle (exact, whatever the bounds).

Credit: none when there is any cycle. The cost of a cycle (lockstep deployments, retries that
amplify around the loop, recursion that exhausts thread pools) does not shrink with the number
of services outside it, and a share of "services not on a cycle" could be raised by adding
services that do nothing. The built-in rubrics make this item `required`.

Not applicable when the system has no synchronous call at all (nothing to judge: an empty
graph earns no credit for its shape).
## Why it matters
A cycle of synchronous calls is the signature of a distributed monolith (Week 1: designing
service boundaries for minimal coupling; Week 4: resilient synchronous communication): the
services cannot be deployed or scaled independently, a slow service stalls the whole loop,
retries amplify around it and a request can recurse until every thread pool is exhausted.

## How to fix
Break the loop: move the capability both sides need into one context, replace one direction
with an asynchronous event (the caller publishes, the other side consumes), or let the
downstream service keep a local read model of the data it was fetching.

## Example
```toml
[[service]]
name = "orders"
calls = ["payments"]
publishes = ["OrderPlaced"]

[[service]]
name = "payments"
calls = []                    # not ["orders"]: consume OrderPlaced instead
consumes = ["OrderPlaced"]
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub max_cycles: usize,
    pub search_budget: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_cycles: DEFAULT_MAX_CYCLES,
            search_budget: DEFAULT_SEARCH_BUDGET,
        }
    }
}

impl TypedCheck for SyncCallCycle {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH002",
        name: "sync-call-cycle",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "Synchronous calls form a cycle (a distributed monolith)",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "max_cycles",
                ty: "integer",
                description: "most cycles listed (the shortest first); the evidence says when there are more",
            },
            ParamDoc {
                name: "search_budget",
                ty: "integer",
                description: "most services the cycle enumeration visits in all (a deterministic bound)",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        if sub.services.is_empty() {
            // No calls because no services: nothing earns the credit of an acyclic graph.
            return CheckResult::absent("no services are declared");
        }
        if let Some(none) = super::without_sync_calls(ctx) {
            return none;
        }
        let search = ctx.model.elementary_cycles(p.max_cycles.max(1), p.search_budget);
        let on_cycles = ctx.model.services_on_cycles();
        let edges = ctx.model.sync.edge_count();
        if on_cycles.is_empty() {
            return CheckResult::passed().with_evidence(format!("{edges} synchronous calls, no cycle"));
        }
        let mut findings = Vec::new();
        let mut evidence = Vec::new();
        for cycle in &search.cycles {
            let path = ctx.model.describe_chain(sub, cycle);
            let Some(last) = cycle.last() else { continue };
            let closing = &sub.services[last.from].calls[last.call];
            findings.push(
                ctx.manifest_finding(closing.span.as_ref(), format!("synchronous call cycle: {path}"))
                    .help("replace one call of the cycle with an event, or merge the capability into one service"),
            );
            evidence.push(format!("cycle: {path}"));
        }
        let k = search.cycles.len();
        let plural = if k == 1 { "" } else { "s" };
        let summary = match search.stop {
            None => format!("{k} elementary cycle{plural}"),
            Some(CycleStop::TooMany) => format!(
                "more than {k} elementary cycles: the bound (max_cycles = {k}) was hit, the {k} shortest are listed"
            ),
            Some(CycleStop::Budget { length }) => format!(
                "{k} elementary cycle{plural} listed: the search budget ({} services visited) ran out at cycles of {length} calls, so every shorter cycle is listed and longer ones may be missing",
                p.search_budget
            ),
        };
        let names: Vec<&str> = on_cycles.iter().map(|&i| ctx.model.name(i)).collect();
        evidence.insert(
            0,
            format!(
                "{summary}; {} of {} services are on a cycle: {}",
                names.len(),
                sub.services.len(),
                names.join(", ")
            ),
        );
        if findings.is_empty() {
            // The budget ran out before the first cycle: the services on cycles are still known.
            findings.push(
                ctx.manifest_finding(None, format!("services on a synchronous cycle: {}", names.join(", ")))
                    .help("replace one call of each cycle with an event, or merge the capability into one service"),
            );
        }
        CheckResult::failed(findings).with_evidence_lines(evidence)
    }
}
