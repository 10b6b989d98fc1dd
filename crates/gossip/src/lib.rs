//! Who is alive: SWIM membership among every node of a cluster (the `foca` crate), sans-I/O —
//! packets and timer events in, packets and timers out — so a node drives it over its node
//! transport and the simulator on simulated time, with the same code.
//!
//! - **Membership**: each node probes one member per period, asks others to probe a member
//!   that did not answer, and spreads what it learns on every packet: a member that stays
//!   unreachable is *suspect* (`fail?`), then *down* (`fail`) unless it refutes the suspicion
//!   first. A node that was declared down and comes back joins under a newer generation.
//! - **Epoch hints**: alongside membership, the newest metadata epoch any node has applied
//!   (and which node has it) spreads through the same packets, so a node that missed a change
//!   to the cluster map learns of it within a few rounds and can fetch the map.
//!
//! - [`swarm`]: many nodes on simulated time in one process, for tests and yardsticks.
//!
//! Gossip only informs. Raft stays the only authority on who owns what: the metadata leader
//! acts on what gossip says (replacing a dead node) only by proposing changes to its log.

pub mod swarm;

use concord_core::types::NodeId;
use foca::{BroadcastHandler, Foca, Invalidates, Member, Notification, PostcardCodec, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::num::{NonZeroU8, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Largest gossip packet this node sends or accepts: one probe with its piggybacked updates.
pub const PACKET_BYTES_MAX: usize = 1_400;
/// How often a member forgotten as down is kept before foca drops it (a node that comes back
/// later announces itself again).
const REMOVE_DOWN_AFTER_MS: u64 = 24 * 60 * 60 * 1000;

/// A member as gossip knows it: its node id and the generation it runs under (a node that
/// restarts, or was wrongly declared down, takes a newer one, so news about its previous life
/// cannot be mistaken for news about this one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Peer {
    pub node: NodeId,
    pub generation: u64,
}

impl foca::Identity for Peer {
    type Addr = NodeId;

    fn renew(&self) -> Option<Self> {
        Some(Peer { node: self.node, generation: self.generation + 1 })
    }

    fn addr(&self) -> NodeId {
        self.node
    }

    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        self.generation > adversary.generation
    }
}

/// What gossip says of a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    Alive,
    /// Did not answer probes; others may still refute it (`fail?` in CLUSTER NODES).
    Suspect,
    /// Confirmed unreachable (`fail`).
    Down,
}

/// The timing of the protocol. Every node of a cluster must use the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipOptions {
    /// One member is probed per period.
    pub probe_period_ms: u64,
    /// How long a probe waits for its answer before others are asked to probe.
    pub probe_rtt_ms: u64,
    /// How long a member stays suspect before it is declared down.
    pub suspect_to_down_ms: u64,
    /// Members asked to probe one that did not answer.
    pub indirect_probes: usize,
    /// Times each update is piggybacked on outgoing packets.
    pub transmissions: u8,
    /// How often updates are pushed to a few members besides the probes.
    pub gossip_period_ms: u64,
}

impl Default for GossipOptions {
    fn default() -> Self {
        // Suspicion after a missed probe cycle (well under a second on a LAN), down after 3 s
        // without a refutation: a node paused by a slow disk for a second is not declared
        // dead, and a dead one is known everywhere in a few seconds (Raft's own failover is
        // faster still, and does not wait for gossip).
        GossipOptions {
            probe_period_ms: 500,
            probe_rtt_ms: 200,
            suspect_to_down_ms: 3_000,
            indirect_probes: 3,
            transmissions: 8,
            gossip_period_ms: 200,
        }
    }
}

impl GossipOptions {
    fn foca_config(&self) -> foca::Config {
        let gossip = foca::PeriodicParams {
            frequency: Duration::from_millis(self.gossip_period_ms),
            num_members: NonZeroUsize::new(2).expect("non-zero"),
        };
        let announce = foca::PeriodicParams {
            frequency: Duration::from_secs(10),
            num_members: NonZeroUsize::new(1).expect("non-zero"),
        };
        foca::Config {
            probe_period: Duration::from_millis(self.probe_period_ms),
            probe_rtt: Duration::from_millis(self.probe_rtt_ms),
            num_indirect_probes: NonZeroUsize::new(self.indirect_probes.max(1)).expect("non-zero"),
            max_transmissions: NonZeroU8::new(self.transmissions.max(1)).expect("non-zero"),
            suspect_to_down_after: Duration::from_millis(self.suspect_to_down_ms),
            remove_down_after: Some(Duration::from_millis(REMOVE_DOWN_AFTER_MS)),
            max_packet_size: NonZeroUsize::new(PACKET_BYTES_MAX).expect("non-zero"),
            notify_down_members: true,
            // A member that missed an update (it was partitioned) hears the whole view again.
            periodic_announce: Some(announce),
            // Down members are the map's business: a node back from the dead announces itself.
            periodic_announce_to_down_members: None,
            periodic_gossip: Some(gossip),
        }
    }
}

