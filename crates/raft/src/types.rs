//! The openraft type configuration.

use concord_core::request::{Batch, BatchReply};
use concord_core::types::NodeId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Cursor;

/// How to reach a node: its address for other nodes and its address for clients.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub raft_addr: String,
    pub client_addr: String,
}

impl fmt::Display for NodeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (clients {})", self.raft_addr, self.client_addr)
    }
}

openraft::declare_raft_types!(
    /// Log entries carry batches of requests; applying one yields one reply per request.
    pub TypeConfig:
        D = Batch,
        R = BatchReply,
        NodeId = NodeId,
        Node = NodeInfo,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = crate::async_runtime::SeededTokio,
);

pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, NodeInfo>;
pub type StoredMembership = openraft::StoredMembership<NodeId, NodeInfo>;
pub type Raft = openraft::Raft<TypeConfig>;
