//! The node's log: one append-only sequence of checksummed records in numbered segment files,
//! shared by every Raft group on the node.
//!
//! - **Group commit.** Each append carries a whole batch of requests and costs one `write`
//!   and at most one fsync, which the batches of other groups share. Either the caller writes
//!   it in place ([`LogOptions::inline`], the node's default) and then syncs unless an fsync
//!   begun after its write already covered it (so callers of many groups that append while
//!   one syncs share the next fsync), or writers hand records to one writer thread, which
//!   writes everything queued with one `write` and one fsync.
//!   Small hints (the committed position) ride with the next record written.
//! - **Memory.** The newest entries of each group are kept decoded in memory, up to
//!   [`LogOptions::cache_bytes_max`] of their encoding: what appliers and replication to
//!   followers that keep up read. Older ones stay on disk and are read back when asked for (a
//!   follower catching up), so the log's memory is bounded however long it grows between
//!   snapshots.
//! - **Recovery.** Opening replays every segment. A damaged record at the very end of the last
//!   segment is a torn write from a crash and is cut off; damage anywhere else stops the node
//!   with the file and offset, because serving from a log with a hole would be wrong.
//! - **Compaction.** When a segment fills, the next one starts with a checkpoint of every
//!   group's metadata; a segment whose entries are all purged is deleted.

use crate::fs::{AppendFile, Fs};
use crate::record::{self, Read};
use concord_core::types::GroupId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};

/// Version of the record encoding, written at the start of every segment. Format 2 entries
/// may carry tagged requests (`Request::Once`), format 3 ones a shard's slots
/// (`Request::OwnSlots`), format 4 ones slot-move steps (`Request::Migrate`), format 5 the
/// metadata group's `ReplaceMember`; the records themselves are unchanged, so segments of
/// formats 1 to 4 are still read.
pub const LOG_FORMAT_VERSION: u8 = 5;
/// The oldest format this build reads.
pub const LOG_FORMAT_VERSION_MIN: u8 = 1;
const SEGMENT_PREFIX: &str = "log-";
const SEGMENT_SUFFIX: &str = ".seg";

/// What the log stores: anything serializable that knows its log index.
pub trait LogEntry: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    fn index(&self) -> u64;
}

/// Called once the record it was given with is durable (or failed to be).
pub type Done = Box<dyn FnOnce(io::Result<()>) + Send>;

#[derive(Clone, Copy, Debug)]
pub struct LogOptions {
    /// A segment is closed and a new one started once it holds this many bytes.
    pub segment_bytes_max: u64,
    /// Records the writer may have queued before writers wait (back-pressure).
    pub queue_records_max: usize,
    /// Bytes the writer gathers into one write before syncing.
    pub batch_bytes_max: usize,
    /// Write (and sync) each record in the caller instead of a writer thread: no merging of
    /// records from different callers into one sync, but no wake-up of another thread per
    /// batch either (the callers batch already), and no thread at all, which a deterministic
    /// simulation needs.
    pub inline: bool,
    /// Encoded bytes of entries each group keeps decoded in memory (the newest ones); older
    /// entries are read back from disk.
    pub cache_bytes_max: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            segment_bytes_max: 64 * 1024 * 1024,
            queue_records_max: 4096,
            batch_bytes_max: 16 * 1024 * 1024,
            inline: false,
            // Followers that keep up lag by a batch or two, and a batch of small writes from 50
            // pipelining clients encodes to ~30 KB. Decoded entries take ~6x their encoding, so
            // a megabyte here cost ~6 MB of resident memory per group, measured: a tenth of a
            // node holding 100k small collections.
            cache_bytes_max: 64 * 1024,
        }
    }
}

/// Where an entry lies on disk: the `position`-th entry of the `Append` record at `offset` of
/// segment `sequence`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Location {
    sequence: u64,
    offset: u64,
    position: u32,
}

#[derive(Clone, Debug)]
enum Stored<E> {
    /// Decoded in memory, with its encoded size; `location` once it is on disk. `generation`
    /// tells this append from an earlier one of the same index (truncated since).
    Cached { entry: E, bytes: usize, generation: u64, location: Option<Location> },
    /// Only on disk.
    OnDisk(Location),
}

/// One group's share of the log, as readers see it.
#[derive(Clone, Debug)]
pub struct GroupLog<E> {
    entries: BTreeMap<u64, Stored<E>>,
    /// Encoded bytes of the entries held decoded.
    cached_bytes: usize,
    /// Every entry below this index is on disk only.
    cache_floor: u64,
    /// Small named values (the vote, the committed position), opaque to the log.
    pub meta: BTreeMap<String, Vec<u8>>,
    /// Index and opaque description of the last purged entry.
    pub purged: Option<(u64, Vec<u8>)>,
}

impl<E> GroupLog<E> {
    pub fn first_index(&self) -> Option<u64> {
        self.entries.keys().next().copied()
    }

    pub fn last_index(&self) -> Option<u64> {
        self.entries.keys().next_back().copied()
    }

    /// Entries held (in memory or on disk).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn indexes(&self) -> impl Iterator<Item = u64> + '_ {
        self.entries.keys().copied()
    }

    /// Entries held decoded in memory.
    pub fn cached_len(&self) -> usize {
        self.entries.values().filter(|stored| matches!(stored, Stored::Cached { .. })).count()
    }

    fn insert(&mut self, index: u64, stored: Stored<E>) {
        if let Stored::Cached { bytes, .. } = &stored {
            self.cached_bytes += bytes;
        }
        if let Some(Stored::Cached { bytes, .. }) = self.entries.insert(index, stored) {
            self.cached_bytes -= bytes;
        }
    }

    /// Removes entries at and after `from`.
    fn truncate(&mut self, from: u64) {
        for stored in self.entries.split_off(&from).into_values() {
            if let Stored::Cached { bytes, .. } = stored {
                self.cached_bytes -= bytes;
            }
        }
        self.cache_floor = self.cache_floor.min(from);
    }

    /// Removes entries up to and including `upto`.
    fn purge(&mut self, upto: u64) {
        let kept = self.entries.split_off(&(upto + 1));
        for stored in std::mem::replace(&mut self.entries, kept).into_values() {
            if let Stored::Cached { bytes, .. } = stored {
                self.cached_bytes -= bytes;
            }
        }
    }

    /// Records where an append of `generation` went on disk.
    fn written(&mut self, generation: u64, indexes: &[u64], sequence: u64, offset: u64) {
        for (position, index) in indexes.iter().enumerate() {
            if let Some(Stored::Cached { generation: held, location, .. }) = self.entries.get_mut(index) {
                if *held == generation {
                    *location = Some(Location { sequence, offset, position: position as u32 });
                }
            }
        }
    }

    /// Leaves the oldest entries on disk only, until the decoded ones fit `cache_bytes_max`.
    /// The newest entry and entries not yet written stay.
    fn evict(&mut self, cache_bytes_max: usize) {
        let Some(last) = self.last_index() else { return };
        let mut evicted = Vec::new();
        let mut bytes_over = self.cached_bytes.saturating_sub(cache_bytes_max);
        for (&index, stored) in self.entries.range(self.cache_floor..) {
            if bytes_over == 0 || index == last {
                break;
            }
            match stored {
                Stored::Cached { bytes, location: Some(location), .. } => {
                    bytes_over = bytes_over.saturating_sub(*bytes);
                    evicted.push((index, *location, *bytes));
                }
                Stored::Cached { location: None, .. } => break,
                Stored::OnDisk(_) => {}
            }
        }
        for (index, location, bytes) in evicted {
            self.entries.insert(index, Stored::OnDisk(location));
            self.cached_bytes -= bytes;
            self.cache_floor = index + 1;
        }
    }
}

