//! YAML streams: a file of several documents (`---` between them), each parsed on its own with
//! positions mapped back into the whole file. [`super::document::Document`] reads only the first
//! document of a stream; OpenSLO files, Kubernetes manifests and Backstage catalogs are streams.

use std::sync::Arc;

use super::document::{Document, Format, Limits, LoadError, Location, TextMap};
use super::ArtifactProblem;

// ---------------------------------------------------------------------------------------------

/// One document of a YAML stream that parsed.
#[derive(Debug)]
pub struct StreamPart {
    /// 1-based number of the document in the stream (parts without content are not counted).
    pub number: usize,
    /// Byte offset of the part in the whole source; always the start of a line.
    pub offset: usize,
    /// The part alone; its positions are relative to `offset`.
    pub doc: Document,
}

/// A YAML (or JSON) file split into its documents. General purpose: the deployment manifests
/// use it too.
#[derive(Debug)]
pub struct YamlStream {
    /// The whole source text.
    pub source: Arc<str>,
    /// Line starts of the whole source: the same index as [`Document`]'s.
    text: TextMap,
    /// The documents that parsed, in order.
    pub parts: Vec<StreamPart>,
    /// The documents that did not parse (positions in the whole source).
    pub problems: Vec<ArtifactProblem>,
    /// How many documents with content the stream holds (parsed or not).
    pub documents: usize,
}

impl YamlStream {
    /// Splits `source` at document markers and parses every part. `name` is used in messages.
    pub fn parse(name: &str, source: &str, limits: &Limits) -> YamlStream {
        let mut s = YamlStream {
            source: Arc::from(source),
            text: TextMap::new(source),
            parts: Vec::new(),
            problems: Vec::new(),
            documents: 0,
        };
        let starts = if Format::detect(source) == Format::Json {
            vec![0]
        } else {
            split_points(source)
        };
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(source.len());
            let Some(text) = source.get(start..end) else { continue };
            match Document::parse(name, text, limits) {
                Ok(doc) => {
                    s.documents += 1;
                    s.parts.push(StreamPart {
                        number: s.documents,
                        offset: start,
                        doc,
                    });
                }
                Err(LoadError::Empty) => {}
                Err(e) => {
                    s.documents += 1;
                    let location = e.location().map(|l| s.location(start + l.offset, l.len));
                    let mut help = e.help();
                    if text.contains("{{") {
                        help.push_str(
                            "; `{{ ... }}` looks like a template (Helm, Kustomize, ...): commit the \
                             rendered manifests (e.g. the output of `helm template`)",
                        );
                    }
                    s.problems.push(ArtifactProblem {
                        message: format!("document {} of {name} does not parse: {e}", s.documents),
                        location: Some(location.unwrap_or_else(|| s.location(start, 0))),
                        pointer: None,
                        help,
                    });
                }
            }
        }
        s
    }

    /// Location of `len` bytes at byte `offset` of the whole source (clamped).
    pub fn location(&self, offset: usize, len: usize) -> Location {
        let b = self.source.as_bytes();
        let mut offset = offset.min(b.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        self.text.location(b, offset, len)
    }

    /// Location, in the whole source, of the node at `pointer` of part `part` (the nearest
    /// existing ancestor when the node does not exist). The span is clipped to the node's first
    /// line, so a finding about a whole mapping underlines its first line only.
    pub fn locate(&self, part: usize, pointer: &str) -> Location {
        match self.parts.get(part) {
            Some(p) => {
                let l = p.doc.locate(pointer);
                self.first_line(self.location(p.offset + l.offset, l.len))
            }
            None => self.location(0, 0),
        }
    }

    /// Like [`YamlStream::locate`], but the key of an object member when there is one (`service:`
    /// rather than its value), which reads better for "this field is wrong" findings. When the
    /// member does not exist, the key of its nearest existing ancestor (`spec:` for a missing
    /// `/spec/timeWindow`).
    pub fn locate_key_or_value(&self, part: usize, pointer: &str) -> Location {
        let Some(p) = self.parts.get(part) else {
            return self.location(0, 0);
        };
        let mut ptr = pointer;
        loop {
            if p.doc.locate_exact(ptr).is_some() {
                let l = p.doc.locate_key(ptr).unwrap_or_else(|| p.doc.locate(ptr));
                return self.first_line(self.location(p.offset + l.offset, l.len));
            }
            match ptr.rfind('/') {
                Some(i) => ptr = &ptr[..i],
                None => return self.locate(part, ""),
            }
        }
    }

    /// `loc` with its span cut at the end of its first line.
    fn first_line(&self, loc: Location) -> Location {
        let text = self.source.get(loc.offset..loc.offset + loc.len).unwrap_or("");
        match text.find(['\n', '\r']) {
            Some(i) => Location {
                len: text[..i].trim_end().len(),
                ..loc
            },
            None => loc,
        }
    }
}

/// Byte offsets where the documents of a YAML stream start: the start of the text, every line
/// that is a `---` marker, and the line after every `...` marker. Markers are recognised only at
/// the start of a line and when followed by a blank or the end of the line, as YAML requires.
fn split_points(source: &str) -> Vec<usize> {
    let b = source.as_bytes();
    let mut starts = vec![0];
    let mut ls = 0;
    while ls < b.len() {
        let le = b[ls..]
            .iter()
            .position(|&c| c == b'\n' || c == b'\r')
            .map_or(b.len(), |p| ls + p);
        let next = match b.get(le) {
            Some(b'\r') if b.get(le + 1) == Some(&b'\n') => le + 2,
            Some(_) => le + 1,
            None => b.len(),
        };
        let mut line = &b[ls..le];
        if ls == 0 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        let marker = |m: &[u8]| line.starts_with(m) && line.get(3).is_none_or(|&c| c == b' ' || c == b'\t');
        if marker(b"---") {
            if starts.last() != Some(&ls) {
                starts.push(ls);
            }
        } else if marker(b"...") && next < b.len() {
            starts.push(next);
        }
        ls = next;
    }
    starts
}
