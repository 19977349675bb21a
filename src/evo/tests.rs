//! Engine tests, table-driven over the fixture pairs in `fixtures/diff/<case>/`: each holds an
//! old and a new description (`old.yaml`/`new.yaml`, `.json`, or `old/openapi.yaml` with
//! other files beside it) and `expected.txt`, one line per change:
//! `<kind> <old file:line> <new file:line> <number of operations>`. Together the fixtures
//! cover every kind of the catalog. `UPDATE_EXPECTED=1` rewrites the expected files (review
//! them before committing).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::load::{load_file, LoadedFile};
use super::{diff, Diff, Kind};
use crate::artifact::document::{Document, Limits};
use crate::artifact::openapi::{classify, OpenApiDoc};
use crate::artifact::Loaded;
use crate::checks::oas::walk::Api;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/diff")
}

/// The old and new root documents of a fixture folder.
fn pair(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    for (a, b) in [
        ("old.yaml", "new.yaml"),
        ("old.json", "new.json"),
        ("old/openapi.yaml", "new/openapi.yaml"),
    ] {
        if dir.join(a).is_file() && dir.join(b).is_file() {
            return Some((dir.join(a), dir.join(b)));
        }
    }
    None
}

fn load(path: &Path) -> LoadedFile {
    match load_file(path, "test") {
        Ok(f) => f,
        Err(e) => panic!("{}: {}", path.display(), e.render_plain()),
    }
}

fn diff_files(old: &Path, new: &Path) -> Diff {
    let (a, b) = (load(old), load(new));
    diff(a.input(), b.input())
}

/// One line per change, as in `expected.txt`; files are shown relative to the pair's folder.
fn listing(d: &Diff, old_prefix: &str, new_prefix: &str) -> String {
    let mut s = String::new();
    for c in &d.changes {
        let at = |prefix: &str, site: &Option<super::Site>| match site {
            Some(x) => format!("{prefix}{}:{}", x.file, x.line),
            None => "-".into(),
        };
        s.push_str(&format!(
            "{} {} {} {}\n",
            c.kind.id(),
            at(old_prefix, &c.old),
            at(new_prefix, &c.new),
            c.operations.len()
        ));
    }
    s
}

fn prefix(dir: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(dir)
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/");
    match rel.rfind('/') {
        Some(i) => rel[..=i].to_string(),
        None => String::new(),
    }
}

#[test]
fn fixture_pairs_give_the_expected_changes() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures/diff")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut seen: BTreeSet<Kind> = BTreeSet::new();
    let mut failures = Vec::new();
    for dir in &dirs {
        let Some((old, new)) = pair(dir) else { continue };
        let d = diff_files(&old, &new);
        let got = listing(&d, &prefix(dir, &old), &prefix(dir, &new));
        let expected_path = dir.join("expected.txt");
        if update {
            std::fs::write(&expected_path, &got).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            let detail: Vec<String> = d
                .changes
                .iter()
                .map(|c| format!("  {} | {} | {:?}", c.kind.id(), c.message, c.operations))
                .collect();
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}--- messages\n{}",
                dir.display(),
                detail.join("\n")
            ));
        }
        seen.extend(d.changes.iter().map(|c| c.kind));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let missing: Vec<&str> = Kind::ALL.iter().filter(|k| !seen.contains(k)).map(|k| k.id()).collect();
    assert!(
        missing.is_empty(),
        "kinds without a fixture in fixtures/diff: {missing:?}"
    );
}
