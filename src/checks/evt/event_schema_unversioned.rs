use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{find_field, has_version_word, message_finding, norm, per_message, MessageRule};
use crate::artifact::asyncapi::{AsyncApiDoc, Message};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct EventSchemaUnversioned;

const DOCS: &str = r#"## What it checks
That every message of the event catalog says which version of its schema it carries. Any
one of these counts:

- a header or top-level payload field named in `version_fields` (compared without case, `_`
  or `-`), by default `version`, `schemaVersion`, `eventVersion`, `messageVersion`;
- an extension on the message (or a trait) whose name ends in `version`, e.g. `x-version`,
  `x-schema-version`;
- a version word (`v1`, `V2`) in the message's name, `messageId`, components key or title:
  `OrderPlacedV2`, `order-placed-v1`;
- a versioned content type on the message, or the catalog's `defaultContentType`:
  `application/vnd.shopflow.order-placed.v1+json`, `application/json; version=1`;
- a version word in the name or 3.0 `address` of a channel that carries it:
  `shopflow.ordering.order-placed.v1`;
- a version word in the payload schema's `$id`.

`info.version` (the catalog's own version) and `schemaFormat` (the version of Avro or
AsyncAPI, not of the event) do not count. Partial credit: versioned messages / messages.

## Why it matters
Events outlive the code that produced them: they sit in topics, are replayed, and are read
by consumers deployed on their own schedule (Week 5: event streaming, event sourcing). A
consumer must know which shape it is reading to upcast or reject it, and a producer must be
able to publish a breaking change as a new version next to the old one rather than break
every consumer at once (the same versioning discipline as APIs, Week 2).

## How to fix
Pick one convention and apply it to every message: a `schemaVersion` (or `eventVersion`)
header, a versioned channel (`orders.order-placed.v1`), or a versioned message name. Bump it
on every breaking change and publish both versions while consumers migrate.

## Example
```yaml
components:
  messages:
    OrderPlaced:
      name: OrderPlaced
      headers:
        type: object
        properties:
          schemaVersion: {type: integer, const: 1}
      payload: {$ref: '#/components/schemas/OrderPlacedV1'}
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Header or payload fields that carry the schema version.
    pub version_fields: Vec<String>,
    /// Messages exempt from the check, by name.
    pub ignore: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            version_fields: ["version", "schemaVersion", "eventVersion", "messageVersion"]
                .map(String::from)
                .to_vec(),
            ignore: Vec::new(),
        }
    }
}

/// How the message is versioned (a short label for the evidence), or `None`.
fn versioned(api: &AsyncApiDoc, m: &Message, p: &Params) -> Option<String> {
    if let Some((name, place)) = find_field(api, m, &p.version_fields) {
        return Some(format!("{place} `{name}`"));
    }
    for at in std::iter::once(&m.pointer).chain(m.traits.iter()) {
        if let Some(Value::Object(o)) = api.at(at) {
            if let Some(k) = o.keys().find(|k| k.starts_with("x-") && norm(k).ends_with("version")) {
                return Some(format!("extension `{k}`"));
            }
        }
    }
    if m.names().iter().any(|n| has_version_word(n)) {
        return Some("versioned message name".into());
    }
    let content_type = api
        .message_field(m, "contentType")
        .and_then(|(_, v)| v.as_str().map(str::to_string))
        .or_else(|| {
            api.at("/defaultContentType")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    if let Some(ct) = content_type {
        if ct.to_ascii_lowercase().contains("version=") || has_version_word(&ct) {
            return Some("versioned content type".into());
        }
    }
    for &ci in &m.channels {
        if let Some(c) = api.channels.get(ci) {
            if has_version_word(&c.key) || c.address.as_deref().is_some_and(has_version_word) {
                return Some("versioned channel".into());
            }
        }
    }
    if let Some((_, Value::Object(o))) = api.payload(m) {
        if o.get("$id").and_then(Value::as_str).is_some_and(has_version_word) {
            return Some("versioned schema `$id`".into());
        }
    }
    None
}

impl TypedCheck for EventSchemaUnversioned {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT007",
        name: "event-schema-unversioned",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "A message does not say which version of its schema it carries",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "version_fields",
                ty: "array of strings",
                description: "header or payload fields that carry the schema version (compared without case, `_`, `-`)",
            },
            ParamDoc {
                name: "ignore",
                ty: "array of strings",
                description: "messages exempt from the check, by name",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let mut how: BTreeMap<String, usize> = BTreeMap::new();
        let rule = MessageRule {
            topic: "schema versions",
            ignore: &p.ignore,
            folded: ("unversioned messages", "version every message schema"),
            compliant: "versioned",
        };
        let mut r = per_message(ctx, rule, |rel, api, m| {
            if let Some(h) = versioned(api, m, p) {
                *how.entry(h).or_default() += 1;
                return None;
            }
            let label = m.label();
            Some(
                message_finding(
                    ctx,
                    rel,
                    api,
                    m,
                    format!("message `{label}` does not say which version of its schema it carries"),
                )
                .help(
                    "add a `schemaVersion` header (or `eventVersion`), or version the channel or message name \
                     (`orders.order-placed.v1`, `OrderPlacedV1`), and bump it on every breaking change",
                ),
            )
        });
        if !how.is_empty() {
            let parts: Vec<String> = how.iter().map(|(h, n)| format!("{h}: {n}")).collect();
            r.evidence.push(format!("versioned by {}", parts.join(", ")));
        }
        r
    }
}
