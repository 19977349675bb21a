//! Helpers shared by the OPS checks (this file is not a check): which services must be covered,
//! access to the SLO file with one consistent failure when it cannot be read, findings that
//! point into multi-document files, and number formatting for the evidence.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::artifact::document::Location;
use crate::artifact::openslo::{At, Duration, SloSet};
use crate::artifact::Loaded;
use crate::checks::{Ctx, Finding};
use crate::submission::{Role, Submission};

/// Which services a coverage check (SLOs, progressive delivery) expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Every gateway and BFF, plus every service one of them calls synchronously. Without any
    /// gateway or BFF, every service (clients then reach the services directly).
    #[default]
    External,
    /// Every gateway and BFF only (without any, every service).
    Edge,
    /// Every declared service.
    EveryService,
}

/// A service a coverage check expects, and why.
#[derive(Debug, Clone)]
pub struct Required {
    /// Index into `Submission::services`.
    pub service: usize,
    pub name: String,
    /// e.g. `gateway`, `bff`, `called by gateway`, `service`.
    pub why: String,
}

impl Required {
    /// "`orders` (called by gateway)", or "`orders`" when every service is expected.
    pub fn describe(&self) -> String {
        if self.why == "service" {
            format!("`{}`", self.name)
        } else {
            format!("`{}` ({})", self.name, self.why)
        }
    }
}

/// The services a coverage check expects.
#[derive(Debug, Clone)]
pub struct Expected {
    /// In manifest order.
    pub services: Vec<Required>,
    /// A noun phrase for messages: "externally facing services", "edge services", "services".
    pub noun: &'static str,
    /// How the rule was applied, for the evidence.
    pub rule: String,
}

/// The services `scope` selects.
pub fn required_services(sub: &Submission, scope: Scope) -> Expected {
    let edge: Vec<usize> = sub
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.role, Role::Gateway | Role::Bff))
        .map(|(i, _)| i)
        .collect();
    let all = |why: &str| {
        sub.services
            .iter()
            .enumerate()
            .map(|(i, s)| Required {
                service: i,
                name: s.name.name.clone(),
                why: why.to_string(),
            })
            .collect::<Vec<_>>()
    };
    if scope == Scope::EveryService {
        return Expected {
            services: all("service"),
            noun: "services",
            rule: format!(
                "every service is expected (scope = every-service): {} services",
                sub.services.len()
            ),
        };
    }
    if edge.is_empty() {
        return Expected {
            services: all("reached directly by clients"),
            noun: "externally facing services",
            rule: "no gateway or BFF is declared, so clients reach every service directly: all are expected"
                .to_string(),
        };
    }
    let mut why: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for &e in &edge {
        let s = &sub.services[e];
        let role = if s.role == Role::Bff { "bff" } else { "gateway" };
        why.entry(e).or_default().insert(0, role.to_string());
    }
    if scope == Scope::External {
        for &e in &edge {
            let caller = &sub.services[e].name.name;
            for callee in &sub.services[e].calls {
                if let Some(i) = sub.services.iter().position(|s| s.name.name == callee.name) {
                    let reasons = why.entry(i).or_default();
                    let r = format!("called by {caller}");
                    if !reasons.contains(&r) && !edge.contains(&i) {
                        reasons.push(r);
                    }
                }
            }
        }
    }
    let services: Vec<Required> = why
        .into_iter()
        .map(|(i, reasons)| Required {
            service: i,
            name: sub.services[i].name.name.clone(),
            why: join_reasons(&reasons),
        })
        .collect();
    let listed: Vec<String> = services.iter().map(|r| format!("{} ({})", r.name, r.why)).collect();
    let noun = if scope == Scope::Edge {
        "edge services"
    } else {
        "externally facing services"
    };
    Expected {
        rule: format!("{noun}: {}", listed.join(", ")),
        services,
        noun,
    }
}

/// `called by gateway, called by mobile-bff` -> `called by gateway and mobile-bff`.
fn join_reasons(reasons: &[String]) -> String {
    let (called, other): (Vec<&String>, Vec<&String>) = reasons.iter().partition(|r| r.starts_with("called by "));
    let mut parts: Vec<String> = other.into_iter().cloned().collect();
    if !called.is_empty() {
        let callers: Vec<&str> = called.iter().map(|r| &r["called by ".len()..]).collect();
        parts.push(format!("called by {}", and_list(&callers)));
    }
    parts.join(", ")
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(", "),
            last.as_ref()
        ),
    }
}

