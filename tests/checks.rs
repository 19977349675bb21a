//! Every check runs over its fixtures in `fixtures/checks/<ID>/<case>/` with default
//! parameters; the outcome and findings are snapshotted. The registry test makes sure each
//! check has a `pass` and a `fail` case, and here we assert they pass and fail.
//!
//! One test per check and case, named `<ID>::<case>` (`PRB004::fail-errors`), found at run
//! time from the registry and the case folders: a harness of our own (`harness = false` in
//! Cargo.toml, libtest-mimic), so that libtest's filters pick cases
//! (`cargo test --test checks PRB004`, `-- --exact OAS003::pass`, `--list`), nextest runs them
//! one by one, and every failing case is reported, not only the first.

mod common;

use std::cell::Cell;
use std::fmt::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};

use grade::checks::{registry, Check, Kind, Outcome};
use libtest_mimic::{Arguments, Failed, Trial};

fn render(result: &grade::checks::CheckResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "outcome: {:?}", result.outcome);
    if let Some(c) = result.credit {
        let _ = writeln!(s, "credit: {c:.3}");
    }
    if let Some(r) = &result.reason {
        let _ = writeln!(s, "reason: {r}");
    }
    if result.absent {
        let _ = writeln!(s, "absent: yes");
    }
    for e in &result.evidence {
        let _ = writeln!(s, "evidence: {e}");
    }
    // The claims an evidence check judged, with where each comes from (DESIGN section 13).
    for c in &result.claims {
        let sources: Vec<String> = c
            .sources
            .iter()
            .map(|x| {
                let kind = if x.contradicts {
                    "contradicted".to_string()
                } else {
                    format!("{:?}", x.source).to_lowercase()
                };
                match x.line {
                    Some(l) => format!("{kind} {}:{l}", x.file),
                    None => format!("{kind} {}", x.file),
                }
            })
            .collect();
        let _ = writeln!(
            s,
            "claim: {} {}: {:?}{} <- {}",
            c.subject,
            c.claim,
            c.status,
            if c.credited { "" } else { ", not credited" },
            if sources.is_empty() {
                "nothing".to_string()
            } else {
                sources.join("; ")
            }
        );
    }
    let mut findings = result.findings.clone();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    for f in &findings {
        let at = match (&f.file, f.line, f.column) {
            (Some(file), Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            (Some(file), _, _) => file.clone(),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "- {at}{} {}",
            f.pointer.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default(),
            f.message
        );
        if let Some(h) = &f.help {
            let _ = writeln!(s, "  help: {h}");
        }
    }
    s
}

