//! The INFO report, in Redis's sections and field names so tools that parse it keep working.

use crate::config::Routing;
use crate::node::Node;
use bytes::Bytes;
use concord_core::SERVER_VERSION;
use concord_raft::Group;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Sections left out unless asked for by name, or by `all` or `everything` (as in Redis).
const NOT_BY_DEFAULT: &[&str] = &["commandstats"];

/// INFO's text for the requested sections (none: the default set).
pub fn report(node: &Node, requested: &[Bytes]) -> String {
    let wanted: Vec<String> = requested.iter().map(|s| String::from_utf8_lossy(s).to_ascii_lowercase()).collect();
    let all = wanted.iter().any(|s| matches!(s.as_str(), "all" | "everything"));
    let default = wanted.is_empty() || wanted.iter().any(|s| s == "default");
    let mut text = String::new();
    for &section in SECTIONS {
        let by_default = default && !NOT_BY_DEFAULT.contains(&section);
        if !all && !by_default && !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        let title = format!("{}{}", section[..1].to_ascii_uppercase(), &section[1..]);
        let _ = write!(text, "# {title}\r\n");
        for (key, value) in fields(node, section) {
            let _ = write!(text, "{key}:{value}\r\n");
        }
        if section == "commandstats" {
            for (name, stat) in node.stats.commands.counted() {
                let (calls, usec) = (stat.calls.load(Relaxed), stat.usec.load(Relaxed));
                let per_call = if calls == 0 { 0.0 } else { usec as f64 / calls as f64 };
                let (rejected, failed) = (stat.rejected_calls.load(Relaxed), stat.failed_calls.load(Relaxed));
                let _ = write!(
                    text,
                    "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n"
                );
            }
        }
        if section == "errorstats" {
            for (code, count) in node.stats.error_codes.lock().iter() {
                let _ = write!(text, "errorstat_{code}:count={count}\r\n");
            }
        }
        if section == "keyspace" {
            // Every shard hosted here, each counted once (a replica's state may be slightly behind).
            let mut dbs: std::collections::BTreeMap<u32, (usize, usize)> = std::collections::BTreeMap::new();
            for group in node.data_groups() {
                group.read(|applied| {
                    for (index, db) in applied.data().keyspace().dbs() {
                        let counts = dbs.entry(index).or_default();
                        counts.0 += db.len();
                        counts.1 += db.expires_len();
                    }
                });
            }
            for (index, (keys, expires)) in dbs {
                let _ = write!(text, "db{index}:keys={keys},expires={expires},avg_ttl=0\r\n");
            }
        }
    }
    text
}

fn fields(node: &Node, section: &str) -> Vec<(String, String)> {
    static_fields(node, section)
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .chain(dynamic_fields(node, section))
        .collect()
}

/// The group whose Raft state INFO reports: the first shard hosted here (the metadata group
/// on a node that hosts none).
fn primary(node: &Node) -> Arc<Group> {
    node.data_groups().into_iter().next().unwrap_or_else(|| node.meta.clone())
}

fn dynamic_fields(node: &Node, section: &str) -> Vec<(String, String)> {
    let applied_index = primary(node).read(|applied| applied.machine.applied_index());
    match section {
        "replication" => replication(node, applied_index),
        _ => Vec::new(),
    }
}

