//! The data: databases of keys, each holding a typed value with an optional expiry time, and
//! the data structures behind each type, one module each.
//!
//! - [`blob`]: byte strings kept inline when short.
//! - [`table`]: the hash-ordered table behind databases and large collections.
//! - [`pack`]: many short byte strings in one allocation, for small collections.
//! - [`encodings`]: when collections leave their compact forms.
//! - [`hash`], [`list`], [`set`], [`zset`] (with [`score_tree`]), [`stream`]: each type's value.
//! - [`scripts`]: the script cache (EVAL, SCRIPT LOAD); [`libraries`]: FUNCTION LOAD's
//!   libraries. Both are replicated with the data.
//!
//! Expiry is decided by time that arrives from outside (the leader's stamp in a log entry, or
//! the reading node's clock), never read here. A key whose time has passed is invisible at
//! once and physically removed by the next write that touches it or by a leader-proposed
//! expiry entry.

pub mod blob;
pub mod encodings;
pub mod hash;
pub mod libraries;
pub mod list;
pub mod pack;
pub mod score_tree;
pub mod scripts;
pub mod set;
pub mod stream;
pub mod table;
pub mod zset;

pub use blob::Blob;
pub use encodings::Encodings;
pub use hash::HashValue;
pub use libraries::{FunctionInfo, Libraries, Library};
pub use list::ListValue;
pub use scripts::Scripts;
pub use set::SetValue;
pub use stream::StreamValue;
pub use table::{Keyed, Table, TableHasher};
pub use zset::ZSetValue;

use crate::limits::DELETION_CLOCK_SLOTS;
use crate::notifications::{EventClass, Notification, Outbox};
use crate::slot::SlotRanges;
use crate::types::{DbIndex, TimeMs};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU64;

/// A key's value, 24 bytes whatever its type, so that every entry stays small: a short string
/// costs no allocation beyond its entry, and a small hash, set or sorted set only its pack.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Blob),
    Hash(HashValue),
    List(Box<ListValue>),
    Set(SetValue),
    ZSet(ZSetValue),
    Stream(Box<StreamValue>),
}

const _: () = assert!(std::mem::size_of::<Value>() == 24);

impl Value {
    /// The name `TYPE` replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    pub fn string(bytes: &[u8]) -> Value {
        Value::Str(Blob::new(bytes))
    }

    /// Heap bytes the value holds beyond its entry (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(blob) => blob.heap_bytes(),
            Value::Hash(hash) => std::mem::size_of::<HashValue>() + hash.heap_bytes(),
            Value::List(list) => std::mem::size_of::<ListValue>() + list.heap_bytes(),
            Value::Set(set) => std::mem::size_of::<SetValue>() + set.heap_bytes(),
            Value::ZSet(zset) => std::mem::size_of::<ZSetValue>() + zset.heap_bytes(),
            Value::Stream(stream) => std::mem::size_of::<StreamValue>() + stream.heap_bytes(),
        }
    }

    /// Rehashes a collection's table under the keyspace's new seed.
    fn rehash(&mut self, hasher: TableHasher) {
        match self {
            Value::Str(_) | Value::List(_) | Value::Stream(_) => {}
            Value::Hash(hash) => hash.rehash(hasher),
            Value::Set(set) => set.rehash(hasher),
            Value::ZSet(zset) => zset.rehash(hasher),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    key: Blob,
    pub value: Value,
    /// Log index of the last change, which `WATCH` compares.
    pub version: u64,
    expire_at_ms: Option<NonZeroU64>,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 64);

impl Keyed for Entry {
    fn key(&self) -> &[u8] {
        &self.key
    }
}

impl Entry {
    pub fn key(&self) -> &Blob {
        &self.key
    }

    pub fn expire_at_ms(&self) -> Option<TimeMs> {
        self.expire_at_ms.map(NonZeroU64::get)
    }

    pub fn is_expired(&self, now_ms: TimeMs) -> bool {
        self.expire_at_ms().is_some_and(|at| at <= now_ms)
    }

    /// Memory this key costs, roughly as the allocator sees it (MEMORY USAGE).
    pub fn memory_bytes(&self) -> usize {
        // The entry's box, its slot in the table (at the table's typical fill), and the
        // expiry index's node when it has one.
        const SLOT_BYTES: usize = 24;
        const EXPIRY_BYTES: usize = 48;
        std::mem::size_of::<Entry>()
            + SLOT_BYTES
            + self.key.heap_bytes()
            + self.value.heap_bytes()
            + if self.expire_at_ms.is_some() { EXPIRY_BYTES + self.key.heap_bytes() } else { 0 }
    }
}

/// An expiry time as stored: none, or a moment after the epoch (the epoch itself is never a
/// valid expiry: commands refuse non-positive times).
fn expiry(at_ms: Option<TimeMs>) -> Option<NonZeroU64> {
    at_ms.map(|at| NonZeroU64::new(at).unwrap_or(NonZeroU64::MIN))
}

/// What `WATCH` remembers about a key, checked when `EXEC` is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchStamp {
    /// The key's version when watched, or `None` if it did not exist (or had expired).
    pub version: Option<u64>,
    /// The applied log index when the key was watched.
    pub watched_at_index: u64,
}

