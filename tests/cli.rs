//! End-to-end tests of the `grade` binary: exit codes, reports, determinism, errors.

mod common;

use std::process::{Command, Output, Stdio};

use common::{grade, root, stderr, stdout};

const CHECKPOINTS: [(&str, f64); 5] = [
    ("phase1", 85.0),
    ("phase2", 90.0),
    ("phase3", 90.0),
    ("phase4", 95.0),
    ("capstone", 95.0),
];

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

fn submission(name: &str) -> String {
    format!("fixtures/submissions/{name}")
}

fn flawed(checkpoint: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("fixtures/submissions"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{checkpoint}-flawed")))
        .collect();
    v.sort();
    v
}

/// The items of a JSON report that did not pass (failed or errored; not the not-applicable
/// ones), with their reason, evidence and findings: what a flawed submission is snapshotted
/// for. The items it passes and the score follow every change of the built-in rubric, so
/// they are left out (the full report of every format is snapshotted over a rubric of the
/// tests' own, in `report_formats_over_a_small_rubric`).
fn not_passed(j: &serde_json::Value) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for i in j["items"].as_array().unwrap() {
        if i["outcome"] == "passed" || i["outcome"] == "skipped" {
            continue;
        }
        let credit = i["credit"]
            .as_f64()
            .map(|c| format!(" credit {c:.2}"))
            .unwrap_or_default();
        let required = if i["required"] == true { " required" } else { "" };
        let _ = writeln!(
            s,
            "{} {} {}{credit}{required}",
            i["check"].as_str().unwrap(),
            i["name"].as_str().unwrap(),
            i["outcome"].as_str().unwrap()
        );
        if let Some(r) = i["reason"].as_str() {
            let _ = writeln!(s, "  reason: {r}");
        }
        for e in i["evidence"].as_array().unwrap() {
            let _ = writeln!(s, "  evidence: {}", e.as_str().unwrap());
        }
        for f in i["findings"].as_array().unwrap() {
            let at = match (f["file"].as_str(), f["line"].as_u64()) {
                (Some(file), Some(l)) => format!("{file}:{l}"),
                (Some(file), None) => file.to_string(),
                _ => "-".into(),
            };
            let _ = writeln!(s, "  - {at} {}", f["message"].as_str().unwrap());
        }
    }
    s
}

/// The verdict line that ends a text report.
fn text_verdict(o: &Output) -> String {
    stdout(o).lines().last().unwrap_or_default().to_string()
}

#[test]
fn every_reference_passes_its_checkpoint() {
    for (cp, threshold) in CHECKPOINTS {
        let o = grade(&[
            cp,
            &submission(&format!("{cp}-reference")),
            "--static-only",
            "--format",
            "json",
        ]);
        let j = json(&o);
        // A static-only run of a rubric with live-probe items is never a pass: incomplete
        // (exit 3) with a provisional score (the live tests grade these references in full).
        let probes = j["probe_items_not_run"].as_u64().unwrap();
        let (code, verdict) = if probes > 0 { (3, "incomplete") } else { (0, "passed") };
        assert_eq!(
            o.status.code(),
            Some(code),
            "{cp}-reference static-only should be {verdict}:\n{}",
            serde_json::to_string_pretty(&j).unwrap()
        );
        assert_eq!(j["verdict"], verdict);
        assert_eq!(j["passed"], probes == 0);
        assert!(j["missing"].as_array().unwrap().is_empty(), "{cp}: nothing missing");
        assert!(j["score"].as_f64().unwrap() >= threshold, "{cp}: score below threshold");
        assert_eq!(j["threshold"].as_f64(), Some(threshold));
        assert_eq!(j["checkpoint"], cp);
        assert_eq!(j["rubric"]["id"], cp);
        assert_eq!(j["schema_version"], 1);
        assert_eq!(j["rubric"]["sha256"].as_str().map(str::len), Some(64));
        assert!(j.get("timing").is_none(), "timing only with --timings");
        // Every static item passes in full, or holds nothing to judge in the reference (not
        // applicable, with the reason); the only items not run are the live probes.
        assert_eq!(not_passed(&j), "", "{cp}-reference: items that do not pass");
        let items = j["items"].as_array().unwrap();
        let not_run = items
            .iter()
            .filter(|i| {
                i["reason"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("not run: static-only"))
            })
            .count();
        assert_eq!(not_run as u64, probes, "{cp}: only the live probes are not run");
        for i in items.iter().filter(|i| i["outcome"] == "skipped") {
            assert!(
                i["reason"].is_string(),
                "{cp}: {} is left out without a reason",
                i["check"]
            );
        }
        let t = grade(&[
            cp,
            &submission(&format!("{cp}-reference")),
            "--static-only",
            "--color",
            "never",
        ]);
        assert_eq!(t.status.code(), Some(code));
        assert!(
            text_verdict(&t).starts_with(&verdict.to_uppercase()),
            "{cp}-reference text verdict: {}",
            text_verdict(&t)
        );
    }
}

