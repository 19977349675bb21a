use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::artifact::pact::is_json_media;
use crate::checks::oas::walk::{Api, Operation};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::probe::{LiveService, System};

use super::bodies;
use super::support::{
    documented, encode, operations_to_exercise, plan, ready_services, send, service_api, stateful_order,
    unsafe_not_sent, with_live, Planned, Refusals, Seen, BEARER_PARAM, DEFAULT_TOKEN, TIMEOUT_PARAM,
};

pub struct InvalidInputMishandled;

const DOCS: &str = r#"## What it checks
Sends requests that break the OpenAPI document on purpose and expects a 4xx answer (as
Schemathesis' `negative_data_rejection` check does, with `not_a_server_error` for a 5xx; each
reason ends with the name of the check): for each operation,

- a query parameter with a value its schema forbids (a word for an integer, a value outside
  the `enum`, below `minimum` or above `maximum`, too long for `maxLength`);
- for operations with a JSON request body, one invalid body per mutation class, each made
  from a valid body (the document's example, else one built from the schema) by breaking one
  thing: a number out of range, a string over `maxLength`, a value outside the `enum`, a
  required property left out, a wrong type (a property, or `[]` for an object), an extra
  property where `additionalProperties: false`, bytes that are not JSON, and the valid body
  sent as `text/plain` (a wrong content type).

POST, PUT, PATCH and DELETE go to services the grader started; a `--target` service only
gets GET unless `--allow-unsafe-methods` is given.

A 5xx means invalid input crashed the service; a 2xx means it accepted data its own contract
forbids. Both are findings. A broken query parameter is sent only where the valid request
succeeds, and any 4xx then passes; a broken body passes with 400, 409, 413, 415 or 422 (a 401
or 403 for want of credentials, a 404 or a 405 means the request never reached validation: not
counted). When nothing could be judged the item is not applicable, and the reason says what
happened (every request refused with 401 Unauthorized, the valid request failing, nothing
documented to break). Partial credit: invalid requests rejected / invalid requests judged.
Requests go under the base path of the document's `servers` URL, as every probe calls the
documented operations. Path parameters take ids learned as the conformance probe learns them:
first each creation (a POST on a path without parameters, when POST is among `methods` and may
be sent) gets one valid body, and the `Location` and body of its answer give ids; then the GET
operations without path parameters are called. So a broken body for `PUT /items/{id}` goes to
an item that exists and reaches validation, instead of a 404; the evidence says how many
resources were created that way. Without a known id, the document's examples or a made-up value
are used.

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
    /// A 2xx is leniency, not a fault (a valid body under another media type): only a 5xx
    /// counts against the service.
    lenient_2xx: bool,
}

fn evaluate(ctx: &Ctx<'_>, p: &Params, system: &System) -> CheckResult {
    let mut findings = Vec::new();
    let mut evidence = Vec::new();
    let (mut good, mut total) = (0, 0);
    let mut all = Probed::default();
    let mut refusing = Vec::new();
    let mut without_spec = Vec::new();
    let mut with_spec = 0;
    for svc in ready_services(system) {
        let Some(api) = service_api(ctx, svc) else {
            without_spec.push(format!("`{}`", svc.name));
            continue;
        };
        with_spec += 1;
        let mut probed = probe_service(ctx, p, system, svc, &api);
        evidence.push(probed.line(&svc.name));
        good += probed.good;
        total += probed.judged;
        findings.append(&mut probed.findings);
        if !probed.refused.is_empty() {
            refusing.push(format!("`{}`", svc.name));
        }
        all.add(probed, &svc.name);
    }
    if !without_spec.is_empty() {
        evidence.push(format!(
            "no invalid request sent (no readable OpenAPI document): {}",
            without_spec.join(", ")
        ));
    }
    if total > 0 {
        return CheckResult::ratio(good, total, findings).with_evidence_lines(evidence);
    }
    let why = if with_spec == 0 {
        format!(
            "no running service has a readable OpenAPI document ({}) to build invalid requests from",
            without_spec.join(", ")
        )
    } else {
        all.why_none_judged(&refusing)
    };
    CheckResult::not_applicable(why).with_evidence_lines(evidence)
}

