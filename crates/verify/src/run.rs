//! One verification run: start (or find) the cluster, drive the workload while the nemesis
//! injects faults, heal, let the cluster show it recovers, read every key, compare the
//! replicas, and judge the history.

use crate::cluster::{Layout, LocalCluster};
use crate::driver::{execute, replica_state, replicas_to_ask, shard_of, shards, ShardView};
use crate::nemesis::{unix_ms, Nemesis};
use crate::netns::Netns;
use crate::report::Report;
use concord_check::check_all;
use concord_check::converge::Replica;
use concord_check::history::{Call, History, Outcome, Value};
use concord_check::workload::{self, Workload, WorkloadConfig};
use concord_core::rng::Rng;
use concord_node::client::Client;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a client waits for a reply before it counts the outcome as unknown.
const OPERATION_TIMEOUT_MS: u64 = 10_000;
/// After the faults, the workload goes on this long: writes must succeed again.
const RECOVERY_MS: u64 = 5_000;
/// Final reads and convergence must succeed within this.
const SETTLE_MAX_MS: u64 = 30_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    Kill,
    Pause,
    Partition,
    Netns,
}

impl std::str::FromStr for FaultKind {
    type Err = String;
    fn from_str(text: &str) -> Result<FaultKind, String> {
        match text {
            "kill" => Ok(FaultKind::Kill),
            "pause" => Ok(FaultKind::Pause),
            "partition" => Ok(FaultKind::Partition),
            "netns" => Ok(FaultKind::Netns),
            other => Err(format!("unknown fault {other:?} (known: kill, pause, partition, netns)")),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    /// The `concord` executable that runs local nodes.
    pub exe: PathBuf,
    /// A running cluster's client addresses; none: start a local one.
    pub target: Vec<String>,
    pub nodes: usize,
    /// Data shards of a local cluster, and replicas of each.
    pub shards: u32,
    pub replication_factor: usize,
    pub dir: PathBuf,
    /// 0: free ports.
    pub base_port: u16,
    pub clients: usize,
    pub duration_ms: u64,
    pub faults: Vec<FaultKind>,
    /// Quiet spells between faults and how long faults last, as (shortest, longest) in ms.
    pub quiet_ms: (u64, u64),
    pub hold_ms: (u64, u64),
    pub seed: u64,
    /// Flags every local node gets.
    pub server_flags: Vec<String>,
}

/// What the clients share.
struct Shared {
    history: Mutex<History>,
    workload: Mutex<Workload>,
    addresses: Vec<String>,
    start_ms: u64,
    /// When the clients stop: set once the faults are healed.
    stop_ms: AtomicU64,
}

/// A workload client: one connection at a time (to a node picked at random, again after each
/// failure), one operation at a time.
async fn client(index: u32, shared: Arc<Shared>, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut connection: Option<Client> = None;
    while unix_ms() < shared.stop_ms.load(Ordering::Relaxed) {
        let Some(client) = connection.as_mut() else {
            let address = &shared.addresses[rng.below(shared.addresses.len() as u64) as usize];
            match Client::connect(address, Duration::from_millis(OPERATION_TIMEOUT_MS)).await {
                Ok(client) => connection = Some(client),
                Err(_) => tokio::time::sleep(Duration::from_millis(50 + rng.below(100))).await,
            }
            continue;
        };
        let call = {
            let mut workload = shared.workload.lock().expect("workload");
            workload.at(unix_ms() - shared.start_ms);
            workload.next_call(index)
        };
        let invoked_us = unix_us();
        let reply = execute(client, &call).await;
        let completed_us = unix_us().max(invoked_us);
        let outcome = workload::outcome(&call, reply.as_ref().map_err(Clone::clone));
        if reply.is_err() {
            connection = None;
        }
        shared.workload.lock().expect("workload").observe(&call, &outcome);
        shared.history.lock().expect("history").push(index, call, invoked_us, completed_us, outcome);
    }
}

fn unix_us() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// Reads every key (retrying refusals through each node in turn) and records the reads.
async fn final_reads(shared: &Shared, reader: u32, liveness: &mut Vec<String>) -> BTreeMap<String, Value> {
    let keys = shared.workload.lock().expect("workload").keys();
    let deadline_ms = unix_ms() + SETTLE_MAX_MS;
    let mut finals = BTreeMap::new();
    let mut node = 0;
    for key in keys {
        loop {
            let call = Call::One(workload::final_read(&key));
            let invoked_us = unix_us();
            let reply =
                match Client::connect(&shared.addresses[node], Duration::from_millis(OPERATION_TIMEOUT_MS)).await {
                    Ok(mut client) => execute(&mut client, &call).await,
                    Err(error) => Err(error.to_string()),
                };
            let outcome = workload::outcome(&call, reply.as_ref().map_err(Clone::clone));
            if let Outcome::Done(values) = &outcome {
                finals.insert(key.clone(), values[0].clone());
                shared.history.lock().expect("history").push(
                    reader,
                    call,
                    invoked_us,
                    unix_us().max(invoked_us),
                    outcome,
                );
                break;
            }
            if unix_ms() > deadline_ms {
                liveness.push(format!("the final read of {key} did not succeed ({outcome})"));
                return finals;
            }
            node = (node + 1) % shared.addresses.len();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    finals
}

/// Liveness per shard: once the faults are healed, a write to each shard (through each node
/// in turn, on fresh connections) must succeed by `end_ms`; what did not, as findings.
/// Probes, because the workload's keys of the moment need not fall in every shard.
async fn probe_shards(addresses: &[String], namespace: &str, end_ms: u64) -> Vec<String> {
    let shards = shard_map(addresses).await;
    let mut findings = Vec::new();
    let mut attempt = 0usize;
    for shard in &shards {
        let key = (0u64..)
            .map(|n| format!("{namespace}probe:{n}"))
            .find(|key| shard_of(&shards, key) == Some(shard.group))
            .expect("every shard owns slots");
        loop {
            let address = &addresses[attempt % addresses.len()];
            attempt += 1;
            let written = match Client::connect(address, Duration::from_millis(OPERATION_TIMEOUT_MS)).await {
                Ok(mut client) => matches!(client.call(&["SET", &key, "1"]).await, Ok(concord_core::Reply::Status(_))),
                Err(_) => false,
            };
            if written {
                break;
            }
            if unix_ms() > end_ms {
                findings.push(format!("no write to shard {} succeeded after the faults were healed", shard.group));
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    findings
}

/// The shards as the first node that answers sees them (none if no node does).
async fn shard_map(addresses: &[String]) -> Vec<ShardView> {
    for address in addresses {
        if let Ok(mut client) = Client::connect(address, Duration::from_millis(OPERATION_TIMEOUT_MS)).await {
            if let Some(shards) = shards(&mut client).await {
                return shards;
            }
        }
    }
    Vec::new()
}

/// Every group's replicas' applied indexes and digests, once each group's replicas agree (or
/// as they stand at the deadline).
async fn replicas(addresses: &[String], ids: &[String]) -> Vec<Replica> {
    let deadline_ms = unix_ms() + SETTLE_MAX_MS;
    loop {
        let mut replicas = Vec::new();
        for asked in replicas_to_ask(&shard_map(addresses).await, ids) {
            let (node, state) = match asked.node {
                Ok(index) => {
                    let address = &addresses[index];
                    let state = match Client::connect(address, Duration::from_millis(OPERATION_TIMEOUT_MS)).await {
                        Ok(mut client) => replica_state(&mut client, asked.group).await,
                        Err(_) => None,
                    };
                    (address.clone(), state)
                }
                // A node the map places a shard on that is none of ours cannot be asked.
                Err(id) => (format!("node {id}"), None),
            };
            replicas.push(Replica { group: asked.group, node, state });
        }
        if concord_check::converge::check(&replicas).is_empty() || unix_ms() > deadline_ms {
            return replicas;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn node_ids(addresses: &[String]) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    for address in addresses {
        let mut client =
            Client::connect(address, Duration::from_secs(5)).await.map_err(|e| format!("{address}: {e}"))?;
        match client.call(&["CLUSTER", "MYID"]).await {
            Ok(concord_core::Reply::Bulk(id)) => ids.push(String::from_utf8_lossy(&id).into_owned()),
            other => return Err(format!("{address}: CLUSTER MYID answered {other:?}")),
        }
    }
    Ok(ids)
}

/// Runs the verification and returns its report.
pub async fn run(options: Options) -> Result<Report, String> {
    if options.faults.contains(&FaultKind::Netns) {
        if let Some(why) = Netns::unavailable() {
            return Err(why);
        }
    }
    let nodes = if options.target.is_empty() { options.nodes } else { options.target.len() };
    if nodes < 2 && options.faults.iter().any(|kind| matches!(kind, FaultKind::Partition | FaultKind::Netns)) {
        return Err("partitions need at least two nodes".into());
    }
    let local = options.target.is_empty();
    if !local && options.faults.iter().any(|kind| *kind != FaultKind::Partition) {
        return Err("against a given cluster only partition faults are possible (kill, pause and netns need nodes started here)".into());
    }
    let mut cluster = if local {
        let netns = options.faults.contains(&FaultKind::Netns);
        Some(
            LocalCluster::start(
                &options.exe,
                &options.dir,
                Layout { nodes: options.nodes, shards: options.shards, replication_factor: options.replication_factor },
                options.base_port,
                options.server_flags.clone(),
                netns,
            )
            .await?,
        )
    } else {
        None
    };
    let addresses = cluster.as_ref().map_or_else(|| options.target.clone(), LocalCluster::addresses);
    let ids = node_ids(&addresses).await?;
    let start_ms = unix_ms();
    let namespace = format!("verify-{start_ms}:");
    let config = WorkloadConfig { namespace: namespace.clone(), ..WorkloadConfig::default() };
    let shared = Arc::new(Shared {
        history: Mutex::new(History::default()),
        workload: Mutex::new(Workload::new(config, options.seed)),
        addresses: addresses.clone(),
        start_ms,
        stop_ms: AtomicU64::new(u64::MAX),
    });
    let healed_ms = start_ms + options.duration_ms;
    let mut tasks = Vec::new();
    for index in 0..options.clients {
        let seed = options.seed.wrapping_mul(1_000_003).wrapping_add(index as u64 + 1);
        tasks.push(tokio::spawn(client(index as u32, shared.clone(), seed)));
    }
    let mut nemesis = Nemesis {
        kinds: options.faults.clone(),
        rng: Rng::new(options.seed ^ 0x006e_656d_6573_6973),
        addresses: addresses.clone(),
        ids: ids.clone(),
        log: Vec::new(),
        quiet_ms: options.quiet_ms,
        hold_ms: options.hold_ms,
    };
    let faulted = nemesis.run(cluster.as_mut(), healed_ms).await;
    // Heal whatever the nemesis left (it heals each fault itself unless it failed midway).
    if let Some(cluster) = cluster.as_mut() {
        if let Some(netns) = cluster.netns() {
            netns.heal()?;
        }
        cluster.revive_all().await?;
    }
    nemesis.heal_links().await;
    faulted?;
    let healed_ms = unix_ms().max(healed_ms);
    let end_ms = healed_ms + RECOVERY_MS;
    shared.stop_ms.store(end_ms, Ordering::Relaxed);
    let mut liveness = probe_shards(&addresses, &namespace, end_ms).await;
    for task in tasks {
        let _ = task.await;
    }
    let finals = final_reads(&shared, options.clients as u32, &mut liveness).await;
    let replicas = replicas(&addresses, &ids).await;
    let shards = shard_map(&addresses).await;
    if let Some(cluster) = cluster.as_mut() {
        cluster.stop().await;
    }
    let shared = Arc::try_unwrap(shared).ok().expect("the clients are done");
    let history = shared.history.into_inner().expect("history");
    let recovered = history.ops.iter().any(|op| {
        op.invoked_us / 1000 >= healed_ms && !op.call.is_read_only() && matches!(op.outcome, Outcome::Done(_))
    });
    if !recovered {
        liveness.push(format!("no write succeeded in the {RECOVERY_MS} ms after the faults were healed"));
    }
    let verdict = check_all(&history, &finals, &replicas);
    Ok(Report {
        nodes: addresses.len(),
        shards,
        clients: options.clients,
        start_ms,
        healed_ms,
        end_ms,
        history,
        faults: nemesis.log,
        verdict,
        replicas,
        liveness,
    })
}
