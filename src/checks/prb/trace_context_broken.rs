use std::time::Duration;

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::probe::proxy::{EdgeProxy, Record};
use crate::probe::{LiveService, System};

use super::support::{
    at_service, discover_triggers, ready_services, send, service_api, with_live, Planned, Refusals, BEARER_PARAM,
};

pub struct TraceContextBroken;

const DOCS: &str = r#"## What it checks
W3C Trace Context propagation across every running service that calls another. The grader
finds, by calling each service's operations, the requests that make it call a dependency
(seen at the grader's proxy on the edge), then sends such a request with a `traceparent`
and a `tracestate` and looks at the call that reaches the dependency:

- it carries a `traceparent` with the **same trace id**;
- with a **new parent id** (the caller's own span), not the one the grader sent: copying
  the header blindly makes every downstream span a sibling of the caller's;
- the **sampled flag kept**;
- the **`tracestate` kept** (the grader's list member still in it);
- and an **invalid incoming `traceparent`** (all-zero trace id) is not propagated: the
  service starts a new, valid trace.

Header names compare case-insensitively. Partial credit: callers that propagate correctly /
callers whose calls could be triggered. Skipped when no request makes any running service
call another.

## Why it matters
Distributed tracing is how a request is followed across services (Week 9: observability:
logs, metrics, traces). One service that drops or copies the trace context cuts every trace
in two at that hop, and the slow or failing dependency can no longer be found.

## How to fix
Use an OpenTelemetry SDK (or your framework's tracing integration) with the W3C propagator
on both the server and the HTTP client, so incoming context is extracted and a child span's
context is injected into each outgoing call. Hand-written propagation must create a new span
id per outgoing call and reject malformed headers.

## Example
```text
incoming:  traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
           tracestate:  grade=probe
outgoing:  traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-53995c3f42cd8ad8-01
           tracestate:  grade=probe
```
Same trace id, a new parent id, the flags and the tracestate kept.
"#;

/// The parameters (shared with other probe checks).
pub type Params = super::support::TriggerParams;

impl TypedCheck for TraceContextBroken {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB006",
        name: "trace-context-broken",
        area: Area::Prb,
        kind: Kind::Probe,
        summary:
            "A service does not propagate the W3C trace context (traceparent, tracestate) to the services it calls",
        docs: DOCS,
        params: &[
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

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const STATE_MEMBER: &str = "grade=probe";

fn evaluate(ctx: &Ctx<'_>, p: &Params, system: &System) -> CheckResult {
    let mut findings = Vec::new();
    let mut evidence = Vec::new();
    let (mut good, mut total) = (0, 0);
    let mut untriggered = Vec::new();
    // Requests refused for want of credentials while looking for calls.
    let mut refused = Refusals::default();
    for svc in ready_services(system) {
        if !system.proxies.iter().any(|x| x.caller == svc.name) {
            continue;
        }
        let Some(api) = service_api(ctx, svc) else {
            untriggered.push(format!("{} (no readable OpenAPI document to call)", svc.name));
            continue;
        };
        let triggers = discover_triggers(system, svc, &api, &p.methods, &p.bearer_token);
        refused.add(&triggers.refused);
        let Some(t) = triggers.found.first() else {
            untriggered.push(format!(
                "{} (no {} operation made it call another service{})",
                svc.name,
                p.methods.join("/").to_ascii_uppercase(),
                triggers.refusal_note()
            ));
            continue;
        };
        let problems = match probe(system, svc, &t.request) {
            Ok(p) => p,
            Err(why) => {
                untriggered.push(format!("{} ({why})", svc.name));
                continue;
            }
        };
        total += 1;
        evidence.push(format!(
            "{}: `{} {}` ({}) calls {}",
            svc.name,
            t.request.method,
            t.request.target,
            t.label,
            t.callees.join(", ")
        ));
        if problems.is_empty() {
            good += 1;
        } else {
            findings.push(finding(ctx, svc, &t.request, problems));
        }
    }
    if total == 0 {
        return super::support::no_call_observed(ctx, &refused, &untriggered);
    }
    if !untriggered.is_empty() {
        evidence.push(format!("not evaluated: {}", untriggered.join("; ")));
    }
    CheckResult::ratio(good, total, findings).with_evidence_lines(evidence)
}

fn finding(ctx: &Ctx<'_>, svc: &LiveService, req: &Planned, problems: Vec<String>) -> Finding {
    at_service(
        ctx,
        svc,
        format!(
            "service `{}` breaks the trace context on `{} {}`: {}",
            svc.name,
            req.method,
            req.target,
            problems.join("; ")
        ),
    )
    .help(
        "extract the incoming W3C trace context and inject a child span's context into every outgoing call \
         (OpenTelemetry's W3C propagator does both): same trace id, a new parent id, flags and tracestate kept; \
         start a new trace when the incoming traceparent is invalid",
    )
}

/// Sends `req` with a valid, then an invalid trace context; what went wrong downstream.
/// Err: propagation could not be observed (the request no longer reached a dependency).
fn probe(system: &System, svc: &LiveService, req: &Planned) -> Result<Vec<String>, String> {
    let outgoing: Vec<&EdgeProxy> = system.proxies.iter().filter(|p| p.caller == svc.name).collect();
    let mut problems = Vec::new();

    let sent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let calls = call_with(
        system,
        svc,
        req,
        &outgoing,
        &[("traceparent", &sent), ("tracestate", STATE_MEMBER)],
    );
    if calls.is_empty() {
        return Err(format!(
            "`{} {}` no longer reached a dependency (it did once, e.g. before a cache)",
            req.method, req.target
        ));
    }
    for (callee, rec) in &calls {
        let Some(tp) = rec.header("traceparent") else {
            problems.push(format!("the call to `{callee}` carries no traceparent"));
            continue;
        };
        let Some((trace, parent, flags)) = parse_traceparent(tp) else {
            problems.push(format!("the call to `{callee}` carries a malformed traceparent `{tp}`"));
            continue;
        };
        if trace != TRACE_ID {
            problems.push(format!(
                "the call to `{callee}` starts a new trace (trace id `{trace}`, not the incoming `{TRACE_ID}`)"
            ));
            continue;
        }
        if parent == PARENT_ID {
            problems.push(format!(
                "the call to `{callee}` repeats the incoming parent id `{PARENT_ID}`: the header is copied, not a new span"
            ));
        }
        if u8::from_str_radix(&flags, 16).map(|f| f & 1) != Ok(1) {
            problems.push(format!(
                "the call to `{callee}` drops the sampled flag (flags `{flags}`)"
            ));
        }
        match rec.header("tracestate") {
            None => problems.push(format!("the call to `{callee}` drops the tracestate")),
            Some(ts) if !ts.split(',').any(|m| m.trim() == STATE_MEMBER) => problems.push(format!(
                "the call to `{callee}` loses the incoming tracestate member `{STATE_MEMBER}` (sent `{ts}`)"
            )),
            Some(_) => {}
        }
    }

    let invalid = "00-00000000000000000000000000000000-0000000000000000-01";
    let calls = call_with(system, svc, req, &outgoing, &[("traceparent", invalid)]);
    for (callee, rec) in &calls {
        // No traceparent downstream is caught above; here only a propagated invalid one counts.
        let Some(tp) = rec.header("traceparent") else { continue };
        match parse_traceparent(tp) {
            Some((trace, parent, _)) if trace.bytes().all(|b| b == b'0') || parent.bytes().all(|b| b == b'0') => {
                problems.push(format!(
                    "an invalid incoming traceparent (all-zero ids) is passed on to `{callee}` instead of starting a new trace"
                ))
            }
            None => problems.push(format!(
                "after an invalid incoming traceparent, the call to `{callee}` carries a malformed one `{tp}`"
            )),
            Some(_) => {}
        }
    }
    problems.sort();
    problems.dedup();
    Ok(problems)
}

/// Sends the request with extra headers and returns the calls it caused on each edge.
fn call_with(
    system: &System,
    svc: &LiveService,
    req: &Planned,
    outgoing: &[&EdgeProxy],
    extra: &[(&str, &str)],
) -> Vec<(String, Record)> {
    let marks: Vec<usize> = outgoing.iter().map(|p| p.mark()).collect();
    let mut r = req.clone();
    r.headers
        .retain(|(k, _)| !extra.iter().any(|(e, _)| k.eq_ignore_ascii_case(e)));
    r.headers
        .extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let _ = send(system, svc, &r, None, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(20));
    let mut out = Vec::new();
    for (p, m) in outgoing.iter().zip(marks) {
        let recs = p.records_since(m);
        // The call that carries our trace id if there is one (a background call of the service
        // may cross the edge at the same time), else the first.
        let ours = recs
            .iter()
            .find(|r| r.header("traceparent").is_some_and(|t| t.contains(TRACE_ID)))
            .or(recs.first());
        if let Some(rec) = ours {
            out.push((p.callee.clone(), rec.clone()));
        }
    }
    out
}

/// `(trace id, parent id, flags)` of a version-00 traceparent (lowercase hex), per W3C.
pub fn parse_traceparent(v: &str) -> Option<(String, String, String)> {
    let v = v.trim();
    let parts: Vec<&str> = v.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    match parts.as_slice() {
        [ver, trace, parent, flags, ..]
            if hex(ver, 2) && *ver != "ff" && hex(trace, 32) && hex(parent, 16) && hex(flags, 2) =>
        {
            if *ver == "00" && parts.len() != 4 {
                return None;
            }
            Some((trace.to_string(), parent.to_string(), flags.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_traceparent;

    #[test]
    fn traceparent_parsing_follows_w3c() {
        let ok = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(ok.0, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none());
        assert!(parse_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_none());
        assert!(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx").is_none());
        assert!(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx").is_some());
        assert!(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01").is_none());
    }
}
