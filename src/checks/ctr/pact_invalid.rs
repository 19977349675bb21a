use crate::artifact::Loaded;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, NoParams, TypedCheck};

use super::support::{load_pacts, no_pacts_reason, MAX_PER_FILE};

pub struct PactInvalid;

const DOCS: &str = r#"## What it checks
That every pact file the manifest declares (`[contracts] pacts`) is a readable Pact contract:
JSON; a `consumer` and a `provider`, each with a `name`; the Pact specification version in
`metadata.pactSpecification.version` (2.0.0, 3.0.0 or 4.0; v1 files are reported as too old);
at least one interaction; and interactions written in the form of that version: a
`description` (unique together with the provider states), a `request` with `method` and a
`path` starting with `/`, a `response` with a numeric `status`, provider states in the
version's form, v4 interactions with their `type`, and matching rules in the version's form
with matchers Pact knows. Message pacts (v3 `messages`, v4 `Asynchronous/Messages`) are read
too. Partial credit: valid pact files / pact files. Skipped when no pact is declared.

## Why it matters
Week 2 (Contract Testing & Service Contracts: consumer-driven contract testing, "Implement
Pact testing for service contracts"): the pact file is the contract the consumer's tests
publish and the provider verifies. A file the Pact verifier or broker cannot read, or reads
differently than intended (v2 matching rules in a v3 file are ignored by some tools), verifies
nothing: the provider team sees green builds while the consumer's expectations go unchecked.

## How to fix
Let the Pact library write the file: run the consumer's contract tests (pact-js, pact-jvm,
pact-python, pact-rust, ...) and commit the generated JSON instead of editing it by hand. When
you do edit it, keep to the specification version declared in `metadata`, give every
interaction a distinct `description`, and use matchers from the specification (`type`,
`regex`, `integer`, `datetime`, ...).

## Example
```json
{
  "consumer": { "name": "gateway" },
  "provider": { "name": "orders" },
  "interactions": [{
    "description": "a request for an existing order",
    "providerStates": [{ "name": "order ord_01HV3K8M2QZ9 exists" }],
    "request": { "method": "GET", "path": "/v1/orders/ord_01HV3K8M2QZ9" },
    "response": {
      "status": 200,
      "headers": { "Content-Type": "application/json" },
      "body": { "orderId": "ord_01HV3K8M2QZ9", "status": "CONFIRMED" },
      "matchingRules": { "body": { "$.orderId": { "matchers": [{ "match": "regex", "regex": "^ord_[0-9A-Z]{12}$" }] } } }
    }
  }],
  "metadata": { "pactSpecification": { "version": "3.0.0" } }
}
```
"#;

impl TypedCheck for PactInvalid {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "CTR001",
        name: "pact-invalid",
        area: Area::Ctr,
        kind: Kind::Static,
        summary: "A pact file does not parse or is not a valid Pact v2/v3/v4 contract",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let pacts = load_pacts(ctx);
        if pacts.is_empty() {
            return CheckResult::absent(no_pacts_reason(ctx));
        }
        let total = pacts.len();
        let mut good = 0;
        let mut findings = Vec::new();
        let mut evidence = Vec::new();
        for (r, loaded) in &pacts {
            match loaded {
                Loaded::Ok(p) => {
                    let http = p.http().count();
                    let messages = p.message_count();
                    let spec = p
                        .spec
                        .as_ref()
                        .map(|s| format!("Pact {}", s.written))
                        .unwrap_or_else(|| "no declared Pact version".into());
                    let name = |x: &Option<crate::artifact::pact::Party>, none: &str| {
                        x.as_ref().map(|x| x.name.clone()).unwrap_or_else(|| none.to_string())
                    };
                    let who = format!(
                        "{} -> {}",
                        name(&p.consumer, "(no consumer)"),
                        name(&p.provider, "(no provider)")
                    );
                    evidence.push(format!(
                        "{}: {spec}, {who}, {http} HTTP and {messages} message interactions",
                        r.rel
                    ));
                    if p.problems.is_empty() {
                        good += 1;
                        continue;
                    }
                    let mut fs: Vec<Finding> = p.problems.iter().map(|x| ctx.problem_finding(&r.rel, x)).collect();
                    fs.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
                    if fs.len() > MAX_PER_FILE {
                        let rest = fs.split_off(MAX_PER_FILE - 1);
                        let mut summary = rest[0].clone();
                        summary.message = format!("and {} more problems in {}", rest.len(), r.rel);
                        summary.help = Some("regenerate the pact with the consumer's Pact library".into());
                        fs.push(summary);
                    }
                    findings.extend(fs);
                }
                Loaded::Missing => findings.push(
                    ctx.manifest_finding(r.span.as_ref(), format!("the pact file `{}` does not exist", r.rel))
                        .help("create the file or correct the pattern in `[contracts] pacts`"),
                ),
                Loaded::Invalid(p) => findings.push(ctx.problem_finding(&r.rel, p)),
            }
        }
        let mut result = CheckResult::ratio(good, total, findings);
        result
            .evidence
            .push(format!("{good} of {total} pact files are valid Pact contracts"));
        result.evidence.extend(evidence);
        result
    }
}
