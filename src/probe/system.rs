//! Starting a submission's services from `[service.run]` (or taking them from `--target`),
//! in dependency order, waiting for readiness, and tearing everything down.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::grpc;
use super::http::{Client, HttpError};
use super::limits::{self, Cgroup, Limits};
use super::logs::LogBuf;
use super::proxy::EdgeProxy;
use super::reaper;
use super::sandbox::NetSandbox;
use super::target::{Policy, Url};
use super::ProbeOptions;
use crate::files::paths;
use crate::submission::{with_port, RunSpec, Submission};

/// Environment variables passed through to services (everything else is cleared).
/// `SHOPFLOW_BIN` names the course's reference ShopFlow binary for the launcher of the
/// reference submissions (`bin/shopflow`, fixtures/submissions/README.md).
const PASS_ENV: [&str; 14] = [
    "CARGO_TARGET_DIR",
    "SHOPFLOW_BIN",
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TERM",
    "SHELL",
    "JAVA_HOME",
];
/// Prefixes of variables passed through (language toolchains and virtual environments).
const PASS_ENV_PREFIXES: [&str; 6] = ["PYENV_", "NVM_", "VIRTUAL_ENV", "CARGO_HOME", "RUSTUP_", "GO"];

/// How services are started and stopped.
#[derive(Debug, Clone)]
pub struct StartConfig {
    /// How long each service may take to become ready.
    pub ready_timeout: Duration,
    /// Time between SIGTERM and SIGKILL at teardown.
    pub grace: Duration,
    /// Bytes kept of each of a service's stdout and stderr.
    pub log_cap: usize,
    /// How long a start waits for its turn on a fixed port (`run.port`) that another grading
    /// on this machine is using, before the grader gives up (an error of the grader, not a
    /// finding).
    pub port_wait: Duration,
    /// Each started service's process and memory limits ([`super::limits`]).
    pub limits: Limits,
}

impl Default for StartConfig {
    fn default() -> Self {
        StartConfig {
            ready_timeout: Duration::from_secs(20),
            grace: Duration::from_secs(3),
            log_cap: 64 * 1024,
            port_wait: Duration::from_secs(120),
            limits: Limits::default(),
        }
    }
}

/// Why there is no running system to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// No service declares `[service.run]` and no `--target` was given: probes do not apply.
    NothingToRun,
    /// The grader itself could not start services (e.g. no free port, cannot spawn processes).
    Infrastructure(String),
}

/// How a service ended up after starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Its readiness path answered 2xx.
    Ready,
    /// It could not be started (command not found, bad cwd, refused target).
    NotStarted(String),
    /// Its process exited before it became ready.
    Exited(String),
    /// It ran but did not become ready in time; the last answer or error.
    NotReady(String),
}

/// A started process: its group, and its captured output.
#[derive(Debug)]
pub struct Process {
    pub child: Child,
    pub pid: i32,
    pub stdout: Arc<LogBuf>,
    pub stderr: Arc<LogBuf>,
    reaped: Option<ExitStatus>,
    /// The port it was given and its dependency variables (a helper program of the service,
    /// such as its provider-state command, gets the same).
    port: u16,
    deps: BTreeMap<String, String>,
    /// Its control group (resource limits), when the grader could make one.
    cgroup: Option<Cgroup>,
}

/// One service of the running system.
#[derive(Debug)]
pub struct LiveService {
    pub name: String,
    /// Index in `Submission::services`.
    pub index: usize,
    /// `http://127.0.0.1:PORT` (or the `--target` URL's origin).
    pub base_url: Option<String>,
    pub health: Option<String>,
    /// `run.health = "grpc"` (`Some("")`) or `"grpc:<service>"`: the gRPC service whose
    /// health (`grpc.health.v1.Health/Check`) tells that the service is ready.
    pub grpc_health: Option<String>,
    pub ready: Option<String>,
    /// True when given with `--target` (not started by the grader).
    pub external: bool,
    pub status: Status,
    pub process: Option<Process>,
}

impl LiveService {
    /// The last lines of stderr and stdout, for findings.
    pub fn log_tail(&self) -> String {
        let Some(p) = &self.process else { return String::new() };
        let mut out = String::new();
        for (name, buf) in [("stderr", &p.stderr), ("stdout", &p.stdout)] {
            let lines = buf.tail(12, 200);
            if lines.is_empty() {
                continue;
            }
            out.push_str(&format!("\n{name} (last lines):"));
            for l in lines {
                out.push_str("\n  ");
                out.push_str(&l);
            }
        }
        if out.is_empty() {
            out.push_str("\n(it wrote nothing to stdout or stderr)");
        }
        out
    }

    pub fn url(&self, path: &str) -> Option<String> {
        self.base_url.as_ref().map(|b| format!("{b}{path}"))
    }
}

/// What teardown found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Teardown {
    /// Services whose process group still had members after SIGKILL: (service, pids).
    pub leftover: Vec<(String, Vec<i32>)>,
    /// Services that needed SIGKILL after the grace period.
    pub killed: Vec<String>,
    /// The resource limits each service hit during the run: (service, what).
    pub limits: Vec<(String, String)>,
}

