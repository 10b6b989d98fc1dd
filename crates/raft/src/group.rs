//! One running Raft group on this node.
//!
//! openraft appends and fsyncs each `client_write` on its own, one at a time, so writes are
//! batched here: a proposer keeps one batch in flight and gathers every request that arrived
//! while it was being committed into the next log entry (group commit). Reads that need
//! linearizability share read barriers the same way: one `ensure_linearizable` round serves
//! every read that was waiting when it started.

use crate::election::{answer_pre_vote, Elections, LeaderContact};
use crate::lease::Lease;
use crate::log_store::{LogStore, NodeLog, PurgeGate};
use crate::network::{Network, RaftRequest, RaftResponse, Rpc};
use crate::state_machine::{Applied, MachineKind, StateMachineStore};
use crate::types::{NodeInfo, Raft};
use concord_core::request::{Batch, Request};
use concord_core::types::{Clock, GroupId, NodeId, TimeMs};
use concord_core::Reply;
use concord_storage::SnapshotStore;
use openraft::error::{CheckIsLeaderError, ClientWriteError, RaftError};
use openraft::ChangeMembers;
use openraft::{Config, RaftMetrics, ServerState, SnapshotPolicy};
use parking_lot::RwLock;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

#[derive(Clone, Debug)]
pub struct GroupOptions {
    pub heartbeat_interval_ms: u64,
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
    /// Build a snapshot once this many entries were applied since the last one.
    pub snapshot_after_entries: u64,
    /// Entries kept in the log behind a snapshot, so slightly lagging followers need no snapshot.
    pub entries_kept_after_snapshot: u64,
    /// Requests waiting to be proposed before proposers wait.
    pub proposal_queue_max: usize,
    /// Requests in one log entry.
    pub batch_requests_max: usize,
    /// Argument bytes in one log entry.
    pub batch_bytes_max: usize,
    /// How long a batch may wait for the connections it expects (see [`gather`]); zero
    /// proposes whatever is queued at once. Tokio's timers round a wait that runs out up to
    /// the next millisecond; most waits end sooner, when the clients come.
    pub batch_linger_us: u64,
    /// How long a write may wait for its entry to be applied before its outcome is reported
    /// as unknown.
    pub write_timeout_ms: u64,
    /// How long a read may wait for a read barrier.
    pub read_timeout_ms: u64,
    /// Seeds the election timeouts (a simulation passes its own).
    pub election_seed: u64,
    /// Do blocking file work (snapshot saves) in place rather than on a blocking thread: a
    /// simulation runs everything on one thread.
    pub io_inline: bool,
}

impl GroupOptions {
    /// How long a voter must have heard nothing from a leader before it helps elect another:
    /// the election timeout less a heartbeat, so followers that lost the leader at slightly
    /// different moments still agree.
    pub fn lease_ms(&self) -> u64 {
        self.election_timeout_min_ms.saturating_sub(self.heartbeat_interval_ms).max(self.heartbeat_interval_ms + 1)
    }
}

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions {
            heartbeat_interval_ms: 100,
            election_timeout_min_ms: 300,
            election_timeout_max_ms: 600,
            snapshot_after_entries: 20_000,
            entries_kept_after_snapshot: 1_000,
            proposal_queue_max: 65_536,
            batch_requests_max: 4_096,
            batch_bytes_max: 8 * 1024 * 1024,
            batch_linger_us: 200,
            write_timeout_ms: 10_000,
            read_timeout_ms: 10_000,
            election_seed: 0,
            io_inline: false,
        }
    }
}

/// Why a write failed, and whether it may have happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// This node is not the leader; the write was not proposed. Retrying elsewhere is safe.
    NotLeader { leader: Option<(NodeId, NodeInfo)> },
    /// This node leads but has not heard from a majority lately (it may be cut off); the write
    /// was not proposed.
    NoQuorum,
    /// The write was proposed but its fate is unknown (leadership lost, timeout): it may or may
    /// not have been applied.
    Unknown(String),
    /// The group has stopped; the write was not proposed.
    Stopped,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    NotLeader {
        leader: Option<(NodeId, NodeInfo)>,
    },
    /// The leader could not confirm its leadership with a quorum in time.
    NoQuorum(String),
    Stopped,
}

/// Requests submitted together (a connection's pipelined writes) and where their replies go.
struct Proposal {
    requests: Vec<Request>,
    replies: oneshot::Sender<Result<Vec<Reply>, WriteError>>,
}

type Waiter = oneshot::Sender<Result<(), ReadError>>;

