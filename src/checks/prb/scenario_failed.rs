use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, TypedCheck};
use crate::probe::System;
use crate::submission::{Scenario, ScenarioStep, StepBody};

use super::support::{encode, ready_services, with_live, TIMEOUT_PARAM};

pub struct ScenarioFailed;

const DOCS: &str = r#"## What it checks
Runs the scenarios the submission declares (`[[scenario]]` in submission.toml) against the
live system: HTTP steps in order, each sent to a running service, with values captured from
one answer into the next (`capture = { order_id = "/orderId" }`, then `{order_id}` in a
later path, header or body) and expectations on the answer: its status (`status`, default
any 2xx) and values in its JSON body (`expect = { "/status" = "CONFIRMED" }`, where `"{var}"`
stands for a captured value). A step with
`within = "2s"` is eventual: it is retried every 100 ms until it holds or the time is up,
and the time it took to hold is recorded in the report: this is how saga compensation and
read-model convergence are measured. Partial credit: scenarios that pass / scenarios run.
Skipped when the submission declares none.

## Why it matters
Sagas and read models are eventually consistent by design (Week 5: sagas; Week 7: CQRS and
event sourcing). Only a running system shows that a failed payment really releases the
reserved stock, or that a new order reaches the read model, and how long that takes.

## How to fix
Run the scenario by hand (the finding names the step, the request and the last answer).
If a compensation never happens, check that the failure event is published and consumed; if
a read model converges too slowly, look at the consumer's lag and polling interval.

## Example
```toml
[[scenario]]
name = "a new order reaches the order history"

[[scenario.step]]
service = "orders"
method = "POST"
path = "/v1/orders"
body = { customerId = "cus_01HT7Q2W5RX4", lines = [{ sku = "SKU-1001", quantity = 1 }] }
status = 201
capture = { order_id = "/orderId" }

[[scenario.step]]
service = "order-history"
path = "/v1/customers/cus_01HT7Q2W5RX4/orders/{order_id}"
expect = { "/status" = "CONFIRMED" }
within = "2s"
```
"#;

/// The parameters (shared with other probe checks).
pub type Params = super::support::TimeoutParams;

impl TypedCheck for ScenarioFailed {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB009",
        name: "scenario-failed",
        area: Area::Prb,
        kind: Kind::Probe,
        summary: "A declared scenario (HTTP steps with captures and eventual expectations) does not hold on the running system",
        docs: DOCS,
        params: &[TIMEOUT_PARAM],
    };

    fn run(ctx: &Ctx<'_>, params: &Params) -> CheckResult {
        if ctx.submission.scenarios.is_empty() {
            return CheckResult::absent("the submission declares no scenario (`[[scenario]]`)");
        }
        with_live(ctx, |system| evaluate(ctx, params, system))
    }
}

fn evaluate(ctx: &Ctx<'_>, p: &Params, system: &System) -> CheckResult {
    let timeout = Duration::from_millis(p.timeout_ms.clamp(1, 120_000));
    let mut findings = Vec::new();
    let mut evidence = Vec::new();
    let mut good = 0;
    for sc in &ctx.submission.scenarios {
        match run_scenario(system, sc, timeout) {
            Ok(times) => {
                good += 1;
                let eventual: Vec<String> = times
                    .iter()
                    .map(|(i, d)| format!("step {} held after {} ms", i + 1, d.as_millis()))
                    .collect();
                evidence.push(if eventual.is_empty() {
                    format!("scenario `{}` passed", sc.name.name)
                } else {
                    format!("scenario `{}` passed; {}", sc.name.name, eventual.join(", "))
                });
            }
            Err((step, why)) => {
                evidence.push(format!("scenario `{}` failed at step {}", sc.name.name, step + 1));
                findings.push(
                    ctx.manifest_finding(
                        sc.name.span.as_ref(),
                        format!("scenario `{}`, step {}: {why}", sc.name.name, step + 1),
                    )
                    .help(
                        "send the step's request yourself against the running system and compare the answer; for \
                         an eventual step, find where the event or compensation stops",
                    ),
                );
            }
        }
    }
    CheckResult::ratio(good, ctx.submission.scenarios.len(), findings).with_evidence_lines(evidence)
}

