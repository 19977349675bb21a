//! The shared view of one OpenAPI description, used by the OAS checks, the contract and probe
//! checks and `grade diff`: the documents' values with their `$ref`s resolved (local, and
//! relative files confined to the submission), operations, parameters, responses and schemas
//! with JSON pointers and lines.
//!
//! Everything works on the JSON value of the document (not on a typed model), so OpenAPI 3.0
//! and 3.1 are handled alike and every finding gets a pointer and a line. This layer knows no
//! check: what the checks of one grading share ([`OasMemo`]) is filled through
//! `crate::checks::oas::walk`.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};

use crate::artifact::document::{escape_pointer_segment, unescape_pointer_segment, Document, Limits};
use crate::artifact::openapi::{OasVersion, OpenApiDoc};
use crate::artifact::refs::{self, ExternalDocs, RefTarget};
use crate::artifact::Loaded;
use crate::files::paths::{confine, PathProblem};
use crate::finding::Finding;

/// The HTTP methods of a Path Item, in the order the specification lists them.
pub const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Path segments of operational endpoints (health, metrics, ...), exempt from API-design rules
/// that concern business resources.
pub const OPERATIONAL_SEGMENTS: &[&str] = &[
    "health",
    "healthz",
    "healthcheck",
    "livez",
    "readyz",
    "live",
    "liveness",
    "ready",
    "readiness",
    "ping",
    "metrics",
    "prometheus",
    "actuator",
    ".well-known",
];

/// The default of the `exempt_segments` parameters.
pub fn default_exempt() -> Vec<String> {
    OPERATIONAL_SEGMENTS.iter().map(|s| s.to_string()).collect()
}

/// The parameters of a rule whose only setting is which operational endpoints it exempts.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExemptParams {
    /// Path segments of operational endpoints (health, metrics, ...) the rule leaves out.
    pub exempt_segments: Vec<String>,
}

impl Default for ExemptParams {
    fn default() -> Self {
        ExemptParams {
            exempt_segments: default_exempt(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------------

/// A value inside one of the files of a description, with its JSON pointer.
#[derive(Debug, Clone)]
pub struct Node<'s> {
    /// The file, relative to the submission root.
    pub file: &'s str,
    pub doc: &'s Document,
    pub pointer: String,
    pub value: &'s Value,
}

impl<'s> Node<'s> {
    pub fn object(&self) -> Option<&'s Map<String, Value>> {
        self.value.as_object()
    }

    /// The member `key`, when the value is an object that has it.
    pub fn get(&self, key: &str) -> Option<Node<'s>> {
        let v = self.value.as_object()?.get(key)?;
        Some(self.child(key, v))
    }

    /// The child `v` reached through the member `key`.
    pub fn child(&self, key: &str, v: &'s Value) -> Node<'s> {
        Node {
            file: self.file,
            doc: self.doc,
            pointer: join_pointer(&self.pointer, &escape_pointer_segment(key)),
            value: v,
        }
    }

    /// The element `i`, when the value is an array.
    pub fn at(&self, i: usize) -> Option<Node<'s>> {
        let v = self.value.as_array()?.get(i)?;
        Some(Node {
            file: self.file,
            doc: self.doc,
            pointer: join_pointer(&self.pointer, &i.to_string()),
            value: v,
        })
    }

    /// The members of an object value, as nodes (empty for other values).
    pub fn entries(&self) -> Vec<(&'s str, Node<'s>)> {
        match self.value.as_object() {
            Some(m) => m.iter().map(|(k, v)| (k.as_str(), self.child(k, v))).collect(),
            None => Vec::new(),
        }
    }

    /// The elements of an array value, as nodes (empty for other values).
    pub fn items(&self) -> Vec<Node<'s>> {
        let n = self.value.as_array().map_or(0, Vec::len);
        (0..n).filter_map(|i| self.at(i)).collect()
    }

