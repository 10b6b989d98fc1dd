//! [`Table`]: the hash table behind databases and large hashes, sets and sorted sets. It
//! iterates in the order of its items' hashes, which makes it deterministic and scannable.
//!
//! Items are kept sorted by a keyed 64-bit hash along one array (ordered linear probing, Amble
//! and Knuth 1974): an item sits at or after its home slot (its hash scaled to the table's
//! size), with no empty slot in between, and the whole array is in hash order. So:
//!
//! - **Determinism.** For a given set of items and size the layout is always the same,
//!   whatever the order of inserts and removes. Every replica that applied the same log (or
//!   restored the same snapshot, which records the size) holds the same array, so iteration,
//!   `SCAN` cursors and random picks (`SPOP`, `RANDOMKEY`) agree everywhere.
//! - **Scanning.** A `SCAN` cursor is a hash: every item present for the whole scan is
//!   returned at least once, however the table grows, shrinks or changes in between.
//! - **Random picks** choose a uniformly random slot until it holds an item: uniform over the
//!   items, in a few tries (the table is never emptier than a fifth).
//! - **Hostile keys.** The hash is SipHash-1-3 keyed with the keyspace's secret seed, chosen
//!   once per cluster and replicated: clients cannot aim keys at one stretch of the array,
//!   and seeing the order (or the cursors) tells them nothing about the key.
//! - **Memory.** One array of (hash, item), 60-80% full; no per-item node or pointer beyond
//!   what the item itself holds.

use crate::rng::Rng;
use std::cmp::Ordering;
use std::hash::Hasher as _;

/// What a table holds: anything with a byte-string key.
pub trait Keyed {
    fn key(&self) -> &[u8];
}

impl Keyed for super::Blob {
    fn key(&self) -> &[u8] {
        self
    }
}

impl<V> Keyed for (super::Blob, V) {
    fn key(&self) -> &[u8] {
        &self.0
    }
}

impl<T: Keyed> Keyed for Box<T> {
    fn key(&self) -> &[u8] {
        (**self).key()
    }
}

/// The keyed hash: SipHash-1-3 under a 128-bit secret.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableHasher {
    seed: (u64, u64),
}

impl TableHasher {
    pub fn new(seed: (u64, u64)) -> TableHasher {
        TableHasher { seed }
    }

    pub fn seed(&self) -> (u64, u64) {
        self.seed
    }

    pub fn hash(&self, key: &[u8]) -> u64 {
        let mut hasher = siphasher::sip::SipHasher13::new_with_keys(self.seed.0, self.seed.1);
        hasher.write(key);
        hasher.finish()
    }
}

/// Fewest home slots a table has.
const HOME_SLOTS_MIN: usize = 8;
/// A table grows by half once more than this share of its home slots is used...
const LOAD_MAX: (usize, usize) = (4, 5);
/// ...and shrinks once less than this share is.
const LOAD_MIN: (usize, usize) = (1, 5);
/// Random slot draws before a pick falls back to the next item after the last draw.
const RANDOM_DRAWS_MAX: usize = 64;

const _: () = assert!(LOAD_MIN.0 * LOAD_MAX.1 * 3 < LOAD_MAX.0 * LOAD_MIN.1, "shrinking leaves room to grow");

struct Slot<T> {
    hash: u64,
    item: T,
}

pub struct Table<T> {
    hasher: TableHasher,
    /// Slots that are some item's home; the array may run a little past them (the last items
    /// of a run), never wrapping around.
    home_slots: usize,
    slots: Vec<Option<Slot<T>>>,
    len: usize,
}

impl<T: Keyed> Table<T> {
    pub fn new(hasher: TableHasher) -> Table<T> {
        Table::with_home_slots(hasher, HOME_SLOTS_MIN)
    }

