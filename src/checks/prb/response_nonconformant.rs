use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::artifact::pact::is_json_media;
use crate::artifact::schema::SchemaSet;
use crate::checks::oas::walk::{Api, Node, Operation};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::probe::{LiveService, System};

use super::bodies;
use super::support::{
    all_methods, at_service, documented, link_calls, operations_to_exercise, plan_with, ready_services,
    requires_credentials, send, service_api, stateful_order, unsafe_not_sent, value_sets, with_live, Chosen, Exchange,
    LinkCall, Planned, Refusals, Seen, Sent, BEARER_PARAM, DEFAULT_TOKEN, TIMEOUT_PARAM,
};

pub struct ResponseNonconformant;

const DOCS: &str = r#"## What it checks
Calls every operation of each running service's OpenAPI document and checks each answer
against the document, as
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

Services the grader started get every documented method, in the order a client uses a
resource: creations (POST) first, then reads, updates, and deletions last. A `--target`
service (it may hold real data) only gets GET unless `--allow-unsafe-methods` is given.
Operations with a JSON request body get up to `bodies_per_operation` valid bodies: the
document's examples, then one built from the schema (formats, bounds, lengths, enums and
patterns respected, `readOnly` properties left out), then boundary values (a property at its
`minimum`, `maximum` or `maxLength`, the other `enum` values); the operation is conformant when
every answer is. An `Idempotency-Key` is fresh for every request, and `Accept` lists the media
types the operation's responses document (those of its 2xx responses first, the others at
`q=0.5`). At most `max_requests` requests per service; the evidence says how many documented
operations were called and why each other one was not (credentials, no value for a parameter,
no body that could be made, the budget).

Operations are called under the base path of the document's `servers` URL, as every probe
calls them (`servers: [{url: /v2}]` and `/orders` call `/v2/orders`). Path parameters take, in
this order:

- the values the document's **links** give: after an answer whose response has `links`
  (OpenAPI Link Objects, by `operationId` or a local `operationRef`), the linked operation is
  called with the parameters the link's runtime expressions name (`$response.body#/id`,
  `$response.header.X-Id`, `$request.path.id`, `$request.query.q`, `$request.header.X`,
  `$request.body#/name`, `$url`, `$method`, `$statusCode`, or `{$...}` inside a string, or a
  constant); a link whose expression the probes do not evaluate or whose value the answer does
  not have is not followed, and the evidence says why; a link found after its operation was
  called calls it again;
- the ids a creation's `Location` gave, and values seen in earlier answers (an `orderId` from
  the list of orders);
- the document's examples and `enum` values;
- a value made up from the schema only when none of these is known.

Each operation is called with up to `values_per_parameter` (3) of these values, its first value
with every body and each further one with the first body, so an item that breaks the schema is
found even when it is not the first one listed. Required query and header parameters take the
examples. Operations that require HTTP bearer authentication get
`Authorization: Bearer <token>`. An operation that requires credentials and is answered 401 or
403 is not judged (what it answers with credentials is unknown), and the evidence says so;
when every call is refused that way the item is not applicable, with the reason. Partial
credit: conformant operations / operations judged. Findings point at the response in the
document.

## Why it matters
An OpenAPI document is a promise to every consumer (Week 3: API design and contracts;
Week 8: contract testing). Generated clients, gateways and consumer tests trust it; a
service that answers something else breaks them in production, where the static checks of
the document cannot see it.

