use serde_json::Value;

use super::walk::{check_apis, Api, Tally};
use crate::checks::oas::OasRule;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct NullableInOpenapi31;

const DOCS: &str = r#"## What it checks
That the Schema Objects of OpenAPI 3.1 documents do not use `nullable`. In 3.1 a Schema
Object is JSON Schema 2020-12, which has no `nullable` keyword: validators ignore it, so it is
not an error (OAS001 does not report it) but it has no effect, and `null` is still refused.
OpenAPI 3.0 documents are not judged (`nullable` is 3.0's keyword). Each Schema Object of a
3.1 document counts once (every `components/schemas` entry, parameter, header and media type
schema, and every subschema); partial credit: Schema Objects without `nullable` / Schema
Objects. A small-weight rule: a leftover of a 3.0 document moved to 3.1.

## Why it matters
The contract is what clients, mocks and validators read (Week 2: "RESTful API design and
OpenAPI specification", contract-first workflows). A `nullable: true` that no tool honours
says a field may be null while every generated validator and client rejects null: the
contract and the service disagree silently.

## How to fix
Add `"null"` to the type list and drop `nullable`: `type: [string, "null"]`. For a `$ref` or
a schema without `type`, use `anyOf: [{$ref: ...}, {type: "null"}]`. For an `enum`, also add
`null` to its values.

## Example
```yaml
# OpenAPI 3.0                 # OpenAPI 3.1
nickname:                     nickname:
  type: string                  type: [string, "null"]
  nullable: true
```
"#;

impl TypedCheck for NullableInOpenapi31 {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS032",
        name: "nullable-in-openapi-31",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An OpenAPI 3.1 schema uses `nullable`, which has no effect in 3.1",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "Schema Objects of OpenAPI 3.1 documents have no `nullable`",
                "no OpenAPI 3.1 document with Schema Objects (`nullable` is OpenAPI 3.0's keyword)",
            ),
            Err(r) => r,
        }
    }
}

/// The rule over one OpenAPI description: one unit per Schema Object of a 3.1 document, an
/// issue at each `nullable`.
pub fn evaluate(api: &Api<'_>, _params: &NoParams, t: &mut Tally) {
    if !api.is_31() {
        return;
    }
    for schema in api.schemas().iter() {
        let nullable = schema.value.as_object().is_some_and(|m| m.contains_key("nullable"));
        t.unit(!nullable);
        if let Some(at) = schema.get("nullable").filter(|_| nullable) {
            let help = match schema.value.get("type") {
                Some(Value::String(ty)) => format!("write `type: [{ty}, \"null\"]` and remove `nullable`"),
                _ => "add `\"null\"` to the `type` list (or `anyOf: [..., {type: \"null\"}]`) and remove `nullable`"
                    .to_string(),
            };
            t.issue(
                &at,
                None,
                "`nullable` has no effect in 3.1: use `type: [T, \"null\"]`",
                help,
            );
        }
    }
}
