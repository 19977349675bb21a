//! The comparison: walks both descriptions side by side (paths, operations, parameters,
//! bodies, responses, security, servers) and their schemas, and records each change once.
//!
//! Schemas reached through a `$ref` are compared once per pair of targets and flow (request
//! or response): the changes found inside belong to that comparison, and every operation that
//! reaches it (directly or through other shared schemas) is counted as affected. Changes at the
//! same place with the same message are merged, so a shared component's change is reported
//! once with the list of operations it affects.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::kind::{ChangeKind, Flow, SchemaChange};
use super::schema::{self, constraints, last_segment, norm_media, norm_path, path_params, Kw, TypeDelta};
use super::{Change, Site};
use crate::api::{status_class, Api, Node, Operation, Param};

/// Deepest nesting of schema comparisons (the diff runs on a thread with a large stack).
const MAX_DEPTH: usize = 1500;
/// Deepest `allOf` nesting flattened into one object view.
const MAX_ALLOF_DEPTH: usize = 16;
/// Enum values listed in a message.
const MAX_VALUES: usize = 6;

struct Raw<'s> {
    kind: ChangeKind,
    message: String,
    old: Option<Node<'s>>,
    new: Option<Node<'s>>,
    ops: BTreeSet<usize>,
    entry: Option<usize>,
}

/// One memoised comparison of two referenced schemas.
#[derive(Default)]
struct Entry {
    /// Operations that reach it directly.
    users: BTreeSet<usize>,
    /// Comparisons that reach it.
    parents: BTreeSet<usize>,
}

type MemoKey = (String, String, String, String, Flow);

/// Where a schema is, for messages: a component (`Order`) or a place in an operation
/// (`request body `application/json``), and the path below it (`.lines[].sku`).
#[derive(Clone)]
struct Cx {
    flow: Flow,
    root: String,
    component: bool,
    path: String,
}

impl Cx {
    fn inline(flow: Flow, root: String) -> Cx {
        Cx {
            flow,
            root,
            component: false,
            path: String::new(),
        }
    }

    fn subject(&self) -> String {
        if self.component {
            format!("`{}{}`", self.root, self.path)
        } else if self.path.is_empty() {
            self.root.clone()
        } else {
            format!("`{}` in {}", self.path.trim_start_matches('.'), self.root)
        }
    }

    fn child(&self, name: &str) -> Cx {
        Cx {
            path: format!("{}.{name}", self.path),
            ..self.clone()
        }
    }

    fn items(&self) -> Cx {
        Cx {
            path: format!("{}[]", self.path),
            ..self.clone()
        }
    }
}

/// The properties of an object schema, `allOf` parts merged in.
#[derive(Default)]
struct View<'s> {
    /// Names in document order, with their schema when this comparison owns it (`None` for
    /// properties of a referenced `allOf` part that is compared on its own).
    props: Vec<(String, Option<Node<'s>>)>,
    /// Position of each name in `props`.
    index: HashMap<String, usize>,
    required: BTreeSet<String>,
    /// Names known only from a referenced `allOf` part compared on its own.
    from_parts: BTreeSet<String>,
    /// Schemas already merged in (a part referred to twice, or a loop of `allOf`s, adds
    /// nothing the second time).
    visited: std::collections::HashSet<(&'s str, String)>,
}

impl<'s> View<'s> {
    fn get(&self, name: &str) -> Option<&Option<Node<'s>>> {
        self.index.get(name).map(|&i| &self.props[i].1)
    }

    fn add(&mut self, name: &str, schema: Option<Node<'s>>) {
        match self.index.get(name) {
            Some(&i) => {
                if self.props[i].1.is_none() {
                    self.props[i].1 = schema;
                }
            }
            None => {
                self.index.insert(name.to_string(), self.props.len());
                self.props.push((name.to_string(), schema));
            }
        }
    }
}

pub(super) struct Differ<'s, 'a> {
    old: &'s Api<'a>,
    new: &'s Api<'a>,
    raws: Vec<Raw<'s>>,
    ops: Vec<String>,
    cur_op: Option<usize>,
    memo: HashMap<MemoKey, usize>,
    entries: Vec<Entry>,
    stack: Vec<usize>,
}

/// Compares two descriptions; the changes are merged, located and sorted (breaking first).
pub(super) fn run<'s, 'a: 's>(old: &'s Api<'a>, new: &'s Api<'a>) -> Vec<Change> {
    let mut d = Differ {
        old,
        new,
        raws: Vec::new(),
        ops: Vec::new(),
        cur_op: None,
        memo: HashMap::new(),
        entries: Vec::new(),
        stack: Vec::new(),
    };
    d.document();
    d.paths();
    d.webhooks();
    d.security_schemes();
    d.finish()
}

/// Old and new items matched one to one.
struct Pairing {
    /// `(old index, new index)`, in old order.
    pairs: Vec<(usize, usize)>,
    /// Old items without a partner.
    removed: Vec<usize>,
    /// New items without a partner.
    added: Vec<usize>,
}

/// Pairs items one to one: in each pass (stricter first), every unpaired old item takes the
/// first unpaired new item that `same(pass, old, new)` accepts.
fn pairing(n_old: usize, n_new: usize, passes: usize, same: impl Fn(usize, usize, usize) -> bool) -> Pairing {
    let mut old_used = vec![false; n_old];
    let mut new_used = vec![false; n_new];
    let mut pairs = Vec::new();
    for pass in 0..passes {
        for (i, used) in old_used.iter_mut().enumerate() {
            if *used {
                continue;
            }
            if let Some(j) = (0..n_new).find(|&j| !new_used[j] && same(pass, i, j)) {
                *used = true;
                new_used[j] = true;
                pairs.push((i, j));
            }
        }
    }
    pairs.sort_unstable();
    Pairing {
        pairs,
        removed: (0..n_old).filter(|&i| !old_used[i]).collect(),
        added: (0..n_new).filter(|&j| !new_used[j]).collect(),
    }
}

/// The name of a referenced schema: the last segment of its pointer, or the file name for a
/// whole-file reference.
fn target_name(node: &Node<'_>) -> String {
    if node.pointer.is_empty() {
        node.file.rsplit('/').next().unwrap_or(node.file).to_string()
    } else {
        last_segment(&node.pointer)
    }
}

/// The empty schema, standing for a property that has no schema of its own in `parent`.
fn unconstrained<'s>(parent: &Node<'s>, name: &str) -> Node<'s> {
    static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let pointer = match parent.get("properties") {
        Some(p) => format!(
            "{}/{}",
            p.pointer,
            crate::artifact::document::escape_pointer_segment(name)
        ),
        None => parent.pointer.clone(),
    };
    Node {
        file: parent.file,
        doc: parent.doc,
        pointer,
        value: EMPTY.get_or_init(|| Value::Object(serde_json::Map::new())),
    }
}

/// The keywords of a schema that say what it accepts (not descriptions, titles, examples or
/// extensions), sorted.
fn bare_keys<'s>(node: &Node<'s>) -> Vec<&'s str> {
    let mut keys: Vec<&str> = node
        .object()
        .map(|m| {
            m.keys()
                .map(String::as_str)
                .filter(|k| {
                    !matches!(
                        *k,
                        "description" | "title" | "example" | "examples" | "deprecated" | "externalDocs"
                    ) && !k.starts_with("x-")
                })
                .collect()
        })
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// How a variant is named in messages: the schema it refers to, else its position.
fn variant_label<'s>(api: &Api<'_>, v: &Node<'s>, idx: usize) -> String {
    if v.ref_str().is_some() {
        format!("`{}`", target_name(&api.deref(v.clone())))
    } else {
        format!("#{} (inline)", idx + 1)
    }
}

fn or_self<'s>(node: &Node<'s>, key: &str) -> Node<'s> {
    node.get(key).unwrap_or_else(|| node.clone())
}

/// Where a node is: the key of an object member (the line a reader looks for), else the value;
/// for a node that does not exist in the file (an empty schema standing for a missing one),
/// its nearest existing ancestor.
fn site(node: &Node<'_>) -> Site {
    let mut pointer = node.pointer.as_str();
    let loc = loop {
        if let Some(l) = node.doc.locate_key(pointer).or_else(|| node.doc.locate_exact(pointer)) {
            break l;
        }
        match pointer.rfind('/') {
            Some(i) => pointer = &pointer[..i],
            None => break node.doc.locate(""),
        }
    };
    Site {
        file: node.file.to_string(),
        pointer: pointer.to_string(),
        line: loc.line,
        column: loc.column,
        offset: loc.offset,
        len: loc.len,
    }
}

