//! Crash safety: many clients write while the node is killed with SIGKILL at a random moment;
//! after a restart every acknowledged write is there and nothing that was never sent appears.

mod common;

use common::ledger::{verify, Writers};
use common::Server;
use rand::Rng;
use std::time::Duration;

const WRITERS: usize = 12;
const ROUNDS: u64 = 3;

#[test]
fn acknowledged_writes_survive_kill_9() {
    kill_and_restart_under_load(&[]);
}

/// The same with consensus and log writes on threads of their own (a writer thread that
/// batches and fsyncs, rather than each batch fsynced in the task that appends it).
#[test]
fn acknowledged_writes_survive_kill_9_with_a_consensus_thread() {
    kill_and_restart_under_load(&["--consensus-thread"]);
}

fn kill_and_restart_under_load(extra: &[&str]) {
    let mut server = Server::start_with(extra);
    let mut ledgers = None;
    let mut rng = rand::rng();
    for round in 0..ROUNDS {
        // Sequences keep growing across rounds, so values are never reused.
        let writers = Writers::start(WRITERS, vec![server.address], round * 1_000_000_000, ledgers.take());
        std::thread::sleep(Duration::from_millis(rng.random_range(300..1500)));
        server.kill();
        let done = writers.stop();
        server.restart();
        verify(&mut server.connect(), &done);
        ledgers = Some(done);
    }
    let acked: usize = ledgers.unwrap().iter().map(|l| l.lock().unwrap().acked.len()).sum();
    assert!(acked > 0, "no write was acknowledged: the test proved nothing");
}
