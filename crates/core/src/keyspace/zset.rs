//! [`ZSetValue`]: a sorted set. Small ones are one [`Pack`] of alternating members and scores
//! (8 bytes each), kept in order (Redis's listpack encoding); past `zset-max-listpack-entries`
//! members or `zset-max-listpack-value` bytes in a member they become a [`ScoreTree`] for the
//! order plus a [`Table`] from member to score (Redis's skiplist encoding), and stay so.

use super::encodings::Encodings;
use super::pack::Pack;
use super::score_tree::{compare, Pair, ScoreTree};
use super::table::{Table, TableHasher};
use super::Blob;
use crate::rng::Rng;
use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq)]
pub enum ZSetValue {
    Pack(Pack),
    Sorted(Box<SortedSet>),
}

/// A large sorted set: the order, and each member's score.
#[derive(Clone, Debug, PartialEq)]
pub struct SortedSet {
    tree: ScoreTree,
    scores: Table<(Blob, f64)>,
}

/// A score as a pack keeps it: Redis's listpack stores integral scores as integers, so a
/// negative zero comes back as zero there (and stays negative in the skiplist form).
fn packed_score(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// Largest integral score kept as an integer in a pack (every integer up to it is exact).
const PACKED_INTEGER_MAX: f64 = 9_007_199_254_740_992.0;

/// A score as a pack stores it: an integral one (most are) as a zigzag varint of one to eight
/// bytes, as Redis's listpack keeps small integers; any other as a zero byte then its eight
/// IEEE bytes. The lengths never overlap.
fn encode_score(score: f64) -> ScoreBytes {
    let mut bytes = [0u8; 9];
    if score.fract() == 0.0 && score.abs() <= PACKED_INTEGER_MAX && !(score == 0.0 && score.is_sign_negative()) {
        let n = score as i64;
        let mut zigzag = ((n << 1) ^ (n >> 63)) as u64;
        let mut len = 0;
        loop {
            let group = (zigzag & 0x7f) as u8;
            zigzag >>= 7;
            bytes[len] = if zigzag == 0 { group } else { group | 0x80 };
            len += 1;
            if zigzag == 0 {
                return ScoreBytes { bytes, len };
            }
        }
    }
    bytes[1..].copy_from_slice(&score.to_le_bytes());
    ScoreBytes { bytes, len: 9 }
}

struct ScoreBytes {
    bytes: [u8; 9],
    len: usize,
}

impl std::ops::Deref for ScoreBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn score_of(bytes: &[u8]) -> f64 {
    if bytes.len() == 9 {
        return f64::from_le_bytes(bytes[1..].try_into().expect("eight bytes"));
    }
    let (mut zigzag, mut shift) = (0u64, 0);
    for byte in bytes {
        zigzag |= u64::from(byte & 0x7f) << shift;
        shift += 7;
    }
    (((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64)) as f64
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue::Pack(Pack::new())
    }
}

impl ZSetValue {
    pub fn new() -> ZSetValue {
        ZSetValue::default()
    }

    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Pack(pack) => pack.len() / 2,
            ZSetValue::Sorted(sorted) => sorted.tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_compact(&self) -> bool {
        matches!(self, ZSetValue::Pack(_))
    }

    /// In a pack: the offset of `member` and its score.
    fn pack_find(pack: &Pack, member: &[u8]) -> Option<(usize, f64)> {
        let mut offsets = pack.offsets();
        while let Some((at, name)) = offsets.next() {
            let (_, score) = offsets.next().expect("members come with scores");
            if name == member {
                return Some((at, score_of(score)));
            }
        }
        None
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Pack(pack) => Self::pack_find(pack, member).map(|(_, score)| score),
            ZSetValue::Sorted(sorted) => sorted.scores.get(member).map(|(_, score)| *score),
        }
    }

    /// Sets `member`'s score; returns its previous score (None if it is new).
    pub fn insert(&mut self, member: &[u8], score: f64, encodings: &Encodings, hasher: TableHasher) -> Option<f64> {
        assert!(!score.is_nan(), "scores are never NaN");
        let previous = self.remove(member);
        if let ZSetValue::Pack(pack) = self {
            let fits = member.len() as u64 <= encodings.zset_max_listpack_value
                && ((pack.len() / 2) as u64) < encodings.zset_max_listpack_entries;
            if fits {
                // Before the first pair that sorts after the new one.
                let at = {
                    let mut offsets = pack.offsets();
                    let mut at = pack.end();
                    while let Some((offset, name)) = offsets.next() {
                        let (_, other) = offsets.next().expect("members come with scores");
                        if compare((score_of(other), name), (score, member)) == Ordering::Greater {
                            at = offset;
                            break;
                        }
                    }
                    at
                };
                pack.insert_at(at, &encode_score(packed_score(score)));
                pack.insert_at(at, member);
                return previous;
            }
            self.convert(hasher);
        }
        match self {
            ZSetValue::Sorted(sorted) => {
                let member = Blob::new(member);
                sorted.tree.insert(score, member.clone());
                sorted.scores.insert((member, score));
            }
            ZSetValue::Pack(_) => unreachable!("converted"),
        }
        previous
    }

    fn convert(&mut self, hasher: TableHasher) {
        if let ZSetValue::Pack(_) = self {
            let mut sorted = SortedSet { tree: ScoreTree::new(), scores: Table::new(hasher) };
            for (member, score) in self.iter() {
                sorted.tree.insert(score, Blob::new(member));
                sorted.scores.insert((Blob::new(member), score));
            }
            *self = ZSetValue::Sorted(Box::new(sorted));
        }
    }

    /// Removes `member`; returns its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Pack(pack) => {
                let (at, score) = Self::pack_find(pack, member)?;
                let (_, score_at) = pack.at(at);
                let (_, end) = pack.at(score_at);
                pack.remove_range(at, end, 2);
                Some(score)
            }
            ZSetValue::Sorted(sorted) => {
                let (_, score) = sorted.scores.remove(member)?;
                assert!(sorted.tree.remove(score, member), "the tree and the scores agree");
                Some(score)
            }
        }
    }

    /// Every member and score, ascending.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        self.iter_from(0)
    }

    /// Members and scores from ascending rank `rank` on.
    pub fn iter_from(&self, rank: usize) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        match self {
            ZSetValue::Pack(pack) => {
                let mut elements = pack.iter();
                let pairs = std::iter::from_fn(move || Some((elements.next()?, score_of(elements.next()?))));
                Box::new(pairs.skip(rank))
            }
            ZSetValue::Sorted(sorted) => {
                Box::new(sorted.tree.iter_from(rank).map(|(score, member)| (&member[..], *score)))
            }
        }
    }

    /// Members and scores from ascending rank `rank` down to rank 0 (descending).
    pub fn iter_back_from(&self, rank: usize) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        match self {
            ZSetValue::Pack(pack) => {
                let count = self.len();
                if count == 0 {
                    return Box::new(std::iter::empty());
                }
                let skip = count - 1 - rank.min(count - 1);
                let mut elements = pack.iter().rev();
                let pairs = std::iter::from_fn(move || {
                    let score = score_of(elements.next()?);
                    Some((elements.next()?, score))
                });
                Box::new(pairs.skip(skip))
            }
            ZSetValue::Sorted(sorted) => {
                Box::new(sorted.tree.iter_back_from(rank).map(|(score, member)| (&member[..], *score)))
            }
        }
    }

    /// How many members sort before the first one for which `below` is false (`below` must be
    /// true for a prefix of the order): the rank where a score or lexical range starts.
    pub fn count_while(&self, below: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSetValue::Pack(_) => self.iter().take_while(|(member, score)| below(*score, member)).count(),
            ZSetValue::Sorted(sorted) => sorted.tree.count_while(below),
        }
    }

    /// `member`'s ascending rank.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(match self {
            ZSetValue::Pack(_) => self.iter().position(|(name, _)| name == member).expect("present"),
            ZSetValue::Sorted(sorted) => sorted.tree.rank(score, member),
        })
    }

    /// The member at ascending rank `rank`, with its score.
    pub fn at_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.iter_from(rank).next()
    }

    /// Removes the members of ascending ranks `from..to`; returns how many it removed. The
    /// large form finds them in O(log N) and removes each in O(log N).
    pub fn remove_ranks(&mut self, from: usize, to: usize) -> usize {
        let to = to.min(self.len());
        if from >= to {
            return 0;
        }
        match self {
            ZSetValue::Pack(pack) => {
                let start = pack.offset_of(2 * from as isize).expect("in range");
                let end = pack.offset_of(2 * to as isize).unwrap_or(pack.end());
                pack.remove_range(start, end, 2 * (to - from));
            }
            ZSetValue::Sorted(sorted) => {
                let doomed: Vec<Pair> = sorted.tree.iter_from(from).take(to - from).cloned().collect();
                for (score, member) in doomed {
                    sorted.scores.remove(&member);
                    sorted.tree.remove(score, &member);
                }
            }
        }
        to - from
    }

    /// A sorted set of `pairs`, which are ascending and distinct, in the form Redis would
    /// give a new one: packed if it fits the encodings (`zsetConvertToListpackIfNeeded`).
    pub fn from_sorted(pairs: &[(impl AsRef<[u8]>, f64)], encodings: &Encodings, hasher: TableHasher) -> ZSetValue {
        debug_assert!(pairs.windows(2).all(|w| compare((w[0].1, w[0].0.as_ref()), (w[1].1, w[1].0.as_ref())).is_lt()));
        let fits = pairs.len() as u64 <= encodings.zset_max_listpack_entries
            && pairs.iter().all(|(member, _)| member.as_ref().len() as u64 <= encodings.zset_max_listpack_value);
        if fits {
            let scores: Vec<ScoreBytes> = pairs.iter().map(|(_, score)| encode_score(packed_score(*score))).collect();
            let elements = pairs.iter().zip(&scores).flat_map(|((member, _), score)| [member.as_ref(), &score[..]]);
            return ZSetValue::Pack(Pack::from_elements(elements));
        }
        let mut sorted = SortedSet { tree: ScoreTree::new(), scores: Table::new(hasher) };
        for (member, score) in pairs {
            let member = Blob::new(member.as_ref());
            sorted.tree.insert(*score, member.clone());
            sorted.scores.insert((member, *score));
        }
        ZSetValue::Sorted(Box::new(sorted))
    }

    /// A uniformly random member and its score.
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], f64)> {
        match self {
            ZSetValue::Pack(_) if self.is_empty() => None,
            ZSetValue::Pack(_) => self.iter_from(rng.below(self.len() as u64) as usize).next(),
            ZSetValue::Sorted(sorted) => sorted.scores.random(rng).map(|(member, score)| (&member[..], *score)),
        }
    }

    /// One ZSCAN step: a pack is returned whole (cursor 0), as Redis does for listpacks.
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<(&[u8], f64)>) {
        match self {
            ZSetValue::Pack(_) => (0, self.iter().collect()),
            ZSetValue::Sorted(sorted) => {
                let (next, found) = sorted.scores.scan(cursor, count);
                (next, found.into_iter().map(|(member, score)| (&member[..], *score)).collect())
            }
        }
    }

    pub fn rehash(&mut self, hasher: TableHasher) {
        if let ZSetValue::Sorted(sorted) = self {
            sorted.scores.rehash(hasher);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            ZSetValue::Pack(pack) => pack.heap_bytes(),
            ZSetValue::Sorted(sorted) => {
                std::mem::size_of::<SortedSet>()
                    + sorted.tree.heap_bytes()
                    + sorted.scores.heap_bytes()
                    + sorted.scores.iter().map(|(member, _)| member.heap_bytes()).sum::<usize>()
            }
        }
    }

    pub fn home_slots(&self) -> Option<usize> {
        match self {
            ZSetValue::Pack(_) => None,
            ZSetValue::Sorted(sorted) => Some(sorted.scores.home_slots()),
        }
    }

    /// Rebuilds a sorted set exactly as a snapshot recorded it (`None`: packed).
    pub fn restore(
        home_slots: Option<usize>,
        pairs: Vec<(Blob, f64)>,
        hasher: TableHasher,
    ) -> Result<ZSetValue, String> {
        if pairs.iter().any(|(_, score)| score.is_nan()) {
            return Err("a sorted set score is NaN".into());
        }
        let mut sorted_pairs = pairs;
        sorted_pairs.sort_by(|a, b| compare((a.1, &a.0), (b.1, &b.0)));
        sorted_pairs.dedup_by(|a, b| a.0 == b.0);
        Ok(match home_slots {
            None => ZSetValue::Pack(Pack::from_elements(
                sorted_pairs
                    .iter()
                    .flat_map(|(member, score)| [member.to_vec(), encode_score(packed_score(*score)).to_vec()])
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|e| &e[..]),
            )),
            Some(home_slots) => {
                let mut sorted =
                    SortedSet { tree: ScoreTree::new(), scores: Table::with_home_slots(hasher, home_slots) };
                for (member, score) in sorted_pairs {
                    if sorted.scores.insert((member.clone(), score)).is_none() {
                        sorted.tree.insert(score, member);
                    }
                }
                ZSetValue::Sorted(Box::new(sorted))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_scores_read_back_exactly_and_integers_are_short() {
        for score in [
            0.0,
            1.0,
            -1.0,
            63.0,
            64.0,
            -65.0,
            1e15,
            -9007199254740992.0,
            9007199254740992.0,
            0.5,
            -2.25,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9007199254740994.0,
            -0.0,
        ] {
            let encoded = encode_score(score);
            assert_eq!(score_of(&encoded).to_bits(), score.to_bits(), "{score}");
        }
        assert_eq!(encode_score(5.0).len(), 1);
        assert_eq!(encode_score(-300.0).len(), 2);
        assert_eq!(encode_score(0.1).len(), 9);
    }
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn both_forms_answer_alike(ops in prop::collection::vec((any::<bool>(), -20i32..20, 0u16..60), 0..400)) {
            let hasher = TableHasher::new((5, 6));
            let packed = Encodings { zset_max_listpack_entries: 1000, ..Encodings::default() };
            let sorted = Encodings { zset_max_listpack_entries: 0, ..Encodings::default() };
            let (mut a, mut b) = (ZSetValue::new(), ZSetValue::new());
            for (add, score, member) in ops {
                let member = format!("m{member}");
                if add {
                    prop_assert_eq!(
                        a.insert(member.as_bytes(), f64::from(score), &packed, hasher),
                        b.insert(member.as_bytes(), f64::from(score), &sorted, hasher)
                    );
                } else {
                    prop_assert_eq!(a.remove(member.as_bytes()), b.remove(member.as_bytes()));
                }
            }
            prop_assert!(a.is_compact() && (b.is_empty() || !b.is_compact()));
            prop_assert!(a.iter().eq(b.iter()));
            let all: Vec<(Vec<u8>, f64)> = a.iter().map(|(m, s)| (m.to_vec(), s)).collect();
            prop_assert!(all.windows(2).all(|w| compare((w[0].1, &w[0].0), (w[1].1, &w[1].0)) == Ordering::Less));
            for (rank, (member, _)) in all.iter().enumerate() {
                prop_assert_eq!(a.rank(member), Some(rank));
                prop_assert_eq!(b.rank(member), Some(rank));
                prop_assert!(a.iter_back_from(rank).eq(b.iter_back_from(rank)));
            }
            prop_assert_eq!(a.count_while(|s, _| s < 0.0), b.count_while(|s, _| s < 0.0));
        }
    }
}
