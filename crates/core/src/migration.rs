//! Moving slots between shards, as the two data groups see it: the source exports the keys of
//! the moving slots in bounded batches, in rounds, while it keeps serving them; the target
//! imports each batch in export order; then the source is fenced (stops serving the slots),
//! one last round carries what changed since the previous one, and only then does the metadata
//! group hand the slots over (see `cluster_map`). Every step is a log entry of the group it
//! concerns, so the replicas of both shards agree on every step and a new leader carries on
//! where the old one stopped.
//!
//! A round exports every live key of the slots changed since the previous round began (its
//! `version`, the log index of its last change, says so) and a tombstone for every key removed
//! since then (a journal each database keeps while its shard exports). The first round
//! exports everything. Imports must arrive in export order, without gaps (`seq`); whoever
//! drives the move starts a new `attempt` (the target forgets what it had, the source starts
//! its rounds again) whenever it loses track, so a lost batch or a second driver can never
//! leave a stale value on the target.
//!
//! A shard never serves a key of a slot it does not own; keys of unowned slots (copies being
//! imported, or left behind by a finished move until they are dropped) are invisible to
//! clients.

use crate::keyspace::{Blob, Keyspace};
use crate::limits::{MOVE_BATCH_BYTES_MAX, MOVE_BATCH_KEYS_MAX, MOVE_DROP_KEYS_MAX, MOVE_SCAN_ENTRIES_MAX};
use crate::reply::Reply;
use crate::slot::{key_slot, SlotRanges};
use crate::state_machine::ValueImage;
use crate::types::{DbIndex, TimeMs};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A step of a slot move, carried by `Request::Migrate`. New in log format 4.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MigrateStep {
    /// The slots this shard owns, as the cluster map at `epoch` says. A step from an older map
    /// than the last one applied is ignored, so a leader with a stale map cannot hand back
    /// slots a fence took away.
    Own { ranges: Vec<(u16, u16)>, epoch: u64 },
    /// Target: begins importing attempt `attempt` of move `migration`, first dropping any copy
    /// an earlier attempt left of keys in `ranges` (in bounded steps: replies 1 while some
    /// remain; 0 when ready to import).
    Prepare { migration: u64, attempt: u64, ranges: Vec<(u16, u16)> },
    /// Source: begins exporting `ranges` for attempt `attempt`, from the first round.
    Track { migration: u64, attempt: u64, ranges: Vec<(u16, u16)> },
    /// Source: the next batch of the attempt (a bulk reply: an encoded [`ExportBatch`]).
    Export { migration: u64, attempt: u64 },
    /// Target: applies a batch the source exported.
    Import { attempt: u64, batch: Bytes },
    /// Source: stops serving the moving slots (as the map says from `epoch` on); the rounds
    /// start over from the current round's beginning, and the first round that ends after
    /// the fence is the last.
    Fence { migration: u64, attempt: u64, epoch: u64 },
    /// Either side: forgets move `migration`; with `drop_keys`, also drops the keys of `ranges`
    /// in slots this shard does not own, in bounded steps (replies 1 while some remain, then 0).
    Finish { migration: u64, ranges: Vec<(u16, u16)>, drop_keys: bool },
}

impl MigrateStep {
    pub fn size_bytes(&self) -> usize {
        match self {
            MigrateStep::Import { batch, .. } => 64 + batch.len(),
            MigrateStep::Own { ranges, .. }
            | MigrateStep::Prepare { ranges, .. }
            | MigrateStep::Track { ranges, .. }
            | MigrateStep::Finish { ranges, .. } => 64 + 4 * ranges.len(),
            MigrateStep::Export { .. } | MigrateStep::Fence { .. } => 64,
        }
    }
}

/// One key as a batch carries it: its value and expiry, or `None` if it was removed.
#[derive(Serialize, Deserialize)]
struct MovedKey {
    db: DbIndex,
    key: Blob,
    value: Option<(Option<TimeMs>, ValueImage)>,
}

/// A batch of exported keys, in export order (`seq`, from 0 in each attempt).
#[derive(Serialize, Deserialize)]
struct ExportBatch {
    migration: u64,
    attempt: u64,
    seq: u64,
    progress: Progress,
    keys: Vec<MovedKey>,
}

