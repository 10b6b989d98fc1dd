//! A map from byte-string keys to values, ordered by a fixed 64-bit hash of the key.
//!
//! Hash order gives what Redis's dictionary gives clients (a scrambled order, integer `SCAN`
//! cursors that survive inserts and deletes, cheap random picks) while staying
//! deterministic: the same operations yield the same order on every replica and in the
//! simulator. Keys whose hashes collide share a bucket ordered by the key itself, so even
//! crafted collisions cost only a logarithmic factor.

use bytes::Bytes;
use std::collections::BTreeMap;
use std::ops::Bound;

/// The hash that orders keys. Fixed forever: cursors and snapshots depend on it.
pub fn key_hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

#[derive(Clone, Debug, PartialEq)]
enum Bucket<V> {
    One(Bytes, V),
    Many(BTreeMap<Bytes, V>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderedMap<V> {
    buckets: BTreeMap<u64, Bucket<V>>,
    len: usize,
}

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> OrderedMap<V> {
    pub const fn new() -> Self {
        OrderedMap { buckets: BTreeMap::new(), len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        match self.buckets.get(&key_hash(key))? {
            Bucket::One(k, v) => (k.as_ref() == key).then_some(v),
            Bucket::Many(map) => map.get(key),
        }
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        match self.buckets.get_mut(&key_hash(key))? {
            Bucket::One(k, v) => (k.as_ref() == key).then_some(v),
            Bucket::Many(map) => map.get_mut(key),
        }
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: Bytes, value: V) -> Option<V> {
        use std::collections::btree_map::Entry;
        match self.buckets.entry(key_hash(&key)) {
            Entry::Vacant(slot) => {
                slot.insert(Bucket::One(key, value));
                self.len += 1;
                None
            }
            Entry::Occupied(mut slot) => {
                let bucket = slot.get_mut();
                match bucket {
                    Bucket::One(existing, old) if *existing == key => Some(std::mem::replace(old, value)),
                    Bucket::One(..) => {
                        let Bucket::One(k, v) = std::mem::replace(bucket, Bucket::Many(BTreeMap::new())) else {
                            unreachable!()
                        };
                        let Bucket::Many(map) = bucket else { unreachable!() };
                        map.insert(k, v);
                        map.insert(key, value);
                        self.len += 1;
                        None
                    }
                    Bucket::Many(map) => {
                        let previous = map.insert(key, value);
                        if previous.is_none() {
                            self.len += 1;
                        }
                        previous
                    }
                }
            }
        }
    }

    /// Removes a key; returns it with its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<(Bytes, V)> {
        use std::collections::btree_map::Entry;
        let Entry::Occupied(mut slot) = self.buckets.entry(key_hash(key)) else {
            return None;
        };
        let removed = match slot.get_mut() {
            Bucket::One(k, _) if k.as_ref() == key => match slot.remove() {
                Bucket::One(k, v) => Some((k, v)),
                Bucket::Many(_) => unreachable!(),
            },
            Bucket::One(..) => None,
            Bucket::Many(map) => {
                let removed = map.remove_entry(key);
                if map.is_empty() {
                    slot.remove();
                }
                removed
            }
        };
        if removed.is_some() {
            self.len -= 1;
        }
        removed
    }

    /// Every entry, in hash order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &V)> + '_ {
        self.iter_from(0).map(|(_, k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Bytes> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Entries whose hash is at least `hash`, in hash order, each with its hash.
    pub fn iter_from(&self, hash: u64) -> impl Iterator<Item = (u64, &Bytes, &V)> + '_ {
        self.buckets.range((Bound::Included(hash), Bound::Unbounded)).flat_map(|(&h, bucket)| {
            let items: Box<dyn Iterator<Item = (&Bytes, &V)>> = match bucket {
                Bucket::One(k, v) => Box::new(std::iter::once((k, v))),
                Bucket::Many(map) => Box::new(map.iter()),
            };
            items.map(move |(k, v)| (h, k, v))
        })
    }

    /// The entry at or after `hash`, wrapping around: a uniform-ish random pick when `hash`
    /// is random.
    pub fn first_at_or_after(&self, hash: u64) -> Option<(&Bytes, &V)> {
        self.iter_from(hash).next().map(|(_, k, v)| (k, v)).or_else(|| self.iter().next())
    }

    /// One `SCAN` step: visits whole buckets starting at `cursor` until at least `count`
    /// entries were visited, and returns them with the cursor to continue from (0 when done).
    /// An entry present for the whole scan is returned at least once, whatever is inserted or
    /// removed between steps, because the cursor is a position in hash space.
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<(&Bytes, &V)>) {
        let mut found = Vec::new();
        let mut buckets = self.buckets.range((Bound::Included(cursor), Bound::Unbounded));
        for (_, bucket) in buckets.by_ref() {
            match bucket {
                Bucket::One(k, v) => found.push((k, v)),
                Bucket::Many(map) => found.extend(map.iter()),
            }
            if found.len() >= count {
                break;
            }
        }
        let next = buckets.next().map_or(0, |(&hash, _)| hash);
        (next, found)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Bytes, &mut V) -> bool) {
        let mut removed = 0;
        self.buckets.retain(|_, bucket| match bucket {
            Bucket::One(k, v) => {
                let kept = keep(k, v);
                removed += usize::from(!kept);
                kept
            }
            Bucket::Many(map) => {
                let before = map.len();
                map.retain(|k, v| keep(k, v));
                removed += before - map.len();
                !map.is_empty()
            }
        });
        self.len -= removed;
    }
}

impl<V> FromIterator<(Bytes, V)> for OrderedMap<V> {
    fn from_iter<I: IntoIterator<Item = (Bytes, V)>>(items: I) -> Self {
        let mut map = OrderedMap::new();
        for (k, v) in items {
            map.insert(k, v);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap as Model;

    proptest! {
        #[test]
        fn behaves_like_a_map(ops in prop::collection::vec((0u8..3, 0u16..64, any::<u32>()), 0..400)) {
            let mut map = OrderedMap::new();
            let mut model = Model::new();
            for (op, key, value) in ops {
                let key = Bytes::from(format!("k{key}"));
                match op {
                    0 => prop_assert_eq!(map.insert(key.clone(), value), model.insert(key, value)),
                    1 => prop_assert_eq!(map.remove(&key).map(|(_, v)| v), model.remove(&key)),
                    _ => prop_assert_eq!(map.get(&key), model.get(&key)),
                }
                prop_assert_eq!(map.len(), model.len());
            }
            let mut seen: Vec<_> = map.iter().map(|(k, v)| (k.clone(), *v)).collect();
            seen.sort();
            prop_assert_eq!(seen, model.into_iter().collect::<Vec<_>>());
        }

        #[test]
        fn scan_returns_every_stable_key(keys in prop::collection::btree_set(0u32..10_000, 1..300), count in 1usize..20) {
            let map: OrderedMap<()> = keys.iter().map(|k| (Bytes::from(k.to_string()), ())).collect();
            let mut cursor = 0;
            let mut seen = std::collections::BTreeSet::new();
            loop {
                let (next, found) = map.scan(cursor, count);
                seen.extend(found.into_iter().map(|(k, _)| k.clone()));
                if next == 0 { break; }
                prop_assert!(next > cursor);
                cursor = next;
            }
            prop_assert_eq!(seen.len(), keys.len());
        }
    }
}
