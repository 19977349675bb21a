//! A fast source of saphyr-parser events for the common block subset of YAML.
//!
//! [`FastEvents`] yields exactly the `(Event, Span)` items that
//! `saphyr_parser::Parser::new_from_str(doc)` yields for the first document of `doc`, as long
//! as the text stays inside a subset that real OpenAPI and AsyncAPI documents use:
//!
//! - block mappings and block sequences, nested, including compact `- key: value` entries,
//!   sequences written at the indentation of their key, and `- - a`;
//! - keys that are plain or quoted scalars on one line, followed by `:` and a space or the end
//!   of the line;
//! - values that are plain scalars on one line, single- or double-quoted scalars on one line
//!   (escapes decoded as saphyr decodes them), literal `|` and folded `>` block scalars (with
//!   chomping and indentation indicators), empty values, and one-line flow sequences of scalars
//!   (`[]`, `[a, "b"]`) or the empty flow mapping `{}`;
//! - full-line and trailing comments, blank lines, a leading `---`, a leading byte order mark,
//!   `\n` and `\r\n` line breaks, and any Unicode text (markers count characters).
//!
//! Anything else (anchors, aliases, tags, directives, explicit keys, multi-line plain or
//! quoted scalars, multi-line or nested flow collections, tabs outside comments and block
//! scalar content, lone `\r`, `...`, further documents, an empty document, and every syntax
//! error) makes the iterator yield `Err(Bail)`: the caller then discards what it received and
//! parses the document with saphyr instead. The bail rule: whenever the items yielded so far
//! could differ from saphyr's for any continuation of the text, the iterator bails before it
//! ends; so a run that ends without a bail produced saphyr's items exactly.
//!
//! The parser makes a single pass over the lines of the text, keeps the open block
//! collections on an explicit stack, borrows scalar text from the input wherever saphyr's value
//! equals the source slice, and queues the events of one line at a time.

use std::borrow::Cow;
use std::cell::Cell;

use saphyr_parser::{Event, Marker, ScalarStyle, Span};

/// The text left the supported subset (or is not valid YAML): use saphyr instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bail {
    /// What was not supported (for tests and debugging).
    pub(crate) reason: &'static str,
    /// The byte offset in the document where the fast path gave up.
    #[allow(dead_code)] // read by the tests and when debugging
    pub(crate) at: usize,
}

/// Whether the loader tries [`FastEvents`] first (tests turn it off to compare with saphyr).
#[cfg(not(test))]
pub(crate) fn enabled() -> bool {
    true
}

#[cfg(test)]
thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether the loader tries [`FastEvents`] first on this thread.
#[cfg(test)]
pub(crate) fn enabled() -> bool {
    ENABLED.with(Cell::get)
}

/// Turns the fast path on or off for this thread.
#[cfg(test)]
pub(crate) fn set_enabled(on: bool) {
    ENABLED.with(|e| e.set(on));
}

fn bail<T>(reason: &'static str, at: usize) -> Result<T, Bail> {
    Err(Bail { reason, at })
}

/// A position: character index, 1-based line, column in characters (saphyr's `Marker`, in
/// less room: documents over 4 GiB bail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct M {
    i: u32,
    l: u32,
    c: u32,
}

impl M {
    const ZERO: M = M { i: 0, l: 0, c: 0 };

    fn marker(self) -> Marker {
        Marker::new(self.i as usize, self.l as usize, self.c as usize)
    }
}

/// A queued event, converted to saphyr's `Event` when it is yielded.
enum Q<'a> {
    StreamStart,
    StreamEnd,
    DocStart(bool),
    DocEnd,
    Scalar(Cow<'a, str>, ScalarStyle),
    SeqStart,
    SeqEnd,
    MapStart,
    MapEnd,
}

impl<'a> Q<'a> {
    fn event(self) -> Event<'a> {
        match self {
            Q::StreamStart => Event::StreamStart,
            Q::StreamEnd => Event::StreamEnd,
            Q::DocStart(explicit) => Event::DocumentStart(explicit),
            Q::DocEnd => Event::DocumentEnd,
            Q::Scalar(v, style) => Event::Scalar(v, style, 0, None),
            Q::SeqStart => Event::SequenceStart(0, None),
            Q::SeqEnd => Event::SequenceEnd,
            Q::MapStart => Event::MappingStart(0, None),
            Q::MapEnd => Event::MappingEnd,
        }
    }
}

