use serde_json::Value;

use super::walk::{self, check_apis, is_exempt_path, is_version_segment, segments, squash, Api, Tally};
use crate::artifact::refs;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct UnversionedApi;

const DOCS: &str = r#"## What it checks
That each OpenAPI document has a versioning strategy and a meaningful version number (two
units per document, half the credit each):

- a strategy: a version segment in every path (`/v1/orders`, `/api/v2/...`, `/2024-01-15/...`;
  operational paths such as `/health` are exempt) or in a server URL
  (`https://api.example.com/v1`), a version header parameter (`Api-Version`,
  `Accept-Version`, ...), a version query parameter (`version`, `api-version`), or a
  versioned media type (`application/vnd.shop.v1+json`, `application/json; version=1`);
- `info.version` is semver-like (`1.2.0`, `1.2`, `v2.0.1`, `1.0.0-beta.1`) or a date
  (`2024-01-15`), not a bare `1`, `latest` or a placeholder `0.0.0`.

A document whose paths are only partly versioned is reported with the unversioned paths.
Documents without paths (OpenAPI 3.1 component libraries) are graded on `info.version` only.

## Why it matters
Week 2 ("Implement service versioning and compatibility", "Design evolutionary API
strategies") asks for an explicit strategy: consumers must be able to keep calling v1 while
v2 rolls out, and the gateway (Week 4) routes by version. `info.version` is how the contract
itself is versioned: the API-evolution checks compare it with the previous release to tell
whether a breaking change came with a new major version.

## How to fix
Pick one strategy and apply it everywhere (a `/v1` path prefix is the simplest), and set
`info.version` to the semantic version of the contract.

## Example
```yaml
info:
  title: Orders API
  version: 1.4.0
paths:
  /v1/orders: {}
  /v1/orders/{orderId}: {}
  /health: {}
```
"#;

/// Only the exempt operational endpoints are configurable.
pub type Params = walk::ExemptParams;

impl TypedCheck for UnversionedApi {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS006",
        name: "unversioned-api",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An API has no versioning strategy or no meaningful info.version",
        docs: DOCS,
        params: &[ParamDoc {
            name: "exempt_segments",
            ty: "array of strings",
            description: "path segments of operational endpoints (health, metrics, ...) that need no version",
        }],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "versioning requirements met (strategy and info.version, per document)",
                "nothing to check",
            ),
            Err(r) => r,
        }
    }
}

/// Why `v` is not a meaningful `info.version`, or `None` when it is.
pub fn version_problem(v: &str) -> Option<&'static str> {
    let s = v.trim();
    // A date version, as Stripe and GitHub use (`2024-06-20`, `2024-06-20.basil`): the
    // versioning policy of EVO002 and `grade diff` orders them by date.
    if crate::evo::policy::DateVersion::parse(s).is_some() {
        return None;
    }
    let core = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let core = core.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() < 2
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Some("is not a semantic version (MAJOR.MINOR.PATCH) or a date");
    }
    if parts.iter().all(|p| p.chars().all(|c| c == '0')) {
        return Some("is a placeholder");
    }
    None
}

fn is_version_name(name: &str) -> bool {
    squash(name).contains("version")
}

fn is_versioned_media(media: &str) -> bool {
    let m = media.to_ascii_lowercase();
    if m.contains("version=") || m.replace(' ', "").contains(";v=") {
        return true;
    }
    // application/vnd.shop.v1+json
    let base = m.split(';').next().unwrap_or("");
    base.contains("vnd.")
        && base
            .split(['.', '+', '/', '-'])
            .any(|part| part.len() > 1 && is_version_segment(part) && part.starts_with('v'))
}

fn server_versioned(url: &str) -> bool {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => url,
    };
    segments(path).any(is_version_segment)
}