/// One logical database.
#[derive(Clone, Debug, PartialEq)]
pub struct Db {
    entries: Table<Box<Entry>>,
    /// Keys with an expiry time, by time: the sweeper's worklist.
    expires: BTreeSet<(TimeMs, Blob)>,
    /// For each slot of key hashes, the highest version of a key removed from it. Lets `EXEC`
    /// see that a key missing at `WATCH` was created and removed since, without remembering
    /// every removed key. Empty until the first removal.
    deletion_clock: Vec<u64>,
    /// The events this database raises itself (`new`, `expired`) until the keyspace gathers
    /// them, in order with the commands' own (see [`Keyspace::notify`]).
    outbox: Outbox,
    /// While the shard exports slots (see `migration`): the keys of those slots removed since
    /// the journal was last taken, for the target to remove too.
    journal: Option<Box<Journal>>,
}

#[derive(Clone, Debug, PartialEq)]
struct Journal {
    ranges: SlotRanges,
    removed: BTreeSet<Blob>,
}

impl Journal {
    fn record(&mut self, key: &[u8]) {
        if self.ranges.contains(crate::slot::key_slot(key)) {
            self.removed.insert(Blob::new(key));
        }
    }
}

static EMPTY_DB: std::sync::LazyLock<Db> = std::sync::LazyLock::new(|| Db::new(TableHasher::default()));

impl Db {
    pub fn new(hasher: TableHasher) -> Db {
        Db {
            entries: Table::new(hasher),
            expires: BTreeSet::new(),
            deletion_clock: Vec::new(),
            outbox: Outbox::default(),
            journal: None,
        }
    }

    /// The hasher of this database's tables (collections created in it use it too).
    pub fn hasher(&self) -> TableHasher {
        self.entries.hasher()
    }

    /// Keys stored, including expired ones not yet removed (as Redis's `DBSIZE` counts them).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// The live entry for `key`, hiding one whose time has passed.
    pub fn get(&self, key: &[u8], now_ms: TimeMs) -> Option<&Entry> {
        self.entries.get(key).map(|entry| &**entry).filter(|entry| !entry.is_expired(now_ms))
    }

    /// The live entry for `key`, for changing it in place; an expired entry is removed first.
    /// Callers that change the value set `version` to the applying entry's index.
    pub fn get_mut(&mut self, key: &[u8], now_ms: TimeMs) -> Option<&mut Entry> {
        self.remove_if_expired(key, now_ms);
        self.entries.get_mut(key).map(|entry| &mut **entry)
    }

    /// Stores `value` under `key`, replacing any entry, with the given expiry.
    pub fn insert(&mut self, key: &[u8], value: Value, expire_at_ms: Option<TimeMs>, version: u64) {
        if self.outbox.wants(EventClass::NEW | EventClass::EXPIRED) {
            self.notify_creation(key);
        }
        let key = Blob::new(key);
        if let Some(at) = expire_at_ms {
            self.expires.insert((at, key.clone()));
        }
        let entry = Box::new(Entry { key: key.clone(), value, version, expire_at_ms: expiry(expire_at_ms) });
        if let Some(previous) = self.entries.insert(entry) {
            if let Some(at) = previous.expire_at_ms() {
                if Some(at) != expire_at_ms {
                    self.expires.remove(&(at, key));
                }
            }
        }
    }

