//! Pact contract files (specification v2, v3 and v4; v1 is recognised), read with positions.
//!
//! A [`PactFile`] holds the document, the consumer and provider names, the specification
//! version declared in `metadata`, and every interaction:
//!
//! * **HTTP** interactions (v2/v3 `interactions`, v4 `Synchronous/HTTP`): the request's method,
//!   path, query, headers and body, and the response's status, headers and body, each body
//!   with the JSON pointer of its value in the file (v4 bodies are `{content, contentType,
//!   encoded}`: the pointer is that of `content`);
//! * **message** interactions (v3 `messages`, v4 `Asynchronous/Messages` and
//!   `Synchronous/Messages`): recognised, but not modelled further: they are checked against
//!   the event catalog, not against OpenAPI.
//!
//! Matching rules are read in the v2 form (`"$.body.items[*].price": {"match": "type"}`) and
//! the v3/v4 form (`"body": {"$.items[*].price": {"matchers": [...]}}`), enough to answer, for
//! a place in a body, which rule applies ([`Rules::lenient_at`], [`Rules::dynamic_keys_at`]).
//!
//! Problems that leave the file usable (a missing `description`, a matcher Pact does not know,
//! rules in the v2 form in a v3 file, ...) are collected in [`PactFile::problems`]; a file that
//! is not JSON or not a Pact file at all is [`Loaded::Invalid`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::document::{escape_pointer_segment, Document, Format, Limits, Location};
use super::json_value_kind as kind_of;
use super::{read_bytes, ArtifactProblem, Loaded};
use crate::files::ArtifactRef;

/// The specification versions whose files are read.
pub const SUPPORTED: [u8; 3] = [2, 3, 4];

/// The version written in `metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecVersion {
    /// As written, e.g. `3.0.0`.
    pub written: String,
    /// The major version (`None` when it does not parse).
    pub major: Option<u8>,
    pub pointer: String,
}

/// The consumer or the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    /// Pointer of the `name` value.
    pub pointer: String,
}

/// A parsed pact file.
#[derive(Debug)]
pub struct PactFile {
    pub doc: Document,
    pub consumer: Option<Party>,
    pub provider: Option<Party>,
    /// The version declared in `metadata`, when there is one.
    pub spec: Option<SpecVersion>,
    /// The version the file is read as: the declared major version when supported, else the
    /// one its structure shows.
    pub version: u8,
    pub interactions: Vec<Interaction>,
    /// Problems that do not stop the file from being read.
    pub problems: Vec<ArtifactProblem>,
}

impl PactFile {
    /// The HTTP interactions that could be read.
    pub fn http(&self) -> impl Iterator<Item = (&Interaction, &Http)> {
        self.interactions.iter().filter_map(|i| match &i.kind {
            Kind::Http(h) => Some((i, h.as_ref())),
            _ => None,
        })
    }

    /// The number of message interactions (asynchronous or synchronous).
    pub fn message_count(&self) -> usize {
        self.interactions
            .iter()
            .filter(|i| matches!(i.kind, Kind::Message { .. }))
            .count()
    }
}

/// One interaction of a pact.
#[derive(Debug, Clone)]
pub struct Interaction {
    /// Pointer of the interaction: `/interactions/3` or `/messages/0`.
    pub pointer: String,
    pub description: Option<String>,
    pub provider_states: Vec<String>,
    pub kind: Kind,
}

impl Interaction {
    /// `"a request for an order"` or `interaction 3`.
    pub fn label(&self) -> String {
        match &self.description {
            Some(d) => format!("\"{d}\""),
            None => format!("interaction {}", self.pointer.rsplit('/').next().unwrap_or("?")),
        }
    }
}

/// What kind of interaction it is.
#[derive(Debug, Clone)]
pub enum Kind {
    Http(Box<Http>),
    /// A message: `synchronous` for v4 `Synchronous/Messages`.
    Message {
        synchronous: bool,
    },
    /// An interaction that could not be read (see the file's problems).
    Invalid,
}

/// An HTTP request and the response the consumer expects.
#[derive(Debug, Clone)]
pub struct Http {
    pub request: Request,
    pub response: Response,
}

/// A header or query value with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub values: Vec<String>,
    pub pointer: String,
}

#[derive(Debug, Clone)]
pub struct Request {
    /// Upper case.
    pub method: String,
    pub path: String,
    pub query: Vec<Field>,
    pub headers: Vec<Field>,
    pub body: Option<Body>,
    pub rules: Rules,
    /// Pointer of the request object.
    pub pointer: String,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<Field>,
    pub body: Option<Body>,
    pub rules: Rules,
    pub pointer: String,
}

/// Case-insensitive header lookup.
pub fn header<'f>(headers: &'f [Field], name: &str) -> Option<&'f Field> {
    headers.iter().find(|h| h.name.eq_ignore_ascii_case(name))
}

/// A request or response body.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub content: BodyContent,
    /// Pointer of the body's value in the file.
    pub pointer: String,
    /// From the v4 body's `contentType`, else the `Content-Type` header.
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BodyContent {
    Json(Value),
    Text(String),
    /// Base64-encoded bytes (not inspected).
    Binary,
}

/// True for JSON media types (`application/json`, `application/problem+json`, ...).
pub fn is_json_media(media: &str) -> bool {
    let m = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    m == "application/json" || m.ends_with("+json") || m == "text/json"
}

// ---------------------------------------------------------------------------------------------
// Matching rules
// ---------------------------------------------------------------------------------------------

/// One segment of a matching-rule path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Field(String),
    Index(usize),
    /// `*` or `[*]`.
    Star,
}

/// A matcher of a rule: its kind (`type`, `regex`, `equality`, ...) and its bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub kind: String,
    pub min: Option<u64>,
    pub max: Option<u64>,
    /// The `regex` of a regex matcher, the `value` of an include matcher.
    pub value: Option<String>,
}

/// Matchers Pact knows (v2: `type`, `regex`; v3 adds the rest; v4 adds `arrayContains`,
/// `statusCode`, `notEmpty`, `semver`, `eachKey`, `eachValue`, `datetime`).
pub const KNOWN_MATCHERS: &[&str] = &[
    "type",
    "regex",
    "equality",
    "include",
    "integer",
    "decimal",
    "number",
    "timestamp",
    "datetime",
    "date",
    "time",
    "null",
    "boolean",
    "contentType",
    "values",
    "arrayContains",
    "statusCode",
    "notEmpty",
    "semver",
    "eachKey",
    "eachValue",
];

impl Matcher {
    /// True when the matcher accepts values other than the example (any value of the type,
    /// any string matching a regex, ...); false for `equality` and `null`.
    pub fn is_lenient(&self) -> bool {
        !matches!(self.kind.as_str(), "equality" | "null")
    }

    /// True when the matcher makes the keys of an object examples (`values`, `eachKey`,
    /// `eachValue`).
    pub fn has_dynamic_keys(&self) -> bool {
        matches!(self.kind.as_str(), "values" | "eachKey" | "eachValue")
    }
}

