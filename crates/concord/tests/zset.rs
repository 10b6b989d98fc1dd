//! Sorted sets against the real `concord` binary: a real Redis client in RESP2 and RESP3, and
//! exact RESP bytes checked against what Redis 7.0.15 replies.

mod common;

use common::{Raw, Server};
use redis::{Commands, Value};

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

#[test]
fn sorted_sets_through_a_real_client() {
    let server = Server::start();
    let mut con = server.connect();
    assert_eq!(con.zadd_multiple::<_, _, _, usize>("z", &[(1, "a"), (2, "b"), (3, "c")]).unwrap(), 3);
    assert_eq!(con.zadd::<_, _, _, usize>("z", "a", 10).unwrap(), 0);
    assert_eq!(con.zcard::<_, usize>("z").unwrap(), 3);
    assert_eq!(con.zscore::<_, _, Option<f64>>("z", "a").unwrap(), Some(10.0));
    assert_eq!(con.zscore::<_, _, Option<f64>>("z", "nope").unwrap(), None);
    assert_eq!(con.zincr::<_, _, _, f64>("z", "b", 0.5).unwrap(), 2.5);
    assert_eq!(con.zrank::<_, _, Option<usize>>("z", "a").unwrap(), Some(2));
    assert_eq!(
        con.zrange_withscores::<_, Vec<(String, f64)>>("z", 0, -1).unwrap(),
        vec![("b".into(), 2.5), ("c".into(), 3.0), ("a".into(), 10.0)]
    );
    assert_eq!(con.zrangebyscore::<_, _, _, Vec<String>>("z", "(2.5", "+inf").unwrap(), vec!["c", "a"]);
    let reversed: Vec<String> = redis::cmd("ZRANGE")
        .arg("z")
        .arg("+inf")
        .arg("-inf")
        .arg("BYSCORE")
        .arg("REV")
        .arg("LIMIT")
        .arg(1)
        .arg(1)
        .query(&mut con)
        .unwrap();
    assert_eq!(reversed, vec!["c"]);
    assert_eq!(redis::cmd("ZCOUNT").arg("z").arg("3").arg("10").query::<i64>(&mut con).unwrap(), 2);
    assert_eq!(con.zpopmin::<_, Vec<String>>("z", 1).unwrap(), vec!["b", "2.5"]);
    let popped: (String, Vec<(String, f64)>) =
        redis::cmd("ZMPOP").arg(2).arg("none").arg("z").arg("MAX").arg("COUNT").arg(5).query(&mut con).unwrap();
    assert_eq!(popped, ("z".into(), vec![("a".into(), 10.0), ("c".into(), 3.0)]));
    assert_eq!(redis::cmd("EXISTS").arg("z").query::<i64>(&mut con).unwrap(), 0, "emptied sets go");

    let _: usize = con.zadd_multiple("x{t}", &[(1, "a"), (2, "b")]).unwrap();
    let _: usize = con.zadd_multiple("y{t}", &[(10, "b"), (20, "c")]).unwrap();
    assert_eq!(con.zunionstore::<_, _, usize>("u{t}", &["x{t}", "y{t}"]).unwrap(), 3);
    assert_eq!(
        con.zrange_withscores::<_, Vec<(String, f64)>>("u{t}", 0, -1).unwrap(),
        vec![("a".into(), 1.0), ("b".into(), 12.0), ("c".into(), 20.0)]
    );
    let inter: Vec<(String, f64)> = redis::cmd("ZINTER")
        .arg(2)
        .arg("x{t}")
        .arg("y{t}")
        .arg("WEIGHTS")
        .arg(2)
        .arg(1)
        .arg("AGGREGATE")
        .arg("MAX")
        .arg("WITHSCORES")
        .query(&mut con)
        .unwrap();
    assert_eq!(inter, vec![("b".into(), 10.0)]);
    let random: Vec<String> = redis::cmd("ZRANDMEMBER").arg("u{t}").arg(-10).query(&mut con).unwrap();
    assert_eq!(random.len(), 10);
    assert!(random.iter().all(|member| ["a", "b", "c"].contains(&member.as_str())));
    assert_eq!(
        redis::cmd("ZADD").arg("x{t}").arg("NX").arg("XX").arg(1).arg("a").query::<i64>(&mut con).unwrap_err().detail(),
        Some("XX and NX options at the same time are not compatible")
    );
}

