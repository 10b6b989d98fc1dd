//! The nemesis: faults drawn from the run's seed and applied between simulation steps —
//! process crashes (kill -9: nothing written is lost), power losses at an exact write (what
//! was not synced is lost or torn), partitions (majority/minority, one node isolated from
//! everyone, one-way, bridge), pauses (every link of a node held, then released at once),
//! lossy links (which break TCP streams) and slow links. Half the faults aimed at one node aim
//! at a node leading some shard, as the watcher last saw the leaders. During the liveness
//! phase everything is healed and every node is running.
//!
//! Beside its log, the nemesis keeps when each fault was active and which links between nodes
//! it cut ([`Nemesis::faults`]), for the Pub/Sub checker.

use crate::plan::{derive, Plan};
use concord_check::pubsub::{Cut, Faults, Window};
use concord_core::rng::Rng;
use concord_storage::SimDisk;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use turmoil::Sim;

/// Message latency on a healthy link.
pub const LATENCY_MIN_MS: u64 = 1;
pub const LATENCY_MAX_MS: u64 = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The cluster is forming: no faults.
    Forming,
    Safety,
    /// Everything healed: the cluster must make progress.
    Liveness,
}

#[derive(Clone, Debug)]
enum NetFault {
    /// Nodes in `side` cannot talk to the other nodes.
    Partition { side: Vec<usize> },
    /// Messages from `from` to `to` are lost; the other way works.
    OneWay { from: usize, to: usize },
    /// `left` and `right` cannot talk; every other node talks to both.
    Bridge { left: Vec<usize>, right: Vec<usize> },
    /// The node can talk to nobody, clients included.
    Isolate { node: usize },
    /// Every message to and from the node is held, then delivered at once.
    Pause { node: usize },
    /// The link fails (breaking TCP streams) with this probability per message, in percent.
    Lossy { a: usize, b: usize, percent: u64 },
    /// Every message on the link takes this long.
    Slow { a: usize, b: usize, ms: u64 },
}

pub struct Nemesis {
    rng: Rng,
    /// Decides which crashes last past the replacement grace, apart from `rng`, so that a
    /// seed's other faults stay what they were before there were such crashes.
    long_crashes: Rng,
    /// See `Plan::replace_dead_after_ms`.
    replace_dead_after_ms: Option<u64>,
    seed: u64,
    nodes: Vec<String>,
    /// Every host: nodes, clients and the controller.
    hosts: Vec<String>,
    disks: Vec<Arc<SimDisk>>,
    gap_ms: (u64, u64),
    next_fault_ms: u64,
    /// When each stopped node restarts.
    restart_ms: Vec<Option<u64>>,
    /// Network faults in force: each with when it began and when it ends.
    network: Vec<(NetFault, u64, u64)>,
    healed: bool,
    /// What happened when, for the run's transcript.
    pub log: Vec<String>,
    crashes: u64,
    /// When each fault was active and the links it cut, in simulated ms since the start (see
    /// [`Nemesis::faults`]).
    disturbed_ms: Vec<(u64, u64)>,
    cuts_ms: Vec<(usize, usize, u64, u64)>,
    /// Links cut now, since when.
    cut_since_ms: BTreeMap<(usize, usize), u64>,
    /// Node faults still in force (a node down, a power loss armed): the node and since when.
    node_faults_since_ms: Vec<(usize, u64)>,
}

impl Nemesis {
    pub fn new(plan: &Plan, disks: Vec<Arc<SimDisk>>, others: Vec<String>) -> Nemesis {
        let nodes: Vec<String> = (0..plan.nodes).map(Plan::node_name).collect();
        let hosts = nodes.iter().cloned().chain(others).collect();
        Nemesis {
            rng: Rng::new(derive(plan.seed, 3)),
            long_crashes: Rng::new(derive(plan.seed, 4)),
            replace_dead_after_ms: plan.replace_dead_after_ms,
            seed: plan.seed,
            nodes,
            hosts,
            disks,
            gap_ms: plan.fault_gap_ms,
            next_fault_ms: 0,
            restart_ms: vec![None; plan.nodes],
            network: Vec::new(),
            healed: false,
            log: Vec::new(),
            crashes: 0,
            disturbed_ms: Vec::new(),
            cuts_ms: Vec::new(),
            cut_since_ms: BTreeMap::new(),
            node_faults_since_ms: Vec::new(),
        }
    }