/// Batches this node stamped with its clock and handed to openraft, until they are applied (or
/// failed). A read must not run at a later time than such a batch's stamp while the batch is
/// pending, if some key expires in between: the read would find it gone and the batch, applied
/// after the read, would find it alive. See [`Group::in_flight`].
#[derive(Default)]
struct InFlight {
    stamps: parking_lot::Mutex<BTreeMap<u64, TimeMs>>,
    next_seq: std::sync::atomic::AtomicU64,
    settled: tokio::sync::Notify,
}

impl InFlight {
    fn stamp(&self, time_ms: TimeMs) -> u64 {
        let seq = self.next_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.stamps.lock().insert(seq, time_ms);
        seq
    }

    fn settle(&self, seq: u64) {
        self.stamps.lock().remove(&seq);
        self.settled.notify_waiters();
    }
}

/// A leadership hand-over in progress (see [`Group::hand_over`]).
#[derive(Default)]
struct Handover {
    /// New batches wait and leases serve no reads.
    active: std::sync::atomic::AtomicBool,
    /// No appends leave, so the followers' leases run out.
    silenced: Arc<std::sync::atomic::AtomicBool>,
    ended: tokio::sync::Notify,
    /// Hand-overs begun so far: a read barrier that overlapped one may have failed only
    /// because appends were held back.
    begun: std::sync::atomic::AtomicU64,
}

impl Handover {
    fn is_active(&self) -> bool {
        self.active.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Waits while a hand-over is in progress.
    async fn wait(&self) {
        loop {
            let ended = self.ended.notified();
            if !self.is_active() {
                return;
            }
            ended.await;
        }
    }

    fn end(&self) {
        self.silenced.store(false, std::sync::atomic::Ordering::Release);
        self.active.store(false, std::sync::atomic::Ordering::Release);
        self.ended.notify_waiters();
    }
}

pub struct Group {
    pub id: GroupId,
    pub node_id: NodeId,
    pub kind: MachineKind,
    raft: Raft,
    log: Arc<NodeLog>,
    contact: Arc<LeaderContact>,
    lease: Arc<Lease>,
    lease_ms: u64,
    applied: Arc<RwLock<Applied>>,
    proposals: mpsc::Sender<Proposal>,
    barriers: mpsc::UnboundedSender<Waiter>,
    in_flight: Arc<InFlight>,
    /// The applier's store, for its hooks.
    store: StateMachineStore,
    applied_index: tokio::sync::watch::Receiver<u64>,
    handover: Arc<Handover>,
    rpc: Arc<dyn HandoverRpc>,
    options: GroupOptions,
}

/// How a hand-over reaches its target (the group's [`Rpc`], without its type).
trait HandoverRpc: Send + Sync {
    fn timeout_now(
        &self,
        target: NodeId,
        node: NodeInfo,
        group: GroupId,
        deadline: Duration,
    ) -> futures::future::BoxFuture<'static, bool>;
}

struct RpcOf<T>(Arc<T>);

impl<T: Rpc> HandoverRpc for RpcOf<T> {
    fn timeout_now(
        &self,
        target: NodeId,
        node: NodeInfo,
        group: GroupId,
        deadline: Duration,
    ) -> futures::future::BoxFuture<'static, bool> {
        let rpc = self.0.clone();
        Box::pin(async move {
            let request = postcard::to_stdvec(&RaftRequest::TimeoutNow).expect("raft requests encode");
            match rpc.call(target, &node, group, request, deadline).await {
                Ok(answer) => matches!(postcard::from_bytes(&answer), Ok(RaftResponse::TimeoutNow(true))),
                Err(_) => false,
            }
        })
    }
}

