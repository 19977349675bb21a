//! grade's conformance probes measured against other people's tools, offline.
//!
//! 1. Schemathesis: `fixtures/third-party/bookshelf` is a small server in Python (standard
//!    library) with planted flaws (its README.md lists them). Schemathesis was run on it once,
//!    in its flawed and its well-behaved mode, and its JSON run reports are committed beside it
//!    (`schemathesis/*.json`, with the version and command line inside; regenerate them with
//!    `benches/conformance-vs-schemathesis.sh --update`). These tests run `grade` on the same
//!    server, map every finding of both tools to a failure class per operation, print the
//!    comparison table, and assert that grade reports every (operation, class) Schemathesis
//!    reports, except the entries of [`NOT_YET`], and nothing Schemathesis does not (no false
//!    positives, and nothing at all on the well-behaved mode). Schemathesis need not be
//!    installed: `GRADE_SCHEMATHESIS_REPORTS=DIR` compares with the reports of a fresh run in
//!    DIR instead (the bench script does that).
//! 2. Prism: `fixtures/third-party/prism-link-example` serves the OpenAPI Initiative's link
//!    example with `prism mock`; PRB002 and PRB003 must find nothing there, and PRB002 must
//!    follow the document's links (a third-party server answering them). Needs `prism` on PATH
//!    (`npm install -g @stoplight/prism-cli@5.16.0`): build.rs marks the test ignored without
//!    it, and `GRADE_REQUIRE_TEST_TOOLS=1` (set by .ci/run) makes it run anyway.
//!
//! Every run starts its services through grade (127.0.0.1, a free port in `PORT` or `{port}`) and checks
//! afterwards that no process is left whose working folder is the graded copy.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_json::Value;

/// (operation, class) pairs Schemathesis reports on the flawed bookshelf that grade does not
/// report yet, each with what grade lacks. The test fails when an entry is no longer needed
/// (grade reports it, or Schemathesis no longer does): remove it then.
const NOT_YET: &[(&str, &str, &str)] = &[];

/// (operation, class) pairs grade reports on the flawed bookshelf that Schemathesis does not,
/// each with why the finding is genuine. Empty: anything else grade alone reports is a false
/// positive until shown otherwise.
const GRADE_ONLY: &[(&str, &str, &str)] = &[];

// Failure classes, tool-neutral.
const SERVER_ERROR: &str = "server error";
const UNDOCUMENTED_STATUS: &str = "undocumented status";
const WRONG_CONTENT_TYPE: &str = "wrong content type";
const MISSING_HEADER: &str = "missing required header";
const RESPONSE_SCHEMA: &str = "response schema violation";
const NEGATIVE_DATA_ACCEPTED: &str = "negative data accepted";
const POSITIVE_DATA_REJECTED: &str = "valid data rejected";
const MISSING_REQUEST_HEADER_ACCEPTED: &str = "missing request header accepted";
const UNDECLARED_METHOD: &str = "undeclared method mishandled";
const SLOW_RESPONSE: &str = "slow response";
const RESOURCE_LIFECYCLE: &str = "resource lifecycle";
const AUTH: &str = "authentication not enforced";
const NO_ANSWER: &str = "no answer";
const UNUSABLE_SCHEMA: &str = "unusable response schema";

/// The class of a Schemathesis failure code (`st explain --list`, Schemathesis 4.x).
fn schemathesis_class(code: &str) -> &'static str {
    match code {
        "ST101" | "ST102" => SERVER_ERROR,
        "ST103" => UNDOCUMENTED_STATUS,
        "ST104" | "ST105" | "ST106" => WRONG_CONTENT_TYPE,
        "ST107" => MISSING_HEADER,
        "ST108" | "ST109" | "ST110" | "ST111" => RESPONSE_SCHEMA,
        "ST112" => SLOW_RESPONSE,
        "ST201" => NEGATIVE_DATA_ACCEPTED,
        "ST202" => POSITIVE_DATA_REJECTED,
        "ST203" => MISSING_REQUEST_HEADER_ACCEPTED,
        "ST204" | "ST205" => UNDECLARED_METHOD,
        "ST301" | "ST302" => RESOURCE_LIFECYCLE,
        "ST401" | "ST402" => AUTH,
        other => panic!("Schemathesis failure code {other} has no class here: add it to schemathesis_class"),
    }
}

