use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::artifact::Loaded;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::probe::load::{self, trim_float, LoadConfig, LoadReport};
use crate::probe::{LiveService, StartError, Status, System};

use super::support::{at_service, base_path};

pub struct LatencyUnderLoad;

const DOCS: &str = r#"## What it checks
Offers each started, ready service a fixed load, `rate` requests per second for
`duration_ms` over at most `concurrency` keep-alive connections, on one endpoint, and checks
the latency
percentiles and the availability against the targets: p95 at most `p95_ms`, p99 at most
`p99_ms`, availability at least `availability` percent.

The endpoint is, in order: the service's entry in `paths` (e.g.
`paths = { orders = "/v1/orders" }`); else the first `GET` operation of its OpenAPI document
whose path has no template parameter and which needs no required query or header parameter
(under the base path of its `servers` URL, as every probe calls the documented operations:
`servers: [{url: /v2}]` and `/orders` load `/v2/orders`); else its `run.health` path.

The load is open-model: request *i* is scheduled at *i / rate* seconds from the start, and its
latency is measured from that scheduled time to the end of the answer (into an HDR histogram).
When every connection is busy the next requests wait and their waiting counts, so a service
that cannot keep up shows it (a closed-loop tool that only sends when the previous answer is
back hides this: coordinated omission). Requests not answered `drain_ms` after the load ends
count as timeouts. Availability is the share of *scheduled* requests answered with 2xx or 3xx:
5xx, 4xx (the endpoint must work, so 404 or 429 is not a usable answer), connection errors and
timeouts all count against it. Percentiles are over the answered requests.

