//! The deterministic state machine: applies log entries to the keyspace and produces replies.
//!
//! Everything it does depends only on the entries it is given: time comes from the leader's
//! stamp, randomness from the log index. Applying the same log on any replica yields the same
//! keyspace, the same replies and the same snapshot bytes.

use crate::command::{ReadCtx, WriteCtx};
use crate::commands::{self, KeyspaceOp};
use crate::keyspace::{Db, HashValue, Keyspace, Value};
use crate::reply::Reply;
use crate::request::{Batch, BatchReply, Request};
use crate::rng::Rng;
use crate::types::{DbIndex, TimeMs};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Version of the snapshot encoding; bumped on any change to `Image`.
pub const SNAPSHOT_FORMAT_VERSION: u8 = 1;

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
        let replies = batch.requests.iter().map(|request| self.apply_request(index, now_ms, request)).collect();
        BatchReply { replies }
    }

    fn apply_request(&mut self, index: u64, now_ms: TimeMs, request: &Request) -> Reply {
        match request {
            Request::Command { db, argv } => run_command(&mut self.keyspace, WriteCtx { db: *db, now_ms, index }, argv),
            Request::Transaction { watches, commands } => {
                let unchanged = watches
                    .iter()
                    .all(|watched| self.keyspace.db(watched.db).is_unchanged(&watched.key, &watched.stamp, now_ms));
                if !unchanged {
                    return Reply::NilArray;
                }
                let ctx = WriteCtx { db: 0, now_ms, index };
                Reply::Array(
                    commands.iter().map(|(db, argv)| run_command(&mut self.keyspace, ctx.in_db(*db), argv)).collect(),
                )
            }
            Request::Expire { db, keys } => {
                let db = self.keyspace.db_mut(*db);
                let removed = keys.iter().filter(|key| db.remove_if_expired(key, now_ms)).count();
                self.expired_keys += removed as u64;
                Reply::Integer(removed as i64)
            }
            Request::Cluster(_) => Reply::from(crate::error::Error::err("a data group takes no cluster changes")),
        }
    }

    /// The state as canonical bytes: the same state always encodes to the same bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        let image = Image {
            version: SNAPSHOT_FORMAT_VERSION,
            clock_ms: self.clock_ms,
            applied_index: self.applied_index,
            expired_keys: self.expired_keys,
            dbs: self
                .keyspace
                .all_dbs()
                .iter()
                .filter(|(_, db)| !db.is_empty() || !db.deletion_clock().is_empty())
                .map(|(&index, db)| DbImage::of(index, db))
                .collect(),
        };
        postcard::to_stdvec(&image).expect("a state image always encodes")
    }

    /// Rebuilds a state machine from `snapshot` bytes.
    pub fn restore(bytes: &[u8]) -> Result<StateMachine, String> {
        let image: Image = postcard::from_bytes(bytes).map_err(|error| format!("undecodable snapshot: {error}"))?;
        if image.version != SNAPSHOT_FORMAT_VERSION {
            return Err(format!(
                "snapshot format {} is not supported (this build reads {})",
                image.version, SNAPSHOT_FORMAT_VERSION
            ));
        }
        let mut keyspace = Keyspace::new();
        for db in image.dbs {
            let (index, db) = db.into_db();
            keyspace.set_db(index, db);
        }
        Ok(StateMachine {
            keyspace,
            clock_ms: image.clock_ms,
            applied_index: image.applied_index,
            expired_keys: image.expired_keys,
        })
    }

    /// A digest of the whole replicated state (data, expiry times, versions): equal on every
    /// replica that applied the same entries.
    pub fn digest(&self) -> u128 {
        xxhash_rust::xxh3::xxh3_128(&self.snapshot())
    }
}

/// Runs one command inside a log entry (reads included, as in a transaction).
fn run_command(keyspace: &mut Keyspace, ctx: WriteCtx, argv: &[Bytes]) -> Reply {
    match commands::parse_keyspace_command(argv) {
        Ok(Some(KeyspaceOp::Write(op))) => op.run(keyspace, &ctx),
        Ok(Some(KeyspaceOp::Read(op))) => {
            // Reads in a transaction draw randomness from the log index: deterministic.
            let mut rng = Rng::new(ctx.index);
            op.run(keyspace, &mut ReadCtx { db: ctx.db, now_ms: ctx.now_ms, rng: &mut rng })
        }
        Ok(None) => Reply::from(crate::error::Error::err("command not allowed in the log")),
        Err(error) => Reply::from(error),
    }
}

#[derive(Serialize, Deserialize)]
struct Image {
    version: u8,
    clock_ms: TimeMs,
    applied_index: u64,
    expired_keys: u64,
    dbs: Vec<DbImage>,
}

#[derive(Serialize, Deserialize)]
struct DbImage {
    index: DbIndex,
    deletion_clock: Vec<u64>,
    entries: Vec<EntryImage>,
}

#[derive(Serialize, Deserialize)]
struct EntryImage {
    key: Bytes,
    version: u64,
    expire_at_ms: Option<TimeMs>,
    value: ValueImage,
}

#[derive(Serialize, Deserialize)]
enum ValueImage {
    Str(Bytes),
    Hash(Vec<(Bytes, Bytes)>),
}

impl DbImage {
    fn of(index: DbIndex, db: &Db) -> DbImage {
        let entries = db
            .entries()
            .map(|(key, entry)| EntryImage {
                key: key.clone(),
                version: entry.version,
                expire_at_ms: entry.expire_at_ms(),
                value: match &entry.value {
                    Value::Str(bytes) => ValueImage::Str(bytes.clone()),
                    Value::Hash(hash) => ValueImage::Hash(hash.iter().map(|(f, v)| (f.clone(), v.clone())).collect()),
                },
            })
            .collect();
        DbImage { index, deletion_clock: db.deletion_clock().to_vec(), entries }
    }

    fn into_db(self) -> (DbIndex, Db) {
        let entries = self
            .entries
            .into_iter()
            .map(|entry| {
                let value = match entry.value {
                    ValueImage::Str(bytes) => Value::Str(bytes),
                    ValueImage::Hash(pairs) => Value::Hash(pairs.into_iter().collect::<HashValue>()),
                };
                (entry.key, value, entry.expire_at_ms, entry.version)
            })
            .collect();
        (self.index, Db::from_parts(entries, self.deletion_clock))
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
}