/// The running services of one submission. Dropping it tears everything down.
#[derive(Debug)]
pub struct System {
    /// In start order (callees first).
    pub services: Vec<LiveService>,
    /// Remarks about the start (cycles, unknown targets), for evidence.
    pub notes: Vec<String>,
    /// How the network of the run is confined (see [`super::sandbox`]).
    pub sandbox: NetSandbox,
    /// What the services could see of the files around the submission, for the report.
    pub files: String,
    /// The mount namespace learner processes enter (other submissions hidden).
    mount_ns: Option<super::sandbox::MountNs>,
    /// The network namespace the starting thread goes back to at teardown.
    home: Option<super::sandbox::Home>,
    /// The exits to `--target` services outside the namespace.
    exits: Option<super::sandbox::Forwarders>,
    /// Whether services get control groups (resource limits); why not, once it failed.
    limited: bool,
    pub unlimited: Option<String>,
    pub client: Client,
    /// The grader's proxies on the edges between started services (see [`super::proxy`]).
    pub proxies: Vec<EdgeProxy>,
    /// Names of the services chosen to run (started or about to be).
    will_start: BTreeSet<String>,
    /// `--allow-unsafe-methods`: `--target` services may get unsafe methods.
    allow_unsafe_on_targets: bool,
    config: StartConfig,
    torn_down: bool,
    /// This grading's turns on the fixed ports of its services, released by teardown.
    turns: Vec<PortTurn>,
}

impl System {
    /// Starts every service with a `run` table (or a `--target`) and waits for each to be ready.
    pub fn start(sub: &Submission, opts: &ProbeOptions, config: &StartConfig) -> Result<System, StartError> {
        let mut client = Client::new(Policy::new(&opts.allow_hosts).with_trust(opts.trust.clone()));
        client.max_response = sub.limits.max_response;
        let mut notes = Vec::new();
        let targets: BTreeMap<&str, &str> = opts.targets.iter().map(|(n, u)| (n.as_str(), u.as_str())).collect();
        for name in targets.keys() {
            if !sub.services.iter().any(|s| s.name.name == *name) {
                notes.push(format!("--target names `{name}`, which is not a declared service"));
            }
        }
        let chosen: Vec<usize> = (0..sub.services.len())
            .filter(|&i| {
                let s = &sub.services[i];
                s.run.is_some() || targets.contains_key(s.name.name.as_str())
            })
            .collect();
        if chosen.is_empty() {
            return Err(StartError::NothingToRun);
        }
        // Before anything of the run exists: what the thread starts from here on shares the
        // namespace (processes, proxies, the clients' threads).
        let (sandbox, home, exits) = if opts.unsandboxed {
            (NetSandbox::Open("--unsandboxed".into()), None, None)
        } else {
            // `--target` services on this machine's loopback are reached through exits.
            let exits: Vec<std::net::SocketAddr> = targets
                .values()
                .filter_map(|u| Url::parse(u).ok())
                .filter_map(|u| client.policy.addresses(&u).ok())
                .flatten()
                .collect();
            super::sandbox::isolate_network_with_exits(&exits)
        };
        let (order, cycle) = start_order(sub, &chosen);
        if let Some(c) = cycle {
            notes.push(format!(
                "the calls between {c} form a cycle, so no callee-first order exists: started in declaration order"
            ));
        }
        reaper::install_signal_handlers();
        let mut system = System {
            services: Vec::new(),
            notes,
            sandbox,
            files: String::new(),
            mount_ns: None,
            home,
            exits,
            limited: !opts.unsandboxed,
            unlimited: opts
                .unsandboxed
                .then(|| "--unsandboxed: the services ran without process and memory limits".to_string()),
            client,
            proxies: Vec::new(),
            will_start: chosen.iter().map(|&i| sub.services[i].name.name.clone()).collect(),
            allow_unsafe_on_targets: opts.allow_unsafe_methods,
            config: config.clone(),
            torn_down: false,
            turns: Vec::new(),
        };
        let mut used_ports = BTreeSet::new();
        // Fixed ports (`run.port`), in ascending order so that two gradings never wait for each
        // other crosswise: no other service of this run gets one; this grading takes its turn on
        // each among the gradings of this machine, then holds it on 127.0.0.1 until its service
        // starts, so that no proxy of this run lands on it meanwhile. A port found taken is
        // the reason its service is not started.
        let fixed: BTreeMap<u16, &str> = chosen
            .iter()
            .map(|&i| &sub.services[i])
            .filter(|s| !targets.contains_key(s.name.name.as_str()))
            .filter_map(|s| Some((s.run.as_ref()?.port?, s.name.name.as_str())))
            .collect();
        let mut reserved: BTreeMap<u16, Result<TcpListener, String>> = BTreeMap::new();
        for (&port, service) in &fixed {
            used_ports.insert(port);
            // On error `system` is dropped on return, releasing the turns already taken.
            if let Some(turn) = take_turn(port, service, config.port_wait, &opts.progress)? {
                system.turns.push(turn);
            }
            reserved.insert(port, reserve(port));
        }
        // Other learners' folders out of sight of what the run starts.
        // (After the turns on fixed ports: their lock files lie in TMPDIR, which may be covered.)
        let (files, mount_ns) = if opts.unsandboxed {
            ("--unsandboxed".to_string(), None)
        } else {
            match super::sandbox::hide_siblings(&sub.root, &toolchain_paths()) {
                Ok((n, home)) => (
                    format!(
                        "what lies beside the submission folder (other submissions, in a cohort) was hidden from the \
                         services: {n} folders and files"
                    ),
                    Some(home),
                ),
                Err(why) => (
                    format!("the folders beside the submission were NOT hidden ({why})"),
                    None,
                ),
            }
        };
        system.files = files;
        system.mount_ns = mount_ns;
        let count = order.len();
        for (n, i) in order.into_iter().enumerate() {
            let svc = &sub.services[i];
            let verb = if targets.contains_key(svc.name.name.as_str()) {
                "reaching"
            } else {
                "starting"
            };
            opts.progress
                .begins(&format!("{verb} service {} ({}/{count})", svc.name.name, n + 1));
            let run = svc.run.clone();
            let mut live = LiveService {
                name: svc.name.name.clone(),
                index: i,
                base_url: None,
                health: run.as_ref().and_then(|r| r.health.clone()),
                grpc_health: run.as_ref().and_then(|r| r.grpc_health.clone()),
                ready: run.as_ref().and_then(|r| r.ready.clone()),
                external: false,
                status: Status::NotStarted(String::new()),
                process: None,
            };
            if let Some(url) = targets.get(svc.name.name.as_str()) {
                // Ready by the rule of started services: its `ready` path, else its `health`
                // path, else any answer at `/`.
                live.external = true;
                match Url::parse(url).and_then(|u| system.client.policy.check(&u).map(|_| u)) {
                    Ok(u) => {
                        live.base_url = Some(u.origin());
                        live.status = match system.wait_ready(&mut live) {
                            Wait::Done(status) => status,
                            // A target has no process group: never a stranger.
                            Wait::Stranger { pid, program } => {
                                Status::NotStarted(format!("`{program}` (pid {pid}) answered"))
                            }
                        };
                    }
                    Err(e) => live.status = Status::NotStarted(format!("--target {}: {e}", live.name)),
                }
            } else if let Some(run) = run {
                // On error `system` is dropped on return, tearing down what already runs.
                let deps = system.wire_edges(sub, svc)?;
                if let Some(port) = run.port {
                    let hold = reserved
                        .remove(&port)
                        .unwrap_or_else(|| Err(format!("port {port} is also the fixed port of another service")));
                    live.status = system.start_fixed(sub, &run, &mut live, port, hold, &deps)?;
                } else {
                    let mut strangers = Vec::new();
                    loop {
                        let port = free_port(&mut used_ports)?;
                        let group = system.cgroup(&live.name);
                        let ns = system.mount_ns.as_ref().map(|n| n.raw());
                        match spawn(sub, &run, &live.name, port, &deps, config, (group, ns)) {
                            Ok(p) => {
                                live.base_url = Some(format!("http://127.0.0.1:{port}"));
                                live.process = Some(p);
                                match system.wait_ready(&mut live) {
                                    Wait::Done(status) => live.status = status,
                                    Wait::Stranger { pid, program } => {
                                        // Another program took the port between our choosing it
                                        // and the service binding it (often a second grader that
                                        // drew the same free port): a new port, not the learner's
                                        // fault. Three in a row means the service itself hands
                                        // the port to a program outside its process group.
                                        if let Some(p) = live.process.take() {
                                            p.kill_now();
                                        }
                                        strangers.push(format!("port {port}: `{program}` (pid {pid}) answered"));
                                        if strangers.len() < 3 {
                                            continue;
                                        }
                                        live.status = Status::NotStarted(format!(
                                            "each time it was started, a program outside its process group \
                                             answered on the port it was given ({}); a service must listen \
                                             itself, or keep the program that does in its process group",
                                            strangers.join("; ")
                                        ));
                                    }
                                }
                            }
                            Err(SpawnError::Learner(msg)) => live.status = Status::NotStarted(msg),
                            Err(SpawnError::Infrastructure(msg)) => {
                                // `system` is dropped on return, tearing down what already runs.
                                return Err(StartError::Infrastructure(msg));
                            }
                        }
                        break;
                    }
                }
            }
            if let (Some(auth), Some(base)) = (svc.run.as_ref().and_then(|r| r.auth.as_ref()), &live.base_url) {
                match (auth.resolve(), Url::parse(base)) {
                    (Ok(value), Ok(u)) => system.client.add_credentials(&u.host_header(), &auth.header, &value),
                    (Err(why), _) => system.notes.push(format!("`{}`: {why}", live.name)),
                    (_, Err(_)) => {}
                }
            }
            opts.progress.ended(&format!(
                "service {} ({}/{count}): {}",
                live.name,
                n + 1,
                match &live.status {
                    Status::Ready => "ready",
                    Status::NotStarted(_) => "not started",
                    Status::Exited(_) => "exited before it was ready",
                    Status::NotReady(_) => "not ready in time",
                }
            ));
            if live.status == Status::Ready {
                if let Some(url) = &live.base_url {
                    for p in system
                        .proxies
                        .iter()
                        .filter(|p| p.callee == live.name && !p.has_upstream())
                    {
                        p.set_upstream(url);
                    }
                }
            }
            system.services.push(live);
        }
        // The edge proxies forward in plain HTTP: a started service calling an https target
        // through one gets 502 there, which is the grader's limit, not the learner's fault.
        let https_callees: Vec<&str> = system
            .services
            .iter()
            .filter(|s| s.base_url.as_deref().is_some_and(|u| u.starts_with("https://")))
            .map(|s| s.name.as_str())
            .collect();
        let mut notes = Vec::new();
        for p in system
            .proxies
            .iter()
            .filter(|p| https_callees.contains(&p.callee.as_str()))
        {
            notes.push(format!(
                "`{}` calls the https --target `{}` through the grader's proxy, which forwards plain HTTP only: \
                 those calls fail with 502 (give `{}` an http:// --target to grade that edge)",
                p.caller, p.callee, p.callee
            ));
        }
        system.notes.extend(notes);
        Ok(system)
    }