    /// The faults so far, on the history's clock (`epoch_us` is the simulation's start).
    pub fn faults(&self, epoch_us: u64) -> Faults {
        let us = |ms: u64| epoch_us + ms * 1000;
        let still = self.node_faults_since_ms.iter().map(|&(_, since)| (since, u64::MAX / 2000));
        let disturbed = self.disturbed_ms.iter().copied().chain(still);
        Faults {
            disturbed: disturbed.map(|(start, end)| Window { start_us: us(start), end_us: us(end) }).collect(),
            cuts: self
                .cuts_ms
                .iter()
                .map(|&(from, to, start, end)| Cut { from, to, start_us: us(start), end_us: us(end) })
                .collect(),
        }
    }

    /// A node fault ends (the node restarted, or everything healed).
    fn node_faults_end(&mut self, node: Option<usize>, now_ms: u64) {
        let (ended, kept) =
            self.node_faults_since_ms.drain(..).partition(|&(faulty, _)| node.is_none_or(|node| node == faulty));
        self.node_faults_since_ms = kept;
        let ended: Vec<(usize, u64)> = ended;
        self.disturbed_ms.extend(ended.into_iter().map(|(_, since)| (since, now_ms)));
    }

    /// The node-to-node links (from, to) on which turmoil drops every message under the
    /// network faults in force. Faults apply in order and the last one to set a direction
    /// wins (a pause holds what a partition before it dropped); a lossy link may repair
    /// itself at random (turmoil then heals both directions), so it cuts nothing for sure.
    fn cut_links(&self) -> BTreeSet<(usize, usize)> {
        let count = self.nodes.len();
        // Per direction: Some(true) dropped, Some(false) held, None healthy.
        let mut state: BTreeMap<(usize, usize), bool> = BTreeMap::new();
        let mut lossy = BTreeSet::new();
        let both = |state: &mut BTreeMap<(usize, usize), bool>, a: usize, b: usize, dropped: bool| {
            state.insert((a, b), dropped);
            state.insert((b, a), dropped);
        };
        for (fault, _, _) in &self.network {
            match fault {
                NetFault::Partition { side } => {
                    for &a in side {
                        for b in (0..count).filter(|b| !side.contains(b)) {
                            both(&mut state, a, b, true);
                        }
                    }
                }
                NetFault::OneWay { from, to } => {
                    state.insert((*from, *to), true);
                }
                NetFault::Bridge { left, right } => {
                    for &a in left {
                        for &b in right {
                            both(&mut state, a, b, true);
                        }
                    }
                }
                NetFault::Isolate { node } | NetFault::Pause { node } => {
                    let dropped = matches!(fault, NetFault::Isolate { .. });
                    for other in (0..count).filter(|other| other != node) {
                        both(&mut state, *node, other, dropped);
                    }
                }
                NetFault::Lossy { a, b, .. } => {
                    lossy.insert((*a, *b));
                    lossy.insert((*b, *a));
                }
                NetFault::Slow { .. } => {}
            }
        }
        state.into_iter().filter(|(link, dropped)| *dropped && !lossy.contains(link)).map(|(link, _)| link).collect()
    }

