//! GET key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "get",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@string", "@fast"],
    tips: &[],
    group: "string",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Get the value of a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Get {
    key: Bytes,
}

impl Command for Get {
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Get { key: args.next_arg()? })
    }

    fn reply(value: Option<Bytes>) -> Reply {
        Reply::optional_bulk(value)
    }
}

impl ReadCommand for Get {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Option<Bytes>> {
        Ok(string_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.map(Blob::to_bytes))
    }
}
