//! What a node takes from the world it runs in: the network, the disk, the clock and a seed
//! for every random choice. A real node gets the machine's; the simulator gives each node a
//! simulated network and disk, simulated time and a seed derived from the run's seed, so a
//! whole cluster replays exactly.

use concord_core::types::{Clock, TimeMs};
use concord_storage::{Fs, StdFs};
use concord_transport::{Net, TokioNet};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> TimeMs {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as TimeMs)
    }

    fn now_us(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
    }
}

/// Deliberate defects, for proving that the simulator's checkers catch what they should. Never
/// settable from configuration: only a test can build a node with one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Defects {
    /// Followers answer reads from their own state as if they were linearizable.
    pub follower_reads: bool,
    /// `PUBLISH` delivers on its own node only (the other nodes count 0, as if unreachable).
    pub pubsub_local_only: bool,
    /// A node delivers every message another node relays to it twice.
    pub pubsub_twice: bool,
    /// A slot move that ends drops nothing: the source keeps its keys of the slots it handed
    /// over, the target its copies of a move given up.
    pub move_leftovers: bool,
}

#[derive(Clone)]
pub struct Env {
    pub net: Arc<dyn Net>,
    pub fs: Arc<dyn Fs>,
    pub clock: Arc<dyn Clock>,
    /// Seeds the node's random choices: its id on first start, election timeouts, the
    /// generators behind RANDOMKEY and HRANDFIELD.
    pub seed: u64,
    /// Everything runs on one thread (the simulator's): no helper threads, blocking file work
    /// done in place, no file locks.
    pub simulated: bool,
    pub defects: Defects,
}

impl Env {
    /// The machine's network, disk and clock, and a seed from the OS.
    pub fn real() -> Env {
        Env {
            net: Arc::new(TokioNet),
            fs: StdFs::shared(),
            clock: Arc::new(SystemClock),
            seed: rand::random(),
            simulated: false,
            defects: Defects::default(),
        }
    }

    /// Runs blocking file work: on a blocking thread, or in place when simulated.
    pub async fn blocking<R: Send + 'static>(&self, work: impl FnOnce() -> R + Send + 'static) -> R {
        if self.simulated {
            work()
        } else {
            tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        }
    }
}
