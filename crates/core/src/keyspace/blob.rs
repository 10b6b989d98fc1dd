//! [`Blob`]: a byte string stored without a heap allocation of its own when it is short.
//!
//! Keys, members, fields and string values are mostly short, and a separate allocation for
//! each (plus a reference count, plus the allocator's rounding) costs more than the bytes
//! themselves. A blob keeps up to [`INLINE_BYTES_MAX`] bytes inline, in the 24 bytes that a
//! pointer and length would take anyway. Longer ones live in one exact-size shared allocation
//! (replies hand it out without copying), or, once a command changes them in place (APPEND,
//! SETRANGE, SETBIT), in a growable buffer so that repeated appends stay linear.

use bytes::Bytes;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// The longest byte string kept inline.
pub const INLINE_BYTES_MAX: usize = 22;

/// How many of the inline bytes are used. An enum rather than a `u8` so that its unused values
/// give `Blob` (and the types that hold one) room for their own variants: a `Blob`, and a
/// [`super::Value`] holding one, both fit in 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum InlineLen {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
    L16,
    L17,
    L18,
    L19,
    L20,
    L21,
    L22,
}

const INLINE_LENS: [InlineLen; INLINE_BYTES_MAX + 1] = {
    use InlineLen::*;
    [L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15, L16, L17, L18, L19, L20, L21, L22]
};

#[derive(Clone)]
enum Repr {
    Inline {
        len: InlineLen,
        bytes: [u8; INLINE_BYTES_MAX],
    },
    Shared(Arc<[u8]>),
    // Boxed so that a blob stays 24 bytes: the vector's own header would not fit beside the tag.
    #[allow(clippy::box_collection)]
    Growable(Box<Vec<u8>>),
}

#[derive(Clone)]
pub struct Blob(Repr);

const _: () = assert!(std::mem::size_of::<Blob>() == 24);

impl Blob {
    pub const EMPTY: Blob = Blob(Repr::Inline { len: InlineLen::L0, bytes: [0; INLINE_BYTES_MAX] });

    pub fn new(bytes: &[u8]) -> Blob {
        if bytes.len() <= INLINE_BYTES_MAX {
            let mut inline = [0; INLINE_BYTES_MAX];
            inline[..bytes.len()].copy_from_slice(bytes);
            Blob(Repr::Inline { len: INLINE_LENS[bytes.len()], bytes: inline })
        } else {
            Blob(Repr::Shared(Arc::from(bytes)))
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..*len as usize],
            Repr::Shared(shared) => shared,
            Repr::Growable(vec) => vec,
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes as a reply value: long shared blobs are handed out without a copy.
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Shared(shared) => Bytes::from_owner(SharedOwner(shared.clone())),
            other => Bytes::copy_from_slice(Blob(other.clone()).as_slice()),
        }
    }

    /// The bytes for changing in place; a long blob becomes growable (and stays so).
    pub fn make_mut(&mut self) -> &mut Vec<u8> {
        if !matches!(self.0, Repr::Growable(_)) {
            self.0 = Repr::Growable(Box::new(self.as_slice().to_vec()));
        }
        match &mut self.0 {
            Repr::Growable(vec) => vec,
            _ => unreachable!("just made growable"),
        }
    }

    /// After an in-place change: a short result moves back inline, and spare capacity is
    /// bounded (at most as much again as the content, as a doubling vector would hold).
    pub fn settle(&mut self) {
        if let Repr::Growable(vec) = &mut self.0 {
            if vec.len() <= INLINE_BYTES_MAX {
                *self = Blob::new(&vec[..]);
            } else if vec.capacity() > 2 * vec.len() + 64 {
                vec.shrink_to(vec.len() + vec.len() / 2);
            }
        }
    }

    /// Whether it was changed in place (Redis reports such strings as `raw`).
    pub fn is_growable(&self) -> bool {
        matches!(self.0, Repr::Growable(_))
    }

    /// Heap bytes this blob holds beyond its own 24 (for MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Shared(shared) => shared.len() + 16,
            Repr::Growable(vec) => vec.capacity() + 24,
        }
    }
}

/// Keeps a shared blob alive for as long as a `Bytes` handed out from it.
struct SharedOwner(Arc<[u8]>);

impl AsRef<[u8]> for SharedOwner {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Default for Blob {
    fn default() -> Blob {
        Blob::EMPTY
    }
}

impl std::ops::Deref for Blob {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::borrow::Borrow<[u8]> for Blob {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for Blob {
    fn from(bytes: &[u8]) -> Blob {
        Blob::new(bytes)
    }
}

impl From<&Bytes> for Blob {
    fn from(bytes: &Bytes) -> Blob {
        Blob::new(bytes)
    }
}

impl From<Bytes> for Blob {
    fn from(bytes: Bytes) -> Blob {
        Blob::new(&bytes)
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Blob {
        Blob::new(&bytes)
    }
}

impl From<&str> for Blob {
    fn from(text: &str) -> Blob {
        Blob::new(text.as_bytes())
    }
}

impl PartialEq for Blob {
    fn eq(&self, other: &Blob) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Blob {}

impl PartialOrd for Blob {
    fn partial_cmp(&self, other: &Blob) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Blob {
    fn cmp(&self, other: &Blob) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl std::hash::Hash for Blob {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl serde::Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.as_slice())
    }
}

impl<'de> serde::Deserialize<'de> for Blob {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Blob, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E>(self, bytes: &[u8]) -> Result<Blob, E> {
                Ok(Blob::new(bytes))
            }
            fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob::new(&bytes))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Blob, A::Error> {
                let mut bytes = Vec::new();
                while let Some(byte) = seq.next_element::<u8>()? {
                    bytes.push(byte);
                }
                Ok(Blob::new(&bytes))
            }
        }
        deserializer.deserialize_bytes(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_blobs_are_inline_and_long_ones_shared() {
        for len in [0, 1, 21, 22, 23, 100, 5000] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let blob = Blob::new(&bytes);
            assert_eq!(blob.as_slice(), &bytes[..]);
            assert_eq!(blob.heap_bytes() == 0, len <= INLINE_BYTES_MAX, "len {len}");
            assert_eq!(&blob.to_bytes()[..], &bytes[..]);
            let encoded = postcard::to_stdvec(&blob).unwrap();
            assert_eq!(postcard::from_bytes::<Blob>(&encoded).unwrap(), blob);
        }
    }

    #[test]
    fn changes_in_place_grow_and_settle() {
        let mut blob = Blob::new(b"abc");
        for _ in 0..1000 {
            blob.make_mut().extend_from_slice(b"0123456789");
            blob.settle();
        }
        assert_eq!(blob.len(), 3 + 10_000);
        blob.make_mut().truncate(5);
        blob.settle();
        assert_eq!(blob.as_slice(), b"abc01");
        assert_eq!(blob.heap_bytes(), 0, "short again: back inline");
    }

    #[test]
    fn values_holding_a_blob_stay_small() {
        assert_eq!(std::mem::size_of::<Option<Blob>>(), 24);
    }
}
