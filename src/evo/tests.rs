//! Engine tests, table-driven over the fixture pairs in `fixtures/diff/<case>/`: each holds an
//! old and a new description (`old.yaml`/`new.yaml`, `.json`, or `old/openapi.yaml` with
//! other files beside it) and `expected.txt`, one line per change:
//! `<kind> <old file:line> <new file:line> <number of operations>`. Together the fixtures
//! cover every kind of the catalog. `UPDATE_EXPECTED=1` rewrites the expected files (review
//! them before committing).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::load::{load_file, LoadedFile};
use super::{diff, ChangeKind, Diff};
use crate::api::Api;
use crate::artifact::document::{Document, Limits};
use crate::artifact::openapi::{classify, OpenApiDoc};
use crate::artifact::Loaded;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/diff")
}

/// The old and new root documents of a fixture folder.
fn pair(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    for (a, b) in [
        ("old.yaml", "new.yaml"),
        ("old.json", "new.json"),
        ("old/openapi.yaml", "new/openapi.yaml"),
    ] {
        if dir.join(a).is_file() && dir.join(b).is_file() {
            return Some((dir.join(a), dir.join(b)));
        }
    }
    None
}

fn load(path: &Path) -> LoadedFile {
    match load_file(path, "test") {
        Ok(f) => f,
        Err(e) => panic!("{}: {}", path.display(), e.to_diagnostic().render_plain()),
    }
}

fn diff_files(old: &Path, new: &Path) -> Diff {
    let (a, b) = (load(old), load(new));
    diff(a.input(), b.input())
}

/// One line per change, as in `expected.txt`; files are shown relative to the pair's folder.
fn listing(d: &Diff, old_prefix: &str, new_prefix: &str) -> String {
    let mut s = String::new();
    for c in &d.changes {
        let at = |prefix: &str, site: &Option<super::Site>| match site {
            Some(x) => format!("{prefix}{}:{}", x.file, x.line),
            None => "-".into(),
        };
        s.push_str(&format!(
            "{} {} {} {}\n",
            c.kind.id(),
            at(old_prefix, &c.old),
            at(new_prefix, &c.new),
            c.operations.len()
        ));
    }
    s
}

fn prefix(dir: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(dir)
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/");
    match rel.rfind('/') {
        Some(i) => rel[..=i].to_string(),
        None => String::new(),
    }
}

#[test]
fn fixture_pairs_give_the_expected_changes() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures/diff")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut seen: BTreeSet<ChangeKind> = BTreeSet::new();
    let mut failures = Vec::new();
    for dir in &dirs {
        let Some((old, new)) = pair(dir) else { continue };
        let d = diff_files(&old, &new);
        let got = listing(&d, &prefix(dir, &old), &prefix(dir, &new));
        let expected_path = dir.join("expected.txt");
        if update {
            std::fs::write(&expected_path, &got).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            let detail: Vec<String> = d
                .changes
                .iter()
                .map(|c| format!("  {} | {} | {:?}", c.kind.id(), c.message, c.operations))
                .collect();
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}--- messages\n{}",
                dir.display(),
                detail.join("\n")
            ));
        }
        seen.extend(d.changes.iter().map(|c| c.kind));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let missing: Vec<&str> = ChangeKind::ALL
        .iter()
        .filter(|k| !seen.contains(k))
        .map(|k| k.id())
        .collect();
    assert!(
        missing.is_empty(),
        "kinds without a fixture in fixtures/diff: {missing:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Robustness over the shared corpus of real specifications
// ---------------------------------------------------------------------------------------------

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/openapi");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

/// The root documents of the corpus: every file of the single-file folders, and the roots of
/// the multi-file descriptions.
fn corpus_documents(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["oas30", "oas31", "oas32", "swagger20", "invalid", "large"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
            if p.is_file() && matches!(ext, "yaml" | "yml" | "json") {
                out.push(p);
            }
        }
    }
    for root in [
        "multi-file/vacuum-circular_multifile-3.1/root.yaml",
        "multi-file/digitalocean-public-v2/specification/DigitalOcean-public.v2.yaml",
    ] {
        if dir.join(root).is_file() {
            out.push(dir.join(root));
        }
    }
    out.sort();
    out
}

/// A copy of `doc` with its value changed by `f` (positions still those of the original).
fn mutated(doc: &OpenApiDoc, f: impl FnOnce(&mut Value)) -> OpenApiDoc {
    let mut d = doc.doc.clone();
    f(&mut d.value);
    OpenApiDoc {
        doc: d,
        version: doc.version.clone(),
        oas: doc.oas,
        problems: Vec::new(),
    }
}

