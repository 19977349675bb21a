//! Compiled JSON Schema validators over an OpenAPI description (the root document and the files
//! its `$ref`s name), shared by the contract checks and the live probes.
//!
//! * Every file of the description is registered **once** in a [`jsonschema::Registry`] under
//!   `https://grade.invalid/<path relative to the submission>` (percent-encoded), so relative
//!   file references (`common.yaml#/Money`) and local ones (`#/components/schemas/Money`)
//!   resolve inside the registry and nothing is ever fetched.
//! * A validator is compiled on demand for any schema by its file and JSON pointer (`{"$ref":
//!   "<file uri>#<pointer>"}`), then cached: compiling costs microseconds, validating
//!   nanoseconds, and validators are `Send + Sync`.
//! * OpenAPI 3.0 schemas are validated as JSON Schema draft 4 after rewriting `nullable: true`
//!   (a `type` becomes `[type, "null"]` and a listed `enum` gains `null`; a schema without
//!   `type`, e.g. `allOf: [{$ref}]`, is wrapped as `anyOf: [{type: "null"}, <schema>]`).
//!   OpenAPI 3.1 schemas are validated as JSON Schema 2020-12, as written.
//! * A [`Violation`] names the instance location (a JSON pointer into the validated value) and
//!   the schema keyword that failed, mapped back to the file and JSON pointer the learner wrote
//!   (undoing the `nullable` rewrite), so [`SchemaSet::locate`] gives its line and column.
//!
//! Formats are asserted (`date-time`, `email`, `uri`, ...) for both versions; unknown formats
//! (`int32`, `double`, `password`, ...) are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{json, Map, Value};

use super::document::{escape_pointer_segment, Document, Location};
use super::openapi::{OasVersion, OpenApiDoc};
use super::refs::{self, ExternalDocs, RefTarget};
use super::Loaded;

/// The base of the URIs under which the files of a description are registered. `.invalid`
/// is reserved (RFC 2606): nothing is ever fetched from it.
pub const BASE: &str = "https://grade.invalid/";

/// Deepest instance nesting walked by [`SchemaSet::undeclared`].
const MAX_WALK_DEPTH: usize = 128;

/// Why no validator could be built for a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub message: String,
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A place in a schema: a file of the description and a JSON pointer into it, as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaLoc {
    pub file: String,
    pub pointer: String,
}

impl SchemaLoc {
    /// `openapi.yaml#/components/schemas/Order/properties/status/enum`.
    pub fn display(&self) -> String {
        format!("{}#{}", self.file, self.pointer)
    }
}

/// One way an instance fails a schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// JSON pointer into the validated value (`""` for the value itself).
    pub instance_pointer: String,
    /// The failing keyword (`type`, `enum`, `required`, `anyOf`, ...).
    pub keyword: String,
    /// For `required`: the missing property.
    pub property: Option<String>,
    /// For `additionalProperties` / `unevaluatedProperties`: the properties not allowed.
    pub unexpected: Vec<String>,
    /// The keyword in the learner's file (nullable rewrite undone), when known.
    pub schema: Option<SchemaLoc>,
    /// What is wrong, for a learner (without the instance location).
    pub message: String,
    /// For `anyOf` / `oneOf`: the violations of each alternative, in order.
    pub branches: Vec<Vec<Violation>>,
}

impl Violation {
    /// True for keywords that constrain a value's content rather than its JSON type or its
    /// object structure: what a Pact type or regex matcher makes irrelevant.
    pub fn is_value_constraint(&self) -> bool {
        is_value_keyword(&self.keyword)
    }
}

/// Keywords that constrain the content of a value (not its type or its properties).
pub fn is_value_keyword(keyword: &str) -> bool {
    matches!(
        keyword,
        "enum"
            | "const"
            | "pattern"
            | "format"
            | "minimum"
            | "maximum"
            | "exclusiveMinimum"
            | "exclusiveMaximum"
            | "minLength"
            | "maxLength"
            | "multipleOf"
            | "minItems"
            | "maxItems"
            | "uniqueItems"
            | "contains"
            | "minContains"
            | "maxContains"
            | "contentEncoding"
            | "contentMediaType"
    )
}

/// A property of an instance object that the schema neither declares nor forbids.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Undeclared {
    /// JSON pointer of the property in the instance.
    pub instance_pointer: String,
    pub key: String,
    /// The object schemas consulted (their `properties` do not list the key).
    pub schemas: Vec<SchemaLoc>,
    /// Alternatives of an `anyOf`/`oneOf` that do describe the key but that the instance does
    /// not fit (see [`SchemaSet::undeclared`]).
    pub elsewhere: Vec<SchemaLoc>,
}

/// Whether an instance (at an instance pointer) fits the schema at a location: decides which
/// alternatives of `anyOf`/`oneOf` apply in [`SchemaSet::undeclared`].
pub type Fits<'f> = dyn Fn(&SchemaLoc, &str, &Value) -> bool + 'f;

struct FileEntry<'a> {
    doc: &'a Document,
    /// The value as registered (3.0: `nullable` rewritten).
    value: Arc<Value>,
    /// Pointers (as written) of the schemas wrapped in `anyOf: [{type: null}, ...]`.
    wrapped: BTreeSet<String>,
}

type Compiled = Arc<Result<Arc<Validator>, SchemaError>>;

/// Validates against many schemas of one [`SchemaSet`] with one compiled validator (see
/// [`SchemaSet::validator_many`]).
pub struct ManyValidator {
    validator: Validator,
}

/// The schemas of one OpenAPI description, registered once, with a validator cache.
pub struct SchemaSet<'a> {
    oas: OasVersion,
    files: BTreeMap<String, FileEntry<'a>>,
    root: String,
    registry: Result<Registry<'static>, SchemaError>,
    cache: Mutex<BTreeMap<(String, String), Compiled>>,
    /// Longest chain of `$ref`s [`SchemaSet::resolve`] follows.
    max_ref_hops: usize,
}

impl std::fmt::Debug for SchemaSet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSet")
            .field("oas", &self.oas)
            .field("root", &self.root)
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Percent-encodes everything but unreserved characters and `/` (for URI paths and fragments).
pub fn percent_encode(s: &str) -> String {
    crate::files::pct::encode(s, crate::files::pct::PATH)
}

/// The registry URI of the file `rel` (a path relative to the submission root).
pub fn file_uri(rel: &str) -> String {
    format!("{BASE}{}", percent_encode(rel))
}

/// The registry URI of the schema at `pointer` in the file `rel`.
pub fn schema_uri(rel: &str, pointer: &str) -> String {
    format!("{}#{}", file_uri(rel), percent_encode(pointer))
}

/// The file and pointer of a registry URI, when it is one of ours.
fn parse_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix(BASE)?;
    let (file, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    Some((
        refs::percent_decode(file).into_owned(),
        refs::percent_decode(fragment).into_owned(),
    ))
}

