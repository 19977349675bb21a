//! SUB004 minimum-system: the submission holds the least system its checkpoint asks for.

use serde::{Deserialize, Serialize};

use crate::artifact::Loaded;
use crate::checks::oas::walk::Api;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};

pub struct MinimumSystem;

/// The id the engine uses to open the report with this check's findings.
pub const ID: &str = "SUB004";

const DOCS: &str = r#"## What it checks
That the submission holds the least system its checkpoint asks for, counted from what is
really there rather than from what the manifest says:

- bounded contexts declared (`min_contexts`);
- services declared (`min_services`);
- datastores declared (`min_datastores`);
- services whose OpenAPI document loads and describes at least one operation
  (`min_services_with_openapi`);
- services whose `source` folder holds at least one source file (`min_implemented`);
- event flows: an event that one service publishes and another consumes (`min_event_flows`);
- sagas with at least two steps (`min_sagas`);
- services the grader can start (`[service.run]`, `min_runnable`);
- an OpenSLO file that loads and holds at least one object (`slos`).

Each requirement the rubric sets is one unit of credit; the report opens with the list of
the requirements that are not met.

## Why it matters
A grade must never credit what is absent (course rules, and every assessor's first
question). An empty manifest has no cycles, no shared datastores and no invalid
specification, so the checks that judge those things have nothing to object to; without
this item such a submission could pass on the absence of everything. The counts come from
the curriculum: Phase 1 asks for 8-12 bounded contexts, specified APIs and one service built
with hexagonal architecture; Phase 2 for event-driven communication, sagas and running
services; Phase 4 for SLOs on running services.

## How to fix
Build what the list at the top of the report names: declare the contexts and services in
`submission.toml`, write each service's OpenAPI document, point `source` at the code of the
service you implemented, declare who publishes and consumes each event, describe the sagas,
add `[service.run]` so the grader can start the services, and write the SLOs.

## Example
```toml
[[service]]
name = "orders"
context = "ordering"
openapi = "services/orders/openapi.yaml"   # loads, with operations
source = "services/orders/src"             # holds the code
publishes = ["OrderPlaced"]

[service.run]
command = ["python3", "services/orders/app.py"]
```
"#;

/// The least system the checkpoint asks for; 0 (or false) leaves a requirement out.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub min_contexts: usize,
    pub min_services: usize,
    pub min_datastores: usize,
    pub min_services_with_openapi: usize,
    pub min_implemented: usize,
    pub min_event_flows: usize,
    pub min_sagas: usize,
    pub min_runnable: usize,
    pub slos: bool,
}

impl Default for Params {
    /// A system at all: one context, two services, one with a contract. Rubrics set the
    /// checkpoint's own minimum.
    fn default() -> Self {
        Params {
            min_contexts: 1,
            min_services: 2,
            min_datastores: 0,
            min_services_with_openapi: 1,
            min_implemented: 0,
            min_event_flows: 0,
            min_sagas: 0,
            min_runnable: 0,
            slos: false,
        }
    }
}

