//! Scripts run through the command table, as a log entry applies them.

use crate::commands::testing::*;
use crate::keyspace::Keyspace;
use crate::reply::Reply;
use crate::request::{Batch, Request};
use crate::state_machine::StateMachine;
use bytes::Bytes;

fn eval(keyspace: &mut Keyspace, script: &str, keys: &[&str], args: &[&str]) -> Reply {
    let count = keys.len().to_string();
    let mut words = vec!["eval", script, &count];
    words.extend_from_slice(keys);
    words.extend_from_slice(args);
    write(keyspace, 1_000, &words)
}

fn error_text(reply: &Reply) -> String {
    match reply {
        Reply::Error(text) => String::from_utf8_lossy(text).into_owned(),
        other => panic!("not an error: {other:?}"),
    }
}

#[test]
fn lua_values_become_redis_s_replies() {
    let mut ks = Keyspace::new();
    assert_eq!(eval(&mut ks, "return 'hello'", &[], &[]), bulk("hello"));
    assert_eq!(eval(&mut ks, "return 3.99", &[], &[]), Reply::Integer(3), "floats are truncated");
    assert_eq!(eval(&mut ks, "return -3.99", &[], &[]), Reply::Integer(-3));
    assert_eq!(
        eval(&mut ks, "return {2^63, 2^64, 1/0, -1/0, 0/0}", &[], &[]),
        integers(&[i64::MIN; 5]),
        "past i64, as Redis's C cast gives on x86-64"
    );
    assert_eq!(eval(&mut ks, "return true", &[], &[]), Reply::Integer(1));
    assert_eq!(eval(&mut ks, "return false", &[], &[]), Reply::Nil);
    assert_eq!(eval(&mut ks, "return nil", &[], &[]), Reply::Nil);
    assert_eq!(
        eval(&mut ks, "return {1, 2, 'x', {3}, nil, 5}", &[], &[]),
        Reply::Array(vec![Reply::Integer(1), Reply::Integer(2), bulk("x"), Reply::Array(vec![Reply::Integer(3)])]),
        "an array stops at its first nil"
    );
    assert_eq!(eval(&mut ks, "return {ok='fine'}", &[], &[]), Reply::Status(Bytes::from_static(b"fine")));
    assert_eq!(eval(&mut ks, "return {err='My Error'}", &[], &[]), error("My Error"));
    assert_eq!(eval(&mut ks, "return redis.status_reply('A')", &[], &[]), Reply::Status(Bytes::from_static(b"A")));
    assert_eq!(eval(&mut ks, "return redis.error_reply('oops')", &[], &[]), error("ERR oops"));
    assert_eq!(eval(&mut ks, "return redis.error_reply('-CODE oops')", &[], &[]), error("CODE oops"));
    assert_eq!(eval(&mut ks, "return {KEYS[1], ARGV[1], #ARGV}", &["k"], &["a", "b"]).clone(), {
        Reply::Array(vec![bulk("k"), bulk("a"), Reply::Integer(2)])
    });
}

#[test]
fn command_replies_become_lua_values() {
    let mut ks = Keyspace::new();
    write(&mut ks, 1_000, &["rpush", "l", "a", "b"]);
    let types = "local t = {} \
        for _, v in ipairs({redis.call('get', 'missing'), redis.call('set', 'x', 1), redis.call('llen', 'l')}) do \
          t[#t + 1] = type(v) end \
        t[#t + 1] = redis.call('set', 'x', 1)['ok'] \
        t[#t + 1] = type(redis.call('lrange', 'l', 0, -1)) \
        return t";
    assert_eq!(
        eval(&mut ks, types, &[], &[]),
        Reply::Array(vec![bulk("boolean"), bulk("table"), bulk("number"), bulk("OK"), bulk("table")])
    );
    // Under RESP3 a missing value is nil, and a map is a table under `map`.
    write(&mut ks, 1_000, &["hset", "h", "f", "v"]);
    let resp3 = "redis.setresp(3) local m = redis.call('hgetall', 'h') \
        return {tostring(redis.call('get', 'missing')), m['map']['f']}";
    assert_eq!(eval(&mut ks, resp3, &[], &[]), Reply::Array(vec![bulk("nil"), bulk("v")]));
    assert_eq!(eval(&mut ks, "redis.setresp(3) return true", &[], &[]), Reply::Boolean(true));
    assert_eq!(eval(&mut ks, "redis.setresp(3) return {double=1.5}", &[], &[]), Reply::Double(1.5));
    // Numbers are passed to commands as %.17g.
    assert_eq!(eval(&mut ks, "redis.call('set', 'n', 0.1) return redis.call('get', 'n')", &[], &[]), {
        bulk("0.10000000000000001")
    });
}

#[test]
fn errors_are_worded_as_redis_7_words_them() {
    let mut ks = Keyspace::new();
    write(&mut ks, 1_000, &["set", "s", "text"]);
    let raised = eval(&mut ks, "return redis.call('incr', 's')", &[], &[]);
    assert!(error_text(&raised).starts_with("ERR value is not an integer or out of range script: "), "{raised:?}");
    assert!(error_text(&raised).ends_with(", on @user_script:1."), "{raised:?}");
    // pcall hands the error back as a table.
    assert_eq!(
        eval(&mut ks, "return redis.pcall('incr', 's')", &[], &[]),
        error("ERR value is not an integer or out of range")
    );
    let unknown = eval(&mut ks, "return redis.call('nosuch')", &[], &[]);
    assert!(error_text(&unknown).starts_with("ERR Unknown Redis command called from script script: "));
    let arity = eval(&mut ks, "return redis.call('get')", &[], &[]);
    assert!(error_text(&arity).starts_with("ERR Wrong number of args calling Redis command from script"));
    let denied = eval(&mut ks, "return redis.call('eval', 'return 1', 0)", &[], &[]);
    assert!(error_text(&denied).starts_with("ERR This Redis command is not allowed from script"), "{denied:?}");
    let bad_arg = eval(&mut ks, "return redis.call('get', {})", &[], &[]);
    assert!(error_text(&bad_arg).starts_with("ERR Lua redis lib command arguments must be strings or integers"));
    let runtime = eval(&mut ks, "error('boom')", &[], &[]);
    assert!(error_text(&runtime).starts_with("ERR user_script:1: boom script: "), "{runtime:?}");
    let compile = eval(&mut ks, "return (", &[], &[]);
    assert!(
        error_text(&compile).starts_with("ERR Error compiling script (new function): user_script:1:"),
        "{compile:?}"
    );
    let global = eval(&mut ks, "return a", &[], &[]);
    assert!(error_text(&global).contains("Script attempted to access nonexistent global variable 'a'"), "{global:?}");
    for trick in ["a = 10", "setmetatable(_G, {})", "redis.call = function() end", "_G = {}", "string.x = 1"] {
        let refused = eval(&mut ks, trick, &[], &[]);
        assert!(error_text(&refused).contains("Attempt to modify a readonly table"), "{trick}: {refused:?}");
    }
    for gone in ["loadfile", "dofile", "print", "debug", "io", "os"] {
        let refused = eval(&mut ks, &format!("return {gone}"), &[], &[]);
        assert!(error_text(&refused).contains("nonexistent global variable"), "{gone}: {refused:?}");
    }
}

