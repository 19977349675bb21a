//! OPS: operations (Weeks 9, 10).
pub mod burn_rate_alert_missing;
pub mod openslo_invalid;
pub mod rollback_missing;
pub mod service_without_owner;
pub mod slo_missing;
pub mod slo_target_invalid;
mod support;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<service_without_owner::ServiceWithoutOwner>::new(),
    &Typed::<slo_missing::SloMissing>::new(),
    &Typed::<slo_target_invalid::SloTargetInvalid>::new(),
    &Typed::<burn_rate_alert_missing::BurnRateAlertMissing>::new(),
    &Typed::<rollback_missing::RollbackMissing>::new(),
    &Typed::<openslo_invalid::OpensloInvalid>::new(),
];