/// Names for a message, backquoted, at most eight then "and N more".
pub fn name_list<S: AsRef<str>>(names: &[S]) -> String {
    const SHOWN: usize = 8;
    let quoted: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{}`", n.as_ref())).collect();
    if names.len() > SHOWN {
        format!("{} and {} more", quoted.join(", "), names.len() - SHOWN)
    } else {
        and_list(&quoted)
    }
}

/// The SLO file, or the findings that say why there is none (not declared, missing, does not
/// parse). Checks that read SLOs fail with these findings; SUB002 reports the missing file as
/// an artifact too.
pub fn slos<'a>(ctx: &Ctx<'a>) -> Result<(&'a str, &'a SloSet), Vec<Finding>> {
    let declared = ctx.submission.slos.as_ref();
    match (declared, ctx.artifacts.slos.as_ref()) {
        (Some(_), Some((rel, Loaded::Ok(set)))) => Ok((rel.as_str(), set)),
        (Some(r), Some((rel, Loaded::Invalid(p)))) => {
            let mut f = ctx.problem_finding(rel, p);
            if f.line.is_none() {
                f = ctx
                    .manifest_finding(r.span.as_ref(), format!("{}: {}", r.rel, p.message))
                    .help(p.help.clone());
            }
            Err(vec![f])
        }
        (Some(r), _) => Err(vec![ctx
            .manifest_finding(
                r.span.as_ref(),
                format!("`{}` does not exist, so no SLO can be read", r.rel),
            )
            .help("create the OpenSLO file at this path, or correct the path")]),
        (None, _) => Err(vec![ctx
            .manifest_finding(None, "no service level objectives: `[operations] slos` is not set")
            .help(
                "write OpenSLO v1 documents and add `[operations] slos = \"ops/slos.yaml\"` to submission.toml",
            )]),
    }
}

/// An evidence line about documents of the SLO file that were ignored, if any.
pub fn ignored_documents(rel: &str, set: &SloSet) -> Option<String> {
    let n = set.stream.problems.len() + set.not_objects.len();
    (n > 0).then(|| {
        format!(
            "{n} document{} of {rel} ignored: {} not parse or {} not an OpenSLO object (see openslo-invalid)",
            plural(n),
            if n == 1 { "does" } else { "do" },
            if n == 1 { "is" } else { "are" },
        )
    })
}

/// A finding at `loc` of file `rel`, with `pointer` (inside its document).
pub fn located(rel: &str, loc: Location, pointer: &str, message: impl Into<String>) -> Finding {
    let mut f = Finding::new(message).in_file(rel);
    f.line = Some(loc.line);
    f.column = Some(loc.column);
    f.span = Some((loc.offset, loc.len));
    if !pointer.is_empty() {
        f.pointer = Some(pointer.to_string());
    }
    f
}

/// A finding at the node `at` of the SLO file.
pub fn at_node(rel: &str, set: &SloSet, at: &At, message: impl Into<String>) -> Finding {
    located(rel, set.locate(at), &at.pointer, message)
}

/// A finding at the key of the member `at` (the value when it has no key; the nearest
/// existing ancestor when it does not exist).
pub fn at_key(rel: &str, set: &SloSet, at: &At, message: impl Into<String>) -> Finding {
    let loc = set.stream.locate_key_or_value(at.part, &at.pointer);
    located(rel, loc, &at.pointer, message)
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `x` with at most `decimals` decimals, trailing zeros removed.
pub fn trim_number(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A ratio as a percentage: 0.9995 -> `99.95%`.
pub fn percent(ratio: f64) -> String {
    format!("{}%", trim_number(ratio * 100.0, 4))
}

/// The error budget of `target` over `window`, e.g. `0.1% of 30d = 43.2 minutes`.
pub fn budget(target: f64, window: &Duration) -> String {
    let minutes = (1.0 - target) * window.seconds as f64 / 60.0;
    let amount = if minutes < 1.0 {
        format!("{} seconds", trim_number(minutes * 60.0, 1))
    } else if minutes < 120.0 {
        format!("{} minutes", trim_number(minutes, 2))
    } else {
        format!(
            "{} minutes ({} hours)",
            trim_number(minutes, 1),
            trim_number(minutes / 60.0, 1)
        )
    };
    let about = if window.approximate {
        " (a month counted as 30 days, a quarter 90, a year 365)"
    } else {
        ""
    };
    format!("{} of {} = {amount}{about}", percent(1.0 - target), window.text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::openslo::parse_openslo_duration;

    fn d(s: &str) -> Duration {
        parse_openslo_duration(&serde_json::Value::String(s.into())).unwrap()
    }

    #[test]
    fn budgets() {
        assert_eq!(budget(0.999, &d("30d")), "0.1% of 30d = 43.2 minutes");
        assert_eq!(budget(0.9999, &d("30d")), "0.01% of 30d = 4.32 minutes");
        assert_eq!(budget(0.9995, &d("28d")), "0.05% of 28d = 20.16 minutes");
        assert_eq!(budget(0.99, &d("28d")), "1% of 28d = 403.2 minutes (6.7 hours)");
        assert_eq!(budget(0.999, &d("1h")), "0.1% of 1h = 3.6 seconds");
        assert_eq!(percent(0.9995), "99.95%");
        assert_eq!(percent(0.99), "99%");
    }

    #[test]
    fn lists() {
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
        assert_eq!(name_list(&["a"]), "`a`");
        let many: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert!(name_list(&many).ends_with("and 2 more"));
    }
}
