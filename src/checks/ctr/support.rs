//! Helpers shared by the CTR checks (this file is not a check): the pact files of the
//! submission, the provider's OpenAPI description, and matching a pact request to a documented
//! operation (servers' base paths stripped, path templates matched).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::artifact::openapi::OpenApiDoc;
use crate::artifact::pact::{self, PactFile};
use crate::artifact::Loaded;
use crate::checks::oas::walk::{Api, Operation};
use crate::checks::Ctx;
use crate::files::ArtifactRef;
use crate::submission::Service;

/// Most findings listed per pact file by one check; the rest are summarised.
pub const MAX_PER_FILE: usize = 25;

/// The pact files of the submission (every pattern's matches, each file once, in path order).
pub fn pact_refs<'c>(ctx: &Ctx<'c>) -> Vec<&'c ArtifactRef> {
    let mut seen = BTreeSet::new();
    let mut out: Vec<&ArtifactRef> = ctx
        .submission
        .pacts
        .iter()
        .flat_map(|p| p.files.iter())
        .filter(|r| seen.insert(r.rel.clone()))
        .collect();
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// Every pact file, loaded.
pub fn load_pacts<'c>(ctx: &Ctx<'c>) -> Vec<(&'c ArtifactRef, Loaded<PactFile>)> {
    pact_refs(ctx)
        .into_iter()
        .map(|r| (r, pact::load(r, &ctx.submission.limits)))
        .collect()
}

/// Why a check has nothing to do: no pact declared, or no pact file found.
pub fn no_pacts_reason(ctx: &Ctx<'_>) -> &'static str {
    if ctx.submission.pacts.is_empty() {
        "no pact files are declared (`[contracts] pacts`)"
    } else {
        "the declared pact patterns match no file (see SUB002 artifact-missing)"
    }
}

/// What a pact's provider name leads to.
pub enum Provider<'c> {
    /// A service with a readable OpenAPI document.
    Api {
        service: &'c Service,
        rel: &'c str,
        spec: &'c OpenApiDoc,
    },
    /// A service without an OpenAPI document in the manifest.
    NoSpec(&'c Service),
    /// A service whose OpenAPI document is missing or does not load.
    BadSpec(&'c Service, &'c str),
    /// No declared service has this name; a suggestion when one is close.
    Unknown(Option<&'c str>),
}

/// The service `name` names and its OpenAPI document.
pub fn provider<'c>(ctx: &Ctx<'c>, name: &str) -> Provider<'c> {
    let sub = ctx.submission;
    let Some(s) = sub.services.iter().find(|s| s.name.name == name) else {
        return Provider::Unknown(service_suggestion(ctx, name));
    };
    let Some(r) = &s.openapi else {
        return Provider::NoSpec(s);
    };
    match ctx.artifacts.openapi.get_key_value(&r.rel) {
        Some((rel, Loaded::Ok(spec))) => Provider::Api {
            service: s,
            rel: rel.as_str(),
            spec,
        },
        _ => Provider::BadSpec(s, r.rel.as_str()),
    }
}

