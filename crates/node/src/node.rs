//! The node: its data directory, its Raft group, its peers, and the operations client
//! sessions need — writes through the log, linearizable (or, on request, stale) reads,
//! transactions, WATCH — served here when this node leads, or forwarded to the leader (proxy
//! routing) or redirected to it (`-MOVED`, redirect routing) when it does not. Plus the
//! leader's expiry sweep.

use crate::blocked::{self, BlockedClients};
use crate::clients::ClientRegistry;
use crate::config::{Params, Routing, ServerConfig};
use crate::data_dir::DataDir;
use crate::env::Env;
use crate::peers::{Forward, Forwarded, PeerHandler, PeerRpc, WriteFailure, SERVICE_FORWARD};
use bytes::Bytes;
use concord_core::command::ReadCtx;
use concord_core::commands::cluster::ClusterOp;
use concord_core::commands::{self, KeyspaceOp, ReadOp};
use concord_core::keyspace::WatchStamp;
use concord_core::limits::EXPIRE_BATCH_KEYS_MAX;
use concord_core::request::Request;
use concord_core::rng::Rng;
use concord_core::session::ExecPlan;
use concord_core::types::{Clock, DbIndex, GroupId, NodeId, TimeMs};
use concord_core::{Error, Reply};
use concord_raft::log_store::NodeLog;
use concord_raft::runtime::ConsensusRuntime;
use concord_raft::state_machine::Applied;
use concord_raft::{Group, NodeInfo, ReadError, WriteError};
use concord_storage::{LogOptions, SnapshotStore};
use concord_transport::{CallError, Network, NetworkOptions};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often the leader looks for keys past their time.
const EXPIRE_SWEEP_INTERVAL_MS: u64 = 100;
/// Sweep proposals per round at most, so a burst of expiries cannot crowd out clients.
const EXPIRE_SWEEP_PROPOSALS_MAX: usize = 16;
/// How long a request waits for a leader (an election) before it is refused as retryable.
const LEADER_WAIT_MS: u64 = 2_500;
/// Pause between routing attempts while leadership settles.
const ROUTE_RETRY_MS: u64 = 50;
/// How often the leader checks whether a blocked client's time is up.
const WAITER_TICK_MS: u64 = 10;

/// Counters INFO reports.
#[derive(Debug, Default)]
pub struct Stats {
    pub commands_processed: AtomicU64,
    pub error_replies: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub forwarded: AtomicU64,
}

/// Where a request that needs the leader goes.
enum Route {
    Here,
    Leader(NodeId, NodeInfo),
    Moved(NodeInfo),
    Nowhere,
}

pub struct Node {
    pub id: NodeId,
    pub config: ServerConfig,
    pub params: Params,
    pub clients: ClientRegistry,
    pub stats: Stats,
    pub group: Group,
    pub network: Network,
    /// How other nodes and clients reach this one.
    pub info: NodeInfo,
    pub clock: Arc<dyn Clock>,
    pub env: Env,
    pub started: Instant,
    /// Seed for the per-connection generators behind RANDOMKEY and HRANDFIELD.
    pub rng_seed: u64,
    seed_draws: AtomicU64,
    /// Clients of this node blocked in BLPOP and friends.
    pub blocked: BlockedClients,
    log: Arc<NodeLog>,
    _data_dir: DataDir,
    /// Declared last: dropped after the group that runs on it.
    _consensus: ConsensusRuntime,
}

fn retryable(text: impl std::fmt::Display) -> Reply {
    Error::new(format!("TRYAGAIN {text}")).into()
}

/// The error reply for a write that failed.
pub fn write_error_reply(error: WriteError) -> Reply {
    match error {
        WriteError::NotLeader { .. } => {
            retryable("no leader for this shard right now (election in progress); the command was not applied, retry")
        }
        WriteError::NoQuorum => {
            retryable("the leader cannot reach a majority (partition?); the command was not applied, retry")
        }
        WriteError::Unknown(reason) => Error::new(format!(
            "UNKNOWN the write may or may not have been applied ({reason}); read back before retrying"
        ))
        .into(),
        WriteError::Stopped => retryable("the server is shutting down; the command was not applied"),
    }
}

pub fn read_error_reply(error: ReadError) -> Reply {
    match error {
        ReadError::NotLeader { .. } => retryable("no leader for this shard right now (election in progress); retry"),
        ReadError::NoQuorum(reason) => {
            retryable(format!("cannot confirm leadership with a majority ({reason}); retry"))
        }
        ReadError::Stopped => retryable("the server is shutting down"),
    }
}

