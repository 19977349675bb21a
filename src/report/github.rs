//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.
//!
//! Levels: a required item that failed or could not be evaluated gives `error`s (it fails the
//! checkpoint whatever its credit); otherwise a failed item with no credit gives `error`s, a
//! failed item with partial credit `warning`s, an item the grader could not evaluate a
//! `warning` ("could not be evaluated"), the notes of a passed item `notice`s; skipped items
//! give nothing (they are listed in the step summary). The verdict comes first: an `error`
//! when the checkpoint fails or a required item failed, a `warning` when it is incomplete, a
//! `notice` when it passes.
//!
//! One cause, one annotation: findings of several items at the same file, line and column
//! with the same message, or with the same fix (e.g. a missing event catalog that each EVT
//! item reports in its own words), give a single annotation titled with the first item and
//! the ids of the others, listing each distinct message, at the most severe of their levels.
//!
//! GitHub shows at most 10 annotations of each level per step, so within a level the most
//! important come first (failed required items, then other required items, then heavier
//! items, then rubric order), and when a level has more than 10, the 10th says how many more
//! there are.

use std::fmt::Write;

use super::text::num;
use super::{ItemReport, Report};
use crate::finding::{Finding, Outcome};
use crate::score::Verdict;

/// Annotations of one level GitHub displays per step.
pub const PER_LEVEL: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn word(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

struct Annotation {
    level: Level,
    /// A failed required item speaks through it (shown first within its level).
    gate: bool,
    file: Option<String>,
    line: Option<usize>,
    col: Option<usize>,
    /// What each item it speaks for says, in priority order (one part unless merged).
    parts: Vec<Part>,
}

struct Part {
    /// The check id (empty for the verdict).
    id: &'static str,
    title: String,
    message: String,
    fix: Option<String>,
}

impl Annotation {
    fn new(level: Level, title: String, message: String) -> Self {
        Annotation {
            level,
            gate: false,
            file: None,
            line: None,
            col: None,
            parts: vec![Part {
                id: "",
                title,
                message,
                fix: None,
            }],
        }
    }

    /// The same cause as `other` (a single item's annotation): the same place (or none), and
    /// the same message, or at a place the same fix.
    fn same_cause(&self, other: &Annotation) -> bool {
        let o = &other.parts[0];
        (&self.file, self.line, self.col) == (&other.file, other.line, other.col)
            && self
                .parts
                .iter()
                .any(|p| p.message == o.message || (self.file.is_some() && o.fix.is_some() && p.fix == o.fix))
    }

    fn absorb(&mut self, other: Annotation) {
        self.level = self.level.min(other.level);
        self.gate |= other.gate;
        self.parts.extend(other.parts);
    }

    /// The first item's title, then the ids of the others.
    fn title(&self) -> String {
        let mut t = self.parts[0].title.clone();
        if self.parts.len() > 1 {
            let ids: Vec<&str> = self.parts[1..].iter().map(|p| p.id).collect();
            let _ = write!(t, " and {}", ids.join(", "));
        }
        t
    }

    /// The message (each distinct one after the ids that give it, when they differ), then the
    /// fix (likewise).
    fn body(&self) -> String {
        let messages = grouped(&self.parts, |p| Some(&p.message));
        let fixes = grouped(&self.parts, |p| p.fix.as_ref());
        let mut out = String::new();
        for (ids, m) in &messages {
            if messages.len() == 1 {
                out.push_str(m);
            } else {
                let _ = write!(out, "{}{ids}: {m}", if out.is_empty() { "" } else { "\n" });
            }
        }
        for (ids, f) in &fixes {
            if fixes.len() == 1 {
                let _ = write!(out, "\nFix: {f}");
            } else {
                let _ = write!(out, "\nFix ({ids}): {f}");
            }
        }
        out
    }
}

/// The distinct values of `of` over `parts` in first-seen order, each with the ids that give it.
fn grouped<'a>(parts: &'a [Part], of: impl Fn(&'a Part) -> Option<&'a String>) -> Vec<(String, &'a str)> {
    let mut out: Vec<(String, &str)> = Vec::new();
    for p in parts {
        let Some(v) = of(p) else { continue };
        match out.iter_mut().find(|(_, x)| *x == v.as_str()) {
            Some((ids, _)) => {
                ids.push_str(", ");
                ids.push_str(p.id);
            }
            None => out.push((p.id.to_string(), v)),
        }
    }
    out
}

/// Escapes the message part of a workflow command.
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

fn item_level(item: &ItemReport) -> Option<Level> {
    match item.outcome {
        _ if item.fails_gate() => Some(Level::Error),
        Outcome::Failed if item.partial() => Some(Level::Warning),
        Outcome::Failed => Some(Level::Error),
        Outcome::Errored => Some(Level::Warning),
        Outcome::Passed if !item.findings.is_empty() => Some(Level::Notice),
        Outcome::Passed | Outcome::Skipped => None,
    }
}

fn title(item: &ItemReport) -> String {
    let req = if item.required { ", required" } else { "" };
    format!(
        "{} {} ({}/{} points{req})",
        item.check,
        item.name,
        num(item.points),
        num(item.max_points)
    )
}

fn from_finding(report: &Report, item: &ItemReport, level: Level, f: &Finding) -> Annotation {
    Annotation {
        level,
        gate: item.fails_gate(),
        file: f.file.as_ref().map(|file| report.path_of(file)),
        line: f.line,
        col: f.column,
        parts: vec![part(item, title(item), f.message.clone(), f.help.clone())],
    }
}

fn part(item: &ItemReport, title: String, message: String, fix: Option<String>) -> Part {
    Part {
        id: item.check,
        title,
        message,
        fix,
    }
}

/// An annotation of an item without a place.
fn of_item(item: &ItemReport, level: Level, title: String, message: String) -> Annotation {
    Annotation {
        level,
        gate: item.fails_gate(),
        file: None,
        line: None,
        col: None,
        parts: vec![part(item, title, message, None)],
    }
}

pub fn render(report: &Report) -> String {
    // Items in priority order: failed required items first, then heavier, then rubric order.
    let mut order: Vec<(usize, &ItemReport)> = report.items.iter().enumerate().collect();
    order.sort_by(|(ia, a), (ib, b)| {
        b.fails_gate()
            .cmp(&a.fails_gate())
            .then(b.required.cmp(&a.required))
            .then(b.weight.total_cmp(&a.weight))
            .then(ia.cmp(ib))
    });

    let line = format!(
        "{:.2}% (threshold {}%, {}/{} points)",
        report.score,
        num(report.threshold),
        num(report.points),
        num(report.max_points)
    );
    let gates: Vec<String> = report
        .failed_gates()
        .map(|i| format!("{} {}", i.check, i.name))
        .collect();
    let (level, word) = match report.verdict {
        Verdict::Passed => (Level::Notice, "passed"),
        Verdict::Failed => (Level::Error, "failed"),
        Verdict::Incomplete if !gates.is_empty() => (Level::Error, "incomplete"),
        Verdict::Incomplete => (Level::Warning, "incomplete"),
    };
    let mut message = format!("{} {word} with {line}", report.rubric.id);
    if !gates.is_empty() {
        let _ = write!(message, "; required item failed: {}", gates.join(", "));
    }
    let verdict = Annotation::new(level, format!("grade {}: {word}", report.rubric.id), message);

    let mut all: Vec<Annotation> = Vec::new();
    let mut add = |a: Annotation| match all.iter_mut().find(|b| b.same_cause(&a)) {
        Some(b) => b.absorb(a),
        None => all.push(a),
    };
    for (_, item) in order {
        let Some(level) = item_level(item) else { continue };
        if item.outcome == Outcome::Errored {
            add(of_item(
                item,
                level,
                format!("{} (could not be evaluated)", title(item)),
                item.reason.clone().unwrap_or_else(|| "no reason given".into()),
            ));
        } else if item.findings.is_empty() {
            let mut message = item.summary.to_string();
            for e in &item.evidence {
                let _ = write!(message, "\n{e}");
            }
            add(of_item(item, level, title(item), message));
        } else {
            for f in &item.findings {
                add(from_finding(report, item, level, f));
            }
        }
    }
    // Within a level: failed required items first (a merge may have raised a level or made
    // an annotation speak for a required item), else in item order.
    all.sort_by_key(|a| (a.level, !a.gate));
    all.insert(0, verdict);

    let mut out = String::new();
    for level in [Level::Error, Level::Warning, Level::Notice] {
        let of_level: Vec<&Annotation> = all.iter().filter(|a| a.level == level).collect();
        let overflow = of_level.len() > PER_LEVEL;
        let shown = if overflow { PER_LEVEL - 1 } else { of_level.len() };
        for a in &of_level[..shown] {
            out.push_str(&command(a));
        }
        if overflow {
            out.push_str(&command(&Annotation::new(
                level,
                format!("grade {}: more {}s", report.rubric.id, level.word()),
                format!(
                    "… and {} more {}s (GitHub shows {PER_LEVEL} per step): see the step summary or the JSON report",
                    of_level.len() - shown,
                    level.word()
                ),
            )));
        }
    }
    out
}

fn command(a: &Annotation) -> String {
    let mut props = Vec::new();
    if let Some(file) = &a.file {
        props.push(format!("file={}", property(file)));
        if let Some(l) = a.line {
            props.push(format!("line={l}"));
            if let Some(c) = a.col {
                props.push(format!("col={c}"));
            }
        }
    }
    props.push(format!("title={}", property(&a.title())));
    format!("::{} {}::{}\n", a.level.word(), props.join(","), data(&a.body()))
}
