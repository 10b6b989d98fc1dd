//! Lua scripts and functions against the real binary on a three-node cluster with three
//! shards: scripts run on apply inside the shard of their keys, the script cache and the
//! function libraries are on every shard and survive a full restart, and a runaway script is
//! stopped while other clients keep being served.

mod common;

use common::cluster::TestCluster;
use std::time::{Duration, Instant};

/// The three shards' slot ranges: 0-5460, 5461-10921, 10922-16383.
const RANGES: [(u16, u16); 3] = [(0, 5460), (5461, 10921), (10922, 16383)];

fn slot(con: &mut redis::Connection, key: &str) -> u16 {
    redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query(con).unwrap()
}

/// The first key `prefix<n>` whose slot lies in `range` (first..=last).
fn key_in(con: &mut redis::Connection, prefix: &str, range: (u16, u16)) -> String {
    (0..).map(|n| format!("{prefix}{n}")).find(|key| (range.0..=range.1).contains(&slot(con, key))).unwrap()
}

fn sharded() -> TestCluster {
    let cluster = TestCluster::start(3, &["--shards", "3"]);
    cluster.wait_for_settled(0);
    cluster
}

/// A node that does not lead the shard owning `key`.
fn follower_of(cluster: &TestCluster, key: &str) -> usize {
    let mut con = cluster.connect(0);
    let slot = slot(&mut con, key);
    let leader = cluster
        .masters(0)
        .into_iter()
        .find(|(_, slots)| {
            slots.iter().any(|range| {
                let (first, last) = range.split_once('-').unwrap_or((range, range));
                (first.parse::<u16>().unwrap()..=last.parse::<u16>().unwrap()).contains(&slot)
            })
        })
        .map(|(node, _)| node)
        .expect("the slot has a leader");
    (leader + 1) % 3
}

const SET_AND_COUNT: &str = "redis.call('set', KEYS[1], ARGV[1]) return redis.call('strlen', KEYS[1])";

#[test]
fn scripts_run_on_every_shard_through_any_node_and_survive_a_full_restart() {
    let mut cluster = sharded();
    let mut con = cluster.connect(0);
    let keys: Vec<String> = RANGES.iter().map(|&range| key_in(&mut con, "script-key", range)).collect();
    // Loaded once through one node, the script is on every shard.
    let sha: String = redis::cmd("SCRIPT").arg("LOAD").arg(SET_AND_COUNT).query(&mut con).unwrap();
    for key in &keys {
        let through = follower_of(&cluster, key);
        let length: i64 =
            redis::cmd("EVALSHA").arg(&sha).arg(1).arg(key).arg("value").query(&mut cluster.connect(through)).unwrap();
        assert_eq!(length, 5);
        let stored: String = redis::cmd("GET").arg(key).query(&mut con).unwrap();
        assert_eq!(stored, "value");
    }
    let exists: Vec<i64> = redis::cmd("SCRIPT").arg("EXISTS").arg(&sha).arg("0".repeat(40)).query(&mut con).unwrap();
    assert_eq!(exists, vec![1, 0]);
    let missing = redis::cmd("EVALSHA").arg("f".repeat(40)).arg(0).query::<String>(&mut con).unwrap_err();
    assert_eq!(missing.code(), Some("NOSCRIPT"), "{missing}");
    // Keys of two shards cannot be one script's.
    let crossing =
        redis::cmd("EVAL").arg("return 1").arg(2).arg(&keys[0]).arg(&keys[1]).query::<i64>(&mut con).unwrap_err();
    assert!(crossing.to_string().to_ascii_uppercase().contains("CROSSSLOT"), "{crossing}");
    // Functions, likewise loaded once and called on any shard.
    let library = "#!lua name=counters\n\
        redis.register_function('bump', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)\n\
        redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";
    let name: String = redis::cmd("FUNCTION").arg("LOAD").arg(library).query(&mut con).unwrap();
    assert_eq!(name, "counters");
    let counters: Vec<String> = RANGES.iter().map(|&range| key_in(&mut con, "counter", range)).collect();
    for counter in &counters {
        let through = follower_of(&cluster, counter);
        let value: i64 =
            redis::cmd("FCALL").arg("bump").arg(1).arg(counter).arg(7).query(&mut cluster.connect(through)).unwrap();
        assert_eq!(value, 7);
    }
    // Every node down at once, then back: the cache, the libraries and their effects are there.
    for i in 0..3 {
        cluster.kill(i);
    }
    for i in 0..3 {
        cluster.restart(i);
    }
    cluster.leader();
    cluster.wait_for_settled(0);
    let mut con = cluster.connect(1);
    for counter in &counters {
        let value: i64 = redis::cmd("FCALL").arg("bump").arg(1).arg(counter).arg(1).query(&mut con).unwrap();
        assert_eq!(value, 8);
        let read: String = redis::cmd("FCALL_RO").arg("peek").arg(1).arg(counter).query(&mut con).unwrap();
        assert_eq!(read, "8");
    }
    for key in &keys {
        let length: i64 = redis::cmd("EVALSHA").arg(&sha).arg(1).arg(key).arg("again!").query(&mut con).unwrap();
        assert_eq!(length, 6);
    }
    cluster.converged_digest();
}

