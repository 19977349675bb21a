//! `grade merge DIR... --out DIR`: join the outputs of sharded `grade batch` runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Io;
use crate::batch::output::{self, LEARNERS};
use crate::batch::record::Record;
use crate::diag::UserError;
use crate::error::{Error, Result};
use crate::exit;

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for e in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let e = e.map_err(|e| Error::io(from, e))?;
        let ft = e.file_type().map_err(|err| Error::io(&e.path(), err))?;
        let dest = to.join(e.file_name());
        if ft.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else if ft.is_file() {
            std::fs::copy(e.path(), &dest).map_err(|err| Error::io(&e.path(), err))?;
        }
    }
    Ok(())
}

pub fn run(dirs: &[PathBuf], out: &Path, io: &mut Io<'_>) -> Result<i32> {
    let first = dirs
        .first()
        .ok_or_else(|| Error::input(UserError::new("no folders to merge")))?;
    let meta = output::meta_of(first)?;
    let out_canon = out.canonicalize().ok();
    // learner -> (record, its folder)
    let mut all: BTreeMap<String, (Record, PathBuf)> = BTreeMap::new();
    for dir in dirs {
        let m = output::meta_of(dir)?;
        if let Some(why) = meta.conflict(&m) {
            return Err(Error::input(
                UserError::new(format!(
                    "`{}` holds results of {why} (compared with `{}`)",
                    dir.display(),
                    first.display()
                ))
                .with_help("merge only the shards of one batch"),
            ));
        }
        if m.grader_version != meta.grader_version {
            return Err(Error::input(
                UserError::new(format!(
                    "`{}` was graded by grade {}, `{}` by grade {}",
                    dir.display(),
                    m.grader_version,
                    first.display(),
                    meta.grader_version
                ))
                .with_help("rerun the shards with one grader version (a rerun only grades what changed)"),
            ));
        }
        for (path, rec) in output::read_all(dir)? {
            match all.get(&rec.learner) {
                Some((other, other_path)) if other != &rec => {
                    return Err(Error::input(
                        UserError::new(format!(
                            "learner `{}` has different results in `{}` and `{}`",
                            rec.learner,
                            other_path.display(),
                            path.display()
                        ))
                        .with_help("each learner belongs to one shard: merge the outputs of one sharded batch"),
                    ))
                }
                Some(_) => {}
                None => {
                    all.insert(rec.learner.clone(), (rec, path));
                }
            }
        }
    }
    // The output: new, empty, an input, or an earlier merge of the same rubric.
    output::prepare(out, &meta)?;
    for (rec, from) in all.values() {
        let Some(name) = from.file_name() else { continue };
        let dest = out.join(LEARNERS).join(name);
        if out_canon.is_some() && from.canonicalize().ok() == dest.canonicalize().ok() {
            continue;
        }
        if let Some(existing) = output::read_record(&dest) {
            if &existing == rec {
                continue;
            }
            return Err(Error::input(
                UserError::new(format!(
                    "`{}` already holds a different result for `{}`",
                    dest.display(),
                    rec.learner
                ))
                .with_help("merge into a new folder"),
            ));
        }
        copy_dir(from, &dest)?;
    }
    let mut records: Vec<Record> = all.into_values().map(|(r, _)| r).collect();
    let stats = output::finish(out, &meta, &mut records)?;
    io.write(&format!(
        "Merged {} folder(s): {} submission(s), {} graded ({} passed), {} could not be graded. Wrote {dir}/gradebook.csv, \
{dir}/stats.json, {dir}/stats.md.\n",
        dirs.len(),
        stats.submissions,
        stats.graded,
        stats.passed,
        stats.errored,
        dir = out.display()
    ))?;
    Ok(if stats.errored > 0 {
        exit::INCOMPLETE
    } else {
        exit::PASSED
    })
}
