//! CTR: contracts (Week 2): consumer-driven contracts (Pact files) checked statically against
//! the manifest and the providers' OpenAPI documents. Live replay of pacts against running
//! providers belongs to the probes.
pub mod pact_interaction_undocumented;
pub mod pact_invalid;
pub mod pact_provider_unknown;
pub mod support;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<pact_invalid::PactInvalid>::new(),
    &Typed::<pact_provider_unknown::PactProviderUnknown>::new(),
    &Typed::<pact_interaction_undocumented::PactInteractionUndocumented>::new(),
];