/// A body matching rule: the path it applies to and its matchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Segments after the body root (`$`).
    pub path: Vec<Seg>,
    pub matchers: Vec<Matcher>,
    /// `"combine": "OR"`: any matcher may match (default: all must).
    pub any: bool,
    /// The path as written.
    pub written: String,
}

impl Rule {
    /// How well the rule's path covers `at` (a path of concrete segments): `None` when it does
    /// not apply; otherwise (length, exact segments), the longest and most exact winning.
    fn weight(&self, at: &[Seg]) -> Option<(usize, usize)> {
        if self.path.len() > at.len() {
            return None;
        }
        let mut exact = 0;
        for (r, a) in self.path.iter().zip(at) {
            match (r, a) {
                (Seg::Star, _) => {}
                (Seg::Field(x), Seg::Field(y)) if x == y => exact += 1,
                (Seg::Index(x), Seg::Index(y)) if x == y => exact += 1,
                _ => return None,
            }
        }
        Some((self.path.len(), exact))
    }
}

/// The body matching rules of a request or response (header, query and path rules are not
/// needed by the static checks and are only validated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub body: Vec<Rule>,
    /// The v4 `status` rule (`statusCode` matcher): the status classes it accepts.
    pub status: Vec<String>,
}

impl Rules {
    /// The rule that governs the body value at `at`: the most specific one whose path is `at`
    /// or an ancestor of it (Pact's type matchers cascade to the children).
    pub fn rule_at(&self, at: &[Seg]) -> Option<&Rule> {
        self.body
            .iter()
            .filter_map(|r| r.weight(at).map(|w| (w, r)))
            .max_by_key(|(w, _)| *w)
            .map(|(_, r)| r)
    }

    /// True when the value at `at` is matched leniently (by type, regex, ...), so only its JSON
    /// type has to agree with a schema, not its content.
    pub fn lenient_at(&self, at: &[Seg]) -> bool {
        self.rule_at(at)
            .is_some_and(|r| !r.matchers.is_empty() && r.matchers.iter().all(Matcher::is_lenient))
    }

    /// True when a rule on exactly this object makes its keys examples (`values`, `eachKey`).
    pub fn dynamic_keys_at(&self, at: &[Seg]) -> bool {
        self.body.iter().any(|r| {
            r.weight(at).is_some_and(|(len, _)| len == at.len()) && r.matchers.iter().any(Matcher::has_dynamic_keys)
        })
    }
}

/// Whether a v3 rule combines its matchers with `OR`.
fn combine_or(rule: &Value) -> bool {
    rule.get("combine").and_then(Value::as_str) == Some("OR")
}

/// The segments of a JSON pointer (relative to a body), as concrete rule segments.
pub fn pointer_segments(pointer: &str) -> Vec<Seg> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| {
            let s = super::document::unescape_pointer_segment(s).into_owned();
            match s.parse::<usize>() {
                Ok(i) if !s.starts_with('+') => Seg::Index(i),
                _ => Seg::Field(s),
            }
        })
        .collect()
}

/// Parses a rule path (`$.a.b[0][*]['x y'].*`), the leading `$` included.
pub fn parse_rule_path(path: &str) -> Result<Vec<Seg>, String> {
    let p = path.trim();
    let Some(mut rest) = p.strip_prefix('$') else {
        return Err("a matching-rule path starts with `$`".into());
    };
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() {
                return Err("an empty name after `.`".into());
            }
            out.push(if name == "*" {
                Seg::Star
            } else {
                Seg::Field(name.to_string())
            });
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            if let Some(q) = r.strip_prefix('\'').or_else(|| r.strip_prefix('"')) {
                let quote = if r.starts_with('\'') { '\'' } else { '"' };
                let Some(end) = q.find(quote) else {
                    return Err("an unterminated quoted name".into());
                };
                let Some(after) = q[end + 1..].strip_prefix(']') else {
                    return Err("a quoted name must be followed by `]`".into());
                };
                out.push(Seg::Field(q[..end].to_string()));
                rest = after;
            } else {
                let Some(end) = r.find(']') else {
                    return Err("an unterminated `[`".into());
                };
                let inner = r[..end].trim();
                if inner == "*" {
                    out.push(Seg::Star);
                } else {
                    match inner.parse::<usize>() {
                        Ok(i) => out.push(Seg::Index(i)),
                        Err(_) => return Err(format!("`[{inner}]` is neither an index nor `*`")),
                    }
                }
                rest = &r[end + 1..];
            }
        } else {
            return Err(format!("unexpected `{}`", rest.chars().next().unwrap_or(' ')));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// Loads and parses the pact file `r`.
pub fn load(r: &ArtifactRef, limits: &Limits) -> Loaded<PactFile> {
    let bytes = match read_bytes(r, limits) {
        Loaded::Ok(b) => b,
        Loaded::Missing => return Loaded::Missing,
        Loaded::Invalid(p) => return Loaded::Invalid(p),
    };
    parse_bytes(&r.rel, &bytes)
}

/// Parses the bytes of a pact file named `name`.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Loaded<PactFile> {
    let fail = |message: String, location: Option<Location>, help: String| {
        Loaded::Invalid(ArtifactProblem {
            message,
            location,
            pointer: None,
            help,
        })
    };
    if bytes.contains(&0) {
        return fail(
            "the file is binary, not a JSON pact file".into(),
            None,
            "name the pact's JSON file".into(),
        );
    }
    let source = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            return fail(
                format!(
                    "the file is not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                ),
                None,
                "save the pact file as UTF-8 JSON".into(),
            )
        }
    };
    let looks_yaml = Format::detect(source) == Format::Yaml && !source.trim().is_empty();
    match Document::parse_as(Format::Json, name, source, &Limits::default()) {
        Ok(doc) => parse(doc),
        Err(e) => {
            let mut help = e.help();
            if looks_yaml {
                help = format!("a pact file is JSON, as written by the Pact libraries (it starts with `{{`); {help}");
            }
            fail(e.to_string(), e.location(), help)
        }
    }
}

