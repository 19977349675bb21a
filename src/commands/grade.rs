//! `grade phase1..capstone DIR` and `grade run --rubric FILE DIR`.

use std::path::Path;

use super::Io;
use crate::cli::{GradeArgs, ReportFormat};
use crate::engine::{self, Options};
use crate::error::{Error, Result};
use crate::exit;
use crate::report::{json, markdown, text, Report};
use crate::rubric::Rubric;
use crate::score::Verdict;
use crate::submission::Submission;

pub fn builtin(id: &str, args: GradeArgs, io: &mut Io<'_>) -> Result<i32> {
    let rubric = Rubric::builtin(id)
        .ok_or_else(|| Error::input(crate::diag::UserError::new(format!("no built-in rubric `{id}`"))))?;
    with_rubric(&rubric, args, io)
}

pub fn with_rubric(rubric: &Rubric, args: GradeArgs, io: &mut Io<'_>) -> Result<i32> {
    let sub = Submission::load(&args.dir)?;
    let report = engine::grade(
        &sub,
        rubric,
        Options {
            static_only: args.static_only,
            timings: args.timings,
        },
    );
    emit(&report, &args, io)?;
    Ok(exit_code(&report))
}

/// The exit code for a finished report.
pub fn exit_code(report: &Report) -> i32 {
    match report.verdict {
        Verdict::Passed => exit::PASSED,
        Verdict::Failed => exit::FAILED,
        Verdict::Incomplete => exit::INCOMPLETE,
    }
}

/// Writes the files first (so a closed stdout loses nothing), then standard output.
fn emit(report: &Report, args: &GradeArgs, io: &mut Io<'_>) -> Result<()> {
    type Render = fn(&Report) -> String;
    let files: [(&Option<std::path::PathBuf>, Render); 3] = [
        (&args.json, json::render),
        (&args.markdown, markdown::render),
        (&args.text, |r| text::render(r, &text::TextOptions { color: false })),
    ];
    for (path, render) in files {
        if let Some(path) = path {
            write_file(path, &render(report))?;
        }
    }
    if args.quiet {
        return Ok(());
    }
    let s = match args.format {
        ReportFormat::Text => text::render(report, &text::TextOptions { color: io.color }),
        ReportFormat::Json => json::render(report),
        ReportFormat::Markdown => markdown::render(report),
    };
    io.write(&s)
}

fn write_file(path: &Path, content: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(path, content).map_err(|e| Error::io(path, e))
}
