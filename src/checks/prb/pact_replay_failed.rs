use std::time::Duration;

use serde_json::{json, Value};

use crate::artifact::json_value_kind as kind;
use crate::artifact::pact::{BodyContent, Http, Interaction, Matcher, PactFile, Rules, Seg};
use crate::artifact::Loaded;
use crate::checks::ctr::support::load_pacts;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, TypedCheck};
use crate::probe::{LiveService, System};

use super::support::{encode, ready_services, with_live, TIMEOUT_PARAM};

pub struct PactReplayFailed;

const DOCS: &str = r#"## What it checks
Replays every HTTP interaction of every pact whose provider runs against the live provider,
as a Pact provider verification does: first it sets up each of the interaction's provider
states (a `POST` to the provider's `run.provider_states` path with
`{"state": ..., "params": ..., "action": "setup"}`, or the same JSON on the stdin of the
program `run.provider_states_command`, run like the service and expected to exit 0), then
sends the request as written and
compares the answer with Pact's semantics:

- the status is the expected one (or in the class a v4 `statusCode` rule allows);
- every expected header is sent (media types compare without parameters);
- the body matches: values equal unless a matching rule (`type`, `regex`, `integer`,
  `decimal`, `number`, `boolean`, `include`, `date`/`time`/`timestamp`, with `min`/`max`
  for arrays) says otherwise; rules cascade to children; objects may carry keys the consumer
  does not expect; arrays match element by element.

Afterwards it calls the state handler with `"action": "teardown"`. Without a state
handler the interactions are replayed as they are, with a warning naming each state no
handler set up; each finding names the states of its interaction (two interactions with one
description are told apart by their states). Partial credit: interactions honoured /
interactions replayed; not applicable when the pacts of the running providers hold only
message interactions (they are not replayed over HTTP). The static check CTR003 compares
pacts with the OpenAPI document; this one proves the provider really answers them.

## Why it matters
Consumer-driven contracts only protect a deployment if the provider is verified against them
(Week 8: contract testing; can-i-deploy). A contract that the running provider does not
honour is a broken consumer waiting for the next release.

## How to fix
Read the mismatch: the interaction, the request sent and where the answer differs. Either the
provider changed (restore the behaviour, or agree a new contract with the consumer) or the
pact is too strict (use matchers such as `like`/`type` and `term`/`regex` for values the
provider generates). Declare the provider-state endpoint (or a state command, for a provider
whose data is seeded from outside: a database script) and make it seed the data each state
names.

## Example
```toml
[service.run]
command = ["./orders"]
provider_states = "/_pact/provider-states"   # POST {"state", "params", "action"}
# or: provider_states_command = ["node", "states.js"]   # the same JSON on stdin
```
"#;

/// The parameters (shared with other probe checks).
pub type Params = super::support::TimeoutParams;

impl TypedCheck for PactReplayFailed {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "PRB008",
        name: "pact-replay-failed",
        area: Area::Prb,
        kind: Kind::Probe,
        summary: "A running provider does not answer a pact interaction the way the consumer's contract expects",
        docs: DOCS,
        params: &[TIMEOUT_PARAM],
    };

    fn run(ctx: &Ctx<'_>, params: &Params) -> CheckResult {
        if ctx.submission.pacts.is_empty() {
            return CheckResult::absent("no pact files are declared (`[contracts] pacts`)");
        }
        with_live(ctx, |system| evaluate(ctx, params, system))
    }
}

