//! Lists (`t_list.c`), one command per file.
//!
//! - [`blmove`] — BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
//! - [`blmpop`] — BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
//! - [`blpop`] — BLPOP key [key ...] timeout
//! - [`brpop`] — BRPOP key [key ...] timeout
//! - [`brpoplpush`] — BRPOPLPUSH source destination timeout
//! - [`lindex`] — LINDEX key index
//! - [`linsert`] — LINSERT key BEFORE|AFTER pivot element
//! - [`llen`] — LLEN key
//! - [`lmove`] — LMOVE source destination LEFT|RIGHT LEFT|RIGHT
//! - [`lmpop`] — LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
//! - [`lpop`] — LPOP key [count]
//! - [`lpos`] — LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
//! - [`lpush`] — LPUSH key element [element ...]
//! - [`lpushx`] — LPUSHX key element [element ...]
//! - [`lrange`] — LRANGE key start stop
//! - [`lrem`] — LREM key count element
//! - [`lset`] — LSET key index element
//! - [`ltrim`] — LTRIM key start stop
//! - [`rpop`] — RPOP key [count]
//! - [`rpoplpush`] — RPOPLPUSH source destination
//! - [`rpush`] — RPUSH key element [element ...]
//! - [`rpushx`] — RPUSHX key element [element ...]
//!
//! The value is a [`ListValue`] (a quicklist). Its elements are stored as given, so a reply
//! returns the bytes that were pushed.
//!
//! # Pops and moves for the blocking commands
//!
//! [`pop_first`] ("pop up to N elements from this end of the first of these keys that holds a
//! list"), [`pop`] (the same from one key) and [`move_one`] ("move one element from this end
//! of the source to that end of the destination") are the whole of what LMPOP, LPOP/RPOP and
//! LMOVE/RPOPLPUSH change. A blocking variant calls the same functions: `pop_first` when the
//! command arrives (BLPOP, BRPOP, BLMPOP take from the first non-empty of their keys), `pop`
//! on the key a write made ready when it serves a waiter (as Redis serves the clients blocked
//! on that key), `move_one` for BLMOVE and BRPOPLPUSH. Each applies its change to the keyspace
//! (versions for WATCH, the emptied source removed) and returns what it took, or `Ok(None)`
//! when there was nothing to take, so the waiter keeps waiting; an error (WRONGTYPE) leaves
//! the keyspace unchanged. [`Popped::nested_reply`] is LMPOP and BLMPOP's reply,
//! [`Popped::pair_reply`] BLPOP and BRPOP's; a moved element is replied as a bulk string
//! (BLMOVE, BRPOPLPUSH). [`lmpop::LMPop::parse_from`] reads BLMPOP's arguments after its
//! timeout.

use crate::command::WriteCtx;
use crate::commands::helpers::{remove_if_void, value_mut, value_or_create};
use crate::error::{Error, Result};
use crate::keyspace::{Encodings, Keyspace, ListValue};
use crate::notifications::EventClass;
use crate::reply::Reply;
use bytes::{Bytes, BytesMut};

/// A command that is [`lpush::Push`] at one end, only onto existing lists or not (LPUSH,
/// RPUSH, LPUSHX, RPUSHX).
macro_rules! push_command {
    ($name:ident, $end:expr, $only_existing:expr) => {
        pub struct $name(super::lpush::Push);

        impl Command for $name {
            type Output = usize;

            fn parse(args: &mut Args) -> Result<Self> {
                super::lpush::Push::parse_in(args, $end, $only_existing).map($name)
            }

            fn reply(len: usize) -> Reply {
                Reply::Integer(len as i64)
            }
        }

        impl WriteCommand for $name {
            fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
                self.0.store(keyspace, ctx)
            }
        }
    };
}

/// A command that is [`lpop::Pop`] at one end (LPOP, RPOP).
macro_rules! pop_command {
    ($name:ident, $end:expr, $command:literal) => {
        pub struct $name(super::lpop::Pop);

        impl Command for $name {
            type Output = super::lpop::PopOutput;

            fn parse(args: &mut Args) -> Result<Self> {
                super::lpop::Pop::parse_in(args, $end, $command).map($name)
            }

            fn reply(output: super::lpop::PopOutput) -> Reply {
                super::lpop::Pop::reply(output)
            }
        }

        impl WriteCommand for $name {
            fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<super::lpop::PopOutput> {
                self.0.apply(keyspace, ctx)
            }
        }
    };
}

