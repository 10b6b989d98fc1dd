//! The node: its data directory, its Raft groups (the metadata group, which every node follows,
//! and the data shards the cluster map places here), its peers, and the operations client
//! sessions need — writes through a shard's log, linearizable (or, on request, stale) reads,
//! transactions, WATCH — served here when this node leads the shard, or forwarded to its
//! leader (proxy routing) or redirected to it (`-MOVED`, redirect routing) when it does not.
//! Plus each leader's expiry sweep. Which shard a command belongs to is `routing`'s call.

use crate::blocked::{self, BlockedClients};
use crate::clients::ClientRegistry;
use crate::config::{Params, Routing, ServerConfig};
use crate::data_dir::DataDir;
use crate::env::Env;
use crate::once::{Ticket, Tickets};
use crate::peers::{Forward, Forwarded, PeerHandler, PeerRpc, WriteFailure, SERVICE_FORWARD};
use bytes::Bytes;
use concord_core::cluster_map::{Addresses, ClusterChange, ClusterMap};
use concord_core::command::ReadCtx;
use concord_core::commands::cluster::ClusterOp;
use concord_core::commands::{self, KeyspaceOp, ReadOp};
use concord_core::keyspace::WatchStamp;
use concord_core::limits::{EXPIRE_BATCH_KEYS_MAX, WRITE_RETRY_MS};
use concord_core::migration::MigrateStep;
use concord_core::notifications::{key_misses, EventClass};
use concord_core::request::Request;
use concord_core::rng::Rng;
use concord_core::session::ExecPlan;
use concord_core::types::{Clock, DbIndex, GroupId, NodeId, TimeMs};
use concord_core::{Error, Reply};
use concord_raft::log_store::NodeLog;
use concord_raft::runtime::ConsensusRuntime;
use concord_raft::state_machine::Applied;
use concord_raft::{Group, GroupOptions, MachineKind, NodeInfo, ReadError, WriteError};
use concord_storage::{LogOptions, SnapshotStore};
use concord_transport::{CallError, Network, NetworkOptions};
use parking_lot::RwLock;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How often the leader looks for keys past their time.
const EXPIRE_SWEEP_INTERVAL_MS: u64 = 100;
/// Sweep proposals per round at most, so a burst of expiries cannot crowd out clients.
const EXPIRE_SWEEP_PROPOSALS_MAX: usize = 16;
/// How long a request waits for a leader (an election) before it is refused as retryable.
const LEADER_WAIT_MS: u64 = 2_500;
/// Pause between routing attempts while leadership settles.
const ROUTE_RETRY_MS: u64 = 50;
/// How long one attempt at a tagged forwarded write waits for the leader's answer before it is
/// sent again (with the same id, so it is applied once), within `WRITE_RETRY_MS`.
const FORWARD_ATTEMPT_MS: u64 = 3_000;
/// How often a node looks again whether a replica hosted here is still needed.
const RELEASE_RECHECK_MS: u64 = 1_000;
/// How often each shard's leader checks whether a blocked client's time is up.
const WAITER_TICK_MS: u64 = 10;

/// Counters INFO reports.
#[derive(Debug, Default)]
pub struct Stats {
    pub commands_processed: AtomicU64,
    pub error_replies: AtomicU64,
    /// Error replies by their code (the error's first word), for INFO errorstats.
    pub error_codes: parking_lot::Mutex<std::collections::BTreeMap<String, u64>>,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub forwarded: AtomicU64,
    /// Client writes sent again, tagged, after an attempt's outcome was unknown.
    pub writes_resent: AtomicU64,
    /// Client writes answered `-UNKNOWN`: no attempt's outcome could be learned in time.
    pub writes_unknown: AtomicU64,
    /// Per command, by its place in the command table (INFO commandstats).
    pub commands: CommandStats,
}

/// INFO commandstats' counters, one set per command of the table: lock-free, since every
/// command's reply counts.
#[derive(Debug)]
pub struct CommandStats(Box<[CommandStat]>);

#[derive(Debug, Default)]
pub struct CommandStat {
    pub calls: AtomicU64,
    /// From the command's arrival to its reply, replication included.
    pub usec: AtomicU64,
    /// Refused before they ran (arity, routing, a cluster without a leader...).
    pub rejected_calls: AtomicU64,
    /// Ran, and answered an error.
    pub failed_calls: AtomicU64,
}

impl Default for CommandStats {
    fn default() -> CommandStats {
        CommandStats(commands::TABLE.iter().map(|_| CommandStat::default()).collect())
    }
}

