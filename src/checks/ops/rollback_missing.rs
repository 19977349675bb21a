use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::support::{self, located, name_list, plural, Scope};
use crate::artifact::deploy::{self, DeploySet, Resource};
use crate::artifact::Loaded;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};

pub struct RollbackMissing;

const DOCS: &str = r#"## What it checks
That the services clients depend on are deployed progressively with automatic rollback, as
declared in the deployment manifests (`[operations] deployment`: one YAML file, or a folder
whose `*.yaml` / `*.yml` files are read recursively; multi-document files are fine). Two
standard tools are recognised:

- **Argo Rollouts**: `apiVersion: argoproj.io/v1alpha1`, `kind: Rollout` with
  `spec.strategy.canary` or `spec.strategy.blueGreen`, and automated analysis that can fail:
  canary `analysis` (background) or an `analysis` step, blue-green `prePromotionAnalysis` or
  `postPromotionAnalysis`, naming an `AnalysisTemplate` (or `ClusterAnalysisTemplate` with
  `clusterScope: true`) that is in the manifests and has a metric with a `provider` and a
  `successCondition` or `failureCondition`. A failed analysis aborts the rollout and returns
  traffic to the stable version.
- **Flagger**: `apiVersion: flagger.app/v1beta1`, `kind: Canary` with `spec.analysis` holding a
  `threshold` (failed checks before rollback) and `metrics` (each with a `thresholdRange` or a
  `templateRef`).

A resource deploys a service when the service's name is the resource's `metadata.name`, its
`app` or `app.kubernetes.io/name` label (on the resource, its pod template or its selector), or
the `spec.workloadRef.name` (Rollout) / `spec.targetRef.name` (Canary) it manages.

Which services need one (parameter `scope`, as in slo-missing): `external` (default: gateways,
BFFs and the services they call synchronously; every service when there is no gateway or BFF),
`edge`, or `every-service`. Partial credit: covered services / expected services.

Without `[operations] deployment` the check fails with "no deployment manifests" (a phase 4
submission must declare them); a declared path that does not exist fails it too, and SUB002
reports that path as a missing artifact.

## Why it matters
Week 10 (Deployment & Service Mesh; Day 64-65 "Blue-green, canary, and progressive
deployments", lab "Implement automated canary deployments", success criterion "Zero-downtime
deployments with automatic rollback"): with dozens of services deploying every day, a bad
release must be caught by metrics on a small slice of traffic and rolled back by the platform,
not by a human reading dashboards at 3 a.m. A rolling update of a plain Deployment replaces
every pod whatever the error rate.

## How to fix
Replace the service's `Deployment` with an Argo `Rollout` (or add a Flagger `Canary` targeting
it) whose analysis queries the service's success rate, and commit the manifests under the
folder `[operations] deployment` names.

## Example
```yaml
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: orders}
spec:
  selector: {matchLabels: {app: orders}}
  template:
    metadata: {labels: {app: orders}}
    spec: {containers: [{name: orders, image: shopflow/orders:1.4.0}]}
  strategy:
    canary:
      analysis:
        templates: [{templateName: success-rate}]
        args: [{name: service, value: orders}]
      steps: [{setWeight: 10}, {pause: {duration: 5m}}, {setWeight: 50}, {pause: {duration: 10m}}]
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: success-rate}
spec:
  args: [{name: service}]
  metrics:
    - name: success-rate
      interval: 1m
      failureLimit: 2
      successCondition: result[0] >= 0.99
      provider:
        prometheus:
          address: http://prometheus.monitoring:9090
          query: sum(rate(http_server_requests_total{service="{{args.service}}",status!~"5.."}[5m])) / sum(rate(http_server_requests_total{service="{{args.service}}"}[5m]))
```
"#;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Which services need progressive delivery with automatic rollback.
    pub scope: Scope,
}