/// Why the log could not be opened.
#[derive(Debug)]
pub enum OpenError {
    Io(PathBuf, io::Error),
    /// A damaged record that is not a torn tail: the node must not start.
    Corrupt {
        file: PathBuf,
        offset: usize,
        reason: String,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Io(path, error) => write!(f, "cannot read log {}: {error}", path.display()),
            OpenError::Corrupt { file, offset, reason } => write!(
                f,
                "corrupt log record in {} at offset {offset}: {reason}; refusing to start so that no wrong data is served \
                 (records before this offset are intact; see docs/OPERATIONS.md, 'Recovering from a corrupt log')",
                file.display()
            ),
        }
    }
}

impl std::error::Error for OpenError {}

#[derive(Serialize, Deserialize)]
enum Record {
    /// First record of every segment.
    Header {
        format: u8,
    },
    Append {
        group: GroupId,
        entries: Vec<Vec<u8>>,
    },
    /// Removes entries at and after `from`.
    Truncate {
        group: GroupId,
        from: u64,
    },
    /// Removes entries up to and including `upto`.
    Purge {
        group: GroupId,
        upto: u64,
        description: Vec<u8>,
    },
    Meta {
        group: GroupId,
        key: String,
        value: Vec<u8>,
    },
}

/// A record on its way to the writer, with what the writer must know about it.
struct Job {
    bytes: Vec<u8>,
    effect: Effect,
    done: Option<Done>,
}

impl Job {
    fn new(record: Record, effect: Effect, done: Option<Done>) -> Job {
        let mut bytes = Vec::new();
        record::frame(&postcard::to_stdvec(&record).expect("records encode"), &mut bytes);
        Job { bytes, effect, done }
    }

    fn meta(group: GroupId, key: String, value: Vec<u8>, done: Option<Done>) -> Job {
        Job::new(
            Record::Meta { group, key: key.clone(), value: value.clone() },
            Effect::Meta { group, key, value },
            done,
        )
    }
}

/// What a record changes, for the writer's own bookkeeping (checkpoints, segment deletion,
/// where appended entries went).
enum Effect {
    Append { group: GroupId, indexes: Vec<u64>, generation: u64 },
    Purge { group: GroupId, upto: u64, description: Vec<u8> },
    Meta { group: GroupId, key: String, value: Vec<u8> },
    Other,
}

/// Hints waiting for the writer's next batch, newest value per key.
type Hints = Arc<Mutex<BTreeMap<(GroupId, String), Vec<u8>>>>;

/// Moves the waiting hints into `batch`, as records nobody waits for.
fn take_hints(hints: &Hints, batch: &mut Vec<Job>) {
    for ((group, key), value) in std::mem::take(&mut *hints.lock().expect("log hints lock")) {
        batch.push(Job::meta(group, key, value, None));
    }
}

type Groups<E> = Arc<Mutex<BTreeMap<GroupId, GroupLog<E>>>>;

/// What the writer reports after a write: where each append went.
struct Written {
    group: GroupId,
    generation: u64,
    indexes: Vec<u64>,
    sequence: u64,
    offset: u64,
}

type OnWritten = Box<dyn Fn(Vec<Written>) + Send>;

pub struct Log<E> {
    groups: Groups<E>,
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    generations: std::sync::atomic::AtomicU64,
    hints: Hints,
    jobs: Mutex<Option<SyncSender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The writer itself, when records are written in the caller ([`LogOptions::inline`]).
    inline: Option<Inline>,
}

/// Writing in the caller: appends one at a time under `writer`, fsyncs one at a time under
/// `sync`, so that appends go on while an fsync runs and the next fsync covers them all.
struct Inline {
    writer: Mutex<InlineWriter>,
    sync: Mutex<()>,
    /// How many appends an fsync has covered: every append numbered up to it is durable.
    synced: std::sync::atomic::AtomicU64,
}

/// A writer used in place, how many appends it made, and whether it already failed (then it
/// refuses everything: a failed fsync is never retried, since the page cache may have dropped
/// what it failed to write).
struct InlineWriter {
    writer: Writer,
    written: u64,
    failed: Option<io::ErrorKind>,
}

impl<E> Default for GroupLog<E> {
    fn default() -> Self {
        GroupLog { entries: BTreeMap::new(), cached_bytes: 0, cache_floor: 0, meta: BTreeMap::new(), purged: None }
    }
}

/// Records where appends went, then bounds each group's decoded entries.
fn on_written<E: LogEntry>(groups: Groups<E>, cache_bytes_max: usize) -> OnWritten {
    Box::new(move |written| {
        let mut groups = groups.lock().expect("log state lock poisoned");
        for Written { group, generation, indexes, sequence, offset } in written {
            if let Some(log) = groups.get_mut(&group) {
                log.written(generation, &indexes, sequence, offset);
                log.evict(cache_bytes_max);
            }
        }
    })
}

