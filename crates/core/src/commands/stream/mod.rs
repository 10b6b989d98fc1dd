//! Streams (Redis's `t_stream.c`), one command per file, and what they share: entry ids as
//! arguments, trimming options, entry replies and the consumer-group lookups.
//!
//! - [`xack`] — XACK key group id [id ...]
//! - [`xadd`] — XADD key [NOMKSTREAM] [MAXLEN | MINID [= | ~] threshold [LIMIT count]] * | id field value [field value ...]
//! - [`xautoclaim`] — XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
//! - [`xclaim`] — XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
//! - [`xdel`] — XDEL key id [id ...]
//! - [`xgroup`] — XGROUP CREATE | SETID | DESTROY | CREATECONSUMER | DELCONSUMER | HELP
//! - [`xinfo`] — XINFO STREAM | GROUPS | CONSUMERS | HELP
//! - [`xlen`] — XLEN key
//! - [`xpending`] — XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
//! - [`xrange`] — XRANGE key start end [COUNT count]
//! - [`xread`] — XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
//! - [`xreadgroup`] — XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
//! - [`xrevrange`] — XREVRANGE key end start [COUNT count]
//! - [`xsetid`] — XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
//! - [`xtrim`] — XTRIM key MAXLEN | MINID [= | ~] threshold [LIMIT count]
//!
//! The value is a [`StreamValue`]: entries, the node boundaries approximate trims follow, and
//! the consumer groups. Entry ids of `XADD *` come from the entry's leader-stamped time and
//! never go below the stream's last id, so they keep growing across failovers; delivery
//! times in the groups are the same stamps, so every replica holds the same pending lists.
//!
//! `XREAD` and `XREADGROUP` with `BLOCK` wait as the blocking list commands do (see
//! `crate::blocking`): a waiter is served when a write touches one of its keys, with what
//! arrived after the id it waits for (`$` is resolved to the last id when it starts waiting).

use crate::command::{CommandSpec, KeySpec};
use crate::commands::helpers::{bytes_of, value_at, value_mut};
use crate::error::{Error, Result};
use crate::keyspace::stream::{Group, StreamId, StreamValue, TrimTo};
use crate::keyspace::{Blob, Db, Encodings};
use crate::reply::Reply;
use crate::types::TimeMs;
use bytes::Bytes;

pub mod xack;
pub mod xadd;
pub mod xautoclaim;
pub mod xclaim;
pub mod xdel;
pub mod xgroup;
pub mod xinfo;
pub mod xlen;
pub mod xpending;
pub mod xrange;
pub mod xread;
pub mod xreadgroup;
pub mod xrevrange;
pub mod xsetid;
pub mod xtrim;

pub const INVALID_ID: Error = Error::fixed("ERR Invalid stream ID specified as stream command argument");

/// Entries a blocked `XREAD`/`XREADGROUP` without `COUNT` gets at most when it is served
/// (Redis's `XREAD_BLOCKED_DEFAULT_COUNT`).
pub const BLOCKED_READ_COUNT_DEFAULT: usize = 1000;

/// An id argument: `ms-seq`, or `ms` with `missing_seq`; `-` and `+` unless `strict`.
pub fn parse_id(arg: &[u8], missing_seq: u64, strict: bool) -> Result<StreamId> {
    match arg {
        b"-" if !strict => return Ok(StreamId::MIN),
        b"+" if !strict => return Ok(StreamId::MAX),
        _ => {}
    }
    let text = std::str::from_utf8(arg).map_err(|_| INVALID_ID)?;
    let (ms, seq) = match text.split_once('-') {
        Some((ms, seq)) => (ms, Some(seq)),
        None => (text, None),
    };
    let number = |digits: &str| -> Result<u64> {
        if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(INVALID_ID);
        }
        digits.parse().map_err(|_| INVALID_ID)
    };
    Ok(StreamId::new(number(ms)?, seq.map_or(Ok(missing_seq), number)?))
}

/// One end of an `XRANGE`-style interval: a `(` makes it exclusive. `None` when an exclusive
/// end leaves nothing on its side (after the largest id, before the smallest).
fn parse_interval_end(arg: &[u8], is_start: bool) -> Result<StreamId> {
    let missing_seq = if is_start { 0 } else { u64::MAX };
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id(&arg[1..], missing_seq, true)?;
        return if is_start {
            id.next().ok_or_else(|| Error::err("invalid start ID for the interval"))
        } else {
            id.prev().ok_or_else(|| Error::err("invalid end ID for the interval"))
        };
    }
    parse_id(arg, missing_seq, false)
}

