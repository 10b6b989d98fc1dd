//! The rebalancing planner: a pure function from a cluster's [`Layout`] (members, shards,
//! their replicas, leaders, slots and load) to an ordered list of [`Step`]s that brings it to
//! a placement that is safe first and even second. The node runs the steps (the driver is not
//! part of the core); [`Layout::apply`] replays them on plain values so a plan can be checked.
//!
//! Goals, in priority order:
//! 1. every shard has `min(replication factor, eligible voters)` replicas, on distinct nodes,
//!    none on a draining node, on as many distinct zones as the eligible nodes offer;
//! 2. replica counts of the eligible nodes within 1 of each other, as far as goal 1 allows;
//! 3. leaders on eligible replicas, leader counts within 1 of each other, as far as the
//!    replicas allow;
//! 4. if enabled, slots moved from the most to the least loaded shard until their loads are
//!    within the tolerance.
//!
//! A replica is always added before the one it replaces is removed, and leadership leaves a
//! replica before it is removed, so a shard never has fewer replicas than
//! `min(its count before the plan, wanted)` at any step. The plan is computed by applying each
//! step to a working copy until nothing is left to do, so planning again on
//! `layout.apply(&plan)` gives an empty plan. Same input, same plan: only ordered maps, ties
//! broken by id.

use crate::cluster_map::ClusterMap;
use crate::limits::PLAN_SLOT_MOVES_MAX;
use crate::types::{GroupId, NodeId};
use std::collections::{BTreeMap, BTreeSet};

/// How far apart shard loads may be, by default, before slots move: the gap between the most
/// and the least loaded shard as a percentage of the mean load. Moving slots copies data, so
/// small differences are not worth it.
pub const LOAD_TOLERANCE_PERCENT_DEFAULT: u64 = 10;

/// A member, as the planner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberLayout {
    /// The failure domain (`--zone`). A node without one shares a domain with no other.
    pub zone: Option<String>,
    /// Only voting members hold replicas; read replicas follow every shard as learners.
    pub voter: bool,
    /// Being removed: its replicas and leaderships are moved away.
    pub draining: bool,
}

/// A shard, as the planner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardLayout {
    /// Distinct nodes holding a voting replica.
    pub replicas: Vec<NodeId>,
    pub leader: Option<NodeId>,
    /// The slots it owns: inclusive `(first, last)` ranges, sorted and apart.
    pub slots: Vec<(u16, u16)>,
    /// Any additive figure of its size (keys, bytes); taken to be spread evenly over its slots.
    pub load: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// Whether to move slots between shards to even their loads.
    pub balance_slots: bool,
    /// See [`LOAD_TOLERANCE_PERCENT_DEFAULT`].
    pub load_tolerance_percent: u64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { balance_slots: true, load_tolerance_percent: LOAD_TOLERANCE_PERCENT_DEFAULT }
    }
}

/// Everything the planner reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub members: BTreeMap<NodeId, MemberLayout>,
    pub shards: BTreeMap<GroupId, ShardLayout>,
    pub replication_factor: u8,
    pub options: PlanOptions,
}

/// One move of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    AddReplica {
        shard: GroupId,
        node: NodeId,
    },
    RemoveReplica {
        shard: GroupId,
        node: NodeId,
    },
    TransferLeader {
        shard: GroupId,
        to: NodeId,
    },
    /// Moves the slots `first..=last`, all owned by `from`, to `to`.
    MoveSlots {
        first: u16,
        last: u16,
        from: GroupId,
        to: GroupId,
    },
}

impl Layout {
    /// The layout of a cluster map (members with their zones), with each shard's load from
    /// `loads` (0 if missing). The map has no draining members: set them on the result.
    pub fn from_map(map: &ClusterMap, loads: &BTreeMap<GroupId, u64>) -> Layout {
        let members = map
            .members
            .iter()
            .map(|(id, member)| {
                let zone = map.zones.get(id).cloned();
                (*id, MemberLayout { zone, voter: member.voter, draining: false })
            })
            .collect();
        let shards = map
            .shards
            .iter()
            .map(|(id, shard)| {
                let layout = ShardLayout {
                    replicas: shard.replicas.clone(),
                    leader: shard.leader,
                    slots: joined(map.ranges_of(*id).collect()),
                    load: loads.get(id).copied().unwrap_or(0),
                };
                (*id, layout)
            })
            .collect();
        Layout { members, shards, replication_factor: map.replication_factor, options: PlanOptions::default() }
    }