/// The class of a Schemathesis check, by the name grade's PRB002 and PRB003 put in backticks
/// after each reason, as "(`not_a_server_error`)".
fn check_class(check: &str) -> Option<&'static str> {
    Some(match check {
        "not_a_server_error" => SERVER_ERROR,
        "status_code_conformance" => UNDOCUMENTED_STATUS,
        "content_type_conformance" => WRONG_CONTENT_TYPE,
        "response_headers_conformance" => MISSING_HEADER,
        "response_schema_conformance" => RESPONSE_SCHEMA,
        "negative_data_rejection" => NEGATIVE_DATA_ACCEPTED,
        "positive_data_acceptance" => POSITIVE_DATA_REJECTED,
        "missing_required_header" => MISSING_REQUEST_HEADER_ACCEPTED,
        "unsupported_method" | "allow_header_conformance" => UNDECLARED_METHOD,
        "use_after_free" | "ensure_resource_availability" => RESOURCE_LIFECYCLE,
        "ignored_auth" | "object_level_authorization" => AUTH,
        "max_response_time" => SLOW_RESPONSE,
        _ => return None,
    })
}

/// The classes of a grade finding: the Schemathesis checks it names, and the reasons that name
/// none (no Schemathesis check corresponds to them), recognised by their wording.
fn grade_classes(message: &str) -> BTreeSet<&'static str> {
    let tag = Regex::new(r"\(`([a-z_]+)`\)").unwrap();
    let mut out: BTreeSet<&'static str> = tag
        .captures_iter(message)
        .map(|c| check_class(&c[1]).unwrap_or_else(|| panic!("grade names an unknown check `{}`: {message}", &c[1])))
        .collect();
    for (wording, class) in [
        (r"got no answer", NO_ANSWER),
        (r"the body is empty, but response", RESPONSE_SCHEMA),
        (r"response schema cannot be used", UNUSABLE_SCHEMA),
    ] {
        if Regex::new(wording).unwrap().is_match(message) {
            out.insert(class);
        }
    }
    out
}

/// The operation a finding is about: the label grade writes in parentheses, `(GET /books)`.
fn operation_of(message: &str) -> String {
    let label = Regex::new(r"\((GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|TRACE) (/[^)\s]*)\)").unwrap();
    let c = label
        .captures(message)
        .unwrap_or_else(|| panic!("no operation named in the finding: {message}"));
    format!("{} {}", &c[1], &c[2])
}

/// (operation, class) -> what reported it (Schemathesis codes or grade checks).
type Found = BTreeMap<(String, &'static str), BTreeSet<String>>;

/// Where the Schemathesis reports are read from.
fn reports_dir() -> PathBuf {
    match std::env::var_os("GRADE_SCHEMATHESIS_REPORTS").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => bookshelf().join("schemathesis"),
    }
}

fn bookshelf() -> PathBuf {
    common::root().join("fixtures/third-party/bookshelf")
}

/// Schemathesis's failures on `mode` from its JSON run report, and the report's version and
/// command line.
fn schemathesis(mode: &str) -> (Found, String) {
    let path = reports_dir().join(format!("{mode}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        report["complete"],
        true,
        "{}: the Schemathesis run did not complete",
        path.display()
    );
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "{}: the Schemathesis run had errors (not failures): {:#}",
        path.display(),
        report["errors"]
    );
    let mut found = Found::new();
    for f in report["failures"].as_array().unwrap() {
        let code = f["code"].as_str().unwrap();
        for op in f["operations"].as_array().unwrap() {
            found
                .entry((op.as_str().unwrap().to_string(), schemathesis_class(code)))
                .or_default()
                .insert(code.to_string());
        }
    }
    let about = format!(
        "Schemathesis {} (`{}`)",
        report["schemathesis_version"].as_str().unwrap_or("?"),
        report["command"].as_str().unwrap_or("?")
    );
    (found, about)
}

