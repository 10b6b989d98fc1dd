//! [`StreamValue`]: a Redis stream — entries ordered by id, the nodes Redis would pack them in,
//! and the consumer groups with their pending entries.
//!
//! Entries live in one ordered map. Redis packs them into radix-tree nodes of at most
//! `stream-node-max-entries` entries (or `stream-node-max-bytes` bytes), and approximate
//! trimming (`MAXLEN ~`) only ever removes whole nodes; the node boundaries are kept here, so
//! that `~` trims exactly what Redis trims and every replica agrees on it.
//!
//! Everything a consumer group knows (its last delivered id, its read counter, every pending
//! entry with its owner, delivery time and count) is part of the value, so it is replicated,
//! snapshotted and survives failover like the entries themselves.

use super::Blob;
use crate::types::TimeMs;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

/// An entry id: milliseconds, then a sequence number within the millisecond.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The id right after this one, if any.
    pub fn next(self) -> Option<StreamId> {
        match (self.seq.checked_add(1), self.ms.checked_add(1)) {
            (Some(seq), _) => Some(StreamId { ms: self.ms, seq }),
            (None, Some(ms)) => Some(StreamId { ms, seq: 0 }),
            (None, None) => None,
        }
    }

    /// The id right before this one, if any.
    pub fn prev(self) -> Option<StreamId> {
        match (self.seq.checked_sub(1), self.ms.checked_sub(1)) {
            (Some(seq), _) => Some(StreamId { ms: self.ms, seq }),
            (None, Some(ms)) => Some(StreamId { ms, seq: u64::MAX }),
            (None, None) => None,
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    pub fn to_bytes(self) -> bytes::Bytes {
        bytes::Bytes::from(self.to_string())
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis's `SCG_INVALID_ENTRIES_READ`: a group's read counter that cannot be known.
pub const ENTRIES_READ_UNKNOWN: i64 = -1;

/// The largest a node's listpack may grow, whatever `stream-node-max-bytes` says (Redis's
/// `STREAM_LISTPACK_MAX_SIZE`).
pub const NODE_BYTES_MAX: u64 = 1 << 30;

/// One radix-tree node as Redis would hold it: the ids it was given (live or deleted since),
/// how many are still live and roughly how many bytes its listpack takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub first: StreamId,
    pub last: StreamId,
    /// Entries appended to it, deleted ones included (Redis's count + deleted).
    pub appended: u64,
    pub live: u64,
    pub bytes: u64,
}

/// A pending entry: delivered to a consumer of the group and not acknowledged yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub consumer: Blob,
    pub delivery_time_ms: TimeMs,
    pub delivery_count: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Consumer {
    pub seen_time_ms: TimeMs,
    /// Its pending entries (their details are in the group's list).
    pub pending: BTreeSet<StreamId>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries the group has read (Redis's `entries_read`), or [`ENTRIES_READ_UNKNOWN`].
    pub entries_read: i64,
    pub pending: BTreeMap<StreamId, Pending>,
    pub consumers: BTreeMap<Blob, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, pending: BTreeMap::new(), consumers: BTreeMap::new() }
    }

    /// The consumer called `name`, created if missing (its seen time is set either way).
    pub fn consumer(&mut self, name: &[u8], now_ms: TimeMs) -> &mut Consumer {
        let consumer = self.consumers.entry(Blob::new(name)).or_default();
        consumer.seen_time_ms = now_ms;
        consumer
    }

    /// Makes `id` pending for `consumer` (moving it from another consumer if it was pending
    /// there), delivered at `delivery_time_ms`; a new pending entry counts one delivery. The
    /// caller adjusts the count as its command does.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], delivery_time_ms: TimeMs) -> &mut Pending {
        let owner = Blob::new(consumer);
        let pending = self.pending.entry(id).or_insert_with(|| Pending {
            consumer: owner.clone(),
            delivery_time_ms,
            delivery_count: 1,
        });
        if pending.consumer != owner {
            if let Some(previous) = self.consumers.get_mut(&pending.consumer) {
                previous.pending.remove(&id);
            }
            pending.consumer = owner.clone();
        }
        pending.delivery_time_ms = delivery_time_ms;
        self.consumers.entry(owner).or_default().pending.insert(id);
        self.pending.get_mut(&id).expect("inserted above")
    }

    /// Acknowledges `id`: true if it was pending.
    pub fn acknowledge(&mut self, id: StreamId) -> bool {
        match self.pending.remove(&id) {
            Some(pending) => {
                if let Some(consumer) = self.consumers.get_mut(&pending.consumer) {
                    consumer.pending.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Removes a consumer and its pending entries; how many it had.
    pub fn remove_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pending {
            self.pending.remove(id);
        }
        Some(consumer.pending.len())
    }
}

/// Why an entry could not be added.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    /// The id is not above the last one.
    NotAboveLast,
    /// The last id is the largest there is.
    Exhausted,
}

/// How an `XADD` picks the new entry's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewId {
    /// `*`: from the (leader-stamped) time, never below the last id.
    Auto,
    /// `ms-*`: this millisecond, the next sequence number in it.
    AutoSeq(u64),
    Explicit(StreamId),
}

/// The limits of the nodes entries are packed into (Redis's `stream-node-max-*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLimits {
    /// 0: no limit.
    pub entries_max: u64,
    /// 0: only the absolute [`NODE_BYTES_MAX`].
    pub bytes_max: u64,
}

