//! The cluster map: what the metadata group (group 0) replicates. Members (nodes and their
//! addresses), shards (each a Raft group: where its replicas are meant to be, which of them
//! its leader reported as voters, and who leads it), the slot map (every one of the 16384 hash
//! slots owned by exactly one shard) and a config epoch that every change bumps.
//!
//! Everything about ownership is decided here, by applying [`ClusterChange`]s in log order:
//! the same changes give the same map, byte for byte, on every node. Placement is part of
//! applying: when a member joins, leaves or changes role, each shard that lacks replicas is
//! given the voting members that host the fewest (ties broken by node id), so no node or
//! clock outside the group decides where data lives. Nodes learn the map by watching group
//! 0's applied state; each shard's leader then moves its group's membership towards the map.

use crate::error::Error;
use crate::limits::{MOVES_MAX, SHARDS_MAX, SLOTS, ZONE_BYTES_MAX};
use crate::reply::Reply;
use crate::request::{Batch, BatchReply, Request};
use crate::slot::SlotRanges;
use crate::types::{GroupId, NodeId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Version of the map's snapshot encoding; bumped on any change to [`ClusterMap`]'s fields.
/// Versions 1 (no slot moves) and 2 (no replaced members) are still read.
pub const MAP_FORMAT_VERSION: u8 = 4;
/// Replicas per shard unless configured otherwise.
pub const REPLICATION_FACTOR_DEFAULT: u8 = 3;

/// How to reach a member: its address for other nodes and its address for clients.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addresses {
    pub node: String,
    pub client: String,
}

/// A node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub addresses: Addresses,
    /// A voting member may be placed as a shard replica; a non-voting one (a read replica)
    /// follows every shard as a learner.
    pub voter: bool,
}

/// One shard: a Raft group and the slots it owns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// The voting replicas the shard should have, in the order they were placed.
    pub replicas: Vec<NodeId>,
    /// The voters its leader last reported (its group's actual membership).
    pub voters: Vec<NodeId>,
    /// The leader last reported, and the term it leads.
    pub leader: Option<NodeId>,
    pub term: u64,
    /// The node that created the group (the only one that may ever initialize it).
    pub founder: NodeId,
}

impl Shard {
    /// Whether every replica the map placed is a voter of the group, by its leader's report.
    pub fn in_sync(&self) -> bool {
        self.replicas.iter().all(|id| self.voters.contains(id))
    }
}

/// A change to the map, proposed to the metadata group and applied in log order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterChange {
    /// Creates the cluster: `node` as its only member, `shards` shards owning even slot
    /// ranges, each to be replicated `replication_factor` times. Ignored once bootstrapped.
    Bootstrap { node: NodeId, addresses: Addresses, shards: u32, replication_factor: u8 },
    /// Adds a member (or updates its addresses and role).
    AddMember { node: NodeId, addresses: Addresses, voter: bool },
    /// Removes a member from the cluster and from every shard.
    RemoveMember { node: NodeId },
    /// A shard's leader reports itself, its term and its group's voters. Older terms are
    /// ignored, so reports that cross never move the map backwards.
    ShardStatus { shard: GroupId, leader: NodeId, term: u64, voters: Vec<NodeId> },
    /// Begins moving `ranges` (all owned by one shard) to shard `target` (see `migration`).
    /// New in log format 4, as are the changes below.
    MoveSlots { ranges: Vec<(u16, u16)>, target: GroupId },
    /// Whoever drives move `id` starts over as a new attempt (its steps carry the number, and
    /// both shards refuse those of an older one).
    MoveAttempt { id: u64 },
    /// The move's rounds have (nearly) caught up: its source is to stop serving the slots.
    MoveFence { id: u64, attempt: u64 },
    /// The target holds every key as the fenced source last served it: the slots are its.
    MoveHandOver { id: u64, attempt: u64 },
    /// Gives up a move that was not handed over: the slots stay with the source.
    MoveCancel { id: u64 },
    /// The move's leftovers (the source's old keys, or the target's copies) are gone.
    MoveDone { id: u64, attempt: u64 },
    /// Creates a shard with no slots, founded on voting member `founder` (its one replica until
    /// its leader first reports; placement then gives it the others). Slots then move to it:
    /// a split. New in log format 4, as are the changes below.
    AddShard { founder: NodeId },
    /// Places a replica of `shard` on voting member `node` (a rebalancing step); the shard's
    /// leader then adds it as a learner and promotes it once caught up.
    PlaceReplica { shard: GroupId, node: NodeId },
    /// Takes a replica of `shard` off `node` (a rebalancing step, after its replacement was
    /// placed); the shard's leader removes it only once the placed ones are voters.
    UnplaceReplica { shard: GroupId, node: NodeId },
    /// Removes a member found dead for longer than the grace (self-healing, by the metadata
    /// leader): as `RemoveMember`, and records it as replaced, so that when it comes back it
    /// rejoins empty, where a member an operator removed stays out. New in log format 5.
    ReplaceMember { node: NodeId },
    /// As `AddMember`, for a node that carries a failure domain (`--zone`): both recorded at
    /// once, so that placement never sees the member without its zone. New in log format 6,
    /// as is the change below.
    AddMemberInZone { node: NodeId, addresses: Addresses, voter: bool, zone: String },
    /// A member's failure domain, or none (the bootstrapping node's, or one restarted with
    /// another `--zone`).
    SetZone { node: NodeId, zone: Option<String> },
}

/// Where a slot move stands (see `migration`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MovePhase {
    /// The target copies the slots while the source serves them.
    Copying,
    /// The source no longer serves them; the target takes the last changes.
    Fenced,
    /// The target owns them; the source drops its old keys.
    HandedOver,
    /// Given up: the source serves them again; the target drops its copies.
    Cancelled,
}

impl MovePhase {
    pub fn name(self) -> &'static str {
        match self {
            MovePhase::Copying => "copying",
            MovePhase::Fenced => "fenced",
            MovePhase::HandedOver => "handed-over",
            MovePhase::Cancelled => "cancelled",
        }
    }
}

/// A slot move in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotMove {
    pub ranges: Vec<(u16, u16)>,
    pub source: GroupId,
    pub target: GroupId,
    pub phase: MovePhase,
    pub attempt: u64,
    /// The map epoch at which the source was fenced (its fence step carries it).
    pub fenced_epoch: u64,
}

/// What applying a change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Changed,
    /// Nothing to do (already so, a stale report, bootstrapped already).
    Unchanged,
    Refused(String),
}

