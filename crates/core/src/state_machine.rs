//! The deterministic state machine: applies log entries to the keyspace and produces replies.
//!
//! Everything it does depends only on the entries it is given: time comes from the leader's
//! stamp, randomness from the keyspace's secret seed mixed with the entry's log index.
//! Applying the same log on any replica yields the same keyspace, the same replies and the same
//! snapshot bytes.
//!
//! Snapshots stream: the state is written key by key into any `Write` (a file, a hasher for the
//! digest) and read back from any `Read`, so imaging a large keyspace never holds a second copy
//! of it in memory. The format is a version byte, then frames (a varint length and a postcard
//! record each): a header, then per database its own header and its entries.

use crate::blocking::{self, WaiterId, Waiters, WaitersImage, WAITERS_PER_OWNER_MAX, WAITER_LEASE_MS};
use crate::command::{ReadCtx, WriteCtx};
use crate::commands::{self, BlockingOp, KeyspaceOp};
use crate::keyspace::stream::StreamImage;
use crate::keyspace::{
    Blob, Db, Encodings, HashValue, Keyspace, ListValue, SetValue, StreamValue, TableHasher, Value, ZSetValue,
};
use crate::once::{Remembered, Seen, Sessions};
use crate::reply::Reply;
use crate::request::{Batch, BatchReply, Request};
use crate::rng::Rng;
use crate::slot::SlotRanges;
use crate::types::{DbIndex, TimeMs};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

/// Version of the snapshot encoding; bumped on any change to the records below. Version 1
/// (one postcard image of everything, strings and hashes only), version 2 (no sessions of
/// exactly-once requests), version 3 (no streams, and encodings without the stream settings),
/// version 4 (no script cache or function libraries) and version 5 (no owned slots) are still
/// read, as are version 6 (no slot moves) and version 7 (no record of the moves finished).
pub const SNAPSHOT_FORMAT_VERSION: u8 = 8;

/// Largest frame a snapshot may hold: one key's whole value (a collection is one frame).
const SNAPSHOT_FRAME_BYTES_MAX: usize = crate::limits::LOG_RECORD_BYTES_MAX;

#[derive(Clone, Debug, Default)]
pub struct StateMachine {
    keyspace: Keyspace,
    /// The latest leader time applied: time never runs backwards for the keyspace, even when a
    /// new leader's clock is behind the old one's.
    clock_ms: TimeMs,
    /// Log index of the last applied entry.
    applied_index: u64,
    /// Keys removed because their time had passed (INFO's `expired_keys`).
    expired_keys: u64,
    /// Blocked clients waiting for keys (see [`crate::blocking`]).
    waiters: Waiters,
    /// What tagged requests were applied, per sender (see [`crate::once`]).
    sessions: Sessions,
}

impl StateMachine {
    pub fn new() -> StateMachine {
        StateMachine::default()
    }

    pub fn keyspace(&self) -> &Keyspace {
        &self.keyspace
    }

    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    pub fn clock_ms(&self) -> TimeMs {
        self.clock_ms
    }

    pub fn expired_keys(&self) -> u64 {
        self.expired_keys
    }

    pub fn waiters(&self) -> &Waiters {
        &self.waiters
    }

    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Records an entry that carries no batch (a blank or membership entry).
    pub fn skip(&mut self, index: u64) {
        assert!(index > self.applied_index || self.applied_index == 0, "entries apply in order");
        self.applied_index = index;
    }

    /// Applies one log entry's batch and returns one reply per request.
    pub fn apply(&mut self, index: u64, batch: &Batch) -> BatchReply {
        assert!(
            index > self.applied_index || self.applied_index == 0,
            "entries apply in order: {index} after {}",
            self.applied_index
        );
        self.applied_index = index;
        self.clock_ms = self.clock_ms.max(batch.time_ms);
        let now_ms = self.clock_ms;
        let notifying = self.keyspace.notifications_wanted();
        if notifying {
            self.keyspace.set_notification_time(now_ms);
        }
        let mut served = Vec::new();
        // Leases count too: one left without waiters must still go, or the leader, seeing it
        // due, would propose ticks for ever.
        if self.waiters.next_deadline_ms().is_some() {
            self.end_due_waits(now_ms, &mut served);
        }
        let replies = batch
            .requests
            .iter()
            .enumerate()
            .map(|(position, request)| self.apply_request(index, position as u64, now_ms, request, &mut served))
            .collect();
        let notifications = if notifying { self.keyspace.take_notifications() } else { Vec::new() };
        BatchReply { replies, served, notifications }
    }

    /// Which keyspace events this replica raises (the node's `notify-keyspace-events`): they
    /// come out with each entry's replies. Not replicated state: it changes nothing else.
    pub fn set_notifications(&mut self, wanted: crate::notifications::EventClass) {
        self.keyspace.set_notifications(wanted);
    }

    /// Answers the waiters whose time is up, and drops those whose owner's lease lapsed.
    fn end_due_waits(&mut self, now_ms: TimeMs, served: &mut Vec<(WaiterId, Reply)>) {
        let (timed_out, orphans) = self.waiters.due(now_ms);
        for id in timed_out {
            if let Some(waiter) = self.waiters.remove(&id) {
                let reply = match BlockingOp::parse(&waiter.argv) {
                    Ok(Some(op)) => op.timeout_reply(),
                    _ => Reply::NilArray,
                };
                served.push((id, reply));
            }
        }
        for id in orphans {
            if self.waiters.remove(&id).is_some() {
                served.push((id, blocking::cancelled_reply()));
            }
        }
        self.waiters.forget_idle_leases();
    }

    /// After a write: serves the waiters of the keys it may have made ready, the
    /// longest-waiting first, until a key runs dry. Serving one (BLMOVE) may push to another
    /// key, which is then served too.
    fn serve_ready(&mut self, ctx: &WriteCtx, keys: Vec<(DbIndex, Blob)>, served: &mut Vec<(WaiterId, Reply)>) {
        let mut ready: std::collections::VecDeque<(DbIndex, Blob)> =
            keys.into_iter().filter(|(db, key)| self.waiters.waited_on(*db, key)).collect();
        while let Some((db, key)) = ready.pop_front() {
            // Waiters left waiting ahead of the next one to try.
            let mut skipped = 0;
            while let Some(id) = self.waiters.nth_on(db, &key, skipped) {
                let waiter = self.waiters.get(&id).expect("a queued waiter exists").clone();
                let Ok(Some(op)) = BlockingOp::parse(&waiter.argv) else {
                    self.waiters.remove(&id);
                    served.push((id, crate::Error::err("the blocked command can no longer be parsed").into()));
                    continue;
                };
                match op.try_serve(&mut self.keyspace, &ctx.in_db(waiter.db), Some(&key)) {
                    Ok(Some(reply)) => {
                        self.waiters.remove(&id);
                        served.push((id, reply));
                        if let Some(destination) = op.destination() {
                            ready.push_back((waiter.db, Blob::new(destination)));
                        }
                    }
                    // Not ready after all (empty, or another type now): the waiters keep waiting.
                    Ok(None) if op.served_in_turn() => break,
                    // Nothing for this one (a stream reader waiting past what arrived): the next
                    // may still be served.
                    Ok(None) => skipped += 1,
                    // It cannot be served as it asked (BLMOVE to a key of another type): that is
                    // its answer, and the next waiter may take the element.
                    Err(error) => {
                        self.waiters.remove(&id);
                        served.push((id, error.into()));
                    }
                }
            }
        }
    }

