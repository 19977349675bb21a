//! What the live-probe checks share: reaching the running system, the OpenAPI description of a
//! live service, and requests built from a description (path parameters from values seen in
//! earlier answers, else from the description's examples, else made up from the schema).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::artifact::openapi::OpenApiDoc;
use crate::artifact::Loaded;
use crate::checks::oas::walk::{Api, Node, Operation, Response};
use crate::checks::{CheckResult, Ctx, Finding, ParamDoc};
use crate::probe::{LiveService, StartError, Status, System};

/// The `bearer_token` parameter shared by the checks that call documented operations.
pub const BEARER_PARAM: ParamDoc = ParamDoc {
    name: "bearer_token",
    ty: "string",
    description: "token sent as `Authorization: Bearer` to operations that require bearer authentication",
};

/// The `timeout_ms` parameter of the checks that send single requests.
pub const TIMEOUT_PARAM: ParamDoc = ParamDoc {
    name: "timeout_ms",
    ty: "integer",
    description: "per-request timeout in milliseconds",
};

/// The default of `bearer_token`.
pub const DEFAULT_TOKEN: &str = "grade-probe";

/// The default of `methods` for the checks that only call safe operations.
pub fn get_only() -> Vec<String> {
    vec!["get".into()]
}

/// Parameters of the checks that call a service's operations to see whom it calls (PRB006,
/// PRB010).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriggerParams {
    /// Methods of the operations called.
    pub methods: Vec<String>,
    /// Bearer token sent to operations that require bearer authentication.
    pub bearer_token: String,
}

impl Default for TriggerParams {
    fn default() -> Self {
        TriggerParams {
            methods: get_only(),
            bearer_token: DEFAULT_TOKEN.into(),
        }
    }
}

/// Parameters of the checks that only need a per-request timeout (PRB008, PRB009).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutParams {
    /// Per-request timeout in milliseconds.
    pub timeout_ms: u64,
}

impl Default for TimeoutParams {
    fn default() -> Self {
        TimeoutParams { timeout_ms: 5_000 }
    }
}

/// Runs `f` over the running system: absent when no service declares how to start it, failed
/// when none of the learner's services became ready, errored when the grader could not start
/// anything.
pub fn with_live(ctx: &Ctx<'_>, f: impl FnOnce(&System) -> CheckResult) -> CheckResult {
    ctx.live(|started| match started {
        Err(StartError::NothingToRun) => nothing_to_run(),
        Err(StartError::Infrastructure(e)) => {
            CheckResult::errored(format!("the grader could not start the services: {e}"))
        }
        Ok(system) if ready_services(system).is_empty() => CheckResult::failed_because(
            "no service of the system is running and ready, so nothing could be probed (PRB001 \
             service-unhealthy says why)",
        ),
        Ok(system) => f(system),
    })
}

/// The result of a probe item when no service declares how to start it: the running system
/// is absent.
pub fn nothing_to_run() -> CheckResult {
    CheckResult::absent("no service declares `[service.run]` (nor `--target`), so there is no running system to probe")
}

/// The result of a probe item that judges calls between services when no request made one
/// running service call another: not applicable when the manifest declares no synchronous
/// call, else a failure (the declared calls could not be observed).
pub fn no_call_observed(ctx: &Ctx<'_>, refused: &Refusals, untriggered: &[String]) -> CheckResult {
    let r = if ctx.model.sync.edge_count() == 0 {
        CheckResult::not_applicable("the manifest declares no synchronous call between services")
    } else if !refused.is_empty() {
        CheckResult::failed_because(format!(
            "no request made a running service call another running service, so the declared calls could not be \
             observed: {} {} {}: {}",
            refused.count(),
            if refused.count() == 1 {
                "request was"
            } else {
                "requests were"
            },
            refused.refused_with(),
            refused.why()
        ))
    } else {
        CheckResult::failed_because(
            "no request made a running service call another running service, so the declared calls could not be \
             observed: document the operations that call other services (GET operations are called first)",
        )
    };
    if untriggered.is_empty() {
        r
    } else {
        r.with_evidence(format!("not evaluated: {}", untriggered.join("; ")))
    }
}

/// The ready services of the system, in declaration order.
pub fn ready_services(system: &System) -> Vec<&LiveService> {
    let mut v: Vec<&LiveService> = system
        .services
        .iter()
        .filter(|s| s.status == Status::Ready && s.base_url.is_some())
        .collect();
    v.sort_by_key(|s| s.index);
    v
}

/// A finding at the service's entry in submission.toml.
pub fn at_service(ctx: &Ctx<'_>, svc: &LiveService, message: impl Into<String>) -> Finding {
    let span = ctx
        .submission
        .services
        .get(svc.index)
        .and_then(|s| s.name.span.as_ref());
    ctx.manifest_finding(span, message)
}

/// The loaded OpenAPI description of a live service, if it has a readable one.
pub fn service_api<'c>(ctx: &Ctx<'c>, svc: &LiveService) -> Option<Api<'c>> {
    let s = ctx.submission.services.get(svc.index)?;
    let r = s.openapi.as_ref()?;
    let (rel, loaded) = ctx.artifacts.openapi.get_key_value(&r.rel)?;
    let spec: &'c OpenApiDoc = match loaded {
        Loaded::Ok(spec) => spec,
        _ => return None,
    };
    Some(Api::of(ctx, rel, spec))
}

/// One request planned from an operation.
#[derive(Debug, Clone)]
pub struct Planned {
    pub method: String,
    /// Path and query, ready to append to the service's base URL.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// Where the values came from when not from the description (e.g. `orderId` seen in an answer).
    pub notes: Vec<String>,
}

impl Planned {
    /// Makes an `Idempotency-Key` header unique to request `n`: a key names one attempt of
    /// one operation, and a service rightly answers 409 (or an old result) when a key comes
    /// back with another body. The document's example key would otherwise be reused by every
    /// probe request and by the pacts replayed later.
    /// A key that is a UUID (as most documents ask) stays one: its last group becomes `n`.
    pub fn fresh_idempotency_key(&mut self, n: usize) {
        for (k, v) in &mut self.headers {
            if k.eq_ignore_ascii_case("idempotency-key") || k.eq_ignore_ascii_case("x-idempotency-key") {
                *v = fresh_key(v, n);
            }
        }
    }

    /// Whether the request carries the probe's bearer token.
    pub fn has_token(&self) -> bool {
        self.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    }
}

/// `key` made unique to request `n`: a UUID keeps its shape (the last group is `n` in hex,
/// after a marker), anything else gets `-probe-n` appended.
fn fresh_key(key: &str, n: usize) -> String {
    let groups: Vec<&str> = key.split('-').collect();
    let uuid = groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    if uuid {
        format!(
            "{}-{}-{}-{}-7e57{:08x}",
            groups[0], groups[1], groups[2], groups[3], n as u32
        )
    } else {
        format!("{key}-probe-{n}")
    }
}

