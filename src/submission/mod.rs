//! A learner's submission: the manifest (or what was discovered by convention), with every
//! reference checked and every artifact path confined to the submission folder.

pub mod discover;
pub mod imports;
pub mod manifest;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use manifest::{Delivery, Guard, RelationKind, Role, SagaStyle, StepKind, StoreRole};
use manifest::{RawManifest, RawRun, S};

use crate::artifact::document::Limits;
use crate::diag::{from_toml_error, suggestion_suffix, SourceFile, UserError};
use crate::error::Error;
use crate::files::{paths, ArtifactRef};

/// The manifest's file name at the root of a submission.
pub const MANIFEST: &str = "submission.toml";

/// The checkpoints of the course, in order.
pub const CHECKPOINTS: [&str; 5] = ["phase1", "phase2", "phase3", "phase4", "capstone"];

/// A name as written in the manifest, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub span: Option<Range<usize>>,
}

impl Named {
    fn from(s: &S) -> Self {
        Named {
            name: s.get_ref().trim().to_string(),
            span: Some(s.span()),
        }
    }

    pub fn plain(name: impl Into<String>) -> Self {
        Named {
            name: name.into(),
            span: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Context {
    pub name: Named,
    pub description: Option<String>,
    pub relations: Vec<Relation>,
}

#[derive(Debug, Clone)]
pub struct Relation {
    pub with: Named,
    pub kind: RelationKind,
}

#[derive(Debug, Clone)]
pub struct Datastore {
    pub name: Named,
    pub kind: Option<Named>,
    pub role: StoreRole,
    pub ttl: Option<Named>,
    pub invalidation: Option<Named>,
    pub replicated: bool,
    pub conflict_resolution: Option<Named>,
}

/// A CQRS read model: a query-side store fed by events.
#[derive(Debug, Clone)]
pub struct ReadModel {
    pub name: Named,
    pub service: Named,
    pub datastore: Option<Named>,
    pub sources: Vec<Named>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: Named,
    pub context: Option<Named>,
    pub role: Role,
    pub owner: Option<Named>,
    pub openapi: Option<ArtifactRef>,
    pub previous_openapi: Option<ArtifactRef>,
    pub source: Option<ArtifactRef>,
    pub owns: Vec<Named>,
    pub calls: Vec<Named>,
    pub publishes: Vec<Named>,
    pub consumes: Vec<Named>,
    /// Operations (operationIds) used per called service.
    pub uses: BTreeMap<String, Vec<Named>>,
    pub event_delivery: Option<(Delivery, Range<usize>)>,
    /// Guards declared on the service's outbound calls, each with its span.
    pub resilience: Vec<(Guard, Range<usize>)>,
    pub run: Option<RunSpec>,
}

impl Service {
    /// A service known only by name (discovered or imported), with nothing else declared.
    pub fn named(name: &str, role: Role) -> Service {
        Service {
            name: Named::plain(name),
            context: None,
            role,
            owner: None,
            openapi: None,
            previous_openapi: None,
            source: None,
            owns: Vec::new(),
            calls: Vec::new(),
            publishes: Vec::new(),
            consumes: Vec::new(),
            uses: BTreeMap::new(),
            event_delivery: None,
            resilience: Vec::new(),
            run: None,
        }
    }
}

/// How to start a service for live probes.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub command: Vec<String>,
    pub cwd: Option<String>,
    pub env: BTreeMap<String, String>,
    pub port_env: Option<String>,
    /// `run.port`: the port the program always listens on. The grader then does not choose
    /// one; `{port}` and `port_env` carry this one.
    pub port: Option<u16>,
    /// `run.health` as an HTTP path; `None` for the gRPC form (see `grpc_health`).
    pub health: Option<String>,
    /// `run.health = "grpc"` (`Some("")`: the server as a whole) or `"grpc:<service>"`: the
    /// service is ready, and healthy, when `grpc.health.v1.Health/Check` for that service
    /// answers SERVING.
    pub grpc_health: Option<String>,
    pub ready: Option<String>,
    pub dependency_env: BTreeMap<String, String>,
    /// Path of the Pact provider-state endpoint: `POST {"state", "params", "action"}`.
    pub provider_states: Option<String>,
    /// A program run in `cwd` to set up a provider state, given
    /// `{"state", "params", "action"}` on stdin (instead of `provider_states`).
    pub provider_states_command: Vec<String>,
    /// Credentials every probe sends to the service (`[service.run.auth]`).
    pub auth: Option<ProbeAuth>,
}

/// Credentials the probes send to a service: one header, its value (after `prefix`) written
/// in the manifest or taken from the grader's environment when the service starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeAuth {
    pub header: String,
    /// `Bearer ` for `bearer`/`bearer_env`, else empty.
    pub prefix: String,
    pub source: AuthSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSource {
    /// Written in the manifest (a test token).
    Value(String),
    /// The name of an environment variable of the grader.
    Env(String),
}

impl ProbeAuth {
    /// The header value, or why there is none (an unset variable).
    pub fn resolve(&self) -> Result<String, String> {
        match &self.source {
            AuthSource::Value(v) => Ok(format!("{}{v}", self.prefix)),
            AuthSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(format!("{}{}", self.prefix, v.trim())),
                _ => Err(format!(
                    "`run.auth` takes its credentials from the variable `{var}`, which is not set where the grader \
                     runs: the probes send none"
                )),
            },
        }
    }
}

/// Whether `run.health` names the gRPC health service (`grpc`, `grpc:<service>`) rather than
/// a path.
fn is_grpc_health(text: &str) -> bool {
    text == "grpc" || text.starts_with("grpc:")
}

/// What stands for the service's port in the arguments of `run.command` (and of
/// `run.provider_states_command`) and in the values of `run.env`.
pub const PORT_PLACEHOLDER: &str = "{port}";

/// `text` with every `{port}` replaced by `port`.
pub fn with_port(text: &str, port: u16) -> String {
    text.replace(PORT_PLACEHOLDER, &port.to_string())
}

#[derive(Debug, Clone)]
pub struct Saga {
    pub name: Named,
    pub style: SagaStyle,
    pub steps: Vec<SagaStep>,
}

#[derive(Debug, Clone)]
pub struct SagaStep {
    pub service: Named,
    pub action: Named,
    pub compensation: Option<Named>,
    /// The declared `kind`, where it is written.
    pub kind: Option<(StepKind, Range<usize>)>,
}

/// A pact glob as written, and the files it matched.
#[derive(Debug, Clone)]
pub struct PactSource {
    pub pattern: Named,
    pub files: Vec<ArtifactRef>,
}

/// Where the description of the system came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Manifest,
    Convention,
}

/// A loaded, validated submission.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The canonical root folder.
    pub root: PathBuf,
    /// The root as the user wrote it (for messages).
    pub shown_root: String,
    pub origin: Origin,
    /// The manifest source, when there is one (findings point into it).
    pub manifest: Option<SourceFile>,
    pub checkpoint: Option<Named>,
    pub learner: Option<String>,
    pub title: Option<String>,
    pub contexts: Vec<Context>,
    pub datastores: Vec<Datastore>,
    pub services: Vec<Service>,
    pub asyncapi: Option<ArtifactRef>,
    pub sagas: Vec<Saga>,
    pub read_models: Vec<ReadModel>,
    pub pacts: Vec<PactSource>,
    pub slos: Option<ArtifactRef>,
    /// Deployment manifests (a file or a folder), e.g. Argo Rollouts or Flagger resources.
    pub deployment: Option<ArtifactRef>,
    /// What the grader assumed because the manifest did not say (shown in the report).
    pub assumptions: Vec<String>,
    /// The compose and catalog files merged in (from `[imports]` or by convention).
    pub imports: Vec<ArtifactRef>,
    /// Imported files that could not be used (reported by SUB003).
    pub import_problems: Vec<imports::ImportProblem>,
    /// `[imports] compose_roles`: what a compose container is, by container name.
    pub compose_roles: BTreeMap<String, crate::artifact::compose::ComposeKind>,
    /// Compose containers that are not services or datastores of the design (brokers,
    /// observability backends, tools), as imported.
    pub infrastructure: Vec<Infrastructure>,
    /// Scenarios for the live probes (`[[scenario]]`).
    pub scenarios: Vec<Scenario>,
    /// The limits its files are read under (`--max-file-size` and the like; defaults otherwise).
    pub limits: Limits,
}

