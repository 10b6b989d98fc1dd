//! Gossip on this node: its SWIM membership (`concord_gossip`, sans-I/O) driven over the node
//! transport, on the runtime's clock (simulated time in the simulator).
//!
//! - Every member of the cluster map is a gossip member: announced to when it appears,
//!   forgotten (declared down) when the map drops it. A member the map lists but gossip has
//!   never heard from is entered under generation 0, so probes judge it like any other: a node
//!   that died before this one started is found down too.
//! - Packets travel as one-way calls on [`SERVICE_GOSSIP`]; losing one is what SWIM expects,
//!   so a send that finds the peer's queue full, or too many sends in flight, drops it.
//! - Each node spreads the map epoch it applied; a node that hears of a newer epoch than its
//!   own for longer than [`MAP_BEHIND_MS`] fetches that map from a node holding it
//!   ([`SERVICE_MAP`]), so a node the metadata group left behind (it was cut off, or removed)
//!   still learns what changed.
//! - What it finds (each member's health and since when it is down) is kept in [`Membership`]
//!   for `CLUSTER NODES`, `INFO` and the metadata leader's replacement of dead nodes.

use crate::node::Node;
use concord_core::cluster_map::ClusterMap;
use concord_core::types::{GroupId, NodeId};
use concord_gossip::{Effect, EpochHint, Gossip, GossipOptions, Health, Timer};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

/// A gossip packet for this node, answered with the epoch of the map the node serves under
/// (so every exchange tells the sender whether its own map is behind, also when no change is
/// being spread).
pub const SERVICE_GOSSIP: u8 = 5;
/// This node's cluster map, for a node that heard of its epoch (answered with the map).
pub const SERVICE_MAP: u8 = 6;
/// Packets received and not yet handled; more are dropped (SWIM tolerates loss).
const INBOX_PACKETS_MAX: usize = 1_024;
/// Gossip sends in flight at once; more are dropped.
const SENDS_IN_FLIGHT_MAX: usize = 64;
/// How long a send waits for the peer's answer (its epoch). SWIM's own timing does not depend
/// on it (an ack is a packet of its own); it is long because a call that times out with nothing
/// heard on its connection closes the connection, under every other call on it.
const SEND_TIMEOUT_MS: u64 = 2_000;
/// How long a node may know of a newer map epoch than its own before it fetches that map: the
/// metadata group's own replication normally brings it well within this.
const MAP_BEHIND_MS: u64 = 1_000;
/// How often members the map lists but gossip counts down or unknown are announced to again.
const REANNOUNCE_MS: u64 = 5_000;
const MAP_FETCH_TIMEOUT_MS: u64 = 2_000;

/// What gossip last said, for the rest of the node.
#[derive(Clone, Debug, Default)]
pub struct View {
    pub health: BTreeMap<NodeId, Health>,
    /// When this node first saw each member that is down now as down.
    pub down_since: BTreeMap<NodeId, Instant>,
    /// The newest map epoch heard of, through gossip's hints or a peer's answer.
    pub newest_epoch: Option<EpochHint>,
    /// Whether any peer has answered a packet since this node started (until then, this
    /// node cannot tell whether its map is the newest).
    pub heard_from_peers: bool,
    pub bytes_sent: u64,
    pub packets_received: u64,
    pub packets_refused: u64,
    pub maps_fetched: u64,
}

pub struct Membership {
    inbox: mpsc::Sender<Vec<u8>>,
    receiver: Mutex<Option<mpsc::Receiver<Vec<u8>>>>,
    view: Mutex<View>,
}

impl Default for Membership {
    fn default() -> Self {
        let (inbox, receiver) = mpsc::channel(INBOX_PACKETS_MAX);
        Membership { inbox, receiver: Mutex::new(Some(receiver)), view: Mutex::new(View::default()) }
    }
}

impl Membership {
    /// A packet from a peer; dropped if the inbox is full.
    pub fn deliver(&self, packet: Vec<u8>) {
        let _ = self.inbox.try_send(packet);
    }

    /// A peer answered a packet: it serves under `epoch`.
    fn peer_epoch(&self, hint: EpochHint) {
        let mut view = self.view.lock();
        view.heard_from_peers = true;
        if view.newest_epoch.is_none_or(|newest| newest.epoch < hint.epoch) {
            view.newest_epoch = Some(hint);
        }
    }

    /// Whether this node knows of no map newer than the one it serves under, having heard from
    /// its peers: only then does it act on the map's word that a replica here is not needed.
    pub fn map_is_newest(&self, epoch: u64) -> bool {
        let heard = self.view.lock().heard_from_peers;
        heard && !self.knows_newer(epoch)
    }

