//! Keyspace notifications against the real binary: `notify-keyspace-events` as Redis reports
//! it, and events raised by each node from its own applied log, so that RESP2 and RESP3
//! subscribers on a follower hear of its shards while the leader (notifications off) is quiet.

mod common;

use common::cluster::TestCluster;
use common::Raw;
use std::time::{Duration, Instant};

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> String {
    format!("*4\r\n{}{}{}{}", bulk("pmessage"), bulk(pattern), bulk(channel), bulk(payload))
}

fn push_message(channel: &str, payload: &str) -> String {
    format!(">3\r\n{}{}{}", bulk("message"), bulk(channel), bulk(payload))
}

/// Waits until node `raw` (in READONLY mode) reads `value` at `key` from its own replica.
fn wait_until_applied(raw: &mut Raw, key: &str, value: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while raw.call(&["GET", key]) != bulk(value) {
        assert!(Instant::now() < deadline, "the follower never applied {key} = {value}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn subscribers_on_a_follower_hear_its_shards_events_in_resp2_and_resp3() {
    let cluster = TestCluster::start(3, &["--shards", "1"]);
    cluster.wait_for_settled(0);
    let leader = cluster.masters(0)[0].0;
    let follower = (leader + 1) % 3;

    let mut config = Raw::connect(cluster.address(follower));
    assert_eq!(
        config.call(&["CONFIG", "SET", "notify-keyspace-events", "w"]),
        "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n"
    );
    assert_eq!(config.call(&["CONFIG", "SET", "notify-keyspace-events", "EKx$lg"]), "+OK\r\n");
    assert_eq!(
        config.call(&["CONFIG", "GET", "notify-keyspace-events"]),
        format!("*2\r\n{}{}", bulk("notify-keyspace-events"), bulk("g$lxKE"))
    );

    let pattern = "__key*__:*";
    let mut resp2 = Raw::connect(cluster.address(follower));
    assert_eq!(resp2.call(&["PSUBSCRIBE", pattern]), format!("*3\r\n{}{}:1\r\n", bulk("psubscribe"), bulk(pattern)));
    let mut resp3 = Raw::connect(cluster.address(follower));
    assert!(resp3.call(&["HELLO", "3"]).starts_with('%'));
    resp3.send(&["SUBSCRIBE", "__keyevent@0__:set", "__keyevent@0__:expired"]);
    assert_eq!(resp3.reply(), format!(">3\r\n{}{}:1\r\n", bulk("subscribe"), bulk("__keyevent@0__:set")));
    assert_eq!(resp3.reply(), format!(">3\r\n{}{}:2\r\n", bulk("subscribe"), bulk("__keyevent@0__:expired")));
    // The leader's node wants no events: its subscriber hears only what is published.
    let mut on_leader = Raw::connect(cluster.address(leader));
    assert_eq!(on_leader.call(&["PSUBSCRIBE", "*"]), format!("*3\r\n{}{}:1\r\n", bulk("psubscribe"), bulk("*")));

    let mut writer = Raw::connect(cluster.address(leader));
    assert_eq!(writer.call(&["SET", "foo", "bar"]), "+OK\r\n");
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyspace@0__:foo", "set"));
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyevent@0__:set", "foo"));
    assert_eq!(resp3.reply(), push_message("__keyevent@0__:set", "foo"));

    // A list event reaches the pattern only; a refused SET NX raises nothing.
    assert_eq!(writer.call(&["SET", "foo", "again", "NX"]), "$-1\r\n");
    assert_eq!(writer.call(&["LPUSH", "jobs", "a"]), ":1\r\n");
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyspace@0__:jobs", "lpush"));
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyevent@0__:lpush", "jobs"));

    // A key with a time to live: set, expire, then expired when the leader's expiry entry is
    // applied on the follower.
    assert_eq!(writer.call(&["SET", "gone", "1", "PX", "100"]), "+OK\r\n");
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyspace@0__:gone", "set"));
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyevent@0__:set", "gone"));
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyspace@0__:gone", "expire"));
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyevent@0__:expire", "gone"));
    assert_eq!(resp3.reply(), push_message("__keyevent@0__:set", "gone"));
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyspace@0__:gone", "expired"));
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyevent@0__:expired", "gone"));
    assert_eq!(resp3.reply(), push_message("__keyevent@0__:expired", "gone"));

    // Off again: a write the follower has applied raises nothing before a published marker.
    assert_eq!(config.call(&["CONFIG", "SET", "notify-keyspace-events", ""]), "+OK\r\n");
    assert_eq!(config.call(&["READONLY"]), "+OK\r\n");
    assert_eq!(writer.call(&["SET", "foo", "quiet"]), "+OK\r\n");
    wait_until_applied(&mut config, "foo", "quiet");
    assert_eq!(writer.call(&["PUBLISH", "__keyevent@0__:set", "marker"]), ":3\r\n");
    assert_eq!(resp2.reply(), pmessage(pattern, "__keyevent@0__:set", "marker"));
    assert_eq!(resp3.reply(), push_message("__keyevent@0__:set", "marker"));
    assert_eq!(on_leader.reply(), pmessage("*", "__keyevent@0__:set", "marker"), "the leader raised nothing");
}

#[test]
fn client_reply_off_and_skip_silence_replies_but_not_subscriptions_or_events() {
    let server = common::Server::start();
    let mut client = Raw::new(&server);
    assert_eq!(client.call(&["CLIENT", "REPLY", "MAYBE"]), "-ERR syntax error\r\n");
    assert_eq!(client.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), "+OK\r\n");
    // SKIP: neither it nor the next command answers; the one after does.
    client.send(&["CLIENT", "REPLY", "SKIP"]);
    client.send(&["SET", "skipped", "1"]);
    assert_eq!(client.call(&["GET", "skipped"]), bulk("1"));
    // OFF: nothing answers until ON, which does.
    client.send(&["CLIENT", "REPLY", "OFF"]);
    client.send(&["SET", "silent", "1"]);
    client.send(&["GET", "silent"]);
    assert_eq!(client.call(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    assert_eq!(client.call(&["GET", "silent"]), bulk("1"), "nothing was left owed");
    // Subscriptions and their messages are pushes: sent even with replies off.
    let mut subscriber = Raw::new(&server);
    subscriber.send(&["CLIENT", "REPLY", "OFF"]);
    assert_eq!(subscriber.call(&["PSUBSCRIBE", "*"]), format!("*3\r\n{}{}:1\r\n", bulk("psubscribe"), bulk("*")));
    assert_eq!(client.call(&["SET", "foo", "bar"]), "+OK\r\n");
    assert_eq!(subscriber.reply(), pmessage("*", "__keyspace@0__:foo", "set"));
    assert_eq!(subscriber.reply(), pmessage("*", "__keyevent@0__:set", "foo"));
}

#[test]
fn reads_of_missing_keys_raise_keymiss_on_the_node_that_serves_them() {
    let cluster = TestCluster::start(3, &["--shards", "1"]);
    cluster.wait_for_settled(0);
    let leader = cluster.masters(0)[0].0;
    let follower = (leader + 1) % 3;
    let mut on_leader = Raw::connect(cluster.address(leader));
    assert_eq!(on_leader.call(&["CONFIG", "SET", "notify-keyspace-events", "Em"]), "+OK\r\n");
    assert_eq!(on_leader.call(&["SET", "present", "1"]), "+OK\r\n");
    let channel = "__keyevent@0__:keymiss";
    let mut subscriber = Raw::connect(cluster.address(leader));
    assert_eq!(subscriber.call(&["SUBSCRIBE", channel]), format!("*3\r\n{}{}:1\r\n", bulk("subscribe"), bulk(channel)));
    // Through a follower, the read is served (and its miss raised) by the leader's node.
    let mut through = Raw::connect(cluster.address(follower));
    assert_eq!(through.call(&["GET", "present"]), bulk("1"));
    assert_eq!(through.call(&["MGET", "absent", "present", "gone"]), format!("*3\r\n$-1\r\n{}$-1\r\n", bulk("1")));
    let message = |key: &str| format!("*3\r\n{}{}{}", bulk("message"), bulk(channel), bulk(key));
    assert_eq!(subscriber.reply(), message("absent"), "a hit raises nothing, each miss one event");
    assert_eq!(subscriber.reply(), message("gone"));
    // Writes that find no key raise no keymiss, as in Redis.
    assert_eq!(on_leader.call(&["INCR", "counter"]), ":1\r\n");
    assert_eq!(on_leader.call(&["EXISTS", "nothing"]), ":0\r\n");
    assert_eq!(subscriber.reply(), message("nothing"));
}