    /// Before `key` is stored: a key that was not there is new, and one whose time had passed
    /// expired first (Redis removes it on the write's lookup, then adds the key anew).
    fn notify_creation(&mut self, key: &[u8]) {
        let now_ms = self.outbox.now_ms();
        match self.entries.get(key) {
            Some(previous) if !previous.is_expired(now_ms) => return,
            Some(_) => self.outbox.push(EventClass::EXPIRED, "expired", 0, key),
            None => {}
        }
        self.outbox.push(EventClass::NEW, "new", 0, key);
    }

    /// Takes back the `new` event of a key created and found void at once (see
    /// [`crate::commands::helpers::remove_if_void`]).
    pub(crate) fn retract_new(&mut self, key: &[u8]) {
        self.outbox.retract("new", key);
    }

    /// Removes `key`, live or expired.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let entry = *self.entries.remove(key)?;
        if let Some(at) = entry.expire_at_ms() {
            self.expires.remove(&(at, entry.key.clone()));
        }
        self.record_deletion(key, entry.version);
        if let Some(journal) = &mut self.journal {
            journal.record(key);
        }
        Some(entry)
    }

    /// Removes `key` if its time has passed; true if it did.
    pub fn remove_if_expired(&mut self, key: &[u8], now_ms: TimeMs) -> bool {
        if self.entries.get(key).is_some_and(|entry| entry.is_expired(now_ms)) {
            self.remove(key);
            self.outbox.push(EventClass::EXPIRED, "expired", 0, key);
            true
        } else {
            false
        }
    }

    /// Sets or clears the expiry of an existing key; returns false if the key is missing.
    pub fn set_expiry(&mut self, key: &[u8], expire_at_ms: Option<TimeMs>) -> bool {
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        let previous = std::mem::replace(&mut entry.expire_at_ms, expiry(expire_at_ms)).map(NonZeroU64::get);
        if previous != expire_at_ms {
            let key = entry.key.clone();
            if let Some(at) = previous {
                self.expires.remove(&(at, key.clone()));
            }
            if let Some(at) = expire_at_ms {
                self.expires.insert((at, key));
            }
        }
        true
    }

    /// Whether some key's deadline falls in `after_ms < deadline <= through_ms`.
    pub fn has_deadline_in(&self, after_ms: TimeMs, through_ms: TimeMs) -> bool {
        let from = (after_ms.saturating_add(1), Blob::EMPTY);
        self.expires.range(from..).next().is_some_and(|(at, _)| *at <= through_ms)
    }

    /// Up to `max` keys whose time has passed, oldest deadline first.
    pub fn expired_keys(&self, now_ms: TimeMs, max: usize) -> Vec<Bytes> {
        self.expires.iter().take_while(|(at, _)| *at <= now_ms).take(max).map(|(_, key)| key.to_bytes()).collect()
    }

    /// Every entry (live or not), in hash order.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> + '_ {
        self.entries.iter().map(|entry| &**entry)
    }

    /// The table of entries (for SCAN and random picks).
    pub fn table(&self) -> &Table<Box<Entry>> {
        &self.entries
    }

    /// Removes every key; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let count = self.entries.len();
        let removed: Vec<(u64, u64)> =
            self.entries.iter().map(|entry| (deletion_hash(&entry.key), entry.version)).collect();
        for (hash, version) in removed {
            self.bump_clock(hash, version);
        }
        if let Some(journal) = &mut self.journal {
            for entry in self.entries.iter() {
                journal.record(entry.key());
            }
        }
        self.entries = Table::new(self.entries.hasher());
        self.expires.clear();
        count
    }

    /// Marks every key changed at `version`, and every key that might have been here too.
    fn touch_all(&mut self, version: u64) {
        for entry in self.entries.iter_mut() {
            entry.version = version;
        }
        self.deletion_clock = vec![version; DELETION_CLOCK_SLOTS];
    }

    /// Rehashes every table under a new hasher.
    fn rehash(&mut self, hasher: TableHasher) {
        self.entries.rehash(hasher);
        for entry in self.entries.iter_mut() {
            entry.value.rehash(hasher);
        }
    }

    pub fn watch_stamp(&self, key: &[u8], now_ms: TimeMs, applied_index: u64) -> WatchStamp {
        WatchStamp { version: self.get(key, now_ms).map(|entry| entry.version), watched_at_index: applied_index }
    }

    /// Whether `key` is as it was when `stamp` was taken.
    pub fn is_unchanged(&self, key: &[u8], stamp: &WatchStamp, now_ms: TimeMs) -> bool {
        match (stamp.version, self.get(key, now_ms)) {
            (Some(version), Some(entry)) => entry.version == version,
            (None, None) => self.deletion_clock_at(key) <= stamp.watched_at_index,
            _ => false,
        }
    }

    fn deletion_clock_at(&self, key: &[u8]) -> u64 {
        let slot = deletion_hash(key) as usize & (DELETION_CLOCK_SLOTS - 1);
        self.deletion_clock.get(slot).copied().unwrap_or(0)
    }

    fn record_deletion(&mut self, key: &[u8], version: u64) {
        self.bump_clock(deletion_hash(key), version);
    }

    fn bump_clock(&mut self, hash: u64, version: u64) {
        if self.deletion_clock.is_empty() {
            self.deletion_clock = vec![0; DELETION_CLOCK_SLOTS];
        }
        let slot = &mut self.deletion_clock[hash as usize & (DELETION_CLOCK_SLOTS - 1)];
        *slot = (*slot).max(version);
    }

    pub(crate) fn deletion_clock(&self) -> &[u64] {
        &self.deletion_clock
    }

    /// A database exactly as a snapshot recorded it.
    pub(crate) fn restore(hasher: TableHasher, home_slots: usize, deletion_clock: Vec<u64>) -> Db {
        Db {
            entries: Table::with_home_slots(hasher, home_slots),
            expires: BTreeSet::new(),
            deletion_clock,
            outbox: Outbox::default(),
            journal: None,
        }
    }

    /// Starts (`Some`) or ends the journal of removed keys of `ranges`.
    fn set_journal(&mut self, ranges: Option<&SlotRanges>) {
        self.journal = ranges.map(|ranges| Box::new(Journal { ranges: ranges.clone(), removed: BTreeSet::new() }));
    }

    fn journaled(&self) -> impl Iterator<Item = &Blob> + '_ {
        self.journal.iter().flat_map(|journal| journal.removed.iter())
    }
}

