use serde::{Deserialize, Serialize};

use super::{fold, plural, words};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::evidence::{self, Needs, Source, Status};
use crate::finding::Claim;
use crate::finding::Finding;
use crate::submission::{Saga, SagaStep, StepKind};

pub struct SagaCompensationMissing;

const DOCS: &str = r#"## What it checks
That every `[[saga]]`, orchestrated or choreographed, has the shape the curriculum teaches:
**compensatable** steps, then one **pivot** step, then **retriable** steps; **read-only** steps
may stand anywhere.

- A compensatable step has a `compensation`: the action that semantically undoes it, not
  empty and not the action itself. It comes before the pivot: a failure after the pivot can
  no longer be undone.
- The pivot is the go/no-go step: once it commits, the saga runs to completion. It needs no
  compensation. A saga has at most one (with none, the last compensatable step is the pivot).
- A retriable step comes after the pivot: it cannot fail for good (it is idempotent and
  retried until it succeeds), so it needs no compensation either.
- A read-only step (verifying the consumer before creating a ticket) has no side effect and
  needs nothing.

Each step may say what it is: `kind = "compensatable" | "pivot" | "retriable" | "read-only"`.
A step without `kind` is read-only when its `action` starts with a read-only verb (the
`read_only_verbs` parameter: `Get`, `Fetch`, `Read`, `Check`, `Validate`, `Verify`,
`Calculate`, `Compute`, `Query`, `Find`, `List`, `Lookup`, `Load`, `Quote`, `Estimate` by
default) and compensatable when it has a `compensation`. Among the other steps (a side effect,
no compensation, no `kind`) the pivot is inferred (parameter `final_step_exempt`, default
true): the last of them, provided every later step is retriable or read-only. A step after a
declared pivot is retriable. Any other step without a compensation is a missing compensation.

Partial credit: steps with a side effect that fit that shape / steps with a side effect.

Declared compensations answer to the code: each is looked for in the code of the step's
service and of the saga's first service (the orchestrator), as a function that implements it
or a call that invokes it (`ReleaseStock` in `self.stock.release(...)`, `release_stock()`,
`inventory.releaseStock(...)`); a port declared without an implementation does not count.
The evidence lists what was found where. With `evidence = "found"` (phase2) a compensation
that is not in the code, where one of those services has code, costs its step; a service
without code keeps its declared compensation. Not finding a name is never a contradiction.

