//! The raw `submission.toml` model, as written by the learner (with spans).
//!
//! The field names are documented in `docs/manifest.md`; unknown fields are errors.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type S = Spanned<String>;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawManifest {
    #[serde(default)]
    pub submission: RawHeader,
    #[serde(default)]
    pub context: Vec<RawContext>,
    #[serde(default)]
    pub datastore: Vec<RawDatastore>,
    #[serde(default)]
    pub service: Vec<RawService>,
    #[serde(default)]
    pub events: Option<RawEvents>,
    #[serde(default)]
    pub saga: Vec<RawSaga>,
    #[serde(default)]
    pub read_model: Vec<RawReadModel>,
    #[serde(default)]
    pub contracts: Option<RawContracts>,
    #[serde(default)]
    pub operations: Option<RawOperations>,
    #[serde(default)]
    pub imports: Option<RawImports>,
    #[serde(default)]
    pub scenario: Vec<RawScenario>,
}

/// A scenario for the live probes: HTTP steps with captures and (eventual) expectations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: S,
    #[serde(default)]
    pub step: Vec<RawScenarioStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenarioStep {
    pub service: S,
    pub method: Option<S>,
    pub path: S,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A table (sent as JSON) or a string (sent as written).
    pub body: Option<Spanned<toml::Value>>,
    /// The expected status (default: any 2xx).
    pub status: Option<Spanned<u16>>,
    /// Variable name -> JSON pointer into the answer's body.
    #[serde(default)]
    pub capture: BTreeMap<String, S>,
    /// JSON pointer into the answer's body -> expected value.
    #[serde(default)]
    pub expect: BTreeMap<String, toml::Value>,
    /// Retry until the step holds, for at most this long (`"2s"`, `"500ms"`).
    pub within: Option<S>,
}

/// Other descriptions of the system to merge: a docker-compose file, Backstage catalog files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImports {
    pub compose: Option<S>,
    #[serde(default)]
    pub backstage: Vec<S>,
    /// Kubernetes manifests (a file or a folder): workloads, Services and env addresses.
    pub kubernetes: Option<S>,
    /// What a compose container is, overriding the image list: container -> `service`,
    /// `datastore` (or `datastore:KIND`), `broker`, `observability`, `tool`.
    #[serde(default)]
    pub compose_roles: std::collections::BTreeMap<String, S>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawHeader {
    pub checkpoint: Option<S>,
    pub learner: Option<S>,
    pub title: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContext {
    pub name: S,
    pub description: Option<String>,
    #[serde(default)]
    pub relations: Vec<RawRelation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelation {
    pub with: S,
    pub kind: Spanned<RelationKind>,
}

/// Context-map relationship patterns (Week 1: context mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    Partnership,
    SharedKernel,
    CustomerSupplier,
    Conformist,
    AnticorruptionLayer,
    OpenHostService,
    PublishedLanguage,
    SeparateWays,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatastore {
    pub name: S,
    pub kind: Option<S>,
    pub role: Option<Spanned<StoreRole>>,
    /// Cache entry lifetime, e.g. "5m".
    pub ttl: Option<S>,
    /// How cache entries are invalidated, e.g. "on ProductUpdated".
    pub invalidation: Option<S>,
    #[serde(default)]
    pub replicated: bool,
    /// For replicated data: "last-writer-wins", "crdt" or "crdt:<type>", or "custom: <how>".
    pub conflict_resolution: Option<S>,
}

/// What a datastore is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StoreRole {
    #[default]
    Primary,
    Cache,
    ReadModel,
    Search,
    EventStore,
}

/// How a service gets its events out after a state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// Transactional outbox table, relayed to the broker.
    Outbox,
    /// Change data capture from the database log (e.g. Debezium).
    Cdc,
    /// Event sourcing: the events are the state.
    EventSourcing,
    /// Publishes directly after writing (a dual write).
    Direct,
}

