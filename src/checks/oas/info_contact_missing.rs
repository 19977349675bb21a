use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct InfoContactMissing;

const DOCS: &str = r#"## What it checks
That each OpenAPI document says who owns the API and what it is for: `info.contact` with a
`name` and an `email` or `url`, and a non-empty `info.description`. Partial credit:
documents with both / documents.

## Why it matters
Every service needs a clear owner (Week 10: microservices governance, automated service
lifecycle management): when a consumer finds a bug, needs a new field or must be warned of a
breaking change, the contract is where they look for the team behind it. The description is
the first thing a developer portal shows (Week 2: API strategy, contract-first development):
without it, consumers must guess the purpose and boundaries of the service.

## How to fix
Add `info.contact` with the owning team's name and an email or URL (a channel, an issue
tracker), and an `info.description` of what the API does.

## Example
```yaml
info:
  title: Orders API
  version: 1.4.0
  description: Places, tracks and cancels customer orders.
  contact:
    name: Orders team
    email: orders-team@shopflow.example
    url: https://wiki.shopflow.example/teams/orders
```
"#;

impl TypedCheck for InfoContactMissing {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS027",
        name: "info-contact-missing",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "An OpenAPI document names no owner (info.contact) or has no info.description",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "documents name their owner and describe the API",
                "no OpenAPI documents to check",
            ),
            Err(r) => r,
        }
    }
}

fn filled(s: Option<&str>) -> bool {
    s.is_some_and(|s| !s.trim().is_empty())
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let root = api.root();
    let Some(info) = root.get("info").filter(|i| i.value.is_object()) else {
        t.unit(false);
        t.issue(
            &root,
            None,
            "the document has no `info`",
            "add `info:` with `title`, `version`, `description` and `contact: {name: ..., email: ...}`",
        );
        return;
    };
    let mut ok = true;
    match info.get("contact").filter(|c| c.value.is_object()) {
        None => {
            ok = false;
            t.issue(
                &info,
                None,
                "`info` has no `contact`: the document does not say who owns this API",
                "add `contact: {name: Orders team, email: orders-team@example.com}` (or a `url`) to `info`",
            );
        }
        Some(contact) => {
            let mut missing = Vec::new();
            if !filled(contact.str("name")) {
                missing.push("a `name`");
            }
            if !filled(contact.str("email")) && !filled(contact.str("url")) {
                missing.push("an `email` or `url`");
            }
            if !missing.is_empty() {
                ok = false;
                t.issue(
                    &contact,
                    None,
                    format!("`info.contact` lacks {}", missing.join(" and ")),
                    "give the owning team's `name` and a way to reach it (`email`, or `url` of a channel or tracker)",
                );
            }
        }
    }
    if !filled(info.str("description")) {
        ok = false;
        t.issue(
            &info,
            None,
            "`info` has no `description` of what the API is for",
            "add `description:` saying what the service does and for whom",
        );
    }
    t.unit(ok);
}
