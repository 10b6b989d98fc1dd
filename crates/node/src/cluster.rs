//! Cluster topology and membership: the CLUSTER replies (in the shapes Redis Cluster clients
//! parse) drawn from the cluster map, membership changes on the metadata group's leader,
//! fault injection, and joining a cluster.
//!
//! A member's membership of the metadata group is changed here; its place in the data shards
//! follows from the map (see `stewardship`).

use crate::client::Client;
use crate::config::Routing;
use crate::node::Node;
use bytes::Bytes;
use concord_core::cluster_map::{Addresses, ClusterChange, ClusterMap, MovePhase};
use concord_core::commands::cluster::{ClusterOp, Fault};
use concord_core::limits::{METADATA_VOTERS_MAX, SLOTS};
use concord_core::request::Request;
use concord_core::slot::key_slot;
use concord_core::types::{GroupId, NodeId};
use concord_core::{Error, Reply};
use concord_gossip::Health;
use concord_raft::{Group, MembershipError, NodeInfo};
use std::sync::Arc;
use std::time::Duration;

/// A learner counts as caught up when its log is within this many entries of the leader's.
pub const CAUGHT_UP_ENTRIES: u64 = 64;
/// How long a joining voter may take to catch up before the join gives up.
const CATCH_UP_TIMEOUT_MS: u64 = 120_000;
/// The wire version that knows zones (`AddMemberInZone`, `SetZone` in the metadata log).
pub const ZONE_VERSION: u8 = 7;
/// How often a member compares its zone in the map with its `--zone`.
const ZONE_CHECK_MS: u64 = 1_000;

/// Keeps this member's zone in the map what its `--zone` says (the bootstrapping node's, which
/// no join recorded, or one restarted with another label), once every member records zones.
pub async fn keep_zone(node: Arc<Node>) {
    loop {
        tokio::time::sleep(Duration::from_millis(ZONE_CHECK_MS)).await;
        let map = node.map();
        if !map.members.contains_key(&node.id) || map.zones.get(&node.id) == node.config.zone.as_ref() {
            continue;
        }
        if !node.cluster_speaks(ZONE_VERSION) {
            continue;
        }
        let change = ClusterChange::SetZone { node: node.id, zone: node.config.zone.clone() };
        let reply = node.clone().write_batch(GroupId::METADATA, vec![Request::Cluster(change)]).await;
        match reply.first() {
            Some(reply) if reply.is_error() => tracing::warn!(?reply, "could not record this node's zone; retrying"),
            _ => tracing::info!(zone = ?node.config.zone, "recorded this node's zone in the cluster map"),
        }
    }
}

/// How long a join attempt may go on while this node's copy of the metadata log does not grow
/// before it is given up and made again: a seed cut off, or replaced, while it handled the
/// request may never answer, whereas once the leader has added this node as a learner its log
/// grows as it catches up.
const JOIN_STALL_MS: u64 = 15_000;
/// Attempts at a membership change while another one is still in progress.
const MEMBERSHIP_ATTEMPTS: usize = 100;

fn host_port(address: &str) -> (String, i64) {
    match address.rsplit_once(':') {
        Some((host, port)) => (host.to_string(), port.parse().unwrap_or(0)),
        None => (address.to_string(), 0),
    }
}

fn membership_reply(result: Result<(), MembershipError>) -> Reply {
    match result {
        Ok(()) => Reply::OK,
        Err(MembershipError::NotLeader { .. }) => Error::new("TRYAGAIN leadership moved; retry").into(),
        Err(MembershipError::Refused(reason)) => Error::err(format_args!("membership change refused: {reason}")).into(),
    }
}

/// Retries a membership change while another is in progress (openraft allows one at a time).
pub async fn change<F, Fut>(mut attempt: F) -> Result<(), MembershipError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), MembershipError>>,
{
    let mut last = Ok(());
    for _ in 0..MEMBERSHIP_ATTEMPTS {
        last = attempt().await;
        match &last {
            Err(MembershipError::Refused(reason)) if in_progress(reason) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            _ => return last,
        }
    }
    last
}

/// Whether a refusal only means another membership change is still under way.
pub fn in_progress(reason: &str) -> bool {
    reason.contains("progress") || reason.contains("undergoing")
}