fn evaluate(ctx: &Ctx<'_>, p: &Params, system: &System) -> CheckResult {
    let timeout = Duration::from_millis(p.timeout_ms.clamp(1, 120_000));
    let ready = ready_services(system);
    let mut findings = Vec::new();
    let mut evidence = Vec::new();
    let (mut good, mut total) = (0, 0);
    // Pacts whose provider is running.
    let mut named_running = 0;
    for (r, loaded) in load_pacts(ctx) {
        let Loaded::Ok(pact) = loaded else { continue };
        let Some(provider) = pact.provider.as_ref() else {
            continue;
        };
        let Some(svc) = ready.iter().find(|s| s.name == provider.name) else {
            continue;
        };
        let handler = StateHandler::of(ctx, svc);
        let (mut g, mut t) = (0, 0);
        let mut unhandled: Vec<String> = Vec::new();
        for (it, h) in pact.http() {
            t += 1;
            let given = states(&pact, it);
            let mut problems = replay(ctx, system, svc, &pact, it, h, handler.as_ref(), timeout);
            if handler.is_none() {
                for (name, _) in &given {
                    if !unhandled.contains(name) {
                        unhandled.push(name.clone());
                    }
                }
            }
            if problems.is_empty() {
                g += 1;
            } else {
                let mut help = String::from(
                    "make the provider answer as the contract expects, or, if the consumer is too strict, \
                     loosen the pact with matchers (type, regex) for values the provider generates",
                );
                if problems[0].starts_with("its provider-state") {
                    help = "make the provider-state handler succeed for this state (it must seed the data the state \
                            names and answer 2xx, or exit 0 for `provider_states_command`), then replay again"
                        .into();
                } else if handler.is_none() && !given.is_empty() {
                    problems.insert(
                        0,
                        format!(
                            "no state handler set up {} first",
                            quoted(given.iter().map(|(n, _)| n.as_str()))
                        ),
                    );
                    help = format!(
                        "declare a provider-state handler in `[service.run]` (the endpoint `provider_states`, or \
                         the program `provider_states_command`) and make it seed the data each state names; then \
                         {help}"
                    );
                }
                let f = ctx
                    .document_finding(
                        &r.rel,
                        &pact.doc,
                        &it.pointer,
                        format!(
                            "`{}` does not honour {}{} (`{} {}`): {}",
                            svc.name,
                            it.label(),
                            if given.is_empty() {
                                String::new()
                            } else {
                                format!(" given {}", quoted(given.iter().map(|(n, _)| n.as_str())))
                            },
                            h.request.method,
                            h.request.path,
                            problems.join("; ")
                        ),
                    )
                    .help(help);
                findings.push(f);
            }
        }
        evidence.push(if t == 0 {
            format!("{}: no HTTP interaction to replay against `{}`", r.rel, svc.name)
        } else {
            format!("{}: {g} of {t} interactions honoured by `{}`", r.rel, svc.name)
        });
        named_running += 1;
        if !unhandled.is_empty() {
            evidence.push(format!(
                "warning: no state handler for {} {}: `{}` declares neither a `provider_states` endpoint nor a \
                 `provider_states_command`, so the interactions were replayed without their states set up",
                if unhandled.len() == 1 { "state" } else { "states" },
                quoted(unhandled.iter().map(String::as_str)),
                svc.name
            ));
        }
        good += g;
        total += t;
    }
    if total == 0 {
        if named_running == 0 {
            return CheckResult::failed_because("no pact names a running provider: no interaction could be replayed");
        }
        // Message interactions are not replayed over HTTP: nothing here for this item to judge.
        return CheckResult::not_applicable(
            "the pacts that name a running provider hold no HTTP interaction (message interactions are not replayed), so \
             there is nothing to replay",
        )
        .with_evidence_lines(evidence);
    }
    CheckResult::ratio(good, total, findings).with_evidence_lines(evidence)
}

/// `"a", "b"`.
fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

/// The provider states of an interaction with their params, as written in the pact.
fn states(pact: &PactFile, it: &Interaction) -> Vec<(String, Value)> {
    let at = |k: &str| pact.doc.value.pointer(&format!("{}/{k}", it.pointer));
    if let Some(list) = at("providerStates").and_then(Value::as_array) {
        return list
            .iter()
            .filter_map(|s| {
                let name = s.get("name")?.as_str()?.to_string();
                Some((name, s.get("params").cloned().unwrap_or(json!({}))))
            })
            .collect();
    }
    match at("providerState")
        .or_else(|| at("provider_state"))
        .and_then(Value::as_str)
    {
        Some(s) => vec![(s.to_string(), json!({}))],
        None => Vec::new(),
    }
}

/// How long a provider-state command may run: a program starts slower than an endpoint
/// answers (an interpreter, a database client), so it gets at least this, or `timeout_ms`.
const STATE_COMMAND_DEADLINE: Duration = Duration::from_secs(20);

/// How a provider's states are set up: `run.provider_states` (an endpoint the grader POSTs
/// each state to) or `run.provider_states_command` (a program given the state on stdin).
enum StateHandler {
    Endpoint(String),
    Command(Vec<String>),
}

impl StateHandler {
    fn of(ctx: &Ctx<'_>, svc: &LiveService) -> Option<StateHandler> {
        let run = ctx.submission.services.get(svc.index)?.run.as_ref()?;
        if let Some(path) = &run.provider_states {
            return Some(StateHandler::Endpoint(path.clone()));
        }
        (!run.provider_states_command.is_empty()).then(|| StateHandler::Command(run.provider_states_command.clone()))
    }
}

