//! What the OAS checks share on top of the OpenAPI view of [`crate::api`]: the documents of the
//! submission to check, the view of one of them that shares what the checks of a grading
//! compute once ([`Api::of`]), and a tally that turns per-unit verdicts into partial credit and
//! grouped findings.

use std::collections::{BTreeMap, BTreeSet};

pub use crate::api::*;
use crate::artifact::openapi::OpenApiDoc;
use crate::artifact::refs::ExternalDocs;
use crate::artifact::Loaded;
use crate::checks::{CheckResult, Ctx, Finding};

/// Most findings listed per document by one check; the rest are summarised in one finding.
pub const MAX_FINDINGS_PER_FILE: usize = 25;

/// Most findings reported by one check over all files; the rest are summarised in one finding.
pub const MAX_FINDINGS: usize = 50;

impl<'a> OasMemo<'a> {
    fn of(&'a self, ctx: &Ctx<'a>, rel: &str) -> Option<&'a ApiMemo<'a>> {
        self.docs
            .get_or_init(|| {
                documents(ctx)
                    .into_iter()
                    .map(|(rel, _)| (rel, ApiMemo::default()))
                    .collect()
            })
            .get(rel)
    }
}

impl<'a> Api<'a> {
    /// The view of the document `rel` of a grading, sharing with the other checks of the
    /// grading what is computed once per description (see [`ApiMemo`]: each part on first use).
    pub fn of(ctx: &Ctx<'a>, rel: &'a str, spec: &'a OpenApiDoc) -> Api<'a> {
        let mut api = Api::with_external(&ctx.submission.root, rel, spec, external_of(ctx, rel))
            .with_limits(&ctx.submission.limits);
        if let Some(memo) = ctx.oas.of(ctx, rel) {
            api.memo = Some(memo);
        }
        api
    }
}

// ---------------------------------------------------------------------------------------------
// Documents and tallies
// ---------------------------------------------------------------------------------------------

/// The current OpenAPI documents of the submission's services (not `previous_openapi`),
/// loaded well enough to inspect, by relative path.
pub fn documents<'c>(ctx: &Ctx<'c>) -> Vec<(&'c str, &'c OpenApiDoc)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for s in &ctx.submission.services {
        let Some(r) = &s.openapi else { continue };
        if !seen.insert(r.rel.as_str()) {
            continue;
        }
        if let Some((rel, Loaded::Ok(doc))) = ctx.artifacts.openapi.get_key_value(&r.rel) {
            out.push((rel.as_str(), doc));
        }
    }
    out
}

/// The referenced files of a document that refers to none.
static NO_EXTERNAL: ExternalDocs = ExternalDocs {
    docs: BTreeMap::new(),
    truncated: false,
};

/// The files the relative `$ref`s of the document `rel` name, as `Artifacts::load` loaded them
/// (it loads them for every document that has such references).
pub fn external_of<'c>(ctx: &Ctx<'c>, rel: &str) -> &'c ExternalDocs {
    ctx.artifacts.openapi_refs.get(rel).unwrap_or(&NO_EXTERNAL)
}

/// Runs `f` over every document (see [`documents`]) with a shared tally; `Err` with an absent
/// result when there is no document to check.
pub fn check_apis(ctx: &Ctx<'_>, mut f: impl FnMut(&Api<'_>, &mut Tally)) -> Result<Tally, CheckResult> {
    let docs = documents(ctx);
    if docs.is_empty() {
        return Err(CheckResult::absent("no OpenAPI documents that load"));
    }
    let mut tally = Tally::default();
    for (rel, doc) in docs {
        // `Artifacts::load` loaded the referenced files of every document that has any: the
        // others need no scan for file references (one whole-document walk per rule).
        let api = Api::of(ctx, rel, doc);
        f(&api, &mut tally);
        tally.documents += 1;
    }
    Ok(tally)
}

struct Group {
    finding: Finding,
    subjects: Vec<String>,
}

/// Units checked, units that comply, and findings grouped by place and message.
#[derive(Default)]
pub struct Tally {
    pub good: usize,
    pub total: usize,
    pub documents: usize,
    /// Per-document credit, for checks that grade a document as a whole with a fraction.
    pub doc_credits: Vec<f64>,
    pub evidence: Vec<String>,
    /// By file, pointer and message (nested so that a repeat is found without allocating).
    groups: BTreeMap<String, BTreeMap<String, BTreeMap<String, Group>>>,
}

impl Tally {
    /// Counts one unit.
    pub fn unit(&mut self, ok: bool) {
        self.total += 1;
        if ok {
            self.good += 1;
        }
    }

