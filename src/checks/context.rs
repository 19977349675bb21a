//! What a check sees: the submission, its loaded artifacts and the system model, plus helpers
//! that build findings pointing into the learner's files.

use std::ops::Range;

use crate::api::OasMemo;
use crate::artifact::document::Document;
use crate::artifact::{ArtifactProblem, Artifacts};
use crate::finding::Finding;
use crate::model::SystemModel;
use crate::probe::{ProbeOptions, Session, StartConfig, StartError, System};
use crate::submission::{Submission, MANIFEST};

/// What a check sees of one grading. Made only by [`Ctx::new`] (the engine, and
/// [`run_alone`] for a check on its own).
#[non_exhaustive]
pub struct Ctx<'a> {
    pub submission: &'a Submission,
    pub artifacts: &'a Artifacts,
    pub model: &'a SystemModel,
    /// What the OAS checks compute once per grading and share (see
    /// [`crate::api::Api::of`]).
    pub oas: &'a OasMemo<'a>,
    /// The live system of the grading (see [`Ctx::live`]).
    probes: &'a Session,
    /// The evidence rules: the built-in ones and an instructor's (`--evidence-rules`).
    rules: &'a [crate::evidence::Rule],
    /// Each service's code read once with every rule, for all the evidence checks.
    evidence: std::sync::Mutex<std::collections::BTreeMap<String, Option<std::sync::Arc<ServiceEvidence>>>>,
}

/// What a service's code shows (every rule applied), and where it was read.
#[derive(Debug)]
pub struct ServiceEvidence {
    pub evidence: crate::evidence::Evidence,
    /// The folder read, relative to the submission root.
    pub rel: String,
}

impl ServiceEvidence {
    /// Where the code was read, for messages: `services/orders/src (8 files)`.
    pub fn looked(&self) -> String {
        format!("{} ({} files)", self.rel, self.evidence.code_files)
    }
}

impl<'a> Ctx<'a> {
    /// The context of one grading of `submission`: its artifacts and model as loaded once
    /// ([`Submission::load_artifacts`], [`SystemModel::build`]), a memo the OAS checks share,
    /// the probe session that starts the system for the probe checks, and the evidence rules
    /// the evidence checks read code with.
    pub fn new(
        submission: &'a Submission,
        artifacts: &'a Artifacts,
        model: &'a SystemModel,
        oas: &'a OasMemo<'a>,
        probes: &'a Session,
        rules: &'a [crate::evidence::Rule],
    ) -> Ctx<'a> {
        Ctx {
            submission,
            artifacts,
            model,
            oas,
            probes,
            rules,
            evidence: Default::default(),
        }
    }

    /// The evidence in a service's code (its `source`, else `services/<name>/`), read once per
    /// grading with every rule; `None` when it has no code a rule can read.
    pub fn service_evidence(&self, service: &str) -> Option<std::sync::Arc<ServiceEvidence>> {
        let mut memo = self.evidence.lock().unwrap_or_else(|p| p.into_inner());
        memo.entry(service.to_string())
            .or_insert_with(|| {
                let (dir, rel) = self.service_code_dir(service)?;
                let evidence = crate::evidence::scan_service(&dir, &rel, self.rules)?;
                (evidence.code_files > 0).then(|| std::sync::Arc::new(ServiceEvidence { evidence, rel }))
            })
            .clone()
    }

    /// The evidence rules that prove one of `proofs` (a check reads only what it judges).
    pub fn rules_proving(&self, proofs: &[crate::evidence::Proof]) -> Vec<&'a crate::evidence::Rule> {
        self.rules.iter().filter(|r| proofs.contains(&r.proves)).collect()
    }

    /// Runs `f` with the submission's running services (live probes), starting them on first
    /// use in this grading with the rubric's start configuration (`[system]`); see
    /// [`crate::probe`].
    pub fn live<R>(&self, f: impl FnOnce(&Result<System, StartError>) -> R) -> R {
        self.probes.with_system(self.submission, f)
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

    /// The manifest line a span starts on.
    pub fn manifest_line(&self, span: &Range<usize>) -> Option<usize> {
        self.submission.manifest.as_ref().map(|m| m.line_col(span.start).0)
    }

    /// Where a span of the manifest is, for messages: `submission.toml:12`.
    pub fn manifest_at(&self, span: &Range<usize>) -> String {
        match &self.submission.manifest {
            Some(m) => format!("{MANIFEST}:{}", m.line_col(span.start).0),
            None => MANIFEST.to_string(),
        }
    }

    /// The folder holding a service's code: its `source`, else `services/<name>/` when that
    /// folder exists; (absolute path, path relative to the submission root).
    pub fn service_code_dir(&self, service: &str) -> Option<(std::path::PathBuf, String)> {
        let s = self.submission.services.iter().find(|s| s.name.name == service)?;
        match &s.source {
            Some(src) if src.path.is_dir() => Some((src.path.clone(), src.rel.clone())),
            _ => {
                let rel = format!("services/{service}");
                let dir = self.submission.root.join(&rel);
                dir.is_dir().then_some((dir, rel))
            }
        }
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

/// Runs `check` with `params` over `submission` on its own, as one grading would (its own
/// artifacts, model and probe session, torn down before this returns): for tests and tools
/// that exercise one check.
pub fn run_alone(
    check: &dyn super::Check,
    submission: &Submission,
    params: &toml::Table,
    probe: ProbeOptions,
    system: StartConfig,
) -> super::CheckResult {
    let artifacts = submission.load_artifacts();
    let model = SystemModel::build(submission);
    let oas = OasMemo::default();
    let probes = Session::new(probe, system);
    let rules = crate::evidence::rules::built_in();
    let result = check.run(&Ctx::new(submission, &artifacts, &model, &oas, &probes, &rules), params);
    probes.finish();
    result
}