## How to fix
Read each finding: it names the request sent, the status and the schema keyword that failed.
Either the service is wrong (fix the handler, e.g. fill a required property, use the
documented status) or the document is (describe what the service really sends). The values in
square brackets say where the request's parameters came from (a link, a `Location`, an earlier
answer). When the evidence says a link was not followed, correct its expression (a JSON pointer
into an array answer needs the index: `$response.body#/0/id`). Generating
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
    /// Most valid request bodies sent per operation.
    pub bodies_per_operation: usize,
    /// Most requests sent per service.
    pub max_requests: usize,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: u64,
    /// Bearer token sent to operations that require bearer authentication.
    pub bearer_token: String,
    /// Most operations called per service.
    pub max_operations: usize,
    /// Most values of its path parameters each operation is called with.
    pub values_per_parameter: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            methods: all_methods(),
            bodies_per_operation: 3,
            max_requests: 300,
            timeout_ms: 5_000,
            bearer_token: DEFAULT_TOKEN.into(),
            max_operations: 200,
            values_per_parameter: 3,
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
                description: "HTTP methods of the operations to call (default get, post, put, patch, delete; a --target service only gets get unless --allow-unsafe-methods)",
            },
            ParamDoc {
                name: "bodies_per_operation",
                ty: "integer",
                description: "most valid request bodies sent per operation: its examples, one built from its schema, boundary values (default 3)",
            },
            ParamDoc {
                name: "max_requests",
                ty: "integer",
                description: "most requests sent per service (default 300)",
            },
            TIMEOUT_PARAM,
            BEARER_PARAM,
            ParamDoc {
                name: "max_operations",
                ty: "integer",
                description: "most operations called per service",
            },
            ParamDoc {
                name: "values_per_parameter",
                ty: "integer",
                description: "most values of its path parameters each operation is called with: ids from links, Location headers and earlier answers, then the document's examples and enum values; the first value gets every body, each further one the first body (default 3)",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, params: &Params) -> CheckResult {
        with_live(ctx, |system| evaluate(ctx, params, system))
    }
}

fn evaluate(ctx: &Ctx<'_>, p: &Params, system: &System) -> CheckResult {
    let mut findings = Vec::new();
    let (mut good, mut judged) = (0, 0);
    let mut evidence = Vec::new();
    let mut without_spec = Vec::new();
    let mut refused = Refusals::default();
    let mut refusing = Vec::new();
    let mut not_called = Vec::new();
    let mut with_spec = 0;
    for svc in ready_services(system) {
        let Some(api) = service_api(ctx, svc) else {
            without_spec.push(format!("`{}`", svc.name));
            continue;
        };
        with_spec += 1;
        let mut probed = probe_service(ctx, p, system, svc, &api);
        evidence.push(probed.line(&svc.name, &p.methods));
        evidence.extend(probed.not_called.iter().map(|why| format!("{}: {why}", svc.name)));
        evidence.extend(probed.link_lines(&svc.name));
        good += probed.good;
        judged += probed.judged;
        findings.append(&mut probed.findings);
        if !probed.refused.is_empty() {
            refusing.push(format!("`{}`", svc.name));
            refused.add(&probed.refused);
        }
        not_called.extend(probed.not_called.into_iter().map(|why| format!("`{}` {why}", svc.name)));
    }
    if !without_spec.is_empty() {
        evidence.push(format!(
            "not called (no readable OpenAPI document): {}",
            without_spec.join(", ")
        ));
    }
    if judged > 0 {
        return CheckResult::ratio(good, judged, findings).with_evidence_lines(evidence);
    }
    // Nothing judged: say what was (not) called and why, never "0 of 0".
    let result = if with_spec == 0 {
        CheckResult::absent(format!(
            "no running service has a readable OpenAPI document ({}), so no documented operation could be called",
            without_spec.join(", ")
        ))
    } else if !refused.is_empty() {
        CheckResult::not_applicable(format!(
            "every operation called ({}) was {}, so no answer could be judged: {}",
            refusing.join(", "),
            refused.refused_with(),
            refused.why()
        ))
    } else if !not_called.is_empty() {
        CheckResult::failed_because(format!(
            "no documented operation could be called: {}",
            not_called.join("; ")
        ))
    } else {
        CheckResult::absent(format!(
            "the OpenAPI documents of the running services have no operation with the methods called ({})",
            p.methods.join(", ")
        ))
    };
    result.with_evidence_lines(evidence)
}

/// What the probe did with the operations of one service.
#[derive(Default)]
struct Probed {
    /// Operations whose answer was judged (or that got no answer).
    judged: usize,
    /// Of those, the conformant ones.
    good: usize,
    /// Operations that require credentials and were refused them (401, 403): not judged.
    refused: Refusals,
    /// Operations not called, and why (`GET /x/{id} not called: no value for ...`).
    not_called: Vec<String>,
    /// Operations of the document with the methods called.
    documented: usize,
    /// The operations judged, as `GET /v1/orders`.
    called: Vec<String>,
    /// Calls made because a link of an earlier answer named the operation, as
    /// `GET /x/{id} (link `x` of POST /x (201))`.
    followed: Vec<String>,
    /// Links (or link parameters) not followed, and why.
    link_notes: Vec<String>,
    findings: Vec<Finding>,
}