/// Removes the first path, the first property of the first schema that has properties, and
/// adds a required query parameter to the first operation; bumps nothing.
fn mutate(v: &mut Value) -> Vec<ChangeKind> {
    let mut expect = Vec::new();
    if let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) {
        // An operation written in place (not a `$ref`, whose siblings are ignored).
        let inline_op = |m: &serde_json::Map<String, Value>| {
            ["get", "put", "post", "delete", "patch"]
                .iter()
                .any(|k| m.get(*k).is_some_and(|op| op.get("$ref").is_none()))
        };
        let first_with_ops = paths
            .iter()
            .find(|(_, item)| item.as_object().is_some_and(inline_op))
            .map(|(k, _)| k.clone());
        let last = paths.keys().next_back().cloned();
        if let Some(k) = first_with_ops {
            if let Some(Value::Object(item)) = paths.get_mut(&k) {
                for m in ["get", "put", "post", "delete", "patch"] {
                    if let Some(Value::Object(op)) = item.get_mut(m).filter(|op| op.get("$ref").is_none()) {
                        let params = op.entry("parameters").or_insert_with(|| json!([]));
                        if let Some(list) = params.as_array_mut() {
                            list.push(json!({"name": "zz_mutation", "in": "query", "required": true,
                                "schema": {"type": "string"}}));
                            expect.push(ChangeKind::RequiredParameterAdded);
                        }
                        break;
                    }
                }
            }
        }
        if let Some(k) = last {
            let had_ops = paths.get(&k).and_then(Value::as_object).is_some_and(|m| {
                ["get", "put", "post", "delete", "patch"]
                    .iter()
                    .any(|x| m.contains_key(*x))
            });
            if paths.len() > 1 && had_ops && !k.starts_with("x-") {
                paths.shift_remove(&k);
                expect.push(ChangeKind::PathRemoved);
            }
        }
    }
    if let Some(schemas) = v.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (_, s) in schemas.iter_mut() {
            if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
                if let Some(k) = props.keys().next().cloned() {
                    props.shift_remove(&k);
                    break;
                }
            }
        }
    }
    expect
}

#[test]
fn corpus_documents_diff_against_themselves_and_mutations() {
    let Some(dir) = corpus() else { return };
    let docs = corpus_documents(&dir);
    assert!(docs.len() > 20, "{} documents", docs.len());
    let mut loaded: Vec<LoadedFile> = Vec::new();
    for p in &docs {
        // Invalid documents and Swagger 2.0 must be refused with a message, never a panic.
        match load_file(p, "corpus") {
            Ok(f) => loaded.push(f),
            Err(e) => assert!(!e.to_diagnostic().message.is_empty()),
        }
    }
    assert!(loaded.len() > 15, "{} loaded", loaded.len());
    for f in &loaded {
        let d = diff(f.input(), f.input());
        assert!(
            d.changes.is_empty(),
            "{}: a document differs from itself: {:?}",
            f.shown,
            d.changes.iter().map(|c| &c.message).collect::<Vec<_>>()
        );
        let mut expect = Vec::new();
        let m = mutated(&f.doc, |v| expect = mutate(v));
        let d = diff(
            f.input(),
            super::Input {
                root: &f.root,
                rel: &f.rel,
                doc: &m,
            },
        );
        for k in expect {
            assert!(
                d.changes.iter().any(|c| c.kind == k),
                "{}: the mutation should give {}: {:#?}",
                f.shown,
                k.id(),
                d.changes.iter().map(|c| (c.kind.id(), &c.message)).collect::<Vec<_>>()
            );
        }
        // And the other way round (additions instead of removals).
        let back = diff(
            super::Input {
                root: &f.root,
                rel: &f.rel,
                doc: &m,
            },
            f.input(),
        );
        assert!(back.changes.len() >= d.changes.len().min(1), "{}", f.shown);
    }
}

#[test]
fn corpus_pairs_of_releases_and_neighbours() {
    let Some(dir) = corpus() else { return };
    // Two releases of the same API, then every document against the next one (unrelated
    // documents make the most disruptive "new versions").
    let releases = [
        ("oas30/vacuum-stripe.yaml", "large/stripe-spec3-e0123a38.json"),
        ("oas30/oai-petstore.yaml", "oas30/oai-petstore-expanded.json"),
        ("oas30/spectral-petstore.oas3.json", "oas30/vacuum-petstorev3.json"),
    ];
    for (a, b) in releases {
        let (a, b) = (dir.join(a), dir.join(b));
        if !(a.is_file() && b.is_file()) {
            continue;
        }
        let d = diff_files(&a, &b);
        let back = diff_files(&b, &a);
        assert!(!d.changes.is_empty() && !back.changes.is_empty(), "{}", a.display());
    }
    let loaded: Vec<LoadedFile> = corpus_documents(&dir)
        .iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() < 1_000_000))
        .filter_map(|p| load_file(p, "corpus").ok())
        .collect();
    for w in loaded.windows(2) {
        let d = diff(w[0].input(), w[1].input());
        for c in &d.changes {
            assert!(c.old.is_some() && c.new.is_some(), "{}: {:?}", w[1].shown, c);
        }
    }
}