    /// The layout once `steps` are done. A step that does not fit the layout (an unknown shard,
    /// slots `from` does not own) is skipped, as the cluster would refuse it.
    pub fn apply(&self, steps: &[Step]) -> Layout {
        let mut layout = self.clone();
        for step in steps {
            layout.apply_step(step);
        }
        layout
    }

    fn apply_step(&mut self, step: &Step) {
        match *step {
            Step::AddReplica { shard, node } => {
                if let Some(shard) = self.shards.get_mut(&shard) {
                    if !shard.replicas.contains(&node) {
                        shard.replicas.push(node);
                    }
                }
            }
            Step::RemoveReplica { shard, node } => {
                if let Some(shard) = self.shards.get_mut(&shard) {
                    shard.replicas.retain(|id| *id != node);
                    if shard.leader == Some(node) {
                        shard.leader = None;
                    }
                }
            }
            Step::TransferLeader { shard, to } => {
                if let Some(shard) = self.shards.get_mut(&shard) {
                    if shard.replicas.contains(&to) {
                        shard.leader = Some(to);
                    }
                }
            }
            Step::MoveSlots { first, last, from, to } => self.move_slots(first, last, from, to),
        }
    }

    fn move_slots(&mut self, first: u16, last: u16, from: GroupId, to: GroupId) {
        let owns = |shard: &ShardLayout| shard.slots.iter().any(|(f, l)| *f <= first && last <= *l);
        if from == to || first > last || !self.shards.contains_key(&to) {
            return;
        }
        let Some(source) = self.shards.get_mut(&from).filter(|s| owns(s)) else {
            return;
        };
        let moved_slots = u64::from(last - first) + 1;
        let moved_load = load_share(source.load, moved_slots, slot_count(source));
        source.load -= moved_load;
        source.slots = source.slots.iter().flat_map(|range| without(*range, first, last)).collect();
        let target = self.shards.get_mut(&to).expect("checked above");
        target.load += moved_load;
        target.slots.push((first, last));
        target.slots = joined(std::mem::take(&mut target.slots));
    }

    /// The steps that bring this layout to the goals (see the module's doc comment).
    pub fn plan(&self) -> Vec<Step> {
        let mut planner = Planner { layout: self.clone(), steps: Vec::new() };
        planner.place_replicas();
        planner.spread_leaders();
        if self.options.balance_slots {
            planner.balance_slots();
        }
        planner.steps
    }

    /// Voting members that are not draining, in id order: the only nodes that take replicas.
    pub fn eligible_nodes(&self) -> Vec<NodeId> {
        self.members.iter().filter(|(_, m)| m.voter && !m.draining).map(|(id, _)| *id).collect()
    }

    pub fn is_eligible(&self, node: NodeId) -> bool {
        self.members.get(&node).is_some_and(|m| m.voter && !m.draining)
    }

    /// Replicas every shard should have: the replication factor, or every eligible node if
    /// there are fewer.
    pub fn wanted_replicas(&self) -> usize {
        usize::from(self.replication_factor).min(self.eligible_nodes().len())
    }

    /// The failure domain of a node: its zone, or the node itself if it has none.
    pub fn zone_of(&self, node: NodeId) -> ZoneKey<'_> {
        match self.members.get(&node).and_then(|m| m.zone.as_deref()) {
            Some(zone) => ZoneKey::Named(zone),
            None => ZoneKey::Alone(node),
        }
    }

    /// Distinct zones among `nodes`.
    pub fn zones_among(&self, nodes: &[NodeId]) -> usize {
        nodes.iter().map(|node| self.zone_of(*node)).collect::<BTreeSet<_>>().len()
    }

    /// Distinct zones a shard's replicas should cover: one per replica while the eligible
    /// nodes offer enough zones, else all of them.
    pub fn wanted_zones(&self) -> usize {
        self.wanted_replicas().min(self.zones_among(&self.eligible_nodes()))
    }

    /// Replicas each eligible node holds.
    pub fn replica_counts(&self) -> BTreeMap<NodeId, usize> {
        let mut counts: BTreeMap<NodeId, usize> = self.eligible_nodes().into_iter().map(|id| (id, 0)).collect();
        for shard in self.shards.values() {
            for node in &shard.replicas {
                if let Some(count) = counts.get_mut(node) {
                    *count += 1;
                }
            }
        }
        counts
    }

    /// Shards each eligible node leads.
    pub fn leader_counts(&self) -> BTreeMap<NodeId, usize> {
        let mut counts: BTreeMap<NodeId, usize> = self.eligible_nodes().into_iter().map(|id| (id, 0)).collect();
        for shard in self.shards.values() {
            if let Some(count) = shard.leader.and_then(|leader| counts.get_mut(&leader)) {
                *count += 1;
            }
        }
        counts
    }
}

