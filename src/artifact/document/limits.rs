//! Resource limits of loading a document, and the size check.

use super::*;

/// Resource limits applied while loading a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted source, in bytes (default 16 MiB; the largest real OpenAPI documents
    /// seen are about 12 MB).
    pub max_bytes: usize,
    /// Deepest accepted nesting of arrays/objects (default 256; values above
    /// [`MAX_DEPTH_CAP`] are treated as the cap, so that the returned value can always be
    /// dropped and walked recursively on an ordinary thread stack).
    pub max_depth: usize,
    /// Most values (scalars and containers, after alias expansion) in one document (default 5M).
    pub max_nodes: usize,
    /// Most nodes that YAML aliases (`*name`) may expand into (default 100,000). saphyr applies
    /// its own fixed budget of 100,000 as well, so larger values have no further effect.
    pub max_alias_expansions: usize,
    /// Longest chain of `$ref`s followed before it is reported (default 64).
    pub max_ref_hops: usize,
    /// Largest answer a live probe reads, in bytes (default 4 MiB).
    pub max_response: usize,
}

/// Hard upper bound of [`Limits::max_depth`].
pub const MAX_DEPTH_CAP: usize = 4096;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_ref_hops: 64,
            max_response: 4 * 1024 * 1024,
            max_depth: 256,
            max_nodes: 5_000_000,
            max_alias_expansions: 100_000,
        }
    }
}

/// `16 MiB`, `50.0 MiB`, `812 bytes`.
pub fn mib(bytes: usize) -> String {
    if bytes < 1024 * 1024 {
        format!("{bytes} bytes")
    } else if bytes % (1024 * 1024) == 0 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

pub(super) fn check_size(bytes: usize, limits: &Limits) -> Result<(), LoadError> {
    // Positions are stored as u32.
    let limit = limits.max_bytes.min(u32::MAX as usize - 1);
    if bytes > limit {
        return Err(LoadError::TooLarge { bytes, limit });
    }
    Ok(())
}