#[test]
fn read_only_scripts_cannot_write() {
    let mut ks = Keyspace::new();
    let flagged = "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')";
    let refused = eval(&mut ks, flagged, &[], &[]);
    assert!(error_text(&refused).starts_with("ERR Write commands are not allowed from read-only scripts."));
    assert!(ks.db(0).is_empty());
    let ro = read(&ks, 1_000, &["eval_ro", "return redis.call('set', 'k', 'v')", "0"]);
    assert!(error_text(&ro).starts_with("ERR Write commands are not allowed from read-only scripts."), "{ro:?}");
    let with_write_flag = read(&ks, 1_000, &["eval_ro", "#!lua\nreturn 1", "0"]);
    assert_eq!(with_write_flag, error("ERR Can not execute a script with write flag using *_ro command."));
    write(&mut ks, 1_000, &["set", "k", "v"]);
    assert_eq!(read(&ks, 1_000, &["eval_ro", "return redis.call('get', KEYS[1])", "1", "k"]), bulk("v"));
}

#[test]
fn scripts_read_streams_but_cannot_wait_on_them() {
    let mut ks = Keyspace::new();
    write(&mut ks, 1, &["xgroup", "create", "s", "g", "$", "mkstream"]);
    assert_eq!(eval(&mut ks, "return redis.pcall('xread', 'STREAMS', 's', '$')", &["s"], &[]), Reply::Nil);
    assert_eq!(
        eval(&mut ks, "return redis.pcall('xread', 'BLOCK', 0, 'STREAMS', 's', '$')", &["s"], &[]),
        error("ERR xread command is not allowed with BLOCK option from scripts")
    );
    assert_eq!(
        eval(
            &mut ks,
            "return redis.pcall('xreadgroup', 'group', 'g', 'c', 'BLOCK', 0, 'STREAMS', 's', '>')",
            &["s"],
            &[]
        ),
        error("ERR xreadgroup command is not allowed with BLOCK option from scripts")
    );
    write(&mut ks, 2, &["xadd", "s", "5-0", "f", "v"]);
    let read = eval(&mut ks, "return redis.call('xreadgroup', 'group', 'g', 'c', 'STREAMS', 's', '>')", &["s"], &[]);
    assert_eq!(
        read,
        Reply::Array(vec![Reply::Array(vec![
            bulk("s"),
            Reply::Array(vec![Reply::Array(vec![bulk("5-0"), Reply::Array(vec![bulk("f"), bulk("v")])])])
        ])])
    );
}

#[test]
fn keys_of_another_slot_than_the_declared_ones_are_refused() {
    let mut ks = Keyspace::new();
    let other = eval(&mut ks, "return redis.call('set', 'b', 1)", &["a"], &[]);
    assert!(error_text(&other).starts_with("ERR Script attempted to access keys that do not hash to the same slot"));
    assert_eq!(eval(&mut ks, "return redis.call('set', '{a}x', 1)", &["a"], &[]), Reply::OK);
}

/// The keyspace of a shard that owns `owned` slots.
fn shard_of(owned: Vec<(u16, u16)>) -> Keyspace {
    let mut ks = Keyspace::new();
    ks.set_owned_slots(Some(crate::slot::SlotRanges::new(owned).unwrap()));
    ks
}

#[test]
fn scripts_touch_only_their_shard_s_keys_and_keyless_ones_keep_to_one_slot() {
    use crate::slot::key_slot;
    let foo = key_slot(b"foo"); // 12182
    let mut ks = shard_of(vec![(foo, foo), (key_slot(b"a"), key_slot(b"a"))]);
    assert_eq!(eval(&mut ks, "return redis.call('set', 'foo', 1)", &[], &[]), Reply::OK);
    let away = eval(&mut ks, "return redis.call('set', 'b', 1)", &[], &[]);
    assert!(error_text(&away).starts_with("ERR Script attempted to access a non local key in a cluster node"));
    let away = eval(&mut ks, "return redis.pcall('set', 'b', 1)", &["foo"], &[]);
    assert!(error_text(&away).starts_with("ERR Script attempted to access a non local key in a cluster node"));
    assert_eq!(read(&ks, 1_000, &["exists", "b"]), Reply::Integer(0), "nothing written to a key of another shard");
    let second = eval(&mut ks, "redis.call('get', 'foo') return redis.call('get', 'a')", &[], &[]);
    assert!(
        error_text(&second).starts_with("ERR Script attempted to access keys that do not hash to the same slot"),
        "a keyless script is held to the slot of the first key it touches, both owned here"
    );
    assert_eq!(eval(&mut ks, "redis.call('get', '{foo}x') return redis.call('get', 'foo')", &[], &[]), bulk("1"));

    // A shard that owns every slot is a standalone Redis to keyless scripts.
    let mut whole = shard_of(vec![(0, crate::limits::SLOTS - 1)]);
    assert_eq!(eval(&mut whole, "redis.call('set', 'a', 1) return redis.call('set', 'b', 2)", &[], &[]), Reply::OK);
}

