//! Span-aware loaders for the artifacts a submission contains. Loaders never import checks.

pub mod asyncapi;
pub mod backstage;
pub mod compose;
pub mod deploy;
pub mod document;
pub mod kube;
pub mod oas30;
pub mod oas_schema;
pub mod openapi;
pub mod openslo;
pub mod pact;
pub mod refs;
pub mod schema;
pub mod source;
pub mod stream;
pub(crate) mod yaml_fast;

use std::collections::BTreeMap;

use crate::files::ArtifactRef;

/// How a value is named in a message about a YAML or JSON document: `a list`, `a mapping`
/// (YAML's words: most learners write YAML).
pub fn value_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
        other => json_value_kind(other),
    }
}

/// How a value is named in a message about a JSON file (a pact): `an array`, `an object`.
pub fn json_value_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Why an artifact could not be used: a message, where in the file, and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactProblem {
    pub message: String,
    pub location: Option<document::Location>,
    pub pointer: Option<String>,
    pub help: String,
}

/// The result of loading one artifact.
#[derive(Debug)]
pub enum Loaded<T> {
    Ok(T),
    /// The file does not exist.
    Missing,
    /// The file exists but cannot be used.
    Invalid(ArtifactProblem),
}

impl<T> Loaded<T> {
    /// Continues with a loaded value; `Missing` and `Invalid` pass through.
    pub fn and_then<U>(self, f: impl FnOnce(T) -> Loaded<U>) -> Loaded<U> {
        match self {
            Loaded::Ok(v) => f(v),
            Loaded::Missing => Loaded::Missing,
            Loaded::Invalid(p) => Loaded::Invalid(p),
        }
    }
}

/// Every artifact of a submission, loaded once and shared by the checks.
#[derive(Debug, Default)]
pub struct Artifacts {
    /// OpenAPI documents by relative path (current and previous versions).
    pub openapi: BTreeMap<String, Loaded<openapi::OpenApiDoc>>,
    /// The files each OpenAPI document pulls in through relative-file `$ref`s (loaded once,
    /// confined to the submission), by the document's relative path.
    pub openapi_refs: BTreeMap<String, refs::ExternalDocs>,
    /// The event catalog (`[events] asyncapi`): its relative path and the loaded document.
    pub asyncapi: Option<(String, Loaded<asyncapi::AsyncApiDoc>)>,
    /// The service level objectives (`[operations] slos`): relative path and documents.
    pub slos: Option<(String, Loaded<openslo::SloSet>)>,
}

impl Artifacts {
    /// Loads the OpenAPI documents `openapi` (each once; the files their relative `$ref`s name,
    /// confined to `root`), the event catalog and the service level objectives.
    pub fn load<'r>(
        root: &std::path::Path,
        openapi: impl IntoIterator<Item = &'r ArtifactRef>,
        asyncapi: Option<&ArtifactRef>,
        slos: Option<&ArtifactRef>,
        limits: &document::Limits,
    ) -> Artifacts {
        let mut a = Artifacts::default();
        for r in openapi {
            if !a.openapi.contains_key(&r.rel) {
                a.openapi.insert(r.rel.clone(), openapi::load(r, limits));
            }
        }
        for (rel, loaded) in &a.openapi {
            if let Loaded::Ok(doc) = loaded {
                if refs::has_file_refs(&doc.doc.value) {
                    a.openapi_refs
                        .insert(rel.clone(), refs::load_external(root, rel, &doc.doc.value, limits));
                }
            }
        }
        a.asyncapi = asyncapi.map(|r| (r.rel.clone(), asyncapi::load(r, limits)));
        a.slos = slos.map(|r| (r.rel.clone(), openslo::load(r, limits)));
        a
    }

    pub fn openapi(&self, r: &ArtifactRef) -> Option<&Loaded<openapi::OpenApiDoc>> {
        self.openapi.get(&r.rel)
    }
}

/// Reads and parses the document `r` names (size-capped), or says why it cannot.
pub fn load_document(r: &ArtifactRef, limits: &document::Limits) -> Loaded<document::Document> {
    let bytes = match read_bytes(r, limits) {
        Loaded::Ok(b) => b,
        Loaded::Missing => return Loaded::Missing,
        Loaded::Invalid(p) => return Loaded::Invalid(p),
    };
    match document::Document::from_bytes(&r.rel, &bytes, limits) {
        Ok(doc) => Loaded::Ok(doc),
        Err(e) => Loaded::Invalid(ArtifactProblem::from(&e)),
    }
}

impl From<&document::LoadError> for ArtifactProblem {
    fn from(e: &document::LoadError) -> Self {
        ArtifactProblem {
            message: format!("the document does not parse: {e}"),
            location: e.location(),
            pointer: None,
            help: e.help(),
        }
    }
}

/// A problem at the node `pointer` of `doc`.
pub fn problem_at(
    doc: &document::Document,
    pointer: &str,
    message: impl Into<String>,
    help: impl Into<String>,
) -> ArtifactProblem {
    ArtifactProblem {
        message: message.into(),
        location: Some(doc.locate(pointer)),
        pointer: Some(pointer.to_string()),
        help: help.into(),
    }
}

/// Reads a file with a size cap; the problem names the limit.
pub fn read_bytes(r: &ArtifactRef, limits: &document::Limits) -> Loaded<Vec<u8>> {
    let meta = match std::fs::metadata(&r.path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::Missing,
        Err(e) => {
            return Loaded::Invalid(ArtifactProblem {
                message: format!("cannot read {}: {e}", r.rel),
                location: None,
                pointer: None,
                help: "check the file's permissions".into(),
            })
        }
    };
    if meta.is_dir() {
        return Loaded::Invalid(ArtifactProblem {
            message: format!("{} is a folder, not a file", r.rel),
            location: None,
            pointer: None,
            help: "name the document file inside it".into(),
        });
    }
    if meta.len() > limits.max_bytes as u64 {
        return Loaded::Invalid(ArtifactProblem {
            message: format!(
                "{} is {}, over the file-size limit of {} (--max-file-size)",
                r.rel,
                document::mib(meta.len() as usize),
                document::mib(limits.max_bytes)
            ),
            location: None,
            pointer: None,
            help: "split the document into files joined by $ref, check that the right file is named, or raise the \
                   limit with `--max-file-size MIB`"
                .into(),
        });
    }
    match std::fs::read(&r.path) {
        Ok(b) => Loaded::Ok(b),
        Err(e) => Loaded::Invalid(ArtifactProblem {
            message: format!("cannot read {}: {e}", r.rel),
            location: None,
            pointer: None,
            help: "check the file's permissions".into(),
        }),
    }
}