/// A schema that refers to itself, and long chains of references, end without overflowing;
/// changes are found down to the depth limit.
#[test]
fn recursive_and_deep_schemas_terminate() {
    let spec = |length: usize, last: &str| {
        let mut chain = serde_json::Map::new();
        for i in 0..length {
            chain.insert(
                format!("S{i}"),
                json!({"type": "object", "properties": {
                    "next": {"$ref": format!("#/components/schemas/S{}", i + 1)},
                    "self": {"$ref": format!("#/components/schemas/S{i}")}}}),
            );
        }
        chain.insert(format!("S{length}"), json!({ "type": last }));
        json!({
            "openapi": "3.1.0",
            "info": {"title": "Deep", "version": "1.0.0"},
            "paths": {"/a": {"get": {"responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/S0"}}}}}}}},
            "components": {"schemas": chain}
        })
        .to_string()
    };
    let doc = |text: String| match classify(Document::parse("deep.json", &text, &Limits::default()).unwrap()) {
        Loaded::Ok(d) => d,
        _ => panic!("not OpenAPI"),
    };
    let root = std::env::temp_dir();
    let input = |d| super::Input {
        root: &root,
        rel: "deep.json",
        doc: d,
    };
    // 600 levels: the change at the bottom is found, once, for the one operation.
    let (a, b) = (doc(spec(600, "string")), doc(spec(600, "integer")));
    let d = diff(input(&a), input(&b));
    assert_eq!(d.changes.len(), 1, "{:?}", d.changes);
    assert_eq!(d.changes[0].kind, ChangeKind::ResponseTypeChanged);
    assert_eq!(d.changes[0].operations, vec!["GET /a".to_string()]);
    // 5000 levels: beyond the limit, the comparison stops there instead of overflowing.
    let (a, b) = (doc(spec(5000, "string")), doc(spec(5000, "integer")));
    assert!(diff(input(&a), input(&b)).changes.is_empty());
    // A small recursive description through the walker on this thread.
    let small = doc(spec(3, "string"));
    let ext = crate::api::external_docs(&root, "deep.json", &small);
    let (x, y) = (
        Api::with_external(&root, "deep.json", &small, &ext),
        Api::with_external(&root, "deep.json", &small, &ext),
    );
    assert!(super::diff_apis(&x, &y).changes.is_empty());
}

// ---------------------------------------------------------------------------------------------
// `grade diff` outputs
// ---------------------------------------------------------------------------------------------

/// The whole of `grade diff` but writing, over fixture pairs given as relative paths (as a
/// user would type them from the repository root), in each format.
#[test]
fn grade_diff_outputs() {
    use super::render::{diff_files, DiffFormat};
    let cases = [
        (
            "responses",
            "fixtures/diff/responses/old.json",
            "fixtures/diff/responses/new.json",
        ),
        (
            "multi",
            "fixtures/diff/multi/old/openapi.yaml",
            "fixtures/diff/multi/new/openapi.yaml",
        ),
        ("paths", "fixtures/diff/paths/old.yaml", "fixtures/diff/paths/new.yaml"),
    ];
    for (name, old, new) in cases {
        let formats: &[(&str, DiffFormat)] = if name == "responses" {
            &[
                ("text", DiffFormat::Text),
                ("json", DiffFormat::Json),
                ("markdown", DiffFormat::Markdown),
            ]
        } else {
            &[("text", DiffFormat::Text)]
        };
        for (fname, format) in formats {
            let out = diff_files(Path::new(old), Path::new(new), *format, false)
                .unwrap_or_else(|e| panic!("{name}: {}", e.to_diagnostic().render_plain()));
            insta::assert_snapshot!(format!("diff-{name}-{fname}"), out.text);
        }
    }
}

/// Compositions that refer to themselves many times over stay linear: type inference has a
/// budget and `allOf` flattening visits each schema once.
#[test]
fn self_referring_compositions_stay_linear() {
    let many = |key: &str| {
        let refs: Vec<Value> = (0..200).map(|_| json!({"$ref": "#/components/schemas/S"})).collect();
        json!({ key: refs, "properties": {"x": {"type": "string"}} })
    };
    for key in ["anyOf", "oneOf", "allOf"] {
        let spec = |x: &str| {
            let mut s = many(key);
            s["properties"]["x"]["type"] = json!(x);
            json!({
                "openapi": "3.1.0",
                "info": {"title": "Loops", "version": "1.0.0"},
                "paths": {"/a": {"post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S"}}}},
                    "responses": {"200": {"description": "OK", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/S"}}}}}}}},
                "components": {"schemas": {"S": s}}
            })
            .to_string()
        };
        let doc = |text: String| match classify(Document::parse("loops.json", &text, &Limits::default()).unwrap()) {
            Loaded::Ok(d) => d,
            _ => panic!("not OpenAPI"),
        };
        let (a, b) = (doc(spec("string")), doc(spec("integer")));
        let root = std::env::temp_dir();
        let input = |d| super::Input {
            root: &root,
            rel: "loops.json",
            doc: d,
        };
        let t = std::time::Instant::now();
        let d = diff(input(&a), input(&b));
        assert!(t.elapsed().as_secs() < 10, "{key}: {:?}", t.elapsed());
        let kinds: BTreeSet<&str> = d.changes.iter().map(|c| c.kind.id()).collect();
        assert_eq!(
            kinds,
            BTreeSet::from(["request-type-changed", "response-type-changed"]),
            "{key}"
        );
    }
}