/// What the probe did with the operations of one service (or, added up, of all).
#[derive(Default)]
struct Probed {
    /// Invalid requests judged, and of those the ones answered as they should be.
    judged: usize,
    good: usize,
    /// Requests refused for want of credentials (an invalid body, or the valid request a
    /// broken query parameter needs): not judged.
    refused: Refusals,
    /// Operations whose broken query parameter was not judged because the valid request did
    /// not succeed, with what it got (`GET /v1/items answered 404`).
    valid_failed: Vec<String>,
    /// Broken bodies answered with a 4xx that is not about the input (404, 405...): by status.
    unreached: BTreeMap<u16, usize>,
    /// Operations that could not be called, and why.
    not_called: Vec<String>,
    /// Valid bodies under another media type that were accepted: lenient, not judged.
    lenient: usize,
    /// Resources created with a valid body first, for the ids of item paths.
    created: usize,
    findings: Vec<Finding>,
}

impl Probed {
    /// What was not judged, in the learner's terms (empty when everything sent was judged).
    fn not_judged(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.refused.is_empty() {
            out.push(format!(
                "{} {} {}, so their input was never checked: {}",
                self.refused.count(),
                if self.refused.count() == 1 {
                    "request was"
                } else {
                    "requests were"
                },
                self.refused.refused_with(),
                self.refused.why()
            ));
        }
        if !self.valid_failed.is_empty() {
            out.push(format!(
                "the valid request did not succeed, so no broken query parameter was judged ({})",
                self.valid_failed.join(", ")
            ));
        }
        if !self.unreached.is_empty() {
            let statuses: Vec<String> = self.unreached.keys().map(u16::to_string).collect();
            let n: usize = self.unreached.values().sum();
            out.push(format!(
                "{n} broken {} answered {} (a status that does not reject the input: the request never reached \
                 validation)",
                if n == 1 { "body was" } else { "bodies were" },
                statuses.join(" or ")
            ));
        }
        if !self.not_called.is_empty() {
            out.push(format!("not called: {}", self.not_called.join("; ")));
        }
        if self.lenient > 0 {
            out.push(format!(
                "{} valid {} sent as `text/plain` {} accepted (lenient about the media type, which breaks no data)",
                self.lenient,
                if self.lenient == 1 { "body" } else { "bodies" },
                if self.lenient == 1 { "was" } else { "were" }
            ));
        }
        out
    }

    /// The evidence line of service `name`; with nothing judged it says why instead of "0 of 0".
    fn line(&self, name: &str) -> String {
        let not_judged = self.not_judged();
        if self.judged > 0 {
            let mut line = format!("{name}: {} of {} invalid requests answered 4xx", self.good, self.judged);
            if self.created > 0 {
                line.push_str(&format!(
                    " (item paths took the ids of {} {} created with a valid body first)",
                    self.created,
                    if self.created == 1 { "resource" } else { "resources" }
                ));
            }
            for n in not_judged {
                line.push_str(&format!("; not judged: {n}"));
            }
            return line;
        }
        if not_judged.is_empty() {
            return format!("{name}: nothing to break: {NOTHING_TO_BREAK}");
        }
        format!("{name}: no invalid request judged: {}", not_judged.join("; "))
    }

    /// Adds what the probe did with service `name`.
    fn add(&mut self, other: Probed, name: &str) {
        self.judged += other.judged;
        self.good += other.good;
        self.refused.add(&other.refused);
        let named = |v: Vec<String>| v.into_iter().map(move |x| format!("`{name}` {x}"));
        self.valid_failed.extend(named(other.valid_failed));
        self.not_called.extend(named(other.not_called));
        for (s, n) in other.unreached {
            *self.unreached.entry(s).or_default() += n;
        }
    }

    /// Why nothing was judged over all services (`refusing`: the services that refused).
    fn why_none_judged(&self, refusing: &[String]) -> String {
        let not_judged = self.not_judged();
        if not_judged.is_empty() {
            return format!("no running service has an operation to break: {NOTHING_TO_BREAK}");
        }
        if not_judged.len() == 1 && !self.refused.is_empty() {
            return format!(
                "every request was {} ({}), so no invalid input reached validation: {}",
                self.refused.refused_with(),
                refusing.join(", "),
                self.refused.why()
            );
        }
        format!("no invalid request could be judged: {}", not_judged.join("; "))
    }
}

/// Why a service gets no invalid request.
const NOTHING_TO_BREAK: &str =
    "no operation documents a constrained query parameter or a JSON request body (with the methods probed)";

