use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::artifact::pact::is_json_media;
use crate::checks::oas::walk::{Api, Operation};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::probe::{LiveService, System};

use super::support::{
    encode, operations_to_exercise, plan, ready_services, send, service_api, with_live, Planned, Seen, BEARER_PARAM,
    DEFAULT_TOKEN, TIMEOUT_PARAM,
};

pub struct InvalidInputMishandled;

const DOCS: &str = r#"## What it checks
Sends requests that break the OpenAPI document on purpose and expects a 4xx answer (as
Schemathesis' `negative_data_rejection` check does, with `not_a_server_error` for a 5xx; each
reason ends with the name of the check): for each operation,

- a query parameter with a value its schema forbids (a word for an integer, a value outside
  the `enum`, below `minimum` or above `maximum`, too long for `maxLength`);
- for operations with a JSON request body: a body of the wrong type (`[]` for an object),
  an object missing its required properties, and a body that is not JSON at all.

A 5xx means invalid input crashed the service; a 2xx means it accepted data its own contract
forbids. Both are findings. A broken query parameter is sent only where the valid request
succeeds, and any 4xx then passes; a broken body passes with 400, 409, 413, 415 or 422 (a 401,
404 or 405 means the request never reached validation: not counted). Partial credit: invalid
requests rejected / invalid requests judged. Requests go under the base path of the
document's `servers` URL, as every probe calls the documented operations; path parameters take
values seen in earlier answers or the document's examples.

## Why it matters
Every service boundary is an attack surface and a source of bad data (Week 3: API design,
validation and error models; Week 11: security). A service that crashes on malformed input
can be knocked over by one bad client; one that stores what it should reject corrupts data
that other services then consume.

## How to fix
Validate every request at the boundary against the same schema the document publishes (a
validation middleware generated from the OpenAPI document, or your framework's model
validation) and answer 400 or 422 with a problem+json body that names the invalid field.
Catch parse errors of the body and answer 400, never let them surface as 500.

## Example
```yaml
parameters:
  - name: limit
    in: query
    schema: {type: integer, minimum: 1, maximum: 100}
```
`GET /v1/orders?limit=abc` and `?limit=101` must get a 400, not a 500 or a 200.
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// HTTP methods of the operations to send invalid requests to.
    pub methods: Vec<String>,
    /// Whether a 2xx answer to an invalid request is a failure (else only 5xx is).
    pub reject_2xx: bool,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: u64,
    /// Bearer token sent to operations that require bearer authentication.
    pub bearer_token: String,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            methods: vec!["get".into(), "post".into(), "put".into(), "patch".into()],
            reject_2xx: true,
            timeout_ms: 5_000,
            bearer_token: DEFAULT_TOKEN.into(),
        }
    }
}

impl TypedCheck for InvalidInputMishandled {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB003",
        name: "invalid-input-mishandled",
        area: Area::Prb,
        kind: Kind::Probe,
        summary: "A running service answers a request that breaks its OpenAPI document with a 5xx (or accepts it with a 2xx) instead of a 4xx",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "methods",
                ty: "array of strings",
                description: "HTTP methods of the operations to send invalid requests to",
            },
            ParamDoc {
                name: "reject_2xx",
                ty: "boolean",
                description: "whether accepting an invalid request with a 2xx is a failure (else only 5xx is)",
            },
            TIMEOUT_PARAM,
            BEARER_PARAM,
        ],
    };

    fn run(ctx: &Ctx<'_>, params: &Params) -> CheckResult {
        with_live(ctx, |system| evaluate(ctx, params, system))
    }
}

/// Statuses that reject a request for its content.
const REJECTS_INPUT: [u16; 5] = [400, 409, 413, 415, 422];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaseKind {
    Query,
    Body,
}

/// One invalid request derived from a valid one.
struct Case {
    kind: CaseKind,
    what: String,
    request: Planned,
    body: Option<Vec<u8>>,
}

