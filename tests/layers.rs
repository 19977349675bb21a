//! The layering of `src/` (docs/architecture.md): every `crate::` use between top-level modules
//! goes to a lower layer, and every top-level module has a layer. Reads the source text; no
//! build of the crate is involved beyond this test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Module -> layer, from the table in docs/architecture.md (`| 8 | `checks` | ... |`).
fn layers(doc: &str) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 {
            continue;
        }
        let Ok(layer) = cells[1].parse::<u32>() else { continue };
        for m in cells[2].split(',') {
            let m = m.trim().trim_matches('`');
            assert!(!m.is_empty(), "empty module name in the layer table: {line}");
            assert!(out.insert(m.to_string(), layer).is_none(), "`{m}` has two layers");
        }
    }
    out
}

/// The top-level modules that lib.rs declares.
fn modules(lib: &str) -> BTreeSet<String> {
    lib.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("pub mod").or_else(|| l.strip_prefix("pub(crate) mod")))
        .map(|l| l.trim().trim_end_matches(';').to_string())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The source without comments (`//` to the end of the line; `/* */` is not used here).
fn code(source: &str) -> String {
    source
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first path segment after each `crate::`, including each member of `crate::{a, b::c}`.
fn used(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `extern_crate::` and the like
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The members at depth 0 of the group.
            let (mut depth, mut start) = (0usize, 0usize);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.push(ident(group[start..j].trim()).to_string());
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(group[start..j].trim()).to_string());
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest).to_string());
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// The top-level module a root item belongs to (`crate::Error` is `error::Error`); `None` for
/// items of lib.rs itself (`VERSION`), which every layer may use.
fn module_of<'m>(name: &'m str, modules: &BTreeSet<String>) -> Option<&'m str> {
    match name {
        "Error" | "Result" => Some("error"),
        n if modules.contains(n) => Some(n),
        _ => None,
    }
}

#[test]
fn uses_between_top_level_modules_go_down() {
    let root = root();
    let table = layers(&std::fs::read_to_string(root.join("docs/architecture.md")).unwrap());
    let modules = modules(&std::fs::read_to_string(root.join("src/lib.rs")).unwrap());
    let unplaced: Vec<_> = modules.iter().filter(|m| !table.contains_key(*m)).collect();
    assert!(
        unplaced.is_empty(),
        "docs/architecture.md gives no layer to {unplaced:?}: add them to its table"
    );
    let stale: Vec<_> = table.keys().filter(|m| !modules.contains(*m)).collect();
    assert!(
        stale.is_empty(),
        "docs/architecture.md names modules lib.rs does not declare: {stale:?}"
    );

    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut edges = 0;
    for path in &files {
        let rel = path.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy();
        let top = top.trim_end_matches(".rs");
        if top == "lib" || top == "main" {
            continue;
        }
        let from = table[top];
        let text = std::fs::read_to_string(path).unwrap();
        let mut seen = BTreeSet::new();
        for name in used(&code(&text)) {
            let Some(to) = module_of(&name, &modules) else { continue };
            if to == top || !seen.insert(to.to_string()) {
                continue;
            }
            edges += 1;
            if table[to] >= from {
                wrong.push(format!(
                    "src/{}: `{top}` (layer {from}) uses `crate::{name}` (`{to}`, layer {})",
                    rel.display(),
                    table[to]
                ));
            }
        }
    }
    assert!(edges > 50, "only {edges} uses found: is the scan broken?");
    assert!(
        wrong.is_empty(),
        "uses that go up or sideways (docs/architecture.md):\n{}",
        wrong.join("\n")
    );
}

/// The scanner itself: groups, nested groups, root items and comments.
#[test]
fn the_scan_reads_use_groups_and_skips_comments() {
    let src = "use crate::{api::Api, checks::{Ctx, Kind}, Error};\n// crate::report\n/// [`crate::engine`]\n\
               let x = crate::model::build(); let y = my_crate::z;\n";
    assert_eq!(used(&code(src)), ["api", "checks", "Error", "model"]);
    let modules: BTreeSet<String> = ["api", "checks", "error", "model"].map(String::from).into();
    assert_eq!(module_of("Error", &modules), Some("error"));
    assert_eq!(module_of("VERSION", &modules), None);
    let t = layers("| Layer | Modules |\n|--|--|\n| 3 | `files`, `score` | x |\n| 1 | `diag` | y |\n");
    assert_eq!(t["score"], 3);
    assert_eq!(t["diag"], 1);
}