## Why it matters
A saga replaces a distributed transaction by local transactions and compensating
transactions (Week 6: "Implement saga patterns for distributed transactions", "Implement
compensating transactions for booking flow"). A step that can be neither undone nor
retried, before the point of no return, leaves the system inconsistent when a later step
fails (stock reserved for an order that was rejected, a payment captured for a cancelled
shipment) and someone fixes it by hand. After the pivot the saga must complete, so the steps
there are retried, not compensated.

## How to fix
Add `compensation` to each step with a side effect before the pivot: the action, on the same
service, that undoes it semantically (`ReserveStock` -> `ReleaseStock`, `AuthorizePayment` ->
`VoidPayment`). Put the step that cannot be undone (the pivot) after them, and only
retriable steps (idempotent, retried until they succeed) after the pivot; say so with
`kind` where the order alone does not.

## Example
```toml
[[saga]]
name = "create-order"
style = "orchestration"
steps = [
  { service = "orders", action = "CreateOrder", compensation = "RejectOrder" },
  { service = "consumers", action = "VerifyConsumer" },                       # read-only
  { service = "kitchen", action = "CreateTicket", compensation = "RejectTicket" },
  { service = "accounting", action = "AuthorizeCard", kind = "pivot" },
  { service = "kitchen", action = "ApproveTicket", kind = "retriable" },
  { service = "orders", action = "ApproveOrder", kind = "retriable" },
]
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Whether the last step of an orchestrated saga may omit its compensation.
    pub final_step_exempt: bool,
    /// Verbs that start an action without side effects.
    pub read_only_verbs: Vec<String>,
    /// What a declared compensation needs: the manifest's word, or (`found`) a function or
    /// call in the code of the step's service or the saga's first service, where they have code.
    pub evidence: Needs,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            final_step_exempt: true,
            evidence: Needs::Declared,
            read_only_verbs: [
                "Get",
                "Fetch",
                "Read",
                "Check",
                "Validate",
                "Verify",
                "Calculate",
                "Compute",
                "Query",
                "Find",
                "List",
                "Lookup",
                "Load",
                "Quote",
                "Estimate",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl TypedCheck for SagaCompensationMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT009",
        name: "saga-compensation-missing",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "A saga step with a side effect has no compensation, or the saga is not compensatable steps, pivot, retriable steps",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "final_step_exempt",
                ty: "boolean",
                description: "infer the pivot of a saga that declares none: its last step with a side effect and no compensation, if only retriable or read-only steps follow, needs no compensation",
            },
            ParamDoc {
                name: "read_only_verbs",
                ty: "array of strings",
                description: "verbs that start an action without side effects (such steps need no compensation)",
            },
            ParamDoc {
                name: "evidence",
                ty: "\"declared\" or \"found\"",
                description: "what a declared compensation needs: the manifest's word (declared, default), or a function or call \
                              matching it in the code of the step's service or the saga's first service where they have code (found)",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sagas = &ctx.submission.sagas;
        if sagas.is_empty() {
            return CheckResult::absent("the manifest declares no saga (`[[saga]]`)");
        }
        let mut count = Counts::default();
        let mut findings = Vec::new();
        let mut notes = Vec::new();
        let mut code_lines = Vec::new();
        let mut claims = Vec::new();
        for saga in sagas {
            if saga.steps.is_empty() {
                let name = &saga.name.name;
                notes.push(
                    ctx.manifest_finding(saga.name.span.as_ref(), format!("saga `{name}` declares no steps"))
                        .help("list its steps: `steps = [{ service = \"...\", action = \"...\", compensation = \"...\" }]`"),
                );
                continue;
            }
            judge(ctx, p, saga, &mut count, &mut findings);
            compensations_in_code(ctx, p, saga, &mut findings, &mut code_lines, &mut claims);
        }
        let bad = findings.len();
        let total = count.total();
        let mut all = fold(
            findings,
            "saga steps out of place or without compensation",
            "compensate every step before the pivot; only retriable steps after it",
        );
        all.extend(notes);
        let mut r = CheckResult::ratio(total - bad, total, all).with_evidence(format!(
            "{} of {total} saga steps with a side effect are compensatable before the pivot, the pivot, or \
             retriable after it",
            total - bad
        ));
        let inferred = match count.inferred_pivots {
            0 => String::new(),
            n => format!(" ({n} inferred)"),
        };
        r.evidence.push(format!(
            "{}, {}{inferred}, {}; {} exempt",
            plural(count.compensatable, "compensatable step", "compensatable steps"),
            plural(count.pivots, "pivot", "pivots"),
            plural(count.retriable, "retriable step", "retriable steps"),
            plural(count.read_only, "read-only step", "read-only steps"),
        ));
        r.evidence.extend(code_lines);
        r.with_claims(claims)
    }
}

