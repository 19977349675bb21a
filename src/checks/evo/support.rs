//! What the EVO checks share: the services that declare a `previous_openapi`, each compared
//! with its current `openapi` by the diff engine ([`crate::evo`]), and how a change becomes
//! a finding in the learner's new document.

use crate::artifact::openapi::OpenApiDoc;
use crate::artifact::Loaded;
use crate::checks::{CheckResult, Ctx, Finding};
use crate::evo::{self, Change, Diff, Input, Site};

/// Findings listed per service before the rest are summarised.
pub const MAX_FINDINGS_PER_SERVICE: usize = 25;

/// Operations named in a finding before "and N more".
const MAX_OPS: usize = 3;

/// One service whose previous and current documents were compared.
pub struct Compared<'c> {
    pub service: &'c str,
    pub old_rel: &'c str,
    pub new_rel: &'c str,
    pub new_doc: &'c OpenApiDoc,
    pub diff: Diff,
}

/// The comparisons, and notes about services that could not be compared.
pub struct Comparisons<'c> {
    pub compared: Vec<Compared<'c>>,
    pub notes: Vec<String>,
}

/// Compares every service that declares `previous_openapi`. `Err` with a skipped result when
/// no service can be compared.
pub fn compare<'c>(ctx: &Ctx<'c>) -> Result<Comparisons<'c>, CheckResult> {
    let mut compared = Vec::new();
    let mut notes = Vec::new();
    let mut declared = 0;
    for s in &ctx.submission.services {
        let Some(prev) = &s.previous_openapi else { continue };
        declared += 1;
        let name = s.name.name.as_str();
        let Some(cur) = &s.openapi else {
            notes.push(format!(
                "service `{name}`: not compared, it declares `previous_openapi` but no `openapi`"
            ));
            continue;
        };
        let load = |rel: &str| ctx.artifacts.openapi.get_key_value(rel);
        match (load(&prev.rel), load(&cur.rel)) {
            (Some((old_rel, Loaded::Ok(old))), Some((new_rel, Loaded::Ok(new)))) => {
                let root = &ctx.submission.root;
                let diff = evo::diff_under(
                    Input {
                        root,
                        rel: old_rel,
                        doc: old,
                    },
                    Input {
                        root,
                        rel: new_rel,
                        doc: new,
                    },
                    &ctx.submission.limits,
                );
                compared.push(Compared {
                    service: name,
                    old_rel,
                    new_rel,
                    new_doc: new,
                    diff,
                });
            }
            (old, new) => {
                let why = |r: &str, l: Option<(&String, &Loaded<OpenApiDoc>)>| match l {
                    Some((_, Loaded::Ok(_))) => None,
                    Some((_, Loaded::Invalid(_))) => Some(format!("`{r}` does not load (see OAS001)")),
                    _ => Some(format!("`{r}` is missing (see SUB002)")),
                };
                let reasons: Vec<String> = [why(&prev.rel, old), why(&cur.rel, new)]
                    .into_iter()
                    .flatten()
                    .collect();
                notes.push(format!("service `{name}`: not compared, {}", reasons.join(" and ")));
            }
        }
    }
    if declared == 0 {
        return Err(CheckResult::absent(
            "no service declares `previous_openapi` (the previous release of its API) to compare with",
        ));
    }
    if compared.is_empty() {
        return Err(CheckResult::failed_because(format!(
            "no service could be compared: {}",
            notes.join("; ")
        )));
    }
    Ok(Comparisons { compared, notes })
}

/// A finding for a change, at its place in the new document (the old place in the message).
pub fn change_finding(c: &Compared<'_>, change: &Change) -> Finding {
    let mut message = format!("{} [{}]", change.message, change.kind.id());
    if let Some(ops) = change.operations_text(MAX_OPS) {
        message.push_str(&format!(" {ops}"));
    }
    let (site, other) = match (&change.new, &change.old) {
        (Some(n), old) => (Some(n), old.as_ref()),
        (None, Some(o)) => (Some(o), None),
        (None, None) => (None, None),
    };
    if let Some(o) = other {
        message.push_str(&format!(" (previous release: {}:{})", o.file, o.line));
    }
    let mut f = match site {
        Some(s) => site_finding(s, message),
        None => Finding::new(message).in_file(c.new_rel),
    };
    f.help = Some(change.kind.help().to_string());
    f
}

fn site_finding(s: &Site, message: String) -> Finding {
    let mut f = Finding::new(message).in_file(s.file.clone());
    f.line = Some(s.line);
    f.column = Some(s.column);
    f.pointer = Some(s.pointer.clone());
    f.span = Some((s.offset, s.len));
    f
}

/// Caps the findings of one service: the first ones, then one that summarises the rest.
pub fn capped(mut findings: Vec<Finding>, service: &str) -> Vec<Finding> {
    if findings.len() <= MAX_FINDINGS_PER_SERVICE {
        return findings;
    }
    let rest = findings.split_off(MAX_FINDINGS_PER_SERVICE - 1);
    let mut summary = rest[0].clone();
    summary.message = format!(
        "and {} more breaking changes in service `{service}` (run `grade diff` on its two documents to see them all)",
        rest.len()
    );
    findings.push(summary);
    findings
}

/// `1.1.0 -> 1.2.0`.
pub fn versions(d: &Diff) -> String {
    let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(no version)".into());
    format!("{} -> {}", v(&d.old.version), v(&d.new.version))
}
