//! openraft's state machine, on one of Concord's deterministic machines ([`Machine`]: a data
//! shard's [`StateMachine`] or the metadata group's [`ClusterMachine`]), with snapshots kept
//! on disk by the [`SnapshotStore`].
//!
//! The state machine lives in memory. At start it is restored from the newest snapshot; openraft
//! then re-applies the log after it. Snapshots stream: an image is written key by key into its
//! file, and read back the same way, so neither holds a second copy of the keyspace in memory;
//! only a snapshot sent to a follower is read whole (openraft 0.9 sends it from memory).

use crate::log_store::PurgeGate;
use crate::types::{Entry, LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig};
use concord_core::blocking::WaiterId;
use concord_core::cluster_map::{ClusterMachine, ClusterMap};
use concord_core::limits::NOTIFICATIONS_PER_ENTRY_MAX;
use concord_core::notifications::{EventClass, Notification};
use concord_core::request::{Batch, BatchReply};
use concord_core::state_machine::StateMachine;
use concord_core::types::GroupId;
use concord_core::Reply;
use concord_storage::SnapshotStore;
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, RaftSnapshotBuilder, StorageIOError};
use parking_lot::RwLock;
use std::io::Cursor;
use std::sync::Arc;

/// Told of the replies of blocked clients each applied entry served (see
/// `concord_core::blocking`), on every replica: the node holding a client delivers its reply.
pub type ServedHook = Box<dyn Fn(&[(WaiterId, Reply)]) + Send + Sync>;

/// Raises a data shard's keyspace notifications on this replica (see
/// `concord_core::notifications`): which classes are wanted, read before each apply, and where
/// the events of applied entries go once the state is released.
pub trait NotifyHook: Send + Sync {
    fn wanted(&self) -> EventClass;
    fn publish(&self, notifications: Vec<Notification>);
}

/// Which deterministic machine a group runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineKind {
    /// A data shard: the keyspace.
    Data,
    /// The metadata group: the cluster map.
    Cluster,
}

/// A group's deterministic machine: both kinds apply the same log entries (batches of
/// requests), so every group shares the node's one log and one openraft type configuration.
// One per group, made once and moved only when a snapshot replaces it: the size difference
// between the kinds costs nothing worth a box on every access.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Machine {
    Data(StateMachine),
    Cluster(ClusterMachine),
}

impl Machine {
    pub fn new(kind: MachineKind) -> Machine {
        match kind {
            MachineKind::Data => Machine::Data(StateMachine::new()),
            MachineKind::Cluster => Machine::Cluster(ClusterMachine::default()),
        }
    }

    pub fn kind(&self) -> MachineKind {
        match self {
            Machine::Data(_) => MachineKind::Data,
            Machine::Cluster(_) => MachineKind::Cluster,
        }
    }

    fn apply(&mut self, index: u64, batch: &Batch) -> BatchReply {
        match self {
            Machine::Data(machine) => machine.apply(index, batch),
            Machine::Cluster(machine) => machine.apply(index, batch),
        }
    }

    fn skip(&mut self, index: u64) {
        match self {
            Machine::Data(machine) => machine.skip(index),
            Machine::Cluster(machine) => machine.skip(index),
        }
    }

    pub fn applied_index(&self) -> u64 {
        match self {
            Machine::Data(machine) => machine.applied_index(),
            Machine::Cluster(machine) => machine.applied_index(),
        }
    }

