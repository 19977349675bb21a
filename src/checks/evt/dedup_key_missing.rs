use serde::{Deserialize, Serialize};

use super::{find_field, message_fields, message_finding, norm, per_message, MessageRule};
use crate::artifact::asyncapi::{AsyncApiDoc, Message};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, Outcome, ParamDoc, TypedCheck};
use crate::evidence::{Needs, Proof, Source, Status};
use crate::finding::{Claim, Finding};

pub struct DedupKeyMissing;

const DOCS: &str = r#"## What it checks
That every message of the event catalog carries a key its consumers can de-duplicate on:

- a header or top-level payload field named in the `dedup_fields` parameter (compared
  without case, `_` or `-`), by default `eventId`, `messageId`, `idempotencyKey`,
  `deduplicationId`, `dedupId` and the CloudEvents Kafka header `ce_id`;
- a CloudEvents envelope: an `id` field next to `specversion` (ids are unique per source);
- the message's AsyncAPI `correlationId`, only when `accept_correlation_id = true`: a
  correlation id is shared by every message of one conversation or business process, so it
  identifies a flow, not one delivery.

Message traits count as part of the message. Partial credit: messages with a de-duplication
key / messages.

## Why it matters
Brokers deliver at least once: a producer retry, a relay restart after the outbox write or a
consumer rebalance all deliver the same event twice (Week 5: "Handle message ordering and
exactly-once delivery"). Exactly-once processing is built from at-least-once delivery plus
idempotent consumers, and an idempotent consumer needs a unique id per event to remember
what it has already processed (Week 6: saga steps must be idempotent too).

## How to fix
Give every event a unique id, best in a shared header schema or message trait so no message
forgets it, and say in its description that consumers de-duplicate on it.

## Evidence
A key in the catalog is only half of de-duplication: the consumers must remember what they
processed. Each service that consumes events and has code (its `source` folder, else
`services/<name>/`) is read for it: an inbox or processed-events table (in code or a
migration), an insert that ignores a repeated event id (`ON CONFLICT (event_id) DO
NOTHING`), a duplicate check by event id (`already_processed(event_id)`,
`processedEvents.existsById(...)`). A consumer that shows one is **confirmed**, else
**unconfirmed**. With `evidence = "found"`, the item's credit is multiplied by the share of
consumers with code that are confirmed, and each unconfirmed one is a finding at its
`consumes` line; consumers without code keep the catalog's word. The JSON report lists each
consumer's claim with its sources.

## Example
```yaml
components:
  messageTraits:
    envelope:
      headers:
        type: object
        required: [eventId]
        properties:
          eventId: {type: string, format: uuid, description: Consumers de-duplicate on it.}
  messages:
    OrderPlaced:
      traits: [{$ref: '#/components/messageTraits/envelope'}]
      payload: {$ref: '#/components/schemas/OrderPlaced'}
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Header or payload fields that carry a unique event id.
    pub dedup_fields: Vec<String>,
    /// Whether an AsyncAPI `correlationId` counts as a de-duplication key.
    pub accept_correlation_id: bool,
    /// Messages that need no de-duplication (e.g. idempotent by nature), by name.
    pub ignore: Vec<String>,
    /// What a consumer's de-duplication needs: the catalog's word, or, for a consumer that
    /// has code, code that remembers processed events.
    pub evidence: Needs,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            dedup_fields: [
                "eventId",
                "messageId",
                "idempotencyKey",
                "deduplicationId",
                "dedupId",
                "ce_id",
            ]
            .map(String::from)
            .to_vec(),
            accept_correlation_id: false,
            ignore: Vec::new(),
            evidence: Needs::Declared,
        }
    }
}

fn dedup_key(api: &AsyncApiDoc, m: &Message, p: &Params) -> Option<String> {
    if let Some((name, place)) = find_field(api, m, &p.dedup_fields) {
        return Some(format!("{place} `{name}`"));
    }
    let fields = message_fields(api, m);
    let has = |n: &str| fields.iter().any(|(f, _, _)| norm(f) == n);
    if has("id") && has("specversion") {
        return Some("CloudEvents `id`".into());
    }
    if p.accept_correlation_id && api.message_field(m, "correlationId").is_some() {
        return Some("correlationId".into());
    }
    None
}

impl TypedCheck for DedupKeyMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT006",
        name: "dedup-key-missing",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "A message carries no unique id consumers can de-duplicate on",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "dedup_fields",
                ty: "array of strings",
                description: "header or payload fields that carry a unique event id (compared without case, `_`, `-`)",
            },
            ParamDoc {
                name: "accept_correlation_id",
                ty: "boolean",
                description: "count a message's AsyncAPI `correlationId` as its de-duplication key",
            },
            ParamDoc {
                name: "ignore",
                ty: "array of strings",
                description: "messages that need no de-duplication key, by name",
            },
            ParamDoc {
                name: "evidence",
                ty: "\"declared\" or \"found\"",
                description: "what consumers' de-duplication needs: the catalog's word (declared, default), or, \
                              for a consumer that has code, code that remembers processed events (found)",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let rule = MessageRule {
            topic: "de-duplication keys",
            ignore: &p.ignore,
            folded: (
                "messages without a de-duplication key",
                "give every message a unique event id header",
            ),
            compliant: "carry a de-duplication key",
        };
        let r = per_message(ctx, rule, |rel, api, m| {
            if dedup_key(api, m, p).is_some() {
                return None;
            }
            let label = m.label();
            let note = if !p.accept_correlation_id && api.message_field(m, "correlationId").is_some() {
                " (its `correlationId` identifies a conversation, not one event)"
            } else {
                ""
            };
            Some(
                message_finding(
                    ctx,
                    rel,
                    api,
                    m,
                    format!("message `{label}` carries no de-duplication key{note}"),
                )
                .help(format!(
                    "add a unique event id header (e.g. `eventId`, format uuid) that consumers de-duplicate on; \
                         accepted names: {}",
                    p.dedup_fields.join(", ")
                )),
            )
        });
        if matches!(r.outcome, Outcome::Skipped | Outcome::Errored) || r.absent {
            return r;
        }
        consumers(ctx, r, p.evidence)
    }
}

/// Each consuming service's de-duplication against its code: claims and evidence lines, and
/// with `evidence = "found"` the credit scaled by the share of consumers with code that show it.
fn consumers(ctx: &Ctx<'_>, mut r: CheckResult, needs: Needs) -> CheckResult {
    let mut claims = Vec::new();
    let mut lost = Vec::new();
    let mut judged = 0;
    for s in ctx.submission.services.iter().filter(|s| !s.consumes.is_empty()) {
        let name = &s.name.name;
        let first = &s.consumes[0];
        let mut claim = Claim::new(
            name.clone(),
            "de-duplicates the events it consumes",
            Status::Unconfirmed,
            true,
        );
        if let Some(span) = &first.span {
            claim = claim.from_source(
                Source::Declared,
                crate::submission::MANIFEST,
                ctx.manifest_line(span),
                format!(
                    "consumes {}",
                    s.consumes
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let Some(code) = ctx.service_evidence(name) else {
            claims.push(claim);
            continue;
        };
        judged += 1;
        let found: Vec<_> = code.evidence.proving(Proof::ConsumerDedup).take(3).collect();
        if let Some(f) = found.first() {
            r.evidence.push(format!(
                "{name}: consumer de-duplication confirmed ({}: {})",
                f.at(),
                f.text
            ));
            claim.status = Status::Confirmed;
            claims.push(found.iter().fold(claim, |c, f| f.backs(c)));
            continue;
        }
        let looked = code.looked();
        if needs == Needs::Found {
            claim.credited = false;
            r.evidence.push(format!(
                "{name}: consumer de-duplication unconfirmed: nothing in {looked} shows it"
            ));
            lost.push(
                ctx.manifest_finding(
                    first.span.as_ref(),
                    format!(
                        "`{name}` consumes events, but its code does not show that it remembers the ones it processed: looked in {looked}"
                    ),
                )
                .help("record each processed event id (an inbox or processed-events table, `INSERT ... ON CONFLICT (event_id) DO NOTHING`) in the same transaction as the handler's changes, and skip ids already recorded"),
            );
        } else {
            r.evidence.push(format!(
                "{name}: consumer de-duplication unconfirmed (nothing in {looked} shows it; the rubric accepts the catalog's word)"
            ));
        }
        claims.push(claim);
    }
    if !lost.is_empty() {
        let share = (judged - lost.len()) as f64 / judged as f64;
        let credit = r.credit.unwrap_or(1.0) * share;
        r.evidence.push(format!(
            "{} of {judged} consumers with code show de-duplication: credit x {share:.2}",
            judged - lost.len()
        ));
        r.findings.extend::<Vec<Finding>>(lost);
        r.outcome = Outcome::Failed;
        r.credit = Some(credit);
    }
    r.with_claims(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(case: &str, params: &str) -> CheckResult {
        crate::checks::run_fixture::<DedupKeyMissing>(case, params)
    }

    /// A consumer with code is confirmed by an inbox or processed-events table; one that
    /// remembers nothing is unconfirmed, which `evidence = "found"` does not credit.
    #[test]
    fn consumers_must_remember_what_they_processed() {
        let found = "evidence = 'found'";
        for case in ["pass-confirmed-python", "pass-confirmed-go", "pass-confirmed-rust"] {
            let r = run(case, found);
            assert_eq!(r.outcome, Outcome::Passed, "{case}: {:?}", r.findings);
            assert_eq!(r.claims.len(), 1, "{case}");
            assert_eq!(r.claims[0].status, Status::Confirmed, "{case}");
        }
        let r = run("pass-unconfirmed-java", "");
        assert_eq!(r.outcome, Outcome::Passed);
        assert_eq!((r.claims[0].status, r.claims[0].credited), (Status::Unconfirmed, true));
        let r = run("pass-unconfirmed-java", found);
        assert_eq!((r.outcome, r.credit), (Outcome::Failed, Some(0.0)));
        assert!(
            r.findings[0].message.contains("looked in src (1 files)"),
            "{:?}",
            r.findings
        );
        assert_eq!(r.findings[0].line, Some(7), "at the consumer's `consumes`");
    }
}