/// The map itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterMap {
    pub epoch: u64,
    pub replication_factor: u8,
    pub members: BTreeMap<NodeId, Member>,
    pub shards: BTreeMap<GroupId, Shard>,
    /// The owning shard of each slot, as ranges: `(first slot, last slot, shard)`, sorted,
    /// covering 0..=16383 exactly once. Empty until bootstrapped.
    pub slots: Vec<(u16, u16, GroupId)>,
    /// Slot moves in progress, by id.
    pub moves: BTreeMap<u64, SlotMove>,
    /// The id the next move takes.
    pub next_move: u64,
    /// Members removed by self-healing while they were dead, until they join again.
    pub replaced: BTreeSet<NodeId>,
    /// The failure domain (`--zone`) of each member that has one: placement puts a shard's
    /// replicas in distinct zones where it can. New in map format 4.
    pub zones: BTreeMap<NodeId, String>,
}

impl ClusterMap {
    pub fn is_bootstrapped(&self) -> bool {
        !self.slots.is_empty()
    }

    /// The shard owning `slot` (none before the cluster is bootstrapped).
    pub fn shard_of(&self, slot: u16) -> Option<GroupId> {
        let at = self.slots.partition_point(|(_, last, _)| *last < slot);
        self.slots.get(at).filter(|(first, _, _)| *first <= slot).map(|(_, _, shard)| *shard)
    }

    /// The slots a shard serves: those it owns, less those of a move fenced away from it.
    pub fn served_by(&self, shard: GroupId) -> Option<SlotRanges> {
        let owned = SlotRanges::new(self.ranges_of(shard).collect())?;
        let fenced: Vec<(u16, u16)> = self
            .moves
            .values()
            .filter(|m| m.source == shard && m.phase == MovePhase::Fenced)
            .flat_map(|m| m.ranges.iter().copied())
            .collect();
        Some(match SlotRanges::new(fenced) {
            Some(fenced) => owned.without(&fenced),
            None => owned,
        })
    }

