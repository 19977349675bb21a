use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{catalog, fold, manifest_events, message_finding, named_in, near_miss};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct CatalogManifestMismatch;

const DOCS: &str = r#"## What it checks
That the event catalog and the manifest describe the same events:

- every event a service `publishes` or `consumes` in `submission.toml` exists as a message in
  the catalog;
- every message of the catalog is named in the manifest: published (or consumed, for an
  event that comes from outside the system) by a declared service, or a saga command (a
  saga step's `action` or `compensation`).

A message answers to its `name`, its `messageId`, its key under `components/messages`, its
key under a 3.0 channel's `messages`, and its `title`. Names are compared case-sensitively;
a near miss (`orderPlaced` for `OrderPlaced`, `OrderPlacd`) is reported with a "did you
mean". Partial credit: names that match / names compared (both directions).

## Why it matters
The manifest is the architecture; the catalog is the contract (Week 5: event catalog,
publish-subscribe). When they drift, the catalog documents events nobody sends, or services
exchange events no schema describes, and the checks that read the catalog (payloads,
ordering and de-duplication keys, versioning) say nothing about the real flows.

## How to fix
Add a message for each missing event (its `name` equal to the event name in the manifest),
correct misspelled names on either side, and either delete catalog messages that are no
longer used or add them to the `publishes` of the service that emits them.

## Example
```toml
[[service]]
name = "orders"
publishes = ["OrderPlaced"]       # components/messages/OrderPlaced in the catalog
```
```yaml
components:
  messages:
    OrderPlaced:
      name: OrderPlaced
      payload: {$ref: '#/components/schemas/OrderPlaced'}
```
"#;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Names left out of the comparison in both directions.
    pub ignore: Vec<String>,
}

impl TypedCheck for CatalogManifestMismatch {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT003",
        name: "catalog-manifest-mismatch",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "The event catalog and the manifest's publishes/consumes name different events",
        docs: DOCS,
        params: &[ParamDoc {
            name: "ignore",
            ty: "array of strings",
            description: "event or message names left out of the comparison in both directions",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let (rel, api) = match catalog(ctx, "the catalog against the manifest") {
            Ok(c) => c,
            Err(r) => return r,
        };
        let events = manifest_events(ctx);
        let catalog_names: BTreeSet<&str> = api.messages.iter().flat_map(|m| m.names()).collect();
        let mut commands: BTreeSet<&str> = BTreeSet::new();
        for saga in &ctx.submission.sagas {
            for step in &saga.steps {
                commands.insert(step.action.name.as_str());
                if let Some(c) = &step.compensation {
                    commands.insert(c.name.as_str());
                }
            }
        }
        let known = |n: &str| events.contains_key(n) || commands.contains(n);
        // Catalog names that are near misses of a manifest event and unmatched themselves:
        // one finding covers both sides.
        let mut paired: BTreeSet<&str> = BTreeSet::new();
        let mut total = 0;
        let mut good = 0;
        let mut missing = Vec::new();
        for (name, usage) in &events {
            if p.ignore.contains(name) {
                continue;
            }
            total += 1;
            if catalog_names.contains(name.as_str()) {
                good += 1;
                continue;
            }
            let near = near_miss(name, catalog_names.iter().copied().filter(|n| !known(n)));
            let hint = match near {
                Some(n) if n.eq_ignore_ascii_case(name) => {
                    format!("; the catalog has `{n}` (names are case-sensitive)")
                }
                Some(n) => format!("; the catalog has `{n}`"),
                None => String::new(),
            };
            if let Some(n) = near {
                paired.insert(n);
            }
            let f = ctx
                .manifest_finding(
                    usage.span(),
                    format!(
                        "event `{name}` ({}) has no message in the event catalog `{rel}`{hint}",
                        usage.describe()
                    ),
                )
                .help(match near {
                    Some(n) => format!("use one spelling on both sides: rename the catalog message `{n}` to `{name}` (its `name:`), or the event in submission.toml"),
                    None => format!(
                        "add a message to the catalog: `components/messages/{name}` with `name: {name}` and its payload"
                    ),
                });
            missing.push((name.clone(), f));
        }
        let mut unused = Vec::new();
        let mut n_messages = 0;
        let mut n_unused = 0;
        for m in &api.messages {
            if named_in(m, &p.ignore) {
                continue;
            }
            total += 1;
            n_messages += 1;
            let names = m.names();
            if names.iter().any(|n| known(n)) {
                good += 1;
                continue;
            }
            n_unused += 1;
            if names.iter().any(|n| paired.contains(n)) {
                continue;
            }
            let label = m.label();
            let f = message_finding(
                ctx,
                rel,
                api,
                m,
                format!("catalog message `{label}` is not published or consumed by any service in submission.toml"),
            )
            .help(format!(
                "add `{label}` to the `publishes` of the service that emits it (and the `consumes` of its consumers), \
                 or remove the message from the catalog"
            ));
            unused.push((label, f));
        }
        if total == 0 {
            return CheckResult::absent("neither the manifest nor the catalog names any event");
        }
        let n_events = total - n_messages;
        let n_missing = missing.len();
        let mut findings = fold(
            missing,
            "events without a catalog message",
            "add a catalog message for each event the manifest names",
        );
        findings.extend(fold(
            unused,
            "catalog messages not named in the manifest",
            "name each catalog message in the manifest, or remove it",
        ));
        CheckResult::ratio(good, total, findings).with_evidence(format!(
            "{} of {n_events} manifest events in the catalog; {} of {n_messages} catalog messages named in the manifest",
            n_events - n_missing,
            n_messages - n_unused
        ))
    }
}
