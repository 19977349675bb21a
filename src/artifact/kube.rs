//! Kubernetes and Istio manifests read into a typed model that checks reuse: what runs
//! (workloads and their containers' images, environment and ports), how it is addressed
//! (Services and the workloads their selectors pick), who calls whom according to the
//! environment, and which timeouts, retries, fault injection, circuit breakers and bulkheads the
//! Istio configuration puts on those calls. Every fact carries its file and line ([`Loc`]).
//!
//! The input is a [`DeploySet`] (the deployment loader's files and Kubernetes-style objects);
//! several sets can be read together ([`KubeModel::read_all`]), e.g. `kubernetes-manifests/` and
//! `istio-manifests/`.
//!
//! What is read:
//! - **Workloads**: `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job`, `CronJob`,
//!   a bare `Pod`, and Argo `Rollout` (when it has its own pod template): the pod template's
//!   labels and its containers and init containers (name, image, ports, `env`). An env var's
//!   value is its literal `value`, or the ConfigMap entry that `valueFrom.configMapKeyRef`
//!   names (`envFrom.configMapRef` imports every entry, with its `prefix`) when that ConfigMap
//!   is in the manifests; the location is then the ConfigMap's line. Secret values are not
//!   read (only that the variable comes from a Secret).
//! - **Services** (`apiVersion: v1`): name, namespace, type, selector and ports. A Service
//!   fronts a workload when every pair of its selector is among the workload's pod labels.
//! - **Calls**: an env value that names a Service gives a call from the workload to it.
//!   Accepted forms: `name:port`, `name.namespace[:port]`, `name.namespace.svc[.cluster.local][:port]`,
//!   and any of those as the host of a URL (`http://orders:8080/api`, `grpc://...`,
//!   `postgres://user:pw@db:5432/x`, `dns:///orders:50051`), also in a comma-separated list.
//!   A bare `name` or `name.namespace` (no port, no scheme) counts only when the variable's
//!   name says it holds an address (`..._HOST`, `..._ADDR`, `..._URL`, `..._ENDPOINT`, ...), so
//!   `POSTGRES_DB=orders` or `TOPIC=orders.created` is not a call. Variables about who may call
//!   *in* (`..._ORIGIN`, `CORS...`, `..._REDIRECT...`, `..._CALLBACK...`) are skipped, and so is
//!   a workload naming a Service that fronts itself. Names that no Service of the manifests
//!   carries (external hosts, Services deployed elsewhere) give no call.
//! - **Istio** (`networking.istio.io`, any version): `VirtualService` HTTP routes (their
//!   destinations, `timeout`, `retries` and `fault`) and `DestinationRule`s (`trafficPolicy`,
//!   its `portLevelSettings`, and each subset's own `trafficPolicy`: `outlierDetection`, the
//!   circuit breaker, and `connectionPool`, the bulkhead). A host (a route destination, a rule's
//!   host) resolves to a Service as an env value does: short name, `name.namespace` or the
//!   FQDN; wildcards (`*.example.com`) resolve to none. Durations are read as Istio and Go read
//!   them (`250ms`, `0.5s`, `1m`, `1h30m`) into [`std::time::Duration`]; note that Istio reads
//!   `timeout: 0s` as "no timeout" and `consecutive5xxErrors: 0` as "breaker off": the values
//!   are kept as written, checks judge them.
//!
//! What is not read: Helm charts and other templates are not rendered: a file with `{{` outside
//! comments is reported as not read (in [`KubeModel::templates`] and as a problem) and none of
//! its objects are used. Kustomize overlays and patches are not applied (a `kustomization.yaml`
//! is ignored; the base files are read as they are). Istio TCP/TLS routes, `Gateway`,
//! `ServiceEntry`, `Sidecar`, Knative Services and other kinds are ignored. Files that do not
//! parse are the loader's problems ([`DeploySet::problems`]) and are not repeated here.
//!
//! Odd YAML never stops the reading: a field of the wrong type (a list where a mapping belongs,
//! `attempts: "3"`, `value: 8080`, `timeout: 1x`) is skipped and reported in
//! [`KubeModel::problems`] with its file, line and YAML path, in the words of the manifests.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use super::deploy::{DeploySet, Resource};
use super::document::{escape_pointer_segment, unescape_pointer_segment, Location};
use super::{value_kind, ArtifactProblem};

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// Where a fact is written: the file (relative to the submission root) and the position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loc {
    pub file: String,
    pub location: Location,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.location.line)
    }
}

/// A value and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub at: Loc,
}

/// What the Kubernetes and Istio manifests of one or more [`DeploySet`]s say.
#[derive(Debug, Default)]
pub struct KubeModel {
    pub workloads: Vec<Workload>,
    pub services: Vec<Service>,
    /// Calls found in the environment, in workload, container and variable order.
    pub calls: Vec<Call>,
    pub virtual_services: Vec<VirtualService>,
    pub destination_rules: Vec<DestinationRule>,
    /// Files not read because they are templates (`{{ ... }}`), relative paths.
    pub templates: Vec<String>,
    /// Fields that could not be used: (relative path, problem with line and YAML path).
    pub problems: Vec<(String, ArtifactProblem)>,
}

/// A Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod or Argo Rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The pod template's labels (what Service selectors match).
    pub labels: BTreeMap<String, String>,
    /// Init containers first, then containers, in file order.
    pub containers: Vec<Container>,
    pub at: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    /// An entry of `initContainers`.
    pub init: bool,
    pub env: Vec<EnvVar>,
    pub ports: Vec<ContainerPort>,
    pub at: Loc,
}

/// One environment variable of a container.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvVar {
    pub name: String,
    /// The value when it is known (literal, or the ConfigMap entry).
    pub value: Option<String>,
    pub source: EnvSource,
    /// Where the value is written (the ConfigMap entry for one taken from a ConfigMap), else
    /// the variable.
    pub at: Loc,
}

/// Where an env var's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// `value:`.
    Literal,
    /// `valueFrom.configMapKeyRef` or `envFrom.configMapRef` (value known when the ConfigMap is
    /// in the manifests).
    ConfigMap { name: String, key: String },
    /// `valueFrom.secretKeyRef` (value never read).
    Secret { name: String, key: String },
    /// `valueFrom.fieldRef` (the pod's own fields, e.g. `status.podIP`).
    Field(String),
    /// No value, or a source not read (`resourceFieldRef`).
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Option<String>,
    pub at: Loc,
}

/// A Kubernetes Service (`apiVersion: v1`).
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    pub namespace: Option<String>,
    /// `spec.type` (`ClusterIP` when absent in Kubernetes; `None` here).
    pub service_type: Option<String>,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<ServicePort>,
    pub at: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    /// A number or a container port's name, as written.
    pub target_port: Option<String>,
    pub protocol: Option<String>,
    pub at: Loc,
}

/// A call found in the environment: `workload` addresses `service`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Index into [`KubeModel::workloads`].
    pub from: usize,
    pub workload: String,
    pub container: String,
    /// The Service's name.
    pub service: String,
    /// The port written after the host, if any.
    pub port: Option<u16>,
    /// The env var's name and value.
    pub env: String,
    pub value: String,
    pub at: Loc,
}

/// An Istio VirtualService.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualService {
    pub name: String,
    pub namespace: Option<String>,
    pub hosts: Vec<Spanned<String>>,
    pub gateways: Vec<String>,
    pub http: Vec<HttpRoute>,
    pub at: Loc,
}

/// One entry of a VirtualService's `http` list.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRoute {
    /// Position in the `http` list.
    pub index: usize,
    pub name: Option<String>,
    pub destinations: Vec<RouteDestination>,
    pub timeout: Option<Spanned<Duration>>,
    pub retries: Option<Retries>,
    pub fault: Option<Fault>,
    pub at: Loc,
}

/// A `route[].destination`.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteDestination {
    pub host: String,
    /// The Service the host names, when it is in the manifests.
    pub service: Option<String>,
    pub subset: Option<String>,
    pub port: Option<u32>,
    pub weight: Option<u32>,
    pub at: Loc,
}

/// A route's `retries`.
#[derive(Debug, Clone, PartialEq)]
pub struct Retries {
    pub attempts: Option<Spanned<u32>>,
    pub per_try_timeout: Option<Spanned<Duration>>,
    /// `retryOn` split at commas (`5xx`, `gateway-error`, `connect-failure`, ...).
    pub retry_on: Vec<String>,
    pub at: Loc,
}