impl TypedCheck for MinimumSystem {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: ID,
        name: "minimum-system",
        area: Area::Sub,
        kind: Kind::Static,
        summary: "The submission lacks part of the least system its checkpoint asks for",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "min_contexts",
                ty: "integer",
                description: "bounded contexts declared",
            },
            ParamDoc {
                name: "min_services",
                ty: "integer",
                description: "services declared",
            },
            ParamDoc {
                name: "min_datastores",
                ty: "integer",
                description: "datastores declared",
            },
            ParamDoc {
                name: "min_services_with_openapi",
                ty: "integer",
                description: "services whose OpenAPI document loads and has at least one operation",
            },
            ParamDoc {
                name: "min_implemented",
                ty: "integer",
                description: "services whose `source` folder holds at least one source file",
            },
            ParamDoc {
                name: "min_event_flows",
                ty: "integer",
                description: "events published by one service and consumed by another",
            },
            ParamDoc {
                name: "min_sagas",
                ty: "integer",
                description: "sagas with at least two steps",
            },
            ParamDoc {
                name: "min_runnable",
                ty: "integer",
                description: "services the grader can start (`[service.run]`)",
            },
            ParamDoc {
                name: "slos",
                ty: "boolean",
                description: "an OpenSLO file that loads and holds at least one object",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        let with_openapi = sub
            .services
            .iter()
            .filter(|s| {
                let Some(r) = &s.openapi else { return false };
                match ctx.artifacts.openapi.get_key_value(&r.rel) {
                    Some((rel, Loaded::Ok(doc))) => !Api::of(ctx, rel, doc).operations().is_empty(),
                    _ => false,
                }
            })
            .count();
        let implemented = sub
            .services
            .iter()
            .filter(|s| {
                s.source.as_ref().is_some_and(|src| {
                    src.path.is_dir() && !crate::artifact::source::scan(&src.path, &src.rel).0.is_empty()
                })
            })
            .count();
        let flows = ctx.model.flows.iter().filter(|f| f.from != f.to).count();
        let sagas = sub.sagas.iter().filter(|s| s.steps.len() >= 2).count();
        let runnable = sub.services.iter().filter(|s| s.run.is_some()).count();
        let slo_objects = match &ctx.artifacts.slos {
            Some((_, Loaded::Ok(set))) => set.objects.len(),
            _ => 0,
        };

        let mut units = 0;
        let mut good = 0;
        let mut findings: Vec<Finding> = Vec::new();
        let mut evidence = Vec::new();
        let counts: [(usize, usize, &str, &str); 8] = [
            (
                p.min_contexts,
                sub.contexts.len(),
                "bounded contexts",
                "declare each bounded context as a `[[context]]` table",
            ),
            (
                p.min_services,
                sub.services.len(),
                "services",
                "declare each service as a `[[service]]` table",
            ),
            (
                p.min_datastores,
                sub.datastores.len(),
                "datastores",
                "declare each service's datastore as a `[[datastore]]` table and who `owns` it",
            ),
            (
                p.min_services_with_openapi,
                with_openapi,
                "services with an OpenAPI document that loads and has operations",
                "write each service's contract and name it with `openapi = \"services/<name>/openapi.yaml\"`",
            ),
            (
                p.min_implemented,
                implemented,
                "implemented services (a `source` folder with code)",
                "point `source = \"services/<name>/src\"` at the code of the service you built",
            ),
            (
                p.min_event_flows,
                flows,
                "event flows (an event one service publishes and another consumes)",
                "declare `publishes` and `consumes` on the services that exchange events",
            ),
            (
                p.min_sagas,
                sagas,
                "sagas with at least two steps",
                "describe each saga as a `[[saga]]` table with its steps and compensations",
            ),
            (
                p.min_runnable,
                runnable,
                "services the grader can start (`[service.run]`)",
                "add a `[service.run]` table with the command that starts the service",
            ),
        ];
        for (min, found, what, help) in counts {
            if min == 0 {
                continue;
            }
            units += 1;
            evidence.push(format!("{found} {what} (at least {min} asked)"));
            if found >= min {
                good += 1;
            } else {
                findings.push(
                    ctx.manifest_finding(None, format!("missing: at least {min} {what}; found {found}"))
                        .help(help),
                );
            }
        }
        if p.slos {
            units += 1;
            evidence.push(format!("{slo_objects} OpenSLO objects"));
            if slo_objects > 0 {
                good += 1;
            } else {
                findings.push(
                    ctx.manifest_finding(None, "missing: service level objectives (an OpenSLO file with objects)")
                        .help("write the SLOs in OpenSLO and name the file with `[operations] slos = \"slos.yaml\"`"),
                );
            }
        }
        if units == 0 {
            return CheckResult::not_applicable("the rubric sets no minimum for this checkpoint");
        }
        CheckResult::ratio(good, units, findings).with_evidence_lines(evidence)
    }
}
