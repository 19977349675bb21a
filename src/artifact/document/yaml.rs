//! YAML: loading (fast events, lean conversion, full conversion, in that order), scan errors
//! and the shared conversion helpers.

use super::*;

pub(super) fn load_yaml(name: &str, src: &str, text: &TextMap, limits: &Limits) -> Result<(Value, Index), LoadError> {
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
pub(super) fn convert_yaml(
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

pub(super) fn yaml_scan_error(name: &str, src: &str, text: &TextMap, limits: &Limits, e: &ScanError) -> LoadError {
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
pub(super) fn key_token_end(b: &[u8], start: usize) -> Option<usize> {
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
pub(super) struct YamlConv<'a> {
    pub(super) src: &'a str,
    pub(super) text: &'a TextMap,
    pub(super) idx: Index,
    pub(super) nodes: usize,
    pub(super) alias_nodes: usize,
    pub(super) limits: &'a Limits,
    /// Last converted position: (character index, byte offset).
    pub(super) cursor: (usize, usize),
}

impl<'a> YamlConv<'a> {
    pub(super) fn new(src: &'a str, text: &'a TextMap, limits: &'a Limits) -> YamlConv<'a> {
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

    pub(super) fn b(&self) -> &[u8] {
        self.src.as_bytes()
    }

    pub(super) fn loc(&self, s: usize, len: usize) -> Location {
        self.text.location(self.b(), s, len)
    }

    /// Byte offset of saphyr's character index `ci`. Positions are mostly visited in document
    /// order, so a cursor makes the conversion linear for non-ASCII sources.
    pub(super) fn byte(&mut self, ci: usize) -> usize {
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
    pub(super) fn end(&mut self, ci: usize, s: usize, collection: bool) -> usize {
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

    pub(super) fn is_alias_at(&self, s: usize) -> bool {
        self.b().get(s) == Some(&b'*')
    }

    pub(super) fn count(&mut self, alias: Option<usize>) -> Result<(), LoadError> {
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

    pub(super) fn internal(&self) -> LoadError {
        internal_error(self.text, self.b(), "YAML")
    }

    pub(super) fn bad_value(&self, s: usize, e: usize) -> LoadError {
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

    pub(super) fn key_name(&self, k: KeyData<'_>, ks: usize, ke: usize) -> Result<String, LoadError> {
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

    pub(super) fn too_deep(&self, s: usize) -> LoadError {
        LoadError::TooDeep {
            location: self.loc(s, 1),
            limit: self.limits.max_depth,
        }
    }

    pub(super) fn scalar(&self, sc: Scalar<'_>, s: usize, e: usize) -> Value {
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
