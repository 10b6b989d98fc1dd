//! All checks over one run, and the report a person reads.

use crate::converge::{self, Divergence, Replica};
use crate::history::Value;
use crate::history::{History, Outcome};
use crate::linearizable::{self, KeyVerdict};
use crate::lost::{self, Problem};
use crate::placement;
use crate::pubsub;
use crate::queue;
use crate::stream;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Clone, Debug, Default)]
pub struct Verdict {
    pub linearizability: Vec<KeyVerdict>,
    pub lost: Vec<Problem>,
    pub queue: Vec<queue::Problem>,
    pub stream: Vec<stream::Problem>,
    /// Pub/Sub's delivery rule (filled by the simulator, whose clients record a Pub/Sub
    /// history: see [`pubsub::check`]).
    pub pubsub: Vec<pubsub::Problem>,
    pub divergence: Vec<Divergence>,
    /// Slots owned once and keys only where the map puts them, once slot moves are over
    /// (filled by the simulator: see [`placement::check`]).
    pub placement: Vec<placement::Problem>,
}

impl Verdict {
    /// No violation of any kind, and every check conclusive.
    pub fn passed(&self) -> bool {
        self.linearizability.is_empty()
            && self.lost.is_empty()
            && self.queue.is_empty()
            && self.stream.is_empty()
            && self.pubsub.is_empty()
            && self.divergence.is_empty()
            && self.placement.is_empty()
    }

    pub fn violations(&self) -> usize {
        let nonlinear = self.linearizability.iter().filter(|v| matches!(v, KeyVerdict::Violation(_))).count();
        nonlinear
            + self.lost.len()
            + self.queue.len()
            + self.stream.len()
            + self.pubsub.len()
            + self.divergence.len()
            + self.placement.len()
    }

    /// The findings, one paragraph each ("no violations" when there are none).
    pub fn describe(&self, history: &History) -> String {
        let mut text = String::new();
        for verdict in &self.linearizability {
            match verdict {
                KeyVerdict::Violation(violation) => text.push_str(&violation.describe(history)),
                KeyVerdict::Inconclusive { key, operations } => {
                    let _ = writeln!(
                        text,
                        "key {key:?}: linearizability search gave up after {} steps ({operations} operations)",
                        linearizable::SEARCH_STEPS_MAX
                    );
                }
                KeyVerdict::Linearizable => {}
            }
        }
        for problem in &self.lost {
            let _ = writeln!(text, "{problem}");
        }
        for problem in &self.queue {
            let _ = writeln!(text, "{problem}");
        }
        for problem in &self.stream {
            let _ = writeln!(text, "{problem}");
        }
        for problem in &self.pubsub {
            let _ = writeln!(text, "{problem}");
        }
        for divergence in &self.divergence {
            let _ = writeln!(text, "{divergence}");
        }
        for problem in &self.placement {
            let _ = writeln!(text, "{problem}");
        }
        if text.is_empty() {
            text.push_str("no violations\n");
        }
        text
    }
}

/// Runs every checker: linearizability of each key, lost writes, the lists' queue checks and
/// the streams' checks against the final values (the reply of each key's [`final_read`](crate::workload::final_read)),
/// convergence of the replicas.
pub fn check_all(history: &History, finals: &BTreeMap<String, Value>, replicas: &[Replica]) -> Verdict {
    Verdict {
        linearizability: linearizable::check(history),
        lost: lost::check(history, finals),
        queue: queue::check(history, finals),
        stream: stream::check(history, finals),
        pubsub: Vec::new(),
        divergence: converge::check(replicas),
        placement: Vec::new(),
    }
}

/// Counts of outcomes: (done, failed, unknown).
pub fn tally(history: &History) -> (usize, usize, usize) {
    (
        history.count(|o| matches!(o, Outcome::Done(_))),
        history.count(|o| matches!(o, Outcome::Failed(_))),
        history.count(|o| matches!(o, Outcome::Unknown(_))),
    )
}
