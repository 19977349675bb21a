//! JSON-pointer segments (RFC 6901): escaping and unescaping.

use super::*;

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
