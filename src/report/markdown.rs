//! Markdown for pull-request comments and CI step summaries.

use std::fmt::Write;

use super::text::num;
use super::Report;
use crate::finding::Outcome;
use crate::score::Verdict;

/// Findings listed per item before "… and N more".
const MAX_FINDINGS_PER_ITEM: usize = 20;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let (icon, word) = match report.verdict {
        Verdict::Passed => ("✅", "passed"),
        Verdict::Failed => ("❌", "failed"),
        Verdict::Incomplete => ("⚠️", "incomplete"),
    };
    let r = &report.rubric;
    let _ = writeln!(
        out,
        "## {icon} {}: {word} with {:.2}% (threshold {}%)\n",
        r.id,
        report.score,
        num(report.threshold)
    );
    let _ = writeln!(
        out,
        "Rubric `{}` v{} — {} · grade {}\n",
        r.id, r.version, r.title, report.grader.version
    );
    let gates: Vec<String> = report
        .failed_gates()
        .map(|i| format!("`{}` {}", i.check, i.name))
        .collect();
    if !gates.is_empty() {
        let _ = writeln!(out, "❌ **Required item failed:** {}\n", gates.join(", "));
    }
    if report.probe_items_not_run > 0 {
        let _ = writeln!(
            out,
            "**Static only:** {} live-probe items were not run; the score is provisional.\n",
            report.probe_items_not_run
        );
    }
    for w in &report.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", cell(w));
    }
    if !report.missing.is_empty() {
        out.push_str("**Missing** (the checkpoint asks for it):\n\n");
        for m in &report.missing {
            let _ = writeln!(out, "- {}", cell(m));
        }
        out.push('\n');
    }
    out.push_str("| Section | Points | Score |\n|---|---:|---:|\n");
    for s in &report.sections {
        let pct = s.score.map(|p| format!("{p:.2}%")).unwrap_or_else(|| "n/a".into());
        let _ = writeln!(
            out,
            "| {} | {}/{} | {pct} |",
            cell(&s.title),
            num(s.points),
            num(s.max_points)
        );
    }
    out.push_str("\n| | Check | Points | Notes |\n|---|---|---:|---|\n");
    for i in &report.items {
        // A failed required item fails the checkpoint: never shown as a warning.
        let icon = match i.outcome {
            _ if i.fails_gate() => "❌",
            Outcome::Passed => "✅",
            Outcome::Failed if i.partial() => "🟡",
            Outcome::Failed => "❌",
            Outcome::Skipped => "⏭️",
            Outcome::Errored => "⚠️",
        };
        let pts = if i.outcome == Outcome::Skipped {
            "skipped".to_string()
        } else {
            format!("{}/{}", num(i.points), num(i.max_points))
        };
        let mut notes: Vec<String> = i.reason.iter().cloned().collect();
        notes.extend(i.evidence.iter().cloned());
        let req = if i.required { " (required)" } else { "" };
        let _ = writeln!(
            out,
            "| {icon} | `{}` {}{req} | {pts} | {} |",
            i.check,
            i.name,
            cell(&notes.join("; "))
        );
    }
    let with: Vec<_> = report.items.iter().filter(|i| !i.findings.is_empty()).collect();
    if !with.is_empty() {
        out.push_str("\n### Findings\n");
        for i in with {
            let _ = writeln!(out, "\n**`{}` {}** — {}\n", i.check, i.name, i.summary);
            for f in i.findings.iter().take(MAX_FINDINGS_PER_ITEM) {
                let at = match (&f.file, f.line, f.column) {
                    (Some(file), Some(l), Some(c)) => format!("`{file}:{l}:{c}` "),
                    (Some(file), _, _) => format!("`{file}` "),
                    _ => String::new(),
                };
                let help = f.help.as_ref().map(|h| format!(" *Fix:* {h}")).unwrap_or_default();
                let _ = writeln!(out, "- {at}{}{help}", f.message);
            }
            if i.findings.len() > MAX_FINDINGS_PER_ITEM {
                let _ = writeln!(
                    out,
                    "- … and {} more (see the JSON report)",
                    i.findings.len() - MAX_FINDINGS_PER_ITEM
                );
            }
        }
    }
    let _ = writeln!(out, "\n<sub>Scoring: {}</sub>", report.scoring_rule);
    out
}