    /// The string member `key`.
    pub fn str(&self, key: &str) -> Option<&'s str> {
        self.value.as_object()?.get(key)?.as_str()
    }

    /// True when the member `key` is `true`.
    pub fn flag(&self, key: &str) -> bool {
        self.value.get(key).and_then(Value::as_bool) == Some(true)
    }

    /// The `$ref` of a Reference Object (a string-valued `$ref` member).
    pub fn ref_str(&self) -> Option<&'s str> {
        self.str("$ref")
    }

    /// A finding at this node (as the checks' `Ctx::document_finding` makes it).
    pub fn finding(&self, message: impl Into<String>) -> Finding {
        let loc = self.doc.locate_for_finding(&self.pointer);
        let mut f = Finding::new(message).in_file(self.file);
        f.line = Some(loc.line);
        f.column = Some(loc.column);
        f.pointer = Some(self.pointer.clone());
        f.span = Some((loc.offset, loc.len));
        f
    }
}

/// `base/segment` (the segment already escaped), built without the formatting machinery: the
/// walk builds one pointer per node it visits.
fn join_pointer(base: &str, segment: &str) -> String {
    let mut p = String::with_capacity(base.len() + 1 + segment.len());
    p.push_str(base);
    p.push('/');
    p.push_str(segment);
    p
}

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

/// Why a `$ref` does not resolve.
#[derive(Debug, Clone, PartialEq)]
pub enum RefError {
    /// A URL: never fetched.
    Url(String),
    /// A file path that cannot be used (leaves the submission, absolute, ...).
    Path(PathProblem),
    /// The file does not exist (or was not loaded).
    FileMissing(String),
    /// The file exists but does not load.
    FileInvalid { file: String, message: String },
    /// The fragment names nothing in the file.
    NotFound {
        file: String,
        fragment: String,
        suggestion: Option<String>,
    },
    /// The references run into a loop (its members, `file#pointer`) without reaching a value.
    Cycle(Vec<String>),
    /// More references in a chain than the limit (`--max-ref-hops`).
    TooLong(usize),
}

impl RefError {
    /// A message and a help text for the reference `written`.
    pub fn describe(&self, written: &str) -> (String, String) {
        match self {
            RefError::Url(_) => (
                format!("`$ref: {written}` refers to a URL; the grader never fetches anything"),
                "copy the referenced definition into the submission (e.g. `common.yaml`) and refer to it by \
                 relative path"
                    .into(),
            ),
            RefError::Path(p) => {
                let (m, h) = p.describe(written);
                (format!("`$ref` {m}"), h)
            }
            RefError::FileMissing(f) => (
                format!("`$ref: {written}`: the file `{f}` does not exist"),
                "create the file or correct the path (relative to the file that holds the `$ref`)".into(),
            ),
            RefError::FileInvalid { file, message } => (
                format!("`$ref: {written}`: `{file}` cannot be loaded: {message}"),
                format!("fix `{file}` so that it parses as YAML or JSON"),
            ),
            RefError::NotFound {
                file,
                fragment,
                suggestion,
            } => {
                let mut m = format!("`$ref: {written}` does not resolve: `#{fragment}` does not exist in `{file}`");
                if let Some(s) = suggestion {
                    m.push_str(&format!(" (did you mean `{s}`?)"));
                }
                (
                    m,
                    "define the target (e.g. under `components/schemas`) or correct the reference; JSON pointers \
                     escape `/` as `~1` and `~` as `~0`"
                        .into(),
                )
            }
            RefError::Cycle(members) => (
                format!(
                    "`$ref: {written}` never reaches a definition: the references loop {} -> {}",
                    members.join(" -> "),
                    members.first().map(String::as_str).unwrap_or("")
                ),
                "one of these references must point at an actual definition".into(),
            ),
            RefError::TooLong(limit) => (
                format!(
                    "`$ref: {written}` starts a chain of more than {} references (the limit, --max-ref-hops)",
                    limit
                ),
                "refer to the definition directly".into(),
            ),
        }
    }
}