    /// The dependency variables of `svc`: for each callee already started, a new proxy in front
    /// of it. Besides the edges `svc` maps in `run.dependency_env`, a started service that `svc`
    /// does not declare a call to, but that another service reaches through a variable, is
    /// offered to `svc` under that variable too, through a proxy marked undeclared: a call seen
    /// there is a call the manifest does not declare.
    fn wire_edges(
        &mut self,
        sub: &Submission,
        svc: &crate::submission::Service,
    ) -> Result<BTreeMap<String, String>, StartError> {
        let Some(run) = svc.run.as_ref() else {
            return Ok(BTreeMap::new());
        };
        let caller = svc.name.name.as_str();
        let declared_calls: BTreeSet<&str> = svc.calls.iter().map(|c| c.name.as_str()).collect();
        let mut wanted: Vec<(String, String, bool)> = run
            .dependency_env
            .iter()
            .map(|(dep, var)| (dep.clone(), var.clone(), declared_calls.contains(dep.as_str())))
            .collect();
        let taken: BTreeSet<String> = run.dependency_env.values().chain(run.env.keys()).cloned().collect();
        for other in &sub.services {
            let Some(other_run) = other.run.as_ref() else { continue };
            if other.name.name == caller {
                continue;
            }
            for (dep, var) in &other_run.dependency_env {
                let known = run.dependency_env.contains_key(dep) || dep == caller;
                if !known && !taken.contains(var) && !wanted.iter().any(|(d, v, _)| d == dep || v == var) {
                    wanted.push((dep.clone(), var.clone(), declared_calls.contains(dep.as_str())));
                }
            }
        }
        let mut deps = BTreeMap::new();
        for (dep, var, declared) in wanted {
            let started = self.services.iter().find(|s| s.name == dep);
            let upstream = match started {
                Some(s) if s.status == Status::Ready => s.base_url.clone(),
                // Started but not ready: the caller still gets its variable, and calls through
                // it fail like calls to a dead service (502 from the proxy).
                Some(_) => None,
                // Starts later (it has a `run` table or a `--target`): wired once it is ready.
                None if self.will_start.contains(&dep) => None,
                None => continue,
            };
            let proxy = EdgeProxy::start(caller, &dep, declared, upstream.as_deref())
                .map_err(|e| StartError::Infrastructure(format!("cannot start the proxy {caller} -> {dep}: {e}")))?;
            deps.insert(var, proxy.url.clone());
            self.proxies.push(proxy);
        }
        Ok(deps)
    }