fn moved(request_slot: u16, leader: &NodeInfo) -> Reply {
    Error::new(format!("MOVED {request_slot} {}", leader.client_addr)).into()
}

/// The slot of a command's first key (0 for keyless commands).
pub fn argv_slot(argv: &[Bytes]) -> u16 {
    argv.first()
        .and_then(|name| commands::lookup(name))
        .and_then(|entry| entry.spec.keys(argv).next())
        .map_or(0, |key| concord_core::slot::key_slot(key))
}

fn request_slot(request: &Request) -> u16 {
    match request {
        Request::Command { argv, .. } => argv_slot(argv),
        Request::Transaction { commands, .. } => commands.first().map_or(0, |(_, argv)| argv_slot(argv)),
        Request::Expire { keys, .. } => keys.first().map_or(0, |key| concord_core::slot::key_slot(key)),
        Request::Block { argv, .. } => argv_slot(argv),
        Request::Seed { .. }
        | Request::Config { .. }
        | Request::Unblock { .. }
        | Request::RenewWaiters { .. }
        | Request::Tick => 0,
    }
}

impl Node {
    /// Opens the data directory, recovers the log and snapshots, connects to peers, starts the
    /// Raft group and, on a fresh directory, bootstraps a cluster or starts joining one.
    pub async fn start(config: ServerConfig, env: Env, client_address: SocketAddr) -> Result<Arc<Node>, String> {
        let mut seeds = Rng::new(env.seed);
        let open = if env.simulated { DataDir::open_unlocked } else { DataDir::open };
        let data_dir = open(env.fs.clone(), &config.data_dir)
            .map_err(|e| format!("cannot open data directory {}: {e}", config.data_dir.display()))?;
        let id = data_dir.node_id(&mut seeds).map_err(|e| e.to_string())?;
        let (network, node_address) = Network::start(
            env.net.clone(),
            &format!("{}:{}", config.bind, config.node_port),
            id,
            NetworkOptions::default(),
        )
        .await
        .map_err(|e| format!("cannot listen for nodes on {}:{}: {e}", config.bind, config.node_port))?;
        let info = NodeInfo {
            raft_addr: format!("{}:{}", config.announce_host, node_address.port()),
            client_addr: format!("{}:{}", config.announce_host, client_address.port()),
        };
        let (fs, log_dir) = (env.fs.clone(), data_dir.log_dir());
        // Without a consensus thread, each batch is written and fsynced by the task that appends it
        // (see `ServerConfig::consensus_thread`); a simulation runs everything on one thread.
        let threads_of_their_own = config.consensus_thread && !env.simulated;
        let log_options = LogOptions { inline: !threads_of_their_own, ..LogOptions::default() };
        let log = env
            .blocking(move || concord_storage::Log::open(fs, &log_dir, log_options))
            .await
            .map_err(|e| e.to_string())?;
        let log = Arc::new(log);
        let snapshots = Arc::new(SnapshotStore::new(env.fs.clone(), &data_dir.snapshot_dir()));
        concord_raft::async_runtime::seed(seeds.next_u64());
        let consensus = if threads_of_their_own {
            ConsensusRuntime::start().map_err(|e| format!("cannot start the consensus thread: {e}"))?
        } else {
            ConsensusRuntime::current()
        };
        let rpc = Arc::new(PeerRpc { network: network.clone() });
        let group_options = concord_raft::GroupOptions {
            election_seed: seeds.next_u64(),
            io_inline: env.simulated,
            ..config.group_options()
        };
        let group = Group::start(
            consensus.handle(),
            GroupId::FIRST_SHARD,
            id,
            log.clone(),
            snapshots,
            rpc,
            env.clock.clone(),
            group_options,
        )
        .await
        .map_err(|e| e.to_string())?;
        let params = Params::new(&config);
        let node = Arc::new(Node {
            id,
            config,
            params,
            clients: ClientRegistry::default(),
            stats: Stats::default(),
            group,
            network,
            info,
            clock: env.clock.clone(),
            env,
            started: Instant::now(),
            rng_seed: seeds.next_u64(),
            seed_draws: AtomicU64::new(0),
            blocked: BlockedClients::new(id, seeds.next_u64()),
            log,
            _data_dir: data_dir,
            _consensus: consensus,
        });
        node.network.set_handler(Arc::new(PeerHandler { node: Arc::downgrade(&node) }));
        let weak = Arc::downgrade(&node);
        node.group.on_served(Box::new(move |served| {
            if let Some(node) = weak.upgrade() {
                node.blocked.deliver(served);
            }
        }));
        if !node.group.is_initialized().await {
            if node.config.bootstrap {
                node.group.bootstrap(node.info.clone()).await.map_err(|e| e.to_string())?;
                if !node.group.wait_for_leader(Duration::from_secs(30)).await {
                    return Err("the new cluster elected no leader within 30 s".into());
                }
            } else if let Some(seed) = node.config.join.clone() {
                tokio::spawn(crate::cluster::join(node.clone(), seed));
            }
        } else {
            // A member restarting: wait briefly for a leader so the first requests succeed.
            node.group.wait_for_leader(Duration::from_secs(5)).await;
        }
        Ok(node)
    }

