use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::probe::prom::{self, LintProblem};
use crate::probe::{LiveService, StartError, Status, System};

use super::support::at_service;

pub struct MetricsExposition;

const DOCS: &str = r#"## What it checks
For every service that is running and ready (started from `[service.run]` or given with
`--target`), sends one request to its health path (so request metrics have a series) and then
`GET` on `path` (default `/metrics`), and checks three things:

1. **It parses** as the Prometheus text exposition format 0.0.4, or as OpenMetrics 1.0 text
   when the `Content-Type` is `application/openmetrics-text` (or, when the `Content-Type` is
   not `text/plain` either, the body ends with `# EOF`). An error names the line and what is
   wrong.
2. **Lint rules** modeled on `promtool check metrics`: counters end in `_total` and only
   counters do; base units (`seconds`, `bytes`, not `milliseconds`, `kilobytes`, `minutes`);
   no abbreviated units (`_ms`, `_sec`, `_s`, `_kb` ...); snake_case metric and label names; no
   `:` in names (reserved for recording rules); HELP text on every metric; no duplicate
   series; histogram buckets carry `le` and include `le="+Inf"`. Each rule broken is one
   finding that lists a few of the metrics and how many there are.
3. **RED metrics for HTTP** are present, recognised by shape rather than by a fixed list of
   names: a request counter (a counter whose name mentions request(s)) with a status-code
   label (`status`, `code`, `status_code`, `http_response_status_code` ...) and a method or
   route label (`method`, `route`, `path`, `handler`, `uri` ...), and a request-duration
   histogram or summary in seconds (name mentions request and duration, latency or seconds,
   and ends in `_seconds`). A request histogram that carries the status and method/route
   labels (Micrometer's `http_server_requests_seconds`, OpenTelemetry's
   `http_server_request_duration_seconds`) provides the request count through its `_count`.

Credit per service, in halves: nothing when `/metrics` does not answer 2xx or does not parse;
otherwise half for the RED metrics and half for a lint-clean exposition. Partial credit: the
sum over services / services probed, so one of two services with lint problems only scores
0.75. Services that are not ready are not probed (PRB001 `service-unhealthy` reports them).
Skipped when no service runs or none became ready.

