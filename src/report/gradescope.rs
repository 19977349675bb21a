//! Gradescope autograder `results.json`.
//!
//! The top-level `score` is the report's score in percent and `max_score` is 100, so a
//! Gradescope assignment worth 100 points shows the grade as computed by `grade` (the
//! top-level score overrides the sum of the tests). Each rubric item is a test whose
//! `score`/`max_score` are the item's points and weight; skipped items have `max_score` 0 and
//! no `status`. `execution_time` (whole seconds) is present only when the report has timings
//! (`--timings`), so the file is otherwise deterministic.

use std::fmt::Write;

use serde::Serialize;

use super::text::num;
use super::{ItemReport, Report};
use crate::finding::Outcome;

#[derive(Serialize)]
struct Results {
    score: f64,
    max_score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    execution_time: Option<u64>,
    output: String,
    output_format: &'static str,
    visibility: &'static str,
    stdout_visibility: &'static str,
    tests: Vec<Test>,
}

#[derive(Serialize)]
struct Test {
    name: String,
    score: f64,
    max_score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    output: String,
    output_format: &'static str,
    visibility: &'static str,
    tags: Vec<String>,
}

fn test(report: &Report, item: &ItemReport) -> Test {
    let mut out = String::new();
    match item.outcome {
        Outcome::Skipped => {
            let _ = writeln!(
                out,
                "Skipped (not counted): {}",
                item.reason.as_deref().unwrap_or("not applicable")
            );
        }
        Outcome::Errored => {
            let _ = writeln!(
                out,
                "Could not be evaluated (counts as 0, grade incomplete): {}",
                item.reason.as_deref().unwrap_or("no reason given")
            );
        }
        Outcome::Passed => {
            let _ = writeln!(out, "Passed.");
        }
        Outcome::Failed => {
            let _ = writeln!(out, "Failed: {}", item.summary);
        }
    }
    if item.required {
        let _ = writeln!(out, "\nRequired: failing it fails the checkpoint whatever the score.");
    }
    if !item.evidence.is_empty() {
        out.push('\n');
        for e in &item.evidence {
            let _ = writeln!(out, "- {e}");
        }
    }
    if !item.findings.is_empty() {
        out.push('\n');
        for f in &item.findings {
            let at = match (&f.file, f.line, f.column) {
                (Some(file), Some(l), Some(c)) => format!("`{}:{l}:{c}` ", report.path_of(file)),
                (Some(file), _, _) => format!("`{}` ", report.path_of(file)),
                _ => String::new(),
            };
            let help = f.help.as_ref().map(|h| format!(" *Fix:* {h}")).unwrap_or_default();
            let _ = writeln!(out, "- {at}{}{help}", f.message);
        }
    }
    let _ = write!(out, "\n`grade explain {}` shows how to fix it.", item.check);
    Test {
        name: format!("{} {}", item.check, item.name),
        score: item.points,
        max_score: item.max_points,
        status: match item.outcome {
            Outcome::Passed => Some("passed"),
            Outcome::Failed | Outcome::Errored => Some("failed"),
            Outcome::Skipped => None,
        },
        output: out,
        output_format: "md",
        visibility: "visible",
        tags: vec![item.section.clone(), item.check.to_string(), item.name.to_string()],
    }
}

pub fn render(report: &Report) -> String {
    let results = Results {
        score: report.score,
        max_score: 100.0,
        execution_time: report.timing.as_ref().map(|t| (t.total_ms / 1000.0).ceil() as u64),
        output: format!(
            "{}\nScore {:.2}% ({}/{} points; the test scores are the rubric weights).",
            super::markdown::render(report).trim_end(),
            report.score,
            num(report.points),
            num(report.max_points)
        ),
        output_format: "md",
        visibility: "visible",
        stdout_visibility: "hidden",
        tests: report.items.iter().map(|i| test(report, i)).collect(),
    };
    let mut s = serde_json::to_string_pretty(&results).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
