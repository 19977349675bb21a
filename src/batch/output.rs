//! The output folder of a batch: `batch.json`, `learners/<id>/`, `gradebook.csv`,
//! `stats.json`, `stats.md`. Nothing in it is replaced silently: a folder holding another
//! rubric's results, or something that is not a batch output, is refused.

use std::path::{Path, PathBuf};

use super::record::{BatchMeta, Record, META, RECORD};
use super::stats;
use crate::diag::UserError;
use crate::error::{Error, Result};
use crate::report::gradebook;

/// Folder of the per-learner results.
pub const LEARNERS: &str = "learners";
/// Scratch space for gradings in progress (removed when the batch ends).
pub const WORK: &str = ".work";

/// What was in the output folder before this run.
#[derive(Debug, Default)]
pub struct Prepared {
    /// The grader version of an earlier run, when it differs from this one.
    pub earlier_grader: Option<String>,
}

fn read_meta(out: &Path) -> Result<Option<BatchMeta>> {
    let path = out.join(META);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::input(
            UserError::new(format!(
                "{} is not a batch description grade can read: {e}",
                path.display()
            ))
            .with_help("choose another --out folder, or move this one away"),
        )
    })
}

/// Creates `out` or checks that it holds results of the same rubric and mode, then records
/// `meta` in it.
pub fn prepare(out: &Path, meta: &BatchMeta) -> Result<Prepared> {
    let shown = out.display();
    let mut prepared = Prepared::default();
    if out.exists() {
        if !out.is_dir() {
            return Err(Error::input(
                UserError::new(format!("--out `{shown}` is a file")).with_help("name a folder for the results"),
            ));
        }
        match read_meta(out)? {
            Some(earlier) => {
                if let Some(why) = earlier.conflict(meta) {
                    return Err(Error::input(
                        UserError::new(format!("`{shown}` already holds results of {why}")).with_help(
                            "results of different rubrics are never mixed: choose another --out folder, or move this one away",
                        ),
                    ));
                }
                if earlier.grader_version != meta.grader_version {
                    prepared.earlier_grader = Some(earlier.grader_version);
                }
            }
            None => {
                let mut entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
                if entries.next().is_some() {
                    return Err(Error::input(
                        UserError::new(format!("`{shown}` is not empty and holds no {META}")).with_help(
                            "grade batch writes into a new or empty folder, or resumes its own output: choose another --out",
                        ),
                    ));
                }
            }
        }
    }
    std::fs::create_dir_all(out.join(LEARNERS)).map_err(|e| Error::io(out, e))?;
    write(&out.join(META), &to_json(meta))?;
    Ok(prepared)
}

pub fn to_json<T: serde::Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

pub fn write(path: &Path, content: &str) -> Result<()> {
    std::fs::write(path, content).map_err(|e| Error::io(path, e))
}

/// The record in a learner folder, if there is a readable one.
pub fn read_record(dir: &Path) -> Option<Record> {
    let text = std::fs::read_to_string(dir.join(RECORD)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Every record under `out/learners/`, with its folder, sorted by learner.
pub fn read_all(out: &Path) -> Result<Vec<(PathBuf, Record)>> {
    let dir = out.join(LEARNERS);
    let mut v = Vec::new();
    if !dir.is_dir() {
        return Ok(v);
    }
    for e in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
        let e = e.map_err(|e| Error::io(&dir, e))?;
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            if let Some(r) = read_record(&e.path()) {
                v.push((e.path(), r));
            }
        }
    }
    v.sort_by(|a, b| a.1.learner.cmp(&b.1.learner).then(a.0.cmp(&b.0)));
    Ok(v)
}

/// The batch description in `out`, required.
pub fn meta_of(out: &Path) -> Result<BatchMeta> {
    read_meta(out)?.ok_or_else(|| {
        Error::input(
            UserError::new(format!("`{}` holds no {META}: not a grade batch output", out.display()))
                .with_help("pass the --out folders of `grade batch` runs"),
        )
    })
}

/// Writes `gradebook.csv`, `gradebook-canvas.csv`, `stats.json` and `stats.md` for `records` (sorted by learner).
pub fn finish(out: &Path, meta: &BatchMeta, records: &mut [Record]) -> Result<stats::Stats> {
    records.sort_by(|a, b| a.learner.cmp(&b.learner).then(a.folder.cmp(&b.folder)));
    let ids = meta.section_ids();
    let rows: Vec<gradebook::Row> = records.iter().map(|r| r.row(&ids)).collect();
    write(&out.join("gradebook.csv"), &gradebook::write(&ids, &rows))?;
    let assignment = format!("{} ({})", meta.rubric.title, meta.rubric.id);
    write(
        &out.join("gradebook-canvas.csv"),
        &gradebook::canvas(&assignment, &rows),
    )?;
    let st = stats::compute(meta, records);
    write(&out.join("stats.json"), &stats::json(&st))?;
    write(&out.join("stats.md"), &stats::markdown(&st))?;
    Ok(st)
}
