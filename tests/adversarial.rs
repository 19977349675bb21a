//! Adversarial submissions (issue #7): each is graded to a report, with the problem named as a
//! finding, without a panic or a hang, and in bounded memory. The cases are generated here
//! (a 50 MB file is not kept in the repository). Times are measured by
//! `benches/adversarial.py` on the release binary; this test only guards against hangs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::root;

/// Memory bound of one grading (peak RSS), from the issue.
const MAX_RSS_KIB: i64 = 200 * 1024;
/// Hang guard (the debug binary is slower than the release one the benchmark measures).
const HANG_GUARD: Duration = Duration::from_secs(90);

fn case_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("adversarial")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("services/catalog")).unwrap();
    std::fs::write(
        d.join("submission.toml"),
        "[submission]\ncheckpoint = \"phase1\"\n\n[[service]]\nname = \"catalog\"\nopenapi = \"services/catalog/openapi.yaml\"\n",
    )
    .unwrap();
    d
}

/// Runs `grade phase1 DIR --static-only --format json`; (exit code, stdout, stderr, peak RSS KiB, time).
fn grade_measured(dir: &Path) -> (i32, String, String, i64, Duration) {
    let out = dir.join("stdout.json");
    let err = dir.join("stderr.txt");
    let t = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args([
            "phase1",
            dir.to_str().unwrap(),
            "--static-only",
            "--format",
            "json",
            "--color",
            "never",
        ])
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("start grade");
    let pid = child.id() as libc::pid_t;
    // A watchdog kills a hang so the test fails instead of blocking the suite.
    let watchdog = std::thread::spawn(move || {
        let until = Instant::now() + HANG_GUARD;
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
            // SAFETY: signal 0 only checks whether the process exists.
            if unsafe { libc::kill(pid, 0) } != 0 {
                return;
            }
        }
        // SAFETY: our own child, not yet reaped (wait4 below reaps it).
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child with valid pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let took = t.elapsed();
    let _ = watchdog.join();
    std::mem::forget(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    (
        code,
        std::fs::read_to_string(&out).unwrap_or_default(),
        std::fs::read_to_string(&err).unwrap_or_default(),
        usage.ru_maxrss,
        took,
    )
}

/// Grades the case and checks the common promises; returns the JSON report text.
fn expect_finding(name: &str, dir: &Path, needles: &[&str]) -> String {
    let (code, stdout, stderr, rss, took) = grade_measured(dir);
    assert!(took < HANG_GUARD, "{name}: took {took:?}");
    assert!(!stderr.contains("panicked"), "{name}: the grader panicked:\n{stderr}");
    assert!(
        code == 0 || code == 1,
        "{name}: exit code {code} (expected a graded report)\n{stderr}"
    );
    assert!(rss <= MAX_RSS_KIB, "{name}: peak RSS {} MiB over 200 MiB", rss / 1024);
    let lower = stdout.to_lowercase();
    assert!(
        needles.iter().any(|n| lower.contains(&n.to_lowercase())),
        "{name}: no finding names the problem (looked for {needles:?}); report:\n{}",
        &stdout[..stdout.len().min(4000)]
    );
    println!("{name}: exit {code}, peak RSS {} MiB, {took:?}", rss / 1024);
    stdout
}

fn spec(dir: &Path) -> PathBuf {
    dir.join("services/catalog/openapi.yaml")
}

const HEAD: &str = "openapi: 3.0.3\ninfo: {title: Catalog, version: 1.0.0}\n";

#[test]
fn nesting_100k_deep_is_refused_at_the_depth_limit() {
    let d = case_dir("deep");
    let mut s = String::from(
        "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"x\", \"version\": \"1\"}, \"paths\": {}, \"x-deep\": ",
    );
    s.push_str(&"[".repeat(100_000));
    s.push_str(&"]".repeat(100_000));
    s.push('}');
    std::fs::write(spec(&d), s).unwrap();
    expect_finding("deep", &d, &["nest", "depth"]);
}

#[test]
fn a_50_mb_document_is_refused_or_read_within_bounds() {
    let d = case_dir("huge");
    let mut s = String::from(HEAD);
    s.push_str("paths: {}\nx-filler: |\n");
    let line = format!("  {}\n", "lorem ipsum dolor sit amet ".repeat(4));
    while s.len() < 50 * 1024 * 1024 {
        s.push_str(&line);
    }
    std::fs::write(spec(&d), s).unwrap();
    expect_finding("huge", &d, &["larger than", "too large", "limit"]);
}

#[test]
fn a_yaml_alias_bomb_is_stopped() {
    let d = case_dir("bomb");
    let mut s = String::from(HEAD);
    s.push_str(
        "paths: {}\nx-bomb:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut prev = "a";
    for n in names {
        s.push_str(&format!(
            "  {n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = n;
    }
    std::fs::write(spec(&d), s).unwrap();
    expect_finding("bomb", &d, &["alias"]);
}

#[test]
fn a_10000_long_ref_chain_is_cut() {
    let d = case_dir("chain");
    let mut s = String::from(HEAD);
    s.push_str(
        "paths:\n  /items:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/S0'}\n              example: {a: 1}\ncomponents:\n  schemas:\n",
    );
    for i in 0..10_000 {
        s.push_str(&format!("    S{i}: {{$ref: '#/components/schemas/S{}'}}\n", i + 1));
    }
    s.push_str("    S10000: {type: object}\n");
    std::fs::write(spec(&d), s).unwrap();
    expect_finding("chain", &d, &["chain", "$ref", "too long", "hops"]);
}

#[test]
fn refs_out_of_the_submission_and_to_urls_are_findings_not_reads() {
    let d = case_dir("escape");
    let s = format!(
        "{HEAD}paths:\n  /a:\n    get:\n      responses:\n        '200': {{$ref: '/etc/passwd'}}\n  /b:\n    get:\n      responses:\n        '200': {{$ref: '../../../../../../etc/passwd#/x'}}\n  /c:\n    get:\n      responses:\n        '200': {{$ref: 'https://example.com/schemas.yaml#/Thing'}}\n"
    );
    std::fs::write(spec(&d), s).unwrap();
    let report = expect_finding("escape", &d, &["outside the submission", "not fetched", "url"]);
    assert!(!report.contains("root:x:0:0"), "the grader read /etc/passwd");
}

/// A manifest path that leaves the submission is a manifest error (exit 2), named with its
/// file, line and fix; nothing outside is read.
#[test]
fn a_symlink_out_of_the_submission_is_refused() {
    let d = case_dir("symlink");
    std::os::unix::fs::symlink("/etc/hostname", spec(&d)).unwrap();
    let (code, stdout, stderr, rss, took) = grade_measured(&d);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("is a symlink to `/etc/hostname`"), "{stderr}");
    assert!(stderr.contains("submission.toml:6:11"), "{stderr}");
    assert!(stderr.contains("help: replace the symlink"), "{stderr}");
    assert!(rss <= MAX_RSS_KIB && took < HANG_GUARD);
}

#[test]
fn non_utf8_and_nul_bytes_are_a_clear_error() {
    let d = case_dir("binary");
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"paths: {}\nx-bad: \"\xff\xfe\x00\x00\"\n");
    std::fs::write(spec(&d), bytes).unwrap();
    expect_finding("binary", &d, &["utf-8", "utf8", "nul", "byte"]);
}

#[test]
fn integers_beyond_2_64_do_not_break_the_loader() {
    let d = case_dir("bigint");
    let s = format!(
        "{HEAD}paths:\n  /items:\n    get:\n      parameters:\n        - {{name: limit, in: query, schema: {{type: integer, maximum: 123456789012345678901234567890, minimum: -99999999999999999999999}}}}\n      responses:\n        '200': {{description: ok}}\n"
    );
    std::fs::write(spec(&d), s).unwrap();
    // Graded to a report: any OAS finding is fine, the point is no crash.
    expect_finding("bigint", &d, &["OAS"]);
}

#[test]
fn duplicate_keys_are_reported() {
    let d = case_dir("dupes");
    let s = format!("{HEAD}paths:\n  /items:\n    get:\n      responses:\n        '200': {{description: ok}}\n  /items:\n    post:\n      responses:\n        '201': {{description: created}}\n");
    std::fs::write(spec(&d), s).unwrap();
    expect_finding("dupes", &d, &["duplicate"]);
}
