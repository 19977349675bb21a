//! What a check sees: the submission, its loaded artifacts and the system model, plus helpers
//! that build findings pointing into the learner's files.

use std::ops::Range;

use crate::artifact::document::Document;
use crate::artifact::{ArtifactProblem, Artifacts};
use crate::finding::Finding;
use crate::model::SystemModel;
use crate::submission::{Submission, MANIFEST};

pub struct Ctx<'a> {
    pub submission: &'a Submission,
    pub artifacts: &'a Artifacts,
    pub model: &'a SystemModel,
    /// What the OAS checks compute once per grading and share (see
    /// [`crate::api::Api::of`]).
    pub oas: &'a crate::api::OasMemo<'a>,
}

impl Ctx<'_> {
    /// Runs `f` with the submission's running services (live probes), starting them on first
    /// use in this grading; see [`crate::probe`].
    pub fn live<R>(
        &self,
        config: &crate::probe::StartConfig,
        f: impl FnOnce(&Result<crate::probe::System, crate::probe::StartError>) -> R,
    ) -> R {
        crate::probe::with_system(self.submission, config, f)
    }

    /// A finding at `span` of submission.toml (or without position when there is no manifest).
    pub fn manifest_finding(&self, span: Option<&Range<usize>>, message: impl Into<String>) -> Finding {
        let mut f = Finding::new(message);
        if let Some(m) = &self.submission.manifest {
            f.file = Some(MANIFEST.to_string());
            if let Some(span) = span {
                let (line, col) = m.line_col(span.start);
                f.line = Some(line);
                f.column = Some(col);
                f.span = Some((span.start, span.end.saturating_sub(span.start)));
            }
        }
        f
    }

    /// A finding at the node `pointer` of a document in file `rel`.
    pub fn document_finding(&self, rel: &str, doc: &Document, pointer: &str, message: impl Into<String>) -> Finding {
        let loc = doc.locate_for_finding(pointer);
        let mut f = Finding::new(message).in_file(rel);
        f.line = Some(loc.line);
        f.column = Some(loc.column);
        f.pointer = Some(pointer.to_string());
        f.span = Some((loc.offset, loc.len));
        f
    }

    /// A finding for an artifact problem in file `rel`.
    pub fn problem_finding(&self, rel: &str, p: &ArtifactProblem) -> Finding {
        let mut f = Finding::new(p.message.clone()).in_file(rel).help(p.help.clone());
        if let Some(loc) = p.location {
            f.line = Some(loc.line);
            f.column = Some(loc.column);
            f.span = Some((loc.offset, loc.len));
        }
        f.pointer = p.pointer.clone();
        f
    }
}
