//! `concord verify`: the contracts checked against real processes under faults.

use clap::Args;
use concord_core::cluster_map::REPLICATION_FACTOR_DEFAULT;
use concord_core::limits::SHARDS_MAX;
use concord_verify::{FaultKind, Options};
use std::path::PathBuf;

/// Bounds on a local cluster (one /24 network holds the nodes in namespace mode) and on the
/// clients, each a connection and a task.
const NODES_MAX: usize = 64;
const CLIENTS_MAX: usize = 1024;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Nodes in the local cluster to start.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Data shards of the local cluster (Raft groups, each owning an even share of the slots);
    /// the workload's keys spread over them.
    #[arg(long, default_value_t = 3)]
    shards: u32,
    /// Replicas of each shard, at most the nodes [default: 3, or every node when there are
    /// fewer].
    #[arg(long)]
    replication_factor: Option<usize>,
    /// Seconds of faults; the workload then runs 5 s more on the healed cluster.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Concurrent clients, each one operation at a time.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Fault kinds, comma-separated: kill (kill -9, restart), pause (SIGSTOP/SIGCONT),
    /// partition (the transport's fault injection), netns (nft between network namespaces;
    /// root only), or all.
    #[arg(long, value_delimiter = ',', default_value = "kill,pause,partition")]
    faults: Vec<String>,
    /// Verify a running cluster at these client addresses instead of starting one (only
    /// partition faults then).
    #[arg(long, value_delimiter = ',', value_name = "HOST:PORT,...")]
    target: Vec<String>,
    /// Directory for the local cluster's data and logs (emptied first).
    #[arg(long, default_value = "concord-verify")]
    dir: PathBuf,
    /// Client port of the first local node (node i: base-port + i; 0 picks free ports).
    #[arg(long, default_value_t = 0)]
    base_port: u16,
    /// Seed of the workload and the fault schedule [default: from the clock].
    #[arg(long)]
    seed: Option<u64>,
    /// Shortest and longest quiet spell between faults, in ms.
    #[arg(long, value_delimiter = ',', default_value = "1000,3000", value_name = "MIN,MAX")]
    quiet_ms: Vec<u64>,
    /// Shortest and longest fault, in ms.
    #[arg(long, value_delimiter = ',', default_value = "500,4000", value_name = "MIN,MAX")]
    hold_ms: Vec<u64>,
}

fn pair(values: &[u64], name: &str) -> Result<(u64, u64), String> {
    match values {
        [low, high] if low <= high => Ok((*low, *high)),
        _ => Err(format!("--{name} takes MIN,MAX")),
    }
}

/// Runs the verification; `Ok(false)` when it found a violation or the cluster stalled.
pub fn run(args: VerifyArgs) -> Result<bool, String> {
    if args.target.is_empty() && !(1..=NODES_MAX).contains(&args.nodes) {
        return Err(format!("--nodes must be between 1 and {NODES_MAX}"));
    }
    if !(1..=SHARDS_MAX).contains(&(args.shards as usize)) {
        return Err(format!("--shards must be between 1 and {SHARDS_MAX}"));
    }
    let replication_factor = args.replication_factor.unwrap_or(REPLICATION_FACTOR_DEFAULT.into()).min(args.nodes);
    if replication_factor == 0 {
        return Err("--replication-factor must be at least 1".into());
    }
    if args.clients > CLIENTS_MAX {
        return Err(format!("--clients must be at most {CLIENTS_MAX}"));
    }
    let mut faults: Vec<FaultKind> = Vec::new();
    for name in &args.faults {
        if name == "all" {
            faults.extend([FaultKind::Kill, FaultKind::Pause, FaultKind::Partition, FaultKind::Netns]);
        } else {
            faults.push(name.parse()?);
        }
    }
    faults.sort_unstable();
    faults.dedup();
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    });
    if args.target.is_empty() && args.dir.exists() {
        std::fs::remove_dir_all(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    }
    let options = Options {
        exe: std::env::current_exe().map_err(|e| e.to_string())?,
        target: args.target,
        nodes: args.nodes,
        shards: args.shards,
        replication_factor,
        dir: args.dir,
        base_port: args.base_port,
        clients: args.clients.max(1),
        duration_ms: args.duration * 1000,
        faults,
        quiet_ms: pair(&args.quiet_ms, "quiet-ms")?,
        hold_ms: pair(&args.hold_ms, "hold-ms")?,
        seed,
        server_flags: vec!["--log-level".into(), "info".into()],
    };
    if options.target.is_empty() {
        println!(
            "concord verify: seed {seed}, faults {:?}, {} nodes, {} shards of {} replicas",
            options.faults, options.nodes, options.shards, options.replication_factor
        );
    } else {
        println!("concord verify: seed {seed}, faults {:?}", options.faults);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let report = runtime.block_on(concord_verify::run(options))?;
    println!("{report}");
    Ok(report.passed())
}
