//! AsyncAPI event catalogs (2.6 and 3.0), loaded with positions and read into a small model.
//!
//! No Rust crate parses AsyncAPI, so this module reads the loaded [`Document`] itself:
//!
//! * the version is recognised first: 2.x and 3.x are read, 1.x, unknown versions and an
//!   OpenAPI (or Swagger) document in the AsyncAPI slot are reported, never a crash;
//! * the structure is checked (`asyncapi` string, `info.title`/`info.version`, `channels`,
//!   every `$ref` resolves inside the document, 3.0 operations name an existing channel and
//!   messages of that channel); each problem becomes an [`ArtifactProblem`] with a position;
//! * channels, operations and messages are collected into [`Channel`], [`Operation`] and
//!   [`Message`], with every `$ref` followed, so that checks can ask "which messages are there,
//!   under which names, with which payload, headers and bindings" without knowing the version.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::document::{escape_pointer_segment, Document};
use super::value_kind as kind;
use super::{problem_at as problem, ArtifactProblem, Loaded};
use crate::files::ArtifactRef;

/// Longest chain of `$ref` to `$ref` followed before giving up (a cycle).
const MAX_REF_HOPS: usize = 32;
/// Deepest nesting of `allOf`/`oneOf`/`anyOf`/`$ref` followed when collecting schema fields.
const MAX_SCHEMA_DEPTH: usize = 16;

/// Which AsyncAPI line a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncApiLine {
    /// 2.x: channels hold `publish`/`subscribe` operations.
    V2,
    /// 3.x: channels hold messages; top-level operations `send`/`receive` on a channel.
    V3,
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// 2.x `publish`: other applications send to this channel, the application receives.
    Publish,
    /// 2.x `subscribe`: the application sends, other applications receive.
    Subscribe,
    /// 3.x `send`.
    Send,
    /// 3.x `receive`.
    Receive,
}

#[derive(Debug, Clone)]
pub struct Channel {
    /// The key under `channels`.
    pub key: String,
    /// JSON pointer of the channel (where it is written, `/channels/<key>`).
    pub pointer: String,
    /// The 3.0 `address`, when given.
    pub address: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    /// The 3.0 key under `operations`; in 2.x the `operationId`, else `<channel> publish`.
    pub key: String,
    pub pointer: String,
    pub action: Option<Action>,
    /// Index into [`AsyncApiDoc::channels`].
    pub channel: Option<usize>,
    /// Indices into [`AsyncApiDoc::messages`].
    pub messages: Vec<usize>,
}

/// One message of the catalog, identified by where its definition lives (after `$ref`s).
#[derive(Debug, Clone)]
pub struct Message {
    /// JSON pointer of the message object (refs followed).
    pub pointer: String,
    /// The key under `components/messages`, when defined there.
    pub component: Option<String>,
    /// Keys under a 3.0 channel's `messages` that refer to it.
    pub channel_keys: Vec<String>,
    pub name: Option<String>,
    pub message_id: Option<String>,
    pub title: Option<String>,
    /// Indices into [`AsyncApiDoc::channels`] that carry it.
    pub channels: Vec<usize>,
    /// Pointers of its message traits (refs followed).
    pub traits: Vec<String>,
}

impl Message {
    /// Every name the message answers to: `name`, `messageId`, the components key, the 3.0
    /// channel keys and `title`, without duplicates, in that order.
    pub fn names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let candidates = self
            .name
            .iter()
            .chain(self.message_id.iter())
            .chain(self.component.iter())
            .chain(self.channel_keys.iter())
            .chain(self.title.iter());
        for n in candidates {
            if !n.is_empty() && !out.contains(&n.as_str()) {
                out.push(n);
            }
        }
        out
    }

    /// The name to show: the first of [`Message::names`], or the pointer.
    pub fn label(&self) -> String {
        match self.names().first() {
            Some(n) => (*n).to_string(),
            None => self.pointer.clone(),
        }
    }
}

/// A property of a schema (or a field of an Avro record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaField {
    pub name: String,
    pub pointer: String,
}

#[derive(Debug)]
pub struct AsyncApiDoc {
    pub doc: Document,
    /// The `asyncapi` field as written (e.g. `2.6.0`).
    pub version: String,
    pub line: AsyncApiLine,
    /// Problems that make the document invalid but still leave it usable by other checks.
    pub problems: Vec<ArtifactProblem>,
    pub channels: Vec<Channel>,
    pub operations: Vec<Operation>,
    pub messages: Vec<Message>,
}

pub fn load(r: &ArtifactRef, limits: &super::document::Limits) -> Loaded<AsyncApiDoc> {
    super::load_document(r, limits).and_then(classify)
}

fn child(base: &str, key: &str) -> String {
    format!("{base}/{}", escape_pointer_segment(key))
}

