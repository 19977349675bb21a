//! The system model: services and their synchronous calls as a petgraph graph.
//! Built from the submission; checks query it, never the raw manifest structure.

use std::collections::{BTreeMap, VecDeque};

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::submission::Submission;

pub mod render;

/// A synchronous call: `calls[call]` of service `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallEdge {
    pub from: usize,
    pub call: usize,
}

/// An asynchronous flow: service `from` publishes `event`, which service `to` consumes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventFlow {
    pub from: usize,
    pub to: usize,
    pub event: String,
}

#[derive(Debug, Default)]
pub struct SystemModel {
    /// Nodes are service indices into `Submission::services`.
    pub sync: DiGraph<usize, CallEdge>,
    /// Publish -> consume flows, matched by event name, sorted.
    pub flows: Vec<EventFlow>,
    nodes: BTreeMap<String, NodeIndex>,
    names: Vec<String>,
}

impl SystemModel {
    pub fn build(sub: &Submission) -> SystemModel {
        let mut m = SystemModel::default();
        for (i, s) in sub.services.iter().enumerate() {
            let n = m.sync.add_node(i);
            m.nodes.insert(s.name.name.clone(), n);
            m.names.push(s.name.name.clone());
        }
        for (i, s) in sub.services.iter().enumerate() {
            for (c, callee) in s.calls.iter().enumerate() {
                if let (Some(&a), Some(&b)) = (m.nodes.get(&s.name.name), m.nodes.get(&callee.name)) {
                    m.sync.add_edge(a, b, CallEdge { from: i, call: c });
                }
            }
        }
        for (from, p) in sub.services.iter().enumerate() {
            for event in &p.publishes {
                for (to, c) in sub.services.iter().enumerate() {
                    if c.consumes.iter().any(|e| e.name == event.name) {
                        m.flows.push(EventFlow {
                            from,
                            to,
                            event: event.name.clone(),
                        });
                    }
                }
            }
        }
        m.flows.sort();
        m.flows.dedup();
        m
    }

    pub fn name(&self, service: usize) -> &str {
        &self.names[service]
    }

    /// Callees of `n`, sorted by name for deterministic walks.
    fn callees(&self, n: NodeIndex) -> Vec<(NodeIndex, CallEdge)> {
        let mut v: Vec<_> = self
            .sync
            .edges_directed(n, Direction::Outgoing)
            .map(|e| (e.target(), *e.weight()))
            .collect();
        v.sort_by(|a, b| {
            self.names[self.sync[a.0]]
                .cmp(&self.names[self.sync[b.0]])
                .then(a.1.call.cmp(&b.1.call))
        });
        v
    }

    /// One concrete cycle per strongly connected component that has one, as the list of call
    /// edges that close it, starting from the alphabetically first service of the component.
    pub fn sync_cycles(&self) -> Vec<Vec<CallEdge>> {
        let mut out = Vec::new();
        for scc in tarjan_scc(&self.sync) {
            let self_loop = scc.len() == 1 && self.sync.find_edge(scc[0], scc[0]).is_some();
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let start = *scc
                .iter()
                .min_by(|a, b| self.names[self.sync[**a]].cmp(&self.names[self.sync[**b]]))
                .unwrap_or(&scc[0]);
            if let Some(path) = self.path_back(start, &scc) {
                out.push(path);
            }
        }
        out.sort_by(|a, b| self.names[a[0].from].cmp(&self.names[b[0].from]));
        out
    }

    /// Shortest path of edges from `start` back to itself, inside `scc` (BFS).
    fn path_back(&self, start: NodeIndex, scc: &[NodeIndex]) -> Option<Vec<CallEdge>> {
        let mut prev: BTreeMap<NodeIndex, (NodeIndex, CallEdge)> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            for (t, e) in self.callees(n) {
                if !scc.contains(&t) {
                    continue;
                }
                if t == start {
                    let mut path = vec![e];
                    let mut cur = n;
                    while cur != start {
                        let (p, pe) = prev[&cur];
                        path.push(pe);
                        cur = p;
                    }
                    path.reverse();
                    return Some(path);
                }
                if let std::collections::btree_map::Entry::Vacant(v) = prev.entry(t) {
                    v.insert((n, e));
                    queue.push_back(t);
                }
            }
        }
        None
    }

    /// The longest chain of synchronous calls (as edges), or `None` when the graph has a cycle.
    pub fn longest_sync_chain(&self) -> Option<Vec<CallEdge>> {
        let order = toposort(&self.sync, None).ok()?;
        // best[n] = longest chain starting at n
        let mut best: BTreeMap<NodeIndex, Vec<CallEdge>> = BTreeMap::new();
        for &n in order.iter().rev() {
            let mut chain = Vec::new();
            for (t, e) in self.callees(n) {
                let tail = best.get(&t).map(Vec::len).unwrap_or(0);
                if tail + 1 > chain.len() {
                    let mut c = vec![e];
                    c.extend(best.get(&t).cloned().unwrap_or_default());
                    chain = c;
                }
            }
            best.insert(n, chain);
        }
        let mut starts: Vec<NodeIndex> = self.sync.node_indices().collect();
        starts.sort_by(|a, b| self.names[self.sync[*a]].cmp(&self.names[self.sync[*b]]));
        let mut longest: Vec<CallEdge> = Vec::new();
        for n in starts {
            if let Some(c) = best.get(&n) {
                if c.len() > longest.len() {
                    longest = c.clone();
                }
            }
        }
        Some(longest)
    }

    /// `a -> b -> c` for a chain of call edges.
    pub fn describe_chain(&self, sub: &Submission, chain: &[CallEdge]) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(first) = chain.first() {
            parts.push(self.name(first.from));
        }
        for e in chain {
            parts.push(&sub.services[e.from].calls[e.call].name);
        }
        parts.join(" -> ")
    }
}