    /// Records a problem at `node`, about `subject` (e.g. `GET /v1/orders`); problems at the
    /// same place with the same message are merged and list their subjects.
    pub fn issue(
        &mut self,
        node: &Node<'_>,
        subject: Option<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let message = message.into();
        let by_pointer = match self.groups.get_mut(node.file) {
            Some(m) => m,
            None => self.groups.entry(node.file.to_string()).or_default(),
        };
        let by_message = match by_pointer.get_mut(node.pointer.as_str()) {
            Some(m) => m,
            None => by_pointer.entry(node.pointer.clone()).or_default(),
        };
        let g = match by_message.get_mut(message.as_str()) {
            Some(g) => g,
            None => by_message.entry(message.clone()).or_insert_with(|| Group {
                finding: node.finding(message).help(help),
                subjects: Vec::new(),
            }),
        };
        if let Some(s) = subject {
            if !g.subjects.contains(&s) {
                g.subjects.push(s);
            }
        }
    }

    pub fn has_issues(&self) -> bool {
        !self.groups.is_empty()
    }

    /// The findings, at most [`MAX_FINDINGS_PER_FILE`] per file plus a summary of the rest.
    pub fn findings(&mut self) -> Vec<Finding> {
        let mut all: Vec<Finding> = std::mem::take(&mut self.groups)
            .into_values()
            .flat_map(BTreeMap::into_values)
            .flat_map(BTreeMap::into_values)
            .map(|g| {
                let mut f = g.finding;
                f.message = match g.subjects.len() {
                    0 => f.message,
                    1 => format!("{}: {}", g.subjects[0], f.message),
                    n => format!("{} (in {n}: {})", f.message, list(&g.subjects, 4)),
                };
                f
            })
            .collect();
        all.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut per_file: BTreeMap<Option<String>, Vec<Finding>> = BTreeMap::new();
        for f in all {
            per_file.entry(f.file.clone()).or_default().push(f);
        }
        let mut out = Vec::new();
        for (file, mut fs) in per_file {
            if fs.len() > MAX_FINDINGS_PER_FILE {
                let rest = fs.split_off(MAX_FINDINGS_PER_FILE - 1);
                let first = &rest[0];
                let mut summary = first.clone();
                let shown: Vec<String> = rest
                    .iter()
                    .map(|f| match f.line {
                        Some(l) => format!("line {l}"),
                        None => f.pointer.clone().unwrap_or_default(),
                    })
                    .collect();
                summary.message = format!(
                    "and {} more findings like these in {}, at {}",
                    rest.len(),
                    file.as_deref().unwrap_or("the submission"),
                    list(&shown, 8)
                );
                fs.push(summary);
            }
            out.extend(fs);
        }
        if out.len() > MAX_FINDINGS {
            let rest = out.split_off(MAX_FINDINGS - 1);
            let files: BTreeSet<&str> = rest.iter().filter_map(|f| f.file.as_deref()).collect();
            let mut summary = rest[0].clone();
            summary.message = format!(
                "and {} more findings like these, in {}",
                rest.len(),
                list(&files.iter().map(|f| f.to_string()).collect::<Vec<_>>(), 6)
            );
            out.push(summary);
        }
        out
    }

    /// `ratio(good, total)` with the findings and the evidence `"{good} of {total} {what}"`;
    /// not applicable with the reason `none` when the documents hold nothing to count.
    pub fn finish(mut self, what: &str, none: &str) -> CheckResult {
        if self.total == 0 && self.groups.is_empty() {
            return CheckResult::not_applicable(none);
        }
        let findings = self.findings();
        let mut r = CheckResult::ratio(self.good, self.total, findings);
        r.evidence.push(format!("{} of {} {what}", self.good, self.total));
        r.evidence.extend(self.take_evidence());
        r
    }