/// A container of the system that is neither a service nor a datastore of the design.
#[derive(Debug, Clone)]
pub struct Infrastructure {
    pub name: String,
    pub kind: crate::artifact::compose::ComposeKind,
    /// `file:line` it was imported from.
    pub at: String,
}

/// HTTP steps run against the live system in order (see PRB009).
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: Named,
    pub steps: Vec<ScenarioStep>,
}

#[derive(Debug, Clone)]
pub struct ScenarioStep {
    pub service: Named,
    /// Upper case.
    pub method: String,
    /// May hold `{variable}` placeholders (captured by earlier steps).
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<StepBody>,
    /// Expected status; `None`: any 2xx.
    pub status: Option<u16>,
    /// Variable -> JSON pointer into the body.
    pub capture: Vec<(String, String)>,
    /// JSON pointer -> expected value.
    pub expect: Vec<(String, serde_json::Value)>,
    /// Retry until the step holds, for at most this long.
    pub within: Option<std::time::Duration>,
}

#[derive(Debug, Clone)]
pub enum StepBody {
    Json(serde_json::Value),
    Text(String),
}

/// Parses a scenario step's `within`: a decimal number and `ms`, `s` or `m` (`"2s"`, `"500ms"`,
/// `"1.5s"`, `"1m"`). Not OpenSLO's shorthand (whole numbers, `h` to `Y`, no `ms`:
/// `crate::artifact::openslo::parse_openslo_duration`).
pub fn parse_decimal_duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len()));
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| std::time::Duration::from_secs_f64(secs))
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

impl Submission {
    /// Loads the submission at `dir` under the default limits (see [`Submission::load_with`]).
    pub fn load(dir: &Path) -> Result<Submission, Error> {
        Submission::load_with(dir, Limits::default())
    }

    /// Loads the submission at `dir`: its manifest when present, else what the conventions find.
    /// Its files (the imported compose and catalog files now, the artifacts later with
    /// [`Submission::load_artifacts`]) are read under `limits`.
    pub fn load_with(dir: &Path, limits: Limits) -> Result<Submission, Error> {
        let shown_root = dir.display().to_string();
        let meta = std::fs::metadata(dir).map_err(|e| {
            Error::input(
                UserError::new(format!("cannot read submission folder `{shown_root}`: {e}")).with_help(
                    "pass the folder that holds submission.toml (or create one with `grade init phase1 DIR`)",
                ),
            )
        })?;
        if !meta.is_dir() {
            return Err(Error::input(
                UserError::new(format!("`{shown_root}` is not a folder"))
                    .with_help("pass the submission folder, not a file inside it"),
            ));
        }
        let root = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        let manifest_path = root.join(MANIFEST);
        let mut sub = if manifest_path.is_file() {
            let text = read_text(&manifest_path, &format!("{shown_root}/{MANIFEST}"))?;
            let file = SourceFile::new(display_join(&shown_root, MANIFEST), text);
            from_manifest(root, shown_root, file)?
        } else {
            discover::by_convention(root, shown_root)?
        };
        sub.limits = limits;
        for r in sub.imports.clone() {
            if r.role == "imports backstage" {
                imports::apply_backstage(&mut sub, &r);
            } else if r.role == "imports kubernetes" {
                imports::apply_kubernetes(&mut sub, &r);
            } else {
                imports::apply_compose(&mut sub, &r);
            }
        }
        if sub.origin == Origin::Convention {
            discover::attach_sources(&mut sub);
            // Said after the imports, so that it never denies what they just brought in.
            let mut unknown = vec!["bounded contexts"];
            if sub.datastores.is_empty() {
                unknown.push("datastores");
            }
            if sub.services.iter().all(|s| s.calls.is_empty()) {
                unknown.push("calls");
            }
            let list = match unknown.as_slice() {
                [one] => one.to_string(),
                [init @ .., last] => format!("{} or {last}", init.join(", ")),
                [] => String::new(),
            };
            sub.assumptions.push(format!("no {list} are known without a manifest"));
        }
        Ok(sub)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name.name == name)
    }

    /// Every artifact named by the submission, in manifest order.
    pub fn artifacts(&self) -> Vec<&ArtifactRef> {
        let mut out = Vec::new();
        for s in &self.services {
            out.extend(s.openapi.iter());
            out.extend(s.previous_openapi.iter());
        }
        out.extend(self.asyncapi.iter());
        for p in &self.pacts {
            out.extend(p.files.iter());
        }
        out.extend(self.slos.iter());
        out.extend(self.deployment.iter());
        out.extend(self.imports.iter());
        out
    }
}

fn display_join(root: &str, name: &str) -> String {
    if root.ends_with('/') {
        format!("{root}{name}")
    } else {
        format!("{root}/{name}")
    }
}

impl Submission {
    /// Every artifact of the submission, loaded once for the checks: the services' current and
    /// previous OpenAPI documents, the event catalog and the service level objectives.
    pub fn load_artifacts(&self) -> crate::artifact::Artifacts {
        let openapi = self
            .services
            .iter()
            .flat_map(|s| s.openapi.iter().chain(s.previous_openapi.iter()));
        crate::artifact::Artifacts::load(
            &self.root,
            openapi,
            self.asyncapi.as_ref(),
            self.slos.as_ref(),
            &self.limits,
        )
    }
}

