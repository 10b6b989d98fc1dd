//! Many nodes' gossip in one process on simulated time, with a fixed delivery delay: for the
//! crate's tests and for measuring detection times and gossip traffic at sizes a machine
//! cannot run as processes (`cargo run --release -p concord-gossip --example swarm`).

use crate::{Effect, Gossip, GossipOptions, Health, Timer};
use concord_core::rng::Rng;
use concord_core::types::NodeId;
use std::collections::{BTreeMap, BTreeSet};

/// The id of the swarm's `k`-th node (from 1): as large as real ids (128 random bits), so that
/// packets are as large as a real cluster's.
pub fn node_id(k: u64) -> NodeId {
    NodeId((0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C834u128 & !0xFFFF_FFFF) | u128::from(k))
}

pub struct Swarm {
    pub nodes: BTreeMap<NodeId, Gossip>,
    /// Crashed: they neither send, receive nor keep time.
    pub crashed: BTreeSet<NodeId>,
    pub now_ms: u64,
    /// Due time and a sequence number (ties in order of submission) → what is due.
    events: BTreeMap<(u64, u64), Event>,
    sequence: u64,
    delay_ms: u64,
    options: GossipOptions,
    rng: Rng,
}

enum Event {
    Timer(NodeId, Timer),
    Packet(NodeId, Vec<u8>),
}

impl Swarm {
    /// `size` nodes (`node_id(1..=size)`) that all announce themselves to the first.
    pub fn new(size: u64, seed: u64, delay_ms: u64, options: GossipOptions) -> Swarm {
        let mut swarm = Swarm {
            nodes: BTreeMap::new(),
            crashed: BTreeSet::new(),
            now_ms: 0,
            events: BTreeMap::new(),
            sequence: 0,
            delay_ms,
            options,
            rng: Rng::new(seed),
        };
        for k in 1..=size {
            swarm.start(node_id(k), 1);
        }
        for k in 2..=size {
            swarm.with(node_id(k), |gossip| gossip.announce(node_id(1)));
        }
        swarm
    }

    fn start(&mut self, node: NodeId, generation: u64) {
        let gossip = Gossip::new(node, generation, self.rng.next_u64(), &self.options);
        self.nodes.insert(node, gossip);
    }

    /// Runs `work` on a node's gossip and queues what it asked for.
    pub fn with(&mut self, node: NodeId, work: impl FnOnce(&mut Gossip)) {
        let gossip = self.nodes.get_mut(&node).expect("a node of the swarm");
        work(gossip);
        let effects = gossip.take_effects();
        for effect in effects {
            let (due, event) = match effect {
                Effect::Send { to, packet } => (self.now_ms + self.delay_ms, Event::Packet(to, packet)),
                Effect::Timer { timer, after_ms } => (self.now_ms + after_ms, Event::Timer(node, timer)),
            };
            self.sequence += 1;
            self.events.insert((due, self.sequence), event);
        }
    }

    /// Runs every event due until `until_ms`.
    pub fn run_until(&mut self, until_ms: u64) {
        while let Some(entry) = self.events.first_entry() {
            if entry.key().0 > until_ms {
                break;
            }
            let ((due, _), event) = entry.remove_entry();
            self.now_ms = due;
            match event {
                Event::Timer(node, timer) if !self.crashed.contains(&node) => {
                    self.with(node, |gossip| gossip.timer(timer))
                }
                Event::Packet(to, packet) if !self.crashed.contains(&to) && self.nodes.contains_key(&to) => {
                    self.with(to, |gossip| {
                        let _ = gossip.receive(&packet);
                    })
                }
                _ => {}
            }
        }
        self.now_ms = until_ms;
    }

    /// Runs until `done` holds (checked every 10 ms of simulated time) or `limit_ms` passed;
    /// returns when it first held.
    pub fn run_until_true(&mut self, limit_ms: u64, mut done: impl FnMut(&Swarm) -> bool) -> Option<u64> {
        let end = self.now_ms + limit_ms;
        while self.now_ms < end {
            if done(self) {
                return Some(self.now_ms);
            }
            self.run_until(self.now_ms + 10);
        }
        done(self).then_some(self.now_ms)
    }

    /// Stops a node for good, or until [`Swarm::restart`].
    pub fn crash(&mut self, node: NodeId) {
        self.crashed.insert(node);
        self.events.retain(|_, event| !matches!(event, Event::Timer(owner, _) if *owner == node));
    }

    /// A crashed node starts again, under a newer generation, and announces itself to `seed`.
    pub fn restart(&mut self, node: NodeId, seed: NodeId) {
        let generation = self.nodes[&node].me().generation + 1;
        self.crashed.remove(&node);
        self.start(node, generation);
        self.with(node, |gossip| gossip.announce(seed));
    }

    /// What `observer` says of `node`.
    pub fn health(&self, observer: NodeId, node: NodeId) -> Option<Health> {
        self.nodes[&observer].health().get(&node).copied()
    }

    /// Whether every running node other than `node` says `health` of it.
    pub fn all_say(&self, node: NodeId, health: Health) -> bool {
        self.running().filter(|id| *id != node).all(|id| self.health(id, node) == Some(health))
    }

    pub fn running(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes.keys().copied().filter(|id| !self.crashed.contains(id))
    }
}
