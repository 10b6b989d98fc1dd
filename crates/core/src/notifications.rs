//! Keyspace notifications (Redis's `notify-keyspace-events`): the event classes and their
//! letters, and the outbox a write's events are collected in while its entry is applied.
//!
//! Which classes are wanted is a node's own setting, not replicated: it changes no state, so
//! each replica may want different ones. When none are wanted (the default) an event costs
//! one test of a mask. Commands raise events through [`crate::keyspace::Keyspace::notify`];
//! the keyspace itself raises `new` (a key created) and `expired` (a key removed because its
//! time had passed). The state machine hands an entry's events out with its replies, and the
//! node publishes them to its own subscribers.

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
        assert_eq!(canonical("Ezyxg$").as_deref(), Some("g$zxE"), "canonical order, whatever the order given");
        assert_eq!(canonical("AnmKE").as_deref(), Some("AnKEm"), "n and m are outside A");
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
