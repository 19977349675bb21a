use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::support::{capped, change_finding, compare, versions};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::evo::{policy, ChangeKind, Class};

pub struct BreakingChange;

const DOCS: &str = r#"## What it checks
That each service which declares `previous_openapi` (its previous released API) evolved to
its current `openapi` without breaking existing clients, or released its breaking changes as
a new version the way the versioning policy asks (EVO002 version-not-bumped): a new major
version (`1.4.0` to `2.0.0`), a later date version for a date-versioned API (`2024-06-20` to
`2024-09-30`), or a new `/vN` prefix in its paths or server URLs (`/v1` to `/v2`) that leaves
the operations still published under the old prefix as they were.

Both documents are compared by the same engine as `grade diff`: removed paths, operations,
parameters, response properties, media types and statuses; new required parameters or
request properties; narrowed request types, enums and bounds; widened response types and new
response enum values; stricter security; changed or removed servers; and more (`grade diff`
and docs/diff.md list every kind of change and how it is classified). A change inside a
shared schema is reported once, with the operations it affects. Possibly breaking changes (an
optional response property removed, a pattern changed: the documents cannot tell whether
clients break) are counted in the evidence and shown as notes, never as failures.

Each breaking change of a release that is not versioned is a finding at its place in the new
document, with its place in the previous one. The breaking changes of a versioned release
are not counted; when no service fails they are listed as notes, marked as accepted.
Parameter `allow_versioned_breaks = false` counts them too (any breaking change fails,
however it is released). Partial credit: services that pass / services compared. Skipped
when no service declares `previous_openapi`.

