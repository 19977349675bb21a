use super::walk::{check_apis, Api, Node, Operation, Tally};
use serde_json::Value;

use crate::artifact::schema::{SchemaError, SchemaSet, Violation};
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
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

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

/// The findings text of the violations of `example` found by `validate`: `None`
/// when the schema cannot be used (OAS002's business), `Some(None)` when valid,
/// `Some(Some(text))` when not.
fn judge<'s>(
    api: &'s Api<'_>,
    example: &Node<'s>,
    validate: impl Fn(&Value) -> Result<Vec<Violation>, SchemaError>,
) -> Option<Option<String>> {
    let violations = validate(example.value).ok()?;
    let kept: Vec<Violation> = violations.into_iter().filter(|v| !direction_only(api, v)).collect();
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
    Some(Some(format!("{}{more}", parts.join("; "))))
}

/// The message for `what` against `schema` (as written) with the violations `text`.
fn message(what: &str, schema: &Node<'_>, text: &str) -> String {
    let against = match schema.ref_str() {
        Some(r) => format!(" `{r}`"),
        None => String::new(),
    };
    format!("{what} does not match its schema{against}: {text}")
}

/// A `required` violation for a `readOnly`/`writeOnly` property: such a property is only
/// present in responses (requests), so an example for the other direction may omit it.
fn direction_only(api: &Api<'_>, v: &Violation) -> bool {
    if v.keyword != "required" {
        return false;
    }
    let (Some(prop), Some(loc)) = (&v.property, &v.schema) else {
        return false;
    };
    let Some(parent) = loc.pointer.strip_suffix("/required") else {
        return false;
    };
    let Ok(owner) = api.resolve_one(&loc.file, &format!("#{parent}")) else {
        return false;
    };
    let Some(p) = owner.get("properties").and_then(|ps| ps.get(prop)) else {
        return false;
    };
    let p = api.deref(p);
    p.flag("readOnly") || p.flag("writeOnly")
}

/// The schema a validator is compiled from for `schema`: a schema that is nothing but a local
/// `$ref` (`{$ref: '#/components/schemas/Order'}`) validates exactly as its target (errors are
/// located by absolute keyword location, in the target either way), so the uses of one
/// component share one validator. Anything else (siblings, file or URL references, a loop) is
/// compiled where it is written.
fn compile_target<'s>(api: &'s Api<'_>, schema: &Node<'s>) -> Node<'s> {
    let mut cur = schema.clone();
    for _ in 0..16 {
        let only_ref = cur.object().is_some_and(|m| m.len() == 1);
        match cur.ref_str() {
            Some(r) if only_ref && r.starts_with("#/") => match api.resolve_one(cur.file, r) {
                Ok(next) => cur = next,
                Err(_) => break,
            },
            _ => return cur,
        }
    }
    schema.clone()
}

/// Keywords that never change whether a value is valid.
const ANNOTATIONS: &[&str] = &[
    "example",
    "examples",
    "description",
    "title",
    "externalDocs",
    "deprecated",
    "xml",
];

/// For a schema whose verdicts do not depend on where it is written (no reference, no
/// `required` — the one keyword [`direction_only`] judges by place —, no identifier or other
/// `$` keyword, anywhere inside): its content without its own annotations, so that equal
/// schemas (`{type: string, format: uri, example: ...}` on many properties) share one
/// validator. Violations are reported by message and instance location only.
fn content_key(v: &Value) -> Option<String> {
    fn plain(v: &Value) -> bool {
        match v {
            Value::Object(m) => m
                .iter()
                .all(|(k, x)| k != "required" && k != "id" && !k.starts_with('$') && plain(x)),
            Value::Array(a) => a.iter().all(plain),
            _ => true,
        }
    }
    let m = v.as_object()?;
    let mut key = String::from("{");
    for (k, x) in m {
        if ANNOTATIONS.contains(&k.as_str()) {
            continue;
        }
        if k == "required" || k == "id" || k.starts_with('$') || !plain(x) {
            return None;
        }
        key.push_str(&serde_json::to_string(k).ok()?);
        key.push(':');
        key.push_str(&serde_json::to_string(x).ok()?);
        key.push(',');
    }
    Some(key)
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
    judge_examples(api, t, true)
}