#[allow(clippy::too_many_arguments)]
fn replay(
    ctx: &Ctx<'_>,
    system: &System,
    svc: &LiveService,
    pact: &PactFile,
    it: &Interaction,
    h: &Http,
    handler: Option<&StateHandler>,
    timeout: Duration,
) -> Vec<String> {
    let mut problems = Vec::new();
    let states = states(pact, it);
    let state_call = |name: &str, params: &Value, action: &str| -> Result<(), String> {
        let body = json!({"state": name, "params": params, "action": action}).to_string();
        match handler {
            None => Ok(()),
            Some(StateHandler::Endpoint(path)) => {
                let url = svc.url(path).unwrap_or_default();
                match system
                    .client
                    .post(&url, &[("Content-Type", "application/json")], body.as_bytes(), timeout)
                {
                    Ok(r) if r.is_success() => Ok(()),
                    Ok(r) => Err(format!(
                        "its provider-state endpoint answered {} for \"{name}\"",
                        r.status
                    )),
                    Err(e) => Err(format!("its provider-state endpoint failed for \"{name}\": {e}")),
                }
            }
            Some(StateHandler::Command(argv)) => system
                .run_helper(
                    ctx.submission,
                    svc,
                    argv,
                    body.as_bytes(),
                    timeout.max(STATE_COMMAND_DEADLINE),
                )
                .map_err(|e| {
                    format!(
                        "its provider-state command failed to {} \"{name}\": {e}",
                        if action == "setup" { "set up" } else { "tear down" }
                    )
                }),
        }
    };
    for (name, params) in &states {
        if let Err(e) = state_call(name, params, "setup") {
            problems.push(e);
            return problems;
        }
    }
    let req = &h.request;
    // Characters a request line cannot carry (a pact path is written decoded).
    let mut target: String = req
        .path
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() {
                c.to_string()
            } else {
                encode(&c.to_string())
            }
        })
        .collect();
    let query: Vec<String> = req
        .query
        .iter()
        .flat_map(|f| {
            f.values
                .iter()
                .map(move |v| format!("{}={}", encode(&f.name), encode(v)))
        })
        .collect();
    if !query.is_empty() {
        target = format!("{target}?{}", query.join("&"));
    }
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|f| (f.name.clone(), f.values.join(", ")))
        .collect();
    let mut headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let body: Option<Vec<u8>> = req.body.as_ref().and_then(|b| match &b.content {
        BodyContent::Json(v) => Some(v.to_string().into_bytes()),
        BodyContent::Text(t) => Some(t.clone().into_bytes()),
        BodyContent::Binary => None,
    });
    let json_type;
    if body.is_some() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        json_type = req
            .body
            .as_ref()
            .and_then(|b| b.content_type.clone())
            .unwrap_or_else(|| "application/json".into());
        headers.push(("Content-Type", json_type.as_str()));
    }
    let url = svc.url(&target).unwrap_or_default();
    let answer = system
        .client
        .send(&req.method, &url, &headers, body.as_deref(), timeout);
    for (name, params) in &states {
        let _ = state_call(name, params, "teardown");
    }
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            problems.push(format!("no answer: {e}"));
            return problems;
        }
    };
    let res = &h.response;
    let status_ok = if res.rules.status.is_empty() {
        answer.status == res.status
    } else {
        res.rules.status.iter().any(|c| status_in_class(answer.status, c))
    };
    if !status_ok {
        problems.push(format!("status {} instead of {}", answer.status, res.status));
    }
    for f in &res.headers {
        let expected = f.values.join(", ");
        match answer.header(&f.name) {
            None => problems.push(format!("header `{}` missing", f.name)),
            Some(v) if f.name.eq_ignore_ascii_case("content-type") => {
                let norm = |m: &str| m.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                if norm(v) != norm(&expected) {
                    problems.push(format!("Content-Type `{v}` instead of `{expected}`"));
                }
            }
            Some(v) if v.trim() != expected.trim() && !header_is_generated(&f.name) => {
                problems.push(format!("header `{}` is `{v}`, expected `{expected}`", f.name))
            }
            Some(_) => {}
        }
    }
    if let Some(b) = &res.body {
        if let BodyContent::Json(expected) = &b.content {
            match serde_json::from_slice::<Value>(&answer.body) {
                Ok(actual) => {
                    let mut mismatches = Vec::new();
                    matches_at(expected, &actual, &mut Vec::new(), &res.rules, &mut mismatches);
                    let n = mismatches.len();
                    problems.extend(mismatches.into_iter().take(4));
                    if n > 4 {
                        problems.push(format!("and {} more body mismatches", n - 4));
                    }
                }
                Err(_) => problems.push("the body is not JSON".into()),
            }
        }
    }
    problems
}

