//! Live probes: the orchestrator, the HTTP client's host policy and PRB001, against real
//! services (the std-only `shopflow` workspace member) on 127.0.0.1. Every test checks that no
//! process it caused is left running.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use grade::checks::{find, run_alone, CheckResult, Outcome};
use grade::probe::http::{Client, HttpError};
use grade::probe::reaper::{group_members, pid_alive, port_holder, PortHolder};
use grade::probe::target::Policy;
use grade::probe::{ProbeOptions, StartConfig, StartError, Status, System};
use grade::submission::Submission;

/// Builds `shopflow` once (through cargo, so a clean clone works) and returns its path.
fn shopflow() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "shopflow",
                "--bin",
                "shopflow",
                "--message-format=json",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo build -p shopflow");
        assert!(out.status.success(), "cargo build -p shopflow failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "shopflow")
            .find_map(|v| v["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported no shopflow executable")
    })
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grade-probe-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A TOML array of strings: the shopflow binary followed by `args`.
fn shop(args: &[&str]) -> String {
    let mut all = vec![format!("{:?}", shopflow().display().to_string())];
    all.extend(args.iter().map(|a| format!("{a:?}")));
    format!("[{}]", all.join(", "))
}

fn write_submission(dir: &Path, toml: &str) -> Submission {
    std::fs::write(dir.join("submission.toml"), toml).unwrap();
    Submission::load(dir).unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render_plain()))
}

/// Runs PRB001 with its own start (no session), returning the result and how long it took.
fn run_prb001(sub: &Submission, ready_timeout_ms: u64) -> (CheckResult, Duration) {
    run_prb001_with(sub, ready_timeout_ms, ProbeOptions::default())
}

fn run_prb001_with(sub: &Submission, ready_timeout_ms: u64, opts: ProbeOptions) -> (CheckResult, Duration) {
    let check = find("PRB001").unwrap();
    let system = StartConfig {
        ready_timeout: Duration::from_millis(ready_timeout_ms),
        ..StartConfig::default()
    };
    let t = Instant::now();
    let r = run_alone(check, sub, &check.default_params(), opts, system);
    (r, t.elapsed())
}

/// Without the network sandbox (`--unsandboxed`): the services share this machine's ports.
fn unsandboxed() -> ProbeOptions {
    ProbeOptions {
        unsandboxed: true,
        ..ProbeOptions::default()
    }
}

fn messages(r: &CheckResult) -> String {
    r.findings
        .iter()
        .map(|f| format!("{}\n  help: {}", f.message, f.help.clone().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads a pid written by `shopflow --pid-file`.
fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Waits up to 2 s for `pid` and its process group to be gone.
fn assert_gone(pid: i32) {
    let until = Instant::now() + Duration::from_secs(2);
    while (pid_alive(pid) || !group_members(pid).is_empty()) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pid_alive(pid), "process {pid} is still running");
    assert!(
        group_members(pid).is_empty(),
        "group {pid} still has {:?}",
        group_members(pid)
    );
}

fn config(ready_ms: u64) -> StartConfig {
    StartConfig {
        ready_timeout: Duration::from_millis(ready_ms),
        grace: Duration::from_millis(500),
        ..StartConfig::default()
    }
}

#[test]
fn healthy_services_pass_and_get_their_dependencies_wired() {
    let dir = scratch("healthy");
    let pids = [dir.join("orders.pid"), dir.join("payments.pid")];
    let sub = write_submission(
        &dir,
        &format!(
            r#"
[[service]]
name = "orders"
calls = ["payments"]
[service.run]
command = {}
port_env = "ORDERS_PORT"
health = "/health"
ready = "/ready"
dependency_env = {{ payments = "PAYMENTS_URL" }}

[[service]]
name = "payments"
[service.run]
command = {}
port_env = "PORT"
health = "/health"
"#,
            shop(&[
                "orders",
                "--port-env",
                "ORDERS_PORT",
                "--dependency-env",
                "PAYMENTS_URL",
                "--pid-file",
                pids[0].to_str().unwrap()
            ]),
            shop(&["payments", "--pid-file", pids[1].to_str().unwrap()]),
        ),
    );
    // The check, end to end.
    let (r, took) = run_prb001(&sub, 10_000);
    assert_eq!(r.outcome, Outcome::Passed, "{}", messages(&r));
    assert_eq!(r.evidence[0], "2 of 2 services healthy");
    assert_eq!(r.evidence.len(), 3, "{:?}", r.evidence);
    assert!(
        r.evidence[1].starts_with("sandbox: the services and the probes ran in a network namespace"),
        "{:?}",
        r.evidence
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
    for p in &pids {
        assert_gone(read_pid(p).expect("pid file"));
    }

    // The orchestrator: callees first, the callee's URL in the caller's environment.
    let mut system = System::start(&sub, &ProbeOptions::default(), &config(10_000)).unwrap();
    let names: Vec<&str> = system.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["payments", "orders"]);
    assert!(system.services.iter().all(|s| s.status == Status::Ready));
    let orders = system.service("orders").unwrap();
    let payments_url = system.service("payments").unwrap().base_url.clone().unwrap();
    assert!(payments_url.starts_with("http://127.0.0.1:"));
    let resp = system
        .client
        .get(&orders.url("/v1/orders").unwrap(), Duration::from_secs(2))
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    // The caller gets the grader's proxy on the edge, which forwards to payments.
    let proxy = system
        .edge("orders", "payments")
        .expect("a proxy on orders -> payments");
    assert!(proxy.declared);
    assert_eq!(body["dependencies"][0]["url"], proxy.url.as_str());
    assert_ne!(proxy.url, payments_url);
    let via = system
        .client
        .get(&format!("{}/health", proxy.url), Duration::from_secs(2))
        .unwrap();
    assert_eq!(via.status, 200, "the proxy forwards to payments");
    assert_eq!(proxy.records().len(), 1);
    let started = system.pids();
    let t = system.teardown();
    assert!(t.leftover.is_empty() && t.killed.is_empty(), "{t:?}");
    for pid in started {
        assert_gone(pid);
    }
}

/// One flawed service: PRB001 fails with `expect` in its finding, within `bound`.
fn flawed(name: &str, args: &[&str], ready_ms: u64, expect: &[&str], bound: Duration) {
    flawed_with(ProbeOptions::default(), name, args, ready_ms, expect, bound)
}

fn flawed_with(opts: ProbeOptions, name: &str, args: &[&str], ready_ms: u64, expect: &[&str], bound: Duration) {
    let dir = scratch(name);
    let pid_file = dir.join("svc.pid");
    let mut all = vec!["orders", "--pid-file", pid_file.to_str().unwrap()];
    all.extend(args);
    let sub = write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nport_env = \"PORT\"\nhealth = \"/health\"\n",
            shop(&all)
        ),
    );
    let (r, took) = run_prb001_with(&sub, ready_ms, opts);
    let text = messages(&r);
    assert_eq!(r.outcome, Outcome::Failed, "{name}: {text}");
    assert_eq!(r.credit, Some(0.0));
    assert_eq!(r.findings.len(), 1, "{text}");
    assert_eq!(r.findings[0].file.as_deref(), Some("submission.toml"));
    assert_eq!(r.findings[0].line, Some(2), "points at the service's name");
    for e in expect {
        assert!(text.contains(e), "{name}: expected `{e}` in:\n{text}");
    }
    assert!(took < bound, "{name}: took {took:?}, bound {bound:?}");
    if let Some(pid) = read_pid(&pid_file) {
        assert_gone(pid);
    }
}

