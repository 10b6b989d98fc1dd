//! Streams against the real binary: blocked readers woken by an append, RESP2 and RESP3
//! reply shapes, and, on a three-node cluster, a consumer group that keeps its pending
//! entries and delivery state through a leader's kill -9 and a full restart, with ids that
//! never go backwards and no acknowledged entry delivered again.

mod common;

use common::cluster::TestCluster;
use common::{Raw, Server};
use redis::Value;
use std::time::{Duration, Instant};

fn cmd(words: &[&str]) -> redis::Cmd {
    let mut command = redis::cmd(words[0]);
    for word in &words[1..] {
        command.arg(*word);
    }
    command
}

fn text(value: &Value) -> String {
    match value {
        Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::SimpleString(text) => text.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

/// The ids of an XREAD/XREADGROUP reply's entries for its only stream.
fn read_ids(reply: &Value) -> Vec<String> {
    let Value::Array(streams) = reply else { panic!("not a stream reply: {reply:?}") };
    let Value::Array(stream) = &streams[0] else { panic!("{reply:?}") };
    let Value::Array(entries) = &stream[1] else { panic!("{reply:?}") };
    entries
        .iter()
        .map(|entry| match entry {
            Value::Array(parts) => text(&parts[0]),
            other => panic!("not an entry: {other:?}"),
        })
        .collect()
}

/// An id as two numbers, to compare them.
fn id_of(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap();
    (ms.parse().unwrap(), seq.parse().unwrap())
}

/// Waits until the node counts `count` blocked clients.
fn await_blocked(con: &mut redis::Connection, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(con).unwrap();
        let blocked = info.lines().find_map(|l| l.strip_prefix("blocked_clients:")).unwrap().trim().to_string();
        if blocked == count.to_string() {
            return;
        }
        assert!(Instant::now() < deadline, "{blocked} blocked clients, not {count}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn blocked_readers_wake_on_an_append_and_time_out_empty() {
    let server = Server::start();
    let mut con = server.connect();
    let _: String = cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).query(&mut con).unwrap();
    let client = server.client();
    let reader = std::thread::spawn(move || {
        cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"])
            .query::<Value>(&mut client.get_connection().unwrap())
            .unwrap()
    });
    let client = server.client();
    let group_reader = std::thread::spawn(move || {
        cmd(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"])
            .query::<Value>(&mut client.get_connection().unwrap())
            .unwrap()
    });
    await_blocked(&mut con, 2);
    let id: String = cmd(&["XADD", "s", "*", "f", "v"]).query(&mut con).unwrap();
    assert_eq!(read_ids(&reader.join().unwrap()), vec![id.clone()]);
    assert_eq!(read_ids(&group_reader.join().unwrap()), vec![id.clone()]);
    let pending: Value = cmd(&["XPENDING", "s", "g"]).query(&mut con).unwrap();
    let Value::Array(summary) = pending else { panic!() };
    assert_eq!(summary[0], Value::Int(1), "the blocked group read left the entry pending");
    // Nothing arrives: a nil reply once the time is up.
    let started = Instant::now();
    let timed_out: Value = cmd(&["XREAD", "BLOCK", "150", "STREAMS", "s", "$"]).query(&mut con).unwrap();
    assert_eq!(timed_out, Value::Nil);
    assert!(started.elapsed() >= Duration::from_millis(150));
    // A group destroyed under a blocked reader ends its wait with NOGROUP.
    let client = server.client();
    let orphan = std::thread::spawn(move || {
        cmd(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"])
            .query::<Value>(&mut client.get_connection().unwrap())
    });
    await_blocked(&mut con, 1);
    let _: i64 = cmd(&["XGROUP", "DESTROY", "s", "g"]).query(&mut con).unwrap();
    let error = orphan.join().unwrap().unwrap_err();
    assert!(error.to_string().contains("NOGROUP"), "{error}");
}

#[test]
fn replies_take_redis_shapes_in_resp2_and_resp3() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    assert_eq!(raw.call(&["XADD", "s", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
    let entry = "*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
    assert_eq!(raw.call(&["XREAD", "STREAMS", "s", "0"]), format!("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n{entry}"));
    assert_eq!(raw.call(&["XRANGE", "s", "-", "+"]), format!("*1\r\n{entry}"));
    assert_eq!(raw.call(&["XREAD", "STREAMS", "s", "$"]), "*-1\r\n");
    assert!(raw.call(&["HELLO", "3"]).starts_with('%'));
    assert_eq!(raw.call(&["XREAD", "STREAMS", "s", "0"]), format!("%1\r\n$1\r\ns\r\n*1\r\n{entry}"));
    assert_eq!(raw.call(&["XREAD", "STREAMS", "s", "$"]), "_\r\n");
    assert_eq!(raw.call(&["TYPE", "s"]), "+stream\r\n");
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "s"]), "$6\r\nstream\r\n");
    assert_eq!(raw.call(&["XLEN", "s"]), ":1\r\n");
    assert_eq!(raw.call(&["CONFIG", "SET", "stream-node-max-entries", "2"]), "+OK\r\n");
    assert_eq!(
        raw.call(&["CONFIG", "GET", "stream-node-max-entries"]),
        "%1\r\n$23\r\nstream-node-max-entries\r\n$1\r\n2\r\n"
    );
    // DUMP and RESTORE carry a stream with its groups.
    raw.call(&["XGROUP", "CREATE", "s", "g", "0"]);
    let dumped = redis::cmd("DUMP").arg("s").query::<Vec<u8>>(&mut server.connect()).unwrap();
    let restored: String = redis::cmd("RESTORE").arg("t").arg(0).arg(dumped).query(&mut server.connect()).unwrap();
    assert_eq!(restored, "OK");
    assert_eq!(raw.call(&["XINFO", "GROUPS", "t"]).matches("$1\r\ng\r\n").count(), 1);
}

/// Sends `words` to a live node until one answers without an error (the cluster may be
/// choosing a leader); used only for commands that may safely run twice.
fn until_ok(cluster: &TestCluster, words: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        for i in (0..3).filter(|&i| cluster.alive(i)) {
            let Ok(client) = redis::Client::open(format!("redis://{}/", cluster.address(i))) else { continue };
            let Ok(mut con) = client.get_connection_with_timeout(Duration::from_secs(2)) else { continue };
            if let Ok(value) = cmd(words).query::<Value>(&mut con) {
                return value;
            }
        }
        assert!(Instant::now() < deadline, "{words:?} never succeeded");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_consumer_group_survives_failover_and_a_full_restart() {
    let mut cluster = TestCluster::start(3, &[]);
    let leader = cluster.leader();
    let follower = (leader + 1) % 3;
    let mut con = cluster.connect(follower);
    let mut ids = Vec::new();
    for n in 0..100 {
        let id: String = cmd(&["XADD", "jobs", "*", "n", &n.to_string()]).query(&mut con).unwrap();
        ids.push(id);
    }
    assert!(ids.windows(2).all(|pair| id_of(&pair[0]) < id_of(&pair[1])), "ids strictly increase");
    let _: String = cmd(&["XGROUP", "CREATE", "jobs", "workers", "0"]).query(&mut con).unwrap();
    let first = cmd(&["XREADGROUP", "GROUP", "workers", "alice", "COUNT", "50", "STREAMS", "jobs", ">"])
        .query(&mut con)
        .unwrap();
    assert_eq!(read_ids(&first), ids[..50]);
    let mut ack = cmd(&["XACK", "jobs", "workers"]);
    for id in &ids[..30] {
        ack.arg(id);
    }
    assert_eq!(ack.query::<i64>(&mut con).unwrap(), 30);

    cluster.kill(leader);
    cluster.leader();
    until_ok(&cluster, &["SET", "probe", "1"]);
    let survivor = (0..3).find(|&i| cluster.alive(i)).unwrap();
    let mut con = cluster.connect(survivor);
    let after: String = cmd(&["XADD", "jobs", "*", "n", "100"]).query(&mut con).unwrap();
    assert!(id_of(&after) > id_of(&ids[99]), "a new leader's id {after} is above {}", ids[99]);
    ids.push(after);
    let rest = cmd(&["XREADGROUP", "GROUP", "workers", "bob", "STREAMS", "jobs", ">"]).query(&mut con).unwrap();
    assert_eq!(read_ids(&rest), ids[50..], "the group resumes where it was, nothing delivered twice");
    let history = cmd(&["XREADGROUP", "GROUP", "workers", "alice", "STREAMS", "jobs", "0"]).query(&mut con).unwrap();
    assert_eq!(read_ids(&history), ids[30..50], "alice's unacknowledged entries, and none she acknowledged");

    let summary = |cluster: &TestCluster| until_ok(cluster, &["XPENDING", "jobs", "workers"]);
    let expected = Value::Array(vec![
        Value::Int(71),
        Value::BulkString(ids[30].clone().into()),
        Value::BulkString(ids[100].clone().into()),
        Value::Array(vec![
            Value::Array(vec![Value::BulkString("alice".into()), Value::BulkString("20".into())]),
            Value::Array(vec![Value::BulkString("bob".into()), Value::BulkString("51".into())]),
        ]),
    ]);
    assert_eq!(summary(&cluster), expected);

    cluster.restart(leader);
    for i in 0..3 {
        cluster.kill(i);
    }
    for i in 0..3 {
        cluster.restart(i);
    }
    cluster.leader();
    assert_eq!(summary(&cluster), expected, "the pending entries survive a full restart");
    let groups = until_ok(&cluster, &["XINFO", "GROUPS", "jobs"]);
    let groups = format!("{groups:?}");
    assert!(groups.contains("entries-read") && groups.contains(&ids[100]), "{groups}");
    let next: Value = until_ok(&cluster, &["XADD", "jobs", "*", "n", "101"]);
    assert!(id_of(&text(&next)) > id_of(&ids[100]), "ids keep growing across restarts");
    cluster.converged_digest();
}
