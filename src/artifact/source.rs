//! Source trees: the files of a service and the imports each one makes, for layering checks.
//! Reads at most [`MAX_FILES`] files of at most [`MAX_FILE_BYTES`] each, never leaves the tree
//! and never follows symlinks.

use std::path::{Path, PathBuf};

pub const MAX_FILES: usize = 5_000;
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Folders never descended into.
const SKIP_DIRS: [&str; 10] = [
    "node_modules",
    "target",
    "vendor",
    "venv",
    ".venv",
    "__pycache__",
    "dist",
    "build",
    ".git",
    ".idea",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Rust,
    Python,
    JavaScript,
    Java,
    Go,
}

impl Lang {
    pub fn from_path(p: &Path) -> Option<Lang> {
        match p.extension()?.to_str()? {
            "rs" => Some(Lang::Rust),
            "py" => Some(Lang::Python),
            "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" => Some(Lang::JavaScript),
            "java" | "kt" => Some(Lang::Java),
            "go" => Some(Lang::Go),
            _ => None,
        }
    }
}

/// One import statement: the module path as written and its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub module: String,
    pub line: usize,
    /// Byte offset of the line in the file, and the line's length.
    pub offset: usize,
    pub len: usize,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the submission root, `/`-separated.
    pub rel: String,
    pub lang: Lang,
    pub imports: Vec<Import>,
}

/// Every source file under `dir` (sorted by path), with its imports; `rel_dir` is `dir`
/// relative to the submission root. The flag is true when the file limit was reached.
pub fn scan(dir: &Path, rel_dir: &str) -> (Vec<SourceFile>, bool) {
    let (files, truncated) = walk(dir, rel_dir, |p| Lang::from_path(p).is_some());
    let out = files
        .into_iter()
        .filter_map(|(path, rel)| {
            let lang = Lang::from_path(&path)?;
            let meta = std::fs::metadata(&path).ok()?;
            if meta.len() > MAX_FILE_BYTES {
                return None;
            }
            let bytes = std::fs::read(&path).ok()?;
            let text = String::from_utf8_lossy(&bytes);
            Some(SourceFile {
                rel,
                lang,
                imports: imports(lang, &text),
            })
        })
        .collect();
    (out, truncated)
}

/// The files under `dir` that `wanted` accepts, as (path, path relative to the submission
/// root), sorted by relative path: at most [`MAX_FILES`] (the flag says the limit was hit),
/// never following symlinks, skipping build, dependency and hidden folders.
pub fn walk(dir: &Path, rel_dir: &str, wanted: impl Fn(&Path) -> bool) -> (Vec<(PathBuf, String)>, bool) {
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), rel_dir.trim_end_matches('/').to_string())];
    let mut truncated = false;
    while let Some((d, rel)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            let child_rel = format!("{rel}/{name}");
            if ft.is_dir() {
                if !SKIP_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
                    stack.push((e.path(), child_rel));
                }
            } else if ft.is_file() && wanted(&e.path()) {
                if files.len() >= MAX_FILES {
                    truncated = true;
                    break;
                }
                files.push((e.path(), child_rel));
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    (files, truncated)
}