/// A failure domain: a named zone, or a node without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZoneKey<'a> {
    Named(&'a str),
    Alone(NodeId),
}

/// Slots a shard owns.
pub fn slot_count(shard: &ShardLayout) -> u64 {
    shard.slots.iter().map(|(first, last)| u64::from(last - first) + 1).sum()
}

/// The part of `load` that `part` of a shard's `whole` slots carry, loads being spread evenly.
fn load_share(load: u64, part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    (u128::from(load) * u128::from(part) / u128::from(whole)) as u64
}

/// Sorted ranges with adjacent ones joined.
fn joined(mut ranges: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    ranges.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
    for (first, last) in ranges {
        match out.last_mut() {
            Some((_, end)) if u32::from(first) <= u32::from(*end) + 1 => *end = (*end).max(last),
            _ => out.push((first, last)),
        }
    }
    out
}

/// What is left of `range` without `first..=last`.
fn without(range: (u16, u16), first: u16, last: u16) -> Vec<(u16, u16)> {
    let (start, end) = range;
    if last < start || end < first {
        return vec![range];
    }
    let mut left = Vec::new();
    if start < first {
        left.push((start, first - 1));
    }
    if last < end {
        left.push((last + 1, end));
    }
    left
}

/// A layout being worked on, and the steps that brought it there.
struct Planner {
    layout: Layout,
    steps: Vec<Step>,
}

impl Planner {
    fn push(&mut self, step: Step) {
        self.layout.apply_step(&step);
        self.steps.push(step);
    }

    fn shard(&self, shard: GroupId) -> &ShardLayout {
        &self.layout.shards[&shard]
    }

    fn shard_ids(&self) -> Vec<GroupId> {
        self.layout.shards.keys().copied().collect()
    }

    // ---- Goals 1 and 2: replicas ----

    fn place_replicas(&mut self) {
        if self.layout.eligible_nodes().is_empty() {
            // Nowhere to put replicas: removing any would only lose copies.
            return;
        }
        self.trim_excess();
        self.fill_missing();
        self.evict_ineligible();
        self.spread_zones();
        self.even_replica_counts();
    }

    /// Eligible replicas of a shard.
    fn eligible_replicas(&self, shard: GroupId) -> Vec<NodeId> {
        self.shard(shard).replicas.iter().copied().filter(|node| self.layout.is_eligible(*node)).collect()
    }

    /// Removes eligible replicas beyond the wanted count, first from the busiest nodes, never
    /// costing a zone the shard would then lack.
    fn trim_excess(&mut self) {
        let wanted = self.layout.wanted_replicas();
        for shard in self.shard_ids() {
            while self.eligible_replicas(shard).len() > wanted {
                let replicas = self.eligible_replicas(shard);
                let counts = self.layout.replica_counts();
                let victim = replicas
                    .iter()
                    .copied()
                    .max_by_key(|node| {
                        let rest: Vec<NodeId> = replicas.iter().copied().filter(|n| n != node).collect();
                        (self.layout.zones_among(&rest), counts[node], std::cmp::Reverse(*node))
                    })
                    .expect("more replicas than wanted, so some");
                self.remove_replica(shard, victim);
            }
        }
    }

    /// Gives each shard short of eligible replicas one more per round, shards in id order, so
    /// that a newcomer's share is spread over the shards rather than taken by the first ones.
    fn fill_missing(&mut self) {
        let wanted = self.layout.wanted_replicas();
        loop {
            let mut added_any = false;
            for shard in self.shard_ids() {
                if self.eligible_replicas(shard).len() >= wanted {
                    continue;
                }
                if let Some(node) = self.best_new_replica(shard, &[]) {
                    self.push(Step::AddReplica { shard, node });
                    added_any = true;
                }
            }
            if !added_any {
                return;
            }
        }
    }

    /// The eligible node that should take a new replica of `shard`: one in a zone the shard's
    /// replicas (but `leaving`) lack if any, then the one holding the fewest replicas, then the
    /// lowest id.
    fn best_new_replica(&self, shard: GroupId, leaving: &[NodeId]) -> Option<NodeId> {
        let replicas = &self.shard(shard).replicas;
        let zones: BTreeSet<ZoneKey> = self
            .eligible_replicas(shard)
            .into_iter()
            .filter(|node| !leaving.contains(node))
            .map(|node| self.layout.zone_of(node))
            .collect();
        let counts = self.layout.replica_counts();
        counts
            .iter()
            .filter(|(node, _)| !replicas.contains(node))
            .min_by_key(|(node, count)| (zones.contains(&self.layout.zone_of(**node)), **count, **node))
            .map(|(node, _)| *node)
    }

