//! Cluster topology and membership: the CLUSTER replies (in the shapes Redis Cluster clients
//! parse), membership changes on the leader, fault injection, and joining a cluster.

use crate::client::Client;
use crate::config::Routing;
use crate::node::Node;
use concord_core::commands::cluster::{ClusterOp, Fault};
use concord_core::limits::SLOTS;
use concord_core::types::NodeId;
use concord_core::{Error, Reply};
use concord_raft::{Member, MembershipError, NodeInfo};
use std::sync::Arc;
use std::time::Duration;

/// A learner counts as caught up when its log is within this many entries of the leader's.
const CAUGHT_UP_ENTRIES: u64 = 64;
/// How long a joining voter may take to catch up before the join gives up.
const CATCH_UP_TIMEOUT_MS: u64 = 120_000;
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
async fn change<F, Fut>(mut attempt: F) -> Result<(), MembershipError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), MembershipError>>,
{
    let mut last = Ok(());
    for _ in 0..MEMBERSHIP_ATTEMPTS {
        last = attempt().await;
        match &last {
            Err(MembershipError::Refused(reason)) if reason.contains("progress") || reason.contains("undergoing") => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            _ => return last,
        }
    }
    last
}

/// Answers a CLUSTER request on this node (membership changes only on the leader).
pub async fn answer(node: &Arc<Node>, op: ClusterOp) -> Reply {
    let group = &node.group;
    match op {
        ClusterOp::MyId => Reply::bulk_text(node.id.to_string()),
        ClusterOp::Info => Reply::Verbatim(info(node).into()),
        ClusterOp::Nodes => Reply::Verbatim(nodes(node).into()),
        ClusterOp::Slots => slots(node),
        ClusterOp::Shards => shards(node),
        ClusterOp::Members => members(node),
        ClusterOp::Join { node: id, raft_addr, client_addr, voter } => {
            join_member(node, id, NodeInfo { raft_addr, client_addr }, voter).await
        }
        ClusterOp::Promote(id) => membership_reply(change(|| group.promote(id)).await),
        ClusterOp::Demote(id) => membership_reply(change(|| group.demote(id)).await),
        ClusterOp::Forget(id) => membership_reply(change(|| group.forget(id)).await),
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
    }
}

