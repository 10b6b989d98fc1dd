//! openraft's state machine, on Concord's deterministic [`StateMachine`], with snapshots kept
//! on disk by the [`SnapshotStore`].
//!
//! The state machine lives in memory. At start it is restored from the newest snapshot; openraft
//! then re-applies the log after it.

use crate::log_store::PurgeGate;
use crate::types::{Entry, LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig};
use concord_core::request::BatchReply;
use concord_core::state_machine::StateMachine;
use concord_core::types::GroupId;
use concord_storage::SnapshotStore;
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, RaftSnapshotBuilder, StorageIOError};
use parking_lot::RwLock;
use std::io::Cursor;
use std::sync::Arc;

/// What readers share with the applier.
pub struct Applied {
    pub machine: StateMachine,
    pub last_applied: Option<LogId>,
    pub membership: StoredMembership,
}

/// The current snapshot, kept in memory for followers that need it.
#[derive(Clone)]
struct CurrentSnapshot {
    meta: SnapshotMeta,
    data: Arc<Vec<u8>>,
}

#[derive(Clone)]
pub struct StateMachineStore {
    group: GroupId,
    applied: Arc<RwLock<Applied>>,
    snapshots: Arc<SnapshotStore>,
    /// Told of every saved snapshot, so the log purges only what one covers.
    purges: Arc<PurgeGate>,
    /// Save snapshots in place instead of on a blocking thread (a simulation).
    io_inline: bool,
    current: Arc<RwLock<Option<CurrentSnapshot>>>,
}

impl StateMachineStore {
    /// Restores the state from the newest snapshot on disk, if any.
    pub fn open(
        group: GroupId,
        snapshots: Arc<SnapshotStore>,
        purges: Arc<PurgeGate>,
        io_inline: bool,
    ) -> std::io::Result<StateMachineStore> {
        let mut applied =
            Applied { machine: StateMachine::new(), last_applied: None, membership: StoredMembership::default() };
        let mut current = None;
        if let Some(stored) = snapshots.load_latest(group)? {
            let meta: SnapshotMeta = postcard::from_bytes(&stored.meta)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("snapshot metadata: {e}")))?;
            applied.machine = StateMachine::restore(&stored.data)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            applied.last_applied = meta.last_log_id;
            applied.membership = meta.last_membership.clone();
            purges.snapshot_saved(stored.index);
            current = Some(CurrentSnapshot { meta, data: Arc::new(stored.data) });
        }
        Ok(StateMachineStore {
            group,
            applied: Arc::new(RwLock::new(applied)),
            snapshots,
            purges,
            io_inline,
            current: Arc::new(RwLock::new(current)),
        })
    }

    /// The state, shared with readers.
    pub fn applied(&self) -> Arc<RwLock<Applied>> {
        self.applied.clone()
    }

    async fn save(&self, meta: &SnapshotMeta, data: Arc<Vec<u8>>) -> Result<(), StorageError> {
        let index = meta.last_log_id.map_or(0, |id| id.index);
        let meta_bytes = postcard::to_stdvec(meta).expect("snapshot metadata encodes");
        let (snapshots, group, bytes) = (self.snapshots.clone(), self.group, data.clone());
        let save = move || snapshots.save(group, index, &meta_bytes, &bytes);
        let saved = if self.io_inline {
            save()
        } else {
            tokio::task::spawn_blocking(save).await.map_err(std::io::Error::other).and_then(|saved| saved)
        };
        saved.map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        self.purges.snapshot_saved(index);
        *self.current.write() = Some(CurrentSnapshot { meta: meta.clone(), data });
        Ok(())
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let (data, last_applied, membership) = {
            let applied = self.applied.read();
            (applied.machine.snapshot(), applied.last_applied, applied.membership.clone())
        };
        let snapshot_id = match last_applied {
            Some(id) => format!("{}-{}-{}", id.leader_id.term, id.leader_id.node_id, id.index),
            None => "empty".to_string(),
        };
        let meta = SnapshotMeta { last_log_id: last_applied, last_membership: membership, snapshot_id };
        let data = Arc::new(data);
        self.save(&meta, data.clone()).await?;
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(data.to_vec())) })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = StateMachineStore;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let applied = self.applied.read();
        Ok((applied.last_applied, applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<BatchReply>, StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let mut applied = self.applied.write();
        let mut replies = Vec::new();
        for entry in entries {
            let index = entry.log_id.index;
            applied.last_applied = Some(entry.log_id);
            replies.push(match entry.payload {
                EntryPayload::Normal(batch) => applied.machine.apply(index, &batch),
                EntryPayload::Blank => {
                    applied.machine.skip(index);
                    BatchReply::default()
                }
                EntryPayload::Membership(membership) => {
                    applied.machine.skip(index);
                    applied.membership = StoredMembership::new(Some(entry.log_id), membership);
                    BatchReply::default()
                }
            });
        }
        Ok(replies)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let machine = StateMachine::restore(&data)
            .map_err(|e| StorageIOError::read_snapshot(Some(meta.signature()), &std::io::Error::other(e)))?;
        self.save(meta, Arc::new(data)).await?;
        let mut applied = self.applied.write();
        applied.machine = machine;
        applied.last_applied = meta.last_log_id;
        applied.membership = meta.last_membership.clone();
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let current = self.current.read().clone();
        Ok(current
            .map(|current| Snapshot { meta: current.meta, snapshot: Box::new(Cursor::new(current.data.to_vec())) }))
    }
}
