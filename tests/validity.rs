//! Validity (DESIGN section 13): submissions built to pass without the work never pass.
//! Absence fails, a system that does not run fails, copied contracts fail, and a static-only
//! run of a rubric with live probes is never a pass.

mod common;

use common::{copy_dir, grade, item, root, stderr, stdout, tmp};

const CHECKPOINTS: [&str; 5] = ["phase1", "phase2", "phase3", "phase4", "capstone"];

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

#[test]
fn an_empty_system_fails_every_checkpoint_and_the_report_opens_with_what_is_missing() {
    for cp in CHECKPOINTS {
        let o = grade(&[
            cp,
            "fixtures/validity/empty-system",
            "--static-only",
            "--format",
            "json",
        ]);
        let j = json(&o);
        assert_eq!(o.status.code(), Some(1), "{cp}: {}", stdout(&o));
        assert_eq!(j["verdict"], "failed", "{cp}");
        let missing = j["missing"].as_array().unwrap();
        assert!(
            missing.iter().any(|m| m.as_str().unwrap().contains("services")),
            "{cp}: the missing services are listed first: {missing:?}"
        );
        // No item passes on "0 of 0": absent items fail with no credit.
        for i in j["items"].as_array().unwrap() {
            if i["absent"] == true && i["outcome"] != "skipped" {
                assert_eq!(i["outcome"], "failed", "{cp} {}", i["check"]);
                assert_eq!(i["points"], 0.0, "{cp} {}", i["check"]);
            }
        }
        assert_eq!(item(&j, "SUB004")["outcome"], "failed", "{cp}");
        assert_eq!(item(&j, "OAS001")["absent"], true, "{cp}");
    }
    let t = grade(&["phase1", "fixtures/validity/empty-system", "--color", "never"]);
    let text = stdout(&t);
    let head: Vec<&str> = text.lines().take(4).collect();
    assert!(
        head[2].starts_with("missing"),
        "the report opens with what is missing:\n{text}"
    );
    insta::assert_snapshot!("empty-system-phase1.txt", text);
}

