//! SARIF 2.1.0 for code-scanning tools (GitHub code scanning, IDE viewers).
//!
//! One run per grading. `tool.driver.rules` are the checks of the rubric, with their
//! registry documentation as help; `results` are the findings of failed items (`error`, or
//! `warning` when the item earned partial credit) and the notes of passed items (`note`), each
//! located at file/line/column with a `partialFingerprints` entry that survives line moves;
//! a failed item without findings gives one result without a location. Items the grader could
//! not evaluate are `toolExecutionNotifications` of the invocation; skipped items give nothing.
//! `automationDetails.id` is `grade/<checkpoint>/`, so each checkpoint is its own category.
//!
//! Typed structs for exactly the subset emitted (see docs/reports.md).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{ItemReport, Report};
use crate::finding::{Finding, Outcome};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Name of the fingerprint in `partialFingerprints` (versioned as SARIF recommends).
pub const FINGERPRINT: &str = "gradeFinding/v1";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    automation_details: AutomationDetails,
    invocations: Vec<Invocation>,
    column_kind: &'static str,
    results: Vec<SarifResult>,
    properties: RunProperties,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: &'static str,
    short_description: Message,
    full_description: Message,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

impl Message {
    fn new(text: impl Into<String>) -> Self {
        Message { text: text.into() }
    }
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    /// The rubric section the item is graded in.
    section: String,
    weight: f64,
    required: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AutomationDetails {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
    descriptor: Descriptor,
}

#[derive(Serialize)]
struct Descriptor {
    id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
}

#[derive(Serialize)]
struct ResultProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
    points: f64,
    max_points: f64,
}

#[derive(Serialize)]
struct RunProperties {
    rubric: String,
    rubric_version: String,
    rubric_sha256: String,
    score: f64,
    threshold: f64,
    verdict: crate::score::Verdict,
    passed: bool,
}

/// Percent-encodes a relative path into a URI reference (`/` kept).
fn uri(path: &str) -> String {
    let out = crate::files::pct::encode(path, crate::files::pct::PATH);
    if path.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

fn fingerprint(item: &ItemReport, f: Option<&Finding>) -> String {
    let mut h = Sha256::new();
    h.update(item.check.as_bytes());
    if let Some(f) = f {
        h.update([0]);
        h.update(f.file.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(f.pointer.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(f.message.as_bytes());
    }
    crate::rubric::hex(&h.finalize()[..16])
}

fn level(item: &ItemReport) -> &'static str {
    match item.outcome {
        _ if item.fails_gate() => "error",
        Outcome::Failed if item.partial() => "warning",
        Outcome::Failed => "error",
        _ => "note",
    }
}

pub fn render(report: &Report) -> String {
    let (rule_ids, rules) = rules(report);
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for item in &report.items {
        let rule_index = rule_ids.iter().position(|r| *r == item.check).unwrap_or(0);
        item_results(report, item, rule_index, &mut results, &mut notifications);
    }

    let category = report.checkpoint.as_deref().unwrap_or(&report.rubric.id);
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: report.grader.name,
                    version: report.grader.version,
                    semantic_version: report.grader.version,
                    rules,
                },
            },
            automation_details: AutomationDetails {
                id: format!("grade/{category}/"),
            },
            invocations: vec![Invocation {
                execution_successful: report.complete,
                tool_execution_notifications: notifications,
            }],
            column_kind: "unicodeCodePoints",
            results,
            properties: RunProperties {
                rubric: report.rubric.id.clone(),
                rubric_version: report.rubric.version.clone(),
                rubric_sha256: report.rubric.sha256.clone(),
                score: report.score,
                threshold: report.threshold,
                verdict: report.verdict,
                passed: report.passed,
            },
        }],
    };
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// The rules: the rubric's checks, in rubric order, each once; with their ids in that order.
fn rules(report: &Report) -> (Vec<&'static str>, Vec<Rule>) {
    let mut rule_ids: Vec<&'static str> = Vec::new();
    let mut rules = Vec::new();
    for item in &report.items {
        if rule_ids.contains(&item.check) {
            continue;
        }
        rule_ids.push(item.check);
        let info = crate::checks::find(item.check).map(|c| c.info());
        let docs = info.map(|i| i.docs.trim()).unwrap_or("");
        let area = info.map(|i| i.area.prefix()).unwrap_or("");
        let default_level = if item.required { "error" } else { "warning" };
        rules.push(Rule {
            id: item.check,
            name: item.name,
            short_description: Message::new(item.summary),
            full_description: Message::new(format!("{}: {}", item.name, item.summary)),
            help: Help {
                text: if docs.is_empty() {
                    item.summary.to_string()
                } else {
                    docs.to_string()
                },
                markdown: if docs.is_empty() {
                    item.summary.to_string()
                } else {
                    docs.to_string()
                },
            },
            default_configuration: Configuration { level: default_level },
            properties: RuleProperties {
                tags: [area, "grade"]
                    .iter()
                    .filter(|t| !t.is_empty())
                    .map(|t| t.to_string())
                    .collect(),
                section: item.section.clone(),
                weight: item.weight,
                required: item.required,
            },
        });
    }
    (rule_ids, rules)
}