    /// The state as canonical bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        match self {
            Machine::Data(machine) => machine.snapshot(),
            Machine::Cluster(machine) => machine.snapshot(),
        }
    }

    /// Streams the state into `out` (a data shard's keyspace key by key; the small cluster map
    /// at once).
    fn write_snapshot(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            Machine::Data(machine) => machine.write_snapshot(out),
            Machine::Cluster(machine) => out.write_all(&machine.snapshot()),
        }
    }

    fn read_snapshot(kind: MachineKind, input: &mut dyn std::io::Read) -> Result<Machine, String> {
        Ok(match kind {
            MachineKind::Data => Machine::Data(StateMachine::read_snapshot(input)?),
            MachineKind::Cluster => {
                let mut bytes = Vec::new();
                input.read_to_end(&mut bytes).map_err(|e| format!("unreadable snapshot: {e}"))?;
                Machine::Cluster(ClusterMachine::restore(&bytes)?)
            }
        })
    }

    fn restore(kind: MachineKind, bytes: &[u8]) -> Result<Machine, String> {
        Machine::read_snapshot(kind, &mut &bytes[..])
    }

    /// A digest of the replicated state: equal on every replica that applied the same entries.
    pub fn digest(&self) -> u128 {
        match self {
            Machine::Data(machine) => machine.digest(),
            Machine::Cluster(machine) => machine.digest(),
        }
    }
}

/// What readers share with the applier.
pub struct Applied {
    pub machine: Machine,
    pub last_applied: Option<LogId>,
    pub membership: StoredMembership,
}

impl Applied {
    /// A data shard's state. Only data groups are read this way: a metadata group here is a
    /// routing bug, not something a client can cause.
    pub fn data(&self) -> &StateMachine {
        match &self.machine {
            Machine::Data(machine) => machine,
            Machine::Cluster(_) => panic!("the metadata group read as a data shard"),
        }
    }

    /// The metadata group's map (see [`Applied::data`]).
    pub fn map(&self) -> &ClusterMap {
        match &self.machine {
            Machine::Cluster(machine) => machine.map(),
            Machine::Data(_) => panic!("a data shard read as the metadata group"),
        }
    }
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
    /// Held while the state is changed or imaged. Imaging a large state takes long, so it runs
    /// on a blocking thread; the applier then waits here, asynchronously, instead of blocking
    /// the consensus thread on the state's lock (which would stop heartbeats, and followers
    /// would elect another leader).
    changing: Arc<tokio::sync::Mutex<()>>,
    served: Arc<std::sync::OnceLock<ServedHook>>,
    notify: Arc<std::sync::OnceLock<Box<dyn NotifyHook>>>,
    /// The last log index applied, for those who watch the state change (the cluster map).
    applied_index: tokio::sync::watch::Sender<u64>,
}

impl StateMachineStore {
    /// Restores the state from the newest snapshot on disk, if any.
    pub fn open(
        group: GroupId,
        kind: MachineKind,
        snapshots: Arc<SnapshotStore>,
        purges: Arc<PurgeGate>,
        io_inline: bool,
    ) -> std::io::Result<StateMachineStore> {
        let mut applied =
            Applied { machine: Machine::new(kind), last_applied: None, membership: StoredMembership::default() };
        if let Some(mut file) = snapshots.open_latest(group)? {
            let meta = decode_meta(&file.meta)?;
            applied.machine = Machine::read_snapshot(kind, &mut file.body)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            applied.last_applied = meta.last_log_id;
            applied.membership = meta.last_membership.clone();
            purges.snapshot_saved(file.index);
        }
        let applied_index = tokio::sync::watch::Sender::new(applied.machine.applied_index());
        Ok(StateMachineStore {
            group,
            applied: Arc::new(RwLock::new(applied)),
            snapshots,
            purges,
            io_inline,
            changing: Arc::default(),
            served: Arc::default(),
            notify: Arc::default(),
            applied_index,
        })
    }

    /// Runs long CPU or file work on a blocking thread, or in place in a simulation.
    async fn blocking<R: Send + 'static>(&self, work: impl FnOnce() -> R + Send + 'static) -> std::io::Result<R> {
        if self.io_inline {
            Ok(work())
        } else {
            tokio::task::spawn_blocking(work).await.map_err(std::io::Error::other)
        }
    }

    /// Sets who is told of served blocked clients (once).
    pub fn on_served(&self, hook: ServedHook) {
        let _ = self.served.set(hook);
    }

    /// Sets who raises the keyspace notifications of applied entries (once).
    pub fn on_notify(&self, hook: Box<dyn NotifyHook>) {
        let _ = self.notify.set(hook);
    }

    /// The last applied index, as it changes.
    pub fn watch_applied(&self) -> tokio::sync::watch::Receiver<u64> {
        self.applied_index.subscribe()
    }

    /// The state, shared with readers.
    pub fn applied(&self) -> Arc<RwLock<Applied>> {
        self.applied.clone()
    }
}