    /// The proxy on the edge `caller` -> `callee`, if both run.
    pub fn edge(&self, caller: &str, callee: &str) -> Option<&EdgeProxy> {
        self.proxies.iter().find(|p| p.caller == caller && p.callee == callee)
    }

    /// Polls the ready path (else the gRPC health service or the health path, else `/`) until
    /// it answers 2xx (the gRPC health service: SERVING), the process exits, or the deadline
    /// passes; backs off from 20 ms to 500 ms between attempts. A started service is ready only
    /// if the answer came from its own process group (or a program it started): a stranger
    /// holding its port is reported, not taken for the service.
    fn wait_ready(&self, live: &mut LiveService) -> Wait {
        let grpc = live.grpc_health.clone().filter(|_| live.ready.is_none());
        let path = live.ready.clone().or_else(|| live.health.clone());
        let any_answer = path.is_none() && grpc.is_none();
        let path = path.unwrap_or_else(|| "/".into());
        let Some(url) = live.url(&path) else {
            return Wait::Done(Status::NotStarted("no URL".into()));
        };
        let deadline = Instant::now() + self.config.ready_timeout;
        let mut backoff = Duration::from_millis(20);
        let mut last = String::from("it was never asked");
        let port = Url::parse(&url).map(|u| u.port).unwrap_or_default();
        // A service that exited while a program outside its group holds its port most likely
        // lost the port to that program (often a second grader that drew the same free port)
        // between our choosing it and its binding it: a stranger, not the learner's fault.
        let exited = |p: &Process, st: ExitStatus| -> Wait {
            p.settle_logs(Duration::from_millis(500));
            match reaper::port_holder(port, p.pid) {
                reaper::PortHolder::Stranger { pid, program } => Wait::Stranger { pid, program },
                _ => Wait::Done(Status::Exited(describe_exit(st))),
            }
        };
        loop {
            if let Some(p) = live.process.as_mut() {
                if let Some(st) = p.try_wait() {
                    return exited(p, st);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Wait::Done(Status::NotReady(last));
            }
            let attempt = match &grpc {
                Some(service) => self.grpc_attempt(&url, service, left.min(Duration::from_secs(2))),
                None => self.http_attempt(&url, &path, any_answer, left.min(Duration::from_secs(2))),
            };
            match attempt {
                Attempt::Ready => {
                    // A stranger on the port could answer while our process dies: look again.
                    if let Some(p) = live.process.as_mut() {
                        std::thread::sleep(Duration::from_millis(10));
                        if let Some(st) = p.try_wait() {
                            return exited(p, st);
                        }
                        if let reaper::PortHolder::Stranger { pid, program } = reaper::port_holder(port, p.pid) {
                            return Wait::Stranger { pid, program };
                        }
                    }
                    return Wait::Done(Status::Ready);
                }
                Attempt::NotYet(why) => last = why,
                Attempt::Refused(why) => return Wait::Done(Status::NotStarted(why)),
                // A certificate does not become trusted by waiting.
                Attempt::Hopeless(why) => return Wait::Done(Status::NotReady(why)),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            std::thread::sleep(backoff.min(left));
            backoff = (backoff * 2).min(Duration::from_millis(500));
        }
    }

    /// One readiness request over HTTP: `GET path`, ready on 2xx (or on any answer).
    fn http_attempt(&self, url: &str, path: &str, any_answer: bool, timeout: Duration) -> Attempt {
        match self.client.get(url, timeout) {
            Ok(r) if r.is_success() || any_answer => Attempt::Ready,
            Ok(r) => Attempt::NotYet(format!("GET {path} answered {}", r.status_line())),
            Err(HttpError::ConnectionRefused) => Attempt::NotYet(nothing_listened(url)),
            Err(HttpError::Refused(e)) => Attempt::Refused(e),
            Err(e @ HttpError::Tls(_)) => Attempt::Hopeless(format!("GET {path}: {e}")),
            Err(e) => Attempt::NotYet(format!("GET {path}: {e}")),
        }
    }

    /// One gRPC health check of `service` (empty: the server), ready on SERVING.
    fn grpc_attempt(&self, url: &str, service: &str, timeout: Duration) -> Attempt {
        let what = grpc_health_call(service);
        match grpc::check_health(&self.client, url, service, timeout) {
            Ok(grpc::Serving::Serving) => Attempt::Ready,
            Ok(other) => Attempt::NotYet(format!("{what} answered {other}")),
            Err(grpc::GrpcError::ConnectionRefused) => Attempt::NotYet(nothing_listened(url)),
            Err(grpc::GrpcError::Refused(e)) => Attempt::Refused(e),
            Err(e) => Attempt::NotYet(format!("{what}: {e}")),
        }
    }

    /// Starts a service on its fixed port (`run.port`), which `hold` reserved on 127.0.0.1 (or
    /// says who held it).
    fn start_fixed(
        &mut self,
        sub: &Submission,
        run: &RunSpec,
        live: &mut LiveService,
        port: u16,
        hold: Result<TcpListener, String>,
        deps: &BTreeMap<String, String>,
    ) -> Result<Status, StartError> {
        match hold {
            // Let go just before the service binds it.
            Ok(listener) => drop(listener),
            Err(why) => return Ok(Status::NotStarted(why)),
        }
        let group = self.cgroup(&live.name);
        let ns = self.mount_ns.as_ref().map(|n| n.raw());
        match spawn(sub, run, &live.name, port, deps, &self.config, (group, ns)) {
            Ok(p) => {
                live.base_url = Some(format!("http://127.0.0.1:{port}"));
                live.process = Some(p);
                Ok(self.wait_fixed(live, port))
            }
            Err(SpawnError::Learner(msg)) => Ok(Status::NotStarted(msg)),
            Err(SpawnError::Infrastructure(msg)) => Err(StartError::Infrastructure(msg)),
        }
    }

    /// Waits for a service started on its fixed port (`run.port`). A program outside its
    /// process group that holds the port (one that took it as the service started, or one the
    /// service handed it to) is named, and the service stopped: there is no other port to try.
    fn wait_fixed(&self, live: &mut LiveService, port: u16) -> Status {
        let pgid = live.process.as_ref().map_or(0, |p| p.pid);
        let (pid, program) = match self.wait_ready(live) {
            Wait::Done(Status::Ready) => return Status::Ready,
            // It exited or never became ready: was the port someone else's?
            Wait::Done(status) => match reaper::port_holder(port, pgid) {
                reaper::PortHolder::Stranger { pid, program } => (pid, program),
                _ => return status,
            },
            Wait::Stranger { pid, program } => (pid, program),
        };
        if let Some(p) = live.process.take() {
            p.kill_now();
        }
        Status::NotStarted(format!(
            "port {port}, its fixed `run.port`, is held by `{program}` (pid {pid}), a program outside the \
             service's process group: either that program took the port as the service started, or the \
             service hands the port to a program it does not keep in its process group"
        ))
    }

    /// Whether probes may send `method` to `svc`: every method to a service the grader started
    /// (it is thrown away afterwards), only GET, HEAD and OPTIONS to a `--target` (it may
    /// hold real data) unless `--allow-unsafe-methods` was given.
    pub fn may_send(&self, svc: &LiveService, method: &str) -> bool {
        !svc.external
            || self.allow_unsafe_on_targets
            || ["GET", "HEAD", "OPTIONS"]
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method))
    }

