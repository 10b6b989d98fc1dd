//! [`Pack`]: a sequence of byte strings in one allocation, for small collections (what Redis's
//! listpack is to it).
//!
//! A small hash, sorted set or list costs one allocation instead of one or more per element:
//! each element is its length (a varint), its bytes, and its length again written backwards,
//! so the sequence can be walked from either end. Finding an element is a linear scan, which
//! is why collections move to a [`super::Table`] (or a tree) past a configured size.

/// Bytes of the front length: a varint of the element's size.
fn front_len_bytes(len: usize) -> usize {
    let mut bytes = 1;
    let mut rest = len >> 7;
    while rest > 0 {
        bytes += 1;
        rest >>= 7;
    }
    bytes
}

/// An element's whole encoded size: front length, bytes, back length.
fn encoded_len(len: usize) -> usize {
    let inner = front_len_bytes(len) + len;
    inner + front_len_bytes(inner)
}

fn write_varint(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let group = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(group);
            return;
        }
        out.push(group | 0x80);
    }
}

/// The back length: the same groups, most significant first, every byte but the first
/// flagged, so reading backwards from the end knows when to stop.
fn write_back_len(out: &mut Vec<u8>, value: usize) {
    let mut groups = [0u8; 10];
    let mut count = 0;
    let mut rest = value;
    loop {
        groups[count] = (rest & 0x7f) as u8;
        count += 1;
        rest >>= 7;
        if rest == 0 {
            break;
        }
    }
    for i in (0..count).rev() {
        let more_before = if i == count - 1 { 0 } else { 0x80 };
        out.push(groups[i] | more_before);
    }
}

/// Reads a varint at `at`: (value, bytes used).
fn read_varint(bytes: &[u8], at: usize) -> (usize, usize) {
    let (mut value, mut shift, mut used) = (0usize, 0, 0);
    loop {
        let byte = bytes[at + used];
        value |= usize::from(byte & 0x7f) << shift;
        used += 1;
        if byte & 0x80 == 0 {
            return (value, used);
        }
        shift += 7;
    }
}

/// Reads the back length ending just before `end`: (value, bytes used).
fn read_back_len(bytes: &[u8], end: usize) -> (usize, usize) {
    let (mut value, mut shift, mut used) = (0usize, 0, 0);
    loop {
        used += 1;
        let byte = bytes[end - used];
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return (value, used);
        }
        shift += 7;
    }
}

/// Bytes of the element count at the head of a pack's allocation.
const HEADER_BYTES: usize = 4;

/// The elements in one exact-size allocation: a `u32` count, then the elements. Sixteen bytes
/// in its holder (a pointer and a length; nothing for an empty pack), so a small collection
/// costs one allocation and a holder no larger than a pointer pair.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pack {
    data: Box<[u8]>,
}

/// Where an element is: the offset of its encoding.
pub type Offset = usize;

impl Pack {
    pub fn new() -> Pack {
        Pack::default()
    }