    /// Where requests that need the leader go from here.
    fn route(&self) -> Route {
        match self.group.leader() {
            Some((leader, _)) if leader == self.id => Route::Here,
            Some((leader, info)) => match self.config.routing {
                Routing::Proxy => Route::Leader(leader, info),
                Routing::Redirect => Route::Moved(info),
            },
            None => Route::Nowhere,
        }
    }

    /// Whether requests that need the leader are served by this node.
    pub fn leads(&self) -> bool {
        matches!(self.route(), Route::Here)
    }

    /// Waits (briefly) until some node leads; false if none does in time.
    async fn leader_known(&self, waited: &mut Duration) -> bool {
        if self.group.leader().is_some() {
            return true;
        }
        if *waited >= Duration::from_millis(LEADER_WAIT_MS) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
        *waited += Duration::from_millis(ROUTE_RETRY_MS);
        self.group.leader().is_some()
    }

    /// Calls the leader's forwarding service.
    async fn forward(
        &self,
        leader: NodeId,
        info: &NodeInfo,
        request: &Forward,
        deadline: Duration,
    ) -> Result<Forwarded, CallError> {
        self.stats.forwarded.fetch_add(1, Ordering::Relaxed);
        let payload = postcard::to_stdvec(request).expect("forwards encode");
        let answer =
            self.network.call(leader, &info.raft_addr, self.group.id, SERVICE_FORWARD, payload, deadline).await?;
        postcard::from_bytes(&answer).map_err(|e| CallError::Remote(format!("undecodable answer: {e}")))
    }

    /// [`Node::forward`], abandoned (`None`) as soon as this node learns of another leader: a
    /// paused or cut-off old leader may hold the call until its deadline, while the new one
    /// could already serve the client. Only for reads, which can simply be asked again.
    async fn forward_while_leading(
        &self,
        leader: NodeId,
        info: &NodeInfo,
        request: &Forward,
        deadline: Duration,
    ) -> Option<Result<Forwarded, CallError>> {
        tokio::select! {
            answer = self.forward(leader, info, request, deadline) => Some(answer),
            () = self.group.leader_moved_from(leader) => None,
        }
    }

    fn write_deadline(&self) -> Duration {
        Duration::from_millis(concord_raft::GroupOptions::default().write_timeout_ms + 2_000)
    }

