//! HEXISTS key field

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hexists",
    arity: 3,
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
    summary: "Determine if a hash field exists",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HExists {
    key: Bytes,
    field: Bytes,
}

impl Command for HExists {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HExists { key: args.next_arg()?, field: args.next_arg()? })
    }

    fn reply(exists: bool) -> Reply {
        Reply::Integer(exists.into())
    }
}

impl ReadCommand for HExists {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<bool> {
        Ok(hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.is_some_and(|hash| hash.contains(&self.field)))
    }
}
