//! What one seed decides before the run starts: the cluster's size and settings, the clients,
//! the workload and the length of each phase. Faults are drawn as the run goes, from the same
//! seed (see [`crate::nemesis`]).

use concord_check::workload::WorkloadConfig;
use concord_core::rng::Rng;
use concord_node::env::Defects;

/// What the command line may fix instead of the seed.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// 3 or 5 nodes; the seed picks when unset.
    pub nodes: Option<usize>,
    /// Data shards (1 to 4); the seed picks when unset.
    pub shards: Option<u32>,
    /// Milliseconds of faults (the safety phase); the seed picks when unset.
    pub safety_ms: Option<u64>,
    /// Deliberate defects, to show the checkers catch them.
    pub defects: Defects,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    pub nodes: usize,
    /// Data shards, each its own Raft group owning an even share of the slots.
    pub shards: u32,
    /// Replicas of each shard: every node, or 3 of 5. Placement fills the shards with the
    /// first nodes to join, so with 3 of 5 two nodes host no shard and only route.
    pub replication_factor: usize,
    pub clients: u32,
    pub heartbeat_interval_ms: u64,
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
    pub snapshot_after_entries: u64,
    pub log_entries_kept: u64,
    pub workload: WorkloadConfig,
    /// Faults are injected for this long once the cluster has formed.
    pub safety_ms: u64,
    /// Then everything heals, and the workload goes on this long: the cluster must make progress.
    pub liveness_ms: u64,
    /// Pause between fault decisions.
    pub fault_gap_ms: (u64, u64),
    pub defects: Defects,
    pub pubsub: PubSubPlan,
    /// Pause between two of the slot mover's requests (see [`crate::mover`]; only with two
    /// shards or more).
    pub move_gap_ms: (u64, u64),
    /// How long a member may be dead before the metadata leader replaces it: short, for the
    /// plans whose cluster has a node to spare (5 nodes, 3 replicas per shard), where the
    /// nemesis then also kills nodes for longer than that (see [`crate::nemesis`]); the node's
    /// default (longer than a run) otherwise.
    pub replace_dead_after_ms: Option<u64>,
    /// A node the operator removes on purpose (see [`crate::operator`]), in some of the plans
    /// with a node to spare.
    pub removal: Option<Removal>,
}

/// The operator removes `node` (`CLUSTER FORGET`, through another node) this long after the
/// faults begin, then wipes its data and starts it again: it joins as a new, empty member.
#[derive(Clone, Copy, Debug)]
pub struct Removal {
    /// Never the first node, which bootstraps the cluster when it starts empty.
    pub node: usize,
    pub after_ms: u64,
}

/// The Pub/Sub clients (see [`crate::pubsub`]).
#[derive(Clone, Debug)]
pub struct PubSubPlan {
    pub publishers: u32,
    pub subscribers: u32,
    /// Channels `ps:0` .. `ps:<channels - 1>`.
    pub channels: u32,
    /// Subscriber `i` stays on node `(first_subscriber_node + i) % nodes`, so they spread
    /// over the nodes.
    pub first_subscriber_node: usize,
}

/// Derives an independent seed for one purpose from the run's seed.
pub fn derive(seed: u64, purpose: u64) -> u64 {
    Rng::new(seed ^ purpose.wrapping_mul(0xa076_1d64_78bd_642f)).next_u64()
}