fn static_fields(node: &Node, section: &str) -> Vec<(&'static str, String)> {
    let metrics = primary(node).metrics();
    let expired_keys: u64 =
        node.data_groups().iter().map(|group| group.read(|applied| applied.data().expired_keys())).sum();
    let memory = resident_bytes();
    match section {
        "server" => vec![
            ("redis_version", SERVER_VERSION.to_string()),
            ("concord_version", env!("CARGO_PKG_VERSION").to_string()),
            ("redis_git_sha1", "00000000".into()),
            ("redis_git_dirty", "0".into()),
            ("redis_mode", if node.config.routing == Routing::Redirect { "cluster" } else { "standalone" }.into()),
            ("os", std::env::consts::OS.to_string()),
            ("arch_bits", "64".into()),
            ("multiplexing_api", "epoll".into()),
            ("process_id", std::process::id().to_string()),
            ("run_id", node.id.to_string()),
            ("node_id", node.id.to_string()),
            ("tcp_port", node.config.port.to_string()),
            ("server_time_usec", node.clock.now_us().to_string()),
            ("uptime_in_seconds", node.uptime().as_secs().to_string()),
            ("uptime_in_days", (node.uptime().as_secs() / 86_400).to_string()),
            ("hz", "10".into()),
            ("executable", std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default()),
            ("config_file", String::new()),
        ],
        "clients" => vec![
            ("connected_clients", node.clients.len().to_string()),
            ("maxclients", node.params.live.maxclients.load(Relaxed).to_string()),
            ("blocked_clients", node.blocked.len().to_string()),
            ("tracking_clients", "0".into()),
        ],
        "memory" => {
            let allocator = ALLOCATOR.get().map_or("libc", |allocator| allocator.name);
            let used = used_memory_bytes();
            let keys: usize =
                node.data_groups().iter().map(|group| group.read(|applied| applied.data().keyspace().len())).sum();
            let cached_scripts = node
                .data_groups()
                .first()
                .map_or(0, |group| group.read(|applied| applied.data().keyspace().scripts().len()));
            vec![
                ("used_memory", used.to_string()),
                ("used_memory_human", human_bytes(used)),
                ("used_memory_rss", memory.to_string()),
                ("used_memory_rss_human", human_bytes(memory)),
                ("mem_fragmentation_ratio", format!("{:.2}", memory as f64 / used.max(1) as f64)),
                ("keys_count", keys.to_string()),
                // Every shard holds the same script cache (SCRIPT LOAD goes to each): ask one.
                ("number_of_cached_scripts", cached_scripts.to_string()),
                ("maxmemory", node.params.value("maxmemory").unwrap_or_default()),
                ("maxmemory_policy", node.params.value("maxmemory-policy").unwrap_or_default()),
                ("mem_allocator", allocator.into()),
            ]
        }
        "persistence" => vec![
            ("loading", "0".into()),
            ("async_loading", "0".into()),
            ("rdb_changes_since_last_save", "0".into()),
            ("rdb_bgsave_in_progress", "0".into()),
            ("rdb_last_bgsave_status", "ok".into()),
            // Every acknowledged write is in the fsynced Raft log: the moral equivalent of
            // appendonly with appendfsync always.
            ("aof_enabled", "1".into()),
            ("aof_rewrite_in_progress", "0".into()),
            ("aof_last_write_status", "ok".into()),
            ("raft_log_last_index", metrics.last_log_index.unwrap_or(0).to_string()),
            ("raft_snapshot_index", metrics.snapshot.map_or(0, |id| id.index).to_string()),
            ("raft_purged_index", metrics.purged.map_or(0, |id| id.index).to_string()),
        ],
        "stats" => vec![
            ("total_connections_received", node.clients.connections_received.load(Relaxed).to_string()),
            ("total_commands_processed", node.stats.commands_processed.load(Relaxed).to_string()),
            ("total_net_input_bytes", node.stats.net_input_bytes.load(Relaxed).to_string()),
            ("total_net_output_bytes", node.stats.net_output_bytes.load(Relaxed).to_string()),
            ("rejected_connections", node.clients.rejected_connections.load(Relaxed).to_string()),
            ("expired_keys", expired_keys.to_string()),
            ("evicted_keys", "0".into()),
            ("keyspace_hits", "0".into()),
            ("keyspace_misses", "0".into()),
            ("pubsub_channels", node.broker.channels(false, None).len().to_string()),
            ("pubsub_patterns", node.broker.numpat().to_string()),
            ("pubsubshard_channels", node.broker.channels(true, None).len().to_string()),
            ("total_error_replies", node.stats.error_replies.load(Relaxed).to_string()),
            ("total_forks", "0".into()),
        ],
        "cpu" => {
            let (user, system) = cpu_seconds();
            vec![("used_cpu_sys", format!("{system:.6}")), ("used_cpu_user", format!("{user:.6}"))]
        }
        "cluster" => {
            let gossip = node.membership.view();
            let count = |health| gossip.health.values().filter(|h| **h == health).count().to_string();
            vec![
                ("cluster_enabled", if node.config.routing == Routing::Redirect { "1" } else { "0" }.into()),
                ("gossip_members_alive", count(concord_gossip::Health::Alive)),
                ("gossip_members_suspect", count(concord_gossip::Health::Suspect)),
                ("gossip_members_down", count(concord_gossip::Health::Down)),
                ("gossip_sent_bytes", gossip.bytes_sent.to_string()),
                ("gossip_received_packets", gossip.packets_received.to_string()),
                ("gossip_refused_packets", gossip.packets_refused.to_string()),
                ("gossip_newest_epoch", gossip.newest_epoch.map_or(0, |hint| hint.epoch).to_string()),
                ("gossip_maps_fetched", gossip.maps_fetched.to_string()),
            ]
        }
        _ => Vec::new(),
    }
}