impl<'a> SchemaSet<'a> {
    /// Registers the files of a description; the first is the root document. Files are
    /// identified by their path relative to the submission root (as `$ref`s are resolved).
    pub fn new(oas: OasVersion, files: &[(&str, &'a Document)]) -> SchemaSet<'a> {
        let files: Vec<(&str, &'a Document, Option<Value>)> = files.iter().map(|(r, d)| (*r, *d, None)).collect();
        SchemaSet::build(oas, files)
    }

    /// Like [`SchemaSet::for_openapi`], for validating against the schemas at `pointers` (in
    /// the root document) only: the root document is registered with just the subtrees these
    /// schemas reach through local `$ref`s (same pointers, same results, far less to register
    /// for a large description). Falls back to the whole description when the schemas refer
    /// to other files, URLs or anchors, or when the description has external files.
    pub fn for_openapi_schemas(
        rel: &str,
        spec: &'a OpenApiDoc,
        external: &'a ExternalDocs,
        pointers: &[String],
    ) -> SchemaSet<'a> {
        if !external.docs.is_empty() {
            return SchemaSet::for_openapi(rel, spec, external);
        }
        match prune_to(&spec.doc.value, spec.oas, pointers) {
            Some(value) => SchemaSet::build(spec.oas, vec![(rel, &spec.doc, Some(value))]),
            None => SchemaSet::for_openapi(rel, spec, external),
        }
    }

    /// Registers the files (`value`: what to register instead of the document's own value).
    fn build(oas: OasVersion, files: Vec<(&str, &'a Document, Option<Value>)>) -> SchemaSet<'a> {
        let root = files.first().map(|(r, _, _)| r.to_string()).unwrap_or_default();
        let mut map = BTreeMap::new();
        for (rel, doc, own) in files {
            if map.contains_key(rel) {
                continue;
            }
            let (value, wrapped) = match (oas, own) {
                (OasVersion::V30, Some(v)) => rewrite_nullable_owned(v),
                (OasVersion::V30, None) => rewrite_nullable(&doc.value),
                (OasVersion::V31, Some(v)) => (v, BTreeSet::new()),
                (OasVersion::V31, None) => (doc.value.clone(), BTreeSet::new()),
            };
            map.insert(
                rel.to_string(),
                FileEntry {
                    doc,
                    value: Arc::new(value),
                    wrapped,
                },
            );
        }
        let draft = draft_of(oas);
        let registry = (|| {
            let mut builder = Registry::new().draft(draft).retrieve_known_draft_meta_schemas(false);
            for (rel, f) in &map {
                builder = builder.add(file_uri(rel), Arc::clone(&f.value))?;
            }
            builder.prepare()
        })()
        .map_err(|e| SchemaError {
            message: format!("the schemas cannot be registered: {e}"),
        });
        SchemaSet {
            oas,
            root,
            files: map,
            registry,
            cache: Mutex::new(BTreeMap::new()),
            max_ref_hops: super::document::Limits::default().max_ref_hops,
        }
    }

    /// The same set following chains of at most `hops` references (`--max-ref-hops`).
    pub fn with_max_ref_hops(mut self, hops: usize) -> SchemaSet<'a> {
        self.max_ref_hops = hops;
        self
    }

    /// The schemas of a loaded OpenAPI document `rel` and the external files it refers to.
    pub fn for_openapi(rel: &str, spec: &'a OpenApiDoc, external: &'a ExternalDocs) -> SchemaSet<'a> {
        let mut files: Vec<(&str, &'a Document)> = vec![(rel, &spec.doc)];
        for (r, loaded) in &external.docs {
            if let Loaded::Ok(d) = loaded {
                files.push((r.as_str(), d));
            }
        }
        SchemaSet::new(spec.oas, &files)
    }

    pub fn oas(&self) -> OasVersion {
        self.oas
    }

    /// The root document's path.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The validator of the schema at `pointer` in `file` (compiled once, then cached).
    pub fn validator(&self, file: &str, pointer: &str) -> Result<Arc<Validator>, SchemaError> {
        let key = (file.to_string(), pointer.to_string());
        let cached = self.cache.lock().ok().and_then(|c| c.get(&key).cloned());
        let compiled = match cached {
            Some(c) => c,
            None => {
                let c: Compiled = Arc::new(self.compile(file, pointer));
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(key, Arc::clone(&c));
                }
                c
            }
        };
        compiled.as_ref().clone()
    }

    /// The `$ref` to the schema at `pointer` (as written) in `file`, checked to exist.
    fn reference(&self, file: &str, pointer: &str) -> Result<Value, SchemaError> {
        let Some(entry) = self.files.get(file) else {
            return Err(SchemaError {
                message: format!("`{file}` is not a file of this description"),
            });
        };
        let rewritten = self.rewritten_pointer(entry, pointer);
        if !pointer.is_empty() && refs::value_at(&entry.value, &rewritten).is_none() {
            return Err(SchemaError {
                message: format!("`{file}#{pointer}` does not exist"),
            });
        }
        Ok(json!({ "$ref": schema_uri(file, &rewritten) }))
    }

    fn compile(&self, file: &str, pointer: &str) -> Result<Arc<Validator>, SchemaError> {
        let wrapper = self.reference(file, pointer)?;
        self.build_validator(&wrapper).map(Arc::new)
    }

    fn build_validator(&self, wrapper: &Value) -> Result<Validator, SchemaError> {
        let registry = self.registry.as_ref().map_err(Clone::clone)?;
        // A panic inside the validator library must not take the grader down.
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            jsonschema::options()
                .with_draft(draft_of(self.oas))
                .with_registry(registry)
                .should_validate_formats(true)
                .should_ignore_unknown_formats(true)
                .build(wrapper)
        }));
        match built {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(SchemaError {
                message: clean_build_error(&e.to_string()),
            }),
            Err(_) => Err(SchemaError {
                message: "the schema validator failed on this schema".into(),
            }),
        }
    }

    /// One validator for all the schemas at `targets` (file, pointer as written), for a caller
    /// that validates instances against many schemas of a large description: compiling each
    /// schema on its own compiles the schemas they share again every time (hundreds of
    /// milliseconds to seconds for a few hundred schemas of a real API), one validator compiles
    /// each once. Validate with [`SchemaSet::validate_many`]. Fails when any target fails to
    /// compile (then compile them one by one to tell which).
    pub fn validator_many(&self, targets: &[(&str, &str)]) -> Result<ManyValidator, SchemaError> {
        let mut props = Map::with_capacity(targets.len());
        for (i, (file, pointer)) in targets.iter().enumerate() {
            props.insert(i.to_string(), self.reference(file, pointer)?);
        }
        let validator = self.build_validator(&json!({ "properties": props }))?;
        Ok(ManyValidator { validator })
    }

    /// Validates `instance` against the `index`-th schema of `m` (see
    /// [`SchemaSet::validator_many`]): the same violations as with that schema's own validator.
    pub fn validate_many(
        &self,
        m: &ManyValidator,
        index: usize,
        instance: &Value,
    ) -> Result<Vec<Violation>, SchemaError> {
        let key = index.to_string();
        let mut wrapped = Map::with_capacity(1);
        wrapped.insert(key.clone(), instance.clone());
        let mut violations = self.validate_with(&m.validator, &Value::Object(wrapped))?;
        let prefix = format!("/{key}");
        fn unwrap(v: &mut Violation, prefix: &str) {
            if let Some(rest) = v.instance_pointer.strip_prefix(prefix) {
                if rest.is_empty() || rest.starts_with('/') {
                    v.instance_pointer = rest.to_string();
                }
            }
            for b in &mut v.branches {
                for x in b {
                    unwrap(x, prefix);
                }
            }
        }
        for v in &mut violations {
            unwrap(v, &prefix);
        }
        Ok(violations)
    }

