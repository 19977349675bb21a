use serde_json::Value;

use super::walk::{check_apis, list, Api, Node, Tally};
use crate::artifact::schema::short;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct EnumTypeMismatch;

const DOCS: &str = r#"## What it checks
That every value of a schema's `enum` (and a 3.1 `const`) has the schema's `type`: strings
for `type: string`, whole numbers for `type: integer`, and so on. A 3.1 type array
(`type: [string, 'null']`) allows any of its types; in 3.0 `nullable: true` allows `null`.
Schemas without a `type` are not checked. One finding per schema, at its first wrong value,
listing them all. Partial credit: schemas whose values fit / schemas with `enum` and `type`.

## Why it matters
An enumeration is a closed list of the values a field may take, and clients generate
constants from it (Week 2: contract-first design). A value of another type (`enum: [1, 2]`
under `type: string`, or a YAML `yes`/`no` read as booleans) can never be valid: no instance
satisfies both, so validation rejects every payload that uses it, and generated code either
fails or silently drops the value. Consumer-driven contract tests (Week 4) then fail for a
reason nobody can see in the schema.

## How to fix
Write the values with the schema's type: quote strings in YAML (`'1'`, `'yes'`, `'on'`,
`'null'`), or correct the `type`. To allow `null`, use `nullable: true` (3.0) or add `'null'`
to the type array (3.1).

## Example
```yaml
status:
  type: string
  enum: [PENDING, PAID, 'NO']
```
"#;

impl TypedCheck for EnumTypeMismatch {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS023",
        name: "enum-type-mismatch",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An enum (or const) value does not have the schema's type",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "schemas with an enum have values of their type",
                "no schema has both `enum` and `type`",
            ),
            Err(r) => r,
        }
    }
}

/// Whether `v` is an instance of the JSON Schema type `ty`; `None` for an unknown type.
pub fn fits(ty: &str, v: &Value) -> Option<bool> {
    Some(match ty {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => return None,
    })
}

/// The types a schema allows, or `None` when it has no usable `type`.
fn types(api: &Api<'_>, s: &Node<'_>) -> Option<Vec<String>> {
    let mut out: Vec<String> = match s.value.get("type")? {
        Value::String(t) => vec![t.clone()],
        Value::Array(a) => a
            .iter()
            .map(|t| t.as_str().map(str::to_string))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    if !api.is_31() && s.flag("nullable") {
        out.push("null".into());
    }
    if out.is_empty() || out.iter().any(|t| fits(t, &Value::Null).is_none()) {
        return None;
    }
    Some(out)
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    for s in api.schemas().iter() {
        let mut values: Vec<Node<'_>> = match s.get("enum") {
            Some(e) if e.value.is_array() => e.items(),
            _ => Vec::new(),
        };
        if api.is_31() {
            values.extend(s.get("const"));
        }
        if values.is_empty() {
            continue;
        }
        let Some(tys) = types(api, s) else { continue };
        let bad: Vec<Node<'_>> = values
            .into_iter()
            .filter(|v| !tys.iter().any(|ty| fits(ty, v.value) == Some(true)))
            .collect();
        t.unit(bad.is_empty());
        let Some(first) = bad.first() else { continue };
        let shown: Vec<String> = bad.iter().map(|v| short(v.value)).collect();
        let ty = if tys.len() == 1 {
            format!("`{}`", tys[0])
        } else {
            format!("one of `{}`", tys.join("`, `"))
        };
        let quote = tys.iter().any(|t| t == "string") && bad.iter().any(|v| !v.value.is_string() && !v.value.is_null());
        let mut help = String::from("write the values with the schema's type");
        if quote {
            help.push_str(" (quote them in YAML: `'1'`, `'yes'`)");
        }
        if bad.iter().any(|v| v.value.is_null()) {
            help.push_str(if api.is_31() {
                "; to allow null, add `'null'` to the type array"
            } else {
                "; to allow null, add `nullable: true`"
            });
        }
        help.push_str("; or correct the `type`");
        t.issue(
            first,
            None,
            format!(
                "the schema's type is {ty}, but {} {} not",
                list(&shown, 5),
                if bad.len() == 1 { "is" } else { "are" }
            ),
            help,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::fits;
    use serde_json::json;

    #[test]
    fn types() {
        assert_eq!(fits("integer", &json!(2.0)), Some(true));
        assert_eq!(fits("integer", &json!(2.5)), Some(false));
        assert_eq!(fits("string", &json!(true)), Some(false));
        assert_eq!(fits("null", &json!(null)), Some(true));
        assert_eq!(fits("int", &json!(1)), None);
    }
}
