//! What a check reports: findings and an outcome. Shared by checks (which produce them) and
//! the report (which carries them to the emitters).

use serde::Serialize;

/// One problem found, pointing at the learner's file where possible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub message: String,
    /// Path relative to the submission root (`/`-separated).
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// JSON pointer into the document, when the file is a JSON/YAML document.
    pub pointer: Option<String>,
    pub help: Option<String>,
    /// Byte span in `file`, for source snippets (not serialized).
    #[serde(skip)]
    pub span: Option<(usize, usize)>,
}

impl Finding {
    /// A finding about the submission as a whole (no file position).
    pub fn new(message: impl Into<String>) -> Self {
        Finding {
            message: message.into(),
            file: None,
            line: None,
            column: None,
            pointer: None,
            help: None,
            span: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Sort key that keeps reports stable: file, line, column, message.
    pub fn sort_key(&self) -> (Option<&str>, usize, usize, &str) {
        (
            self.file.as_deref(),
            self.line.unwrap_or(0),
            self.column.unwrap_or(0),
            &self.message,
        )
    }
}

/// How a rubric item ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    Failed,
    /// Not applicable (with a reason); left out of the score.
    Skipped,
    /// The grader could not evaluate it; counts as zero and makes the grade incomplete.
    Errored,
}

/// Where a fact about the system comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The manifest says so.
    Declared,
    /// A file of the submission shows it (code, configuration, specification).
    Found,
    /// A live probe saw it.
    Observed,
}

/// What the evidence says about a design claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Found in the files (or observed).
    Confirmed,
    /// Declared, and nothing was found either way.
    Unconfirmed,
    /// The files show the opposite.
    Contradicted,
    /// Neither declared nor found.
    Missing,
}

/// A design claim an item judged, with where it comes from (DESIGN section 13): the JSON
/// report carries one per claim, credited or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    /// What the claim is about: a service (`orders`), a saga step (`place-order step 2`).
    pub subject: String,
    /// What is claimed: `timeout`, `event_delivery = "outbox"`, `compensation ReleaseStock`.
    pub claim: String,
    pub status: Status,
    /// Whether the item gave it credit.
    pub credited: bool,
    /// The manifest line, the code or configuration lines that back it, and those that
    /// contradict it.
    pub sources: Vec<ClaimSource>,
}

/// One place a claim comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimSource {
    pub source: Source,
    /// Relative to the submission root.
    pub file: String,
    pub line: Option<usize>,
    /// What is there (`httpx.Client(base_url=url, timeout=0.3)`).
    pub text: String,
    /// This place shows the opposite of the claim.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub contradicts: bool,
}

impl Claim {
    pub fn new(subject: impl Into<String>, claim: impl Into<String>, status: Status, credited: bool) -> Claim {
        Claim {
            subject: subject.into(),
            claim: claim.into(),
            status,
            credited,
            sources: Vec::new(),
        }
    }

    /// Adds a place the claim comes from.
    pub fn from_source(
        mut self,
        source: Source,
        file: impl Into<String>,
        line: Option<usize>,
        text: impl Into<String>,
    ) -> Claim {
        self.sources.push(ClaimSource {
            source,
            file: file.into(),
            line,
            text: text.into(),
            contradicts: false,
        });
        self
    }

    /// Adds a place that shows the opposite of the claim.
    pub fn contradicted_at(mut self, file: impl Into<String>, line: usize, text: impl Into<String>) -> Claim {
        self.sources.push(ClaimSource {
            source: Source::Found,
            file: file.into(),
            line: Some(line),
            text: text.into(),
            contradicts: true,
        });
        self
    }
}

/// The result of running one check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub outcome: Outcome,
    /// Fraction of credit, 0..=1 (1 when passed, `None` when skipped).
    pub credit: Option<f64>,
    /// Why the item was skipped, absent, not exercised or errored.
    pub reason: Option<String>,
    /// The input this item judges is not in the submission (no services, no specs, no event
    /// catalog...). Such a result fails with no credit unless the rubric item says
    /// `when_absent = "skip"` (DESIGN section 13: absence fails).
    pub absent: bool,
    /// Measured facts shown with the verdict ("9 bounded contexts", "cycle: a -> b -> a").
    pub evidence: Vec<String>,
    pub findings: Vec<Finding>,
    /// The design claims judged, with their sources (evidence checks only).
    pub claims: Vec<Claim>,
}