/// The hash behind the deletion clock: fixed, since WATCH stamps compare across it, and only
/// ever costs a spurious EXEC failure if crafted keys share a slot.
fn deletion_hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

/// What scripts and functions a keyspace keeps.
#[derive(Clone, Debug, Default, PartialEq)]
struct Programs {
    scripts: Scripts,
    libraries: Libraries,
    /// The Lua interpreter scripts run in, kept between runs (not replicated state).
    vm: crate::scripting::vm::VmSlot,
}

/// All databases of one shard, with what every table in them is hashed by and when their
/// collections leave the compact forms.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Keyspace {
    dbs: BTreeMap<DbIndex, Db>,
    hasher: TableHasher,
    /// Whether the seed was chosen (the first leader proposes one for a new keyspace).
    seeded: bool,
    encodings: Encodings,
    /// The events of the entry being applied, for the node to publish (not replicated state).
    /// Boxed: the keyspace is held by value in every shard's machine, and this is rarely used.
    outbox: Box<Outbox>,
    /// The script cache and function libraries: replicated state like the data, though no
    /// FLUSHALL clears them. Boxed: most keyspaces hold none, and the state machine stays
    /// small to move.
    programs: Box<Programs>,
    /// The slots the shard owns (see `Request::OwnSlots`): none known until its leader first
    /// says, and then any key is allowed, as before shards knew theirs.
    owned_slots: Option<SlotRanges>,
    /// The slot moves the shard takes part in (see `migration`). Boxed: rarely any.
    moves: Box<crate::migration::Moves>,
}

impl Keyspace {
    pub fn new() -> Keyspace {
        Keyspace::default()
    }

    pub fn db(&self, index: DbIndex) -> &Db {
        self.dbs.get(&index).unwrap_or(&EMPTY_DB)
    }

    pub fn db_mut(&mut self, index: DbIndex) -> &mut Db {
        let fresh = self.fresh_db();
        self.dbs.entry(index).or_insert_with(fresh)
    }