/// Declared compensations against the code: each is looked for (a function or a call whose
/// words contain the compensation's, `ReleaseStock` in `self.stock.release(...)`) in the code
/// of the step's service and of the saga's first service (the orchestrator of an orchestrated
/// saga): a function that implements it or a call that invokes it; a port declared without an
/// implementation is not enough. With `evidence = "found"`, one that is not there while one of them has code loses
/// its step's credit. Not finding a name is never a contradiction.
fn compensations_in_code(
    ctx: &Ctx<'_>,
    p: &Params,
    saga: &Saga,
    findings: &mut Vec<(String, Finding)>,
    lines: &mut Vec<String>,
    claims: &mut Vec<Claim>,
) {
    let first = saga.steps.first().map(|s| s.service.name.as_str()).unwrap_or_default();
    let mut cache: std::collections::BTreeMap<String, Option<(String, evidence::Names)>> = Default::default();
    let mut code_of = |service: &str| -> Option<(String, evidence::Names)> {
        cache
            .entry(service.to_string())
            .or_insert_with(|| {
                let (dir, rel) = ctx.service_code_dir(service)?;
                let names = evidence::names(&dir, &rel);
                (names.code_files > 0).then_some((rel, names))
            })
            .clone()
    };
    let (mut found, mut missing, mut no_code) = (Vec::new(), Vec::new(), 0);
    for step in &saga.steps {
        let Some(comp) = &step.compensation else { continue };
        // A step already out of place counts once.
        let at = step
            .action
            .span
            .as_ref()
            .map(|r| (r.start, r.end.saturating_sub(r.start)));
        if at.is_some() && findings.iter().any(|(_, f)| f.span == at) {
            continue;
        }
        // Implemented (a function with a body) or invoked, in the step's own service or the
        // first one (the orchestrator); a port declared without an implementation is not enough.
        let mut places: Vec<(String, evidence::Names)> = Vec::new();
        for service in [step.service.name.as_str(), first] {
            if let Some((rel, names)) = code_of(service) {
                if !places.iter().any(|(r, _)| *r == rel) {
                    places.push((rel, names));
                }
            }
        }
        let claim = |status, credited| {
            Claim::new(
                format!("saga `{}` step `{}`", saga.name.name, step.action.name),
                format!("compensation {}", comp.name),
                status,
                credited,
            )
            .from_source(
                Source::Declared,
                crate::submission::MANIFEST,
                comp.span.as_ref().and_then(|s| ctx.manifest_line(s)),
                format!("compensation = \"{}\"", comp.name),
            )
        };
        if places.is_empty() {
            no_code += 1;
            claims.push(claim(Status::Unconfirmed, true));
            continue;
        }
        match places.iter().find_map(|(_, n)| n.find(&comp.name)) {
            Some(at) => {
                let (file, line) = at
                    .rsplit_once(':')
                    .map_or((at.as_str(), None), |(f, l)| (f, l.parse().ok()));
                claims.push(claim(Status::Confirmed, true).from_source(Source::Found, file, line, comp.name.clone()));
                found.push(format!("{} ({at})", comp.name));
            }
            None => {
                claims.push(claim(Status::Unconfirmed, p.evidence != Needs::Found));
                let looked: Vec<String> = places
                    .iter()
                    .map(|(rel, n)| format!("{rel} ({} files)", n.code_files))
                    .collect();
                missing.push(comp.name.clone());
                if p.evidence == Needs::Found {
                    let f = ctx
                        .manifest_finding(
                            comp.span.as_ref(),
                            format!(
                                "saga `{}`: the compensation `{}` of `{}` is declared, but no function or call in the code matches it (looked in {})",
                                saga.name.name,
                                comp.name,
                                step.action.name,
                                looked.join(", ")
                            ),
                        )
                        .help("implement the compensation in the service's code (a handler or method named after it), or fix its name in the manifest");
                    findings.push((step.action.name.clone(), f));
                }
            }
        }
    }
    if found.is_empty() && missing.is_empty() {
        return;
    }
    let mut line = format!("saga `{}`: compensations", saga.name.name);
    if !found.is_empty() {
        line.push_str(&format!(" found in code: {}", found.join(", ")));
    }
    if !missing.is_empty() {
        line.push_str(&format!(
            "{} not found in code: {}",
            if found.is_empty() { "" } else { ";" },
            missing.join(", ")
        ));
    }
    if no_code > 0 {
        line.push_str(&format!("; {no_code} in services without code (declared)"));
    }
    lines.push(line);
}

/// What a step is, declared or inferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    ReadOnly,
    Compensatable,
    Pivot,
    Retriable,
    /// A side effect without compensation nor `kind`: the pivot, a step after a declared
    /// pivot (retriable), or a missing compensation.
    Bare,
}

#[derive(Default)]
struct Counts {
    compensatable: usize,
    pivots: usize,
    inferred_pivots: usize,
    retriable: usize,
    read_only: usize,
    /// Steps without compensation that are neither the pivot nor after it.
    missing: usize,
}

