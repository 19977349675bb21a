//! The reference submissions with live probes on: each `*-reference` passes every probe on the
//! real ShopFlow services (`fixtures/services/shopflow`), each `*-flawed` fails exactly the
//! probes its README names, and nothing is left running afterwards.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::{grade, root, stderr, stdout};

/// Builds the release `shopflow` once, where `fixtures/services/run-shopflow.sh` looks for it,
/// so that no service waits on a compile inside its readiness deadline.
fn build_shopflow() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "--quiet", "--release", "-p", "shopflow", "--bin", "shopflow"])
            .current_dir(root())
            .stderr(Stdio::inherit())
            .status()
            .expect("run cargo build -p shopflow")
            .success();
        assert!(ok, "cargo build --release -p shopflow failed");
    });
}

/// (check id, outcome) of every PRB item of a JSON report.
fn probes(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                if let (Some(c), Some(o)) = (m.get("check").and_then(|c| c.as_str()), m.get("outcome")) {
                    if c.starts_with("PRB") {
                        out.push((c.to_string(), o.as_str().unwrap_or("").to_string()));
                    }
                }
                m.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(report, &mut out);
    out
}

/// Processes whose working directory is inside `folder` (services left behind).
fn running_in(folder: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(cwd) = std::fs::read_link(e.path().join("cwd")) else {
            continue;
        };
        if cwd.starts_with(folder) {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            out.push(String::from_utf8_lossy(&cmd).replace('\0', " "));
        }
    }
    out
}

fn check(checkpoint: &str, failing: &[&str]) {
    build_shopflow();
    let sub = |kind: &str| format!("fixtures/submissions/{checkpoint}-{kind}");
    for (kind, expected_failures) in [("reference", &[][..]), ("flawed", failing)] {
        let folder = sub(kind);
        let o = grade(&[checkpoint, &folder, "--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&stdout(&o))
            .unwrap_or_else(|e| panic!("{folder}: no JSON report ({e}): {}", stderr(&o)));
        let items = probes(&report);
        assert!(!items.is_empty(), "{folder}: no live probe in the {checkpoint} rubric");
        let failed: BTreeSet<&str> = items
            .iter()
            .filter(|(_, o)| o != "passed" && o != "skipped")
            .map(|(c, _)| c.as_str())
            .collect();
        let expected: BTreeSet<&str> = expected_failures.iter().copied().collect();
        if failed != expected {
            // What each unexpected verdict said, so a failure seen once can be diagnosed.
            let said: Vec<String> = report["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|it| {
                    let c = it["check"].as_str().unwrap_or("");
                    failed.contains(c) != expected.contains(c)
                })
                .map(|it| {
                    let findings: Vec<&str> = it["findings"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f["message"].as_str())
                        .take(3)
                        .collect();
                    format!(
                        "{} {}: {} {:?} {:?}",
                        it["check"].as_str().unwrap_or(""),
                        it["outcome"].as_str().unwrap_or(""),
                        it["reason"].as_str().unwrap_or(""),
                        it["evidence"],
                        findings
                    )
                })
                .collect();
            panic!(
                "{folder}: the probes that did not pass differ from the documented ones\n  failed: {failed:?}\n  expected: {expected:?}\n{}\nstderr: {}",
                said.join("\n"),
                stderr(&o)
            );
        }
        // Progress on stderr (not a terminal here): one line per finished stage.
        let err = stderr(&o);
        for (c, outcome) in &items {
            assert!(
                err.lines()
                    .any(|l| l.starts_with(&format!("grade: {c} ")) && l.contains(&format!(": {outcome} ("))),
                "{folder}: no progress line for {c} ({outcome}) in:\n{err}"
            );
        }
        if kind == "reference" {
            assert!(
                err.lines()
                    .any(|l| l.starts_with("grade: service ") && l.ends_with(": ready")),
                "{folder}: no progress line for a started service in:\n{err}"
            );
        }
        let passed = items.iter().filter(|(_, o)| o == "passed").count();
        assert!(passed >= 3, "{folder}: too few probes passed: {items:?}");
        let leftover = running_in(&root().join(&folder).canonicalize().unwrap());
        assert!(leftover.is_empty(), "{folder}: processes left behind: {leftover:?}");
        if kind == "reference" {
            assert_eq!(o.status.code(), Some(0), "{folder} should pass: {}", stderr(&o));
        } else {
            assert_eq!(o.status.code(), Some(1), "{folder} should fail: {}", stderr(&o));
        }
    }
}

#[test]
fn phase2_reference_passes_and_flawed_fails_its_documented_probes() {
    check("phase2", &["PRB002", "PRB005"]);
}

#[test]
fn phase4_reference_passes_and_flawed_fails_its_documented_probes() {
    check("phase4", &["PRB003", "PRB004", "PRB005", "PRB006", "PRB007"]);
}

#[test]
fn capstone_reference_passes_and_flawed_fails_its_documented_probes() {
    check("capstone", &["PRB002", "PRB005", "PRB006", "PRB007", "PRB009"]);
}

/// A copy of a reference submission graded outside the repository still starts its services:
/// its `bin/shopflow` launcher finds the binary through `SHOPFLOW_BIN` (which the grader
/// passes through), and without it says how to get one.
#[test]
fn a_copy_of_a_reference_submission_runs_its_services_anywhere() {
    build_shopflow();
    // Outside the repository (the target folder may be inside it, where the launcher would find
    // fixtures/services by walking up).
    let outside = std::env::temp_dir().join(format!("grade-live-copy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outside);
    let copy = outside.join("phase2-reference");
    common::copy_dir(&root().join("fixtures/submissions/phase2-reference"), &copy);
    let rubric = copy.parent().unwrap().join("prb001.toml");
    std::fs::write(
        &rubric,
        "[rubric]\nid = \"start\"\ntitle = \"Start\"\nversion = \"1\"\nthreshold = 100\n\n\
         [[section]]\nid = \"run\"\ntitle = \"Run\"\n\n[[section.item]]\ncheck = \"PRB001\"\nweight = 1\n",
    )
    .unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        root().join(target)
    };
    let shopflow = target.join("release/shopflow");
    let run = |bin: Option<&std::path::Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_grade"));
        c.args(["run", "--rubric", rubric.to_str().unwrap(), copy.to_str().unwrap()])
            .args(["--format", "json"])
            .current_dir(std::env::temp_dir())
            .env_remove("SHOPFLOW_BIN")
            .env_remove("GITHUB_STEP_SUMMARY")
            // PATH without a `shopflow`, so only SHOPFLOW_BIN can find it.
            .env("PATH", "/usr/bin:/bin");
        if let Some(b) = bin {
            c.env("SHOPFLOW_BIN", b);
        }
        let o = c.output().expect("run grade");
        let report: serde_json::Value =
            serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("no JSON report ({e}): {}", stderr(&o)));
        (o.status.code(), report)
    };
    let (code, report) = run(Some(&shopflow));
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(probes(&report), [("PRB001".to_string(), "passed".to_string())]);
    let (code, report) = run(None);
    assert_eq!(code, Some(1), "{report:#}");
    let text = report.to_string();
    assert!(text.contains("exited with status 127"), "{text}");
    assert!(text.contains("set SHOPFLOW_BIN=/path/to/shopflow"), "{text}");
    assert!(running_in(&copy).is_empty(), "processes left behind");
    let _ = std::fs::remove_dir_all(&outside);
}