/// Reads a user file as UTF-8 text with a size cap, with an error naming the file.
pub fn read_text(path: &Path, shown: &str) -> Result<String, Error> {
    const MAX: u64 = 16 * 1024 * 1024;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() > MAX {
        return Err(Error::input(
            UserError::new(format!("`{shown}` is {} bytes, over the {MAX}-byte limit", meta.len()))
                .with_help("a manifest or rubric is a small TOML file; check that the right file is named"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        Error::input(
            UserError::new(format!(
                "`{shown}` is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
            .with_help("save the file as UTF-8"),
        )
    })
}

fn from_manifest(root: PathBuf, shown_root: String, file: SourceFile) -> Result<Submission, Error> {
    let raw: RawManifest =
        toml::from_str(&file.text).map_err(|e| Error::input(from_toml_error(&file, &e, "submission manifest")))?;
    let mut v = Validator {
        file: &file,
        root: &root,
        errors: Vec::new(),
    };
    let sub = v.build(raw, &root, &shown_root);
    if v.errors.is_empty() {
        Ok(sub)
    } else {
        let n = v.errors.len();
        Err(Error::input(UserError::group(
            format!("{} has {n} problems", file.name),
            v.errors,
        )))
    }
}

/// The names the manifest declares, to check references against.
struct Declared {
    contexts: BTreeSet<String>,
    datastores: BTreeSet<String>,
    services: BTreeSet<String>,
}

/// The datastores as declared (they reference nothing).
fn datastores(raw: &RawManifest) -> Vec<Datastore> {
    raw.datastore
        .iter()
        .map(|d| Datastore {
            name: Named::from(&d.name),
            kind: d.kind.as_ref().map(Named::from),
            role: d.role.as_ref().map(|r| *r.get_ref()).unwrap_or_default(),
            ttl: d.ttl.as_ref().map(Named::from),
            invalidation: d.invalidation.as_ref().map(Named::from),
            replicated: d.replicated,
            conflict_resolution: d.conflict_resolution.as_ref().map(Named::from),
        })
        .collect()
}

struct Validator<'a> {
    file: &'a SourceFile,
    root: &'a Path,
    errors: Vec<UserError>,
}

impl Validator<'_> {
    fn err(&mut self, span: Range<usize>, message: String, label: &str, help: String) {
        self.errors
            .push(UserError::new(message).at(self.file, span, label).with_help(help));
    }

    fn artifact(&mut self, s: &S, role: String) -> Option<ArtifactRef> {
        match paths::confine(self.root, s.get_ref()) {
            Ok((path, rel)) => Some(ArtifactRef {
                rel,
                path,
                span: Some(s.span()),
                role,
            }),
            Err(problem) => {
                let (msg, help) = problem.describe(s.get_ref());
                self.err(s.span(), format!("{role}: {msg}"), "path not allowed", help);
                None
            }
        }
    }

    /// Reports duplicate names; returns the set of names.
    fn unique<'n>(&mut self, kind: &str, names: impl Iterator<Item = &'n S>) -> BTreeSet<String> {
        let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
        for n in names {
            let name = n.get_ref().trim().to_string();
            if name.is_empty() {
                self.err(
                    n.span(),
                    format!("empty {kind} name"),
                    "empty",
                    format!("give the {kind} a name"),
                );
                continue;
            }
            match seen.entry(name) {
                std::collections::btree_map::Entry::Occupied(e) => {
                    let name = e.key().clone();
                    self.err(
                        n.span(),
                        format!("{kind} `{name}` is declared twice"),
                        "declared again here",
                        format!("merge the two `{kind}` entries or rename one"),
                    );
                }
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(n.span());
                }
            }
        }
        seen.into_keys().collect()
    }

    fn reference(&mut self, s: &S, kind: &str, known: &BTreeSet<String>, field: &str) {
        let name = s.get_ref().trim();
        if known.contains(name) {
            return;
        }
        let suffix = suggestion_suffix(name, known.iter().map(String::as_str));
        let help = if suffix.is_empty() {
            if known.is_empty() {
                format!("declare it with a `[[{kind}]]` table whose name is `{name}`")
            } else {
                format!(
                    "declare `[[{kind}]] name = \"{name}\"`, or use one of the declared {kind}s: {}",
                    crate::diag::quote_list(&known.iter().collect::<Vec<_>>())
                )
            }
        } else {
            format!(
                "did you mean `{}`?",
                crate::diag::did_you_mean(name, known.iter().map(String::as_str)).unwrap_or("")
            )
        };
        self.err(
            s.span(),
            format!("`{field}` names {kind} `{name}`, which is not declared{suffix}"),
            "unknown name",
            help,
        );
    }

    fn build(&mut self, raw: RawManifest, root: &Path, shown_root: &str) -> Submission {
        let declared = Declared {
            contexts: self.unique("context", raw.context.iter().map(|c| &c.name)),
            datastores: self.unique("datastore", raw.datastore.iter().map(|d| &d.name)),
            services: self.unique("service", raw.service.iter().map(|s| &s.name)),
        };

        let checkpoint = self.checkpoint(&raw);
        let ctxs = self.contexts(&raw, &declared);
        let stores = datastores(&raw);
        let svcs = raw.service.iter().map(|s| self.service(s, &declared)).collect();
        self.fixed_ports_unique(&raw);
        let sagas = self.sagas(&raw, &declared);
        let read_models = self.read_models(&raw, &declared);

        let asyncapi = raw
            .events
            .as_ref()
            .and_then(|e| e.asyncapi.as_ref())
            .and_then(|p| self.artifact(p, "events asyncapi".to_string()));
        let slos = raw
            .operations
            .as_ref()
            .and_then(|o| o.slos.as_ref())
            .and_then(|p| self.artifact(p, "operations slos".to_string()));
        let deployment = raw
            .operations
            .as_ref()
            .and_then(|o| o.deployment.as_ref())
            .and_then(|p| self.artifact(p, "operations deployment".to_string()));
        let imports = self.imports(&raw);
        let compose_roles = self.compose_roles(&raw);
        let mut pacts = Vec::new();
        if let Some(c) = &raw.contracts {
            for pattern in &c.pacts {
                pacts.push(self.pact_glob(pattern));
            }
        }

        let scenarios = raw
            .scenario
            .iter()
            .map(|sc| self.scenario(sc, &declared.services))
            .collect();

        Submission {
            scenarios,
            root: root.to_path_buf(),
            shown_root: shown_root.to_string(),
            origin: Origin::Manifest,
            manifest: Some(self.file.clone()),
            checkpoint,
            learner: raw.submission.learner.as_ref().map(|l| l.get_ref().clone()),
            title: raw.submission.title.clone(),
            contexts: ctxs,
            datastores: stores,
            services: svcs,
            asyncapi,
            sagas,
            read_models,
            pacts,
            slos,
            deployment,
            assumptions: Vec::new(),
            imports,
            import_problems: Vec::new(),
            compose_roles,
            infrastructure: Vec::new(),
            limits: Limits::default(),
        }
    }

    /// The declared checkpoint, reported when it is not one of the course's.
    fn checkpoint(&mut self, raw: &RawManifest) -> Option<Named> {
        raw.submission.checkpoint.as_ref().map(|c| {
            if !CHECKPOINTS.contains(&c.get_ref().as_str()) {
                let suffix = suggestion_suffix(c.get_ref(), CHECKPOINTS);
                self.err(
                    c.span(),
                    format!("unknown checkpoint `{}`{suffix}", c.get_ref()),
                    "unknown checkpoint",
                    format!("use one of {}", crate::diag::quote_list(&CHECKPOINTS)),
                );
            }
            Named::from(c)
        })
    }

    /// The bounded contexts, their relations checked against the declared contexts.
    fn contexts(&mut self, raw: &RawManifest, declared: &Declared) -> Vec<Context> {
        let mut ctxs = Vec::new();
        for c in &raw.context {
            let mut relations = Vec::new();
            for r in &c.relations {
                self.reference(&r.with, "context", &declared.contexts, "relations.with");
                relations.push(Relation {
                    with: Named::from(&r.with),
                    kind: *r.kind.get_ref(),
                });
            }
            ctxs.push(Context {
                name: Named::from(&c.name),
                description: c.description.clone(),
                relations,
            });
        }
        ctxs
    }

    /// One service: its references checked (context, owned datastores, calls, `uses` within
    /// `calls`) and its artifact paths confined.
    fn service(&mut self, s: &manifest::RawService, declared: &Declared) -> Service {
        let name = s.name.get_ref().trim().to_string();
        if let Some(c) = &s.context {
            self.reference(c, "context", &declared.contexts, "context");
        }
        for d in &s.owns {
            self.reference(d, "datastore", &declared.datastores, "owns");
        }
        for c in &s.calls {
            self.reference(c, "service", &declared.services, "calls");
        }
        let called: BTreeSet<&str> = s.calls.iter().map(|c| c.get_ref().trim()).collect();
        for (callee, ops) in &s.uses {
            if !called.contains(callee.as_str()) {
                let at = ops.first().map(|o| o.span()).unwrap_or_else(|| s.name.span());
                self.err(
                    at,
                    format!("`uses` names `{callee}`, which service `{name}` does not call"),
                    "not in `calls`",
                    format!("add `{callee}` to `calls`, or remove it from `uses`"),
                );
            }
        }
        let openapi = s
            .openapi
            .as_ref()
            .and_then(|p| self.artifact(p, format!("service `{name}` openapi")));
        let previous_openapi = s
            .previous_openapi
            .as_ref()
            .and_then(|p| self.artifact(p, format!("service `{name}` previous_openapi")));
        let source = s
            .source
            .as_ref()
            .and_then(|p| self.artifact(p, format!("service `{name}` source")));
        let run = s.run.as_ref().map(|r| self.run_spec(r, s));
        Service {
            name: Named::from(&s.name),
            context: s.context.as_ref().map(Named::from),
            role: s.role.as_ref().map(|r| *r.get_ref()).unwrap_or_default(),
            owner: s.owner.as_ref().map(Named::from),
            openapi,
            previous_openapi,
            source,
            owns: s.owns.iter().map(Named::from).collect(),
            calls: s.calls.iter().map(Named::from).collect(),
            publishes: s.publishes.iter().map(Named::from).collect(),
            consumes: s.consumes.iter().map(Named::from).collect(),
            uses: s
                .uses
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().map(Named::from).collect()))
                .collect(),
            event_delivery: s.event_delivery.as_ref().map(|d| (*d.get_ref(), d.span())),
            resilience: s.resilience.iter().map(|g| (*g.get_ref(), g.span())).collect(),
            run,
        }
    }

    /// The sagas, their steps' services checked.
    fn sagas(&mut self, raw: &RawManifest, declared: &Declared) -> Vec<Saga> {
        let mut sagas = Vec::new();
        for g in &raw.saga {
            for st in &g.steps {
                self.reference(&st.service, "service", &declared.services, "steps.service");
            }
            sagas.push(Saga {
                name: Named::from(&g.name),
                style: *g.style.get_ref(),
                steps: g
                    .steps
                    .iter()
                    .map(|st| SagaStep {
                        service: Named::from(&st.service),
                        action: Named::from(&st.action),
                        compensation: st.compensation.as_ref().map(Named::from),
                        kind: st.kind.as_ref().map(|k| (*k.get_ref(), k.span())),
                    })
                    .collect(),
            });
        }
        sagas
    }

    /// The read models, their service and datastore checked.
    fn read_models(&mut self, raw: &RawManifest, declared: &Declared) -> Vec<ReadModel> {
        let mut read_models = Vec::new();
        for m in &raw.read_model {
            self.reference(&m.service, "service", &declared.services, "read_model.service");
            if let Some(d) = &m.datastore {
                self.reference(d, "datastore", &declared.datastores, "read_model.datastore");
            }
            read_models.push(ReadModel {
                name: Named::from(&m.name),
                service: Named::from(&m.service),
                datastore: m.datastore.as_ref().map(Named::from),
                sources: m.sources.iter().map(Named::from).collect(),
            });
        }
        read_models
    }

    /// The imported files (a compose file, Backstage catalogues), paths confined.
    fn imports(&mut self, raw: &RawManifest) -> Vec<ArtifactRef> {
        let mut imports = Vec::new();
        if let Some(i) = &raw.imports {
            imports.extend(
                i.compose
                    .as_ref()
                    .and_then(|p| self.artifact(p, "imports compose".to_string())),
            );
            for b in &i.backstage {
                imports.extend(self.artifact(b, "imports backstage".to_string()));
            }
            imports.extend(
                i.kubernetes
                    .as_ref()
                    .and_then(|p| self.artifact(p, "imports kubernetes".to_string())),
            );
        }
        imports
    }

    /// `imports.compose_roles`: container -> role, each role checked.
    fn compose_roles(&mut self, raw: &RawManifest) -> BTreeMap<String, crate::artifact::compose::ComposeKind> {
        let mut compose_roles = BTreeMap::new();
        for (container, role) in raw.imports.iter().flat_map(|i| i.compose_roles.iter()) {
            match crate::artifact::compose::ComposeKind::from_role(role.get_ref()) {
                Some(kind) => {
                    compose_roles.insert(container.clone(), kind);
                }
                None => self.err(
                    role.span(),
                    format!(
                        "`compose_roles.{container}` is `{}`, which is not a role",
                        role.get_ref()
                    ),
                    "unknown role",
                    format!(
                        "use one of {} (a datastore may name its kind: `datastore:postgres`)",
                        crate::diag::quote_list(&crate::artifact::compose::ROLES)
                    ),
                ),
            }
        }
        compose_roles
    }

    /// Two services cannot listen on one fixed port (`run.port`): they could never run together.
    fn fixed_ports_unique(&mut self, raw: &RawManifest) {
        let mut first: BTreeMap<i64, &str> = BTreeMap::new();
        for s in &raw.service {
            let Some(port) = s.run.as_ref().and_then(|r| r.port.as_ref()) else {
                continue;
            };
            match first.entry(*port.get_ref()) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(s.name.get_ref());
                }
                std::collections::btree_map::Entry::Occupied(o) => self.err(
                    port.span(),
                    format!(
                        "`run.port = {}` of service `{}` is also the port of service `{}`",
                        port.get_ref(),
                        s.name.get_ref(),
                        o.get()
                    ),
                    "port already used",
                    "two programs cannot listen on one port: give one of them another port, or leave `port` out \
                     so the grader chooses a free one (passed in `port_env` and `{port}`)"
                        .into(),
                ),
            }
        }
    }

    /// The program and arguments of a run command that are relative paths (they contain `/`
    /// and start with `.`) must stay inside the submission, resolved from the working
    /// directory `base`: a copy of the submission, or a sandbox that sees only it, must still
    /// start its services.
    fn run_paths(&mut self, command: &[S], base: &str, cwd: Option<&S>) {
        for arg in command {
            let written = arg.get_ref();
            if !(written.starts_with('.') && written.contains('/')) {
                continue;
            }
            let joined = if base.is_empty() {
                written.clone()
            } else {
                format!("{base}/{written}")
            };
            let problem = match paths::confine(self.root, &joined) {
                Ok(_) | Err(paths::PathProblem::Empty) => continue,
                Err(p) => p,
            };
            let (mut msg, help) = problem.describe(written);
            if let Some(cwd) = cwd {
                msg = format!("{msg} (resolved from run.cwd `{}`)", cwd.get_ref());
            }
            let help = match problem {
                paths::PathProblem::Escapes => "a service must start from files inside the submission folder, so that \
                     a copy of the folder (or a sandbox that sees only it) still runs it: move the file in (for a \
                     program installed elsewhere, a small launcher script in `bin/` that finds it) and give its path \
                     relative to `run.cwd` (default: the submission folder)"
                    .to_string(),
                _ => help,
            };
            self.err(arg.span(), format!("run.command: {msg}"), "path not allowed", help);
        }
    }

    fn run_spec(&mut self, r: &RawRun, s: &manifest::RawService) -> RunSpec {
        if r.command.is_empty() {
            self.err(
                s.name.span(),
                format!(
                    "service `{}` has a `run` table with an empty `command`",
                    s.name.get_ref()
                ),
                "this service",
                "give the program and its arguments, e.g. `command = [\"python3\", \"app.py\"]`".into(),
            );
        }
        // The working directory relative to the root ("" for the root), when it is allowed.
        let base = match &r.cwd {
            None => Some(String::new()),
            Some(cwd) => match paths::confine(self.root, cwd.get_ref()) {
                Ok((_, rel)) => Some(rel),
                Err(p) => {
                    let (msg, help) = p.describe(cwd.get_ref());
                    self.err(cwd.span(), format!("run.cwd: {msg}"), "path not allowed", help);
                    None
                }
            },
        };
        if let Some(base) = base {
            self.run_paths(&r.command, &base, r.cwd.as_ref());
            if let Some(c) = &r.provider_states_command {
                self.run_paths(c.get_ref(), &base, r.cwd.as_ref());
            }
        }
        if let Some(c) = &r.provider_states_command {
            if c.get_ref().is_empty() {
                self.err(
                    c.span(),
                    "`run.provider_states_command` is empty".into(),
                    "no program",
                    "give the program that sets up a provider state and its arguments, e.g. \
                     `provider_states_command = [\"node\", \"states.js\"]`"
                        .into(),
                );
            } else if let Some(p) = &r.provider_states {
                self.err(
                    p.span(),
                    "`run.provider_states` and `run.provider_states_command` are both given".into(),
                    "one of the two",
                    "keep the endpoint (`provider_states`, a path the grader POSTs each state to) or the command \
                     (`provider_states_command`, run with the state on stdin), not both"
                        .into(),
                );
            }
        }
        let calls: BTreeSet<&str> = s.calls.iter().map(|c| c.get_ref().as_str()).collect();
        for (dep, var) in &r.dependency_env {
            if !calls.contains(dep.as_str()) {
                self.err(
                    var.span(),
                    format!(
                        "run.dependency_env names `{dep}`, which service `{}` does not call",
                        s.name.get_ref()
                    ),
                    "not in `calls`",
                    format!("add `{dep}` to `calls`, or remove this entry"),
                );
            }
        }
        // `health = "grpc"` or `"grpc:<service>"`: the gRPC health service, not a path.
        let grpc_health = r.health.as_ref().and_then(|h| self.grpc_health(h));
        let health = r.health.as_ref().filter(|h| !is_grpc_health(h.get_ref()));
        for (key, path) in [
            ("health", &health),
            ("ready", &r.ready.as_ref()),
            ("provider_states", &r.provider_states.as_ref()),
        ] {
            if let Some(p) = path {
                let text = p.get_ref();
                if !text.starts_with('/') {
                    let grpc = match key {
                        "health" => {
                            " (a gRPC server declares `health = \"grpc\"`: the grader then calls the gRPC health service)"
                        }
                        "ready" => {
                            " (`ready` is always an HTTP path: a gRPC server declares `health = \"grpc\"` and leaves \
                             `ready` out)"
                        }
                        _ => "",
                    };
                    self.err(
                        p.span(),
                        format!("run.{key} `{text}` is not a path"),
                        "not a path",
                        format!("write the path on the service, starting with `/`, e.g. `/{text}`{grpc}"),
                    );
                }
            }
        }
        let port = r.port.as_ref().and_then(|p| {
            let n = *p.get_ref();
            match u16::try_from(n) {
                Ok(port) if port != 0 => Some(port),
                _ => {
                    self.err(
                        p.span(),
                        format!("`run.port = {n}` is out of range"),
                        "must be 1 to 65535",
                        "give the port the program always listens on, e.g. `port = 8080`, or leave `port` out so \
                         the grader chooses a free one (passed in `port_env` and `{port}`)"
                            .into(),
                    );
                    None
                }
            }
        });
        let auth = r.auth.as_ref().and_then(|a| self.auth(a));
        RunSpec {
            auth,
            command: r.command.iter().map(|c| c.get_ref().clone()).collect(),
            cwd: r.cwd.as_ref().map(|c| c.get_ref().clone()),
            env: r.env.clone(),
            port_env: r.port_env.as_ref().map(|c| c.get_ref().clone()),
            port,
            health: health.map(|c| c.get_ref().clone()),
            grpc_health,
            ready: r.ready.as_ref().map(|c| c.get_ref().clone()),
            dependency_env: r
                .dependency_env
                .iter()
                .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                .collect(),
            provider_states: r.provider_states.as_ref().map(|c| c.get_ref().clone()),
            provider_states_command: r
                .provider_states_command
                .as_ref()
                .map(|c| c.get_ref().iter().map(|a| a.get_ref().clone()).collect())
                .unwrap_or_default(),
        }
    }

    /// The service name of `run.health = "grpc"` (empty: the server as a whole) or
    /// `"grpc:<service>"` (a fully qualified gRPC service name such as `shop.Stock`); `None`
    /// for a path, or for a `grpc:` form with an error (reported here).
    fn grpc_health(&mut self, h: &manifest::S) -> Option<String> {
        let text = h.get_ref();
        if !is_grpc_health(text) {
            return None;
        }
        let Some(name) = text.strip_prefix("grpc:") else {
            return Some(String::new());
        };
        let part_ok = |p: &str| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if name.split('.').all(part_ok) {
            return Some(name.to_string());
        }
        self.err(
            h.span(),
            if name.is_empty() {
                format!("run.health `{text}` names no gRPC service")
            } else {
                format!("run.health `{text}`: `{name}` is not a gRPC service name")
            },
            "not a gRPC service name",
            "write `grpc` for the server as a whole, or `grpc:` and the service's full name as its .proto \
             file declares it (package, dot, service), e.g. `grpc:shop.Stock`"
                .into(),
        );
        None
    }

    /// `[service.run.auth]`: exactly one source of the value.
    fn auth(&mut self, a: &toml::Spanned<manifest::RawAuth>) -> Option<ProbeAuth> {
        let raw = a.get_ref();
        let given: Vec<(&str, &manifest::S)> = [
            ("value", &raw.value),
            ("value_env", &raw.value_env),
            ("bearer", &raw.bearer),
            ("bearer_env", &raw.bearer_env),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        let [(key, value)] = given.as_slice() else {
            let keys: Vec<&str> = given.iter().map(|(k, _)| *k).collect();
            self.err(
                a.span(),
                if keys.is_empty() {
                    "`run.auth` gives no credentials".to_string()
                } else {
                    format!(
                        "`run.auth` gives its credentials {} ways ({})",
                        keys.len(),
                        keys.join(", ")
                    )
                },
                "one of value, value_env, bearer, bearer_env",
                "give exactly one: `bearer = \"test-token\"`, `bearer_env = \"ORDERS_TOKEN\"`, or a `header` with \
                 `value` or `value_env`"
                    .into(),
            );
            return None;
        };
        let text = value.get_ref().clone();
        let bearer = key.starts_with("bearer");
        let header = raw
            .header
            .as_ref()
            .map(|h| h.get_ref().clone())
            .unwrap_or_else(|| "Authorization".into());
        let bad_header = header.is_empty() || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if bad_header {
            let span = raw.header.as_ref().map_or(a.span(), |h| h.span());
            self.err(
                span,
                format!("`run.auth.header = \"{header}\"` is not a header name"),
                "not a header name",
                "write the name of the header the service reads, e.g. `X-Api-Key`".into(),
            );
            return None;
        }
        Some(ProbeAuth {
            header,
            prefix: if bearer { "Bearer ".into() } else { String::new() },
            source: if key.ends_with("_env") {
                AuthSource::Env(text)
            } else {
                AuthSource::Value(text)
            },
        })
    }

    fn scenario(&mut self, sc: &manifest::RawScenario, services: &BTreeSet<String>) -> Scenario {
        if sc.step.is_empty() {
            self.err(
                sc.name.span(),
                format!("scenario `{}` has no steps", sc.name.get_ref()),
                "no steps",
                "add `[[scenario.step]]` tables with `service`, `path` and what to expect".into(),
            );
        }
        let mut captured: BTreeSet<String> = BTreeSet::new();
        let mut steps = Vec::new();
        for st in &sc.step {
            self.reference(&st.service, "service", services, "scenario.step.service");
            let method = st
                .method
                .as_ref()
                .map(|m| m.get_ref().trim().to_ascii_uppercase())
                .unwrap_or_else(|| "GET".into());
            if !method.chars().all(|c| c.is_ascii_uppercase()) || method.is_empty() {
                if let Some(m) = &st.method {
                    self.err(
                        m.span(),
                        format!("`{}` is not an HTTP method", m.get_ref()),
                        "not a method",
                        "use GET, POST, PUT, PATCH or DELETE".into(),
                    );
                }
            }
            let path = st.path.get_ref().clone();
            if !path.starts_with('/') {
                self.err(
                    st.path.span(),
                    format!("step path `{path}` does not start with `/`"),
                    "not a path",
                    "write the path on the service, e.g. `/v1/orders`".into(),
                );
            }
            let mut rest = path.as_str();
            while let Some(open) = rest.find('{') {
                let after = &rest[open + 1..];
                let Some(close) = after.find('}') else { break };
                let var = &after[..close];
                if !captured.contains(var) {
                    self.err(
                        st.path.span(),
                        format!("`{{{var}}}` in the path is not captured by an earlier step"),
                        "unknown variable",
                        format!("capture it first, e.g. `capture = {{ {var} = \"/id\" }}` on an earlier step"),
                    );
                }
                rest = &after[close + 1..];
            }
            for (var, ptr) in &st.capture {
                if !(ptr.get_ref().is_empty() || ptr.get_ref().starts_with('/')) {
                    self.err(
                        ptr.span(),
                        format!("capture `{var}`: `{}` is not a JSON pointer", ptr.get_ref()),
                        "not a JSON pointer",
                        "write a JSON pointer into the answer's body, e.g. `/orderId` or `/items/0/id`".into(),
                    );
                }
            }
            let within = st
                .within
                .as_ref()
                .and_then(|w| match parse_decimal_duration(w.get_ref()) {
                    Some(d) if d <= std::time::Duration::from_secs(60) => Some(d),
                    _ => {
                        self.err(
                            w.span(),
                            format!("`within = \"{}\"` is not a duration up to 60 s", w.get_ref()),
                            "not a duration",
                            "write e.g. `\"2s\"` or `\"500ms\"`".into(),
                        );
                        None
                    }
                });
            let body = st.body.as_ref().map(|b| match b.get_ref() {
                toml::Value::String(s) => StepBody::Text(s.clone()),
                other => StepBody::Json(toml_to_json(other)),
            });
            steps.push(ScenarioStep {
                service: Named::from(&st.service),
                method,
                path,
                headers: st.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                body,
                status: st.status.as_ref().map(|s| *s.get_ref()),
                capture: st
                    .capture
                    .iter()
                    .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                    .collect(),
                expect: st.expect.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect(),
                within,
            });
            captured.extend(st.capture.keys().cloned());
        }
        Scenario {
            name: Named::from(&sc.name),
            steps,
        }
    }

    /// Expands `dir/*.json`-style patterns (wildcards in the last component only).
    fn pact_glob(&mut self, pattern: &S) -> PactSource {
        let written = pattern.get_ref();
        let named = Named::from(pattern);
        let (dir, file_pat) = match written.rsplit_once('/') {
            Some((d, f)) => (d, f),
            None => (".", written.as_str()),
        };
        if dir.contains(['*', '?']) {
            self.err(
                pattern.span(),
                format!("pact pattern `{written}` has a wildcard in a folder name"),
                "wildcard in folder",
                "wildcards are allowed in the file name only, e.g. `contracts/*.json`".into(),
            );
            return PactSource {
                pattern: named,
                files: Vec::new(),
            };
        }
        if !file_pat.contains(['*', '?']) {
            let files = self.artifact(pattern, "contracts pact".into()).into_iter().collect();
            return PactSource { pattern: named, files };
        }
        let dir_abs = match paths::confine(self.root, if dir.is_empty() { "." } else { dir }) {
            Ok((abs, _)) => abs,
            Err(paths::PathProblem::Empty) => self.root.to_path_buf(),
            Err(p) => {
                let (msg, help) = p.describe(dir);
                self.err(
                    pattern.span(),
                    format!("contracts pacts: {msg}"),
                    "path not allowed",
                    help,
                );
                return PactSource {
                    pattern: named,
                    files: Vec::new(),
                };
            }
        };
        let mut names: Vec<String> = std::fs::read_dir(&dir_abs)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| wildcard_match(file_pat, n))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let mut files = Vec::new();
        for n in names {
            let rel = if dir == "." || dir.is_empty() {
                n.clone()
            } else {
                format!("{dir}/{n}")
            };
            match paths::confine(self.root, &rel) {
                Ok((path, rel)) if path.is_file() => files.push(ArtifactRef {
                    rel,
                    path,
                    span: Some(pattern.span()),
                    role: "contracts pact".into(),
                }),
                Ok(_) => {}
                Err(p) => {
                    let (msg, help) = p.describe(&rel);
                    self.err(
                        pattern.span(),
                        format!("contracts pacts: {msg}"),
                        "path not allowed",
                        help,
                    );
                }
            }
        }
        PactSource { pattern: named, files }
    }
}