#[test]
fn a_service_that_exits_at_once_fails_fast_with_its_output() {
    flawed(
        "exit",
        &["--exit-immediately"],
        20_000,
        &[
            "exited with status 3 before it became ready",
            "stderr (last lines):",
            "DATABASE_URL is not set",
        ],
        Duration::from_secs(3),
    );
}

#[test]
fn a_service_that_never_becomes_ready_fails_at_the_deadline() {
    flawed(
        "never-ready",
        &["--never-ready"],
        1_500,
        &[
            "did not become ready",
            "last: GET /health answered 500 Internal Server Error",
            "listening on",
        ],
        Duration::from_secs(5),
    );
}

#[test]
fn a_failing_health_endpoint_fails_even_when_ready() {
    let dir = scratch("fail-health");
    let sub = write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nhealth = \"/health\"\nready = \"/ready\"\n",
            shop(&["orders", "--fail-health"])
        ),
    );
    let (r, took) = run_prb001(&sub, 5_000);
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        messages(&r).contains("its health endpoint GET /health answered 500 Internal Server Error"),
        "{}",
        messages(&r)
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn a_service_that_answers_garbage_fails_with_a_clear_message() {
    flawed(
        "garbage",
        &["--garbage"],
        1_500,
        &["did not become ready", "not HTTP/1.x", "answer HTTP/1.1 on /health"],
        Duration::from_secs(5),
    );
}

#[test]
fn a_service_that_floods_stdout_is_bounded() {
    flawed(
        "flood",
        &["--flood"],
        1_500,
        &["nothing listened on port", "stdout (last lines):", "debug line"],
        Duration::from_secs(6),
    );
}

#[test]
fn a_service_whose_port_is_taken_fails_with_a_hint() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port().to_string();
    flawed_with(
        unsandboxed(),
        "port-taken",
        &["--port", &port],
        5_000,
        &[
            "exited with status 1",
            "cannot listen on 127.0.0.1",
            "another process holds the port",
        ],
        Duration::from_secs(3),
    );
    drop(holder);
}

#[test]
fn a_missing_program_and_a_bad_cwd_are_findings() {
    let dir = scratch("missing");
    let sub = write_submission(
        &dir,
        r#"
[[service]]
name = "orders"
[service.run]
command = ["./no-such-program"]
health = "/health"

[[service]]
name = "payments"
[service.run]
command = ["sh", "-c", "true"]
cwd = "nowhere"
health = "/health"
"#,
    );
    let (r, took) = run_prb001(&sub, 5_000);
    let text = messages(&r);
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.findings.len(), 2, "{text}");
    assert!(text.contains("`./no-such-program` was not found"), "{text}");
    assert!(text.contains("run.cwd `nowhere` is not a folder"), "{text}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn without_run_tables_the_running_system_is_absent() {
    let dir = scratch("no-run");
    let sub = write_submission(&dir, "[[service]]\nname = \"orders\"\n");
    let (r, _) = run_prb001(&sub, 1_000);
    // Absent: fails with no credit unless the rubric item says `when_absent = "skip"`.
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.absent);
    assert_eq!(r.credit, Some(0.0));
    assert!(r
        .reason
        .as_deref()
        .unwrap()
        .starts_with("no service declares `[service.run]`"));
}