    /// Removes replicas on draining, non-voting or unknown nodes; each shard has its wanted
    /// eligible replicas by now, so none of these removals lowers it below that.
    fn evict_ineligible(&mut self) {
        for shard in self.shard_ids() {
            let ineligible: Vec<NodeId> =
                self.shard(shard).replicas.iter().copied().filter(|node| !self.layout.is_eligible(*node)).collect();
            for node in ineligible {
                self.remove_replica(shard, node);
            }
        }
    }

    /// Moves replicas out of zones a shard holds twice into zones it lacks, while it covers
    /// fewer zones than it should.
    fn spread_zones(&mut self) {
        let wanted_zones = self.layout.wanted_zones();
        for shard in self.shard_ids() {
            while self.layout.zones_among(&self.shard(shard).replicas) < wanted_zones {
                let Some(leaving) = self.crowded_replica(shard) else { break };
                let Some(arriving) = self.best_new_replica(shard, &[leaving]) else { break };
                self.move_replica(shard, leaving, arriving);
            }
        }
    }

    /// The busiest replica of a shard that shares its zone with another of its replicas.
    fn crowded_replica(&self, shard: GroupId) -> Option<NodeId> {
        let replicas = &self.shard(shard).replicas;
        let counts = self.layout.replica_counts();
        replicas
            .iter()
            .copied()
            .filter(|node| {
                replicas.iter().any(|other| other != node && self.layout.zone_of(*other) == self.layout.zone_of(*node))
            })
            .max_by_key(|node| (counts.get(node).copied().unwrap_or(0), std::cmp::Reverse(*node)))
    }

    /// Moves replicas from nodes holding at least two more than others, while a move keeps the
    /// shard's zones. Each move lowers the sum of squared counts, so this ends.
    fn even_replica_counts(&mut self) {
        while let Some((shard, from, to)) = self.replica_move() {
            self.move_replica(shard, from, to);
        }
    }

    /// The first move, busiest node first, least busy target first, shards in id order, that
    /// evens replica counts without costing a shard a zone.
    fn replica_move(&self) -> Option<(GroupId, NodeId, NodeId)> {
        let counts = self.layout.replica_counts();
        let mut busiest: Vec<(NodeId, usize)> = counts.iter().map(|(n, c)| (*n, *c)).collect();
        busiest.sort_by_key(|(node, count)| (std::cmp::Reverse(*count), *node));
        let mut idlest = busiest.clone();
        idlest.sort_by_key(|(node, count)| (*count, *node));
        let wanted_zones = self.layout.wanted_zones();
        for (from, from_count) in &busiest {
            for (to, _) in idlest.iter().take_while(|(_, count)| count + 2 <= *from_count) {
                for (id, shard) in &self.layout.shards {
                    if !shard.replicas.contains(from) || shard.replicas.contains(to) {
                        continue;
                    }
                    let moved: Vec<NodeId> =
                        shard.replicas.iter().map(|node| if node == from { *to } else { *node }).collect();
                    if self.layout.zones_among(&moved) >= wanted_zones {
                        return Some((*id, *from, *to));
                    }
                }
            }
        }
        None
    }

    /// Adds `to` before removing `from`, so the shard keeps its replica count throughout.
    fn move_replica(&mut self, shard: GroupId, from: NodeId, to: NodeId) {
        self.push(Step::AddReplica { shard, node: to });
        self.remove_replica(shard, from);
    }

    /// Removes a replica, handing its leadership first to the remaining eligible replica
    /// that leads the fewest shards.
    fn remove_replica(&mut self, shard: GroupId, node: NodeId) {
        if self.shard(shard).leader == Some(node) {
            let rest: Vec<NodeId> = self.shard(shard).replicas.iter().copied().filter(|n| *n != node).collect();
            if let Some(heir) = self.least_leading(&rest) {
                self.push(Step::TransferLeader { shard, to: heir });
            }
        }
        self.push(Step::RemoveReplica { shard, node });
    }

    /// The eligible node among `candidates` leading the fewest shards, lowest id among equals.
    fn least_leading(&self, candidates: &[NodeId]) -> Option<NodeId> {
        let counts = self.layout.leader_counts();
        candidates.iter().filter_map(|node| counts.get(node).map(|count| (*count, *node))).min().map(|(_, node)| node)
    }

    // ---- Goal 3: leaders ----

