use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::support::{self, at_key, at_node, name_list};
use crate::artifact::openslo::{At, Link, SloObject, SloSet, API_VERSION, KINDS};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, NoParams, TypedCheck};

pub struct OpensloInvalid;

const DOCS: &str = r#"## What it checks
That the SLO file (`[operations] slos`) is valid OpenSLO v1, so that the other OPS checks read
what the learner meant:

- every document of the YAML stream parses (documents are separated by `---`; one document
  holding a list of objects is accepted too) and is an object;
- every object has `apiVersion: openslo/v1`, a `kind` OpenSLO defines (SLO, SLI, AlertPolicy,
  AlertCondition, AlertNotificationTarget, DataSource, Service), a `metadata.name` unique among
  the objects of its kind, and a `spec` mapping;
- an SLO names its `service` (a service declared in submission.toml, or an OpenSLO `Service`),
  has an `indicator` or an `indicatorRef` naming an SLI, `objectives`, one `timeWindow` and a
  `budgetingMethod` (Occurrences, Timeslices or RatioTimeslices);
- every reference resolves: `indicatorRef` to an SLI, `alertPolicyRef` to an AlertPolicy,
  `conditionRef` to an AlertCondition, `targetRef` to an AlertNotificationTarget; an
  AlertPolicy has `conditions`, an AlertCondition a `condition` with a `kind`.

The same problem in several objects is reported once, naming them. Partial credit: valid
objects / (objects + documents that do not parse).

## Why it matters
Week 9 (Day 59-60 "Metrics, SLOs, and Error Budgets"): SLOs are only useful when the tools
that compute budgets and fire alerts can read them. OpenSLO is the vendor-neutral standard for
that; a misspelt reference or a missing budgeting method is silently ignored by tooling, and
the objective the team thinks it has is not enforced.

## How to fix
Correct each reported object; keep one object per `---`-separated document, and give every
object `apiVersion`, `kind`, `metadata.name` and `spec`.

## Example
```yaml
apiVersion: openslo/v1
kind: SLI
metadata: {name: orders-good-requests-ratio}
spec:
  ratioMetric:
    counter: true
    good: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{service="orders",code!~"5.."}[5m]))'}}}
    total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{service="orders"}[5m]))'}}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: orders-availability}
spec:
  service: orders
  indicatorRef: orders-good-requests-ratio
  budgetingMethod: Occurrences
  timeWindow: [{duration: 28d, isRolling: true}]
  objectives: [{target: 0.999}]
```
"#;

impl TypedCheck for OpensloInvalid {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OPS006",
        name: "openslo-invalid",
        area: Area::Ops,
        kind: Kind::Static,
        summary: "The SLO file is not valid OpenSLO v1 (a document does not parse, a field or reference is wrong)",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let (rel, set) = match support::slos(ctx) {
            Ok(x) => x,
            Err(findings) => return CheckResult::failed(findings),
        };
        let mut findings: Vec<Finding> = set
            .stream
            .problems
            .iter()
            .chain(&set.not_objects)
            .map(|p| ctx.problem_finding(rel, p))
            .collect();
        let broken = findings.len();
        let declared: BTreeSet<&str> = ctx.submission.services.iter().map(|s| s.name.name.as_str()).collect();
        let mut v = Validator {
            set,
            declared,
            groups: BTreeMap::new(),
            invalid: BTreeSet::new(),
        };
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for (i, o) in set.objects.iter().enumerate() {
            v.object(i, o, &mut seen);
        }
        let total = set.objects.len() + broken;
        if total == 0 {
            let f = support::located(
                rel,
                set.stream.location(0, 0),
                "",
                format!("{rel} holds no OpenSLO object"),
            )
            .help("add OpenSLO v1 objects (SLO, SLI, AlertPolicy, ...) separated by `---`");
            return CheckResult::failed(vec![f]);
        }
        let good = set.objects.len() - v.invalid.len();
        for ((_, problem), g) in v.groups {
            let subject = if g.names.len() == 1 {
                format!("{} {}", g.kind, name_list(&g.names))
            } else {
                format!("{} {}s ({})", g.names.len(), g.kind, name_list(&g.names))
            };
            let f = if g.key {
                at_key(rel, set, &g.at, format!("{subject}: {problem}"))
            } else {
                at_node(rel, set, &g.at, format!("{subject}: {problem}"))
            };
            findings.push(f.help(g.help));
        }
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for o in &set.objects {
            *kinds.entry(o.kind.as_deref().unwrap_or("(no kind)")).or_default() += 1;
        }
        let kinds: Vec<String> = kinds.into_iter().map(|(k, n)| format!("{k} × {n}")).collect();
        CheckResult::ratio(good, total, findings)
            .with_evidence(format!("{good} of {total} OpenSLO objects valid"))
            .with_evidence(format!(
                "{rel}: {} document{}; {}",
                set.stream.documents,
                support::plural(set.stream.documents),
                if kinds.is_empty() {
                    "no objects".to_string()
                } else {
                    kinds.join(", ")
                }
            ))
    }
}

