//! When to hold an election, decided here rather than by openraft's timer.
//!
//! openraft 0.9 draws each node's election timeout once, for the node's lifetime, and a
//! follower whose log is behind can start an election it cannot win, spending a term that the
//! up-to-date follower then collides with. After a leader dies that can cost several rounds.
//! So openraft's own elections are switched off and this driver starts them instead:
//!
//! - **Fresh timeouts.** A follower that has heard nothing from a leader for a timeout drawn
//!   anew each time from `[election_timeout_min, election_timeout_max)` — from a seeded
//!   generator, so a simulation replays — considers an election.
//! - **Pre-vote.** It first asks the other voters whether they would vote for it: a voter says
//!   yes only if it has not heard from a leader for a lease itself and the candidate's log is at
//!   least as up to date as its own. Only with a majority does the real election start. A node
//!   with a stale log, or one cut off from a healthy leader, never disturbs the cluster.
//!
//! Safety is openraft's: the real vote still decides. This only chooses when to ask.

use crate::log_store::NodeLog;
use crate::network::{RaftRequest, RaftResponse, Rpc};
use crate::types::{LogId, Raft};
use concord_core::rng::Rng;
use concord_core::types::{GroupId, NodeId};
use openraft::ServerState;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often a follower's driver looks at the clock.
const TICK_MS: u64 = 20;
/// How often a leader's or a learner's does: it only has to notice that it stopped being
/// one, and a node hosts many groups, so idle ones should wake rarely.
const IDLE_TICK_MS: u64 = 100;

/// When this node last heard from a leader (or granted a vote), for pre-votes, and when it
/// may consider a candidacy of its own.
pub struct LeaderContact {
    origin: Instant,
    /// The last message from a leader this node accepted, or vote it granted.
    heard_ms: AtomicU64,
    /// The last time this node was leader or learner: a node that stops being one waits a
    /// full timeout before it campaigns, but that is no contact with a leader, so it does not
    /// make it refuse pre-votes (a learner that another voter's log already counts as a
    /// voter must support that voter's candidacy, or neither can ever win).
    held_off_ms: AtomicU64,
    /// When a leader's entries or snapshot were last accepted, if ever since the node started
    /// (granting a vote does not count: a stale candidate may ask for it).
    leader_heard: AtomicBool,
    leader_ms: AtomicU64,
}