/// Each flawed submission fails its checkpoint: the snapshot lists the items it fails with
/// their findings, which its README documents as its flaws.
#[test]
fn every_flawed_submission_fails() {
    for (cp, _) in CHECKPOINTS {
        let names = flawed(cp);
        assert!(!names.is_empty(), "{cp}: no flawed submission");
        for name in names {
            let o = grade(&[cp, &submission(&name), "--static-only", "--format", "json"]);
            let j = json(&o);
            assert_eq!(
                o.status.code(),
                Some(1),
                "{name} should fail with exit 1:\n{}",
                stderr(&o)
            );
            assert_eq!(j["passed"], false);
            assert_eq!(j["verdict"], "failed");
            insta::assert_snapshot!(format!("{name}.failed-items"), not_passed(&j));
            let t = grade(&[cp, &submission(&name), "--static-only", "--color", "never"]);
            assert_eq!(t.status.code(), Some(1));
            assert!(text_verdict(&t).starts_with("FAILED"), "{name}: {}", text_verdict(&t));
        }
    }
}

/// The whole report in each format (JSON, text, Markdown), over a rubric of the tests' own
/// (`fixtures/rubrics/cli-report.toml`: a passed, a partial, a failed, a not-applicable, an
/// absent-and-skipped, a required and a live-probe item), so that it changes with the report's
/// rendering, not with the built-in rubrics.
#[test]
fn report_formats_over_a_small_rubric() {
    let args = [
        "run",
        "--rubric",
        "fixtures/rubrics/cli-report.toml",
        "fixtures/submissions/phase1-flawed",
        "--static-only",
    ];
    let o = grade(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let j = json(&o);
    assert_eq!(j["rubric"]["origin"], "fixtures/rubrics/cli-report.toml");
    let outcomes: Vec<&str> = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    for outcome in ["passed", "failed", "skipped"] {
        assert!(outcomes.contains(&outcome), "{outcome} in {outcomes:?}");
    }
    insta::assert_snapshot!("cli-report.json", stdout(&o));
    let t = grade(&[&args[..], &["--color", "never"]].concat());
    assert_eq!(t.status.code(), Some(1));
    insta::assert_snapshot!("cli-report.txt", stdout(&t));
    let m = grade(&[&args[..], &["--format", "markdown"]].concat());
    assert_eq!(m.status.code(), Some(1));
    insta::assert_snapshot!("cli-report.md", stdout(&m));
}

#[test]
fn two_runs_give_identical_json() {
    let args = [
        "phase1",
        "fixtures/submissions/phase1-flawed",
        "--static-only",
        "--format",
        "json",
    ];
    let a = grade(&args);
    let b = grade(&args);
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn timings_are_opt_in_and_separate() {
    let o = grade(&[
        "phase1",
        "fixtures/submissions/phase1-reference",
        "--static-only",
        "--format",
        "json",
        "--timings",
    ]);
    let j = json(&o);
    assert!(j["timing"]["total_ms"].as_f64().is_some());
    assert_eq!(
        j["timing"]["items"].as_array().map(Vec::len),
        j["items"].as_array().map(Vec::len)
    );
}

#[test]
fn several_outputs_in_one_run() {
    let dir = std::env::temp_dir().join(format!("grade-outputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let json_path = dir.join("out/report.json");
    let md_path = dir.join("summary.md");
    let txt_path = dir.join("report.txt");
    let o = grade(&[
        "phase1",
        "fixtures/submissions/phase1-flawed",
        "--static-only",
        "--json",
        json_path.to_str().unwrap(),
        "--markdown",
        md_path.to_str().unwrap(),
        "--text",
        txt_path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("FAILED"));
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(j["passed"], false);
    let md = std::fs::read_to_string(&md_path).unwrap();
    assert!(md.starts_with("## ❌ phase1: failed"), "{md}");
    let txt = std::fs::read_to_string(&txt_path).unwrap();
    assert!(!txt.contains('\u{1b}'), "text file must have no colour codes");
    assert!(txt.contains("FAILED"));
    let q = grade(&[
        "phase1",
        "fixtures/submissions/phase1-flawed",
        "--static-only",
        "--quiet",
        "--json",
        json_path.to_str().unwrap(),
    ]);
    assert_eq!(q.status.code(), Some(1));
    assert!(q.stdout.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn colour_follows_flag_and_no_color() {
    let args = ["phase1", "fixtures/submissions/phase1-flawed", "--static-only"];
    let always = grade(&[&args[..], &["--color", "always"]].concat());
    assert!(stdout(&always).contains('\u{1b}'), "--color always must colour");
    let never = grade(&[&args[..], &["--color", "never"]].concat());
    assert!(!stdout(&never).contains('\u{1b}'));
    // auto: not a terminal here, so no colour
    let auto = grade(&args);
    assert!(!stdout(&auto).contains('\u{1b}'));
}

#[test]
fn checks_list_and_explain_each() {
    let o = grade(&["checks", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let list = json(&o);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), grade::checks::registry().len());
    for c in list {
        for key in ["id", "name", "area", "summary"] {
            assert!(c[key].as_str().is_some_and(|s| !s.is_empty()), "{key} missing in {c}");
        }
        let e = grade(&["explain", c["id"].as_str().unwrap()]);
        assert_eq!(e.status.code(), Some(0));
        let text = stdout(&e);
        for h in grade::checks::DOC_HEADINGS {
            assert!(text.contains(h), "explain {} lacks {h}", c["id"]);
        }
        assert!(text.contains("## Parameters"));
        let by_name = grade(&["explain", c["name"].as_str().unwrap()]);
        assert_eq!(stdout(&by_name), text);
    }
    let text = grade(&["checks"]);
    assert!(stdout(&text).contains("ARCH002"));
    insta::assert_snapshot!("explain-ARCH001", stdout(&grade(&["explain", "ARCH001"])));
}

#[test]
fn explain_unknown_check_suggests() {
    let o = grade(&["explain", "ARCH02", "--color", "never"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `ARCH002`"), "{}", stderr(&o));
}

#[test]
fn rubric_errors_name_file_line_and_fix() {
    let cases = [
        ("typo-check", "did you mean `ARCH002`?"),
        ("typo-param", "did you mean `max`?"),
        ("typo-field", "did you mean `weight`?"),
        ("bad-values", "must be between 0 and 100"),
    ];
    for (name, expect) in cases {
        let file = format!("fixtures/rubrics/{name}.toml");
        let o = grade(&["rubric", "check", &file, "--color", "never"]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        let err = stderr(&o);
        assert!(err.contains(expect), "{name}: {err}");
        assert!(err.contains(&format!("{file}:")), "{name}: must name file:line: {err}");
        insta::assert_snapshot!(format!("rubric-{name}"), err);
        let run = grade(&[
            "run",
            "--rubric",
            &file,
            "fixtures/submissions/phase1-reference",
            "--color",
            "never",
        ]);
        assert_eq!(run.status.code(), Some(2), "{name}: run must refuse an invalid rubric");
    }
}

#[test]
fn custom_rubric_grades() {
    let o = grade(&["rubric", "check", "fixtures/rubrics/custom.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("is valid"));
    let o = grade(&[
        "run",
        "--rubric",
        "fixtures/rubrics/custom.toml",
        "fixtures/submissions/phase1-reference",
        "--format",
        "json",
    ]);
    let j = json(&o);
    assert_eq!(j["rubric"]["id"], "decomposition-quiz");
    assert_eq!(j["rubric"]["origin"], "fixtures/rubrics/custom.toml");
    assert_eq!(j["items"].as_array().unwrap().len(), 2);
}

#[test]
fn builtin_rubrics_listed_and_shown() {
    let o = grade(&["rubrics", "--format", "json"]);
    let j = json(&o);
    let ids: Vec<&str> = j
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["phase1", "phase2", "phase3", "phase4", "capstone"]);
    let thresholds: Vec<f64> = j
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["threshold"].as_f64().unwrap())
        .collect();
    assert_eq!(thresholds, [85.0, 90.0, 90.0, 95.0, 95.0]);
    for id in ids {
        let shown = grade(&["rubric", "show", id]);
        assert_eq!(shown.status.code(), Some(0));
        assert_eq!(
            stdout(&shown),
            std::fs::read_to_string(root().join(format!("rubrics/{id}.toml"))).unwrap()
        );
    }
    let bad = grade(&["rubric", "show", "phase5", "--color", "never"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn manifest_errors_point_into_the_file() {
    let cases = [
        ("unknown-field", "did you mean `context`?"),
        ("dangling-references", "did you mean `ordering`?"),
        ("path-escape", "leaves the submission folder"),
        (
            "run-path-escape",
            "run.command: `../../../../services/run-orders.sh` leaves the submission folder",
        ),
        ("bad-toml", "submission.toml:"),
        ("duplicate-service", "declared twice"),
        ("bad-relation-kind", "did you mean `customer-supplier`?"),
        ("bad-checkpoint", "unknown checkpoint `phase5`"),
        (
            "bad-grpc-health",
            "run.health `grpc:shop/Stock`: `shop/Stock` is not a gRPC service name",
        ),
    ];
    for (name, expect) in cases {
        let dir = format!("fixtures/manifests/{name}");
        let o = grade(&["phase1", &dir, "--color", "never"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains(expect), "{name}: expected `{expect}` in:\n{err}");
        assert!(o.stdout.is_empty(), "{name}: nothing on stdout");
        insta::assert_snapshot!(format!("manifest-{name}"), err);
    }
}

#[test]
fn unusable_folders_exit_2() {
    for dir in [
        "fixtures/manifests/empty-folder",
        "fixtures/no-such-folder",
        "README.md",
    ] {
        let o = grade(&["phase1", dir, "--color", "never"]);
        assert_eq!(o.status.code(), Some(2), "{dir}");
        assert!(!stderr(&o).is_empty());
        assert!(!stderr(&o).contains("panicked"), "{dir}: {}", stderr(&o));
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = grade(&["phase9", "x"]);
    assert_eq!(o.status.code(), Some(2));
    let o = grade(&["phase1"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn without_manifest_discovers_by_convention() {
    let o = grade(&["phase1", "fixtures/checks/SUB001/fail", "--format", "json"]);
    let j = json(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(j["submission"]["manifest"], false);
    let assumed = j["submission"]["assumptions"].as_array().unwrap();
    assert!(
        assumed.iter().any(|a| a.as_str().unwrap().contains("services/orders/")),
        "{assumed:?}"
    );
}

#[test]
fn init_scaffolds_a_gradable_submission() {
    for (cp, _) in CHECKPOINTS {
        let dir = std::env::temp_dir().join(format!("grade-init-{}-{cp}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let o = grade(&["init", cp, dir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(dir.join("submission.toml").is_file());
        // The scaffold loads and grades (it fails: one context is not a design yet).
        let g = grade(&[cp, dir.to_str().unwrap(), "--format", "json", "--static-only"]);
        assert_eq!(g.status.code(), Some(1), "{cp}: {}", stderr(&g));
        let j = json(&g);
        let sub002 = j["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["check"] == "SUB002")
            .unwrap();
        assert_eq!(
            sub002["outcome"], "passed",
            "{cp}: the scaffold has every artifact the checkpoint requires: {sub002}"
        );
        // What the starter contains is right: it fails only for the work left to the learner
        // (the contexts, the minimum system, the implemented service, what is absent).
        for i in j["items"].as_array().unwrap() {
            if i["outcome"] == "failed" && i["absent"] != true {
                assert!(
                    ["SUB004", "ARCH001", "ARCH009"].contains(&i["check"].as_str().unwrap()),
                    "{cp}: the starter's own content fails {}: {i}",
                    i["check"]
                );
            }
        }
        // Never overwrites.
        let again = grade(&["init", cp, dir.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(2));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn broken_pipe_exits_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["phase1", "fixtures/submissions/phase1-flawed", "--static-only"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the grade's exit code survives a closed pipe"
    );
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn readme_run_command_works() {
    // The README's first set-up command (in its debug-build form).
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("cargo run --release -- phase1 fixtures/submissions/phase1-reference"));
    let o = grade(&["phase1", "fixtures/submissions/phase1-reference"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn graph_draws_dot_and_mermaid() {
    for cp in ["phase1", "phase4", "capstone"] {
        for format in ["dot", "mermaid"] {
            let o = grade(&["graph", &submission(&format!("{cp}-reference")), "--format", format]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            let out = stdout(&o);
            assert!(
                !out.contains("color=red") && !out.contains("stroke:red"),
                "{cp}: no cycle, nothing red"
            );
            insta::assert_snapshot!(format!("graph-{cp}-reference.{format}"), out);
        }
    }
    // The cycle orders -> payments -> orders is drawn in red, in both formats.
    let dot = stdout(&grade(&[
        "graph",
        "fixtures/submissions/phase1-flawed",
        "--format",
        "dot",
    ]));
    let red: Vec<&str> = dot.lines().filter(|l| l.contains("color=red")).collect();
    assert_eq!(red.len(), 2, "{dot}");
    assert!(red.iter().any(|l| l.contains("\"svc_orders\" -> \"svc_payments\"")));
    assert!(red.iter().any(|l| l.contains("\"svc_payments\" -> \"svc_orders\"")));
    let mermaid = stdout(&grade(&[
        "graph",
        "fixtures/submissions/phase1-flawed",
        "--format",
        "mermaid",
    ]));
    assert_eq!(mermaid.matches("stroke:red").count(), 2, "{mermaid}");
    // Contexts are clusters, datastores cylinders, events dashed.
    assert!(dot.contains("subgraph \"cluster_ordering\""));
    assert!(dot.contains("shape=cylinder"));
    assert!(dot.contains("style=dashed"));
}

#[test]
fn diff_exit_codes_and_output() {
    let dir = "fixtures/submissions/phase2-reference/services/orders";
    let (old, new) = (format!("{dir}/openapi.previous.yaml"), format!("{dir}/openapi.yaml"));
    let o = grade(&["diff", &old, &new]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("0 breaking changes"));
    // Going back is breaking: the operation added in 1.2.0 disappears.
    let back = grade(&["diff", &new, &old, "--format", "json"]);
    assert_eq!(back.status.code(), Some(1));
    let j = json(&back);
    assert!(j.to_string().contains("operation-removed"), "{j}");
    let missing = grade(&["diff", &old, "fixtures/no-such.yaml", "--color", "never"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// `--evidence-rules DIR`: an instructor's rules join the built-in ones. A course's in-house
/// HTTP helper (`house_http.call(..., deadline_ms=300, attempts=3)`) is unknown to the built-in
/// rules, so ARCH012 cannot confirm the guards at phase2 (which needs them found); with the
/// instructor's rules it can. A rule whose example does not match is refused, naming the file.
#[test]
fn evidence_rules_from_a_folder_join_the_built_in_ones() {
    let dir = common::tmp("cli", "evidence-rules");
    let (sub, rules) = common::in_house_helper_submission(&dir);
    let run = |extra: &[&str]| {
        let mut args = vec!["phase2", sub.to_str().unwrap(), "--static-only", "--format", "json"];
        args.extend_from_slice(extra);
        grade(&args)
    };
    let without = json(&run(&[]));
    assert_eq!(common::item(&without, "ARCH012")["outcome"], "failed");
    let with = run(&["--evidence-rules", rules.to_str().unwrap()]);
    let with = json(&with);
    let arch012 = common::item(&with, "ARCH012");
    assert_eq!(arch012["outcome"], "passed", "{arch012:#}");
    assert!(
        arch012["evidence"].to_string().contains("src/client.py:7"),
        "{arch012:#}"
    );
    // A rule whose example does not match as it says is refused, naming the file.
    std::fs::write(
        rules.join("house-bulk.toml"),
        "id = 'house-bulk'\nlanguage = 'python'\nproves = 'retry'\nsummary = 's'\ncalls = ['^never$']\n\n\
         [[example]]\ncode = \"house_http.call(x)\"\nmatches = true\n",
    )
    .unwrap();
    let bad = run(&["--evidence-rules", rules.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let err = common::flat(&stderr(&bad));
    assert!(err.contains("house-bulk.toml: example 1 does not match"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