/// A route's `fault` injection.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub delay: Option<FaultDelay>,
    pub abort: Option<FaultAbort>,
    pub at: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FaultDelay {
    pub fixed_delay: Option<Spanned<Duration>>,
    /// Share of requests, 0 to 100 (`percentage.value`, or the older whole `percent`).
    pub percentage: Option<f64>,
    pub at: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FaultAbort {
    pub http_status: Option<u16>,
    pub grpc_status: Option<String>,
    pub percentage: Option<f64>,
    pub at: Loc,
}

/// An Istio DestinationRule.
#[derive(Debug, Clone, PartialEq)]
pub struct DestinationRule {
    pub name: String,
    pub namespace: Option<String>,
    pub host: Spanned<String>,
    /// The Service the host names, when it is in the manifests.
    pub service: Option<String>,
    pub traffic_policy: Option<TrafficPolicy>,
    pub subsets: Vec<Subset>,
    pub at: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subset {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub traffic_policy: Option<TrafficPolicy>,
    pub at: Loc,
}

/// A `trafficPolicy` (of a rule or a subset).
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficPolicy {
    pub connection_pool: Option<ConnectionPool>,
    pub outlier_detection: Option<OutlierDetection>,
    pub port_level: Vec<PortTrafficPolicy>,
    pub at: Loc,
}

/// One entry of `portLevelSettings`.
#[derive(Debug, Clone, PartialEq)]
pub struct PortTrafficPolicy {
    pub port: Option<u32>,
    pub connection_pool: Option<ConnectionPool>,
    pub outlier_detection: Option<OutlierDetection>,
    pub at: Loc,
}

/// `outlierDetection`: Istio's circuit breaker (hosts that fail are ejected for a while).
#[derive(Debug, Clone, PartialEq)]
pub struct OutlierDetection {
    pub consecutive_5xx_errors: Option<Spanned<u32>>,
    pub consecutive_gateway_errors: Option<Spanned<u32>>,
    /// The deprecated `consecutiveErrors`.
    pub consecutive_errors: Option<Spanned<u32>>,
    pub interval: Option<Spanned<Duration>>,
    pub base_ejection_time: Option<Spanned<Duration>>,
    pub max_ejection_percent: Option<Spanned<u32>>,
    pub at: Loc,
}

/// `connectionPool`: Istio's bulkhead (caps on connections and queued requests).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionPool {
    /// `tcp.maxConnections`.
    pub max_connections: Option<Spanned<u32>>,
    /// `tcp.connectTimeout`.
    pub connect_timeout: Option<Spanned<Duration>>,
    /// `http.http1MaxPendingRequests`.
    pub http1_max_pending_requests: Option<Spanned<u32>>,
    /// `http.http2MaxRequests`.
    pub http2_max_requests: Option<Spanned<u32>>,
    /// `http.maxRequestsPerConnection`.
    pub max_requests_per_connection: Option<Spanned<u32>>,
    /// `http.maxRetries`.
    pub max_retries: Option<Spanned<u32>>,
    pub at: Loc,
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Workload kinds and the JSON pointer of their pod template (`""` for a Pod: its own
/// `metadata` and `spec`).
const WORKLOADS: [(&str, &str, &str); 8] = [
    ("Deployment", "apps/", "/spec/template"),
    ("StatefulSet", "apps/", "/spec/template"),
    ("DaemonSet", "apps/", "/spec/template"),
    ("ReplicaSet", "apps/", "/spec/template"),
    ("Job", "batch/", "/spec/template"),
    ("CronJob", "batch/", "/spec/jobTemplate/spec/template"),
    ("Pod", "v1", ""),
    ("Rollout", "argoproj.io/", "/spec/template"),
];

/// Ends of env var names that hold an address (a bare host counts there).
const ADDRESS_VARS: [&str; 12] = [
    "HOST", "HOSTNAME", "HOSTS", "SERVER", "SERVERS", "ADDR", "ADDRESS", "URL", "URI", "DSN", "ENDPOINT", "TARGET",
];

/// Words of env var names about who may call in, not what the container calls.
const INBOUND_VARS: [&str; 6] = ["ORIGIN", "CORS", "REDIRECT", "CALLBACK", "RETURN_URL", "ALLOWED_HOST"];

impl KubeModel {
    /// Reads the manifests of one deployment set.
    pub fn read(set: &DeploySet) -> KubeModel {
        KubeModel::read_all([set])
    }

    /// Reads several deployment sets as one cluster (Services of one resolve the hosts of
    /// another).
    pub fn read_all<'s>(sets: impl IntoIterator<Item = &'s DeploySet>) -> KubeModel {
        let sets: Vec<&DeploySet> = sets.into_iter().collect();
        let mut m = KubeModel::default();
        let mut config_maps = ConfigMaps::default();
        let mut pending: Vec<(&DeploySet, &Resource)> = Vec::new();
        for set in &sets {
            let templates = template_files(set, &mut m);
            for res in &set.resources {
                if templates.contains(&res.file) {
                    continue;
                }
                if res.kind == "ConfigMap" && res.api_version == "v1" {
                    config_maps.add(set, res, &mut m.problems);
                } else {
                    pending.push((set, res));
                }
            }
        }
        for (set, res) in pending {
            let mut o = Obj::new(set, res, &mut m.problems);
            let istio = res.api_version.starts_with("networking.istio.io/");
            match res.kind.as_str() {
                "Service" if res.api_version == "v1" => m.services.extend(o.service()),
                "VirtualService" if istio => m.virtual_services.extend(o.virtual_service()),
                "DestinationRule" if istio => m.destination_rules.extend(o.destination_rule()),
                kind => {
                    if let Some((_, _, template)) = WORKLOADS
                        .iter()
                        .find(|(k, api, _)| *k == kind && res.api_version.starts_with(api))
                    {
                        m.workloads.extend(o.workload(template, &config_maps));
                    }
                }
            }
        }
        m.resolve();
        m
    }

    /// Resolves hosts to Services and finds the calls in the environment.
    fn resolve(&mut self) {
        for vs in &mut self.virtual_services {
            for route in &mut vs.http {
                for d in &mut route.destinations {
                    d.service = resolve(&self.services, &d.host, vs.namespace.as_deref()).map(|s| s.name.clone());
                }
            }
        }
        for dr in &mut self.destination_rules {
            dr.service = resolve(&self.services, &dr.host.value, dr.namespace.as_deref()).map(|s| s.name.clone());
        }
        let mut calls = Vec::new();
        for (wi, w) in self.workloads.iter().enumerate() {
            let own: BTreeSet<&str> = self
                .services
                .iter()
                .filter(|s| selects(s, w))
                .map(|s| s.name.as_str())
                .collect();
            for c in &w.containers {
                for e in &c.env {
                    let Some(value) = &e.value else { continue };
                    let mut seen = BTreeSet::new();
                    for (host, port) in addresses(&e.name, value) {
                        let Some(s) = resolve(&self.services, &host, w.namespace.as_deref()) else {
                            continue;
                        };
                        if own.contains(s.name.as_str()) || !seen.insert(s.name.clone()) {
                            continue;
                        }
                        calls.push(Call {
                            from: wi,
                            workload: w.name.clone(),
                            container: c.name.clone(),
                            service: s.name.clone(),
                            port,
                            env: e.name.clone(),
                            value: value.clone(),
                            at: e.at.clone(),
                        });
                    }
                }
            }
        }
        self.calls = calls;
    }

    /// The workload named `name` (the first one when several namespaces hold one).
    pub fn workload(&self, name: &str) -> Option<&Workload> {
        self.workloads.iter().find(|w| w.name == name)
    }

    /// The Service named `name` (the first one when several namespaces hold one).
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The Service `host` names (`orders`, `orders.shop`, `orders.shop.svc.cluster.local`, with
    /// or without a port) as seen from `namespace`.
    pub fn resolve_host(&self, host: &str, namespace: Option<&str>) -> Option<&Service> {
        let (host, _) = split_port(host.trim())?;
        resolve(&self.services, host, namespace)
    }

    /// The Services whose selector picks `workload`'s pods.
    pub fn services_of<'a>(&'a self, workload: &'a Workload) -> impl Iterator<Item = &'a Service> + 'a {
        self.services.iter().filter(move |s| selects(s, workload))
    }

    /// The workloads whose pods `service` selects.
    pub fn workloads_behind<'a>(&'a self, service: &'a Service) -> impl Iterator<Item = &'a Workload> + 'a {
        self.workloads.iter().filter(move |w| selects(service, w))
    }

    /// The calls the workload named `workload` makes.
    pub fn calls_from<'a, 'w>(&'a self, workload: &'w str) -> impl Iterator<Item = &'a Call> + use<'a, 'w> {
        self.calls.iter().filter(move |c| c.workload == workload)
    }

    /// The HTTP routes (with their VirtualService) that send traffic to the Service `service`.
    pub fn routes_to<'a, 's>(
        &'a self,
        service: &'s str,
    ) -> impl Iterator<Item = (&'a VirtualService, &'a HttpRoute)> + use<'a, 's> {
        self.virtual_services.iter().flat_map(move |vs| {
            vs.http
                .iter()
                .filter(move |r| r.destinations.iter().any(|d| d.service.as_deref() == Some(service)))
                .map(move |r| (vs, r))
        })
    }

    /// The DestinationRules whose host is the Service `service`.
    pub fn rules_for<'a, 's>(&'a self, service: &'s str) -> impl Iterator<Item = &'a DestinationRule> + use<'a, 's> {
        self.destination_rules
            .iter()
            .filter(move |d| d.service.as_deref() == Some(service))
    }
}

/// Whether `s`'s selector (non-empty) picks `w`'s pods, in compatible namespaces.
fn selects(s: &Service, w: &Workload) -> bool {
    !s.selector.is_empty()
        && same_namespace(s.namespace.as_deref(), w.namespace.as_deref())
        && s.selector.iter().all(|(k, v)| w.labels.get(k) == Some(v))
}

/// Namespaces are compatible when equal or when one is not written (then it is whatever
/// namespace the manifests are applied to).
fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The Service a host (without port) names from `from` namespace: the one in the namespace
/// written or `from`, else one whose namespace is not written.
fn resolve<'a>(services: &'a [Service], host: &str, from: Option<&str>) -> Option<&'a Service> {
    let (name, ns) = service_dns(host)?;
    let ns = ns.or(from);
    let mut candidates = services
        .iter()
        .filter(|s| s.name.eq_ignore_ascii_case(&name) && same_namespace(s.namespace.as_deref(), ns));
    let first = candidates.next()?;
    if first.namespace.is_some() || ns.is_none() {
        return Some(first);
    }
    candidates.find(|s| s.namespace.is_some()).or(Some(first))
}

