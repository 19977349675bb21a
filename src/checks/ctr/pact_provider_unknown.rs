use serde::{Deserialize, Serialize};

use crate::artifact::pact::PactFile;
use crate::artifact::Loaded;
use crate::checks::oas::walk::Api;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::files::ArtifactRef;

use super::support::{exercised, load_pacts, no_pacts_reason, provider, service_suggestion, Provider};

pub struct PactProviderUnknown;

const DOCS: &str = r#"## What it checks
That every pact connects two parts of the system the manifest describes:

- its `provider` names a declared service that has an OpenAPI document (for pacts with HTTP
  interactions; message-only pacts need only the service);
- its `consumer` names a declared service (or one listed in `external_consumers`, e.g. a web
  front end that is not part of the submission);
- the consumer declares the synchronous call to the provider (`calls = ["orders"]`): a
  contract for a dependency the manifest does not declare means the architecture diagram and
  the system disagree. A pact whose provider calls its consumer instead is pointed out.

Names must match exactly (the Pact broker keys contracts by name); a near miss gets a "did
you mean". As a note that costs no credit, an operation the pact exercises that the
consumer's `uses` for that provider does not list is reported. Partial credit: pacts that
connect declared services correctly / pacts. Skipped when no pact file is readable.

## Why it matters
Week 2 (Contract Testing & Service Contracts: consumer-driven contract testing): a contract is
an edge of the service graph made executable. A pact whose provider is not a service of the
system, or has no published API, cannot be verified; a pact between services that the
manifest does not connect is an undeclared dependency: the call-depth, cycle and fan-out
analysis (Weeks 1, 3, 4) misses it, and so does everyone reading the design.

## How to fix
Name the consumer and provider exactly as the services are named in `submission.toml` (in the
consumer's Pact test setup, e.g. `new PactV3({ consumer: "gateway", provider: "orders" })`),
give the provider its `openapi` document, and add the provider to the consumer's `calls` (and
the operations to its `uses`).

## Example
```toml
[[service]]
name = "gateway"
calls = ["orders"]                       # the pact gateway -> orders is declared here
uses = { orders = ["placeOrder", "getOrder"] }

[[service]]
name = "orders"
openapi = "services/orders/openapi.yaml" # the provider's contract to verify against

[contracts]
pacts = ["contracts/*.json"]             # contracts/gateway-orders.json: consumer gateway, provider orders
```
"#;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Consumers that are not services of the submission (front ends, partners).
    pub external_consumers: Vec<String>,
}

