//! PRB: live probes against the running services (skipped with `--static-only`).
pub mod service_unhealthy;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[&Typed::<service_unhealthy::ServiceUnhealthy>::new()];
