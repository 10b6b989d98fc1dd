//! Keyspace notifications (Redis's `notify-keyspace-events`): the event classes and their
//! letters, and the outbox a write's events are collected in while its entry is applied.
//!
//! Which classes are wanted is a node's own setting, not replicated: it changes no state, so
//! each replica may want different ones. When none are wanted (the default) an event costs
//! one test of a mask. Commands raise events through [`crate::keyspace::Keyspace::notify`];
//! the keyspace itself raises `new` (a key created) and `expired` (a key removed because its
//! time had passed). The state machine hands an entry's events out with its replies, and the
//! node publishes them to its own subscribers. `keymiss` is a read's, not the log's: the node
//! that serves a read asks [`key_misses`] which of its keys were missing.

use crate::commands::{self, Kind};
use crate::keyspace::Keyspace;
use crate::limits::NOTIFICATIONS_PER_ENTRY_MAX;
use crate::types::{DbIndex, TimeMs};
use bytes::Bytes;
use std::fmt;

/// A set of event classes (and the two channel kinds), as Redis's `NOTIFY_*` flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventClass(u32);

impl EventClass {
    pub const NONE: EventClass = EventClass(0);
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: EventClass = EventClass(1 << 0);
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: EventClass = EventClass(1 << 1);
    /// `g`: commands on keys of any type (DEL, EXPIRE, RENAME ...).
    pub const GENERIC: EventClass = EventClass(1 << 2);
    /// `$`
    pub const STRING: EventClass = EventClass(1 << 3);
    /// `l`
    pub const LIST: EventClass = EventClass(1 << 4);
    /// `s`
    pub const SET: EventClass = EventClass(1 << 5);
    /// `h`
    pub const HASH: EventClass = EventClass(1 << 6);
    /// `z`
    pub const ZSET: EventClass = EventClass(1 << 7);
    /// `x`: keys removed because their time had passed.
    pub const EXPIRED: EventClass = EventClass(1 << 8);
    /// `e`: keys evicted for memory (Concord evicts none, so never raised).
    pub const EVICTED: EventClass = EventClass(1 << 9);
    /// `t`
    pub const STREAM: EventClass = EventClass(1 << 10);
    /// `m`: reads of missing keys (outside `A`, as in Redis).
    pub const KEY_MISS: EventClass = EventClass(1 << 11);
    /// `d`: module events (Concord has no modules).
    pub const MODULE: EventClass = EventClass(1 << 13);
    /// `n`: key creation (outside `A`, as in Redis).
    pub const NEW: EventClass = EventClass(1 << 14);
    /// `A`: every class but `m` and `n`.
    pub const ALL: EventClass = EventClass(
        Self::GENERIC.0
            | Self::STRING.0
            | Self::LIST.0
            | Self::SET.0
            | Self::HASH.0
            | Self::ZSET.0
            | Self::EXPIRED.0
            | Self::EVICTED.0
            | Self::STREAM.0
            | Self::MODULE.0,
    );
    /// The channel kinds: without one of them nothing is published.
    const CHANNELS: EventClass = EventClass(Self::KEYSPACE.0 | Self::KEYEVENT.0);

    /// The classes a `notify-keyspace-events` value names; `None` for a letter that names
    /// none (Redis's `keyspaceEventsStringToFlags`).
    pub fn parse(letters: &[u8]) -> Option<EventClass> {
        letters.iter().try_fold(EventClass::NONE, |classes, letter| {
            let class = match letter {
                b'A' => EventClass::ALL,
                b'g' => EventClass::GENERIC,
                b'$' => EventClass::STRING,
                b'l' => EventClass::LIST,
                b's' => EventClass::SET,
                b'h' => EventClass::HASH,
                b'z' => EventClass::ZSET,
                b'x' => EventClass::EXPIRED,
                b'e' => EventClass::EVICTED,
                b'K' => EventClass::KEYSPACE,
                b'E' => EventClass::KEYEVENT,
                b't' => EventClass::STREAM,
                b'm' => EventClass::KEY_MISS,
                b'd' => EventClass::MODULE,
                b'n' => EventClass::NEW,
                _ => return None,
            };
            Some(classes | class)
        })
    }

    /// The flags as Redis numbers them (for keeping in an atomic).
    pub const fn bits(self) -> u32 {
        self.0
    }

    pub const fn from_bits(bits: u32) -> EventClass {
        EventClass(bits)
    }