/// Runs the steps; on success the convergence time of each eventual step, else the failing
/// step and why.
fn run_scenario(system: &System, sc: &Scenario, timeout: Duration) -> Result<Vec<(usize, Duration)>, (usize, String)> {
    let mut vars: BTreeMap<String, Value> = BTreeMap::new();
    let mut times = Vec::new();
    let ready = ready_services(system);
    for (i, step) in sc.steps.iter().enumerate() {
        let Some(svc) = ready.iter().find(|s| s.name == step.service.name) else {
            return Err((i, format!("service `{}` is not running", step.service.name)));
        };
        let path = substitute(&step.path, &vars, true);
        let url = svc.url(&path).unwrap_or_default();
        let headers: Vec<(String, String)> = step
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), substitute(v, &vars, false)))
            .collect();
        let mut headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body: Option<Vec<u8>> = step.body.as_ref().map(|b| match b {
            StepBody::Json(v) => fill_json(v, &vars).to_string().into_bytes(),
            StepBody::Text(t) => substitute(t, &vars, false).into_bytes(),
        });
        if matches!(step.body, Some(StepBody::Json(_)))
            && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type", "application/json"));
        }
        let started = Instant::now();
        let deadline = step.within.map(|w| started + w);
        let label = format!("`{} {path}` to `{}`", step.method, svc.name);
        loop {
            let outcome = match system
                .client
                .send(&step.method, &url, &headers, body.as_deref(), timeout)
            {
                Ok(answer) => judge(step, &answer, &vars),
                Err(e) => Err(format!("no answer: {e}")),
            };
            // A value to capture that is not there yet fails the attempt like an expectation.
            let outcome = outcome.and_then(|json| {
                let mut got = Vec::new();
                for (var, ptr) in &step.capture {
                    match json.as_ref().and_then(|j| j.pointer(ptr)) {
                        Some(v) => got.push((var.clone(), v.clone())),
                        None => return Err(format!("the answer has nothing at `{ptr}` to capture as `{var}`")),
                    }
                }
                Ok(got)
            });
            match outcome {
                Ok(got) => {
                    vars.extend(got);
                    if step.within.is_some() {
                        times.push((i, started.elapsed()));
                    }
                    break;
                }
                Err(why) => match deadline {
                    Some(d) if Instant::now() < d => std::thread::sleep(Duration::from_millis(100)),
                    Some(_) => {
                        return Err((
                            i,
                            format!(
                                "{label} did not hold within {} ms: {why}",
                                step.within.unwrap_or_default().as_millis()
                            ),
                        ))
                    }
                    None => return Err((i, format!("{label}: {why}"))),
                },
            }
        }
    }
    Ok(times)
}

/// Checks status and expectations; the parsed JSON body on success.
fn judge(
    step: &ScenarioStep,
    answer: &crate::probe::http::HttpResponse,
    vars: &BTreeMap<String, Value>,
) -> Result<Option<Value>, String> {
    let status_ok = match step.status {
        Some(s) => answer.status == s,
        None => answer.is_success(),
    };
    if !status_ok {
        let wanted = step.status.map(|s| s.to_string()).unwrap_or_else(|| "2xx".into());
        return Err(format!("answered {} (expected {wanted})", answer.status_line()));
    }
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    for (ptr, expected) in &step.expect {
        let expected = &fill_json(expected, vars);
        let Some(j) = &json else {
            return Err("the answer's body is not JSON".into());
        };
        match j.pointer(ptr) {
            Some(v) if equal(v, expected) => {}
            Some(v) => return Err(format!("`{ptr}` is {v}, expected {expected}")),
            None => return Err(format!("the answer has nothing at `{ptr}` (expected {expected})")),
        }
    }
    Ok(json)
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Replaces `{var}` with captured values (percent-encoded in paths).
fn substitute(s: &str, vars: &BTreeMap<String, Value>, in_path: bool) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let text = if in_path { encode(&text) } else { text };
        out = out.replace(&format!("{{{k}}}"), &text);
    }
    out
}

/// Fills placeholders in a JSON body: a string that is exactly `{var}` becomes the captured
/// value (keeping its type); placeholders inside longer strings are replaced as text.
fn fill_json(v: &Value, vars: &BTreeMap<String, Value>) -> Value {
    match v {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                if let Some(x) = vars.get(name) {
                    return x.clone();
                }
            }
            Value::String(substitute(s, vars, false))
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_json(x, vars)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), fill_json(x, vars))).collect()),
        other => other.clone(),
    }
}