#[test]
fn a_shard_learns_its_slots_from_the_log_and_keeps_them_in_snapshots() {
    let mut sm = StateMachine::new();
    let own = |ranges: Vec<(u16, u16)>| Batch { time_ms: 1_000, requests: vec![Request::OwnSlots { ranges }] };
    assert!(sm.keyspace().owned_slots().is_none(), "unknown until the leader says");
    assert_eq!(sm.apply(1, &own(vec![(5, 9), (0, 4)])).replies, vec![Reply::OK]);
    assert_eq!(sm.keyspace().owned_slots().unwrap().ranges(), &[(0, 9)]);
    assert!(matches!(sm.apply(2, &own(vec![(9, 2)])).replies[0], Reply::Error(_)), "malformed ranges are refused");
    assert_eq!(sm.keyspace().owned_slots().unwrap().ranges(), &[(0, 9)], "and change nothing");
    let restored = StateMachine::restore(&sm.snapshot()).unwrap();
    assert_eq!(restored.keyspace().owned_slots(), sm.keyspace().owned_slots());
    assert_eq!(restored.digest(), sm.digest());
}

#[test]
fn the_cache_serves_evalsha_and_is_flushed_through_the_log() {
    let mut ks = Keyspace::new();
    let sha = crate::scripting::sha1hex(b"return ARGV[1]");
    assert_eq!(write(&mut ks, 1, &["evalsha", &sha, "0", "x"]), error("NOSCRIPT No matching script. Please use EVAL."));
    assert_eq!(write(&mut ks, 1, &["script", "load", "return ARGV[1]"]), bulk(&sha));
    assert_eq!(write(&mut ks, 1, &["evalsha", &sha.to_uppercase(), "0", "x"]), bulk("x"));
    assert_eq!(read(&ks, 1, &["evalsha_ro", &sha, "0", "y"]), bulk("y"));
    assert_eq!(
        write(&mut ks, 1, &["script", "exists", &sha, "nope"]),
        Reply::Array(vec![Reply::Integer(1), Reply::Integer(0)])
    );
    let compile = write(&mut ks, 1, &["script", "load", "return ("]);
    assert!(error_text(&compile).starts_with("ERR Error compiling script (new function): user_script:1:"));
    assert_eq!(write(&mut ks, 1, &["script", "kill"]), error("NOTBUSY No scripts in execution right now."));
    assert_eq!(
        write(&mut ks, 1, &["script", "flush", "bad"]),
        error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    );
    assert_eq!(write(&mut ks, 1, &["script", "flush", "async"]), Reply::OK);
    assert_eq!(write(&mut ks, 1, &["evalsha", &sha, "0", "x"]), error("NOSCRIPT No matching script. Please use EVAL."));
}

fn apply(sm: &mut StateMachine, index: u64, words: &[&str]) -> Reply {
    let argv = words.iter().map(|word| Bytes::copy_from_slice(word.as_bytes())).collect();
    let batch = Batch { time_ms: 1_000 + index, requests: vec![Request::Command { db: 0, argv }] };
    sm.apply(index, &batch).replies.remove(0)
}

#[test]
fn the_same_script_on_two_replicas_gives_the_same_state_and_reply() {
    let script = "local out = {} for i = 1, 20 do \
        local n = math.random(1000) redis.call('sadd', KEYS[1], n) out[#out + 1] = n end \
        out[#out + 1] = redis.call('spop', KEYS[1]) out[#out + 1] = tostring(math.random()) return out";
    let (mut first, mut second) = (StateMachine::new(), StateMachine::new());
    let one = apply(&mut first, 1, &["eval", script, "1", "s"]);
    let two = apply(&mut second, 1, &["eval", script, "1", "s"]);
    assert_eq!(one, two);
    assert_eq!(first.digest(), second.digest());
    // Another entry draws other numbers.
    let three = apply(&mut first, 2, &["eval", script, "1", "t"]);
    assert_ne!(one, three);
}

#[test]
fn a_runaway_script_is_stopped_at_the_same_point_everywhere() {
    let (mut first, mut second) = (StateMachine::new(), StateMachine::new());
    let runaway = "local i = 0 while true do i = i + 1 if i % 1000 == 0 then redis.call('set', 'i', i) end end";
    let one = apply(&mut first, 1, &["eval", runaway, "0"]);
    let two = apply(&mut second, 1, &["eval", runaway, "0"]);
    assert!(error_text(&one).starts_with("ERR Script killed: it ran more than"), "{one:?}");
    assert_eq!(one, two);
    assert_eq!(apply(&mut first, 2, &["get", "i"]), apply(&mut second, 2, &["get", "i"]));
    assert_eq!(first.digest(), second.digest());
    // pcall cannot catch the stop.
    let stubborn = "while true do pcall(function() while true do end end) end";
    assert!(error_text(&apply(&mut first, 3, &["eval", stubborn, "0"])).starts_with("ERR Script killed"));
    // And the node goes on serving.
    assert_eq!(apply(&mut first, 4, &["eval", "return 1", "0"]), Reply::Integer(1));
}

#[test]
fn a_script_s_memory_is_bounded() {
    let mut ks = Keyspace::new();
    let hungry = "local t = {} for i = 1, 100000000 do t[i] = string.rep('x', 10000) .. i end return #t";
    let refused = eval(&mut ks, hungry, &[], &[]);
    assert!(error_text(&refused).contains("bytes of Lua memory"), "{refused:?}");
}

