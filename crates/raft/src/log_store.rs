//! openraft's log storage, on the node's shared [`Log`]: every call is tagged with this
//! group's id, and appends complete when the group commit that carries them is durable.

use crate::types::{Entry, LogId, StorageError, TypeConfig, Vote};
use concord_core::types::GroupId;
use concord_storage::log::Done;
use concord_storage::{Log, LogEntry};
use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{LogState, RaftLogReader, StorageIOError};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::sync::Arc;

const VOTE: &str = "vote";
const COMMITTED: &str = "committed";

/// An openraft entry as the log stores it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoredEntry(pub Entry);

impl LogEntry for StoredEntry {
    fn index(&self) -> u64 {
        self.0.log_id.index
    }
}

pub type NodeLog = Log<StoredEntry>;

/// Holds back purges of the log until a durable snapshot covers them.
///
/// openraft 0.9 purges a follower's log right after it hands an installed snapshot to the
/// state machine, without waiting for the snapshot to be saved. A crash in between would leave
/// neither the entries nor the snapshot, and the node could not restart. So a purge waits here
/// until the state machine reports a saved snapshot at or past it.
pub struct PurgeGate {
    log: Arc<NodeLog>,
    group: GroupId,
    state: parking_lot::Mutex<GateState>,
}

#[derive(Default)]
struct GateState {
    /// The index the newest saved snapshot covers.
    snapshot_index: Option<u64>,
    /// The furthest purge asked for and not yet done, with its description.
    pending: Option<(u64, Vec<u8>)>,
}

impl PurgeGate {
    pub fn new(log: Arc<NodeLog>, group: GroupId) -> Arc<PurgeGate> {
        Arc::new(PurgeGate { log, group, state: parking_lot::Mutex::new(GateState::default()) })
    }

    fn purge(&self, upto: u64, description: Vec<u8>) {
        let mut state = self.state.lock();
        if state.snapshot_index.is_some_and(|index| index >= upto) {
            self.log.purge(self.group, upto, description);
        } else if state.pending.as_ref().is_none_or(|(pending, _)| *pending < upto) {
            state.pending = Some((upto, description));
        }
    }

    /// A snapshot covering the log up to `index` is durable.
    pub fn snapshot_saved(&self, index: u64) {
        let mut state = self.state.lock();
        state.snapshot_index = state.snapshot_index.max(Some(index));
        if state.pending.as_ref().is_some_and(|(upto, _)| *upto <= index) {
            let (upto, description) = state.pending.take().expect("pending");
            self.log.purge(self.group, upto, description);
        }
    }
}

/// One group's view of the node log.
#[derive(Clone)]
pub struct LogStore {
    log: Arc<NodeLog>,
    group: GroupId,
    purges: Arc<PurgeGate>,
}

impl LogStore {
    pub fn new(log: Arc<NodeLog>, group: GroupId, purges: Arc<PurgeGate>) -> LogStore {
        LogStore { log, group, purges }
    }

    fn meta<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StorageError> {
        let bytes = self.log.read(self.group, |log| log.meta.get(key).cloned());
        bytes.map(|bytes| postcard::from_bytes(&bytes).map_err(|e| StorageIOError::read_logs(&e).into())).transpose()
    }
}

/// A `Done` callback that completes a tokio oneshot, to await durability.
fn durable() -> (Done, tokio::sync::oneshot::Receiver<io::Result<()>>) {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    (Box::new(move |result| drop(sender.send(result))), receiver)
}

