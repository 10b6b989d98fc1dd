//! Lists against the real `concord` binary: a real Redis client, and exact RESP bytes in
//! RESP2 and RESP3, checked against what Redis 7.0 replies.

mod common;

use common::{Raw, Server};
use redis::Value;

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

fn bulks(items: &[&str]) -> String {
    format!("*{}\r\n{}", items.len(), items.iter().map(|item| bulk(item)).collect::<String>())
}

fn strings(con: &mut redis::Connection, args: &[&str]) -> Vec<String> {
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command.query(con).unwrap()
}

fn int(con: &mut redis::Connection, args: &[&str]) -> i64 {
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command.query(con).unwrap()
}

#[test]
fn lists_through_a_real_client() {
    let server = Server::start();
    let mut con = server.connect();
    assert_eq!(int(&mut con, &["RPUSH", "l", "a", "b", "c"]), 3);
    assert_eq!(int(&mut con, &["LPUSH", "l", "z"]), 4);
    assert_eq!(int(&mut con, &["RPUSHX", "l", "d"]), 5);
    assert_eq!(int(&mut con, &["LPUSHX", "nope", "d"]), 0);
    assert_eq!(strings(&mut con, &["LRANGE", "l", "0", "-1"]), ["z", "a", "b", "c", "d"]);
    assert_eq!(int(&mut con, &["LLEN", "l"]), 5);
    assert_eq!(redis::cmd("LINDEX").arg("l").arg(-2).query::<String>(&mut con).unwrap(), "c");
    assert_eq!(redis::cmd("LSET").arg("l").arg(0).arg("Z").query::<String>(&mut con).unwrap(), "OK");
    assert_eq!(int(&mut con, &["LINSERT", "l", "AFTER", "b", "b2"]), 6);
    assert_eq!(int(&mut con, &["LPOS", "l", "b2"]), 3);
    assert_eq!(int(&mut con, &["RPUSH", "l", "a", "a"]), 8);
    assert_eq!(int(&mut con, &["LREM", "l", "-2", "a"]), 2);
    assert_eq!(strings(&mut con, &["LRANGE", "l", "0", "-1"]), ["Z", "a", "b", "b2", "c", "d"]);
    assert_eq!(redis::cmd("LTRIM").arg("l").arg(1).arg(-2).query::<String>(&mut con).unwrap(), "OK");
    assert_eq!(strings(&mut con, &["LPOP", "l", "2"]), ["a", "b"]);
    assert_eq!(redis::cmd("RPOP").arg("l").query::<String>(&mut con).unwrap(), "c");
    assert_eq!(redis::cmd("LMOVE").arg("l").arg("m").arg("LEFT").arg("RIGHT").query::<String>(&mut con).unwrap(), "b2");
    assert_eq!(redis::cmd("TYPE").arg("m").query::<String>(&mut con).unwrap(), "list");
    assert_eq!(redis::cmd("OBJECT").arg("ENCODING").arg("m").query::<String>(&mut con).unwrap(), "quicklist");
    assert_eq!(int(&mut con, &["EXISTS", "l"]), 0, "an emptied list is removed");
    assert_eq!(redis::cmd("RPOPLPUSH").arg("m").arg("n").query::<String>(&mut con).unwrap(), "b2");
    let popped: Option<(String, Vec<String>)> =
        redis::cmd("LMPOP").arg(2).arg("m").arg("n").arg("LEFT").arg("COUNT").arg(5).query(&mut con).unwrap();
    assert_eq!(popped, Some(("n".to_string(), vec!["b2".to_string()])));
    let none: Option<(String, Vec<String>)> = redis::cmd("LMPOP").arg(1).arg("n").arg("RIGHT").query(&mut con).unwrap();
    assert_eq!(none, None);
}

#[test]
fn exact_replies_in_resp2() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    assert_eq!(raw.call(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]), ":8\r\n");
    assert_eq!(raw.call(&["LPOP", "nope"]), "$-1\r\n");
    assert_eq!(raw.call(&["LPOP", "nope", "0"]), "*-1\r\n");
    assert_eq!(raw.call(&["RPOP", "nope", "2"]), "*-1\r\n");
    assert_eq!(raw.call(&["LPOP", "l", "0"]), "*0\r\n");
    assert_eq!(raw.call(&["LINDEX", "l", "99"]), "$-1\r\n");
    assert_eq!(raw.call(&["LPOS", "l", "c", "RANK", "-1", "COUNT", "2"]), "*2\r\n:7\r\n:6\r\n");
    assert_eq!(raw.call(&["LPOS", "l", "x"]), "$-1\r\n");
    assert_eq!(raw.call(&["LPOS", "nope", "x", "COUNT", "0"]), "*0\r\n");
    assert_eq!(raw.call(&["LRANGE", "l", "6", "100"]), bulks(&["c", "c"]));
    assert_eq!(raw.call(&["LMPOP", "1", "nope", "LEFT"]), "*-1\r\n");
    assert_eq!(
        raw.call(&["LMPOP", "2", "nope", "l", "RIGHT", "COUNT", "2"]),
        format!("*2\r\n{}{}", bulk("l"), bulks(&["c", "c"]))
    );
    assert_eq!(raw.call(&["LMOVE", "nope", "l", "LEFT", "LEFT"]), "$-1\r\n");
    assert_eq!(raw.call(&["LINSERT", "l", "BEFORE", "zz", "x"]), ":-1\r\n");
    assert_eq!(raw.call(&["LINSERT", "nope", "BEFORE", "zz", "x"]), ":0\r\n");
}