/// Reads entries back from the segments at the given locations.
fn read_from_disk<E: LogEntry>(fs: &dyn Fs, dir: &Path, wanted: &[(u64, Location)]) -> io::Result<Vec<(u64, E)>> {
    let broken = |path: &Path, offset: u64, why: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("log record in {} at offset {offset}: {why}", path.display()),
        )
    };
    let mut found = Vec::with_capacity(wanted.len());
    // The record last read (its segment and offset) and its encoded entries.
    type ReadRecord = ((u64, u64), Vec<Vec<u8>>);
    let mut current: Option<ReadRecord> = None;
    for &(index, location) in wanted {
        let record_at = (location.sequence, location.offset);
        if current.as_ref().is_none_or(|(at, _)| *at != record_at) {
            let path = segment_path(dir, location.sequence);
            let header = fs.read_at(&path, location.offset, record::HEADER_BYTES)?;
            if header.len() < record::HEADER_BYTES {
                return Err(broken(&path, location.offset, "truncated record header".into()));
            }
            let length = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")) as usize;
            let mut bytes = header;
            bytes.extend(fs.read_at(&path, location.offset + record::HEADER_BYTES as u64, length)?);
            let payload = match record::read_at(&bytes, 0) {
                Read::Record(payload, _) => payload,
                Read::End => return Err(broken(&path, location.offset, "no record".into())),
                Read::Bad(why) => return Err(broken(&path, location.offset, why.into())),
            };
            match postcard::from_bytes::<Record>(payload) {
                Ok(Record::Append { entries, .. }) => current = Some((record_at, entries)),
                Ok(_) => return Err(broken(&path, location.offset, "not an append".into())),
                Err(e) => return Err(broken(&path, location.offset, format!("undecodable record: {e}"))),
            }
        }
        let (_, entries) = current.as_ref().expect("just read");
        let encoded = entries.get(location.position as usize).ok_or_else(|| io::Error::other("entry missing"))?;
        let entry: E =
            postcard::from_bytes(encoded).map_err(|e| io::Error::other(format!("undecodable entry: {e}")))?;
        if entry.index() != index {
            return Err(io::Error::other(format!("entry {index} found as {}", entry.index())));
        }
        found.push((index, entry));
    }
    Ok(found)
}

impl<E: LogEntry> Log<E> {
    /// Opens (or creates) the log in `dir`, replaying it, and starts the writer thread (unless
    /// records are written in place).
    pub fn open(fs: Arc<dyn Fs>, dir: &Path, options: LogOptions) -> Result<Log<E>, OpenError> {
        fs.create_dir_all(dir).map_err(|e| OpenError::Io(dir.to_path_buf(), e))?;
        let names = fs.list(dir).map_err(|e| OpenError::Io(dir.to_path_buf(), e))?;
        let mut sequences: Vec<u64> = names
            .iter()
            .filter_map(|name| name.strip_prefix(SEGMENT_PREFIX)?.strip_suffix(SEGMENT_SUFFIX)?.parse().ok())
            .collect();
        sequences.sort_unstable();
        let groups: Groups<E> = Arc::default();
        let mut writer =
            Writer::new(fs.clone(), dir.to_path_buf(), options, on_written(groups.clone(), options.cache_bytes_max));
        for (position, &sequence) in sequences.iter().enumerate() {
            let path = segment_path(dir, sequence);
            let bytes = fs.read(&path).map_err(|e| OpenError::Io(path.clone(), e))?;
            let is_last = position + 1 == sequences.len();
            let length = {
                let mut groups = groups.lock().expect("log state lock poisoned");
                replay(&bytes, &path, sequence, is_last, &mut groups, &mut writer, options.cache_bytes_max)?
            };
            if length < bytes.len() {
                // Zeroes written ahead of the data go too: appends continue at the data's end.
                if bytes[length..].iter().any(|&byte| byte != 0) {
                    tracing::warn!(file = %path.display(), offset = length, "cutting off a torn record at the end of the log");
                }
                fs.truncate(&path, length as u64).map_err(|e| OpenError::Io(path.clone(), e))?;
            }
            writer.segments.push(Segment {
                sequence,
                bytes: length as u64,
                last_index: writer.pending_last_index.clone(),
            });
            writer.pending_last_index.clear();
        }
        writer.open_tail().map_err(|e| OpenError::Io(dir.to_path_buf(), e))?;
        let hints = Hints::default();
        let (jobs, thread, inline) = if options.inline {
            let writer = Mutex::new(InlineWriter { writer, written: 0, failed: None });
            (None, None, Some(Inline { writer, sync: Mutex::new(()), synced: Default::default() }))
        } else {
            let (sender, receiver) = mpsc::sync_channel(options.queue_records_max);
            let writer_hints = hints.clone();
            let handle = std::thread::Builder::new()
                .name("concord-log-writer".into())
                .spawn(move || writer.run(receiver, writer_hints))
                .map_err(|e| OpenError::Io(dir.to_path_buf(), e))?;
            (Some(sender), Some(handle), None)
        };
        Ok(Log {
            groups,
            fs,
            dir: dir.to_path_buf(),
            generations: std::sync::atomic::AtomicU64::new(1),
            hints,
            jobs: Mutex::new(jobs),
            writer: Mutex::new(thread),
            inline,
        })
    }

    /// Reads a group's log under the lock.
    pub fn read<R>(&self, group: GroupId, read: impl FnOnce(&GroupLog<E>) -> R) -> R {
        let groups = self.lock();
        match groups.get(&group) {
            Some(log) => read(log),
            None => read(&GroupLog::default()),
        }
    }

    /// The entries of `group` in `range` that the log holds, from memory or, for older ones,
    /// from disk.
    pub fn entries(&self, group: GroupId, range: impl std::ops::RangeBounds<u64>) -> io::Result<Vec<E>> {
        let mut found: Vec<(u64, Option<E>)> = Vec::new();
        let mut on_disk: Vec<(u64, Location)> = Vec::new();
        self.read(group, |log| {
            for (&index, stored) in log.entries.range(range) {
                match stored {
                    Stored::Cached { entry, .. } => found.push((index, Some(entry.clone()))),
                    Stored::OnDisk(location) => {
                        found.push((index, None));
                        on_disk.push((index, *location));
                    }
                }
            }
        });
        if !on_disk.is_empty() {
            let mut read = read_from_disk::<E>(&*self.fs, &self.dir, &on_disk)?.into_iter();
            for (index, slot) in &mut found {
                if slot.is_none() {
                    let (at, entry) = read.next().expect("one read per entry on disk");
                    debug_assert_eq!(at, *index);
                    *slot = Some(entry);
                }
            }
        }
        Ok(found.into_iter().filter_map(|(_, entry)| entry).collect())
    }