#[test]
fn the_script_cache_survives_a_snapshot() {
    let mut sm = StateMachine::new();
    let sha = match apply(&mut sm, 1, &["script", "load", "return 'cached'"]) {
        Reply::Bulk(sha) => String::from_utf8(sha.to_vec()).unwrap(),
        other => panic!("{other:?}"),
    };
    let mut restored = StateMachine::restore(&sm.snapshot()).unwrap();
    assert_eq!(restored.digest(), sm.digest());
    assert_eq!(apply(&mut restored, 2, &["evalsha", &sha, "0"]), bulk("cached"));
}

const LIBRARY: &str = "#!lua name=mylib\n\
    redis.register_function('set_it', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n\
    redis.register_function{function_name='get_it', callback=function(keys) return redis.call('get', keys[1]) end, \
      flags={'no-writes'}, description='reads'}";

#[test]
fn functions_are_loaded_called_listed_and_deleted() {
    let mut ks = Keyspace::new();
    assert_eq!(write(&mut ks, 1, &["function", "load", LIBRARY]), bulk("mylib"));
    assert_eq!(write(&mut ks, 1, &["function", "load", LIBRARY]), error("ERR Library 'mylib' already exists"));
    assert_eq!(write(&mut ks, 1, &["function", "load", "replace", LIBRARY]), bulk("mylib"));
    assert_eq!(write(&mut ks, 1, &["fcall", "set_it", "1", "k", "v"]), Reply::OK);
    assert_eq!(read(&ks, 1, &["fcall_ro", "GET_IT", "1", "k"]), bulk("v"), "names match in any case");
    assert_eq!(
        read(&ks, 1, &["fcall_ro", "set_it", "1", "k", "w"]),
        error("ERR Can not execute a script with write flag using *_ro command.")
    );
    assert_eq!(write(&mut ks, 1, &["fcall", "nosuch", "0"]), error("ERR Function not found"));
    let failed = write(
        &mut ks,
        1,
        &[
            "function",
            "load",
            "#!lua name=bad\nredis.register_function('f', function() return redis.call('incr', 'k') end)",
        ],
    );
    assert_eq!(failed, bulk("bad"));
    let raised = write(&mut ks, 1, &["fcall", "f", "0"]);
    assert!(
        error_text(&raised).starts_with("ERR value is not an integer or out of range script: f, on @user_function:2."),
        "{raised:?}"
    );
    let listed = write(&mut ks, 1, &["function", "list", "libraryname", "my*"]);
    let Reply::Array(libraries) = listed else { panic!("{listed:?}") };
    assert_eq!(libraries.len(), 1);
    assert_eq!(write(&mut ks, 1, &["function", "delete", "nosuch"]), error("ERR Library not found"));
    assert_eq!(write(&mut ks, 1, &["function", "delete", "bad"]), Reply::OK);
    for (payload, expected) in [
        ("return 1", "ERR Missing library metadata"),
        ("#!lua\nreturn 1", "ERR Library name was not given"),
        ("#!lua name=x\nreturn 1", "ERR No functions registered"),
        ("#!js name=x\n", "ERR Engine 'js' not found"),
        (
            "#!lua name=x\nredis.call('ping')",
            "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'",
        ),
    ] {
        let reply = write(&mut ks, 1, &["function", "load", payload]);
        assert!(error_text(&reply).starts_with(expected), "{payload}: {reply:?}");
    }
}

#[test]
fn functions_survive_dump_restore_and_snapshots() {
    let mut sm = StateMachine::new();
    assert_eq!(apply(&mut sm, 1, &["function", "load", LIBRARY]), bulk("mylib"));
    let Reply::Bulk(payload) = apply(&mut sm, 2, &["function", "dump"]) else { panic!() };
    let mut restored = StateMachine::restore(&sm.snapshot()).unwrap();
    assert_eq!(restored.digest(), sm.digest());
    assert_eq!(apply(&mut restored, 3, &["fcall", "set_it", "1", "k", "v"]), Reply::OK);
    let mut other = StateMachine::new();
    let payload = String::from_utf8_lossy(&payload).into_owned();
    let argv = vec![
        Bytes::from_static(b"function"),
        Bytes::from_static(b"restore"),
        Bytes::copy_from_slice(&sm_dump(&mut sm)),
    ];
    let batch = Batch { time_ms: 1, requests: vec![Request::Command { db: 0, argv }] };
    assert_eq!(other.apply(1, &batch).replies, vec![Reply::OK]);
    assert_eq!(apply(&mut other, 2, &["fcall", "set_it", "1", "k", "v"]), Reply::OK);
    assert!(!payload.is_empty());
    let broken = apply(&mut other, 3, &["function", "restore", "garbage"]);
    assert_eq!(broken, error("ERR DUMP payload version or checksum are wrong"));
}

fn sm_dump(sm: &mut StateMachine) -> Bytes {
    match apply(sm, sm.applied_index() + 1, &["function", "dump"]) {
        Reply::Bulk(payload) => payload,
        other => panic!("{other:?}"),
    }
}

#[test]
fn cjson_and_bit_are_there() {
    let mut ks = Keyspace::new();
    assert_eq!(
        eval(&mut ks, "return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')", &[], &[]),
        bulk("0 -5000 -1 0.0003 1023.2 0")
    );
    assert_eq!(
        eval(&mut ks, "return cjson.encode({1, 'a/b', {x=true}})", &[], &[]),
        bulk("[1,\"a\\/b\",{\"x\":true}]")
    );
    assert_eq!(eval(&mut ks, "return cjson.decode('{\"k\": [null]}').k[1] == cjson.null", &[], &[]), Reply::Integer(1));
    assert_eq!(eval(&mut ks, "return {bit.band(7, 3), bit.bor(1,2,4), bit.bxor(1,2), bit.tohex(255, 2)}", &[], &[]), {
        Reply::Array(vec![Reply::Integer(3), Reply::Integer(7), Reply::Integer(3), bulk("ff")])
    });
    let limited = "cjson.encode_max_depth(1) local deep = pcall(cjson.encode, {{1}}) \
        local nan = pcall(cjson.encode, {0/0}) cjson.encode_invalid_numbers(true) \
        return {tostring(deep), tostring(nan), cjson.encode({0/0})}";
    assert_eq!(eval(&mut ks, limited, &[], &[]), Reply::Array(vec![bulk("false"), bulk("false"), bulk("[nan]")]));
    let refused = eval(&mut ks, "cjson.encode = function() end", &[], &[]);
    assert!(error_text(&refused).contains("Attempt to modify a readonly table"));
}