/// Answers a CLUSTER request that any node answers from what it knows.
pub async fn answer(node: &Arc<Node>, op: ClusterOp) -> Reply {
    match op {
        ClusterOp::MyId => Reply::bulk_text(node.id.to_string()),
        ClusterOp::Info => Reply::Verbatim(info(node).into()),
        ClusterOp::Nodes => Reply::Verbatim(nodes(node).into()),
        ClusterOp::Slots => slots(node),
        ClusterOp::Shards => shards(node),
        ClusterOp::Members => members(node),
        ClusterOp::GetSlotMigrations => slot_migrations(node),
        ClusterOp::Fault(fault) => {
            let faults = node.network.faults();
            match fault {
                Fault::Block { peer, outgoing, incoming } => {
                    if outgoing {
                        faults.block_outgoing(peer);
                    }
                    if incoming {
                        faults.block_incoming(peer);
                    }
                }
                Fault::Unblock(peer) => faults.unblock(peer),
                Fault::Heal => faults.heal(),
                Fault::List => return Reply::Array(faults.describe().into_iter().map(Reply::bulk_text).collect()),
            }
            Reply::OK
        }
        other => Error::err(format_args!("{other:?} needs a leader")).into(),
    }
}

/// How long CLUSTER FORGET waits for a removed node's replicas to move away.
const DRAIN_WAIT_MS: u64 = 120_000;