    /// The slot ranges a shard owns.
    pub fn ranges_of(&self, shard: GroupId) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.slots.iter().filter(move |(_, _, owner)| *owner == shard).map(|(first, last, _)| (*first, *last))
    }

    /// The shards a node should host: those placing it as a replica, or every shard for a
    /// non-voting member (a read replica).
    pub fn shards_of(&self, node: NodeId) -> Vec<GroupId> {
        let read_replica = self.members.get(&node).is_some_and(|m| !m.voter);
        self.shards
            .iter()
            .filter(|(_, shard)| read_replica || shard.replicas.contains(&node) || shard.voters.contains(&node))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The members that should follow `shard` as learners: the read replicas.
    pub fn learners_of(&self, shard: GroupId) -> Vec<NodeId> {
        let replicas = self.shards.get(&shard).map(|s| s.replicas.as_slice()).unwrap_or_default();
        self.members.iter().filter(|(id, m)| !m.voter && !replicas.contains(id)).map(|(id, _)| *id).collect()
    }

    /// Whether every replica of every shard is in place, with a reported leader: the
    /// cluster serves every slot with its full replication.
    pub fn is_settled(&self) -> bool {
        self.is_bootstrapped() && self.shards.values().all(|s| s.leader.is_some() && s.in_sync())
    }

    /// Whether `node` is a voting member whose every placement is in place.
    pub fn is_placed(&self, node: NodeId) -> bool {
        self.members.get(&node).is_some_and(|m| m.voter)
            && self.shards.values().all(|s| !s.replicas.contains(&node) || s.voters.contains(&node))
    }

    /// Applies a change; every change that does something bumps the epoch.
    pub fn apply(&mut self, change: &ClusterChange) -> Applied {
        let applied = match change {
            ClusterChange::Bootstrap { node, addresses, shards, replication_factor } => {
                self.bootstrap(*node, addresses, *shards, *replication_factor)
            }
            ClusterChange::AddMember { node, addresses, voter } => self.add_member(*node, addresses, *voter, None),
            ClusterChange::AddMemberInZone { node, addresses, voter, zone } => {
                if let Err(why) = check_zone(zone) {
                    return Applied::Refused(why);
                }
                self.add_member(*node, addresses, *voter, Some(zone))
            }
            ClusterChange::SetZone { node, zone } => {
                if let Some(Err(why)) = zone.as_deref().map(check_zone) {
                    return Applied::Refused(why);
                }
                if !self.members.contains_key(node) {
                    return Applied::Refused(format!("{node} is not a member"));
                }
                if self.zones.get(node) == zone.as_ref() {
                    return Applied::Unchanged;
                }
                match zone {
                    Some(zone) => self.zones.insert(*node, zone.clone()),
                    None => self.zones.remove(node),
                };
                Applied::Changed
            }
            ClusterChange::RemoveMember { node } | ClusterChange::ReplaceMember { node } => {
                if self.members.remove(node).is_none() {
                    return Applied::Unchanged;
                }
                self.zones.remove(node);
                if matches!(change, ClusterChange::ReplaceMember { .. }) {
                    self.replaced.insert(*node);
                }
                for shard in self.shards.values_mut() {
                    shard.replicas.retain(|id| id != node);
                }
                self.place();
                Applied::Changed
            }
            ClusterChange::ShardStatus { shard, leader, term, voters } => {
                let Some(entry) = self.shards.get_mut(shard) else {
                    return Applied::Refused(format!("no shard {shard}"));
                };
                let mut voters = voters.clone();
                voters.sort_unstable();
                voters.dedup();
                let newer = *term > entry.term || (*term == entry.term && entry.leader.is_none_or(|l| l == *leader));
                if !newer || (entry.leader == Some(*leader) && entry.term == *term && entry.voters == voters) {
                    return Applied::Unchanged;
                }
                entry.leader = Some(*leader);
                entry.term = *term;
                entry.voters = voters;
                // A new shard's first report says its founder initialized it: it may now be
                // given its other replicas.
                self.place();
                Applied::Changed
            }
            ClusterChange::MoveSlots { ranges, target } => self.begin_move(ranges, *target),
            ClusterChange::AddShard { founder } => {
                if !self.is_bootstrapped() {
                    return Applied::Refused("the cluster is not bootstrapped".into());
                }
                if !self.members.get(founder).is_some_and(|m| m.voter) {
                    return Applied::Refused(format!("{founder} is not a voting member"));
                }
                if self.shards.len() >= SHARDS_MAX {
                    return Applied::Refused(format!("a cluster has at most {SHARDS_MAX} shards"));
                }
                let id = GroupId(self.shards.keys().last().map_or(1, |last| last.0 + 1));
                let shard = Shard {
                    replicas: vec![*founder],
                    voters: vec![*founder],
                    leader: None,
                    term: 0,
                    founder: *founder,
                };
                self.shards.insert(id, shard);
                Applied::Changed
            }
            ClusterChange::PlaceReplica { shard, node } => {
                if !self.members.get(node).is_some_and(|m| m.voter) {
                    return Applied::Refused(format!("{node} is not a voting member"));
                }
                let Some(entry) = self.shards.get_mut(shard) else {
                    return Applied::Refused(format!("no shard {shard}"));
                };
                if entry.replicas.contains(node) {
                    return Applied::Unchanged;
                }
                entry.replicas.push(*node);
                Applied::Changed
            }
            ClusterChange::UnplaceReplica { shard, node } => {
                let Some(entry) = self.shards.get_mut(shard) else {
                    return Applied::Refused(format!("no shard {shard}"));
                };
                if !entry.replicas.contains(node) {
                    return Applied::Unchanged;
                }
                if entry.replicas.len() == 1 {
                    return Applied::Refused(format!("{node} holds the only replica of {shard}"));
                }
                entry.replicas.retain(|id| id != node);
                Applied::Changed
            }
            ClusterChange::MoveAttempt { id } => match self.moves.get_mut(id) {
                Some(slot_move) => {
                    slot_move.attempt += 1;
                    Applied::Changed
                }
                None => Applied::Refused(format!("no slot move {id}")),
            },
            ClusterChange::MoveFence { id, attempt } => {
                let epoch = self.epoch + 1;
                self.step_move(*id, *attempt, &[MovePhase::Copying], |m| {
                    m.phase = MovePhase::Fenced;
                    m.fenced_epoch = epoch;
                })
            }
            ClusterChange::MoveHandOver { id, attempt } => {
                let Some(slot_move) = self.moves.get(id).filter(|m| m.attempt == *attempt) else {
                    return Applied::Refused(format!("no slot move {id} at attempt {attempt}"));
                };
                if slot_move.phase != MovePhase::Fenced {
                    return Applied::Refused(format!("slot move {id} is {}", slot_move.phase.name()));
                }
                let (ranges, target) = (slot_move.ranges.clone(), slot_move.target);
                for (first, last) in ranges {
                    self.assign(first, last, target);
                }
                self.moves.get_mut(id).expect("checked above").phase = MovePhase::HandedOver;
                Applied::Changed
            }
            ClusterChange::MoveCancel { id } => {
                self.step_move(*id, 0, &[MovePhase::Copying, MovePhase::Fenced], |m| m.phase = MovePhase::Cancelled)
            }
            ClusterChange::MoveDone { id, attempt } => match self.moves.get(id) {
                Some(m) if m.attempt == *attempt && matches!(m.phase, MovePhase::HandedOver | MovePhase::Cancelled) => {
                    self.moves.remove(id);
                    Applied::Changed
                }
                Some(m) => Applied::Refused(format!("slot move {id} is {} at attempt {}", m.phase.name(), m.attempt)),
                None => Applied::Unchanged,
            },
        };
        if applied == Applied::Changed {
            self.epoch += 1;
        }
        applied
    }

    fn begin_move(&mut self, ranges: &[(u16, u16)], target: GroupId) -> Applied {
        let Some(moving) = SlotRanges::new(ranges.to_vec()).filter(|r| !r.ranges().is_empty()) else {
            return Applied::Refused("malformed slot ranges".into());
        };
        if !self.shards.contains_key(&target) {
            return Applied::Refused(format!("no shard {target}"));
        }
        if self.moves.len() >= MOVES_MAX {
            return Applied::Refused(format!("{MOVES_MAX} slot moves are in progress already"));
        }
        let owners: std::collections::BTreeSet<GroupId> = moving
            .ranges()
            .iter()
            .flat_map(|&(first, last)| {
                self.slots.iter().filter(move |(a, b, _)| *a <= last && first <= *b).map(|(_, _, shard)| *shard)
            })
            .collect();
        let source = match owners.into_iter().collect::<Vec<_>>()[..] {
            [source] => source,
            _ => return Applied::Refused("the slots to move must all belong to one shard".into()),
        };
        if source == target {
            return Applied::Refused(format!("the slots belong to {target} already"));
        }
        let busy = self.moves.values().any(|m| m.ranges.iter().any(|&(first, last)| moving.overlaps(first, last)));
        if busy {
            return Applied::Refused("some of the slots are being moved already".into());
        }
        let id = self.next_move.max(1);
        self.next_move = id + 1;
        self.moves.insert(
            id,
            SlotMove {
                ranges: moving.ranges().to_vec(),
                source,
                target,
                phase: MovePhase::Copying,
                attempt: 0,
                fenced_epoch: 0,
            },
        );
        Applied::Changed
    }

    /// Advances move `id` from one of the phases `from` (at `attempt`, unless 0: any).
    fn step_move(&mut self, id: u64, attempt: u64, from: &[MovePhase], change: impl FnOnce(&mut SlotMove)) -> Applied {
        match self.moves.get_mut(&id) {
            Some(m) if (attempt == 0 || m.attempt == attempt) && from.contains(&m.phase) => {
                change(m);
                Applied::Changed
            }
            Some(m) => Applied::Refused(format!("slot move {id} is {} at attempt {}", m.phase.name(), m.attempt)),
            None => Applied::Refused(format!("no slot move {id}")),
        }
    }

    /// Gives slots `first..=last` to `shard`, keeping the ranges sorted and joined.
    fn assign(&mut self, first: u16, last: u16, shard: GroupId) {
        let mut slots = Vec::with_capacity(self.slots.len() + 2);
        for &(a, b, owner) in &self.slots {
            if b < first || a > last {
                slots.push((a, b, owner));
                continue;
            }
            if a < first {
                slots.push((a, first - 1, owner));
            }
            if a <= first {
                slots.push((first, last, shard));
            }
            if b > last {
                slots.push((last + 1, b, owner));
            }
        }
        let mut joined: Vec<(u16, u16, GroupId)> = Vec::with_capacity(slots.len());
        for (a, b, owner) in slots {
            match joined.last_mut() {
                Some((_, end, last_owner)) if *last_owner == owner && *end + 1 == a => *end = b,
                _ => joined.push((a, b, owner)),
            }
        }
        self.slots = joined;
    }

    fn bootstrap(&mut self, node: NodeId, addresses: &Addresses, shards: u32, replication_factor: u8) -> Applied {
        if self.is_bootstrapped() {
            return Applied::Unchanged;
        }
        if shards == 0 || shards as usize > SHARDS_MAX {
            return Applied::Refused(format!("the number of shards must be between 1 and {SHARDS_MAX}"));
        }
        if replication_factor == 0 {
            return Applied::Refused("the replication factor must be at least 1".into());
        }
        self.replication_factor = replication_factor;
        self.members.insert(node, Member { addresses: addresses.clone(), voter: true });
        self.slots = even_ranges(shards);
        for (_, _, shard) in &self.slots {
            self.shards.insert(
                *shard,
                Shard { replicas: vec![node], voters: vec![node], leader: None, term: 0, founder: node },
            );
        }
        Applied::Changed
    }

    /// Adds (or updates) a member; `zone`, when given, is recorded with it.
    fn add_member(&mut self, node: NodeId, addresses: &Addresses, voter: bool, zone: Option<&String>) -> Applied {
        if !self.is_bootstrapped() {
            return Applied::Refused("the cluster is not bootstrapped".into());
        }
        let member = Member { addresses: addresses.clone(), voter };
        let zoned = zone.is_none_or(|zone| self.zones.get(&node) == Some(zone));
        if self.members.get(&node) == Some(&member) && zoned {
            return Applied::Unchanged;
        }
        if let Some(zone) = zone {
            self.zones.insert(node, zone.clone());
        }
        self.members.insert(node, member);
        self.replaced.remove(&node);
        if !voter {
            // A read replica is never a voting replica.
            for shard in self.shards.values_mut() {
                shard.replicas.retain(|id| *id != node);
            }
        }
        self.place();
        Applied::Changed
    }

    /// Gives every shard that has fewer replicas than the replication factor (or than there
    /// are voting members) the voting members that host the fewest replicas so far, lowest id
    /// first among equals, and among those first the ones in a zone the shard has no replica
    /// in yet (a node with no zone is a zone of its own). Shards are filled in id order, one
    /// replica per round, so that replicas spread evenly.
    fn place(&mut self) {
        let voting: Vec<NodeId> = self.members.iter().filter(|(_, m)| m.voter).map(|(id, _)| *id).collect();
        let wanted = usize::from(self.replication_factor).min(voting.len());
        let mut load: BTreeMap<NodeId, usize> = voting.iter().map(|id| (*id, 0)).collect();
        for shard in self.shards.values() {
            for id in &shard.replicas {
                *load.entry(*id).or_default() += 1;
            }
        }
        // A shard added to a running cluster (`AddShard`: no slots yet) gets other replicas only
        // once its leader reported, since its founder initializes it only while it is the one
        // replica. (The shards of a bootstrap are founded before any member can join.)
        let unfounded: BTreeSet<GroupId> = self
            .shards
            .iter()
            .filter(|(id, shard)| {
                shard.leader.is_none() && shard.replicas == [shard.founder] && self.ranges_of(**id).next().is_none()
            })
            .map(|(id, _)| *id)
            .collect();
        loop {
            let mut placed_any = false;
            for (id, shard) in self.shards.iter_mut() {
                if shard.replicas.len() >= wanted || unfounded.contains(id) {
                    continue;
                }
                let zones = &self.zones;
                let zone_taken = |id: NodeId| {
                    zones.get(&id).is_some_and(|zone| shard.replicas.iter().any(|r| zones.get(r) == Some(zone)))
                };
                let candidate = voting
                    .iter()
                    .filter(|id| !shard.replicas.contains(id))
                    .min_by_key(|id| (zone_taken(**id), load.get(*id).copied().unwrap_or(0), **id))
                    .copied();
                if let Some(id) = candidate {
                    shard.replicas.push(id);
                    *load.entry(id).or_default() += 1;
                    placed_any = true;
                }
            }
            if !placed_any {
                return;
            }
        }
    }

    /// The replica each shard's leadership should rest on, so that leaders spread evenly:
    /// shards in id order each take, among their replicas, the one that leads the fewest
    /// shards so far, the one at the shard's turn in its replica list first among equals.
    pub fn preferred_leaders(&self) -> BTreeMap<GroupId, NodeId> {
        let mut leading: BTreeMap<NodeId, usize> = BTreeMap::new();
        let mut preferred = BTreeMap::new();
        for (turn, (id, shard)) in self.shards.iter().enumerate() {
            let count = shard.replicas.len();
            let choice = (0..count)
                .map(|k| shard.replicas[(turn + k) % count])
                .min_by_key(|node| leading.get(node).copied().unwrap_or(0));
            if let Some(node) = choice {
                *leading.entry(node).or_default() += 1;
                preferred.insert(*id, node);
            }
        }
        preferred
    }

    /// The map as canonical bytes: equal maps give equal bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        postcard::to_stdvec(&(MAP_FORMAT_VERSION, self)).expect("a cluster map always encodes")
    }

    /// Reads a map of any format this build knows. Each format appended fields to the one
    /// before (format 2 the slot moves, 3 the replaced members, 4 the zones), and postcard writes a struct's
    /// fields one after the other, so a map is read as the first format's fields followed by
    /// each later format's, as far as its own format goes.
    pub fn restore(bytes: &[u8]) -> Result<ClusterMap, String> {
        fn take<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<(T, &'a [u8]), String> {
            postcard::take_from_bytes(bytes).map_err(|e| format!("undecodable cluster map: {e}"))
        }
        let (&version, rest) = bytes.split_first().ok_or("undecodable cluster map: no bytes")?;
        if !(1..=MAP_FORMAT_VERSION).contains(&version) {
            return Err(format!(
                "cluster map format {version} is not supported (this build reads 1 to {MAP_FORMAT_VERSION})"
            ));
        }
        let ((epoch, replication_factor, members, shards, slots), mut rest) = take(rest)?;
        let mut map =
            ClusterMap { epoch, replication_factor, members, shards, slots, next_move: 1, ..Default::default() };
        if version >= 2 {
            ((map.moves, map.next_move), rest) = take(rest)?;
        }
        if version >= 3 {
            (map.replaced, rest) = take(rest)?;
        }
        if version >= 4 {
            (map.zones, rest) = take(rest)?;
        }
        if !rest.is_empty() {
            return Err(format!("undecodable cluster map: {} bytes past its end", rest.len()));
        }
        map.check()?;
        Ok(map)
    }

    /// Checks the map's invariants: every slot owned exactly once, by a known shard.
    pub fn check(&self) -> Result<(), String> {
        if self.slots.is_empty() {
            return Ok(());
        }
        let mut next = 0u32;
        for (first, last, shard) in &self.slots {
            if u32::from(*first) != next || last < first {
                return Err(format!("slot ranges broken at slot {next}"));
            }
            if !self.shards.contains_key(shard) {
                return Err(format!("slots {first}-{last} owned by unknown shard {shard}"));
            }
            next = u32::from(*last) + 1;
        }
        if next != u32::from(SLOTS) {
            return Err(format!("slots from {next} are unowned"));
        }
        Ok(())
    }
}

