//! Process exit codes, documented in the README.

/// The submission was graded and passed its checkpoint.
pub const PASSED: i32 = 0;
/// The submission was graded and is below the threshold, or a required item failed.
pub const FAILED: i32 = 1;
/// The submission could not be graded: usage error, unreadable submission, invalid rubric.
pub const CANNOT_GRADE: i32 = 2;
/// Grading is incomplete: an item could not be evaluated (e.g. services did not start); CI may retry.
pub const INCOMPLETE: i32 = 3;
