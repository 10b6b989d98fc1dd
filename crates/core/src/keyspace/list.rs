//! [`ListValue`]: a list as a deque of [`Pack`] nodes (Redis's quicklist). Pushing and popping
//! at either end is O(1); reaching an element by index walks the nodes from the nearer end.
//! Each node holds as many elements as `list-max-listpack-size` allows (by count, or by
//! encoded bytes: 8 KiB by default), so a small list is a single allocation.

use super::encodings::Encodings;
use super::pack::{Offset, Pack};
use std::collections::VecDeque;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListValue {
    nodes: VecDeque<Pack>,
    len: usize,
}

/// Whether `node` can take one more element of `len` bytes.
fn has_room(node: &Pack, len: usize, (entries_max, bytes_max): (usize, usize)) -> bool {
    node.len() < entries_max && node.bytes_len() + len + 4 <= bytes_max
}

impl ListValue {
    pub fn new() -> ListValue {
        ListValue::default()
    }

    pub fn from_elements<'a>(elements: impl IntoIterator<Item = &'a [u8]>, encodings: &Encodings) -> ListValue {
        let mut list = ListValue::new();
        for element in elements {
            list.push_back(element, encodings);
        }
        list
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Nodes in the list (OBJECT ENCODING, DEBUG).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Pack>() + self.nodes.iter().map(Pack::heap_bytes).sum::<usize>()
    }

    pub fn push_front(&mut self, element: &[u8], encodings: &Encodings) {
        let limits = encodings.list_node_limits();
        match self.nodes.front_mut() {
            Some(node) if has_room(node, element.len(), limits) => node.push_front(element),
            _ => self.push_node(0, Pack::from_elements([element])),
        }
        self.len += 1;
    }

    pub fn push_back(&mut self, element: &[u8], encodings: &Encodings) {
        let limits = encodings.list_node_limits();
        match self.nodes.back_mut() {
            Some(node) if has_room(node, element.len(), limits) => node.push_back(element),
            _ => self.push_node(self.nodes.len(), Pack::from_elements([element])),
        }
        self.len += 1;
    }

    /// Inserts a node at `at`. A list's first node gets a deque of exactly one slot: most lists
    /// are small and never need a second (the deque's default first allocation holds four).
    fn push_node(&mut self, at: usize, node: Pack) {
        if self.nodes.capacity() == 0 {
            self.nodes.reserve_exact(1);
        }
        self.nodes.insert(at, node);
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.front_mut()?;
        let element = node.pop_front().expect("nodes are never empty");
        if node.is_empty() {
            self.nodes.pop_front();
        }
        self.len -= 1;
        Some(element)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.back_mut()?;
        let element = node.pop_back().expect("nodes are never empty");
        if node.is_empty() {
            self.nodes.pop_back();
        }
        self.len -= 1;
        Some(element)
    }

    pub fn front(&self) -> Option<&[u8]> {
        self.nodes.front().and_then(Pack::first)
    }

    pub fn back(&self) -> Option<&[u8]> {
        self.nodes.back().and_then(Pack::last)
    }

    /// The node holding element `index` and the element's position in it, walking the nodes
    /// from the nearer end of the list (each node knows its length, so a step costs no
    /// decoding).
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        if index < self.len / 2 {
            let mut skipped = 0;
            for (at, node) in self.nodes.iter().enumerate() {
                if index < skipped + node.len() {
                    return Some((at, index - skipped));
                }
                skipped += node.len();
            }
        } else {
            let mut after = self.len;
            for (at, node) in self.nodes.iter().enumerate().rev() {
                let before = after - node.len();
                if index >= before {
                    return Some((at, index - before));
                }
                after = before;
            }
        }
        unreachable!("index below the length")
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let (node, position) = self.locate(index)?;
        let node = &self.nodes[node];
        Some(node.at(offset_in(node, position)).0)
    }

    /// Replaces element `index`; false if there is none. An element that would overfill its
    /// node goes where an insertion would put it (a node of its own, or a split).
    pub fn set(&mut self, index: usize, element: &[u8], encodings: &Encodings) -> bool {
        let Some((node_at, position)) = self.locate(index) else {
            return false;
        };
        let (_, bytes_max) = encodings.list_node_limits();
        let node = &mut self.nodes[node_at];
        let at = offset_in(node, position);
        let old_len = node.at(at).0.len();
        if node.len() == 1 || node.bytes_len() + element.len() <= bytes_max + old_len {
            node.replace_at(at, element);
        } else {
            self.remove(index);
            self.insert(index, element, encodings);
        }
        true
    }

    /// Inserts `element` so that it becomes element `index` (`index == len` appends).
    pub fn insert(&mut self, index: usize, element: &[u8], encodings: &Encodings) {
        assert!(index <= self.len, "insert within the list");
        if index == self.len {
            return self.push_back(element, encodings);
        }
        if index == 0 {
            return self.push_front(element, encodings);
        }
        let (node_at, position) = self.locate(index).expect("index inside");
        let limits = encodings.list_node_limits();
        let node = &mut self.nodes[node_at];
        self.len += 1;
        if has_room(node, element.len(), limits) {
            let at = offset_in(node, position);
            node.insert_at(at, element);
        } else if position == 0 {
            // Before a full node: at the end of the previous one if it has room.
            match self.nodes.get_mut(node_at - 1) {
                Some(previous) if has_room(previous, element.len(), limits) => previous.push_back(element),
                _ => self.nodes.insert(node_at, Pack::from_elements([element])),
            }
        } else {
            // Inside a full node: split it at the insertion point.
            let at = offset_in(node, position);
            let tail = node.split_off(at, position);
            let mut tail_at = node_at + 1;
            if has_room(node, element.len(), limits) {
                node.push_back(element);
            } else {
                self.nodes.insert(tail_at, Pack::from_elements([element]));
                tail_at += 1;
            }
            self.nodes.insert(tail_at, tail);
        }
    }

    /// Removes element `index`.
    pub fn remove(&mut self, index: usize) -> Option<Vec<u8>> {
        let (node_at, position) = self.locate(index)?;
        let node = &mut self.nodes[node_at];
        let at = offset_in(node, position);
        let element = node.at(at).0.to_vec();
        node.remove_at(at);
        if node.is_empty() {
            self.nodes.remove(node_at);
        }
        self.len -= 1;
        Some(element)
    }

    /// Every element, front to back (reversible).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.nodes.iter().flat_map(Pack::iter)
    }

    /// The index of the first element equal to `element`.
    pub fn position(&self, element: &[u8]) -> Option<usize> {
        self.iter().position(|candidate| candidate == element)
    }

    /// Elements `start..=stop` (indexes within the list), front to back: the walk starts at
    /// `start`'s node, and decodes only the elements it returns (and those before `start` in
    /// that node).
    pub fn range(&self, start: usize, stop: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let located = self.locate(start);
        let count = if located.is_some() { stop.min(self.len.saturating_sub(1)) + 1 - start.min(stop + 1) } else { 0 };
        let (node, position) = located.unwrap_or((self.nodes.len(), 0));
        self.nodes.range(node..).flat_map(Pack::iter).skip(position).take(count)
    }

    /// Keeps only elements `start..=stop` (indexes within the list); an empty range empties it.
    pub fn trim(&mut self, start: usize, stop: usize) {
        if start > stop || start >= self.len {
            *self = ListValue::new();
            return;
        }
        let stop = stop.min(self.len - 1);
        self.drop_back(self.len - 1 - stop);
        self.drop_front(start);
    }

    /// Removes the first `count` elements (at most all), whole nodes at a time where it can.
    pub fn drop_front(&mut self, count: usize) {
        let mut count = count.min(self.len);
        while count > 0 {
            let node = self.nodes.front_mut().expect("count within the list");
            if node.len() <= count {
                count -= node.len();
                self.len -= node.len();
                self.nodes.pop_front();
            } else {
                let end = offset_in(node, count);
                node.remove_range(0, end, count);
                self.len -= count;
                return;
            }
        }
    }

    /// Removes the last `count` elements (at most all), whole nodes at a time where it can.
    pub fn drop_back(&mut self, count: usize) {
        let mut count = count.min(self.len);
        while count > 0 {
            let node = self.nodes.back_mut().expect("count within the list");
            if node.len() <= count {
                count -= node.len();
                self.len -= node.len();
                self.nodes.pop_back();
            } else {
                let keep = node.len() - count;
                let start = offset_in(node, keep);
                let end = node.end();
                node.remove_range(start, end, count);
                self.len -= count;
                return;
            }
        }
    }

    /// Removes up to `count` elements equal to `element` (all when 0), the first ones, or the
    /// last ones when `from_back`; returns how many went. Only nodes holding a match are
    /// rewritten, each once; the others stay as they are.
    pub fn remove_matching(&mut self, element: &[u8], count: usize, from_back: bool) -> usize {
        let limit = if count == 0 { usize::MAX } else { count };
        let mut removed = 0;
        let nodes = self.nodes.len();
        for step in 0..nodes {
            if removed == limit {
                break;
            }
            let at = if from_back { nodes - 1 - step } else { step };
            let node = &self.nodes[at];
            let matches = node.iter().filter(|candidate| *candidate == element).count();
            if matches == 0 {
                continue;
            }
            let taken = matches.min(limit - removed);
            // The matches to drop, counted from the node's front: its last ones from the back.
            let first_dropped = if from_back { matches - taken } else { 0 };
            let mut seen = 0;
            let kept = Pack::from_elements(node.iter().filter(|candidate| {
                if *candidate != element {
                    return true;
                }
                seen += 1;
                !(first_dropped..first_dropped + taken).contains(&(seen - 1))
            }));
            self.nodes[at] = kept;
            removed += taken;
        }
        if removed > 0 {
            self.nodes.retain(|node| !node.is_empty());
            self.len -= removed;
        }
        removed
    }
}

