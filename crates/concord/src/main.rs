//! `concord`: the command-line entry point. Thin: it reads settings and hands over to the
//! node crate.

use clap::{Args, Parser, Subcommand};
use concord_node::config::Settings;
use concord_node::ServerConfig;
use std::path::PathBuf;
use std::process::ExitCode;

mod admin;
mod local;
mod verify;

// Every request allocates its arguments, log record and reply. glibc's allocator showed as an
// eighth of the consensus thread's time, worst where memory is freed on another thread than
// the one that allocated it (with --consensus-thread, and on a multi-threaded client runtime).
// jemalloc, as Redis ships with: its size classes and per-arena slabs kept a keyspace of small
// collections within a tenth of the bytes it allocates, where mimalloc's pages left a node of
// 100k ten-member sorted sets 1.67x Redis's resident size (1.31x on jemalloc, measured with
// scripts/memory-vs-redis.py).
#[global_allocator]
static ALLOCATOR: Counting = Counting(tikv_jemallocator::Jemalloc);

/// Bytes allocated and not yet freed, as Redis's `zmalloc` counts them (INFO's `used_memory`):
/// one relaxed add per allocation.
static ALLOCATED_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct Counting(tikv_jemallocator::Jemalloc);

// SAFETY: every call is passed on unchanged to jemalloc, which upholds GlobalAlloc's contract;
// the counter only observes sizes.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let pointer = unsafe { self.0.alloc(layout) };
        if !pointer.is_null() {
            ALLOCATED_BYTES.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let pointer = unsafe { self.0.alloc_zeroed(layout) };
        if !pointer.is_null() {
            ALLOCATED_BYTES.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: std::alloc::Layout) {
        unsafe { self.0.dealloc(pointer, layout) };
        ALLOCATED_BYTES.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { self.0.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            ALLOCATED_BYTES.fetch_add(new_size, std::sync::atomic::Ordering::Relaxed);
            ALLOCATED_BYTES.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        }
        moved
    }
}

fn allocated_bytes() -> u64 {
    ALLOCATED_BYTES.load(std::sync::atomic::Ordering::Relaxed) as u64
}

/// Concord: a durable, linearizable database that speaks the Redis protocol.
///
/// Every write is a Raft log entry, fsynced before it is acknowledged and applied by a
/// deterministic state machine. Any Redis client, redis-cli and redis-benchmark work unchanged.
#[derive(Parser, Debug)]
#[command(name = "concord", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a node that serves Redis clients.
    ///
    /// Settings come from flags, then CONCORD_* environment variables, then the TOML file
    /// given with --config (keys named like the flags, e.g. `port = 6380`), then defaults.
    Server(Box<ServerArgs>),
    /// Start a local cluster of N nodes and S shards on loopback in one go (Ctrl-C stops them
    /// all).
    ///
    /// Node i serves clients on base-port+i and other nodes on base-port+10000+i, with its data
    /// under <dir>/node-i and its log in <dir>/node-i.log. The first node bootstraps the cluster
    /// with the shards; the others join it, and each shard gets its replicas. Run it again on
    /// the same directory to restart the cluster.
    Local(local::LocalArgs),
    /// Administer a cluster through any of its nodes: members, joins, promotions, removals,
    /// fault injection, or any command.
    Admin(admin::AdminArgs),
    /// Check the contracts against real processes: concurrent clients record a history while
    /// faults are injected (kill -9 and restart, SIGSTOP/SIGCONT, partitions); the history is
    /// checked for linearizability, lost writes and convergence, and a report is printed.
    /// Exits non-zero on any violation.
    Verify(verify::VerifyArgs),
}