/// What the OAS checks of one grading share about one description, computed once: its Schema
/// Objects (see [`Api::schemas`]), its operations and webhook operations (see
/// [`Api::operations`]) and the targets of the references they follow.
#[derive(Default)]
pub(crate) struct ApiMemo<'a> {
    schemas: OnceLock<Vec<Node<'a>>>,
    operations: [OnceLock<Vec<Operation<'a>>>; 2],
    refs: RefMemo<'a>,
}

/// The results of [`Api::resolve_one`], by file and reference (`file` NUL `reference`): the
/// checks of a grading follow the same references (a shared parameter, response or schema of
/// every operation) many times each.
type RefMemo<'a> = Mutex<HashMap<Box<str>, Result<Node<'a>, RefError>>>;

/// The [`ApiMemo`]s of the documents of one grading, by document (the checks' context holds
/// one per grading).
#[derive(Default)]
pub struct OasMemo<'a> {
    pub(crate) docs: OnceLock<BTreeMap<&'a str, ApiMemo<'a>>>,
}

/// The files that the relative `$ref`s of `spec` name (inside `root` only), for
/// [`Api::with_external`]; empty without such references.
pub fn external_docs(root: &Path, rel: &str, spec: &OpenApiDoc) -> ExternalDocs {
    external_docs_under(root, rel, spec, &Limits::default())
}

/// [`external_docs`] read under `limits`.
pub fn external_docs_under(root: &Path, rel: &str, spec: &OpenApiDoc, limits: &Limits) -> ExternalDocs {
    if refs::has_file_refs(&spec.doc.value) {
        refs::load_external(root, rel, &spec.doc.value, limits)
    } else {
        ExternalDocs::default()
    }
}

/// One OpenAPI description: the root document and the files it refers to.
pub struct Api<'a> {
    /// The root document's path relative to the submission root.
    pub rel: &'a str,
    pub spec: &'a OpenApiDoc,
    root: &'a Path,
    pub external: &'a ExternalDocs,
    ids: OnceCell<BTreeMap<String, (String, String)>>,
    /// What the checks of a grading share (when the view comes from `Api::of`).
    pub(crate) memo: Option<&'a ApiMemo<'a>>,
    /// Longest chain of `$ref`s followed ([`Limits::max_ref_hops`]).
    max_ref_hops: usize,
}

