//! OAS: API design, over the services' OpenAPI documents (Weeks 2, 4).
pub mod openapi_invalid;
