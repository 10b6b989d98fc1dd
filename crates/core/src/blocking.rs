//! Blocked clients (`BLPOP` and the other blocking commands) as replicated state.
//!
//! A blocking command that finds nothing to take is not left waiting on the node that received
//! it: its waiter is registered in the state machine, by the log entry that carries it. When a
//! later entry makes one of its keys ready (a push), the state machine serves the waiters of
//! that key in the order they blocked — the longest-waiting first — while it applies that
//! entry, before any other command can take the element. Every replica applies the same log,
//! so every replica pops the same element for the same waiter at the same point; the node
//! that holds the client's connection (its *owner*, named in the waiter's id) delivers the
//! reply when it applies that entry itself.
//!
//! Time is the leader's: a waiter's deadline is stamped in the log, and the leader proposes a
//! tick when one passes. Owners hold a lease they renew while they have blocked clients: the
//! waiters of a node that died (or restarted) are dropped when it lapses, so they stop taking
//! elements nobody would receive.

use crate::keyspace::Blob;
use crate::reply::Reply;
use crate::types::{DbIndex, NodeId, TimeMs};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How long an owner's waiters live without a renewal: long enough to ride out an election,
/// short enough that a dead node's waiters soon stop taking elements.
pub const WAITER_LEASE_MS: TimeMs = 5_000;
/// How often an owner with blocked clients renews its lease.
pub const WAITER_RENEW_MS: TimeMs = 1_000;
/// Waiters one owner may have registered at once (the node's own bound on blocked clients is
/// `limits::BLOCKED_CLIENTS_MAX`; this one protects the state machine from a misbehaving one).
pub const WAITERS_PER_OWNER_MAX: usize = crate::limits::BLOCKED_CLIENTS_MAX;

/// Cancellations of waiters that were not (yet) registered, remembered so that a late copy of
/// their request registers nothing.
pub const CANCELLED_WAITERS_MAX: usize = 10_000;

const _: () = assert!(WAITER_RENEW_MS * 3 <= WAITER_LEASE_MS, "a lease survives two lost renewals");

/// A blocked client, named by the node that holds its connection, that node's incarnation
/// (a restarted node gets a new one) and a number the node never reuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WaiterId {
    pub node: NodeId,
    pub incarnation: u64,
    pub seq: u64,
}

impl WaiterId {
    fn owner(&self) -> Owner {
        (self.node, self.incarnation)
    }
}

type Owner = (NodeId, u64);

/// What a waiter waits to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Waiter {
    pub db: DbIndex,
    /// The blocking command, as the client sent it.
    pub argv: Vec<Bytes>,
    pub keys: Vec<Blob>,
    pub deadline_ms: Option<TimeMs>,
}

/// Every waiter of a shard.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Waiters {
    waiters: BTreeMap<WaiterId, Waiter>,
    /// Per key, its waiters in the order they blocked.
    by_key: BTreeMap<(DbIndex, Blob), VecDeque<WaiterId>>,
    deadlines: BTreeSet<(TimeMs, WaiterId)>,
    /// When each owner's lease ends.
    leases: BTreeMap<Owner, TimeMs>,
    /// Waiters cancelled before they were registered: their request, should it still be
    /// applied (a late copy through a new leader), must register nothing and take nothing.
    cancelled: BTreeSet<WaiterId>,
}

/// The waiters as snapshots record them.
#[derive(Serialize, Deserialize)]
pub(crate) struct WaitersImage {
    /// In the order they blocked on each key: registration order is kept by re-registering
    /// in this order.
    waiters: Vec<(WaiterId, Waiter)>,
    /// Per key, the ids in order.
    queues: Vec<((DbIndex, Blob), Vec<WaiterId>)>,
    leases: Vec<(Owner, TimeMs)>,
    cancelled: Vec<WaiterId>,
}

impl Waiters {
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    pub fn contains(&self, id: &WaiterId) -> bool {
        self.waiters.contains_key(id)
    }

    /// Remembers that `id` was cancelled before it was registered.
    pub fn cancel_unregistered(&mut self, id: WaiterId) {
        self.cancelled.insert(id);
        if self.cancelled.len() > CANCELLED_WAITERS_MAX {
            self.cancelled.pop_first();
        }
    }

    pub fn was_cancelled(&self, id: &WaiterId) -> bool {
        self.cancelled.contains(id)
    }