/// The Service name and namespace a cluster DNS name gives: `name`, `name.ns`, `name.ns.svc`,
/// `name.ns.svc.<cluster domain>` (usually `cluster.local`). Other names (external hosts,
/// wildcards, IP addresses) give `None`.
pub fn service_dns(host: &str) -> Option<(String, Option<&str>)> {
    let host = host.trim().trim_end_matches('.');
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().any(|l| !is_dns_label(l)) || labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let name = labels[0].to_ascii_lowercase();
    match labels.len() {
        1 => Some((name, None)),
        2 => Some((name, Some(labels[1]))),
        n if n >= 3 && labels[2].eq_ignore_ascii_case("svc") => Some((name, Some(labels[1]))),
        _ => None,
    }
}

fn is_dns_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !l.starts_with('-')
        && !l.ends_with('-')
}

/// `host[:port]` split; `None` when the port is not a number.
fn split_port(s: &str) -> Option<(&str, Option<u16>)> {
    match s.rsplit_once(':') {
        Some((h, p)) => Some((h, Some(p.parse().ok()?))),
        None => Some((s, None)),
    }
}

/// The (host, port) pairs an env value names, by the rules of the module docs. Hosts are not
/// resolved: [`service_dns`] and the Services do that.
pub fn addresses(var: &str, value: &str) -> Vec<(String, Option<u16>)> {
    let upper = var.to_ascii_uppercase();
    if INBOUND_VARS.iter().any(|w| upper.contains(w)) {
        return Vec::new();
    }
    let words: Vec<&str> = upper.split(['_', '-', '.']).collect();
    let address_var = words.last().is_some_and(|w| ADDRESS_VARS.contains(w));
    let mut out = Vec::new();
    for token in value.split([',', ';']).map(str::trim).filter(|t| !t.is_empty()) {
        if token.contains(char::is_whitespace) {
            continue;
        }
        let (scheme, rest) = match token.split_once("://") {
            Some((_, r)) => (true, r),
            None => (false, token),
        };
        // `user:password@host`: the host is after the last `@` of the authority.
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        // gRPC's `dns:///orders:50051`: the target is the path.
        let authority = if authority.is_empty() && scheme {
            path.trim_start_matches('/').split(['/', '?', '#']).next().unwrap_or("")
        } else {
            authority
        };
        let Some((host, port)) = split_port(authority) else {
            continue;
        };
        if host.is_empty() || host.starts_with('[') {
            continue;
        }
        let qualified = scheme || port.is_some() || host.split('.').nth(2).is_some_and(|l| l == "svc");
        if qualified || address_var {
            out.push((host.to_string(), port));
        }
    }
    out
}

/// The files of `set` that are templates (a `{{` on a line that is not a comment): recorded in
/// `m` as not read; their indices returned.
fn template_files(set: &DeploySet, m: &mut KubeModel) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for (fi, f) in set.files.iter().enumerate() {
        let mut offset = 0;
        let mut found = None;
        for (i, line) in f.stream.source.split_inclusive('\n').enumerate() {
            if !line.trim_start().starts_with('#') {
                if let Some(col) = line.find("{{") {
                    found = Some((i + 1, line[..col].chars().count() + 1, offset + col));
                    break;
                }
            }
            offset += line.len();
        }
        let Some((line, column, offset)) = found else { continue };
        out.insert(fi);
        m.templates.push(f.rel.clone());
        m.problems.push((
            f.rel.clone(),
            ArtifactProblem {
                message: format!(
                    "{} is a template (`{{{{ ... }}}}` at line {line}): templates are not rendered, so its \
                     objects are not read",
                    f.rel
                ),
                location: Some(Location {
                    line,
                    column,
                    offset,
                    len: 2,
                }),
                pointer: None,
                help: "commit the rendered manifests (e.g. the output of `helm template`) and point the \
                       deployment at them"
                    .into(),
            },
        ));
    }
    out
}

/// The ConfigMaps of the manifests, by name.
#[derive(Default)]
struct ConfigMaps {
    maps: BTreeMap<String, Vec<ConfigMapData>>,
}

/// One ConfigMap's namespace and `data` entries (key, value with its location).
struct ConfigMapData {
    namespace: Option<String>,
    entries: Vec<(String, Spanned<String>)>,
}

impl ConfigMaps {
    fn add(&mut self, set: &DeploySet, res: &Resource, problems: &mut Vec<(String, ArtifactProblem)>) {
        let mut o = Obj::new(set, res, problems);
        let Some(name) = res.name.clone() else { return };
        let namespace = o.text("/metadata/namespace").map(|s| s.value);
        let mut entries = Vec::new();
        if let Some(data) = o.mapping("/data") {
            for (k, v) in data {
                let rel = format!("/data/{}", escape_pointer_segment(k));
                let value = match v {
                    Value::String(s) => s.clone(),
                    // Kubernetes rejects the manifest: skipped as a wrong type.
                    Value::Number(_) | Value::Bool(_) => {
                        o.wrong(&rel, "text (put numbers and booleans in quotes)");
                        continue;
                    }
                    _ => {
                        o.wrong(&rel, "text");
                        continue;
                    }
                };
                let at = o.at(&rel);
                entries.push((k.clone(), Spanned { value, at }));
            }
        }
        self.maps
            .entry(name)
            .or_default()
            .push(ConfigMapData { namespace, entries });
    }

    /// The entries of the ConfigMap `name` seen from `namespace`.
    fn get(&self, name: &str, namespace: Option<&str>) -> Option<&[(String, Spanned<String>)]> {
        self.maps
            .get(name)?
            .iter()
            .find(|d| same_namespace(d.namespace.as_deref(), namespace))
            .map(|d| d.entries.as_slice())
    }
}

/// One object being read: its values, locations, and the problems found in it.
struct Obj<'a, 'p> {
    set: &'a DeploySet,
    res: &'a Resource,
    /// How messages name it: ``Deployment `orders` ``.
    what: String,
    problems: &'p mut Vec<(String, ArtifactProblem)>,
}

impl<'a, 'p> Obj<'a, 'p> {
    fn new(set: &'a DeploySet, res: &'a Resource, problems: &'p mut Vec<(String, ArtifactProblem)>) -> Self {
        let what = match &res.name {
            Some(n) => format!("{} `{n}`", res.kind),
            None => format!("A {}", res.kind),
        };
        Obj {
            set,
            res,
            what,
            problems,
        }
    }

