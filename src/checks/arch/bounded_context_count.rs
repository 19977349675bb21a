use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct BoundedContextCount;

const DOCS: &str = r#"## What it checks
That the submission declares between `min` and `max` bounded contexts (`[[context]]` tables
in `submission.toml`; 8-12 by default). Partial credit below the range is `count / min`,
above it `max / count`.

## Why it matters
Week 1 (Domain-Driven Design & Service Boundaries) and the Phase 1 checkpoint assessment ask
learners to "identify 8-12 bounded contexts" of the e-commerce monolith. Too few contexts
usually means a distributed monolith with large, coupled services; too many means entities
or CRUD tables promoted to contexts, with chatty calls between them.

## How to fix
Revisit the event-storming result: group aggregates that change together and share a
ubiquitous language into one context; split a context whose terms mean different things to
different teams. Declare each context and map its relations.

## Example
```toml
[[context]]
name = "ordering"
relations = [{ with = "payments", kind = "customer-supplier" }]

[[context]]
name = "payments"
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub min: usize,
    pub max: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { min: 8, max: 12 }
    }
}

impl TypedCheck for BoundedContextCount {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH001",
        name: "bounded-context-count",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "The number of bounded contexts is outside the expected range",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "min",
                ty: "integer",
                description: "fewest bounded contexts expected",
            },
            ParamDoc {
                name: "max",
                ty: "integer",
                description: "most bounded contexts expected",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let contexts = &ctx.submission.contexts;
        let n = contexts.len();
        let names: Vec<&str> = contexts.iter().map(|c| c.name.name.as_str()).collect();
        let evidence = if n == 0 {
            "0 bounded contexts".to_string()
        } else {
            format!("{n} bounded contexts: {}", names.join(", "))
        };
        let at = contexts.first().and_then(|c| c.name.span.as_ref());
        let result = if n < p.min {
            let f = ctx
                .manifest_finding(
                    at,
                    format!("{n} bounded contexts declared; at least {} expected", p.min),
                )
                .help("split large contexts along their ubiquitous language and declare each with `[[context]]`");
            let mut r = CheckResult::failed(vec![f]);
            r.credit = Some(if p.min == 0 { 0.0 } else { n as f64 / p.min as f64 });
            r
        } else if n > p.max {
            let f = ctx
                .manifest_finding(
                    contexts.get(p.max).and_then(|c| c.name.span.as_ref()),
                    format!("{n} bounded contexts declared; at most {} expected", p.max),
                )
                .help("merge contexts that share a language and change together; entities are not contexts");
            let mut r = CheckResult::failed(vec![f]);
            r.credit = Some(p.max as f64 / n as f64);
            r
        } else {
            CheckResult::passed()
        };
        result.with_evidence(evidence)
    }
}
