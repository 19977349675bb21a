use std::collections::BTreeMap;

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct SharedDatastore;

const DOCS: &str = r#"## What it checks
That no datastore is owned by more than one service (`owns` in `submission.toml`). Partial
credit: datastores with a single owner / datastores.

Absent when no service is known to use any datastore (nothing says whether they are shared).
## Why it matters
Database per service is the base rule of distributed data (Week 7: polyglot persistence and
database per service). A shared database couples services through its schema: one team's
migration breaks another's service, and consistency rules hide in tables no single service
owns. Data crosses service boundaries through APIs and events, not shared tables.

## How to fix
Give the datastore to the service that owns the data; let the other service call its API or
consume its events and keep a read model of what it needs.

## Example
```toml
[[datastore]]
name = "orders-db"

[[datastore]]
name = "shipping-db"

[[service]]
name = "orders"
owns = ["orders-db"]

[[service]]
name = "shipping"
owns = ["shipping-db"]        # not "orders-db"
consumes = ["OrderPlaced"]
```
"#;

impl TypedCheck for SharedDatastore {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "DATA001",
        name: "shared-datastore",
        area: Area::Data,
        kind: Kind::Static,
        summary: "A datastore is owned by more than one service",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let sub = ctx.submission;
        if sub.datastores.is_empty() {
            return CheckResult::absent("no datastores are declared");
        }
        // datastore -> [(owning service, where `owns` names it)]
        type Owners<'a> = BTreeMap<&'a str, Vec<(&'a str, Option<&'a std::ops::Range<usize>>)>>;
        let mut owners: Owners = BTreeMap::new();
        for s in &sub.services {
            for d in &s.owns {
                owners
                    .entry(d.name.as_str())
                    .or_default()
                    .push((s.name.name.as_str(), d.span.as_ref()));
            }
        }
        if !sub.datastores.iter().any(|d| owners.contains_key(d.name.name.as_str())) {
            // Datastores nobody is known to use say nothing about sharing: "0 shared" would be
            // credit for not knowing.
            return CheckResult::absent("no service is known to use any of the datastores (declare `owns`)");
        }
        let mut findings = Vec::new();
        let mut shared = 0;
        for d in &sub.datastores {
            let Some(list) = owners.get(d.name.name.as_str()) else {
                continue;
            };
            if list.len() < 2 {
                continue;
            }
            shared += 1;
            let names: Vec<&str> = list.iter().map(|(s, _)| *s).collect();
            for (svc, span) in &list[1..] {
                findings.push(
                    ctx.manifest_finding(
                        *span,
                        format!(
                            "datastore `{}` is shared: owned by {}; `{svc}` is not its first owner",
                            d.name.name,
                            names.join(", ")
                        ),
                    )
                    .help(format!(
                        "give `{}` to one service; `{svc}` should use that service's API or events",
                        d.name.name
                    )),
                );
            }
        }
        let total = sub.datastores.len();
        CheckResult::ratio(total - shared, total, findings)
            .with_evidence(format!("{} of {total} datastores have a single owner", total - shared))
    }
}
