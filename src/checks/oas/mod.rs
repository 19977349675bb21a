//! OAS: API design, over the services' OpenAPI documents (Weeks 2, 4).
pub mod openapi_invalid;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[&Typed::<openapi_invalid::OpenapiInvalid>::new()];