    /// The newest entry of `group`, if any.
    pub fn last_entry(&self, group: GroupId) -> io::Result<Option<E>> {
        let Some(last) = self.read(group, GroupLog::last_index) else {
            return Ok(None);
        };
        Ok(self.entries(group, last..=last)?.pop())
    }

    /// The groups this log holds anything for (entries, metadata or a purge point).
    pub fn groups(&self) -> Vec<GroupId> {
        self.lock().keys().copied().collect()
    }

    /// Appends entries (readable at once); `done` runs once they are durable.
    pub fn append(&self, group: GroupId, entries: Vec<E>, done: Done) {
        if entries.is_empty() {
            return done(Ok(()));
        }
        let generation = self.generations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let encoded: Vec<Vec<u8>> =
            entries.iter().map(|entry| postcard::to_stdvec(entry).expect("entries encode")).collect();
        let indexes: Vec<u64> = entries.iter().map(LogEntry::index).collect();
        {
            let mut groups = self.lock();
            let log = groups.entry(group).or_default();
            for (entry, bytes) in entries.into_iter().zip(encoded.iter().map(Vec::len)) {
                log.insert(entry.index(), Stored::Cached { entry, bytes, generation, location: None });
            }
        }
        self.submit(Job::new(
            Record::Append { group, entries: encoded },
            Effect::Append { group, indexes, generation },
            Some(done),
        ));
    }

    /// Removes entries at and after `from`.
    pub fn truncate(&self, group: GroupId, from: u64, done: Done) {
        self.lock().entry(group).or_default().truncate(from);
        self.submit(Job::new(Record::Truncate { group, from }, Effect::Other, Some(done)));
    }

    /// Removes entries up to and including `upto`, remembering `description` of the last one.
    /// Durable with the next sync: forgetting a purge in a crash only keeps entries longer.
    pub fn purge(&self, group: GroupId, upto: u64, description: Vec<u8>) {
        {
            let mut groups = self.lock();
            let log = groups.entry(group).or_default();
            log.purge(upto);
            log.purged = Some((upto, description.clone()));
        }
        self.submit(Job::new(
            Record::Purge { group, upto, description: description.clone() },
            Effect::Purge { group, upto, description },
            None,
        ));
    }

    /// Stores a named value for the group; `done` reports once it is durable.
    pub fn set_meta(&self, group: GroupId, key: &str, value: Vec<u8>, done: Done) {
        self.lock().entry(group).or_default().meta.insert(key.to_string(), value.clone());
        self.submit(Job::meta(group, key.to_string(), value, Some(done)));
    }

    /// Stores a named value as a hint: it is written with the next batch the writer writes
    /// (or when the log closes), so it costs no write of its own, and a crash may lose it. A
    /// key set as a hint must never be set with [`Log::set_meta`]: the two take different
    /// paths, and their order is not kept.
    pub fn set_hint(&self, group: GroupId, key: &str, value: Vec<u8>) {
        self.lock().entry(group).or_default().meta.insert(key.to_string(), value.clone());
        self.hints.lock().expect("log hints lock").insert((group, key.to_string()), value);
    }

    /// Queues a record for the writer. With `done`, the writer makes it durable and reports;
    /// without, it is written but only made durable by the next sync (a hint, not a promise).
    fn submit(&self, job: Job) {
        if let Some(inline) = &self.inline {
            let mut writer = inline.writer.lock().expect("inline writer lock");
            let mut batch = vec![job];
            take_hints(&self.hints, &mut batch);
            let written = match writer.failed {
                Some(kind) => Err(failed_earlier(kind)),
                None => writer.writer.write(&mut batch, false),
            };
            let number = match written {
                Ok(synced) => {
                    writer.written += 1;
                    if synced {
                        inline.synced.fetch_max(writer.written, Ordering::Release);
                    }
                    Ok(writer.written)
                }
                Err(error) => {
                    writer.failed = Some(error.kind());
                    Err(error)
                }
            };
            drop(writer);
            let job = batch.swap_remove(0);
            if let Some(done) = job.done {
                done(number.and_then(|number| inline.sync_through(number)));
            }
            return;
        }
        let sender = self.jobs.lock().expect("log sender lock").clone();
        let failed = |job: Job, why: &str| {
            if let Some(done) = job.done {
                done(Err(io::Error::other(why.to_string())));
            }
        };
        match sender {
            Some(sender) => {
                if let Err(mpsc::SendError(job)) = sender.send(job) {
                    failed(job, "the log writer has stopped");
                }
            }
            None => failed(job, "the log is closed"),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<GroupId, GroupLog<E>>> {
        self.groups.lock().expect("log state lock poisoned")
    }
}

impl<E> Log<E> {
    /// Stops the writer after everything queued is durable.
    pub fn close(&self) {
        // Also runs on drop, so a lock poisoned by an earlier panic must not panic again.
        if let Some(inline) = &self.inline {
            let mut inline = inline.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if inline.failed.is_none() {
                inline.writer.write_last_hints(&self.hints);
            }
        }
        self.jobs.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(handle) = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            let _ = handle.join();
        }
    }
}

impl<E> Drop for Log<E> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.close();
        }
    }
}

fn failed_earlier(kind: io::ErrorKind) -> io::Error {
    io::Error::new(kind, "the log failed earlier and accepts no more writes")
}

impl Inline {
    /// Makes append `number` durable: at once if an fsync begun after it was written covered
    /// it, else with an fsync of its own, which covers every append made so far.
    fn sync_through(&self, number: u64) -> io::Result<()> {
        let _one_at_a_time = self.sync.lock().expect("inline sync lock");
        if self.synced.load(Ordering::Acquire) >= number {
            return Ok(());
        }
        let (covered, syncer) = {
            let writer = self.writer.lock().expect("inline writer lock");
            if let Some(kind) = writer.failed {
                return Err(failed_earlier(kind));
            }
            // Appends before a segment rolled were synced with it; those after are in the tail.
            (writer.written, writer.writer.tail.as_ref().expect("a tail segment is open").syncer())
        };
        match syncer.sync() {
            Ok(()) => {
                self.synced.fetch_max(covered, Ordering::Release);
                Ok(())
            }
            Err(error) => {
                self.writer.lock().expect("inline writer lock").failed = Some(error.kind());
                Err(error)
            }
        }
    }
}