    /// The value at `rel`; `null` (an empty YAML field) is absent.
    fn get(&self, rel: &str) -> Option<&'a Value> {
        self.set.value(self.res, rel).filter(|v| !v.is_null())
    }

    fn at(&self, rel: &str) -> Loc {
        Loc {
            file: self.set.rel(self.res).to_string(),
            location: self.set.locate(self.res, rel),
        }
    }

    fn problem(&mut self, rel: &str, message: String, help: &str) {
        self.problems.push((
            self.set.rel(self.res).to_string(),
            ArtifactProblem {
                message,
                location: Some(self.set.locate(self.res, rel)),
                pointer: Some(format!("{}{rel}", self.res.pointer)),
                help: help.to_string(),
            },
        ));
    }

    /// Reports that the value at `rel` is not `expected`; it is not used.
    fn wrong(&mut self, rel: &str, expected: &str) {
        let found = self.get(rel).map_or("empty", value_kind);
        let message = format!(
            "{}: `{}` should be {expected}, but it is {found}; it is not read",
            self.what,
            yaml_path(rel)
        );
        self.problem(rel, message, &format!("write {expected} there"));
    }

    fn mapping(&mut self, rel: &str) -> Option<&'a Map<String, Value>> {
        match self.get(rel)? {
            Value::Object(m) => Some(m),
            _ => {
                self.wrong(rel, "a mapping");
                None
            }
        }
    }

    /// The number of elements of the list at `rel` (0 when absent or not a list).
    fn list(&mut self, rel: &str) -> usize {
        match self.get(rel) {
            None => 0,
            Some(Value::Array(a)) => a.len(),
            Some(_) => {
                self.wrong(rel, "a list");
                0
            }
        }
    }

    fn text(&mut self, rel: &str) -> Option<Spanned<String>> {
        match self.get(rel)? {
            Value::String(s) => Some(Spanned {
                value: s.trim().to_string(),
                at: self.at(rel),
            }),
            Value::Number(_) | Value::Bool(_) => {
                self.wrong(rel, "text (put it in quotes)");
                None
            }
            _ => {
                self.wrong(rel, "text");
                None
            }
        }
    }

    fn texts(&mut self, rel: &str) -> Vec<Spanned<String>> {
        (0..self.list(rel))
            .filter_map(|i| self.text(&format!("{rel}/{i}")))
            .collect()
    }

    fn uint(&mut self, rel: &str, max: u64) -> Option<Spanned<u64>> {
        let v = self.get(rel)?;
        match v.as_u64() {
            Some(n) if n <= max => Some(Spanned {
                value: n,
                at: self.at(rel),
            }),
            Some(n) => {
                let message = format!(
                    "{}: `{}` is {n}, over the largest allowed ({max})",
                    self.what,
                    yaml_path(rel)
                );
                self.problem(rel, message, "use a smaller number");
                None
            }
            None if v.is_string() => {
                self.wrong(rel, "a whole number (without quotes)");
                None
            }
            None => {
                match v {
                    Value::Number(n) => {
                        let message = format!(
                            "{}: `{}` is {n}; it should be a whole number, 0 or more",
                            self.what,
                            yaml_path(rel)
                        );
                        self.problem(rel, message, "write a whole number such as `5`");
                    }
                    _ => self.wrong(rel, "a whole number, 0 or more"),
                }
                None
            }
        }
    }

    fn u32(&mut self, rel: &str) -> Option<Spanned<u32>> {
        self.uint(rel, u64::from(u32::MAX)).map(|s| Spanned {
            value: s.value as u32,
            at: s.at,
        })
    }

    fn port(&mut self, rel: &str) -> Option<u16> {
        let s = self.uint(rel, 65_535)?;
        if s.value == 0 {
            let message = format!("{}: `{}` is 0, not a port", self.what, yaml_path(rel));
            self.problem(rel, message, "ports are 1 to 65535");
            return None;
        }
        Some(s.value as u16)
    }

    fn duration(&mut self, rel: &str) -> Option<Spanned<Duration>> {
        let v = self.get(rel)?;
        let parsed = match v {
            Value::String(s) => parse_duration(s),
            Value::Number(n) => Err(format!("`{n}` has no unit; write e.g. `{n}s`")),
            _ => {
                self.wrong(rel, "a duration such as `2s`");
                return None;
            }
        };
        match parsed {
            Ok(d) => Some(Spanned {
                value: d,
                at: self.at(rel),
            }),
            Err(e) => {
                let message = format!("{}: `{}` is not a duration: {e}", self.what, yaml_path(rel));
                self.problem(
                    rel,
                    message,
                    "write a number and a unit: `250ms`, `0.5s`, `10s`, `1m`, `1h30m`",
                );
                None
            }
        }
    }

    /// A share of requests: `percentage.value` (0 to 100, decimals allowed) or `percent`.
    fn percentage(&mut self, rel: &str) -> Option<f64> {
        if self.get(&format!("{rel}/percentage")).is_some() {
            let p = format!("{rel}/percentage/value");
            return match self.get(&p)?.as_f64() {
                Some(x) if (0.0..=100.0).contains(&x) => Some(x),
                Some(x) => {
                    let message = format!(
                        "{}: `{}` is {x}; it should be a number from 0 to 100",
                        self.what,
                        yaml_path(&p)
                    );
                    self.problem(
                        &p,
                        message,
                        "write the share of requests in percent, e.g. `10` or `0.5`",
                    );
                    None
                }
                None => {
                    self.wrong(&p, "a number from 0 to 100");
                    None
                }
            };
        }
        let p = format!("{rel}/percent");
        self.uint(&p, 100).map(|s| s.value as f64)
    }

    /// A mapping of text to text (labels, selectors); other values are reported and skipped.
    fn labels(&mut self, rel: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(m) = self.mapping(rel) else { return out };
        for (k, v) in m {
            let krel = format!("{rel}/{}", escape_pointer_segment(k));
            match v {
                Value::String(s) => {
                    out.insert(k.clone(), s.clone());
                }
                _ => self.wrong(&krel, "text (put it in quotes)"),
            }
        }
        out
    }

    /// The object's `metadata.name`; without one the object is reported and not read.
    fn name(&mut self) -> Option<String> {
        if self.res.name.is_none() {
            let message = format!("{} has no `metadata.name`; it is not read", self.what);
            self.problem("", message, "give it a name under `metadata:`");
        }
        self.res.name.clone()
    }

    fn namespace(&mut self) -> Option<String> {
        self.text("/metadata/namespace")
            .map(|s| s.value)
            .filter(|s| !s.is_empty())
    }

    // ---- Kubernetes ----------------------------------------------------------------------

    fn workload(&mut self, template: &str, config_maps: &ConfigMaps) -> Option<Workload> {
        let name = self.name()?;
        let namespace = self.namespace();
        let labels = self.labels(&format!("{template}/metadata/labels"));
        let spec = format!("{template}/spec");
        let mut containers = Vec::new();
        for (key, init) in [("initContainers", true), ("containers", false)] {
            let list = format!("{spec}/{key}");
            for i in 0..self.list(&list) {
                let rel = format!("{list}/{i}");
                if self.mapping(&rel).is_none() {
                    continue;
                }
                containers.push(self.container(&rel, init, namespace.as_deref(), config_maps));
            }
        }
        Some(Workload {
            kind: self.res.kind.clone(),
            name,
            namespace,
            labels,
            containers,
            at: self.at("/metadata/name"),
        })
    }

    fn container(&mut self, rel: &str, init: bool, namespace: Option<&str>, cms: &ConfigMaps) -> Container {
        let name = self.text(&format!("{rel}/name")).map(|s| s.value).unwrap_or_default();
        let image = self.text(&format!("{rel}/image")).map(|s| s.value);
        let mut ports = Vec::new();
        for i in 0..self.list(&format!("{rel}/ports")) {
            let p = format!("{rel}/ports/{i}");
            if self.mapping(&p).is_none() {
                continue;
            }
            if let Some(port) = self.port(&format!("{p}/containerPort")) {
                ports.push(ContainerPort {
                    name: self.text(&format!("{p}/name")).map(|s| s.value),
                    port,
                    protocol: self.text(&format!("{p}/protocol")).map(|s| s.value),
                    at: self.at(&format!("{p}/containerPort")),
                });
            }
        }
        let mut env = Vec::new();
        // `envFrom` first: Kubernetes lets `env` override what it imports.
        for i in 0..self.list(&format!("{rel}/envFrom")) {
            let e = format!("{rel}/envFrom/{i}");
            let prefix = self.text(&format!("{e}/prefix")).map(|s| s.value).unwrap_or_default();
            let Some(cm) = self.text(&format!("{e}/configMapRef/name")) else {
                continue;
            };
            for (key, value) in cms.get(&cm.value, namespace).unwrap_or_default() {
                env.push(EnvVar {
                    name: format!("{prefix}{key}"),
                    value: Some(value.value.clone()),
                    source: EnvSource::ConfigMap {
                        name: cm.value.clone(),
                        key: key.clone(),
                    },
                    at: value.at.clone(),
                });
            }
        }
        for i in 0..self.list(&format!("{rel}/env")) {
            let e = format!("{rel}/env/{i}");
            if self.mapping(&e).is_none() {
                continue;
            }
            let Some(var) = self.text(&format!("{e}/name")) else {
                let message = format!("{}: `{}` has no `name`", self.what, yaml_path(&e));
                self.problem(&e, message, "give the variable a `name`");
                continue;
            };
            let var = self.env_var(&e, var.value, namespace, cms);
            env.retain(|x: &EnvVar| x.name != var.name);
            env.push(var);
        }
        Container {
            name,
            image,
            init,
            env,
            ports,
            at: self.at(rel),
        }
    }

    fn env_var(&mut self, e: &str, name: String, namespace: Option<&str>, cms: &ConfigMaps) -> EnvVar {
        if self.get(&format!("{e}/value")).is_some() {
            let value = self.text(&format!("{e}/value"));
            return EnvVar {
                name,
                value: value.as_ref().map(|s| s.value.clone()),
                source: EnvSource::Literal,
                at: value.map_or_else(|| self.at(e), |s| s.at),
            };
        }
        let from = format!("{e}/valueFrom");
        let key_ref = |o: &mut Self, r: &str| {
            let n = o.text(&format!("{from}/{r}/name"))?.value;
            let k = o.text(&format!("{from}/{r}/key"))?.value;
            Some((n, k))
        };
        let mut var = EnvVar {
            name,
            value: None,
            source: EnvSource::Other,
            at: self.at(e),
        };
        if let Some((cm, key)) = key_ref(self, "configMapKeyRef") {
            if let Some((_, value)) = cms.get(&cm, namespace).and_then(|es| es.iter().find(|x| x.0 == key)) {
                var.value = Some(value.value.clone());
                var.at = value.at.clone();
            }
            var.source = EnvSource::ConfigMap { name: cm, key };
        } else if let Some((secret, key)) = key_ref(self, "secretKeyRef") {
            var.source = EnvSource::Secret { name: secret, key };
        } else if let Some(path) = self.text(&format!("{from}/fieldRef/fieldPath")) {
            var.source = EnvSource::Field(path.value);
        }
        var
    }

    fn service(&mut self) -> Option<Service> {
        let name = self.name()?;
        let namespace = self.namespace();
        let selector = self.labels("/spec/selector");
        let mut ports = Vec::new();
        for i in 0..self.list("/spec/ports") {
            let p = format!("/spec/ports/{i}");
            if self.mapping(&p).is_none() {
                continue;
            }
            let Some(port) = self.port(&format!("{p}/port")) else {
                continue;
            };
            let target_port = match self.get(&format!("{p}/targetPort")) {
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::String(s)) => Some(s.trim().to_string()),
                Some(_) => {
                    self.wrong(&format!("{p}/targetPort"), "a port number or a container port's name");
                    None
                }
                None => None,
            };
            ports.push(ServicePort {
                name: self.text(&format!("{p}/name")).map(|s| s.value),
                port,
                target_port,
                protocol: self.text(&format!("{p}/protocol")).map(|s| s.value),
                at: self.at(&format!("{p}/port")),
            });
        }
        Some(Service {
            name,
            namespace,
            service_type: self.text("/spec/type").map(|s| s.value),
            selector,
            ports,
            at: self.at("/metadata/name"),
        })
    }

    // ---- Istio ---------------------------------------------------------------------------

    fn virtual_service(&mut self) -> Option<VirtualService> {
        let name = self.name()?;
        let namespace = self.namespace();
        self.mapping("/spec")?;
        let hosts = self.texts("/spec/hosts");
        let gateways = self.texts("/spec/gateways").into_iter().map(|s| s.value).collect();
        let mut http = Vec::new();
        for i in 0..self.list("/spec/http") {
            let r = format!("/spec/http/{i}");
            if self.mapping(&r).is_some() {
                http.push(self.http_route(i, &r));
            }
        }
        Some(VirtualService {
            name,
            namespace,
            hosts,
            gateways,
            http,
            at: self.at("/metadata/name"),
        })
    }

    fn http_route(&mut self, index: usize, r: &str) -> HttpRoute {
        let mut destinations = Vec::new();
        for j in 0..self.list(&format!("{r}/route")) {
            let d = format!("{r}/route/{j}");
            if self.mapping(&d).is_none() || self.mapping(&format!("{d}/destination")).is_none() {
                continue;
            }
            let Some(host) = self.text(&format!("{d}/destination/host")) else {
                let message = format!(
                    "{}: `{}` has no `host`",
                    self.what,
                    yaml_path(&format!("{d}/destination"))
                );
                self.problem(
                    &format!("{d}/destination"),
                    message,
                    "name the Service the route sends to in `host`",
                );
                continue;
            };
            destinations.push(RouteDestination {
                host: host.value,
                service: None,
                subset: self.text(&format!("{d}/destination/subset")).map(|s| s.value),
                port: self.u32(&format!("{d}/destination/port/number")).map(|s| s.value),
                weight: self.u32(&format!("{d}/weight")).map(|s| s.value),
                at: host.at,
            });
        }
        let retries = self.mapping(&format!("{r}/retries")).map(|_| {
            let rr = format!("{r}/retries");
            Retries {
                attempts: self.u32(&format!("{rr}/attempts")),
                per_try_timeout: self.duration(&format!("{rr}/perTryTimeout")),
                retry_on: self
                    .text(&format!("{rr}/retryOn"))
                    .map(|s| {
                        s.value
                            .split(',')
                            .map(str::trim)
                            .filter(|x| !x.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                at: self.at(&rr),
            }
        });
        let fault = self
            .mapping(&format!("{r}/fault"))
            .map(|_| self.fault(&format!("{r}/fault")));
        HttpRoute {
            index,
            name: self.text(&format!("{r}/name")).map(|s| s.value),
            destinations,
            timeout: self.duration(&format!("{r}/timeout")),
            retries,
            fault,
            at: self.at(r),
        }
    }

    fn fault(&mut self, f: &str) -> Fault {
        let delay = self.mapping(&format!("{f}/delay")).map(|_| {
            let d = format!("{f}/delay");
            FaultDelay {
                fixed_delay: self.duration(&format!("{d}/fixedDelay")),
                percentage: self.percentage(&d),
                at: self.at(&d),
            }
        });
        let abort = self.mapping(&format!("{f}/abort")).map(|_| {
            let a = format!("{f}/abort");
            FaultAbort {
                http_status: self.uint(&format!("{a}/httpStatus"), 599).map(|s| s.value as u16),
                grpc_status: self.text(&format!("{a}/grpcStatus")).map(|s| s.value),
                percentage: self.percentage(&a),
                at: self.at(&a),
            }
        });
        Fault {
            delay,
            abort,
            at: self.at(f),
        }
    }

    fn destination_rule(&mut self) -> Option<DestinationRule> {
        let name = self.name()?;
        let namespace = self.namespace();
        self.mapping("/spec")?;
        let Some(host) = self.text("/spec/host") else {
            let message = format!("{}: `spec.host` is missing", self.what);
            self.problem("/spec", message, "name the Service the rule applies to in `host`");
            return None;
        };
        let traffic_policy = self.traffic_policy("/spec/trafficPolicy");
        let mut subsets = Vec::new();
        for i in 0..self.list("/spec/subsets") {
            let s = format!("/spec/subsets/{i}");
            if self.mapping(&s).is_none() {
                continue;
            }
            subsets.push(Subset {
                name: self.text(&format!("{s}/name")).map(|x| x.value).unwrap_or_default(),
                labels: self.labels(&format!("{s}/labels")),
                traffic_policy: self.traffic_policy(&format!("{s}/trafficPolicy")),
                at: self.at(&s),
            });
        }
        Some(DestinationRule {
            name,
            namespace,
            host,
            service: None,
            traffic_policy,
            subsets,
            at: self.at("/metadata/name"),
        })
    }

    fn traffic_policy(&mut self, t: &str) -> Option<TrafficPolicy> {
        self.mapping(t)?;
        let mut port_level = Vec::new();
        for i in 0..self.list(&format!("{t}/portLevelSettings")) {
            let p = format!("{t}/portLevelSettings/{i}");
            if self.mapping(&p).is_none() {
                continue;
            }
            port_level.push(PortTrafficPolicy {
                port: self.u32(&format!("{p}/port/number")).map(|s| s.value),
                connection_pool: self.connection_pool(&format!("{p}/connectionPool")),
                outlier_detection: self.outlier_detection(&format!("{p}/outlierDetection")),
                at: self.at(&p),
            });
        }
        Some(TrafficPolicy {
            connection_pool: self.connection_pool(&format!("{t}/connectionPool")),
            outlier_detection: self.outlier_detection(&format!("{t}/outlierDetection")),
            port_level,
            at: self.at(t),
        })
    }

    fn connection_pool(&mut self, c: &str) -> Option<ConnectionPool> {
        self.mapping(c)?;
        let tcp = self.mapping(&format!("{c}/tcp")).is_some();
        let http = self.mapping(&format!("{c}/http")).is_some();
        let u = |o: &mut Self, on: bool, key: &str| if on { o.u32(&format!("{c}/{key}")) } else { None };
        Some(ConnectionPool {
            max_connections: u(self, tcp, "tcp/maxConnections"),
            connect_timeout: if tcp {
                self.duration(&format!("{c}/tcp/connectTimeout"))
            } else {
                None
            },
            http1_max_pending_requests: u(self, http, "http/http1MaxPendingRequests"),
            http2_max_requests: u(self, http, "http/http2MaxRequests"),
            max_requests_per_connection: u(self, http, "http/maxRequestsPerConnection"),
            max_retries: u(self, http, "http/maxRetries"),
            at: self.at(c),
        })
    }

    fn outlier_detection(&mut self, o: &str) -> Option<OutlierDetection> {
        self.mapping(o)?;
        Some(OutlierDetection {
            consecutive_5xx_errors: self.u32(&format!("{o}/consecutive5xxErrors")),
            consecutive_gateway_errors: self.u32(&format!("{o}/consecutiveGatewayErrors")),
            consecutive_errors: self.u32(&format!("{o}/consecutiveErrors")),
            interval: self.duration(&format!("{o}/interval")),
            base_ejection_time: self.duration(&format!("{o}/baseEjectionTime")),
            max_ejection_percent: self.u32(&format!("{o}/maxEjectionPercent")),
            at: self.at(o),
        })
    }
}

/// A JSON pointer below an object as the YAML path a learner reads:
/// `/spec/template/spec/containers/0/env/1` -> `spec.template.spec.containers[0].env[1]`.
fn yaml_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&unescape_pointer_segment(seg));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------------------------

/// Parses a duration as Istio (and Go's `time.ParseDuration`) reads it: one or more decimal
/// numbers each with a unit, `ns`, `us` (`µs`), `ms`, `s`, `m`, `h`: `250ms`, `0.5s`, `10s`,
/// `1m`, `1h30m`. The error says what is wrong in words a learner can act on. (OpenSLO's
/// shorthand is [`crate::artifact::openslo::parse_openslo_duration`]; the scenario steps' is
/// `crate::submission::parse_decimal_duration`.)
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the duration is empty".into());
    }
    if t.starts_with('-') {
        return Err(format!("`{t}` is negative"));
    }
    let mut rest = t.strip_prefix('+').unwrap_or(t);
    let mut total = 0f64;
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(n_end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(format!(
                "`{t}` is not a number followed by a unit, e.g. `250ms`, `0.5s` or `1m`"
            ));
        }
        let u_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(u_end);
        let per_unit = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3_600.0,
            "" => return Err(format!("`{t}` has no unit; write e.g. `{t}s` or `{t}ms`")),
            "d" => return Err(format!("`{t}`: days are not a unit here; write hours, e.g. `24h`")),
            other => {
                return Err(format!(
                    "`{t}` has an unknown unit `{other}`; use ms, s, m or h (e.g. `250ms`, `0.5s`, `1m`)"
                ))
            }
        };
        let n: f64 = number
            .parse()
            .map_err(|_| format!("`{t}` is not a number followed by a unit"))?;
        total += n * per_unit;
        rest = next;
    }
    Duration::try_from_secs_f64(total).map_err(|_| format!("`{t}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::deploy;
    use crate::artifact::document::Limits;
    use crate::artifact::Loaded;
    use crate::files::paths::confine;
    use crate::files::ArtifactRef;
    use std::path::Path;

    /// Loads `root`/`rel` (a file or a folder) as the deployment loader does.
    fn load(root: &Path, rel: &str) -> DeploySet {
        let (path, rel) = confine(root, rel).unwrap();
        let r = ArtifactRef {
            rel,
            path,
            span: None,
            role: "operations deployment".into(),
        };
        match deploy::load(root, &r, &Limits::default()) {
            Loaded::Ok(set) => set,
            other => panic!("{rel:?} does not load: {other:?}", rel = r.rel),
        }
    }

    /// Writes `files` (relative path, text) into a fresh folder and reads its `deploy` folder.
    fn model(tag: &str, files: &[(&str, &str)]) -> KubeModel {
        let base = std::env::temp_dir().join(format!("grade-kube-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        for (rel, text) in files {
            let p = base.join("deploy").join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let root = base.canonicalize().unwrap();
        let set = load(&root, "deploy");
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let m = KubeModel::read(&set);
        std::fs::remove_dir_all(&base).unwrap();
        m
    }

    fn messages(m: &KubeModel) -> Vec<String> {
        m.problems.iter().map(|(_, p)| p.message.clone()).collect()
    }

    const SHOP: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
spec:
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout, version: v1}
    spec:
      initContainers:
      - name: wait
        image: busybox
        env:
        - {name: DB_HOST, value: "orders-db"}
      containers:
      - name: server
        image: ghcr.io/shop/checkout:1.2
        ports:
        - {containerPort: 5050, name: grpc}
        envFrom:
        - configMapRef: {name: checkout-config}
          prefix: CFG_
        env:
        - name: CATALOG_ADDR
          value: "catalog:3550"
        - name: PAYMENTS_URL
          value: "http://payments.shop.svc.cluster.local:8080/api/v1"
        - name: SHIPPING
          value: shipping.shop
        - name: SHIPPING_HOST
          value: shipping.shop
        - name: POSTGRES_DB
          value: orders-db
        - name: STRIPE_URL
          value: https://api.stripe.com/v1
        - name: SELF_ADDR
          value: checkout:5050
        - name: ALLOWED_ORIGINS
          value: http://frontend:80
        - name: CART_TARGET
          value: dns:///cart:7070
        - name: EMAIL_ADDR
          valueFrom:
            configMapKeyRef: {name: checkout-config, key: email}
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {name: db, key: password}
        - name: POD_IP
          valueFrom:
            fieldRef: {fieldPath: status.podIP}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: checkout-config, namespace: shop}
data:
  email: "email:5000"
  currency: "amqp://guest:guest@currency:5672"
---
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
spec:
  selector: {app: checkout}
  ports:
  - {name: grpc, port: 5050, targetPort: grpc}
"#;

    fn services(names: &[&str]) -> String {
        names
            .iter()
            .map(|n| {
                format!(
                    "apiVersion: v1\nkind: Service\nmetadata:\n  name: {n}\nspec:\n  selector:\n    app: {n}\n  ports:\n  - port: 80\n    targetPort: 8080\n"
                )
            })
            .collect::<Vec<_>>()
            .join("---\n")
    }

    #[test]
    fn workloads_services_and_calls_from_env() {
        let svcs = services(&[
            "catalog",
            "payments",
            "shipping",
            "orders-db",
            "email",
            "currency",
            "cart",
            "frontend",
        ]);
        let m = model("shop", &[("checkout.yaml", SHOP), ("services.yaml", &svcs)]);
        assert_eq!(m.problems, vec![]);
        assert_eq!(m.workloads.len(), 1);
        let w = &m.workloads[0];
        assert_eq!(
            (w.kind.as_str(), w.name.as_str(), w.namespace.as_deref()),
            ("Deployment", "checkout", Some("shop"))
        );
        assert_eq!(w.labels.get("version").map(String::as_str), Some("v1"));
        assert_eq!(w.at.file, "deploy/checkout.yaml");
        assert_eq!(w.at.location.line, 4);
        let names: Vec<_> = w.containers.iter().map(|c| (c.name.as_str(), c.init)).collect();
        assert_eq!(names, vec![("wait", true), ("server", false)]);
        let server = &w.containers[1];
        assert_eq!(server.image.as_deref(), Some("ghcr.io/shop/checkout:1.2"));
        assert_eq!(server.ports[0].port, 5050);
        assert_eq!(server.ports[0].name.as_deref(), Some("grpc"));

        let env = |n: &str| server.env.iter().find(|e| e.name == n).unwrap();
        assert_eq!(env("CATALOG_ADDR").value.as_deref(), Some("catalog:3550"));
        assert_eq!(env("CATALOG_ADDR").at.location.line, 28);
        assert_eq!(env("CATALOG_ADDR").source, EnvSource::Literal);
        let email = env("EMAIL_ADDR");
        assert_eq!(email.value.as_deref(), Some("email:5000"));
        assert_eq!(
            email.source,
            EnvSource::ConfigMap {
                name: "checkout-config".into(),
                key: "email".into()
            }
        );
        assert_eq!(email.at.location.line, 59, "the ConfigMap's line");
        assert_eq!(
            env("CFG_currency").value.as_deref(),
            Some("amqp://guest:guest@currency:5672")
        );
        assert_eq!(
            env("DB_PASSWORD").source,
            EnvSource::Secret {
                name: "db".into(),
                key: "password".into()
            }
        );
        assert_eq!(env("DB_PASSWORD").value, None);
        assert_eq!(env("POD_IP").source, EnvSource::Field("status.podIP".into()));

        let checkout = m.service("checkout").unwrap();
        assert_eq!(
            m.services_of(w).map(|s| s.name.as_str()).collect::<Vec<_>>(),
            vec!["checkout"]
        );
        assert_eq!(m.workloads_behind(checkout).count(), 1);
        assert_eq!(checkout.ports[0].target_port.as_deref(), Some("grpc"));
        assert_eq!(m.workloads_behind(m.service("catalog").unwrap()).count(), 0);

        let calls: Vec<_> = m
            .calls_from("checkout")
            .map(|c| (c.container.as_str(), c.env.as_str(), c.service.as_str(), c.port))
            .collect();
        assert_eq!(
            calls,
            vec![
                ("wait", "DB_HOST", "orders-db", None),
                ("server", "CFG_email", "email", Some(5000)),
                ("server", "CFG_currency", "currency", Some(5672)),
                ("server", "CATALOG_ADDR", "catalog", Some(3550)),
                ("server", "PAYMENTS_URL", "payments", Some(8080)),
                ("server", "SHIPPING_HOST", "shipping", None),
                ("server", "CART_TARGET", "cart", Some(7070)),
                ("server", "EMAIL_ADDR", "email", Some(5000)),
            ],
            "not SHIPPING or POSTGRES_DB (bare names in variables that are no address), not the \
             external Stripe URL, not itself, not the allowed origin"
        );
        let c = m.calls.iter().find(|c| c.env == "PAYMENTS_URL").unwrap();
        assert_eq!(c.at.to_string(), "deploy/checkout.yaml:30");
        assert_eq!(c.from, 0);
    }

    #[test]
    fn addresses_and_dns_names() {
        assert_eq!(addresses("X", "orders:8080"), vec![("orders".to_string(), Some(8080))]);
        assert_eq!(addresses("X", "orders"), vec![]);
        assert_eq!(addresses("ORDERS_HOST", "orders"), vec![("orders".to_string(), None)]);
        assert_eq!(
            addresses("KAFKA_BOOTSTRAP_SERVERS", "kafka-0:9092, kafka-1:9092"),
            vec![("kafka-0".to_string(), Some(9092)), ("kafka-1".to_string(), Some(9092))]
        );
        assert_eq!(
            addresses("DB_URL", "jdbc:postgresql://db:5432/orders?ssl=false"),
            vec![("db".to_string(), Some(5432))]
        );
        assert_eq!(addresses("MSG", "see http://api:3000 for more"), vec![]);
        assert_eq!(addresses("X", "a:b"), vec![]);
        assert_eq!(
            addresses("X", "orders.shop.svc"),
            vec![("orders.shop.svc".to_string(), None)]
        );
        assert_eq!(service_dns("orders"), Some(("orders".into(), None)));
        assert_eq!(service_dns("Orders.shop"), Some(("orders".into(), Some("shop"))));
        assert_eq!(
            service_dns("orders.shop.svc.cluster.local."),
            Some(("orders".into(), Some("shop")))
        );
        assert_eq!(service_dns("api.stripe.com"), None);
        assert_eq!(service_dns("*.example.com"), None);
        assert_eq!(service_dns("10.0.0.1"), None);
        assert_eq!(service_dns("*"), None);
    }

    #[test]
    fn durations_as_istio_reads_them() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("0.5s"), Duration::from_millis(500));
        assert_eq!(ok("250ms"), Duration::from_millis(250));
        assert_eq!(ok("1m"), Duration::from_secs(60));
        assert_eq!(ok(" 10s "), Duration::from_secs(10));
        assert_eq!(ok("1h30m"), Duration::from_secs(5_400));
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(ok("1500us"), Duration::from_micros(1500));
        let err = |s: &str| parse_duration(s).unwrap_err();
        assert!(err("1x").contains("unknown unit `x`"), "{}", err("1x"));
        assert!(err("10").contains("no unit"));
        assert!(err("").contains("empty"));
        assert!(err("-1s").contains("negative"));
        assert!(err("s").contains("not a number"));
        assert!(err("1.2.3s").contains("not a number"));
        assert!(err("2d").contains("24h"));
        assert!(err("99999999999999999999999h").contains("too large"));
    }

    /// Istio's documentation examples (task "Request Timeouts", "Retries", "Fault Injection",
    /// "Circuit Breaking" and the DestinationRule reference).
    const ISTIO: &str = r#"apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2
    timeout: 0.5s
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - name: ratings-route
    route:
    - destination:
        host: ratings.prod.svc.cluster.local
        subset: v1
        port:
          number: 9080
      weight: 100
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: gateway-error,connect-failure,refused-stream
    fault:
      delay:
        percentage:
          value: 0.1
        fixedDelay: 5s
      abort:
        percentage:
          value: 10
        httpStatus: 400
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews-cb-policy
spec:
  host: reviews.prod.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
      http:
        http2MaxRequests: 1000
        maxRequestsPerConnection: 10
        http1MaxPendingRequests: 1
    outlierDetection:
      consecutive5xxErrors: 7
      interval: 5m
      baseEjectionTime: 15m
  subsets:
  - name: testversion
    labels:
      version: v3
    trafficPolicy:
      outlierDetection:
        consecutiveGatewayErrors: 3
        interval: 250ms
      portLevelSettings:
      - port:
          number: 80
        connectionPool:
          tcp:
            maxConnections: 5
            connectTimeout: 30ms
