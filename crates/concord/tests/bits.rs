//! Conformance of bitmaps, HyperLogLogs and LCS: a real Redis client and exact RESP bytes against
//! the real `concord` binary, in RESP2 and RESP3, checked against what Redis 7.0.15 replies.

mod common;

use common::{Raw, Server};
use redis::Value;

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

fn query<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&[u8]]) -> T {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query(con).unwrap_or_else(|error| panic!("{:?}: {error}", String::from_utf8_lossy(args[0])))
}

fn error_of(con: &mut redis::Connection, args: &[&[u8]]) -> String {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    match cmd.query::<Value>(con) {
        Err(error) => error.to_string(),
        Ok(value) => panic!("expected an error, got {value:?}"),
    }
}

#[test]
fn bitmaps_through_a_real_client() {
    let server = Server::start();
    let mut con = server.connect();
    assert_eq!(query::<i64>(&mut con, &[b"SETBIT", b"bits", b"7", b"1"]), 0);
    assert_eq!(query::<i64>(&mut con, &[b"SETBIT", b"bits", b"7", b"1"]), 1);
    assert_eq!(query::<i64>(&mut con, &[b"SETBIT", b"bits", b"100", b"1"]), 0);
    assert_eq!(query::<i64>(&mut con, &[b"GETBIT", b"bits", b"100"]), 1);
    assert_eq!(query::<i64>(&mut con, &[b"GETBIT", b"bits", b"101"]), 0);
    assert_eq!(query::<i64>(&mut con, &[b"STRLEN", b"bits"]), 13);
    assert_eq!(query::<i64>(&mut con, &[b"BITCOUNT", b"bits"]), 2);
    assert_eq!(query::<i64>(&mut con, &[b"BITCOUNT", b"bits", b"1", b"-1"]), 1);
    assert_eq!(query::<i64>(&mut con, &[b"BITCOUNT", b"bits", b"0", b"7", b"BIT"]), 1);
    assert_eq!(query::<i64>(&mut con, &[b"BITPOS", b"bits", b"1"]), 7);
    assert_eq!(query::<i64>(&mut con, &[b"BITPOS", b"bits", b"1", b"8", b"-1", b"BIT"]), 100);
    assert_eq!(query::<i64>(&mut con, &[b"BITPOS", b"bits", b"0"]), 0);
    let _: () = query(&mut con, &[b"SET", b"a", b"\x01\x02\xff\xff"]);
    let _: () = query(&mut con, &[b"SET", b"b", b"\x01\x02\xff"]);
    assert_eq!(query::<i64>(&mut con, &[b"BITOP", b"XOR", b"x", b"a", b"b"]), 4);
    assert_eq!(query::<Vec<u8>>(&mut con, &[b"GET", b"x"]), b"\x00\x00\x00\xff");
    assert_eq!(query::<i64>(&mut con, &[b"BITOP", b"NOT", b"n", b"a"]), 4);
    assert_eq!(query::<Vec<u8>>(&mut con, &[b"GET", b"n"]), b"\xfe\xfd\x00\x00");
    assert_eq!(query::<i64>(&mut con, &[b"BITOP", b"AND", b"x", b"missing", b"nothing"]), 0);
    assert_eq!(query::<i64>(&mut con, &[b"EXISTS", b"x"]), 0, "an empty result deletes the destination");
    let fields: Vec<Option<i64>> = query(
        &mut con,
        &[
            b"BITFIELD",
            b"f",
            b"SET",
            b"u8",
            b"#0",
            b"255",
            b"INCRBY",
            b"u8",
            b"#0",
            b"100",
            b"OVERFLOW",
            b"FAIL",
            b"INCRBY",
            b"u8",
            b"#0",
            b"200",
            b"GET",
            b"i8",
            b"0",
        ],
    );
    assert_eq!(fields, vec![Some(0), Some(99), None, Some(99)]);
    let fields: Vec<i64> = query(&mut con, &[b"BITFIELD_RO", b"f", b"GET", b"u4", b"4", b"GET", b"u8", b"#0"]);
    assert_eq!(fields, vec![3, 99]);
    let error = error_of(&mut con, &[b"BITFIELD_RO", b"f", b"SET", b"u8", b"0", b"1"]);
    assert!(error.contains("BITFIELD_RO only supports the GET subcommand"), "{error}");
    // RESP3: the refused field is a null.
    let mut resp3 = server.connect_resp3();
    let value: Value = query(&mut resp3, &[b"BITFIELD", b"f", b"OVERFLOW", b"FAIL", b"SET", b"i4", b"0", b"100"]);
    assert_eq!(value, Value::Array(vec![Value::Nil]));
}

