//! Process exit codes, documented in the README.

/// The submission was graded and passed its checkpoint.
pub const PASSED: i32 = 0;
/// The submission was graded and is below the threshold, or a required item failed.
pub const FAILED: i32 = 1;
/// The submission could not be graded: usage error, unreadable submission, invalid rubric.
pub const CANNOT_GRADE: i32 = 2;
/// Grading is incomplete: the grader could not do its part (its own timeout, a port it could not
/// bind) and the verdict could go either way, so CI may retry; or a `--static-only` run of a
/// rubric with probe items. A learner's service that does not start is [`FAILED`].
pub const INCOMPLETE: i32 = 3;
