use std::collections::BTreeMap;

use super::walk::{check_apis, Api, Node, RefError, Tally};
use crate::artifact::refs;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct UnresolvedRef;

const DOCS: &str = r#"## What it checks
That every `$ref` of each service's OpenAPI description resolves: local references
(`#/components/schemas/Order`, with JSON-pointer escapes `~1` and `~0` and percent-encoding),
`$anchor`s and `$id`s (OpenAPI 3.1), and references to other files of the submission
(`common.yaml#/components/schemas/Money`, relative to the file that holds the `$ref`), in the
root document and in every file it pulls in. A reference to a URL, or to a path that leaves the
submission folder, is a finding: the grader never fetches anything. A chain of references that
loops without reaching a definition is a finding too (a recursive schema is fine). Example
values are data, not references, and are not checked. Partial credit: resolving `$ref`s / all
`$ref`s; the same broken reference is reported once with its number of uses.

## Why it matters
A contract-first API (Week 2: "RESTful API design and OpenAPI specification", contract-first
workflows) is only a contract if tools can read all of it: a dangling `$ref` breaks code
generation, mock servers, documentation and contract tests, and a reference to a URL makes the
contract depend on a file outside the team's control and review.

## How to fix
Define the missing component or correct the reference (the finding suggests the closest
name). Copy externally hosted definitions into the submission and refer to them by relative
path.

## Example
```yaml
components:
  schemas:
    Order:
      properties:
        total: {$ref: '#/components/schemas/Money'}      # Money must exist
        address: {$ref: 'common.yaml#/components/schemas/Address'}   # a file of the submission
```
"#;

impl TypedCheck for UnresolvedRef {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS002",
        name: "unresolved-ref",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A `$ref` does not resolve, or points at a URL or outside the submission",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish("`$ref`s resolve", "the documents have no `$ref`"),
            Err(r) => r,
        }
    }
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    // (file, reference) -> (first site, error, uses)
    let mut broken: BTreeMap<(&str, &str), (Node<'_>, RefError, usize)> = BTreeMap::new();
    for (rel, doc) in api.files() {
        let mut sites: Vec<(String, &str)> = Vec::new();
        refs::visit_refs(&doc.value, "", |p, r| sites.push((p.to_string(), r)));
        // Whether a reference resolves depends on the file and the reference only: judged at
        // its first site, counted at every site.
        let mut judged: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
        for (pointer, r) in sites {
            if let Some(&ok) = judged.get(r) {
                t.unit(ok);
                if !ok {
                    if let Some(b) = broken.get_mut(&(rel, r)) {
                        b.2 += 1;
                    }
                }
                continue;
            }
            let Some(value) = refs::value_at(&doc.value, &pointer) else {
                continue;
            };
            let node = Node {
                file: rel,
                doc,
                pointer,
                value,
            };
            let err = match api.resolve_one(rel, r) {
                Err(e) => Some(e),
                // Only a loop or an over-long chain starting here is this site's own problem.
                Ok(_) => match api.resolve(&node) {
                    Err(e @ (RefError::Cycle(_) | RefError::TooLong(_))) => Some(e),
                    _ => None,
                },
            };
            t.unit(err.is_none());
            judged.insert(r, err.is_none());
            if let Some(e) = err {
                let at = node.get("$ref").unwrap_or(node);
                broken.entry((rel, r)).or_insert((at, e, 0)).2 += 1;
            }
        }
    }
    let mut cycles: Vec<Vec<String>> = Vec::new();
    for ((_, r), (at, e, uses)) in broken {
        if let RefError::Cycle(members) = &e {
            // One finding per loop, not one per member or per reference leading into it.
            let mut members = members.clone();
            members.sort();
            if cycles.contains(&members) {
                continue;
            }
            cycles.push(members);
        }
        let (mut message, help) = e.describe(r);
        if uses > 1 {
            message.push_str(&format!(" ({uses} uses in this file)"));
        }
        t.issue(&at, None, message, help);
    }
    if api.external.truncated {
        t.evidence.push(format!(
            "{}: stopped loading referenced files after {} files",
            api.rel,
            api.external.docs.len()
        ));
    }
}