impl Group {
    /// Starts the group on this node from what its log and snapshots hold.
    #[allow(clippy::too_many_arguments)]
    pub async fn start<T: Rpc>(
        runtime: &tokio::runtime::Handle,
        id: GroupId,
        kind: MachineKind,
        node_id: NodeId,
        log: Arc<NodeLog>,
        snapshots: Arc<SnapshotStore>,
        rpc: Arc<T>,
        clock: Arc<dyn Clock>,
        options: GroupOptions,
    ) -> Result<Group, StartError> {
        let lease_ms = options.lease_ms();
        let config = Config {
            cluster_name: format!("concord-{id}"),
            heartbeat_interval: options.heartbeat_interval_ms,
            // Elections are started by our driver (see `election`); openraft keeps only its
            // lease, which rejects votes while a leader was heard from recently.
            enable_elect: false,
            election_timeout_min: lease_ms,
            election_timeout_max: lease_ms + 1,
            install_snapshot_timeout: 10 * options.heartbeat_interval_ms.max(100),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(options.snapshot_after_entries),
            max_in_snapshot_log_to_keep: options.entries_kept_after_snapshot,
            purge_batch_size: 256,
            ..Config::default()
        }
        .validate()
        .map_err(|e| StartError(format!("invalid raft configuration: {e}")))?;
        let purges = PurgeGate::new(log.clone(), id);
        let state_machine = StateMachineStore::open(id, kind, snapshots, purges.clone(), options.io_inline)
            .map_err(|e| StartError(e.to_string()))?;
        let applied = state_machine.applied();
        let store = state_machine.clone();
        let applied_index = state_machine.watch_applied();
        let log_store = LogStore::new(log.clone(), id, purges);
        // openraft spawns its tasks on the runtime it is created in: the consensus runtime.
        let lease = Arc::new(Lease::default());
        let handover = Arc::new(Handover::default());
        let network = Network::new(rpc.clone(), id, lease.clone(), handover.silenced.clone());
        let raft = runtime
            .spawn(async move { Raft::new(node_id, Arc::new(config), network, log_store, state_machine).await })
            .await
            .map_err(|e| StartError(format!("raft group {id} failed to start: {e}")))?
            .map_err(|e| StartError(format!("raft group {id} failed to start: {e}")))?;
        let (proposals, proposal_queue) = mpsc::channel(options.proposal_queue_max);
        let (barriers, barrier_queue) = mpsc::unbounded_channel();
        let in_flight = Arc::new(InFlight::default());
        let proposer =
            Proposer { raft: raft.clone(), node_id, clock, in_flight: in_flight.clone(), handover: handover.clone() };
        runtime.spawn(proposer.run(proposal_queue, options.clone()));
        let read_timeout = Duration::from_millis(options.read_timeout_ms);
        runtime.spawn(run_read_barriers(raft.clone(), barrier_queue, read_timeout, handover.clone()));
        let contact = Arc::new(LeaderContact::new());
        let elections = Elections {
            raft: raft.clone(),
            rpc: rpc.clone(),
            log: log.clone(),
            contact: contact.clone(),
            group: id,
            node: node_id,
            timeout_min_ms: options.election_timeout_min_ms,
            timeout_max_ms: options.election_timeout_max_ms,
            lease_ms,
            seed: options.election_seed ^ node_id.0 as u64,
        };
        runtime.spawn(elections.run());
        Ok(Group {
            id,
            node_id,
            kind,
            raft,
            log,
            contact,
            lease,
            lease_ms,
            applied,
            proposals,
            barriers,
            in_flight,
            applied_index,
            handover,
            rpc: Arc::new(RpcOf(rpc)),
            options,
            store,
        })
    }

    /// Sets who is told, on this replica, of the blocked clients each applied entry served.
    pub fn on_served(&self, hook: crate::state_machine::ServedHook) {
        self.store.on_served(hook);
    }

    /// Sets who raises, on this replica, the keyspace notifications of applied entries.
    pub fn on_notify(&self, hook: Box<dyn crate::state_machine::NotifyHook>) {
        self.store.on_notify(hook);
    }

    /// The last log index applied here, as it changes.
    pub fn watch_applied(&self) -> tokio::sync::watch::Receiver<u64> {
        self.applied_index.clone()
    }

    /// Hands this node's leadership over to `to`, a voter that holds the whole log, for
    /// spreading leaders over the nodes. Safe by construction, and cheap for clients: new
    /// batches wait (and lease reads stop) until the batches in flight are applied; then no
    /// appends leave for an election lease, so the followers stop supporting this leader;
    /// then `to` is told to campaign, and wins unless someone else does first. The waiting
    /// batches then go to whoever leads. Returns whether `to` leads afterwards.
    pub async fn hand_over(&self, to: NodeId) -> bool {
        let members = self.members();
        let Some(target) = members.iter().find(|m| m.id == to && m.voter).cloned() else { return false };
        if !self.is_leader() || to == self.node_id || !self.holds_whole_log(to) {
            return false;
        }
        // Only a group whose every voter answers: handing over into a partition, or to a node
        // that cannot reach the others, would silence writes for nothing, or for long.
        let term = self.metrics().current_term;
        let now = tokio::time::Instant::now();
        let recently = now.checked_sub(Duration::from_millis(3 * self.options.heartbeat_interval_ms)).unwrap_or(now);
        let all_answer = members
            .iter()
            .filter(|member| member.voter && member.id != self.node_id)
            .all(|member| self.lease.acknowledged_since(member.id, term, recently));
        if !all_answer {
            return false;
        }
        self.handover.begun.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.handover.active.store(true, std::sync::atomic::Ordering::Release);
        let write_timeout = Duration::from_millis(self.options.write_timeout_ms);
        if let Some((_, newest)) = self.in_flight() {
            let _ = tokio::time::timeout(write_timeout, self.settle(newest)).await;
        }
        let led = if self.is_leader() && self.holds_whole_log(to) {
            self.handover.silenced.store(true, std::sync::atomic::Ordering::Release);
            // openraft's vote lease on the followers is the election timeout's maximum as
            // configured in `start` (lease + 1 ms); a heartbeat more covers the last append.
            let quiet = Duration::from_millis(self.lease_ms + 1 + self.options.heartbeat_interval_ms);
            tokio::time::sleep(quiet).await;
            let deadline = Duration::from_millis(self.lease_ms);
            if self.rpc.timeout_now(to, target.info, self.id, deadline).await {
                // The heir campaigns at once; an election takes a round trip or two.
                let wait = Duration::from_millis(self.options.election_timeout_max_ms);
                let _ = tokio::time::timeout(wait, self.leader_moved_from(self.node_id)).await;
            }
            self.leader().is_some_and(|(leader, _)| leader == to)
        } else {
            false
        };
        self.handover.end();
        if !led && !self.is_leader() && self.leader().is_none() {
            // The heir could not win (it cannot reach a majority: a partial partition) and its
            // campaign unseated this node. This node holds the whole log and its voters heard
            // it last: it campaigns now rather than leave the shard without a leader for an
            // election timeout.
            tracing::info!(group = %self.id, heir = %to, "hand-over failed; campaigning again");
            let _ = self.raft.trigger().elect().await;
        }
        led
    }

