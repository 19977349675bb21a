//! The report emitters over one shared, hand-built sample report (every outcome: passed,
//! failed, partial, skipped, errored, a failed required gate; findings with and without
//! positions; a graph with a cycle). Each format is snapshotted; SARIF is validated against the
//! SARIF 2.1.0 JSON schema when it is installed; the HTML renders in headless Chromium when
//! that is installed (each test is `#[ignore]`d when build.rs did not find its tool); the
//! grading commands write several formats in one run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use grade::finding::{Finding, Outcome};
use grade::report::{
    github, gradebook, gradescope, html, json, junit, markdown, sarif, text, GraderInfo, Graph, GraphCall, GraphFlow,
    GraphService, ItemReport, Report, RubricInfo, SectionReport, SubmissionInfo,
};
use grade::score::Verdict;

const MANIFEST: &str = "[submission]\ncheckpoint = \"phase1\"\nlearner = \"ada\"\n\n[[context]]\nname = \"ordering\"\n\n[[service]]\nname = \"orders\"\ncontext = \"ordering\"\ncalls = [\"payments\"]\n\n[[service]]\nname = \"payments\"\ncontext = \"billing\"\ncalls = [\"orders\"]\n";

fn finding(
    message: &str,
    file: Option<&str>,
    line: Option<usize>,
    column: Option<usize>,
    help: Option<&str>,
) -> Finding {
    let mut f = Finding::new(message);
    f.file = file.map(str::to_string);
    f.line = line;
    f.column = column;
    f.help = help.map(str::to_string);
    f
}

#[allow(clippy::too_many_arguments)]
fn item(
    check: &'static str,
    name: &'static str,
    section: &str,
    summary: &'static str,
    weight: f64,
    required: bool,
    outcome: Outcome,
    credit: Option<f64>,
) -> ItemReport {
    let counts = outcome != Outcome::Skipped;
    ItemReport {
        check,
        name,
        section: section.into(),
        summary,
        weight,
        required,
        outcome,
        credit,
        points: if counts { weight * credit.unwrap_or(0.0) } else { 0.0 },
        max_points: if counts { weight } else { 0.0 },
        reason: None,
        absent: false,
        evidence: Vec::new(),
        findings: Vec::new(),
        claims: Vec::new(),
    }
}

