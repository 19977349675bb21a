//! Helpers shared by the end-to-end tests that run the `grade` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (tests run `grade` from there, so fixture paths are relative).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `grade` with `args` from the repository root, without the CI variables that change its
/// output (`NO_COLOR`, `GITHUB_STEP_SUMMARY`).
pub fn grade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run grade")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A diagnostic's text as one line: miette wraps at the terminal width (which depends on the
/// paths in the message), with a `│` gutter on continued lines.
pub fn flat(s: &str) -> String {
    s.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh, empty folder `<group>/<name>` under the test target's temporary folder.
pub fn tmp(group: &str, name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(group).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// Runs `check` with its default parameters over the submission in `dir`.
pub fn run_check(check: &dyn grade::checks::Check, dir: &Path) -> grade::checks::CheckResult {
    let sub = grade::submission::Submission::load(dir)
        .unwrap_or_else(|e| panic!("{}: {}", dir.display(), e.to_diagnostic().render_plain()));
    grade::checks::run_alone(
        check,
        &sub,
        &check.default_params(),
        Default::default(),
        Default::default(),
    )
}

/// The item of the JSON report `report` that grades `check`.
pub fn item<'r>(report: &'r serde_json::Value, check: &str) -> &'r serde_json::Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check"] == check)
        .unwrap_or_else(|| panic!("no item {check}"))
}

/// A submission whose orders service guards its calls with a course's in-house helper
/// (`house_http.call(..., deadline_ms=300, attempts=3)`, `house_http.breaker(...)`) that the
/// built-in evidence rules do not know, and a folder of instructor rules that recognise it:
/// (submission folder, rules folder), under `dir`.
pub fn in_house_helper_submission(dir: &Path) -> (PathBuf, PathBuf) {
    let sub = dir.join("sub");
    std::fs::create_dir_all(sub.join("src")).unwrap();
    std::fs::write(
        sub.join("submission.toml"),
        "[[service]]\nname = \"orders\"\nsource = \"src\"\ncalls = [\"payments\"]\n\
         resilience = [\"timeout\", \"retry\", \"circuit-breaker\"]\n\n[[service]]\nname = \"payments\"\n",
    )
    .unwrap();
    std::fs::write(
        sub.join("src/client.py"),
        "import house_http\n\nBREAKER = house_http.breaker('payments', failures=3)\n\n\n\
         def authorize(body):\n    return house_http.call(BREAKER, 'POST', '/v1/payments', body, deadline_ms=300, attempts=3)\n",
    )
    .unwrap();
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for (id, proves, calls, args) in [
        ("house-timeout", "timeout", "^house_http\\.call$", "deadline_ms\\s*="),
        ("house-retry", "retry", "^house_http\\.call$", "attempts\\s*="),
        ("house-breaker", "circuit-breaker", "^house_http\\.breaker$", "."),
    ] {
        std::fs::write(
            rules.join(format!("{id}.toml")),
            format!(
                "id = '{id}'\nlanguage = 'python'\nproves = '{proves}'\nsummary = 'the course helper'\n\n\
                 [[rule_call]]\ncalls = ['{calls}']\nargs = '{args}'\n\n\
                 [[example]]\ncode = \"house_http.call(B, 'GET', '/x', None, deadline_ms=300, attempts=3)\\nB = house_http.breaker('x')\"\nmatches = true\n\n\
                 [[example]]\ncode = \"requests.get(url)\"\nmatches = false\n"
            ),
        )
        .unwrap();
    }
    (sub, rules)
}