/// Reads the version, checks the structure and builds the model of a parsed document.
pub fn classify(doc: Document) -> Loaded<AsyncApiDoc> {
    let Some(obj) = doc.value.as_object() else {
        return Loaded::Invalid(problem(
            &doc,
            "",
            "not an AsyncAPI document: the top level is not a mapping",
            "an AsyncAPI document starts with `asyncapi: 3.0.0` (or 2.6.0) and `info:` at the top level",
        ));
    };
    if !obj.contains_key("asyncapi") {
        for key in ["openapi", "swagger"] {
            if obj.contains_key(key) {
                return Loaded::Invalid(problem(
                    &doc,
                    &child("", key),
                    format!(
                        "this is an {} document in the AsyncAPI slot, not an event catalog",
                        if key == "openapi" { "OpenAPI" } else { "Swagger" }
                    ),
                    "name the service's OpenAPI document under its `[[service]] openapi`, and point \
                     `[events] asyncapi` at an AsyncAPI 2.6 or 3.0 document describing the events",
                ));
            }
        }
        return Loaded::Invalid(problem(
            &doc,
            "",
            "no `asyncapi` field: this is not an AsyncAPI document",
            "add `asyncapi: 3.0.0` (or 2.6.0) at the top of the document",
        ));
    }
    let mut problems = Vec::new();
    let version = match obj.get("asyncapi") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => {
            problems.push(problem(
                &doc,
                "/asyncapi",
                format!("`asyncapi: {n}` is a number, not a string (YAML reads an unquoted 2.6 as a float)"),
                format!("write the version with its patch number, as a string: `asyncapi: \"{n}.0\"`"),
            ));
            n.to_string()
        }
        Some(other) => {
            return Loaded::Invalid(problem(
                &doc,
                "/asyncapi",
                format!("`asyncapi` must be a version string, found {}", kind(other)),
                "write e.g. `asyncapi: 3.0.0`",
            ));
        }
        None => String::new(),
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next().flatten(), parts.next().flatten());
    let line = match (major, minor) {
        (Some(2), Some(m)) => {
            if m < 6 {
                problems.push(problem(
                    &doc,
                    "/asyncapi",
                    format!("AsyncAPI {version} is older than the supported 2.6"),
                    "AsyncAPI 2.6 reads every 2.x document: change the version to `asyncapi: 2.6.0`",
                ));
            } else if m > 6 {
                problems.push(problem(
                    &doc,
                    "/asyncapi",
                    format!("unknown AsyncAPI version `{version}` (there is no 2.{m}; 2.6.0 is the last 2.x)"),
                    "use `asyncapi: 2.6.0` or `asyncapi: 3.0.0`",
                ));
            }
            AsyncApiLine::V2
        }
        (Some(3), Some(0)) => AsyncApiLine::V3,
        (Some(3), _) => {
            problems.push(problem(
                &doc,
                "/asyncapi",
                format!("unsupported AsyncAPI version `{version}`; the catalog is read as 3.0"),
                "use `asyncapi: 3.0.0`",
            ));
            AsyncApiLine::V3
        }
        (Some(1), _) => {
            return Loaded::Invalid(problem(
                &doc,
                "/asyncapi",
                format!("AsyncAPI {version} (1.x) is not supported; AsyncAPI 2.6 or 3.0 is required"),
                "convert it with the AsyncAPI CLI (`asyncapi convert asyncapi.yaml -t 3.0.0 -o asyncapi.v3.yaml`) \
                 and review the result",
            ));
        }
        _ => {
            return Loaded::Invalid(problem(
                &doc,
                "/asyncapi",
                format!("unknown AsyncAPI version `{version}`; AsyncAPI 2.6 or 3.0 is required"),
                "write `asyncapi: 3.0.0` (or 2.6.0)",
            ));
        }
    };
    let mut api = AsyncApiDoc {
        doc,
        version,
        line,
        problems,
        channels: Vec::new(),
        operations: Vec::new(),
        messages: Vec::new(),
    };
    api.check_info();
    api.check_refs();
    api.build();
    Loaded::Ok(api)
}

/// Where a `$ref` leads.
enum RefTarget {
    /// A JSON pointer inside the document (decoded from the URI fragment).
    Local(String),
    /// Another file or a URL.
    External,
    /// A fragment that is not a JSON pointer (e.g. `#anchor`).
    Malformed,
}

fn ref_target(r: &str) -> RefTarget {
    let Some(fragment) = r.strip_prefix('#') else {
        return RefTarget::External;
    };
    let decoded = percent_decode(fragment);
    if decoded.is_empty() || decoded.starts_with('/') {
        RefTarget::Local(decoded)
    } else {
        RefTarget::Malformed
    }
}

fn percent_decode(s: &str) -> String {
    crate::files::pct::decode(s).into_owned()
}

/// The `$ref` string of a reference object.
fn ref_of(v: &Value) -> Option<&str> {
    v.as_object()?.get("$ref")?.as_str()
}

impl AsyncApiDoc {
    fn push(&mut self, pointer: &str, message: impl Into<String>, help: impl Into<String>) {
        let p = problem(&self.doc, pointer, message, help);
        self.problems.push(p);
    }

    /// The value at `pointer`, without following references.
    pub fn at(&self, pointer: &str) -> Option<&Value> {
        self.doc.value.pointer(pointer)
    }

    /// Follows `$ref` chains from the value at `pointer`: the pointer and value of the
    /// definition, or `None` when a reference is external, dangling or circular.
    pub fn resolve(&self, pointer: &str) -> Option<(String, &Value)> {
        let mut p = pointer.to_string();
        for _ in 0..MAX_REF_HOPS {
            let v = self.doc.value.pointer(&p)?;
            match v.as_object().and_then(|o| o.get("$ref")) {
                Some(Value::String(r)) => match ref_target(r) {
                    RefTarget::Local(t) => p = t,
                    RefTarget::External | RefTarget::Malformed => return None,
                },
                _ => return Some((p, v)),
            }
        }
        None
    }

    /// Whether following `$ref`s from `pointer` comes back to a pointer already visited.
    fn ref_cycle(&self, pointer: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut p = pointer.to_string();
        loop {
            if !seen.insert(p.clone()) || seen.len() > MAX_REF_HOPS {
                return true;
            }
            let Some(RefTarget::Local(t)) = self.doc.value.pointer(&p).and_then(ref_of).map(ref_target) else {
                return false;
            };
            p = t;
        }
    }

