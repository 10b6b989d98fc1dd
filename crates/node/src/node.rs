//! The node: its data directory, its Raft group, and the operations client sessions need —
//! writes through the log, linearizable (or, on request, stale) reads, transactions, WATCH —
//! plus the leader's expiry sweep.

use crate::clients::ClientRegistry;
use crate::config::{Params, ServerConfig};
use crate::data_dir::DataDir;
use bytes::Bytes;
use concord_core::command::ReadCtx;
use concord_core::commands::ReadOp;
use concord_core::keyspace::WatchStamp;
use concord_core::limits::EXPIRE_BATCH_KEYS_MAX;
use concord_core::request::Request;
use concord_core::rng::Rng;
use concord_core::session::ExecPlan;
use concord_core::types::{Clock, DbIndex, GroupId, NodeId, TimeMs};
use concord_core::Reply;
use concord_raft::log_store::NodeLog;
use concord_raft::network::NoPeers;
use concord_raft::runtime::ConsensusRuntime;
use concord_raft::{Group, NodeInfo, ReadError, WriteError};
use concord_storage::{LogOptions, SnapshotStore, StdFs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the leader looks for keys past their time.
const EXPIRE_SWEEP_INTERVAL_MS: u64 = 100;
/// Sweep proposals per round at most, so a burst of expiries cannot crowd out clients.
const EXPIRE_SWEEP_PROPOSALS_MAX: usize = 16;

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> TimeMs {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as TimeMs)
    }
}

impl SystemClock {
    pub fn now_us(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
    }
}

/// Counters INFO reports.
#[derive(Debug, Default)]
pub struct Stats {
    pub commands_processed: AtomicU64,
    pub error_replies: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
}

pub struct Node {
    pub id: NodeId,
    pub config: ServerConfig,
    pub params: Params,
    pub clients: ClientRegistry,
    pub stats: Stats,
    pub group: Group,
    pub clock: SystemClock,
    pub started: Instant,
    /// Seed for the per-connection generators behind RANDOMKEY and HRANDFIELD.
    pub rng_seed: u64,
    log: Arc<NodeLog>,
    _data_dir: DataDir,
    /// Declared last: dropped after the group that runs on it.
    _consensus: ConsensusRuntime,
}

/// The error reply for a write that failed.
pub fn write_error_reply(error: WriteError) -> Reply {
    Reply::from(match error {
        WriteError::NotLeader { .. } => concord_core::Error::new(
            "TRYAGAIN no leader for this shard right now (election in progress); the command was not applied, retry",
        ),
        WriteError::Unknown(reason) => concord_core::Error::new(format!(
            "UNKNOWN the write may or may not have been applied ({reason}); read back before retrying"
        )),
        WriteError::Stopped => {
            concord_core::Error::new("TRYAGAIN the server is shutting down; the command was not applied")
        }
    })
}

pub fn read_error_reply(error: ReadError) -> Reply {
    Reply::from(match error {
        ReadError::NotLeader { .. } => {
            concord_core::Error::new("TRYAGAIN no leader for this shard right now (election in progress); retry")
        }
        ReadError::NoQuorum(reason) => {
            concord_core::Error::new(format!("TRYAGAIN cannot confirm leadership with a quorum ({reason}); retry"))
        }
        ReadError::Stopped => concord_core::Error::new("TRYAGAIN the server is shutting down"),
    })
}

