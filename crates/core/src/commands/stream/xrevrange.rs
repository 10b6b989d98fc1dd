//! XREVRANGE key end start [COUNT count]: XRANGE from the end.

use super::xrange::Range;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xrevrange",
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
    complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct XRevRange(Range);

impl Command for XRevRange {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        Range::parse_in(args, true).map(XRevRange)
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl ReadCommand for XRevRange {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        self.0.read_range(keyspace, ctx)
    }
}