#[test]
fn cmsgpack_packs_as_lua_cmsgpack_does() {
    let mut ks = Keyspace::new();
    let hex = "local e = cmsgpack.pack(ARGV[1] == 'd' and 0.1 or -1099511627776) local h = '' \
        for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end return h";
    assert_eq!(eval(&mut ks, hex, &[], &["d"]), bulk("cb3fb999999999999a"));
    assert_eq!(eval(&mut ks, hex, &[], &["i"]), bulk("d3ffffff0000000000"));
    let round_trip = "local t = cmsgpack.unpack(cmsgpack.pack({1, 'two', {x = 3}})) return {t[1], t[2], t[3].x}";
    assert_eq!(
        eval(&mut ks, round_trip, &[], &[]),
        Reply::Array(vec![Reply::Integer(1), bulk("two"), Reply::Integer(3)])
    );
}

/// A script's packed bytes as hex, for comparing with what Redis 7.0.15 packs.
fn packed_hex(keyspace: &mut Keyspace, pack_call: &str) -> Reply {
    let script = format!(
        "local s = {pack_call} local h = '' \
         for i = 1, #s do h = h .. string.format('%02x', string.byte(s, i)) end return h"
    );
    eval(keyspace, &script, &[], &[])
}

fn integers(values: &[i64]) -> Reply {
    Reply::Array(values.iter().map(|&value| Reply::Integer(value)).collect())
}

// The expected bytes and values below are what Redis 7.0.15 (x86-64) answers to the same scripts.
#[test]
fn struct_packs_every_integer_letter_in_both_byte_orders() {
    let mut ks = Keyspace::new();
    let all = "'bBhHlLTiI', -1, 255, -2, 65535, -3, 7, 9, -4, 5";
    assert_eq!(
        packed_hex(&mut ks, &format!("struct.pack({all})")),
        bulk("fffffefffffffdffffffffffffff07000000000000000900000000000000fcffffff05000000")
    );
    assert_eq!(
        packed_hex(&mut ks, "struct.pack('>bBhHlLTiI', -1, 255, -2, 65535, -3, 7, 9, -4, 5)"),
        bulk("fffffffefffffffffffffffffffd00000000000000070000000000000009fffffffc00000005")
    );
    assert_eq!(
        packed_hex(&mut ks, "struct.pack('<i3>I3i1I10i12', -2, 70000, -1, 258, -5)"),
        bulk("feffff011170ff0000000000000000010200000000fffffffffffffffb"),
        "sizes past 8 bytes are zero-filled, not sign-extended"
    );
    assert_eq!(
        eval(&mut ks, &format!("return {{struct.unpack('bBhHlLTiI', struct.pack({all}))}}"), &[], &[]),
        integers(&[-1, 255, -2, 65535, -3, 7, 9, -4, 5, 39])
    );
    assert_eq!(
        eval(
            &mut ks,
            "return {struct.unpack('>bBhHlLTiI', struct.pack('>bBhHlLTiI', -1, 255, -2, 65535, -3, 7, 9, -4, 5))}",
            &[],
            &[]
        ),
        integers(&[-1, 255, -2, 65535, -3, 7, 9, -4, 5, 39])
    );
    assert_eq!(
        eval(&mut ks, "return {struct.unpack('i9i9', string.rep('\\255', 18))}", &[], &[]),
        integers(&[-1, -1, 19])
    );
    assert_eq!(
        eval(&mut ks, "return {struct.unpack('I9', string.rep('\\255', 9))}", &[], &[]),
        integers(&[i64::MIN, 10]),
        "2^64 - 1 as a double becomes an integer reply as Redis's C cast makes it"
    );
    assert_eq!(eval(&mut ks, "return {struct.unpack('i0b', '\\5')}", &[], &[]), integers(&[0, 5, 2]));
    assert_eq!(
        eval(&mut ks, "return {struct.unpack('l', struct.pack('l', 2^53))}", &[], &[]),
        integers(&[9_007_199_254_740_992, 9])
    );
    let truncated = "return {tostring(struct.unpack('i', struct.pack('i', 3.7))), \
        tostring(struct.unpack('i', struct.pack('i', -3.7))), tostring(struct.unpack('L', string.rep('\\255', 8)))}";
    assert_eq!(
        eval(&mut ks, truncated, &[], &[]),
        Reply::Array(vec![bulk("3"), bulk("-3"), bulk("1.844674407371e+19")])
    );
}

