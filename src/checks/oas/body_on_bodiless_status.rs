use super::walk::{check_apis, Api, Node, Tally};
use crate::artifact::document::unescape_pointer_segment;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct BodyOnBodilessStatus;

const DOCS: &str = r#"## What it checks
That no body is documented where HTTP has none: a `204` (No Content) or `304` (Not Modified)
response, and any response of a `HEAD` operation, declares no `content` (a non-empty
`content` map); and a `GET`, `DELETE` or `HEAD` operation declares no `requestBody`. One
finding per place (a shared response component is reported once, with the operations that
use it). Partial credit: operations without such a body / operations.

## Why it matters
HTTP semantics are part of the API's contract (Week 2: RESTful API design). A `204` or `304`
response and any response to `HEAD` never carry a body (RFC 9110), so a schema there
describes nothing a client will receive, and generated clients may try to parse a body that
is not sent. A body on `GET`, `DELETE` or `HEAD` has no defined meaning: proxies, gateways
and HTTP clients (Week 4) may drop it or reject the request, so the operation only works
when nothing sits in between.

## How to fix
Return `200` with the body if there is something to return, or drop the `content` of the
`204`/`304` response. Move the input of a `GET` or `DELETE` into path or query parameters
(or use `POST` on a search resource for complex queries).

## Example
```yaml
delete:
  operationId: cancelOrder
  parameters:
    - {name: orderId, in: path, required: true, schema: {type: string}}
  responses:
    '204': {description: Cancelled.}
```
"#;

impl TypedCheck for BodyOnBodilessStatus {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS021",
        name: "body-on-bodiless-status",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A 204/304 or HEAD response has content, or a GET/DELETE/HEAD operation has a requestBody",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operations have no body where HTTP has none",
                "the documents have no operations",
            ),
            Err(r) => r,
        }
    }
}

fn has_content<'s>(n: &Node<'s>) -> Option<Node<'s>> {
    n.get("content")
        .filter(|c| c.value.as_object().is_some_and(|m| !m.is_empty()))
}

/// The name of a response component (`NoContent`) when the response is a `$ref` to one.
fn component(site: &Node<'_>) -> Option<String> {
    site.ref_str()
        .and_then(|r| r.rsplit('/').next())
        .map(|s| unescape_pointer_segment(s).into_owned())
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    for op in ops {
        let mut ok = true;
        let head = op.method == "head";
        if matches!(op.method, "get" | "delete" | "head") {
            if let Some(rb) = op.op.get("requestBody") {
                ok = false;
                t.issue(
                    &rb,
                    Some(op.label()),
                    format!(
                        "a {} operation declares a `requestBody`",
                        op.method.to_ascii_uppercase()
                    ),
                    "pass the input as path or query parameters (or use POST on a search resource) and remove \
                     `requestBody`",
                );
            }
        }
        for r in api.responses(&op) {
            let bodiless = matches!(r.code, "204" | "304");
            if !(bodiless || head) {
                continue;
            }
            let Some(content) = has_content(&r.node) else { continue };
            ok = false;
            let (what, used) = match component(&r.site) {
                Some(name) => (format!("response `{name}`"), format!(" (used for status {})", r.code)),
                None => (format!("response {}", r.code), String::new()),
            };
            let (message, help) = if bodiless {
                (
                    format!("{what}{used} declares `content`, but a {} response has no body", r.code),
                    format!(
                        "a {} response has no body: remove `content`, or return `200` if there is a body",
                        r.code
                    ),
                )
            } else {
                (
                    format!("{what} of a HEAD operation declares `content`"),
                    "a response to HEAD has no body: remove `content` (describe the headers only)".to_string(),
                )
            };
            t.issue(&content, Some(op.label()), message, help);
        }
        t.unit(ok);
    }
}