/// The imports of a source text (a line-based scan: good enough for layering rules).
pub fn imports(lang: Lang, text: &str) -> Vec<Import> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut in_go_block = false;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let line_len = raw.trim_end_matches(['\n', '\r']).len();
        let line = raw.trim();
        let mut push = |m: &str| {
            let m = m.trim().trim_matches(|c| c == '"' || c == '\'' || c == '`' || c == ';');
            if !m.is_empty() {
                out.push(Import {
                    module: m.to_string(),
                    line: i + 1,
                    offset,
                    len: line_len,
                });
            }
        };
        match lang {
            Lang::Python => {
                if let Some(rest) = line.strip_prefix("from ") {
                    if let Some((m, _)) = rest.split_once(" import") {
                        push(m);
                    }
                } else if let Some(rest) = line.strip_prefix("import ") {
                    for m in rest.split(',') {
                        push(m.split_whitespace().next().unwrap_or(""));
                    }
                }
            }
            Lang::JavaScript => {
                if line.starts_with("import ") || line.starts_with("export ") {
                    if let Some(m) = quoted_after(line, " from ") {
                        push(m);
                    } else if let Some(rest) = line.strip_prefix("import ") {
                        if rest.starts_with(['"', '\'']) {
                            push(rest);
                        }
                    }
                }
                let mut rest = line;
                while let Some(pos) = rest.find("require(") {
                    let after = &rest[pos + 8..];
                    if let Some(end) = after.find(')') {
                        push(&after[..end]);
                    }
                    rest = after;
                }
            }
            Lang::Java => {
                if let Some(rest) = line.strip_prefix("import ") {
                    let rest = rest.strip_prefix("static ").unwrap_or(rest);
                    push(rest.trim_end_matches(';').trim_end_matches(".*"));
                }
            }
            Lang::Go => {
                if in_go_block {
                    if line.starts_with(')') {
                        in_go_block = false;
                    } else if let Some(q) = line.find('"') {
                        push(&line[q..]);
                    }
                } else if let Some(rest) = line.strip_prefix("import") {
                    let rest = rest.trim();
                    if rest.starts_with('(') {
                        in_go_block = true;
                    } else if let Some(q) = rest.find('"') {
                        push(&rest[q..]);
                    }
                }
            }
            Lang::Rust => {
                let l = line.strip_prefix("pub ").unwrap_or(line);
                if let Some(rest) = l.strip_prefix("use ") {
                    push(rest.split(['{', ';', ' ']).next().unwrap_or("").trim_end_matches("::"));
                } else if let Some(rest) = l.strip_prefix("extern crate ") {
                    push(rest.trim_end_matches(';'));
                }
            }
        }
        offset += raw.len();
    }
    out
}

fn quoted_after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let pos = line.rfind(marker)?;
    let rest = line[pos + marker.len()..].trim();
    let q = rest.chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let end = rest[1..].find(q)?;
    Some(&rest[1..1 + end])
}

/// The segments of a module path, whatever the language's separator.
pub fn segments(module: &str) -> impl Iterator<Item = &str> {
    module.split(['.', '/', ':']).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mods(lang: Lang, text: &str) -> Vec<String> {
        imports(lang, text)
            .into_iter()
            .map(|i| format!("{}:{}", i.line, i.module))
            .collect()
    }

    #[test]
    fn python() {
        assert_eq!(
            mods(
                Lang::Python,
                "import os, sys\nfrom ..adapters.db import Repo\n  from flask import Flask\n"
            ),
            ["1:os", "1:sys", "2:..adapters.db", "3:flask"]
        );
    }

    #[test]
    fn javascript() {
        assert_eq!(
            mods(Lang::JavaScript, "import x from '../adapters/db';\nimport 'reflect-metadata';\nconst e = require(\"express\");\nexport { a } from \"./a\";\n"),
            ["1:../adapters/db", "2:reflect-metadata", "3:express", "4:./a"]
        );
    }

    #[test]
    fn java_go_rust() {
        assert_eq!(
            mods(
                Lang::Java,
                "import static org.junit.Assert.*;\nimport org.springframework.web.bind.annotation.RestController;\n"
            ),
            [
                "1:org.junit.Assert",
                "2:org.springframework.web.bind.annotation.RestController"
            ]
        );
        assert_eq!(
            mods(
                Lang::Go,
                "import \"fmt\"\nimport (\n\t\"net/http\"\n\tdb \"shop/orders/adapters/db\"\n)\n"
            ),
            ["1:fmt", "3:net/http", "4:shop/orders/adapters/db"]
        );
        assert_eq!(
            mods(
                Lang::Rust,
                "use crate::adapters::db::{Repo, X};\npub use axum::Router;\nextern crate serde;\n"
            ),
            ["1:crate::adapters::db", "2:axum::Router", "3:serde"]
        );
    }

    #[test]
    fn segments_split_every_separator() {
        let s: Vec<_> = segments("crate::adapters::db").collect();
        assert_eq!(s, ["crate", "adapters", "db"]);
        let s: Vec<_> = segments("../adapters/db").collect();
        assert_eq!(s, ["adapters", "db"]);
    }
}