#[test]
fn encodings_follow_the_replicated_settings() {
    let server = Server::start();
    let mut con = server.connect();
    let encoding = |con: &mut redis::Connection, key: &str| -> String {
        redis::cmd("OBJECT").arg("ENCODING").arg(key).query(con).unwrap()
    };
    for i in 0..128 {
        let _: usize = con.zadd("packed", format!("m{i}"), i).unwrap();
    }
    assert_eq!(encoding(&mut con, "packed"), "listpack");
    let _: usize = con.zadd("packed", "one-more", 1000).unwrap();
    assert_eq!(encoding(&mut con, "packed"), "skiplist");
    let _: () = redis::cmd("CONFIG").arg("SET").arg("zset-max-listpack-entries").arg(0).query(&mut con).unwrap();
    let _: usize = con.zadd("tree", "a", 1).unwrap();
    assert_eq!(encoding(&mut con, "tree"), "skiplist");
    // A stored result takes the form its size asks for.
    let _: () = redis::cmd("CONFIG").arg("SET").arg("zset-max-listpack-entries").arg(128).query(&mut con).unwrap();
    let stored: i64 = redis::cmd("ZRANGESTORE").arg("small").arg("packed").arg(0).arg(9).query(&mut con).unwrap();
    assert_eq!(stored, 10);
    assert_eq!(encoding(&mut con, "small"), "listpack");
}

#[test]
fn large_sets_answer_ranges_and_survive_a_restart() {
    let mut server = Server::start();
    let mut con = server.connect();
    let mut pipe = redis::pipe();
    for i in 0..10_000 {
        pipe.cmd("ZADD").arg("big").arg(i).arg(format!("m{i:05}")).ignore();
    }
    let _: () = pipe.query(&mut con).unwrap();
    let check = |con: &mut redis::Connection| {
        assert_eq!(con.zcard::<_, usize>("big").unwrap(), 10_000);
        assert_eq!(con.zrank::<_, _, Option<usize>>("big", "m07777").unwrap(), Some(7777));
        let window: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg("big")
            .arg("(5000")
            .arg("+inf")
            .arg("LIMIT")
            .arg(10)
            .arg(2)
            .query(con)
            .unwrap();
        assert_eq!(window, vec!["m05011", "m05012"]);
        let top: Vec<String> = redis::cmd("ZREVRANGE").arg("big").arg(0).arg(1).query(con).unwrap();
        assert_eq!(top, vec!["m09999", "m09998"]);
        let count: i64 = redis::cmd("ZLEXCOUNT").arg("big").arg("[m09990").arg("+").query(con).unwrap();
        assert_eq!(count, 10);
    };
    check(&mut con);
    // ZSCAN visits every member of the large form.
    let (mut cursor, mut seen) = (0u64, std::collections::BTreeSet::new());
    loop {
        let (next, items): (u64, Vec<String>) =
            redis::cmd("ZSCAN").arg("big").arg(cursor).arg("COUNT").arg(500).query(&mut con).unwrap();
        seen.extend(items.chunks(2).map(|pair| pair[0].clone()));
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 10_000);
    server.kill();
    server.restart();
    let mut con = server.connect();
    check(&mut con);
    let removed: i64 = redis::cmd("ZREMRANGEBYRANK").arg("big").arg(0).arg(4999).query(&mut con).unwrap();
    assert_eq!(removed, 5000);
    assert_eq!(con.zrank::<_, _, Option<usize>>("big", "m07777").unwrap(), Some(2777));
}

#[test]
fn resp3_nests_pairs_and_sends_doubles() {
    let server = Server::start();
    let mut con = server.connect_resp3();
    let _: usize = con.zadd_multiple("z", &[(1.5, "a"), (2.0, "b")]).unwrap();
    let score: Value = redis::cmd("ZSCORE").arg("z").arg("a").query(&mut con).unwrap();
    assert_eq!(score, Value::Double(1.5));
    let range: Value = redis::cmd("ZRANGE").arg("z").arg(0).arg(-1).arg("WITHSCORES").query(&mut con).unwrap();
    let Value::Array(pairs) = range else { panic!("{range:?}") };
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0], Value::Array(vec![Value::BulkString(b"a".to_vec()), Value::Double(1.5)]));
    let popped: Value = redis::cmd("ZPOPMAX").arg("z").query(&mut con).unwrap();
    assert_eq!(popped, Value::Array(vec![Value::BulkString(b"b".to_vec()), Value::Double(2.0)]));
}