impl<'a> Api<'a> {
    /// The view over a description and the files its `$ref`s name (from [`external_docs`], or
    /// as `Artifacts::load` loaded them).
    pub fn with_external(root: &'a Path, rel: &'a str, spec: &'a OpenApiDoc, external: &'a ExternalDocs) -> Api<'a> {
        Api {
            rel,
            spec,
            root,
            external,
            ids: OnceCell::new(),
            memo: None,
            max_ref_hops: Limits::default().max_ref_hops,
        }
    }

    /// The same view following chains of at most `limits.max_ref_hops` references (the default
    /// limit otherwise).
    pub fn with_limits(mut self, limits: &Limits) -> Api<'a> {
        self.max_ref_hops = limits.max_ref_hops;
        self
    }

    /// Longest chain of `$ref`s this view follows.
    pub fn max_ref_hops(&self) -> usize {
        self.max_ref_hops
    }

    pub fn doc(&self) -> &'a Document {
        &self.spec.doc
    }

    pub fn is_31(&self) -> bool {
        self.spec.oas == OasVersion::V31
    }

    /// The root of the root document.
    pub fn root(&self) -> Node<'a> {
        Node {
            file: self.rel,
            doc: &self.spec.doc,
            pointer: String::new(),
            value: &self.spec.doc.value,
        }
    }

    /// The node at `pointer` of the root document.
    pub fn node(&self, pointer: &str) -> Option<Node<'_>> {
        let value = if pointer.is_empty() {
            &self.spec.doc.value
        } else {
            refs::value_at(&self.spec.doc.value, pointer)?
        };
        Some(Node {
            file: self.rel,
            doc: &self.spec.doc,
            pointer: pointer.to_string(),
            value,
        })
    }

    /// Every loaded file: the root document first, then the external ones.
    pub fn files(&self) -> Vec<(&'a str, &'a Document)> {
        let mut out = vec![(self.rel, &self.spec.doc)];
        for (rel, loaded) in &self.external.docs {
            if let Loaded::Ok(d) = loaded {
                out.push((rel.as_str(), d));
            }
        }
        out
    }

    fn file(&self, rel: &str) -> Result<(&'a str, &'a Document), RefError> {
        if rel == self.rel {
            return Ok((self.rel, &self.spec.doc));
        }
        match self.external.docs.get_key_value(rel) {
            Some((k, Loaded::Ok(d))) => Ok((k.as_str(), d)),
            Some((k, Loaded::Invalid(p))) => Err(RefError::FileInvalid {
                file: k.clone(),
                message: p.message.clone(),
            }),
            Some((_, Loaded::Missing)) | None => Err(RefError::FileMissing(rel.to_string())),
        }
    }

    /// Follows the `$ref`s starting at `node` until a value that is not a reference. A node
    /// that is not a reference is returned as is.
    pub fn resolve<'s>(&'s self, node: &Node<'s>) -> Result<Node<'s>, RefError> {
        self.follow(node.clone())
    }

    /// [`Api::resolve`] for a node of any lifetime the description outlives.
    fn follow<'n>(&self, node: Node<'n>) -> Result<Node<'n>, RefError>
    where
        'a: 'n,
    {
        let mut cur = node;
        let mut seen: Vec<(&str, String)> = Vec::new();
        for _ in 0..self.max_ref_hops {
            let Some(r) = cur.ref_str() else { return Ok(cur) };
            if let Some(i) = seen.iter().position(|(f, p)| *f == cur.file && *p == cur.pointer) {
                let members = seen[i..].iter().map(|(f, p)| format!("{f}#{p}")).collect();
                return Err(RefError::Cycle(members));
            }
            seen.push((cur.file, cur.pointer.clone()));
            cur = self.resolve_one(cur.file, r)?;
        }
        Err(RefError::TooLong(self.max_ref_hops))
    }

    /// Like [`Api::resolve`], but keeps the node itself when its reference does not resolve
    /// (unresolved references are OAS002's business).
    pub fn deref<'s>(&'s self, node: Node<'s>) -> Node<'s> {
        self.deref_in(node)
    }

    /// [`Api::deref`] for a node of any lifetime the description outlives.
    fn deref_in<'n>(&self, node: Node<'n>) -> Node<'n>
    where
        'a: 'n,
    {
        match self.follow(node.clone()) {
            Ok(n) => n,
            Err(_) => node,
        }
    }

    /// Resolves one reference written in the file `from`.
    pub fn resolve_one(&self, from: &str, reference: &str) -> Result<Node<'a>, RefError> {
        let Some(memo) = self.memo.map(|m| &m.refs) else {
            return self.resolve_one_uncached(from, reference);
        };
        let mut key = String::with_capacity(from.len() + 1 + reference.len());
        key.push_str(from);
        key.push('\0');
        key.push_str(reference);
        if let Some(hit) = memo.lock().ok().and_then(|m| m.get(key.as_str()).cloned()) {
            return hit;
        }
        let result = self.resolve_one_uncached(from, reference);
        if let Ok(mut m) = memo.lock() {
            m.insert(key.into_boxed_str(), result.clone());
        }
        result
    }

    fn resolve_one_uncached(&self, from: &str, reference: &str) -> Result<Node<'a>, RefError> {
        let (file, doc, fragment) = match refs::parse_ref(reference) {
            RefTarget::Local(fragment) => {
                let (f, d) = self.file(from)?;
                (f, d, fragment)
            }
            RefTarget::File { path, fragment } => {
                let (_, rel) = confine(self.root, &refs::join_rel(from, &path)).map_err(RefError::Path)?;
                let (f, d) = self.file(&rel)?;
                (f, d, fragment)
            }
            RefTarget::Url { base, fragment } => {
                // A 3.1 schema may be referred to by its absolute `$id`.
                let key = base.trim_end_matches('#').to_string();
                let Some((f, p)) = self.id_index().get(&key) else {
                    return Err(RefError::Url(reference.to_string()));
                };
                let (f, d) = self.file(f)?;
                (f, d, format!("{p}{fragment}"))
            }
        };
        let pointer = if fragment.is_empty() || fragment.starts_with('/') {
            fragment
        } else {
            // A 3.1 `$anchor`.
            match find_anchor(&doc.value, &fragment) {
                Some(p) => p,
                None => {
                    return Err(RefError::NotFound {
                        file: file.to_string(),
                        fragment,
                        suggestion: None,
                    })
                }
            }
        };
        let value = if pointer.is_empty() {
            Some(&doc.value)
        } else {
            refs::value_at(&doc.value, &pointer)
        };
        match value {
            Some(value) => Ok(Node {
                file,
                doc,
                pointer,
                value,
            }),
            None => Err(RefError::NotFound {
                file: file.to_string(),
                suggestion: suggest_pointer(&doc.value, &pointer),
                fragment: pointer,
            }),
        }
    }

    fn id_index(&self) -> &BTreeMap<String, (String, String)> {
        self.ids.get_or_init(|| {
            let mut ids = BTreeMap::new();
            for (rel, doc) in self.files() {
                refs::walk_objects(&doc.value, "", |v| {
                    if v.names {
                        return;
                    }
                    if let Some(Value::String(id)) = v.object.get("$id") {
                        if refs::is_url(id) {
                            let key = id.trim_end_matches('#').to_string();
                            ids.entry(key)
                                .or_insert_with(|| (rel.to_string(), v.pointer.to_string()));
                        }
                    }
                });
            }
            ids
        })
    }

    // -----------------------------------------------------------------------------------------
    // Operations
    // -----------------------------------------------------------------------------------------

    /// Every operation under `paths`, in document order.
    pub fn operations(&self) -> Vec<Operation<'_>> {
        self.ops_under("paths", false)
    }

    /// Every operation under `webhooks` (OpenAPI 3.1).
    pub fn webhook_operations(&self) -> Vec<Operation<'_>> {
        self.ops_under("webhooks", true)
    }

    /// The operations under `key` (computed once per grading when the view comes from
    /// [`Api::of`]).
    fn ops_under(&self, key: &str, webhook: bool) -> Vec<Operation<'_>> {
        match self.memo {
            Some(memo) => memo.operations[usize::from(webhook)]
                .get_or_init(|| self.ops_uncached(key, webhook))
                .clone(),
            None => self.ops_uncached(key, webhook),
        }
    }

    fn ops_uncached(&self, key: &str, webhook: bool) -> Vec<Operation<'a>> {
        let mut out = Vec::new();
        let Some(paths) = self.root().get(key) else { return out };
        for (path, site) in paths.entries() {
            let item = self.deref_in(site);
            if !item.value.is_object() {
                continue;
            }
            for m in METHODS {
                if let Some(op) = item.get(m) {
                    let op = self.deref_in(op);
                    if op.value.is_object() {
                        out.push(Operation {
                            path,
                            method: m,
                            item: item.clone(),
                            op,
                            webhook,
                        });
                    }
                }
            }
        }
        out
    }

    /// The parameters that apply to `op`: the Path Item's, overridden by the operation's
    /// (same `name` and `in`), each resolved.
    pub fn parameters<'s>(&'s self, op: &Operation<'s>) -> Vec<Param<'s>> {
        let mut out: Vec<Param<'s>> = Vec::new();
        for (level, owner) in [(true, &op.item), (false, &op.op)] {
            let Some(list) = owner.get("parameters") else { continue };
            for site in list.items() {
                let node = self.deref(site.clone());
                let (Some(name), Some(location)) = (node.str("name"), node.str("in")) else {
                    continue;
                };
                let p = Param {
                    name,
                    location,
                    node,
                    site,
                    path_level: level,
                };
                match out
                    .iter_mut()
                    .find(|q| q.name == name && q.location.eq_ignore_ascii_case(location))
                {
                    Some(q) if !level => *q = p,
                    Some(_) => {}
                    None => out.push(p),
                }
            }
        }
        out
    }

    /// The responses of `op`, each resolved.
    pub fn responses<'s>(&'s self, op: &Operation<'s>) -> Vec<Response<'s>> {
        let Some(rs) = op.op.get("responses") else {
            return Vec::new();
        };
        rs.entries()
            .into_iter()
            .map(|(code, site)| Response {
                code,
                node: self.deref(site.clone()),
                site,
            })
            .collect()
    }

    /// The request body of `op`, resolved.
    pub fn request_body<'s>(&'s self, op: &Operation<'s>) -> Option<Node<'s>> {
        op.op.get("requestBody").map(|n| self.deref(n))
    }

    /// The media types of a (resolved) Request Body or Response: `(media type, Media Type Object)`.
    pub fn content<'s>(&'s self, owner: &Node<'s>) -> Vec<(&'s str, Node<'s>)> {
        match owner.get("content") {
            Some(c) => c.entries().into_iter().map(|(k, n)| (k, self.deref(n))).collect(),
            None => Vec::new(),
        }
    }

    /// Every body of `op`: the request body's media types, then each response's.
    pub fn bodies<'s>(&'s self, op: &Operation<'s>) -> Vec<Body<'s>> {
        let mut out = Vec::new();
        if let Some(rb) = self.request_body(op) {
            for (media, node) in self.content(&rb) {
                out.push(Body {
                    response: None,
                    media,
                    node,
                });
            }
        }
        for r in self.responses(op) {
            for (media, node) in self.content(&r.node) {
                out.push(Body {
                    response: Some(r.code),
                    media,
                    node,
                });
            }
        }
        out
    }

    // -----------------------------------------------------------------------------------------
    // Schemas
    // -----------------------------------------------------------------------------------------

    /// Calls `f` once for every Schema Object of the description, in the order of
    /// [`Api::schemas`].
    pub fn visit_schemas(&self, mut f: impl FnMut(&Node<'a>)) {
        for n in self.schemas().iter() {
            f(n);
        }
    }

    /// Every Schema Object of the description (each file's `components/schemas`, every
    /// `schema` of a parameter, header or media type, and every subschema, following `$ref`s
    /// into other files), in document order. A `$ref` node is listed too (its target is listed
    /// where it is defined). Boolean schemas are not listed. Computed once per grading when the
    /// view comes from [`Api::of`].
    pub fn schemas(&self) -> std::borrow::Cow<'a, [Node<'a>]> {
        match self.memo {
            Some(memo) => std::borrow::Cow::Borrowed(memo.schemas.get_or_init(|| self.schemas_uncached())),
            None => std::borrow::Cow::Owned(self.schemas_uncached()),
        }
    }

    fn schemas_uncached(&self) -> Vec<Node<'a>> {
        let mut out = Vec::new();
        let mut stack: Vec<Node<'a>> = Vec::new();
        for (rel, doc) in self.files() {
            let mut starts = Vec::new();
            // The Schema Objects themselves are not walked here: the traversal below visits
            // every schema inside them.
            refs::walk_objects_with(&doc.value, "", |v| {
                if v.names {
                    if v.key == Some("schemas") {
                        for (k, value) in v.object {
                            starts.push((join_pointer(v.pointer, &escape_pointer_segment(k)), value));
                        }
                        return false;
                    }
                    return true;
                }
                if v.key == Some("schema") && !v.in_names {
                    return false;
                }
                if let Some(value) = v.object.get("schema").filter(|s| s.is_object()) {
                    starts.push((join_pointer(v.pointer, "schema"), value));
                }
                true
            });
            for (pointer, value) in starts.into_iter().rev() {
                stack.push(Node {
                    file: rel,
                    doc,
                    pointer,
                    value,
                });
            }
        }
        // Visit in document order: the stack pops the last pushed first.
        stack.reverse();
        // A node is its value: one place of one file has one address.
        let mut visited: std::collections::HashSet<*const Value> = std::collections::HashSet::new();
        while let Some(node) = stack.pop() {
            let Some(map) = node.value.as_object() else { continue };
            if !visited.insert(node.value as *const Value) {
                continue;
            }
            let mut children: Vec<Node<'a>> = Vec::new();
            if let Some(r) = node.ref_str() {
                if let Ok(target) = self.resolve_one(node.file, r) {
                    children.push(target);
                }
            }
            for (k, v) in map {
                match k.as_str() {
                    "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                        let m = node.child(k, v);
                        children.extend(m.entries().into_iter().map(|(_, n)| n));
                    }
                    "allOf" | "anyOf" | "oneOf" | "prefixItems" => children.extend(node.child(k, v).items()),
                    "items" if v.is_array() => children.extend(node.child(k, v).items()),
                    "items"
                    | "additionalProperties"
                    | "unevaluatedProperties"
                    | "propertyNames"
                    | "contains"
                    | "not"
                    | "if"
                    | "then"
                    | "else"
                    | "contentSchema"
                    | "additionalItems"
                    | "unevaluatedItems" => children.push(node.child(k, v)),
                    _ => {}
                }
            }
            stack.extend(children.into_iter().rev());
            out.push(node);
        }
        out
    }
}