    /// Refuses a command with a key of a slot this shard does not serve: one moving away (the
    /// client tries again and reaches the new owner) or one whose copy is being imported.
    fn serves(&self, argv: &[Bytes]) -> Result<(), Reply> {
        let moving = !self.keyspace.moves().is_idle();
        // The common case, a shard that serves every slot with no move under way, costs no
        // command lookup on the apply path.
        if !moving && self.keyspace.owned_slots().is_none_or(|owned| owned.is_every_slot()) {
            return Ok(());
        }
        let Some(entry) = argv.first().and_then(|name| commands::lookup(name)) else { return Ok(()) };
        // Emptying or swapping whole databases while slots move would race the copy: the
        // source's and the target's copies could be emptied at different points of the move.
        if moving && matches!(entry.spec.name, "flushall" | "flushdb" | "swapdb") {
            return Err(crate::Error::new(format!(
                "TRYAGAIN slots are moving to or from this shard; {} waits until the move ends",
                entry.spec.name.to_ascii_uppercase()
            ))
            .into());
        }
        self.keyspace.owns_keys(entry.spec.keys(argv)).map_err(|slot| {
            crate::Error::new(format!("TRYAGAIN slot {slot} is not served by this shard (it is moving); retry")).into()
        })
    }

    /// After a fence: the clients blocked on keys of slots this shard no longer serves are
    /// told to try again, where the slot's new owner will take them.
    fn end_waits_elsewhere(&mut self, served: &mut Vec<(WaiterId, Reply)>) {
        let gone: Vec<WaiterId> = self
            .waiters
            .keys()
            .into_iter()
            .filter(|(_, key)| self.keyspace.owns_keys(std::iter::once(&key[..])).is_err())
            .flat_map(|(db, key)| self.waiters.all_on(db, &key))
            .collect();
        for id in gone {
            if self.waiters.remove(&id).is_some() {
                served.push((id, crate::Error::new("TRYAGAIN the slot moved to another shard; retry").into()));
            }
        }
    }

    /// The keys a write may have made ready for waiters: its own, or every waited-on key for
    /// the commands that reach into another database or empty one.
    fn touched_keys(&self, db: DbIndex, argv: &[Bytes]) -> Vec<(DbIndex, Blob)> {
        let Some(entry) = argv.first().and_then(|name| commands::lookup(name)) else {
            return Vec::new();
        };
        if !matches!(entry.kind, commands::Kind::Write(_)) {
            return Vec::new();
        }
        // Emptied databases count: a stream reader waiting on a key that went is told so.
        if matches!(entry.spec.name, "move" | "copy" | "swapdb" | "flushdb" | "flushall") {
            return self.waiters.keys();
        }
        entry.spec.keys(argv).map(|key| (db, Blob::new(key))).collect()
    }

    /// A `Block` request: served at once if it can be, else registered to wait. Every outcome
    /// but waiting is also reported as served, so the owner learns it even if the direct
    /// reply is lost on the way.
    fn block(&mut self, ctx: &WriteCtx, argv: &[Bytes], id: WaiterId, served: &mut Vec<(WaiterId, Reply)>) -> Reply {
        self.waiters.renew(id.node, id.incarnation, ctx.now_ms.saturating_add(WAITER_LEASE_MS));
        if self.waiters.contains(&id) {
            return Reply::Blocked;
        }
        if self.waiters.was_cancelled(&id) {
            return blocking::cancelled_reply();
        }
        let op = match BlockingOp::parse(argv) {
            Ok(Some(op)) => op,
            Ok(None) => return crate::Error::err("not a blocking command").into(),
            Err(error) => return error.into(),
        };
        let reply = match op.try_serve(&mut self.keyspace, ctx, None) {
            Ok(Some(reply)) => {
                if let Some(destination) = op.destination() {
                    self.serve_ready(ctx, vec![(ctx.db, Blob::new(destination))], served);
                }
                reply
            }
            Ok(None) if self.waiters.owned_by(id.node, id.incarnation) >= WAITERS_PER_OWNER_MAX => {
                crate::Error::err("too many blocked clients on this node").into()
            }
            Ok(None) => {
                let deadline_ms = op.timeout_ms().map(|timeout| ctx.now_ms.saturating_add(timeout));
                let keys = op.keys().iter().map(Blob::from).collect();
                let argv = op.argv_to_wait(&self.keyspace, ctx.db, ctx.now_ms).unwrap_or_else(|| argv.to_vec());
                self.waiters.register(id, blocking::Waiter { db: ctx.db, argv, keys, deadline_ms });
                return Reply::Blocked;
            }
            Err(error) => error.into(),
        };
        // Not waiting: the lease renewed above may be this owner's only one, with no waiter.
        self.waiters.forget_idle_leases();
        served.push((id, reply.clone()));
        reply
    }

