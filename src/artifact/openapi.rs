//! OpenAPI documents: loaded with positions, the version read and dispatched (3.0 through the
//! typed `openapiv3` model, 3.1 structurally), and other kinds of document recognised.

use serde_json::Value;

use super::document::Document;
use super::value_kind as kind;
use super::{problem_at as problem, ArtifactProblem, Loaded};
use crate::files::ArtifactRef;

/// Which OpenAPI line a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OasVersion {
    V30,
    V31,
}

#[derive(Debug)]
pub struct OpenApiDoc {
    pub doc: Document,
    /// The `openapi` field as written (e.g. `3.0.3`).
    pub version: String,
    pub oas: OasVersion,
    /// Problems that make the document invalid but still leave it usable by other checks.
    pub problems: Vec<ArtifactProblem>,
}

/// Loads and classifies the OpenAPI document `r`.
pub fn load(r: &ArtifactRef, limits: &super::document::Limits) -> Loaded<OpenApiDoc> {
    super::load_document(r, limits).and_then(classify)
}

/// Reads the version and the required fields of a parsed document.
pub fn classify(doc: Document) -> Loaded<OpenApiDoc> {
    let Some(obj) = doc.value.as_object() else {
        let p = problem(
            &doc,
            "",
            "not an OpenAPI document: the top level is not a mapping",
            "an OpenAPI document starts with `openapi: \"3.1.0\"` and `info:` at the top level",
        );
        return Loaded::Invalid(p);
    };
    if let Some(v) = obj.get("swagger") {
        let shown = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        let p = problem(
            &doc,
            "/swagger",
            format!("this is a Swagger {shown} document; OpenAPI 3.0 or 3.1 is required"),
            "convert it (e.g. `npx swagger2openapi in.yaml -o openapi.yaml`) and review the result",
        );
        return Loaded::Invalid(p);
    }
    if obj.contains_key("asyncapi") && !obj.contains_key("openapi") {
        let p = problem(
            &doc,
            "/asyncapi",
            "this is an AsyncAPI document in the OpenAPI slot",
            "name it under `[events] asyncapi = ...` in submission.toml, and give the service its OpenAPI document",
        );
        return Loaded::Invalid(p);
    }
    let mut problems = Vec::new();
    let version = match obj.get("openapi") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => {
            problems.push(problem(
                &doc,
                "/openapi",
                format!("`openapi: {n}` is a number, not a string (YAML reads an unquoted 3.0 as a float)"),
                format!("quote the version with its patch number: `openapi: \"{n}.3\"`"),
            ));
            n.to_string()
        }
        Some(other) => {
            let p = problem(
                &doc,
                "/openapi",
                format!("`openapi` must be a version string, found {}", kind(other)),
                "write e.g. `openapi: \"3.1.0\"`",
            );
            return Loaded::Invalid(p);
        }
        None => {
            let p = problem(
                &doc,
                "",
                "no `openapi` field: this is not an OpenAPI document",
                "add `openapi: \"3.1.0\"` (or 3.0.3) at the top of the document",
            );
            return Loaded::Invalid(p);
        }
    };
    let oas = if version == "3.0" || version.starts_with("3.0.") {
        OasVersion::V30
    } else if version == "3.1" || version.starts_with("3.1.") {
        OasVersion::V31
    } else {
        let p = problem(
            &doc,
            "/openapi",
            format!("unsupported OpenAPI version `{version}`"),
            "use OpenAPI 3.0.x or 3.1.x",
        );
        return Loaded::Invalid(p);
    };
    match obj.get("info") {
        Some(Value::Object(info)) => {
            for field in ["title", "version"] {
                match info.get(field) {
                    Some(Value::String(_)) => {}
                    Some(other) => problems.push(problem(
                        &doc,
                        &format!("/info/{field}"),
                        format!("`info.{field}` must be a string, found {}", kind(other)),
                        format!("quote the value of `info.{field}`"),
                    )),
                    None => problems.push(problem(
                        &doc,
                        "/info",
                        format!("`info.{field}` is missing"),
                        format!("add `{field}:` under `info`"),
                    )),
                }
            }
        }
        _ => problems.push(problem(
            &doc,
            "",
            "`info` is missing",
            "add an `info` object with `title` and `version`",
        )),
    }
    match oas {
        OasVersion::V30 if !obj.contains_key("paths") => {
            problems.push(problem(
                &doc,
                "",
                "`paths` is missing (required in OpenAPI 3.0)",
                "add `paths:` (it may be empty: `paths: {}`)",
            ));
        }
        OasVersion::V31 if !["paths", "components", "webhooks"].iter().any(|k| obj.contains_key(*k)) => {
            problems.push(problem(
                &doc,
                "",
                "an OpenAPI 3.1 document needs `paths`, `components` or `webhooks`",
                "add the API's `paths`",
            ));
        }
        _ => {}
    }
    problems.extend(structure_problems(&doc, oas, &problems));
    Loaded::Ok(OpenApiDoc {
        doc,
        version,
        oas,
        problems,
    })
}

/// The structure problems of a document, each at its own place, all of them in one run:
/// OpenAPI 3.1 by the official `schema-base` (see `oas_schema`); OpenAPI 3.0 by the official
/// 3.0 schema and by the typed `openapiv3` model (see `oas30`), the schema's problems kept
/// where the model found none at, above or below the same place. A problem at a place that
/// `known` (the version and required-field checks above) already reports is left out.
fn structure_problems(doc: &Document, oas: OasVersion, known: &[ArtifactProblem]) -> Vec<ArtifactProblem> {
    let related = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"));
    let (found, spec) = match oas {
        OasVersion::V31 => (
            super::oas_schema::check_31(&doc.value),
            "the OpenAPI 3.1 specification defines it (https://spec.openapis.org/oas/v3.1.1)",
        ),
        OasVersion::V30 => {
            // The typed model's messages know OpenAPI 3.0 best (`nullable` rather than type
            // lists): they win at their places; the schema adds the problems elsewhere, and
            // replaces the model's whole-document fallback when it locates anything.
            let schema = super::oas_schema::check_30(&doc.value);
            let mut found: Vec<_> = super::oas30::check(&doc.value)
                .into_iter()
                .filter(|t| !t.pointer.is_empty() || schema.is_empty())
                .collect();
            let extra: Vec<_> = schema
                .into_iter()
                .filter(|s| !found.iter().any(|t| related(&s.pointer, &t.pointer)))
                .collect();
            found.extend(extra);
            (
                found,
                "the OpenAPI 3.0 specification defines it (https://spec.openapis.org/oas/v3.0.3)",
            )
        }
    };
    let mut found = found;
    found.sort_by_cached_key(|p| doc.locate(&p.pointer).offset);
    found
        .into_iter()
        .filter(|p| !known.iter().any(|k| k.pointer.as_deref().unwrap_or("") == p.pointer))
        .map(|p| problem(doc, &p.pointer, p.message, format!("correct it as {spec}")))
        .collect()
}
