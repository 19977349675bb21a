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

    /// Every elementary synchronous cycle up to the default bounds
    /// ([`DEFAULT_MAX_CYCLES`], [`DEFAULT_SEARCH_BUDGET`]), in the order of
    /// [`elementary_cycles`](Self::elementary_cycles).
    pub fn sync_cycles(&self) -> Vec<Vec<CallEdge>> {
        self.elementary_cycles(DEFAULT_MAX_CYCLES, DEFAULT_SEARCH_BUDGET).cycles
    }

    /// Rank of each node: its position when services are sorted by name (ties by index).
    fn ranks(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.sync.node_count()).collect();
        order.sort_by(|a, b| {
            self.names[self.sync[NodeIndex::new(*a)]]
                .cmp(&self.names[self.sync[NodeIndex::new(*b)]])
                .then(a.cmp(b))
        });
        let mut rank = vec![0; order.len()];
        for (r, n) in order.into_iter().enumerate() {
            rank[n] = r;
        }
        rank
    }

    /// Distinct callees of every node (the first call to each), sorted by name: parallel calls
    /// (a service listing the same callee twice) are one edge of the walks below.
    fn adjacency(&self) -> Vec<Vec<(NodeIndex, CallEdge)>> {
        self.sync
            .node_indices()
            .map(|n| {
                let mut v = self.callees(n);
                v.dedup_by_key(|(t, _)| *t);
                v
            })
            .collect()
    }

    /// The services (indices into `Submission::services`) that lie on at least one synchronous
    /// cycle: the members of strongly connected components with two or more services, and
    /// services that call themselves. Exact, whatever the bounds of the cycle enumeration.
    pub fn services_on_cycles(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for scc in tarjan_scc(&self.sync) {
            let self_loop = scc.len() == 1 && self.sync.find_edge(scc[0], scc[0]).is_some();
            if scc.len() >= 2 || self_loop {
                out.extend(scc.iter().map(|n| self.sync[*n]));
            }
        }
        out.sort_by(|a, b| self.names[*a].cmp(&self.names[*b]));
        out
    }

    /// Every call edge that lies on some synchronous cycle: the edges inside a strongly
    /// connected component (each of them closes a cycle), self-calls included.
    pub fn cycle_calls(&self) -> Vec<CallEdge> {
        let sccs = tarjan_scc(&self.sync);
        let mut comp = vec![usize::MAX; self.sync.node_count()];
        for (i, scc) in sccs.iter().enumerate() {
            for n in scc {
                comp[n.index()] = i;
            }
        }
        let mut out: Vec<CallEdge> = self
            .sync
            .edge_references()
            .filter(|e| {
                let (a, b) = (e.source(), e.target());
                a == b || (comp[a.index()] == comp[b.index()] && sccs[comp[a.index()]].len() >= 2)
            })
            .map(|e| *e.weight())
            .collect();
        out.sort_by_key(|e| (e.from, e.call));
        out
    }

    /// Elementary synchronous cycles (no service twice), shortest first: by length, then by
    /// the names along the cycle, each written from its alphabetically first service. At most
    /// `max_cycles` are returned; the search visits at most `budget` services in all (a
    /// deterministic bound, never a time limit).
    ///
    /// Cycles are enumerated length by length (1, 2, ...): for each root service, in name
    /// order, a depth-first walk of the paths of exactly that length through services of its
    /// strongly connected component that sort after the root, pruned by the shortest distance
    /// back to the root. So when the enumeration stops at `max_cycles`, the cycles returned
    /// are exactly the first ones in that order.
    pub fn elementary_cycles(&self, max_cycles: usize, budget: usize) -> CycleSearch {
        let n = self.sync.node_count();
        let rank = self.ranks();
        let adj = self.adjacency();
        let mut comp = vec![usize::MAX; n];
        for (i, scc) in tarjan_scc(&self.sync).iter().enumerate() {
            for v in scc {
                comp[v.index()] = i;
            }
        }
        let mut size = BTreeMap::<usize, usize>::new();
        for &c in &comp {
            *size.entry(c).or_default() += 1;
        }
        // A root closes cycles only inside a component of two or more, or through a self-call.
        let cyclic =
            |v: usize| size[&comp[v]] >= 2 || self.sync.find_edge(NodeIndex::new(v), NodeIndex::new(v)).is_some();
        // Roots in name order; for each, the distance back to it through the services allowed on
        // its cycles (same component, sorting after it).
        let mut roots: Vec<usize> = (0..n).filter(|&v| cyclic(v)).collect();
        roots.sort_by_key(|&v| rank[v]);
        let mut dist_back: Vec<Vec<usize>> = Vec::with_capacity(roots.len());
        for &s in &roots {
            let mut dist = vec![usize::MAX; n];
            dist[s] = 0;
            let mut queue = VecDeque::from([s]);
            while let Some(v) = queue.pop_front() {
                for e in self.sync.edges_directed(NodeIndex::new(v), Direction::Incoming) {
                    let u = e.source().index();
                    if comp[u] == comp[s] && rank[u] > rank[s] && dist[u] == usize::MAX {
                        dist[u] = dist[v] + 1;
                        queue.push_back(u);
                    }
                }
            }
            dist_back.push(dist);
        }
        // Its cycles pass only through services of its component that sort after it.
        let room: Vec<usize> = roots
            .iter()
            .map(|&s| (0..n).filter(|&v| comp[v] == comp[s] && rank[v] >= rank[s]).count())
            .collect();
        let longest = room.iter().copied().max().unwrap_or(0);
        let mut search = CycleSearch::default();
        let mut walk = CycleWalk {
            adj: &adj,
            rank: &rank,
            comp: &comp,
            on_path: vec![false; n],
            path: Vec::new(),
            steps: 0,
            budget,
            want: max_cycles.saturating_add(1),
            found: Vec::new(),
        };
        for length in 1..=longest {
            for (i, &s) in roots.iter().enumerate() {
                if length > room[i] {
                    continue;
                }
                walk.on_path[s] = true;
                let done = walk.from(s, s, length, &dist_back[i]);
                walk.on_path[s] = false;
                if let Err(stop) = done {
                    search.stop = Some(match stop {
                        WalkStop::Enough => CycleStop::TooMany,
                        WalkStop::Budget => CycleStop::Budget { length },
                    });
                    break;
                }
            }
            if search.stop.is_some() {
                break;
            }
        }
        search.steps = walk.steps;
        let mut found = walk.found;
        if found.len() > max_cycles {
            found.truncate(max_cycles);
            search.stop = Some(CycleStop::TooMany);
        }
        search.cycles = found;
        search
    }

    /// The longest simple chain of synchronous calls (no service twice), as edges.
    ///
    /// Without cycles the graph is a DAG and the answer is exact (dynamic programming over a
    /// topological order). With cycles the problem is NP-hard: a depth-first walk of the simple
    /// paths from every service (in name order, callees in name order) keeps the longest, follows
    /// chains to at most `max_len` calls and visits at most `budget` services in all; the
    /// result says whether a bound cut the search short. Ties go to the first chain in name
    /// order.
    pub fn longest_simple_chain(&self, max_len: usize, budget: usize) -> ChainSearch {
        if let Some(chain) = self.longest_sync_chain() {
            return ChainSearch {
                chain,
                acyclic: true,
                stop: None,
                steps: 0,
            };
        }
        let n = self.sync.node_count();
        let rank = self.ranks();
        let adj = self.adjacency();
        let mut starts: Vec<usize> = (0..n).collect();
        starts.sort_by_key(|&v| rank[v]);
        let mut walk = ChainWalk {
            adj: &adj,
            on_path: vec![false; n],
            path: Vec::new(),
            best: Vec::new(),
            steps: 0,
            budget,
            max_len: max_len.min(n.saturating_sub(1)),
            budget_hit: false,
        };
        for s in starts {
            if walk.best.len() >= walk.max_len || walk.budget_hit {
                break;
            }
            walk.on_path[s] = true;
            walk.from(s);
            walk.on_path[s] = false;
        }
        let stop = if walk.budget_hit {
            Some(ChainStop::Budget)
        } else if walk.best.len() >= walk.max_len && max_len < n.saturating_sub(1) {
            Some(ChainStop::Depth)
        } else {
            None
        };
        ChainSearch {
            chain: walk.best,
            acyclic: false,
            stop,
            steps: walk.steps,
        }
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

/// Default bound of [`SystemModel::sync_cycles`]: cycles listed.
pub const DEFAULT_MAX_CYCLES: usize = 50;
/// Default bound of the graph searches: services visited in all.
pub const DEFAULT_SEARCH_BUDGET: usize = 100_000;

/// What [`SystemModel::elementary_cycles`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CycleSearch {
    /// The cycles, shortest first, each as the call edges from its alphabetically first service.
    pub cycles: Vec<Vec<CallEdge>>,
    /// Why the list may be incomplete; `None`: these are all the elementary cycles.
    pub stop: Option<CycleStop>,
    /// Services visited.
    pub steps: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleStop {
    /// There are more cycles than the bound: the listed ones are the shortest.
    TooMany,
    /// The budget ran out while enumerating cycles of `length` calls: every cycle shorter than
    /// that is listed, some of that length may be missing, and longer ones are not searched.
    Budget { length: usize },
}

/// What [`SystemModel::longest_simple_chain`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSearch {
    /// The longest chain found (empty without calls).
    pub chain: Vec<CallEdge>,
    /// The graph has no cycle: the chain is exact.
    pub acyclic: bool,
    /// Why a longer chain may exist; `None`: the chain is the longest.
    pub stop: Option<ChainStop>,
    /// Services visited (0 for the exact acyclic computation).
    pub steps: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainStop {
    /// The chain found reached the depth bound: longer ones were not searched.
    Depth,
    /// The budget of visited services ran out.
    Budget,
}

enum WalkStop {
    Enough,
    Budget,
}

struct CycleWalk<'a> {
    adj: &'a [Vec<(NodeIndex, CallEdge)>],
    rank: &'a [usize],
    comp: &'a [usize],
    on_path: Vec<bool>,
    path: Vec<CallEdge>,
    steps: usize,
    budget: usize,
    want: usize,
    found: Vec<Vec<CallEdge>>,
}

