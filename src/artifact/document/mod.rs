//! Span-aware loading of YAML and JSON documents (OpenAPI, AsyncAPI, Pact, OpenSLO, ...).
//!
//! A [`Document`] holds the source text, the document in the JSON data model
//! (`serde_json::Value`) and a compact index from every node to its source position, so that a
//! finding about `/paths/~1orders/get` can point at the line and column the learner wrote.
//!
//! * **JSON** is read by a small strict parser in this module that builds the value and the
//!   position index in one pass (exact byte ranges, duplicate keys reported with both positions,
//!   the depth limit enforced exactly, no comments / trailing commas / single quotes).
//! * **YAML** is read from `saphyr-parser`'s events (positions in characters), which are turned
//!   into the value and the index in one pass, with the results `saphyr`'s own loader
//!   (`MarkedYaml`) would give: the same scalar resolution (core schema, `!!` tags), merge keys,
//!   alias expansion, and saphyr's duplicate-key and alias-budget checks. Nothing recurses per
//!   nesting level (the event parser and the conversion keep their stacks on the heap); a cheap,
//!   conservative upper bound of the nesting depth from a line pre-scan (`scan_yaml`) still
//!   rejects what the former recursive loader could not take. Flow collections (`[`/`{`) are
//!   capped at 255 levels by saphyr's scanner itself. Aliases are bounded by saphyr's node
//!   budget, by [`Limits`], and by a pre-scan estimate of the bytes they would copy
//!   (`alias_amplification`).
//! * **YAML, the common case**, costs a fraction of that: the events of the block subset real
//!   descriptions use come from `crate::artifact::yaml_fast` (the same events as saphyr's
//!   parser, about four times faster), and a stream without anchors, aliases, tags, `<<`, complex
//!   or floating-point keys and duplicate keys is converted by `LeanLoad`, without the
//!   bookkeeping those need. Each gives up on anything else, and the next way is tried; the
//!   results are the same (differential tests, and the `yaml_paths` fuzz target through
//!   [`yaml_paths_disagree`]).
//! * Only the first document of a YAML stream is parsed; later documents are ignored.
//!
//! Every position is a byte offset into [`Document::source`]; lines and columns (1-based, columns
//! in characters) are computed on demand from a line-start table.
//!
//! The modules, one concern each: `limits` (resource limits, the size check), `text` (the line
//! index, character counts), `index` (the position index, pointer lookup), `pointer` (segment
//! escaping), `stack` (the deep-recursion guard), `json` (the JSON parser), `yaml_scan` (the
//! YAML pre-scans), `yaml` (YAML loading: the order of the ways, scan errors), `yaml_lean` (the
//! lean conversion), `yaml_load` (the full conversion), and `tests`. They share the imports
//! below and each other's items through `use super::*`; the public paths
//! (`crate::artifact::document::X`) are the re-exports here.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use saphyr::Scalar;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

mod index;
mod json;
mod limits;
mod pointer;
mod stack;
mod text;
mod yaml;
mod yaml_lean;
mod yaml_load;
mod yaml_scan;

#[cfg(test)]
mod tests;

use index::*;
use json::*;
use stack::*;
use text::*;
use yaml::*;
use yaml_lean::*;
use yaml_load::*;
use yaml_scan::*;

use limits::check_size;
pub use limits::{mib, Limits, MAX_DEPTH_CAP};
pub use pointer::{escape_pointer_segment, unescape_pointer_segment};
pub(in crate::artifact) use text::TextMap;
pub use yaml::yaml_paths_disagree;
pub use yaml_scan::relax_flow_indentation;

