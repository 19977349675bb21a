//! YAML pre-scans: the flow-indentation relaxation, a conservative nesting bound and the
//! alias amplification estimate, all before any parsing.

use super::*;

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

/// Flow collections nest at most this deep in saphyr (its flow level is a `u8`).
pub(super) const SAPHYR_MAX_FLOW_DEPTH: usize = 255;
/// saphyr's fixed budget of nodes produced by alias expansion.
pub(super) const SAPHYR_ALIAS_BUDGET: usize = 100_000;
/// Most bytes of source text that alias expansion may copy (every alias replays the anchored
/// node; saphyr's budget counts nodes, not bytes).
const ALIAS_BYTES_BUDGET: u64 = 256 * 1024 * 1024;

/// What the line pre-scan learns about a YAML stream.
#[derive(Debug, Clone, Copy)]
pub(super) struct YamlScan {
    /// End of the first document (byte offset, at a line start).
    pub(super) doc_end: usize,
    /// Whether the first document has any content (not only comments, directives, markers).
    pub(super) has_content: bool,
    /// Upper bound of the column of any block collection that starts in the first document.
    pub(super) max_col: usize,
    /// Where `max_col` was reached.
    pub(super) max_col_at: usize,
}

impl YamlScan {
    /// Upper bound of the nesting depth: block collections have non-decreasing columns along
    /// any path and at most two share a column (a mapping and its indentless sequence), and
    /// flow collections nest at most 255 levels in saphyr.
    pub(super) fn depth_bound(&self) -> usize {
        self.max_col
            .saturating_add(1)
            .saturating_mul(2)
            .saturating_add(SAPHYR_MAX_FLOW_DEPTH + 45)
    }
}

pub(super) fn is_blank(c: u8) -> bool {
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
pub(super) fn scan_yaml(src: &str) -> YamlScan {
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
pub(super) fn alias_amplification(doc: &str) -> Option<usize> {
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