/// Groups items `0..n` into lanes that may run at the same time: two items share a lane (and
/// run one after the other, in order) when `conflict` says they would disturb each other,
/// directly or through a chain of conflicts. Lanes keep the items' order.
pub fn lanes(n: usize, conflict: impl Fn(usize, usize) -> bool) -> Vec<Vec<usize>> {
    let mut lane_of: Vec<usize> = (0..n).collect();
    fn root(l: &mut [usize], mut i: usize) -> usize {
        while l[i] != i {
            l[i] = l[l[i]];
            i = l[i];
        }
        i
    }
    for a in 0..n {
        for b in a + 1..n {
            if conflict(a, b) {
                let (ra, rb) = (root(&mut lane_of, a), root(&mut lane_of, b));
                lane_of[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut lanes: Vec<Vec<usize>> = Vec::new();
    let mut index: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    for i in 0..n {
        let r = root(&mut lane_of, i);
        let at = *index.entry(r).or_insert_with(|| {
            lanes.push(Vec::new());
            lanes.len() - 1
        });
        lanes[at].push(i);
    }
    lanes
}

/// Why an unsafe operation is not sent to `svc`: it runs outside the grader (`--target`).
pub fn unsafe_not_sent(svc: &LiveService) -> String {
    format!(
        "`{}` runs outside the grader (--target) and may hold real data (--allow-unsafe-methods sends it)",
        svc.name
    )
}

/// How many requests each proxy of the system has seen, to tell later which ones a request
/// crossed ([`crossed`]).
pub fn proxy_marks(system: &System) -> Vec<u64> {
    system.proxies.iter().map(|p| p.seen()).collect()
}

/// The indices (in `System::proxies`) of the proxies that saw requests since `marks`.
pub fn crossed(system: &System, marks: &[u64]) -> BTreeSet<usize> {
    system
        .proxies
        .iter()
        .zip(marks)
        .enumerate()
        .filter(|(_, (p, m))| p.seen() > **m)
        .map(|(i, _)| i)
        .collect()
}

/// The response `status` falls under: its exact code, else its `NXX` range, else `default`.
pub fn documented<'a, 's>(responses: &'a [Response<'s>], status: u16) -> Option<&'a Response<'s>> {
    let code = status.to_string();
    let range = format!("{}XX", status / 100);
    responses
        .iter()
        .find(|r| r.code == code)
        .or_else(|| responses.iter().find(|r| r.code.eq_ignore_ascii_case(&range)))
        .or_else(|| responses.iter().find(|r| r.code == "default"))
}

/// Answers that refused a request for want of credentials (401 Unauthorized, 403 Forbidden):
/// the request never reached what a probe judges, so it is not judged, and the reason says so.
#[derive(Debug, Default, Clone)]
pub struct Refusals {
    /// How many answers had each status.
    statuses: BTreeMap<u16, usize>,
    /// How many of the refused requests carried the probe's bearer token.
    with_token: usize,
}

impl Refusals {
    /// Whether `status` refuses the request for want of credentials.
    pub fn is_refusal(status: u16) -> bool {
        matches!(status, 401 | 403)
    }

    /// Counts the answer `status` to `req` when it is a refusal; tells whether it was.
    pub fn note(&mut self, status: u16, req: &Planned) -> bool {
        if !Self::is_refusal(status) {
            return false;
        }
        *self.statuses.entry(status).or_default() += 1;
        if req.has_token() {
            self.with_token += 1;
        }
        true
    }

    /// How many requests were refused.
    pub fn count(&self) -> usize {
        self.statuses.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Adds the refusals of `other`.
    pub fn add(&mut self, other: &Refusals) {
        for (s, n) in &other.statuses {
            *self.statuses.entry(*s).or_default() += n;
        }
        self.with_token += other.with_token;
    }

    /// `refused with 401 Unauthorized`, `refused with 401 Unauthorized (2) or 403 Forbidden (1)`.
    pub fn refused_with(&self) -> String {
        let name = |s: u16| match s {
            401 => "401 Unauthorized",
            _ => "403 Forbidden",
        };
        let parts: Vec<String> = if self.statuses.len() == 1 {
            self.statuses.keys().map(|s| name(*s).to_string()).collect()
        } else {
            self.statuses
                .iter()
                .map(|(s, n)| format!("{} ({n})", name(*s)))
                .collect()
        };
        format!("refused with {}", parts.join(" or "))
    }

    /// Why the refused requests were not judged, and what lets the probes in.
    pub fn why(&self) -> String {
        let how = if self.with_token == self.count() {
            "the bearer token the probes sent (the item's `bearer_token` parameter) did not let them in; give \
             the item a token the service accepts"
        } else if self.with_token == 0 {
            "the probes sent none, as they send credentials only as `Authorization: Bearer <bearer_token>` and \
             only where the document requires HTTP bearer authentication"
        } else {
            "the probes send credentials only as `Authorization: Bearer <bearer_token>` (the item's `bearer_token` \
             parameter) and only where the document requires HTTP bearer authentication"
        };
        format!(
            "the service needs credentials the probes do not have: {how}; or give the service the credentials \
             every probe sends in `[service.run.auth]` (`bearer = \"test-token\"`, or `bearer_env` naming a variable \
             of the grader's environment)"
        )
    }
}

/// How many distinct values [`Seen`] keeps per property name and per collection.
const KEPT_VALUES: usize = 8;

/// Values seen in earlier answers, by property name (`orderId` -> `ord_01...`).
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Distinct values of each property name, in the order seen (at most [`KEPT_VALUES`]).
    values: BTreeMap<String, Vec<String>>,
    /// Ids of resources created by a POST, by the document path of the collection
    /// (`/v1/orders` -> `ord_01...`), from the answer's `Location`, in the order created.
    created: BTreeMap<String, Vec<String>>,
}

/// Adds `v` to `list` unless it is there or the list is full.
fn keep(list: &mut Vec<String>, v: &str) {
    if list.len() < KEPT_VALUES && !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}

impl Seen {
    /// Records the scalar properties of a JSON answer (the first [`KEPT_VALUES`] distinct values
    /// of each name).
    pub fn learn(&mut self, body: &Value) {
        self.walk(body, 0);
    }

    fn walk(&mut self, v: &Value, depth: usize) {
        if depth > 8 || self.values.len() > 500 {
            return;
        }
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match x {
                        Value::String(s) if s.len() <= 200 => keep(self.values.entry(k.clone()).or_default(), s),
                        Value::Number(n) => keep(self.values.entry(k.clone()).or_default(), &n.to_string()),
                        _ => self.walk(x, depth + 1),
                    }
                }
            }
            Value::Array(a) => {
                for x in a.iter().take(20) {
                    self.walk(x, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// Records the id of a resource a POST to `collection` (a path of the document) created,
    /// from the `Location` of its answer (absolute or relative), whose path continues `sent`
    /// (the path the POST was sent to): `POST /v1/orders` answered `Location: /v1/orders/ord_7`
    /// gives `ord_7` for `/v1/orders/{orderId}`.
    pub fn learn_location(&mut self, collection: &str, sent: &str, location: &str) {
        let path = match location.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => location,
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        let sent = sent.split('?').next().unwrap_or("").trim_end_matches('/');
        let id = path
            .strip_prefix(sent)
            .and_then(|r| r.strip_prefix('/'))
            .and_then(|r| r.split('/').next())
            .filter(|id| !id.is_empty());
        if let Some(id) = id {
            let id = percent_encoding::percent_decode_str(id)
                .decode_utf8_lossy()
                .into_owned();
            keep(
                self.created
                    .entry(collection.trim_end_matches('/').to_string())
                    .or_default(),
                &id,
            );
        }
    }

    /// The ids created under the collection that `path` continues right before `{name}`
    /// (`/v1/orders/{orderId}` -> the ids POSTs to `/v1/orders` created), oldest first.
    pub fn created_all(&self, path: &str, name: &str) -> &[String] {
        let Some(at) = path.find(&format!("/{{{name}}}")) else {
            return &[];
        };
        let collection = &path[..at];
        if collection.contains('{') {
            return &[];
        }
        self.created.get(collection).map_or(&[], Vec::as_slice)
    }

    /// The first id created under the collection of `{name}` in `path` ([`Seen::created_all`]).
    pub fn created_for(&self, path: &str, name: &str) -> Option<&str> {
        self.created_all(path, name).first().map(String::as_str)
    }

    /// The values seen for a parameter named `name`: those of the property of the same name,
    /// else those of a property whose name matches case-insensitively.
    pub fn get_all(&self, name: &str) -> &[String] {
        if let Some(v) = self.values.get(name) {
            return v;
        }
        self.values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The first value seen for a parameter named `name` ([`Seen::get_all`]).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).first().map(String::as_str)
    }
}

/// An example value for a parameter or schema as written in the description.
pub fn example_of(api: &Api<'_>, param: &Node<'_>) -> Option<Value> {
    if let Some(v) = param.value.get("example") {
        return Some(v.clone());
    }
    if let Some(ex) = param.get("examples").and_then(|e| e.entries().into_iter().next()) {
        let ex = api.deref(ex.1);
        if let Some(v) = ex.value.get("value") {
            return Some(v.clone());
        }
    }
    let schema = param.get("schema").map(|s| api.deref(s))?;
    schema_example(api, &schema, 0)
}

/// An example, default, first enum value, or a made-up value of the schema's type.
pub fn schema_example(api: &Api<'_>, schema: &Node<'_>, depth: usize) -> Option<Value> {
    let v = schema.value;
    if let Some(x) = v.get("example") {
        return Some(x.clone());
    }
    if let Some(x) = v.get("examples").and_then(Value::as_array).and_then(|a| a.first()) {
        return Some(x.clone());
    }
    if let Some(x) = v.get("default") {
        return Some(x.clone());
    }
    if let Some(x) = v.get("const") {
        return Some(x.clone());
    }
    if let Some(x) = v.get("enum").and_then(Value::as_array).and_then(|a| a.first()) {
        return Some(x.clone());
    }
    if depth < 4 {
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(first) = schema.get(key).and_then(|l| l.at(0)) {
                return schema_example(api, &api.deref(first), depth + 1);
            }
        }
    }
    let ty = match v.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ => "string",
    };
    Some(match ty {
        "integer" => Value::from(v.get("minimum").and_then(Value::as_i64).unwrap_or(1).max(1)),
        "number" => Value::from(v.get("minimum").and_then(Value::as_f64).unwrap_or(1.0).max(1.0)),
        "boolean" => Value::Bool(true),
        _ => Value::String(match v.get("format").and_then(Value::as_str) {
            Some("uuid") => "00000000-0000-4000-8000-000000000001".into(),
            Some("date-time") => "2025-01-01T00:00:00Z".into(),
            Some("date") => "2025-01-01".into(),
            Some("email") => "probe@example.com".into(),
            _ => "1".into(),
        }),
    })
}

/// A parameter value as it goes into a URL or header.
pub fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(as_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Percent-encodes a path segment or query value (unreserved characters kept).
pub fn encode(s: &str) -> String {
    crate::files::pct::encode(s, crate::files::pct::COMPONENT)
}

/// Whether the operation (or the document, when the operation says nothing) requires HTTP
/// bearer authentication; the probe then sends a token.
fn wants_bearer(api: &Api<'_>, op: &Operation<'_>) -> bool {
    let reqs = op
        .op
        .value
        .get("security")
        .or_else(|| api.doc().value.get("security"))
        .and_then(Value::as_array);
    let Some(reqs) = reqs else { return false };
    let schemes = api.doc().value.pointer("/components/securitySchemes");
    reqs.iter()
        .filter_map(Value::as_object)
        .flat_map(|m| m.keys())
        .any(|name| {
            schemes.and_then(|s| s.get(name)).is_some_and(|s| {
                s.get("scheme")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case("bearer"))
            })
        })
}

/// Whether the document requires credentials for `op`: its `security` (or the document's, when
/// the operation says nothing) lists requirements and none of them is empty (an empty `{}`
/// makes credentials optional).
pub fn requires_credentials(api: &Api<'_>, op: &Operation<'_>) -> bool {
    let reqs = op
        .op
        .value
        .get("security")
        .or_else(|| api.doc().value.get("security"))
        .and_then(Value::as_array);
    reqs.is_some_and(|r| !r.is_empty() && r.iter().all(|x| x.as_object().is_some_and(|m| !m.is_empty())))
}

/// The path a document's operations are served under, which every probe puts before an
/// operation's path: that of the first `servers` URL of the operation, else of its path item,
/// else of the document (the nearest list that is not empty wins, as in OpenAPI), with its
/// variables set to their defaults. Of an absolute URL only the path counts
/// (`https://api.example.com/v2` -> `/v2`); a relative one is read from the service's root
/// (`/v2`, `v2` and `./v2` -> `/v2`). No trailing `/`; `""` (served at `/`) without `servers`,
/// or when the path keeps a variable that has no default.
pub fn base_path(root: &Value, item: Option<&Value>, op: Option<&Value>) -> String {
    fn first(v: Option<&Value>) -> Option<&Value> {
        v?.get("servers")?.as_array()?.first()
    }
    let Some(server) = first(op).or_else(|| first(item)).or_else(|| first(Some(root))) else {
        return String::new();
    };
    let Some(url) = server.get("url").and_then(Value::as_str) else {
        return String::new();
    };
    let mut url = url.trim().to_string();
    if let Some(vars) = server.get("variables").and_then(Value::as_object) {
        for (k, v) in vars {
            if let Some(d) = v.get("default").filter(|d| !d.is_null()) {
                url = url.replace(&format!("{{{k}}}"), &as_text(d));
            }
        }
    }
    let url = url.split(['?', '#']).next().unwrap_or("");
    let path = if let Some(i) = url.find("://") {
        url[i + 3..].find('/').map_or("", |j| &url[i + 3 + j..])
    } else if let Some(rest) = url.strip_prefix("//") {
        rest.find('/').map_or("", |j| &rest[j..])
    } else {
        url
    };
    if path.contains(['{', '}']) || path.contains(char::is_whitespace) {
        return String::new();
    }
    // Dot segments resolved from the root, empty segments (and the trailing `/`) dropped.
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.iter().map(|s| format!("/{s}")).collect()
}

/// Values chosen for the parameters of one request, by (location, name): the value and where
/// it came from, for the request's notes (empty: from the document).
pub type Chosen = BTreeMap<(String, String), (String, String)>;

/// The parameter values of a planned request, as (location, name, value), for the `$request.`
/// expressions of links.
pub type Sent = Vec<(String, String, String)>;

/// Builds the request for `op`: every path parameter and every required query and header
/// parameter filled, the path under the document's [`base_path`]; `None` with the reason when
/// a required value cannot be found.
pub fn plan(api: &Api<'_>, op: &Operation<'_>, seen: &Seen, token: &str) -> Result<Planned, String> {
    plan_with(api, op, seen, token, &Chosen::new()).map(|(p, _)| p)
}

/// [`plan`], with the values of `chosen` (from a link, or one of several values of a path
/// parameter) before anything else, for optional parameters too; also gives the values sent.
pub fn plan_with(
    api: &Api<'_>,
    op: &Operation<'_>,
    seen: &Seen,
    token: &str,
    chosen: &Chosen,
) -> Result<(Planned, Sent), String> {
    let mut path = op.path.to_string();
    let mut query = Vec::new();
    let mut headers = vec![("Accept".to_string(), accept(api, op))];
    let mut notes = Vec::new();
    let mut sent = Sent::new();
    for p in api.parameters(op) {
        let required = p.node.flag("required") || p.location == "path";
        let given = chosen.get(&(p.location.to_string(), p.name.to_string()));
        if !required && given.is_none() {
            continue;
        }
        let created = (p.location == "path")
            .then(|| seen.created_for(op.path, p.name))
            .flatten();
        let value = match (given, p.location, seen.get(p.name), created) {
            (Some((v, note)), ..) => {
                if !note.is_empty() {
                    notes.push(format!("`{}` = `{v}` ({note})", p.name));
                }
                v.clone()
            }
            (None, "path", _, Some(v)) => {
                notes.push(format!("`{}` = `{v}` (the Location of an earlier POST)", p.name));
                v.to_string()
            }
            (None, "path", Some(v), None) => {
                notes.push(format!("`{}` = `{v}` (seen in an earlier answer)", p.name));
                v.to_string()
            }
            _ => match example_of(api, &p.node) {
                Some(v) => as_text(&v),
                None => {
                    return Err(format!(
                        "no value for the required {} parameter `{}`",
                        p.location, p.name
                    ))
                }
            },
        };
        match p.location {
            "path" => path = path.replace(&format!("{{{}}}", p.name), &encode(&value)),
            "query" => query.push(format!("{}={}", encode(p.name), encode(&value))),
            "header" => headers.push((p.name.to_string(), value.clone())),
            _ => {}
        }
        sent.push((p.location.to_string(), p.name.to_string(), value));
    }
    if path.contains('{') {
        return Err(format!("the path `{}` has a parameter that is not declared", op.path));
    }
    if wants_bearer(api, op) {
        headers.push(("Authorization".into(), format!("Bearer {token}")));
    }
    let path = format!(
        "{}{path}",
        base_path(&api.doc().value, Some(op.item.value), Some(op.op.value))
    );
    let target = if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    };
    Ok((
        Planned {
            method: op.method.to_ascii_uppercase(),
            target,
            headers,
            notes,
        },
        sent,
    ))
}

/// The `Accept` header for `op`: the media types its responses document, those of its 2xx
/// responses first and the others (errors) at `q=0.5`; `application/json` when it documents
/// none. A server that negotiates (a mock, a framework with `produces`) then answers with a
/// documented type instead of 406.
pub fn accept(api: &Api<'_>, op: &Operation<'_>) -> String {
    let responses = api.responses(op);
    let (mut success, mut other): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for r in &responses {
        let list = if r.class() == Some('2') {
            &mut success
        } else {
            &mut other
        };
        for (media, _) in api.content(&r.node) {
            let m = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if !m.is_empty() && !m.contains(['\r', '\n', ',']) && !list.contains(&m) {
                list.push(m);
            }
        }
    }
    other.retain(|m| !success.contains(m));
    if success.is_empty() && other.is_empty() {
        return "application/json".into();
    }
    // JSON first among equals: the probes judge JSON bodies.
    for list in [&mut success, &mut other] {
        list.sort_by_key(|m| !crate::artifact::pact::is_json_media(m));
    }
    let weighed = other.iter().map(|m| format!("{m};q=0.5"));
    success.iter().cloned().chain(weighed).collect::<Vec<_>>().join(", ")
}

/// Distinct values known for the path parameter `param` of `op`, with where each came from:
/// ids a POST created (its `Location`), values seen in earlier answers, then the document's
/// examples and enum values. Made-up values are not among them ([`plan`] makes one when none is
/// known).
fn known_values(
    api: &Api<'_>,
    op: &Operation<'_>,
    param: &crate::checks::oas::walk::Param<'_>,
    seen: &Seen,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |v: String, note: &str| {
        if !out.iter().any(|(x, _)| *x == v) {
            out.push((v, note.to_string()));
        }
    };
    for v in seen.created_all(op.path, param.name) {
        add(v.clone(), "the Location of an earlier POST");
    }
    for v in seen.get_all(param.name) {
        add(v.clone(), "seen in an earlier answer");
    }
    let node = &param.node;
    if let Some(v) = node.value.get("example") {
        add(as_text(v), "");
    }
    if let Some(examples) = node.get("examples") {
        for (_, ex) in examples.entries() {
            if let Some(v) = api.deref(ex).value.get("value") {
                add(as_text(v), "");
            }
        }
    }
    if let Some(schema) = node.get("schema").map(|s| api.deref(s)) {
        let v = schema.value;
        for key in ["example", "default", "const"] {
            if let Some(x) = v.get(key) {
                add(as_text(x), "");
            }
        }
        for key in ["examples", "enum"] {
            for x in v.get(key).and_then(Value::as_array).into_iter().flatten() {
                add(as_text(x), "");
            }
        }
    }
    out
}

/// Up to `n` sets of values for the path parameters of `op`, the `i`-th set taking the `i`-th
/// known value of each parameter (its first when it has fewer); one empty set (made-up values)
/// when no value is known.
pub fn value_sets(api: &Api<'_>, op: &Operation<'_>, seen: &Seen, n: usize) -> Vec<Chosen> {
    let known: Vec<(String, Vec<(String, String)>)> = api
        .parameters(op)
        .iter()
        .filter(|p| p.location == "path")
        .map(|p| (p.name.to_string(), known_values(api, op, p, seen)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let k = known.iter().map(|(_, v)| v.len()).max().unwrap_or(0).min(n.max(1));
    if k == 0 {
        return vec![Chosen::new()];
    }
    (0..k)
        .map(|i| {
            known
                .iter()
                .map(|(name, vals)| {
                    let (v, note) = vals.get(i).unwrap_or(&vals[0]).clone();
                    (("path".to_string(), name.clone()), (v, note))
                })
                .collect()
        })
        .collect()
}

/// An exchange whose answer may carry links: what the `$request.` and `$response.` expressions
/// of a Link Object read.
pub struct Exchange<'a> {
    pub method: &'a str,
    /// The URL the request went to.
    pub url: &'a str,
    pub sent: &'a Sent,
    pub headers: &'a [(String, String)],
    pub body: Option<&'a [u8]>,
    pub answer: &'a crate::probe::http::HttpResponse,
}

/// A call that a link of an answer asks for: the operation (its index among `ops`), the values
/// its parameters take, and which link gave them.
#[derive(Debug, Clone)]
pub struct LinkCall {
    pub target: usize,
    pub chosen: Chosen,
    /// `link `userRepositories` of GET /2.0/users/{username} (200)`.
    pub via: String,
}

/// The calls the links of the response `resp` (to `source`) ask for, given `exchange`, and notes
/// on what could not be followed (an operation not among `ops`, an expression the probes do
/// not evaluate, a value the answer does not have). OpenAPI 3.0/3.1 Link Objects, read with
/// the `openapiv3` model: `operationId` or a local `operationRef`, `parameters` as constants or
/// runtime expressions (`$response.body#/id`, `$response.header.Location`, `$request.path.id`,
/// `$request.query.q`, `$request.header.X`, `$request.body#/name`, `$url`, `$method`,
/// `$statusCode`, and `{$...}` embedded in a string).
pub fn link_calls(
    api: &Api<'_>,
    ops: &[Operation<'_>],
    source: &Operation<'_>,
    resp: &Response<'_>,
    exchange: &Exchange<'_>,
) -> (Vec<LinkCall>, Vec<String>) {
    let (mut calls, mut notes) = (Vec::new(), Vec::new());
    let Some(links) = resp.node.get("links") else {
        return (calls, notes);
    };
    for (name, node) in links.entries() {
        let via = format!("link `{name}` of {} ({})", source.label(), resp.code);
        let node = api.deref(node);
        let link: openapiv3::Link = match serde_json::from_value(node.value.clone()) {
            Ok(l) => l,
            Err(e) => {
                notes.push(format!("{via} not followed: not a Link Object ({e})"));
                continue;
            }
        };
        let target = match &link.operation {
            openapiv3::LinkOperation::OperationId(id) => ops.iter().position(|o| o.operation_id() == Some(id.as_str())),
            openapiv3::LinkOperation::OperationRef(r) => match r.strip_prefix('#') {
                Some(fragment) => {
                    let pointer = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
                    ops.iter()
                        .position(|o| o.op.pointer == pointer && o.op.file == source.op.file)
                }
                None => {
                    notes.push(format!(
                        "{via} not followed: its operationRef `{r}` is in another document, which the probes do not follow"
                    ));
                    continue;
                }
            },
        };
        let Some(target) = target else {
            let named = match &link.operation {
                openapiv3::LinkOperation::OperationId(id) => format!("operationId `{id}`"),
                openapiv3::LinkOperation::OperationRef(r) => format!("operationRef `{r}`"),
            };
            notes.push(format!(
                "{via} not followed: its {named} is none of the operations called"
            ));
            continue;
        };
        let params = api.parameters(&ops[target]);
        let mut chosen = Chosen::new();
        let mut failed = Vec::new();
        for (key, expr) in &link.parameters {
            let (location, pname) = match key.split_once('.') {
                Some((l, n)) if matches!(l, "path" | "query" | "header" | "cookie") => (Some(l), n),
                _ => (None, key.as_str()),
            };
            let Some(param) = params
                .iter()
                .find(|p| p.name == pname && location.is_none_or(|l| l == p.location))
            else {
                failed.push(format!("`{key}` is not a parameter of {}", ops[target].label()));
                continue;
            };
            match link_value(expr, exchange) {
                Ok(v) => {
                    let shown = match expr {
                        Value::String(s) => format!("`{s}`"),
                        other => format!("`{other}`"),
                    };
                    chosen.insert(
                        (param.location.to_string(), param.name.to_string()),
                        (v, format!("{via}: {shown}")),
                    );
                }
                Err(why) => failed.push(format!("parameter `{key}`: {why}")),
            }
        }
        if !failed.is_empty() {
            notes.push(if chosen.is_empty() {
                format!("{via} not followed: {}", failed.join("; "))
            } else {
                format!(
                    "{via}: {} (those parameters take values as any call does)",
                    failed.join("; ")
                )
            });
        }
        if link.request_body.is_some() {
            notes.push(format!(
                "{via}: its requestBody is not sent (the probes send bodies made from the schema)"
            ));
        }
        if !chosen.is_empty() {
            calls.push(LinkCall { target, chosen, via });
        }
    }
    (calls, notes)
}

/// The value of a link parameter: a constant, a runtime expression, or a string with `{$...}`
/// expressions embedded; the reason when it has none.
fn link_value(expr: &Value, ex: &Exchange<'_>) -> Result<String, String> {
    let Value::String(s) = expr else {
        return Ok(as_text(expr));
    };
    if s.starts_with('$') {
        return runtime_expression(s, ex).map(|v| as_text(&v));
    }
    if !s.contains("{$") {
        return Ok(s.clone());
    }
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("{$") {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('}') else {
            return Err(format!("`{s}` has an expression without its closing `}}`"));
        };
        out.push_str(&as_text(&runtime_expression(&rest[i + 1..i + j], ex)?));
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Evaluates one runtime expression (OpenAPI 3.0 §Runtime Expressions) on an exchange.
fn runtime_expression(e: &str, ex: &Exchange<'_>) -> Result<Value, String> {
    let missing = |what: &str| format!("`{e}`: the exchange has no {what}");
    let pointer_in = |body: Option<&[u8]>, fragment: Option<&str>, what: &str| -> Result<Value, String> {
        let body = body.filter(|b| !b.is_empty()).ok_or_else(|| missing(what))?;
        let value: Value = serde_json::from_slice(body).map_err(|_| format!("`{e}`: the {what} is not JSON"))?;
        let pointer = percent_encoding::percent_decode_str(fragment.unwrap_or("")).decode_utf8_lossy();
        value
            .pointer(&pointer)
            .filter(|v| !v.is_null())
            .cloned()
            .ok_or_else(|| format!("`{e}`: the {what} has nothing at `{pointer}`"))
    };
    let (head, fragment) = match e.split_once('#') {
        Some((h, f)) => (h, Some(f)),
        None => (e, None),
    };
    match head {
        "$url" => return Ok(Value::String(ex.url.to_string())),
        "$method" => return Ok(Value::String(ex.method.to_string())),
        "$statusCode" => return Ok(Value::from(ex.answer.status)),
        "$request.body" => return pointer_in(ex.body, fragment, "request body"),
        "$response.body" => return pointer_in(Some(&ex.answer.body), fragment, "response body"),
        _ => {}
    }
    if let Some(name) = head.strip_prefix("$response.header.") {
        return ex
            .answer
            .header(name)
            .map(|v| Value::String(v.to_string()))
            .ok_or_else(|| missing(&format!("response header `{name}`")));
    }
    if let Some(name) = head.strip_prefix("$request.header.") {
        return ex
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| Value::String(v.clone()))
            .ok_or_else(|| missing(&format!("request header `{name}`")));
    }
    for location in ["path", "query"] {
        if let Some(name) = head.strip_prefix(&format!("$request.{location}.")) {
            return ex
                .sent
                .iter()
                .find(|(l, n, _)| l == location && n == name)
                .map(|(_, _, v)| Value::String(v.clone()))
                .ok_or_else(|| missing(&format!("{location} parameter `{name}`")));
        }
    }
    Err(format!("`{e}` is not a runtime expression the probes evaluate"))
}

/// Every method probes may send (to services the grader started).
pub fn all_methods() -> Vec<String> {
    ["get", "post", "put", "patch", "delete"].map(String::from).to_vec()
}

/// The operations in the order a client would use a resource: creations (POST) first, then
/// reads, updates, and deletions last, so that ids created are there to read and update and
/// nothing is deleted before it is read; within each, literal paths first.
pub fn stateful_order(mut ops: Vec<Operation<'_>>) -> Vec<Operation<'_>> {
    let rank = |m: &str| match m.to_ascii_lowercase().as_str() {
        "post" => 0,
        "get" | "head" | "options" => 1,
        "put" => 2,
        "patch" => 3,
        "delete" => 5,
        _ => 4,
    };
    ops.sort_by_key(|o| (rank(o.method), o.path.contains('{')));
    ops
}

/// The operations to exercise: those with `methods`, literal paths first (their answers give
/// the values for templated ones), in document order otherwise.
pub fn operations_to_exercise<'s>(api: &'s Api<'_>, methods: &[String]) -> Vec<Operation<'s>> {
    let mut ops: Vec<Operation<'s>> = api
        .operations()
        .into_iter()
        .filter(|o| !o.webhook && methods.iter().any(|m| m.eq_ignore_ascii_case(o.method)))
        .collect();
    ops.sort_by_key(|o| o.path.contains('{'));
    ops
}

/// Sends a planned request to a live service.
pub fn send(
    system: &System,
    svc: &LiveService,
    req: &Planned,
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<crate::probe::http::HttpResponse, crate::probe::http::HttpError> {
    let url = svc.url(&req.target).unwrap_or_default();
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    system.client.send(&req.method, &url, &headers, body, timeout)
}

/// A request to a service that made it call other services through the grader's proxies.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub request: Planned,
    /// The operation, as `GET /v1/orders/{orderId}`.
    pub label: String,
    /// The services it called (proxy callees), in the order of the proxies.
    pub callees: Vec<String>,
}

/// What [`discover_triggers`] found: the requests that made a service call others, and the
/// ones it refused for want of credentials (they reach no call, so they prove nothing).
#[derive(Debug, Default)]
pub struct Triggers {
    pub found: Vec<Trigger>,
    pub refused: Refusals,
}

impl Triggers {
    /// Why no request made the service call: `; 3 requests were refused with 401
    /// Unauthorized`, to append to a reason, or nothing. ([`Refusals::why`] says what to do.)
    pub fn refusal_note(&self) -> String {
        if self.refused.is_empty() {
            return String::new();
        }
        let n = self.refused.count();
        format!(
            "; {n} {} {}",
            if n == 1 { "request was" } else { "requests were" },
            self.refused.refused_with()
        )
    }
}

/// Calls each operation of `svc` with `methods` once and notes which ones make it call other
/// services (seen at the proxies on its outgoing edges). Behaviour, not declarations: only
/// what crosses the wire counts.
pub fn discover_triggers(
    system: &System,
    svc: &LiveService,
    api: &Api<'_>,
    methods: &[String],
    token: &str,
) -> Triggers {
    let outgoing: Vec<&crate::probe::proxy::EdgeProxy> =
        system.proxies.iter().filter(|p| p.caller == svc.name).collect();
    let mut out = Triggers::default();
    if outgoing.is_empty() {
        return out;
    }
    let mut seen = Seen::default();
    for op in operations_to_exercise(api, methods).into_iter().take(200) {
        let Ok(req) = plan(api, &op, &seen, token) else {
            continue;
        };
        let marks: Vec<u64> = outgoing.iter().map(|p| p.seen()).collect();
        let status = match send(system, svc, &req, None, Duration::from_secs(10)) {
            Ok(answer) => {
                if let Ok(v) = serde_json::from_slice::<Value>(&answer.body) {
                    seen.learn(&v);
                }
                Some(answer.status)
            }
            Err(_) => None,
        };
        std::thread::sleep(Duration::from_millis(20));
        let callees: Vec<String> = outgoing
            .iter()
            .zip(&marks)
            .filter(|(p, m)| p.seen() > **m)
            .map(|(p, _)| p.callee.clone())
            .collect();
        if callees.is_empty() {
            if let Some(status) = status {
                out.refused.note(status, &req);
            }
        } else {
            out.found.push(Trigger {
                request: req,
                label: op.label(),
                callees,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_idempotency_key_keeps_the_shape_of_a_uuid() {
        assert_eq!(
            fresh_key("5f0c7a2e-8d1b-4c3e-9a6f-2b7d4e1c9a80", 11),
            "5f0c7a2e-8d1b-4c3e-9a6f-7e570000000b"
        );
        assert_eq!(fresh_key("order-42", 3), "order-42-probe-3");
    }

    #[test]
    fn the_location_of_a_creation_gives_the_id_of_the_item_path() {
        let mut seen = Seen::default();
        seen.learn_location(
            "/v1/notes",
            "/api/v1/notes",
            "http://127.0.0.1:9/api/v1/notes/n%2007?x=1",
        );
        assert_eq!(seen.created_for("/v1/notes/{ref}", "ref"), Some("n 07"));
        assert_eq!(seen.created_for("/v1/notes/{ref}/tags", "ref"), Some("n 07"));
        assert_eq!(seen.created_for("/v1/other/{ref}", "ref"), None);
        // A Location elsewhere tells nothing about the collection.
        let mut other = Seen::default();
        other.learn_location("/v1/notes", "/v1/notes", "/v2/jobs/7");
        assert_eq!(other.created_for("/v1/notes/{ref}", "ref"), None);
    }
    use crate::artifact::document::{Document, Limits};
    use crate::artifact::openapi::{classify, OpenApiDoc};
    use crate::checks::oas::walk::external_docs;
    use serde_json::json;

    fn spec(src: &str) -> OpenApiDoc {
        match classify(Document::parse("openapi.yaml", src, &Limits::default()).unwrap()) {
            Loaded::Ok(d) => d,
            _ => panic!("not OpenAPI"),
        }
    }

    fn doc_base(servers: Value) -> String {
        base_path(&json!({ "servers": servers }), None, None)
    }

    #[test]
    fn the_base_path_is_the_path_of_the_first_server_url() {
        // No servers, an empty list, a server at the root: served at `/`.
        assert_eq!(base_path(&json!({"paths": {}}), None, None), "");
        assert_eq!(doc_base(json!([])), "");
        assert_eq!(doc_base(json!([{"url": "/"}])), "");
        assert_eq!(doc_base(json!([{"url": "https://api.example.com"}])), "");
        assert_eq!(doc_base(json!([{"url": "https://api.example.com/"}])), "");
        // Relative URLs, read from the service's root.
        assert_eq!(doc_base(json!([{"url": "/v2"}])), "/v2");
        assert_eq!(doc_base(json!([{"url": "/v2/"}])), "/v2");
        assert_eq!(doc_base(json!([{"url": "v2"}])), "/v2");
        assert_eq!(doc_base(json!([{"url": "./api/v2/"}])), "/api/v2");
        assert_eq!(doc_base(json!([{"url": "/api//v2/./x/.."}])), "/api/v2");
        // Absolute URLs: only the path counts; query and fragment dropped.
        assert_eq!(doc_base(json!([{"url": "https://api.example.com/v2"}])), "/v2");
        assert_eq!(
            doc_base(json!([{"url": "http://localhost:8080/api/v1/?x=1"}])),
            "/api/v1"
        );
        assert_eq!(doc_base(json!([{"url": "//cdn.example.com/shop#top"}])), "/shop");
        // The first server only.
        assert_eq!(doc_base(json!([{"url": "/v2"}, {"url": "/v1"}])), "/v2");
        // Variables take their defaults, in the host and in the path.
        assert_eq!(
            doc_base(json!([{
                "url": "{scheme}://{host}/api/{version}/",
                "variables": {"scheme": {"default": "https"}, "host": {"default": "x"}, "version": {"default": "v1"}}
            }])),
            "/api/v1"
        );
        assert_eq!(
            doc_base(json!([{"url": "/{version}", "variables": {"version": {"default": "v3", "enum": ["v3"]}}}])),
            "/v3"
        );
        // A variable without a default in the path: unknown, the root.
        assert_eq!(doc_base(json!([{"url": "/{version}"}])), "");
        assert_eq!(doc_base(json!([{"url": 7}])), "");
    }

    #[test]
    fn the_nearest_servers_list_wins() {
        let root = json!({"servers": [{"url": "/v2"}]});
        let item = json!({"servers": [{"url": "https://files.example.com/files"}]});
        let op = json!({"servers": [{"url": "/v3/"}]});
        let empty = json!({"servers": []});
        assert_eq!(base_path(&root, None, None), "/v2");
        assert_eq!(base_path(&root, Some(&json!({})), Some(&json!({}))), "/v2");
        assert_eq!(base_path(&root, Some(&item), None), "/files");
        assert_eq!(base_path(&root, Some(&item), Some(&op)), "/v3");
        assert_eq!(base_path(&root, Some(&empty), Some(&empty)), "/v2");
    }

    #[test]
    fn planned_requests_go_under_the_base_path() {
        let s = spec(
            r#"openapi: 3.0.3
info: {title: Pets, version: '1'}
servers: [{url: 'http://localhost:{port}/v2/', variables: {port: {default: '8080'}}}]
paths:
  /pets:
    get:
      parameters: [{name: limit, in: query, required: true, schema: {type: integer}, example: 5}]
      responses: {'200': {description: ok}}
  /pets/{petId}:
    get:
      parameters: [{name: petId, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
  /files:
    servers: [{url: /blobs}]
    get:
      responses: {'200': {description: ok}}
"#,
        );
        let root = std::env::temp_dir();
        let ext = external_docs(&root, "openapi.yaml", &s);
        let api = Api::with_external(&root, "openapi.yaml", &s, &ext);
        let mut seen = Seen::default();
        seen.learn(&json!({"petId": "p 1"}));
        let targets: Vec<String> = operations_to_exercise(&api, &get_only())
            .iter()
            .map(|op| plan(&api, op, &seen, "t").unwrap().target)
            .collect();
        assert_eq!(targets, ["/v2/pets?limit=5", "/blobs/files", "/v2/pets/p%201"]);
    }

    const LINKED: &str = r#"openapi: 3.0.3
info: {title: Links, version: '1'}
paths:
  /users:
    post:
      operationId: createUser
      responses:
        '201':
          description: created
          content: {application/json: {schema: {type: object}}}
          links:
            byBody: {operationId: getUser, parameters: {id: '$response.body#/user/id'}}
            byHeader:
              operationRef: '#/paths/~1users~1{id}/get'
              parameters: {path.id: '$response.header.X-Id', verbose: true}
            templated: {operationId: getUser, parameters: {id: 'u-{$statusCode}-{$request.query.team}'}}
            unknown: {operationId: getUser, parameters: {id: '$response.cookie.c'}}
            missing: {operationId: nowhere}
        '400':
          description: bad
          content: {application/problem+json: {schema: {type: object}}}
      parameters: [{name: team, in: query, required: true, schema: {type: string}, example: red}]
  /users/{id}:
    get:
      operationId: getUser
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, enum: [u1, u2]}}
        - {name: verbose, in: query, schema: {type: boolean}}
      responses:
        '200': {description: ok, content: {text/plain: {schema: {type: string}}}}
"#;

    #[test]
    fn links_give_the_values_their_expressions_name() {
        let s = spec(LINKED);
        let root = std::env::temp_dir();
        let ext = external_docs(&root, "openapi.yaml", &s);
        let api = Api::with_external(&root, "openapi.yaml", &s, &ext);
        let ops = api.operations();
        let post = ops.iter().find(|o| o.method == "post").unwrap();
        let (planned, sent) = plan_with(&api, post, &Seen::default(), "t", &Chosen::new()).unwrap();
        assert_eq!(planned.target, "/users?team=red");
        let answer = crate::probe::http::HttpResponse {
            status: 201,
            reason: "Created".into(),
            headers: vec![("x-id".into(), "u9".into())],
            body: br#"{"user": {"id": "u7"}}"#.to_vec(),
        };
        let exchange = Exchange {
            method: "POST",
            url: "http://127.0.0.1:9/users?team=red",
            sent: &sent,
            headers: &planned.headers,
            body: None,
            answer: &answer,
        };
        let responses = api.responses(post);
        let (calls, notes) = link_calls(&api, &ops, post, documented(&responses, 201).unwrap(), &exchange);
        let got: Vec<Vec<(String, String)>> = calls
            .iter()
            .map(|c| {
                assert_eq!(ops[c.target].operation_id(), Some("getUser"));
                c.chosen
                    .iter()
                    .map(|((l, n), (v, _))| (format!("{l}.{n}"), v.clone()))
                    .collect()
            })
            .collect();
        assert_eq!(
            got,
            [
                vec![("path.id".to_string(), "u7".to_string())],
                vec![("path.id".into(), "u9".into()), ("query.verbose".into(), "true".into())],
                vec![("path.id".into(), "u-201-red".into())],
            ]
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].contains("`unknown`") && notes[0].contains("not a runtime expression"),
            "{notes:?}"
        );
        assert!(
            notes[1].contains("operationId `nowhere` is none of the operations called"),
            "{notes:?}"
        );
        // The linked call: the link's values first, an optional query parameter too.
        let get = &ops[calls[1].target];
        let (req, _) = plan_with(&api, get, &Seen::default(), "t", &calls[1].chosen).unwrap();
        assert_eq!(req.target, "/users/u9?verbose=true");
        assert!(
            req.notes[0].starts_with("`id` = `u9` (link `byHeader` of POST /users (201)"),
            "{:?}",
            req.notes
        );
    }

    #[test]
    fn accept_lists_the_documented_media_types() {
        let s = spec(LINKED);
        let root = std::env::temp_dir();
        let ext = external_docs(&root, "openapi.yaml", &s);
        let api = Api::with_external(&root, "openapi.yaml", &s, &ext);
        let ops = api.operations();
        let accepts: Vec<String> = ops.iter().map(|o| accept(&api, o)).collect();
        assert_eq!(
            accepts,
            ["application/json, application/problem+json;q=0.5", "text/plain"]
        );
    }

    #[test]
    fn path_parameters_take_several_known_values() {
        let s = spec(LINKED);
        let root = std::env::temp_dir();
        let ext = external_docs(&root, "openapi.yaml", &s);
        let api = Api::with_external(&root, "openapi.yaml", &s, &ext);
        let ops = api.operations();
        let get = ops.iter().find(|o| o.method == "get").unwrap();
        let mut seen = Seen::default();
        seen.learn_location("/users", "/users", "/users/c1");
        seen.learn(&json!([{"id": "s1"}, {"id": "c1"}, {"id": "s2"}]));
        let values = |n: usize| -> Vec<String> {
            value_sets(&api, get, &seen, n)
                .iter()
                .map(|c| c[&("path".to_string(), "id".to_string())].0.clone())
                .collect()
        };
        // Created first, then seen (distinct), then the documented enum.
        assert_eq!(values(3), ["c1", "s1", "s2"]);
        assert_eq!(values(9), ["c1", "s1", "s2", "u1", "u2"]);
        assert_eq!(values(0), ["c1"]);
        // Nothing known: one empty set (plan makes a value up).
        let post = ops.iter().find(|o| o.method == "post").unwrap();
        assert_eq!(value_sets(&api, post, &seen, 3), vec![Chosen::new()]);
    }

    #[test]
    fn credentials_are_required_only_by_a_non_empty_requirement() {
        let s = spec(
            r#"openapi: 3.0.3
info: {title: T, version: '1'}
security: [{key: []}]
components: {securitySchemes: {key: {type: apiKey, in: header, name: X-Key}}}
paths:
  /a: {get: {responses: {'200': {description: ok}}}}
  /b: {get: {security: [], responses: {'200': {description: ok}}}}
  /c: {get: {security: [{}, {key: []}], responses: {'200': {description: ok}}}}
"#,
        );
        let root = std::env::temp_dir();
        let ext = external_docs(&root, "openapi.yaml", &s);
        let api = Api::with_external(&root, "openapi.yaml", &s, &ext);
        let got: Vec<(String, bool)> = api
            .operations()
            .iter()
            .map(|op| (op.path.to_string(), requires_credentials(&api, op)))
            .collect();
        assert_eq!(
            got,
            [
                ("/a".to_string(), true),
                ("/b".to_string(), false),
                ("/c".to_string(), false)
            ]
        );
    }

    #[test]
    fn refusals_say_which_status_and_what_lets_the_probes_in() {
        let req = |token: bool| Planned {
            method: "GET".into(),
            target: "/x".into(),
            headers: if token {
                vec![("Authorization".into(), "Bearer t".into())]
            } else {
                Vec::new()
            },
            notes: Vec::new(),
        };
        let mut r = Refusals::default();
        assert!(!r.note(404, &req(true)) && !r.note(200, &req(true)) && r.is_empty());
        assert!(r.note(401, &req(true)) && r.note(401, &req(true)));
        assert_eq!(r.count(), 2);
        assert_eq!(r.refused_with(), "refused with 401 Unauthorized");
        assert!(r.why().contains("the service needs credentials the probes do not have"));
        assert!(r.why().contains("the bearer token the probes sent"), "{}", r.why());
        let mut none = Refusals::default();
        none.note(403, &req(false));
        assert!(none.why().contains("the probes sent none"), "{}", none.why());
        r.add(&none);
        assert_eq!(
            r.refused_with(),
            "refused with 401 Unauthorized (2) or 403 Forbidden (1)"
        );
        assert!(
            r.why().contains("only where the document requires HTTP bearer"),
            "{}",
            r.why()
        );
    }
}
