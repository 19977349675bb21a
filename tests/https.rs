//! HTTPS targets: a local HTTPS server (Python 3's standard library, `fixtures/tls/
//! https_server.py`, with the test-only certificate of `fixtures/tls/`) graded and probed as
//! `--target` with and without `--ca-cert`, and the host policy for https URLs. Everything runs
//! on 127.0.0.1 at free ports and every server is stopped when its test ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use grade::probe::http::{Client, HttpError};
use grade::probe::load::{self, LoadConfig, LoadError};
use grade::probe::target::{Policy, Trust};

fn tls_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls").join(name)
}

/// The HTTPS server of `fixtures/tls/https_server.py` on 127.0.0.1 (a free port); killed when
/// dropped.
struct HttpsServer {
    child: Child,
    port: u16,
}

impl HttpsServer {
    fn start() -> HttpsServer {
        let mut child = Command::new("python3")
            .arg(tls_fixture("https_server.py"))
            .arg(tls_fixture("server.pem"))
            .arg(tls_fixture("server-key.pem"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 (the test's HTTPS server) must be installed");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the HTTPS server printed no port: {line:?}")
        });
        HttpsServer { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn trusting_the_test_ca() -> Trust {
    Trust::with_ca_certs(&[tls_fixture("ca.pem")]).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grade-https-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A submission with one service `orders` (its command would fail: `--target` means it is never
/// run) and a rubric with PRB001; the folder and the rubric's path.
fn submission(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    std::fs::write(
        dir.join("submission.toml"),
        "[[service]]\nname = \"orders\"\n[service.run]\ncommand = [\"false\"]\nhealth = \"/health\"\n",
    )
    .unwrap();
    let rubric = dir.join("rubric.toml");
    std::fs::write(
        &rubric,
        r#"[rubric]
id = "https-test"
title = "HTTPS test"
version = "1.0.0"
threshold = 50

[[section]]
id = "live"
title = "Live"

[system]
ready_timeout_ms = 10000

[[section.item]]
check = "PRB001"
weight = 1
"#,
    )
    .unwrap();
    (dir, rubric)
}

fn grade(dir: &Path, rubric: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["run", "--rubric", rubric.to_str().unwrap(), dir.to_str().unwrap()])
        .args(["--format", "json", "--color", "never"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn the_probe_client_speaks_https_with_the_given_ca_and_refuses_an_untrusted_certificate() {
    let server = HttpsServer::start();
    let trusted = Client::new(Policy::default().with_trust(trusting_the_test_ca()));
    let r = trusted.get(&server.url("/health"), Duration::from_secs(10)).unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &br#"{"status":"ok"}"#[..]));
    // By name too: the certificate lists `localhost`.
    let r = trusted
        .get(
            &format!("https://localhost:{}/health", server.port),
            Duration::from_secs(10),
        )
        .unwrap();
    assert_eq!(r.status, 200);

    // Without the test CA: not trusted, and the message names the fix.
    let e = Client::new(Policy::default()).get(&server.url("/health"), Duration::from_secs(10));
    match e {
        Err(HttpError::Tls(m)) => {
            assert!(m.contains("certificate of 127.0.0.1 is not trusted"), "{m}");
            assert!(m.contains("--ca-cert"), "{m}");
        }
        other => panic!("expected a TLS refusal, got {other:?}"),
    }
}

#[test]
fn the_load_generator_speaks_https() {
    let server = HttpsServer::start();
    let mut cfg = LoadConfig::new(server.url("/health"), 50.0, Duration::from_millis(400), 2);
    cfg.policy = Policy::default().with_trust(trusting_the_test_ca());
    let r = load::run(&cfg).unwrap();
    assert_eq!((r.scheduled, r.completed, r.transport_errors), (20, 20, 0), "{r:?}");
    assert_eq!(r.statuses.get(&200), Some(&20), "{r:?}");

    // Without the CA every request fails, and the first error says why.
    cfg.policy = Policy::default();
    let r = load::run(&cfg).unwrap();
    assert_eq!((r.completed, r.transport_errors), (0, 20), "{r:?}");
    let first = r.first_error.unwrap_or_default();
    assert!(first.contains("not trusted") && first.contains("--ca-cert"), "{first}");
}

#[test]
fn the_cli_grades_an_https_target_trusted_with_ca_cert() {
    let server = HttpsServer::start();
    let (dir, rubric) = submission("cli");
    let target = format!("orders={}", server.url(""));
    let ca = tls_fixture("ca.pem");
    let out = grade(&dir, &rubric, &["--target", &target, "--ca-cert", ca.to_str().unwrap()]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["items"][0]["outcome"], "passed", "{report:#}");
    assert_eq!(out.status.code(), Some(0));

    // Without --ca-cert the target is not ready, at once (a certificate does not become
    // trusted by waiting), and the finding names the fix.
    let t = Instant::now();
    let out = grade(&dir, &rubric, &["--target", &target]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["items"][0]["outcome"], "failed", "{report:#}");
    let text = report["items"][0].to_string();
    assert!(text.contains("is not trusted"), "{report:#}");
    assert!(text.contains("--ca-cert FILE"), "{report:#}");
    assert!(t.elapsed() < Duration::from_secs(9), "{:?}", t.elapsed());
}

#[test]
fn a_ca_cert_that_cannot_be_read_is_a_usage_error_naming_the_file() {
    let (dir, rubric) = submission("bad-ca");
    // A missing file; a key, which is not a certificate.
    for (file, says) in [
        (dir.join("nowhere.pem"), "--ca-cert"),
        (tls_fixture("server-key.pem"), "holds no certificate"),
    ] {
        let out = grade(
            &dir,
            &rubric,
            &[
                "--target",
                "orders=https://127.0.0.1:9",
                "--ca-cert",
                file.to_str().unwrap(),
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(stderr.contains(says) && stderr.contains(&*name), "{stderr}");
    }
}

#[test]
fn https_hosts_outside_the_policy_are_refused_before_any_connection() {
    let client = Client::new(Policy::default().with_trust(trusting_the_test_ca()));
    for url in [
        "https://10.0.0.1:9/health",
        "https://example.com/",
        "https://[2001:db8::1]/",
    ] {
        let t = Instant::now();
        match client.get(url, Duration::from_secs(30)) {
            Err(HttpError::Refused(msg)) => assert!(msg.contains("--allow-host"), "{msg}"),
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
        // No SYN, no DNS, no handshake: far inside the 30 s a connection attempt could wait.
        assert!(t.elapsed() < Duration::from_secs(5), "{url}: {:?}", t.elapsed());
    }
    let cfg = LoadConfig::new("https://example.com/", 10.0, Duration::from_secs(1), 1);
    assert!(matches!(load::run(&cfg), Err(LoadError::Refused(_))));
    assert!(matches!(
        grade::probe::parse_target("orders=https://10.0.0.1", &[]),
        Err(m) if m.contains("refusing to contact 10.0.0.1")
    ));
    assert!(grade::probe::parse_target("orders=https://10.0.0.1", &["10.0.0.1".into()]).is_ok());

    // And from the command line, at once with the usage exit code.
    let (dir, rubric) = submission("refuse");
    let out = grade(&dir, &rubric, &["--target", "orders=https://10.0.0.1/"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refusing to contact 10.0.0.1"), "{stderr}");
}