    /// On the leader: whether `member`'s log matches the leader's to the end.
    fn holds_whole_log(&self, member: NodeId) -> bool {
        self.caught_up(member, 0)
    }

    /// On the leader: whether `member` acknowledged the log up to at most `entries_behind` of
    /// its end. A member that never acknowledged an entry (it may not host the group at all
    /// yet) is never caught up, however short the log.
    pub fn caught_up(&self, member: NodeId, entries_behind: u64) -> bool {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let last = metrics.last_log_index.unwrap_or(0);
        let matched = metrics.replication.as_ref().and_then(|progress| progress.get(&member).copied().flatten());
        matched.is_some_and(|log| log.index + entries_behind >= last)
    }

    /// Makes this node the single voter of a new group. Harmless if the group already exists.
    pub async fn bootstrap(&self, info: NodeInfo) -> Result<(), StartError> {
        let members = BTreeMap::from([(self.node_id, info)]);
        match self.raft.initialize(members).await {
            Ok(()) => Ok(()),
            Err(RaftError::APIError(openraft::error::InitializeError::NotAllowed(_))) => Ok(()),
            Err(error) => Err(StartError(format!("cannot bootstrap group {}: {error}", self.id))),
        }
    }

    /// Waits until some node leads the group, up to `timeout`.
    pub async fn wait_for_leader(&self, timeout: Duration) -> bool {
        self.raft.wait(Some(timeout)).metrics(|m| m.current_leader.is_some(), "a leader").await.is_ok()
    }

    /// Proposes a request; its reply comes from applying it.
    pub async fn propose(&self, request: Request) -> Result<Reply, WriteError> {
        let mut replies = self.submit(vec![request]).await?.await?;
        Ok(replies.pop().expect("one reply per request"))
    }