    fn check_info(&mut self) {
        let root = self.doc.value.as_object().cloned().unwrap_or_default();
        match root.get("info") {
            Some(Value::Object(info)) => {
                for field in ["title", "version"] {
                    match info.get(field) {
                        Some(Value::String(s)) if !s.trim().is_empty() => {}
                        Some(Value::String(_)) => self.push(
                            &format!("/info/{field}"),
                            format!("`info.{field}` is empty"),
                            format!("give the catalog a {field}"),
                        ),
                        Some(other) => {
                            let shown = kind(other);
                            self.push(
                                &format!("/info/{field}"),
                                format!("`info.{field}` must be a string, found {shown}"),
                                format!("quote the value of `info.{field}`, e.g. `{field}: \"1.0.0\"`"),
                            )
                        }
                        None => self.push(
                            "/info",
                            format!("`info.{field}` is missing"),
                            format!("add `{field}:` under `info`"),
                        ),
                    }
                }
            }
            Some(other) => {
                let shown = kind(other);
                self.push(
                    "/info",
                    format!("`info` must be a mapping, found {shown}"),
                    "write `info:` with `title:` and `version:` under it",
                )
            }
            None => self.push(
                "",
                "`info` is missing",
                "add an `info` mapping with the catalog's `title` and `version`",
            ),
        }
        match (root.get("channels"), self.line) {
            (None, AsyncApiLine::V2) => self.push(
                "",
                "`channels` is missing (required in AsyncAPI 2.x)",
                "add `channels:` with one channel per topic, each with its `publish` or `subscribe` operation",
            ),
            (Some(Value::Object(_)) | None, _) => {}
            (Some(other), _) => {
                let shown = kind(other);
                self.push(
                    "/channels",
                    format!("`channels` must be a mapping of channel names to channels, found {shown}"),
                    "write each channel as a key under `channels:`",
                )
            }
        }
        for key in ["components", "operations"] {
            if let Some(v) = root.get(key).filter(|v| !v.is_object()) {
                let shown = kind(v);
                self.push(
                    &child("", key),
                    format!("`{key}` must be a mapping, found {shown}"),
                    format!("write `{key}:` as a mapping"),
                );
            }
        }
        if let Some(Value::Object(c)) = root.get("components") {
            for (k, v) in c {
                if !v.is_object() {
                    let shown = kind(v);
                    self.push(
                        &child("/components", k),
                        format!("`components.{k}` must be a mapping, found {shown}"),
                        format!("write each entry of `components.{k}` as a named key"),
                    );
                }
            }
        }
    }

    /// Every `$ref` must resolve inside the document; one problem per distinct target.
    fn check_refs(&mut self) {
        let mut refs: Vec<(String, Option<String>)> = Vec::new();
        collect_refs(&self.doc.value, String::new(), &mut refs, 0);
        // target -> (first pointer, count, message, help)
        let mut grouped: BTreeMap<String, (String, usize, String, String)> = BTreeMap::new();
        for (at, r) in refs {
            let Some(r) = r else {
                let p = problem(
                    &self.doc,
                    &at,
                    "`$ref` must be a string",
                    "write the reference as a string, e.g. `$ref: '#/components/messages/OrderPlaced'`",
                );
                self.problems.push(p);
                continue;
            };
            let (message, help) = match ref_target(&r) {
                RefTarget::Local(t) => {
                    if self.doc.value.pointer(&t).is_some() {
                        if !self.ref_cycle(&parent(&at)) {
                            // Resolves, or a later reference of the chain is reported itself.
                            continue;
                        }
                        (
                            format!("`$ref: '{r}'` is part of a circular chain of references"),
                            "point the reference at the definition itself".to_string(),
                        )
                    } else {
                        let near = nearest_existing(&self.doc.value, &t);
                        (
                            format!("`$ref: '{r}'` does not resolve: nothing at `{t}`"),
                            format!(
                                "define it there, or correct the reference{}",
                                near.map(|n| format!(" (did you mean `#{n}`?)")).unwrap_or_default()
                            ),
                        )
                    }
                }
                RefTarget::External => (
                    format!("`$ref: '{r}'` points outside the catalog"),
                    "the catalog is graded as one file: move the definition under `components` and refer to it \
                     with `#/components/...`"
                        .to_string(),
                ),
                RefTarget::Malformed => (
                    format!("`$ref: '{r}'` is not a JSON pointer"),
                    "write `#/` followed by the path, e.g. `#/components/schemas/Money`".to_string(),
                ),
            };
            grouped
                .entry(r)
                .and_modify(|e| e.1 += 1)
                .or_insert((parent(&at), 1, message, help));
        }
        let mut list: Vec<_> = grouped.into_values().collect();
        list.sort_by_key(|e| self.doc.locate(&e.0).offset);
        for (at, count, message, help) in list {
            let message = if count > 1 {
                format!("{message} (used in {count} places)")
            } else {
                message
            };
            let mut p = problem(&self.doc, &at, message, help);
            if let Some(loc) = self.doc.locate_exact(&child(&at, "$ref")) {
                p.location = Some(loc);
            }
            self.problems.push(p);
        }
    }

    fn build(&mut self) {
        let mut b = Builder::default();
        // Components first, so that their keys name the messages channels refer to.
        if let Some(Value::Object(msgs)) = self.at("/components/messages") {
            let keys: Vec<String> = msgs.keys().cloned().collect();
            for k in keys {
                let at = child("/components/messages", &k);
                if let Some(i) = self.message_at(&mut b, &at) {
                    if b.messages[i].component.is_none() {
                        b.messages[i].component = Some(k);
                    }
                }
            }
        }
        match self.line {
            AsyncApiLine::V2 => self.build_v2(&mut b),
            AsyncApiLine::V3 => self.build_v3(&mut b),
        }
        self.channels = b.channels;
        self.operations = b.operations;
        self.messages = b.messages;
    }