/// The results (and, for an errored item, the notification) of one item.
fn item_results(
    report: &Report,
    item: &ItemReport,
    rule_index: usize,
    results: &mut Vec<SarifResult>,
    notifications: &mut Vec<Notification>,
) {
    let props = |f: Option<&Finding>| ResultProperties {
        pointer: f.and_then(|f| f.pointer.clone()),
        help: f.and_then(|f| f.help.clone()),
        points: item.points,
        max_points: item.max_points,
    };
    match item.outcome {
        Outcome::Skipped => {}
        Outcome::Errored => {
            let text = format!(
                "{} {} could not be evaluated: {}",
                item.check,
                item.name,
                item.reason.as_deref().unwrap_or("no reason given")
            );
            if item.fails_gate() {
                results.push(SarifResult {
                    rule_id: item.check,
                    rule_index,
                    level: level(item),
                    message: Message::new(format!("{text} (a required item: the checkpoint cannot pass)")),
                    locations: Vec::new(),
                    partial_fingerprints: [(FINGERPRINT, fingerprint(item, None))].into_iter().collect(),
                    properties: props(None),
                });
            }
            notifications.push(Notification {
                level: "error",
                message: Message::new(text),
                descriptor: Descriptor { id: item.check },
            });
        }
        Outcome::Failed if item.findings.is_empty() => {
            let mut text = item.summary.to_string();
            if !item.evidence.is_empty() {
                text = format!("{text} ({})", item.evidence.join("; "));
            }
            results.push(SarifResult {
                rule_id: item.check,
                rule_index,
                level: level(item),
                message: Message::new(text),
                locations: Vec::new(),
                partial_fingerprints: [(FINGERPRINT, fingerprint(item, None))].into_iter().collect(),
                properties: props(None),
            });
        }
        Outcome::Failed | Outcome::Passed => {
            for f in &item.findings {
                let mut text = f.message.clone();
                if let Some(h) = &f.help {
                    text = format!("{text} Fix: {h}");
                }
                results.push(SarifResult {
                    rule_id: item.check,
                    rule_index,
                    level: level(item),
                    message: Message::new(text),
                    locations: locations(report, f),
                    partial_fingerprints: [(FINGERPRINT, fingerprint(item, Some(f)))].into_iter().collect(),
                    properties: props(Some(f)),
                });
            }
        }
    }
}

/// Where a finding is: its file and, when known, line and column.
fn locations(report: &Report, f: &Finding) -> Vec<Location> {
    f.file
        .as_ref()
        .map(|file| Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri(&report.path_of(file)),
                },
                region: f.line.filter(|l| *l > 0).map(|l| Region {
                    start_line: l,
                    start_column: f.column.filter(|c| *c > 0),
                }),
            },
        })
        .into_iter()
        .collect()
}