    pub fn get(&self, id: &WaiterId) -> Option<&Waiter> {
        self.waiters.get(id)
    }

    /// Whether anyone waits on `key` of `db`.
    pub fn waited_on(&self, db: DbIndex, key: &[u8]) -> bool {
        !self.by_key.is_empty() && self.by_key.contains_key(&(db, Blob::new(key)))
    }

    /// The longest-waiting waiter on `key` of `db`.
    pub fn first_on(&self, db: DbIndex, key: &Blob) -> Option<WaiterId> {
        self.by_key.get(&(db, key.clone())).and_then(|queue| queue.front().copied())
    }

    /// The waiter `skip` places behind the longest-waiting one on `key` of `db`.
    pub fn nth_on(&self, db: DbIndex, key: &Blob, skip: usize) -> Option<WaiterId> {
        self.by_key.get(&(db, key.clone())).and_then(|queue| queue.get(skip).copied())
    }

    /// Every waiter on `key` of `db`, longest-waiting first.
    pub fn all_on(&self, db: DbIndex, key: &Blob) -> Vec<WaiterId> {
        self.by_key.get(&(db, key.clone())).map(|queue| queue.iter().copied().collect()).unwrap_or_default()
    }

    /// Every key someone waits on.
    pub fn keys(&self) -> Vec<(DbIndex, Blob)> {
        self.by_key.keys().cloned().collect()
    }

    /// The earliest moment something here times out (a waiter's deadline or an owner's lease):
    /// the leader proposes a tick then.
    pub fn next_deadline_ms(&self) -> Option<TimeMs> {
        let deadline = self.deadlines.iter().next().map(|(at, _)| *at);
        let lease = self.leases.values().min().copied();
        deadline.into_iter().chain(lease).min()
    }

    /// Waiters one owner has.
    pub fn owned_by(&self, node: NodeId, incarnation: u64) -> usize {
        self.waiters
            .range(WaiterId { node, incarnation, seq: 0 }..=WaiterId { node, incarnation, seq: u64::MAX })
            .count()
    }

    pub fn register(&mut self, id: WaiterId, waiter: Waiter) {
        for key in &waiter.keys {
            let queue = self.by_key.entry((waiter.db, key.clone())).or_default();
            if !queue.contains(&id) {
                queue.push_back(id);
            }
        }
        if let Some(at) = waiter.deadline_ms {
            self.deadlines.insert((at, id));
        }
        self.waiters.insert(id, waiter);
    }

