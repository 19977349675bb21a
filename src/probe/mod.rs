//! Live probes: start a submission's services (or reach the ones given with `--target`), probe
//! them over HTTP on loopback (or HTTPS at a `--target`), and always tear everything down.
//!
//! One grading starts the system once for all probe items: the grading owns a [`Session`],
//! which the checks reach through their context; the first probe check that asks for the
//! system starts it ([`Session::with_system`]) and it is torn down when the session ends.

pub mod grpc;
pub mod http;
pub mod limits;
pub mod load;
pub mod logs;
pub mod prom;
pub mod proxy;
pub mod reaper;
pub mod sandbox;
pub mod system;
pub mod target;
pub mod tls;

use std::sync::{Arc, OnceLock};

pub use system::{LiveService, StartConfig, StartError, Status, System, Teardown};

use crate::submission::Submission;

/// An error with its causes, `a: b: c` (hyper's errors say little at the top).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// What the user told the grader about probes.
#[derive(Debug, Clone, Default)]
pub struct ProbeOptions {
    /// `--target NAME=URL`: services that already run; probed instead of started.
    pub targets: Vec<(String, String)>,
    /// `--allow-host HOST`: hosts besides loopback that probes may contact.
    pub allow_hosts: Vec<String>,
    /// The certificate authorities https targets may use: the system's and `--ca-cert FILE`.
    pub trust: tls::Trust,
    /// `--allow-unsafe-methods`: `--target` services may get POST, PUT, PATCH and DELETE.
    pub allow_unsafe_methods: bool,
    /// `--unsandboxed`: the live run does not isolate the network ([`sandbox`]).
    pub unsandboxed: bool,
    /// Where the stages of the live run are told (nowhere by default).
    pub progress: Progress,
}

/// A stage of a live run, for the person waiting: a stage that begins (shown until the next
/// one) or one that ended (kept, with what came of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Begins,
    Ended,
}

/// Where the stages of a live run are told: starting each service, waiting for it, each
/// probe and how long it took. The command line shows them on stderr; the default tells no
/// one.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<Tell>>);

/// What is called with each stage.
type Tell = dyn Fn(Stage, &str) + Send + Sync;

impl Progress {
    pub fn new(f: impl Fn(Stage, &str) + Send + Sync + 'static) -> Progress {
        Progress(Some(Arc::new(f)))
    }

    pub fn begins(&self, what: &str) {
        if let Some(f) = &self.0 {
            f(Stage::Begins, what);
        }
    }

    pub fn ended(&self, what: &str) {
        if let Some(f) = &self.0 {
            f(Stage::Ended, what);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(shown)"
        } else {
            "Progress(none)"
        })
    }
}

/// Parses `NAME=URL` and checks the URL against the host policy (no packet is sent).
pub fn parse_target(spec: &str, allow_hosts: &[String]) -> Result<(String, String), String> {
    let Some((name, url)) = spec.split_once('=') else {
        return Err(format!(
            "`--target {spec}`: write it as NAME=URL, e.g. orders=http://127.0.0.1:8080 or orders=https://localhost:8443"
        ));
    };
    let (name, url) = (name.trim(), url.trim());
    if name.is_empty() {
        return Err(format!("`--target {spec}`: the service name is missing"));
    }
    let parsed = target::Url::parse(url)?;
    target::Policy::new(allow_hosts).check(&parsed)?;
    Ok((name.to_string(), url.to_string()))
}

/// The live system of one grading: started on first use (by the first probe check that needs
/// it, with the start configuration of the grading's rubric) and shared by every probe check
/// of the grading; torn down by [`Session::finish`] or when the session is dropped (also when
/// a check panics).
pub struct Session {
    opts: ProbeOptions,
    config: StartConfig,
    system: OnceLock<Result<System, StartError>>,
}

impl Session {
    /// A session that has not started anything yet.
    pub fn new(opts: ProbeOptions, config: StartConfig) -> Session {
        Session {
            opts,
            config,
            system: OnceLock::new(),
        }
    }

    /// How the system starts (from the rubric's `[system]` table).
    pub fn config(&self) -> &StartConfig {
        &self.config
    }

    /// Runs `f` with the submission's running system, starting it on first use.
    pub fn with_system<R>(&self, sub: &Submission, f: impl FnOnce(&Result<System, StartError>) -> R) -> R {
        f(self.system.get_or_init(|| System::start(sub, &self.opts, &self.config)))
    }

    /// Tears the system down now (if it was started) and reports what was left.
    pub fn finish(mut self) -> Teardown {
        match self.system.take() {
            Some(Ok(mut sys)) => sys.teardown(),
            _ => Teardown::default(),
        }
    }
}
