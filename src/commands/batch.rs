//! `grade batch CHECKPOINT COHORT_DIR --out DIR`: grade a cohort (see docs/batch.md).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use super::Io;
use crate::batch::cohort::{self, parse_shard, shard_of};
use crate::batch::output::{self, LEARNERS};
use crate::batch::record::BatchMeta;
use crate::batch::run::{self, How, Plan};
use crate::cli::BatchArgs;
use crate::diag::UserError;
use crate::error::{Error, Result};
use crate::exit;
use crate::rubric::Rubric;

/// SHA-256 over the rule files of an `--evidence-rules` folder (names and contents, in name
/// order): results graded with other rules are graded again.
fn rules_digest(dir: &std::path::Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(f.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
        h.update([0]);
        h.update(std::fs::read(&f).map_err(|e| Error::io(&f, e))?);
        h.update([0]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn warn(msg: &str) {
    eprintln!("grade batch: {msg}");
}

pub fn run(args: BatchArgs, io: &mut Io<'_>) -> Result<i32> {
    let started = Instant::now();
    let (rubric, rubric_args): (Rubric, Vec<OsString>) = match &args.rubric {
        Some(file) => {
            let r = Rubric::from_path(file)?;
            let abs = file.canonicalize().map_err(|e| Error::io(file, e))?;
            (r, vec!["run".into(), "--rubric".into(), abs.into_os_string()])
        }
        None => {
            let r = Rubric::builtin(&args.checkpoint)
                .ok_or_else(|| Error::input(UserError::new(format!("no built-in rubric `{}`", args.checkpoint))))?;
            (r, vec![args.checkpoint.clone().into()])
        }
    };
    if let Some(cp) = rubric.checkpoint.as_deref().filter(|cp| *cp != args.checkpoint) {
        return Err(Error::input(
            UserError::new(format!(
                "the rubric is for checkpoint `{cp}`, the batch for `{}`",
                args.checkpoint
            ))
            .with_help(format!(
                "run `grade batch {cp} ...`, or use a rubric for {}",
                args.checkpoint
            )),
        ));
    }
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let mut meta = BatchMeta::from_rubric(&args.checkpoint, &rubric, args.static_only);
    let mut rubric_args = rubric_args;
    if args.unsandboxed {
        rubric_args.push("--unsandboxed".into());
    } else if !args.static_only {
        // Learner code from a whole cohort runs here: not without the sandbox, unless asked.
        if let Err(why) = crate::probe::sandbox::available() {
            return Err(Error::input(
                UserError::new(format!("this machine cannot sandbox the learners' services: {why}")).with_help(
                    "run the batch as root (or where unprivileged user namespaces are allowed), or pass \
                     `--unsandboxed` to grade without the sandbox (each report then says the network was not \
                     isolated), or `--static-only`",
                ),
            ));
        }
    }
    if let Some(dir) = &args.evidence_rules {
        // Checked once here (a bad rule stops the batch before any grading), then passed on.
        crate::evidence::load_rules(dir).map_err(|e| Error::input(UserError::new(format!("--evidence-rules: {e}"))))?;
        let abs = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        meta.evidence_rules_sha256 = Some(rules_digest(&abs)?);
        rubric_args.push("--evidence-rules".into());
        rubric_args.push(abs.into_os_string());
    }

    let mut scan = cohort::scan(&args.cohort, Some(&args.out), args.learner_id)?;
    for (name, why) in &scan.ignored {
        warn(&format!("ignored `{name}`: {why}"));
    }
    if let Some((k, n)) = shard {
        scan.entries.retain(|e| shard_of(&e.learner, n) == k);
    }
    for e in scan.entries.iter().filter(|e| !e.has_manifest) {
        warn(&format!("`{}` has no submission.toml: graded by convention", e.folder));
    }

    let prepared = output::prepare(&args.out, &meta)?;
    if let Some(v) = &prepared.earlier_grader {
        warn(&format!(
            "results in `{}` were made by grade {v}: they are graded again with grade {}",
            args.out.display(),
            meta.grader_version
        ));
    }
    // Results in the output folder for learners not in this run stay, but are not counted.
    let selected: std::collections::BTreeSet<&str> = scan.entries.iter().map(|e| e.dir_name.as_str()).collect();
    let stale: Vec<String> = output::read_all(&args.out)?
        .into_iter()
        .filter_map(|(p, r)| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            (!selected.contains(name.as_str())).then_some(r.learner)
        })
        .collect();
    if !stale.is_empty() {
        warn(&format!(
            "{} result(s) in `{}` are not part of this run (kept, left out of the gradebook): {}",
            stale.len(),
            args.out.join(LEARNERS).display(),
            stale.join(", ")
        ));
    }

    let jobs = args
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    let grader = match &args.grader {
        Some(g) => g.clone(),
        None => std::env::current_exe().map_err(|e| Error::io(std::path::Path::new("<current exe>"), e))?,
    };
    let cohort_abs = args.cohort.canonicalize().map_err(|e| Error::io(&args.cohort, e))?;
    let out_abs = args.out.canonicalize().map_err(|e| Error::io(&args.out, e))?;
    let plan = Plan {
        meta: meta.clone(),
        entries: scan.entries,
        out: out_abs,
        jobs,
        deadline: Duration::from_secs(args.deadline.max(1)),
        grader,
        rubric_args,
        cohort: cohort_abs,
    };

    let total = plan.entries.len();
    let bar = std::io::stderr().is_terminal().then(|| {
        let pb = indicatif::ProgressBar::new(total as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} {wide_msg} [{elapsed}, eta {eta}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    });
    let (mut graded, mut resumed, mut errored) = (0usize, 0usize, 0usize);
    let mut done = 0usize;
    let width = total.to_string().len();
    let mut records = run::run(&plan, |e, r, how, took| {
        done += 1;
        match how {
            How::Graded => graded += 1,
            How::Resumed => resumed += 1,
            How::Errored => errored += 1,
        }
        let what = match how {
            How::Errored => format!(
                "ERRORED: {}",
                r.error.as_deref().and_then(|s| s.lines().next()).unwrap_or("")
            ),
            _ => format!(
                "{:.2}% {}{}",
                r.score.unwrap_or(0.0),
                r.verdict.as_deref().unwrap_or(""),
                if how == How::Resumed { " (resumed)" } else { "" }
            ),
        };
        let line = format!("{} {what}", e.learner);
        match &bar {
            Some(pb) => {
                if how == How::Errored {
                    pb.println(format!("{}: {what}", e.learner));
                }
                pb.set_message(line);
                pb.inc(1);
            }
            None => eprintln!("[{done:>width$}/{total}] {line} ({:.1} s)", took.as_secs_f64()),
        }
    });
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    let stats = output::finish(&args.out, &meta, &mut records)?;
    let shard_note = shard.map(|(k, n)| format!(" (shard {k}/{n})")).unwrap_or_default();
    let mut s = format!(
        "{total} submission(s){shard_note}: {graded} graded, {resumed} unchanged (kept), {errored} could not be graded; \
{} passed, {} failed, {} incomplete.\n",
        stats.passed, stats.failed, stats.incomplete
    );
    if let Some(sc) = &stats.score {
        s.push_str(&format!(
            "Score: mean {:.2}%, median {:.2}%, min {:.2}%, max {:.2}%.\n",
            sc.mean, sc.median, sc.min, sc.max
        ));
    }
    s.push_str(&format!(
        "Wrote {dir}/gradebook.csv, {dir}/stats.json, {dir}/stats.md and {dir}/{LEARNERS}/<learner>/ in {:.1} s.\n",
        started.elapsed().as_secs_f64(),
        dir = args.out.display()
    ));
    io.write(&s)?;
    Ok(if errored > 0 { exit::INCOMPLETE } else { exit::PASSED })
}
