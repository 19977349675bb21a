//! `$ref`s across files: parsing a reference, walking a document for the references it makes
//! (without mistaking example data for references), and loading the other files of a
//! multi-file OpenAPI description.
//!
//! Relative-file references (`common.yaml#/components/schemas/Money`) are resolved against the
//! folder of the referring file and confined to the submission folder with
//! [`crate::files::paths::confine`]. URLs are never fetched, and paths that leave the
//! submission are never read: resolving them is left to the caller, which reports them.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use serde_json::{Map, Value};

use super::document::{escape_pointer_segment, unescape_pointer_segment, Document, Limits};
use super::{read_bytes, ArtifactProblem, Loaded};
use crate::files::paths::confine;
use crate::files::ArtifactRef;

/// Most external files loaded for one document.
pub const MAX_FILES: usize = 10_000;
/// Most bytes of external files loaded for one document.
pub const MAX_TOTAL_BYTES: usize = 256 * 1024 * 1024;

/// A `$ref` value split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefTarget {
    /// `#/components/...` (or `#anchor`): the fragment, percent-decoded, without the `#`.
    Local(String),
    /// `file.yaml#/x`: the file part (percent-decoded, relative to the referring file) and the
    /// fragment (percent-decoded, without `#`; empty for the whole file).
    File { path: String, fragment: String },
    /// A URL (or URN): the part before `#` as written, and the decoded fragment.
    Url { base: String, fragment: String },
}

/// Splits a `$ref` string.
pub fn parse_ref(reference: &str) -> RefTarget {
    let r = reference.trim();
    let (base, fragment) = match r.split_once('#') {
        Some((b, f)) => (b, percent_decode(f).into_owned()),
        None => (r, String::new()),
    };
    if base.is_empty() {
        return RefTarget::Local(fragment);
    }
    if is_url(base) {
        return RefTarget::Url {
            base: base.to_string(),
            fragment,
        };
    }
    RefTarget::File {
        path: percent_decode(base).into_owned(),
        fragment,
    }
}

/// True for `https://...`, `//host/...`, `urn:...`, `file:...` and other `scheme:` forms
/// (a Windows drive letter `C:` is not a scheme).
pub fn is_url(s: &str) -> bool {
    if s.starts_with("//") || s.contains("://") {
        return true;
    }
    match s.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() >= 2
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Decodes `%XX` escapes (invalid escapes are kept as written; invalid UTF-8 is replaced).
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    crate::files::pct::decode(s)
}

/// The path, relative to the submission root, of `path` written in the file `from_rel`
/// (before confinement; `..` segments are kept for [`confine`] to judge).
pub fn join_rel(from_rel: &str, path: &str) -> String {
    match from_rel.rfind('/') {
        Some(i) => format!("{}/{}", &from_rel[..i], path),
        None => path.to_string(),
    }
}

/// Keys whose object value maps names (not keywords) to objects: schema properties, component
/// sections, paths, responses, media types, ...
const NAME_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "schemas",
    "parameters",
    "responses",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
    "paths",
    "webhooks",
    "content",
    "encoding",
    "variables",
    "examples",
    "mediaTypes",
];

/// Keys whose values are example or literal data, never OpenAPI or JSON Schema structure.
fn is_data_key(key: &str) -> bool {
    matches!(key, "example" | "default" | "enum" | "const") || key.starts_with("x-")
}

/// One object met by [`walk_objects`].
pub struct Visit<'v, 'p> {
    pub object: &'v Map<String, Value>,
    /// JSON pointer of the object.
    pub pointer: &'p str,
    /// True when the object's keys are names (a `properties` map, `paths`, `responses`, ...).
    pub names: bool,
    /// The key under which the object sits, when its parent is an object.
    pub key: Option<&'v str>,
    /// True when the parent is a name map (so `key` is a name, not a keyword).
    pub in_names: bool,
}

/// Visits every object of `value` that is OpenAPI or JSON Schema structure, depth first in
/// document order, skipping example data (`example`, `default`, `enum`, `const`, the `value`
/// of Example Objects, array-valued `examples`) and `x-` extensions. Iterative: any depth.
pub fn walk_objects<'v>(value: &'v Value, base: &str, mut f: impl FnMut(&Visit<'v, '_>)) {
    walk_objects_with(value, base, |v| {
        f(v);
        true
    })
}