/// A declared service whose name is close to `name` (case, separators, typos).
pub fn service_suggestion<'c>(ctx: &Ctx<'c>, name: &str) -> Option<&'c str> {
    let names = || ctx.submission.services.iter().map(|s| s.name.name.as_str());
    let squashed = crate::checks::oas::walk::squash(name);
    names()
        .find(|n| crate::checks::oas::walk::squash(n) == squashed)
        .or_else(|| crate::diag::did_you_mean(name, names()))
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// The base paths of the description's root `servers` (`/v1` for `https://api.example.com/v1`,
/// server variables replaced by their defaults), longest first; `""` when a server has none.
pub fn base_paths(api: &Api<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(servers) = api.root().get("servers") {
        for s in servers.items() {
            let Some(url) = s.str("url") else { continue };
            let mut url = url.to_string();
            if let Some(vars) = s.value.get("variables").and_then(Value::as_object) {
                for (k, v) in vars {
                    if let Some(d) = v.get("default").and_then(Value::as_str) {
                        url = url.replace(&format!("{{{k}}}"), d);
                    }
                }
            }
            let path = match url.find("://") {
                Some(i) => {
                    let rest = &url[i + 3..];
                    rest.find('/').map(|j| rest[j..].to_string()).unwrap_or_default()
                }
                None if url.starts_with("//") => {
                    let rest = &url[2..];
                    rest.find('/').map(|j| rest[j..].to_string()).unwrap_or_default()
                }
                None if url.starts_with('/') => url.clone(),
                None if url.is_empty() || url == "." => String::new(),
                None => format!("/{url}"),
            };
            let path = path
                .split(['?', '#'])
                .next()
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string();
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out.sort_by_key(|p| std::cmp::Reverse(p.len()));
    out
}

/// A documented path that a request path matches.
#[derive(Debug, Clone)]
pub struct PathMatch<'s> {
    /// The template as written.
    pub template: &'s str,
    /// The operations of the Path Item.
    pub ops: Vec<Operation<'s>>,
    /// Path parameter values (percent-decoded), by name.
    pub params: Vec<(String, String)>,
    /// The base path stripped before matching.
    pub base: String,
}

impl<'s> PathMatch<'s> {
    pub fn op(&self, method: &str) -> Option<&Operation<'s>> {
        self.ops.iter().find(|o| o.method.eq_ignore_ascii_case(method))
    }
}

/// The documented path that `path` (a request path, without query) matches: the most specific
/// template (most literal segments) among those that match after stripping a server base
/// path, preferring one that documents `method`.
pub fn match_path<'s>(api: &'s Api<'_>, ops: &[Operation<'s>], path: &str, method: &str) -> Option<PathMatch<'s>> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut candidates: Vec<(usize, bool, usize, PathMatch<'s>)> = Vec::new();
    let mut templates: Vec<&'s str> = Vec::new();
    for o in ops {
        if !templates.contains(&o.path) {
            templates.push(o.path);
        }
    }
    for base in base_paths(api) {
        let stripped: Option<&str> = if base.is_empty() {
            Some(path)
        } else {
            path.strip_prefix(base.as_str())
                .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        let mut tries: Vec<(&str, String)> = Vec::new();
        if let Some(s) = stripped {
            tries.push((if s.is_empty() { "/" } else { s }, base.clone()));
        }
        // A base path the consumer does not use (e.g. the gateway's prefix in `servers`).
        if !base.is_empty() {
            tries.push((path, String::new()));
        }
        for (p, b) in tries {
            for (order, t) in templates.iter().enumerate() {
                if let Some((params, literal)) = match_template(t, p) {
                    let pm = PathMatch {
                        template: t,
                        ops: ops.iter().filter(|o| o.path == *t).cloned().collect(),
                        params,
                        base: b.clone(),
                    };
                    let has = pm.op(method).is_some();
                    candidates.push((literal, has, usize::MAX - order, pm));
                }
            }
        }
    }
    candidates
        .into_iter()
        .max_by_key(|(literal, has, order, _)| (*has, *literal, *order))
        .map(|(_, _, _, m)| m)
}

/// Matches a path against a template: the path parameter values and the number of literal
/// segments, or `None`. A trailing slash is not significant.
pub fn match_template(template: &str, path: &str) -> Option<(Vec<(String, String)>, usize)> {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = Vec::new();
    let mut literal = 0;
    for (ts, ps) in t.iter().zip(&p) {
        if !ts.contains('{') {
            let decoded = crate::artifact::refs::percent_decode(ps);
            if ts != ps && *ts != decoded.as_ref() {
                return None;
            }
            if !ts.is_empty() {
                literal += 1;
            }
            continue;
        }
        params.extend(match_segment(ts, ps)?);
    }
    Some((params, literal))
}

