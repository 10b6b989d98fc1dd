//! Writers that remember what they sent and what was acknowledged, and the check that every
//! acknowledged write survived and nothing unsent appeared.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const KEYS_PER_WRITER: u64 = 8;

/// What one writer sent and what was acknowledged.
#[derive(Default, Clone, Debug)]
pub struct Ledger {
    /// Highest sequence sent for each key (acknowledged or not).
    pub sent: BTreeMap<String, u64>,
    /// Highest sequence acknowledged for each key.
    pub acked: BTreeMap<String, u64>,
    pub increments_sent: u64,
    pub increments_acked: u64,
    /// When writes failed, and when they next succeeded: outages seen by this writer.
    pub failures: u64,
}

/// Shared state of a set of writers.
pub struct Writers {
    pub ledgers: Vec<Arc<Mutex<Ledger>>>,
    pub stop: Arc<AtomicBool>,
    /// Milliseconds since `started` of the most recent acknowledged write.
    pub last_ack_ms: Arc<AtomicU64>,
    pub started: Instant,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Writers {
    /// Starts `count` writers spread over `nodes`; each moves to the next node when its node
    /// fails it. Sequences start after `start` so values are never reused across runs.
    pub fn start(
        count: usize,
        nodes: Vec<SocketAddr>,
        start: u64,
        ledgers: Option<Vec<Arc<Mutex<Ledger>>>>,
    ) -> Writers {
        let ledgers = ledgers.unwrap_or_else(|| (0..count).map(|_| Arc::default()).collect());
        let stop = Arc::new(AtomicBool::new(false));
        let last_ack_ms = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let handles = (0..count)
            .map(|writer| {
                let (ledger, stop, nodes, last_ack_ms) =
                    (ledgers[writer].clone(), stop.clone(), nodes.clone(), last_ack_ms.clone());
                std::thread::spawn(move || write(writer, nodes, start, ledger, stop, last_ack_ms, started))
            })
            .collect();
        Writers { ledgers, stop, last_ack_ms, started, handles }
    }

    pub fn stop(self) -> Vec<Arc<Mutex<Ledger>>> {
        self.stop.store(true, Ordering::Relaxed);
        for handle in self.handles {
            handle.join().unwrap();
        }
        self.ledgers
    }

    pub fn acked(&self) -> usize {
        self.ledgers.iter().map(|l| l.lock().unwrap().acked.len()).sum()
    }
}

fn write(
    writer: usize,
    nodes: Vec<SocketAddr>,
    start: u64,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    last_ack_ms: Arc<AtomicU64>,
    started: Instant,
) {
    let mut sequence = start;
    let mut node = writer % nodes.len();
    let mut connection: Option<redis::Connection> = None;
    while !stop.load(Ordering::Relaxed) {
        let con = match connection.as_mut() {
            Some(con) => con,
            None => {
                let client = redis::Client::open(format!("redis://{}/", nodes[node])).unwrap();
                match client.get_connection_with_timeout(Duration::from_millis(500)) {
                    Ok(con) => {
                        let _ = con.set_read_timeout(Some(Duration::from_secs(15)));
                        connection.insert(con)
                    }
                    Err(_) => {
                        node = (node + 1) % nodes.len();
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                }
            }
        };
        sequence += 1;
        let key = format!("w{writer}:k{}", sequence % KEYS_PER_WRITER);
        ledger.lock().unwrap().sent.insert(key.clone(), sequence);
        let result: redis::RedisResult<String> =
            redis::cmd("SET").arg(&key).arg(format!("w{writer}-{sequence}")).query(con);
        let acked = matches!(&result, Ok(reply) if reply == "OK");
        if acked {
            ledger.lock().unwrap().acked.insert(key, sequence);
            last_ack_ms.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
            ledger.lock().unwrap().increments_sent += 1;
            if redis::cmd("INCR").arg(format!("w{writer}:counter")).query::<i64>(con).is_ok() {
                ledger.lock().unwrap().increments_acked += 1;
                continue;
            }
        }
        // A failure: an error reply or a broken connection. Try the next node.
        ledger.lock().unwrap().failures += 1;
        connection = None;
        node = (node + 1) % nodes.len();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Checks that every acknowledged write is visible through `con` and nothing unsent is.
pub fn verify(con: &mut redis::Connection, ledgers: &[Arc<Mutex<Ledger>>]) {
    for (writer, ledger) in ledgers.iter().enumerate() {
        let ledger = ledger.lock().unwrap().clone();
        for (key, &sent) in &ledger.sent {
            let value: Option<String> = redis::cmd("GET").arg(key).query(con).unwrap();
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
        let counter: Option<u64> = redis::cmd("GET").arg(format!("w{writer}:counter")).query(con).unwrap();
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
