use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::artifact::document::escape_pointer_segment;
use crate::artifact::pact::{self, Body, BodyContent, Field, Http, Interaction, PactFile, Rules};
use crate::artifact::schema::{SchemaLoc, SchemaSet, Violation};
use crate::artifact::Loaded;
use crate::checks::oas::walk::{Api, Node, Operation, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

use super::support::{closest_path, load_pacts, match_path, no_pacts_reason, provider, PathMatch, Provider};

pub struct PactInteractionUndocumented;

const DOCS: &str = r#"## What it checks
That every HTTP interaction of every pact is one the provider's OpenAPI document allows,
without running anything:

- the request path matches a documented path template (after stripping the base path of the
  document's `servers`, when the request uses it) and the method is documented for it;
- path, query and header parameters: required ones are present, and values satisfy their
  schemas (`Accept`, `Content-Type` and `Authorization` are not parameters in OpenAPI);
- the request body, when there is one, has a documented media type and is a valid instance
  of the request schema (a required request body must be sent; `readOnly` properties need not
  be);
- the response status is documented (exactly, or by a range such as `2XX`, or `default`);
- the response body, when the consumer expects one, has a documented media type and agrees
  with the response schema under Pact's matching semantics (below);
- the response headers the consumer expects are documented.

**Pact semantics for response bodies.** When the provider is verified, Pact lets it send
*more* than the consumer expects: extra properties are ignored. So the pact's response body
is a partial view of the response, and it is valid when some response the schema allows
contains it:

- properties the schema marks `required` may be missing from the pact (the provider sends
  them; the consumer just does not rely on them);
- every value the pact does list must satisfy the schema at its place: its type, and, where
  the pact expects that exact value (no matcher, or `equality`), its `enum`, `pattern`,
  `format`, bounds and lengths. Where a matcher accepts any value of the type (`type`/`like`,
  `regex`, `integer`, `datetime`, `eachLike` with `min`, ...) the example value is only an
  example: only its JSON type must agree;
- a property the schema forbids (`additionalProperties: false`, composition included) can
  never be sent by a conforming provider: it fails;
- a property the schema does not describe at all, in an object whose `properties` are
  listed, is something the consumer relies on that the provider does not promise (a renamed
  or misspelt field is the classic contract break). It fails by default (`undocumented =
  "fail"`), or is reported without costing credit (`"note"`), or ignored (`"ignore"`).
  Declarations are collected across `allOf` and `$ref`, so composed schemas do not produce
  false alarms (unlike tools that force `additionalProperties: false` on every subschema); of
  an `anyOf`/`oneOf`, the alternatives the object fits count, and a property described only
  by an alternative the object does not fit fails with that alternative's objection. Objects
  described only by `additionalProperties` or `patternProperties` (maps) accept any key, and
  the keys of an object matched by `values`/`eachKey` are not checked.
- `oneOf` is satisfied when one alternative accepts the partial body (the properties the
  provider adds decide between alternatives that the pact alone cannot tell apart).

Request bodies are what the provider receives verbatim during verification, so they are
validated strictly (required properties included); a request property the schema does not
describe (the provider would silently ignore it) follows the same `undocumented` setting. OpenAPI 3.0 schemas are validated as JSON
Schema draft 4 with `nullable` honoured, 3.1 schemas as 2020-12. Message interactions are not
checked here (they are contracts for events, described by the AsyncAPI catalog).

Partial credit: conforming HTTP interactions / HTTP interactions (interactions of a pact whose
provider has no readable OpenAPI document count as not conforming; see CTR002). Findings
point into the pact file (e.g. `/interactions/1/response/body/lines/0/quantity`) and name the
OpenAPI location that disagrees.

## Why it matters
Week 2 (Contract Testing & Service Contracts: consumer-driven contract testing, "Implement
Pact testing for service contracts"; contract-first development): the consumer's pact and
the provider's published contract are two descriptions of the same API. When they disagree,
one of them is wrong: either the provider will fail verification once it runs, or the
OpenAPI document that other teams code against is not the API the provider actually serves.
Catching the disagreement statically, before any service runs, is the cheapest point in the
pipeline to fix it.

## How to fix
Read each finding's two locations: the pact (what the consumer expects) and the OpenAPI
document (what the provider promises). Then fix the one that is wrong: correct the consumer
test that generated the pact (the path, a field name, a value), loosen an over-specific
expectation with a matcher (`like`, `eachLike`, `regex`) when any value of that type will do,
or document the operation, status, property or header in the provider's OpenAPI if the
provider really serves it. Regenerate the pact from the consumer's tests afterwards.

## Example
```yaml
# services/orders/openapi.yaml (provider)
paths:
  /v1/orders/{orderId}:
    get:
      responses:
        '200':
          content:
            application/json:
              schema:
                type: object
                properties:
                  orderId: {type: string, pattern: '^ord_[0-9A-Z]{12}$'}
                  status: {type: string, enum: [PENDING, CONFIRMED]}
# contracts/gateway-orders.json (consumer) expects, for GET /v1/orders/ord_01HV3K8M2QZ9:
#   {"orderId": "ord_01HV3K8M2QZ9", "status": "confirmed", "totalPrice": 12}
# -> "confirmed" is not one of PENDING, CONFIRMED (no matcher: the exact value is expected),
#    and `totalPrice` is not described by the schema: the consumer relies on a field the
#    provider does not promise.
```
"#;

/// What to do with properties and headers the consumer relies on that the OpenAPI document
/// does not describe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Undocumented {
    /// The interaction does not conform.
    #[default]
    Fail,
    /// Reported, without costing credit.
    Note,
    /// Not reported.
    Ignore,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Properties (request and response bodies) and response headers that the OpenAPI
    /// document does not describe.
    pub undocumented: Undocumented,
}

impl TypedCheck for PactInteractionUndocumented {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "CTR003",
        name: "pact-interaction-undocumented",
        area: Area::Ctr,
        kind: Kind::Static,
        summary: "A pact interaction does not conform to the provider's OpenAPI document (path, method, parameters, \
                  status, bodies)",
        docs: DOCS,
        params: &[ParamDoc {
            name: "undocumented",
            ty: "string",
            description: "what to do when the pact sends or expects a body property, or expects a response header, \
                          that the provider's OpenAPI document does not describe: `fail` (the interaction does not \
                          conform), `note` (reported without costing credit) or `ignore`",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let pacts = load_pacts(ctx);
        if pacts.is_empty() {
            return CheckResult::absent(no_pacts_reason(ctx));
        }
        let mut tally = Tally::default();
        let mut readable = 0;
        let mut messages = 0;
        for (r, loaded) in &pacts {
            let Loaded::Ok(pact) = loaded else { continue };
            readable += 1;
            messages += pact.message_count();
            check_pact(ctx, p, &r.rel, pact, &mut tally);
        }
        if readable == 0 {
            return CheckResult::failed_because("no pact file is readable (CTR001 pact-invalid says why)");
        }
        if tally.total == 0 && !tally.has_issues() {
            return CheckResult::not_applicable(format!(
                "the pacts have no HTTP interactions to check against OpenAPI ({messages} message interactions: \
                 contracts for events, described by the event catalog)"
            ));
        }
        let mut result = tally.finish(
            "HTTP interactions conform to the provider's OpenAPI document",
            "no HTTP interactions",
        );
        if messages > 0 {
            result.evidence.push(format!(
                "{messages} message interactions not checked against OpenAPI (contracts for events)"
            ));
        }
        result
    }
}

fn check_pact(ctx: &Ctx<'_>, p: &Params, rel: &str, pact: &PactFile, tally: &mut Tally) {
    let http: Vec<(&Interaction, &Http)> = pact.http().collect();
    if http.is_empty() {
        return;
    }
    let node = |pointer: &str| Node {
        file: rel,
        doc: &pact.doc,
        pointer: pointer.to_string(),
        value: pact.doc.value.pointer(pointer).unwrap_or(&pact.doc.value),
    };
    let unverifiable = |tally: &mut Tally, pointer: &str, why: String, help: &str| {
        for _ in &http {
            tally.unit(false);
        }
        tally.issue(
            &node(pointer),
            None,
            format!("{} HTTP interactions cannot be checked: {why}", http.len()),
            help,
        );
    };
    let Some(prov) = &pact.provider else {
        unverifiable(
            tally,
            "",
            "the pact names no provider".into(),
            "name the provider (see CTR001 and CTR002)",
        );
        return;
    };
    let (rel_api, spec) = match provider(ctx, &prov.name) {
        Provider::Api { rel, spec, .. } => (rel, spec),
        Provider::Unknown(_) => {
            unverifiable(
                tally,
                &prov.pointer,
                format!("the provider `{}` is not a declared service", prov.name),
                "name the provider as in submission.toml (see CTR002 pact-provider-unknown)",
            );
            return;
        }
        Provider::NoSpec(_) => {
            unverifiable(
                tally,
                &prov.pointer,
                format!("the provider `{}` has no OpenAPI document", prov.name),
                "give the provider its `openapi` document (see CTR002 pact-provider-unknown)",
            );
            return;
        }
        Provider::BadSpec(_, doc) => {
            unverifiable(
                tally,
                &prov.pointer,
                format!("the OpenAPI document of `{}` ({doc}) cannot be read", prov.name),
                "fix the document (see SUB002 and OAS001)",
            );
            return;
        }
    };
    let api = Api::of(ctx, rel_api, spec);
    verify_pact(p, rel, pact, &api, &prov.name, tally);
}

/// Checks every HTTP interaction of `pact` (file `rel`) against the provider's description.
fn verify_pact(p: &Params, rel: &str, pact: &PactFile, api: &Api<'_>, provider: &str, tally: &mut Tally) {
    let schemas = SchemaSet::for_openapi(api.rel, api.spec, api.external).with_max_ref_hops(api.max_ref_hops());
    let ops = api.operations();
    for (it, h) in pact.http() {
        let mut v = Verifier {
            p,
            rel,
            pact,
            api,
            ops: &ops,
            schemas: &schemas,
            provider,
            subject: it.label(),
            failed: false,
            tally,
        };
        v.interaction(h);
        let ok = !v.failed;
        tally.unit(ok);
    }
}

/// Checks one interaction, recording issues in the tally.
struct Verifier<'a, 's, 'p> {
    p: &'a Params,
    rel: &'a str,
    pact: &'a PactFile,
    api: &'s Api<'p>,
    ops: &'a [Operation<'s>],
    schemas: &'a SchemaSet<'s>,
    provider: &'a str,
    subject: String,
    failed: bool,
    tally: &'a mut Tally,
}

/// A JSON body being checked against its documented schema.
struct BodyCheck<'b> {
    side: Side,
    body: &'b Body,
    value: &'b Value,
    rules: &'b Rules,
    /// The request body or response, in words.
    what: &'b str,
}