    pub fn contains(self, other: EventClass) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn intersects(self, other: EventClass) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The event classes worth recording: none unless some channel kind is on.
    pub fn recorded(self) -> EventClass {
        if self.intersects(EventClass::CHANNELS) {
            EventClass(self.0 & !EventClass::CHANNELS.0)
        } else {
            EventClass::NONE
        }
    }
}

impl std::ops::BitOr for EventClass {
    type Output = EventClass;
    fn bitor(self, other: EventClass) -> EventClass {
        EventClass(self.0 | other.0)
    }
}

/// The canonical letters, as `CONFIG GET` reports them (Redis's `keyspaceEventsFlagsToString`).
impl fmt::Display for EventClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letters: &[(EventClass, char)] = if self.contains(EventClass::ALL) {
            &[(EventClass::ALL, 'A')]
        } else {
            &[
                (EventClass::GENERIC, 'g'),
                (EventClass::STRING, '$'),
                (EventClass::LIST, 'l'),
                (EventClass::SET, 's'),
                (EventClass::HASH, 'h'),
                (EventClass::ZSET, 'z'),
                (EventClass::EXPIRED, 'x'),
                (EventClass::EVICTED, 'e'),
                (EventClass::STREAM, 't'),
                (EventClass::MODULE, 'd'),
                (EventClass::NEW, 'n'),
            ]
        };
        let trailing = [(EventClass::KEYSPACE, 'K'), (EventClass::KEYEVENT, 'E'), (EventClass::KEY_MISS, 'm')];
        for (class, letter) in letters.iter().chain(&trailing) {
            if self.contains(*class) {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

/// One event: `event` happened to `key` in database `db`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub class: EventClass,
    pub event: &'static str,
    pub db: DbIndex,
    pub key: Bytes,
}

impl Notification {
    /// `__keyspace@<db>__:<key>`, where the event name is the message.
    pub fn keyspace_channel(&self) -> Bytes {
        let mut channel = format!("__keyspace@{}__:", self.db).into_bytes();
        channel.extend_from_slice(&self.key);
        channel.into()
    }

    /// `__keyevent@<db>__:<event>`, where the key is the message.
    pub fn keyevent_channel(&self) -> Bytes {
        format!("__keyevent@{}__:{}", self.db, self.event).into()
    }
}

/// Events raised while one entry is applied, for the classes wanted here. Not replicated
/// state: two keyspaces are equal whatever their outboxes hold, and snapshots leave it out.
#[derive(Clone, Debug, Default)]
pub struct Outbox {
    wanted: EventClass,
    pending: Vec<Notification>,
    /// Events dropped past [`NOTIFICATIONS_PER_ENTRY_MAX`] (Pub/Sub delivers at most once).
    dropped: u64,
    /// The time of the entry being applied (to tell whether a replaced key had expired).
    now_ms: TimeMs,
}

impl PartialEq for Outbox {
    fn eq(&self, _: &Outbox) -> bool {
        true
    }
}

impl Outbox {
    pub fn wanted(&self) -> EventClass {
        self.wanted
    }

    /// Records events of these classes from now on (see [`EventClass::recorded`]).
    pub fn set_wanted(&mut self, wanted: EventClass) {
        self.wanted = wanted;
        if self.wanted.is_empty() {
            self.pending = Vec::new();
        }
    }

    #[inline]
    pub fn wants(&self, class: EventClass) -> bool {
        self.wanted.intersects(class)
    }

    /// Records an event if its class is wanted.
    #[inline]
    pub fn push(&mut self, class: EventClass, event: &'static str, db: DbIndex, key: &[u8]) {
        if self.wants(class) {
            self.record(Notification { class, event, db, key: Bytes::copy_from_slice(key) });
        }
    }

    pub(crate) fn record(&mut self, notification: Notification) {
        if self.pending.len() >= NOTIFICATIONS_PER_ENTRY_MAX {
            self.dropped += 1;
        } else {
            self.pending.push(notification);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn take(&mut self) -> Vec<Notification> {
        std::mem::take(&mut self.pending)
    }

    /// Takes back the last event if it is `event` on `key` (a key created and found void at
    /// once was never there, as far as subscribers can tell).
    pub(crate) fn retract(&mut self, event: &'static str, key: &[u8]) {
        if self.pending.last().is_some_and(|last| last.event == event && last.key == key) {
            self.pending.pop();
        }
    }

    pub fn now_ms(&self) -> TimeMs {
        self.now_ms
    }

    pub fn set_now_ms(&mut self, now_ms: TimeMs) {
        self.now_ms = now_ms;
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// The `keymiss` events of read command `argv` run in `db` at `now_ms`: one per key it names
/// that is missing, as Redis raises one for every read lookup that misses (OBJECT's aside).
pub fn key_misses(keyspace: &Keyspace, db: DbIndex, argv: &[Bytes], now_ms: TimeMs) -> Vec<Notification> {
    let Some(entry) = argv.first().and_then(|name| commands::lookup(name)) else { return Vec::new() };
    if !matches!(entry.kind, Kind::Read(_)) || entry.spec.name == "object" {
        return Vec::new();
    }
    let data = keyspace.db(db);
    entry
        .spec
        .keys(argv)
        .filter(|key| data.get(key, now_ms).is_none())
        .map(|key| Notification { class: EventClass::KEY_MISS, event: "keymiss", db, key: key.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(letters: &str) -> Option<String> {
        EventClass::parse(letters.as_bytes()).map(|classes| classes.to_string())
    }

    #[test]
    fn config_letters_parse_and_format_as_redis_does() {
        assert_eq!(canonical("gKE").as_deref(), Some("gKE"));
        assert_eq!(canonical("$lshzxeKE").as_deref(), Some("$lshzxeKE"));
        assert_eq!(canonical("KA").as_deref(), Some("AK"));
        assert_eq!(canonical("EA").as_deref(), Some("AE"));
        assert_eq!(canonical("").as_deref(), Some(""));
        assert_eq!(canonical("Ezxg$").as_deref(), Some("g$zxE"), "canonical order, whatever the order given");
        // As in Redis, `n` is not shown beside `A` (though it is on); `m` is.
        assert_eq!(canonical("AnmKE").as_deref(), Some("AKEm"));
        assert_eq!(canonical("nE").as_deref(), Some("nE"));
        assert_eq!(canonical("glshz$xetdKE").as_deref(), Some("AKE"), "every class of A is A");
        assert_eq!(canonical("EEE").as_deref(), Some("E"));
        assert_eq!(canonical("KEw"), None);
        assert_eq!(canonical("ke"), None, "letters are case sensitive: k is none");
    }

    #[test]
    fn nothing_is_recorded_without_a_channel_kind() {
        let mut outbox = Outbox::default();
        outbox.set_wanted(EventClass::parse(b"A").unwrap().recorded());
        outbox.push(EventClass::STRING, "set", 0, b"k");
        assert!(outbox.is_empty(), "A alone publishes nothing, as in Redis");
        outbox.set_wanted(EventClass::parse(b"E$").unwrap().recorded());
        outbox.push(EventClass::LIST, "lpush", 0, b"k");
        outbox.push(EventClass::STRING, "set", 3, b"k");
        let events = outbox.take();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].keyevent_channel(), Bytes::from_static(b"__keyevent@3__:set"));
        assert_eq!(events[0].keyspace_channel(), Bytes::from_static(b"__keyspace@3__:k"));
    }

    #[test]
    fn an_entry_records_a_bounded_number_of_events() {
        let mut outbox = Outbox::default();
        outbox.set_wanted(EventClass::parse(b"KA").unwrap().recorded());
        for _ in 0..NOTIFICATIONS_PER_ENTRY_MAX + 3 {
            outbox.push(EventClass::GENERIC, "del", 0, b"k");
        }
        assert_eq!(outbox.take().len(), NOTIFICATIONS_PER_ENTRY_MAX);
        assert_eq!(outbox.dropped(), 3);
    }
}

#[cfg(test)]
mod events_tests {
    //! The events commands raise, through the state machine as a node applies entries.

    use super::EventClass;
    use crate::blocking::WaiterId;
    use crate::request::{Batch, Request};
    use crate::state_machine::StateMachine;
    use crate::types::NodeId;
    use bytes::Bytes;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|word| Bytes::copy_from_slice(word.as_bytes())).collect()
    }

    /// A state machine raising the classes `letters` name.
    fn machine(letters: &str) -> StateMachine {
        let mut sm = StateMachine::new();
        sm.set_notifications(EventClass::parse(letters.as_bytes()).unwrap());
        sm
    }

    /// Applies `requests` as entry `index` at `time_ms`; the events as `db:event:key`.
    fn apply(sm: &mut StateMachine, index: u64, time_ms: u64, requests: Vec<Request>) -> Vec<String> {
        let reply = sm.apply(index, &Batch { time_ms, requests });
        reply
            .notifications
            .iter()
            .map(|n| format!("{}:{}:{}", n.db, n.event, String::from_utf8_lossy(&n.key)))
            .collect()
    }

    fn command(words: &[&str]) -> Request {
        Request::Command { db: 0, argv: argv(words) }
    }

    /// The events of one command applied alone.
    fn events(sm: &mut StateMachine, words: &[&str]) -> Vec<String> {
        let index = sm.applied_index() + 1;
        apply(sm, index, 1_000, vec![command(words)])
    }

    #[test]
    fn reads_miss_the_keys_they_name_that_are_missing() {
        let mut sm = machine("KEA");
        events(&mut sm, &["mset", "here", "1", "short", "2"]);
        events(&mut sm, &["pexpire", "short", "10"]);
        let misses = |words: &[&str], now_ms| {
            super::key_misses(sm.keyspace(), 0, &argv(words), now_ms)
                .into_iter()
                .map(|n| format!("{}:{}", n.event, String::from_utf8_lossy(&n.key)))
                .collect::<Vec<_>>()
        };
        assert_eq!(misses(&["get", "here"], 1_000), Vec::<String>::new());
        assert_eq!(misses(&["get", "nope"], 1_000), vec!["keymiss:nope"]);
        assert_eq!(misses(&["mget", "a", "here", "b"], 1_000), vec!["keymiss:a", "keymiss:b"]);
        assert_eq!(misses(&["exists", "short"], 1_000), Vec::<String>::new());
        assert_eq!(misses(&["exists", "short"], 2_000), vec!["keymiss:short"], "past its time, it is missing");
        assert_eq!(misses(&["object", "encoding", "nope"], 1_000), Vec::<String>::new(), "OBJECT raises none");
        assert_eq!(misses(&["set", "nope", "1"], 1_000), Vec::<String>::new(), "writes raise none");
        assert_eq!(misses(&["nosuchcommand", "nope"], 1_000), Vec::<String>::new());
    }

    #[test]
    fn string_commands() {
        let sm = &mut machine("KEA$n");
        assert_eq!(events(sm, &["set", "s", "1", "EX", "100"]), ["0:new:s", "0:set:s", "0:expire:s"]);
        assert_eq!(events(sm, &["set", "s", "2"]), ["0:set:s"], "no `new` for a key that was there");
        assert_eq!(events(sm, &["incr", "s"]), ["0:incrby:s"]);
        assert_eq!(events(sm, &["decrby", "s", "2"]), ["0:incrby:s"]);
        assert_eq!(events(sm, &["incrbyfloat", "s", "1.5"]), ["0:incrbyfloat:s"]);
        assert_eq!(events(sm, &["append", "s", "x"]), ["0:append:s"]);
        assert_eq!(events(sm, &["setrange", "s", "0", ""]), Vec::<String>::new(), "nothing written");
        assert_eq!(events(sm, &["mset", "a", "1", "b", "2"]), ["0:new:a", "0:set:a", "0:new:b", "0:set:b"]);
        assert_eq!(events(sm, &["set", "a", "1", "NX"]), Vec::<String>::new(), "not stored");
        assert_eq!(events(sm, &["getdel", "a"]), ["0:del:a"]);
        assert_eq!(events(sm, &["getex", "b", "PERSIST"]), Vec::<String>::new(), "no expiry to remove");
        assert_eq!(events(sm, &["getex", "b", "PX", "500"]), ["0:expire:b"]);
        assert_eq!(events(sm, &["getex", "b", "PERSIST"]), ["0:persist:b"]);
        assert_eq!(events(sm, &["setbit", "bits", "7", "1"]), ["0:new:bits", "0:setbit:bits"]);
        assert_eq!(events(sm, &["setbit", "bits", "7", "1"]), Vec::<String>::new(), "the bit was set");
        assert_eq!(events(sm, &["bitfield", "bits", "SET", "u8", "0", "1"]), ["0:setbit:bits"]);
        assert_eq!(events(sm, &["bitop", "NOT", "dest", "bits"]), ["0:new:dest", "0:set:dest"]);
        assert_eq!(events(sm, &["bitop", "AND", "dest", "nosuch"]), ["0:del:dest"]);
        assert_eq!(events(sm, &["pfadd", "hll", "a"]), ["0:new:hll", "0:pfadd:hll"]);
        assert_eq!(events(sm, &["pfadd", "hll", "a"]), Vec::<String>::new(), "no register changed");
        assert_eq!(events(sm, &["pfmerge", "hll", "hll"]), ["0:pfadd:hll"]);
    }

    #[test]
    fn generic_commands() {
        let sm = &mut machine("KEg");
        events(sm, &["set", "k", "v"]);
        assert_eq!(events(sm, &["expire", "k", "100"]), ["0:expire:k"]);
        assert_eq!(events(sm, &["expire", "k", "100", "NX"]), Vec::<String>::new(), "refused by NX");
        assert_eq!(events(sm, &["persist", "k"]), ["0:persist:k"]);
        assert_eq!(events(sm, &["rename", "k", "r"]), ["0:rename_from:k", "0:rename_to:r"]);
        assert_eq!(events(sm, &["copy", "r", "c", "DB", "2"]), ["2:copy_to:c"]);
        assert_eq!(events(sm, &["move", "r", "1"]), ["0:move_from:r", "1:move_to:r"]);
        events(sm, &["set", "x", "1"]);
        assert_eq!(events(sm, &["del", "x", "nosuch", "x"]), ["0:del:x"]);
        events(sm, &["set", "x", "1"]);
        assert_eq!(events(sm, &["pexpire", "x", "-1"]), ["0:del:x"], "a time past deletes");
        events(sm, &["rpush", "l", "c", "a", "b"]);
        assert_eq!(events(sm, &["sort", "l", "ALPHA", "STORE", "sorted"]), Vec::<String>::new(), "a list event");
        let sm = &mut machine("KEgln");
        events(sm, &["rpush", "l", "c", "a", "b"]);
        assert_eq!(events(sm, &["sort", "l", "ALPHA", "STORE", "sorted"]), ["0:new:sorted", "0:sortstore:sorted"]);
        assert_eq!(events(sm, &["sort", "nosuch", "STORE", "sorted"]), ["0:del:sorted"]);
        // Redis deletes an existing destination and adds the key anew.
        events(sm, &["set", "a", "1"]);
        events(sm, &["set", "b", "2"]);
        assert_eq!(events(sm, &["rename", "a", "b"]), ["0:new:b", "0:rename_from:a", "0:rename_to:b"]);
    }

    #[test]
    fn events_across_databases_keep_program_order() {
        let sm = &mut machine("KEgn");
        events(sm, &["set", "k", "v"]);
        // Redis adds the key to the target, then tells of the move from and to.
        assert_eq!(events(sm, &["move", "k", "1"]), ["1:new:k", "0:move_from:k", "1:move_to:k"]);
        assert_eq!(events(sm, &["swapdb", "0", "1"]), Vec::<String>::new(), "SWAPDB raises nothing, as in Redis");
        assert_eq!(events(sm, &["copy", "k", "c", "DB", "5"]), ["5:new:c", "5:copy_to:c"]);
    }

    #[test]
    fn list_commands() {
        let sm = &mut machine("KEl");
        assert_eq!(events(sm, &["lpush", "l", "a", "b"]), ["0:lpush:l"]);
        assert_eq!(events(sm, &["rpushx", "nosuch", "a"]), Vec::<String>::new());
        assert_eq!(events(sm, &["lset", "l", "0", "z"]), ["0:lset:l"]);
        assert_eq!(events(sm, &["linsert", "l", "BEFORE", "z", "y"]), ["0:linsert:l"]);
        assert_eq!(events(sm, &["lrem", "l", "0", "nosuch"]), Vec::<String>::new());
        assert_eq!(events(sm, &["lmove", "l", "m", "LEFT", "RIGHT"]), ["0:rpush:m", "0:lpop:l"]);
        assert_eq!(events(sm, &["ltrim", "l", "0", "0"]), ["0:ltrim:l"]);
        let sm = &mut machine("KEgl");
        events(sm, &["rpush", "l", "a"]);
        assert_eq!(events(sm, &["rpop", "l"]), ["0:rpop:l", "0:del:l"]);
        events(sm, &["rpush", "l", "a", "b"]);
        assert_eq!(events(sm, &["lmpop", "1", "l", "LEFT", "COUNT", "5"]), ["0:lpop:l", "0:del:l"]);
    }

    #[test]
    fn set_hash_and_sorted_set_commands() {
        let sm = &mut machine("KEA");
        assert_eq!(events(sm, &["sadd", "s", "a", "b"]), ["0:sadd:s"]);
        assert_eq!(events(sm, &["sadd", "s", "a"]), Vec::<String>::new(), "nothing added");
        assert_eq!(events(sm, &["srem", "s", "x"]), Vec::<String>::new());
        assert_eq!(events(sm, &["smove", "s", "t", "a"]), ["0:srem:s", "0:sadd:t"]);
        assert_eq!(events(sm, &["sinterstore", "i", "s", "t"]), Vec::<String>::new(), "empty, and no key to delete");
        assert_eq!(events(sm, &["sunionstore", "u", "s", "t"]), ["0:sunionstore:u"]);
        assert_eq!(events(sm, &["sinterstore", "u", "s", "t"]), ["0:del:u"]);
        assert_eq!(events(sm, &["spop", "s"]), ["0:spop:s", "0:del:s"]);
        assert_eq!(events(sm, &["hset", "h", "f", "1", "g", "2"]), ["0:hset:h"]);
        assert_eq!(events(sm, &["hsetnx", "h", "f", "1"]), Vec::<String>::new());
        assert_eq!(events(sm, &["hincrby", "h", "f", "2"]), ["0:hincrby:h"]);
        assert_eq!(events(sm, &["hincrbyfloat", "h", "f", "2"]), ["0:hincrbyfloat:h"]);
        assert_eq!(events(sm, &["hdel", "h", "f", "g"]), ["0:hdel:h", "0:del:h"]);
        assert_eq!(events(sm, &["zadd", "z", "1", "a", "2", "b"]), ["0:zadd:z"]);
        assert_eq!(events(sm, &["zadd", "z", "1", "a"]), Vec::<String>::new(), "nothing changed");
        assert_eq!(events(sm, &["zincrby", "z", "0.5", "a"]), ["0:zincr:z"]);
        assert_eq!(events(sm, &["zunionstore", "zu", "1", "z"]), ["0:zunionstore:zu"]);
        assert_eq!(events(sm, &["zrangestore", "zr", "z", "0", "0"]), ["0:zrangestore:zr"]);
        assert_eq!(events(sm, &["zremrangebyscore", "z", "2", "2"]), ["0:zremrangebyscore:z"]);
        assert_eq!(events(sm, &["zpopmin", "zu", "5"]), ["0:zpopmin:zu", "0:del:zu"]);
        assert_eq!(events(sm, &["zrem", "z", "a", "b"]), ["0:zrem:z", "0:del:z"]);
        assert_eq!(events(sm, &["geoadd", "g", "13.361389", "38.115556", "Palermo"]), ["0:zadd:g"]);
        assert_eq!(
            events(sm, &["geosearchstore", "gs", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"]),
            ["0:geosearchstore:gs"]
        );
    }

    #[test]
    fn stream_commands() {
        let sm = &mut machine("Ktn");
        assert_eq!(events(sm, &["xgroup", "create", "s", "g", "$", "MKSTREAM"]), ["0:new:s", "0:xgroup-create:s"]);
        assert_eq!(events(sm, &["xgroup", "createconsumer", "s", "g", "Bob"]), ["0:xgroup-createconsumer:s"]);
        assert_eq!(events(sm, &["xgroup", "createconsumer", "s", "g", "Bob"]), Vec::<String>::new());
        assert_eq!(events(sm, &["xadd", "s", "1-1", "f", "v"]), ["0:xadd:s"]);
        assert_eq!(
            events(sm, &["xreadgroup", "GROUP", "g", "Alice", "STREAMS", "s", ">"]),
            ["0:xgroup-createconsumer:s"]
        );
        assert_eq!(events(sm, &["xclaim", "s", "g", "Mike", "0", "1-1", "FORCE"]), ["0:xgroup-createconsumer:s"]);
        assert_eq!(events(sm, &["xgroup", "delconsumer", "s", "g", "Lee"]), Vec::<String>::new(), "no such consumer");
        assert_eq!(events(sm, &["xautoclaim", "s", "g", "Bob", "0", "1-1"]), Vec::<String>::new(), "Bob exists");
        assert_eq!(events(sm, &["xgroup", "delconsumer", "s", "g", "Bob"]), ["0:xgroup-delconsumer:s"]);
        assert_eq!(events(sm, &["xgroup", "setid", "s", "g", "0"]), ["0:xgroup-setid:s"]);
        assert_eq!(events(sm, &["xadd", "s", "MAXLEN", "1", "2-1", "f", "v"]), ["0:xadd:s", "0:xtrim:s"]);
        assert_eq!(events(sm, &["xtrim", "s", "MAXLEN", "5"]), Vec::<String>::new(), "nothing trimmed");
        assert_eq!(events(sm, &["xdel", "s", "2-1"]), ["0:xdel:s"]);
        assert_eq!(events(sm, &["xsetid", "s", "5-0"]), ["0:xsetid:s"]);
        assert_eq!(events(sm, &["xgroup", "destroy", "s", "g"]), ["0:xgroup-destroy:s"]);
        assert_eq!(events(sm, &["xgroup", "destroy", "s", "g"]), Vec::<String>::new());
    }

    #[test]
    fn keys_created_void_raise_no_new() {
        let sm = &mut machine("KEAn");
        assert_eq!(events(sm, &["zadd", "z", "XX", "1", "a"]), Vec::<String>::new());
        assert_eq!(events(sm, &["lpushx", "l", "a"]), Vec::<String>::new());
        assert_eq!(events(sm, &["zadd", "z", "1", "a"]), ["0:new:z", "0:zadd:z"]);
    }

    #[test]
    fn expired_keys_raise_expired_whoever_removes_them() {
        let sm = &mut machine("KEA$n");
        apply(sm, 1, 1_000, vec![command(&["set", "a", "1", "PX", "100"]), command(&["set", "b", "1", "PX", "100"])]);
        // The leader's expiry entry.
        let expire = Request::Expire { db: 0, keys: argv(&["a"]) };
        assert_eq!(apply(sm, 2, 1_200, vec![expire]), ["0:expired:a"]);
        // A write finding the key past its time removes it first, as Redis's lookup does.
        assert_eq!(apply(sm, 3, 1_200, vec![command(&["set", "b", "2"])]), ["0:expired:b", "0:new:b", "0:set:b"]);
        apply(sm, 4, 1_200, vec![command(&["rpush", "l", "x"]), command(&["pexpire", "l", "10"])]);
        assert_eq!(apply(sm, 5, 1_300, vec![command(&["rpush", "l", "y"])]), ["0:expired:l", "0:new:l", "0:rpush:l"]);
        // Only the expired class.
        let sm = &mut machine("Ex");
        apply(sm, 1, 1_000, vec![command(&["set", "a", "1", "PX", "100"])]);
        let expire = Request::Expire { db: 0, keys: argv(&["a"]) };
        assert_eq!(apply(sm, 2, 1_200, vec![expire]), ["0:expired:a"]);
    }

    #[test]
    fn classes_mask_events_and_none_are_raised_by_default() {
        let sm = &mut machine("Kl");
        assert_eq!(apply(sm, 1, 10, vec![command(&["set", "k", "v"]), command(&["lpush", "l", "a"])]), ["0:lpush:l"]);
        let sm = &mut machine("A");
        assert!(events(sm, &["set", "k", "v"]).is_empty(), "no channel kind, nothing to publish");
        let mut quiet = StateMachine::new();
        let mut loud = machine("KEAn");
        let batch = Batch { time_ms: 10, requests: vec![command(&["set", "k", "v"]), command(&["del", "k"])] };
        assert!(quiet.apply(1, &batch).notifications.is_empty());
        assert_eq!(loud.apply(1, &batch).notifications.len(), 3);
        assert_eq!(quiet.digest(), loud.digest(), "notifications are no part of the replicated state");
    }

    #[test]
    fn served_waiters_and_transactions_raise_in_order() {
        let sm = &mut machine("KEgl");
        let waiter = WaiterId { node: NodeId(1), incarnation: 1, seq: 1 };
        apply(sm, 1, 10, vec![Request::Block { db: 0, argv: argv(&["blpop", "q", "0"]), waiter }]);
        assert_eq!(events(sm, &["rpush", "q", "job"]), ["0:rpush:q", "0:lpop:q", "0:del:q"]);
        let transaction = Request::Transaction {
            watches: vec![],
            commands: vec![(0, argv(&["rpush", "q", "a"])), (3, argv(&["rpush", "q", "b"])), (0, argv(&["del", "q"]))],
        };
        assert_eq!(apply(sm, 3, 10, vec![transaction]), ["0:rpush:q", "3:rpush:q", "0:del:q"]);
    }
}
