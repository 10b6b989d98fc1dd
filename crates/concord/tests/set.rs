//! Conformance of the set commands and SORT: a real Redis client and exact RESP bytes against
//! the real `concord` binary, in RESP2 and RESP3, checked against what Redis 7.0 replies; and
//! random pops replicated alike on every node.

mod common;

use common::cluster::TestCluster;
use common::{Raw, Server};
use redis::{Commands, Value};
use std::collections::{BTreeSet, HashSet};

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

fn bulks(prefix: char, items: &[&str]) -> String {
    items.iter().fold(format!("{prefix}{}\r\n", items.len()), |reply, item| reply + &bulk(item))
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[test]
fn sets_through_a_real_client() {
    let server = Server::start();
    let mut con = server.connect();
    assert_eq!(con.sadd::<_, _, i64>("s", &["a", "b", "c", "a"]).unwrap(), 3);
    assert_eq!(con.scard::<_, i64>("s").unwrap(), 3);
    assert!(con.sismember::<_, _, bool>("s", "a").unwrap());
    assert_eq!(redis::cmd("SMISMEMBER").arg("s").arg("a").arg("z").query::<Vec<i64>>(&mut con).unwrap(), vec![1, 0]);
    assert_eq!(con.smembers::<_, BTreeSet<String>>("s").unwrap(), set_of(&["a", "b", "c"]));
    assert_eq!(con.srem::<_, _, i64>("s", &["c", "zz"]).unwrap(), 1);
    assert_eq!(con.sadd::<_, _, i64>("t", &["b", "x"]).unwrap(), 2);
    assert_eq!(con.sinter::<_, BTreeSet<String>>(&["s", "t"]).unwrap(), set_of(&["b"]));
    assert_eq!(con.sunion::<_, BTreeSet<String>>(&["s", "t"]).unwrap(), set_of(&["a", "b", "x"]));
    assert_eq!(con.sdiff::<_, BTreeSet<String>>(&["s", "t"]).unwrap(), set_of(&["a"]));
    assert_eq!(con.sinterstore::<_, _, i64>("i", &["s", "t"]).unwrap(), 1);
    assert_eq!(con.sunionstore::<_, _, i64>("u", &["s", "t"]).unwrap(), 3);
    assert_eq!(con.sdiffstore::<_, _, i64>("d", &["s", "t"]).unwrap(), 1);
    assert_eq!(con.smembers::<_, BTreeSet<String>>("u").unwrap(), set_of(&["a", "b", "x"]));
    assert_eq!(redis::cmd("SINTERCARD").arg(2).arg("u").arg("s").query::<i64>(&mut con).unwrap(), 2);
    assert_eq!(
        redis::cmd("SINTERCARD").arg(2).arg("u").arg("s").arg("LIMIT").arg(1).query::<i64>(&mut con).unwrap(),
        1
    );
    assert!(con.smove::<_, _, _, bool>("u", "moved", "x").unwrap());
    assert_eq!(con.smembers::<_, Vec<String>>("moved").unwrap(), vec!["x".to_string()]);
    let popped: String = con.spop("u").unwrap();
    assert!(["a", "b"].contains(&popped.as_str()));
    let picked: Vec<String> = con.srandmember_multiple("s", -5).unwrap();
    assert_eq!(picked.len(), 5);
    assert!(picked.iter().all(|member| ["a", "b"].contains(&member.as_str())));
    // SSCAN through the client's iterator, over a table large enough to take several pages.
    let members: Vec<String> = (0..1000).map(|i| format!("member:{i}")).collect();
    assert_eq!(con.sadd::<_, _, i64>("big", &members).unwrap(), 1000);
    let scanned: HashSet<String> =
        con.sscan_match::<_, _, String>("big", "member:*").unwrap().map(Result::unwrap).collect();
    assert_eq!(scanned.len(), 1000);
    let popped: Vec<String> = redis::cmd("SPOP").arg("big").arg(990).query(&mut con).unwrap();
    assert_eq!(popped.len(), 990);
    assert_eq!(con.scard::<_, i64>("big").unwrap(), 10);
    let left: HashSet<String> = con.smembers("big").unwrap();
    assert!(popped.iter().all(|member| !left.contains(member)));
}

#[test]
fn exact_replies_in_resp2_and_resp3() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    assert_eq!(raw.call(&["SADD", "i", "3", "1", "2"]), ":3\r\n");
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "i"]), bulk("intset"));
    assert_eq!(raw.call(&["SMEMBERS", "i"]), bulks('*', &["1", "2", "3"]));
    assert_eq!(raw.call(&["SUNION", "i", "nokey"]), bulks('*', &["1", "2", "3"]));
    assert_eq!(raw.call(&["SMEMBERS", "nokey"]), "*0\r\n");
    assert_eq!(raw.call(&["SPOP", "nokey"]), "$-1\r\n");
    assert_eq!(raw.call(&["SPOP", "nokey", "2"]), "*0\r\n");
    assert_eq!(raw.call(&["SRANDMEMBER", "nokey"]), "$-1\r\n");
    assert_eq!(raw.call(&["SRANDMEMBER", "nokey", "2"]), "*0\r\n");
    assert_eq!(raw.call(&["SRANDMEMBER", "i", "5"]), bulks('*', &["1", "2", "3"]));
    assert_eq!(raw.call(&["SMISMEMBER", "i", "1", "9"]), "*2\r\n:1\r\n:0\r\n");
    assert_eq!(
        raw.call(&["SSCAN", "i", "0", "MATCH", "[12]"]),
        format!("*2\r\n{}{}", bulk("0"), bulks('*', &["1", "2"]))
    );
    assert_eq!(raw.call(&["SADD", "i", "a"]), ":1\r\n");
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "i"]), bulk("hashtable"));
    assert_eq!(raw.call(&["SPOP", "i", "-1"]), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(
        raw.call(&["SRANDMEMBER", "i", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(raw.call(&["SINTERCARD", "0", "i"]), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(raw.call(&["SINTERCARD", "2", "i"]), "-ERR Number of keys can't be greater than number of args\r\n");
    assert_eq!(raw.call(&["SINTERCARD", "1", "i", "LIMIT", "-1"]), "-ERR LIMIT can't be negative\r\n");
    assert_eq!(raw.call(&["SSCAN", "i", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(raw.call(&["SADD", "i"]), "-ERR wrong number of arguments for 'sadd' command\r\n");
    assert_eq!(raw.call(&["SET", "str", "x"]), "+OK\r\n");
    let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    for command in [&["SADD", "str", "a"][..], &["SINTER", "nokey", "str"], &["SMOVE", "i", "str", "a"]] {
        assert_eq!(raw.call(command), wrongtype, "{command:?}");
    }
    assert_eq!(raw.call(&["SMOVE", "nokey", "str", "a"]), ":0\r\n");
    // RESP3: whole sets are sets; random picks with a count stay arrays.
    assert_eq!(raw.call(&["HELLO", "3"]).chars().next(), Some('%'));
    assert_eq!(raw.call(&["SADD", "j", "1", "2"]), ":2\r\n");
    assert_eq!(raw.call(&["SMEMBERS", "j"]), bulks('~', &["1", "2"]));
    assert_eq!(raw.call(&["SINTER", "j", "j"]), bulks('~', &["1", "2"]));
    assert_eq!(raw.call(&["SDIFF", "j", "nokey"]), bulks('~', &["1", "2"]));
    assert_eq!(raw.call(&["SMEMBERS", "nokey"]), "~0\r\n");
    assert_eq!(raw.call(&["SPOP", "nokey"]), "_\r\n");
    assert_eq!(raw.call(&["SPOP", "nokey", "1"]), "~0\r\n");
    assert_eq!(raw.call(&["SRANDMEMBER", "j", "2"]), bulks('*', &["1", "2"]));
    assert_eq!(raw.call(&["SISMEMBER", "j", "1"]), ":1\r\n");
    assert_eq!(raw.call(&["SPOP", "j", "5"]), bulks('~', &["1", "2"]));
    assert_eq!(raw.call(&["EXISTS", "j"]), ":0\r\n");
    // Flags, keys and ACL categories as Redis 7.0 reports them (the key specs differ: see sort.rs).
    let info = raw.call(&["COMMAND", "INFO", "sort_ro", "smove"]);
    assert!(
        info.starts_with(
            "*2\r\n*10\r\n$7\r\nsort_ro\r\n:-2\r\n~2\r\n+readonly\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n\
             ~6\r\n+@read\r\n+@set\r\n+@sortedset\r\n+@list\r\n+@slow\r\n+@dangerous\r\n~0\r\n"
        ),
        "{info}"
    );
    assert!(info.contains(
        "$5\r\nsmove\r\n:4\r\n~2\r\n+write\r\n+fast\r\n:1\r\n:2\r\n:1\r\n~3\r\n+@write\r\n+@set\r\n+@fast\r\n"
    ));
    let mut resp3 = server.connect_resp3();
    let _: i64 = resp3.sadd("r", &["a", "b"]).unwrap();
    let value: Value = redis::cmd("SMEMBERS").arg("r").query(&mut resp3).unwrap();
    assert!(matches!(value, Value::Set(ref members) if members.len() == 2), "{value:?}");
}

#[test]
fn watch_sees_only_real_changes() {
    let server = Server::start();
    let (mut raw, mut other) = (Raw::new(&server), Raw::new(&server));
    assert_eq!(raw.call(&["SADD", "src", "a", "b"]), ":2\r\n");
    assert_eq!(raw.call(&["SADD", "dst", "a"]), ":1\r\n");
    assert_eq!(raw.call(&["WATCH", "dst"]), "+OK\r\n");
    raw.call(&["MULTI"]);
    raw.call(&["SADD", "dst", "c"]);
    // Moving a member the destination already holds leaves it as it was.
    assert_eq!(other.call(&["SMOVE", "src", "dst", "a"]), ":1\r\n");
    assert_eq!(other.call(&["SADD", "dst", "a"]), ":0\r\n");
    assert_eq!(other.call(&["SREM", "dst", "zz"]), ":0\r\n");
    assert_eq!(raw.call(&["EXEC"]), "*1\r\n:1\r\n");
    assert_eq!(raw.call(&["WATCH", "dst"]), "+OK\r\n");
    raw.call(&["MULTI"]);
    raw.call(&["SCARD", "dst"]);
    assert_eq!(other.call(&["SPOP", "dst"]).chars().next(), Some('$'));
    assert_eq!(raw.call(&["EXEC"]), "*-1\r\n");
}

#[test]
fn sort_lists_sets_and_lookups() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    raw.call(&["SADD", "ids", "3", "1", "2"]);
    raw.call(&["MSET", "w_1", "30", "w_2", "10", "w_3", "20"]);
    raw.call(&["HSET", "o_1", "name", "one"]);
    raw.call(&["HSET", "o_3", "name", "three"]);
    assert_eq!(raw.call(&["SORT", "ids"]), bulks('*', &["1", "2", "3"]));
    assert_eq!(raw.call(&["SORT", "ids", "DESC", "LIMIT", "0", "2"]), bulks('*', &["3", "2"]));
    assert_eq!(raw.call(&["SORT", "ids", "BY", "w_*"]), bulks('*', &["2", "3", "1"]));
    assert_eq!(
        raw.call(&["SORT", "ids", "BY", "w_*", "GET", "#", "GET", "o_*->name"]),
        format!("*6\r\n{}$-1\r\n{}{}{}{}", bulk("2"), bulk("3"), bulk("three"), bulk("1"), bulk("one"))
    );
    assert_eq!(raw.call(&["SORT_RO", "ids", "BY", "w_*", "LIMIT", "1", "1"]), bulks('*', &["3"]));
    assert_eq!(raw.call(&["SORT", "ids", "BY", "w_*", "STORE", "sorted"]), ":3\r\n");
    assert_eq!(raw.call(&["TYPE", "sorted"]), "+list\r\n");
    // Sorting a list BY a constant keeps its order: the stored list, in order.
    assert_eq!(raw.call(&["SORT", "sorted", "BY", "nosort"]), bulks('*', &["2", "3", "1"]));
    assert_eq!(raw.call(&["SORT", "sorted", "BY", "nosort", "DESC", "LIMIT", "0", "2"]), bulks('*', &["1", "3"]));
    assert_eq!(raw.call(&["SORT", "nokey", "STORE", "sorted"]), ":0\r\n");
    assert_eq!(raw.call(&["EXISTS", "sorted"]), ":0\r\n");
    raw.call(&["SADD", "words", "b", "a", "c"]);
    assert_eq!(raw.call(&["SORT", "words"]), "-ERR One or more scores can't be converted into double\r\n");
    assert_eq!(raw.call(&["SORT", "words", "ALPHA"]), bulks('*', &["a", "b", "c"]));
    assert_eq!(raw.call(&["SORT_RO", "words", "STORE", "x"]), "-ERR syntax error\r\n");
    assert_eq!(raw.call(&["SORT", "words", "LIMIT", "x", "1"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(raw.call(&["SORT", "w_1"]), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(raw.call(&["HELLO", "3"]).chars().next(), Some('%'));
    assert_eq!(raw.call(&["SORT", "ids", "GET", "o_*->name"]), format!("*3\r\n{}_\r\n{}", bulk("one"), bulk("three")));
    let mut con = server.connect();
    let sorted: Vec<String> = redis::cmd("SORT").arg("ids").arg("BY").arg("w_*").query(&mut con).unwrap();
    assert_eq!(sorted, vec!["2", "3", "1"]);
}

#[test]
fn random_pops_replicate_alike() {
    let cluster = TestCluster::start(3, &[]);
    let leader = cluster.leader();
    let mut con = cluster.connect(leader);
    let words: Vec<String> = (0..2000).map(|i| format!("w{i}")).collect();
    let _: i64 = con.sadd("words", &words).unwrap();
    let numbers: Vec<i64> = (0..400).collect();
    let _: i64 = con.sadd("numbers", &numbers).unwrap();
    for count in [1, 7, 300, 1500] {
        let _: Vec<String> = redis::cmd("SPOP").arg("words").arg(count).query(&mut con).unwrap();
    }
    let _: Vec<String> = redis::cmd("SPOP").arg("numbers").arg(390).query(&mut con).unwrap();
    let _: String = con.spop("numbers").unwrap();
    let _: i64 = con.sunionstore("union", &["words", "numbers"]).unwrap();
    let digest = cluster.converged_digest();
    let expected: BTreeSet<String> = con.smembers("union").unwrap();
    assert_eq!(expected.len(), 2000 - 1808 + 9);
    for i in 0..3 {
        let mut replica = cluster.connect(i);
        let _: () = redis::cmd("READONLY").query(&mut replica).unwrap();
        assert_eq!(replica.smembers::<_, BTreeSet<String>>("union").unwrap(), expected);
        assert_eq!(redis::cmd("DEBUG").arg("DIGEST").query::<String>(&mut replica).unwrap(), digest);
    }
}