/// Judges every example; `combined`: with one validator for all target schemas when they all
/// compile (false: one validator per target schema, as the fallback does).
fn judge_examples(api: &Api<'_>, t: &mut Tally, combined: bool) {
    // Every (subject, label, example, schema), in order; then one schema set that registers
    // only what these schemas need.
    let (tasks, schema_ids) = collect_tasks(api);
    if tasks.is_empty() {
        return;
    }
    // A `$id` (or draft 4 `id`) changes how references inside a schema resolve: then every
    // schema is compiled where it is written.
    let plain = !schema_ids;
    let mut same: std::collections::HashMap<String, (String, String)> = std::collections::HashMap::new();
    let targets: Vec<(String, String)> = tasks
        .iter()
        .map(|(_, _, _, s)| {
            if !plain {
                return (s.file.to_string(), s.pointer.clone());
            }
            let target = compile_target(api, s);
            let here = (target.file.to_string(), target.pointer.clone());
            match content_key(target.value) {
                Some(key) => same.entry(key).or_insert(here).clone(),
                None => here,
            }
        })
        .collect();
    let pointers: Vec<String> = targets
        .iter()
        .filter(|(f, _)| f == api.rel)
        .map(|(_, p)| p.clone())
        .collect();
    let schemas = SchemaSet::for_openapi_schemas(api.rel, api.spec, api.external, &pointers)
        .with_max_ref_hops(api.max_ref_hops());
    // Each distinct (example, schema) is judged once, grouped by target schema.
    type Key = (String, String, String, String);
    let mut pair_of: Vec<(usize, bool)> = Vec::with_capacity(tasks.len());
    let mut pairs: std::collections::BTreeMap<Key, usize> = std::collections::BTreeMap::new();
    let mut firsts: Vec<usize> = Vec::new();
    for (i, (_, _, ex, schema)) in tasks.iter().enumerate() {
        let key = (
            ex.file.to_string(),
            ex.pointer.clone(),
            schema.file.to_string(),
            schema.pointer.clone(),
        );
        let next = firsts.len();
        let id = *pairs.entry(key).or_insert(next);
        let first = id == next;
        if first {
            firsts.push(i);
        }
        pair_of.push((id, first));
    }
    let mut by_target: std::collections::BTreeMap<&(String, String), Vec<usize>> = std::collections::BTreeMap::new();
    for (id, &i) in firsts.iter().enumerate() {
        by_target.entry(&targets[i]).or_default().push(id);
    }
    let mut verdicts: Vec<Option<Option<String>>> = vec![None; firsts.len()];
    // One validator for every target schema (they share most of what they refer to, compiled
    // once); when one of them does not compile, one validator per target, so that the others
    // are still judged, each dropped after its examples (a validator holds every schema it
    // reaches: keeping thousands would cost hundreds of MiB on a large description).
    let all: Vec<(&str, &str)> = by_target.keys().map(|(f, p)| (f.as_str(), p.as_str())).collect();
    let many = if combined {
        schemas.validator_many(&all)
    } else {
        Err(SchemaError {
            message: "one validator per schema".into(),
        })
    };
    match many {
        Ok(m) => {
            for (i, ids) in by_target.values().enumerate() {
                for &id in ids {
                    verdicts[id] = judge(api, &tasks[firsts[id]].2, |x| schemas.validate_many(&m, i, x));
                }
            }
        }
        Err(_) => {
            for ((file, pointer), ids) in by_target {
                let Ok(v) = schemas.validator_uncached(file, pointer) else {
                    continue;
                };
                for id in ids {
                    verdicts[id] = judge(api, &tasks[firsts[id]].2, |x| schemas.validate_with(&v, x));
                }
            }
        }
    }
    for ((subject, what, ex, schema), (id, first)) in tasks.into_iter().zip(pair_of) {
        let Some(verdict) = &verdicts[id] else { continue };
        if !first {
            // Already counted; still name this use of it.
            if let (Some(s), Some(text)) = (subject, verdict) {
                t.issue(&ex, Some(s), message(&what, &schema, text), HELP);
            }
            continue;
        }
        t.unit(verdict.is_none());
        if let Some(text) = verdict {
            t.issue(&ex, subject, message(&what, &schema, text), HELP);
        }
    }
}