impl CheckResult {
    pub fn passed() -> Self {
        CheckResult {
            outcome: Outcome::Passed,
            credit: Some(1.0),
            reason: None,
            absent: false,
            evidence: Vec::new(),
            findings: Vec::new(),
            claims: Vec::new(),
        }
    }

    /// Failed with no credit.
    pub fn failed(findings: Vec<Finding>) -> Self {
        CheckResult {
            outcome: Outcome::Failed,
            credit: Some(0.0),
            reason: None,
            absent: false,
            evidence: Vec::new(),
            findings,
            claims: Vec::new(),
        }
    }

    /// Passed when there are no findings, else failed with no credit.
    pub fn from_findings(findings: Vec<Finding>) -> Self {
        if findings.is_empty() {
            Self::passed()
        } else {
            Self::failed(findings)
        }
    }

    /// Partial credit: `good` of `total` units comply. Passed only when all do (findings are
    /// then kept as notes). "0 of 0" never passes: with nothing to grade and no finding the
    /// item is [`absent`](Self::absent); with findings it fails.
    pub fn ratio(good: usize, total: usize, findings: Vec<Finding>) -> Self {
        if total == 0 {
            if findings.is_empty() {
                return Self::absent("nothing this item judges was found in the submission (0 of 0)");
            }
            return Self::failed(findings);
        }
        if good >= total {
            let mut r = Self::passed();
            r.findings = findings;
            return r;
        }
        CheckResult {
            outcome: Outcome::Failed,
            credit: Some(good as f64 / total as f64),
            reason: None,
            absent: false,
            evidence: Vec::new(),
            findings,
            claims: Vec::new(),
        }
    }

    /// Not applicable: the input this item judges exists, but holds nothing for it to judge
    /// (no deprecated operation for the deprecation rule). Left out of the score, with `why`.
    /// Never use it for a missing input: that is [`absent`](Self::absent).
    pub fn not_applicable(why: impl Into<String>) -> Self {
        CheckResult {
            outcome: Outcome::Skipped,
            credit: None,
            reason: Some(why.into()),
            absent: false,
            evidence: Vec::new(),
            findings: Vec::new(),
            claims: Vec::new(),
        }
    }

    /// Absent: what this item judges is not in the submission (`what`: "no OpenAPI
    /// documents", "no event catalog"). Fails with no credit; the engine leaves it out of the
    /// score only when the rubric item says `when_absent = "skip"`.
    pub fn absent(what: impl Into<String>) -> Self {
        CheckResult {
            outcome: Outcome::Failed,
            credit: Some(0.0),
            reason: Some(what.into()),
            absent: true,
            evidence: Vec::new(),
            findings: Vec::new(),
            claims: Vec::new(),
        }
    }

    /// Failed with no credit for a reason another item reports in detail: the learner's
    /// system could not be exercised (its services exited, were not found or never became
    /// ready; PRB001 says why), or the input is there but broken (the event catalog does not
    /// load; EVT001 says where). Fails whatever the rubric says about absence, and adds no
    /// finding of its own, so one cause gives one annotation. Grader-side causes are
    /// [`errored`](Self::errored).
    pub fn failed_because(why: impl Into<String>) -> Self {
        CheckResult {
            outcome: Outcome::Failed,
            credit: Some(0.0),
            reason: Some(why.into()),
            absent: false,
            evidence: Vec::new(),
            findings: Vec::new(),
            claims: Vec::new(),
        }
    }

    pub fn errored(reason: impl Into<String>) -> Self {
        CheckResult {
            outcome: Outcome::Errored,
            credit: Some(0.0),
            reason: Some(reason.into()),
            absent: false,
            evidence: Vec::new(),
            findings: Vec::new(),
            claims: Vec::new(),
        }
    }

    pub fn with_evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence.push(evidence.into());
        self
    }

    /// Adds each line of evidence, in order.
    /// The design claims judged, with their sources (carried by the JSON report).
    pub fn with_claims(mut self, claims: impl IntoIterator<Item = Claim>) -> Self {
        self.claims.extend(claims);
        self
    }

    pub fn with_evidence_lines(mut self, lines: impl IntoIterator<Item = String>) -> Self {
        for l in lines {
            self = self.with_evidence(l);
        }
        self
    }
}
