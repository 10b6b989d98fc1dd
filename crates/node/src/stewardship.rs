//! Stewardship: each shard's leader keeps its Raft group in line with the cluster map.
//!
//! The map (decided by the metadata group) says which nodes a shard's replicas belong on; the
//! group's own membership (in its log, changed by openraft's joint consensus) is what is. The
//! leader of each shard, every [`STEWARD_INTERVAL_MS`]:
//!
//! 1. **reports** itself, its term and its group's voters to the metadata group when the map
//!    says otherwise, so every node (and every cluster client, through `CLUSTER SLOTS`) learns
//!    who leads what and which replicas are in place;
//! 2. **moves the membership** towards the map: nodes placed but missing join as learners, and
//!    become voters once caught up; only when every placed replica votes are voters the map no
//!    longer places removed (or turned into learners, for read replicas);
//! 3. **spreads leadership**: once the membership matches and it has led for a while, it hands
//!    leadership over to the replica the map prefers (`ClusterMap::preferred_leaders`), so
//!    leaders end up evenly spread over the nodes, also after a failed node comes back.
//!
//! Each shard's steps run in a task of their own, one at a time per shard, so a shard without
//! a quorum holds up no other.

use crate::cluster::{change, CAUGHT_UP_ENTRIES};
use crate::node::Node;
use concord_core::cluster_map::{ClusterChange, ClusterMap};
use concord_core::request::Request;
use concord_core::types::{GroupId, NodeId};
use concord_raft::{Group, NodeInfo};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How often each shard's leader looks at the map.
const STEWARD_INTERVAL_MS: u64 = 200;
/// How long a node leads a shard before it hands leadership over to the preferred replica:
/// leaderships settle first (after a failover, or a node's return), so they do not bounce.
const HANDOVER_AFTER_MS: u64 = 3_000;
/// Longest a membership change may take before the steward tries again later.
const MEMBERSHIP_CHANGE_TIMEOUT_MS: u64 = 10_000;

/// Runs until the node stops.
pub async fn run(node: Arc<Node>) {
    let mut interval = tokio::time::interval(Duration::from_millis(STEWARD_INTERVAL_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut leading_since: BTreeMap<GroupId, Instant> = BTreeMap::new();
    let mut running: BTreeMap<GroupId, JoinHandle<()>> = BTreeMap::new();
    loop {
        interval.tick().await;
        let map = node.map();
        if !map.is_bootstrapped() {
            continue;
        }
        for group in node.data_groups() {
            if !group.is_leader() {
                leading_since.remove(&group.id);
                continue;
            }
            let since = *leading_since.entry(group.id).or_insert_with(Instant::now);
            if running.get(&group.id).is_some_and(|task| !task.is_finished()) {
                continue;
            }
            let may_hand_over = since.elapsed() >= Duration::from_millis(HANDOVER_AFTER_MS);
            let (node, map) = (node.clone(), map.clone());
            running.insert(group.id, tokio::spawn(async move { steward(&node, &map, &group, may_hand_over).await }));
        }
    }
}

/// What a member must be in a shard's group, by the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    Voter,
    Learner,
}

/// One step of moving a group's membership towards the map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    AddLearner(NodeId),
    Promote(NodeId),
    Demote(NodeId),
    Remove(NodeId),
    /// This leader is no longer wanted as a voter: leadership goes first.
    HandOver(NodeId),
}

/// The next membership change, given what the map wants (`wanted`), what the group has
/// (`(member, voter)` pairs) and which learners have caught up. Adding comes before removing,
/// and nothing is removed while a wanted voter is missing, so the group never shrinks below
/// what it had.
pub fn next_step(
    me: NodeId,
    wanted: &BTreeMap<NodeId, Wanted>,
    members: &[(NodeId, bool)],
    caught_up: impl Fn(NodeId) -> bool,
) -> Option<Step> {
    let has = |id: NodeId| members.iter().find(|(member, _)| *member == id).map(|(_, voter)| *voter);
    if let Some((id, _)) = wanted.iter().find(|(id, _)| has(**id).is_none()) {
        return Some(Step::AddLearner(*id));
    }
    if let Some((id, _)) = wanted.iter().find(|(id, want)| **want == Wanted::Voter && has(**id) == Some(false)) {
        return caught_up(*id).then_some(Step::Promote(*id));
    }
    for (id, voter) in members {
        match (wanted.get(id), voter) {
            (Some(Wanted::Voter), _) | (Some(Wanted::Learner), false) => {}
            _ if *id == me => {
                let heir = wanted.iter().find(|(_, want)| **want == Wanted::Voter).map(|(id, _)| *id)?;
                return Some(Step::HandOver(heir));
            }
            (Some(Wanted::Learner), true) => return Some(Step::Demote(*id)),
            (None, _) => return Some(Step::Remove(*id)),
        }
    }
    None
}