/// Which side of the interaction a body belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Request => "request",
            Side::Response => "response",
        }
    }
}

/// Headers that are not OpenAPI parameters (OpenAPI ignores parameters with these names).
const NOT_PARAMETERS: [&str; 3] = ["accept", "content-type", "authorization"];

/// Response headers that are transport details, not part of an API's contract.
const TRANSPORT_HEADERS: [&str; 8] = [
    "content-type",
    "content-length",
    "date",
    "connection",
    "transfer-encoding",
    "server",
    "vary",
    "keep-alive",
];

impl<'a, 's, 'p: 's> Verifier<'a, 's, 'p> {
    fn node(&self, pointer: &str) -> Node<'a> {
        let pact: &'a PactFile = self.pact;
        Node {
            file: self.rel,
            doc: &pact.doc,
            pointer: pointer.to_string(),
            value: pact.doc.value.pointer(pointer).unwrap_or(&pact.doc.value),
        }
    }

    fn fail(&mut self, pointer: &str, message: String, help: impl Into<String>) {
        self.failed = true;
        let n = self.node(pointer);
        self.tally.issue(&n, Some(self.subject.clone()), message, help);
    }

    fn note(&mut self, pointer: &str, message: String, help: impl Into<String>) {
        let n = self.node(pointer);
        self.tally
            .issue(&n, Some(self.subject.clone()), format!("note: {message}"), help);
    }

    fn undocumented(&mut self, pointer: &str, message: String, help: impl Into<String>) {
        match self.p.undocumented {
            Undocumented::Fail => self.fail(pointer, message, help),
            Undocumented::Note => self.note(pointer, message, help),
            Undocumented::Ignore => {}
        }
    }

    /// `services/orders/openapi.yaml:212`
    fn at(&self, n: &Node<'_>) -> String {
        format!("{}:{}", n.file, n.doc.locate(&n.pointer).line)
    }

    fn schema_at(&self, loc: &SchemaLoc) -> String {
        format!("{}, `#{}`", self.schemas.describe_loc(loc), loc.pointer)
    }

    fn interaction(&mut self, h: &Http) {
        let req = &h.request;
        let Some(m) = match_path(self.api, self.ops, &req.path, &req.method) else {
            let closest = closest_path(self.api, self.ops, &req.path)
                .map(|c| format!("; the closest documented path is `{c}`"))
                .unwrap_or_default();
            self.fail(
                &format!("{}/path", req.pointer),
                format!(
                    "`{} {}`: no path of the `{}` API ({}) matches `{}`{closest}",
                    req.method,
                    req.path,
                    self.provider,
                    self.api.rel,
                    req.path.split('?').next().unwrap_or("")
                ),
                "correct the request path in the consumer's test, or document the path in the provider's OpenAPI \
                 document",
            );
            return;
        };
        let Some(op) = m.op(&req.method).cloned() else {
            let documented: Vec<String> = m.ops.iter().map(|o| o.method.to_ascii_uppercase()).collect();
            self.fail(
                &format!("{}/method", req.pointer),
                format!(
                    "`{}` is not documented for `{}` in {} (documented: {})",
                    req.method,
                    m.template,
                    self.api.rel,
                    if documented.is_empty() {
                        "none".to_string()
                    } else {
                        documented.join(", ")
                    }
                ),
                "use a documented method in the consumer's test, or document the operation in the provider's OpenAPI \
                 document",
            );
            return;
        };
        self.parameters(h, &op, &m);
        self.request_body(h, &op);
        self.response(h, &op);
    }

    // -----------------------------------------------------------------------------------------
    // Parameters
    // -----------------------------------------------------------------------------------------

    fn parameters(&mut self, h: &Http, op: &Operation<'s>, m: &PathMatch<'s>) {
        let req = &h.request;
        let label = op.label();
        for param in self.api.parameters(op) {
            let schema_ptr = format!("{}/schema", param.node.pointer);
            let has_schema = param.node.get("schema").is_some();
            let required = param.node.flag("required");
            let (values, pointer): (Vec<String>, String) = match param.location {
                "path" => match m.params.iter().find(|(n, _)| n == param.name) {
                    Some((_, v)) => (vec![v.clone()], format!("{}/path", req.pointer)),
                    None => continue,
                },
                "query" => match req.query.iter().find(|f| f.name == param.name) {
                    Some(f) => (f.values.clone(), f.pointer.clone()),
                    None => {
                        if required {
                            self.fail(
                                &self.field_parent(&req.query, &format!("{}/query", req.pointer), &req.pointer),
                                format!(
                                    "the required query parameter `{}` of {label} is missing ({})",
                                    param.name,
                                    self.at(&param.node)
                                ),
                                format!("send `{}` in the consumer's request, or make it optional", param.name),
                            );
                        }
                        continue;
                    }
                },
                "header" => {
                    if NOT_PARAMETERS.contains(&param.name.to_ascii_lowercase().as_str()) {
                        continue;
                    }
                    match pact::header(&req.headers, param.name) {
                        Some(f) => (f.values.clone(), f.pointer.clone()),
                        None => {
                            if required {
                                self.fail(
                                    &self.field_parent(&req.headers, &format!("{}/headers", req.pointer), &req.pointer),
                                    format!(
                                        "the required header `{}` of {label} is missing ({})",
                                        param.name,
                                        self.at(&param.node)
                                    ),
                                    format!(
                                        "send the `{}` header in the consumer's request, or make it optional",
                                        param.name
                                    ),
                                );
                            }
                            continue;
                        }
                    }
                }
                _ => continue,
            };
            if !has_schema {
                continue;
            }
            let instance = coerce(self.schemas, param.node.file, &schema_ptr, &values);
            match self.schemas.validate(param.node.file, &schema_ptr, &instance) {
                Ok(violations) => {
                    for v in violations {
                        let loc = v
                            .schema
                            .as_ref()
                            .map(|l| format!(" ({})", self.schema_at(l)))
                            .unwrap_or_default();
                        self.fail(
                            &pointer,
                            format!(
                                "{} parameter `{}` = {}: {}{loc}",
                                param.location,
                                param.name,
                                crate::artifact::schema::short(&instance),
                                v.message
                            ),
                            "send a value the parameter's schema allows, or correct the schema",
                        );
                    }
                }
                Err(e) => self.note(
                    &pointer,
                    format!(
                        "the schema of the {} parameter `{}` cannot be used: {e}",
                        param.location, param.name
                    ),
                    "fix the schema (see OAS002 unresolved-ref)",
                ),
            }
        }
    }

    /// The pointer of a headers/query object when the pact has one, else of the request.
    fn field_parent(&self, fields: &[Field], at: &str, fallback: &str) -> String {
        if fields.is_empty() && self.pact.doc.value.pointer(at).is_none() {
            fallback.to_string()
        } else {
            at.to_string()
        }
    }

    // -----------------------------------------------------------------------------------------
    // Bodies
    // -----------------------------------------------------------------------------------------

    fn request_body(&mut self, h: &Http, op: &Operation<'s>) {
        let req = &h.request;
        let label = op.label();
        let rb = self.api.request_body(op);
        match (&req.body, rb) {
            (None, Some(rb)) if rb.flag("required") => {
                self.fail(
                    &req.pointer,
                    format!(
                        "{label} requires a request body ({}), the request sends none",
                        self.at(&rb)
                    ),
                    "send the body in the consumer's request, or make the request body optional",
                );
            }
            (None, _) => {}
            (Some(body), None) => self.fail(
                &body.pointer,
                format!("the request sends a body but {label} documents no request body"),
                "remove the body from the consumer's request, or document the `requestBody` of the operation",
            ),
            (Some(body), Some(rb)) => {
                let content = self.api.content(&rb);
                self.body(Side::Request, body, &content, &req.rules, &label, &rb);
            }
        }
    }

    fn response(&mut self, h: &Http, op: &Operation<'s>) {
        let res = &h.response;
        let label = op.label();
        let responses = self.api.responses(op);
        let code = res.status.to_string();
        let range = format!("{}XX", code.chars().next().unwrap_or('0'));
        let found = responses
            .iter()
            .find(|r| r.code.trim() == code)
            .or_else(|| responses.iter().find(|r| r.code.trim().eq_ignore_ascii_case(&range)))
            .or_else(|| responses.iter().find(|r| r.code.trim() == "default"));
        let Some(r) = found else {
            let documented: Vec<&str> = responses.iter().map(|r| r.code).collect();
            let status_ptr = if self
                .pact
                .doc
                .value
                .pointer(&format!("{}/status", res.pointer))
                .is_some()
            {
                format!("{}/status", res.pointer)
            } else {
                res.pointer.clone()
            };
            self.fail(
                &status_ptr,
                format!(
                    "status {code} is not documented for {label} ({}; documented: {})",
                    self.at(&self.api.node(&op.op.pointer).unwrap_or_else(|| op.op.clone())),
                    if documented.is_empty() {
                        "none".into()
                    } else {
                        documented.join(", ")
                    }
                ),
                "expect a documented status in the consumer's test, or document the response in the provider's \
                 OpenAPI document",
            );
            return;
        };
        let r = r.clone();
        // Headers the consumer expects.
        let documented: Vec<String> = r
            .node
            .get("headers")
            .map(|h| h.entries().iter().map(|(k, _)| k.to_ascii_lowercase()).collect())
            .unwrap_or_default();
        for f in &res.headers {
            let lower = f.name.to_ascii_lowercase();
            if TRANSPORT_HEADERS.contains(&lower.as_str()) || documented.contains(&lower) {
                continue;
            }
            self.undocumented(
                &f.pointer,
                format!(
                    "the consumer expects the response header `{}`, which response {} of {label} does not document ({})",
                    f.name,
                    r.code,
                    self.at(&r.node)
                ),
                "document the header under `headers` of the response if the provider sends it, or remove it from the \
                 consumer's expectations",
            );
        }
        if let Some(body) = &res.body {
            let content = self.api.content(&r.node);
            let what = format!("response {} of {label}", r.code);
            self.body(Side::Response, body, &content, &res.rules, &what, &r.node);
        }
    }

    /// Checks a body against the documented content of a request body or response.
    fn body(
        &mut self,
        side: Side,
        body: &Body,
        content: &[(&'s str, Node<'s>)],
        rules: &Rules,
        what: &str,
        owner: &Node<'s>,
    ) {
        if content.is_empty() {
            self.no_content(side, body, what, owner);
            return;
        }
        let is_json = matches!(body.content, BodyContent::Json(_));
        let Some((media, media_node)) = select_media(content, body.content_type.as_deref(), is_json) else {
            self.undocumented_media(side, body, content, what, owner);
            return;
        };
        let BodyContent::Json(value) = &body.content else {
            return;
        };
        if !pact::is_json_media(media) && media != "*/*" {
            return;
        }
        if media_node.get("schema").is_none() {
            return;
        }
        let file = media_node.file;
        let schema_ptr = format!("{}/schema", media_node.pointer);
        let violations = match self.schemas.validate(file, &schema_ptr, value) {
            Ok(v) => v,
            Err(e) => {
                self.note(
                    &body.pointer,
                    format!(
                        "the {} body cannot be checked: the schema of {what} cannot be used: {e}",
                        side.name()
                    ),
                    "fix the schema (see OAS002 unresolved-ref)",
                );
                return;
            }
        };
        let check = BodyCheck {
            side,
            body,
            value,
            rules,
            what,
        };
        let reported = self.report_violations(&check, violations);
        self.report_undeclared(&check, file, &schema_ptr, &reported);
    }

    /// The consumer's body meets a request body or response that documents no content.
    fn no_content(&mut self, side: Side, body: &Body, what: &str, owner: &Node<'s>) {
        if side == Side::Response {
            self.fail(
                &body.pointer,
                format!(
                    "the consumer expects a response body, but {what} documents no content ({})",
                    self.at(owner)
                ),
                "expect no body in the consumer's test, or document the response's `content` in the provider's \
                 OpenAPI document",
            );
        } else {
            self.note(
                &body.pointer,
                format!("{what} documents no content, so the request body cannot be checked"),
                "document the media type and schema of the request body",
            );
        }
    }

    /// The body's media type is not among the documented ones.
    fn undocumented_media(
        &mut self,
        side: Side,
        body: &Body,
        content: &[(&'s str, Node<'s>)],
        what: &str,
        owner: &Node<'s>,
    ) {
        let documented: Vec<&str> = content.iter().map(|(m, _)| *m).collect();
        let wanted = body.content_type.as_deref().unwrap_or("(none)");
        let (who, fix) = match side {
            Side::Request => ("the request sends", "send a documented media type (`Content-Type`)"),
            Side::Response => (
                "the consumer expects",
                "expect a documented media type (`Content-Type`)",
            ),
        };
        self.fail(
            &body.pointer,
            format!(
                "{who} a `{wanted}` body, but {what} documents {} ({})",
                documented.join(", "),
                self.at(owner)
            ),
            format!("{fix} in the consumer's test, or document the media type in the provider's OpenAPI document"),
        );
    }

    /// Reports the schema violations that count under Pact's semantics; returns the instance
    /// pointers reported.
    fn report_violations(&mut self, c: &BodyCheck, violations: Vec<Violation>) -> Vec<String> {
        let (side, body, rules) = (c.side, c.body, c.rules);
        let mut kept = Vec::new();
        for v in violations {
            kept.extend(self.relevant(side, rules, "", v));
        }
        let mut reported = Vec::new();
        for v in kept {
            let at = format!("{}{}", body.pointer, v.instance_pointer);
            reported.push(v.instance_pointer.clone());
            let place = if v.instance_pointer.is_empty() {
                String::new()
            } else {
                format!(" `{}`", v.instance_pointer.trim_start_matches('/'))
            };
            let loc = v
                .schema
                .as_ref()
                .map(|l| format!(" ({})", self.schema_at(l)))
                .unwrap_or_default();
            let lenient_hint = side == Side::Response && v.is_value_constraint();
            let help = match side {
                Side::Request => {
                    "send a value the request schema allows in the consumer's test, or correct the schema \
                                  if the provider accepts it"
                        .to_string()
                }
                Side::Response if lenient_hint => "expect a value the schema allows, or match it with a matcher \
                                                   (`like`, `regex`, ...) if any such value will do; correct the \
                                                   schema if the provider really sends this value"
                    .to_string(),
                Side::Response => "make the consumer's expectation agree with the provider's schema, or correct the \
                                   schema if the provider really sends this"
                    .to_string(),
            };
            self.fail(&at, format!("{} body{place}: {}{loc}", side.name(), v.message), help);
        }
        reported
    }

    /// Reports the properties the schema does not describe, except under a pointer already
    /// `reported`.
    fn report_undeclared(&mut self, c: &BodyCheck, file: &str, schema_ptr: &str, reported: &[String]) {
        let (side, body, value, rules, what) = (c.side, c.body, c.value, c.rules, c.what);
        let skip = |p: &str| rules.dynamic_keys_at(&pact::pointer_segments(p));
        let fits = |b: &SchemaLoc, at: &str, v: &Value| match self.schemas.validate(&b.file, &b.pointer, v) {
            Ok(vs) => vs.into_iter().all(|x| self.relevant(side, rules, at, x).is_empty()),
            Err(_) => true,
        };
        for u in self.schemas.undeclared(file, schema_ptr, value, &skip, &fits) {
            if reported
                .iter()
                .any(|r| u.instance_pointer.starts_with(r.as_str()) && !r.is_empty())
            {
                continue;
            }
            let key = u.instance_pointer.trim_start_matches('/');
            let at = format!("{}{}", body.pointer, u.instance_pointer);
            // Described only by alternatives of `anyOf`/`oneOf` that the object does not fit.
            if let Some(alt) = u.elsewhere.first() {
                let parent = u.instance_pointer.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                let object = value.pointer(parent).unwrap_or(value);
                let why = self
                    .schemas
                    .validate(&alt.file, &alt.pointer, object)
                    .ok()
                    .and_then(|vs| {
                        vs.into_iter()
                            .flat_map(|x| self.relevant(side, rules, parent, x))
                            .next()
                    })
                    .map(|x| {
                        let place = format!("{parent}{}", x.instance_pointer);
                        format!(" (at `{}`: {})", place.trim_start_matches('/'), x.message)
                    })
                    .unwrap_or_default();
                let combinator = alt.pointer.rsplit('/').nth(1).unwrap_or("oneOf");
                self.fail(
                    &at,
                    format!(
                        "{} body `{key}`: the `{combinator}` alternative that describes it ({}) does not accept the \
                         body{why}",
                        side.name(),
                        self.schema_at(alt)
                    ),
                    "make the body fit the alternative that describes this property (or the alternative it is meant \
                     to be), or correct the schema",
                );
                continue;
            }
            let schema = match u.schemas.first() {
                Some(first) => {
                    let ptrs: Vec<String> = u.schemas.iter().take(3).map(|l| format!("`#{}`", l.pointer)).collect();
                    format!(" ({}, {})", self.schemas.describe_loc(first), ptrs.join(", "))
                }
                None => String::new(),
            };
            let (message, help) = match side {
                Side::Request => (
                    format!(
                        "request body: the consumer sends `{key}`, which the request schema of {what} does not \
                         describe{schema}; the provider will ignore it"
                    ),
                    "correct the property name in the consumer's request, or document the property in the schema",
                ),
                Side::Response => (
                    format!(
                        "response body: the consumer expects `{key}`, which the schema of {what} does not \
                         describe{schema}"
                    ),
                    "document the property in the provider's schema if the provider sends it, or remove it from the \
                     consumer's expectations (a provider may send more than the consumer expects, never less)",
                ),
            };
            self.undocumented(&at, message, help);
        }
    }

    /// The violations that count under Pact's semantics, composite ones explained by their
    /// closest alternative.
    /// `base`: the instance pointer of the validated value within the body.
    fn relevant(&self, side: Side, rules: &Rules, base: &str, v: Violation) -> Vec<Violation> {
        if !v.branches.is_empty() {
            let kept: Vec<Vec<Violation>> = v
                .branches
                .iter()
                .map(|b| {
                    b.iter()
                        .cloned()
                        .flat_map(|x| self.relevant(side, rules, base, x))
                        .collect()
                })
                .collect();
            if kept.iter().any(Vec::is_empty) {
                return Vec::new();
            }
            // The alternatives the value has the right type for.
            let typed: Vec<usize> = (0..v.branches.len())
                .filter(|i| {
                    !v.branches[*i]
                        .iter()
                        .any(|x| x.keyword == "type" && x.instance_pointer == v.instance_pointer)
                })
                .collect();
            if let [only] = typed.as_slice() {
                return kept[*only].clone();
            }
            return vec![v];
        }
        match side {
            Side::Response => {
                // The provider sends the rest; a partial view cannot pick one `oneOf` branch.
                if v.keyword == "required" || (v.keyword == "oneOf" && v.branches.is_empty()) {
                    return Vec::new();
                }
                if v.is_value_constraint()
                    && rules.lenient_at(&pact::pointer_segments(&format!("{base}{}", v.instance_pointer)))
                {
                    return Vec::new();
                }
            }
            Side::Request => {
                if v.keyword == "required" && self.is_read_only(&v) {
                    return Vec::new();
                }
            }
        }
        vec![v]
    }

    /// True when a `required` violation names a `readOnly` property (not sent in requests).
    fn is_read_only(&self, v: &Violation) -> bool {
        let (Some(loc), Some(prop)) = (&v.schema, &v.property) else {
            return false;
        };
        let Some(parent) = loc.pointer.strip_suffix("/required") else {
            return false;
        };
        let ptr = format!("{parent}/properties/{}", escape_pointer_segment(prop));
        self.schemas
            .resolve(&loc.file, &ptr)
            .is_some_and(|(_, _, s)| s.get("readOnly") == Some(&Value::Bool(true)))
    }
}