/// `*` matches any run of characters, `?` one character.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[imports] compose_roles` decides what a container is; an unknown role is an error at
    /// its line that lists the roles.
    #[test]
    fn compose_roles_override_the_image_list() {
        let root = std::env::temp_dir().join(format!("grade-compose-roles-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("docker-compose.yml"),
            "services:\n  orders:\n    build: ./orders\n    environment:\n      LEDGER_URL: http://ledger:80\n  ledger:\n    image: nginx:1\n  pgadmin:\n    image: dpage/pgadmin4\n",
        )
        .unwrap();
        let manifest = |roles: &str| {
            std::fs::write(
                root.join(MANIFEST),
                format!("[imports]\ncompose = \"docker-compose.yml\"\ncompose_roles = {{ {roles} }}\n"),
            )
            .unwrap();
            Submission::load(&root)
        };
        let sub = manifest("ledger = \"service\"").unwrap();
        let names: Vec<&str> = sub.services.iter().map(|s| s.name.name.as_str()).collect();
        assert_eq!(names, ["orders", "ledger"]);
        assert_eq!(sub.services[0].calls.len(), 1);
        assert_eq!(sub.infrastructure.len(), 1);
        assert_eq!(sub.infrastructure[0].name, "pgadmin");
        let without = manifest("").unwrap();
        assert!(
            without.service("ledger").is_none(),
            "nginx is a proxy by the image list"
        );
        let e = manifest("ledger = \"gateway\"")
            .unwrap_err()
            .to_diagnostic()
            .render_plain();
        assert!(
            e.contains("`compose_roles.ledger` is `gateway`, which is not a role"),
            "{e}"
        );
        assert!(e.contains("`service`, `datastore`, `broker`"), "{e}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.json", "a.json"));
        assert!(wildcard_match("gw-*.json", "gw-orders.json"));
        assert!(!wildcard_match("*.json", "a.yaml"));
        assert!(wildcard_match("?.json", "a.json"));
        assert!(!wildcard_match("?.json", "ab.json"));
    }

    /// An unknown saga step `kind` is a manifest error that names the line and the allowed values.
    #[test]
    fn saga_step_kind() {
        let load = |kind: &str| {
            let text = format!(
                "[[service]]\nname = \"a\"\n\n[[saga]]\nname = \"s\"\nstyle = \"orchestration\"\nsteps = [\n  \
                 {{ service = \"a\", action = \"ChargeCard\", kind = \"{kind}\" }},\n]\n"
            );
            from_manifest(
                std::env::temp_dir(),
                "sub".into(),
                SourceFile::new("submission.toml", text),
            )
        };
        for kind in ["compensatable", "pivot", "retriable", "read-only"] {
            assert!(load(kind).is_ok(), "{kind}");
        }
        let Ok(s) = load("read-only") else {
            panic!("read-only is refused")
        };
        assert_eq!(s.sagas[0].steps[0].kind.as_ref().map(|k| k.0), Some(StepKind::ReadOnly));
        for (kind, help) in [
            ("pivto", "did you mean `pivot`?"),
            (
                "undoable",
                "use one of `compensatable`, `pivot`, `retriable` or `read-only`",
            ),
        ] {
            let Err(e) = load(kind) else {
                panic!("{kind} is accepted")
            };
            let e = e.to_diagnostic().render_plain();
            assert!(e.contains(&format!("unknown value `{kind}`")), "{e}");
            assert!(e.contains("submission.toml:8:"), "{e}");
            assert!(e.contains(help), "{e}");
        }
    }

    /// Relative paths of a run command are resolved from `run.cwd` and must stay inside.
    #[test]
    fn run_command_paths_stay_inside() {
        let root = std::env::temp_dir().join(format!("grade-run-paths-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let root = root.canonicalize().unwrap();
        let problems = |command: &str, cwd: Option<&str>| {
            let cwd = cwd.map(|c| format!("cwd = \"{c}\"\n")).unwrap_or_default();
            let text = format!("[[service]]\nname = \"a\"\n[service.run]\ncommand = {command}\n{cwd}");
            let file = SourceFile::new("submission.toml", text);
            match from_manifest(root.clone(), "sub".into(), file) {
                Ok(_) => Vec::new(),
                Err(e) => e
                    .to_diagnostic()
                    .render_plain()
                    .lines()
                    .filter(|l| l.contains("run.command"))
                    .map(str::to_string)
                    .collect(),
            }
        };
        for (command, cwd) in [
            (r#"["sh", "../../bin/shopflow", "gateway"]"#, Some("services/gateway")),
            (
                r#"["./bin/app", "--config", "./conf/a.toml", "/usr/share/x", "-"]"#,
                None,
            ),
            (r#"["python3", "app.py", "a/../b.py", "./"]"#, None),
        ] {
            assert_eq!(problems(command, cwd), Vec::<String>::new(), "{command}");
        }
        let p = problems(r#"["sh", "../../../run.sh", "x"]"#, Some("services/gateway"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("`../../../run.sh` leaves the submission folder"), "{p:?}");
        assert_eq!(problems(r#"["../x/server", "../../y.toml"]"#, None).len(), 2);
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// `{port}` in an argument of `run.command` becomes the port of the start; the program is
    /// taken as written.
    #[test]
    fn the_port_placeholder_in_arguments() {
        let text =
            "[[service]]\nname = \"a\"\n[service.run]\ncommand = [\"prism{port}\", \"mock\", \"-p\", \"{port}\", \
                    \"--addr=127.0.0.1:{port}\", \"api.yaml\"]\n";
        let file = SourceFile::new("submission.toml", text.to_string());
        let sub = from_manifest(std::env::temp_dir(), "sub".into(), file)
            .unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render_plain()));
        let run = sub.services[0].run.clone().unwrap();
        assert_eq!(run.command[0], "prism{port}");
        let args: Vec<String> = run.command[1..].iter().map(|a| with_port(a, 4010)).collect();
        assert_eq!(args, ["mock", "-p", "4010", "--addr=127.0.0.1:4010", "api.yaml"]);
    }

    /// `run.provider_states_command`: a program, not together with the `provider_states`
    /// endpoint; an empty one is refused at its line.
    #[test]
    fn provider_states_command_is_one_handler() {
        let load = |extra: &str| {
            from_manifest(
                std::env::temp_dir(),
                "sub".into(),
                SourceFile::new(
                    "submission.toml",
                    format!("[[service]]\nname = \"a\"\n[service.run]\ncommand = [\"a\"]\n{extra}\n"),
                ),
            )
        };
        let sub = load("provider_states_command = [\"node\", \"states.js\"]")
            .unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render_plain()));
        assert_eq!(
            sub.services[0].run.as_ref().unwrap().provider_states_command,
            ["node", "states.js"]
        );
        for (bad, says) in [
            ("provider_states_command = []", "`run.provider_states_command` is empty"),
            (
                "provider_states = \"/_pact\"\nprovider_states_command = [\"node\", \"states.js\"]",
                "are both given",
            ),
        ] {
            let Err(e) = load(bad) else { panic!("accepted: {bad}") };
            let text = e.to_diagnostic().render_plain();
            assert!(text.contains(says), "{bad}: {text}");
            assert!(text.contains("submission.toml:"), "no line for {bad}: {text}");
        }
    }

    /// `[service.run.auth]`: one source of credentials, a header name; `bearer` forms add
    /// `Bearer `; a variable is read when the service starts.
    #[test]
    fn run_auth_gives_one_header() {
        let load = |auth: &str| {
            from_manifest(
                std::env::temp_dir(),
                "sub".into(),
                SourceFile::new(
                    "submission.toml",
                    format!(
                        "[[service]]\nname = \"a\"\n[service.run]\ncommand = [\"a\"]\n[service.run.auth]\n{auth}\n"
                    ),
                ),
            )
        };
        let auth = |text: &str| {
            load(text)
                .unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render_plain()))
                .services[0]
                .run
                .clone()
                .unwrap()
                .auth
                .unwrap()
        };
        let a = auth("bearer = \"t0k\"");
        assert_eq!(
            (a.header.as_str(), a.resolve()),
            ("Authorization", Ok("Bearer t0k".into()))
        );
        let a = auth("header = \"X-Api-Key\"\nvalue = \"k3y\"");
        assert_eq!((a.header.as_str(), a.resolve()), ("X-Api-Key", Ok("k3y".into())));
        let a = auth("bearer_env = \"GRADE_TEST_SURELY_UNSET_VARIABLE\"");
        assert_eq!(a.source, AuthSource::Env("GRADE_TEST_SURELY_UNSET_VARIABLE".into()));
        let why = a.resolve().unwrap_err();
        assert!(
            why.contains("`GRADE_TEST_SURELY_UNSET_VARIABLE`, which is not set"),
            "{why}"
        );
        for (bad, says) in [
            ("header = \"X-Key\"", "`run.auth` gives no credentials"),
            (
                "bearer = \"a\"\nvalue = \"b\"",
                "`run.auth` gives its credentials 2 ways (value, bearer)",
            ),
            (
                "header = \"X Key\"\nvalue = \"b\"",
                "`run.auth.header = \"X Key\"` is not a header name",
            ),
        ] {
            let Err(e) = load(bad) else { panic!("{bad} is accepted") };
            let e = e.to_diagnostic().render_plain();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(e.contains("submission.toml:"), "{e}");
        }
    }

    /// `run.health = "grpc"` (the whole server) or `"grpc:<package.Service>"` asks the gRPC
    /// health service instead of a path; a malformed service name is an error at its line, and
    /// so is the gRPC form in `ready`.
    #[test]
    fn run_health_over_grpc() {
        let load = |run: &str| {
            from_manifest(
                std::env::temp_dir(),
                "sub".into(),
                SourceFile::new(
                    "submission.toml",
                    format!("[[service]]\nname = \"a\"\n[service.run]\ncommand = [\"a\"]\n{run}\n"),
                ),
            )
        };
        let run = |text: &str| {
            let run = load(text)
                .unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render_plain()))
                .services[0]
                .run
                .clone()
                .unwrap();
            (run.health, run.grpc_health)
        };
        assert_eq!(run("health = \"grpc\""), (None, Some(String::new())));
        assert_eq!(
            run("health = \"grpc:shop.v1.Stock\""),
            (None, Some("shop.v1.Stock".into()))
        );
        assert_eq!(run("health = \"grpc:Stock_2\""), (None, Some("Stock_2".into())));
        assert_eq!(run("health = \"/health\""), (Some("/health".into()), None));
        // A path that merely starts with the word stays a path.
        assert_eq!(run("health = \"/grpc\""), (Some("/grpc".into()), None));
        for (bad, says) in [
            ("health = \"grpc:\"", "run.health `grpc:` names no gRPC service"),
            (
                "health = \"grpc:shop/Stock\"",
                "run.health `grpc:shop/Stock`: `shop/Stock` is not a gRPC service name",
            ),
            (
                "health = \"grpc:shop..Stock\"",
                "`shop..Stock` is not a gRPC service name",
            ),
            (
                "health = \"grpc:1shop.Stock\"",
                "`1shop.Stock` is not a gRPC service name",
            ),
            ("ready = \"grpc\"", "run.ready `grpc` is not a path"),
            ("health = \"healthz\"", "(a gRPC server declares"),
        ] {
            let Err(e) = load(bad) else { panic!("{bad} is accepted") };
            let e = e.to_diagnostic().render_plain();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(e.contains("submission.toml:5"), "{e}");
        }
    }

    /// `run.port` is a port from 1 to 65535, else an error at its line; two services cannot
    /// share one.
    #[test]
    fn run_port_is_a_port() {
        let load = |a: &str, b: Option<&str>| {
            let mut text =
                format!("[[service]]\nname = \"a\"\n[service.run]\ncommand = [\"a\"]\nhealth = \"/\"\n{a}\n");
            if let Some(b) = b {
                text.push_str(&format!(
                    "\n[[service]]\nname = \"b\"\n[service.run]\ncommand = [\"b\"]\n{b}\n"
                ));
            }
            from_manifest(
                std::env::temp_dir(),
                "sub".into(),
                SourceFile::new("submission.toml", text),
            )
        };
        let run = |sub: &Submission| sub.services[0].run.clone().unwrap();
        let sub = load("", None).unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render_plain()));
        assert_eq!(run(&sub).port, None);
        for (written, port) in [("port = 8080", 8080), ("port = 1", 1), ("port = 65535", 65535)] {
            let sub = load(written, None).unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render_plain()));
            assert_eq!(run(&sub).port, Some(port), "{written}");
        }
        for bad in ["0", "65536", "-1", "70000"] {
            let Err(e) = load(&format!("port = {bad}"), None) else {
                panic!("port = {bad} is accepted")
            };
            let e = e.to_diagnostic().render_plain();
            assert!(e.contains(&format!("`run.port = {bad}` is out of range")), "{e}");
            assert!(e.contains("submission.toml:6:"), "{e}");
            assert!(e.contains("must be 1 to 65535"), "{e}");
        }
        let Err(e) = load("port = \"8080\"", None) else {
            panic!("a string is accepted as a port")
        };
        assert!(e.to_diagnostic().render_plain().contains("submission.toml:6:"));
        assert!(load("port = 8080", Some("port = 8081")).is_ok());
        let Err(e) = load("port = 8080", Some("port = 8080")) else {
            panic!("one port for two services is accepted")
        };
        let e = e.to_diagnostic().render_plain();
        assert!(
            e.contains("`run.port = 8080` of service `b` is also the port of service `a`"),
            "{e}"
        );
        assert!(e.contains("submission.toml:12:"), "{e}");
    }
}

