use serde::{Deserialize, Serialize};

use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::evidence::{Needs, Proof, Source, Status};
use crate::finding::Claim;

pub struct IdempotencyKeyMissing;

const DOCS: &str = r#"## What it checks
That `POST` operations that create resources take an idempotency key: a header parameter
named `header` (`Idempotency-Key` by default, compared case-insensitively) on the operation
or its Path Item. An operation creates when it documents a `201` response or its
`operationId` starts with `create`. Partial credit: creating POSTs with the header / creating
POSTs; skipped when there are none.

## Why it matters
`POST` is not idempotent: when a call times out, the client cannot know whether the order was
placed. Retries are the first resilience pattern of Week 4, and retrying a create without a
key creates duplicates (two orders, two payments). With an idempotency key the server
recognises the retry and returns the first result (Week 2: designing service interfaces;
Week 6: the same idea makes saga steps safe to retry).

## How to fix
Accept an `Idempotency-Key` header (a client-generated UUID), store the key with the result,
and answer a repeated key with the stored result (409 if the body differs).

## Evidence
A header in the contract is a promise the service's code has to keep. For the document of a
service that has code (its `source` folder, else `services/<name>/`), the claim is
**confirmed** when the code reads the header (`request.headers.get("Idempotency-Key")`,
`@RequestHeader("Idempotency-Key")`, `r.Header.Get(...)`, `req.get(...)`, `[FromHeader]`,
`headers.get(...)`) or keeps results by key (`find_by_idempotency_key`, an
`IdempotencyStore`); setting the header on a call the service makes does not count. The
evidence is per service: one place in its code confirms each of its operations. Otherwise it
is **unconfirmed**: with `evidence = "found"` the operation loses its credit (the finding
says where it looked); a service without code keeps the contract's word. The JSON report
lists each claim with its sources.

