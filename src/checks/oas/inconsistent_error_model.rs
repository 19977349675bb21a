use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::walk::{self, check_apis, Api, Node, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, Outcome, ParamDoc, TypedCheck};

pub struct InconsistentErrorModel;

const DOCS: &str = r#"## What it checks
That all error responses of a document (`4xx`, `5xx`, their `XX` ranges and `default`) share
one error model, preferably RFC 9457 problem details served as `application/problem+json`.

Each error response with a body counts once, by its preferred body (`application/problem+json`
when listed, else the first JSON media type). Two bodies have the same shape when their
schemas have the same top-level property names (after `$ref` and `allOf`), or are the same
`$ref` target. Error responses without a body are not counted (add bodies: see OAS009).

Credit per document: (error responses with the most common shape / error responses) ×
(1 when that shape is served as `application/problem+json`, else `custom_model_credit`,
0.75 by default). The check's credit is the mean over the documents that have error bodies.
So one consistent RFC 9457 model earns full credit, one consistent home-made model earns
0.75, and every response that deviates from the main shape costs its share.

## Why it matters
Clients, gateways and BFFs (Weeks 2 and 4) handle errors generically: one parser, one place
that maps `status`, `type` and `detail` to retries, user messages and alerts. Every extra
error shape is a special case in every consumer. RFC 9457 is the standard shape with a
registered media type, understood by off-the-shelf clients and API gateways.

## How to fix
Define one `Problem` schema (`type`, `title`, `status`, `detail`, `instance`) and shared
error responses that serve it as `application/problem+json`; refer to them from every
operation.

