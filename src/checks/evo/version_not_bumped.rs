use serde::{Deserialize, Serialize};

use super::support::{compare, versions};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::evo::policy::{self, Bump};

pub struct VersionNotBumped;

const DOCS: &str = r#"## What it checks
That each service which declares `previous_openapi` follows the versioning policy between
that release and its current `openapi` (docs/diff.md, "Versioning policy"):

- a **breaking** change (see EVO001 breaking-change) comes with a new version: a new major
  version in `info.version` (`1.4.0` to `2.0.0`; in `0.y.z`, the minor number), or, for an
  API versioned by date as GitHub (`2022-11-28`) and Stripe (`2024-06-20.basil`) version
  theirs, a later date (`2024-06-20` to `2024-09-30`), the old date version staying available
  to the clients that use it; or a higher version prefix in the paths or server URLs (`/v1`
  to `/v2`), as long as the operations still published under the old prefix are left as they
  were (a schema shared by `/v1` and `/v2` that changes breaks `/v1` clients);
- **compatible** changes come with a higher `info.version` (a new minor version for
  additions, `1.4.0` to `1.5.0`), so that consumers and the gateway can tell releases apart
  (parameter `compatible_needs_bump`); a date version may stay the same, as date-versioned
  APIs add compatible changes to the current version;
- `info.version` never goes backwards (an earlier date counts), and must be a semantic
  version or a date version when the change breaks clients. Switching between the two
  (`1.4.0` to `2024-06-20`) starts a new version line and is accepted.

Changes to `info.version` and `openapi` themselves are not API changes. The finding points
at `info.version` in the current document. Partial credit: services that follow the policy /
services compared. Skipped when no service declares `previous_openapi`.

## Why it matters
Week 2 ("Implement service versioning and compatibility"): the version number is how a
provider tells consumers what a release does to them. Semantic versioning makes it a
contract: same major, safe to upgrade; new major, migration needed. Date versions make the
same promise another way: clients ask for the version they were built against, and a
breaking change only reaches those who ask for the new date. A breaking change shipped under
a minor version (or the same date) breaks clients that trusted it, and an unchanged version
hides a new release from consumers, caches and contract tests.

## How to fix
Compare the two documents with `grade diff previous.yaml current.yaml`: it lists the changes
and says which version they need. Raise `info.version` accordingly (`2.0.0` for a breaking
change, `1.5.0` for additions; a later date for a breaking change to a date-versioned API),
or make the breaking changes compatible (EVO001 says how for each), or keep the old contract
under `/v1`, unchanged, and publish the breaking one under `/v2` with schemas of its own.

## Example
```yaml
# previous_openapi: info.version 1.4.0, paths under /v1
openapi: 3.1.0
info:
  title: Orders API
  version: 2.0.0      # a response property was removed: a new major version
paths:
  /v1/orders: {}
# a date-versioned API: info.version 2024-06-20 -> 2024-09-30 for a breaking change
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Compatible changes need a higher `info.version` too (not only breaking ones; a date
    /// version may stay the same).
    pub compatible_needs_bump: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            compatible_needs_bump: true,
        }
    }
}

/// Breaking changes named in a finding before "and N more".
const MAX_EXAMPLES: usize = 3;

impl TypedCheck for VersionNotBumped {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVO002",
        name: "version-not-bumped",
        area: Area::Evo,
        kind: Kind::Static,
        summary: "A new API release does not change info.version as its changes require (major for breaking ones)",
        docs: DOCS,
        params: &[ParamDoc {
            name: "compatible_needs_bump",
            ty: "boolean",
            description: "compatible changes also need a higher info.version (not only breaking ones); a date \
                          version may stay the same",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let cmp = match compare(ctx) {
            Ok(c) => c,
            Err(skipped) => return skipped,
        };
        let mut good = 0;
        let mut findings = Vec::new();
        let mut evidence = Vec::new();
        for c in &cmp.compared {
            let d = &c.diff;
            let v = policy::versioning(d);
            let unchanged_allowed =
                !p.compatible_needs_bump && v.required == Bump::Minor && d.old.version == d.new.version;
            let ok = v.ok || unchanged_allowed;
            evidence.push(format!(
                "{}: {} ({}): {}",
                c.service,
                c.new_rel,
                versions(d),
                if unchanged_allowed {
                    "compatible changes, version unchanged (allowed)".to_string()
                } else {
                    v.message.clone()
                }
            ));
            if ok {
                good += 1;
                continue;
            }
            let mut message = format!("service `{}`: {}", c.service, v.message);
            let breaking: Vec<&str> = d.breaking().map(|ch| ch.message.as_str()).collect();
            if !breaking.is_empty() {
                let shown: Vec<String> = breaking.iter().take(MAX_EXAMPLES).map(|m| m.to_string()).collect();
                message.push_str(&format!(
                    " ({}{})",
                    shown.join("; "),
                    if breaking.len() > MAX_EXAMPLES {
                        format!("; and {} more", breaking.len() - MAX_EXAMPLES)
                    } else {
                        String::new()
                    }
                ));
            }
            let doc = &c.new_doc.doc;
            let pointer = ["/info/version", "/info", ""]
                .into_iter()
                .find(|ptr| doc.locate_exact(ptr).is_some())
                .unwrap_or("");
            let mut f = ctx.document_finding(c.new_rel, doc, pointer, message);
            if let Some(h) = v.help {
                f = f.help(format!("{h}; previous release: {}", c.old_rel));
            }
            findings.push(f);
        }
        let total = cmp.compared.len();
        let mut r = CheckResult::ratio(good, total, findings);
        r.evidence.push(format!(
            "{good} of {total} service{} follow{} the versioning policy",
            if total == 1 { "" } else { "s" },
            if total == 1 { "s" } else { "" }
        ));
        r.evidence.extend(evidence);
        r.evidence.extend(cmp.notes);
        r
    }
}