/// A timer gossip asked for; hand it back through [`Gossip::timer`] when it is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer(foca::Timer<Peer>);

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Deliver `packet` to `to`'s [`Gossip::receive`] (losing it now and then is fine).
    Send { to: NodeId, packet: Vec<u8> },
    /// Call [`Gossip::timer`] with `timer` after `after_ms`.
    Timer { timer: Timer, after_ms: u64 },
}

/// The newest metadata epoch heard of, and a node that has applied it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochHint {
    pub epoch: u64,
    pub holder: NodeId,
}

/// Disseminates only news: an epoch newer than the newest one seen so far (shared with
/// [`Gossip`], which foca gives no access to its handler).
#[derive(Default)]
struct EpochHints {
    newest: Arc<Mutex<Option<EpochHint>>>,
}

/// Identifies a hint in foca's backlog: a newer epoch replaces an older one still spreading.
struct HintKey(u64);

impl Invalidates for HintKey {
    fn invalidates(&self, other: &Self) -> bool {
        self.0 >= other.0
    }
}

#[derive(Debug)]
struct BadHint(String);

impl std::fmt::Display for BadHint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "undecodable epoch hint: {}", self.0)
    }
}

impl std::error::Error for BadHint {}

impl BroadcastHandler<Peer> for EpochHints {
    type Key = HintKey;
    type Error = BadHint;

    fn receive_item(&mut self, data: &[u8], _sender: Option<&Peer>) -> Result<Option<HintKey>, BadHint> {
        let hint: EpochHint = postcard::from_bytes(data).map_err(|e| BadHint(e.to_string()))?;
        let mut newest = self.newest.lock().expect("never poisoned: nothing panics holding it");
        if newest.is_some_and(|newest| newest.epoch >= hint.epoch) {
            return Ok(None);
        }
        *newest = Some(hint);
        Ok(Some(HintKey(hint.epoch)))
    }
}

/// foca's randomness, from a seed the caller provides (never the thread's or the OS's).
struct SeededRng(concord_core::rng::Rng);

impl rand_core::TryRng for SeededRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.next_u64() as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            chunk.copy_from_slice(&self.0.next_u64().to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// Collects what foca asks for during one call.
struct Outbox {
    effects: Vec<Effect>,
    bytes_sent: u64,
    /// This node's own state, as foca last notified it (Alive: it counts active members).
    state: State,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox { effects: Vec::new(), bytes_sent: 0, state: State::Suspect }
    }
}

impl foca::Runtime<Peer> for Outbox {
    fn notify(&mut self, notification: Notification<'_, Peer>) {
        // Members' health is read from the membership itself (see `Gossip::health`); what is
        // kept is this node's own state.
        self.state = match notification {
            Notification::Active => State::Alive,
            Notification::Idle => State::Suspect,
            Notification::Defunct => State::Down,
            _ => return,
        };
    }

    fn send_to(&mut self, to: Peer, data: &[u8]) {
        self.bytes_sent += data.len() as u64;
        self.effects.push(Effect::Send { to: to.node, packet: data.to_vec() });
    }

    fn submit_after(&mut self, event: foca::Timer<Peer>, after: Duration) {
        self.effects.push(Effect::Timer { timer: Timer(event), after_ms: after.as_millis() as u64 });
    }
}

/// One node's membership view.
pub struct Gossip {
    foca: Foca<Peer, PostcardCodec, SeededRng, EpochHints>,
    out: Outbox,
    newest_epoch: Arc<Mutex<Option<EpochHint>>>,
    /// Packets refused as damaged or out of place since start.
    pub packets_refused: u64,
    /// Packets accepted since start.
    pub packets_received: u64,
}

