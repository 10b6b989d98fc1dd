//! Pub/Sub against the real binary, byte for byte as Redis answers: subscribe mode in RESP2,
//! push frames in RESP3, patterns, receiver counts, ordering, slow subscribers, and messages
//! crossing a cluster.

mod common;

use common::cluster::TestCluster;
use common::{Raw, Server};
use std::io::Read;
use std::time::{Duration, Instant};

fn message(channel: &str, payload: &str) -> String {
    format!("*3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n${}\r\n{payload}\r\n", channel.len(), payload.len())
}

fn confirmation(kind: &str, name: &str, count: usize) -> String {
    format!("*3\r\n${}\r\n{kind}\r\n${}\r\n{name}\r\n:{count}\r\n", kind.len(), name.len())
}

/// Polls `PUBSUB NUMSUB channel` on `raw` until it reports `count`.
fn wait_for_numsub(raw: &mut Raw, channel: &str, count: usize) {
    let expected = format!("*2\r\n${}\r\n{channel}\r\n:{count}\r\n", channel.len());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = raw.call(&["PUBSUB", "NUMSUB", channel]);
        if reply == expected {
            return;
        }
        assert!(Instant::now() < deadline, "NUMSUB {channel} stayed {reply:?}, expected {count}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn resp2_subscribe_mode_allows_only_subscriptions_ping_quit_and_reset() {
    let server = Server::start();
    let (mut subscriber, mut publisher) = (Raw::new(&server), Raw::new(&server));
    subscriber.send(&["SUBSCRIBE", "a", "b"]);
    assert_eq!(subscriber.reply(), confirmation("subscribe", "a", 1));
    assert_eq!(subscriber.reply(), confirmation("subscribe", "b", 2));
    assert_eq!(subscriber.call(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(subscriber.call(&["ping", "hi"]), "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    assert_eq!(
        subscriber.call(&["GET", "x"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(
        subscriber.call(&["CONFIG", "GET", "x"]),
        "-ERR Can't execute 'config|get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(publisher.call(&["PUBLISH", "a", "hello"]), ":1\r\n");
    assert_eq!(subscriber.reply(), message("a", "hello"));
    assert_eq!(publisher.call(&["PUBLISH", "nobody", "hello"]), ":0\r\n");
    // With no arguments: every channel, in order, counting down.
    subscriber.send(&["UNSUBSCRIBE"]);
    assert_eq!(subscriber.reply(), confirmation("unsubscribe", "a", 1));
    assert_eq!(subscriber.reply(), confirmation("unsubscribe", "b", 0));
    assert_eq!(subscriber.call(&["UNSUBSCRIBE"]), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    assert_eq!(subscriber.call(&["PUNSUBSCRIBE"]), "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
    // Out of subscribe mode: commands and PING as usual.
    assert_eq!(subscriber.call(&["GET", "x"]), "$-1\r\n");
    assert_eq!(subscriber.call(&["PING"]), "+PONG\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "a", "gone"]), ":0\r\n");
    // RESET leaves subscribe mode and drops every subscription.
    assert_eq!(subscriber.call(&["SUBSCRIBE", "c"]), confirmation("subscribe", "c", 1));
    assert_eq!(subscriber.call(&["PSUBSCRIBE", "c*"]), confirmation("psubscribe", "c*", 2));
    assert_eq!(subscriber.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "c", "gone"]), ":0\r\n");
    assert_eq!(subscriber.call(&["GET", "x"]), "$-1\r\n");
    assert_eq!(publisher.call(&["PUBSUB", "NUMPAT"]), ":0\r\n");
}

#[test]
fn resp3_subscribers_get_push_frames_between_ordinary_replies() {
    let server = Server::start();
    let (mut subscriber, mut publisher) = (Raw::new(&server), Raw::new(&server));
    assert!(subscriber.call(&["HELLO", "3"]).starts_with('%'));
    assert_eq!(subscriber.call(&["SUBSCRIBE", "ch"]), ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    // Any command runs while subscribed, and PING answers as usual.
    assert_eq!(subscriber.call(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(subscriber.call(&["PING"]), "+PONG\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "ch", "hi"]), ":1\r\n");
    assert_eq!(subscriber.reply(), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    assert_eq!(subscriber.call(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(subscriber.call(&["PSUBSCRIBE", "c*"]), ">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "ch", "both"]), ":2\r\n");
    assert_eq!(subscriber.reply(), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\nboth\r\n");
    assert_eq!(subscriber.reply(), ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$4\r\nboth\r\n");
    // Publishing to itself, it gets the messages before the count, as from Redis.
    assert_eq!(subscriber.call(&["PUBLISH", "ch", "self"]), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\nself\r\n");
    assert_eq!(subscriber.reply(), ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$4\r\nself\r\n");
    assert_eq!(subscriber.reply(), ":2\r\n");
    assert_eq!(subscriber.call(&["UNSUBSCRIBE", "ch"]), ">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n");
    assert_eq!(subscriber.call(&["PUNSUBSCRIBE"]), ">3\r\n$12\r\npunsubscribe\r\n$2\r\nc*\r\n:0\r\n");
    assert_eq!(subscriber.call(&["UNSUBSCRIBE"]), ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
}

#[test]
fn patterns_counts_and_pubsub_introspection() {
    let server = Server::start();
    let (mut first, mut second, mut third) = (Raw::new(&server), Raw::new(&server), Raw::new(&server));
    let mut publisher = Raw::new(&server);
    assert_eq!(first.call(&["SUBSCRIBE", "news.tech"]), confirmation("subscribe", "news.tech", 1));
    assert_eq!(second.call(&["SUBSCRIBE", "news.tech"]), confirmation("subscribe", "news.tech", 1));
    third.send(&["PSUBSCRIBE", "news.*", "n[aeiou]ws.*", "sport.*"]);
    assert_eq!(third.reply(), confirmation("psubscribe", "news.*", 1));
    assert_eq!(third.reply(), confirmation("psubscribe", "n[aeiou]ws.*", 2));
    assert_eq!(third.reply(), confirmation("psubscribe", "sport.*", 3));
    // Each matching subscription counts: two channel subscribers and two matching patterns.
    assert_eq!(publisher.call(&["PUBLISH", "news.tech", "m"]), ":4\r\n");
    assert_eq!(first.reply(), message("news.tech", "m"));
    assert_eq!(second.reply(), message("news.tech", "m"));
    // Patterns match in byte order.
    assert_eq!(third.reply(), "*4\r\n$8\r\npmessage\r\n$12\r\nn[aeiou]ws.*\r\n$9\r\nnews.tech\r\n$1\r\nm\r\n");
    assert_eq!(third.reply(), "*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$9\r\nnews.tech\r\n$1\r\nm\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "sport.golf", "x"]), ":1\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "weather", "x"]), ":0\r\n");
    assert_eq!(publisher.call(&["PUBSUB", "CHANNELS"]), "*1\r\n$9\r\nnews.tech\r\n");
    assert_eq!(publisher.call(&["PUBSUB", "CHANNELS", "sport.*"]), "*0\r\n");
    assert_eq!(
        publisher.call(&["PUBSUB", "NUMSUB", "news.tech", "news.*"]),
        "*4\r\n$9\r\nnews.tech\r\n:2\r\n$6\r\nnews.*\r\n:0\r\n"
    );
    assert_eq!(publisher.call(&["PUBSUB", "NUMSUB"]), "*0\r\n");
    assert_eq!(publisher.call(&["PUBSUB", "NUMPAT"]), ":3\r\n");
    assert_eq!(
        publisher.call(&["PUBSUB", "NUMPAT", "x"]),
        "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"
    );
    assert_eq!(publisher.call(&["SUBSCRIBE"]), "-ERR wrong number of arguments for 'subscribe' command\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "a"]), "-ERR wrong number of arguments for 'publish' command\r\n");
    let clients = publisher.call(&["CLIENT", "LIST"]);
    assert!(clients.contains("flags=P db=0 sub=1 psub=0 ssub=0"), "{clients}");
    assert!(clients.contains("flags=P db=0 sub=0 psub=3 ssub=0"), "{clients}");
    let stats = publisher.call(&["INFO", "stats"]);
    assert!(stats.contains("pubsub_channels:1\r\n") && stats.contains("pubsub_patterns:3\r\n"), "{stats}");
    // A subscriber that leaves is forgotten.
    drop(first);
    wait_for_numsub(&mut publisher, "news.tech", 1);
}

#[test]
fn one_publishers_messages_arrive_in_order() {
    let server = Server::start();
    let (mut subscriber, mut publisher) = (Raw::new(&server), Raw::new(&server));
    assert_eq!(subscriber.call(&["SUBSCRIBE", "seq"]), confirmation("subscribe", "seq", 1));
    const MESSAGES: usize = 2_000;
    // Pipelined: all sent before any reply is read.
    for i in 0..MESSAGES {
        publisher.send(&["PUBLISH", "seq", &i.to_string()]);
    }
    for i in 0..MESSAGES {
        assert_eq!(subscriber.reply(), message("seq", &i.to_string()), "message {i}");
    }
    for _ in 0..MESSAGES {
        assert_eq!(publisher.reply(), ":1\r\n");
    }
}

#[test]
fn a_subscriber_that_never_reads_is_disconnected_and_others_carry_on() {
    let server = Server::start();
    let (mut slow, mut publisher, mut other) = (Raw::new(&server), Raw::new(&server), Raw::new(&server));
    assert_eq!(slow.call(&["SUBSCRIBE", "firehose"]), confirmation("subscribe", "firehose", 1));
    assert_eq!(other.call(&["SUBSCRIBE", "quiet"]), confirmation("subscribe", "quiet", 1));
    let payload = "x".repeat(1024 * 1024);
    // Well past the 32 MiB pubsub output limit plus what the sockets can buffer.
    for _ in 0..100 {
        publisher.call(&["PUBLISH", "firehose", &payload]);
    }
    wait_for_numsub(&mut publisher, "firehose", 0);
    // The slow subscriber's connection was closed: what it can still read ends.
    let stream = slow.stream();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut received = 0usize;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => received += n,
            Err(error) => panic!("the slow subscriber was not disconnected ({error}, {received} bytes read)"),
        }
    }
    assert!(received < 100 * payload.len(), "a slow subscriber cannot have received everything: {received}");
    assert_eq!(publisher.call(&["PUBLISH", "quiet", "still here"]), ":1\r\n");
    assert_eq!(other.reply(), message("quiet", "still here"));
    assert_eq!(publisher.call(&["SET", "k", "v"]), "+OK\r\n");
}

#[test]
fn a_subscriber_past_the_soft_limit_for_too_long_is_disconnected() {
    let server = Server::start();
    let (mut slow, mut publisher) = (Raw::new(&server), Raw::new(&server));
    // No hard limit (Concord's ceiling of 1 GiB stands for it): only the soft one can act.
    let limit = "pubsub 0 1mb 1";
    assert_eq!(publisher.call(&["CONFIG", "SET", "client-output-buffer-limit", limit]), "+OK\r\n");
    assert_eq!(
        publisher.call(&["CONFIG", "GET", "client-output-buffer-limit"]),
        "*2\r\n$26\r\nclient-output-buffer-limit\r\n$59\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 0 1048576 1\r\n"
    );
    assert_eq!(slow.call(&["SUBSCRIBE", "firehose"]), confirmation("subscribe", "firehose", 1));
    let payload = "x".repeat(1024 * 1024);
    // Far past the soft limit plus what the sockets buffer, far below the hard one.
    for _ in 0..40 {
        assert_eq!(publisher.call(&["PUBLISH", "firehose", &payload]), ":1\r\n");
    }
    std::thread::sleep(Duration::from_millis(1500));
    // The limit is checked as messages arrive, as in Redis.
    publisher.call(&["PUBLISH", "firehose", "one more"]);
    wait_for_numsub(&mut publisher, "firehose", 0);
}

#[test]
fn a_message_published_on_one_node_reaches_subscribers_on_every_node() {
    let mut cluster = TestCluster::start(3, &["--shards", "3"]);
    let mut on_one = Raw::connect(cluster.address(1));
    let mut on_two = Raw::connect(cluster.address(2));
    let mut publisher = Raw::connect(cluster.address(0));
    assert_eq!(on_one.call(&["SUBSCRIBE", "events"]), confirmation("subscribe", "events", 1));
    assert_eq!(on_two.call(&["SUBSCRIBE", "events"]), confirmation("subscribe", "events", 1));
    assert_eq!(on_two.call(&["PSUBSCRIBE", "ev*"]), confirmation("psubscribe", "ev*", 2));
    // Cluster-wide count, as Redis Cluster: one on node 1, two on node 2.
    assert_eq!(publisher.call(&["PUBLISH", "events", "deployed"]), ":3\r\n");
    assert_eq!(on_one.reply(), message("events", "deployed"));
    assert_eq!(on_two.reply(), message("events", "deployed"));
    assert_eq!(on_two.reply(), "*4\r\n$8\r\npmessage\r\n$3\r\nev*\r\n$6\r\nevents\r\n$8\r\ndeployed\r\n");
    // Introspection is per node.
    assert_eq!(publisher.call(&["PUBSUB", "NUMSUB", "events"]), "*2\r\n$6\r\nevents\r\n:0\r\n");
    assert_eq!(Raw::connect(cluster.address(2)).call(&["PUBSUB", "NUMPAT"]), ":1\r\n");
    // Many messages from one publisher (more than one relay batch) keep their order on the
    // other nodes, each counted cluster-wide.
    for i in 0..2000 {
        publisher.send(&["PUBLISH", "events", &i.to_string()]);
    }
    for i in 0..2000 {
        assert_eq!(on_one.reply(), message("events", &i.to_string()));
        assert_eq!(on_two.reply(), message("events", &i.to_string()));
        let pmessage =
            format!("*4\r\n$8\r\npmessage\r\n$3\r\nev*\r\n$6\r\nevents\r\n${}\r\n{i}\r\n", i.to_string().len());
        assert_eq!(on_two.reply(), pmessage);
    }
    for _ in 0..2000 {
        assert_eq!(publisher.reply(), ":3\r\n");
    }
    // A node that is down counts 0 and does not hold PUBLISH past its deadline: at most once.
    drop(on_two);
    cluster.kill(2);
    let started = Instant::now();
    assert_eq!(publisher.call(&["PUBLISH", "events", "after"]), ":1\r\n");
    assert!(started.elapsed() < Duration::from_secs(3), "PUBLISH waited {:?}", started.elapsed());
    assert_eq!(on_one.reply(), message("events", "after"));
}

/// Sends `signal` (STOP, CONT) to cluster node `i`'s process.
fn signal(cluster: &TestCluster, i: usize, signal: &str) {
    let pid = cluster.members[i].child.as_ref().expect("a live node").id();
    let status = std::process::Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_node_cut_off_misses_messages_at_most_once_and_hears_the_next() {
    let cluster = TestCluster::start(3, &[]);
    let mut near = Raw::connect(cluster.address(1));
    let mut far = Raw::connect(cluster.address(2));
    let mut publisher = Raw::connect(cluster.address(0));
    assert_eq!(near.call(&["SUBSCRIBE", "events"]), confirmation("subscribe", "events", 1));
    assert_eq!(far.call(&["SUBSCRIBE", "events"]), confirmation("subscribe", "events", 1));
    assert_eq!(publisher.call(&["PUBLISH", "events", "before"]), ":2\r\n");
    assert_eq!(far.reply(), message("events", "before"));
    // Node 2 stops answering (as behind a partition): PUBLISH gives up on it after its
    // deadline, counting only the subscriber it reached.
    signal(&cluster, 2, "STOP");
    let started = Instant::now();
    assert_eq!(publisher.call(&["PUBLISH", "events", "during"]), ":1\r\n");
    assert!(started.elapsed() < Duration::from_secs(3), "PUBLISH waited {:?}", started.elapsed());
    assert_eq!(near.reply(), message("events", "before"));
    assert_eq!(near.reply(), message("events", "during"));
    signal(&cluster, 2, "CONT");
    // Once it answers again it hears what follows. What it missed may still arrive, late,
    // but never twice: delivery is at most once.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut attempt = 0;
    let counted = loop {
        attempt += 1;
        let payload = format!("after-{attempt}");
        if publisher.call(&["PUBLISH", "events", &payload]) == ":2\r\n" {
            break payload;
        }
        assert!(Instant::now() < deadline, "node 2 never counted again");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut heard = Vec::new();
    loop {
        let reply = far.reply();
        let done = reply == message("events", &counted);
        heard.push(reply);
        if done {
            break;
        }
    }
    let mut distinct = heard.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), heard.len(), "a message arrived twice: {heard:?}");
}

#[test]
fn subscriptions_inside_a_transaction_are_refused_without_subscribing() {
    let server = Server::start();
    let mut client = Raw::new(&server);
    assert_eq!(client.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(client.call(&["SUBSCRIBE", "a"]), "+QUEUED\r\n");
    assert_eq!(client.call(&["SET", "k", "v"]), "+QUEUED\r\n");
    assert_eq!(client.call(&["EXEC"]), "*2\r\n-ERR command not allowed inside a transaction\r\n+OK\r\n");
    // Not in subscribe mode, and nobody subscribes to the channel.
    assert_eq!(client.call(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(client.call(&["PUBLISH", "a", "m"]), ":0\r\n");
}

/// A node started to join a cluster it has not reached yet is no member, so no other node
/// would relay publications to it, and its own map lists nobody to relay to: it refuses
/// subscriptions and publications rather than lose their messages without a word (the
/// simulator found one taking both while it joined).
#[test]
fn a_node_that_has_not_joined_yet_refuses_subscriptions() {
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let seed = nobody.local_addr().unwrap().to_string();
    drop(nobody);
    let server = Server::start_with(&["--join", &seed]);
    let mut client = Raw::new(&server);
    let commands: [&[&str]; 5] = [
        &["SUBSCRIBE", "a"],
        &["PSUBSCRIBE", "a*"],
        &["SSUBSCRIBE", "a"],
        &["PUBLISH", "a", "m"],
        &["SPUBLISH", "a", "m"],
    ];
    for command in commands {
        let reply = client.call(command);
        assert!(reply.starts_with("-TRYAGAIN this node is (re)joining the cluster"), "{command:?}: {reply:?}");
    }
    assert_eq!(client.call(&["PING"]), "+PONG\r\n", "not in subscribe mode");
    // A node that starts a cluster of its own takes them at once.
    let alone = Server::start();
    assert_eq!(Raw::new(&alone).call(&["SUBSCRIBE", "a"]), confirmation("subscribe", "a", 1));
}

#[test]
fn publish_inside_a_transaction_delivers_once_it_is_applied() {
    let server = Server::start();
    let (mut subscriber, mut client) = (Raw::new(&server), Raw::new(&server));
    assert_eq!(subscriber.call(&["SUBSCRIBE", "tx"]), confirmation("subscribe", "tx", 1));
    assert_eq!(client.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(client.call(&["SET", "k", "1"]), "+QUEUED\r\n");
    assert_eq!(client.call(&["PUBLISH", "tx", "first"]), "+QUEUED\r\n");
    assert_eq!(client.call(&["PUBLISH", "nobody", "x"]), "+QUEUED\r\n");
    assert_eq!(client.call(&["EXEC"]), "*3\r\n+OK\r\n:1\r\n:0\r\n");
    assert_eq!(subscriber.reply(), message("tx", "first"));
    // Only PUBLISHes: nothing for the log, the same replies.
    assert_eq!(client.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(client.call(&["PUBLISH", "tx", "second"]), "+QUEUED\r\n");
    assert_eq!(client.call(&["EXEC"]), "*1\r\n:1\r\n");
    assert_eq!(subscriber.reply(), message("tx", "second"));
    // A transaction a WATCH aborts publishes nothing.
    let mut other = Raw::new(&server);
    assert_eq!(client.call(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(other.call(&["SET", "k", "2"]), "+OK\r\n");
    assert_eq!(client.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(client.call(&["PUBLISH", "tx", "never"]), "+QUEUED\r\n");
    assert_eq!(client.call(&["EXEC"]), "*-1\r\n");
    assert_eq!(client.call(&["PUBLISH", "tx", "third"]), ":1\r\n");
    assert_eq!(subscriber.reply(), message("tx", "third"));
}

#[test]
fn shard_channels_are_counted_apart_and_share_a_slot_per_subscribe() {
    let server = Server::start();
    let (mut subscriber, mut publisher) = (Raw::new(&server), Raw::new(&server));
    subscriber.send(&["SSUBSCRIBE", "{user1}.a", "{user1}.b"]);
    assert_eq!(subscriber.reply(), confirmation("ssubscribe", "{user1}.a", 1));
    assert_eq!(subscriber.reply(), confirmation("ssubscribe", "{user1}.b", 2));
    // Channels and patterns count together, shard channels apart.
    assert_eq!(subscriber.call(&["SUBSCRIBE", "plain"]), confirmation("subscribe", "plain", 1));
    assert_eq!(
        subscriber.call(&["GET", "x"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(
        subscriber.call(&["SSUBSCRIBE", "a", "b"]),
        "-CROSSSLOT Keys in request don't hash to the same slot\r\n"
    );
    assert_eq!(publisher.call(&["SPUBLISH", "{user1}.a", "hi"]), ":1\r\n");
    assert_eq!(subscriber.reply(), "*3\r\n$8\r\nsmessage\r\n$9\r\n{user1}.a\r\n$2\r\nhi\r\n");
    // The namespaces are apart: PUBLISH does not reach shard channels, nor SPUBLISH channels.
    assert_eq!(publisher.call(&["PUBLISH", "{user1}.a", "x"]), ":0\r\n");
    assert_eq!(publisher.call(&["SPUBLISH", "plain", "x"]), ":0\r\n");
    assert_eq!(publisher.call(&["PUBSUB", "SHARDCHANNELS"]), "*2\r\n$9\r\n{user1}.a\r\n$9\r\n{user1}.b\r\n");
    assert_eq!(publisher.call(&["PUBSUB", "SHARDCHANNELS", "*b"]), "*1\r\n$9\r\n{user1}.b\r\n");
    assert_eq!(
        publisher.call(&["PUBSUB", "SHARDNUMSUB", "{user1}.a", "plain"]),
        "*4\r\n$9\r\n{user1}.a\r\n:1\r\n$5\r\nplain\r\n:0\r\n"
    );
    assert_eq!(publisher.call(&["PUBSUB", "CHANNELS"]), "*1\r\n$5\r\nplain\r\n");
    subscriber.send(&["SUNSUBSCRIBE"]);
    assert_eq!(subscriber.reply(), confirmation("sunsubscribe", "{user1}.a", 1));
    assert_eq!(subscriber.reply(), confirmation("sunsubscribe", "{user1}.b", 0));
    assert_eq!(subscriber.call(&["SUNSUBSCRIBE"]), "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n");
    // Still subscribed to a channel: still in subscribe mode.
    assert!(subscriber.call(&["GET", "x"]).starts_with("-ERR Can't execute 'get'"));
    assert_eq!(subscriber.call(&["UNSUBSCRIBE"]), confirmation("unsubscribe", "plain", 0));
    assert_eq!(subscriber.call(&["GET", "x"]), "$-1\r\n");
}

#[test]
fn a_shard_message_reaches_its_subscribers_on_other_nodes() {
    let cluster = TestCluster::start(3, &["--shards", "3"]);
    let mut subscriber = Raw::connect(cluster.address(2));
    let mut publisher = Raw::connect(cluster.address(0));
    assert_eq!(subscriber.call(&["SSUBSCRIBE", "orders"]), confirmation("ssubscribe", "orders", 1));
    assert_eq!(publisher.call(&["SPUBLISH", "orders", "o-1"]), ":1\r\n");
    assert_eq!(subscriber.reply(), "*3\r\n$8\r\nsmessage\r\n$6\r\norders\r\n$3\r\no-1\r\n");
}

#[test]
fn subscribers_are_not_closed_for_idleness() {
    let server = Server::start();
    let (mut subscriber, mut idle) = (Raw::new(&server), Raw::new(&server));
    assert_eq!(Raw::new(&server).call(&["CONFIG", "SET", "timeout", "1"]), "+OK\r\n");
    assert_eq!(subscriber.call(&["SUBSCRIBE", "slow-news"]), confirmation("subscribe", "slow-news", 1));
    assert_eq!(idle.call(&["PING"]), "+PONG\r\n");
    std::thread::sleep(Duration::from_millis(2_500));
    let mut publisher = Raw::new(&server);
    assert_eq!(publisher.call(&["PUBLISH", "slow-news", "still listening"]), ":1\r\n");
    assert_eq!(subscriber.reply(), message("slow-news", "still listening"));
    // An ordinary client idle as long was closed.
    let mut rest = Vec::new();
    assert_eq!(idle.stream().read_to_end(&mut rest).ok(), Some(0), "the idle client was closed");
}

#[test]
fn in_redirect_mode_shard_channels_are_served_by_their_shards_nodes_alone() {
    let cluster = TestCluster::start(3, &["--shards", "3", "--replication-factor", "1", "--routing", "redirect"]);
    cluster.wait_for_settled(0);
    for (leader, slots) in cluster.masters(0) {
        let (first, last): (u16, u16) =
            slots[0].split_once('-').map(|(f, l)| (f.parse().unwrap(), l.parse().unwrap())).unwrap();
        let mut con = cluster.connect(leader);
        let channel = (0..)
            .map(|n| format!("ch{n}"))
            .find(|channel| {
                let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(channel).query(&mut con).unwrap();
                (first..=last).contains(&slot)
            })
            .unwrap();
        let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(&channel).query(&mut con).unwrap();
        let moved = format!("-MOVED {slot} 127.0.0.1:{}\r\n", cluster.members[leader].port);
        let mut subscriber = Raw::connect(cluster.address(leader));
        assert_eq!(subscriber.call(&["SSUBSCRIBE", &channel]), confirmation("ssubscribe", &channel, 1));
        let elsewhere = (leader + 1) % 3;
        let mut stranger = Raw::connect(cluster.address(elsewhere));
        assert_eq!(stranger.call(&["SSUBSCRIBE", &channel]), moved, "the shard lives on node {leader} alone");
        assert_eq!(stranger.call(&["SPUBLISH", &channel, "x"]), moved);
        let mut publisher = Raw::connect(cluster.address(leader));
        assert_eq!(publisher.call(&["SPUBLISH", &channel, "hello"]), ":1\r\n");
        let smessage = format!("*3\r\n$8\r\nsmessage\r\n${}\r\n{channel}\r\n$5\r\nhello\r\n", channel.len());
        assert_eq!(subscriber.reply(), smessage);
        // Plain channels are not sharded: any node takes them and delivers everywhere.
        assert_eq!(stranger.call(&["PUBLISH", &channel, "plain"]), ":0\r\n");
    }
}

/// The node leading the shard that owns `slot`, as node 0 sees it.
fn slot_leader(cluster: &TestCluster, slot: u16) -> Option<usize> {
    let owns = |range: &String| match range.split_once('-') {
        Some((first, last)) => first.parse::<u16>().unwrap() <= slot && slot <= last.parse::<u16>().unwrap(),
        None => range.parse::<u16>().ok() == Some(slot),
    };
    cluster.masters(0).into_iter().find(|(_, ranges)| ranges.iter().any(owns)).map(|(leader, _)| leader)
}

/// In redirect mode a shard channel lives on its slot's shard alone: when the slot moves to a
/// shard on another node, the subscribers on the old one are told `sunsubscribe` (as Redis
/// does when a slot leaves a node) and leave subscribe mode; subscribing where the slot went
/// hears the channel's messages. (The move itself, driven by the metadata leader, writes its
/// steps to shards led elsewhere: in redirect mode too they are forwarded, never `-MOVED`.)
#[test]
fn in_redirect_mode_a_shard_channel_whose_slot_moves_away_is_unsubscribed() {
    // Rebalanced as they join, the three shards of one replica end up on the three nodes.
    let args = ["--shards", "3", "--replication-factor", "1", "--routing", "redirect", "--rebalance-on-join", "true"];
    let cluster = TestCluster::start(3, &args);
    let deadline = Instant::now() + Duration::from_secs(60);
    while cluster.masters(0).len() < 3 {
        assert!(Instant::now() < deadline, "the shards did not spread over the nodes: {:?}", cluster.masters(0));
        std::thread::sleep(Duration::from_millis(100));
    }
    cluster.wait_for_settled(0);
    let mut con = cluster.connect(0);
    let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg("news").query(&mut con).unwrap();
    let owner = slot_leader(&cluster, slot).expect("an owner");
    let mut subscriber = Raw::connect(cluster.address(owner));
    assert_eq!(subscriber.call(&["SSUBSCRIBE", "news", "{news}x"]), confirmation("ssubscribe", "news", 1));
    assert_eq!(subscriber.reply(), confirmation("ssubscribe", "{news}x", 2));
    // To whichever other shard takes it (the owner's own refuses: the slot is there already);
    // asked again while the cluster still settles.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut refusals = Vec::new();
    while !["g1", "g2", "g3"].into_iter().any(|target| {
        let reply: redis::RedisResult<i64> = redis::cmd("CLUSTER")
            .arg("MIGRATESLOTS")
            .arg("SLOTSRANGE")
            .arg(slot)
            .arg(slot)
            .arg("SHARD")
            .arg(target)
            .query(&mut con);
        refusals.extend(reply.as_ref().err().map(|e| format!("{target}: {e}")));
        reply.is_ok()
    }) {
        assert!(Instant::now() < deadline, "the slot could not move: {refusals:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(subscriber.reply(), confirmation("sunsubscribe", "news", 1), "told, with one shard channel left");
    assert_eq!(subscriber.reply(), confirmation("sunsubscribe", "{news}x", 0));
    assert_eq!(subscriber.call(&["PING"]), "+PONG\r\n", "out of subscribe mode");
    let deadline = Instant::now() + Duration::from_secs(60);
    let new_owner = loop {
        match slot_leader(&cluster, slot) {
            Some(leader) if leader != owner => break leader,
            _ => assert!(Instant::now() < deadline, "the slot never left node {owner}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // A node that has heard of a newer map than its own answers -TRYAGAIN until it has it, as a
    // client would, subscribe and publish again then.
    let retried = |raw: &mut Raw, command: &[&str]| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let reply = raw.call(command);
            if !reply.starts_with("-TRYAGAIN") || Instant::now() > deadline {
                return reply;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let mut again = Raw::connect(cluster.address(new_owner));
    assert_eq!(retried(&mut again, &["SSUBSCRIBE", "news"]), confirmation("ssubscribe", "news", 1));
    let mut publisher = Raw::connect(cluster.address(new_owner));
    assert_eq!(retried(&mut publisher, &["SPUBLISH", "news", "hello"]), ":1\r\n");
    assert_eq!(again.reply(), "*3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
}
