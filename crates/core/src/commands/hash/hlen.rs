//! HLEN key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hlen",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "2.0.0",
    complexity: "O(1)",
    summary: "Get the number of fields in a hash",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HLen {
    key: Bytes,
}

impl Command for HLen {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HLen { key: args.next_arg()? })
    }

    fn reply(length: usize) -> Reply {
        Reply::Integer(length as i64)
    }
}

impl ReadCommand for HLen {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        Ok(hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.map_or(0, |hash| hash.len()))
    }
}
