//! `grade batch` and `grade merge` end to end over generated cohorts: outputs, resume, shard +
//! merge = one run, isolation of crashing and hanging submissions, and bad input.

mod common;

use std::path::{Path, PathBuf};

use common::{copy_dir, grade, root, stderr, stdout};

fn tmp(name: &str) -> PathBuf {
    common::tmp("batch", name)
}

/// A phase-1 cohort: references and flawed copies with varied flaws, one without a manifest.
fn cohort(dir: &Path, n: usize) {
    let fixtures = root().join("fixtures/submissions");
    for i in 0..n {
        let name = format!("learner-{i:02}");
        let dest = dir.join(&name);
        let base = if i % 3 == 1 {
            "phase1-flawed"
        } else {
            "phase1-reference"
        };
        copy_dir(&fixtures.join(base), &dest);
        let manifest = dest.join("submission.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let text = if i % 4 == 2 {
            // An OpenAPI document the manifest names is missing.
            let _ = std::fs::remove_file(dest.join("services/catalog/openapi.yaml"));
            text
        } else {
            text
        };
        std::fs::write(&manifest, format!("{text}\n# learner {i}\n")).unwrap();
    }
    // No manifest: graded by convention.
    copy_dir(
        &root().join("fixtures/checks/SUB001/fail"),
        &dir.join("learner-nomanifest"),
    );
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn csv_rows(p: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(p).unwrap();
    let mut rows = vec![r.headers().unwrap().iter().map(str::to_string).collect::<Vec<_>>()];
    rows.extend(r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()));
    rows
}

