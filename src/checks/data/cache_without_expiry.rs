use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};
use crate::evidence::{Needs, Proof, Source, Status};
use crate::finding::Claim;
use crate::submission::{Datastore, StoreRole};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub evidence: Needs,
}

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

## Evidence
A declared `ttl` answers to the code of the services that own the cache (their `source`
folder, else `services/<name>/`): it is **confirmed** by an expiry set on entries
(`r.set(key, value, ex=300)`, `setex`, `expire`, cachetools' `TTLCache`,
`RedisCacheConfiguration.entryTtl`, Caffeine's `expireAfterWrite`, go-redis `Set` with a
non-zero expiration, ioredis `set(..., 'EX', n)`, `DistributedCacheEntryOptions`
expirations, moka's `time_to_live`, `spring.cache.redis.time-to-live`), else
**unconfirmed**: with `evidence = "found"` a cache whose owners have code and show no expiry
loses its credit; a cache owned by services without code keeps the manifest's word. An
`invalidation` strategy is taken as declared. The JSON report lists each claim with its
sources.

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
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "DATA006",
        name: "cache-without-expiry",
        area: Area::Data,
        kind: Kind::Static,
        summary: "A cache declares neither a TTL nor an invalidation strategy",
        docs: DOCS,
        params: &[ParamDoc {
            name: "evidence",
            ty: "\"declared\" or \"found\"",
            description: "what a declared ttl needs: the manifest's word (declared, default), or, where the \
                          cache's owners have code, an expiry set in that code (found)",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
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
        let mut lines = Vec::new();
        let mut claims = Vec::new();
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
                Some(t) => {
                    let (claim, line, lost) = ttl_claim(ctx, c, t, p.evidence);
                    claims.push(claim);
                    lines.extend(line);
                    if let Some(message) = lost {
                        findings.push(
                            ctx.manifest_finding(t.span.as_ref(), message)
                                .help("set the expiry where the service writes the entry (`set(key, value, ex=300)`, `setex`, `entryTtl`), or configure it (`spring.cache.redis.time-to-live`)"),
                        );
                    }
                }
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
            .with_evidence_lines(lines)
            .with_claims(claims)
    }
}

/// A declared ttl against the code of the cache's owners: the claim, the evidence line (for
/// caches whose owners have code), and the finding's message when it loses credit.
fn ttl_claim(
    ctx: &Ctx<'_>,
    c: &Datastore,
    ttl: &crate::submission::Named,
    needs: Needs,
) -> (Claim, Option<String>, Option<String>) {
    let name = &c.name.name;
    let owners: Vec<&str> = ctx
        .submission
        .services
        .iter()
        .filter(|s| s.owns.iter().any(|o| o.name == *name))
        .map(|s| s.name.name.as_str())
        .collect();
    let mut claim = Claim::new(
        name.clone(),
        format!("ttl = \"{}\"", ttl.name),
        Status::Unconfirmed,
        true,
    );
    if let Some(span) = &ttl.span {
        claim = claim.from_source(
            Source::Declared,
            crate::submission::MANIFEST,
            ctx.manifest_line(span),
            format!("ttl = \"{}\"", ttl.name),
        );
    }
    let mut looked = Vec::new();
    for owner in &owners {
        let Some(code) = ctx.service_evidence(owner) else {
            continue;
        };
        let found: Vec<_> = code.evidence.proving(Proof::CacheTtl).take(3).collect();
        if let Some(first) = found.first() {
            let line = format!(
                "{name}: ttl {} confirmed in `{owner}`'s code ({}: {})",
                ttl.name,
                first.at(),
                first.text
            );
            claim = found.iter().fold(claim, |c, f| f.backs(c));
            claim.status = Status::Confirmed;
            return (claim, Some(line), None);
        }
        looked.push(code.looked());
    }
    if looked.is_empty() {
        return (claim, None, None);
    }
    let looked = looked.join(", ");
    if needs == Needs::Found {
        claim.credited = false;
        let message = format!(
            "cache `{name}` declares ttl `{}`, but its owners' code sets no expiry on entries: looked in {looked}",
            ttl.name
        );
        let line = format!(
            "{name}: ttl {} claimed, unconfirmed: nothing in {looked} sets an expiry",
            ttl.name
        );
        return (claim, Some(line), Some(message));
    }
    let line = format!(
        "{name}: ttl {} declared, unconfirmed (nothing in {looked} sets an expiry; the rubric accepts the declaration)",
        ttl.name
    );
    (claim, Some(line), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;

    fn run(case: &str, params: &str) -> CheckResult {
        crate::checks::run_fixture::<CacheWithoutExpiry>(case, params)
    }

    /// A declared ttl is confirmed by an expiry set in the owner's code; a `Set` with no
    /// expiration leaves it unconfirmed, which `evidence = "found"` does not credit.
    #[test]
    fn a_declared_ttl_answers_to_the_owners_code() {
        let found = "evidence = 'found'";
        for case in [
            "pass-confirmed-python",
            "pass-confirmed-java",
            "pass-confirmed-typescript",
        ] {
            let r = run(case, found);
            assert_eq!(r.outcome, Outcome::Passed, "{case}: {:?}", r.findings);
            assert_eq!(r.claims[0].status, Status::Confirmed, "{case}");
        }
        let r = run("pass-unconfirmed-go", "");
        assert_eq!(r.outcome, Outcome::Passed);
        assert_eq!((r.claims[0].status, r.claims[0].credited), (Status::Unconfirmed, true));
        let r = run("pass-unconfirmed-go", found);
        assert_eq!((r.outcome, r.credit), (Outcome::Failed, Some(0.0)));
        assert!(
            r.findings[0].message.contains("looked in src (1 files)"),
            "{:?}",
            r.findings
        );
        assert!(!r.claims[0].credited);
    }
}
