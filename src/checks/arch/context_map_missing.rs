use std::collections::BTreeSet;

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ContextMapMissing;

const DOCS: &str = r#"## What it checks
That the bounded contexts form a typed context map: every context takes part in at least one
relation (`relations = [{ with = "...", kind = "..." }]`, on either side) whose kind is a
context-mapping pattern (partnership, shared-kernel, customer-supplier, conformist,
anticorruption-layer, open-host-service, published-language, separate-ways). Partial
credit: related contexts / contexts. Skipped with fewer than two contexts.

## Why it matters
Week 1 ("Context Mapping & Anti-Corruption Layers", "Implement context mapping patterns")
asks for the relationships between contexts, not only the list: who is upstream, who
conforms, where an anticorruption layer protects a model. An isolated context either
duplicates another's data without saying how, or is not part of the system.

## How to fix
For each context, write how it relates to the contexts it exchanges data or calls with. A
context that really has no relation is `separate-ways` with the one it could be confused with.

## Example
```toml
[[context]]
name = "ordering"
relations = [
  { with = "payments", kind = "customer-supplier" },
  { with = "legacy-erp", kind = "anticorruption-layer" },
]
```
"#;

impl TypedCheck for ContextMapMissing {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH005",
        name: "context-map-missing",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "A bounded context has no typed relation in the context map",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let contexts = &ctx.submission.contexts;
        if contexts.is_empty() {
            return CheckResult::absent("no bounded contexts are declared");
        }
        if contexts.len() < 2 {
            return CheckResult::not_applicable("one bounded context: nothing to map");
        }
        let mut related: BTreeSet<&str> = BTreeSet::new();
        let mut relations = 0;
        for c in contexts {
            for r in &c.relations {
                relations += 1;
                related.insert(c.name.name.as_str());
                related.insert(r.with.name.as_str());
            }
        }
        let findings: Vec<_> = contexts
            .iter()
            .filter(|c| !related.contains(c.name.name.as_str()))
            .map(|c| {
                ctx.manifest_finding(c.name.span.as_ref(), format!("context `{}` has no relation in the context map", c.name.name))
                    .help("add `relations = [{ with = \"<context>\", kind = \"customer-supplier\" }]` (or the pattern that fits)")
            })
            .collect();
        let good = contexts.len() - findings.len();
        CheckResult::ratio(good, contexts.len(), findings).with_evidence(format!(
            "{relations} typed relations; {good} of {} contexts mapped",
            contexts.len()
        ))
    }
}
