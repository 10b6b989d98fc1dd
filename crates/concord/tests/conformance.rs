//! Conformance: a real Redis client and exact RESP bytes against the real `concord` binary,
//! in RESP2 and RESP3, checked against what Redis 7 replies.

mod common;

use common::{Raw, Server};
use redis::{Commands, Value};
use std::time::Duration;

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

#[test]
fn strings_through_a_real_client() {
    let server = Server::start();
    let mut con = server.connect();
    let _: () = con.set("greeting", "hello").unwrap();
    assert_eq!(con.get::<_, String>("greeting").unwrap(), "hello");
    assert_eq!(con.append::<_, _, i64>("greeting", " world").unwrap(), 11);
    assert_eq!(con.strlen::<_, i64>("greeting").unwrap(), 11);
    assert_eq!(con.getrange::<_, String>("greeting", 0, 4).unwrap(), "hello");
    assert_eq!(con.setrange::<_, _, i64>("greeting", 6, "Redis").unwrap(), 11);
    assert_eq!(con.get::<_, String>("greeting").unwrap(), "hello Redis");
    assert_eq!(con.incr::<_, _, i64>("counter", 5).unwrap(), 5);
    assert_eq!(con.decr::<_, _, i64>("counter", 2).unwrap(), 3);
    assert_eq!(redis::cmd("INCRBYFLOAT").arg("float").arg("0.1").query::<String>(&mut con).unwrap(), "0.1");
    assert_eq!(redis::cmd("INCRBYFLOAT").arg("float").arg("0.2").query::<String>(&mut con).unwrap(), "0.3");
    let _: () = con.mset(&[("a", "1"), ("b", "2")]).unwrap();
    assert_eq!(
        con.mget::<_, Vec<Option<String>>>(&["a", "nope", "b"]).unwrap(),
        vec![Some("1".into()), None, Some("2".into())]
    );
    assert_eq!(redis::cmd("MSETNX").arg("a").arg("x").arg("c").arg("3").query::<i64>(&mut con).unwrap(), 0);
    assert_eq!(redis::cmd("SET").arg("a").arg("9").arg("GET").query::<String>(&mut con).unwrap(), "1");
    assert_eq!(redis::cmd("SET").arg("a").arg("9").arg("NX").query::<Option<String>>(&mut con).unwrap(), None);
    assert_eq!(redis::cmd("GETDEL").arg("a").query::<String>(&mut con).unwrap(), "9");
    assert_eq!(redis::cmd("GETSET").arg("b").arg("3").query::<String>(&mut con).unwrap(), "2");
    assert_eq!(redis::cmd("SETEX").arg("ex").arg(100).arg("v").query::<String>(&mut con).unwrap(), "OK");
    assert_eq!(con.ttl::<_, i64>("ex").unwrap(), 100);
    assert_eq!(redis::cmd("GETEX").arg("ex").arg("PERSIST").query::<String>(&mut con).unwrap(), "v");
    assert_eq!(con.ttl::<_, i64>("ex").unwrap(), -1);
}

