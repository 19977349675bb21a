//! OPS: operations (Weeks 9, 10).
pub mod service_without_owner;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[&Typed::<service_without_owner::ServiceWithoutOwner>::new()];
