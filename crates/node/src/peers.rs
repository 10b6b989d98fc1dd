//! What nodes say to each other, over the node transport: Raft messages for a group, and
//! requests a node forwards to a group's leader on behalf of its clients (each call names its
//! group: a data shard, or the metadata group for cluster changes), and published Pub/Sub
//! messages.

use crate::gossip::{SERVICE_GOSSIP, SERVICE_MAP};
use crate::node::Node;
use bytes::Bytes;
use concord_core::commands::cluster::ClusterOp;
use concord_core::keyspace::WatchStamp;
use concord_core::request::Request;
use concord_core::types::{DbIndex, GroupId, NodeId};
use concord_core::Reply;
use concord_raft::network::{Rpc, RpcFailure};
use concord_raft::NodeInfo;
use concord_transport::{CallError, Handler, Network};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Services on the node transport.
pub const SERVICE_RAFT: u8 = 1;
pub const SERVICE_FORWARD: u8 = 2;
/// A published message for this node's subscribers (answered with their count). A node of the
/// previous version answers it with an error ("unknown service"), which counts 0.
pub const SERVICE_PUBSUB: u8 = 3;
/// Published messages, in publish order, for this node's subscribers (answered with each
/// one's count). A node of a version before it answers with an error, which counts 0.
pub const SERVICE_PUBSUB_BATCH: u8 = 4;
// Services 5 and 6 are gossip's (see `gossip`).
/// As `SERVICE_PUBSUB_BATCH`, numbered within the sender's run so that the receiver drops a
/// batch that arrives after a later one (wire version 6; see `pubsub::RelayBatch`).
pub const SERVICE_PUBSUB_SEQUENCED: u8 = 7;
/// The wire version that knows `SERVICE_PUBSUB_SEQUENCED`.
pub const PUBSUB_SEQUENCED_VERSION: u8 = 6;

/// A client request a follower hands to the leader.
#[derive(Debug, Serialize, Deserialize)]
pub enum Forward {
    Write(Vec<Request>),
    Read { db: DbIndex, argv: Vec<Bytes> },
    Watch { db: DbIndex, keys: Vec<Bytes> },
    Cluster(ClusterOp),
}

/// Why a forwarded write failed: `definite` when it certainly was not applied.
#[derive(Debug, Serialize, Deserialize)]
pub struct WriteFailure {
    pub definite: bool,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Forwarded {
    Write(Result<Vec<Reply>, WriteFailure>),
    Read(Reply),
    Watch(Result<Vec<(Bytes, WatchStamp)>, Reply>),
    Cluster(Reply),
    /// A tagged write refused, unapplied, because a replica of the shard speaks the previous
    /// wire version: send it untagged. Only ever the answer to a tagged write.
    Untagged,
}

/// openraft's messages, carried by the node transport.
pub struct PeerRpc {
    pub network: Network,
}

impl Rpc for PeerRpc {
    async fn call(
        &self,
        target: NodeId,
        node: &NodeInfo,
        group: GroupId,
        payload: Vec<u8>,
        deadline: Duration,
    ) -> Result<Vec<u8>, RpcFailure> {
        self.network.call(target, &node.raft_addr, group, SERVICE_RAFT, payload, deadline).await.map_err(|error| {
            match error {
                CallError::Unreachable(why) => RpcFailure::Unreachable(why),
                CallError::Timeout => RpcFailure::Timeout,
                other => RpcFailure::Failed(other.to_string()),
            }
        })
    }
}

/// Serves other nodes' calls.
pub struct PeerHandler {
    pub node: Weak<Node>,
}

impl Handler for PeerHandler {
    fn handle(
        &self,
        _from: NodeId,
        group: GroupId,
        service: u8,
        payload: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, String>> {
        let node = self.node.clone();
        Box::pin(async move {
            let node: Arc<Node> = node.upgrade().ok_or("the node is shutting down")?;
            match service {
                SERVICE_RAFT => match node.group(group) {
                    Some(local) => local.serve(&payload).await,
                    // A replica the map just placed here may not have started yet.
                    None => Err(format!("this node hosts no group {group}")),
                },
                SERVICE_FORWARD => {
                    let request: Forward =
                        postcard::from_bytes(&payload).map_err(|e| format!("undecodable forward: {e}"))?;
                    let answer = node.serve_forwarded(group, request).await;
                    Ok(postcard::to_stdvec(&answer).expect("forward answers encode"))
                }
                SERVICE_PUBSUB => crate::pubsub::serve_peer_message(&node, &payload),
                SERVICE_PUBSUB_BATCH => crate::pubsub::serve_peer_messages(&node, &payload),
                SERVICE_PUBSUB_SEQUENCED => crate::pubsub::serve_sequenced(&node, &payload),
                SERVICE_GOSSIP => Ok(crate::gossip::serve_packet(&node, payload)),
                SERVICE_MAP => Ok(crate::gossip::serve_map(&node)),
                other => Err(format!("unknown service {other}")),
            }
        })
    }
}