/// The shared sample: a failed phase-1 grading of learner `ada`.
pub fn sample() -> Report {
    let mut items = Vec::new();
    let mut sub002 = item(
        "SUB002",
        "artifact-missing",
        "submission",
        "A file the manifest names, or one the checkpoint requires, is missing",
        10.0,
        true,
        Outcome::Passed,
        Some(1.0),
    );
    sub002.evidence.push("2 of 2 expected artifacts present".into());
    items.push(sub002);

    let mut arch002 = item(
        "ARCH002",
        "sync-call-cycle",
        "decomposition",
        "Synchronous calls form a cycle (a distributed monolith)",
        20.0,
        true,
        Outcome::Failed,
        Some(0.0),
    );
    arch002.evidence.push("cycle: orders -> payments -> orders".into());
    let mut f = finding(
        "synchronous call cycle: orders -> payments -> orders",
        Some("submission.toml"),
        Some(11),
        Some(10),
        Some("replace one call of the cycle with an event, or merge the capability into one service"),
    );
    f.span = Some((MANIFEST.find("[\"payments\"]").unwrap_or(0), 12));
    arch002.findings.push(f);
    items.push(arch002);

    let mut arch001 = item(
        "ARCH001",
        "bounded-context-count",
        "decomposition",
        "The number of bounded contexts is outside the expected range",
        25.0,
        false,
        Outcome::Failed,
        Some(0.25),
    );
    arch001.evidence.push("2 bounded contexts: ordering, billing".into());
    arch001.findings.push(finding(
        "2 bounded contexts declared; at least 8 expected",
        Some("submission.toml"),
        Some(5),
        Some(1),
        Some("split large contexts along their ubiquitous language"),
    ));
    items.push(arch001);

    let mut oas001 = item(
        "OAS001",
        "openapi-invalid",
        "api",
        "An OpenAPI document does not parse or is not valid OpenAPI 3.0/3.1",
        15.0,
        false,
        Outcome::Failed,
        Some(0.5),
    );
    let mut f = finding(
        "the document does not parse: invalid YAML, with \"quotes\" & <angle> brackets, 100% sure",
        Some("services/pay ments/openapi.yaml"),
        Some(3),
        Some(7),
        Some("quote the whole value: \"a: b\""),
    );
    f.pointer = Some("/paths/~1orders".into());
    oas001.findings.push(f);
    oas001
        .findings
        .push(finding("a finding with no position at all", None, None, None, None));
    items.push(oas001);

    let mut data001 = item(
        "DATA001",
        "shared-datastore",
        "data",
        "A datastore is owned by more than one service",
        10.0,
        false,
        Outcome::Errored,
        Some(0.0),
    );
    data001.reason = Some("internal error in DATA001 (please report it): boom".into());
    items.push(data001);

    let mut arch009 = item(
        "ARCH009",
        "hexagonal-violation",
        "data",
        "No service is built as ports and adapters, or its domain imports adapters or frameworks",
        5.0,
        false,
        Outcome::Skipped,
        None,
    );
    arch009.reason = Some("no service names a `source` folder".into());
    items.push(arch009);

    let sections = vec![
        SectionReport {
            id: "submission".into(),
            title: "Submission".into(),
            points: 10.0,
            max_points: 10.0,
            score: Some(100.0),
        },
        SectionReport {
            id: "decomposition".into(),
            title: "Decomposition & boundaries".into(),
            points: 6.25,
            max_points: 45.0,
            score: Some(13.89),
        },
        SectionReport {
            id: "api".into(),
            title: "API specifications".into(),
            points: 7.5,
            max_points: 15.0,
            score: Some(50.0),
        },
        SectionReport {
            id: "data".into(),
            title: "Data ownership".into(),
            points: 0.0,
            max_points: 10.0,
            score: Some(0.0),
        },
    ];
    let mut sources = BTreeMap::new();
    sources.insert("submission.toml".to_string(), Arc::<str>::from(MANIFEST));
    sources.insert(
        "services/pay ments/openapi.yaml".to_string(),
        Arc::<str>::from("openapi: 3.0.3\ninfo:\n  title: a: b\n  version: 1.0.0\npaths: {}\n"),
    );
    Report {
        schema_version: grade::report::SCHEMA_VERSION,
        grader: GraderInfo {
            name: "grade",
            version: "0.0.0-sample",
        },
        rubric: RubricInfo {
            id: "phase1".into(),
            title: "Phase 1 — Service design & decomposition".into(),
            version: "1.0.0".into(),
            sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            origin: "builtin:phase1".into(),
        },
        checkpoint: Some("phase1".into()),
        submission: SubmissionInfo {
            path: "./cohort/ada".into(),
            ci_path: None,
            learner: Some("ada".into()),
            manifest: true,
            assumptions: Vec::new(),
        },
        score: 29.69,
        threshold: 85.0,
        passed: false,
        verdict: Verdict::Failed,
        complete: false,
        points: 23.75,
        max_points: 80.0,
        scoring_rule: grade::score::RULE,
        static_only: false,
        probe_items_not_run: 0,
        missing: Vec::new(),
        warnings: Vec::new(),
        sections,
        items,
        timing: None,
        sources,
        graph: Graph {
            contexts: vec!["ordering".into(), "billing".into()],
            services: vec![
                GraphService {
                    name: "gateway".into(),
                    context: None,
                    role: "gateway",
                    owns: Vec::new(),
                },
                GraphService {
                    name: "orders".into(),
                    context: Some("ordering".into()),
                    role: "service",
                    owns: vec!["orders-db".into()],
                },
                GraphService {
                    name: "payments".into(),
                    context: Some("billing".into()),
                    role: "service",
                    owns: vec!["payments-db".into()],
                },
                GraphService {
                    name: "notifications".into(),
                    context: Some("billing".into()),
                    role: "service",
                    owns: Vec::new(),
                },
            ],
            calls: vec![
                GraphCall {
                    from: 0,
                    to: 1,
                    in_cycle: false,
                },
                GraphCall {
                    from: 1,
                    to: 2,
                    in_cycle: true,
                },
                GraphCall {
                    from: 2,
                    to: 1,
                    in_cycle: true,
                },
            ],
            flows: vec![GraphFlow {
                from: 2,
                to: 3,
                event: "PaymentAuthorized".into(),
            }],
        },
    }
}

