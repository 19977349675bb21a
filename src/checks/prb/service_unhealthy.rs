use std::time::Duration;

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, NoParams, TypedCheck};
use crate::probe::grpc::{check_health, Serving};
use crate::probe::system::grpc_health_call;
use crate::probe::{LiveService, StartError, Status, System};

use super::support::at_service;

pub struct ServiceUnhealthy;

const DOCS: &str = r#"## What it checks
Starts every service that declares `[service.run]` (in dependency order, callees first, each
on a free port on 127.0.0.1 passed in `run.port_env`, each called service's URL in the
variable `run.dependency_env` names), or reaches the ones given with `--target NAME=URL`, and
checks that each becomes ready within the rubric's `[system] ready_timeout_ms` (20 s unless
the rubric says otherwise), answers `GET` on its `run.health`
path with 2xx (a gRPC server that declares `health = "grpc"` or `"grpc:<service>"`: the
standard gRPC health service, `grpc.health.v1.Health/Check`, answers SERVING) and, when
declared, its `run.ready` path with 2xx. Partial credit: healthy
services / services probed. A service that exits, never becomes ready or answers something
that is not HTTP is reported with the last lines of its output. Skipped when no service
declares `[service.run]`.

## Why it matters
Health checks are what a service registry, a load balancer and an orchestrator act on
(Week 4: service registry with health checks; Week 10: deployment). A service that cannot be
started from its documented command, or whose health endpoint lies, cannot be deployed,
rolled out or probed, and nothing else about its runtime behaviour can be verified.

## How to fix
Make the `run.command` start the service from a clean checkout, listen on 127.0.0.1 on the
port in the variable named by `run.port_env` (or given as `{port}` in its arguments; a fixed
`run.port` only for a program whose port cannot be changed), and answer `run.health`
(liveness: the process works) and `run.ready` (readiness: its dependencies are reachable)
with 200 once it can serve. Run the command yourself and read its output first.

## Example
```toml
[[service]]
name = "orders"
calls = ["payments"]

[service.run]
command = ["python3", "app.py"]
cwd = "services/orders"
port_env = "PORT"                     # the grader picks a free port
health = "/health"
ready = "/ready"
dependency_env = { payments = "PAYMENTS_URL" }
```
"#;

impl TypedCheck for ServiceUnhealthy {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB001",
        name: "service-unhealthy",
        area: Area::Prb,
        kind: Kind::Probe,
        summary: "A service does not start, does not become ready, or its health endpoint does not answer 2xx",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        ctx.live(|started| match started {
            Err(StartError::NothingToRun) => super::support::nothing_to_run(),
            Err(StartError::Infrastructure(e)) => {
                CheckResult::errored(format!("the grader could not start the services: {e}"))
            }
            Ok(system) => evaluate(ctx, system),
        })
    }
}

fn evaluate(ctx: &Ctx<'_>, system: &System) -> CheckResult {
    let mut findings = Vec::new();
    let mut good = 0;
    let mut services: Vec<&LiveService> = system.services.iter().collect();
    services.sort_by_key(|s| s.index);
    if services.is_empty() {
        return super::support::nothing_to_run();
    }
    for svc in &services {
        match problem(ctx, system, svc) {
            None => good += 1,
            Some(f) => findings.push(f),
        }
    }
    let mut result = CheckResult::ratio(good, services.len(), findings)
        .with_evidence(format!("{good} of {} services healthy", services.len()));
    for n in &system.notes {
        result = result.with_evidence(n.clone());
    }
    result = result.with_evidence(system.sandbox.statement());
    result = result.with_evidence(format!("sandbox: {}", system.files));
    if let Some(why) = &system.unlimited {
        result = result.with_evidence(format!("sandbox: {why}"));
    }
    result
}