    /// A control group with the configured limits for a new start of service `name`, or
    /// `None` (and, the first time, the reason noted for the report).
    fn cgroup(&mut self, name: &str) -> Option<Cgroup> {
        if !self.limited {
            return None;
        }
        match Cgroup::create(name, self.config.limits) {
            Ok(g) => Some(g),
            Err(why) => {
                self.limited = false;
                self.unlimited = Some(format!("{why}: the services ran without process and memory limits"));
                None
            }
        }
    }

    /// The process and memory limits of each started service.
    pub fn limits(&self) -> Limits {
        self.config.limits
    }

    /// The limits each service hit so far: (service, what), for the report.
    pub fn limit_hits(&self) -> Vec<(String, String)> {
        self.services
            .iter()
            .filter_map(|s| Some((s, s.process.as_ref()?.cgroup.as_ref()?)))
            .flat_map(|(s, g)| g.hits().into_iter().map(|h| (s.name.clone(), h)))
            .collect()
    }

    /// Runs a helper program of service `svc` (its `run.provider_states_command`) to the end:
    /// like the service itself (working directory, environment with the service's port and
    /// dependency variables, `{port}` in arguments, own process group), with `input` on stdin,
    /// stopped (the whole group) after `deadline`. An error says, in the learner's terms, why
    /// it did not succeed: not found, a non-zero exit with the last lines it wrote, or the
    /// deadline.
    pub fn run_helper(
        &self,
        sub: &Submission,
        svc: &LiveService,
        argv: &[String],
        input: &[u8],
        deadline: Duration,
    ) -> Result<(), String> {
        let shown = argv.join(" ");
        let run = sub
            .services
            .get(svc.index)
            .and_then(|s| s.run.as_ref())
            .ok_or_else(|| format!("`{shown}` has no `[service.run]` table to run in"))?;
        let (port, deps) = match &svc.process {
            Some(p) => (p.port, p.deps.clone()),
            None => (
                svc.base_url
                    .as_deref()
                    .and_then(|b| Url::parse(b).ok())
                    .map_or(0, |u| u.port),
                BTreeMap::new(),
            ),
        };
        let ns = self.mount_ns.as_ref().map(|n| n.raw());
        let (mut cmd, program) = match command(sub, run, argv, port, &deps, ns) {
            Ok(c) => c,
            Err(SpawnError::Learner(m) | SpawnError::Infrastructure(m)) => return Err(m),
        };
        cmd.stdin(Stdio::piped());
        // In the service's control group: its limits count the helper too.
        let group = svc.process.as_ref().and_then(|p| p.cgroup.as_ref());
        let mut child = match launch(&mut cmd, &program, &format!("`{shown}`"), group) {
            Ok(c) => c,
            Err(SpawnError::Learner(m) | SpawnError::Infrastructure(m)) => return Err(m),
        };
        let pid = child.id() as i32;
        let registered = reaper::register(pid);
        let (out, err) = (LogBuf::new(self.config.log_cap), LogBuf::new(self.config.log_cap));
        if let Some(s) = child.stdout.take() {
            out.drain_from(s, &svc.name);
        }
        if let Some(s) = child.stderr.take() {
            err.drain_from(s, &svc.name);
        }
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            // A program that does not read its input closes the pipe: not an error by itself.
            let _ = stdin.write_all(input);
        }
        let until = Instant::now() + deadline;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
                _ => break None,
            }
        };
        // Whatever it left behind in its group goes too.
        reaper::signal_group(pid, libc::SIGKILL);
        if status.is_none() {
            let _ = child.wait();
        }
        reaper::wait_groups_gone(&[pid], Instant::now() + Duration::from_secs(2));
        if registered {
            reaper::unregister(pid);
        }
        let said = || {
            // The pipes close when the group is gone; give the readers a moment.
            let until = Instant::now() + Duration::from_millis(200);
            while !(out.closed() && err.closed()) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(2));
            }
            let mut lines = err.tail(3, 200);
            if lines.is_empty() {
                lines = out.tail(3, 200);
            }
            if lines.is_empty() {
                " (it wrote nothing)".to_string()
            } else {
                format!(": {}", lines.join(" / "))
            }
        };
        match status {
            Some(st) if st.success() => Ok(()),
            Some(st) => Err(format!("`{shown}` {}{}", describe_exit(st), said())),
            None => Err(format!(
                "`{shown}` did not finish within {} ms and was stopped{}",
                deadline.as_millis(),
                said()
            )),
        }
    }

    /// The service named `name`, if it is part of the system.
    pub fn service(&self, name: &str) -> Option<&LiveService> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Process ids of the started services (leaders), for tests and diagnostics.
    pub fn pids(&self) -> Vec<i32> {
        self.services
            .iter()
            .filter_map(|s| s.process.as_ref().map(|p| p.pid))
            .collect()
    }

    /// SIGTERM to every group, the grace period, SIGKILL to what is left, reap, and check that
    /// no process of any group remains. Idempotent.
    pub fn teardown(&mut self) -> Teardown {
        let mut report = Teardown::default();
        if self.torn_down {
            return report;
        }
        self.torn_down = true;
        let groups: Vec<(String, i32)> = self
            .services
            .iter()
            .rev()
            .filter_map(|s| s.process.as_ref().map(|p| (s.name.clone(), p.pid)))
            .collect();
        for (_, pgid) in &groups {
            reaper::signal_group(*pgid, libc::SIGTERM);
        }
        let until = Instant::now() + self.config.grace;
        loop {
            for s in &mut self.services {
                if let Some(p) = s.process.as_mut() {
                    p.try_wait();
                }
            }
            let alive: Vec<i32> = groups
                .iter()
                .map(|(_, g)| *g)
                .filter(|g| !reaper::group_members(*g).is_empty())
                .collect();
            if alive.is_empty() || Instant::now() >= until {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for (name, pgid) in &groups {
            if !reaper::group_members(*pgid).is_empty() {
                reaper::signal_group(*pgid, libc::SIGKILL);
                report.killed.push(name.clone());
            }
        }
        for s in &mut self.services {
            if let Some(p) = s.process.as_mut() {
                if p.reaped.is_none() {
                    // SIGKILL was sent if it still ran, so this returns promptly.
                    if let Ok(st) = p.child.wait() {
                        p.reaped = Some(st);
                    }
                }
            }
        }
        let ids: Vec<i32> = groups.iter().map(|(_, g)| *g).collect();
        let left = reaper::wait_groups_gone(&ids, Instant::now() + Duration::from_secs(2));
        for (pgid, pids) in left {
            if let Some((name, _)) = groups.iter().find(|(_, g)| *g == pgid) {
                report.leftover.push((name.clone(), pids));
            }
        }
        for (_, pgid) in &groups {
            reaper::unregister(*pgid);
        }
        report.limits = self.limit_hits();
        for p in &self.proxies {
            p.shutdown();
        }
        // The fixed ports are free again: the next grading may have them.
        self.turns.clear();
        if let Some(exits) = self.exits.take() {
            exits.shutdown();
        }
        if let Some(home) = self.home.take() {
            home.go_back();
        }

        report
    }
}

impl Drop for System {
    fn drop(&mut self) {
        let t = self.teardown();
        for (name, pids) in &t.leftover {
            eprintln!("grade: warning: processes of service `{name}` are still running after teardown: {pids:?}");
        }
    }
}

impl Process {
    /// After the process exited: waits up to `max` for its output to be read to the end, so
    /// the last lines (often the error) are in the tail.
    pub fn settle_logs(&self, max: Duration) {
        let until = Instant::now() + max;
        while !(self.stdout.closed() && self.stderr.closed()) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kills the whole group at once and reaps it (a start that is thrown away).
    fn kill_now(mut self) {
        reaper::signal_group(self.pid, libc::SIGKILL);
        if self.reaped.is_none() {
            let _ = self.child.wait();
        }
        reaper::wait_groups_gone(&[self.pid], Instant::now() + Duration::from_secs(2));
        reaper::unregister(self.pid);
    }

    /// The exit status once the process has exited (reaping it).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.reaped.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.reaped = Some(st);
            }
        }
        self.reaped
    }
}