fn out_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reports").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn junit_snapshot() {
    let xml = junit::render(&sample());
    assert!(xml.contains("<failure"), "{xml}");
    assert!(xml.contains("<error"), "errored is an <error>: {xml}");
    assert!(xml.contains("<skipped"), "{xml}");
    assert!(xml.contains(r#"<property name="weight" value="20"/>"#), "{xml}");
    insta::assert_snapshot!("junit", xml);
}

/// SARIF with each rule's help replaced by a marker (the docs belong to the checks and change
/// with them); the help is asserted to be the registry's docs.
fn sarif_for_snapshot(s: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
    for rule in v["runs"][0]["tool"]["driver"]["rules"].as_array_mut().unwrap() {
        let id = rule["id"].as_str().unwrap().to_string();
        let docs = grade::checks::find(&id).unwrap().info().docs.trim();
        assert_eq!(rule["help"]["markdown"], docs, "{id}: help is the check's docs");
        assert_eq!(rule["help"]["text"], docs);
        rule["help"] = serde_json::json!({ "text": format!("<docs of {id}>"), "markdown": format!("<docs of {id}>") });
    }
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn sarif_snapshot() {
    let s = sarif::render(&sample());
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let run = &v["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "grade/phase1/");
    let results = run["results"].as_array().unwrap();
    let located = results
        .iter()
        .find(|r| r["ruleId"] == "ARCH002")
        .expect("ARCH002 result");
    assert_eq!(located["level"], "error");
    let loc = &located["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "cohort/ada/submission.toml");
    assert_eq!(loc["region"]["startLine"], 11);
    assert_eq!(loc["region"]["startColumn"], 10);
    assert!(located["partialFingerprints"][sarif::FINGERPRINT].as_str().is_some());
    let oas = results.iter().find(|r| r["ruleId"] == "OAS001").unwrap();
    assert_eq!(oas["level"], "warning", "partial credit is a warning");
    assert_eq!(
        oas["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "cohort/ada/services/pay%20ments/openapi.yaml"
    );
    assert_eq!(
        run["invocations"][0]["toolExecutionNotifications"][0]["descriptor"]["id"],
        "DATA001"
    );
    insta::assert_snapshot!("sarif", sarif_for_snapshot(&s));
}

/// Where the SARIF 2.1.0 schema is installed by `npm install -g @microsoft/jest-sarif` (or
/// named by GRADE_SARIF_SCHEMA).
fn sarif_schema() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GRADE_SARIF_SCHEMA") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let rel = "@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json";
    let mut roots: Vec<PathBuf> = vec![
        PathBuf::from("/usr/lib/node_modules"),
        PathBuf::from("/usr/local/lib/node_modules"),
    ];
    if let Ok(o) = Command::new("npm").args(["root", "-g"]).output() {
        let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if !s.is_empty() {
            roots.insert(0, PathBuf::from(s));
        }
    }
    roots.into_iter().map(|r| r.join(rel)).find(|p| p.is_file())
}

fn fix_language_patterns(v: &mut serde_json::Value) {
    const BAD: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "pattern" && x.as_str() == Some(BAD) {
                    *x = serde_json::json!("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$");
                } else {
                    fix_language_patterns(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(fix_language_patterns),
        _ => {}
    }
}

fn validate_sarif(schema: &serde_json::Value, doc: &str, what: &str) {
    let instance: serde_json::Value = serde_json::from_str(doc).unwrap();
    let validator = jsonschema::draft4::new(schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: SARIF does not validate:\n{}",
        errors.join("\n")
    );
}

/// Ignored (counted as such by `cargo test`) when build.rs found no schema; build.rs notices
/// an install and the test runs on the next `cargo test`.
#[test]
#[cfg_attr(
    grade_no_sarif_schema,
    ignore = "needs the SARIF 2.1.0 schema: npm install -g --ignore-scripts @microsoft/jest-sarif@1.0.0-beta.0 \
              (or set GRADE_SARIF_SCHEMA)"
)]
fn sarif_validates_against_the_schema() {
    let path = sarif_schema().expect(
        "the SARIF 2.1.0 schema is not installed: npm install -g --ignore-scripts \
         @microsoft/jest-sarif@1.0.0-beta.0 (or set GRADE_SARIF_SCHEMA)",
    );
    let mut schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // The published schema's `language` patterns end in an unescaped `]`, which ECMA-262 reads
    // as a literal and Rust's regex engine rejects: escape it (in memory only).
    fix_language_patterns(&mut schema);
    println!("validating against {}", path.display());
    validate_sarif(&schema, &sarif::render(&sample()), "sample");
    validate_sarif(
        &schema,
        &sarif::render(&sample_with_failed_gates()),
        "sample with failed gates",
    );
    // And real gradings: a flawed and a reference submission.
    for (cp, sub) in [
        ("phase1", "phase1-flawed"),
        ("capstone", "capstone-flawed"),
        ("phase2", "phase2-reference"),
    ] {
        let dir = out_dir(&format!("sarif-{sub}"));
        let file = dir.join("r.sarif");
        let o = grade_cmd(&[
            cp,
            &format!("fixtures/submissions/{sub}"),
            "--static-only",
            "--quiet",
            "--sarif",
            file.to_str().unwrap(),
        ]);
        // 3: the phase2 reference graded static-only is incomplete (probe items not run).
        assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{sub}");
        validate_sarif(&schema, &std::fs::read_to_string(&file).unwrap(), sub);
    }
    // The validator does reject a broken log.
    let v = jsonschema::draft4::new(&schema).unwrap();
    assert!(!v.is_valid(&serde_json::json!({ "version": "2.1.0", "runs": [{ "results": [] }] })));
}

#[test]
fn github_snapshot() {
    let s = github::render(&sample());
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].starts_with("::error title=grade phase1%3A failed::"), "{s}");
    // Required before heavier: ARCH002 (required, 20) before ARCH001 (25, a warning anyway).
    assert!(lines[1].starts_with("::error file=cohort/ada/submission.toml,line=11,col=10,title=ARCH002"));
    assert!(s.contains("::warning file=cohort/ada/submission.toml,line=5,col=1,title=ARCH001"));
    assert!(s.contains("100%25 sure"), "message data is escaped: {s}");
    assert!(!s.contains("ARCH009"), "skipped items are not annotated");
    insta::assert_snapshot!("github", s);
}

#[test]
fn github_caps_each_level_at_ten() {
    let mut r = sample();
    let many: Vec<Finding> = (1..=25)
        .map(|i| finding(&format!("problem {i}"), Some("submission.toml"), Some(i), Some(1), None))
        .collect();
    r.items[1].findings = many;
    let s = github::render(&r);
    let errors = s.lines().filter(|l| l.starts_with("::error")).count();
    assert_eq!(errors, github::PER_LEVEL, "{s}");
    assert!(s.contains("more errors"), "{s}");
    assert!(
        s.lines().next().unwrap().contains("phase1 failed"),
        "the verdict stays first"
    );
}

/// A required item fails the checkpoint whatever its credit: SARIF, the GitHub annotations and
/// the Markdown summary report it as an error, never as a warning.
/// The sample with two more failed required items: ARCH001 with partial credit, DATA001
/// errored.
fn sample_with_failed_gates() -> Report {
    let mut r = sample();
    for i in &mut r.items {
        if i.check == "ARCH001" || i.check == "DATA001" {
            i.required = true;
        }
    }
    r
}

#[test]
fn failed_required_items_are_errors_in_every_ci_format() {
    let r = sample_with_failed_gates();
    let gates = ["ARCH002", "ARCH001", "DATA001"];

    let v: serde_json::Value = serde_json::from_str(&sarif::render(&r)).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    for id in gates {
        let of: Vec<_> = results.iter().filter(|x| x["ruleId"] == id).collect();
        assert!(!of.is_empty(), "{id}: a SARIF result");
        assert!(of.iter().all(|x| x["level"] == "error"), "{id}: {of:?}");
    }
    let oas = results.iter().find(|x| x["ruleId"] == "OAS001").unwrap();
    assert_eq!(
        oas["level"], "warning",
        "an optional item with partial credit stays a warning"
    );

    let gh = github::render(&r);
    assert!(gh.lines().next().unwrap().starts_with("::error "), "{gh}");
    for id in gates {
        let of: Vec<&str> = gh.lines().filter(|l| l.contains(&format!("title={id} "))).collect();
        assert!(!of.is_empty(), "{id}: an annotation\n{gh}");
        assert!(of.iter().all(|l| l.starts_with("::error ")), "{id}:\n{gh}");
    }
    assert!(
        gh.contains("::warning file=cohort/ada/services/pay ments/openapi.yaml"),
        "{gh}"
    );

    let md = markdown::render(&r);
    for id in gates {
        assert!(md.contains(&format!("| ❌ | `{id}`")), "{id}:\n{md}");
    }
    assert!(md.contains("| 🟡 | `OAS001`"), "{md}");
    assert!(
        md.contains("❌ **Required item failed:** `ARCH002` sync-call-cycle, `ARCH001`"),
        "{md}"
    );

    // The other human formats agree: no partial-credit styling for a failed gate.
    let page = html::render(&r);
    assert!(page.contains("bounded-context-count<span class=\"req gate\">"), "html");
    assert!(!page.contains("◐ partial</td><td class=\"num\">6.25/25"), "html");
}

/// Several items reporting the same cause at the same place (the missing event catalog that
/// each EVT item reports) give one annotation that names every check, at the most severe
/// level; failed required items come first within a level.
#[test]
fn one_cause_gives_one_annotation_naming_every_check() {
    let mut r = sample();
    let missing = "the event catalog `events/asyncapi.yaml` does not exist";
    let fix = "create the AsyncAPI document at that path";
    let mut add = |check, name, required, credit: f64, message: String| {
        let mut i = item(
            check,
            name,
            "events",
            "summary",
            5.0,
            required,
            Outcome::Failed,
            Some(credit),
        );
        i.findings
            .push(finding(&message, Some("submission.toml"), Some(9), Some(12), Some(fix)));
        r.items.push(i);
    };
    add("EVT002", "message-without-payload", false, 0.5, missing.to_string());
    add("EVT005", "ordering-key-missing", false, 0.0, missing.to_string());
    add("EVT001", "asyncapi-invalid", true, 0.0, missing.to_string());
    add(
        "EVT006",
        "dedup-key-missing",
        false,
        0.0,
        format!("{missing}, so de-duplication keys cannot be checked"),
    );
    let s = github::render(&r);
    let of: Vec<&str> = s.lines().filter(|l| l.contains("events/asyncapi.yaml")).collect();
    assert_eq!(of.len(), 1, "one annotation:\n{s}");
    let a = of[0];
    assert!(
        a.starts_with("::error file=cohort/ada/submission.toml,line=9,col=12,"),
        "{a}"
    );
    assert!(
        a.contains("title=EVT001 asyncapi-invalid (0/5 points%2C required) and EVT002%2C EVT005%2C EVT006::"),
        "the required item first, then the others: {a}"
    );
    assert_eq!(a.matches("Fix: create the AsyncAPI").count(), 1, "{a}");
    assert!(a.contains("EVT001, EVT002, EVT005: the event catalog"), "{a}");
    assert!(a.contains("%0AEVT006: the event catalog"), "{a}");
    // Errors: the verdict, the two required items' annotations, then the rest.
    let errors: Vec<&str> = s.lines().filter(|l| l.starts_with("::error")).collect();
    assert!(
        errors[1].contains("title=ARCH002") || errors[1].contains("title=EVT001"),
        "{s}"
    );
    assert!(
        errors[2].contains("title=ARCH002") || errors[2].contains("title=EVT001"),
        "{s}"
    );
    // Another place is another annotation.
    r.items.last_mut().unwrap().findings[0].column = Some(13);
    let s = github::render(&r);
    assert_eq!(
        s.lines().filter(|l| l.contains("events/asyncapi.yaml")).count(),
        2,
        "{s}"
    );
}

/// The paths of annotations and SARIF results are relative to the repository root once the
/// command layer knows where the submission lies in it; the other formats keep the folder as
/// given.
#[test]
fn ci_paths_use_the_folder_relative_to_the_repository() {
    let mut r = sample();
    r.submission.path = "/home/runner/work/repo/repo/cohort/ada".into();
    r.submission.ci_path = Some("cohort/ada".into());
    assert_eq!(r.path_of("submission.toml"), "cohort/ada/submission.toml");
    let gh = github::render(&r);
    assert!(gh.contains("file=cohort/ada/submission.toml,line=11"), "{gh}");
    assert!(!gh.contains("file=/"), "{gh}");
    let v: serde_json::Value = serde_json::from_str(&sarif::render(&r)).unwrap();
    let uri = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "cohort/ada/submission.toml");
    let j: serde_json::Value = serde_json::from_str(&json::render(&r)).unwrap();
    assert_eq!(j["submission"]["path"], "/home/runner/work/repo/repo/cohort/ada");
    // The repository root itself.
    r.submission.ci_path = Some(String::new());
    assert_eq!(r.path_of("submission.toml"), "submission.toml");
}

