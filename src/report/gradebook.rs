//! Gradebook CSV: one header and one row per graded submission, the layout `grade batch`
//! writes as `gradebook.csv` (docs/batch.md shows how Canvas and Moodle import it).
//!
//! Columns: `learner`, `score` (percent, two decimals), `passed` (`true`/`false`), `verdict`,
//! `points`, `max_points`, then `points:<section id>` per rubric section, then `status`
//! (`graded`, or `errored` when the submission could not be graded: score cells empty),
//! `submission` (the folder) and `note`.

use super::Report;

/// One gradebook row. Batch grading builds rows from its saved results; a single report
/// gives one with [`Row::from_report`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    pub learner: String,
    /// Percent; `None` when the submission could not be graded.
    pub score: Option<f64>,
    pub passed: Option<bool>,
    /// `passed`, `failed`, `incomplete`, or empty.
    pub verdict: String,
    pub points: Option<f64>,
    pub max_points: Option<f64>,
    /// Points per section, in the order of the header's sections.
    pub sections: Vec<Option<f64>>,
    /// `graded` or `errored`.
    pub status: String,
    pub submission: String,
    pub note: String,
}

impl Row {
    pub fn from_report(report: &Report) -> Row {
        let learner = report.submission.learner.clone().unwrap_or_else(|| {
            std::path::Path::new(report.submission.path.as_str())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| report.submission.path.to_string())
        });
        Row {
            learner,
            score: Some(report.score),
            passed: Some(report.passed),
            verdict: verdict_word(report.verdict).into(),
            points: Some(report.points),
            max_points: Some(report.max_points),
            sections: report.sections.iter().map(|s| Some(s.points)).collect(),
            status: "graded".into(),
            submission: report.submission.path.to_string(),
            note: String::new(),
        }
    }
}

pub fn verdict_word(v: crate::score::Verdict) -> &'static str {
    match v {
        crate::score::Verdict::Passed => "passed",
        crate::score::Verdict::Failed => "failed",
        crate::score::Verdict::Incomplete => "incomplete",
    }
}

/// The header for a rubric with these section ids.
pub fn header(sections: &[String]) -> Vec<String> {
    let mut h: Vec<String> = ["learner", "score", "passed", "verdict", "points", "max_points"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(sections.iter().map(|s| format!("points:{s}")));
    h.extend(["status", "submission", "note"].iter().map(|s| s.to_string()));
    h
}

fn number(x: Option<f64>) -> String {
    x.map(|v| {
        let s = format!("{v:.2}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".to_string()
        } else {
            s.to_string()
        }
    })
    .unwrap_or_default()
}

/// A free-text cell, defused against spreadsheet formula injection: a cell starting with
/// `=`, `+`, `-`, `@`, tab or CR gets a leading `'`.
fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// A whole CSV document: the header and the rows, in the order given.
pub fn write(sections: &[String], rows: &[Row]) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(header(sections));
    for r in rows {
        let mut rec = vec![
            text_cell(&r.learner),
            r.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
            r.passed.map(|p| p.to_string()).unwrap_or_default(),
            r.verdict.clone(),
            number(r.points),
            number(r.max_points),
        ];
        for i in 0..sections.len() {
            rec.push(number(r.sections.get(i).copied().flatten()));
        }
        rec.push(r.status.clone());
        rec.push(text_cell(&r.submission));
        rec.push(text_cell(&r.note));
        let _ = w.write_record(rec);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The report as a one-row gradebook.
pub fn render(report: &Report) -> String {
    let sections: Vec<String> = report.sections.iter().map(|s| s.id.clone()).collect();
    write(&sections, &[Row::from_report(report)])
}

/// The rows in the column layout of a Canvas gradebook import: `Student`, `ID`,
/// `SIS User ID`, `SIS Login ID`, `Section`, then one assignment column named `assignment`
/// holding the score. The learner id goes to `Student` and `SIS Login ID`; Canvas matches
/// students by its identifier columns, so the ids must be Canvas login ids (docs/batch.md).
/// Rows that could not be graded are left out (an empty cell would not change the grade).
pub fn canvas(assignment: &str, rows: &[Row]) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]);
    for r in rows.iter().filter(|r| r.score.is_some()) {
        let id = text_cell(&r.learner);
        let _ = w.write_record([
            id.as_str(),
            "",
            "",
            id.as_str(),
            "",
            &r.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