async fn steward(node: &Arc<Node>, map: &ClusterMap, group: &Arc<Group>, may_hand_over: bool) {
    let Some(shard) = map.shards.get(&group.id) else { return };
    let members = group.members();
    let mut voters: Vec<NodeId> = members.iter().filter(|m| m.voter).map(|m| m.id).collect();
    voters.sort_unstable();
    let term = group.metrics().current_term;
    if shard.leader != Some(node.id) || shard.term != term || shard.voters != voters {
        let report = ClusterChange::ShardStatus { shard: group.id, leader: node.id, term, voters: voters.clone() };
        let reply = node.clone().write_batch(GroupId::METADATA, vec![Request::Cluster(report)]).await;
        if reply.first().is_some_and(|reply| reply.is_error()) {
            tracing::debug!(shard = %group.id, ?reply, "shard status report failed; retrying later");
        }
    }
    let mut wanted: BTreeMap<NodeId, Wanted> = BTreeMap::new();
    for id in shard.replicas.iter().filter(|id| map.members.contains_key(id)) {
        wanted.insert(*id, Wanted::Voter);
    }
    for id in map.learners_of(group.id) {
        wanted.entry(id).or_insert(Wanted::Learner);
    }
    if wanted.is_empty() {
        return;
    }
    let pairs: Vec<(NodeId, bool)> = members.iter().map(|m| (m.id, m.voter)).collect();
    let caught_up = |id: NodeId| group.caught_up(id, CAUGHT_UP_ENTRIES);
    let timeout = Duration::from_millis(MEMBERSHIP_CHANGE_TIMEOUT_MS);
    let result = match next_step(node.id, &wanted, &pairs, caught_up) {
        Some(Step::AddLearner(id)) => {
            let Some(member) = map.members.get(&id) else { return };
            let info =
                NodeInfo { raft_addr: member.addresses.node.clone(), client_addr: member.addresses.client.clone() };
            tracing::info!(shard = %group.id, node = %id, "adding a replica placed by the map");
            tokio::time::timeout(timeout, change(|| group.add_learner(id, info.clone()))).await
        }
        Some(Step::Promote(id)) => {
            tracing::info!(shard = %group.id, node = %id, "a caught-up replica becomes a voter");
            tokio::time::timeout(timeout, change(|| group.promote(id))).await
        }
        Some(Step::Demote(id)) => tokio::time::timeout(timeout, change(|| group.demote(id))).await,
        Some(Step::Remove(id)) => {
            tracing::info!(shard = %group.id, node = %id, "removing a replica the map no longer places");
            tokio::time::timeout(timeout, change(|| group.forget(id))).await
        }
        Some(Step::HandOver(heir)) => {
            group.hand_over(heir).await;
            return;
        }
        None => {
            if may_hand_over {
                if let Some(preferred) = map.preferred_leaders().get(&group.id).copied() {
                    if preferred != node.id && voters.contains(&preferred) && group.hand_over(preferred).await {
                        tracing::info!(shard = %group.id, to = %preferred, "handed leadership over to spread leaders");
                    }
                }
            }
            return;
        }
    };
    match result {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(shard = %group.id, ?error, "membership change refused; retrying later"),
        Err(_) => tracing::debug!(shard = %group.id, "membership change timed out; retrying later"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(voters: &[u128], learners: &[u128]) -> BTreeMap<NodeId, Wanted> {
        voters
            .iter()
            .map(|id| (NodeId(*id), Wanted::Voter))
            .chain(learners.iter().map(|id| (NodeId(*id), Wanted::Learner)))
            .collect()
    }

    fn members(pairs: &[(u128, bool)]) -> Vec<(NodeId, bool)> {
        pairs.iter().map(|(id, voter)| (NodeId(*id), *voter)).collect()
    }

    #[test]
    fn membership_grows_before_it_shrinks() {
        let me = NodeId(1);
        let all = |_| true;
        let none = |_| false;
        let want = wanted(&[1, 2, 3], &[]);
        assert_eq!(next_step(me, &want, &members(&[(1, true)]), all), Some(Step::AddLearner(NodeId(2))));
        let partly = members(&[(1, true), (2, false), (3, false)]);
        assert_eq!(next_step(me, &want, &partly, none), None, "learners not caught up yet: wait");
        assert_eq!(next_step(me, &want, &partly, all), Some(Step::Promote(NodeId(2))));
        let full = members(&[(1, true), (2, true), (3, true)]);
        assert_eq!(next_step(me, &want, &full, all), None);
        // Node 3 leaves the map, node 4 takes its place: 4 joins first, then 3 goes.
        let moved = wanted(&[1, 2, 4], &[]);
        assert_eq!(next_step(me, &moved, &full, all), Some(Step::AddLearner(NodeId(4))));
        let joining = members(&[(1, true), (2, true), (3, true), (4, false)]);
        assert_eq!(next_step(me, &moved, &joining, none), None, "no removal while a wanted voter is missing");
        let joined = members(&[(1, true), (2, true), (3, true), (4, true)]);
        assert_eq!(next_step(me, &moved, &joined, all), Some(Step::Remove(NodeId(3))));
    }

    #[test]
    fn read_replicas_are_learners_and_the_leader_leaves_last() {
        let me = NodeId(1);
        let all = |_| true;
        let want = wanted(&[1, 2], &[3]);
        assert_eq!(next_step(me, &want, &members(&[(1, true), (2, true)]), all), Some(Step::AddLearner(NodeId(3))));
        let demoted = members(&[(1, true), (2, true), (3, true)]);
        assert_eq!(next_step(me, &want, &demoted, all), Some(Step::Demote(NodeId(3))));
        assert_eq!(next_step(me, &want, &members(&[(1, true), (2, true), (3, false)]), all), None);
        // The leader itself is no longer placed: it hands over rather than remove itself.
        let without_me = wanted(&[2, 3], &[]);
        let group = members(&[(1, true), (2, true), (3, true)]);
        assert_eq!(next_step(me, &without_me, &group, all), Some(Step::HandOver(NodeId(2))));
    }
}