fn probe_service(ctx: &Ctx<'_>, p: &Params, system: &System, svc: &LiveService, api: &Api<'_>) -> Probed {
    let timeout = Duration::from_millis(p.timeout_ms.clamp(1, 120_000));
    let mut out = Probed::default();
    let seen = learn_ids(p, system, svc, api, timeout, &mut out);
    for op in operations_to_exercise(api, &p.methods).into_iter().take(200) {
        if !system.may_send(svc, op.method) {
            out.not_called.push(format!("{}: {}", op.label(), unsafe_not_sent(svc)));
            continue;
        }
        let base = match plan(api, &op, &seen, &p.bearer_token) {
            Ok(b) => b,
            Err(why) => {
                out.not_called.push(format!("{}: {why}", op.label()));
                continue;
            }
        };
        let cases = cases(api, &op, &base);
        // A broken query parameter is only judged where the valid request succeeds (else a 4xx
        // says nothing about the parameter); it is sent on safe operations only.
        let mut query_judged = false;
        if cases.iter().any(|c| c.kind == CaseKind::Query) {
            match send(system, svc, &base, None, timeout) {
                Ok(a) if a.is_success() => query_judged = true,
                Ok(a) if out.refused.note(a.status, &base) => {}
                Ok(a) => out.valid_failed.push(format!("{} answered {}", op.label(), a.status)),
                Err(e) => out.valid_failed.push(format!("{} got no answer: {e}", op.label())),
            }
        }
        let mut bad = Vec::new();
        // A status the operation does not document is a second fault of the same answer.
        let responses = api.responses(&op);
        let undocumented = |status: u16| {
            if documented(&responses, status).is_some() {
                String::new()
            } else {
                ", a status the operation does not document (`status_code_conformance`)".to_string()
            }
        };
        for case in cases {
            if case.kind == CaseKind::Query && !query_judged {
                continue;
            }
            let sent = format!("`{} {}` ({})", case.request.method, case.request.target, case.what);
            match send(system, svc, &case.request, case.body.as_deref(), timeout) {
                // A bad body is judged only by a rejection that is about the input; a 401 or 403
                // (no credentials), 404 or 405 means the request never reached validation.
                Ok(a) if case.kind == CaseKind::Body && (400..500).contains(&a.status) => {
                    if REJECTS_INPUT.contains(&a.status) {
                        out.judged += 1;
                        out.good += 1;
                    } else if !out.refused.note(a.status, &case.request) {
                        *out.unreached.entry(a.status).or_default() += 1;
                    }
                }
                Ok(a) if (400..500).contains(&a.status) => {
                    out.judged += 1;
                    out.good += 1;
                }
                Ok(a) if a.status >= 500 => {
                    out.judged += 1;
                    bad.push(format!(
                        "{sent} answered {} (`not_a_server_error`){}",
                        a.status,
                        undocumented(a.status)
                    ))
                }
                Ok(a) if case.lenient_2xx && (200..300).contains(&a.status) => out.lenient += 1,
                Ok(a) if p.reject_2xx && (200..300).contains(&a.status) => {
                    out.judged += 1;
                    bad.push(format!(
                        "{sent} was accepted with {} (`negative_data_rejection`){}",
                        a.status,
                        undocumented(a.status)
                    ))
                }
                Ok(_) => {
                    out.judged += 1;
                    out.good += 1;
                }
                Err(e) => {
                    out.judged += 1;
                    bad.push(format!("{sent} got no answer: {e}"))
                }
            }
        }
        if !bad.is_empty() {
            out.findings.push(
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
    out
}

/// Ids for the path parameters of the invalid requests, learned as the conformance probe
/// learns them: a valid body sent to each creation (a POST on a path without parameters, when
/// POST is among `methods` and may be sent) gives the id in its answer's `Location` and body,
/// then the answers of the GET operations without path parameters. Counts the creations that
/// succeeded in `out`.
fn learn_ids(
    p: &Params,
    system: &System,
    svc: &LiveService,
    api: &Api<'_>,
    timeout: Duration,
    out: &mut Probed,
) -> Seen {
    let mut seen = Seen::default();
    let post = p.methods.iter().any(|m| m.eq_ignore_ascii_case("post")) && system.may_send(svc, "post");
    let mut methods = vec!["get".to_string()];
    if post {
        methods.push("post".into());
    }
    let ops = stateful_order(operations_to_exercise(api, &methods));
    for (n, op) in ops.into_iter().filter(|op| !op.path.contains('{')).take(50).enumerate() {
        let Ok(mut req) = plan(api, &op, &seen, &p.bearer_token) else {
            continue;
        };
        let mut body = None;
        if op.method == "post" {
            let json = api.request_body(&op).and_then(|rb| {
                api.content(&rb)
                    .into_iter()
                    .find(|(m, n)| is_json_media(m) && n.get("schema").is_some())
            });
            let Some((media, node)) = json else { continue };
            let Some(valid) = bodies::valid(&bodies::inline(api, &node), 1).into_iter().next() else {
                continue;
            };
            req.fresh_idempotency_key(10_000 + n);
            req.headers.push(("Content-Type".into(), media.to_string()));
            body = Some(valid.value.to_string().into_bytes());
        }
        let Ok(a) = send(system, svc, &req, body.as_deref(), timeout) else {
            continue;
        };
        if let Ok(v) = serde_json::from_slice::<Value>(&a.body) {
            seen.learn(&v);
        }
        if op.method == "post" && a.is_success() {
            out.created += 1;
            if let Some(location) = a.header("location") {
                seen.learn_location(op.path, &req.target, location);
            }
        }
    }
    seen
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
            lenient_2xx: false,
        });
        break;
    }
    // JSON request bodies: one invalid body per mutation class, derived from a valid one.
    if let Some(rb) = api.request_body(op) {
        let json = api
            .content(&rb)
            .into_iter()
            .find(|(m, n)| is_json_media(m) && n.get("schema").is_some());
        if let Some((media, media_node)) = json {
            let inlined = bodies::inline(api, &media_node);
            let schema = inlined.get("schema").cloned().unwrap_or(Value::Null);
            let valid = bodies::valid(&inlined, 1)
                .into_iter()
                .next()
                .map_or(Value::Object(Default::default()), |v| v.value);
            for (i, bad) in bodies::invalid(&schema, &valid, media).into_iter().enumerate() {
                let mut request = base.clone();
                request.fresh_idempotency_key(i);
                request.headers.push(("Content-Type".into(), bad.content_type.clone()));
                out.push(Case {
                    kind: CaseKind::Body,
                    what: bad.what,
                    request,
                    body: Some(bad.body),
                    lenient_2xx: bad.mutation == bodies::Mutation::WrongContentType,
                });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Planned {
        Planned {
            method: "POST".into(),
            target: "/v1/orders".into(),
            headers: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Nothing judged: the line and the reason say what happened, never "0 of 0", and never
    /// "nothing to break" when something was sent.
    #[test]
    fn what_was_not_judged_is_said_as_it_happened() {
        let empty = Probed::default();
        assert_eq!(
            empty.line("orders"),
            format!("orders: nothing to break: {NOTHING_TO_BREAK}")
        );
        assert_eq!(
            empty.why_none_judged(&[]),
            format!("no running service has an operation to break: {NOTHING_TO_BREAK}")
        );

        // Every bad body refused with 401: the reason says so, not "nothing to break".
        let mut refused = Probed::default();
        for _ in 0..3 {
            refused.refused.note(401, &request());
        }
        let line = refused.line("orders");
        assert!(
            line.starts_with("orders: no invalid request judged: 3 requests were refused with 401 Unauthorized, so their input was never checked: the service needs credentials the probes do not have: the probes sent none"),
            "{line}"
        );
        let mut all = Probed::default();
        all.add(refused, "orders");
        let why = all.why_none_judged(&["`orders`".to_string()]);
        assert!(
            why.starts_with("every request was refused with 401 Unauthorized (`orders`), so no invalid input reached validation: the service needs credentials the probes do not have"),
            "{why}"
        );
        assert!(!why.contains("nothing to break") && !why.contains("documents"), "{why}");

        // Refusals next to other causes: each one named.
        let mut mixed = Probed::default();
        mixed.refused.note(403, &request());
        mixed.valid_failed.push("GET /v1/orders answered 404".into());
        mixed.unreached.insert(405, 2);
        mixed
            .not_called
            .push("GET /v1/orders/{id}: no value for the required path parameter `id`".into());
        let mut all = Probed::default();
        all.add(mixed, "orders");
        let why = all.why_none_judged(&["`orders`".to_string()]);
        for part in [
            "no invalid request could be judged: 1 request was refused with 403 Forbidden",
            "the valid request did not succeed, so no broken query parameter was judged (`orders` GET /v1/orders answered 404)",
            "2 broken bodies were answered 405",
            "not called: `orders` GET /v1/orders/{id}: no value",
        ] {
            assert!(why.contains(part), "`{part}` in {why}");
        }

        // Something judged: the count, then what was not judged.
        let mut some = Probed {
            judged: 2,
            good: 2,
            ..Probed::default()
        };
        some.unreached.insert(404, 1);
        assert_eq!(
            some.line("orders"),
            "orders: 2 of 2 invalid requests answered 4xx; not judged: 1 broken body was answered 404 (a status \
             that does not reject the input: the request never reached validation)"
        );
        for line in [empty.line("a"), all.line("a"), some.line("a")] {
            assert!(!line.contains("0 of 0"), "{line}");
        }
    }
}