impl<'s, 'a: 's> Differ<'s, 'a> {
    // -----------------------------------------------------------------------------------------
    // Recording
    // -----------------------------------------------------------------------------------------

    fn record(&mut self, kind: ChangeKind, message: String, old: Option<Node<'s>>, new: Option<Node<'s>>) {
        let entry = self.stack.last().copied();
        let ops = match entry {
            None => self.cur_op.into_iter().collect(),
            Some(_) => BTreeSet::new(),
        };
        self.raws.push(Raw {
            kind,
            message,
            old,
            new,
            ops,
            entry,
        });
    }

    fn record_ops(&mut self, kind: ChangeKind, message: String, old: Node<'s>, new: Node<'s>, ops: BTreeSet<usize>) {
        self.raws.push(Raw {
            kind,
            message,
            old: Some(old),
            new: Some(new),
            ops,
            entry: None,
        });
    }

    fn schema_change(&mut self, cx: &Cx, what: SchemaChange, message: String, old: Node<'s>, new: Node<'s>) {
        if let Some(kind) = ChangeKind::of_schema(cx.flow, what) {
            self.record(kind, message, Some(old), Some(new));
        }
    }

    fn op_index(&mut self, label: String) -> usize {
        self.ops.push(label);
        self.ops.len() - 1
    }

    fn finish(self) -> Vec<Change> {
        let n_entries = self.entries.len();
        let words = self.ops.len().div_ceil(64).max(1);
        let mut bits = vec![vec![0u64; words]; n_entries];
        for (e, entry) in self.entries.iter().enumerate() {
            for &op in &entry.users {
                bits[e][op / 64] |= 1 << (op % 64);
            }
        }
        // Users of a comparison include the users of every comparison that reaches it.
        loop {
            let mut changed = false;
            for (e, entry) in self.entries.iter().enumerate() {
                for &p in &entry.parents {
                    if p == e {
                        continue;
                    }
                    let from = bits[p].clone();
                    for (dst, src) in bits[e].iter_mut().zip(from) {
                        if *dst | src != *dst {
                            *dst |= src;
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        type Key = (ChangeKind, Option<(String, String)>, Option<(String, String)>, String);
        let mut merged: BTreeMap<Key, (usize, BTreeSet<usize>)> = BTreeMap::new();
        for (i, raw) in self.raws.iter().enumerate() {
            let mut ops = raw.ops.clone();
            if let Some(e) = raw.entry {
                for (w, word) in bits[e].iter().enumerate() {
                    for b in 0..64 {
                        if word & (1 << b) != 0 {
                            ops.insert(w * 64 + b);
                        }
                    }
                }
            }
            let loc = |n: &Option<Node<'_>>| n.as_ref().map(|n| (n.file.to_string(), n.pointer.clone()));
            let key = (raw.kind, loc(&raw.old), loc(&raw.new), raw.message.clone());
            merged.entry(key).or_insert_with(|| (i, BTreeSet::new())).1.extend(ops);
        }
        let mut out: Vec<Change> = merged
            .into_values()
            .map(|(i, ops)| {
                let raw = &self.raws[i];
                let mut labels: Vec<String> = Vec::new();
                for op in ops {
                    if let Some(l) = self.ops.get(op) {
                        if !labels.contains(l) {
                            labels.push(l.clone());
                        }
                    }
                }
                Change {
                    kind: raw.kind,
                    message: raw.message.clone(),
                    old: raw.old.as_ref().map(site),
                    new: raw.new.as_ref().map(site),
                    operations: labels,
                }
            })
            .collect();
        out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        out
    }

    // -----------------------------------------------------------------------------------------
    // Document: info, servers
    // -----------------------------------------------------------------------------------------

    fn document(&mut self) {
        let (o, n) = (self.old.root(), self.new.root());
        let ov = o.get("info").and_then(|i| i.get("version"));
        let nv = n.get("info").and_then(|i| i.get("version"));
        let show = |v: &Option<Node<'_>>| match v.as_ref().map(|n| n.value) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "(none)".into(),
        };
        if ov.as_ref().map(|n| n.value) != nv.as_ref().map(|n| n.value) {
            let msg = format!("info.version {} -> {}", show(&ov), show(&nv));
            let os = ov.clone().unwrap_or_else(|| or_self(&o, "info"));
            let ns = nv.clone().unwrap_or_else(|| or_self(&n, "info"));
            self.record(ChangeKind::InfoVersionChanged, msg, Some(os), Some(ns));
        }
        let (oo, no) = (o.get("openapi"), n.get("openapi"));
        if let (Some(a), Some(b)) = (&oo, &no) {
            if a.value != b.value {
                let msg = format!("OpenAPI {} -> {}", schema::show(a.value), schema::show(b.value));
                self.record(ChangeKind::OpenapiVersionChanged, msg, oo, no);
            }
        }
        self.servers(&o, &n);
        self.component_schemas(&o, &n);
    }

    /// Schemas removed from `components`: not an API change by themselves (what referred to
    /// them is compared where it is used), but reported so that a reader sees where they went.
    fn component_schemas(&mut self, o: &Node<'s>, n: &Node<'s>) {
        let schemas = |root: &Node<'s>| root.get("components").and_then(|c| c.get("schemas"));
        let (Some(os), ns) = (schemas(o), schemas(n)) else {
            return;
        };
        let keep: std::collections::HashSet<&str> = ns
            .as_ref()
            .map(|m| m.entries().into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default();
        let place = ns.clone().or_else(|| n.get("components")).unwrap_or_else(|| n.clone());
        for (name, schema) in os.entries() {
            if !keep.contains(name) {
                let msg = format!("schema `{name}` removed from components");
                self.record(
                    ChangeKind::ComponentSchemaRemoved,
                    msg,
                    Some(schema),
                    Some(place.clone()),
                );
            }
        }
    }

    fn servers(&mut self, o: &Node<'s>, n: &Node<'s>) {
        let list = |root: &Node<'s>| -> Vec<(String, Node<'s>)> {
            root.get("servers")
                .map(|s| s.items())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|s| {
                    let url = s.str("url")?.trim().trim_end_matches('/').to_string();
                    Some((url, s))
                })
                .collect()
        };
        let (os, ns) = (list(o), list(n));
        let old_left: Vec<&(String, Node<'s>)> = os.iter().filter(|(u, _)| !ns.iter().any(|(v, _)| v == u)).collect();
        let new_left: Vec<&(String, Node<'s>)> = ns.iter().filter(|(u, _)| !os.iter().any(|(v, _)| v == u)).collect();
        let o_container = or_self(o, "servers");
        let n_container = or_self(n, "servers");
        for (i, (url, node)) in old_left.iter().enumerate() {
            match new_left.get(i) {
                Some((nurl, nnode)) => {
                    let msg = format!("server URL `{url}` -> `{nurl}`");
                    self.record(
                        ChangeKind::ServerUrlChanged,
                        msg,
                        Some(node.clone()),
                        Some(nnode.clone()),
                    );
                }
                None => {
                    let msg = format!("server `{url}` removed");
                    self.record(
                        ChangeKind::ServerRemoved,
                        msg,
                        Some(node.clone()),
                        Some(n_container.clone()),
                    );
                }
            }
        }
        for (url, node) in new_left.iter().skip(old_left.len()) {
            let msg = format!("server `{url}` added");
            self.record(
                ChangeKind::ServerAdded,
                msg,
                Some(o_container.clone()),
                Some(node.clone()),
            );
        }
    }

    // -----------------------------------------------------------------------------------------
    // Paths and operations
    // -----------------------------------------------------------------------------------------

    fn paths(&mut self) {
        let group = |ops: Vec<Operation<'s>>| -> Vec<(&'s str, Vec<Operation<'s>>)> {
            let mut out: Vec<(&'s str, Vec<Operation<'s>>)> = Vec::new();
            for op in ops {
                match out.last_mut() {
                    Some((p, list)) if *p == op.path => list.push(op),
                    _ => out.push((op.path, vec![op])),
                }
            }
            out
        };
        let old_paths = group(self.old.operations());
        let new_paths = group(self.new.operations());
        let mut new_index: HashMap<String, usize> = HashMap::new();
        for (i, (p, _)) in new_paths.iter().enumerate() {
            new_index.entry(norm_path(p)).or_insert(i);
        }
        let o_paths = or_self(&self.old.root(), "paths");
        let n_paths = or_self(&self.new.root(), "paths");
        let mut matched_new = BTreeSet::new();
        for (path, ops) in &old_paths {
            let o_site = or_self(&o_paths, path);
            let Some(&ni) = new_index.get(&norm_path(path)) else {
                let idx: BTreeSet<usize> = ops.iter().map(|op| self.op_index(op.label())).collect();
                let methods: Vec<String> = ops.iter().map(|op| op.method.to_ascii_uppercase()).collect();
                let msg = format!("path `{path}` removed ({})", methods.join(", "));
                self.record_ops(ChangeKind::PathRemoved, msg, o_site, n_paths.clone(), idx);
                continue;
            };
            matched_new.insert(ni);
            let (npath, nops) = &new_paths[ni];
            let n_site = or_self(&n_paths, npath);
            if path != npath {
                let (a, b) = (path_params(path), path_params(npath));
                let msg = format!(
                    "path `{path}` renames its parameters: {} -> {} (same URLs)",
                    a.iter().map(|x| format!("`{{{x}}}`")).collect::<Vec<_>>().join(", "),
                    b.iter().map(|x| format!("`{{{x}}}`")).collect::<Vec<_>>().join(", ")
                );
                let idx: BTreeSet<usize> = nops.iter().map(|op| self.op_index(op.label())).collect();
                self.record_ops(
                    ChangeKind::PathParameterRenamed,
                    msg,
                    o_site.clone(),
                    n_site.clone(),
                    idx,
                );
            }
            for op in ops {
                match nops.iter().find(|n| n.method == op.method) {
                    Some(nop) => self.operation(op, nop, path, npath),
                    None => {
                        let idx = self.op_index(op.label());
                        let msg = format!("operation `{}` removed", op.label());
                        self.record_ops(
                            ChangeKind::OperationRemoved,
                            msg,
                            op.op.clone(),
                            n_site.clone(),
                            [idx].into(),
                        );
                    }
                }
            }
            for nop in nops {
                if !ops.iter().any(|o| o.method == nop.method) {
                    let idx = self.op_index(nop.label());
                    let msg = format!("operation `{}` added", nop.label());
                    self.record_ops(
                        ChangeKind::OperationAdded,
                        msg,
                        o_site.clone(),
                        nop.op.clone(),
                        [idx].into(),
                    );
                }
            }
        }
        for (i, (path, nops)) in new_paths.iter().enumerate() {
            if matched_new.contains(&i) {
                continue;
            }
            let idx: BTreeSet<usize> = nops.iter().map(|op| self.op_index(op.label())).collect();
            let methods: Vec<String> = nops.iter().map(|op| op.method.to_ascii_uppercase()).collect();
            let msg = format!("path `{path}` added ({})", methods.join(", "));
            let n_site = or_self(&n_paths, path);
            self.record_ops(ChangeKind::PathAdded, msg, o_paths.clone(), n_site, idx);
        }
    }

    fn webhooks(&mut self) {
        let (o, n) = (self.old.root(), self.new.root());
        let names = |root: &Node<'s>| -> Vec<(String, Node<'s>)> {
            root.get("webhooks")
                .map(|w| w.entries())
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect()
        };
        let (ow, nw) = (names(&o), names(&n));
        for (name, node) in &ow {
            if !nw.iter().any(|(k, _)| k == name) {
                let msg = format!("webhook `{name}` removed");
                self.record(
                    ChangeKind::WebhookRemoved,
                    msg,
                    Some(node.clone()),
                    Some(or_self(&n, "webhooks")),
                );
            }
        }
        for (name, node) in &nw {
            if !ow.iter().any(|(k, _)| k == name) {
                let msg = format!("webhook `{name}` added");
                self.record(
                    ChangeKind::WebhookAdded,
                    msg,
                    Some(or_self(&o, "webhooks")),
                    Some(node.clone()),
                );
            }
        }
    }

    fn operation(&mut self, o: &Operation<'s>, n: &Operation<'s>, opath: &str, npath: &str) {
        let idx = self.op_index(n.label());
        self.cur_op = Some(idx);
        match (o.operation_id(), n.operation_id()) {
            (Some(a), Some(b)) if a != b => {
                let msg = format!("operationId `{a}` -> `{b}`");
                self.record(
                    ChangeKind::OperationIdChanged,
                    msg,
                    Some(or_self(&o.op, "operationId")),
                    Some(or_self(&n.op, "operationId")),
                );
            }
            (Some(a), None) => {
                let msg = format!("operationId `{a}` removed");
                self.record(
                    ChangeKind::OperationIdChanged,
                    msg,
                    Some(or_self(&o.op, "operationId")),
                    Some(n.op.clone()),
                );
            }
            (None, Some(b)) => {
                let msg = format!("operationId `{b}` added");
                self.record(
                    ChangeKind::OperationIdAdded,
                    msg,
                    Some(o.op.clone()),
                    Some(or_self(&n.op, "operationId")),
                );
            }
            _ => {}
        }
        if !o.op.flag("deprecated") && n.op.flag("deprecated") {
            let msg = format!("operation `{}` deprecated", n.label());
            self.record(
                ChangeKind::OperationDeprecated,
                msg,
                Some(o.op.clone()),
                Some(or_self(&n.op, "deprecated")),
            );
        }
        self.parameters(o, n, opath, npath);
        self.request_body(o, n);
        self.responses(o, n);
        self.security(o, n);
        self.cur_op = None;
    }

    // -----------------------------------------------------------------------------------------
    // Parameters
    // -----------------------------------------------------------------------------------------

    fn parameters(&mut self, o: &Operation<'s>, n: &Operation<'s>, opath: &str, npath: &str) {
        let key = |p: &Param<'_>, names: &[&str]| -> (String, String) {
            let loc = p.location.to_ascii_lowercase();
            if loc == "path" {
                if let Some(i) = names.iter().position(|x| *x == p.name) {
                    return (loc, format!("#{i}"));
                }
            }
            let name = if loc == "header" {
                p.name.to_ascii_lowercase()
            } else {
                p.name.to_string()
            };
            (loc, name)
        };
        let (onames, nnames) = (path_params(opath), path_params(npath));
        let ops: Vec<((String, String), Param<'s>)> = self
            .old
            .parameters(o)
            .into_iter()
            .map(|p| (key(&p, &onames), p))
            .collect();
        let nps: Vec<((String, String), Param<'s>)> = self
            .new
            .parameters(n)
            .into_iter()
            .map(|p| (key(&p, &nnames), p))
            .collect();
        let m = pairing(ops.len(), nps.len(), 1, |_, i, j| ops[i].0 == nps[j].0);
        for &(i, j) in &m.pairs {
            self.parameter(&ops[i].1, &nps[j].1);
        }
        let removed: Vec<&Param<'s>> = m.removed.iter().map(|&i| &ops[i].1).collect();
        let mut added: Vec<&Param<'s>> = m.added.iter().map(|&j| &nps[j].1).collect();
        let n_container = or_self(&n.op, "parameters");
        let o_container = or_self(&o.op, "parameters");
        for p in removed {
            let moved = added
                .iter()
                .position(|q| q.name.eq_ignore_ascii_case(p.name) && !q.location.eq_ignore_ascii_case(p.location));
            match moved {
                Some(i) => {
                    let q = added.remove(i);
                    let msg = format!("parameter `{}` moved from {} to {}", p.name, p.location, q.location);
                    self.record(
                        ChangeKind::ParameterLocationChanged,
                        msg,
                        Some(p.node.clone()),
                        Some(q.node.clone()),
                    );
                }
                None => {
                    let msg = format!("{} parameter `{}` removed", p.location, p.name);
                    self.record(
                        ChangeKind::ParameterRemoved,
                        msg,
                        Some(p.node.clone()),
                        Some(n_container.clone()),
                    );
                }
            }
        }
        for q in added {
            let required = q.location.eq_ignore_ascii_case("path") || q.node.flag("required");
            let (kind, what) = if required {
                (ChangeKind::RequiredParameterAdded, "new required")
            } else {
                (ChangeKind::OptionalParameterAdded, "new optional")
            };
            let msg = format!("{what} {} parameter `{}`", q.location, q.name);
            self.record(kind, msg, Some(o_container.clone()), Some(q.node.clone()));
        }
    }

    fn param_schema(api: &'s Api<'a>, p: &Node<'s>) -> Option<Node<'s>> {
        if let Some(s) = p.get("schema") {
            return Some(s);
        }
        let content = p.get("content")?;
        let (_, media) = content.entries().into_iter().next()?;
        api.deref(media).get("schema")
    }

    fn parameter(&mut self, p: &Param<'s>, q: &Param<'s>) {
        let path = p.location.eq_ignore_ascii_case("path");
        let (oreq, nreq) = (path || p.node.flag("required"), path || q.node.flag("required"));
        let label = format!("{} parameter `{}`", q.location, q.name);
        if !oreq && nreq {
            let msg = format!("{label} became required");
            self.record(
                ChangeKind::ParameterBecameRequired,
                msg,
                Some(p.node.clone()),
                Some(or_self(&q.node, "required")),
            );
        } else if oreq && !nreq {
            let msg = format!("{label} became optional");
            self.record(
                ChangeKind::ParameterBecameOptional,
                msg,
                Some(or_self(&p.node, "required")),
                Some(q.node.clone()),
            );
        }
        let style = |n: &Node<'_>, loc: &str| -> (String, bool) {
            let default = match loc.to_ascii_lowercase().as_str() {
                "query" | "cookie" => "form",
                _ => "simple",
            };
            let s = n.str("style").unwrap_or(default).to_string();
            let explode = n.value.get("explode").and_then(Value::as_bool).unwrap_or(s == "form");
            (s, explode)
        };
        let (os, ns) = (style(&p.node, p.location), style(&q.node, q.location));
        if os != ns {
            let show = |(s, e): &(String, bool)| format!("style {s}, explode {e}");
            let msg = format!("{label}: {} -> {}", show(&os), show(&ns));
            self.record(
                ChangeKind::ParameterStyleChanged,
                msg,
                Some(p.node.clone()),
                Some(q.node.clone()),
            );
        }
        let (Some(a), Some(b)) = (
            Self::param_schema(self.old, &p.node),
            Self::param_schema(self.new, &q.node),
        ) else {
            return;
        };
        self.schema(&a, &b, &Cx::inline(Flow::Parameter, label), 0);
    }

    // -----------------------------------------------------------------------------------------
    // Request bodies and responses
    // -----------------------------------------------------------------------------------------

    fn request_body(&mut self, o: &Operation<'s>, n: &Operation<'s>) {
        match (self.old.request_body(o), self.new.request_body(n)) {
            (None, None) => {}
            (None, Some(nb)) => {
                let (kind, msg) = if nb.flag("required") {
                    (ChangeKind::RequiredRequestBodyAdded, "required request body added")
                } else {
                    (ChangeKind::RequestBodyAdded, "optional request body added")
                };
                self.record(kind, msg.into(), Some(o.op.clone()), Some(nb));
            }
            (Some(ob), None) => {
                self.record(
                    ChangeKind::RequestBodyRemoved,
                    "request body removed".into(),
                    Some(ob),
                    Some(n.op.clone()),
                );
            }
            (Some(ob), Some(nb)) => {
                match (ob.flag("required"), nb.flag("required")) {
                    (false, true) => self.record(
                        ChangeKind::RequestBodyBecameRequired,
                        "request body became required".into(),
                        Some(ob.clone()),
                        Some(or_self(&nb, "required")),
                    ),
                    (true, false) => self.record(
                        ChangeKind::RequestBodyBecameOptional,
                        "request body became optional".into(),
                        Some(or_self(&ob, "required")),
                        Some(nb.clone()),
                    ),
                    _ => {}
                }
                self.media(&ob, &nb, Flow::Request, "request body");
            }
        }
    }

    fn media(&mut self, o: &Node<'s>, n: &Node<'s>, flow: Flow, what: &str) {
        let om = self.old.content(o);
        let nm = self.new.content(n);
        let (removed, added) = match flow {
            Flow::Response => (ChangeKind::ResponseMediaTypeRemoved, ChangeKind::ResponseMediaTypeAdded),
            _ => (ChangeKind::RequestMediaTypeRemoved, ChangeKind::RequestMediaTypeAdded),
        };
        // Exact media types first, then the same type with other parameters (`; charset=...`).
        let m = pairing(om.len(), nm.len(), 2, |pass, i, j| match pass {
            0 => om[i].0 == nm[j].0,
            _ => norm_media(om[i].0) == norm_media(nm[j].0),
        });
        for &(i, j) in &m.pairs {
            let ((_, node), (nmedia, nnode)) = (&om[i], &nm[j]);
            if let (Some(a), Some(b)) = (node.get("schema"), nnode.get("schema")) {
                let cx = Cx::inline(flow, format!("{what} `{nmedia}`"));
                self.schema(&a, &b, &cx, 0);
            }
        }
        for &i in &m.removed {
            let (media, node) = &om[i];
            let msg = format!("{what}: media type `{media}` removed");
            self.record(removed, msg, Some(node.clone()), Some(or_self(n, "content")));
        }
        for &j in &m.added {
            let (media, node) = &nm[j];
            let msg = format!("{what}: media type `{media}` added");
            self.record(added, msg, Some(or_self(o, "content")), Some(node.clone()));
        }
    }

    fn responses(&mut self, o: &Operation<'s>, n: &Operation<'s>) {
        let ors = self.old.responses(o);
        let nrs = self.new.responses(n);
        let o_container = or_self(&o.op, "responses");
        let n_container = or_self(&n.op, "responses");
        let m = pairing(ors.len(), nrs.len(), 1, |_, i, j| {
            ors[i].code.trim().eq_ignore_ascii_case(nrs[j].code.trim())
        });
        for &(i, j) in &m.pairs {
            let (r, q) = (&ors[i], &nrs[j]);
            let what = format!("response {}", q.code);
            self.headers(&r.node, &q.node, &what);
            self.media(&r.node, &q.node, Flow::Response, &what);
        }
        for &i in &m.removed {
            let r = &ors[i];
            {
                {
                    let success = matches!(status_class(r.code), Some('2' | '3'));
                    let (kind, what) = if success {
                        (ChangeKind::ResponseSuccessStatusRemoved, "success")
                    } else {
                        (ChangeKind::ResponseErrorStatusRemoved, "error")
                    };
                    let msg = format!("{what} response {} removed", r.code);
                    self.record(kind, msg, Some(r.site.clone()), Some(n_container.clone()));
                }
            }
        }
        for &j in &m.added {
            let q = &nrs[j];
            {
                let msg = format!("response {} added", q.code);
                self.record(
                    ChangeKind::ResponseStatusAdded,
                    msg,
                    Some(o_container.clone()),
                    Some(q.site.clone()),
                );
            }
        }
    }

    fn headers(&mut self, o: &Node<'s>, n: &Node<'s>, what: &str) {
        let list = |api: &'s Api<'a>, r: &Node<'s>| -> Vec<(&'s str, Node<'s>)> {
            r.get("headers")
                .map(|h| h.entries())
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, api.deref(v)))
                .collect()
        };
        let oh = list(self.old, o);
        let nh = list(self.new, n);
        let m = pairing(oh.len(), nh.len(), 1, |_, i, j| oh[i].0.eq_ignore_ascii_case(nh[j].0));
        let partner = |i: usize| m.pairs.iter().find(|(a, _)| *a == i).map(|&(_, j)| &nh[j]);
        for (i, (name, node)) in oh.iter().enumerate() {
            match partner(i) {
                Some((nname, nnode)) => {
                    if node.flag("required") && !nnode.flag("required") {
                        let msg = format!("{what}: header `{nname}` became optional");
                        self.record(
                            ChangeKind::ResponseHeaderBecameOptional,
                            msg,
                            Some(or_self(node, "required")),
                            Some(nnode.clone()),
                        );
                    }
                    if let (Some(a), Some(b)) =
                        (Self::param_schema(self.old, node), Self::param_schema(self.new, nnode))
                    {
                        let cx = Cx::inline(Flow::Response, format!("{what} header `{nname}`"));
                        self.schema(&a, &b, &cx, 0);
                    }
                }
                None => {
                    // A header the old version did not promise (not `required`): correct
                    // clients survive its absence, real ones often read it anyway.
                    let (kind, msg) = if node.flag("required") {
                        (
                            ChangeKind::ResponseHeaderRemoved,
                            format!("{what}: header `{name}` removed"),
                        )
                    } else {
                        (
                            ChangeKind::ResponseOptionalHeaderRemoved,
                            format!("{what}: optional header `{name}` removed"),
                        )
                    };
                    self.record(kind, msg, Some(node.clone()), Some(or_self(n, "headers")));
                }
            }
        }
        for &j in &m.added {
            let (name, node) = &nh[j];
            {
                let msg = format!("{what}: header `{name}` added");
                self.record(
                    ChangeKind::ResponseHeaderAdded,
                    msg,
                    Some(or_self(o, "headers")),
                    Some(node.clone()),
                );
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Security
    // -----------------------------------------------------------------------------------------

    fn security(&mut self, o: &Operation<'s>, n: &Operation<'s>) {
        type Alt = BTreeMap<String, BTreeSet<String>>;
        let effective = |api: &'s Api<'a>, op: &Operation<'s>| -> (Node<'s>, Vec<Alt>) {
            let node = op.op.get("security").or_else(|| api.root().get("security"));
            let alts = node
                .as_ref()
                .map(|s| s.items())
                .unwrap_or_default()
                .iter()
                .filter_map(|alt| {
                    let m = alt.object()?;
                    Some(
                        m.iter()
                            .map(|(k, v)| {
                                let scopes = v
                                    .as_array()
                                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                                    .unwrap_or_default();
                                (k.clone(), scopes)
                            })
                            .collect::<Alt>(),
                    )
                })
                .collect();
            (node.unwrap_or_else(|| op.op.clone()), alts)
        };
        let public = |alts: &[Alt]| alts.is_empty() || alts.iter().any(BTreeMap::is_empty);
        let names = |a: &Alt| a.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" + ");
        let (osite, oalts) = effective(self.old, o);
        let (nsite, nalts) = effective(self.new, n);
        match (public(&oalts), public(&nalts)) {
            (true, false) => {
                let all: Vec<String> = nalts.iter().map(names).collect();
                let msg = format!("authentication now required ({})", all.join(" or "));
                self.record(ChangeKind::SecurityAdded, msg, Some(osite), Some(nsite));
            }
            (false, true) => {
                self.record(
                    ChangeKind::SecurityRemoved,
                    "authentication no longer required".into(),
                    Some(osite),
                    Some(nsite),
                );
            }
            (true, true) => {}
            (false, false) => {
                // The same alternative first, then one with the same schemes (scopes changed).
                let m = pairing(oalts.len(), nalts.len(), 2, |pass, i, j| match pass {
                    0 => oalts[i] == nalts[j],
                    _ => oalts[i].keys().eq(nalts[j].keys()),
                });
                let show = |v: &[&String]| v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
                for &(i, j) in &m.pairs {
                    for (scheme, scopes) in &oalts[i] {
                        let Some(nscopes) = nalts[j].get(scheme) else { continue };
                        let added: Vec<&String> = nscopes.difference(scopes).collect();
                        let removed: Vec<&String> = scopes.difference(nscopes).collect();
                        if !added.is_empty() {
                            let msg = format!("`{scheme}` now also requires scope(s) {}", show(&added));
                            self.record(
                                ChangeKind::SecurityScopeAdded,
                                msg,
                                Some(osite.clone()),
                                Some(nsite.clone()),
                            );
                        }
                        if !removed.is_empty() {
                            let msg = format!("`{scheme}` no longer requires scope(s) {}", show(&removed));
                            self.record(
                                ChangeKind::SecurityScopeRemoved,
                                msg,
                                Some(osite.clone()),
                                Some(nsite.clone()),
                            );
                        }
                    }
                }
                for &i in &m.removed {
                    let msg = format!("security requirement {} removed", names(&oalts[i]));
                    self.record(
                        ChangeKind::SecurityAlternativeRemoved,
                        msg,
                        Some(osite.clone()),
                        Some(nsite.clone()),
                    );
                }
                for &j in &m.added {
                    let msg = format!("security requirement {} added as an alternative", names(&nalts[j]));
                    self.record(
                        ChangeKind::SecurityAlternativeAdded,
                        msg,
                        Some(osite.clone()),
                        Some(nsite.clone()),
                    );
                }
            }
        }
    }

    fn security_schemes(&mut self) {
        let schemes = |api: &'s Api<'a>| -> Vec<(&'s str, Node<'s>)> {
            api.root()
                .get("components")
                .and_then(|c| c.get("securitySchemes"))
                .map(|s| s.entries())
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, api.deref(v)))
                .collect()
        };
        let (os, ns) = (schemes(self.old), schemes(self.new));
        for (name, o) in &os {
            let Some((_, n)) = ns.iter().find(|(k, _)| k == name) else {
                continue;
            };
            let mut diffs = Vec::new();
            for field in ["type", "scheme", "in", "name", "openIdConnectUrl"] {
                let norm = |node: &Node<'_>| node.str(field).map(|s| s.trim().to_ascii_lowercase());
                if norm(o) != norm(n) {
                    let show = |node: &Node<'_>| node.str(field).unwrap_or("(none)").to_string();
                    diffs.push(format!("{field} {} -> {}", show(o), show(n)));
                }
            }
            let flows = |node: &Node<'s>| node.get("flows").map(|f| f.entries()).unwrap_or_default();
            let (of, nf) = (flows(o), flows(n));
            for (flow, of_node) in &of {
                match nf.iter().find(|(k, _)| k == flow) {
                    None => diffs.push(format!("flow `{flow}` removed")),
                    Some((_, nf_node)) => {
                        for url in ["tokenUrl", "authorizationUrl"] {
                            if of_node.str(url) != nf_node.str(url) {
                                diffs.push(format!("flow `{flow}` {url} changed"));
                            }
                        }
                    }
                }
            }
            if !diffs.is_empty() {
                let msg = format!("security scheme `{name}` changed: {}", diffs.join(", "));
                self.record(ChangeKind::SecuritySchemeChanged, msg, Some(o.clone()), Some(n.clone()));
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Schemas
    // -----------------------------------------------------------------------------------------

    /// Compares two schemas (either may be a `$ref`).
    fn schema(&mut self, o: &Node<'s>, n: &Node<'s>, cx: &Cx, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let via_ref = o.ref_str().is_some() || n.ref_str().is_some();
        let ro = self.old.deref(o.clone());
        let rn = self.new.deref(n.clone());
        if !via_ref {
            self.schema_body(&ro, &rn, cx, depth);
            return;
        }
        let key = (
            ro.file.to_string(),
            ro.pointer.clone(),
            rn.file.to_string(),
            rn.pointer.clone(),
            cx.flow,
        );
        let e = match self.memo.get(&key) {
            Some(&e) => {
                self.use_entry(e);
                return;
            }
            None => {
                let e = self.entries.len();
                self.entries.push(Entry::default());
                self.memo.insert(key, e);
                self.use_entry(e);
                e
            }
        };
        // Named after the schema referred to (the new side's when both are references).
        let name = if n.ref_str().is_some() || o.ref_str().is_none() {
            target_name(&rn)
        } else {
            target_name(&ro)
        };
        let cx = Cx {
            flow: cx.flow,
            root: name,
            component: true,
            path: String::new(),
        };
        self.stack.push(e);
        self.schema_body(&ro, &rn, &cx, depth);
        self.stack.pop();
    }

    fn use_entry(&mut self, e: usize) {
        match self.stack.last() {
            Some(&top) if top != e => {
                self.entries[e].parents.insert(top);
            }
            Some(_) => {}
            None => {
                if let Some(op) = self.cur_op {
                    self.entries[e].users.insert(op);
                }
            }
        }
    }

    fn schema_body(&mut self, o: &Node<'s>, n: &Node<'s>, cx: &Cx, depth: usize) {
        if o.object().is_none() || n.object().is_none() {
            return;
        }
        if self.compositions(o, n, cx, depth) {
            return;
        }
        let (Some(om), Some(nm)) = (o.object(), n.object()) else {
            return;
        };
        let (ok, nk) = (Kw::of(om), Kw::of(nm));
        let ot = schema::types_of(self.old, o, &ok);
        let nt = schema::types_of(self.new, n, &nk);
        if let (Some(a), Some(b)) = (ot, nt) {
            let delta = schema::type_delta(a, b);
            let what = match delta {
                TypeDelta::Same => None,
                TypeDelta::Narrowed => Some(SchemaChange::TypeNarrowed),
                TypeDelta::Widened => Some(SchemaChange::TypeWidened),
                TypeDelta::Changed => Some(SchemaChange::TypeChanged),
            };
            if let Some(what) = what {
                let msg = format!(
                    "{}: type {} -> {}",
                    cx.subject(),
                    schema::describe(a),
                    schema::describe(b)
                );
                self.schema_change(cx, what, msg, or_self(o, "type"), or_self(n, "type"));
            }
            if delta == TypeDelta::Changed {
                // Nothing else compares meaningfully across unrelated types.
                return;
            }
        }
        // Enum values (when both sides have an enum; adding or dropping the enum is a
        // constraint change).
        if let (Some(oe), Some(ne)) = (ok.enum_values(), nk.enum_values()) {
            let removed: Vec<&Value> = oe.iter().filter(|v| !ne.contains(v)).copied().collect();
            let added: Vec<&Value> = ne.iter().filter(|v| !oe.contains(v)).copied().collect();
            let (os, ns) = (or_self(o, "enum"), or_self(n, "enum"));
            if !removed.is_empty() {
                let msg = format!(
                    "{}: enum value(s) {} removed",
                    cx.subject(),
                    schema::show_list(&removed, MAX_VALUES)
                );
                self.schema_change(cx, SchemaChange::EnumValueRemoved, msg, os.clone(), ns.clone());
            }
            if !added.is_empty() {
                let msg = format!(
                    "{}: enum value(s) {} added",
                    cx.subject(),
                    schema::show_list(&added, MAX_VALUES)
                );
                self.schema_change(cx, SchemaChange::EnumValueAdded, msg, os, ns);
            }
        }
        self.constraint_changes(o, n, &ok, &nk, cx);
        if cx.flow.client_writes() {
            self.default_change(o, n, &ok, &nk, cx);
        }
        let can = |t: Option<u8>, bit: u8| t.is_none_or(|t| t & bit != 0);
        let objects = |k: &Kw<'_>| k.properties || k.required || k.all_of;
        if can(ot, schema::OBJECT) && can(nt, schema::OBJECT) && (objects(&ok) || objects(&nk)) {
            self.properties(o, n, cx, depth);
        }
        if can(ot, schema::OBJECT) && can(nt, schema::OBJECT) {
            if let (Some(a), Some(b)) = (ok.additional, nk.additional) {
                if a.is_object() && b.is_object() {
                    let (a, b) = (o.child("additionalProperties", a), n.child("additionalProperties", b));
                    self.schema(&a, &b, &cx.child("*"), depth + 1);
                }
            }
        }
        if can(ot, schema::ARRAY) && can(nt, schema::ARRAY) && ok.items && nk.items {
            if let (Some(a), Some(b)) = (o.get("items"), n.get("items")) {
                if a.value.is_object() && b.value.is_object() {
                    self.schema(&a, &b, &cx.items(), depth + 1);
                }
            }
        }
        if (ok.one_of || ok.any_of) && (nk.one_of || nk.any_of) {
            self.variants(o, n, cx, depth);
        }
    }

    /// Compositions compared by what they accept: a union of length-bounded strings is its
    /// widest member; two unions variant by variant; a schema and a union through the variant
    /// it became. True when the comparison is done.
    fn compositions(&mut self, o: &Node<'s>, n: &Node<'s>, cx: &Cx, depth: usize) -> bool {
        let ou = Self::pure_union(o);
        let nu = Self::pure_union(n);
        let fold = |u: &Option<(Node<'s>, Vec<Node<'s>>)>| u.as_ref().and_then(|(_, v)| Self::widest_string(v));
        let (of, nf) = (fold(&ou), fold(&nu));
        if of.is_some() || nf.is_some() {
            let (a, b) = (of.unwrap_or_else(|| o.clone()), nf.unwrap_or_else(|| n.clone()));
            self.nullability(o, n, cx);
            self.schema_body(&a, &b, cx, depth + 1);
            return true;
        }
        match (&ou, &nu) {
            (Some((ol, ov)), Some((nl, nv))) => {
                self.nullability(o, n, cx);
                self.variant_lists(n, ol, ov, nl, nv, cx, depth);
                return true;
            }
            (None, Some((nl, nv))) => {
                if self.plain_vs_union(o, n, nl, nv, true, cx, depth) {
                    self.nullability(o, n, cx);
                    return true;
                }
            }
            (Some((ol, ov)), None) => {
                if self.plain_vs_union(n, o, ol, ov, false, cx, depth) {
                    self.nullability(o, n, cx);
                    return true;
                }
            }
            (None, None) => {}
        }
        false
    }

    /// Bounds, enum presence, formats and patterns of two schemas, judged together.
    fn constraint_changes(&mut self, o: &Node<'s>, n: &Node<'s>, ok: &Kw<'_>, nk: &Kw<'_>, cx: &Cx) {
        let mut c = constraints(ok, nk);
        // A format validators do not check (`unix-time`) says nothing certain about the values:
        // adding it to what clients send, or dropping it from what they read, may or may not
        // matter. The other direction documents a subset or a superset like any constraint.
        if let Some((a, b)) = c.unknown_format.take() {
            let uncertain = match (&a, &b) {
                (None, Some(_)) => cx.flow.client_writes(),
                _ => !cx.flow.client_writes(),
            };
            let text = match (&a, &b) {
                (None, Some(b)) => format!("format `{b}` added"),
                (Some(a), _) => format!("format `{a}` removed"),
                (None, None) => String::new(),
            };
            if uncertain {
                let msg = format!("{}: {text} (a format validators do not check)", cx.subject());
                self.schema_change(
                    cx,
                    SchemaChange::FormatChanged,
                    msg,
                    or_self(o, "format"),
                    or_self(n, "format"),
                );
            } else if b.is_some() {
                c.tightened.push(text);
            } else {
                c.relaxed.push(text);
            }
        }
        schema::judge_together(ok, nk, &mut c);
        if !c.tightened.is_empty() {
            let msg = format!("{}: {}", cx.subject(), c.tightened.join(", "));
            self.schema_change(cx, SchemaChange::ConstraintTightened, msg, o.clone(), n.clone());
        }
        if !c.relaxed.is_empty() {
            let msg = format!("{}: {}", cx.subject(), c.relaxed.join(", "));
            self.schema_change(cx, SchemaChange::ConstraintRelaxed, msg, o.clone(), n.clone());
        }
        if let Some((a, b)) = &c.format {
            let msg = format!("{}: format `{a}` -> `{b}`", cx.subject());
            self.schema_change(
                cx,
                SchemaChange::FormatChanged,
                msg,
                or_self(o, "format"),
                or_self(n, "format"),
            );
        }
        if let Some((a, b)) = &c.pattern {
            let msg = format!("{}: pattern `{a}` -> `{b}`", cx.subject());
            self.schema_change(
                cx,
                SchemaChange::PatternChanged,
                msg,
                or_self(o, "pattern"),
                or_self(n, "pattern"),
            );
        }
    }

    /// A default that changed or disappeared in what clients send.
    fn default_change(&mut self, o: &Node<'s>, n: &Node<'s>, ok: &Kw<'_>, nk: &Kw<'_>, cx: &Cx) {
        if let Some(od) = ok.default {
            match nk.default {
                Some(nd) if nd == od => {}
                Some(nd) => {
                    let msg = format!(
                        "{}: default `{}` -> `{}`",
                        cx.subject(),
                        schema::show(od),
                        schema::show(nd)
                    );
                    self.schema_change(
                        cx,
                        SchemaChange::DefaultChanged,
                        msg,
                        or_self(o, "default"),
                        or_self(n, "default"),
                    );
                }
                None => {
                    let msg = format!("{}: default `{}` removed", cx.subject(), schema::show(od));
                    self.schema_change(cx, SchemaChange::DefaultChanged, msg, or_self(o, "default"), n.clone());
                }
            }
        }
    }

    /// `null` accepted on one side only, when the rest is compared variant by variant.
    fn nullability(&mut self, o: &Node<'s>, n: &Node<'s>, cx: &Cx) {
        let (a, b) = (o.flag("nullable"), n.flag("nullable"));
        if a == b {
            return;
        }
        let (what, text) = if b {
            (SchemaChange::TypeWidened, "now nullable")
        } else {
            (SchemaChange::TypeNarrowed, "no longer nullable")
        };
        let msg = format!("{}: {text}", cx.subject());
        self.schema_change(cx, what, msg, or_self(o, "nullable"), or_self(n, "nullable"));
    }

    /// The `$ref` parts of an `allOf`: (resolved pointer, the part as written).
    fn allof_refs(api: &'s Api<'a>, node: &Node<'s>) -> Vec<(String, Node<'s>)> {
        node.get("allOf")
            .map(|a| a.items())
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m.ref_str().is_some())
            .map(|m| (target_name(&api.deref(m.clone())), m))
            .collect()
    }

    fn view(api: &'s Api<'a>, node: &Node<'s>, flatten_refs: bool, depth: usize, out: &mut View<'s>) {
        if !out.visited.insert((node.file, node.pointer.clone())) {
            return;
        }
        if let Some(props) = node.get("properties") {
            for (name, p) in props.entries() {
                out.add(name, Some(p));
            }
        }
        if let Some(req) = node.get("required") {
            out.required
                .extend(req.items().iter().filter_map(|r| r.value.as_str()).map(str::to_string));
        }
        if depth >= MAX_ALLOF_DEPTH {
            return;
        }
        for m in node.get("allOf").map(|a| a.items()).unwrap_or_default() {
            let part = api.deref(m.clone());
            if m.ref_str().is_some() && !flatten_refs {
                // Compared on its own: only its names count here.
                let mut inner = View::default();
                Self::view(api, &part, true, depth + 1, &mut inner);
                for (name, _) in inner.props {
                    if out.get(&name).is_none() {
                        out.from_parts.insert(name.clone());
                    }
                    out.add(&name, None);
                }
            } else {
                Self::view(api, &part, true, depth + 1, out);
            }
        }
    }

    fn properties(&mut self, o: &Node<'s>, n: &Node<'s>, cx: &Cx, depth: usize) {
        let orefs = Self::allof_refs(self.old, o);
        let nrefs = Self::allof_refs(self.new, n);
        let same_parts = orefs.len() == nrefs.len() && orefs.iter().zip(&nrefs).all(|((a, _), (b, _))| a == b);
        if same_parts {
            for ((_, a), (_, b)) in orefs.iter().zip(&nrefs) {
                self.schema(a, b, cx, depth + 1);
            }
        }
        let mut ov = View::default();
        let mut nv = View::default();
        Self::view(self.old, o, !same_parts, 0, &mut ov);
        Self::view(self.new, n, !same_parts, 0, &mut nv);
        let hidden = |api: &'s Api<'a>, s: &Option<Node<'s>>| -> bool {
            let Some(s) = s else { return false };
            let r = api.deref(s.clone());
            match cx.flow {
                Flow::Response => r.flag("writeOnly"),
                _ => r.flag("readOnly"),
            }
        };
        let mut names: Vec<String> = Vec::new();
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let all = ov
            .props
            .iter()
            .map(|(k, _)| k)
            .chain(&ov.required)
            .chain(nv.props.iter().map(|(k, _)| k))
            .chain(&nv.required);
        for k in all {
            if seen.insert(k.as_str()) {
                names.push(k.clone());
            }
        }
        let o_props = or_self(o, "properties");
        let n_props = or_self(n, "properties");
        for name in names {
            let os = ov.get(&name);
            let ns = nv.get(&name);
            let o_has = os.is_some() || ov.required.contains(&name);
            let n_has = ns.is_some() || nv.required.contains(&name);
            let (oreq, nreq) = (ov.required.contains(&name), nv.required.contains(&name));
            let (os, ns) = (os.cloned().flatten(), ns.cloned().flatten());
            let skip = match (&os, &ns) {
                (_, Some(_)) => hidden(self.new, &ns),
                (Some(_), None) => hidden(self.old, &os),
                _ => false,
            };
            if skip {
                continue;
            }
            // Added to or removed from a referenced part: reported there.
            let in_part = |v: &View<'_>, s: &Option<Node<'_>>| s.is_none() && v.from_parts.contains(&name);
            if (o_has != n_has) && (in_part(&ov, &os) || in_part(&nv, &ns)) {
                continue;
            }
            let child = cx.child(&name);
            match (o_has, n_has) {
                (true, false) => {
                    let (what, msg) = if oreq {
                        (
                            SchemaChange::PropertyRemoved,
                            format!("property {} removed", child.subject()),
                        )
                    } else {
                        (
                            SchemaChange::OptionalPropertyRemoved,
                            format!("optional property {} removed", child.subject()),
                        )
                    };
                    let old = os.clone().unwrap_or_else(|| or_self(o, "required"));
                    self.schema_change(cx, what, msg, old, n_props.clone());
                }
                (false, true) => {
                    let (what, msg) = if nreq {
                        (
                            SchemaChange::RequiredPropertyAdded,
                            format!("new required property {}", child.subject()),
                        )
                    } else {
                        (
                            SchemaChange::OptionalPropertyAdded,
                            format!("new optional property {}", child.subject()),
                        )
                    };
                    let new = ns.clone().unwrap_or_else(|| or_self(n, "required"));
                    self.schema_change(cx, what, msg, o_props.clone(), new);
                }
                (true, true) => {
                    if !oreq && nreq {
                        let msg = format!("property {} became required", child.subject());
                        let old = os.clone().unwrap_or_else(|| o.clone());
                        self.schema_change(
                            cx,
                            SchemaChange::PropertyBecameRequired,
                            msg,
                            old,
                            or_self(n, "required"),
                        );
                    } else if oreq && !nreq {
                        let msg = format!("property {} became optional", child.subject());
                        let new = ns.clone().unwrap_or_else(|| n.clone());
                        self.schema_change(
                            cx,
                            SchemaChange::PropertyBecameOptional,
                            msg,
                            or_self(o, "required"),
                            new,
                        );
                    }
                    // A property whose schema went away (or appeared) while `required` still
                    // names it is compared with the empty schema (any value).
                    let parts = |v: &View<'_>| v.from_parts.contains(&name);
                    match (&os, &ns) {
                        (Some(a), Some(b)) => self.schema(a, b, &child, depth + 1),
                        (Some(a), None) if !parts(&nv) => {
                            let b = unconstrained(n, &name);
                            self.schema(a, &b, &child, depth + 1);
                        }
                        (None, Some(b)) if !parts(&ov) => {
                            let a = unconstrained(o, &name);
                            self.schema(&a, b, &child, depth + 1);
                        }
                        _ => {}
                    }
                }
                (false, false) => {}
            }
        }
    }

    /// The variants of a `oneOf`/`anyOf` (`anyOf`s nested directly in an `anyOf` spliced in:
    /// they are the same union), with the node holding the list.
    fn union(node: &Node<'s>) -> Option<(Node<'s>, Vec<Node<'s>>)> {
        let (key, list) = ["oneOf", "anyOf"]
            .iter()
            .find_map(|k| node.get(k).filter(|v| v.value.is_array()).map(|v| (*k, v)))?;
        let mut out = Vec::new();
        let mut todo: Vec<Node<'s>> = list.items();
        todo.reverse();
        let mut budget = 256;
        while let Some(v) = todo.pop() {
            budget -= 1;
            if key == "anyOf" && budget > 0 && v.ref_str().is_none() && bare_keys(&v) == ["anyOf"] {
                if let Some(inner) = v.get("anyOf") {
                    let mut items = inner.items();
                    items.reverse();
                    todo.extend(items);
                    continue;
                }
            }
            out.push(v);
        }
        Some((list, out))
    }

    /// A union whose only keywords are the union (and `nullable`): compared variant by variant.
    fn pure_union(node: &Node<'s>) -> Option<(Node<'s>, Vec<Node<'s>>)> {
        let keys = bare_keys(node);
        let union_only = keys
            .iter()
            .all(|k| matches!(*k, "oneOf" | "anyOf" | "nullable" | "discriminator"));
        if !union_only {
            return None;
        }
        Self::union(node)
    }

    /// A union of plain strings that differ only in length bounds accepts what its widest
    /// member accepts (`anyOf: [{maxLength: 500}, {maxLength: 5000}]`): that member.
    fn widest_string(variants: &[Node<'s>]) -> Option<Node<'s>> {
        let plain = |v: &Node<'s>| {
            v.ref_str().is_none()
                && v.str("type") == Some("string")
                && bare_keys(v)
                    .iter()
                    .all(|k| matches!(*k, "type" | "maxLength" | "minLength"))
        };
        if variants.len() < 2 || !variants.iter().all(plain) {
            return None;
        }
        let num = |v: &Node<'s>, k: &str| v.get(k).and_then(|x| x.value.as_f64());
        let covers = |a: &Node<'s>, b: &Node<'s>| {
            let max_ok = match (num(a, "maxLength"), num(b, "maxLength")) {
                (None, _) => true,
                (Some(x), Some(y)) => x >= y,
                (Some(_), None) => false,
            };
            max_ok && num(a, "minLength").unwrap_or(0.0) <= num(b, "minLength").unwrap_or(0.0)
        };
        variants.iter().find(|a| variants.iter().all(|b| covers(a, b))).cloned()
    }

    /// Type bits of the variants that accept every value of their type (`{type: object}`):
    /// the other variants of those types add nothing to what the union accepts.
    fn open_types(variants: &[Node<'s>]) -> u8 {
        variants
            .iter()
            .filter(|v| v.ref_str().is_none() && bare_keys(v) == ["type"])
            .filter_map(|v| v.str("type"))
            .map(schema::type_bit_of)
            .fold(0, |a, b| a | b)
    }

    fn prop_names(api: &'s Api<'a>, v: &Node<'s>) -> BTreeSet<&'s str> {
        let r = api.deref(v.clone());
        r.get("properties")
            .map(|p| p.entries().into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default()
    }

    /// A schema compared with a union on the other side (`old_is_plain`: the union is new):
    /// the plain schema is compared with the variant it became (or came from), and the other
    /// variants are added (or removed). False when no variant matches.
    #[allow(clippy::too_many_arguments)]
    fn plain_vs_union(
        &mut self,
        plain: &Node<'s>,
        union: &Node<'s>,
        list: &Node<'s>,
        variants: &[Node<'s>],
        old_is_plain: bool,
        cx: &Cx,
        depth: usize,
    ) -> bool {
        let (papi, uapi) = if old_is_plain {
            (self.old, self.new)
        } else {
            (self.new, self.old)
        };
        let pk = plain.object().map(Kw::of).unwrap_or_default();
        let pt = schema::types_of(papi, plain, &pk);
        let named = plain.pointer.starts_with("/components/").then(|| target_name(plain));
        let vt: Vec<Option<u8>> = variants
            .iter()
            .map(|v| {
                let r = uapi.deref(v.clone());
                let k = r.object().map(Kw::of).unwrap_or_default();
                schema::types_of(uapi, &r, &k)
            })
            .collect();
        let by_name = named.as_ref().and_then(|name| {
            variants
                .iter()
                .position(|v| v.ref_str().is_some() && &target_name(&uapi.deref(v.clone())) == name)
        });
        let props = Self::prop_names(papi, plain);
        let overlap = |i: usize| {
            let q = Self::prop_names(uapi, &variants[i]);
            let common = props.intersection(&q).count();
            common * 2 >= props.len().min(q.len()).max(1) && common > 0
        };
        let same_type = |i: usize| pt.is_some() && vt[i] == pt;
        let covering = |i: usize| matches!((pt, vt[i]), (Some(a), Some(b)) if schema::covers(b, a));
        let j = by_name
            .or_else(|| (0..variants.len()).find(|&i| same_type(i) && (props.is_empty() || overlap(i))))
            .or_else(|| (0..variants.len()).find(|&i| same_type(i)))
            .or_else(|| (0..variants.len()).find(|&i| covering(i)));
        let Some(j) = j else {
            return false;
        };
        let open = Self::open_types(variants);
        if old_is_plain {
            self.schema(plain, &variants[j], cx, depth + 1);
        } else {
            self.schema(&variants[j], plain, cx, depth + 1);
        }
        for (i, v) in variants.iter().enumerate() {
            if i == j || vt[i].is_some_and(|t| t & open != 0 && bare_keys(v) != ["type"]) {
                continue;
            }
            let label = variant_label(uapi, v, i);
            if old_is_plain {
                let msg = if cx.flow.client_writes() {
                    format!("{}: now also accepts variant {label}", cx.subject())
                } else {
                    format!("{}: may now also be variant {label}", cx.subject())
                };
                // The old values all match the variant they became; a new overlapping one may
                // make them match two.
                let what = self.added_variant(union, list, variants, i);
                self.schema_change(cx, what, msg, plain.clone(), v.clone());
            } else {
                let msg = format!("{}: variant {label} removed", cx.subject());
                self.schema_change(cx, SchemaChange::VariantRemoved, msg, v.clone(), plain.clone());
            }
        }
        true
    }

    /// A variant added to a `oneOf` without a `discriminator` that accepts values of a type
    /// another variant accepts may make a value match two variants, which "exactly one"
    /// rejects; elsewhere (an `anyOf`, distinct types) it only widens.
    fn added_variant(&self, union: &Node<'s>, list: &Node<'s>, variants: &[Node<'s>], j: usize) -> SchemaChange {
        let one_of = list.pointer.ends_with("/oneOf");
        if !one_of || union.get("discriminator").is_some() {
            return SchemaChange::VariantAdded;
        }
        let types = |v: &Node<'s>| {
            let r = self.new.deref(v.clone());
            let k = r.object().map(Kw::of).unwrap_or_default();
            schema::types_of(self.new, &r, &k).map(|t| t & !schema::NULL)
        };
        let tj = types(&variants[j]);
        let overlaps = variants.iter().enumerate().any(|(i, v)| {
            i != j
                && match (tj, types(v)) {
                    (Some(a), Some(b)) => a & b != 0,
                    _ => true,
                }
        });
        if overlaps {
            SchemaChange::VariantAddedOverlapping
        } else {
            SchemaChange::VariantAdded
        }
    }

    fn variants(&mut self, o: &Node<'s>, n: &Node<'s>, cx: &Cx, depth: usize) {
        let (Some((ol, ov)), Some((nl, nv))) = (Self::union(o), Self::union(n)) else {
            return;
        };
        self.variant_lists(n, &ol, &ov, &nl, &nv, cx, depth);
    }

    #[allow(clippy::too_many_arguments)]
    fn variant_lists(
        &mut self,
        n: &Node<'s>,
        ol: &Node<'s>,
        ov: &[Node<'s>],
        nl: &Node<'s>,
        nv: &[Node<'s>],
        cx: &Cx,
        depth: usize,
    ) {
        // Referenced variants pair by name; inline ones by position when their number is
        // unchanged; what is left by shared properties (a variant whose schema was replaced by
        // a renamed, similar one: `deleted_object` -> `deleted_customer`).
        let ident = |api: &'s Api<'a>, b: &Node<'s>| -> Option<String> {
            b.ref_str()?;
            Some(target_name(&api.deref(b.clone())))
        };
        let ob: Vec<(Option<String>, Node<'s>)> = ov.iter().map(|b| (ident(self.old, b), b.clone())).collect();
        let nb: Vec<(Option<String>, Node<'s>)> = nv.iter().map(|b| (ident(self.new, b), b.clone())).collect();
        let inline_rank =
            |list: &[(Option<String>, Node<'s>)], i: usize| list[..i].iter().filter(|(x, _)| x.is_none()).count();
        let pair_inline =
            ob.iter().filter(|(x, _)| x.is_none()).count() == nb.iter().filter(|(x, _)| x.is_none()).count();
        let op: Vec<BTreeSet<&str>> = ov.iter().map(|v| Self::prop_names(self.old, v)).collect();
        let np: Vec<BTreeSet<&str>> = nv.iter().map(|v| Self::prop_names(self.new, v)).collect();
        let types = |api: &'s Api<'a>, v: &Node<'s>| {
            let r = api.deref(v.clone());
            let k = r.object().map(Kw::of).unwrap_or_default();
            schema::types_of(api, &r, &k)
        };
        let ot: Vec<Option<u8>> = ov.iter().map(|v| types(self.old, v)).collect();
        let nt: Vec<Option<u8>> = nv.iter().map(|v| types(self.new, v)).collect();
        let m = pairing(ob.len(), nb.len(), 3, |pass, i, j| match pass {
            0 => match (&ob[i].0, &nb[j].0) {
                (Some(a), Some(b)) => a == b,
                (None, None) => pair_inline && inline_rank(&ob, i) == inline_rank(&nb, j),
                _ => false,
            },
            // inline variants of the same type(s), when their number changed
            1 => ob[i].0.is_none() && nb[j].0.is_none() && ot[i].is_some() && ot[i] == nt[j],
            _ => {
                let (a, b) = (&op[i], &np[j]);
                let common = a.intersection(b).count();
                common > 0 && common * 2 >= a.len().min(b.len()) && ob[i].0.is_some() == nb[j].0.is_some()
            }
        });
        let open_old = Self::open_types(ov);
        let open_new = Self::open_types(nv);
        // A variant of a type that an open variant (`{type: object}`) accepts on its side adds
        // nothing to what the union accepts.
        let moot = |api: &'s Api<'a>, v: &Node<'s>, open: u8| {
            open != 0 && bare_keys(v) != ["type"] && types(api, v).is_some_and(|t| t & open == t)
        };
        for &(i, j) in &m.pairs {
            if moot(self.old, &ob[i].1, open_old) && moot(self.new, &nb[j].1, open_new) {
                continue;
            }
            self.schema(&ob[i].1, &nb[j].1, cx, depth + 1);
        }
        for &i in &m.removed {
            if moot(self.old, &ob[i].1, open_old | open_new) {
                continue;
            }
            let msg = format!(
                "{}: variant {} removed",
                cx.subject(),
                variant_label(self.old, &ob[i].1, i)
            );
            self.schema_change(cx, SchemaChange::VariantRemoved, msg, ob[i].1.clone(), nl.clone());
        }
        for &j in &m.added {
            if moot(self.new, &nb[j].1, open_new | open_old) {
                continue;
            }
            let label = variant_label(self.new, &nb[j].1, j);
            let what = self.added_variant(n, nl, nv, j);
            let msg = match what {
                SchemaChange::VariantAddedOverlapping => format!(
                    "{}: variant {label} added to a `oneOf` whose other variants accept values of the same type: a request that matched one variant may now match two and be rejected",
                    cx.subject()
                ),
                _ => format!("{}: variant {label} added", cx.subject()),
            };
            self.schema_change(cx, what, msg, ol.clone(), nb[j].1.clone());
        }
    }
}
