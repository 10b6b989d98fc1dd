//! [`SetValue`]: a set's members. Sets of integers only, up to `set-max-intset-entries`
//! members, are a sorted vector of integers (Redis's intset); any other set is a [`Table`] of
//! members, and stays one.

use super::encodings::Encodings;
use super::table::{Table, TableHasher};
use super::Blob;
use crate::args::parse_i64;
use crate::rng::Rng;
use bytes::Bytes;
use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq)]
pub enum SetValue {
    Ints(Vec<i64>),
    Table(Table<Blob>),
}

/// A member as a set holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl Member<'_> {
    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Member::Int(n) => Cow::Owned(n.to_string().into_bytes()),
            Member::Bytes(bytes) => Cow::Borrowed(bytes),
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        match self {
            Member::Int(n) => Bytes::from(n.to_string()),
            Member::Bytes(bytes) => Bytes::copy_from_slice(bytes),
        }
    }
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue::Ints(Vec::new())
    }
}

impl SetValue {
    pub fn new() -> SetValue {
        SetValue::default()
    }

    pub fn len(&self) -> usize {
        match self {
            SetValue::Ints(ints) => ints.len(),
            SetValue::Table(table) => table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_intset(&self) -> bool {
        matches!(self, SetValue::Ints(_))
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(ints) => parse_i64(member).is_some_and(|n| ints.binary_search(&n).is_ok()),
            SetValue::Table(table) => table.contains(member),
        }
    }

    /// Adds `member`; true if it is new.
    pub fn insert(&mut self, member: &[u8], encodings: &Encodings, hasher: TableHasher) -> bool {
        if let SetValue::Ints(ints) = self {
            if let Some(n) = parse_i64(member) {
                match ints.binary_search(&n) {
                    Ok(_) => return false,
                    Err(at) if (ints.len() as u64) < encodings.set_max_intset_entries => {
                        ints.insert(at, n);
                        return true;
                    }
                    Err(_) => {}
                }
            }
            self.convert(hasher);
        }
        match self {
            SetValue::Table(table) => table.insert(Blob::new(member)).is_none(),
            SetValue::Ints(_) => unreachable!("converted"),
        }
    }

    fn convert(&mut self, hasher: TableHasher) {
        if let SetValue::Ints(ints) = self {
            let mut table = Table::new(hasher);
            for n in ints.iter() {
                table.insert(Blob::new(n.to_string().as_bytes()));
            }
            *self = SetValue::Table(table);
        }
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(ints) => match parse_i64(member).map(|n| ints.binary_search(&n)) {
                Some(Ok(at)) => {
                    ints.remove(at);
                    true
                }
                _ => false,
            },
            SetValue::Table(table) => table.remove(member).is_some(),
        }
    }

    /// Every member (integers ascending; a table in hash order).
    pub fn iter(&self) -> Box<dyn Iterator<Item = Member<'_>> + '_> {
        match self {
            SetValue::Ints(ints) => Box::new(ints.iter().map(|&n| Member::Int(n))),
            SetValue::Table(table) => Box::new(table.iter().map(|member| Member::Bytes(member))),
        }
    }

    /// One SSCAN step: an intset is returned whole (cursor 0), as Redis does.
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<Member<'_>>) {
        match self {
            SetValue::Ints(_) => (0, self.iter().collect()),
            SetValue::Table(table) => {
                let (next, found) = table.scan(cursor, count);
                (next, found.into_iter().map(|member| Member::Bytes(member)).collect())
            }
        }
    }

    /// A uniformly random member.
    pub fn random(&self, rng: &mut Rng) -> Option<Member<'_>> {
        match self {
            SetValue::Ints(ints) if ints.is_empty() => None,
            SetValue::Ints(ints) => Some(Member::Int(ints[rng.below(ints.len() as u64) as usize])),
            SetValue::Table(table) => table.random(rng).map(|member| Member::Bytes(member)),
        }
    }

    pub fn rehash(&mut self, hasher: TableHasher) {
        if let SetValue::Table(table) = self {
            table.rehash(hasher);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            SetValue::Ints(ints) => ints.capacity() * 8,
            SetValue::Table(table) => table.heap_bytes() + table.iter().map(Blob::heap_bytes).sum::<usize>(),
        }
    }

    pub fn home_slots(&self) -> Option<usize> {
        match self {
            SetValue::Ints(_) => None,
            SetValue::Table(table) => Some(table.home_slots()),
        }
    }

    /// Rebuilds a set exactly as a snapshot recorded it (`None`: an intset).
    pub fn restore(home_slots: Option<usize>, members: Vec<Blob>, hasher: TableHasher) -> Result<SetValue, String> {
        Ok(match home_slots {
            None => {
                let mut ints = members
                    .iter()
                    .map(|member| parse_i64(member).ok_or("an intset member is not an integer"))
                    .collect::<Result<Vec<i64>, _>>()?;
                ints.sort_unstable();
                ints.dedup();
                SetValue::Ints(ints)
            }
            Some(home_slots) => {
                let mut table = Table::with_home_slots(hasher, home_slots);
                for member in members {
                    table.insert(member);
                }
                SetValue::Table(table)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_stay_an_intset_until_a_string_or_the_limit() {
        let encodings = Encodings { set_max_intset_entries: 3, ..Encodings::default() };
        let hasher = TableHasher::new((3, 4));
        let mut set = SetValue::new();
        for member in ["3", "1", "2", "1"] {
            set.insert(member.as_bytes(), &encodings, hasher);
        }
        assert!(set.is_intset());
        assert_eq!(set.iter().map(|m| m.to_bytes()).collect::<Vec<_>>(), vec!["1", "2", "3"]);
        assert!(!set.contains(b"01"), "only canonical integers are integers");
        assert!(set.insert(b"4", &encodings, hasher));
        assert!(!set.is_intset());
        assert!(set.contains(b"2") && set.contains(b"4"));
        assert!(set.remove(b"2"));
        assert_eq!(set.len(), 3);
    }
}
