//! Hash slots: which of the 16384 slots a key belongs to (CRC16 of the key, or of its
//! `{hash tag}`), exactly as Redis Cluster computes it.

use crate::limits::SLOTS;
use serde::{Deserialize, Serialize};

/// CRC16-CCITT (XMODEM), the checksum Redis Cluster uses for key slots.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// The part of the key that is hashed: the text between the first `{` and the next `}` if it
/// is non-empty, else the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(length) = key[open + 1..].iter().position(|&b| b == b'}') {
            if length > 0 {
                return &key[open + 1..open + 1 + length];
            }
        }
    }
    key
}

pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & (SLOTS - 1)
}

/// The slots a shard owns, as inclusive ranges `(first, last)`: sorted, apart, within
/// `0..SLOTS`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRanges(Vec<(u16, u16)>);

impl SlotRanges {
    /// The ranges, if they are well formed (any order; adjacent ones are joined).
    pub fn new(mut ranges: Vec<(u16, u16)>) -> Option<SlotRanges> {
        ranges.sort_unstable();
        let mut joined: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (first, last) in ranges {
            if first > last || last >= SLOTS {
                return None;
            }
            match joined.last_mut() {
                Some((_, end)) if first <= *end => return None,
                Some((_, end)) if first == *end + 1 => *end = last,
                _ => joined.push((first, last)),
            }
        }
        Some(SlotRanges(joined))
    }

    pub fn contains(&self, slot: u16) -> bool {
        let at = self.0.partition_point(|(_, last)| *last < slot);
        self.0.get(at).is_some_and(|(first, _)| *first <= slot)
    }

    pub fn every_slot() -> SlotRanges {
        SlotRanges(vec![(0, SLOTS - 1)])
    }

    /// Whether any slot of `first..=last` is in these ranges.
    pub fn overlaps(&self, first: u16, last: u16) -> bool {
        self.0.iter().any(|&(a, b)| a <= last && first <= b)
    }

    /// Whether every slot of `first..=last` is in these ranges.
    pub fn covers(&self, first: u16, last: u16) -> bool {
        self.0.iter().any(|&(a, b)| a <= first && last <= b)
    }

    /// These ranges less the slots of `other`.
    pub fn without(&self, other: &SlotRanges) -> SlotRanges {
        let mut left = Vec::new();
        for &(first, last) in &self.0 {
            let mut from = u32::from(first);
            for &(a, b) in &other.0 {
                let (a, b) = (u32::from(a), u32::from(b));
                if b < from || a > u32::from(last) {
                    continue;
                }
                if a > from {
                    left.push((from as u16, (a - 1) as u16));
                }
                from = b + 1;
            }
            if from <= u32::from(last) {
                left.push((from as u16, last));
            }
        }
        SlotRanges(left)
    }

    pub fn is_every_slot(&self) -> bool {
        self.0 == [(0, SLOTS - 1)]
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_ranges_are_checked_joined_and_searched() {
        let ranges = SlotRanges::new(vec![(100, 199), (0, 9), (10, 20)]).unwrap();
        assert_eq!(ranges.ranges(), &[(0, 20), (100, 199)]);
        for (slot, owned) in [(0, true), (20, true), (21, false), (99, false), (100, true), (199, true), (200, false)] {
            assert_eq!(ranges.contains(slot), owned, "slot {slot}");
        }
        assert_eq!(SlotRanges::new(vec![(5, 4)]), None, "reversed");
        assert_eq!(SlotRanges::new(vec![(0, SLOTS)]), None, "past the last slot");
        assert_eq!(SlotRanges::new(vec![(0, 10), (10, 20)]), None, "overlapping");
        assert!(!SlotRanges::default().contains(0));
        let every = SlotRanges::every_slot();
        let less = every.without(&ranges);
        assert_eq!(less.ranges(), &[(21, 99), (200, SLOTS - 1)]);
        assert_eq!(less.without(&less).ranges(), &[]);
        assert_eq!(ranges.without(&SlotRanges::new(vec![(5, 150)]).unwrap()).ranges(), &[(0, 4), (151, 199)]);
        assert!(
            ranges.overlaps(15, 50) && !ranges.overlaps(21, 99) && ranges.covers(100, 150) && !ranges.covers(0, 21)
        );
    }

    #[test]
    fn matches_redis_cluster() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"{user1000}.followers"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
    }
}