impl TypedCheck for RollbackMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OPS005",
        name: "rollback-missing",
        area: Area::Ops,
        kind: Kind::Static,
        summary: "A service is not deployed progressively with automatic rollback (Argo Rollouts or Flagger)",
        docs: DOCS,
        params: &[ParamDoc {
            name: "scope",
            ty: "string",
            description: "which services need it: `external` (gateways, BFFs and the services they call), `edge` \
                          (gateways and BFFs) or `every-service`",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        if sub.services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        let expected = support::required_services(sub, p.scope);
        let (r, set) = match load(ctx, &expected) {
            Ok(loaded) => loaded,
            Err(result) => return result,
        };
        let mut findings = set_findings(ctx, r, &set);
        if set.resources.is_empty() {
            findings.push(
                ctx.manifest_finding(
                    r.span.as_ref(),
                    format!(
                        "`{}` holds no Kubernetes resources ({} YAML file{} read)",
                        r.rel,
                        set.files.len(),
                        plural(set.files.len())
                    ),
                )
                .help("add Argo Rollouts (with AnalysisTemplates) or Flagger Canaries as YAML files there"),
            );
            return none_progressive(&expected, findings);
        }

        let analyses: Vec<Analysis> = set.resources.iter().filter_map(|res| analyse(&set, res)).collect();
        // Problems of progressive resources, once each (a shared AnalysisTemplate is reported once).
        let mut seen = BTreeSet::new();
        for f in analyses.iter().flat_map(|a| &a.problems) {
            if seen.insert((f.file.clone(), f.line, f.column, f.message.clone())) {
                findings.push(f.clone());
            }
        }
        let (good, mechanisms) = judge_required(ctx, r, &set, &expected, &analyses, &mut findings);
        let declared: BTreeSet<&str> = sub.services.iter().map(|s| s.name.name.as_str()).collect();
        orphans(&set, &analyses, &declared, &mut findings);
        let (total, noun) = (expected.services.len(), expected.noun);
        let mut result = CheckResult::ratio(good, total, findings)
            .with_evidence(format!(
                "{good} of {total} {noun} roll out progressively with automatic rollback"
            ))
            .with_evidence(expected.rule.clone());
        for (mechanism, services) in mechanisms {
            result = result.with_evidence(format!("{mechanism}: {}", services.join(", ")));
        }
        result.with_evidence(inventory(&set, &r.rel))
    }
}

/// The check's result when no required service rolls out progressively.
fn none_progressive(expected: &support::Expected, findings: Vec<Finding>) -> CheckResult {
    let (total, noun) = (expected.services.len(), expected.noun);
    CheckResult::failed(findings)
        .with_evidence(format!(
            "0 of {total} {noun} roll out progressively with automatic rollback"
        ))
        .with_evidence(expected.rule.clone())
}

/// The deployment manifests, or the failed result when they are not declared, missing or
/// invalid.
fn load<'c>(
    ctx: &Ctx<'c>,
    expected: &support::Expected,
) -> Result<(&'c crate::files::ArtifactRef, DeploySet), CheckResult> {
    let sub = ctx.submission;
    let none = |f: Finding| none_progressive(expected, vec![f]);
    let Some(r) = &sub.deployment else {
        return Err(none(
            ctx.manifest_finding(None, "no deployment manifests: `[operations] deployment` is not set")
                .help(
                    "commit the Kubernetes manifests (Argo Rollouts or Flagger Canaries with their analysis) \
                     and add `[operations] deployment = \"deploy\"` to submission.toml",
                ),
        ));
    };
    match deploy::load(&sub.root, r, &sub.limits) {
        Loaded::Ok(set) => Ok((r, set)),
        Loaded::Missing => Err(none(
            ctx.manifest_finding(r.span.as_ref(), format!("`{}` does not exist", r.rel))
                .help("commit the deployment manifests at this path, or correct the path"),
        )),
        Loaded::Invalid(problem) => Err(none(
            ctx.manifest_finding(r.span.as_ref(), problem.message.clone())
                .help(problem.help.clone()),
        )),
    }
}

/// The problems of the manifest files, and whether the folder held too many of them.
fn set_findings(ctx: &Ctx<'_>, r: &crate::files::ArtifactRef, set: &DeploySet) -> Vec<Finding> {
    let mut findings: Vec<Finding> = set
        .problems
        .iter()
        .map(|(rel, p)| ctx.problem_finding(rel, p))
        .collect();
    if set.truncated {
        findings.push(
            ctx.manifest_finding(
                r.span.as_ref(),
                format!(
                    "`{}` holds more than {} YAML files; only the first {} (by path) were read",
                    r.rel,
                    deploy::MAX_FILES,
                    deploy::MAX_FILES
                ),
            )
            .help("point `[operations] deployment` at the folder of this system's manifests only"),
        );
    }
    findings
}

