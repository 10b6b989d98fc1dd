//! The fault schedule against real processes. One fault at a time: a quiet spell, then a fault
//! held for a while, then healed. Kinds:
//! - kill: kill -9 a node (one leading some shard more often than not), restart it after the
//!   hold;
//! - pause: SIGSTOP a node, SIGCONT after the hold (its peers see a silent, connected node);
//! - partition: cut links through the nodes' own fault injection (CLUSTER FAULT): a node
//!   isolated, a one-way cut, or a bridge (two halves that only one node joins);
//! - netns: the same shapes as nft rules between network namespaces (real packets dropped).

use crate::cluster::LocalCluster;
use crate::driver::shard_views;
use crate::run::FaultKind;
use concord_core::rng::Rng;
use concord_core::Reply;
use concord_node::client::Client;
use std::collections::BTreeMap;
use std::time::Duration;

const CALL_TIMEOUT_MS: u64 = 3_000;

/// One fault as it happened, in Unix milliseconds.
#[derive(Clone, Debug)]
pub struct FaultEvent {
    pub kind: FaultKind,
    pub description: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The shards whose leader the fault took away (killed, paused or cut off from a
    /// majority), as groups.
    pub leader_of: Vec<u32>,
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

impl Nemesis {
    fn between(&mut self, (low, high): (u64, u64)) -> u64 {
        low + self.rng.below(high.saturating_sub(low) + 1)
    }

    /// The shards each node leads now (node index to groups), as the first node that answers
    /// sees them.
    pub async fn leaders(&self) -> BTreeMap<usize, Vec<u32>> {
        let mut leaders: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for address in &self.addresses {
            let Some(shards) = call(address, &["DEBUG".into(), "SHARDS".into()]).await.as_ref().and_then(shard_views)
            else {
                continue;
            };
            for shard in shards {
                let node = shard.leader.and_then(|leader| self.ids.iter().position(|id| *id == leader));
                if let Some(node) = node {
                    leaders.entry(node).or_default().push(shard.group);
                }
            }
            break;
        }
        leaders
    }

    /// A victim: a node leading some shard with probability `leader_percent`, else any node;
    /// and the shards it leads.
    async fn victim(&mut self, leader_percent: u64) -> (usize, Vec<u32>) {
        let mut leaders = self.leaders().await;
        let node = if !leaders.is_empty() && self.rng.below(100) < leader_percent {
            *leaders.keys().nth(self.rng.below(leaders.len() as u64) as usize).expect("a leader")
        } else {
            self.rng.below(self.addresses.len() as u64) as usize
        };
        (node, leaders.remove(&node).unwrap_or_default())
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
        let (description, leader_of) = match (kind, cluster) {
            (FaultKind::Kill, Some(cluster)) => {
                let (victim, led) = self.victim(60).await;
                start_ms = unix_ms();
                cluster.kill(victim).await;
                tokio::time::sleep(hold).await;
                cluster.restart(victim).await?;
                (format!("kill -9 node {victim}, restarted after {hold_ms} ms"), led)
            }
            (FaultKind::Pause, Some(cluster)) => {
                let (victim, led) = self.victim(50).await;
                start_ms = unix_ms();
                cluster.pause(victim);
                tokio::time::sleep(hold).await;
                cluster.resume(victim);
                (format!("SIGSTOP node {victim} for {hold_ms} ms"), led)
            }
            (FaultKind::Partition | FaultKind::Netns, cluster) => {
                let (victim, led) = self.victim(50).await;
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
                // Leaders are taken away when their node is isolated (shape 0).
                let led = if shape == 0 { led } else { Vec::new() };
                (
                    format!("{what} ({}) for {hold_ms} ms", if kind == FaultKind::Netns { "nft" } else { "transport" }),
                    led,
                )
            }
            (_, None) => return Err(format!("{kind:?} faults need a local cluster")),
        };
        self.log.push(FaultEvent { kind, description, start_ms, end_ms: unix_ms(), leader_of });
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
}