/// How to trim: down to a length, or up to an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimTo {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamValue {
    entries: BTreeMap<StreamId, Box<[Blob]>>,
    nodes: VecDeque<Node>,
    pub last_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Blob, Group>,
}

impl StreamValue {
    pub fn new() -> StreamValue {
        StreamValue::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// A stream is a value even when it has no entries (unlike the collections).
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn has_entries(&self) -> bool {
        !self.entries.is_empty()
    }

    /// The first entry's id, or 0-0 when there is none (Redis's `first_id`).
    pub fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or_default()
    }

    pub fn first_entry(&self) -> Option<(StreamId, &[Blob])> {
        self.entries.iter().next().map(|(id, fields)| (*id, &fields[..]))
    }

    pub fn last_entry(&self) -> Option<(StreamId, &[Blob])> {
        self.entries.iter().next_back().map(|(id, fields)| (*id, &fields[..]))
    }

    pub fn get(&self, id: StreamId) -> Option<&[Blob]> {
        self.entries.get(&id).map(|fields| &fields[..])
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.entries.contains_key(&id)
    }

    /// The entries from `start` to `end` (both included), in order.
    pub fn range(&self, start: StreamId, end: StreamId) -> impl DoubleEndedIterator<Item = (StreamId, &[Blob])> + '_ {
        use std::ops::Bound;
        // An inverted range is empty (a BTreeMap range would panic).
        let end = if start <= end { Bound::Included(end) } else { Bound::Excluded(start) };
        self.entries.range((Bound::Included(start), end)).map(|(id, fields)| (*id, &fields[..]))
    }

    pub fn nodes(&self) -> &VecDeque<Node> {
        &self.nodes
    }

    /// The id an `XADD` would give its entry, or why it cannot add one.
    pub fn next_id(&self, new_id: NewId, now_ms: TimeMs) -> Result<StreamId, AddError> {
        let last = self.last_id;
        let id = match new_id {
            NewId::Auto if now_ms > last.ms => StreamId::new(now_ms, 0),
            NewId::Auto => last.next().ok_or(AddError::Exhausted)?,
            NewId::AutoSeq(ms) if ms > last.ms => StreamId::new(ms, 0),
            NewId::AutoSeq(ms) if ms == last.ms => {
                StreamId::new(ms, last.seq.checked_add(1).ok_or(AddError::NotAboveLast)?)
            }
            NewId::AutoSeq(_) => return Err(AddError::NotAboveLast),
            NewId::Explicit(id) => id,
        };
        if id <= last {
            return Err(AddError::NotAboveLast);
        }
        Ok(id)
    }

    /// Appends an entry with an id above the last (see [`StreamValue::next_id`]).
    pub fn append(&mut self, id: StreamId, fields: Box<[Blob]>, limits: NodeLimits) {
        assert!(id > self.last_id, "stream ids only grow");
        let bytes = entry_bytes(&fields);
        let bytes_max = match limits.bytes_max {
            0 => NODE_BYTES_MAX,
            max => max.min(NODE_BYTES_MAX),
        };
        let fits = self.nodes.back().is_some_and(|node| {
            node.bytes + bytes < bytes_max && (limits.entries_max == 0 || node.appended < limits.entries_max)
        });
        match self.nodes.back_mut() {
            Some(node) if fits => {
                node.last = id;
                node.appended += 1;
                node.live += 1;
                node.bytes += bytes;
            }
            _ => self.nodes.push_back(Node {
                first: id,
                last: id,
                appended: 1,
                live: 1,
                bytes: NODE_HEADER_BYTES + bytes,
            }),
        }
        self.entries.insert(id, fields);
        self.last_id = id;
        self.entries_added += 1;
    }

    /// Deletes one entry (XDEL): true if it was there.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        let at = self.node_of(id).expect("every entry is in a node");
        let node = &mut self.nodes[at];
        node.live -= 1;
        if node.live == 0 {
            self.nodes.remove(at);
        }
        self.max_deleted_id = self.max_deleted_id.max(id);
        true
    }

    /// The position of the node holding `id`.
    fn node_of(&self, id: StreamId) -> Option<usize> {
        let after = self.nodes.partition_point(|node| node.first <= id);
        after.checked_sub(1).filter(|at| self.nodes[*at].last >= id)
    }

    /// Trims as Redis's `streamTrim` does: whole nodes first; then, unless `approximate`,
    /// single entries from the front. `limit` bounds the entries removed (0: no bound).
    /// Returns how many entries went.
    pub fn trim(&mut self, to: TrimTo, approximate: bool, limit: u64) -> u64 {
        let mut removed = 0u64;
        while let Some(node) = self.nodes.front() {
            if let TrimTo::MaxLen(max_len) = to {
                if self.len() as u64 <= max_len {
                    break;
                }
            }
            if limit > 0 && removed + node.live > limit {
                break;
            }
            let whole = match to {
                TrimTo::MaxLen(max_len) => self.len() as u64 - node.live >= max_len,
                TrimTo::MinId(min_id) => node.last < min_id,
            };
            if whole {
                let node = self.nodes.pop_front().expect("a front node");
                // Every entry up to the front node's last belongs to it.
                let kept = node.last.next().map(|after| self.entries.split_off(&after)).unwrap_or_default();
                removed += std::mem::replace(&mut self.entries, kept).len() as u64;
                continue;
            }
            if approximate {
                break;
            }
            // Part of the front node: entry by entry, until the target is met.
            while let Some((&id, _)) = self.entries.iter().next() {
                let done = match to {
                    TrimTo::MaxLen(max_len) => self.len() as u64 <= max_len,
                    TrimTo::MinId(min_id) => id >= min_id,
                };
                if done {
                    break;
                }
                self.entries.remove(&id);
                removed += 1;
                let node = self.nodes.front_mut().expect("the front node holds it");
                node.live -= 1;
                if node.live == 0 {
                    self.nodes.pop_front();
                    break;
                }
            }
            break;
        }
        removed
    }

    /// Sets the last id (XSETID), with the counters it may also set.
    pub fn set_last_id(&mut self, id: StreamId, entries_added: Option<u64>, max_deleted_id: Option<StreamId>) {
        self.last_id = id;
        if let Some(added) = entries_added {
            self.entries_added = added;
        }
        if let Some(max_deleted) = max_deleted_id {
            self.max_deleted_id = max_deleted;
        }
    }

    /// Redis's `streamRangeHasTombstones`: whether an entry between `start` and the end was
    /// deleted (so counting entries by their ids is not possible there).
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.entries.is_empty() || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id() > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: how many entries were ever added up
    /// to `id`, when that can be known; [`ENTRIES_READ_UNKNOWN`] otherwise.
    pub fn entries_up_to(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.entries.is_empty() && id <= self.last_id {
            return added;
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return added,
            std::cmp::Ordering::Greater => return ENTRIES_READ_UNKNOWN,
            std::cmp::Ordering::Less => {}
        }
        let first = self.first_id();
        if self.max_deleted_id.is_zero() || self.max_deleted_id < first {
            match id.cmp(&first) {
                std::cmp::Ordering::Less => return added - self.len() as i64,
                std::cmp::Ordering::Equal => return added - self.len() as i64 + 1,
                std::cmp::Ordering::Greater => {}
            }
        }
        ENTRIES_READ_UNKNOWN
    }

    /// A group's lag (entries it has not read yet), when it can be known.
    pub fn lag(&self, group: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if group.entries_read != ENTRIES_READ_UNKNOWN && !self.has_tombstones_from(group.last_id) {
            return Some(self.entries_added as i64 - group.entries_read);
        }
        let read = self.entries_up_to(group.last_id);
        (read != ENTRIES_READ_UNKNOWN).then(|| self.entries_added as i64 - read)
    }

    /// Moves a group's last delivered id to `id` (an entry it is delivering), keeping its
    /// read counter as Redis does.
    pub fn advance_group(&mut self, group: &[u8], id: StreamId) {
        let counted = self.groups.get(group).map(|g| (g.entries_read, g.last_id));
        let Some((entries_read, last_id)) = counted else { return };
        if id <= last_id {
            return;
        }
        let entries_read = if entries_read != ENTRIES_READ_UNKNOWN && !self.has_tombstones_from(id) {
            entries_read + 1
        } else if self.entries_added > 0 {
            self.entries_up_to(id)
        } else {
            entries_read
        };
        let group = self.groups.get_mut(group).expect("looked up above");
        group.entries_read = entries_read;
        group.last_id = id;
    }

    /// Heap bytes beyond the value itself (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        let entries: usize = self
            .entries
            .values()
            .map(|fields| {
                48 + fields.len() * std::mem::size_of::<Blob>() + fields.iter().map(Blob::heap_bytes).sum::<usize>()
            })
            .sum();
        let groups: usize =
            self.groups.values().map(|group| 64 + group.pending.len() * 80 + group.consumers.len() * 64).sum();
        entries + self.nodes.len() * std::mem::size_of::<Node>() + groups
    }

    /// The parts snapshots record.
    pub fn image(&self) -> StreamImage {
        StreamImage {
            entries: self.entries.iter().map(|(id, fields)| (*id, fields.to_vec())).collect(),
            nodes: self.nodes.iter().cloned().collect(),
            last_id: self.last_id,
            max_deleted_id: self.max_deleted_id,
            entries_added: self.entries_added,
            groups: self.groups.iter().map(|(name, group)| (name.clone(), group.clone())).collect(),
        }
    }

    /// Rebuilds a stream from its image, checking that it holds together (RESTORE payloads
    /// come from clients).
    pub fn restore(image: StreamImage) -> Result<StreamValue, String> {
        let mut entries = BTreeMap::new();
        for (id, fields) in image.entries {
            if fields.is_empty() || !fields.len().is_multiple_of(2) {
                return Err("a stream entry without field-value pairs".into());
            }
            if entries.insert(id, fields.into_boxed_slice()).is_some() {
                return Err("a stream entry id twice".into());
            }
        }
        let nodes: VecDeque<Node> = image.nodes.into();
        let mut counted = 0u64;
        for (at, node) in nodes.iter().enumerate() {
            let live = entries.range(node.first..=node.last).count() as u64;
            let ordered = node.first <= node.last && (at == 0 || nodes[at - 1].last < node.first);
            if !ordered || live != node.live || live == 0 || node.appended < live {
                return Err("stream nodes that do not match its entries".into());
            }
            counted += live;
        }
        if counted != entries.len() as u64 {
            return Err("stream entries outside its nodes".into());
        }
        if entries.keys().next_back().is_some_and(|last| *last > image.last_id) {
            return Err("a stream entry above the last id".into());
        }
        for group in image.groups.iter().map(|(_, group)| group) {
            let owned: usize = group.consumers.values().map(|consumer| consumer.pending.len()).sum();
            let consistent = group.pending.iter().all(|(id, pending)| {
                group.consumers.get(&pending.consumer).is_some_and(|consumer| consumer.pending.contains(id))
            });
            if owned != group.pending.len() || !consistent {
                return Err("a consumer group's pending entries do not match its consumers".into());
            }
        }
        Ok(StreamValue {
            entries,
            nodes,
            last_id: image.last_id,
            max_deleted_id: image.max_deleted_id,
            entries_added: image.entries_added,
            groups: image.groups.into_iter().collect(),
        })
    }
}

