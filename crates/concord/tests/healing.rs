//! Gossip and self-healing with real processes on loopback: SWIM gossip flags a killed node
//! `fail?` then `fail` in every other node's CLUSTER NODES and clears the flag when it comes
//! back (within the grace, still a member with its replicas); a node killed for good is
//! replaced by the metadata leader (its replicas re-created on the other nodes, the
//! replication factor restored) with no acknowledged write lost, and when it comes back it
//! rejoins the cluster empty; a cluster grows from three nodes to five and shrinks back
//! under load.

mod common;

use common::cluster::TestCluster;
use common::ledger::{verify, Writers};
use std::time::{Duration, Instant};

/// (id, slot ranges, ids of the nodes hosting it, leader)
type DebugShard = (i64, Vec<u16>, Vec<String>, Option<String>);

fn shards(cluster: &TestCluster, i: usize) -> Vec<DebugShard> {
    redis::cmd("DEBUG").arg("SHARDS").query(&mut cluster.connect(i)).unwrap()
}

/// The flags field of `id`'s line in node `i`'s CLUSTER NODES, if it is listed.
fn flags(cluster: &TestCluster, i: usize, id: &str) -> Option<String> {
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut cluster.connect(i)).unwrap();
    nodes.lines().find(|line| line.starts_with(id)).map(|line| line.split(' ').nth(2).unwrap_or("").to_string())
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    started.elapsed()
}

#[test]
fn gossip_flags_a_killed_node_fail_everywhere_and_clears_it_when_it_returns() {
    let mut cluster = TestCluster::start(3, &["--shards", "3"]);
    cluster.wait_for_settled(0);
    let victim = 2;
    let id = cluster.members[victim].id.clone();
    for i in 0..2 {
        let seen = flags(&cluster, i, &id).expect("listed");
        assert!(!seen.contains("fail"), "a live node flagged {seen}");
        wait_until("gossip counts both others alive", Duration::from_secs(20), || {
            cluster.info_field(i, "cluster", "gossip_members_alive") == "2"
        });
    }
    cluster.kill(victim);
    let took = wait_until("both survivors flag the killed node fail", Duration::from_secs(30), || {
        (0..2).all(|i| flags(&cluster, i, &id).is_some_and(|f| f.split(',').any(|flag| flag == "fail")))
    });
    eprintln!("every survivor flagged the killed node `fail` {} ms after kill -9", took.as_millis());
    assert_eq!(cluster.info_field(0, "cluster", "gossip_members_down"), "1");
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut cluster.connect(0)).unwrap();
    assert!(nodes.lines().any(|l| l.starts_with(&id) && l.contains(" disconnected")), "{nodes}");
    // Back within the grace (60 s by default): still a member, its replicas its own again.
    cluster.restart(victim);
    wait_until("the flag clears on every node", Duration::from_secs(30), || {
        (0..3).all(|i| flags(&cluster, i, &id).is_some_and(|f| !f.contains("fail")))
    });
    cluster.wait_for_settled(0);
    let hosted = shards(&cluster, 0).iter().filter(|(_, _, hosts, _)| hosts.contains(&id)).count();
    assert_eq!(hosted, 3, "the node back within the grace keeps its replicas");
}