impl Node {
    /// Opens the data directory, recovers the log and snapshots, starts the Raft group and,
    /// on a fresh directory, makes this node its single voter.
    pub async fn start(config: ServerConfig, client_addr: String) -> Result<Arc<Node>, String> {
        let data_dir = DataDir::open(&config.data_dir)
            .map_err(|e| format!("cannot open data directory {}: {e}", config.data_dir.display()))?;
        let id = data_dir.node_id().map_err(|e| e.to_string())?;
        let fs = StdFs::shared();
        let log_dir = data_dir.log_dir();
        let log = tokio::task::spawn_blocking(move || concord_storage::Log::open(fs, &log_dir, LogOptions::default()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let log = Arc::new(log);
        let snapshots = Arc::new(SnapshotStore::new(StdFs::shared(), &data_dir.snapshot_dir()));
        // Lookup indexes get a seed no client can know, so crafted keys cannot collide in them.
        concord_core::ordered_map::set_index_seed(rand::random());
        let consensus = ConsensusRuntime::start().map_err(|e| format!("cannot start the consensus thread: {e}"))?;
        let group = Group::start(
            consensus.handle(),
            GroupId::FIRST_SHARD,
            id,
            log.clone(),
            snapshots,
            Arc::new(NoPeers),
            Arc::new(SystemClock),
            config.group_options(),
        )
        .await
        .map_err(|e| e.to_string())?;
        group.bootstrap(NodeInfo { raft_addr: String::new(), client_addr }).await.map_err(|e| e.to_string())?;
        if !group.wait_for_leader(Duration::from_secs(30)).await {
            return Err("the group elected no leader within 30 s".into());
        }
        let params = Params::new(&config);
        Ok(Arc::new(Node {
            id,
            config,
            params,
            clients: ClientRegistry::default(),
            stats: Stats::default(),
            group,
            clock: SystemClock,
            started: Instant::now(),
            rng_seed: rand::random(),
            log,
            _data_dir: data_dir,
            _consensus: consensus,
        }))
    }

    /// Proposes a write and returns its reply once applied.
    pub async fn write(&self, request: Request) -> Reply {
        self.group.propose(request).await.unwrap_or_else(write_error_reply)
    }

    /// Runs a read against the applied state as it stands, with this node's clock.
    pub fn read_local(&self, db: DbIndex, op: &ReadOp, rng: &mut Rng) -> Reply {
        let now_ms = self.clock.now_ms();
        self.group.read(|applied| op.run(applied.machine.keyspace(), &mut ReadCtx { db, now_ms, rng }))
    }

    /// WATCH: each key's stamp, read at a linearizable point.
    pub async fn watch(&self, db: DbIndex, keys: Vec<Bytes>, stale: bool) -> Result<Vec<(Bytes, WatchStamp)>, Reply> {
        if !stale {
            self.group.request_read_barrier().await.map_err(read_error_reply)?;
        }
        let now_ms = self.clock.now_ms();
        Ok(self.group.read(|applied| {
            let keyspace = applied.machine.keyspace();
            let index = applied.machine.applied_index();
            keys.into_iter()
                .map(|key| {
                    let stamp = keyspace.db(db).watch_stamp(&key, now_ms, index);
                    (key, stamp)
                })
                .collect()
        }))
    }

    /// EXEC: proposes the transaction and assembles its reply.
    pub async fn exec(&self, plan: ExecPlan) -> (Reply, Option<DbIndex>) {
        let request = plan.request.clone();
        match self.group.propose(request).await {
            Ok(Reply::NilArray) => (Reply::NilArray, None),
            Ok(applied) => {
                let db = plan.db_after;
                (plan.reply(applied), Some(db))
            }
            Err(error) => (write_error_reply(error), None),
        }
    }

    /// A digest of the replicated state, as hex (DEBUG DIGEST).
    pub fn digest(&self) -> String {
        format!("{:032x}", self.group.read(|applied| applied.machine.digest()))
    }

    /// The leader's expiry sweep: proposes removal of keys whose time has passed, in bounded
    /// batches, so expired keys do not linger in memory when nobody touches them.
    pub async fn sweep_expired(self: Arc<Self>) {
        let mut interval = tokio::time::interval(Duration::from_millis(EXPIRE_SWEEP_INTERVAL_MS));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if !self.group.is_leader() {
                continue;
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

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops the Raft group and flushes the log.
    pub async fn shutdown(&self) {
        self.group.shutdown().await;
        let log = self.log.clone();
        let _ = tokio::task::spawn_blocking(move || log.close()).await;
    }

    pub fn count_command(&self, reply: &Reply) {
        self.stats.commands_processed.fetch_add(1, Ordering::Relaxed);
        if reply.is_error() {
            self.stats.error_replies.fetch_add(1, Ordering::Relaxed);
        }
    }
}