/// A rubric with the conformance probes at their defaults (as the built-in rubrics have them).
fn rubric(dir: &Path) -> PathBuf {
    let path = dir.join("rubric.toml");
    std::fs::write(
        &path,
        r#"[rubric]
id = "third-party"
title = "Conformance probes on a third-party server"
version = "1.0.0"
threshold = 100

[[section]]
id = "live"
title = "Live"

[[section.item]]
check = "PRB001"
weight = 1
required = true

[[section.item]]
check = "PRB002"
weight = 1

[[section.item]]
check = "PRB003"
weight = 1
"#,
    )
    .unwrap();
    path
}

/// Pids of the processes whose working folder is inside `dir`.
fn processes_in(dir: &Path) -> Vec<u32> {
    let dir = dir.canonicalize().unwrap();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(&dir)) {
            out.push(pid);
        }
    }
    out
}

/// Copies `fixture` to a fresh folder, lets `edit` change its manifest, grades it with the
/// rubric above and returns the JSON report and the exit code. Panics when the service did not
/// start (PRB001) or a process is left behind.
fn grade_copy(fixture: &Path, name: &str, edit: impl FnOnce(String) -> String) -> (Value, Option<i32>) {
    let work = common::tmp("third-party", name);
    let sub = work.join("submission");
    common::copy_dir(fixture, &sub);
    let manifest = sub.join("submission.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, edit(text)).unwrap();
    let rubric = rubric(&work);
    let out = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["run", "--rubric"])
        .arg(&rubric)
        .arg(&sub)
        .args(["--format", "json", "--color", "never"])
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run grade");
    let stderr = common::stderr(&out);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: no JSON report ({e}); stderr:\n{stderr}"));
    assert_eq!(
        common::item(&report, "PRB001")["outcome"],
        "passed",
        "{name}: the service did not start:\n{:#}\nstderr:\n{stderr}",
        common::item(&report, "PRB001")
    );
    let left = processes_in(&sub);
    assert!(left.is_empty(), "{name}: processes left behind: {left:?}");
    (report, out.status.code())
}

/// grade's PRB002 and PRB003 findings by (operation, class).
fn grade_found(report: &Value) -> Found {
    let mut found = Found::new();
    for check in ["PRB002", "PRB003"] {
        let item = common::item(report, check);
        for f in item["findings"].as_array().unwrap() {
            let message = f["message"].as_str().unwrap();
            let op = operation_of(message);
            let classes = grade_classes(message);
            assert!(
                !classes.is_empty(),
                "a {check} finding matches no failure class (update grade_classes): {message}"
            );
            for class in classes {
                found.entry((op.clone(), class)).or_default().insert(check.to_string());
            }
        }
    }
    found
}

