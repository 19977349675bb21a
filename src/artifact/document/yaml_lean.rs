//! YAML: the lean conversion, for streams without anchors, aliases, tags, merge keys,
//! complex keys or duplicates.

use super::*;

/// [`resolve_scalar`] of an untagged scalar, without trying numbers, booleans and nulls on a
/// plain scalar that starts with a letter none of them can start with (most keys and words).
pub(super) fn lean_scalar(v: Cow<'_, str>, style: ScalarStyle) -> Option<Scalar<'_>> {
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
pub(super) struct NotLean;

/// How a lean conversion ended.
pub(super) enum Lean {
    Done(Value, Index),
    /// An event outside the lean case: the full loader is needed.
    Outside,
    /// The event source failed (the fast source gave up, or saphyr's parser found an error).
    SourceFailed,
}

/// An open collection of the lean conversion.
pub(super) enum LeanFrame {
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
pub(super) struct LeanLoad<'a> {
    pub(super) conv: YamlConv<'a>,
    pub(super) frames: Vec<LeanFrame>,
    pub(super) root: Option<Value>,
    pub(super) documents: usize,
    pub(super) ended: bool,
}

impl<'a> LeanLoad<'a> {
    pub(super) fn new(src: &'a str, text: &'a TextMap, limits: &'a Limits) -> LeanLoad<'a> {
        LeanLoad {
            conv: YamlConv::new(src, text, limits),
            frames: Vec::new(),
            root: None,
            documents: 0,
            ended: false,
        }
    }

    /// Converts the events of `events`.
    pub(super) fn convert<E>(mut self, events: impl Iterator<Item = Result<(Event<'a>, Span), E>>) -> Lean {
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
    pub(super) fn run<E>(self, events: impl Iterator<Item = Result<(Event<'a>, Span), E>>) -> Option<(Value, Index)> {
        match self.convert(events) {
            Lean::Done(v, idx) => Some((v, idx)),
            Lean::Outside | Lean::SourceFailed => None,
        }
    }

    pub(super) fn event(&mut self, ev: Event<'a>, span: Span) -> Result<(), NotLean> {
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
    pub(super) fn start(&mut self, span: Span) -> Result<usize, NotLean> {
        let s = self.conv.byte(span.start.index());
        let alias = self.conv.is_alias_at(s).then_some(s);
        self.conv.count(alias).map_err(|_| NotLean)?;
        Ok(s)
    }

    /// Binds the waiting key of the mapping on top (if any) to the value that starts now:
    /// the value's key in the index and the depth it is at.
    pub(super) fn bind(&mut self) -> Result<(Option<KeyRef>, usize), NotLean> {
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
    pub(super) fn complete(&mut self, v: Value, id: u32) -> Result<(), NotLean> {
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
