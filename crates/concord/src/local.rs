//! `concord local`: an N-node cluster on loopback, one child process per node.

use clap::Args;
use concord_core::Reply;
use concord_node::client::Client;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct LocalArgs {
    /// Nodes in the cluster.
    #[arg(long, default_value_t = 3)]
    nodes: u16,
    /// Shards (Raft groups) the slots are split into.
    #[arg(long, default_value_t = 3)]
    shards: u32,
    /// Replicas per shard, on distinct nodes.
    #[arg(long, default_value_t = 3)]
    replication_factor: u8,
    /// Client port of the first node; node i uses base-port + i.
    #[arg(long, default_value_t = 6379)]
    base_port: u16,
    /// Directory holding every node's data and log.
    #[arg(long, default_value = "concord-local")]
    dir: PathBuf,
    /// Routing for requests that need the leader: proxy or redirect.
    #[arg(long, default_value = "proxy")]
    routing: String,
    /// Log level for the nodes.
    #[arg(long, default_value = "info")]
    log_level: String,
}

struct Node {
    child: Child,
    port: u16,
}

pub fn run(args: LocalArgs) -> Result<(), String> {
    if args.nodes == 0 {
        return Err("a cluster needs at least one node".into());
    }
    std::fs::create_dir_all(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let first = format!("127.0.0.1:{}", args.base_port);
    let mut nodes: Vec<Node> = Vec::new();
    for i in 0..args.nodes {
        let port = args.base_port.checked_add(i).ok_or("port out of range")?;
        let node_port = port.checked_add(10_000).ok_or("port out of range")?;
        let data = args.dir.join(format!("node-{i}"));
        let log = std::fs::File::create(args.dir.join(format!("node-{i}.log"))).map_err(|e| e.to_string())?;
        let mut command = Command::new(&exe);
        command
            .args(["server", "--bind", "127.0.0.1", "--port", &port.to_string(), "--node-port", &node_port.to_string()])
            .args(["--routing", &args.routing, "--log-level", &args.log_level])
            .arg("--data-dir")
            .arg(&data)
            .stdout(Stdio::piped())
            .stderr(log);
        if i == 0 {
            command.arg("--bootstrap").args(["--shards", &args.shards.to_string()]);
            command.args(["--replication-factor", &args.replication_factor.to_string()]);
        } else {
            command.args(["--join", &first]);
        }
        let mut child = command.spawn().map_err(|e| format!("cannot start node {i}: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        match lines.next() {
            Some(Ok(line)) if line.contains("ready") => println!("node {i}: {line}"),
            _ => {
                let _ = child.kill();
                stop(&mut nodes);
                return Err(format!(
                    "node {i} failed to start; see {}",
                    args.dir.join(format!("node-{i}.log")).display()
                ));
            }
        }
        std::thread::spawn(move || for _ in lines {});
        nodes.push(Node { child, port });
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let formed = runtime.block_on(wait_for_voters(&first, usize::from(args.nodes)));
    match formed {
        Ok(()) => {
            println!(
                "cluster ready: {} nodes, {} shards of {} replicas, routing {}",
                args.nodes,
                args.shards,
                args.replication_factor.min(args.nodes as u8),
                args.routing
            );
            for node in &nodes {
                println!("  redis-cli -p {}", node.port);
            }
            println!("data and logs in {}; Ctrl-C stops every node", args.dir.display());
        }
        Err(error) => {
            stop(&mut nodes);
            return Err(error);
        }
    }
    runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    });
    println!("stopping {} nodes", nodes.len());
    stop(&mut nodes);
    Ok(())
}

/// How long `local` waits, once every replica is in place, for leaders to spread over the
/// nodes before it reports the cluster ready anyway.
const SPREAD_WAIT_SECS: u64 = 30;

/// Waits until the cluster reports the expected number of voters and every shard's replicas in
/// place, then (for a while at most) until each shard is led by the replica the map prefers,
/// so that leaders are spread over the nodes.
async fn wait_for_voters(address: &str, voters: usize) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut settled_at: Option<Instant> = None;
    loop {
        if let Ok(mut client) = Client::connect(address, Duration::from_secs(5)).await {
            let info = match client.call(&["CLUSTER", "INFO"]).await {
                Ok(Reply::Bulk(text) | Reply::Verbatim(text)) => String::from_utf8_lossy(&text).into_owned(),
                _ => String::new(),
            };
            let count = match client.call(&["CLUSTER", "MEMBERS"]).await {
                Ok(Reply::Array(members)) => members.iter().filter(|member| is_voter(member)).count(),
                _ => 0,
            };
            if count >= voters && info.contains("cluster_settled:1") && info.contains("cluster_state:ok") {
                let since = *settled_at.get_or_insert_with(Instant::now);
                if info.contains("cluster_leaders_preferred:1") {
                    return Ok(());
                }
                if since.elapsed() > Duration::from_secs(SPREAD_WAIT_SECS) {
                    println!("leaders are not yet spread evenly over the nodes; continuing");
                    return Ok(());
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!("the cluster did not reach {voters} voters with every shard in place within 120 s"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether a CLUSTER MEMBERS entry is a voter in place (RESP2 lists fields flat).
fn is_voter(member: &Reply) -> bool {
    match member {
        Reply::Map(fields) => fields.iter().any(|(k, v)| *k == Reply::bulk("role") && *v == Reply::bulk("voter")),
        Reply::Array(items) => items.windows(2).any(|w| w[0] == Reply::bulk("role") && w[1] == Reply::bulk("voter")),
        _ => false,
    }
}

/// SIGTERM every node, then wait for each.
fn stop(nodes: &mut [Node]) {
    for node in nodes.iter() {
        // SAFETY: signalling our own child processes.
        unsafe { libc::kill(node.child.id() as i32, libc::SIGTERM) };
    }
    for node in nodes.iter_mut() {
        let _ = node.child.wait();
    }
}
