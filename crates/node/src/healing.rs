//! Self-healing.
//!
//! While this node leads the metadata group, a member that gossip has found down for longer
//! than `replace-dead-after-ms` (60 s by default) is replaced, through the metadata group's log
//! like any other change:
//! 1. the map drops it (`RemoveMember`): placement re-creates each of its replicas on the voting
//!    members holding the fewest, and each shard's leader adds the new replica as a learner,
//!    promotes it once caught up, and only then removes the dead voter (see `stewardship`);
//! 2. it leaves the metadata group, and a member following that group as a learner takes its
//!    vote, so the metadata group keeps its voters too.
//!
//! Gossip only informs: nothing changes but through the log, one node at a time, only while
//! every shard has a leader and its replicas in place, and only when enough live voting members
//! remain to hold every replica the dead one held. A node back within the grace is simply
//! still a member; one back later learns from a peer's map that it was removed while it was
//! away, and rejoins empty ([`rejoin_if_replaced`]).

use crate::cluster::{change, promote_in_metadata};
use crate::node::Node;
use concord_core::cluster_map::{ClusterChange, ClusterMap};
use concord_core::limits::METADATA_VOTERS_MAX;
use concord_core::request::Request;
use concord_core::types::NodeId;
use concord_gossip::Health;
use concord_raft::NodeInfo;
use std::sync::Arc;
use std::time::Duration;

/// How often the metadata leader looks for members to replace.
const HEAL_INTERVAL_MS: u64 = 1_000;
/// The wire version that gossips and knows `ReplaceMember`: nothing is replaced until every
/// member speaks it (a member of an older version may just not gossip).
const GOSSIP_VERSION: u8 = 5;

/// Runs until the node stops.
pub async fn run(node: Arc<Node>) {
    let grace = Duration::from_millis(node.config.replace_dead_after_ms);
    if grace.is_zero() {
        return;
    }
    let mut interval = tokio::time::interval(Duration::from_millis(HEAL_INTERVAL_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stuck_on: Option<NodeId> = None;
    loop {
        interval.tick().await;
        if !node.meta.is_leader() {
            continue;
        }
        let map = node.map();
        follow_members_in_metadata(&node, &map).await;
        if !map.is_settled() || !node.cluster_speaks(GOSSIP_VERSION) {
            continue;
        }
        let Some(dead) = dead_member(&node, &map, grace) else { continue };
        if !spare_voters(&node, &map, dead) {
            if stuck_on != Some(dead) {
                tracing::warn!(node = %dead, "a member is dead, but too few live voting members remain to take its replicas");
                stuck_on = Some(dead);
            }
            continue;
        }
        stuck_on = None;
        match replace(&node, dead).await {
            Ok(()) => tracing::warn!(node = %dead, "replaced a dead member: its replicas are re-created elsewhere"),
            Err(why) => tracing::warn!(node = %dead, %why, "replacing a dead member failed; trying again"),
        }
    }
}

/// Every member of the map follows the metadata group (that is how it learns the map): one
/// missing from the group (it joined again while it was being removed) is added back as a
/// learner.
async fn follow_members_in_metadata(node: &Node, map: &ClusterMap) {
    let followers = node.meta.members();
    for (id, member) in &map.members {
        if followers.iter().any(|m| m.id == *id) {
            continue;
        }
        let info = NodeInfo { raft_addr: member.addresses.node.clone(), client_addr: member.addresses.client.clone() };
        match change(|| node.meta.add_learner(*id, info.clone())).await {
            Ok(()) => tracing::info!(node = %id, "a member missing from the metadata group follows it again"),
            Err(error) => tracing::debug!(node = %id, ?error, "cannot add a member back to the metadata group"),
        }
    }
}

/// A member gossip has found down for longer than `grace`, lowest id first.
fn dead_member(node: &Node, map: &ClusterMap, grace: Duration) -> Option<NodeId> {
    map.members
        .keys()
        .copied()
        .find(|id| *id != node.id && node.membership.down_for(*id).is_some_and(|down| down >= grace))
}

/// Whether, without `dead`, enough live voting members remain for every shard to have its
/// replication factor (or as many replicas as before, if it had fewer).
fn spare_voters(node: &Node, map: &ClusterMap, dead: NodeId) -> bool {
    let live = map
        .members
        .iter()
        .filter(|(id, member)| **id != dead && member.voter)
        .filter(|(id, _)| **id == node.id || node.membership.health(**id) != Some(Health::Down))
        .count();
    map.shards
        .values()
        .filter(|shard| shard.replicas.contains(&dead))
        .all(|shard| live >= shard.replicas.len().min(usize::from(map.replication_factor)))
}

async fn replace(node: &Arc<Node>, dead: NodeId) -> Result<(), String> {
    // Out of the metadata group first: once the map records it as replaced it may come back
    // and join again (as a learner of that group), which a later removal would undo.
    let meta = &node.meta;
    if meta.members().iter().any(|m| m.id == dead) {
        change(|| meta.forget(dead)).await.map_err(|e| format!("{e:?}"))?;
    }
    let remove = Request::Cluster(ClusterChange::ReplaceMember { node: dead });
    match node.meta.propose(remove).await {
        Ok(reply) if reply.is_error() => return Err(format!("{reply:?}")),
        Ok(_) => {}
        Err(error) => return Err(format!("{error:?}")),
    }
    // Its vote in the metadata group goes to a live voting member following it as a learner.
    let members = meta.members();
    if members.iter().filter(|m| m.voter).count() < METADATA_VOTERS_MAX {
        let map = node.map();
        let candidate = members.iter().find(|m| {
            !m.voter
                && map.members.get(&m.id).is_some_and(|member| member.voter)
                && node.membership.health(m.id) == Some(Health::Alive)
        });
        if let Some(candidate) = candidate {
            let reply = promote_in_metadata(node, candidate.id).await;
            if reply.is_error() {
                tracing::warn!(node = %candidate.id, ?reply, "could not give a metadata vote to a member");
            }
        }
    }
    Ok(())
}

/// A node the map records as replaced (removed while it was dead; it learns so from its own
/// metadata replica, or from a peer's map through gossip) disconnects its subscribers, stops
/// its replicas (re-created elsewhere meanwhile; see `Node::release_groups`) and joins again
/// through a member as a new, empty member, which a rebalance then gives its share. A member
/// an operator removed is not recorded as replaced, and stays out.
pub async fn rejoin_if_replaced(node: Arc<Node>) {
    let mut maps = node.watch_map();
    loop {
        let map = maps.borrow_and_update().clone();
        if !map.members.contains_key(&node.id) && map.replaced.contains(&node.id) {
            let seeds: Vec<String> = map.members.values().map(|m| m.addresses.client.clone()).collect();
            tracing::warn!(epoch = map.epoch, "this node was replaced while it was away; it rejoins the cluster empty");
            crate::pubsub::disconnect_subscribers(&node);
            node.release_groups().await;
            if let Some(seed) = seeds.first() {
                crate::cluster::join(node.clone(), seed.clone()).await;
            }
        }
        if maps.changed().await.is_err() {
            return;
        }
    }
}
