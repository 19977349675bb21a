use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{message_finding, per_message, MessageRule};
use crate::artifact::asyncapi::{AsyncApiDoc, Message};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct MessageWithoutPayload;

const DOCS: &str = r#"## What it checks
That every message of the event catalog has a payload schema: a `payload` that resolves to
a schema which says something (not the empty schema `{}` or `true`, which accept anything).
In AsyncAPI 3.0 a multi-format payload (`schemaFormat` + `schema`, e.g. Avro) counts when
its `schema` is there. Messages are those under `components/messages` and those used by
channels and operations. Partial credit: messages with a payload schema / messages.

## Why it matters
An event is a published language between contexts (Week 5: event-driven architecture, the
event catalog; Week 1: published language in the context map). Without a schema, producers
and consumers agree only by accident: a renamed field breaks consumers silently, nothing can
be validated at the broker or in contract tests, and schema evolution (Week 5, event
streaming) has nothing to evolve.

## How to fix
Give each message a `payload` with a JSON Schema (or a `schemaFormat` + `schema` for Avro or
Protobuf), preferably under `components/schemas` and referenced with `$ref`. List the fields
consumers rely on, with `required`.

## Example
```yaml
components:
  messages:
    OrderPlaced:
      name: OrderPlaced
      payload: {$ref: '#/components/schemas/OrderPlaced'}
  schemas:
    OrderPlaced:
      type: object
      required: [orderId, total]
      properties:
        orderId: {type: string}
        total: {type: integer}
```
"#;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Messages that may go without a payload (e.g. a heartbeat), by name.
    pub ignore: Vec<String>,
}

/// Why a payload does not count, or `None` when it does.
fn payload_problem(api: &AsyncApiDoc, m: &Message) -> Option<String> {
    let label = m.label();
    let declared = api.at(&format!("{}/payload", m.pointer)).is_some();
    if !declared {
        return Some(format!("message `{label}` has no payload schema"));
    }
    match api.payload(m) {
        None => Some(format!(
            "the payload of message `{label}` does not resolve (see EVT001 asyncapi-invalid)"
        )),
        Some((_, Value::Bool(true))) => Some(format!(
            "the payload of message `{label}` is `true`, a schema that accepts anything"
        )),
        Some((_, Value::Object(o)))
            if o.keys()
                .all(|k| k.starts_with("x-") || matches!(k.as_str(), "description" | "title" | "$comment")) =>
        {
            Some(format!(
                "the payload of message `{label}` is an empty schema: it accepts anything"
            ))
        }
        Some((_, Value::Object(_))) => None,
        Some((_, Value::Null)) => Some(format!("message `{label}` has an empty `payload`")),
        Some((_, _)) => Some(format!("the payload of message `{label}` is not a schema")),
    }
}

impl TypedCheck for MessageWithoutPayload {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT002",
        name: "message-without-payload",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "A message of the event catalog has no payload schema",
        docs: DOCS,
        params: &[ParamDoc {
            name: "ignore",
            ty: "array of strings",
            description: "messages that may go without a payload (e.g. a heartbeat), by name",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let rule = MessageRule {
            topic: "message payloads",
            ignore: &p.ignore,
            folded: (
                "messages without a payload schema",
                "give each message a `payload` schema",
            ),
            compliant: "have a payload schema",
        };
        per_message(ctx, rule, |rel, api, m| {
            payload_problem(api, m).map(|message| {
                message_finding(ctx, rel, api, m, message).help(
                    "add `payload:` with a JSON Schema of the event's fields (or `$ref` one under `components/schemas`)",
                )
            })
        })
    }
}
