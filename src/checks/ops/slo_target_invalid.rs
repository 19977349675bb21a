use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::support::{self, at_key, at_node};
use crate::artifact::openslo::{At, Objective};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};

pub struct SloTargetInvalid;

const DOCS: &str = r#"## What it checks
That every objective of every SLO in the OpenSLO file has a sensible target and therefore an
error budget:

- `target` is a ratio strictly between 0 and 1 (`0.999`), or `targetPercent` a percentage
  strictly between 0 and 100 (`99.9`), not both;
- the target is not 100% (`target: 1`): that leaves no error budget at all;
- the target is at least the floor `min_target` (default 0.99, i.e. 99%);
- the SLO has a `timeWindow` with a valid duration, so the budget can be computed.

The error budget of each valid objective is computed and shown in the evidence, grouped by
target and window: `1 - target` of the window, e.g. 99.9% over 30d leaves 0.1% of 30 days =
43.2 minutes, 99.99% leaves 4.32 minutes. Calendar units count a month as 30 days, a quarter
as 90 and a year as 365. An SLO without objectives counts as one failing objective. Partial
credit: valid objectives / objectives.

## Why it matters
Week 9 (Day 59-60 "Metrics, SLOs, and Error Budgets"; success criterion "Implement error
budget alerting"): the error budget is what makes an SLO actionable. It tells the team how much
unreliability it may spend on releases and experiments, and burn-rate alerts are defined as
fractions of it. A target of 100% has no budget (every failed request is an outage and every
deploy a risk), a target written as `99.9` instead of `0.999` is meaningless, and a target
below what the business needs (under 99% allows more than 7 hours of failure a month) promises
too little.

## How to fix
Write the target as a ratio below 1 (`target: 0.999`) or as `targetPercent: 99.9`, at or above
the floor, and give the SLO a time window so the budget is defined.

## Example
```yaml
spec:
  timeWindow:
    - duration: 30d
      isRolling: true
  objectives:
    - displayName: 99.9% of requests succeed   # budget: 0.1% of 30d = 43.2 minutes
      target: 0.999
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The lowest acceptable target, as a ratio.
    pub min_target: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params { min_target: 0.99 }
    }
}

impl TypedCheck for SloTargetInvalid {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OPS003",
        name: "slo-target-invalid",
        area: Area::Ops,
        kind: Kind::Static,
        summary: "An SLO objective's target is not a sensible ratio or leaves no error budget",
        docs: DOCS,
        params: &[ParamDoc {
            name: "min_target",
            ty: "float",
            description: "the lowest acceptable target, as a ratio between 0 and 1 (0.99 = 99%)",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        if !(p.min_target > 0.0 && p.min_target < 1.0) {
            return CheckResult::errored(format!(
                "parameter min_target = {} must be a ratio between 0 and 1 (e.g. 0.99)",
                p.min_target
            ));
        }
        let (rel, set) = match support::slos(ctx) {
            Ok(x) => x,
            Err(findings) => return CheckResult::failed(findings).with_evidence("no SLO objectives to evaluate"),
        };
        let slos = set.slos();
        if slos.is_empty() {
            let f = support::located(
                rel,
                set.stream.location(0, 0),
                "",
                format!("{rel} holds no `kind: SLO`"),
            )
            .help("add OpenSLO `kind: SLO` documents with objectives and a time window");
            return CheckResult::failed(vec![f]).with_evidence("no SLO objectives to evaluate");
        }
        let floor = support::percent(p.min_target);
        let mut findings = Vec::new();
        let mut total = 0;
        let mut good = 0;
        // (target, window) -> objectives with that budget; keys order by target, then window.
        let mut budgets: BTreeMap<(u64, u64, String), (String, usize)> = BTreeMap::new();
        for s in &slos {
            if s.objectives.is_empty() {
                total += 1;
                findings.push(
                    at_key(
                        rel,
                        set,
                        &s.spec("objectives"),
                        format!(
                            "SLO `{}` has no objectives, so it has no target and no error budget",
                            s.name
                        ),
                    )
                    .help("add `objectives: [{displayName: ..., target: 0.999}]`"),
                );
                continue;
            }
            let window = s.window();
            for (i, o) in s.objectives.iter().enumerate() {
                total += 1;
                let what = objective_label(&s.name, i, o, s.objectives.len());
                let ratio = match target_ratio(o, &what) {
                    Ok(r) => r,
                    Err((at, message, help)) => {
                        findings.push(at_node(rel, set, &at, message).help(help));
                        continue;
                    }
                };
                if ratio < p.min_target {
                    findings.push(
                        at_node(
                            rel,
                            set,
                            &target_at(o),
                            format!(
                                "the target of {what} is {}, below the floor of {floor}",
                                support::percent(ratio)
                            ),
                        )
                        .help(format!(
                            "raise the target to at least {floor} (e.g. `target: 0.999`), or agree a lower floor \
                             with the instructor (rubric parameter `min_target`)"
                        )),
                    );
                    continue;
                }
                let Some((w, d)) = window else {
                    findings.push(no_window(rel, set, s, &what));
                    continue;
                };
                good += 1;
                let kind = if w.rolling { "rolling" } else { "calendar" };
                let key = ((ratio * 1e6).round() as u64, d.seconds, d.text.clone());
                let text = format!(
                    "{} over {} ({kind}): error budget {}",
                    support::percent(ratio),
                    d.text,
                    support::budget(ratio, d)
                );
                budgets.entry(key).or_insert((text, 0)).1 += 1;
            }
        }
        let mut r = CheckResult::ratio(good, total, findings).with_evidence(format!(
            "{good} of {total} objectives have a valid target of at least {floor} and a computable error budget"
        ));
        for (text, n) in budgets.into_values() {
            r = r.with_evidence(format!("{text} ({n} objective{})", support::plural(n)));
        }
        if let Some(e) = support::ignored_documents(rel, set) {
            r = r.with_evidence(e);
        }
        r
    }
}

/// "SLO `x`" or "objective 2 (`p95 under 100 ms`) of SLO `x`".
fn objective_label(slo: &str, i: usize, o: &Objective, count: usize) -> String {
    match (&o.label, count) {
        (_, 1) => format!("SLO `{slo}`"),
        (Some(l), _) => format!("objective {} (`{l}`) of SLO `{slo}`", i + 1),
        (None, _) => format!("objective {} of SLO `{slo}`", i + 1),
    }
}

fn target_at(o: &Objective) -> At {
    if o.target.is_some() {
        o.at.key("target")
    } else if o.target_percent.is_some() {
        o.at.key("targetPercent")
    } else {
        o.at.clone()
    }
}

type Problem = (At, String, String);

/// The objective's target as a ratio, or what is wrong with it.
fn target_ratio(o: &Objective, what: &str) -> Result<f64, Problem> {
    let no_budget = |at: At| {
        (
            at,
            format!("{what} targets 100%, which leaves no error budget"),
            "aim below 100% (e.g. `target: 0.999`): every release, dependency failure or maintenance window \
             needs some budget, and a 100% objective is breached by the first failed request"
                .to_string(),
        )
    };
    match (&o.target, &o.target_percent) {
        (Some(_), Some(_)) => Err((
            o.at.key("targetPercent"),
            format!("{what} sets both `target` and `targetPercent`"),
            "keep one of them: `target: 0.999` or `targetPercent: 99.9`".into(),
        )),
        (None, None) => Err((
            o.at.clone(),
            format!("{what} has no `target`"),
            "add `target: 0.999` (a ratio) or `targetPercent: 99.9`".into(),
        )),
        (Some(v), None) => {
            let at = o.at.key("target");
            let Some(t) = v.as_f64() else {
                return Err((
                    at,
                    format!("the target of {what} is not a number ({})", show(v)),
                    "write the target as a number, e.g. `target: 0.999`".into(),
                ));
            };
            if t == 1.0 {
                return Err(no_budget(at));
            }
            if t > 1.0 && t <= 100.0 {
                return Err((
                    at,
                    format!("the target of {what} is {}, not a ratio between 0 and 1", show(v)),
                    format!(
                        "a `target` is a ratio: write `target: {}` or `targetPercent: {}`",
                        support::trim_number(t / 100.0, 6),
                        show(v)
                    ),
                ));
            }
            if t <= 0.0 || t > 1.0 {
                return Err((
                    at,
                    format!("the target of {what} is {}, not a ratio between 0 and 1", show(v)),
                    "write the target as a ratio below 1, e.g. `target: 0.999` for 99.9%".into(),
                ));
            }
            Ok(t)
        }
        (None, Some(v)) => {
            let at = o.at.key("targetPercent");
            let Some(t) = v.as_f64() else {
                return Err((
                    at,
                    format!("the targetPercent of {what} is not a number ({})", show(v)),
                    "write the percentage as a number, e.g. `targetPercent: 99.9`".into(),
                ));
            };
            if t == 100.0 {
                return Err(no_budget(at));
            }
            if t <= 0.0 || t > 100.0 {
                return Err((
                    at,
                    format!(
                        "the targetPercent of {what} is {}, not a percentage between 0 and 100",
                        show(v)
                    ),
                    "write a percentage below 100, e.g. `targetPercent: 99.9`".into(),
                ));
            }
            Ok(t / 100.0)
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

fn no_window(
    rel: &str,
    set: &crate::artifact::openslo::SloSet,
    s: &crate::artifact::openslo::Slo,
    what: &str,
) -> Finding {
    let reason = s
        .windows
        .iter()
        .find_map(|w| w.duration.as_ref().err())
        .map_or_else(|| "the SLO has no `timeWindow`".to_string(), |e| e.clone());
    at_key(
        rel,
        set,
        &s.spec("timeWindow"),
        format!("the error budget of {what} cannot be computed: {reason}"),
    )
    .help("add `timeWindow: [{duration: 30d, isRolling: true}]`; the budget is `1 - target` of that window")
}
