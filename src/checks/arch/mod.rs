//! ARCH: decomposition and the service graph (Weeks 1, 3, 4).
pub mod bounded_context_count;
pub mod call_unguarded;
pub mod call_without_operation;
pub mod context_map_missing;
pub mod copied_contract;
pub mod gateway_missing;
pub mod hexagonal_violation;
pub mod service_without_context;
pub mod single_point_of_failure;
pub mod sync_call_cycle;
pub mod sync_call_depth;
pub mod sync_hub;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<bounded_context_count::BoundedContextCount>::new(),
    &Typed::<sync_call_cycle::SyncCallCycle>::new(),
    &Typed::<service_without_context::ServiceWithoutContext>::new(),
    &Typed::<sync_call_depth::SyncCallDepth>::new(),
    &Typed::<context_map_missing::ContextMapMissing>::new(),
    &Typed::<gateway_missing::GatewayMissing>::new(),
    &Typed::<sync_hub::SyncHub>::new(),
    &Typed::<call_without_operation::CallWithoutOperation>::new(),
    &Typed::<hexagonal_violation::HexagonalViolation>::new(),
    &Typed::<single_point_of_failure::SinglePointOfFailure>::new(),
    &Typed::<copied_contract::CopiedContract>::new(),
    &Typed::<call_unguarded::CallUnguarded>::new(),
];

/// Not applicable when the system has no synchronous call at all: an empty call graph earns
/// no credit for its shape (no cycle, no deep chain, no hub). `None` when there are calls.
pub(crate) fn without_sync_calls(ctx: &super::Ctx<'_>) -> Option<super::CheckResult> {
    (ctx.model.sync.edge_count() == 0)
        .then(|| super::CheckResult::not_applicable("no synchronous calls are declared or imported"))
}
