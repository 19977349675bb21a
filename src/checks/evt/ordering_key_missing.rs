use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{find_field, message_finding, per_message, MessageRule};
use crate::artifact::asyncapi::{AsyncApiDoc, Message};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct OrderingKeyMissing;

const DOCS: &str = r#"## What it checks
That every message of the event catalog declares the key that orders it, one of:

- a Kafka message binding key, `bindings.kafka.key` (the partition key);
- a Google Pub/Sub ordering key, `bindings.googlepubsub.orderingKey`;
- an `x-partition-key` or `x-ordering-key` extension on the message;
- a header or top-level payload field named in the `key_fields` parameter (compared without
  case, `_` or `-`: `partition_key` matches `partitionKey`).

Message traits count as part of the message. Partial credit: messages with an ordering key /
messages.

## Why it matters
Brokers order messages only within a partition (Week 5: "Handle message ordering and
exactly-once delivery", event streaming with Kafka). Without a key that sends all events of
one aggregate to the same partition, `OrderCancelled` can be processed before
`OrderPlaced`, and consumers apply state changes in the wrong order. The key is part of the
contract: every producer of the event must use the same one.

## How to fix
Add the partition key to each message: in Kafka, a `bindings.kafka.key` schema whose
description names the aggregate id it carries (often in a shared message trait); otherwise a
`partitionKey` header. If your convention is an aggregate id field (e.g. `orderId`), add that
name to `key_fields` in the rubric.

## Example
```yaml
components:
  messages:
    OrderPlaced:
      payload: {$ref: '#/components/schemas/OrderPlaced'}
      bindings:
        kafka:
          key: {type: string, description: 'orderId: events of one order stay in order'}
          bindingVersion: 0.5.0
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Header or payload fields that carry the ordering key.
    pub key_fields: Vec<String>,
    /// Messages that need no ordering (e.g. independent notifications), by name.
    pub ignore: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            key_fields: ["partitionKey", "orderingKey", "messageKey", "aggregateId", "key"]
                .map(String::from)
                .to_vec(),
            ignore: Vec::new(),
        }
    }
}

/// What declares the message's ordering key, or `None`.
fn ordering_key(api: &AsyncApiDoc, m: &Message, p: &Params) -> Option<String> {
    let present = |v: &Value| !v.is_null();
    if api
        .message_path(m, &["bindings", "kafka", "key"])
        .is_some_and(|(_, v)| present(v))
    {
        return Some("bindings.kafka.key".into());
    }
    if api
        .message_path(m, &["bindings", "googlepubsub", "orderingKey"])
        .is_some_and(|(_, v)| present(v))
    {
        return Some("bindings.googlepubsub.orderingKey".into());
    }
    for ext in ["x-partition-key", "x-ordering-key"] {
        if api.message_field(m, ext).is_some_and(|(_, v)| present(v)) {
            return Some(ext.into());
        }
    }
    find_field(api, m, &p.key_fields).map(|(name, place)| format!("{place} `{name}`"))
}

impl TypedCheck for OrderingKeyMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT005",
        name: "ordering-key-missing",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "A message declares no ordering (partition) key",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "key_fields",
                ty: "array of strings",
                description: "header or payload fields that carry the ordering key (compared without case, `_`, `-`)",
            },
            ParamDoc {
                name: "ignore",
                ty: "array of strings",
                description: "messages that need no ordering, by name",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let rule = MessageRule {
            topic: "ordering keys",
            ignore: &p.ignore,
            folded: (
                "messages without an ordering key",
                "declare a partition key on each message",
            ),
            compliant: "declare an ordering key",
        };
        per_message(ctx, rule, |rel, api, m| {
            if ordering_key(api, m, p).is_some() {
                return None;
            }
            let label = m.label();
            Some(
                message_finding(ctx, rel, api, m, format!("message `{label}` declares no ordering key")).help(format!(
                    "add `bindings: {{kafka: {{key: {{type: string, description: '<aggregate id>'}}}}}}` to the \
                     message, or a header/payload field named one of: {}",
                    p.key_fields.join(", ")
                )),
            )
        })
    }
}
