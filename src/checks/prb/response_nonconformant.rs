use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::artifact::pact::is_json_media;
use crate::artifact::schema::SchemaSet;
use crate::checks::oas::walk::{Api, Node, Operation, Response};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::probe::{LiveService, System};

use super::support::{
    at_service, get_only, operations_to_exercise, plan, ready_services, send, service_api, with_live, Seen,
    BEARER_PARAM, DEFAULT_TOKEN, TIMEOUT_PARAM,
};

pub struct ResponseNonconformant;

const DOCS: &str = r#"## What it checks
Calls every operation of each running service's OpenAPI document (by default the safe
`GET` operations; `methods` widens that) and checks each answer against the document, as
Schemathesis' response checks do (each reason ends with the name of the Schemathesis check
that finds the same problem):

- **not a server error** (`not_a_server_error`): a request the document allows gets no 5xx;
- **documented status** (`status_code_conformance`): the status (or its `2XX` range, or
  `default`) is documented;
- **content type** (`content_type_conformance`): the `Content-Type` is one the response
  documents;
- **required headers** (`response_headers_conformance`): headers the response marks
  `required` are sent;
- **body** (`response_schema_conformance`): a JSON body is valid against the response schema
  (OpenAPI 3.0: JSON Schema draft 4 with `nullable`; 3.1: 2020-12).

Operations are called under the base path of the document's `servers` URL, as every probe
calls them (`servers: [{url: /v2}]` and `/orders` call `/v2/orders`). Path parameters take
values seen in earlier answers first (an `orderId` from the list of orders), else the
document's examples, else a value made up from the schema; required query and header
parameters take the examples. Operations that require HTTP bearer authentication get
`Authorization: Bearer <token>`. Partial credit: conformant operations / operations called.
Findings point at the response in the document.

## Why it matters
An OpenAPI document is a promise to every consumer (Week 3: API design and contracts;
Week 8: contract testing). Generated clients, gateways and consumer tests trust it; a
service that answers something else breaks them in production, where the static checks of
the document cannot see it.

## How to fix
Read each finding: it names the request sent, the status and the schema keyword that failed.
Either the service is wrong (fix the handler, e.g. fill a required property, use the
documented status) or the document is (describe what the service really sends). Generating
the document from the code, or validating responses in the service's own tests, keeps the two
in step.

## Example
```yaml
paths:
  /v1/orders/{orderId}:
    get:
      responses:
        '200':
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Order'}   # required: [orderId, status]
        '404': {$ref: '#/components/responses/NotFound'}
```
A `GET /v1/orders/ord_1` that answers 200 with `{"orderId": "ord_1"}` (no `status`) fails.
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// HTTP methods of the operations to call.
    pub methods: Vec<String>,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: u64,
    /// Bearer token sent to operations that require bearer authentication.
    pub bearer_token: String,
    /// Most operations called per service.
    pub max_operations: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            methods: get_only(),
            timeout_ms: 5_000,
            bearer_token: DEFAULT_TOKEN.into(),
            max_operations: 200,
        }
    }
}

impl TypedCheck for ResponseNonconformant {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB002",
        name: "response-nonconformant",
        area: Area::Prb,
        kind: Kind::Probe,
        summary: "A running service answers a documented request with a status, content type, header or body its OpenAPI document does not describe",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "methods",
                ty: "array of strings",
                description: "HTTP methods of the operations to call (default only `get`)",
            },
            TIMEOUT_PARAM,
            BEARER_PARAM,
            ParamDoc {
                name: "max_operations",
                ty: "integer",
                description: "most operations called per service",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, params: &Params) -> CheckResult {
        with_live(ctx, |system| evaluate(ctx, params, system))
    }
}