/// A position in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// Byte offset in the source.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// The syntax a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// `"YAML"` or `"JSON"`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        }
    }

    /// JSON when the first non-whitespace character (after an optional BOM) is `{` or `[`,
    /// YAML otherwise.
    pub fn detect(source: &str) -> Format {
        let s = source.strip_prefix('\u{feff}').unwrap_or(source);
        match s.trim_start_matches([' ', '\t', '\r', '\n']).as_bytes().first() {
            Some(b'{' | b'[') => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// Why a document could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Malformed YAML or JSON.
    #[error("{message}")]
    Syntax {
        message: String,
        location: Location,
        help: String,
    },
    /// The bytes are not UTF-8; `offset` is the first invalid byte.
    #[error("the file is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    /// The file contains NUL bytes.
    #[error("the file is binary, not text (it contains NUL bytes)")]
    Binary,
    #[error("the file is {}, over the file-size limit of {} (--max-file-size)", mib(*bytes), mib(*limit))]
    TooLarge { bytes: usize, limit: usize },
    #[error("the document nests deeper than {limit} levels (the depth limit, --max-depth)")]
    TooDeep { location: Location, limit: usize },
    #[error("the document has more than {limit} values (the node limit, --max-nodes)")]
    TooManyNodes { limit: usize },
    #[error("YAML aliases expand into more than {limit} nodes (the alias limit, --max-alias-expansions)")]
    AliasLimit { location: Location, limit: usize },
    #[error("duplicate key `{key}` (first defined at line {}, column {})", first.line, first.column)]
    DuplicateKey {
        key: String,
        location: Location,
        first: Location,
    },
    /// YAML that has no JSON equivalent (complex keys, tags that cannot be mapped, ...).
    #[error("{message}")]
    UnsupportedYaml { message: String, location: Location },
    #[error("the document is empty")]
    Empty,
}

impl LoadError {
    /// Where the problem is, when known.
    pub fn location(&self) -> Option<Location> {
        match self {
            LoadError::Syntax { location, .. }
            | LoadError::TooDeep { location, .. }
            | LoadError::AliasLimit { location, .. }
            | LoadError::DuplicateKey { location, .. }
            | LoadError::UnsupportedYaml { location, .. } => Some(*location),
            LoadError::NotUtf8 { .. }
            | LoadError::Binary
            | LoadError::TooLarge { .. }
            | LoadError::TooManyNodes { .. }
            | LoadError::Empty => None,
        }
    }

    /// How to fix it, for a learner.
    pub fn help(&self) -> String {
        match self {
            LoadError::Syntax { help, .. } => help.clone(),
            LoadError::NotUtf8 { offset } => format!(
                "save the file with UTF-8 encoding (most editors offer this under \"Save with \
                 encoding\"); the first byte that is not UTF-8 is at offset {offset}"
            ),
            LoadError::Binary => "this is not a text document; if it is UTF-16 text, save it as \
                                  UTF-8, otherwise name the right file"
                .to_string(),
            LoadError::TooLarge { limit, .. } => format!(
                "documents over {} are not read; split the document into files joined by `$ref`, \
                 check that the right file is named, or raise the limit with `--max-file-size MIB`",
                mib(*limit)
            ),
            LoadError::TooDeep { limit, .. } => format!(
                "nesting deeper than {limit} levels is not supported (YAML flow collections `[...]` \
                 and `{{...}}` nest at most 255 levels); move nested parts to named components and \
                 refer to them with `$ref`"
            ),
            LoadError::TooManyNodes { limit } => format!(
                "documents with more than {limit} values are not read; split the document into \
                 files joined by `$ref`"
            ),
            LoadError::AliasLimit { limit, .. } => format!(
                "YAML anchors (`&name`) and aliases (`*name`) here expand into more than {limit} \
                 nodes (a \"billion laughs\" pattern); use fewer nested aliases, or `$ref`"
            ),
            LoadError::DuplicateKey { key, first, .. } => format!(
                "`{key}` is already defined at line {}, column {} of the same mapping; parsers \
                 silently keep only one of the two, so merge them or rename one",
                first.line, first.column
            ),
            LoadError::UnsupportedYaml { .. } => "rewrite this as plain YAML data: mapping keys \
                                                  must be strings (or numbers / booleans), and \
                                                  values must be strings, numbers, booleans, \
                                                  null, lists or mappings"
                .to_string(),
            LoadError::Empty => "the file holds no document; add its content (or name the right \
                                 file)"
                .to_string(),
        }
    }
}

/// A parsed document with positions.
#[derive(Clone)]
pub struct Document {
    pub format: Format,
    /// The full source text.
    pub source: Arc<str>,
    /// The document in the JSON data model.
    pub value: Value,
    text: TextMap,
    index: Index,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("format", &self.format)
            .field("source_bytes", &self.source.len())
            .field("lines", &self.text.line_starts.len())
            .field("nodes", &self.index.nodes.len())
            .finish_non_exhaustive()
    }
}

impl Document {
    /// Parses by content: JSON when the first non-whitespace character is `{` or `[`, YAML
    /// otherwise. `name` is only used in messages.
    pub fn parse(name: &str, source: &str, limits: &Limits) -> Result<Document, LoadError> {
        Self::parse_as(Format::detect(source), name, source, limits)
    }