    /// The validator of the schema at `pointer` in `file`, compiled now and not kept: for a
    /// caller that validates all the instances of one schema in a row and then lets it go (a
    /// validator holds every schema it reaches, so keeping thousands adds up).
    pub fn validator_uncached(&self, file: &str, pointer: &str) -> Result<Arc<Validator>, SchemaError> {
        self.compile(file, pointer)
    }

    /// Validates `instance` against the schema at `pointer` in `file`.
    pub fn validate(&self, file: &str, pointer: &str, instance: &Value) -> Result<Vec<Violation>, SchemaError> {
        let v = self.validator(file, pointer)?;
        self.validate_with(&v, instance)
    }

    /// Validates `instance` with a validator of this set (see [`SchemaSet::validator`]).
    pub fn validate_with(&self, v: &Validator, instance: &Value) -> Result<Vec<Violation>, SchemaError> {
        // Most instances are valid: the boolean check is cheaper than collecting no errors.
        let errors: Vec<ValidationError<'_>> = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if v.is_valid(instance) {
                Vec::new()
            } else {
                v.iter_errors(instance).collect()
            }
        })) {
            Ok(e) => e,
            Err(_) => {
                return Err(SchemaError {
                    message: "the schema validator failed on this value".into(),
                })
            }
        };
        Ok(errors.iter().map(|e| self.violation(e)).collect())
    }

    fn violation(&self, e: &ValidationError<'_>) -> Violation {
        let schema = e
            .absolute_keyword_location()
            .and_then(|u| parse_uri(u.as_str()))
            .map(|(file, pointer)| {
                let pointer = match self.files.get(&file) {
                    Some(entry) => unwrap_pointer(&entry.wrapped, &pointer),
                    None => pointer,
                };
                SchemaLoc { file, pointer }
            });
        let instance = e.instance();
        let kind = e.kind();
        let mut v = Violation {
            instance_pointer: e.instance_path().as_str().to_string(),
            keyword: kind.keyword().to_string(),
            property: None,
            unexpected: Vec::new(),
            schema,
            message: String::new(),
            branches: Vec::new(),
        };
        v.message = match kind {
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => t.to_string(),
                    TypeKind::Multiple(set) => {
                        let names: Vec<String> = set.iter().map(|t| t.to_string()).collect();
                        or_list(&names)
                    }
                };
                format!("expected {expected}, found {}", describe(instance))
            }
            ValidationErrorKind::Enum { options } => {
                let opts: Vec<String> = match options.as_ref() {
                    Value::Array(a) => a.iter().map(short).collect(),
                    other => vec![short(other)],
                };
                format!(
                    "{} is not one of the allowed values {}",
                    short(instance),
                    list(&opts, 8)
                )
            }
            ValidationErrorKind::Constant { expected_value } => {
                format!(
                    "{} is not the required value {}",
                    short(instance),
                    short(expected_value)
                )
            }
            ValidationErrorKind::Pattern { pattern } => {
                format!("{} does not match the pattern `{pattern}`", short(instance))
            }
            ValidationErrorKind::Format { format } => format!("{} is not a valid `{format}`", short(instance)),
            ValidationErrorKind::Minimum { limit } => format!("{} is less than the minimum {limit}", short(instance)),
            ValidationErrorKind::Maximum { limit } => {
                format!("{} is greater than the maximum {limit}", short(instance))
            }
            ValidationErrorKind::ExclusiveMinimum { limit } => {
                format!("{} must be greater than {limit}", short(instance))
            }
            ValidationErrorKind::ExclusiveMaximum { limit } => {
                format!("{} must be less than {limit}", short(instance))
            }
            ValidationErrorKind::MinLength { limit } => {
                format!("{} is shorter than {limit} characters", short(instance))
            }
            ValidationErrorKind::MaxLength { limit } => {
                format!("{} is longer than {limit} characters", short(instance))
            }
            ValidationErrorKind::MinItems { limit } => format!("the array has fewer than {limit} items"),
            ValidationErrorKind::MaxItems { limit } => format!("the array has more than {limit} items"),
            ValidationErrorKind::MinProperties { limit } => format!("the object has fewer than {limit} properties"),
            ValidationErrorKind::MaxProperties { limit } => format!("the object has more than {limit} properties"),
            ValidationErrorKind::UniqueItems => "the array's items are not unique".into(),
            ValidationErrorKind::MultipleOf { multiple_of } => {
                format!("{} is not a multiple of {multiple_of}", short(instance))
            }
            ValidationErrorKind::Required { property } => {
                let p = property
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| property.to_string());
                let m = format!("the required property `{p}` is missing");
                v.property = Some(p);
                m
            }
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                v.unexpected = unexpected.clone();
                let names: Vec<String> = unexpected.iter().map(|u| format!("`{u}`")).collect();
                let (what, verb) = if names.len() == 1 {
                    ("property", "is")
                } else {
                    ("properties", "are")
                };
                format!(
                    "{what} {} {verb} not allowed (the schema sets `{}: false`)",
                    list(&names, 6),
                    kind.keyword()
                )
            }
            ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
                v.branches = context
                    .iter()
                    .map(|errs| errs.iter().map(|e| self.violation(e)).collect())
                    .collect();
                format!(
                    "{} matches none of the {} alternatives of `{}`",
                    describe(instance),
                    context.len(),
                    kind.keyword()
                )
            }
            ValidationErrorKind::OneOfMultipleValid { .. } => {
                format!("{} matches more than one alternative of `oneOf`", describe(instance))
            }
            ValidationErrorKind::FalseSchema => "no value is allowed here (the schema is `false`)".into(),
            ValidationErrorKind::Not { .. } => format!("{} matches the schema under `not`", describe(instance)),
            ValidationErrorKind::Referencing(err) => format!("a `$ref` of the schema does not resolve: {err}"),
            _ => e.to_string(),
        };
        v
    }

    /// Follows `$ref`s from the node at `pointer` of `file` (pointers as written) to a value
    /// that is not a reference. Returns the file, pointer and value (as registered, i.e. with
    /// `nullable` rewritten for 3.0).
    pub fn resolve(&self, file: &str, pointer: &str) -> Option<(String, String, &Value)> {
        let mut file = file.to_string();
        let mut pointer = pointer.to_string();
        for _ in 0..self.max_ref_hops {
            let entry = self.files.get(&file)?;
            let value = lookup(entry, &self.rewritten_pointer(entry, &pointer))?;
            let Some(r) = value.get("$ref").and_then(Value::as_str) else {
                return Some((file, pointer, value));
            };
            let (f, p) = self.ref_target(&file, r)?;
            file = f;
            pointer = p;
        }
        None
    }

    /// The file and pointer a `$ref` written in `from` names (files of this set only).
    fn ref_target(&self, from: &str, reference: &str) -> Option<(String, String)> {
        match refs::parse_ref(reference) {
            RefTarget::Local(fragment) if fragment.is_empty() || fragment.starts_with('/') => {
                Some((from.to_string(), fragment))
            }
            RefTarget::File { path, fragment } if fragment.is_empty() || fragment.starts_with('/') => {
                let joined = normalize(&refs::join_rel(from, &path))?;
                self.files.contains_key(&joined).then_some((joined, fragment))
            }
            _ => None,
        }
    }

    fn rewritten_pointer(&self, entry: &FileEntry<'_>, pointer: &str) -> String {
        wrap_pointer(&entry.wrapped, pointer)
    }

    /// Line and column of `pointer` (as written) in `file`.
    pub fn locate(&self, file: &str, pointer: &str) -> Option<Location> {
        self.files.get(file).map(|f| f.doc.locate(pointer))
    }

    /// `orders/openapi.yaml:212` for a schema location.
    pub fn describe_loc(&self, loc: &SchemaLoc) -> String {
        match self.locate(&loc.file, &loc.pointer) {
            Some(l) => format!("{}:{}", loc.file, l.line),
            None => loc.file.clone(),
        }
    }

    /// The properties of `instance` (walked to any depth) that the schema at `pointer` of
    /// `file` describes no property for, in objects whose schema lists `properties` and
    /// leaves other keys open (no `additionalProperties`, `patternProperties` or
    /// `unevaluatedProperties` that would describe them). Declarations are collected across
    /// `allOf`, `if`/`then`/`else` and `$ref`, so composition never makes a declared property
    /// look undeclared; of an `anyOf`/`oneOf`, only the alternatives the object `fits` count
    /// (all of them when it fits none: validation reports that), and a key described only by
    /// alternatives it does not fit is returned with those alternatives in
    /// [`Undeclared::elsewhere`]. Properties the schema forbids (`additionalProperties:
    /// false`) are reported by validation, not here.
    ///
    /// `skip(instance_pointer)` leaves an object's keys unchecked (e.g. a Pact `values` matcher).
    pub fn undeclared(
        &self,
        file: &str,
        pointer: &str,
        instance: &Value,
        skip: &dyn Fn(&str) -> bool,
        fits: &Fits<'_>,
    ) -> Vec<Undeclared> {
        let mut out = Vec::new();
        let start = vec![SchemaLoc {
            file: file.to_string(),
            pointer: pointer.to_string(),
        }];
        let ctx = Walk { skip, fits };
        self.walk_undeclared(&start, instance, String::new(), 0, &ctx, &mut out);
        out.sort();
        out
    }

    fn walk_undeclared(
        &self,
        schemas: &[SchemaLoc],
        instance: &Value,
        at: String,
        depth: usize,
        ctx: &Walk<'_, '_>,
        out: &mut Vec<Undeclared>,
    ) {
        if depth > MAX_WALK_DEPTH || schemas.is_empty() {
            return;
        }
        let (flat, unfit) = self.flatten(schemas, Some((&at, instance, ctx.fits)));
        match instance {
            Value::Object(obj) => {
                let mut declared: BTreeMap<&str, Vec<SchemaLoc>> = BTreeMap::new();
                let mut open: Vec<SchemaLoc> = Vec::new();
                let mut open_any = false;
                // `additionalProperties: false`: validation reports the keys it refuses.
                let mut closed = false;
                let mut described = Vec::new();
                for (loc, v) in &flat {
                    let Some(m) = v.as_object() else {
                        // `true`: anything goes.
                        if **v == Value::Bool(true) {
                            open_any = true;
                        }
                        continue;
                    };
                    if let Some(Value::Object(props)) = m.get("properties") {
                        described.push(loc.clone());
                        for k in props.keys() {
                            declared.entry(k.as_str()).or_default().push(SchemaLoc {
                                file: loc.file.clone(),
                                pointer: format!("{}/properties/{}", loc.pointer, escape_pointer_segment(k)),
                            });
                        }
                    }
                    for key in ["additionalProperties", "unevaluatedProperties"] {
                        match m.get(key) {
                            None => {}
                            Some(Value::Bool(false)) => closed = true,
                            Some(Value::Object(_)) => open.push(SchemaLoc {
                                file: loc.file.clone(),
                                pointer: format!("{}/{key}", loc.pointer),
                            }),
                            Some(_) => open_any = true,
                        }
                    }
                    if m.get("patternProperties")
                        .is_some_and(|p| p.as_object().is_some_and(|p| !p.is_empty()))
                    {
                        open_any = true;
                    }
                }
                let check_keys = !described.is_empty() && !open_any && !closed && open.is_empty() && !(ctx.skip)(&at);
                for (k, child) in obj {
                    let child_at = format!("{at}/{}", escape_pointer_segment(k));
                    match declared.get(k.as_str()) {
                        Some(locs) => self.walk_undeclared(locs, child, child_at, depth + 1, ctx, out),
                        None => {
                            if check_keys {
                                let elsewhere = unfit.iter().filter(|u| self.declares(u, k)).cloned().collect();
                                out.push(Undeclared {
                                    instance_pointer: child_at,
                                    key: k.clone(),
                                    schemas: described.clone(),
                                    elsewhere,
                                });
                            } else if !open.is_empty() {
                                self.walk_undeclared(&open, child, child_at, depth + 1, ctx, out);
                            }
                        }
                    }
                }
            }
            Value::Array(items) => {
                let mut item_schemas: Vec<SchemaLoc> = Vec::new();
                let mut prefix: Vec<Vec<SchemaLoc>> = Vec::new();
                for (loc, v) in &flat {
                    let Some(m) = v.as_object() else { continue };
                    match m.get("items") {
                        Some(Value::Object(_)) => item_schemas.push(SchemaLoc {
                            file: loc.file.clone(),
                            pointer: format!("{}/items", loc.pointer),
                        }),
                        Some(Value::Array(list)) => {
                            for i in 0..list.len() {
                                if prefix.len() <= i {
                                    prefix.push(Vec::new());
                                }
                                prefix[i].push(SchemaLoc {
                                    file: loc.file.clone(),
                                    pointer: format!("{}/items/{i}", loc.pointer),
                                });
                            }
                        }
                        _ => {}
                    }
                    if let Some(Value::Array(list)) = m.get("prefixItems") {
                        for i in 0..list.len() {
                            if prefix.len() <= i {
                                prefix.push(Vec::new());
                            }
                            prefix[i].push(SchemaLoc {
                                file: loc.file.clone(),
                                pointer: format!("{}/prefixItems/{i}", loc.pointer),
                            });
                        }
                    }
                }
                for (i, item) in items.iter().enumerate() {
                    let locs = match prefix.get(i) {
                        Some(p) if !p.is_empty() => p,
                        _ => &item_schemas,
                    };
                    self.walk_undeclared(locs, item, format!("{at}/{i}"), depth + 1, ctx, out);
                }
            }
            _ => {}
        }
    }

    /// True when the schema at `loc` (with its `$ref`s and composition) lists `key` under
    /// `properties`.
    fn declares(&self, loc: &SchemaLoc, key: &str) -> bool {
        let (flat, _) = self.flatten(std::slice::from_ref(loc), None);
        flat.iter().any(|(_, v)| {
            v.get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| p.contains_key(key))
        })
    }

    /// The schemas that apply to one instance: each given schema with its `$ref`s followed and
    /// its `allOf`/`then`/`else` members expanded, without repeats. Of an `anyOf`/`oneOf`, with
    /// `fit` (the instance, its pointer and the test), only the alternatives the instance fits
    /// are expanded (all when it fits none) and the others are returned apart; without `fit`,
    /// all are expanded.
    fn flatten(
        &self,
        schemas: &[SchemaLoc],
        fit: Option<(&str, &Value, &Fits<'_>)>,
    ) -> (Vec<(SchemaLoc, &Value)>, Vec<SchemaLoc>) {
        let mut out: Vec<(SchemaLoc, &Value)> = Vec::new();
        let mut unfit: Vec<SchemaLoc> = Vec::new();
        let mut seen: BTreeSet<SchemaLoc> = BTreeSet::new();
        let mut stack: Vec<SchemaLoc> = schemas.iter().rev().cloned().collect();
        while let Some(loc) = stack.pop() {
            if seen.len() > 10_000 || !seen.insert(loc.clone()) {
                continue;
            }
            let Some(entry) = self.files.get(&loc.file) else {
                continue;
            };
            let Some(v) = lookup(entry, &self.rewritten_pointer(entry, &loc.pointer)) else {
                continue;
            };
            let Some(m) = v.as_object() else {
                out.push((loc, v));
                continue;
            };
            let mut next = Vec::new();
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                if let Some((f, p)) = self.ref_target(&loc.file, r) {
                    next.push(SchemaLoc { file: f, pointer: p });
                }
            }
            let member = |key: &str, i: usize| SchemaLoc {
                file: loc.file.clone(),
                pointer: format!("{}/{key}/{i}", loc.pointer),
            };
            if let Some(Value::Array(list)) = m.get("allOf") {
                next.extend((0..list.len()).map(|i| member("allOf", i)));
            }
            for key in ["anyOf", "oneOf"] {
                let Some(Value::Array(list)) = m.get(key) else { continue };
                let branches: Vec<SchemaLoc> = (0..list.len()).map(|i| member(key, i)).collect();
                match fit {
                    Some((at, instance, fits)) => {
                        let (ok, not): (Vec<SchemaLoc>, Vec<SchemaLoc>) =
                            branches.into_iter().partition(|b| fits(b, at, instance));
                        if ok.is_empty() {
                            next.extend(not);
                        } else {
                            next.extend(ok);
                            unfit.extend(not);
                        }
                    }
                    None => next.extend(branches),
                }
            }
            for key in ["then", "else"] {
                if m.get(key).is_some_and(Value::is_object) {
                    next.push(SchemaLoc {
                        file: loc.file.clone(),
                        pointer: format!("{}/{key}", loc.pointer),
                    });
                }
            }
            out.push((loc, v));
            stack.extend(next.into_iter().rev());
        }
        (out, unfit)
    }
}