#[test]
fn struct_packs_floats_strings_and_alignment() {
    let mut ks = Keyspace::new();
    assert_eq!(
        packed_hex(&mut ks, "struct.pack('<f>f<d>d', 1.5, -2.25, 0.1, 3)"),
        bulk("0000c03fc01000009a9999999999b93f4008000000000000")
    );
    assert_eq!(
        packed_hex(&mut ks, "struct.pack('!bi!2bd!4bhbl bxd', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)"),
        bulk("0100000002000000030000000000000010400500060007000800000000000000090000000000000000002440")
    );
    assert_eq!(packed_hex(&mut ks, "struct.pack('!8bi3bi5', 1, 2, 3, 4)"), bulk("010000020000030400000000"));
    assert_eq!(
        packed_hex(&mut ks, "struct.pack('sc0c3xc', 'ab', 'xyz', 'hello', 'q', 12)"),
        bulk("61620078797a68656c0071")
    );
    assert_eq!(eval(&mut ks, "return struct.pack('c', 5)", &[], &[]), bulk("5"), "numbers are strings for 'c'");
    assert_eq!(eval(&mut ks, "return struct.pack('\\0zz')", &[], &[]), bulk(""), "the format ends at a NUL");
    assert_eq!(eval(&mut ks, "return struct.pack('b', '0x10')", &[], &[]), bulk("\x10"));
    let floats = "local a, b, c, d, e = struct.unpack('<f>f<d>d', struct.pack('<f>f<d>d', 1.5, -2.25, 0.5, 3)) \
        return {tostring(a), tostring(b), tostring(c), tostring(d), e}";
    assert_eq!(
        eval(&mut ks, floats, &[], &[]),
        Reply::Array(vec![bulk("1.5"), bulk("-2.25"), bulk("0.5"), bulk("3"), Reply::Integer(25)])
    );
    assert_eq!(
        eval(&mut ks, "return {struct.unpack('!bi!2bd', struct.pack('!bi!2bd', 1, 2, 3, 4))}", &[], &[]),
        integers(&[1, 2, 3, 4, 19])
    );
    assert_eq!(
        eval(&mut ks, "return {struct.unpack('sc3xc', struct.pack('sc3xc', 'ab', 'hello', 'q'))}", &[], &[]),
        Reply::Array(vec![bulk("ab"), bulk("hel"), bulk("q"), Reply::Integer(9)])
    );
    assert_eq!(
        eval(&mut ks, "return {struct.unpack('Bc0h', '\\3abc\\5\\0')}", &[], &[]),
        Reply::Array(vec![bulk("abc"), Reply::Integer(5), Reply::Integer(7)]),
        "c0 takes its length from the number before it"
    );
    assert_eq!(
        eval(&mut ks, "return {struct.unpack('c1c0', '3abcd')}", &[], &[]),
        Reply::Array(vec![bulk("abc"), Reply::Integer(5)])
    );
}

#[test]
fn struct_sizes_and_offsets() {
    let mut ks = Keyspace::new();
    let sizes = "return {struct.size('bBhHlLTiIfdx'), struct.size('!bd'), struct.size('!4bd'), struct.size('!bi3'), \
        struct.size('c10i7'), struct.size('z'), struct.size('9'), struct.size('!'), struct.size(' < > '), \
        struct.size('!i3d'), struct.size('!2i3d')}";
    assert_eq!(eval(&mut ks, sizes, &[], &[]), integers(&[51, 16, 12, 6, 17, 0, 0, 0, 0, 16, 12]));
    assert_eq!(eval(&mut ks, "return {struct.unpack('b', '\\1\\2\\3', 2)}", &[], &[]), integers(&[2, 3]));
    assert_eq!(eval(&mut ks, "return {struct.unpack('b', '\\1\\2\\3', 3)}", &[], &[]), integers(&[3, 4]));
    assert_eq!(eval(&mut ks, "return {struct.unpack('b', '\\1\\2', 1.9)}", &[], &[]), integers(&[1, 2]));
    assert_eq!(eval(&mut ks, "return {struct.unpack('b', '\\1\\2', '2')}", &[], &[]), integers(&[2, 3]));
    assert_eq!(eval(&mut ks, "return {struct.unpack('', 'abc', 3)}", &[], &[]), integers(&[3]));
    let refused = eval(&mut ks, "struct.pack = nil", &[], &[]);
    assert!(error_text(&refused).contains("Attempt to modify a readonly table"));
}

#[test]
fn struct_errors_are_worded_as_redis_words_them() {
    let mut ks = Keyspace::new();
    let cases = [
        ("return struct.pack('z')", "bad argument #1 to 'pack' (invalid format option 'z')"),
        ("return struct.pack('b')", "bad argument #2 to 'pack' (number expected, got nil)"),
        ("return struct.pack('b', 'x')", "bad argument #2 to 'pack' (number expected, got string)"),
        ("return struct.pack('b', {})", "bad argument #2 to 'pack' (number expected, got table)"),
        ("return struct.pack('c3', 'ab')", "bad argument #3 to 'pack' (string too short)"),
        ("return struct.pack('bc3', 1, 'ab')", "bad argument #4 to 'pack' (string too short)"),
        ("return struct.pack('s', nil)", "bad argument #2 to 'pack' (string expected, got nil)"),
        ("return struct.pack('i33', 1)", "integral size 33 is larger than limit of 32"),
        ("return struct.pack('!3b', 1)", "alignment 3 is not a power of 2"),
        ("return struct.pack('!0b', 1)", "alignment 0 is not a power of 2"),
        ("return struct.pack('c99999999999', 'a')", "integral size overflow"),
        ("return struct.pack()", "bad argument #1 to 'pack' (string expected, got no value)"),
        ("return struct.unpack('b', '')", "bad argument #2 to 'unpack' (data string too short)"),
        ("return struct.unpack('b', 'a', 0)", "bad argument #3 to 'unpack' (offset must be 1 or greater)"),
        ("return struct.unpack('b', 'a', -1)", "bad argument #2 to 'unpack' (data string too short)"),
        ("return struct.unpack('b', 'ab', 3)", "bad argument #2 to 'unpack' (data string too short)"),
        ("return struct.unpack('b', 'a', 'x')", "bad argument #3 to 'unpack' (number expected, got string)"),
        ("return struct.unpack('c0', 'abc')", "format 'c0' needs a previous size"),
        ("return struct.unpack('sc0', 'ab\\0')", "format 'c0' needs a previous size"),
        ("return struct.unpack('bc0', '\\9ab')", "bad argument #2 to 'unpack' (data string too short)"),
        ("return struct.unpack('s', 'abc')", "unfinished string in data"),
        ("return struct.unpack('y', 'abc')", "bad argument #1 to 'unpack' (invalid format option 'y')"),
        ("return struct.unpack('b')", "bad argument #2 to 'unpack' (string expected, got no value)"),
        ("return struct.size('s')", "bad argument #1 to 'size' (option 's' has no fixed size)"),
        ("return struct.size('c0')", "bad argument #1 to 'size' (option 'c0' has no fixed size)"),
        ("return struct.size('#')", "bad argument #1 to 'size' (invalid format option '#')"),
        ("return struct.size('i40')", "integral size 40 is larger than limit of 32"),
        ("local p = struct.pack return p('z')", "bad argument #1 to 'p' (invalid format option 'z')"),
    ];
    for (script, message) in cases {
        let text = error_text(&eval(&mut ks, script, &[], &[]));
        assert!(text.starts_with(&format!("ERR user_script:1: {message} script: ")), "{script}: {text}");
    }
    // Concord's pcall hands a library's error over as an error table (Redis: a string).
    let caught = "local ok, message = pcall(struct.pack, 'z') return message.err";
    assert_eq!(
        eval(&mut ks, caught, &[], &[]),
        bulk("ERR bad argument #1 to '?' (invalid format option 'z')"),
        "called from pcall, the function has no name and the message no position"
    );
}