## Example
```yaml
post:
  operationId: placeOrder
  parameters:
    - name: Idempotency-Key
      in: header
      required: true
      schema: {type: string, format: uuid}
  responses:
    '201': {description: Created.}
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The header's name.
    pub header: String,
    /// What a declared header needs: the contract's word, or the code of a service that has
    /// code reading it.
    pub evidence: Needs,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            header: "Idempotency-Key".into(),
            evidence: Needs::Declared,
        }
    }
}

impl TypedCheck for IdempotencyKeyMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS015",
        name: "idempotency-key-missing",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A POST that creates a resource takes no Idempotency-Key header",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "header",
                ty: "string",
                description: "the idempotency header's name (case-insensitive)",
            },
            ParamDoc {
                name: "evidence",
                ty: "\"declared\" or \"found\"",
                description: "what a declared header needs: the contract's word (declared, default), or, for a \
                              service that has code, code that reads the key (found)",
            },
        ],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let mut claims = Vec::new();
        match check_apis(ctx, |api, t| judge(api, p, t, Some((ctx, &mut claims)))) {
            Ok(t) => t
                .finish(
                    "creating POST operations take an idempotency key",
                    "no POST operation creates a resource",
                )
                .with_claims(claims),
            Err(r) => r,
        }
    }
}

pub fn evaluate(api: &Api<'_>, p: &Params, t: &mut Tally) {
    judge(api, p, t, None);
}

/// What the code of the service whose document this is shows about the header: the places
/// that handle it, or where it looked (`None` for a service without code).
struct Backing {
    service: String,
    found: Vec<crate::evidence::Fact>,
    looked: Option<String>,
}

fn backing(ctx: &Ctx<'_>, rel: &str) -> Option<Backing> {
    let s = ctx
        .submission
        .services
        .iter()
        .find(|s| s.openapi.as_ref().is_some_and(|o| o.rel == rel))?;
    let name = s.name.name.clone();
    let Some(code) = ctx.service_evidence(&name) else {
        return Some(Backing {
            service: name,
            found: Vec::new(),
            looked: None,
        });
    };
    let found = code.evidence.proving(Proof::IdempotencyKey).take(3).cloned().collect();
    Some(Backing {
        service: name,
        found,
        looked: Some(code.looked()),
    })
}

/// The check over one document; with a grading context, each declared header is also judged
/// against the code of the document's service and recorded as a claim.
fn judge(api: &Api<'_>, p: &Params, t: &mut Tally, mut grading: Option<(&Ctx<'_>, &mut Vec<Claim>)>) {
    let code = grading.as_ref().and_then(|(ctx, _)| backing(ctx, api.rel));
    let mut keyed = 0;
    for op in api.operations() {
        if op.method != "post" {
            continue;
        }
        let created = op.op.get("responses").is_some_and(|r| r.value.get("201").is_some());
        let named = op
            .operation_id()
            .is_some_and(|id| id.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("create")));
        if !created && !named {
            continue;
        }
        let has = api
            .parameters(&op)
            .iter()
            .any(|q| q.location.eq_ignore_ascii_case("header") && q.name.eq_ignore_ascii_case(&p.header));
        if has {
            keyed += 1;
            if let (Some((_, claims)), Some(b)) = (grading.as_mut(), code.as_ref()) {
                let line = op.op.doc.locate_for_finding(&op.op.pointer).line;
                let status = if b.found.is_empty() {
                    Status::Unconfirmed
                } else {
                    Status::Confirmed
                };
                let lost = status == Status::Unconfirmed && p.evidence == Needs::Found && b.looked.is_some();
                let claim = Claim::new(
                    format!("{} {}", b.service, op.label()),
                    format!("{} handled", p.header),
                    status,
                    !lost,
                )
                .from_source(
                    Source::Declared,
                    api.rel,
                    Some(line),
                    format!("{} header parameter", p.header),
                );
                claims.push(b.found.iter().fold(claim, |c, f| f.backs(c)));
                if lost {
                    t.unit(false);
                    t.issue(
                        &op.op,
                        Some(op.label()),
                        format!(
                            "takes a `{}` header, but the code of `{}` never reads it or keeps results by key: looked in {}",
                            p.header,
                            b.service,
                            b.looked.as_deref().unwrap_or_default()
                        ),
                        "read the header in the handler, store the key with the result, and answer a repeated key with the stored result",
                    );
                    continue;
                }
            }
        }
        t.unit(has);
        if !has {
            let why = if created {
                "it returns 201".to_string()
            } else {
                format!("its operationId is `{}`", op.operation_id().unwrap_or_default())
            };
            t.issue(
                &op.op,
                Some(op.label()),
                format!("creates a resource ({why}) but takes no `{}` header", p.header),
                format!(
                    "add `- {{name: {}, in: header, required: true, schema: {{type: string, format: uuid}}}}` and \
                     return the stored result when a key is repeated",
                    p.header
                ),
            );
        }
    }
    if let (Some(b), true) = (code.as_ref(), keyed > 0) {
        let ops = if keyed == 1 {
            "1 operation".to_string()
        } else {
            format!("{keyed} operations")
        };
        t.evidence.push(match (b.found.first(), &b.looked) {
            (Some(f), _) => format!(
                "{}: {} handled ({ops}), backed by {}: {}",
                b.service,
                p.header,
                f.at(),
                f.text
            ),
            (None, Some(looked)) => format!(
                "{}: {} declared ({ops}), unconfirmed: nothing in {looked} reads it",
                b.service, p.header
            ),
            (None, None) => format!(
                "{}: {} declared ({ops}); the service has no code to confirm it",
                b.service, p.header
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;
    use crate::finding::Status;

    fn run(case: &str, params: &str) -> CheckResult {
        crate::checks::run_fixture::<IdempotencyKeyMissing>(case, params)
    }

    /// A declared header is confirmed by code that reads it, in each language; code that only
    /// sets it on a call it makes leaves it unconfirmed, which `evidence = "found"` does not
    /// credit.
    #[test]
    fn the_code_must_read_the_header_it_declares() {
        let found = "evidence = 'found'";
        for case in [
            "pass-confirmed-python",
            "pass-confirmed-java",
            "pass-confirmed-go",
            "pass-confirmed-csharp",
        ] {
            let r = run(case, found);
            assert_eq!(r.outcome, Outcome::Passed, "{case}: {:?}", r.findings);
            assert_eq!(r.claims.len(), 1, "{case}");
            assert_eq!(r.claims[0].status, Status::Confirmed, "{case}");
            assert!(r.claims[0].sources.iter().any(|s| s.source == Source::Found), "{case}");
        }
        let r = run("pass-unconfirmed-typescript", "");
        assert_eq!(r.outcome, Outcome::Passed);
        assert_eq!((r.claims[0].status, r.claims[0].credited), (Status::Unconfirmed, true));
        let r = run("pass-unconfirmed-typescript", found);
        assert_eq!((r.outcome, r.credit), (Outcome::Failed, Some(0.0)));
        assert!(
            r.findings[0]
                .message
                .contains("never reads it or keeps results by key: looked in src (1 files)"),
            "{:?}",
            r.findings
        );
        assert!(!r.claims[0].credited);
    }
}