#[test]
fn exact_replies_in_resp3() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    assert_eq!(raw.call(&["HELLO", "3"]).chars().next(), Some('%'));
    assert_eq!(raw.call(&["RPUSH", "l", "a", "b"]), ":2\r\n");
    assert_eq!(raw.call(&["LPOP", "nope"]), "_\r\n");
    assert_eq!(raw.call(&["LPOP", "nope", "1"]), "_\r\n");
    assert_eq!(raw.call(&["LPOP", "l", "0"]), "*0\r\n");
    assert_eq!(raw.call(&["LINDEX", "l", "5"]), "_\r\n");
    assert_eq!(raw.call(&["LPOS", "l", "x"]), "_\r\n");
    assert_eq!(raw.call(&["LMPOP", "1", "nope", "LEFT"]), "_\r\n");
    assert_eq!(raw.call(&["LMOVE", "nope", "l", "LEFT", "LEFT"]), "_\r\n");
    assert_eq!(raw.call(&["RPOPLPUSH", "nope", "l"]), "_\r\n");
    assert_eq!(raw.call(&["RPOP", "l", "5"]), bulks(&["b", "a"]));
    let mut resp3 = server.connect_resp3();
    let value: Value = redis::cmd("LPOP").arg("gone").arg(1).query(&mut resp3).unwrap();
    assert_eq!(value, Value::Nil);
}

#[test]
fn errors_as_redis_words_them() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    raw.call(&["SET", "s", "v"]);
    raw.call(&["RPUSH", "l", "a"]);
    let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    for command in [
        &["LPUSH", "s", "a"][..],
        &["LPUSHX", "s", "a"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "x"],
        &["LPOP", "s", "0"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["LMPOP", "2", "s", "l", "LEFT"],
        &["LPOS", "s", "a"],
    ] {
        assert_eq!(raw.call(command), wrongtype, "{command:?}");
    }
    assert_eq!(raw.call(&["LRANGE", "l", "0", "-1"]), bulks(&["a"]), "nothing moved");
    assert_eq!(raw.call(&["LPOP", "l", "1", "1"]), "-ERR wrong number of arguments for 'lpop' command\r\n");
    assert_eq!(raw.call(&["LPOP", "l", "-1"]), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(raw.call(&["LSET", "nope", "0", "v"]), "-ERR no such key\r\n");
    assert_eq!(raw.call(&["LSET", "l", "5", "v"]), "-ERR index out of range\r\n");
    assert_eq!(raw.call(&["LINSERT", "l", "aft3r", "a", "b"]), "-ERR syntax error\r\n");
    assert_eq!(
        raw.call(&["LPOS", "l", "a", "RANK", "0"]),
        "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to \
         start from the end of the list\r\n"
    );
    assert_eq!(raw.call(&["LPOS", "l", "a", "COUNT", "-1"]), "-ERR COUNT can't be negative\r\n");
    assert_eq!(raw.call(&["LPOS", "l", "a", "MAXLEN", "-1"]), "-ERR MAXLEN can't be negative\r\n");
    assert_eq!(raw.call(&["LMPOP", "0", "l", "LEFT"]), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(raw.call(&["LMPOP", "1", "l", "LEFT", "COUNT", "0"]), "-ERR count should be greater than 0\r\n");
    assert_eq!(raw.call(&["LMPOP", "2", "l", "LEFT"]), "-ERR syntax error\r\n");
    assert_eq!(raw.call(&["LMOVE", "l", "m", "UP", "LEFT"]), "-ERR syntax error\r\n");
    assert_eq!(raw.call(&["LRANGE", "l", "a", "b"]), "-ERR value is not an integer or out of range\r\n");
}

#[test]
fn lists_survive_a_restart_and_follow_node_size_settings() {
    let mut server = Server::start();
    let mut con = server.connect();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("list-max-ziplist-size").arg(4).query(&mut con).unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("list-compress-depth").arg(2).query(&mut con).unwrap();
    let elements: Vec<String> = (0..500).map(|i| i.to_string()).collect();
    assert_eq!(redis::cmd("RPUSH").arg("big").arg(&elements).query::<i64>(&mut con).unwrap(), 500);
    for (index, pivot) in [(10, "9"), (201, "199")] {
        let _: i64 = redis::cmd("LINSERT")
            .arg("big")
            .arg("AFTER")
            .arg(pivot)
            .arg(format!("after-{pivot}"))
            .query(&mut con)
            .unwrap();
        assert_eq!(
            redis::cmd("LINDEX").arg("big").arg(index).query::<String>(&mut con).unwrap(),
            format!("after-{pivot}")
        );
    }
    assert_eq!(int(&mut con, &["LREM", "big", "0", "after-9"]), 1);
    assert_eq!(int(&mut con, &["LREM", "big", "0", "after-199"]), 1);
    let _: () = redis::cmd("LSET").arg("big").arg(-1).arg("last").query(&mut con).unwrap();
    assert!(server.terminate().success());
    server.restart();
    let mut con = server.connect();
    let mut expected = elements.clone();
    expected[499] = "last".into();
    assert_eq!(strings(&mut con, &["LRANGE", "big", "0", "-1"]), expected);
    // The node size is replicated state, so it survives too.
    assert_eq!(strings(&mut con, &["CONFIG", "GET", "list-max-ziplist-size"]), ["list-max-ziplist-size", "4"]);
}
