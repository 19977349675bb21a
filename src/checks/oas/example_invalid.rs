use std::collections::BTreeSet;

use super::walk::{check_apis, Api, Node, Tally};
use crate::artifact::schema::{SchemaSet, Violation};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ExampleInvalid;

const DOCS: &str = r#"## What it checks
That every example is valid against the schema it illustrates: the `example` and
`examples.*.value` of each JSON media type (request bodies, responses) and of each parameter
and response header with a `schema`, and the `example` (and, in 3.1, each entry of
`examples`) of every Schema Object. OpenAPI 3.0 schemas are read with their `nullable`
semantics, 3.1 schemas as JSON Schema 2020-12. A `required` property that is `readOnly` or
`writeOnly` may be missing (it only appears in one direction). Partial credit: valid examples
/ examples; one finding per example, at the example, listing what is wrong.

## Why it matters
Examples are part of the contract (Week 2: contract-first design): they feed documentation,
mock servers and consumer tests (Week 4: contract testing). An example that contradicts its
schema means one of the two is wrong, and whoever trusts the example (a mock, a generated
test, a reader) builds against a payload the provider will never send or will reject.

## How to fix
Correct the example (or the schema, if the example shows what the service really does) so
that it has the required properties, the right types and values from the `enum`.

## Example
```yaml
schema:
  type: object
  required: [id, status]
  properties:
    id: {type: string}
    status: {type: string, enum: [PENDING, PAID]}
example: {id: ord_1, status: PAID}
```
"#;

impl TypedCheck for ExampleInvalid {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS019",
        name: "example-invalid",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An example does not match its schema",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "examples are valid against their schema",
                "the documents have no examples",
            ),
            Err(r) => r,
        }
    }
}

/// True for media types whose examples are JSON values (and not serialized text).
fn is_json_media(media: &str) -> bool {
    let m = media.trim().to_ascii_lowercase();
    let m = m.split(';').next().unwrap_or("").trim().to_string();
    m.ends_with("/json") || m.ends_with("+json") || m == "application/x-www-form-urlencoded"
}

struct Checker<'s, 'a> {
    api: &'s Api<'a>,
    schemas: SchemaSet<'s>,
    seen: BTreeSet<(String, String, String, String)>,
}

impl<'s> Checker<'s, '_> {
    /// Checks one example value against the schema at `schema` (as written).
    fn check(&mut self, t: &mut Tally, subject: Option<String>, what: &str, example: &Node<'s>, schema: &Node<'s>) {
        let key = (
            example.file.to_string(),
            example.pointer.clone(),
            schema.file.to_string(),
            schema.pointer.clone(),
        );
        if !self.seen.insert(key) {
            // Already counted; still name this use of it.
            if let Some(s) = subject {
                if let Some(msg) = self.message(what, example, schema) {
                    t.issue(example, Some(s), msg, HELP);
                }
            }
            return;
        }
        let Some(msg) = self.verdict(what, example, schema) else {
            return;
        };
        t.unit(msg.is_none());
        if let Some(m) = msg {
            t.issue(example, subject, m, HELP);
        }
    }

    fn message(&self, what: &str, example: &Node<'s>, schema: &Node<'s>) -> Option<String> {
        self.verdict(what, example, schema).flatten()
    }

    /// `None` when the schema cannot be used (OAS002's business); `Some(None)` when valid;
    /// `Some(Some(message))` when not.
    fn verdict(&self, what: &str, example: &Node<'s>, schema: &Node<'s>) -> Option<Option<String>> {
        let violations = self
            .schemas
            .validate(schema.file, &schema.pointer, example.value)
            .ok()?;
        let kept: Vec<Violation> = violations.into_iter().filter(|v| !self.direction_only(v)).collect();
        if kept.is_empty() {
            return Some(None);
        }
        let mut parts: Vec<String> = kept
            .iter()
            .map(|v| {
                if v.instance_pointer.is_empty() {
                    v.message.clone()
                } else {
                    format!("at `{}`: {}", v.instance_pointer.trim_start_matches('/'), v.message)
                }
            })
            .collect();
        parts.dedup();
        let n = parts.len();
        parts.truncate(3);
        let more = if n > 3 {
            format!(" (and {} more)", n - 3)
        } else {
            String::new()
        };
        let against = match schema.ref_str() {
            Some(r) => format!(" `{r}`"),
            None => String::new(),
        };
        Some(Some(format!(
            "{what} does not match its schema{against}: {}{more}",
            parts.join("; ")
        )))
    }

    /// A `required` violation for a `readOnly`/`writeOnly` property: such a property is only
    /// present in responses (requests), so an example for the other direction may omit it.
    fn direction_only(&self, v: &Violation) -> bool {
        if v.keyword != "required" {
            return false;
        }
        let (Some(prop), Some(loc)) = (&v.property, &v.schema) else {
            return false;
        };
        let Some(parent) = loc.pointer.strip_suffix("/required") else {
            return false;
        };
        let Ok(owner) = self.api.resolve_one(&loc.file, &format!("#{parent}")) else {
            return false;
        };
        let Some(p) = owner.get("properties").and_then(|ps| ps.get(prop)) else {
            return false;
        };
        let p = self.api.deref(p);
        p.flag("readOnly") || p.flag("writeOnly")
    }
}