impl Probed {
    /// The evidence line of service `name`; with nothing judged it says why instead of "0 of 0".
    fn line(&self, name: &str, methods: &[String]) -> String {
        let refused = (!self.refused.is_empty()).then(|| {
            format!(
                "{} {}, not judged: {}",
                operations(self.refused.count()),
                self.refused.refused_with(),
                self.refused.why()
            )
        });
        if self.judged > 0 {
            let mut line = format!(
                "{name}: {} of {} operations conformant; coverage: {} of {} documented operations called",
                self.good,
                self.judged,
                self.judged + self.refused.count(),
                self.documented
            );
            if let Some(r) = refused {
                line.push_str(&format!("; {r}"));
            }
            return line;
        }
        match refused {
            Some(_) if self.not_called.is_empty() => format!(
                "{name}: every operation called was {}, none judged: {}",
                self.refused.refused_with(),
                self.refused.why()
            ),
            Some(r) => format!(
                "{name}: no operation judged: {r}; {} could not be called",
                operations(self.not_called.len())
            ),
            None if !self.not_called.is_empty() => format!(
                "{name}: no operation judged: {} could not be called",
                operations(self.not_called.len())
            ),
            None => format!(
                "{name}: no operation judged: its OpenAPI document has no operation with the methods called ({})",
                methods.join(", ")
            ),
        }
    }
}

impl Probed {
    /// The evidence lines of the links of service `name`: the calls they made, and what could
    /// not be followed (at most 5 of each, then how many more).
    fn link_lines(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !self.followed.is_empty() {
            // The same link to the same operation once, with how many calls it made.
            let mut grouped: Vec<(String, usize)> = Vec::new();
            for f in &self.followed {
                match grouped.iter_mut().find(|(g, _)| g == f) {
                    Some((_, n)) => *n += 1,
                    None => grouped.push((f.clone(), 1)),
                }
            }
            let grouped: Vec<String> = grouped
                .into_iter()
                .map(|(f, n)| if n == 1 { f } else { format!("{f} ×{n}") })
                .collect();
            out.push(format!(
                "{name}: {} made by following the links of earlier answers: {}",
                calls(self.followed.len()),
                some(&grouped)
            ));
        }
        for note in self.link_notes.iter().take(5) {
            out.push(format!("{name}: {note}"));
        }
        if self.link_notes.len() > 5 {
            out.push(format!("{name}: and {} more notes on links", self.link_notes.len() - 5));
        }
        out
    }
}

/// `1 call`, `2 calls`.
fn calls(n: usize) -> String {
    format!("{n} call{}", if n == 1 { "" } else { "s" })
}

/// The first 5 items, then how many more.
fn some(items: &[String]) -> String {
    let mut s = items.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > 5 {
        s.push_str(&format!("; and {} more", items.len() - 5));
    }
    s
}

/// `1 operation`, `2 operations`.
fn operations(n: usize) -> String {
    format!("{n} operation{}", if n == 1 { "" } else { "s" })
}

/// What happened to one operation over all the calls made to it.
#[derive(Default, Clone)]
struct OpState {
    /// An answer was judged (or none came).
    judged: bool,
    /// Every judged answer was conformant.
    conformant: bool,
    /// A finding was reported (one per operation).
    reported: bool,
    /// Refused for want of credentials: not called again.
    refused: bool,
    /// The requests sent (method and target), so that a value set is not sent twice.
    targets: BTreeSet<String>,
    /// Value sets sent.
    sets: usize,
    /// Why it was not called (the first reason).
    why_not: Option<String>,
}

/// The probe of one service: the operations in stateful order, what was learned, the links to
/// follow.
struct Run<'a, 'c, 's, 'd> {
    ctx: &'a Ctx<'c>,
    p: &'a Params,
    system: &'a System,
    svc: &'a LiveService,
    api: &'s Api<'d>,
    schemas: SchemaSet<'d>,
    ops: Vec<Operation<'s>>,
    state: Vec<OpState>,
    seen: Seen,
    requests: usize,
    timeout: Duration,
    /// Calls links asked for that have not been made yet.
    pending: Vec<LinkCall>,
    /// Link calls made (`via` of each), and notes on links not followed.
    followed: Vec<String>,
    link_notes: Vec<String>,
    out: Probed,
}

