use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ReadModelSourceUnknown;

const DOCS: &str = r#"## What it checks
That every CQRS read model (`[[read_model]]`) names the events that feed it (`sources`), that
each source event is published by some service, and that the read model's service consumes
it. Partial credit: read models whose sources all check out / read models. Skipped when no
read model is declared.

## Why it matters
Week 7 (CQRS & Read Model Optimization; materialized views): a read model is only as good as
the event stream that builds it. A source nobody publishes means the view never updates; a
source its service does not consume means the projection was designed on paper only. Week 8's
eventual consistency (<100 ms convergence) is measured along exactly these flows.

## How to fix
List the events the projection applies in `sources`, publish them from the owning services,
and add them to the read model service's `consumes`.

## Example
```toml
[[read_model]]
name = "order-history"
service = "orders-query"
datastore = "order-history-db"
sources = ["OrderPlaced", "OrderShipped"]
```
"#;

impl TypedCheck for ReadModelSourceUnknown {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "DATA005",
        name: "read-model-source-unknown",
        area: Area::Data,
        kind: Kind::Static,
        summary: "A CQRS read model has no source events, or its sources are not published or consumed",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let sub = ctx.submission;
        if sub.read_models.is_empty() {
            return CheckResult::absent("no read models are declared");
        }
        let mut findings = Vec::new();
        let mut good = 0;
        for m in &sub.read_models {
            let before = findings.len();
            if m.sources.is_empty() {
                findings.push(
                    ctx.manifest_finding(
                        m.name.span.as_ref(),
                        format!("read model `{}` names no source events", m.name.name),
                    )
                    .help("list the events that feed it: `sources = [\"OrderPlaced\", ...]`"),
                );
            }
            let service = sub.service(&m.service.name);
            for src in &m.sources {
                let published = sub
                    .services
                    .iter()
                    .any(|s| s.publishes.iter().any(|p| p.name == src.name));
                if !published {
                    let names = sub
                        .services
                        .iter()
                        .flat_map(|s| s.publishes.iter().map(|p| p.name.as_str()));
                    let hint = crate::diag::suggestion_suffix(&src.name, names);
                    findings.push(
                        ctx.manifest_finding(
                            src.span.as_ref(),
                            format!(
                                "read model `{}`: no service publishes `{}`{hint}",
                                m.name.name, src.name
                            ),
                        )
                        .help("publish the event from the service that owns the data, or correct the name"),
                    );
                } else if service.is_some_and(|s| !s.consumes.iter().any(|c| c.name == src.name)) {
                    findings.push(
                        ctx.manifest_finding(
                            src.span.as_ref(),
                            format!(
                                "read model `{}`: its service `{}` does not consume `{}`",
                                m.name.name, m.service.name, src.name
                            ),
                        )
                        .help(format!(
                            "add `\"{}\"` to the `consumes` list of `{}`",
                            src.name, m.service.name
                        )),
                    );
                }
            }
            if findings.len() == before {
                good += 1;
            }
        }
        let total = sub.read_models.len();
        CheckResult::ratio(good, total, findings).with_evidence(format!(
            "{good} of {total} read models fed by published, consumed events"
        ))
    }
}
