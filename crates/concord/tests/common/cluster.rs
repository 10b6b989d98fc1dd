//! Several `concord` processes forming a cluster on loopback, for multi-node tests.

#![allow(dead_code)]

use super::spawn;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

pub struct Member {
    pub child: Option<Child>,
    pub port: u16,
    pub node_port: u16,
    pub dir: PathBuf,
    pub id: String,
    /// Arguments of this node alone (its `--zone`), after the cluster's.
    pub own: Vec<String>,
}

pub struct TestCluster {
    pub members: Vec<Member>,
    pub extra: Vec<String>,
    _temp: tempfile::TempDir,
}

/// Ports below Linux's ephemeral range (32768-60999): a port the kernel hands out for port 0
/// is also what it picks as the source of outgoing connections, which can take it between this
/// choice and the node's bind, or while a killed node is down before its restart.
const PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A port of `PORTS` free now, picked at random so that tests running side by side rarely
/// try the same one.
fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let port = PORTS.start + (hasher.finish() % u64::from(PORTS.end - PORTS.start)) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

impl TestCluster {
    /// Starts `n` voting nodes: the first bootstraps, the others join it. Rebalancing on join
    /// is off unless `extra` sets it (explicitly, whatever a node's default): a test's layout
    /// then stays what the joins made it, rather than change under it once it has settled.
    pub fn start(n: usize, extra: &[&str]) -> TestCluster {
        let temp = tempfile::tempdir().unwrap();
        let mut extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        if !extra.iter().any(|arg| arg == "--rebalance-on-join") {
            extra.extend(["--rebalance-on-join".to_string(), "false".to_string()]);
        }
        let mut cluster = TestCluster { members: Vec::new(), extra, _temp: temp };
        for _ in 0..n {
            cluster.add(false);
        }
        if n > 0 {
            cluster.wait_for_voters(n);
        }
        cluster
    }

    /// Starts one voting node in each of `zones` (`--zone`), in order, as `start` does.
    pub fn start_in_zones(zones: &[&str], extra: &[&str]) -> TestCluster {
        let mut cluster = TestCluster::start(0, extra);
        for zone in zones {
            cluster.add_with(false, &["--zone", zone]);
        }
        cluster.wait_for_voters(zones.len());
        cluster
    }

    /// Starts one more node and has it join (as a learner if asked); returns its index.
    pub fn add(&mut self, learner: bool) -> usize {
        self.add_with(learner, &[])
    }

    /// As `add`, with arguments for this node alone.
    pub fn add_with(&mut self, learner: bool, own: &[&str]) -> usize {
        let i = self.members.len();
        let dir = self._temp.path().join(format!("node-{i}"));
        let (port, node_port) = (free_port(), free_port());
        let own = own.iter().map(|arg| arg.to_string()).collect();
        self.members.push(Member { child: None, port, node_port, dir, id: String::new(), own });
        let join = if i == 0 { None } else { Some(format!("127.0.0.1:{}", self.members[0].port)) };
        // Another test may take a port between its choice and the bind: choose again.
        for _ in 0..5 {
            match self.try_launch(i, join.clone(), learner) {
                Ok(()) => break,
                Err(error) if error.contains("Address already in use") => {
                    let _ = std::fs::remove_dir_all(&self.members[i].dir);
                    (self.members[i].port, self.members[i].node_port) = (free_port(), free_port());
                }
                Err(error) => panic!("node {i} failed to start: {error}"),
            }
        }
        assert!(self.alive(i), "node {i} found no free ports");
        let mut con = self.connect(i);
        self.members[i].id = redis::cmd("CLUSTER").arg("MYID").query(&mut con).unwrap();
        if i > 0 {
            self.wait_for_member(&self.members[i].id.clone());
        }
        i
    }

    /// Waits until the cluster lists `id` as a member.
    pub fn wait_for_member(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut self.connect(0)).unwrap_or_default();
            if nodes.lines().any(|line| line.starts_with(id)) {
                return;
            }
            assert!(Instant::now() < deadline, "{id} never joined");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn launch(&mut self, i: usize, join: Option<String>, learner: bool) {
        self.try_launch(i, join, learner).unwrap_or_else(|e| panic!("node {i} failed to start: {e}"));
    }

