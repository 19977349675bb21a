use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct DatastoreWithoutOwner;

const DOCS: &str = r#"## What it checks
That every declared datastore is owned by a service (`owns`). Partial credit: owned
datastores / datastores. (A datastore owned by several services is `shared-datastore`,
DATA001.)

## Why it matters
Database per service (Week 7) means each datastore has exactly one owning service that
guards its schema and invariants. A datastore nobody owns is either dead weight or,
worse, written by whoever needs it: an integration database in disguise.

## How to fix
Add the datastore to the `owns` list of the one service responsible for its data, or remove
the declaration if it is not part of the system.

## Example
```toml
[[datastore]]
name = "catalog-search"
kind = "elasticsearch"

[[service]]
name = "catalog"
owns = ["catalog-search"]
```
"#;

impl TypedCheck for DatastoreWithoutOwner {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "DATA002",
        name: "datastore-without-owner",
        area: Area::Data,
        kind: Kind::Static,
        summary: "A datastore is owned by no service",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let sub = ctx.submission;
        if sub.datastores.is_empty() {
            return CheckResult::absent("no datastores are declared");
        }
        let findings: Vec<_> = sub
            .datastores
            .iter()
            .filter(|d| {
                !sub.services
                    .iter()
                    .any(|s| s.owns.iter().any(|o| o.name == d.name.name))
            })
            .map(|d| {
                ctx.manifest_finding(
                    d.name.span.as_ref(),
                    format!("datastore `{}` is owned by no service", d.name.name),
                )
                .help(format!(
                    "add `\"{}\"` to the `owns` list of the service responsible for its data",
                    d.name.name
                ))
            })
            .collect();
        let total = sub.datastores.len();
        let good = total - findings.len();
        CheckResult::ratio(good, total, findings).with_evidence(format!("{good} of {total} datastores owned"))
    }
}