/// An interval's start and end, as `XRANGE` and `XPENDING` read them.
pub fn parse_interval(start: &[u8], end: &[u8]) -> Result<(StreamId, StreamId)> {
    Ok((parse_interval_end(start, true)?, parse_interval_end(end, false)?))
}

/// A `COUNT` argument of the range commands: negative counts as 0.
pub fn parse_count(arg: &[u8]) -> Result<usize> {
    let count = crate::args::parse_i64(arg).ok_or(Error::NOT_INTEGER)?;
    Ok(count.max(0) as usize)
}

/// The stream at `key`, if any; WRONGTYPE if the key holds something else.
pub fn stream_at<'a>(db: &'a Db, key: &[u8], now_ms: TimeMs) -> Result<Option<&'a StreamValue>> {
    value_at::<StreamValue>(db, key, now_ms)
}

/// The stream at `key` for writing, its entry's version set to `index` (WATCH sees it).
pub fn stream_mut<'a>(db: &'a mut Db, key: &[u8], now_ms: TimeMs, index: u64) -> Result<Option<&'a mut StreamValue>> {
    Ok(value_mut::<StreamValue>(db, key, now_ms)?.map(|(stream, version)| {
        *version = index;
        stream
    }))
}

/// An entry as replies carry it: its id, then its fields and values.
pub fn entry_reply(id: StreamId, fields: &[Blob]) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(id.to_bytes()),
        Reply::Array(fields.iter().map(|field| Reply::Bulk(bytes_of(field))).collect()),
    ])
}

/// Entries as replies carry them.
pub fn entries_reply<'a>(entries: impl Iterator<Item = (StreamId, &'a [Blob])>) -> Reply {
    Reply::Array(entries.map(|(id, fields)| entry_reply(id, fields)).collect())
}

/// The trimming options of `XADD` and `XTRIM`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trim {
    pub to: TrimTo,
    pub approximate: bool,
    /// `LIMIT`, when given.
    pub limit: Option<u64>,
}

impl Trim {
    /// The most entries one trim may remove: unbounded when exact; with `~`, `LIMIT` or
    /// Redis's default of a hundred nodes' worth.
    fn limit(&self, encodings: &Encodings) -> u64 {
        match (self.approximate, self.limit) {
            (false, _) => 0,
            (true, Some(limit)) => limit,
            (true, None) => match encodings.stream_node_max_entries.saturating_mul(100) {
                0 => 10_000,
                limit => limit.min(1_000_000),
            },
        }
    }

    /// Trims `stream`; how many entries went.
    pub fn apply(&self, stream: &mut StreamValue, encodings: &Encodings) -> u64 {
        stream.trim(self.to, self.approximate, self.limit(encodings))
    }
}

