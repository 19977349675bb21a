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

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use saphyr::Scalar;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// Resource limits applied while loading a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted source, in bytes (default 16 MiB; the largest real OpenAPI documents
    /// seen are about 12 MB).
    pub max_bytes: usize,
    /// Deepest accepted nesting of arrays/objects (default 256; values above
    /// [`MAX_DEPTH_CAP`] are treated as the cap, so that the returned value can always be
    /// dropped and walked recursively on an ordinary thread stack).
    pub max_depth: usize,
    /// Most values (scalars and containers, after alias expansion) in one document (default 5M).
    pub max_nodes: usize,
    /// Most nodes that YAML aliases (`*name`) may expand into (default 100,000). saphyr applies
    /// its own fixed budget of 100,000 as well, so larger values have no further effect.
    pub max_alias_expansions: usize,
    /// Longest chain of `$ref`s followed before it is reported (default 64).
    pub max_ref_hops: usize,
    /// Largest answer a live probe reads, in bytes (default 4 MiB).
    pub max_response: usize,
}

/// Hard upper bound of [`Limits::max_depth`].
pub const MAX_DEPTH_CAP: usize = 4096;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_ref_hops: 64,
            max_response: 4 * 1024 * 1024,
            max_depth: 256,
            max_nodes: 5_000_000,
            max_alias_expansions: 100_000,
        }
    }
}

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