    /// A database to write to, with the encodings its collections follow.
    pub fn db_and_encodings(&mut self, index: DbIndex) -> (&mut Db, &Encodings) {
        let fresh = self.fresh_db();
        (self.dbs.entry(index).or_insert_with(fresh), &self.encodings)
    }

    /// Makes an empty database that raises the events wanted here.
    fn fresh_db(&self) -> impl FnOnce() -> Db {
        let (hasher, wanted, now_ms) = (self.hasher, self.outbox.wanted(), self.outbox.now_ms());
        let journal = self.moves.outgoing.as_ref().map(|out| out.ranges().clone());
        move || {
            let mut db = Db::new(hasher);
            db.outbox.set_wanted(wanted);
            db.outbox.set_now_ms(now_ms);
            db.set_journal(journal.as_ref());
            db
        }
    }

    /// Raises keyspace event `event` of `class` on `key` in database `db`, if this node wants
    /// that class (Redis's `notifyKeyspaceEvent`): what a command calls after its change.
    #[inline]
    pub fn notify(&mut self, class: EventClass, event: &'static str, db: DbIndex, key: &[u8]) {
        if self.outbox.wants(class) {
            self.gather_notifications();
            self.outbox.push(class, event, db, key);
        }
    }

    /// Which event classes this node wants raised (its `notify-keyspace-events`).
    pub fn set_notifications(&mut self, wanted: EventClass) {
        let wanted = wanted.recorded();
        if wanted == self.outbox.wanted() {
            return;
        }
        self.outbox.set_wanted(wanted);
        for db in self.dbs.values_mut() {
            db.outbox.set_wanted(wanted);
        }
    }

    pub fn notifications_wanted(&self) -> bool {
        !self.outbox.wanted().is_empty()
    }

    /// The time of the entry being applied, which tells the keyspace's own events whether a
    /// key it replaces had expired.
    pub fn set_notification_time(&mut self, now_ms: TimeMs) {
        self.outbox.set_now_ms(now_ms);
        for db in self.dbs.values_mut() {
            db.outbox.set_now_ms(now_ms);
        }
    }

    /// Moves the databases' own events into the keyspace's outbox, in order.
    fn gather_notifications(&mut self) {
        for (&index, db) in &mut self.dbs {
            if !db.outbox.is_empty() {
                for notification in db.outbox.take() {
                    self.outbox.record(Notification { db: index, ..notification });
                }
            }
        }
    }

    /// The events raised since last taken, oldest first.
    pub fn take_notifications(&mut self) -> Vec<Notification> {
        self.gather_notifications();
        self.outbox.take()
    }

    /// Events dropped past the per-entry bound, since the start.
    pub fn notifications_dropped(&self) -> u64 {
        self.outbox.dropped()
    }

    pub fn encodings(&self) -> &Encodings {
        &self.encodings
    }

    pub fn encodings_mut(&mut self) -> &mut Encodings {
        &mut self.encodings
    }

    pub fn scripts(&self) -> &Scripts {
        &self.programs.scripts
    }

    /// Where the interpreter scripts run in is kept between runs.
    pub fn script_vm(&self) -> &crate::scripting::vm::VmSlot {
        &self.programs.vm
    }

    pub fn scripts_mut(&mut self) -> &mut Scripts {
        &mut self.programs.scripts
    }

    pub fn libraries(&self) -> &Libraries {
        &self.programs.libraries
    }

    pub fn libraries_mut(&mut self) -> &mut Libraries {
        &mut self.programs.libraries
    }

    pub fn hasher(&self) -> TableHasher {
        self.hasher
    }

    pub fn is_seeded(&self) -> bool {
        self.seeded
    }

    /// Chooses the secret seed every table hashes with, once: a later call changes nothing.
    /// Keys written before it (only ever a few, right after the cluster starts) are rehashed.
    pub fn seed(&mut self, seed: (u64, u64)) -> bool {
        if self.seeded {
            return false;
        }
        self.seeded = true;
        self.hasher = TableHasher::new(seed);
        for db in self.dbs.values_mut() {
            db.rehash(self.hasher);
        }
        true
    }

