//! SUB: the submission itself (manifest, artifacts).
pub mod artifact_missing;
pub mod manifest_missing;
