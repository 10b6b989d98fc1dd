//! Crash safety: many clients write while the node is killed with SIGKILL at a random moment;
//! after a restart every acknowledged write is there and nothing that was never sent appears.

mod common;

use common::Server;
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WRITERS: usize = 12;
const KEYS_PER_WRITER: u64 = 8;
const ROUNDS: usize = 3;

/// What one writer sent and what was acknowledged, per key: sequence numbers.
#[derive(Default, Clone)]
struct Ledger {
    /// Highest sequence sent for each key (acknowledged or not).
    sent: BTreeMap<String, u64>,
    /// Highest sequence acknowledged for each key.
    acked: BTreeMap<String, u64>,
    /// INCRs sent and acknowledged on the writer's counter.
    increments_sent: u64,
    increments_acked: u64,
}

fn write_until_failure(
    address: std::net::SocketAddr,
    writer: usize,
    start: u64,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
) {
    let Ok(client) = redis::Client::open(format!("redis://{address}/")) else { return };
    let Ok(mut con) = client.get_connection_with_timeout(Duration::from_secs(5)) else { return };
    let _ = con.set_read_timeout(Some(Duration::from_secs(10)));
    let mut sequence = start;
    while !stop.load(Ordering::Relaxed) {
        sequence += 1;
        let key = format!("w{writer}:k{}", sequence % KEYS_PER_WRITER);
        ledger.lock().unwrap().sent.insert(key.clone(), sequence);
        let result: redis::RedisResult<String> =
            redis::cmd("SET").arg(&key).arg(format!("w{writer}-{sequence}")).query(&mut con);
        match result {
            Ok(reply) if reply == "OK" => {
                ledger.lock().unwrap().acked.insert(key, sequence);
            }
            _ => return,
        }
        ledger.lock().unwrap().increments_sent += 1;
        let counted: redis::RedisResult<i64> = redis::cmd("INCR").arg(format!("w{writer}:counter")).query(&mut con);
        match counted {
            Ok(_) => ledger.lock().unwrap().increments_acked += 1,
            Err(_) => return,
        }
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let mut server = Server::start();
    let ledgers: Vec<Arc<Mutex<Ledger>>> = (0..WRITERS).map(|_| Arc::new(Mutex::new(Ledger::default()))).collect();
    let mut rng = rand::rng();
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (ledger, stop, address) = (ledgers[writer].clone(), stop.clone(), server.address);
                // Sequences keep growing across rounds, so values are never reused.
                let start = (round as u64) * 1_000_000_000;
                std::thread::spawn(move || write_until_failure(address, writer, start, ledger, stop))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.random_range(300..1500)));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for handle in handles {
            handle.join().unwrap();
        }
        server.restart();
        verify(&server, &ledgers);
    }
    let acked: usize = ledgers.iter().map(|l| l.lock().unwrap().acked.len()).sum();
    assert!(acked > 0, "no write was acknowledged: the test proved nothing");
}

fn verify(server: &Server, ledgers: &[Arc<Mutex<Ledger>>]) {
    let mut con = server.connect();
    for (writer, ledger) in ledgers.iter().enumerate() {
        let ledger = ledger.lock().unwrap().clone();
        for (key, &sent) in &ledger.sent {
            let value: Option<String> = redis::cmd("GET").arg(key).query(&mut con).unwrap();
            let acked = ledger.acked.get(key).copied();
            match value {
                None => assert!(acked.is_none(), "{key}: acknowledged write {acked:?} lost"),
                Some(value) => {
                    let (owner, sequence) = value.split_once('-').expect("value format");
                    let sequence: u64 = sequence.parse().unwrap();
                    assert_eq!(owner, format!("w{writer}"), "{key}: value from another writer");
                    assert!(sequence <= sent, "{key}: value {sequence} was never sent (last sent {sent})");
                    assert_eq!(
                        format!("w{writer}:k{}", sequence % KEYS_PER_WRITER),
                        *key,
                        "{key}: value of another key"
                    );
                    assert!(
                        acked.is_none_or(|acked| sequence >= acked),
                        "{key}: acknowledged {acked:?} lost, found {sequence}"
                    );
                }
            }
        }
        let counter: Option<u64> = redis::cmd("GET").arg(format!("w{writer}:counter")).query(&mut con).unwrap();
        let counter = counter.unwrap_or(0);
        assert!(
            counter >= ledger.increments_acked,
            "writer {writer}: {} increments acknowledged, counter {counter}",
            ledger.increments_acked
        );
        assert!(
            counter <= ledger.increments_sent,
            "writer {writer}: counter {counter} exceeds {} increments sent",
            ledger.increments_sent
        );
    }
}