/// Matches one segment with `{name}` placeholders (e.g. `{id}`, `{id}.json`, `{a}-{b}`).
fn match_segment(template: &str, seg: &str) -> Option<Vec<(String, String)>> {
    // Split into literal text and variable names.
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push((false, &rest[..open]));
        }
        let close = rest[open..].find('}')? + open;
        parts.push((true, &rest[open + 1..close]));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push((false, rest));
    }
    let mut out = Vec::new();
    let mut s = seg;
    let mut i = 0;
    while i < parts.len() {
        let (var, text) = parts[i];
        if !var {
            s = s.strip_prefix(text)?;
            i += 1;
            continue;
        }
        // A variable runs to the next literal (or the end of the segment).
        let value = match parts.get(i + 1) {
            Some((false, next)) => {
                let end = s.find(next)?;
                let v = &s[..end];
                s = &s[end..];
                v
            }
            _ => {
                let v = s;
                s = "";
                v
            }
        };
        if value.is_empty() {
            return None;
        }
        out.push((
            text.to_string(),
            crate::artifact::refs::percent_decode(value).into_owned(),
        ));
        i += 1;
    }
    s.is_empty().then_some(out)
}

/// The documented path closest to `path` (with or without a server base path), for "did you
/// mean".
pub fn closest_path<'s>(api: &Api<'_>, ops: &[Operation<'s>], path: &str) -> Option<&'s str> {
    let mut templates: Vec<&'s str> = ops.iter().map(|o| o.path).collect();
    templates.dedup();
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut variants = vec![path.to_string()];
    for base in base_paths(api) {
        if let Some(rest) = path
            .strip_prefix(base.as_str())
            .filter(|r| !base.is_empty() && r.starts_with('/'))
        {
            variants.insert(0, rest.to_string());
        }
    }
    for p in &variants {
        // Same number of segments, all but one alike (a typo in one segment).
        let segs: Vec<&str> = p.trim_end_matches('/').split('/').collect();
        let near = templates
            .iter()
            .filter_map(|t| {
                let ts: Vec<&str> = t.trim_end_matches('/').split('/').collect();
                if ts.len() != segs.len() {
                    return None;
                }
                let same = ts
                    .iter()
                    .zip(&segs)
                    .filter(|(a, b)| a == b || a.starts_with('{'))
                    .count();
                (same + 1 >= segs.len()).then_some((same, *t))
            })
            .max_by_key(|(same, _)| *same)
            .map(|(_, t)| t);
        if near.is_some() {
            return near;
        }
    }
    variants
        .iter()
        .find_map(|p| crate::diag::did_you_mean(p, templates.iter().copied()))
}

/// The documented operations a pact exercises on its provider, each once.
pub fn exercised<'s>(api: &'s Api<'_>, ops: &[Operation<'s>], pact: &PactFile) -> Vec<Operation<'s>> {
    let mut out: Vec<Operation<'s>> = Vec::new();
    for (_, h) in pact.http() {
        if let Some(m) = match_path(api, ops, &h.request.path, &h.request.method) {
            if let Some(op) = m.op(&h.request.method) {
                if !out.iter().any(|o| o.path == op.path && o.method == op.method) {
                    out.push(op.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(
            match_template("/v1/orders/{id}", "/v1/orders/ord%201"),
            Some((vec![("id".into(), "ord 1".into())], 2))
        );
        assert_eq!(match_template("/v1/orders/{id}", "/v1/orders/"), None);
        assert_eq!(match_template("/v1/orders", "/v1/orders/"), Some((vec![], 2)));
        assert_eq!(
            match_template("/files/{name}.{ext}", "/files/a.b.json"),
            Some((vec![("name".into(), "a".into()), ("ext".into(), "b.json".into())], 1))
        );
        assert_eq!(
            match_template("/r/report-{date}", "/r/report-2024"),
            Some((vec![("date".into(), "2024".into())], 1))
        );
        assert_eq!(match_template("/r/report-{date}", "/r/summary-2024"), None);
        assert_eq!(match_template("/a/{b", "/a/x"), None);
    }
}
