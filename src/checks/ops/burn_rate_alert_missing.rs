use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::support::{self, at_key, at_node, name_list, plural};
use crate::artifact::openslo::{At, Condition, Link, SloSet};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};

pub struct BurnRateAlertMissing;

const DOCS: &str = r#"## What it checks
That every SLO in the OpenSLO file alerts on the burn rate of its error budget: the SLO lists
`spec.alertPolicies` (by `alertPolicyRef` or inline), a policy lists `spec.conditions` (by
`conditionRef` or inline), and a condition is a complete burn-rate condition:
`condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 5m}`
(`op` is `gt` or `gte`, `threshold` a positive burn rate, `lookbackWindow` and `alertAfter`
durations).

The burn-rate windows of an SLO are the distinct `lookbackWindow`s of all its policies'
burn-rate conditions. Multi-window alerting (a fast burn over a short window that pages, and a
slow burn over a long window that opens a ticket) earns full credit; with the default
`min_windows = 2` an SLO with a single window earns half its credit, an SLO without burn-rate
alerting none. Partial credit: the sum over the SLOs of min(windows, min_windows) / min_windows,
divided by the number of SLOs. A missing, unreadable or undeclared SLO file fails the check.

## Why it matters
Week 9 (Day 59-60, success criterion "Implement error budget alerting"; learning objective
"Build comprehensive metrics and alerting"): alerting on the burn rate of the error budget pages
for what threatens the objective and nothing else. A single short window is noisy and misses
slow leaks; a single long window reacts hours late. Pairing a fast and a slow window (e.g.
14.4x over 1 hour and 1x over 3 days for a 28-30 day SLO) catches both.

## How to fix
Define burn-rate `AlertCondition`s, wrap them in `AlertPolicy`s, and list the policies in
each SLO's `spec.alertPolicies`.