/// What [`SchemaSet::undeclared`] passes down its walk.
struct Walk<'a, 'f> {
    skip: &'a dyn Fn(&str) -> bool,
    fits: &'a Fits<'f>,
}

fn draft_of(oas: OasVersion) -> Draft {
    match oas {
        OasVersion::V30 => Draft::Draft4,
        OasVersion::V31 => Draft::Draft202012,
    }
}

/// The value at a pointer of the registered (rewritten) value of a file.
fn lookup<'v>(entry: &'v FileEntry<'_>, rewritten: &str) -> Option<&'v Value> {
    if rewritten.is_empty() {
        Some(entry.value.as_ref())
    } else {
        refs::value_at(&entry.value, rewritten)
    }
}

/// Resolves `.` and `..` in a `/`-separated relative path; `None` when it climbs out.
fn normalize(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

/// Drops the library's schema dump from a build error and names files by their paths.
fn clean_build_error(s: &str) -> String {
    let first = s.lines().next().unwrap_or(s);
    if let Some(rest) = first.strip_prefix("Resource '") {
        if let Some((uri, tail)) = rest.split_once('\'') {
            if tail.contains("is not present in a registry") {
                let shown = parse_uri(uri).map(|(f, _)| f).unwrap_or_else(|| uri.to_string());
                return format!(
                    "a `$ref` names `{shown}`, which is not a file of this description (nothing is fetched)"
                );
            }
        }
    }
    let first = first.replace(BASE, "");
    let mut m: String = first.chars().take(300).collect();
    if first.chars().count() > 300 {
        m.push('…');
    }
    m
}

// ---------------------------------------------------------------------------------------------
// The `nullable` rewrite (OpenAPI 3.0)
// ---------------------------------------------------------------------------------------------

/// Rewrites every schema with `nullable: true` so that draft 4 accepts `null`; returns the new
/// value and the pointers (as written) of the schemas that had to be wrapped in `anyOf`.
/// A copy of `root` holding only the subtrees at `pointers` and those they reach through local
/// `$ref`s (transitively), at the same pointers; the objects on the way keep their scalar
/// `nullable`, `type`, `id` and `$id` (so that the `nullable` rewrite and base URIs are the
/// same), arrays on the way keep their length (other elements become `{}`). `None` when a
/// reached schema refers to anything but a JSON pointer in the same document.
fn prune_to(root: &Value, oas: OasVersion, pointers: &[String]) -> Option<Value> {
    fn refs_in<'v>(v: &'v Value, out: &mut Vec<&'v str>) -> bool {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(m) => {
                    for (k, c) in m {
                        match (k.as_str(), c) {
                            ("$ref", Value::String(r)) => out.push(r),
                            // (`$recursiveRef` is a keyword of draft 2019-09 only, which no
                            // OpenAPI version uses: ignored by the validator, so not followed.)
                            ("$dynamicRef", _) => return false,
                            _ => stack.push(c),
                        }
                    }
                }
                Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
        true
    }
    fn get<'v>(root: &'v Value, pointer: &str) -> Option<&'v Value> {
        if pointer.is_empty() {
            Some(root)
        } else {
            refs::value_at(root, pointer)
        }
    }
    let mut included: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<String> = pointers.to_vec();
    while let Some(p) = queue.pop() {
        if included.contains(&p) {
            continue;
        }
        let Some(v) = get(root, &p) else { continue };
        if p.is_empty() {
            return None;
        }
        included.insert(p);
        let mut found = Vec::new();
        if !refs_in(v, &mut found) {
            return None;
        }
        for r in found {
            match refs::parse_ref(r) {
                RefTarget::Local(f) if f.starts_with('/') => {
                    if !included.contains(&f) {
                        queue.push(f);
                    }
                }
                _ => return None,
            }
        }
    }
    let scalar_keys: &[&str] = match oas {
        OasVersion::V30 => &["nullable", "type", "id", "$id"],
        OasVersion::V31 => &["id", "$id"],
    };
    let mut out = Value::Object(Map::new());
    'next: for p in &included {
        let segs: Vec<String> = p
            .split('/')
            .skip(1)
            .map(|s| super::document::unescape_pointer_segment(s).into_owned())
            .collect();
        // Skip what an included ancestor already holds.
        let mut prefix = String::new();
        for s in p.split('/').skip(1).take(segs.len().saturating_sub(1)) {
            prefix.push('/');
            prefix.push_str(s);
            if included.contains(&prefix) {
                continue 'next;
            }
        }
        let mut src = root;
        let mut dst = &mut out;
        for (i, seg) in segs.iter().enumerate() {
            let last = i + 1 == segs.len();
            let next_src = match src {
                Value::Object(m) => m.get(seg)?,
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
            let fresh = || -> Value {
                if last {
                    return next_src.clone();
                }
                match next_src {
                    Value::Array(a) => Value::Array(vec![Value::Object(Map::new()); a.len()]),
                    Value::Object(m) => Value::Object(
                        scalar_keys
                            .iter()
                            .filter_map(|k| {
                                m.get(*k)
                                    .filter(|v| !matches!(v, Value::Object(_)))
                                    .map(|v| (k.to_string(), v.clone()))
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                }
            };
            dst = match dst {
                Value::Object(m) => {
                    if last {
                        m.insert(seg.clone(), fresh());
                        m.get_mut(seg)?
                    } else {
                        m.entry(seg.clone()).or_insert_with(fresh)
                    }
                }
                Value::Array(a) => {
                    let i = seg.parse::<usize>().ok()?;
                    let slot = a.get_mut(i)?;
                    // An empty object is the placeholder: it becomes the partial copy.
                    if last || slot.as_object().is_some_and(Map::is_empty) {
                        *slot = fresh();
                    }
                    slot
                }
                _ => return None,
            };
            src = next_src;
        }
    }
    Some(out)
}

pub fn rewrite_nullable(value: &Value) -> (Value, BTreeSet<String>) {
    rewrite_nullable_owned(value.clone())
}

/// [`rewrite_nullable`] of a value the caller gives away (no copy).
fn rewrite_nullable_owned(mut out: Value) -> (Value, BTreeSet<String>) {
    let mut targets: Vec<String> = Vec::new();
    refs::walk_objects(&out, "", |v| {
        if !v.names && v.object.get("nullable") == Some(&Value::Bool(true)) {
            targets.push(v.pointer.to_string());
        }
    });
    let mut wrapped = BTreeSet::new();
    // Deepest first: wrapping an ancestor moves its subtree, already rewritten by then.
    targets.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    for p in targets {
        let node = if p.is_empty() {
            Some(&mut out)
        } else {
            out.pointer_mut(&p)
        };
        let Some(Value::Object(m)) = node else { continue };
        match m.get_mut("type") {
            Some(Value::String(t)) => {
                let t = t.clone();
                m.insert("type".into(), json!([t, "null"]));
                if let Some(Value::Array(options)) = m.get_mut("enum") {
                    if !options.contains(&Value::Null) {
                        options.push(Value::Null);
                    }
                }
            }
            Some(Value::Array(types)) => {
                if !types.contains(&json!("null")) {
                    types.push(json!("null"));
                }
                if let Some(Value::Array(options)) = m.get_mut("enum") {
                    if !options.contains(&Value::Null) {
                        options.push(Value::Null);
                    }
                }
            }
            _ => {
                let inner: Map<String, Value> = std::mem::take(m);
                m.insert("anyOf".into(), json!([{ "type": "null" }, Value::Object(inner)]));
                wrapped.insert(p);
            }
        }
    }
    (out, wrapped)
}

/// A pointer as written -> the same node in the rewritten value (through `anyOf/1` wrappers).
fn wrap_pointer(wrapped: &BTreeSet<String>, pointer: &str) -> String {
    if wrapped.is_empty() {
        return pointer.to_string();
    }
    let mut orig = String::new();
    let mut out = String::new();
    if wrapped.contains("") {
        out.push_str("/anyOf/1");
    }
    for seg in pointer.split('/').skip(1) {
        orig.push('/');
        orig.push_str(seg);
        out.push('/');
        out.push_str(seg);
        if wrapped.contains(&orig) {
            out.push_str("/anyOf/1");
        }
    }
    out
}

/// A pointer into the rewritten value -> the pointer as written (the wrapper's `anyOf/1`
/// removed; its `null` alternative maps to the `nullable` keyword).
fn unwrap_pointer(wrapped: &BTreeSet<String>, pointer: &str) -> String {
    if wrapped.is_empty() {
        return pointer.to_string();
    }
    let segs: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut orig = String::new();
    let mut i = 0;
    // The wrapper at `orig` has been stepped through already.
    let mut unwrapped_at: Option<usize> = None;
    loop {
        if wrapped.contains(&orig) && unwrapped_at != Some(orig.len()) && segs.get(i) == Some(&"anyOf") {
            match segs.get(i + 1) {
                Some(&"1") => {
                    i += 2;
                    unwrapped_at = Some(orig.len());
                    continue;
                }
                Some(&"0") => return format!("{orig}/nullable"),
                _ => return orig,
            }
        }
        let Some(seg) = segs.get(i) else { break };
        orig.push('/');
        orig.push_str(seg);
        i += 1;
        unwrapped_at = None;
    }
    orig
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// A short rendering of a value for messages.
pub fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        let mut t: String = s.chars().take(57).collect();
        t.push('…');
        t
    } else {
        s
    }
}

/// `a string "x"`, `an object`, `null`.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("an integer ({n})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(_) => format!("a string ({})", short(v)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn list(items: &[String], max: usize) -> String {
    if items.len() <= max {
        return items.join(", ");
    }
    format!("{} and {} more", items[..max].join(", "), items.len() - max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::document::Limits;

    fn doc(src: &str) -> Document {
        Document::parse("t", src, &Limits::default()).unwrap()
    }

    const V30: &str = r#"openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /orders/{id}:
    get:
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Order'}
components:
  schemas:
    Money:
      type: object
      required: [amount, currency]
      properties:
        amount: {type: integer, minimum: 0}
        currency: {type: string, pattern: '^[A-Z]{3}$'}
    Order:
      type: object
      required: [id, total]
      properties:
        id: {type: string}
        note: {type: string, nullable: true}
        status: {type: string, enum: [OPEN, PAID], nullable: true}
        total: {$ref: '#/components/schemas/Money'}
        discount:
          nullable: true
          allOf: [{$ref: '#/components/schemas/Money'}]
        placedAt: {type: string, format: date-time}
    Closed:
      type: object
      additionalProperties: false
      properties:
        a: {type: string}
    Composed:
      allOf:
        - {type: object, properties: {first: {type: string}}}
        - {type: object, properties: {last: {type: string}}}
    Map:
      type: object
      additionalProperties: {type: object, properties: {n: {type: integer}}}
"#;

    #[test]
    fn nullable_rewrite_30() {
        let d = doc(V30);
        let set = SchemaSet::new(OasVersion::V30, &[("api/openapi.yaml", &d)]);
        let ok = json!({"id": "o1", "note": null, "status": null, "total": {"amount": 1, "currency": "EUR"}, "discount": null});
        assert_eq!(
            set.validate("api/openapi.yaml", "/components/schemas/Order", &ok)
                .unwrap(),
            vec![]
        );
        // A non-null value still meets the schema behind the wrapper.
        let bad = json!({"id": "o1", "total": {"amount": 1, "currency": "EUR"}, "discount": {"amount": -1, "currency": "EUR"}});
        let v = set
            .validate("api/openapi.yaml", "/components/schemas/Order", &bad)
            .unwrap();
        assert_eq!(v.len(), 1, "{v:#?}");
        assert_eq!(v[0].keyword, "anyOf");
        assert_eq!(v[0].instance_pointer, "/discount");
        assert_eq!(
            v[0].schema.as_ref().unwrap().pointer,
            "/components/schemas/Order/properties/discount"
        );
        // The wrapper's branches map back: the null alternative to `nullable`, the other into
        // the schema as written.
        let ptrs: Vec<String> = v[0]
            .branches
            .iter()
            .flatten()
            .filter_map(|b| b.schema.as_ref().map(|s| s.pointer.clone()))
            .collect();
        assert!(
            ptrs.contains(&"/components/schemas/Order/properties/discount/nullable".to_string()),
            "{ptrs:?}"
        );
        assert!(
            ptrs.contains(&"/components/schemas/Money/properties/amount/minimum".to_string()),
            "{ptrs:?}"
        );
        // enum gains null; other values are still checked.
        let v = set
            .validate(
                "api/openapi.yaml",
                "/components/schemas/Order/properties/status",
                &json!("SHIPPED"),
            )
            .unwrap();
        assert_eq!(v[0].keyword, "enum");
        // Without nullable, null is refused with a type error at the keyword as written.
        let v = set
            .validate(
                "api/openapi.yaml",
                "/components/schemas/Order/properties/id",
                &Value::Null,
            )
            .unwrap();
        assert_eq!(v[0].keyword, "type");
        assert_eq!(v[0].message, "expected string, found null");
        assert_eq!(
            v[0].schema.as_ref().unwrap().pointer,
            "/components/schemas/Order/properties/id/type"
        );
    }

    #[test]
    fn ref_into_components_and_error_pointer_mapping() {
        let d = doc(V30);
        let set = SchemaSet::new(OasVersion::V30, &[("api/openapi.yaml", &d)]);
        let body = json!({"id": "o1", "total": {"amount": 5, "currency": "euro"}, "placedAt": "yesterday"});
        let mut v = set
            .validate(
                "api/openapi.yaml",
                "/paths/~1orders~1{id}/get/responses/200/content/application~1json/schema",
                &body,
            )
            .unwrap();
        v.sort_by(|a, b| a.instance_pointer.cmp(&b.instance_pointer));
        assert_eq!(v.len(), 2, "{v:#?}");
        assert_eq!(v[0].instance_pointer, "/placedAt");
        assert_eq!(v[0].keyword, "format");
        assert_eq!(v[1].instance_pointer, "/total/currency");
        assert_eq!(v[1].keyword, "pattern");
        let loc = v[1].schema.clone().unwrap();
        assert_eq!(loc.file, "api/openapi.yaml");
        assert_eq!(loc.pointer, "/components/schemas/Money/properties/currency/pattern");
        // Line of the keyword in the source.
        assert_eq!(set.locate(&loc.file, &loc.pointer).unwrap().line, 19);
        assert_eq!(set.describe_loc(&loc), "api/openapi.yaml:19");
        // Required.
        let v = set
            .validate("api/openapi.yaml", "/components/schemas/Order", &json!({"id": "x"}))
            .unwrap();
        assert_eq!(v[0].keyword, "required");
        assert_eq!(v[0].property.as_deref(), Some("total"));
        // Cached: the same validator twice.
        let a = set.validator("api/openapi.yaml", "/components/schemas/Order").unwrap();
        let b = set.validator("api/openapi.yaml", "/components/schemas/Order").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        // Unknown pointers are errors, not panics.
        assert!(set.validator("api/openapi.yaml", "/components/schemas/Nope").is_err());
        assert!(set.validator("other.yaml", "").is_err());
    }

    #[test]
    fn type_arrays_31() {
        let d = doc(r#"openapi: 3.1.0
info: {title: T, version: '1'}
components:
  schemas:
    A:
      type: object
      properties:
        note: {type: [string, 'null']}
        n: {type: integer, exclusiveMinimum: 0}
        legacy: {type: string, nullable: true}
"#);
        let set = SchemaSet::new(OasVersion::V31, &[("openapi.yaml", &d)]);
        assert!(set
            .validate("openapi.yaml", "/components/schemas/A", &json!({"note": null, "n": 1}))
            .unwrap()
            .is_empty());
        let v = set
            .validate(
                "openapi.yaml",
                "/components/schemas/A",
                &json!({"note": 3, "n": 0, "legacy": null}),
            )
            .unwrap();
        let kws: BTreeSet<&str> = v.iter().map(|x| x.keyword.as_str()).collect();
        // 3.1 does not know `nullable`: null is refused for `legacy`.
        assert_eq!(kws, BTreeSet::from(["type", "exclusiveMinimum"]), "{v:#?}");
        assert!(
            v.iter()
                .any(|x| x.message == "expected null or string, found an integer (3)"),
            "{v:#?}"
        );
    }

    #[test]
    fn multi_file_and_encoding() {
        let root = doc("openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    'A b': {$ref: 'defs/common.yaml#/Money'}\n");
        let common = doc("Money:\n  type: object\n  properties:\n    amount: {type: integer}\n");
        let set = SchemaSet::new(
            OasVersion::V30,
            &[("my api/openapi.yaml", &root), ("my api/defs/common.yaml", &common)],
        );
        let v = set
            .validate(
                "my api/openapi.yaml",
                "/components/schemas/A b",
                &json!({"amount": "x"}),
            )
            .unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].schema,
            Some(SchemaLoc {
                file: "my api/defs/common.yaml".into(),
                pointer: "/Money/properties/amount/type".into()
            })
        );
        let (f, p, _) = set.resolve("my api/openapi.yaml", "/components/schemas/A b").unwrap();
        assert_eq!((f.as_str(), p.as_str()), ("my api/defs/common.yaml", "/Money"));
        // An unresolvable reference makes that schema unusable, not the whole set.
        let broken = doc("openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {$ref: 'https://example.test/x.json'}\n    B: {type: string}\n");
        let set = SchemaSet::new(OasVersion::V30, &[("o.yaml", &broken)]);
        assert!(set.validator("o.yaml", "/components/schemas/A").is_err());
        assert!(set.validator("o.yaml", "/components/schemas/B").is_ok());
    }

    #[test]
    fn undeclared_properties_respect_composition() {
        let d = doc(V30);
        let set = SchemaSet::new(OasVersion::V30, &[("o.yaml", &d)]);
        let none = |_: &str| false;
        let all = |_: &SchemaLoc, _: &str, _: &Value| true;
        // allOf: properties of every member are declared.
        let u = set.undeclared(
            "o.yaml",
            "/components/schemas/Composed",
            &json!({"first": "a", "last": "b"}),
            &none,
            &all,
        );
        assert!(u.is_empty(), "{u:?}");
        let u = set.undeclared(
            "o.yaml",
            "/components/schemas/Composed",
            &json!({"first": "a", "lst": "b"}),
            &none,
            &all,
        );
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].instance_pointer, "/lst");
        // Nested through $ref and through the nullable wrapper.
        let u = set.undeclared(
            "o.yaml",
            "/components/schemas/Order",
            &json!({"id": "x", "total": {"amount": 1, "cents": 2}, "discount": {"amount": 1, "pct": 3}}),
            &none,
            &all,
        );
        let at: Vec<&str> = u.iter().map(|x| x.instance_pointer.as_str()).collect();
        assert_eq!(at, vec!["/discount/pct", "/total/cents"]);
        // Maps are open, but their values are still walked.
        let u = set.undeclared(
            "o.yaml",
            "/components/schemas/Map",
            &json!({"any": {"n": 1, "m": 2}}),
            &none,
            &all,
        );
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].instance_pointer, "/any/m");
        // additionalProperties: false is validation's business.
        assert!(set
            .undeclared("o.yaml", "/components/schemas/Closed", &json!({"b": 1}), &none, &all)
            .is_empty());
        // Skipped objects.
        let skip_total = |p: &str| p == "/total";
        let u = set.undeclared(
            "o.yaml",
            "/components/schemas/Order",
            &json!({"total": {"cents": 2}}),
            &skip_total,
            &all,
        );
        assert!(u.is_empty());
    }

    #[test]
    fn undeclared_counts_only_the_alternatives_that_fit() {
        let d = doc(r#"openapi: 3.1.0
info: {title: T, version: '1'}
components:
  schemas:
    Pay:
      oneOf:
        - {type: object, properties: {card: {type: string}}}
        - {type: object, properties: {iban: {type: string}}}
"#);
        let set = SchemaSet::new(OasVersion::V31, &[("o.yaml", &d)]);
        let none = |_: &str| false;
        // Fit: the branch validates.
        let fits = |b: &SchemaLoc, _: &str, v: &Value| set.validate(&b.file, &b.pointer, v).is_ok_and(|x| x.is_empty());
        let u = set.undeclared("o.yaml", "/components/schemas/Pay", &json!({"iban": 5}), &none, &fits);
        assert_eq!(u.len(), 1, "{u:?}");
        assert_eq!(u[0].key, "iban");
        assert_eq!(u[0].schemas[0].pointer, "/components/schemas/Pay/oneOf/0");
        assert_eq!(u[0].elsewhere[0].pointer, "/components/schemas/Pay/oneOf/1");
        let u = set.undeclared(
            "o.yaml",
            "/components/schemas/Pay",
            &json!({"iban": "NL"}),
            &none,
            &fits,
        );
        assert!(u.is_empty(), "{u:?}");
    }

    #[test]
    fn pointer_wrapping_round_trips() {
        let wrapped: BTreeSet<String> = ["/a".to_string(), "/a/anyOf/0".to_string()].into();
        assert_eq!(wrap_pointer(&wrapped, "/a/properties/x"), "/a/anyOf/1/properties/x");
        assert_eq!(unwrap_pointer(&wrapped, "/a/anyOf/1/properties/x"), "/a/properties/x");
        assert_eq!(unwrap_pointer(&wrapped, "/a/anyOf/0/type"), "/a/nullable");
        assert_eq!(unwrap_pointer(&wrapped, "/a/anyOf"), "/a");
        // The wrapped schema had an anyOf of its own, itself wrapped.
        assert_eq!(
            wrap_pointer(&wrapped, "/a/anyOf/0/type"),
            "/a/anyOf/1/anyOf/0/anyOf/1/type"
        );
        assert_eq!(
            unwrap_pointer(&wrapped, "/a/anyOf/1/anyOf/0/anyOf/1/type"),
            "/a/anyOf/0/type"
        );
        assert_eq!(percent_encode("a b/{id}~1"), "a%20b/%7Bid%7D~1");
        assert_eq!(
            parse_uri(&schema_uri("x y.yaml", "/paths/~1a~1{id}")),
            Some(("x y.yaml".to_string(), "/paths/~1a~1{id}".to_string()))
        );
    }

    /// Every schema component of the shared OpenAPI corpus compiles or is refused with an
    /// error (never a panic), and validating sample values never panics.
    #[test]
    fn corpus_schemas_compile_without_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/openapi");
        if !root.is_dir() {
            println!("skipped: ../shared/corpus/openapi not found");
            return;
        }
        let started = std::time::Instant::now();
        let mut stack = vec![root];
        let (mut docs, mut compiled, mut refused) = (0, 0, 0);
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if !matches!(path.extension().and_then(|e| e.to_str()), Some("json" | "yaml" | "yml")) {
                    continue;
                }
                // Keep the test fast: a sample of documents, small ones first.
                if docs >= 400 || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) > 5_000_000 {
                    continue;
                }
                let Ok(bytes) = std::fs::read(&path) else { continue };
                let Ok(d) = Document::from_bytes("c", &bytes, &Limits::default()) else {
                    continue;
                };
                let oas = match d.value.get("openapi").and_then(Value::as_str) {
                    Some(v) if v.starts_with("3.0") => OasVersion::V30,
                    Some(v) if v.starts_with("3.1") => OasVersion::V31,
                    _ => continue,
                };
                docs += 1;
                let set = SchemaSet::new(oas, &[("openapi.yaml", &d)]);
                let names: Vec<String> = d
                    .value
                    .pointer("/components/schemas")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().take(30).cloned().collect())
                    .unwrap_or_default();
                for name in names {
                    let ptr = format!("/components/schemas/{}", escape_pointer_segment(&name));
                    match set.validate("openapi.yaml", &ptr, &json!({"id": 1, "name": "x", "items": [null]})) {
                        Ok(vs) => {
                            compiled += 1;
                            for v in vs {
                                assert!(!v.message.is_empty());
                            }
                            let _ = set.validate("openapi.yaml", &ptr, &Value::Null);
                            let none = |_: &str| false;
                            let all = |_: &SchemaLoc, _: &str, _: &Value| true;
                            let _ = set.undeclared("openapi.yaml", &ptr, &json!({"a": {"b": [1]}}), &none, &all);
                        }
                        Err(e) => {
                            refused += 1;
                            assert!(!e.message.is_empty());
                        }
                    }
                }
            }
        }
        println!(
            "schema corpus: {docs} documents, {compiled} schemas compiled, {refused} refused, {:?}",
            started.elapsed()
        );
        assert!(docs > 0);
    }

    #[test]
    fn percent_encoding() {
        assert_eq!(percent_encode("a b/é%~_.-Z9"), "a%20b/%C3%A9%25~_.-Z9");
        assert_eq!(refs::percent_decode(&percent_encode("x y/{id}#é")), "x y/{id}#é");
    }

    #[test]
    fn send_and_sync() {
        fn is<T: Send + Sync>() {}
        is::<SchemaSet<'static>>();
    }
}
