use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::walk::{check_apis, Api, Tally};
use crate::artifact::document::escape_pointer_segment;
use crate::artifact::refs;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct UnusedComponent;

const DOCS: &str = r#"## What it checks
That every component of the document's `components` sections listed in `sections`
(`schemas`, `parameters`, `responses`, `requestBodies` by default) is used: reachable by
`$ref` (or a discriminator `mapping`) from the paths, webhooks or other parts of the API,
directly or through other used components and referenced files. A component used only by
unused components is unused too. Documents without `paths` or `webhooks` (3.1 component
libraries) are not checked. Partial credit: used components / components.

## Why it matters
Dead definitions make a contract harder to review and evolve (Week 2: contract-first design):
readers cannot tell which schemas are part of the API, generated clients carry types nobody
sends, and an unused component is often the sign of a response or parameter that was meant to
be referenced and was copied inline instead.

## How to fix
Refer to the component where it was meant to be used (often an inline copy should become a
`$ref`), or delete it.

## Example
```yaml
paths:
  /v1/orders/{orderId}:
    get:
      responses:
        '404': {$ref: '#/components/responses/NotFound'}   # NotFound is now used
components:
  responses:
    NotFound: {description: The order does not exist.}
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Component sections whose entries must be used.
    pub sections: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            sections: ["schemas", "parameters", "responses", "requestBodies"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl TypedCheck for UnusedComponent {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS018",
        name: "unused-component",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A component (schema, parameter, response, request body) is never referenced",
        docs: DOCS,
        params: &[ParamDoc {
            name: "sections",
            ty: "array of strings",
            description: "the `components` sections checked (schemas, parameters, responses, requestBodies, headers, examples, ...)",
        }],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "components are used",
                "no components to check (or no document has `paths` or `webhooks`)",
            ),
            Err(r) => r,
        }
    }
}

/// The references made inside `value` (at `base`): `$ref`s and discriminator mappings.
fn references(value: &Value, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    refs::walk_objects(value, base, |v| {
        if let Some(Value::String(r)) = v.object.get("$ref") {
            out.push(r.clone());
        }
        if v.names {
            return;
        }
        if let Some(Value::Object(mapping)) = v.object.get("discriminator").and_then(|d| d.get("mapping")) {
            for target in mapping.values().filter_map(Value::as_str) {
                if target.contains('#') || target.contains('/') || target.contains('.') {
                    out.push(target.to_string());
                } else {
                    out.push(format!("#/components/schemas/{}", escape_pointer_segment(target)));
                }
            }
        }
    });
    out
}

/// `/components/<section>/<name>` for a pointer inside a tracked component.
fn component_of(pointer: &str, sections: &[String]) -> Option<String> {
    if !pointer.starts_with("/components/") {
        return None;
    }
    let mut it = pointer.split('/').skip(1);
    let (Some("components"), Some(section), Some(name)) = (it.next(), it.next(), it.next()) else {
        return None;
    };
    sections
        .iter()
        .any(|s| s == section)
        .then(|| format!("/components/{section}/{name}"))
}

pub fn evaluate(api: &Api<'_>, p: &Params, t: &mut Tally) {
    let root = api.root();
    let has_api = ["paths", "webhooks"].iter().any(|k| {
        root.value
            .get(*k)
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
    });
    if !has_api {
        return;
    }
    // Roots: references outside the tracked components of the root document.
    let mut queue: VecDeque<(String, String)> = VecDeque::new(); // (from file, reference)
    let mut root_refs = Vec::new();
    {
        let mut sites: Vec<(String, String)> = Vec::new();
        refs::walk_objects_with(root.value, "", |v| {
            if component_of(v.pointer, &p.sections).is_some() {
                return false;
            }
            // References directly in this object (children are visited on their own).
            if let Some(Value::String(r)) = v.object.get("$ref") {
                sites.push((v.pointer.to_string(), r.clone()));
            }
            if !v.names {
                if let Some(Value::Object(mapping)) = v.object.get("discriminator").and_then(|d| d.get("mapping")) {
                    for target in mapping.values().filter_map(Value::as_str) {
                        sites.push((v.pointer.to_string(), target.to_string()));
                    }
                }
            }
            true
        });
        for (_, r) in sites {
            let r = if r.contains('#') || r.contains('/') || r.contains('.') {
                r
            } else {
                format!("#/components/schemas/{}", escape_pointer_segment(&r))
            };
            root_refs.push(r);
        }
    }
    // Each (file, reference) is followed once: a large description repeats the same
    // references thousands of times.
    let mut queued: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    for r in root_refs {
        let item = (api.rel.to_string(), r);
        if queued.insert(item.clone()) {
            queue.push_back(item);
        }
    }
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut scanned: BTreeSet<(String, String)> = BTreeSet::new();
    while let Some((from, r)) = queue.pop_front() {
        let Ok(target) = api.resolve_one(&from, &r) else {
            continue;
        };
        let scope = if target.file == api.rel {
            match component_of(&target.pointer, &p.sections) {
                Some(c) => {
                    used.insert(c.clone());
                    c
                }
                None => target.pointer.clone(),
            }
        } else {
            target.pointer.clone()
        };
        if !scanned.insert((target.file.to_string(), scope.clone())) {
            continue;
        }
        let doc = target.doc;
        let value = if scope.is_empty() {
            Some(&doc.value)
        } else {
            refs::value_at(&doc.value, &scope)
        };
        let Some(value) = value else { continue };
        for next in references(value, &scope) {
            let item = (target.file.to_string(), next);
            if queued.insert(item.clone()) {
                queue.push_back(item);
            }
        }
    }
    let Some(components) = root.get("components") else {
        return;
    };
    for section in &p.sections {
        let Some(sec) = components.get(section) else { continue };
        for (name, node) in sec.entries() {
            let key = format!("/components/{section}/{}", escape_pointer_segment(name));
            let ok = used.contains(&key);
            t.unit(ok);
            if !ok {
                t.issue(
                    &node,
                    None,
                    format!("`components.{section}.{name}` is never used"),
                    "refer to it with `$ref` where it was meant to be used, or delete it",
                );
            }
        }
    }
}
