//! HGET key field

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hget",
    arity: 3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "2.0.0",
    complexity: "O(1)",
    summary: "Get the value of a hash field",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HGet {
    key: Bytes,
    field: Bytes,
}

impl Command for HGet {
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HGet { key: args.next_arg()?, field: args.next_arg()? })
    }

    fn reply(value: Option<Bytes>) -> Reply {
        Reply::optional_bulk(value)
    }
}

impl ReadCommand for HGet {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Option<Bytes>> {
        Ok(hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.and_then(|hash| hash.get(&self.field).map(bytes_of)))
    }
}