    /// Queues requests for proposal, in order and in the same log entry, and returns the future
    /// of their replies. Requests submitted one after another (each awaited) enter the log in
    /// that order, so a connection can pipeline writes and still keep their order.
    pub async fn submit(
        &self,
        requests: Vec<Request>,
    ) -> Result<impl std::future::Future<Output = Result<Vec<Reply>, WriteError>> + Send + 'static, WriteError> {
        let (replies, receiver) = oneshot::channel();
        self.proposals.send(Proposal { requests, replies }).await.map_err(|_| WriteError::Stopped)?;
        Ok(async move { receiver.await.unwrap_or(Err(WriteError::Stopped)) })
    }

    /// Requests a read barrier now and returns the future of its outcome: it resolves once
    /// this node may serve a linearizable read from its state (it is the leader, a quorum
    /// confirmed that after the request, and it has applied everything committed).
    pub fn request_read_barrier(&self) -> impl std::future::Future<Output = Result<(), ReadError>> + Send + 'static {
        // During a hand-over no quorum can confirm this leader (its appends are held back):
        // the read waits it out and is then sent wherever leadership went.
        let handover = self.handover.clone();
        let handing_over = handover.is_active();
        let sole = !handing_over && self.reads_locally();
        let (waiter, receiver) = oneshot::channel();
        let sent = !handing_over && !sole && self.barriers.send(waiter).is_ok();
        async move {
            if handing_over {
                handover.wait().await;
                return Err(ReadError::NotLeader { leader: None });
            }
            match (sole, sent) {
                (true, _) => Ok(()),
                (false, true) => receiver.await.unwrap_or(Err(ReadError::Stopped)),
                (false, false) => Err(ReadError::Stopped),
            }
        }
    }

    /// The oldest stamp among this node's batches not yet applied, and the newest batch's
    /// sequence number (to wait for with [`Group::settle`]); none if nothing is in flight.
    pub fn in_flight(&self) -> Option<(TimeMs, u64)> {
        let stamps = self.in_flight.stamps.lock();
        let oldest = stamps.values().min().copied()?;
        Some((oldest, *stamps.keys().next_back().expect("not empty")))
    }

    /// Waits until every batch up to `seq` is applied or failed.
    pub async fn settle(&self, seq: u64) {
        loop {
            let settled = self.in_flight.settled.notified();
            if self.in_flight.stamps.lock().first_key_value().is_none_or(|(first, _)| *first > seq) {
                return;
            }
            settled.await;
        }
    }

    /// Reads the applied state under its lock.
    pub fn read<R>(&self, read: impl FnOnce(&Applied) -> R) -> R {
        read(&self.applied.read())
    }

    pub fn metrics(&self) -> RaftMetrics<NodeId, NodeInfo> {
        self.raft.metrics().borrow().clone()
    }

    /// Whether this node may serve a linearizable read from its state right now without a
    /// round of messages: it is the only voter, or it leads under a valid lease (see
    /// [`crate::lease`]) and has applied an entry of its own term (so everything committed
    /// before it took over is applied here too).
    pub fn reads_locally(&self) -> bool {
        if self.is_sole_voting_leader() {
            return true;
        }
        if self.handover.is_active() {
            return false;
        }
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        if metrics.state != ServerState::Leader
            || metrics.last_applied.map(|id| id.leader_id.term) != Some(metrics.current_term)
        {
            return false;
        }
        let configs = metrics.membership_config.membership().get_joint_config().clone();
        let until = self.lease.valid_until(self.node_id, metrics.current_term, &configs, self.lease_ms);
        until.is_some_and(|until| tokio::time::Instant::now() < until)
    }

    /// Whether this node leads a group in which it is the only voter, in the newest membership
    /// (committed or not). Then no other node can become leader without its vote, and every
    /// acknowledged write is already applied here (writes are acknowledged after applying), so
    /// its applied state is linearizable as it stands: reads need no quorum round.
    pub fn is_sole_voting_leader(&self) -> bool {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        // Checked per read: look at each config in place rather than build their union.
        let configs = metrics.membership_config.membership().get_joint_config();
        metrics.state == ServerState::Leader
            && configs.iter().any(|voters| !voters.is_empty())
            && configs.iter().all(|voters| voters.iter().all(|id| *id == self.node_id))
    }

    /// Serves a Raft message from another member.
    pub async fn serve(&self, payload: &[u8]) -> Result<Vec<u8>, String> {
        let request: RaftRequest =
            postcard::from_bytes(payload).map_err(|e| format!("undecodable raft message: {e}"))?;
        let response = match request {
            RaftRequest::AppendEntries(request) => {
                let result = self.raft.append_entries(request).await;
                // Heartbeats and entries from a leader this node accepts keep it from electing.
                if result.as_ref().is_ok_and(|r| !matches!(r, openraft::raft::AppendEntriesResponse::HigherVote(_))) {
                    self.contact.leader_heard();
                }
                RaftResponse::AppendEntries(result)
            }
            RaftRequest::Vote(request) => {
                let result = self.raft.vote(request).await;
                if result.as_ref().is_ok_and(|r| r.vote_granted) {
                    self.contact.touch();
                }
                RaftResponse::Vote(result)
            }
            RaftRequest::InstallSnapshot(request) => {
                let result = self.raft.install_snapshot(request).await;
                if result.is_ok() {
                    self.contact.leader_heard();
                }
                RaftResponse::InstallSnapshot(result)
            }
            RaftRequest::TimeoutNow => {
                // Our leader stopped supporting itself for a lease: campaign at once.
                RaftResponse::TimeoutNow(self.raft.trigger().elect().await.is_ok())
            }
            RaftRequest::PreVote { last_log_id } => RaftResponse::PreVote(answer_pre_vote(
                &self.raft,
                &self.log,
                self.id,
                &self.contact,
                self.lease_ms,
                last_log_id,
            )),
        };
        Ok(postcard::to_stdvec(&response).expect("raft responses encode"))
    }

    /// Whether this node holds any log or vote yet (a fresh node waiting to join holds none).
    pub async fn is_initialized(&self) -> bool {
        self.raft.is_initialized().await.unwrap_or(true)
    }

    /// The current leader, as this node knows it.
    pub fn leader(&self) -> Option<(NodeId, NodeInfo)> {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let leader = metrics.current_leader?;
        Some((leader, metrics.membership_config.membership().get_node(&leader)?.clone()))
    }

    /// Resolves once this node knows of a leader other than `leader` (it never resolves while
    /// `leader` leads, or while no leader is known).
    pub async fn leader_moved_from(&self, leader: NodeId) {
        // The server metrics change with the vote, role, leader or membership only, not with
        // every entry appended or applied: a forwarded write waiting here is not woken per entry.
        let mut metrics = self.raft.server_metrics();
        loop {
            if metrics.borrow().current_leader.is_some_and(|now| now != leader) {
                return;
            }
            if metrics.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Every member of the newest membership, voters first.
    pub fn members(&self) -> Vec<Member> {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let membership = metrics.membership_config.membership();
        let voters: std::collections::BTreeSet<NodeId> = membership.voter_ids().collect();
        let mut members: Vec<Member> = membership
            .nodes()
            .map(|(id, info)| Member { id: *id, info: info.clone(), voter: voters.contains(id) })
            .collect();
        members.sort_by_key(|m| (!m.voter, m.id));
        members
    }

    /// On the leader: how far each member's log matches the leader's (by index).
    pub fn replication(&self) -> BTreeMap<NodeId, u64> {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        metrics
            .replication
            .as_ref()
            .map(|progress| progress.iter().map(|(id, matched)| (*id, matched.map_or(0, |log| log.index))).collect())
            .unwrap_or_default()
    }

    /// Adds a non-voting learner; replication to it starts at once.
    pub async fn add_learner(&self, id: NodeId, info: NodeInfo) -> Result<(), MembershipError> {
        self.raft.add_learner(id, info, false).await.map(drop).map_err(membership_error)
    }

    /// Turns a learner into a voter (joint consensus).
    pub async fn promote(&self, id: NodeId) -> Result<(), MembershipError> {
        self.change(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false).await
    }

    /// Turns a voter into a learner (joint consensus).
    pub async fn demote(&self, id: NodeId) -> Result<(), MembershipError> {
        self.change(ChangeMembers::RemoveVoters(BTreeSet::from([id])), true).await
    }

    /// Removes a member, voter or learner.
    pub async fn forget(&self, id: NodeId) -> Result<(), MembershipError> {
        if self.members().iter().any(|m| m.id == id && m.voter) {
            self.change(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false).await
        } else {
            self.change(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false).await
        }
    }

    async fn change(&self, change: ChangeMembers<NodeId, NodeInfo>, retain: bool) -> Result<(), MembershipError> {
        self.raft.change_membership(change, retain).await.map(drop).map_err(membership_error)
    }

    /// Whether this replica accepted a leader's entries (a heartbeat at least) within two
    /// election timeouts: a leader keeps talking to its members, and stops talking to one it
    /// removed. (The leader a restarted replica's stored vote names is no proof of either.)
    /// Two timeouts, so that a heartbeat late on a loaded machine does not count as silence.
    pub fn heard_from_leader_lately(&self) -> bool {
        let within_ms = 2 * self.options.election_timeout_max_ms;
        self.contact.leader_silence_ms().is_some_and(|ms| ms <= within_ms)
    }

    pub fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().state == ServerState::Leader
    }

    pub async fn shutdown(&self) {
        if let Err(error) = self.raft.shutdown().await {
            tracing::warn!(group = %self.id, %error, "raft shutdown");
        }
    }
}