/// `grade` given an absolute submission folder (as CI scripts often do) annotates paths
/// relative to `$GITHUB_WORKSPACE`, or to the working directory without it.
#[test]
fn absolute_submission_folders_annotate_repository_relative_paths() {
    let abs = root().join("fixtures/submissions/phase1-flawed");
    let sarif_file = out_dir("abs-paths").join("r.sarif");
    let run = |workspace: Option<&Path>, cwd: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_grade"));
        c.args([
            "phase1",
            abs.to_str().unwrap(),
            "--static-only",
            "--github",
            "--quiet",
            "--sarif",
            sarif_file.to_str().unwrap(),
        ])
        .current_dir(cwd)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_WORKSPACE");
        if let Some(w) = workspace {
            c.env("GITHUB_WORKSPACE", w);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(1));
        let sarif = std::fs::read_to_string(&sarif_file).unwrap();
        (String::from_utf8_lossy(&o.stdout).into_owned(), sarif)
    };
    // A folder that holds neither the repository nor any folder of it (the repository itself
    // may sit under the temporary folder, as a CI clone can).
    let elsewhere = std::env::temp_dir().join(format!("grade-elsewhere-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).unwrap();
    for (workspace, cwd) in [(Some(root()), elsewhere.as_path()), (None, root())] {
        let (gh, sarif) = run(workspace, cwd);
        assert!(gh.contains("file=fixtures/submissions/phase1-flawed/"), "{gh}");
        assert!(!gh.contains("file=/"), "{gh}");
        assert!(
            sarif.contains("\"uri\": \"fixtures/submissions/phase1-flawed/"),
            "{sarif}"
        );
        assert!(!sarif.contains("file://"), "{sarif}");
    }
    // Neither: the absolute path is all there is.
    let (gh, _) = run(None, &elsewhere);
    assert!(gh.contains(&format!("file={}/", abs.display())), "{gh}");
    let _ = std::fs::remove_dir_all(&elsewhere);
}

#[test]
fn gradescope_snapshot() {
    let s = gradescope::render(&sample());
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["score"], 29.69);
    assert_eq!(v["max_score"], 100.0);
    assert!(v.get("execution_time").is_none(), "only with timings");
    let tests = v["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 6);
    for t in tests {
        for key in [
            "name",
            "score",
            "max_score",
            "output",
            "output_format",
            "visibility",
            "tags",
        ] {
            assert!(t.get(key).is_some(), "{key} missing in {t}");
        }
    }
    assert_eq!(tests[1]["status"], "failed");
    assert!(tests[5].get("status").is_none(), "skipped has no status");
    insta::assert_snapshot!("gradescope", s);
}

#[test]
fn gradebook_csv_snapshot() {
    let s = gradebook::render(&sample());
    let mut rdr = csv::Reader::from_reader(s.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(&header[..3], ["learner", "score", "passed"]);
    assert!(header.contains(&"points:decomposition".to_string()));
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], "ada");
    assert_eq!(&rows[0][1], "29.69");
    insta::assert_snapshot!("gradebook-csv", s);
}