    fn spread_leaders(&mut self) {
        for shard in self.shard_ids() {
            let current = self.shard(shard).leader;
            if current
                .is_some_and(|leader| self.layout.is_eligible(leader) && self.shard(shard).replicas.contains(&leader))
            {
                continue;
            }
            if let Some(heir) = self.least_leading(&self.shard(shard).replicas.clone()) {
                self.push(Step::TransferLeader { shard, to: heir });
            }
        }
        while let Some(path) = self.leadership_path() {
            for (shard, to) in path {
                self.push(Step::TransferLeader { shard, to });
            }
        }
    }

    /// A chain of hand-overs that takes one leadership from a node to one leading at least two
    /// fewer shards: the node's shard goes to one of its replicas, that replica's shard to one
    /// of its own, and so on, every node in between keeping its count. Searched breadth first
    /// from the busiest node; none left means no hand-over can even the counts further.
    fn leadership_path(&self) -> Option<Vec<(GroupId, NodeId)>> {
        let counts = self.layout.leader_counts();
        let mut busiest: Vec<(NodeId, usize)> = counts.iter().map(|(n, c)| (*n, *c)).collect();
        busiest.sort_by_key(|(node, count)| (std::cmp::Reverse(*count), *node));
        for (start, start_count) in busiest {
            // How each reached node was reached: the shard whose leadership would move to it,
            // and the node leading that shard now.
            let mut reached: BTreeMap<NodeId, Option<(GroupId, NodeId)>> = BTreeMap::from([(start, None)]);
            let mut frontier = vec![start];
            while !frontier.is_empty() {
                let mut next = Vec::new();
                for node in frontier {
                    for (id, shard) in self.layout.shards.iter().filter(|(_, s)| s.leader == Some(node)) {
                        for replica in &shard.replicas {
                            if reached.contains_key(replica) || !counts.contains_key(replica) {
                                continue;
                            }
                            reached.insert(*replica, Some((*id, node)));
                            if counts[replica] + 2 <= start_count {
                                return Some(path_to(&reached, *replica));
                            }
                            next.push(*replica);
                        }
                    }
                }
                frontier = next;
            }
        }
        None
    }

    // ---- Goal 4: slots ----

    /// Moves slots from the most to the least loaded shard until their gap is within the
    /// tolerance, or no move would narrow it (the hottest shard's slots are too few or too
    /// heavy). Each move lowers the sum of squared loads, so this ends; the bound only keeps
    /// one plan short.
    fn balance_slots(&mut self) {
        for _ in 0..PLAN_SLOT_MOVES_MAX {
            let Some(step) = self.slot_move() else { return };
            self.push(step);
        }
    }

    fn slot_move(&self) -> Option<Step> {
        let shards = &self.layout.shards;
        let (hot, hot_shard) = shards.iter().max_by_key(|(id, s)| (s.load, std::cmp::Reverse(**id)))?;
        let (cold, cold_shard) = shards.iter().min_by_key(|(id, s)| (s.load, **id))?;
        let gap = hot_shard.load - cold_shard.load;
        if hot == cold || self.within_tolerance(gap) {
            return None;
        }
        let hot_slots = slot_count(hot_shard);
        if hot_slots < 2 {
            // A shard keeps at least one slot: no merges in a plan.
            return None;
        }
        // The largest range, the last among equals: moving its top keeps the rest contiguous.
        let (first, last) = *hot_shard.slots.iter().max_by_key(|(f, l)| (l - f, *f))?;
        let movable = (u64::from(last - first) + 1).min(hot_slots - 1);
        // Half the gap closes it; the hot shard's load is spread evenly over its slots.
        let wanted = u128::from(gap) * u128::from(hot_slots) / (2 * u128::from(hot_shard.load));
        let count = (wanted as u64).clamp(1, movable);
        let moved_load = load_share(hot_shard.load, count, hot_slots);
        if moved_load == 0 || moved_load >= gap {
            return None;
        }
        let first_moved = last - (count as u16 - 1);
        Some(Step::MoveSlots { first: first_moved, last, from: *hot, to: *cold })
    }

    /// Whether a gap between shard loads is within the tolerance of the mean load.
    fn within_tolerance(&self, gap: u64) -> bool {
        let total: u128 = self.layout.shards.values().map(|s| u128::from(s.load)).sum();
        let shards = self.layout.shards.len() as u128;
        u128::from(gap) * 100 * shards <= u128::from(self.layout.options.load_tolerance_percent) * total
    }
}

/// The hand-overs that lead from the search's start to `end`, in order.
fn path_to(reached: &BTreeMap<NodeId, Option<(GroupId, NodeId)>>, end: NodeId) -> Vec<(GroupId, NodeId)> {
    let mut path = Vec::new();
    let mut node = end;
    while let Some(Some((shard, from))) = reached.get(&node) {
        path.push((*shard, node));
        node = *from;
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests;