fn evaluate(ctx: &Ctx<'_>, p: &Params, system: &System) -> CheckResult {
    let mut findings = Vec::new();
    let (mut good, mut total) = (0, 0);
    let mut evidence = Vec::new();
    let mut without_spec = Vec::new();
    for svc in ready_services(system) {
        let Some(api) = service_api(ctx, svc) else {
            without_spec.push(svc.name.clone());
            continue;
        };
        let (g, t, mut f, notes) = probe_service(ctx, p, system, svc, &api);
        good += g;
        total += t;
        findings.append(&mut f);
        evidence.push(format!("{}: {g} of {t} operations conformant", svc.name));
        evidence.extend(notes);
    }
    if !without_spec.is_empty() {
        evidence.push(format!(
            "not called (no readable OpenAPI document): {}",
            without_spec.join(", ")
        ));
    }
    if total == 0 {
        return CheckResult::absent("no running service has an OpenAPI document with an operation to call");
    }
    CheckResult::ratio(good, total, findings).with_evidence_lines(evidence)
}

/// (conformant, called, findings, notes) for one service.
fn probe_service(
    ctx: &Ctx<'_>,
    p: &Params,
    system: &System,
    svc: &LiveService,
    api: &Api<'_>,
) -> (usize, usize, Vec<Finding>, Vec<String>) {
    let schemas = SchemaSet::for_openapi(api.rel, api.spec, api.external).with_max_ref_hops(api.max_ref_hops());
    let mut seen = Seen::default();
    let (mut good, mut total) = (0, 0);
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let timeout = Duration::from_millis(p.timeout_ms.clamp(1, 120_000));
    for op in operations_to_exercise(api, &p.methods)
        .into_iter()
        .take(p.max_operations)
    {
        let req = match plan(api, &op, &seen, &p.bearer_token) {
            Ok(r) => r,
            Err(why) => {
                notes.push(format!("{}: {} not called: {why}", svc.name, op.label()));
                continue;
            }
        };
        total += 1;
        let sent = format!("`{} {}` to `{}`", req.method, req.target, svc.name);
        let answer = match send(system, svc, &req, None, timeout) {
            Ok(a) => a,
            Err(e) => {
                findings.push(
                    at_service(ctx, svc, format!("{sent} ({}) got no answer: {e}", op.label()))
                        .help("the service must answer every documented request; read its log"),
                );
                continue;
            }
        };
        if let Ok(v) = serde_json::from_slice::<Value>(&answer.body) {
            seen.learn(&v);
        }
        let problems = judge(api, &schemas, &op, &answer);
        if problems.is_empty() {
            good += 1;
            continue;
        }
        let (node, help) = match &problems[0].0 {
            Some(n) => (n.clone(), problems[0].2),
            None => (op.op.clone(), problems[0].2),
        };
        let reasons: Vec<String> = problems.iter().map(|(_, m, _)| m.clone()).collect();
        let via = if req.notes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", req.notes.join(", "))
        };
        findings.push(
            ctx.document_finding(
                node.file,
                node.doc,
                &node.pointer,
                format!(
                    "{sent} ({}) answered {}{via}: {}",
                    op.label(),
                    answer.status,
                    reasons.join("; ")
                ),
            )
            .help(help),
        );
    }
    (good, total, findings, notes)
}

/// What is wrong with an answer: (where in the document, message, help).
type Problem<'s> = (Option<Node<'s>>, String, &'static str);

