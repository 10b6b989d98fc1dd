//! Request ids for exactly-once writes (see `concord_core::once`): each client write this
//! node submits to a data shard is tagged with a number this node never reuses in its
//! incarnation, so that it can be sent again, wherever the shard's leader is, while its
//! outcome is unknown. A [`Ticket`] lives while its write is in flight; the numbers of the
//! tickets still alive tell each shard which requests this node has finished with.

use concord_core::once::RequestId;
use concord_core::request::Request;
use concord_core::types::{GroupId, NodeId};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Hands out request ids and tracks which are in flight, per shard.
pub struct Tickets {
    node: NodeId,
    incarnation: u64,
    state: Mutex<State>,
}

struct State {
    next_seq: u64,
    /// Per shard, the numbers of writes in flight: one per client batch being written, so
    /// bounded by the clients and their pipelines.
    in_flight: BTreeMap<GroupId, BTreeSet<u64>>,
}

impl Tickets {
    pub fn new(node: NodeId, incarnation: u64) -> Arc<Tickets> {
        Arc::new(Tickets { node, incarnation, state: Mutex::new(State { next_seq: 1, in_flight: BTreeMap::new() }) })
    }

    /// A new request id for a write to `shard`, in flight until the ticket is dropped.
    pub fn take(self: &Arc<Self>, shard: GroupId) -> Ticket {
        let mut state = self.state.lock();
        let seq = state.next_seq;
        state.next_seq += 1;
        state.in_flight.entry(shard).or_default().insert(seq);
        Ticket { tickets: self.clone(), shard, seq }
    }

    /// The lowest number in flight to `shard`: this node is done with everything below it.
    fn done_below(&self, shard: GroupId) -> u64 {
        let state = self.state.lock();
        state.in_flight.get(&shard).and_then(|seqs| seqs.first().copied()).unwrap_or(state.next_seq)
    }

    /// Writes in flight, across shards.
    pub fn in_flight(&self) -> usize {
        self.state.lock().in_flight.values().map(BTreeSet::len).sum()
    }
}

/// One write's id, while the write is in flight.
pub struct Ticket {
    tickets: Arc<Tickets>,
    shard: GroupId,
    seq: u64,
}

impl Ticket {
    pub fn id(&self) -> RequestId {
        RequestId { node: self.tickets.node, incarnation: self.tickets.incarnation, seq: self.seq }
    }

    /// `requests` tagged with this ticket's id, saying what this node is done with by now.
    pub fn tag(&self, requests: Vec<Request>) -> Request {
        Request::Once { id: self.id(), done_below: self.tickets.done_below(self.shard), requests }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.tickets.state.lock();
        if let Some(seqs) = state.in_flight.get_mut(&self.shard) {
            seqs.remove(&self.seq);
            if seqs.is_empty() {
                state.in_flight.remove(&self.shard);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_told_below_which_number_this_node_is_done() {
        let tickets = Tickets::new(NodeId(1), 7);
        let (shard, other) = (GroupId(1), GroupId(2));
        let first = tickets.take(shard);
        let second = tickets.take(shard);
        let elsewhere = tickets.take(other);
        let done_below = |ticket: &Ticket| match ticket.tag(vec![]) {
            Request::Once { done_below, .. } => done_below,
            _ => unreachable!(),
        };
        assert_eq!((done_below(&first), done_below(&second)), (1, 1));
        drop(first);
        assert_eq!(done_below(&second), 2);
        assert_eq!(done_below(&elsewhere), 3, "per shard");
        assert_eq!(second.id(), RequestId { node: NodeId(1), incarnation: 7, seq: 2 });
        drop((second, elsewhere));
        assert_eq!(tickets.in_flight(), 0);
    }
}
