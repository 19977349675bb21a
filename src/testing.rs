//! Helpers shared by the unit tests: the shared corpus and the files under a folder.

use std::path::{Path, PathBuf};

/// `../shared/corpus/<name>`, or `None` (with a message saying the test skips it) when the
/// folder is absent, as on a fresh clone.
pub fn corpus(name: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(name);
    if root.is_dir() {
        Some(root)
    } else {
        println!("skipped: ../shared/corpus/{name} not found");
        None
    }
}

/// Every file under `root` (recursively) whose extension is one of `exts` and whose size is
/// at most `max_bytes`, sorted.
pub fn files(root: &Path, exts: &[&str], max_bytes: u64) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.contains(&x))
                && e.metadata().is_ok_and(|m| m.len() <= max_bytes)
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The extensions of OpenAPI and AsyncAPI documents.
pub const DOCUMENTS: &[&str] = &["json", "yaml", "yml"];
