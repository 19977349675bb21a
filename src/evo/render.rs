//! The outputs of `grade diff`: text (breaking changes first, each with its old and new
//! `file:line:column`), JSON (documented in docs/diff.md, versioned by `schema_version`) and
//! Markdown (for pull-request comments).

use std::fmt::Write;
use std::path::Path;

use owo_colors::{OwoColorize, Style};
use serde::Serialize;

use super::load::load_file;
use super::policy::{self, Verdict};
use super::{Change, Class, Diff, DocInfo, Site};
use crate::diag::{plural, UserError};
use crate::error::{Error, Result};

/// Version of the JSON output's shape (2: `class` and `summary.possibly_breaking` added;
/// `summary.compatible` no longer counts possibly breaking changes).
pub const SCHEMA_VERSION: u32 = 2;

/// Operations named in a change before "and N more".
const MAX_OPS: usize = 4;

/// What makes `grade diff` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Breaking changes only (possibly breaking ones are shown apart).
    #[default]
    Breaking,
    /// Breaking and possibly breaking changes.
    PossiblyBreaking,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Markdown,
}

/// How files are shown: each side's files are relative to its root; `old`/`new` are the
/// prefixes (the folder as the user wrote it, e.g. `specs/`).
#[derive(Debug, Clone, Default)]
pub struct Bases {
    pub old: String,
    pub new: String,
}

/// The rendered output and the facts that decide the exit code.
#[derive(Debug)]
pub struct Output {
    pub text: String,
    pub breaking: usize,
    pub possibly_breaking: usize,
    pub diff: Diff,
}

/// Loads both files, compares them and renders the result: the whole of `grade diff` but
/// writing and the exit code.
pub fn diff_files(old: &Path, new: &Path, format: DiffFormat, color: bool) -> Result<Output> {
    // Two large documents parse in about half the time side by side.
    let (a, b) = std::thread::scope(|s| {
        let other = s.spawn(|| load_file(new, "new"));
        let a = load_file(old, "old");
        let b = other
            .join()
            .unwrap_or_else(|_| Err(Error::input(UserError::new("loading the new document failed"))));
        (a, b)
    });
    let (a, b) = (a?, b?);
    let mut diff = super::diff(a.input(), b.input());
    diff.old.file = a.shown.clone();
    diff.new.file = b.shown.clone();
    let bases = Bases {
        old: a.shown_base(),
        new: b.shown_base(),
    };
    let text = render(&diff, format, &bases, color);
    Ok(Output {
        text,
        breaking: diff.breaking_count(),
        possibly_breaking: diff.of_class(Class::PossiblyBreaking).count(),
        diff,
    })
}

pub fn render(diff: &Diff, format: DiffFormat, bases: &Bases, color: bool) -> String {
    match format {
        DiffFormat::Text => text(diff, bases, color),
        DiffFormat::Json => json(diff, bases),
        DiffFormat::Markdown => markdown(diff, bases),
    }
}

fn at(base: &str, s: &Site) -> String {
    format!("{base}{}:{}:{}", s.file, s.line, s.column)
}