/// Where an export stands, as the driver of a move needs to know it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The round this batch belongs to (0: the full copy).
    pub round: u32,
    /// Whether this batch ends its round.
    pub round_ended: bool,
    /// Keys (and tombstones) the round exported, counted up to this batch.
    pub round_keys: u64,
    /// Keys (and tombstones) in this batch: an empty batch is not numbered, and need not be
    /// imported.
    pub keys: u64,
    /// Whether the source is fenced and a round begun after the fence has ended: the target
    /// then has every key as the source last served it.
    pub complete: bool,
}

/// What the driver learns of a batch without decoding its keys.
pub fn progress_of(batch: &[u8]) -> Result<Progress, String> {
    #[derive(Deserialize)]
    struct Head {
        _migration: u64,
        _attempt: u64,
        _seq: u64,
        progress: Progress,
    }
    postcard::take_from_bytes::<Head>(batch).map(|(head, _)| head.progress).map_err(|e| format!("bad batch: {e}"))
}

/// The source side of a move: where its rounds stand. Replicated state (in snapshots).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    migration: u64,
    attempt: u64,
    ranges: SlotRanges,
    fenced: bool,
    round: u32,
    round_keys: u64,
    /// Keys changed after this index are exported in this round.
    since_index: u64,
    /// The index this round began at (the next round exports what changed after it).
    round_start_index: u64,
    /// The next key to look at: database, then hash; `None` once the scan is over and only
    /// tombstones remain.
    cursor: Option<(DbIndex, u64)>,
    /// Keys removed before this round began (and after the previous one did), to be exported
    /// as tombstones once the scan is over if they are still missing.
    tombstones: BTreeSet<(DbIndex, Blob)>,
    /// Whether a round begun after the fence ended.
    complete: bool,
    next_seq: u64,
}

impl Outgoing {
    pub fn ranges(&self) -> &SlotRanges {
        &self.ranges
    }

    /// The move and attempt this export belongs to.
    pub fn attempt(&self) -> (u64, u64) {
        (self.migration, self.attempt)
    }
}

/// The target side of a move. Replicated state (in snapshots).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incoming {
    migration: u64,
    attempt: u64,
    ranges: SlotRanges,
    /// Whether the copies of an earlier attempt are gone (imports may begin).
    prepared: bool,
    next_seq: u64,
}

impl Incoming {
    /// The move and attempt this import belongs to.
    pub fn attempt(&self) -> (u64, u64) {
        (self.migration, self.attempt)
    }
}

/// Both sides' state of the moves a shard takes part in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moves {
    pub outgoing: Option<Outgoing>,
    pub incoming: Option<Incoming>,
    /// The map epoch of the last ownership the shard applied (see [`MigrateStep::Own`]).
    pub owned_epoch: u64,
    /// The highest move this shard finished. A move is finished only once the map has handed
    /// its slots over or given it up, and drivers take moves one at a time, lowest id first,
    /// each to its end: so a step that would begin a move of this id or a lower one again can
    /// only come from a deposed driver, late. New in snapshot format 8.
    pub finished: u64,
}

/// [`Moves`] as snapshot format 7 recorded it.
#[derive(Deserialize)]
pub(crate) struct MovesV7 {
    outgoing: Option<Outgoing>,
    incoming: Option<Incoming>,
    owned_epoch: u64,
}

impl From<MovesV7> for Moves {
    fn from(v7: MovesV7) -> Moves {
        Moves { outgoing: v7.outgoing, incoming: v7.incoming, owned_epoch: v7.owned_epoch, finished: 0 }
    }
}

impl Moves {
    pub fn is_idle(&self) -> bool {
        self.outgoing.is_none() && self.incoming.is_none()
    }
}

fn error(text: impl std::fmt::Display) -> Reply {
    crate::Error::err(text).into()
}

/// Refuses to begin move `migration` again once this shard finished it (or a later one).
fn not_finished(keyspace: &Keyspace, migration: u64) -> Result<(), Reply> {
    let finished = keyspace.moves().finished;
    match migration <= finished {
        true => Err(error(format_args!("slot move {migration} is over here (moves up to {finished} finished)"))),
        false => Ok(()),
    }
}