#[derive(Args, Debug)]
struct ServerArgs {
    /// TOML file with settings (same names as the flags, without the dashes' prefix).
    #[arg(long, env = "CONCORD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Port for Redis clients [default: 6379; 0 picks a free port].
    #[arg(long, env = "CONCORD_PORT")]
    port: Option<u16>,
    /// Port for other Concord nodes [default: port + 10000].
    #[arg(long, env = "CONCORD_NODE_PORT")]
    node_port: Option<u16>,
    /// Host other nodes and redirected clients use to reach this node [default: the bind
    /// address, or 127.0.0.1 when binding all interfaces].
    #[arg(long, env = "CONCORD_ANNOUNCE_HOST", value_name = "HOST")]
    announce_host: Option<String>,
    /// On a new data directory, start a new cluster with this node as its only voter (the
    /// default unless --join is given).
    #[arg(long, env = "CONCORD_BOOTSTRAP")]
    bootstrap: bool,
    /// On a new data directory, join the cluster of the node serving clients at this address.
    #[arg(long, env = "CONCORD_JOIN", value_name = "HOST:PORT")]
    join: Option<String>,
    /// Join as a non-voting learner (a read replica of every shard) rather than a voter.
    #[arg(long, env = "CONCORD_LEARNER")]
    learner: bool,
    /// With --bootstrap: the shards (Raft groups) the new cluster's 16384 slots are split
    /// into, evenly [default: 1].
    #[arg(long, env = "CONCORD_SHARDS", value_name = "N")]
    shards: Option<u32>,
    /// With --bootstrap: replicas per shard, each on a distinct node, placed as nodes join
    /// [default: 3].
    #[arg(long, env = "CONCORD_REPLICATION_FACTOR", value_name = "N")]
    replication_factor: Option<u8>,
    /// While this node leads the metadata group: when a voting member joins, move replicas
    /// to it until every node holds about as many [default: false].
    #[arg(long, env = "CONCORD_REBALANCE_ON_JOIN", value_name = "true|false")]
    rebalance_on_join: Option<bool>,
    /// While this node leads the metadata group: how long gossip must find a member down
    /// before its replicas are re-created on other nodes and it is removed; 0 never replaces
    /// [default: 60000].
    #[arg(long, env = "CONCORD_REPLACE_DEAD_AFTER_MS", value_name = "MS")]
    replace_dead_after_ms: Option<u64>,
    /// This node's failure domain (a rack, an availability zone): a shard's replicas go to
    /// distinct zones where the members offer enough of them.
    #[arg(long, env = "CONCORD_ZONE", value_name = "ZONE")]
    zone: Option<String>,
    /// What a node that is not the leader does with writes and linearizable reads: proxy
    /// forwards them to the leader; redirect answers -MOVED (for cluster-aware clients)
    /// [default: proxy].
    #[arg(long, env = "CONCORD_ROUTING", value_name = "proxy|redirect")]
    routing: Option<concord_node::config::Routing>,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long, env = "CONCORD_BIND", value_name = "ADDRESS")]
    bind: Option<String>,
    /// Directory for the log, snapshots and the node's identity [default: ./concord-data].
    #[arg(long, env = "CONCORD_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Number of logical databases (SELECT 0..N-1) [default: 16].
    #[arg(long, env = "CONCORD_DATABASES")]
    databases: Option<u32>,
    /// Most clients connected at once; more are refused [default: 10000].
    #[arg(long, env = "CONCORD_MAXCLIENTS")]
    maxclients: Option<usize>,
    /// Longest single argument, e.g. 512mb [default: 512mb].
    #[arg(long, env = "CONCORD_PROTO_MAX_BULK_LEN", value_name = "BYTES")]
    proto_max_bulk_len: Option<String>,
    /// Most request bytes one client may have buffered, e.g. 1gb [default: 1gb].
    #[arg(long, env = "CONCORD_CLIENT_QUERY_BUFFER_LIMIT", value_name = "BYTES")]
    client_query_buffer_limit: Option<String>,
    /// Close clients idle for this many seconds (0: never) [default: 0].
    #[arg(long, env = "CONCORD_TIMEOUT", value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Raft heartbeat interval [default: 100].
    #[arg(long, env = "CONCORD_HEARTBEAT_INTERVAL_MS", value_name = "MS")]
    heartbeat_interval_ms: Option<u64>,
    /// Shortest election timeout: a follower that hears from no leader this long starts an
    /// election (more than twice the heartbeat interval) [default: 300].
    #[arg(long, env = "CONCORD_ELECTION_TIMEOUT_MIN_MS", value_name = "MS")]
    election_timeout_min_ms: Option<u64>,
    /// Longest election timeout [default: 600].
    #[arg(long, env = "CONCORD_ELECTION_TIMEOUT_MAX_MS", value_name = "MS")]
    election_timeout_max_ms: Option<u64>,
    /// Take a snapshot (and compact the log) after this many log entries [default: 20000].
    #[arg(long, env = "CONCORD_SNAPSHOT_AFTER_ENTRIES", value_name = "ENTRIES")]
    snapshot_after_entries: Option<u64>,
    /// Log entries kept behind a snapshot for lagging followers [default: 1000].
    #[arg(long, env = "CONCORD_LOG_ENTRIES_KEPT", value_name = "ENTRIES")]
    log_entries_kept: Option<u64>,
    /// Longest a batch of writes waits for the clients it expects (those the last batch
    /// answered, and those that queued meanwhile), so that one fsync serves them all; 0 never
    /// waits [default: 200].
    #[arg(long, env = "CONCORD_BATCH_LINGER_US", value_name = "MICROSECONDS")]
    batch_linger_us: Option<u64>,
    /// Threads serving clients (and consensus, without --consensus-thread) [default: half the
    /// cores, at least 1].
    #[arg(long, env = "CONCORD_WORKER_THREADS", value_name = "THREADS")]
    worker_threads: Option<usize>,
    /// Run consensus and log writes on threads of their own instead of the client threads.
    /// Off by default: with few cores, waking another thread for every batch costs more than
    /// it gives; with many cores and heavy client load, it keeps heartbeats on time.
    #[arg(long, env = "CONCORD_CONSENSUS_THREAD", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    consensus_thread: Option<bool>,
    /// Log filter: error, warn, info, debug, trace, or a tracing directive [default: info].
    #[arg(long, env = "CONCORD_LOG_LEVEL", value_name = "LEVEL")]
    log_level: Option<String>,
}

