//! JSON: a small strict parser that builds the value and the position index in one pass.

use super::*;

pub(super) fn load_json(src: &str, text: &TextMap, limits: &Limits) -> Result<(Value, Index), LoadError> {
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
    pub(super) src: &'a str,
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
    pub(super) text: &'a TextMap,
    pub(super) idx: Index,
    pub(super) nodes: usize,
    pub(super) limits: &'a Limits,
    /// Offsets of the `{` / `[` not closed yet (for end-of-file messages).
    open: Vec<usize>,
    pub(super) value: Value,
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

    pub(super) fn loc(&self, off: usize, len: usize) -> Location {
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

    pub(super) fn count(&mut self) -> Result<(), LoadError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(LoadError::TooManyNodes {
                limit: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    /// Parses one value; `depth` is the nesting depth of the enclosing container.
    pub(super) fn value(&mut self, depth: usize, key: Option<KeyRef>) -> Result<(Value, u32), LoadError> {
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

    pub(super) fn array(&mut self, depth: usize, key: Option<KeyRef>) -> Result<(Value, u32), LoadError> {
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
