//! How openraft reaches the other members of a group: its messages are encoded as bytes and
//! carried by whatever implements [`Rpc`] (the node transport), and decoded on the other side
//! by [`serve`].

use crate::lease::Lease;
use crate::types::{NodeInfo, TypeConfig};
use concord_core::types::{GroupId, NodeId};
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Timeout, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use openraft::RPCTypes;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Why a call to a peer failed.
#[derive(Clone, Debug)]
pub enum RpcFailure {
    /// Not sent: the peer is down, unknown or cut off.
    Unreachable(String),
    /// No answer in time.
    Timeout,
    /// Anything else (connection lost, the peer failed to serve it).
    Failed(String),
}

/// Carries opaque request bytes for a group to a peer and returns the answer's bytes.
pub trait Rpc: Send + Sync + 'static {
    fn call(
        &self,
        target: NodeId,
        node: &NodeInfo,
        group: GroupId,
        payload: Vec<u8>,
        deadline: Duration,
    ) -> impl Future<Output = Result<Vec<u8>, RpcFailure>> + Send;
}

/// A Raft message between members of a group.
#[derive(Serialize, Deserialize)]
pub enum RaftRequest {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
    /// Would you vote for a candidate whose log ends here? (See [`crate::election`].)
    PreVote {
        last_log_id: Option<crate::types::LogId>,
    },
    /// The leader hands its leadership over: campaign now (see [`crate::group::Group::hand_over`]).
    TimeoutNow,
}

#[derive(Serialize, Deserialize)]
pub enum RaftResponse {
    AppendEntries(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    InstallSnapshot(Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>),
    PreVote(bool),
    TimeoutNow(bool),
}

/// openraft's network factory for one group, over a shared [`Rpc`].
pub struct Network<T> {
    rpc: Arc<T>,
    group: GroupId,
    lease: Arc<Lease>,
    silenced: Arc<AtomicBool>,
}

impl<T> Network<T> {
    /// `silenced`: while set, no appends (heartbeats included) leave for any peer, so that the
    /// followers' leases run out during a leadership hand-over.
    pub fn new(rpc: Arc<T>, group: GroupId, lease: Arc<Lease>, silenced: Arc<AtomicBool>) -> Network<T> {
        Network { rpc, group, lease, silenced }
    }
}

pub struct Peer<T> {
    rpc: Arc<T>,
    group: GroupId,
    target: NodeId,
    node: NodeInfo,
    lease: Arc<Lease>,
    silenced: Arc<AtomicBool>,
}

impl<T: Rpc> RaftNetworkFactory<TypeConfig> for Network<T> {
    type Network = Peer<T>;

    async fn new_client(&mut self, target: NodeId, node: &NodeInfo) -> Peer<T> {
        Peer {
            rpc: self.rpc.clone(),
            group: self.group,
            target,
            node: node.clone(),
            lease: self.lease.clone(),
            silenced: self.silenced.clone(),
        }
    }
}

impl<T: Rpc> Peer<T> {
    async fn exchange<E: std::error::Error>(
        &self,
        request: RaftRequest,
        kind: RPCTypes,
        option: &RPCOption,
    ) -> Result<RaftResponse, RPCError<NodeId, NodeInfo, E>> {
        let payload = postcard::to_stdvec(&request).expect("raft requests encode");
        let deadline = option.hard_ttl();
        let answer = self.rpc.call(self.target, &self.node, self.group, payload, deadline).await.map_err(
            |failure| match failure {
                RpcFailure::Unreachable(why) => RPCError::Unreachable(Unreachable::new(&std::io::Error::other(why))),
                RpcFailure::Timeout => RPCError::Timeout(Timeout {
                    action: kind,
                    id: NodeId::default(),
                    target: self.target,
                    timeout: deadline,
                }),
                RpcFailure::Failed(why) => RPCError::Network(NetworkError::new(&std::io::Error::other(why))),
            },
        )?;
        postcard::from_bytes(&answer).map_err(|e| RPCError::Network(NetworkError::new(&e)))
    }

    fn remote<E: std::error::Error>(
        &self,
        error: RaftError<NodeId, E>,
    ) -> RPCError<NodeId, NodeInfo, RaftError<NodeId, E>> {
        RPCError::RemoteError(RemoteError::new_with_node(self.target, self.node.clone(), error))
    }
}

fn mismatch<E: std::error::Error>() -> RPCError<NodeId, NodeInfo, E> {
    RPCError::Network(NetworkError::new(&std::io::Error::other("mismatched raft response")))
}

/// How long replication waits before retrying a peer that could not be reached.
const UNREACHABLE_RETRY_MS: u64 = 100;

impl<T: Rpc> RaftNetwork<TypeConfig> for Peer<T> {
    fn backoff(&self) -> openraft::network::Backoff {
        openraft::network::Backoff::new(std::iter::repeat(Duration::from_millis(UNREACHABLE_RETRY_MS)))
    }

    async fn append_entries(
        &mut self,
        request: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, NodeInfo, RaftError<NodeId>>> {
        if self.silenced.load(Ordering::Acquire) {
            return Err(RPCError::Unreachable(Unreachable::new(&std::io::Error::other("handing leadership over"))));
        }
        let (term, sent) = (request.vote.leader_id().term, tokio::time::Instant::now());
        match self.exchange(RaftRequest::AppendEntries(request), RPCTypes::AppendEntries, &option).await? {
            RaftResponse::AppendEntries(result) => {
                // Any answer but a higher vote acknowledges this leader's term.
                if result.as_ref().is_ok_and(|r| !matches!(r, AppendEntriesResponse::HigherVote(_))) {
                    self.lease.acknowledged(self.target, term, sent);
                }
                result.map_err(|e| self.remote(e))
            }
            _ => Err(mismatch()),
        }
    }

    async fn install_snapshot(
        &mut self,
        request: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RPCError<NodeId, NodeInfo, RaftError<NodeId, InstallSnapshotError>>>
    {
        match self.exchange(RaftRequest::InstallSnapshot(request), RPCTypes::InstallSnapshot, &option).await? {
            RaftResponse::InstallSnapshot(result) => result.map_err(|e| self.remote(e)),
            _ => Err(mismatch()),
        }
    }

    async fn vote(
        &mut self,
        request: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, NodeInfo, RaftError<NodeId>>> {
        match self.exchange(RaftRequest::Vote(request), RPCTypes::Vote, &option).await? {
            RaftResponse::Vote(result) => result.map_err(|e| self.remote(e)),
            _ => Err(mismatch()),
        }
    }
}