impl CommandStats {
    /// Counts one reply of the command at `index` in the table, `usec` after it arrived.
    pub fn count(&self, index: usize, usec: u64, reply: &Reply) {
        let stat = &self.0[index];
        match reply {
            Reply::Error(text) if rejected_before_running(text) => {
                stat.rejected_calls.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Reply::Error(_) => stat.failed_calls.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        stat.calls.fetch_add(1, Ordering::Relaxed);
        stat.usec.fetch_add(usec, Ordering::Relaxed);
    }

    /// Every command counted since the last reset, by name.
    pub fn counted(&self) -> Vec<(&'static str, &CommandStat)> {
        let mut counted: Vec<(&'static str, &CommandStat)> = commands::TABLE
            .iter()
            .zip(self.0.iter())
            .filter(|(_, stat)| stat.calls.load(Ordering::Relaxed) + stat.rejected_calls.load(Ordering::Relaxed) > 0)
            .map(|(entry, stat)| (entry.spec.name, stat))
            .collect();
        counted.sort_unstable_by_key(|(name, _)| *name);
        counted
    }

    pub fn reset(&self) {
        for stat in self.0.iter() {
            for counter in [&stat.calls, &stat.usec, &stat.rejected_calls, &stat.failed_calls] {
                counter.store(0, Ordering::Relaxed);
            }
        }
    }
}

/// Whether an error reply refused a command before it ran, as Redis counts `rejected_calls`:
/// wrong arity, or refused by routing or the cluster's state.
fn rejected_before_running(text: &[u8]) -> bool {
    const CODES: &[&[u8]] = &[
        b"MOVED ",
        b"ASK ",
        b"CROSSSLOT ",
        b"TRYAGAIN ",
        b"CLUSTERDOWN ",
        b"NOAUTH ",
        b"NOPERM ",
        b"READONLY ",
        b"OOM ",
    ];
    text.starts_with(b"ERR wrong number of arguments") || CODES.iter().any(|code| text.starts_with(code))
}

/// Where a request that needs a group's leader goes.
enum Route {
    Here(Arc<Group>),
    Leader(NodeId, NodeInfo),
    Moved(NodeInfo),
    Nowhere,
}

/// What a replica of a shard holds (see [`Node::slot_keys`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotKeys {
    /// Each slot holding keys, and how many.
    pub slots: Vec<(u16, u64)>,
    /// The moves the shard takes part in (`outgoing 3/2`, `incoming 3/2`).
    pub moves: Vec<String>,
}

pub struct Node {
    pub id: NodeId,
    pub config: ServerConfig,
    pub params: Params,
    pub clients: ClientRegistry,
    pub stats: Stats,
    /// The metadata group (group 0): every node follows it, as one of up to five voters or as
    /// a learner, so every node has the cluster map.
    pub meta: Arc<Group>,
    /// The data shards hosted here.
    groups: RwLock<BTreeMap<GroupId, Arc<Group>>>,
    /// The metadata group's map as last applied here.
    map: watch::Sender<Arc<ClusterMap>>,
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
    /// This node's Pub/Sub subscriptions.
    pub broker: crate::pubsub::Broker,
    /// Publications on their way to the other nodes, in order.
    pub relay: crate::pubsub::Relay,
    /// Set by SHUTDOWN: the server stops as on SIGTERM.
    pub shutdown_requested: watch::Sender<bool>,
    /// Ids of the client writes in flight from this node (exactly-once retries).
    pub tickets: Arc<Tickets>,
    /// What gossip says of the other members.
    pub membership: crate::gossip::Membership,
    log: Arc<NodeLog>,
    snapshots: Arc<SnapshotStore>,
    rpc: Arc<PeerRpc>,
    group_options: GroupOptions,
    consensus_runtime: tokio::runtime::Handle,
    /// Held while groups are being started, so a group starts once.
    starting: tokio::sync::Mutex<()>,
    _data_dir: DataDir,
    /// Declared last: dropped after the group that runs on it.
    _consensus: ConsensusRuntime,
}

pub fn retryable(text: impl std::fmt::Display) -> Reply {
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

/// Whether a reply is a `-TRYAGAIN` refusal.
fn is_retryable(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(text) if text.starts_with(b"TRYAGAIN"))
}

fn moved(request_slot: u16, leader: &NodeInfo) -> Reply {
    Error::new(format!("MOVED {request_slot} {}", leader.client_addr)).into()
}

/// Sums up per-group digests into one for a node hosting several shards: equal exactly when
/// every group's is (a group's digest is mixed with its id, so swapped states differ).
fn combine_digests(digests: impl Iterator<Item = (GroupId, u128)>) -> u128 {
    digests.fold(0, |combined, (group, digest)| {
        combined ^ digest.rotate_left(group.0 % 128).wrapping_add(u128::from(group.0))
    })
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
        Request::Once { requests, .. } => requests.first().map_or(0, request_slot),
        Request::Cluster(_)
        | Request::Seed { .. }
        | Request::Config { .. }
        | Request::Unblock { .. }
        | Request::RenewWaiters { .. }
        | Request::OwnSlots { .. }
        | Request::Migrate(_)
        | Request::Tick => 0,
    }
}

impl Node {
    /// Opens the data directory, recovers the log and snapshots, connects to peers, starts the
    /// metadata group and the shards hosted here and, on a fresh directory, bootstraps a
    /// cluster or starts joining one.
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
        concord_raft::async_runtime::align_sleeps(!env.simulated);
        let consensus = if threads_of_their_own {
            ConsensusRuntime::start().map_err(|e| format!("cannot start the consensus thread: {e}"))?
        } else {
            ConsensusRuntime::current()
        };
        let rpc = Arc::new(PeerRpc { network: network.clone() });
        let group_options =
            GroupOptions { election_seed: seeds.next_u64(), io_inline: env.simulated, ..config.group_options() };
        let meta = Group::start(
            consensus.handle(),
            GroupId::METADATA,
            MachineKind::Cluster,
            id,
            log.clone(),
            snapshots.clone(),
            rpc.clone(),
            env.clock.clone(),
            group_options.clone(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let map = meta.read(|applied| Arc::new(applied.map().clone()));
        let params = Params::new(&config);
        let rng_seed = seeds.next_u64();
        // Names this run of the node: blocked clients and request ids of an earlier run are
        // never mistaken for this one's.
        let incarnation = seeds.next_u64();
        let node = Arc::new(Node {
            id,
            config,
            params,
            clients: ClientRegistry::default(),
            stats: Stats::default(),
            meta: Arc::new(meta),
            groups: RwLock::new(BTreeMap::new()),
            map: watch::Sender::new(map),
            network,
            info,
            clock: env.clock.clone(),
            env,
            started: Instant::now(),
            rng_seed,
            seed_draws: AtomicU64::new(0),
            blocked: BlockedClients::new(id, incarnation),
            broker: crate::pubsub::Broker::default(),
            relay: crate::pubsub::Relay::new(incarnation),
            shutdown_requested: watch::channel(false).0,
            tickets: Tickets::new(id, incarnation),
            membership: crate::gossip::Membership::default(),
            log,
            snapshots,
            rpc,
            group_options,
            consensus_runtime: consensus.handle().clone(),
            starting: tokio::sync::Mutex::new(()),
            _data_dir: data_dir,
            _consensus: consensus,
        });
        node.network.set_handler(Arc::new(PeerHandler { node: Arc::downgrade(&node) }));
        // Shards this node held before a restart start at once, whatever the map says so far
        // (its last entries may not be applied yet).
        let known: Vec<GroupId> = node.log.groups().into_iter().filter(|g| *g != GroupId::METADATA).collect();
        node.host_groups(&known).await?;
        if !node.meta.is_initialized().await {
            if node.config.bootstrap {
                node.bootstrap().await?;
            } else if let Some(seed) = node.config.join.clone() {
                tokio::spawn(crate::cluster::join(node.clone(), seed));
            }
        } else {
            // A member restarting: wait briefly for leaders so the first requests succeed.
            let deadline = Instant::now() + Duration::from_secs(5);
            node.meta.wait_for_leader(Duration::from_secs(5)).await;
            node.refresh_map();
            node.host_groups(&[]).await?;
            for group in node.data_groups() {
                group.wait_for_leader(deadline.saturating_duration_since(Instant::now())).await;
            }
        }
        tokio::spawn(node.clone().follow_map());
        Ok(node)
    }

    /// A new cluster: this node becomes the metadata group's only voter, the map is created with
    /// the configured shards, and this node founds every one of them.
    async fn bootstrap(self: &Arc<Self>) -> Result<(), String> {
        self.meta.bootstrap(self.info.clone()).await.map_err(|e| e.to_string())?;
        if !self.meta.wait_for_leader(Duration::from_secs(30)).await {
            return Err("the new cluster elected no leader within 30 s".into());
        }
        let change = ClusterChange::Bootstrap {
            node: self.id,
            addresses: self.addresses(),
            shards: self.config.shards,
            replication_factor: self.config.replication_factor,
        };
        match self.meta.propose(Request::Cluster(change)).await {
            Ok(Reply::Error(error)) => return Err(String::from_utf8_lossy(&error).into_owned()),
            Ok(_) => {}
            Err(error) => return Err(format!("cannot create the cluster map: {error:?}")),
        }
        self.refresh_map();
        self.host_groups(&[]).await?;
        for group in self.data_groups() {
            if !group.wait_for_leader(Duration::from_secs(30)).await {
                return Err(format!("shard {} elected no leader within 30 s", group.id));
            }
        }
        Ok(())
    }

    /// How other nodes and clients reach this node, as the map records it.
    pub fn addresses(&self) -> Addresses {
        Addresses { node: self.info.raft_addr.clone(), client: self.info.client_addr.clone() }
    }

    /// The cluster map, as last applied here.
    pub fn map(&self) -> Arc<ClusterMap> {
        self.map.borrow().clone()
    }

    /// Waits for the map to change after the version the caller saw last.
    pub fn watch_map(&self) -> watch::Receiver<Arc<ClusterMap>> {
        self.map.subscribe()
    }

    /// Publishes the metadata group's applied map if it is newer than the one published (which
    /// may have come through gossip, ahead of this node's metadata replica).
    fn refresh_map(&self) {
        let epoch = self.map.borrow().epoch;
        let changed = self.meta.read(|applied| (applied.map().epoch > epoch).then(|| Arc::new(applied.map().clone())));
        if let Some(map) = changed {
            self.map.send_replace(map);
        }
    }

    /// Publishes a map fetched from another node, if it is newer than the one published. Every
    /// map a node publishes was committed by the metadata group (each change bumps the epoch),
    /// so a newer one is only ever ahead of this node's replica, never a different history.
    pub fn adopt_map(&self, map: ClusterMap) {
        self.map.send_if_modified(|current| {
            let newer = map.epoch > current.epoch;
            if newer {
                *current = Arc::new(map);
            }
            newer
        });
    }

    /// Follows the metadata group's applied state: publishes each new map and starts the
    /// shards it places here.
    async fn follow_map(self: Arc<Self>) {
        let mut applied = self.meta.watch_applied();
        let mut maps = self.watch_map();
        // Whether the map is the newest one around may change with no new map (a peer answers).
        let mut recheck = tokio::time::interval(Duration::from_millis(RELEASE_RECHECK_MS));
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.refresh_map();
            if let Err(error) = self.host_groups(&[]).await {
                tracing::error!(%error, "cannot start a shard placed on this node");
            }
            self.release_groups().await;
            crate::pubsub::revoke_moved_shard_channels(&self);
            tokio::select! {
                changed = applied.changed() => if changed.is_err() { return },
                changed = maps.changed() => if changed.is_err() { return },
                _ = recheck.tick() => {}
            }
        }
    }

