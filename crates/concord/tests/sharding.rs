//! Sharding with real processes on loopback: a cluster of three nodes and three shards (each
//! shard its own Raft group, replicated on every node) serves keys of every shard through any
//! node in proxy mode, redirects with `-MOVED` from the slot map in redirect mode, loses no
//! acknowledged write when a node leading shards is killed or when every node restarts, and
//! works with real cluster clients (redis-cli -c, redis-benchmark --cluster, redis-py's
//! RedisCluster).

mod common;

use common::cluster::TestCluster;
use common::ledger::{verify, Writers};
use common::Raw;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

const SHARDS: &[&str] = &["--shards", "3"];

fn sharded(extra: &[&str]) -> TestCluster {
    let args: Vec<&str> = SHARDS.iter().chain(extra).copied().collect();
    let cluster = TestCluster::start(3, &args);
    cluster.wait_for_settled(0);
    cluster
}

fn slot(con: &mut redis::Connection, key: &str) -> u16 {
    redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query(con).unwrap()
}

/// The first key `prefix<n>` whose slot lies in `range` (first..=last).
fn key_in(con: &mut redis::Connection, prefix: &str, range: (u16, u16)) -> String {
    (0..).map(|n| format!("{prefix}{n}")).find(|key| (range.0..=range.1).contains(&slot(con, key))).unwrap()
}

/// The three shards' slot ranges: 0-5460, 5461-10921, 10922-16383.
const RANGES: [(u16, u16); 3] = [(0, 5460), (5461, 10921), (10922, 16383)];

fn crossslot(error: redis::RedisError) -> bool {
    let text = error.to_string().to_ascii_uppercase();
    text.contains("CROSSSLOT") || text.contains("CROSS SLOT") || text.contains("CROSS-SLOT")
}

fn addresses(cluster: &TestCluster) -> Vec<std::net::SocketAddr> {
    (0..cluster.members.len()).filter(|&i| cluster.alive(i)).map(|i| cluster.address(i)).collect()
}

/// A pipelined burst that spans shards goes to the shards side by side (see
/// `connection::propose_writes`): each key's writes must still apply in the order sent, each
/// reply must come back in its request's place, and pipelined reads of every shard likewise.
#[test]
fn pipelined_bursts_across_shards_keep_each_keys_order_and_the_replies_in_place() {
    let cluster = sharded(&[]);
    let mut con = cluster.connect(0);
    let keys: Vec<String> = RANGES
        .iter()
        .flat_map(|&range| (0..3).map(move |n| (range, n)))
        .map(|(range, n)| key_in(&mut con, &format!("counter{n}-"), range))
        .collect();
    const ROUNDS: i64 = 30;
    for node in 0..3 {
        let mut con = cluster.connect(node);
        let mut pipe = redis::pipe();
        for _ in 0..ROUNDS {
            for key in &keys {
                pipe.cmd("INCR").arg(key);
                pipe.cmd("APPEND").arg(format!("{key}:log")).arg("x");
            }
        }
        let replies: Vec<i64> = pipe.query(&mut con).unwrap();
        let mut expected = Vec::new();
        for round in 1..=ROUNDS {
            for _ in &keys {
                let done = i64::from(node as u8) * ROUNDS + round;
                expected.extend([done, done]);
            }
        }
        assert_eq!(replies, expected, "through node {node}");
        let mut reads = redis::pipe();
        for key in &keys {
            reads.cmd("GET").arg(key).cmd("STRLEN").arg(format!("{key}:log"));
        }
        let values: Vec<i64> = reads.query(&mut con).unwrap();
        let total = (i64::from(node as u8) + 1) * ROUNDS;
        assert_eq!(values, vec![total; keys.len() * 2], "through node {node}");
    }
}