    pub fn remove(&mut self, id: &WaiterId) -> Option<Waiter> {
        let waiter = self.waiters.remove(id)?;
        for key in &waiter.keys {
            let slot = (waiter.db, key.clone());
            if let Some(queue) = self.by_key.get_mut(&slot) {
                queue.retain(|other| other != id);
                if queue.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        if let Some(at) = waiter.deadline_ms {
            self.deadlines.remove(&(at, *id));
        }
        if !self.waiters.keys().any(|other| other.owner() == id.owner()) {
            self.leases.remove(&id.owner());
        }
        Some(waiter)
    }

    /// Extends an owner's lease to `until_ms`; returns the waiters of the same node's earlier
    /// incarnations, which are gone with them.
    pub fn renew(&mut self, node: NodeId, incarnation: u64, until_ms: TimeMs) -> Vec<WaiterId> {
        let stale: Vec<WaiterId> =
            self.waiters.keys().filter(|id| id.node == node && id.incarnation != incarnation).copied().collect();
        for id in &stale {
            self.remove(id);
        }
        self.leases.retain(|(owner, other), _| *owner != node || *other == incarnation);
        let lease = self.leases.entry((node, incarnation)).or_insert(until_ms);
        *lease = (*lease).max(until_ms);
        stale
    }

    /// The waiters of an owner numbered below `next_seq` that are not in `live`: their
    /// clients are gone (a cancellation was lost, or a request applied after its client left).
    pub fn not_live(&self, node: NodeId, incarnation: u64, live: &[u64], next_seq: u64) -> Vec<WaiterId> {
        let from = WaiterId { node, incarnation, seq: 0 };
        let to = WaiterId { node, incarnation, seq: next_seq };
        self.waiters.range(from..to).map(|(id, _)| *id).filter(|id| live.binary_search(&id.seq).is_err()).collect()
    }

    /// Waiters whose deadline has passed, and waiters whose owner's lease has: both to be
    /// answered (or dropped) and removed.
    pub fn due(&self, now_ms: TimeMs) -> (Vec<WaiterId>, Vec<WaiterId>) {
        let timed_out: Vec<WaiterId> =
            self.deadlines.iter().take_while(|(at, _)| *at <= now_ms).map(|(_, id)| *id).collect();
        let lapsed: Vec<Owner> =
            self.leases.iter().filter(|(_, until)| **until <= now_ms).map(|(owner, _)| *owner).collect();
        let orphans =
            self.waiters.keys().filter(|id| lapsed.contains(&id.owner()) && !timed_out.contains(id)).copied().collect();
        (timed_out, orphans)
    }

    /// Forgets the leases of owners that have no waiter left.
    pub fn forget_idle_leases(&mut self) {
        let owners: BTreeSet<Owner> = self.waiters.keys().map(WaiterId::owner).collect();
        self.leases.retain(|owner, _| owners.contains(owner));
    }

    pub(crate) fn image(&self) -> WaitersImage {
        WaitersImage {
            waiters: self.waiters.iter().map(|(id, waiter)| (*id, waiter.clone())).collect(),
            queues: self.by_key.iter().map(|(key, queue)| (key.clone(), queue.iter().copied().collect())).collect(),
            leases: self.leases.iter().map(|(owner, until)| (*owner, *until)).collect(),
            cancelled: self.cancelled.iter().copied().collect(),
        }
    }

    pub(crate) fn restore(image: WaitersImage) -> Waiters {
        let mut waiters = Waiters::default();
        for (id, waiter) in image.waiters {
            if let Some(at) = waiter.deadline_ms {
                waiters.deadlines.insert((at, id));
            }
            waiters.waiters.insert(id, waiter);
        }
        waiters.by_key = image.queues.into_iter().map(|(key, queue)| (key, queue.into_iter().collect())).collect();
        waiters.leases = image.leases.into_iter().collect();
        waiters.cancelled = image.cancelled.into_iter().collect();
        waiters
    }
}

/// Why a waiter was answered without being served.
pub fn cancelled_reply() -> Reply {
    crate::Error::new(
        "TRYAGAIN the blocking command was cancelled: the node holding this connection lost contact with the cluster for too long; nothing was popped, retry",
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(node: u128, incarnation: u64, seq: u64) -> WaiterId {
        WaiterId { node: NodeId(node), incarnation, seq }
    }

    fn waiter(keys: &[&str], deadline_ms: Option<TimeMs>) -> Waiter {
        Waiter { db: 0, argv: Vec::new(), keys: keys.iter().map(|k| Blob::from(*k)).collect(), deadline_ms }
    }

    #[test]
    fn waiters_queue_per_key_in_blocking_order() {
        let mut waiters = Waiters::default();
        waiters.register(id(1, 1, 2), waiter(&["a", "b"], None));
        waiters.register(id(1, 1, 1), waiter(&["b"], Some(50)));
        assert_eq!(waiters.first_on(0, &Blob::from("b")), Some(id(1, 1, 2)), "first to block, not lowest id");
        waiters.remove(&id(1, 1, 2));
        assert_eq!(waiters.first_on(0, &Blob::from("b")), Some(id(1, 1, 1)));
        assert!(!waiters.waited_on(0, b"a"));
        assert_eq!(waiters.next_deadline_ms(), Some(50));
        assert_eq!(waiters.due(50).0, vec![id(1, 1, 1)]);
    }

    #[test]
    fn leases_drop_the_waiters_of_a_silent_or_restarted_owner() {
        let mut waiters = Waiters::default();
        waiters.register(id(1, 1, 1), waiter(&["a"], None));
        waiters.register(id(2, 1, 1), waiter(&["a"], None));
        waiters.renew(NodeId(1), 1, 100);
        waiters.renew(NodeId(2), 1, 200);
        assert_eq!(waiters.due(150).1, vec![id(1, 1, 1)]);
        // Node 2 restarted: its new incarnation's renewal drops the old one's waiters.
        assert_eq!(waiters.renew(NodeId(2), 2, 300), vec![id(2, 1, 1)]);
        assert_eq!(waiters.len(), 1);
        let restored = Waiters::restore(waiters.image());
        assert_eq!(restored, waiters);
    }
}