/// Redis's `bytesToHuman`.
pub fn human_bytes(bytes: u64) -> String {
    let units = [("K", 1u64 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)];
    for (unit, size) in units.iter().rev() {
        if bytes >= *size {
            return format!("{:.2}{unit}", bytes as f64 / *size as f64);
        }
    }
    format!("{bytes}B")
}

/// The allocator the binary runs on, for INFO memory.
pub struct Allocator {
    pub name: &'static str,
    /// Bytes allocated and not freed: what the data and the node's buffers take.
    pub allocated_bytes: fn() -> u64,
}

static ALLOCATOR: std::sync::OnceLock<Allocator> = std::sync::OnceLock::new();

/// Names the process's allocator (the binary chooses it; set once, at start).
pub fn set_allocator(allocator: Allocator) {
    let _ = ALLOCATOR.set(allocator);
}

/// The bytes the process has allocated and not freed (its resident memory when the allocator
/// does not count): INFO's `used_memory`, what `maxmemory` limits.
pub fn used_memory_bytes() -> u64 {
    match ALLOCATOR.get() {
        Some(allocator) => (allocator.allocated_bytes)(),
        None => resident_bytes(),
    }
}

/// The process's resident memory, from /proc.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|text| text.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn cpu_seconds() -> (f64, f64) {
    // SAFETY: getrusage fills the struct we pass; it has no other preconditions.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return (0.0, 0.0);
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (seconds(usage.ru_utime), seconds(usage.ru_stime))
}

/// The replication section: Redis's role fields, then each member's progress (on the leader,
/// how far each replica's log matches; everywhere, what this node applied).
fn replication(node: &Node, applied_index: u64) -> Vec<(String, String)> {
    let group = primary(node);
    let metrics = group.metrics();
    let leader = group.leader();
    let last = metrics.last_log_index.unwrap_or(0);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut field = |key: &str, value: String| fields.push((key.to_string(), value));
    if group.is_leader() {
        field("role", "master".into());
        let replication = group.replication();
        let replicas: Vec<_> = group.members().into_iter().filter(|m| m.id != node.id).collect();
        field("connected_slaves", replicas.len().to_string());
        for (i, member) in replicas.iter().enumerate() {
            let (host, port) = member.info.client_addr.rsplit_once(':').unwrap_or((&member.info.client_addr, "0"));
            let matched = replication.get(&member.id).copied().unwrap_or(0);
            let state = if matched > 0 { "online" } else { "wait_bgsave" };
            let role = if member.voter { "voter" } else { "learner" };
            field(
                &format!("slave{i}"),
                format!(
                    "ip={host},port={port},state={state},offset={matched},lag={},id={},role={role}",
                    last.saturating_sub(matched),
                    member.id
                ),
            );
        }
    } else {
        field("role", "slave".into());
        let (host, port) = leader
            .as_ref()
            .and_then(|(_, info)| info.client_addr.rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())))
            .unwrap_or_default();
        field("master_host", host);
        field("master_port", port);
        field("master_link_status", if leader.is_some() { "up" } else { "down" }.into());
        field("slave_read_only", "1".into());
        field("connected_slaves", "0".into());
    }
    field("master_repl_offset", applied_index.to_string());
    field("raft_group", group.id.0.to_string());
    field("raft_groups_hosted", node.data_groups().len().to_string());
    field("raft_groups_led", node.led_shards().len().to_string());
    field("raft_node_id", node.id.to_string());
    field("raft_state", format!("{:?}", metrics.state).to_ascii_lowercase());
    field("raft_term", metrics.current_term.to_string());
    field("raft_leader", leader.map(|(id, _)| id.to_string()).unwrap_or_default());
    field("raft_last_log_index", last.to_string());
    field("raft_applied_index", applied_index.to_string());
    field("raft_apply_lag", last.saturating_sub(applied_index).to_string());
    field("forwarded_requests", node.stats.forwarded.load(Relaxed).to_string());
    field("writes_resent", node.stats.writes_resent.load(Relaxed).to_string());
    field("writes_unknown", node.stats.writes_unknown.load(Relaxed).to_string());
    fields
}