fn ranges_of(ranges: &[(u16, u16)]) -> Result<SlotRanges, Reply> {
    SlotRanges::new(ranges.to_vec()).filter(|r| !r.ranges().is_empty()).ok_or_else(|| error("malformed slot ranges"))
}

/// Applies a step at log `index` (time `now_ms`) to `keyspace`.
pub fn apply(keyspace: &mut Keyspace, index: u64, now_ms: TimeMs, step: &MigrateStep) -> Reply {
    match step {
        MigrateStep::Own { ranges, epoch } => {
            let Some(owned) = SlotRanges::new(ranges.clone()) else { return error("malformed slot ranges") };
            let moves = keyspace.moves_mut();
            if *epoch < moves.owned_epoch {
                return Reply::Integer(0);
            }
            moves.owned_epoch = *epoch;
            keyspace.set_owned_slots(Some(owned));
            Reply::Integer(1)
        }
        MigrateStep::Prepare { migration, attempt, ranges } => {
            let ranges = match ranges_of(ranges) {
                Ok(ranges) => ranges,
                Err(reply) => return reply,
            };
            if let Err(reply) = not_finished(keyspace, *migration) {
                return reply;
            }
            if ranges.ranges().iter().any(|&(first, last)| (first..=last).any(|slot| keyspace.owns_slot(slot))) {
                return error("this shard owns some of the slots it would import");
            }
            let current = keyspace.moves().incoming.as_ref().map(|i| (i.migration, i.attempt));
            match current {
                Some((m, a)) if m == *migration && a > *attempt => return error("a later attempt of this move began"),
                Some((m, a)) if m == *migration && a == *attempt => {}
                _ => {
                    keyspace.moves_mut().incoming = Some(Incoming {
                        migration: *migration,
                        attempt: *attempt,
                        ranges: ranges.clone(),
                        prepared: false,
                        next_seq: 0,
                    })
                }
            }
            let remaining = drop_unowned(keyspace, &ranges);
            if remaining == 0 {
                keyspace.moves_mut().incoming.as_mut().expect("set above").prepared = true;
            }
            Reply::Integer(remaining as i64)
        }
        MigrateStep::Track { migration, attempt, ranges } => {
            let ranges = match ranges_of(ranges) {
                Ok(ranges) => ranges,
                Err(reply) => return reply,
            };
            if let Err(reply) = not_finished(keyspace, *migration) {
                return reply;
            }
            if let Some(out) = &keyspace.moves().outgoing {
                if out.migration == *migration && out.attempt > *attempt {
                    return error("a later attempt of this move began");
                }
            }
            keyspace.set_removal_journal(Some(ranges.clone()));
            keyspace.moves_mut().outgoing = Some(Outgoing {
                migration: *migration,
                attempt: *attempt,
                ranges,
                fenced: false,
                round: 0,
                round_keys: 0,
                since_index: 0,
                round_start_index: index,
                cursor: Some((0, 0)),
                tombstones: BTreeSet::new(),
                complete: false,
                next_seq: 0,
            });
            Reply::OK
        }
        MigrateStep::Export { migration, attempt } => match export(keyspace, index, now_ms, *migration, *attempt) {
            Ok(batch) => Reply::Bulk(batch),
            Err(reply) => reply,
        },
        MigrateStep::Import { attempt, batch } => import(keyspace, index, *attempt, batch),
        MigrateStep::Fence { migration, attempt, epoch } => {
            let (ranges, fenced) = match &keyspace.moves().outgoing {
                Some(out) if out.migration == *migration && out.attempt == *attempt => (out.ranges.clone(), out.fenced),
                _ => return error("no such export in progress"),
            };
            let owned = keyspace.owned_slots().cloned().unwrap_or_else(SlotRanges::every_slot);
            let serves_some = ranges.ranges().iter().any(|&(first, last)| owned.overlaps(first, last));
            if *epoch < keyspace.moves().owned_epoch && serves_some {
                return error("a later map gave these slots back; the fence is stale");
            }
            keyspace.set_owned_slots(Some(owned.without(&ranges)));
            let journal = keyspace.take_removal_journal();
            let moves = keyspace.moves_mut();
            moves.owned_epoch = moves.owned_epoch.max(*epoch);
            let out = moves.outgoing.as_mut().expect("checked above");
            out.tombstones.extend(journal);
            if !fenced {
                // The round in progress starts over, from the beginning of its scan: its keys
                // changed since `since_index` may not all have been reached yet. It ends the
                // move: nothing changes on the source after this entry.
                out.fenced = true;
                out.round += 1;
                out.round_keys = 0;
                out.round_start_index = index;
                out.cursor = Some((0, 0));
            }
            Reply::OK
        }
        MigrateStep::Finish { migration, ranges, drop_keys } => {
            let ranges = match ranges_of(ranges) {
                Ok(ranges) => ranges,
                Err(reply) => return reply,
            };
            let moves = keyspace.moves_mut();
            if moves.outgoing.as_ref().is_some_and(|out| out.migration == *migration) {
                moves.outgoing = None;
                keyspace.set_removal_journal(None);
            }
            let moves = keyspace.moves_mut();
            if moves.incoming.as_ref().is_some_and(|inc| inc.migration == *migration) {
                moves.incoming = None;
            }
            moves.finished = moves.finished.max(*migration);
            Reply::Integer(if *drop_keys { drop_unowned(keyspace, &ranges) as i64 } else { 0 })
        }
    }
}