pub mod blmove;
pub mod blmpop;
pub mod blpop;
pub mod brpop;
pub mod brpoplpush;
pub mod lindex;
pub mod linsert;
pub mod llen;
pub mod lmove;
pub mod lmpop;
pub mod lpop;
pub mod lpos;
pub mod lpush;
pub mod lpushx;
pub mod lrange;
pub mod lrem;
pub mod lset;
pub mod ltrim;
pub mod rpop;
pub mod rpoplpush;
pub mod rpush;
pub mod rpushx;

/// An end of a list: LEFT is its head (index 0), RIGHT its tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl End {
    /// The event of a push at this end.
    pub fn push_event(self) -> &'static str {
        match self {
            End::Left => "lpush",
            End::Right => "rpush",
        }
    }

    /// The event of a pop from this end.
    pub fn pop_event(self) -> &'static str {
        match self {
            End::Left => "lpop",
            End::Right => "rpop",
        }
    }

    /// `LEFT` or `RIGHT`, in any case (LMOVE, LMPOP); a syntax error otherwise.
    pub fn parse(arg: &[u8]) -> Result<End> {
        if arg.eq_ignore_ascii_case(b"left") {
            Ok(End::Left)
        } else if arg.eq_ignore_ascii_case(b"right") {
            Ok(End::Right)
        } else {
            Err(Error::SYNTAX)
        }
    }
}

/// Pushes `element` at `end` of `list`.
pub fn push(list: &mut ListValue, element: &[u8], end: End, encodings: &Encodings) {
    match end {
        End::Left => list.push_front(element, encodings),
        End::Right => list.push_back(element, encodings),
    }
}

/// What a pop took: the key it came from, and the elements in the order they were popped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Popped {
    pub key: Bytes,
    pub elements: Vec<Bytes>,
}

impl Popped {
    /// LMPOP and BLMPOP's reply: the key, then an array of the elements.
    pub fn nested_reply(self) -> Reply {
        Reply::Array(vec![Reply::Bulk(self.key), Reply::bulks(self.elements)])
    }

    /// BLPOP and BRPOP's reply: the key, then the (first) element.
    pub fn pair_reply(self) -> Reply {
        let element = self.elements.into_iter().next().map_or(Reply::Nil, Reply::Bulk);
        Reply::Array(vec![Reply::Bulk(self.key), element])
    }
}

/// Pops up to `count` elements (at least one is taken from a list, which is never empty)
/// from `end` of the list at `key`; `Ok(None)` if there is none. The key is removed when
/// emptied; otherwise its version becomes the entry's index.
pub fn pop(keyspace: &mut Keyspace, ctx: &WriteCtx, key: &[u8], end: End, count: usize) -> Result<Option<Vec<Bytes>>> {
    let db = keyspace.db_mut(ctx.db);
    let Some((list, version)) = value_mut::<ListValue>(db, key, ctx.now_ms)? else {
        return Ok(None);
    };
    let taken = if count <= 1 {
        let element = match end {
            End::Left => list.pop_front(),
            End::Right => list.pop_back(),
        };
        vec![Bytes::from(element.expect("stored lists are never empty"))]
    } else {
        let count = count.min(list.len());
        match end {
            End::Left => {
                let taken = copy_out(list.iter().take(count));
                list.drop_front(count);
                taken
            }
            End::Right => {
                let taken = copy_out(list.iter().rev().take(count));
                list.drop_back(count);
                taken
            }
        }
    };
    *version = ctx.index;
    let emptied = list.is_empty();
    if emptied {
        db.remove(key);
    }
    keyspace.notify(EventClass::LIST, end.pop_event(), ctx.db, key);
    if emptied {
        keyspace.notify(EventClass::GENERIC, "del", ctx.db, key);
    }
    Ok(Some(taken))
}

/// Pops up to `count` elements from `end` of the first of `keys` that holds a list (LMPOP,
/// BLMPOP; BLPOP and BRPOP with a count of 1). Missing keys are passed over; a key of another
/// type before the first list is a WRONGTYPE error, with nothing popped. `Ok(None)` when no
/// key holds a list.
pub fn pop_first(
    keyspace: &mut Keyspace,
    ctx: &WriteCtx,
    keys: &[Bytes],
    end: End,
    count: usize,
) -> Result<Option<Popped>> {
    for key in keys {
        if let Some(elements) = pop(keyspace, ctx, key, end, count)? {
            return Ok(Some(Popped { key: key.clone(), elements }));
        }
    }
    Ok(None)
}