fn describe_exit(st: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "exited".into(),
    }
}

/// Callee-first order of `chosen` (indices into the services), declaration order among equals;
/// with a cycle, declaration order and the names in the cycle.
fn start_order(sub: &Submission, chosen: &[usize]) -> (Vec<usize>, Option<String>) {
    let index: BTreeMap<&str, usize> = chosen
        .iter()
        .map(|&i| (sub.services[i].name.name.as_str(), i))
        .collect();
    let mut pending: Vec<usize> = chosen.to_vec();
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    while !pending.is_empty() {
        let next = pending.iter().position(|&i| {
            sub.services[i]
                .calls
                .iter()
                .filter_map(|c| index.get(c.name.as_str()))
                .all(|callee| *callee == i || done.contains(callee))
        });
        match next {
            Some(p) => {
                let i = pending.remove(p);
                done.insert(i);
                order.push(i);
            }
            None => {
                let names: Vec<&str> = pending.iter().map(|&i| sub.services[i].name.name.as_str()).collect();
                order.extend(pending.iter().copied());
                return (order, Some(names.join(", ")));
            }
        }
    }
    (order, None)
}

fn free_port(used: &mut BTreeSet<u16>) -> Result<u16, StartError> {
    for _ in 0..32 {
        let l = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| StartError::Infrastructure(format!("cannot bind a port on 127.0.0.1: {e}")))?;
        let port = l
            .local_addr()
            .map_err(|e| StartError::Infrastructure(format!("cannot read a bound port: {e}")))?
            .port();
        if used.insert(port) {
            return Ok(port);
        }
    }
    Err(StartError::Infrastructure("no free port on 127.0.0.1".into()))
}