impl TypedCheck for PactProviderUnknown {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "CTR002",
        name: "pact-provider-unknown",
        area: Area::Ctr,
        kind: Kind::Static,
        summary: "A pact's provider or consumer is not a declared service (with an OpenAPI document), or the \
                  consumer does not declare the call",
        docs: DOCS,
        params: &[ParamDoc {
            name: "external_consumers",
            ty: "array of strings",
            description: "consumer names that are not services of the submission (e.g. a web front end)",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let pacts = load_pacts(ctx);
        if pacts.is_empty() {
            return CheckResult::absent(no_pacts_reason(ctx));
        }
        let mut total = 0;
        let mut good = 0;
        let mut findings = Vec::new();
        let mut notes = Vec::new();
        for (r, loaded) in &pacts {
            let Loaded::Ok(pact) = loaded else { continue };
            total += 1;
            let before = findings.len();
            check_pact(ctx, p, r, pact, &mut findings, &mut notes);
            if findings.len() == before {
                good += 1;
            }
        }
        if total == 0 {
            return CheckResult::failed_because("no pact file is readable (CTR001 pact-invalid says why)");
        }
        findings.extend(notes);
        let mut result = CheckResult::ratio(good, total, findings);
        result.evidence.push(format!(
            "{good} of {total} pacts connect declared services along a declared call"
        ));
        result
    }
}

fn check_pact(
    ctx: &Ctx<'_>,
    p: &Params,
    r: &ArtifactRef,
    pact: &PactFile,
    findings: &mut Vec<Finding>,
    notes: &mut Vec<Finding>,
) {
    let http = pact.http().count() > 0;
    let at = |pointer: &str, message: String| ctx.document_finding(&r.rel, &pact.doc, pointer, message);
    let Some(prov) = &pact.provider else {
        findings.push(
            at(
                "",
                "the pact names no provider, so it cannot be tied to a service".into(),
            )
            .help("write `\"provider\": {\"name\": \"<service>\"}` (see CTR001)"),
        );
        return;
    };
    let Some(cons) = &pact.consumer else {
        findings.push(
            at(
                "",
                "the pact names no consumer, so it cannot be tied to a service".into(),
            )
            .help("write `\"consumer\": {\"name\": \"<service>\"}` (see CTR001)"),
        );
        return;
    };
    let mut provider_service = None;
    match provider(ctx, &prov.name) {
        Provider::Unknown(suggestion) => {
            let hint = suggestion
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            findings.push(
                at(
                    &prov.pointer,
                    format!("the provider `{}` is not a service of the submission{hint}", prov.name),
                )
                .help(
                    "name the provider exactly as the service is named in submission.toml (in the consumer's Pact \
                     test setup), or declare the service",
                ),
            );
        }
        Provider::NoSpec(s) => {
            provider_service = Some(s);
            if http {
                findings.push(
                    at(
                        &prov.pointer,
                        format!(
                            "the provider `{}` has no OpenAPI document, so its HTTP contract cannot be checked",
                            prov.name
                        ),
                    )
                    .help(format!(
                        "add `openapi = \"services/{}/openapi.yaml\"` to the service and describe its API",
                        prov.name
                    )),
                );
            }
        }
        Provider::BadSpec(s, rel) => {
            provider_service = Some(s);
            if http {
                findings.push(
                    at(
                        &prov.pointer,
                        format!(
                            "the OpenAPI document of the provider `{}` ({rel}) cannot be read, so its contract cannot \
                             be checked",
                            prov.name
                        ),
                    )
                    .help("fix the document (see SUB002 artifact-missing and OAS001 openapi-invalid)"),
                );
            }
        }
        Provider::Api { service, rel, spec } => {
            provider_service = Some(service);
            if let Some(c) = ctx.submission.service(&cons.name) {
                if let Some(uses) = c.uses.get(&prov.name) {
                    let api = Api::of(ctx, rel, spec);
                    let ops = api.operations();
                    for op in exercised(&api, &ops, pact) {
                        let Some(id) = op.operation_id() else { continue };
                        if uses.iter().any(|u| u.name == id) {
                            continue;
                        }
                        let span = uses.first().and_then(|u| u.span.as_ref()).or(c.name.span.as_ref());
                        notes.push(
                            ctx.manifest_finding(
                                span,
                                format!(
                                    "note: the pact {} exercises `{id}` ({}) of `{}`, which the `uses` of `{}` does \
                                     not list",
                                    r.rel,
                                    op.label(),
                                    prov.name,
                                    cons.name
                                ),
                            )
                            .help(format!(
                                "add \"{id}\" to `uses = {{ {} = [...] }}` of `{}`",
                                prov.name, cons.name
                            )),
                        );
                    }
                }
            }
        }
    }
    let consumer_service = ctx.submission.service(&cons.name);
    if consumer_service.is_none() && !p.external_consumers.iter().any(|e| e == &cons.name) {
        let hint = service_suggestion(ctx, &cons.name)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        findings.push(
            at(
                &cons.pointer,
                format!("the consumer `{}` is not a service of the submission{hint}", cons.name),
            )
            .help(
                "name the consumer exactly as the service is named in submission.toml, or list it under \
                 `external_consumers` in the rubric if it is outside the system",
            ),
        );
    }
    let (Some(c), Some(pv)) = (consumer_service, provider_service) else {
        return;
    };
    if !http || c.calls.iter().any(|x| x.name == pv.name.name) {
        return;
    }
    let reversed = pv.calls.iter().any(|x| x.name == c.name.name);
    let mut message = format!(
        "`{}` has a contract with `{}` ({}) but does not declare the call (`calls`)",
        c.name.name, pv.name.name, r.rel
    );
    if reversed {
        message.push_str(&format!(
            "; the manifest has `{}` calling `{}` instead",
            pv.name.name, c.name.name
        ));
    }
    findings.push(ctx.manifest_finding(c.name.span.as_ref(), message).help(format!(
        "add \"{}\" to `calls` of the service `{}` (the consumer of the pact){}",
        pv.name.name,
        c.name.name,
        if reversed {
            ", or swap consumer and provider in the pact if the manifest is right"
        } else {
            ""
        }
    )));
}