    /// Registers the message at `at` (following refs); its index, or `None` (with a problem)
    /// when it is not a mapping. Dangling refs were reported by `check_refs`.
    fn message_at(&mut self, b: &mut Builder, at: &str) -> Option<usize> {
        let (p, v) = self.resolve(at)?;
        let Some(obj) = v.as_object() else {
            let shown = kind(v);
            self.push(
                &p,
                format!("a message must be a mapping, found {shown}"),
                "describe the message with `name`, `payload` and, as needed, `headers` and `bindings`",
            );
            return None;
        };
        if let Some(&i) = b.by_pointer.get(&p) {
            return Some(i);
        }
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
        let mut traits = Vec::new();
        if let Some(Value::Array(ts)) = obj.get("traits") {
            for i in 0..ts.len() {
                if let Some((tp, Value::Object(_))) = self.resolve(&child(&child(&p, "traits"), &i.to_string())) {
                    traits.push(tp);
                }
            }
        }
        let m = Message {
            pointer: p.clone(),
            component: None,
            channel_keys: Vec::new(),
            name: text("name"),
            message_id: text("messageId"),
            title: text("title"),
            channels: Vec::new(),
            traits,
        };
        b.messages.push(m);
        let i = b.messages.len() - 1;
        b.by_pointer.insert(p, i);
        Some(i)
    }

    fn channel_entries(&mut self) -> Vec<(String, String, Map<String, Value>)> {
        let Some(Value::Object(chans)) = self.at("/channels") else {
            return Vec::new();
        };
        let keys: Vec<String> = chans.keys().cloned().collect();
        let mut out = Vec::new();
        for k in keys {
            let at = child("/channels", &k);
            match self.resolve(&at) {
                Some((_, Value::Object(o))) => out.push((k, at, o.clone())),
                Some((p, other)) => {
                    let shown = kind(other);
                    self.push(
                        &p,
                        format!("channel `{k}` must be a mapping, found {shown}"),
                        "describe the channel with its operations (2.x) or `address` and `messages` (3.0)",
                    );
                }
                None => {}
            }
        }
        out
    }

    fn build_v2(&mut self, b: &mut Builder) {
        for (key, at, obj) in self.channel_entries() {
            b.channels.push(Channel {
                key: key.clone(),
                pointer: at.clone(),
                address: None,
            });
            let ci = b.channels.len() - 1;
            for (op_key, action) in [("publish", Action::Publish), ("subscribe", Action::Subscribe)] {
                let Some(op) = obj.get(op_key) else { continue };
                let op_at = child(&at, op_key);
                let Some(op) = op.as_object() else {
                    let shown = kind(op);
                    self.push(
                        &op_at,
                        format!("`{op_key}` of channel `{key}` must be an operation mapping, found {shown}"),
                        "write the operation with its `operationId` and `message`",
                    );
                    continue;
                };
                let mut messages = Vec::new();
                if op.contains_key("message") {
                    let msg_at = child(&op_at, "message");
                    let one_of = self
                        .at(&msg_at)
                        .and_then(Value::as_object)
                        .filter(|o| !o.contains_key("$ref"))
                        .and_then(|o| o.get("oneOf"))
                        .and_then(Value::as_array)
                        .map(Vec::len);
                    let targets: Vec<String> = match one_of {
                        Some(n) => (0..n)
                            .map(|i| child(&child(&msg_at, "oneOf"), &i.to_string()))
                            .collect(),
                        None => vec![msg_at],
                    };
                    for t in targets {
                        if let Some(mi) = self.message_at(b, &t) {
                            if !b.messages[mi].channels.contains(&ci) {
                                b.messages[mi].channels.push(ci);
                            }
                            messages.push(mi);
                        }
                    }
                }
                let op_name = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{key} {op_key}"));
                b.operations.push(Operation {
                    key: op_name,
                    pointer: op_at,
                    action: Some(action),
                    channel: Some(ci),
                    messages,
                });
            }
        }
    }