    /// Writes requests (in order, in one log entry when served here) wherever the leader is,
    /// and returns one reply each. A write is retried only when it certainly was not applied,
    /// so nothing is ever applied twice.
    pub async fn write_batch(self: Arc<Self>, requests: Vec<Request>) -> Vec<Reply> {
        let count = requests.len();
        let mut waited = Duration::ZERO;
        loop {
            match self.route() {
                Route::Here => match self.group.submit(requests.clone()).await {
                    Ok(replies) => match replies.await {
                        Ok(replies) => return replies,
                        // Leadership moved before the proposal: nothing applied; follow it.
                        Err(WriteError::NotLeader { .. }) if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                        Err(error) => return vec![write_error_reply(error); count],
                    },
                    Err(error) => return vec![write_error_reply(error); count],
                },
                Route::Leader(leader, info) => {
                    // Not abandoned when leadership moves, unlike a read: the old leader's answer,
                    // once it comes, is often definite, where giving up would leave it unknown.
                    match self.forward(leader, &info, &Forward::Write(requests.clone()), self.write_deadline()).await {
                        Ok(Forwarded::Write(Ok(replies))) if replies.len() == count => return replies,
                        Ok(Forwarded::Write(Err(WriteFailure { definite: true, .. })))
                        | Err(CallError::Unreachable(_))
                            if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                        Ok(Forwarded::Write(Err(WriteFailure { definite: true, reason }))) => {
                            return vec![retryable(reason); count]
                        }
                        Err(CallError::Unreachable(why)) => {
                            return vec![
                                retryable(format!(
                                    "the leader is unreachable ({why}); the command was not applied"
                                ));
                                count
                            ]
                        }
                        Ok(Forwarded::Write(Err(WriteFailure { reason, .. }))) => {
                            return vec![write_error_reply(WriteError::Unknown(reason)); count]
                        }
                        Ok(_) => {
                            return vec![
                                write_error_reply(WriteError::Unknown(
                                    "malformed answer from the leader".into()
                                ));
                                count
                            ]
                        }
                        Err(error) => {
                            return vec![
                                write_error_reply(WriteError::Unknown(format!(
                                    "forwarding to the leader: {error}"
                                )));
                                count
                            ]
                        }
                    }
                }
                Route::Moved(leader) => {
                    return requests.iter().map(|request| moved(request_slot(request), &leader)).collect()
                }
                Route::Nowhere => {}
            }
            if !self.leader_known(&mut waited).await {
                return vec![write_error_reply(WriteError::NotLeader { leader: None }); count];
            }
            tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
            waited += Duration::from_millis(ROUTE_RETRY_MS);
        }
    }

    /// Runs a read against the applied state as it stands, with this node's clock (stale
    /// reads, or a follower's defect).
    pub fn read_local(&self, db: DbIndex, op: &ReadOp, rng: &mut Rng) -> Reply {
        let now_ms = self.clock.now_ms();
        self.group.read(|applied| op.run(applied.machine.keyspace(), &mut ReadCtx { db, now_ms, rng }))
    }

    /// Runs `read` on the applied state at a time consistent with the log: `now_ms`, a reading
    /// of this node's clock taken after the read arrived (never behind the last applied entry's
    /// stamp), once no batch stamped earlier is still in flight with a key expiring in between.
    /// Otherwise the read could find a key gone that the batch, applied after the read, still
    /// finds alive (and, say, extends) — an order no single history explains.
    pub fn try_read_settled<R>(&self, now_ms: TimeMs, read: impl FnOnce(&Applied, TimeMs) -> R) -> Result<R, u64> {
        self.group.read(|applied| {
            let now_ms = now_ms.max(applied.machine.clock_ms());
            let keyspace = applied.machine.keyspace();
            settled_read_time(now_ms, self.group.in_flight(), |after, through| keyspace.has_deadline_in(after, through))
                .map(|now_ms| read(applied, now_ms))
        })
    }

    /// [`Node::try_read_settled`], waiting for the batches in flight when it must.
    pub async fn read_settled<R>(&self, read: impl Fn(&Applied, TimeMs) -> R) -> R {
        loop {
            match self.try_read_settled(self.clock.now_ms(), &read) {
                Ok(result) => return result,
                Err(seq) => self.group.settle(seq).await,
            }
        }
    }

    /// A linearizable read served here, now that this node may (see [`Node::read_settled`]).
    pub async fn read_here(&self, db: DbIndex, op: &ReadOp, rng: &mut Rng) -> Reply {
        let rng = std::sync::Mutex::new(rng);
        self.read_settled(|applied, now_ms| {
            let mut rng = rng.lock().expect("the read's generator");
            op.run(applied.machine.keyspace(), &mut ReadCtx { db, now_ms, rng: &mut rng })
        })
        .await
    }