/// What one readiness request found.
enum Attempt {
    Ready,
    /// Not ready yet: the answer or the error, for the report.
    NotYet(String),
    /// The host may not be contacted: nothing was sent.
    Refused(String),
    /// Waiting cannot help (an untrusted certificate): not ready, at once.
    Hopeless(String),
}

fn nothing_listened(url: &str) -> String {
    format!(
        "nothing listened on port {}",
        Url::parse(url).map(|u| u.port).unwrap_or_default()
    )
}

/// The gRPC health call, as a finding names it: `the gRPC health check of `shop.Stock``.
pub fn grpc_health_call(service: &str) -> String {
    if service.is_empty() {
        "the gRPC health check (grpc.health.v1.Health/Check of the whole server)".to_string()
    } else {
        format!("the gRPC health check (grpc.health.v1.Health/Check of `{service}`)")
    }
}

/// How waiting for a service ended.
enum Wait {
    Done(Status),
    /// A program outside the service's process group answered on its port.
    Stranger {
        pid: i32,
        program: String,
    },
}

/// Holds the fixed port `port` on 127.0.0.1 until its service starts; why it cannot be had.
fn reserve(port: u16) -> Result<TcpListener, String> {
    TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        if e.kind() != std::io::ErrorKind::AddrInUse {
            return format!("port {port}, its fixed `run.port`, cannot be opened on 127.0.0.1: {e}");
        }
        let by = match reaper::port_listener(port) {
            Some((pid, program)) => format!("`{program}` (pid {pid})"),
            None => "a program the grader cannot see (another user's program, a container's port forwarder, \
                     or a connection's local end)"
                .to_string(),
        };
        format!(
            "port {port}, its fixed `run.port`, is already in use on 127.0.0.1 by {by}; a program with a \
             fixed port cannot be moved to another"
        )
    })
}

/// This grading's turn on a fixed port (`run.port`) among the gradings of this machine: an
/// exclusive lock (`flock`) on `grade-port-PORT.lock` in the temporary folder, held until the
/// system is torn down. Gradings of submissions with the same fixed port
/// (`grade batch` grades several at once, each in its own process) take turns instead of
/// finding each other's service on it.
#[derive(Debug)]
struct PortTurn(#[allow(dead_code)] std::fs::File);

/// Waits up to `wait` for the turn on `port`; `None` when this machine offers no lock (the
/// check that the port is free still applies).
fn take_turn(
    port: u16,
    service: &str,
    wait: Duration,
    progress: &super::Progress,
) -> Result<Option<PortTurn>, StartError> {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let path = std::env::temp_dir().join(format!("grade-port-{port}.lock"));
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .or_else(|_| std::fs::File::open(&path));
    let Ok(mut file) = opened else { return Ok(None) };
    let began = Instant::now();
    let deadline = began + wait;
    let mut told = false;
    loop {
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            if told {
                progress.ended(&format!(
                    "port {port} (`run.port` of service `{service}`): its turn came after {:.1} s",
                    began.elapsed().as_secs_f64()
                ));
            }
            // Who holds the turn, for whoever waits for it (nothing when opened read-only). Only
            // the process id: another learner's folder must not appear in this learner's report.
            let _ = file
                .set_len(0)
                .and_then(|_| writeln!(file, "pid {}", std::process::id()));
            return Ok(Some(PortTurn(file)));
        }
        let e = std::io::Error::last_os_error();
        if !matches!(e.raw_os_error(), Some(libc::EWOULDBLOCK) | Some(libc::EINTR)) {
            return Ok(None);
        }
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        let holder = match holder.trim() {
            "" => String::new(),
            h => format!(" ({h})"),
        };
        if Instant::now() >= deadline {
            return Err(StartError::Infrastructure(format!(
                "service `{service}` listens on the fixed port {port} (`run.port`), which another grading on \
                 this machine{holder} used for longer than {} s; grade again when it is done, or grade fewer \
                 submissions at once",
                wait.as_secs_f64().ceil() as u64
            )));
        }
        if !told {
            progress.begins(&format!(
                "waiting for port {port} (`run.port` of service `{service}`): another grading on this machine \
                 uses it{holder}"
            ));
            told = true;
        }
        std::thread::sleep(Duration::from_millis(100).min(deadline.saturating_duration_since(Instant::now())));
    }
}