fn probe_service(ctx: &Ctx<'_>, p: &Params, system: &System, svc: &LiveService, api: &Api<'_>) -> Probed {
    let ops = stateful_order(operations_to_exercise(api, &p.methods));
    let mut run = Run {
        ctx,
        p,
        system,
        svc,
        api,
        schemas: SchemaSet::for_openapi(api.rel, api.spec, api.external).with_max_ref_hops(api.max_ref_hops()),
        state: vec![
            OpState {
                conformant: true,
                ..OpState::default()
            };
            ops.len()
        ],
        ops,
        seen: Seen::default(),
        requests: 0,
        timeout: Duration::from_millis(p.timeout_ms.clamp(1, 120_000)),
        pending: Vec::new(),
        followed: Vec::new(),
        link_notes: Vec::new(),
        out: Probed::default(),
    };
    run.out.documented = run.ops.len();
    for i in 0..run.ops.len() {
        // Links of earlier answers first, then the values known for its path parameters.
        let (linked, rest): (Vec<LinkCall>, Vec<LinkCall>) = std::mem::take(&mut run.pending)
            .into_iter()
            .partition(|c| c.target == i);
        run.pending = rest;
        let mut sets: Vec<(Chosen, Option<String>)> = linked.into_iter().map(|c| (c.chosen, Some(c.via))).collect();
        // Made-up values (an empty set) only when neither a link nor anything known gives one.
        let known = value_sets(api, &run.ops[i], &run.seen, p.values_per_parameter);
        let made_up = known.len() == 1 && known[0].is_empty();
        if sets.is_empty() || !made_up {
            sets.extend(known.into_iter().map(|c| (c, None)));
        }
        run.call(i, sets);
    }
    // Links found in answers after the operation they name was called: called now (a few rounds,
    // as their answers may link on).
    for _ in 0..3 {
        let pending = std::mem::take(&mut run.pending);
        if pending.is_empty() {
            break;
        }
        for c in pending {
            run.call(c.target, vec![(c.chosen, Some(c.via))]);
        }
    }
    run.finish()
}

impl Run<'_, '_, '_, '_> {
    /// Whether operation `i` may be called at all; notes why not.
    fn may_call(&mut self, i: usize) -> bool {
        let op = &self.ops[i];
        let why = if i >= self.p.max_operations {
            format!("beyond max_operations ({})", self.p.max_operations)
        } else if !self.system.may_send(self.svc, op.method) {
            unsafe_not_sent(self.svc)
        } else if self.requests >= self.p.max_requests {
            format!(
                "the request budget of the service ({} requests, max_requests) was spent",
                self.p.max_requests
            )
        } else {
            return !self.state[i].refused && !self.state[i].reported;
        };
        let st = &mut self.state[i];
        if st.sets == 0 && st.why_not.is_none() {
            st.why_not = Some(why);
        }
        false
    }

    /// Calls operation `i` with each value set in turn (up to `values_per_parameter` sets per
    /// operation over the run): the first set with every body, the others with the first body.
    fn call(&mut self, i: usize, sets: Vec<(Chosen, Option<String>)>) {
        let (api, p) = (self.api, self.p);
        let op = self.ops[i].clone();
        for (chosen, via) in sets {
            if !self.may_call(i) || self.state[i].sets >= p.values_per_parameter.clamp(1, 20) {
                return;
            }
            let (planned, sent) = match plan_with(api, &op, &self.seen, &p.bearer_token, &chosen) {
                Ok(r) => r,
                Err(why) => {
                    if self.state[i].sets == 0 && self.state[i].why_not.is_none() {
                        self.state[i].why_not = Some(why);
                    }
                    continue;
                }
            };
            if !self.state[i]
                .targets
                .insert(format!("{} {}", planned.method, planned.target))
            {
                continue;
            }
            let bodies = match request_bodies(api, &op, p.bodies_per_operation.clamp(1, 20)) {
                Ok(b) => b,
                Err(why) => {
                    self.state[i].why_not.get_or_insert(why);
                    return;
                }
            };
            let first = self.state[i].sets == 0;
            self.state[i].sets += 1;
            if let Some(via) = via {
                self.followed.push(format!("{} ({via})", op.label()));
            }
            let take = if first { bodies.len() } else { 1 };
            for body in bodies.iter().take(take) {
                if self.requests >= p.max_requests || !self.send_one(i, &op, &planned, &sent, body) {
                    return;
                }
            }
        }
    }