/// The documented media type for a body: its `Content-Type` exactly (parameters ignored), then
/// a documented wildcard (`application/*`, `*/*`); without a `Content-Type`, the first JSON
/// media type for a JSON body, else the first one.
fn select_media<'s>(
    content: &[(&'s str, Node<'s>)],
    wanted: Option<&str>,
    is_json: bool,
) -> Option<(&'s str, Node<'s>)> {
    let norm = |m: &str| m.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let Some(w) = wanted.map(norm) else {
        return content
            .iter()
            .find(|(m, _)| is_json && pact::is_json_media(m))
            .or(content.first())
            .cloned();
    };
    if let Some(c) = content.iter().find(|(m, _)| norm(m) == w) {
        return Some(c.clone());
    }
    let major = w.split('/').next().unwrap_or("");
    content
        .iter()
        .find(|(m, _)| {
            let n = norm(m);
            n == "*/*" || n == format!("{major}/*")
        })
        .cloned()
}

/// A parameter's string values as the JSON value its schema describes (`"42"` -> `42` for an
/// integer, a list for an array; values that do not convert stay strings, so that validation
/// reports them).
fn coerce(schemas: &SchemaSet<'_>, file: &str, pointer: &str, values: &[String]) -> Value {
    let resolved = schemas.resolve(file, pointer);
    let ty = resolved.as_ref().and_then(|(_, _, s)| type_of(s));
    if ty.as_deref() == Some("array") {
        let item_ty = resolved
            .as_ref()
            .and_then(|(f, p, _)| schemas.resolve(f, &format!("{p}/items")))
            .and_then(|(_, _, s)| type_of(s));
        let parts: Vec<String> = if values.len() == 1 {
            values[0].split(',').map(str::to_string).collect()
        } else {
            values.to_vec()
        };
        return Value::Array(parts.iter().map(|v| scalar(v, item_ty.as_deref())).collect());
    }
    scalar(values.first().map(String::as_str).unwrap_or(""), ty.as_deref())
}