/// A grading with probes tells its stages on stderr (one line per finished stage when stderr
/// is not a terminal), and nothing with `--quiet`.
#[test]
fn probe_progress_is_told_on_stderr_unless_quiet() {
    let dir = scratch("progress");
    write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nhealth = \"/health\"\n",
            shop(&["orders"])
        ),
    );
    let rubric = rubric(&dir, 10_000);
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_grade"))
            .args(["run", "--rubric", rubric.to_str().unwrap(), dir.to_str().unwrap()])
            .args(["--format", "json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(lines[0], "grade: service orders (1/1): ready");
    assert!(
        lines[1].starts_with("grade: PRB001 service-unhealthy: passed ("),
        "{err}"
    );
    let quiet = run(&["--quiet"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stderr.is_empty(), "{}", String::from_utf8_lossy(&quiet.stderr));
}

#[test]
fn non_loopback_hosts_are_refused_before_any_connection() {
    let client = Client::new(Policy::default());
    for url in [
        "http://10.0.0.1:9/health",
        "http://example.com/",
        "http://[2001:db8::1]:80/",
        "http://0.0.0.0:80/",
    ] {
        let t = Instant::now();
        match client.get(url, Duration::from_secs(30)) {
            Err(HttpError::Refused(msg)) => assert!(msg.contains("--allow-host"), "{msg}"),
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
        // No SYN, no DNS: refused before any attempt, far inside the 30 s a connection attempt
        // could wait (a generous bound: the test must pass on a loaded machine).
        assert!(t.elapsed() < Duration::from_secs(5), "{url}: {:?}", t.elapsed());
    }
    assert!(matches!(
        grade::probe::parse_target("orders=http://10.0.0.1:9", &[]),
        Err(msg) if msg.contains("refusing to contact 10.0.0.1")
    ));
    assert!(grade::probe::parse_target("orders=http://10.0.0.1:9", &["10.0.0.1".into()]).is_ok());
    assert!(grade::probe::parse_target("orders=http://127.0.0.1:9", &[]).is_ok());
}

fn rubric(dir: &Path, ready_ms: u64) -> PathBuf {
    let path = dir.join("rubric.toml");
    std::fs::write(
        &path,
        format!(
            r#"[rubric]
id = "probe-test"
title = "Probe test"
version = "1.0.0"
threshold = 50

[[section]]
id = "live"
title = "Live"

[system]
ready_timeout_ms = {ready_ms}

[[section.item]]
check = "PRB001"
weight = 1
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_cli_refuses_a_remote_target_at_once() {
    let dir = scratch("cli-refuse");
    write_submission(&dir, "[[service]]\nname = \"orders\"\n");
    let rubric = rubric(&dir, 1_000);
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["run", "--rubric", rubric.to_str().unwrap(), dir.to_str().unwrap()])
        .args(["--target", "orders=http://10.0.0.1:9/", "--color", "never"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refusing to contact 10.0.0.1"), "{stderr}");
    // Refused while reading the arguments, not after a probe waited (a loose bound for loaded
    // machines; the exit code and the message are the verdict).
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
}

#[test]
fn the_cli_probes_a_running_target_instead_of_starting_it() {
    let dir = scratch("cli-target");
    // The manifest's command would fail; --target means it is never run.
    write_submission(
        &dir,
        "[[service]]\nname = \"orders\"\n[service.run]\ncommand = [\"false\"]\nhealth = \"/health\"\n",
    );
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut svc = Command::new(shopflow())
        .args(["orders", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let rubric = rubric(&dir, 5_000);
    let out = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args([
            "run",
            "--rubric",
            rubric.to_str().unwrap(),
            dir.to_str().unwrap(),
            "--format",
            "json",
        ])
        .args(["--target", &format!("orders=http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    let _ = svc.kill();
    let _ = svc.wait();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["items"][0]["outcome"], "passed", "{report:#}");
    assert_eq!(out.status.code(), Some(0));

    // An unknown service name is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["run", "--rubric", rubric.to_str().unwrap(), dir.to_str().unwrap()])
        .args(["--target", "ordres=http://127.0.0.1:9"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("did you mean `orders`"), "{stderr}");
}

#[test]
fn a_service_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let dir = scratch("ignore-term");
    let sub = write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nhealth = \"/health\"\n",
            shop(&["orders", "--ignore-sigterm"])
        ),
    );
    let mut system = System::start(&sub, &ProbeOptions::default(), &config(10_000)).unwrap();
    assert_eq!(system.services[0].status, Status::Ready);
    let pgid = system.pids()[0];
    let members = group_members(pgid);
    assert!(
        members.len() >= 2,
        "the re-executed shopflow runs in the group: {members:?}"
    );
    let t0 = Instant::now();
    let t = system.teardown();
    let took = t0.elapsed();
    assert_eq!(t.killed, vec!["orders".to_string()]);
    assert!(t.leftover.is_empty(), "{t:?}");
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(3),
        "{took:?}"
    );
    for pid in members {
        assert_gone(pid);
    }
}

#[test]
fn a_forked_child_dies_with_its_group_and_drop_tears_down() {
    let dir = scratch("fork");
    let sub = write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nhealth = \"/health\"\n",
            shop(&["orders", "--fork-child"])
        ),
    );
    let system = System::start(&sub, &ProbeOptions::default(), &config(10_000)).unwrap();
    assert_eq!(system.services[0].status, Status::Ready);
    let pgid = system.pids()[0];
    let members = group_members(pgid);
    assert_eq!(members.len(), 2, "shopflow and its `sleep` child: {members:?}");
    drop(system); // no explicit teardown
    for pid in members {
        assert_gone(pid);
    }
}

#[test]
fn ctrl_c_during_grading_leaves_no_process() {
    let dir = scratch("ctrl-c");
    let pid_file = dir.join("orders.pid");
    write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nhealth = \"/health\"\n",
            shop(&[
                "orders",
                "--never-ready",
                "--fork-child",
                "--pid-file",
                pid_file.to_str().unwrap()
            ])
        ),
    );
    let rubric = rubric(&dir, 60_000);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grade"));
    cmd.args(["run", "--rubric", rubric.to_str().unwrap(), dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // As from a terminal: SIGINT at its default action, even when this test runs in a shell's
    // background job (which starts with SIGINT ignored, and the grader rightly keeps that).
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut grade = cmd.spawn().unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let pid = loop {
        if let Some(p) = read_pid(&pid_file) {
            break p;
        }
        assert!(Instant::now() < until, "the service never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let the child fork, then Ctrl-C the grader (SIGINT to its pid, as a terminal would).
    let until = Instant::now() + Duration::from_secs(5);
    while group_members(pid).len() < 2 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let members = group_members(pid);
    assert_eq!(members.len(), 2, "{members:?}");
    unsafe {
        libc_kill(grade.id() as i32, 2);
    }
    let t = Instant::now();
    let status = grade.wait().unwrap();
    let mut err = String::new();
    let _ = grade.stderr.take().unwrap().read_to_string(&mut err);
    // Promptly, not at the 60 s readiness deadline (a loose bound: the machine may be loaded).
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    assert!(!status.success(), "{err}");
    for p in members {
        assert_gone(p);
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// Ports in LISTEN state on this machine (IPv4 and IPv6), from /proc/net.
fn listening_ports() -> std::collections::BTreeSet<u16> {
    let mut out = std::collections::BTreeSet::new();
    for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address is `IP:PORT` in hex; state 0A is LISTEN.
            if cols.len() > 3 && cols[3] == "0A" {
                if let Some(port) = cols[1].rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok()) {
                    out.insert(port);
                }
            }
        }
    }
    out
}

/// Issue #7: twenty consecutive starts of a system with faulty services (ignoring SIGTERM,
/// forking a child, flooding stdout, exiting at once, never ready) next to a healthy caller
/// with its edge proxy: after each teardown no process of any group and no port of the run
/// (services and proxies) is left.
#[test]
fn twenty_faulty_runs_leave_no_process_and_no_port() {
    let dir = scratch("hygiene");
    let sub = write_submission(
        &dir,
        &format!(
            r#"
[[service]]
name = "front"
calls = ["stubborn"]
[service.run]
command = {}
health = "/health"
dependency_env = {{ stubborn = "STUBBORN_URL" }}

[[service]]
name = "stubborn"
[service.run]
command = {}
health = "/health"

[[service]]
name = "forker"
[service.run]
command = {}
health = "/health"

[[service]]
name = "flood"
[service.run]
command = {}
health = "/health"

[[service]]
name = "quitter"
[service.run]
command = {}
health = "/health"

[[service]]
name = "sleeper"
[service.run]
command = {}
health = "/health"
ready = "/ready"
"#,
            shop(&["front", "--dependency-env", "STUBBORN_URL"]),
            shop(&["stubborn", "--ignore-sigterm"]),
            shop(&["forker", "--fork-child"]),
            shop(&["flood", "--flood"]),
            shop(&["quitter", "--exit-immediately"]),
            shop(&["sleeper", "--never-ready", "--ready-path-only"]),
        ),
    );
    let before = listening_ports();
    for run in 0..20 {
        let mut system = System::start(&sub, &ProbeOptions::default(), &config(600)).unwrap();
        let pids = system.pids();
        let mut ports: Vec<u16> = system
            .services
            .iter()
            .filter_map(|s| s.base_url.as_deref())
            .chain(system.proxies.iter().map(|p| p.url.as_str()))
            .filter_map(|u| u.rsplit(':').next()?.parse().ok())
            .collect();
        ports.sort();
        assert!(
            !system.proxies.is_empty(),
            "run {run}: the edge front -> stubborn has a proxy"
        );
        let t = system.teardown();
        assert!(t.leftover.is_empty(), "run {run}: processes left: {t:?}");
        drop(system);
        for pid in pids {
            assert_gone(pid);
        }
        // Sockets close asynchronously after the processes and proxy threads end.
        let until = Instant::now() + Duration::from_secs(2);
        let mut open: Vec<u16>;
        loop {
            let now = listening_ports();
            open = ports
                .iter()
                .copied()
                .filter(|p| now.contains(p) && !before.contains(p))
                .collect();
            if open.is_empty() || Instant::now() > until {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            open.is_empty(),
            "run {run}: ports still listening after teardown: {open:?}"
        );
    }
}

/// A service whose port answers from a program outside its process group: the first
/// `strangers` starts hand the port to a detached server (as a second grader that drew the same
/// port would hold it), later starts serve themselves. Returns the system's status, the port it
/// was finally given, and the strangers' ports.
/// With `exit`, a start that meets the stranger exits as a server that cannot bind does.
fn start_behind_strangers(name: &str, strangers: usize, exit: bool) -> (Status, Option<u16>, Vec<u16>) {
    let dir = scratch(name);
    let script = dir.join("svc.py");
    std::fs::write(
        &script,
        r#"import http.server, os, sys, time
port, state = int(os.environ["PORT"]), sys.argv[1]
starts = len(open(state).read().split()) if os.path.exists(state) else 0
def serve(limit):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers()
        def log_message(self, *a): pass
    s = http.server.HTTPServer(("127.0.0.1", port), H)
    s.timeout = 0.2
    end = time.time() + limit
    while time.time() < end:
        s.handle_request()
if starts < int(sys.argv[2]):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            with open(state, "a") as f:
                f.write(f"{os.getpid()}:{port}\n")
            serve(20)
        os._exit(0)
    if sys.argv[3] == "exit":
        import socket
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        sys.exit("OSError: [Errno 98] Address already in use")
    time.sleep(60)
else:
    serve(60)
"#,
    )
    .unwrap();
    let state = dir.join("strangers");
    let sub = write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = [\"python3\", {:?}, {:?}, \"{strangers}\", \"{}\"]\nhealth = \"/health\"\n",
            script.display().to_string(),
            state.display().to_string(),
            if exit { "exit" } else { "stay" }
        ),
    );
    let mut system = System::start(&sub, &ProbeOptions::default(), &config(10_000)).unwrap();
    let status = system.services[0].status.clone();
    let port = system.services[0]
        .base_url
        .as_deref()
        .and_then(|u| u.rsplit(':').next()?.parse().ok());
    system.teardown();
    let mut ports = Vec::new();
    for line in std::fs::read_to_string(&state).unwrap_or_default().lines() {
        let (pid, p) = line.split_once(':').unwrap();
        unsafe { libc_kill(pid.parse().unwrap(), 9) };
        ports.push(p.parse().unwrap());
    }
    (status, port, ports)
}

#[test]
fn a_service_that_lost_its_port_to_a_stranger_is_restarted_not_blamed() {
    let (status, port, strangers) = start_behind_strangers("stranger-exit", 1, true);
    assert_eq!(
        status,
        Status::Ready,
        "restarted on another port instead of reported as exited"
    );
    assert_eq!(strangers.len(), 1);
    assert_ne!(port, Some(strangers[0]));
}

#[test]
fn a_stranger_on_the_given_port_is_not_taken_for_the_service() {
    let (status, port, strangers) = start_behind_strangers("stranger-once", 1, false);
    assert_eq!(status, Status::Ready);
    assert_eq!(strangers.len(), 1, "one start met the stranger");
    assert_ne!(port, Some(strangers[0]), "the service was restarted on another port");
}

#[test]
fn a_service_that_always_hands_its_port_away_is_not_started() {
    let (status, _, strangers) = start_behind_strangers("stranger-always", 9, false);
    assert_eq!(strangers.len(), 3, "three starts, then it gives up");
    let Status::NotStarted(why) = status else {
        panic!("{status:?}")
    };
    assert!(why.contains("a program outside its process group answered"), "{why}");
    assert!(why.contains("`python3` (pid"), "{why}");
}

/// An HTTP server on a free port of 127.0.0.1 without a health endpoint: it answers every
/// request `404 Not Found` and keeps the request lines it saw. Stopped when dropped.
struct NoHealthServer {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NoHealthServer {
    fn start() -> NoHealthServer {
        use std::io::Write;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut c) = conn else { continue };
                let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&buf);
                seen2
                    .lock()
                    .unwrap()
                    .push(text.lines().next().unwrap_or("").to_string());
                let _ =
                    c.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found");
            }
        });
        NoHealthServer {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for NoHealthServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_target_without_a_health_endpoint_is_ready_when_it_answers() {
    let dir = scratch("target-no-health");
    // No `run` table, so no `health` or `ready` path: any answer at `/` counts, as for a
    // started service.
    let sub = write_submission(&dir, "[[service]]\nname = \"orders\"\n");
    let server = NoHealthServer::start();
    let opts = ProbeOptions {
        targets: vec![("orders".into(), format!("http://127.0.0.1:{}", server.port))],
        ..ProbeOptions::default()
    };
    let t = Instant::now();
    let system = System::start(&sub, &opts, &config(10_000)).unwrap();
    let took = t.elapsed();
    let svc = &system.services[0];
    assert!(svc.external);
    assert_eq!(svc.status, Status::Ready);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let seen = server.seen.lock().unwrap().clone();
    assert!(seen.first().is_some_and(|l| l.starts_with("GET / ")), "{seen:?}");
    assert!(!seen.iter().any(|l| l.contains("/health")), "{seen:?}");
    // Reached from inside the run's network namespace, through the exit to its address.
    if unsafe { libc::getuid() } == 0 {
        assert!(system.sandbox.is_isolated(), "{}", system.sandbox.statement());
    }
    drop(system);
}

/// The port of `http://127.0.0.1:PORT`.
fn port_of(base_url: Option<&str>) -> Option<u16> {
    base_url?.rsplit(':').next()?.parse().ok()
}

/// A run command for `sh` that starts shopflow's orders on the port given as its only argument
/// (`$1`), and only when `$SVC_PORT` holds that same port: it proves the argument and the
/// variable carry one port.
fn shop_on_argument(arg: &str) -> String {
    let script = format!(
        "test \"$SVC_PORT\" = \"$1\" || {{ echo \"SVC_PORT=$SVC_PORT, argument $1\" >&2; exit 7; }}; exec '{}' orders --port \"$1\"",
        shopflow().display()
    );
    format!("[\"sh\", \"-c\", {script:?}, \"sh\", {arg:?}]")
}

#[test]
fn the_port_placeholder_in_the_command_gets_the_port_the_grader_chose() {
    let dir = scratch("placeholder");
    // shopflow reads no variable here: without `{port}` replaced, `--port` gets no port.
    let sub = write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nport_env = \"SVC_PORT\"\nhealth = \"/health\"\n",
            shop_on_argument("{port}")
        ),
    );
    let mut system = System::start(&sub, &ProbeOptions::default(), &config(10_000)).unwrap();
    let svc = &system.services[0];
    assert_eq!(svc.status, Status::Ready, "{}", svc.log_tail());
    let port = port_of(svc.base_url.as_deref()).unwrap();
    let pgid = system.pids()[0];
    assert_eq!(
        port_holder(port, pgid),
        PortHolder::Group,
        "the service listens on the port the grader chose"
    );
    let t = system.teardown();
    assert!(t.leftover.is_empty(), "{t:?}");
    assert_gone(pgid);
}

/// The program name of this test process, as /proc shows it to the grader.
fn own_program() -> String {
    std::fs::read_to_string("/proc/self/comm").unwrap().trim().to_string()
}

/// A port that was free on 127.0.0.1 a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_fixed_port_is_where_the_service_is_started_and_probed() {
    let dir = scratch("fixed-port");
    let port = free_port();
    let sub = write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nport = {port}\nport_env = \"SVC_PORT\"\nhealth = \"/health\"\n",
            shop_on_argument("{port}")
        ),
    );
    assert_eq!(sub.services[0].run.as_ref().unwrap().port, Some(port));
    let mut system = System::start(&sub, &ProbeOptions::default(), &config(10_000)).unwrap();
    let svc = &system.services[0];
    assert_eq!(svc.status, Status::Ready, "{}", svc.log_tail());
    assert_eq!(
        svc.base_url.as_deref(),
        Some(format!("http://127.0.0.1:{port}").as_str())
    );
    let pgid = system.pids()[0];
    assert_eq!(port_holder(port, pgid), PortHolder::Group);
    let health = system
        .client
        .get(&svc.url("/health").unwrap(), Duration::from_secs(2))
        .unwrap();
    assert_eq!(health.status, 200);
    let t = system.teardown();
    assert!(t.leftover.is_empty(), "{t:?}");
    assert_gone(pgid);

    // The check, end to end, on the same fixed port (free again after the teardown).
    let (r, _) = run_prb001(&sub, 10_000);
    assert_eq!(r.outcome, Outcome::Passed, "{}", messages(&r));
}

#[test]
fn a_taken_fixed_port_is_not_started_and_its_holder_is_named() {
    let dir = scratch("fixed-port-taken");
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let pid_file = dir.join("orders.pid");
    let sub = write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nport = {port}\nhealth = \"/health\"\n",
            shop(&["orders", "--port", "{port}", "--pid-file", pid_file.to_str().unwrap()])
        ),
    );
    let named = format!("`{}` (pid {})", own_program(), std::process::id());

    let mut system = System::start(&sub, &unsandboxed(), &config(10_000)).unwrap();
    let Status::NotStarted(why) = system.services[0].status.clone() else {
        panic!("{:?}\n{}", system.services[0].status, system.services[0].log_tail())
    };
    assert!(
        why.contains(&format!("port {port}, its fixed `run.port`, is already in use")),
        "{why}"
    );
    assert!(why.contains(&named), "{why}");
    assert!(system.pids().is_empty(), "nothing was started");
    let t = system.teardown();
    assert!(t.leftover.is_empty() && t.killed.is_empty(), "{t:?}");

    let (r, took) = run_prb001_with(&sub, 10_000, unsandboxed());
    let text = messages(&r);
    assert_eq!(r.outcome, Outcome::Failed, "{text}");
    assert!(text.contains("service `orders` could not be started: port"), "{text}");
    assert!(text.contains(&named), "{text}");
    assert!(text.contains("help: a fixed port must be free"), "{text}");
    // At once, not at the readiness deadline.
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(!pid_file.exists(), "the service was never started");
    assert!(
        TcpListener::bind(("127.0.0.1", port)).is_err(),
        "the holder still has its port"
    );
    drop(holder);
}

