//! The position index: every node of a document with its source span, found by JSON pointer.

use super::*;

pub(super) const NONE: u32 = u32::MAX;

/// One node of the document tree: where its value is, where its key is, and its children as a
/// first-child / next-sibling list (in document order).
#[derive(Debug, Clone, Copy)]
pub(super) struct Node {
    pub(super) start: u32,
    pub(super) len: u32,
    pub(super) key_start: u32,
    pub(super) key_len: u32,
    name_start: u32,
    name_len: u32,
    first_child: u32,
    next_sibling: u32,
    pub(super) array: bool,
}

/// The key of an object member, as stored with the member's node.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeyRef {
    pub(super) start: u32,
    pub(super) len: u32,
    pub(super) name_start: u32,
    pub(super) name_len: u32,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    pub(super) nodes: Vec<Node>,
    /// All member names, concatenated.
    pub(super) names: String,
    /// Lookup tables of wide objects and arrays, built on first use (see [`Index::child`]).
    pub(super) wide: WideChildren,
}

/// A parent with more children than this gets a lookup table instead of a sibling scan.
pub(super) const WIDE: usize = 24;

/// The children of wide nodes, by node id: an array's children in order, an object's sorted by
/// name (stable, so the first of duplicate names comes first, as in the sibling scan).
#[derive(Debug, Default)]
pub(super) struct WideChildren(pub(super) std::sync::Mutex<HashMap<u32, Arc<[u32]>>>);

impl Clone for WideChildren {
    fn clone(&self) -> Self {
        WideChildren::default()
    }
}

impl Index {
    pub(super) fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    pub(super) fn push(&mut self, start: usize, len: usize, key: Option<KeyRef>, array: bool) -> u32 {
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

    pub(super) fn set_len(&mut self, id: u32, len: usize) {
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.len = to_u32(len);
        }
    }

    pub(super) fn key(&mut self, name: &str, start: usize, len: usize) -> KeyRef {
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
    pub(super) fn link(&mut self, parent: u32, prev: &mut u32, child: u32) {
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

    pub(super) fn name(&self, n: &Node) -> Option<&str> {
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

    pub(super) fn child_named(&self, parent: u32, name: &str) -> Option<&Node> {
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
    pub(super) fn same_as(&self, other: &Index) -> bool {
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
    pub(super) fn resolve(&self, pointer: &str) -> (u32, bool) {
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
