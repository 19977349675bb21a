//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.
//!
//! Levels: a failed item with no credit gives `error`s, a failed item with partial credit
//! `warning`s, an item the grader could not evaluate a `warning` ("could not be evaluated"),
//! the notes of a passed item `notice`s; skipped items give nothing (they are listed in the
//! step summary). The verdict comes first: an `error` when the checkpoint fails, a `warning`
//! when it is incomplete, a `notice` when it passes.
//!
//! GitHub shows at most 10 annotations of each level per step, so within a level the most
//! important come first (required items, then heavier items, then rubric order), and when a
//! level has more than 10, the 10th says how many more there are.

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
    file: Option<String>,
    line: Option<usize>,
    col: Option<usize>,
    title: String,
    message: String,
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
        Outcome::Failed if item.credit.unwrap_or(0.0) > 0.0 => Some(Level::Warning),
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
    let mut message = f.message.clone();
    if let Some(h) = &f.help {
        let _ = write!(message, "\nFix: {h}");
    }
    Annotation {
        level,
        file: f.file.as_ref().map(|file| report.path_of(file)),
        line: f.line,
        col: f.column,
        title: title(item),
        message,
    }
}

pub fn render(report: &Report) -> String {
    // Items in priority order: required first, then heavier, then rubric order.
    let mut order: Vec<(usize, &ItemReport)> = report.items.iter().enumerate().collect();
    order.sort_by(|(ia, a), (ib, b)| {
        b.required
            .cmp(&a.required)
            .then(b.weight.total_cmp(&a.weight))
            .then(ia.cmp(ib))
    });

    let mut all: Vec<Annotation> = Vec::new();
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
        Verdict::Incomplete => (Level::Warning, "incomplete"),
    };
    let mut message = format!("{} {word} with {line}", report.rubric.id);
    if !gates.is_empty() {
        let _ = write!(message, "; required item failed: {}", gates.join(", "));
    }
    all.push(Annotation {
        level,
        file: None,
        line: None,
        col: None,
        title: format!("grade {}: {word}", report.rubric.id),
        message,
    });

    for (_, item) in order {
        let Some(level) = item_level(item) else { continue };
        if item.outcome == Outcome::Errored {
            all.push(Annotation {
                level,
                file: None,
                line: None,
                col: None,
                title: format!("{} (could not be evaluated)", title(item)),
                message: item.reason.clone().unwrap_or_else(|| "no reason given".into()),
            });
        } else if item.findings.is_empty() {
            let mut message = item.summary.to_string();
            for e in &item.evidence {
                let _ = write!(message, "\n{e}");
            }
            all.push(Annotation {
                level,
                file: None,
                line: None,
                col: None,
                title: title(item),
                message,
            });
        } else {
            all.extend(item.findings.iter().map(|f| from_finding(report, item, level, f)));
        }
    }

    let mut out = String::new();
    for level in [Level::Error, Level::Warning, Level::Notice] {
        let of_level: Vec<&Annotation> = all.iter().filter(|a| a.level == level).collect();
        let overflow = of_level.len() > PER_LEVEL;
        let shown = if overflow { PER_LEVEL - 1 } else { of_level.len() };
        for a in &of_level[..shown] {
            out.push_str(&command(a));
        }
        if overflow {
            out.push_str(&command(&Annotation {
                level,
                file: None,
                line: None,
                col: None,
                title: format!("grade {}: more {}s", report.rubric.id, level.word()),
                message: format!(
                    "… and {} more {}s (GitHub shows {PER_LEVEL} per step): see the step summary or the JSON report",
                    of_level.len() - shown,
                    level.word()
                ),
            }));
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
    props.push(format!("title={}", property(&a.title)));
    format!("::{} {}::{}\n", a.level.word(), props.join(","), data(&a.message))
}