fn doc_label(d: &DocInfo) -> String {
    match (&d.title, &d.version) {
        (Some(t), Some(v)) => format!("{} ({t} {v})", d.file),
        (None, Some(v)) => format!("{} ({v})", d.file),
        (Some(t), None) => format!("{} ({t})", d.file),
        (None, None) => d.file.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

pub fn text(diff: &Diff, bases: &Bases, color: bool) -> String {
    let (bad, ok, dim, bold) = if color {
        (
            Style::new().red().bold(),
            Style::new().green(),
            Style::new().dimmed(),
            Style::new().bold(),
        )
    } else {
        (Style::new(), Style::new(), Style::new(), Style::new())
    };
    let mut s = String::new();
    let _ = writeln!(s, "old: {}", doc_label(&diff.old));
    let _ = writeln!(s, "new: {}", doc_label(&diff.new));
    let breaking: Vec<&Change> = diff.breaking().collect();
    let possibly: Vec<&Change> = diff.of_class(Class::PossiblyBreaking).collect();
    let compatible: Vec<&Change> = diff.of_class(Class::Compatible).collect();
    let warn = if color { Style::new().yellow() } else { Style::new() };
    for (title, list, style) in [
        ("Breaking changes", &breaking, bad),
        ("Possibly breaking changes", &possibly, warn),
        ("Compatible changes", &compatible, ok),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", format!("{title} ({})", list.len()).style(bold));
        for c in list.iter() {
            let _ = writeln!(s, "  {} {}", c.kind.id().style(style), c.message);
            if let Some(ops) = c.operations_text(MAX_OPS) {
                let _ = writeln!(s, "      {}", ops.style(dim));
            }
            if let Some(o) = &c.old {
                let _ = writeln!(s, "      old: {}", at(&bases.old, o).style(dim));
            }
            if let Some(n) = &c.new {
                let _ = writeln!(s, "      new: {}", at(&bases.new, n).style(dim));
            }
            if c.class() != Class::Compatible {
                let _ = writeln!(s, "      fix: {}", c.kind.help());
            }
        }
    }
    let v = policy::versioning(diff);
    let _ = writeln!(s);
    let verdict_style = if v.ok { ok } else { bad };
    let _ = writeln!(
        s,
        "Versioning: {} {}",
        if v.ok { "ok:" } else { "violated:" }.style(verdict_style),
        v.message
    );
    if let Some(h) = &v.help {
        let _ = writeln!(s, "  help: {h}");
    }
    let n_breaking = breaking.len();
    let summary = format!(
        "{}, {}, {}",
        plural(n_breaking, "breaking change", "breaking changes"),
        plural(possibly.len(), "possibly breaking change", "possibly breaking changes"),
        plural(compatible.len(), "compatible change", "compatible changes")
    );
    let _ = writeln!(
        s,
        "Result: {summary}: {}",
        if n_breaking > 0 {
            "BREAKING".style(bad).to_string()
        } else if !possibly.is_empty() {
            "possibly breaking".style(warn).to_string()
        } else {
            "compatible".style(ok).to_string()
        }
    );
    s
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct JsonSite {
    file: String,
    line: usize,
    column: usize,
    pointer: String,
}

#[derive(Serialize)]
struct JsonChange<'a> {
    kind: &'a str,
    class: Class,
    breaking: bool,
    message: &'a str,
    operations: &'a [String],
    old: Option<JsonSite>,
    new: Option<JsonSite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSummary {
    breaking: usize,
    possibly_breaking: usize,
    compatible: usize,
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    schema_version: u32,
    old: &'a DocInfo,
    new: &'a DocInfo,
    summary: JsonSummary,
    versioning: Verdict,
    changes: Vec<JsonChange<'a>>,
}

pub fn json(diff: &Diff, bases: &Bases) -> String {
    let site = |base: &str, s: &Option<Site>| {
        s.as_ref().map(|s| JsonSite {
            file: format!("{base}{}", s.file),
            line: s.line,
            column: s.column,
            pointer: s.pointer.clone(),
        })
    };
    let out = JsonDiff {
        schema_version: SCHEMA_VERSION,
        old: &diff.old,
        new: &diff.new,
        summary: JsonSummary {
            breaking: diff.breaking_count(),
            possibly_breaking: diff.of_class(Class::PossiblyBreaking).count(),
            compatible: diff.of_class(Class::Compatible).count(),
        },
        versioning: policy::versioning(diff),
        changes: diff
            .changes
            .iter()
            .map(|c| JsonChange {
                kind: c.kind.id(),
                class: c.class(),
                breaking: c.breaking(),
                message: &c.message,
                operations: &c.operations,
                old: site(&bases.old, &c.old),
                new: site(&bases.new, &c.new),
                fix: (c.class() != Class::Compatible).then(|| c.kind.help()),
            })
            .collect(),
    };
    match serde_json::to_string_pretty(&out) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!("{{\"error\": {:?}}}\n", e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(diff: &Diff, bases: &Bases) -> String {
    let mut s = String::new();
    let breaking: Vec<&Change> = diff.breaking().collect();
    let possibly: Vec<&Change> = diff.of_class(Class::PossiblyBreaking).collect();
    let compatible: Vec<&Change> = diff.of_class(Class::Compatible).collect();
    let _ = writeln!(
        s,
        "## API changes: `{}` → `{}`\n",
        cell(&doc_label(&diff.old)),
        cell(&doc_label(&diff.new))
    );
    let v = policy::versioning(diff);
    let _ = writeln!(
        s,
        "{} **{}**, {}, {}.\n",
        if !breaking.is_empty() {
            "❌"
        } else if !possibly.is_empty() {
            "⚠️"
        } else {
            "✅"
        },
        plural(breaking.len(), "breaking change", "breaking changes"),
        plural(possibly.len(), "possibly breaking change", "possibly breaking changes"),
        plural(compatible.len(), "compatible change", "compatible changes")
    );
    let _ = writeln!(
        s,
        "**Versioning:** {} {}\n",
        if v.ok { "ok —" } else { "violated —" },
        cell(&v.message)
    );
    if let Some(h) = &v.help {
        let _ = writeln!(s, "> {}\n", cell(h));
    }
    for (title, list) in [
        ("Breaking changes", &breaking),
        ("Possibly breaking changes", &possibly),
        ("Compatible changes", &compatible),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "### {title} ({})\n", list.len());
        let _ = writeln!(s, "| kind | change | operations | old | new |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for c in list.iter() {
            let ops = match c.operations.len() {
                0 => "—".to_string(),
                _ => cell(&crate::api::list(&c.operations, MAX_OPS)),
            };
            let loc = |base: &str, site: &Option<Site>| {
                site.as_ref()
                    .map(|x| format!("`{}`", cell(&format!("{base}{}:{}", x.file, x.line))))
                    .unwrap_or_else(|| "—".into())
            };
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} |",
                c.kind.id(),
                cell(&c.message),
                ops,
                loc(&bases.old, &c.old),
                loc(&bases.new, &c.new)
            );
        }
        let _ = writeln!(s);
    }
    s
}