    fn build_v3(&mut self, b: &mut Builder) {
        // channel pointer -> index; channel index -> its messages (by resolved pointer).
        let mut chan_by_pointer: BTreeMap<String, usize> = BTreeMap::new();
        let mut chan_msgs: Vec<BTreeSet<usize>> = Vec::new();
        for (key, at, obj) in self.channel_entries() {
            b.channels.push(Channel {
                key: key.clone(),
                pointer: at.clone(),
                address: obj.get("address").and_then(Value::as_str).map(str::to_string),
            });
            let ci = b.channels.len() - 1;
            chan_by_pointer.insert(at.clone(), ci);
            let mut set = BTreeSet::new();
            match obj.get("messages") {
                Some(Value::Object(msgs)) => {
                    for mk in msgs.keys() {
                        let m_at = child(&child(&at, "messages"), mk);
                        if let Some(mi) = self.message_at(b, &m_at) {
                            let m = &mut b.messages[mi];
                            if !m.channels.contains(&ci) {
                                m.channels.push(ci);
                            }
                            if !m.channel_keys.contains(mk) {
                                m.channel_keys.push(mk.clone());
                            }
                            set.insert(mi);
                        }
                    }
                }
                Some(other) => {
                    let shown = kind(other);
                    self.push(
                        &child(&at, "messages"),
                        format!("`messages` of channel `{key}` must be a mapping, found {shown}"),
                        "list the channel's messages by name, e.g. `OrderPlaced: {$ref: '#/components/messages/OrderPlaced'}`",
                    );
                }
                None => {}
            }
            chan_msgs.push(set);
        }
        let Some(Value::Object(ops)) = self.at("/operations").cloned() else {
            return;
        };
        for key in ops.keys() {
            let at = child("/operations", key);
            let Some((op_at, Value::Object(op))) = self.resolve(&at).map(|(p, v)| (p, v.clone())) else {
                if let Some(v) = self.at(&at).filter(|v| !v.is_object()) {
                    let shown = kind(v);
                    self.push(
                        &at,
                        format!("operation `{key}` must be a mapping, found {shown}"),
                        "write the operation with `action`, `channel` and `messages`",
                    );
                }
                continue;
            };
            let action = match op.get("action") {
                Some(Value::String(s)) if s == "send" => Some(Action::Send),
                Some(Value::String(s)) if s == "receive" => Some(Action::Receive),
                Some(other) => {
                    let shown = other
                        .as_str()
                        .map(|s| format!("`{s}`"))
                        .unwrap_or_else(|| kind(other).into());
                    let suggestion = other
                        .as_str()
                        .and_then(|s| crate::diag::did_you_mean(s, ["send", "receive"]))
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    self.push(
                        &child(&op_at, "action"),
                        format!("operation `{key}`: `action` must be `send` or `receive`, found {shown}{suggestion}"),
                        "write `action: send` for what the application publishes, `action: receive` for what it consumes",
                    );
                    None
                }
                None => {
                    self.push(
                        &op_at,
                        format!("operation `{key}` has no `action`"),
                        "add `action: send` or `action: receive`",
                    );
                    None
                }
            };
            let channel = self.op_channel(key, &op_at, &op, &chan_by_pointer);
            let mut messages = Vec::new();
            match op.get("messages") {
                Some(Value::Array(list)) => {
                    for i in 0..list.len() {
                        let m_at = child(&child(&op_at, "messages"), &i.to_string());
                        let Some(r) = self.at(&m_at).and_then(ref_of).map(str::to_string) else {
                            self.push(
                                &m_at,
                                format!("operation `{key}`: each entry of `messages` must be a `$ref` to a message of its channel"),
                                "write `- $ref: '#/channels/<channel>/messages/<message>'`",
                            );
                            continue;
                        };
                        // Dangling references were reported by `check_refs`.
                        let Some(mi) = self.message_at(b, &m_at) else { continue };
                        messages.push(mi);
                        if let Some(ci) = channel {
                            if !chan_msgs.get(ci).is_some_and(|s| s.contains(&mi)) {
                                let ck = b.channels[ci].key.clone();
                                self.push(
                                    &m_at,
                                    format!(
                                        "operation `{key}`: message `{r}` is not one of the messages of channel `{ck}`"
                                    ),
                                    format!(
                                        "add the message under `channels.{ck}.messages` and refer to it as \
                                         `#/channels/{ck}/messages/<name>`"
                                    ),
                                );
                            }
                        }
                    }
                }
                Some(other) => {
                    let shown = kind(other);
                    self.push(
                        &child(&op_at, "messages"),
                        format!("operation `{key}`: `messages` must be a list of `$ref`s, found {shown}"),
                        "write `messages: [{$ref: '#/channels/<channel>/messages/<message>'}]`",
                    );
                }
                // Without `messages`, the operation carries every message of its channel.
                None => {
                    if let Some(ci) = channel {
                        messages.extend(chan_msgs.get(ci).into_iter().flatten().copied());
                    }
                }
            }
            b.operations.push(Operation {
                key: key.clone(),
                pointer: op_at,
                action,
                channel,
                messages,
            });
        }
    }

    fn op_channel(
        &mut self,
        key: &str,
        op_at: &str,
        op: &Map<String, Value>,
        chan_by_pointer: &BTreeMap<String, usize>,
    ) -> Option<usize> {
        let ch_at = child(op_at, "channel");
        let Some(ch) = op.get("channel") else {
            self.push(
                op_at,
                format!("operation `{key}` has no `channel`"),
                "add `channel: {$ref: '#/channels/<channel>'}`",
            );
            return None;
        };
        let Some(r) = ref_of(ch) else {
            self.push(
                &ch_at,
                format!("operation `{key}`: `channel` must be a `$ref` to a channel"),
                "write `channel: {$ref: '#/channels/<channel>'}`",
            );
            return None;
        };
        let RefTarget::Local(t) = ref_target(r) else {
            // Reported by `check_refs`.
            return None;
        };
        if let Some(&ci) = chan_by_pointer.get(&t) {
            return Some(ci);
        }
        if op_at.starts_with("/operations/") && self.doc.value.pointer(&t).is_some() {
            let names: Vec<String> = chan_by_pointer.keys().cloned().collect();
            let near = crate::diag::did_you_mean(&t, names.iter().map(String::as_str))
                .map(|n| format!(" (did you mean `#{n}`?)"))
                .unwrap_or_default();
            self.push(
                &ch_at,
                format!("operation `{key}`: `channel` must point at a channel under `channels`, not `{r}`"),
                format!("refer to the channel as `#/channels/<channel>`{near}"),
            );
        }
        None
    }

    /// A field of the message, or of the first of its traits that has it: pointer and value,
    /// references followed.
    pub fn message_field(&self, m: &Message, key: &str) -> Option<(String, &Value)> {
        std::iter::once(&m.pointer)
            .chain(m.traits.iter())
            .find_map(|p| self.resolve(&child(p, key)))
    }

    /// A field at `path` (e.g. `["bindings", "kafka", "key"]`) of the message or one of its traits.
    pub fn message_path(&self, m: &Message, path: &[&str]) -> Option<(String, &Value)> {
        std::iter::once(&m.pointer).chain(m.traits.iter()).find_map(|p| {
            let mut cur = p.clone();
            for seg in path {
                let (rp, _) = self.resolve(&cur)?;
                cur = child(&rp, seg);
            }
            self.resolve(&cur)
        })
    }