    /// A table of a given size: restoring a snapshot recreates the exact layout it recorded.
    pub fn with_home_slots(hasher: TableHasher, home_slots: usize) -> Table<T> {
        let home_slots = home_slots.max(HOME_SLOTS_MIN);
        Table { hasher, home_slots, slots: (0..home_slots).map(|_| None).collect(), len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn hasher(&self) -> TableHasher {
        self.hasher
    }

    pub fn home_slots(&self) -> usize {
        self.home_slots
    }

    /// Bytes of the slot array (items' own heap data not included).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Option<Slot<T>>>()
    }

    pub fn hash_of(&self, key: &[u8]) -> u64 {
        self.hasher.hash(key)
    }

    fn home(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.home_slots as u128) >> 64) as usize
    }

    /// Where `key` is (`Ok`), or where it would go (`Err`).
    fn locate(&self, hash: u64, key: &[u8]) -> Result<usize, usize> {
        let mut at = self.home(hash);
        while let Some(Some(slot)) = self.slots.get(at) {
            match slot.hash.cmp(&hash).then_with(|| slot.item.key().cmp(key)) {
                Ordering::Less => at += 1,
                Ordering::Equal => return Ok(at),
                Ordering::Greater => return Err(at),
            }
        }
        Err(at)
    }

    pub fn get(&self, key: &[u8]) -> Option<&T> {
        let at = self.locate(self.hash_of(key), key).ok()?;
        self.slots[at].as_ref().map(|slot| &slot.item)
    }

    /// The item with `key`, to change it. The caller must leave its key as it is.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut T> {
        let at = self.locate(self.hash_of(key), key).ok()?;
        self.slots[at].as_mut().map(|slot| &mut slot.item)
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts `item`, replacing (and returning) one with the same key.
    pub fn insert(&mut self, item: T) -> Option<T> {
        let hash = self.hash_of(item.key());
        match self.locate(hash, item.key()) {
            Ok(at) => {
                let slot = self.slots[at].as_mut().expect("located");
                Some(std::mem::replace(&mut slot.item, item))
            }
            Err(_) if (self.len + 1) * LOAD_MAX.1 > self.home_slots * LOAD_MAX.0 => {
                self.resize(self.home_slots + self.home_slots / 2);
                let at = self.locate(hash, item.key()).expect_err("not present");
                self.place(at, Slot { hash, item });
                None
            }
            Err(at) => {
                self.place(at, Slot { hash, item });
                None
            }
        }
    }

    /// Puts a new item at `at`, moving the rest of its run one slot along.
    fn place(&mut self, at: usize, slot: Slot<T>) {
        match self.slots[at..].iter().position(Option::is_none) {
            Some(free) => self.slots[at..=at + free].rotate_right(1),
            None => {
                // The tail grows a slot at a time: a doubling vector would carry up to as much
                // again in empty capacity, in every small table.
                self.slots.reserve_exact(1);
                self.slots.push(None);
                self.slots[at..].rotate_right(1);
            }
        }
        self.slots[at] = Some(slot);
        self.len += 1;
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<T> {
        let at = self.locate(self.hash_of(key), key).ok()?;
        let removed = self.slots[at].take().expect("located").item;
        self.len -= 1;
        // Close the gap: the following items of the run move back while they may.
        let mut hole = at;
        while let Some(Some(next)) = self.slots.get(hole + 1) {
            if self.home(next.hash) > hole {
                break;
            }
            self.slots.swap(hole, hole + 1);
            hole += 1;
        }
        while self.slots.len() > self.home_slots && self.slots.last().is_some_and(Option::is_none) {
            self.slots.pop();
        }
        if self.home_slots > HOME_SLOTS_MIN && self.len * LOAD_MIN.1 < self.home_slots * LOAD_MIN.0 {
            self.resize(self.len * 2);
        }
        Some(removed)
    }

    /// Rebuilds the array with `home_slots` homes. Items arrive in hash order, so each goes
    /// to its new home or right after the previous one: the layout any insertion order gives.
    fn resize(&mut self, home_slots: usize) {
        let old = std::mem::replace(self, Table::with_home_slots(self.hasher, home_slots));
        let mut next_free = 0;
        for slot in old.slots.into_iter().flatten() {
            let at = self.home(slot.hash).max(next_free);
            if at >= self.slots.len() {
                self.slots.reserve_exact(at + 1 - self.slots.len());
                self.slots.resize_with(at + 1, || None);
            }
            self.slots[at] = Some(slot);
            next_free = at + 1;
        }
        self.len = old.len;
    }

    /// Every item, in hash order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.slots.iter().flatten().map(|slot| &slot.item)
    }

    /// Every item, to change them. The caller must leave their keys as they are.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> + '_ {
        self.slots.iter_mut().flatten().map(|slot| &mut slot.item)
    }

    /// Items whose hash is at least `hash`, in hash order, each with its hash.
    pub fn iter_from(&self, hash: u64) -> impl Iterator<Item = (u64, &T)> + '_ {
        // Nothing before `hash`'s home slot has a hash of `hash` or more.
        let start = self.home(hash).min(self.slots.len());
        self.slots[start..].iter().flatten().filter(move |slot| slot.hash >= hash).map(|slot| (slot.hash, &slot.item))
    }

    /// One `SCAN` step: items from hash `cursor` on, until at least `count` were returned
    /// (finishing any that share the last hash), and the cursor to continue from (0 when done).
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<&T>) {
        let mut found = Vec::new();
        let mut last_hash = None;
        for (hash, item) in self.iter_from(cursor) {
            if found.len() >= count.max(1) && last_hash != Some(hash) {
                return (hash, found);
            }
            last_hash = Some(hash);
            found.push(item);
        }
        (0, found)
    }

    /// A uniformly random item (the same on every replica for the same generator).
    pub fn random(&self, rng: &mut Rng) -> Option<&T> {
        if self.len == 0 {
            return None;
        }
        let mut at = 0;
        for _ in 0..RANDOM_DRAWS_MAX {
            at = rng.below(self.slots.len() as u64) as usize;
            if let Some(slot) = &self.slots[at] {
                return Some(&slot.item);
            }
        }
        self.slots[at..].iter().chain(&self.slots[..at]).flatten().map(|slot| &slot.item).next()
    }

    /// Keeps the items `keep` approves of.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut T) -> bool) {
        let old = std::mem::replace(self, Table::with_home_slots(self.hasher, self.home_slots));
        let items = old.slots.into_iter().flatten().filter_map(|mut slot| keep(&mut slot.item).then_some(slot));
        self.rebuild_from_sorted(items);
    }

    /// Rehashes every item under another hasher (the keyspace's seed was just chosen).
    pub fn rehash(&mut self, hasher: TableHasher) {
        let old = std::mem::replace(self, Table::with_home_slots(hasher, self.home_slots));
        let mut slots: Vec<Slot<T>> = old
            .slots
            .into_iter()
            .flatten()
            .map(|slot| Slot { hash: hasher.hash(slot.item.key()), item: slot.item })
            .collect();
        slots.sort_by(|a, b| a.hash.cmp(&b.hash).then_with(|| a.item.key().cmp(b.item.key())));
        self.rebuild_from_sorted(slots.into_iter());
    }

    fn rebuild_from_sorted(&mut self, slots: impl Iterator<Item = Slot<T>>) {
        let mut next_free = 0;
        for slot in slots {
            let at = self.home(slot.hash).max(next_free);
            if at >= self.slots.len() {
                self.slots.reserve_exact(at + 1 - self.slots.len());
                self.slots.resize_with(at + 1, || None);
            }
            self.slots[at] = Some(slot);
            self.len += 1;
            next_free = at + 1;
        }
        if self.home_slots > HOME_SLOTS_MIN && self.len * LOAD_MIN.1 < self.home_slots * LOAD_MIN.0 {
            self.resize(self.len * 2);
        }
    }

    /// Removes and returns every item, in hash order.
    pub fn drain(&mut self) -> impl Iterator<Item = T> {
        let old = std::mem::replace(self, Table::new(self.hasher));
        old.slots.into_iter().flatten().map(|slot| slot.item)
    }

    /// Whether the invariants hold (tests and debug checks).
    #[cfg(test)]
    fn check(&self) {
        let mut previous: Option<(u64, Vec<u8>)> = None;
        let mut count = 0;
        for (at, slot) in self.slots.iter().enumerate() {
            let Some(slot) = slot else { continue };
            count += 1;
            let home = self.home(slot.hash);
            assert!(home <= at, "an item sits at or after its home");
            assert!(self.slots[home..at].iter().all(Option::is_some), "no gap between home and item");
            let this = (slot.hash, slot.item.key().to_vec());
            assert!(previous.as_ref().is_none_or(|p| *p < this), "hash order");
            previous = Some(this);
        }
        assert_eq!(count, self.len);
        assert!(self.slots.len() == self.home_slots || self.slots.last().is_some_and(Option::is_some));
    }
}