fn segment_path(dir: &Path, sequence: u64) -> PathBuf {
    dir.join(format!("{SEGMENT_PREFIX}{sequence:020}{SEGMENT_SUFFIX}"))
}

/// Applies one segment's records; returns the length of its intact prefix.
fn replay<E: LogEntry>(
    bytes: &[u8],
    path: &Path,
    sequence: u64,
    is_last: bool,
    groups: &mut BTreeMap<GroupId, GroupLog<E>>,
    writer: &mut Writer,
    cache_bytes_max: usize,
) -> Result<usize, OpenError> {
    let corrupt = |offset: usize, reason: String| OpenError::Corrupt { file: path.to_path_buf(), offset, reason };
    // Nothing but zeroes from here on: space written ahead of the data (a record never starts
    // with a zero length, though one may end with zero bytes, so records are still read whole
    // from `bytes`).
    let zeroes_from = bytes.iter().rposition(|&byte| byte != 0).map_or(0, |last| last + 1);
    let mut offset = 0;
    loop {
        if offset >= zeroes_from {
            return Ok(offset);
        }
        let (payload, next) = match record::read_at(bytes, offset) {
            Read::End => return Ok(offset),
            Read::Record(payload, next) => (payload, next),
            Read::Bad(reason) => {
                if is_last && !record::any_record_after(bytes, offset) {
                    return Ok(offset);
                }
                return Err(corrupt(offset, reason.to_string()));
            }
        };
        let record: Record =
            postcard::from_bytes(payload).map_err(|e| corrupt(offset, format!("undecodable record: {e}")))?;
        match record {
            Record::Header { format } if (LOG_FORMAT_VERSION_MIN..=LOG_FORMAT_VERSION).contains(&format) => {}
            Record::Header { format } => {
                return Err(corrupt(offset, format!("log format {format} is not supported by this build")))
            }
            Record::Append { group, entries } => {
                let log = groups.entry(group).or_default();
                for (position, encoded) in entries.iter().enumerate() {
                    let entry: E = postcard::from_bytes(encoded)
                        .map_err(|e| corrupt(offset, format!("undecodable entry: {e}")))?;
                    let index = entry.index();
                    let last = writer.pending_last_index.entry(group).or_default();
                    *last = (*last).max(index);
                    let location = Location { sequence, offset: offset as u64, position: position as u32 };
                    log.insert(
                        index,
                        Stored::Cached { entry, bytes: encoded.len(), generation: 0, location: Some(location) },
                    );
                }
                log.evict(cache_bytes_max);
            }
            Record::Truncate { group, from } => {
                groups.entry(group).or_default().truncate(from);
            }
            Record::Purge { group, upto, description } => {
                let log = groups.entry(group).or_default();
                log.purge(upto);
                log.purged = Some((upto, description.clone()));
                writer.purged.insert(group, (upto, description));
            }
            Record::Meta { group, key, value } => {
                groups.entry(group).or_default().meta.insert(key.clone(), value.clone());
                writer.meta.insert((group, key), value);
            }
        }
        offset = next;
    }
}

struct Segment {
    sequence: u64,
    bytes: u64,
    /// Highest entry index written to this segment, per group.
    last_index: BTreeMap<GroupId, u64>,
}

/// The writer's state (on its thread, or in place): the open tail segment and what it needs to write checkpoints
/// and delete segments, learned only from the records it wrote (or replayed).
struct Writer {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    options: LogOptions,
    segments: Vec<Segment>,
    tail: Option<Box<dyn AppendFile>>,
    meta: BTreeMap<(GroupId, String), Vec<u8>>,
    purged: BTreeMap<GroupId, (u64, Vec<u8>)>,
    /// Entry indexes seen while replaying the current segment.
    pending_last_index: BTreeMap<GroupId, u64>,
    /// Told where appends went once written.
    on_written: OnWritten,
}

impl Writer {
    fn new(fs: Arc<dyn Fs>, dir: PathBuf, options: LogOptions, on_written: OnWritten) -> Writer {
        Writer {
            fs,
            dir,
            options,
            segments: Vec::new(),
            tail: None,
            meta: BTreeMap::new(),
            purged: BTreeMap::new(),
            pending_last_index: BTreeMap::new(),
            on_written,
        }
    }

    /// Opens the last segment for appending, or starts the first one.
    fn open_tail(&mut self) -> io::Result<()> {
        match self.segments.last() {
            Some(last) if last.bytes > 0 => {
                self.tail = Some(self.fs.open_log(&segment_path(&self.dir, last.sequence))?);
                Ok(())
            }
            _ => {
                self.segments.pop();
                self.start_segment()
            }
        }
    }

    /// Starts a new segment: a header, then a checkpoint of every group's metadata, synced
    /// before anything else goes in.
    fn start_segment(&mut self) -> io::Result<()> {
        let sequence = self.segments.last().map_or(1, |s| s.sequence + 1);
        let path = segment_path(&self.dir, sequence);
        let mut file = self.fs.open_log(&path)?;
        let mut bytes = Vec::new();
        let mut frame =
            |record: &Record| record::frame(&postcard::to_stdvec(record).expect("records encode"), &mut bytes);
        frame(&Record::Header { format: LOG_FORMAT_VERSION });
        for (&group, (upto, description)) in &self.purged {
            frame(&Record::Purge { group, upto: *upto, description: description.clone() });
        }
        for ((group, key), value) in &self.meta {
            frame(&Record::Meta { group: *group, key: key.clone(), value: value.clone() });
        }
        file.append(&bytes)?;
        file.sync()?;
        self.fs.sync_dir(&self.dir)?;
        self.tail = Some(file);
        self.segments.push(Segment { sequence, bytes: bytes.len() as u64, last_index: BTreeMap::new() });
        Ok(())
    }

    fn run(mut self, jobs: Receiver<Job>, hints: Hints) {
        loop {
            let Ok(first) = jobs.recv() else {
                return self.write_last_hints(&hints);
            };
            let mut batch = vec![first];
            let mut bytes = batch[0].bytes.len();
            while bytes < self.options.batch_bytes_max {
                match jobs.try_recv() {
                    Ok(job) => {
                        bytes += job.bytes.len();
                        batch.push(job);
                    }
                    Err(_) => break,
                }
            }
            take_hints(&hints, &mut batch);
            let result = self.write(&mut batch, true);
            for job in batch {
                if let Some(done) = job.done {
                    done(result.as_ref().map(|_| ()).map_err(|e| io::Error::new(e.kind(), e.to_string())));
                }
            }
            if let Err(error) = result {
                // A log that cannot be written must not accept more: fail every later write.
                tracing::error!(%error, "log write failed; the log stops accepting writes");
                while let Ok(job) = jobs.recv() {
                    if let Some(done) = job.done {
                        done(Err(io::Error::new(error.kind(), error.to_string())));
                    }
                }
                return;
            }
        }
    }