impl LeaderContact {
    pub fn new() -> LeaderContact {
        LeaderContact {
            origin: Instant::now(),
            heard_ms: AtomicU64::new(0),
            held_off_ms: AtomicU64::new(0),
            leader_heard: AtomicBool::new(false),
            leader_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    /// A leader was heard from (or a vote granted).
    pub fn touch(&self) {
        self.heard_ms.fetch_max(self.now_ms(), Ordering::Relaxed);
    }

    /// A leader's entries (or heartbeat, or snapshot) were accepted.
    pub fn leader_heard(&self) {
        self.touch();
        self.leader_ms.fetch_max(self.now_ms(), Ordering::Relaxed);
        self.leader_heard.store(true, Ordering::Release);
    }

    /// Milliseconds since a leader's entries or snapshot were last accepted; `None` if never
    /// since the node started.
    pub fn leader_silence_ms(&self) -> Option<u64> {
        let heard = self.leader_heard.load(Ordering::Acquire);
        heard.then(|| self.now_ms().saturating_sub(self.leader_ms.load(Ordering::Relaxed)))
    }

    /// This node leads, or only learns: it must not campaign for a timeout from now.
    pub fn hold_off(&self) {
        self.held_off_ms.fetch_max(self.now_ms(), Ordering::Relaxed);
    }

    /// Milliseconds since a leader was last heard from.
    pub fn silence_ms(&self) -> u64 {
        self.now_ms().saturating_sub(self.heard_ms.load(Ordering::Relaxed))
    }

    /// Milliseconds since a leader was heard from or this node stopped holding off, whichever
    /// is later: how long it has waited for a candidacy.
    pub fn waited_ms(&self) -> u64 {
        let last = self.heard_ms.load(Ordering::Relaxed).max(self.held_off_ms.load(Ordering::Relaxed));
        self.now_ms().saturating_sub(last)
    }
}

impl Default for LeaderContact {
    fn default() -> Self {
        Self::new()
    }
}

/// The last log id in this node's log (or its purge point).
pub fn last_log_id(log: &NodeLog, group: GroupId) -> Option<LogId> {
    match log.last_entry(group) {
        Ok(Some(entry)) => Some(entry.0.log_id),
        // A log that cannot be read back answers as if empty: this only decides whether to
        // grant a pre-vote, never what is committed.
        Ok(None) | Err(_) => log
            .read(group, |log| log.purged.as_ref().and_then(|(_, description)| postcard::from_bytes(description).ok())),
    }
}

pub struct Elections<T> {
    pub raft: Raft,
    pub rpc: Arc<T>,
    pub log: Arc<NodeLog>,
    pub contact: Arc<LeaderContact>,
    pub group: GroupId,
    pub node: NodeId,
    pub timeout_min_ms: u64,
    pub timeout_max_ms: u64,
    /// How long a voter must have heard nothing from a leader before it supports a candidate.
    pub lease_ms: u64,
    pub seed: u64,
}

impl<T: Rpc> Elections<T> {
    /// Runs until the group stops.
    pub async fn run(self) {
        let mut rng = Rng::new(self.seed);
        let draw = |rng: &mut Rng| self.timeout_min_ms + rng.below((self.timeout_max_ms - self.timeout_min_ms).max(1));
        let mut timeout_ms = draw(&mut rng);
        let mut last_attempt = Instant::now();
        let mut tick_ms = TICK_MS;
        loop {
            tokio::time::sleep(Duration::from_millis(tick_ms)).await;
            // Looked at in place: this runs for every group many times a second.
            let (voting, term) = {
                let metrics = self.raft.metrics();
                let metrics = metrics.borrow();
                if metrics.running_state.is_err() {
                    return;
                }
                let voter = metrics.membership_config.membership().voter_ids().any(|id| id == self.node);
                (voter && metrics.state != ServerState::Leader, metrics.current_term)
            };
            if !voting {
                // A leader (or a learner) waits a full timeout after it stops being one.
                self.contact.hold_off();
                tick_ms = IDLE_TICK_MS;
                continue;
            }
            tick_ms = TICK_MS;
            let since_attempt = last_attempt.elapsed().as_millis() as u64;
            if self.contact.waited_ms().min(since_attempt) < timeout_ms {
                continue;
            }
            last_attempt = Instant::now();
            timeout_ms = draw(&mut rng);
            let membership = self.raft.metrics().borrow().membership_config.clone();
            let voters: Vec<NodeId> = membership.membership().voter_ids().collect();
            if self.pre_vote(&voters, &membership).await {
                tracing::info!(group = %self.group, term = term + 1, "no leader heard from; starting an election");
                if self.raft.trigger().elect().await.is_err() {
                    return;
                }
            }
        }
    }

    /// Whether a majority of voters would vote for this node now.
    async fn pre_vote(&self, voters: &[NodeId], membership: &crate::types::StoredMembership) -> bool {
        let candidate_last = last_log_id(&self.log, self.group);
        let request =
            postcard::to_stdvec(&RaftRequest::PreVote { last_log_id: candidate_last }).expect("pre-votes encode");
        let asks = voters.iter().filter(|id| **id != self.node).filter_map(|id| {
            let info = membership.membership().get_node(id)?.clone();
            let (rpc, request, group) = (self.rpc.clone(), request.clone(), self.group);
            let deadline = Duration::from_millis(self.lease_ms);
            Some(async move {
                let answer = rpc.call(*id, &info, group, request, deadline).await.ok()?;
                match postcard::from_bytes(&answer).ok()? {
                    RaftResponse::PreVote(granted) => Some(granted),
                    _ => None,
                }
            })
        });
        let granted = futures::future::join_all(asks).await.into_iter().filter(|g| *g == Some(true)).count();
        // Our own support counts.
        2 * (granted + 1) > voters.len()
    }
}

/// Answers a pre-vote: yes if this node has not heard from a leader for a lease, is not the
/// leader itself, and the candidate's log is at least as up to date as its own.
pub fn answer_pre_vote(
    raft: &Raft,
    log: &NodeLog,
    group: GroupId,
    contact: &LeaderContact,
    lease_ms: u64,
    candidate_last: Option<LogId>,
) -> bool {
    let leading = raft.metrics().borrow().state == ServerState::Leader;
    !leading && contact.silence_ms() >= lease_ms && candidate_last >= last_log_id(log, group)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A learner holds off its own candidacy, yet has heard from no leader: it must support a
    /// voter's pre-vote (seed 117: a split shard's founder counted a learner as a voter in its
    /// uncommitted joint configuration and could never be elected without it).
    #[tokio::test(start_paused = true)]
    async fn holding_off_a_candidacy_is_no_contact_with_a_leader() {
        let contact = LeaderContact::new();
        tokio::time::advance(Duration::from_millis(1_000)).await;
        contact.hold_off();
        assert_eq!(contact.waited_ms(), 0, "a learner waits a full timeout before it campaigns");
        assert_eq!(contact.silence_ms(), 1_000, "but it heard from no leader for a second");
        assert_eq!(contact.leader_silence_ms(), None);
        tokio::time::advance(Duration::from_millis(300)).await;
        contact.touch();
        assert_eq!(contact.leader_silence_ms(), None, "a vote granted is no leader heard");
        contact.leader_heard();
        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!((contact.silence_ms(), contact.waited_ms()), (200, 200));
        assert_eq!(contact.leader_silence_ms(), Some(200));
    }
}
