use std::collections::{BTreeMap, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct EventLoop;

const DOCS: &str = r#"## What it checks
That the choreography has no loop: in the graph of services where an edge `a -> b` means
`a` publishes an event that `b` consumes (matched by name in `submission.toml`), no chain of
events leads back to where it started. Each loop is shown with its events, e.g.
`orders -[OrderPlaced]-> payments -[PaymentAuthorized]-> orders`. A service that consumes an
event it publishes itself is a loop of one (parameter `self_loops`). Events listed in
`ignore_events` are left out of the graph.

## Why it matters
In a choreography nobody is in charge of the whole process (Week 6: choreography vs
orchestration). When services react to each other's events in a circle, one event can
trigger an endless cascade, the process has no visible end, and a change in one service
ripples back to itself; it is the asynchronous twin of a synchronous call cycle (Week 4).
A loop in an event graph is the classic sign that the process wants an orchestrator, or that
one of the events is really a reply that should not trigger further events.

## How to fix
Break the loop: let one service orchestrate the process (a saga with `style =
"orchestration"` sending commands and receiving replies), merge the two reactions into one
context, or stop consuming the event that closes the loop. If an event in the loop only ends
a conversation and never triggers another event, list it in `ignore_events`.

## Example
```toml
[[service]]
name = "orders"
publishes = ["OrderPlaced"]
consumes = []                     # not ["PaymentAuthorized"]: payments -> orders closed a loop

[[service]]
name = "payments"
consumes = ["OrderPlaced"]
publishes = ["PaymentAuthorized"]
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Events left out of the graph (replies that never trigger another event).
    pub ignore_events: Vec<String>,
    /// Whether a service consuming an event it publishes itself is reported.
    pub self_loops: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            ignore_events: Vec::new(),
            self_loops: true,
        }
    }
}

/// A step of a loop: from service, to service, the events of that edge.
type Hop = (usize, usize, Vec<String>);

impl TypedCheck for EventLoop {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT010",
        name: "event-loop",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "Publish/consume flows between services form a loop",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "ignore_events",
                ty: "array of strings",
                description: "events left out of the graph (e.g. replies that never trigger another event)",
            },
            ParamDoc {
                name: "self_loops",
                ty: "boolean",
                description: "report a service that consumes an event it publishes itself",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        let model = ctx.model;
        let mut g: DiGraph<usize, Vec<String>> = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..sub.services.len()).map(|i| g.add_node(i)).collect();
        let mut edges: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        for f in &model.flows {
            if p.ignore_events.contains(&f.event) || (f.from == f.to && !p.self_loops) {
                continue;
            }
            edges.entry((f.from, f.to)).or_default().push(f.event.clone());
        }
        let n_flows: usize = edges.values().map(Vec::len).sum();
        if sub.services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        if n_flows == 0 {
            return CheckResult::not_applicable("no event flows between services");
        }
        for ((a, b), events) in &edges {
            if let (Some(&na), Some(&nb)) = (nodes.get(*a), nodes.get(*b)) {
                g.add_edge(na, nb, events.clone());
            }
        }
        let name = |n: NodeIndex| model.name(g[n]).to_string();
        let mut loops: Vec<Vec<Hop>> = Vec::new();
        for scc in tarjan_scc(&g) {
            let self_loop = scc.len() == 1 && g.find_edge(scc[0], scc[0]).is_some();
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let Some(&start) = scc.iter().min_by_key(|n| name(**n)) else {
                continue;
            };
            if let Some(path) = shortest_loop(&g, start, &scc, &name) {
                loops.push(path);
            }
        }
        loops.sort_by_key(|l| l.first().map(|h| model.name(h.0).to_string()));
        let mut findings = Vec::new();
        let mut evidence = Vec::new();
        for l in &loops {
            let mut text = l.first().map(|h| model.name(h.0).to_string()).unwrap_or_default();
            for (_, to, events) in l {
                text.push_str(&format!(" -[{}]-> {}", events.join(", "), model.name(*to)));
            }
            let Some((from, to, events)) = l.last() else { continue };
            // Point at the consumer's entry that closes the loop.
            let span = sub.services.get(*to).and_then(|s| {
                s.consumes
                    .iter()
                    .find(|c| events.first() == Some(&c.name))
                    .and_then(|c| c.span.as_ref())
            });
            let help = if from == to {
                format!(
                    "`{}` consumes {} that it publishes itself: handle it in-process (or through its outbox) \
                     instead of through the broker",
                    model.name(*to),
                    events.join(", ")
                )
            } else {
                format!(
                    "break the loop at one edge (e.g. {} consuming {} from {}): orchestrate the process with a saga, \
                     or stop reacting to the event that closes it",
                    model.name(*to),
                    events.join(", "),
                    model.name(*from)
                )
            };
            findings.push(ctx.manifest_finding(span, format!("event loop: {text}")).help(help));
            evidence.push(format!("loop: {text}"));
        }
        let mut r = CheckResult::from_findings(findings);
        if loops.is_empty() {
            r.evidence.push(format!(
                "{n_flows} event flows between {} services, no loop",
                sub.services.len()
            ));
        }
        r.evidence.extend(evidence);
        r
    }
}

/// The shortest loop from `start` back to itself inside `scc` (BFS, neighbours by name).
fn shortest_loop(
    g: &DiGraph<usize, Vec<String>>,
    start: NodeIndex,
    scc: &[NodeIndex],
    name: &dyn Fn(NodeIndex) -> String,
) -> Option<Vec<Hop>> {
    let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let mut next: Vec<(NodeIndex, Vec<String>)> = g
            .edges_directed(n, Direction::Outgoing)
            .map(|e| (e.target(), e.weight().clone()))
            .filter(|(t, _)| scc.contains(t))
            .collect();
        next.sort_by_key(|(t, _)| name(*t));
        for (t, _) in next {
            if t == start {
                let mut nodes = vec![start, n];
                let mut cur = n;
                while cur != start {
                    cur = *prev.get(&cur)?;
                    nodes.push(cur);
                }
                nodes.reverse();
                let hops = nodes
                    .windows(2)
                    .filter_map(|w| {
                        let e = g.find_edge(w[0], w[1])?;
                        Some((g[w[0]], g[w[1]], g[e].clone()))
                    })
                    .collect();
                return Some(hops);
            }
            if t != start && !prev.contains_key(&t) {
                prev.insert(t, n);
                queue.push_back(t);
            }
        }
    }
    None
}
