//! XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
//!
//! A read, unless it blocks: with BLOCK it goes through the log as a waiter (see
//! `crate::blocking`), and `$` is pinned to each stream's last id when it starts waiting, so
//! it is served with what arrives after that, whenever that is.

use super::{entries_reply, parse_id, stream_at, BLOCKED_READ_COUNT_DEFAULT};
use crate::command::BlockingCommand;
use crate::commands::prelude::*;
use crate::keyspace::stream::StreamId;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xread",
    arity: -4,
    flags: &["readonly", "blocking"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@read", "@stream", "@slow", "@blocking"],
    tips: &[],
    group: "stream",
    since: "5.0.0",
    complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREAD blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
    summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
    deprecated: None,
    movable_keys: Some(keys_after_streams),
    subcommands: &[],
};

/// The keys of XREAD and XREADGROUP: the first half of what follows `STREAMS`.
pub fn keys_after_streams(argv: &[Bytes]) -> Vec<usize> {
    let Some(at) = argv.iter().skip(1).position(|arg| is(arg, "streams")).map(|at| at + 1) else {
        return Vec::new();
    };
    let count = (argv.len() - at - 1) / 2;
    (at + 1..at + 1 + count).collect()
}

/// The options XREAD and XREADGROUP share.
pub struct ReadOptions {
    /// 0: no COUNT.
    pub count: usize,
    /// `None` without BLOCK; `Some(None)` to wait for ever.
    pub block_ms: Option<Option<u64>>,
    pub group: Option<(Bytes, Bytes)>,
    pub no_ack: bool,
    pub keys: Vec<Bytes>,
    pub ids: Vec<Bytes>,
}

impl ReadOptions {
    pub fn parse(args: &mut Args, with_group: bool) -> Result<ReadOptions> {
        let all = args.rest();
        let mut options =
            ReadOptions { count: 0, block_ms: None, group: None, no_ack: false, keys: Vec::new(), ids: Vec::new() };
        let mut at = 0;
        let mut streams_at = None;
        while at < all.len() {
            let (option, more) = (&all[at], all.len() - at - 1);
            if is(option, "block") && more > 0 {
                options.block_ms = Some(parse_block_ms(&all[at + 1])?);
                at += 2;
            } else if is(option, "count") && more > 0 {
                options.count = parse_i64(&all[at + 1]).ok_or(Error::NOT_INTEGER)?.max(0) as usize;
                at += 2;
            } else if is(option, "streams") && more > 0 {
                streams_at = Some(at + 1);
                break;
            } else if is(option, "group") && more >= 2 {
                if !with_group {
                    return Err(Error::err(
                        "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                    ));
                }
                options.group = Some((all[at + 1].clone(), all[at + 2].clone()));
                at += 3;
            } else if is(option, "noack") {
                if !with_group {
                    return Err(Error::err(
                        "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                    ));
                }
                options.no_ack = true;
                at += 1;
            } else {
                return Err(Error::SYNTAX);
            }
        }
        let streams_at = streams_at.ok_or(Error::SYNTAX)?;
        let streams = &all[streams_at..];
        if !streams.len().is_multiple_of(2) {
            return Err(Error::err(
                "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
            ));
        }
        if with_group && options.group.is_none() {
            return Err(Error::err("Missing GROUP option for XREADGROUP"));
        }
        let half = streams.len() / 2;
        options.keys = streams[..half].to_vec();
        options.ids = streams[half..].to_vec();
        Ok(options)
    }

    /// The most entries to serve per stream: a waiter served without COUNT gets a bounded batch.
    pub fn count_for(&self, waiting: bool) -> usize {
        match self.count {
            0 if waiting => BLOCKED_READ_COUNT_DEFAULT,
            0 => usize::MAX,
            count => count,
        }
    }

    pub fn timeout_ms(&self) -> Option<u64> {
        self.block_ms.flatten()
    }
}

/// A BLOCK argument: milliseconds, 0 for ever.
fn parse_block_ms(arg: &[u8]) -> Result<Option<u64>> {
    let ms = parse_i64(arg).ok_or_else(|| Error::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(Error::err("timeout is negative"));
    }
    if ms as u64 > BLOCK_TIMEOUT_SECS_MAX * 1000 {
        return Err(Error::err("timeout is out of range"));
    }
    Ok((ms > 0).then_some(ms as u64))
}

/// Where XREAD reads a stream from.
#[derive(Clone, Copy)]
enum After {
    /// `$`: only what arrives from now on.
    Last,
    Id(StreamId),
}

pub struct XRead {
    options: ReadOptions,
    after: Vec<After>,
}

impl Command for XRead {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let options = ReadOptions::parse(args, false)?;
        let after = options
            .ids
            .iter()
            .map(|id| match &id[..] {
                b"$" => Ok(After::Last),
                b">" => Err(Error::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                )),
                _ => parse_id(id, 0, true).map(After::Id),
            })
            .collect::<Result<_>>()?;
        Ok(XRead { options, after })
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }

    fn may_wait(&self) -> bool {
        self.options.block_ms.is_some()
    }
}

impl XRead {
    /// What the streams hold after the ids, for the keys `only` allows; `None` when nothing.
    fn serve(&self, db: &Db, now_ms: TimeMs, only: Option<&[u8]>) -> Result<Option<Reply>> {
        for key in &self.options.keys {
            stream_at(db, key, now_ms)?;
        }
        let count = self.options.count_for(only.is_some());
        let mut found = Vec::new();
        for (key, after) in self.options.keys.iter().zip(&self.after) {
            if only.is_some_and(|only| only != &key[..]) {
                continue;
            }
            let (Some(stream), After::Id(after)) = (stream_at(db, key, now_ms)?, after) else { continue };
            let Some(start) = after.next() else { continue };
            let mut entries = stream.range(start, StreamId::MAX).take(count).peekable();
            if entries.peek().is_some() {
                found.push((Reply::Bulk(key.clone()), entries_reply(entries)));
            }
        }
        Ok((!found.is_empty()).then_some(Reply::Keyed(found)))
    }
}

impl ReadCommand for XRead {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        Ok(self.serve(keyspace.db(ctx.db), ctx.now_ms, None)?.unwrap_or(Reply::NilArray))
    }
}

impl BlockingCommand for XRead {
    fn keys(&self) -> &[Bytes] {
        &self.options.keys
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.options.timeout_ms()
    }

    fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>> {
        let served = self.serve(keyspace.db(ctx.db), ctx.now_ms, ready);
        match ready {
            // A waiter's key that now holds another type is not ready.
            Some(_) => Ok(served.unwrap_or(None)),
            None if self.options.block_ms.is_none() => Ok(Some(served?.unwrap_or(Reply::NilArray))),
            None => served,
        }
    }

    fn timeout_reply(&self) -> Reply {
        Reply::NilArray
    }

    fn served_in_turn(&self) -> bool {
        false
    }

    fn argv_to_wait(&self, keyspace: &Keyspace, db: DbIndex, now_ms: TimeMs) -> Option<Vec<Bytes>> {
        let mut argv = vec![Bytes::from_static(b"XREAD")];
        if self.options.count > 0 {
            argv.extend([Bytes::from_static(b"COUNT"), text_of(self.options.count as i64)]);
        }
        let block_ms = self.options.timeout_ms().unwrap_or(0);
        argv.extend([Bytes::from_static(b"BLOCK"), text_of(block_ms as i64), Bytes::from_static(b"STREAMS")]);
        argv.extend(self.options.keys.iter().cloned());
        for (key, after) in self.options.keys.iter().zip(&self.after) {
            let id = match after {
                After::Id(id) => *id,
                After::Last => match stream_at(keyspace.db(db), key, now_ms) {
                    Ok(Some(stream)) => stream.last_id,
                    _ => StreamId::MIN,
                },
            };
            argv.push(id.to_bytes());
        }
        Some(argv)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn reads_what_follows_each_id() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["xadd", "a", "1-1", "f", "v"]);
        write(ks, 1, &["xadd", "a", "1-2", "f", "w"]);
        write(ks, 1, &["xadd", "b", "5-0", "f", "x"]);
        let entry = |id: &str, value: &str| Reply::Array(vec![bulk(id), Reply::Array(vec![bulk("f"), bulk(value)])]);
        assert_eq!(
            read(ks, 1, &["xread", "count", "1", "streams", "a", "b", "0", "4"]),
            Reply::Keyed(vec![
                (bulk("a"), Reply::Array(vec![entry("1-1", "v")])),
                (bulk("b"), Reply::Array(vec![entry("5-0", "x")]))
            ])
        );
        assert_eq!(read(ks, 1, &["xread", "streams", "a", "b", "1-2", "$"]), Reply::NilArray);
        assert_eq!(
            read(ks, 1, &["xread", "streams", "a", "b", "1-2"]),
            error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
        );
        assert_eq!(
            read(ks, 1, &["xread", "streams", "a", ">"]),
            error(
                "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
            )
        );
        assert_eq!(read(ks, 1, &["xread", "block", "-1", "streams", "a", "0"]), error("ERR timeout is negative"));
        assert_eq!(
            read(ks, 1, &["xread", "group", "g", "c", "streams", "a", "0"]),
            error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
        );
        assert_eq!(
            super::keys_after_streams(&argv(&["xread", "count", "2", "streams", "a", "b", "0", "0"])),
            vec![4, 5]
        );
    }
}
