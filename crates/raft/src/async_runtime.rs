//! The async runtime openraft runs on: tokio, with openraft's random numbers drawn from a
//! seed Concord controls instead of the thread's OS-seeded generator, so a simulation that
//! fixes the seed replays the same run, and with its long sleeps aligned to a grid.
//!
//! Each group's openraft runs a tick every 1.5 heartbeat intervals, and a leader sends its
//! heartbeats on a tick. Left alone, the ticks of a node's groups fall at scattered moments and
//! each wakes the node on its own: 64 groups made ~600 wake-ups a second, most of an idle
//! node's CPU. Rounded up to a common grid, they fire together, and the heartbeats of all the
//! groups a node leads leave for each peer in one write.

use openraft::async_runtime::TokioOneShotSender;
use openraft::{AsyncRuntime, OptionalSend};
use rand08::SeedableRng;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::time::Instant;

/// Sleeps at least this long are aligned: openraft's ticks, not its short backoffs.
const ALIGN_SLEEPS_FROM_MS: u64 = 120;
/// The grid long sleeps end on; each ends up to this much later than asked.
const ALIGN_GRID_US: u128 = 25_000;
const _: () =
    assert!(ALIGN_GRID_US < ALIGN_SLEEPS_FROM_MS as u128 * 1000 / 4, "a tick stays within a quarter of its interval");

/// The grid's origin: the first aligned sleep's start, one per process.
static GRID_ORIGIN: OnceLock<Instant> = OnceLock::new();
/// Off unless a node turns it on: in a simulation every host has a clock of its own, which one
/// process-wide origin would tie to the moment each host's clock was made, not to the seed.
static ALIGN_SLEEPS: AtomicBool = AtomicBool::new(false);

/// Aligns openraft's long sleeps from now on (a node on real clocks does).
pub fn align_sleeps(enabled: bool) {
    ALIGN_SLEEPS.store(enabled, Ordering::Relaxed);
}

/// `deadline`, moved up to the next point of the grid if it is far enough off.
fn aligned(deadline: Instant) -> Instant {
    let now = Instant::now();
    if !ALIGN_SLEEPS.load(Ordering::Relaxed)
        || deadline.saturating_duration_since(now) < Duration::from_millis(ALIGN_SLEEPS_FROM_MS)
    {
        return deadline;
    }
    let origin = *GRID_ORIGIN.get_or_init(|| now);
    let since_us = deadline.saturating_duration_since(origin).as_micros();
    let grid_us = since_us.div_ceil(ALIGN_GRID_US) * ALIGN_GRID_US;
    origin + Duration::from_micros(grid_us as u64)
}

/// Where the next generator's seed comes from. Drawn in a fixed order in a simulation (one
/// thread), so the draws are reproducible; a real node seeds it once from the OS.
static NEXT_SEED: AtomicU64 = AtomicU64::new(0x5eed_c0de_c0c0_4d00);

/// Seeds every generator openraft asks for from now on.
pub fn seed(seed: u64) {
    NEXT_SEED.store(seed, Ordering::Relaxed);
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeededTokio;

impl AsyncRuntime for SeededTokio {
    type JoinError = tokio::task::JoinError;
    type JoinHandle<T: OptionalSend + 'static> = tokio::task::JoinHandle<T>;
    type Sleep = tokio::time::Sleep;
    type Instant = Instant;
    type TimeoutError = tokio::time::error::Elapsed;
    type Timeout<R, T: Future<Output = R> + OptionalSend> = tokio::time::Timeout<T>;
    type ThreadLocalRng = rand08::rngs::StdRng;
    type OneshotSender<T: OptionalSend> = TokioOneShotSender<T>;
    type OneshotReceiver<T: OptionalSend> = tokio::sync::oneshot::Receiver<T>;
    type OneshotReceiverError = tokio::sync::oneshot::error::RecvError;

    fn spawn<T>(future: T) -> Self::JoinHandle<T::Output>
    where
        T: Future + OptionalSend + 'static,
        T::Output: OptionalSend + 'static,
    {
        tokio::task::spawn(future)
    }

    fn sleep(duration: Duration) -> Self::Sleep {
        tokio::time::sleep_until(aligned(Instant::now() + duration))
    }

    fn sleep_until(deadline: Self::Instant) -> Self::Sleep {
        tokio::time::sleep_until(aligned(deadline))
    }

    fn timeout<R, F: Future<Output = R> + OptionalSend>(duration: Duration, future: F) -> Self::Timeout<R, F> {
        tokio::time::timeout(duration, future)
    }

    fn timeout_at<R, F: Future<Output = R> + OptionalSend>(deadline: Self::Instant, future: F) -> Self::Timeout<R, F> {
        tokio::time::timeout_at(deadline, future)
    }

    fn is_panic(join_error: &Self::JoinError) -> bool {
        join_error.is_panic()
    }

    fn thread_rng() -> Self::ThreadLocalRng {
        // Each generator gets the next value of a SplitMix64 sequence as its seed.
        let seed = NEXT_SEED.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        rand08::rngs::StdRng::seed_from_u64(concord_core::rng::Rng::new(seed).next_u64())
    }

    fn oneshot<T>() -> (Self::OneshotSender<T>, Self::OneshotReceiver<T>)
    where
        T: OptionalSend,
    {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        (TokioOneShotSender(sender), receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn long_sleeps_end_together_on_the_grid_and_short_ones_as_asked() {
        align_sleeps(true);
        let start = Instant::now();
        let first = aligned(start + Duration::from_millis(150));
        assert!(first >= start + Duration::from_millis(150));
        for offset_ms in [3, 11, 17, 24] {
            tokio::time::advance(Duration::from_millis(offset_ms)).await;
            let later = aligned(Instant::now() + Duration::from_millis(150));
            let grid = Duration::from_micros(ALIGN_GRID_US as u64);
            assert!(later >= Instant::now() + Duration::from_millis(150));
            assert!(later < Instant::now() + Duration::from_millis(150) + grid);
            assert_eq!((later - first).as_micros() % ALIGN_GRID_US, 0, "on the same grid");
        }
        let short = Instant::now() + Duration::from_millis(50);
        assert_eq!(aligned(short), short);
    }
}