/// Judges every required service: the number rolled out progressively, and the services per
/// mechanism; a finding for each service without such a deployment (unless its Rollout or
/// Canary has problems of its own, which say what is wrong).
fn judge_required(
    ctx: &Ctx<'_>,
    r: &crate::files::ArtifactRef,
    set: &DeploySet,
    expected: &support::Expected,
    analyses: &[Analysis],
    findings: &mut Vec<Finding>,
) -> (usize, BTreeMap<String, Vec<String>>) {
    let mut good = 0;
    let mut mechanisms: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let plain: Vec<(&Resource, BTreeSet<String>)> = set
        .resources
        .iter()
        .filter(|res| is_plain_workload(res))
        .map(|res| (res, idents(set, res)))
        .collect();
    for req in &expected.services {
        let mine: Vec<&Analysis> = analyses.iter().filter(|a| a.serves.contains(&req.name)).collect();
        if let Some(a) = mine.iter().find(|a| a.ok) {
            good += 1;
            mechanisms
                .entry(a.mechanism.clone())
                .or_default()
                .push(req.name.clone());
            continue;
        }
        if !mine.is_empty() {
            // Their own problems say what is wrong.
            continue;
        }
        let plain = plain
            .iter()
            .find(|(_, ids)| ids.contains(&req.name))
            .map(|(res, _)| *res);
        findings.push(not_progressive(ctx, r, set, req, plain));
    }
    (good, mechanisms)
}

/// A required service deployed by a `plain` workload, or not at all.
fn not_progressive(
    ctx: &Ctx<'_>,
    r: &crate::files::ArtifactRef,
    set: &DeploySet,
    req: &support::Required,
    plain: Option<&Resource>,
) -> Finding {
    match plain {
        Some(res) => located(
            set.rel(res),
            set.locate(res, "/kind"),
            &format!("{}/kind", res.pointer),
            format!(
                "service {} is deployed by a plain {}: a rolling update without automated analysis \
                 cannot roll back on its own",
                req.describe(),
                res.kind
            ),
        )
        .help(
            "turn it into an Argo `Rollout` (canary or blueGreen with an AnalysisTemplate), or add a \
             Flagger `Canary` whose `targetRef` names it",
        ),
        None => ctx
            .manifest_finding(
                ctx.submission.services[req.service].name.span.as_ref(),
                format!(
                    "service {} has no progressive deployment with automatic rollback in `{}`",
                    req.describe(),
                    r.rel
                ),
            )
            .help(format!(
                "add an Argo Rollout or a Flagger Canary for it under `{}`, named `{}` (or labelled \
                 `app: {}`), with automated analysis",
                r.rel, req.name, req.name
            )),
    }
}

/// Progressive resources that deploy no declared service.
fn orphans(set: &DeploySet, analyses: &[Analysis], declared: &BTreeSet<&str>, findings: &mut Vec<Finding>) {
    for a in analyses
        .iter()
        .filter(|a| a.serves.iter().all(|s| !declared.contains(s.as_str())))
    {
        findings.push(
            located(
                set.rel(a.res),
                set.locate(a.res, "/metadata/name"),
                &format!("{}/metadata/name", a.res.pointer),
                format!(
                    "{} `{}` deploys no declared service",
                    a.res.kind,
                    a.res.name.as_deref().unwrap_or("(unnamed)")
                ),
            )
            .help(
                "name it after the service it deploys (`metadata.name`, or the label `app` / \
                 `app.kubernetes.io/name`), as declared in submission.toml",
            ),
        );
    }
}

/// What a Rollout or Canary was found to do.
struct Analysis<'a> {
    res: &'a Resource,
    /// The service names it may deploy.
    serves: BTreeSet<String>,
    /// Progressive with automated analysis that can fail.
    ok: bool,
    /// e.g. "Argo Rollout canary, analysis `success-rate`".
    mechanism: String,
    problems: Vec<Finding>,
}

fn is_argo(res: &Resource) -> bool {
    res.api_version.starts_with("argoproj.io/")
}

