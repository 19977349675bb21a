//! DATA: data ownership and consistency (Weeks 7, 8).
pub mod datastore_kind_missing;
pub mod datastore_without_owner;
pub mod shared_datastore;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<shared_datastore::SharedDatastore>::new(),
    &Typed::<datastore_without_owner::DatastoreWithoutOwner>::new(),
    &Typed::<datastore_kind_missing::DatastoreKindMissing>::new(),
];