## Why it matters
Week 9 (Observability & Monitoring: "build comprehensive metrics and alerting", "define
SLIs/SLOs for service ecosystem") builds SLOs, error-budget alerts and dashboards on exactly
these series: the request rate, the error ratio from the status-code label, and latency
percentiles from the duration histogram (RED). An exposition Prometheus cannot scrape is no
metrics at all, and names that break the conventions (milliseconds next to seconds, counters
without `_total`) make every query across services wrong or fragile.

## How to fix
Use a Prometheus client library (or OpenTelemetry with the Prometheus exporter) instead of
writing the text by hand, and expose:

- `http_requests_total{method, route, status}`: a Counter incremented once per response;
- `http_request_duration_seconds{method, route}`: a Histogram observed in seconds.

Use the route template (`/orders/{id}`), not the raw path, as the label value, to keep the
number of series bounded. Check the result locally with `promtool check metrics`.

## Example
```text
# HELP http_requests_total HTTP requests served, by route and status code.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/orders/{id}",status="200"} 1027
http_requests_total{method="GET",route="/orders/{id}",status="500"} 3
# HELP http_request_duration_seconds Time to serve an HTTP request.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.05"} 990
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.25"} 1025
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="+Inf"} 1030
http_request_duration_seconds_sum{method="GET",route="/orders/{id}"} 21.4
http_request_duration_seconds_count{method="GET",route="/orders/{id}"} 1030
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The metrics path of every service.
    pub path: String,
    /// How long one request to the metrics path may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            path: "/metrics".into(),
            timeout_ms: 5_000,
        }
    }
}

/// How many metric names a grouped finding lists before "and N more".
const LISTED: usize = 5;

impl TypedCheck for MetricsExposition {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB007",
        name: "metrics-exposition",
        area: Area::Prb,
        kind: Kind::Probe,
        summary: "A service's /metrics does not parse, breaks Prometheus naming rules, or lacks the HTTP RED metrics",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "path",
                ty: "string",
                description: "the metrics path of every service, e.g. `/metrics` or `/actuator/prometheus`",
            },
            ParamDoc {
                name: "timeout_ms",
                ty: "integer",
                description: "how long one request to the metrics path may take, in milliseconds",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, params: &Params) -> CheckResult {
        let path = if params.path.starts_with('/') {
            params.path.clone()
        } else {
            format!("/{}", params.path)
        };
        let timeout = Duration::from_millis(params.timeout_ms.clamp(1, 120_000));
        ctx.live(|started| match started {
            Err(StartError::NothingToRun) => super::support::nothing_to_run(),
            Err(StartError::Infrastructure(e)) => {
                CheckResult::errored(format!("the grader could not start the services: {e}"))
            }
            Ok(system) => evaluate(ctx, system, &path, timeout),
        })
    }
}

fn evaluate(ctx: &Ctx<'_>, system: &System, path: &str, timeout: Duration) -> CheckResult {
    let mut services: Vec<&LiveService> = system.services.iter().collect();
    services.sort_by_key(|s| s.index);
    let (ready, not_ready): (Vec<&LiveService>, Vec<&LiveService>) =
        services.into_iter().partition(|s| s.status == Status::Ready);
    if ready.is_empty() {
        return CheckResult::failed_because("no service is running and ready (PRB001 service-unhealthy says why)");
    }
    let mut findings = Vec::new();
    let mut evidence = Vec::new();
    let mut halves = 0;
    let mut clean = 0;
    for svc in &ready {
        let outcome = probe(ctx, system, svc, path, timeout);
        halves += outcome.halves;
        if outcome.halves == 2 {
            clean += 1;
        }
        findings.extend(outcome.findings);
        evidence.push(outcome.evidence);
    }
    let mut result = CheckResult::ratio(halves, 2 * ready.len(), findings).with_evidence(format!(
        "{clean} of {} services expose clean metrics with RED",
        ready.len()
    ));
    for e in evidence {
        result = result.with_evidence(e);
    }
    for s in not_ready {
        result = result.with_evidence(format!("`{}` not probed: it is not ready", s.name));
    }
    result
}

struct Probed {
    /// 0 (no usable metrics), 1 (RED or lint-clean), 2 (both).
    halves: usize,
    findings: Vec<Finding>,
    evidence: String,
}

fn probe(ctx: &Ctx<'_>, system: &System, svc: &LiveService, path: &str, timeout: Duration) -> Probed {
    let name = &svc.name;
    let failed = |f: Finding, evidence: String| Probed {
        halves: 0,
        findings: vec![f],
        evidence,
    };
    let Some(url) = svc.url(path) else {
        return failed(
            at_service(ctx, svc, format!("service `{name}` has no address to probe")),
            format!("`{name}`: no address"),
        );
    };
    // One ordinary request first, so that request metrics with labels have a series.
    if let Some(h) = svc.health.as_deref().and_then(|h| svc.url(h)) {
        let _ = system.client.get(&h, timeout);
    }
    let response = match system.client.get(&url, timeout) {
        Ok(r) => r,
        Err(e) => {
            return failed(
                at_service(ctx, svc, format!("service `{name}`: GET {path} failed: {e}")).help(format!(
                    "serve the Prometheus metrics on GET {path}, or set the `path` parameter"
                )),
                format!("`{name}`: GET {path} failed"),
            )
        }
    };
    if !response.is_success() {
        return failed(
            at_service(
                ctx,
                svc,
                format!("service `{name}`: GET {path} answered {}", response.status_line()),
            )
            .help(format!(
                "expose the metrics with a Prometheus client library on GET {path} (200, text/plain; version=0.0.4)"
            )),
            format!("`{name}`: GET {path} answered {}", response.status),
        );
    }
    let format = prom::Format::detect(response.header("content-type"), &response.body);
    let limits = prom::Limits {
        max_bytes: system.client.max_response.max(1),
        ..prom::Limits::default()
    };
    let exposition = match prom::parse(&response.body, format, &limits) {
        Ok(e) => e,
        Err(e) => {
            return failed(
                at_service(
                    ctx,
                    svc,
                    format!("service `{name}`: GET {path} is not valid {}: {e}", format.name()),
                )
                .help(
                    "generate the exposition with a Prometheus client library; check it with \
                     `curl -s URL | promtool check metrics`",
                ),
                format!("`{name}`: {} does not parse", format.name()),
            )
        }
    };
    let mut findings = Vec::new();
    let mut halves = 0;

    let problems = prom::lint(&exposition);
    if problems.is_empty() {
        halves += 1;
    }
    let mut by_rule: BTreeMap<prom::Rule, Vec<&LintProblem>> = BTreeMap::new();
    for p in &problems {
        by_rule.entry(p.rule).or_default().push(p);
    }
    for (rule, list) in &by_rule {
        findings.push(at_service(ctx, svc, lint_message(name, path, *rule, list)).help(rule.help()));
    }

    let red = prom::red(&exposition);
    if red.complete() {
        halves += 1;
    } else {
        let mut missing = Vec::new();
        if red.requests.is_none() {
            missing.push("a request counter with a status-code label and a method or route label");
        }
        if red.duration.is_none() {
            missing.push("a request-duration histogram in seconds");
        }
        let mut message = format!(
            "service `{name}`: GET {path} lacks the HTTP RED metrics: missing {}",
            missing.join("; missing ")
        );
        if !red.near_misses.is_empty() {
            let shown: Vec<&str> = red.near_misses.iter().take(LISTED).map(String::as_str).collect();
            message.push_str(&format!(" (close: {})", shown.join("; ")));
        }
        findings.push(at_service(ctx, svc, message).help(
            "count every response in `http_requests_total{method, route, status}` and time it in \
             `http_request_duration_seconds{method, route}` (a Histogram, in seconds)",
        ));
    }

    let evidence = format!(
        "`{name}`: {} with {} families and {} series; {} lint rules broken; RED: requests {}, duration {}",
        format.name(),
        exposition.families.len(),
        exposition.series_count(),
        by_rule.len(),
        red.requests
            .as_deref()
            .map(|n| format!("`{n}`"))
            .unwrap_or_else(|| "missing".into()),
        red.duration
            .as_deref()
            .map(|n| format!("`{n}`"))
            .unwrap_or_else(|| "missing".into()),
    );
    Probed {
        halves,
        findings,
        evidence,
    }
}

/// One finding per rule: the rule, a few metrics with specifics, and how many there are.
fn lint_message(service: &str, path: &str, rule: prom::Rule, list: &[&LintProblem]) -> String {
    let mut metrics: Vec<&str> = list.iter().map(|p| p.metric.as_str()).collect();
    metrics.dedup();
    let shown: Vec<String> = metrics
        .iter()
        .take(LISTED)
        .map(|m| {
            let details: Vec<&str> = list
                .iter()
                .filter(|p| p.metric == *m && !p.detail.is_empty())
                .map(|p| p.detail.as_str())
                .collect();
            if details.is_empty() {
                format!("`{m}`")
            } else {
                format!("`{m}` ({})", details.join(", "))
            }
        })
        .collect();
    let more = metrics.len().saturating_sub(LISTED);
    let count = if metrics.len() == 1 {
        "1 metric".to_string()
    } else {
        format!("{} metrics", metrics.len())
    };
    format!(
        "service `{service}`: GET {path}: {} [{}], {count}: {}{}",
        rule.message(),
        rule.id(),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}