## Example
```yaml
components:
  responses:
    NotFound:
      description: The resource does not exist.
      content:
        application/problem+json:
          schema: {$ref: '#/components/schemas/Problem'}
  schemas:
    Problem:
      type: object
      required: [type, title, status]
      properties:
        type: {type: string, format: uri-reference}
        title: {type: string}
        status: {type: integer}
        detail: {type: string}
        instance: {type: string, format: uri-reference}
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Credit factor for a consistent error model that is not `application/problem+json`.
    pub custom_model_credit: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            custom_model_credit: 0.75,
        }
    }
}

impl TypedCheck for InconsistentErrorModel {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS008",
        name: "inconsistent-error-model",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "Error responses use several shapes, or not RFC 9457 problem details",
        docs: DOCS,
        params: &[ParamDoc {
            name: "custom_model_credit",
            ty: "float",
            description: "credit factor (0-1) for one consistent error model that is not application/problem+json",
        }],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let mut t = match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t,
            Err(r) => return r,
        };
        if t.doc_credits.is_empty() {
            return CheckResult::not_applicable("no error response with a body to compare");
        }
        let credit = t.doc_credits.iter().sum::<f64>() / t.doc_credits.len() as f64;
        let findings = t.findings();
        let mut r = if credit >= 1.0 - 1e-9 {
            let mut r = CheckResult::passed();
            r.findings = findings;
            r
        } else {
            let mut r = CheckResult::failed(findings);
            r.outcome = Outcome::Failed;
            r.credit = Some(credit.max(0.0));
            r
        };
        r.evidence.push(format!(
            "{} of {} error responses with a body use their document's main error model; credit {credit:.3} (mean \
             over {} document{})",
            t.good,
            t.total,
            t.doc_credits.len(),
            if t.doc_credits.len() == 1 { "" } else { "s" }
        ));
        r.evidence.extend(t.take_evidence());
        r
    }
}

/// Whether `media` is RFC 9457 (or RFC 7807) problem details.
pub fn is_problem_media(media: &str) -> bool {
    let m = media.trim().to_ascii_lowercase();
    m.starts_with("application/problem+")
}

fn is_json(media: &str) -> bool {
    let m = media.trim().to_ascii_lowercase();
    let m = m.split(';').next().unwrap_or("");
    m == "application/json" || m.ends_with("+json") || m == "*/*"
}

/// The top-level property names of a schema, through `$ref` and `allOf`.
pub fn property_names<'s>(api: &'s Api<'_>, schema: &Node<'s>, depth: usize, out: &mut BTreeSet<&'s str>) {
    if depth > 8 {
        return;
    }
    let s = api.deref(schema.clone());
    if let Some(props) = s.value.get("properties").and_then(Value::as_object) {
        out.extend(props.keys().map(String::as_str));
    }
    if let Some(all) = s.get("allOf") {
        for part in all.items() {
            property_names(api, &part, depth + 1, out);
        }
    }
}

struct Shape<'s> {
    key: String,
    label: String,
    problem: bool,
    first: Node<'s>,
    uses: Vec<String>,
}

pub fn evaluate(api: &Api<'_>, p: &Params, t: &mut Tally) {
    let mut shapes: Vec<Shape<'_>> = Vec::new();
    let mut total = 0usize;
    for op in api.operations() {
        for r in api.responses(&op) {
            let is_error = r.code == "default" || matches!(r.class(), Some('4' | '5'));
            if !is_error {
                continue;
            }
            let content = api.content(&r.node);
            let chosen = content
                .iter()
                .find(|(m, _)| is_problem_media(m))
                .or_else(|| content.iter().find(|(m, _)| is_json(m)))
                .or_else(|| content.first());
            let Some((media, body)) = chosen else { continue };
            let schema = body.get("schema");
            let (key, label) = match &schema {
                None => ("(no schema)".to_string(), "no schema".to_string()),
                Some(s) => {
                    let mut names = BTreeSet::new();
                    property_names(api, s, 0, &mut names);
                    let target = api.resolve(s).ok();
                    let name = s
                        .ref_str()
                        .map(|r| r.rsplit('/').next().unwrap_or(r).to_string())
                        .or_else(|| target.as_ref().and_then(|t| t.str("title")).map(str::to_string));
                    let props: Vec<&str> = names.iter().copied().collect();
                    let shape = if props.is_empty() {
                        match &target {
                            Some(t) if t.pointer != s.pointer || t.file != s.file => {
                                format!("{}#{}", t.file, t.pointer)
                            }
                            _ => format!("type {}", s.value.get("type").map(Value::to_string).unwrap_or_default()),
                        }
                    } else {
                        format!("{{{}}}", props.join(", "))
                    };
                    let label = match name {
                        Some(n) => format!("`{n}` {shape}"),
                        None => format!("inline {shape}"),
                    };
                    (shape, label)
                }
            };
            let problem = is_problem_media(media);
            let key = format!("{key} as {}", if problem { "problem" } else { "other" });
            total += 1;
            let use_label = format!("{} {}", op.label(), r.code);
            match shapes.iter_mut().find(|s| s.key == key) {
                Some(s) => s.uses.push(use_label),
                None => shapes.push(Shape {
                    key,
                    label: format!("{label} as `{media}`"),
                    problem,
                    first: body.clone(),
                    uses: vec![use_label],
                }),
            }
        }
    }
    if total == 0 {
        return;
    }
    // The main shape: the most used; ties go to problem details, then to the first seen.
    let Some(main) = shapes
        .iter()
        .enumerate()
        .max_by_key(|(i, s)| (s.uses.len(), s.problem, std::cmp::Reverse(*i)))
        .map(|(i, _)| i)
    else {
        return;
    };
    let consistency = shapes[main].uses.len() as f64 / total as f64;
    let factor = if shapes[main].problem {
        1.0
    } else {
        p.custom_model_credit.clamp(0.0, 1.0)
    };
    t.doc_credits.push(consistency * factor);
    t.good += shapes[main].uses.len();
    t.total += total;
    t.evidence.push(format!("main error model: {}", shapes[main].label));
    if !shapes[main].problem {
        let s = &shapes[main];
        t.issue(
            &s.first,
            None,
            format!(
                "the error model {} ({} of {total} error responses) is not RFC 9457 problem details",
                s.label,
                s.uses.len()
            ),
            "serve errors as `application/problem+json` with a Problem schema (`type`, `title`, `status`, \
             `detail`, `instance`)",
        );
    }
    for (i, s) in shapes.iter().enumerate() {
        if i == main {
            continue;
        }
        t.issue(
            &s.first,
            None,
            format!(
                "{} error response{} {} instead of the main error model {}: {}",
                s.uses.len(),
                if s.uses.len() == 1 { " uses" } else { "s use" },
                s.label,
                shapes[main].label,
                walk::list(&s.uses, 4)
            ),
            "use the same error schema and media type for every error response (shared components under \
             `components/responses`)",
        );
    }
}