/// A guard on a service's outbound calls (`resilience = ["timeout", "retry", "circuit-breaker"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Guard {
    /// Every outbound call has a timeout (or deadline).
    Timeout,
    /// Failed calls are retried (with backoff), where that is safe.
    Retry,
    /// Calls go through a circuit breaker.
    CircuitBreaker,
}

impl Guard {
    pub const ALL: [Guard; 3] = [Guard::Timeout, Guard::Retry, Guard::CircuitBreaker];

    /// As written in the manifest.
    pub fn id(self) -> &'static str {
        match self {
            Guard::Timeout => "timeout",
            Guard::Retry => "retry",
            Guard::CircuitBreaker => "circuit-breaker",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReadModel {
    pub name: S,
    pub service: S,
    pub datastore: Option<S>,
    #[serde(default)]
    pub sources: Vec<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub name: S,
    pub context: Option<S>,
    pub role: Option<Spanned<Role>>,
    pub owner: Option<S>,
    pub openapi: Option<S>,
    pub previous_openapi: Option<S>,
    pub source: Option<S>,
    #[serde(default)]
    pub owns: Vec<S>,
    #[serde(default)]
    pub calls: Vec<S>,
    #[serde(default)]
    pub publishes: Vec<S>,
    #[serde(default)]
    pub consumes: Vec<S>,
    /// Operations used per called service: `uses = { payments = ["authorizePayment"] }`.
    #[serde(default)]
    pub uses: BTreeMap<String, Vec<S>>,
    pub event_delivery: Option<Spanned<Delivery>>,
    /// Guards on the service's outbound calls.
    #[serde(default)]
    pub resilience: Vec<Spanned<Guard>>,
    pub run: Option<RawRun>,
}

/// What a service is for at the edge of the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    #[default]
    Service,
    Gateway,
    Bff,
}

/// How live probes start a service (used by the live-probe checks).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub command: Vec<S>,
    pub cwd: Option<S>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub port_env: Option<S>,
    /// A fixed port the program always listens on (checked to be 1..=65535 when validated).
    pub port: Option<Spanned<i64>>,
    pub health: Option<S>,
    pub ready: Option<S>,
    #[serde(default)]
    pub dependency_env: BTreeMap<String, S>,
    /// Path of the Pact provider-state endpoint (POST `{state, params, action}`).
    pub provider_states: Option<S>,
    /// A program that sets up a Pact provider state (`{state, params, action}` on stdin),
    /// instead of `provider_states`.
    pub provider_states_command: Option<Spanned<Vec<S>>>,
    /// Credentials every probe sends to the service (`[service.run.auth]`).
    pub auth: Option<Spanned<RawAuth>>,
}

/// `[service.run.auth]`: one header, its value written here or taken from the grader's
/// environment; `bearer`/`bearer_env` are short for `Authorization: Bearer <token>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub header: Option<S>,
    pub value: Option<S>,
    pub value_env: Option<S>,
    pub bearer: Option<S>,
    pub bearer_env: Option<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvents {
    pub asyncapi: Option<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSaga {
    pub name: S,
    pub style: Spanned<SagaStyle>,
    #[serde(default)]
    pub steps: Vec<RawSagaStep>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SagaStyle {
    Orchestration,
    Choreography,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSagaStep {
    pub service: S,
    pub action: S,
    pub compensation: Option<S>,
    /// The step's place in the saga; inferred by EVT009 when absent.
    pub kind: Option<Spanned<StepKind>>,
}

/// What a saga step is, as the curriculum teaches it: compensatable steps, then one pivot,
/// then retriable steps; read-only steps may stand anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Undone by its `compensation` when a later step fails.
    Compensatable,
    /// The go/no-go step: once it commits, the saga runs to completion.
    Pivot,
    /// After the pivot: idempotent and retried until it succeeds, never compensated.
    Retriable,
    /// No side effect (a query, a verification): nothing to undo.
    ReadOnly,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContracts {
    #[serde(default)]
    pub pacts: Vec<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOperations {
    pub slos: Option<S>,
    pub deployment: Option<S>,
}