impl CycleWalk<'_> {
    /// Extends the path (ending at `v`) towards cycles of exactly `length` calls back to `s`.
    fn from(&mut self, s: usize, v: usize, length: usize, dist: &[usize]) -> Result<(), WalkStop> {
        self.steps += 1;
        if self.steps > self.budget {
            return Err(WalkStop::Budget);
        }
        let depth = self.path.len();
        for &(t, e) in &self.adj[v] {
            let w = t.index();
            if depth + 1 == length {
                if w == s {
                    let mut cycle = self.path.clone();
                    cycle.push(e);
                    self.found.push(cycle);
                    if self.found.len() >= self.want {
                        return Err(WalkStop::Enough);
                    }
                }
                continue;
            }
            if w == s || self.on_path[w] || self.comp[w] != self.comp[s] || self.rank[w] <= self.rank[s] {
                continue;
            }
            if dist[w] == usize::MAX || depth + 1 + dist[w] > length {
                continue;
            }
            self.on_path[w] = true;
            self.path.push(e);
            let r = self.from(s, w, length, dist);
            self.path.pop();
            self.on_path[w] = false;
            r?;
        }
        Ok(())
    }
}

struct ChainWalk<'a> {
    adj: &'a [Vec<(NodeIndex, CallEdge)>],
    on_path: Vec<bool>,
    path: Vec<CallEdge>,
    best: Vec<CallEdge>,
    steps: usize,
    budget: usize,
    max_len: usize,
    budget_hit: bool,
}