## Example
```yaml
apiVersion: openslo/v1
kind: AlertCondition
metadata: {name: fast-burn}
spec:
  severity: page
  condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 2m}
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: page-on-fast-burn}
spec:
  conditions: [{conditionRef: fast-burn}]
  notificationTargets: [{targetRef: on-call-pager}]
---
# ... a slow-burn condition (threshold: 1, lookbackWindow: 3d) and its policy, then in the SLO:
spec:
  alertPolicies:
    - alertPolicyRef: page-on-fast-burn
    - alertPolicyRef: ticket-on-slow-burn
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Distinct burn-rate windows an SLO needs for full credit.
    pub min_windows: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params { min_windows: 2 }
    }
}

impl TypedCheck for BurnRateAlertMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OPS004",
        name: "burn-rate-alert-missing",
        area: Area::Ops,
        kind: Kind::Static,
        summary: "An SLO has no multi-window burn-rate alerting on its error budget",
        docs: DOCS,
        params: &[ParamDoc {
            name: "min_windows",
            ty: "integer",
            description: "distinct burn-rate lookback windows an SLO needs for full credit (2 = fast and slow \
                          burn; fewer windows earn proportional credit)",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        if p.min_windows == 0 {
            return CheckResult::errored("parameter min_windows must be at least 1");
        }
        let min = p.min_windows as usize;
        let (rel, set) = match support::slos(ctx) {
            Ok(x) => x,
            Err(findings) => return CheckResult::failed(findings).with_evidence("no SLO to evaluate"),
        };
        let slos = set.slos();
        if slos.is_empty() {
            let f = support::located(
                rel,
                set.stream.location(0, 0),
                "",
                format!("{rel} holds no `kind: SLO`"),
            )
            .help("add OpenSLO `kind: SLO` documents, each with `alertPolicies`");
            return CheckResult::failed(vec![f]).with_evidence("no SLO to evaluate");
        }
        let mut w = Walk {
            rel,
            set,
            notes: BTreeMap::new(),
            unknown: BTreeMap::new(),
        };
        let mut groups: BTreeMap<(u8, String), (At, Vec<String>)> = BTreeMap::new();
        let mut signatures: BTreeMap<String, usize> = BTreeMap::new();
        let mut score = 0;
        let mut full = 0;
        for s in &slos {
            let mut windows: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
            for link in &s.policies {
                w.policy(&s.name, link, &mut windows);
            }
            let n = windows.len();
            score += n.min(min);
            if n >= min {
                full += 1;
            }
            let described: Vec<String> = windows
                .values()
                .map(|v| v.iter().cloned().collect::<Vec<_>>().join(" | "))
                .collect();
            if n > 0 {
                *signatures.entry(described.join(", ")).or_default() += 1;
            }
            let key = if s.policies.is_empty() {
                Some((0, String::new()))
            } else if n == 0 {
                Some((1, String::new()))
            } else if n < min {
                Some((2, described.join(", ")))
            } else {
                None
            };
            if let Some(key) = key {
                groups
                    .entry(key)
                    .or_insert_with(|| (s.name_at(), Vec::new()))
                    .1
                    .push(s.name.clone());
            }
        }
        let mut findings: Vec<Finding> = Vec::new();
        for ((kind, windows), (at, names)) in groups {
            let subject = if names.len() == 1 {
                format!("SLO {}", name_list(&names))
            } else {
                format!("{} SLOs ({})", names.len(), name_list(&names))
            };
            let has = if names.len() == 1 { "has" } else { "have" };
            let f = match kind {
                0 => at_node(rel, set, &at, format!("{subject} {has} no `alertPolicies`")).help(
                    "list burn-rate alert policies in `spec.alertPolicies`, e.g. \
                     `[{alertPolicyRef: page-on-fast-burn}, {alertPolicyRef: ticket-on-slow-burn}]`",
                ),
                1 => at_node(
                    rel,
                    set,
                    &at,
                    format!("{subject} {has} alert policies but no complete burn-rate condition"),
                )
                .help(
                    "give the policies an AlertCondition with `condition: {kind: burnrate, op: gte, \
                     threshold: 14.4, lookbackWindow: 1h, alertAfter: 2m}`",
                ),
                _ => at_node(
                    rel,
                    set,
                    &at,
                    format!(
                        "{subject} alert{} on burn rate over {} window{} only ({windows}); {min} are expected",
                        if names.len() == 1 { "s" } else { "" },
                        windows.split(", ").count(),
                        plural(windows.split(", ").count())
                    ),
                )
                .help(
                    "add a second policy with a longer lookback window and a lower threshold (e.g. fast burn \
                     14.4x over 1h that pages, slow burn 1x over 3d that opens a ticket), so both sudden \
                     outages and slow leaks are caught",
                ),
            };
            findings.push(f);
        }
        for (name, (kind, at, users)) in &w.unknown {
            let mut users: Vec<&String> = users.iter().collect();
            users.dedup();
            findings.push(
                at_node(
                    rel,
                    set,
                    at,
                    format!(
                        "`{}: {name}` names no {kind} (used by {})",
                        if *kind == "AlertPolicy" {
                            "alertPolicyRef"
                        } else {
                            "conditionRef"
                        },
                        name_list(&users)
                    ),
                )
                .help(format!(
                    "define `kind: {kind}` with `metadata.name: {name}` in {rel}, or correct the name"
                )),
            );
        }
        findings.extend(w.notes.into_values());
        let n = slos.len();
        let over = if min == 1 {
            "at least one window".to_string()
        } else {
            format!("at least {min} windows")
        };
        let mut r = CheckResult::ratio(score, n * min, findings)
            .with_evidence(format!("{full} of {n} SLOs alert on burn rate over {over}"));
        for (sig, count) in signatures {
            r = r.with_evidence(format!("burn-rate windows {sig}: {count} SLO{}", plural(count)));
        }
        if let Some(e) = support::ignored_documents(rel, set) {
            r = r.with_evidence(e);
        }
        r
    }
}

/// Follows SLO -> alert policies -> conditions, collecting windows and reporting each broken
/// policy or condition once however many SLOs use it.
struct Walk<'a> {
    rel: &'a str,
    set: &'a SloSet,
    /// Findings about policies and conditions, keyed by where they point.
    notes: BTreeMap<(At, u8), Finding>,
    /// Unresolved names: name -> (kind, first reference, SLOs using it).
    unknown: BTreeMap<String, (&'static str, At, Vec<String>)>,
}

impl Walk<'_> {
    fn note(&mut self, at: &At, n: u8, f: impl FnOnce() -> Finding) {
        self.notes.entry((at.clone(), n)).or_insert_with(f);
    }

    fn policy(&mut self, slo: &str, link: &Link, windows: &mut BTreeMap<u64, BTreeSet<String>>) {
        let (rel, set) = (self.rel, self.set);
        let Some(pat) = set.resolve(link, "AlertPolicy") else {
            match link {
                Link::Ref { name, at } => self.unresolved(name, "AlertPolicy", at, slo),
                other => self.note(other.at(), 0, || {
                    at_node(
                        rel,
                        set,
                        other.at(),
                        "an `alertPolicies` entry is neither a reference nor a policy",
                    )
                    .help("write `- alertPolicyRef: <name of an AlertPolicy>` or an inline `kind: AlertPolicy`")
                }),
            }
            return;
        };
        let policy = set
            .name_at(&pat)
            .map(|n| format!("`{n}`"))
            .unwrap_or_else(|| format!("(inline, in SLO `{slo}`)"));
        let conditions = set.policy_conditions(&pat);
        if conditions.is_empty() {
            let at = pat.key("spec").key("conditions");
            self.note(&at, 1, || {
                at_key(rel, set, &at, format!("alert policy {policy} has no conditions"))
                    .help("add `conditions: [{conditionRef: fast-burn}]` naming a burn-rate AlertCondition")
            });
            return;
        }
        let mut burn = false;
        for c in &conditions {
            let Some(cat) = set.resolve(c, "AlertCondition") else {
                match c {
                    Link::Ref { name, at } => self.unresolved(name, "AlertCondition", at, slo),
                    other => self.note(other.at(), 0, || {
                        at_node(
                            rel,
                            set,
                            other.at(),
                            "a `conditions` entry is neither a reference nor a condition",
                        )
                        .help("write `- conditionRef: <name of an AlertCondition>` or an inline AlertCondition")
                    }),
                }
                continue;
            };
            let cond = set.condition(&cat);
            if !cond.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("burnrate")) {
                continue;
            }
            burn = true;
            let name = set
                .name_at(&cat)
                .map(|n| format!("`{n}`"))
                .unwrap_or_else(|| format!("(inline, in alert policy {policy})"));
            match complete(&cond) {
                Ok((seconds, text)) => {
                    windows.entry(seconds).or_default().insert(text);
                }
                Err(problems) => self.note(&cond.at, 2, || {
                    at_key(
                        rel,
                        set,
                        &cond.at,
                        format!("burn-rate condition {name} is incomplete: {}", problems.join("; ")),
                    )
                    .help("write `condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 2m}`")
                }),
            }
        }
        if !burn {
            let at = pat.key("spec").key("conditions");
            self.note(&at, 3, || {
                at_key(
                    rel,
                    set,
                    &at,
                    format!("alert policy {policy} has no burn-rate condition (`condition.kind: burnrate`)"),
                )
                .help("alert on how fast the error budget burns, not on raw thresholds: use a burnrate condition")
            });
        }
    }

    fn unresolved(&mut self, name: &str, kind: &'static str, at: &At, slo: &str) {
        self.unknown
            .entry(name.to_string())
            .or_insert_with(|| (kind, at.clone(), Vec::new()))
            .2
            .push(slo.to_string());
    }
}

/// A complete burn-rate condition: its lookback in seconds and a description
/// (`1h >= 14.4x`), or what is missing.
fn complete(c: &Condition) -> Result<(u64, String), Vec<String>> {
    let mut problems = Vec::new();
    let op = match c.op.as_deref() {
        Some("gt") => Some(">"),
        Some("gte") => Some(">="),
        Some(other @ ("lt" | "lte")) => {
            problems.push(format!("`op: {other}` alerts when the budget burns slowly; use `gte`"));
            None
        }
        Some(other) => {
            problems.push(format!("`op: {other}` is not one of gt, gte"));
            None
        }
        None => {
            problems.push("no `op`".into());
            None
        }
    };
    let threshold = match c.threshold {
        Some(t) if t > 0.0 => Some(t),
        Some(t) => {
            problems.push(format!("`threshold: {t}` is not a positive burn rate"));
            None
        }
        None => {
            problems.push("no numeric `threshold`".into());
            None
        }
    };
    let lookback = match &c.lookback {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            problems.push(format!("`lookbackWindow`: {e}"));
            None
        }
        None => {
            problems.push("no `lookbackWindow`".into());
            None
        }
    };
    match &c.alert_after {
        Some(Ok(_)) => {}
        Some(Err(e)) => problems.push(format!("`alertAfter`: {e}")),
        None => problems.push("no `alertAfter`".into()),
    }
    match (op, threshold, lookback) {
        (Some(op), Some(t), Some(d)) if problems.is_empty() => {
            Ok((d.seconds, format!("{} {op} {}x", d.text, support::trim_number(t, 3))))
        }
        _ => Err(problems),
    }
}