    /// A linearizable read, wherever the leader is.
    pub async fn read(self: Arc<Self>, db: DbIndex, op: ReadOp, argv: Vec<Bytes>, mut rng: Rng) -> Reply {
        let mut waited = Duration::ZERO;
        loop {
            match self.route() {
                Route::Here => {
                    return match self.group.request_read_barrier().await {
                        Ok(()) => self.read_here(db, &op, &mut rng).await,
                        Err(error) => read_error_reply(error),
                    }
                }
                Route::Leader(leader, info) => {
                    let deadline = Duration::from_millis(concord_raft::GroupOptions::default().read_timeout_ms);
                    let forward = Forward::Read { db, argv: argv.clone() };
                    // A read has no effect: when leadership moves, ask the new leader.
                    let Some(answer) = self.forward_while_leading(leader, &info, &forward, deadline).await else {
                        continue;
                    };
                    match answer {
                        Ok(Forwarded::Read(reply)) => return reply,
                        Err(CallError::Unreachable(_)) if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                        Ok(_) => return retryable("malformed answer from the leader"),
                        Err(error) => return retryable(format!("the leader did not answer ({error})")),
                    }
                }
                Route::Moved(leader) => return moved(argv_slot(&argv), &leader),
                Route::Nowhere => {}
            }
            if !self.leader_known(&mut waited).await {
                return read_error_reply(ReadError::NotLeader { leader: None });
            }
            tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
            waited += Duration::from_millis(ROUTE_RETRY_MS);
        }
    }

    /// WATCH: each key's stamp, read at a linearizable point (on the leader).
    pub async fn watch(
        self: Arc<Self>,
        db: DbIndex,
        keys: Vec<Bytes>,
        stale: bool,
    ) -> Result<Vec<(Bytes, WatchStamp)>, Reply> {
        if stale {
            return Ok(self.stamps(db, keys));
        }
        let mut waited = Duration::ZERO;
        loop {
            match self.route() {
                Route::Here => {
                    self.group.request_read_barrier().await.map_err(read_error_reply)?;
                    return Ok(self.stamps_settled(db, keys).await);
                }
                Route::Leader(leader, info) => {
                    let deadline = Duration::from_millis(concord_raft::GroupOptions::default().read_timeout_ms);
                    match self.forward(leader, &info, &Forward::Watch { db, keys: keys.clone() }, deadline).await {
                        Ok(Forwarded::Watch(result)) => return result,
                        Err(CallError::Unreachable(_)) if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                        Ok(_) => return Err(retryable("malformed answer from the leader")),
                        Err(error) => return Err(retryable(format!("the leader did not answer ({error})"))),
                    }
                }
                Route::Moved(leader) => {
                    return Err(moved(keys.first().map_or(0, |k| concord_core::slot::key_slot(k)), &leader))
                }
                Route::Nowhere => {}
            }
            if !self.leader_known(&mut waited).await {
                return Err(read_error_reply(ReadError::NotLeader { leader: None }));
            }
            tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
            waited += Duration::from_millis(ROUTE_RETRY_MS);
        }
    }

    fn stamps_at(applied: &Applied, db: DbIndex, keys: &[Bytes], now_ms: TimeMs) -> Vec<(Bytes, WatchStamp)> {
        let keyspace = applied.machine.keyspace();
        let index = applied.machine.applied_index();
        keys.iter().map(|key| (key.clone(), keyspace.db(db).watch_stamp(key, now_ms, index))).collect()
    }

    /// WATCH stamps on a follower that was asked for stale reads.
    fn stamps(&self, db: DbIndex, keys: Vec<Bytes>) -> Vec<(Bytes, WatchStamp)> {
        let now_ms = self.clock.now_ms();
        self.group.read(|applied| Self::stamps_at(applied, db, &keys, now_ms))
    }

    async fn stamps_settled(&self, db: DbIndex, keys: Vec<Bytes>) -> Vec<(Bytes, WatchStamp)> {
        self.read_settled(|applied, now_ms| Self::stamps_at(applied, db, &keys, now_ms)).await
    }

    /// EXEC: writes the transaction and assembles its reply.
    pub async fn exec(self: Arc<Self>, plan: ExecPlan) -> (Reply, Option<DbIndex>) {
        let applied = self.write_batch(vec![plan.request.clone()]).await.pop().expect("one reply");
        match applied {
            Reply::NilArray => (Reply::NilArray, None),
            Reply::Array(_) => {
                let db = plan.db_after;
                (plan.reply(applied), Some(db))
            }
            // A failure of the whole transaction (no leader, unknown outcome, moved).
            other => (other, None),
        }
    }