impl Counts {
    fn total(&self) -> usize {
        self.compensatable + self.pivots + self.retriable + self.missing
    }
}

/// Judges the steps of one saga (which has steps): pushes a finding per step out of place.
fn judge(ctx: &Ctx<'_>, p: &Params, saga: &Saga, count: &mut Counts, findings: &mut Vec<(String, Finding)>) {
    let name = &saga.name.name;
    let steps = &saga.steps;
    let roles: Vec<Role> = steps
        .iter()
        .map(|st| match st.kind.as_ref().map(|k| k.0) {
            Some(StepKind::ReadOnly) => Role::ReadOnly,
            Some(StepKind::Compensatable) => Role::Compensatable,
            Some(StepKind::Pivot) => Role::Pivot,
            Some(StepKind::Retriable) => Role::Retriable,
            None => {
                let first = words(&st.action.name).into_iter().next().unwrap_or_default();
                if p.read_only_verbs.iter().any(|v| v.eq_ignore_ascii_case(&first)) {
                    Role::ReadOnly
                } else if st.compensation.is_some() {
                    Role::Compensatable
                } else {
                    Role::Bare
                }
            }
        })
        .collect();
    // The pivot: the first declared one, else the last bare step if only retriable or
    // read-only steps follow it.
    let declared = roles.iter().position(|r| *r == Role::Pivot);
    let inferred = match declared {
        Some(_) => None,
        None if !p.final_step_exempt => None,
        None => roles.iter().rposition(|r| *r == Role::Bare).filter(|&i| {
            roles[i + 1..]
                .iter()
                .all(|r| matches!(r, Role::Retriable | Role::ReadOnly))
        }),
    };
    let pivot = declared.or(inferred);
    count.inferred_pivots += usize::from(inferred.is_some());
    // The first step after `i` that may still fail (compensatable, a pivot, a bare step): why a
    // bare step is not the pivot, or why a retriable step is out of place.
    let later_failing =
        |i: usize| (i + 1..steps.len()).find(|&j| matches!(roles[j], Role::Compensatable | Role::Pivot | Role::Bare));
    let label = |i: usize| {
        let st = &steps[i];
        format!("step {} (`{}` / `{}`)", i + 1, st.service.name, st.action.name)
    };
    for (i, (step, role)) in steps.iter().zip(&roles).enumerate() {
        let action = &step.action.name;
        let what = format!("saga `{name}` {}", label(i));
        let kind_span = step.kind.as_ref().map(|k| &k.1);
        let comp_span = step.compensation.as_ref().and_then(|c| c.span.as_ref());
        let after_pivot = pivot.is_some_and(|pv| i > pv);
        let problem: Option<(Option<&std::ops::Range<usize>>, String, String)> = match role {
            Role::ReadOnly => {
                count.read_only += 1;
                None
            }
            Role::Pivot => {
                count.pivots += 1;
                match declared {
                    Some(first) if first != i => Some((
                        kind_span,
                        format!(
                            "{what} is a second pivot (the first is {}): a saga has one",
                            label(first)
                        ),
                        "keep one pivot, the step that cannot be undone; the steps after it are \
                         `kind = \"retriable\"`, the steps before it `kind = \"compensatable\"` with a \
                         `compensation`"
                            .to_string(),
                    )),
                    _ => None,
                }
            }
            Role::Compensatable => {
                count.compensatable += 1;
                let declared_kind = step.kind.is_some();
                let missing = match &step.compensation {
                    None => Some("has no compensation".to_string()),
                    Some(c) if c.name.is_empty() => Some("has an empty compensation".into()),
                    Some(c) if c.name == *action => Some("is compensated by itself".into()),
                    Some(_) => None,
                };
                if after_pivot {
                    Some((
                        kind_span.or(comp_span).or(step.action.span.as_ref()),
                        format!(
                            "{what} is compensatable but comes after the pivot, {}: once the pivot has \
                             committed the saga cannot be undone, so a step after it must not fail",
                            label(pivot.unwrap_or_default())
                        ),
                        "move it before the pivot, or make it retriable (idempotent, retried until it \
                         succeeds) and declare `kind = \"retriable\"`"
                            .to_string(),
                    ))
                } else {
                    missing.map(|m| {
                        let m = if declared_kind {
                            format!("is declared compensatable but {m}")
                        } else {
                            m
                        };
                        (
                            comp_span.or(kind_span).or(step.action.span.as_ref()),
                            format!("{what} {m}"),
                            compensate_help(step),
                        )
                    })
                }
            }
            Role::Retriable => {
                count.retriable += 1;
                retriable_problem(&what, i, pivot, later_failing(i).map(label), kind_span)
            }
            Role::Bare if Some(i) == pivot => {
                count.pivots += 1;
                None
            }
            Role::Bare if after_pivot => {
                // After a declared pivot: retriable by its place.
                count.retriable += 1;
                None
            }
            Role::Bare => {
                count.missing += 1;
                let why = match (pivot, later_failing(i)) {
                    (Some(pv), _) => format!("and comes before the pivot, {}", label(pv)),
                    (None, Some(j)) if roles[j] == Role::Bare => format!(
                        "and is not the pivot: {} after it has no compensation either, and only retriable \
                         steps may follow the pivot",
                        label(j)
                    ),
                    (None, Some(j)) => {
                        format!("and cannot be the pivot: {} after it is compensatable", label(j))
                    }
                    (None, None) => "(a pivot is not inferred: `final_step_exempt = false`)".to_string(),
                };
                Some((
                    step.action.span.as_ref(),
                    format!("{what} has no compensation {why}"),
                    format!(
                        "{}; or, if it cannot be undone, make it the pivot: declare `kind = \"pivot\"`, \
                         with only retriable steps after it (`kind = \"retriable\"`: idempotent, retried until \
                         they succeed); or, if it changes nothing, declare `kind = \"read-only\"`",
                        compensate_help(step)
                    ),
                ))
            }
        };
        if let Some((span, message, help)) = problem {
            findings.push((what, ctx.manifest_finding(span, message).help(help)));
        }
    }
}