/// Removes up to a batch of keys of `ranges` in slots this shard does not own; returns 0 if
/// none remain after it, else 1.
fn drop_unowned(keyspace: &mut Keyspace, ranges: &SlotRanges) -> usize {
    let mut doomed: Vec<(DbIndex, Blob)> = Vec::new();
    let mut more = false;
    'dbs: for (db_index, db) in keyspace.dbs() {
        for entry in db.entries() {
            let slot = key_slot(entry.key());
            if ranges.contains(slot) && !keyspace.owns_slot(slot) {
                if doomed.len() == MOVE_DROP_KEYS_MAX {
                    more = true;
                    break 'dbs;
                }
                doomed.push((db_index, entry.key().clone()));
            }
        }
    }
    for (db, key) in doomed {
        keyspace.db_mut(db).remove(&key);
    }
    usize::from(more)
}

fn export(keyspace: &mut Keyspace, index: u64, now_ms: TimeMs, migration: u64, attempt: u64) -> Result<Bytes, Reply> {
    let out = match &keyspace.moves().outgoing {
        Some(out) if out.migration == migration && out.attempt == attempt => out.clone(),
        _ => return Err(error("no such export in progress")),
    };
    let mut out = out;
    let mut keys = Vec::new();
    let mut bytes = 0usize;
    let mut scanned = 0usize;
    let full = |keys: &Vec<MovedKey>, bytes: usize| keys.len() >= MOVE_BATCH_KEYS_MAX || bytes >= MOVE_BATCH_BYTES_MAX;
    let mut round_ended = false;
    if !out.complete {
        // The scan: live keys of the moving slots changed since the round's `since_index`.
        while let Some((db_index, hash)) = out.cursor {
            let db = keyspace.db(db_index);
            let mut next = None;
            let mut last_hash = None;
            for (entry_hash, entry) in db.table().iter_from(hash) {
                // Entries that share a hash are taken together: a batch resumes after a hash,
                // never inside one.
                if last_hash != Some(entry_hash) && (full(&keys, bytes) || scanned >= MOVE_SCAN_ENTRIES_MAX) {
                    next = Some(entry_hash);
                    break;
                }
                last_hash = Some(entry_hash);
                scanned += 1;
                // An expired key goes too, with its time: the target may hold an older copy.
                if entry.version <= out.since_index {
                    continue;
                }
                if !out.ranges.contains(key_slot(entry.key())) {
                    continue;
                }
                bytes += entry.key().len() + entry.value.heap_bytes() + 32;
                keys.push(MovedKey {
                    db: db_index,
                    key: entry.key().clone(),
                    value: Some((entry.expire_at_ms(), ValueImage::of(&entry.value))),
                });
            }
            out.cursor = match next {
                Some(hash) => Some((db_index, hash)),
                None => keyspace.all_dbs().range(db_index + 1..).next().map(|(&next_db, _)| (next_db, 0)),
            };
            if next.is_some() {
                break;
            }
        }
        if out.cursor.is_none() {
            if out.fenced {
                // After the fence only the expiry sweep removes keys here, and a key it removed
                // before the scan reached it was scanned by no round since it last changed:
                // the target's older copy must go too.
                let journal = keyspace.take_removal_journal();
                out.tombstones.extend(journal);
            }
            while !full(&keys, bytes) {
                let Some((db, key)) = out.tombstones.pop_first() else { break };
                if keyspace.db(db).get(&key, now_ms).is_none() {
                    bytes += key.len() + 16;
                    keys.push(MovedKey { db, key, value: None });
                }
            }
            round_ended = out.tombstones.is_empty();
        }
    }
    out.round_keys += keys.len() as u64;
    let progress_round = out.round;
    let progress_keys = out.round_keys;
    if round_ended {
        if out.fenced {
            out.complete = true;
        } else {
            out.round += 1;
            out.round_keys = 0;
            out.since_index = out.round_start_index;
            out.round_start_index = index;
            out.cursor = Some((0, 0));
        }
    }
    let seq = out.next_seq;
    if !keys.is_empty() {
        out.next_seq += 1;
    }
    let complete = out.complete;
    if round_ended && !out.fenced {
        out.tombstones = keyspace.take_removal_journal();
    }
    keyspace.moves_mut().outgoing = Some(out);
    let batch = ExportBatch {
        migration,
        attempt,
        seq,
        progress: Progress {
            round: progress_round,
            round_ended,
            round_keys: progress_keys,
            keys: keys.len() as u64,
            complete,
        },
        keys,
    };
    Ok(Bytes::from(postcard::to_stdvec(&batch).expect("batches encode")))
}