    /// Whether this node knows of a newer map than the one at `epoch`.
    pub fn knows_newer(&self, epoch: u64) -> bool {
        self.view.lock().newest_epoch.is_some_and(|newest| newest.epoch > epoch)
    }

    pub fn view(&self) -> View {
        self.view.lock().clone()
    }

    pub fn health(&self, node: NodeId) -> Option<Health> {
        self.view.lock().health.get(&node).copied()
    }

    /// How long gossip has said `node` is down, if it does.
    pub fn down_for(&self, node: NodeId) -> Option<Duration> {
        self.view.lock().down_since.get(&node).map(|since| since.elapsed())
    }
}

/// Runs this node's gossip until the node stops.
pub async fn run(node: Arc<Node>) {
    let Some(mut inbox) = node.membership.receiver.lock().take() else { return };
    // A restart runs under a newer generation than any before it: the clock has moved on.
    let generation = node.clock.now_ms();
    let mut gossip = Gossip::new(node.id, generation, node.next_seed(), &GossipOptions::default());
    let mut timers: BTreeMap<(Instant, u64), Timer> = BTreeMap::new();
    let mut timer_sequence = 0u64;
    let sends = Arc::new(Semaphore::new(SENDS_IN_FLIGHT_MAX));
    let mut maps = node.watch_map();
    let mut members: BTreeSet<NodeId> = BTreeSet::new();
    let mut epoch_spread = 0u64;
    let mut behind_since: Option<Instant> = None;
    let mut fetching: Option<tokio::task::JoinHandle<()>> = None;
    let mut sent_at_last_look = u64::MAX;
    let mut reannounce = tokio::time::interval(Duration::from_millis(REANNOUNCE_MS));
    reannounce.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut check = tokio::time::interval(Duration::from_millis(MAP_BEHIND_MS / 4));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let map = node.map();
        follow_members(&mut gossip, &map, node.id, &mut members);
        if map.epoch > epoch_spread {
            epoch_spread = map.epoch;
            gossip.applied_epoch(map.epoch);
        }
        for effect in gossip.take_effects() {
            match effect {
                Effect::Send { to, packet } => send(&node, &map, &sends, to, packet),
                Effect::Timer { timer, after_ms } => {
                    timer_sequence += 1;
                    timers.insert((Instant::now() + Duration::from_millis(after_ms), timer_sequence), timer);
                }
            }
        }
        publish(&node, &gossip);
        let next_timer = timers.keys().next().map(|(due, _)| *due);
        tokio::select! {
            packet = inbox.recv() => {
                let Some(packet) = packet else { return };
                if let Err(error) = gossip.receive(&packet) {
                    tracing::debug!(%error, "gossip packet refused");
                }
            }
            _ = sleep_until(next_timer) => {
                if let Some(((due, sequence), _)) = timers.first_key_value() {
                    let key = (*due, *sequence);
                    let timer = timers.remove(&key).expect("just seen");
                    gossip.timer(timer);
                }
            }
            changed = maps.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = reannounce.tick() => {
                let health = gossip.health();
                // A node that probes sends every probe period: one that sent nothing since the
                // last look has stopped (it lost touch with every member, or took a new
                // generation after being declared down, which leaves it waiting to hear from
                // someone, while no one knows it under that generation yet).
                let stalled = gossip.bytes_sent() == sent_at_last_look;
                let taking_part = gossip.taking_part() && !stalled;
                if !taking_part && !members.is_empty() {
                    tracing::info!("gossip: this node lost touch with the others (or was declared down); announcing itself again");
                }
                for member in &members {
                    if !taking_part || health.get(member).is_none_or(|h| *h == Health::Down) {
                        gossip.announce(*member);
                    }
                }
                sent_at_last_look = gossip.bytes_sent();
            }
            _ = check.tick() => {
                let newest = node.membership.view().newest_epoch.filter(|hint| hint.epoch > node.map().epoch);
                match newest {
                    None => behind_since = None,
                    Some(hint) => {
                        tracing::debug!(newest = hint.epoch, holder = %hint.holder, epoch = node.map().epoch, "gossip: a newer map is around");
                        let since = *behind_since.get_or_insert_with(Instant::now);
                        let idle = fetching.as_ref().is_none_or(|task| task.is_finished());
                        if since.elapsed() >= Duration::from_millis(MAP_BEHIND_MS) && idle {
                            fetching = Some(tokio::spawn(fetch_map(node.clone(), hint)));
                            behind_since = Some(Instant::now());
                        }
                    }
                }
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Gossip's members follow the map's.
fn follow_members(gossip: &mut Gossip, map: &ClusterMap, me: NodeId, members: &mut BTreeSet<NodeId>) {
    let now: BTreeSet<NodeId> = map.members.keys().copied().filter(|id| *id != me).collect();
    for gone in members.difference(&now) {
        gossip.forget(*gone);
    }
    for new in now.difference(members) {
        gossip.include(*new);
        gossip.announce(*new);
    }
    *members = now;
}

/// Sends a packet without waiting: dropped if too many are in flight.
fn send(node: &Arc<Node>, map: &ClusterMap, sends: &Arc<Semaphore>, to: NodeId, packet: Vec<u8>) {
    let Some(address) = map.members.get(&to).map(|m| m.addresses.node.clone()) else { return };
    let Ok(permit) = sends.clone().try_acquire_owned() else { return };
    let node = node.clone();
    tokio::spawn(async move {
        let deadline = Duration::from_millis(SEND_TIMEOUT_MS);
        let answer = node.network.call(to, &address, GroupId::METADATA, SERVICE_GOSSIP, packet, deadline).await;
        drop(permit);
        match answer.map(|bytes| postcard::from_bytes::<u64>(&bytes)) {
            Ok(Ok(epoch)) => node.membership.peer_epoch(EpochHint { epoch, holder: to }),
            Ok(Err(_)) => tracing::debug!(peer = %to, "gossip: an answer without an epoch"),
            Err(error) => tracing::debug!(peer = %to, %error, "gossip: a packet was not answered"),
        }
    });
}

fn publish(node: &Node, gossip: &Gossip) {
    let health = gossip.health();
    let mut view = node.membership.view.lock();
    for (member, now) in &health {
        if view.health.get(member) != Some(now) {
            tracing::info!(%member, health = ?now, "gossip: a member's health changed");
        }
    }
    let now = Instant::now();
    let newest_epoch = match (view.newest_epoch, gossip.newest_epoch()) {
        (Some(a), Some(b)) => Some(if a.epoch >= b.epoch { a } else { b }),
        (a, b) => a.or(b),
    };
    let down_since = health
        .iter()
        .filter(|(_, h)| **h == Health::Down)
        .map(|(id, _)| (*id, view.down_since.get(id).copied().unwrap_or(now)))
        .collect();
    *view = View {
        health,
        down_since,
        newest_epoch,
        heard_from_peers: view.heard_from_peers,
        bytes_sent: gossip.bytes_sent(),
        packets_received: gossip.packets_received,
        packets_refused: gossip.packets_refused,
        maps_fetched: view.maps_fetched,
    };
}

/// Fetches the map a hint names from its holder (or, failing that, any member) and adopts it
/// if it is newer than this node's.
async fn fetch_map(node: Arc<Node>, hint: EpochHint) {
    let map = node.map();
    let mut holders: Vec<(NodeId, String)> =
        map.members.iter().filter(|(id, _)| **id != node.id).map(|(id, m)| (*id, m.addresses.node.clone())).collect();
    holders.sort_by_key(|(id, _)| *id != hint.holder);
    for (holder, address) in holders {
        let deadline = Duration::from_millis(MAP_FETCH_TIMEOUT_MS);
        let answer = node.network.call(holder, &address, GroupId::METADATA, SERVICE_MAP, Vec::new(), deadline).await;
        let Ok(bytes) = answer else { continue };
        match ClusterMap::restore(&bytes) {
            Ok(fetched) if fetched.epoch > node.map().epoch => {
                tracing::info!(epoch = fetched.epoch, from = %holder, "fetched a newer cluster map through gossip");
                node.membership.view.lock().maps_fetched += 1;
                node.adopt_map(fetched);
                return;
            }
            Ok(_) => continue,
            Err(error) => tracing::warn!(%error, from = %holder, "undecodable cluster map"),
        }
    }
}

/// Answers [`SERVICE_GOSSIP`]: takes the packet, tells the map epoch.
pub fn serve_packet(node: &Node, packet: Vec<u8>) -> Vec<u8> {
    node.membership.deliver(packet);
    postcard::to_stdvec(&node.map().epoch).expect("an epoch encodes")
}

/// Answers [`SERVICE_MAP`]: this node's map.
pub fn serve_map(node: &Node) -> Vec<u8> {
    node.map().snapshot()
}