    /// The payload schema of a message (3.0 multi-format schemas unwrapped): pointer and value.
    pub fn payload(&self, m: &Message) -> Option<(String, &Value)> {
        let (p, v) = self.resolve(&child(&m.pointer, "payload"))?;
        let is_multi = v
            .as_object()
            .is_some_and(|o| o.contains_key("schema") && o.contains_key("schemaFormat"));
        if self.line == AsyncApiLine::V3 && is_multi {
            return self.resolve(&child(&p, "schema"));
        }
        Some((p, v))
    }

    /// Every header schema of a message and its traits.
    pub fn headers(&self, m: &Message) -> Vec<String> {
        let mut out = Vec::new();
        for p in std::iter::once(&m.pointer).chain(m.traits.iter()) {
            if let Some((hp, v)) = self.resolve(&child(p, "headers")) {
                let hp = match v.as_object() {
                    Some(o)
                        if self.line == AsyncApiLine::V3
                            && o.contains_key("schema")
                            && o.contains_key("schemaFormat") =>
                    {
                        match self.resolve(&child(&hp, "schema")) {
                            Some((sp, _)) => sp,
                            None => continue,
                        }
                    }
                    _ => hp,
                };
                if !out.contains(&hp) {
                    out.push(hp);
                }
            }
        }
        out
    }

    /// The top-level fields of the schema at `pointer`: its `properties` (through `$ref`,
    /// `allOf`, `oneOf` and `anyOf`) and, for Avro records, its `fields`.
    pub fn schema_fields(&self, pointer: &str) -> Vec<SchemaField> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        self.collect_fields(pointer, 0, &mut seen, &mut out);
        out
    }

    fn collect_fields(&self, pointer: &str, depth: usize, seen: &mut BTreeSet<String>, out: &mut Vec<SchemaField>) {
        if depth > MAX_SCHEMA_DEPTH {
            return;
        }
        let Some((p, Value::Object(o))) = self.resolve(pointer) else {
            return;
        };
        if !seen.insert(p.clone()) {
            return;
        }
        if let Some(Value::Object(props)) = o.get("properties") {
            for k in props.keys() {
                if !out.iter().any(|f: &SchemaField| &f.name == k) {
                    out.push(SchemaField {
                        name: k.clone(),
                        pointer: child(&child(&p, "properties"), k),
                    });
                }
            }
        }
        if let Some(Value::Array(fields)) = o.get("fields") {
            for (i, f) in fields.iter().enumerate() {
                if let Some(name) = f.get("name").and_then(Value::as_str) {
                    if !out.iter().any(|x| x.name == name) {
                        out.push(SchemaField {
                            name: name.to_string(),
                            pointer: child(&child(&p, "fields"), &i.to_string()),
                        });
                    }
                }
            }
        }
        for kw in ["allOf", "oneOf", "anyOf"] {
            if let Some(Value::Array(items)) = o.get(kw) {
                for i in 0..items.len() {
                    self.collect_fields(&child(&child(&p, kw), &i.to_string()), depth + 1, seen, out);
                }
            }
        }
    }

    /// The messages carried by operations with one of `actions`.
    pub fn messages_with(&self, actions: &[Action]) -> BTreeSet<usize> {
        self.operations
            .iter()
            .filter(|o| o.action.is_some_and(|a| actions.contains(&a)))
            .flat_map(|o| o.messages.iter().copied())
            .collect()
    }
}

#[derive(Default)]
struct Builder {
    channels: Vec<Channel>,
    operations: Vec<Operation>,
    messages: Vec<Message>,
    by_pointer: BTreeMap<String, usize>,
}

/// The pointer of the object that holds the `$ref` at `at` (`at` ends in `/$ref`).
fn parent(at: &str) -> String {
    match at.rfind('/') {
        Some(i) => at[..i].to_string(),
        None => String::new(),
    }
}

/// Collects `(pointer of the $ref value, its string)` for every `$ref` key, skipping example
/// data (`examples`, `example`, `default`, `const`, `enum`), where `$ref` is just data.
fn collect_refs(v: &Value, at: String, out: &mut Vec<(String, Option<String>)>, depth: usize) {
    if depth > 512 {
        return;
    }
    match v {
        Value::Object(o) => {
            for (k, child_v) in o {
                let p = child(&at, k);
                if k == "$ref" {
                    out.push((p, child_v.as_str().map(str::to_string)));
                    continue;
                }
                if matches!(k.as_str(), "examples" | "example" | "default" | "const" | "enum") {
                    continue;
                }
                collect_refs(child_v, p, out, depth + 1);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                collect_refs(x, child(&at, &i.to_string()), out, depth + 1);
            }
        }
        _ => {}
    }
}