/// Headers whose value a provider generates per response (ids, dates): presence is enough.
fn header_is_generated(name: &str) -> bool {
    ["date", "location", "etag", "last-modified", "x-request-id"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

/// A v4 status class (`success`, `clientError`, ... or a code) containing `status`.
fn status_in_class(status: u16, class: &str) -> bool {
    match class {
        "information" => (100..200).contains(&status),
        "success" => (200..300).contains(&status),
        "redirect" => (300..400).contains(&status),
        "clientError" => (400..500).contains(&status),
        "serverError" => (500..600).contains(&status),
        "nonError" => status < 400,
        "error" => status >= 400,
        code => code.parse::<u16>() == Ok(status),
    }
}

fn path_text(at: &[Seg]) -> String {
    let mut s = String::from("$");
    for seg in at {
        match seg {
            Seg::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            Seg::Star => s.push_str("[*]"),
        }
    }
    s
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Pact's body matching: `expected` against `actual` at path `at`.
fn matches_at(expected: &Value, actual: &Value, at: &mut Vec<Seg>, rules: &Rules, out: &mut Vec<String>) {
    if out.len() > 20 {
        return;
    }
    let here = path_text(at);
    let rule = rules.rule_at(at).filter(|r| !r.matchers.is_empty());
    if let Some(rule) = rule {
        let own = rule.path.len() == at.len();
        let verdicts: Vec<Result<(), String>> = rule
            .matchers
            .iter()
            .map(|m| check_matcher(m, expected, actual, own, &here))
            .collect();
        // `combine: OR` needs one matcher to hold, the default (AND) all of them.
        let failed = if rule.any && verdicts.iter().any(Result::is_ok) {
            None
        } else {
            verdicts.into_iter().find_map(Result::err)
        };
        if let Some(why) = failed {
            out.push(why);
            return;
        }
        // Type-like matchers cascade: compare children by the same rules.
        match (expected, actual) {
            (Value::Array(e), Value::Array(a)) => {
                if let Some(template) = e.first() {
                    for (i, x) in a.iter().enumerate().take(100) {
                        at.push(Seg::Index(i));
                        matches_at(e.get(i).unwrap_or(template), x, at, rules, out);
                        at.pop();
                    }
                }
            }
            (Value::Object(e), Value::Object(a)) => match_keys(e, a, at, rules, out),
            _ => {}
        }
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => match_keys(e, a, at, rules, out),
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!("`{here}` has {} items, the pact expects {}", a.len(), e.len()));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                at.push(Seg::Index(i));
                matches_at(ev, av, at, rules, out);
                at.pop();
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => {}
        (e, a) if e == a => {}
        (e, a) => out.push(format!("`{here}` is {} where the pact expects {}", short(a), short(e))),
    }
}

/// Every expected key is present and matches; keys the consumer does not expect are fine.
fn match_keys(
    expected: &serde_json::Map<String, Value>,
    actual: &serde_json::Map<String, Value>,
    at: &mut Vec<Seg>,
    rules: &Rules,
    out: &mut Vec<String>,
) {
    for (k, ev) in expected {
        at.push(Seg::Field(k.clone()));
        match actual.get(k) {
            Some(av) => matches_at(ev, av, at, rules, out),
            None => out.push(format!("`{}` is missing", path_text(at))),
        }
        at.pop();
    }
}

/// One matcher of a rule against the actual value at `here`; the mismatch, if any.
fn check_matcher(m: &Matcher, expected: &Value, actual: &Value, own: bool, here: &str) -> Result<(), String> {
    let ok = match m.kind.as_str() {
        "equality" => expected == actual,
        "regex" => match (&m.value, actual) {
            (Some(re), Value::String(s)) => regex_matches(re, s),
            (Some(re), Value::Number(n)) => regex_matches(re, &n.to_string()),
            _ => false,
        },
        "integer" => actual.is_i64() || actual.is_u64(),
        "decimal" => actual.is_f64(),
        "number" => actual.is_number(),
        "boolean" => actual.is_boolean(),
        "null" => actual.is_null(),
        "include" => match (&m.value, actual) {
            (Some(v), Value::String(s)) => s.contains(v.as_str()),
            _ => false,
        },
        // The format patterns are Java date patterns; only the type is checked.
        "date" | "time" | "timestamp" | "datetime" | "semver" => actual.is_string(),
        "notEmpty" => match actual {
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            Value::Null => false,
            _ => true,
        },
        _ => same_type(expected, actual) || (expected.is_number() && actual.is_number()),
    };
    if !ok {
        let what = match (&m.kind[..], &m.value) {
            ("regex", Some(re)) => format!("does not match /{re}/"),
            ("type", _) => format!("is {} where the pact expects {}", kind(actual), kind(expected)),
            (k, _) => format!("fails the `{k}` matcher"),
        };
        return Err(format!("`{here}` {} {what}", short(actual)));
    }
    if own && m.kind == "type" {
        if let Value::Array(a) = actual {
            if m.min.is_some_and(|min| (a.len() as u64) < min) || m.max.is_some_and(|max| (a.len() as u64) > max) {
                return Err(format!("`{here}` has {} items, outside the pact's bounds", a.len()));
            }
        }
    }
    Ok(())
}

/// Whether `s` matches the regular expression (through the JSON Schema `pattern` keyword, so
/// no second regex engine is needed); an invalid expression matches nothing.
fn regex_matches(re: &str, s: &str) -> bool {
    jsonschema::options()
        .build(&json!({"type": "string", "pattern": re}))
        .map(|v| v.is_valid(&json!(s)))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::pact::{Matcher, Rule};

    fn rules(list: &[(&[Seg], &str, Option<&str>)]) -> Rules {
        Rules {
            body: list
                .iter()
                .map(|(p, k, v)| Rule {
                    path: p.to_vec(),
                    matchers: vec![Matcher {
                        kind: k.to_string(),
                        min: None,
                        max: None,
                        value: v.map(str::to_string),
                    }],
                    any: false,
                    written: String::new(),
                })
                .collect(),
            status: Vec::new(),
        }
    }

    fn check(expected: Value, actual: Value, r: &Rules) -> Vec<String> {
        let mut out = Vec::new();
        matches_at(&expected, &actual, &mut Vec::new(), r, &mut out);
        out
    }

    #[test]
    fn pact_matching_semantics() {
        let none = Rules::default();
        // Extra keys are fine; values must be equal without rules.
        assert!(check(json!({"a": 1}), json!({"a": 1, "b": 2}), &none).is_empty());
        assert_eq!(check(json!({"a": 1}), json!({"a": 2}), &none).len(), 1);
        assert_eq!(check(json!({"a": 1}), json!({}), &none), vec!["`$.a` is missing"]);
        assert_eq!(check(json!([1, 2]), json!([1]), &none).len(), 1);
        // A type rule cascades: any values of the same types.
        let ty = rules(&[(&[Seg::Field("items".into())], "type", None)]);
        assert!(check(
            json!({"items": [{"id": "x"}]}),
            json!({"items": [{"id": "y"}, {"id": "z"}]}),
            &ty
        )
        .is_empty());
        assert_eq!(
            check(json!({"items": [{"id": "x"}]}), json!({"items": [{"id": 3}]}), &ty).len(),
            1
        );
        // Regex.
        let re = rules(&[(&[Seg::Field("id".into())], "regex", Some("^ord_[0-9A-Z]{4}$"))]);
        assert!(check(json!({"id": "ord_AAAA"}), json!({"id": "ord_1234"}), &re).is_empty());
        assert_eq!(
            check(json!({"id": "ord_AAAA"}), json!({"id": "pay_1234"}), &re).len(),
            1
        );
        // `combine: OR`: a regex or null.
        let m = |kind: &str, value: Option<&str>| Matcher {
            kind: kind.into(),
            min: None,
            max: None,
            value: value.map(str::to_string),
        };
        let mut either = Rules::default();
        either.body.push(Rule {
            path: vec![Seg::Field("note".into())],
            matchers: vec![m("regex", Some("^n")), m("null", None)],
            any: true,
            written: String::new(),
        });
        assert!(check(json!({"note": "nice"}), json!({"note": null}), &either).is_empty());
        assert!(check(json!({"note": "nice"}), json!({"note": "new"}), &either).is_empty());
        assert_eq!(check(json!({"note": "nice"}), json!({"note": "bad"}), &either).len(), 1);
        either.body[0].any = false;
        assert_eq!(check(json!({"note": "nice"}), json!({"note": null}), &either).len(), 1);
    }
}