enum SpawnError {
    /// The manifest's fault: reported as a finding.
    Learner(String),
    /// The grader's environment: the item is errored.
    Infrastructure(String),
}

/// Paths the services may need that could lie beside the submission folder: the programs on
/// `PATH`, the toolchains and build folders of [`PASS_ENV`], and the grader's home (where
/// rustup, npm and pip keep theirs).
fn toolchain_paths() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for (k, v) in std::env::vars_os() {
        let Some(k) = k.to_str() else { continue };
        if k != "PATH" && (PASS_ENV.contains(&k) || PASS_ENV_PREFIXES.iter().any(|p| k.starts_with(p))) {
            out.push(PathBuf::from(v));
        }
    }
    out
}

/// The command for `argv` (a program and its arguments) of service `name`, as the grader runs
/// it: in the service's working directory, in its own process group, with a cleared
/// environment but for [`PASS_ENV`], then `run.env` (`{port}` in a value is the port), the
/// port variable and the dependency variables. Returns it with the program as written.
fn command(
    sub: &Submission,
    run: &RunSpec,
    argv: &[String],
    port: u16,
    deps: &BTreeMap<String, String>,
    mount_ns: Option<std::os::fd::RawFd>,
) -> Result<(Command, String), SpawnError> {
    let Some(program) = argv.first() else {
        return Err(SpawnError::Learner("its run.command is empty".into()));
    };
    let cwd: PathBuf = match &run.cwd {
        Some(c) => match paths::confine(&sub.root, c) {
            Ok((abs, _)) => abs,
            Err(p) => return Err(SpawnError::Learner(format!("run.cwd: {}", p.describe(c).0))),
        },
        None => sub.root.clone(),
    };
    if !cwd.is_dir() {
        return Err(SpawnError::Learner(format!(
            "its run.cwd `{}` is not a folder of the submission",
            run.cwd.as_deref().unwrap_or(".")
        )));
    }
    // A relative program with a slash is relative to the service's working directory.
    let program_path = if program.contains('/') && !program.starts_with('/') {
        cwd.join(program).into_os_string()
    } else {
        program.into()
    };
    let mut cmd = Command::new(&program_path);
    cmd.args(argv.iter().skip(1).map(|a| with_port(a, port)))
        .current_dir(&cwd)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in std::env::vars_os() {
        let Some(ks) = k.to_str() else { continue };
        if PASS_ENV.contains(&ks) || PASS_ENV_PREFIXES.iter().any(|p| ks.starts_with(p)) {
            cmd.env(&k, v);
        }
    }
    cmd.envs(run.env.iter().map(|(k, v)| (k, with_port(v, port))));
    cmd.env(run.port_env.as_deref().unwrap_or("PORT"), port.to_string());
    cmd.envs(deps);
    #[cfg(target_os = "linux")]
    unsafe {
        // If the grader dies without tearing down (SIGKILL), the process dies with it.
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    if let Some(ns) = mount_ns {
        // Into the run's mount namespace (other submissions hidden). Entering it moves the
        // working directory to its root, so the directory is entered again, by its path.
        let dir = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(cwd.as_os_str()))
            .map_err(|_| SpawnError::Learner("its run.cwd holds a NUL character".into()))?;
        // SAFETY: setns and chdir are async-signal-safe; `dir` was made before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(ns, libc::CLONE_NEWNS) != 0 || libc::chdir(dir.as_ptr()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    Ok((cmd, program.clone()))
}

/// Starts `cmd` (running `program`, for messages `who`), joining `cgroup` between fork and exec
/// so that its first child counts too. A program that is missing or cannot be executed is the
/// learner's fault; anything else the grader's.
fn launch(cmd: &mut Command, program: &str, who: &str, cgroup: Option<&Cgroup>) -> Result<Child, SpawnError> {
    let joiners = cgroup
        .map(Cgroup::joiners)
        .transpose()
        .map_err(|e| SpawnError::Infrastructure(format!("could not put {who} in its control group: {e}")))?
        .unwrap_or_default();
    let fds = limits::raw(&joiners);
    if !fds.is_empty() {
        // SAFETY: `join` makes only async-signal-safe calls.
        unsafe {
            cmd.pre_exec(move || limits::join(&fds));
        }
    }
    cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SpawnError::Learner(format!(
            "`{program}` was not found (on PATH, or in its working directory)"
        )),
        std::io::ErrorKind::PermissionDenied => {
            SpawnError::Learner(format!("`{program}` cannot be executed (permission denied)"))
        }
        _ => SpawnError::Infrastructure(format!("could not start {who}: {e}")),
    })
}

fn spawn(
    sub: &Submission,
    run: &RunSpec,
    name: &str,
    port: u16,
    deps: &BTreeMap<String, String>,
    config: &StartConfig,
    (cgroup, mount_ns): (Option<Cgroup>, Option<std::os::fd::RawFd>),
) -> Result<Process, SpawnError> {
    let (mut cmd, program) = command(sub, run, &run.command, port, deps, mount_ns)?;
    let mut child = launch(&mut cmd, &program, &format!("service `{name}`"), cgroup.as_ref())?;
    let pid = child.id() as i32;
    if !reaper::register(pid) {
        reaper::signal_group(pid, libc::SIGKILL);
        let _ = child.wait();
        return Err(SpawnError::Infrastructure("too many services started at once".into()));
    }
    let stdout = LogBuf::new(config.log_cap);
    let stderr = LogBuf::new(config.log_cap);
    if let Some(s) = child.stdout.take() {
        stdout.drain_from(s, name);
    }
    if let Some(s) = child.stderr.take() {
        stderr.drain_from(s, name);
    }
    Ok(Process {
        child,
        pid,
        stdout,
        stderr,
        reaped: None,
        port,
        deps: deps.clone(),
        cgroup,
    })
}
