//! ARCH: decomposition and the service graph (Weeks 1, 3, 4).
pub mod bounded_context_count;
pub mod context_map_missing;
pub mod gateway_missing;
pub mod service_without_context;
pub mod sync_call_cycle;
pub mod sync_call_depth;
pub mod sync_hub;