/// The metadata group's state machine: the map, and the last log index applied to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterMachine {
    map: ClusterMap,
    applied_index: u64,
}

impl ClusterMachine {
    pub fn map(&self) -> &ClusterMap {
        &self.map
    }

    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    /// Records an entry that carries no batch (a blank or membership entry).
    pub fn skip(&mut self, index: u64) {
        self.applied_index = index;
    }

    /// Applies one log entry: each request is a [`Request::Cluster`] change; anything else
    /// is refused (it belongs to a data group).
    pub fn apply(&mut self, index: u64, batch: &Batch) -> BatchReply {
        self.applied_index = index;
        let replies = batch
            .requests
            .iter()
            .map(|request| match request {
                Request::Cluster(change) => match self.map.apply(change) {
                    Applied::Changed => self.changed_reply(change),
                    Applied::Unchanged => Reply::OK,
                    Applied::Refused(why) => Reply::from(Error::err(why)),
                },
                _ => Reply::from(Error::err("the metadata group takes only cluster changes")),
            })
            .collect();
        BatchReply { replies, served: Vec::new(), notifications: Vec::new() }
    }

    /// What a slot-move change tells its proposer: the new move's id, the attempt it now
    /// drives, or the map's epoch after a fence or a hand-over.
    fn changed_reply(&self, change: &ClusterChange) -> Reply {
        let number = |n: u64| Reply::Integer(n as i64);
        match change {
            ClusterChange::MoveSlots { .. } => number(self.map.next_move - 1),
            ClusterChange::MoveAttempt { id } => self.map.moves.get(id).map_or(Reply::OK, |m| number(m.attempt)),
            ClusterChange::MoveFence { .. } | ClusterChange::MoveHandOver { .. } => number(self.map.epoch),
            ClusterChange::AddShard { .. } => self.map.shards.keys().last().map_or(Reply::OK, |id| number(id.0.into())),
            _ => Reply::OK,
        }
    }

