//! The fault schedule against real processes. One fault at a time: a quiet spell, then a fault
//! held for a while, then healed. Kinds:
//! - kill: kill -9 a node (the leader more often than not), restart it after the hold;
//! - pause: SIGSTOP a node, SIGCONT after the hold (its peers see a silent, connected node);
//! - partition: cut links through the nodes' own fault injection (CLUSTER FAULT): a node
//!   isolated, a one-way cut, or a bridge (two halves that only one node joins);
//! - netns: the same shapes as nft rules between network namespaces (real packets dropped).

use crate::cluster::LocalCluster;
use crate::run::FaultKind;
use concord_core::rng::Rng;
use concord_core::Reply;
use concord_node::client::Client;
use std::time::Duration;

const CALL_TIMEOUT_MS: u64 = 3_000;

/// One fault as it happened, in Unix milliseconds.
#[derive(Clone, Debug)]
pub struct FaultEvent {
    pub kind: FaultKind,
    pub description: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Whether the fault took the leader away (killed, paused or cut off from a majority).
    pub hit_leader: bool,
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A link cut: `from` sends nothing to `to`.
type Cut = (usize, usize);

/// The links a partition shape cuts, among `nodes` nodes.
pub fn partition_cuts(shape: u64, nodes: usize, victim: usize, other: usize) -> (String, Vec<Cut>) {
    let both = |a: usize, b: usize| [(a, b), (b, a)];
    match shape % 3 {
        0 => {
            let cuts = (0..nodes).filter(|&n| n != victim).flat_map(|n| both(victim, n)).collect();
            (format!("node {victim} isolated"), cuts)
        }
        1 => (format!("one way: node {victim} cannot reach node {other}"), vec![(victim, other)]),
        _ => {
            // Two halves joined only by the victim: the others split around it.
            let rest: Vec<usize> = (0..nodes).filter(|&n| n != victim).collect();
            let (left, right) = rest.split_at(rest.len() / 2);
            let cuts = left.iter().flat_map(|&a| right.iter().flat_map(move |&b| both(a, b))).collect();
            (format!("bridge: {left:?} and {right:?} meet only through node {victim}"), cuts)
        }
    }
}

pub struct Nemesis {
    pub kinds: Vec<FaultKind>,
    pub rng: Rng,
    pub addresses: Vec<String>,
    /// Each node's id, for CLUSTER FAULT.
    pub ids: Vec<String>,
    pub log: Vec<FaultEvent>,
    pub quiet_ms: (u64, u64),
    pub hold_ms: (u64, u64),
}

async fn call(address: &str, args: &[String]) -> Option<Reply> {
    let mut client = Client::connect(address, Duration::from_millis(CALL_TIMEOUT_MS)).await.ok()?;
    client.call(args).await.ok()
}

/// The id of the member a CLUSTER MEMBERS reply (RESP2: flat field lists) names as leader.
pub fn leader_in(reply: &Reply) -> Option<String> {
    let Reply::Array(members) = reply else { return None };
    members.iter().find_map(|member| {
        let Reply::Array(fields) = member else { return None };
        let field = |name: &[u8]| {
            fields.chunks(2).find_map(|pair| match pair {
                [Reply::Bulk(key), value] if &key[..] == name => Some(value.clone()),
                _ => None,
            })
        };
        match (field(b"id"), field(b"leader")) {
            (Some(Reply::Bulk(id)), Some(Reply::Integer(1))) => Some(String::from_utf8_lossy(&id).into_owned()),
            _ => None,
        }
    })
}

impl Nemesis {
    fn between(&mut self, (low, high): (u64, u64)) -> u64 {
        low + self.rng.below(high.saturating_sub(low) + 1)
    }

    /// The node that leads now, as the first node that answers sees it.
    pub async fn leader(&self) -> Option<usize> {
        for address in &self.addresses {
            if let Some(reply) = call(address, &["CLUSTER".into(), "MEMBERS".into()]).await {
                if let Some(id) = leader_in(&reply) {
                    return self.ids.iter().position(|known| *known == id);
                }
            }
        }
        None
    }

    /// A victim: the leader with probability `leader_percent`, else any node.
    async fn victim(&mut self, leader_percent: u64) -> (usize, bool) {
        let leader = self.leader().await;
        match leader {
            Some(leader) if self.rng.below(100) < leader_percent => (leader, true),
            _ => {
                let node = self.rng.below(self.addresses.len() as u64) as usize;
                (node, Some(node) == leader)
            }
        }
    }

