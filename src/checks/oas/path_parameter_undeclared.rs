use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct PathParameterUndeclared;

const DOCS: &str = r#"## What it checks
That the path template and the path parameters agree, for every operation: each `{name}` in
the path is declared as a parameter with `in: path` (on the operation or on the Path Item,
directly or through a `$ref`), each `in: path` parameter appears in the template, path
parameters have `required: true`, and the template is well formed (balanced braces, no empty
or repeated names). Partial credit: operations without such a problem / operations.

## Why it matters
The path template is part of the contract (Week 2: RESTful API design and the OpenAPI
specification). An undeclared `{orderId}` has no type or format, so generated clients cannot
send it and servers cannot validate it; a declared parameter missing from the template is
never sent at all. Validators and gateways (Week 4) reject such documents or route wrongly.

## How to fix
Declare each template variable once, with the same name, `in: path` and `required: true`
(at the Path Item level when every operation shares it); remove path parameters that the
template does not use.

## Example
```yaml
paths:
  /v1/orders/{orderId}:
    parameters:
      - name: orderId
        in: path
        required: true
        schema: {type: string}
    get:
      operationId: getOrder
```
"#;

impl TypedCheck for PathParameterUndeclared {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS004",
        name: "path-parameter-undeclared",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A path template variable is not declared as a path parameter, or the reverse",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations match their path template",
                "the documents have no operations under `paths`",
            ),
            Err(r) => r,
        }
    }
}

/// The variables of a path template, or why it is malformed.
pub fn template_names(path: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err("has a `}` without a matching `{`".into());
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find(['{', '}']) else {
            return Err("has a `{` without a matching `}`".into());
        };
        if after.as_bytes()[close] == b'{' {
            return Err("has nested or unclosed `{`".into());
        }
        let name = &after[..close];
        if name.trim().is_empty() {
            return Err("has an empty `{}`".into());
        }
        out.push(name);
        rest = &after[close + 1..];
    }
    Ok(out)
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    for op in api.operations() {
        let label = Some(op.label());
        let mut ok = true;
        let names = match template_names(op.path) {
            Ok(n) => n,
            Err(why) => {
                t.unit(false);
                t.issue(
                    &op.item,
                    label,
                    format!("the path template `{}` {why}", op.path),
                    "write path variables as `{name}`, e.g. `/v1/orders/{orderId}`",
                );
                continue;
            }
        };
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                ok = false;
                t.issue(
                    &op.item,
                    None,
                    format!("`{{{n}}}` appears more than once in `{}`", op.path),
                    "give each path variable its own name, e.g. `{orderId}` and `{lineId}`",
                );
            }
        }
        let params = api.parameters(&op);
        let declared: Vec<_> = params.iter().filter(|p| p.location == "path").collect();
        for n in &names {
            if !declared.iter().any(|p| p.name == *n) {
                ok = false;
                let hint = params
                    .iter()
                    .find(|p| p.name.eq_ignore_ascii_case(n))
                    .map(|p| format!(" (a parameter `{}` is declared `in: {}`)", p.name, p.location))
                    .unwrap_or_default();
                t.issue(
                    &op.item,
                    label.clone(),
                    format!("`{{{n}}}` is not declared as an `in: path` parameter{hint}"),
                    format!(
                        "declare `- {{name: {n}, in: path, required: true, schema: {{type: string}}}}` under the \
                         Path Item's or the operation's `parameters`"
                    ),
                );
            }
        }
        for p in &declared {
            if !names.contains(&p.name) {
                ok = false;
                t.issue(
                    &p.site,
                    label.clone(),
                    format!(
                        "path parameter `{}` does not appear in the template `{}`",
                        p.name, op.path
                    ),
                    "remove the parameter, fix its name, or add `{name}` to the path",
                );
            } else if !p.node.flag("required") {
                ok = false;
                t.issue(
                    &p.node,
                    label.clone(),
                    format!("path parameter `{}` must have `required: true`", p.name),
                    "path parameters are always required: add `required: true`",
                );
            }
        }
        t.unit(ok);
    }
}

#[cfg(test)]
mod tests {
    use super::template_names;

    #[test]
    fn templates() {
        assert_eq!(template_names("/a/{b}/c/{d}"), Ok(vec!["b", "d"]));
        assert_eq!(template_names("/a/{b}.{fmt}"), Ok(vec!["b", "fmt"]));
        assert!(template_names("/a/{b").is_err());
        assert!(template_names("/a/b}").is_err());
        assert!(template_names("/a/{}").is_err());
        assert!(template_names("/a/{{b}}").is_err());
    }
}
