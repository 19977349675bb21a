//! OpenAPI structure by the OpenAPI Initiative's own JSON Schemas, vendored under `schemas/`
//! (see `schemas/README.md`: package, version, licence) and compiled in: never fetched.
//!
//! * OpenAPI 3.1 documents are validated against `schema-base`: the 3.1 document schema plus
//!   the OAS base dialect for every Schema Object (the plain document schema does not look
//!   inside Schema Objects). This is what OAS001 reports for 3.1.
//! * The official 3.0 schema (2021-09-28) is compiled too: OAS001 judges 3.0 through `oas30`
//!   (the typed `openapiv3` model, which also locates problems the schema cannot name), and
//!   the corpus test compares both verdicts.
//!
//! Every error of the validator is kept (a document's problems are all reported in one run),
//! each at the JSON pointer of the offending value, in OpenAPI's words: the `$defs` of the
//! schema name the OpenAPI object that is wrong ("a Parameter Object needs `schema` or
//! `content`"), never the validator's or a Rust type's.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::Value;

use super::oas30::{name_at, StructureProblem};

const SCHEMA_31: &str = include_str!("../../schemas/openapi-3.1/schema.json");
const SCHEMA_BASE_31: &str = include_str!("../../schemas/openapi-3.1/schema-base.json");
const DIALECT_31: &str = include_str!("../../schemas/openapi-3.1/dialect-base.json");
const META_31: &str = include_str!("../../schemas/openapi-3.1/meta-base.json");
const SCHEMA_30: &str = include_str!("../../schemas/openapi-3.0/schema.json");

/// The URIs the 3.1 schemas are registered under (those of the package they come from: the
/// files carry no `$id`).
const URI_SCHEMA_31: &str = "https://spec.openapis.org/oas/3.1/schema";
const URI_SCHEMA_BASE_31: &str = "https://spec.openapis.org/oas/3.1/schema-base";
const URI_DIALECT_31: &str = "https://spec.openapis.org/oas/3.1/dialect/base";
const URI_META_31: &str = "https://spec.openapis.org/oas/3.1/meta/base";

/// Most problems reported per document (then one that counts the rest).
pub const MAX_PROBLEMS: usize = 50;

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("a vendored schema is JSON")
}

fn build_31() -> Result<Validator, String> {
    let registry = Registry::new()
        .draft(Draft::Draft202012)
        .add(URI_SCHEMA_31, parse(SCHEMA_31))
        .and_then(|b| b.add(URI_DIALECT_31, parse(DIALECT_31)))
        .and_then(|b| b.add(URI_META_31, parse(META_31)))
        .and_then(|b| b.add(URI_SCHEMA_BASE_31, parse(SCHEMA_BASE_31)))
        .and_then(|b| b.prepare())
        .map_err(|e| e.to_string())?;
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(&registry)
        .build(&serde_json::json!({ "$ref": URI_SCHEMA_BASE_31 }))
        .map_err(|e| e.to_string())
}

fn build_30() -> Result<Validator, String> {
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .build(&parse(SCHEMA_30))
        .map_err(|e| e.to_string())
}

fn validator_31() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| build_31().expect("the vendored OpenAPI 3.1 schemas compile"))
}

fn validator_30() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| build_30().expect("the vendored OpenAPI 3.0 schema compiles"))
}

/// The problems of an OpenAPI 3.1 document by the official `schema-base`.
pub fn check_31(doc: &Value) -> Vec<StructureProblem> {
    problems(validator_31(), doc, MAX_PROBLEMS)
}

/// The problems of an OpenAPI 3.0 document by the official 3.0 schema (2021-09-28).
pub fn check_30(doc: &Value) -> Vec<StructureProblem> {
    problems(validator_30(), doc, MAX_PROBLEMS)
}

