//! What the log carries: batches of requests, each stamped by the leader that proposed it.
//!
//! Commands travel as their argument vectors (as Redis's AOF does) rather than as parsed
//! structures, so the log format does not change when a command's internals do.

use crate::cluster_map::ClusterChange;
use crate::keyspace::WatchStamp;
use crate::reply::Reply;
use crate::types::{DbIndex, TimeMs};
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
    /// A change to the cluster map: only the metadata group applies these.
    Cluster(ClusterChange),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchedKey {
    pub db: DbIndex,
    pub key: Bytes,
    pub stamp: WatchStamp,
}

impl Request {
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
            Request::Cluster(_) => 256,
        }
    }
}

/// The replies to a batch, one per request, in order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchReply {
    pub replies: Vec<Reply>,
}