/// Moves one element from `from` of the list at `source` to `to` of the list at
/// `destination`, creating it if missing (LMOVE, RPOPLPUSH; BLMOVE and BRPOPLPUSH serving a
/// waiter). Returns the element, or `Ok(None)` if `source` holds no list. WRONGTYPE, with
/// nothing changed, if either key holds another type (the destination is only looked at when
/// the source has an element, as Redis does). The source and the destination may be the same
/// list: the element then rotates from one end to the other.
pub fn move_one(
    keyspace: &mut Keyspace,
    ctx: &WriteCtx,
    source: &[u8],
    destination: &[u8],
    from: End,
    to: End,
) -> Result<Option<Bytes>> {
    let (db, encodings) = keyspace.db_and_encodings(ctx.db);
    if value_mut::<ListValue>(db, source, ctx.now_ms)?.is_none() {
        return Ok(None);
    }
    value_mut::<ListValue>(db, destination, ctx.now_ms)?;
    let (list, version) = value_mut::<ListValue>(db, source, ctx.now_ms)?.expect("looked up above");
    let element = match from {
        End::Left => list.pop_front(),
        End::Right => list.pop_back(),
    }
    .expect("stored lists are never empty");
    *version = ctx.index;
    // Pushed before the source is checked for emptiness: rotating a one-element list keeps
    // the key (and its expiry).
    push(value_or_create::<ListValue>(db, destination, ctx.now_ms, ctx.index)?, &element, to, encodings);
    let emptied = remove_if_void::<ListValue>(db, source);
    keyspace.notify(EventClass::LIST, to.push_event(), ctx.db, destination);
    keyspace.notify(EventClass::LIST, from.pop_event(), ctx.db, source);
    if emptied {
        keyspace.notify(EventClass::GENERIC, "del", ctx.db, source);
    }
    Ok(Some(Bytes::from(element)))
}

/// Copies of `elements` for a reply, all in one buffer they share: a range costs one
/// allocation, not one per element.
pub fn copy_out<'a>(elements: impl Iterator<Item = &'a [u8]>) -> Vec<Bytes> {
    let elements: Vec<&[u8]> = elements.collect();
    let mut buffer = BytesMut::with_capacity(elements.iter().map(|element| element.len()).sum());
    for element in &elements {
        buffer.extend_from_slice(element);
    }
    let buffer = buffer.freeze();
    let mut at = 0;
    elements
        .iter()
        .map(|element| {
            at += element.len();
            buffer.slice(at - element.len()..at)
        })
        .collect()
}

/// Redis's treatment of a start/stop pair (LRANGE, LTRIM): negative indexes count from the
/// end, and the range is clamped to the list. `None` when it selects nothing.
pub fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, stop.min(len - 1) as usize))
}

/// A count as Redis's `getPositiveLongFromObjectOrReply` reads it (LPOP, RPOP): a negative
/// number and a word get the same error.
pub fn positive_count(arg: &[u8]) -> Result<usize> {
    crate::args::parse_i64(arg)
        .and_then(|count| usize::try_from(count).ok())
        .ok_or(Error::fixed("ERR value is out of range, must be positive"))
}

