//! Human text: a table per section, every item with its verdict and evidence, findings as
//! source snippets of the learner's files, and the verdict against the threshold.

use std::fmt::Write;
use std::sync::Arc;

use miette::NamedSource;
use owo_colors::{OwoColorize, Style};

use super::{ItemReport, Report};
use crate::diag::UserError;
use crate::finding::{Finding, Outcome};
use crate::score::Verdict;

/// Findings shown per item before "… and N more".
const MAX_FINDINGS_PER_ITEM: usize = 10;

pub struct TextOptions {
    pub color: bool,
}

struct Styles {
    ok: Style,
    bad: Style,
    warn: Style,
    dim: Style,
    bold: Style,
}

impl Styles {
    fn new(color: bool) -> Self {
        if color {
            Styles {
                ok: Style::new().green(),
                bad: Style::new().red(),
                warn: Style::new().yellow(),
                dim: Style::new().dimmed(),
                bold: Style::new().bold(),
            }
        } else {
            Styles {
                ok: Style::new(),
                bad: Style::new(),
                warn: Style::new(),
                dim: Style::new(),
                bold: Style::new(),
            }
        }
    }
}

/// Formats a number of points: `5`, `7.5`, `3.33`.
pub fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn mark(item: &ItemReport) -> &'static str {
    match item.outcome {
        Outcome::Passed => "✔",
        Outcome::Failed if item.partial() && !item.required => "◐",
        Outcome::Failed => "✘",
        Outcome::Skipped => "–",
        Outcome::Errored => "!",
    }
}