#[test]
fn html_snapshot() {
    let s = html::render(&sample());
    for bad in [
        "<script",
        "http://",
        "https://",
        "<link rel=\"stylesheet\"",
        "@import",
        "url(http",
    ] {
        assert!(!s.contains(bad), "self-contained: found `{bad}`");
    }
    assert!(s.contains("<svg"), "the service graph is drawn");
    assert!(s.contains("href=\"#src-1-L11\""), "a finding links to its place");
    assert!(s.contains("id=\"src-1-L11\""), "…which exists");
    assert!(s.contains("&quot;quotes&quot; &amp; &lt;angle&gt;"), "text is escaped");
    insta::assert_snapshot!("html", s);
}

#[test]
fn html_layout_layers_follow_calls() {
    let r = sample();
    let place = html::layout(&r.graph);
    assert_eq!(place[0].0, 0, "the gateway is on top");
    assert!(place[1].0 > place[0].0, "orders below the gateway");
    assert!(place[3].0 > place[2].0, "the consumer below the publisher");
}

#[test]
fn existing_formats_of_the_sample() {
    let r = sample();
    insta::assert_snapshot!("markdown", markdown::render(&r));
    insta::assert_snapshot!("text", text::render(&r, &text::TextOptions { color: false }));
    let j: serde_json::Value = serde_json::from_str(&json::render(&r)).unwrap();
    assert!(j.get("graph").is_none(), "the graph is not part of the JSON report");
    assert!(j.get("sources").is_none());
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

/// Ignored (counted as such by `cargo test`) when build.rs found no Chromium on PATH; build.rs
/// notices an install and the test runs on the next `cargo test`.
#[test]
#[cfg_attr(
    grade_no_chromium,
    ignore = "needs Chromium on PATH: apt-get update && apt-get install -y chromium"
)]
fn html_renders_in_headless_chromium() {
    let browser = chromium().expect("no working chromium on PATH: apt-get update && apt-get install -y chromium");
    let dir = out_dir("html-chromium");
    let page = dir.join("sample.html");
    std::fs::write(&page, html::render(&sample())).unwrap();
    let shot = dir.join("sample.png");
    let url = format!("file://{}", page.display());
    let profile = dir.join("profile");
    let base = |extra: &[&str]| {
        let mut c = Command::new(browser);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra);
        c
    };
    // Screenshot.
    let o = base(&["--window-size=1100,1600"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert!(png.len() > 10_000 && png.starts_with(b"\x89PNG"), "a real screenshot");
    // Console: page errors and messages of the page show up as CONSOLE lines with logging on.
    let o = base(&[
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=2000",
        "--dump-dom",
    ])
    .arg(&url)
    .output()
    .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(
        dom.contains("Service graph") && dom.contains("<svg"),
        "the page rendered"
    );
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("net::ERR"))
        .collect();
    assert!(console.is_empty(), "console errors:\n{}", console.join("\n"));
    println!("screenshot: {}", shot.display());
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn grade_cmd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(args)
        .current_dir(root())
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run grade")
}