/// Help for a service that did not come up, from what it printed.
fn startup_help(svc: &LiveService, port_env: &str, cwd: Option<&str>) -> String {
    let tail = svc.log_tail().to_ascii_lowercase();
    if tail.contains("address already in use") || tail.contains("eaddrinuse") {
        format!(
            "another process holds the port it tried: listen on the port the grader passes in ${port_env} \
             (or as `{{port}}` in its arguments) instead of a fixed one"
        )
    } else {
        format!(
            "run its `run.command` yourself in {} with {port_env}=8080 and fix what its output shows; it \
             must keep running and listen on 127.0.0.1 on that port",
            cwd.map(|c| format!("`{c}`"))
                .unwrap_or_else(|| "the submission folder".into())
        )
    }
}

/// How long a health answer may take once the service is ready.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// Help for a service whose gRPC health check (of `service`) did not answer SERVING: `last` is
/// what it answered.
fn grpc_help(svc: &LiveService, service: &str, last: &str, port_env: &str, cwd: Option<&str>) -> String {
    let which = if service.is_empty() {
        "the server (the empty service name)".to_string()
    } else {
        format!("`{service}`")
    };
    if last.contains("nothing listened") {
        startup_help(svc, port_env, cwd)
    } else if last.contains("UNIMPLEMENTED") {
        "register the standard gRPC health service (grpc.health.v1.Health: grpc-health-check for Node, \
         grpcio-health-checking for Python, HealthStatusManager for Java, the health package for Go) on the \
         server, or declare an HTTP `run.health` path instead"
            .into()
    } else if last.contains("NOT_FOUND") || last.contains("SERVICE_UNKNOWN") {
        format!(
            "set the serving status of {which} in the health service (the name as its .proto file declares it: \
             package, dot, service), or declare `health = \"grpc\"` to ask for the server as a whole"
        )
    } else if last.contains("HTTP/2") {
        format!(
            "serve gRPC without TLS on the port the grader passes in ${port_env} (HTTP/2 with prior knowledge, \
             as `grpc.ServerCredentials.createInsecure()`, `add_insecure_port` or `usePlaintext` give), or \
             declare an HTTP `run.health` path if the port does not speak gRPC"
        )
    } else {
        format!(
            "set the serving status of {which} to SERVING in the health service once the service can serve, or, \
             if it starts slowly, raise the rubric's `[system] ready_timeout_ms`"
        )
    }
}