## Why it matters
Week 2 ("Design evolutionary API strategies", lab "Design backward-compatible API
evolution"): consumers upgrade on their own schedule, so a provider must be able to release
without coordinating with every client. Additive change (new optional fields and
parameters, new operations), tolerant readers, and deprecation before removal are what make
independent deployment possible. When a break is worth it, a new version (a new major
version, a `/v2` prefix, a new date version) lets consumers move when they choose while the
old version keeps serving them: that is the course's versioning policy, so such a release
passes here and EVO002 version-not-bumped checks its version.

## How to fix
Make the change additive: keep what clients use (mark it `deprecated: true`), add new
optional fields or parameters with server-side defaults, accept old values alongside new
ones, and never return values old clients cannot expect. Each finding says how for its kind
of change. When a break is unavoidable, release it as a new version and keep the old one
working until clients move: raise `info.version` to the next major version (`2.0.0`), or to
a later date for a date-versioned API, or publish the new contract under `/v2` and leave the
`/v1` operations as they were (give `/v2` its own schemas rather than changing shared ones).

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
# or, when paymentId must go: a new major version (1.1.0 stays deployed until clients move)
info: {title: Orders API, version: 2.0.0}
```
"#;

/// A change kind named in a rubric, checked against the catalog when the rubric loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindId(pub ChangeKind);

impl Serialize for KindId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.id())
    }
}

impl<'de> Deserialize<'de> for KindId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        match ChangeKind::from_id(id.trim()) {
            Some(k) => Ok(KindId(k)),
            None => Err(serde::de::Error::custom(UnknownKind(id))),
        }
    }
}

struct UnknownKind(String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown change kind `{}`", self.0)?;
        let ids = ChangeKind::ALL.iter().filter(|k| k.breaking()).map(|k| k.id());
        if let Some(s) = crate::diag::did_you_mean(&self.0, ids) {
            write!(f, " (did you mean `{s}`?)")?;
        }
        write!(f, "; `grade diff` and docs/diff.md list the kinds")
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Breaking kinds not counted (e.g. `response-enum-value-added` for APIs that document
    /// their enums as open).
    pub ignore_kinds: Vec<KindId>,
    /// Do not count the breaking changes of a service whose release follows the versioning
    /// policy (a new major version, date version or /vN prefix: what EVO002 accepts); list
    /// them as notes. `allow_new_major` is its former name (same meaning).
    #[serde(alias = "allow_new_major")]
    pub allow_versioned_breaks: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            ignore_kinds: Vec::new(),
            allow_versioned_breaks: true,
        }
    }
}

impl TypedCheck for BreakingChange {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVO001",
        name: "breaking-change",
        area: Area::Evo,
        kind: Kind::Static,
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
                name: "allow_versioned_breaks",
                ty: "boolean",
                description: "breaking changes released as a new version (major version, date version or /vN prefix, \
                              as EVO002 asks) are notes, not failures; false fails every breaking change",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let cmp = match compare(ctx) {
            Ok(c) => c,
            Err(skipped) => return skipped,
        };
        let ignored = |k: ChangeKind| p.ignore_kinds.iter().any(|i| i.0 == k);
        let mut good = 0;
        let mut findings = Vec::new();
        // The breaking changes of versioned releases: notes, shown when no service fails.
        let mut notes = Vec::new();
        let mut evidence = Vec::new();
        for c in &cmp.compared {
            let breaking: Vec<_> = c.diff.breaking().filter(|ch| !ignored(ch.kind)).collect();
            let compatible = c
                .diff
                .api_changes()
                .filter(|ch| ch.class() == Class::Compatible)
                .count();
            let possibly: Vec<_> = c.diff.of_class(Class::PossiblyBreaking).collect();
            let verdict = (p.allow_versioned_breaks && !breaking.is_empty()).then(|| policy::versioning(&c.diff));
            let maybe = match possibly.len() {
                0 => String::new(),
                n => format!("{n} possibly breaking, "),
            };
            let mut line = format!(
                "{}: {} ({}): {} breaking, {maybe}{} compatible change{}",
                c.service,
                c.new_rel,
                versions(&c.diff),
                breaking.len(),
                compatible,
                if compatible == 1 { "" } else { "s" }
            );
            // Possibly breaking changes (an optional response property removed, a pattern
            // changed) do not fail the check; they are shown as notes when nothing fails.
            let mut maybe_notes: Vec<_> = possibly.iter().map(|ch| change_finding(c, ch)).collect();
            for f in &mut maybe_notes {
                f.message = format!("possibly breaking (not counted): {}", f.message);
            }
            notes.extend(capped(maybe_notes, c.service));
            let ignored_count = c.diff.breaking().filter(|ch| ignored(ch.kind)).count();
            if ignored_count > 0 {
                line.push_str(&format!(" ({ignored_count} breaking of ignored kinds)"));
            }
            match &verdict {
                Some(v) if v.ok => line.push_str(&format!("; accepted as a versioned release: {}", v.message)),
                Some(v) => line.push_str(&format!("; not accepted as a versioned release: {}", v.message)),
                None => {}
            }
            evidence.push(line);
            if breaking.is_empty() {
                good += 1;
                continue;
            }
            let mut fs: Vec<_> = breaking.iter().map(|ch| change_finding(c, ch)).collect();
            if let Some(v) = verdict.filter(|v| v.ok) {
                good += 1;
                for f in &mut fs {
                    f.message = format!("accepted in a versioned release: {}", f.message);
                    f.help = Some(v.message.clone());
                }
                notes.extend(capped(fs, c.service));
                continue;
            }
            findings.extend(capped(fs, c.service));
        }
        let total = cmp.compared.len();
        if good == total {
            findings.extend(notes);
        }
        let mut r = CheckResult::ratio(good, total, findings);
        let (s, verb) = if total == 1 { ("", "s") } else { ("s", "") };
        r.evidence.push(if p.allow_versioned_breaks {
            format!(
                "{good} of {total} service{s} evolve{verb} without breaking changes or release{verb} them as a new \
                 version (compared with previous_openapi)"
            )
        } else {
            format!(
                "{good} of {total} service{s} evolve{verb} without breaking changes (compared with previous_openapi)"
            )
        });
        r.evidence.extend(evidence);
        r.evidence.extend(cmp.notes);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;

    fn run(case: &str, params: &str) -> CheckResult {
        crate::checks::run_fixture::<BreakingChange>(case, params)
    }

    #[test]
    fn versioned_breaks_are_notes_unless_the_rubric_counts_them() {
        let r = run("pass-versioned-major", "");
        assert_eq!(r.outcome, Outcome::Passed);
        assert!(!r.findings.is_empty());
        assert!(r
            .findings
            .iter()
            .all(|f| f.message.starts_with("accepted in a versioned release: ")));
        // `allow_new_major` is the former name of the parameter.
        for params in ["allow_versioned_breaks = false", "allow_new_major = false"] {
            let r = run("pass-versioned-major", params);
            assert_eq!((r.outcome, r.credit), (Outcome::Failed, Some(0.0)), "{params}");
            assert!(!r.findings.is_empty(), "{params}");
            assert!(
                r.findings.iter().all(|f| !f.message.starts_with("accepted")),
                "{params}"
            );
            assert!(
                r.evidence.iter().all(|e| !e.contains("accepted")),
                "{params}: {:?}",
                r.evidence
            );
        }
    }
}