/// The phase2 reference with every `[service.run]` command replaced by one that does not exist.
fn never_starting_copy(name: &str) -> std::path::PathBuf {
    let dir = tmp("validity", name);
    copy_dir(&root().join("fixtures/submissions/phase2-reference"), &dir);
    let manifest = dir.join("submission.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let rewritten: String = text
        .lines()
        .map(|l| {
            if l.starts_with("command = ") {
                "command = [\"grade-test-no-such-program\"]".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(text.trim_end(), rewritten, "the reference has run commands");
    std::fs::write(&manifest, rewritten).unwrap();
    dir
}

#[test]
fn services_that_never_start_fail_every_probe_item_with_exit_1() {
    let dir = never_starting_copy("never-starts");
    let o = grade(&["phase2", dir.to_str().unwrap(), "--format", "json"]);
    let j = json(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the learner's failure is exit 1: {}",
        stderr(&o)
    );
    assert_eq!(j["verdict"], "failed");
    assert_eq!(j["complete"], true, "nothing on the grader's side went wrong");
    for i in j["items"].as_array().unwrap() {
        if i["check"].as_str().unwrap().starts_with("PRB") {
            assert_eq!(i["outcome"], "failed", "{}: {}", i["check"], i);
            assert_eq!(i["points"], 0.0, "{}", i["check"]);
        }
    }
    let reason = item(&j, "PRB002")["reason"].as_str().unwrap();
    assert!(reason.contains("PRB001"), "says where the cause is: {reason}");
}

#[test]
fn copied_starter_contracts_fail_phase1() {
    // The phase1 reference with every service's contract replaced by the same starter spec.
    let dir = tmp("validity", "copied-contracts");
    copy_dir(&root().join("fixtures/submissions/phase1-reference"), &dir);
    let init = tmp("validity", "starter");
    std::fs::remove_dir_all(&init).unwrap();
    assert_eq!(
        grade(&["init", "phase1", init.to_str().unwrap()]).status.code(),
        Some(0)
    );
    let starter = std::fs::read_to_string(init.join("services/orders/openapi.yaml")).unwrap();
    let manifest = std::fs::read_to_string(dir.join("submission.toml")).unwrap();
    let mut copies = 0;
    for l in manifest.lines() {
        if let Some(rel) = l.strip_prefix("openapi = \"").and_then(|r| r.strip_suffix('"')) {
            std::fs::write(dir.join(rel), &starter).unwrap();
            copies += 1;
        }
    }
    assert!(copies >= 7, "{copies} contracts replaced");
    let o = grade(&["phase1", dir.to_str().unwrap(), "--format", "json"]);
    let j = json(&o);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let arch011 = item(&j, "ARCH011");
    assert_eq!(arch011["outcome"], "failed", "{arch011}");
    assert_eq!(arch011["required"], true);
    assert_eq!(arch011["points"], 0.0, "every contract is a copy: {arch011}");
}

#[test]
fn static_only_on_a_probe_rubric_is_never_a_pass() {
    let o = grade(&[
        "phase2",
        "fixtures/submissions/phase2-reference",
        "--static-only",
        "--format",
        "json",
    ]);
    let j = json(&o);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert_eq!(j["verdict"], "incomplete");
    assert_eq!(j["passed"], false);
    assert_eq!(j["probe_items_not_run"], 5);
    let t = grade(&[
        "phase2",
        "fixtures/submissions/phase2-reference",
        "--static-only",
        "--color",
        "never",
    ]);
    let last = stdout(&t).lines().last().unwrap().to_string();
    assert!(
        last.starts_with("INCOMPLETE") && last.contains("5 live-probe items not run, the score is provisional"),
        "{last}"
    );
    // A rubric without probe items still passes statically.
    let p1 = grade(&["phase1", "fixtures/submissions/phase1-reference", "--static-only"]);
    assert_eq!(p1.status.code(), Some(0));
}

#[test]
fn grading_another_checkpoint_than_the_manifest_names_warns() {
    let o = grade(&[
        "phase3",
        "fixtures/submissions/phase1-reference",
        "--static-only",
        "--format",
        "json",
    ]);
    let j = json(&o);
    let warnings = j["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().contains("`grade phase1 DIR`"));
    let same = json(&grade(&[
        "phase1",
        "fixtures/submissions/phase1-reference",
        "--format",
        "json",
    ]));
    assert!(same["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn a_rubric_item_may_skip_what_its_checkpoint_does_not_ask_for() {
    let dir = tmp("validity", "rubric-skip");
    let rubric = dir.join("r.toml");
    // The submission declares no saga: EVT009 is absent.
    let grade_with = |when: &str| {
        let source = format!(
            "[rubric]\nid = \"t\"\ntitle = \"t\"\nversion = \"1\"\nthreshold = 50\n\n[[section]]\nid = \"s\"\ntitle = \"s\"\n\n\
             [[section.item]]\ncheck = \"ARCH001\"\nweight = 1\nparams = {{ min = 1, max = 12 }}\n\n\
             [[section.item]]\ncheck = \"EVT009\"\nweight = 1\n{when}\n"
        );
        std::fs::write(&rubric, source).unwrap();
        json(&grade(&[
            "run",
            "--rubric",
            rubric.to_str().unwrap(),
            "fixtures/submissions/phase1-reference",
            "--format",
            "json",
        ]))
    };
    let failed = grade_with("");
    let evt = &failed["items"][1];
    assert_eq!(
        (evt["outcome"].as_str(), evt["absent"].as_bool()),
        (Some("failed"), Some(true))
    );
    assert_eq!(failed["score"], 50.0);
    let skipped = grade_with("when_absent = \"skip\"");
    assert_eq!(skipped["items"][1]["outcome"], "skipped");
    assert_eq!(skipped["score"], 100.0);
}

/// A claim the code contradicts costs more than not making it (#17): phase3-flawed's orders
/// declares an outbox while its repository commits and then publishes (a dual write), and
/// declares timeouts, retries and a breaker while its HTTP client posts with `requests` and no
/// timeout. Both findings point at the code, and the same files with an honest manifest
/// (`event_delivery = "direct"`, no `resilience` claim) score above it.
#[test]
fn contradicted_claims_fail_and_honesty_never_scores_lower() {
    let dishonest = grade(&[
        "phase3",
        "fixtures/submissions/phase3-flawed",
        "--static-only",
        "--format",
        "json",
    ]);
    let d = json(&dishonest);
    let data004 = item(&d, "DATA004");
    assert_eq!(data004["outcome"], "failed");
    let findings = data004["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["file"]
            .as_str()
            .is_some_and(|p| p.ends_with("postgres_order_repository.py"))
            && f["message"].as_str().unwrap().contains("submission.toml:")),
        "the contradiction points at the code and names the claim: {findings:#?}"
    );
    let arch012 = item(&d, "ARCH012");
    assert_eq!(arch012["outcome"], "failed");
    let findings = arch012["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["file"]
            .as_str()
            .is_some_and(|p| p.ends_with("outbound/resilient_http.py"))
            && f["line"] == 13
            && f["message"]
                .as_str()
                .unwrap()
                .contains("declares a timeout on its calls (submission.toml:")),
        "the call without a timeout is shown with the claim: {findings:#?}"
    );
    // The JSON report carries each claim with where it comes from.
    let claims = arch012["claims"].as_array().expect("ARCH012 reports its claims");
    let timeout = claims
        .iter()
        .find(|c| c["subject"] == "orders" && c["claim"] == "timeout")
        .expect("orders' timeout claim");
    assert_eq!(timeout["status"], "contradicted");
    assert_eq!(timeout["credited"], false);
    let sources = timeout["sources"].as_array().unwrap();
    assert!(sources
        .iter()
        .any(|s| s["source"] == "declared" && s["file"] == "submission.toml" && s["line"].is_u64()));
    assert!(sources.iter().any(|s| s["source"] == "found"
        && s["contradicts"] == true
        && s["file"].as_str().unwrap().ends_with("resilient_http.py")
        && s["line"] == 13));
    let outbox = item(&d, "DATA004")["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"] == "orders")
        .cloned()
        .expect("orders' outbox claim");
    assert_eq!(
        (outbox["status"].as_str(), outbox["credited"].as_bool()),
        (Some("contradicted"), Some(false))
    );
    let honest_dir = tmp("validity", "phase3-honest");
    copy_dir(&root().join("fixtures/submissions/phase3-flawed"), &honest_dir);
    let manifest = honest_dir.join("submission.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let marker = "source = \"services/orders/src\"";
    let at = text.find(marker).expect("orders has a source folder");
    let rest = &text[at..];
    let claim = rest
        .find("event_delivery = \"outbox\"")
        .expect("orders claims an outbox")
        + at;
    let honest = format!(
        "{}event_delivery = \"direct\"{}",
        &text[..claim],
        &text[claim + "event_delivery = \"outbox\"".len()..]
    );
    let guards = "resilience = [\"timeout\", \"retry\", \"circuit-breaker\"]";
    let guards_at = honest[at..].find(guards).expect("orders claims its guards") + at;
    let honest = format!("{}{}", &honest[..guards_at], &honest[guards_at + guards.len()..]);
    std::fs::write(&manifest, honest).unwrap();
    let h = json(&grade(&[
        "phase3",
        honest_dir.to_str().unwrap(),
        "--static-only",
        "--format",
        "json",
    ]));
    let (hs, ds) = (h["score"].as_f64().unwrap(), d["score"].as_f64().unwrap());
    assert!(hs > ds, "honest {hs} must score above dishonest {ds}");
    let _ = std::fs::remove_dir_all(&honest_dir);
}

/// A saga compensation deleted from the code (#17): phase2-reference's orchestrator without
/// its `self.stock.release(...)` call still declares `ReleaseStock`; phase2 needs declared
/// compensations to be found in the code, so EVT009 loses that step and says where it looked.
#[test]
fn a_compensation_deleted_from_the_code_loses_its_credit() {
    let dir = tmp("validity", "phase2-no-release");
    copy_dir(&root().join("fixtures/submissions/phase2-reference"), &dir);
    let saga = dir.join("services/orders/src/application/place_order.py");
    let text = std::fs::read_to_string(&saga).unwrap();
    assert!(text.contains("self.stock.release(reservation_id)"));
    let without: String = text
        .lines()
        .filter(|l| !l.contains("self.stock.release(reservation_id)"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&saga, without).unwrap();
    let reference = json(&grade(&[
        "phase2",
        "fixtures/submissions/phase2-reference",
        "--static-only",
        "--format",
        "json",
    ]));
    let changed = json(&grade(&[
        "phase2",
        dir.to_str().unwrap(),
        "--static-only",
        "--format",
        "json",
    ]));
    assert_eq!(item(&reference, "EVT009")["outcome"], "passed");
    let evt009 = item(&changed, "EVT009");
    assert_eq!(evt009["outcome"], "failed", "{evt009:#}");
    let findings = evt009["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("`ReleaseStock`")),
        "{findings:#?}"
    );
    assert!(changed["score"].as_f64().unwrap() < reference["score"].as_f64().unwrap());
    // Each claim says where it comes from: the reference's is found in the code, the changed
    // one is only declared and earns nothing at phase2.
    let release = |report: &serde_json::Value| {
        item(report, "EVT009")["claims"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["claim"] == "compensation ReleaseStock")
            .cloned()
            .expect("the ReleaseStock claim")
    };
    let before = release(&reference);
    assert_eq!(
        (before["status"].as_str(), before["credited"].as_bool()),
        (Some("confirmed"), Some(true))
    );
    assert!(before["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["source"] == "found"
            && s["file"].as_str().unwrap().ends_with("place_order.py")
            && s["line"].is_u64()));
    let after = release(&changed);
    assert_eq!(
        (after["status"].as_str(), after["credited"].as_bool()),
        (Some("unconfirmed"), Some(false))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
