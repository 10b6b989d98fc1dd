//! What a verification run saw: outcomes, the checkers' verdict, and how available the cluster
//! stayed under the faults.

use crate::nemesis::FaultEvent;
use concord_check::history::{History, Outcome};
use concord_check::Verdict;
use std::fmt;

/// Availability is judged in slices of this length: a slice counts as available if some write
/// completed successfully in it.
pub const SLICE_MS: u64 = 250;

pub struct Report {
    pub nodes: usize,
    pub clients: usize,
    /// The workload ran from `start_ms` to `end_ms` (Unix ms); faults stopped at `healed_ms`.
    pub start_ms: u64,
    pub healed_ms: u64,
    pub end_ms: u64,
    pub history: History,
    pub faults: Vec<FaultEvent>,
    pub verdict: Verdict,
    /// Progress the cluster failed to make.
    pub liveness: Vec<String>,
}

/// When successful writes completed, in Unix ms, sorted.
fn write_completions_ms(history: &History) -> Vec<u64> {
    let mut times: Vec<u64> = history
        .ops
        .iter()
        .filter(|op| !op.call.is_read_only() && matches!(op.outcome, Outcome::Done(_)))
        .map(|op| op.completed_us / 1000)
        .collect();
    times.sort_unstable();
    times
}

/// The share of `SLICE_MS` slices of `[start_ms, end_ms)` in which some write succeeded.
pub fn availability(completions_ms: &[u64], start_ms: u64, end_ms: u64) -> f64 {
    let slices = end_ms.saturating_sub(start_ms).div_ceil(SLICE_MS).max(1);
    let mut served: Vec<u64> = completions_ms
        .iter()
        .filter(|&&at| at >= start_ms && at < end_ms)
        .map(|&at| (at - start_ms) / SLICE_MS)
        .collect();
    served.dedup();
    served.len() as f64 / slices as f64
}

/// The longest stretch of `[start_ms, end_ms]` without a successful write, and where it began.
pub fn longest_gap(completions_ms: &[u64], start_ms: u64, end_ms: u64) -> (u64, u64) {
    let mut marks = vec![start_ms];
    marks.extend(completions_ms.iter().copied().filter(|&at| at > start_ms && at < end_ms));
    marks.push(end_ms);
    marks.windows(2).map(|pair| (pair[1] - pair[0], pair[0])).max().unwrap_or((0, start_ms))
}

/// For each fault that took the leader away: the time from the fault to the first successful
/// write issued after it.
pub fn failover_times_ms(history: &History, faults: &[FaultEvent]) -> Vec<u64> {
    faults
        .iter()
        .filter(|fault| fault.hit_leader)
        .filter_map(|fault| {
            history
                .ops
                .iter()
                .filter(|op| op.invoked_us / 1000 >= fault.start_ms)
                .filter(|op| !op.call.is_read_only() && matches!(op.outcome, Outcome::Done(_)))
                .map(|op| op.completed_us / 1000 - fault.start_ms)
                .min()
        })
        .collect()
}

impl Report {
    pub fn passed(&self) -> bool {
        self.verdict.passed() && self.liveness.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (done, failed, unknown) = concord_check::verdict::tally(&self.history);
        let completions = write_completions_ms(&self.history);
        let seconds = |ms: u64| ms as f64 / 1000.0;
        writeln!(
            f,
            "{} nodes, {} clients, {:.1} s ({:.1} s of faults): {} operations: {done} ok, {failed} failed, {unknown} unknown",
            self.nodes,
            self.clients,
            seconds(self.end_ms - self.start_ms),
            seconds(self.healed_ms - self.start_ms),
            self.history.ops.len()
        )?;
        writeln!(f, "faults ({}):", self.faults.len())?;
        for fault in &self.faults {
            writeln!(
                f,
                "  +{:>7.1} s  {}{}",
                seconds(fault.start_ms - self.start_ms),
                fault.description,
                if fault.hit_leader { " [leader]" } else { "" }
            )?;
        }
        let lost = self.verdict.lost.len() + self.verdict.queue.len();
        writeln!(f, "violations: {}; lost writes: {lost}", self.verdict.violations())?;
        write!(f, "{}", self.verdict.describe(&self.history))?;
        writeln!(
            f,
            "availability: writes succeeded in {:.1}% of {SLICE_MS} ms slices under faults, {:.1}% overall",
            100.0 * availability(&completions, self.start_ms, self.healed_ms),
            100.0 * availability(&completions, self.start_ms, self.end_ms)
        )?;
        let (gap_ms, gap_at_ms) = longest_gap(&completions, self.start_ms, self.end_ms);
        writeln!(
            f,
            "longest time without a successful write: {gap_ms} ms (from +{:.1} s)",
            seconds(gap_at_ms - self.start_ms)
        )?;
        let mut failovers = failover_times_ms(&self.history, &self.faults);
        failovers.sort_unstable();
        if failovers.is_empty() {
            writeln!(f, "failover times: no fault took the leader away")?;
        } else {
            writeln!(
                f,
                "failover times (fault to first successful write, {} leader faults): median {} ms, max {} ms, all {:?}",
                failovers.len(),
                failovers[failovers.len() / 2],
                failovers[failovers.len() - 1],
                failovers
            )?;
        }
        for line in &self.liveness {
            writeln!(f, "liveness: {line}")?;
        }
        write!(f, "{}", if self.passed() { "PASSED" } else { "FAILED" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_and_gaps_follow_the_writes() {
        // Writes every 100 ms from 0 to 1000, none from 1000 to 2000.
        let writes: Vec<u64> = (0..10).map(|i| 10_000 + i * 100).collect();
        let share = availability(&writes, 10_000, 12_000);
        assert!((share - 0.5).abs() < 1e-9, "{share}");
        assert_eq!(longest_gap(&writes, 10_000, 12_000), (1_100, 10_900));
        assert_eq!(longest_gap(&[], 0, 500), (500, 0));
    }

    #[test]
    fn a_lost_write_fails_the_report() {
        use concord_check::history::{Call, Command, Value};
        let mut history = History::default();
        let append = Call::One(Command::Append { key: "g0:set:0".into(), value: "1000001;".into() });
        history.push(0, append, 1_000_000, 1_010_000, Outcome::Done(vec![Value::Int(8)]));
        let finals = [("g0:set:0".to_string(), Value::Nil)].into_iter().collect();
        let verdict = concord_check::check_all(&history, &finals, &[]);
        let report = Report {
            nodes: 3,
            clients: 1,
            start_ms: 1_000,
            healed_ms: 2_000,
            end_ms: 3_000,
            history,
            faults: Vec::new(),
            verdict,
            liveness: Vec::new(),
        };
        assert!(!report.passed());
        let text = report.to_string();
        assert!(text.contains("lost writes: 1") && text.ends_with("FAILED"), "{text}");
    }
}