/// The offset of the element at `position` in `node`, walking from the nearer end.
fn offset_in(node: &Pack, position: usize) -> Offset {
    let offset = if position <= node.len() / 2 {
        node.offset_of(position as isize)
    } else {
        node.offset_of(position as isize - node.len() as isize)
    };
    offset.expect("position inside the node")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn small_nodes() -> Encodings {
        Encodings { list_max_listpack_size: 3, ..Encodings::default() }
    }

    proptest! {
        #[test]
        fn behaves_like_a_deque(ops in prop::collection::vec((0u8..10, 0usize..40, 0u8..4), 0..300)) {
            let encodings = small_nodes();
            let mut list = ListValue::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for (op, index, value) in ops {
                let element = vec![b'a' + value; 1 + index % 5];
                prop_assert_eq!(list.position(&element), model.iter().position(|e| *e == element));
                match op {
                    0 => { list.push_back(&element, &encodings); model.push_back(element); }
                    1 => { list.push_front(&element, &encodings); model.push_front(element); }
                    2 => prop_assert_eq!(list.pop_front(), model.pop_front()),
                    3 => prop_assert_eq!(list.pop_back(), model.pop_back()),
                    4 => {
                        let at = index.min(model.len());
                        list.insert(at, &element, &encodings);
                        model.insert(at, element);
                    }
                    5 => prop_assert_eq!(list.remove(index), model.remove(index)),
                    7 => {
                        list.drop_front(index % 6);
                        model.drain(..(index % 6).min(model.len()));
                    }
                    8 => {
                        list.drop_back(index % 6);
                        model.truncate(model.len().saturating_sub(index % 6));
                    }
                    6 => {
                        let removed = list.remove_matching(&element, index % 3, value % 2 == 0);
                        let mut expected = 0;
                        let limit = if index % 3 == 0 { usize::MAX } else { index % 3 };
                        if value % 2 == 0 {
                            let mut i = model.len();
                            while i > 0 { i -= 1; if expected < limit && model[i] == element { model.remove(i); expected += 1; } }
                        } else {
                            let mut i = 0;
                            while i < model.len() { if expected < limit && model[i] == element { model.remove(i); expected += 1; } else { i += 1; } }
                        }
                        prop_assert_eq!(removed, expected);
                    }
                    _ => {
                        prop_assert_eq!(list.get(index), model.get(index).map(|e| &e[..]));
                        if index < model.len() {
                            let replacement = vec![b'S'; index % 7];
                            prop_assert!(list.set(index, &replacement, &encodings));
                            model[index] = replacement;
                        } else {
                            prop_assert!(!list.set(index, b"x", &encodings));
                        }
                    }
                }
                prop_assert_eq!(list.len(), model.len());
                prop_assert!(list.nodes.iter().all(|node| !node.is_empty() && node.len() <= 3));
            }
            prop_assert!(list.iter().eq(model.iter().map(|e| &e[..])));
            prop_assert!(list.iter().rev().eq(model.iter().rev().map(|e| &e[..])));
            if !model.is_empty() {
                let (start, stop) = (model.len() / 3, model.len() - 1);
                prop_assert!(list.range(start, stop + 10).eq(model.range(start..).map(|e| &e[..])));
                let middle = (model.len() / 4, model.len() / 2);
                prop_assert!(list.range(middle.0, middle.1).eq(model.range(middle.0..=middle.1).map(|e| &e[..])));
                list.trim(start, stop);
                prop_assert!(list.iter().eq(model.range(start..).map(|e| &e[..])));
            }
        }
    }

    #[test]
    fn a_replacement_that_overfills_its_node_moves_out() {
        let encodings = Encodings { list_max_listpack_size: -1, ..Encodings::default() };
        let mut list = ListValue::from_elements((0..40).map(|_| &[b'x'; 90][..]), &encodings);
        let nodes = list.node_count();
        let big = vec![b'y'; 3000];
        assert!(list.set(20, &big, &encodings));
        assert_eq!(list.get(20), Some(&big[..]));
        assert_eq!(list.len(), 40);
        assert!(list.node_count() > nodes, "the full node was split");
        assert!(list.nodes.iter().all(|node| node.len() == 1 || node.bytes_len() <= 4096));
    }

    #[test]
    fn a_small_list_is_one_node_in_a_one_slot_deque() {
        let list = ListValue::from_elements([&b"a"[..], b"b", b"c"], &Encodings::default());
        assert_eq!(list.node_count(), 1);
        assert_eq!(list.nodes.capacity(), 1);
    }

    #[test]
    fn byte_limited_nodes_hold_many_small_elements() {
        let list = ListValue::from_elements((0..1000).map(|_| &b"0123456789"[..]), &Encodings::default());
        assert_eq!(list.len(), 1000);
        assert!(list.node_count() <= 3, "8 KiB nodes: {}", list.node_count());
    }
}