    pub fn from_elements<'a>(elements: impl IntoIterator<Item = &'a [u8]>) -> Pack {
        let mut body = Vec::new();
        let mut count = 0u32;
        for element in elements {
            body.extend(Pack::encode(element));
            count += 1;
        }
        Pack::assemble(body, count)
    }

    /// The elements' encodings.
    fn body(&self) -> &[u8] {
        self.data.get(HEADER_BYTES..).unwrap_or_default()
    }

    fn assemble(body: Vec<u8>, count: u32) -> Pack {
        if count == 0 {
            return Pack::default();
        }
        let mut data = Vec::with_capacity(HEADER_BYTES + body.len());
        data.extend_from_slice(&count.to_le_bytes());
        data.extend_from_slice(&body);
        Pack { data: data.into_boxed_slice() }
    }

    /// Changes the elements in place: `change` edits the allocation (its body starts at
    /// [`HEADER_BYTES`]) and the count, then the allocation is cut back to its exact size
    /// (usually where it is: the allocator's size classes leave room).
    fn edit<R>(&mut self, change: impl FnOnce(&mut Vec<u8>, &mut u32) -> R) -> R {
        let mut count = self.len() as u32;
        let mut data = std::mem::take(&mut self.data).into_vec();
        if data.is_empty() {
            data.extend_from_slice(&[0; HEADER_BYTES]);
        }
        let result = change(&mut data, &mut count);
        if count > 0 {
            data[..HEADER_BYTES].copy_from_slice(&count.to_le_bytes());
            self.data = data.into_boxed_slice();
        }
        result
    }

    /// Elements held.
    pub fn len(&self) -> usize {
        match self.data.get(..HEADER_BYTES) {
            Some(header) => u32::from_le_bytes(header.try_into().expect("4 bytes")) as usize,
            None => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Encoded bytes (the size limits of lists count these).
    pub fn bytes_len(&self) -> usize {
        self.body().len()
    }

    pub fn heap_bytes(&self) -> usize {
        self.data.len()
    }

    /// The element at `offset` and the offset of the next one.
    pub fn at(&self, offset: Offset) -> (&[u8], Offset) {
        let body = self.body();
        let (len, used) = read_varint(body, offset);
        let start = offset + used;
        let inner = used + len;
        (&body[start..start + len], offset + inner + front_len_bytes(inner))
    }

    /// The offset of the element that ends at `end` (the offset after it).
    fn start_before(&self, end: Offset) -> Offset {
        let (inner, used) = read_back_len(self.body(), end);
        end - used - inner
    }

    /// Every element, front to back.
    pub fn iter(&self) -> Iter<'_> {
        Iter { pack: self, front: 0, back: self.bytes_len(), left: self.len() }
    }

    /// Every element with its offset, front to back.
    pub fn offsets(&self) -> impl Iterator<Item = (Offset, &[u8])> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            (at < self.bytes_len()).then(|| {
                let (element, next) = self.at(at);
                let here = at;
                at = next;
                (here, element)
            })
        })
    }

    /// The offset of the `index`-th element (from the front; negative counts from the back).
    pub fn offset_of(&self, index: isize) -> Option<Offset> {
        if index >= 0 {
            let index = index as usize;
            if index >= self.len() {
                return None;
            }
            self.offsets().nth(index).map(|(at, _)| at)
        } else {
            let back = index.unsigned_abs();
            if back > self.len() {
                return None;
            }
            let mut end = self.bytes_len();
            for _ in 0..back {
                end = self.start_before(end);
            }
            Some(end)
        }
    }

    pub fn get(&self, index: isize) -> Option<&[u8]> {
        self.offset_of(index).map(|at| self.at(at).0)
    }

    pub fn first(&self) -> Option<&[u8]> {
        self.iter().next()
    }

    pub fn last(&self) -> Option<&[u8]> {
        self.iter().next_back()
    }

    fn encode(element: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(encoded_len(element.len()));
        write_varint(&mut out, element.len());
        out.extend_from_slice(element);
        write_back_len(&mut out, front_len_bytes(element.len()) + element.len());
        out
    }

    /// Inserts `element` before the one at `offset` (or at the end when `offset` is the end).
    pub fn insert_at(&mut self, offset: Offset, element: &[u8]) {
        let encoded = Pack::encode(element);
        self.edit(|body, count| {
            body.splice(HEADER_BYTES + offset..HEADER_BYTES + offset, encoded);
            *count += 1;
        });
    }

    pub fn push_back(&mut self, element: &[u8]) {
        self.insert_at(self.bytes_len(), element);
    }

    pub fn push_front(&mut self, element: &[u8]) {
        self.insert_at(0, element);
    }

    /// Removes the element at `offset`; the next element now starts there.
    pub fn remove_at(&mut self, offset: Offset) {
        let (_, next) = self.at(offset);
        self.remove_range(offset, next, 1);
    }

    /// Replaces the element at `offset`.
    pub fn replace_at(&mut self, offset: Offset, element: &[u8]) {
        let (_, next) = self.at(offset);
        let encoded = Pack::encode(element);
        self.edit(|body, _| {
            body.splice(HEADER_BYTES + offset..HEADER_BYTES + next, encoded);
        });
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let first = self.first()?.to_vec();
        self.remove_at(0);
        Some(first)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let at = self.offset_of(-1)?;
        let last = self.at(at).0.to_vec();
        self.remove_at(at);
        Some(last)
    }

    /// Removes the elements in `from..to` (offsets), `count` of them.
    pub fn remove_range(&mut self, from: Offset, to: Offset, count: usize) {
        self.edit(|body, held| {
            body.drain(HEADER_BYTES + from..HEADER_BYTES + to);
            *held -= count as u32;
        });
    }

    /// The offset just past the last element.
    pub fn end(&self) -> Offset {
        self.bytes_len()
    }

    /// Splits off the elements from `offset` on into a new pack.
    pub fn split_off(&mut self, offset: Offset, count_before: usize) -> Pack {
        let moved = (self.len() - count_before) as u32;
        let tail = self.edit(|body, count| {
            *count = count_before as u32;
            body.split_off(HEADER_BYTES + offset)
        });
        if count_before == 0 {
            self.data = Box::default();
        }
        Pack::assemble(tail, moved)
    }

    /// Appends every element of `other`.
    pub fn append(&mut self, other: Pack) {
        let added = other.len() as u32;
        self.edit(|body, count| {
            body.extend_from_slice(other.body());
            *count += added;
        });
    }
}