#[test]
fn struct_unpack_stops_at_too_many_results() {
    let mut ks = Keyspace::new();
    let count = |n: usize| format!("return #{{struct.unpack(string.rep('b', {n}), string.rep('a', 8000))}}");
    assert_eq!(eval(&mut ks, &count(7974), &[], &[]), Reply::Integer(7975));
    let text = error_text(&eval(&mut ks, &count(7975), &[], &[]));
    assert!(text.starts_with("ERR user_script:1: stack overflow (too many results) script: "), "{text}");
}

/// The runs a keyspace's kept interpreter has served (None: none is kept).
fn kept_runs(keyspace: &Keyspace) -> Option<u64> {
    keyspace.script_vm().kept().map(|(_, runs)| runs)
}

#[test]
fn the_interpreter_is_kept_across_ordinary_runs() {
    let mut ks = Keyspace::new();
    assert_eq!(eval(&mut ks, "return 1", &[], &[]), Reply::Integer(1));
    let first = kept_runs(&ks).expect("kept after a run");
    write(&mut ks, 1_000, &["function", "load", LIBRARY]);
    let scripts = [
        "return redis.call('set', KEYS[1], ARGV[1])",
        "local s = '' for i = 1, 200 do s = s .. string.rep('ab', i) end return #s",
        "local t = {} for i = 1, 5000 do t[i] = 'key:' .. i end return #t",
        "return redis.pcall('incr', KEYS[1])",
        "return cjson.encode({a = {1, 2, 3}, b = 'x'})",
        "return redis.error_reply('no')",
        "return redis.call('nosuchcommand')",
        "local ok, err = pcall(redis.call, 'incr', KEYS[1]) return tostring(ok)",
        "error('raised')",
    ];
    for script in scripts {
        eval(&mut ks, script, &["k"], &["v"]);
    }
    assert_eq!(write(&mut ks, 1_000, &["fcall", "set_it", "1", "f", "1"]), Reply::OK);
    assert_eq!(read(&ks, 1_000, &["fcall_ro", "get_it", "1", "f"]), bulk("1"));
    assert_eq!(kept_runs(&ks), Some(first + scripts.len() as u64 + 2), "the same interpreter served them all");
}

#[test]
fn no_global_written_by_one_run_reaches_the_next() {
    let mut ks = Keyspace::new();
    for trick in [
        "x = 1",
        "rawset(_G, 'x', 1)",
        "getfenv(0).x = 1",
        "getfenv(1).x = 1",
        "getfenv(redis.pcall).x = 1",
        "loadstring('x = 1')()",
        "setfenv(0, {x = 1})",
        "setfenv(redis.pcall, {x = 1})",
        "string.x = 1",
        "getmetatable('').__index = {x = 1}",
        "getmetatable('').__index.x = 1",
        "redis.x = 1",
        "setmetatable(_G, nil)",
    ] {
        let refused = eval(&mut ks, trick, &[], &[]);
        assert!(error_text(&refused).contains("readonly table"), "{trick}: {refused:?}");
        let next = eval(&mut ks, "return x", &[], &[]);
        assert!(error_text(&next).contains("nonexistent global variable 'x'"), "after {trick}: {next:?}");
        assert_eq!(eval(&mut ks, "return ('a'):rep(2)", &[], &[]), bulk("aa"), "after {trick}");
    }
    // KEYS and ARGV are the run's own.
    assert_eq!(eval(&mut ks, "KEYS[2] = 'extra' return #KEYS", &["a"], &["b"]), Reply::Integer(2));
    assert_eq!(eval(&mut ks, "return {#KEYS, #ARGV}", &[], &[]), integers(&[0, 0]));
    // Settings a run changes start over at the next.
    assert_eq!(eval(&mut ks, "cjson.encode_max_depth(1) return 1", &[], &[]), Reply::Integer(1));
    assert_eq!(eval(&mut ks, "return cjson.encode({{1}})", &[], &[]), bulk("[[1]]"));
    assert_eq!(eval(&mut ks, "collectgarbage('stop') collectgarbage('setpause', 1000) return 1", &[], &[]), {
        Reply::Integer(1)
    });
    // math.random is drawn from the entry's seed, not from what the last run drew or seeded.
    let draw = "return tostring(math.random())";
    let mut fresh = Keyspace::new();
    eval(&mut ks, "math.randomseed(7) math.random() return 1", &[], &[]);
    assert_eq!(eval(&mut ks, draw, &[], &[]), eval(&mut fresh, draw, &[], &[]));
    // A library's functions see nothing another library or a script left.
    let counter = "#!lua name=counter\nlocal n = 0\nredis.register_function('bump', function() n = n + 1 return n end)";
    write(&mut ks, 1_000, &["function", "load", counter]);
    assert_eq!(write(&mut ks, 1_000, &["fcall", "bump", "0"]), Reply::Integer(1));
    assert_eq!(write(&mut ks, 1_000, &["fcall", "bump", "0"]), Reply::Integer(1), "no state kept between calls");
    assert!(kept_runs(&ks).is_some());
}