/// The pointer of the object whose `$anchor` (or `$dynamicAnchor`) is `name`.
fn find_anchor(value: &Value, name: &str) -> Option<String> {
    let mut found = None;
    refs::walk_objects(value, "", |v| {
        if found.is_some() || v.names {
            return;
        }
        for k in ["$anchor", "$dynamicAnchor"] {
            if v.object.get(k).and_then(Value::as_str) == Some(name) {
                found = Some(v.pointer.to_string());
            }
        }
    });
    found
}

/// For a pointer that names nothing: the closest existing key where it first goes wrong.
fn suggest_pointer(root: &Value, pointer: &str) -> Option<String> {
    let mut cur = root;
    let mut prefix = String::new();
    for seg in pointer.split('/').skip(1) {
        let key = unescape_pointer_segment(seg);
        match cur {
            Value::Object(m) => match m.get(key.as_ref()) {
                Some(next) => {
                    prefix.push('/');
                    prefix.push_str(seg);
                    cur = next;
                }
                None => {
                    let best = crate::diag::did_you_mean(&key, m.keys().map(String::as_str))?;
                    return Some(format!("#{prefix}/{}", escape_pointer_segment(best)));
                }
            },
            _ => return None,
        }
    }
    None
}

/// An operation: a method of a Path Item.
#[derive(Debug, Clone)]
pub struct Operation<'s> {
    /// The path template (or the webhook's name) as written.
    pub path: &'s str,
    /// Lower case, as in the document.
    pub method: &'static str,
    /// The Path Item (resolved).
    pub item: Node<'s>,
    /// The Operation Object (resolved).
    pub op: Node<'s>,
    pub webhook: bool,
}