impl<T: Keyed + Clone> Clone for Table<T> {
    fn clone(&self) -> Table<T> {
        Table {
            hasher: self.hasher,
            home_slots: self.home_slots,
            slots: self
                .slots
                .iter()
                .map(|slot| slot.as_ref().map(|s| Slot { hash: s.hash, item: s.item.clone() }))
                .collect(),
            len: self.len,
        }
    }
}

impl<T: Keyed + PartialEq> PartialEq for Table<T> {
    fn eq(&self, other: &Table<T>) -> bool {
        self.len == other.len && self.hasher == other.hasher && self.iter().eq(other.iter())
    }
}

impl<T: Keyed + std::fmt::Debug> std::fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Blob;
    use crate::rng::Rng;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn hasher() -> TableHasher {
        TableHasher::new((7, 11))
    }

    proptest! {
        #[test]
        fn behaves_like_a_map(ops in prop::collection::vec((0u8..3, 0u16..300), 0..2000)) {
            let mut table: Table<(Blob, u16)> = Table::new(hasher());
            let mut model = BTreeMap::new();
            for (op, key) in ops {
                let name = format!("k{key}");
                match op {
                    0 => prop_assert_eq!(
                        table.insert((Blob::from(name.as_str()), key)).map(|(_, v)| v),
                        model.insert(name, key)
                    ),
                    1 => prop_assert_eq!(table.remove(name.as_bytes()).map(|(_, v)| v), model.remove(&name)),
                    _ => prop_assert_eq!(table.get(name.as_bytes()).map(|(_, v)| *v), model.get(&name).copied()),
                }
                prop_assert_eq!(table.len(), model.len());
            }
            table.check();
            let mut seen: Vec<(String, u16)> =
                table.iter().map(|(k, v)| (String::from_utf8(k.to_vec()).unwrap(), *v)).collect();
            seen.sort();
            prop_assert_eq!(seen, model.into_iter().collect::<Vec<_>>());
        }

        #[test]
        fn the_layout_depends_only_on_the_items(keys in prop::collection::btree_set(0u32..100_000, 3..400), seed in any::<u64>()) {
            // Sized so that neither table grows or shrinks: the layout is a function of the items
            // and the size alone (which the history decides, and snapshots record).
            let home_slots = 2 * keys.len() + 8;
            let mut forward: Table<Blob> = Table::with_home_slots(hasher(), home_slots);
            let mut shuffled: Table<Blob> = Table::with_home_slots(hasher(), home_slots);
            let keys: Vec<Blob> = keys.iter().map(|k| Blob::from(k.to_string().as_str())).collect();
            for key in &keys {
                forward.insert(key.clone());
            }
            let mut order = keys.clone();
            let mut rng = Rng::new(seed);
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            // Extra items inserted and removed again leave no trace.
            let extras = order.len() / 4;
            for (i, key) in order.iter().enumerate() {
                shuffled.insert(key.clone());
                if i < extras {
                    shuffled.insert(Blob::from(format!("extra{i}").as_str()));
                }
            }
            for i in 0..extras {
                shuffled.remove(format!("extra{i}").as_bytes());
            }
            shuffled.check();
            prop_assert_eq!(forward.home_slots(), shuffled.home_slots());
            let (mut a, mut b) = (Rng::new(seed), Rng::new(seed));
            for _ in 0..20 {
                prop_assert_eq!(forward.random(&mut a), shuffled.random(&mut b));
            }
            prop_assert!(forward.iter().eq(shuffled.iter()));
        }

        #[test]
        fn scan_returns_every_stable_item(keys in prop::collection::btree_set(0u32..10_000, 1..300), count in 1usize..20) {
            let mut table: Table<Blob> = Table::new(hasher());
            for key in &keys {
                table.insert(Blob::from(key.to_string().as_str()));
            }
            let (mut cursor, mut seen, mut churn) = (0, std::collections::BTreeSet::new(), 0u32);
            loop {
                let (next, found) = table.scan(cursor, count);
                seen.extend(found.into_iter().map(|k| k.to_vec()));
                // Items come and go between steps; the stable ones must all be seen.
                for _ in 0..5 {
                    churn += 1;
                    table.insert(Blob::from(format!("churn{churn}").as_str()));
                }
                for old in churn.saturating_sub(7)..churn.saturating_sub(3) {
                    table.remove(format!("churn{old}").as_bytes());
                }
                if next == 0 { break; }
                prop_assert!(next > cursor);
                cursor = next;
            }
            for key in &keys {
                prop_assert!(seen.contains(key.to_string().as_bytes()));
            }
        }
    }

    #[test]
    fn random_picks_are_uniform() {
        let mut table: Table<Blob> = Table::new(hasher());
        for i in 0..10 {
            table.insert(Blob::from(format!("m{i}").as_str()));
        }
        let mut counts = BTreeMap::new();
        let mut rng = Rng::new(1);
        for _ in 0..100_000 {
            *counts.entry(table.random(&mut rng).unwrap().to_vec()).or_insert(0) += 1;
        }
        for count in counts.values() {
            assert!((9_000..11_000).contains(count), "{counts:?}");
        }
    }

    #[test]
    fn grows_and_shrinks_with_its_items() {
        let mut table: Table<Blob> = Table::new(hasher());
        for i in 0..10_000 {
            table.insert(Blob::from(format!("{i}").as_str()));
        }
        assert!(table.home_slots() >= 10_000 * 5 / 4);
        for i in 0..9_990 {
            table.remove(format!("{i}").as_bytes());
        }
        table.check();
        assert!(table.home_slots() <= 64, "shrank to {}", table.home_slots());
        table.rehash(TableHasher::new((1, 2)));
        table.check();
        assert_eq!(table.len(), 10);
    }
}
