//! The report model: everything an emitter needs, computed once by the engine. Emitters (one
//! file each) only read it.

pub mod github;
pub mod gradebook;
pub mod gradescope;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::finding::{Claim, Finding, Outcome};
use crate::score::Verdict;

/// Version of the JSON report layout (docs/report-json.md). Bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub grader: GraderInfo,
    pub rubric: RubricInfo,
    pub checkpoint: Option<String>,
    pub submission: SubmissionInfo,
    /// Percent 0-100, two decimals.
    pub score: f64,
    /// Pass threshold, percent.
    pub threshold: f64,
    pub passed: bool,
    pub verdict: Verdict,
    /// False when an item errored (the grader could not evaluate it).
    pub complete: bool,
    pub points: f64,
    pub max_points: f64,
    pub scoring_rule: &'static str,
    /// The run skipped live probes (`--static-only`).
    pub static_only: bool,
    /// Probe items of the rubric that a static-only run did not run: when non-zero the verdict
    /// is `incomplete` and the score is provisional.
    pub probe_items_not_run: usize,
    /// What the submission lacks that its checkpoint asks for (the report opens with it).
    pub missing: Vec<String>,
    /// Warnings about the grading itself (e.g. the manifest names another checkpoint).
    pub warnings: Vec<String>,
    pub sections: Vec<SectionReport>,
    pub items: Vec<ItemReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Source text of every file a finding points into, for snippets (not serialized).
    #[serde(skip)]
    pub sources: BTreeMap<String, Arc<str>>,
    /// The submission's services, calls and event flows, for drawings (not serialized).
    #[serde(skip)]
    pub graph: Graph,
}

/// The service graph of the submission as the engine saw it: what the HTML report draws.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// Bounded contexts in declaration order.
    pub contexts: Vec<String>,
    /// Services in declaration order; calls and flows index into it.
    pub services: Vec<GraphService>,
    /// Synchronous calls between declared services.
    pub calls: Vec<GraphCall>,
    /// Asynchronous flows: `from` publishes `event`, `to` consumes it.
    pub flows: Vec<GraphFlow>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphService {
    pub name: String,
    /// The bounded context it declares (may name an undeclared one).
    pub context: Option<String>,
    /// `service`, `gateway` or `bff`.
    pub role: &'static str,
    /// Datastores it owns.
    pub owns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphCall {
    pub from: usize,
    pub to: usize,
    /// The call lies on a synchronous cycle.
    pub in_cycle: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphFlow {
    pub from: usize,
    pub to: usize,
    pub event: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraderInfo {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct RubricInfo {
    pub id: String,
    pub title: String,
    pub version: String,
    pub sha256: String,
    /// `builtin:<id>` or the rubric file's path.
    pub origin: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubmissionInfo {
    /// The folder as given on the command line.
    pub path: String,
    /// The same folder relative to the repository root (`/`-separated, empty for the root),
    /// when the command layer knows it: what [`Report::path_of`] gives CI tools (not
    /// serialized).
    #[serde(skip)]
    pub ci_path: Option<String>,
    pub learner: Option<String>,
    /// Whether a submission.toml described the system (else: discovered by convention).
    pub manifest: bool,
    /// What the grader assumed where the manifest was silent.
    pub assumptions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionReport {
    pub id: String,
    pub title: String,
    pub points: f64,
    pub max_points: f64,
    /// Percent, or null when no item of the section counts.
    pub score: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    /// Check id, e.g. `ARCH002`.
    pub check: &'static str,
    /// Check name, e.g. `sync-call-cycle`.
    pub name: &'static str,
    /// Section id.
    pub section: String,
    pub summary: &'static str,
    pub weight: f64,
    pub required: bool,
    pub outcome: Outcome,
    /// 0-1; null when skipped.
    pub credit: Option<f64>,
    pub points: f64,
    pub max_points: f64,
    /// Why the item was skipped, absent, not exercised or errored.
    pub reason: Option<String>,
    /// What the item judges is not in the submission (`reason` says what); the item failed,
    /// or was skipped when the rubric item says `when_absent = "skip"`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub absent: bool,
    pub evidence: Vec<String>,
    pub findings: Vec<Finding>,
    /// The design claims the item judged and where each comes from (declared, found,
    /// observed); only items that read evidence have them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub total_ms: f64,
    pub load_ms: f64,
    pub items: Vec<ItemTiming>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemTiming {
    pub check: &'static str,
    pub ms: f64,
}

impl ItemReport {
    /// Failed with some credit (not all, not none).
    pub fn partial(&self) -> bool {
        self.outcome == Outcome::Failed && self.credit.unwrap_or(0.0) > 0.0
    }

    /// A required item that failed or could not be evaluated: it fails the checkpoint
    /// whatever the score, so every format reports it as an error.
    pub fn fails_gate(&self) -> bool {
        self.required && matches!(self.outcome, Outcome::Failed | Outcome::Errored)
    }
}

impl Report {
    /// The path of a finding's `file` (relative to the submission) for CI tools (GitHub
    /// annotations, SARIF), which resolve it against the repository root: the submission folder
    /// relative to the repository root when the command layer set it (`ci_path`), else
    /// the folder as given on the command line, joined with the file, `/`-separated, without
    /// a leading `./`.
    pub fn path_of(&self, file: &str) -> String {
        let root = self.submission.ci_path.as_ref().unwrap_or(&self.submission.path);
        let root = root.replace('\\', "/");
        let mut root = root.trim_end_matches('/');
        while let Some(rest) = root.strip_prefix("./") {
            root = rest;
        }
        if root.is_empty() || root == "." {
            file.to_string()
        } else {
            format!("{root}/{file}")
        }
    }

    /// Items that fail a gate (required and failed or errored).
    pub fn failed_gates(&self) -> impl Iterator<Item = &ItemReport> {
        self.items.iter().filter(|i| i.fails_gate())
    }
}