fn is_plain_workload(res: &Resource) -> bool {
    matches!(res.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet")
}

/// The names a resource may deploy (see the docs).
fn idents(set: &DeploySet, res: &Resource) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    out.extend(res.name.clone());
    for base in [
        "/metadata/labels",
        "/spec/template/metadata/labels",
        "/spec/selector/matchLabels",
    ] {
        for key in ["app", "app.kubernetes.io~1name"] {
            if let Some(v) = set.value(res, &format!("{base}/{key}")).and_then(Value::as_str) {
                out.insert(v.trim().to_string());
            }
        }
    }
    for p in ["/spec/workloadRef/name", "/spec/targetRef/name"] {
        if let Some(v) = set.value(res, p).and_then(Value::as_str) {
            out.insert(v.trim().to_string());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn finding_at(set: &DeploySet, res: &Resource, rel: &str, message: String) -> Finding {
    located(
        set.rel(res),
        set.locate(res, rel),
        &format!("{}{rel}", res.pointer),
        message,
    )
}

fn analyse<'a>(set: &'a DeploySet, res: &'a Resource) -> Option<Analysis<'a>> {
    let name = res.name.clone().unwrap_or_else(|| "(unnamed)".into());
    // A Canary's target and a Rollout's referenced workload deploy the same service.
    let mut serves = idents(set, res);
    for r in ["/spec/targetRef", "/spec/workloadRef"] {
        let field = |k: &str| {
            set.value(res, &format!("{r}/{k}"))
                .and_then(Value::as_str)
                .map(str::trim)
        };
        if let Some(target) = field("name") {
            let kind = field("kind").unwrap_or("Deployment");
            for t in set.named(kind, target) {
                serves.extend(idents(set, t));
            }
        }
    }
    let mut a = Analysis {
        res,
        serves,
        ok: false,
        mechanism: String::new(),
        problems: Vec::new(),
    };
    if is_argo(res) && res.kind == "Rollout" {
        rollout(set, res, &name, &mut a);
    } else if res.api_version.starts_with("flagger.app/") && res.kind == "Canary" {
        canary(set, res, &name, &mut a);
    } else {
        return None;
    }
    Some(a)
}

fn rollout(set: &DeploySet, res: &Resource, name: &str, a: &mut Analysis<'_>) {
    let (style, base) = if set.value(res, "/spec/strategy/canary").is_some() {
        ("canary", "/spec/strategy/canary")
    } else if set.value(res, "/spec/strategy/blueGreen").is_some() {
        ("blue-green", "/spec/strategy/blueGreen")
    } else {
        a.problems.push(
            finding_at(
                set,
                res,
                "/spec/strategy",
                format!("Rollout `{name}` has no `canary` or `blueGreen` strategy"),
            )
            .help("add `strategy: {canary: {steps: [...], analysis: {templates: [{templateName: ...}]}}}`"),
        );
        return;
    };
    // (pointer of the analysis block below the resource, its value)
    let mut blocks: Vec<String> = Vec::new();
    if style == "canary" {
        if set.value(res, &format!("{base}/analysis")).is_some() {
            blocks.push(format!("{base}/analysis"));
        }
        if let Some(Value::Array(steps)) = set.value(res, &format!("{base}/steps")) {
            for (i, step) in steps.iter().enumerate() {
                if step.get("analysis").is_some() {
                    blocks.push(format!("{base}/steps/{i}/analysis"));
                }
            }
        }
    } else {
        for k in ["prePromotionAnalysis", "postPromotionAnalysis"] {
            if set.value(res, &format!("{base}/{k}")).is_some() {
                blocks.push(format!("{base}/{k}"));
            }
        }
    }
    // (pointer of the template name, name, cluster scope)
    let mut refs: Vec<(String, String, bool)> = Vec::new();
    for b in &blocks {
        if let Some(Value::Array(ts)) = set.value(res, &format!("{b}/templates")) {
            for (i, t) in ts.iter().enumerate() {
                if let Some(n) = t.get("templateName").and_then(Value::as_str) {
                    let cluster = t.get("clusterScope").and_then(Value::as_bool).unwrap_or(false);
                    refs.push((format!("{b}/templates/{i}/templateName"), n.trim().to_string(), cluster));
                }
            }
        } else if let Some(n) = set.value(res, &format!("{b}/templateName")).and_then(Value::as_str) {
            refs.push((format!("{b}/templateName"), n.trim().to_string(), false));
        }
    }
    if refs.is_empty() {
        let (message, help) = if style == "canary" {
            (
                format!(
                    "Rollout `{name}` shifts traffic step by step but runs no analysis, so a bad version is \
                     never rolled back automatically"
                ),
                "add `analysis: {templates: [{templateName: success-rate}]}` to the canary strategy (or an \
                 `analysis` step) and define that AnalysisTemplate",
            )
        } else {
            (
                format!(
                    "Rollout `{name}` switches blue-green without `prePromotionAnalysis` or \
                     `postPromotionAnalysis`, so a bad version is never rolled back automatically"
                ),
                "add `prePromotionAnalysis: {templates: [{templateName: success-rate}]}` and define that \
                 AnalysisTemplate",
            )
        };
        a.problems.push(finding_at(set, res, base, message).help(help));
        return;
    }
    let mut good_templates = Vec::new();
    for (at, tname, cluster) in &refs {
        let kind = if *cluster {
            "ClusterAnalysisTemplate"
        } else {
            "AnalysisTemplate"
        };
        let template = set.named(kind, tname).find(|t| is_argo(t));
        let Some(t) = template else {
            a.problems.push(
                finding_at(
                    set,
                    res,
                    at,
                    format!("Rollout `{name}` uses {kind} `{tname}`, which is not in the deployment manifests"),
                )
                .help(format!(
                    "commit `kind: {kind}` with `metadata.name: {tname}` next to the Rollout, or correct the name"
                )),
            );
            continue;
        };
        match template_can_fail(set, t) {
            true => good_templates.push(tname.clone()),
            false => {
                let f = finding_at(
                    set,
                    t,
                    "/spec/metrics",
                    format!(
                        "{kind} `{tname}` has no metric with a `provider` and a `successCondition` or \
                         `failureCondition`, so its analysis can never fail"
                    ),
                )
                .help(
                    "add a metric, e.g. `successCondition: result[0] >= 0.99` with a `provider: {prometheus: {...}}`",
                );
                a.problems.push(f);
            }
        }
    }
    if !good_templates.is_empty() {
        good_templates.sort();
        good_templates.dedup();
        a.ok = true;
        a.mechanism = format!("Argo Rollout {style} with analysis {}", name_list(&good_templates));
    }
}

/// An AnalysisTemplate with at least one metric that has a provider and a condition.
fn template_can_fail(set: &DeploySet, t: &Resource) -> bool {
    let Some(Value::Array(metrics)) = set.value(t, "/spec/metrics") else {
        return false;
    };
    metrics.iter().any(|m| {
        let cond = ["successCondition", "failureCondition"]
            .iter()
            .any(|k| m.get(k).and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty()));
        let provider = m
            .get("provider")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        cond && provider
    })
}

fn canary(set: &DeploySet, res: &Resource, name: &str, a: &mut Analysis<'_>) {
    let base = if set.value(res, "/spec/analysis").is_some() {
        "/spec/analysis"
    } else if set.value(res, "/spec/canaryAnalysis").is_some() {
        "/spec/canaryAnalysis"
    } else {
        a.problems.push(
            finding_at(
                set,
                res,
                "/spec",
                format!("Flagger Canary `{name}` has no `analysis`, so nothing decides when to roll back"),
            )
            .help("add `analysis: {interval: 1m, threshold: 5, maxWeight: 50, stepWeight: 10, metrics: [...]}`"),
        );
        return;
    };
    let threshold = set
        .value(res, &format!("{base}/threshold"))
        .and_then(Value::as_f64)
        .filter(|t| *t >= 1.0);
    if threshold.is_none() {
        a.problems.push(
            finding_at(
                set,
                res,
                base,
                format!("Flagger Canary `{name}` has no `threshold` (failed checks before rollback)"),
            )
            .help("add `threshold: 5` to the analysis: after that many failed checks Flagger rolls back"),
        );
    }
    let metrics = match set.value(res, &format!("{base}/metrics")) {
        Some(Value::Array(ms)) => ms
            .iter()
            .filter(|m| {
                m.get("name").and_then(Value::as_str).is_some()
                    && (m.get("thresholdRange").is_some() || m.get("templateRef").is_some())
            })
            .count(),
        _ => 0,
    };
    if metrics == 0 {
        a.problems.push(
            finding_at(
                set,
                res,
                base,
                format!("Flagger Canary `{name}` has no metric with a `thresholdRange` or `templateRef`"),
            )
            .help("add `metrics: [{name: request-success-rate, thresholdRange: {min: 99}, interval: 1m}]`"),
        );
    }
    if let (Some(t), true) = (threshold, metrics > 0) {
        a.ok = true;
        a.mechanism = format!(
            "Flagger Canary, rollback after {} failed check{} of {metrics} metric{}",
            support::trim_number(t, 0),
            plural(t as usize),
            plural(metrics)
        );
    }
}

/// "deploy: 2 files read, AnalysisTemplate × 1, Rollout × 8".
fn inventory(set: &DeploySet, rel: &str) -> String {
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for res in &set.resources {
        *kinds.entry(res.kind.as_str()).or_default() += 1;
    }
    let kinds: Vec<String> = kinds.into_iter().map(|(k, n)| format!("{k} × {n}")).collect();
    format!(
        "{rel}: {} file{} read, {}",
        set.files.len(),
        plural(set.files.len()),
        kinds.join(", ")
    )
}
