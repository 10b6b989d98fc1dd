//! [`HashValue`]: a hash's fields. Small hashes are one [`Pack`] of alternating fields and
//! values (Redis's listpack encoding), in insertion order; past `hash-max-listpack-entries`
//! fields or `hash-max-listpack-value` bytes in a field or value they move to a [`Table`] (and
//! stay there, as in Redis).

use super::encodings::Encodings;
use super::pack::Pack;
use super::table::{Table, TableHasher};
use super::Blob;
use crate::rng::Rng;

/// A field and its value, as a hash holds them.
pub type FieldValue<'a> = (&'a [u8], &'a [u8]);

#[derive(Clone, Debug, PartialEq)]
pub enum HashValue {
    Pack(Pack),
    Table(Box<Table<(Blob, Blob)>>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Pack(Pack::new())
    }
}

impl HashValue {
    pub fn new() -> HashValue {
        HashValue::default()
    }

    pub fn len(&self) -> usize {
        match self {
            HashValue::Pack(pack) => pack.len() / 2,
            HashValue::Table(table) => table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_compact(&self) -> bool {
        matches!(self, HashValue::Pack(_))
    }

    /// The offset of `field`'s value in a pack.
    fn pack_value_offset(pack: &Pack, field: &[u8]) -> Option<usize> {
        let mut offsets = pack.offsets();
        while let Some((_, name)) = offsets.next() {
            let (at, _) = offsets.next().expect("fields come with values");
            if name == field {
                return Some(at);
            }
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            HashValue::Pack(pack) => Self::pack_value_offset(pack, field).map(|at| pack.at(at).0),
            HashValue::Table(table) => table.get(field).map(|(_, value)| &value[..]),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true if the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8], encodings: &Encodings, hasher: TableHasher) -> bool {
        if let HashValue::Pack(pack) = self {
            let too_long = |bytes: &[u8]| bytes.len() as u64 > encodings.hash_max_listpack_value;
            if !too_long(field) && !too_long(value) {
                if let Some(at) = Self::pack_value_offset(pack, field) {
                    pack.replace_at(at, value);
                    return false;
                }
                if ((pack.len() / 2) as u64) < encodings.hash_max_listpack_entries {
                    pack.push_back(field);
                    pack.push_back(value);
                    return true;
                }
            }
            self.convert(hasher);
        }
        match self {
            HashValue::Table(table) => table.insert((Blob::new(field), Blob::new(value))).is_none(),
            HashValue::Pack(_) => unreachable!("converted"),
        }
    }

    /// Moves a packed hash to a table.
    fn convert(&mut self, hasher: TableHasher) {
        if let HashValue::Pack(pack) = self {
            let mut table = Table::new(hasher);
            let mut elements = pack.iter();
            while let (Some(field), Some(value)) = (elements.next(), elements.next()) {
                table.insert((Blob::new(field), Blob::new(value)));
            }
            *self = HashValue::Table(Box::new(table));
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Pack(pack) => match Self::pack_value_offset(pack, field) {
                Some(value_at) => {
                    let field_at = pack.offsets().take_while(|(at, _)| *at < value_at).last().expect("a field").0;
                    let (_, end) = pack.at(value_at);
                    pack.remove_range(field_at, end, 2);
                    true
                }
                None => false,
            },
            HashValue::Table(table) => table.remove(field).is_some(),
        }
    }

    /// Every field and value (a pack in insertion order, a table in hash order).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            HashValue::Pack(pack) => {
                let mut elements = pack.iter();
                Box::new(std::iter::from_fn(move || Some((elements.next()?, elements.next()?))))
            }
            HashValue::Table(table) => Box::new(table.iter().map(|(field, value)| (&field[..], &value[..]))),
        }
    }

    /// One HSCAN step: a pack is returned whole (cursor 0), as Redis does for listpacks.
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<FieldValue<'_>>) {
        match self {
            HashValue::Pack(_) => (0, self.iter().collect()),
            HashValue::Table(table) => {
                let (next, found) = table.scan(cursor, count);
                (next, found.into_iter().map(|(field, value)| (&field[..], &value[..])).collect())
            }
        }
    }

    /// A uniformly random field and its value.
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], &[u8])> {
        match self {
            HashValue::Pack(pack) => {
                if pack.is_empty() {
                    return None;
                }
                let pair = rng.below((pack.len() / 2) as u64) as isize;
                Some((pack.get(2 * pair)?, pack.get(2 * pair + 1)?))
            }
            HashValue::Table(table) => table.random(rng).map(|(field, value)| (&field[..], &value[..])),
        }
    }

    /// Rehashes under the keyspace's new seed.
    pub fn rehash(&mut self, hasher: TableHasher) {
        if let HashValue::Table(table) = self {
            table.rehash(hasher);
        }
    }

    /// Heap bytes held (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        match self {
            HashValue::Pack(pack) => pack.heap_bytes(),
            HashValue::Table(table) => {
                table.heap_bytes() + table.iter().map(|(f, v)| f.heap_bytes() + v.heap_bytes()).sum::<usize>()
            }
        }
    }

    /// The hash's table size, if it is not packed (snapshots record it).
    pub fn home_slots(&self) -> Option<usize> {
        match self {
            HashValue::Pack(_) => None,
            HashValue::Table(table) => Some(table.home_slots()),
        }
    }

    /// Rebuilds a hash exactly as a snapshot recorded it.
    pub fn restore(home_slots: Option<usize>, pairs: Vec<(Blob, Blob)>, hasher: TableHasher) -> HashValue {
        match home_slots {
            None => HashValue::Pack(Pack::from_elements(pairs.iter().flat_map(|(f, v)| [&f[..], &v[..]]))),
            Some(home_slots) => {
                let mut table = Table::with_home_slots(hasher, home_slots);
                for pair in pairs {
                    table.insert(pair);
                }
                HashValue::Table(Box::new(table))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_packed_until_a_limit_then_moves_to_a_table() {
        let encodings = Encodings { hash_max_listpack_entries: 4, hash_max_listpack_value: 8, ..Encodings::default() };
        let hasher = TableHasher::new((1, 2));
        let mut hash = HashValue::new();
        for i in 0..4 {
            assert!(hash.insert(format!("f{i}").as_bytes(), b"v", &encodings, hasher));
        }
        assert!(!hash.insert(b"f1", b"again", &encodings, hasher));
        assert!(hash.is_compact());
        assert_eq!(hash.get(b"f1"), Some(&b"again"[..]));
        assert!(hash.remove(b"f0"));
        assert!(!hash.remove(b"f0"));
        assert_eq!(
            hash.iter().map(|(f, _)| f.to_vec()).collect::<Vec<_>>(),
            vec![b"f1".to_vec(), b"f2".into(), b"f3".into()]
        );
        assert!(hash.insert(b"long", b"a value longer than eight", &encodings, hasher));
        assert!(!hash.is_compact());
        assert_eq!(hash.len(), 4);
        assert_eq!(hash.get(b"f3"), Some(&b"v"[..]));
    }
}