/// Four nodes, three shards of three replicas: kill -9 one node for good and, after the grace,
/// the metadata leader replaces it. Every shard has three replicas again, none on the dead
/// node, every acknowledged write is there, and the returning node rejoins holding nothing.
#[test]
fn a_node_killed_for_good_is_replaced_and_rejoins_empty_when_it_returns() {
    let mut cluster = TestCluster::start(4, &["--shards", "3", "--replace-dead-after-ms", "3000"]);
    cluster.wait_for_settled(0);
    let mut con = cluster.connect(0);
    let mut pipe = redis::pipe();
    for n in 0..3_000 {
        pipe.cmd("SET").arg(format!("h{n}")).arg(n).ignore();
    }
    pipe.query::<()>(&mut con).unwrap();
    // The victim: a node that is not the metadata leader, hosting a replica of some shard.
    let meta_leader: String = cluster.info_field(0, "cluster", "cluster_metadata_leader");
    let victim = (1..4)
        .find(|&i| {
            let id = &cluster.members[i].id;
            *id != meta_leader && shards(&cluster, 0).iter().any(|(_, _, hosts, _)| hosts.contains(id))
        })
        .expect("a node hosting replicas besides the metadata leader");
    let id = cluster.members[victim].id.clone();
    let survivors: Vec<usize> = (0..4).filter(|&i| i != victim).collect();
    let addresses = survivors.iter().map(|&i| cluster.address(i)).collect();
    let writers = Writers::start(4, addresses, 0, None);
    std::thread::sleep(Duration::from_millis(500));
    cluster.kill(victim);
    let observer = survivors[0];
    let took =
        wait_until("every shard has three replicas again, none on the dead node", Duration::from_secs(90), || {
            let now = shards(&cluster, observer);
            let listed = flags(&cluster, observer, &id).is_some();
            !listed
                && now.iter().all(|(_, _, hosts, leader)| hosts.len() == 3 && !hosts.contains(&id) && leader.is_some())
        });
    eprintln!("replication factor restored {} ms after kill -9 (grace 3000 ms)", took.as_millis());
    cluster.wait_for_settled(observer);
    let acked_during = writers.acked();
    let ledgers = writers.stop();
    assert!(acked_during > 0, "the writers got nothing acknowledged");
    verify(&mut cluster.connect(observer), &ledgers);
    let mut pipe = redis::pipe();
    for n in 0..3_000 {
        pipe.cmd("GET").arg(format!("h{n}"));
    }
    let values: Vec<Option<String>> = pipe.query(&mut cluster.connect(observer)).unwrap();
    for (n, value) in values.iter().enumerate() {
        assert_eq!(value.as_deref(), Some(n.to_string().as_str()), "key h{n}");
    }
    // It comes back: told by its peers' newer map that it was replaced, it rejoins empty.
    cluster.restart(victim);
    wait_until("the returning node is a member again", Duration::from_secs(60), || {
        flags(&cluster, observer, &id).is_some_and(|f| !f.contains("fail"))
    });
    wait_until("the returning node hosts no replica", Duration::from_secs(30), || {
        shards(&cluster, victim).iter().all(|(_, _, hosts, _)| !hosts.contains(&id))
            && cluster.info_field(victim, "keyspace", "db0").is_empty()
    });
    let fetched: u64 = cluster.info_field(victim, "cluster", "gossip_maps_fetched").parse().unwrap();
    assert!(fetched >= 1, "the returning node learned of its removal only from a peer's map");
    // And serves every key (through the shards' leaders).
    let got: Option<String> = redis::cmd("GET").arg("h42").query(&mut cluster.connect(victim)).unwrap();
    assert_eq!(got.as_deref(), Some("42"));
}

/// Grows a cluster of three nodes to five under a write load (the newcomers join and, as a
/// node does by default, the metadata leader rebalances: they get replicas, placed, caught up,
/// promoted, and only then removed from their old nodes), then shrinks it back to three by removing two of the original nodes
/// (each drained before it leaves, then stopped): every acknowledged write and every
/// preloaded key is there once, and the remaining replicas agree.
#[test]
fn a_cluster_grows_from_three_nodes_to_five_and_shrinks_back_under_load() {
    let mut cluster = TestCluster::start(3, &["--shards", "3", "--rebalance-on-join", "true"]);
    cluster.wait_for_settled(0);
    let mut pipe = redis::pipe();
    for n in 0..3_000 {
        pipe.cmd("SET").arg(format!("g{n}")).arg(n).ignore();
    }
    pipe.query::<()>(&mut cluster.connect(0)).unwrap();
    let addresses = (0..3).map(|i| cluster.address(i)).collect();
    let writers = Writers::start(6, addresses, 0, None);
    let (fourth, fifth) = (cluster.add(false), cluster.add(false));
    let newcomers = [cluster.members[fourth].id.clone(), cluster.members[fifth].id.clone()];
    wait_until("the newcomers hold replicas", Duration::from_secs(90), || {
        let now = shards(&cluster, 0);
        let settled = now.iter().all(|(_, _, hosts, leader)| hosts.len() == 3 && leader.is_some());
        settled && newcomers.iter().all(|id| now.iter().any(|(_, _, hosts, _)| hosts.contains(id)))
    });
    cluster.wait_for_settled(fourth);
    for gone in [1, 2] {
        let id = cluster.members[gone].id.clone();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .args(["admin", "--node", &cluster.address(0).to_string(), "remove", &id])
            .output()
            .unwrap();
        assert!(out.status.success(), "concord admin remove: {}", String::from_utf8_lossy(&out.stdout));
        cluster.kill(gone);
    }
    let remaining = [0, fourth, fifth];
    wait_until("every shard on the three remaining nodes", Duration::from_secs(60), || {
        let ids: Vec<&String> = remaining.iter().map(|&i| &cluster.members[i].id).collect();
        shards(&cluster, 0)
            .iter()
            .all(|(_, _, hosts, leader)| hosts.len() == 3 && hosts.iter().all(|h| ids.contains(&h)) && leader.is_some())
    });
    assert!(writers.acked() > 0, "the writers got nothing acknowledged");
    let ledgers = writers.stop();
    verify(&mut cluster.connect(fourth), &ledgers);
    let mut pipe = redis::pipe();
    for n in 0..3_000 {
        pipe.cmd("GET").arg(format!("g{n}"));
    }
    let values: Vec<Option<String>> = pipe.query(&mut cluster.connect(fifth)).unwrap();
    for (n, value) in values.iter().enumerate() {
        assert_eq!(value.as_deref(), Some(n.to_string().as_str()), "key g{n}");
    }
    cluster.converged_digest();
}
