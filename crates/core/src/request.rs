//! What the log carries: batches of requests, each stamped by the leader that proposed it.
//!
//! Commands travel as their argument vectors (as Redis's AOF does) rather than as parsed
//! structures, so the log format does not change when a command's internals do.

use crate::blocking::WaiterId;
use crate::cluster_map::ClusterChange;
use crate::keyspace::WatchStamp;
use crate::once::RequestId;
use crate::reply::Reply;
use crate::types::{DbIndex, NodeId, TimeMs};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// One log entry's payload: requests gathered by the leader while the previous entry was
/// being made durable (group commit), applied in order, all at the leader's `time_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub time_ms: TimeMs,
    pub requests: Vec<Request>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// One client command.
    Command { db: DbIndex, argv: Vec<Bytes> },
    /// MULTI/EXEC: applied atomically, or not at all if a watched key changed.
    Transaction { watches: Vec<WatchedKey>, commands: Vec<(DbIndex, Vec<Bytes>)> },
    /// Keys the leader found past their time; each is removed only if still expired when
    /// applied (a write in between may have given it a new life).
    Expire { db: DbIndex, keys: Vec<Bytes> },
    /// The keyspace's secret hash seed, proposed by the first leader of a keyspace that has
    /// none; only the first one applied counts.
    Seed { seed: (u64, u64) },
    /// Replicated settings (`CONFIG SET` of the collection encodings): every replica changes
    /// them at the same point of the log.
    Config { pairs: Vec<(Bytes, Bytes)> },
    /// A blocking command (BLPOP ...) from a client of the node named in `waiter`: served at
    /// once if it can be, else registered to be served by a later entry (see `blocking`).
    Block { db: DbIndex, argv: Vec<Bytes>, waiter: WaiterId },
    /// Ends a wait without serving it (the client left, or CLIENT UNBLOCK): the waiter is
    /// answered as if it had timed out, or with an UNBLOCKED error.
    Unblock { waiter: WaiterId, error: bool },
    /// An owner of blocked clients is alive: extends the lease of its waiters, and drops those
    /// numbered below `next_seq` that are not `live` (their clients are gone).
    RenewWaiters { node: NodeId, incarnation: u64, live: Vec<u64>, next_seq: u64 },
    /// Nothing but the passing of time: the leader proposes one when a waiter's deadline
    /// passes, so that timeouts do not wait for other traffic.
    Tick,
    /// A change to the cluster map: only the metadata group applies these.
    Cluster(ClusterChange),
    /// Client requests (a connection's pipelined writes) tagged by the node that received
    /// them, so that a copy sent again is applied once (see `once`); applied in order, with
    /// one reply: the array of theirs. `done_below`: that node has finished with every
    /// request of its own numbered below this on this shard. New in log format 2.
    Once { id: RequestId, done_below: u64, requests: Vec<Request> },
    /// The slots this shard owns, as the cluster map says: its leader proposes them when they
    /// differ from what the shard last applied. A script may touch keys of these slots only
    /// (a shard that never applied one allows any). New in log format 3.
    OwnSlots { ranges: Vec<(u16, u16)> },
    /// A step of moving slots to or from this shard (see `migration`). New in log format 4.
    Migrate(crate::migration::MigrateStep),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchedKey {
    pub db: DbIndex,
    pub key: Bytes,
    pub stamp: WatchStamp,
}

impl Request {
    /// A client's own request (a command, a transaction, a blocking command), which a node in
    /// redirect mode may answer with `-MOVED` to the leader's node. Every other request is the
    /// node's own doing (a slot move's step, a waiter's renewal, a replicated setting...):
    /// there is no client to redirect, so it always goes to the leader.
    pub fn redirectable(&self) -> bool {
        matches!(self, Request::Command { .. } | Request::Transaction { .. } | Request::Block { .. })
    }

    /// Bytes this request holds in arguments: what group commit and limits count.
    pub fn size_bytes(&self) -> usize {
        let args = |argv: &[Bytes]| argv.iter().map(|arg| arg.len() + 8).sum::<usize>();
        match self {
            Request::Command { argv, .. } => args(argv),
            Request::Transaction { watches, commands } => {
                watches.iter().map(|w| w.key.len() + 32).sum::<usize>()
                    + commands.iter().map(|(_, argv)| args(argv)).sum::<usize>()
            }
            Request::Expire { keys, .. } => args(keys),
            Request::Seed { .. } | Request::Unblock { .. } | Request::Tick => 32,
            Request::RenewWaiters { live, .. } => 32 + 8 * live.len(),
            Request::Block { argv, .. } => args(argv) + 32,
            Request::Config { pairs } => pairs.iter().map(|(name, value)| name.len() + value.len() + 16).sum(),
            Request::Cluster(_) => 256,
            Request::Once { requests, .. } => 32 + requests.iter().map(Request::size_bytes).sum::<usize>(),
            Request::OwnSlots { ranges } => 32 + 4 * ranges.len(),
            Request::Migrate(step) => step.size_bytes(),
        }
    }
}

/// The replies to a batch, one per request, in order, and the replies of blocked clients the
/// batch served (whichever node holds each delivers it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchReply {
    pub replies: Vec<Reply>,
    #[serde(default)]
    pub served: Vec<(WaiterId, Reply)>,
    /// The keyspace events the batch raised here, for this node's subscribers: never sent to
    /// another node (each replica raises its own).
    #[serde(skip)]
    pub notifications: Vec<crate::notifications::Notification>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::NodeId;

    #[test]
    fn only_a_clients_own_requests_may_be_redirected() {
        let command = Request::Command { db: 0, argv: vec![Bytes::from_static(b"GET")] };
        assert!(command.redirectable());
        assert!(Request::Transaction { watches: Vec::new(), commands: Vec::new() }.redirectable());
        assert!(!Request::Tick.redirectable());
        assert!(!Request::OwnSlots { ranges: Vec::new() }.redirectable());
        assert!(!Request::Unblock { waiter: WaiterId { node: NodeId(1), incarnation: 1, seq: 1 }, error: false }
            .redirectable());
    }

    /// A log entry's payload as log format 1 wrote it (postcard of a `Batch`): tagged requests
    /// were added as a new last variant, so every older entry still reads the same.
    #[test]
    fn entries_of_log_format_1_still_decode() {
        let format_1: &[u8] = &[232, 7, 2, 0, 0, 2, 4, b'I', b'N', b'C', b'R', 1, b'n', 8];
        let incr = Request::Command { db: 0, argv: vec![Bytes::from_static(b"INCR"), Bytes::from_static(b"n")] };
        let batch = Batch { time_ms: 1_000, requests: vec![incr.clone(), Request::Tick] };
        assert_eq!(postcard::from_bytes::<Batch>(format_1).unwrap(), batch);
        assert_eq!(postcard::to_stdvec(&batch).unwrap(), format_1, "untagged entries encode as before");
        let id = RequestId { node: NodeId(5), incarnation: 6, seq: 7 };
        let tagged =
            Batch { time_ms: 1_000, requests: vec![Request::Once { id, done_below: 7, requests: vec![incr] }] };
        let bytes = postcard::to_stdvec(&tagged).unwrap();
        assert_eq!(bytes[3], 10, "the variant after the ten of format 1");
        assert_eq!(postcard::from_bytes::<Batch>(&bytes).unwrap(), tagged);
    }
}