fn judge<'s>(
    api: &'s Api<'_>,
    schemas: &SchemaSet<'_>,
    op: &Operation<'s>,
    answer: &crate::probe::http::HttpResponse,
) -> Vec<Problem<'s>> {
    let mut out: Vec<Problem<'s>> = Vec::new();
    let status = answer.status;
    if status >= 500 {
        out.push((
            None,
            "a server error for a request the document allows (`not_a_server_error`)".into(),
            "a valid request must never make the service fail: read the service's log for the error",
        ));
    }
    let responses = api.responses(op);
    let Some(resp) = documented(&responses, status) else {
        let codes: Vec<&str> = responses.iter().map(|r| r.code).collect();
        out.push((
            op.op.get("responses"),
            format!(
                "status {status} is not documented (documented: {}) (`status_code_conformance`)",
                if codes.is_empty() {
                    "none".into()
                } else {
                    codes.join(", ")
                }
            ),
            "document every status the operation can answer, or answer a documented one",
        ));
        return out;
    };
    // Required headers.
    if let Some(headers) = resp.node.get("headers") {
        for (name, h) in headers.entries() {
            let h = api.deref(h);
            if h.flag("required") && answer.header(name).is_none() {
                out.push((
                    Some(h.clone()),
                    format!("the required response header `{name}` is missing (`response_headers_conformance`)"),
                    "send the header the response documents as required, or stop marking it required",
                ));
            }
        }
    }
    let content = api.content(&resp.node);
    if content.is_empty() || answer.body.is_empty() {
        if !content.is_empty() && status != 204 && status != 304 {
            out.push((
                Some(resp.node.clone()),
                format!("the body is empty, but response {} documents content", resp.code),
                "send the documented body",
            ));
        }
        return out;
    }
    let ct = answer.header("content-type").unwrap_or("");
    let norm = |m: &str| m.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let got = norm(ct);
    let chosen = content.iter().find(|(m, _)| norm(m) == got).or_else(|| {
        let major = got.split('/').next().unwrap_or("").to_string();
        content.iter().find(|(m, _)| {
            let n = norm(m);
            n == "*/*" || n == format!("{major}/*")
        })
    });
    let Some((media, media_node)) = chosen else {
        let documented: Vec<&str> = content.iter().map(|(m, _)| *m).collect();
        out.push((
            resp.node.get("content"),
            format!(
                "Content-Type `{}` is not documented for response {} (documented: {}) (`content_type_conformance`)",
                if ct.is_empty() { "(none)" } else { ct },
                resp.code,
                documented.join(", ")
            ),
            "send the documented media type in Content-Type, or document the one the service sends",
        ));
        return out;
    };
    if !is_json_media(media) || media_node.get("schema").is_none() {
        return out;
    }
    let body: Value = match serde_json::from_slice(&answer.body) {
        Ok(v) => v,
        Err(e) => {
            out.push((
                Some(media_node.clone()),
                format!("the `{media}` body is not JSON: {e} (`response_schema_conformance`)"),
                "send the body the media type promises",
            ));
            return out;
        }
    };
    let pointer = format!("{}/schema", media_node.pointer);
    match schemas.validate(media_node.file, &pointer, &body) {
        Ok(violations) => {
            let n = violations.len();
            for v in violations.into_iter().take(3) {
                let place = if v.instance_pointer.is_empty() {
                    "the body".to_string()
                } else {
                    format!("body `{}`", v.instance_pointer)
                };
                let at = v
                    .schema
                    .as_ref()
                    .and_then(|l| api.node(&l.pointer).filter(|n| n.file == l.file))
                    .or_else(|| media_node.get("schema"));
                out.push((
                    at,
                    format!("{place}: {} (`response_schema_conformance`)", v.message),
                    "make the service send what the schema describes, or correct the schema",
                ));
            }
            if n > 3 {
                out.push((None, format!("and {} more schema violations", n - 3), ""));
            }
        }
        Err(e) => out.push((
            media_node.get("schema"),
            format!("the response schema cannot be used: {e}"),
            "fix the schema (see OAS002 unresolved-ref)",
        )),
    }
    out
}

/// The documented response for `status`: the exact code, then its range (`4XX`), then `default`.
fn documented<'a, 's>(responses: &'a [Response<'s>], status: u16) -> Option<&'a Response<'s>> {
    let code = status.to_string();
    let range = format!("{}XX", status / 100);
    responses
        .iter()
        .find(|r| r.code == code)
        .or_else(|| responses.iter().find(|r| r.code.eq_ignore_ascii_case(&range)))
        .or_else(|| responses.iter().find(|r| r.code == "default"))
}
