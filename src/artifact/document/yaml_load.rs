//! YAML: events to values in one pass, with what saphyr's loader does (scalar resolution,
//! merge keys, aliases, duplicate keys).

use super::*;

/// A saphyr-parser event with its span (positions in characters).
type Spanned<'a> = (Event<'a>, Span);

/// Resolves a scalar as saphyr's loader does: the core schema with `!!` tags applied; a custom
/// tag (`!Thing`) is dropped and the scalar resolved as if untagged. `None` is saphyr's
/// `BadValue` (the text does not match its `!!` tag, or the `!!` tag is unknown).
pub(super) fn resolve_scalar<'a>(
    v: Cow<'a, str>,
    style: ScalarStyle,
    tag: Option<&Cow<'a, Tag>>,
) -> Option<Scalar<'a>> {
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
pub(super) enum SKey {
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
    pub(super) fn scalar(
        key_text: &mut String,
        v: &str,
        style: ScalarStyle,
        tag: Option<&Cow<'_, Tag>>,
    ) -> Option<SKey> {
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
pub(super) struct KeySet {
    list: Vec<(SKey, (usize, usize))>,
    /// Key hash -> index of the last key with that hash; `next` chains the others.
    heads: HashMap<u64, u32>,
    pub(super) next: Vec<u32>,
}

impl KeySet {
    pub(super) const LINEAR: usize = 16;

    /// Adds `key`; when an equal key is present, returns its span instead.
    pub(super) fn insert(&mut self, key: SKey, span: (usize, usize), key_text: &str) -> Option<(usize, usize)> {
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
pub(super) struct Anchor {
    pub(super) start: usize,
    pub(super) end: usize,
    size: usize,
    kind: Kind,
}

/// A key as saphyr's loader holds it: the key, its span, and the position it reports a
/// duplicate at.
struct SKeyAt {
    pub(super) key: SKey,
    span: (usize, usize),
    mark: usize,
    alias: bool,
}

/// An open collection, as saphyr's loader sees it (for its duplicate-key check, its alias
/// budget and merge keys).
pub(super) struct SFrame {
    pub(super) map: bool,
    size: usize,
    anchor: usize,
    /// Log index of the start event when the collection is recorded (anchored, or a key).
    log_start: Option<usize>,
    key_role: bool,
    tagged: bool,
    pub(super) start: usize,
    items: usize,
    all_maps: bool,
    /// The key waiting for its value; `None` before a key (or after a `BadValue` key, which
    /// saphyr replaces by the next node).
    cur_key: Option<SKeyAt>,
    pub(super) keys: KeySet,
    /// Length of the loader's `key_text` when the collection started (its keys follow).
    text_start: usize,
}

/// The errors saphyr's loader (not its parser) reports, in characters.
pub(super) enum LoaderError {
    Duplicate {
        mark: usize,
        first: (usize, usize),
        name: Option<String>,
    },
    AliasBudget {
        mark: usize,
    },
}

pub(super) enum KeyData<'a> {
    Scalar(Scalar<'a>),
    /// A list or mapping.
    Complex,
}

/// A mapping key waiting for its value; `start`/`end` in characters.
pub(super) struct KeyInfo<'a> {
    data: KeyData<'a>,
    pub(super) start: usize,
    pub(super) end: usize,
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
    pub(super) next: Vec<u32>,
}

impl Members {
    pub(super) const LINEAR: usize = 16;

    fn hash(name: &str) -> u64 {
        // FNV-1a.
        name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    pub(super) fn contains(&self, name: &str) -> bool {
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

    pub(super) fn link(&mut self, i: usize) {
        let Some((k, _)) = self.list.get(i) else { return };
        let prev = self.heads.insert(Self::hash(k), to_u32(i)).unwrap_or(NONE);
        self.next.push(prev);
    }

    pub(super) fn push(&mut self, name: String, v: Value) {
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
pub(super) enum Bound<'a> {
    Insert(String, KeyRef),
    /// A merged member whose key is already present.
    Skip,
    /// The value of a `<<` key: merged when it is a mapping or a list of mappings.
    Merge(KeyInfo<'a>),
}

/// A mapping being converted, or a mapping merged (`<<`) into `owner`.
pub(super) struct MapFrame<'a> {
    owner: usize,
    explicit: bool,
    id: u32,
    members: Members,
    prev: u32,
    pub(super) s: usize,
    /// Depth of the members.
    depth: usize,
    alias: Option<usize>,
    pending: Option<KeyInfo<'a>>,
    bound: Option<Bound<'a>>,
    /// Log ranges of the `<<` values to merge at the end.
    merges: std::collections::VecDeque<(usize, usize)>,
    end_ci: usize,
}

pub(super) enum SkipKind {
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

pub(super) enum Frame<'a> {
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
pub(super) struct Cursor {
    pub(super) pos: usize,
    pub(super) end: usize,
    pub(super) first: usize,
    top: Option<(Span, Option<usize>)>,
    done: Option<usize>,
}

/// Builds the value and the index from saphyr-parser's events in one pass, with the results
/// of saphyr's loader (`MarkedYaml`) followed by the conversion: saphyr's checks (duplicate
/// keys, alias budget) run over the whole stream, the conversion over the current document.
/// Events inside anchored nodes (and `<<` values) are logged so that aliases and merges can
/// be replayed through the conversion.
pub(super) struct YamlLoad<'a> {
    pub(super) conv: YamlConv<'a>,
    pub(super) log: Vec<Spanned<'a>>,
    pub(super) anchors: Vec<Option<Anchor>>,
    pub(super) sframes: Vec<SFrame>,
    /// The text of the string keys saphyr's loader compares.
    pub(super) key_text: String,
    pub(super) srec: usize,
    pub(super) budget: usize,
    pub(super) loader_err: Option<LoaderError>,
    pub(super) frames: Vec<Frame<'a>>,
    pub(super) cursors: Vec<Cursor>,
    pub(super) crec: usize,
    pub(super) root: Option<Value>,
    pub(super) conv_err: Option<LoadError>,
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
    pub(super) fn event(&mut self, ev: Event<'a>, span: Span) {
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
    pub(super) fn key_start(&mut self, ev: Event<'a>, span: Span) -> Result<(), LoadError> {
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
    pub(super) fn bind(&mut self, fi: usize, k: KeyInfo<'a>, normal: bool) -> Result<Bound<'a>, LoadError> {
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
    pub(super) fn value_start(
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
    pub(super) fn complete(&mut self, v: Value, id: u32) -> Result<(), LoadError> {
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
pub(super) fn load_yaml_document(
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