fn compensate_help(step: &SagaStep) -> String {
    format!(
        "add `compensation = \"...\"`: the action of `{}` that undoes `{}` (e.g. Reserve -> Release, \
         Authorize -> Void, Create -> Reject)",
        step.service.name, step.action.name
    )
}

/// Why a retriable step is out of place: it must come after the pivot (or, without a pivot,
/// after every step that may still fail).
fn retriable_problem<'a>(
    what: &str,
    i: usize,
    pivot: Option<usize>,
    later: Option<String>,
    kind_span: Option<&'a std::ops::Range<usize>>,
) -> Option<(Option<&'a std::ops::Range<usize>>, String, String)> {
    let before = match pivot {
        Some(pv) if i < pv => later?,
        Some(_) => return None,
        None => later?,
    };
    Some((
        kind_span,
        format!(
            "{what} is retriable but comes before {before}, which may still fail: a retriable step \
             belongs after the pivot"
        ),
        "move it after the pivot: retriable steps come last".to_string(),
    ))
}

#[cfg(test)]
mod evidence_tests {
    use super::*;
    use crate::checks::Outcome;

    fn run(case: &str, params: &str) -> CheckResult {
        crate::checks::run_fixture::<SagaCompensationMissing>(case, params)
    }

    /// `evidence = "found"`: a compensation missing from the code costs its step; found ones
    /// and services without code keep their credit.
    #[test]
    fn found_level_needs_each_compensation_in_the_code() {
        let found = "evidence = 'found'";
        let r = run("pass-compensation-not-in-typescript", found);
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.credit, Some(2.0 / 3.0));
        assert!(
            r.findings[0].message.contains("`ReleaseStock`")
                && r.findings[0].message.contains("services/orders (1 files)"),
            "{:?}",
            r.findings
        );
        for case in ["pass-compensations-in-java", "pass-compensations-in-go", "pass"] {
            assert_eq!(run(case, found).outcome, Outcome::Passed, "{case}");
        }
    }
}
