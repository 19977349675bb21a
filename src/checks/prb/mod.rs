//! PRB: live probes against the running services (skipped with `--static-only`).
pub mod bodies;
pub mod invalid_input_mishandled;
pub mod latency_under_load;
pub mod metrics_exposition;
pub mod pact_replay_failed;
pub mod resilience_missing;
pub mod response_nonconformant;
pub mod scenario_failed;
pub mod service_unhealthy;
pub mod support;
pub mod trace_context_broken;
pub mod undeclared_call;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<service_unhealthy::ServiceUnhealthy>::new(),
    &Typed::<response_nonconformant::ResponseNonconformant>::new(),
    &Typed::<invalid_input_mishandled::InvalidInputMishandled>::new(),
    &Typed::<latency_under_load::LatencyUnderLoad>::new(),
    &Typed::<resilience_missing::ResilienceMissing>::new(),
    &Typed::<trace_context_broken::TraceContextBroken>::new(),
    &Typed::<metrics_exposition::MetricsExposition>::new(),
    &Typed::<pact_replay_failed::PactReplayFailed>::new(),
    &Typed::<scenario_failed::ScenarioFailed>::new(),
    &Typed::<undeclared_call::UndeclaredCall>::new(),
];