pub fn render(report: &Report, opts: &TextOptions) -> String {
    let st = Styles::new(opts.color);
    let mut out = String::new();
    let r = &report.rubric;
    let _ = writeln!(
        out,
        "{} {} · rubric {} v{} — {}",
        "grade".style(st.bold),
        report.grader.version,
        r.id,
        r.version,
        r.title
    );
    let _ = writeln!(out, "submission {}", report.submission.path);
    if !report.submission.assumptions.is_empty() {
        let _ = writeln!(out, "{}", "assumed (no manifest says otherwise):".style(st.warn));
        for a in &report.submission.assumptions {
            let _ = writeln!(out, "  · {a}");
        }
    }
    for w in &report.warnings {
        let _ = writeln!(out, "{} {w}", "warning:".style(st.warn));
    }
    if !report.missing.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            "missing (the checkpoint asks for it; each fails its items):".style(st.bad)
        );
        for m in &report.missing {
            let _ = writeln!(out, "  · {m}");
        }
    }
    out.push('\n');

    let width = report
        .sections
        .iter()
        .map(|s| s.title.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(out, "  {:<width$}  {:>13}  {:>8}", "Section", "Points", "Score");
    for s in &report.sections {
        let pts = format!("{}/{}", num(s.points), num(s.max_points));
        let pct = s.score.map(|p| format!("{p:.2}%")).unwrap_or_else(|| "n/a".into());
        let _ = writeln!(out, "  {:<width$}  {:>13}  {:>8}", s.title, pts, pct);
    }
    out.push('\n');

    let name_w = report
        .items
        .iter()
        .map(|i| i.check.len() + 1 + i.name.len())
        .max()
        .unwrap_or(10);
    for section in &report.sections {
        let _ = writeln!(out, "{}", section.title.style(st.bold));
        for item in report.items.iter().filter(|i| i.section == section.id) {
            let style = match item.outcome {
                _ if item.fails_gate() => st.bad,
                Outcome::Passed => st.ok,
                Outcome::Failed if item.partial() => st.warn,
                Outcome::Failed | Outcome::Errored => st.bad,
                Outcome::Skipped => st.dim,
            };
            let label = format!("{} {}", item.check, item.name);
            let pts = match item.outcome {
                Outcome::Skipped => "skipped".to_string(),
                Outcome::Failed if item.absent => format!("absent 0/{}", num(item.max_points)),
                _ => format!("{}/{}", num(item.points), num(item.max_points)),
            };
            let req = if item.required { " required" } else { "" };
            let _ = writeln!(
                out,
                "  {} {:<name_w$}  {:>9}{}",
                mark(item).style(style),
                label,
                pts,
                req.style(if item.fails_gate() { st.bad } else { st.warn })
            );
            if let Some(reason) = &item.reason {
                let _ = writeln!(out, "      {}", reason.style(st.dim));
            }
            for e in &item.evidence {
                let _ = writeln!(out, "      {}", e.style(st.dim));
            }
        }
    }

    let with_findings: Vec<&ItemReport> = report.items.iter().filter(|i| !i.findings.is_empty()).collect();
    if !with_findings.is_empty() {
        let _ = writeln!(out, "\n{}", "Findings".style(st.bold));
        for item in with_findings {
            let _ = writeln!(out, "\n{} {} — {}", item.check.style(st.bold), item.name, item.summary);
            for f in item.findings.iter().take(MAX_FINDINGS_PER_ITEM) {
                out.push_str(&finding(report, f, opts.color));
            }
            if item.findings.len() > MAX_FINDINGS_PER_ITEM {
                let _ = writeln!(
                    out,
                    "  … and {} more (see the JSON report)",
                    item.findings.len() - MAX_FINDINGS_PER_ITEM
                );
            }
        }
    }

    let _ = writeln!(
        out,
        "\n{} {}",
        "scoring:".style(st.dim),
        report.scoring_rule.style(st.dim)
    );
    let verdict = match report.verdict {
        Verdict::Passed => "PASSED".style(st.ok).to_string(),
        Verdict::Failed => "FAILED".style(st.bad).to_string(),
        Verdict::Incomplete => "INCOMPLETE".style(st.warn).to_string(),
    };
    let _ = write!(
        out,
        "{} {:.2}% (threshold {}%, {}/{} points)",
        verdict.style(st.bold),
        report.score,
        num(report.threshold),
        num(report.points),
        num(report.max_points)
    );
    let gates: Vec<String> = report
        .failed_gates()
        .map(|i| format!("{} {}", i.check, i.name))
        .collect();
    if !gates.is_empty() {
        let _ = write!(out, " — required item failed: {}", gates.join(", "));
    }
    if report.probe_items_not_run > 0 {
        let _ = write!(
            out,
            " — static only: {} live-probe items not run, the score is provisional",
            report.probe_items_not_run
        );
    } else if !report.complete {
        let _ = write!(out, " — some items could not be evaluated");
    }
    out.push('\n');
    out
}

/// One finding as a miette snippet when its source is known, else as a plain line.
fn finding(report: &Report, f: &Finding, color: bool) -> String {
    let mut e = UserError::new(f.message.clone());
    e.help = f.help.clone();
    match (
        &f.file,
        f.span,
        f.file.as_ref().and_then(|file| report.sources.get(file)),
    ) {
        (Some(file), Some((offset, len)), Some(text)) => {
            let lang = if file.ends_with(".toml") {
                "toml"
            } else if file.ends_with(".json") {
                "json"
            } else {
                "yaml"
            };
            e.source = Some(Arc::new(
                NamedSource::new(file.clone(), text.clone()).with_language(lang),
            ));
            let end = (offset + len).min(text.len());
            e.span = Some(offset.min(end)..end);
            e.label = Some("here".into());
        }
        (Some(file), _, _) => {
            let pos = match (f.line, f.column) {
                (Some(l), Some(c)) => format!("{file}:{l}:{c}: "),
                _ => format!("{file}: "),
            };
            e.message = format!("{pos}{}", f.message);
        }
        _ => {}
    }
    let rendered = crate::diag::render(&e, color);
    let mut s = String::new();
    for line in rendered.lines() {
        let _ = writeln!(s, "  {}", line.trim_end());
    }
    s
}