impl Gossip {
    /// This node, under `generation` (larger than any it ran under before: a restart must not
    /// be taken for its previous life), with `seed` for every random choice.
    pub fn new(node: NodeId, generation: u64, seed: u64, options: &GossipOptions) -> Gossip {
        let hints = EpochHints::default();
        let newest_epoch = hints.newest.clone();
        let foca = Foca::with_custom_broadcast(
            Peer { node, generation },
            options.foca_config(),
            SeededRng(concord_core::rng::Rng::new(seed)),
            PostcardCodec,
            hints,
        );
        Gossip { foca, out: Outbox::default(), newest_epoch, packets_refused: 0, packets_received: 0 }
    }

    pub fn me(&self) -> Peer {
        *self.foca.identity()
    }

    /// Announces this node to `node` (a member of the map, or a seed): its answer brings the
    /// members it knows.
    pub fn announce(&mut self, node: NodeId) {
        if node == self.me().node {
            return;
        }
        // Generation 0 stands for "whichever": foca accepts an announce addressed to another
        // generation of the same node.
        let to = Peer { node, generation: 0 };
        if let Err(error) = self.foca.announce(to, &mut self.out) {
            unreachable!("announcing cannot fail: {error}");
        }
    }

    /// A member the cluster map lists. Unless gossip already knows it, it is entered under
    /// generation 0, so probes find out whether it is there at all (the real one replaces that
    /// entry as soon as it speaks): a node that died before this one started is found down too.
    pub fn include(&mut self, node: NodeId) {
        if node == self.me().node || self.foca.iter_membership_state().any(|m| m.id().node == node) {
            return;
        }
        let entry = Member::alive(Peer { node, generation: 0 });
        let _ = self.foca.apply_many(std::iter::once(entry), false, &mut self.out);
    }

    /// Handles a packet another node sent. A damaged or unexpected one is refused (and counted).
    pub fn receive(&mut self, packet: &[u8]) -> Result<(), String> {
        match self.foca.handle_data(packet, &mut self.out) {
            Ok(()) => {
                self.packets_received += 1;
                Ok(())
            }
            Err(error) => {
                self.packets_refused += 1;
                Err(error.to_string())
            }
        }
    }

    /// Handles a timer that came due.
    pub fn timer(&mut self, timer: Timer) {
        // An error here is a stale timer of an identity since renewed: nothing to do.
        let _ = self.foca.handle_timer(timer.0, &mut self.out);
    }

    /// This node has applied metadata epoch `epoch`: spread the news if it is news.
    pub fn applied_epoch(&mut self, epoch: u64) {
        let hint = EpochHint { epoch, holder: self.me().node };
        let data = postcard::to_stdvec(&hint).expect("hints encode");
        let _ = self.foca.add_broadcast(&data);
    }

    /// The newest metadata epoch heard of (this node's own included), and a node holding it.
    pub fn newest_epoch(&self) -> Option<EpochHint> {
        *self.newest_epoch.lock().expect("never poisoned: nothing panics holding it")
    }

    /// A member removed from the cluster: it is declared down, so no one probes it any more.
    pub fn forget(&mut self, node: NodeId) {
        let known: Vec<Peer> = self
            .foca
            .iter_membership_state()
            .filter(|m| m.id().node == node && m.state() != State::Down)
            .map(|m| *m.id())
            .collect();
        let _ = self.foca.apply_many(known.into_iter().map(Member::down), true, &mut self.out);
    }

    /// Each other member's health, by its newest generation.
    pub fn health(&self) -> BTreeMap<NodeId, Health> {
        let mut newest: BTreeMap<NodeId, (u64, Health)> = BTreeMap::new();
        for member in self.foca.iter_membership_state() {
            let health = match member.state() {
                State::Alive => Health::Alive,
                State::Suspect => Health::Suspect,
                State::Down => Health::Down,
            };
            let id = member.id();
            let entry = newest.entry(id.node).or_insert((id.generation, health));
            if id.generation > entry.0 || (id.generation == entry.0 && health < entry.1) {
                *entry = (id.generation, health);
            }
        }
        newest.into_iter().map(|(node, (_, health))| (node, health)).collect()
    }

    /// Whether this node takes part: it knows active members (foca is "connected") and no
    /// one declared it down (foca would then stop probing and wait for a rejoin). A node not
    /// taking part must announce itself again.
    pub fn taking_part(&self) -> bool {
        self.out.state == State::Alive
    }

    /// Members this node counts as alive or suspect.
    pub fn active_members(&self) -> usize {
        self.foca.num_members()
    }

    /// Bytes of every packet sent since start.
    pub fn bytes_sent(&self) -> u64 {
        self.out.bytes_sent
    }

    /// What the calls since the last take asked for, in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.out.effects)
    }
}

#[cfg(test)]
mod tests;