    /// Starts and ends the cuts recorded, as the faults in force now cut links.
    fn record_cuts(&mut self, now_ms: u64) {
        let cut = self.cut_links();
        let ended: Vec<(usize, usize)> = self.cut_since_ms.keys().filter(|link| !cut.contains(link)).copied().collect();
        for link in ended {
            let since = self.cut_since_ms.remove(&link).expect("a cut in force");
            self.cuts_ms.push((link.0, link.1, since, now_ms));
        }
        for link in cut {
            self.cut_since_ms.entry(link).or_insert(now_ms);
        }
    }

    fn note(&mut self, now_ms: u64, what: String) {
        // Also to the nodes' log (RUST_LOG=concord_sim=info), where a run that stops short
        // (a panic) still shows what the nemesis did.
        tracing::info!("nemesis at {now_ms} ms: {what}");
        self.log.push(format!("{now_ms:>7} ms  {what}"));
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.rng.below(high - low + 1)
    }

    fn pick_node(&mut self) -> usize {
        self.rng.below(self.nodes.len() as u64) as usize
    }

    fn names(&self, nodes: &[usize]) -> String {
        nodes.iter().map(|&n| self.nodes[n].as_str()).collect::<Vec<_>>().join(",")
    }

    /// The node a fault aims at: half the time one leading some shard (`leaders`: each shard's
    /// leader, as last seen), else any node; and, for the log, the shards it leads.
    fn pick_victim(&mut self, leaders: &BTreeMap<u32, usize>) -> (usize, String) {
        let mut leading: Vec<usize> = leaders.values().copied().collect();
        leading.sort_unstable();
        leading.dedup();
        let node = if !leading.is_empty() && self.rng.below(2) == 0 {
            leading[self.rng.below(leading.len() as u64) as usize]
        } else {
            self.pick_node()
        };
        let led: Vec<String> =
            leaders.iter().filter(|(_, leader)| **leader == node).map(|(shard, _)| shard.to_string()).collect();
        let note = if led.is_empty() {
            String::new()
        } else {
            format!(" [{} leads shard {}]", self.nodes[node], led.join(","))
        };
        (node, note)
    }

    /// Runs between two simulation steps.
    pub fn act(&mut self, sim: &mut Sim<'_>, now_ms: u64, phase: Phase, leaders: &BTreeMap<u32, usize>) {
        // An armed power loss that struck: the machine goes down now.
        for node in 0..self.nodes.len() {
            if self.disks[node].powered_off() {
                self.machine_crash(sim, node, now_ms);
            }
        }
        for node in 0..self.nodes.len() {
            if self.restart_ms[node].is_some_and(|at| at <= now_ms) {
                self.restart_ms[node] = None;
                sim.bounce(self.nodes[node].as_str());
                self.node_faults_end(Some(node), now_ms);
                self.note(now_ms, format!("restart {}", self.nodes[node]));
            }
        }
        let before = self.network.len();
        let (ended, in_force) = self.network.drain(..).partition(|(_, _, until)| *until <= now_ms);
        self.network = in_force;
        let ended: Vec<(NetFault, u64, u64)> = ended;
        for (_, since, _) in &ended {
            self.disturbed_ms.push((*since, now_ms));
        }
        if self.network.len() != before {
            self.note(now_ms, "a network fault ends".into());
            self.apply_network(sim, now_ms);
        }
        match phase {
            Phase::Forming => {}
            Phase::Safety if now_ms >= self.next_fault_ms => {
                if self.next_fault_ms > 0 {
                    self.inject(sim, now_ms, leaders);
                }
                self.next_fault_ms = now_ms + self.between(self.gap_ms.0, self.gap_ms.1);
            }
            Phase::Safety => {}
            Phase::Liveness if !self.healed => self.heal(sim, now_ms),
            Phase::Liveness => {}
        }
    }

