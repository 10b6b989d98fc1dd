//! XLEN key

use super::stream_at;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xlen",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@stream", "@fast"],
    tips: &[],
    group: "stream",
    since: "5.0.0",
    complexity: "O(1)",
    summary: "Return the number of entries in a stream",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct XLen {
    key: Bytes,
}

impl Command for XLen {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(XLen { key: args.next_arg()? })
    }

    fn reply(len: usize) -> Reply {
        Reply::Integer(len as i64)
    }
}

impl ReadCommand for XLen {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        Ok(stream_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.map_or(0, |stream| stream.len()))
    }
}
