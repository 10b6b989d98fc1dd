//! A map from byte-string keys to values that iterates in the order of a fixed 64-bit hash of
//! the key.
//!
//! Hash order gives what Redis's dictionary gives clients (a scrambled order, integer `SCAN`
//! cursors that survive inserts and deletes, cheap random picks) while staying
//! deterministic: the same keys iterate in the same order on every replica and in the
//! simulator, whatever happened before. Lookups go through a hash index that is never
//! iterated, keyed by a per-process seed (so crafted collisions cannot degrade it); the order
//! lives in a separate set of `(hash, key)` pairs, where even colliding hashes cost only a
//! logarithmic factor.

use bytes::Bytes;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};

/// The hash that orders keys. Fixed forever: cursors and snapshots depend on it.
pub fn key_hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

static INDEX_SEED: AtomicU64 = AtomicU64::new(0x436f_6e63_6f72_6421);

/// Sets the seed of the lookup indexes (a node draws one at start). Only lookup speed under
/// adversarial keys depends on it, never a result or an order.
pub fn set_index_seed(seed: u64) {
    INDEX_SEED.store(seed, Ordering::Relaxed);
}

/// Hashes lookup keys with the process's index seed.
#[derive(Clone, Debug)]
pub struct IndexHasher(u64);

impl Default for IndexHasher {
    fn default() -> Self {
        IndexHasher(INDEX_SEED.load(Ordering::Relaxed))
    }
}

impl BuildHasher for IndexHasher {
    type Hasher = IndexHash;

    fn build_hasher(&self) -> IndexHash {
        IndexHash { seed: self.0 }
    }
}

/// Seeded xxh3 of a key, in one shot. A byte string hashes as its length, then its bytes: the
/// length only changes the seed, and the bytes go through xxh3 at once, which (unlike xxh3's
/// streaming form) needs no per-hash setup. Every lookup and write pays this.
pub struct IndexHash {
    seed: u64,
}

impl Hasher for IndexHash {
    fn write(&mut self, bytes: &[u8]) {
        self.seed = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.seed);
    }

    fn write_usize(&mut self, n: usize) {
        // A multiplicative mix: distinct lengths give distinct seeds.
        self.seed = (self.seed ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.seed
    }
}

#[derive(Clone, Debug)]
pub struct OrderedMap<V> {
    /// Lookups. Never iterated: its order would differ between processes.
    index: HashMap<Bytes, V, IndexHasher>,
    /// The iteration order.
    order: BTreeSet<(u64, Bytes)>,
}

impl<V: PartialEq> PartialEq for OrderedMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> OrderedMap<V> {
    pub fn new() -> Self {
        OrderedMap { index: HashMap::with_hasher(IndexHasher::default()), order: BTreeSet::new() }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.index.get(key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.index.get_mut(key)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.index.contains_key(key)
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: Bytes, value: V) -> Option<V> {
        let previous = self.index.insert(key.clone(), value);
        if previous.is_none() {
            self.order.insert((key_hash(&key), key));
        }
        previous
    }

    /// Removes a key; returns it with its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<(Bytes, V)> {
        let (key, value) = self.index.remove_entry(key)?;
        let removed = self.order.remove(&(key_hash(&key), key.clone()));
        debug_assert!(removed, "order and index agree");
        Some((key, value))
    }

    /// Every entry, in hash order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &V)> + '_ {
        self.iter_from(0).map(|(_, k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Bytes> + '_ {
        self.order.iter().map(|(_, key)| key)
    }

    /// Entries whose hash is at least `hash`, in hash order, each with its hash.
    pub fn iter_from(&self, hash: u64) -> impl Iterator<Item = (u64, &Bytes, &V)> + '_ {
        self.order
            .range((Bound::Included((hash, Bytes::new())), Bound::Unbounded))
            .map(|(hash, key)| (*hash, key, &self.index[key]))
    }

    /// The entry at or after `hash`, wrapping around: a uniform-ish random pick when `hash`
    /// is random.
    pub fn first_at_or_after(&self, hash: u64) -> Option<(&Bytes, &V)> {
        self.iter_from(hash).next().map(|(_, k, v)| (k, v)).or_else(|| self.iter().next())
    }

    /// One `SCAN` step: visits entries from hash `cursor` on until at least `count` were
    /// visited (always finishing the entries that share the last hash) and returns them with
    /// the cursor to continue from (0 when done). An entry present for the whole scan is
    /// returned at least once, whatever is inserted or removed between steps, because the
    /// cursor is a position in hash space.
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<(&Bytes, &V)>) {
        let mut found = Vec::new();
        let mut last_hash = None;
        for (hash, key, value) in self.iter_from(cursor) {
            if found.len() >= count && last_hash != Some(hash) {
                return (hash, found);
            }
            last_hash = Some(hash);
            found.push((key, value));
        }
        (0, found)
    }

    /// Keeps the entries `keep` approves of, visiting them in hash order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Bytes, &mut V) -> bool) {
        let keys: Vec<(u64, Bytes)> = self.order.iter().cloned().collect();
        for (hash, key) in keys {
            let value = self.index.get_mut(&key).expect("order and index agree");
            if !keep(&key, value) {
                self.index.remove(&key);
                self.order.remove(&(hash, key));
            }
        }
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
