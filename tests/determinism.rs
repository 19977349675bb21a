//! One submission, one answer: repeated gradings give byte-identical reports, and a batch gives
//! the same gradebook whatever its parallelism.

mod common;

use std::path::PathBuf;

use common::{copy_dir, grade, root, stderr, stdout};

#[test]
fn fifty_gradings_give_byte_identical_json() {
    let args = [
        "capstone",
        "fixtures/submissions/capstone-flawed",
        "--static-only",
        "--format",
        "json",
    ];
    let first = grade(&args);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let expected = stdout(&first);
    assert!(expected.contains("\"findings\""), "a report with findings");
    for run in 1..50 {
        let o = grade(&args);
        assert_eq!(stdout(&o), expected, "run {run} differs from the first");
    }
}

fn tmp(name: &str) -> PathBuf {
    common::tmp("determinism", name)
}

#[test]
fn batch_gradebook_is_the_same_with_one_job_and_eight() {
    let d = tmp("jobs");
    let cohort = d.join("cohort");
    let subs = root().join("fixtures/submissions");
    for (i, base) in ["phase2-reference", "phase2-flawed"]
        .iter()
        .cycle()
        .take(10)
        .enumerate()
    {
        copy_dir(&subs.join(base), &cohort.join(format!("learner-{i:02}")));
    }
    let run = |jobs: &str| {
        let out = d.join(format!("out-{jobs}"));
        let o = grade(&[
            "batch",
            "phase2",
            cohort.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--static-only",
            "--jobs",
            jobs,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        out
    };
    let one = run("1");
    let eight = run("8");
    for f in ["gradebook.csv", "gradebook-canvas.csv", "stats.json"] {
        let a = std::fs::read(one.join(f)).unwrap();
        let b = std::fs::read(eight.join(f)).unwrap();
        assert!(!a.is_empty(), "{f} is empty");
        assert!(a == b, "{f} differs between --jobs 1 and --jobs 8");
    }
}