#[test]
fn batch_writes_gradebook_stats_and_reports_then_resumes() {
    let d = tmp("basic");
    let c = d.join("cohort");
    cohort(&c, 6);
    std::fs::create_dir_all(c.join("learner-empty")).unwrap();
    std::fs::write(c.join("notes.txt"), "not a submission").unwrap();
    std::os::unix::fs::symlink(root().join("fixtures/submissions/phase1-reference"), c.join("linked")).unwrap();
    let out = d.join("out");
    let args = [
        "batch",
        "phase1",
        c.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        "2",
        "--static-only",
    ];
    let o = grade(&args);
    assert_eq!(
        o.status.code(),
        Some(3),
        "one submission cannot be graded: {}",
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(err.contains("ignored `notes.txt`: not a folder"), "{err}");
    assert!(err.contains("ignored `linked`: a symbolic link"), "{err}");
    assert!(err.contains("`learner-nomanifest` has no submission.toml"), "{err}");
    assert!(stdout(&o).contains("8 submission(s)"), "{}", stdout(&o));

    let rows = csv_rows(&out.join("gradebook.csv"));
    assert_eq!(rows.len(), 1 + 8);
    assert_eq!(&rows[0][..3], ["learner", "score", "passed"]);
    let learners: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    let mut sorted = learners.clone();
    sorted.sort();
    assert_eq!(learners, sorted, "sorted by learner");
    let status = rows[0].iter().position(|h| h == "status").unwrap();
    let empty = rows.iter().find(|r| r[0] == "learner-empty").unwrap();
    assert_eq!(empty[status], "errored");
    assert_eq!(empty[1], "", "no score for an errored row");
    let reference = rows.iter().find(|r| r[0] == "learner-00").unwrap();
    assert_eq!(reference[2], "true");
    let flawed = rows.iter().find(|r| r[0] == "learner-01").unwrap();
    assert_eq!(flawed[2], "false");

    for l in ["learner-00", "learner-01", "learner-nomanifest"] {
        let dir = out.join("learners").join(l);
        for f in [
            "report.json",
            "report.txt",
            "report.md",
            "report.html",
            "junit.xml",
            "record.json",
        ] {
            assert!(dir.join(f).is_file(), "{l}/{f}");
        }
    }
    let empty_record = read(&out.join("learners/learner-empty/record.json"));
    assert!(empty_record.contains("could not be graded"), "{empty_record}");

    let stats: serde_json::Value = serde_json::from_str(&read(&out.join("stats.json"))).unwrap();
    assert_eq!(stats["submissions"], 8);
    assert_eq!(stats["errored"], 1);
    assert_eq!(stats["histogram"].as_array().unwrap().len(), 10);
    let hist: u64 = stats["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(hist, 7);
    let arch002 = stats["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "ARCH002")
        .unwrap();
    assert!(
        arch002["failure_rate"].as_f64().unwrap() > 0.0,
        "flawed copies have a cycle"
    );
    assert!(read(&out.join("stats.md")).contains("### Score histogram"));
    let canvas = csv_rows(&out.join("gradebook-canvas.csv"));
    assert_eq!(
        &canvas[0][..5],
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    );
    assert_eq!(canvas.len(), 1 + 7, "errored rows are left out of the Canvas import");

    // Resume: nothing changed, nothing is graded again (the errored one is retried).
    let before = read(&out.join("learners/learner-00/report.json"));
    let mtime = std::fs::metadata(out.join("learners/learner-00/record.json"))
        .unwrap()
        .modified()
        .unwrap();
    let again = grade(&args);
    assert_eq!(again.status.code(), Some(3));
    assert!(
        stdout(&again).contains("0 graded, 7 unchanged (kept), 1 could not be graded"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        std::fs::metadata(out.join("learners/learner-00/record.json"))
            .unwrap()
            .modified()
            .unwrap(),
        mtime
    );
    assert_eq!(read(&out.join("learners/learner-00/report.json")), before);
    let g1 = read(&out.join("gradebook.csv"));

    // A changed submission is graded again, alone.
    std::fs::remove_dir_all(c.join("learner-empty")).unwrap();
    let m = c.join("learner-03/submission.toml");
    std::fs::write(&m, format!("{}\n# resubmitted\n", read(&m))).unwrap();
    let third = grade(&args);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert!(
        stdout(&third).contains("1 graded, 6 unchanged (kept), 0 could not be graded"),
        "{}",
        stdout(&third)
    );
    assert!(
        stderr(&third).contains("not part of this run"),
        "the stale result is kept and said: {}",
        stderr(&third)
    );
    let g3 = read(&out.join("gradebook.csv"));
    assert_ne!(g1, g3);
    assert!(!g3.contains("learner-empty"));
}

#[test]
fn shards_merged_equal_one_run() {
    let d = tmp("shards");
    let c = d.join("cohort");
    cohort(&c, 9);
    let run = |out: &Path, shard: Option<&str>| {
        let mut args = vec![
            "batch".to_string(),
            "phase1".into(),
            c.to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--static-only".into(),
        ];
        if let Some(s) = shard {
            args.push("--shard".into());
            args.push(s.into());
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = grade(&a);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o
    };
    let whole = d.join("whole");
    run(&whole, None);
    let s1 = d.join("s1");
    let s2 = d.join("s2");
    let s3 = d.join("s3");
    run(&s1, Some("1/3"));
    run(&s2, Some("2/3"));
    run(&s3, Some("3/3"));
    let count = |p: &Path| csv_rows(&p.join("gradebook.csv")).len() - 1;
    assert_eq!(
        count(&s1) + count(&s2) + count(&s3),
        10,
        "the shards partition the cohort"
    );
    let merged = d.join("merged");
    let o = grade(&[
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        s3.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "gradebook.csv",
        "gradebook-canvas.csv",
        "stats.json",
        "stats.md",
        "batch.json",
    ] {
        assert_eq!(read(&whole.join(f)), read(&merged.join(f)), "{f}");
    }
    for e in std::fs::read_dir(whole.join("learners")).unwrap() {
        let name = e.unwrap().file_name();
        for f in ["report.json", "record.json", "report.html"] {
            assert_eq!(
                read(&whole.join("learners").join(&name).join(f)),
                read(&merged.join("learners").join(&name).join(f)),
                "{name:?}/{f}"
            );
        }
    }
    // Merging the same shards again into the merge is a no-op; another rubric is refused.
    let o = grade(&["merge", s1.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let other = d.join("other");
    let o = grade(&[
        "batch",
        "phase2",
        c.to_str().unwrap(),
        "--out",
        other.to_str().unwrap(),
        "--static-only",
        "--shard",
        "1/9",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", stderr(&o));
    let o = grade(&[
        "merge",
        s1.to_str().unwrap(),
        other.to_str().unwrap(),
        "--out",
        d.join("m2").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("holds results of rubric `phase2`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_crashing_or_hanging_submission_gets_an_errored_row_and_the_batch_goes_on() {
    let d = tmp("isolation");
    let c = d.join("cohort");
    cohort(&c, 2);
    copy_dir(&c.join("learner-00"), &c.join("hang"));
    copy_dir(&c.join("learner-00"), &c.join("crash"));
    // A grader that hangs on `hang` and dies of a signal on `crash`.
    let wrapper = d.join("grader.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do\n  case \"$a\" in\n    hang) exec sleep 60;;\n    crash) kill -SEGV $$;;\n  esac\ndone\nexec \"{}\" \"$@\"\n",
            env!("CARGO_BIN_EXE_grade")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = d.join("out");
    let t = std::time::Instant::now();
    let o = grade(&[
        "batch",
        "phase1",
        c.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--static-only",
        "--deadline",
        "2",
        "--jobs",
        "2",
        "--grader",
        wrapper.to_str().unwrap(),
    ]);
    assert!(t.elapsed().as_secs() < 30, "the deadline stopped the hang");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let rows = csv_rows(&out.join("gradebook.csv"));
    let status = rows[0].iter().position(|h| h == "status").unwrap();
    let note = rows[0].iter().position(|h| h == "note").unwrap();
    let hang = rows.iter().find(|r| r[0] == "hang").unwrap();
    assert_eq!(hang[status], "errored");
    assert!(hang[note].contains("deadline"), "{hang:?}");
    let crash = rows.iter().find(|r| r[0] == "crash").unwrap();
    assert_eq!(crash[status], "errored");
    assert!(crash[note].contains("crashed"), "{crash:?}");
    let ok = rows.iter().find(|r| r[0] == "learner-00").unwrap();
    assert_eq!(ok[status], "graded");
    assert!(!out.join(".work").exists(), "no scratch left behind");
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let d = tmp("bad");
    let c = d.join("cohort");
    cohort(&c, 2);
    // An output folder of another rubric.
    let out = d.join("out");
    let o = grade(&[
        "batch",
        "phase1",
        c.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--static-only",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = grade(&[
        "batch",
        "phase2",
        c.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--static-only",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("already holds results of rubric `phase2`"),
        "{}",
        stderr(&o)
    );
    // A non-empty folder that is not a batch output.
    let junk = d.join("junk");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("keep.txt"), "mine").unwrap();
    let o = grade(&["batch", "phase1", c.to_str().unwrap(), "--out", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not empty"), "{}", stderr(&o));
    assert_eq!(read(&junk.join("keep.txt")), "mine");
    // Bad shard.
    let o = grade(&[
        "batch",
        "phase1",
        c.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--shard",
        "3/2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid --shard"));
    // Duplicate learner ids from manifests.
    let dup = d.join("dup");
    for n in ["a", "b"] {
        copy_dir(&root().join("fixtures/submissions/phase1-reference"), &dup.join(n));
        let m = dup.join(n).join("submission.toml");
        let text = read(&m).replacen("[submission]", "[submission]\nlearner = \"same-person\"", 1);
        let text = text
            .lines()
            .filter(|l| !l.starts_with("learner =") || l.contains("same-person"))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&m, text).unwrap();
    }
    let o = grade(&[
        "batch",
        "phase1",
        dup.to_str().unwrap(),
        "--out",
        d.join("dup-out").to_str().unwrap(),
        "--learner-id",
        "manifest",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("duplicate learner ids"), "{}", stderr(&o));
    assert!(!d.join("dup-out").exists(), "nothing written");
    // A cohort that is not a folder.
    let o = grade(&["batch", "phase1", "README.md", "--out", d.join("x").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

/// `--evidence-rules` reaches every submission's grading, and the records say which rules
/// graded them (results graded with other rules are not reused).
#[test]
fn evidence_rules_reach_every_grading() {
    let d = tmp("evidence-rules");
    let (sub, rules) = common::in_house_helper_submission(&d);
    let c = d.join("cohort");
    copy_dir(&sub, &c.join("learner-a"));
    let out = d.join("out");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "batch",
            "phase2",
            c.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--static-only",
        ];
        args.extend_from_slice(extra);
        grade(&args)
    };
    let arch012 = || {
        let report: serde_json::Value =
            serde_json::from_str(&read(&out.join("learners/learner-a/report.json"))).unwrap();
        common::item(&report, "ARCH012")["outcome"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let o = run(&["--evidence-rules", rules.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(arch012(), "passed");
    let record = read(&out.join("learners/learner-a/record.json"));
    assert!(record.contains("evidence_rules_sha256"), "{record}");
    // The same output folder without the rules: refused, never mixed with these results.
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = common::flat(&stderr(&o));
    assert!(err.contains("a run with other evidence rules"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