    /// A CLUSTER request: membership changes go to the leader; the rest is answered here.
    pub async fn cluster(self: Arc<Self>, op: ClusterOp) -> Reply {
        if !op.needs_leader() {
            return crate::cluster::answer(&self, op).await;
        }
        let mut waited = Duration::ZERO;
        loop {
            match self.group.leader() {
                Some((leader, _)) if leader == self.id => return crate::cluster::answer(&self, op).await,
                Some((leader, info)) => {
                    match self.forward(leader, &info, &Forward::Cluster(op.clone()), Duration::from_secs(120)).await {
                        Ok(Forwarded::Cluster(reply)) => return reply,
                        Err(CallError::Unreachable(_)) if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                        Ok(_) => return retryable("malformed answer from the leader"),
                        Err(error) => return Error::err(format_args!("the leader did not answer ({error})")).into(),
                    }
                }
                None => {}
            }
            if !self.leader_known(&mut waited).await {
                return retryable("no leader right now (election in progress); retry");
            }
            tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
            waited += Duration::from_millis(ROUTE_RETRY_MS);
        }
    }

    /// Serves what a follower forwarded: as the leader, or refusing definitively if not.
    pub async fn serve_forwarded(self: Arc<Self>, request: Forward) -> Forwarded {
        let leads = self.leads();
        match request {
            Forward::Write(requests) => {
                if !leads {
                    return Forwarded::Write(Err(WriteFailure {
                        definite: true,
                        reason: "this node no longer leads".into(),
                    }));
                }
                let result = match self.group.submit(requests).await {
                    Ok(replies) => replies.await,
                    Err(error) => Err(error),
                };
                Forwarded::Write(result.map_err(|error| WriteFailure {
                    definite: matches!(
                        error,
                        WriteError::NotLeader { .. } | WriteError::NoQuorum | WriteError::Stopped
                    ),
                    reason: match error {
                        WriteError::Unknown(reason) => reason,
                        other => format!("{other:?}"),
                    },
                }))
            }
            Forward::Read { db, argv } => Forwarded::Read(match commands::parse_keyspace_command(&argv) {
                Ok(Some(KeyspaceOp::Read(op))) => match self.group.request_read_barrier().await {
                    Ok(()) => self.read_here(db, &op, &mut Rng::new(self.next_seed())).await,
                    Err(error) => read_error_reply(error),
                },
                Ok(_) => Error::err("not a read").into(),
                Err(error) => error.into(),
            }),
            Forward::Watch { db, keys } => Forwarded::Watch(match self.group.request_read_barrier().await {
                Ok(()) => Ok(self.stamps_settled(db, keys).await),
                Err(error) => Err(read_error_reply(error)),
            }),
            Forward::Cluster(op) => Forwarded::Cluster(if leads {
                crate::cluster::answer(&self, op).await
            } else {
                retryable("this node no longer leads; retry")
            }),
        }
    }

    /// A digest of the replicated state, as hex (DEBUG DIGEST).
    pub fn digest(&self) -> String {
        self.replica_state().1
    }

    /// The log index applied here and the digest of the state there, read together
    /// (DEBUG REPLICA), so replicas can be compared at the same point.
    pub fn replica_state(&self) -> (u64, String) {
        self.group.read(|applied| (applied.machine.applied_index(), format!("{:032x}", applied.machine.digest())))
    }

