use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};
use crate::submission::StoreRole;

pub struct CacheWithoutExpiry;

const DOCS: &str = r#"## What it checks
That every cache (`[[datastore]]` with `role = "cache"`) declares how entries go stale: a
`ttl` (e.g. `"5m"`, a number and a unit s/m/h/d) or an `invalidation` strategy (e.g.
`"on PriceChanged"`, `"write-through"`). Partial credit: caches with either / caches. Skipped
when no cache is declared.

## Why it matters
Week 7 (Distributed Caching & Cache Strategies; lab: multi-level caching with Redis): a cache
without expiry or invalidation serves stale prices and stock levels indefinitely, and grows
until it evicts at random. Choosing between TTL, event-driven invalidation and write-through is
the design decision the lab grades.

## How to fix
Give each cache a TTL that matches how stale its data may be, and/or invalidate entries on the
events that change the underlying data.

## Example
```toml
[[datastore]]
name = "pricing-cache"
kind = "redis"
role = "cache"
ttl = "5m"
invalidation = "on PriceChanged"
```
"#;

fn valid_ttl(s: &str) -> bool {
    let s = s.trim();
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let unit = &s[digits.len()..];
    !digits.is_empty()
        && digits.parse::<u64>().is_ok_and(|n| n > 0)
        && ["ms", "s", "m", "h", "d"].contains(&unit.trim())
}

impl TypedCheck for CacheWithoutExpiry {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "DATA006",
        name: "cache-without-expiry",
        area: Area::Data,
        kind: Kind::Static,
        summary: "A cache declares neither a TTL nor an invalidation strategy",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let caches: Vec<_> = ctx
            .submission
            .datastores
            .iter()
            .filter(|d| d.role == StoreRole::Cache)
            .collect();
        if caches.is_empty() {
            return CheckResult::absent("no datastore with role = \"cache\"");
        }
        let mut findings = Vec::new();
        for c in &caches {
            let invalidation = c.invalidation.as_ref().is_some_and(|i| !i.name.is_empty());
            match &c.ttl {
                Some(t) if !valid_ttl(&t.name) => findings.push(
                    ctx.manifest_finding(
                        t.span.as_ref(),
                        format!("cache `{}`: ttl `{}` is not a duration", c.name.name, t.name),
                    )
                    .help("write a positive number and a unit: \"30s\", \"5m\", \"1h\", \"1d\""),
                ),
                Some(_) => {}
                None if invalidation => {}
                None => findings.push(
                    ctx.manifest_finding(
                        c.name.span.as_ref(),
                        format!("cache `{}` has no ttl and no invalidation", c.name.name),
                    )
                    .help("add `ttl = \"5m\"` and/or `invalidation = \"on <Event>\"`"),
                ),
            }
        }
        let good = caches.len() - findings.len();
        CheckResult::ratio(good, caches.len(), findings)
            .with_evidence(format!("{good} of {} caches expire or are invalidated", caches.len()))
    }
}
