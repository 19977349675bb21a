//! DATA: data ownership and consistency (Weeks 7, 8).
pub mod cache_without_expiry;
pub mod conflict_resolution_missing;
pub mod datastore_kind_missing;
pub mod datastore_without_owner;
pub mod dual_write;
pub mod read_model_source_unknown;
pub mod shared_datastore;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<shared_datastore::SharedDatastore>::new(),
    &Typed::<datastore_without_owner::DatastoreWithoutOwner>::new(),
    &Typed::<datastore_kind_missing::DatastoreKindMissing>::new(),
    &Typed::<dual_write::DualWrite>::new(),
    &Typed::<read_model_source_unknown::ReadModelSourceUnknown>::new(),
    &Typed::<cache_without_expiry::CacheWithoutExpiry>::new(),
    &Typed::<conflict_resolution_missing::ConflictResolutionMissing>::new(),
];
