//! `grade`: assess and auto-grade *Microservices Architect* course submissions.
//!
//! Data flows one way: commands -> (submission, rubric) -> artifacts -> model -> checks ->
//! findings -> score -> report -> emitters. The modules form layers, each using only the ones
//! below it: docs/architecture.md has the table, and `tests/layers.rs` enforces it.

pub mod api;
pub mod artifact;
pub mod batch;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod engine;
pub mod error;
pub mod evidence;
pub mod evo;
pub mod exit;
pub mod files;
pub mod finding;
pub mod model;
pub mod probe;
pub mod report;
pub mod rubric;
pub mod score;
pub mod similarity;
pub mod submission;
#[cfg(test)]
pub(crate) mod testing;

pub use error::{Error, Result};

/// The grader's version, recorded in every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
