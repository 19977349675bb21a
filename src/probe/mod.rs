//! Live probes: start a submission's services (or reach the ones given with `--target`), probe
//! them over HTTP on loopback, and always tear everything down.
//!
//! One grading starts the system once for all probe items: the engine opens a [`Session`]
//! (see [`enter`]) and the first probe check that asks for the system starts it
//! ([`with_system`]); it is torn down when the session guard drops. Without a session (a
//! check run on its own, as in the fixture tests) each call starts and tears down its own.

pub mod http;
pub mod load;
pub mod logs;
pub mod prom;
pub mod proxy;
pub mod reaper;
pub mod system;
pub mod target;

use std::cell::RefCell;
use std::rc::Rc;

pub use system::{LiveService, StartConfig, StartError, Status, System, Teardown};

use crate::submission::Submission;

/// What the user told the grader about probes.
#[derive(Debug, Clone, Default)]
pub struct ProbeOptions {
    /// `--target NAME=URL`: services that already run; probed instead of started.
    pub targets: Vec<(String, String)>,
    /// `--allow-host HOST`: hosts besides loopback that probes may contact.
    pub allow_hosts: Vec<String>,
}

/// Parses `NAME=URL` and checks the URL against the host policy (no packet is sent).
pub fn parse_target(spec: &str, allow_hosts: &[String]) -> Result<(String, String), String> {
    let Some((name, url)) = spec.split_once('=') else {
        return Err(format!(
            "`--target {spec}`: write it as NAME=URL, e.g. orders=http://127.0.0.1:8080"
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

/// The probes of one grading.
pub struct Session {
    opts: ProbeOptions,
    system: RefCell<Option<Result<System, StartError>>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Session>>> = const { RefCell::new(None) };
}

/// Opens the probe session of one grading on this thread; dropping the guard tears down.
pub fn enter(opts: ProbeOptions) -> SessionGuard {
    let session = Rc::new(Session {
        opts,
        system: RefCell::new(None),
    });
    let previous = CURRENT.with(|c| c.replace(Some(session)));
    SessionGuard { previous }
}

pub struct SessionGuard {
    previous: Option<Rc<Session>>,
}

impl SessionGuard {
    /// Tears the system down now (if it was started) and reports what was left.
    pub fn finish(self) -> Teardown {
        let session = CURRENT.with(|c| c.borrow().clone());
        let mut t = Teardown::default();
        if let Some(s) = session {
            if let Some(Ok(sys)) = s.system.borrow_mut().as_mut() {
                t = sys.teardown();
            }
        }
        drop(self);
        t
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        let session = CURRENT.with(|c| c.replace(self.previous.take()));
        // Dropping the session drops the system, whose Drop tears down.
        drop(session);
    }
}

/// Runs `f` with the submission's running system, starting it on first use in this session.
pub fn with_system<R>(sub: &Submission, config: &StartConfig, f: impl FnOnce(&Result<System, StartError>) -> R) -> R {
    let session = CURRENT.with(|c| c.borrow().clone());
    match session {
        Some(s) => {
            if s.system.borrow().is_none() {
                let started = System::start(sub, &s.opts, config);
                *s.system.borrow_mut() = Some(started);
            }
            let guard = s.system.borrow();
            match guard.as_ref() {
                Some(started) => f(started),
                None => f(&Err(StartError::Infrastructure(
                    "the probe session lost its system".into(),
                ))),
            }
        }
        None => {
            let started = System::start(sub, &ProbeOptions::default(), config);
            f(&started)
        }
    }
}
