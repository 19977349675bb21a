//! The fuzz harnesses: one function per target, each feeding arbitrary bytes through the
//! public API of `grade` the way the CLI does. Shared by the fuzz targets (`fuzz/src/lib.rs`)
//! and by the regression suite (`tests/fuzz_regressions.rs` includes this file with
//! `#[path]`), so a crashing input replays through exactly the same code.
//!
//! Multi-file targets (OpenAPI with `$ref`, AsyncAPI, the differ) split their input on the
//! separator line [`SEP`]: the first part is the root document, the next ones are the
//! other files of the folder, so relative `$ref`s between files are exercised.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use grade::artifact::{asyncapi, openapi, pact, Loaded};
use grade::checks::oas::walk::{external_docs, Api};
use grade::diag::SourceFile;
use grade::evo;
use grade::evo::render::DiffFormat;
use grade::files::ArtifactRef;
use grade::probe::prom;
use grade::rubric::Rubric;
use grade::submission::{Submission, MANIFEST};

/// The line that separates the files of a multi-file input.
pub const SEP: &[u8] = b"\n#%%\n";

/// Splits `data` on [`SEP`] into at most `n` parts (the last part keeps any further
/// separators).
pub fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < n {
        match rest.windows(SEP.len()).position(|w| w == SEP) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + SEP.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A scratch folder for one thread, under /dev/shm when it exists (tmpfs: no disk writes).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Runs `f` in an empty scratch folder holding `files` (relative path, content).
fn with_files<R>(files: &[(&str, &[u8])], f: impl FnOnce(&Path) -> R) -> R {
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        let dir = slot
            .get_or_insert_with(|| {
                let shm = Path::new("/dev/shm");
                let base = if shm.is_dir() {
                    shm.to_path_buf()
                } else {
                    std::env::temp_dir()
                };
                Scratch(base.join(format!(
                    "grade-fuzz-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                )))
            })
            .0
            .clone();
        drop(slot);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch folder");
        let dir = dir.canonicalize().expect("canonicalize the scratch folder");
        for (rel, bytes) in files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create a scratch subfolder");
            }
            std::fs::write(&path, bytes).expect("write a scratch file");
        }
        f(&dir)
    })
}

fn artifact_ref(dir: &Path, rel: &str) -> ArtifactRef {
    ArtifactRef {
        rel: rel.to_string(),
        path: dir.join(rel),
        span: None,
        role: "fuzz".to_string(),
    }
}

/// `submission.toml`: the manifest loaded as `grade check` does, then its artifacts.
pub fn manifest(data: &[u8]) {
    with_files(&[(MANIFEST, data)], |dir| {
        if let Ok(sub) = Submission::load(dir) {
            let _ = sub.artifacts();
            let _ = sub.load_artifacts();
        }
    });
}

/// A rubric (TOML).
pub fn rubric(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("rubric.toml", text);
    if let Ok(r) = Rubric::parse(&file, "fuzz") {
        let _ = r.items().count();
    }
}

/// The files of the OpenAPI target: the root and two files its `$ref`s can name.
pub const OPENAPI_FILES: [&str; 3] = ["openapi.yaml", "schemas/common.yaml", "schemas/types.yaml"];

/// An OpenAPI description (up to three files), loaded and walked with `$ref` resolution.
pub fn openapi(data: &[u8]) {
    let parts = split(data, OPENAPI_FILES.len());
    let files: Vec<(&str, &[u8])> = OPENAPI_FILES.iter().copied().zip(parts).collect();
    with_files(&files, |dir| {
        let r = artifact_ref(dir, OPENAPI_FILES[0]);
        let Loaded::Ok(doc) = openapi::load(&r, &grade::artifact::document::Limits::default()) else {
            return;
        };
        let ext = external_docs(dir, OPENAPI_FILES[0], &doc);
        let api = Api::with_external(dir, OPENAPI_FILES[0], &doc, &ext);
        let _ = api.files();
        for op in api.operations().iter().chain(api.webhook_operations().iter()) {
            let _ = op.label();
            for p in api.parameters(op) {
                let _ = api.resolve(&p.node);
            }
            for resp in api.responses(op) {
                let _ = resp.class();
                for (_, media) in api.content(&resp.node) {
                    let _ = api.resolve(&media);
                }
            }
            let _ = api.request_body(op);
            for body in api.bodies(op) {
                let _ = body.label(op);
            }
        }
        let mut n = 0usize;
        api.visit_schemas(|node| {
            n += 1;
            if n < 10_000 {
                let _ = api.resolve(node);
            }
        });
    });
}

/// An AsyncAPI document (and a second file its `$ref`s can name).
pub fn asyncapi(data: &[u8]) {
    let parts = split(data, 2);
    let names = ["asyncapi.yaml", "common.yaml"];
    let files: Vec<(&str, &[u8])> = names.iter().copied().zip(parts).collect();
    with_files(&files, |dir| {
        let r = artifact_ref(dir, names[0]);
        let Loaded::Ok(doc) = asyncapi::load(&r, &grade::artifact::document::Limits::default()) else {
            return;
        };
        let _ = doc.messages_with(&[asyncapi::Action::Send, asyncapi::Action::Receive]);
        for m in &doc.messages {
            let _ = m.names();
            let _ = m.label();
            if let Some((pointer, _)) = doc.payload(m) {
                let _ = doc.schema_fields(&pointer);
            }
            let _ = doc.headers(m);
            let _ = doc.message_field(m, "name");
        }
    });
}

/// A Pact file (JSON).
pub fn pact(data: &[u8]) {
    if let Loaded::Ok(p) = pact::parse_bytes("pact.json", data) {
        for i in &p.interactions {
            let _ = i.label();
        }
        let _ = p.message_count();
        let _ = p.http().count();
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = pact::parse_rule_path(s);
        let _ = pact::pointer_segments(s);
    }
}

/// A Prometheus / OpenMetrics exposition, parsed as both formats, then linted.
pub fn prom(data: &[u8]) {
    let limits = prom::Limits::default();
    let detected = prom::Format::detect(None, data);
    for format in [prom::Format::Text, prom::Format::OpenMetrics] {
        if let Ok(exp) = prom::parse(data, format, &limits) {
            let _ = exp.series_count();
            let _ = prom::lint(&exp);
            let _ = prom::red(&exp).complete();
        }
    }
    let _ = detected.name();
}

/// The breaking-change differ: old and new description (plus a file both can `$ref`),
/// compared and rendered as `grade diff` does in all three formats.
pub fn evo_diff(data: &[u8]) {
    let parts = split(data, 3);
    let names = ["old.yaml", "new.yaml", "schemas/common.yaml"];
    let files: Vec<(&str, &[u8])> = names.iter().copied().zip(parts).collect();
    with_files(&files, |dir| {
        let (old, new) = (dir.join(names[0]), dir.join(names[1]));
        let Ok(out) = evo::render::diff_files(&old, &new, DiffFormat::Text, false) else {
            return;
        };
        let _ = evo::policy::versioning(&out.diff);
        let bases = evo::render::Bases {
            old: String::new(),
            new: String::new(),
        };
        for format in [DiffFormat::Json, DiffFormat::Markdown] {
            let _ = evo::render::render(&out.diff, format, &bases, false);
        }
    });
}

/// A YAML text read every way the document loader can: the fast event source must yield
/// saphyr's events whenever it does not give up, and the lean conversion must give the full
/// loader's value and positions whenever it does not give up.
pub fn yaml_paths(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(disagreement) = grade::artifact::document::yaml_paths_disagree(src) {
        panic!("the YAML loader paths disagree: {disagreement}");
    }
}
