use serde::{Deserialize, Serialize};

use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};
use crate::evidence::{self, Evidence, Needs, Proof, Source, Status};
use crate::finding::Claim;
use crate::submission::{Delivery, Service};

pub struct DualWrite;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub evidence: Needs,
}

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

## Evidence
The claim answers to the service's code (its `source` folder, else `services/<name>/`) and to
the submission's configuration, read with tree-sitter and the rules in `src/evidence/rules/`
(Python, Java, Go, TypeScript/JavaScript, C#, Rust; SQL migrations; Debezium connector configs):

- **contradicted**: a function writes to the database and then publishes to the broker with
  no outbox involved (a dual write), shown at the publish with the write's line and the
  manifest's claim. A contradicted claim fails the whole item, whatever the rubric asks: a
  claim the code contradicts costs more than an honest `"direct"`;
- **confirmed**: an outbox table used in code or created by a migration, a Debezium outbox
  event router or CDC connector; the evidence lists what backs it;
- **unconfirmed**: nothing either way. With `evidence = "found"` a service that has code fails
  (the finding lists where it looked); a service without code keeps its declared claim.

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
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "DATA004",
        name: "dual-write",
        area: Area::Data,
        kind: Kind::Static,
        summary: "A service that owns state publishes events without an outbox or CDC",
        docs: DOCS,
        params: &[ParamDoc {
            name: "evidence",
            ty: "\"declared\" or \"found\"",
            description: "what an outbox/CDC claim needs: the manifest's word unless the code contradicts it \
                          (declared, default), or confirmation in the code of services that have code (found)",
        }],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
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
        let rules = ctx.rules_proving(&[
            Proof::DbWrite,
            Proof::BrokerPublish,
            Proof::OutboxWrite,
            Proof::OutboxTable,
            Proof::OutboxRelay,
            Proof::CdcConnector,
        ]);
        // Configuration anywhere in the submission (CDC connectors, migrations) counts for
        // every service; code only for its own service.
        let config_rules = rules
            .iter()
            .copied()
            .filter(|r| matches!(r.language, evidence::RuleLang::Config | evidence::RuleLang::Sql));
        let system = evidence::scan(&ctx.submission.root, "", config_rules);
        let mut findings = Vec::new();
        let mut lines = Vec::new();
        let mut claims = Vec::new();
        let mut good = 0;
        let mut contradicted = 0;
        for s in &publishers {
            match &s.event_delivery {
                Some((delivery @ (Delivery::Outbox | Delivery::Cdc), span)) => {
                    let code = ctx.service_evidence(&s.name.name);
                    let code = code.as_ref().map(|c| (c.rel.as_str(), &c.evidence));
                    let (status, line, finding, claim) = judge(ctx, s, *delivery, span, code, &system, p.evidence);
                    lines.push(line);
                    if status == Status::Contradicted {
                        contradicted += 1;
                    }
                    claims.push(Claim {
                        status,
                        credited: status != Status::Contradicted && finding.is_none(),
                        ..claim
                    });
                    match (status, finding) {
                        (_, Some(f)) => findings.push(f),
                        (Status::Contradicted, None) => {}
                        _ => good += 1,
                    }
                }
                Some((Delivery::EventSourcing, span)) => {
                    good += 1;
                    claims.push(
                        Claim::new(s.name.name.clone(), "event_delivery = \"event-sourcing\"", Status::Unconfirmed, true)
                            .from_source(Source::Declared, crate::submission::MANIFEST, ctx.manifest_line(span), "declared"),
                    );
                }
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
        // A claim the code contradicts costs more than not making it: the item fails.
        let result = if contradicted > 0 {
            CheckResult::failed(findings).with_evidence(format!(
                "{contradicted} outbox/CDC claim{} contradicted by the code: the item fails",
                if contradicted == 1 { " is" } else { "s are" }
            ))
        } else {
            CheckResult::ratio(good, publishers.len(), findings)
        };
        result
            .with_evidence(format!(
                "{good} of {} stateful publishers use an outbox, CDC or event sourcing",
                publishers.len()
            ))
            .with_evidence_lines(lines)
            .with_claims(claims)
    }
}

/// An outbox or CDC claim against the evidence: its status, the evidence line, and the
/// finding when it loses credit.
fn judge(
    ctx: &Ctx<'_>,
    s: &Service,
    delivery: Delivery,
    span: &std::ops::Range<usize>,
    code: Option<(&str, &Evidence)>,
    system: &Evidence,
    needs: Needs,
) -> (Status, String, Option<Finding>, Claim) {
    let name = &s.name.name;
    let claim = match delivery {
        Delivery::Cdc => "cdc",
        _ => "outbox",
    };
    let claimed_at = ctx.manifest_at(span);
    let record = Claim::new(
        name.clone(),
        format!("event_delivery = \"{claim}\""),
        Status::Missing,
        false,
    )
    .from_source(
        Source::Declared,
        crate::submission::MANIFEST,
        ctx.manifest_line(span),
        format!("event_delivery = \"{claim}\""),
    );
    if let Some(w) = code.and_then(|(_, ev)| ev.dual_writes.first()) {
        let mut f = Finding::new(format!(
            "`{name}` declares `event_delivery = \"{claim}\"` ({claimed_at}), but `{}` writes to the database ({}) \
             and then publishes to the broker here without an outbox: a dual write",
            w.function,
            w.write.at()
        ))
        .in_file(w.publish.file.clone())
        .help("save the event to an outbox table in the same transaction as the state change and let a relay or CDC publish it");
        f.line = Some(w.publish.line);
        f.column = Some(w.publish.column);
        let publish = if w.publish.file == w.write.file {
            format!("line {}", w.publish.line)
        } else {
            w.publish.at()
        };
        let line = format!(
            "{name}: {claim} claimed ({claimed_at}) and contradicted: dual write in `{}` (write at {}, publish at {publish})",
            w.function,
            w.write.at(),
        );
        let record = record
            .contradicted_at(w.write.file.clone(), w.write.line, w.write.text.clone())
            .contradicted_at(w.publish.file.clone(), w.publish.line, w.publish.text.clone());
        return (Status::Contradicted, line, Some(f), record);
    }
    let backs: &[Proof] = match delivery {
        Delivery::Cdc => &[Proof::CdcConnector, Proof::OutboxRelay],
        _ => &[Proof::OutboxWrite, Proof::OutboxTable, Proof::OutboxRelay],
    };
    let backing: Vec<&evidence::Fact> = code
        .into_iter()
        .flat_map(|(_, ev)| ev.facts.iter())
        .chain(system.facts.iter())
        .filter(|f| backs.contains(&f.proof))
        .collect();
    if let Some(first) = backing.first() {
        let more = match backing.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        let line = format!(
            "{name}: {claim} confirmed, backed by {} ({}: {}){more}",
            first.proof.id(),
            first.at(),
            first.text
        );
        let record = backing.iter().take(5).fold(record, |c, f| f.backs(c));
        return (Status::Confirmed, line, None, record);
    }
    match (code, needs) {
        (Some((rel, ev)), Needs::Found) => {
            let f = ctx
                .manifest_finding(
                    Some(span),
                    format!(
                        "`{name}` declares `event_delivery = \"{claim}\"` but its code shows no {}: looked in {rel} ({} files) and the submission's configuration",
                        if claim == "cdc" { "CDC connector" } else { "outbox table or relay" },
                        ev.files_read
                    ),
                )
                .help("write events to an outbox table in the same transaction as the state change (or configure CDC), in the service's code");
            let line = format!("{name}: {claim} claimed, unconfirmed: nothing in {rel} shows it");
            (Status::Unconfirmed, line, Some(f), record)
        }
        (Some((rel, _)), Needs::Declared) => (
            Status::Unconfirmed,
            format!(
                "{name}: {claim} declared, unconfirmed (nothing in {rel} shows it; the rubric accepts the declaration)"
            ),
            None,
            record,
        ),
        (None, _) => (
            Status::Unconfirmed,
            format!("{name}: {claim} declared; the service has no code to confirm it"),
            None,
            record,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;

    fn run(case: &str, params: &str) -> CheckResult {
        crate::checks::run_fixture::<DualWrite>(case, params)
    }

    /// `evidence = "found"`: a service with code must show its outbox there; one without code
    /// keeps its declared claim; a contradiction fails at every level.
    #[test]
    fn found_level_needs_the_code_to_show_the_claim() {
        let found = "evidence = 'found'";
        assert_eq!(run("pass-unconfirmed-python", "").outcome, Outcome::Passed);
        let r = run("pass-unconfirmed-python", found);
        assert_eq!(r.outcome, Outcome::Failed);
        assert!(
            r.findings[0].message.contains("looked in src (1 files)"),
            "{:?}",
            r.findings
        );
        assert_eq!(run("pass-confirmed-go", found).outcome, Outcome::Passed);
        assert_eq!(run("pass-confirmed-cdc", found).outcome, Outcome::Passed);
        for case in ["fail-contradicted-python", "fail-contradicted-go"] {
            for p in ["", found] {
                let r = run(case, p);
                assert_eq!((r.outcome, r.credit), (Outcome::Failed, Some(0.0)), "{case} {p}");
            }
        }
    }
}