/// `16 MiB`, `50.0 MiB`, `812 bytes`.
pub fn mib(bytes: usize) -> String {
    if bytes < 1024 * 1024 {
        format!("{bytes} bytes")
    } else if bytes % (1024 * 1024) == 0 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
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

fn check_size(bytes: usize, limits: &Limits) -> Result<(), LoadError> {
    // Positions are stored as u32.
    let limit = limits.max_bytes.min(u32::MAX as usize - 1);
    if bytes > limit {
        return Err(LoadError::TooLarge { bytes, limit });
    }
    Ok(())
}

/// The YAML `src` with the lines of multi-line flow collections (`[ ... ]`, `{ ... }`) that are
/// not indented past the line that opened the collection joined to the line before (its line
/// break becomes a space): YAML 1.2 rejects them, Go's YAML reader (Docker Compose, Kubernetes)
/// accepts them. Same length as `src`; `None` when no line needs it (or one cannot be joined:
/// the line before ends in a comment, or is blank).
pub fn relax_flow_indentation(src: &str) -> Option<String> {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let mut changed = false;
    let (mut depth, mut opened_indent) = (0usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut line_start = 0usize;
    // The previous line: where its break is, and whether it can take the next one.
    let mut prev_break: Option<usize> = None;
    let mut prev_joinable = false;
    while line_start < b.len() {
        let end = memchr::memchr(b'\n', &b[line_start..]).map_or(b.len(), |i| line_start + i);
        let line = &b[line_start..end];
        let indent = line.iter().take_while(|&&c| c == b' ').count();
        let blank = line.iter().all(|c| c.is_ascii_whitespace());
        if depth > 0 && quote.is_none() && !blank && indent <= opened_indent {
            match prev_break {
                Some(nl) if prev_joinable => {
                    out[nl] = b' ';
                    if nl > 0 && out[nl - 1] == b'\r' {
                        out[nl - 1] = b' ';
                    }
                    changed = true;
                }
                _ => return None,
            }
        }
        let mut comment = false;
        let mut prev = b' ';
        for &c in line {
            match quote {
                Some(q) => {
                    if c == q && !(q == b'"' && prev == b'\\') {
                        quote = None;
                    }
                }
                None => match c {
                    b'#' if prev == b' ' || prev == b'\t' => {
                        comment = true;
                        break;
                    }
                    b'\'' | b'"' if matches!(prev, b' ' | b'\t' | b'[' | b'{' | b',' | b':') => quote = Some(c),
                    b'[' | b'{' => {
                        if depth == 0 {
                            opened_indent = indent;
                        }
                        depth += 1;
                    }
                    b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                },
            }
            prev = c;
        }
        if !blank {
            prev_joinable = !comment;
            prev_break = (end < b.len()).then_some(end);
        } else {
            prev_joinable = false;
        }
        line_start = end + 1;
    }
    changed.then(|| String::from_utf8(out).unwrap_or_else(|_| src.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Text positions
// ---------------------------------------------------------------------------------------------

/// log2 of the block size of the character-count checkpoints.
const CP_SHIFT: usize = 6;

/// Line starts, plus (for non-ASCII sources) the number of characters before every 64-byte
/// block, so that columns and saphyr's character indices convert in bounded time. The one line
/// index of the artifact layer: [`Document`] and [`super::stream::YamlStream`] use it. (The
/// manifest and rubric diagnostics have their own in `crate::diag::SourceFile`: the layer
/// below cannot use this one, and it works on `usize` offsets of small TOML files.)
#[derive(Debug, Clone)]
pub(in crate::artifact) struct TextMap {
    line_starts: Vec<u32>,
    /// `checkpoints[k]` = characters in `source[..k << CP_SHIFT]`; `None` for ASCII sources.
    checkpoints: Option<Vec<u32>>,
}

fn is_char_start(b: u8) -> bool {
    (b as i8) >= -0x40
}

fn count_char_starts(bytes: &[u8]) -> usize {
    // Eight bytes at a time: a continuation byte has its top bits `10`.
    let mut words = bytes.chunks_exact(8);
    let mut n = 0;
    for w in &mut words {
        let w = <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes);
        let continuation = w & !(w << 1) & 0x8080_8080_8080_8080;
        n += 8 - continuation.count_ones() as usize;
    }
    n + words.remainder().iter().filter(|&&b| is_char_start(b)).count()
}

fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(NONE)
}

impl TextMap {
    pub(in crate::artifact) fn new(src: &str) -> TextMap {
        let mut line_starts = Vec::with_capacity(src.len() / 40 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', src.as_bytes()).map(|i| to_u32(i + 1)));
        let checkpoints = (!src.is_ascii()).then(|| {
            let b = src.as_bytes();
            let mut v = Vec::with_capacity((b.len() >> CP_SHIFT) + 2);
            let mut acc = 0usize;
            v.push(0);
            for chunk in b.chunks(1 << CP_SHIFT) {
                acc += count_char_starts(chunk);
                v.push(to_u32(acc));
            }
            v
        });
        TextMap {
            line_starts,
            checkpoints,
        }
    }

    /// Characters in `b[..off]` (`off` is clamped).
    fn chars_before(&self, b: &[u8], off: usize) -> usize {
        let off = off.min(b.len());
        match &self.checkpoints {
            None => off,
            Some(cp) => {
                let blk = off >> CP_SHIFT;
                let base = blk << CP_SHIFT;
                let before = cp.get(blk).copied().unwrap_or(0) as usize;
                before + b.get(base..off).map_or(0, count_char_starts)
            }
        }
    }

    /// Byte offset of the character with index `ci` (saphyr's `Marker::index`), clamped.
    fn byte_of_char(&self, b: &[u8], ci: usize) -> usize {
        let Some(cp) = &self.checkpoints else {
            return ci.min(b.len());
        };
        if cp.last().is_none_or(|&total| ci >= total as usize) {
            return b.len();
        }
        let blk = cp.partition_point(|&c| c as usize <= ci).saturating_sub(1);
        let pos = (blk << CP_SHIFT).min(b.len());
        let count = cp.get(blk).copied().unwrap_or(0) as usize;
        walk_to_char(b, pos, count, ci)
    }

    /// Location of `len` bytes at byte `offset` of `b` (the source this map was built from),
    /// both clamped. The column counts the characters before `offset` on its line, a partial
    /// character included (callers with offsets off a character boundary floor them first).
    pub(in crate::artifact) fn location(&self, b: &[u8], offset: usize, len: usize) -> Location {
        let offset = offset.min(b.len());
        let len = len.min(b.len() - offset);
        let line_idx = self
            .line_starts
            .partition_point(|&s| s as usize <= offset)
            .saturating_sub(1);
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0) as usize;
        let column = self.chars_before(b, offset) - self.chars_before(b, line_start) + 1;
        Location {
            line: line_idx + 1,
            column,
            offset,
            len,
        }
    }
}

/// From byte `pos`, before which there are `count` characters (`count <= ci`), to the byte
/// offset of character `ci` (or the end).
fn walk_to_char(b: &[u8], mut pos: usize, mut count: usize, ci: usize) -> usize {
    loop {
        // Eight ASCII bytes at a time (eight characters) while the target is further on.
        while ci.saturating_sub(count) >= 8 {
            let word = b.get(pos..pos + 8).and_then(|w| <[u8; 8]>::try_from(w).ok());
            match word {
                Some(w) if u64::from_le_bytes(w) & 0x8080_8080_8080_8080 == 0 => {
                    pos += 8;
                    count += 8;
                }
                _ => break,
            }
        }
        let Some(&byte) = b.get(pos) else { break };
        let start = is_char_start(byte);
        if start && count == ci {
            break;
        }
        if start {
            count += 1;
        }
        pos += 1;
    }
    pos
}

/// Byte length of the character starting at `off` (0 at the end).
fn char_len_at(b: &[u8], off: usize) -> usize {
    let Some(&c) = b.get(off) else { return 0 };
    let n = match c {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    n.min(b.len() - off)
}

// ---------------------------------------------------------------------------------------------
// Position index
// ---------------------------------------------------------------------------------------------

const NONE: u32 = u32::MAX;

/// One node of the document tree: where its value is, where its key is, and its children as a
/// first-child / next-sibling list (in document order).
#[derive(Debug, Clone, Copy)]
struct Node {
    start: u32,
    len: u32,
    key_start: u32,
    key_len: u32,
    name_start: u32,
    name_len: u32,
    first_child: u32,
    next_sibling: u32,
    array: bool,
}

/// The key of an object member, as stored with the member's node.
#[derive(Debug, Clone, Copy)]
struct KeyRef {
    start: u32,
    len: u32,
    name_start: u32,
    name_len: u32,
}

#[derive(Debug, Clone, Default)]
struct Index {
    nodes: Vec<Node>,
    /// All member names, concatenated.
    names: String,
    /// Lookup tables of wide objects and arrays, built on first use (see [`Index::child`]).
    wide: WideChildren,
}

/// A parent with more children than this gets a lookup table instead of a sibling scan.
const WIDE: usize = 24;

/// The children of wide nodes, by node id: an array's children in order, an object's sorted by
/// name (stable, so the first of duplicate names comes first, as in the sibling scan).
#[derive(Debug, Default)]
struct WideChildren(std::sync::Mutex<HashMap<u32, Arc<[u32]>>>);

impl Clone for WideChildren {
    fn clone(&self) -> Self {
        WideChildren::default()
    }
}

impl Index {
    fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    fn push(&mut self, start: usize, len: usize, key: Option<KeyRef>, array: bool) -> u32 {
        let id = to_u32(self.nodes.len());
        let k = key.unwrap_or(KeyRef {
            start: NONE,
            len: 0,
            name_start: NONE,
            name_len: 0,
        });
        self.nodes.push(Node {
            start: to_u32(start),
            len: to_u32(len),
            key_start: k.start,
            key_len: k.len,
            name_start: k.name_start,
            name_len: k.name_len,
            first_child: NONE,
            next_sibling: NONE,
            array,
        });
        id
    }

    fn set_len(&mut self, id: u32, len: usize) {
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.len = to_u32(len);
        }
    }

    fn key(&mut self, name: &str, start: usize, len: usize) -> KeyRef {
        let name_start = to_u32(self.names.len());
        self.names.push_str(name);
        KeyRef {
            start: to_u32(start),
            len: to_u32(len),
            name_start,
            name_len: to_u32(name.len()),
        }
    }

    /// Appends `child` to `parent`'s children; `prev` is the last child so far.
    fn link(&mut self, parent: u32, prev: &mut u32, child: u32) {
        let slot = if *prev == NONE {
            self.nodes.get_mut(parent as usize).map(|n| &mut n.first_child)
        } else {
            self.nodes.get_mut(*prev as usize).map(|n| &mut n.next_sibling)
        };
        if let Some(slot) = slot {
            *slot = child;
        }
        *prev = child;
    }

    fn name(&self, n: &Node) -> Option<&str> {
        if n.name_start == NONE {
            return None;
        }
        let s = n.name_start as usize;
        self.names.get(s..s + n.name_len as usize)
    }

    fn child(&self, parent: u32, seg: &str) -> Option<u32> {
        let p = self.node(parent)?;
        let index = if p.array {
            if seg.is_empty() || !seg.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(seg.parse::<usize>().ok()?)
        } else {
            None
        };
        // The first WIDE children by a sibling scan; a wider node through its table.
        let mut c = p.first_child;
        for i in 0..WIDE {
            if c == NONE {
                return None;
            }
            let n = self.node(c)?;
            if index.map_or_else(|| self.name(n) == Some(seg), |want| want == i) {
                return Some(c);
            }
            c = n.next_sibling;
        }
        if c == NONE {
            return None;
        }
        let table = self.wide_table(parent, p.first_child, p.array)?;
        match index {
            Some(i) => table.get(i).copied(),
            None => {
                let at = table.partition_point(|&k| self.node(k).and_then(|n| self.name(n)) < Some(seg));
                table
                    .get(at)
                    .copied()
                    .filter(|&k| self.node(k).and_then(|n| self.name(n)) == Some(seg))
            }
        }
    }

    /// The lookup table of a wide node (see [`WideChildren`]).
    fn wide_table(&self, parent: u32, first: u32, array: bool) -> Option<Arc<[u32]>> {
        let mut tables = self.wide.0.lock().ok()?;
        if let Some(t) = tables.get(&parent) {
            return Some(Arc::clone(t));
        }
        let mut children = Vec::new();
        let mut c = first;
        while let Some(n) = self.node(c) {
            children.push(c);
            c = n.next_sibling;
        }
        if !array {
            children.sort_by(|&a, &b| {
                let name = |k: u32| self.node(k).and_then(|n| self.name(n));
                name(a).cmp(&name(b))
            });
        }
        let table: Arc<[u32]> = children.into();
        tables.insert(parent, Arc::clone(&table));
        Some(table)
    }

    fn child_named(&self, parent: u32, name: &str) -> Option<&Node> {
        let p = self.node(parent)?;
        let mut c = p.first_child;
        while c != NONE {
            let n = self.node(c)?;
            if self.name(n) == Some(name) {
                return Some(n);
            }
            c = n.next_sibling;
        }
        None
    }

    /// Whether two indexes hold the same nodes and names (the lookup tables aside).
    fn same_as(&self, other: &Index) -> bool {
        let fields = |n: &Node| {
            (
                n.start,
                n.len,
                n.key_start,
                n.key_len,
                n.name_start,
                n.name_len,
                n.first_child,
                n.next_sibling,
                n.array,
            )
        };
        self.names == other.names
            && self.nodes.len() == other.nodes.len()
            && self.nodes.iter().zip(&other.nodes).all(|(x, y)| fields(x) == fields(y))
    }

    /// The node at `pointer`, or its nearest existing ancestor; `true` when exact. This walks
    /// the position index, not values, and is more lenient than [`super::refs::value_at`] (the
    /// value resolver): a leading `#` is allowed and an array index may have leading zeros, so
    /// that a finding's pointer always finds the closest place to show.
    fn resolve(&self, pointer: &str) -> (u32, bool) {
        let p = pointer.strip_prefix('#').unwrap_or(pointer);
        if p.is_empty() {
            return (0, true);
        }
        let Some(rest) = p.strip_prefix('/') else {
            return (0, false);
        };
        let mut cur = 0;
        for seg in rest.split('/') {
            match self.child(cur, &unescape_pointer_segment(seg)) {
                Some(c) => cur = c,
                None => return (cur, false),
            }
        }
        (cur, true)
    }
}

/// Decodes a JSON-pointer segment: `~1` to `/` and `~0` to `~` (RFC 6901), in one pass (the
/// same as replacing `~1` first, then `~0`); a `~` followed by anything else is kept.
pub fn unescape_pointer_segment(seg: &str) -> Cow<'_, str> {
    if !seg.contains('~') {
        return Cow::Borrowed(seg);
    }
    let mut out = String::with_capacity(seg.len());
    let mut chars = seg.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.peek() {
                Some('0') => {
                    out.push('~');
                    chars.next();
                }
                Some('1') => {
                    out.push('/');
                    chars.next();
                }
                _ => out.push('~'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Encodes a key as a JSON-pointer segment (`~` → `~0`, `/` → `~1`).
pub fn escape_pointer_segment(key: &str) -> Cow<'_, str> {
    if !key.bytes().any(|c| c == b'~' || c == b'/') {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len() + 8);
    let mut from = 0;
    for (i, c) in key.bytes().enumerate() {
        let escaped = match c {
            b'~' => "~0",
            b'/' => "~1",
            _ => continue,
        };
        out.push_str(key.get(from..i).unwrap_or(""));
        out.push_str(escaped);
        from = i + 1;
    }
    out.push_str(key.get(from..).unwrap_or(""));
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------------------------
// Deep recursion guard
// ---------------------------------------------------------------------------------------------

/// Nesting depth that runs on the caller's stack.
const INLINE_LEVELS: usize = 300;
/// Stack reserved per nesting level on a helper thread (the recursive JSON parser and the YAML
/// depth bound; debug builds need the most).
const STACK_PER_LEVEL: usize = 4 * 1024;
const STACK_BASE: usize = 1024 * 1024;
/// Largest helper-thread stack (virtual memory; only touched pages are committed).
const MAX_STACK: usize = 256 * 1024 * 1024;

enum StackRun<T> {
    Done(T),
    /// No stack that large can be provided.
    TooDeep,
    Panicked,
}

/// The stack of a helper thread for `levels` of nesting; `None` when over [`MAX_STACK`].
fn helper_stack(levels: usize) -> Option<usize> {
    levels
        .checked_mul(STACK_PER_LEVEL)
        .and_then(|s| s.checked_add(STACK_BASE))
        .filter(|&s| s <= MAX_STACK)
}

/// Whether `levels` of nesting are more than [`run_with_stack`] can take.
fn levels_exceed_stack(levels: usize) -> bool {
    levels > INLINE_LEVELS && helper_stack(levels).is_none()
}

/// Runs `f` where `levels` of nesting fit on the stack: inline for shallow work, else on a
/// helper thread with a stack sized for it.
fn run_with_stack<T: Send>(levels: usize, f: impl FnOnce() -> T + Send) -> StackRun<T> {
    if levels <= INLINE_LEVELS {
        return match catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => StackRun::Done(v),
            Err(_) => StackRun::Panicked,
        };
    }
    let Some(size) = helper_stack(levels) else {
        return StackRun::TooDeep;
    };
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("grade-document-loader".into())
            .stack_size(size)
            .spawn_scoped(scope, f);
        match spawned {
            Ok(handle) => match handle.join() {
                Ok(v) => StackRun::Done(v),
                Err(_) => StackRun::Panicked,
            },
            Err(_) => StackRun::TooDeep,
        }
    })
}

fn internal_error(text: &TextMap, b: &[u8], what: &str) -> LoadError {
    LoadError::Syntax {
        message: format!("the {what} parser failed on this document"),
        location: text.location(b, 0, 0),
        help: "this is a bug in the grader; please report it with the file attached".to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

fn load_json(src: &str, text: &TextMap, limits: &Limits) -> Result<(Value, Index), LoadError> {
    let b = src.as_bytes();
    match run_with_stack(limits.max_depth + 2, || {
        let mut p = JsonParser {
            src,
            b,
            pos: if src.starts_with('\u{feff}') { 3 } else { 0 },
            text,
            idx: Index::default(),
            nodes: 0,
            limits,
            open: Vec::new(),
            value: Value::Null,
        };
        p.document()?;
        Ok(p)
    }) {
        StackRun::Done(Ok(p)) => Ok(p.into_parts()),
        StackRun::Done(Err(e)) => Err(e),
        StackRun::TooDeep => Err(LoadError::TooDeep {
            location: text.location(b, 0, 0),
            limit: limits.max_depth,
        }),
        StackRun::Panicked => Err(internal_error(text, b, "JSON")),
    }
}

struct JsonParser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    text: &'a TextMap,
    idx: Index,
    nodes: usize,
    limits: &'a Limits,
    /// Offsets of the `{` / `[` not closed yet (for end-of-file messages).
    open: Vec<usize>,
    value: Value,
}

impl<'a> JsonParser<'a> {
    fn into_parts(self) -> (Value, Index) {
        (self.value, self.idx)
    }

    fn document(&mut self) -> Result<(), LoadError> {
        self.ws();
        if self.pos >= self.b.len() {
            return Err(LoadError::Empty);
        }
        let (v, _) = self.value(0, None)?;
        self.value = v;
        self.ws();
        if let Some(&c) = self.b.get(self.pos) {
            let help = if matches!(c, b'}' | b']') {
                "there is an extra closing bracket; check that every `{` and `[` is closed exactly \
                 once"
            } else {
                "a JSON file holds exactly one value; remove what follows it, or put everything \
                 inside the top-level object"
            };
            return Err(self.syntax(
                self.pos,
                "invalid JSON: unexpected content after the end of the document",
                help,
            ));
        }
        Ok(())
    }

    fn loc(&self, off: usize, len: usize) -> Location {
        self.text.location(self.b, off, len)
    }

    fn syntax(&self, off: usize, message: impl Into<String>, help: impl Into<String>) -> LoadError {
        LoadError::Syntax {
            message: message.into(),
            location: self.loc(off, char_len_at(self.b, off)),
            help: help.into(),
        }
    }

    fn eof(&self, inside: &str) -> LoadError {
        let help = match self.open.last() {
            Some(&o) => {
                let l = self.loc(o, 1);
                let c = if self.b.get(o) == Some(&b'[') { '[' } else { '{' };
                format!(
                    "the `{c}` opened at line {}, column {} is never closed; the file may be cut \
                     off",
                    l.line, l.column
                )
            }
            None => "the file ends before the JSON value is complete".to_string(),
        };
        self.syntax(self.b.len(), format!("invalid JSON: the file ends {inside}"), help)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    fn count(&mut self) -> Result<(), LoadError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(LoadError::TooManyNodes {
                limit: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    /// Parses one value; `depth` is the nesting depth of the enclosing container.
    fn value(&mut self, depth: usize, key: Option<KeyRef>) -> Result<(Value, u32), LoadError> {
        self.ws();
        let start = self.pos;
        let Some(&c) = self.b.get(start) else {
            return Err(self.eof("where a value was expected"));
        };
        let v = match c {
            b'{' => return self.object(depth + 1, key),
            b'[' => return self.array(depth + 1, key),
            b'"' => Value::String(self.string()?),
            b'-' | b'0'..=b'9' => self.number()?,
            b't' | b'f' | b'n' => self.literal()?,
            _ => return Err(self.unexpected_value(start)),
        };
        self.count()?;
        let id = self.idx.push(start, self.pos - start, key, false);
        Ok((v, id))
    }

    fn enter(&mut self, depth: usize, key: Option<KeyRef>, array: bool) -> Result<u32, LoadError> {
        let start = self.pos;
        if depth > self.limits.max_depth {
            return Err(LoadError::TooDeep {
                location: self.loc(start, 1),
                limit: self.limits.max_depth,
            });
        }
        self.count()?;
        self.open.push(start);
        self.pos += 1;
        Ok(self.idx.push(start, 1, key, array))
    }

    fn leave(&mut self, id: u32) {
        let start = self.open.pop().unwrap_or(self.pos);
        self.idx.set_len(id, self.pos - start);
    }

    fn object(&mut self, depth: usize, key: Option<KeyRef>) -> Result<(Value, u32), LoadError> {
        let id = self.enter(depth, key, false)?;
        let mut map = Map::new();
        let mut prev = NONE;
        let mut last_comma = None;
        self.ws();
        if self.b.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.leave(id);
            return Ok((Value::Object(map), id));
        }
        loop {
            self.ws();
            let kstart = self.pos;
            match self.b.get(kstart) {
                Some(b'"') => {}
                Some(b'}') => {
                    let at = last_comma.unwrap_or(kstart);
                    return Err(self.syntax(
                        at,
                        "invalid JSON: trailing comma before `}`",
                        "JSON does not allow a comma after the last member; remove it",
                    ));
                }
                None => return Err(self.eof("inside an object")),
                Some(_) => return Err(self.bad_key(kstart)),
            }
            let k = self.string()?;
            let klen = self.pos - kstart;
            self.ws();
            match self.b.get(self.pos) {
                Some(b':') => self.pos += 1,
                None => return Err(self.eof("inside an object")),
                Some(_) => {
                    return Err(self.syntax(
                        self.pos,
                        format!("invalid JSON: expected `:` after the key \"{k}\""),
                        "separate each key from its value with a colon: \"key\": value",
                    ))
                }
            }
            if map.contains_key(&k) {
                let first = self
                    .idx
                    .child_named(id, &k)
                    .filter(|n| n.key_start != NONE)
                    .map(|n| self.loc(n.key_start as usize, n.key_len as usize))
                    .unwrap_or_else(|| self.loc(kstart, klen));
                return Err(LoadError::DuplicateKey {
                    key: k,
                    location: self.loc(kstart, klen),
                    first,
                });
            }
            let kr = self.idx.key(&k, kstart, klen);
            let (v, cid) = self.value(depth, Some(kr))?;
            self.idx.link(id, &mut prev, cid);
            map.insert(k, v);
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => {
                    last_comma = Some(self.pos);
                    self.pos += 1;
                }
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.eof("inside an object")),
                Some(_) => {
                    return Err(self.syntax(
                        self.pos,
                        "invalid JSON: expected `,` or `}` after an object member",
                        "is a comma missing after the previous value, or a `}` missing?",
                    ))
                }
            }
        }
        self.leave(id);
        Ok((Value::Object(map), id))
    }

    fn array(&mut self, depth: usize, key: Option<KeyRef>) -> Result<(Value, u32), LoadError> {
        let id = self.enter(depth, key, true)?;
        let mut items = Vec::new();
        let mut prev = NONE;
        let mut last_comma = None;
        self.ws();
        if self.b.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.leave(id);
            return Ok((Value::Array(items), id));
        }
        loop {
            self.ws();
            if let (Some(b']'), Some(at)) = (self.b.get(self.pos), last_comma) {
                return Err(self.syntax(
                    at,
                    "invalid JSON: trailing comma before `]`",
                    "JSON does not allow a comma after the last element; remove it",
                ));
            }
            let (v, cid) = self.value(depth, None)?;
            self.idx.link(id, &mut prev, cid);
            items.push(v);
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => {
                    last_comma = Some(self.pos);
                    self.pos += 1;
                }
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.eof("inside an array")),
                Some(_) => {
                    return Err(self.syntax(
                        self.pos,
                        "invalid JSON: expected `,` or `]` after an array element",
                        "is a comma missing after the previous element, or a `]` missing?",
                    ))
                }
            }
        }
        self.leave(id);
        Ok((Value::Array(items), id))
    }

    /// The identifier-like word at `at` (for messages).
    fn word_at(&self, at: usize) -> &'a str {
        let rest = self.src.get(at..).unwrap_or("");
        let end = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '$' || c == '-'))
            .map_or(rest.len(), |(i, _)| i);
        let w = rest.get(..end).unwrap_or("");
        match w.char_indices().nth(40) {
            Some((i, _)) => w.get(..i).unwrap_or(w),
            None => w,
        }
    }

    fn unexpected_value(&self, at: usize) -> LoadError {
        let c = self.src.get(at..).and_then(|s| s.chars().next());
        match c {
            None => self.eof("where a value was expected"),
            Some('\'') => self.syntax(
                at,
                "invalid JSON: strings must be in double quotes",
                "replace the single quotes with double quotes: \"text\"",
            ),
            Some('/') => self.syntax(
                at,
                "invalid JSON: comments are not allowed",
                "JSON has no comments; remove them (YAML allows `# comments`)",
            ),
            Some(',') => self.syntax(
                at,
                "invalid JSON: expected a value, found `,`",
                "a value is missing here, or there is one comma too many",
            ),
            Some(c @ ('}' | ']')) => self.syntax(
                at,
                format!("invalid JSON: expected a value, found `{c}`"),
                "a value is missing here (after `:` or `,`)",
            ),
            Some('+' | '.') => self.syntax(
                at,
                "invalid JSON: a number cannot start with `+` or `.`",
                "write numbers like 1, -2, 0.5 or 1e3",
            ),
            Some(c) if c.is_alphabetic() || c == '_' || c == '$' => {
                let w = self.word_at(at);
                let help = match w {
                    "NaN" | "Infinity" | "inf" => {
                        "JSON has no NaN or Infinity; use null or a string instead".to_string()
                    }
                    "True" | "False" | "TRUE" | "FALSE" | "Null" | "NULL" | "None" | "nil" | "undefined" => {
                        "JSON literals are lowercase `true`, `false` and `null`".to_string()
                    }
                    _ => format!("text values must be in double quotes: \"{w}\""),
                };
                self.syntax(at, format!("invalid JSON: unexpected `{w}`"), help)
            }
            Some(c) => self.syntax(
                at,
                format!("invalid JSON: unexpected character `{c}`"),
                "expected a value: an object, an array, a string in double quotes, a number, \
                 true, false or null",
            ),
        }
    }

    fn bad_key(&self, at: usize) -> LoadError {
        match self.b.get(at) {
            Some(b'\'') => self.syntax(
                at,
                "invalid JSON: object keys must be in double quotes",
                "replace the single quotes with double quotes: \"key\": value",
            ),
            Some(b'/') => self.syntax(
                at,
                "invalid JSON: comments are not allowed",
                "JSON has no comments; remove them (YAML allows `# comments`)",
            ),
            Some(b',') => self.syntax(
                at,
                "invalid JSON: expected a key, found `,`",
                "there is one comma too many",
            ),
            _ => {
                let w = self.word_at(at);
                let help = if w.is_empty() {
                    "each member of an object is written \"key\": value".to_string()
                } else {
                    format!("put the key in double quotes: \"{w}\": value")
                };
                self.syntax(at, "invalid JSON: object keys must be strings in double quotes", help)
            }
        }
    }

    fn literal(&mut self) -> Result<Value, LoadError> {
        let rest = self.b.get(self.pos..).unwrap_or(&[]);
        for (word, v) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if rest.starts_with(word.as_bytes()) {
                self.pos += word.len();
                return Ok(v);
            }
        }
        Err(self.unexpected_value(self.pos))
    }

    fn hex4(&self, at: usize) -> Result<u32, LoadError> {
        let digits = self.b.get(at..at + 4).unwrap_or(&[]);
        if digits.len() == 4 {
            let mut v = 0u32;
            let mut ok = true;
            for &d in digits {
                match (d as char).to_digit(16) {
                    Some(x) => v = v * 16 + x,
                    None => ok = false,
                }
            }
            if ok {
                return Ok(v);
            }
        }
        Err(self.syntax(
            at.saturating_sub(2),
            "invalid JSON: `\\u` must be followed by four hexadecimal digits",
            "write a Unicode escape as \\u00e9, or the character itself",
        ))
    }

    /// Parses the string starting at the `"` at `self.pos`.
    fn string(&mut self) -> Result<String, LoadError> {
        let open = self.pos;
        let b = self.b;
        let mut i = open + 1;
        while let Some(&c) = b.get(i) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                break;
            }
            i += 1;
        }
        if b.get(i) == Some(&b'"') {
            self.pos = i + 1;
            return Ok(self.src.get(open + 1..i).unwrap_or("").to_owned());
        }
        let mut out = String::with_capacity(i - open + 16);
        out.push_str(self.src.get(open + 1..i).unwrap_or(""));
        loop {
            match b.get(i) {
                None => {
                    let l = self.loc(open, 1);
                    return Err(self.syntax(
                        b.len(),
                        "invalid JSON: unterminated string",
                        format!(
                            "the string that starts at line {}, column {} is never closed with `\"`",
                            l.line, l.column
                        ),
                    ));
                }
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let ch = match b.get(i + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4(i + 2)?;
                            i += 6;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                let lo = if b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u') {
                                    self.hex4(i + 2)?
                                } else {
                                    0
                                };
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.syntax(
                                        i - 6,
                                        "invalid JSON: unpaired UTF-16 surrogate in `\\u` escape",
                                        "a \\uD800-\\uDBFF escape must be followed by a \
                                         \\uDC00-\\uDFFF escape; write the character itself",
                                    ));
                                }
                                i += 6;
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            match char::from_u32(cp) {
                                Some(c) => out.push(c),
                                None => {
                                    return Err(self.syntax(
                                        i - 6,
                                        "invalid JSON: unpaired UTF-16 surrogate in `\\u` escape",
                                        "write the character itself instead of a \\u escape",
                                    ))
                                }
                            }
                            continue;
                        }
                        None => {
                            return Err(self.syntax(
                                b.len(),
                                "invalid JSON: unterminated string",
                                "the file ends inside a string",
                            ))
                        }
                        Some(_) => {
                            return Err(self.syntax(
                                i,
                                "invalid JSON: invalid escape sequence",
                                "valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; \
                                 write a backslash as \\\\",
                            ))
                        }
                    };
                    out.push(ch);
                    i += 2;
                }
                Some(&c) if c < 0x20 => {
                    let help = if c == b'\n' || c == b'\r' {
                        "JSON strings cannot span lines: write a line break as \\n, or close the \
                         string with `\"`"
                    } else {
                        "control characters must be escaped in JSON strings (tab as \\t)"
                    };
                    return Err(self.syntax(i, "invalid JSON: control character inside a string", help));
                }
                Some(_) => {
                    let run = i;
                    while let Some(&c) = b.get(i) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        i += 1;
                    }
                    out.push_str(self.src.get(run..i).unwrap_or(""));
                }
            }
        }
    }

    fn number(&mut self) -> Result<Value, LoadError> {
        let b = self.b;
        let start = self.pos;
        let mut i = start;
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                if b.get(i).is_some_and(u8::is_ascii_digit) {
                    return Err(self.syntax(
                        start,
                        "invalid JSON: numbers cannot have leading zeros",
                        "write the number without leading zeros, or quote it if it is a code",
                    ));
                }
            }
            Some(b'1'..=b'9') => i = digits(i),
            _ => return Err(self.unexpected_value(i)),
        }
        let mut int = true;
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return Err(self.syntax(
                    i,
                    "invalid JSON: expected a digit after the decimal point",
                    "write decimals like 1.0 or 0.5",
                ));
            }
            i = digits(i);
            int = false;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return Err(self.syntax(
                    i,
                    "invalid JSON: expected digits in the exponent",
                    "write exponents like 1e10 or 2.5E-3",
                ));
            }
            i = digits(i);
            int = false;
        }
        self.pos = i;
        let text = self.src.get(start..i).unwrap_or("0");
        if int {
            if text.starts_with('-') {
                if let Ok(v) = text.parse::<i64>() {
                    if v != 0 {
                        return Ok(Value::Number(v.into()));
                    }
                }
            } else if let Ok(v) = text.parse::<u64>() {
                return Ok(Value::Number(v.into()));
            }
        }
        match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(self.syntax(
                start,
                "invalid JSON: number out of range",
                "the number is too large to represent; quote it if it is an identifier",
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML
// ---------------------------------------------------------------------------------------------

/// Flow collections nest at most this deep in saphyr (its flow level is a `u8`).
const SAPHYR_MAX_FLOW_DEPTH: usize = 255;
/// saphyr's fixed budget of nodes produced by alias expansion.
const SAPHYR_ALIAS_BUDGET: usize = 100_000;
/// Most bytes of source text that alias expansion may copy (every alias replays the anchored
/// node; saphyr's budget counts nodes, not bytes).
const ALIAS_BYTES_BUDGET: u64 = 256 * 1024 * 1024;

/// What the line pre-scan learns about a YAML stream.
#[derive(Debug, Clone, Copy)]
struct YamlScan {
    /// End of the first document (byte offset, at a line start).
    doc_end: usize,
    /// Whether the first document has any content (not only comments, directives, markers).
    has_content: bool,
    /// Upper bound of the column of any block collection that starts in the first document.
    max_col: usize,
    /// Where `max_col` was reached.
    max_col_at: usize,
}

impl YamlScan {
    /// Upper bound of the nesting depth: block collections have non-decreasing columns along
    /// any path and at most two share a column (a mapping and its indentless sequence), and
    /// flow collections nest at most 255 levels in saphyr.
    fn depth_bound(&self) -> usize {
        self.max_col
            .saturating_add(1)
            .saturating_mul(2)
            .saturating_add(SAPHYR_MAX_FLOW_DEPTH + 45)
    }
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Column (in characters) after the indentation and any leading block indicators (`- `, `? `,
/// `: `) and node properties (`&anchor`, `!tag`) of a line, starting at byte `i` / column `col`.
fn indicator_col(line: &[u8], mut i: usize, mut col: usize) -> (usize, usize) {
    loop {
        while let Some(&c) = line.get(i) {
            if is_blank(c) {
                i += 1;
                col += 1;
            } else if line.get(i..i + 3) == Some(b"\xef\xbb\xbf".as_slice()) {
                i += 3;
                col += 1;
            } else {
                break;
            }
        }
        match line.get(i) {
            Some(b'-' | b'?' | b':') if line.get(i + 1).is_none_or(|&c| is_blank(c)) => {
                i += 1;
                col += 1;
            }
            Some(b'&' | b'!') => {
                while let Some(&c) = line.get(i) {
                    if is_blank(c) {
                        break;
                    }
                    if is_char_start(c) {
                        col += 1;
                    }
                    i += 1;
                }
            }
            _ => return (col, i),
        }
    }
}

/// One pass over the lines of a YAML stream: where the first document ends, whether it has
/// content, and a conservative bound of its block nesting (see [`YamlScan::depth_bound`]).
/// Lines break at `\n` and at `\r`, as in saphyr.
fn scan_yaml(src: &str) -> YamlScan {
    let b = src.as_bytes();
    let mut scan = YamlScan {
        doc_end: b.len(),
        has_content: false,
        max_col: 0,
        max_col_at: 0,
    };
    let mut seen_marker = false;
    let mut ls = 0;
    loop {
        let le = b
            .get(ls..)
            .and_then(|rest| memchr::memchr2(b'\n', b'\r', rest))
            .map_or(b.len(), |p| ls + p);
        let mut line = b.get(ls..le).unwrap_or(&[]);
        let mut skip = 0;
        if ls == 0 && line.starts_with(b"\xef\xbb\xbf") {
            line = &line[3..];
            skip = 3;
        }
        let is_marker = |m: &[u8]| line.starts_with(m) && line.get(3).is_none_or(|&c| is_blank(c));
        let first = line.iter().position(|&c| !is_blank(c));
        let mut from = (0, 0);
        if is_marker(b"---") {
            if scan.has_content {
                scan.doc_end = ls;
                break;
            }
            seen_marker = true;
            let rest = line.get(3..).unwrap_or(&[]);
            if let Some(p) = rest.iter().position(|&c| !is_blank(c)) {
                if rest.get(p) != Some(&b'#') {
                    scan.has_content = true;
                }
            }
            from = (3, 3);
        } else if is_marker(b"...") {
            if scan.has_content {
                scan.doc_end = ls;
                break;
            }
        } else if let Some(p) = first {
            let c = line.get(p).copied().unwrap_or(b'#');
            let directive = c == b'%' && p == 0 && !seen_marker && !scan.has_content;
            if c != b'#' && !directive {
                scan.has_content = true;
            }
        }
        let (col, at) = indicator_col(line, from.0, from.1);
        if col > scan.max_col {
            scan.max_col = col;
            scan.max_col_at = ls + skip + at;
        }
        if le >= b.len() {
            break;
        }
        ls = le + 1;
    }
    scan
}

/// Estimates how many bytes of text alias expansion copies, and returns the position of the
/// alias at which the total passes [`ALIAS_BYTES_BUDGET`]. An anchored node's text is taken to
/// run until the next line that is not indented further than the anchor's owner (the key or the
/// sequence entry it is written after); expansions inside an anchored node count again each time
/// it is aliased. The token detection is approximate (quotes are not tracked), which only
/// matters for text that looks like `&name ... *name` and is then aliased thousands of times.
fn alias_amplification(doc: &str) -> Option<usize> {
    struct Open<'a> {
        name: &'a [u8],
        indent: usize,
        start: usize,
        extra: u64,
    }
    fn close<'a>(o: Open<'a>, end: usize, open: &mut [Open<'a>], expansion: &mut HashMap<&'a [u8], u64>) {
        let size = (end.saturating_sub(o.start) as u64).saturating_add(o.extra);
        expansion.insert(o.name, size);
        if let Some(parent) = open.last_mut() {
            parent.extra = parent.extra.saturating_add(o.extra);
        }
    }
    let b = doc.as_bytes();
    if !b.contains(&b'*') || !b.contains(&b'&') {
        return None;
    }
    let mut open: Vec<Open<'_>> = Vec::new();
    let mut expansion: HashMap<&[u8], u64> = HashMap::new();
    let mut total: u64 = 0;
    let is_flow = |c: u8| matches!(c, b',' | b'[' | b']' | b'{' | b'}');
    let mut ls = 0;
    while let Some(rest) = b.get(ls..).filter(|r| !r.is_empty()) {
        if open.is_empty() {
            // Nothing to close: skip to the line of the next possible anchor (or alias, once
            // some anchor is known).
            let aliases = !expansion.is_empty();
            let next = if aliases {
                memchr::memchr2(b'&', b'*', rest)
            } else {
                memchr::memchr(b'&', rest)
            };
            let Some(t) = next else { break };
            let line_start = rest
                .get(..t)
                .and_then(|h| memchr::memrchr2(b'\n', b'\r', h))
                .map_or(0, |q| q + 1);
            if line_start > 0 {
                ls += line_start;
                continue;
            }
        }
        let le = memchr::memchr2(b'\n', b'\r', rest).map_or(b.len(), |p| ls + p);
        let line = rest.get(..le - ls).unwrap_or(&[]);
        let next = le + 1;
        let Some(p) = line.iter().position(|&c| !is_blank(c)) else {
            ls = next;
            continue;
        };
        if line.get(p) == Some(&b'#') {
            ls = next;
            continue;
        }
        let dash = line.get(p) == Some(&b'-') && line.get(p + 1).is_none_or(|&c| is_blank(c));
        while let Some(top) = open.last() {
            if p < top.indent || (p == top.indent && !dash) {
                if let Some(o) = open.pop() {
                    close(o, ls, &mut open, &mut expansion);
                }
            } else {
                break;
            }
        }
        // The owner column: after the indentation and any `- ` / `? ` / `: ` indicators.
        let mut owner = p;
        while let Some(b'-' | b'?' | b':') = line.get(owner) {
            if !line.get(owner + 1).is_none_or(|&c| is_blank(c)) {
                break;
            }
            owner += 1;
            while line.get(owner).is_some_and(|&c| is_blank(c)) {
                owner += 1;
            }
        }
        let mut k = p;
        while let Some(&c) = line.get(k) {
            let after_sep = k == 0 || line.get(k - 1).is_some_and(|&x| is_blank(x) || is_flow(x));
            if c == b'#' && after_sep {
                break;
            }
            if (c == b'&' || c == b'*') && after_sep {
                let tail = line.get(k + 1..).unwrap_or(&[]);
                let name = &tail[..tail
                    .iter()
                    .position(|&x| is_blank(x) || is_flow(x))
                    .unwrap_or(tail.len())];
                if c == b'&' && !name.is_empty() {
                    open.push(Open {
                        name,
                        indent: owner,
                        start: ls + k,
                        extra: 0,
                    });
                } else if !name.is_empty() {
                    let e = expansion.get(name).copied().unwrap_or(0);
                    total = total.saturating_add(e);
                    if let Some(top) = open.last_mut() {
                        top.extra = top.extra.saturating_add(e);
                    }
                    if total > ALIAS_BYTES_BUDGET {
                        return Some(ls + k);
                    }
                }
                k += 1 + name.len();
                continue;
            }
            k += 1;
        }
        ls = next;
    }
    None
}

fn load_yaml(name: &str, src: &str, text: &TextMap, limits: &Limits) -> Result<(Value, Index), LoadError> {
    let b = src.as_bytes();
    let scan = scan_yaml(src);
    if !scan.has_content {
        return Err(LoadError::Empty);
    }
    let doc = src.get(..scan.doc_end).unwrap_or(src);
    if let Some(at) = alias_amplification(doc) {
        let len = b.get(at..).map_or(0, |r| {
            r.iter()
                .position(|&c| c.is_ascii_whitespace() || b",[]{}".contains(&c))
                .unwrap_or(r.len())
        });
        return Err(LoadError::AliasLimit {
            location: text.location(b, at, len),
            limit: limits.max_alias_expansions,
        });
    }
    // The loader does not recurse (saphyr-parser's event parser keeps its states on the heap),
    // so it runs on the caller's stack; the depth bound still rejects what the recursive loader
    // could not take.
    if levels_exceed_stack(scan.depth_bound()) {
        return Err(LoadError::TooDeep {
            location: text.location(b, scan.max_col_at, 1),
            limit: limits.max_depth,
        });
    }
    match catch_unwind(AssertUnwindSafe(|| convert_yaml(name, src, doc, text, limits))) {
        Ok(r) => r,
        Err(_) => Err(internal_error(text, b, "YAML")),
    }
}

/// Converts the first document `doc` of `src`, the cheapest way that gives the full loader's
/// result: the lean conversion (see [`LeanLoad`]) of the fast event source's events (see
/// [`crate::artifact::yaml_fast`]) when both can; the lean conversion of saphyr's events when
/// only the fast source gave up; else the full loader.
fn convert_yaml(
    name: &str,
    src: &str,
    doc: &str,
    text: &TextMap,
    limits: &Limits,
) -> Result<(Value, Index), LoadError> {
    let mut fast = crate::artifact::yaml_fast::enabled();
    if fast {
        match LeanLoad::new(src, text, limits).convert(crate::artifact::yaml_fast::FastEvents::new(doc)) {
            Lean::Done(v, idx) => return Ok((v, idx)),
            Lean::SourceFailed => fast = false,
            Lean::Outside => {}
        }
    }
    if !fast {
        if let Some(converted) = LeanLoad::new(src, text, limits).run(Parser::new_from_str(doc)) {
            return Ok(converted);
        }
    }
    load_yaml_document(name, src, doc, text, limits)
}

/// For the fuzzer (`fuzz/fuzz_targets/yaml_paths.rs`): reads `src` as YAML every way the
/// loader can (events from the fast source and from saphyr's parser; the lean conversion and
/// the full loader) and describes the first disagreement, if any. Inputs the loader refuses
/// before converting (empty, binary, too large or deep, an alias bomb) are skipped.
#[doc(hidden)]
pub fn yaml_paths_disagree(src: &str) -> Option<String> {
    let limits = Limits::default();
    if check_size(src.len(), &limits).is_err() || src.as_bytes().contains(&0) {
        return None;
    }
    let text = TextMap::new(src);
    let scan = scan_yaml(src);
    let doc = src.get(..scan.doc_end).unwrap_or(src);
    if !scan.has_content || alias_amplification(doc).is_some() || levels_exceed_stack(scan.depth_bound()) {
        return None;
    }
    let fast: Result<Vec<_>, _> = crate::artifact::yaml_fast::FastEvents::new(doc).collect();
    let saphyr: Result<Vec<_>, _> = Parser::new_from_str(doc).collect();
    if let Ok(fast) = &fast {
        match &saphyr {
            Ok(events) if events == fast => {}
            Ok(events) => {
                let at = events
                    .iter()
                    .zip(fast)
                    .position(|(a, b)| a != b)
                    .unwrap_or(events.len().min(fast.len()));
                return Some(format!(
                    "event {at}: fast {:?}, saphyr {:?}",
                    fast.get(at),
                    events.get(at)
                ));
            }
            Err(e) => return Some(format!("fast events where saphyr fails: {e:?}")),
        }
    }
    let full = load_yaml_document("fuzz.yaml", src, doc, &text, &limits);
    let lean_fast = fast
        .ok()
        .and_then(|events| LeanLoad::new(src, &text, &limits).run(events.into_iter().map(Ok::<_, ()>)));
    let lean_saphyr = LeanLoad::new(src, &text, &limits).run(Parser::new_from_str(doc));
    for (events, lean) in [("fast", lean_fast), ("saphyr", lean_saphyr)] {
        let Some((value, index)) = lean else { continue };
        match &full {
            Ok((v, i)) if *v == value && i.same_as(&index) => {}
            Ok(_) => {
                return Some(format!(
                    "the lean conversion of {events} events differs from the full loader"
                ))
            }
            Err(e) => {
                return Some(format!(
                    "the lean conversion of {events} events took what the full loader refuses: {e}"
                ))
            }
        }
    }
    None
}

fn yaml_scan_error(name: &str, src: &str, text: &TextMap, limits: &Limits, e: &ScanError) -> LoadError {
    let b = src.as_bytes();
    let off = text.byte_of_char(b, e.marker().index());
    let location = text.location(b, off, char_len_at(b, off));
    let info = e.info();
    if info == "recursion limit exceeded" {
        return LoadError::TooDeep {
            location,
            limit: limits.max_depth.min(SAPHYR_MAX_FLOW_DEPTH),
        };
    }
    let mut help = yaml_help(info).to_string();
    if name.to_ascii_lowercase().ends_with(".json") {
        help.push_str(&format!(
            " (`{name}` was read as YAML because it does not start with `{{` or `[`)"
        ));
    }
    LoadError::Syntax {
        message: format!("invalid YAML: {info}"),
        location,
        help,
    }
}

fn yaml_help(info: &str) -> &'static str {
    if info.contains("tab") {
        "indent with spaces: YAML does not allow tab characters for indentation"
    } else if info.contains("mapping values are not allowed") {
        "either a value contains `: ` (quote the whole value: \"a: b\") or this line is indented \
         wrongly"
    } else if info.contains("unknown anchor") {
        "this alias (`*name`) refers to an anchor (`&name`) that is not defined before it"
    } else if info.contains("quoted scalar") {
        "a quoted string is not closed, or a quote inside it is not escaped"
    } else if info.contains("flow sequence") || info.contains("flow mapping") {
        "a `[...]` or `{...}` is not closed properly, or a value inside it needs quotes"
    } else if info.contains("block") || info.contains("expected key") {
        "the indentation of this line does not match the lines around it: keys of one mapping \
         must start in the same column, and nested content must be indented further"
    } else if info.contains("cannot start any token") {
        "values starting with `@` or `` ` `` (and several other characters) must be quoted"
    } else {
        "check the indentation and the quoting of values around this position"
    }
}

/// End of the key token at `start` (a quoted or plain implicit key); `None` for complex keys.
fn key_token_end(b: &[u8], start: usize) -> Option<usize> {
    match b.get(start)? {
        b'"' => {
            let mut i = start + 1;
            while let Some(&c) = b.get(i) {
                match c {
                    b'\\' => i += 2,
                    b'"' => return Some(i + 1),
                    _ => i += 1,
                }
            }
            None
        }
        b'\'' => {
            let mut i = start + 1;
            while let Some(&c) = b.get(i) {
                if c == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Some(i + 1);
                }
                i += 1;
            }
            None
        }
        b'?' | b'[' | b'{' | b'\n' | b'\r' => None,
        _ => {
            let mut i = start;
            while let Some(&c) = b.get(i) {
                if c == b'\n' || c == b'\r' {
                    break;
                }
                if c == b':'
                    && matches!(
                        b.get(i + 1),
                        None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b'[' | b']' | b'{' | b'}')
                    )
                {
                    break;
                }
                i += 1;
            }
            while i > start && b.get(i - 1).is_some_and(|&c| is_blank(c)) {
                i -= 1;
            }
            (i > start).then_some(i)
        }
    }
}