fn leader_of(forward: openraft::error::ForwardToLeader<NodeId, NodeInfo>) -> Option<(NodeId, NodeInfo)> {
    Some((forward.leader_id?, forward.leader_node?))
}

/// Gathers queued proposals into batches, one log entry each, with one batch in flight.
///
/// The next batch is proposed when the previous one has been committed and applied (or has
/// failed): everything that arrived meanwhile goes into it. Proposing as soon as the leader's
/// own fsync ended instead splits the clients into batches that take turns: more fsyncs and
/// more per-batch work for the same writes, and with followers each write still waits for two
/// fsyncs in a row (the leader's, then a follower's: openraft replicates an entry once it is
/// durable locally). Measured with 50 clients on 3 local nodes: ~14 writes per fsync and
/// 11-15k SET/s before, ~46 and 15-20k/s after, with a fifth less CPU per write on the leader.
struct Proposer {
    raft: Raft,
    node_id: NodeId,
    clock: Arc<dyn Clock>,
    in_flight: Arc<InFlight>,
    handover: Arc<Handover>,
}

impl Proposer {
    async fn run(self, mut queue: mpsc::Receiver<Proposal>, options: GroupOptions) {
        let Proposer { raft, node_id, clock, in_flight, handover } = self;
        // Stamps only grow, even if the clock steps back.
        let mut last_stamp_ms: TimeMs = 0;
        let write_timeout = Duration::from_millis(options.write_timeout_ms);
        // Heartbeats reach followers every `heartbeat_interval`; silence for a whole election
        // timeout means the majority is gone (or has elected someone else).
        let quorum_silence_ms = options.election_timeout_max_ms;
        let mut expected_proposals = 0;
        while let Some(first) = queue.recv().await {
            // During a hand-over nothing new is proposed; afterwards the refusal below sends
            // the writes to whoever leads.
            handover.wait().await;
            let (proposals, count) = gather(&mut queue, first, expected_proposals, &options).await;
            expected_proposals = proposals.len();
            let mut requests = Vec::with_capacity(count);
            let mut replies = Vec::with_capacity(proposals.len());
            for proposal in proposals {
                replies.push((proposal.requests.len(), proposal.replies));
                requests.extend(proposal.requests);
            }
            // Refuse before proposing when another node leads: then the refusal is definite.
            let metrics = raft.metrics().borrow().clone();
            // A leader cut off from the majority cannot commit: refuse now (definitely not
            // applied) instead of letting writes wait out their timeout.
            if metrics.state == ServerState::Leader
                && metrics.millis_since_quorum_ack.is_some_and(|ms| ms > quorum_silence_ms)
            {
                for (_, reply) in replies {
                    let _ = reply.send(Err(WriteError::NoQuorum));
                }
                continue;
            }
            if metrics.state != ServerState::Leader || metrics.current_leader != Some(node_id) {
                let leader = metrics
                    .current_leader
                    .and_then(|id| metrics.membership_config.membership().get_node(&id).map(|node| (id, node.clone())));
                for (_, reply) in replies {
                    let _ = reply.send(Err(WriteError::NotLeader { leader: leader.clone() }));
                }
                continue;
            }
            last_stamp_ms = last_stamp_ms.max(clock.now_ms());
            let batch = Batch { time_ms: last_stamp_ms, requests };
            let seq = in_flight.stamp(batch.time_ms);
            let outcome = match tokio::time::timeout(write_timeout, raft.client_write(batch)).await {
                Ok(Ok(response)) => Ok(response.data.replies),
                Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(forward)))) => {
                    Err(WriteError::Unknown(format!(
                        "leadership moved to {:?} while the write was in flight",
                        forward.leader_id.map(|id| id.to_string())
                    )))
                }
                Ok(Err(error)) => Err(WriteError::Unknown(error.to_string())),
                Err(_) => Err(WriteError::Unknown("timed out waiting for the write to commit".into())),
            };
            in_flight.settle(seq);
            // Proposals queued while this batch was in flight came from other clients than its
            // own, which come back once answered: wait for both.
            expected_proposals += queue.len();
            match outcome {
                Ok(results) => {
                    assert_eq!(results.len(), replies.iter().map(|(n, _)| n).sum::<usize>(), "one reply per request");
                    let mut results = results.into_iter();
                    for (count, reply) in replies {
                        let _ = reply.send(Ok(results.by_ref().take(count).collect()));
                    }
                }
                Err(error) => {
                    for (_, reply) in replies {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}

/// Takes the next batch of proposals from the queue, starting with `first`, within the batch
/// limits.
///
/// Clients answered from the last batch send their next requests a moment after their
/// replies: waiting up to `batch_linger_us` for as many proposals as are expected (`wanted`:
/// that batch's, plus those that queued while it was in flight) gathers every client into each
/// batch, instead of groups taking turns with part-full batches (more fsyncs and per-batch
/// work per write). Returns the proposals and their number of requests.
async fn gather(
    queue: &mut mpsc::Receiver<Proposal>,
    first: Proposal,
    wanted: usize,
    options: &GroupOptions,
) -> (Vec<Proposal>, usize) {
    let linger = Duration::from_micros(options.batch_linger_us);
    let size = |proposal: &Proposal| proposal.requests.iter().map(Request::size_bytes).sum::<usize>();
    let (mut count, mut bytes) = (first.requests.len(), size(&first));
    let mut proposals = vec![first];
    // One timer for the whole linger: registering a timer wakes the runtime's driver (a
    // syscall), so a fresh one per awaited proposal cost a wake-up each.
    let linger_end = tokio::time::sleep(linger);
    tokio::pin!(linger_end);
    while count < options.batch_requests_max && bytes < options.batch_bytes_max {
        let next = match queue.try_recv() {
            Ok(proposal) => Some(proposal),
            Err(_) if proposals.len() < wanted && !linger.is_zero() => tokio::select! {
                proposal = queue.recv() => proposal,
                _ = &mut linger_end => None,
            },
            Err(_) => None,
        };
        let Some(proposal) = next else { break };
        count += proposal.requests.len();
        bytes += size(&proposal);
        proposals.push(proposal);
    }
    (proposals, count)
}

/// Serves read barriers in rounds: every waiter queued when a round starts shares it.
async fn run_read_barriers(
    raft: Raft,
    mut queue: mpsc::UnboundedReceiver<Waiter>,
    timeout: Duration,
    handover: Arc<Handover>,
) {
    let handovers = || handover.begun.load(std::sync::atomic::Ordering::Acquire);
    while let Some(first) = queue.recv().await {
        let mut waiters = vec![first];
        while let Ok(waiter) = queue.try_recv() {
            waiters.push(waiter);
        }
        let before = handovers();
        let result = match tokio::time::timeout(timeout, raft.ensure_linearizable()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(forward)))) => {
                Err(ReadError::NotLeader { leader: leader_of(forward) })
            }
            Ok(Err(RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(error)))) => {
                Err(ReadError::NoQuorum(error.to_string()))
            }
            Ok(Err(RaftError::Fatal(error))) => Err(ReadError::NoQuorum(error.to_string())),
            Err(_) => Err(ReadError::NoQuorum("timed out confirming leadership".into())),
        };
        // A round that a hand-over overlapped failed for want of appends, not of a quorum:
        // leadership is moving, and the reads follow it.
        let result = match result {
            Err(ReadError::NoQuorum(_)) if handover.is_active() || handovers() != before => {
                Err(ReadError::NotLeader { leader: None })
            }
            other => other,
        };
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
    }
}