/// On the leader: adds `id` as a learner, and makes it a voter once it caught up.
async fn join_member(node: &Arc<Node>, id: NodeId, info: NodeInfo, voter: bool) -> Reply {
    let group = &node.group;
    let known = group.members().into_iter().find(|m| m.id == id);
    if known.as_ref().is_some_and(|m| m.voter || !voter) {
        return Reply::OK;
    }
    if known.is_none() {
        if let Err(error) = change(|| group.add_learner(id, info.clone())).await {
            return membership_reply(Err(error));
        }
    }
    if !voter {
        return Reply::OK;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_millis(CATCH_UP_TIMEOUT_MS);
    loop {
        let last = group.metrics().last_log_index.unwrap_or(0);
        if group.replication().get(&id).is_some_and(|matched| matched + CAUGHT_UP_ENTRIES >= last) {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            return Error::err(format_args!("node {id} did not catch up in time; it stays a learner")).into();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    membership_reply(change(|| group.promote(id)).await)
}

/// Joins the cluster `seed` belongs to, retrying until this node is a member.
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
    loop {
        let joined = node.group.members().iter().any(|m| m.id == node.id && (m.voter || node.config.learner));
        if joined {
            tracing::info!(%seed, "joined the cluster");
            return;
        }
        let attempt = async {
            let timeout = Duration::from_millis(CATCH_UP_TIMEOUT_MS + 5_000);
            let mut client = Client::connect_on(&*node.env.net, &seed, timeout).await?;
            client.call(&request).await
        };
        match tokio::time::timeout(Duration::from_millis(CATCH_UP_TIMEOUT_MS + 10_000), attempt).await {
            Ok(Ok(Reply::Status(_))) => {
                // The leader has us; wait until we see it in our own membership too.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Ok(Ok(other)) => tracing::warn!(%seed, reply = ?other, "join refused; retrying"),
            Ok(Err(error)) => tracing::warn!(%seed, %error, "cannot reach the seed; retrying"),
            Err(_) => tracing::warn!(%seed, "join timed out; retrying"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn leader_and_members(node: &Node) -> (Option<NodeId>, Vec<Member>) {
    (node.group.leader().map(|(id, _)| id), node.group.members())
}

/// CLUSTER INFO.
pub fn info(node: &Node) -> String {
    let (leader, members) = leader_and_members(node);
    let term = node.group.metrics().current_term;
    let state = if leader.is_some() { "ok" } else { "fail" };
    let assigned = if leader.is_some() { SLOTS } else { 0 };
    [
        format!("cluster_state:{state}"),
        format!("cluster_slots_assigned:{assigned}"),
        format!("cluster_slots_ok:{assigned}"),
        "cluster_slots_pfail:0".into(),
        "cluster_slots_fail:0".into(),
        format!("cluster_known_nodes:{}", members.len()),
        "cluster_size:1".into(),
        format!("cluster_current_epoch:{term}"),
        format!("cluster_my_epoch:{term}"),
        format!("cluster_voters:{}", members.iter().filter(|m| m.voter).count()),
        format!("cluster_learners:{}", members.iter().filter(|m| !m.voter).count()),
        format!("cluster_leader:{}", leader.map(|id| id.to_string()).unwrap_or_default()),
        format!("cluster_routing:{}", if node.config.routing == Routing::Proxy { "proxy" } else { "redirect" }),
    ]
    .iter()
    .map(|line| format!("{line}\r\n"))
    .collect()
}

/// CLUSTER NODES, one line per member in Redis's format; the leader holds every slot.
pub fn nodes(node: &Node) -> String {
    let (leader, members) = leader_and_members(node);
    let term = node.group.metrics().current_term;
    let mut text = String::new();
    for member in members {
        let (host, port) = host_port(&member.info.client_addr);
        let (_, bus) = host_port(&member.info.raft_addr);
        let myself = if member.id == node.id { "myself," } else { "" };
        let (role, master, slots) = match leader {
            Some(leader) if leader == member.id => ("master", "-".to_string(), format!(" 0-{}", SLOTS - 1)),
            Some(leader) => ("slave", leader.to_string(), String::new()),
            None => ("slave", "-".to_string(), String::new()),
        };
        text.push_str(&format!(
            "{} {host}:{port}@{bus} {myself}{role} {master} 0 0 {term} connected{slots}\n",
            member.id
        ));
    }
    text
}

fn endpoint(member: &Member) -> Reply {
    let (host, port) = host_port(&member.info.client_addr);
    Reply::Array(vec![Reply::bulk_text(host), Reply::Integer(port), Reply::bulk_text(member.id.to_string())])
}

/// CLUSTER SLOTS: every slot on the leader, with the other members as replicas.
pub fn slots(node: &Node) -> Reply {
    let (leader, members) = leader_and_members(node);
    let Some(leader) = leader else { return Reply::Array(Vec::new()) };
    let mut range = vec![Reply::Integer(0), Reply::Integer(i64::from(SLOTS) - 1)];
    range.extend(members.iter().filter(|m| m.id == leader).map(endpoint));
    range.extend(members.iter().filter(|m| m.id != leader).map(endpoint));
    Reply::Array(vec![Reply::Array(range)])
}

/// CLUSTER SHARDS: one shard holding every slot.
pub fn shards(node: &Node) -> Reply {
    let (leader, members) = leader_and_members(node);
    let replication = node.group.replication();
    let nodes = members
        .iter()
        .map(|member| {
            let (host, port) = host_port(&member.info.client_addr);
            let field = |name: &'static str| Reply::bulk(name);
            Reply::Map(vec![
                (field("id"), Reply::bulk_text(member.id.to_string())),
                (field("port"), Reply::Integer(port)),
                (field("ip"), Reply::bulk_text(host.clone())),
                (field("endpoint"), Reply::bulk_text(host)),
                (field("role"), Reply::bulk(if Some(member.id) == leader { "master" } else { "replica" })),
                (field("replication-offset"), Reply::Integer(replication.get(&member.id).copied().unwrap_or(0) as i64)),
                (field("health"), Reply::bulk(if leader.is_some() { "online" } else { "loading" })),
            ])
        })
        .collect();
    let slots =
        if leader.is_some() { vec![Reply::Integer(0), Reply::Integer(i64::from(SLOTS) - 1)] } else { Vec::new() };
    Reply::Array(vec![Reply::Map(vec![
        (Reply::bulk("slots"), Reply::Array(slots)),
        (Reply::bulk("nodes"), Reply::Array(nodes)),
    ])])
}

/// CLUSTER MEMBERS: Concord's own view, with roles and replication progress.
pub fn members(node: &Node) -> Reply {
    let (leader, members) = leader_and_members(node);
    let replication = node.group.replication();
    let last = node.group.metrics().last_log_index.unwrap_or(0);
    Reply::Array(
        members
            .into_iter()
            .map(|member| {
                let field = |name: &'static str| Reply::bulk(name);
                let matched = replication.get(&member.id).copied();
                Reply::Map(vec![
                    (field("id"), Reply::bulk_text(member.id.to_string())),
                    (field("role"), Reply::bulk(if member.voter { "voter" } else { "learner" })),
                    (field("leader"), Reply::Integer((Some(member.id) == leader).into())),
                    (field("node-addr"), Reply::bulk_text(member.info.raft_addr.clone())),
                    (field("client-addr"), Reply::bulk_text(member.info.client_addr.clone())),
                    (field("matched-index"), matched.map_or(Reply::Nil, |m| Reply::Integer(m as i64))),
                    (field("lag"), matched.map_or(Reply::Nil, |m| Reply::Integer(last.saturating_sub(m) as i64))),
                ])
            })
            .collect(),
    )
}
