//! The INFO report, in Redis's sections and field names so tools that parse it keep working.

use crate::node::Node;
use bytes::Bytes;
use concord_core::SERVER_VERSION;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

const SECTIONS: &[&str] =
    &["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster", "keyspace"];

/// INFO's text for the requested sections (none: the default set).
pub fn report(node: &Node, requested: &[Bytes]) -> String {
    let wanted: Vec<String> = requested.iter().map(|s| String::from_utf8_lossy(s).to_ascii_lowercase()).collect();
    let everything = wanted.is_empty() || wanted.iter().any(|s| matches!(s.as_str(), "all" | "default" | "everything"));
    let mut text = String::new();
    for &section in SECTIONS {
        if !everything && !wanted.iter().any(|w| w == section) {
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
        if section == "keyspace" {
            let dbs: Vec<(u32, usize, usize)> = node.group.read(|applied| {
                applied.machine.keyspace().dbs().map(|(index, db)| (index, db.len(), db.expires_len())).collect()
            });
            for (index, keys, expires) in dbs {
                let _ = write!(text, "db{index}:keys={keys},expires={expires},avg_ttl=0\r\n");
            }
        }
    }
    text
}

fn fields(node: &Node, section: &str) -> Vec<(&'static str, String)> {
    let metrics = node.group.metrics();
    let (expired_keys, applied_index) =
        node.group.read(|applied| (applied.machine.expired_keys(), applied.machine.applied_index()));
    let memory = resident_bytes();
    match section {
        "server" => vec![
            ("redis_version", SERVER_VERSION.to_string()),
            ("concord_version", env!("CARGO_PKG_VERSION").to_string()),
            ("redis_git_sha1", "00000000".into()),
            ("redis_git_dirty", "0".into()),
            ("redis_mode", "standalone".into()),
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
            ("blocked_clients", "0".into()),
            ("tracking_clients", "0".into()),
        ],
        "memory" => vec![
            ("used_memory", memory.to_string()),
            ("used_memory_human", human_bytes(memory)),
            ("used_memory_rss", memory.to_string()),
            ("used_memory_rss_human", human_bytes(memory)),
            ("maxmemory", node.params.value("maxmemory").unwrap_or_default()),
            ("maxmemory_policy", node.params.value("maxmemory-policy").unwrap_or_default()),
            ("mem_allocator", "libc".into()),
        ],
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
            ("total_error_replies", node.stats.error_replies.load(Relaxed).to_string()),
            ("total_forks", "0".into()),
        ],
        "replication" => vec![
            ("role", if node.group.is_leader() { "master" } else { "slave" }.into()),
            ("connected_slaves", "0".into()),
            ("raft_group", node.group.id.0.to_string()),
            ("raft_state", format!("{:?}", metrics.state).to_ascii_lowercase()),
            ("raft_term", metrics.current_term.to_string()),
            ("raft_leader", metrics.current_leader.map(|id| id.to_string()).unwrap_or_default()),
            ("raft_applied_index", applied_index.to_string()),
            ("master_repl_offset", applied_index.to_string()),
        ],
        "cpu" => {
            let (user, system) = cpu_seconds();
            vec![("used_cpu_sys", format!("{system:.6}")), ("used_cpu_user", format!("{user:.6}"))]
        }
        "cluster" => vec![("cluster_enabled", "0".into())],
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
