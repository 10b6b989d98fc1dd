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

/// One group's view of the node log.
#[derive(Clone)]
pub struct LogStore {
    log: Arc<NodeLog>,
    group: GroupId,
    /// Counts appends made durable: the proposer's cue to send the next batch.
    flushed: Arc<tokio::sync::watch::Sender<u64>>,
}

impl LogStore {
    pub fn new(log: Arc<NodeLog>, group: GroupId, flushed: Arc<tokio::sync::watch::Sender<u64>>) -> LogStore {
        LogStore { log, group, flushed }
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
        Ok(self.log.read(self.group, |log| log.entries.range(range).map(|(_, entry)| entry.0.clone()).collect()))
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let (last, purged) =
            self.log.read(self.group, |log| (log.entries.values().next_back().map(|e| e.0.log_id), log.purged.clone()));
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
        self.log.set_meta(self.group, VOTE, postcard::to_stdvec(vote).expect("votes encode"), Some(done));
        wait(receiver).await.map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        self.meta(VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // A hint for restarts (re-apply up to here); it rides along with the next group commit
        // rather than costing an fsync of its own.
        self.log.set_meta(self.group, COMMITTED, postcard::to_stdvec(&committed).expect("log ids encode"), None);
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
        let flushed = self.flushed.clone();
        self.log.append(
            self.group,
            entries,
            Box::new(move |result| {
                callback.log_io_completed(result);
                flushed.send_modify(|count| *count += 1);
            }),
        );
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let (done, receiver) = durable();
        self.log.truncate(self.group, log_id.index, done);
        wait(receiver).await.map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        // Purging early is never needed for safety; it becomes durable with the next commit.
        self.log.purge(self.group, log_id.index, postcard::to_stdvec(&log_id).expect("log ids encode"));
        Ok(())
    }
}
