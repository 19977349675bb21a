use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct InvalidStatusCode;

const DOCS: &str = r#"## What it checks
That every key of every operation's `responses` is an HTTP status code from 100 to 599, a
range `1XX` to `5XX` (upper-case `X`), or `default`. One finding per operation lists its bad
keys. Partial credit: operations whose response keys are all valid / operations.

## Why it matters
Status codes are the first thing a client branches on (Week 2: RESTful API design; Week 4:
resilient synchronous communication, where retry and circuit-breaker policies key off 5xx and
429). A key such as `20`, `600`, `2xx` or `OK` is ignored or rejected by tools, so the
response it describes is not part of the contract.

## How to fix
Use the exact code (`201`, `404`, `503`), an upper-case range (`5XX`), or `default` for any
other response. Quote codes in YAML (`'200':`) so JSON tooling reads them as strings.

## Example
```yaml
responses:
  '201': {description: Created.}
  '4XX': {$ref: '#/components/responses/ClientError'}
  default: {$ref: '#/components/responses/Problem'}
```
"#;

impl TypedCheck for InvalidStatusCode {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS005",
        name: "invalid-status-code",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A response key is not a status code (100-599), a 1XX-5XX range or default",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish("operations use valid status codes", "the documents have no operations"),
            Err(r) => r,
        }
    }
}

/// Why `key` is not a valid response key, or `None` when it is.
pub fn problem(key: &str) -> Option<&'static str> {
    if key == "default" {
        return None;
    }
    let b = key.as_bytes();
    if b.len() == 3 && b.iter().all(u8::is_ascii_digit) {
        return match key.parse::<u16>() {
            Ok(100..=599) => None,
            _ => Some("outside 100-599"),
        };
    }
    if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b[1..].iter().all(|c| *c == b'X') {
        return None;
    }
    if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b[1..].iter().all(|c| matches!(c, b'x' | b'X')) {
        return Some("ranges use an upper-case X");
    }
    if key.eq_ignore_ascii_case("default") {
        return Some("`default` is lower case");
    }
    Some("not a status code")
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    for op in ops {
        let Some(responses) = op.op.get("responses") else {
            t.unit(true);
            continue;
        };
        let bad: Vec<String> = responses
            .entries()
            .iter()
            .filter_map(|(k, _)| problem(k).map(|why| format!("`{k}` ({why})")))
            .collect();
        t.unit(bad.is_empty());
        if !bad.is_empty() {
            let first = responses
                .entries()
                .into_iter()
                .find(|(k, _)| problem(k).is_some())
                .map(|(_, n)| n)
                .unwrap_or(responses);
            t.issue(
                &first,
                Some(op.label()),
                format!("invalid response key {}", bad.join(", ")),
                "use a status code from 100 to 599 (`'404'`), a range `1XX`-`5XX`, or `default`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn keys() {
        for ok in ["200", "599", "100", "4XX", "default"] {
            assert_eq!(problem(ok), None, "{ok}");
        }
        for bad in ["600", "099", "20", "2xx", "6XX", "OK", "Default", "2000", ""] {
            assert!(problem(bad).is_some(), "{bad}");
        }
    }
}