    /// Runs faults until `stop_ms` (Unix ms); leaves everything healed.
    pub async fn run(&mut self, mut cluster: Option<&mut LocalCluster>, stop_ms: u64) -> Result<(), String> {
        loop {
            let quiet = self.between(self.quiet_ms);
            tokio::time::sleep(Duration::from_millis(quiet)).await;
            let hold = self.between(self.hold_ms);
            if unix_ms() + hold >= stop_ms || self.kinds.is_empty() {
                return Ok(());
            }
            let kind = self.kinds[self.rng.below(self.kinds.len() as u64) as usize];
            self.inject(kind, hold, cluster.as_deref_mut()).await?;
        }
    }

    async fn inject(
        &mut self,
        kind: FaultKind,
        hold_ms: u64,
        cluster: Option<&mut LocalCluster>,
    ) -> Result<(), String> {
        let nodes = self.addresses.len();
        // Set the moment the fault strikes (after finding the leader), for failover times.
        let start_ms;
        let hold = Duration::from_millis(hold_ms);
        let (description, hit_leader) = match (kind, cluster) {
            (FaultKind::Kill, Some(cluster)) => {
                let (victim, hit_leader) = self.victim(60).await;
                start_ms = unix_ms();
                cluster.kill(victim).await;
                tokio::time::sleep(hold).await;
                cluster.restart(victim).await?;
                (format!("kill -9 node {victim}, restarted after {hold_ms} ms"), hit_leader)
            }
            (FaultKind::Pause, Some(cluster)) => {
                let (victim, hit_leader) = self.victim(50).await;
                start_ms = unix_ms();
                cluster.pause(victim);
                tokio::time::sleep(hold).await;
                cluster.resume(victim);
                (format!("SIGSTOP node {victim} for {hold_ms} ms"), hit_leader)
            }
            (FaultKind::Partition | FaultKind::Netns, cluster) => {
                let leader = self.leader().await;
                let (victim, _) = self.victim(50).await;
                let other = (victim + 1 + self.rng.below(nodes as u64 - 1) as usize) % nodes;
                let shape = self.rng.below(3);
                let (what, cuts) = partition_cuts(shape, nodes, victim, other);
                let netns = cluster.and_then(|c| c.netns());
                match (kind, netns) {
                    (FaultKind::Netns, Some(netns)) => {
                        for &(from, to) in &cuts {
                            netns.block(from, to)?;
                        }
                        // The partition is whole once the last rule is in.
                        start_ms = unix_ms();
                        tokio::time::sleep(hold).await;
                        netns.heal()?;
                    }
                    (FaultKind::Netns, None) => return Err("netns faults need a local cluster in namespaces".into()),
                    _ => {
                        for &(from, to) in &cuts {
                            let args = ["CLUSTER", "FAULT", "BLOCK-OUTGOING", &self.ids[to]].map(String::from);
                            call(&self.addresses[from], &args).await;
                        }
                        start_ms = unix_ms();
                        tokio::time::sleep(hold).await;
                        self.heal_links().await;
                    }
                }
                // The leader is taken away when it was isolated (shape 0).
                let hit_leader = shape == 0 && Some(victim) == leader;
                (
                    format!("{what} ({}) for {hold_ms} ms", if kind == FaultKind::Netns { "nft" } else { "transport" }),
                    hit_leader,
                )
            }
            (_, None) => return Err(format!("{kind:?} faults need a local cluster")),
        };
        self.log.push(FaultEvent { kind, description, start_ms, end_ms: unix_ms(), hit_leader });
        Ok(())
    }

    /// CLUSTER FAULT HEAL on every node, until each has answered (a node may be restarting).
    pub async fn heal_links(&self) {
        for address in &self.addresses {
            for _ in 0..20 {
                if call(address, &["CLUSTER", "FAULT", "HEAL"].map(String::from)).await.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_cut_what_they_say() {
        let (_, isolated) = partition_cuts(0, 3, 1, 2);
        assert_eq!(isolated, vec![(1, 0), (0, 1), (1, 2), (2, 1)]);
        let (_, one_way) = partition_cuts(1, 3, 1, 2);
        assert_eq!(one_way, vec![(1, 2)]);
        let (what, bridge) = partition_cuts(2, 5, 2, 0);
        assert_eq!(bridge, vec![(0, 3), (3, 0), (0, 4), (4, 0), (1, 3), (3, 1), (1, 4), (4, 1)], "{what}");
        assert!(!bridge.iter().any(|&(a, b)| a == 2 || b == 2), "the bridge node keeps every link");
    }

    #[test]
    fn the_leader_is_found_in_cluster_members() {
        let member = |id: &'static str, leader: i64| {
            Reply::Array(vec![Reply::bulk("id"), Reply::bulk(id), Reply::bulk("leader"), Reply::Integer(leader)])
        };
        let reply = Reply::Array(vec![member("11", 0), member("22", 1), member("33", 0)]);
        assert_eq!(leader_in(&reply), Some("22".to_string()));
        assert_eq!(leader_in(&Reply::Array(vec![member("11", 0)])), None);
    }
}