/// Like [`walk_objects`], but the children of an object are visited only when `f` returns
/// true for it.
pub fn walk_objects_with<'v>(value: &'v Value, base: &str, mut f: impl FnMut(&Visit<'v, '_>) -> bool) {
    /// How an item's pointer extends its parent's.
    enum Seg<'v> {
        Root,
        Key(&'v str),
        Index(usize),
    }
    struct Item<'v> {
        value: &'v Value,
        /// Length of the parent's pointer: in a depth-first walk it is still the prefix of the
        /// shared pointer buffer when the item is popped.
        parent: usize,
        seg: Seg<'v>,
        names: bool,
        key: Option<&'v str>,
        /// Inside a map of Example Objects: their `value` is data.
        example: bool,
        /// The parent is a name map.
        in_names: bool,
    }
    use std::fmt::Write as _;
    let mut pointer = String::with_capacity(base.len() + 128);
    pointer.push_str(base);
    let mut stack = vec![Item {
        value,
        parent: base.len(),
        seg: Seg::Root,
        names: false,
        key: None,
        example: false,
        in_names: false,
    }];
    while let Some(item) = stack.pop() {
        pointer.truncate(item.parent);
        match item.seg {
            Seg::Root => {}
            Seg::Key(k) => {
                pointer.push('/');
                pointer.push_str(&escape_pointer_segment(k));
            }
            Seg::Index(i) => {
                let _ = write!(pointer, "/{i}");
            }
        }
        let here = pointer.len();
        match item.value {
            Value::Object(map) => {
                let descend = f(&Visit {
                    object: map,
                    pointer: &pointer,
                    names: item.names,
                    key: item.key,
                    in_names: item.in_names,
                });
                if !descend {
                    continue;
                }
                // Push in reverse so that children are visited in document order.
                for (k, v) in map.iter().rev() {
                    if !matches!(v, Value::Object(_) | Value::Array(_)) {
                        continue;
                    }
                    let (names, example) = if item.names {
                        // Children of a name map are objects of keywords, except callbacks
                        // (expression -> Path Item) which are name maps themselves.
                        (item.key == Some("callbacks"), item.key == Some("examples"))
                    } else {
                        if is_data_key(k) || (item.example && k == "value") {
                            continue;
                        }
                        if k == "examples" && v.is_array() {
                            continue;
                        }
                        (v.is_object() && NAME_MAPS.contains(&k.as_str()), false)
                    };
                    stack.push(Item {
                        value: v,
                        parent: here,
                        seg: Seg::Key(k),
                        names,
                        key: Some(k.as_str()),
                        example,
                        in_names: item.names,
                    });
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate().rev() {
                    if matches!(v, Value::Object(_) | Value::Array(_)) {
                        stack.push(Item {
                            value: v,
                            parent: here,
                            seg: Seg::Index(i),
                            names: false,
                            key: None,
                            example: false,
                            in_names: false,
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

/// Calls `f(pointer_of_the_object, reference)` for every `$ref` (a string-valued `$ref` member)
/// in `value`, in document order.
pub fn visit_refs<'v>(value: &'v Value, base: &str, mut f: impl FnMut(&str, &'v str)) {
    walk_objects(value, base, |v| {
        if let Some(Value::String(r)) = v.object.get("$ref") {
            f(v.pointer, r);
        }
    });
}

/// The other files of a multi-file description, loaded once.
#[derive(Debug, Default)]
pub struct ExternalDocs {
    /// By path relative to the submission root.
    pub docs: BTreeMap<String, Loaded<Document>>,
    /// True when [`MAX_FILES`] or [`MAX_TOTAL_BYTES`] stopped the loading.
    pub truncated: bool,
}

impl ExternalDocs {
    pub fn get(&self, rel: &str) -> Option<&Loaded<Document>> {
        self.docs.get(rel)
    }
}

/// Loads, transitively, every file that the document `rel` (parsed as `value`) refers to with
/// a relative-file `$ref` that stays inside `root`. Files that cannot be read or parsed are
/// kept as [`Loaded::Missing`] / [`Loaded::Invalid`]; references that leave the submission or
/// are URLs are not followed.
pub fn load_external(root: &Path, rel: &str, value: &Value, limits: &Limits) -> ExternalDocs {
    let mut out = ExternalDocs::default();
    let mut total_bytes = 0usize;
    let mut queue: VecDeque<String> = targets(root, rel, value).into();
    while let Some(target) = queue.pop_front() {
        if out.docs.contains_key(&target) {
            continue;
        }
        if out.docs.len() >= MAX_FILES || total_bytes >= MAX_TOTAL_BYTES {
            out.truncated = true;
            break;
        }
        // Confined above; confine again to get the absolute path.
        let Ok((path, _)) = confine(root, &target) else {
            continue;
        };
        let r = ArtifactRef {
            rel: target.clone(),
            path,
            span: None,
            role: "$ref target".into(),
        };
        let loaded = match read_bytes(&r, limits) {
            Loaded::Ok(bytes) => {
                total_bytes = total_bytes.saturating_add(bytes.len());
                match Document::from_bytes(&target, &bytes, limits) {
                    Ok(d) => Loaded::Ok(d),
                    Err(e) => Loaded::Invalid(ArtifactProblem {
                        message: format!("`{target}` does not parse: {e}"),
                        location: e.location(),
                        pointer: None,
                        help: e.help(),
                    }),
                }
            }
            Loaded::Missing => Loaded::Missing,
            Loaded::Invalid(p) => Loaded::Invalid(p),
        };
        if let Loaded::Ok(d) = &loaded {
            for t in targets(root, &target, &d.value) {
                if t != rel && !out.docs.contains_key(&t) {
                    queue.push_back(t);
                }
            }
        }
        out.docs.insert(target, loaded);
    }
    out
}

/// The confined relative paths of the files `value` (the document `from`) refers to.
fn targets(root: &Path, from: &str, value: &Value) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out: Vec<String> = Vec::new();
    visit_refs(value, "", |_, r| {
        if let RefTarget::File { path, .. } = parse_ref(r) {
            if seen.insert(path.clone()) {
                if let Ok((_, target)) = confine(root, &join_rel(from, &path)) {
                    if target != from {
                        out.push(target);
                    }
                }
            }
        }
    });
    out
}

/// The value at the RFC 6901 JSON pointer `pointer` in `root` (`""` is `root`): what
/// `Value::pointer` gives, without allocating for segments that need no unescaping (the OAS
/// checks follow tens of thousands of pointers on a large description). Positions are found by
/// another walk, over the document's position index (`Document::locate`), which also gives the
/// nearest ancestor of a pointer that names nothing.
pub fn value_at<'v>(root: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(root);
    }
    let mut cur = root;
    for seg in pointer.strip_prefix('/')?.split('/') {
        let seg = unescape_pointer_segment(seg);
        cur = match cur {
            Value::Object(m) => m.get(seg.as_ref())?,
            Value::Array(a) => {
                // As serde_json reads an index: no sign, no leading zero.
                if seg.starts_with('+') || (seg.starts_with('0') && seg.len() != 1) {
                    return None;
                }
                a.get(seg.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

/// True when `value` has a `$ref` to another file (so [`load_external`] has work to do).
pub fn has_file_refs(value: &Value) -> bool {
    // A quick scan without pointers: any `$ref` that is not a local `#...` pointer. A URL (or a
    // `$ref` inside example data) only costs a call to `load_external`, which follows nothing.
    match value {
        Value::Object(map) => {
            map.get("$ref")
                .and_then(Value::as_str)
                .is_some_and(|r| !r.starts_with('#'))
                || map.values().any(has_file_refs)
        }
        Value::Array(items) => items.iter().any(has_file_refs),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn value_at_is_value_pointer() {
        let v = json!({"a": {"b/c": [1, {"d~e": 2}], "": {"": 3}, "0": 4}, "l": [5, 6]});
        for p in [
            "",
            "/",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/b~1c/01",
            "/a/b~1c/+1",
            "/a/b~1c/-1",
            "/a/b~1c/2",
            "/a//",
            "/a/0",
            "/l/1",
            "/l/00",
            "/l/x",
            "a",
            "#/a",
            "/a/b~1c/1/d~0e/x",
            "/a/b~01c",
            "/~2",
        ] {
            assert_eq!(value_at(&v, p), v.pointer(p), "{p:?}");
        }
    }

    #[test]
    fn parses_refs() {
        assert_eq!(
            parse_ref("#/components/schemas/A%20B"),
            RefTarget::Local("/components/schemas/A B".into())
        );
        assert_eq!(
            parse_ref("common.yaml#/X"),
            RefTarget::File {
                path: "common.yaml".into(),
                fragment: "/X".into()
            }
        );
        assert_eq!(
            parse_ref("my%20file.yaml"),
            RefTarget::File {
                path: "my file.yaml".into(),
                fragment: String::new()
            }
        );
        assert!(matches!(parse_ref("https://x.test/a.yaml#/b"), RefTarget::Url { .. }));
        assert!(matches!(parse_ref("urn:x:y"), RefTarget::Url { .. }));
        assert!(matches!(parse_ref("C:/x.yaml"), RefTarget::File { .. }));
        assert_eq!(percent_decode("%7Bid%7D%"), "{id}%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(
            join_rel("services/orders/openapi.yaml", "../common.yaml"),
            "services/orders/../common.yaml"
        );
        assert_eq!(join_rel("openapi.yaml", "a.yaml"), "a.yaml");
    }

    #[test]
    fn skips_example_data() {
        let v = json!({
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/A"},
                "example": {"$ref": "not-a-ref"},
                "examples": {"one": {"value": {"$ref": "data"}}, "two": {"$ref": "#/components/examples/E"}}
            }}}}}}},
            "components": {"schemas": {"A": {
                "properties": {"example": {"$ref": "#/components/schemas/B"}, "$ref": {"type": "string"}},
                "default": {"$ref": "data"},
                "examples": [{"$ref": "data"}],
                "x-ext": {"$ref": "ext"}
            }}}
        });
        let mut seen = Vec::new();
        visit_refs(&v, "", |p, r| seen.push(format!("{p} {r}")));
        assert_eq!(
            seen,
            vec![
                "/paths/~1a/get/responses/200/content/application~1json/schema #/components/schemas/A",
                "/paths/~1a/get/responses/200/content/application~1json/examples/two #/components/examples/E",
                "/components/schemas/A/properties/example #/components/schemas/B",
            ]
        );
    }
}
