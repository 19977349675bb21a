use crate::artifact::Loaded;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct OpenapiInvalid;

const DOCS: &str = r#"## What it checks
That every OpenAPI document the submission names parses (YAML or JSON) and is a valid OpenAPI
3.0.x or 3.1.x document, by the OpenAPI Initiative's own JSON Schemas (compiled into `grade`):
OpenAPI 3.1 documents against `schema-base` (the 3.1 schema with every Schema Object checked
as JSON Schema 2020-12 with the OAS vocabulary: a boolean `exclusiveMinimum`, an unknown `type`
or a `required: true` is an error), OpenAPI 3.0 documents against the official 3.0 schema and
the typed 3.0 model (the `openapiv3` crate). Every problem of a document is reported in the
same run, each at its own line, in OpenAPI's words ("parameter `q` needs `schema` or
`content`"). Swagger 2.0, OpenAPI 3.2, an AsyncAPI document in the OpenAPI slot and an unquoted
`openapi: 3.0` (a YAML number) are reported. Partial credit: valid / documents.

## Why it matters
The API specification is the contract between services (Week 2: "RESTful API design and
OpenAPI specification", contract-first workflows). A spec that does not parse cannot be
reviewed, mocked, diffed for breaking changes or used for contract tests, and every other
API check depends on it.

## How to fix
Open the file at the reported line and fix the syntax or the missing field. Validate locally
with `grade phase1 DIR` or any OpenAPI validator. Convert Swagger 2.0 with
`npx swagger2openapi`.

## Example
```yaml
openapi: "3.1.0"          # a quoted string, with the patch number
info:
  title: Orders API
  version: "1.2.0"
paths:
  /v1/orders: {}
```
"#;

impl TypedCheck for OpenapiInvalid {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS001",
        name: "openapi-invalid",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An OpenAPI document does not parse or is not valid OpenAPI 3.0/3.1",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let mut total = 0;
        let mut good = 0;
        let mut findings = Vec::new();
        for (rel, loaded) in &ctx.artifacts.openapi {
            match loaded {
                Loaded::Missing => continue,
                Loaded::Invalid(p) => {
                    total += 1;
                    findings.push(ctx.problem_finding(rel, p));
                }
                Loaded::Ok(doc) => {
                    total += 1;
                    if doc.problems.is_empty() {
                        good += 1;
                    }
                    findings.extend(doc.problems.iter().map(|p| ctx.problem_finding(rel, p)));
                }
            }
        }
        if total == 0 {
            return CheckResult::absent("no OpenAPI documents");
        }
        CheckResult::ratio(good, total, findings).with_evidence(format!("{good} of {total} OpenAPI documents valid"))
    }
}