fn import(keyspace: &mut Keyspace, index: u64, attempt: u64, batch: &[u8]) -> Reply {
    let batch: ExportBatch = match postcard::from_bytes(batch) {
        Ok(batch) => batch,
        Err(e) => return error(format_args!("undecodable batch: {e}")),
    };
    let incoming = match &keyspace.moves().incoming {
        Some(inc) if inc.migration == batch.migration && inc.attempt == attempt && batch.attempt == attempt => {
            inc.clone()
        }
        _ => return error("no such import in progress"),
    };
    if !incoming.prepared {
        return error("the import is not prepared yet");
    }
    // An empty batch carries the number of the next one with keys.
    if batch.keys.is_empty() || batch.seq < incoming.next_seq {
        return Reply::Integer(0);
    }
    if batch.seq > incoming.next_seq {
        return error(format_args!("batch {} arrived before batch {}", batch.seq, incoming.next_seq));
    }
    for moved in &batch.keys {
        let slot = key_slot(&moved.key);
        if !incoming.ranges.contains(slot) || keyspace.owns_slot(slot) {
            return error(format_args!("the batch holds a key of slot {slot}, which is not being imported"));
        }
    }
    let hasher = keyspace.hasher();
    let encodings = *keyspace.encodings();
    let count = batch.keys.len();
    // Every value is rebuilt before any is stored, so a damaged batch changes nothing.
    let mut values = Vec::with_capacity(count);
    for moved in batch.keys {
        let value = match moved.value {
            Some((expire_at_ms, image)) => match image.into_normalized_value(hasher, &encodings) {
                Ok(value) => Some((expire_at_ms, value)),
                Err(reason) => return error(format_args!("a moved value is damaged: {reason}")),
            },
            None => None,
        };
        values.push((moved.db, moved.key, value));
    }
    for (db, key, value) in values {
        let db = keyspace.db_mut(db);
        match value {
            Some((expire_at_ms, value)) => db.insert(&key, value, expire_at_ms, index),
            None => {
                db.remove(&key);
            }
        }
    }
    keyspace.moves_mut().incoming.as_mut().expect("checked above").next_seq += 1;
    Reply::Integer(count as i64)
}

#[cfg(test)]
mod tests;
