use serde_json::Value;

use super::walk::{check_apis, Api, Node, Tally, METHODS};
use crate::artifact::document::unescape_pointer_segment;
use crate::artifact::refs;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct DeprecationUndocumented;

const DOCS: &str = r#"## What it checks
That everything marked `deprecated: true` (operations, parameters, headers, schemas and
properties, in every file of the description) says what happens next: its `description`
(or an operation's `summary`) names the replacement or the schedule (`use ... instead`,
`replaced by`, `superseded`, `migrate`, `sunset`, `removed on`, ...), or an `x-sunset` /
`x-replaced-by` extension gives it, or, for an operation, one of its responses documents a
`Sunset` (RFC 8594) or `Deprecation` header. Partial credit: documented deprecations /
deprecations; skipped when nothing is deprecated.

## Why it matters
Deprecation is how an API evolves without breaking its consumers (Week 2: "Design
evolutionary API strategies", backward-compatible evolution): the old operation keeps working
while consumers migrate. A bare `deprecated: true` tells them to move but not where to, or by
when, so they either ignore it or break when it is removed.

## How to fix
Say what replaces it and when it goes away, in the description, and announce the date at run
time with a `Sunset` header.

## Example
```yaml
/v1/orders/{orderId}/cancel:
  post:
    deprecated: true
    description: Deprecated, use `PATCH /v1/orders/{orderId}` with `status: CANCELLED` instead; removed on 2026-06-30.
    responses:
      '200':
        description: OK.
        headers:
          Sunset: {schema: {type: string}, description: 'Removal date (RFC 8594).'}
```
"#;

impl TypedCheck for DeprecationUndocumented {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS016",
        name: "deprecation-undocumented",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "Something is deprecated without saying what replaces it or when it goes away",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish("deprecations say what replaces them", "nothing is marked deprecated"),
            Err(r) => r,
        }
    }
}

const HINTS: &[&str] = &[
    "use ",
    "use`",
    "instead",
    "replac",
    "supersed",
    "successor",
    "migrat",
    "switch to",
    "moved to",
    "in favor",
    "in favour",
    "sunset",
    "removed",
    "removal",
    "will be retired",
    "see ",
];

/// Whether `text` names a replacement or a schedule.
pub fn explains(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    HINTS.iter().any(|h| t.contains(h))
}

fn text_explains(v: &Value) -> bool {
    ["description", "summary"]
        .iter()
        .any(|k| v.get(*k).and_then(Value::as_str).is_some_and(explains))
        || v.as_object().is_some_and(|m| {
            m.keys().any(|k| {
                let k = k.to_ascii_lowercase();
                k.starts_with("x-sunset") || k.starts_with("x-replaced") || k.starts_with("x-replacement")
            })
        })
}

fn what(api: &Api<'_>, node: &Node<'_>, parent_key: Option<&str>) -> String {
    let m = node.value;
    if let (Some(name), Some(loc)) = (
        m.get("name").and_then(Value::as_str),
        m.get("in").and_then(Value::as_str),
    ) {
        return format!("{loc} parameter `{name}`");
    }
    let segs: Vec<String> = node
        .pointer
        .split('/')
        .map(|s| unescape_pointer_segment(s).into_owned())
        .collect();
    let n = segs.len();
    if parent_key.is_some_and(|k| METHODS.contains(&k)) && n >= 3 && (segs[1] == "paths" || segs[1] == "webhooks") {
        return format!("operation {} {}", segs[n - 1].to_ascii_uppercase(), segs[n - 2]);
    }
    if n >= 2 && segs[n - 2] == "properties" {
        return format!("property `{}`", segs[n - 1]);
    }
    if n >= 2 && segs[n - 2] == "headers" {
        return format!("header `{}`", segs[n - 1]);
    }
    if n >= 2 && segs[n - 2] == "schemas" {
        return format!("schema `{}`", segs[n - 1]);
    }
    let _ = api;
    "schema".into()
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    for (rel, doc) in api.files() {
        let mut found: Vec<(String, Option<String>)> = Vec::new();
        refs::walk_objects(&doc.value, "", |v| {
            if !v.names && v.object.get("deprecated").and_then(Value::as_bool) == Some(true) {
                found.push((v.pointer.to_string(), v.key.map(str::to_string)));
            }
        });
        for (pointer, key) in found {
            let Some(value) = refs::value_at(&doc.value, &pointer) else {
                continue;
            };
            let node = Node {
                file: rel,
                doc,
                pointer,
                value,
            };
            let is_op = value.get("responses").is_some() || key.as_deref().is_some_and(|k| METHODS.contains(&k));
            let mut ok = text_explains(value);
            if !ok && is_op {
                ok = node.get("responses").is_some_and(|rs| {
                    rs.entries().into_iter().any(|(_, r)| {
                        let r = api.deref(r);
                        r.value.get("headers").and_then(Value::as_object).is_some_and(|h| {
                            h.keys()
                                .any(|k| k.eq_ignore_ascii_case("sunset") || k.eq_ignore_ascii_case("deprecation"))
                        })
                    })
                });
            }
            t.unit(ok);
            if !ok {
                let label = what(api, &node, key.as_deref());
                let at = node.get("deprecated").unwrap_or(node.clone());
                t.issue(
                    &at,
                    None,
                    format!("{label} is deprecated without saying what replaces it or when it will be removed"),
                    if is_op {
                        "say what to use instead in its `description` (\"Deprecated: use ... instead\") and document a \
                         `Sunset` header with the removal date"
                    } else {
                        "say what to use instead in its `description` (\"Deprecated: use ... instead\")"
                    },
                );
            }
        }
    }
}