/// The examples of a Media Type, Parameter or Header Object: `(label, value node)`.
fn own_examples<'s>(api: &'s Api<'_>, owner: &Node<'s>) -> Vec<(String, Node<'s>)> {
    let mut out = Vec::new();
    if let Some(e) = owner.get("example") {
        out.push(("`example`".to_string(), e));
    }
    if let Some(examples) = owner.get("examples") {
        for (name, site) in examples.entries() {
            let ex = api.deref(site);
            if let Some(v) = ex.get("value") {
                out.push((format!("example `{name}`"), v));
            }
        }
    }
    out
}

const HELP: &str = "correct the example (or the schema) so that the example is a valid instance of the schema";

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    // Every (subject, label, example, schema), in order; then one schema set that registers
    // only what these schemas need.
    let mut tasks: Vec<(Option<String>, String, Node<'_>, Node<'_>)> = Vec::new();
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    for op in &ops {
        let label = op.label();
        for b in api.bodies(op) {
            let Some(schema) = b.node.get("schema") else { continue };
            if !is_json_media(b.media) {
                continue;
            }
            for (what, ex) in own_examples(api, &b.node) {
                let what = format!("{} {what}", b.label(op));
                tasks.push((Some(label.clone()), what, ex, schema.clone()));
            }
        }
        let mut headers: Vec<(String, Node<'_>)> = Vec::new();
        for p in api.parameters(op) {
            headers.push((format!("{} parameter `{}`", p.location, p.name), p.node.clone()));
        }
        for r in api.responses(op) {
            if let Some(hs) = r.node.get("headers") {
                for (name, h) in hs.entries() {
                    headers.push((format!("response {} header `{name}`", r.code), api.deref(h)));
                }
            }
        }
        for (owner_label, owner) in headers {
            if let Some(schema) = owner.get("schema") {
                for (what, ex) in own_examples(api, &owner) {
                    tasks.push((Some(label.clone()), format!("{owner_label} {what}"), ex, schema.clone()));
                }
            }
            for (media, m) in api.content(&owner) {
                let Some(schema) = m.get("schema") else { continue };
                if !is_json_media(media) {
                    continue;
                }
                for (what, ex) in own_examples(api, &m) {
                    tasks.push((
                        Some(label.clone()),
                        format!("{owner_label} `{media}` {what}"),
                        ex,
                        schema.clone(),
                    ));
                }
            }
        }
    }
    // Examples inside Schema Objects.
    let mut schema_nodes: Vec<Node<'_>> = Vec::new();
    api.visit_schemas(|n| schema_nodes.push(n.clone()));
    for s in schema_nodes {
        if let Some(ex) = s.get("example") {
            tasks.push((None, "schema `example`".to_string(), ex, s.clone()));
        }
        if api.is_31() {
            if let Some(list) = s.get("examples").filter(|e| e.value.is_array()) {
                for (i, ex) in list.items().into_iter().enumerate() {
                    tasks.push((None, format!("schema `examples[{i}]`"), ex, s.clone()));
                }
            }
        }
    }
    if tasks.is_empty() {
        return;
    }
    let pointers: Vec<String> = tasks
        .iter()
        .filter(|(_, _, _, s)| s.file == api.rel)
        .map(|(_, _, _, s)| s.pointer.clone())
        .collect();
    let mut c = Checker {
        api,
        schemas: SchemaSet::for_openapi_schemas(api.rel, api.spec, &api.external, &pointers),
        seen: BTreeSet::new(),
    };
    for (subject, what, ex, schema) in tasks {
        c.check(t, subject, &what, &ex, &schema);
    }
}

#[cfg(test)]
mod tests {
    use super::is_json_media;

    #[test]
    fn media() {
        assert!(is_json_media("application/json"));
        assert!(is_json_media("application/problem+json; charset=utf-8"));
        assert!(!is_json_media("text/plain"));
        assert!(!is_json_media("application/xml"));
    }
}