    /// The seed of a request's random choices: secret (so clients cannot predict SPOP) and
    /// the same on every replica.
    fn random_seed(&self, index: u64, position: u64) -> u64 {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&index.to_le_bytes());
        bytes[8..].copy_from_slice(&position.to_le_bytes());
        self.keyspace.hasher().hash(&bytes)
    }

    fn apply_request(
        &mut self,
        index: u64,
        position: u64,
        now_ms: TimeMs,
        request: &Request,
        served: &mut Vec<(WaiterId, Reply)>,
    ) -> Reply {
        let ctx = WriteCtx { db: 0, now_ms, index, random_seed: self.random_seed(index, position), from_script: false };
        match request {
            Request::Command { db, argv } => {
                if let Err(refusal) = self.serves(argv) {
                    return refusal;
                }
                let reply = run_command(&mut self.keyspace, ctx.in_db(*db), argv);
                if !self.waiters.is_empty() {
                    let keys = self.touched_keys(*db, argv);
                    self.serve_ready(&ctx, keys, served);
                }
                reply
            }
            Request::Transaction { watches, commands } => {
                let unchanged = watches
                    .iter()
                    .all(|watched| self.keyspace.db(watched.db).is_unchanged(&watched.key, &watched.stamp, now_ms));
                if !unchanged {
                    return Reply::NilArray;
                }
                if let Some(refusal) = commands.iter().find_map(|(_, argv)| self.serves(argv).err()) {
                    return refusal;
                }
                let replies = commands
                    .iter()
                    .enumerate()
                    .map(|(at, (db, argv))| {
                        let ctx = WriteCtx { random_seed: ctx.random_seed.wrapping_add(at as u64), ..ctx };
                        run_command(&mut self.keyspace, ctx.in_db(*db), argv)
                    })
                    .collect();
                // Waiters are served once the whole transaction is applied, as Redis does.
                if !self.waiters.is_empty() {
                    let keys = commands.iter().flat_map(|(db, argv)| self.touched_keys(*db, argv)).collect();
                    self.serve_ready(&ctx, keys, served);
                }
                Reply::Array(replies)
            }
            Request::Block { db, argv, waiter } => match self.serves(argv) {
                Ok(()) => self.block(&ctx.in_db(*db), argv, *waiter, served),
                Err(refusal) => {
                    served.push((*waiter, refusal.clone()));
                    refusal
                }
            },
            Request::Migrate(step) => {
                let fenced = matches!(step, crate::migration::MigrateStep::Fence { .. });
                let reply = crate::migration::apply(&mut self.keyspace, index, now_ms, step);
                if fenced && !self.waiters.is_empty() {
                    self.end_waits_elsewhere(served);
                }
                reply
            }
            Request::Unblock { waiter, error } => match self.waiters.remove(waiter) {
                Some(removed) => {
                    let reply = match (error, BlockingOp::parse(&removed.argv)) {
                        (true, _) => crate::Error::new("UNBLOCKED client unblocked via CLIENT UNBLOCK").into(),
                        (false, Ok(Some(op))) => op.timeout_reply(),
                        (false, _) => Reply::NilArray,
                    };
                    served.push((*waiter, reply));
                    Reply::Integer(1)
                }
                None => {
                    self.waiters.cancel_unregistered(*waiter);
                    Reply::Integer(0)
                }
            },
            Request::RenewWaiters { node, incarnation, live, next_seq } => {
                self.waiters.renew(*node, *incarnation, now_ms.saturating_add(WAITER_LEASE_MS));
                let gone = self.waiters.not_live(*node, *incarnation, live, *next_seq);
                for id in gone {
                    self.waiters.remove(&id);
                }
                self.waiters.forget_idle_leases();
                Reply::OK
            }
            Request::Tick => Reply::OK,
            Request::OwnSlots { ranges } => match SlotRanges::new(ranges.clone()) {
                Some(owned) => {
                    self.keyspace.set_owned_slots(Some(owned));
                    Reply::OK
                }
                None => crate::Error::new("ERR malformed slot ranges").into(),
            },
            Request::Expire { db, keys } => {
                let db = self.keyspace.db_mut(*db);
                let removed = keys.iter().filter(|key| db.remove_if_expired(key, now_ms)).count();
                self.expired_keys += removed as u64;
                Reply::Integer(removed as i64)
            }
            Request::Seed { seed } => Reply::Integer(i64::from(self.keyspace.seed(*seed))),
            Request::Config { pairs } => {
                let mut encodings = *self.keyspace.encodings();
                for (name, value) in pairs {
                    let name = String::from_utf8_lossy(name);
                    let set = crate::args::parse_i64(value)
                        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())
                        .and_then(|value| encodings.set(&name, value));
                    if let Err(reason) = set {
                        return crate::Error::err(format_args!(
                            "CONFIG SET failed (possibly related to argument '{name}') - {reason}"
                        ))
                        .into();
                    }
                }
                *self.keyspace.encodings_mut() = encodings;
                Reply::OK
            }
            Request::Cluster(_) => Reply::from(crate::error::Error::err("a data group takes no cluster changes")),
            Request::Once { id, done_below, requests } => match self.sessions.seen(*id, *done_below, now_ms) {
                Seen::Fresh => {
                    let replies: Vec<Reply> = requests
                        .iter()
                        .enumerate()
                        .map(|(at, request)| match request {
                            Request::Once { .. } => crate::Error::err("a tagged request inside another").into(),
                            // Positions within a tagged request: distinct from every top-level one.
                            _ => self.apply_request(index, position | (at as u64 + 1) << 32, now_ms, request, served),
                        })
                        .collect();
                    self.sessions.remember(*id, &replies);
                    Reply::Array(replies)
                }
                Seen::Applied(Remembered::Replies(replies)) => Reply::Array(replies),
                Seen::Applied(Remembered::TooLarge) => crate::Error::new(
                    "UNKNOWN the write was applied when first sent, but its reply was too large to keep for a copy sent again; read back before retrying",
                )
                .into(),
                Seen::Refused(why) => crate::Error::new(format!(
                    "UNKNOWN a copy of this write was not applied: {why}; read back before retrying"
                ))
                .into(),
            },
        }
    }

    /// Writes the state as canonical bytes: the same state always writes the same bytes.
    pub fn write_snapshot(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(&[SNAPSHOT_FORMAT_VERSION])?;
        let keyspace = &self.keyspace;
        let dbs: Vec<(&DbIndex, &Db)> =
            keyspace.all_dbs().iter().filter(|(_, db)| !db.is_empty() || !db.deletion_clock().is_empty()).collect();
        let header = Header {
            clock_ms: self.clock_ms,
            applied_index: self.applied_index,
            expired_keys: self.expired_keys,
            seed: keyspace.is_seeded().then(|| keyspace.hasher().seed()),
            encodings: *keyspace.encodings(),
            dbs: dbs.len() as u64,
        };
        write_frame(out, &header)?;
        for (&index, db) in dbs {
            let db_header = DbHeader {
                index,
                home_slots: db.table().home_slots() as u64,
                deletion_clock: db.deletion_clock().to_vec(),
                entries: db.len() as u64,
            };
            write_frame(out, &db_header)?;
            for entry in db.entries() {
                write_frame(
                    out,
                    &EntryImage {
                        key: entry.key().clone(),
                        version: entry.version,
                        expire_at_ms: entry.expire_at_ms(),
                        value: ValueImage::of(&entry.value),
                    },
                )?;
            }
        }
        write_frame(out, &self.waiters.image())?;
        write_frame(out, &self.sessions)?;
        write_frame(out, keyspace.scripts())?;
        write_frame(out, keyspace.libraries())?;
        write_frame(out, &keyspace.owned_slots())?;
        write_frame(out, keyspace.moves())?;
        write_frame(out, &keyspace.removal_journal())
    }

    /// The state as bytes (see [`StateMachine::write_snapshot`]).
    pub fn snapshot(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.write_snapshot(&mut bytes).expect("writing to memory cannot fail");
        bytes
    }

    /// Rebuilds a state machine from snapshot bytes read from `input`.
    pub fn read_snapshot(input: &mut dyn Read) -> Result<StateMachine, String> {
        let mut version = [0u8];
        input.read_exact(&mut version).map_err(|e| format!("undecodable snapshot: {e}"))?;
        match version[0] {
            1 => {
                let mut rest = vec![1u8];
                input.read_to_end(&mut rest).map_err(|e| format!("undecodable snapshot: {e}"))?;
                v1::restore(&rest)
            }
            version @ (2..=SNAPSHOT_FORMAT_VERSION) => {
                let header: Header =
                    if version >= 4 { read_frame(input)? } else { read_frame::<HeaderV3>(input)?.into() };
                let hasher = header.seed.map(TableHasher::new).unwrap_or_default();
                let mut keyspace = Keyspace::restore(hasher, header.seed.is_some(), header.encodings);
                for _ in 0..header.dbs {
                    let db_header: DbHeader = read_frame(input)?;
                    let mut db = Db::restore(hasher, db_header.home_slots as usize, db_header.deletion_clock);
                    for _ in 0..db_header.entries {
                        let entry: EntryImage = read_frame(input)?;
                        let value = entry.value.into_value(hasher, &header.encodings)?;
                        db.insert(&entry.key, value, entry.expire_at_ms, entry.version);
                    }
                    keyspace.set_db(db_header.index, db);
                }
                let waiters = Waiters::restore(read_frame::<WaitersImage>(input)?);
                let sessions = if version >= 3 { read_frame::<Sessions>(input)? } else { Sessions::default() };
                if version >= 5 {
                    *keyspace.scripts_mut() = read_frame::<crate::keyspace::Scripts>(input)?;
                    *keyspace.libraries_mut() = read_frame::<crate::keyspace::Libraries>(input)?;
                }
                if version >= 6 {
                    keyspace.set_owned_slots(read_frame::<Option<SlotRanges>>(input)?);
                }
                if version >= 8 {
                    *keyspace.moves_mut() = read_frame::<crate::migration::Moves>(input)?;
                } else if version == 7 {
                    *keyspace.moves_mut() = read_frame::<crate::migration::MovesV7>(input)?.into();
                }
                if version >= 7 {
                    keyspace.restore_removal_journal(read_frame::<Vec<(DbIndex, Blob)>>(input)?);
                }
                let mut trailing = [0u8];
                if input.read(&mut trailing).map_err(|e| format!("undecodable snapshot: {e}"))? != 0 {
                    return Err("undecodable snapshot: bytes after the last database".into());
                }
                Ok(StateMachine {
                    keyspace,
                    clock_ms: header.clock_ms,
                    applied_index: header.applied_index,
                    expired_keys: header.expired_keys,
                    waiters,
                    sessions,
                })
            }
            other => Err(format!(
                "snapshot format {other} is not supported (this build reads 1 to {SNAPSHOT_FORMAT_VERSION})"
            )),
        }
    }

    /// Rebuilds a state machine from `snapshot` bytes.
    pub fn restore(bytes: &[u8]) -> Result<StateMachine, String> {
        StateMachine::read_snapshot(&mut &bytes[..])
    }

    /// A digest of the whole replicated state (data, expiry times, versions): equal on every
    /// replica that applied the same entries. Streams the snapshot through the hash.
    pub fn digest(&self) -> u128 {
        struct Digest(xxhash_rust::xxh3::Xxh3);
        impl Write for Digest {
            fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
                self.0.update(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut digest = Digest(xxhash_rust::xxh3::Xxh3::new());
        self.write_snapshot(&mut digest).expect("hashing cannot fail");
        digest.0.digest128()
    }
}

fn write_frame(out: &mut dyn Write, record: &impl Serialize) -> io::Result<()> {
    let bytes = postcard::to_stdvec(record).expect("snapshot records encode");
    let mut length = Vec::with_capacity(5);
    let mut rest = bytes.len();
    loop {
        let group = (rest & 0x7f) as u8;
        rest >>= 7;
        if rest == 0 {
            length.push(group);
            break;
        }
        length.push(group | 0x80);
    }
    out.write_all(&length)?;
    out.write_all(&bytes)
}

fn read_frame<T: serde::de::DeserializeOwned>(input: &mut dyn Read) -> Result<T, String> {
    let broken = |e: io::Error| format!("undecodable snapshot: {e}");
    let (mut length, mut shift) = (0usize, 0);
    loop {
        let mut byte = [0u8];
        input.read_exact(&mut byte).map_err(broken)?;
        length |= usize::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 35 {
            return Err("undecodable snapshot: frame length overflows".into());
        }
    }
    if length > SNAPSHOT_FRAME_BYTES_MAX {
        return Err(format!("undecodable snapshot: a {length}-byte frame is larger than any record"));
    }
    let mut bytes = vec![0u8; length];
    input.read_exact(&mut bytes).map_err(broken)?;
    postcard::from_bytes(&bytes).map_err(|e| format!("undecodable snapshot: {e}"))
}

/// Runs one command inside a log entry (reads included, as in a transaction).
fn run_command(keyspace: &mut Keyspace, ctx: WriteCtx, argv: &[Bytes]) -> Reply {
    match commands::parse_keyspace_command(argv) {
        Ok(Some(KeyspaceOp::Write(op))) => op.run(keyspace, &ctx),
        Ok(Some(KeyspaceOp::Read(op))) => {
            let mut rng = Rng::new(ctx.random_seed);
            op.run(
                keyspace,
                &mut ReadCtx { db: ctx.db, now_ms: ctx.now_ms, rng: &mut rng, from_script: ctx.from_script },
            )
        }
        Ok(None) => Reply::from(crate::error::Error::err("command not allowed in the log")),
        Err(error) => Reply::from(error),
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    clock_ms: TimeMs,
    applied_index: u64,
    expired_keys: u64,
    /// The keyspace's hash seed, once chosen.
    seed: Option<(u64, u64)>,
    encodings: Encodings,
    dbs: u64,
}

/// The header before streams: encodings without the stream node settings.
#[derive(Deserialize)]
struct HeaderV3 {
    clock_ms: TimeMs,
    applied_index: u64,
    expired_keys: u64,
    seed: Option<(u64, u64)>,
    encodings: (u64, u64, u64, u64, u64, i64),
    dbs: u64,
}

impl From<HeaderV3> for Header {
    fn from(old: HeaderV3) -> Header {
        let (hash_entries, hash_value, intset_entries, zset_entries, zset_value, list_size) = old.encodings;
        let encodings = Encodings {
            hash_max_listpack_entries: hash_entries,
            hash_max_listpack_value: hash_value,
            set_max_intset_entries: intset_entries,
            zset_max_listpack_entries: zset_entries,
            zset_max_listpack_value: zset_value,
            list_max_listpack_size: list_size,
            ..Encodings::default()
        };
        Header {
            clock_ms: old.clock_ms,
            applied_index: old.applied_index,
            expired_keys: old.expired_keys,
            seed: old.seed,
            encodings,
            dbs: old.dbs,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct DbHeader {
    index: DbIndex,
    home_slots: u64,
    deletion_clock: Vec<u64>,
    entries: u64,
}

#[derive(Serialize, Deserialize)]
struct EntryImage {
    key: Blob,
    version: u64,
    expire_at_ms: Option<TimeMs>,
    value: ValueImage,
}

/// A value as snapshots (and DUMP payloads) record it: its elements, and, for a collection in
/// a table, the table's size, so that the restored table has the same layout (random picks
/// depend on it).
#[derive(Serialize, Deserialize)]
pub(crate) enum ValueImage {
    Str(Blob),
    Hash { home_slots: Option<u64>, pairs: Vec<(Blob, Blob)> },
    List(Vec<Blob>),
    Set { home_slots: Option<u64>, members: Vec<Blob> },
    ZSet { home_slots: Option<u64>, pairs: Vec<(Blob, f64)> },
    Stream(Box<StreamImage>),
}

impl ValueImage {
    pub(crate) fn of(value: &Value) -> ValueImage {
        let slots = |home: Option<usize>| home.map(|h| h as u64);
        match value {
            Value::Str(blob) => ValueImage::Str(blob.clone()),
            Value::Hash(hash) => ValueImage::Hash {
                home_slots: slots(hash.home_slots()),
                pairs: hash.iter().map(|(f, v)| (Blob::new(f), Blob::new(v))).collect(),
            },
            Value::List(list) => ValueImage::List(list.iter().map(Blob::new).collect()),
            Value::Set(set) => ValueImage::Set {
                home_slots: slots(set.home_slots()),
                members: set.iter().map(|m| Blob::new(&m.as_bytes())).collect(),
            },
            Value::ZSet(zset) => ValueImage::ZSet {
                home_slots: slots(zset.home_slots()),
                pairs: zset.iter().map(|(m, s)| (Blob::new(m), s)).collect(),
            },
            Value::Stream(stream) => ValueImage::Stream(Box::new(stream.image())),
        }
    }

    /// The value, rebuilt through the collections' own inserts so that it takes the
    /// representation the encodings call for, whatever layout the image claims (RESTORE
    /// payloads come from clients).
    pub(crate) fn into_normalized_value(self, hasher: TableHasher, encodings: &Encodings) -> Result<Value, String> {
        Ok(match self {
            ValueImage::Str(blob) => Value::Str(blob),
            ValueImage::Hash { pairs, .. } => {
                let mut hash = HashValue::new();
                for (field, value) in &pairs {
                    hash.insert(field, value, encodings, hasher);
                }
                Value::Hash(hash)
            }
            ValueImage::List(elements) => {
                Value::List(Box::new(ListValue::from_elements(elements.iter().map(|e| &e[..]), encodings)))
            }
            ValueImage::Set { members, .. } => {
                let mut set = SetValue::new();
                for member in &members {
                    set.insert(member, encodings, hasher);
                }
                Value::Set(set)
            }
            ValueImage::ZSet { pairs, .. } => {
                let mut zset = ZSetValue::new();
                for (member, score) in &pairs {
                    if score.is_nan() {
                        return Err("a sorted set score is NaN".into());
                    }
                    zset.insert(member, *score, encodings, hasher);
                }
                Value::ZSet(zset)
            }
            ValueImage::Stream(image) => Value::Stream(Box::new(StreamValue::restore(*image)?)),
        })
    }

    /// Whether the value would be empty (never stored).
    pub(crate) fn is_empty_collection(&self) -> bool {
        match self {
            ValueImage::Str(_) => false,
            ValueImage::Hash { pairs, .. } => pairs.is_empty(),
            ValueImage::List(elements) => elements.is_empty(),
            ValueImage::Set { members, .. } => members.is_empty(),
            ValueImage::ZSet { pairs, .. } => pairs.is_empty(),
            ValueImage::Stream(_) => false,
        }
    }

    pub(crate) fn into_value(self, hasher: TableHasher, encodings: &Encodings) -> Result<Value, String> {
        let slots = |home: Option<u64>| home.map(|h| h as usize);
        Ok(match self {
            ValueImage::Str(blob) => Value::Str(blob),
            ValueImage::Hash { home_slots, pairs } => Value::Hash(HashValue::restore(slots(home_slots), pairs, hasher)),
            ValueImage::List(elements) => {
                Value::List(Box::new(ListValue::from_elements(elements.iter().map(|e| &e[..]), encodings)))
            }
            ValueImage::Set { home_slots, members } => {
                Value::Set(SetValue::restore(slots(home_slots), members, hasher)?)
            }
            ValueImage::ZSet { home_slots, pairs } => {
                Value::ZSet(ZSetValue::restore(slots(home_slots), pairs, hasher)?)
            }
            ValueImage::Stream(image) => Value::Stream(Box::new(StreamValue::restore(*image)?)),
        })
    }
}

/// The first snapshot format: one postcard image of the whole state.
mod v1 {
    use super::*;

    #[derive(Deserialize)]
    struct Image {
        version: u8,
        clock_ms: TimeMs,
        applied_index: u64,
        expired_keys: u64,
        dbs: Vec<DbImage>,
    }

    #[derive(Deserialize)]
    struct DbImage {
        index: DbIndex,
        deletion_clock: Vec<u64>,
        entries: Vec<EntryImage>,
    }

    #[derive(Deserialize)]
    struct EntryImage {
        key: Bytes,
        version: u64,
        expire_at_ms: Option<TimeMs>,
        value: ValueImage,
    }

    #[derive(Deserialize)]
    enum ValueImage {
        Str(Bytes),
        Hash(Vec<(Bytes, Bytes)>),
    }

    /// An unseeded keyspace: its first leader proposes a seed, and everything is rehashed.
    pub(super) fn restore(bytes: &[u8]) -> Result<StateMachine, String> {
        let image: Image = postcard::from_bytes(bytes).map_err(|error| format!("undecodable snapshot: {error}"))?;
        assert_eq!(image.version, 1, "dispatched on the version byte");
        let encodings = Encodings::default();
        let mut keyspace = Keyspace::new();
        for db_image in image.dbs {
            let mut db = Db::restore(TableHasher::default(), 0, db_image.deletion_clock);
            for entry in db_image.entries {
                let value = match entry.value {
                    ValueImage::Str(bytes) => Value::string(&bytes),
                    ValueImage::Hash(pairs) => {
                        let mut hash = HashValue::new();
                        for (field, value) in pairs {
                            hash.insert(&field, &value, &encodings, TableHasher::default());
                        }
                        Value::Hash(hash)
                    }
                };
                db.insert(&entry.key, value, entry.expire_at_ms, entry.version);
            }
            keyspace.set_db(db_image.index, db);
        }
        Ok(StateMachine {
            keyspace,
            clock_ms: image.clock_ms,
            applied_index: image.applied_index,
            expired_keys: image.expired_keys,
            waiters: Waiters::default(),
            sessions: Sessions::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::WatchStamp;
    use crate::request::WatchedKey;

    fn command(words: &[&str]) -> Request {
        Request::Command { db: 0, argv: words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect() }
    }

    fn batch(time_ms: TimeMs, requests: Vec<Request>) -> Batch {
        Batch { time_ms, requests }
    }

    #[test]
    fn applies_batches_in_order_with_one_reply_each() {
        let mut sm = StateMachine::new();
        let reply =
            sm.apply(1, &batch(10, vec![command(&["set", "a", "1"]), command(&["incr", "a"]), command(&["get", "a"])]));
        assert_eq!(reply.replies, vec![Reply::OK, Reply::Integer(2), Reply::Bulk(Bytes::from_static(b"2"))]);
        assert_eq!(sm.applied_index(), 1);
    }

    #[test]
    fn time_never_runs_backwards() {
        let mut sm = StateMachine::new();
        sm.apply(1, &batch(1000, vec![command(&["set", "a", "1", "PX", "100"])]));
        // A later entry stamped by a leader whose clock is behind still sees the key expired.
        sm.apply(2, &batch(2000, vec![]));
        let reply = sm.apply(3, &batch(500, vec![command(&["get", "a"])]));
        assert_eq!(reply.replies, vec![Reply::Nil]);
        assert_eq!(sm.clock_ms(), 2000);
    }

    #[test]
    fn expire_requests_remove_only_keys_still_expired() {
        let mut sm = StateMachine::new();
        sm.apply(
            1,
            &batch(1000, vec![command(&["set", "a", "1", "PX", "100"]), command(&["set", "b", "1", "PX", "100"])]),
        );
        // `b` got a new life before the expiry entry was applied.
        sm.apply(2, &batch(1200, vec![command(&["set", "b", "2"])]));
        let expire = Request::Expire { db: 0, keys: vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")] };
        assert_eq!(sm.apply(3, &batch(1200, vec![expire])).replies, vec![Reply::Integer(1)]);
        assert_eq!(sm.keyspace().db(0).len(), 1);
        assert_eq!(sm.expired_keys(), 1);
    }

    #[test]
    fn transactions_abort_when_a_watched_key_changed() {
        let mut sm = StateMachine::new();
        sm.apply(1, &batch(10, vec![command(&["set", "w", "1"])]));
        let stamp = sm.keyspace().db(0).watch_stamp(b"w", 10, sm.applied_index());
        let transaction = || Request::Transaction {
            watches: vec![WatchedKey { db: 0, key: Bytes::from_static(b"w"), stamp }],
            commands: vec![(0, vec![Bytes::from_static(b"incr"), Bytes::from_static(b"w")])],
        };
        assert_eq!(sm.apply(2, &batch(10, vec![transaction()])).replies, vec![Reply::Array(vec![Reply::Integer(2)])]);
        // The transaction itself changed `w`, so the same stamp no longer holds.
        assert_eq!(sm.apply(3, &batch(10, vec![transaction()])).replies, vec![Reply::NilArray]);
        let _: WatchStamp = stamp;
    }

    #[test]
    fn snapshots_round_trip_to_the_same_bytes() {
        let mut sm = StateMachine::new();
        sm.apply(
            1,
            &batch(
                10,
                vec![
                    command(&["set", "a", "1", "EX", "100"]),
                    command(&["hset", "h", "f", "v", "g", "w"]),
                    command(&["del", "a"]),
                    command(&["set", "b", "2"]),
                ],
            ),
        );
        sm.apply(
            2,
            &batch(
                20,
                vec![Request::Command {
                    db: 3,
                    argv: vec![Bytes::from_static(b"set"), Bytes::from_static(b"c"), Bytes::from_static(b"3")],
                }],
            ),
        );
        let bytes = sm.snapshot();
        let restored = StateMachine::restore(&bytes).unwrap();
        assert_eq!(restored.snapshot(), bytes);
        assert_eq!(restored.digest(), sm.digest());
        assert_eq!(restored.keyspace(), sm.keyspace());
        assert!(StateMachine::restore(&bytes[..bytes.len() / 2]).is_err());
    }

    fn block(node: u128, seq: u64, words: &[&str]) -> Request {
        Request::Block {
            db: 0,
            argv: words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect(),
            waiter: WaiterId { node: crate::types::NodeId(node), incarnation: 1, seq },
        }
    }

    fn waiter(node: u128, seq: u64) -> WaiterId {
        WaiterId { node: crate::types::NodeId(node), incarnation: 1, seq }
    }

    fn pair(key: &str, element: &str) -> Reply {
        Reply::Array(vec![
            Reply::Bulk(Bytes::copy_from_slice(key.as_bytes())),
            Reply::Bulk(Bytes::copy_from_slice(element.as_bytes())),
        ])
    }

    #[test]
    fn the_longest_waiting_client_gets_the_element_before_any_other_command() {
        let mut sm = StateMachine::new();
        let first = sm
            .apply(1, &batch(10, vec![block(1, 1, &["blpop", "q", "0"]), block(2, 1, &["blpop", "other", "q", "0"])]));
        assert_eq!(first.replies, vec![Reply::Blocked, Reply::Blocked]);
        assert!(first.served.is_empty());
        // One push, then a pop in the same entry: the waiter takes the element first.
        let pushed = sm.apply(2, &batch(20, vec![command(&["rpush", "q", "a"]), command(&["lpop", "q"])]));
        assert_eq!(pushed.replies, vec![Reply::Integer(1), Reply::Nil]);
        assert_eq!(pushed.served, vec![(waiter(1, 1), pair("q", "a"))]);
        let two = sm.apply(3, &batch(30, vec![command(&["rpush", "q", "b", "c"])]));
        assert_eq!(
            two.served,
            vec![(waiter(2, 1), pair("q", "b"))],
            "then the next waiter, from the key that got ready"
        );
        assert_eq!(sm.apply(4, &batch(40, vec![command(&["llen", "q"])])).replies, vec![Reply::Integer(1)]);
        assert!(sm.waiters().is_empty());
    }

    #[test]
    fn waits_time_out_by_the_leaders_time_and_ticks_carry_it() {
        let mut sm = StateMachine::new();
        sm.apply(1, &batch(1_000, vec![block(1, 1, &["brpop", "q", "0.5"])]));
        assert_eq!(sm.waiters().next_deadline_ms(), Some(1_500));
        assert!(sm.apply(2, &batch(1_499, vec![Request::Tick])).served.is_empty());
        let timed_out = sm.apply(3, &batch(1_500, vec![Request::Tick]));
        assert_eq!(timed_out.served, vec![(waiter(1, 1), Reply::NilArray)]);
        // A push after the timeout stays in the list.
        sm.apply(4, &batch(1_600, vec![command(&["rpush", "q", "x"])]));
        assert_eq!(sm.keyspace().db(0).len(), 1);
    }

    #[test]
    fn a_wait_served_at_once_leaves_nothing_to_time_out() {
        // Found by the simulator (seed 5 once lists joined its workload): a BLPOP served at
        // once left its owner's lease behind with no waiter. Once the lease passed, the
        // leader saw a deadline due and proposed a tick every 10 ms for ever, since a tick
        // with no waiters never looked at leases.
        let mut sm = StateMachine::new();
        sm.apply(1, &batch(1_000, vec![command(&["rpush", "q", "a"])]));
        let served = sm.apply(2, &batch(1_000, vec![block(1, 1, &["blpop", "q", "0.5"])]));
        assert_eq!(served.replies, vec![pair("q", "a")]);
        let later = 1_000 + crate::blocking::WAITER_LEASE_MS;
        sm.apply(3, &batch(later, vec![Request::Tick]));
        assert_eq!(sm.waiters().next_deadline_ms(), None, "nothing is left to time out");
    }

    #[test]
    fn blocking_in_a_transaction_answers_at_once_and_moves_chain() {
        let mut sm = StateMachine::new();
        let transaction = Request::Transaction {
            watches: vec![],
            commands: vec![(0, vec![Bytes::from_static(b"blpop"), Bytes::from_static(b"q"), Bytes::from_static(b"0")])],
        };
        assert_eq!(sm.apply(1, &batch(10, vec![transaction])).replies, vec![Reply::Array(vec![Reply::NilArray])]);
        // A waiter moving from src to dst, and one waiting on dst: a push to src serves both.
        sm.apply(2, &batch(10, vec![block(1, 1, &["blmove", "src", "dst", "LEFT", "LEFT", "0"])]));
        sm.apply(3, &batch(10, vec![block(1, 2, &["blpop", "dst", "0"])]));
        let served = sm.apply(4, &batch(10, vec![command(&["lpush", "src", "job"])])).served;
        assert_eq!(
            served,
            vec![(waiter(1, 1), Reply::Bulk(Bytes::from_static(b"job"))), (waiter(1, 2), pair("dst", "job"))]
        );
        assert!(sm.keyspace().is_empty());
    }

    #[test]
    fn a_waiter_that_cannot_be_served_is_answered_and_the_next_one_takes_the_element() {
        let mut sm = StateMachine::new();
        sm.apply(1, &batch(10, vec![command(&["set", "dst", "text"])]));
        sm.apply(2, &batch(10, vec![block(1, 1, &["brpoplpush", "src", "dst", "0"])]));
        sm.apply(3, &batch(10, vec![block(2, 1, &["blpop", "src", "0"])]));
        let served = sm.apply(4, &batch(20, vec![command(&["rpush", "src", "a"])])).served;
        assert_eq!(served, vec![(waiter(1, 1), crate::Error::WRONG_TYPE.into()), (waiter(2, 1), pair("src", "a"))]);
        // A ready key of another type is not ready: its waiters keep waiting.
        sm.apply(5, &batch(20, vec![block(1, 2, &["blpop", "q", "0"]), block(1, 3, &["bzpopmin", "q", "0"])]));
        assert!(sm.apply(6, &batch(30, vec![command(&["sadd", "q", "m"])])).served.is_empty());
        assert_eq!(sm.waiters().len(), 2);
    }

    #[test]
    fn cancelled_or_orphaned_waiters_take_nothing() {
        let mut sm = StateMachine::new();
        sm.apply(1, &batch(1_000, vec![block(1, 1, &["blpop", "q", "0"]), block(2, 1, &["blpop", "q", "0"])]));
        let unblock = Request::Unblock { waiter: waiter(1, 1), error: false };
        assert_eq!(sm.apply(2, &batch(1_000, vec![unblock])).served, vec![(waiter(1, 1), Reply::NilArray)]);
        // A cancellation that came before its request: the late request registers nothing.
        let early = Request::Unblock { waiter: waiter(1, 9), error: false };
        assert_eq!(sm.apply(3, &batch(1_000, vec![early])).replies, vec![Reply::Integer(0)]);
        assert!(sm.apply(4, &batch(1_000, vec![block(1, 9, &["blpop", "q", "0"])])).replies[0].is_error());
        // Node 2 stops renewing: once its lease lapses its waiter is dropped and the push stays.
        let later = 1_000 + crate::blocking::WAITER_LEASE_MS;
        let lapsed = sm.apply(5, &batch(later, vec![command(&["rpush", "q", "x"])]));
        assert_eq!(lapsed.served, vec![(waiter(2, 1), crate::blocking::cancelled_reply())]);
        assert_eq!(sm.apply(6, &batch(later, vec![command(&["llen", "q"])])).replies, vec![Reply::Integer(1)]);
    }

    fn once(seq: u64, done_below: u64, requests: Vec<Request>) -> Request {
        let id = crate::once::RequestId { node: crate::types::NodeId(9), incarnation: 3, seq };
        Request::Once { id, done_below, requests }
    }

    #[test]
    fn a_tagged_write_sent_twice_is_applied_once() {
        let mut sm = StateMachine::new();
        let incr = || once(1, 1, vec![command(&["incr", "n"]), command(&["incr", "n"])]);
        let first = sm.apply(1, &batch(10, vec![incr()]));
        assert_eq!(first.replies, vec![Reply::Array(vec![Reply::Integer(1), Reply::Integer(2)])]);
        // The copy (the sender lost its answer and sent it again) gets the same replies, and
        // the data is as it was.
        let data_before = sm.keyspace().clone();
        assert_eq!(sm.apply(2, &batch(15, vec![incr()])).replies, first.replies);
        assert!(sm.keyspace() == &data_before, "the copy changed the data");
        let copy = sm.apply(3, &batch(20, vec![incr(), command(&["get", "n"])]));
        assert_eq!(
            copy.replies,
            vec![Reply::Array(vec![Reply::Integer(1), Reply::Integer(2)]), Reply::Bulk(Bytes::from_static(b"2"))]
        );
        // Remembered in snapshots too.
        let mut restored = StateMachine::restore(&sm.snapshot()).unwrap();
        assert_eq!(restored.snapshot(), sm.snapshot());
        assert_eq!(restored.apply(4, &batch(30, vec![incr()])).replies, first.replies);
        // Once the sender is done with it, a late copy is refused, not applied.
        sm.apply(4, &batch(30, vec![once(2, 2, vec![command(&["get", "n"])])]));
        let late = sm.apply(5, &batch(40, vec![incr()]));
        assert!(matches!(&late.replies[0], Reply::Error(text) if text.starts_with(b"UNKNOWN")), "{late:?}");
        assert_eq!(sm.apply(6, &batch(50, vec![command(&["get", "n"])])).replies, vec![Reply::Bulk("2".into())]);
    }

    /// `current` (this format, with no scripts, libraries, owned slots or moves) rewritten as
    /// format 2 to 6: without the moves' and the removal journal's frames (four and two bytes
    /// when idle); for 5 and older also without the owned slots' frame (two bytes when none);
    /// for 4 and older also
    /// without the script cache's and the libraries' frames (three and four bytes when empty);
    /// for 2 and 3 also the header's encodings without the stream settings; for 2 also no
    /// sessions' frame.
    fn older_format(current: &[u8], version: u8) -> Vec<u8> {
        // The moves (none, none, epoch 0, none finished) and the removal journal (empty).
        assert_eq!(&current[current.len() - 7..], &[4, 0, 0, 0, 0, 1, 0]);
        let current = &current[..current.len() - 7];
        if version == 7 {
            let mut bytes = current.to_vec();
            bytes[0] = 7;
            bytes.extend_from_slice(&[3, 0, 0, 0, 1, 0]);
            return bytes;
        }
        if version == 6 {
            let mut bytes = current.to_vec();
            bytes[0] = 6;
            return bytes;
        }
        assert_eq!(&current[current.len() - 2..], &[1, 0]);
        let current = &current[..current.len() - 2];
        if version == 5 {
            let mut bytes = current.to_vec();
            bytes[0] = 5;
            return bytes;
        }
        assert_eq!(&current[current.len() - 7..], &[2, 0, 0, 3, 0, 0, 0]);
        let current = &current[..current.len() - 7];
        if version == 4 {
            let mut bytes = current.to_vec();
            bytes[0] = 4;
            return bytes;
        }
        #[derive(Serialize)]
        struct OldHeader {
            clock_ms: TimeMs,
            applied_index: u64,
            expired_keys: u64,
            seed: Option<(u64, u64)>,
            encodings: (u64, u64, u64, u64, u64, i64),
            dbs: u64,
        }
        let mut rest = &current[1..];
        let header: Header = read_frame(&mut rest).unwrap();
        let e = header.encodings;
        let old = OldHeader {
            clock_ms: header.clock_ms,
            applied_index: header.applied_index,
            expired_keys: header.expired_keys,
            seed: header.seed,
            encodings: (
                e.hash_max_listpack_entries,
                e.hash_max_listpack_value,
                e.set_max_intset_entries,
                e.zset_max_listpack_entries,
                e.zset_max_listpack_value,
                e.list_max_listpack_size,
            ),
            dbs: header.dbs,
        };
        let mut bytes = vec![version];
        write_frame(&mut bytes, &old).unwrap();
        bytes.extend_from_slice(rest);
        if version == 2 {
            // No sessions: their frame is two bytes.
            assert_eq!(&bytes[bytes.len() - 3..], &[2, 0, 0]);
            bytes.truncate(bytes.len() - 3);
        }
        bytes
    }

    #[test]
    fn snapshots_of_formats_2_to_7_are_still_read() {
        let mut sm = StateMachine::new();
        sm.apply(1, &batch(10, vec![command(&["set", "a", "1"]), command(&["rpush", "l", "x", "y"])]));
        let current = sm.snapshot();
        for version in [2, 3, 4, 5, 6, 7] {
            let restored = StateMachine::restore(&older_format(&current, version)).unwrap();
            assert_eq!(restored.snapshot(), current, "format {version}");
        }
    }

    #[test]
    fn streams_and_their_groups_live_in_snapshots() {
        let mut sm = StateMachine::new();
        sm.apply(
            1,
            &batch(
                10,
                vec![
                    Request::Config { pairs: vec![("stream-node-max-entries".into(), "2".into())] },
                    command(&["xadd", "s", "*", "f", "v"]),
                    command(&["xadd", "s", "*", "f", "w"]),
                    command(&["xadd", "s", "*", "f", "x"]),
                    command(&["xgroup", "create", "s", "g", "0"]),
                    command(&["xreadgroup", "group", "g", "c", "count", "2", "streams", "s", ">"]),
                ],
            ),
        );
        let mut restored = StateMachine::restore(&sm.snapshot()).unwrap();
        assert_eq!(restored.digest(), sm.digest());
        assert_eq!(restored.keyspace().encodings().stream_node_max_entries, 2);
        let pending = restored.apply(2, &batch(20, vec![command(&["xpending", "s", "g"])]));
        assert_eq!(
            pending.replies[0],
            Reply::Array(vec![
                Reply::Integer(2),
                Reply::Bulk("10-0".into()),
                Reply::Bulk("10-1".into()),
                Reply::Array(vec![Reply::Array(vec![Reply::Bulk("c".into()), Reply::Bulk("2".into())])]),
            ])
        );
    }

    #[test]
    fn stream_readers_wait_for_what_arrives_after_their_ids() {
        let mut sm = StateMachine::new();
        sm.apply(
            1,
            &batch(10, vec![command(&["xadd", "s", "5-0", "f", "v"]), command(&["xgroup", "create", "s", "g", "$"])]),
        );
        let blocked = sm.apply(
            2,
            &batch(
                20,
                vec![
                    block(1, 1, &["xread", "block", "0", "streams", "s", "100-0"]),
                    block(2, 1, &["xread", "block", "0", "streams", "s", "$"]),
                    block(3, 1, &["xreadgroup", "group", "g", "c", "block", "0", "streams", "s", ">"]),
                ],
            ),
        );
        assert_eq!(blocked.replies, vec![Reply::Blocked, Reply::Blocked, Reply::Blocked]);
        // `$` was pinned when it blocked: an entry before the 100-0 waiter's id serves the others.
        let added = sm.apply(3, &batch(30, vec![command(&["xadd", "s", "6-0", "f", "w"])]));
        let entry = Reply::Array(vec![
            Reply::Bulk("6-0".into()),
            Reply::Array(vec![Reply::Bulk("f".into()), Reply::Bulk("w".into())]),
        ]);
        let served = Reply::Keyed(vec![(Reply::Bulk("s".into()), Reply::Array(vec![entry]))]);
        assert_eq!(added.served, vec![(waiter(2, 1), served.clone()), (waiter(3, 1), served)]);
        assert_eq!(sm.waiters().len(), 1, "the reader waiting past 100-0 still waits");
        // A group reader whose stream goes is told so.
        sm.apply(
            4,
            &batch(40, vec![block(3, 2, &["xreadgroup", "group", "g", "c", "block", "0", "streams", "s", ">"])]),
        );
        let flushed = sm.apply(5, &batch(50, vec![command(&["flushall"])]));
        assert_eq!(
            flushed.served,
            vec![(waiter(3, 2), Reply::Error("UNBLOCKED the stream key no longer exists".into()))]
        );
    }

    #[test]
    fn waiters_live_in_snapshots() {
        let mut sm = StateMachine::new();
        sm.apply(1, &batch(10, vec![block(1, 1, &["bzpopmin", "z", "0"])]));
        let mut restored = StateMachine::restore(&sm.snapshot()).unwrap();
        assert_eq!(restored.digest(), sm.digest());
        let served = restored.apply(2, &batch(20, vec![command(&["zadd", "z", "1", "m"])])).served;
        assert_eq!(served.len(), 1);
        assert!(restored.keyspace().is_empty());
    }
}
