//! SUB: the submission itself (manifest, artifacts).
pub mod artifact_missing;
pub mod import_invalid;
pub mod manifest_missing;
pub mod minimum_system;

pub use minimum_system::ID as MINIMUM_SYSTEM_ID;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<manifest_missing::ManifestMissing>::new(),
    &Typed::<artifact_missing::ArtifactMissing>::new(),
    &Typed::<import_invalid::ImportInvalid>::new(),
    &Typed::<minimum_system::MinimumSystem>::new(),
];
