//! ARCH011 copied-contract: services whose OpenAPI contracts are identical or nearly so.

use serde::{Deserialize, Serialize};

use crate::artifact::Loaded;
use crate::checks::oas::walk::Api;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::similarity::{self, Features};

pub struct CopiedContract;

const DOCS: &str = r#"## What it checks
That each service's OpenAPI contract is its own: no two services carry the same document or
nearly the same one. Each contract is reduced to a set of features: every operation as its
method and path shape (`GET /orders/{}`: parameter names do not count), every schema name
under `components/schemas`, the `info.title` and every server URL. Two services are alike
when the Jaccard index of their feature sets (shared features / all features) reaches
`threshold` (0.8 by default: at least four of every five features shared); two services
naming the same document file are alike too. Partial credit: services alike to no other /
services with a contract.

## Why it matters
A decomposition is a set of services with different responsibilities (Weeks 1-2: bounded
contexts, service boundaries, contract-first APIs). Seven services carrying the same copied
starter document are one API seven times: no boundary was designed, and every other API
check would grade the same text seven times.

## How to fix
Write each service's contract from its own responsibility: the resources of its bounded
context, its own operations and schemas, its own title and server URL. If two services
really expose the same API, they are probably one service: merge them.

## Example
```yaml
# services/orders/openapi.yaml           # services/payments/openapi.yaml
info: { title: Orders API }              info: { title: Payments API }
paths:                                   paths:
  /v1/orders: ...                          /v1/payments: ...
  /v1/orders/{orderId}: ...                /v1/payments/{paymentId}/refunds: ...
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Jaccard index (0-1) at or above which two contracts count as copies.
    pub threshold: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params { threshold: 0.8 }
    }
}

impl TypedCheck for CopiedContract {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH011",
        name: "copied-contract",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "Two or more services carry the same OpenAPI contract, or nearly the same",
        docs: DOCS,
        params: &[ParamDoc {
            name: "threshold",
            ty: "float",
            description: "Jaccard index of the contracts' features at or above which they count as copies",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        // (service name, document, features) for each service with a loaded contract.
        let mut contracts: Vec<(&str, &str, Features)> = Vec::new();
        for s in &ctx.submission.services {
            let Some(r) = &s.openapi else { continue };
            let Some((rel, Loaded::Ok(doc))) = ctx.artifacts.openapi.get_key_value(&r.rel) else {
                continue;
            };
            contracts.push((&s.name.name, rel, features(&Api::of(ctx, rel, doc))));
        }
        match contracts.len() {
            0 => return CheckResult::absent("no service has an OpenAPI document that loads"),
            1 => return CheckResult::not_applicable("only one service has an OpenAPI document"),
            _ => {}
        }
        let mut alike = vec![false; contracts.len()];
        let mut findings = Vec::new();
        for i in 0..contracts.len() {
            for j in i + 1..contracts.len() {
                let (a, a_rel, a_set) = &contracts[i];
                let (b, b_rel, b_set) = &contracts[j];
                let sim = if a_rel == b_rel {
                    1.0
                } else {
                    similarity::jaccard(a_set, b_set)
                };
                if sim < p.threshold {
                    continue;
                }
                alike[i] = true;
                alike[j] = true;
                let how = if a_rel == b_rel {
                    format!("both name the document `{a_rel}`")
                } else {
                    format!(
                        "{:.0}% of their operations, schemas, title and servers are the same",
                        sim * 100.0
                    )
                };
                findings.push(
                    Finding::new(format!("services `{a}` and `{b}` carry the same contract: {how}"))
                        .in_file(b_rel.to_string())
                        .help(format!(
                            "write `{b}`'s contract from its own responsibility (its resources, operations \
                             and schemas), or merge the two services if they really are one"
                        )),
                );
            }
        }
        let good = alike.iter().filter(|a| !**a).count();
        CheckResult::ratio(good, contracts.len(), findings).with_evidence(format!(
            "{good} of {} contracts alike to no other (Jaccard index below {})",
            contracts.len(),
            p.threshold
        ))
    }
}

/// The features of a contract: operations by method and path shape, schema names, the title
/// and the server URLs.
fn features(api: &Api<'_>) -> Features {
    let mut set = Features::new();
    for op in api.operations() {
        set.insert(format!("op {} {}", op.method, crate::evo::norm_path(op.path)));
    }
    let root = api.root();
    if let Some(schemas) = root.get("components").and_then(|c| c.get("schemas")) {
        for (name, _) in schemas.entries() {
            set.insert(format!("schema {name}"));
        }
    }
    if let Some(title) = root.get("info").and_then(|i| i.str("title")) {
        set.insert(format!("title {}", title.trim().to_lowercase()));
    }
    if let Some(servers) = root.get("servers") {
        for s in servers.items() {
            if let Some(url) = s.str("url") {
                set.insert(format!("server {url}"));
            }
        }
    }
    set
}