    /// Closing: the last hints become durable too.
    fn write_last_hints(&mut self, hints: &Hints) {
        let mut batch = Vec::new();
        take_hints(hints, &mut batch);
        if !batch.is_empty() {
            let written = self.write(&mut batch, false).and_then(|_| self.sync());
            if let Err(error) = written {
                tracing::warn!(%error, "could not write the log's last hints");
            }
        }
    }

    fn sync(&mut self) -> io::Result<()> {
        self.tail.as_mut().expect("a tail segment is open").sync()
    }

    /// Writes a batch, and syncs it if `sync_waited` and someone waits for a record of it (or
    /// if it rolls the segment or purges): returns whether it synced.
    fn write(&mut self, batch: &mut [Job], sync_waited: bool) -> io::Result<bool> {
        let mut bytes = Vec::with_capacity(batch.iter().map(|job| job.bytes.len()).sum());
        let mut purged_any = false;
        let mut written = Vec::new();
        for job in batch.iter_mut() {
            let segment = self.segments.last_mut().expect("a tail segment is open");
            let offset = segment.bytes + bytes.len() as u64;
            bytes.append(&mut job.bytes);
            match std::mem::replace(&mut job.effect, Effect::Other) {
                Effect::Append { group, indexes, generation } => {
                    let last = segment.last_index.entry(group).or_default();
                    *last = (*last).max(indexes.iter().copied().max().unwrap_or(0));
                    written.push(Written { group, generation, indexes, sequence: segment.sequence, offset });
                }
                Effect::Purge { group, upto, description } => {
                    self.purged.insert(group, (upto, description));
                    purged_any = true;
                }
                Effect::Meta { group, key, value } => {
                    self.meta.insert((group, key), value);
                }
                Effect::Other => {}
            }
        }
        let tail = self.tail.as_mut().expect("a tail segment is open");
        tail.append(&bytes)?;
        let segment = self.segments.last_mut().expect("a tail segment is open");
        segment.bytes += bytes.len() as u64;
        let roll = segment.bytes >= self.options.segment_bytes_max;
        // Hints (records nobody waits for) ride along with the next sync; a segment is always
        // synced before the next one starts, so only the last segment can have a torn tail.
        let synced = roll || purged_any || (sync_waited && batch.iter().any(|job| job.done.is_some()));
        if synced {
            tail.sync()?;
        }
        if !written.is_empty() {
            (self.on_written)(written);
        }
        if roll {
            self.start_segment()?;
        }
        if purged_any {
            self.delete_purged_segments()?;
        }
        Ok(synced)
    }

    /// Deletes the oldest segments whose every entry has been purged. The tail is never
    /// deleted, and the checkpoint at the head of the next segment carries the metadata.
    fn delete_purged_segments(&mut self) -> io::Result<()> {
        let mut deleted = false;
        while self.segments.len() > 1 {
            let oldest = &self.segments[0];
            let all_purged = oldest
                .last_index
                .iter()
                .all(|(group, last)| self.purged.get(group).is_some_and(|(upto, _)| upto >= last));
            if !all_purged {
                break;
            }
            self.fs.remove(&segment_path(&self.dir, oldest.sequence))?;
            self.segments.remove(0);
            deleted = true;
        }
        if deleted {
            self.fs.sync_dir(&self.dir)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::StdFs;
    use std::sync::mpsc::channel;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct TestEntry {
        index: u64,
        data: Vec<u8>,
    }

    impl LogEntry for TestEntry {
        fn index(&self) -> u64 {
            self.index
        }
    }

    fn entry(index: u64) -> TestEntry {
        TestEntry { index, data: vec![index as u8; 100] }
    }

    const G: GroupId = GroupId(1);

    fn open(dir: &Path, options: LogOptions) -> Result<Log<TestEntry>, OpenError> {
        Log::open(StdFs::shared(), dir, options)
    }

    fn wait(log_call: impl FnOnce(Done)) {
        let (sender, receiver) = channel();
        log_call(Box::new(move |result| sender.send(result).unwrap()));
        receiver.recv().unwrap().unwrap();
    }

    fn indexes(log: &Log<TestEntry>) -> Vec<u64> {
        log.read(G, |g| g.indexes().collect())
    }

    #[test]
    fn hints_ride_with_the_next_batch_or_the_close() {
        for options in [LogOptions::default(), LogOptions { inline: true, ..LogOptions::default() }] {
            let dir = tempfile::tempdir().unwrap();
            let hint = |log: &Log<TestEntry>| log.read(G, |g| g.meta.get("committed").cloned());
            {
                let log = open(dir.path(), options).unwrap();
                log.set_hint(G, "committed", b"c1".to_vec());
                assert_eq!(hint(&log), Some(b"c1".to_vec()), "readable at once");
                wait(|done| log.append(G, vec![entry(1)], done));
                // Closing abruptly (without `close`) must not be needed for what a batch carried.
                std::mem::forget(log);
            }
            {
                let log = open(dir.path(), options).unwrap();
                assert_eq!(hint(&log), Some(b"c1".to_vec()), "written with the append after it");
                log.set_hint(G, "committed", b"c2".to_vec());
                log.set_hint(G, "committed", b"c3".to_vec());
            }
            assert_eq!(hint(&open(dir.path(), options).unwrap()), Some(b"c3".to_vec()), "written at close");
        }
    }

    #[test]
    fn survives_reopen_with_truncate_purge_and_meta() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = open(dir.path(), LogOptions::default()).unwrap();
            wait(|done| log.append(G, (1..=10).map(entry).collect(), done));
            wait(|done| log.truncate(G, 8, done));
            wait(|done| log.append(G, vec![entry(8)], done));
            log.purge(G, 3, b"three".to_vec());
            wait(|done| log.set_meta(G, "vote", b"v1".to_vec(), done));
            wait(|done| log.set_meta(G, "vote", b"v2".to_vec(), done));
        }
        let log = open(dir.path(), LogOptions::default()).unwrap();
        assert_eq!(indexes(&log), vec![4, 5, 6, 7, 8]);
        assert_eq!(log.read(G, |g| g.meta.get("vote").cloned()), Some(b"v2".to_vec()));
        assert_eq!(log.read(G, |g| g.purged.clone()), Some((3, b"three".to_vec())));
        assert_eq!(log.entries(G, 5..=5).unwrap(), vec![entry(5)]);
    }