/// A stream as snapshots (and DUMP payloads) record it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StreamImage {
    pub entries: Vec<(StreamId, Vec<Blob>)>,
    pub nodes: Vec<Node>,
    pub last_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: Vec<(Blob, Group)>,
}

/// A listpack's own header and end mark, with the master entry's fixed part.
const NODE_HEADER_BYTES: u64 = 32;

/// What an entry adds to its node's listpack: each element with its length prefix and
/// back-length, plus the entry's flags, id deltas and field count.
fn entry_bytes(fields: &[Blob]) -> u64 {
    fields.iter().map(|field| field.len() as u64 + 2).sum::<u64>() + 6
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: NodeLimits = NodeLimits { entries_max: 100, bytes_max: 4096 };

    fn fields() -> Box<[Blob]> {
        vec![Blob::new(b"f"), Blob::new(b"v")].into_boxed_slice()
    }

    fn stream_of(count: u64) -> StreamValue {
        let mut stream = StreamValue::new();
        for ms in 1..=count {
            stream.append(StreamId::new(ms, 0), fields(), LIMITS);
        }
        stream
    }

    #[test]
    fn ids_never_go_backwards() {
        let mut stream = StreamValue::new();
        assert_eq!(stream.next_id(NewId::Auto, 5), Ok(StreamId::new(5, 0)));
        stream.append(StreamId::new(5, 0), fields(), LIMITS);
        assert_eq!(stream.next_id(NewId::Auto, 3), Ok(StreamId::new(5, 1)), "a clock behind the last id");
        assert_eq!(stream.next_id(NewId::AutoSeq(5), 0), Ok(StreamId::new(5, 1)));
        assert_eq!(stream.next_id(NewId::AutoSeq(4), 0), Err(AddError::NotAboveLast));
        assert_eq!(stream.next_id(NewId::Explicit(StreamId::new(5, 0)), 0), Err(AddError::NotAboveLast));
        stream.set_last_id(StreamId::MAX, None, None);
        assert_eq!(stream.next_id(NewId::Auto, 9), Err(AddError::Exhausted));
    }

    #[test]
    fn approximate_trims_remove_whole_nodes_only() {
        let mut stream = stream_of(1000);
        assert_eq!(stream.nodes().len(), 10);
        assert_eq!(stream.trim(TrimTo::MaxLen(555), true, 0), 400);
        assert_eq!(stream.len(), 600);
        assert_eq!(stream.trim(TrimTo::MaxLen(555), false, 0), 45);
        assert_eq!(stream.len(), 555);
        assert_eq!(stream.first_id(), StreamId::new(446, 0));
        assert_eq!(
            stream.trim(TrimTo::MinId(StreamId::new(700, 0)), true, 0),
            155,
            "the node ending at 500 and the next"
        );
        assert_eq!(stream.trim(TrimTo::MinId(StreamId::new(750, 0)), false, 0), 149, "a whole node, then 49 entries");
        assert_eq!(stream.first_id(), StreamId::new(750, 0));
        assert_eq!(stream.trim(TrimTo::MaxLen(0), true, 100), 51, "a limit stops before a node it cannot take whole");
    }

    #[test]
    fn deletions_empty_nodes_and_count_tombstones() {
        let mut stream = stream_of(150);
        assert!(stream.delete(StreamId::new(3, 0)));
        assert!(!stream.delete(StreamId::new(3, 0)));
        assert_eq!(stream.max_deleted_id, StreamId::new(3, 0));
        for ms in 101..=150 {
            stream.delete(StreamId::new(ms, 0));
        }
        assert_eq!(stream.nodes().len(), 1, "an emptied node goes");
        assert!(stream.has_tombstones_from(StreamId::new(2, 0)));
        assert_eq!(stream.entries_up_to(StreamId::new(150, 0)), 150);
        assert_eq!(stream.entries_up_to(StreamId::new(2, 0)), ENTRIES_READ_UNKNOWN);
    }

    #[test]
    fn groups_move_pending_entries_between_consumers() {
        let mut group = Group::new(StreamId::MIN, 0);
        group.assign(StreamId::new(1, 0), b"alice", 10);
        group.assign(StreamId::new(1, 0), b"bob", 20).delivery_count += 1;
        assert!(group.consumers[&Blob::new(b"alice")].pending.is_empty());
        assert_eq!(group.pending[&StreamId::new(1, 0)].delivery_count, 2);
        assert_eq!(group.pending[&StreamId::new(1, 0)].delivery_time_ms, 20);
        assert!(group.acknowledge(StreamId::new(1, 0)));
        assert!(group.consumers[&Blob::new(b"bob")].pending.is_empty());
    }

    #[test]
    fn images_restore_and_refuse_inconsistent_ones() {
        let mut stream = stream_of(250);
        stream.delete(StreamId::new(7, 0));
        let mut group = Group::new(StreamId::new(9, 0), 9);
        group.assign(StreamId::new(8, 0), b"c", 5);
        stream.groups.insert(Blob::new(b"g"), group);
        assert_eq!(StreamValue::restore(stream.image()).unwrap(), stream);
        let mut broken = stream.image();
        broken.nodes.pop();
        assert!(StreamValue::restore(broken).is_err());
        let mut broken = stream.image();
        broken.groups[0].1.consumers.clear();
        assert!(StreamValue::restore(broken).is_err());
    }
}