    /// The operator removed `node` from the cluster: it is stopped (unless down already), its
    /// data deleted, and it starts again soon (at the heal at the latest) as a new, empty node.
    pub fn wipe(&mut self, sim: &mut Sim<'_>, node: usize, now_ms: u64) {
        if self.restart_ms[node].is_none() {
            sim.crash(self.nodes[node].as_str());
            self.node_faults_since_ms.push((node, now_ms));
            let restart = now_ms + self.between(200, 2_000);
            self.restart_ms[node] = Some(restart);
        }
        self.disks[node].wipe();
        self.note(now_ms, format!("remove {}: stopped, its data deleted; it starts again empty", self.nodes[node]));
    }

    fn machine_crash(&mut self, sim: &mut Sim<'_>, node: usize, now_ms: u64) {
        self.crashes += 1;
        sim.crash(self.nodes[node].as_str());
        self.disks[node].crash(derive(self.seed, 1_000 + self.crashes));
        let restart = now_ms + self.between(200, 3_000);
        self.restart_ms[node] = Some(restart);
        self.note(now_ms, format!("power loss on {}: unsynced writes dropped or torn", self.nodes[node]));
    }

    fn heal(&mut self, sim: &mut Sim<'_>, now_ms: u64) {
        self.healed = true;
        for (_, since, _) in std::mem::take(&mut self.network) {
            self.disturbed_ms.push((since, now_ms));
        }
        self.apply_network(sim, now_ms);
        for node in 0..self.nodes.len() {
            self.disks[node].disarm();
            if self.disks[node].powered_off() {
                self.machine_crash(sim, node, now_ms);
            }
            if self.restart_ms[node].take().is_some() {
                sim.bounce(self.nodes[node].as_str());
            }
        }
        self.node_faults_end(None, now_ms);
        self.note(now_ms, "heal: every link repaired, every node running".into());
    }

    fn inject(&mut self, sim: &mut Sim<'_>, now_ms: u64, leaders: &BTreeMap<u32, usize>) {
        let (node, leads) = self.pick_victim(leaders);
        let count = self.nodes.len();
        let lasting = self.between(300, 5_000);
        let fault = match self.rng.below(100) {
            0..=14 => {
                if self.restart_ms[node].is_some()
                    || self.restart_ms.iter().filter(|r| r.is_some()).count() + 1 >= count
                {
                    return;
                }
                self.crashes += 1;
                sim.crash(self.nodes[node].as_str());
                self.disks[node].process_crash();
                let mut down_ms = self.between(200, 3_000);
                // Now and then, for longer than the replacement grace: the cluster replaces
                // the node, which rejoins empty when it comes back (or at the heal).
                let long = match self.replace_dead_after_ms {
                    Some(grace) if self.long_crashes.below(3) == 0 => {
                        down_ms = grace + 1_000 + self.long_crashes.below(4_000);
                        " for longer than the replacement grace"
                    }
                    _ => "",
                };
                self.restart_ms[node] = Some(now_ms + down_ms);
                self.node_faults_since_ms.push((node, now_ms));
                self.note(now_ms, format!("kill -9 {}{leads}{long}", self.nodes[node]));
                return;
            }
            15..=29 => {
                let writes = self.between(0, 40);
                self.disks[node].arm_power_loss(writes);
                self.node_faults_since_ms.push((node, now_ms));
                self.note(now_ms, format!("power loss armed on {}{leads} after {writes} writes", self.nodes[node]));
                return;
            }
            30..=49 => {
                // The victim and others drawn at random, a minority or half of the nodes.
                let size = self.between(1, (count as u64 - 1) / 2 + 1) as usize;
                let mut side: Vec<usize> = (0..count).filter(|&n| n != node).collect();
                for i in (1..side.len()).rev() {
                    side.swap(i, self.rng.below(i as u64 + 1) as usize);
                }
                side.truncate(size - 1);
                side.push(node);
                side.sort_unstable();
                NetFault::Partition { side }
            }
            50..=59 => {
                let to = (node + 1 + self.rng.below(count as u64 - 1) as usize) % count;
                NetFault::OneWay { from: node, to }
            }
            60..=67 => {
                // The bridge node is `node`; the others split in two halves.
                let others: Vec<usize> = (0..count).filter(|&n| n != node).collect();
                let (left, right) = others.split_at(others.len() / 2);
                NetFault::Bridge { left: left.to_vec(), right: right.to_vec() }
            }
            68..=77 => NetFault::Isolate { node },
            78..=85 => NetFault::Pause { node },
            86..=92 => {
                let b = (node + 1 + self.rng.below(count as u64 - 1) as usize) % count;
                let percent = self.between(2, 30);
                NetFault::Lossy { a: node, b, percent }
            }
            _ => {
                let b = (node + 1 + self.rng.below(count as u64 - 1) as usize) % count;
                let ms = self.between(50, 1_000);
                NetFault::Slow { a: node, b, ms }
            }
        };
        let what = match &fault {
            NetFault::Partition { side } => format!("partition {} from the other nodes", self.names(side)),
            NetFault::OneWay { from, to } => format!("drop messages {} -> {}", self.nodes[*from], self.nodes[*to]),
            NetFault::Bridge { left, right } => {
                format!("bridge: {} | {} | {}", self.names(left), self.nodes[node], self.names(right))
            }
            NetFault::Isolate { node } => format!("isolate {} from everyone", self.nodes[*node]),
            NetFault::Pause { node } => format!("pause {} (hold all its messages)", self.nodes[*node]),
            NetFault::Lossy { a, b, percent } => {
                format!("lossy link {} - {} ({percent}%)", self.nodes[*a], self.nodes[*b])
            }
            NetFault::Slow { a, b, ms } => format!("slow link {} - {} ({ms} ms)", self.nodes[*a], self.nodes[*b]),
        };
        self.note(now_ms, format!("{what} for {lasting} ms{leads}"));
        self.network.push((fault, now_ms, now_ms + lasting));
        self.apply_network(sim, now_ms);
    }

