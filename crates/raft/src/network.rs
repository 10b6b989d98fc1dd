//! How openraft reaches the other members of a group. The node transport implements
//! [`Transport`]; a node without peers uses [`NoPeers`], which reports every peer
//! unreachable (a single-voter group never sends anything).

use crate::types::{NodeInfo, TypeConfig};
use concord_core::types::{GroupId, NodeId};
use openraft::error::{InstallSnapshotError, RPCError, RaftError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use std::sync::Arc;

type RpcError<E = openraft::error::Infallible> = RPCError<NodeId, NodeInfo, RaftError<NodeId, E>>;

/// Sends Raft messages for a group to a peer and returns its answer.
pub trait Transport: Send + Sync + 'static {
    fn append_entries(
        &self,
        group: GroupId,
        target: NodeId,
        node: &NodeInfo,
        request: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> impl std::future::Future<Output = Result<AppendEntriesResponse<NodeId>, RpcError>> + Send;

    fn vote(
        &self,
        group: GroupId,
        target: NodeId,
        node: &NodeInfo,
        request: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> impl std::future::Future<Output = Result<VoteResponse<NodeId>, RpcError>> + Send;

    fn install_snapshot(
        &self,
        group: GroupId,
        target: NodeId,
        node: &NodeInfo,
        request: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> impl std::future::Future<Output = Result<InstallSnapshotResponse<NodeId>, RpcError<InstallSnapshotError>>> + Send;
}

/// The transport of a node that has no peers.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPeers;

fn unreachable<E: std::error::Error>(target: NodeId) -> RPCError<NodeId, NodeInfo, E> {
    RPCError::Unreachable(Unreachable::new(&std::io::Error::other(format!("node {target} is not a peer of this node"))))
}

impl Transport for NoPeers {
    async fn append_entries(
        &self,
        _: GroupId,
        target: NodeId,
        _: &NodeInfo,
        _: AppendEntriesRequest<TypeConfig>,
        _: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcError> {
        Err(unreachable(target))
    }

    async fn vote(
        &self,
        _: GroupId,
        target: NodeId,
        _: &NodeInfo,
        _: VoteRequest<NodeId>,
        _: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RpcError> {
        Err(unreachable(target))
    }

    async fn install_snapshot(
        &self,
        _: GroupId,
        target: NodeId,
        _: &NodeInfo,
        _: InstallSnapshotRequest<TypeConfig>,
        _: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcError<InstallSnapshotError>> {
        Err(unreachable(target))
    }
}

/// openraft's network factory for one group, over a shared transport.
pub struct Network<T> {
    transport: Arc<T>,
    group: GroupId,
}

impl<T> Network<T> {
    pub fn new(transport: Arc<T>, group: GroupId) -> Network<T> {
        Network { transport, group }
    }
}

pub struct Peer<T> {
    transport: Arc<T>,
    group: GroupId,
    target: NodeId,
    node: NodeInfo,
}

impl<T: Transport> RaftNetworkFactory<TypeConfig> for Network<T> {
    type Network = Peer<T>;

    async fn new_client(&mut self, target: NodeId, node: &NodeInfo) -> Peer<T> {
        Peer { transport: self.transport.clone(), group: self.group, target, node: node.clone() }
    }
}

impl<T: Transport> RaftNetwork<TypeConfig> for Peer<T> {
    async fn append_entries(
        &mut self,
        request: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcError> {
        self.transport.append_entries(self.group, self.target, &self.node, request, option).await
    }

    async fn install_snapshot(
        &mut self,
        request: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcError<InstallSnapshotError>> {
        self.transport.install_snapshot(self.group, self.target, &self.node, request, option).await
    }

    async fn vote(
        &mut self,
        request: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RpcError> {
        self.transport.vote(self.group, self.target, &self.node, request, option).await
    }
}