#[test]
fn report_dir_and_file_options_write_every_format() {
    let dir = out_dir("report-dir");
    let files = dir.join("files");
    let arg = |n: &str| files.join(n).to_str().unwrap().to_string();
    let o = grade_cmd(&[
        "phase1",
        "fixtures/submissions/phase1-flawed",
        "--static-only",
        "--color",
        "never",
        "--report-dir",
        dir.join("all").to_str().unwrap(),
        "--junit",
        &arg("j.xml"),
        "--sarif",
        &arg("s.sarif"),
        "--gradescope",
        &arg("results.json"),
        "--html",
        &arg("r.html"),
        "--csv",
        &arg("row.csv"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("FAILED"),
        "text still on stdout"
    );
    for (name, _) in grade::commands::grade::REPORT_DIR_FILES {
        let p = dir.join("all").join(name);
        assert!(p.is_file() && std::fs::metadata(&p).unwrap().len() > 0, "{name}");
    }
    for n in ["j.xml", "s.sarif", "results.json", "r.html", "row.csv"] {
        assert!(files.join(n).is_file(), "{n}");
    }
    assert_eq!(
        std::fs::read(dir.join("all/report.sarif")).unwrap(),
        std::fs::read(files.join("s.sarif")).unwrap()
    );
}

#[test]
fn github_flag_prints_annotations_after_the_report_and_appends_the_summary() {
    let dir = out_dir("github-flag");
    let summary = dir.join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args([
            "phase1",
            "fixtures/submissions/phase1-flawed",
            "--static-only",
            "--color",
            "never",
            "--github",
        ])
        .current_dir(root())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    let report_end = out.find("FAILED").expect("the text report");
    let first_annotation = out.find("::error ").expect("annotations");
    assert!(first_annotation > report_end, "annotations come after the report");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("earlier step\n## ❌ phase1: failed"), "appended: {md}");

    // --quiet: only the annotations.
    let q = grade_cmd(&[
        "phase1",
        "fixtures/submissions/phase1-flawed",
        "--static-only",
        "--github",
        "--quiet",
    ]);
    let out = String::from_utf8_lossy(&q.stdout);
    assert!(out.lines().all(|l| l.starts_with("::")), "{out}");
    // JSON on stdout cannot be followed by annotations.
    let j = grade_cmd(&[
        "phase1",
        "fixtures/submissions/phase1-flawed",
        "--github",
        "--format",
        "json",
        "--color",
        "never",
    ]);
    assert_eq!(j.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&j.stderr).contains("--json FILE"));
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = grade_cmd(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(s.contains("batch") && s.contains("report-dir"), "{shell}");
    }
    let o = grade_cmd(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.starts_with(".ie") || s.contains(".TH grade"),
        "roff: {}",
        &s[..s.len().min(200)]
    );
    assert!(s.contains("batch"));
    let dir = out_dir("man");
    let o = grade_cmd(&["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(dir.join("grade.1").is_file());
    assert!(dir.join("grade-batch.1").is_file());
}
