//! Deep recursion guard: nesting deeper than the main stack takes runs on a helper thread
//! with a stack sized for it.

use super::*;

/// Nesting depth that runs on the caller's stack.
const INLINE_LEVELS: usize = 300;
/// Stack reserved per nesting level on a helper thread (the recursive JSON parser and the YAML
/// depth bound; debug builds need the most).
const STACK_PER_LEVEL: usize = 4 * 1024;
const STACK_BASE: usize = 1024 * 1024;
/// Largest helper-thread stack (virtual memory; only touched pages are committed).
const MAX_STACK: usize = 256 * 1024 * 1024;

pub(super) enum StackRun<T> {
    Done(T),
    /// No stack that large can be provided.
    TooDeep,
    Panicked,
}

/// The stack of a helper thread for `levels` of nesting; `None` when over [`MAX_STACK`].
fn helper_stack(levels: usize) -> Option<usize> {
    levels
        .checked_mul(STACK_PER_LEVEL)
        .and_then(|s| s.checked_add(STACK_BASE))
        .filter(|&s| s <= MAX_STACK)
}

/// Whether `levels` of nesting are more than [`run_with_stack`] can take.
pub(super) fn levels_exceed_stack(levels: usize) -> bool {
    levels > INLINE_LEVELS && helper_stack(levels).is_none()
}

/// Runs `f` where `levels` of nesting fit on the stack: inline for shallow work, else on a
/// helper thread with a stack sized for it.
pub(super) fn run_with_stack<T: Send>(levels: usize, f: impl FnOnce() -> T + Send) -> StackRun<T> {
    if levels <= INLINE_LEVELS {
        return match catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => StackRun::Done(v),
            Err(_) => StackRun::Panicked,
        };
    }
    let Some(size) = helper_stack(levels) else {
        return StackRun::TooDeep;
    };
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("grade-document-loader".into())
            .stack_size(size)
            .spawn_scoped(scope, f);
        match spawned {
            Ok(handle) => match handle.join() {
                Ok(v) => StackRun::Done(v),
                Err(_) => StackRun::Panicked,
            },
            Err(_) => StackRun::TooDeep,
        }
    })
}

pub(super) fn internal_error(text: &TextMap, b: &[u8], what: &str) -> LoadError {
    LoadError::Syntax {
        message: format!("the {what} parser failed on this document"),
        location: text.location(b, 0, 0),
        help: "this is a bug in the grader; please report it with the file attached".to_string(),
    }
}