impl Operation<'_> {
    /// `GET /v1/orders` (or `webhook newOrder POST`).
    pub fn label(&self) -> String {
        if self.webhook {
            format!("webhook `{}` {}", self.path, self.method.to_ascii_uppercase())
        } else {
            format!("{} {}", self.method.to_ascii_uppercase(), self.path)
        }
    }

    pub fn operation_id(&self) -> Option<&str> {
        self.op.str("operationId")
    }

    /// True for operational endpoints (health, metrics, ...): a literal path segment in `exempt`.
    pub fn is_exempt(&self, exempt: &[String]) -> bool {
        !self.webhook && is_exempt_path(self.path, exempt)
    }
}

/// True when a literal segment of `path` is in `exempt` (case-insensitive).
pub fn is_exempt_path(path: &str, exempt: &[String]) -> bool {
    segments(path).any(|s| exempt.iter().any(|e| e.eq_ignore_ascii_case(s)))
}

/// The non-empty segments of a path template.
pub fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// `v1`, `v2.1`, `v1beta1`, `2024-01-15`: a version segment of a path.
pub fn is_version_segment(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix('v') {
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return false;
        }
        let tail = &rest[digits.len()..];
        return tail.is_empty()
            || tail.strip_prefix('.').is_some_and(|t| {
                !t.is_empty()
                    && t.split('.')
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            })
            || ["alpha", "beta"].iter().any(|w| {
                tail.strip_prefix(w)
                    .is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()))
            });
    }
    is_date(s)
}