#[test]
fn keys_of_every_shard_are_served_through_any_node() {
    let cluster = sharded(&[]);
    // The topology Redis Cluster clients read: three shards, each led by a different node.
    let mut con = cluster.connect(0);
    let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut con).unwrap();
    assert!(info.contains("cluster_state:ok") && info.contains("cluster_size:3"), "{info}");
    let masters = cluster.masters(0);
    let ranges: BTreeSet<String> = masters.iter().flat_map(|(_, slots)| slots.clone()).collect();
    assert_eq!(ranges, BTreeSet::from(["0-5460".into(), "5461-10921".into(), "10922-16383".into()]), "{masters:?}");
    let leading: BTreeSet<usize> = masters.iter().map(|(i, _)| *i).collect();
    assert_eq!(leading.len(), 3, "leaders spread over the three nodes: {masters:?}");
    let slots: Vec<redis::Value> = redis::cmd("CLUSTER").arg("SLOTS").query(&mut con).unwrap();
    assert_eq!(slots.len(), 3);
    // What the verifiers read to judge each shard apart: ids, ranges, the ids of the nodes
    // hosting each shard (all three here) and its leader among them.
    type Shard = (u32, Vec<u16>, Vec<String>, Option<String>);
    let shards: Vec<Shard> = redis::cmd("DEBUG").arg("SHARDS").query(&mut con).unwrap();
    assert_eq!(shards.iter().map(|shard| shard.0).collect::<Vec<_>>(), [1, 2, 3], "{shards:?}");
    assert_eq!(shards.iter().map(|shard| shard.1.clone()).collect::<Vec<_>>(), RANGES.map(|(f, l)| vec![f, l]));
    assert!(
        shards
            .iter()
            .all(|(_, _, hosts, leader)| hosts.len() == 3
                && leader.as_ref().is_some_and(|leader| hosts.contains(leader))),
        "{shards:?}"
    );

    // Writes through every node land in every shard, and every node reads them all.
    for n in 0..90 {
        let mut con = cluster.connect(n % 3);
        let _: () = redis::cmd("SET").arg(format!("key{n}")).arg(n).query(&mut con).unwrap();
    }
    for i in 0..3 {
        let mut con = cluster.connect(i);
        for n in (0..90).step_by(7) {
            assert_eq!(redis::cmd("GET").arg(format!("key{n}")).query::<i64>(&mut con).unwrap(), n);
        }
        assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 90, "node {i} counts every shard");
    }
    let key_slots: BTreeSet<u16> = (0..90).map(|n| slot(&mut con, &format!("key{n}"))).collect();
    let mut per_shard = [0i64; 3];
    for s in key_slots {
        let count: i64 = redis::cmd("CLUSTER").arg("COUNTKEYSINSLOT").arg(s).query(&mut con).unwrap();
        per_shard[RANGES.iter().position(|(first, last)| (*first..=*last).contains(&s)).unwrap()] += count;
    }
    assert_eq!(per_shard.iter().sum::<i64>(), 90);
    assert!(per_shard.iter().all(|count| *count > 0), "keys in every shard: {per_shard:?}");

    // Split across shards, merged in order.
    let (a, b, c) =
        (key_in(&mut con, "a", RANGES[0]), key_in(&mut con, "b", RANGES[1]), key_in(&mut con, "c", RANGES[2]));
    let _: () = redis::cmd("SET").arg(&a).arg("A").query(&mut con).unwrap();
    let _: () = redis::cmd("SET").arg(&c).arg("C").query(&mut con).unwrap();
    let values: Vec<Option<String>> = redis::cmd("MGET").arg(&c).arg(&b).arg(&a).arg(&c).query(&mut con).unwrap();
    assert_eq!(values, vec![Some("C".into()), None, Some("A".into()), Some("C".into())]);
    assert_eq!(redis::cmd("EXISTS").arg(&a).arg(&b).arg(&c).arg(&a).query::<i64>(&mut cluster.connect(1)).unwrap(), 3);
    assert_eq!(redis::cmd("DEL").arg(&a).arg(&b).arg(&c).query::<i64>(&mut cluster.connect(2)).unwrap(), 2);

    // Atomic commands across shards are refused; hash tags keep keys together.
    let refused: redis::RedisResult<()> = redis::cmd("MSET").arg(&a).arg("1").arg(&b).arg("2").query(&mut con);
    assert!(crossslot(refused.unwrap_err()));
    let _: () = redis::cmd("MSET").arg("{user}:a").arg("1").arg("{user}:b").arg("2").query(&mut con).unwrap();
    let (ok,): (i64,) = redis::pipe().atomic().cmd("INCR").arg("{user}:a").query(&mut con).unwrap();
    assert_eq!(ok, 2, "a transaction within one shard");
    let mut raw = Raw::connect(cluster.address(1));
    for command in [vec!["MULTI"], vec!["INCR", &a], vec!["INCR", &b]] {
        assert!(raw.call(&command).starts_with('+'));
    }
    assert_eq!(raw.call(&["EXEC"]), "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    assert_eq!(redis::cmd("GET").arg(&a).query::<Option<String>>(&mut con).unwrap(), None, "nothing applied");

    // SCAN walks shard after shard and finds every key once at least.
    let mut cursor: u64 = 0;
    let mut seen = BTreeSet::new();
    loop {
        let (next, keys): (u64, Vec<String>) =
            redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(7).query(&mut cluster.connect(1)).unwrap();
        seen.extend(keys);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 92, "90 keys, {{user}}:a and {{user}}:b");
    let keys: Vec<String> = redis::cmd("KEYS").arg("key*").query(&mut con).unwrap();
    assert_eq!(keys.len(), 90);
    let _: () = redis::cmd("FLUSHALL").query(&mut cluster.connect(2)).unwrap();
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 0);
    cluster.converged_digest();
}

