use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::checks::oas::walk::{status_class, Api};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::probe::http::HttpError;
use crate::probe::proxy::{EdgeProxy, Fault};
use crate::probe::{LiveService, System};

use super::support::{
    at_service, discover_triggers, get_only, ready_services, send, service_api, with_live, Planned, Refusals, Trigger,
    BEARER_PARAM, DEFAULT_TOKEN,
};

pub struct ResilienceMissing;

const DOCS: &str = r#"## What it checks
How a running service behaves when a service it calls fails. The grader finds, by calling
each service's operations, a request that makes service A call service B (seen at the
grader's proxy on the edge A -> B). Then, for each such edge in turn, it injects each fault
in turn on the edge — `latency_ms` of added latency, HTTP 503 answers from B, connection
resets, a blackhole (accepted, never answered) — and sends that request to A sequentially,
one every `interval_ms`, each with a client timeout of `budget_ms` + 500 ms. The fault window
lasts `window_ms` and until at least `min_requests` requests were sent (never longer than
3 x `window_ms`). Under each fault:

1. **bounded response time**: every answer of A arrives within `budget_ms`; one late answer
   per window is tolerated (a scheduling hiccup on a busy grading machine), a request the
   client gave up on (after `budget_ms` + 500 ms) never is;
2. **graceful answer**: every answer is a 2xx, a 503 or 504, or another status that the
   operation documents in A's OpenAPI document (an exact code or a range like `5XX`; never a
   500) — not a 500 and not a dropped or malformed answer;
3. **fails fast**: during the later half of the requests sent in the window (from request
   n/2 on, n the number sent), the calls that reach B at the proxy are fewer than half of
   those requests: after the first failures A stops calling B (a circuit breaker opened).
   Judged only when at least 4 requests were sent (otherwise the answers were too slow, which
   rule 1 reports);
4. **recovery**: once the fault is lifted, A's answer to the request is again of the same
   status class as before the faults, with a call reaching B, within `recovery_ms` (polled
   every 100 ms).

The fault is always lifted before the next one. Partial credit per edge: edges that meet all
four rules under all four faults / edges whose calls could be triggered. Skipped when no
request makes a running service call another running service.

Time: per edge, about 4 x (`window_ms` + the recovery time); with the defaults about 10 s
for a resilient service, at most about 4 x (3 x `window_ms` + `recovery_ms`) = 38 s for one
that hangs. At most `max_edges` edges are probed. Edges whose requests cross no common
proxy (as seen with no fault) and that have different callers are probed side by side;
the others one after the other. Side by side, another edge's faults can only make an edge
look worse, never better, so an edge that fails there is measured again alone and judged on
that; the evidence names the lanes and every edge measured again.

## Why it matters
A dependency that is slow or down is the normal case in a distributed system (Week 4:
synchronous communication, resilience patterns for service calls: circuit breaker, retries
with backoff; Week 9: chaos engineering and fault injection). A caller without a timeout
holds a thread per request until it runs out and fails too; a caller without a circuit
breaker keeps hammering a struggling dependency and slows its recovery; a caller that turns
every dependency error into a 500 spreads the failure to its own clients.