/// `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// A parameter that applies to an operation.
#[derive(Debug, Clone)]
pub struct Param<'s> {
    pub name: &'s str,
    /// `path`, `query`, `header` or `cookie`.
    pub location: &'s str,
    /// The Parameter Object (resolved).
    pub node: Node<'s>,
    /// Where it is listed (possibly a `$ref`).
    pub site: Node<'s>,
    /// Declared on the Path Item rather than the operation.
    pub path_level: bool,
}

/// A response of an operation.
#[derive(Debug, Clone)]
pub struct Response<'s> {
    /// The key: `200`, `4XX`, `default`, ...
    pub code: &'s str,
    /// Where it is written (possibly a `$ref`).
    pub site: Node<'s>,
    /// The Response Object (resolved).
    pub node: Node<'s>,
}

impl Response<'_> {
    /// The first digit class: `Some('4')` for `404` and `4XX`, `None` for `default` and junk.
    pub fn class(&self) -> Option<char> {
        status_class(self.code)
    }
}

/// `Some('4')` for `404` or `4XX`; `None` otherwise.
pub fn status_class(code: &str) -> Option<char> {
    let c = code.trim();
    let b = c.as_bytes();
    if b.len() != 3 || !(b'1'..=b'5').contains(&b[0]) {
        return None;
    }
    let digits = b[1..].iter().all(u8::is_ascii_digit);
    let range = b[1..].iter().all(|x| *x == b'X' || *x == b'x');
    (digits || range).then_some(b[0] as char)
}

