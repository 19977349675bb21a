use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::support::{self, at_key, at_node, Scope};
use crate::artifact::openslo::Slo;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct SloMissing;

const DOCS: &str = r#"## What it checks
That every externally facing service has a service level objective in the OpenSLO file
(`[operations] slos`): a `kind: SLO` whose `spec.service` is the service's name, with at least
one objective that has a `target` (or `targetPercent`) and a `timeWindow` with a duration
(`28d`, `4w`, `1h`; rolling or calendar-aligned).

Which services count (parameter `scope`):

- `external` (default): every service with `role = "gateway"` or `role = "bff"`, plus every
  service one of them calls synchronously (`calls`): the services whose errors and latency a
  client sees directly. When the manifest declares no gateway or BFF, clients reach the
  services directly, so every service counts.
- `edge`: the gateways and BFFs only (every service when there is none).
- `every-service`: every declared service.

Partial credit: covered services / expected services. A missing, unreadable or undeclared SLO
file fails the check (SUB002 reports the missing file as an artifact as well).

## Why it matters
Week 9 (Observability & Monitoring; Day 59-60 "Metrics, SLOs, and Error Budgets", lab "Define
SLIs/SLOs for service ecosystem"): an SLO turns "is it reliable enough?" into a number the team
agrees on before an incident. Without one for the services clients call, nobody knows when to
stop shipping features and fix reliability, and alerts fire on symptoms nobody committed to.

## How to fix
Add one OpenSLO `SLO` per listed service, naming it in `spec.service`, with an objective and a
time window. Documents in one file are separated by `---`.

## Example
```yaml
apiVersion: openslo/v1
kind: SLO
metadata:
  name: orders-availability
spec:
  service: orders
  indicatorRef: orders-good-requests-ratio
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 28d
      isRolling: true
  objectives:
    - displayName: 99.9% of requests succeed
      target: 0.999
```
"#;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Which services need an SLO.
    pub scope: Scope,
}

impl TypedCheck for SloMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OPS002",
        name: "slo-missing",
        area: Area::Ops,
        kind: Kind::Static,
        summary: "An externally facing service has no SLO with an objective and a time window",
        docs: DOCS,
        params: &[ParamDoc {
            name: "scope",
            ty: "string",
            description: "which services need an SLO: `external` (gateways, BFFs and the services they call), \
                          `edge` (gateways and BFFs) or `every-service`",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        if sub.services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        let expected = support::required_services(sub, p.scope);
        let (required, noun) = (&expected.services, expected.noun);
        let total = required.len();
        let (rel, set) = match support::slos(ctx) {
            Ok(x) => x,
            Err(findings) => {
                return CheckResult::failed(findings)
                    .with_evidence(format!("0 of {total} {noun} have an SLO"))
                    .with_evidence(expected.rule.clone())
            }
        };
        let slos = set.slos();
        let mut findings = Vec::new();
        let mut good = 0;
        for r in required {
            let mine: Vec<&Slo> = slos
                .iter()
                .filter(|s| s.service.as_deref() == Some(r.name.as_str()))
                .collect();
            if mine.is_empty() {
                let span = sub.services[r.service].name.span.as_ref();
                findings.push(
                    ctx.manifest_finding(span, format!("service {} has no SLO", r.describe()))
                        .help(format!(
                            "add a `kind: SLO` to {rel} with `spec.service: {}`, an objective \
                             (`target: 0.999`) and `timeWindow: [{{duration: 28d, isRolling: true}}]`",
                            r.name
                        )),
                );
                continue;
            }
            if mine.iter().any(|s| has_target(s) && s.window().is_some()) {
                good += 1;
                continue;
            }
            for s in mine {
                if !has_target(s) {
                    let at = if s.objectives.is_empty() {
                        s.spec("objectives")
                    } else {
                        s.objectives[0].at.clone()
                    };
                    findings.push(
                        at_key(
                            rel,
                            set,
                            &at,
                            format!(
                                "SLO `{}` of service `{}` has no objective with a `target`",
                                s.name, r.name
                            ),
                        )
                        .help("add `objectives: [{displayName: ..., target: 0.999}]` (or `targetPercent: 99.9`)"),
                    );
                }
                if s.window().is_none() {
                    let problem = match s.windows.iter().find_map(|w| w.duration.as_ref().err().map(|e| (w, e))) {
                        Some((w, e)) => at_node(
                            rel,
                            set,
                            &w.at.key("duration"),
                            format!("SLO `{}` of service `{}` has no valid time window: {e}", s.name, r.name),
                        ),
                        None => at_key(
                            rel,
                            set,
                            &s.spec("timeWindow"),
                            format!("SLO `{}` of service `{}` has no `timeWindow`", s.name, r.name),
                        ),
                    };
                    findings.push(problem.help(
                        "add `timeWindow: [{duration: 28d, isRolling: true}]` (units m, h, d, w; M, Q, Y \
                         for calendar windows with `calendar: {startTime: ..., timeZone: ...}`)",
                    ));
                }
            }
        }
        let mut r = CheckResult::ratio(good, total, findings)
            .with_evidence(format!(
                "{good} of {total} {noun} have an SLO with an objective and a time window"
            ))
            .with_evidence(expected.rule.clone());
        if let Some(e) = support::ignored_documents(rel, set) {
            r = r.with_evidence(e);
        }
        r
    }
}

/// An objective with a numeric `target` or `targetPercent` (its value is OPS003's business).
fn has_target(s: &Slo) -> bool {
    s.objectives.iter().any(|o| {
        o.target.as_ref().is_some_and(Value::is_number) || o.target_percent.as_ref().is_some_and(Value::is_number)
    })
}