Services are loaded side by side when one request to each reaches no common service (seen
at the grader's proxies), else one after the other. Another load can only make a service look
slower, so a service that misses a target side by side is loaded again alone and judged on
that; the evidence names the lanes and every service loaded again.

Partial credit: services meeting every target / services loaded. Every service's load level
and figures are in the evidence. Services that did not become ready are not loaded (PRB001
reports them); skipped when no service declares `[service.run]`.

The default p99 target (250 ms) is looser than the curriculum's expert goal of sub-100 ms p99:
the grader and the services share one machine, so the tail includes noise from the grader
itself. Tighten it in the rubric for a dedicated machine.

## Why it matters
Week 9 (Metrics, SLOs and error budgets) sets latency and availability objectives, and the
path's success metrics name them: API response times p95 < 100 ms and 99.9% reliability. An
objective only means something measured under load, with the waiting time included: at 50
requests per second a handler that takes 30 ms on one thread is fine, one that takes 150 ms
queues requests without bound and every user waits seconds.

## How to fix
Find what the endpoint waits on: a blocking call in an async handler, a single-threaded
server (e.g. Python's `http.server.HTTPServer` instead of `ThreadingHTTPServer`, one gunicorn
worker), a database query without an index, a call to another service on every request
without a timeout or cache. Serve requests concurrently, keep connections alive, and measure
again with a load tool that corrects for coordinated omission (`oha -q 50 --latency-correction`,
`wrk2`). For availability, read the service's log for the 5xx and connection errors.

## Example
```toml
[[item]]
check = "PRB004"
points = 10
params = { rate = 50, duration_ms = 2000, concurrency = 8, p95_ms = 100, p99_ms = 250, availability = 99.9, paths = { orders = "/v1/orders" } }
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Offered requests per second, per service.
    pub rate: f64,
    /// How long the load lasts, in milliseconds.
    pub duration_ms: u64,
    /// Connections per service (requests in flight at most).
    pub concurrency: u64,
    /// Target: p95 latency at most this, in milliseconds.
    pub p95_ms: f64,
    /// Target: p99 latency at most this, in milliseconds.
    pub p99_ms: f64,
    /// Target: at least this percent of the scheduled requests answered 2xx-3xx.
    pub availability: f64,
    /// How long answers are awaited after the load ends, in milliseconds.
    pub drain_ms: u64,
    /// The path to load, per service name.
    pub paths: BTreeMap<String, String>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            rate: 50.0,
            duration_ms: 2000,
            concurrency: 8,
            p95_ms: 100.0,
            p99_ms: 250.0,
            availability: 99.9,
            drain_ms: 2000,
            paths: BTreeMap::new(),
        }
    }
}

impl TypedCheck for LatencyUnderLoad {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB004",
        name: "latency-under-load",
        area: Area::Prb,
        kind: Kind::Probe,
        summary: "A service misses its latency or availability target under a fixed request rate",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "rate",
                ty: "number",
                description: "offered requests per second, per service (open model)",
            },
            ParamDoc {
                name: "duration_ms",
                ty: "integer",
                description: "how long the load lasts, in milliseconds",
            },
            ParamDoc {
                name: "concurrency",
                ty: "integer",
                description: "keep-alive connections per service (requests in flight at most)",
            },
            ParamDoc {
                name: "p95_ms",
                ty: "number",
                description: "target: p95 latency from the scheduled send time, at most this many ms",
            },
            ParamDoc {
                name: "p99_ms",
                ty: "number",
                description: "target: p99 latency from the scheduled send time, at most this many ms",
            },
            ParamDoc {
                name: "availability",
                ty: "number",
                description: "target: percent of scheduled requests answered 2xx-3xx (4xx, 5xx, errors and timeouts count against)",
            },
            ParamDoc {
                name: "drain_ms",
                ty: "integer",
                description: "how long answers are awaited after the load ends; later ones are timeouts",
            },
            ParamDoc {
                name: "paths",
                ty: "table",
                description: "path to load per service name, e.g. { orders = \"/v1/orders\" }",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, params: &Params) -> CheckResult {
        if let Some(e) = invalid(params) {
            return CheckResult::errored(format!("PRB004 parameters: {e}"));
        }
        ctx.live(|started| match started {
            Err(StartError::NothingToRun) => super::support::nothing_to_run(),
            Err(StartError::Infrastructure(e)) => {
                CheckResult::errored(format!("the grader could not start the services: {e}"))
            }
            Ok(system) => evaluate(ctx, system, params),
        })
    }
}

/// Parameters the load generator cannot use.
fn invalid(p: &Params) -> Option<String> {
    if !(p.rate.is_finite() && p.rate > 0.0 && p.rate <= 100_000.0) {
        return Some(format!("`rate` must be above 0 and at most 100000 (got {})", p.rate));
    }
    if !(1..=600_000).contains(&p.duration_ms) {
        return Some(format!("`duration_ms` must be 1 to 600000 (got {})", p.duration_ms));
    }
    if !(1..=1024).contains(&p.concurrency) {
        return Some(format!("`concurrency` must be 1 to 1024 (got {})", p.concurrency));
    }
    if p.drain_ms > 600_000 {
        return Some(format!("`drain_ms` must be at most 600000 (got {})", p.drain_ms));
    }
    if !(0.0..=100.0).contains(&p.availability) {
        return Some(format!(
            "`availability` is a percent, 0 to 100 (got {})",
            p.availability
        ));
    }
    if !(p.p95_ms.is_finite() && p.p95_ms > 0.0 && p.p99_ms.is_finite() && p.p99_ms > 0.0) {
        return Some("`p95_ms` and `p99_ms` must be positive numbers".into());
    }
    if let Some((name, path)) = p.paths.iter().find(|(_, path)| !path.starts_with('/')) {
        return Some(format!("`paths.{name}` must start with `/` (got `{path}`)"));
    }
    None
}

/// A service to load: what and where, and the services one request to it sets in motion.
struct Planned<'a> {
    svc: &'a LiveService,
    path: String,
    source: &'static str,
    cfg: LoadConfig,
    /// The service itself and the callees of the proxies one request crossed.
    touched: BTreeSet<String>,
}

fn evaluate(ctx: &Ctx<'_>, system: &System, params: &Params) -> CheckResult {
    let mut services: Vec<&LiveService> = system.services.iter().collect();
    services.sort_by_key(|s| s.index);
    let mut findings = Vec::new();
    let mut evidence = Vec::new();
    let (mut loaded, mut good) = (0, 0);
    let mut grpc_only = 0;
    for name in params.paths.keys() {
        if !services.iter().any(|s| &s.name == name) {
            evidence.push(format!("`paths.{name}` names no running service; ignored"));
        }
    }
    let mut plans: Vec<Planned<'_>> = Vec::new();
    for svc in &services {
        let name = &svc.name;
        if svc.status != Status::Ready {
            evidence.push(format!("{name}: not ready, not loaded (see PRB001)"));
            continue;
        }
        let (path, source) = endpoint(ctx, svc, params);
        let grpc = ctx
            .submission
            .services
            .get(svc.index)
            .and_then(|s| s.run.as_ref())
            .is_some_and(|r| r.grpc_health.is_some());
        if path.is_none() && grpc {
            // A tool limit, not the learner's omission: said, not counted.
            evidence.push(format!(
                "{name}: a gRPC service (`run.health = \"grpc...\"`) with no HTTP path to load; the load \
                 generator speaks HTTP/1.1 only, so it was not loaded (give an HTTP path with `paths.{name}` to \
                 load it)"
            ));
            grpc_only += 1;
            continue;
        }
        let Some(path) = path else {
            evidence.push(format!(
                "{name}: no path to load (no `paths.{name}`, no plain GET operation, no `run.health`)"
            ));
            findings.push(
                at_service(ctx, svc, format!("service `{name}` has no endpoint to load")).help(format!(
                    "declare `run.health`, or give the path with `paths = {{ {name} = \"/...\" }}`"
                )),
            );
            loaded += 1;
            continue;
        };
        let Some(url) = svc.url(&path) else {
            evidence.push(format!("{name}: no URL known, not loaded"));
            continue;
        };
        // One request first, to see which services a load of this one reaches.
        let marks = super::support::proxy_marks(system);
        let _ = system.client.get(&url, Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(20));
        let mut touched: BTreeSet<String> = super::support::crossed(system, &marks)
            .into_iter()
            .map(|i| system.proxies[i].callee.clone())
            .collect();
        touched.insert(name.clone());
        let mut cfg = LoadConfig::new(
            url,
            params.rate,
            Duration::from_millis(params.duration_ms),
            params.concurrency as usize,
        );
        cfg.drain_timeout = Duration::from_millis(params.drain_ms);
        cfg.policy = system.client.policy.clone();
        cfg.headers.extend(system.client.credentials_for(&cfg.url));
        plans.push(Planned {
            svc,
            path,
            source,
            cfg,
            touched,
        });
    }
    // Services whose loads reach no common service are loaded side by side; a miss seen there
    // is measured again alone (another load can only make a service look slower).
    let lanes = super::support::lanes(plans.len(), |a, b| {
        plans[a].touched.intersection(&plans[b].touched).next().is_some()
    });
    let mut reports: Vec<Option<Result<LoadReport, load::LoadError>>> = (0..plans.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .iter()
            .map(|lane| {
                let plans = &plans;
                scope.spawn(move || lane.iter().map(|&i| (i, load::run(&plans[i].cfg))).collect::<Vec<_>>())
            })
            .collect();
        for h in handles {
            if let Ok(done) = h.join() {
                for (i, r) in done {
                    reports[i] = Some(r);
                }
            }
        }
    });
    let mut again = Vec::new();
    for (i, r) in reports.iter_mut().enumerate() {
        let missed_there = match r {
            Some(Ok(report)) => !missed(report, params).is_empty(),
            _ => true,
        };
        if missed_there && (lanes.len() > 1 || r.is_none()) {
            *r = Some(load::run(&plans[i].cfg));
            again.push(plans[i].svc.name.clone());
        }
    }
    for (plan, report) in plans.iter().zip(reports) {
        let (svc, path, source) = (plan.svc, &plan.path, plan.source);
        let name = &svc.name;
        loaded += 1;
        let report = match report.unwrap_or_else(|| load::run(&plan.cfg)) {
            Ok(r) => r,
            Err(e) => {
                evidence.push(format!("{name}: GET {path} ({source}) not loaded: {e}"));
                findings.push(
                    at_service(
                        ctx,
                        svc,
                        format!("service `{name}`: GET {path} could not be loaded: {e}"),
                    )
                    .help("give a loopback URL (or allow the host with --allow-host) and a path starting with `/`"),
                );
                continue;
            }
        };
        evidence.push(format!("{name}: GET {path} ({source}) {}", figures(&report)));
        let missed = missed(&report, params);
        if missed.is_empty() {
            good += 1;
        } else {
            findings.push(
                at_service(
                    ctx,
                    svc,
                    format!(
                        "service `{name}`: GET {path} under {}: {}; misses {}",
                        report.load_level(),
                        summary(&report),
                        missed.join(", ")
                    ),
                )
                .help(help(&report, params)),
            );
        }
    }
    if lanes.len() > 1 {
        let text: Vec<String> = lanes
            .iter()
            .map(|lane| {
                lane.iter()
                    .map(|&i| plans[i].svc.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect();
        evidence.push(format!(
            "loaded side by side, as their requests reach no common service: [{}]{}",
            text.join("] ["),
            if again.is_empty() {
                String::new()
            } else {
                format!("; measured again alone after a miss: {}", again.join(", "))
            }
        ));
    }
    if loaded == 0 && grpc_only > 0 {
        return CheckResult::not_applicable(
            "the ready services are gRPC services without an HTTP path, which the load generator (HTTP/1.1) cannot \
             load",
        )
        .with_evidence_lines(evidence);
    }
    if loaded == 0 {
        let mut r = CheckResult::failed_because(
            "no service became ready, so none was loaded (PRB001 service-unhealthy says why)",
        );
        r.evidence = evidence;
        return r;
    }
    CheckResult::ratio(good, loaded, findings)
        .with_evidence(format!("{good} of {loaded} loaded services met the targets"))
        .with_evidence_lines(evidence)
}

fn ms(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1} ms")).unwrap_or_else(|| "-".into())
}

/// "p50 1.2 ms, p95 3.4 ms, p99 5.6 ms, availability 100.00%" (measured figures only, all with
/// a unit: counts that vary from run to run stay in the evidence).
fn summary(r: &LoadReport) -> String {
    format!(
        "p50 {}, p95 {}, p99 {}, availability {:.2}%",
        ms(r.p50_ms),
        ms(r.p95_ms),
        ms(r.p99_ms),
        r.availability() * 100.0
    )
}

/// The full figures of one load, for evidence.
fn figures(r: &LoadReport) -> String {
    let statuses = if r.statuses.is_empty() {
        "none".to_string()
    } else {
        r.statuses
            .iter()
            .map(|(s, n)| format!("{s} x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "at {}: {} ({} of {} answered 2xx-3xx), max {}; answers: {statuses}; transport errors {} ({} timeouts); \
         throughput {:.1} req/s",
        r.load_level(),
        summary(r),
        r.good(),
        r.scheduled,
        ms(r.max_ms),
        r.transport_errors,
        r.timeouts,
        r.throughput
    )
}

/// The targets the load missed, as people read them.
fn missed(r: &LoadReport, p: &Params) -> Vec<String> {
    let mut out = Vec::new();
    let over = |v: Option<f64>, limit: f64| v.is_none_or(|v| v > limit);
    if over(r.p95_ms, p.p95_ms) {
        out.push(format!("p95 <= {} ms", trim_float(p.p95_ms)));
    }
    if over(r.p99_ms, p.p99_ms) {
        out.push(format!("p99 <= {} ms", trim_float(p.p99_ms)));
    }
    // Compare in whole requests so 99.9% of 100 requests means all 100, without float noise.
    let needed = (p.availability / 100.0 * r.scheduled as f64 - 1e-9).ceil().max(0.0) as u64;
    if r.good() < needed {
        out.push(format!("availability >= {}%", trim_float(p.availability)));
    }
    out
}

fn help(r: &LoadReport, p: &Params) -> String {
    let errors5 = r.statuses.range(500..).map(|(_, n)| n).sum::<u64>();
    let errors4 = r.statuses.range(400..500).map(|(_, n)| n).sum::<u64>();
    let mut parts = Vec::new();
    let slow = r.p95_ms.is_none_or(|v| v > p.p95_ms) || r.p99_ms.is_none_or(|v| v > p.p99_ms);
    if slow {
        parts.push(
            "serve requests concurrently and find what each request waits on (a blocking call, a single-threaded \
             server, a slow query, an uncached downstream call); latency counts from when each request was due, \
             so a service slower than the rate queues requests and every later one waits"
                .to_string(),
        );
    }
    if errors5 > 0 {
        parts.push("read the service's log for the 5xx answers".into());
    }
    if errors4 > 0 {
        parts.push("the endpoint answered 4xx: load a path that works without input (set `paths`)".into());
    }
    if r.transport_errors > 0 {
        // Counts only (no error text): which error comes first varies from run to run.
        let share = |n: u64| n as f64 * 100.0 / r.scheduled.max(1) as f64;
        parts.push(format!(
            "{:.1}% of the requests got no answer ({:.1}% connection errors, {:.1}% not answered within {} ms \
             after the load ended): accept and answer every connection in time",
            share(r.transport_errors),
            share(r.transport_errors - r.timeouts),
            share(r.timeouts),
            p.drain_ms
        ));
    }
    if parts.is_empty() {
        parts.push("measure it yourself with `oha -q RATE --latency-correction` and fix what is slow".into());
    }
    parts.join("; ")
}

/// The path to load and where it came from.
fn endpoint(ctx: &Ctx<'_>, svc: &LiveService, params: &Params) -> (Option<String>, &'static str) {
    if let Some(p) = params.paths.get(&svc.name) {
        return (Some(p.clone()), "from `paths`");
    }
    let doc = ctx
        .submission
        .services
        .get(svc.index)
        .and_then(|s| s.openapi.as_ref())
        .and_then(|r| ctx.artifacts.openapi(r));
    if let Some(Loaded::Ok(doc)) = doc {
        if let Some(p) = plain_get(&doc.doc.value) {
            return (Some(p), "first plain GET of its OpenAPI document");
        }
    }
    (svc.health.clone(), "its health endpoint")
}

/// The first GET operation with no path template and no required query or header parameter,
/// under the document's base path (as every probe calls operations: [`base_path`]).
pub fn plain_get(root: &Value) -> Option<String> {
    let paths = root.get("paths")?.as_object()?;
    for (path, item) in paths {
        if !path.starts_with('/') || path.contains('{') {
            continue;
        }
        let Some(op) = item.get("get").filter(|o| o.is_object()) else {
            continue;
        };
        let params = item
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten());
        let mut usable = true;
        for p in params {
            let Some(p) = resolve(root, p) else {
                usable = false; // a parameter we cannot read might be required
                break;
            };
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
            let place = p.get("in").and_then(Value::as_str).unwrap_or("");
            if (required && place != "cookie") || place == "path" {
                usable = false;
                break;
            }
        }
        if usable {
            return Some(format!("{}{path}", base_path(root, Some(item), Some(op))));
        }
    }
    None
}

/// Follows a local `$ref` (a few hops at most).
fn resolve<'v>(root: &'v Value, mut v: &'v Value) -> Option<&'v Value> {
    for _ in 0..8 {
        match v.get("$ref").and_then(Value::as_str) {
            None => return Some(v),
            Some(r) => v = root.pointer(r.strip_prefix('#')?)?,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_the_first_plain_get() {
        let doc = json!({
            "servers": [{"url": "http://{host}/api/{v}/", "variables": {"host": {"default": "x"}, "v": {"default": "v1"}}}],
            "components": {"parameters": {"q": {"name": "q", "in": "query", "required": true}}},
            "paths": {
                "/orders/{id}": {"get": {}},
                "/search": {"get": {"parameters": [{"$ref": "#/components/parameters/q"}]}},
                "/external": {"get": {"parameters": [{"$ref": "other.yaml#/p"}]}},
                "/carts": {"post": {}},
                "/orders": {"parameters": [{"name": "page", "in": "query"}], "get": {}},
                "/later": {"get": {}}
            }
        });
        assert_eq!(plain_get(&doc).as_deref(), Some("/api/v1/orders"));
        let none = json!({"paths": {"/a/{b}": {"get": {}}, "/h": {"get": {"parameters": [{"name": "X", "in": "header", "required": true}]}}}});
        assert_eq!(plain_get(&none), None);
        assert_eq!(plain_get(&json!({"paths": {"/x": {"get": {}}}})).as_deref(), Some("/x"));
    }

    fn report(p95: f64, p99: f64, good: u64, scheduled: u64) -> LoadReport {
        LoadReport {
            rate: 50.0,
            duration: Duration::from_secs(2),
            concurrency: 8,
            scheduled,
            completed: scheduled,
            statuses: [(200, good), (500, scheduled - good)]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect(),
            transport_errors: 0,
            timeouts: 0,
            p50_ms: Some(1.0),
            p95_ms: Some(p95),
            p99_ms: Some(p99),
            max_ms: Some(p99),
            elapsed: Duration::from_secs(2),
            throughput: 50.0,
            first_error: None,
        }
    }

    #[test]
    fn names_each_missed_target() {
        let p = Params::default();
        assert!(missed(&report(99.0, 249.0, 100, 100), &p).is_empty());
        assert_eq!(
            missed(&report(101.0, 251.0, 99, 100), &p),
            vec!["p95 <= 100 ms", "p99 <= 250 ms", "availability >= 99.9%"]
        );
        // 99.9% of 2000 requests allows 2 failures, not 3.
        assert!(missed(&report(1.0, 1.0, 1998, 2000), &p).is_empty());
        assert_eq!(missed(&report(1.0, 1.0, 1997, 2000), &p), vec!["availability >= 99.9%"]);
        let mut none = report(1.0, 1.0, 0, 10);
        none.p95_ms = None;
        none.p99_ms = None;
        assert_eq!(missed(&none, &p).len(), 3);
    }

    #[test]
    fn rejects_unusable_params() {
        assert!(invalid(&Params::default()).is_none());
        for p in [
            Params {
                rate: 0.0,
                ..Params::default()
            },
            Params {
                concurrency: 0,
                ..Params::default()
            },
            Params {
                availability: 101.0,
                ..Params::default()
            },
            Params {
                paths: [("a".to_string(), "x".to_string())].into(),
                ..Params::default()
            },
        ] {
            assert!(invalid(&p).is_some(), "{p:?}");
        }
    }
}