"#;

    #[test]
    fn istio_routes_and_rules() {
        let svcs = services(&["reviews", "ratings"]);
        let m = model("istio", &[("istio.yaml", ISTIO), ("svc.yaml", &svcs)]);
        assert_eq!(m.problems, vec![]);
        assert_eq!(m.virtual_services.len(), 2);
        let reviews = &m.virtual_services[0];
        assert_eq!(reviews.hosts[0].value, "reviews");
        let r = &reviews.http[0];
        assert_eq!(r.destinations[0].service.as_deref(), Some("reviews"));
        assert_eq!(r.destinations[0].subset.as_deref(), Some("v2"));
        let t = r.timeout.as_ref().unwrap();
        assert_eq!(t.value, Duration::from_millis(500));
        assert_eq!(t.at.to_string(), "deploy/istio.yaml:13");

        let (vs, route) = m.routes_to("ratings").next().unwrap();
        assert_eq!(vs.name, "ratings");
        assert_eq!(route.name.as_deref(), Some("ratings-route"));
        let d = &route.destinations[0];
        assert_eq!((d.port, d.weight, d.at.location.line), (Some(9080), Some(100), 26));
        let retries = route.retries.as_ref().unwrap();
        assert_eq!(retries.attempts.as_ref().unwrap().value, 3);
        assert_eq!(retries.attempts.as_ref().unwrap().at.location.line, 32);
        assert_eq!(retries.per_try_timeout.as_ref().unwrap().value, Duration::from_secs(2));
        assert_eq!(
            retries.retry_on,
            vec!["gateway-error", "connect-failure", "refused-stream"]
        );
        assert!(route.timeout.is_none());
        let fault = route.fault.as_ref().unwrap();
        let delay = fault.delay.as_ref().unwrap();
        assert_eq!(delay.fixed_delay.as_ref().unwrap().value, Duration::from_secs(5));
        assert_eq!(delay.percentage, Some(0.1));
        let abort = fault.abort.as_ref().unwrap();
        assert_eq!((abort.http_status, abort.percentage), (Some(400), Some(10.0)));

        assert_eq!(m.destination_rules.len(), 1);
        let dr = m.rules_for("reviews").next().unwrap();
        assert_eq!(dr.host.value, "reviews.prod.svc.cluster.local");
        let tp = dr.traffic_policy.as_ref().unwrap();
        let od = tp.outlier_detection.as_ref().unwrap();
        assert_eq!(od.consecutive_5xx_errors.as_ref().unwrap().value, 7);
        assert_eq!(od.consecutive_5xx_errors.as_ref().unwrap().at.location.line, 60);
        assert_eq!(od.interval.as_ref().unwrap().value, Duration::from_secs(300));
        assert_eq!(od.base_ejection_time.as_ref().unwrap().value, Duration::from_secs(900));
        let cp = tp.connection_pool.as_ref().unwrap();
        assert_eq!(cp.max_connections.as_ref().map(|s| s.value), Some(100));
        assert_eq!(cp.http2_max_requests.as_ref().map(|s| s.value), Some(1000));
        assert_eq!(cp.max_requests_per_connection.as_ref().map(|s| s.value), Some(10));
        assert_eq!(cp.http1_max_pending_requests.as_ref().map(|s| s.value), Some(1));
        let sub = &dr.subsets[0];
        assert_eq!(sub.name, "testversion");
        assert_eq!(sub.labels.get("version").map(String::as_str), Some("v3"));
        let stp = sub.traffic_policy.as_ref().unwrap();
        let sod = stp.outlier_detection.as_ref().unwrap();
        assert_eq!(sod.consecutive_gateway_errors.as_ref().map(|s| s.value), Some(3));
        assert_eq!(sod.interval.as_ref().map(|s| s.value), Some(Duration::from_millis(250)));
        let pl = &stp.port_level[0];
        assert_eq!(pl.port, Some(80));
        let pcp = pl.connection_pool.as_ref().unwrap();
        assert_eq!(pcp.max_connections.as_ref().map(|s| s.value), Some(5));
        assert_eq!(
            pcp.connect_timeout.as_ref().map(|s| s.value),
            Some(Duration::from_millis(30))
        );
    }

    #[test]
    fn other_workload_kinds() {
        let text = r#"apiVersion: v1
kind: Pod
metadata: {name: debug, labels: {app: debug}}
spec:
  containers: [{name: sh, image: busybox, env: [{name: TARGET_URL, value: "http://api"}]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: postgres, image: "postgres:16", ports: [{containerPort: 5432}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    spec:
      containers: [{name: agent, image: otel/collector}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: report, image: report, env: [{name: DB_DSN, value: "postgres://u:p@db/x"}]}]
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: knative}
spec: {template: {spec: {containers: [{image: x}]}}}
"#;
        let svcs = services(&["api", "db"]);
        let m = model("kinds", &[("k.yaml", text), ("s.yaml", &svcs)]);
        assert_eq!(m.problems, vec![]);
        let kinds: Vec<_> = m.workloads.iter().map(|w| (w.kind.as_str(), w.name.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                ("Pod", "debug"),
                ("StatefulSet", "db"),
                ("DaemonSet", "agent"),
                ("CronJob", "report")
            ]
        );
        assert_eq!(m.services.len(), 2, "a Knative Service is not a Kubernetes Service");
        assert_eq!(m.workloads_behind(m.service("db").unwrap()).next().unwrap().name, "db");
        let calls: Vec<_> = m
            .calls
            .iter()
            .map(|c| (c.workload.as_str(), c.service.as_str()))
            .collect();
        assert_eq!(calls, vec![("debug", "api"), ("report", "db")]);
        assert_eq!(m.workload("db").unwrap().containers[0].ports[0].port, 5432);
    }

    #[test]
    fn odd_yaml_is_skipped_and_reported_with_lines() {
        let text = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: orders}
spec:
  template:
    metadata:
      labels: {app: orders, version: 2}
    spec:
      containers:
      - name: api
        image: orders
        ports:
        - containerPort: "8080"
        - containerPort: 70000
        env:
        - name: PORT
          value: 8080
        - value: nameless
        - name: PAYMENTS_ADDR
          value: payments:80
        - just a string
      - [not, a, container]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  template:
    spec:
      containers: {name: api}
---
apiVersion: v1
kind: Service
metadata: {name: payments}
spec:
  selector: [app, payments]
  ports: [{port: 0}, {port: 80, targetPort: [1]}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: payments}
spec:
  hosts: payments
  http:
  - route:
    - destination: {subset: v1}
    - destination: {host: payments}
      weight: "50"
    timeout: 1x
    retries:
      attempts: "3"
      perTryTimeout: 2
    fault:
      abort:
        percentage: {value: 150}
        httpStatus: 503
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: nohost}
spec:
  trafficPolicy: {}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: payments}