#[cfg(test)]
mod kubernetes_tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\nspec:\n  template:\n    metadata:\n      labels:\n        app: NAME\n    spec:\n      containers:\n        - name: server\n          image: IMAGE\n          env:\nENV---\napiVersion: v1\nkind: Service\nmetadata:\n  name: NAME\nspec:\n  selector:\n    app: NAME\n  ports:\n    - port: PORT\n";

    fn workload(name: &str, image: &str, port: u16, env: &[(&str, &str)]) -> String {
        let env: String = env
            .iter()
            .map(|(k, v)| format!("            - name: {k}\n              value: \"{v}\"\n"))
            .collect();
        DEPLOY
            .replace("NAME", name)
            .replace("IMAGE", image)
            .replace("PORT", &port.to_string())
            .replace("ENV", &env)
    }

    /// Without a manifest, Kubernetes manifests say what runs and who calls whom; a service's
    /// code is found by its name; every fact is an assumption with its file and line.
    #[test]
    fn kubernetes_manifests_and_code_folders_are_discovered() {
        let root = std::env::temp_dir().join(format!("grade-kube-discovery-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        write(
            &root,
            "k8s/checkout.yaml",
            &workload(
                "checkout",
                "shop/checkout:1",
                5050,
                &[
                    ("PAYMENT_ADDR", "payment:50051"),
                    ("REDIS_ADDR", "checkout-cache:6379"),
                    ("MODE", "fast"),
                ],
            ),
        );
        write(
            &root,
            "k8s/payment.yaml",
            &workload("payment", "shop/payment:1", 50051, &[]),
        );
        write(
            &root,
            "k8s/cache.yaml",
            &workload("checkout-cache", "redis:7", 6379, &[]),
        );
        write(&root, "src/checkout/main.go", "package main\nfunc main() {}\n");
        write(&root, "shop-payment/app.py", "print('payment')\n");
        write(&root, "src/unrelated/README.md", "no code\n");
        let sub = Submission::load_with(&root, Limits::default()).unwrap();
        let names: Vec<&str> = sub.services.iter().map(|s| s.name.name.as_str()).collect();
        assert_eq!(names, ["checkout", "payment"]);
        let checkout = sub.service("checkout").unwrap();
        assert_eq!(
            checkout.calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["payment"]
        );
        assert_eq!(
            checkout.owns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["checkout-cache"]
        );
        assert_eq!(sub.datastores.len(), 1);
        assert_eq!(checkout.source.as_ref().map(|s| s.rel.as_str()), Some("src/checkout"));
        let payment = sub.service("payment").unwrap();
        assert_eq!(payment.source.as_ref().map(|s| s.rel.as_str()), Some("shop-payment"));
        let said = sub.assumptions.join("\n");
        for line in [
            "services and calls imported from k8s",
            "call `checkout` -> `payment` from k8s/checkout.yaml:",
            "(PAYMENT_ADDR=payment:50051)",
            "`checkout`'s code is src/checkout/ (by its name)",
        ] {
            assert!(said.contains(line), "{line}\n{said}");
        }
        // A folder named like manifests that holds none is not mentioned.
        let empty = root.join("other");
        write(&empty, "manifests/notes.yaml", "title: not kubernetes\n");
        write(
            &empty,
            "services/a/openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: a, version: '1'}\npaths: {}\n",
        );
        let sub = Submission::load_with(&empty, Limits::default()).unwrap();
        assert!(
            !sub.assumptions.iter().any(|a| a.contains("manifests")),
            "{:?}",
            sub.assumptions
        );
        assert!(sub.import_problems.is_empty());
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Online Boutique (`../shared/corpus`, skipped when absent) has no manifest, no compose
    /// file and no OpenAPI documents: its Kubernetes manifests say what it is.
    #[test]
    fn online_boutique_is_read_from_its_kubernetes_manifests() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/systems/microservices-demo");
        if !dir.is_dir() {
            eprintln!("skipped: {} is absent", dir.display());
            return;
        }
        let sub = Submission::load_with(&dir, Limits::default()).unwrap();
        let mut names: Vec<&str> = sub.services.iter().map(|s| s.name.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "adservice",
                "cartservice",
                "checkoutservice",
                "currencyservice",
                "emailservice",
                "frontend",
                "paymentservice",
                "productcatalogservice",
                "recommendationservice",
                "shippingservice"
            ]
        );
        let calls: usize = sub.services.iter().map(|s| s.calls.len()).sum();
        assert_eq!(calls, 14, "checkout 6, frontend 7, recommendation 1");
        assert_eq!(
            sub.service("cartservice")
                .unwrap()
                .owns
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>(),
            ["redis-cart"]
        );
        // Every service has its code under src/<name>/ (cartservice's is C#).
        let with_code = sub.services.iter().filter(|s| s.source.is_some()).count();
        assert_eq!(with_code, 10);
    }
}
