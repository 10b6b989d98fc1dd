//! This node's blocked clients (BLPOP and friends): each one's waiter lives in the replicated
//! state (see `concord_core::blocking`); here is only where its reply goes once the state
//! machine, applying the log on this node, serves it or ends its wait.
//!
//! The node keeps its waiters alive with a lease it renews while it has blocked clients; a
//! renewal lists the waiters still wanted, so one whose client is gone (and whose cancellation
//! got lost) lives at most one renewal longer. A node cut off from the cluster for longer than
//! a lease cannot know whether its clients' waits were served before the state machine dropped
//! them, and tells them so.

use concord_core::blocking::WaiterId;
use concord_core::limits::BLOCKED_CLIENTS_MAX;
use concord_core::types::{GroupId, NodeId};
use concord_core::{Error, Reply};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use tokio::sync::oneshot;

struct Blocked {
    client: u64,
    /// The shard whose state machine holds the waiter.
    shard: GroupId,
    reply: oneshot::Sender<Reply>,
}

pub struct BlockedClients {
    node: NodeId,
    /// Tells this run of the node from earlier ones: a restarted node's renewal drops the
    /// waiters of its previous run.
    incarnation: u64,
    state: Mutex<State>,
}

struct State {
    next_seq: u64,
    waiting: BTreeMap<u64, Blocked>,
}

/// What a renewal says: the waiters still wanted, and the first number not handed out yet
/// (waiters from then on were registered after the renewal was made, and are kept).
pub struct Renewal {
    pub live: Vec<u64>,
    pub next_seq: u64,
}

impl BlockedClients {
    pub fn new(node: NodeId, incarnation: u64) -> BlockedClients {
        BlockedClients { node, incarnation, state: Mutex::new(State { next_seq: 1, waiting: BTreeMap::new() }) }
    }

    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    pub fn len(&self) -> usize {
        self.state.lock().waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new waiter for a client of this node, and where its reply will come; refused past
    /// `BLOCKED_CLIENTS_MAX`.
    pub fn register(&self, client: u64, shard: GroupId) -> Result<(WaiterId, oneshot::Receiver<Reply>), Reply> {
        let mut state = self.state.lock();
        if state.waiting.len() >= BLOCKED_CLIENTS_MAX {
            return Err(Error::err(format_args!(
                "too many blocked clients on this node ({BLOCKED_CLIENTS_MAX}); retry later"
            ))
            .into());
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        let (reply, receiver) = oneshot::channel();
        state.waiting.insert(seq, Blocked { client, shard, reply });
        Ok((WaiterId { node: self.node, incarnation: self.incarnation, seq }, receiver))
    }

    /// Forgets a waiter (its client has its reply, or is gone).
    pub fn forget(&self, id: WaiterId) {
        self.state.lock().waiting.remove(&id.seq);
    }

    /// Delivers the replies the state machine served to this node's own waiters.
    pub fn deliver(&self, served: &[(WaiterId, Reply)]) {
        let mut state = self.state.lock();
        for (id, reply) in served {
            if id.node == self.node && id.incarnation == self.incarnation {
                if let Some(blocked) = state.waiting.remove(&id.seq) {
                    let _ = blocked.reply.send(reply.clone());
                }
            }
        }
    }

    /// The shard and waiter of a client, if it is blocked (CLIENT UNBLOCK).
    pub fn waiter_of(&self, client: u64) -> Option<(GroupId, WaiterId)> {
        let state = self.state.lock();
        let (seq, blocked) = state.waiting.iter().find(|(_, blocked)| blocked.client == client)?;
        Some((blocked.shard, WaiterId { node: self.node, incarnation: self.incarnation, seq: *seq }))
    }

    /// What to renew on each shard this node's clients wait in.
    pub fn renewals(&self) -> BTreeMap<GroupId, Renewal> {
        let state = self.state.lock();
        let mut renewals: BTreeMap<GroupId, Renewal> = BTreeMap::new();
        for (seq, blocked) in &state.waiting {
            renewals
                .entry(blocked.shard)
                .or_insert_with(|| Renewal { live: Vec::new(), next_seq: state.next_seq })
                .live
                .push(*seq);
        }
        renewals
    }

    /// Answers every blocked client with `reply` and forgets them (the node lost contact with
    /// the cluster for longer than its lease).
    pub fn fail_all(&self, reply: &Reply) {
        for (_, blocked) in std::mem::take(&mut self.state.lock().waiting) {
            let _ = blocked.reply.send(reply.clone());
        }
    }
}

/// The reply of a waiter whose fate this node cannot know.
pub fn unknown_wait_reply() -> Reply {
    Error::new(
        "UNKNOWN this node lost contact with the cluster while the client was blocked: the command may or may not have taken an element; check before retrying",
    )
    .into()
}

/// Whether a reply to a forwarded or proposed write left its outcome unknown.
pub fn is_unknown(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(text) if text.starts_with(b"UNKNOWN"))
}
