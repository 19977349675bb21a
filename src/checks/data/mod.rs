//! DATA: data ownership and consistency (Weeks 7, 8).
pub mod datastore_kind_missing;
pub mod datastore_without_owner;
pub mod shared_datastore;