/// For a dangling pointer, the closest existing sibling of its last segment.
fn nearest_existing(root: &Value, pointer: &str) -> Option<String> {
    let i = pointer.rfind('/')?;
    let (parent_p, last) = (&pointer[..i], &pointer[i + 1..]);
    let siblings = root.pointer(parent_p)?.as_object()?;
    let last = super::document::unescape_pointer_segment(last);
    let best = crate::diag::did_you_mean(&last, siblings.keys().map(String::as_str))?;
    Some(child(parent_p, best))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::document::Limits;

    fn parse(src: &str) -> Loaded<AsyncApiDoc> {
        match Document::parse("t.yaml", src, &Limits::default()) {
            Ok(d) => classify(d),
            Err(e) => panic!("{e}"),
        }
    }

    fn ok(src: &str) -> AsyncApiDoc {
        match parse(src) {
            Loaded::Ok(d) => d,
            Loaded::Invalid(p) => panic!("{p:?}"),
            Loaded::Missing => panic!("missing"),
        }
    }

    fn invalid(src: &str) -> ArtifactProblem {
        match parse(src) {
            Loaded::Invalid(p) => p,
            Loaded::Ok(d) => panic!("loaded: {:?}", d.problems),
            Loaded::Missing => panic!("missing"),
        }
    }

    #[test]
    fn recognises_other_documents() {
        assert!(invalid("openapi: 3.1.0\ninfo: {title: a, version: '1'}\n")
            .message
            .contains("OpenAPI"));
        assert!(invalid("swagger: '2.0'\n").message.contains("Swagger"));
        assert!(invalid("asyncapi: 1.2.0\ninfo: {}\n").message.contains("1.x"));
        assert!(invalid("asyncapi: banana\n").message.contains("unknown"));
        assert!(invalid("asyncapi: [1]\n").message.contains("version string"));
        assert!(invalid("- a\n- b\n").message.contains("not a mapping"));
        assert!(invalid("info: {title: a}\n").message.contains("no `asyncapi`"));
        let d = ok("asyncapi: 2.6\ninfo: {title: a, version: '1'}\nchannels: {}\n");
        assert!(d.problems[0].message.contains("is a number"), "{:?}", d.problems);
        let d = ok("asyncapi: 3.1.0\ninfo: {title: a, version: '1'}\n");
        assert_eq!(d.line, AsyncApiLine::V3);
        assert_eq!(d.problems.len(), 1);
        let d = ok("asyncapi: 2.7.0\ninfo: {title: a, version: '1'}\nchannels: {}\n");
        assert_eq!(d.problems.len(), 1);
    }

    #[test]
    fn v2_model_and_refs() {
        let d = ok(r##"asyncapi: 2.6.0
info: {title: t, version: 1.0.0}
channels:
  orders:
    subscribe:
      operationId: onOrder
      message:
        oneOf:
          - $ref: '#/components/messages/OrderPlaced'
          - {name: OrderCancelled, payload: {type: object}}
  other:
    publish:
      message: {$ref: '#/components/messages/Nope'}
components:
  messages:
    OrderPlaced:
      messageId: order-placed
      traits: [{$ref: '#/components/messageTraits/common'}]
      payload: {$ref: '#/components/schemas/P'}
  messageTraits:
    common:
      headers: {type: object, properties: {eventId: {type: string}}}
  schemas:
    P:
      allOf:
        - {$ref: '#/components/schemas/Base'}
        - properties: {orderId: {type: string}}
    Base: {properties: {version: {type: integer}}}
"##);
        assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
        assert!(d.problems[0].message.contains("#/components/messages/Nope"));
        assert_eq!(d.problems[0].location.map(|l| l.line), Some(13));
        assert_eq!(d.messages.len(), 2);
        let m = &d.messages[0];
        assert_eq!(m.names(), vec!["order-placed", "OrderPlaced"]);
        assert_eq!(m.channels, vec![0]);
        let (pp, _) = d.payload(m).unwrap();
        let fields: Vec<String> = d.schema_fields(&pp).into_iter().map(|f| f.name).collect();
        assert_eq!(fields, vec!["version", "orderId"]);
        let h = d.headers(m);
        assert_eq!(d.schema_fields(&h[0])[0].name, "eventId");
        assert_eq!(d.messages[1].label(), "OrderCancelled");
        assert_eq!(d.operations.len(), 2);
        assert_eq!(d.operations[0].messages, vec![0, 1]);
        assert_eq!(d.messages_with(&[Action::Subscribe]).len(), 2);
    }

    #[test]
    fn v3_operations() {
        let d = ok(r##"asyncapi: 3.0.0
info: {title: t, version: 1.0.0}
channels:
  orders:
    address: orders.v1
    messages:
      placed: {$ref: '#/components/messages/OrderPlaced'}
  payments:
    messages:
      done: {name: PaymentDone, payload: {type: object}}
operations:
  sendOrder:
    action: send
    channel: {$ref: '#/channels/orders'}
    messages: [{$ref: '#/channels/orders/messages/placed'}]
  wrong:
    action: sned
    channel: {$ref: '#/channels/orders'}
    messages: [{$ref: '#/channels/payments/messages/done'}]
  nochannel:
    action: receive
    channel: {$ref: '#/channels/nope'}
  all:
    action: receive
    channel: {$ref: '#/channels/payments'}
components:
  messages:
    OrderPlaced: {name: OrderPlaced, payload: {schemaFormat: 'application/vnd.aai.asyncapi+json;version=3.0.0', schema: {type: object, properties: {a: {}}}}}
"##);
        let msgs: Vec<&str> = d.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("did you mean `send`")), "{msgs:?}");
        assert!(msgs
            .iter()
            .any(|m| m.contains("not one of the messages of channel `orders`")));
        assert!(msgs.iter().any(|m| m.contains("#/channels/nope")));
        assert_eq!(d.messages.len(), 2);
        assert_eq!(d.messages[0].channel_keys, vec!["placed"]);
        let (pp, _) = d.payload(&d.messages[0]).unwrap();
        assert_eq!(d.schema_fields(&pp)[0].name, "a");
        let all = d.operations.iter().find(|o| o.key == "all").unwrap();
        assert_eq!(all.messages, vec![1]);
        assert_eq!(d.messages_with(&[Action::Send]), BTreeSet::from([0]));
    }

    #[test]
    fn structural_problems() {
        let d = ok("asyncapi: 2.6.0\ninfo: {title: 3}\n");
        let msgs: Vec<&str> = d.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        let d = ok("asyncapi: 3.0.0\ninfo: {title: a, version: b}\nchannels: [a]\nx: {$ref: 5}\ny: {$ref: '#a'}\nz: {$ref: other.yaml#/a}\nc: {$ref: '#/c'}\n");
        let msgs: Vec<&str> = d.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(msgs.len(), 5, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("circular")), "{msgs:?}");
        let d = ok("asyncapi: 2.6.0\ninfo: {title: a, version: b}\nchannels: {a: {subscribe: {message: {$ref: '#/components/messages/Ordr'}}}}\ncomponents: {messages: {Order: {payload: {}}}}\n");
        assert!(
            d.problems[0]
                .help
                .contains("did you mean `#/components/messages/Order`"),
            "{:?}",
            d.problems
        );
        assert_eq!(percent_decode("/a%7Bb%7D%2"), "/a{b}%2");
    }

    #[test]
    fn hostile_documents_do_not_panic() {
        let docs = [
            "asyncapi: 2.6.0\ninfo: {title: a, version: b}\nchannels: {a: {subscribe: {message: {$ref: '#'}}}}\n",
            "asyncapi: 2.6.0\ninfo: {title: a, version: b}\nchannels: {a: {$ref: '#/channels/a'}}\n",
            "asyncapi: 2.6.0\ninfo: {title: a, version: b}\nchannels: {a: {subscribe: {message: {oneOf: 3}}}}\n",
            "asyncapi: 2.6.0\ninfo: {title: a, version: b}\nchannels: {a: {subscribe: {message: [1, 2]}}}\n",
            "asyncapi: 2.6.0\ninfo: {title: a, version: b}\nchannels: {a: {subscribe: {message: {payload: {$ref: '#/components/schemas/S'}, traits: [{$ref: '#/x'}, 5]}}}}\ncomponents: {schemas: {S: {properties: {a: {$ref: '#/components/schemas/S'}}, allOf: [{$ref: '#/components/schemas/S'}]}}}\n",
            "asyncapi: 3.0.0\ninfo: {title: a, version: b}\nchannels: {a: {messages: [1]}}\noperations: {o: {action: send, channel: {$ref: '#/components/x'}, messages: {a: 1}}, p: 7, q: {channel: 3, messages: [1]}}\n",
            "asyncapi: 3.0.0\ninfo: {title: a, version: b}\noperations: {o: {action: send, channel: {$ref: '#/operations/o'}, messages: [{$ref: '#/operations/o'}]}}\ncomponents: {messages: {m: {$ref: '#/components/messages/m'}}}\n",
            "asyncapi: 3.0.0\ninfo: {title: a, version: b}\ncomponents: 5\nchannels: {c: {messages: {m: {payload: {schemaFormat: x, schema: {$ref: '#/nope'}}, headers: {schemaFormat: y, schema: true}}}}}\n",
            "{\"asyncapi\": \"3.0.0\", \"info\": {\"title\": \"a\", \"version\": \"b\"}, \"channels\": {\"a~b/c\": {\"messages\": {\"m%\": {\"payload\": {}}}}}, \"operations\": {\"o\": {\"action\": \"receive\", \"channel\": {\"$ref\": \"#/channels/a~0b~1c\"}, \"messages\": [{\"$ref\": \"#/channels/a~0b~1c/messages/m%25\"}]}}}",
        ];
        for src in docs {
            if let Loaded::Ok(d) = parse(src) {
                for m in &d.messages {
                    let _ = (d.payload(m), d.headers(m), m.label(), m.names());
                    if let Some((p, _)) = d.payload(m) {
                        let _ = d.schema_fields(&p);
                    }
                    let _ = d.message_path(m, &["bindings", "kafka", "key"]);
                }
                for p in &d.problems {
                    assert!(!p.message.is_empty() && !p.help.is_empty(), "{src}: {p:?}");
                }
            }
        }
        // Escaped channel names and percent-encoded references resolve.
        let d = ok(docs[8]);
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.operations[0].messages, vec![0]);
    }

    /// Loads every document of the shared AsyncAPI corpus: none may panic; the official
    /// examples that validate (single-file ones) give no problem, the invalid one gives some.
    #[test]
    fn corpus_loads_without_panic() {
        let Some(root) = crate::testing::corpus("asyncapi") else {
            return;
        };
        let (mut ok_docs, mut invalid_docs) = (0, 0);
        for path in crate::testing::files(&root, crate::testing::DOCUMENTS, u64::MAX) {
            let rel = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
            let r = ArtifactRef {
                rel: rel.clone(),
                path: path.clone(),
                span: None,
                role: "corpus".into(),
            };
            match load(&r, &Limits::default()) {
                Loaded::Ok(d) => {
                    ok_docs += 1;
                    for m in &d.messages {
                        let _ = (d.payload(m), d.headers(m), m.label());
                    }
                    let external = d.problems.iter().all(|p| p.message.contains("points outside"));
                    if rel.contains("adeo") {
                        assert!(!d.problems.is_empty(), "{rel}: the invalid example gave no problem");
                    } else if rel.contains("social-media") {
                        assert!(external, "{rel}: {:?}", d.problems);
                    } else {
                        assert!(d.problems.is_empty(), "{rel}: {:?}", d.problems);
                        assert!(!d.messages.is_empty(), "{rel}: no message found");
                    }
                }
                Loaded::Invalid(p) => {
                    invalid_docs += 1;
                    assert!(rel.contains("common"), "{rel}: {p:?}");
                }
                Loaded::Missing => panic!("{rel}: missing"),
            }
        }
        println!("asyncapi corpus: {ok_docs} loaded, {invalid_docs} rejected");
        assert!(ok_docs > 0);
    }
}