fn evaluate(ctx: &Ctx<'_>, p: &Params, system: &System) -> CheckResult {
    let mut findings = Vec::new();
    let mut evidence = Vec::new();
    let (mut good, mut total) = (0, 0);
    for svc in ready_services(system) {
        let Some(api) = service_api(ctx, svc) else { continue };
        let (g, t, mut f) = probe_service(ctx, p, system, svc, &api);
        if t > 0 {
            evidence.push(format!("{}: {g} of {t} invalid requests answered 4xx", svc.name));
        }
        good += g;
        total += t;
        findings.append(&mut f);
    }
    if total == 0 {
        return CheckResult::not_applicable(
            "no running service documents a constrained query parameter or a JSON request body to break",
        );
    }
    CheckResult::ratio(good, total, findings).with_evidence_lines(evidence)
}

fn probe_service(
    ctx: &Ctx<'_>,
    p: &Params,
    system: &System,
    svc: &LiveService,
    api: &Api<'_>,
) -> (usize, usize, Vec<Finding>) {
    let timeout = Duration::from_millis(p.timeout_ms.clamp(1, 120_000));
    let mut seen = Seen::default();
    // Learn ids from the safe operations first, as the conformance probe does.
    for op in operations_to_exercise(api, &["get".to_string()]).into_iter().take(50) {
        if op.path.contains('{') {
            continue;
        }
        if let Ok(req) = plan(api, &op, &seen, &p.bearer_token) {
            if let Ok(a) = send(system, svc, &req, None, timeout) {
                if let Ok(v) = serde_json::from_slice::<Value>(&a.body) {
                    seen.learn(&v);
                }
            }
        }
    }
    let (mut good, mut total) = (0, 0);
    let mut findings = Vec::new();
    for op in operations_to_exercise(api, &p.methods).into_iter().take(200) {
        let Ok(base) = plan(api, &op, &seen, &p.bearer_token) else {
            continue;
        };
        let cases = cases(api, &op, &base);
        // A broken query parameter is only judged where the valid request succeeds (else a 4xx
        // says nothing about the parameter); it is sent on safe operations only.
        let query_judged = cases.iter().any(|c| c.kind == CaseKind::Query)
            && matches!(send(system, svc, &base, None, timeout), Ok(a) if a.is_success());
        let mut bad = Vec::new();
        for case in cases {
            if case.kind == CaseKind::Query && !query_judged {
                continue;
            }
            let sent = format!("`{} {}` ({})", case.request.method, case.request.target, case.what);
            match send(system, svc, &case.request, case.body.as_deref(), timeout) {
                // A bad body is judged only by a rejection that is about the input; a 401, 404
                // or 405 means the request never reached validation.
                Ok(a) if case.kind == CaseKind::Body && (400..500).contains(&a.status) => {
                    if REJECTS_INPUT.contains(&a.status) {
                        total += 1;
                        good += 1;
                    }
                }
                Ok(a) if (400..500).contains(&a.status) => {
                    total += 1;
                    good += 1;
                }
                Ok(a) if a.status >= 500 => {
                    total += 1;
                    bad.push(format!("{sent} answered {} (`not_a_server_error`)", a.status))
                }
                Ok(a) if p.reject_2xx && (200..300).contains(&a.status) => {
                    total += 1;
                    bad.push(format!(
                        "{sent} was accepted with {} (`negative_data_rejection`)",
                        a.status
                    ))
                }
                Ok(_) => {
                    total += 1;
                    good += 1;
                }
                Err(e) => {
                    total += 1;
                    bad.push(format!("{sent} got no answer: {e}"))
                }
            }
        }
        if !bad.is_empty() {
            findings.push(
                ctx.document_finding(
                    op.op.file,
                    op.op.doc,
                    &op.op.pointer,
                    format!(
                        "`{}` ({}) mishandles invalid input: {}",
                        svc.name,
                        op.label(),
                        bad.join("; ")
                    ),
                )
                .help(
                    "validate requests against the documented schemas at the boundary and answer 400 (or 422) \
                     with a problem+json body naming the invalid field; never 5xx, never accept it",
                ),
            );
        }
    }
    (good, total, findings)
}

