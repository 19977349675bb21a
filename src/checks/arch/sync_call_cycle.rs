use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct SyncCallCycle;

const DOCS: &str = r#"## What it checks
That the synchronous call graph (`calls` in `submission.toml`) has no cycle, a service calling
itself included. Each cycle is shown as its path, e.g. `orders -> payments -> orders`.

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

impl TypedCheck for SyncCallCycle {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH002",
        name: "sync-call-cycle",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "Synchronous calls form a cycle (a distributed monolith)",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let sub = ctx.submission;
        if sub.services.is_empty() {
            // No calls because no services: nothing earns the credit of an acyclic graph.
            return CheckResult::absent("no services are declared");
        }
        let cycles = ctx.model.sync_cycles();
        let mut findings = Vec::new();
        let mut evidence = Vec::new();
        for cycle in &cycles {
            let path = ctx.model.describe_chain(sub, cycle);
            let Some(last) = cycle.last() else { continue };
            let closing = &sub.services[last.from].calls[last.call];
            findings.push(
                ctx.manifest_finding(closing.span.as_ref(), format!("synchronous call cycle: {path}"))
                    .help("replace one call of the cycle with an event, or merge the capability into one service"),
            );
            evidence.push(format!("cycle: {path}"));
        }
        let edges = ctx.model.sync.edge_count();
        let mut r = CheckResult::from_findings(findings);
        if cycles.is_empty() {
            r.evidence.push(format!("{edges} synchronous calls, no cycle"));
        }
        r.evidence.extend(evidence);
        r
    }
}
