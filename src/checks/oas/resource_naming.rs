use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::collection_not_paginated::{self as cnp, collection};
use super::walk::{self, check_apis, is_version_segment, segments, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct ResourceNaming;

const DOCS: &str = r#"## What it checks
That paths name resources, the REST way. For every path under `paths`, each literal segment
(not a `{parameter}`, a version segment such as `v1`, or an exempt segment such as `health`
or `api`) is checked:

- no verbs: a segment whose first word is in `verbs` (`getOrders`, `create-order`,
  `/orders/{id}/delete`) puts the action in the URL, where the HTTP method belongs;
- plural collections: a segment followed by a `{parameter}` (`/orders/{orderId}`), or that a
  GET returns as a collection, is plural (last word: `order-lines`); words in `uncountable`
  pass, and so does a segment that starts with a preposition (`by`, `for`, `of`, `from`,
  ...: `/items/by/{ids}`, `/orders/by-customer/{customerId}`), which qualifies a lookup;
- one case style: with `case = "consistent"` (the default) all multi-word segments of the
  document share one style (kebab-case is recommended), `"kebab"`, `"snake"` or `"camel"`
  require that style;
- no trailing slash.

One finding per path lists its problems. Partial credit: paths without problems / paths
(paths made only of exempt segments are not counted).

## Why it matters
Resource-oriented URLs are the core of RESTful API design (Week 2): the noun names the
resource, the HTTP method the action, so caches, gateways (Week 4) and clients can reason
about safety and idempotency. Verbs in paths turn an API into remote procedure calls, and
inconsistent naming makes every consumer look up each path.

## How to fix
Rename the segment: `/v1/orders` with `POST` instead of `/v1/createOrder`, `/v1/orders/{id}`
instead of `/v1/order/{id}`, `/v1/order-lines` consistently in kebab-case.

## Example
```yaml
paths:
  /v1/orders: {}                          # GET lists, POST creates
  /v1/orders/{orderId}: {}                # GET, PATCH, DELETE
  /v1/orders/{orderId}/order-lines: {}
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// `consistent`, `kebab`, `snake` or `camel`.
    pub case: String,
    /// Words that make a segment a verb when it starts with them.
    pub verbs: Vec<String>,
    /// Nouns that are fine in the singular for a collection.
    pub uncountable: Vec<String>,
    /// Segments that are not checked.
    pub exempt_segments: Vec<String>,
}

/// Prepositions that make a segment a qualifier of a lookup, not a collection.
const QUALIFIERS: &[&str] = &[
    "by", "for", "of", "from", "to", "with", "via", "per", "since", "until", "before", "after", "at", "in", "on",
];

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

impl Default for Params {
    fn default() -> Self {
        let mut exempt = walk::default_exempt();
        exempt.extend(strings(&["api", "rest"]));
        Params {
            case: "consistent".into(),
            verbs: strings(&[
                "get", "create", "update", "delete", "remove", "list", "do", "add", "set", "fetch", "insert", "modify",
                "edit", "save", "retrieve", "put", "post", "make", "perform", "execute", "process",
            ]),
            uncountable: strings(&[
                "data",
                "metadata",
                "information",
                "info",
                "inventory",
                "stock",
                "feedback",
                "equipment",
                "software",
                "media",
                "people",
                "children",
                "men",
                "women",
                "criteria",
                "indices",
                "matrices",
                "feet",
                "teeth",
                "mice",
                "geese",
                "me",
                "auth",
                "search",
            ]),
            exempt_segments: exempt,
        }
    }
}

impl TypedCheck for ResourceNaming {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS013",
        name: "resource-naming",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A path has verbs, singular collection names, mixed case styles or a trailing slash",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "case",
                ty: "string",
                description: "`consistent` (one style per document), `kebab`, `snake` or `camel`",
            },
            ParamDoc {
                name: "verbs",
                ty: "array of strings",
                description: "words that make a path segment a verb when it starts with them",
            },
            ParamDoc {
                name: "uncountable",
                ty: "array of strings",
                description: "nouns accepted in the singular for a collection",
            },
            ParamDoc {
                name: "exempt_segments",
                ty: "array of strings",
                description: "path segments that are not checked (health, metrics, api, ...)",
            },
        ],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        if !["consistent", "kebab", "snake", "camel"].contains(&p.case.as_str()) {
            return CheckResult::errored(format!(
                "parameter `case = \"{}\"`: expected `consistent`, `kebab`, `snake` or `camel`",
                p.case
            ));
        }
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish("paths are named as resources", "the documents have no resource paths"),
            Err(r) => r,
        }
    }
}

/// The case style of a segment; `None` for a single lower-case word (fits every style).
pub fn style(seg: &str) -> Option<&'static str> {
    let has_upper = seg.chars().any(|c| c.is_ascii_uppercase());
    let has_dash = seg.contains('-');
    let has_under = seg.contains('_');
    match (has_upper, has_dash, has_under) {
        (false, false, false) => None,
        (false, true, false) => Some("kebab"),
        (false, false, true) => Some("snake"),
        (true, false, false) if seg.starts_with(|c: char| c.is_ascii_lowercase()) => Some("camel"),
        (true, false, false) if seg.chars().all(|c| !c.is_ascii_lowercase()) => Some("upper"),
        (true, false, false) => Some("pascal"),
        _ => Some("mixed"),
    }
}