impl ChainWalk<'_> {
    fn from(&mut self, v: usize) {
        self.steps += 1;
        if self.steps > self.budget {
            self.budget_hit = true;
            return;
        }
        if self.path.len() > self.best.len() {
            self.best = self.path.clone();
        }
        if self.path.len() >= self.max_len {
            return;
        }
        // Prune: even visiting every service not on the path cannot beat the best.
        let left = self.on_path.len() - (self.path.len() + 1);
        if self.path.len() + left <= self.best.len() {
            return;
        }
        for &(t, e) in &self.adj[v] {
            let w = t.index();
            if self.on_path[w] {
                continue;
            }
            self.on_path[w] = true;
            self.path.push(e);
            self.from(w);
            self.path.pop();
            self.on_path[w] = false;
            if self.budget_hit || self.best.len() >= self.max_len {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model straight from `a>b` edges (services named by letters, calls in edge order).
    fn model(edges: &str) -> SystemModel {
        let mut m = SystemModel::default();
        let mut calls: BTreeMap<usize, usize> = BTreeMap::new();
        for pair in edges.split_whitespace() {
            let (a, b) = pair.split_once('>').expect("a>b");
            for name in [a, b] {
                if !m.nodes.contains_key(name) {
                    let i = m.names.len();
                    let n = m.sync.add_node(i);
                    m.nodes.insert(name.to_string(), n);
                    m.names.push(name.to_string());
                }
            }
            let (na, nb) = (m.nodes[a], m.nodes[b]);
            let from = m.sync[na];
            let call = calls.entry(from).or_default();
            m.sync.add_edge(na, nb, CallEdge { from, call: *call });
            *call += 1;
        }
        m
    }

    fn show(m: &SystemModel, chain: &[CallEdge]) -> String {
        let mut parts = vec![m.names[chain[0].from].clone()];
        for e in chain {
            let edge = m.sync.edge_references().find(|r| r.weight() == e).expect("edge");
            parts.push(m.names[m.sync[edge.target()]].clone());
        }
        parts.join(">")
    }

    fn cycles(m: &SystemModel, max: usize, budget: usize) -> (Vec<String>, Option<CycleStop>) {
        let s = m.elementary_cycles(max, budget);
        (s.cycles.iter().map(|c| show(m, c)).collect(), s.stop)
    }

    #[test]
    fn every_elementary_cycle_shortest_first() {
        // Two cycles through `a` in one component, a self-call, an acyclic tail.
        let m = model("a>b b>a a>c c>d d>a z>z d>e e>f");
        assert_eq!(
            cycles(&m, 50, 1000),
            (vec!["z>z".into(), "a>b>a".into(), "a>c>d>a".into()], None)
        );
        assert_eq!(m.services_on_cycles().len(), 5);
        assert_eq!(m.cycle_calls().len(), 6);
    }

    #[test]
    fn parallel_calls_are_one_cycle() {
        let m = model("a>b a>b b>a");
        assert_eq!(cycles(&m, 50, 1000).0, vec!["a>b>a".to_string()]);
    }

    #[test]
    fn complete_graph_stops_at_the_bound_with_the_shortest() {
        // K5 has 84 elementary cycles: 10 of length 2, 20 of 3, 30 of 4, 24 of 5.
        let names = ["a", "b", "c", "d", "e"];
        let mut edges = String::new();
        for x in names {
            for y in names {
                if x != y {
                    edges.push_str(&format!("{x}>{y} "));
                }
            }
        }
        let m = model(&edges);
        assert_eq!(m.elementary_cycles(1000, 100_000).cycles.len(), 84);
        let (c, stop) = cycles(&m, 12, 100_000);
        assert_eq!(stop, Some(CycleStop::TooMany));
        assert_eq!(c.len(), 12);
        assert_eq!(c[0], "a>b>a");
        assert_eq!(c[9], "d>e>d");
        assert_eq!(c[10], "a>b>c>a");
        assert_eq!(c[11], "a>b>d>a");
        // Exactly the bound: complete, no stop.
        assert_eq!(m.elementary_cycles(84, 100_000).stop, None);
        // A tiny budget stops inside a length and says which.
        let (c, stop) = cycles(&m, 50, 12);
        assert!(
            matches!(stop, Some(CycleStop::Budget { length: 2 | 3 })),
            "{stop:?} {c:?}"
        );
        // Deterministic.
        assert_eq!(cycles(&m, 50, 12), cycles(&m, 50, 12));
    }

    #[test]
    fn longest_simple_chain_with_cycles() {
        // a<->b cycle, then b>c>d>e: the longest simple chain is a>b>c>d>e.
        let m = model("a>b b>a b>c c>d d>e");
        let s = m.longest_simple_chain(32, 10_000);
        assert!(!s.acyclic);
        assert_eq!(s.stop, None);
        assert_eq!(show(&m, &s.chain), "a>b>c>d>e");
        // Depth bound.
        let s = m.longest_simple_chain(2, 10_000);
        assert_eq!(s.stop, Some(ChainStop::Depth));
        assert_eq!(s.chain.len(), 2);
        // Budget bound.
        let s = m.longest_simple_chain(32, 2);
        assert_eq!(s.stop, Some(ChainStop::Budget));
        // Acyclic: exact, no search.
        let m = model("a>b b>c a>c");
        let s = m.longest_simple_chain(32, 0);
        assert!(s.acyclic);
        assert_eq!(show(&m, &s.chain), "a>b>c");
    }
}