/// Live-probe results carry measured figures (times, rates, percentages, ports) that vary from
/// run to run: in evidence every number becomes `N` (also the counts of `200 x67`); in findings
/// the numbers followed by a unit (`ms`, `s`, `%`, `req/s`) and loopback ports do.
fn redact_measured(s: &str) -> String {
    s.lines()
        .map(|line| {
            if line.starts_with("evidence: ") {
                redact_counts(&redact_numbers(line, |_| true))
            } else {
                redact_numbers(line, |rest| {
                    let rest = rest.trim_start();
                    ["ms", "s ", "s)", "s,", "s;", "%", "req/s", "/s"]
                        .iter()
                        .any(|u| rest.starts_with(u))
                        || rest == "s"
                })
            }
        })
        .map(|l| l.replace("127.0.0.1:", "127.0.0.1:PORT#"))
        .map(|l| strip_port(&l))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `N x67` (how many answers had a status) -> `N xN`.
fn redact_counts(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(" x") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push('N');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// `127.0.0.1:PORT#12345` -> `127.0.0.1:PORT`.
fn strip_port(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("PORT#") {
        out.push_str(&rest[..i + 4]);
        rest = rest[i + 5..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// Replaces each number (digits, with a decimal point) for which `keep_unit(text after it)`
/// holds by `N`.
fn redact_numbers(s: &str, redact_if: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_number =
            bytes[i].is_ascii_digit() && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        if starts_number {
            let mut j = i;
            while j < bytes.len()
                && (bytes[j].is_ascii_digit()
                    || (bytes[j] == b'.' && j + 1 < bytes.len() && bytes[j + 1].is_ascii_digit()))
            {
                j += 1;
            }
            if redact_if(&s[j..]) {
                out.push('N');
            } else {
                out.push_str(&s[i..j]);
            }
            i = j;
        } else {
            let c = s[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The folder a case is graded in. A case may run files of another case instead of holding a
/// second copy of them: its `shared.txt` lists them (one path per line, relative to the case
/// folder, e.g. `../pass/front.py`; `#` starts a comment), and the case is graded as a copy
/// (under the tests' temporary folder) with those files added next to its manifest. A
/// submission's run commands must not leave its folder, so the case could not name them in
/// place.
fn case_folder(dir: &Path, id: &str, case: &str) -> PathBuf {
    let from = dir.join(case);
    let Ok(list) = std::fs::read_to_string(from.join("shared.txt")) else {
        return from;
    };
    let to = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("checks")
        .join(id)
        .join(case);
    let _ = std::fs::remove_dir_all(&to);
    common::copy_dir(&from, &to);
    for line in list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let src = from.join(line);
        let name = Path::new(line).file_name().expect("a file name");
        std::fs::copy(&src, to.join(name))
            .unwrap_or_else(|e| panic!("{id}/{case}: shared.txt names {}: {e}", src.display()));
    }
    to
}

/// PRB004 measures speed, so on a loaded machine a service misses more targets than the one
/// its fixture is built to miss, its help follows from the targets missed, and a service
/// without a deliberate flaw may miss one too (less credit, one more finding). Per failing case:
/// the service that misses a target whatever the machine, that target, and the part of the help
/// that gives its reason (asserted here, not snapshotted).
const PRB004_MUST_MISS: [(&str, &str, &str, &str); 2] = [
    // One thread, 150 ms per request at 50 req/s: the requests queue.
    ("fail", "reports", "p95", "serve requests concurrently"),
    // Every third request answered 500.
    (
        "fail-errors",
        "orders",
        "availability",
        "read the service's log for the 5xx answers",
    ),
];

/// The part of a PRB004 result that does not depend on the machine's speed: the outcome, the
/// evidence (its figures are redacted later), and the findings of the services built to fail,
/// with the targets they missed and the help replaced by markers; and, for a failure, a note
/// on the credit instead of the credit. Asserts what it leaves out.
fn speed_robust(case: &str, result: &grade::checks::CheckResult) -> (grade::checks::CheckResult, Option<String>) {
    let mut out = result.clone();
    if result.outcome == Outcome::Passed {
        return (out, None);
    }
    assert!(must_len(case) > 0, "PRB004/{case}: add the case to PRB004_MUST_MISS");
    out.findings.clear();
    for (_, service, target, why) in PRB004_MUST_MISS.iter().filter(|m| m.0 == case) {
        let prefix = format!("service `{service}`: ");
        let f = result
            .findings
            .iter()
            .find(|f| f.message.starts_with(&prefix))
            .unwrap_or_else(|| panic!("PRB004/{case}: no finding for `{service}`:\n{}", render(result)));
        let (figures, missed) = f.message.split_once("; misses ").expect("`; misses ` in the finding");
        assert!(
            missed.split(", ").any(|m| m.starts_with(target)),
            "PRB004/{case}: `{service}` should miss its {target} target: {}",
            f.message
        );
        let help = f.help.as_deref().unwrap_or("");
        assert!(help.contains(why), "PRB004/{case}: the help should say `{why}`: {help}");
        let mut f = f.clone();
        f.message = format!("{figures}; misses its {target} target (and what the machine's speed adds)");
        f.help = Some(format!("(as the targets missed call for) … {why} …"));
        out.findings.push(f);
    }
    let credit = result.credit.unwrap_or(0.0);
    let bound = 1.0 - must_len(case) as f64 / loaded(result) as f64;
    assert!(credit <= bound + 1e-9, "PRB004/{case}: credit {credit} above {bound}");
    if bound <= 0.0 {
        return (out, None);
    }
    out.credit = None;
    (out, Some(format!("credit: measured, at most {bound:.3}")))
}

/// The part of a failed PRB005 result that does not depend on the machine's speed: the outcome,
/// the credit, the request the faults were judged on, which faults on which edge failed, and
/// in full how it failed under HTTP 503 answers (immediate, whatever the machine). How it
/// failed under latency, a blackhole or resets (late, dropped or still calling) can change on
/// a busy machine: a service built without a breaker may also answer too late.
fn faults_failed(result: &grade::checks::CheckResult) -> grade::checks::CheckResult {
    let mut out = result.clone();
    out.evidence.truncate(1);
    for f in &mut out.findings {
        match f.message.split_once(" on the edge): ") {
            Some((fault, _)) if !fault.ends_with("HTTP 503 answers") => {
                f.message = format!("{fault} on the edge): (how it failed depends on the machine's speed)");
                f.help = None;
            }
            _ => {}
        }
    }
    out.findings.sort_by(|a, b| a.message.cmp(&b.message));
    out
}

fn must_len(case: &str) -> usize {
    PRB004_MUST_MISS.iter().filter(|m| m.0 == case).count()
}

/// How many services PRB004 loaded (from its first evidence line, "G of L loaded services").
fn loaded(result: &grade::checks::CheckResult) -> usize {
    result
        .evidence
        .iter()
        .find_map(|e| e.split(" of ").nth(1)?.split(' ').next()?.parse().ok())
        .expect("a `G of L loaded services met the targets` evidence line")
}

thread_local! {
    /// Set while a snapshot is compared: its failure is reported with the case, so the panic
    /// hook stays quiet (no second message, no backtrace between the diff and the verdicts).
    static COMPARING: Cell<bool> = const { Cell::new(false) };
}

/// Held while insta compares a snapshot and prints its diff: cases run in parallel, and two
/// diffs printed at once would interleave line by line.
static SNAPSHOT_OUTPUT: Mutex<()> = Mutex::new(());

fn main() -> ExitCode {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !COMPARING.get() {
            hook(info);
        }
    }));
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials()).exit_code()
}

/// A test per check of the registry and case folder of its fixtures, in registry order, then
/// by case. Cases named `*-grpc` run the gRPC system of fixtures/services/grpc and are ignored
/// where Node's gRPC packages are not installed (`npm install -g @grpc/grpc-js@1.14.7
/// @grpc/proto-loader@0.8.1`, as .ci/run does). A check without a fixture folder gets one failing test (`<ID>::fixtures`), not a
/// harness that cannot even list its tests.
fn trials() -> Vec<Trial> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/checks");
    let mut trials = Vec::new();
    for &check in registry() {
        let id = check.info().id;
        let dir = base.join(id);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                let msg = format!("{id}: no fixture folder {}: {e}", dir.display());
                trials.push(Trial::test(format!("{id}::fixtures"), move || Err(msg.into())));
                continue;
            }
        };
        let mut cases: Vec<_> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        cases.sort();
        for case in cases {
            let dir = dir.clone();
            // The gRPC system (fixtures/services/grpc) needs Node's gRPC packages (build.rs).
            let ignored = cfg!(grade_no_grpc_node) && case.ends_with("-grpc");
            trials.push(
                Trial::test(format!("{id}::{case}"), move || check_case(check, &dir, &case)).with_ignored_flag(ignored),
            );
        }
    }
    trials
}