#[test]
fn a_fixed_port_out_of_range_is_a_manifest_error_at_its_line() {
    let dir = scratch("fixed-port-range");
    for bad in ["0", "65536", "-8080"] {
        std::fs::write(
            dir.join("submission.toml"),
            format!(
                "[[service]]\nname = \"orders\"\n[service.run]\ncommand = [\"prism\", \"mock\", \"-p\", \"{{port}}\"]\nport = {bad}\n"
            ),
        )
        .unwrap();
        let e = Submission::load(&dir).err().unwrap().to_diagnostic().render_plain();
        assert!(e.contains(&format!("`run.port = {bad}` is out of range")), "{e}");
        assert!(e.contains("submission.toml:5:"), "{e}");
        assert!(e.contains("must be 1 to 65535"), "{e}");
    }
    // On the command line: bad input, nothing started.
    let rubric = rubric(&dir, 1_000);
    let out = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["run", "--rubric", rubric.to_str().unwrap(), dir.to_str().unwrap()])
        .args(["--color", "never"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`run.port = -8080` is out of range"), "{stderr}");
}

/// Two gradings of submissions with the same fixed port (as `grade batch` runs them side by
/// side) take turns: the second waits until the first is torn down, instead of finding the
/// first one's service on the port and blaming its own learner.
#[test]
fn gradings_take_turns_on_a_fixed_port() {
    let dir = scratch("fixed-port-turns");
    let port = free_port();
    let sub = write_submission(
        &dir,
        &format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = {}\nport = {port}\nhealth = \"/health\"\n",
            shop(&["orders", "--port", "{port}"])
        ),
    );
    let mut first = System::start(&sub, &ProbeOptions::default(), &config(10_000)).unwrap();
    assert_eq!(
        first.services[0].status,
        Status::Ready,
        "{}",
        first.services[0].log_tail()
    );
    let first_pids = first.pids();

    // A grading that cannot wait long enough: the grader's problem (an error), not a finding.
    let impatient = StartConfig {
        port_wait: Duration::from_millis(300),
        ..config(10_000)
    };
    match System::start(&sub, &ProbeOptions::default(), &impatient) {
        Err(StartError::Infrastructure(e)) => {
            assert!(e.contains(&format!("fixed port {port}")), "{e}");
            assert!(e.contains("another grading on this machine"), "{e}");
            assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        }
        Err(e) => panic!("{e:?}"),
        Ok(s) => panic!("started next to the first grading: {:?}", s.services[0].status),
    }

    // A patient one starts once the first is done, on the same port, and tells that it waits.
    let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let patient = ProbeOptions {
        progress: grade::probe::Progress::new({
            let told = told.clone();
            move |_, what| told.lock().unwrap().push(what.to_string())
        }),
        ..ProbeOptions::default()
    };
    std::thread::scope(|scope| {
        let second = scope.spawn(|| {
            let t = Instant::now();
            let mut system = System::start(&sub, &patient, &config(10_000)).unwrap();
            let waited = t.elapsed();
            let status = system.services[0].status.clone();
            let url = system.services[0].base_url.clone();
            let pids = system.pids();
            let torn = system.teardown();
            (status, url, pids, torn, waited)
        });
        std::thread::sleep(Duration::from_millis(800));
        assert!(!second.is_finished(), "the second grading did not wait for its turn");
        let t = first.teardown();
        assert!(t.leftover.is_empty(), "{t:?}");
        drop(first);
        let (status, url, pids, torn, waited) = second.join().unwrap();
        assert_eq!(status, Status::Ready);
        assert_eq!(url, Some(format!("http://127.0.0.1:{port}")));
        assert!(waited >= Duration::from_millis(800), "{waited:?}");
        let told = told.lock().unwrap().clone();
        assert!(
            told[0].starts_with(&format!("waiting for port {port} (`run.port` of service `orders`)")),
            "{told:?}"
        );
        assert!(told[1].contains("its turn came after"), "{told:?}");
        assert!(torn.leftover.is_empty(), "{torn:?}");
        for pid in first_pids.into_iter().chain(pids) {
            assert_gone(pid);
        }
    });
}

