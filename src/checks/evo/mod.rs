//! EVO: API evolution (Week 2), over each service's `previous_openapi` and `openapi`, compared
//! by the diff engine in [`crate::evo`] (the same as `grade diff`).
pub mod breaking_change;
mod support;
pub mod version_not_bumped;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<breaking_change::BreakingChange>::new(),
    &Typed::<version_not_bumped::VersionNotBumped>::new(),
];