/// The invalid variants of a valid request for `op`.
fn cases(api: &Api<'_>, op: &Operation<'_>, base: &Planned) -> Vec<Case> {
    let mut out = Vec::new();
    // One query parameter with a forbidden value (the first constrained one), on safe
    // operations (an unsafe one would need a valid body too).
    let safe = matches!(op.method, "get" | "head");
    for param in api.parameters(op).into_iter().filter(|_| safe) {
        if param.location != "query" {
            continue;
        }
        let Some(schema) = param.node.get("schema").map(|s| api.deref(s)) else {
            continue;
        };
        let Some((value, why)) = forbidden_value(schema.value) else {
            continue;
        };
        let mut request = base.clone();
        let pair = format!("{}={}", encode(param.name), encode(&value));
        let (path, query) = match request.target.split_once('?') {
            Some((p, q)) => {
                let kept: Vec<&str> = q
                    .split('&')
                    .filter(|kv| kv.split('=').next() != Some(&encode(param.name)))
                    .collect();
                (p.to_string(), kept)
            }
            None => (request.target.clone(), Vec::new()),
        };
        let mut query: Vec<String> = query.into_iter().map(str::to_string).collect();
        query.push(pair);
        request.target = format!("{path}?{}", query.join("&"));
        out.push(Case {
            kind: CaseKind::Query,
            what: format!("`{}` {why}", param.name),
            request,
            body: None,
        });
        break;
    }
    // JSON request bodies.
    if let Some(rb) = api.request_body(op) {
        let json = api
            .content(&rb)
            .into_iter()
            .find(|(m, n)| is_json_media(m) && n.get("schema").is_some());
        if let Some((media, media_node)) = json {
            let schema = media_node.get("schema").map(|s| api.deref(s));
            let with_type = |body: &[u8], what: &str| {
                let mut request = base.clone();
                request.headers.push(("Content-Type".into(), media.to_string()));
                Case {
                    kind: CaseKind::Body,
                    what: what.to_string(),
                    request,
                    body: Some(body.to_vec()),
                }
            };
            out.push(with_type(b"{\"unterminated", "a body that is not JSON"));
            let ty = schema
                .as_ref()
                .and_then(|s| s.value.get("type"))
                .and_then(Value::as_str);
            if ty == Some("object") {
                out.push(with_type(b"[]", "an array where the schema wants an object"));
                let required = schema
                    .as_ref()
                    .and_then(|s| s.value.get("required"))
                    .and_then(Value::as_array)
                    .is_some_and(|r| !r.is_empty());
                if required {
                    out.push(with_type(b"{}", "an object without its required properties"));
                }
            } else if ty == Some("array") {
                out.push(with_type(b"{}", "an object where the schema wants an array"));
            }
        }
    }
    out
}

/// A value the schema forbids, and how it breaks it.
fn forbidden_value(schema: &Value) -> Option<(String, String)> {
    let ty = schema.get("type").and_then(Value::as_str);
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let mut candidate = "not-a-listed-value".to_string();
        while values.iter().any(|v| v.as_str() == Some(candidate.as_str())) {
            candidate.push('x');
        }
        return Some((candidate, "outside its enum".into()));
    }
    match ty {
        Some("integer") | Some("number") => {
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
                return Some((format_number(max + 1000.0, ty), "above its maximum".into()));
            }
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
                return Some((format_number(min - 1000.0, ty), "below its minimum".into()));
            }
            Some(("not-a-number".into(), format!("not an {}", ty.unwrap_or("integer"))))
        }
        Some("boolean") => Some(("not-a-boolean".into(), "not a boolean".into())),
        Some("string") => {
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64).filter(|m| *m < 10_000) {
                return Some(("x".repeat(max as usize + 1), "longer than its maxLength".into()));
            }
            if schema.get("format").and_then(Value::as_str) == Some("uuid") {
                return Some(("not-a-uuid".into(), "not a uuid".into()));
            }
            None
        }
        _ => None,
    }
}

fn format_number(v: f64, ty: Option<&str>) -> String {
    if ty == Some("integer") {
        format!("{}", v.round() as i64)
    } else {
        format!("{v}")
    }
}