    /// Resets every link, then applies the network faults in force.
    fn apply_network(&mut self, sim: &mut Sim<'_>, now_ms: u64) {
        self.record_cuts(now_ms);
        let node_count = self.nodes.len();
        for a in 0..node_count {
            for b in (a + 1)..self.hosts.len() {
                let (x, y) = (self.hosts[a].as_str(), self.hosts[b].as_str());
                sim.repair(x, y);
                sim.release(x, y);
                sim.set_link_fail_rate(x, y, 0.0);
                sim.set_link_latency(x, y, Duration::from_millis(LATENCY_MIN_MS));
                sim.set_link_max_message_latency(x, y, Duration::from_millis(LATENCY_MAX_MS));
            }
        }
        let name = |n: usize| self.nodes[n].as_str();
        for (fault, _, _) in &self.network {
            match fault {
                NetFault::Partition { side } => {
                    for &a in side {
                        for b in (0..node_count).filter(|b| !side.contains(b)) {
                            sim.partition(name(a), name(b));
                        }
                    }
                }
                NetFault::OneWay { from, to } => sim.partition_oneway(name(*from), name(*to)),
                NetFault::Bridge { left, right } => {
                    for &a in left {
                        for &b in right {
                            sim.partition(name(a), name(b));
                        }
                    }
                }
                NetFault::Isolate { node } => {
                    for other in self.hosts.iter().filter(|h| *h != name(*node)) {
                        sim.partition(name(*node), other.as_str());
                    }
                }
                NetFault::Pause { node } => {
                    for other in self.hosts.iter().filter(|h| *h != name(*node)) {
                        sim.hold(name(*node), other.as_str());
                    }
                }
                NetFault::Lossy { a, b, percent } => {
                    sim.set_link_fail_rate(name(*a), name(*b), *percent as f64 / 100.0)
                }
                NetFault::Slow { a, b, ms } => sim.set_link_latency(name(*a), name(*b), Duration::from_millis(*ms)),
            }
        }
    }
}
