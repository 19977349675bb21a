use serde::{Deserialize, Serialize};

use crate::artifact::deploy;
use crate::artifact::kube::{KubeModel, Loc};
use crate::artifact::Loaded;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::evidence::{Evidence, Fact, Needs, Proof, Source, Status};
use crate::finding::Claim;
use crate::submission::{Guard, Service};

pub struct CallUnguarded;

const DOCS: &str = r#"## What it checks
That every service which calls other services synchronously (`calls`) guards those calls:
a **timeout** on every call, **retries** with backoff, and a **circuit breaker** (the
`require` parameter; all three by default). A service declares its guards in the manifest
(`resilience = ["timeout", "retry", "circuit-breaker"]`); its code and configuration are read
for them (see Evidence). Partial credit: guards credited / (calling services x required
guards). Skipped when no service calls another.

## Why it matters
Week 4 (synchronous communication, resilience patterns for service calls) and Phase 2's
"resilient client": a dependency that is slow or down is the normal case. A call without a
timeout holds a thread until the caller runs out of them and fails too; without a breaker
the caller keeps hammering a struggling dependency; without retries every transient error
reaches the user. The live probe PRB005 then shows the same under injected faults.

## How to fix
Build each outbound client with a timeout well under your own latency budget (e.g. 300 ms),
retry idempotent calls a few times with jittered backoff, and wrap the calls in a circuit
breaker (resilience4j, Spring Cloud CircuitBreaker, Polly, pybreaker, tenacity, opossum,
cockatiel, gobreaker, failsafe-go). Declare what you built with `resilience`.

## Evidence
The claims answer to the service's code (its `source` folder, else `services/<name>/`;
test code is not evidence) and the configuration in that folder, read with tree-sitter and
the rules in `src/evidence/rules/` (Python, Java, Go, TypeScript/JavaScript, C#, Rust; Spring and
resilience4j properties/YAML, Istio route timeouts and retries, outlier detection):

- the service mesh: when `[operations] deployment` holds Istio manifests, a VirtualService
  route (applied inside the mesh: no `gateways`, or `mesh` among them) to a called service with a `timeout` (or `retries.perTryTimeout`) guards the calls to
  it with a timeout, `retries.attempts` with retries, and a DestinationRule's
  `outlierDetection` with a circuit breaker;
- **contradicted**: a declared `timeout`, and a call in the code that has none by
  construction (`requests.post(url)` without `timeout=`, Go's `http.Get`, a `fetch` with no
  abort signal), shown at the call with the manifest's line. A contradicted claim fails the
  whole item, whatever the rubric asks: it costs more than not making the claim. The same
  call without a `timeout` claim loses that guard's credit only. When the mesh puts a timeout
  on the routes to every service the caller calls, the call is bounded after all: no
  contradiction;
- **confirmed**: the guard is found (a `timeout=` argument, `context.WithTimeout`, a
  TimeLimiter, `@Retry`, tenacity, a `CircuitBreaker`, resilience4j configuration...); a guard
  found in the code earns credit even when it is not declared;
- **unconfirmed**: declared, nothing found. With `evidence = "found"` a service that has code
  loses that guard's credit (the finding says where it looked); a service without code keeps
  its declared claim. Nothing found is never a contradiction.