    /// The leader's expiry sweep: proposes removal of keys whose time has passed, in bounded
    /// batches, so expired keys do not linger in memory when nobody touches them. It also gives
    /// a keyspace that has none its secret hash seed (a new cluster's, or one restored from a
    /// snapshot of a version that had none).
    pub async fn sweep_expired(self: Arc<Self>) {
        let mut interval = tokio::time::interval(Duration::from_millis(EXPIRE_SWEEP_INTERVAL_MS));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if !self.group.is_leader() {
                continue;
            }
            if !self.group.read(|applied| applied.machine.keyspace().is_seeded()) {
                let seed = (self.next_seed(), self.next_seed());
                if let Err(error) = self.group.propose(Request::Seed { seed }).await {
                    tracing::debug!(?error, "seed proposal failed");
                }
            }
            for _ in 0..EXPIRE_SWEEP_PROPOSALS_MAX {
                let now_ms = self.clock.now_ms();
                let due: Vec<(DbIndex, Vec<Bytes>)> = self.group.read(|applied| {
                    applied
                        .machine
                        .keyspace()
                        .dbs()
                        .filter(|(_, db)| db.expires_len() > 0)
                        .map(|(index, db)| (index, db.expired_keys(now_ms, EXPIRE_BATCH_KEYS_MAX)))
                        .filter(|(_, keys)| !keys.is_empty())
                        .collect()
                });
                if due.is_empty() {
                    break;
                }
                let full = due.iter().any(|(_, keys)| keys.len() == EXPIRE_BATCH_KEYS_MAX);
                for (db, keys) in due {
                    if let Err(error) = self.group.propose(Request::Expire { db, keys }).await {
                        tracing::debug!(?error, "expiry proposal failed");
                    }
                }
                if !full {
                    break;
                }
            }
        }
    }

    /// The node's background duties: the leader's expiry sweep and waiter ticks, and the lease
    /// of this node's blocked clients.
    pub async fn background(self: Arc<Self>) {
        tokio::join!(self.clone().sweep_expired(), self.clone().tick_waiters(), self.keep_waiters());
    }

    /// A blocking command (BLPOP ...) of client `client`: proposed with a waiter of this node,
    /// then, unless served at once, its reply awaited from this node's applier. Dropped before
    /// it ends (the client left), it cancels its wait through the log.
    pub async fn block(self: Arc<Self>, client: u64, db: DbIndex, argv: Vec<Bytes>) -> Reply {
        let started = Instant::now();
        loop {
            let (waiter, served) = match self.blocked.register(client) {
                Ok(registered) => registered,
                Err(reply) => return reply,
            };
            let mut cancel = CancelWait { node: Some(self.clone()), waiter };
            let request = Request::Block { db, argv: argv.clone(), waiter };
            let direct = self.clone().write_batch(vec![request]).await.pop();
            let reply = match direct {
                Some(Reply::Blocked) => Some(served.await.unwrap_or_else(|_| blocked::unknown_wait_reply())),
                // Cancelled for certain, with nothing taken: ask again, with a new waiter.
                Some(reply) if blocked::is_unknown(&reply) => {
                    let settled = self.clone().settle_unknown_wait(waiter, served).await;
                    let patience_left = started.elapsed() < Duration::from_millis(LEADER_WAIT_MS * 4);
                    settled.or_else(|| (!patience_left).then_some(reply))
                }
                Some(reply) => Some(reply),
                None => Some(Error::err("no reply to a blocking command").into()),
            };
            cancel.node = None;
            self.blocked.forget(waiter);
            if let Some(reply) = reply {
                return reply;
            }
        }
    }

    /// A blocking command whose proposal's outcome is unknown: cancels the wait through the log
    /// (a copy of the request applied later then registers nothing and takes nothing). If the
    /// state machine had served it, the reply reaches this node's applier before long; if
    /// not (`None`), nothing was taken for it and nothing ever will be.
    async fn settle_unknown_wait(
        self: Arc<Self>,
        waiter: concord_core::blocking::WaiterId,
        served: tokio::sync::oneshot::Receiver<Reply>,
    ) -> Option<Reply> {
        let cancelled = self.clone().write_batch(vec![Request::Unblock { waiter, error: false }]).await.pop();
        if !matches!(cancelled, Some(Reply::Integer(_))) {
            // The cancellation itself failed: the fate of the wait stays unknown.
            return Some(cancelled.unwrap_or_else(blocked::unknown_wait_reply));
        }
        match tokio::time::timeout(Duration::from_millis(LEADER_WAIT_MS), served).await {
            // The state machine answered the wait: served (an element), or, cancelled while it
            // waited, with a timeout reply, which is a retry too.
            Ok(Ok(reply)) if cancelled == Some(Reply::Integer(1)) && !reply.is_error() && is_empty_reply(&reply) => {
                None
            }
            Ok(Ok(reply)) => Some(reply),
            _ => None,
        }
    }

    /// CLIENT UNBLOCK: ends client `client`'s wait, as a timeout or with an error; false if it
    /// is not blocked.
    pub async fn unblock(self: Arc<Self>, client: u64, error: bool) -> bool {
        let Some(waiter) = self.blocked.waiter_of(client) else {
            return false;
        };
        let reply = self.write_batch(vec![Request::Unblock { waiter, error }]).await.pop();
        reply == Some(Reply::Integer(1))
    }

    /// The leader proposes a tick whenever a waiter's deadline or an owner's lease has passed,
    /// so that blocked clients time out without waiting for other traffic.
    async fn tick_waiters(self: Arc<Self>) {
        let mut interval = tokio::time::interval(Duration::from_millis(WAITER_TICK_MS));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if !self.group.is_leader() {
                continue;
            }
            let now_ms = self.clock.now_ms();
            let due = self.group.read(|applied| {
                let machine = &applied.machine;
                machine.waiters().next_deadline_ms().is_some_and(|at| at <= now_ms.max(machine.clock_ms()))
            });
            if due {
                if let Err(error) = self.group.propose(Request::Tick).await {
                    tracing::debug!(?error, "waiter tick failed");
                }
            }
        }
    }

    /// While this node has blocked clients, renews their lease; cut off for longer than a
    /// lease, it cannot know their fate and tells them so.
    async fn keep_waiters(self: Arc<Self>) {
        use concord_core::blocking::{WAITER_LEASE_MS, WAITER_RENEW_MS};
        let mut interval = tokio::time::interval(Duration::from_millis(WAITER_RENEW_MS));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renewed = Instant::now();
        loop {
            interval.tick().await;
            if self.blocked.is_empty() {
                renewed = Instant::now();
                continue;
            }
            let renewal = self.blocked.renewal();
            let request = Request::RenewWaiters {
                node: self.id,
                incarnation: self.blocked.incarnation(),
                live: renewal.live,
                next_seq: renewal.next_seq,
            };
            match self.clone().write_batch(vec![request]).await.pop() {
                Some(Reply::Status(_)) => renewed = Instant::now(),
                _ if renewed.elapsed() > Duration::from_millis(2 * WAITER_LEASE_MS) => {
                    self.blocked.fail_all(&blocked::unknown_wait_reply());
                }
                _ => {}
            }
        }
    }

    /// A fresh seed for a one-off generator (a forwarded read's RANDOMKEY).
    fn next_seed(&self) -> u64 {
        let draw = self.seed_draws.fetch_add(1, Ordering::Relaxed);
        Rng::new(self.rng_seed ^ draw).next_u64()
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops the Raft group, the transport and the log.
    pub async fn shutdown(&self) {
        self.group.shutdown().await;
        self.network.shutdown();
        let log = self.log.clone();
        self.env.blocking(move || log.close()).await;
    }

    pub fn count_command(&self, reply: &Reply) {
        self.stats.commands_processed.fetch_add(1, Ordering::Relaxed);
        if reply.is_error() {
            self.stats.error_replies.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Whether a blocking command's reply is its timeout reply (nothing taken).
fn is_empty_reply(reply: &Reply) -> bool {
    matches!(reply, Reply::Nil | Reply::NilArray)
}

/// Cancels a blocked client's wait when its `Node::block` is dropped before it ends.
struct CancelWait {
    node: Option<Arc<Node>>,
    waiter: concord_core::blocking::WaiterId,
}

impl Drop for CancelWait {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            let waiter = self.waiter;
            node.blocked.forget(waiter);
            // Outside the runtime (a node shutting down) there is nothing left to tell.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    node.write_batch(vec![Request::Unblock { waiter, error: false }]).await;
                });
            }
        }
    }
}

