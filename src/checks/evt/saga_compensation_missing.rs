use serde::{Deserialize, Serialize};

use super::{fold, plural, words};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::submission::SagaStyle;

pub struct SagaCompensationMissing;

const DOCS: &str = r#"## What it checks
That every step of every `[[saga]]` that changes state has a `compensation`, the action that
semantically undoes it. The rule, precisely:

1. A step whose `action` starts with a read-only verb (the `read_only_verbs` parameter:
   `Get`, `Fetch`, `Read`, `Check`, `Validate`, `Verify`, `Calculate`, `Compute`, `Query`,
   `Find`, `List`, `Lookup`, `Load`, `Quote`, `Estimate` by default) has no side effect and
   needs no compensation.
2. In an `orchestration` saga, the **last** step may omit its compensation (parameter
   `final_step_exempt`, default true): it is the pivot, after which no step of the saga can
   fail, so nothing would ever trigger its compensation.
3. Every other step needs a compensation that is not empty and not the action itself. In a
   `choreography` saga this includes the last step: no coordinator decides that it is the
   last one, and any participant reacting to its event may still fail and ask for it to be
   undone.

Partial credit: steps with a compensation / steps that need one.

## Why it matters
A saga replaces a distributed transaction by local transactions and compensating
transactions (Week 6: "Implement saga patterns for distributed transactions", "Implement
compensating transactions for booking flow"). A step without a compensation is a step that
cannot be rolled back: when a later step fails, the system is left inconsistent (stock
reserved for an order that was rejected, a payment captured for a cancelled shipment) and
someone fixes it by hand.

## How to fix
Add `compensation` to each step with a side effect: the action, on the same service, that
undoes it semantically (`ReserveStock` -> `ReleaseStock`, `AuthorizePayment` ->
`VoidPayment`, `CapturePayment` -> `RefundPayment`). Order an orchestration so that the
step that cannot be undone (the pivot) comes last.

## Example
```toml
[[saga]]
name = "place-order"
style = "orchestration"
steps = [
  { service = "inventory", action = "ReserveStock", compensation = "ReleaseStock" },
  { service = "payments", action = "AuthorizePayment", compensation = "VoidPayment" },
  { service = "orders", action = "ConfirmOrder" },   # last step of an orchestration: the pivot
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
}

impl Default for Params {
    fn default() -> Self {
        Params {
            final_step_exempt: true,
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
        summary: "A saga step with a side effect has no compensation",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "final_step_exempt",
                ty: "boolean",
                description: "let the last step of an orchestrated saga (its pivot) omit the compensation",
            },
            ParamDoc {
                name: "read_only_verbs",
                ty: "array of strings",
                description: "verbs that start an action without side effects (such steps need no compensation)",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sagas = &ctx.submission.sagas;
        if sagas.is_empty() {
            return CheckResult::absent("the manifest declares no saga (`[[saga]]`)");
        }
        let (mut total, mut read_only, mut pivots) = (0, 0, 0);
        let mut findings = Vec::new();
        let mut notes = Vec::new();
        for saga in sagas {
            let name = &saga.name.name;
            if saga.steps.is_empty() {
                notes.push(
                    ctx.manifest_finding(saga.name.span.as_ref(), format!("saga `{name}` declares no steps"))
                        .help("list its steps: `steps = [{ service = \"...\", action = \"...\", compensation = \"...\" }]`"),
                );
                continue;
            }
            let last = saga.steps.len() - 1;
            for (i, step) in saga.steps.iter().enumerate() {
                let action = &step.action.name;
                let first = words(action).into_iter().next().unwrap_or_default();
                if p.read_only_verbs.iter().any(|v| v.eq_ignore_ascii_case(&first)) {
                    read_only += 1;
                    continue;
                }
                if i == last && saga.style == SagaStyle::Orchestration && p.final_step_exempt {
                    pivots += 1;
                    continue;
                }
                total += 1;
                let what = format!("saga `{name}` step {} (`{}` / `{action}`)", i + 1, step.service.name);
                let problem = match &step.compensation {
                    None => Some(format!("{what} has no compensation")),
                    Some(c) if c.name.is_empty() => Some(format!("{what} has an empty compensation")),
                    Some(c) if c.name == *action => Some(format!("{what} is compensated by itself")),
                    Some(_) => None,
                };
                let Some(mut message) = problem else { continue };
                if i == last && saga.style == SagaStyle::Choreography {
                    message.push_str(
                        " (in a choreography the last step needs one too: a participant reacting to it may still fail)",
                    );
                }
                let span = step
                    .compensation
                    .as_ref()
                    .and_then(|c| c.span.as_ref())
                    .or(step.action.span.as_ref());
                findings.push((
                    what.clone(),
                    ctx.manifest_finding(span, message).help(format!(
                        "add `compensation = \"...\"`: the action of `{}` that undoes `{action}` (e.g. Reserve -> \
                         Release, Authorize -> Void, Capture -> Refund)",
                        step.service.name
                    )),
                ));
            }
        }
        let bad = findings.len();
        let mut all = fold(
            findings,
            "saga steps without compensation",
            "compensate every step with a side effect",
        );
        all.extend(notes);
        let mut r = CheckResult::ratio(total - bad, total, all).with_evidence(format!(
            "{} of {total} saga steps that need one have a compensation",
            total - bad
        ));
        if pivots + read_only > 0 {
            r.evidence.push(format!(
                "exempt: {} of an orchestration, {}",
                plural(pivots, "final step", "final steps"),
                plural(read_only, "read-only step", "read-only steps")
            ));
        }
        r
    }
}
