//! What batch grading keeps per submission (`learners/<id>/record.json`) and per output folder
//! (`batch.json`). Records are all the gradebook and the statistics are computed from, so
//! `grade merge` needs nothing else.

use serde::{Deserialize, Serialize};

use crate::report::gradebook::Row;

/// File name of a submission's record inside its learner folder.
pub const RECORD: &str = "record.json";
/// File name of the output folder's description.
pub const META: &str = "batch.json";
/// Version of the record and batch.json layouts.
pub const LAYOUT_VERSION: u32 = 1;

/// How a submission's grading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A report was produced (whatever its verdict).
    Graded,
    /// No report: the grader could not grade it, crashed, or passed the deadline.
    Errored,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionPoints {
    pub id: String,
    pub points: f64,
    pub max_points: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemOutcome {
    pub check: String,
    pub name: String,
    pub section: String,
    /// `passed`, `failed`, `skipped` or `errored`.
    pub outcome: String,
    pub credit: Option<f64>,
    pub points: f64,
    pub max_points: f64,
}

/// The result of one submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub layout: u32,
    pub learner: String,
    /// The submission's folder name in the cohort.
    pub folder: String,
    /// SHA-256 over the submission's files (sorted paths and contents).
    pub content_sha256: String,
    pub rubric_sha256: String,
    pub grader_version: String,
    pub static_only: bool,
    /// SHA-256 of the instructor's evidence rules (`--evidence-rules`), when used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_rules_sha256: Option<String>,
    pub status: Status,
    /// Exit code of the grading process, when it exited.
    pub exit_code: Option<i32>,
    /// Why it could not be graded.
    pub error: Option<String>,
    /// Remarks for the instructor (e.g. graded by convention without a manifest).
    pub notes: Vec<String>,
    pub score: Option<f64>,
    pub passed: Option<bool>,
    pub verdict: Option<String>,
    pub points: Option<f64>,
    pub max_points: Option<f64>,
    pub sections: Vec<SectionPoints>,
    pub items: Vec<ItemOutcome>,
}

impl Record {
    /// Whether this record is the result of grading exactly this content with this rubric and
    /// grader (resume). Errored records never match: they are retried.
    pub fn matches(&self, content: &str, meta: &BatchMeta) -> bool {
        self.layout == LAYOUT_VERSION
            && self.status == Status::Graded
            && self.content_sha256 == content
            && self.rubric_sha256 == meta.rubric.sha256
            && self.grader_version == meta.grader_version
            && self.static_only == meta.static_only
            && self.evidence_rules_sha256 == meta.evidence_rules_sha256
    }

    /// The gradebook row, sections in `section_ids` order.
    pub fn row(&self, section_ids: &[String]) -> Row {
        let mut note = self.notes.join("; ");
        if let Some(e) = &self.error {
            // The headline of the diagnostic: its first paragraph, unwrapped.
            let first = e
                .lines()
                .map(|l| l.trim().trim_start_matches('│').trim())
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty() && !l.starts_with('╭') && !l.starts_with("help:"))
                .collect::<Vec<_>>()
                .join(" ");
            let first = first.as_str();
            note = if note.is_empty() {
                first.to_string()
            } else {
                format!("{first}; {note}")
            };
        }
        Row {
            learner: self.learner.clone(),
            score: self.score,
            passed: self.passed,
            verdict: self.verdict.clone().unwrap_or_default(),
            points: self.points,
            max_points: self.max_points,
            sections: section_ids
                .iter()
                .map(|id| self.sections.iter().find(|s| &s.id == id).map(|s| s.points))
                .collect(),
            status: match self.status {
                Status::Graded => "graded".into(),
                Status::Errored => "errored".into(),
            },
            submission: self.folder.clone(),
            note,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RubricMeta {
    pub id: String,
    pub title: String,
    pub version: String,
    pub sha256: String,
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionMeta {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemMeta {
    pub check: String,
    pub name: String,
    pub section: String,
    pub weight: f64,
    pub required: bool,
}

/// `batch.json`: which rubric, grader and mode produced the results in an output folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchMeta {
    pub layout: u32,
    pub checkpoint: String,
    pub rubric: RubricMeta,
    pub grader_version: String,
    pub static_only: bool,
    /// SHA-256 of the instructor's evidence rules (`--evidence-rules`), when used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_rules_sha256: Option<String>,
    pub sections: Vec<SectionMeta>,
    pub items: Vec<ItemMeta>,
}

impl BatchMeta {
    pub fn from_rubric(checkpoint: &str, rubric: &crate::rubric::Rubric, static_only: bool) -> BatchMeta {
        BatchMeta {
            layout: LAYOUT_VERSION,
            checkpoint: checkpoint.to_string(),
            rubric: RubricMeta {
                id: rubric.id.clone(),
                title: rubric.title.clone(),
                version: rubric.version.clone(),
                sha256: rubric.sha256.clone(),
                threshold: rubric.threshold,
            },
            grader_version: crate::VERSION.to_string(),
            static_only,
            evidence_rules_sha256: None,
            sections: rubric
                .sections
                .iter()
                .map(|s| SectionMeta {
                    id: s.id.clone(),
                    title: s.title.clone(),
                })
                .collect(),
            items: rubric
                .items()
                .map(|(s, i)| ItemMeta {
                    check: i.check.info().id.to_string(),
                    name: i.check.info().name.to_string(),
                    section: s.id.clone(),
                    weight: i.weight,
                    required: i.required,
                })
                .collect(),
        }
    }

    pub fn section_ids(&self) -> Vec<String> {
        self.sections.iter().map(|s| s.id.clone()).collect()
    }

    /// Why results of `other` cannot live beside results of `self`, if they cannot.
    pub fn conflict(&self, other: &BatchMeta) -> Option<String> {
        if self.rubric.sha256 != other.rubric.sha256 {
            return Some(format!(
                "rubric `{}` v{} (sha256 {}) instead of `{}` v{} (sha256 {})",
                other.rubric.id,
                other.rubric.version,
                &other.rubric.sha256[..other.rubric.sha256.len().min(12)],
                self.rubric.id,
                self.rubric.version,
                &self.rubric.sha256[..self.rubric.sha256.len().min(12)]
            ));
        }
        if self.evidence_rules_sha256 != other.evidence_rules_sha256 {
            return Some("a run with other evidence rules (`--evidence-rules`)".into());
        }
        if self.static_only != other.static_only {
            return Some(format!(
                "a run {} --static-only instead of {}",
                if other.static_only { "with" } else { "without" },
                if self.static_only { "with" } else { "without" }
            ));
        }
        None
    }
}

/// The part of the JSON report (docs/report-json.md) a record keeps.
#[derive(Debug, Deserialize)]
pub struct ReportDigest {
    pub submission: DigestSubmission,
    pub score: f64,
    pub passed: bool,
    pub verdict: String,
    pub points: f64,
    pub max_points: f64,
    pub rubric: DigestRubric,
    pub sections: Vec<SectionPoints>,
    pub items: Vec<ItemOutcome>,
}

#[derive(Debug, Deserialize)]
pub struct DigestSubmission {
    pub manifest: bool,
}

#[derive(Debug, Deserialize)]
pub struct DigestRubric {
    pub sha256: String,
}
