//! The report model: everything an emitter needs, computed once by the engine. Emitters (one
//! file each) only read it.

pub mod json;
pub mod markdown;
pub mod text;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::finding::{Finding, Outcome};
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
    pub sections: Vec<SectionReport>,
    pub items: Vec<ItemReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Source text of every file a finding points into, for snippets (not serialized).
    #[serde(skip)]
    pub sources: BTreeMap<String, Arc<str>>,
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
    /// Why the item was skipped or errored.
    pub reason: Option<String>,
    pub evidence: Vec<String>,
    pub findings: Vec<Finding>,
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

impl Report {
    /// Items that fail a gate (required and failed or errored).
    pub fn failed_gates(&self) -> impl Iterator<Item = &ItemReport> {
        self.items
            .iter()
            .filter(|i| i.required && matches!(i.outcome, Outcome::Failed | Outcome::Errored))
    }
}