    /// The state as canonical bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        postcard::to_stdvec(&(self.applied_index, self.map.snapshot())).expect("a cluster machine always encodes")
    }

    /// A digest of the state: equal on every replica that applied the same entries.
    pub fn digest(&self) -> u128 {
        xxhash_rust::xxh3::xxh3_128(&self.snapshot())
    }

    pub fn restore(bytes: &[u8]) -> Result<ClusterMachine, String> {
        let (applied_index, map): (u64, Vec<u8>) =
            postcard::from_bytes(bytes).map_err(|e| format!("undecodable cluster snapshot: {e}"))?;
        Ok(ClusterMachine { map: ClusterMap::restore(&map)?, applied_index })
    }
}

/// A zone label as a member may carry it: 1 to `ZONE_BYTES_MAX` bytes of letters, digits and
/// `-_.:` (it shows in `CLUSTER MEMBERS`, one word).
pub fn check_zone(zone: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.:".contains(c);
    if zone.is_empty() || zone.len() > ZONE_BYTES_MAX || !zone.chars().all(allowed) {
        return Err(format!(
            "a zone is 1 to {ZONE_BYTES_MAX} letters, digits or -_.: (got {:?})",
            zone.chars().take(ZONE_BYTES_MAX + 1).collect::<String>()
        ));
    }
    Ok(())
}