#[test]
fn exact_replies_and_errors() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    assert_eq!(raw.call(&["PING"]), "+PONG\r\n");
    assert_eq!(raw.call(&["PING", "hi"]), bulk("hi"));
    assert_eq!(raw.call(&["ECHO", "x"]), bulk("x"));
    assert_eq!(raw.call(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(raw.call(&["SET", "k", "v", "EX", "0"]), "-ERR invalid expire time in 'set' command\r\n");
    assert_eq!(raw.call(&["SET", "k", "v", "NX", "XX"]), "-ERR syntax error\r\n");
    assert_eq!(raw.call(&["GET"]), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(raw.call(&["NOSUCH", "a"]), "-ERR unknown command 'NOSUCH', with args beginning with: 'a' \r\n");
    assert_eq!(raw.call(&["SET", "s", "abc"]), "+OK\r\n");
    assert_eq!(raw.call(&["INCR", "s"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(
        raw.call(&["HSET", "s", "f", "v"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(raw.call(&["TYPE", "s"]), "+string\r\n");
    assert_eq!(raw.call(&["SELECT", "16"]), "-ERR DB index is out of range\r\n");
    assert_eq!(raw.call(&["CLIENT", "NOPE"]), "-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n");
    assert_eq!(
        raw.call(&["CONFIG", "SET", "nosuch", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert_eq!(raw.call(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(raw.call(&["HELLO", "4"]), "-NOPROTO unsupported protocol version\r\n");
    assert_eq!(raw.call(&["TIME"]).matches('$').count(), 2);
    assert_eq!(raw.call(&["FUNCTION", "FLUSH"]), "+OK\r\n");
    assert_eq!(raw.call(&["QUIT"]), "+OK\r\n");
}

#[test]
fn keys_expiry_and_databases() {
    let server = Server::start();
    let mut con = server.connect();
    for i in 0..30 {
        let _: () = con.set(format!("key:{i}"), i).unwrap();
    }
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 30);
    let mut keys: Vec<String> = con.keys("key:1*").unwrap();
    keys.sort();
    assert_eq!(keys.len(), 11);
    let scanned: std::collections::BTreeSet<String> =
        con.scan_match::<_, String>("key:*").unwrap().map(Result::unwrap).collect();
    assert_eq!(scanned.len(), 30);
    assert_eq!(con.exists::<_, i64>(&["key:1", "key:1", "nope"]).unwrap(), 2);
    assert_eq!(con.del::<_, i64>(&["key:1", "nope"]).unwrap(), 1);
    assert_eq!(con.rename::<_, _, String>("key:2", "renamed").unwrap(), "OK");
    assert_eq!(redis::cmd("COPY").arg("renamed").arg("copied").query::<i64>(&mut con).unwrap(), 1);
    assert_eq!(redis::cmd("MOVE").arg("copied").arg(3).query::<i64>(&mut con).unwrap(), 1);
    let _: () = redis::cmd("SELECT").arg(3).query(&mut con).unwrap();
    assert_eq!(con.get::<_, String>("copied").unwrap(), "2");
    let _: () = redis::cmd("SELECT").arg(0).query(&mut con).unwrap();
    assert!(con.exists::<_, bool>("renamed").unwrap());
    assert!(redis::cmd("RANDOMKEY").query::<Option<String>>(&mut con).unwrap().is_some());
    let _: () = redis::cmd("SET").arg("short").arg("v").arg("PX").arg(100).query(&mut con).unwrap();
    assert!(con.pttl::<_, i64>("short").unwrap() <= 100);
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(con.get::<_, Option<String>>("short").unwrap(), None);
    // The leader's sweep removes expired keys nobody reads again.
    for i in 0..20 {
        let _: () = redis::cmd("SET").arg(format!("ttl:{i}")).arg("v").arg("PX").arg(50).query(&mut con).unwrap();
    }
    // 29 keys have no expiry: 30 set, one deleted, one renamed (still there).
    let mut size = redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap();
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(50));
        size = redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap();
        if size == 29 {
            break;
        }
    }
    assert_eq!(size, 29, "expired keys were not swept");
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    assert!(info.contains("expired_keys:"), "{info}");
    assert_eq!(redis::cmd("FLUSHALL").query::<String>(&mut con).unwrap(), "OK");
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 0);
}

#[test]
fn hashes_in_resp2_and_resp3() {
    let server = Server::start();
    let mut con = server.connect();
    assert_eq!(con.hset_multiple::<_, _, _, String>("h", &[("a", "1"), ("b", "2")]).unwrap(), "OK");
    assert_eq!(con.hget::<_, _, String>("h", "a").unwrap(), "1");
    assert_eq!(con.hincr::<_, _, _, i64>("h", "a", 10).unwrap(), 11);
    assert_eq!(con.hlen::<_, i64>("h").unwrap(), 2);
    let all: std::collections::HashMap<String, String> = con.hgetall("h").unwrap();
    assert_eq!(all.len(), 2);
    let mut raw = Raw::new(&server);
    assert_eq!(raw.call(&["HGETALL", "missing"]), "*0\r\n");
    assert_eq!(raw.call(&["HELLO", "3"]).chars().next(), Some('%'));
    assert_eq!(raw.call(&["HGETALL", "missing"]), "%0\r\n");
    assert_eq!(raw.call(&["HGET", "h", "nope"]), "_\r\n");
    assert_eq!(raw.call(&["HSET", "one", "f", "v"]), ":1\r\n");
    assert_eq!(raw.call(&["HGETALL", "one"]), format!("%1\r\n{}{}", bulk("f"), bulk("v")));
    assert_eq!(raw.call(&["HRANDFIELD", "one", "1", "WITHVALUES"]), format!("*1\r\n*2\r\n{}{}", bulk("f"), bulk("v")));
    assert_eq!(raw.call(&["CONFIG", "GET", "maxclients"]), format!("%1\r\n{}{}", bulk("maxclients"), bulk("10000")));
    assert_eq!(raw.call(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert!(raw.call(&["INFO", "server"]).starts_with('='));
    assert_eq!(raw.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(raw.call(&["HGET", "h", "nope"]), "$-1\r\n");
    let mut resp3 = server.connect_resp3();
    let value: Value = redis::cmd("HGETALL").arg("one").query(&mut resp3).unwrap();
    assert!(matches!(value, Value::Map(ref pairs) if pairs.len() == 1), "{value:?}");
}

#[test]
fn transactions_and_watch() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    assert_eq!(raw.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(raw.call(&["SET", "t", "1"]), "+QUEUED\r\n");
    assert_eq!(raw.call(&["INCR", "t"]), "+QUEUED\r\n");
    assert_eq!(raw.call(&["PING"]), "+QUEUED\r\n");
    assert_eq!(raw.call(&["EXEC"]), "*3\r\n+OK\r\n:2\r\n+PONG\r\n");
    assert_eq!(raw.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(raw.call(&["NOSUCH"]), "-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    assert_eq!(raw.call(&["EXEC"]), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert_eq!(raw.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(raw.call(&["INCR", "t"]), "+QUEUED\r\n");
    assert_eq!(raw.call(&["DISCARD"]), "+OK\r\n");
    assert_eq!(raw.call(&["GET", "t"]), bulk("2"));
    // A runtime error inside EXEC is reported in place; the rest still runs.
    assert_eq!(raw.call(&["SET", "s", "text"]), "+OK\r\n");
    raw.call(&["MULTI"]);
    raw.call(&["INCR", "s"]);
    raw.call(&["SET", "u", "1"]);
    assert_eq!(raw.call(&["EXEC"]), "*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n");
    // WATCH: a change by another client aborts EXEC with a null array.
    let mut other = Raw::new(&server);
    assert_eq!(raw.call(&["WATCH", "w"]), "+OK\r\n");
    assert_eq!(other.call(&["SET", "w", "changed"]), "+OK\r\n");
    raw.call(&["MULTI"]);
    raw.call(&["SET", "w", "mine"]);
    assert_eq!(raw.call(&["EXEC"]), "*-1\r\n");
    assert_eq!(raw.call(&["GET", "w"]), bulk("changed"));
    // Unchanged watched keys let EXEC through.
    assert_eq!(raw.call(&["WATCH", "w"]), "+OK\r\n");
    raw.call(&["MULTI"]);
    raw.call(&["SET", "w", "mine"]);
    assert_eq!(raw.call(&["EXEC"]), "*1\r\n+OK\r\n");
    assert_eq!(raw.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(raw.call(&["WATCH", "x"]), "-ERR WATCH inside MULTI is not allowed\r\n");
    assert_eq!(raw.call(&["MULTI"]), "-ERR MULTI calls can not be nested\r\n");
    assert_eq!(raw.call(&["EXEC"]), "*0\r\n");
}

#[test]
fn server_commands() {
    let server = Server::start();
    let mut con = server.connect();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();
    assert!(id > 0);
    let _: () = redis::cmd("CLIENT").arg("SETNAME").arg("tester").query(&mut con).unwrap();
    assert_eq!(redis::cmd("CLIENT").arg("GETNAME").query::<String>(&mut con).unwrap(), "tester");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut con).unwrap();
    assert!(list.contains("name=tester") && list.contains(&format!("id={id} ")), "{list}");
    let count: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut con).unwrap();
    assert!(count > 80, "{count}");
    let info: Value = redis::cmd("COMMAND").arg("INFO").arg("get").query(&mut con).unwrap();
    let Value::Array(commands) = info else { panic!("{info:?}") };
    let Value::Array(get) = &commands[0] else { panic!() };
    assert_eq!(get.len(), 10);
    assert_eq!(get[1], Value::Int(2));
    let keys: Vec<String> =
        redis::cmd("COMMAND").arg("GETKEYS").arg("MSET").arg("a").arg("1").arg("b").arg("2").query(&mut con).unwrap();
    assert_eq!(keys, vec!["a", "b"]);
    let docs: Value = redis::cmd("COMMAND").arg("DOCS").arg("set").query(&mut con).unwrap();
    assert!(matches!(docs, Value::Array(ref items) if items.len() == 2), "{docs:?}");
    let info: String = redis::cmd("INFO").query(&mut con).unwrap();
    for field in ["redis_version:", "tcp_port:", "connected_clients:", "used_memory:", "role:master", "# Keyspace"] {
        assert!(info.contains(field), "missing {field}");
    }
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg("10mb").query(&mut con).unwrap();
    let value: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("maxmemory").query(&mut con).unwrap();
    assert_eq!(value, vec!["maxmemory", "10485760"]);
    let digest: String = redis::cmd("DEBUG").arg("DIGEST").query(&mut con).unwrap();
    assert_eq!(digest.len(), 32);
    let (index, at): (i64, String) = redis::cmd("DEBUG").arg("REPLICA").query(&mut con).unwrap();
    assert!(index > 0);
    assert_eq!(at, digest, "nothing was written in between");
}

#[test]
fn info_errorstats_counts_error_replies_by_code() {
    let server = Server::start();
    let mut con = server.connect();
    let errorstats = |con: &mut redis::Connection| {
        let info: String = redis::cmd("INFO").arg("errorstats").query(con).unwrap();
        info.lines().filter(|line| line.starts_with("errorstat_")).map(str::to_string).collect::<Vec<_>>()
    };
    let _: () = redis::cmd("SET").arg("s").arg("v").query(&mut con).unwrap();
    for _ in 0..2 {
        let _ = redis::cmd("LPUSH").arg("s").arg("x").query::<i64>(&mut con).unwrap_err();
    }
    let _ = redis::cmd("NOSUCHCOMMAND").query::<()>(&mut con).unwrap_err();
    assert_eq!(errorstats(&mut con), vec!["errorstat_ERR:count=1", "errorstat_WRONGTYPE:count=2"]);
    let default: String = redis::cmd("INFO").query(&mut con).unwrap();
    assert!(default.contains("# Errorstats\r\nerrorstat_ERR:count=1\r\n"), "in the default sections");
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
    assert_eq!(errorstats(&mut con), Vec::<String>::new());
}

#[test]
fn info_commandstats_counts_calls_failures_and_refusals_per_command() {
    let server = Server::start();
    let mut con = server.connect();
    let commandstats = |con: &mut redis::Connection| {
        let info: String = redis::cmd("INFO").arg("commandstats").query(con).unwrap();
        info.lines()
            .filter(|line| line.starts_with("cmdstat_"))
            .map(|line| {
                // usec and usec_per_call vary: keep the name and the counts.
                let (name, fields) = line.split_once(':').unwrap();
                let counts: Vec<&str> = fields.split(',').filter(|field| !field.starts_with("usec")).collect();
                format!("{name}:{}", counts.join(","))
            })
            .collect::<Vec<_>>()
    };
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
    for value in ["a", "b"] {
        let _: () = redis::cmd("SET").arg("s").arg(value).query(&mut con).unwrap();
    }
    let _ = redis::cmd("LPUSH").arg("s").arg("x").query::<i64>(&mut con).unwrap_err();
    let _ = redis::cmd("GET").query::<()>(&mut con).unwrap_err();
    let _: redis::Value = redis::pipe().cmd("MULTI").cmd("INCR").arg("n").cmd("EXEC").query(&mut con).unwrap();
    assert_eq!(
        commandstats(&mut con),
        vec![
            "cmdstat_config:calls=1,rejected_calls=0,failed_calls=0",
            "cmdstat_exec:calls=1,rejected_calls=0,failed_calls=0",
            "cmdstat_get:calls=0,rejected_calls=1,failed_calls=0",
            "cmdstat_lpush:calls=1,rejected_calls=0,failed_calls=1",
            "cmdstat_multi:calls=1,rejected_calls=0,failed_calls=0",
            "cmdstat_set:calls=2,rejected_calls=0,failed_calls=0",
        ]
    );
    let info: String = redis::cmd("INFO").arg("commandstats").query(&mut con).unwrap();
    assert!(info.contains("cmdstat_set:calls=2,usec="), "{info}");
    let default: String = redis::cmd("INFO").query(&mut con).unwrap();
    assert!(!default.contains("# Commandstats"), "not in the default sections, as in Redis");
    let all: String = redis::cmd("INFO").arg("all").query(&mut con).unwrap();
    assert!(all.contains("# Commandstats\r\ncmdstat_"), "in INFO all");
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
    assert_eq!(commandstats(&mut con), vec!["cmdstat_config:calls=1,rejected_calls=0,failed_calls=0"]);
}

#[test]
fn past_maxmemory_writes_that_grow_the_data_are_refused_and_reads_and_deletes_go_on() {
    let server = Server::start();
    let mut con = server.connect();
    let _: () = redis::cmd("SET").arg("kept").arg("v").query(&mut con).unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg("1").query(&mut con).unwrap();
    let refused = redis::cmd("SET").arg("k").arg("v").query::<()>(&mut con).unwrap_err();
    assert_eq!(refused.code(), Some("OOM"), "{refused}");
    assert!(refused.to_string().contains("command not allowed when used memory > 'maxmemory'."), "{refused}");
    let script = redis::cmd("EVAL").arg("return 1").arg(0).query::<i64>(&mut con).unwrap_err();
    assert_eq!(script.code(), Some("OOM"), "a script that may write is refused at once");
    let read_only: i64 = redis::cmd("EVAL").arg("#!lua flags=no-writes\nreturn 1").arg(0).query(&mut con).unwrap();
    assert_eq!(read_only, 1);
    let kept: String = redis::cmd("GET").arg("kept").query(&mut con).unwrap();
    assert_eq!(kept, "v");
    // Queueing takes memory too: the transaction is refused, then discarded at EXEC.
    let _: () = redis::cmd("MULTI").query(&mut con).unwrap();
    let queued = redis::cmd("GET").arg("kept").query::<()>(&mut con).unwrap_err();
    assert_eq!(queued.code(), Some("OOM"));
    let exec = redis::cmd("EXEC").query::<()>(&mut con).unwrap_err();
    assert_eq!(exec.code(), Some("EXECABORT"), "{exec}");
    let deleted: i64 = redis::cmd("DEL").arg("kept").query(&mut con).unwrap();
    assert_eq!(deleted, 1, "what frees memory still runs");
    let info: String = redis::cmd("INFO").arg("memory").query(&mut con).unwrap();
    assert!(info.contains("\r\nmaxmemory:1\r\n"), "{info}");
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg("0").query(&mut con).unwrap();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
}