    #[test]
    fn segments_roll_and_purged_ones_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let options = LogOptions { segment_bytes_max: 2000, ..LogOptions::default() };
        {
            let log = open(dir.path(), options).unwrap();
            wait(|done| log.set_meta(G, "vote", b"v".to_vec(), done));
            for i in 1..=100 {
                wait(|done| log.append(G, vec![entry(i)], done));
            }
            let segments = || StdFs.list(dir.path()).unwrap().len();
            let before = segments();
            assert!(before > 3, "{before} segments");
            log.purge(G, 90, b"ninety".to_vec());
            wait(|done| log.set_meta(G, "vote", b"v".to_vec(), done));
            assert!(segments() < before);
        }
        let log = open(dir.path(), options).unwrap();
        assert_eq!(indexes(&log), (91..=100).collect::<Vec<_>>());
        assert_eq!(log.read(G, |g| g.meta.get("vote").cloned()), Some(b"v".to_vec()));
        assert_eq!(log.read(G, |g| g.purged.as_ref().map(|p| p.0)), Some(90));
    }

    /// Where the zeroes written ahead of a segment's data begin.
    fn data_end(bytes: &[u8]) -> usize {
        bytes.iter().rposition(|&byte| byte != 0).unwrap() + 1
    }

    #[test]
    fn appends_continue_over_the_zeroes_written_ahead() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..3u64 {
            let log = open(dir.path(), LogOptions::default()).unwrap();
            assert_eq!(indexes(&log), (1..=round * 10).collect::<Vec<_>>());
            for i in round * 10 + 1..=round * 10 + 10 {
                wait(|done| log.append(G, vec![entry(i)], done));
            }
            drop(log);
            let bytes = std::fs::read(last_segment(dir.path())).unwrap();
            assert_eq!(bytes.len() as u64, crate::fs::LOG_PREALLOCATE_BYTES, "one chunk of zeroes ahead");
            assert!(data_end(&bytes) < bytes.len());
        }
        // A write bigger than a chunk extends the file as far as it needs.
        let log = open(dir.path(), LogOptions::default()).unwrap();
        let big: Vec<TestEntry> = (31..=12_030).map(entry).collect();
        wait(|done| log.append(G, big, done));
        drop(log);
        assert_eq!(indexes(&open(dir.path(), LogOptions::default()).unwrap()), (1..=12_030).collect::<Vec<_>>());
    }

    fn last_segment(dir: &Path) -> PathBuf {
        dir.join(StdFs.list(dir).unwrap().last().unwrap())
    }

    #[test]
    fn a_torn_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = open(dir.path(), LogOptions::default()).unwrap();
            wait(|done| log.append(G, (1..=5).map(entry).collect(), done));
            wait(|done| log.append(G, vec![entry(6)], done));
        }
        let path = last_segment(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        let end = data_end(&bytes);
        assert!(bytes.len() as u64 >= crate::fs::LOG_PREALLOCATE_BYTES, "zeroes are written ahead of the data");
        // The end of the last write never reached the disk: zeroes where it should be.
        bytes[end - 20..end].fill(0);
        std::fs::write(&path, &bytes).unwrap();
        let log = open(dir.path(), LogOptions::default()).unwrap();
        assert_eq!(indexes(&log), vec![1, 2, 3, 4, 5]);
        wait(|done| log.append(G, vec![entry(6)], done));
        drop(log);
        assert_eq!(indexes(&open(dir.path(), LogOptions::default()).unwrap()), vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn corruption_before_the_tail_refuses_to_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = open(dir.path(), LogOptions::default()).unwrap();
            for i in 1..=5 {
                wait(|done| log.append(G, vec![entry(i)], done));
            }
        }
        let path = last_segment(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = data_end(&bytes) / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let error = open(dir.path(), LogOptions::default()).err().expect("must refuse");
        let text = error.to_string();
        assert!(text.contains("corrupt log record in"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(matches!(error, OpenError::Corrupt { offset, .. } if offset > 0 && offset <= middle));
    }

    /// A segment written by the previous format (1) is read; a future format is refused.
    #[test]
    fn segments_of_the_previous_format_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let segment = |format: u8| {
            let mut bytes = Vec::new();
            let mut frame = |record: &Record| record::frame(&postcard::to_stdvec(record).unwrap(), &mut bytes);
            frame(&Record::Header { format });
            let entries = (1..=3).map(|i| postcard::to_stdvec(&entry(i)).unwrap()).collect();
            frame(&Record::Append { group: G, entries });
            bytes
        };
        std::fs::write(segment_path(dir.path(), 1), segment(1)).unwrap();
        {
            let log = open(dir.path(), LogOptions::default()).unwrap();
            assert_eq!(indexes(&log), vec![1, 2, 3]);
            wait(|done| log.append(G, vec![entry(4)], done));
        }
        assert_eq!(indexes(&open(dir.path(), LogOptions::default()).unwrap()), vec![1, 2, 3, 4]);
        let future = tempfile::tempdir().unwrap();
        std::fs::write(segment_path(future.path(), 1), segment(LOG_FORMAT_VERSION + 1)).unwrap();
        let error = open(future.path(), LogOptions::default()).err().expect("must refuse").to_string();
        assert!(error.contains("is not supported"), "{error}");
    }

    #[test]
    fn inline_writes_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let options = LogOptions { inline: true, segment_bytes_max: 2000, ..LogOptions::default() };
        {
            let log = open(dir.path(), options).unwrap();
            for i in 1..=50 {
                wait(|done| log.append(G, vec![entry(i)], done));
            }
            wait(|done| log.set_meta(G, "vote", b"v".to_vec(), done));
        }
        let log = open(dir.path(), options).unwrap();
        assert_eq!(indexes(&log), (1..=50).collect::<Vec<_>>());
        assert_eq!(log.read(G, |g| g.meta.get("vote").cloned()), Some(b"v".to_vec()));
    }

    /// Only the newest entries stay decoded in memory; the rest is read back from the
    /// segments, whole records at a time, in both writer modes and after a reopen.
    #[test]
    fn old_entries_are_read_back_from_disk() {
        for inline in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let options =
                LogOptions { inline, cache_bytes_max: 1000, segment_bytes_max: 4000, ..LogOptions::default() };
            {
                let log = open(dir.path(), options).unwrap();
                for i in 1..=30 {
                    wait(|done| log.append(G, vec![entry(2 * i - 1), entry(2 * i)], done));
                }
                let cached = log.read(G, GroupLog::cached_len);
                assert!((2..=12).contains(&cached), "{cached} entries decoded of 60");
                assert_eq!(log.entries(G, 1..=60).unwrap(), (1..=60).map(entry).collect::<Vec<_>>());
                assert_eq!(log.entries(G, 17..20).unwrap(), (17..20).map(entry).collect::<Vec<_>>());
                // A truncation into the part on disk, then new entries there.
                wait(|done| log.truncate(G, 10, done));
                assert_eq!(log.last_entry(G).unwrap(), Some(entry(9)));
                wait(|done| log.append(G, vec![TestEntry { index: 10, data: vec![7; 100] }], done));
                assert_eq!(log.entries(G, 9..).unwrap().len(), 2);
                log.purge(G, 4, b"four".to_vec());
            }
            let log = open(dir.path(), options).unwrap();
            assert!(log.read(G, GroupLog::cached_len) <= 12);
            let expected: Vec<TestEntry> =
                (5..=9).map(entry).chain([TestEntry { index: 10, data: vec![7; 100] }]).collect();
            assert_eq!(log.entries(G, ..).unwrap(), expected);
        }
    }

    /// A simulated disk whose fsyncs are slow and counted.
    struct SlowSyncs {
        disk: crate::sim_disk::SimFs,
        syncs: Arc<std::sync::atomic::AtomicU64>,
    }

    struct SlowSyncFile {
        file: Box<dyn AppendFile>,
        syncs: Arc<std::sync::atomic::AtomicU64>,
    }

    struct SlowSyncer {
        syncer: Arc<dyn crate::fs::Syncer>,
        syncs: Arc<std::sync::atomic::AtomicU64>,
    }

    impl crate::fs::Syncer for SlowSyncer {
        fn sync(&self) -> io::Result<()> {
            self.syncs.fetch_add(1, Ordering::Relaxed);
            // Long enough for the other groups to append meanwhile, even on a busy machine.
            std::thread::sleep(std::time::Duration::from_millis(5));
            self.syncer.sync()
        }
    }

    impl AppendFile for SlowSyncFile {
        fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.file.append(bytes)
        }

        fn sync(&mut self) -> io::Result<()> {
            crate::fs::Syncer::sync(&*self.syncer())
        }

        fn syncer(&self) -> Arc<dyn crate::fs::Syncer> {
            Arc::new(SlowSyncer { syncer: self.file.syncer(), syncs: self.syncs.clone() })
        }
    }

    impl Fs for SlowSyncs {
        fn create_dir_all(&self, path: &Path) -> io::Result<()> {
            self.disk.create_dir_all(path)
        }
        fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
            self.disk.list(dir)
        }
        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.disk.read(path)
        }
        fn open_append(&self, path: &Path) -> io::Result<Box<dyn AppendFile>> {
            Ok(Box::new(SlowSyncFile { file: self.disk.open_append(path)?, syncs: self.syncs.clone() }))
        }
        fn truncate(&self, path: &Path, length: u64) -> io::Result<()> {
            self.disk.truncate(path, length)
        }
        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            self.disk.rename(from, to)
        }
        fn remove(&self, path: &Path) -> io::Result<()> {
            self.disk.remove(path)
        }
        fn sync_dir(&self, dir: &Path) -> io::Result<()> {
            self.disk.sync_dir(dir)
        }
    }

    #[test]
    fn inline_appends_of_many_groups_share_fsyncs_and_are_durable_when_done() {
        const GROUPS: u32 = 4;
        const APPENDS_PER_GROUP: u64 = 25;
        let disk = crate::sim_disk::SimDisk::new();
        let syncs = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let fs = Arc::new(SlowSyncs { disk: crate::sim_disk::SimFs(disk.clone()), syncs: syncs.clone() });
        let options = LogOptions { inline: true, ..LogOptions::default() };
        let log = Arc::new(Log::<TestEntry>::open(fs.clone(), Path::new("/log"), options).unwrap());
        let syncs_at_open = syncs.load(Ordering::Relaxed);
        // Each group appends its next batch once the previous one is durable, as a Raft
        // group's log task does.
        let threads: Vec<_> = (0..GROUPS)
            .map(|group| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for index in 1..=APPENDS_PER_GROUP {
                        wait(|done| log.append(GroupId(group), vec![entry(index)], done));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let appends = u64::from(GROUPS) * APPENDS_PER_GROUP;
        let fsyncs = syncs.load(Ordering::Relaxed) - syncs_at_open;
        // Each append synced alone would take exactly one fsync each. How many are shared
        // depends on the scheduling (about half on an idle machine), but with four groups and
        // 5 ms fsyncs some always are.
        assert!(fsyncs < appends, "{fsyncs} fsyncs for {appends} appends: no fsync was shared");
        // Everything reported done was synced: a machine crash, which loses whatever was not,
        // keeps every entry.
        drop(log);
        for seed in 0..4 {
            disk.crash(seed);
            let reopened = Log::<TestEntry>::open(fs.clone(), Path::new("/log"), options).unwrap();
            for group in 0..GROUPS {
                let expected: Vec<u64> = (1..=APPENDS_PER_GROUP).collect();
                assert_eq!(reopened.read(GroupId(group), |g| g.indexes().collect::<Vec<_>>()), expected);
            }
        }
    }

    #[test]
    fn many_writers_share_fsyncs() {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(open(dir.path(), LogOptions::default()).unwrap());
        let (sender, receiver) = channel();
        for i in 1..=500u64 {
            let sender = sender.clone();
            log.append(GroupId((i % 3) as u32), vec![entry(i)], Box::new(move |result| sender.send(result).unwrap()));
        }
        for _ in 0..500 {
            receiver.recv().unwrap().unwrap();
        }
        log.close();
        let reopened = open(dir.path(), LogOptions::default()).unwrap();
        let total: usize = (0..3).map(|g| reopened.read(GroupId(g), GroupLog::len)).sum();
        assert_eq!(total, 500);
    }
}