/// Waits until no shard counts `id` among its voters any more, by its leader's reports: the
/// replicas placed instead of it caught up and were promoted, and its leaderships moved away,
/// before it leaves the metadata group (so stopping it then costs no shard a replica).
async fn drained(node: &Node, id: NodeId) -> Result<(), Reply> {
    let started = std::time::Instant::now();
    loop {
        let map = node.map();
        let holding: Vec<String> = map
            .shards
            .iter()
            .filter(|(_, shard)| shard.voters.contains(&id) || shard.leader == Some(id))
            .map(|(shard_id, _)| shard_id.to_string())
            .collect();
        if holding.is_empty() {
            return Ok(());
        }
        if started.elapsed() > Duration::from_millis(DRAIN_WAIT_MS) {
            return Err(Error::new(format!(
                "TRYAGAIN {id} still holds replicas of {}; FORGET it again once they moved",
                holding.join(", ")
            ))
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// CLUSTER GETSLOTMIGRATIONS: each move in progress, as a map.
fn slot_migrations(node: &Node) -> Reply {
    let map = node.map();
    let text = |s: String| Reply::bulk_text(s);
    let moves = map
        .moves
        .iter()
        .map(|(id, m)| {
            let ranges = m.ranges.iter().map(|(first, last)| format!("{first}-{last}")).collect::<Vec<_>>().join(" ");
            Reply::Map(vec![
                (text("id".into()), Reply::Integer(*id as i64)),
                (text("slots".into()), text(ranges)),
                (text("source".into()), text(m.source.to_string())),
                (text("target".into()), text(m.target.to_string())),
                (text("state".into()), text(m.phase.name().into())),
                (text("attempt".into()), Reply::Integer(m.attempt as i64)),
            ])
        })
        .collect();
    Reply::Array(moves)
}

/// Answers a CLUSTER request on the leader of `group`: membership changes on the metadata
/// group's, questions about a slot's keys on its shard's.
pub async fn answer_as_leader(node: &Arc<Node>, group: GroupId, op: ClusterOp) -> Reply {
    let meta = &node.meta;
    match op {
        ClusterOp::CountKeysInSlot(slot) | ClusterOp::GetKeysInSlot(slot, _) => {
            let Some(shard) = node.group(group).filter(|_| group != GroupId::METADATA) else {
                return Error::new("TRYAGAIN this node does not host the slot's shard; retry").into();
            };
            if let Err(error) = shard.request_read_barrier().await {
                return crate::node::read_error_reply(error);
            }
            let limit = match op {
                ClusterOp::GetKeysInSlot(_, count) => Some(count),
                _ => None,
            };
            keys_in_slot(node, &shard, slot, limit).await
        }
        ClusterOp::Join { node: id, raft_addr, client_addr, voter } => {
            join_member(node, id, Addresses { node: raft_addr, client: client_addr }, voter, None).await
        }
        ClusterOp::JoinInZone { node: id, raft_addr, client_addr, voter, zone } => {
            join_member(node, id, Addresses { node: raft_addr, client: client_addr }, voter, Some(zone)).await
        }
        ClusterOp::Promote(id) => set_role(node, id, true).await,
        ClusterOp::Demote(id) => set_role(node, id, false).await,
        ClusterOp::MigrateSlots { ranges, target } => {
            if !node.cluster_speaks(4) {
                return Error::err("every node must run a version that moves slots (wire version 4) first").into();
            }
            match node.meta.propose(Request::Cluster(ClusterChange::MoveSlots { ranges, target })).await {
                Ok(reply) => reply,
                Err(error) => crate::node::write_error_reply(error),
            }
        }
        ClusterOp::Rebalance { dry_run } => crate::mover::rebalance(node, dry_run).await,
        ClusterOp::SplitShard(shard) => crate::mover::split(node, shard).await,
        ClusterOp::MergeShards { from, into } => {
            let ranges: Vec<(u16, u16)> = node.map().ranges_of(from).collect();
            if ranges.is_empty() {
                return Error::err(format_args!("{from} owns no slots")).into();
            }
            match node.meta.propose(Request::Cluster(ClusterChange::MoveSlots { ranges, target: into })).await {
                Ok(reply) => reply,
                Err(error) => crate::node::write_error_reply(error),
            }
        }
        ClusterOp::CancelSlotMigrations(which) => {
            let map = node.map();
            let cancellable =
                |m: &&concord_core::cluster_map::SlotMove| matches!(m.phase, MovePhase::Copying | MovePhase::Fenced);
            let ids: Vec<u64> = match which {
                Some(id) => vec![id],
                None => map.moves.iter().filter(|(_, m)| cancellable(m)).map(|(id, _)| *id).collect(),
            };
            for &id in &ids {
                if let Err(reply) = propose(node, ClusterChange::MoveCancel { id }).await {
                    return reply;
                }
            }
            Reply::Integer(ids.len() as i64)
        }
        ClusterOp::Forget(id) => {
            if let Err(reply) = propose(node, ClusterChange::RemoveMember { node: id }).await {
                return reply;
            }
            if let Err(reply) = drained(node, id).await {
                return reply;
            }
            if meta.members().iter().any(|m| m.id == id) {
                return membership_reply(change(|| meta.forget(id)).await);
            }
            Reply::OK
        }
        other => answer(node, other).await,
    }
}

/// COUNTKEYSINSLOT and GETKEYSINSLOT on a shard's leader, over database 0.
async fn keys_in_slot(node: &Node, shard: &Group, slot: u16, limit: Option<usize>) -> Reply {
    let keys: Vec<Bytes> = node
        .read_settled(shard, |applied, now_ms| {
            let db = applied.data().keyspace().db(0);
            let mut keys = Vec::new();
            for entry in db.entries() {
                if limit.is_some_and(|limit| keys.len() >= limit) {
                    break;
                }
                if !entry.is_expired(now_ms) && key_slot(entry.key()) == slot {
                    keys.push(entry.key().to_bytes());
                }
            }
            keys
        })
        .await;
    match limit {
        Some(_) => Reply::bulks(keys),
        None => Reply::Integer(keys.len() as i64),
    }
}

/// Proposes a change to the map (on the metadata group's leader, this node).
async fn propose(node: &Node, change: ClusterChange) -> Result<(), Reply> {
    match node.meta.propose(Request::Cluster(change)).await {
        Ok(reply) if reply.is_error() => Err(reply),
        Ok(_) => Ok(()),
        Err(error) => Err(crate::node::write_error_reply(error)),
    }
}

/// On the metadata leader: adds `id` to the metadata group as a learner and to the map, whose
/// placement then gives it shard replicas; a voting member also becomes one of the metadata
/// group's voters, while there are fewer than five, once it has caught up.
async fn join_member(node: &Arc<Node>, id: NodeId, addresses: Addresses, voter: bool, zone: Option<String>) -> Reply {
    if zone.is_some() && !node.cluster_speaks(ZONE_VERSION) {
        return Error::err(format_args!(
            "every node must run a version that records zones (wire version {ZONE_VERSION}) before one joins with a zone"
        ))
        .into();
    }
    let meta = &node.meta;
    let info = NodeInfo { raft_addr: addresses.node.clone(), client_addr: addresses.client.clone() };
    if !meta.members().iter().any(|m| m.id == id) {
        if let Err(error) = change(|| meta.add_learner(id, info.clone())).await {
            return membership_reply(Err(error));
        }
    }
    let added = match zone {
        Some(zone) => ClusterChange::AddMemberInZone { node: id, addresses, voter, zone },
        None => ClusterChange::AddMember { node: id, addresses, voter },
    };
    if let Err(reply) = propose(node, added).await {
        return reply;
    }
    if voter {
        return promote_in_metadata(node, id).await;
    }
    Reply::OK
}

/// Makes `id` a voter of the metadata group if it has room, once it has caught up.
pub(crate) async fn promote_in_metadata(node: &Node, id: NodeId) -> Reply {
    let meta = &node.meta;
    let members = meta.members();
    let voters = members.iter().filter(|m| m.voter).count();
    if voters >= METADATA_VOTERS_MAX || members.iter().any(|m| m.id == id && m.voter) {
        return Reply::OK;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_millis(CATCH_UP_TIMEOUT_MS);
    loop {
        if meta.caught_up(id, CAUGHT_UP_ENTRIES) {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            return Error::err(format_args!("node {id} did not catch up in time; it stays a learner")).into();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    membership_reply(change(|| meta.promote(id)).await)
}

/// PROMOTE and DEMOTE: a member's role in the map (placed as a shard replica, or a read
/// replica of every shard) and in the metadata group.
async fn set_role(node: &Arc<Node>, id: NodeId, voter: bool) -> Reply {
    let map = node.map();
    let Some(member) = map.members.get(&id) else {
        return Error::err(format_args!("unknown node {id}")).into();
    };
    if let Err(reply) =
        propose(node, ClusterChange::AddMember { node: id, addresses: member.addresses.clone(), voter }).await
    {
        return reply;
    }
    let meta = &node.meta;
    if voter {
        promote_in_metadata(node, id).await
    } else if meta.members().iter().any(|m| m.id == id && m.voter) {
        membership_reply(change(|| meta.demote(id)).await)
    } else {
        Reply::OK
    }
}

/// Joins the cluster `seed` belongs to, retrying until the map lists this node.
pub async fn join(node: Arc<Node>, seed: String) {
    let mut delay = Duration::from_millis(200);
    let mut request = vec![
        "CLUSTER".to_string(),
        "JOIN".to_string(),
        node.id.to_string(),
        node.info.raft_addr.clone(),
        node.info.client_addr.clone(),
    ];
    if node.config.learner {
        request.push("LEARNER".to_string());
    }
    if let Some(zone) = &node.config.zone {
        request.extend(["ZONE".to_string(), zone.clone()]);
    }
    let joined = |node: &Node| node.map().members.get(&node.id).is_some_and(|m| m.voter != node.config.learner);
    loop {
        if joined(&node) {
            tracing::info!(%seed, "joined the cluster");
            return;
        }
        let attempt = async {
            let timeout = Duration::from_millis(CATCH_UP_TIMEOUT_MS + 5_000);
            let mut client = Client::connect_on(&*node.env.net, &seed, timeout).await?;
            client.call(&request).await
        };
        let attempt = tokio::time::timeout(Duration::from_millis(CATCH_UP_TIMEOUT_MS + 10_000), attempt);
        tokio::pin!(attempt);
        let mut log_seen = node.meta.metrics().last_log_index;
        let outcome = loop {
            tokio::select! {
                outcome = &mut attempt => break Some(outcome),
                _ = tokio::time::sleep(Duration::from_millis(JOIN_STALL_MS)) => {
                    let log_now = node.meta.metrics().last_log_index;
                    if log_now == log_seen || joined(&node) {
                        break None;
                    }
                    log_seen = log_now;
                }
            }
        };
        match outcome {
            Some(Ok(Ok(Reply::Status(_)))) => {
                // The leader has us; wait until our own copy of the map does too.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Some(Ok(Ok(other))) => tracing::warn!(%seed, reply = ?other, "join refused; retrying"),
            Some(Ok(Err(error))) => tracing::warn!(%seed, %error, "cannot reach the seed; retrying"),
            Some(Err(_)) => tracing::warn!(%seed, "join timed out; retrying"),
            None if joined(&node) => continue,
            None => tracing::warn!(%seed, "the join made no progress for {JOIN_STALL_MS} ms; retrying"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// What the CLUSTER replies show of one shard: its slot ranges, its leader as this node knows
/// it, and its other replicas.
struct ShardView {
    id: GroupId,
    ranges: Vec<(u16, u16)>,
    leader: Option<NodeId>,
    replicas: Vec<NodeId>,
}

fn shard_views(node: &Node, map: &ClusterMap) -> Vec<ShardView> {
    map.shards
        .iter()
        .map(|(id, shard)| {
            let leader = node.leader_of(*id).map(|(leader, _)| leader).filter(|l| map.members.contains_key(l));
            let mut replicas: Vec<NodeId> =
                if shard.voters.is_empty() { shard.replicas.clone() } else { shard.voters.clone() };
            replicas.extend(map.learners_of(*id));
            replicas.retain(|r| Some(*r) != leader && map.members.contains_key(r));
            replicas.dedup();
            ShardView { id: *id, ranges: map.ranges_of(*id).collect(), leader, replicas }
        })
        .collect()
}

/// Adjacent ranges joined, for a master that leads neighbouring shards.
fn joined_ranges(mut ranges: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    ranges.sort_unstable();
    let mut joined: Vec<(u16, u16)> = Vec::new();
    for (first, last) in ranges {
        match joined.last_mut() {
            Some((_, end)) if u32::from(*end) + 1 == u32::from(first) => *end = last,
            _ => joined.push((first, last)),
        }
    }
    joined
}

/// CLUSTER INFO.
pub fn info(node: &Node) -> String {
    let map = node.map();
    let views = shard_views(node, &map);
    let slots_ok: u32 = views
        .iter()
        .filter(|view| view.leader.is_some())
        .flat_map(|view| view.ranges.iter())
        .map(|(first, last)| u32::from(last - first) + 1)
        .sum();
    let assigned = if map.is_bootstrapped() { u32::from(SLOTS) } else { 0 };
    let state = if map.is_bootstrapped() && slots_ok == assigned { "ok" } else { "fail" };
    let first_leader = views.first().and_then(|view| view.leader);
    let voters = map.members.keys().filter(|id| map.is_placed(**id)).count();
    [
        format!("cluster_state:{state}"),
        format!("cluster_slots_assigned:{assigned}"),
        format!("cluster_slots_ok:{slots_ok}"),
        format!(
            "cluster_slots_pfail:{}",
            slots_of_leaders(&views, |id| node.membership.health(id) == Some(Health::Suspect))
        ),
        format!("cluster_slots_fail:{}", assigned - slots_ok),
        format!("cluster_known_nodes:{}", map.members.len()),
        format!("cluster_size:{}", map.shards.len()),
        format!("cluster_current_epoch:{}", map.epoch),
        format!("cluster_my_epoch:{}", map.epoch),
        format!("cluster_voters:{voters}"),
        format!("cluster_learners:{}", map.members.values().filter(|m| !m.voter).count()),
        format!("cluster_settled:{}", u8::from(map.is_settled())),
        format!("cluster_leaders_preferred:{}", u8::from(leaders_preferred(&map, &views))),
        format!("cluster_leader:{}", first_leader.map(|id| id.to_string()).unwrap_or_default()),
        format!("cluster_metadata_leader:{}", node.meta.leader().map(|(id, _)| id.to_string()).unwrap_or_default()),
        format!("cluster_routing:{}", if node.config.routing == Routing::Proxy { "proxy" } else { "redirect" }),
    ]
    .iter()
    .map(|line| format!("{line}\r\n"))
    .collect()
}

/// Slots of the shards whose leader is `flagged`.
fn slots_of_leaders(views: &[ShardView], flagged: impl Fn(NodeId) -> bool) -> u32 {
    views
        .iter()
        .filter(|view| view.leader.is_some_and(&flagged))
        .flat_map(|view| view.ranges.iter())
        .map(|(first, last)| u32::from(last - first) + 1)
        .sum()
}

/// Whether every shard is led by the replica the map prefers (leaders evenly spread).
fn leaders_preferred(map: &ClusterMap, views: &[ShardView]) -> bool {
    let preferred = map.preferred_leaders();
    views.iter().all(|view| view.leader.is_some() && view.leader == preferred.get(&view.id).copied())
}

/// CLUSTER NODES, one line per member in Redis's format: a node leading shards is a master
/// with their slot ranges; a node that only replicates is a replica of its first shard's
/// leader; `fail?` and `fail` as gossip says.
pub fn nodes(node: &Node) -> String {
    let map = node.map();
    let views = shard_views(node, &map);
    let mut text = String::new();
    for (id, member) in &map.members {
        let (host, port) = host_port(&member.addresses.client);
        let (_, bus) = host_port(&member.addresses.node);
        let myself = if *id == node.id { "myself," } else { "" };
        let led: Vec<(u16, u16)> =
            views.iter().filter(|view| view.leader == Some(*id)).flat_map(|view| view.ranges.clone()).collect();
        let (role, master, slots) = if !led.is_empty() {
            let slots: String = joined_ranges(led)
                .into_iter()
                .map(|(first, last)| if first == last { format!(" {first}") } else { format!(" {first}-{last}") })
                .collect();
            ("master", "-".to_string(), slots)
        } else {
            match views.iter().find(|view| view.replicas.contains(id)).and_then(|view| view.leader) {
                Some(leader) => ("slave", leader.to_string(), String::new()),
                None => ("master", "-".to_string(), String::new()),
            }
        };
        // Gossip's word on the others, as Redis flags a node it suspects (`fail?`) or that
        // its peers agree is unreachable (`fail`).
        let (failure, link) = match node.membership.health(*id).filter(|_| *id != node.id) {
            Some(Health::Suspect) => (",fail?", "connected"),
            Some(Health::Down) => (",fail", "disconnected"),
            _ => ("", "connected"),
        };
        text.push_str(&format!(
            "{id} {host}:{port}@{bus} {myself}{role}{failure} {master} 0 0 {} {link}{slots}\n",
            map.epoch
        ));
    }
    text
}

fn endpoint(map: &ClusterMap, id: NodeId) -> Option<Reply> {
    let member = map.members.get(&id)?;
    let (host, port) = host_port(&member.addresses.client);
    Some(Reply::Array(vec![Reply::bulk_text(host), Reply::Integer(port), Reply::bulk_text(id.to_string())]))
}

/// CLUSTER SLOTS: each slot range with its shard's leader first, then its other replicas.
pub fn slots(node: &Node) -> Reply {
    let map = node.map();
    let mut ranges = Vec::new();
    for view in shard_views(node, &map) {
        let Some(master) = view.leader.or_else(|| view.replicas.first().copied()) else { continue };
        for (first, last) in &view.ranges {
            let mut range = vec![Reply::Integer(i64::from(*first)), Reply::Integer(i64::from(*last))];
            range.extend(endpoint(&map, master));
            range.extend(view.replicas.iter().filter(|r| **r != master).filter_map(|r| endpoint(&map, *r)));
            ranges.push((*first, Reply::Array(range)));
        }
    }
    ranges.sort_by_key(|(first, _)| *first);
    Reply::Array(ranges.into_iter().map(|(_, range)| range).collect())
}

/// CLUSTER SHARDS: each shard's slot ranges and nodes.
pub fn shards(node: &Node) -> Reply {
    let map = node.map();
    let replies = shard_views(node, &map)
        .into_iter()
        .map(|view| {
            let progress = node.group(view.id).filter(|g| g.is_leader()).map(|g| g.replication()).unwrap_or_default();
            let local_index =
                node.group(view.id).map(|g| g.read(|applied| applied.machine.applied_index())).unwrap_or(0);
            let nodes = view
                .leader
                .iter()
                .chain(view.replicas.iter())
                .filter_map(|id| Some((*id, map.members.get(id)?)))
                .map(|(id, member)| {
                    let (host, port) = host_port(&member.addresses.client);
                    let field = |name: &'static str| Reply::bulk(name);
                    let offset = if id == node.id { local_index } else { progress.get(&id).copied().unwrap_or(0) };
                    Reply::Map(vec![
                        (field("id"), Reply::bulk_text(id.to_string())),
                        (field("port"), Reply::Integer(port)),
                        (field("ip"), Reply::bulk_text(host.clone())),
                        (field("endpoint"), Reply::bulk_text(host)),
                        (field("role"), Reply::bulk(if Some(id) == view.leader { "master" } else { "replica" })),
                        (field("replication-offset"), Reply::Integer(offset as i64)),
                        (field("health"), Reply::bulk(if view.leader.is_some() { "online" } else { "loading" })),
                    ])
                })
                .collect();
            let slots = view
                .ranges
                .iter()
                .flat_map(|(f, l)| [Reply::Integer(i64::from(*f)), Reply::Integer(i64::from(*l))])
                .collect();
            Reply::Map(vec![(Reply::bulk("slots"), Reply::Array(slots)), (Reply::bulk("nodes"), Reply::Array(nodes))])
        })
        .collect();
    Reply::Array(replies)
}

/// DEBUG SHARDS: each shard of the map as this node sees it, for verifiers that judge the
/// shards apart: `[id, [first, last, ...], [id of each node hosting it, ...], leader's id or
/// nil]`. Shard ids are those `DEBUG REPLICA <group>` takes; node ids those of CLUSTER MYID.
pub fn debug_shards(node: &Node) -> Reply {
    let map = node.map();
    let replies = shard_views(node, &map)
        .into_iter()
        .map(|view| {
            let slots = view
                .ranges
                .iter()
                .flat_map(|(first, last)| [Reply::Integer(i64::from(*first)), Reply::Integer(i64::from(*last))])
                .collect();
            let hosts = map
                .members
                .keys()
                .filter(|id| map.shards_of(**id).contains(&view.id))
                .map(|id| Reply::bulk_text(id.to_string()))
                .collect();
            let leader = view.leader.map_or(Reply::Nil, |id| Reply::bulk_text(id.to_string()));
            Reply::Array(vec![Reply::Integer(i64::from(view.id.0)), Reply::Array(slots), Reply::Array(hosts), leader])
        })
        .collect();
    Reply::Array(replies)
}

/// CLUSTER MEMBERS: Concord's own view of each member: its role (`voter` once every shard
/// placed on it counts it as a voter, `joining` before, `learner` for a read replica), the
/// shards it hosts and leads, whether it votes in the metadata group, and (on the first shard's
/// leader) how far its log matches.
pub fn members(node: &Node) -> Reply {
    let map = node.map();
    let views = shard_views(node, &map);
    let first = map.shards.keys().next().copied();
    let progress = first
        .and_then(|id| node.group(id))
        .filter(|g| g.is_leader())
        .map(|g| (g.replication(), g.metrics().last_log_index.unwrap_or(0)));
    let meta_members = node.meta.members();
    Reply::Array(
        map.members
            .iter()
            .map(|(id, member)| {
                let field = |name: &'static str| Reply::bulk(name);
                let role = match (member.voter, map.is_placed(*id)) {
                    (false, _) => "learner",
                    (true, true) => "voter",
                    (true, false) => "joining",
                };
                // An integer, not a role word: tools count members by their `role` words.
                let metadata_voter = meta_members.iter().any(|m| m.id == *id && m.voter);
                let leads_first = views.first().is_some_and(|view| view.leader == Some(*id));
                let led = views.iter().filter(|view| view.leader == Some(*id)).count();
                let matched = progress.as_ref().and_then(|(replication, _)| replication.get(id).copied());
                let last = progress.as_ref().map_or(0, |(_, last)| *last);
                Reply::Map(vec![
                    (field("id"), Reply::bulk_text(id.to_string())),
                    (field("role"), Reply::bulk(role)),
                    (field("leader"), Reply::Integer(leads_first.into())),
                    (field("shards"), Reply::Integer(map.shards_of(*id).len() as i64)),
                    (field("shards-led"), Reply::Integer(led as i64)),
                    (field("metadata-voter"), Reply::Integer(metadata_voter.into())),
                    (field("node-addr"), Reply::bulk_text(member.addresses.node.clone())),
                    (field("client-addr"), Reply::bulk_text(member.addresses.client.clone())),
                    (field("zone"), map.zones.get(id).map_or(Reply::Nil, |zone| Reply::bulk_text(zone.clone()))),
                    (field("matched-index"), matched.map_or(Reply::Nil, |m| Reply::Integer(m as i64))),
                    (field("lag"), matched.map_or(Reply::Nil, |m| Reply::Integer(last.saturating_sub(m) as i64))),
                ])
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_ranges_are_shown_as_one() {
        assert_eq!(joined_ranges(vec![(5461, 10921), (0, 5460), (12000, 16383)]), vec![(0, 10921), (12000, 16383)]);
    }
}