#[test]
fn a_keyless_script_touches_only_keys_of_the_shard_it_runs_on() {
    let cluster = sharded();
    let mut con = cluster.connect(1);
    // Keyless scripts run on the first shard (slots 0-5460).
    let (here, away) = (key_in(&mut con, "local", RANGES[0]), key_in(&mut con, "remote", RANGES[1]));
    let eval = |con: &mut redis::Connection, script: String| redis::cmd("EVAL").arg(script).arg(0).query::<String>(con);
    // Each shard learns its slots through its log soon after it starts: probe with a read.
    let deadline = Instant::now() + Duration::from_secs(20);
    let refused = loop {
        match eval(&mut con, format!("return redis.call('get', '{away}') or 'nil'")) {
            Err(error) => break error,
            Ok(_) => assert!(Instant::now() < deadline, "the first shard never learned its slots"),
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(refused.to_string().contains("Script attempted to access a non local key in a cluster node"), "{refused}");
    let write = eval(&mut con, format!("return redis.call('set', '{away}', 'misplaced')")).unwrap_err();
    assert!(write.to_string().contains("non local key"), "{write}");
    let stored: Option<String> = redis::cmd("GET").arg(&away).query(&mut con).unwrap();
    assert_eq!(stored, None, "nothing was written to the first shard under another shard's key");
    assert_eq!(eval(&mut con, format!("return redis.call('set', '{here}', 'fine')")).unwrap(), "OK");
    let stored: String = redis::cmd("GET").arg(&here).query(&mut con).unwrap();
    assert_eq!(stored, "fine");
}

#[test]
fn a_runaway_script_is_stopped_while_other_clients_are_served() {
    let cluster = sharded();
    let mut con = cluster.connect(0);
    let busy = key_in(&mut con, "busy", RANGES[0]);
    let elsewhere = key_in(&mut con, "elsewhere", RANGES[1]);
    let address = cluster.address(1);
    let runaway = std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://{address}/")).unwrap();
        let mut con = client.get_connection().unwrap();
        con.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let started = Instant::now();
        let reply = redis::cmd("EVAL").arg("while true do end").arg(1).arg(busy).query::<i64>(&mut con);
        (started, Instant::now(), reply)
    });
    // Meanwhile another shard keeps answering.
    let mut served = Vec::new();
    while !runaway.is_finished() {
        let _: () = redis::cmd("SET").arg(&elsewhere).arg(served.len()).query(&mut con).unwrap();
        served.push(Instant::now());
    }
    let (started, ended, reply) = runaway.join().unwrap();
    let error = reply.unwrap_err();
    assert!(error.to_string().contains("Script killed"), "{error}");
    let during = served.iter().filter(|at| **at > started && **at < ended).count();
    assert!(during > 0, "no other command was served while the script ran");
    // The node goes on serving scripts, and every replica stopped it at the same point.
    let one: i64 = redis::cmd("EVAL").arg("return 1").arg(0).query(&mut con).unwrap();
    assert_eq!(one, 1);
    cluster.converged_digest();
}

#[test]
fn info_counts_the_cached_scripts() {
    let server = common::Server::start();
    let mut con = server.connect();
    let count = |con: &mut redis::Connection| {
        let info: String = redis::cmd("INFO").arg("memory").query(con).unwrap();
        info.lines().find_map(|line| line.strip_prefix("number_of_cached_scripts:")).unwrap().trim().to_string()
    };
    assert_eq!(count(&mut con), "0");
    for n in 0..3 {
        let _: String = redis::cmd("SCRIPT").arg("LOAD").arg(format!("return {n}")).query(&mut con).unwrap();
    }
    assert_eq!(count(&mut con), "3");
    let _: String = redis::cmd("SCRIPT").arg("FLUSH").arg("ASYNC").query(&mut con).unwrap();
    assert_eq!(count(&mut con), "0");
}
