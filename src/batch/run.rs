//! Grading the submissions: a fixed number of worker threads, each grading one submission at a
//! time in its own `grade` process (so a crash or a hang stays in that process and the deadline
//! can stop it), sending each result down a channel to the collector on the calling thread.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::cohort::{content_hash, Entry};
use super::output::{self, LEARNERS, WORK};
use super::record::{BatchMeta, Record, ReportDigest, Status, LAYOUT_VERSION, RECORD};

/// Everything a batch run needs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub meta: BatchMeta,
    pub entries: Vec<Entry>,
    pub out: PathBuf,
    pub jobs: usize,
    pub deadline: Duration,
    /// The `grade` executable run per submission.
    pub grader: PathBuf,
    /// Arguments selecting the rubric: `["phase1"]` or `["run", "--rubric", FILE]`.
    pub rubric_args: Vec<OsString>,
    /// The cohort folder (the working directory of each grading, so reports name the
    /// submission by its folder name only).
    pub cohort: PathBuf,
}

/// How one submission's result came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Graded,
    /// An earlier result for the same content, rubric and grader was kept.
    Resumed,
    Errored,
}

/// Bytes of the grader's error output kept in a record.
const MAX_ERROR: usize = 4000;

fn errored(plan: &Plan, e: &Entry, content: String, exit_code: Option<i32>, error: String) -> Record {
    Record {
        layout: LAYOUT_VERSION,
        learner: e.learner.clone(),
        folder: e.folder.clone(),
        content_sha256: content,
        rubric_sha256: plan.meta.rubric.sha256.clone(),
        grader_version: plan.meta.grader_version.clone(),
        static_only: plan.meta.static_only,
        evidence_rules_sha256: plan.meta.evidence_rules_sha256.clone(),
        status: Status::Errored,
        exit_code,
        error: Some(error),
        notes: notes(e),
        score: None,
        passed: None,
        verdict: None,
        points: None,
        max_points: None,
        sections: Vec::new(),
        items: Vec::new(),
    }
}

fn notes(e: &Entry) -> Vec<String> {
    if e.has_manifest {
        Vec::new()
    } else {
        vec!["no submission.toml: graded by convention (see the report's assumptions)".into()]
    }
}

/// How long a grader past its deadline gets after SIGTERM to tear down the services it started.
const TERM_GRACE: Duration = Duration::from_secs(5);

/// SIGTERM (the grader then stops the learner's services it started), then SIGKILL after
/// `grace` if it is still running; reaps it.
fn stop_gracefully(child: &mut std::process::Child, grace: Duration) {
    // SAFETY: signalling our own child by pid; it is not reaped yet, so the pid is still ours.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `grade` on one submission into `work`, within the deadline.
fn grade_in_child(plan: &Plan, e: &Entry, work: &Path, content: &str) -> Record {
    let stderr_path = work.join("grader-stderr.txt");
    let stderr = match std::fs::File::create(&stderr_path) {
        Ok(f) => f,
        Err(err) => {
            return errored(
                plan,
                e,
                content.into(),
                None,
                format!("cannot write {}: {err}", work.display()),
            )
        }
    };
    let mut cmd = Command::new(&plan.grader);
    cmd.current_dir(&plan.cohort)
        .args(&plan.rubric_args)
        .arg(&e.folder)
        .args(["--quiet", "--color", "never", "--report-dir"])
        .arg(work)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr))
        .env_remove("GITHUB_STEP_SUMMARY");
    if plan.meta.static_only {
        cmd.arg("--static-only");
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(err) => {
            return errored(
                plan,
                e,
                content.into(),
                None,
                format!("cannot start the grader {}: {err}", plan.grader.display()),
            )
        }
    };
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Ok(s),
            Ok(None) if start.elapsed() >= plan.deadline => {
                stop_gracefully(&mut child, TERM_GRACE);
                break Err(format!(
                    "grading took longer than the deadline of {} s and was stopped (--deadline)",
                    plan.deadline.as_secs_f64()
                ));
            }
            Ok(None) => {
                std::thread::sleep(pause.min(plan.deadline.saturating_sub(start.elapsed())));
                pause = (pause * 2).min(Duration::from_millis(25));
            }
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("lost track of the grader process: {err}"));
            }
        }
    };
    let stderr_text = std::fs::read(&stderr_path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let tail = |s: &str| -> String {
        let s = s.trim();
        if s.len() <= MAX_ERROR {
            s.to_string()
        } else {
            let mut cut = s.len() - MAX_ERROR;
            while !s.is_char_boundary(cut) {
                cut += 1;
            }
            format!("…{}", &s[cut..])
        }
    };
    let status = match status {
        Ok(s) => s,
        Err(why) => return errored(plan, e, content.into(), None, why),
    };
    let code = status.code();
    match code {
        Some(c) if c == crate::exit::PASSED || c == crate::exit::FAILED || c == crate::exit::INCOMPLETE => {}
        Some(c) if c == crate::exit::CANNOT_GRADE => {
            return errored(
                plan,
                e,
                content.into(),
                code,
                format!("could not be graded: {}", tail(&stderr_text)),
            )
        }
        _ => {
            return errored(
                plan,
                e,
                content.into(),
                code,
                format!("the grader crashed ({status}): {}", tail(&stderr_text)),
            )
        }
    }
    let digest: ReportDigest = match std::fs::read_to_string(work.join("report.json"))
        .map_err(|err| err.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|err| err.to_string()))
    {
        Ok(d) => d,
        Err(err) => {
            return errored(
                plan,
                e,
                content.into(),
                code,
                format!("the grader wrote no readable report.json ({err})"),
            )
        }
    };
    if digest.rubric.sha256 != plan.meta.rubric.sha256 {
        return errored(
            plan,
            e,
            content.into(),
            code,
            "the rubric file changed while the batch ran: rerun the batch".into(),
        );
    }
    let _ = std::fs::remove_file(&stderr_path);
    let mut notes = notes(e);
    if !digest.submission.manifest && e.has_manifest {
        notes.push("the manifest was not used".into());
    }
    Record {
        layout: LAYOUT_VERSION,
        learner: e.learner.clone(),
        folder: e.folder.clone(),
        content_sha256: content.into(),
        rubric_sha256: plan.meta.rubric.sha256.clone(),
        grader_version: plan.meta.grader_version.clone(),
        static_only: plan.meta.static_only,
        evidence_rules_sha256: plan.meta.evidence_rules_sha256.clone(),
        status: Status::Graded,
        exit_code: code,
        error: None,
        notes,
        score: Some(digest.score),
        passed: Some(digest.passed),
        verdict: Some(digest.verdict),
        points: Some(digest.points),
        max_points: Some(digest.max_points),
        sections: digest.sections,
        items: digest.items,
    }
}