/// One body of an operation: a media type of its request body or of one of its responses.
#[derive(Debug, Clone)]
pub struct Body<'s> {
    /// `None` for the request body, else the response's status key.
    pub response: Option<&'s str>,
    pub media: &'s str,
    /// The Media Type Object.
    pub node: Node<'s>,
}

impl Body<'_> {
    /// `request body `application/json`` or `response 200 `application/json``; a body defined
    /// in a shared component outside the operation is named after the component instead
    /// (`response `NotFound` `application/json``), so that its uses merge into one finding.
    pub fn label(&self, op: &Operation<'_>) -> String {
        let inside = self.node.file == op.op.file && self.node.pointer.starts_with(&op.op.pointer);
        let component = (!inside)
            .then(|| {
                let mut segs = self.node.pointer.split('/').skip(1);
                match (segs.next(), segs.next(), segs.next()) {
                    (Some("components"), Some(_), Some(name)) => Some(unescape_pointer_segment(name).into_owned()),
                    _ => None,
                }
            })
            .flatten();
        match (self.response, component) {
            (None, Some(name)) => format!("request body `{name}` `{}`", self.media),
            (None, None) => format!("request body `{}`", self.media),
            (Some(_), Some(name)) => format!("response `{name}` `{}`", self.media),
            (Some(code), None) => format!("response {code} `{}`", self.media),
        }
    }
}

/// True for media types whose bodies are bytes rather than structured data.
pub fn is_binary_media(media: &str) -> bool {
    let m = media.trim().to_ascii_lowercase();
    let m = m.split(';').next().unwrap_or("").trim();
    m == "application/octet-stream"
        || m == "application/pdf"
        || m == "application/zip"
        || m == "*/*"
        || ["image/", "audio/", "video/", "font/"].iter().any(|p| m.starts_with(p))
}

/// `a, b, c and 3 more`.
pub fn list(items: &[String], max: usize) -> String {
    if items.len() <= max {
        return match items {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
    }
    format!("{} and {} more", items[..max].join(", "), items.len() - max)
}

/// Lower-case letters and digits only, for comparing names written in any case style
/// (`page_size`, `pageSize` and `Page-Size` compare equal).
pub fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