#[test]
fn exact_bitmap_replies_and_errors() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    for _resp3 in [false, true] {
        raw.call(&["FLUSHALL"]);
        assert_eq!(raw.call(&["SETBIT", "k", "-1", "1"]), "-ERR bit offset is not an integer or out of range\r\n");
        assert_eq!(
            raw.call(&["SETBIT", "k", "4294967296", "1"]),
            "-ERR bit offset is not an integer or out of range\r\n"
        );
        assert_eq!(raw.call(&["SETBIT", "k", "0", "2"]), "-ERR bit is not an integer or out of range\r\n");
        assert_eq!(raw.call(&["SETBIT", "k", "0", "1"]), ":0\r\n");
        assert_eq!(raw.call(&["BITCOUNT", "k", "0"]), "-ERR syntax error\r\n");
        assert_eq!(raw.call(&["BITCOUNT", "nokey", "0"]), ":0\r\n", "7.0 answers a missing key first");
        assert_eq!(raw.call(&["BITPOS", "k", "2"]), "-ERR The bit argument must be 1 or 0.\r\n");
        assert_eq!(
            raw.call(&["BITOP", "NOT", "d", "a", "b"]),
            "-ERR BITOP NOT must be called with a single source key.\r\n"
        );
        assert_eq!(raw.call(&["BITOP", "NAND", "d", "a"]), "-ERR syntax error\r\n");
        assert_eq!(
            raw.call(&["BITFIELD", "k", "GET", "u64", "0"]),
            "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"
        );
        assert_eq!(raw.call(&["BITFIELD", "k", "OVERFLOW", "NOPE"]), "-ERR Invalid OVERFLOW type specified\r\n");
        assert_eq!(raw.call(&["BITFIELD", "k"]), "*0\r\n");
        assert_eq!(raw.call(&["HSET", "h", "f", "v"]), ":1\r\n");
        let wrong = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        assert_eq!(raw.call(&["GETBIT", "h", "0"]), wrong);
        assert_eq!(raw.call(&["BITOP", "OR", "d", "k", "h"]), wrong);
        assert_eq!(raw.call(&["BITFIELD", "h", "GET", "u8", "0"]), wrong);
    }
    // RESP2 nulls are null bulks; RESP3's are `_`.
    raw.call(&["HELLO", "2"]);
    assert_eq!(
        raw.call(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u1", "0", "5", "GET", "u1", "0"]),
        "*2\r\n$-1\r\n:1\r\n"
    );
    raw.call(&["HELLO", "3"]);
    assert_eq!(
        raw.call(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u1", "0", "5", "GET", "u1", "0"]),
        "*2\r\n_\r\n:1\r\n"
    );
}

/// `PFADD hll a b c` in a real Redis 7.0.15, as `GET` returns it.
const REDIS_ABC: &[u8] = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a";

#[test]
fn hyperloglogs_are_redis_s_bytes() {
    let server = Server::start();
    let mut con = server.connect();
    assert_eq!(query::<i64>(&mut con, &[b"PFADD", b"hll", b"a", b"b", b"c"]), 1);
    assert_eq!(query::<Vec<u8>>(&mut con, &[b"GET", b"hll"]), REDIS_ABC);
    assert_eq!(query::<i64>(&mut con, &[b"PFADD", b"hll", b"a"]), 0);
    assert_eq!(query::<i64>(&mut con, &[b"PFCOUNT", b"hll"]), 3);
    let mut counted = REDIS_ABC.to_vec();
    counted[8..16].copy_from_slice(&3u64.to_le_bytes());
    assert_eq!(query::<Vec<u8>>(&mut con, &[b"GET", b"hll"]), counted, "PFCOUNT caches its estimate, as Redis");
    // With the cache valid, PFCOUNT (like an SADD of a member already there) changes nothing
    // and is answered without a log entry.
    let _: i64 = query(&mut con, &[b"SADD", b"set", b"m"]);
    let applied = || {
        let info: String = redis::cmd("INFO").arg("replication").query(&mut server.connect()).unwrap();
        info.lines().find_map(|line| line.strip_prefix("raft_applied_index:")).unwrap().trim().to_string()
    };
    let before = applied();
    assert_eq!(query::<i64>(&mut con, &[b"PFCOUNT", b"hll"]), 3);
    assert_eq!(query::<i64>(&mut con, &[b"SADD", b"set", b"m"]), 0);
    assert_eq!(query::<i64>(&mut con, &[b"SREM", b"set", b"absent"]), 0);
    assert_eq!(applied(), before, "writes that change nothing take no log entry");
    assert_eq!(query::<i64>(&mut con, &[b"SADD", b"set", b"n"]), 1);
    assert_ne!(applied(), before);
    // A value Redis wrote after PFCOUNT carries a valid cache, and is answered from it.
    let mut cached = REDIS_ABC.to_vec();
    cached[8] = 42;
    cached[15] = 0;
    let _: () = query(&mut con, &[b"SET", b"cached", &cached]);
    assert_eq!(query::<i64>(&mut con, &[b"PFCOUNT", b"cached"]), 42);
    assert_eq!(query::<i64>(&mut con, &[b"PFCOUNT", b"cached", b"hll"]), 3, "a union recomputes");
    assert_eq!(query::<i64>(&mut con, &[b"PFADD", b"cached", b"d"]), 1);
    let changed: Vec<u8> = query(&mut con, &[b"GET", b"cached"]);
    assert_eq!((changed[8], changed[15]), (42, 0x80), "a write marks the cache stale and keeps the rest");
    assert_eq!(query::<i64>(&mut con, &[b"PFCOUNT", b"cached"]), 4);
    // Merging, and turning dense past 3000 bytes.
    let elements: Vec<String> = (0..3000).map(|i| format!("e{i}")).collect();
    let mut cmd = redis::cmd("PFADD");
    cmd.arg("big").arg(&elements);
    assert_eq!(cmd.query::<i64>(&mut con).unwrap(), 1);
    assert_eq!(query::<i64>(&mut con, &[b"STRLEN", b"big"]), 12304);
    let _: () = query(&mut con, &[b"PFMERGE", b"union", b"hll", b"big", b"missing"]);
    let union: i64 = query(&mut con, &[b"PFCOUNT", b"union"]);
    assert_eq!(union, query::<i64>(&mut con, &[b"PFCOUNT", b"hll", b"big"]));
    assert!((2900..3100).contains(&union), "{union}");
    assert_eq!(query::<String>(&mut con, &[b"PFDEBUG", b"ENCODING", b"union"]), "dense");

    let mut raw = Raw::new(&server);
    raw.call(&["SET", "str", "bar"]);
    let not_hll = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
    assert_eq!(raw.call(&["PFADD", "str", "x"]), not_hll);
    assert_eq!(raw.call(&["PFCOUNT", "str"]), not_hll);
    assert_eq!(raw.call(&["PFMERGE", "str", "hll"]), not_hll);
    raw.call(&["HSET", "h", "f", "v"]);
    assert_eq!(raw.call(&["PFCOUNT", "h"]), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    raw.call(&["PFADD", "bad", "a"]);
    raw.call(&["APPEND", "bad", "hello"]);
    assert_eq!(raw.call(&["PFCOUNT", "bad"]), "-INVALIDOBJ Corrupted HLL object detected\r\n");
    assert_eq!(raw.call(&["PFDEBUG", "DECODE", "hll"]), bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"));
    assert_eq!(raw.call(&["PFDEBUG", "NOPE", "hll"]), "-ERR Unknown PFDEBUG subcommand 'NOPE'\r\n");
    assert_eq!(raw.call(&["PFDEBUG", "ENCODING", "missing"]), "-ERR The specified key does not exist\r\n");
    raw.call(&["HELLO", "3"]);
    assert_eq!(raw.call(&["PFDEBUG", "ENCODING", "hll"]), "+sparse\r\n");
    assert_eq!(raw.call(&["PFCOUNT", "hll", "missing"]), ":3\r\n");
}

#[test]
fn lcs_in_resp2_and_resp3() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    raw.call(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
    assert_eq!(raw.call(&["LCS", "key1", "key2"]), bulk("mytext"));
    assert_eq!(raw.call(&["LCS", "key1", "key2", "LEN"]), ":6\r\n");
    let matches =
        "*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n";
    let words = ["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"];
    assert_eq!(raw.call(&words), format!("*4\r\n{}{matches}{}:6\r\n", bulk("matches"), bulk("len")));
    assert_eq!(
        raw.call(&["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"]),
        format!("*4\r\n{}*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n{}:6\r\n", bulk("matches"), bulk("len"))
    );
    assert_eq!(
        raw.call(&["LCS", "key1", "key2", "LEN", "IDX"]),
        "-ERR If you want both the length and indexes, please just use IDX.\r\n"
    );
    raw.call(&["HSET", "h", "f", "v"]);
    assert_eq!(raw.call(&["LCS", "key1", "h"]), "-ERR The specified keys must contain string values\r\n");
    raw.call(&["HELLO", "3"]);
    assert_eq!(raw.call(&words), format!("%2\r\n{}{matches}{}:6\r\n", bulk("matches"), bulk("len")));

    // Two strings of 11,584 bytes: the largest square table a default Redis accepts.
    let mut con = server.connect();
    let a: Vec<u8> = (0..11_584u32).map(|i| b"ACGT"[(i.wrapping_mul(2_654_435_761) >> 30) as usize]).collect();
    let b: Vec<u8> = (0..11_584u32).map(|i| b"ACGT"[(i.wrapping_mul(40_503) >> 14) as usize % 4]).collect();
    let _: () = query(&mut con, &[b"MSET", b"a", &a, b"b", &b]);
    let len: i64 = query(&mut con, &[b"LCS", b"a", b"b", b"LEN"]);
    let text: Vec<u8> = query(&mut con, &[b"LCS", b"a", b"b"]);
    assert_eq!(text.len() as i64, len);
    assert!(len > 1000, "{len}");
    let _: () = query(&mut con, &[b"APPEND", b"a", b"A"]);
    let error = error_of(&mut con, &[b"LCS", b"a", b"b"]);
    assert!(error.contains("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"), "{error}");
}

#[test]
fn command_table_entries() {
    let server = Server::start();
    let mut con = server.connect();
    let keys = |con: &mut redis::Connection, args: &[&str]| -> Vec<String> {
        redis::cmd("COMMAND").arg("GETKEYS").arg(args).query(con).unwrap()
    };
    assert_eq!(keys(&mut con, &["BITOP", "AND", "dest", "a", "b"]), vec!["dest", "a", "b"]);
    assert_eq!(keys(&mut con, &["PFMERGE", "dest", "a", "b"]), vec!["dest", "a", "b"]);
    assert_eq!(keys(&mut con, &["LCS", "a", "b"]), vec!["a", "b"]);
    assert_eq!(keys(&mut con, &["PFDEBUG", "GETREG", "k"]), vec!["k"]);
    // PFSELFTEST itself takes seconds in a debug build; the TCL suite runs it.
    let info: Value =
        redis::cmd("COMMAND").arg("INFO").arg("bitfield_ro").arg("pfcount").arg("pfselftest").query(&mut con).unwrap();
    let Value::Array(commands) = info else { panic!("{info:?}") };
    let Value::Array(bitfield_ro) = &commands[0] else { panic!("{commands:?}") };
    assert_eq!(bitfield_ro[1], Value::Int(-2));
    let Value::Array(pfcount) = &commands[1] else { panic!("{commands:?}") };
    assert_eq!((&pfcount[3], &pfcount[4]), (&Value::Int(1), &Value::Int(-1)));
    let Value::Array(pfselftest) = &commands[2] else { panic!("{commands:?}") };
    assert_eq!(pfselftest[1], Value::Int(1));
}