fn problems(v: &Validator, doc: &Value, max: usize) -> Vec<StructureProblem> {
    if v.is_valid(doc) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in v.iter_errors(doc) {
        explain(&e, &mut out);
    }
    finish(out, max)
}

/// Drops repeats, and caps the list at [`MAX_PROBLEMS`].
fn finish(mut out: Vec<StructureProblem>, max: usize) -> Vec<StructureProblem> {
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert((p.pointer.clone(), p.message.clone())));
    if out.len() > max {
        let more = out.len() - max;
        out.truncate(max);
        out.push(StructureProblem {
            pointer: String::new(),
            message: format!("and {more} more problems like these"),
        });
    }
    out
}

/// The OpenAPI object a keyword location of the official schemas is about: the last `$defs`
/// (3.1) or `definitions` (3.0) name on the evaluation path.
fn object_name(eval_path: &str) -> Option<&str> {
    let mut name = None;
    let mut segs = eval_path.split('/');
    while let Some(s) = segs.next() {
        if s == "$defs" || s == "definitions" {
            name = segs.next().or(name);
        }
    }
    name
}

/// What to call an OpenAPI object named by a `$defs` key (`path-item`, `PathItem`).
fn title(def: &str) -> String {
    let known = match def {
        "path-item" | "PathItem" => "a Path Item Object",
        "parameter" | "Parameter" => "a Parameter Object",
        "request-body" | "RequestBody" => "a Request Body Object",
        "media-type" | "MediaType" => "a Media Type Object",
        "response" | "Response" => "a Response Object",
        "responses" | "Responses" => "a Responses Object",
        "header" | "Header" => "a Header Object",
        "security-scheme" | "SecurityScheme" => "a Security Scheme Object",
        "schema" | "Schema" => "a Schema Object",
        "operation" | "Operation" => "an Operation Object",
        "info" | "Info" => "the Info Object",
        "components" | "Components" => "the Components Object",
        "server" | "Server" => "a Server Object",
        "server-variable" | "ServerVariable" => "a Server Variable Object",
        "link" | "Link" => "a Link Object",
        "example" | "Example" => "an Example Object",
        "encoding" | "Encoding" => "an Encoding Object",
        "tag" | "Tag" => "a Tag Object",
        "reference" | "Reference" => "a Reference Object",
        "oauth-flows" | "OAuthFlows" => "an OAuth Flows Object",
        "license" | "License" => "the License Object",
        "contact" | "Contact" => "the Contact Object",
        "external-documentation" | "ExternalDocumentation" => "an External Documentation Object",
        "discriminator" | "Discriminator" => "a Discriminator Object",
        "xml" | "XML" => "an XML Object",
        _ => "",
    };
    if known.is_empty() {
        format!("`{def}`")
    } else {
        known.to_string()
    }
}

/// The member name of the value at `pointer`, if any.
fn key_at(pointer: &str) -> Option<String> {
    let last = pointer.rsplit('/').next().filter(|_| !pointer.is_empty())?;
    Some(super::document::unescape_pointer_segment(last).into_owned())
}

/// `a`, `` `a` or `b` ``, `` `a`, `b` or `c` ``.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn type_name(t: &str) -> &'static str {
    match t {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "number" => "a number",
        "integer" => "an integer",
        "boolean" => "true or false",
        "null" => "null",
        _ => "a value of another type",
    }
}

fn found(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_u64() || n.is_i64() => format!("the integer {n}"),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("`{b}`"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string \"{s}\""),
        other => super::value_kind(other).to_string(),
    }
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

