//! Cohort grading: every submission of a cohort graded in its own process with a deadline,
//! results kept per learner and resumable, the gradebook and statistics computed from the
//! kept results, shards joined by `grade merge`. See docs/batch.md.

pub mod cohort;
pub mod output;
pub mod record;
pub mod run;
pub mod stats;
