//! JUnit XML for CI test dashboards: a `<testsuite>` per rubric section, a `<testcase>` per
//! rubric item, and a last suite `verdict` whose one case fails when the checkpoint fails.
//!
//! Outcomes map to JUnit as: passed -> success; failed (also with partial credit) ->
//! `<failure>`; errored (the grader could not evaluate the item) -> `<error>`; skipped (not
//! applicable) -> `<skipped>`. Weight, points, credit and `required` are `<property>`s of each
//! case; a suite carries its points and score. No timestamps: the output is deterministic.

use std::fmt::Write;

use quick_junit::{NonSuccessKind, Property, Report as Junit, TestCase, TestCaseStatus, TestSuite};

use super::text::num;
use super::{ItemReport, Report};
use crate::finding::Outcome;
use crate::score::Verdict;

/// The test case of one item.
fn case(report: &Report, item: &ItemReport) -> TestCase {
    let status = match item.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed => {
            let partial = item.credit.unwrap_or(0.0) > 0.0;
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let what = if partial {
                format!(
                    "partial credit {}/{}: {}",
                    num(item.points),
                    num(item.max_points),
                    item.summary
                )
            } else {
                item.summary.to_string()
            };
            s.set_message(what);
            s.set_type(if partial { "partial" } else { "failed" });
            s.set_description(details(report, item));
            s
        }
        Outcome::Errored => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(format!(
                "could not be evaluated: {}",
                item.reason.as_deref().unwrap_or("no reason given")
            ));
            s.set_type("errored");
            s
        }
        Outcome::Skipped => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(item.reason.clone().unwrap_or_else(|| "not applicable".into()));
            s
        }
    };
    let mut c = TestCase::new(format!("{} {}", item.check, item.name), status);
    c.set_classname(format!("grade.{}.{}", report.rubric.id, item.section));
    c.add_properties([
        Property::new("check", item.check),
        Property::new("weight", num(item.weight)),
        Property::new("required", item.required.to_string()),
        Property::new("outcome", outcome_word(item.outcome)),
        Property::new("credit", item.credit.map(num).unwrap_or_default()),
        Property::new("points", num(item.points)),
        Property::new("max_points", num(item.max_points)),
    ]);
    if !item.evidence.is_empty() {
        c.set_system_out(item.evidence.join("\n"));
    }
    c
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
        Outcome::Errored => "errored",
    }
}

/// The findings of a failed item, one per line: `path:line:col: message (fix: help)`, the
/// path as seen from where `grade` ran.
fn details(report: &Report, item: &ItemReport) -> String {
    let mut s = String::new();
    for f in &item.findings {
        match (&f.file, f.line, f.column) {
            (Some(file), Some(l), Some(c)) => {
                let _ = write!(s, "{}:{l}:{c}: ", report.path_of(file));
            }
            (Some(file), _, _) => {
                let _ = write!(s, "{}: ", report.path_of(file));
            }
            _ => {}
        }
        s.push_str(&f.message);
        if let Some(h) = &f.help {
            let _ = write!(s, " (fix: {h})");
        }
        s.push('\n');
    }
    for e in &item.evidence {
        let _ = writeln!(s, "evidence: {e}");
    }
    s
}

pub fn render(report: &Report) -> String {
    let mut junit = Junit::new(format!("grade {}", report.rubric.id));
    for section in &report.sections {
        let mut suite = TestSuite::new(section.title.clone());
        suite.add_properties([
            Property::new("section", section.id.clone()),
            Property::new("points", num(section.points)),
            Property::new("max_points", num(section.max_points)),
            Property::new("score", section.score.map(|p| format!("{p:.2}")).unwrap_or_default()),
        ]);
        suite.add_test_cases(
            report
                .items
                .iter()
                .filter(|i| i.section == section.id)
                .map(|i| case(report, i)),
        );
        junit.add_test_suite(suite);
    }
    let mut verdict = TestSuite::new("verdict");
    verdict.add_properties([
        Property::new("rubric", format!("{} v{}", report.rubric.id, report.rubric.version)),
        Property::new("rubric_sha256", report.rubric.sha256.clone()),
        Property::new("score", format!("{:.2}", report.score)),
        Property::new("threshold", num(report.threshold)),
        Property::new("points", num(report.points)),
        Property::new("max_points", num(report.max_points)),
        Property::new("verdict", verdict_word(report.verdict)),
    ]);
    let line = format!(
        "{:.2}% (threshold {}%, {}/{} points)",
        report.score,
        num(report.threshold),
        num(report.points),
        num(report.max_points)
    );
    let status = match report.verdict {
        Verdict::Passed => TestCaseStatus::success(),
        Verdict::Failed => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let gates: Vec<String> = report
                .failed_gates()
                .map(|i| format!("{} {}", i.check, i.name))
                .collect();
            let msg = if gates.is_empty() {
                format!("failed with {line}")
            } else {
                format!("failed with {line}; required item failed: {}", gates.join(", "))
            };
            s.set_message(msg);
            s.set_type("failed");
            s
        }
        Verdict::Incomplete => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(format!("incomplete: some items could not be evaluated; {line}"));
            s.set_type("incomplete");
            s
        }
    };
    let mut c = TestCase::new("checkpoint verdict", status);
    c.set_classname(format!("grade.{}", report.rubric.id));
    c.set_system_out(format!("{line}\nscoring: {}", report.scoring_rule));
    verdict.add_test_case(c);
    junit.add_test_suite(verdict);
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- grade: could not write JUnit XML: {e} -->\n"))
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::Incomplete => "incomplete",
    }
}
