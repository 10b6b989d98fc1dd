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

/// Integer members, sorted, in one exact-size allocation (Redis's intset).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntSet(Box<[i64]>);

impl std::ops::Deref for IntSet {
    type Target = [i64];
    fn deref(&self) -> &[i64] {
        &self.0
    }
}

impl IntSet {
    pub fn insert(&mut self, at: usize, n: i64) {
        let mut ints = std::mem::take(&mut self.0).into_vec();
        ints.insert(at, n);
        self.0 = ints.into_boxed_slice();
    }

    pub fn remove(&mut self, at: usize) -> i64 {
        let mut ints = std::mem::take(&mut self.0).into_vec();
        let n = ints.remove(at);
        self.0 = ints.into_boxed_slice();
        n
    }

    pub fn from_sorted(ints: Vec<i64>) -> IntSet {
        IntSet(ints.into_boxed_slice())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum SetValue {
    Ints(IntSet),
    Table(Box<Table<Blob>>),
}

/// A member as a set holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    /// The member as an integer, if it is one (as an intset would hold it).
    fn as_int(&self) -> Option<i64> {
        match self {
            Member::Int(n) => Some(*n),
            Member::Bytes(bytes) => parse_i64(bytes),
        }
    }
}

/// Most members an intset holds whatever `set-max-intset-entries` says (Redis's bound, from
/// its intset internals).
const INTSET_ENTRIES_MAX: u64 = 1 << 30;

impl Default for SetValue {
    fn default() -> Self {
        SetValue::Ints(IntSet::default())
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
        self.contains_member(Member::Bytes(member))
    }

    /// Whether `member` (from this set or another) is here; integers meet integers without
    /// being written out.
    pub fn contains_member(&self, member: Member<'_>) -> bool {
        match self {
            SetValue::Ints(ints) => member.as_int().is_some_and(|n| ints.binary_search(&n).is_ok()),
            SetValue::Table(table) => table.contains(&member.as_bytes()),
        }
    }

    /// Adds `member`; true if it is new.
    pub fn insert(&mut self, member: &[u8], encodings: &Encodings, hasher: TableHasher) -> bool {
        self.insert_member(Member::Bytes(member), encodings, hasher)
    }

    /// Adds `member` (an integer stays one while the set is an intset); true if it is new.
    /// An intset becomes a table on a member that is not an integer, or once it would hold
    /// more than `set-max-intset-entries` (as Redis's `setTypeAdd`).
    pub fn insert_member(&mut self, member: Member<'_>, encodings: &Encodings, hasher: TableHasher) -> bool {
        if let SetValue::Ints(ints) = self {
            if let Some(n) = member.as_int() {
                match ints.binary_search(&n) {
                    Ok(_) => return false,
                    Err(at) if (ints.len() as u64) < encodings.set_max_intset_entries.min(INTSET_ENTRIES_MAX) => {
                        ints.insert(at, n);
                        return true;
                    }
                    Err(_) => {}
                }
            }
            self.convert(hasher);
        }
        match self {
            SetValue::Table(table) => table.insert(Blob::new(&member.as_bytes())).is_none(),
            SetValue::Ints(_) => unreachable!("converted"),
        }
    }

    /// A set of `members` as Redis builds a new one (`SINTERSTORE`, `SUNION`, ...): an
    /// intset while every member is an integer and within the limit.
    pub fn from_members<'a>(
        members: impl IntoIterator<Item = Member<'a>>,
        encodings: &Encodings,
        hasher: TableHasher,
    ) -> SetValue {
        let mut set = SetValue::new();
        for member in members {
            set.insert_member(member, encodings, hasher);
        }
        set
    }

    fn convert(&mut self, hasher: TableHasher) {
        if let SetValue::Ints(ints) = self {
            let mut table = Table::new(hasher);
            for n in ints.iter() {
                table.insert(Blob::new(n.to_string().as_bytes()));
            }
            *self = SetValue::Table(Box::new(table));
        }
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        self.remove_member(Member::Bytes(member))
    }