/// An example to judge: (subject, what it is, the example, its schema).
type Task<'s> = (Option<String>, String, Node<'s>, Node<'s>);

/// Every example of the description with its schema, in order (operations and webhooks, then
/// Schema Objects); `true` when a schema has an `$id` (or draft 4 `id`).
fn collect_tasks<'s>(api: &'s Api<'_>) -> (Vec<Task<'s>>, bool) {
    let mut tasks: Vec<Task<'s>> = Vec::new();
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    for op in &ops {
        operation_tasks(api, op, &mut tasks);
    }
    // Examples inside Schema Objects.
    let mut schema_ids = false;
    for s in api.schemas().iter() {
        schema_ids |= s.str("$id").is_some() || s.str("id").is_some();
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
    (tasks, schema_ids)
}

/// The examples of one operation: of its request and response bodies, parameters and
/// response headers.
fn operation_tasks<'s>(api: &'s Api<'_>, op: &Operation<'s>, tasks: &mut Vec<Task<'s>>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::document::{Document, Limits};
    use crate::artifact::openapi::classify;
    use crate::artifact::Loaded;
    use crate::checks::oas::walk::{external_docs, Api};

    /// On the fixtures and the smaller corpus documents, one validator for all schemas gives
    /// exactly the verdicts (counts and findings) of one validator per schema.
    #[test]
    fn combined_validator_gives_per_schema_verdicts() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = crate::testing::files(&here.join("fixtures"), crate::testing::DOCUMENTS, 300_000);
        if let Some(corpus) = crate::testing::corpus("openapi") {
            files.extend(crate::testing::files(&corpus, crate::testing::DOCUMENTS, 300_000));
        }
        let (mut docs, mut examples) = (0, 0);
        for path in files {
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let Ok(doc) = Document::from_bytes("openapi.yaml", &bytes, &Limits::default()) else {
                continue;
            };
            let Loaded::Ok(spec) = classify(doc) else { continue };
            let root = path.parent().unwrap();
            let rel = path.file_name().unwrap().to_str().unwrap();
            let ext = external_docs(root, rel, &spec);
            let api = Api::with_external(root, rel, &spec, &ext);
            let (mut a, mut b) = (Tally::default(), Tally::default());
            judge_examples(&api, &mut a, true);
            judge_examples(&api, &mut b, false);
            let (fa, fb) = (a.findings(), b.findings());
            assert_eq!((a.good, a.total), (b.good, b.total), "{}", path.display());
            let text = |f: &[crate::checks::Finding]| {
                f.iter()
                    .map(|x| format!("{:?} {}", x.line, x.message))
                    .collect::<Vec<_>>()
            };
            assert_eq!(text(&fa), text(&fb), "{}", path.display());
            docs += 1;
            examples += a.total;
        }
        println!("{docs} documents, {examples} examples: same verdicts");
        assert!(docs > 50 && examples > 100, "{docs} documents, {examples} examples");
    }

    #[test]
    fn media() {
        assert!(is_json_media("application/json"));
        assert!(is_json_media("application/problem+json; charset=utf-8"));
        assert!(!is_json_media("text/plain"));
        assert!(!is_json_media("application/xml"));
    }
}