/// The sentinel [`FastEvents::ch`] returns at (and after) the end of a line.
const EOL: u8 = b'\n';
const MULTI_LINE_QUOTED: &str = "multi-line quoted scalar";
/// How deeply one-line flow collections may nest.
const MAX_FLOW_DEPTH: usize = 16;
/// How many `- ` one line may hold.
const MAX_LINE_NEST: usize = 64;
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Byte classes for the line scan: control characters (other than `\t` and `\n`) and
/// non-ASCII bytes.
const CTRL: u8 = 1;
const HIGH: u8 = 2;
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if i >= 0x80 {
            HIGH
        } else if i < 0x20 && i != b'\t' as usize && i != b'\n' as usize {
            CTRL
        } else {
            0
        };
        i += 1;
    }
    t
};

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The 8 bytes of `s` at `i`, if there are 8.
fn word(s: &[u8], i: usize) -> Option<u64> {
    let chunk: [u8; 8] = s.get(i..i + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// Whether one of the bytes of `x` is `c` (the bytes after the first match may be reported
/// wrongly, which only matters to callers that go on byte by byte).
fn has_byte(x: u64, c: u8) -> u64 {
    let v = x ^ (LO * u64::from(c));
    v.wrapping_sub(LO) & !v & HI
}

/// The offset of the first byte of `s` from `i` on that is one of `a`, `b`, `c`, or the
/// length of `s`.
fn find3(s: &[u8], mut i: usize, a: u8, b: u8, c: u8) -> usize {
    while let Some(x) = word(s, i) {
        if has_byte(x, a) | has_byte(x, b) | has_byte(x, c) != 0 {
            break;
        }
        i += 8;
    }
    while let Some(&ch) = s.get(i) {
        if ch == a || ch == b || ch == c {
            return i;
        }
        i += 1;
    }
    s.len()
}

/// The top bit of each byte of `x` that is not printable ASCII (a control character, a line
/// break, a non-ASCII byte).
fn unprintable(x: u64) -> u64 {
    // Adding 0x60 to a byte below 0x80 carries into its top bit exactly when it is >= 0x20
    // (and never into the next byte).
    let y = (x & !HI).wrapping_add(0x60 * LO);
    (x & HI) | (!y & HI)
}

fn count_chars(s: &[u8]) -> usize {
    s.iter().filter(|&&c| (c & 0xC0) != 0x80).count()
}

fn is_flow(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

fn is_blank_or_eol(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | EOL)
}

/// One line of the text: `start..end` is its content (without `\r\n` / `\n`).
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
    /// The character index of `start`, and of `next`.
    ci: usize,
    next_ci: usize,
    /// The 1-based line number.
    no: usize,
    ascii: bool,
    /// Whether a line break ends the line (otherwise it ends the text).
    brk: bool,
}

impl Line {
    /// The column (in characters) of the byte offset `off` of this line.
    fn col(&self, b: &[u8], off: usize) -> usize {
        if self.ascii {
            off.saturating_sub(self.start)
        } else {
            b.get(self.start..off).map_or(0, count_chars)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
    /// A sequence written at the indentation of its key (`key:\n- a`).
    Indentless,
}

/// An open block collection and the column of its keys or `-` indicators.
#[derive(Debug, Clone, Copy)]
struct Frame {
    kind: Kind,
    col: usize,
}

/// What the next content line completes.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// The root node (`explicit`: after `---`).
    Root {
        explicit: bool,
    },
    Nothing,
    /// A `key:` without a value on its line: the marker of the `:`.
    Value {
        at: M,
        col: usize,
    },
    /// A `-` without a value on its line: the marker after it.
    Entry {
        at: M,
        col: usize,
    },
}

enum Scanned<'a> {
    Key {
        val: Cow<'a, str>,
        style: ScalarStyle,
        span: (M, M),
        colon: usize,
    },
    /// `open`: a plain scalar that ends its line (no comment after it), which the next lines
    /// may continue.
    Scalar {
        val: Cow<'a, str>,
        style: ScalarStyle,
        span: (M, M),
        open: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// saphyr-parser's events for the block subset of YAML; see the module documentation.
pub(crate) struct FastEvents<'a> {
    src: &'a str,
    b: &'a [u8],
    /// The queued events of the current line, and the next one to yield.
    out: Vec<(Q<'a>, M, M)>,
    head: usize,
    frames: Vec<Frame>,
    pending: Pending,
    /// The start of the next line to read, its character index and line number.
    pos: usize,
    ci: usize,
    no: usize,
    /// Whether the text ends with a line that has no line break (saphyr then counts one more
    /// line at the end of the stream).
    unterminated: bool,
    /// The number of `- ` read on the current line.
    nest: usize,
    /// The length in characters of that line: saphyr closes the collections indented
    /// further than it at its end, before it counts the extra line.
    last_col: usize,
    /// The last line read (a plain scalar looks at the line after it for continuations).
    peeked: Cell<Option<Line>>,
    done: bool,
}

impl<'a> FastEvents<'a> {
    pub(crate) fn new(doc: &'a str) -> Self {
        let b = doc.as_bytes();
        // A byte order mark counts as a character but not as a column.
        let (pos, ci) = if b.starts_with(BOM) { (3, 1) } else { (0, 0) };
        let mut out = Vec::with_capacity(16);
        out.push((Q::StreamStart, M { i: 0, l: 1, c: 0 }, M { i: 0, l: 1, c: 0 }));
        FastEvents {
            src: doc,
            b,
            out,
            head: 0,
            frames: Vec::new(),
            pending: Pending::Root { explicit: false },
            pos,
            ci,
            no: 1,
            unterminated: false,
            nest: 0,
            last_col: 0,
            peeked: Cell::new(None),
            done: false,
        }
    }

    // ----- lines and positions -----

    /// The byte at `i` of line `ln`, or [`EOL`] at and after its end.
    #[inline]
    fn ch(&self, ln: &Line, i: usize) -> u8 {
        if i < ln.end {
            self.b.get(i).copied().unwrap_or(EOL)
        } else {
            EOL
        }
    }

    #[inline]
    fn mark(&self, ln: &Line, off: usize) -> M {
        let col = ln.col(self.b, off);
        // `new` bails on documents whose offsets do not fit in `u32`.
        M {
            i: (ln.ci + col) as u32,
            l: ln.no as u32,
            c: col as u32,
        }
    }

    #[inline]
    fn text(&self, from: usize, to: usize) -> Result<&'a str, Bail> {
        match self.src.get(from..to) {
            Some(s) => Ok(s),
            None => bail("not at a character boundary", from),
        }
    }

    /// Reads the line at the current position (without moving past it).
    fn peek_line(&self) -> Result<Line, Bail> {
        if let Some(ln) = self.peeked.get() {
            if ln.start == self.pos && self.pos < self.b.len() {
                return Ok(ln);
            }
        }
        let ln = self.scan_line()?;
        self.peeked.set(Some(ln));
        Ok(ln)
    }

    /// Reads the line at the current position.
    fn scan_line(&self) -> Result<Line, Bail> {
        let start = self.pos;
        let rest = self.b.get(start..).unwrap_or(&[]);
        let mut flags = 0u8;
        let mut n = rest.len();
        let mut k = 0;
        while let Some(x) = word(rest, k) {
            let bad = unprintable(x);
            if bad == 0 {
                k += 8;
                continue;
            }
            let j = k + (bad.trailing_zeros() / 8) as usize;
            let c = rest.get(j).copied().unwrap_or(b'\n');
            if c == b'\n' {
                n = j;
                break;
            }
            flags |= CLASS[usize::from(c)];
            k = j + 1;
        }
        if n == rest.len() {
            // Fewer than 8 bytes are left.
            for (j, &c) in rest.iter().enumerate().skip(k) {
                if c == b'\n' {
                    n = j;
                    break;
                }
                flags |= CLASS[usize::from(c)];
            }
        }
        let brk = n < rest.len();
        let body = rest.get(..n).unwrap_or(&[]);
        let mut end = start + n;
        if flags & CTRL != 0 {
            // Only a `\r` right before the `\n` is supported.
            let inner = match body.split_last() {
                Some((&b'\r', inner)) if brk => inner,
                _ => return bail("control character or lone carriage return", start),
            };
            if inner.iter().any(|&c| CLASS[c as usize] & CTRL != 0) {
                return bail("control character", start);
            }
            end -= 1;
        }
        let ascii = flags & HIGH == 0;
        if !ascii && body.windows(3).any(|w| w == BOM) {
            return bail("byte order mark inside the document", start);
        }
        let next = if brk { start + n + 1 } else { start + n };
        let chars = if ascii {
            next - start
        } else {
            self.b.get(start..next).map_or(0, count_chars)
        };
        Ok(Line {
            start,
            end,
            next,
            ci: self.ci,
            next_ci: self.ci + chars,
            no: self.no,
            ascii,
            brk,
        })
    }

    /// Moves past line `ln` (read by [`Self::peek_line`]).
    fn commit(&mut self, ln: &Line) {
        self.pos = ln.next;
        self.ci = ln.next_ci;
        if ln.brk {
            self.no = ln.no + 1;
        } else {
            self.unterminated = ln.next > ln.start;
            self.last_col = ln.next_ci - ln.ci;
        }
    }

    /// Skips spaces from `i`; a tab there is outside the subset.
    #[inline]
    fn skip_sp(&self, ln: &Line, mut i: usize) -> Result<usize, Bail> {
        let line = self.b.get(..ln.end).unwrap_or(&[]);
        while let Some(x) = word(line, i) {
            let v = x ^ (LO * u64::from(b' '));
            if v != 0 {
                i += (v.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        while let Some(&c) = line.get(i) {
            match c {
                b' ' => i += 1,
                b'\t' => return bail("tab", i),
                _ => break,
            }
        }
        Ok(i)
    }

    #[inline]
    fn is_entry(&self, ln: &Line, p: usize) -> bool {
        self.ch(ln, p) == b'-' && is_blank_or_eol(self.ch(ln, p + 1))
    }

    /// Whether `---` or `...` (followed by a blank or the end of the line) starts at `p`.
    fn doc_marker(&self, ln: &Line, p: usize) -> bool {
        let c = self.ch(ln, p);
        (c == b'-' || c == b'.')
            && self.ch(ln, p + 1) == c
            && self.ch(ln, p + 2) == c
            && is_blank_or_eol(self.ch(ln, p + 3))
    }

    // ----- events -----

    #[inline]
    fn push(&mut self, ev: Q<'a>, start: M, end: M) {
        self.out.push((ev, start, end));
    }

    fn push_empty(&mut self, at: M) {
        self.push(Q::Scalar(Cow::Borrowed(""), ScalarStyle::Plain), at, at);
    }

    fn push_end(&mut self, kind: Kind, at: M) {
        let ev = match kind {
            Kind::Map => Q::MapEnd,
            Kind::Seq | Kind::Indentless => Q::SeqEnd,
        };
        self.push(ev, at, at);
    }

    fn open(&mut self, kind: Kind, col: usize, at: M) {
        self.frames.push(Frame { kind, col });
        let ev = match kind {
            Kind::Map => Q::MapStart,
            Kind::Seq | Kind::Indentless => Q::SeqStart,
        };
        self.push(ev, at, at);
    }

    // ----- the line-level parser -----

    /// Handles the next content line (or the end of the text).
    fn step(&mut self) -> Result<(), Bail> {
        // Markers are kept in `u32`s (with room to spare).
        if self.b.len() >= (u32::MAX / 2) as usize {
            return bail("document too large", 0);
        }
        loop {
            if self.pos >= self.b.len() {
                return self.finish();
            }
            let ln = self.peek_line()?;
            self.commit(&ln);
            let p = self.skip_sp(&ln, ln.start)?;
            let c = self.ch(&ln, p);
            if c == EOL || c == b'#' {
                continue;
            }
            return self.content_line(&ln, p);
        }
    }

    fn finish(&mut self) -> Result<(), Bail> {
        let eof = M {
            i: self.ci as u32,
            l: (self.no + usize::from(self.unterminated)) as u32,
            c: 0,
        };
        match self.pending {
            Pending::Root { .. } => return bail("empty document", self.pos),
            Pending::Value { at, .. } | Pending::Entry { at, .. } => self.push_empty(at),
            Pending::Nothing => {}
        }
        self.pending = Pending::Nothing;
        if self.unterminated {
            let at = M {
                i: self.ci as u32,
                l: self.no as u32,
                c: self.last_col as u32,
            };
            while let Some(f) = self.frames.last().copied().filter(|f| f.col > self.last_col) {
                self.frames.pop();
                self.push_end(f.kind, at);
            }
        }
        while let Some(f) = self.frames.pop() {
            self.push_end(f.kind, eof);
        }
        self.push(Q::DocEnd, eof, eof);
        self.push(Q::StreamEnd, eof, eof);
        self.done = true;
        Ok(())
    }

    /// A line whose first non-space character (not a comment) is at `p`.
    fn content_line(&mut self, ln: &Line, p: usize) -> Result<(), Bail> {
        self.nest = 0;
        let c = ln.col(self.b, p);
        let at = self.mark(ln, p);
        if c == 0 && self.doc_marker(ln, p) {
            if let (Pending::Root { explicit: false }, b'-') = (self.pending, self.ch(ln, p)) {
                let e = p + 3;
                let r = self.skip_sp(ln, e)?;
                if self.ch(ln, r) != EOL && self.ch(ln, r) != b'#' {
                    return bail("content after ---", r);
                }
                let end = self.mark(ln, e);
                self.push(Q::DocStart(true), at, end);
                self.pending = Pending::Root { explicit: true };
                return Ok(());
            }
            return bail("document marker", p);
        }
        match self.pending {
            Pending::Root { explicit } => {
                if !explicit {
                    self.push(Q::DocStart(false), at, at);
                }
                self.pending = Pending::Nothing;
                return self.block_node(ln, p, false);
            }
            Pending::Value { at: vm, col } => {
                self.pending = Pending::Nothing;
                if c > col {
                    return self.block_node(ln, p, false);
                }
                if c == col && self.is_entry(ln, p) {
                    return self.indentless(ln, p);
                }
                self.push_empty(vm);
            }
            Pending::Entry { at: em, col } => {
                self.pending = Pending::Nothing;
                if c > col {
                    return self.block_node(ln, p, false);
                }
                self.push_empty(em);
            }
            Pending::Nothing => {}
        }
        let entry = self.is_entry(ln, p);
        while let Some(top) = self.frames.last().copied() {
            if top.col > c || (top.kind == Kind::Indentless && top.col == c && !entry) {
                self.frames.pop();
                self.push_end(top.kind, at);
            } else {
                break;
            }
        }
        match self.frames.last().copied() {
            None => bail("content after the root node", p),
            Some(top) if top.col != c => bail("indentation", p),
            Some(top) => match (top.kind, entry) {
                (Kind::Map, false) => self.key_line(ln, p),
                (Kind::Seq | Kind::Indentless, true) => self.entry(ln, p),
                _ => bail("unexpected entry or key", p),
            },
        }
    }

    /// A new node that starts at `p`: on a line of its own (`inline` false: a sequence or a
    /// mapping) or after `- ` (any node).
    fn block_node(&mut self, ln: &Line, p: usize, inline: bool) -> Result<(), Bail> {
        let col = ln.col(self.b, p);
        if self.is_entry(ln, p) {
            let at = self.mark(ln, p);
            self.open(Kind::Seq, col, at);
            return self.entry(ln, p);
        }
        if inline {
            match self.ch(ln, p) {
                b'|' | b'>' => return self.block_scalar(ln, p),
                b'[' | b'{' => return self.flow(ln, p),
                _ => {}
            }
        }
        match self.value_item(ln, p)? {
            Scanned::Key {
                val,
                style,
                span,
                colon,
            } => {
                self.open(Kind::Map, col, span.0);
                self.key(ln, val, style, span, colon)
            }
            Scanned::Scalar { .. } if !inline && self.frames.is_empty() => bail("scalar at the root", p),
            Scanned::Scalar { val, style, span, open } => self.scalar(val, style, span, open),
        }
    }

    /// A `- ` at `p` in the sequence on top of the stack.
    fn entry(&mut self, ln: &Line, p: usize) -> Result<(), Bail> {
        // `- - - a` recurses once per `- `: bound it.
        self.nest += 1;
        if self.nest > MAX_LINE_NEST {
            return bail("too many entries on one line", p);
        }
        let col = ln.col(self.b, p);
        let q = self.skip_sp(ln, p + 1)?;
        let c = self.ch(ln, q);
        if c == EOL || c == b'#' {
            self.pending = Pending::Entry {
                at: self.mark(ln, ln.end),
                col,
            };
            return Ok(());
        }
        self.block_node(ln, q, true)
    }

    /// The first `- ` of a sequence at the indentation of its key.
    fn indentless(&mut self, ln: &Line, p: usize) -> Result<(), Bail> {
        let col = ln.col(self.b, p);
        let q = self.skip_sp(ln, p + 1)?;
        let c = self.ch(ln, q);
        let at = if c == EOL || c == b'#' {
            self.mark(ln, ln.end)
        } else {
            self.mark(ln, q)
        };
        self.open(Kind::Indentless, col, at);
        self.entry(ln, p)
    }

    /// A key of the mapping on top of the stack, at `p`.
    fn key_line(&mut self, ln: &Line, p: usize) -> Result<(), Bail> {
        match self.scan_item(ln, p)? {
            Scanned::Key {
                val,
                style,
                span,
                colon,
            } => self.key(ln, val, style, span, colon),
            Scanned::Scalar { .. } => bail("expected a key", p),
        }
    }

    /// Emits a key and handles what follows its `:` (at `colon`).
    fn key(
        &mut self,
        ln: &Line,
        val: Cow<'a, str>,
        style: ScalarStyle,
        span: (M, M),
        colon: usize,
    ) -> Result<(), Bail> {
        let colon_mark = self.mark(ln, colon);
        // saphyr forgets a possible simple key after 1024 characters.
        if colon_mark.i as usize > span.0.i as usize + 1000 {
            return bail("long key", colon);
        }
        self.push(Q::Scalar(val, style), span.0, span.1);
        let v = self.skip_sp(ln, colon + 1)?;
        let c = self.ch(ln, v);
        if c == EOL || c == b'#' {
            let col = self.frames.last().map_or(0, |f| f.col);
            self.pending = Pending::Value { at: colon_mark, col };
            return Ok(());
        }
        if self.is_entry(ln, v) {
            return bail("entry after a key", v);
        }
        match c {
            b'|' | b'>' => self.block_scalar(ln, v),
            b'[' | b'{' => self.flow(ln, v),
            _ => match self.value_item(ln, v)? {
                Scanned::Scalar { val, style, span, open } => self.scalar(val, style, span, open),
                Scanned::Key { .. } => bail("mapping value in a value", v),
            },
        }
    }

    // ----- scalars -----

    /// [`Self::scan_item`] where a quoted scalar may go on over several lines (a value).
    fn value_item(&mut self, ln: &Line, p: usize) -> Result<Scanned<'a>, Bail> {
        if !matches!(self.ch(ln, p), b'"' | b'\'') {
            return self.scan_item(ln, p);
        }
        match self.scan_item(ln, p) {
            Err(Bail {
                reason: MULTI_LINE_QUOTED,
                ..
            }) => self.quoted_multi(ln, p),
            r => r,
        }
    }

    /// A quoted scalar that starts at `p` of `first` and ends on a later line; a port of
    /// saphyr's `scan_flow_scalar` (folding, escaped line breaks). Its lines must be indented
    /// further than the innermost block collection.
    fn quoted_multi(&mut self, first: &Line, p: usize) -> Result<Scanned<'a>, Bail> {
        let Some(top) = self.frames.last().map(|f| f.col) else {
            return bail("quoted scalar at the root", p);
        };
        let single = self.ch(first, p) == b'\'';
        let style = if single {
            ScalarStyle::SingleQuoted
        } else {
            ScalarStyle::DoubleQuoted
        };
        let start = self.mark(first, p);
        let mut ln = *first;
        let mut i = p + 1;
        let mut s = String::new();
        let mut ws = 0usize;
        let mut leading_break = false;
        let mut trailing = 0usize;
        loop {
            let mut leading_blanks = false;
            loop {
                match self.ch(&ln, i) {
                    b' ' | EOL => break,
                    b'\t' => return bail("tab", i),
                    b'\'' if single => {
                        if self.ch(&ln, i + 1) != b'\'' {
                            break;
                        }
                        s.push('\'');
                        i += 2;
                    }
                    b'"' if !single => break,
                    b'\\' if !single && self.ch(&ln, i + 1) == EOL => {
                        if !ln.brk {
                            return bail("escape at the end", i);
                        }
                        self.commit(&ln);
                        ln = self.peek_line()?;
                        i = ln.start;
                        leading_blanks = true;
                        break;
                    }
                    b'\\' if !single => {
                        let (e, len) = self.escape(&ln, i)?;
                        s.push(e);
                        i += len;
                    }
                    _ => {
                        let mut j = i + 1;
                        while j < ln.end && !matches!(self.b.get(j), Some(b' ' | b'\t' | b'\'' | b'"' | b'\\')) {
                            j += 1;
                        }
                        s.push_str(self.text(i, j)?);
                        i = j;
                    }
                }
            }
            let c = self.ch(&ln, i);
            if (single && c == b'\'') || (!single && c == b'"') {
                break;
            }
            loop {
                match self.ch(&ln, i) {
                    b' ' => {
                        if !leading_blanks {
                            ws += 1;
                        }
                        i += 1;
                    }
                    b'\t' => return bail("tab", i),
                    EOL => {
                        if !ln.brk {
                            return bail("unterminated quoted scalar", i);
                        }
                        if leading_blanks {
                            trailing += 1;
                        } else {
                            ws = 0;
                            leading_break = true;
                            leading_blanks = true;
                        }
                        self.commit(&ln);
                        ln = self.peek_line()?;
                        i = ln.start;
                    }
                    _ => break,
                }
            }
            if leading_blanks {
                if i - ln.start <= top {
                    return bail("indentation in a quoted scalar", i);
                }
                if leading_break && trailing == 0 {
                    s.push(' ');
                } else {
                    push_breaks(&mut s, trailing);
                }
                trailing = 0;
                leading_break = false;
            } else {
                for _ in 0..ws {
                    s.push(' ');
                }
                ws = 0;
            }
        }
        let close = i + 1;
        let r = self.skip_sp(&ln, close)?;
        let end = match self.ch(&ln, r) {
            EOL => r,
            b'#' if r > close => ln.end,
            _ => return bail("content after a multi-line quoted scalar", r),
        };
        let end = self.mark(&ln, end);
        self.commit(&ln);
        Ok(Scanned::Scalar {
            val: Cow::Owned(s),
            style,
            span: (start, end),
            open: false,
        })
    }

    /// Emits a scalar value; an `open` plain scalar takes the continuation lines that follow.
    fn scalar(&mut self, val: Cow<'a, str>, style: ScalarStyle, span: (M, M), open: bool) -> Result<(), Bail> {
        let (val, span) = if open { self.plain_tail(val, span)? } else { (val, span) };
        self.push(Q::Scalar(val, style), span.0, span.1);
        Ok(())
    }

    /// The lines that continue a plain scalar (indented further than the innermost block
    /// collection), folded into its value as saphyr folds them.
    fn plain_tail(&mut self, val: Cow<'a, str>, span: (M, M)) -> Result<(Cow<'a, str>, (M, M)), Bail> {
        let Some(top) = self.frames.last().map(|f| f.col) else {
            return bail("plain scalar at the root", self.pos);
        };
        let mut text: Option<String> = None;
        let mut end = span.1;
        loop {
            let saved = (self.pos, self.ci, self.no, self.unterminated);
            let mut breaks = 0usize;
            let found = loop {
                if self.pos >= self.b.len() {
                    break None;
                }
                let ln = self.peek_line()?;
                let k = self.skip_sp(&ln, ln.start)?;
                if k < ln.end {
                    break Some((ln, k));
                }
                if !ln.brk {
                    break None;
                }
                breaks += 1;
                self.commit(&ln);
            };
            let cont = found.filter(|(ln, k)| k - ln.start > top && self.ch(ln, *k) != b'#');
            let Some((ln, k)) = cont else {
                (self.pos, self.ci, self.no, self.unterminated) = saved;
                break;
            };
            let (last, comment) = self.plain_line(&ln, k)?;
            let s = text.get_or_insert_with(|| val.to_string());
            if breaks == 0 {
                s.push(' ');
            } else {
                push_breaks(s, breaks);
            }
            s.push_str(self.text(k, last)?);
            end = self.mark(&ln, last);
            self.commit(&ln);
            if comment {
                break;
            }
        }
        let val = match text {
            Some(s) => Cow::Owned(s),
            None => val,
        };
        Ok((val, (span.0, end)))
    }

    /// A continuation line of a plain scalar from `p`: the end of its text and whether a
    /// comment follows it.
    fn plain_line(&self, ln: &Line, p: usize) -> Result<(usize, bool), Bail> {
        let line = self.b.get(..ln.end).unwrap_or(&[]);
        let mut i = p;
        let mut last = p;
        loop {
            let j = find3(line, i, b' ', b':', b'\t');
            if j > i {
                i = j;
                last = j;
            }
            match self.ch(ln, i) {
                EOL => return Ok((last, false)),
                b' ' => {
                    let j = self.skip_sp(ln, i)?;
                    match self.ch(ln, j) {
                        EOL => return Ok((last, false)),
                        b'#' => return Ok((last, true)),
                        _ => i = j,
                    }
                }
                b'\t' => return bail("tab", i),
                b':' if is_blank_or_eol(self.ch(ln, i + 1)) => return bail("mapping value in a multi-line scalar", i),
                _ => {
                    i += 1;
                    last = i;
                }
            }
        }
    }

    /// A plain or quoted scalar at `p` (block context): a key if `:` and a blank follow it.
    fn scan_item(&self, ln: &Line, p: usize) -> Result<Scanned<'a>, Bail> {
        let c = self.ch(ln, p);
        if c == b'"' || c == b'\'' {
            let style = if c == b'"' {
                ScalarStyle::DoubleQuoted
            } else {
                ScalarStyle::SingleQuoted
            };
            let (val, close) = self.quoted(ln, p)?;
            let r = self.skip_sp(ln, close)?;
            let start = self.mark(ln, p);
            return match self.ch(ln, r) {
                b':' if is_blank_or_eol(self.ch(ln, r + 1)) => Ok(Scanned::Key {
                    val,
                    style,
                    span: (start, self.mark(ln, r)),
                    colon: r,
                }),
                EOL => Ok(Scanned::Scalar {
                    val,
                    style,
                    span: (start, self.mark(ln, r)),
                    open: false,
                }),
                b'#' if r > close => Ok(Scanned::Scalar {
                    val,
                    style,
                    span: (start, self.mark(ln, ln.end)),
                    open: false,
                }),
                _ => bail("content after a quoted scalar", r),
            };
        }
        let n = self.ch(ln, p + 1);
        let ok = match c {
            b'-' | b'?' | b':' => !is_blank_or_eol(n),
            b' ' | b'\t' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@'
            | b'`' | EOL => false,
            _ => true,
        };
        if !ok {
            return bail("indicator", p);
        }
        self.plain(ln, p)
    }

    /// A plain scalar on one line at `p` (block context).
    fn plain(&self, ln: &Line, p: usize) -> Result<Scanned<'a>, Bail> {
        let line = self.b.get(..ln.end).unwrap_or(&[]);
        let mut i = p;
        let mut last = p;
        let mut open = true;
        let colon = loop {
            let j = find3(line, i, b' ', b':', b'\t');
            if j > i {
                i = j;
                last = j;
            }
            match self.ch(ln, i) {
                EOL => break None,
                b' ' => {
                    let j = self.skip_sp(ln, i)?;
                    let c = self.ch(ln, j);
                    if c == EOL || c == b'#' {
                        open = c == EOL;
                        break None;
                    }
                    i = j;
                }
                b'\t' => return bail("tab", i),
                b':' if is_blank_or_eol(self.ch(ln, i + 1)) => break Some(i),
                _ => {
                    i += 1;
                    last = i;
                }
            }
        };
        let val = Cow::Borrowed(self.text(p, last)?);
        let span = (self.mark(ln, p), self.mark(ln, last));
        let style = ScalarStyle::Plain;
        Ok(match colon {
            Some(colon) => Scanned::Key {
                val,
                style,
                span,
                colon,
            },
            None => Scanned::Scalar { val, style, span, open },
        })
    }

    /// A quoted scalar that starts at `p` and ends on its line: its value and the offset after
    /// the closing quote.
    fn quoted(&self, ln: &Line, p: usize) -> Result<(Cow<'a, str>, usize), Bail> {
        let single = self.ch(ln, p) == b'\'';
        let mut i = p + 1;
        let mut seg = i;
        let mut owned: Option<String> = None;
        let line = self.b.get(..ln.end).unwrap_or(&[]);
        let (q, esc) = if single { (b'\'', b'\'') } else { (b'"', b'\\') };
        loop {
            i = find3(line, i, q, esc, b'\t');
            let c = self.ch(ln, i);
            match c {
                EOL => return bail(MULTI_LINE_QUOTED, p),
                b'\t' => return bail("tab", i),
                b'\'' if single => {
                    if self.ch(ln, i + 1) != b'\'' {
                        break;
                    }
                    owned.get_or_insert_with(String::new).push_str(self.text(seg, i + 1)?);
                    i += 2;
                    seg = i;
                }
                b'"' if !single => break,
                b'\\' if !single => {
                    let (e, len) = self.escape(ln, i)?;
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(self.text(seg, i)?);
                    s.push(e);
                    i += len;
                    seg = i;
                }
                _ => i += 1,
            }
        }
        let val = match owned {
            None => Cow::Borrowed(self.text(p + 1, i)?),
            Some(mut s) => {
                s.push_str(self.text(seg, i)?);
                Cow::Owned(s)
            }
        };
        Ok((val, i + 1))
    }

    /// The escape sequence at `i` (a `\`) of a double-quoted scalar: the character and the
    /// length of the sequence.
    fn escape(&self, ln: &Line, i: usize) -> Result<(char, usize), Bail> {
        let simple = match self.ch(ln, i + 1) {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\x0d',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' => return self.hex_escape(ln, i, 2),
            b'u' => return self.hex_escape(ln, i, 4),
            b'U' => return self.hex_escape(ln, i, 8),
            EOL => return bail(MULTI_LINE_QUOTED, i),
            _ => return bail("escape", i),
        };
        Ok((simple, 2))
    }

    fn hex_escape(&self, ln: &Line, i: usize, digits: usize) -> Result<(char, usize), Bail> {
        let mut v: u32 = 0;
        for k in 0..digits {
            let d = match (self.ch(ln, i + 2 + k) as char).to_digit(16) {
                Some(d) => d,
                None => return bail("hex escape", i),
            };
            v = (v << 4) | d;
        }
        match char::from_u32(v) {
            Some(c) => Ok((c, 2 + digits)),
            None => bail("escape code", i),
        }
    }

    /// A literal or folded block scalar whose header (`|` or `>`) is at `h`; a port of
    /// saphyr's `scan_block_scalar` over lines.
    fn block_scalar(&mut self, ln: &Line, h: usize) -> Result<(), Bail> {
        let literal = self.ch(ln, h) == b'|';
        let style = if literal {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        let Some(top) = self.frames.last().map(|f| f.col) else {
            return bail("block scalar at the root", h);
        };
        let (chomp, incr, i) = self.block_header(ln, h)?;
        let r = self.skip_sp(ln, i)?;
        match self.ch(ln, r) {
            EOL => {}
            b'#' if r > i => {}
            _ => return bail("content after a block scalar header", r),
        }
        let header = self.mark(ln, h);
        if !ln.brk {
            let end = self.mark(ln, ln.end);
            self.push(Q::Scalar(Cow::Borrowed(""), style), header, end);
            return Ok(());
        }
        let mut cur = self.peek_line()?;
        if self.ch(&cur, cur.start) == b'\t' {
            return bail("tab", cur.start);
        }
        let mut trailing = 0usize;
        let (indent, mut k) = if incr > 0 {
            let indent = top + incr;
            let k = self.block_indent(&mut cur, indent, &mut trailing)?;
            (indent, k)
        } else {
            let mut max = 0;
            let k = loop {
                let k = self.spaces(&cur, cur.start, usize::MAX);
                max = max.max(k - cur.start);
                if k < cur.end || !cur.brk {
                    break k;
                }
                trailing += 1;
                self.commit(&cur);
                cur = self.peek_line()?;
            };
            (max.max(top + 1), k)
        };
        let at_eof = |ln: &Line, k: usize| k >= ln.end && !ln.brk;
        if at_eof(&cur, k) {
            let mark = self.mark(&cur, k);
            let text = match chomp {
                Chomp::Strip | Chomp::Clip => String::new(),
                Chomp::Keep if trailing == 0 && cur.no > header.l as usize && mark.c > 0 => "\n".to_string(),
                Chomp::Keep => "\n".repeat(trailing),
            };
            self.commit(&cur);
            self.push(Q::Scalar(Cow::Owned(text), style), header, mark);
            return Ok(());
        }
        let mut col = k - cur.start;
        if col < indent && col > top {
            return bail("wrongly indented line in a block scalar", k);
        }
        let start = self.mark(&cur, k);
        let mut s = String::new();
        let mut leading_break = false;
        let mut leading_blank = false;
        while col == indent && k < cur.end {
            let trailing_blank = matches!(self.ch(&cur, k), b' ' | b'\t');
            if !literal && leading_break && !leading_blank && !trailing_blank {
                if trailing == 0 {
                    s.push(' ');
                } else {
                    push_breaks(&mut s, trailing);
                }
            } else {
                if leading_break {
                    s.push('\n');
                }
                push_breaks(&mut s, trailing);
            }
            leading_break = false;
            trailing = 0;
            leading_blank = trailing_blank;
            s.push_str(self.text(k, cur.end)?);
            if !cur.brk {
                k = cur.end;
                col = cur.col(self.b, k);
                break;
            }
            leading_break = true;
            self.commit(&cur);
            cur = self.peek_line()?;
            k = self.block_indent(&mut cur, indent, &mut trailing)?;
            col = k - cur.start;
        }
        let eof = at_eof(&cur, k);
        if chomp != Chomp::Strip {
            if leading_break {
                s.push('\n');
            }
            if eof && col >= indent.max(1) {
                s.push('\n');
            }
        }
        if chomp == Chomp::Keep {
            push_breaks(&mut s, trailing);
        }
        let end = self.mark(&cur, k);
        if eof {
            self.commit(&cur);
        }
        self.push(Q::Scalar(Cow::Owned(s), style), start, end);
        Ok(())
    }

    /// The chomping and indentation indicators after `h`, and the offset after them.
    fn block_header(&self, ln: &Line, h: usize) -> Result<(Chomp, usize, usize), Bail> {
        let chomp_of = |c: u8| match c {
            b'+' => Some(Chomp::Keep),
            b'-' => Some(Chomp::Strip),
            _ => None,
        };
        let digit_of = |c: u8| match c {
            b'1'..=b'9' => Some(usize::from(c - b'0')),
            _ => None,
        };
        let mut i = h + 1;
        let mut chomp = Chomp::Clip;
        let mut incr = 0;
        let c = self.ch(ln, i);
        if c == b'0' {
            return bail("indentation indicator 0", i);
        }
        if let Some(ch) = chomp_of(c) {
            chomp = ch;
            i += 1;
            if self.ch(ln, i) == b'0' {
                return bail("indentation indicator 0", i);
            }
            if let Some(d) = digit_of(self.ch(ln, i)) {
                incr = d;
                i += 1;
            }
        } else if let Some(d) = digit_of(c) {
            incr = d;
            i += 1;
            if let Some(ch) = chomp_of(self.ch(ln, i)) {
                chomp = ch;
                i += 1;
            }
        }
        Ok((chomp, incr, i))
    }

    /// Skips up to `max` spaces from `i`.
    fn spaces(&self, ln: &Line, mut i: usize, max: usize) -> usize {
        let limit = ln.end.min(ln.start.saturating_add(max));
        while i < limit && self.b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    }

    /// saphyr's `skip_block_scalar_indent`: skips the indentation of the block scalar's lines
    /// and the empty lines (counted in `trailing`); returns the offset reached in `cur`.
    fn block_indent(&mut self, cur: &mut Line, indent: usize, trailing: &mut usize) -> Result<usize, Bail> {
        loop {
            let k = self.spaces(cur, cur.start, indent);
            if k < cur.end || !cur.brk {
                return Ok(k);
            }
            *trailing += 1;
            self.commit(cur);
            *cur = self.peek_line()?;
        }
    }

    // ----- flow collections on one line -----

    /// A flow collection on one line at `p` (block context): it must end the line.
    fn flow(&mut self, ln: &Line, p: usize) -> Result<(), Bail> {
        let r = self.flow_node(ln, p, 0)?;
        if self.ch(ln, r) != EOL {
            return bail("content after a flow collection", r);
        }
        Ok(())
    }

    /// A node inside a flow collection at `i`; returns the offset after it and the spaces
    /// that follow.
    fn flow_node(&mut self, ln: &Line, i: usize, depth: usize) -> Result<usize, Bail> {
        if depth > MAX_FLOW_DEPTH {
            return bail("deep flow collection", i);
        }
        match self.ch(ln, i) {
            b'[' => self.flow_seq(ln, i, depth + 1),
            b'{' => self.flow_map(ln, i, depth + 1),
            b'"' | b'\'' => self.flow_quoted(ln, i),
            _ => self.flow_plain(ln, i, false),
        }
    }

    fn flow_quoted(&mut self, ln: &Line, i: usize) -> Result<usize, Bail> {
        let style = if self.ch(ln, i) == b'"' {
            ScalarStyle::DoubleQuoted
        } else {
            ScalarStyle::SingleQuoted
        };
        let (val, close) = self.quoted(ln, i)?;
        let r = self.skip_sp(ln, close)?;
        let (s, e) = (self.mark(ln, i), self.mark(ln, r));
        self.push(Q::Scalar(val, style), s, e);
        Ok(r)
    }

    /// `[a, 'b', "c"]` at `p`.
    fn flow_seq(&mut self, ln: &Line, p: usize, depth: usize) -> Result<usize, Bail> {
        let mut i = self.skip_sp(ln, p + 1)?;
        let (open, after) = (self.mark(ln, p), self.mark(ln, i));
        self.push(Q::SeqStart, open, after);
        loop {
            if self.ch(ln, i) == b']' {
                return self.flow_close(ln, i, Q::SeqEnd);
            }
            i = self.flow_node(ln, i, depth)?;
            match self.ch(ln, i) {
                b',' => i = self.skip_sp(ln, i + 1)?,
                b']' => {}
                _ => return bail("flow sequence", i),
            }
        }
    }

    /// `{a: b, "c": d}` at `p`.
    fn flow_map(&mut self, ln: &Line, p: usize, depth: usize) -> Result<usize, Bail> {
        let mut i = self.skip_sp(ln, p + 1)?;
        let (open, after) = (self.mark(ln, p), self.mark(ln, i));
        self.push(Q::MapStart, open, after);
        loop {
            let colon = match self.ch(ln, i) {
                b'}' => return self.flow_close(ln, i, Q::MapEnd),
                b'"' | b'\'' => self.flow_quoted(ln, i)?,
                b'[' | b'{' => return bail("complex key", i),
                _ => {
                    let c = self.flow_plain(ln, i, true)?;
                    if self.ch(ln, c + 1) != b' ' {
                        return bail("flow key", c);
                    }
                    c
                }
            };
            if self.ch(ln, colon) != b':' {
                return bail("flow key without value", colon);
            }
            let v = self.skip_sp(ln, colon + 1)?;
            if matches!(self.ch(ln, v), b',' | b'}' | EOL) {
                return bail("empty flow value", v);
            }
            i = self.flow_node(ln, v, depth)?;
            match self.ch(ln, i) {
                b',' => {
                    i = self.skip_sp(ln, i + 1)?;
                    // saphyr gives the mapping end the span of a trailing `,`.
                    if self.ch(ln, i) == b'}' {
                        return bail("trailing comma in a flow mapping", i);
                    }
                }
                b'}' => {}
                _ => return bail("flow mapping", i),
            }
        }
    }

    /// A plain scalar in a flow collection at `p`; returns the offset of the next token. In a
    /// key (`key`), a `:` followed by a blank or a flow indicator ends it.
    fn flow_plain(&mut self, ln: &Line, p: usize, key: bool) -> Result<usize, Bail> {
        let c = self.ch(ln, p);
        let n = self.ch(ln, p + 1);
        let ok = match c {
            b'-' => !is_blank_or_eol(n) && !is_flow(n),
            b' ' | b'\t' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@'
            | b'`' | b'?' | b':' | b'\'' | b'"' | EOL => false,
            _ => true,
        };
        if !ok {
            return bail("flow indicator", p);
        }
        let mut i = p;
        let mut last = p;
        let next = loop {
            let c = self.ch(ln, i);
            match c {
                EOL => return bail("multi-line flow", i),
                b'\t' => return bail("tab", i),
                b',' | b'[' | b']' | b'{' | b'}' => break i,
                b':' if is_blank_or_eol(self.ch(ln, i + 1)) || is_flow(self.ch(ln, i + 1)) => {
                    if key {
                        break i;
                    }
                    return bail("mapping value in a flow scalar", i);
                }
                b' ' => {
                    let j = self.skip_sp(ln, i)?;
                    let d = self.ch(ln, j);
                    if is_flow(d) {
                        break j;
                    }
                    if d == EOL || d == b'#' || (d == b'-' && is_flow(self.ch(ln, j + 1))) {
                        return bail("flow scalar", j);
                    }
                    i = j;
                }
                _ => {
                    i += 1;
                    last = i;
                }
            }
        };
        let val = Cow::Borrowed(self.text(p, last)?);
        let (s, e) = (self.mark(ln, p), self.mark(ln, last));
        self.push(Q::Scalar(val, ScalarStyle::Plain), s, e);
        Ok(next)
    }

    /// The closing `]` or `}` at `i`: its span takes the spaces (and a comment) after it.
    /// Returns the offset after them (the end of the line after a comment).
    fn flow_close(&mut self, ln: &Line, i: usize, ev: Q<'a>) -> Result<usize, Bail> {
        let e = i + 1;
        let mut r = self.skip_sp(ln, e)?;
        if self.ch(ln, r) == b'#' && r > e {
            r = ln.end;
        }
        let (s, t) = (self.mark(ln, i), self.mark(ln, r));
        self.push(ev, s, t);
        Ok(r)
    }
}

fn push_breaks(s: &mut String, n: usize) {
    for _ in 0..n {
        s.push('\n');
    }
}

impl<'a> Iterator for FastEvents<'a> {
    type Item = Result<(Event<'a>, Span), Bail>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(slot) = self.out.get_mut(self.head) {
                self.head += 1;
                let (q, s, e) = std::mem::replace(slot, (Q::StreamEnd, M::ZERO, M::ZERO));
                return Some(Ok((q.event(), Span::new(s.marker(), e.marker()))));
            }
            self.out.clear();
            self.head = 0;
            if self.done {
                return None;
            }
            if let Err(e) = self.step() {
                self.done = true;
                self.out.clear();
                return Some(Err(e));
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::document::{Document, Format, Limits};
    use saphyr_parser::Parser;
    use std::path::{Path, PathBuf};

    type Items<'a> = Vec<(Event<'a>, Span)>;

    fn saphyr(doc: &str) -> Option<Items<'_>> {
        Parser::new_from_str(doc).collect::<Result<Vec<_>, _>>().ok()
    }

    fn fast(doc: &str) -> Result<Items<'_>, Bail> {
        FastEvents::new(doc).collect()
    }

    fn show(items: &[(Event<'_>, Span)]) -> String {
        items
            .iter()
            .map(|(e, s)| {
                format!(
                    "{e:?} {}:{}:{}-{}:{}:{}\n",
                    s.start.index(),
                    s.start.line(),
                    s.start.col(),
                    s.end.index(),
                    s.end.line(),
                    s.end.col()
                )
            })
            .collect()
    }

    /// Compares the fast path with saphyr on `doc`: `true` when the fast path took it, `false`
    /// when it bailed. Panics when the fast path finished with other items than saphyr.
    fn check(name: &str, doc: &str) -> bool {
        match fast(doc) {
            Err(_) => false,
            Ok(f) => {
                let Some(s) = saphyr(doc) else {
                    panic!("{name}: the fast path took a document saphyr rejects:\n{doc:?}");
                };
                if f != s {
                    panic!(
                        "{name}: the events differ for\n{doc:?}\nsaphyr:\n{}fast:\n{}",
                        show(&s),
                        show(&f)
                    );
                }
                true
            }
        }
    }

    /// The text of the first document, as the loader cuts it (at a `---` line after content).
    fn first_document(src: &str) -> &str {
        let mut content = false;
        let mut start = 0;
        for line in src.split_inclusive(['\n', '\r']) {
            let body = line.trim_end_matches(['\n', '\r']);
            let body = if start == 0 {
                body.trim_start_matches('\u{feff}')
            } else {
                body
            };
            let marker =
                |m: &str| body.starts_with(m) && body.as_bytes().get(3).is_none_or(|c| matches!(c, b' ' | b'\t'));
            if marker("---") || marker("...") {
                if content {
                    return src.get(..start).unwrap_or(src);
                }
                let rest = body.get(3..).unwrap_or("").trim_start_matches([' ', '\t']);
                content |= marker("---") && !rest.is_empty() && !rest.starts_with('#');
            } else {
                let t = body.trim_start_matches([' ', '\t']);
                if !t.is_empty() && !t.starts_with('#') && (content || !t.starts_with('%')) {
                    content = true;
                }
            }
            start += line.len();
        }
        src
    }

    fn yaml_files() -> Vec<PathBuf> {
        let mut out = Vec::new();
        for name in ["openapi", "asyncapi"] {
            match crate::testing::corpus(name) {
                Some(root) => out.extend(crate::testing::files(&root, &["yaml", "yml"], 5_000_000)),
                None => println!("skipped: no {name} corpus"),
            }
        }
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        out.extend(crate::testing::files(&fixtures, &["yaml", "yml"], 5_000_000));
        out
    }

    const LARGE: [&str; 2] = [
        "openapi/oas30/vacuum-api.github.com.yaml",
        "openapi/large/openai-f85dbe22.yaml",
    ];

    fn large_files() -> Vec<PathBuf> {
        let Some(root) = crate::testing::corpus("openapi") else {
            return Vec::new();
        };
        LARGE
            .iter()
            .filter_map(|rel| root.parent().map(|p| p.join(rel)))
            .collect()
    }

    #[test]
    fn matches_saphyr_on_the_corpus_and_fixtures() {
        let (mut took, mut bailed) = (0, 0);
        for path in yaml_files() {
            let Ok(src) = std::fs::read_to_string(&path) else {
                continue;
            };
            if check(&path.display().to_string(), first_document(&src)) {
                took += 1;
            } else {
                bailed += 1;
            }
        }
        println!("fast path: {took} files, bailed: {bailed}");
        for path in large_files() {
            let Ok(src) = std::fs::read_to_string(&path) else {
                panic!("cannot read {}", path.display());
            };
            assert!(check("large", first_document(&src)), "{} bailed", path.display());
        }
    }

    /// Edge cases the fast path must take (and match saphyr on).
    const TAKEN: &[(&str, &str)] = &[
        ("indentation changes", "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n"),
        ("sequence at the key's indentation", "key:\n- a\n- b\nnext: 1\n"),
        ("nested indentless", "a:\n  b:\n  - c: 1\n    d: 2\n  - e\nf: 1\n"),
        (
            "trailing comments",
            "a: 1 # one\nb: 'x' # two\nc: \"y\"   # three\nd: [a] # four\ne: {} # five\n",
        ),
        ("# in scalars", "a: b#c\nd: 'e # f'\ng: \"h # i\"\n"),
        ("': ' in quotes", "a: 'b: c'\nd: \"e: f\"\n"),
        ("key: a:b", "key: a:b\n"),
        ("urls", "url: http://example.com:8080/path?x=1#frag\n"),
        ("- - a", "- - a\n  - b\n- - c\n"),
        ("compact mappings", "- key: v\n  k2: v2\n- k3: v3\n"),
        ("block scalar with blank lines", "a: |\n  x\n\n  y\nb: 1\n"),
        (
            "block scalar trailing blank lines",
            "a: |\n  x\n\n\nb: |+\n  y\n\n\nc: >-\n  z\n\n\nd: 1\n",
        ),
        ("more-indented folded lines", "a: >\n  x\n    more\n  y\n\n  z\nb: 1\n"),
        ("indentation indicators", "a: |2\n   x\n  y\nb: |1-\n  z\n"),
        ("block scalar at the end", "a: |\n  x"),
        ("block scalar and spaces at the end", "a: |\n  x\n  "),
        ("kept block scalar at the end", "a: |+\n  x\n\n"),
        ("empty block scalar", "a: |\nb: 1\n"),
        (
            "escapes",
            "a: \"q\\\"b\\\\c\\nd\\u00e9\\x41\\t\\/\\U0001F600\"\nb: 'it''s'\n",
        ),
        ("non-ASCII", "clé: välue\n日本: 語 # コメント\nz: [é, 'ü']\n"),
        (
            "CRLF",
            "a: 1\r\nb:\r\n  - c\r\n  - |\r\n    d\r\n\r\n  - \"e\r\n    f\"\r\n",
        ),
        ("byte order mark", "\u{feff}a: 1\nb: 2\n"),
        ("---", "# c\n--- # x\na: 1\n"),
        (
            "flow collections",
            "a: {b: 1, \"c\": [d, e], f: {g: h}}\ni: []\nj: ['x', \"y\" ]\n",
        ),
        ("empty values", "a:\nb:\n  c:\nd: 1\ne:\n"),
        ("empty entries", "- \n-\n- # c\n- a\n-"),
        ("multi-line plain", "a: one\n  two\n\n  three\nb:\n- x\n  y\n"),
        (
            "multi-line quoted",
            "a: \"one\n  two\\\n  three\n\n  four\"\nb: 'x\n  y'\n",
        ),
        (
            "scalar on its own line",
            "a:\n  plain value\n  continued\nb:\n  \"quoted\"\n",
        ),
        ("root sequence indented", "  - a\n  - b\n"),
        ("spaces before the colon", "key   : value\n'q' : v\n"),
        ("spaces at the end", "a:\n  b:\n    c: 1\n  "),
        ("comment at the end", "a:\n  b:\n    c: 1\n# end"),
    ];

    /// Edge cases the fast path may bail on (then saphyr decides).
    const EITHER: &[&str] = &[
        "",
        "# only a comment\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "? a\n: b\n",
        "%YAML 1.2\n---\na: 1\n",
        "a:\n\tb: 1\n",
        "a: [1,\n  2]\n",
        "a: 1\n...\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\rb: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "a: - b\n",
        "a: b: c\n",
        "a: 'x' y\n",
        "a: \"x\"#y\n",
        "[a, b]\n",
        "plain root\n",
        "a: |0\n  x\n",
        "a: |\n      \n  x\n",
        "a: \"\\q\"\n",
        "a: 'x\ny'\n",
        "- a\nb: 1\n",
        "a: 1\n- b\n",
        "a: {b}\n",
        "a: [b: c]\n",
        "a: x # c\n  y\n",
        "a: {b: 1, }\n",
        "a: [b, ]\n",
    ];

    #[test]
    fn edge_cases() {
        for (name, doc) in TAKEN {
            assert!(check(name, doc), "{name}: bailed: {:?}", fast(doc).err());
        }
        let long = format!("{}: v\n", "k".repeat(1100));
        let nested = format!("{}a\n", "- ".repeat(100));
        assert!(fast(&nested).is_err());
        for doc in EITHER.iter().copied().chain([long.as_str(), nested.as_str()]) {
            check("edge", doc);
        }
    }

    /// A few hundred bytes of OpenAPI text with most of the subset in it.
    const SNIPPETS: &[&str] = &[
        "openapi: 3.0.3\ninfo:\n  title: Pets API # trailing\n  description: |\n    Line one.\n\n    \
         Line *two* with: colon\n  version: \"1.0.0\"\nservers:\n- url: https://api.example.com/v1\n  \
         description: 'It''s prod'\npaths:\n  /pets/{id}:\n    get:\n      summary: Get a pet\n        \
         across lines\n      tags: [pets, \"public\"]\n      parameters:\n        - name: id\n          \
         in: path\n          required: true\n          schema: {type: string}\n      responses:\n        \
         '200':\n          description: >-\n            Folded\n            text\n\n        default: {}\n",
        "components:\n  schemas:\n    Pet:\n      type: object\n      required:\n      - id\n      - name\n      \
         properties:\n        id: {type: integer, format: int64}\n        name:\n          type: string\n          \
         example: \"Fido \\\"the\\\" dog\\u00e9\"\n        tags:\n          type: array\n          items: []\n      \
         x-note: >+\n        keep\n\n    Empty:\n    Café: ünïcödé value\n",
        "- - a\n  - b\n- key: v\n  k2: v2\n-\n  - c\n- \"multi\n  line\"\n- plain\n  continued\n\n  more\n- |2\n   \
         two\n  one\n- |-\n  strip\n- k: 'x'   # c\n  z: [a, 'b', \"c\" ]   # c2\n",
    ];

    #[test]
    fn mutations_match_or_bail() {
        let alphabet = b" :-#'\"|>\n\t[]{},&*!?";
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut took, mut bailed) = (0, 0);
        for snippet in SNIPPETS {
            for _ in 0..1500 {
                let mut b = snippet.as_bytes().to_vec();
                for _ in 0..1 + rnd() % 3 {
                    let i = (rnd() % b.len() as u64) as usize;
                    match rnd() % 3 {
                        0 => {
                            b.remove(i);
                        }
                        1 => b.insert(i, b[i]),
                        _ => b[i] = alphabet[(rnd() % alphabet.len() as u64) as usize],
                    }
                }
                let Ok(doc) = String::from_utf8(b) else { continue };
                if check("mutation", &doc) {
                    took += 1;
                } else {
                    bailed += 1;
                }
            }
            // Every prefix, also unterminated and with a byte order mark.
            for k in 0..=snippet.len() {
                let Some(p) = snippet.get(..k) else { continue };
                for doc in [p.to_string(), format!("\u{feff}{p}"), format!("{p}  ")] {
                    if check("prefix", &doc) {
                        took += 1;
                    } else {
                        bailed += 1;
                    }
                }
            }
        }
        println!("mutations: fast path {took}, bailed {bailed}");
        assert!(took > 1000, "the fast path took only {took} variants");
    }

    /// Random small documents built from pieces of lines and of flow collections.
    #[test]
    fn generated_documents_match_or_bail() {
        let flow = [
            "[", "]", "{", "}", ", ", ",", ": ", ":", " ", "a", "b c", "\"d\"", "'e'", "-", "-1", " #x", "?", "x:y",
            "\"k\":",
        ];
        let pieces = [
            "- ",
            "-",
            "k: ",
            "k:",
            "k2: ",
            "- k: ",
            "a",
            "b c",
            "'q'",
            "\"d\"",
            "\"e",
            "f\"",
            "'g",
            "|",
            ">-",
            "|+",
            "|2",
            "# c",
            " # c",
            "[a, b]",
            "{}",
            "{a: b}",
            "- - ",
            "",
            "  ",
            ": ",
            "x: y: z",
            "http://u",
            "é",
            "k4: v",
            "more",
            "\\\"",
            "\t",
            "---",
            "&a ",
            "*a",
            "? ",
            "'it''s'",
            "\"\\u00e9\\n\"",
            "- |",
            "k: >+",
            "  text",
            "{a: [b, {c: d}]}",
            "[ ]",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rnd = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut took, mut bailed) = (0, 0);
        for _ in 0..6000 {
            let mut doc = String::new();
            if rnd(2) == 0 {
                let mut f = String::new();
                for _ in 0..1 + rnd(10) {
                    f.push_str(flow[rnd(flow.len())]);
                }
                doc = if rnd(2) == 0 {
                    format!("k: {f}\nz: 1\n")
                } else {
                    format!("- {f}\n- z\n")
                };
            } else {
                for _ in 0..1 + rnd(8) {
                    doc.push_str(&" ".repeat([0, 1, 2, 4, 6][rnd(5)]));
                    for _ in 0..1 + rnd(2) {
                        doc.push_str(pieces[rnd(pieces.len())]);
                    }
                    doc.push_str(if rnd(10) == 0 { "\r\n" } else { "\n" });
                }
                if rnd(4) == 0 {
                    doc.pop();
                }
            }
            if check("generated", &doc) {
                took += 1;
            } else {
                bailed += 1;
            }
        }
        println!("generated: fast path {took}, bailed {bailed}");
        assert!(took > 1000, "the fast path took only {took} documents");
    }

    /// JSON pointers of a sample of the nodes of `v`.
    fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        if out.len() % 7 == 0 || at.matches('/').count() < 3 {
            out.push(at.clone());
        } else {
            out.push(String::new());
        }
        let esc = |k: &str| k.replace('~', "~0").replace('/', "~1");
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    pointers(x, format!("{at}/{}", esc(k)), out);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    pointers(x, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    fn parse(src: &str, fast_path: bool) -> Result<Document, String> {
        set_enabled(fast_path);
        let r = Document::parse_as(Format::Yaml, "t.yaml", src, &Limits::default());
        set_enabled(true);
        r.map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn loader_results_equal_with_and_without_the_fast_path() {
        let mut docs: Vec<String> = large_files()
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        docs.extend(TAKEN.iter().map(|(_, d)| d.to_string()));
        docs.extend(EITHER.iter().map(|d| d.to_string()));
        docs.push("a: 1\na: 2\n".into());
        docs.push("a:\n  b: 1\n  b: 2\n".into());
        for src in &docs {
            match (parse(src, true), parse(src, false)) {
                (Ok(f), Ok(s)) => {
                    assert_eq!(f.value, s.value);
                    let mut ps = Vec::new();
                    pointers(&s.value, String::new(), &mut ps);
                    for p in ps.iter().filter(|p| !p.is_empty()) {
                        assert_eq!(f.locate_exact(p), s.locate_exact(p), "{p}");
                        assert_eq!(f.locate_key(p), s.locate_key(p), "{p}");
                    }
                }
                (f, s) => assert_eq!(f.err(), s.err(), "{src:?}"),
            }
        }
    }

    /// Release-build timing: `cargo test --release --lib yaml_fast_timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn yaml_fast_timing() {
        for path in large_files() {
            let Ok(src) = std::fs::read_to_string(&path) else {
                continue;
            };
            let (mut slow, mut quick) = (f64::MAX, f64::MAX);
            let mut events = 0;
            for _ in 0..10 {
                let t = std::time::Instant::now();
                events = Parser::new_from_str(&src).count();
                slow = slow.min(t.elapsed().as_secs_f64());
                let t = std::time::Instant::now();
                let n = FastEvents::new(&src).take_while(Result::is_ok).count();
                quick = quick.min(t.elapsed().as_secs_f64());
                assert_eq!(n, events);
            }
            println!(
                "{}: {events} events, saphyr {:.1} ms, fast {:.1} ms ({:.1}x)",
                path.display(),
                slow * 1e3,
                quick * 1e3,
                slow / quick
            );
            let (mut off, mut on) = (f64::MAX, f64::MAX);
            for _ in 0..5 {
                let t = std::time::Instant::now();
                assert!(parse(&src, false).is_ok());
                off = off.min(t.elapsed().as_secs_f64());
                let t = std::time::Instant::now();
                assert!(parse(&src, true).is_ok());
                on = on.min(t.elapsed().as_secs_f64());
            }
            println!(
                "  Document::parse_as: saphyr events {:.1} ms, fast events {:.1} ms",
                off * 1e3,
                on * 1e3
            );
        }
    }
}