/// Grades the case, compares the snapshot, then asserts the outcome its name promises (`pass*`
/// passes, `fail*` fails and says why): a failing case shows what changed first, and reports
/// both a changed snapshot and a wrong outcome.
fn check_case(check: &dyn Check, dir: &Path, case: &str) -> Result<(), Failed> {
    let id = check.info().id;
    let result = common::run_check(check, &case_folder(dir, id, case));
    let mut rendered = render(&result);
    if id == "PRB005" && result.outcome != Outcome::Passed {
        rendered = render(&faults_failed(&result));
    } else if id == "PRB004" {
        let (robust, credit) = speed_robust(case, &result);
        rendered = render(&robust);
        if let Some(credit) = credit {
            rendered = rendered.replacen('\n', &format!("\n{credit}\n"), 1);
        }
    }
    if check.info().kind == Kind::Probe {
        // Live probes measure times, ports and counts that vary from run to run.
        rendered = redact_measured(&rendered);
    }
    let mut problems = Vec::new();
    // On a change insta prints the diff, writes `.snap.new` for review (outside CI), and panics.
    let snapshot = {
        let _output = SNAPSHOT_OUTPUT.lock().unwrap_or_else(PoisonError::into_inner);
        COMPARING.set(true);
        let snapshot = catch_unwind(AssertUnwindSafe(|| {
            insta::assert_snapshot!(format!("{id}-{case}"), rendered);
        }));
        COMPARING.set(false);
        snapshot
    };
    if let Err(panic) = snapshot {
        let msg = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("snapshot assertion failed");
        problems.push(format!("{msg} (the diff is printed above)"));
    }
    if case.starts_with("pass") && result.outcome != Outcome::Passed {
        problems.push(format!("{id}/{case} should pass:\n{}", render(&result)));
    }
    if case.starts_with("fail") {
        if result.outcome != Outcome::Failed {
            problems.push(format!("{id}/{case} should fail:\n{}", render(&result)));
        }
        if result.findings.is_empty() && result.reason.is_none() {
            problems.push(format!("{id}/{case}: a failure must say why"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}