/// Prints the table of both tools per operation and class, and returns what Schemathesis found
/// that grade did not and is not in NOT_YET, and what grade found that Schemathesis did not and
/// is not in GRADE_ONLY.
fn compare(title: &str, st: &Found, grade: &Found) -> (Vec<String>, Vec<String>) {
    let keys: BTreeSet<&(String, &str)> = st.keys().chain(grade.keys()).collect();
    let cell = |m: &Found, k: &(String, &str)| {
        m.get(k)
            .map(|s| s.iter().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_else(|| "-".into())
    };
    let listed = |list: &[(&str, &str, &str)], k: &(String, &str)| list.iter().any(|(o, c, _)| *o == k.0 && *c == k.1);
    println!("\n{title}");
    println!(
        "| {:<30} | {:<26} | {:<13} | {:<14} | {:<8} |",
        "operation", "class", "Schemathesis", "grade", "verdict"
    );
    println!(
        "|{}|{}|{}|{}|{}|",
        "-".repeat(32),
        "-".repeat(28),
        "-".repeat(15),
        "-".repeat(16),
        "-".repeat(10)
    );
    let (mut missed, mut extra) = (Vec::new(), Vec::new());
    for k in &keys {
        let verdict = match (st.contains_key(*k), grade.contains_key(*k)) {
            (true, true) => "both",
            (true, false) if listed(NOT_YET, k) => "NOT_YET",
            (true, false) => {
                missed.push(format!("{} / {}", k.0, k.1));
                "MISSED"
            }
            (false, true) if listed(GRADE_ONLY, k) => "grade only",
            (false, true) => {
                extra.push(format!("{} / {}", k.0, k.1));
                "EXTRA"
            }
            (false, false) => unreachable!(),
        };
        println!(
            "| {:<30} | {:<26} | {:<13} | {:<14} | {:<8} |",
            k.0,
            k.1,
            cell(st, k),
            cell(grade, k),
            verdict
        );
    }
    let both = keys
        .iter()
        .filter(|k| st.contains_key(**k) && grade.contains_key(**k))
        .count();
    println!(
        "grade reports {both} of the {} (operation, class) pairs Schemathesis reports; {} more are NOT_YET; {} \
         reported by grade alone",
        st.len(),
        keys.iter()
            .filter(|k| st.contains_key(**k) && !grade.contains_key(**k) && listed(NOT_YET, k))
            .count(),
        keys.iter().filter(|k| !st.contains_key(**k)).count()
    );
    (missed, extra)
}

fn with_mode(mode: &'static str) -> impl FnOnce(String) -> String {
    move |manifest| {
        let from = "BOOKSHELF_MODE = \"flawed\"";
        assert!(manifest.contains(from), "submission.toml no longer sets {from}");
        manifest.replace(from, &format!("BOOKSHELF_MODE = \"{mode}\""))
    }
}

#[test]
fn schemathesis_findings_on_the_flawed_bookshelf_are_found_by_grade() {
    let (st, about) = schemathesis("flawed");
    assert!(!st.is_empty(), "Schemathesis found nothing on the flawed bookshelf");
    let (report, code) = grade_copy(&bookshelf(), "bookshelf-flawed", with_mode("flawed"));
    let grade = grade_found(&report);
    let (missed, extra) = compare(
        &format!("bookshelf (flawed): {about} vs grade PRB002 + PRB003 (default parameters)"),
        &st,
        &grade,
    );
    println!("\nNOT_YET:");
    for (op, class, why) in NOT_YET {
        println!("- {op} / {class}: {why}");
    }
    assert!(
        missed.is_empty(),
        "grade misses what Schemathesis reports (and NOT_YET does not list): {missed:?}"
    );
    assert!(
        extra.is_empty(),
        "grade reports what Schemathesis does not (a false positive, or a genuine finding to list in GRADE_ONLY \
         with why): {extra:?}"
    );
    // NOT_YET stays honest: every entry is a pair Schemathesis reports and grade does not.
    let stale: Vec<String> = NOT_YET
        .iter()
        .filter(|(o, c, _)| {
            let k = (o.to_string(), *c);
            !st.contains_key(&k) || grade.contains_key(&k)
        })
        .map(|(o, c, _)| format!("{o} / {c}"))
        .collect();
    assert!(
        stale.is_empty(),
        "NOT_YET entries no longer needed, remove them: {stale:?}"
    );
    let stale: Vec<String> = GRADE_ONLY
        .iter()
        .filter(|(o, c, _)| {
            let k = (o.to_string(), *c);
            st.contains_key(&k) || !grade.contains_key(&k)
        })
        .map(|(o, c, _)| format!("{o} / {c}"))
        .collect();
    assert!(
        stale.is_empty(),
        "GRADE_ONLY entries no longer needed, remove them: {stale:?}"
    );
    assert_eq!(code, Some(1), "the flawed bookshelf fails the rubric");
}

#[test]
fn schemathesis_and_grade_find_nothing_on_the_well_behaved_bookshelf() {
    let (st, about) = schemathesis("well-behaved");
    let (report, code) = grade_copy(&bookshelf(), "bookshelf-well-behaved", with_mode("well-behaved"));
    let grade = grade_found(&report);
    compare(
        &format!("bookshelf (well-behaved): {about} vs grade PRB002 + PRB003 (default parameters)"),
        &st,
        &grade,
    );
    assert!(
        st.is_empty(),
        "Schemathesis reports failures on the well-behaved bookshelf: {st:?}"
    );
    for check in ["PRB002", "PRB003"] {
        let item = common::item(&report, check);
        assert_eq!(
            item["outcome"], "passed",
            "{check} on the well-behaved bookshelf: {item:#}"
        );
        assert_eq!(item["findings"].as_array().map(Vec::len), Some(0), "{item:#}");
    }
    assert_eq!(code, Some(0), "{report:#}");
}

/// The Prism mock answers from the document itself, so every PRB002 and PRB003 finding against
/// it is either a false positive of grade or a place where Prism does not keep the document.
/// The document is served at the root (it has no `servers`): Prism ignores a base path, so a
/// document whose `servers` URL has one would have grade call paths Prism does not serve (the
/// fixture's README says what the OAI petstore draws for that reason, and for a body that is not
/// JSON, which Prism 5.16.0 never answers). Here nothing may be found: PRB002 judges the six
/// operations (nested `$ref` schemas, path parameters from earlier answers) and PRB003 a `state`
/// outside its enum, which Prism rejects with 422. The document's links are followed on a server
/// that is not ours: PRB002's evidence names the calls three of its four links made, and says why
/// the fourth is not followed (`$response.body#/owner/username` points into an object, but the
/// response it belongs to is an array).
#[test]
#[cfg_attr(
    grade_no_prism,
    ignore = "needs Prism on PATH: npm install -g @stoplight/prism-cli@5.16.0"
)]
fn prism_mock_of_a_third_party_document_draws_no_finding() {
    let on_path =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).any(|d| d.join("prism").is_file());
    assert!(
        on_path,
        "prism is not on PATH: npm install -g @stoplight/prism-cli@5.16.0"
    );
    let fixture = common::root().join("fixtures/third-party/prism-link-example");
    let (report, code) = grade_copy(&fixture, "prism-link-example", |m| m);
    for check in ["PRB002", "PRB003"] {
        let item = common::item(&report, check);
        // Passed, not skipped or absent: the probe judged answers, and found nothing.
        assert_eq!(item["outcome"], "passed", "{check} against the Prism mock: {item:#}");
        assert_eq!(item["findings"].as_array().map(Vec::len), Some(0), "{item:#}");
        println!("{check}: {}", item["evidence"]);
    }
    let evidence = common::item(&report, "PRB002")["evidence"].to_string();
    for link in ["userRepositories", "repositoryPullRequests", "pullRequestMerge"] {
        assert!(
            evidence.contains(&format!("(link `{link}` of ")),
            "PRB002 followed the link `{link}` of the document: {evidence}"
        );
    }
    assert!(
        evidence.contains("made by following the links of earlier answers")
            && evidence.contains(
                "link `userRepository` of GET /2.0/repositories/{username} (200) not followed: parameter `username`: \
                 `$response.body#/owner/username`: the response body has nothing at `/owner/username`"
            ),
        "{evidence}"
    );
    assert_eq!(code, Some(0), "{report:#}");
}