/// The time a linearizable read runs at (`now_ms`), or the batch it must wait for first: the
/// newest in flight, when the oldest in flight was stamped before `now_ms` and some key's
/// deadline falls in between (see [`Node::try_read_settled`]).
fn settled_read_time(
    now_ms: TimeMs,
    in_flight: Option<(TimeMs, u64)>,
    expires_between: impl FnOnce(TimeMs, TimeMs) -> bool,
) -> Result<TimeMs, u64> {
    match in_flight {
        Some((oldest_ms, newest)) if oldest_ms < now_ms && expires_between(oldest_ms, now_ms) => Err(newest),
        _ => Ok(now_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_waits_for_earlier_batches_only_when_a_key_expires_in_between() {
        let deadline_ms = 1_000;
        let expires_between = |after: TimeMs, through: TimeMs| after < deadline_ms && deadline_ms <= through;
        assert_eq!(settled_read_time(1_500, None, expires_between), Ok(1_500), "nothing in flight");
        assert_eq!(
            settled_read_time(1_500, Some((900, 42)), expires_between),
            Err(42),
            "the batch may still see the key"
        );
        assert_eq!(
            settled_read_time(1_500, Some((1_200, 42)), expires_between),
            Ok(1_500),
            "it expired before the batch"
        );
        assert_eq!(settled_read_time(900, Some((800, 42)), expires_between), Ok(900), "not expired at the read either");
        assert_eq!(settled_read_time(900, Some((950, 42)), expires_between), Ok(900), "stamped after the read");
    }
}