pub fn evaluate(api: &Api<'_>, p: &Params, t: &mut Tally) {
    let root = api.root();
    // info.version
    match root.get("info").and_then(|i| i.get("version")) {
        Some(n) => {
            let shown = match n.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let why = match n.value {
                Value::String(s) => version_problem(s),
                _ => Some("is not a string"),
            };
            t.unit(why.is_none());
            if let Some(why) = why {
                t.issue(
                    &n,
                    None,
                    format!("`info.version: {shown}` {why}"),
                    "version the contract semantically, e.g. `version: 1.0.0` (bump MAJOR for breaking changes)",
                );
            }
        }
        None => {
            t.unit(false);
            let at = root.get("info").unwrap_or(root.clone());
            t.issue(
                &at,
                None,
                "`info.version` is missing",
                "add `version: 1.0.0` under `info`",
            );
        }
    }
    // Strategy.
    let paths: Vec<&str> = root
        .get("paths")
        .map(|ps| ps.entries().into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let business: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|path| !is_exempt_path(path, &p.exempt_segments))
        .collect();
    if business.is_empty() {
        return;
    }
    let by_path = |path: &str| {
        segments(path).take(4).any(|s| {
            is_version_segment(s) || (s.starts_with('{') && s.ends_with('}') && is_version_name(&s[1..s.len() - 1]))
        })
    };
    let servers = root
        .get("servers")
        .map(|s| s.items().iter().any(|srv| srv.str("url").is_some_and(server_versioned)))
        .unwrap_or(false);
    let mut header = false;
    let mut query = false;
    let mut media = false;
    for (_, doc) in api.files() {
        refs::walk_objects(&doc.value, "", |v| {
            if v.names {
                if v.key == Some("content") && v.object.keys().any(|k| is_versioned_media(k)) {
                    media = true;
                }
                return;
            }
            let name = v.object.get("name").and_then(Value::as_str).unwrap_or("");
            match v.object.get("in").and_then(Value::as_str) {
                Some("header") if is_version_name(name) => header = true,
                Some("query") if is_version_name(name) || name == "v" => query = true,
                _ => {}
            }
        });
    }
    let unversioned: Vec<String> = business
        .iter()
        .filter(|path| !by_path(path))
        .map(|s| format!("`{s}`"))
        .collect();
    let strategy = servers || header || query || media || unversioned.is_empty();
    t.unit(strategy);
    let mut used = Vec::new();
    if servers {
        used.push("server URL");
    }
    if unversioned.is_empty() {
        used.push("path prefix");
    }
    if header {
        used.push("header");
    }
    if query {
        used.push("query parameter");
    }
    if media {
        used.push("media type");
    }
    if !used.is_empty() {
        t.evidence.push(format!("versioned by {}", used.join(", ")));
    }
    if strategy {
        return;
    }
    let at = root.get("paths").unwrap_or(root.clone());
    if unversioned.len() < business.len() {
        t.issue(
            &at,
            None,
            format!(
                "{} of {} paths have no version segment: {}",
                unversioned.len(),
                business.len(),
                walk::list(&unversioned, 6)
            ),
            "apply the versioning strategy to every path, e.g. `/v1/...`",
        );
    } else {
        t.issue(
            &at,
            None,
            "no versioning strategy: no `/v1` path prefix or versioned server URL, no version header or query \
             parameter, no versioned media type",
            "prefix the paths with the major version (`/v1/orders`), or document a version header such as \
             `Api-Version`",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in [
            "1.0.0",
            "1.2",
            "v2.0.1",
            "1.0.0-beta.1",
            "2024-01-15",
            "2024-06-20.basil",
            "0.1.0",
        ] {
            assert_eq!(version_problem(ok), None, "{ok}");
        }
        for bad in ["1", "latest", "0.0.0", "v1", "1.0.0.0", "", "1.x", "2024-13-45"] {
            assert!(version_problem(bad).is_some(), "{bad}");
        }
        assert!(is_versioned_media("application/vnd.shop.v1+json"));
        assert!(is_versioned_media("application/json; version=2"));
        assert!(!is_versioned_media("application/vnd.api+json"));
        assert!(server_versioned("https://api.example.com/v1"));
        assert!(!server_versioned("https://v1.example.com/"));
    }
}