/// Skips node properties (`&anchor`, `!tag`) at the start of a scalar's source text.
fn without_properties(mut raw: &str) -> &str {
    while raw.starts_with(['&', '!']) {
        raw = match raw.find([' ', '\t']) {
            Some(p) => raw.get(p..).unwrap_or("").trim_start(),
            None => "",
        };
    }
    raw
}

fn is_int_literal(raw: &str) -> bool {
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())
}

/// Position and value helpers of the YAML conversion, and the index it fills.
struct YamlConv<'a> {
    src: &'a str,
    text: &'a TextMap,
    idx: Index,
    nodes: usize,
    alias_nodes: usize,
    limits: &'a Limits,
    /// Last converted position: (character index, byte offset).
    cursor: (usize, usize),
}

impl<'a> YamlConv<'a> {
    fn new(src: &'a str, text: &'a TextMap, limits: &'a Limits) -> YamlConv<'a> {
        YamlConv {
            src,
            text,
            idx: Index::default(),
            nodes: 0,
            alias_nodes: 0,
            limits,
            cursor: (0, 0),
        }
    }

    fn b(&self) -> &[u8] {
        self.src.as_bytes()
    }

    fn loc(&self, s: usize, len: usize) -> Location {
        self.text.location(self.b(), s, len)
    }

    /// Byte offset of saphyr's character index `ci`. Positions are mostly visited in document
    /// order, so a cursor makes the conversion linear for non-ASCII sources.
    fn byte(&mut self, ci: usize) -> usize {
        let b = self.src.as_bytes();
        if self.text.checkpoints.is_none() {
            return ci.min(b.len());
        }
        let (last_ci, last_byte) = self.cursor;
        let pos = if ci >= last_ci && ci - last_ci <= 1024 {
            walk_to_char(b, last_byte, last_ci, ci)
        } else {
            self.text.byte_of_char(b, ci)
        };
        self.cursor = (ci, pos);
        pos
    }

    /// End (byte offset) of a node starting at `s` whose span ends at character `ci`, without
    /// trailing whitespace. saphyr ends a flow collection's span before its closing bracket;
    /// the bracket is included here.
    fn end(&mut self, ci: usize, s: usize, collection: bool) -> usize {
        let mut e = self.byte(ci).max(s);
        let b = self.src.as_bytes();
        if collection && matches!(b.get(e), Some(b']' | b'}')) {
            return e + 1;
        }
        while e > s && b.get(e - 1).is_some_and(u8::is_ascii_whitespace) {
            e -= 1;
        }
        e
    }

    fn raw(&self, s: usize, e: usize) -> &str {
        without_properties(self.src.get(s..e).unwrap_or("").trim())
    }

    fn is_alias_at(&self, s: usize) -> bool {
        self.b().get(s) == Some(&b'*')
    }

    fn count(&mut self, alias: Option<usize>) -> Result<(), LoadError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(LoadError::TooManyNodes {
                limit: self.limits.max_nodes,
            });
        }
        if let Some(a) = alias {
            self.alias_nodes += 1;
            if self.alias_nodes > self.limits.max_alias_expansions {
                let b = self.b();
                let len = b.get(a..).map_or(0, |r| {
                    r.iter()
                        .position(|&c| c.is_ascii_whitespace() || b",[]{}".contains(&c))
                        .unwrap_or(r.len())
                });
                return Err(LoadError::AliasLimit {
                    location: self.loc(a, len),
                    limit: self.limits.max_alias_expansions,
                });
            }
        }
        Ok(())
    }

    fn internal(&self) -> LoadError {
        internal_error(self.text, self.b(), "YAML")
    }

    fn bad_value(&self, s: usize, e: usize) -> LoadError {
        let raw = self.src.get(s..e).unwrap_or("").trim();
        let shown: String = raw.chars().take(60).collect();
        LoadError::UnsupportedYaml {
            message: format!(
                "cannot convert the YAML value `{shown}`: its tag (e.g. !!binary, !!timestamp) has no \
                 JSON equivalent, or the value does not match its tag"
            ),
            location: self.loc(s, e - s),
        }
    }

    fn key_name(&self, k: KeyData<'_>, ks: usize, ke: usize) -> Result<String, LoadError> {
        match k {
            KeyData::Scalar(Scalar::String(s)) => Ok(s.into_owned()),
            KeyData::Scalar(Scalar::Integer(i)) => Ok(i.to_string()),
            KeyData::Scalar(Scalar::Boolean(b)) => Ok(b.to_string()),
            KeyData::Scalar(Scalar::Null) => Ok("null".to_string()),
            KeyData::Scalar(Scalar::FloatingPoint(f)) => {
                let raw = self.raw(ks, ke);
                if !raw.is_empty() && !raw.starts_with('*') {
                    Ok(raw.to_string())
                } else {
                    Ok(f.0.to_string())
                }
            }
            KeyData::Complex => Err(LoadError::UnsupportedYaml {
                message: "a list or mapping is used as a mapping key; keys must be strings".to_string(),
                location: self.loc(ks, ke - ks),
            }),
        }
    }

    fn too_deep(&self, s: usize) -> LoadError {
        LoadError::TooDeep {
            location: self.loc(s, 1),
            limit: self.limits.max_depth,
        }
    }

    fn scalar(&self, sc: Scalar<'_>, s: usize, e: usize) -> Value {
        match sc {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => Value::Bool(b),
            Scalar::Integer(i) => Value::Number(i.into()),
            Scalar::FloatingPoint(f) => {
                let raw = self.raw(s, e);
                if is_int_literal(raw) {
                    if let Ok(u) = raw.strip_prefix('+').unwrap_or(raw).parse::<u64>() {
                        return Value::Number(u.into());
                    }
                }
                match Number::from_f64(f.0) {
                    Some(n) => Value::Number(n),
                    // .nan / .inf have no JSON number; keep the text.
                    None => Value::String(raw.to_string()),
                }
            }
            Scalar::String(s) => Value::String(s.into_owned()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML: the lean conversion
// ---------------------------------------------------------------------------------------------

/// [`resolve_scalar`] of an untagged scalar, without trying numbers, booleans and nulls on a
/// plain scalar that starts with a letter none of them can start with (most keys and words).
fn lean_scalar(v: Cow<'_, str>, style: ScalarStyle) -> Option<Scalar<'_>> {
    let word = v
        .as_bytes()
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() && !b"nNtTfFiIeE".contains(c));
    if word && style == ScalarStyle::Plain {
        return Some(Scalar::String(v));
    }
    resolve_scalar(v, style, None)
}

/// The lean conversion gave up: the stream needs the full loader ([`YamlLoad`]).
struct NotLean;

/// How a lean conversion ended.
enum Lean {
    Done(Value, Index),
    /// An event outside the lean case: the full loader is needed.
    Outside,
    /// The event source failed (the fast source gave up, or saphyr's parser found an error).
    SourceFailed,
}

/// An open collection of the lean conversion.
enum LeanFrame {
    Seq {
        id: u32,
        items: Vec<Value>,
        prev: u32,
        s: usize,
        depth: usize,
    },
    Map {
        id: u32,
        map: Map<String, Value>,
        prev: u32,
        s: usize,
        depth: usize,
        /// The key waiting for its value: name, and its span in characters.
        pending: Option<(String, usize, usize)>,
        /// The name of the member whose value is being converted.
        bound: Option<String>,
    },
}

/// The conversion of the common case, without the work [`YamlLoad`] does for the rest: one
/// document without anchors, aliases, tags, `<<` keys, collections or floating-point numbers as
/// keys, and duplicate keys. It gives the same value and index as [`YamlLoad`] (the test
/// `lean_conversion_matches_the_full_loader` compares them): for such a stream saphyr's loader
/// reports nothing (two keys it deems equal have equal names here, and equal names make it give
/// up), and the conversion is the same code on the same positions. On anything else it gives up
/// ([`NotLean`]) and the caller runs the full loader, which also reports every error.
struct LeanLoad<'a> {
    conv: YamlConv<'a>,
    frames: Vec<LeanFrame>,
    root: Option<Value>,
    documents: usize,
    ended: bool,
}

impl<'a> LeanLoad<'a> {
    fn new(src: &'a str, text: &'a TextMap, limits: &'a Limits) -> LeanLoad<'a> {
        LeanLoad {
            conv: YamlConv::new(src, text, limits),
            frames: Vec::new(),
            root: None,
            documents: 0,
            ended: false,
        }
    }

    /// Converts the events of `events`.
    fn convert<E>(mut self, events: impl Iterator<Item = Result<(Event<'a>, Span), E>>) -> Lean {
        for item in events {
            let Ok((ev, span)) = item else {
                return Lean::SourceFailed;
            };
            if self.event(ev, span).is_err() {
                return Lean::Outside;
            }
        }
        match (self.root, self.documents, self.ended) {
            (Some(v), 1, true) => Lean::Done(v, self.conv.idx),
            _ => Lean::Outside,
        }
    }

    /// [`LeanLoad::convert`], when only the result matters.
    fn run<E>(self, events: impl Iterator<Item = Result<(Event<'a>, Span), E>>) -> Option<(Value, Index)> {
        match self.convert(events) {
            Lean::Done(v, idx) => Some((v, idx)),
            Lean::Outside | Lean::SourceFailed => None,
        }
    }

    fn event(&mut self, ev: Event<'a>, span: Span) -> Result<(), NotLean> {
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(()),
            Event::DocumentStart(_) if self.documents == 0 => {
                self.documents = 1;
                Ok(())
            }
            Event::DocumentEnd if self.root.is_some() && !self.ended => {
                self.ended = true;
                Ok(())
            }
            _ if self.root.is_some() || self.documents == 0 => Err(NotLean),
            Event::Scalar(v, style, 0, None) => {
                if let Some(LeanFrame::Map { pending: p @ None, .. }) = self.frames.last_mut() {
                    // A key.
                    let name = match lean_scalar(v, style).ok_or(NotLean)? {
                        Scalar::String(s) => s.into_owned(),
                        Scalar::Integer(i) => i.to_string(),
                        Scalar::Boolean(b) => b.to_string(),
                        Scalar::Null => "null".to_string(),
                        Scalar::FloatingPoint(_) => return Err(NotLean),
                    };
                    if name == "<<" {
                        return Err(NotLean);
                    }
                    *p = Some((name, span.start.index(), span.end.index()));
                    return Ok(());
                }
                let (key, _) = self.bind()?;
                let s = self.start(span)?;
                let e = self.conv.end(span.end.index(), s, false);
                let sc = lean_scalar(v, style).ok_or(NotLean)?;
                let value = self.conv.scalar(sc, s, e);
                let id = self.conv.idx.push(s, e - s, key, false);
                self.complete(value, id)
            }
            Event::SequenceStart(0, None) | Event::MappingStart(0, None) => {
                let seq = matches!(ev, Event::SequenceStart(..));
                let (key, depth) = self.bind()?;
                let s = self.start(span)?;
                if depth >= self.conv.limits.max_depth {
                    return Err(NotLean);
                }
                let id = self.conv.idx.push(s, 0, key, seq);
                self.frames.push(if seq {
                    LeanFrame::Seq {
                        id,
                        items: Vec::new(),
                        prev: NONE,
                        s,
                        depth: depth + 1,
                    }
                } else {
                    LeanFrame::Map {
                        id,
                        map: Map::new(),
                        prev: NONE,
                        s,
                        depth: depth + 1,
                        pending: None,
                        bound: None,
                    }
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (id, value, s) = match (self.frames.pop(), ev) {
                    (Some(LeanFrame::Seq { id, items, s, .. }), Event::SequenceEnd) => (id, Value::Array(items), s),
                    (
                        Some(LeanFrame::Map {
                            id,
                            map,
                            s,
                            pending: None,
                            bound: None,
                            ..
                        }),
                        Event::MappingEnd,
                    ) => (id, Value::Object(map), s),
                    _ => return Err(NotLean),
                };
                let e = self.conv.end(span.start.index(), s, true);
                self.conv.idx.set_len(id, e - s);
                self.complete(value, id)
            }
            _ => Err(NotLean),
        }
    }

    /// The byte offset where a value starts, counted against the node limits as
    /// [`YamlLoad::value_start`] counts it.
    fn start(&mut self, span: Span) -> Result<usize, NotLean> {
        let s = self.conv.byte(span.start.index());
        let alias = self.conv.is_alias_at(s).then_some(s);
        self.conv.count(alias).map_err(|_| NotLean)?;
        Ok(s)
    }

    /// Binds the waiting key of the mapping on top (if any) to the value that starts now:
    /// the value's key in the index and the depth it is at.
    fn bind(&mut self) -> Result<(Option<KeyRef>, usize), NotLean> {
        match self.frames.last_mut() {
            None => Ok((None, 0)),
            Some(LeanFrame::Seq { depth, .. }) => Ok((None, *depth)),
            Some(LeanFrame::Map {
                pending, bound, depth, ..
            }) => {
                // No waiting key: a collection in key position.
                let (name, start, end) = pending.take().ok_or(NotLean)?;
                let ks = self.conv.byte(start);
                let ke = self.conv.end(end, ks, false);
                let kr = self.conv.idx.key(&name, ks, ke - ks);
                *bound = Some(name);
                Ok((Some(kr), *depth))
            }
        }
    }

    /// A converted value, to its parent.
    fn complete(&mut self, v: Value, id: u32) -> Result<(), NotLean> {
        match self.frames.last_mut() {
            None => {
                self.root = Some(v);
                Ok(())
            }
            Some(LeanFrame::Seq {
                id: pid, items, prev, ..
            }) => {
                self.conv.idx.link(*pid, prev, id);
                items.push(v);
                Ok(())
            }
            Some(LeanFrame::Map {
                id: pid,
                map,
                prev,
                bound,
                ..
            }) => {
                let name = bound.take().ok_or(NotLean)?;
                self.conv.idx.link(*pid, prev, id);
                match map.insert(name, v) {
                    // A duplicate key: an error, reported by the full loader.
                    Some(_) => Err(NotLean),
                    None => Ok(()),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML: events to values in one pass
// ---------------------------------------------------------------------------------------------

/// A saphyr-parser event with its span (positions in characters).
type Spanned<'a> = (Event<'a>, Span);

/// Resolves a scalar as saphyr's loader does: the core schema with `!!` tags applied; a custom
/// tag (`!Thing`) is dropped and the scalar resolved as if untagged. `None` is saphyr's
/// `BadValue` (the text does not match its `!!` tag, or the `!!` tag is unknown).
fn resolve_scalar<'a>(v: Cow<'a, str>, style: ScalarStyle, tag: Option<&Cow<'a, Tag>>) -> Option<Scalar<'a>> {
    match tag {
        Some(t) if !t.is_yaml_core_schema() => Scalar::parse_from_cow_and_metadata(v, style, None),
        _ => Scalar::parse_from_cow_and_metadata(v, style, tag),
    }
}

/// Whether `resolve_scalar` gives `None`: only a plain scalar with a `!!` tag can fail.
fn scalar_is_bad(v: &str, style: ScalarStyle, tag: Option<&Cow<'_, Tag>>) -> bool {
    style == ScalarStyle::Plain
        && tag.is_some_and(|t| t.is_yaml_core_schema())
        && resolve_scalar(Cow::Borrowed(v), style, tag).is_none()
}

/// A custom tag, as saphyr keeps it (core-schema tags are applied, not kept).
fn custom_tag(tag: Option<&Cow<'_, Tag>>) -> Option<String> {
    tag.filter(|t| !t.is_yaml_core_schema())
        .map(|t| format!("{}\u{0}{}", t.handle, t.suffix))
}

/// A mapping key as saphyr compares keys for its duplicate-key check: by resolved value (floats
/// by value); strings are kept in the loader's `key_text`; keys with a custom tag, and lists or
/// mappings, as canonical text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SKey {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str { hash: u64, off: usize, len: usize },
    Other(String),
}

/// FNV-1a.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl SKey {
    /// The key of a scalar event (its strings added to `key_text`); `None` for saphyr's
    /// `BadValue`.
    fn scalar(key_text: &mut String, v: &str, style: ScalarStyle, tag: Option<&Cow<'_, Tag>>) -> Option<SKey> {
        let sc = resolve_scalar(Cow::Borrowed(v), style, tag)?;
        if let Some(t) = custom_tag(tag) {
            return Some(SKey::Other(format!("{t}\u{0}{sc:?}")));
        }
        Some(match sc {
            Scalar::Null => SKey::Null,
            Scalar::Boolean(b) => SKey::Bool(b),
            Scalar::Integer(i) => SKey::Int(i),
            // As `OrderedFloat`: all NaNs are equal, and so are 0.0 and -0.0.
            Scalar::FloatingPoint(f) if f.0.is_nan() => SKey::Float(f64::NAN.to_bits()),
            Scalar::FloatingPoint(f) if f.0 == 0.0 => SKey::Float(0),
            Scalar::FloatingPoint(f) => SKey::Float(f.0.to_bits()),
            Scalar::String(s) => {
                let off = key_text.len();
                key_text.push_str(&s);
                SKey::Str {
                    hash: fnv(&s),
                    off,
                    len: s.len(),
                }
            }
        })
    }

    fn hash_value(&self) -> u64 {
        match self {
            SKey::Str { hash, .. } => *hash,
            other => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                other.hash(&mut h);
                h.finish()
            }
        }
    }

    fn same(&self, other: &SKey, key_text: &str) -> bool {
        match (self, other) {
            (
                SKey::Str {
                    hash: h1,
                    off: o1,
                    len: l1,
                },
                SKey::Str {
                    hash: h2,
                    off: o2,
                    len: l2,
                },
            ) => h1 == h2 && l1 == l2 && key_text.get(*o1..o1 + l1) == key_text.get(*o2..o2 + l2),
            (a, b) => a == b,
        }
    }
}

/// The keys of one mapping, with the span (in characters) of each; looked up through a list
/// while small, through a hash table after that.
#[derive(Default)]
struct KeySet {
    list: Vec<(SKey, (usize, usize))>,
    /// Key hash -> index of the last key with that hash; `next` chains the others.
    heads: HashMap<u64, u32>,
    next: Vec<u32>,
}

impl KeySet {
    const LINEAR: usize = 16;

    /// Adds `key`; when an equal key is present, returns its span instead.
    fn insert(&mut self, key: SKey, span: (usize, usize), key_text: &str) -> Option<(usize, usize)> {
        if self.list.len() <= Self::LINEAR {
            if let Some(e) = self.list.iter().find(|e| e.0.same(&key, key_text)) {
                return Some(e.1);
            }
        } else {
            let mut i = self.heads.get(&key.hash_value()).copied().unwrap_or(NONE);
            while let Some(e) = self.list.get(i as usize) {
                if e.0.same(&key, key_text) {
                    return Some(e.1);
                }
                i = self.next.get(i as usize).copied().unwrap_or(NONE);
            }
        }
        self.list.push((key, span));
        let n = self.list.len();
        let from = match n.cmp(&(Self::LINEAR + 1)) {
            std::cmp::Ordering::Less => n,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => n - 1,
        };
        for i in from..n {
            let h = self.list.get(i).map_or(0, |e| e.0.hash_value());
            let prev = self.heads.insert(h, to_u32(i)).unwrap_or(NONE);
            self.next.push(prev);
        }
        None
    }
}

/// What a node is, as far as aliases and merge keys care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    /// saphyr's `BadValue` (a scalar that does not match its tag, or an alias to an anchor
    /// that is not complete yet).
    Bad,
    Seq,
    /// A non-empty list of mappings (a `<<` value that can be merged).
    MapSeq,
    Map,
}

/// An anchored node: its events in the log, and its size as saphyr counts it against its alias
/// budget.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    start: usize,
    end: usize,
    size: usize,
    kind: Kind,
}

/// A key as saphyr's loader holds it: the key, its span, and the position it reports a
/// duplicate at.
struct SKeyAt {
    key: SKey,
    span: (usize, usize),
    mark: usize,
    alias: bool,
}

/// An open collection, as saphyr's loader sees it (for its duplicate-key check, its alias
/// budget and merge keys).
struct SFrame {
    map: bool,
    size: usize,
    anchor: usize,
    /// Log index of the start event when the collection is recorded (anchored, or a key).
    log_start: Option<usize>,
    key_role: bool,
    tagged: bool,
    start: usize,
    items: usize,
    all_maps: bool,
    /// The key waiting for its value; `None` before a key (or after a `BadValue` key, which
    /// saphyr replaces by the next node).
    cur_key: Option<SKeyAt>,
    keys: KeySet,
    /// Length of the loader's `key_text` when the collection started (its keys follow).
    text_start: usize,
}

/// The errors saphyr's loader (not its parser) reports, in characters.
enum LoaderError {
    Duplicate {
        mark: usize,
        first: (usize, usize),
        name: Option<String>,
    },
    AliasBudget {
        mark: usize,
    },
}

enum KeyData<'a> {
    Scalar(Scalar<'a>),
    /// A list or mapping.
    Complex,
}

/// A mapping key waiting for its value; `start`/`end` in characters.
struct KeyInfo<'a> {
    data: KeyData<'a>,
    start: usize,
    end: usize,
    /// A plain `<<` key: its value may be merged.
    merge: bool,
}

/// The members of a mapping being converted, in order; looked up by name through a list while
/// small, through a hash table after that.
#[derive(Default)]
struct Members {
    list: Vec<(String, Value)>,
    /// Name hash -> index of the last member with that hash; `next` chains the others.
    heads: HashMap<u64, u32>,
    next: Vec<u32>,
}

impl Members {
    const LINEAR: usize = 16;

    fn hash(name: &str) -> u64 {
        // FNV-1a.
        name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    fn contains(&self, name: &str) -> bool {
        if self.list.len() <= Self::LINEAR {
            return self.list.iter().any(|(k, _)| k == name);
        }
        let mut i = self.heads.get(&Self::hash(name)).copied().unwrap_or(NONE);
        while let Some((k, _)) = self.list.get(i as usize) {
            if k == name {
                return true;
            }
            i = self.next.get(i as usize).copied().unwrap_or(NONE);
        }
        false
    }

    fn link(&mut self, i: usize) {
        let Some((k, _)) = self.list.get(i) else { return };
        let prev = self.heads.insert(Self::hash(k), to_u32(i)).unwrap_or(NONE);
        self.next.push(prev);
    }

    fn push(&mut self, name: String, v: Value) {
        self.list.push((name, v));
        let n = self.list.len();
        if n == Self::LINEAR + 1 {
            for i in 0..n {
                self.link(i);
            }
        } else if n > Self::LINEAR + 1 {
            self.link(n - 1);
        }
    }
}

/// What happens to the value of a mapping member.
enum Bound<'a> {
    Insert(String, KeyRef),
    /// A merged member whose key is already present.
    Skip,
    /// The value of a `<<` key: merged when it is a mapping or a list of mappings.
    Merge(KeyInfo<'a>),
}

/// A mapping being converted, or a mapping merged (`<<`) into `owner`.
struct MapFrame<'a> {
    owner: usize,
    explicit: bool,
    id: u32,
    members: Members,
    prev: u32,
    s: usize,
    /// Depth of the members.
    depth: usize,
    alias: Option<usize>,
    pending: Option<KeyInfo<'a>>,
    bound: Option<Bound<'a>>,
    /// Log ranges of the `<<` values to merge at the end.
    merges: std::collections::VecDeque<(usize, usize)>,
    end_ci: usize,
}

enum SkipKind {
    /// A merged member's value that is not used.
    Value,
    /// A list or mapping used as a key (starting at this character).
    Key(usize),
    /// The value of a `<<` key, recorded from this log index.
    Record {
        start: usize,
        main: bool,
        seq: bool,
        items: usize,
        all_maps: bool,
    },
}

enum Frame<'a> {
    Seq {
        id: u32,
        items: Vec<Value>,
        prev: u32,
        s: usize,
        depth: usize,
        alias: Option<usize>,
    },
    Map(Box<MapFrame<'a>>),
    /// A `<<` value being merged into the mapping at `target`.
    MergeEntry {
        target: usize,
        alias: Option<usize>,
        in_seq: bool,
        item_alias: Option<usize>,
    },
    Skip {
        nest: usize,
        kind: SkipKind,
    },
}

/// Replays logged events: an alias expansion (`top`: the alias span and position, which the
/// expanded node takes) or a `<<` value; `done` is the mapping whose merges continue after it.
struct Cursor {
    pos: usize,
    end: usize,
    first: usize,
    top: Option<(Span, Option<usize>)>,
    done: Option<usize>,
}

/// Builds the value and the index from saphyr-parser's events in one pass, with the results
/// of saphyr's loader (`MarkedYaml`) followed by the conversion: saphyr's checks (duplicate
/// keys, alias budget) run over the whole stream, the conversion over the current document.
/// Events inside anchored nodes (and `<<` values) are logged so that aliases and merges can
/// be replayed through the conversion.
struct YamlLoad<'a> {
    conv: YamlConv<'a>,
    log: Vec<Spanned<'a>>,
    anchors: Vec<Option<Anchor>>,
    sframes: Vec<SFrame>,
    /// The text of the string keys saphyr's loader compares.
    key_text: String,
    srec: usize,
    budget: usize,
    loader_err: Option<LoaderError>,
    frames: Vec<Frame<'a>>,
    cursors: Vec<Cursor>,
    crec: usize,
    root: Option<Value>,
    conv_err: Option<LoadError>,
}

impl<'a> YamlLoad<'a> {
    fn anchor(&self, id: usize) -> Option<Anchor> {
        self.anchors.get(id).copied().flatten()
    }

    fn start_document(&mut self) {
        self.conv.idx = Index::default();
        self.conv.nodes = 0;
        self.conv.alias_nodes = 0;
        self.frames.clear();
        self.cursors.clear();
        self.crec = 0;
        self.root = None;
        self.conv_err = None;
    }

    fn end_document(&mut self, span: Span) -> Result<Value, LoadError> {
        if let Some(e) = self.conv_err.take() {
            return Err(e);
        }
        if let Some(v) = self.root.take() {
            return Ok(v);
        }
        // An empty document: saphyr's `BadValue`.
        let s = self.conv.byte(span.start.index());
        let alias = self.conv.is_alias_at(s).then_some(s);
        self.conv.count(alias)?;
        let e = self.conv.end(span.end.index(), s, false);
        Err(self.conv.bad_value(s, e))
    }

    fn converting(&self) -> bool {
        self.conv_err.is_none() && self.root.is_none()
    }

    /// Whether the next node is the value of a `<<` key (to be recorded).
    fn merge_value_next(&self) -> bool {
        match self.frames.last() {
            Some(Frame::Map(m)) => match &m.bound {
                Some(Bound::Merge(_)) => true,
                None => m.pending.as_ref().is_some_and(|k| k.merge),
                _ => false,
            },
            _ => false,
        }
    }

    fn shadow_key_next(&self) -> bool {
        self.sframes.last().is_some_and(|f| f.map && f.cur_key.is_none())
    }

    /// One event of the stream (not a document or stream boundary).
    fn event(&mut self, ev: Event<'a>, span: Span) {
        let log = self.srec > 0
            || (self.crec > 0 && self.converting())
            || match &ev {
                Event::Scalar(_, _, aid, _) => *aid > 0 || (self.converting() && self.merge_value_next()),
                Event::SequenceStart(aid, _) | Event::MappingStart(aid, _) => {
                    *aid > 0 || self.shadow_key_next() || (self.converting() && self.merge_value_next())
                }
                Event::Alias(_) => self.converting() && self.merge_value_next(),
                _ => false,
            };
        let li = log.then(|| {
            self.log.push((ev.clone(), span));
            self.log.len() - 1
        });
        self.shadow(&ev, span, li);
        if self.loader_err.is_some() || !self.converting() {
            return;
        }
        if let Err(e) = self.feed(ev, span, li, None, true).and_then(|()| self.drain()) {
            self.conv_err = Some(e);
            self.frames.clear();
            self.cursors.clear();
            self.crec = 0;
        }
    }

    // ----- saphyr's loader -----

    fn shadow(&mut self, ev: &Event<'a>, span: Span, li: Option<usize>) {
        let key_role = self.shadow_key_next();
        match ev {
            Event::Scalar(v, style, aid, tag) => {
                let key = if key_role {
                    SKey::scalar(&mut self.key_text, v, *style, tag.as_ref())
                } else {
                    None
                };
                let bad = if key_role {
                    key.is_none()
                } else {
                    scalar_is_bad(v, *style, tag.as_ref())
                };
                let kind = if bad { Kind::Bad } else { Kind::Scalar };
                if *aid > 0 {
                    if let Some(i) = li {
                        self.set_anchor(*aid, i, i + 1, 1, kind);
                    }
                }
                let key = key.map(|key| SKeyAt {
                    key,
                    span: (span.start.index(), span.end.index()),
                    mark: span.start.index(),
                    alias: false,
                });
                self.shadow_complete(1, kind, key);
            }
            Event::Alias(id) => {
                let (size, kind, key) = match self.anchor(*id) {
                    None => (1, Kind::Bad, None),
                    Some(a) => {
                        if a.size > self.budget {
                            self.loader_err = Some(LoaderError::AliasBudget {
                                mark: span.start.index(),
                            });
                            return;
                        }
                        self.budget -= a.size;
                        let key = (key_role && a.kind != Kind::Bad).then(|| SKeyAt {
                            key: self.anchor_key(a),
                            span: (span.start.index(), span.end.index()),
                            mark: span.start.index(),
                            alias: true,
                        });
                        (a.size, a.kind, key)
                    }
                };
                self.shadow_complete(size, kind, key);
            }
            Event::SequenceStart(aid, tag) | Event::MappingStart(aid, tag) => {
                let log_start = if *aid > 0 || key_role { li } else { None };
                if log_start.is_some() {
                    self.srec += 1;
                }
                self.sframes.push(SFrame {
                    map: matches!(ev, Event::MappingStart(..)),
                    size: 1,
                    anchor: *aid,
                    log_start,
                    key_role,
                    tagged: custom_tag(tag.as_ref()).is_some(),
                    start: span.start.index(),
                    items: 0,
                    all_maps: true,
                    cur_key: None,
                    keys: KeySet::default(),
                    text_start: self.key_text.len(),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(f) = self.sframes.pop() else { return };
                self.key_text.truncate(f.text_start);
                let kind = if f.map {
                    Kind::Map
                } else if f.items > 0 && f.all_maps {
                    Kind::MapSeq
                } else {
                    Kind::Seq
                };
                // saphyr counts a tagged list or mapping as one node.
                let size = if f.tagged { 1 } else { f.size };
                let mut key = None;
                if let Some(start) = f.log_start {
                    self.srec -= 1;
                    let end = li.map_or(start, |i| i + 1);
                    if f.anchor > 0 {
                        self.set_anchor(f.anchor, start, end, size, kind);
                    }
                    if f.key_role {
                        key = Some(SKeyAt {
                            key: SKey::Other(self.canonical(start, end)),
                            span: (f.start, span.start.index()),
                            mark: span.start.index(),
                            alias: false,
                        });
                    }
                }
                self.shadow_complete(size, kind, key);
            }
            _ => {}
        }
    }

    fn set_anchor(&mut self, id: usize, start: usize, end: usize, size: usize, kind: Kind) {
        if self.anchors.len() <= id {
            self.anchors.resize(id + 1, None);
        }
        self.anchors[id] = Some(Anchor { start, end, size, kind });
    }

    /// Adds a completed node (`key`: the node as a key, `None` for `BadValue`) to its parent.
    fn shadow_complete(&mut self, size: usize, kind: Kind, key: Option<SKeyAt>) {
        let Some(p) = self.sframes.last_mut() else { return };
        if !p.map {
            p.size += size;
            p.items += 1;
            p.all_maps &= kind == Kind::Map;
            return;
        }
        match p.cur_key.take() {
            None => p.cur_key = key,
            Some(k) => {
                let name = match (&k.key, k.alias) {
                    (SKey::Str { off, len, .. }, false) => self.key_text.get(*off..off + len).map(str::to_string),
                    _ => None,
                };
                if let Some(first) = p.keys.insert(k.key, k.span, &self.key_text) {
                    self.loader_err = Some(LoaderError::Duplicate {
                        mark: k.mark,
                        first,
                        name,
                    });
                } else {
                    p.size += 1 + size;
                }
            }
        }
    }

    fn anchor_key(&mut self, a: Anchor) -> SKey {
        match self.log.get(a.start) {
            Some((Event::Scalar(v, style, _, tag), _)) if a.kind == Kind::Scalar => {
                SKey::scalar(&mut self.key_text, v, *style, tag.as_ref()).unwrap_or(SKey::Null)
            }
            _ => SKey::Other(self.canonical(a.start, a.end)),
        }
    }

    /// Text that is equal for equal lists or mappings (logged events `start..end`).
    fn canonical(&self, start: usize, end: usize) -> String {
        let mut out = String::new();
        let mut stack = vec![(start, end)];
        while let Some((p, e)) = stack.pop() {
            let Some((ev, _)) = self.log.get(p).filter(|_| p < e) else {
                continue;
            };
            stack.push((p + 1, e));
            match ev {
                Event::Scalar(v, style, _, tag) => {
                    let sc = resolve_scalar(Cow::Borrowed(v.as_ref()), *style, tag.as_ref());
                    out.push_str(&format!("{:?}{sc:?},", custom_tag(tag.as_ref())));
                }
                Event::Alias(id) => match self.anchor(*id) {
                    Some(a) => stack.push((a.start, a.end)),
                    None => out.push_str("?,"),
                },
                Event::SequenceStart(_, tag) | Event::MappingStart(_, tag) => {
                    out.push_str(&format!("{:?}", custom_tag(tag.as_ref())));
                    out.push(if matches!(ev, Event::MappingStart(..)) {
                        '{'
                    } else {
                        '['
                    });
                }
                Event::MappingEnd => out.push_str("},"),
                _ => out.push_str("],"),
            }
        }
        out
    }

    fn loader_error(&self, e: &LoaderError, src: &str, doc: &str, limits: &Limits) -> LoadError {
        let text = self.conv.text;
        let b = src.as_bytes();
        match e {
            LoaderError::AliasBudget { mark } => {
                let off = text.byte_of_char(b, *mark);
                LoadError::AliasLimit {
                    location: text.location(b, off, char_len_at(b, off)),
                    limit: limits.max_alias_expansions.min(SAPHYR_ALIAS_BUDGET),
                }
            }
            LoaderError::Duplicate { mark, first, name } => {
                let start = text.byte_of_char(b, *mark);
                let end = key_token_end(doc.as_bytes(), start).unwrap_or(start);
                let location = text.location(b, start, end - start);
                let token = doc.get(start..end).unwrap_or("");
                let key = match name {
                    Some(n) => n.clone(),
                    None if !token.is_empty() => token.to_string(),
                    None => {
                        let line_end = doc
                            .get(start..)
                            .and_then(|r| r.find(['\n', '\r']))
                            .map_or(doc.len(), |p| start + p);
                        doc.get(start..line_end).unwrap_or("").trim().to_string()
                    }
                };
                let first = if end > start {
                    let (s, e) = (text.byte_of_char(b, first.0), text.byte_of_char(b, first.1));
                    text.location(b, s, e.saturating_sub(s))
                } else {
                    location
                };
                LoadError::DuplicateKey { key, location, first }
            }
        }
    }

    // ----- conversion -----

    fn drain(&mut self) -> Result<(), LoadError> {
        while let Some(c) = self.cursors.last_mut() {
            if c.pos < c.end {
                let i = c.pos;
                c.pos += 1;
                let mut top_alias = None;
                let Some((ev, span)) = self.log.get(i) else {
                    return Err(self.conv.internal());
                };
                let (ev, mut span) = (ev.clone(), *span);
                if let Some((ts, ta)) = c.top {
                    if i == c.first {
                        span = ts;
                        top_alias = Some(ta);
                    } else if i + 1 == c.end {
                        span = Span::new(ts.end, ts.end);
                    }
                }
                self.feed(ev, span, Some(i), top_alias, false)?;
            } else {
                let done = c.done;
                self.cursors.pop();
                if let Some(fi) = done {
                    if !matches!(self.frames.pop(), Some(Frame::MergeEntry { .. })) {
                        return Err(self.conv.internal());
                    }
                    self.next_merge(fi)?;
                }
            }
        }
        Ok(())
    }

    /// One event for the conversion; `top_alias` is set for the first event of an alias
    /// expansion (the alias context of the expanded node).
    fn feed(
        &mut self,
        ev: Event<'a>,
        span: Span,
        li: Option<usize>,
        top_alias: Option<Option<usize>>,
        main: bool,
    ) -> Result<(), LoadError> {
        match ev {
            Event::SequenceEnd | Event::MappingEnd => self.node_end(span, li),
            Event::Scalar(..) | Event::Alias(_) | Event::SequenceStart(..) | Event::MappingStart(..) => {
                self.node_start(ev, span, li, top_alias, main)
            }
            _ => Ok(()),
        }
    }

    fn node_start(
        &mut self,
        ev: Event<'a>,
        span: Span,
        li: Option<usize>,
        top_alias: Option<Option<usize>>,
        main: bool,
    ) -> Result<(), LoadError> {
        let alias_kind = match ev {
            Event::Alias(id) => Some(self.anchor(id).map_or(Kind::Bad, |a| a.kind)),
            _ => None,
        };
        let is_start = matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..));
        let fi = self.frames.len().wrapping_sub(1);
        match self.frames.last_mut() {
            None => self.value_start(ev, span, top_alias.unwrap_or(None), None, 0),
            Some(Frame::Skip { nest, kind }) => {
                if *nest == 0 {
                    if let SkipKind::Record { items, all_maps, .. } = kind {
                        *items += 1;
                        *all_maps &= matches!(ev, Event::MappingStart(..)) || alias_kind == Some(Kind::Map);
                    }
                }
                if is_start {
                    *nest += 1;
                }
                Ok(())
            }
            Some(Frame::Seq { depth, alias, .. }) => {
                let (d, a) = (*depth, *alias);
                self.value_start(ev, span, top_alias.unwrap_or(a), None, d)
            }
            Some(Frame::MergeEntry { .. }) => self.merge_source(ev, span),
            Some(Frame::Map(m)) => {
                if m.bound.is_none() {
                    let Some(k) = m.pending.take() else {
                        return self.key_start(ev, span);
                    };
                    let bound = self.bind(fi, k, false)?;
                    if let Some(Frame::Map(m)) = self.frames.last_mut() {
                        m.bound = Some(bound);
                    }
                }
                let Some(Frame::Map(m)) = self.frames.last_mut() else {
                    return Err(self.conv.internal());
                };
                let (depth, alias) = (m.depth, m.alias);
                match &m.bound {
                    Some(Bound::Insert(_, kr)) => {
                        let kr = *kr;
                        self.value_start(ev, span, top_alias.unwrap_or(alias), Some(kr), depth)
                    }
                    Some(Bound::Skip) => {
                        if is_start {
                            self.frames.push(Frame::Skip {
                                nest: 0,
                                kind: SkipKind::Value,
                            });
                        } else {
                            m.bound = None;
                        }
                        Ok(())
                    }
                    Some(Bound::Merge(_)) => {
                        let li = li.ok_or_else(|| self.conv.internal())?;
                        let mergeable = matches!(alias_kind, Some(Kind::Map | Kind::MapSeq));
                        if is_start {
                            if main {
                                self.crec += 1;
                            }
                            self.frames.push(Frame::Skip {
                                nest: 0,
                                kind: SkipKind::Record {
                                    start: li,
                                    main,
                                    seq: matches!(ev, Event::SequenceStart(..)),
                                    items: 0,
                                    all_maps: true,
                                },
                            });
                            Ok(())
                        } else if mergeable {
                            m.merges.push_back((li, li + 1));
                            m.bound = None;
                            Ok(())
                        } else {
                            let Some(Bound::Merge(k)) = m.bound.take() else {
                                return Err(self.conv.internal());
                            };
                            let bound = self.bind(fi, k, true)?;
                            if let Some(Frame::Map(m)) = self.frames.last_mut() {
                                m.bound = Some(bound);
                            }
                            self.node_start(ev, span, Some(li), top_alias, main)
                        }
                    }
                    None => Err(self.conv.internal()),
                }
            }
        }
    }

    fn key_info(&mut self, data: KeyData<'a>, start: usize, end: usize) -> KeyInfo<'a> {
        let merge = matches!(&data, KeyData::Scalar(Scalar::String(s)) if s == "<<") && {
            let ks = self.conv.byte(start);
            self.conv.b().get(ks) == Some(&b'<')
        };
        KeyInfo {
            data,
            start,
            end,
            merge,
        }
    }

    /// A node in key position of the mapping on top.
    fn key_start(&mut self, ev: Event<'a>, span: Span) -> Result<(), LoadError> {
        let (start, end) = (span.start.index(), span.end.index());
        let key = match ev {
            Event::Scalar(v, style, _, tag) => {
                resolve_scalar(v, style, tag.as_ref()).map(|sc| self.key_info(KeyData::Scalar(sc), start, end))
            }
            Event::Alias(id) => match self.anchor(id) {
                Some(a) if a.kind == Kind::Scalar => {
                    let sc = match self.log.get(a.start) {
                        Some((Event::Scalar(v, style, _, tag), _)) => resolve_scalar(v.clone(), *style, tag.as_ref()),
                        _ => None,
                    };
                    sc.map(|sc| self.key_info(KeyData::Scalar(sc), start, end))
                }
                Some(a) if a.kind != Kind::Bad => Some(self.key_info(KeyData::Complex, start, end)),
                _ => None,
            },
            _ => {
                self.frames.push(Frame::Skip {
                    nest: 0,
                    kind: SkipKind::Key(start),
                });
                return Ok(());
            }
        };
        if let Some(Frame::Map(m)) = self.frames.last_mut() {
            m.pending = key;
        }
        Ok(())
    }

    /// Binds key `k` of the mapping at `fi` before its value (`normal`: a `<<` that is not
    /// merged).
    fn bind(&mut self, fi: usize, k: KeyInfo<'a>, normal: bool) -> Result<Bound<'a>, LoadError> {
        let ks = self.conv.byte(k.start);
        let ke = self.conv.end(k.end, ks, false);
        if k.merge && !normal {
            return Ok(Bound::Merge(k));
        }
        let name = self.conv.key_name(k.data, ks, ke)?;
        let (owner, explicit) = match self.frames.get(fi) {
            Some(Frame::Map(m)) => (m.owner, m.explicit),
            _ => return Err(self.conv.internal()),
        };
        let Some(Frame::Map(o)) = self.frames.get(owner) else {
            return Err(self.conv.internal());
        };
        if o.members.contains(&name) {
            if !explicit {
                return Ok(Bound::Skip);
            }
            let location = self.conv.loc(ks, ke - ks);
            let first = self
                .conv
                .idx
                .child_named(o.id, &name)
                .filter(|n| n.key_start != NONE)
                .map_or(location, |n| self.conv.loc(n.key_start as usize, n.key_len as usize));
            return Err(LoadError::DuplicateKey {
                key: name,
                location,
                first,
            });
        }
        let kr = self.conv.idx.key(&name, ks, ke - ks);
        Ok(Bound::Insert(name, kr))
    }

    /// Starts converting a node (value of `key`, at `depth`, in alias context `ctx`).
    fn value_start(
        &mut self,
        ev: Event<'a>,
        span: Span,
        ctx: Option<usize>,
        key: Option<KeyRef>,
        depth: usize,
    ) -> Result<(), LoadError> {
        let s = self.conv.byte(span.start.index());
        let alias = ctx.or_else(|| self.conv.is_alias_at(s).then_some(s));
        match ev {
            Event::Scalar(v, style, _, tag) => {
                self.conv.count(alias)?;
                let e = self.conv.end(span.end.index(), s, false);
                match resolve_scalar(v, style, tag.as_ref()) {
                    None => Err(self.conv.bad_value(s, e)),
                    Some(sc) => {
                        let v = self.conv.scalar(sc, s, e);
                        let id = self.conv.idx.push(s, e - s, key, false);
                        self.complete(v, id)
                    }
                }
            }
            Event::Alias(id) => match self.anchor(id) {
                Some(a) => {
                    self.cursors.push(Cursor {
                        pos: a.start,
                        end: a.end,
                        first: a.start,
                        top: Some((span, alias)),
                        done: None,
                    });
                    Ok(())
                }
                None => {
                    self.conv.count(alias)?;
                    let e = self.conv.end(span.end.index(), s, false);
                    Err(self.conv.bad_value(s, e))
                }
            },
            _ => {
                self.conv.count(alias)?;
                if depth >= self.conv.limits.max_depth {
                    return Err(self.conv.too_deep(s));
                }
                let seq = matches!(ev, Event::SequenceStart(..));
                let id = self.conv.idx.push(s, 0, key, seq);
                let frame = if seq {
                    Frame::Seq {
                        id,
                        items: Vec::new(),
                        prev: NONE,
                        s,
                        depth: depth + 1,
                        alias,
                    }
                } else {
                    Frame::Map(Box::new(MapFrame {
                        owner: self.frames.len(),
                        explicit: true,
                        id,
                        members: Members::default(),
                        prev: NONE,
                        s,
                        depth: depth + 1,
                        alias,
                        pending: None,
                        bound: None,
                        merges: std::collections::VecDeque::new(),
                        end_ci: 0,
                    }))
                };
                self.frames.push(frame);
                Ok(())
            }
        }
    }

    /// A converted node, to its parent.
    fn complete(&mut self, v: Value, id: u32) -> Result<(), LoadError> {
        match self.frames.last_mut() {
            None => {
                self.root = Some(v);
                Ok(())
            }
            Some(Frame::Seq {
                items, prev, id: pid, ..
            }) => {
                self.conv.idx.link(*pid, prev, id);
                items.push(v);
                Ok(())
            }
            Some(Frame::Map(m)) => {
                let (Some(Bound::Insert(name, _)), owner) = (m.bound.take(), m.owner) else {
                    return Err(self.conv.internal());
                };
                let Some(Frame::Map(o)) = self.frames.get_mut(owner) else {
                    return Err(self.conv.internal());
                };
                self.conv.idx.link(o.id, &mut o.prev, id);
                o.members.push(name, v);
                Ok(())
            }
            _ => Err(self.conv.internal()),
        }
    }

    fn node_end(&mut self, span: Span, li: Option<usize>) -> Result<(), LoadError> {
        let fi = self.frames.len().wrapping_sub(1);
        match self.frames.last_mut() {
            Some(Frame::Skip { nest, .. }) if *nest > 0 => {
                *nest -= 1;
                Ok(())
            }
            Some(Frame::Skip { .. }) => {
                let Some(Frame::Skip { kind, .. }) = self.frames.pop() else {
                    return Err(self.conv.internal());
                };
                let fi = fi.wrapping_sub(1);
                let Some(Frame::Map(m)) = self.frames.last_mut() else {
                    return Err(self.conv.internal());
                };
                match kind {
                    SkipKind::Value => m.bound = None,
                    SkipKind::Key(start) => {
                        let k = self.key_info(KeyData::Complex, start, span.start.index());
                        if let Some(Frame::Map(m)) = self.frames.last_mut() {
                            m.pending = Some(k);
                        }
                    }
                    SkipKind::Record {
                        start,
                        main,
                        seq,
                        items,
                        all_maps,
                    } => {
                        if main {
                            self.crec = self.crec.saturating_sub(1);
                        }
                        let end = li.map_or(start, |i| i + 1);
                        if !seq || (items > 0 && all_maps) {
                            m.merges.push_back((start, end));
                            m.bound = None;
                        } else {
                            let Some(Bound::Merge(k)) = m.bound.take() else {
                                return Err(self.conv.internal());
                            };
                            let bound = self.bind(fi, k, true)?;
                            if let Some(Frame::Map(m)) = self.frames.last_mut() {
                                m.bound = Some(bound);
                            }
                            self.cursors.push(Cursor {
                                pos: start,
                                end,
                                first: start,
                                top: None,
                                done: None,
                            });
                        }
                    }
                }
                Ok(())
            }
            Some(Frame::Seq { .. }) => {
                let Some(Frame::Seq { id, items, s, .. }) = self.frames.pop() else {
                    return Err(self.conv.internal());
                };
                let e = self.conv.end(span.start.index(), s, true);
                self.conv.idx.set_len(id, e - s);
                self.complete(Value::Array(items), id)
            }
            Some(Frame::Map(m)) => {
                m.end_ci = span.start.index();
                if m.merges.is_empty() {
                    self.finish_map(fi)
                } else {
                    self.next_merge(fi)
                }
            }
            Some(Frame::MergeEntry { in_seq, .. }) => {
                *in_seq = false;
                Ok(())
            }
            None => Err(self.conv.internal()),
        }
    }

    /// Merges the next `<<` value of the mapping at `fi` (on top), or finishes it.
    fn next_merge(&mut self, fi: usize) -> Result<(), LoadError> {
        let Some(Frame::Map(m)) = self.frames.get_mut(fi) else {
            return Err(self.conv.internal());
        };
        let Some((start, end)) = m.merges.pop_front() else {
            return self.finish_map(fi);
        };
        let (target, alias) = (m.owner, m.alias);
        self.frames.push(Frame::MergeEntry {
            target,
            alias,
            in_seq: false,
            item_alias: None,
        });
        self.cursors.push(Cursor {
            pos: start,
            end,
            first: start,
            top: None,
            done: Some(fi),
        });
        Ok(())
    }

    fn finish_map(&mut self, fi: usize) -> Result<(), LoadError> {
        if self.frames.len() != fi + 1 {
            return Err(self.conv.internal());
        }
        let Some(Frame::Map(m)) = self.frames.pop() else {
            return Err(self.conv.internal());
        };
        if m.owner != fi {
            // Merged: the members went to the owner.
            return Ok(());
        }
        let e = self.conv.end(m.end_ci, m.s, true);
        self.conv.idx.set_len(m.id, e - m.s);
        self.complete(Value::Object(m.members.list.into_iter().collect()), m.id)
    }

    /// An event of a `<<` value being merged (the top frame is its `MergeEntry`).
    fn merge_source(&mut self, ev: Event<'a>, span: Span) -> Result<(), LoadError> {
        let ms = self.conv.byte(span.start.index());
        let at = self.conv.is_alias_at(ms).then_some(ms);
        let anchor = match ev {
            Event::Alias(id) => Some(self.anchor(id).ok_or_else(|| self.conv.internal())?),
            _ => None,
        };
        let Some(Frame::MergeEntry {
            target,
            alias,
            in_seq,
            item_alias,
        }) = self.frames.last_mut()
        else {
            return Err(self.conv.internal());
        };
        match ev {
            Event::Alias(_) => {
                let a = anchor.ok_or_else(|| self.conv.internal())?;
                if *in_seq {
                    *item_alias = alias.or(at);
                } else {
                    *alias = alias.or(at);
                }
                self.cursors.push(Cursor {
                    pos: a.start,
                    end: a.end,
                    first: a.start,
                    top: None,
                    done: None,
                });
                Ok(())
            }
            Event::SequenceStart(..) if !*in_seq => {
                *alias = alias.or(at);
                *in_seq = true;
                Ok(())
            }
            Event::MappingStart(..) => {
                let a = if *in_seq {
                    item_alias.take().or(*alias).or(at)
                } else {
                    alias.or(at)
                };
                let target = *target;
                let depth = match self.frames.get(target) {
                    Some(Frame::Map(o)) => o.depth,
                    _ => return Err(self.conv.internal()),
                };
                self.frames.push(Frame::Map(Box::new(MapFrame {
                    owner: target,
                    explicit: false,
                    id: NONE,
                    members: Members::default(),
                    prev: NONE,
                    s: ms,
                    depth,
                    alias: a,
                    pending: None,
                    bound: None,
                    merges: std::collections::VecDeque::new(),
                    end_ci: 0,
                })));
                Ok(())
            }
            _ => Err(self.conv.internal()),
        }
    }
}

/// The full loader: parses the first document (`doc`, a prefix of `src`) with saphyr's parser and
/// converts it, whatever it holds, reporting every error (see [`convert_yaml`] for the cheaper ways).
fn load_yaml_document(
    name: &str,
    src: &str,
    doc: &str,
    text: &TextMap,
    limits: &Limits,
) -> Result<(Value, Index), LoadError> {
    let mut ld = YamlLoad {
        conv: YamlConv::new(src, text, limits),
        log: Vec::new(),
        anchors: Vec::new(),
        sframes: Vec::new(),
        key_text: String::new(),
        srec: 0,
        budget: SAPHYR_ALIAS_BUDGET,
        loader_err: None,
        frames: Vec::new(),
        cursors: Vec::new(),
        crec: 0,
        root: None,
        conv_err: None,
    };
    let mut last = None;
    for next in Parser::new_from_str(doc) {
        let (ev, span) = next.map_err(|e| yaml_scan_error(name, src, text, limits, &e))?;
        if ld.loader_err.is_some() {
            // saphyr's loader stops at its first error; its parser goes on.
            continue;
        }
        match ev {
            Event::DocumentStart(_) => ld.start_document(),
            Event::DocumentEnd => last = Some(ld.end_document(span)),
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            ev => ld.event(ev, span),
        }
    }
    if let Some(e) = &ld.loader_err {
        return Err(ld.loader_error(e, src, doc, limits));
    }
    match last {
        None => Err(LoadError::Empty),
        Some(r) => r.map(|v| (v, ld.conv.idx)),
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use std::time::{Duration, Instant};

    fn limits() -> Limits {
        Limits::default()
    }

    fn yaml(src: &str) -> Document {
        match Document::parse_as(Format::Yaml, "t.yaml", src, &limits()) {
            Ok(d) => d,
            Err(e) => panic!("YAML failed: {e:?}"),
        }
    }

    fn json(src: &str) -> Document {
        match Document::parse_as(Format::Json, "t.json", src, &limits()) {
            Ok(d) => d,
            Err(e) => panic!("JSON failed: {e:?}"),
        }
    }

    fn err(src: &str) -> LoadError {
        match Document::parse("t", src, &limits()) {
            Ok(d) => panic!("expected an error, got {:?}", d.value),
            Err(e) => e,
        }
    }

    /// The source text at a location.
    fn at(d: &Document, l: Location) -> &str {
        &d.source[l.offset..l.offset + l.len]
    }

    #[test]
    fn detects_format() {
        assert_eq!(Format::detect("  \n{\"a\":1}"), Format::Json);
        assert_eq!(Format::detect("\u{feff}[1]"), Format::Json);
        assert_eq!(Format::detect("a: 1"), Format::Yaml);
        assert_eq!(Format::detect(""), Format::Yaml);
        assert_eq!(json("[1]").format, Format::Json);
    }

    #[test]
    fn json_locates_nested_objects_and_arrays() {
        let src = "{\n  \"info\": {\"title\": \"T\", \"version\": \"1.0\"},\n  \"tags\": [\n    {\"name\": \"a\"},\n    {\"name\": \"b\"}\n  ]\n}\n";
        let d = json(src);
        assert_eq!(d.value["tags"][1]["name"], "b");
        let l = d.locate("/info/version");
        assert_eq!((l.line, l.column), (2, 37));
        assert_eq!(at(&d, l), "\"1.0\"");
        let k = d.locate_key("/info/version").unwrap();
        assert_eq!(at(&d, k), "\"version\"");
        assert_eq!((k.line, k.column), (2, 26));
        let l = d.locate("/tags/1/name");
        assert_eq!((l.line, l.column), (5, 14));
        assert_eq!(at(&d, d.locate("/tags/1")), "{\"name\": \"b\"}");
        assert_eq!(
            at(&d, d.locate("/tags")),
            "[\n    {\"name\": \"a\"},\n    {\"name\": \"b\"}\n  ]"
        );
        let root = d.locate("");
        assert_eq!((root.line, root.column, root.offset), (1, 1, 0));
        assert_eq!(root.len, src.trim_end().len());
        assert_eq!(d.locate_key("/tags/1"), None);
        assert_eq!(d.locate_key(""), None);
        // Missing nodes fall back to the nearest ancestor.
        assert_eq!(d.locate("/info/contact/email"), d.locate("/info"));
        assert_eq!(d.locate("/tags/7"), d.locate("/tags"));
        assert_eq!(d.locate("/tags/x"), d.locate("/tags"));
        assert_eq!(d.locate_exact("/info/contact"), None);
        assert_eq!(d.locate_key("/info/contact"), None);
        assert_eq!(d.locate("#/info/version"), d.locate("/info/version"));
    }

    #[test]
    fn wide_objects_and_arrays_locate_every_member() {
        // Wider than `WIDE`: lookups past the first children go through the lookup table.
        let n = 3 * WIDE + 5;
        let keys: Vec<String> = (0..n).map(|i| format!("k{}", (i * 7919) % 1000)).collect();
        let mut src = String::from("{\"o\": {\n");
        for (i, k) in keys.iter().enumerate() {
            src.push_str(&format!("\"{k}\": {i},\n"));
        }
        src.push_str("\"last\": 0},\n\"a\": [\n");
        for i in 0..n {
            src.push_str(&format!("{i},\n"));
        }
        src.push_str("-1]}\n");
        let d = json(&src);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(d.locate(&format!("/o/{k}")).line, i + 2, "{k}");
            assert_eq!(d.locate_key(&format!("/o/{k}")).map(|l| l.line), Some(i + 2));
        }
        for i in 0..=n {
            let l = d.locate_exact(&format!("/a/{i}")).expect("element exists");
            assert_eq!(l.line, n + 4 + i, "element {i}");
        }
        // Missing members of wide nodes fall back to the node, as for narrow ones.
        assert_eq!(d.locate_exact("/o/k1000"), None);
        assert_eq!(d.locate("/o/zzz"), d.locate("/o"));
        assert_eq!(d.locate("/o/"), d.locate("/o"));
        assert_eq!(d.locate_exact(&format!("/a/{}", n + 1)), None);
        assert_eq!(d.locate("/a/99999999999999999999"), d.locate("/a"));
    }

    #[test]
    fn yaml_locates_nested_objects_and_arrays() {
        let src = "openapi: 3.1.0\ninfo:\n  title: Shop\n  version: '1.0'\ntags:\n  - name: a\n  - name: b\n    description: |\n      text\npaths: {}\n";
        let d = yaml(src);
        assert_eq!(d.value["info"]["version"], "1.0");
        let l = d.locate("/info/version");
        assert_eq!((l.line, l.column), (4, 12));
        assert_eq!(at(&d, l), "'1.0'");
        let k = d.locate_key("/info/version").unwrap();
        assert_eq!((k.line, k.column), (4, 3));
        assert_eq!(at(&d, k), "version");
        let l = d.locate("/tags/1/name");
        assert_eq!((l.line, l.column), (7, 11));
        assert_eq!(at(&d, l), "b");
        assert_eq!(d.locate("/tags/1").line, 7);
        assert_eq!(d.locate("/tags").line, 6);
        assert_eq!(d.locate_key("/tags").map(|k| k.line), Some(5));
        assert_eq!(d.locate("/tags/1/description").line, 9);
        assert_eq!(at(&d, d.locate("/paths")), "{}");
        assert_eq!(d.locate("/paths/~1orders/get"), d.locate("/paths"));
        assert_eq!(d.locate_key("/tags/0"), None);
        assert_eq!(d.line_count(), 11);
    }

    #[test]
    fn pointer_escapes() {
        let src = "{\"paths\": {\"/orders/{id}\": {\"get\": {\"x\": 1}}}, \"a~b\": {\"c/d~1\": 2}}";
        for d in [json(src), yaml(src)] {
            let l = d.locate_exact("/paths/~1orders~1{id}/get/x").unwrap();
            assert_eq!(at(&d, l), "1");
            let k = d.locate_key("/paths/~1orders~1{id}").unwrap();
            assert!(at(&d, k).contains("/orders/{id}"));
            let l = d.locate_exact("/a~0b/c~1d~01").unwrap();
            assert_eq!(at(&d, l), "2");
            // `~01` is `~1` literally, not `/`.
            assert_eq!(d.locate_exact("/a~0b/c~1d/"), None);
            assert_eq!(d.locate_exact("/a~1b"), None);
        }
        let d = yaml("paths:\n  /orders/{id}:\n    get:\n      summary: s\n");
        assert_eq!(d.locate("/paths/~1orders~1{id}/get/summary").line, 4);
        assert_eq!(escape_pointer_segment("/orders/{id}"), "~1orders~1{id}");
        assert_eq!(escape_pointer_segment("a~/b"), "a~0~1b");
        assert_eq!(escape_pointer_segment("plain"), "plain");
        for key in ["~", "/", "~~//", "é/ü~😀", "/a/", "~1", "x~0y/z"] {
            assert_eq!(unescape_pointer_segment(&escape_pointer_segment(key)), key);
            assert_eq!(escape_pointer_segment(key), key.replace('~', "~0").replace('/', "~1"));
        }
        // One pass decodes as the RFC 6901 replacements in order (`~1`, then `~0`) do.
        for seg in [
            "", "a", "~", "~0", "~1", "~01", "~10", "~~1", "~~01", "~0~1", "~2", "a~", "é~1ü~0", "~~~",
        ] {
            assert_eq!(
                unescape_pointer_segment(seg),
                seg.replace("~1", "/").replace("~0", "~"),
                "{seg:?}"
            );
        }
    }

    #[test]
    fn multibyte_offsets_yaml() {
        let src = "title: \"café 😀 ünïcödé\"\n# é😀 comment\ninfo:\n  é😀: [ \"ß\", target ]\n  next: ok\n";
        let d = yaml(src);
        let l = d.locate("/info/é😀/1");
        assert_eq!(at(&d, l), "target");
        assert_eq!(l.line, 4);
        // Columns count characters: `  é😀: [ "ß", ` is 13 characters.
        assert_eq!(l.column, 14);
        let k = d.locate_key("/info/é😀").unwrap();
        assert_eq!(at(&d, k), "é😀");
        assert_eq!((k.line, k.column), (4, 3));
        let l = d.locate("/info/next");
        assert_eq!(at(&d, l), "ok");
        assert_eq!((l.line, l.column), (5, 9));
        // Long non-ASCII prefix (crosses many checkpoint blocks).
        let mut big = String::new();
        for i in 0..3000 {
            big.push_str(&format!("k{i}: \"é😀ü — {i}\"\n"));
        }
        big.push_str("last: value\n");
        let d = yaml(&big);
        let l = d.locate("/last");
        assert_eq!(at(&d, l), "value");
        assert_eq!((l.line, l.column), (3001, 7));
        let l = d.locate("/k2999");
        assert!(at(&d, l).starts_with("\"é😀ü"));
    }

    #[test]
    fn multibyte_offsets_json() {
        let src = "{\"é😀\": \"ü\", \"k\": [\"😀😀\", 5]}";
        let d = json(src);
        let l = d.locate("/k/1");
        assert_eq!(at(&d, l), "5");
        assert_eq!(l.column, src[..l.offset].chars().count() + 1);
        assert_eq!(at(&d, d.locate_key("/é😀").unwrap()), "\"é😀\"");
    }

    #[test]
    fn location_at_and_crlf() {
        let d = yaml("a: 1\r\nb:\r\n  c: 2\r\n");
        let l = d.locate("/b/c");
        assert_eq!((l.line, l.column), (3, 6));
        assert_eq!(at(&d, l), "2");
        let l = d.location_at(0, 1);
        assert_eq!((l.line, l.column), (1, 1));
        let l = d.location_at(10_000, 5);
        assert_eq!((l.offset, l.len), (d.source.len(), 0));
        let d = json("{\"a\":\n\"é\"}");
        let l = d.location_at(d.source.len(), 0);
        assert_eq!((l.line, l.column), (2, 5));
    }

    #[test]
    fn yaml_scalars() {
        let d = yaml(
            "openapi: 3.0\nv: 3.10\ni: 42\nneg: -7\nhex: 0x1F\nt: true\nn: ~\nn2: null\nempty:\ns: hello\nq: \"3.0\"\ninf: .inf\nnan: .nan\nyes: yes\n",
        );
        let v = &d.value;
        assert!(v["openapi"].is_f64());
        assert_eq!(v["openapi"].as_f64(), Some(3.0));
        assert_eq!(v["v"].as_f64(), Some(3.1));
        assert_eq!(v["i"].as_u64(), Some(42));
        assert_eq!(v["neg"].as_i64(), Some(-7));
        assert_eq!(v["hex"].as_i64(), Some(31));
        assert_eq!(v["t"], Value::Bool(true));
        assert!(v["n"].is_null() && v["n2"].is_null() && v["empty"].is_null());
        assert!(v.as_object().unwrap().contains_key("empty"));
        assert_eq!(v["s"], "hello");
        assert_eq!(v["q"], "3.0");
        assert_eq!(v["inf"], ".inf");
        assert_eq!(v["nan"], ".nan");
        assert_eq!(v["yes"], "yes");
        assert_eq!(at(&d, d.locate("/openapi")), "3.0");
    }

    #[test]
    fn big_integers() {
        let d = yaml("a: 18446744073709551615\nb: 18446744073709551616\nc: -9223372036854775809\nd: 123456789012345678901234567890\ne: 9223372036854775807\nf: &x 18446744073709551615\n");
        assert_eq!(d.value["a"].as_u64(), Some(u64::MAX));
        assert_eq!(d.value["b"].as_f64(), Some(18446744073709551616.0));
        assert_eq!(d.value["c"].as_f64(), Some(-9223372036854775809.0));
        assert!(d.value["d"].is_f64());
        assert_eq!(d.value["e"].as_i64(), Some(i64::MAX));
        assert_eq!(d.value["f"].as_u64(), Some(u64::MAX));
        let d = json("{\"a\": 18446744073709551615, \"b\": 18446744073709551616, \"c\": -9223372036854775809, \"d\": -5, \"e\": 1.5e3, \"f\": -0, \"g\": 1e400}".replace(", \"g\": 1e400", "").as_str());
        assert_eq!(d.value["a"].as_u64(), Some(u64::MAX));
        assert!(d.value["b"].is_f64());
        assert!(d.value["c"].is_f64());
        assert_eq!(d.value["d"].as_i64(), Some(-5));
        assert_eq!(d.value["e"].as_f64(), Some(1500.0));
        assert!(matches!(err("{\"g\": 1e400}"), LoadError::Syntax { .. }));
    }

    #[test]
    fn yaml_keys() {
        let d = yaml("responses:\n  200: ok\n  404: missing\nflags:\n  true: 1\n  3.10: x\n");
        assert_eq!(d.value["responses"]["200"], "ok");
        assert_eq!(d.locate("/responses/404").line, 3);
        assert_eq!(d.value["flags"]["true"], 1);
        assert_eq!(d.value["flags"]["3.10"], "x");
        let e = err("? [a, b]\n: 1\n");
        match e {
            LoadError::UnsupportedYaml { location, .. } => assert_eq!(location.line, 1),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Document::parse_as(Format::Yaml, "t", "{? {a: 1} : 2}", &limits()),
            Err(LoadError::UnsupportedYaml { .. })
        ));
        assert!(matches!(
            err("a: !!binary aGVsbG8=\n"),
            LoadError::UnsupportedYaml { .. }
        ));
        // Custom tags are dropped.
        let d = yaml("a: !Ref [1, 2]\nb: !Sub x\n");
        assert_eq!(d.value["a"], serde_json::json!([1, 2]));
        assert_eq!(d.value["b"], "x");
    }

    /// The lean conversion of `src` (on saphyr's events), or `None` when it gives up; and what
    /// the full loader gives.
    type Converted = (Value, Index);

    fn lean_and_full(src: &str) -> (Option<Converted>, Result<Converted, LoadError>) {
        let limits = limits();
        let text = TextMap::new(src);
        let scan = scan_yaml(src);
        let doc = src.get(..scan.doc_end).unwrap_or(src);
        let lean = LeanLoad::new(src, &text, &limits).run(Parser::new_from_str(doc));
        let full = load_yaml_document("t.yaml", src, doc, &text, &limits);
        (lean, full)
    }

    #[test]
    fn counting_characters() {
        let src = "abcdefghé😀 üxyzñ0123456789012345678901234567😀ab€";
        for from in 0..src.len() {
            for to in from..=src.len() {
                let part = &src.as_bytes()[from..to];
                let want = part.iter().filter(|&&b| is_char_start(b)).count();
                assert_eq!(count_char_starts(part), want, "{from}..{to}");
            }
        }
    }

    #[test]
    fn walking_to_a_character() {
        let src = "abcdefghijklmnopé😀 ü xyzxyzxyzxyzxyz ñ0123456789012345678901234567890😀";
        let b = src.as_bytes();
        let starts: Vec<usize> = src.char_indices().map(|(i, _)| i).chain([b.len()]).collect();
        for (from_ci, &from) in starts.iter().enumerate() {
            for ci in from_ci..starts.len() + 3 {
                let want = starts.get(ci).copied().unwrap_or(b.len());
                assert_eq!(walk_to_char(b, from, from_ci, ci), want, "from {from_ci} to {ci}");
            }
        }
    }

    #[test]
    fn lean_scalars_resolve_like_saphyr() {
        let words = [
            "abc",
            "a1",
            "x0x1",
            "Yes",
            "no",
            "on",
            "off",
            "y",
            "Z9",
            "b.5",
            "d1e5",
            "g-1",
            "h+1",
            "E5",
            "e5",
            "inf",
            "Infinity",
            "nan",
            "NaN",
            "null",
            "Null",
            "NULL",
            "true",
            "True",
            "false",
            "FALSE",
            "~",
            "",
            "0x1F",
            "0o17",
            "+12",
            "-3",
            "1.5",
            "1e3",
            ".inf",
            "-.Inf",
            ".NaN",
            "12345678901234567890",
            "_x",
            "é",
        ];
        for w in words {
            for style in [ScalarStyle::Plain, ScalarStyle::SingleQuoted, ScalarStyle::DoubleQuoted] {
                assert_eq!(
                    lean_scalar(Cow::Borrowed(w), style),
                    resolve_scalar(Cow::Borrowed(w), style, None),
                    "{w:?} {style:?}"
                );
            }
        }
    }

    /// Wherever the lean conversion does not give up, it gives what the full loader gives.
    #[test]
    fn lean_conversion_matches_the_full_loader() {
        let lean_cases = [
            "a: 1\nb: [x, 'y', \"z\"]\nc: {d: null, e: ~}\n",
            "200:\n  d: ok\n'201': x\ntrue: 1\nnull: 2\n",
            "- a\n- - b\n  - c\n- k: v\n  k2:\n    - 1.5\n    - .inf\n    - 0x1F\n",
            "text: |\n  line 1\n\n  line 2\nfolded: >-\n  a\n  b\nempty:\nlast: é😀\n",
            "# comment\n---\nkey: value # trailing\n...\n",
            "a:\r\n  b: 1\r\n  c: 'two'\r\n",
            "[1, 2, {a: b}]",
            "plain",
            "k: \"multi\n  line\"\nn: 12345678901234567890\n",
            // Text that starts like an alias (the full loader counts it as one).
            "d: |\n  **bold** text\ne: '*x'\n",
            // The first document only (the loader's `doc`).
            "a: 1\n--- \nb: 2\n",
        ];
        let full_cases = [
            "a: &x 1\nb: *x\n",
            "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",
            "a: 1\na: 2\n",
            "200: a\n'200': b\n",
            "1.0: a\n1.00: b\n",
            "? [a]\n: b\n",
            "!!str a: 1\n",
            "a: !custom x\n",
            "",
            "# only a comment\n",
        ];
        for src in lean_cases {
            let (lean, full) = lean_and_full(src);
            let (Some((lv, li)), Ok((fv, fi))) = (lean, full) else {
                panic!("expected the lean conversion to take {src:?}");
            };
            assert_eq!(lv, fv, "{src:?}");
            assert!(li.same_as(&fi), "{src:?}");
        }
        for src in full_cases {
            let (lean, _) = lean_and_full(src);
            assert!(lean.is_none(), "expected the lean conversion to give up on {src:?}");
        }
        let mut files = crate::testing::files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
            &["yaml", "yml"],
            5_000_000,
        );
        for name in ["openapi", "asyncapi"] {
            match crate::testing::corpus(name) {
                Some(root) => files.extend(crate::testing::files(&root, &["yaml", "yml"], 5_000_000)),
                None => eprintln!("skipping the {name} corpus: ../shared/corpus/{name} is absent"),
            }
        }
        let (mut lean_n, mut full_n) = (0, 0);
        for path in &files {
            let Ok(src) = std::fs::read_to_string(path) else {
                continue;
            };
            if src.contains('\0') {
                continue;
            }
            match lean_and_full(&src) {
                (Some((lv, li)), Ok((fv, fi))) => {
                    assert_eq!(lv, fv, "{}", path.display());
                    assert!(li.same_as(&fi), "{}", path.display());
                    lean_n += 1;
                }
                (Some(_), Err(e)) => panic!("{}: lean conversion succeeded, full loader: {e}", path.display()),
                (None, _) => {
                    let large = ["vacuum-api.github.com.yaml", "openai-f85dbe22.yaml"];
                    assert!(
                        !large.iter().any(|l| path.ends_with(l)),
                        "{}: expected the lean conversion",
                        path.display()
                    );
                    full_n += 1
                }
            }
        }
        eprintln!("lean conversion: {lean_n} files, full loader only: {full_n}");
        assert!(lean_n >= full_n, "the lean conversion should take most files");
    }

    #[test]
    fn duplicate_keys_yaml() {
        let src = "info:\n  title: a\n  version: '1'\n  title: b\n";
        match err(src) {
            LoadError::DuplicateKey { key, location, first } => {
                assert_eq!(key, "title");
                assert_eq!((location.line, location.column), (4, 3));
                assert_eq!((first.line, first.column), (2, 3));
                assert_eq!(&src[first.offset..first.offset + first.len], "title");
                assert_eq!(&src[location.offset..location.offset + location.len], "title");
            }
            other => panic!("{other:?}"),
        }
        // Quoted, in a flow mapping, after multi-byte text.
        let src = "x: \"é😀\"\ny: {\"k\": 1, b: 2, 'k': 3}\n";
        match err(src) {
            LoadError::DuplicateKey { key, location, first } => {
                assert_eq!(key, "k");
                assert_eq!(&src[first.offset..first.offset + first.len], "\"k\"");
                assert_eq!(&src[location.offset..location.offset + location.len], "'k'");
            }
            other => panic!("{other:?}"),
        }
        // Three times in one mapping and another duplicate elsewhere.
        let src = "a:\n  k: 1\n  k: 2\n  k: 3\nb:\n  z: 1\n  z: 2\n";
        match err(src) {
            LoadError::DuplicateKey { location, first, .. } => {
                assert_eq!((location.line, first.line), (3, 2));
            }
            other => panic!("{other:?}"),
        }
        // Equal only after conversion to strings.
        let src = "r:\n  200: a\n  \"200\": b\n";
        match err(src) {
            LoadError::DuplicateKey { key, location, first } => {
                assert_eq!(key, "200");
                assert_eq!((location.line, first.line), (3, 2));
            }
            other => panic!("{other:?}"),
        }
        // The help mentions the first position.
        let e = err("a: 1\na: 2\n");
        assert!(e.help().contains("line 1"), "{}", e.help());
        assert_eq!(e.location().map(|l| l.line), Some(2));
    }

    #[test]
    fn duplicate_keys_json() {
        let src = "{\n  \"a\": 1,\n  \"b\": {\"x\": 1, \"x\": 2}\n}";
        match err(src) {
            LoadError::DuplicateKey { key, location, first } => {
                assert_eq!(key, "x");
                assert_eq!((location.line, location.column), (3, 17));
                assert_eq!((first.line, first.column), (3, 9));
                assert_eq!(&src[first.offset..first.offset + first.len], "\"x\"");
            }
            other => panic!("{other:?}"),
        }
        // Equal after unescaping.
        assert!(matches!(
            err("{\"a\": 1, \"\\u0061\": 2}"),
            LoadError::DuplicateKey { .. }
        ));
    }

    fn lol_bomb() -> String {
        let mut s = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (i, c) in ('b'..='i').enumerate() {
            let prev = (b'a' + i as u8) as char;
            s.push_str(&format!(
                "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
        }
        s
    }

    #[test]
    fn alias_bomb_fails_fast() {
        let t = Instant::now();
        let e = err(&lol_bomb());
        assert!(t.elapsed() < Duration::from_secs(1), "took {:?}", t.elapsed());
        assert!(
            matches!(e, LoadError::AliasLimit { .. } | LoadError::TooManyNodes { .. }),
            "{e:?}"
        );
        assert!(e.location().is_some() || matches!(e, LoadError::TooManyNodes { .. }));
        // A lower limit is enforced by the conversion.
        let small = Limits {
            max_alias_expansions: 10,
            ..Limits::default()
        };
        let src = "base: &b {x: 1, y: 2, z: 3}\nl: [*b, *b, *b, *b]\n";
        match Document::parse("t", src, &small) {
            Err(LoadError::AliasLimit { location, limit }) => {
                assert_eq!(limit, 10);
                assert_eq!(&src[location.offset..location.offset + location.len], "*b");
            }
            other => panic!("{other:?}"),
        }
        assert!(Document::parse("t", src, &Limits::default()).is_ok());
        let few = Limits {
            max_nodes: 5,
            ..Limits::default()
        };
        assert!(matches!(
            Document::parse("t", src, &few),
            Err(LoadError::TooManyNodes { limit: 5 })
        ));
        assert!(matches!(
            Document::parse("t", "[1,2,3,4,5,6]", &few),
            Err(LoadError::TooManyNodes { limit: 5 })
        ));
    }

    #[test]
    fn alias_byte_amplification_fails_fast() {
        // Few nodes, but every alias would copy a 1 MiB string.
        let mut src = format!("a: &a \"{}\"\nb: [", "x".repeat(1 << 20));
        for _ in 0..20_000 {
            src.push_str("*a, ");
        }
        src.push_str("1]\n");
        let t = Instant::now();
        match Document::parse("t", &src, &limits()) {
            Err(LoadError::AliasLimit { location, .. }) => {
                assert_eq!(location.line, 2);
                assert_eq!(&src[location.offset..location.offset + location.len], "*a");
            }
            other => panic!("{other:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(2), "took {:?}", t.elapsed());
        // Nested: a block mapping holding the big string, aliased through another anchor.
        let mut src = format!("big: &big\n  text: \"{}\"\nmid: &mid\n", "y".repeat(1 << 20));
        for i in 0..20 {
            src.push_str(&format!("  k{i}: *big\n"));
        }
        src.push_str("list:\n");
        for _ in 0..20 {
            src.push_str("  - *mid\n");
        }
        assert!(matches!(
            Document::parse("t", &src, &limits()),
            Err(LoadError::AliasLimit { .. })
        ));
        // Ordinary use of anchors is unaffected, and `*`/`&` in text are not mistaken for them.
        let d = yaml("x: &x {a: 1}\ny: [*x, *x]\nd: \"Tom & Jerry *bold* &amp;\"\ne: a*b&c\n");
        assert_eq!(d.value["y"][1]["a"], 1);
        assert_eq!(d.value["d"], "Tom & Jerry *bold* &amp;");
    }

    #[test]
    fn aliases_expand_and_locate() {
        let d = yaml("defs:\n  s: &s {type: string}\nuse:\n  a: *s\n  b: *s\n");
        assert_eq!(d.value["use"]["b"]["type"], "string");
        assert_eq!(at(&d, d.locate("/use/a")), "*s");
        // Inside an alias, positions are those of the anchored text.
        assert_eq!(d.locate("/use/a/type").line, 2);
    }

    #[test]
    fn merge_keys() {
        let src = "base: &base\n  a: 1\n  b: 2\nother: &o {c: 3, a: 9}\nx:\n  <<: *base\n  b: 20\ny:\n  <<: [*o, *base]\n  d: 4\nz:\n  \"<<\": 5\n";
        let d = yaml(src);
        assert_eq!(d.value["x"], serde_json::json!({"b": 20, "a": 1}));
        assert_eq!(d.value["y"], serde_json::json!({"d": 4, "c": 3, "a": 9, "b": 2}));
        assert_eq!(d.value["z"], serde_json::json!({"<<": 5}));
        assert_eq!(d.locate("/x/b").line, 7);
        assert_eq!(d.locate("/x/a").line, 2);
        assert_eq!(d.locate_key("/y/c").map(|l| l.line), Some(4));
        // A `<<` whose value cannot be merged stays a key.
        let d = yaml("a:\n  <<: 5\n");
        assert_eq!(d.value["a"]["<<"], 5);
    }

    #[test]
    fn deep_nesting_json() {
        let t = Instant::now();
        let deep = "[".repeat(100_000);
        match err(&deep) {
            LoadError::TooDeep { location, limit } => {
                assert_eq!(limit, 256);
                assert_eq!(location.column, 257);
            }
            other => panic!("{other:?}"),
        }
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(err(&deep), LoadError::TooDeep { .. }));
        let deep = "{\"a\":".repeat(100_000);
        assert!(matches!(err(&deep), LoadError::TooDeep { .. }));
        assert!(t.elapsed() < Duration::from_secs(5));
        // Exactly at the limit is fine.
        let ok = format!("{}{}", "[".repeat(256), "]".repeat(256));
        assert!(Document::parse("t", &ok, &limits()).is_ok());
        let over = format!("{}{}", "[".repeat(257), "]".repeat(257));
        assert!(matches!(err(&over), LoadError::TooDeep { .. }));
        // A larger limit runs on a helper thread.
        let l = Limits {
            max_depth: 5000,
            ..Limits::default()
        };
        let ok = format!("{}{}", "[".repeat(4000), "]".repeat(4000));
        assert!(Document::parse("t", &ok, &l).is_ok());
        // An unbounded limit is clamped to what the stack can hold.
        let l = Limits {
            max_depth: usize::MAX,
            ..Limits::default()
        };
        assert!(Document::parse("t", "{\"a\": [1]}", &l).is_ok());
        assert!(Document::parse("t", "a: [1]", &l).is_ok());
        assert!(matches!(
            Document::parse("t", &"[".repeat(100_000), &l),
            Err(LoadError::TooDeep {
                limit: MAX_DEPTH_CAP,
                ..
            })
        ));
    }

    #[test]
    fn deep_nesting_yaml() {
        let t = Instant::now();
        // Flow: saphyr stops at 255 levels.
        for deep in ["[".repeat(100_000), format!("a: {}", "{a: ".repeat(100_000))] {
            let e = Document::parse_as(Format::Yaml, "t", &deep, &limits()).unwrap_err();
            assert!(
                matches!(e, LoadError::TooDeep { .. } | LoadError::Syntax { .. }),
                "{e:?}"
            );
        }
        // Block sequences on one line.
        let deep = format!("{}x\n", "- ".repeat(100_000));
        assert!(matches!(err(&deep), LoadError::TooDeep { .. }));
        // Block mappings, one level per line.
        let mut deep = String::new();
        for i in 0..3000 {
            deep.push_str(&" ".repeat(i));
            deep.push_str("k:\n");
        }
        match err(&deep) {
            LoadError::TooDeep { location, limit } => {
                assert_eq!(limit, 256);
                assert_eq!(location.line, 257);
            }
            other => panic!("{other:?}"),
        }
        // Leading block indicators after a BOM are counted too.
        let deep = format!("\u{feff}{}x\n", "- ".repeat(100_000));
        assert!(matches!(err(&deep), LoadError::TooDeep { .. }));
        // Lines separated by lone CRs.
        let deep = format!("a:\r{}- x\r", " ".repeat(200_000));
        assert!(Document::parse("t", &deep, &limits()).is_err());
        assert!(t.elapsed() < Duration::from_secs(10));
        // Within the limit.
        let mut ok = String::new();
        for i in 0..200 {
            ok.push_str(&" ".repeat(i));
            ok.push_str("k:\n");
        }
        assert!(Document::parse("t", &ok, &limits()).is_ok());
        let ok = format!("{}x\n", "- ".repeat(250));
        let d = yaml(&ok);
        assert_eq!(d.locate(&"/0".repeat(250)).column, 501);
    }

    #[test]
    fn binary_utf8_size_empty() {
        assert!(matches!(
            Document::from_bytes("x", b"a: 1\0", &limits()),
            Err(LoadError::Binary)
        ));
        assert!(matches!(
            Document::parse("x", "{\"a\": \"\0\"}", &limits()),
            Err(LoadError::Binary)
        ));
        match Document::from_bytes("x", b"a: caf\xe9\n", &limits()) {
            Err(LoadError::NotUtf8 { offset }) => assert_eq!(offset, 6),
            other => panic!("{other:?}"),
        }
        let small = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        assert!(matches!(
            Document::from_bytes("x", b"a: 12", &small),
            Err(LoadError::TooLarge { bytes: 5, limit: 4 })
        ));
        for src in ["", "  \n\t\n", "# only a comment\n", "---\n", "---\n...\n", "\u{feff}"] {
            assert!(matches!(err(src), LoadError::Empty), "{src:?}");
        }
        assert!(matches!(
            Document::parse_as(Format::Json, "x", " \n", &limits()),
            Err(LoadError::Empty)
        ));
        assert!(Document::from_bytes("x", "\u{feff}{\"a\": 1}".as_bytes(), &limits()).is_ok());
        assert_eq!(yaml("\u{feff}a: 1\n").value["a"], 1);
        assert!(LoadError::Binary.location().is_none());
        assert!(!LoadError::Empty.help().is_empty());
    }

    #[test]
    fn multi_document_stream_takes_the_first() {
        let d = yaml("a: 1\n---\nb: 2\n");
        assert_eq!(d.value, serde_json::json!({"a": 1}));
        let d = yaml("%YAML 1.2\n---\na: 1\n...\n---\nb: [\n");
        assert_eq!(d.value, serde_json::json!({"a": 1}));
        // Later documents are not even parsed.
        let d = yaml("---\na: 1\n--- \nbroken: [\nx: {\n");
        assert_eq!(d.value["a"], 1);
        let d = yaml("--- {a: 1}\n--- {b: 2}\n");
        assert_eq!(d.value, serde_json::json!({"a": 1}));
    }

    #[test]
    fn json_syntax_errors() {
        let cases: &[(&str, usize, usize, &str)] = &[
            ("{\n  \"a\": 1,\n  \"b\": }", 3, 8, "expected a value"),
            ("{\"a\": 1,}", 1, 8, "trailing comma"),
            ("[1, 2,]", 1, 6, "trailing comma"),
            ("{\"a\": 1\n \"b\": 2}", 2, 2, "expected `,` or `}`"),
            ("{'a': 1}", 1, 2, "double quotes"),
            ("{a: 1}", 1, 2, "double quotes"),
            ("{\"a\": 1 // c\n}", 1, 9, "expected `,` or `}`"),
            ("[1, /* c */ 2]", 1, 5, "comments"),
            ("{\"a\": NaN}", 1, 7, "unexpected `NaN`"),
            ("{\"a\": True}", 1, 7, "unexpected `True`"),
            ("{\"a\": 01}", 1, 7, "leading zeros"),
            ("{\"a\": \"x\ny\"}", 1, 9, "control character"),
            ("{\"a\": \"\\x\"}", 1, 8, "escape"),
            ("{\"a\": \"\\ud800\"}", 1, 8, "surrogate"),
            ("{\"a\": [1, 2}", 1, 12, "expected `,` or `]`"),
            ("{\"a\": 1}}", 1, 9, "after the end"),
            ("{\"a\": 1} x", 1, 10, "after the end"),
            ("{\"é\": 1 \"b\"}", 1, 9, "expected `,` or `}`"),
        ];
        for &(src, line, column, needle) in cases {
            match Document::parse_as(Format::Json, "t.json", src, &limits()) {
                Err(LoadError::Syntax {
                    message,
                    location,
                    help,
                }) => {
                    assert!(message.contains(needle), "{src:?}: {message}");
                    assert_eq!((location.line, location.column), (line, column), "{src:?}: {message}");
                    assert!(!help.is_empty());
                }
                other => panic!("{src:?}: {other:?}"),
            }
        }
        match err("{\n  \"a\": [1,\n") {
            LoadError::Syntax { location, help, .. } => {
                assert_eq!((location.line, location.column), (3, 1));
                assert!(help.contains("line 2, column 8"), "{help}");
            }
            other => panic!("{other:?}"),
        }
        match err("{\"a\": \"abc") {
            LoadError::Syntax { help, .. } => assert!(help.contains("line 1, column 7"), "{help}"),
            other => panic!("{other:?}"),
        }
        let d = json("{\"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"e\": \"\"}");
        assert_eq!(d.value["s"], "a\"b\\c/\né😀");
        assert_eq!(d.value["e"], "");
    }

    #[test]
    fn json_matches_serde_json() {
        let src = r#"{"a": [1, -2, 3.5, -0.0, 1e-7, 12345678901234567890, true, false, null, {}],
            "b": {"c": "d", "nested": [[], [{}], {"x": [1e2]}]}, "u": "\u00e9\t"}"#;
        let d = json(src);
        let expected: Value = serde_json::from_str(src).unwrap();
        assert_eq!(d.value, expected);
        assert_eq!(
            serde_json::to_string(&d.value).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }

    #[test]
    fn yaml_syntax_errors() {
        match err("info:\n  title: a\n   bad: b\n") {
            LoadError::Syntax {
                message,
                location,
                help,
            } => {
                assert!(message.starts_with("invalid YAML"), "{message}");
                assert_eq!(location.line, 3);
                assert!(!help.is_empty());
            }
            other => panic!("{other:?}"),
        }
        match err("a: b: c\n") {
            LoadError::Syntax { location, help, .. } => {
                assert_eq!((location.line, location.column), (1, 5));
                assert!(help.contains("quote"), "{help}");
            }
            other => panic!("{other:?}"),
        }
        match err("a:\n\tb: 1\n") {
            LoadError::Syntax { location, help, .. } => {
                assert_eq!(location.line, 2);
                assert!(help.contains("tab"), "{help}");
            }
            other => panic!("{other:?}"),
        }
        match err("é😀: x\nb: *nope\n") {
            LoadError::Syntax { location, .. } => {
                assert_eq!((location.line, location.column), (2, 4));
                assert_eq!(location.offset, "é😀: x\nb: ".len());
            }
            other => panic!("{other:?}"),
        }
        match Document::parse("api.json", "openapi: [\n", &limits()) {
            Err(LoadError::Syntax { help, .. }) => assert!(help.contains("api.json"), "{help}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scan_bounds_depth() {
        let s = scan_yaml("a:\n  - - - x\n");
        assert_eq!(s.max_col, 8);
        assert!(s.has_content);
        let s = scan_yaml("# c\n%YAML 1.2\n---\n");
        assert!(!s.has_content);
        let s = scan_yaml("a: 1\n---\nb: 2\n");
        assert_eq!(s.doc_end, 5);
    }

    /// Loads every document of the shared OpenAPI corpus: none may panic, and JSON documents
    /// that serde_json reads must give the same value.
    #[test]
    fn corpus_loads_without_panic() {
        let Some(root) = crate::testing::corpus("openapi") else {
            return;
        };
        let (mut ok, mut failed) = (0, 0);
        for path in crate::testing::files(&root, crate::testing::DOCUMENTS, u64::MAX) {
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let name = path.display().to_string();
            match Document::from_bytes(&name, &bytes, &limits()) {
                Ok(d) => {
                    ok += 1;
                    if d.format == Format::Json {
                        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                            assert!(v == d.value, "{name}: value differs from serde_json");
                        }
                    }
                    if let Some(obj) = d.value.as_object() {
                        for k in obj.keys().take(5) {
                            let p = format!("/{}", escape_pointer_segment(k));
                            assert!(d.locate_exact(&p).is_some(), "{name}: {p}");
                            let kl = d.locate_key(&p);
                            assert!(kl.is_some_and(|l| l.line >= 1), "{name}: key {p}");
                        }
                    }
                }
                Err(e) => {
                    failed += 1;
                    let _ = (e.help(), e.location(), e.to_string());
                }
            }
        }
        println!("corpus: {ok} loaded, {failed} rejected");
        assert!(ok > 0);
    }

    #[test]
    fn yaml_loader_matches_saphyr() {
        // Merges through aliases, lists of mappings and nested `<<`; explicit keys win.
        let d = yaml("a: &a {p: 1, <<: {q: 2}}\nb: &b {q: 3, r: 4}\nm:\n  <<: [*a, *b]\n  r: 5\n");
        assert_eq!(d.value["m"], serde_json::json!({"r": 5, "p": 1, "q": 2}));
        assert_eq!(d.locate("/m/p").line, 1);
        assert_eq!(d.locate_key("/m/r").map(|l| l.line), Some(5));
        // A custom tag is dropped; the value is located with its tag.
        let d = yaml("x: !foo bar\ny: !foo [1]\n");
        assert_eq!(d.value, serde_json::json!({"x": "bar", "y": [1]}));
        assert_eq!(at(&d, d.locate("/x")), "!foo bar");
        // Keys saphyr finds equal: floats by value, aliases by their anchor.
        assert!(matches!(err("1.0: a\n1.00: b\n"), LoadError::DuplicateKey { .. }));
        match err("&a a: 1\n*a : 2\n") {
            LoadError::DuplicateKey { location, first, .. } => assert_eq!((location.line, first.line), (2, 1)),
            other => panic!("{other:?}"),
        }
        // saphyr's checks cover the whole document, before the conversion's errors; syntax errors
        // come first of all.
        assert!(matches!(
            err("b: !!int x\na: 1\na: 2\n"),
            LoadError::DuplicateKey { .. }
        ));
        assert!(matches!(err("a: 1\na: 2\nb: [1\n"), LoadError::Syntax { .. }));
        assert!(matches!(err("b: !!int x\n"), LoadError::UnsupportedYaml { .. }));
        // An alias to an anchor that is not complete yet is not a value.
        assert!(matches!(err("a: &a [*a]\n"), LoadError::UnsupportedYaml { .. }));
    }
}
