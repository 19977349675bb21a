//! Loading a document for `grade diff`: any file on disk, its relative `$ref`s resolved
//! against its own folder and confined to it. Problems become diagnostics pointing into the
//! file.

use std::path::{Path, PathBuf};

use crate::artifact::document::{Document, Limits};
use crate::artifact::openapi::{self, OasVersion, OpenApiDoc};
use crate::artifact::{read_bytes, ArtifactProblem, Loaded};
use crate::diag::{SourceFile, UserError};
use crate::error::{Error, Result};
use crate::files::ArtifactRef;

use super::Input;

/// A document loaded from a path given on the command line.
#[derive(Debug)]
pub struct LoadedFile {
    /// The path as given, for display (`/`-separated).
    pub shown: String,
    /// The canonical folder of the file: relative `$ref`s stay inside it.
    pub root: PathBuf,
    /// The file name (the document's path relative to `root`).
    pub rel: String,
    pub doc: OpenApiDoc,
}

impl LoadedFile {
    pub fn input(&self) -> Input<'_> {
        Input {
            root: &self.root,
            rel: &self.rel,
            doc: &self.doc,
        }
    }

    /// The folder part of the path as given (`dir/` or empty), to show files of the
    /// description (which are relative to [`LoadedFile::root`]) as the user wrote them.
    pub fn shown_base(&self) -> String {
        match self.shown.rfind('/') {
            Some(i) => self.shown[..=i].to_string(),
            None => String::new(),
        }
    }
}

/// Loads the OpenAPI document at `path` (`what` names it in messages: `old`, `new`).
/// Problems are [`Error::Input`] diagnostics (exit code 2 in `grade diff`).
pub fn load_file(path: &Path, what: &str) -> Result<LoadedFile> {
    load_file_inner(path, what).map_err(Error::input)
}

#[allow(clippy::result_large_err)]
fn load_file_inner(path: &Path, what: &str) -> Result<LoadedFile, UserError> {
    let shown = path.to_string_lossy().replace('\\', "/");
    let canonical = path.canonicalize().map_err(|e| {
        UserError::new(format!("cannot read the {what} document {shown}: {e}"))
            .with_help("give the path of an OpenAPI 3.0 or 3.1 document (YAML or JSON)")
    })?;
    if canonical.is_dir() {
        return Err(UserError::new(format!("the {what} document {shown} is a folder"))
            .with_help("give the path of the OpenAPI document file inside it"));
    }
    let (Some(root), Some(name)) = (canonical.parent(), canonical.file_name()) else {
        return Err(UserError::new(format!("cannot use {shown} as the {what} document")));
    };
    let rel = name.to_string_lossy().into_owned();
    let r = ArtifactRef {
        rel: rel.clone(),
        path: canonical.clone(),
        span: None,
        role: format!("{what} document"),
    };
    match load_fast(&r) {
        Loaded::Ok(doc) => Ok(LoadedFile {
            shown,
            root: root.to_path_buf(),
            rel,
            doc,
        }),
        Loaded::Missing => {
            Err(UserError::new(format!("the {what} document {shown} does not exist")).with_help("check the path"))
        }
        Loaded::Invalid(p) => {
            let mut e = UserError::new(format!("the {what} document {shown} cannot be compared: {}", p.message));
            if let Some(loc) = p.location {
                if let Ok(bytes) = std::fs::read(&canonical) {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let file = SourceFile::new(shown.clone(), text);
                    e = e.at(&file, loc.offset..loc.offset + loc.len, "here");
                }
            }
            Err(e.with_help(p.help))
        }
    }
}

/// Like [`openapi::load`], without the typed OpenAPI 3.0 model (which the diff does not use
/// and which costs more than parsing on large documents): a document with a string `openapi`
/// of 3.0.x or 3.1.x is taken as is; anything else goes through [`openapi::classify`], which
/// explains what is wrong.
fn load_fast(r: &ArtifactRef) -> Loaded<OpenApiDoc> {
    // `grade diff` has no limit options: the defaults.
    let limits = Limits::default();
    let bytes = match read_bytes(r, &limits) {
        Loaded::Ok(b) => b,
        Loaded::Missing => return Loaded::Missing,
        Loaded::Invalid(p) => return Loaded::Invalid(p),
    };
    let doc = match Document::from_bytes(&r.rel, &bytes, &limits) {
        Ok(doc) => doc,
        Err(e) => {
            return Loaded::Invalid(ArtifactProblem {
                message: format!("the document does not parse: {e}"),
                location: e.location(),
                pointer: None,
                help: e.help(),
            })
        }
    };
    let version = doc
        .value
        .as_object()
        .filter(|o| !o.contains_key("swagger"))
        .and_then(|o| o.get("openapi"))
        .and_then(|v| v.as_str())
        .map(|v| v.trim().to_string());
    let oas = match version.as_deref() {
        Some(v) if v == "3.0" || v.starts_with("3.0.") => Some(OasVersion::V30),
        Some(v) if v == "3.1" || v.starts_with("3.1.") => Some(OasVersion::V31),
        _ => None,
    };
    match (version, oas) {
        (Some(version), Some(oas)) => Loaded::Ok(OpenApiDoc {
            doc,
            version,
            oas,
            problems: Vec::new(),
        }),
        _ => openapi::classify(doc),
    }
}
