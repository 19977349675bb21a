use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct ImportInvalid;

const DOCS: &str = r#"## What it checks
That the docker-compose file, Kubernetes manifests and Backstage catalog files merged into
the system model (named under `[imports]` in `submission.toml`, or found in a submission
without a manifest: `docker-compose.yml`, `compose.yaml`, `catalog-info.yaml` at the root, a
`kubernetes-manifests/`, `k8s/`, `kubernetes/` or `manifests/` folder) exist and parse; every
file of an imported folder counts (Helm templates are listed as not read, not as problems). What
they contribute (services, calls, datastores, owners) is listed in the report's assumptions
with the file and line each fact came from. Partial credit: usable files / files. Skipped when
nothing is imported.

## Why it matters
The service catalog (Week 10: "Build service catalog with ownership tracking") and the
deployment descriptors are part of the design the course grades. A catalog that does not
parse means ownership and dependencies silently disappear from the model the other checks
grade.

## How to fix
Fix the syntax at the reported line, or correct the path under `[imports]`.

## Example
```toml
[imports]
compose = "docker-compose.yml"
backstage = ["catalog-info.yaml"]
```
"#;

impl TypedCheck for ImportInvalid {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "SUB003",
        name: "import-invalid",
        area: Area::Sub,
        kind: Kind::Static,
        summary: "An imported docker-compose, Kubernetes or Backstage file is missing or does not parse",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let sub = ctx.submission;
        if sub.imports.is_empty() {
            return CheckResult::not_applicable(
                "nothing imported (no [imports] and no compose, Kubernetes or catalog file found)",
            );
        }
        let findings: Vec<_> = sub
            .import_problems
            .iter()
            .map(|p| ctx.problem_finding(&p.file, &p.problem))
            .collect();
        // A problem in a file of an imported folder (Kubernetes manifests) is that import's.
        let within = |file: &str, rel: &str| file == rel || file.strip_prefix(rel).is_some_and(|f| f.starts_with('/'));
        let total = sub.imports.len();
        let bad = sub
            .imports
            .iter()
            .filter(|r| sub.import_problems.iter().any(|p| within(&p.file, &r.rel)))
            .count();
        let good = total - bad;
        let imported = sub
            .assumptions
            .iter()
            .filter(|a| {
                sub.imports
                    .iter()
                    .any(|r| a.contains(&format!("from {}:", r.rel)) || a.contains(&format!("from {}/", r.rel)))
            })
            .count();
        CheckResult::ratio(good, total, findings).with_evidence(format!(
            "{good} of {total} imported files usable; {imported} facts imported"
        ))
    }
}