#[test]
fn a_run_stopped_by_the_memory_bound_leaves_the_next_runs_working() {
    let mut ks = Keyspace::new();
    assert_eq!(eval(&mut ks, "return 1", &[], &[]), Reply::Integer(1));
    let hungry = "local t = {} for i = 1, 100000000 do t[i] = string.rep('x', 100000) .. i end return #t";
    let refused = eval(&mut ks, hungry, &[], &[]);
    assert!(error_text(&refused).contains("bytes of Lua memory"), "{refused:?}");
    assert_eq!(kept_runs(&ks), None, "the interpreter that ran out is dropped");
    assert_eq!(eval(&mut ks, "return redis.call('set', 'after', 'ok')", &[], &[]), Reply::OK);
    assert!(kept_runs(&ks).is_some());
    // Caught by pcall, the memory error leaves an interpreter that still works and is kept.
    let caught = "local ok = pcall(function() local t = {} for i = 1, 100000000 do t[i] = string.rep('x', 100000) .. i end end) \
        return tostring(ok)";
    assert_eq!(eval(&mut ks, caught, &[], &[]), bulk("false"));
    assert_eq!(eval(&mut ks, "return #string.rep('y', 1000000)", &[], &[]), Reply::Integer(1_000_000));
    assert!(error_text(&eval(&mut ks, hungry, &[], &[])).contains("bytes of Lua memory"), "bounded again");
}

#[test]
fn the_instruction_bound_stops_a_loop_on_a_kept_interpreter_at_the_same_point() {
    // One interpreter has run scripts (whose hook counts ended anywhere); the other is fresh.
    let (mut used, mut fresh) = (Keyspace::new(), Keyspace::new());
    for n in 1..50 {
        eval(&mut used, &format!("local x = 0 for i = 1, {} do x = x + i end return x", n * 37), &[], &[]);
    }
    assert!(kept_runs(&used).is_some());
    // A write every 100 turns (some 600 instructions, under the 1,000 between two checks).
    let counting = "local i = 0 while true do i = i + 1 if i % 100 == 0 then redis.call('set', 'i', i) end end";
    let one = eval(&mut used, counting, &[], &[]);
    let two = eval(&mut fresh, counting, &[], &[]);
    assert!(error_text(&one).starts_with("ERR Script killed"), "{one:?}");
    assert_eq!(one, two);
    assert_eq!(read(&used, 1_000, &["get", "i"]), read(&fresh, 1_000, &["get", "i"]), "stopped at the same iteration");
    assert_eq!(eval(&mut used, "return 'alive'", &[], &[]), bulk("alive"));
    assert!(error_text(&eval(&mut used, "while true do end", &[], &[])).starts_with("ERR Script killed"));
}

#[test]
fn replicas_with_different_histories_compute_the_same_effects_and_replies() {
    // `busy` ran many scripts, reads among them (which no other replica ran), and scripts that
    // hit both bounds; `restored` is a copy of it (as from a snapshot) with no interpreter.
    let mut busy = Keyspace::new();
    write(&mut busy, 1, &["set", "seed", "1"]);
    write(&mut busy, 2, &["function", "load", LIBRARY]);
    for n in 0..30u64 {
        let script = format!("local t = {{}} for i = 1, {} do t[i] = tostring(i) .. ARGV[1] end return #t", n * 100);
        read(&busy, 3 + n, &["eval_ro", &script, "0", &n.to_string()]);
        write(&mut busy, 3 + n, &["eval", "return redis.call('get', 'seed')", "0"]);
    }
    write(&mut busy, 40, &["eval", "while true do end", "0"]);
    write(&mut busy, 41, &["eval", "local t = {} for i = 1, 1e9 do t[i] = string.rep('z', 5000) .. i end", "0"]);
    read(&busy, 42, &["eval_ro", "local s = '' for i = 1, 300 do s = s .. i end return s", "0"]);
    let mut restored = busy.clone();
    assert_eq!(kept_runs(&restored), None);
    let entries: [&[&str]; 6] = [
        &["eval", "local out = {} for i = 1, 10 do out[i] = math.random(1000) redis.call('rpush', 'l', out[i]) end return out", "0"],
        // Stopped by the memory bound partway, after writing at each step: the same step everywhere.
        &["eval", "local t = {} for i = 1, 1e9 do t[i] = string.rep('m', 7000) .. i redis.call('set', 'reached', i) end", "0"],
        &["eval", "local t = {} for i = 1, 1e9 do local s = string.rep('g', 3000) .. i if i % 3 == 0 then t[#t + 1] = s end redis.call('set', 'garbage', i) end", "0"],
        &["eval", "local i = 0 while true do i = i + 1 if i % 5000 == 0 then redis.call('set', 'spun', i) end end", "0"],
        &["fcall", "set_it", "1", "fk", "fv"],
        &["eval", "return {redis.call('get', 'reached'), redis.call('get', 'garbage'), redis.call('get', 'spun')}", "0"],
    ];
    for (at, words) in entries.iter().enumerate() {
        let now_ms = 100 + at as u64;
        let (one, two) = (write(&mut busy, now_ms, words), write(&mut restored, now_ms, words));
        assert_eq!(one, two, "entry {at}");
    }
    assert_eq!(busy, restored, "the same effects");
    assert_eq!(read(&busy, 300, &["get", "reached"]), read(&restored, 300, &["get", "reached"]));
    assert!(matches!(read(&busy, 300, &["get", "reached"]), Reply::Bulk(_)));
}

#[test]
fn sort_by_a_constant_orders_a_set_inside_a_script_as_redis_does() {
    let mut ks = Keyspace::new();
    write(&mut ks, 1_000, &["sadd", "myset", "c", "aa", "b", "a", "azz", "aaa"]);
    let sorted = |ks: &mut Keyspace, script: &str| eval(ks, script, &["myset"], &[]);
    assert_eq!(
        sorted(&mut ks, "return redis.call('sort', KEYS[1], 'by', '_')"),
        Reply::Array(["a", "aa", "aaa", "azz", "b", "c"].iter().map(|m| bulk(m)).collect())
    );
    assert_eq!(
        sorted(&mut ks, "return redis.call('sort_ro', KEYS[1], 'by', '_', 'get', '#', 'limit', '0', '2')"),
        Reply::Array(vec![bulk("a"), bulk("aa")])
    );
}