/// Whether a branch of an `anyOf`/`oneOf` is one the value was plainly not meant for: it
/// fails on the value's own JSON type, or it is the Reference Object branch of a value that
/// has no `$ref`.
fn branch_misfit(branch: &[ValidationError<'_>], at: &str) -> bool {
    branch.iter().any(|e| {
        e.instance_path().as_str() == at
            && match e.kind() {
                ValidationErrorKind::Type { .. } => true,
                ValidationErrorKind::Required { property } => property.as_str() == Some("$ref"),
                _ => false,
            }
    })
}

/// Turns one error of the validator into problems in OpenAPI's words.
fn explain(e: &ValidationError<'_>, out: &mut Vec<StructureProblem>) {
    let at = e.instance_path().as_str().to_string();
    // Where in the official schema the failing keyword is (`...#/$defs/header/...`): names the
    // OpenAPI object.
    let keyword_loc = e.absolute_keyword_location().map(|u| u.as_str().to_string());
    let eval = keyword_loc
        .as_deref()
        .and_then(|u| u.split_once('#'))
        .map_or("", |(_, f)| f);
    let object = object_name(eval).map(title);
    let instance: &Value = e.instance();
    let mut push = |pointer: String, message: String| out.push(StructureProblem { pointer, message });
    match e.kind() {
        ValidationErrorKind::Type { kind } => {
            let message = type_message(kind, &at, instance);
            push(at, message);
        }
        ValidationErrorKind::Required { property }
            if property.as_str() == Some("default") && object.as_deref() == Some("a Responses Object") =>
        {
            // 3.1's "either `default` or a status code": an empty `responses` also fails
            // `minProperties`, said there.
            if instance.as_object().is_some_and(|m| !m.is_empty()) {
                push(at.clone(), format!("{} needs a status code or `default`", name_at(&at)));
            }
        }
        ValidationErrorKind::Required { property } => {
            let prop = property.as_str().map_or_else(|| property.to_string(), str::to_string);
            let whose = object.unwrap_or_else(|| name_at(&at));
            push(at, format!("{whose} needs `{prop}`"));
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let whose = object.unwrap_or_else(|| name_at(&at));
            for k in unexpected {
                let pointer = format!("{at}/{}", super::document::escape_pointer_segment(k));
                let message = if at.is_empty() {
                    format!("`{k}` is not a field of an OpenAPI document (extensions start with `x-`)")
                } else {
                    format!("`{k}` is not a field of {whose} (extensions start with `x-`)")
                };
                push(pointer, message);
            }
        }
        ValidationErrorKind::Enum { options } => {
            // A value of another JSON type than every option also fails `type`: said there.
            let same_type = |o: &Value| std::mem::discriminant(o) == std::mem::discriminant(instance);
            if options.as_array().is_some_and(|a| !a.iter().any(same_type)) {
                return;
            }
            let opts: Vec<String> = match options.as_ref() {
                Value::Array(a) => a.iter().map(short).collect(),
                other => vec![short(other)],
            };
            push(
                at.clone(),
                format!("{} must be {}, found {}", name_at(&at), or_list(&opts), found(instance)),
            );
        }
        ValidationErrorKind::Constant { expected_value } => {
            push(
                at.clone(),
                format!(
                    "{} must be {}, found {}",
                    name_at(&at),
                    short(expected_value),
                    found(instance)
                ),
            );
        }
        ValidationErrorKind::Pattern { pattern } => {
            let message = if key_at(&at).as_deref() == Some("openapi") && at == "/openapi" {
                format!(
                    "{} is not an OpenAPI version of this line (pattern `{pattern}`)",
                    found(instance)
                )
            } else {
                format!("{} does not have the form `{pattern}`", found(instance))
            };
            push(at, message);
        }
        ValidationErrorKind::FalseSchema => {
            push(at.clone(), format!("{} is not allowed here", name_at(&at)));
        }
        ValidationErrorKind::Not { .. } => {
            // The official 3.0 schema's `ExampleXORExamples` and `SchemaXORContent`.
            let message = match object_name(eval) {
                Some("ExampleXORExamples") => "give `example` or `examples`, not both".to_string(),
                Some("SchemaXORContent") => "give `schema` or `content`, not both".to_string(),
                _ => format!("{} has a form that is not allowed here", name_at(&at)),
            };
            push(at, message);
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            let message = match object_name(eval) {
                Some("SchemaXORContent") | Some("parameter") => "give `schema` or `content`, not both".to_string(),
                _ => format!("{} matches more than one of the forms it may take", name_at(&at)),
            };
            push(at, message);
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            explain_alternatives(context, &at, eval, instance, out);
        }
        ValidationErrorKind::MinProperties { .. } if key_at(&at).as_deref() == Some("responses") => {
            push(at.clone(), format!("{} needs at least one response", name_at(&at)));
        }
        ValidationErrorKind::MinProperties { limit } => {
            push(at.clone(), format!("{} needs at least {limit} entries", name_at(&at)));
        }
        ValidationErrorKind::MinItems { limit } => {
            push(at.clone(), format!("{} needs at least {limit} entries", name_at(&at)));
        }
        ValidationErrorKind::UniqueItems => {
            push(at.clone(), format!("{} lists the same value twice", name_at(&at)));
        }
        _ => {
            push(at.clone(), format!("{}: {e}", name_at(&at)));
        }
    }
}

/// The message of a `type` error: what the value must be, with hints for 3.0 habits.
fn type_message(kind: &TypeKind, at: &str, instance: &Value) -> String {
    let names: Vec<&str> = match kind {
        TypeKind::Single(t) => vec![type_name(&t.to_string())],
        TypeKind::Multiple(set) => set.iter().map(|t| type_name(&t.to_string())).collect(),
    };
    let mut names: Vec<String> = names.into_iter().map(str::to_string).collect();
    names.dedup();
    let is_schema =
        names.len() == 2 && names.iter().any(|n| n == "true or false") && names.iter().any(|n| n == "a mapping");
    if is_schema {
        format!(
            "{} must be a Schema Object (a mapping, or true or false), found {}",
            name_at(at),
            found(instance)
        )
    } else {
        let mut m = format!("{} must be {}, found {}", name_at(at), or_list(&names), found(instance));
        let key = key_at(at);
        if matches!(key.as_deref(), Some("exclusiveMinimum" | "exclusiveMaximum")) && instance.is_boolean() {
            m.push_str(" (since OpenAPI 3.1 the keyword is the bound itself: `exclusiveMinimum: 0` instead of `minimum: 0` with `exclusiveMinimum: true`)");
        }
        if key.as_deref() == Some("nullable") {
            m.push_str(" (`nullable` is OpenAPI 3.0's; in 3.1 write `type: [T, \"null\"]`)");
        }
        m
    }
}

/// An `anyOf` / `oneOf` none of whose alternatives fit: the members every alternative needs,
/// else the problems of the alternative the value was most likely meant for.
fn explain_alternatives(
    context: &[Vec<ValidationError<'_>>],
    at: &str,
    eval: &str,
    instance: &Value,
    out: &mut Vec<StructureProblem>,
) {
    // Each alternative needs a member the value lacks: say which ones.
    let needs: Option<Vec<String>> = context
        .iter()
        .map(|b| match b.as_slice() {
            [one] if one.instance_path().as_str() == at => match one.kind() {
                ValidationErrorKind::Required { property } => property.as_str().map(|p| format!("`{p}`")),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if let Some(needs) = needs.filter(|n| !n.is_empty()) {
        let whose = match (object_name(eval), instance.get("name").and_then(Value::as_str)) {
            (Some("parameter" | "Parameter" | "SchemaXORContent"), Some(n)) => format!("parameter `{n}`"),
            (Some("parameter" | "Parameter" | "SchemaXORContent"), None) => "a parameter".to_string(),
            _ if at.is_empty() => "an OpenAPI document".to_string(),
            (Some(d), _) => title(d),
            _ => name_at(at),
        };
        out.push(StructureProblem {
            pointer: at.to_string(),
            message: format!("{whose} needs {}", or_list(&needs)),
        });
        return;
    }
    // Else explain the alternative the value was most likely meant for.
    let best = context
        .iter()
        .filter(|b| !b.is_empty())
        .min_by_key(|b| (branch_misfit(b, at), b.len()));
    match best {
        Some(branch) => branch.iter().for_each(|x| explain(x, out)),
        None => out.push(StructureProblem {
            pointer: at.to_string(),
            message: format!("{} does not have any of the forms it may take", name_at(at)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc31(schema: Value) -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok",
                "content": {"application/json": {"schema": schema}}}}}}},
        })
    }

    const AT: &str = "/paths/~1a/get/responses/200/content/application~1json/schema";

    #[test]
    fn schema_objects_are_checked_in_31() {
        let got = check_31(&doc31(
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true}),
        ));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].pointer, format!("{AT}/exclusiveMinimum"));
        assert!(
            got[0]
                .message
                .starts_with("`exclusiveMinimum` must be a number, found `true`"),
            "{got:?}"
        );
        let got = check_31(&doc31(json!({"type": "strng"})));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].pointer, format!("{AT}/type"));
        assert!(got[0].message.contains("found the string \"strng\""), "{got:?}");
        // `nullable` is no keyword of 2020-12: ignored, not an error (OAS032 warns of it).
        assert_eq!(check_31(&doc31(json!({"type": "string", "nullable": true}))), vec![]);
        assert_eq!(check_31(&doc31(json!(true))), vec![]);
    }

    #[test]
    fn every_problem_is_reported_in_openapi_words() {
        let d = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {
                "get": {"parameters": [{"name": "q", "in": "query"}]},
                "post": {"responses": {"200": {"description": 5}}},
                "put": {"responses": {}},
            }},
            "servers": {"url": "x"},
        });
        let got = check_31(&d);
        let pairs: Vec<(&str, &str)> = got.iter().map(|p| (p.pointer.as_str(), p.message.as_str())).collect();
        for want in [
            (
                "/paths/~1a/get/parameters/0",
                "parameter `q` needs `schema` or `content`",
            ),
            ("/paths/~1a/put/responses", "`responses` needs at least one response"),
            (
                "/paths/~1a/post/responses/200/description",
                "`description` must be a string, found the integer 5",
            ),
            ("/servers", "`servers` must be a list, found a mapping"),
        ] {
            assert!(pairs.contains(&want), "{want:?} not in {pairs:#?}");
        }
        for p in &got {
            for word in ["enum ", "variant", "struct ", "flattened", "ValidationError"] {
                assert!(!p.message.contains(word), "{p:?}");
            }
        }
    }

    #[test]
    fn official_30_schema_refuses_unknown_types() {
        let mut d = doc31(json!({"type": "strng"}));
        d["openapi"] = json!("3.0.3");
        let got = check_30(&d);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].pointer, format!("{AT}/type"));
        // 3.0 requires `responses` (3.1 does not).
        let d = json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {}}}});
        let got = check_30(&d);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].pointer.as_str(), got[0].message.as_str()),
            ("/paths/~1a/get", "an Operation Object needs `responses`")
        );
    }

    /// OAS001's verdict (through `openapi::classify`, as the check loads documents) against
    /// the official schemas' on every file of the shared corpus: 3.0 documents against the 3.0
    /// schema, 3.1 documents against `schema-base`. Where both find problems, the places must
    /// correspond (each place of one at, above or below a place of the other).
    #[test]
    fn corpus_verdicts_match_the_official_schemas() {
        use crate::artifact::document::{Document, Limits};
        use crate::artifact::{openapi, Loaded};
        let Some(root) = crate::testing::corpus("openapi") else {
            return;
        };
        // Files on which OAS001 and the official schemas disagree, on purpose.
        const ALLOWED: &[(&str, &str)] = &[];
        let related = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"));
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        let mut disagreements = Vec::new();
        for p in crate::testing::files(&root, crate::testing::DOCUMENTS, u64::MAX) {
            let rel = p.strip_prefix(&root).unwrap().display().to_string();
            let bytes = std::fs::read(&p).unwrap();
            let Ok(d) = Document::from_bytes(&rel, &bytes, &Limits::default()) else {
                *counts.entry("unparsable (both invalid)").or_default() += 1;
                continue;
            };
            let top = |k: &str| d.value.get(k).is_some();
            if !(top("openapi") || top("swagger") || top("asyncapi") || rel.starts_with("invalid/")) {
                // A file that a multi-file description's `$ref`s point into, not a document.
                *counts
                    .entry("fragment of a multi-file description (skipped)")
                    .or_default() += 1;
                continue;
            }
            let version = match d.value.get("openapi") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            // Uncapped: every problem of the official schema, to compare places.
            let official = if version.starts_with("3.0") {
                Some(problems(validator_30(), &d.value, usize::MAX))
            } else if version.starts_with("3.1") {
                Some(problems(validator_31(), &d.value, usize::MAX))
            } else {
                None
            };
            let t = std::time::Instant::now();
            let ours: Result<Vec<String>, String> = match openapi::classify(d) {
                Loaded::Ok(doc) => Ok(doc
                    .problems
                    .iter()
                    .map(|p| p.pointer.clone().unwrap_or_default())
                    .collect()),
                Loaded::Invalid(p) => Err(p.message),
                Loaded::Missing => unreachable!(),
            };
            let ms = t.elapsed().as_millis();
            if ms > 50 {
                println!("{rel}: OAS001 load {ms} ms");
            }
            let verdict = match (&official, &ours) {
                // Swagger 2.0 and OpenAPI 3.2 documents (valid by their own official schemas),
                // AsyncAPI and other YAML: outside OAS001's scope (the course asks for OpenAPI
                // 3.0 or 3.1), rejected by design with a message that says so.
                (None, Err(m)) => {
                    assert!(
                        [
                            "Swagger",
                            "unsupported OpenAPI version",
                            "AsyncAPI",
                            "not an OpenAPI document",
                            "`openapi`"
                        ]
                        .iter()
                        .any(|w| m.contains(w)),
                        "{rel}: {m}"
                    );
                    "not OpenAPI 3.0/3.1 (Swagger 2.0, 3.2, AsyncAPI, other): rejected by design"
                }
                (None, Ok(_)) => {
                    disagreements.push(format!("{rel}: no 3.0/3.1 version, yet OAS001 accepts it"));
                    "disagree"
                }
                (Some(o), Ok(ours)) if o.is_empty() && ours.is_empty() => "valid for both",
                (Some(o), Ok(ours)) if !o.is_empty() && !ours.is_empty() => {
                    let o: Vec<&str> = o.iter().map(|x| x.pointer.as_str()).collect();
                    let unmatched: Vec<&str> = o
                        .iter()
                        .copied()
                        .filter(|x| !ours.iter().any(|y| related(x, y)))
                        .chain(
                            ours.iter()
                                .map(String::as_str)
                                .filter(|y| !o.iter().any(|x| related(x, y))),
                        )
                        .collect();
                    if !unmatched.is_empty() {
                        disagreements.push(format!("{rel}: places found by one side only: {unmatched:?}"));
                    }
                    "invalid for both"
                }
                (Some(o), ours) => {
                    disagreements.push(format!("{rel}: official {} problems, OAS001 {ours:?}", o.len()));
                    "disagree"
                }
            };
            *counts.entry(verdict).or_default() += 1;
        }
        println!("{counts:?}");
        let unexpected: Vec<&String> = disagreements
            .iter()
            .filter(|d| !ALLOWED.iter().any(|(file, _)| d.starts_with(&format!("{file}:"))))
            .collect();
        assert!(unexpected.is_empty(), "{unexpected:#?}");
    }
}