    /// Parses `source` as `format`. `name` is only used in messages.
    pub fn parse_as(format: Format, name: &str, source: &str, limits: &Limits) -> Result<Document, LoadError> {
        Self::load(format, name, source, source, limits)
    }

    /// Parses `relaxed` (YAML), a rewrite of `source` of the same length that only turns some
    /// line breaks into spaces (see [`relax_flow_indentation`]), as if it were `source`: the
    /// document keeps `source`, and its lines and columns are those of `source`.
    pub fn parse_relaxed(name: &str, source: &str, relaxed: &str, limits: &Limits) -> Result<Document, LoadError> {
        let text = if relaxed.len() == source.len() { relaxed } else { source };
        Self::load(Format::Yaml, name, source, text, limits)
    }

    /// Parses `parsed` (`source` itself, or a same-length rewrite of it) and keeps `source`:
    /// characters and bytes are where they are in `source`, and the line starts (hence lines and
    /// columns) come from `source`.
    fn load(format: Format, name: &str, source: &str, parsed: &str, limits: &Limits) -> Result<Document, LoadError> {
        check_size(source.len(), limits)?;
        if source.as_bytes().contains(&0) {
            return Err(LoadError::Binary);
        }
        let limits = &Limits {
            max_depth: limits.max_depth.min(MAX_DEPTH_CAP),
            ..*limits
        };
        let text = TextMap::new(source);
        let (value, index) = match format {
            Format::Json => load_json(parsed, &text, limits)?,
            Format::Yaml => load_yaml(name, parsed, &text, limits)?,
        };
        Ok(Document {
            format,
            source: Arc::from(source),
            value,
            text,
            index,
        })
    }

    /// Checks size, NUL bytes ("binary") and UTF-8, then [`Document::parse`]s.
    pub fn from_bytes(name: &str, bytes: &[u8], limits: &Limits) -> Result<Document, LoadError> {
        check_size(bytes.len(), limits)?;
        if bytes.contains(&0) {
            return Err(LoadError::Binary);
        }
        let source = std::str::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        Self::parse(name, source, limits)
    }

    /// Location of the value at the RFC 6901 JSON pointer (`""` is the root; a leading `#` is
    /// accepted). When the node does not exist, the nearest existing ancestor's location.
    pub fn locate(&self, pointer: &str) -> Location {
        let (id, _) = self.index.resolve(pointer);
        match self.index.node(id) {
            Some(n) => self.location_at(n.start as usize, n.len as usize),
            None => self.location_at(0, 0),
        }
    }

    /// Location of the value at `pointer` only if that exact node exists.
    pub fn locate_exact(&self, pointer: &str) -> Option<Location> {
        let (id, exact) = self.index.resolve(pointer);
        let n = self.index.node(id).filter(|_| exact)?;
        Some(self.location_at(n.start as usize, n.len as usize))
    }

    /// Location of the key of the object member at `pointer` (e.g. the `version` key for
    /// `/info/version`); `None` for array elements, the root and missing nodes.
    pub fn locate_key(&self, pointer: &str) -> Option<Location> {
        let (id, exact) = self.index.resolve(pointer);
        let n = self.index.node(id).filter(|_| exact)?;
        (n.key_start != NONE).then(|| self.location_at(n.key_start as usize, n.key_len as usize))
    }

    /// Location of `len` bytes at byte `offset` (clamped to the source).
    pub fn location_at(&self, offset: usize, len: usize) -> Location {
        self.text.location(self.source.as_bytes(), offset, len)
    }

    /// Where a finding about the node at `pointer` should point: the node itself when it fits
    /// on one line, else the key that names it (`/v1/orders:` rather than the whole path item),
    /// so snippets stay short and show the name the learner wrote.
    pub fn locate_for_finding(&self, pointer: &str) -> Location {
        let (id, exact) = self.index.resolve(pointer);
        let Some(n) = self.index.node(id) else {
            return self.location_at(0, 0);
        };
        let loc = self.location_at(n.start as usize, n.len as usize);
        let multi_line = self
            .source
            .get(loc.offset..loc.offset + loc.len)
            .is_some_and(|t| t.contains('\n'));
        if multi_line && exact && n.key_start != NONE {
            return self.location_at(n.key_start as usize, n.key_len as usize);
        }
        loc
    }

    /// Number of lines in the source.
    pub fn line_count(&self) -> usize {
        self.text.line_starts.len()
    }
}
