use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};
use crate::submission::Delivery;

pub struct DualWrite;

const DOCS: &str = r#"## What it checks
That every service which owns state (a datastore) and publishes events gets its events out
reliably: `event_delivery = "outbox"`, `"cdc"` or `"event-sourcing"`. A service with no
`event_delivery`, or with `"direct"`, writes to its database and to the broker separately (a
dual write). Partial credit: reliable services / stateful publishers. Skipped when no service
both owns a datastore and publishes.

## Why it matters
Week 8 (Change Data Capture & Data Synchronization; the Outbox pattern) and Phase 3's
"outbox/CDC": when a service commits to its database and then publishes, a crash between the
two loses the event (or publishes one for a rolled-back change). Downstream read models and
sagas then diverge forever. The course's "guaranteed message delivery" (capstone) rests on it.

## How to fix
Write the event to an outbox table in the same transaction as the state change and relay it
to the broker (polling or log tailing), or capture changes from the database log with CDC
(e.g. Debezium). Declare it with `event_delivery`.

## Example
```toml
[[service]]
name = "orders"
owns = ["orders-db"]
publishes = ["OrderPlaced"]
event_delivery = "outbox"
```
"#;

impl TypedCheck for DualWrite {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "DATA004",
        name: "dual-write",
        area: Area::Data,
        kind: Kind::Static,
        summary: "A service that owns state publishes events without an outbox or CDC",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let publishers: Vec<_> = ctx
            .submission
            .services
            .iter()
            .filter(|s| !s.owns.is_empty() && !s.publishes.is_empty())
            .collect();
        if ctx.submission.services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        if publishers.is_empty() {
            return CheckResult::not_applicable("no service both owns a datastore and publishes events");
        }
        let mut findings = Vec::new();
        for s in &publishers {
            match &s.event_delivery {
                Some((Delivery::Outbox | Delivery::Cdc | Delivery::EventSourcing, _)) => {}
                Some((Delivery::Direct, span)) => findings.push(
                    ctx.manifest_finding(Some(span), format!("`{}` publishes directly after writing: a dual write", s.name.name))
                        .help("use a transactional outbox or CDC: `event_delivery = \"outbox\"`"),
                ),
                None => findings.push(
                    ctx.manifest_finding(
                        s.name.span.as_ref(),
                        format!("`{}` owns state and publishes events but declares no outbox or CDC", s.name.name),
                    )
                    .help("publish through a transactional outbox or CDC and declare `event_delivery = \"outbox\"` (or \"cdc\")"),
                ),
            }
        }
        let good = publishers.len() - findings.len();
        CheckResult::ratio(good, publishers.len(), findings).with_evidence(format!(
            "{good} of {} stateful publishers use an outbox, CDC or event sourcing",
            publishers.len()
        ))
    }
}
