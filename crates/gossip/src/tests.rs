use super::swarm::{node_id, Swarm};
use super::*;

fn n(k: u64) -> NodeId {
    node_id(k)
}

fn options() -> GossipOptions {
    GossipOptions::default()
}

#[test]
fn every_node_learns_every_other_through_one_seed() {
    for seed in 0..5 {
        let mut swarm = Swarm::new(16, seed, 1, options());
        let when = swarm.run_until_true(10_000, |s| {
            s.running().all(|a| s.running().all(|b| a == b || s.health(a, b) == Some(Health::Alive)))
        });
        assert!(when.is_some(), "seed {seed}: the view did not converge in 10 s");
    }
}

#[test]
fn a_crashed_node_is_suspected_then_down_everywhere_and_a_restart_is_alive_again() {
    let mut swarm = Swarm::new(8, 7, 1, options());
    swarm.run_until(5_000);
    assert!(swarm.all_say(n(5), Health::Alive));
    swarm.crash(n(5));
    let suspected = swarm.run_until_true(5_000, |s| s.running().any(|id| s.health(id, n(5)) == Some(Health::Suspect)));
    assert!(suspected.is_some(), "no one suspected the crashed node");
    let crashed_at = 5_000;
    let down = swarm.run_until_true(20_000, |s| s.all_say(n(5), Health::Down)).expect("declared down everywhere");
    let took = down - crashed_at;
    let options = options();
    assert!(took >= options.suspect_to_down_ms, "down after {took} ms, before the suspicion ran out");
    swarm.restart(n(5), n(1));
    assert!(
        swarm.run_until_true(10_000, |s| s.all_say(n(5), Health::Alive)).is_some(),
        "the restarted node is alive again everywhere"
    );
    assert!(swarm.nodes[&n(1)].health().keys().all(|id| (1..=8).any(|k| n(k) == *id)), "no phantom members");
}

#[test]
fn a_slow_but_alive_node_refutes_suspicion_and_is_never_down() {
    // Delivery so slow (300 ms each way) that direct and indirect probes both miss the probe
    // period: suspicion follows, and the suspect must refute it each time rather than be
    // declared down.
    let mut swarm = Swarm::new(5, 3, 300, options());
    let (mut ever_down, mut ever_suspect) = (false, false);
    for _ in 0..2_000 {
        swarm.run_until(swarm.now_ms + 10);
        let said =
            |health| swarm.running().any(|a| swarm.running().any(|b| a != b && swarm.health(a, b) == Some(health)));
        ever_down |= said(Health::Down);
        ever_suspect |= said(Health::Suspect);
    }
    assert!(ever_suspect, "the slow links caused no suspicion: the test proves nothing");
    assert!(!ever_down, "a live node was declared down");
}

#[test]
fn the_newest_epoch_reaches_every_node_with_its_holder() {
    let mut swarm = Swarm::new(12, 11, 1, options());
    swarm.run_until(5_000);
    swarm.with(n(3), |g| g.applied_epoch(41));
    swarm.with(n(7), |g| g.applied_epoch(42));
    swarm.with(n(9), |g| g.applied_epoch(40));
    let spread = swarm.run_until_true(5_000, |s| {
        s.running().all(|id| s.nodes[&id].newest_epoch() == Some(EpochHint { epoch: 42, holder: n(7) }))
    });
    assert!(spread.is_some(), "epoch 42 did not reach everyone");
}

#[test]
fn a_forgotten_member_is_down_and_damaged_packets_are_refused() {
    let mut swarm = Swarm::new(4, 5, 1, options());
    swarm.run_until(3_000);
    swarm.with(n(1), |g| g.forget(n(4)));
    assert_eq!(swarm.health(n(1), n(4)), Some(Health::Down));
    let mut gossip = Gossip::new(n(9), 1, 1, &options());
    assert!(gossip.receive(b"not a packet").is_err());
    assert!(gossip.receive(&[0u8; PACKET_BYTES_MAX + 1]).is_err());
    assert_eq!(gossip.packets_refused, 2);
}

#[test]
fn same_seed_same_run() {
    let run = |seed| {
        let mut swarm = Swarm::new(10, seed, 2, options());
        swarm.run_until(4_000);
        swarm.crash(n(2));
        swarm.run_until(12_000);
        swarm.nodes.values().map(|g| (g.bytes_sent(), g.packets_received)).collect::<Vec<_>>()
    };
    assert_eq!(run(4), run(4));
    assert_ne!(run(4), run(5));
}