spec:
  host: payments
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: -1
      interval: 1.5
    connectionPool: [tcp]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: listspec}
spec: [1, 2]
---
apiVersion: v1
kind: Service
metadata: {labels: {app: x}}
"#;
        let m = model("odd", &[("odd.yaml", text)]);
        let ms = messages(&m);
        let has = |needle: &str, line: usize| {
            assert!(
                m.problems.iter().any(|(f, p)| f == "deploy/odd.yaml"
                    && p.message.contains(needle)
                    && p.location.map(|l| l.line) == Some(line)),
                "no problem with {needle:?} at line {line}: {ms:#?}"
            );
        };
        has("Deployment `orders`: `spec.template.metadata.labels.version` should be text (put it in quotes), but it is a number", 7);
        has("`spec.template.spec.containers[0].ports[0].containerPort` should be a whole number (without quotes), but it is a string", 13);
        has(
            "`spec.template.spec.containers[0].ports[1].containerPort` is 70000, over the largest allowed (65535)",
            14,
        );
        has(
            "`spec.template.spec.containers[0].env[0].value` should be text (put it in quotes), but it is a number",
            17,
        );
        has("`spec.template.spec.containers[0].env[1]` has no `name`", 18);
        has(
            "`spec.template.spec.containers[0].env[3]` should be a mapping, but it is a string",
            21,
        );
        has(
            "`spec.template.spec.containers[1]` should be a mapping, but it is a list",
            22,
        );
        has(
            "Deployment `broken`: `spec.template.spec.containers` should be a list, but it is a mapping",
            30,
        );
        has(
            "Service `payments`: `spec.selector` should be a mapping, but it is a list",
            36,
        );
        has("`spec.ports[0].port` is 0, not a port", 37);
        has(
            "`spec.ports[1].targetPort` should be a port number or a container port's name",
            37,
        );
        has(
            "VirtualService `payments`: `spec.hosts` should be a list, but it is a string",
            43,
        );
        has("`spec.http[0].route[0].destination` has no `host`", 46);
        has(
            "`spec.http[0].route[1].weight` should be a whole number (without quotes)",
            48,
        );
        has(
            "`spec.http[0].timeout` is not a duration: `1x` has an unknown unit `x`",
            49,
        );
        has(
            "`spec.http[0].retries.attempts` should be a whole number (without quotes)",
            51,
        );
        has(
            "`spec.http[0].retries.perTryTimeout` is not a duration: `2` has no unit; write e.g. `2s`",
            52,
        );
        has(
            "`spec.http[0].fault.abort.percentage.value` is 150; it should be a number from 0 to 100",
            55,
        );
        has("DestinationRule `nohost`: `spec.host` is missing", 62);
        has(
            "`spec.trafficPolicy.outlierDetection.consecutive5xxErrors` is -1; it should be a whole number, 0 or more",
            71,
        );
        has(
            "`spec.trafficPolicy.outlierDetection.interval` is not a duration: `1.5` has no unit",
            72,
        );
        has(
            "`spec.trafficPolicy.connectionPool` should be a mapping, but it is a list",
            73,
        );
        has(
            "VirtualService `listspec`: `spec` should be a mapping, but it is a list",
            78,
        );
        assert!(ms
            .iter()
            .all(|m| !m.contains("Value") && !m.contains("u32") && !m.contains("Option")));

        // What could be read still is.
        let orders = m.workload("orders").unwrap();
        assert_eq!(orders.labels.get("app").map(String::as_str), Some("orders"));
        assert!(!orders.labels.contains_key("version"));
        assert_eq!(orders.containers.len(), 1);
        assert!(orders.containers[0].ports.is_empty());
        let port = orders.containers[0].env.iter().find(|e| e.name == "PORT").unwrap();
        assert_eq!(port.value, None);
        assert_eq!(m.workload("broken").unwrap().containers, vec![]);
        let payments = m.service("payments").unwrap();
        assert!(payments.selector.is_empty());
        assert_eq!(payments.ports.len(), 1);
        assert_eq!(m.calls.len(), 1, "orders -> payments: {:?}", m.calls);
        let vs = m.virtual_services.iter().find(|v| v.name == "payments").unwrap();
        let route = &vs.http[0];
        assert_eq!(route.destinations.len(), 1);
        assert_eq!(route.destinations[0].service.as_deref(), Some("payments"));
        assert_eq!(route.destinations[0].weight, None);
        assert!(route.timeout.is_none());
        let retries = route.retries.as_ref().unwrap();
        assert!(retries.attempts.is_none() && retries.per_try_timeout.is_none());
        assert_eq!(
            route.fault.as_ref().unwrap().abort.as_ref().unwrap().http_status,
            Some(503)
        );
        assert_eq!(m.destination_rules.len(), 1);
        let tp = m.destination_rules[0].traffic_policy.as_ref().unwrap();
        assert!(tp.connection_pool.is_none());
        let od = tp.outlier_detection.as_ref().unwrap();
        assert!(od.consecutive_5xx_errors.is_none() && od.interval.is_none());
        assert_eq!(m.virtual_services.len(), 1, "the one whose spec is a list is not read");
    }

    #[test]
    fn templates_are_reported_not_read() {
        let helm = "# {{ in a comment }} is fine\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"{{ .Release.Name }}-orders\"\nspec:\n  template:\n    spec:\n      containers: [{name: api, image: orders}]\n";
        let plain = "# a comment with {{ braces }}\napiVersion: v1\nkind: Service\nmetadata: {name: orders}\nspec: {selector: {app: orders}}\n";
        let m = model("helm", &[("templates/orders.yaml", helm), ("svc.yaml", plain)]);
        assert_eq!(m.templates, vec!["deploy/templates/orders.yaml"]);
        assert!(m.workloads.is_empty());
        assert_eq!(m.services.len(), 1);
        let (file, p) = &m.problems[0];
        assert_eq!(file, "deploy/templates/orders.yaml");
        assert!(p.message.contains("is a template"), "{}", p.message);
        assert!(p.help.contains("helm template"));
        assert_eq!(p.location.map(|l| (l.line, l.column)), Some((5, 10)));
    }

    /// Online Boutique (`../shared/corpus/systems/microservices-demo`): its plain manifests and
    /// Istio manifests, as the files say (checked by reading them).
    #[test]
    fn online_boutique_manifests() {
        let Some(systems) = crate::testing::corpus("systems") else {
            return;
        };
        let root = systems.join("microservices-demo");
        if !root.is_dir() {
            println!("skipped: {} not found", root.display());
            return;
        }
        let root = root.canonicalize().unwrap();
        let kube = load(&root, "kubernetes-manifests");
        let istio = load(&root, "istio-manifests");
        assert!(kube.problems.is_empty() && istio.problems.is_empty());
        let m = KubeModel::read_all([&kube, &istio]);
        assert_eq!(m.problems, vec![]);

        let mut workloads: Vec<_> = m.workloads.iter().map(|w| w.name.as_str()).collect();
        workloads.sort();
        assert_eq!(
            workloads,
            vec![
                "adservice",
                "cartservice",
                "checkoutservice",
                "currencyservice",
                "emailservice",
                "frontend",
                "loadgenerator",
                "paymentservice",
                "productcatalogservice",
                "recommendationservice",
                "redis-cart",
                "shippingservice",
            ]
        );
        assert!(m.workloads.iter().all(|w| w.kind == "Deployment"));
        let mut services: Vec<_> = m.services.iter().map(|s| s.name.as_str()).collect();
        services.sort();
        assert_eq!(services.len(), 12);
        assert!(services.contains(&"frontend-external") && services.contains(&"redis-cart"));
        assert!(!services.contains(&"loadgenerator"));

        let frontend = m.workload("frontend").unwrap();
        let mut fronting: Vec<_> = m.services_of(frontend).map(|s| s.name.as_str()).collect();
        fronting.sort();
        assert_eq!(fronting, vec!["frontend", "frontend-external"]);
        assert_eq!(frontend.containers[0].image.as_deref(), Some("frontend"));
        assert_eq!(frontend.containers[0].ports[0].port, 8080);

        let callees = |w: &str| {
            let mut v: Vec<_> = m.calls_from(w).map(|c| c.service.as_str()).collect();
            v.sort();
            v.dedup();
            v
        };
        assert_eq!(
            callees("checkoutservice"),
            vec![
                "cartservice",
                "currencyservice",
                "emailservice",
                "paymentservice",
                "productcatalogservice",
                "shippingservice",
            ]
        );
        // SHOPPING_ASSISTANT_SERVICE_ADDR names a Service these manifests do not hold.
        assert_eq!(
            callees("frontend"),
            vec![
                "adservice",
                "cartservice",
                "checkoutservice",
                "currencyservice",
                "productcatalogservice",
                "recommendationservice",
                "shippingservice",
            ]
        );
        assert_eq!(callees("recommendationservice"), vec!["productcatalogservice"]);
        assert_eq!(callees("cartservice"), vec!["redis-cart"]);
        assert_eq!(callees("loadgenerator"), vec!["frontend"]);
        for leaf in [
            "adservice",
            "currencyservice",
            "emailservice",
            "paymentservice",
            "productcatalogservice",
            "shippingservice",
        ] {
            assert_eq!(callees(leaf), Vec::<&str>::new(), "{leaf}");
        }
        // The init container and the main container of the load generator both name it.
        assert_eq!(m.calls_from("loadgenerator").count(), 2);
        let c = m
            .calls
            .iter()
            .find(|c| c.workload == "checkoutservice" && c.service == "productcatalogservice")
            .unwrap();
        assert_eq!(
            (c.env.as_str(), c.value.as_str(), c.port),
            ("PRODUCT_CATALOG_SERVICE_ADDR", "productcatalogservice:3550", Some(3550))
        );
        assert_eq!(c.at.to_string(), "kubernetes-manifests/checkoutservice.yaml:58");
        assert_eq!(m.calls.len(), 6 + 7 + 1 + 1 + 2);

        // istio-manifests: two VirtualServices (the ingress one on the gateway), both routing
        // to the frontend Service, with no timeout, retries or fault; no DestinationRule.
        let mut vss: Vec<_> = m.virtual_services.iter().map(|v| v.name.as_str()).collect();
        vss.sort();
        assert_eq!(vss, vec!["frontend", "frontend-ingress"]);
        let ingress = m
            .virtual_services
            .iter()
            .find(|v| v.name == "frontend-ingress")
            .unwrap();
        assert_eq!(ingress.gateways, vec!["frontend-gateway"]);
        let vs = m.virtual_services.iter().find(|v| v.name == "frontend").unwrap();
        assert_eq!(vs.hosts[0].value, "frontend.default.svc.cluster.local");
        assert_eq!(
            m.resolve_host(&vs.hosts[0].value, None).map(|s| s.name.as_str()),
            Some("frontend")
        );
        assert_eq!(vs.http[0].destinations[0].port, Some(80));
        assert_eq!(m.routes_to("frontend").count(), 2);
        assert!(m
            .routes_to("frontend")
            .all(|(_, r)| r.timeout.is_none() && r.retries.is_none() && r.fault.is_none()));
        assert!(m.destination_rules.is_empty());

        // The Helm chart's templates are reported, not read (Chart.yaml and values.yaml are
        // plain YAML with no Kubernetes object).
        let helm = load(&root, "helm-chart");
        let h = KubeModel::read(&helm);
        assert_eq!(h.templates.len(), 13, "{:?}", h.templates);
        assert!(h.templates.iter().all(|t| t.starts_with("helm-chart/templates/")));
        assert!(h.workloads.is_empty() && h.services.is_empty() && h.virtual_services.is_empty());
    }
}
