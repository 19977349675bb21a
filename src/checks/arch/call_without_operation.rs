use crate::artifact::Loaded;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct CallWithoutOperation;

const DOCS: &str = r#"## What it checks
That every synchronous call lands on an operation of the callee's OpenAPI document: the caller
names the operations it uses (`uses = { payments = ["authorizePayment"] }`), and each one is an
`operationId` in the callee's spec. Partial credit: calls that check out / calls. Skipped when
there are no synchronous calls.

## Why it matters
Contract-first design (Week 2: contract testing, consumer-driven contracts): a dependency is
a dependency on specific operations of a published contract. A call that names no operation,
or an operation the provider does not publish, is an undocumented coupling that no contract
test covers and that breaks silently when the provider evolves.

## How to fix
Add the operationIds each caller uses under `uses`, and make sure the callee's OpenAPI document
publishes them (or correct the names).

## Example
```toml
[[service]]
name = "orders"
calls = ["payments"]
uses = { payments = ["authorizePayment", "voidPayment"] }
```
"#;

/// The operationIds of an OpenAPI document (paths only; path-item `$ref`s are not followed).
fn operation_ids(value: &serde_json::Value) -> Vec<String> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let mut out = Vec::new();
    if let Some(paths) = value.get("paths").and_then(|p| p.as_object()) {
        for item in paths.values() {
            for m in METHODS {
                if let Some(id) = item
                    .get(m)
                    .and_then(|op| op.get("operationId"))
                    .and_then(|i| i.as_str())
                {
                    out.push(id.to_string());
                }
            }
        }
    }
    out
}

impl TypedCheck for CallWithoutOperation {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH008",
        name: "call-without-operation",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "A synchronous call does not land on an operation of the callee's OpenAPI document",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let sub = ctx.submission;
        let mut total = 0;
        let mut bad = 0;
        let mut findings = Vec::new();
        for s in &sub.services {
            for call in &s.calls {
                total += 1;
                let before = findings.len();
                check_call(ctx, s, call, &mut findings);
                if findings.len() > before {
                    bad += 1;
                }
            }
        }
        if ctx.submission.services.is_empty() {
            return CheckResult::absent("no services are declared");
        }
        if total == 0 {
            return CheckResult::not_applicable("no synchronous calls");
        }
        CheckResult::ratio(total - bad, total, findings).with_evidence(format!(
            "{} of {total} synchronous calls land on a published operation",
            total - bad
        ))
    }
}

fn check_call(
    ctx: &Ctx<'_>,
    s: &crate::submission::Service,
    call: &crate::submission::Named,
    findings: &mut Vec<crate::checks::Finding>,
) {
    let Some(callee) = ctx.submission.service(&call.name) else {
        return;
    };
    let Some(uses) = s.uses.get(&call.name).filter(|u| !u.is_empty()) else {
        findings.push(
            ctx.manifest_finding(
                call.span.as_ref(),
                format!("`{}` calls `{}` but names no operation it uses", s.name.name, call.name),
            )
            .help(format!(
                "add `uses = {{ {} = [\"<operationId>\"] }}` to `{}`",
                call.name, s.name.name
            )),
        );
        return;
    };
    let ids = match callee.openapi.as_ref().and_then(|r| ctx.artifacts.openapi(r)) {
        Some(Loaded::Ok(doc)) => operation_ids(&doc.doc.value),
        _ => {
            findings.push(
                ctx.manifest_finding(
                    call.span.as_ref(),
                    format!(
                        "`{}` calls `{}`, which has no readable OpenAPI document",
                        s.name.name, call.name
                    ),
                )
                .help(format!(
                    "publish the contract of `{}` (see SUB002 and OAS001)",
                    call.name
                )),
            );
            return;
        }
    };
    for u in uses.iter().filter(|u| !ids.contains(&u.name)) {
        let hint = crate::diag::suggestion_suffix(&u.name, ids.iter().map(String::as_str));
        findings.push(
            ctx.manifest_finding(
                u.span.as_ref(),
                format!(
                    "`{}` uses `{}` of `{}`, which its OpenAPI document does not publish{hint}",
                    s.name.name, u.name, call.name
                ),
            )
            .help(format!(
                "add the operation to the spec of `{}`, or correct the operationId",
                call.name
            )),
        );
    }
}