impl Plan {
    pub fn new(seed: u64, options: &Options) -> Plan {
        let mut rng = Rng::new(derive(seed, 1));
        let mut between = |low: u64, high: u64| low + rng.below(high - low + 1);
        let nodes = options.nodes.unwrap_or(if between(0, 2) == 0 { 5 } else { 3 });
        let clients = between(3, 7) as u32;
        let heartbeat_interval_ms = between(50, 100);
        let election_timeout_min_ms = heartbeat_interval_ms * between(3, 5);
        let election_timeout_max_ms = election_timeout_min_ms * 2;
        // Small, so snapshots, compaction and snapshot transfers all happen within a run.
        let snapshot_after_entries = between(50, 1_000);
        let log_entries_kept = between(0, 100);
        let mut workload = WorkloadConfig {
            namespace: String::new(),
            registers: between(2, 5) as u32,
            sets: between(1, 2) as u32,
            counters: between(1, 2) as u32,
            lists: 0,
            redis_sets: 0,
            streams: 0,
            expiry: between(0, 3) > 0,
            rotation_ms: between(2_000, 6_000),
        };
        let safety_ms = options.safety_ms.unwrap_or_else(|| between(15_000, 30_000));
        let fault_gap_ms = (between(100, 500), between(1_000, 3_000));
        // Drawn last, so that the families and shards added later left every earlier choice of
        // a seed as it was.
        workload.lists = between(1, 2) as u32;
        workload.redis_sets = between(1, 2) as u32;
        let shards = between(1, 4) as u32;
        let shards = options.shards.unwrap_or(shards);
        let replication_factor = if nodes == 5 && between(0, 1) == 0 { 3 } else { nodes };
        // After the shards, for the same reason.
        workload.streams = between(1, 2) as u32;
        // After the streams, for the same reason.
        let pubsub = PubSubPlan {
            publishers: between(1, 2) as u32,
            subscribers: between(2, 3) as u32,
            channels: between(2, 4) as u32,
            first_subscriber_node: between(0, nodes as u64 - 1) as usize,
        };
        // After the Pub/Sub clients, for the same reason.
        let move_gap_ms = (between(300, 1_500), between(2_000, 5_000));
        // After the slot mover's gaps, for the same reason.
        let spare_node = nodes == 5 && replication_factor == 3;
        let replace_dead_after_ms = spare_node.then(|| between(3_000, 6_000));
        // After the grace, for the same reason.
        let removes = between(0, 1) == 0;
        let removal = (spare_node && removes)
            .then(|| Removal { node: between(1, nodes as u64 - 1) as usize, after_ms: between(1_000, safety_ms / 2) });
        Plan {
            seed,
            nodes,
            shards,
            replication_factor,
            clients,
            heartbeat_interval_ms,
            election_timeout_min_ms,
            election_timeout_max_ms,
            snapshot_after_entries,
            log_entries_kept,
            workload,
            safety_ms,
            liveness_ms: 10_000,
            fault_gap_ms,
            defects: options.defects,
            pubsub,
            move_gap_ms,
            replace_dead_after_ms,
            removal,
        }
    }

    /// Whether the slot mover runs: a move needs a shard to take the slots.
    pub fn moves_slots(&self) -> bool {
        self.shards >= 2
    }

    pub fn node_name(index: usize) -> String {
        format!("n{}", index + 1)
    }

    pub fn client_name(index: u32) -> String {
        format!("c{}", index + 1)
    }

    pub fn publisher_name(index: u32) -> String {
        format!("pub{}", index + 1)
    }

    pub fn subscriber_name(index: u32) -> String {
        format!("sub{}", index + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_check::workload::Workload;
    use concord_core::cluster_map::{Addresses, ClusterChange, ClusterMap};
    use concord_core::slot::key_slot;
    use concord_core::types::NodeId;
    use std::collections::BTreeSet;

    /// Seeds pick several shards and replicas on some of the nodes, and the workload's keys
    /// (as the cluster map would place them) fall in more than one shard.
    #[test]
    fn seeds_run_several_shards_and_the_keys_spread_over_them() {
        let mut layouts = BTreeSet::new();
        for seed in 0..100 {
            let plan = Plan::new(seed, &Options::default());
            assert!((1..=4).contains(&plan.shards) && plan.replication_factor <= plan.nodes, "{plan:?}");
            layouts.insert((plan.nodes, plan.shards, plan.replication_factor));
            let mut map = ClusterMap::default();
            let bootstrap = ClusterChange::Bootstrap {
                node: NodeId(1),
                addresses: Addresses::default(),
                shards: plan.shards,
                replication_factor: 1,
            };
            map.apply(&bootstrap);
            let mut workload = Workload::new(plan.workload.clone(), 0);
            // The first three key generations: every run lasts at least that long.
            workload.at(2 * plan.workload.rotation_ms);
            let used: BTreeSet<_> = workload.keys().iter().map(|key| map.shard_of(key_slot(key.as_bytes()))).collect();
            assert!(used.len() > 1 || plan.shards == 1, "seed {seed}: every key in one of {} shards", plan.shards);
        }
        for (nodes, shards, replication_factor) in [(3, 1, 3), (3, 4, 3), (5, 3, 3), (5, 2, 5)] {
            assert!(layouts.contains(&(nodes, shards, replication_factor)), "{layouts:?}");
        }
    }
}