/// Reads a parsed document as a pact file.
pub fn parse(doc: Document) -> Loaded<PactFile> {
    let Some(root) = doc.value.as_object() else {
        return Loaded::Invalid(ArtifactProblem {
            message: "not a Pact file: the top level is not a JSON object".into(),
            location: Some(doc.locate("")),
            pointer: None,
            help: "a pact file is an object with `consumer`, `provider`, `interactions` and `metadata`".into(),
        });
    };
    let known = ["consumer", "provider", "interactions", "messages"];
    if !known.iter().any(|k| root.contains_key(*k)) {
        let message = if root.contains_key("expected") && root.contains_key("actual") {
            "not a Pact file: this is a matching test case of the Pact specification (`expected`/`actual`)".to_string()
        } else if root.contains_key("openapi") || root.contains_key("swagger") {
            "not a Pact file: this is an OpenAPI document".to_string()
        } else if root.contains_key("asyncapi") {
            "not a Pact file: this is an AsyncAPI document".to_string()
        } else {
            "not a Pact file: it has no `consumer`, `provider` or `interactions`".to_string()
        };
        return Loaded::Invalid(ArtifactProblem {
            message,
            location: Some(doc.locate("")),
            pointer: None,
            help: "name the pact files written by the consumer's Pact tests (e.g. `pacts/gateway-orders.json`)".into(),
        });
    }
    let mut p = Parser {
        doc: &doc,
        problems: Vec::new(),
    };
    let consumer = p.party(root, "consumer");
    let provider = p.party(root, "provider");
    let spec = p.spec_version(root);
    let declared = spec
        .as_ref()
        .and_then(|s| s.major)
        .filter(|m| SUPPORTED.contains(m) || *m == 1);
    let version = declared.unwrap_or_else(|| infer_version(root));
    let mut interactions = Vec::new();
    match root.get("interactions") {
        Some(Value::Array(list)) => {
            for (i, v) in list.iter().enumerate() {
                interactions.push(p.interaction(v, &format!("/interactions/{i}"), version, false));
            }
        }
        Some(_) => p.problem(
            "/interactions",
            "`interactions` must be an array",
            "write the interactions as a JSON array: `\"interactions\": [ {...} ]`",
        ),
        None => {}
    }
    match root.get("messages") {
        Some(Value::Array(list)) => {
            if version >= 4 {
                p.problem(
                    "/messages",
                    "a v4 pact lists messages under `interactions` (with `\"type\": \"Asynchronous/Messages\"`), not \
                     `messages`",
                    "regenerate the pact with a current Pact library, or move the messages into `interactions`",
                );
            }
            for (i, v) in list.iter().enumerate() {
                interactions.push(p.interaction(v, &format!("/messages/{i}"), version, true));
            }
        }
        Some(_) => p.problem(
            "/messages",
            "`messages` must be an array",
            "write the messages as a JSON array",
        ),
        None => {}
    }
    if !root.contains_key("interactions") && !root.contains_key("messages") {
        p.problem(
            "",
            "the pact has no `interactions`",
            "a pact lists the interactions the consumer's tests recorded; regenerate it from the consumer's tests",
        );
    } else if interactions.is_empty() {
        let at = if root.contains_key("interactions") {
            "/interactions"
        } else {
            "/messages"
        };
        p.problem(
            at,
            "the pact has no interactions: it constrains nothing",
            "write consumer tests that record the requests the consumer makes, and publish the pact they produce",
        );
    }
    p.duplicates(&interactions);
    let problems = p.problems;
    Loaded::Ok(PactFile {
        consumer,
        provider,
        spec,
        version,
        interactions,
        problems,
        doc,
    })
}

/// The version a file's structure shows when `metadata` does not say.
fn infer_version(root: &Map<String, Value>) -> u8 {
    let interactions = root.get("interactions").and_then(Value::as_array);
    if interactions.is_some_and(|l| l.iter().any(|i| i.get("type").is_some())) {
        return 4;
    }
    if root.contains_key("messages")
        || interactions.is_some_and(|l| {
            l.iter().any(|i| {
                i.get("providerStates").is_some()
                    || ["request", "response"].iter().any(|k| {
                        i.get(*k)
                            .and_then(|r| r.get("matchingRules"))
                            .and_then(Value::as_object)
                            .is_some_and(|m| m.keys().any(|k| !k.starts_with('$')))
                    })
            })
        })
    {
        return 3;
    }
    2
}

struct Parser<'d> {
    doc: &'d Document,
    problems: Vec<ArtifactProblem>,
}

