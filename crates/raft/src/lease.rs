//! Leader leases: letting a leader answer linearizable reads from its own state, without a
//! round of messages per read, while a majority has recently confirmed its leadership.
//!
//! Each append (heartbeats included) that a voter accepts proves that the voter acknowledged
//! this leader's term at some moment after the request was *sent*. A voter that acknowledged
//! the leader at time t supports no other candidate until it has heard nothing for the
//! election lease (see [`crate::election`]), and openraft's own vote lease refuses votes for as
//! long. So no other leader can exist before `t + lease` — measured on the voters' clocks.
//!
//! The clock assumption: monotonic clocks on the nodes advance at rates within
//! [`DRIFT_PERCENT`] of each other over a lease (a few hundred milliseconds). A leader
//! therefore trusts its lease only until `sent + lease × (100 − DRIFT_PERCENT) / 100`, where
//! `sent` is the latest send time a majority (in every configuration of a joint membership)
//! has acknowledged. Past that it falls back to a read barrier (openraft's
//! `ensure_linearizable`).

use concord_core::types::NodeId;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;

/// Clock-rate difference tolerated between nodes, in percent.
pub const DRIFT_PERCENT: u64 = 20;

#[derive(Default)]
pub struct Lease {
    /// For each peer: the term and the latest send time of an append it accepted.
    acked: Mutex<BTreeMap<NodeId, (u64, Instant)>>,
}

impl Lease {
    /// An append sent at `sent`, for `term`, was accepted by `peer`.
    pub fn acknowledged(&self, peer: NodeId, term: u64, sent: Instant) {
        let mut acked = self.acked.lock();
        let entry = acked.entry(peer).or_insert((term, sent));
        if (term, sent) > *entry {
            *entry = (term, sent);
        }
    }

    /// Whether `peer` accepted an append of `term` sent at or after `since`.
    pub fn acknowledged_since(&self, peer: NodeId, term: u64, since: Instant) -> bool {
        self.acked.lock().get(&peer).is_some_and(|&(acked_term, sent)| acked_term == term && sent >= since)
    }

    /// Until when this node, leading `term`, may serve reads from its own state.
    pub fn valid_until(&self, me: NodeId, term: u64, configs: &[BTreeSet<NodeId>], lease_ms: u64) -> Option<Instant> {
        let now = Instant::now();
        let acked = self.acked.lock();
        let mut earliest: Option<Instant> = None;
        for config in configs {
            // Send times confirmed by each voter of this configuration (this node: now).
            let mut times: Vec<Instant> = config
                .iter()
                .filter_map(|voter| match voter == &me {
                    true => Some(now),
                    false => acked.get(voter).filter(|(t, _)| *t == term).map(|(_, sent)| *sent),
                })
                .collect();
            let majority = config.len() / 2 + 1;
            if times.len() < majority {
                return None;
            }
            times.sort_unstable_by(|a, b| b.cmp(a));
            let confirmed = times[majority - 1];
            earliest = Some(earliest.map_or(confirmed, |e| e.min(confirmed)));
        }
        let trusted = std::time::Duration::from_millis(lease_ms * (100 - DRIFT_PERCENT) / 100);
        earliest.map(|sent| sent + trusted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_majority_of_recent_acknowledgements_makes_a_lease() {
        let lease = Lease::default();
        let (a, b, c) = (NodeId(1), NodeId(2), NodeId(3));
        let config = vec![BTreeSet::from([a, b, c])];
        assert_eq!(lease.valid_until(a, 5, &config, 200), None);
        let sent = Instant::now();
        lease.acknowledged(b, 5, sent);
        let until = lease.valid_until(a, 5, &config, 200).unwrap();
        assert_eq!(until, sent + Duration::from_millis(160));
        // Acknowledgements from an older term do not count.
        assert_eq!(lease.valid_until(a, 6, &config, 200), None);
        // In a joint configuration each side needs its own majority.
        let joint = vec![BTreeSet::from([a, b, c]), BTreeSet::from([c, NodeId(4), NodeId(5)])];
        assert_eq!(lease.valid_until(a, 5, &joint, 200), None);
        lease.acknowledged(NodeId(4), 5, sent);
        lease.acknowledged(c, 5, sent - Duration::from_millis(50));
        assert_eq!(
            lease.valid_until(a, 5, &joint, 200).unwrap(),
            sent - Duration::from_millis(50) + Duration::from_millis(160)
        );
    }

    #[tokio::test]
    async fn a_peer_answers_recently_only_with_an_acknowledgement_of_this_term_since_then() {
        let lease = Lease::default();
        let peer = NodeId(2);
        let now = Instant::now();
        let since = now - Duration::from_millis(300);
        assert!(!lease.acknowledged_since(peer, 5, since), "never heard from");
        lease.acknowledged(peer, 5, now - Duration::from_millis(400));
        assert!(!lease.acknowledged_since(peer, 5, since), "heard from too long ago");
        lease.acknowledged(peer, 5, now);
        assert!(lease.acknowledged_since(peer, 5, since));
        assert!(!lease.acknowledged_since(peer, 6, since), "an older term's acknowledgement");
    }
}