    fn try_launch(&mut self, i: usize, join: Option<String>, learner: bool) -> Result<(), String> {
        let member = &self.members[i];
        let (port, node_port) = (member.port.to_string(), member.node_port.to_string());
        let mut args: Vec<String> = vec!["--port".into(), port, "--node-port".into(), node_port];
        match join {
            None => args.push("--bootstrap".into()),
            Some(seed) => {
                args.push("--join".into());
                args.push(seed);
            }
        }
        if learner {
            args.push("--learner".into());
        }
        args.extend(self.extra.iter().cloned());
        args.extend(member.own.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (child, _) = spawn(&member.dir.clone(), &args)?;
        self.members[i].child = Some(child);
        Ok(())
    }

    pub fn address(&self, i: usize) -> SocketAddr {
        format!("127.0.0.1:{}", self.members[i].port).parse().unwrap()
    }

    pub fn connect(&self, i: usize) -> redis::Connection {
        let client = redis::Client::open(format!("redis://{}/", self.address(i))).unwrap();
        let con = client.get_connection_with_timeout(Duration::from_secs(5)).unwrap();
        con.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        con
    }

    pub fn alive(&self, i: usize) -> bool {
        self.members[i].child.is_some()
    }

    /// kill -9.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Restarts a killed node on its data directory and ports.
    pub fn restart(&mut self, i: usize) {
        assert!(!self.alive(i));
        self.launch(i, None, false);
    }

    /// Asks a live node who leads, until one does.
    pub fn leader(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for i in (0..self.members.len()).filter(|&i| self.alive(i)) {
                let Ok(client) = redis::Client::open(format!("redis://{}/", self.address(i))) else { continue };
                let Ok(mut con) = client.get_connection_with_timeout(Duration::from_secs(2)) else { continue };
                let Ok(info) = redis::cmd("CLUSTER").arg("INFO").query::<String>(&mut con) else { continue };
                let leader =
                    info.lines().find_map(|l| l.strip_prefix("cluster_leader:")).unwrap_or("").trim().to_string();
                if let Some(index) = self.members.iter().position(|m| m.id == leader && !leader.is_empty()) {
                    if self.alive(index) {
                        return index;
                    }
                }
            }
            assert!(Instant::now() < deadline, "no leader emerged");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for_voters(&self, voters: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut con = self.connect(0);
            let members: Vec<std::collections::HashMap<String, redis::Value>> =
                redis::cmd("CLUSTER").arg("MEMBERS").query(&mut con).unwrap_or_default();
            let count =
                members.iter().filter(|m| m.get("role") == Some(&redis::Value::BulkString(b"voter".to_vec()))).count();
            if count >= voters {
                return;
            }
            assert!(Instant::now() < deadline, "only {count} of {voters} voters");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until node `i` sees every shard's replicas in place with a leader, and (for a while
    /// at most) leaders spread as the map prefers.
    pub fn wait_for_settled(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut settled_at: Option<Instant> = None;
        loop {
            let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut self.connect(i)).unwrap_or_default();
            if info.contains("cluster_settled:1") && info.contains("cluster_state:ok") {
                let since = *settled_at.get_or_insert_with(Instant::now);
                if info.contains("cluster_leaders_preferred:1") || since.elapsed() > Duration::from_secs(20) {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "the cluster did not settle: {info}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The members leading shards, as node `i` sees them: (index, slot ranges it leads).
    pub fn masters(&self, i: usize) -> Vec<(usize, Vec<String>)> {
        let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut self.connect(i)).unwrap();
        nodes
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                let index = self.members.iter().position(|m| m.id == fields[0])?;
                let slots: Vec<String> = fields.get(8..).unwrap_or_default().iter().map(|s| s.to_string()).collect();
                (fields[2].contains("master") && !slots.is_empty()).then_some((index, slots))
            })
            .collect()
    }

    /// Waits until every live node reports the same state digest; returns it.
    pub fn converged_digest(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let digests: Vec<String> = (0..self.members.len())
                .filter(|&i| self.alive(i))
                .map(|i| redis::cmd("DEBUG").arg("DIGEST").query::<String>(&mut self.connect(i)).unwrap())
                .collect();
            if digests.windows(2).all(|pair| pair[0] == pair[1]) {
                return digests[0].clone();
            }
            assert!(Instant::now() < deadline, "replicas did not converge: {digests:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// INFO field of a node.
    pub fn info_field(&self, i: usize, section: &str, field: &str) -> String {
        let info: String = redis::cmd("INFO").arg(section).query(&mut self.connect(i)).unwrap();
        info.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap_or_default().trim().to_string()
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
    }
}
