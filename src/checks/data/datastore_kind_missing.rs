use std::collections::BTreeSet;

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct DatastoreKindMissing;

const DOCS: &str = r#"## What it checks
That every datastore states its kind (`kind = "postgres"`, `"mongodb"`, `"redis"`, ...), so
the persistence choice of each service is explicit. Partial credit: datastores with a kind /
datastores. The evidence lists the distinct kinds (polyglot persistence).

## Why it matters
Week 7 (Polyglot Persistence & Database per Service; lab: "Design optimal database choices
per service") grades whether each service's store fits its access pattern: a relational store
for orders, a search index for the catalog, a key-value store for carts. An unstated kind is
an unmade decision.

## How to fix
Add `kind` to each `[[datastore]]`, choosing it for the data's access pattern and
consistency needs.

## Example
```toml
[[datastore]]
name = "carts"
kind = "redis"
```
"#;

impl TypedCheck for DatastoreKindMissing {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "DATA003",
        name: "datastore-kind-missing",
        area: Area::Data,
        kind: Kind::Static,
        summary: "A datastore does not state its kind (polyglot persistence undecided)",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let stores = &ctx.submission.datastores;
        if stores.is_empty() {
            return CheckResult::absent("no datastores are declared");
        }
        let findings: Vec<_> = stores
            .iter()
            .filter(|d| d.kind.as_ref().is_none_or(|k| k.name.is_empty()))
            .map(|d| {
                ctx.manifest_finding(
                    d.name.span.as_ref(),
                    format!("datastore `{}` has no `kind`", d.name.name),
                )
                .help("add `kind = \"postgres\"` (or the store that fits its access pattern)")
            })
            .collect();
        let kinds: BTreeSet<String> = stores
            .iter()
            .filter_map(|d| d.kind.as_ref())
            .map(|k| k.name.to_ascii_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        let good = stores.len() - findings.len();
        let kinds_list: Vec<&str> = kinds.iter().map(String::as_str).collect();
        CheckResult::ratio(good, stores.len(), findings).with_evidence(format!(
            "{} kind(s) of datastore: {}",
            kinds.len(),
            if kinds.is_empty() {
                "-".into()
            } else {
                kinds_list.join(", ")
            }
        ))
    }
}
