//! Text positions: the line index, and character counts for saphyr's character indices.

use super::*;

/// log2 of the block size of the character-count checkpoints.
const CP_SHIFT: usize = 6;

/// Line starts, plus (for non-ASCII sources) the number of characters before every 64-byte
/// block, so that columns and saphyr's character indices convert in bounded time. The one line
/// index of the artifact layer: [`Document`] and [`super::stream::YamlStream`] use it. (The
/// manifest and rubric diagnostics have their own in `crate::diag::SourceFile`: the layer
/// below cannot use this one, and it works on `usize` offsets of small TOML files.)
#[derive(Debug, Clone)]
pub(in crate::artifact) struct TextMap {
    pub(super) line_starts: Vec<u32>,
    /// `checkpoints[k]` = characters in `source[..k << CP_SHIFT]`; `None` for ASCII sources.
    pub(super) checkpoints: Option<Vec<u32>>,
}

pub(super) fn is_char_start(b: u8) -> bool {
    (b as i8) >= -0x40
}

pub(super) fn count_char_starts(bytes: &[u8]) -> usize {
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

pub(super) fn to_u32(x: usize) -> u32 {
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
    pub(super) fn byte_of_char(&self, b: &[u8], ci: usize) -> usize {
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
pub(super) fn walk_to_char(b: &[u8], mut pos: usize, mut count: usize, ci: usize) -> usize {
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
pub(super) fn char_len_at(b: &[u8], off: usize) -> usize {
    let Some(&c) = b.get(off) else { return 0 };
    let n = match c {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    n.min(b.len() - off)
}