    /// The evidence lines, identical ones merged with their number of documents.
    pub fn take_evidence(&mut self) -> Vec<String> {
        let mut counted: Vec<(String, usize)> = Vec::new();
        for e in std::mem::take(&mut self.evidence) {
            match counted.iter_mut().find(|(x, _)| *x == e) {
                Some((_, n)) => *n += 1,
                None => counted.push((e, 1)),
            }
        }
        counted
            .into_iter()
            .map(|(e, n)| if n > 1 { format!("{e} ({n} documents)") } else { e })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::artifact::document::Document;
    use crate::artifact::document::Limits;
    use crate::artifact::openapi::classify;
    use crate::files::paths::PathProblem;

    fn load(root: &Path, rel: &str) -> OpenApiDoc {
        let bytes = std::fs::read(root.join(rel)).unwrap();
        match classify(Document::from_bytes(rel, &bytes, &Limits::default()).unwrap()) {
            Loaded::Ok(d) => d,
            _ => panic!("{rel} is not OpenAPI"),
        }
    }

    /// References across files: resolved inside the folder, loops and escapes reported, URLs
    /// never fetched, and every rule runs without panicking.
    #[test]
    fn multi_file_refs() {
        let base = std::env::temp_dir().join(format!("grade-oas-walk-{}", std::process::id()));
        let root = base.join("sub");
        std::fs::create_dir_all(root.join("api/defs")).unwrap();
        std::fs::write(base.join("outside.yaml"), "X: {type: string}\n").unwrap();
        let root = root.canonicalize().unwrap();
        let spec = r#"openapi: 3.1.0
info: {title: T, version: 1.0.0}
paths:
  /v1/things/{id}:
    $ref: 'defs/paths.yaml#/thing'
components:
  schemas:
    Local: {$ref: 'defs/a.yaml#/A'}
    Self: {$ref: 'openapi.yaml#/components/schemas/Local'}
    Url: {$ref: 'https://example.test/x.yaml'}
    Escape: {$ref: '../../outside.yaml#/X'}
    Loop: {$ref: 'defs/a.yaml#/Loop'}
    Tilde: {$ref: '#/components/schemas/a~1b'}
    a/b: {type: string}
    Anchored: {$anchor: here, type: string}
    ToAnchor: {$ref: '#here'}
    ById: {$ref: 'https://example.test/schemas/id'}
    WithId: {$id: 'https://example.test/schemas/id', type: integer}
"#;
        std::fs::write(root.join("api/openapi.yaml"), spec).unwrap();
        std::fs::write(
            root.join("api/defs/paths.yaml"),
            "thing:\n  get:\n    operationId: getThing\n    parameters: [{$ref: 'params.yaml#/Id'}]\n    responses:\n      '200': {description: OK}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("api/defs/params.yaml"),
            "Id: {name: id, in: path, required: true, schema: {type: string}}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("api/defs/a.yaml"),
            "A: {type: object, properties: {b: {$ref: '../openapi.yaml#/components/schemas/Self'}}}\nLoop: {$ref: 'b.yaml#/Loop'}\n",
        )
        .unwrap();
        std::fs::write(root.join("api/defs/b.yaml"), "Loop: {$ref: 'a.yaml#/Loop'}\n").unwrap();
        let doc = load(&root, "api/openapi.yaml");
        let ext = external_docs(&root, "api/openapi.yaml", &doc);
        let api = Api::with_external(&root, "api/openapi.yaml", &doc, &ext);
        assert_eq!(
            api.external.docs.len(),
            4,
            "{:?}",
            api.external.docs.keys().collect::<Vec<_>>()
        );
        let schema = |name: &str| api.node(&format!("/components/schemas/{name}")).unwrap();
        assert_eq!(api.resolve(&schema("Local")).unwrap().file, "api/defs/a.yaml");
        assert_eq!(api.resolve(&schema("Self")).unwrap().pointer, "/A");
        assert!(matches!(api.resolve(&schema("Url")), Err(RefError::Url(_))));
        assert!(matches!(
            api.resolve(&schema("Escape")),
            Err(RefError::Path(PathProblem::Escapes))
        ));
        assert!(matches!(api.resolve(&schema("Loop")), Err(RefError::Cycle(_))));
        assert_eq!(api.resolve(&schema("Tilde")).unwrap().value["type"], "string");
        assert_eq!(
            api.resolve(&schema("ToAnchor")).unwrap().pointer,
            "/components/schemas/Anchored"
        );
        assert_eq!(api.resolve(&schema("ById")).unwrap().value["type"], "integer");
        let ops = api.operations();
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].op.file, "api/defs/paths.yaml");
        let params = api.parameters(&ops[0]);
        assert_eq!((params[0].name, params[0].node.file), ("id", "api/defs/params.yaml"));
        for c in crate::checks::registry() {
            let Some(mut t) = c.evaluate_api(&api) else { continue };
            let id = c.info().id;
            let findings = t.findings();
            if id == "OAS002" {
                let text: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
                assert_eq!(findings.len(), 3, "{text:#?}");
                assert!(text.iter().any(|m| m.contains("URL")), "{text:#?}");
                assert!(text.iter().any(|m| m.contains("leaves the submission")), "{text:#?}");
                assert!(text.iter().any(|m| m.contains("never reaches")), "{text:#?}");
            }
            if id == "OAS004" {
                assert_eq!((t.good, t.total), (1, 1));
            }
        }
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn status_classes_and_versions() {
        assert_eq!(status_class("404"), Some('4'));
        assert_eq!(status_class("5XX"), Some('5'));
        assert_eq!(status_class("default"), None);
        assert_eq!(status_class("600"), None);
        assert_eq!(status_class("4X0"), None);
        for v in ["v1", "V2", "v1.2", "v1beta1", "v2alpha", "2024-01-15"] {
            assert!(is_version_segment(v), "{v}");
        }
        for v in ["v", "version", "v1.", "vx", "orders", "2024-1-15"] {
            assert!(!is_version_segment(v), "{v}");
        }
        assert_eq!(list(&["a".into(), "b".into(), "c".into()], 4), "a, b and c");
        assert_eq!(squash("Page_Size"), "pagesize");
    }
}