/// Replaces `dest` by `work` (the earlier result is removed only once the new one is in place).
fn swap_in(work: &Path, dest: &Path) -> std::io::Result<()> {
    let old = work.with_extension("old");
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if dest.exists() {
        std::fs::rename(dest, &old)?;
    }
    if let Err(e) = std::fs::rename(work, dest) {
        if old.exists() {
            let _ = std::fs::rename(&old, dest);
        }
        return Err(e);
    }
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// Grades (or resumes) one submission and stores its folder under `learners/`.
pub fn one(plan: &Plan, e: &Entry) -> (Record, How) {
    let dest = plan.out.join(LEARNERS).join(&e.dir_name);
    let content = match content_hash(&e.path) {
        Ok(h) => h,
        Err(err) => {
            let r = errored(
                plan,
                e,
                String::new(),
                None,
                format!("cannot read the submission folder: {err}"),
            );
            return (store_errored(plan, e, &dest, r), How::Errored);
        }
    };
    if let Some(prev) = output::read_record(&dest) {
        if prev.learner == e.learner && prev.matches(&content, &plan.meta) && dest.join("report.json").is_file() {
            return (prev, How::Resumed);
        }
    }
    let work = plan.out.join(WORK).join(&e.dir_name);
    let _ = std::fs::remove_dir_all(&work);
    if let Err(err) = std::fs::create_dir_all(&work) {
        let r = errored(
            plan,
            e,
            content,
            None,
            format!("cannot create {}: {err}", work.display()),
        );
        return (r, How::Errored);
    }
    let abs_work = work.canonicalize().unwrap_or(work.clone());
    let record = grade_in_child(plan, e, &abs_work, &content);
    let how = if record.status == Status::Graded {
        How::Graded
    } else {
        How::Errored
    };
    if let Err(err) = output::write(&work.join(RECORD), &output::to_json(&record)) {
        let _ = std::fs::remove_dir_all(&work);
        return (
            errored(plan, e, content, None, err.to_diagnostic().message),
            How::Errored,
        );
    }
    if let Err(err) = swap_in(&work, &dest) {
        let _ = std::fs::remove_dir_all(&work);
        return (
            errored(
                plan,
                e,
                content,
                None,
                format!("cannot store the result in {}: {err}", dest.display()),
            ),
            How::Errored,
        );
    }
    (record, how)
}

/// Stores an errored record (no reports) as the learner's result.
fn store_errored(plan: &Plan, e: &Entry, dest: &Path, r: Record) -> Record {
    let work = plan.out.join(WORK).join(&e.dir_name);
    let _ = std::fs::remove_dir_all(&work);
    if std::fs::create_dir_all(&work).is_ok() && output::write(&work.join(RECORD), &output::to_json(&r)).is_ok() {
        let _ = swap_in(&work, dest);
    }
    r
}

/// Grades every entry of the plan with `plan.jobs` workers; `done` is called on the calling
/// thread for each result as it arrives (for progress). Returns the records in entry order.
pub fn run(plan: &Plan, mut done: impl FnMut(&Entry, &Record, How, Duration)) -> Vec<Record> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Record, How, Duration)>();
    let mut records: Vec<Option<Record>> = vec![None; plan.entries.len()];
    std::thread::scope(|s| {
        for _ in 0..plan.jobs.max(1).min(plan.entries.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(e) = plan.entries.get(i) else { break };
                let t = Instant::now();
                let (r, how) = one(plan, e);
                if tx.send((i, r, how, t.elapsed())).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, r, how, took) in rx {
            done(&plan.entries[i], &r, how, took);
            records[i] = Some(r);
        }
    });
    let _ = std::fs::remove_dir(plan.out.join(WORK));
    records.into_iter().flatten().collect()
}
