use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::support::{capped, change_finding, compare, versions};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, ParamDoc, TypedCheck};
use crate::evo::{policy, Kind};

pub struct BreakingChange;

const DOCS: &str = r#"## What it checks
That each service which declares `previous_openapi` (its previous released API) evolved to
its current `openapi` without breaking existing clients. Both documents are compared by the
same engine as `grade diff`: removed paths, operations, parameters, response properties,
media types and statuses; new required parameters or request properties; narrowed request
types, enums and bounds; widened response types and new response enum values; stricter
security; changed or removed servers; and more (`grade diff` and docs/diff.md list every
kind of change and how it is classified). A change inside a shared schema is reported once,
with the operations it affects.

Each breaking change is a finding at its place in the new document, with its place in the
previous one. Partial credit: services without breaking changes / services compared. Skipped
when no service declares `previous_openapi`.

## Why it matters
Week 2 ("Design evolutionary API strategies", lab "Design backward-compatible API
evolution"): consumers upgrade on their own schedule, so a provider must be able to release
without coordinating with every client. Additive change (new optional fields and
parameters, new operations), tolerant readers, and deprecation before removal are what make
independent deployment possible; a breaking change forces a new major version and a
migration (see EVO002 version-not-bumped).

## How to fix
Make the change additive: keep what clients use (mark it `deprecated: true`), add new
optional fields or parameters with server-side defaults, accept old values alongside new
ones, and never return values old clients cannot expect. Each finding says how for its kind
of change. When a break is unavoidable, publish it as a new major version (or under a new
`/v2` prefix) and keep the old contract working until clients move.

## Example
```yaml
# previous release (1.1.0)
Order:
  type: object
  required: [orderId, status]
  properties:
    orderId: {type: string}
    status: {type: string, enum: [PENDING, CONFIRMED]}
    paymentId: {type: string}
# compatible next release (1.2.0): paymentId kept (deprecated), a new optional field added
Order:
  type: object
  required: [orderId, status]
  properties:
    orderId: {type: string}
    status: {type: string, enum: [PENDING, CONFIRMED]}
    paymentId: {type: string, deprecated: true}
    customerNote: {type: string}
```
"#;

/// A change kind named in a rubric, checked against the catalog when the rubric loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindId(pub Kind);

impl Serialize for KindId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.id())
    }
}

impl<'de> Deserialize<'de> for KindId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        match Kind::from_id(id.trim()) {
            Some(k) => Ok(KindId(k)),
            None => Err(serde::de::Error::custom(UnknownKind(id))),
        }
    }
}

struct UnknownKind(String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown change kind `{}`", self.0)?;
        let ids = Kind::ALL.iter().filter(|k| k.breaking()).map(|k| k.id());
        if let Some(s) = crate::diag::did_you_mean(&self.0, ids) {
            write!(f, " (did you mean `{s}`?)")?;
        }
        write!(f, "; `grade diff` and docs/diff.md list the kinds")
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Breaking kinds not counted (e.g. `response-enum-value-added` for APIs that document
    /// their enums as open).
    pub ignore_kinds: Vec<KindId>,
    /// Do not count the breaking changes of a service released as a new major version (the
    /// versioning policy of EVO002 is met).
    pub allow_new_major: bool,
}

impl TypedCheck for BreakingChange {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVO001",
        name: "breaking-change",
        area: Area::Evo,
        kind: crate::checks::Kind::Static,
        summary: "An API changed incompatibly since its previous release (previous_openapi)",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "ignore_kinds",
                ty: "array of strings",
                description:
                    "breaking change kinds not counted, e.g. [\"response-enum-value-added\"] (ids from `grade diff`)",
            },
            ParamDoc {
                name: "allow_new_major",
                ty: "boolean",
                description: "accept the breaking changes of a service released as a new major version or /vN prefix",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let cmp = match compare(ctx) {
            Ok(c) => c,
            Err(skipped) => return skipped,
        };
        let ignored = |k: Kind| p.ignore_kinds.iter().any(|i| i.0 == k);
        let mut good = 0;
        let mut findings = Vec::new();
        let mut evidence = Vec::new();
        for c in &cmp.compared {
            let breaking: Vec<_> = c.diff.breaking().filter(|ch| !ignored(ch.kind)).collect();
            let compatible = c.diff.api_changes().filter(|ch| !ch.breaking()).count();
            let excused = p.allow_new_major && !breaking.is_empty() && policy::versioning(&c.diff).ok;
            let mut line = format!(
                "{}: {} ({}): {} breaking, {} compatible change{}",
                c.service,
                c.new_rel,
                versions(&c.diff),
                breaking.len(),
                compatible,
                if compatible == 1 { "" } else { "s" }
            );
            let ignored_count = c.diff.breaking().filter(|ch| ignored(ch.kind)).count();
            if ignored_count > 0 {
                line.push_str(&format!(" ({ignored_count} breaking of ignored kinds)"));
            }
            if excused {
                line.push_str(", accepted as a new major version");
            }
            evidence.push(line);
            if breaking.is_empty() || excused {
                good += 1;
                continue;
            }
            let fs: Vec<_> = breaking.iter().map(|ch| change_finding(c, ch)).collect();
            findings.extend(capped(fs, c.service));
        }
        let total = cmp.compared.len();
        let mut r = CheckResult::ratio(good, total, findings);
        r.evidence.push(format!(
            "{good} of {total} service{} evolve{} without breaking changes (compared with previous_openapi)",
            if total == 1 { "" } else { "s" },
            if total == 1 { "s" } else { "" }
        ));
        r.evidence.extend(evidence);
        r.evidence.extend(cmp.notes);
        r
    }
}
