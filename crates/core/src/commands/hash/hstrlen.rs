//! HSTRLEN key field

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hstrlen",
    arity: 3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "3.2.0",
    complexity: "O(1)",
    summary: "Get the length of the value of a hash field",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HStrLen {
    key: Bytes,
    field: Bytes,
}

impl Command for HStrLen {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HStrLen { key: args.next_arg()?, field: args.next_arg()? })
    }

    fn reply(length: usize) -> Reply {
        Reply::Integer(length as i64)
    }
}

impl ReadCommand for HStrLen {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        let hash = hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(hash.and_then(|hash| hash.get(&self.field)).map_or(0, <[u8]>::len))
    }
}