#[test]
fn exact_replies_in_resp2_and_resp3() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    assert_eq!(raw.call(&["ZADD", "z", "0.1", "a", "+inf", "b", "-inf", "c"]), ":3\r\n");
    assert_eq!(raw.call(&["ZSCORE", "z", "a"]), bulk("0.10000000000000001"));
    assert_eq!(raw.call(&["ZSCORE", "z", "b"]), bulk("inf"));
    assert_eq!(raw.call(&["ZSCORE", "z", "nope"]), "$-1\r\n");
    assert_eq!(
        raw.call(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        format!("*4\r\n{}{}{}{}", bulk("c"), bulk("-inf"), bulk("a"), bulk("0.10000000000000001"))
    );
    assert_eq!(raw.call(&["ZPOPMIN", "nokey"]), "*0\r\n");
    assert_eq!(raw.call(&["ZMPOP", "1", "nokey", "MIN"]), "*-1\r\n");
    assert_eq!(raw.call(&["ZRANDMEMBER", "z", "0"]), "*0\r\n");
    assert_eq!(raw.call(&["ZMSCORE", "nokey", "a"]), "*1\r\n$-1\r\n");
    assert_eq!(raw.call(&["ZSCAN", "z", "0"]).matches("$3\r\ninf\r\n").count(), 1, "ZSCAN sends score text");
    assert_eq!(raw.call(&["ZINCRBY", "z", "-inf", "b"]), "-ERR resulting score is not a number (NaN)\r\n");
    assert_eq!(raw.call(&["ZADD", "z", "nan", "x"]), "-ERR value is not a valid float\r\n");
    assert_eq!(raw.call(&["ZRANGEBYSCORE", "z", "x", "1"]), "-ERR min or max is not a float\r\n");
    assert_eq!(raw.call(&["ZRANGEBYLEX", "z", "x", "+"]), "-ERR min or max not valid string range item\r\n");
    assert_eq!(raw.call(&["ZUNION", "0", "z"]), "-ERR at least 1 input key is needed for 'zunion' command\r\n");
    assert_eq!(raw.call(&["ZPOPMIN", "z", "-1"]), "-ERR value is out of range, must be positive\r\n");
    // A negative zero keeps its sign in the large form only, as in Redis.
    assert_eq!(raw.call(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]), "+OK\r\n");
    assert_eq!(raw.call(&["ZADD", "tree", "-0", "m"]), ":1\r\n");
    assert_eq!(raw.call(&["ZSCORE", "tree", "m"]), bulk("-0"));

    assert!(raw.call(&["HELLO", "3"]).starts_with('%'));
    assert_eq!(raw.call(&["ZSCORE", "z", "a"]), ",0.10000000000000001\r\n");
    assert_eq!(raw.call(&["ZSCORE", "z", "b"]), ",inf\r\n");
    assert_eq!(raw.call(&["ZSCORE", "z", "c"]), ",-inf\r\n");
    assert_eq!(raw.call(&["ZSCORE", "tree", "m"]), ",-0\r\n");
    assert_eq!(raw.call(&["ZSCORE", "z", "nope"]), "_\r\n");
    assert_eq!(
        raw.call(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        format!("*2\r\n*2\r\n{},-inf\r\n*2\r\n{},0.10000000000000001\r\n", bulk("c"), bulk("a"))
    );
    assert_eq!(raw.call(&["ZPOPMIN", "z"]), format!("*2\r\n{},-inf\r\n", bulk("c")));
    assert_eq!(raw.call(&["ZPOPMIN", "z", "1"]), format!("*1\r\n*2\r\n{},0.10000000000000001\r\n", bulk("a")));
    assert_eq!(raw.call(&["ZMPOP", "1", "z", "MAX"]), format!("*2\r\n{}*1\r\n*2\r\n{},inf\r\n", bulk("z"), bulk("b")));
    assert_eq!(raw.call(&["ZMPOP", "1", "z", "MAX"]), "_\r\n");
    assert_eq!(raw.call(&["ZADD", "z", "INCR", "XX", "1", "gone"]), "_\r\n");
    assert_eq!(raw.call(&["ZADD", "z", "INCR", "2", "m"]), ",2\r\n");
}