impl ServerArgs {
    fn settings(self) -> Result<Settings, String> {
        let file = match &self.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        let given = Settings {
            bind: self.bind,
            port: self.port,
            node_port: self.node_port,
            announce_host: self.announce_host,
            bootstrap: self.bootstrap.then_some(true),
            join: self.join,
            learner: self.learner.then_some(true),
            shards: self.shards,
            replication_factor: self.replication_factor,
            rebalance_on_join: self.rebalance_on_join,
            replace_dead_after_ms: self.replace_dead_after_ms,
            zone: self.zone,
            routing: self.routing,
            data_dir: self.data_dir,
            databases: self.databases,
            maxclients: self.maxclients,
            proto_max_bulk_len: self.proto_max_bulk_len,
            client_query_buffer_limit: self.client_query_buffer_limit,
            timeout: self.timeout,
            heartbeat_interval_ms: self.heartbeat_interval_ms,
            election_timeout_min_ms: self.election_timeout_min_ms,
            election_timeout_max_ms: self.election_timeout_max_ms,
            snapshot_after_entries: self.snapshot_after_entries,
            log_entries_kept: self.log_entries_kept,
            batch_linger_us: self.batch_linger_us,
            worker_threads: self.worker_threads,
            consensus_thread: self.consensus_thread,
            log_level: self.log_level,
        };
        Ok(given.over(file))
    }
}

fn main() -> ExitCode {
    concord_node::info::set_allocator(concord_node::info::Allocator { name: "jemalloc", allocated_bytes });
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server(args) => args.settings().and_then(ServerConfig::from_settings).and_then(serve),
        Command::Local(args) => local::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Verify(args) => match verify::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(error) => Err(error),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("concord: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: ServerConfig) -> Result<(), String> {
    // openraft narrates every election at info; keep it to warnings unless asked for by name.
    let directives = if config.log_level.contains("openraft") {
        config.log_level.clone()
    } else {
        format!("{},openraft=warn", config.log_level)
    };
    let filter = tracing_subscriber::EnvFilter::try_new(directives).map_err(|e| format!("invalid log level: {e}"))?;
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(concord_node::run(config, concord_node::Env::real(), shutdown_signal()))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