    /// Sends one request to operation `i` and judges its answer; false when the operation is
    /// done with (a finding, a refusal, no answer).
    fn send_one(&mut self, i: usize, op: &Operation<'_>, planned: &Planned, sent: &Sent, body: &Body) -> bool {
        let (ctx, svc, api) = (self.ctx, self.svc, self.api);
        self.requests += 1;
        let mut req = planned.clone();
        req.fresh_idempotency_key(self.requests);
        if let Some(media) = &body.media {
            req.headers.push(("Content-Type".into(), media.clone()));
        }
        let with = body
            .origin
            .as_ref()
            .map(|o| format!(" with a body ({o})"))
            .unwrap_or_default();
        let shown = format!("`{} {}`{with} to `{}`", req.method, req.target, svc.name);
        let answer = match send(self.system, svc, &req, body.bytes.as_deref(), self.timeout) {
            Ok(a) => a,
            Err(e) => {
                let st = &mut self.state[i];
                (st.judged, st.conformant, st.reported) = (true, false, true);
                self.out.findings.push(
                    at_service(ctx, svc, format!("{shown} ({}) got no answer: {e}", op.label()))
                        .help("the service must answer every documented request; read its log"),
                );
                return false;
            }
        };
        // Refused for want of credentials the document asks for: what it would answer with
        // them is unknown. Where the document asks for none, the refusal is judged as any answer.
        if requires_credentials(api, op) && self.out.refused.note(answer.status, &req) {
            self.state[i].refused = true;
            return false;
        }
        self.state[i].judged = true;
        if let Ok(v) = serde_json::from_slice::<Value>(&answer.body) {
            self.seen.learn(&v);
        }
        if let Some(location) = answer.header("location") {
            self.seen.learn_location(op.path, req.target.as_str(), location);
        }
        let responses = api.responses(op);
        if let Some(resp) = documented(&responses, answer.status) {
            let url = svc.url(&req.target).unwrap_or_default();
            let exchange = Exchange {
                method: &req.method,
                url: &url,
                sent,
                headers: &req.headers,
                body: body.bytes.as_deref(),
                answer: &answer,
            };
            let (calls, notes) = link_calls(api, &self.ops, op, resp, &exchange);
            for n in notes {
                if !self.link_notes.contains(&n) {
                    self.link_notes.push(n);
                }
            }
            for c in calls {
                let dup = self
                    .pending
                    .iter()
                    .any(|x| x.target == c.target && x.chosen.keys().eq(c.chosen.keys()) && same_values(x, &c));
                if !dup && self.pending.len() < 200 {
                    self.pending.push(c);
                }
            }
        }
        let problems = judge(api, &self.schemas, op, &answer);
        if problems.is_empty() {
            return true;
        }
        self.state[i].conformant = false;
        self.state[i].reported = true;
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
        self.out.findings.push(
            ctx.document_finding(
                node.file,
                node.doc,
                &node.pointer,
                format!(
                    "{shown} ({}) answered {}{via}: {}",
                    op.label(),
                    answer.status,
                    reasons.join("; ")
                ),
            )
            .help(help),
        );
        // One finding per operation is enough to act on.
        false
    }

    /// The verdicts of the operations, in stateful order, and what was not called and why.
    fn finish(mut self) -> Probed {
        for (op, st) in self.ops.iter().zip(&self.state) {
            if st.judged {
                self.out.judged += 1;
                self.out.called.push(op.label());
                if st.conformant {
                    self.out.good += 1;
                }
            } else if st.refused {
                // Counted among the refusals.
            } else {
                let why = st
                    .why_not
                    .clone()
                    .unwrap_or_else(|| "no request could be sent".to_string());
                self.out.not_called.push(format!("{} not called: {why}", op.label()));
            }
        }
        self.out.followed = self.followed;
        self.out.link_notes = self.link_notes;
        self.out
    }
}

