//! What a verification run saw: outcomes, the checkers' verdict, and how available the cluster
//! stayed under the faults.

use crate::driver::{shard_of, ShardView};
use crate::nemesis::FaultEvent;
use concord_check::converge::Replica;
use concord_check::history::{History, Operation, Outcome};
use concord_check::Verdict;
use std::collections::BTreeMap;
use std::fmt;

/// Availability is judged in slices of this length: a slice counts as available if some write
/// completed successfully in it.
pub const SLICE_MS: u64 = 250;

pub struct Report {
    pub nodes: usize,
    /// The data shards as the cluster's map showed them at the end.
    pub shards: Vec<ShardView>,
    pub clients: usize,
    /// The workload ran from `start_ms` to `end_ms` (Unix ms); faults stopped at `healed_ms`.
    pub start_ms: u64,
    pub healed_ms: u64,
    pub end_ms: u64,
    pub history: History,
    pub faults: Vec<FaultEvent>,
    pub verdict: Verdict,
    /// What each replica of each group reported at the end.
    pub replicas: Vec<Replica>,
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

/// The shard an operation's key lives in (every command of a call names one key).
fn shard_of_op(shards: &[ShardView], op: &Operation) -> Option<u32> {
    op.call.commands().first().and_then(|command| shard_of(shards, command.key()))
}

/// For each fault that took leaders away: the time from the fault until every shard it took
/// the leader of had a successful write issued after it (the slowest shard's failover). A
/// shard that never got one again is left out (the liveness check reports a stalled cluster).
pub fn failover_times_ms(history: &History, faults: &[FaultEvent], shards: &[ShardView]) -> Vec<u64> {
    faults
        .iter()
        .filter(|fault| !fault.leader_of.is_empty())
        .filter_map(|fault| {
            let first_write_ms = |shard: u32| {
                history
                    .ops
                    .iter()
                    .filter(|op| op.invoked_us / 1000 >= fault.start_ms)
                    .filter(|op| !op.call.is_read_only() && matches!(op.outcome, Outcome::Done(_)))
                    .filter(|op| shard_of_op(shards, op) == Some(shard))
                    .map(|op| op.completed_us / 1000 - fault.start_ms)
                    .min()
            };
            fault.leader_of.iter().filter_map(|shard| first_write_ms(*shard)).max()
        })
        .collect()
}

/// Per shard: (operations, of which done), in shard order.
pub fn operations_per_shard(history: &History, shards: &[ShardView]) -> BTreeMap<u32, (usize, usize)> {
    let mut counts: BTreeMap<u32, (usize, usize)> = shards.iter().map(|shard| (shard.group, (0, 0))).collect();
    for op in &history.ops {
        if let Some(count) = shard_of_op(shards, op).and_then(|shard| counts.get_mut(&shard)) {
            count.0 += 1;
            count.1 += usize::from(matches!(op.outcome, Outcome::Done(_)));
        }
    }
    counts
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
            "{} nodes, {} shards, {} clients, {:.1} s ({:.1} s of faults): {} operations: {done} ok, {failed} failed, {unknown} unknown",
            self.nodes,
            self.shards.len(),
            self.clients,
            seconds(self.end_ms - self.start_ms),
            seconds(self.healed_ms - self.start_ms),
            self.history.ops.len()
        )?;
        let per_shard: Vec<String> = operations_per_shard(&self.history, &self.shards)
            .into_iter()
            .map(|(shard, (operations, ok))| format!("shard {shard}: {operations} ({ok} ok)"))
            .collect();
        if !per_shard.is_empty() {
            writeln!(f, "operations per shard: {}", per_shard.join(", "))?;
        }
        writeln!(f, "faults ({}):", self.faults.len())?;
        for fault in &self.faults {
            writeln!(
                f,
                "  +{:>7.1} s  {}{}",
                seconds(fault.start_ms - self.start_ms),
                fault.description,
                if fault.leader_of.is_empty() {
                    String::new()
                } else {
                    let shards: Vec<String> = fault.leader_of.iter().map(u32::to_string).collect();
                    format!(" [leader of shard {}]", shards.join(","))
                }
            )?;
        }
        let groups: std::collections::BTreeSet<u32> = self.replicas.iter().map(|replica| replica.group).collect();
        writeln!(
            f,
            "convergence: {} replicas of {} groups compared (the metadata group on every node, each shard among its replicas): {} findings",
            self.replicas.len(),
            groups.len(),
            self.verdict.divergence.len()
        )?;
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
        let mut failovers = failover_times_ms(&self.history, &self.faults, &self.shards);
        failovers.sort_unstable();
        if failovers.is_empty() {
            writeln!(f, "failover times: no fault took a shard's leader away")?;
        } else {
            writeln!(
                f,
                "failover times (fault to a successful write in each shard it took the leader of, {} leader faults): median {} ms, max {} ms, all {:?}",
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
            shards: Vec::new(),
            clients: 1,
            start_ms: 1_000,
            healed_ms: 2_000,
            end_ms: 3_000,
            history,
            faults: Vec::new(),
            verdict,
            replicas: Vec::new(),
            liveness: Vec::new(),
        };
        assert!(!report.passed());
        let text = report.to_string();
        assert!(text.contains("lost writes: 1") && text.ends_with("FAILED"), "{text}");
    }

    #[test]
    fn failover_waits_for_every_shard_the_fault_took_the_leader_of() {
        use crate::run::FaultKind;
        use concord_check::history::{Call, Command, Value};
        // "bar" is in slot 5061 (shard 1), "foo" in 12182 (shard 2).
        let shard = |group: u32, ranges: Vec<(u16, u16)>| ShardView { group, ranges, hosts: Vec::new(), leader: None };
        let shards = [shard(1, vec![(0, 8191)]), shard(2, vec![(8192, 16383)])];
        let mut history = History::default();
        let set = |key: &str| Call::One(Command::Set { key: key.into(), value: "1".into(), px_ms: None });
        let ok = Outcome::Done(vec![Value::Ok]);
        history.push(0, set("bar"), 10_100_000, 10_200_000, ok.clone());
        history.push(1, set("foo"), 10_100_000, 11_500_000, ok.clone());
        history.push(1, set("foo"), 11_600_000, 11_700_000, Outcome::Unknown("timeout".into()));
        let fault = |leader_of: Vec<u32>| FaultEvent {
            kind: FaultKind::Kill,
            description: String::new(),
            start_ms: 10_000,
            end_ms: 12_000,
            leader_of,
        };
        let faults = [fault(vec![1]), fault(vec![1, 2]), fault(Vec::new())];
        assert_eq!(failover_times_ms(&history, &faults, &shards), [200, 1_500]);
        let counts = operations_per_shard(&history, &shards);
        assert_eq!(counts, BTreeMap::from([(1, (1, 1)), (2, (2, 1))]));
    }
}