#[test]
fn redirect_mode_answers_moved_from_the_slot_map() {
    let cluster = sharded(&["--routing", "redirect"]);
    let masters = cluster.masters(0);
    let mut con = cluster.connect(0);
    for (leader, slots) in &masters {
        let (first, last) = slots[0].split_once('-').map(|(f, l)| (f.parse().unwrap(), l.parse().unwrap())).unwrap();
        let key = key_in(&mut con, "k", (first, last));
        let slot = slot(&mut con, &key);
        let mut at_leader = cluster.connect(*leader);
        let _: () = redis::cmd("SET").arg(&key).arg("v").query(&mut at_leader).unwrap();
        let other = (leader + 1) % 3;
        let reply: redis::RedisResult<String> = redis::cmd("GET").arg(&key).query(&mut cluster.connect(other));
        let text = reply.unwrap_err().to_string();
        let expected = format!("{slot} 127.0.0.1:{}", cluster.members[*leader].port);
        assert!(
            text.to_ascii_uppercase().contains("MOVED") && text.contains(&expected),
            "{text} (expected {expected})"
        );
    }
    let (a, b) = (key_in(&mut con, "a", RANGES[0]), key_in(&mut con, "x", RANGES[0]));
    assert_ne!(slot(&mut con, &a), slot(&mut con, &b));
    let reply: redis::RedisResult<()> = redis::cmd("MGET").arg(&a).arg(&b).query(&mut con);
    assert!(crossslot(reply.unwrap_err()), "different slots, even in one shard");
}

