//! API evolution: the diff engine that compares two versions of an OpenAPI description
//! (3.0 or 3.1, JSON or YAML, multi-file) and classifies every change as breaking, possibly
//! breaking or compatible for existing clients. Used by the EVO checks and by `grade diff`.
//!
//! - [`kind`]: the catalog of change kinds (stable ids, classification, how to avoid them);
//! - [`diff`] / [`diff_apis`]: the comparison (see `engine.rs` for how shared schemas are
//!   reported once);
//! - [`policy`]: the versioning policy (a breaking change needs a new major version);
//! - [`load`]: loading a pair of files from anywhere on disk for `grade diff`;
//! - [`render`]: the text, JSON and Markdown outputs of `grade diff` (docs/diff.md).

mod engine;
pub mod kind;
pub mod load;
pub mod policy;
pub mod render;
mod schema;

use std::path::Path;

use serde::Serialize;

pub use kind::{ChangeKind, Class, Flow};
pub use schema::norm_path;

use crate::api::{external_docs_under, Api};
use crate::artifact::document::Limits;
use crate::artifact::openapi::OpenApiDoc;

/// A place in one of the files of a description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// The file, relative to the root the description was loaded from.
    pub file: String,
    /// JSON pointer of the node.
    pub pointer: String,
    pub line: usize,
    pub column: usize,
    /// Byte offset and length in the file (for snippets; not serialized).
    #[serde(skip)]
    pub offset: usize,
    #[serde(skip)]
    pub len: usize,
}

/// One change between the old and the new description.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    /// What changed, without the operations (see [`Change::operations`]).
    pub message: String,
    /// Where it is in the old description (for additions: the place it was added to).
    pub old: Option<Site>,
    /// Where it is in the new description (for removals: the place it was removed from).
    pub new: Option<Site>,
    /// The operations affected (`GET /v1/orders`), in document order; empty for changes to
    /// the document as a whole (servers, version, security schemes).
    pub operations: Vec<String>,
}

impl Change {
    pub fn breaking(&self) -> bool {
        self.kind.breaking()
    }

    pub fn class(&self) -> Class {
        self.kind.class()
    }

    /// Breaking first, then possibly breaking, then by position in the new file, the old
    /// file, kind and message.
    pub fn sort_key(&self) -> impl Ord + '_ {
        let pos = |s: &Option<Site>| s.as_ref().map(|s| (s.file.clone(), s.line, s.column));
        (
            self.class(),
            pos(&self.new),
            pos(&self.old),
            self.kind.id(),
            self.message.as_str(),
        )
    }

    /// `in GET /v1/orders` or `in 3 operations: GET /a, POST /a and GET /b` (`None` when no
    /// operation is concerned or the message names the only one).
    pub fn operations_text(&self, max: usize) -> Option<String> {
        match self.operations.len() {
            0 => None,
            // `operation `GET /a` removed` needs no `in GET /a`.
            1 if self.message.contains(&format!("`{}`", self.operations[0])) => None,
            1 => Some(format!("in {}", self.operations[0])),
            n => Some(format!(
                "in {n} operations: {}",
                crate::api::list(&self.operations, max)
            )),
        }
    }
}

/// What the diff knows about each document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocInfo {
    pub file: String,
    pub title: Option<String>,
    /// `info.version`.
    pub version: Option<String>,
    /// The `openapi` field.
    pub openapi: String,
    /// The highest major version in a path prefix (`/v2/...`) or server URL, if any.
    pub path_major: Option<u64>,
}

/// The result of comparing two descriptions.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub old: DocInfo,
    pub new: DocInfo,
    /// Sorted: breaking first.
    pub changes: Vec<Change>,
}

impl Diff {
    pub fn breaking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.breaking())
    }

    pub fn breaking_count(&self) -> usize {
        self.breaking().count()
    }

    /// The changes of one class.
    pub fn of_class(&self, class: Class) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| c.class() == class)
    }

    /// Changes to the API itself: everything but the document's own version fields.
    pub fn api_changes(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| {
            !matches!(
                c.kind,
                ChangeKind::InfoVersionChanged | ChangeKind::OpenapiVersionChanged
            )
        })
    }
}

/// One side of a comparison: a loaded root document, the folder its relative `$ref`s are
/// confined to, and its path relative to that folder.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub root: &'a Path,
    pub rel: &'a str,
    pub doc: &'a OpenApiDoc,
}

/// Compares two descriptions (loading the files their `$ref`s name) under the default limits;
/// see [`diff_under`].
pub fn diff(old: Input<'_>, new: Input<'_>) -> Diff {
    diff_under(old, new, &Limits::default())
}

/// Compares two descriptions, loading the files their `$ref`s name and following `$ref`
/// chains under `limits`, on a thread with a large stack so that deeply nested schemas cannot
/// overflow it.
pub fn diff_under(old: Input<'_>, new: Input<'_>, limits: &Limits) -> Diff {
    const STACK: usize = 256 * 1024 * 1024;
    let work = move || {
        let (ea, eb) = (
            external_docs_under(old.root, old.rel, old.doc, limits),
            external_docs_under(new.root, new.rel, new.doc, limits),
        );
        let a = Api::with_external(old.root, old.rel, old.doc, &ea).with_limits(limits);
        let b = Api::with_external(new.root, new.rel, new.doc, &eb).with_limits(limits);
        diff_apis(&a, &b)
    };
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("grade-diff".into())
            .stack_size(STACK)
            .spawn_scoped(s, work)
        {
            Ok(h) => match h.join() {
                Ok(d) => d,
                Err(p) => std::panic::resume_unwind(p),
            },
            // No thread: run here (the depth limit still bounds recursion).
            Err(_) => work(),
        }
    })
}

/// Compares two descriptions already viewed as [`Api`]s, on the current thread.
pub fn diff_apis<'a>(old: &Api<'a>, new: &Api<'a>) -> Diff {
    Diff {
        old: info(old),
        new: info(new),
        changes: engine::run(old, new),
    }
}

fn info(api: &Api<'_>) -> DocInfo {
    let root = api.root();
    let info = root.get("info");
    DocInfo {
        file: api.rel.to_string(),
        title: info.as_ref().and_then(|i| i.str("title")).map(str::to_string),
        version: info.as_ref().and_then(|i| i.get("version")).map(|v| {
            v.value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.value.to_string())
        }),
        openapi: api.spec.version.clone(),
        path_major: policy::path_major(api),
    }
}

#[cfg(test)]
mod tests;