/// What is wrong with one service, if anything.
fn problem(ctx: &Ctx<'_>, system: &System, svc: &LiveService) -> Option<Finding> {
    let name = &svc.name;
    let run = ctx.submission.services.get(svc.index).and_then(|s| s.run.as_ref());
    let port_env = run.and_then(|r| r.port_env.as_deref()).unwrap_or("PORT");
    let cwd = run.and_then(|r| r.cwd.as_deref());
    let how = if svc.external {
        "the --target service"
    } else {
        "service"
    };
    let hits: Vec<String> = system
        .limit_hits()
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, h)| h)
        .collect();
    if !hits.is_empty() {
        let then = match &svc.status {
            Status::Ready => String::new(),
            Status::NotStarted(why) => format!("; it could not be started: {why}"),
            Status::Exited(how_ended) => format!("; it {how_ended} before it became ready"),
            Status::NotReady(why) => format!("; it did not become ready: {why}"),
        };
        return Some(
            at_service(
                ctx,
                svc,
                format!(
                    "service `{name}` hit its resource limits: {}{then}{}",
                    hits.join("; "),
                    svc.log_tail()
                ),
            )
            .help(format!(
                "a service must not start processes or take memory without bound: bound its worker pools, \
                 queues and caches (each service the grader starts may have {} processes and threads and {} of \
                 memory)",
                system.limits().pids,
                crate::probe::limits::size(system.limits().memory)
            )),
        );
    }
    match &svc.status {
        Status::Ready => {}
        Status::NotStarted(why) => {
            let help = if why.contains("`run.port`") {
                format!(
                    "a fixed port must be free when the grader starts the service: let the service listen on the \
                     port the grader passes in ${port_env} (or as `{{port}}` in its arguments) and drop `run.port`"
                )
            } else {
                "fix `run.command` and `run.cwd` so the command can be run from the submission folder".to_string()
            };
            return Some(at_service(ctx, svc, format!("{how} `{name}` could not be started: {why}")).help(help));
        }
        Status::Exited(how_ended) => {
            return Some(
                at_service(
                    ctx,
                    svc,
                    format!("service `{name}` {how_ended} before it became ready{}", svc.log_tail()),
                )
                .help(startup_help(svc, port_env, cwd)),
            );
        }
        Status::NotReady(last) => {
            if let (None, Some(service)) = (&svc.ready, &svc.grpc_health) {
                let call = grpc_health_call(service);
                return Some(
                    at_service(
                        ctx,
                        svc,
                        format!(
                            "{how} `{name}` did not become ready: {call} never answered SERVING in time (last: \
                             {last}){}",
                            svc.log_tail()
                        ),
                    )
                    .help(grpc_help(svc, service, last, port_env, cwd)),
                );
            }
            let path = svc.ready.as_deref().or(svc.health.as_deref()).unwrap_or("/");
            return Some(at_service(
                ctx,
                svc,
                format!(
                    "{how} `{name}` did not become ready: {path} never answered 2xx in time (last: {last}){}",
                    svc.log_tail()
                ),
            )
            .help(if last.contains("not HTTP") {
                format!("answer HTTP/1.1 on {path}: the port speaks something else")
            } else if last.contains("--ca-cert") {
                "give the grader the certificate authority that signed the service's certificate with \
                 `--ca-cert FILE` (PEM; for mkcert, `$(mkcert -CAROOT)/rootCA.pem`)"
                    .to_string()
            } else if last.contains("did not answer in TLS") {
                "the --target URL says https:// but the service speaks plain HTTP: use http://".to_string()
            } else if last.contains("nothing listened") {
                startup_help(svc, port_env, cwd)
            } else {
                format!("make {path} answer 200 once the service can serve, or, if it starts slowly, raise the rubric's `[system] ready_timeout_ms`")
            }));
        }
    }
    let mut paths = Vec::new();
    if let Some(service) = &svc.grpc_health {
        let call = grpc_health_call(service);
        let answer = svc
            .base_url
            .as_deref()
            .map(|u| check_health(&system.client, u, service, HEALTH_TIMEOUT));
        let problem = match answer {
            Some(Ok(Serving::Serving)) | None => None,
            Some(Ok(other)) => Some(format!("answered {other}")),
            Some(Err(e)) => Some(e.to_string()),
        };
        if let Some(problem) = problem {
            return Some(
                at_service(ctx, svc, format!("{how} `{name}`: {call} {problem}"))
                    .help(grpc_help(svc, service, &problem, port_env, cwd)),
            );
        }
    } else if let Some(health) = svc.health.as_deref() {
        paths.push(("health", health));
    } else {
        return Some(
            at_service(
                ctx,
                svc,
                format!("service `{name}` declares no health endpoint (`run.health`)"),
            )
            .help("add `health = \"/health\"` to its [service.run] and serve it (a gRPC server: `health = \"grpc\"`)"),
        );
    }
    if let Some(r) = svc.ready.as_deref() {
        paths.push(("readiness", r));
    }
    for (what, path) in paths {
        let Some(url) = svc.url(path) else { continue };
        match system.client.get(&url, HEALTH_TIMEOUT) {
            Ok(r) if r.is_success() => {}
            Ok(r) => {
                return Some(
                    at_service(
                        ctx,
                        svc,
                        format!(
                            "{how} `{name}`: its {what} endpoint GET {path} answered {}",
                            r.status_line()
                        ),
                    )
                    .help(format!("GET {path} must answer 2xx while the service works")),
                )
            }
            Err(e) => {
                return Some(
                    at_service(
                        ctx,
                        svc,
                        format!("{how} `{name}`: its {what} endpoint GET {path} failed: {e}"),
                    )
                    .help(format!("GET {path} must answer HTTP 2xx within 5 s")),
                )
            }
        }
    }
    None
}