fn decode_meta(bytes: &[u8]) -> std::io::Result<SnapshotMeta> {
    postcard::from_bytes(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("snapshot metadata: {e}")))
}

fn snapshot_meta(applied: &Applied) -> SnapshotMeta {
    let snapshot_id = match applied.last_applied {
        Some(id) => format!("{}-{}-{}", id.leader_id.term, id.leader_id.node_id, id.index),
        None => "empty".to_string(),
    };
    SnapshotMeta { last_log_id: applied.last_applied, last_membership: applied.membership.clone(), snapshot_id }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let changing = self.changing.clone().lock_owned().await;
        let (applied, snapshots, group) = (self.applied.clone(), self.snapshots.clone(), self.group);
        // The image streams from the state into the file, under the state's read lock (the
        // applier waits on `changing`, asynchronously).
        let image = move || {
            let _changing = changing;
            let applied = applied.read();
            let meta = snapshot_meta(&applied);
            let index = meta.last_log_id.map_or(0, |id| id.index);
            let meta_bytes = postcard::to_stdvec(&meta).expect("snapshot metadata encodes");
            snapshots.save_with(group, index, &meta_bytes, |out| applied.machine.write_snapshot(out)).map(|()| meta)
        };
        let meta =
            self.blocking(image).await.and_then(|saved| saved).map_err(|e| StorageIOError::write_snapshot(None, &e))?;
        self.purges.snapshot_saved(meta.last_log_id.map_or(0, |id| id.index));
        // openraft 0.9 keeps only the metadata of a snapshot it had built (core/sm/worker.rs);
        // followers are sent the saved file (`get_current_snapshot`), so no copy of the image
        // is made here.
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(Vec::new())) })
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
        let _changing = self.changing.lock().await;
        let mut applied = self.applied.write();
        let mut replies = Vec::new();
        let watched = self.applied_index.receiver_count() > 0;
        let notify = self.notify.get();
        // Read each time: CONFIG SET may have changed it, or a snapshot replaced the machine.
        if let (Some(hook), Machine::Data(machine)) = (notify, &mut applied.machine) {
            machine.set_notifications(hook.wanted());
        }
        let mut notifications = Vec::new();
        for entry in entries {
            let index = entry.log_id.index;
            applied.last_applied = Some(entry.log_id);
            replies.push(match entry.payload {
                EntryPayload::Normal(batch) => {
                    let mut reply = applied.machine.apply(index, &batch);
                    if !reply.served.is_empty() {
                        if let Some(hook) = self.served.get() {
                            hook(&reply.served);
                        }
                    }
                    notifications.append(&mut reply.notifications);
                    // Many entries at once (a follower catching up): bounded all the same.
                    if notifications.len() >= NOTIFICATIONS_PER_ENTRY_MAX {
                        if let Some(hook) = notify {
                            hook.publish(std::mem::take(&mut notifications));
                        }
                    }
                    reply
                }
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
        if watched {
            self.applied_index.send_replace(applied.machine.applied_index());
        }
        drop(applied);
        if let (Some(hook), false) = (notify, notifications.is_empty()) {
            hook.publish(notifications);
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
        let index = meta.last_log_id.map_or(0, |id| id.index);
        let meta_bytes = postcard::to_stdvec(meta).expect("snapshot metadata encodes");
        let (snapshots, group) = (self.snapshots.clone(), self.group);
        let kind = self.applied.read().machine.kind();
        let restore_and_save = move || {
            let machine = Machine::restore(kind, &data).map_err(std::io::Error::other)?;
            snapshots.save(group, index, &meta_bytes, &data)?;
            Ok::<_, std::io::Error>(machine)
        };
        let machine = self
            .blocking(restore_and_save)
            .await
            .and_then(|restored| restored)
            .map_err(|e| StorageIOError::read_snapshot(Some(meta.signature()), &e))?;
        self.purges.snapshot_saved(index);
        let _changing = self.changing.lock().await;
        let mut applied = self.applied.write();
        applied.machine = machine;
        applied.last_applied = meta.last_log_id;
        applied.membership = meta.last_membership.clone();
        self.applied_index.send_replace(applied.machine.applied_index());
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let (snapshots, group) = (self.snapshots.clone(), self.group);
        let load = move || {
            let Some(stored) = snapshots.load_latest(group)? else {
                return Ok(None);
            };
            Ok::<_, std::io::Error>(Some((decode_meta(&stored.meta)?, stored.data)))
        };
        let loaded =
            self.blocking(load).await.and_then(|loaded| loaded).map_err(|e| StorageIOError::read_snapshot(None, &e))?;
        Ok(loaded.map(|(meta, data)| Snapshot { meta, snapshot: Box::new(Cursor::new(data)) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_store::NodeLog;
    use concord_core::request::{Batch, Request};
    use concord_core::types::NodeId;
    use concord_storage::{LogOptions, SimDisk, SimFs};
    use openraft::CommittedLeaderId;
    use std::path::Path;
    use std::time::Duration;

    const GROUP: GroupId = GroupId::FIRST_SHARD;

    fn store() -> StateMachineStore {
        let fs: Arc<dyn concord_storage::Fs> = Arc::new(SimFs(SimDisk::new()));
        let options = LogOptions { inline: true, ..LogOptions::default() };
        let log = Arc::new(NodeLog::open(fs.clone(), Path::new("/log"), options).unwrap());
        let snapshots = Arc::new(SnapshotStore::new(fs, Path::new("/snapshots")));
        StateMachineStore::open(GROUP, MachineKind::Data, snapshots, PurgeGate::new(log, GROUP), false).unwrap()
    }

    fn set(index: u64, key: &str) -> Entry {
        let request = Request::Command { db: 0, argv: vec!["SET".into(), key.to_string().into(), "v".into()] };
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, NodeId(7)), index),
            payload: EntryPayload::Normal(Batch { time_ms: 1, requests: vec![request] }),
        }
    }

    /// Imaging the state for a snapshot must not hold the consensus thread: while an image
    /// waits for the state (here the test holds its lock), timers on that thread still fire and
    /// the applier waits without blocking it. Were the image taken in place, this runtime's one
    /// thread would block on the lock the test holds, and the watchdog would fail the test.
    #[test]
    #[allow(clippy::await_holding_lock, reason = "the test holds the state's lock on purpose while it waits")]
    fn a_snapshot_image_leaves_the_consensus_thread_free() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mut store = store();
                store.apply(vec![set(1, "before")]).await.unwrap();
                let applied = store.applied();
                let state = applied.write();
                let mut builder = store.clone();
                let build = tokio::spawn(async move { builder.build_snapshot().await.unwrap().meta.last_log_id });
                tokio::time::sleep(Duration::from_millis(20)).await;
                assert!(!build.is_finished(), "the image waits for the state");
                let mut applier = store.clone();
                let apply = tokio::spawn(async move { applier.apply(vec![set(2, "after")]).await.unwrap() });
                tokio::time::sleep(Duration::from_millis(20)).await;
                assert!(!apply.is_finished(), "the applier waits for the image");
                drop(state);
                assert_eq!(build.await.unwrap().map(|id| id.index), Some(1), "imaged before the second entry");
                apply.await.unwrap();
                assert_eq!(applied.read().last_applied.map(|id| id.index), Some(2));
            });
            done.send(()).unwrap();
        });
        finished.recv_timeout(Duration::from_secs(30)).expect("the consensus thread blocked while imaging");
    }
}
