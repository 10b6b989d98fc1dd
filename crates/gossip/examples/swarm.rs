//! Gossip yardsticks on simulated time: how long until every node marks a crashed one `fail`,
//! and how many bytes of gossip each node sends per second.
//!
//! `cargo run --release -p concord-gossip --example swarm -- 5 64`

use concord_gossip::swarm::{node_id, Swarm};
use concord_gossip::{GossipOptions, Health};

fn main() {
    let sizes: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("a cluster size")).collect();
    let sizes = if sizes.is_empty() { vec![5, 64] } else { sizes };
    println!("nodes  seed  bytes/s/node  suspected_ms  all_fail_ms");
    for size in sizes {
        for seed in 0..3 {
            let mut swarm = Swarm::new(size, seed, 1, GossipOptions::default());
            swarm.run_until(20_000);
            let before: u64 = swarm.nodes.values().map(|g| g.bytes_sent()).sum();
            swarm.run_until(80_000);
            let after: u64 = swarm.nodes.values().map(|g| g.bytes_sent()).sum();
            let per_node = (after - before) as f64 / 60.0 / size as f64;
            let victim = node_id(size);
            let crashed = swarm.now_ms;
            swarm.crash(victim);
            let suspected = swarm
                .run_until_true(60_000, |s| s.running().any(|id| s.health(id, victim) == Some(Health::Suspect)))
                .map_or(-1, |t| (t - crashed) as i64);
            let failed =
                swarm.run_until_true(120_000, |s| s.all_say(victim, Health::Down)).map_or(-1, |t| (t - crashed) as i64);
            println!("{size:>5}  {seed:>4}  {per_node:>12.0}  {suspected:>12}  {failed:>11}");
        }
    }
}
