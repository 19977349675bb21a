use serde::{Deserialize, Serialize};

use super::{fold, manifest_events, near_miss};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct OrphanEvent;

const DOCS: &str = r#"## What it checks
That every event in the manifest has both ends: an event some service `consumes` is
published by some service, and an event some service `publishes` is consumed by some
service. Events that cross the system's boundary (a payment provider's webhook, an event
for a partner) are listed in the `external` parameter and need only one end. A consumed
event whose name is close to a published one is reported with a "did you mean". Partial
credit: events with both ends (or external) / events.

## Why it matters
Publish-subscribe decouples producers from consumers (Week 5: publish-subscribe patterns,
event-driven architecture), but only when both ends exist. A consumer waiting for an event
nobody publishes is a flow that never runs (often a typo, `OrderPlace` for `OrderPlaced`);
an event without consumers is dead weight in the catalog, or the sign of a missing reaction
in a choreographed process (Week 6).

## How to fix
Correct the misspelled name, add the event to the `publishes` of the service that emits it
or to the `consumes` of the service that must react, remove events nobody needs, or declare
events from outside the system in the rubric's `external` list.

## Example
```toml
[[service]]
name = "orders"
publishes = ["OrderPlaced"]

[[service]]
name = "notifications"
consumes = ["OrderPlaced"]      # not "OrderPlace"
```
"#;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Events that cross the system boundary and need only one end.
    pub external: Vec<String>,
}

impl TypedCheck for OrphanEvent {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT004",
        name: "orphan-event",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "An event is consumed but never published, or published but never consumed",
        docs: DOCS,
        params: &[ParamDoc {
            name: "external",
            ty: "array of strings",
            description: "events that cross the system boundary (e.g. `PaymentProviderWebhook`) and need only a \
                          publisher or only a consumer",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let events = manifest_events(ctx);
        if events.is_empty() {
            return CheckResult::absent("no service publishes or consumes an event");
        }
        let orphan = |n: &str| {
            events.get(n).is_some_and(|u| {
                (u.publishers.is_empty() || u.consumers.is_empty()) && !p.external.iter().any(|e| e == n)
            })
        };
        // Published-only events that are near misses of a consumed-only one: one finding
        // (at the consumer) covers both.
        let only_published: Vec<&str> = events
            .iter()
            .filter(|(n, u)| u.consumers.is_empty() && orphan(n))
            .map(|(n, _)| n.as_str())
            .collect();
        let mut paired: Vec<&str> = Vec::new();
        let mut findings = Vec::new();
        let mut external = 0;
        let mut bad = 0;
        for (name, usage) in &events {
            let (has_pub, has_con) = (!usage.publishers.is_empty(), !usage.consumers.is_empty());
            if has_pub && has_con {
                continue;
            }
            if p.external.contains(name) {
                external += 1;
                continue;
            }
            bad += 1;
            if !has_con {
                continue;
            }
            let near = near_miss(name, only_published.iter().copied());
            let hint = match near.and_then(|n| events.get(n).map(|u| (n, u))) {
                Some((n, u)) => {
                    paired.push(n);
                    format!("; did you mean `{n}` ({}, consumed by nobody)?", u.describe())
                }
                None => String::new(),
            };
            let f = ctx
                .manifest_finding(
                    usage.span(),
                    format!(
                        "event `{name}` is {}, but no service publishes it{hint}",
                        usage.describe()
                    ),
                )
                .help(match near {
                    Some(n) => format!("correct the name to `{n}` in the `consumes` of its consumers"),
                    None => format!(
                        "add `{name}` to the `publishes` of the service that emits it, or list it in the check's \
                         `external` parameter if it comes from outside the system"
                    ),
                });
            findings.push((name.clone(), f));
        }
        for name in only_published {
            if paired.contains(&name) {
                continue;
            }
            let Some(usage) = events.get(name) else { continue };
            let f = ctx
                .manifest_finding(
                    usage.span(),
                    format!("event `{name}` is {}, but no service consumes it", usage.describe()),
                )
                .help(format!(
                    "add `{name}` to the `consumes` of the services that react to it, remove it if nothing needs it, \
                     or list it in the check's `external` parameter if it leaves the system"
                ));
            findings.push((name.to_string(), f));
        }
        let total = events.len();
        let findings = fold(findings, "orphan events", "give each event a publisher and a consumer");
        let mut r = CheckResult::ratio(total - bad, total, findings).with_evidence(format!(
            "{} of {total} events have a publisher and a consumer",
            total - bad - external
        ));
        if external > 0 {
            r.evidence.push(format!("{external} declared external"));
        }
        r
    }
}