async fn wait(receiver: tokio::sync::oneshot::Receiver<io::Result<()>>) -> io::Result<()> {
    receiver.await.unwrap_or_else(|_| Err(io::Error::other("the log writer went away")))
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let entries = self.log.entries(self.group, range).map_err(|e| StorageIOError::read_logs(&e))?;
        Ok(entries.into_iter().map(|entry| entry.0).collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last = self.log.last_entry(self.group).map_err(|e| StorageIOError::read_logs(&e))?.map(|e| e.0.log_id);
        let purged = self.log.read(self.group, |log| log.purged.clone());
        let last_purged_log_id = purged
            .map(|(_, description)| postcard::from_bytes::<LogId>(&description))
            .transpose()
            .map_err(|e| StorageIOError::read_logs(&e))?;
        Ok(LogState { last_purged_log_id, last_log_id: last.or(last_purged_log_id) })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let (done, receiver) = durable();
        self.log.set_meta(self.group, VOTE, postcard::to_stdvec(vote).expect("votes encode"), done);
        wait(receiver).await.map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        // Read once, at startup. openraft 0.9 resumes leadership at once when the saved vote is
        // its own committed one, in the same term. But a leader sends entries to followers
        // before they are durable in its own log, and a machine crash can take them from it:
        // leading again in that term, it would hand out the same log ids to new entries, and
        // entries a majority holds (acknowledged writes) would be overwritten. So a restarted
        // node never leads in its old term; it must win an election in a newer one, which only
        // a node whose log holds every committed entry can.
        Ok(self.meta::<Vote>(VOTE)?.map(|mut vote| {
            vote.committed = false;
            vote
        }))
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // A hint for restarts (re-apply up to here); it rides along with the next group commit
        // rather than costing a write of its own. Losing it only means re-applying less at
        // startup and learning the rest from the next commit.
        self.log.set_hint(self.group, COMMITTED, postcard::to_stdvec(&committed).expect("log ids encode"));
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.meta::<Option<LogId>>(COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<StoredEntry> = entries.into_iter().map(StoredEntry).collect();
        self.log.append(self.group, entries, Box::new(move |result| callback.log_io_completed(result)));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let (done, receiver) = durable();
        self.log.truncate(self.group, log_id.index, done);
        wait(receiver).await.map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        // Purging is never needed for safety: it waits for a saved snapshot, then becomes durable
        // with the next sync.
        self.purges.purge(log_id.index, postcard::to_stdvec(&log_id).expect("log ids encode"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_core::types::NodeId;
    use concord_storage::{LogOptions, SimDisk, SimFs};
    use openraft::{CommittedLeaderId, EntryPayload};
    use std::path::Path;

    const GROUP: GroupId = GroupId::FIRST_SHARD;

    fn store() -> LogStore {
        let fs = Arc::new(SimFs(SimDisk::new()));
        let log = Arc::new(
            NodeLog::open(fs, Path::new("/log"), LogOptions { inline: true, ..LogOptions::default() }).unwrap(),
        );
        let purges = PurgeGate::new(log.clone(), GROUP);
        LogStore::new(log, GROUP, purges)
    }

    fn log_id(index: u64) -> LogId {
        LogId::new(CommittedLeaderId::new(1, NodeId(7)), index)
    }

    fn first_index(store: &LogStore) -> Option<u64> {
        store.log.read(GROUP, |log| log.first_index())
    }

    #[tokio::test]
    async fn a_purge_waits_for_a_saved_snapshot_that_covers_it() {
        let mut store = store();
        let entries: Vec<StoredEntry> =
            (1..=10).map(|index| StoredEntry(Entry { log_id: log_id(index), payload: EntryPayload::Blank })).collect();
        store.log.append(GROUP, entries, Box::new(|result| result.unwrap()));
        store.purge(log_id(6)).await.unwrap();
        assert_eq!(first_index(&store), Some(1), "no snapshot yet: the entries are all that holds them");
        store.purges.snapshot_saved(4);
        assert_eq!(first_index(&store), Some(1), "a snapshot at 4 does not cover a purge up to 6");
        store.purges.snapshot_saved(8);
        assert_eq!(first_index(&store), Some(7));
        store.purge(log_id(8)).await.unwrap();
        assert_eq!(first_index(&store), Some(9), "covered already: purged at once");
    }

    #[tokio::test]
    async fn a_restarted_leader_does_not_resume_its_term() {
        let mut store = store();
        let vote = Vote { leader_id: openraft::LeaderId::new(3, NodeId(7)), committed: true };
        store.save_vote(&vote).await.unwrap();
        let read = store.read_vote().await.unwrap().expect("a saved vote");
        assert_eq!(read.leader_id, vote.leader_id, "the vote itself is kept: no second vote in term 3");
        assert!(!read.committed, "but leading again needs an election in a newer term");
    }
}