#[test]
fn killing_a_node_that_leads_shards_loses_no_acknowledged_write() {
    let mut cluster = sharded(&[]);
    let writers = Writers::start(9, addresses(&cluster), 0, None);
    std::thread::sleep(Duration::from_millis(800));
    let (victim, led) = cluster.masters(0).into_iter().next().expect("a node leading shards");
    let killed_at = writers.started.elapsed().as_millis() as u64;
    cluster.kill(victim);
    let deadline = Instant::now() + Duration::from_secs(30);
    while writers.last_ack_ms.load(std::sync::atomic::Ordering::Relaxed) <= killed_at {
        assert!(Instant::now() < deadline, "writes never resumed after killing the leader of {led:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let resumed_at = writers.last_ack_ms.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("writes resumed {} ms after kill -9 of the leader of {led:?}", resumed_at - killed_at);
    // Every shard takes writes again, through the survivors.
    let survivor = (victim + 1) % 3;
    let mut con = cluster.connect(survivor);
    for (n, range) in RANGES.iter().enumerate() {
        let key = key_in(&mut con, "after", *range);
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis::cmd("SET").arg(&key).arg(n).query::<String>(&mut cluster.connect(survivor)).is_err() {
            assert!(Instant::now() < deadline, "shard {n} took no writes after the kill");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    cluster.restart(victim);
    std::thread::sleep(Duration::from_millis(800));
    let ledgers = writers.stop();
    cluster.converged_digest();
    for i in 0..3 {
        verify(&mut cluster.connect(i), &ledgers);
    }
}

#[test]
fn a_full_restart_of_a_sharded_cluster_keeps_every_acknowledged_write() {
    let mut cluster = sharded(&[]);
    let writers = Writers::start(6, addresses(&cluster), 0, None);
    std::thread::sleep(Duration::from_millis(1000));
    for i in 0..3 {
        cluster.kill(i);
    }
    let ledgers = writers.stop();
    assert!(ledgers.iter().map(|l| l.lock().unwrap().acked.len()).sum::<usize>() > 0);
    for i in 0..3 {
        cluster.restart(i);
    }
    cluster.wait_for_settled(0);
    cluster.converged_digest();
    verify(&mut cluster.connect(1), &ledgers);
}

/// Runs a real client program; its standard output, or a failure naming it.
fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}); scripts/setup.sh installs it"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{program} {args:?} failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// The Python interpreter of the virtual environment `scripts/setup.sh` makes for the tests.
fn python() -> String {
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target").to_string());
    format!("{target}/test-python/bin/python")
}

#[test]
fn real_cluster_clients_work() {
    for routing in ["proxy", "redirect"] {
        let cluster = sharded(&["--routing", routing]);
        let ports: Vec<String> = (0..3).map(|i| cluster.members[i].port.to_string()).collect();
        // redis-cli follows MOVED in cluster mode (-c).
        for n in 0..12 {
            let key = format!("cli{n}");
            assert_eq!(run("redis-cli", &["-c", "-p", &ports[n % 3], "SET", &key, &n.to_string()]).trim(), "OK");
        }
        for n in 0..12 {
            let got = run("redis-cli", &["-c", "-p", &ports[(n + 1) % 3], "GET", &format!("cli{n}")]);
            assert_eq!(got.trim(), n.to_string(), "{routing}: cli{n}");
        }
        // redis-benchmark reads CLUSTER NODES and sends each key to its slot's master.
        let out = run(
            "redis-benchmark",
            &["--cluster", "-p", &ports[0], "-t", "set,get", "-n", "3000", "-c", "6", "-r", "1000", "-q"],
        );
        assert!(out.contains("SET:") && out.contains("GET:"), "{routing}: {out}");
        assert_eq!(out.matches("requests per second").count(), 2, "{routing}: {out}");
        // redis-py's RedisCluster reads CLUSTER SLOTS and COMMAND at start-up.
        let script = format!(
            r#"
import redis.cluster
rc = redis.cluster.RedisCluster(host="127.0.0.1", port={port}, decode_responses=True)
for n in range(30):
    rc.set(f"py{{n}}", n)
assert [rc.get(f"py{{n}}") for n in range(30)] == [str(n) for n in range(30)]
assert rc.get("cli5") == "5"
masters = {{rc.get_node_from_key(f"py{{n}}").port for n in range(30)}}
assert len(masters) == 3, masters
print("ok", len(rc.get_nodes()))
"#,
            port = ports[1]
        );
        let out = run(&python(), &["-c", &script]);
        assert!(out.starts_with("ok 3"), "{routing}: {out}");
    }
}

/// Writes `key(n)` = n for every n below `count`, in pipelined chunks.
fn preload(con: &mut redis::Connection, count: usize, key: impl Fn(usize) -> String) {
    for chunk in (0..count).collect::<Vec<_>>().chunks(5_000) {
        let mut pipe = redis::pipe();
        for &n in chunk {
            pipe.cmd("SET").arg(key(n)).arg(n).ignore();
        }
        pipe.query::<()>(con).unwrap();
    }
}

/// Asserts that `key(n)` reads n for every n below `count` (in pipelines of 2000 reads).
fn assert_preloaded(con: &mut redis::Connection, count: usize, key: impl Fn(usize) -> String) {
    for chunk in (0..count).collect::<Vec<_>>().chunks(2_000) {
        let mut pipe = redis::pipe();
        for &n in chunk {
            pipe.cmd("GET").arg(key(n));
        }
        let values: Vec<Option<String>> = pipe.query(con).unwrap();
        for (&n, value) in chunk.iter().zip(&values) {
            assert_eq!(value.as_deref(), Some(n.to_string().as_str()), "preloaded key {}", key(n));
        }
    }
}

/// CLUSTER MIGRATESLOTS of `first..=last` to shard `target` (`g2`...); the move's id.
fn migrate(con: &mut redis::Connection, first: u16, last: u16, target: &str) -> i64 {
    redis::cmd("CLUSTER")
        .arg("MIGRATESLOTS")
        .arg("SLOTSRANGE")
        .arg(first)
        .arg(last)
        .arg("SHARD")
        .arg(target)
        .query(con)
        .unwrap()
}

/// The node leading the shard that owns `slot`, as node `i` sees it.
fn leader_of_slot(cluster: &TestCluster, i: usize, slot: u16) -> usize {
    let owns = |range: &String| match range.split_once('-') {
        Some((first, last)) => first.parse::<u16>().unwrap() <= slot && slot <= last.parse::<u16>().unwrap(),
        None => range.parse::<u16>().ok() == Some(slot),
    };
    cluster.masters(i).into_iter().find(|(_, ranges)| ranges.iter().any(owns)).expect("a leader").0
}

/// Waits until node `i` sees no slot move in progress.
fn wait_for_moves(cluster: &TestCluster, i: usize) {
    wait_for_moves_and(cluster, i, || true);
}

/// Waits until node `i` sees no slot move in progress and `done` holds: a move asked through
/// another node may not be in this node's map yet.
fn wait_for_moves_and(cluster: &TestCluster, i: usize, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let moves: Vec<redis::Value> =
            redis::cmd("CLUSTER").arg("GETSLOTMIGRATIONS").query(&mut cluster.connect(i)).unwrap();
        if moves.is_empty() && done() {
            return;
        }
        assert!(Instant::now() < deadline, "slot moves did not finish: {moves:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Online slot moves (see `migration` and `mover`): slots move between shards while writers
/// keep writing through every node, once with kill -9 of the source shard's leader during the
/// copy and once of the target's; afterwards every acknowledged write and every preloaded key
/// is there exactly once (DBSIZE counts each key once), and the new owner serves the slots.
#[test]
fn slots_move_between_shards_under_load_through_kills_of_either_leader() {
    let mut cluster = sharded(&[]);
    let mut con = cluster.connect(0);
    const PRELOADED: usize = 4_000;
    preload(&mut con, PRELOADED, |n| format!("pre{n}"));
    let writers = Writers::start(9, addresses(&cluster), 0, None);
    std::thread::sleep(Duration::from_millis(500));
    // Half of shard g1's slots go to g2 (the source's leader is killed), then some of g2's to
    // g3 (the target's leader is killed).
    for (first, last, target, kill_source) in [(0, 2730, "g2", true), (5461, 7000, "g3", false)] {
        cluster.wait_for_settled(0);
        let victim = leader_of_slot(&cluster, 0, if kill_source { first } else { 10922 });
        let through = cluster.address((victim + 1) % 3).to_string();
        if kill_source {
            assert!(migrate(&mut cluster.connect((victim + 1) % 3), first, last, target) > 0, "a move id");
        } else {
            let range = format!("{first}-{last}");
            let args = ["admin", "--node", &through, "move-slots", &range, "--to", target];
            let out = Command::new(env!("CARGO_BIN_EXE_concord")).args(args).output().unwrap();
            assert!(out.status.success(), "concord admin move-slots: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(150));
        cluster.kill(victim);
        std::thread::sleep(Duration::from_millis(1_500));
        cluster.restart(victim);
        let observer = (victim + 1) % 3;
        let shard: i64 = target[1..].parse().unwrap();
        wait_for_moves_and(&cluster, observer, || {
            shard_ranges(&cluster, observer, shard).iter().any(|&(a, b)| a <= first && last <= b)
        });
    }
    let ledgers = writers.stop();
    assert!(ledgers.iter().map(|l| l.lock().unwrap().acked.len()).sum::<usize>() > 0);
    cluster.converged_digest();
    let writer_keys: usize = ledgers.iter().map(|l| l.lock().unwrap().sent.len() + 1).sum();
    for i in 0..3 {
        let mut con = cluster.connect(i);
        verify(&mut con, &ledgers);
        assert_preloaded(&mut con, PRELOADED, |n| format!("pre{n}"));
        let size: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert!(size <= PRELOADED + writer_keys && size >= PRELOADED, "DBSIZE {size}: a key counted twice or lost");
    }
    // Writes to moved slots go to their new owner, in redirect mode too.
    let key = key_in(&mut cluster.connect(0), "after-move", (0, 2730));
    let _: () = redis::cmd("SET").arg(&key).arg("v").query(&mut cluster.connect(2)).unwrap();
    let value: String = redis::cmd("GET").arg(&key).query(&mut cluster.connect(1)).unwrap();
    assert_eq!(value, "v");
}

/// The state of the one slot move in progress (`copying`, `fenced`, ...), if any.
fn move_state(cluster: &TestCluster, i: usize) -> Option<String> {
    let moves: Vec<redis::Value> =
        redis::cmd("CLUSTER").arg("GETSLOTMIGRATIONS").query(&mut cluster.connect(i)).ok()?;
    let fields: Vec<(String, redis::Value)> = redis::from_redis_value(moves.first()?.clone()).ok()?;
    fields.into_iter().find(|(name, _)| name == "state").and_then(|(_, v)| redis::from_redis_value(v).ok())
}

/// Slot moves under load with kill -9 at each phase of the move: of the source shard's
/// leader, the target's and the metadata group's (which drives the move) while the target
/// copies, and of the source's leader once the move is fenced or later. Each kill makes the
/// move start a new attempt (or finish what the map says); afterwards nothing acknowledged is
/// lost, every preloaded key reads back once, and the slots end where the last move sent them.
#[test]
fn slot_moves_survive_kill_9_of_each_leader_at_each_phase() {
    let mut cluster = sharded(&[]);
    let mut con = cluster.connect(0);
    // Enough keys in the moving slots that copying them takes many batches.
    const PRELOADED: usize = 30_000;
    let key = |n: usize| format!("{{p{}}}:{n}", n % 2_000);
    preload(&mut con, PRELOADED, key);
    let writers = Writers::start(6, addresses(&cluster), 0, None);
    // The slots go from g1 to g2 and back, each time with one kill.
    let plan = [("copying", "source"), ("copying", "target"), ("copying", "metadata"), ("fenced", "source")];
    let mut seen_states = Vec::new();
    for (turn, (phase, victim_kind)) in plan.into_iter().enumerate() {
        cluster.wait_for_settled(0);
        let (source_slot, target) = if turn % 2 == 0 { (0, "g2") } else { (0, "g1") };
        let target_slot = if target == "g2" { 5461 } else { 5000 };
        let victim = match victim_kind {
            "source" => leader_of_slot(&cluster, 0, source_slot),
            "target" => leader_of_slot(&cluster, 0, target_slot),
            _ => cluster.leader(),
        };
        let observer = (victim + 1) % 3;
        assert!(migrate(&mut cluster.connect(observer), 0, 5000, target) > 0);
        // Kill once the move reaches the phase (or a later one: a fence may pass quickly).
        let order = ["copying", "fenced", "handed-over"];
        let wanted = order.iter().position(|s| *s == phase).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = false;
        let state = loop {
            match move_state(&cluster, observer) {
                Some(state) if order.iter().position(|s| *s == state).is_some_and(|at| at >= wanted) => break state,
                Some(_) => seen = true,
                // It went by between two looks: the kill then lands after the move.
                None if seen => break "done".to_string(),
                None => assert!(Instant::now() < deadline, "the move never showed"),
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        seen_states.push(format!("{victim_kind} killed at {state} (wanted {phase})"));
        cluster.kill(victim);
        std::thread::sleep(Duration::from_millis(1_200));
        cluster.restart(victim);
        wait_for_moves(&cluster, observer);
        let owner = leader_of_slot(&cluster, observer, 0);
        assert_eq!(owner, leader_of_slot(&cluster, observer, target_slot), "slot 0 went to {target}");
    }
    eprintln!("{}", seen_states.join("; "));
    let ledgers = writers.stop();
    cluster.converged_digest();
    for i in 0..3 {
        let mut con = cluster.connect(i);
        verify(&mut con, &ledgers);
        assert_preloaded(&mut con, PRELOADED, key);
    }
    let writer_keys: usize = ledgers.iter().map(|l| l.lock().unwrap().sent.len() + 1).sum();
    let size: usize = redis::cmd("DBSIZE").query(&mut cluster.connect(0)).unwrap();
    assert!((PRELOADED..=PRELOADED + writer_keys).contains(&size), "DBSIZE {size}: a key counted twice or lost");
}

/// A shard as DEBUG SHARDS describes it: id, slot ranges (first, last, ...), hosting nodes,
/// leader.
type DebugShard = (i64, Vec<u16>, Vec<String>, Option<String>);

/// The slot ranges shard `g<shard>` owns, from DEBUG SHARDS through node `i`.
fn shard_ranges(cluster: &TestCluster, i: usize, shard: i64) -> Vec<(u16, u16)> {
    let shards: Vec<DebugShard> = redis::cmd("DEBUG").arg("SHARDS").query(&mut cluster.connect(i)).unwrap();
    let (_, slots, _, _) = shards.into_iter().find(|(id, ..)| *id == shard).expect("the shard");
    slots.chunks(2).map(|pair| (pair[0], pair[1])).collect()
}

/// `CLUSTER REBALANCE`: after every slot of g2 was moved to g1, the planner's plan (shown
/// first with DRYRUN, which changes nothing) moves slots back until the shards' key counts are
/// even again, with every key still there.
#[test]
fn rebalance_spreads_slots_again_after_they_were_piled_on_one_shard() {
    let cluster = sharded(&[]);
    let mut con = cluster.connect(0);
    preload(&mut con, 9_000, |n| format!("k{n}"));
    migrate(&mut con, 5461, 10921, "g1");
    wait_for_moves_and(&cluster, 0, || shard_ranges(&cluster, 0, 2).is_empty());
    let plan: Vec<String> = redis::cmd("CLUSTER").arg("REBALANCE").arg("DRYRUN").query(&mut con).unwrap();
    assert!(plan.iter().any(|step| step.starts_with("move slots") && step.ends_with("to g2")), "{plan:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(shard_ranges(&cluster, 0, 2), vec![], "a dry run changes nothing");
    let out = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["admin", "--node", &cluster.address(1).to_string(), "rebalance"])
        .output()
        .unwrap();
    assert!(out.status.success(), "concord admin rebalance: {}", String::from_utf8_lossy(&out.stderr));
    wait_for_moves_and(&cluster, 1, || !shard_ranges(&cluster, 1, 2).is_empty());
    let owned: u32 = shard_ranges(&cluster, 1, 2).iter().map(|(a, b)| u32::from(b - a) + 1).sum();
    assert!((4_000..7_000).contains(&owned), "g2 owns {owned} slots again");
    let plan: Vec<String> = redis::cmd("CLUSTER").arg("REBALANCE").arg("DRYRUN").query(&mut con).unwrap();
    assert!(!plan.iter().any(|step| step.starts_with("move slots")), "balanced: {plan:?}");
    assert_preloaded(&mut cluster.connect(2), 9_000, |n| format!("k{n}"));
    let size: usize = redis::cmd("DBSIZE").query(&mut cluster.connect(2)).unwrap();
    assert_eq!(size, 9_000);
}

/// Shard split and merge under load: `CLUSTER SPLITSHARD g1` founds a fourth shard (a Raft
/// group of its own, given three replicas once it has a leader) that takes half of g1's slots;
/// `concord admin merge-shards g4 g2` then moves all of them to g2. Nothing acknowledged is
/// lost, every key is there once, and the new shard is led and fully replicated.
#[test]
fn a_shard_splits_in_two_and_merges_into_another_under_load() {
    let cluster = sharded(&[]);
    let mut con = cluster.connect(0);
    preload(&mut con, 6_000, |n| format!("k{n}"));
    let writers = Writers::start(6, addresses(&cluster), 0, None);
    let (name, _move): (String, i64) = redis::cmd("CLUSTER").arg("SPLITSHARD").arg("g1").query(&mut con).unwrap();
    assert_eq!(name, "g4");
    wait_for_moves_and(&cluster, 0, || shard_ranges(&cluster, 0, 1) == [(0, 2729)]);
    assert_eq!(shard_ranges(&cluster, 0, 4), vec![(2730, 5460)]);
    cluster.wait_for_settled(0);
    let shards: Vec<DebugShard> = redis::cmd("DEBUG").arg("SHARDS").query(&mut con).unwrap();
    let (_, _, hosts, leader) = shards.iter().find(|(id, ..)| *id == 4).unwrap();
    assert_eq!(hosts.len(), 3, "the new shard is replicated on every node");
    assert!(leader.is_some(), "and led");
    let out = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["admin", "--node", &cluster.address(2).to_string(), "merge-shards", "g4", "g2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "concord admin merge-shards: {}", String::from_utf8_lossy(&out.stdout));
    wait_for_moves_and(&cluster, 2, || shard_ranges(&cluster, 2, 4).is_empty());
    assert_eq!(shard_ranges(&cluster, 2, 2), vec![(2730, 10921)]);
    let ledgers = writers.stop();
    cluster.converged_digest();
    for i in 0..3 {
        verify(&mut cluster.connect(i), &ledgers);
    }
    assert_preloaded(&mut cluster.connect(1), 6_000, |n| format!("k{n}"));
    let writer_keys: usize = ledgers.iter().map(|l| l.lock().unwrap().sent.len() + 1).sum();
    let size: usize = redis::cmd("DBSIZE").query(&mut cluster.connect(1)).unwrap();
    assert!((6_000..=6_000 + writer_keys).contains(&size), "DBSIZE {size}");
    let asking: String = redis::cmd("ASKING").query(&mut cluster.connect(1)).unwrap();
    assert_eq!(asking, "OK");
}

/// `CLUSTER CANCELSLOTMIGRATIONS` while the target copies: the slots stay with the source,
/// which serves them again, the target drops its copies (DBSIZE counts every key once), and a
/// second move of the same slots then goes through.
#[test]
fn a_cancelled_slot_move_leaves_the_slots_with_their_source() {
    let cluster = sharded(&[]);
    let mut con = cluster.connect(0);
    // Every key in g1's slots, so that copying them takes a while.
    const PRELOADED: usize = 30_000;
    let tags: Vec<String> = (0..).map(|n| format!("c{n}")).filter(|t| slot(&mut con, t) <= 5460).take(500).collect();
    let key = |n: usize| format!("{{{}}}:{n}", tags[n % tags.len()]);
    preload(&mut con, PRELOADED, key);
    migrate(&mut con, 0, 5460, "g3");
    let deadline = Instant::now() + Duration::from_secs(30);
    while move_state(&cluster, 0).as_deref() != Some("copying") {
        assert!(Instant::now() < deadline, "the move never copied");
        std::thread::sleep(Duration::from_millis(1));
    }
    let cancelled: i64 =
        redis::cmd("CLUSTER").arg("CANCELSLOTMIGRATIONS").arg("ALL").query(&mut cluster.connect(1)).unwrap();
    wait_for_moves(&cluster, 0);
    let during = key_in(&mut con, "during", (0, 5460));
    let _: () = redis::cmd("SET").arg(&during).arg("x").query(&mut cluster.connect(2)).unwrap();
    assert_eq!(cancelled, 1, "cancelled while copying");
    assert_eq!(shard_ranges(&cluster, 0, 1), vec![(0, 5460)], "the slots stayed with g1");
    let size: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, PRELOADED + 1, "no copy counted twice");
    // Moved again, to the end.
    migrate(&mut con, 0, 5460, "g3");
    wait_for_moves_and(&cluster, 0, || shard_ranges(&cluster, 0, 1).is_empty());
    cluster.converged_digest();
    assert_preloaded(&mut cluster.connect(1), PRELOADED, key);
    let size: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, PRELOADED + 1);
}

/// `concord admin remove` drains the node first: it returns only once every shard's replicas
/// placed instead of the removed node caught up and were promoted. So killing the removed node
/// and then another original member right after leaves every shard a majority of live voters.
#[test]
fn a_removed_node_is_drained_before_it_leaves() {
    let mut cluster = sharded(&[]);
    let fourth = cluster.add(false);
    cluster.wait_for_settled(fourth);
    let mut con = cluster.connect(fourth);
    preload(&mut con, 3_000, |n| format!("d{n}"));
    let writers = Writers::start(6, addresses(&cluster), 0, None);
    let removed = leader_of_slot(&cluster, fourth, 0);
    let id = cluster.members[removed].id.clone();
    let through = cluster.address(fourth).to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["admin", "--node", &through, "remove", &id])
        .output()
        .unwrap();
    assert!(out.status.success(), "concord admin remove: {}", String::from_utf8_lossy(&out.stdout));
    cluster.kill(removed);
    let other = (0..3).find(|&i| i != removed).unwrap();
    cluster.kill(other);
    // Every shard still takes writes: its voters are now the newcomer and the two originals
    // not removed, one of them killed: two of three alive.
    let mut con = cluster.connect(fourth);
    for (n, range) in RANGES.iter().enumerate() {
        let key = key_in(&mut con, "after-drain", *range);
        let deadline = Instant::now() + Duration::from_secs(20);
        while redis::cmd("SET").arg(&key).arg(n).query::<String>(&mut cluster.connect(fourth)).is_err() {
            assert!(Instant::now() < deadline, "shard {n} lost its majority: the node was not drained");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    cluster.restart(other);
    let ledgers = writers.stop();
    let survivor = (0..3).find(|&i| i != removed && i != other).unwrap();
    verify(&mut cluster.connect(survivor), &ledgers);
    assert_preloaded(&mut cluster.connect(fourth), 3_000, |n| format!("d{n}"));
}

/// A voting member that joins a cluster whose shards have all their replicas gets its share
/// anyway (`--rebalance-on-join`, on by default): replicas move to it (placed, caught up, promoted,
/// and only then removed from their old node) until every node holds about as many, with no
/// key lost.
#[test]
fn a_joining_node_gets_its_share_of_replicas() {
    // The test clusters turn it off unless asked: here the node's default is asked for.
    let mut cluster = sharded(&["--rebalance-on-join", "true"]);
    let mut con = cluster.connect(0);
    preload(&mut con, 3_000, |n| format!("j{n}"));
    let fourth = cluster.add(false);
    let id = cluster.members[fourth].id.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shards: Vec<DebugShard> = redis::cmd("DEBUG").arg("SHARDS").query(&mut cluster.connect(0)).unwrap();
        let hosted = shards.iter().filter(|(_, _, hosts, _)| hosts.contains(&id)).count();
        let spread = shards.iter().all(|(_, _, hosts, leader)| hosts.len() == 3 && leader.is_some());
        if hosted >= 2 && spread {
            break;
        }
        assert!(Instant::now() < deadline, "the newcomer hosts {hosted} shards: {shards:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    cluster.wait_for_settled(fourth);
    assert_preloaded(&mut cluster.connect(fourth), 3_000, |n| format!("j{n}"));
}

/// Replicas go to distinct failure domains (`--zone`). Three nodes in zones a, a and b hold
/// every shard's three replicas (zone a twice: there are only two zones); a fourth node, in
/// zone c, joins, and the rebalance on its join leaves each shard with one replica in each of
/// the three zones, with every key still there. `CLUSTER MEMBERS` shows each node's zone.
#[test]
fn replicas_spread_over_zones_as_nodes_join() {
    let args: Vec<&str> = SHARDS.iter().copied().chain(["--rebalance-on-join", "true"]).collect();
    let mut cluster = TestCluster::start_in_zones(&["a", "a", "b"], &args);
    cluster.wait_for_settled(0);
    preload(&mut cluster.connect(0), 3_000, |n| format!("z{n}"));
    cluster.add_with(false, &["--zone", "c"]);
    let zone_of = |cluster: &TestCluster| -> std::collections::BTreeMap<String, String> {
        let members: Vec<std::collections::HashMap<String, redis::Value>> =
            redis::cmd("CLUSTER").arg("MEMBERS").query(&mut cluster.connect(0)).unwrap();
        members
            .iter()
            .filter_map(|m| {
                let text = |v: &redis::Value| redis::from_redis_value::<String>(v.clone()).ok();
                Some((text(m.get("id")?)?, text(m.get("zone")?)?))
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let zones = zone_of(&cluster);
        let shards: Vec<DebugShard> = redis::cmd("DEBUG").arg("SHARDS").query(&mut cluster.connect(0)).unwrap();
        let spread = shards.iter().all(|(_, _, hosts, leader)| {
            let distinct: std::collections::BTreeSet<Option<&String>> = hosts.iter().map(|h| zones.get(h)).collect();
            hosts.len() == 3 && distinct.len() == 3 && !distinct.contains(&None) && leader.is_some()
        });
        if zones.len() == 4 && spread {
            let labels: Vec<&String> = cluster.members.iter().map(|m| &zones[&m.id]).collect();
            assert_eq!(labels, ["a", "a", "b", "c"], "each node's zone, as CLUSTER MEMBERS shows it");
            break;
        }
        assert!(Instant::now() < deadline, "replicas not spread over the zones: {zones:?} {shards:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    cluster.wait_for_settled(0);
    assert_preloaded(&mut cluster.connect(3), 3_000, |n| format!("z{n}"));
}