## Example
```toml
[[service]]
name = "orders"
source = "services/orders/src"
calls = ["payments", "inventory"]
resilience = ["timeout", "retry", "circuit-breaker"]
```
```python
breaker = pybreaker.CircuitBreaker(fail_max=3, reset_timeout=1)
client = httpx.Client(base_url=PAYMENTS_URL, timeout=0.3)

@retry(stop=stop_after_attempt(3), wait=wait_random_exponential(multiplier=0.05))
def authorize(body):
    return breaker.call(client.post, "/v1/payments", json=body)
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub evidence: Needs,
    pub require: Vec<Guard>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            evidence: Needs::Declared,
            require: Guard::ALL.to_vec(),
        }
    }
}

/// The proof that backs a guard.
fn proof(g: Guard) -> Proof {
    match g {
        Guard::Timeout => Proof::Timeout,
        Guard::Retry => Proof::Retry,
        Guard::CircuitBreaker => Proof::CircuitBreaker,
    }
}

impl TypedCheck for CallUnguarded {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH012",
        name: "call-unguarded",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "A service calls others without a timeout, retries or a circuit breaker",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "evidence",
                ty: "\"declared\" or \"found\"",
                description: "what a declared guard needs: the manifest's word unless the code contradicts it \
                              (declared, default), or confirmation in the code of services that have code (found)",
            },
            ParamDoc {
                name: "require",
                ty: "list of \"timeout\", \"retry\", \"circuit-breaker\"",
                description: "the guards every calling service needs (default: all three)",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        if ctx.submission.services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        let callers: Vec<&Service> = ctx.submission.services.iter().filter(|s| !s.calls.is_empty()).collect();
        if callers.is_empty() {
            return CheckResult::not_applicable("no service calls another");
        }
        if p.require.is_empty() {
            return CheckResult::not_applicable("the rubric requires no guard (`require = []`)");
        }
        let mesh = mesh_model(ctx);
        let mut findings = Vec::new();
        let mut lines = Vec::new();
        let mut claims = Vec::new();
        let mut good = 0;
        let mut contradicted = 0;
        for s in &callers {
            let mesh = mesh.as_ref().map(|m| Mesh::of(m, s)).unwrap_or_default();
            let code = ctx.service_evidence(&s.name.name);
            let code = code.as_ref().map(|c| (&c.evidence, c.rel.as_str()));
            let mut parts = Vec::new();
            for &g in &p.require {
                let verdict = judge(ctx, s, g, code, &mesh, p.evidence);
                parts.push(verdict.line);
                match verdict.status {
                    Status::Contradicted => contradicted += 1,
                    _ if verdict.credit => good += 1,
                    _ => {}
                }
                findings.extend(verdict.finding);
                claims.push(Claim {
                    status: verdict.status,
                    credited: verdict.credit,
                    ..verdict.claim
                });
            }
            let callees: Vec<&str> = s.calls.iter().map(|c| c.name.as_str()).collect();
            lines.push(format!(
                "{} -> {}: {}",
                s.name.name,
                callees.join(", "),
                parts.join("; ")
            ));
        }
        let total = callers.len() * p.require.len();
        let result = if contradicted > 0 {
            CheckResult::failed(findings).with_evidence(format!(
                "{contradicted} guard claim{} contradicted by the code: the item fails",
                if contradicted == 1 { " is" } else { "s are" }
            ))
        } else {
            CheckResult::ratio(good, total, findings)
        };
        result
            .with_evidence(format!(
                "{good} of {total} guards credited ({} calling service{} x {} required guard{})",
                callers.len(),
                if callers.len() == 1 { "" } else { "s" },
                p.require.len(),
                if p.require.len() == 1 { "" } else { "s" },
            ))
            .with_evidence_lines(lines)
            .with_claims(claims)
    }
}

/// One guard of one service against the evidence.
struct Verdict {
    status: Status,
    credit: bool,
    /// For the evidence line: `timeout confirmed (file:line)`.
    line: String,
    finding: Option<Finding>,
    /// The claim with what backs or contradicts it, for the JSON report.
    claim: Claim,
}

fn code_finding(fact: &Fact, message: String) -> Finding {
    let mut f = Finding::new(message).in_file(fact.file.clone());
    f.line = Some(fact.line);
    f.column = Some(fact.column);
    f
}

/// The Kubernetes/Istio manifests of `[operations] deployment`, when declared and readable
/// (their problems are OPS items' to report).
fn mesh_model(ctx: &Ctx<'_>) -> Option<KubeModel> {
    let sub = ctx.submission;
    let r = sub.deployment.as_ref()?;
    match deploy::load(&sub.root, r, &sub.limits) {
        Loaded::Ok(set) => Some(KubeModel::read(&set)),
        _ => None,
    }
}

/// What the service mesh puts on one service's calls.
#[derive(Default)]
struct Mesh {
    /// (guard, where, what): in the order of the called services.
    guards: Vec<(Guard, Loc, String)>,
    /// Every called service's routes carry a timeout: no call of the caller is unbounded.
    timeout_on_every_call: bool,
}

impl Mesh {
    fn of(model: &KubeModel, s: &Service) -> Mesh {
        let mut guards = Vec::new();
        let mut every = true;
        for callee in &s.calls {
            let callee = callee.name.as_str();
            let mut timed = false;
            // A route bound to gateways only (no `mesh`) shapes traffic entering the mesh, not
            // calls between services.
            let in_mesh = |vs: &&crate::artifact::kube::VirtualService| {
                vs.gateways.is_empty() || vs.gateways.iter().any(|g| g == "mesh")
            };
            for (vs, route) in model.routes_to(callee).filter(|(vs, _)| in_mesh(vs)) {
                let per_try = route.retries.as_ref().and_then(|r| r.per_try_timeout.as_ref());
                if let Some(t) = route.timeout.as_ref().or(per_try).filter(|t| !t.value.is_zero()) {
                    timed = true;
                    guards.push((
                        Guard::Timeout,
                        t.at.clone(),
                        format!(
                            "VirtualService `{}` times out calls to {callee} after {} ms",
                            vs.name,
                            t.value.as_millis()
                        ),
                    ));
                }
                if let Some(a) = route
                    .retries
                    .as_ref()
                    .and_then(|r| r.attempts.as_ref())
                    .filter(|a| a.value > 0)
                {
                    guards.push((
                        Guard::Retry,
                        a.at.clone(),
                        format!(
                            "VirtualService `{}` retries calls to {callee} {} times",
                            vs.name, a.value
                        ),
                    ));
                }
            }
            every &= timed;
            for rule in model.rules_for(callee) {
                let policies = rule
                    .traffic_policy
                    .iter()
                    .chain(rule.subsets.iter().filter_map(|s| s.traffic_policy.as_ref()));
                let ejects = policies.filter_map(|p| p.outlier_detection.as_ref()).find(|o| {
                    [
                        &o.consecutive_5xx_errors,
                        &o.consecutive_gateway_errors,
                        &o.consecutive_errors,
                    ]
                    .iter()
                    .any(|n| n.as_ref().is_some_and(|n| n.value > 0))
                });
                if let Some(o) = ejects {
                    guards.push((
                        Guard::CircuitBreaker,
                        o.at.clone(),
                        format!(
                            "DestinationRule `{}` ejects failing {callee} hosts (outlierDetection)",
                            rule.name
                        ),
                    ));
                }
            }
        }
        Mesh {
            guards,
            timeout_on_every_call: every && !s.calls.is_empty(),
        }
    }
}

fn judge(ctx: &Ctx<'_>, s: &Service, g: Guard, code: Option<(&Evidence, &str)>, mesh: &Mesh, needs: Needs) -> Verdict {
    let name = &s.name.name;
    let id = g.id();
    let declared = s.resilience.iter().find(|(d, _)| *d == g).map(|(_, span)| span);
    let ev = code.map(|(ev, _)| ev);
    let undeclared = if declared.is_none() { ", not declared" } else { "" };
    let unbounded = ev.and_then(|ev| ev.proving(Proof::UnboundedCall).next());
    let mut claim = Claim::new(name.clone(), id, Status::Missing, false);
    if let Some(span) = declared {
        claim = claim.from_source(
            Source::Declared,
            crate::submission::MANIFEST,
            ctx.manifest_line(span),
            format!("resilience includes \"{id}\""),
        );
    }

    // A guard the mesh puts on the calls; a mesh timeout outweighs a client without one only
    // when it bounds the calls to every called service.
    if let Some((_, at, what)) = mesh
        .guards
        .iter()
        .find(|(m, _, _)| *m == g)
        .filter(|_| g != Guard::Timeout || unbounded.is_none() || mesh.timeout_on_every_call)
    {
        let claim = claim.from_source(Source::Found, at.file.clone(), Some(at.location.line), what.clone());
        return Verdict {
            claim,
            status: Status::Confirmed,
            credit: true,
            line: format!("{id} found in the mesh ({at}: {what}{undeclared})"),
            finding: None,
        };
    }
    // Positive evidence against a timeout: a call that has none by construction.
    if let Some(call) = unbounded.filter(|_| g == Guard::Timeout) {
        let claim = claim.contradicted_at(call.file.clone(), call.line, call.text.clone());
        let help = "pass a timeout on the call (`timeout=0.3`, a context deadline, an abort signal) or build the client with one";
        return match declared {
            Some(span) => {
                let at = ctx.manifest_at(span);
                Verdict {
                    claim,
                    status: Status::Contradicted,
                    credit: false,
                    line: format!("timeout declared ({at}) and contradicted: `{}` ({}) has none", call.text, call.at()),
                    finding: Some(
                        code_finding(
                            call,
                            format!(
                                "`{name}` declares a timeout on its calls ({at}), but this call has none: `{}` waits as long as the other service takes",
                                call.text
                            ),
                        )
                        .help(help),
                    ),
                }
            }
            None => Verdict {
                claim,
                status: Status::Missing,
                credit: false,
                line: format!("no timeout: `{}` ({}) has none", call.text, call.at()),
                finding: Some(
                    code_finding(
                        call,
                        format!("`{name}` calls another service without a timeout here: `{}`", call.text),
                    )
                    .help(help),
                ),
            },
        };
    }
    if let Some(found) = ev.and_then(|ev| ev.proving(proof(g)).next()) {
        let more = match ev.map_or(0, |ev| ev.proving(proof(g)).count()) {
            0 | 1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        let claim = ev
            .into_iter()
            .flat_map(|ev| ev.proving(proof(g)))
            .take(5)
            .fold(claim, |c, f| f.backs(c));
        return Verdict {
            claim,
            status: Status::Confirmed,
            credit: true,
            line: format!("{id} found ({}: {}{more}{undeclared})", found.at(), found.text),
            finding: None,
        };
    }
    match (declared, code) {
        (Some(span), Some((ev, rel))) if needs == Needs::Found => {
            let clients = ev.proving(Proof::OutboundCall).count();
            let clients = if clients == 0 {
                "no outbound HTTP or gRPC client was found either".to_string()
            } else {
                format!("{clients} outbound call{} found", if clients == 1 { "" } else { "s" })
            };
            Verdict {
                claim,
                status: Status::Unconfirmed,
                credit: false,
                line: format!("{id} declared, unconfirmed (nothing in {rel} shows it)"),
                finding: Some(
                    ctx.manifest_finding(
                        Some(span),
                        format!(
                            "`{name}` declares `{id}` on its calls but its code shows none: looked in {rel} ({} files; {clients})",
                            ev.files_read
                        ),
                    )
                    .help(format!("implement the {id} in the service's client code (or its resilience configuration) where the rules can see it; `grade explain evidence` lists what is recognised")),
                ),
            }
        }
        (Some(_), Some((_, rel))) => Verdict {
            claim,
            status: Status::Unconfirmed,
            credit: true,
            line: format!("{id} declared, unconfirmed (nothing in {rel} shows it; the rubric accepts the declaration)"),
            finding: None,
        },
        (Some(_), None) => Verdict {
            claim,
            status: Status::Unconfirmed,
            credit: true,
            line: format!("{id} declared (no code to confirm it)"),
            finding: None,
        },
        (None, _) => Verdict {
            claim,
            status: Status::Missing,
            credit: false,
            line: format!("no {id}"),
            finding: Some(
                ctx.manifest_finding(
                    s.name.span.as_ref(),
                    format!(
                        "`{name}` calls {} but no {id} guards its calls: none is declared and none is found in its code",
                        s.calls.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ")
                    ),
                )
                .help(format!("add a {id} to the service's outbound client and declare it: `resilience = [\"timeout\", \"retry\", \"circuit-breaker\"]`")),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;

    fn run(case: &str, params: &str) -> CheckResult {
        crate::checks::run_fixture::<CallUnguarded>(case, params)
    }

    /// `evidence = "found"`: a service with code must show its guards there; a contradiction
    /// fails at every level; an honest manifest never scores below a dishonest one.
    #[test]
    fn found_level_needs_the_code_to_show_each_guard() {
        let found = "evidence = 'found'";
        assert_eq!(run("pass-unconfirmed-python", "").outcome, Outcome::Passed);
        let r = run("pass-unconfirmed-python", found);
        assert_eq!(r.outcome, Outcome::Failed);
        assert!(r.findings[0].message.contains("looked in src ("), "{:?}", r.findings);
        for case in [
            "pass-confirmed-python",
            "pass-confirmed-java",
            "pass-confirmed-go",
            "pass-confirmed-typescript",
        ] {
            assert_eq!(run(case, found).outcome, Outcome::Passed, "{case}");
        }
        for case in [
            "fail-contradicted-python",
            "fail-contradicted-go",
            "fail-contradicted-typescript",
        ] {
            for p in ["", found] {
                let r = run(case, p);
                assert_eq!((r.outcome, r.credit), (Outcome::Failed, Some(0.0)), "{case} {p}");
                assert!(
                    r.findings
                        .iter()
                        .any(|f| f.file.as_deref().is_some_and(|f| f.starts_with("src/"))),
                    "{case}: the finding points at the code"
                );
            }
        }
        // The same code with an honest manifest (no timeout claimed) keeps the other guards.
        let honest = run("fail-honest-python", found);
        assert_eq!(honest.outcome, Outcome::Failed);
        assert!(honest.credit.unwrap_or(0.0) > 0.0, "{honest:?}");
    }

    #[test]
    fn require_chooses_the_guards() {
        let r = run("fail-contradicted-python", "require = ['retry', 'circuit-breaker']");
        assert_eq!(r.outcome, Outcome::Passed, "{r:?}");
    }
}
