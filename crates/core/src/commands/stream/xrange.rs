//! XRANGE key start end [COUNT count] (and XREVRANGE, which takes its ends the other way)

use super::{entries_reply, parse_count, parse_interval, stream_at};
use crate::commands::prelude::*;
use crate::keyspace::stream::StreamId;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xrange",
    arity: -4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@stream", "@slow"],
    tips: &[],
    group: "stream",
    since: "5.0.0",
    complexity: "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// XRANGE and XREVRANGE: the entries between two ids, up to a count, in either direction.
pub struct Range {
    key: Bytes,
    start: StreamId,
    end: StreamId,
    /// `None`: no COUNT given.
    count: Option<usize>,
    reverse: bool,
}

impl Range {
    pub fn parse_in(args: &mut Args, reverse: bool) -> Result<Range> {
        let key = args.next_arg()?;
        let (first, second) = (args.next_arg()?, args.next_arg()?);
        let (start, end) = if reverse { parse_interval(&second, &first)? } else { parse_interval(&first, &second)? };
        let mut count = None;
        while !args.is_empty() {
            let option = args.next_arg()?;
            if is(&option, "count") && !args.is_empty() {
                count = Some(parse_count(&args.next_arg()?)?);
            } else {
                return Err(Error::SYNTAX);
            }
        }
        Ok(Range { key, start, end, count, reverse })
    }

    pub fn read_range(&self, keyspace: &Keyspace, ctx: &ReadCtx) -> Result<Reply> {
        let Some(stream) = stream_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok(Reply::Array(Vec::new()));
        };
        let take = match self.count {
            Some(0) => return Ok(Reply::NilArray),
            Some(count) => count,
            None => usize::MAX,
        };
        let entries = stream.range(self.start, self.end);
        Ok(if self.reverse { entries_reply(entries.rev().take(take)) } else { entries_reply(entries.take(take)) })
    }
}

pub struct XRange(Range);

impl Command for XRange {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        Range::parse_in(args, false).map(XRange)
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl ReadCommand for XRange {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        self.0.read_range(keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    fn entry(id: &str, value: &str) -> Reply {
        Reply::Array(vec![bulk(id), Reply::Array(vec![bulk("f"), bulk(value)])])
    }

    #[test]
    fn ranges_by_id_both_ways_with_exclusive_ends_and_counts() {
        let ks = &mut Keyspace::new();
        for (id, value) in [("1-1", "a"), ("1-2", "b"), ("2-0", "c"), ("3-5", "d")] {
            write(ks, 1, &["xadd", "s", id, "f", value]);
        }
        assert_eq!(
            read(ks, 1, &["xrange", "s", "-", "+"]),
            Reply::Array(vec![entry("1-1", "a"), entry("1-2", "b"), entry("2-0", "c"), entry("3-5", "d")])
        );
        assert_eq!(read(ks, 1, &["xrange", "s", "1", "1"]), Reply::Array(vec![entry("1-1", "a"), entry("1-2", "b")]));
        assert_eq!(
            read(ks, 1, &["xrange", "s", "(1-1", "(3-5"]),
            Reply::Array(vec![entry("1-2", "b"), entry("2-0", "c")])
        );
        assert_eq!(
            read(ks, 1, &["xrevrange", "s", "+", "-", "count", "2"]),
            Reply::Array(vec![entry("3-5", "d"), entry("2-0", "c")])
        );
        assert_eq!(read(ks, 1, &["xrange", "s", "3", "1"]), Reply::Array(vec![]));
        assert_eq!(read(ks, 1, &["xrange", "s", "-", "+", "count", "0"]), Reply::NilArray);
        assert_eq!(read(ks, 1, &["xrange", "nokey", "-", "+"]), Reply::Array(vec![]));
        assert_eq!(read(ks, 1, &["xrange", "s", "-", "+", "bad"]), error("ERR syntax error"));
        assert_eq!(
            read(ks, 1, &["xrange", "s", "(-", "+"]),
            error("ERR Invalid stream ID specified as stream command argument")
        );
    }
}
