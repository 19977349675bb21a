use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};
use crate::submission::Origin;

pub struct ManifestMissing;

const DOCS: &str = r#"## What it checks
That the submission has a `submission.toml` manifest at its root describing the system:
bounded contexts, services, datastores, calls, events and where each artifact lives.

## Why it matters
The course asks for an explicit design, not a pile of files (Week 1: "Service boundary design
document"; Week 2: "Complete API strategy"). Without a manifest the grader can only guess
services from folder names, and it cannot see contexts, ownership or dependencies at all.

## How to fix
Run `grade init <checkpoint> <DIR>` to scaffold a commented manifest, then describe your
system in it. See `docs/manifest.md` for every field.

## Example
```toml
[submission]
checkpoint = "phase1"

[[context]]
name = "ordering"

[[service]]
name = "orders"
context = "ordering"
openapi = "services/orders/openapi.yaml"
```
"#;

impl TypedCheck for ManifestMissing {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "SUB001",
        name: "manifest-missing",
        area: Area::Sub,
        kind: Kind::Static,
        summary: "The submission has no submission.toml describing the system",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        match ctx.submission.origin {
            Origin::Manifest => CheckResult::passed(),
            Origin::Convention => {
                let f = ctx
                    .manifest_finding(
                        None,
                        "no submission.toml at the root of the submission; the system was guessed from folder names",
                    )
                    .help("run `grade init <checkpoint> <DIR>` and describe contexts, services and datastores");
                let mut r = CheckResult::failed(vec![f]);
                r.evidence = ctx.submission.assumptions.clone();
                r
            }
        }
    }
}
