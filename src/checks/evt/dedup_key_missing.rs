use serde::{Deserialize, Serialize};

use super::{find_field, message_fields, message_finding, norm, per_message, MessageRule};
use crate::artifact::asyncapi::{AsyncApiDoc, Message};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

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
        per_message(ctx, rule, |rel, api, m| {
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
        })
    }
}