/// The network sandbox: a service sees only the loopback interface, cannot reach a port that
/// a program of this machine listens on outside the grading, and may listen on a port that
/// is taken outside. (Only loopback addresses are ever contacted.)
#[test]
fn in_the_sandbox_a_service_sees_only_loopback() {
    let dir = scratch("sandbox-net");
    // A program of this machine listens on `taken` (the service's fixed port) and on `other`.
    let outside = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = outside.local_addr().unwrap().port();
    let other_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = other_listener.local_addr().unwrap().port();
    // Another learner's submission beside this one.
    let neighbour = dir.with_file_name(format!("{}-neighbour", dir.file_name().unwrap().to_string_lossy()));
    std::fs::create_dir_all(&neighbour).unwrap();
    std::fs::write(neighbour.join("secret.txt"), "their answers").unwrap();
    std::fs::write(
        dir.join("svc.py"),
        r#"
import json, os, socket
from http.server import BaseHTTPRequestHandler, HTTPServer
def reach(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return "connected"
    except OSError as e:
        return type(e).__name__
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        seen = {"interfaces": sorted(n for _, n in socket.if_nameindex()),
                "outside": reach(int(os.environ["OUTSIDE_PORT"])),
                "neighbour": os.path.exists(os.environ["NEIGHBOUR"]),
                "own": os.path.exists("svc.py")}
        body = json.dumps(seen).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"#,
    )
    .unwrap();
    let manifest = |port: &str| {
        format!(
            "[[service]]\nname = \"orders\"\n[service.run]\ncommand = [\"python3\", \"svc.py\"]\n{port}health = \"/\"\n\
             env = {{ OUTSIDE_PORT = \"{other}\", NEIGHBOUR = {:?} }}\n",
            neighbour.join("secret.txt").display().to_string()
        )
    };
    let look = |sub: &Submission, opts: &ProbeOptions| {
        let mut system = System::start(sub, opts, &config(10_000)).unwrap();
        assert_eq!(
            system.services[0].status,
            Status::Ready,
            "{}",
            system.services[0].log_tail()
        );
        let url = system.services[0].url("/").unwrap();
        let seen = system.client.get(&url, Duration::from_secs(10)).unwrap();
        let statement = format!("{} / {}", system.sandbox.statement(), system.files);
        assert!(system.teardown().leftover.is_empty());
        (String::from_utf8_lossy(&seen.body).to_string(), statement)
    };
    let root = unsafe { libc::getuid() } == 0;
    // Sandboxed, on the port a program outside holds.
    let sub = write_submission(&dir, &manifest(&format!("port = {taken}\n")));
    let (seen, statement) = look(&sub, &ProbeOptions::default());
    if root || statement.contains("network namespace of their own") {
        assert_eq!(
            seen, r#"{"interfaces": ["lo"], "outside": "ConnectionRefusedError", "neighbour": false, "own": true}"#,
            "{statement}"
        );
    } else {
        eprintln!("sandbox not checked: {statement}");
    }
    // Unsandboxed, the same service reaches the program outside (on a free port this time).
    let sub = write_submission(&dir, &manifest(""));
    let (seen, statement) = look(&sub, &unsandboxed());
    assert!(seen.contains(r#""outside": "connected""#), "{seen}");
    assert!(seen.contains(r#""neighbour": true"#), "{seen}");
    assert!(statement.contains("NOT isolated (--unsandboxed)"), "{statement}");
    drop((outside, other_listener));
    let _ = std::fs::remove_dir_all(&neighbour);
}

/// A fresh folder holding the gRPC system of fixtures/services/grpc (Node, @grpc/grpc-js) and
/// `toml` as its manifest.
fn grpc_submission(name: &str, toml: &str) -> Submission {
    let dir = scratch(name);
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/services/grpc");
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    write_submission(&dir, toml)
}

/// `run.health = "grpc"`: a gRPC server is ready when grpc.health.v1.Health/Check answers
/// SERVING, for the service named (`grpc:shop.Stock`) or the whole server (`grpc`); one that
/// answers NOT_SERVING, or does not know the service named, never is, and PRB001 says what it
/// answered.
#[test]
#[cfg_attr(
    grade_no_grpc_node,
    ignore = "needs Node's gRPC packages: npm install -g @grpc/grpc-js@1.14.7 @grpc/proto-loader@0.8.1"
)]
fn grpc_health_decides_readiness() {
    let sub = grpc_submission(
        "grpc-health",
        r#"
[[service]]
name = "stock"
[service.run]
command = ["node", "stock.js"]
health = "grpc:shop.Stock"

[[service]]
name = "down"
[service.run]
command = ["node", "stock.js"]
env = { HEALTH = "NOT_SERVING" }
health = "grpc"

[[service]]
name = "unknown"
[service.run]
command = ["node", "stock.js"]
health = "grpc:shop.Nope"
"#,
    );
    let mut system = System::start(&sub, &ProbeOptions::default(), &config(3_000)).unwrap();
    let status = |n: &str| system.service(n).unwrap().status.clone();
    assert_eq!(status("stock"), Status::Ready);
    assert_eq!(
        status("down"),
        Status::NotReady(
            "the gRPC health check (grpc.health.v1.Health/Check of the whole server) answered NOT_SERVING".into()
        )
    );
    assert_eq!(
        status("unknown"),
        Status::NotReady(
            "the gRPC health check (grpc.health.v1.Health/Check of `shop.Nope`): answered gRPC status 5 NOT_FOUND \
             (unknown service shop.Nope)"
                .into()
        )
    );
    let started = system.pids();
    assert_eq!(started.len(), 3);
    let t = system.teardown();
    assert!(t.leftover.is_empty(), "{t:?}");
    for pid in started {
        assert_gone(pid);
    }

    let (r, _) = run_prb001(&sub, 3_000);
    assert_eq!(r.outcome, Outcome::Failed, "{}", messages(&r));
    assert_eq!(r.evidence[0], "1 of 3 services healthy");
    let m = messages(&r);
    assert!(
        m.contains(
            "service `down` did not become ready: the gRPC health check (grpc.health.v1.Health/Check of the whole \
             server) never answered SERVING in time (last: the gRPC health check (grpc.health.v1.Health/Check of \
             the whole server) answered NOT_SERVING)"
        ),
        "{m}"
    );
    assert!(m.contains("set the serving status of the server"), "{m}");
    assert!(
        m.contains("answered gRPC status 5 NOT_FOUND (unknown service shop.Nope)"),
        "{m}"
    );
    assert!(
        m.contains("set the serving status of `shop.Nope` in the health service"),
        "{m}"
    );
}

/// A call from a service to a gRPC server crosses the grader's proxy on their edge in HTTP/2
/// and is recorded (method, path, gRPC content type); a fault injected there reaches the caller
/// as a gRPC error (HTTP 503 as UNAVAILABLE, a reset stream), and the edge works again once
/// the fault is lifted.
#[test]
#[cfg_attr(
    grade_no_grpc_node,
    ignore = "needs Node's gRPC packages: npm install -g @grpc/grpc-js@1.14.7 @grpc/proto-loader@0.8.1"
)]
fn grpc_calls_cross_the_edge_proxy_and_its_faults_reach_the_caller() {
    use grade::probe::proxy::Fault;
    let sub = grpc_submission(
        "grpc-edge",
        r#"
[[service]]
name = "front"
calls = ["stock"]
[service.run]
command = ["node", "front.js"]
env = { RESILIENCE = "none" }
health = "/health"
dependency_env = { stock = "STOCK_ADDR" }

[[service]]
name = "stock"
[service.run]
command = ["node", "stock.js"]
health = "grpc"
"#,
    );
    let mut system = System::start(&sub, &ProbeOptions::default(), &config(10_000)).unwrap();
    assert!(system.services.iter().all(|s| s.status == Status::Ready));
    let url = system.service("front").unwrap().url("/v1/level/SKU-1").unwrap();
    let get = |system: &System| {
        let r = system.client.get(&url, Duration::from_secs(5)).unwrap();
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    };
    assert_eq!(get(&system), (200, r#"{"sku":"SKU-1","quantity":7}"#.to_string()));
    let proxy = system.edge("front", "stock").expect("a proxy on front -> stock");
    let recs = proxy.records();
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(
        (recs[0].method.as_str(), recs[0].target.as_str()),
        ("POST", "/shop.Stock/GetLevel")
    );
    assert_eq!(recs[0].header("content-type"), Some("application/grpc"));
    assert_eq!(recs[0].header("te"), Some("trailers"));
    assert_eq!(recs[0].status, Some(200));

    proxy.set_fault(Fault::Status(503));
    let (status, body) = get(&system);
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("stock failed: UNAVAILABLE"), "{body}");
    proxy.set_fault(Fault::Reset);
    let (status, body) = get(&system);
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("stock failed:"), "{body}");
    proxy.set_fault(Fault::None);
    assert_eq!(get(&system).0, 200);
    assert_eq!(proxy.seen(), 4);

    let started = system.pids();
    let t = system.teardown();
    assert!(t.leftover.is_empty(), "{t:?}");
    for pid in started {
        assert_gone(pid);
    }
}