## How to fix
- Put a **timeout** on every outgoing call, well under your own latency budget.
- Wrap calls in a **circuit breaker** (resilience4j, Polly, pybreaker, opossum, gobreaker):
  open after a few consecutive failures, fail fast while open, let a trial call through
  after a cool-down (half-open) and close again when it succeeds. Configure it so it can
  open after a handful of calls (resilience4j's default `minimumNumberOfCalls` is 100).
- Answer with a **fallback**: a degraded response (cached or partial data) documented in
  your OpenAPI document, or 503 with `Retry-After`; never a 500 for someone else's failure.
- Isolate dependencies with **bulkheads** (a bounded pool per dependency) so one slow
  dependency cannot take every worker.

## Example
```python
breaker = pybreaker.CircuitBreaker(fail_max=3, reset_timeout=1)

def get_part():
    try:
        r = breaker.call(requests.get, PAYMENTS_URL + "/v1/part", timeout=0.3)
        return r.json()["part"]
    except (pybreaker.CircuitBreakerError, requests.RequestException):
        return None          # answered as {"thing": "t1", "part": null, "degraded": true}
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Latency added on the edge for the latency fault, in milliseconds.
    pub latency_ms: u64,
    /// Length of each fault window, in milliseconds.
    pub window_ms: u64,
    /// Fewest requests sent in a fault window (the window is extended up to 3 x `window_ms`).
    pub min_requests: usize,
    /// Time between the starts of two requests in a window, in milliseconds.
    pub interval_ms: u64,
    /// Longest acceptable answer time under a fault, in milliseconds.
    pub budget_ms: u64,
    /// How long the service may take to recover once the fault is lifted, in milliseconds.
    pub recovery_ms: u64,
    /// Most edges probed.
    pub max_edges: usize,
    /// Methods of the operations used to find calls to dependencies.
    pub methods: Vec<String>,
    /// Bearer token sent to operations that require bearer authentication.
    pub bearer_token: String,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            latency_ms: 2000,
            window_ms: 1500,
            min_requests: 10,
            interval_ms: 50,
            budget_ms: 1000,
            recovery_ms: 5000,
            max_edges: 8,
            methods: get_only(),
            bearer_token: DEFAULT_TOKEN.into(),
        }
    }
}

impl TypedCheck for ResilienceMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB005",
        name: "resilience-missing",
        area: Area::Prb,
        kind: Kind::Probe,
        summary: "A service hangs, fails with 500, keeps calling a failing dependency or does not recover when a dependency fails",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "latency_ms",
                ty: "integer",
                description: "latency added on the edge for the latency fault, in milliseconds (default 2000)",
            },
            ParamDoc {
                name: "window_ms",
                ty: "integer",
                description: "length of each fault window, in milliseconds (default 1500)",
            },
            ParamDoc {
                name: "min_requests",
                ty: "integer",
                description: "fewest requests sent in a fault window; the window is extended up to 3 x window_ms (default 10)",
            },
            ParamDoc {
                name: "interval_ms",
                ty: "integer",
                description: "time between the starts of two requests in a fault window, in milliseconds (default 50)",
            },
            ParamDoc {
                name: "budget_ms",
                ty: "integer",
                description: "longest acceptable answer time while a dependency fails, in milliseconds (default 1000)",
            },
            ParamDoc {
                name: "recovery_ms",
                ty: "integer",
                description: "how long the service may take to answer normally again once the fault is lifted, in milliseconds (default 5000)",
            },
            ParamDoc {
                name: "max_edges",
                ty: "integer",
                description: "most dependency edges probed (each takes about 10 s or more)",
            },
            ParamDoc {
                name: "methods",
                ty: "array of strings",
                description: "HTTP methods of the operations used to find calls to dependencies (default only `get`)",
            },
            BEARER_PARAM,
        ],
    };

    fn run(ctx: &Ctx<'_>, params: &Params) -> CheckResult {
        with_live(ctx, |system| evaluate(ctx, params, system))
    }
}

/// The knobs, bounded.
#[derive(Debug, Clone, Copy)]
struct Limits {
    latency: Duration,
    window: Duration,
    min_requests: usize,
    interval: Duration,
    budget: Duration,
    client_timeout: Duration,
    recovery: Duration,
}

impl Limits {
    fn from(p: &Params) -> Limits {
        let ms = |v: u64, lo: u64, hi: u64| Duration::from_millis(v.clamp(lo, hi));
        let budget = ms(p.budget_ms, 10, 60_000);
        Limits {
            latency: ms(p.latency_ms, 1, 120_000),
            window: ms(p.window_ms, 100, 60_000),
            min_requests: p.min_requests.clamp(1, 1000),
            interval: ms(p.interval_ms, 1, 10_000),
            budget,
            client_timeout: budget + Duration::from_millis(500),
            recovery: ms(p.recovery_ms, 100, 120_000),
        }
    }
}

/// The four faults, in the order they are injected.
fn faults(l: &Limits) -> [Fault; 4] {
    [
        Fault::Latency(l.latency),
        Fault::Status(503),
        Fault::Reset,
        Fault::Blackhole,
    ]
}

fn short(f: &Fault) -> &'static str {
    match f {
        Fault::None => "none",
        Fault::Latency(_) => "latency",
        Fault::Status(_) => "HTTP 503",
        Fault::Reset => "reset",
        Fault::Blackhole => "blackhole",
    }
}

/// Lifts the fault on drop, so an early return never leaves an edge broken.
struct FaultGuard<'a>(&'a EdgeProxy);

impl Drop for FaultGuard<'_> {
    fn drop(&mut self) {
        self.0.set_fault(Fault::None);
    }
}

/// What one request to A came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Status(u16),
    /// The client gave up after its timeout.
    Timeout,
    /// Reset, closed early, not HTTP.
    Dropped,
}

#[derive(Debug, Clone)]
struct Sample {
    elapsed: Duration,
    answer: Answer,
}

/// Everything measured under one fault.
#[derive(Debug, Clone)]
struct Run {
    fault: Fault,
    samples: Vec<Sample>,
    /// Requests in the later half of the window and the calls that reached B meanwhile.
    later: Option<(usize, u64)>,
    /// Recovery time, or `None` when it did not recover in time.
    recovered: Option<Duration>,
    last_recovery_answer: Option<Answer>,
}

/// One rule broken under one fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    Slow,
    Ungraceful,
    Hammering,
    NoRecovery,
}

/// One edge to probe: its caller, the request that makes the caller use it, and what that
/// request looks like with no fault.
struct Probe<'a> {
    svc: &'a LiveService,
    edge: &'a EdgeProxy,
    trigger: Trigger,
    documented: Vec<String>,
    baseline: u16,
    /// Proxies (indices in `System::proxies`) the request crossed with no fault: the part of
    /// the system probing this edge sets in motion.
    touched: BTreeSet<usize>,
}

fn evaluate(ctx: &Ctx<'_>, p: &Params, system: &System) -> CheckResult {
    let limits = Limits::from(p);
    let mut evidence = Vec::new();
    let mut untriggered = Vec::new();
    // Requests refused for want of credentials while looking for calls.
    let mut refused = Refusals::default();
    let mut probes: Vec<Probe<'_>> = Vec::new();
    for svc in ready_services(system) {
        let outgoing: Vec<&EdgeProxy> = system.proxies.iter().filter(|x| x.caller == svc.name).collect();
        if outgoing.is_empty() {
            continue;
        }
        let Some(api) = service_api(ctx, svc) else {
            untriggered.push(format!("{} (no readable OpenAPI document to call)", svc.name));
            continue;
        };
        let triggers = discover_triggers(system, svc, &api, &p.methods, &p.bearer_token);
        refused.add(&triggers.refused);
        for edge in outgoing {
            let Some(t) = triggers.found.iter().find(|t| t.callees.contains(&edge.callee)) else {
                if edge.declared {
                    untriggered.push(format!(
                        "{} -> {} (no {} operation made it call `{}`{})",
                        svc.name,
                        edge.callee,
                        p.methods.join("/").to_ascii_uppercase(),
                        edge.callee,
                        triggers.refusal_note()
                    ));
                }
                continue;
            };
            if probes.len() >= p.max_edges {
                untriggered.push(format!("{} -> {} (beyond max_edges)", svc.name, edge.callee));
                continue;
            }
            let Some((baseline, touched)) = baseline(system, svc, edge, &t.request, &limits) else {
                untriggered.push(format!(
                    "{} -> {} (`{} {}` no longer answered with a call to `{}`)",
                    svc.name, edge.callee, t.request.method, t.request.target, edge.callee
                ));
                continue;
            };
            probes.push(Probe {
                svc,
                edge,
                documented: documented_statuses(&api, t),
                trigger: t.clone(),
                baseline,
                touched,
            });
        }
    }
    if probes.is_empty() {
        return super::support::no_call_observed(ctx, &refused, &untriggered);
    }
    let keys: Vec<(&str, &BTreeSet<usize>)> = probes.iter().map(|p| (p.svc.name.as_str(), &p.touched)).collect();
    let lanes = lanes(&keys);
    // Lanes run side by side; a failure seen alongside other lanes is measured again alone
    // (another lane's faults can only make an edge look worse, never better).
    let mut results: Vec<Option<EdgeRuns>> = (0..probes.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .iter()
            .map(|lane| {
                let probes = &probes;
                let limits = &limits;
                scope.spawn(move || {
                    lane.iter()
                        .map(|&i| (i, probe_edge(system, &probes[i], limits)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            if let Ok(done) = h.join() {
                for (i, runs) in done {
                    results[i] = Some(runs);
                }
            }
        }
    });
    let mut rerun = Vec::new();
    for (i, r) in results.iter_mut().enumerate() {
        let failed = r.as_ref().is_none_or(|runs| runs.iter().any(|(_, b)| !b.is_empty()));
        if failed && (lanes.len() > 1 || r.is_none()) {
            *r = Some(probe_edge(system, &probes[i], &limits));
            rerun.push(i);
        }
    }
    let (mut good, total) = (0, probes.len());
    let mut findings = Vec::new();
    for (i, probe) in probes.iter().enumerate() {
        let Probe {
            svc,
            edge,
            trigger: t,
            documented,
            baseline,
            ..
        } = probe;
        evidence.push(format!(
            "{} -> {}: `{} {}` ({}) answers {} before the faults{}",
            svc.name,
            edge.callee,
            t.request.method,
            t.request.target,
            t.label,
            baseline,
            if rerun.contains(&i) {
                " (measured again alone after a failure seen alongside other edges)"
            } else {
                ""
            }
        ));
        let mut edge_ok = true;
        for (run, broken) in results[i].iter().flatten() {
            evidence.push(describe_run(svc, edge, run));
            if !broken.is_empty() {
                edge_ok = false;
                findings.push(finding(
                    ctx,
                    &Subject {
                        svc,
                        edge,
                        req: &t.request,
                        documented,
                    },
                    run,
                    broken,
                    &limits,
                ));
            }
        }
        if edge_ok {
            good += 1;
        }
    }
    if lanes.len() > 1 {
        let text: Vec<String> = lanes
            .iter()
            .map(|lane| {
                lane.iter()
                    .map(|&i| format!("{} -> {}", probes[i].svc.name, probes[i].edge.callee))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect();
        evidence.push(format!(
            "probed side by side, as their requests cross no common edge and share no caller: [{}]",
            text.join("] [")
        ));
    }
    if !untriggered.is_empty() {
        evidence.push(format!("not evaluated: {}", untriggered.join("; ")));
    }
    CheckResult::ratio(good, total, findings).with_evidence_lines(evidence)
}

/// The four faults on one edge, each with the rules it broke.
type EdgeRuns = Vec<(Run, Vec<Rule>)>;

fn probe_edge(system: &System, probe: &Probe<'_>, limits: &Limits) -> EdgeRuns {
    faults(limits)
        .into_iter()
        .map(|fault| {
            let run = inject(
                system,
                probe.svc,
                probe.edge,
                &probe.trigger.request,
                fault,
                probe.baseline,
                limits,
            );
            let broken = judge(&run, &probe.documented, limits);
            (run, broken)
        })
        .collect()
}

/// Groups the edges into lanes that can be probed at the same time: two edges share a lane
/// (and are probed one after the other) when they have the same caller or their requests
/// crossed a common proxy. Lanes keep the edges' order. `edges`: each edge's caller and the
/// proxies its request crossed.
fn lanes(edges: &[(&str, &BTreeSet<usize>)]) -> Vec<Vec<usize>> {
    super::support::lanes(edges.len(), |a, b| {
        edges[a].0 == edges[b].0 || edges[a].1.intersection(edges[b].1).next().is_some()
    })
}

/// The statuses the trigger's operation documents (exact codes and `NXX` ranges).
fn documented_statuses(api: &Api<'_>, t: &Trigger) -> Vec<String> {
    api.operations()
        .into_iter()
        .find(|o| !o.webhook && o.label() == t.label)
        .map(|op| {
            api.responses(&op)
                .into_iter()
                .filter(|r| status_class(r.code).is_some())
                .map(|r| r.code.to_ascii_uppercase())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `status` is an acceptable answer while a dependency fails.
fn graceful(status: u16, documented: &[String]) -> bool {
    if status == 500 {
        return false;
    }
    if (200..300).contains(&status) || status == 503 || status == 504 {
        return true;
    }
    let code = status.to_string();
    documented.iter().any(|d| {
        *d == code || (d.ends_with("XX") && d.len() == 3 && code.len() == 3 && d.as_bytes()[0] == code.as_bytes()[0])
    })
}

fn ask(system: &System, svc: &LiveService, req: &Planned, timeout: Duration) -> Sample {
    let start = Instant::now();
    let answer = match send(system, svc, req, None, timeout) {
        Ok(r) => Answer::Status(r.status),
        Err(HttpError::Timeout(_)) => Answer::Timeout,
        Err(_) => Answer::Dropped,
    };
    Sample {
        elapsed: start.elapsed(),
        answer,
    }
}

/// The status A answers with no fault, when the request reaches B (up to 3 tries), and the
/// proxies the request crossed.
fn baseline(
    system: &System,
    svc: &LiveService,
    edge: &EdgeProxy,
    req: &Planned,
    l: &Limits,
) -> Option<(u16, BTreeSet<usize>)> {
    edge.set_fault(Fault::None);
    let marks = super::support::proxy_marks(system);
    for _ in 0..3 {
        let before = edge.seen();
        let s = ask(system, svc, req, Duration::from_secs(10).max(l.client_timeout));
        if let Answer::Status(code) = s.answer {
            if edge.seen() > before {
                // Calls a service makes after answering (fire and forget) arrive a little later.
                std::thread::sleep(Duration::from_millis(20));
                let touched = super::support::crossed(system, &marks);
                return Some((code, touched));
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Injects `fault` on `edge`, sends the request through the window, lifts the fault and
/// waits for recovery.
fn inject(
    system: &System,
    svc: &LiveService,
    edge: &EdgeProxy,
    req: &Planned,
    fault: Fault,
    baseline: u16,
    l: &Limits,
) -> Run {
    let guard = FaultGuard(edge);
    edge.set_fault(fault);
    let start = Instant::now();
    let cap = l.window * 3;
    let mut samples = Vec::new();
    let mut seen_before = Vec::new();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= cap || (elapsed >= l.window && samples.len() >= l.min_requests) {
            break;
        }
        seen_before.push(edge.seen());
        let sent = Instant::now();
        samples.push(ask(system, svc, req, l.client_timeout));
        let next = sent + l.interval;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    // Calls caused by the last request arrive before its answer; a retry after a backoff may
    // come a little later.
    std::thread::sleep(Duration::from_millis(50));
    let seen_end = edge.seen();
    let n = samples.len();
    let later = (n >= 4).then(|| {
        let from = n / 2;
        (n - from, seen_end.saturating_sub(seen_before[from]))
    });
    edge.set_fault(Fault::None);
    drop(guard);

    let deadline = Instant::now() + l.recovery;
    let lifted = Instant::now();
    let mut recovered = None;
    let mut last = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let before = edge.seen();
        let s = ask(
            system,
            svc,
            req,
            l.client_timeout.min(left).max(Duration::from_millis(100)),
        );
        let reached = edge.seen() > before;
        let same = matches!(s.answer, Answer::Status(c) if c / 100 == baseline / 100);
        last = Some(s.answer);
        if same && reached {
            recovered = Some(lifted.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100).min(deadline.saturating_duration_since(Instant::now())));
    }
    Run {
        fault,
        samples,
        later,
        recovered,
        last_recovery_answer: last,
    }
}

/// The rules `run` breaks.
fn judge(run: &Run, documented: &[String], l: &Limits) -> Vec<Rule> {
    let mut broken = Vec::new();
    // One late answer is tolerated as a scheduling hiccup of a loaded machine; a request the
    // client gave up on is not.
    let late = run.samples.iter().filter(|s| s.elapsed > l.budget).count();
    if late >= 2 || run.samples.iter().any(|s| s.answer == Answer::Timeout) {
        broken.push(Rule::Slow);
    }
    if run.samples.iter().any(|s| match s.answer {
        Answer::Status(c) => !graceful(c, documented),
        Answer::Dropped => true,
        Answer::Timeout => false,
    }) {
        broken.push(Rule::Ungraceful);
    }
    if let Some((requests, calls)) = run.later {
        if calls * 2 >= requests as u64 {
            broken.push(Rule::Hammering);
        }
    }
    if run.recovered.is_none() {
        broken.push(Rule::NoRecovery);
    }
    broken
}

fn slowest(run: &Run) -> Duration {
    run.samples.iter().map(|s| s.elapsed).max().unwrap_or_default()
}

/// The distinct answers, sorted, e.g. `200, timeout`.
fn answers(run: &Run) -> String {
    let set: BTreeSet<String> = run.samples.iter().map(|s| answer_text(&s.answer)).collect();
    set.into_iter().collect::<Vec<_>>().join(", ")
}

fn answer_text(a: &Answer) -> String {
    match a {
        Answer::Status(c) => c.to_string(),
        Answer::Timeout => "no answer in time".into(),
        Answer::Dropped => "dropped connection".into(),
    }
}

fn describe_run(svc: &LiveService, edge: &EdgeProxy, run: &Run) -> String {
    let later = match run.later {
        Some((requests, calls)) => format!(
            "{calls} calls reached `{}` during the later {requests} requests",
            edge.callee
        ),
        None => "too few requests to judge the calls".into(),
    };
    let recovery = match run.recovered {
        Some(d) => format!("recovered in {} ms", d.as_millis()),
        None => "did not recover".into(),
    };
    format!(
        "{} -> {}, {}: {} requests, slowest {} ms, answers {}; {}; {}",
        svc.name,
        edge.callee,
        short(&run.fault),
        run.samples.len(),
        slowest(run).as_millis(),
        answers(run),
        later,
        recovery
    )
}

/// The edge under test and the request that makes its caller use it.
struct Subject<'a> {
    svc: &'a LiveService,
    edge: &'a EdgeProxy,
    req: &'a Planned,
    documented: &'a [String],
}

fn finding(ctx: &Ctx<'_>, subject: &Subject<'_>, run: &Run, broken: &[Rule], l: &Limits) -> Finding {
    let Subject {
        svc,
        edge,
        req,
        documented,
    } = *subject;
    let callee = &edge.callee;
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    for rule in broken {
        match rule {
            Rule::Slow => {
                let what = if run.samples.iter().any(|s| s.answer == Answer::Timeout) {
                    format!("gave no answer within {} ms", l.client_timeout.as_millis())
                } else {
                    format!("answered late more than once, in up to {} ms", slowest(run).as_millis())
                };
                problems.push(format!("it {what}, over the {} ms budget", l.budget.as_millis()));
                fixes.push(format!(
                    "put a timeout well under {} ms on the calls to `{callee}`",
                    l.budget.as_millis()
                ));
            }
            Rule::Ungraceful => {
                let bad: BTreeSet<String> = run
                    .samples
                    .iter()
                    .filter_map(|s| match s.answer {
                        Answer::Status(c) if !graceful(c, documented) => Some(format!("`{c}`")),
                        Answer::Dropped => Some("a dropped connection".into()),
                        _ => None,
                    })
                    .collect();
                problems.push(format!(
                    "it answered {} instead of a degraded answer or 503",
                    bad.into_iter().collect::<Vec<_>>().join(" and ")
                ));
                fixes.push(format!(
                    "catch the failures of `{callee}` and answer a fallback (a degraded response documented in the \
                     OpenAPI document, or 503 with Retry-After), never a 500"
                ));
            }
            Rule::Hammering => {
                problems.push(format!("it kept calling `{callee}` on most requests while it failed"));
                fixes.push(format!(
                    "wrap the calls to `{callee}` in a circuit breaker (resilience4j, Polly, pybreaker, opossum) that \
                     opens after a few consecutive failures, fails fast while open and lets a trial call through \
                     after a cool-down"
                ));
            }
            Rule::NoRecovery => {
                let last = run
                    .last_recovery_answer
                    .as_ref()
                    .map(|a| format!(" (its last answer: {})", answer_text(a)))
                    .unwrap_or_default();
                problems.push(format!(
                    "it did not answer as before within {} ms after the fault was lifted{last}",
                    l.recovery.as_millis()
                ));
                fixes.push(
                    "let the breaker go half-open after a cool-down and close on a successful trial call; do not \
                     cache the failure"
                        .to_string(),
                );
            }
        }
    }
    fixes.push("bound the work per dependency with a bulkhead (a small pool or semaphore per dependency)".into());
    at_service(
        ctx,
        svc,
        format!(
            "service `{}` does not handle a failing `{callee}` on `{} {}` (with {} on the edge): {}",
            svc.name,
            req.method,
            req.target,
            run.fault.describe(),
            problems.join("; ")
        ),
    )
    .help(fixes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(answers: &[(u64, Answer)], later: Option<(usize, u64)>, recovered: bool) -> Run {
        Run {
            fault: Fault::Status(503),
            samples: answers
                .iter()
                .map(|(ms, a)| Sample {
                    elapsed: Duration::from_millis(*ms),
                    answer: *a,
                })
                .collect(),
            later,
            recovered: recovered.then(|| Duration::from_millis(5)),
            last_recovery_answer: None,
        }
    }

    #[test]
    fn edges_share_a_lane_when_they_share_a_caller_or_a_crossed_proxy() {
        let set = |v: &[usize]| v.iter().copied().collect::<BTreeSet<usize>>();
        // gateway -> orders crosses proxy 0; orders -> inventory and orders -> payments are
        // triggered by one request crossing 1 and 2; search -> index crosses 3, and so does
        // web -> search (its request goes on to the index).
        let (a, b, c, d, e) = (set(&[0]), set(&[1, 2]), set(&[1, 2]), set(&[3]), set(&[4, 3]));
        let edges = [
            ("gateway", &a),
            ("orders", &b),
            ("search", &d),
            ("orders", &c),
            ("web", &e),
        ];
        assert_eq!(lanes(&edges), vec![vec![0], vec![1, 3], vec![2, 4]]);
        // Same caller, disjoint proxies: still one lane.
        let (x, y) = (set(&[0]), set(&[1]));
        assert_eq!(lanes(&[("orders", &x), ("orders", &y)]), vec![vec![0, 1]]);
        assert!(lanes(&[]).is_empty());
    }

    #[test]
    fn graceful_statuses() {
        let doc = vec!["200".to_string(), "4XX".to_string(), "502".to_string()];
        assert!(graceful(200, &doc));
        assert!(graceful(204, &[]));
        assert!(graceful(503, &[]));
        assert!(graceful(504, &[]));
        assert!(graceful(429, &doc));
        assert!(graceful(502, &doc));
        assert!(!graceful(502, &[]));
        assert!(!graceful(500, &["500".to_string(), "5XX".to_string()]));
        assert!(!graceful(429, &[]));
    }

    #[test]
    fn rules() {
        let l = Limits::from(&Params::default());
        let ok = run(&[(10, Answer::Status(200)); 12], Some((6, 1)), true);
        assert!(judge(&ok, &[], &l).is_empty());
        // Exactly half the later requests reached the dependency: hammering.
        let half = run(&[(10, Answer::Status(200)); 12], Some((6, 3)), true);
        assert_eq!(judge(&half, &[], &l), vec![Rule::Hammering]);
        let hiccup = run(&[(10, Answer::Status(200)), (1200, Answer::Status(200))], None, true);
        assert!(judge(&hiccup, &[], &l).is_empty());
        let slow = run(&[(1100, Answer::Status(200)), (1200, Answer::Status(200))], None, true);
        assert_eq!(judge(&slow, &[], &l), vec![Rule::Slow]);
        let hung = run(&[(1500, Answer::Timeout)], None, false);
        assert_eq!(judge(&hung, &[], &l), vec![Rule::Slow, Rule::NoRecovery]);
        let bad = run(&[(10, Answer::Status(500)), (10, Answer::Dropped)], Some((8, 8)), true);
        assert_eq!(judge(&bad, &[], &l), vec![Rule::Ungraceful, Rule::Hammering]);
    }
}
