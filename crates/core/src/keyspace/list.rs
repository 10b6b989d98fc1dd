//! [`ListValue`]: a list as a deque of [`Pack`] nodes (Redis's quicklist). Pushing and popping
//! at either end is O(1); reaching an element by index walks the nodes from the nearer end.
//! Each node holds as many elements as `list-max-listpack-size` allows (by count, or by
//! encoded bytes: 8 KiB by default), so a small list is a single allocation.

use super::encodings::Encodings;
use super::pack::Pack;
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
            _ => self.nodes.push_front(Pack::from_elements([element])),
        }
        self.len += 1;
    }

    pub fn push_back(&mut self, element: &[u8], encodings: &Encodings) {
        let limits = encodings.list_node_limits();
        match self.nodes.back_mut() {
            Some(node) if has_room(node, element.len(), limits) => node.push_back(element),
            _ => self.nodes.push_back(Pack::from_elements([element])),
        }
        self.len += 1;
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

    /// The node holding element `index` and the element's position in it.
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
        self.nodes[node].get(position as isize)
    }

    /// Replaces element `index`; false if there is none.
    pub fn set(&mut self, index: usize, element: &[u8]) -> bool {
        let Some((node, position)) = self.locate(index) else {
            return false;
        };
        let node = &mut self.nodes[node];
        let at = node.offset_of(position as isize).expect("located");
        node.replace_at(at, element);
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
            let at = node.offset_of(position as isize).expect("located");
            node.insert_at(at, element);
        } else if position == 0 {
            // Before a full node: at the end of the previous one if it has room.
            match self.nodes.get_mut(node_at - 1) {
                Some(previous) if has_room(previous, element.len(), limits) => previous.push_back(element),
                _ => self.nodes.insert(node_at, Pack::from_elements([element])),
            }
        } else {
            // Inside a full node: split it at the insertion point.
            let at = node.offset_of(position as isize).expect("located");
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
        let at = node.offset_of(position as isize).expect("located");
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

    /// Elements `start..=stop` (indexes within the list), front to back.
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

    /// Removes the first `count` elements, whole nodes at a time where it can.
    fn drop_front(&mut self, mut count: usize) {
        while count > 0 {
            let node = self.nodes.front_mut().expect("count within the list");
            if node.len() <= count {
                count -= node.len();
                self.len -= node.len();
                self.nodes.pop_front();
            } else {
                let end = node.offset_of(count as isize).expect("inside the node");
                node.remove_range(0, end, count);
                self.len -= count;
                return;
            }
        }
    }

    /// Removes the last `count` elements, whole nodes at a time where it can.
    fn drop_back(&mut self, mut count: usize) {
        while count > 0 {
            let node = self.nodes.back_mut().expect("count within the list");
            if node.len() <= count {
                count -= node.len();
                self.len -= node.len();
                self.nodes.pop_back();
            } else {
                let keep = node.len() - count;
                let start = node.offset_of(keep as isize).expect("inside the node");
                let end = node.end();
                node.remove_range(start, end, count);
                self.len -= count;
                return;
            }
        }
    }

    /// Removes up to `count` elements equal to `element` (all when 0), from the front, or from
    /// the back when `from_back`; returns how many went.
    pub fn remove_matching(&mut self, element: &[u8], count: usize, from_back: bool, encodings: &Encodings) -> usize {
        let limit = if count == 0 { usize::MAX } else { count };
        let mut removed = 0;
        let mut kept: Vec<Vec<u8>> = Vec::with_capacity(self.len);
        let elements: Vec<&[u8]> = if from_back { self.iter().rev().collect() } else { self.iter().collect() };
        for candidate in elements {
            if removed < limit && candidate == element {
                removed += 1;
            } else {
                kept.push(candidate.to_vec());
            }
        }
        if removed > 0 {
            if from_back {
                kept.reverse();
            }
            *self = ListValue::from_elements(kept.iter().map(|e| &e[..]), encodings);
        }
        removed
    }
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
        fn behaves_like_a_deque(ops in prop::collection::vec((0u8..8, 0usize..40, 0u8..4), 0..300)) {
            let encodings = small_nodes();
            let mut list = ListValue::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for (op, index, value) in ops {
                let element = vec![b'a' + value; 1 + index % 5];
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
                    6 => {
                        let removed = list.remove_matching(&element, index % 3, value % 2 == 0, &encodings);
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
                            list.set(index, b"set");
                            model[index] = b"set".to_vec();
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
                list.trim(start, stop);
                prop_assert!(list.iter().eq(model.range(start..).map(|e| &e[..])));
            }
        }
    }

    #[test]
    fn byte_limited_nodes_hold_many_small_elements() {
        let list = ListValue::from_elements((0..1000).map(|_| &b"0123456789"[..]), &Encodings::default());
        assert_eq!(list.len(), 1000);
        assert!(list.node_count() <= 3, "8 KiB nodes: {}", list.node_count());
    }
}
