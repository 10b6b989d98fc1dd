//! A local cluster of `concord server` child processes that the nemesis can kill -9, restart,
//! pause (SIGSTOP) and resume (SIGCONT). Each node's data lives in `<dir>/node-i`, its log in
//! `<dir>/node-i.log`; with network namespaces each node runs in its own (see [`crate::netns`]).

use crate::driver::voters;
use crate::netns::Netns;
use concord_node::client::Client;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a node may take to print that it is ready.
const READY_TIMEOUT_MS: u64 = 60_000;
/// How long the cluster may take to count every node as a voter.
const FORMATION_TIMEOUT_MS: u64 = 120_000;

pub struct LocalCluster {
    exe: PathBuf,
    dir: PathBuf,
    nodes: Vec<LocalNode>,
    /// Settings every node gets (election timeouts and the like).
    extra: Vec<String>,
    netns: Option<Netns>,
}

struct LocalNode {
    host: String,
    port: u16,
    node_port: u16,
    child: Option<Child>,
    paused: bool,
}

/// A free port on loopback (a race with other programs is possible, and harmless in tests).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn signal(child: &Child, signal: i32) {
    if let Some(pid) = child.id() {
        // SAFETY: signalling a child process of ours that has not been reaped yet.
        unsafe { libc::kill(pid as i32, signal) };
    }
}

/// The shape of a local cluster.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub nodes: usize,
    /// Data shards (Raft groups), each owning an even share of the slots.
    pub shards: u32,
    /// Replicas per shard. Placement fills each shard with the members hosting the fewest
    /// replicas as they join, so with fewer replicas than nodes the first nodes to join host
    /// the shards and the others only route.
    pub replication_factor: usize,
}

impl LocalCluster {
    /// Starts `layout.nodes` nodes: the first bootstraps the shards, the others join it;
    /// returns once all vote. `base_port` 0 picks free ports; otherwise node i serves clients
    /// on base_port + i and other nodes on base_port + 10000 + i.
    pub async fn start(
        exe: &Path,
        dir: &Path,
        layout: Layout,
        base_port: u16,
        extra: Vec<String>,
        netns: bool,
    ) -> Result<LocalCluster, String> {
        let nodes = layout.nodes;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let netns = if netns { Some(Netns::create(nodes)?) } else { None };
        let mut members = Vec::new();
        for index in 0..nodes {
            let (port, node_port) = if base_port == 0 {
                (free_port()?, free_port()?)
            } else {
                let port = base_port.checked_add(index as u16).ok_or("port out of range")?;
                (port, port.checked_add(10_000).ok_or("port out of range")?)
            };
            let host = if netns.is_some() { Netns::host(index) } else { "127.0.0.1".to_string() };
            members.push(LocalNode { host, port, node_port, child: None, paused: false });
        }
        let mut cluster = LocalCluster { exe: exe.to_path_buf(), dir: dir.to_path_buf(), nodes: members, extra, netns };
        let first = cluster.address(0);
        for index in 0..nodes {
            let join = if index == 0 {
                vec![
                    "--bootstrap".to_string(),
                    "--shards".to_string(),
                    layout.shards.to_string(),
                    "--replication-factor".to_string(),
                    layout.replication_factor.to_string(),
                ]
            } else {
                vec!["--join".to_string(), first.clone()]
            };
            cluster.launch(index, &join).await?;
        }
        cluster.wait_for_voters(nodes).await?;
        Ok(cluster)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn address(&self, index: usize) -> String {
        format!("{}:{}", self.nodes[index].host, self.nodes[index].port)
    }

    pub fn addresses(&self) -> Vec<String> {
        (0..self.len()).map(|index| self.address(index)).collect()
    }

    pub fn netns(&self) -> Option<&Netns> {
        self.netns.as_ref()
    }

    pub fn is_running(&self, index: usize) -> bool {
        self.nodes[index].child.is_some()
    }

    async fn launch(&mut self, index: usize, first_start: &[String]) -> Result<(), String> {
        let node = &self.nodes[index];
        let data = self.dir.join(format!("node-{index}"));
        let log_path = self.dir.join(format!("node-{index}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut argv: Vec<String> = Vec::new();
        if self.netns.is_some() {
            argv.extend(Netns::exec_prefix(index));
        }
        argv.push(self.exe.display().to_string());
        argv.extend(["server", "--bind", &node.host, "--announce-host", &node.host].map(String::from));
        argv.extend([
            "--port".to_string(),
            node.port.to_string(),
            "--node-port".to_string(),
            node.node_port.to_string(),
        ]);
        argv.extend(["--data-dir".to_string(), data.display().to_string()]);
        argv.extend(first_start.iter().cloned());
        argv.extend(self.extra.iter().cloned());
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start node {index}: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_millis(READY_TIMEOUT_MS), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line.contains("ready") => {}
            _ => {
                let _ = child.start_kill();
                return Err(format!("node {index} did not start; see {}", log_path.display()));
            }
        }
        // Keep reading, so the node never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.nodes[index].child = Some(child);
        self.nodes[index].paused = false;
        Ok(())
    }

    async fn wait_for_voters(&self, wanted: usize) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_millis(FORMATION_TIMEOUT_MS);
        loop {
            if let Ok(mut client) = Client::connect(&self.address(0), Duration::from_secs(5)).await {
                if let Ok(reply) = client.call(&["CLUSTER", "MEMBERS"]).await {
                    if voters(&reply) >= wanted {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(format!("the cluster did not reach {wanted} voters in {FORMATION_TIMEOUT_MS} ms"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// kill -9.
    pub async fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.nodes[index].child.take() {
            let _ = child.kill().await;
        }
        self.nodes[index].paused = false;
    }

    /// Starts a killed node again on its data directory and ports.
    pub async fn restart(&mut self, index: usize) -> Result<(), String> {
        assert!(!self.is_running(index), "restart only a node that is down");
        self.launch(index, &[]).await
    }

    /// SIGSTOP: the process stays, silent, with its connections open.
    pub fn pause(&mut self, index: usize) {
        if let Some(child) = &self.nodes[index].child {
            signal(child, libc::SIGSTOP);
            self.nodes[index].paused = true;
        }
    }

    /// SIGCONT.
    pub fn resume(&mut self, index: usize) {
        if let Some(child) = &self.nodes[index].child {
            signal(child, libc::SIGCONT);
        }
        self.nodes[index].paused = false;
    }

    /// Resumes paused nodes and restarts killed ones.
    pub async fn revive_all(&mut self) -> Result<(), String> {
        for index in 0..self.len() {
            if self.nodes[index].paused {
                self.resume(index);
            }
            if !self.is_running(index) {
                self.restart(index).await?;
            }
        }
        Ok(())
    }

    /// SIGTERM to every node (graceful), then waits for them.
    pub async fn stop(&mut self) {
        for node in &mut self.nodes {
            if let Some(child) = &node.child {
                signal(child, libc::SIGCONT);
                signal(child, libc::SIGTERM);
            }
        }
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                if tokio::time::timeout(Duration::from_secs(20), child.wait()).await.is_err() {
                    let _ = child.kill().await;
                }
            }
        }
    }
}
