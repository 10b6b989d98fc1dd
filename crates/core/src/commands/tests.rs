//! Each command against a keyspace, through the same parse / apply / reply path the node
//! uses, with the replies Redis gives.

use super::testing::*;
use crate::keyspace::Keyspace;
use crate::reply::Reply;

const T: u64 = 1_000_000;

fn int(value: i64) -> Reply {
    Reply::Integer(value)
}

fn nil() -> Reply {
    Reply::Nil
}

fn bulks(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|item| bulk(item)).collect())
}

fn sorted(reply: Reply) -> Vec<String> {
    let Reply::Array(items) = reply else { panic!("not an array: {reply:?}") };
    let mut items: Vec<String> = items
        .into_iter()
        .map(|item| match item {
            Reply::Bulk(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    items.sort();
    items
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn get_set_and_friends() {
    let ks = &mut Keyspace::new();
    assert_eq!(read(ks, T, &["get", "a"]), nil());
    assert_eq!(write(ks, T, &["set", "a", "1"]), Reply::OK);
    assert_eq!(read(ks, T, &["get", "a"]), bulk("1"));
    assert_eq!(write(ks, T, &["setnx", "a", "2"]), int(0));
    assert_eq!(write(ks, T, &["setnx", "b", "2"]), int(1));
    assert_eq!(write(ks, T, &["getset", "b", "3"]), bulk("2"));
    assert_eq!(write(ks, T, &["getdel", "b"]), bulk("3"));
    assert_eq!(write(ks, T, &["getdel", "b"]), nil());
    assert_eq!(write(ks, T, &["mset", "x", "1", "y", "2"]), Reply::OK);
    assert_eq!(write(ks, T, &["mset", "x", "1", "y"]), error("ERR wrong number of arguments for 'mset' command"));
    assert_eq!(read(ks, T, &["mget", "x", "nope", "y"]), Reply::Array(vec![bulk("1"), nil(), bulk("2")]));
    assert_eq!(write(ks, T, &["msetnx", "x", "9", "z", "9"]), int(0));
    assert_eq!(read(ks, T, &["get", "z"]), nil());
    assert_eq!(write(ks, T, &["msetnx", "z", "9", "w", "9"]), int(1));
    assert_eq!(write(ks, T, &["append", "z", "ab"]), int(3));
    assert_eq!(write(ks, T, &["append", "new", "ab"]), int(2));
    assert_eq!(read(ks, T, &["strlen", "z"]), int(3));
    assert_eq!(read(ks, T, &["strlen", "missing"]), int(0));
    write(ks, T, &["hset", "h", "f", "v"]);
    assert_eq!(read(ks, T, &["get", "h"]), error(WRONGTYPE));
    assert_eq!(read(ks, T, &["mget", "h"]), Reply::Array(vec![nil()]));
    assert_eq!(write(ks, T, &["append", "h", "x"]), error(WRONGTYPE));
}

#[test]
fn setex_family_and_getex() {
    let ks = &mut Keyspace::new();
    assert_eq!(write(ks, T, &["setex", "a", "10", "v"]), Reply::OK);
    assert_eq!(read(ks, T, &["pttl", "a"]), int(10_000));
    assert_eq!(write(ks, T, &["psetex", "b", "1500", "v"]), Reply::OK);
    assert_eq!(read(ks, T, &["ttl", "b"]), int(2));
    assert_eq!(write(ks, T, &["setex", "c", "0", "v"]), error("ERR invalid expire time in 'setex' command"));
    assert_eq!(write(ks, T, &["psetex", "c", "-1", "v"]), error("ERR invalid expire time in 'psetex' command"));
    assert_eq!(write(ks, T, &["getex", "a", "PERSIST"]), bulk("v"));
    assert_eq!(read(ks, T, &["ttl", "a"]), int(-1));
    assert_eq!(write(ks, T, &["getex", "a", "PX", "100"]), bulk("v"));
    assert_eq!(read(ks, T, &["pttl", "a"]), int(100));
    assert_eq!(write(ks, T, &["getex", "a", "EX", "1", "PERSIST"]), error("ERR syntax error"));
    assert_eq!(write(ks, T, &["getex", "a", "EXAT", "1"]), bulk("v"));
    assert_eq!(read(ks, T, &["exists", "a"]), int(0));
    assert_eq!(write(ks, T, &["getex", "missing"]), nil());
}

#[test]
fn counters() {
    let ks = &mut Keyspace::new();
    assert_eq!(write(ks, T, &["incr", "n"]), int(1));
    assert_eq!(write(ks, T, &["incrby", "n", "10"]), int(11));
    assert_eq!(write(ks, T, &["decr", "n"]), int(10));
    assert_eq!(write(ks, T, &["decrby", "n", "20"]), int(-10));
    assert_eq!(write(ks, T, &["decrby", "n", "-9223372036854775808"]), error("ERR decrement would overflow"));
    write(ks, T, &["set", "big", "9223372036854775807"]);
    assert_eq!(write(ks, T, &["incr", "big"]), error("ERR increment or decrement would overflow"));
    write(ks, T, &["set", "text", "abc"]);
    assert_eq!(write(ks, T, &["incr", "text"]), error("ERR value is not an integer or out of range"));
    write(ks, T, &["set", "spaced", " 1"]);
    assert_eq!(write(ks, T, &["incr", "spaced"]), error("ERR value is not an integer or out of range"));
    assert_eq!(write(ks, T, &["incrby", "n", "x"]), error("ERR value is not an integer or out of range"));
    assert_eq!(write(ks, T, &["incrbyfloat", "f", "10.5"]), bulk("10.5"));
    assert_eq!(write(ks, T, &["incrbyfloat", "f", "0.25"]), bulk("10.75"));
    write(ks, T, &["set", "f2", "5.0e3"]);
    assert_eq!(write(ks, T, &["incrbyfloat", "f2", "200"]), bulk("5200"));
    assert_eq!(write(ks, T, &["incrbyfloat", "f", "+inf"]), error("ERR increment would produce NaN or Infinity"));
    assert_eq!(write(ks, T, &["incrbyfloat", "text", "1"]), error("ERR value is not a valid float"));
    assert_eq!(write(ks, T, &["incrbyfloat", "f", "x"]), error("ERR value is not a valid float"));
}

#[test]
fn ranges() {
    let ks = &mut Keyspace::new();
    write(ks, T, &["set", "s", "Hello World"]);
    assert_eq!(read(ks, T, &["getrange", "s", "0", "4"]), bulk("Hello"));
    assert_eq!(read(ks, T, &["substr", "s", "-5", "-1"]), bulk("World"));
    assert_eq!(read(ks, T, &["getrange", "missing", "0", "-1"]), bulk(""));
    assert_eq!(write(ks, T, &["setrange", "s", "6", "Redis"]), int(11));
    assert_eq!(read(ks, T, &["get", "s"]), bulk("Hello Redis"));
    assert_eq!(write(ks, T, &["setrange", "pad", "3", "x"]), int(4));
    assert_eq!(read(ks, T, &["get", "pad"]), bulk("\0\0\0x"));
    assert_eq!(write(ks, T, &["setrange", "empty", "3", ""]), int(0));
    assert_eq!(read(ks, T, &["exists", "empty"]), int(0));
    assert_eq!(write(ks, T, &["setrange", "s", "-1", "x"]), error("ERR offset is out of range"));
    assert_eq!(
        write(ks, T, &["setrange", "s", "536870911", "xx"]),
        error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
}

#[test]
fn keys_and_expiry() {
    let ks = &mut Keyspace::new();
    write(ks, T, &["mset", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(read(ks, T, &["exists", "a", "a", "nope"]), int(2));
    assert_eq!(read(ks, T, &["touch", "a", "nope"]), int(1));
    assert_eq!(read(ks, T, &["type", "a"]), Reply::status("string"));
    assert_eq!(read(ks, T, &["type", "nope"]), Reply::status("none"));
    assert_eq!(write(ks, T, &["del", "a", "nope"]), int(1));
    assert_eq!(write(ks, T, &["unlink", "b"]), int(1));
    assert_eq!(read(ks, T, &["dbsize"]), int(1));
    assert_eq!(write(ks, T, &["expire", "c", "100"]), int(1));
    assert_eq!(read(ks, T, &["ttl", "c"]), int(100));
    assert_eq!(read(ks, T, &["expiretime", "c"]), int((T / 1000 + 100) as i64));
    assert_eq!(read(ks, T, &["pexpiretime", "c"]), int((T + 100_000) as i64));
    assert_eq!(write(ks, T, &["persist", "c"]), int(1));
    assert_eq!(write(ks, T, &["persist", "c"]), int(0));
    assert_eq!(read(ks, T, &["pexpiretime", "c"]), int(-1));
    assert_eq!(read(ks, T, &["ttl", "nope"]), int(-2));
    assert_eq!(write(ks, T, &["pexpireat", "c", &(T + 50).to_string()]), int(1));
    assert_eq!(read(ks, T + 49, &["get", "c"]), bulk("3"));
    assert_eq!(read(ks, T + 50, &["get", "c"]), nil());
    assert_eq!(write(ks, T, &["expireat", "nope", "1"]), int(0));
}

#[test]
fn rename_copy_move() {
    let ks = &mut Keyspace::new();
    write(ks, T, &["set", "a", "1", "EX", "100"]);
    assert_eq!(write(ks, T, &["rename", "nope", "x"]), error("ERR no such key"));
    assert_eq!(write(ks, T, &["rename", "a", "b"]), Reply::OK);
    assert_eq!(read(ks, T, &["ttl", "b"]), int(100));
    assert_eq!(write(ks, T, &["rename", "b", "b"]), Reply::OK);
    write(ks, T, &["set", "c", "3"]);
    assert_eq!(write(ks, T, &["renamenx", "b", "c"]), int(0));
    assert_eq!(write(ks, T, &["renamenx", "b", "d"]), int(1));
    assert_eq!(write(ks, T, &["copy", "d", "c"]), int(0));
    assert_eq!(write(ks, T, &["copy", "d", "c", "REPLACE"]), int(1));
    assert_eq!(read(ks, T, &["get", "c"]), bulk("1"));
    assert_eq!(write(ks, T, &["copy", "d", "d"]), error("ERR source and destination objects are the same"));
    assert_eq!(write(ks, T, &["copy", "d", "d", "DB", "1"]), int(1));
    assert_eq!(ks.db(1).len(), 1);
    assert_eq!(write(ks, T, &["move", "c", "0"]), error("ERR source and destination objects are the same"));
    assert_eq!(write(ks, T, &["move", "d", "1"]), int(0));
    assert_eq!(write(ks, T, &["move", "c", "2"]), int(1));
    assert_eq!(ks.db(2).len(), 1);
    assert_eq!(write(ks, T, &["move", "c", "x"]), error("ERR value is not an integer or out of range"));
    assert_eq!(write(ks, T, &["flushdb"]), Reply::OK);
    assert_eq!(ks.db(0).len(), 0);
    assert_eq!(ks.db(1).len(), 1);
    assert_eq!(write(ks, T, &["flushall", "ASYNC"]), Reply::OK);
    assert!(ks.is_empty());
    assert_eq!(write(ks, T, &["flushall", "NOW"]), error("ERR syntax error"));
}

#[test]
fn keys_scan_randomkey() {
    let ks = &mut Keyspace::new();
    for i in 0..50 {
        write(ks, T, &["set", &format!("key:{i}"), "v"]);
    }
    write(ks, T, &["hset", "hash", "f", "v"]);
    write(ks, T, &["set", "gone", "v", "PX", "1"]);
    assert_eq!(
        sorted(read(ks, T + 10, &["keys", "key:1*"])),
        ["key:1", "key:10", "key:11", "key:12", "key:13", "key:14", "key:15", "key:16", "key:17", "key:18", "key:19"]
    );
    assert_eq!(read(ks, T + 10, &["keys", "gone"]), Reply::Array(vec![]));
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    loop {
        let Reply::Array(page) = read(ks, T + 10, &["scan", &cursor, "COUNT", "7", "MATCH", "key:*"]) else { panic!() };
        let Reply::Bulk(next) = &page[0] else { panic!() };
        seen.extend(sorted(page[1].clone()));
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 50);
    let Reply::Array(page) = read(ks, T + 10, &["scan", "0", "COUNT", "1000", "TYPE", "hash"]) else { panic!() };
    assert_eq!(page[1], bulks(&["hash"]));
    assert_eq!(read(ks, T, &["scan", "x"]), error("ERR invalid cursor"));
    assert_eq!(read(ks, T, &["scan", "0", "COUNT", "0"]), error("ERR syntax error"));
    assert!(matches!(read(ks, T + 10, &["randomkey"]), Reply::Bulk(_)));
    assert_eq!(read(&Keyspace::new(), T, &["randomkey"]), nil());
}

#[test]
fn hashes() {
    let ks = &mut Keyspace::new();
    assert_eq!(write(ks, T, &["hset", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(write(ks, T, &["hset", "h", "a", "1", "b"]), error("ERR wrong number of arguments for 'hset' command"));
    assert_eq!(write(ks, T, &["hset", "h", "a", "3"]), int(0));
    assert_eq!(write(ks, T, &["hmset", "h", "c", "4"]), Reply::OK);
    assert_eq!(write(ks, T, &["hsetnx", "h", "c", "5"]), int(0));
    assert_eq!(write(ks, T, &["hsetnx", "h", "d", "5"]), int(1));
    assert_eq!(read(ks, T, &["hget", "h", "a"]), bulk("3"));
    assert_eq!(read(ks, T, &["hget", "h", "zz"]), nil());
    assert_eq!(read(ks, T, &["hmget", "h", "a", "zz"]), Reply::Array(vec![bulk("3"), nil()]));
    assert_eq!(read(ks, T, &["hlen", "h"]), int(4));
    assert_eq!(read(ks, T, &["hexists", "h", "d"]), int(1));
    assert_eq!(read(ks, T, &["hstrlen", "h", "a"]), int(1));
    assert_eq!(sorted(read(ks, T, &["hkeys", "h"])), ["a", "b", "c", "d"]);
    assert_eq!(sorted(read(ks, T, &["hvals", "h"])), ["2", "3", "4", "5"]);
    let Reply::Map(pairs) = read(ks, T, &["hgetall", "h"]) else { panic!() };
    assert_eq!(pairs.len(), 4);
    assert_eq!(write(ks, T, &["hincrby", "h", "a", "10"]), int(13));
    assert_eq!(write(ks, T, &["hincrby", "h", "new", "-1"]), int(-1));
    assert_eq!(write(ks, T, &["hincrbyfloat", "h", "a", "0.5"]), bulk("13.5"));
    assert_eq!(write(ks, T, &["hincrby", "h", "a", "1"]), error("ERR hash value is not an integer"));
    write(ks, T, &["hset", "h", "t", "text"]);
    assert_eq!(write(ks, T, &["hincrbyfloat", "h", "t", "1"]), error("ERR hash value is not a float"));
    assert_eq!(write(ks, T, &["hdel", "h", "a", "zz"]), int(1));
    assert_eq!(write(ks, T, &["hdel", "h", "b", "c", "d", "new", "t"]), int(5));
    assert_eq!(read(ks, T, &["exists", "h"]), int(0));
    write(ks, T, &["set", "s", "v"]);
    assert_eq!(write(ks, T, &["hset", "s", "a", "1"]), error(WRONGTYPE));
    assert_eq!(read(ks, T, &["hgetall", "s"]), error(WRONGTYPE));
}

#[test]
fn hash_scan_and_random_fields() {
    let ks = &mut Keyspace::new();
    for i in 0..20 {
        write(ks, T, &["hset", "h", &format!("f{i}"), &format!("v{i}")]);
    }
    let Reply::Array(page) = read(ks, T, &["hscan", "h", "0", "COUNT", "100", "MATCH", "f1*"]) else { panic!() };
    assert_eq!(page[0], bulk("0"));
    assert_eq!(
        sorted(page[1].clone()),
        [
            "f1", "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19", "v1", "v10", "v11", "v12",
            "v13", "v14", "v15", "v16", "v17", "v18", "v19"
        ]
    );
    let Reply::Array(fields) = read(ks, T, &["hrandfield", "h", "5"]) else { panic!() };
    let mut distinct: Vec<_> = fields.clone();
    distinct.dedup();
    assert_eq!(fields.len(), 5);
    let Reply::Array(repeated) = read(ks, T, &["hrandfield", "h", "-50"]) else { panic!() };
    assert_eq!(repeated.len(), 50);
    let Reply::Array(all) = read(ks, T, &["hrandfield", "h", "100"]) else { panic!() };
    assert_eq!(all.len(), 20);
    let Reply::Pairs(pairs) = read(ks, T, &["hrandfield", "h", "2", "WITHVALUES"]) else { panic!() };
    assert_eq!(pairs.len(), 2);
    assert!(matches!(read(ks, T, &["hrandfield", "h"]), Reply::Bulk(_)));
    assert_eq!(read(ks, T, &["hrandfield", "nope"]), nil());
    assert_eq!(read(ks, T, &["hrandfield", "h", "1", "WITHSCORES"]), error("ERR syntax error"));
}

#[test]
fn object_encoding() {
    let ks = &mut Keyspace::new();
    write(ks, T, &["set", "i", "12345"]);
    write(ks, T, &["set", "e", "short"]);
    write(ks, T, &["set", "r", &"x".repeat(45)]);
    write(ks, T, &["hset", "h", "f", "v"]);
    assert_eq!(read(ks, T, &["object", "encoding", "i"]), bulk("int"));
    assert_eq!(read(ks, T, &["object", "encoding", "e"]), bulk("embstr"));
    assert_eq!(read(ks, T, &["object", "encoding", "r"]), bulk("raw"));
    assert_eq!(read(ks, T, &["object", "encoding", "h"]), bulk("listpack"));
    assert_eq!(read(ks, T, &["object", "encoding", "nope"]), nil());
    assert_eq!(read(ks, T, &["object", "nope", "x"]), error("ERR unknown subcommand 'nope'. Try OBJECT HELP."));
}

#[test]
fn unknown_commands_and_arity() {
    let ks = &mut Keyspace::new();
    assert_eq!(
        write(ks, T, &["nosuch", "a", "b"]),
        error("ERR unknown command 'nosuch', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(write(ks, T, &["get"]), error("ERR wrong number of arguments for 'get' command"));
    assert_eq!(write(ks, T, &["GET", "a", "b"]), error("ERR wrong number of arguments for 'get' command"));
    assert_eq!(write(ks, T, &["SeT", "a", "b"]), Reply::OK);
}

#[test]
fn memory_usage_and_swapdb() {
    let ks = &mut Keyspace::new();
    write(ks, T, &["set", "k", "value"]);
    let Reply::Integer(bytes) = read(ks, T, &["memory", "usage", "k"]) else { panic!() };
    assert!(bytes > 6);
    assert_eq!(read(ks, T, &["memory", "usage", "nope"]), nil());
    assert_eq!(read(ks, T, &["memory", "usage", "k", "SAMPLES"]), error("ERR syntax error"));
    let stamp = ks.db(0).watch_stamp(b"k", T, 10);
    assert_eq!(write(ks, T, &["swapdb", "0", "1"]), Reply::OK);
    assert_eq!(ks.db(0).len(), 0);
    assert_eq!(ks.db(1).len(), 1);
    assert!(!ks.db(0).is_unchanged(b"k", &stamp, T));
    assert_eq!(write(ks, T, &["swapdb", "x", "1"]), error("ERR invalid first DB index"));
    assert_eq!(write(ks, T, &["swapdb", "0", "70000"]), error("ERR DB index is out of range"));
}

#[test]
fn cluster_subcommands_parse() {
    use crate::args::Args;
    use crate::command::NodeCommand;
    use crate::commands::cluster::{Cluster, ClusterOp, Fault};
    use crate::types::NodeId;
    let parse = |words: &[&str]| {
        let items = argv(words);
        match Cluster::parse(&mut Args::new(&items)) {
            Ok(Cluster::Op(op)) => Ok(op),
            Ok(_) => Err("not an op".to_string()),
            Err(error) => Err(error.to_string()),
        }
    };
    let id = "0000000000000000000000000000000a";
    assert_eq!(
        parse(&["join", id, "h:1", "h:2", "LEARNER"]),
        Ok(ClusterOp::Join { node: NodeId(10), raft_addr: "h:1".into(), client_addr: "h:2".into(), voter: false })
    );
    assert_eq!(
        parse(&["JOIN", id, "h:1", "h:2"]),
        Ok(ClusterOp::Join { node: NodeId(10), raft_addr: "h:1".into(), client_addr: "h:2".into(), voter: true })
    );
    assert_eq!(parse(&["join", id, "h:1", "h:2", "VOTER"]), Err("ERR syntax error".into()));
    assert_eq!(
        parse(&["join", id, "h:1", "h:2", "ZONE", "eu-1a", "learner"]),
        Ok(ClusterOp::JoinInZone {
            node: NodeId(10),
            raft_addr: "h:1".into(),
            client_addr: "h:2".into(),
            voter: false,
            zone: "eu-1a".into()
        })
    );
    assert_eq!(parse(&["join", id, "h:1", "h:2", "ZONE", "a", "ZONE", "b"]), Err("ERR syntax error".into()));
    assert_eq!(parse(&["join", id, "h:1", "h:2", "ZONE"]), Err("ERR syntax error".into()));
    assert!(parse(&["join", id, "h:1", "h:2", "ZONE", "two words"]).unwrap_err().starts_with("ERR a zone is 1 to 64"));
    assert_eq!(parse(&["promote", "xyz"]), Err("ERR Invalid node id".into()));
    assert_eq!(
        parse(&["fault", "block-incoming", id]),
        Ok(ClusterOp::Fault(Fault::Block { peer: NodeId(10), outgoing: false, incoming: true }))
    );
    assert_eq!(parse(&["nodes", "extra"]), Err("ERR wrong number of arguments for 'cluster|nodes' command".into()));
    assert_eq!(parse(&["nope"]), Err("ERR unknown subcommand 'nope'. Try CLUSTER HELP.".into()));
}

#[test]
fn every_command_is_found_by_its_name_in_any_case_and_nothing_else_is() {
    use super::{lookup, NAME_BYTES_MAX, TABLE};
    let named = |name: &str| TABLE.iter().find(|entry| entry.spec.name == name).map(|entry| entry.spec.name);
    for entry in TABLE {
        let name = entry.spec.name;
        for spelled in [name.to_string(), name.to_uppercase(), name[..1].to_uppercase() + &name[1..]] {
            assert_eq!(lookup(spelled.as_bytes()).map(|found| found.spec.name), Some(name), "{spelled}");
        }
        for other in [format!("{name}x"), name[..name.len() - 1].to_string()] {
            assert_eq!(lookup(other.as_bytes()).map(|found| found.spec.name), named(&other), "{other}");
        }
    }
    assert!(lookup(b"").is_none());
    assert!(lookup(b"nosuchcommand").is_none());
    assert!(lookup(&[b'g'; NAME_BYTES_MAX + 1]).is_none());
}

#[test]
fn movable_keys_are_found_wherever_they_are() {
    let keys = |words: &[&str]| -> Vec<String> {
        let argv = argv(words);
        let entry = super::lookup(&argv[0]).unwrap();
        entry.spec.keys(&argv).map(|key| String::from_utf8_lossy(key).into_owned()).collect()
    };
    assert_eq!(keys(&["lmpop", "2", "a", "b", "LEFT"]), ["a", "b"]);
    assert_eq!(keys(&["blmpop", "0", "1", "a", "LEFT", "COUNT", "2"]), ["a"]);
    assert_eq!(keys(&["zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"]), ["d", "a", "b"]);
    assert_eq!(keys(&["zinter", "3", "a", "b", "c"]), ["a", "b", "c"]);
    assert_eq!(keys(&["sintercard", "2", "a", "b", "LIMIT", "1"]), ["a", "b"]);
    assert_eq!(keys(&["sort", "s", "BY", "w_*", "STORE", "d"]), ["s", "d"]);
    assert_eq!(keys(&["georadius", "g", "1", "2", "3", "km", "STOREDIST", "d"]), ["g", "d"]);
    assert_eq!(keys(&["lmpop", "9", "a", "LEFT"]), ["a", "LEFT"], "a count past the end stops at the end");
    assert_eq!(keys(&["lmpop", "x", "a", "LEFT"]), Vec::<String>::new());
}