struct Group {
    kind: String,
    at: At,
    key: bool,
    names: Vec<String>,
    help: String,
}

struct Validator<'a> {
    set: &'a SloSet,
    declared: BTreeSet<&'a str>,
    /// (kind, problem) -> the objects that have it.
    groups: BTreeMap<(String, String), Group>,
    /// Indices of invalid objects.
    invalid: BTreeSet<usize>,
}

impl Validator<'_> {
    /// Records `problem` of object `i` at `at` (its key when `key`).
    fn problem(&mut self, i: usize, o: &SloObject, at: At, key: bool, problem: String, help: &str) {
        self.invalid.insert(i);
        let kind = o
            .kind
            .clone()
            .filter(|k| KINDS.contains(&k.as_str()))
            .unwrap_or_else(|| "object".into());
        let number = self.set.stream.parts.get(o.at.part).map_or(0, |p| p.number);
        let name = match &o.name {
            // Two objects of a kind with one name: tell them apart by their document.
            Some(n) if self.set.same_name(o.kind.as_deref().unwrap_or(""), n).len() > 1 => {
                format!("{n} (document {number})")
            }
            Some(n) => n.clone(),
            None => format!("(unnamed, document {number})"),
        };
        self.groups
            .entry((kind.clone(), problem))
            .or_insert_with(|| Group {
                kind,
                at,
                key,
                names: Vec::new(),
                help: help.to_string(),
            })
            .names
            .push(name);
    }

    fn object(&mut self, i: usize, o: &SloObject, seen: &mut BTreeSet<(String, String)>) {
        let set = self.set;
        match o.api_version.as_deref() {
            Some(API_VERSION) => {}
            Some(v) if v.starts_with("openslo/") => self.problem(
                i,
                o,
                o.at.key("apiVersion"),
                false,
                format!("`apiVersion: {v}` is not OpenSLO v1"),
                "write `apiVersion: openslo/v1` and follow the v1 field names (v1alpha differs)",
            ),
            Some(v) => self.problem(
                i,
                o,
                o.at.key("apiVersion"),
                false,
                format!("`apiVersion: {v}` is not OpenSLO"),
                "write `apiVersion: openslo/v1`",
            ),
            None => self.problem(
                i,
                o,
                o.at.clone(),
                false,
                "no `apiVersion`".into(),
                "start the object with `apiVersion: openslo/v1`",
            ),
        }
        let kind = match o.kind.as_deref() {
            Some(k) if KINDS.contains(&k) => k,
            Some(k) => {
                let suggestion = crate::diag::did_you_mean(k, KINDS)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                self.problem(
                    i,
                    o,
                    o.at.key("kind"),
                    false,
                    format!("`kind: {k}` is not an OpenSLO kind{suggestion}"),
                    "use one of SLO, SLI, AlertPolicy, AlertCondition, AlertNotificationTarget, DataSource, Service",
                );
                return;
            }
            None => {
                self.problem(
                    i,
                    o,
                    o.at.clone(),
                    false,
                    "no `kind`".into(),
                    "add `kind: SLO` (or SLI, AlertPolicy, ...)",
                );
                return;
            }
        };
        match &o.name {
            Some(n) => {
                if !seen.insert((kind.to_string(), n.clone())) {
                    self.problem(
                        i,
                        o,
                        o.at.key("metadata").key("name"),
                        false,
                        format!("another {kind} is already named `{n}`"),
                        "give every object of a kind its own `metadata.name`; references resolve to the first",
                    );
                }
            }
            None => self.problem(
                i,
                o,
                o.at.key("metadata"),
                true,
                "no `metadata.name`".into(),
                "add `metadata: {name: ...}`; references and reports use the name",
            ),
        }
        let spec = o.at.key("spec");
        if !set.value(&spec).is_some_and(Value::is_object) {
            self.problem(
                i,
                o,
                spec,
                true,
                "no `spec` mapping".into(),
                "add the object's `spec:` with its fields",
            );
            return;
        }
        match kind {
            "SLO" => self.slo(i, o, &spec),
            "AlertPolicy" => self.policy(i, o, &spec),
            "AlertCondition" => {
                let has_kind = set
                    .value(&spec.key("condition").key("kind"))
                    .and_then(Value::as_str)
                    .is_some();
                if !has_kind {
                    self.problem(
                        i,
                        o,
                        spec.key("condition"),
                        true,
                        "no `condition` with a `kind`".into(),
                        "add `condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 2m}`",
                    );
                }
            }
            "SLI" => {
                let v = set.value(&spec);
                if !["ratioMetric", "thresholdMetric"]
                    .iter()
                    .any(|k| v.and_then(|v| v.get(*k)).is_some())
                {
                    self.problem(
                        i,
                        o,
                        spec,
                        true,
                        "no `ratioMetric` or `thresholdMetric`".into(),
                        "an SLI measures good/total events (`ratioMetric`) or a value (`thresholdMetric`)",
                    );
                }
            }
            _ => {}
        }
    }

    fn slo(&mut self, i: usize, o: &SloObject, spec: &At) {
        let set = self.set;
        let field = |k: &str| set.value(&spec.key(k));
        match field("service").and_then(Value::as_str).map(str::trim) {
            Some(s) if !s.is_empty() => {
                if !self.declared.contains(s) && set.named("Service", s).is_none() {
                    let suggestion = crate::diag::did_you_mean(s, self.declared.iter().copied())
                        .map(|d| format!(" (did you mean `{d}`?)"))
                        .unwrap_or_default();
                    self.problem(
                        i,
                        o,
                        spec.key("service"),
                        false,
                        format!("`service: {s}` is not a service declared in submission.toml{suggestion}"),
                        "name the service exactly as its `[[service]] name` in submission.toml",
                    );
                }
            }
            _ => self.problem(
                i,
                o,
                spec.key("service"),
                true,
                "no `service`".into(),
                "add `service: <name>` naming the service as in submission.toml",
            ),
        }
        match (field("indicator"), field("indicatorRef")) {
            (Some(_), Some(_)) => self.problem(
                i,
                o,
                spec.key("indicatorRef"),
                true,
                "both `indicator` and `indicatorRef`".into(),
                "keep one: an inline `indicator` or an `indicatorRef` naming an SLI",
            ),
            (None, None) => self.problem(
                i,
                o,
                spec.clone(),
                true,
                "no `indicator` or `indicatorRef` (the SLO measures nothing)".into(),
                "add `indicatorRef: <SLI name>` or an inline `indicator: {metadata: {name: ...}, spec: {ratioMetric: ...}}`",
            ),
            (None, Some(r)) => match r.as_str().map(str::trim) {
                Some(name) if set.named("SLI", name).is_some() => {}
                Some(name) => self.problem(
                    i,
                    o,
                    spec.key("indicatorRef"),
                    false,
                    format!("`indicatorRef: {name}` names no SLI"),
                    "define `kind: SLI` with that `metadata.name`, or correct the reference",
                ),
                None => self.problem(
                    i,
                    o,
                    spec.key("indicatorRef"),
                    false,
                    "`indicatorRef` is not a name".into(),
                    "write `indicatorRef: <SLI name>`",
                ),
            },
            (Some(_), None) => {}
        }
        if field("objectives").is_none_or(|v| v.as_array().is_none_or(|a| a.is_empty())) {
            self.problem(
                i,
                o,
                spec.key("objectives"),
                true,
                "no `objectives` list".into(),
                "add `objectives: [{target: 0.999}]`",
            );
        }
        match field("timeWindow") {
            Some(Value::Array(w)) if w.len() == 1 => {}
            Some(Value::Array(w)) if w.len() > 1 => self.problem(
                i,
                o,
                spec.key("timeWindow"),
                true,
                format!("{} time windows; OpenSLO v1 allows exactly one", w.len()),
                "keep one window per SLO, or split it into one SLO per window",
            ),
            Some(Value::Object(_)) => self.problem(
                i,
                o,
                spec.key("timeWindow"),
                true,
                "`timeWindow` is a mapping, not a list of one window".into(),
                "write `timeWindow: [{duration: 28d, isRolling: true}]`",
            ),
            _ => self.problem(
                i,
                o,
                spec.key("timeWindow"),
                true,
                "no `timeWindow`".into(),
                "add `timeWindow: [{duration: 28d, isRolling: true}]`",
            ),
        }
        match field("budgetingMethod").and_then(Value::as_str) {
            Some("Occurrences" | "Timeslices" | "RatioTimeslices") => {}
            Some(m) => self.problem(
                i,
                o,
                spec.key("budgetingMethod"),
                false,
                format!("`budgetingMethod: {m}` is not Occurrences, Timeslices or RatioTimeslices"),
                "use `budgetingMethod: Occurrences` (count good events) or `Timeslices` (count good minutes)",
            ),
            None => self.problem(
                i,
                o,
                spec.clone(),
                true,
                "no `budgetingMethod`".into(),
                "add `budgetingMethod: Occurrences` (or Timeslices / RatioTimeslices)",
            ),
        }
        if let Some(Value::Array(ps)) = field("alertPolicies") {
            for k in 0..ps.len() {
                let at = spec.key("alertPolicies").index(k);
                let link = match set.value(&at) {
                    Some(Value::Object(m)) => m.get("alertPolicyRef").and_then(Value::as_str),
                    Some(Value::String(s)) => Some(s.as_str()),
                    _ => None,
                };
                if let Some(name) = link.map(str::trim) {
                    if set.named("AlertPolicy", name).is_none() {
                        self.problem(
                            i,
                            o,
                            at,
                            false,
                            format!("`alertPolicyRef: {name}` names no AlertPolicy"),
                            "define `kind: AlertPolicy` with that `metadata.name`, or correct the reference",
                        );
                    }
                }
            }
        }
    }

    fn policy(&mut self, i: usize, o: &SloObject, spec: &At) {
        let set = self.set;
        let conditions = set.policy_conditions(&o.at);
        if conditions.is_empty() {
            self.problem(
                i,
                o,
                spec.key("conditions"),
                true,
                "no `conditions`".into(),
                "add `conditions: [{conditionRef: <AlertCondition name>}]`",
            );
        }
        for c in conditions {
            match &c {
                Link::Ref { name, at } if set.named("AlertCondition", name).is_none() => self.problem(
                    i,
                    o,
                    at.clone(),
                    false,
                    format!("`conditionRef: {name}` names no AlertCondition"),
                    "define `kind: AlertCondition` with that `metadata.name`, or correct the reference",
                ),
                Link::Invalid { at } => self.problem(
                    i,
                    o,
                    at.clone(),
                    false,
                    "a `conditions` entry is neither a `conditionRef` nor an AlertCondition".into(),
                    "write `- conditionRef: <AlertCondition name>`",
                ),
                _ => {}
            }
        }
        if let Some(Value::Array(ts)) = set.value(&spec.key("notificationTargets")) {
            for k in 0..ts.len() {
                let at = spec.key("notificationTargets").index(k);
                if let Some(name) = set.value(&at.key("targetRef")).and_then(Value::as_str).map(str::trim) {
                    if set.named("AlertNotificationTarget", name).is_none() {
                        self.problem(
                            i,
                            o,
                            at.key("targetRef"),
                            false,
                            format!("`targetRef: {name}` names no AlertNotificationTarget"),
                            "define `kind: AlertNotificationTarget` with that `metadata.name`, or correct the reference",
                        );
                    }
                }
            }
        }
    }
}