/// Reads the trimming options at `args[at..]` (Redis's `streamParseAddOrTrimArgsOrReply`),
/// stopping at the first argument that is not one (XADD's id). Returns the options and the
/// position of that argument; `nomkstream` is set for XADD's NOMKSTREAM when `xadd`.
pub fn parse_trim(args: &[Bytes], mut at: usize, xadd: bool, nomkstream: &mut bool) -> Result<(Option<Trim>, usize)> {
    let mut to = None;
    let mut approximate = false;
    let mut limit = None;
    while at < args.len() {
        let more = args.len() - at - 1;
        let option = &args[at];
        if xadd && &option[..] == b"*" {
            break;
        }
        let is_max_len = option.eq_ignore_ascii_case(b"maxlen");
        if (is_max_len || option.eq_ignore_ascii_case(b"minid")) && more > 0 {
            if to.is_some() {
                return Err(Error::err("syntax error, MAXLEN and MINID options at the same time are not compatible"));
            }
            approximate = false;
            if more >= 2 && (&args[at + 1][..] == b"~" || &args[at + 1][..] == b"=") {
                approximate = &args[at + 1][..] == b"~";
                at += 1;
            }
            let threshold = &args[at + 1];
            to = Some(if is_max_len {
                let max_len = crate::args::parse_i64(threshold).ok_or(Error::NOT_INTEGER)?;
                if max_len < 0 {
                    return Err(Error::err("The MAXLEN argument must be >= 0."));
                }
                TrimTo::MaxLen(max_len as u64)
            } else {
                TrimTo::MinId(parse_id(threshold, 0, true)?)
            });
            at += 2;
        } else if option.eq_ignore_ascii_case(b"limit") && more > 0 {
            let count = crate::args::parse_i64(&args[at + 1]).ok_or(Error::NOT_INTEGER)?;
            if count < 0 {
                return Err(Error::err("The LIMIT argument must be >= 0."));
            }
            limit = Some(count as u64);
            at += 2;
        } else if xadd && option.eq_ignore_ascii_case(b"nomkstream") {
            *nomkstream = true;
            at += 1;
        } else if xadd {
            break;
        } else {
            return Err(Error::SYNTAX);
        }
    }
    if limit.is_some_and(|limit| limit > 0) && to.is_none() {
        return Err(Error::err("syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && to.is_none() {
        return Err(Error::err("syntax error, XTRIM must be called with a trimming strategy"));
    }
    if limit.is_some() && !approximate {
        return Err(Error::err("syntax error, LIMIT cannot be used without the special ~ option"));
    }
    Ok((to.map(|to| Trim { to, approximate, limit }), at))
}

/// The group called `name` of the stream at `key` for writing, with the stream; the NOGROUP
/// error `missing` when either is missing.
pub fn group_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    name: &[u8],
    now_ms: TimeMs,
    index: u64,
    missing: impl FnOnce() -> Error,
) -> Result<&'a mut StreamValue> {
    match stream_mut(db, key, now_ms, index)? {
        Some(stream) if stream.groups.contains_key(name) => Ok(stream),
        _ => Err(missing()),
    }
}

/// The group `name` of `stream` (looked up by the caller first).
pub fn group_of<'a>(stream: &'a mut StreamValue, name: &[u8]) -> &'a mut Group {
    stream.groups.get_mut(name).expect("the group was looked up")
}

/// The spec of an XGROUP or XINFO subcommand: all but HELP (arity 2) name the key at
/// position 2, read or written as `key_specs` says.
pub const fn subcommand_spec(
    name: &'static str,
    arity: i32,
    flags: &'static [&'static str],
    acl_categories: &'static [&'static str],
    key_specs: &'static [KeySpec],
    summary: &'static str,
) -> CommandSpec {
    let has_key = arity != 2;
    CommandSpec {
        name,
        arity,
        flags,
        first_key: if has_key { 2 } else { 0 },
        last_key: if has_key { 2 } else { 0 },
        key_step: if has_key { 1 } else { 0 },
        key_specs: if has_key { key_specs } else { &[] },
        acl_categories,
        tips: &[],
        group: "stream",
        since: "5.0.0",
        complexity: "O(1)",
        summary,
        deprecated: None,
        movable_keys: None,
        subcommands: &[],
    }
}

/// Redis's `addReplySubcommandSyntaxError`.
pub fn subcommand_syntax_error(container: &str, sub: &[u8]) -> Error {
    Error::err(format_args!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {container} HELP.",
        text(sub)
    ))
}

/// Text of a key or name for an error message.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis_reads_them() {
        assert_eq!(parse_id(b"5", 0, true), Ok(StreamId::new(5, 0)));
        assert_eq!(parse_id(b"5", u64::MAX, true), Ok(StreamId::new(5, u64::MAX)));
        assert_eq!(parse_id(b"5-3", 0, true), Ok(StreamId::new(5, 3)));
        assert_eq!(parse_id(b"+", 0, false), Ok(StreamId::MAX));
        for bad in [&b"+"[..], b"-", b"5-", b"-3", b"a-1", b"1-2-3", b"18446744073709551616"] {
            assert_eq!(parse_id(bad, 0, true), Err(INVALID_ID), "{:?}", std::str::from_utf8(bad));
        }
        assert_eq!(parse_interval(b"(5-3", b"(6"), Ok((StreamId::new(5, 4), StreamId::new(6, u64::MAX - 1))));
        assert_eq!(
            parse_interval(b"(18446744073709551615-18446744073709551615", b"+").unwrap_err().as_str(),
            "ERR invalid start ID for the interval"
        );
    }
}
