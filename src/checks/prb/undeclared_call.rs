use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::probe::System;

use super::support::{at_service, discover_triggers, ready_services, service_api, with_live, Refusals, BEARER_PARAM};

pub struct UndeclaredCall;

const DOCS: &str = r#"## What it checks
Calls the grader sees on the wire between running services that submission.toml does not
declare. Every started service gets the URLs of the services it may call through the
grader's proxies; besides the ones it maps in `run.dependency_env`, it is also offered, under
the same variable names other services use, the URLs of running services it does not
declare. After calling each service's operations (by default the `GET` ones), any request
that crossed an edge missing from the caller's `calls` is a finding, also requests seen
during earlier probes. Partial credit: services without undeclared calls / services that
could call another. A calling service that refused every request for want of credentials
(401, 403) is not judged (nothing reached it, so none of its calls was exercised); the
evidence says so and the reason names how to give the probes credentials.

## Why it matters
The dependency graph in the manifest is what the architecture checks reason about: cycles,
blast radius, coupling, deployment order (Week 2: service boundaries; Week 4: communication
patterns). A call that is not declared is a hidden coupling: it escapes review, breaks the
startup order, and turns an outage of one service into an unexplained failure of another.

## How to fix
Declare the call (`calls = ["payments"]` on the caller, and map its URL in
`run.dependency_env`), or remove it: if the caller only needs data it could receive through an
event, consume the event instead.

## Example
```toml
[[service]]
name = "orders"
calls = ["payments", "inventory"]   # every service orders calls, nothing else

[service.run]
command = ["./orders"]
dependency_env = { payments = "PAYMENTS_URL", inventory = "INVENTORY_URL" }
```
"#;

/// The parameters (shared with other probe checks).
pub type Params = super::support::TriggerParams;

impl TypedCheck for UndeclaredCall {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB010",
        name: "undeclared-call",
        area: Area::Prb,
        kind: Kind::Probe,
        summary: "A running service calls another service that submission.toml does not list in its `calls`",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "methods",
                ty: "array of strings",
                description: "HTTP methods of the operations called to provoke calls (default only `get`)",
            },
            BEARER_PARAM,
        ],
    };

    fn run(ctx: &Ctx<'_>, params: &Params) -> CheckResult {
        with_live(ctx, |system| evaluate(ctx, params, system))
    }
}

fn evaluate(ctx: &Ctx<'_>, p: &Params, system: &System) -> CheckResult {
    let callers: Vec<_> = ready_services(system)
        .into_iter()
        .filter(|s| system.proxies.iter().any(|x| x.caller == s.name))
        .collect();
    if callers.is_empty() {
        return CheckResult::not_applicable("no running service was given the URL of another running service");
    }
    // Callers whose every request was refused for want of credentials: nothing reached them, so
    // whatever they would call was never exercised, and they are not judged.
    let mut unreached = Vec::new();
    let mut refused = Refusals::default();
    for svc in &callers {
        if let Some(api) = service_api(ctx, svc) {
            let t = discover_triggers(system, svc, &api, &p.methods, &p.bearer_token);
            if t.found.is_empty() && !t.refused.is_empty() {
                unreached.push((svc.name.clone(), t.refusal_note()));
                refused.add(&t.refused);
            }
        }
    }
    let mut findings = Vec::new();
    let mut good = 0;
    let mut judged = 0;
    for svc in &callers {
        let bad: Vec<_> = system
            .proxies
            .iter()
            .filter(|x| x.caller == svc.name && !x.declared && x.seen() > 0)
            .collect();
        if bad.is_empty() && unreached.iter().any(|(n, _)| *n == svc.name) {
            continue;
        }
        judged += 1;
        if bad.is_empty() {
            good += 1;
            continue;
        }
        for proxy in bad {
            let example = proxy
                .records()
                .first()
                .map(|r| format!(" (e.g. `{} {}`)", r.method, r.target))
                .unwrap_or_default();
            findings.push(
                at_service(
                    ctx,
                    svc,
                    format!(
                        "service `{}` calls `{}`{example}, but submission.toml does not list `{}` in its `calls`",
                        svc.name, proxy.callee, proxy.callee
                    ),
                )
                .help(format!(
                    "add `{}` to `calls` of `{}` (and map its URL in `run.dependency_env`), or remove the call",
                    proxy.callee, svc.name
                )),
            );
        }
    }
    let unreached: Vec<String> = unreached
        .into_iter()
        .map(|(name, note)| format!("{name}: not judged, no request made it call another service{note}"))
        .collect();
    if judged == 0 {
        return CheckResult::not_applicable(format!(
            "no request reached a calling service, so no call could be observed: {}",
            refused.why()
        ))
        .with_evidence_lines(unreached);
    }
    let mut r = CheckResult::ratio(good, judged, findings)
        .with_evidence(format!(
            "{good} of {judged} calling services call only what they declare"
        ))
        .with_evidence_lines(unreached);
    let offered: Vec<String> = system
        .proxies
        .iter()
        .filter(|x| !x.declared)
        .map(|x| format!("{} -> {}", x.caller, x.callee))
        .collect();
    if !offered.is_empty() {
        r = r.with_evidence(format!("undeclared edges watched: {}", offered.join(", ")));
    }
    r
}