impl Parser<'_> {
    fn problem(&mut self, pointer: &str, message: impl Into<String>, help: impl Into<String>) {
        self.problems.push(ArtifactProblem {
            message: message.into(),
            location: Some(self.doc.locate(pointer)),
            pointer: Some(pointer.to_string()),
            help: help.into(),
        });
    }

    fn party(&mut self, root: &Map<String, Value>, key: &str) -> Option<Party> {
        let help =
            format!("write `\"{key}\": {{\"name\": \"<service name>\"}}`, naming the service as in submission.toml");
        match root.get(key) {
            Some(Value::Object(m)) => match m.get("name") {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(Party {
                    name: s.trim().to_string(),
                    pointer: format!("/{key}/name"),
                }),
                Some(Value::String(_)) => {
                    self.problem(&format!("/{key}/name"), format!("`{key}.name` is empty"), help);
                    None
                }
                Some(other) => {
                    self.problem(
                        &format!("/{key}/name"),
                        format!("`{key}.name` must be a string, found {}", kind_of(other)),
                        help,
                    );
                    None
                }
                None => {
                    self.problem(&format!("/{key}"), format!("`{key}` has no `name`"), help);
                    None
                }
            },
            Some(other) => {
                self.problem(
                    &format!("/{key}"),
                    format!("`{key}` must be an object with a `name`, found {}", kind_of(other)),
                    help,
                );
                None
            }
            None => {
                self.problem("", format!("the pact names no `{key}`"), help);
                None
            }
        }
    }

    fn spec_version(&mut self, root: &Map<String, Value>) -> Option<SpecVersion> {
        let help = "Pact libraries write `\"metadata\": {\"pactSpecification\": {\"version\": \"3.0.0\"}}`; \
                    regenerate the pact, or add the version it follows (2.0.0, 3.0.0 or 4.0)";
        let Some(meta) = root.get("metadata").and_then(Value::as_object) else {
            self.problem(
                "",
                "the pact does not say which Pact specification it follows (no `metadata.pactSpecification.version`)",
                help,
            );
            return None;
        };
        let mut found = None;
        for key in ["pactSpecification", "pact-specification"] {
            if let Some(v) = meta.get(key).and_then(|s| s.get("version")) {
                found = Some((v, format!("/metadata/{key}/version")));
                break;
            }
        }
        if found.is_none() {
            if let Some(v) = meta.get("pactSpecificationVersion") {
                found = Some((v, "/metadata/pactSpecificationVersion".to_string()));
            }
        }
        let Some((v, pointer)) = found else {
            self.problem(
                "/metadata",
                "`metadata` does not say which Pact specification the pact follows",
                help,
            );
            return None;
        };
        let written = match v {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            other => {
                self.problem(
                    &pointer,
                    format!("the specification version must be a string, found {}", kind_of(other)),
                    help,
                );
                return None;
            }
        };
        let major = written
            .trim_start_matches(['v', 'V'])
            .split('.')
            .next()
            .and_then(|m| m.parse::<u8>().ok());
        match major {
            Some(m) if SUPPORTED.contains(&m) => {}
            Some(1) => self.problem(
                &pointer,
                format!("Pact specification {written} is not supported: v2, v3 and v4 are"),
                "regenerate the pact with a current Pact library (it writes v3 or v4)",
            ),
            _ => self.problem(
                &pointer,
                format!("`{written}` is not a Pact specification version this grader reads (2.0.0, 3.0.0, 4.0)"),
                help,
            ),
        }
        Some(SpecVersion {
            written,
            major,
            pointer,
        })
    }

    fn interaction(&mut self, v: &Value, pointer: &str, version: u8, in_messages: bool) -> Interaction {
        let mut it = Interaction {
            pointer: pointer.to_string(),
            description: None,
            provider_states: Vec::new(),
            kind: Kind::Invalid,
        };
        let Some(m) = v.as_object() else {
            self.problem(
                pointer,
                format!("an interaction must be an object, found {}", kind_of(v)),
                "each interaction has a `description`, a `request` and a `response`",
            );
            return it;
        };
        match m.get("description") {
            Some(Value::String(s)) if !s.trim().is_empty() => it.description = Some(s.clone()),
            Some(Value::String(_)) => self.problem(
                &format!("{pointer}/description"),
                "the interaction's `description` is empty",
                "describe the interaction (e.g. \"a request for an existing order\"); Pact identifies interactions by \
                 description and provider state",
            ),
            Some(other) => self.problem(
                &format!("{pointer}/description"),
                format!("`description` must be a string, found {}", kind_of(other)),
                "describe the interaction in a string",
            ),
            None => self.problem(
                pointer,
                "the interaction has no `description`",
                "add a `description` (e.g. \"a request for an existing order\"); Pact identifies interactions by \
                 description and provider state",
            ),
        }
        it.provider_states = self.provider_states(m, pointer, version);
        if in_messages {
            if !m.contains_key("contents") && !m.contains_key("content") {
                self.problem(
                    pointer,
                    "the message has no `contents`",
                    "a message interaction records the message's `contents`",
                );
            }
            it.kind = Kind::Message { synchronous: false };
            return it;
        }
        let ty = m.get("type");
        if version >= 4 || ty.is_some() {
            match ty {
                Some(Value::String(t)) => match t.as_str() {
                    "Synchronous/HTTP" => {}
                    "Asynchronous/Messages" => {
                        it.kind = Kind::Message { synchronous: false };
                        return it;
                    }
                    "Synchronous/Messages" => {
                        it.kind = Kind::Message { synchronous: true };
                        return it;
                    }
                    other => {
                        self.problem(
                            &format!("{pointer}/type"),
                            format!("unknown interaction type `{other}`"),
                            "v4 interaction types are `Synchronous/HTTP`, `Asynchronous/Messages` and \
                             `Synchronous/Messages`",
                        );
                        return it;
                    }
                },
                Some(other) => {
                    self.problem(
                        &format!("{pointer}/type"),
                        format!("the interaction `type` must be a string, found {}", kind_of(other)),
                        "write e.g. `\"type\": \"Synchronous/HTTP\"`",
                    );
                    return it;
                }
                None => self.problem(
                    pointer,
                    "a v4 interaction must say its `type`",
                    "add `\"type\": \"Synchronous/HTTP\"` (or the message type)",
                ),
            }
            if version < 4 {
                self.problem(
                    &format!("{pointer}/type"),
                    format!("the interaction is written in the v4 format (`type`) but the pact declares v{version}"),
                    "declare `4.0` in `metadata.pactSpecification.version`, or regenerate the pact",
                );
            }
        }
        let request = self.request(m.get("request"), &format!("{pointer}/request"), version);
        let response = self.response(m.get("response"), &format!("{pointer}/response"), version);
        if let (Some(request), Some(response)) = (request, response) {
            it.kind = Kind::Http(Box::new(Http { request, response }));
        }
        it
    }

    fn provider_states(&mut self, m: &Map<String, Value>, pointer: &str, version: u8) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(v) = m.get("providerState").or_else(|| m.get("provider_state")) {
            let key = if m.contains_key("providerState") {
                "providerState"
            } else {
                "provider_state"
            };
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Null => {}
                other => self.problem(
                    &format!("{pointer}/{key}"),
                    format!("`{key}` must be a string, found {}", kind_of(other)),
                    "name the provider state in a string",
                ),
            }
            if version >= 3 {
                self.problem(
                    &format!("{pointer}/{key}"),
                    format!("`{key}` is the v2 form; a v{version} pact lists `providerStates`"),
                    "write `\"providerStates\": [{\"name\": \"...\", \"params\": {...}}]`",
                );
            }
        }
        if let Some(v) = m.get("providerStates") {
            let at = format!("{pointer}/providerStates");
            match v {
                Value::Array(list) => {
                    for (i, s) in list.iter().enumerate() {
                        match s.get("name") {
                            Some(Value::String(n)) => out.push(n.clone()),
                            _ => self.problem(
                                &format!("{at}/{i}"),
                                "a provider state must be an object with a string `name`",
                                "write `{\"name\": \"order 42 exists\", \"params\": {\"id\": 42}}`",
                            ),
                        }
                    }
                }
                other => self.problem(
                    &at,
                    format!("`providerStates` must be an array, found {}", kind_of(other)),
                    "write `\"providerStates\": [{\"name\": \"...\"}]`",
                ),
            }
        }
        out
    }

    fn request(&mut self, v: Option<&Value>, pointer: &str, version: u8) -> Option<Request> {
        let m = self.object(v, pointer, "request", "a `request` with `method` and `path`")?;
        let method = match m.get("method") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_ascii_uppercase()),
            Some(other) => {
                self.problem(
                    &format!("{pointer}/method"),
                    format!("the request `method` must be an HTTP method, found {}", kind_of(other)),
                    "write e.g. `\"method\": \"GET\"`",
                );
                None
            }
            None => {
                self.problem(pointer, "the request has no `method`", "add e.g. `\"method\": \"GET\"`");
                None
            }
        };
        let path = match m.get("path") {
            Some(Value::String(s)) => {
                if !s.starts_with('/') {
                    self.problem(
                        &format!("{pointer}/path"),
                        format!("the request path `{s}` does not start with `/`"),
                        "write the path from the root, e.g. `/v1/orders/42`, without host or query",
                    );
                }
                Some(s.clone())
            }
            Some(other) => {
                self.problem(
                    &format!("{pointer}/path"),
                    format!("the request `path` must be a string, found {}", kind_of(other)),
                    "write e.g. `\"path\": \"/v1/orders/42\"`",
                );
                None
            }
            None => {
                self.problem(
                    pointer,
                    "the request has no `path`",
                    "add e.g. `\"path\": \"/v1/orders/42\"`",
                );
                None
            }
        };
        let query = self.query(m.get("query"), &format!("{pointer}/query"));
        let headers = self.headers(m.get("headers"), &format!("{pointer}/headers"));
        let body = self.body(m, pointer, &headers, version);
        let rules = self.rules(m, pointer, version, "requestMatchingRules", is_json_body(&body));
        Some(Request {
            method: method?,
            path: path?,
            query,
            headers,
            body,
            rules,
            pointer: pointer.to_string(),
        })
    }

    fn response(&mut self, v: Option<&Value>, pointer: &str, version: u8) -> Option<Response> {
        let m = self.object(v, pointer, "response", "a `response` with a `status`")?;
        let status = match m.get("status") {
            Some(Value::Number(n)) => match n.as_u64() {
                Some(s @ 100..=599) => Some(s as u16),
                _ => {
                    self.problem(
                        &format!("{pointer}/status"),
                        format!("`{n}` is not an HTTP status code (100-599)"),
                        "write the status the provider answers with, e.g. `\"status\": 200`",
                    );
                    None
                }
            },
            Some(Value::String(s)) if s.trim().parse::<u16>().is_ok_and(|n| (100..=599).contains(&n)) => {
                self.problem(
                    &format!("{pointer}/status"),
                    "the response `status` is a string; Pact writes a number",
                    format!("write `\"status\": {}`", s.trim()),
                );
                s.trim().parse::<u16>().ok()
            }
            Some(other) => {
                self.problem(
                    &format!("{pointer}/status"),
                    format!("the response `status` must be a number, found {}", kind_of(other)),
                    "write e.g. `\"status\": 200`",
                );
                None
            }
            None => {
                // Pact defaults a missing status to 200.
                Some(200)
            }
        };
        let headers = self.headers(m.get("headers"), &format!("{pointer}/headers"));
        let body = self.body(m, pointer, &headers, version);
        let rules = self.rules(m, pointer, version, "responseMatchingRules", is_json_body(&body));
        Some(Response {
            status: status?,
            headers,
            body,
            rules,
            pointer: pointer.to_string(),
        })
    }

    fn object<'v>(
        &mut self,
        v: Option<&'v Value>,
        pointer: &str,
        what: &str,
        help: &str,
    ) -> Option<&'v Map<String, Value>> {
        match v {
            Some(Value::Object(m)) => Some(m),
            Some(other) => {
                self.problem(
                    pointer,
                    format!("the `{what}` must be an object, found {}", kind_of(other)),
                    format!("an HTTP interaction has {help}"),
                );
                None
            }
            None => {
                let parent = pointer.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                self.problem(
                    parent,
                    format!("the interaction has no `{what}`"),
                    format!("an HTTP interaction has {help}"),
                );
                None
            }
        }
    }

    fn query(&mut self, v: Option<&Value>, pointer: &str) -> Vec<Field> {
        let mut out = Vec::new();
        match v {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for pair in s.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
                    let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
                    map.entry(form_decode(k)).or_default().push(form_decode(val));
                }
                for (name, values) in map {
                    out.push(Field {
                        name,
                        values,
                        pointer: pointer.to_string(),
                    });
                }
            }
            Some(Value::Object(m)) => {
                for (k, val) in m {
                    let at = format!("{pointer}/{}", escape_pointer_segment(k));
                    let values = match val {
                        Value::Array(list) => list.iter().filter_map(scalar_string).collect(),
                        other => scalar_string(other).into_iter().collect(),
                    };
                    out.push(Field {
                        name: k.clone(),
                        values,
                        pointer: at,
                    });
                }
            }
            Some(other) => self.problem(
                pointer,
                format!(
                    "`query` must be an object (or a query string in v2), found {}",
                    kind_of(other)
                ),
                "write `\"query\": {\"status\": [\"OPEN\"]}`",
            ),
        }
        out
    }

    fn headers(&mut self, v: Option<&Value>, pointer: &str) -> Vec<Field> {
        let mut out = Vec::new();
        match v {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, val) in m {
                    let at = format!("{pointer}/{}", escape_pointer_segment(k));
                    let values = match val {
                        Value::Array(list) => list.iter().filter_map(scalar_string).collect(),
                        Value::String(s) => vec![s.clone()],
                        other => {
                            self.problem(
                                &at,
                                format!("the header `{k}` must be a string, found {}", kind_of(other)),
                                "write header values as strings",
                            );
                            continue;
                        }
                    };
                    out.push(Field {
                        name: k.clone(),
                        values,
                        pointer: at,
                    });
                }
            }
            Some(other) => self.problem(
                pointer,
                format!("`headers` must be an object, found {}", kind_of(other)),
                "write `\"headers\": {\"Content-Type\": \"application/json\"}`",
            ),
        }
        out
    }

    fn body(&mut self, m: &Map<String, Value>, pointer: &str, headers: &[Field], version: u8) -> Option<Body> {
        let v = m.get("body")?;
        let at = format!("{pointer}/body");
        let header_type = header(headers, "Content-Type").and_then(|h| h.values.first().cloned());
        // v4: {content, contentType, encoded}
        if version >= 4 {
            if let Value::Object(b) = v {
                if b.contains_key("content") {
                    let content_type = b
                        .get("contentType")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or(header_type);
                    let content = b.get("content").unwrap_or(&Value::Null);
                    let at = format!("{at}/content");
                    let encoded = b.get("encoded");
                    let json_type = content_type.as_deref().is_some_and(is_json_media);
                    let content = match (encoded, content) {
                        (Some(Value::String(e)), Value::String(s)) if e.eq_ignore_ascii_case("json") => {
                            match serde_json::from_str::<Value>(s) {
                                Ok(j) => BodyContent::Json(j),
                                Err(err) => {
                                    self.problem(
                                        &at,
                                        format!("the body is marked `encoded: \"json\"` but is not JSON: {err}"),
                                        "write the body as a JSON value with `encoded: false`",
                                    );
                                    return None;
                                }
                            }
                        }
                        (Some(Value::String(e)), _) if e.eq_ignore_ascii_case("base64") => BodyContent::Binary,
                        (_, Value::Null) => return None,
                        (_, Value::String(s)) if !json_type => BodyContent::Text(s.clone()),
                        (_, other) => BodyContent::Json(other.clone()),
                    };
                    return Some(Body {
                        content,
                        pointer: at,
                        content_type,
                    });
                }
            }
        }
        let json_type = header_type.as_deref().is_some_and(is_json_media);
        let content = match v {
            Value::Null => return None,
            Value::String(s) if !json_type => {
                if s.is_empty() {
                    return None;
                }
                BodyContent::Text(s.clone())
            }
            other => BodyContent::Json(other.clone()),
        };
        Some(Body {
            content,
            pointer: at,
            content_type: header_type,
        })
    }

    /// `json_body`: rule paths of other bodies are defined by Pact plugins (e.g. `column:1` for
    /// CSV) and are not read.
    fn rules(&mut self, m: &Map<String, Value>, pointer: &str, version: u8, old_key: &str, json_body: bool) -> Rules {
        let mut rules = Rules::default();
        let (key, v) = match (m.get("matchingRules"), m.get(old_key)) {
            (Some(v), _) => ("matchingRules", v),
            (None, Some(v)) => (old_key, v),
            (None, None) => return rules,
        };
        let at = format!("{pointer}/{key}");
        let Some(map) = v.as_object() else {
            self.problem(
                &at,
                format!("`{key}` must be an object, found {}", kind_of(v)),
                "write the matching rules as an object",
            );
            return rules;
        };
        let v2_style = map.keys().any(|k| k.starts_with('$'));
        if v2_style && version >= 3 {
            self.problem(
                &at,
                format!("the matching rules are written in the v2 form (`$.body...` keys) in a v{version} pact"),
                "a v3/v4 pact groups rules by category: `\"matchingRules\": {\"body\": {\"$.price\": {\"matchers\": \
                 [{\"match\": \"type\"}]}}}`; regenerate the pact with one Pact library version",
            );
        }
        if !v2_style && version < 3 && !map.is_empty() {
            self.problem(
                &at,
                "the matching rules are grouped by category (v3 form) in a v2 pact",
                "declare `3.0.0` in `metadata.pactSpecification.version`, or write v2 rules (`\"$.body.price\": \
                 {\"match\": \"type\"}`)",
            );
        }
        for (k, rule) in map {
            let rule_at = format!("{at}/{}", escape_pointer_segment(k));
            if k.starts_with('$') {
                // v2: `$.body.x`, `$.headers.X`, `$.query.x`, `$.path`
                let path = match parse_rule_path(k) {
                    Ok(p) => p,
                    Err(e) => {
                        self.bad_path(&rule_at, k, &e);
                        continue;
                    }
                };
                let matchers = self.matchers(rule, &rule_at, false);
                if let Some(Seg::Field(first)) = path.first() {
                    if first == "body" {
                        rules.body.push(Rule {
                            path: path[1..].to_vec(),
                            matchers,
                            any: combine_or(rule),
                            written: k.clone(),
                        });
                    }
                }
                continue;
            }
            match k.as_str() {
                "body" => {
                    let Some(paths) = rule.as_object() else {
                        self.problem(&rule_at, "the `body` rules must be an object", "map paths to matchers");
                        continue;
                    };
                    for (path, r) in paths {
                        let r_at = format!("{rule_at}/{}", escape_pointer_segment(path));
                        if !json_body && !path.trim_start().starts_with('$') {
                            continue;
                        }
                        match parse_rule_path(path) {
                            Ok(segs) => {
                                let matchers = self.matchers(r, &r_at, true);
                                rules.body.push(Rule {
                                    path: segs,
                                    matchers,
                                    any: combine_or(r),
                                    written: path.clone(),
                                });
                            }
                            Err(e) => self.bad_path(&r_at, path, &e),
                        }
                    }
                }
                "header" | "headers" | "query" => {
                    if let Some(paths) = rule.as_object() {
                        for (name, r) in paths {
                            let r_at = format!("{rule_at}/{}", escape_pointer_segment(name));
                            self.matchers(r, &r_at, true);
                        }
                    } else {
                        self.problem(
                            &rule_at,
                            format!("the `{k}` rules must be an object"),
                            "map names to matchers",
                        );
                    }
                }
                "path" | "method" => {
                    self.matchers(rule, &rule_at, true);
                }
                "status" => {
                    let ms = self.matchers(rule, &rule_at, true);
                    if let Some(list) = rule.get("matchers").and_then(Value::as_array) {
                        for (i, m) in list.iter().enumerate() {
                            if ms.get(i).is_some_and(|x| x.kind == "statusCode") {
                                match m.get("status") {
                                    Some(Value::String(s)) => rules.status.push(s.clone()),
                                    Some(Value::Array(codes)) => {
                                        rules.status.extend(codes.iter().map(|c| c.to_string()))
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                }
                "metadata" | "metaData" | "content" => {}
                other => self.problem(
                    &rule_at,
                    format!("unknown matching-rule category `{other}`"),
                    "categories are `body`, `header`, `query`, `path` (and `status` in v4)",
                ),
            }
        }
        rules
    }

    fn bad_path(&mut self, at: &str, path: &str, why: &str) {
        self.problem(
            at,
            format!("the matching-rule path `{path}` is not valid: {why}"),
            "write paths like `$.items[*].price` or `$['first name']`",
        );
    }

    /// Reads the matchers of one rule: v3 `{"matchers": [...], "combine": "AND"}`, or one v2
    /// matcher object (`{"match": "type", "min": 1}`, `{"regex": "..."}`, `{"min": 1}`).
    fn matchers(&mut self, rule: &Value, at: &str, v3: bool) -> Vec<Matcher> {
        let list: Vec<(String, &Value)> = match rule.get("matchers") {
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, m)| (format!("{at}/matchers/{i}"), m))
                .collect(),
            Some(other) => {
                self.problem(
                    &format!("{at}/matchers"),
                    format!("`matchers` must be an array, found {}", kind_of(other)),
                    "write `\"matchers\": [{\"match\": \"type\"}]`",
                );
                return Vec::new();
            }
            None if rule.is_object() => {
                if v3 && rule.get("match").is_none() && rule.as_object().is_some_and(|m| m.is_empty()) {
                    return Vec::new();
                }
                vec![(at.to_string(), rule)]
            }
            None => {
                self.problem(
                    at,
                    format!("a matching rule must be an object, found {}", kind_of(rule)),
                    "write `{\"matchers\": [{\"match\": \"type\"}]}`",
                );
                return Vec::new();
            }
        };
        if let Some(c) = rule.get("combine") {
            if !matches!(c.as_str(), Some("AND" | "OR")) {
                self.problem(
                    &format!("{at}/combine"),
                    "`combine` must be `AND` or `OR`",
                    "write `\"combine\": \"AND\"`",
                );
            }
        }
        let mut out = Vec::new();
        for (m_at, m) in list {
            let Some(obj) = m.as_object() else {
                self.problem(
                    &m_at,
                    "a matcher must be an object",
                    "write e.g. `{\"match\": \"type\"}`",
                );
                continue;
            };
            let min = obj.get("min").and_then(Value::as_u64);
            let max = obj.get("max").and_then(Value::as_u64);
            let kind = match obj.get("match") {
                Some(Value::String(k)) => k.clone(),
                Some(other) => {
                    self.problem(
                        &format!("{m_at}/match"),
                        format!("`match` must be a string, found {}", kind_of(other)),
                        "write e.g. `\"match\": \"type\"`",
                    );
                    continue;
                }
                None if obj.contains_key("regex") => "regex".into(),
                None if min.is_some() || max.is_some() => "type".into(),
                None if obj.contains_key("timestamp") => "timestamp".into(),
                None if obj.contains_key("date") => "date".into(),
                None if obj.contains_key("time") => "time".into(),
                None => {
                    self.problem(
                        &m_at,
                        "the matcher does not say what it matches (`match`)",
                        "write e.g. `{\"match\": \"type\"}`",
                    );
                    continue;
                }
            };
            // `min`/`max` are written as `match: "type"` plus bounds, or as their own kinds.
            let kind = match kind.as_str() {
                "min" | "max" | "minType" | "maxType" | "minmax" => "type".to_string(),
                _ => kind,
            };
            if !KNOWN_MATCHERS.contains(&kind.as_str()) {
                let hint = crate::diag::suggestion_suffix(&kind, KNOWN_MATCHERS.iter().copied());
                self.problem(
                    &format!("{m_at}/match"),
                    format!("unknown matcher `{kind}`{hint}"),
                    format!("Pact matchers are {}", KNOWN_MATCHERS.join(", ")),
                );
                continue;
            }
            if kind == "regex" {
                match obj.get("regex") {
                    Some(Value::String(_)) => {}
                    _ => self.problem(
                        &m_at,
                        "a `regex` matcher needs a `regex` string",
                        "write `{\"match\": \"regex\", \"regex\": \"^ord_[0-9A-Z]{12}$\"}`",
                    ),
                }
            }
            let value = match kind.as_str() {
                "regex" => obj.get("regex"),
                _ => obj.get("value"),
            }
            .and_then(Value::as_str)
            .map(str::to_string);
            out.push(Matcher { kind, min, max, value });
        }
        out
    }

    /// Pact identifies an interaction by its description and provider states: two alike are
    /// ambiguous for the verifier.
    fn duplicates(&mut self, interactions: &[Interaction]) {
        let mut seen: BTreeMap<(String, Vec<String>), String> = BTreeMap::new();
        let mut reported = BTreeSet::new();
        for it in interactions {
            let Some(d) = &it.description else { continue };
            let key = (d.clone(), it.provider_states.clone());
            match seen.get(&key) {
                Some(first) if reported.insert(it.pointer.clone()) => {
                    let first_line = self.doc.locate(first).line;
                    self.problem(
                        &format!("{}/description", it.pointer),
                        format!(
                            "two interactions have the description \"{d}\" and the same provider states (the first at \
                             line {first_line})"
                        ),
                        "give each interaction a distinct description: the verifier tells them apart by description and \
                         provider state",
                    );
                }
                Some(_) => {}
                None => {
                    seen.insert(key, it.pointer.clone());
                }
            }
        }
    }
}

/// True unless the body is known not to be JSON (text or binary).
fn is_json_body(body: &Option<Body>) -> bool {
    match body {
        Some(b) => matches!(b.content, BodyContent::Json(_)) || b.content_type.as_deref().is_some_and(is_json_media),
        None => true,
    }
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
fn form_decode(s: &str) -> String {
    super::refs::percent_decode(&s.replace('+', " ")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pact(src: &str) -> PactFile {
        match parse_bytes("p.json", src.as_bytes()) {
            Loaded::Ok(p) => p,
            Loaded::Invalid(p) => panic!("{}", p.message),
            Loaded::Missing => unreachable!(),
        }
    }

    fn invalid(src: &str) -> ArtifactProblem {
        match parse_bytes("p.json", src.as_bytes()) {
            Loaded::Invalid(p) => p,
            _ => panic!("should be invalid: {src}"),
        }
    }

    const V3: &str = r#"{
  "consumer": {"name": "gateway"},
  "provider": {"name": "orders"},
  "interactions": [
    {
      "description": "get an order",
      "providerStates": [{"name": "order 1 exists", "params": {"id": 1}}],
      "request": {"method": "get", "path": "/v1/orders/1", "query": {"expand": ["lines"]},
                  "headers": {"Accept": "application/json"}},
      "response": {
        "status": 200,
        "headers": {"Content-Type": "application/json; charset=utf-8"},
        "body": {"id": "1", "items": [{"price": 3}], "meta": {"a": 1}},
        "matchingRules": {"body": {
          "$.items": {"matchers": [{"match": "type", "min": 1}]},
          "$.id": {"matchers": [{"match": "regex", "regex": "^[0-9]+$"}]},
          "$.meta": {"matchers": [{"match": "values"}]},
          "$.items[*].price": {"matchers": [{"match": "equality"}]}
        }}
      }
    }
  ],
  "metadata": {"pactSpecification": {"version": "3.0.0"}}
}"#;

    #[test]
    fn v3_http() {
        let p = pact(V3);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.version, 3);
        assert_eq!(p.consumer.as_ref().unwrap().name, "gateway");
        assert_eq!(p.provider.as_ref().unwrap().pointer, "/provider/name");
        let (it, h) = p.http().next().unwrap();
        assert_eq!(it.provider_states, vec!["order 1 exists"]);
        assert_eq!(h.request.method, "GET");
        assert_eq!(h.request.query[0].values, vec!["lines"]);
        let body = h.response.body.as_ref().unwrap();
        assert_eq!(body.pointer, "/interactions/0/response/body");
        assert!(matches!(body.content, BodyContent::Json(_)));
        let r = &h.response.rules;
        assert!(r.lenient_at(&pointer_segments("/id")));
        assert!(r.lenient_at(&pointer_segments("/items")));
        assert!(r.lenient_at(&pointer_segments("/items/0")));
        // A more specific rule wins over the cascading type matcher.
        assert!(!r.lenient_at(&pointer_segments("/items/0/price")));
        assert!(r.dynamic_keys_at(&pointer_segments("/meta")));
        assert!(!r.dynamic_keys_at(&pointer_segments("/meta/a")));
        assert!(!r.lenient_at(&pointer_segments("/other")));
    }

    #[test]
    fn v2_rules_and_query_string() {
        let p = pact(
            r#"{"consumer": {"name": "c"}, "provider": {"name": "p"},
            "interactions": [{"description": "d", "providerState": "s",
              "request": {"method": "POST", "path": "/x", "query": "a=1&a=2&b=x+y%21",
                          "headers": {"Content-Type": "application/json"}, "body": {"n": 1}},
              "response": {"status": 201, "body": {"list": [1]},
                           "matchingRules": {"$.body.list": {"min": 1}, "$.headers.X": {"regex": "a"}}}}],
            "metadata": {"pact-specification": {"version": "2.0.0"}}}"#,
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.version, 2);
        let (it, h) = p.http().next().unwrap();
        assert_eq!(it.provider_states, vec!["s"]);
        let q: Vec<(&str, Vec<String>)> = h
            .request
            .query
            .iter()
            .map(|f| (f.name.as_str(), f.values.clone()))
            .collect();
        assert_eq!(q, vec![("a", vec!["1".into(), "2".into()]), ("b", vec!["x y!".into()])]);
        assert_eq!(h.response.rules.body.len(), 1);
        assert!(h.response.rules.lenient_at(&pointer_segments("/list/0")));
    }

    #[test]
    fn v4_bodies_and_messages() {
        let p = pact(
            r#"{"consumer": {"name": "c"}, "provider": {"name": "p"},
            "interactions": [
              {"type": "Synchronous/HTTP", "description": "h",
               "request": {"method": "PUT", "path": "/a", "headers": {"Content-Type": ["application/json"]},
                           "body": {"content": {"x": 1}, "contentType": "application/json", "encoded": false}},
               "response": {"status": 200, "body": {"content": "R0lG", "contentType": "image/gif", "encoded": "base64"}}},
              {"type": "Asynchronous/Messages", "description": "m", "contents": {"content": {}}},
              {"type": "Synchronous/Messages", "description": "s"}
            ],
            "metadata": {"pactSpecification": {"version": "4.0"}}}"#,
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.message_count(), 2);
        let (_, h) = p.http().next().unwrap();
        let b = h.request.body.as_ref().unwrap();
        assert_eq!(b.pointer, "/interactions/0/request/body/content");
        assert_eq!(b.content, BodyContent::Json(serde_json::json!({"x": 1})));
        assert_eq!(h.response.body.as_ref().unwrap().content, BodyContent::Binary);
    }

    #[test]
    fn problems_point_into_the_file() {
        let p = pact(
            r#"{"consumer": {"name": ""}, "provider": {},
            "interactions": [
              {"request": {"path": "x"}, "response": {"status": 700}},
              {"description": "d", "request": {"method": "GET", "path": "/"},
               "response": {"matchingRules": {"$.body.a": {"match": "typo"}}}},
              {"description": "d", "request": {"method": "GET", "path": "/"}, "response": {}}
            ],
            "metadata": {"pactSpecification": {"version": "3.0.0"}}}"#,
        );
        let msgs: Vec<&str> = p.problems.iter().map(|x| x.message.as_str()).collect();
        for needle in [
            "`consumer.name` is empty",
            "`provider` has no `name`",
            "has no `description`",
            "has no `method`",
            "does not start with `/`",
            "`700` is not an HTTP status code",
            "v2 form",
            "unknown matcher `typo`",
            "two interactions have the description \"d\"",
        ] {
            assert!(msgs.iter().any(|m| m.contains(needle)), "{needle}: {msgs:#?}");
        }
        assert!(p.problems.iter().all(|x| x.location.is_some_and(|l| l.line >= 1)));
        let unknown = p.problems.iter().find(|x| x.message.contains("typo")).unwrap();
        assert_eq!(
            unknown.pointer.as_deref(),
            Some("/interactions/1/response/matchingRules/$.body.a/match")
        );
        // Interactions with problems are still listed; the readable HTTP ones are modelled.
        assert_eq!(p.interactions.len(), 3);
        assert_eq!(p.http().count(), 2);
    }

    #[test]
    fn not_pacts() {
        assert!(invalid("openapi: 3.0.0\n").help.contains("JSON"));
        assert!(invalid("[1]").message.contains("not a JSON object"));
        assert!(invalid(r#"{"match": true, "expected": {}, "actual": {}}"#)
            .message
            .contains("test case"));
        assert!(invalid(r#"{"openapi": "3.0.0"}"#).message.contains("OpenAPI"));
        assert!(invalid("{\"a\": 1,}").location.is_some());
        assert!(matches!(parse_bytes("x", b"\x00\x01"), Loaded::Invalid(_)));
        assert!(matches!(parse_bytes("x", b"{\"a\": \"\xff\"}"), Loaded::Invalid(_)));
    }

    #[test]
    fn versions() {
        let p = pact(
            r#"{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"description": "d", "request": {"method": "GET", "path": "/"}, "response": {"status": 200}}]}"#,
        );
        assert_eq!(p.version, 2);
        assert!(p.problems[0].message.contains("does not say which Pact specification"));
        let p = pact(
            r#"{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"description": "d", "request": {"method": "GET", "path": "/"}, "response": {"status": 200}}], "metadata": {"pactSpecification": {"version": "1.0.0"}}}"#,
        );
        assert!(p.problems[0].message.contains("not supported"));
        let p = pact(
            r#"{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [], "metadata": {"pactSpecification": {"version": "9"}}}"#,
        );
        assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
    }

    #[test]
    fn rule_paths() {
        assert_eq!(
            parse_rule_path("$.a['b c'][0][*].*").unwrap(),
            vec![
                Seg::Field("a".into()),
                Seg::Field("b c".into()),
                Seg::Index(0),
                Seg::Star,
                Seg::Star
            ]
        );
        assert_eq!(parse_rule_path("$").unwrap(), vec![]);
        for bad in ["a.b", "$.", "$[x]", "$['a", "$[1", "$..a", "$a"] {
            assert!(parse_rule_path(bad).is_err(), "{bad}");
        }
        assert_eq!(
            pointer_segments("/a~1b/0"),
            vec![Seg::Field("a/b".into()), Seg::Index(0)]
        );
    }

    /// Every file of the shared Pact corpus: real pact files load (v1 ones with a version
    /// problem), the specification's matching test cases are reported as not being pact files,
    /// and their `expected` requests and responses parse without panicking.
    #[test]
    fn corpus() {
        let Some(root) = crate::testing::corpus("pact") else {
            return;
        };
        let (mut pacts, mut cases, mut rejected) = (0, 0, 0);
        for path in crate::testing::files(&root, &["json"], u64::MAX) {
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let name = path.display().to_string();
            let testcase = name.contains("pact-specification-testcases");
            match parse_bytes(&name, &bytes) {
                Loaded::Ok(p) => {
                    assert!(!testcase, "{name} read as a pact");
                    pacts += 1;
                    assert!(p.consumer.is_some() && p.provider.is_some(), "{name}");
                    for it in &p.interactions {
                        assert!(p.doc.locate_exact(&it.pointer).is_some(), "{name}: {}", it.pointer);
                    }
                    for (_, h) in p.http() {
                        for b in [&h.request.body, &h.response.body].into_iter().flatten() {
                            assert!(p.doc.locate_exact(&b.pointer).is_some(), "{name}: {}", b.pointer);
                        }
                    }
                    let v1 = p.spec.as_ref().is_some_and(|s| s.major == Some(1));
                    let problems: Vec<&str> = p.problems.iter().map(|x| x.message.as_str()).collect();
                    if !v1 && p.spec.is_some() {
                        // Real pacts: at most problems about their own sloppiness, never a crash.
                        println!("{name}: {problems:?}");
                    }
                }
                Loaded::Invalid(problem) => {
                    assert!(!problem.message.is_empty() && !problem.help.is_empty(), "{name}");
                    if testcase {
                        cases += 1;
                        assert!(problem.message.contains("test case"), "{name}: {}", problem.message);
                        // The requests and responses inside parse as interaction parts.
                        let doc = Document::parse_as(
                            Format::Json,
                            &name,
                            std::str::from_utf8(&bytes).unwrap(),
                            &Limits::default(),
                        )
                        .unwrap();
                        let version = if name.contains("version-2") {
                            2
                        } else if name.contains("version-3") {
                            3
                        } else {
                            4
                        };
                        let mut p = Parser {
                            doc: &doc,
                            problems: Vec::new(),
                        };
                        let kind = if name.contains("/request/") {
                            "request"
                        } else if name.contains("/response/") {
                            "response"
                        } else {
                            "message"
                        };
                        for side in ["expected", "actual"] {
                            let v = doc.value.get(side);
                            match kind {
                                "request" => {
                                    let _ = p.request(v, &format!("/{side}"), version);
                                }
                                "response" => {
                                    let _ = p.response(v, &format!("/{side}"), version);
                                }
                                _ => {}
                            }
                        }
                        for x in &p.problems {
                            assert!(!x.message.contains("unknown matcher"), "{name}: {}", x.message);
                            assert!(!x.message.contains("is not valid"), "{name}: {}", x.message);
                        }
                    } else {
                        rejected += 1;
                        println!("rejected {name}: {}", problem.message);
                    }
                }
                Loaded::Missing => unreachable!(),
            }
        }
        println!("pact corpus: {pacts} pacts read, {cases} specification test cases recognised, {rejected} rejected");
        assert!(pacts > 0);
        assert!(cases > 0);
    }
}