/// A member of a group.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    pub id: NodeId,
    pub info: NodeInfo,
    pub voter: bool,
}

/// Why a membership change failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipError {
    NotLeader {
        leader: Option<(NodeId, NodeInfo)>,
    },
    /// Refused without changing anything (another change in progress, unknown learner, ...).
    Refused(String),
}

fn membership_error(error: RaftError<NodeId, ClientWriteError<NodeId, NodeInfo>>) -> MembershipError {
    match error {
        RaftError::APIError(ClientWriteError::ForwardToLeader(forward)) => {
            MembershipError::NotLeader { leader: leader_of(forward) }
        }
        RaftError::APIError(ClientWriteError::ChangeMembershipError(error)) => {
            MembershipError::Refused(error.to_string())
        }
        RaftError::Fatal(error) => MembershipError::Refused(error.to_string()),
    }
}

/// Why a group could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(requests: usize) -> Proposal {
        let request = Request::Command { db: 0, argv: vec!["SET".into(), "k".into(), "v".into()] };
        Proposal { requests: vec![request; requests], replies: oneshot::channel().0 }
    }

    /// Sends `count` one-request proposals, `gap` apart, starting `gap` from now.
    fn trickle(sender: mpsc::Sender<Proposal>, count: usize, gap: Duration) {
        tokio::spawn(async move {
            for _ in 0..count {
                tokio::time::sleep(gap).await;
                sender.send(proposal(1)).await.unwrap();
            }
        });
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_waits_briefly_for_the_connections_it_expects() {
        // Tokio's timers tick in milliseconds.
        let linger = Duration::from_millis(10);
        let options = GroupOptions { batch_linger_us: linger.as_micros() as u64, ..GroupOptions::default() };
        let gap = Duration::from_millis(2);
        let (sender, mut queue) = mpsc::channel(64);
        trickle(sender.clone(), 3, gap);
        let (proposals, count) = gather(&mut queue, proposal(2), 4, &options).await;
        assert_eq!((proposals.len(), count), (4, 5), "the three stragglers join the batch");

        // Only two more come: the batch leaves when the linger is over, not later.
        trickle(sender.clone(), 2, gap);
        let started = tokio::time::Instant::now();
        let (proposals, _) = gather(&mut queue, proposal(1), 4, &options).await;
        assert_eq!(proposals.len(), 3);
        assert_eq!(started.elapsed(), linger);

        // One connection expected: nothing to wait for.
        trickle(sender.clone(), 1, gap);
        let (proposals, _) = gather(&mut queue, proposal(1), 1, &options).await;
        assert_eq!(proposals.len(), 1);
        assert_eq!(queue.recv().await.map(|p| p.requests.len()), Some(1), "left for the next batch");

        // No linger: whatever is queued, at once.
        trickle(sender, 1, gap);
        let no_linger = GroupOptions { batch_linger_us: 0, ..options };
        let (proposals, _) = gather(&mut queue, proposal(1), 4, &no_linger).await;
        assert_eq!(proposals.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_stops_at_its_request_limit() {
        let options = GroupOptions { batch_requests_max: 10, ..GroupOptions::default() };
        let (sender, mut queue) = mpsc::channel(64);
        for _ in 0..4 {
            sender.send(proposal(4)).await.unwrap();
        }
        let (proposals, count) = gather(&mut queue, proposal(4), 8, &options).await;
        assert_eq!((proposals.len(), count), (3, 12), "stops once past the limit");
    }
}