/// `shards` contiguous slot ranges of (nearly) equal size, shard ids 1..=shards, as Redis's
/// `--cluster create` assigns them.
fn even_ranges(shards: u32) -> Vec<(u16, u16, GroupId)> {
    let slots = u32::from(SLOTS);
    (0..shards)
        .map(|i| {
            let first = slots * i / shards;
            let last = slots * (i + 1) / shards - 1;
            (first as u16, last as u16, GroupId(i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(n: u128) -> Addresses {
        Addresses { node: format!("10.0.0.{n}:16379"), client: format!("10.0.0.{n}:6379") }
    }

    fn bootstrapped(shards: u32, replication_factor: u8) -> ClusterMap {
        let mut map = ClusterMap::default();
        let change = ClusterChange::Bootstrap { node: NodeId(1), addresses: addresses(1), shards, replication_factor };
        assert_eq!(map.apply(&change), Applied::Changed);
        map
    }

    fn join(map: &mut ClusterMap, n: u128) -> Applied {
        map.apply(&ClusterChange::AddMember { node: NodeId(n), addresses: addresses(n), voter: true })
    }

    fn join_in(map: &mut ClusterMap, n: u128, zone: &str) -> Applied {
        let zone = zone.to_string();
        map.apply(&ClusterChange::AddMemberInZone { node: NodeId(n), addresses: addresses(n), voter: true, zone })
    }

    /// Placement fills a shard from the members holding the fewest replicas, a zone the shard
    /// lacks first: when node 2 (zone b) leaves shards replicated on nodes 1 (a) and 2, node 4
    /// (zone c) takes its place rather than node 3, which holds as few but shares node 1's zone.
    #[test]
    fn placement_puts_a_shards_replicas_in_distinct_zones() {
        let layout = |zoned: bool| {
            let mut map = bootstrapped(3, 2);
            let add = |map: &mut ClusterMap, n: u128, zone: &str| match zoned {
                true => join_in(map, n, zone),
                false => join(map, n),
            };
            if zoned {
                map.apply(&ClusterChange::SetZone { node: NodeId(1), zone: Some("a".into()) });
            }
            add(&mut map, 2, "b");
            add(&mut map, 3, "a");
            add(&mut map, 4, "c");
            assert_eq!(map.apply(&ClusterChange::RemoveMember { node: NodeId(2) }), Applied::Changed);
            map
        };
        let zoned = layout(true);
        for (id, shard) in &zoned.shards {
            assert_eq!(shard.replicas, [NodeId(1), NodeId(4)], "{id}: one replica in zone a, one in c");
        }
        assert_eq!(zoned.zones.len(), 3, "node 2's zone left with it");
        let plain = layout(false);
        // Without zones, load alone decides, lowest id first: the first shard goes to node 3.
        assert_eq!(plain.shards[&GroupId(1)].replicas, [NodeId(1), NodeId(3)]);
    }

    #[test]
    fn zones_are_recorded_changed_and_dropped_with_their_member() {
        let mut map = bootstrapped(1, 3);
        assert_eq!(join_in(&mut map, 2, "eu-1a"), Applied::Changed);
        assert_eq!(join_in(&mut map, 2, "eu-1a"), Applied::Unchanged);
        assert_eq!(map.zones.get(&NodeId(2)).map(String::as_str), Some("eu-1a"));
        assert_eq!(join(&mut map, 2), Applied::Unchanged, "a join without a zone leaves it");
        let set = |map: &mut ClusterMap, n: u128, zone: Option<&str>| {
            map.apply(&ClusterChange::SetZone { node: NodeId(n), zone: zone.map(String::from) })
        };
        assert_eq!(set(&mut map, 2, Some("eu-1b")), Applied::Changed);
        assert_eq!(set(&mut map, 2, Some("eu-1b")), Applied::Unchanged);
        assert!(matches!(set(&mut map, 9, Some("x")), Applied::Refused(_)), "not a member");
        assert!(matches!(set(&mut map, 2, Some("has space")), Applied::Refused(_)));
        assert!(matches!(set(&mut map, 2, Some(&"z".repeat(ZONE_BYTES_MAX + 1))), Applied::Refused(_)));
        assert!(matches!(join_in(&mut map, 3, ""), Applied::Refused(_)));
        let restored = ClusterMap::restore(&map.snapshot()).unwrap();
        assert_eq!(restored.zones, map.zones, "zones survive a snapshot");
        assert_eq!(set(&mut map, 2, None), Applied::Changed);
        assert!(map.zones.is_empty());
        set(&mut map, 2, Some("eu-1c"));
        assert_eq!(map.apply(&ClusterChange::RemoveMember { node: NodeId(2) }), Applied::Changed);
        assert!(map.zones.is_empty(), "a removed member's zone goes with it");
    }

    #[test]
    fn maps_of_format_3_are_still_read() {
        let mut map = bootstrapped(2, 1);
        map.replaced.insert(NodeId(7));
        let current = map.snapshot();
        // Format 3 is format 4 without the zones (an empty map: one byte, its length 0).
        assert_eq!(current.last(), Some(&0));
        let mut old = current[..current.len() - 1].to_vec();
        old[0] = 3;
        assert_eq!(ClusterMap::restore(&old).unwrap(), map);
    }

    #[test]
    fn every_slot_is_owned_exactly_once() {
        for shards in [1, 2, 3, 7, 64, SHARDS_MAX as u32] {
            let map = bootstrapped(shards, 3);
            map.check().unwrap();
            let mut owned = vec![0u32; usize::from(SLOTS)];
            for slot in 0..SLOTS {
                let shard = map.shard_of(slot).expect("owned");
                owned[usize::from(slot)] += 1;
                assert!(map.ranges_of(shard).any(|(first, last)| first <= slot && slot <= last));
            }
            assert!(owned.iter().all(|count| *count == 1));
            let sizes: Vec<u32> =
                map.shards.keys().map(|s| map.ranges_of(*s).map(|(f, l)| u32::from(l - f) + 1).sum()).collect();
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(max - min <= 1, "{shards} shards: ranges of {min}..{max} slots");
        }
        assert_eq!(
            bootstrapped(3, 3).slots,
            vec![(0, 5460, GroupId(1)), (5461, 10921, GroupId(2)), (10922, 16383, GroupId(3))]
        );
        assert_eq!(ClusterMap::default().shard_of(0), None);
    }

    #[test]
    fn every_change_bumps_the_epoch_and_repeats_do_not() {
        let mut map = bootstrapped(2, 3);
        assert_eq!(map.epoch, 1);
        let again =
            ClusterChange::Bootstrap { node: NodeId(9), addresses: addresses(9), shards: 5, replication_factor: 1 };
        assert_eq!(map.apply(&again), Applied::Unchanged);
        assert_eq!(join(&mut map, 2), Applied::Changed);
        assert_eq!(map.epoch, 2);
        assert_eq!(join(&mut map, 2), Applied::Unchanged);
        let status = ClusterChange::ShardStatus {
            shard: GroupId(1),
            leader: NodeId(2),
            term: 3,
            voters: vec![NodeId(2), NodeId(1)],
        };
        assert_eq!(map.apply(&status), Applied::Changed);
        assert_eq!(map.apply(&status), Applied::Unchanged);
        assert_eq!(map.epoch, 3);
        // A report from an older term never moves the map back.
        let stale =
            ClusterChange::ShardStatus { shard: GroupId(1), leader: NodeId(1), term: 2, voters: vec![NodeId(1)] };
        assert_eq!(map.apply(&stale), Applied::Unchanged);
        assert_eq!(map.shards[&GroupId(1)].leader, Some(NodeId(2)));
        assert_eq!(map.apply(&ClusterChange::RemoveMember { node: NodeId(2) }), Applied::Changed);
        assert_eq!(map.epoch, 4);
        assert!(matches!(
            map.apply(&ClusterChange::ShardStatus { shard: GroupId(9), leader: NodeId(1), term: 9, voters: vec![] }),
            Applied::Refused(_)
        ));
    }

    #[test]
    fn joining_members_fill_shards_up_to_the_replication_factor() {
        let mut map = bootstrapped(6, 3);
        join(&mut map, 2);
        assert!(map.shards.values().all(|s| s.replicas == vec![NodeId(1), NodeId(2)]), "fewer nodes than the factor");
        join(&mut map, 3);
        join(&mut map, 4);
        // Full shards stay as they are: moving replicas to a newcomer is rebalancing, not placement.
        assert!(map.shards.values().all(|s| s.replicas == vec![NodeId(1), NodeId(2), NodeId(3)]));
        assert!(map.shards_of(NodeId(4)).is_empty());
        // A removed member is replaced by a voting member that is free.
        map.apply(&ClusterChange::RemoveMember { node: NodeId(2) });
        assert!(map.shards.values().all(|s| s.replicas == vec![NodeId(1), NodeId(3), NodeId(4)]));
        // Gaps filled at once go to the least loaded members first.
        let mut spread = bootstrapped(4, 1);
        for n in 2..=3 {
            join(&mut spread, n);
        }
        spread.replication_factor = 2;
        spread.place();
        let hosted: Vec<usize> = (2..=3).map(|n| spread.shards_of(NodeId(n)).len()).collect();
        assert_eq!(hosted, vec![2, 2], "four gaps shared by two newcomers");
    }

    #[test]
    fn read_replicas_follow_every_shard_and_are_never_placed() {
        let mut map = bootstrapped(2, 3);
        join(&mut map, 2);
        map.apply(&ClusterChange::AddMember { node: NodeId(3), addresses: addresses(3), voter: false });
        assert!(map.shards.values().all(|s| !s.replicas.contains(&NodeId(3))));
        assert_eq!(map.shards_of(NodeId(3)), vec![GroupId(1), GroupId(2)]);
        assert_eq!(map.learners_of(GroupId(1)), vec![NodeId(3)]);
        // Promoted, it is placed; demoted again, it leaves the replicas.
        map.apply(&ClusterChange::AddMember { node: NodeId(3), addresses: addresses(3), voter: true });
        assert!(map.shards.values().all(|s| s.replicas.contains(&NodeId(3))));
        map.apply(&ClusterChange::AddMember { node: NodeId(3), addresses: addresses(3), voter: false });
        assert!(map.shards.values().all(|s| s.replicas == vec![NodeId(1), NodeId(2)]));
    }

    #[test]
    fn placement_and_settling_follow_the_leaders_reports() {
        let mut map = bootstrapped(1, 3);
        join(&mut map, 2);
        assert!(!map.is_settled(), "no leader reported yet");
        assert!(!map.is_placed(NodeId(2)));
        map.apply(&ClusterChange::ShardStatus {
            shard: GroupId(1),
            leader: NodeId(1),
            term: 1,
            voters: vec![NodeId(1)],
        });
        assert!(!map.is_settled(), "node 2 is placed but not a voter yet");
        assert!(map.is_placed(NodeId(1)));
        map.apply(&ClusterChange::ShardStatus {
            shard: GroupId(1),
            leader: NodeId(1),
            term: 1,
            voters: vec![NodeId(1), NodeId(2)],
        });
        assert!(map.is_settled() && map.is_placed(NodeId(2)));
    }

    #[test]
    fn preferred_leaders_spread_over_the_replicas() {
        let mut map = bootstrapped(3, 3);
        join(&mut map, 2);
        join(&mut map, 3);
        let preferred = map.preferred_leaders();
        let mut leaders: Vec<NodeId> = preferred.values().copied().collect();
        leaders.sort();
        assert_eq!(leaders, vec![NodeId(1), NodeId(2), NodeId(3)], "one shard each");
        let mut map = bootstrapped(64, 3);
        for n in 2..=3 {
            join(&mut map, n);
        }
        let mut count: BTreeMap<NodeId, usize> = BTreeMap::new();
        for (shard, leader) in map.preferred_leaders() {
            assert!(map.shards[&shard].replicas.contains(&leader));
            *count.entry(leader).or_default() += 1;
        }
        let (min, max) = (count.values().min().unwrap(), count.values().max().unwrap());
        assert!(count.len() == 3 && max - min <= 1, "{count:?}");
    }

    #[test]
    fn snapshots_are_canonical_and_round_trip() {
        let build = || {
            let mut map = bootstrapped(4, 3);
            for n in [3, 2] {
                join(&mut map, n);
            }
            map.apply(&ClusterChange::ShardStatus {
                shard: GroupId(2),
                leader: NodeId(3),
                term: 4,
                voters: vec![NodeId(3), NodeId(1)],
            });
            map
        };
        let (first, second) = (build(), build());
        assert_eq!(first.snapshot(), second.snapshot(), "the same changes give the same bytes");
        let restored = ClusterMap::restore(&first.snapshot()).unwrap();
        assert_eq!(restored, first);
        assert_eq!(restored.snapshot(), first.snapshot());
        let bytes = first.snapshot();
        assert!(ClusterMap::restore(&bytes[..bytes.len() / 2]).is_err());
        let mut broken = first.clone();
        broken.slots.pop();
        assert!(ClusterMap::restore(&broken.snapshot()).is_err(), "unowned slots are refused");
    }

    #[test]
    fn the_machine_applies_cluster_changes_and_refuses_data_requests() {
        let mut machine = ClusterMachine::default();
        let bootstrap = Request::Cluster(ClusterChange::Bootstrap {
            node: NodeId(1),
            addresses: addresses(1),
            shards: 2,
            replication_factor: 3,
        });
        let data = Request::Command { db: 0, argv: vec![bytes::Bytes::from_static(b"SET")] };
        let reply = machine.apply(5, &Batch { time_ms: 1, requests: vec![bootstrap, data] });
        assert_eq!(reply.replies[0], Reply::OK);
        assert!(reply.replies[1].is_error());
        assert_eq!((machine.applied_index(), machine.map().shards.len()), (5, 2));
        let restored = ClusterMachine::restore(&machine.snapshot()).unwrap();
        assert_eq!(restored, machine);
    }

    #[test]
    fn bad_bootstraps_are_refused() {
        let mut map = ClusterMap::default();
        let zero =
            ClusterChange::Bootstrap { node: NodeId(1), addresses: addresses(1), shards: 0, replication_factor: 3 };
        assert!(matches!(map.apply(&zero), Applied::Refused(_)));
        let many = ClusterChange::Bootstrap {
            node: NodeId(1),
            addresses: addresses(1),
            shards: SHARDS_MAX as u32 + 1,
            replication_factor: 3,
        };
        assert!(matches!(map.apply(&many), Applied::Refused(_)));
        assert_eq!(map.epoch, 0);
        assert!(matches!(join(&mut map, 2), Applied::Refused(_)), "no members before the bootstrap");
    }

    #[test]
    fn a_slot_move_hands_its_slots_over_only_when_fenced_at_the_current_attempt() {
        let mut map = bootstrapped(3, 1);
        let (g1, g2, g3) = (GroupId(1), GroupId(2), GroupId(3));
        let refused = |map: &mut ClusterMap, change: ClusterChange| matches!(map.apply(&change), Applied::Refused(_));
        assert!(refused(&mut map, ClusterChange::MoveSlots { ranges: vec![(5000, 6000)], target: g3 }), "two owners");
        assert!(refused(&mut map, ClusterChange::MoveSlots { ranges: vec![(0, 10)], target: g1 }), "its own");
        assert!(refused(&mut map, ClusterChange::MoveSlots { ranges: vec![(0, 10)], target: GroupId(9) }));
        assert_eq!(map.apply(&ClusterChange::MoveSlots { ranges: vec![(0, 99)], target: g2 }), Applied::Changed);
        assert!(refused(&mut map, ClusterChange::MoveSlots { ranges: vec![(50, 60)], target: g3 }), "moving already");
        let id = *map.moves.keys().next().unwrap();
        assert_eq!(map.served_by(g1).unwrap().ranges(), &[(0, 5460)], "still the source's while copying");
        map.apply(&ClusterChange::MoveAttempt { id });
        map.apply(&ClusterChange::MoveAttempt { id });
        assert!(refused(&mut map, ClusterChange::MoveFence { id, attempt: 1 }), "an older attempt");
        assert_eq!(map.apply(&ClusterChange::MoveFence { id, attempt: 2 }), Applied::Changed);
        assert_eq!(map.served_by(g1).unwrap().ranges(), &[(100, 5460)], "fenced away");
        assert_eq!(map.shard_of(0), Some(g1), "but not yet handed over");
        let restored = ClusterMap::restore(&map.snapshot()).unwrap();
        assert_eq!(restored, map);
        assert!(refused(&mut map, ClusterChange::MoveHandOver { id, attempt: 1 }));
        assert_eq!(map.apply(&ClusterChange::MoveHandOver { id, attempt: 2 }), Applied::Changed);
        assert_eq!(map.shard_of(0), Some(g2));
        assert_eq!(map.ranges_of(g2).collect::<Vec<_>>(), vec![(0, 99), (5461, 10921)]);
        map.check().unwrap();
        assert!(refused(&mut map, ClusterChange::MoveCancel { id }), "handed over: too late");
        assert_eq!(map.apply(&ClusterChange::MoveDone { id, attempt: 2 }), Applied::Changed);
        assert!(map.moves.is_empty());
        // A cancelled move leaves the slots where they were.
        map.apply(&ClusterChange::MoveSlots { ranges: vec![(5461, 5461)], target: g3 });
        let id = *map.moves.keys().next().unwrap();
        map.apply(&ClusterChange::MoveAttempt { id });
        map.apply(&ClusterChange::MoveFence { id, attempt: 1 });
        assert_eq!(map.apply(&ClusterChange::MoveCancel { id }), Applied::Changed);
        assert!(refused(&mut map, ClusterChange::MoveHandOver { id, attempt: 1 }));
        assert_eq!(map.served_by(g2).unwrap().ranges(), &[(0, 99), (5461, 10921)]);
    }

    #[test]
    fn maps_of_format_1_are_still_read() {
        let map = bootstrapped(2, 1);
        #[derive(Serialize)]
        struct V1<'a>(
            u8,
            u64,
            u8,
            &'a BTreeMap<NodeId, Member>,
            &'a BTreeMap<GroupId, Shard>,
            &'a Vec<(u16, u16, GroupId)>,
        );
        let old = postcard::to_stdvec(&V1(1, map.epoch, map.replication_factor, &map.members, &map.shards, &map.slots))
            .unwrap();
        let mut expected = map.clone();
        expected.next_move = 1;
        assert_eq!(ClusterMap::restore(&old).unwrap(), expected);
    }

    #[test]
    fn a_map_reads_back_as_it_was_and_damaged_bytes_are_refused() {
        let mut map = bootstrapped(2, 1);
        map.apply(&ClusterChange::MoveSlots { ranges: vec![(0, 9)], target: GroupId(2) });
        map.replaced.insert(NodeId(9));
        let bytes = map.snapshot();
        assert_eq!(ClusterMap::restore(&bytes).unwrap(), map);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(ClusterMap::restore(&longer).unwrap_err().contains("past its end"));
        assert!(ClusterMap::restore(&bytes[..bytes.len() - 1]).is_err(), "cut short");
        let mut newer = bytes;
        newer[0] = MAP_FORMAT_VERSION + 1;
        assert!(ClusterMap::restore(&newer).unwrap_err().contains("is not supported"));
        assert!(ClusterMap::restore(&[]).is_err());
    }

    #[test]
    fn maps_of_format_2_are_still_read() {
        let mut map = bootstrapped(2, 1);
        map.apply(&ClusterChange::MoveSlots { ranges: vec![(0, 9)], target: GroupId(2) });
        #[derive(Serialize)]
        #[allow(clippy::type_complexity)]
        struct V2<'a>(
            u8,
            u64,
            u8,
            &'a BTreeMap<NodeId, Member>,
            &'a BTreeMap<GroupId, Shard>,
            &'a Vec<(u16, u16, GroupId)>,
            &'a BTreeMap<u64, SlotMove>,
            u64,
        );
        let old = postcard::to_stdvec(&V2(
            2,
            map.epoch,
            map.replication_factor,
            &map.members,
            &map.shards,
            &map.slots,
            &map.moves,
            map.next_move,
        ))
        .unwrap();
        assert_eq!(ClusterMap::restore(&old).unwrap(), map);
    }

    /// A member replaced while dead is recorded as such (so it rejoins empty when it comes
    /// back), one removed by an operator is not; joining again clears the record.
    #[test]
    fn a_replaced_member_is_recorded_until_it_joins_again() {
        let mut map = bootstrapped(1, 1);
        join(&mut map, 2);
        join(&mut map, 3);
        assert_eq!(map.apply(&ClusterChange::ReplaceMember { node: NodeId(2) }), Applied::Changed);
        assert_eq!(map.apply(&ClusterChange::RemoveMember { node: NodeId(3) }), Applied::Changed);
        assert_eq!(map.replaced, BTreeSet::from([NodeId(2)]));
        assert!(!map.members.contains_key(&NodeId(2)));
        assert!(map.shards.values().all(|shard| !shard.replicas.contains(&NodeId(2))));
        assert_eq!(ClusterMap::restore(&map.snapshot()).unwrap(), map);
        join(&mut map, 2);
        assert!(map.replaced.is_empty());
    }

    #[test]
    fn replicas_are_placed_and_unplaced_by_rebalancing_steps() {
        let mut map = bootstrapped(1, 1);
        join(&mut map, 2);
        let shard = GroupId(1);
        assert_eq!(map.shards[&shard].replicas, vec![NodeId(1)]);
        let place = ClusterChange::PlaceReplica { shard, node: NodeId(2) };
        assert_eq!(map.apply(&place), Applied::Changed);
        assert_eq!(map.apply(&place), Applied::Unchanged);
        assert_eq!(map.apply(&ClusterChange::UnplaceReplica { shard, node: NodeId(1) }), Applied::Changed);
        assert_eq!(map.shards[&shard].replicas, vec![NodeId(2)]);
        let last = ClusterChange::UnplaceReplica { shard, node: NodeId(2) };
        assert!(matches!(map.apply(&last), Applied::Refused(_)), "never the only replica");
        let stranger = ClusterChange::PlaceReplica { shard, node: NodeId(9) };
        assert!(matches!(map.apply(&stranger), Applied::Refused(_)), "only on voting members");
    }
}