    /// Whether a key of any database has its deadline in `after_ms < deadline <= through_ms`.
    pub fn has_deadline_in(&self, after_ms: TimeMs, through_ms: TimeMs) -> bool {
        self.dbs.values().any(|db| db.has_deadline_in(after_ms, through_ms))
    }

    /// Non-empty databases, by index.
    pub fn dbs(&self) -> impl Iterator<Item = (DbIndex, &Db)> + '_ {
        self.dbs.iter().filter(|(_, db)| !db.is_empty()).map(|(&index, db)| (index, db))
    }

    pub(crate) fn all_dbs(&self) -> &BTreeMap<DbIndex, Db> {
        &self.dbs
    }

    pub(crate) fn set_db(&mut self, index: DbIndex, db: Db) {
        self.dbs.insert(index, db);
    }

    /// A keyspace as a snapshot recorded it (its databases follow).
    pub(crate) fn restore(hasher: TableHasher, seeded: bool, encodings: Encodings) -> Keyspace {
        Keyspace {
            dbs: BTreeMap::new(),
            hasher,
            seeded,
            encodings,
            outbox: Box::default(),
            programs: Box::default(),
            owned_slots: None,
            moves: Box::default(),
        }
    }

    /// Whether a key of `slot` lives in this shard (yes for every slot while that is unknown).
    pub fn owns_slot(&self, slot: u16) -> bool {
        self.owned_slots.as_ref().is_none_or(|owned| owned.contains(slot))
    }

    pub fn owned_slots(&self) -> Option<&SlotRanges> {
        self.owned_slots.as_ref()
    }

    pub fn set_owned_slots(&mut self, owned: Option<SlotRanges>) {
        self.owned_slots = owned;
    }

    /// Whether every key of a command lives in a slot this shard serves.
    pub fn owns_keys<K: AsRef<[u8]>>(&self, keys: impl Iterator<Item = K>) -> Result<(), u16> {
        match &self.owned_slots {
            Some(owned) if !owned.is_every_slot() => {
                match keys.map(|key| crate::slot::key_slot(key.as_ref())).find(|slot| !owned.contains(*slot)) {
                    Some(slot) => Err(slot),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// Whether `key` lives in a slot this shard serves: keys copied in for a move, or left
    /// behind by one, are not listed by KEYS, SCAN or RANDOMKEY.
    pub fn serves(&self, key: &[u8]) -> bool {
        self.owns_keys(std::iter::once(key)).is_ok()
    }

    /// Keys of database `db` in the slots this shard serves (DBSIZE). O(1) unless a slot move
    /// is under way here: then the copies it brought in, or the keys it has yet to drop, are
    /// counted out one by one.
    pub fn served_len(&self, db: DbIndex) -> usize {
        let db = self.db(db);
        if self.moves.is_idle() {
            return db.len();
        }
        db.entries().filter(|entry| self.serves(entry.key())).count()
    }

    pub fn moves(&self) -> &crate::migration::Moves {
        &self.moves
    }

    pub fn moves_mut(&mut self) -> &mut crate::migration::Moves {
        &mut self.moves
    }

    /// Starts (every database journals the removed keys of `ranges`) or ends the journal.
    pub(crate) fn set_removal_journal(&mut self, ranges: Option<SlotRanges>) {
        for db in self.dbs.values_mut() {
            db.set_journal(ranges.as_ref());
        }
    }

    /// The keys removed since the journal was last taken; it starts again empty.
    pub(crate) fn take_removal_journal(&mut self) -> BTreeSet<(DbIndex, Blob)> {
        let mut taken = BTreeSet::new();
        for (&index, db) in &mut self.dbs {
            if let Some(journal) = &mut db.journal {
                taken.extend(std::mem::take(&mut journal.removed).into_iter().map(|key| (index, key)));
            }
        }
        taken
    }

    /// The journal as it stands (for snapshots).
    pub(crate) fn removal_journal(&self) -> Vec<(DbIndex, Blob)> {
        self.dbs.iter().flat_map(|(&index, db)| db.journaled().map(move |key| (index, key.clone()))).collect()
    }

    /// A journal as a snapshot recorded it (after the databases and the moves are restored).
    pub(crate) fn restore_removal_journal(&mut self, removed: Vec<(DbIndex, Blob)>) {
        let ranges = self.moves.outgoing.as_ref().map(|out| out.ranges().clone());
        self.set_removal_journal(ranges.clone());
        if ranges.is_some() {
            for (index, key) in removed {
                if let Some(journal) = &mut self.db_mut(index).journal {
                    journal.removed.insert(key);
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.dbs.values().map(Db::len).sum()
    }

    /// Exchanges two databases' contents. Every key in both counts as changed (WATCH).
    pub fn swap(&mut self, first: DbIndex, second: DbIndex, version: u64) {
        if first == second {
            return;
        }
        // Events waiting in the databases are theirs under their present numbers.
        self.gather_notifications();
        let mut a = self.dbs.remove(&first).unwrap_or_else(self.fresh_db());
        let mut b = self.dbs.remove(&second).unwrap_or_else(self.fresh_db());
        // A journal stays with its database number: every key that was there counts as gone.
        let (mut journal_a, mut journal_b) = (a.journal.take(), b.journal.take());
        for (journal, db) in [(&mut journal_a, &a), (&mut journal_b, &b)] {
            if let Some(journal) = journal {
                db.entries().for_each(|entry| journal.record(entry.key()));
            }
        }
        a.journal = journal_b;
        b.journal = journal_a;
        for (index, mut db) in [(first, b), (second, a)] {
            db.touch_all(version);
            self.dbs.insert(index, db);
        }
    }

    /// Removes every key of every database.
    pub fn clear_all(&mut self) {
        for db in self.dbs.values_mut() {
            db.clear();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_in_a_window() {
        let mut keyspace = Keyspace::new();
        keyspace.db_mut(3).insert(b"k", Value::string(b"v"), Some(100), 1);
        assert!(keyspace.has_deadline_in(99, 100));
        assert!(!keyspace.has_deadline_in(100, 200), "the window excludes its start");
        assert!(!keyspace.has_deadline_in(10, 99));
    }

    #[test]
    fn expired_keys_are_hidden_then_removed_on_write() {
        let mut db = Db::new(TableHasher::default());
        db.insert(b"a", Value::string(b"1"), Some(100), 1);
        assert!(db.get(b"a", 99).is_some());
        assert!(db.get(b"a", 100).is_none());
        assert_eq!(db.len(), 1);
        assert_eq!(db.expired_keys(100, 10), vec![Bytes::from_static(b"a")]);
        assert!(db.get_mut(b"a", 100).is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn expiry_index_follows_changes() {
        let mut db = Db::new(TableHasher::default());
        db.insert(b"a", Value::string(b"1"), Some(100), 1);
        db.set_expiry(b"a", Some(200));
        assert_eq!(db.expired_keys(150, 10), Vec::<Bytes>::new());
        assert_eq!(db.expired_keys(200, 10), vec![Bytes::from_static(b"a")]);
        db.insert(b"a", Value::string(b"2"), None, 2);
        assert_eq!(db.expires_len(), 0);
        db.set_expiry(b"a", Some(50));
        db.remove(b"a");
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn watch_stamps_notice_changes() {
        let mut db = Db::new(TableHasher::default());
        db.insert(b"x", Value::string(b"1"), None, 5);
        let live = db.watch_stamp(b"x", 0, 10);
        let missing = db.watch_stamp(b"y", 0, 10);
        assert!(db.is_unchanged(b"x", &live, 0));
        assert!(db.is_unchanged(b"y", &missing, 0));
        // Created and removed again after the watch: noticed through the deletion clock.
        db.insert(b"y", Value::string(b"1"), None, 11);
        assert!(!db.is_unchanged(b"y", &missing, 0));
        db.remove(b"y");
        assert!(!db.is_unchanged(b"y", &missing, 0));
        db.insert(b"x", Value::string(b"2"), None, 12);
        assert!(!db.is_unchanged(b"x", &live, 0));
    }

    #[test]
    fn removing_a_key_that_was_stale_when_watched_is_not_a_change() {
        let mut db = Db::new(TableHasher::default());
        db.insert(b"s", Value::string(b"1"), Some(100), 3);
        let stamp = db.watch_stamp(b"s", 150, 10);
        assert_eq!(stamp.version, None);
        db.remove_if_expired(b"s", 160);
        assert!(db.is_unchanged(b"s", &stamp, 160));
    }
}