/// The words of a segment, lower case (`orderLines`, `order-lines`, `order_lines` -> order, lines).
pub fn words(seg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in seg.chars() {
        if c == '-' || c == '_' || c == '.' || c == ' ' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A rough English plural test.
pub fn is_plural(word: &str, uncountable: &[String]) -> bool {
    let w = word.to_ascii_lowercase();
    if uncountable.iter().any(|u| u.eq_ignore_ascii_case(&w)) {
        return true;
    }
    w.len() > 1 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is")
}

fn is_param(seg: &str) -> bool {
    seg.starts_with('{') && seg.ends_with('}')
}

pub fn evaluate(api: &Api<'_>, p: &Params, t: &mut Tally) {
    let Some(paths) = api.root().get("paths") else { return };
    let ops = api.operations();
    let checked = |seg: &str| {
        !is_param(seg) && !is_version_segment(seg) && !p.exempt_segments.iter().any(|e| e.eq_ignore_ascii_case(seg))
    };
    // The document's dominant style, for `consistent`.
    let mut styles: BTreeMap<&str, usize> = BTreeMap::new();
    for (path, _) in paths.entries() {
        for seg in segments(path).filter(|s| checked(s)) {
            if let Some(s) = style(seg) {
                *styles.entry(s).or_default() += 1;
            }
        }
    }
    let wanted: Option<&str> = match p.case.as_str() {
        "consistent" => styles
            .iter()
            .filter(|(s, _)| **s != "mixed")
            .max_by_key(|(s, n)| (**n, **s == "kebab"))
            .map(|(s, _)| *s),
        other => Some(other),
    };
    for (path, node) in paths.entries() {
        let segs: Vec<&str> = segments(path).collect();
        if !segs.iter().any(|s| checked(s)) {
            continue;
        }
        let mut problems: Vec<String> = Vec::new();
        if path.len() > 1 && path.ends_with('/') {
            problems.push("has a trailing slash".into());
        }
        let returns_collection = ops
            .iter()
            .filter(|o| o.path == path)
            .any(|o| collection(api, o, &cnp::Params::default().item_properties).is_some());
        for (i, seg) in segs.iter().enumerate() {
            if !checked(seg) {
                continue;
            }
            let ws = words(seg);
            if let Some(first) = ws.first() {
                if p.verbs.iter().any(|v| v.eq_ignore_ascii_case(first)) {
                    problems.push(format!(
                        "`{seg}` is a verb (`{first}`): let the HTTP method say the action"
                    ));
                    continue;
                }
            }
            // A segment that starts with a preposition (`/items/by/{ids}`, `/orders/by-customer/{id}`)
            // qualifies a lookup; it names no collection.
            let qualifier = ws.first().is_some_and(|w| QUALIFIERS.contains(&w.as_str()));
            let is_collection = !qualifier
                && (segs.get(i + 1).is_some_and(|n| is_param(n)) || (i + 1 == segs.len() && returns_collection));
            if is_collection {
                if let Some(last) = ws.last() {
                    if !is_plural(last, &p.uncountable) {
                        problems.push(format!(
                            "collection `{seg}` is singular: name collections with a plural noun"
                        ));
                    }
                }
            }
            match (style(seg), wanted) {
                (Some("mixed"), _) => problems.push(format!("`{seg}` mixes case styles")),
                (Some(s), Some(w)) if s != w => {
                    problems.push(format!("`{seg}` is {s} case, not {w} case like the rest of the API"))
                }
                _ => {}
            }
        }
        t.unit(problems.is_empty());
        if !problems.is_empty() {
            t.issue(
                &node,
                Some(format!("`{path}`")),
                problems.join("; "),
                "name resources with plural nouns in one case style (kebab-case recommended): `/v1/orders/{orderId}/order-lines`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_styles_plurals() {
        assert_eq!(words("orderLines"), vec!["order", "lines"]);
        assert_eq!(words("order-lines"), vec!["order", "lines"]);
        assert_eq!(words("order_lines"), vec!["order", "lines"]);
        assert_eq!(style("orders"), None);
        assert_eq!(style("order-lines"), Some("kebab"));
        assert_eq!(style("orderLines"), Some("camel"));
        assert_eq!(style("OrderLines"), Some("pascal"));
        assert_eq!(style("order_lines-x"), Some("mixed"));
        let u = Params::default().uncountable;
        for w in ["orders", "analytics", "data", "inventory", "news"] {
            assert!(is_plural(w, &u), "{w}");
        }
        for w in ["order", "address", "status", "analysis"] {
            assert!(!is_plural(w, &u), "{w}");
        }
    }
}