    /// Stops the replicas hosted here that the map no longer counts: neither placed here nor
    /// among the voters their leader last reported (its group has removed this node), unless
    /// this node is a read replica (which follows every shard). Only on a map no older than
    /// any this node's peers have told it of: a node restarting on a stale map would otherwise
    /// stop a replica placed on it since. Their logs stay on disk, for a later placement.
    pub async fn release_groups(&self) {
        let map = self.map();
        let read_replica = map.members.get(&self.id).is_some_and(|m| !m.voter);
        if !map.is_bootstrapped() || read_replica || !self.membership.map_is_newest(map.epoch) {
            return;
        }
        let released: Vec<Arc<Group>> = {
            let _starting = self.starting.lock().await;
            let mut groups = self.groups.write();
            let unneeded: Vec<GroupId> = groups
                .keys()
                .filter(|id| {
                    map.shards
                        .get(id)
                        .is_some_and(|shard| !shard.replicas.contains(&self.id) && !shard.voters.contains(&self.id))
                })
                .copied()
                .collect();
            unneeded.iter().filter_map(|id| groups.remove(id)).collect()
        };
        for group in released {
            tracing::info!(shard = %group.id, "stopping this node's replica: its shard no longer counts it");
            group.shutdown().await;
        }
    }

    /// Starts the data groups the map places here (and `also`), and founds those this node
    /// created. Groups starting together are spread over a heartbeat interval, so their
    /// timers do not tick in lockstep.
    async fn host_groups(self: &Arc<Self>, also: &[GroupId]) -> Result<(), String> {
        let _starting = self.starting.lock().await;
        let map = self.map();
        let wanted: BTreeSet<GroupId> = map.shards_of(self.id).into_iter().chain(also.iter().copied()).collect();
        let missing: Vec<GroupId> = {
            let groups = self.groups.read();
            wanted.iter().filter(|id| !groups.contains_key(id)).copied().collect()
        };
        let spacing_us = self.group_options.heartbeat_interval_ms * 1000 / (missing.len() as u64).max(1);
        for (turn, id) in missing.into_iter().enumerate() {
            if turn > 0 {
                tokio::time::sleep(Duration::from_micros(spacing_us)).await;
            }
            let group = Group::start(
                &self.consensus_runtime,
                id,
                MachineKind::Data,
                self.id,
                self.log.clone(),
                self.snapshots.clone(),
                self.rpc.clone(),
                self.clock.clone(),
                GroupOptions {
                    election_seed: self.group_options.election_seed ^ u64::from(id.0),
                    ..self.group_options.clone()
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            let group = Arc::new(group);
            let weak = Arc::downgrade(self);
            group.on_notify(Box::new(crate::pubsub::KeyspaceNotifier { node: weak.clone() }));
            group.on_served(Box::new(move |served| {
                if let Some(node) = weak.upgrade() {
                    node.blocked.deliver(served);
                }
            }));
            let founded =
                map.shards.get(&id).is_some_and(|shard| shard.founder == self.id && shard.replicas == [self.id]);
            // Only the founder ever initializes a shard, and only while it is the shard's one
            // replica: anyone else starts empty and waits for the leader to reach it.
            if founded && !group.is_initialized().await {
                group.bootstrap(self.info.clone()).await.map_err(|e| e.to_string())?;
            }
            self.groups.write().insert(id, group);
            tracing::info!(shard = %id, "hosting shard");
        }
        Ok(())
    }

    /// The replica of group `id` here, if the map still counts this node among the group's
    /// replicas or voters. A replica a rebalance moved away keeps running, but hears from
    /// nobody: its idea of the leader is stale for good, so requests are routed by the map.
    fn member_group(&self, id: GroupId) -> Option<Arc<Group>> {
        let group = self.group(id)?;
        let member = id == GroupId::METADATA || {
            let map = self.map.borrow();
            map.shards.get(&id).is_none_or(|shard| shard.replicas.contains(&self.id) || shard.voters.contains(&self.id))
                || map.members.get(&self.id).is_some_and(|m| !m.voter)
        };
        member.then_some(group)
    }

    /// A group hosted here: the metadata group or a data shard.
    pub fn group(&self, id: GroupId) -> Option<Arc<Group>> {
        if id == GroupId::METADATA {
            return Some(self.meta.clone());
        }
        self.groups.read().get(&id).cloned()
    }

    /// The data shards hosted here, by id.
    pub fn data_groups(&self) -> Vec<Arc<Group>> {
        self.groups.read().values().cloned().collect()
    }

    /// The shards this node leads.
    pub fn led_shards(&self) -> Vec<GroupId> {
        self.groups.read().values().filter(|group| group.is_leader()).map(|group| group.id).collect()
    }

    /// A group's leader: as this node's replica knows it, else as the map last heard.
    pub fn leader_of(&self, id: GroupId) -> Option<(NodeId, NodeInfo)> {
        if let Some(leader) = self.member_group(id).and_then(|group| group.leader()) {
            return Some(leader);
        }
        let map = self.map.borrow();
        let leader = map.shards.get(&id)?.leader?;
        let member = map.members.get(&leader)?;
        Some((
            leader,
            NodeInfo { raft_addr: member.addresses.node.clone(), client_addr: member.addresses.client.clone() },
        ))
    }

    /// Where requests for group `id` that need its leader go from here.
    fn route(&self, id: GroupId) -> Route {
        let local = self.member_group(id);
        if let Some(group) = local.as_ref().filter(|group| group.is_leader()) {
            return Route::Here(group.clone());
        }
        match self.leader_of(id) {
            Some((leader, _)) if leader == self.id => match local {
                Some(group) => Route::Here(group),
                None => Route::Nowhere,
            },
            Some((leader, info)) => match self.config.routing {
                Routing::Redirect if id != GroupId::METADATA => Route::Moved(info),
                _ => Route::Leader(leader, info),
            },
            None => Route::Nowhere,
        }
    }

    /// Where the node's own requests for group `id` go: as [`Node::route`], but to the leader
    /// even in redirect mode, since no client could follow a `-MOVED` for them.
    fn route_to_leader(&self, id: GroupId) -> Route {
        match self.route(id) {
            Route::Moved(info) => match self.leader_of(id) {
                Some((leader, _)) => Route::Leader(leader, info),
                None => Route::Nowhere,
            },
            route => route,
        }
    }

    /// The shard `id` if this node leads it (requests for it are served here).
    pub fn led(&self, id: GroupId) -> Option<Arc<Group>> {
        match self.route(id) {
            Route::Here(group) => Some(group),
            _ => None,
        }
    }

    /// Waits (briefly) until some node leads group `id`; false if none does in time.
    async fn leader_known(&self, id: GroupId, waited: &mut Duration) -> bool {
        if self.leader_of(id).is_some() {
            return true;
        }
        if *waited >= Duration::from_millis(LEADER_WAIT_MS) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
        *waited += Duration::from_millis(ROUTE_RETRY_MS);
        self.leader_of(id).is_some()
    }

    /// Calls the leader's forwarding service.
    async fn forward(
        &self,
        group: GroupId,
        leader: NodeId,
        info: &NodeInfo,
        request: &Forward,
        deadline: Duration,
    ) -> Result<Forwarded, CallError> {
        self.stats.forwarded.fetch_add(1, Ordering::Relaxed);
        let payload = postcard::to_stdvec(request).expect("forwards encode");
        let answer = self.network.call(leader, &info.raft_addr, group, SERVICE_FORWARD, payload, deadline).await?;
        // An answer that cannot be read says nothing of what the leader did.
        postcard::from_bytes(&answer).map_err(|e| {
            tracing::warn!(%leader, error = %e, "undecodable answer to a forwarded request");
            CallError::Lost
        })
    }

    /// [`Node::forward`], abandoned (`None`) as soon as this node learns of another leader: a
    /// paused or cut-off old leader may hold the call until its deadline, while the new one
    /// could already serve the client. For reads, which can simply be asked again, and for
    /// tagged writes, which can be sent again (see [`Node::write_batch`]).
    async fn forward_while_leading(
        &self,
        group: GroupId,
        leader: NodeId,
        info: &NodeInfo,
        request: &Forward,
        deadline: Duration,
    ) -> Option<Result<Forwarded, CallError>> {
        tokio::select! {
            answer = self.forward(group, leader, info, request, deadline) => Some(answer),
            () = self.leader_moved_from(group, leader) => None,
        }
    }

    /// Resolves once this node knows of a leader of `group` other than `leader`: from its own
    /// replica if it has one, else from the cluster map's reports.
    async fn leader_moved_from(&self, group: GroupId, leader: NodeId) {
        // The same source as `leader_of`: a replica here the map no longer counts may know a
        // stale leader, which would end every forward at once.
        if let Some(local) = self.member_group(group) {
            return local.leader_moved_from(leader).await;
        }
        let mut map = self.watch_map();
        loop {
            let reported = map.borrow_and_update().shards.get(&group).and_then(|shard| shard.leader);
            if reported.is_some_and(|now| now != leader) {
                return;
            }
            if map.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    fn write_deadline(&self) -> Duration {
        Duration::from_millis(concord_raft::GroupOptions::default().write_timeout_ms + 2_000)
    }

    /// Whether every member of `group` speaks at least wire `version` (see
    /// `concord_transport::frame`), and so decodes what it promises. A member not heard from
    /// since this node started is taken to speak this node's version: a cluster is upgraded
    /// node by node, and a node of the previous version is never added to an upgraded one.
    fn members_speak(&self, group: &Group, version: u8) -> bool {
        group.members().iter().all(|member| {
            let seen = self.network.version_seen(member.id);
            member.id == self.id || seen == 0 || seen >= version
        })
    }

    /// Whether every member of the cluster map speaks at least wire `version`.
    pub(crate) fn cluster_speaks(&self, version: u8) -> bool {
        self.map().members.keys().all(|id| {
            let seen = self.network.version_seen(*id);
            *id == self.id || seen == 0 || seen >= version
        })
    }

    /// Whether every member of `group` can decode tagged requests (wire version 2).
    fn members_take_tags(&self, group: &Group) -> bool {
        self.members_speak(group, 2)
    }

    /// Submits `requests` to `group`, led here: tagged with `ticket` if there is one and every
    /// replica can decode tagged requests; untagged otherwise, unless `must_tag` (an earlier
    /// tagged attempt's outcome is unknown, so an untagged one could apply it twice): then
    /// nothing is submitted (`None`). Returns the future of the requests' own replies, and
    /// whether they went tagged (then they may be sent again).
    pub async fn submit_here(
        &self,
        group: &Group,
        ticket: Option<&Ticket>,
        requests: &[Request],
        must_tag: bool,
    ) -> Result<Option<(PendingWrite, bool)>, WriteError> {
        let ticket = ticket.filter(|_| self.members_take_tags(group));
        if must_tag && ticket.is_none() {
            return Ok(None);
        }
        let count = requests.len();
        let replies = match ticket {
            Some(ticket) => group.submit(vec![ticket.tag(requests.to_vec())]).await?,
            None => group.submit(requests.to_vec()).await?,
        };
        let tagged = ticket.is_some();
        let pending = async move {
            let replies = replies.await?;
            Ok(if tagged { untag_replies(replies, count) } else { replies })
        };
        Ok(Some((Box::pin(pending), tagged)))
    }

    /// Writes requests (in order, in one log entry) wherever the shard's leader is, and returns
    /// one reply each.
    ///
    /// Writes to a data shard are tagged with a request id (see [`crate::once`]): while an
    /// attempt's outcome is unknown (the leader died or was cut off with the write in flight,
    /// the call timed out or its connection dropped, leadership moved), the same tagged write is
    /// sent again — to the new leader as soon as one is known — for up to `WRITE_RETRY_MS`, and
    /// the shard applies it once. Only if that runs out is the client told `-UNKNOWN`. Untagged
    /// writes (to the metadata group, or where a replica speaks the previous wire version) are
    /// sent again only when they certainly were not applied.
    pub async fn write_batch(self: Arc<Self>, group: GroupId, requests: Vec<Request>) -> Vec<Reply> {
        let ticket = (group != GroupId::METADATA).then(|| self.tickets.take(group));
        self.write_tagged(group, ticket, requests, None).await
    }

    /// [`Node::write_batch`] with its ticket, and the first attempt already submitted here
    /// (`first`, with whether it went tagged), if it was.
    pub async fn write_tagged(
        self: Arc<Self>,
        group: GroupId,
        ticket: Option<Ticket>,
        requests: Vec<Request>,
        mut first: Option<(PendingWrite, bool)>,
    ) -> Vec<Reply> {
        let count = requests.len();
        let started = Instant::now();
        let window = Duration::from_millis(WRITE_RETRY_MS);
        let leader_wait = Duration::from_millis(LEADER_WAIT_MS);
        // Why an earlier attempt's outcome is unknown, once one's is: from then on the write may
        // have been applied, every attempt must go tagged, and giving up must say so.
        let mut unknown: Option<String> = None;
        // Leaders that refused tagged writes (a replica of theirs speaks the previous version).
        let mut untagged_at = BTreeSet::new();
        let mut waited = Duration::ZERO;
        loop {
            let attempt = match first.take() {
                Some((pending, tagged)) => Attempt::of_local(pending.await, tagged),
                None => {
                    let state =
                        AttemptState { must_tag: unknown.is_some(), untagged_at: &untagged_at, started, window };
                    self.attempt(group, ticket.as_ref(), &requests, state).await
                }
            };
            let refusal = match attempt {
                Attempt::Done(replies) | Attempt::Moved(replies) => return replies,
                Attempt::Final(reply) => match unknown {
                    Some(reason) => return self.gave_up(reason, count),
                    None => return vec![reply; count],
                },
                Attempt::Unknown { reason, retry: false } => return self.gave_up(reason, count),
                Attempt::Unknown { reason, retry: true } => {
                    tracing::debug!(%group, %reason, "a write's outcome is unknown; sending it again");
                    self.stats.writes_resent.fetch_add(1, Ordering::Relaxed);
                    unknown = Some(reason);
                    None
                }
                Attempt::Untagged(leader) => {
                    untagged_at.insert(leader);
                    continue;
                }
                Attempt::Refused(reply) => Some(reply),
            };
            match (&unknown, refusal) {
                (None, Some(reply)) if waited >= leader_wait => return vec![reply; count],
                (Some(reason), _) if started.elapsed() >= window => return self.gave_up(reason.clone(), count),
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
            waited += Duration::from_millis(ROUTE_RETRY_MS);
        }
    }

    /// The replies to a write of `count` requests whose outcome stays unknown.
    fn gave_up(&self, reason: String, count: usize) -> Vec<Reply> {
        self.stats.writes_unknown.fetch_add(1, Ordering::Relaxed);
        vec![unknown_reply(reason); count]
    }

    /// One attempt at a write, wherever the shard's leader is now.
    async fn attempt(
        &self,
        group: GroupId,
        ticket: Option<&Ticket>,
        requests: &[Request],
        state: AttemptState<'_>,
    ) -> Attempt {
        let count = requests.len();
        let AttemptState { must_tag, untagged_at, started, window } = state;
        // A redirecting node forwards a write whose earlier attempt's outcome is unknown all the
        // same: a `-MOVED` would hide that it may have been applied. And the node's own
        // requests, which no client could follow a `-MOVED` for.
        let internal = !requests.iter().all(Request::redirectable);
        let route = if must_tag || internal { self.route_to_leader(group) } else { self.route(group) };
        let cannot_tag = || {
            Attempt::Refused(retryable(
            "a replica of this shard speaks the previous wire version, and this write, whose first attempt's outcome is unknown, must go tagged; retry",
        ))
        };
        match route {
            Route::Here(local) => match self.submit_here(&local, ticket, requests, must_tag).await {
                Ok(Some((pending, tagged))) => Attempt::of_local(pending.await, tagged),
                Ok(None) => cannot_tag(),
                Err(error) => Attempt::of_local(Err(error), false),
            },
            Route::Leader(leader, info) => {
                let ticket =
                    ticket.filter(|_| self.network.version_seen(leader) != 1 && !untagged_at.contains(&leader));
                if must_tag && ticket.is_none() {
                    return cannot_tag();
                }
                let forward = Forward::Write(match ticket {
                    Some(ticket) => vec![ticket.tag(requests.to_vec())],
                    None => requests.to_vec(),
                });
                let attempt_max =
                    if ticket.is_some() { Duration::from_millis(FORWARD_ATTEMPT_MS) } else { self.write_deadline() };
                let deadline = attempt_max
                    .min(window.saturating_sub(started.elapsed()))
                    .max(Duration::from_millis(ROUTE_RETRY_MS));
                let answer = if ticket.is_some() {
                    // Tagged: given up as soon as another leader is known, and sent there.
                    match self.forward_while_leading(group, leader, &info, &forward, deadline).await {
                        Some(answer) => answer,
                        None => {
                            return Attempt::Unknown {
                                reason: "leadership moved while the write was in flight".into(),
                                retry: true,
                            }
                        }
                    }
                } else {
                    // Untagged: the old leader's answer, once it comes, is often definite, where
                    // giving up would leave it unknown.
                    self.forward(group, leader, &info, &forward, deadline).await
                };
                let tagged = ticket.is_some();
                match answer {
                    Ok(Forwarded::Write(Ok(replies))) if tagged && replies.len() == 1 => {
                        Attempt::Done(untag_replies(replies, count))
                    }
                    Ok(Forwarded::Write(Ok(replies))) if !tagged && replies.len() == count => Attempt::Done(replies),
                    Ok(Forwarded::Untagged) if tagged => Attempt::Untagged(leader),
                    Ok(Forwarded::Write(Err(WriteFailure { definite: true, reason }))) => {
                        Attempt::Refused(retryable(reason))
                    }
                    Err(CallError::Unreachable(why)) => Attempt::Refused(retryable(format!(
                        "the leader is unreachable ({why}); the command was not applied"
                    ))),
                    // The leader's handler failed before serving it (it could not decode it, or
                    // is shutting down).
                    Err(CallError::Remote(why)) => {
                        Attempt::Refused(retryable(format!("the leader refused the write ({why}); it was not applied")))
                    }
                    Ok(Forwarded::Write(Err(WriteFailure { reason, .. }))) => {
                        Attempt::Unknown { reason, retry: tagged }
                    }
                    Ok(_) => Attempt::Unknown { reason: "malformed answer from the leader".into(), retry: tagged },
                    Err(error) => {
                        Attempt::Unknown { reason: format!("forwarding to the leader: {error}"), retry: tagged }
                    }
                }
            }
            Route::Moved(leader) => {
                Attempt::Moved(requests.iter().map(|request| moved(request_slot(request), &leader)).collect())
            }
            Route::Nowhere => Attempt::Refused(write_error_reply(WriteError::NotLeader { leader: None })),
        }
    }

    /// Runs read `op` (of command `argv`) on a shard's applied state at `now_ms`: every client
    /// read served by this node comes here. The node that serves a read raises its `keymiss`
    /// events, to its own subscribers.
    pub fn run_read(
        &self,
        applied: &Applied,
        db: DbIndex,
        op: &ReadOp,
        argv: &[Bytes],
        now_ms: TimeMs,
        rng: &mut Rng,
    ) -> Reply {
        let keyspace = applied.data().keyspace();
        if let Some(entry) = argv.first().and_then(|name| commands::lookup(name)) {
            if let Err(slot) = keyspace.owns_keys(entry.spec.keys(argv)) {
                return retryable(format_args!("slot {slot} is not served by this shard (it is moving); retry"));
            }
        }
        let reply = op.run(keyspace, &mut ReadCtx { db, now_ms, rng, from_script: false });
        if crate::pubsub::wanted_here(self).contains(EventClass::KEY_MISS) {
            crate::pubsub::publish_notifications(self, key_misses(keyspace, db, argv, now_ms));
        }
        reply
    }

    /// Runs a read against the applied state as it stands, with this node's clock (stale
    /// reads, or a follower's defect).
    pub fn read_local(&self, group: &Group, db: DbIndex, op: &ReadOp, argv: &[Bytes], rng: &mut Rng) -> Reply {
        let now_ms = self.clock.now_ms();
        group.read(|applied| self.run_read(applied, db, op, argv, now_ms, rng))
    }

    /// Runs `read` on the applied state at a time consistent with the log: `now_ms`, a reading
    /// of this node's clock taken after the read arrived (never behind the last applied entry's
    /// stamp), once no batch stamped earlier is still in flight with a key expiring in between.
    /// Otherwise the read could find a key gone that the batch, applied after the read, still
    /// finds alive (and, say, extends) — an order no single history explains.
    pub fn try_read_settled<R>(
        &self,
        group: &Group,
        now_ms: TimeMs,
        read: impl FnOnce(&Applied, TimeMs) -> R,
    ) -> Result<R, u64> {
        group.read(|applied| {
            let now_ms = now_ms.max(applied.data().clock_ms());
            let keyspace = applied.data().keyspace();
            settled_read_time(now_ms, group.in_flight(), |after, through| keyspace.has_deadline_in(after, through))
                .map(|now_ms| read(applied, now_ms))
        })
    }

    /// [`Node::try_read_settled`], waiting for the batches in flight when it must.
    pub async fn read_settled<R>(&self, group: &Group, read: impl Fn(&Applied, TimeMs) -> R) -> R {
        loop {
            match self.try_read_settled(group, self.clock.now_ms(), &read) {
                Ok(result) => return result,
                Err(seq) => group.settle(seq).await,
            }
        }
    }

    /// A linearizable read served here, now that this node may (see [`Node::read_settled`]).
    pub async fn read_here(&self, group: &Group, db: DbIndex, op: &ReadOp, argv: &[Bytes], rng: &mut Rng) -> Reply {
        let rng = std::sync::Mutex::new(rng);
        self.read_settled(group, |applied, now_ms| {
            let mut rng = rng.lock().expect("the read's generator");
            self.run_read(applied, db, op, argv, now_ms, &mut rng)
        })
        .await
    }

    /// A client's linearizable read of shard `group`, wherever its leader is (in redirect
    /// mode, `-MOVED` to it).
    pub async fn read(self: Arc<Self>, group: GroupId, db: DbIndex, op: ReadOp, argv: Vec<Bytes>, rng: Rng) -> Reply {
        self.read_routed(group, db, op, argv, rng, true).await
    }

    /// The node's own linearizable read of shard `group` (a rebalance's key counts), asked of
    /// its leader even in redirect mode.
    pub async fn read_for_node(
        self: Arc<Self>,
        group: GroupId,
        db: DbIndex,
        op: ReadOp,
        argv: Vec<Bytes>,
        rng: Rng,
    ) -> Reply {
        self.read_routed(group, db, op, argv, rng, false).await
    }

    async fn read_routed(
        self: Arc<Self>,
        group: GroupId,
        db: DbIndex,
        op: ReadOp,
        argv: Vec<Bytes>,
        mut rng: Rng,
        redirect: bool,
    ) -> Reply {
        let mut waited = Duration::ZERO;
        loop {
            let route = if redirect { self.route(group) } else { self.route_to_leader(group) };
            match route {
                Route::Here(local) => match local.request_read_barrier().await {
                    Ok(()) => return self.read_here(&local, db, &op, &argv, &mut rng).await,
                    // Leadership moved (a hand-over, an election): a read can simply follow it.
                    Err(ReadError::NotLeader { .. }) if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                    Err(error) => return read_error_reply(error),
                },
                Route::Leader(leader, info) => {
                    let deadline = Duration::from_millis(concord_raft::GroupOptions::default().read_timeout_ms);
                    let forward = Forward::Read { db, argv: argv.clone() };
                    // A read has no effect: when leadership moves, ask the new leader.
                    let answer = self.forward_while_leading(group, leader, &info, &forward, deadline).await;
                    match answer {
                        // Leadership moved while asking: ask the new leader at once, unless the
                        // route still names the same one (then after the pause below).
                        None if self.leader_of(group).is_some_and(|(now, _)| now != leader) => continue,
                        None if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                        None => return retryable("leadership kept moving while the read was asked"),
                        Some(answer) => match answer {
                            // The leader it asked was busy handing over or had just lost its lead:
                            // a read has no effect, so it is simply asked again.
                            Ok(Forwarded::Read(reply))
                                if is_retryable(&reply) && waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                            Ok(Forwarded::Read(reply)) => return reply,
                            Err(CallError::Unreachable(_)) if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                            Ok(_) => return retryable("malformed answer from the leader"),
                            Err(error) => return retryable(format!("the leader did not answer ({error})")),
                        },
                    }
                }
                Route::Moved(leader) => return moved(argv_slot(&argv), &leader),
                Route::Nowhere => {}
            }
            if !self.leader_known(group, &mut waited).await {
                return read_error_reply(ReadError::NotLeader { leader: None });
            }
            tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
            waited += Duration::from_millis(ROUTE_RETRY_MS);
        }
    }

    /// WATCH: each key's stamp, read at a linearizable point (on the leader).
    pub async fn watch(
        self: Arc<Self>,
        group: GroupId,
        db: DbIndex,
        keys: Vec<Bytes>,
        stale: bool,
    ) -> Result<Vec<(Bytes, WatchStamp)>, Reply> {
        if let Some(local) = self.group(group).filter(|_| stale) {
            return Ok(self.stamps(&local, db, keys));
        }
        let mut waited = Duration::ZERO;
        loop {
            match self.route(group) {
                Route::Here(local) => match local.request_read_barrier().await {
                    Ok(()) => return Ok(self.stamps_settled(&local, db, keys).await),
                    Err(ReadError::NotLeader { .. }) if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                    Err(error) => return Err(read_error_reply(error)),
                },
                Route::Leader(leader, info) => {
                    let deadline = Duration::from_millis(concord_raft::GroupOptions::default().read_timeout_ms);
                    let forward = Forward::Watch { db, keys: keys.clone() };
                    match self.forward(group, leader, &info, &forward, deadline).await {
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
            if !self.leader_known(group, &mut waited).await {
                return Err(read_error_reply(ReadError::NotLeader { leader: None }));
            }
            tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
            waited += Duration::from_millis(ROUTE_RETRY_MS);
        }
    }

    fn stamps_at(applied: &Applied, db: DbIndex, keys: &[Bytes], now_ms: TimeMs) -> Vec<(Bytes, WatchStamp)> {
        let keyspace = applied.data().keyspace();
        let index = applied.data().applied_index();
        keys.iter().map(|key| (key.clone(), keyspace.db(db).watch_stamp(key, now_ms, index))).collect()
    }

    /// WATCH stamps on a follower that was asked for stale reads.
    fn stamps(&self, group: &Group, db: DbIndex, keys: Vec<Bytes>) -> Vec<(Bytes, WatchStamp)> {
        let now_ms = self.clock.now_ms();
        group.read(|applied| Self::stamps_at(applied, db, &keys, now_ms))
    }

    async fn stamps_settled(&self, group: &Group, db: DbIndex, keys: Vec<Bytes>) -> Vec<(Bytes, WatchStamp)> {
        self.read_settled(group, |applied, now_ms| Self::stamps_at(applied, db, &keys, now_ms)).await
    }

    /// EXEC: writes the transaction to its shard and assembles its reply.
    pub async fn exec(self: Arc<Self>, group: GroupId, plan: ExecPlan) -> (Reply, Option<DbIndex>) {
        let applied = self.write_batch(group, vec![plan.request.clone()]).await.pop().expect("one reply");
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

    /// A CLUSTER request: membership changes go to the metadata group's leader, questions about
    /// a slot's keys to its shard's leader; the rest is answered here.
    pub async fn cluster(self: Arc<Self>, op: ClusterOp) -> Reply {
        let group = match &op {
            op if op.needs_leader() => GroupId::METADATA,
            ClusterOp::CountKeysInSlot(slot) | ClusterOp::GetKeysInSlot(slot, _) => match self.map().shard_of(*slot) {
                Some(shard) => shard,
                None => return retryable("the cluster has no slot map yet; retry"),
            },
            _ => return crate::cluster::answer(&self, op).await,
        };
        let mut waited = Duration::ZERO;
        loop {
            match self.leader_of(group) {
                Some((leader, _)) if leader == self.id => {
                    return crate::cluster::answer_as_leader(&self, group, op).await
                }
                Some((leader, info)) => {
                    let forward = Forward::Cluster(op.clone());
                    match self.forward(group, leader, &info, &forward, Duration::from_secs(120)).await {
                        Ok(Forwarded::Cluster(reply)) => return reply,
                        Err(CallError::Unreachable(_)) if waited < Duration::from_millis(LEADER_WAIT_MS) => {}
                        Ok(_) => return retryable("malformed answer from the leader"),
                        Err(error) => return Error::err(format_args!("the leader did not answer ({error})")).into(),
                    }
                }
                None => {}
            }
            if !self.leader_known(group, &mut waited).await {
                return retryable("no leader right now (election in progress); retry");
            }
            tokio::time::sleep(Duration::from_millis(ROUTE_RETRY_MS)).await;
            waited += Duration::from_millis(ROUTE_RETRY_MS);
        }
    }

    /// Serves what another node forwarded for group `id`: as its leader, or refusing
    /// definitively if this node does not lead it.
    pub async fn serve_forwarded(self: Arc<Self>, id: GroupId, request: Forward) -> Forwarded {
        let led = self.group(id).filter(|group| group.is_leader());
        // Reads name a data shard; a peer naming the metadata group gets a refusal.
        let led_shard = led.clone().filter(|group| group.kind == MachineKind::Data);
        match request {
            Forward::Write(requests) => {
                let Some(group) = led else {
                    return Forwarded::Write(Err(WriteFailure {
                        definite: true,
                        reason: format!("this node does not lead {id}"),
                    }));
                };
                // Tagged writes go only into logs every replica can decode; the sender then
                // sends the write untagged (its first attempt's outcome is known: this one).
                if requests.iter().any(|request| matches!(request, Request::Once { .. }))
                    && !self.members_take_tags(&group)
                {
                    return Forwarded::Untagged;
                }
                let result = match group.submit(requests).await {
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
            Forward::Read { db, argv } => Forwarded::Read(match (led_shard, commands::parse_keyspace_command(&argv)) {
                (Some(group), Ok(Some(KeyspaceOp::Read(op)))) => match group.request_read_barrier().await {
                    Ok(()) => self.read_here(&group, db, &op, &argv, &mut Rng::new(self.next_seed())).await,
                    Err(error) => read_error_reply(error),
                },
                (None, _) => read_error_reply(ReadError::NotLeader { leader: None }),
                (_, Ok(_)) => Error::err("not a read").into(),
                (_, Err(error)) => error.into(),
            }),
            Forward::Watch { db, keys } => Forwarded::Watch(match led_shard {
                Some(group) => match group.request_read_barrier().await {
                    Ok(()) => Ok(self.stamps_settled(&group, db, keys).await),
                    Err(error) => Err(read_error_reply(error)),
                },
                None => Err(read_error_reply(ReadError::NotLeader { leader: None })),
            }),
            Forward::Cluster(op) => Forwarded::Cluster(if led.is_some() {
                crate::cluster::answer_as_leader(&self, id, op).await
            } else {
                retryable("this node no longer leads; retry")
            }),
        }
    }

    /// A digest of the replicated state of the shards hosted here, as hex (DEBUG DIGEST): the
    /// shard's own digest when there is one, else all of theirs combined.
    pub fn digest(&self) -> String {
        let groups = self.data_groups();
        let digests = groups.iter().map(|group| (group.id, group.read(|applied| applied.machine.digest())));
        match groups.len() {
            1 => format!("{:032x}", groups[0].read(|applied| applied.machine.digest())),
            _ => format!("{:032x}", combine_digests(digests)),
        }
    }

    /// A group's applied log index and the digest of its state there, read together
    /// (DEBUG REPLICA), so replicas can be compared at the same point. By default the
    /// lowest-numbered shard hosted here.
    pub fn replica_state(&self, group: Option<GroupId>) -> Option<(u64, String)> {
        let group = match group {
            Some(id) => self.group(id)?,
            None => self.data_groups().into_iter().next()?,
        };
        Some(group.read(|applied| (applied.machine.applied_index(), format!("{:032x}", applied.machine.digest()))))
    }

    /// What a shard hosted here holds, for verifiers (DEBUG SLOTKEYS): each slot with keys in
    /// its applied state and how many (every database; expired keys, a move's invisible copies
    /// and leftovers too), and the moves it still takes part in, as `outgoing <move>/<attempt>`
    /// or `incoming <move>/<attempt>`. Once no move is in progress, a shard holding a key of a
    /// slot the map does not give it has kept a copy that a move should have dropped.
    pub fn slot_keys(&self, group: GroupId) -> Option<SlotKeys> {
        let group = self.group(group).filter(|group| group.id != GroupId::METADATA)?;
        Some(group.read(|applied| {
            let keyspace = applied.data().keyspace();
            let mut slots: BTreeMap<u16, u64> = BTreeMap::new();
            for (_, db) in keyspace.dbs() {
                for entry in db.entries() {
                    *slots.entry(concord_core::slot::key_slot(entry.key())).or_default() += 1;
                }
            }
            let moves = keyspace.moves();
            let outgoing = moves.outgoing.iter().map(|out| ("outgoing", out.attempt()));
            let incoming = moves.incoming.iter().map(|inc| ("incoming", inc.attempt()));
            let taking_part =
                outgoing.chain(incoming).map(|(side, (id, attempt))| format!("{side} {id}/{attempt}")).collect();
            SlotKeys { slots: slots.into_iter().collect(), moves: taking_part }
        }))
    }

    /// Each leader's expiry sweep: proposes removal of keys whose time has passed, in bounded
    /// batches, so expired keys do not linger in memory when nobody touches them. It also gives
    /// a keyspace that has none its secret hash seed (a new shard's, or one restored from a
    /// snapshot of a version that had none).
    pub async fn sweep_expired(self: Arc<Self>) {
        let mut interval = tokio::time::interval(Duration::from_millis(EXPIRE_SWEEP_INTERVAL_MS));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            for group in self.data_groups() {
                if group.is_leader() {
                    if !group.read(|applied| applied.data().keyspace().is_seeded()) {
                        let seed = (self.next_seed(), self.next_seed());
                        if let Err(error) = group.propose(Request::Seed { seed }).await {
                            tracing::debug!(?error, "seed proposal failed");
                        }
                    }
                    self.tell_slots(&group).await;
                    Self::sweep_group(&self.clock, &group).await;
                }
            }
        }
    }

    /// Tells a shard, through its log, the slots the cluster map gives it, when they differ
    /// from what it last applied: it serves keys of those slots only (scripts too). Slots a
    /// move has fenced away are not its own any more; the step carries the map's epoch, so a
    /// leader with an older map than the fence's cannot hand them back.
    pub(crate) async fn tell_slots(&self, group: &Arc<Group>) {
        let map = self.map();
        if !map.is_bootstrapped() {
            return;
        }
        let Some(served) = map.served_by(group.id) else { return };
        let known = group.read(|applied| {
            let keyspace = applied.data().keyspace();
            keyspace.owned_slots() == Some(&served) || keyspace.moves().owned_epoch > map.epoch
        });
        if known || !self.members_speak(group, 3) {
            return;
        }
        let ranges = served.ranges().to_vec();
        let request = if self.members_speak(group, 4) {
            Request::Migrate(MigrateStep::Own { ranges, epoch: map.epoch })
        } else if ranges.is_empty() {
            return;
        } else {
            Request::OwnSlots { ranges }
        };
        if let Err(error) = group.propose(request).await {
            tracing::debug!(?error, "slot ownership proposal failed");
        }
    }

    /// The node's background duties: each leader's expiry sweep and waiter ticks, and the
    /// lease of this node's blocked clients.
    pub async fn background(self: Arc<Self>) {
        tokio::join!(
            self.clone().sweep_expired(),
            self.clone().tick_waiters(),
            self.clone().keep_waiters(),
            crate::gossip::run(self.clone()),
            crate::healing::run(self.clone()),
            crate::healing::rejoin_if_replaced(self.clone()),
            crate::cluster::keep_zone(self.clone()),
            crate::mover::drive_moves(self)
        );
    }

    /// A blocking command (BLPOP ...) of client `client` on `shard`: proposed with a waiter of
    /// this node, then, unless served at once, its reply awaited from this node's applier.
    /// Dropped before it ends (the client left), it cancels its wait through the log.
    pub async fn block(self: Arc<Self>, shard: GroupId, client: u64, db: DbIndex, argv: Vec<Bytes>) -> Reply {
        let started = Instant::now();
        loop {
            let (waiter, served) = match self.blocked.register(client, shard) {
                Ok(registered) => registered,
                Err(reply) => return reply,
            };
            let mut cancel = CancelWait { node: Some(self.clone()), shard, waiter };
            let request = Request::Block { db, argv: argv.clone(), waiter };
            let direct = self.clone().write_batch(shard, vec![request]).await.pop();
            let reply = match direct {
                Some(Reply::Blocked) => Some(served.await.unwrap_or_else(|_| blocked::unknown_wait_reply())),
                // Cancelled for certain, with nothing taken: ask again, with a new waiter.
                Some(reply) if blocked::is_unknown(&reply) => {
                    let settled = self.clone().settle_unknown_wait(shard, waiter, served).await;
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
        shard: GroupId,
        waiter: concord_core::blocking::WaiterId,
        served: tokio::sync::oneshot::Receiver<Reply>,
    ) -> Option<Reply> {
        let cancelled = self.clone().write_batch(shard, vec![Request::Unblock { waiter, error: false }]).await.pop();
        if !matches!(cancelled, Some(Reply::Integer(_))) {
            // The cancellation itself failed: the fate of the wait stays unknown. Even a
            // refusal that promises the cancellation was not applied (TRYAGAIN) says nothing
            // of the wait, which may have taken an element: passed on, it told the client the
            // pop was not applied when it was (found by the simulator, seed 10, once lists
            // joined its workload).
            return Some(blocked::unknown_wait_reply());
        }
        match tokio::time::timeout(Duration::from_millis(LEADER_WAIT_MS), served).await {
            // Cancelled while it waited: the state machine answered with its timeout reply,
            // and nothing was taken, so it is asked again.
            Ok(Ok(reply)) if cancelled == Some(Reply::Integer(1)) && is_empty_reply(&reply) => None,
            Ok(Ok(reply)) => Some(reply),
            _ => None,
        }
    }

    /// Writes `request` to every shard (replicated settings: CONFIG SET of the encodings);
    /// the first failure, or the shared reply.
    pub async fn write_to_every_shard(self: Arc<Self>, request: Request) -> Reply {
        let shards: Vec<GroupId> = self.map().shards.keys().copied().collect();
        let mut last = Reply::OK;
        for shard in shards {
            let reply = self.clone().write_batch(shard, vec![request.clone()]).await.pop().unwrap_or(Reply::OK);
            if reply.is_error() {
                return reply;
            }
            last = reply;
        }
        last
    }

    /// CLIENT UNBLOCK: ends client `client`'s wait, as a timeout or with an error; false if it
    /// is not blocked.
    pub async fn unblock(self: Arc<Self>, client: u64, error: bool) -> bool {
        let Some((shard, waiter)) = self.blocked.waiter_of(client) else {
            return false;
        };
        let reply = self.write_batch(shard, vec![Request::Unblock { waiter, error }]).await.pop();
        reply == Some(Reply::Integer(1))
    }

    /// Each shard's leader proposes a tick whenever a waiter's deadline or an owner's lease has
    /// passed, so that blocked clients time out without waiting for other traffic.
    async fn tick_waiters(self: Arc<Self>) {
        let mut interval = tokio::time::interval(Duration::from_millis(WAITER_TICK_MS));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            for group in self.data_groups() {
                if !group.is_leader() {
                    continue;
                }
                let now_ms = self.clock.now_ms();
                let due = group.read(|applied| {
                    let machine = applied.data();
                    machine.waiters().next_deadline_ms().is_some_and(|at| at <= now_ms.max(machine.clock_ms()))
                });
                if due {
                    if let Err(error) = group.propose(Request::Tick).await {
                        tracing::debug!(?error, "waiter tick failed");
                    }
                }
            }
        }
    }

    /// While this node has blocked clients, renews their lease on each shard they wait in; cut
    /// off for longer than a lease, it cannot know their fate and tells them so.
    async fn keep_waiters(self: Arc<Self>) {
        use concord_core::blocking::{WAITER_LEASE_MS, WAITER_RENEW_MS};
        let mut interval = tokio::time::interval(Duration::from_millis(WAITER_RENEW_MS));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renewed = Instant::now();
        loop {
            interval.tick().await;
            let renewals = self.blocked.renewals();
            if renewals.is_empty() {
                renewed = Instant::now();
                continue;
            }
            let mut all_renewed = true;
            for (shard, renewal) in renewals {
                let request = Request::RenewWaiters {
                    node: self.id,
                    incarnation: self.blocked.incarnation(),
                    live: renewal.live,
                    next_seq: renewal.next_seq,
                };
                let reply = self.clone().write_batch(shard, vec![request]).await.pop();
                all_renewed &= matches!(reply, Some(Reply::Status(_)));
            }
            if all_renewed {
                renewed = Instant::now();
            } else if renewed.elapsed() > Duration::from_millis(2 * WAITER_LEASE_MS) {
                self.blocked.fail_all(&blocked::unknown_wait_reply());
            }
        }
    }

    async fn sweep_group(clock: &Arc<dyn Clock>, group: &Group) {
        for _ in 0..EXPIRE_SWEEP_PROPOSALS_MAX {
            let now_ms = clock.now_ms();
            let due: Vec<(DbIndex, Vec<Bytes>)> = group.read(|applied| {
                applied
                    .data()
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
                if let Err(error) = group.propose(Request::Expire { db, keys }).await {
                    tracing::debug!(?error, "expiry proposal failed");
                }
            }
            if !full {
                break;
            }
        }
    }

    /// A fresh seed for a one-off generator (a forwarded read's RANDOMKEY).
    pub(crate) fn next_seed(&self) -> u64 {
        let draw = self.seed_draws.fetch_add(1, Ordering::Relaxed);
        Rng::new(self.rng_seed ^ draw).next_u64()
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops the Raft groups, the transport and the log.
    pub async fn shutdown(&self) {
        for group in self.data_groups() {
            group.shutdown().await;
        }
        self.meta.shutdown().await;
        self.network.shutdown();
        let log = self.log.clone();
        self.env.blocking(move || log.close()).await;
    }

    /// Whether this node's memory is past `maxmemory` (never when it is 0): the bytes allocated
    /// and not freed, as INFO's `used_memory` reports them.
    pub fn out_of_memory(&self) -> bool {
        let max = self.params.live.maxmemory_bytes.load(Ordering::Relaxed);
        max != 0 && crate::info::used_memory_bytes() > max
    }

    /// Counts a command's reply: `command` is its place in the command table (none for an
    /// unknown command), `usec` how long it took from its arrival.
    pub fn count_command(&self, command: Option<usize>, usec: u64, reply: &Reply) {
        self.stats.commands_processed.fetch_add(1, Ordering::Relaxed);
        if let Some(index) = command {
            self.stats.commands.count(index, usec, reply);
        }
        if let Reply::Error(text) = reply {
            self.stats.error_replies.fetch_add(1, Ordering::Relaxed);
            let code = text.split(|byte| *byte == b' ').next().unwrap_or_default();
            let code = String::from_utf8_lossy(code).into_owned();
            let mut codes = self.stats.error_codes.lock();
            let tracked = codes.len() < concord_core::limits::ERROR_CODES_TRACKED_MAX || codes.contains_key(&code);
            if tracked {
                *codes.entry(code).or_default() += 1;
            }
        }
    }
}

/// The future of a write's replies, once submitted to a group led here.
pub type PendingWrite = futures::future::BoxFuture<'static, Result<Vec<Reply>, WriteError>>;

/// What one attempt at a write came to (see [`Node::write_tagged`]).
enum Attempt {
    /// Applied: one reply per request.
    Done(Vec<Reply>),
    /// Certainly not applied, and worth another try (another leader, after an election).
    Refused(Reply),
    /// Not applied, and not worth another try.
    Final(Reply),
    /// Perhaps applied. `retry`: it went tagged, so it may be sent again.
    Unknown { reason: String, retry: bool },
    /// This leader takes no tagged writes (a replica of its speaks the previous wire version);
    /// nothing was applied.
    Untagged(NodeId),
    /// Redirected: each request gets its own `-MOVED` (only when nothing is unknown).
    Moved(Vec<Reply>),
}

impl Attempt {
    fn of_local(result: Result<Vec<Reply>, WriteError>, tagged: bool) -> Attempt {
        match result {
            Ok(replies) => Attempt::Done(replies),
            Err(WriteError::Unknown(reason)) => Attempt::Unknown { reason, retry: tagged },
            Err(WriteError::Stopped) => Attempt::Final(write_error_reply(WriteError::Stopped)),
            Err(error) => Attempt::Refused(write_error_reply(error)),
        }
    }
}

/// What an attempt needs to know of the attempts before it.
struct AttemptState<'a> {
    /// An earlier tagged attempt's outcome is unknown: only a tagged attempt may follow.
    must_tag: bool,
    /// Leaders that take no tagged writes.
    untagged_at: &'a BTreeSet<NodeId>,
    started: Instant,
    window: Duration,
}

/// The reply to a write whose outcome is unknown.
fn unknown_reply(reason: String) -> Reply {
    write_error_reply(WriteError::Unknown(reason))
}

/// The replies of a tagged write (one reply: the array of its requests' replies) as one
/// reply per request.
fn untag_replies(mut replies: Vec<Reply>, count: usize) -> Vec<Reply> {
    match replies.pop() {
        Some(Reply::Array(inner)) if inner.len() == count && replies.is_empty() => inner,
        Some(error @ Reply::Error(_)) => vec![error; count],
        _ => vec![unknown_reply("malformed reply to a tagged write".into()); count],
    }
}

/// Whether a blocking command's reply is its timeout reply (nothing taken).
fn is_empty_reply(reply: &Reply) -> bool {
    matches!(reply, Reply::Nil | Reply::NilArray)
}

/// Cancels a blocked client's wait when its `Node::block` is dropped before it ends.
struct CancelWait {
    node: Option<Arc<Node>>,
    shard: GroupId,
    waiter: concord_core::blocking::WaiterId,
}

impl Drop for CancelWait {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            let (shard, waiter) = (self.shard, self.waiter);
            node.blocked.forget(waiter);
            // Outside the runtime (a node shutting down) there is nothing left to tell.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    node.write_batch(shard, vec![Request::Unblock { waiter, error: false }]).await;
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
