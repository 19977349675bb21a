//! Shared code of the fuzz targets: the harnesses live in `harness.rs` so that
//! `tests/fuzz_regressions.rs` in the main crate can replay crashing inputs through them.

pub mod harness;