/// An index as LINDEX and LSET take it (negative counts from the end), if it is inside a
/// list of `len` elements.
pub fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let resolved = if index < 0 { (len as i64).checked_add(index)? } else { index };
    usize::try_from(resolved).ok().filter(|&at| at < len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;

    fn ctx(index: u64) -> WriteCtx {
        WriteCtx { db: 0, now_ms: 1_000, index, random_seed: 0, from_script: false }
    }

    fn keys(names: &[&str]) -> Vec<Bytes> {
        names.iter().map(|name| Bytes::copy_from_slice(name.as_bytes())).collect()
    }

    #[test]
    fn pop_first_takes_from_the_first_list_and_removes_it_when_emptied() {
        let ks = &mut Keyspace::new();
        write(ks, 1_000, &["rpush", "b", "1", "2", "3"]);
        write(ks, 1_000, &["rpush", "c", "x"]);
        let popped = pop_first(ks, &ctx(7), &keys(&["a", "b", "c"]), End::Right, 2).unwrap().unwrap();
        assert_eq!(popped.key, "b");
        assert_eq!(popped.elements, keys(&["3", "2"]));
        assert_eq!(ks.db(0).get(b"b", 1_000).unwrap().version, 7);
        let popped = pop_first(ks, &ctx(8), &keys(&["b", "c"]), End::Left, 5).unwrap().unwrap();
        assert_eq!(popped.clone().nested_reply(), Reply::Array(vec![bulk("b"), Reply::Array(vec![bulk("1")])]));
        assert_eq!(popped.pair_reply(), Reply::Array(vec![bulk("b"), bulk("1")]));
        assert!(ks.db(0).get(b"b", 1_000).is_none(), "emptied lists are removed");
        assert_eq!(pop_first(ks, &ctx(9), &keys(&["nope", "b"]), End::Left, 1), Ok(None));
    }

    #[test]
    fn pop_first_stops_at_a_key_of_another_type() {
        let ks = &mut Keyspace::new();
        write(ks, 1_000, &["set", "s", "v"]);
        write(ks, 1_000, &["rpush", "l", "1"]);
        assert_eq!(pop_first(ks, &ctx(2), &keys(&["s", "l"]), End::Left, 1), Err(Error::WRONG_TYPE));
        assert_eq!(read(ks, 1_000, &["llen", "l"]), Reply::Integer(1));
        // A list before it is served first.
        assert!(pop_first(ks, &ctx(3), &keys(&["l", "s"]), End::Left, 1).unwrap().is_some());
    }

    #[test]
    fn move_one_checks_both_types_before_changing_anything() {
        let ks = &mut Keyspace::new();
        write(ks, 1_000, &["rpush", "src", "a", "b"]);
        write(ks, 1_000, &["set", "s", "v"]);
        assert_eq!(move_one(ks, &ctx(2), b"src", b"s", End::Left, End::Left), Err(Error::WRONG_TYPE));
        assert_eq!(read(ks, 1_000, &["llen", "src"]), Reply::Integer(2));
        assert_eq!(move_one(ks, &ctx(2), b"nope", b"s", End::Left, End::Left), Ok(None));
        assert_eq!(move_one(ks, &ctx(3), b"src", b"dst", End::Left, End::Right), Ok(Some(Bytes::from("a"))));
        assert_eq!(move_one(ks, &ctx(4), b"src", b"dst", End::Left, End::Right), Ok(Some(Bytes::from("b"))));
        assert!(ks.db(0).get(b"src", 1_000).is_none());
        assert_eq!(ks.db(0).get(b"dst", 1_000).unwrap().version, 4);
        assert_eq!(read(ks, 1_000, &["lrange", "dst", "0", "-1"]), Reply::Array(vec![bulk("a"), bulk("b")]));
    }

    #[test]
    fn rotating_a_one_element_list_keeps_the_key_and_its_expiry() {
        let ks = &mut Keyspace::new();
        write(ks, 1_000, &["rpush", "l", "only"]);
        write(ks, 1_000, &["expire", "l", "100"]);
        assert_eq!(move_one(ks, &ctx(5), b"l", b"l", End::Right, End::Left), Ok(Some(Bytes::from("only"))));
        assert_eq!(read(ks, 1_000, &["lrange", "l", "0", "-1"]), Reply::Array(vec![bulk("only")]));
        assert_eq!(read(ks, 1_000, &["ttl", "l"]), Reply::Integer(100));
    }

    #[test]
    fn copies_share_one_buffer() {
        let copies = copy_out([&b"ab"[..], b"", b"c"].into_iter());
        assert_eq!(copies, keys(&["ab", "", "c"]));
        assert_eq!(copies[0].as_ptr().wrapping_add(2), copies[2].as_ptr());
        assert!(copy_out(std::iter::empty()).is_empty());
    }

    #[test]
    fn ranges_and_indexes_as_redis_reads_them() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-100, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(5, 10, 5), None);
        assert_eq!(clamp_range(-2, -1, 5), Some((3, 4)));
        assert_eq!(clamp_range(0, -6, 5), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 5), Some((0, 4)));
        assert_eq!(clamp_range(0, 0, 0), None);
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(i64::MIN, 3), None);
    }
}