impl std::fmt::Debug for Pack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(String::from_utf8_lossy)).finish()
    }
}

pub struct Iter<'a> {
    pack: &'a Pack,
    front: Offset,
    back: Offset,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        let (element, next) = self.pack.at(self.front);
        self.front = next;
        self.left -= 1;
        Some(element)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let start = self.pack.start_before(self.back);
        self.back = start;
        self.left -= 1;
        Some(self.pack.at(start).0)
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behaves_like_a_deque(ops in prop::collection::vec((0u8..6, prop::collection::vec(any::<u8>(), 0..300)), 0..200)) {
            let mut pack = Pack::new();
            let mut model: std::collections::VecDeque<Vec<u8>> = Default::default();
            for (op, element) in ops {
                match op {
                    0 => { pack.push_back(&element); model.push_back(element); }
                    1 => { pack.push_front(&element); model.push_front(element); }
                    2 => prop_assert_eq!(pack.pop_front(), model.pop_front()),
                    3 => prop_assert_eq!(pack.pop_back(), model.pop_back()),
                    4 if !model.is_empty() => {
                        let index = element.len() % model.len();
                        let at = pack.offset_of(index as isize).unwrap();
                        pack.replace_at(at, &element);
                        model[index] = element;
                    }
                    _ if !model.is_empty() => {
                        let index = element.len() % model.len();
                        prop_assert_eq!(pack.get(-(index as isize) - 1), Some(&model[model.len() - 1 - index][..]));
                    }
                    _ => {}
                }
                prop_assert_eq!(pack.len(), model.len());
            }
            prop_assert!(pack.iter().eq(model.iter().map(|e| &e[..])));
            prop_assert!(pack.iter().rev().eq(model.iter().rev().map(|e| &e[..])));
        }
    }

    #[test]
    fn split_and_append_keep_every_element() {
        let elements: Vec<Vec<u8>> = (0..50).map(|i| vec![b'x'; i * 7]).collect();
        let mut pack = Pack::from_elements(elements.iter().map(|e| &e[..]));
        let at = pack.offset_of(20).unwrap();
        let tail = pack.split_off(at, 20);
        assert_eq!((pack.len(), tail.len()), (20, 30));
        assert!(tail.iter().eq(elements[20..].iter().map(|e| &e[..])));
        pack.append(tail);
        assert!(pack.iter().eq(elements.iter().map(|e| &e[..])));
    }
}
