use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ConflictResolutionMissing;

const DOCS: &str = r#"## What it checks
That every replicated datastore (`replicated = true`, e.g. multi-region) states how
concurrent writes are reconciled: `conflict_resolution = "last-writer-wins"`, `"crdt"` or
`"crdt:<type>"` (e.g. `crdt:or-set`, `crdt:pn-counter`), or `"custom: <how>"`. Partial credit:
replicated stores with a valid strategy / replicated stores. Skipped when nothing is replicated.

## Why it matters
Week 8 (Eventual Consistency & Conflict Resolution; lab: last-writer-wins; CRDTs) and the
capstone's multi-region deployment: two regions accepting writes to the same record will
conflict. Without a stated rule, data is silently lost or diverges between regions.

## How to fix
Choose per store: last-writer-wins with hybrid logical clocks for profile-like data, a CRDT
for counters and sets, or a custom merge for business data (say what it is).

## Example
```toml
[[datastore]]
name = "carts"
kind = "redis"
replicated = true
conflict_resolution = "crdt:or-set"
```
"#;

fn valid(s: &str) -> bool {
    let s = s.trim();
    s == "last-writer-wins"
        || s == "crdt"
        || s.strip_prefix("crdt:").is_some_and(|t| !t.trim().is_empty())
        || s.strip_prefix("custom:").is_some_and(|t| !t.trim().is_empty())
}

impl TypedCheck for ConflictResolutionMissing {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "DATA007",
        name: "conflict-resolution-missing",
        area: Area::Data,
        kind: Kind::Static,
        summary: "A replicated datastore does not state how write conflicts are resolved",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let replicated: Vec<_> = ctx.submission.datastores.iter().filter(|d| d.replicated).collect();
        if replicated.is_empty() {
            return CheckResult::absent("no datastore is replicated");
        }
        let mut findings = Vec::new();
        for d in &replicated {
            match &d.conflict_resolution {
                Some(c) if valid(&c.name) => {}
                Some(c) => findings.push(
                    ctx.manifest_finding(
                        c.span.as_ref(),
                        format!("datastore `{}`: unknown conflict resolution `{}`", d.name.name, c.name),
                    )
                    .help("use \"last-writer-wins\", \"crdt\", \"crdt:<type>\" or \"custom: <how>\""),
                ),
                None => findings.push(
                    ctx.manifest_finding(
                        d.name.span.as_ref(),
                        format!("replicated datastore `{}` has no conflict resolution", d.name.name),
                    )
                    .help("add `conflict_resolution = \"last-writer-wins\"` (or a CRDT, or \"custom: <how>\")"),
                ),
            }
        }
        let good = replicated.len() - findings.len();
        CheckResult::ratio(good, replicated.len(), findings).with_evidence(format!(
            "{good} of {} replicated datastores resolve conflicts",
            replicated.len()
        ))
    }
}