fn type_of(schema: &Value) -> Option<String> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(str::to_string),
        _ => None,
    }
}

fn scalar(s: &str, ty: Option<&str>) -> Value {
    match ty {
        Some("integer") => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(s.to_string())),
        Some("number") => s
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(s.to_string())),
        Some("boolean") => match s {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(s.to_string()),
        },
        _ => Value::String(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::document::{Document, Limits};
    use crate::artifact::openapi::classify;
    use crate::checks::oas::walk::external_docs;

    fn spec(src: &str) -> crate::artifact::openapi::OpenApiDoc {
        match classify(Document::parse("openapi.yaml", src, &Limits::default()).unwrap()) {
            Loaded::Ok(d) => d,
            _ => panic!("not OpenAPI"),
        }
    }

    /// A description that accepts any path of up to three segments, any method, any status.
    const PERMISSIVE: &str = r#"openapi: 3.1.0
info: {title: Any, version: '1'}
paths:
  /: &any
    get: &op
      parameters: [{name: q, in: query, schema: {type: [string, integer]}}]
      requestBody: {content: {'*/*': {schema: {}}}}
      responses:
        default:
          description: any
          headers: {X-Any: {schema: {type: string}}}
          content: {'*/*': {schema: {type: [object, array, string, number, boolean, 'null']}}}
    put: *op
    post: *op
    delete: *op
    patch: *op
    head: *op
    options: *op
  /{a}: *any
  /{a}/{b}: *any
  /{a}/{b}/{c}: *any
"#;

    fn verify(spec_src: &str, pact_src: &str, undocumented: Undocumented) -> Vec<String> {
        let s = spec(spec_src);
        let Loaded::Ok(pact) = crate::artifact::pact::parse_bytes("p.json", pact_src.as_bytes()) else {
            panic!("pact does not load");
        };
        let root = std::env::temp_dir();
        let ext = external_docs(&root, "openapi.yaml", &s);
        let api = Api::with_external(&root, "openapi.yaml", &s, &ext);
        let mut tally = Tally::default();
        verify_pact(&Params { undocumented }, "p.json", &pact, &api, "p", &mut tally);
        let mut out: Vec<String> = tally
            .findings()
            .into_iter()
            .map(|f| format!("{} {}", f.pointer.unwrap_or_default(), f.message))
            .collect();
        out.push(format!("{}/{}", tally.good, tally.total));
        out
    }

    const POLY: &str = r#"openapi: 3.0.3
info: {title: Pay, version: '1'}
paths:
  /payments/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                oneOf:
                  - {type: object, required: [card, last4], properties: {card: {type: string}, last4: {type: string, pattern: '^[0-9]{4}$'}}}
                  - {type: object, required: [iban], properties: {iban: {type: string}}}
"#;

    fn poly_pact(body: &str, rules: &str) -> String {
        format!(
            r#"{{"consumer": {{"name": "c"}}, "provider": {{"name": "p"}},
            "interactions": [{{"description": "d", "request": {{"method": "GET", "path": "/payments/7"}},
              "response": {{"status": 200, "body": {body}, "matchingRules": {{"body": {rules}}}}}}}],
            "metadata": {{"pactSpecification": {{"version": "3.0.0"}}}}}}"#
        )
    }

    /// Pact's response semantics over composed schemas: a partial body that fits one
    /// alternative passes (required properties may be missing, even the ones that tell the
    /// alternatives apart); a value that fits none fails, explained by the alternative it has
    /// the type of; matchers make example values irrelevant but not their types.
    #[test]
    fn response_semantics() {
        let ok = verify(POLY, &poly_pact(r#"{"last4": "4242"}"#, "{}"), Undocumented::Fail);
        assert_eq!(ok, vec!["1/1"]);
        let ok = verify(POLY, &poly_pact(r#"{}"#, "{}"), Undocumented::Fail);
        assert_eq!(ok, vec!["1/1"]);
        let bad = verify(POLY, &poly_pact(r#"{"last4": "42"}"#, "{}"), Undocumented::Fail);
        assert_eq!(bad.len(), 2, "{bad:#?}");
        assert!(
            bad[0].starts_with("/interactions/0/response/body/last4 ")
                && bad[0].contains("the `oneOf` alternative that describes it")
                && bad[0].contains("(at `last4`: \"42\" does not match the pattern"),
            "{bad:#?}"
        );
        let bad = verify(POLY, &poly_pact(r#"{"iban": 5}"#, "{}"), Undocumented::Ignore);
        assert!(
            bad[0].contains("`iban`: expected string, found an integer (5)"),
            "{bad:#?}"
        );
        // A value no alternative accepts: the alternative of its type explains why.
        let bad = verify(POLY, &poly_pact(r#"[1]"#, "{}"), Undocumented::Fail);
        assert!(bad[0].contains("matches none of the 2 alternatives"), "{bad:#?}");
        let matched = verify(
            POLY,
            &poly_pact(
                r#"{"last4": "42"}"#,
                r#"{"$.last4": {"matchers": [{"match": "type"}]}}"#,
            ),
            Undocumented::Fail,
        );
        assert_eq!(matched, vec!["1/1"]);
        let typed = verify(
            POLY,
            &poly_pact(r#"{"last4": 42}"#, r#"{"$.last4": {"matchers": [{"match": "type"}]}}"#),
            Undocumented::Fail,
        );
        assert_eq!(typed.last().map(String::as_str), Some("0/1"), "{typed:#?}");
        // A key no alternative declares: undocumented, by policy.
        let extra = verify(
            POLY,
            &poly_pact(r#"{"iban": "NL91", "bic": "X"}"#, "{}"),
            Undocumented::Fail,
        );
        assert!(extra[0].starts_with("/interactions/0/response/body/bic "), "{extra:#?}");
        assert_eq!(extra.last().map(String::as_str), Some("0/1"));
        let noted = verify(
            POLY,
            &poly_pact(r#"{"iban": "NL91", "bic": "X"}"#, "{}"),
            Undocumented::Note,
        );
        assert!(noted[0].contains("note: "), "{noted:#?}");
        assert_eq!(noted.last().map(String::as_str), Some("1/1"));
        let ignored = verify(
            POLY,
            &poly_pact(r#"{"iban": "NL91", "bic": "X"}"#, "{}"),
            Undocumented::Ignore,
        );
        assert_eq!(ignored, vec!["1/1"]);
    }

    /// Every pact of the shared corpus is verified against a permissive description and a
    /// strict one (the reference orders API): nothing panics, and every finding points at an
    /// existing node of the pact.
    #[test]
    fn corpus_pacts_verify_without_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pact");
        if !root.is_dir() {
            println!("skipped: ../shared/corpus/pact not found");
            return;
        }
        let orders = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/submissions/phase2-reference/services/orders/openapi.yaml"),
        )
        .unwrap();
        let specs = [spec(PERMISSIVE), spec(&orders)];
        let mut stack = vec![root.clone()];
        let mut checked = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(bytes) = std::fs::read(&path) else { continue };
                let Loaded::Ok(pact) = crate::artifact::pact::parse_bytes("p.json", &bytes) else {
                    continue;
                };
                for (i, s) in specs.iter().enumerate() {
                    let ext = external_docs(&root, "openapi.yaml", s);
                    let api = Api::with_external(&root, "openapi.yaml", s, &ext);
                    for undocumented in [Undocumented::Fail, Undocumented::Ignore] {
                        let mut tally = Tally::default();
                        verify_pact(&Params { undocumented }, "p.json", &pact, &api, "p", &mut tally);
                        assert_eq!(tally.total, pact.http().count());
                        for f in tally.findings() {
                            let ptr = f.pointer.clone().unwrap_or_default();
                            assert!(
                                ptr.starts_with("/interactions/") && pact.doc.locate_exact(&ptr).is_some(),
                                "{}: {ptr}: {}",
                                path.display(),
                                f.message
                            );
                        }
                        if i == 0 && undocumented == Undocumented::Ignore {
                            checked += pact.http().count();
                            // The permissive description accepts whatever a readable pact asks
                            // (its response headers aside), except paths deeper than three
                            // segments.
                            let deep = pact
                                .http()
                                .filter(|(_, h)| h.request.path.trim_matches('/').split('/').count() > 3)
                                .count();
                            assert!(tally.good + deep >= tally.total, "{}", path.display());
                        }
                    }
                }
            }
        }
        println!("verified {checked} HTTP interactions of the pact corpus");
        assert!(checked > 0);
    }
}