/// Whether two link calls give the same values.
fn same_values(a: &LinkCall, b: &LinkCall) -> bool {
    a.chosen
        .iter()
        .zip(&b.chosen)
        .all(|((ka, (va, _)), (kb, (vb, _)))| ka == kb && va == vb)
}

/// A request body to send: its bytes, media type and where it came from (`None`s for an
/// operation without one).
struct Body {
    bytes: Option<Vec<u8>>,
    media: Option<String>,
    origin: Option<String>,
}

/// The bodies to send to `op`: none when it takes none (or an optional one that cannot be
/// made); up to `n` valid JSON bodies (its examples first, then built from its schema, then
/// boundary values); the reason when a required body cannot be made.
fn request_bodies(api: &Api<'_>, op: &Operation<'_>, n: usize) -> Result<Vec<Body>, String> {
    let none = || {
        vec![Body {
            bytes: None,
            media: None,
            origin: None,
        }]
    };
    let Some(rb) = api.request_body(op) else {
        return Ok(none());
    };
    let content = api.content(&rb);
    let required = rb.flag("required");
    let Some((media, node)) = content.iter().find(|(m, _)| is_json_media(m)) else {
        if required && !content.is_empty() {
            let types: Vec<&str> = content.iter().map(|(m, _)| *m).collect();
            return Err(format!(
                "its request body ({}) is not JSON, which the probes do not make",
                types.join(", ")
            ));
        }
        return Ok(none());
    };
    let valid = bodies::valid(&bodies::inline(api, node), n);
    if valid.is_empty() {
        if required {
            return Err(
                "no valid request body could be made from its schema (give the media type an `example`)".into(),
            );
        }
        return Ok(none());
    }
    Ok(valid
        .into_iter()
        .map(|v| Body {
            bytes: Some(v.value.to_string().into_bytes()),
            media: Some(media.to_string()),
            origin: Some(v.origin),
        })
        .collect())
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
            if Refusals::is_refusal(status) {
                "the document does not require credentials for this operation, yet the service refused the request: \
                 declare the credentials it needs (`security`, with no empty `{}` alternative) and document this \
                 answer, or answer without credentials"
            } else {
                "document every status the operation can answer, or answer a documented one"
            },
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
#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::prb::support::Planned;

    fn request(token: bool) -> Planned {
        Planned {
            method: "GET".into(),
            target: "/v1/orders".into(),
            headers: if token {
                vec![("Authorization".into(), "Bearer t".into())]
            } else {
                Vec::new()
            },
            notes: Vec::new(),
        }
    }

    /// A service with nothing judged says why, never "0 of 0".
    #[test]
    fn a_service_line_says_what_was_not_judged_and_why() {
        let get = ["get".to_string()];
        let mut p = Probed::default();
        assert_eq!(
            p.line("orders", &get),
            "orders: no operation judged: its OpenAPI document has no operation with the methods called (get)"
        );
        p.not_called
            .push("GET /v1/orders/{id} not called: no value for the required path parameter `id`".into());
        assert_eq!(
            p.line("orders", &get),
            "orders: no operation judged: 1 operation could not be called"
        );
        p.refused.note(401, &request(true));
        p.refused.note(401, &request(true));
        let line = p.line("orders", &get);
        assert!(
            line.starts_with("orders: no operation judged: 2 operations refused with 401 Unauthorized, not judged: the service needs credentials the probes do not have"),
            "{line}"
        );
        assert!(line.ends_with("; 1 operation could not be called"), "{line}");
        p.not_called.clear();
        assert!(p
            .line("orders", &get)
            .starts_with("orders: every operation called was refused with 401 Unauthorized, none judged: the service needs credentials"));
        p.judged = 3;
        p.good = 2;
        p.documented = 6;
        assert!(p.line("orders", &get).starts_with(
            "orders: 2 of 3 operations conformant; coverage: 5 of 6 documented operations called; 2 operations \
             refused with 401 Unauthorized, not judged: "
        ));
        for line in [Probed::default().line("a", &get), p.line("a", &get)] {
            assert!(!line.contains("0 of 0"), "{line}");
        }
    }
}
