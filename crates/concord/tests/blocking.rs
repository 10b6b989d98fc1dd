//! Blocking commands (BLPOP and friends) against real processes: a wait served by a push from
//! another client, timeouts, a client that leaves or is unblocked taking nothing, and, on a
//! three-node cluster, waits through follower connections that survive the leader's kill -9
//! with every element delivered exactly once and every replica alike.

mod common;

use common::cluster::TestCluster;
use common::Server;
use redis::{Commands, Value};
use std::io::Write;
use std::time::{Duration, Instant};

/// Waits until the node at `connection` counts `count` blocked clients.
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

/// Runs a blocking command on its own connection, in a thread.
fn in_background(client: redis::Client, command: redis::Cmd) -> std::thread::JoinHandle<Value> {
    std::thread::spawn(move || {
        command.query(&mut client.get_connection().unwrap()).unwrap_or_else(|error| panic!("{error}"))
    })
}

fn cmd(words: &[&str]) -> redis::Cmd {
    let mut command = redis::cmd(words[0]);
    for word in &words[1..] {
        command.arg(*word);
    }
    command
}

fn pair(key: &str, element: &str) -> Value {
    Value::Array(vec![Value::BulkString(key.into()), Value::BulkString(element.into())])
}

#[test]
fn a_wait_is_served_by_a_push_in_blocking_order() {
    let server = Server::start();
    let mut con = server.connect();
    let first = in_background(server.client(), cmd(&["BLPOP", "jobs", "other", "0"]));
    await_blocked(&mut con, 1);
    let second = in_background(server.client(), cmd(&["BRPOP", "jobs", "0"]));
    await_blocked(&mut con, 2);
    let _: i64 = con.rpush("jobs", &["a", "b"]).unwrap();
    assert_eq!(first.join().unwrap(), pair("jobs", "a"), "the first to block gets the first element");
    assert_eq!(second.join().unwrap(), pair("jobs", "b"));
    assert_eq!(con.llen::<_, i64>("jobs").unwrap(), 0);
    // A move chain: a waiter moving src to dst, a waiter on dst.
    let mover = in_background(server.client(), cmd(&["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]));
    await_blocked(&mut con, 1);
    let taker = in_background(server.client(), cmd(&["BZPOPMIN", "z", "1"]));
    let _: () = redis::cmd("ZADD").arg("z").arg(5).arg("m").query(&mut con).unwrap();
    let _: i64 = con.lpush("src", "x").unwrap();
    assert_eq!(mover.join().unwrap(), Value::BulkString(b"x".to_vec()));
    let popped = taker.join().unwrap();
    assert!(matches!(&popped, Value::Array(items) if items.len() == 3), "{popped:?}");
    assert_eq!(con.lrange::<_, Vec<String>>("dst", 0, -1).unwrap(), vec!["x"]);
}

#[test]
fn waits_time_out_and_pipelined_commands_wait_for_them() {
    let server = Server::start();
    let mut con = server.connect();
    let started = Instant::now();
    assert_eq!(cmd(&["BLPOP", "empty", "0.2"]).query::<Value>(&mut con).unwrap(), Value::Nil);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // The push after a blocking pop in one pipeline runs only once the pop is over: the pop
    // times out, as in Redis, and the element stays.
    let replies: Vec<Value> =
        redis::pipe().cmd("BLPOP").arg("self").arg("0.2").cmd("RPUSH").arg("self").arg("me").query(&mut con).unwrap();
    assert_eq!(replies, vec![Value::Nil, Value::Int(1)]);
    // In MULTI nothing blocks.
    let replies: Vec<Value> = redis::pipe().atomic().cmd("BLPOP").arg("nothing").arg("0").query(&mut con).unwrap();
    assert_eq!(replies, vec![Value::Nil]);
    let error = cmd(&["BLPOP", "k", "-1"]).query::<Value>(&mut con).unwrap_err();
    assert!(error.to_string().contains("timeout is negative"), "{error}");
}

#[test]
fn a_client_that_leaves_or_is_unblocked_takes_nothing() {
    let server = Server::start();
    let mut con = server.connect();
    {
        let mut leaving = server.raw();
        leaving.write_all(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n").unwrap();
        await_blocked(&mut con, 1);
    }
    await_blocked(&mut con, 0);
    let _: i64 = con.rpush("q", "kept").unwrap();
    assert_eq!(con.llen::<_, i64>("q").unwrap(), 1, "the gone client's wait was cancelled");
    let mut blocked = server.connect();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut blocked).unwrap();
    let waiting = std::thread::spawn(move || cmd(&["BLPOP", "nothing", "0"]).query::<Value>(&mut blocked));
    await_blocked(&mut con, 1);
    assert_eq!(redis::cmd("CLIENT").arg("UNBLOCK").arg(id).arg("ERROR").query::<i64>(&mut con).unwrap(), 1);
    let error = waiting.join().unwrap().unwrap_err();
    assert!(error.to_string().contains("UNBLOCKED"), "{error}");
    assert_eq!(redis::cmd("CLIENT").arg("UNBLOCK").arg(id).query::<i64>(&mut con).unwrap(), 0);
}

#[test]
fn waits_on_followers_survive_the_leaders_death() {
    let mut cluster = TestCluster::start(3, &[]);
    let leader = cluster.leader();
    let followers: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    let mut waiting = Vec::new();
    for (n, &follower) in followers.iter().enumerate() {
        let client = redis::Client::open(format!("redis://{}/", cluster.address(follower))).unwrap();
        waiting.push(in_background(client, cmd(&["BLPOP", "work", "0"])));
        await_blocked(&mut cluster.connect(follower), 1);
        assert_eq!(n + 1, waiting.len());
    }
    cluster.kill(leader);
    let survivor = cluster.leader();
    let mut con = cluster.connect(survivor);
    let pushed: i64 = con.rpush("work", &["one", "two", "three"]).unwrap();
    assert!(pushed >= 1);
    let mut got: Vec<Value> = waiting.into_iter().map(|handle| handle.join().unwrap()).collect();
    got.sort_by_key(|value| format!("{value:?}"));
    assert_eq!(got, vec![pair("work", "one"), pair("work", "two")], "each element delivered once, in order");
    assert_eq!(con.lrange::<_, Vec<String>>("work", 0, -1).unwrap(), vec!["three"]);
    cluster.converged_digest();
}
