//! OPS: operations (Weeks 9, 10).
pub mod service_without_owner;
