//! The files of a submission as every layer names them: a reference to one file
//! ([`ArtifactRef`]) and the confinement of the paths a learner writes to the submission folder
//! ([`paths::confine`]). Below both the submission reader and the artifact loaders, which share
//! these.

pub mod paths;
pub mod pct;

use std::ops::Range;
use std::path::PathBuf;

/// A file the submission names (or that was discovered), confined to the submission folder.
#[derive(Debug, Clone)]
pub struct ArtifactRef {
    /// Path relative to the submission root, `/`-separated.
    pub rel: String,
    /// Absolute path on disk (inside the submission root).
    pub path: PathBuf,
    /// Where the manifest names it; `None` when discovered by convention.
    pub span: Option<Range<usize>>,
    /// Which manifest field names it, e.g. `service "orders" openapi`.
    pub role: String,
}

impl ArtifactRef {
    pub fn exists(&self) -> bool {
        self.path.exists()
    }
}