    /// Removes `member` (from this set or another); true if it was there.
    pub fn remove_member(&mut self, member: Member<'_>) -> bool {
        match self {
            SetValue::Ints(ints) => match member.as_int().map(|n| ints.binary_search(&n)) {
                Some(Ok(at)) => {
                    ints.remove(at);
                    true
                }
                _ => false,
            },
            SetValue::Table(table) => table.remove(&member.as_bytes()).is_some(),
        }
    }

    /// Removes a uniformly random member and returns it (as `SPOP` does).
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Bytes> {
        match self {
            SetValue::Ints(ints) if ints.is_empty() => None,
            SetValue::Ints(ints) => Some(Bytes::from(ints.remove(rng.below(ints.len() as u64) as usize).to_string())),
            SetValue::Table(table) => {
                let member = table.random(rng)?.clone();
                table.remove(&member);
                Some(member.to_bytes())
            }
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

    /// Members every one of `sets` holds (none when one is missing), as Redis's
    /// `sinterGenericCommand` finds them: the smallest set's members, in its order, that all
    /// the others hold.
    pub fn intersection<'a>(sets: &[Option<&'a SetValue>]) -> Box<dyn Iterator<Item = Member<'a>> + 'a> {
        let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&SetValue>>>() else {
            return Box::new(std::iter::empty());
        };
        sets.sort_by_key(|set| set.len());
        let Some((&smallest, others)) = sets.split_first() else {
            return Box::new(std::iter::empty());
        };
        let others: Vec<&SetValue> = others.iter().copied().filter(|set| !std::ptr::eq(*set, smallest)).collect();
        Box::new(smallest.iter().filter(move |member| others.iter().all(|set| set.contains_member(*member))))
    }

    /// Every member of `sets`, as a new set (Redis's `SUNION`).
    pub fn union<'a>(
        sets: impl IntoIterator<Item = &'a SetValue>,
        encodings: &Encodings,
        hasher: TableHasher,
    ) -> SetValue {
        SetValue::from_members(sets.into_iter().flat_map(SetValue::iter), encodings, hasher)
    }

    /// The members of the first of `sets` that none of the others holds (missing sets are
    /// empty), as a new set built the way Redis's `SDIFF` builds it: by adding the first set's
    /// members that no other set holds, or, when the others are small, by adding the whole
    /// first set and removing the others' members (which decides whether the result is still
    /// an intset, as in Redis).
    pub fn difference(sets: &[Option<&SetValue>], encodings: &Encodings, hasher: TableHasher) -> SetValue {
        let Some((&Some(first), others)) = sets.split_first() else {
            return SetValue::new();
        };
        let mut others: Vec<&SetValue> = others.iter().flatten().copied().collect();
        if others.iter().any(|set| std::ptr::eq(*set, first)) {
            return SetValue::new();
        }
        // Redis's estimate of each algorithm's work, the first one given an advantage.
        let sizes = 1 + others.len() as u64;
        let first_work = first.len() as u64 * sizes / 2;
        let second_work = first.len() as u64 + others.iter().map(|set| set.len() as u64).sum::<u64>();
        if first_work <= second_work {
            // Larger sets first: a member is likelier to be found early.
            others.sort_by_key(|set| std::cmp::Reverse(set.len()));
            let kept = first.iter().filter(|member| !others.iter().any(|set| set.contains_member(*member)));
            return SetValue::from_members(kept, encodings, hasher);
        }
        let mut result = SetValue::from_members(first.iter(), encodings, hasher);
        for set in others {
            if result.is_empty() {
                break;
            }
            for member in set.iter() {
                result.remove_member(member);
            }
        }
        result
    }

    pub fn rehash(&mut self, hasher: TableHasher) {
        if let SetValue::Table(table) = self {
            table.rehash(hasher);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            SetValue::Ints(ints) => ints.len() * 8,
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
                SetValue::Ints(IntSet(ints.into_boxed_slice()))
            }
            Some(home_slots) => {
                let mut table = Table::with_home_slots(hasher, home_slots);
                for member in members {
                    table.insert(member);
                }
                SetValue::Table(Box::new(table))
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
